/* project.h - the project model: which functions a project directory has, how to build,
 * test and deploy it. Filled by discovery from lambdeck.json, template.yaml (SAM /
 * CloudFormation) or serverless.yml. Knows no ncurses, no libuv. */
#ifndef LAMBDECK_PROJECT_H
#define LAMBDECK_PROJECT_H

#include <stdbool.h>
#include <stddef.h>

#include "backend/util.h"

struct project_env {
	char *name;
	char *value;  /* NULL when it cannot be resolved locally (e.g. !Ref of a parameter) */
	char *expr;   /* the unresolved expression for display ("!GetAtt Table.Arn"), or NULL */
	bool standin; /* value is a documented stand-in for expr (a resource with no local
	               * value: !Ref Table -> "Table"); a note on the function says so */
};

struct project_function {
	char *name;        /* logical name (SAM logical id, serverless key, lambdeck.json name) */
	char *runtime;     /* "python3.12", "nodejs20.x", "provided.al2023", or NULL */
	char *handler;     /* "app.lambda_handler"; NULL for provided */
	char *code_dir;    /* absolute path of the code directory */
	char *source_file; /* absolute path of the handler's file, NULL if not found */
	int source_line;   /* 1-based line of the handler definition, 0 if unknown */
	int timeout;       /* seconds (default 3) */
	int memory;        /* MB (default 128) */
	struct project_env *env;
	size_t n_env;
	char **layers;
	size_t n_layers;
	char **exclude; /* extra exclude globs (lambdeck.json "exclude", Serverless package
	                 * patterns), in order, the last match wins; "!glob" includes again */
	size_t n_exclude;
	char *deployed_name; /* name in the account, NULL if it must be resolved (SAM: tags) */
	bool buildable;      /* false for inline ZipFile code and PackageType Image */
	char *problem;       /* human-readable problem (missing code dir...), NULL if none */
	/* Additions (project owner): */
	char *not_buildable;  /* why buildable is false ("inline ZipFile code"...), or NULL */
	char *package_type;   /* "Zip" or "Image" */
	char *handler_symbol; /* the function name inside source_file ("lambda_handler") */
	int config_line;      /* 1-based line of the function's definition in config_file, 0 */
	char *notes;          /* non-fatal remarks ("Timeout: !Ref T cannot be resolved locally;
	                       * using 3"), "; "-separated, or NULL */
	/* Build the template declares (SAM Metadata BuildMethod), NULL: zip code_dir as is. */
	char *build_method; /* "esbuild" or "makefile" */
	char **build_props; /* esbuild: "EntryPoints=app.ts" "Target=es2020" "Minify=true"
	                     * "Sourcemap=true" "External=a" "Format=esm" (lists repeat the key) */
	size_t n_build_props;
};

enum project_kind {
	PROJECT_NONE,
	PROJECT_LAMBDECK_JSON,
	PROJECT_SAM,
	PROJECT_SERVERLESS,
};

struct project {
	char *dir;         /* absolute project directory */
	char *config_file; /* absolute path of the file the functions came from, or NULL */
	enum project_kind kind;
	struct project_function *functions;
	size_t n_functions;
	char **test_argv;   /* NULL-terminated, NULL when not configured */
	char **deploy_argv; /* NULL-terminated, NULL when not configured */
	char *mode;         /* "local", "aws" or NULL */
	char *profile;      /* lambdeck.json "profile", NULL if unset */
	char *region;       /* lambdeck.json "region", NULL if unset */
	char *artifact_bucket;
	bool share_with_group;
	/* Configuration overrides (struct project_options, lambdeck.json), owned copies. */
	char *stage;                /* --stage / "stage": ${opt:stage}, ${sls:stage} */
	char *opt_region;           /* --region as ${opt:region} / AWS::Region, NULL if not given */
	char *env_vars_file;        /* --env-vars / "env_vars": SAM env.json, absolute */
	char *parameter_overrides;  /* --parameter-overrides as given, NULL if none */
	struct project_env *params; /* parsed parameter overrides (lambdeck.json, then CLI) */
	size_t n_params;
	bool skip_deps; /* --skip-deps / "skip_deps": builds never run an installer */
	char **plugins; /* serverless.yml plugins (named in notes when not understood) */
	size_t n_plugins;
};

