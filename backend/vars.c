/* vars.c - Serverless Framework variable resolution (see vars.h): sources, fallbacks, nesting,
 * with a reason for every variable that cannot be resolved locally. */
#include "backend/vars.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "backend/util.h"

#define VARS_MAX_DEPTH 16

struct res {
	const struct vars_ctx *c;
	int depth; /* self: references followed */
	int nest;  /* ${ inside ${ */
	char *why; /* reason of the first failure, owned */
};

static int resolve_text(struct res *r, const char *text, size_t n, struct buf *out);

static void set_why(struct res *r, char *why)
{
	if (!r->why)
		r->why = why;
	else
		free(why);
}

static void trim(const char **s, size_t *n)
{
	while (*n && isspace((unsigned char)**s))
		(*s)++, (*n)--;
	while (*n && isspace((unsigned char)(*s)[*n - 1]))
		(*n)--;
}

/* Offset of the '}' closing the "${" at text[0], or n when unterminated. */
static size_t closing_brace(const char *text, size_t n)
{
	int level = 0;

	for (size_t i = 1; i < n; i++) {
		if (text[i] == '{')
			level++;
		else if (text[i] == '}' && --level == 0)
			return i;
	}
	return n;
}

static const char *env_get(const struct vars_ctx *c, const char *name)
{
	return c->env ? c->env(c->user, name) : getenv(name);
}

/* Resolves a self: path (raw text from the caller, then its own variables). */
static int self_lookup(struct res *r, const char *path, char **val)
{
	const char *raw = r->c->self_value ? r->c->self_value(r->c->user, path) : NULL;
	struct buf b = {0};

	/* the framework fills these defaults in before it resolves variables */
	if (!raw && !strcmp(path, "provider.stage"))
		raw = "dev";
	else if (!raw && !strcmp(path, "provider.region"))
		raw = "us-east-1";
	if (!raw) {
		set_why(r, xasprintf("self:%s is not set in the file", path));
		return -1;
	}
	if (r->depth >= VARS_MAX_DEPTH) {
		set_why(r, xasprintf("self:%s refers to itself (a cycle of variables)", path));
		return -1;
	}
	int nest = r->nest; /* the value's own nesting starts afresh */
	r->depth++;
	r->nest = 0;
	int rc = resolve_text(r, raw, strlen(raw), &b);
	r->depth--;
	r->nest = nest;
	if (rc < 0) {
		buf_free(&b);
		return -1;
	}
	*val = buf_steal(&b);
	return 0;
}

/* One source reference "kind:address" (nested variables already substituted). */
static int source_value(struct res *r, const char *ref, char **val)
{
	const struct vars_ctx *c = r->c;

	if (!strncmp(ref, "self:", 5))
		return self_lookup(r, ref + 5, val);
	if (!strcmp(ref, "opt:stage") || !strcmp(ref, "opt:region")) {
		const char *v = ref[4] == 's' ? c->opt_stage : c->opt_region;
		if (v) {
			*val = xstrdup(v);
			return 0;
		}
		set_why(r, xasprintf("%s: --%s was not given", ref, ref + 4));
		return -1;
	}
	if (!strcmp(ref, "sls:stage") || !strcmp(ref, "aws:region")) {
		/* the option, else the provider's setting (which must resolve), else the default */
		bool stage = ref[0] == 's';
		const char *opt = stage ? c->opt_stage : c->opt_region;
		const char *path = stage ? "provider.stage" : "provider.region";
		if (opt) {
			*val = xstrdup(opt);
			return 0;
		}
		if (c->self_value && c->self_value(c->user, path))
			return self_lookup(r, path, val);
		*val = xstrdup(stage ? "dev" : "us-east-1");
		return 0;
	}
	if (!strncmp(ref, "env:", 4) && ref[4]) {
		const char *v = env_get(c, ref + 4);
		if (v) {
			*val = xstrdup(v);
			return 0;
		}
		set_why(r, xasprintf("environment variable %s is not set", ref + 4));
		return -1;
	}
	if (!strncmp(ref, "opt:", 4)) {
		set_why(r, xasprintf("%s: the option --%s was not given", ref, ref + 4));
		return -1;
	}
	if (!strncmp(ref, "ssm:", 4) || !strncmp(ref, "cf:", 3) || !strncmp(ref, "cf(", 3) ||
	    !strncmp(ref, "s3:", 3) || !strncmp(ref, "aws:", 4) ||
	    !strncmp(ref, "secretsmanager:", 15))
		set_why(r, xasprintf("${%s} needs AWS", ref));
	else if (!strncmp(ref, "param:", 6))
		set_why(r, xasprintf("${%s} needs the Serverless Dashboard", ref));
	else if (!strncmp(ref, "construct:", 10))
		set_why(r,
		        xasprintf("${%s} is a serverless-lift construct's output: constructs are "
		                  "not created locally",
		                  ref));
	else if (!strncmp(ref, "file(", 5))
		set_why(r,
		        xasprintf("${%s}: variables from other files are not read locally", ref));
	else
		set_why(r, xasprintf("${%s}: unknown variable source", ref));
	return -1;
}

