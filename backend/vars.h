/* vars.h - Serverless Framework variables: "${source:address, fallback, ...}" resolved the way
 * the framework (v3/v4) resolves them, for what needs nothing remote:
 *   ${self:a.b.c}        another value of the same file (itself resolved, recursively);
 *                        provider.stage and provider.region default to dev / us-east-1
 *   ${opt:stage}         a command-line option (--stage, --region); unresolved when not given
 *   ${sls:stage}         opt:stage, else provider.stage, else "dev"
 *   ${aws:region}        opt:region, else provider.region, else "us-east-1"
 *   ${env:NAME}          the environment variable (an empty value counts as set)
 *   ${source:x, fallback, ...}  the first that resolves: another source ("self:x",
 *                        "env:Y"), a quoted string ('dev' / "dev"), a number, true/false,
 *                        or a nested ${...}
 * Variables nest: ${self:custom.${sls:stage}.table} resolves the inner one first.
 * Sources that need AWS or files we do not read (ssm, cf, s3, file(), param, aws:accountId...)
 * resolve only through a fallback. Knows no YAML: the caller supplies self: lookups. */
#ifndef LAMBDECK_VARS_H
#define LAMBDECK_VARS_H

#include <stdbool.h>

struct vars_ctx {
	/* Raw (unresolved) text at a self: path ("provider.stage"), or NULL when absent or
	 * not a scalar. The returned string is borrowed until the resolution returns. */
	const char *(*self_value)(void *user, const char *path);
	void *user;
	const char *opt_stage;  /* --stage, NULL when not given */
	const char *opt_region; /* --region, NULL when not given */
	/* Environment lookup; NULL means getenv. */
	const char *(*env)(void *user, const char *name);
};

/* Substitutes every ${...} in text. Returns 0 with *out set (caller frees), or -1 with *why
 * set (caller frees): which variable could not be resolved locally and why ("${ssm:/a/b}:
 * needs AWS (add a fallback: ${ssm:/a/b, 'value'})"). Text without variables is copied. */
int vars_resolve(const struct vars_ctx *c, const char *text, char **out, char **why);

/* True when text is exactly one variable "${...}" (blanks around allowed) whose first source
 * is self:; sets *path (caller frees) to its address. For values that are whole mappings
 * ("environment: ${self:custom.env}"). */
bool vars_whole_self(const char *text, char **path);

#endif