/* Overrides given on the command line (or by the console's options); all optional and
 * borrowed. They win over lambdeck.json's "stage", "env_vars", "parameter_overrides",
 * "skip_deps". */
struct project_options {
	const char *stage;               /* --stage NAME */
	const char *region;              /* --region NAME (also AWS::Region / ${opt:region}) */
	const char *env_vars_file;       /* --env-vars FILE: {"Parameters": {...}, "Fn": {...}} */
	const char *parameter_overrides; /* "K=V K2=V2" or "ParameterKey=K,ParameterValue=V ..." */
	bool skip_deps;                  /* --skip-deps */
};

/* Call order: project_load() once (cheap: a 200-function template takes well under 20 ms,
 * so callers may simply reload on a change), read the struct, project_free(). The struct is
 * plain data owned by the caller; nothing in it refers back to the files.
 *
 * Discovery, first match wins: lambdeck.json (when it has "functions"), template.yaml,
 * template.yml, serverless.yml, serverless.yaml. A lambdeck.json without "functions" still
 * provides its settings (test, deploy, mode...) and the functions come from the others.
 *
 * Loads the project in dir. On a malformed config file returns -1 with err->code
 * "ParseError" and err->message "file:line:col: what is wrong"; *out is still set to a
 * project with dir set and no functions, so callers can keep going. Caller frees. */
int project_load(const char *dir, struct project **out, struct lk_error *err);
/* project_load with overrides (o may be NULL). A bad --env-vars file or override string is a
 * ParseError ("env.json:3:5: ...") like a bad config file. */
int project_load_with(const char *dir, const struct project_options *o, struct project **out,
                      struct lk_error *err);
/* The overrides p was loaded with, for reloading it the same way (strings borrowed from p). */
void project_options_of(const struct project *p, struct project_options *o);
/* Parses SAM --parameter-overrides syntax ("K=V K2='a b'" or
 * "ParameterKey=K,ParameterValue=V ..."; several may be joined by blanks) into *out (name,
 * value pairs appended, caller frees with the project). Returns -1 with err on bad syntax. */
int project_parse_parameter_overrides(const char *text, struct project_env **out, size_t *n,
                                      struct lk_error *err);
/* Reads SAM's env.json ({"Parameters": {VAR: value}, "<LogicalId or name>": {VAR: value}})
 * and applies it to p's functions: only variables a function declares are replaced, as
 * `sam local` does; the others are named in a note. Returns -1 with err (file:line:col) on
 * a malformed file. */
int project_apply_env_json(struct project *p, const char *path, const char *shown,
                           struct lk_error *err);
void project_free(struct project *p);
const struct project_function *project_find(const struct project *p, const char *name);
/* "lambdeck.json", "SAM template", "serverless.yml", "none". Static string. */
const char *project_kind_name(enum project_kind kind);
/* Finds the source file and line of a handler: Python "pkg/app.fn" -> pkg/app.py and the
 * line of "def fn"; Node "src/index.fn" -> src/index.{js,mjs,cjs,ts} and the line of
 * "exports.fn" / "export const fn" / "export async function fn"; Ruby; provided* ->
 * code_dir/bootstrap. Sets *file (absolute, caller frees, NULL when not found), *line
 * (0 when unknown) and returns a problem text (caller frees) or NULL. */
char *project_locate_handler(const char *runtime, const char *handler, const char *code_dir,
                             char **file, int *line, char **symbol);
/* How to add a function, for a project with none (one paragraph, static string). */
const char *project_empty_hint(void);

#endif