static bool is_source(const char *s)
{
	size_t i = 0;

	if (!strncmp(s, "file(", 5) || !strncmp(s, "cf(", 3))
		return true;
	while (isalnum((unsigned char)s[i]))
		i++;
	return i > 0 && s[i] == ':';
}

/* One comma-separated part of a variable: a source, a quoted string, a literal, or a nested
 * variable. */
static int resolve_part(struct res *r, const char *s, size_t n, bool first, char **val)
{
	struct buf b = {0};

	trim(&s, &n);
	if (!n) {
		set_why(r, xstrdup("empty variable"));
		return -1;
	}
	if (n >= 2 && (s[0] == '\'' || s[0] == '"') && s[n - 1] == s[0]) {
		if (resolve_text(r, s + 1, n - 2, &b) < 0) {
			buf_free(&b);
			return -1;
		}
		*val = buf_steal(&b);
		return 0;
	}
	bool whole_var = n >= 3 && s[0] == '$' && s[1] == '{' && closing_brace(s, n) == n - 1;
	if (resolve_text(r, s, n, &b) < 0) {
		buf_free(&b);
		return -1;
	}
	char *t = buf_steal(&b);
	if (whole_var || (!first && !is_source(t))) {
		*val = t; /* a nested variable's value, or a bare literal fallback (a number) */
		return 0;
	}
	if (!is_source(t)) {
		set_why(
		    r, xasprintf("${%s}: not a variable (sources look like self:, opt:, env:)", t));
		free(t);
		return -1;
	}
	int rc = source_value(r, t, val);
	free(t);
	return rc;
}

/* The inside of one ${...}: parts separated by top-level commas, first success wins. */
static int resolve_var(struct res *r, const char *inner, size_t n, char **val)
{
	size_t start = 0;
	int level = 0;
	char quote = 0;
	bool first = true;

	for (size_t i = 0; i <= n; i++) {
		char ch = i < n ? inner[i] : ',';
		if (quote) {
			if (ch == quote)
				quote = 0;
			if (i < n)
				continue;
		}
		if (ch == '\'' || ch == '"') {
			quote = ch;
		} else if (ch == '{') {
			level++;
		} else if (ch == '}') {
			level--;
		} else if (ch == ',' && level == 0) {
			if (resolve_part(r, inner + start, i - start, first, val) == 0) {
				free(r->why);
				r->why = NULL;
				return 0;
			}
			first = false;
			start = i + 1;
		}
	}
	return -1;
}

/* Appends text with every ${...} substituted. */
static int resolve_text(struct res *r, const char *text, size_t n, struct buf *out)
{
	size_t i = 0;

	while (i < n) {
		const char *open = NULL;
		for (size_t k = i; k + 1 < n; k++)
			if (text[k] == '$' && text[k + 1] == '{') {
				open = text + k;
				break;
			}
		if (!open) {
			buf_append(out, text + i, n - i);
			break;
		}
		size_t at = (size_t)(open - text);
		buf_append(out, text + i, at - i);
		size_t close = at + closing_brace(open, n - at);
		if (close >= n) {
			buf_append(out, open, n - at); /* unterminated: kept as written */
			break;
		}
		char *v = NULL;
		if (r->nest >= VARS_MAX_DEPTH) {
			set_why(r, xstrdup("variables nested too deeply"));
			return -1;
		}
		r->nest++;
		int rc = resolve_var(r, open + 2, close - at - 2, &v);
		r->nest--;
		if (rc < 0) {
			if (!r->why)
				r->why = xasprintf("${%.*s} cannot be resolved",
				                   (int)(close - at - 2), open + 2);
			return -1;
		}
		buf_puts(out, v);
		free(v);
		i = close + 1;
	}
	return 0;
}

int vars_resolve(const struct vars_ctx *c, const char *text, char **out, char **why)
{
	struct res r = {.c = c};
	struct buf b = {0};

	*out = NULL;
	if (why)
		*why = NULL;
	if (resolve_text(&r, text ? text : "", text ? strlen(text) : 0, &b) < 0) {
		buf_free(&b);
		if (why)
			*why = r.why ? r.why : xstrdup("cannot be resolved");
		else
			free(r.why);
		return -1;
	}
	free(r.why);
	*out = buf_steal(&b);
	return 0;
}

bool vars_whole_self(const char *text, char **path)
{
	const char *s = text;
	size_t n = strlen(text);

	*path = NULL;
	trim(&s, &n);
	if (n < 8 || s[0] != '$' || s[1] != '{' || closing_brace(s, n) != n - 1)
		return false;
	s += 2;
	n -= 3;
	trim(&s, &n);
	size_t k = 0;
	while (k < n && s[k] != ',' && s[k] != '$')
		k++;
	if (k < 5 || strncmp(s, "self:", 5) || k < n)
		return false; /* only a plain ${self:x}: fallbacks make it a string */
	while (k > 5 && isspace((unsigned char)s[k - 1]))
		k--;
	*path = xstrndup(s + 5, k - 5);
	return true;
}
