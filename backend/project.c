/* project.c - project discovery: which config file wins, lambdeck.json, handler -> source
 * file + line, and the model's memory management. SAM templates are read in project_sam.c,
 * serverless.yml in project_sls.c, the YAML helpers live in project_yaml.c. */
#include "backend/project_internal.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

const char *project_kind_name(enum project_kind kind)
{
	switch (kind) {
	case PROJECT_LAMBDECK_JSON:
		return "lambdeck.json";
	case PROJECT_SAM:
		return "SAM template";
	case PROJECT_SERVERLESS:
		return "serverless.yml";
	case PROJECT_NONE:
		break;
	}
	return "none";
}

const char *project_empty_hint(void)
{
	return "No functions found. Add one: create lambdeck.json with "
	       "{\"functions\": [{\"name\": \"Hello\", \"runtime\": \"python3.12\", "
	       "\"handler\": \"app.handler\", \"code\": \".\"}]}, or a SAM template.yaml with an "
	       "AWS::Serverless::Function resource, or a serverless.yml with a functions: section.";
}

struct project_function *project_add_function(struct project *p, const char *name)
{
	struct project_function *f;

	p->functions = xrealloc(p->functions, (p->n_functions + 1) * sizeof(*p->functions));
	f = &p->functions[p->n_functions++];
	*f = (struct project_function){
	    .name = xstrdup(name),
	    .timeout = 3,
	    .memory = 128,
	    .buildable = true,
	    .package_type = xstrdup("Zip"),
	};
	return f;
}

static void append_text(char **field, const char *fmt, va_list ap)
{
	struct buf b = {0};

	if (*field) {
		buf_puts(&b, *field);
		buf_puts(&b, "; ");
	}
	buf_vprintf(&b, fmt, ap);
	free(*field);
	*field = buf_steal(&b);
}

void project_add_problem(struct project_function *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	append_text(&f->problem, fmt, ap);
	va_end(ap);
}

void project_add_note(struct project_function *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	append_text(&f->notes, fmt, ap);
	va_end(ap);
}

void project_add_env(struct project_function *f, const char *name, const char *value,
                     const char *expr)
{
	f->env = xrealloc(f->env, (f->n_env + 1) * sizeof(*f->env));
	f->env[f->n_env++] = (struct project_env){
	    .name = xstrdup(name),
	    .value = xstrdup(value),
	    .expr = xstrdup(expr),
	};
}

struct project_env *project_set_env(struct project_function *f, const char *name, const char *value,
                                    const char *expr)
{
	for (size_t i = 0; i < f->n_env; i++) {
		if (strcmp(f->env[i].name, name))
			continue;
		free(f->env[i].value);
		free(f->env[i].expr);
		f->env[i].value = xstrdup(value);
		f->env[i].expr = xstrdup(expr);
		f->env[i].standin = false;
		return &f->env[i];
	}
	project_add_env(f, name, value, expr);
	return &f->env[f->n_env - 1];
}

void project_add_layer(struct project_function *f, const char *layer)
{
	f->layers = xrealloc(f->layers, (f->n_layers + 1) * sizeof(*f->layers));
	f->layers[f->n_layers++] = xstrdup(layer);
}

char *project_display_path(const char *dir_given, const char *name)
{
	if (!dir_given || !*dir_given || !strcmp(dir_given, "."))
		return xstrdup(name);
	return util_path_join(dir_given, name);
}

/* Lexical normalisation of an absolute path: no "//", "/./", "x/.." or trailing "/". */
char *project_normalize_path(const char *path)
{
	size_t n = strlen(path);
	char *out = xmalloc(n + 2);
	size_t o = 0;
	const char *s = path;

	out[o++] = '/';
	while (*s) {
		const char *e;
		size_t len;

		while (*s == '/')
			s++;
		if (!*s)
			break;
		e = strchr(s, '/');
		len = e ? (size_t)(e - s) : strlen(s);
		if (len == 1 && s[0] == '.') {
			/* skip */
		} else if (len == 2 && s[0] == '.' && s[1] == '.') {
			if (o > 1) {
				o--; /* drop trailing '/' */
				while (o > 1 && out[o - 1] != '/')
					o--;
			}
		} else {
			memcpy(out + o, s, len);
			o += len;
			out[o++] = '/';
		}
		s += len;
	}
	if (o > 1)
		o--;
	out[o] = '\0';
	return out;
}

/* ---- handler -> source file + line ---------------------------------------------------- */

static bool is_ident(int c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '$';
}

/* If line (after optional indentation when indent_ok) starts with prefix immediately
 * followed by name and then a non-identifier character, returns true. prefix may contain
 * single spaces that match one or more blanks. */
static bool line_defines(const char *line, const char *end, const char *prefix, const char *name,
                         bool indent_ok)
{
	const char *s = line;
	size_t nl = strlen(name);

	if (indent_ok)
		while (s < end && (*s == ' ' || *s == '\t'))
			s++;
	for (const char *q = prefix; *q; q++) {
		if (*q == ' ') {
			if (s >= end || (*s != ' ' && *s != '\t'))
				return false;
			while (s < end && (*s == ' ' || *s == '\t'))
				s++;
			continue;
		}
		if (s >= end || *s != *q)
			return false;
		s++;
	}
	if ((size_t)(end - s) < nl || memcmp(s, name, nl))
		return false;
	s += nl;
	return s >= end || !is_ident(*s);
}

/* Returns the 1-based line of the first line matching any of the prefixes (tried in
 * order of preference: all lines for prefix 0, then prefix 1...), 0 if none. */
static int find_definition(const char *text, size_t len, const char *const *prefixes,
                           const bool *indent_ok, const char *name)
{
	for (size_t k = 0; prefixes[k]; k++) {
		const char *s = text, *end = text + len;
		int line = 1;

		while (s < end) {
			const char *nl = memchr(s, '\n', (size_t)(end - s));
			const char *le = nl ? nl : end;

			if (line_defines(s, le, prefixes[k], name, indent_ok[k]))
				return line;
			line++;
			s = nl ? nl + 1 : end;
		}
	}
	return 0;
}

static int file_find_definition(const char *path, const char *const *prefixes,
                                const bool *indent_ok, const char *name)
{
	struct buf b = {0};
	struct lk_error err = {0};
	int line = 0;

	if (util_read_file(path, &b, &err) == 0)
		line = find_definition(b.data ? b.data : "", b.len, prefixes, indent_ok, name);
	buf_free(&b);
	return line;
}

static const char *const py_prefixes[] = {"def ", "async def ", "", NULL};
static const bool py_indent[] = {false, false, false};
/* For "" (an assignment such as `handler = Mangum(app)`) line_defines matches "name" at
 * column 0 followed by a non-identifier: filtered further by has_assignment below. */

static int python_line(const char *path, const char *name)
{
	struct buf b = {0};
	struct lk_error err = {0};
	int line = 0;

	if (util_read_file(path, &b, &err) < 0)
		return 0;
	line = find_definition(b.data ? b.data : "", b.len, py_prefixes, py_indent, name);
	if (line > 0) {
		/* Accept an assignment match only when an '=' follows the name. */
		const char *s = b.data;
		for (int l = 1; l < line && s; l++) {
			s = strchr(s, '\n');
			if (s)
				s++;
		}
		if (s && strncmp(s, "def ", 4) && strncmp(s, "async def ", 10)) {
			const char *q = s + strlen(name);
			while (*q == ' ' || *q == '\t')
				q++;
			if (*q != '=' || q[1] == '=')
				line = 0;
		}
	}
	buf_free(&b);
	return line;
}

static const char *const node_prefixes[] = {
    "exports.",
    "module.exports.",
    "export const ",
    "export async function ",
    "export function ",
    "export let ",
    "export var ",
    "async function ",
    "function ",
    "const ",
    "let ",
    "var ",
    NULL,
};
static const bool node_indent[] = {true, true,  true,  true,  true,  true,
                                   true, false, false, false, false, false};

static const char *const ruby_prefixes[] = {"def ", "def self.", NULL};
static const bool ruby_indent[] = {true, true};

static const char *const sh_prefixes[] = {"function ", "", NULL};
static const bool sh_indent[] = {false, false};

static bool starts_with(const char *s, const char *prefix)
{
	return s && !strncmp(s, prefix, strlen(prefix));
}

char *project_locate_handler(const char *runtime, const char *handler, const char *code_dir,
                             char **file, int *line, char **symbol)
{
	*file = NULL;
	*line = 0;
	*symbol = NULL;
	if (!code_dir)
		return NULL;
	if (starts_with(runtime, "provided")) {
		char *boot = util_path_join(code_dir, "bootstrap");
		/* The AWS shell-runtime convention: handler "function.handler" means the
		 * bootstrap sources function.sh and calls handler(). */
		const char *dot = handler ? strrchr(handler, '.') : NULL;
		if (dot && dot != handler) {
			char *mod = xasprintf("%.*s.sh", (int)(dot - handler), handler);
			char *script = util_path_join(code_dir, mod);
			free(mod);
			if (util_is_file(script)) {
				*file = script;
				*symbol = xstrdup(dot + 1);
				*line =
				    file_find_definition(script, sh_prefixes, sh_indent, dot + 1);
				if (!*line)
					*line = 1;
				free(boot);
				return NULL;
			}
			free(script);
		}
		if (!util_is_file(boot)) {
			free(boot);
			return xstrdup("no bootstrap file in the code directory");
		}
		*file = boot;
		*line = 1;
		return NULL;
	}
	if (!handler || !*handler)
		return NULL;

	bool python = starts_with(runtime, "python");
	bool node = starts_with(runtime, "nodejs");
	bool ruby = starts_with(runtime, "ruby");
	if (!runtime) {
		/* Runtime unknown (unresolved): look for either kind of file. */
		python = node = true;
	}
	if (!python && !node && !ruby)
		return NULL; /* compiled runtimes: the handler names a class or binary */

	const char *slash = strrchr(handler, '/');
	const char *base = slash ? slash + 1 : handler;
	const char *dot = node && !python ? strchr(base, '.') : strrchr(base, '.');
	if (!dot || dot == base || !dot[1])
		return xasprintf("handler '%s' is not MODULE.FUNCTION", handler);

	char *module = xstrndup(handler, (size_t)(dot - handler));
	const char *fn = dot + 1;
	char *problem = NULL;

	if (python) {
		/* "pkg.app" and "pkg/app" both mean pkg/app.py. */
		char *rel = xstrdup(module);
		for (char *c = rel + (slash ? (size_t)(slash - handler) : 0); *c; c++)
			if (*c == '.')
				*c = '/';
		char *name = xasprintf("%s.py", rel);
		char *path = util_path_join(code_dir, name);
		if (util_is_file(path)) {
			*file = path;
			*line = python_line(path, fn);
			*symbol = xstrdup(fn);
			if (!*line)
				problem = xasprintf("'def %s' not found in %s", fn, name);
		} else {
			free(path);
		}
		if (!*file && !node)
			problem = xasprintf("handler file %s not found", name);
		free(name);
		free(rel);
	}
	if (node && !*file) {
		static const char *const exts[] = {".js", ".mjs", ".cjs", ".ts", NULL};
		for (size_t i = 0; exts[i] && !*file; i++) {
			char *name = xasprintf("%s%s", module, exts[i]);
			char *path = util_path_join(code_dir, name);
			free(name);
			if (util_is_file(path))
				*file = path;
			else
				free(path);
		}
		if (*file) {
			*symbol = xstrdup(fn);
			*line = file_find_definition(*file, node_prefixes, node_indent, fn);
			if (!*line)
				problem = xasprintf("handler '%s' not exported by %s", fn,
				                    strrchr(*file, '/') + 1);
		} else {
			problem = xasprintf("handler file %s.{js,mjs,cjs,ts} not found", module);
		}
	}
	if (ruby) {
		char *name = xasprintf("%s.rb", module);
		char *path = util_path_join(code_dir, name);
		if (util_is_file(path)) {
			*file = path;
			*symbol = xstrdup(fn);
			*line = file_find_definition(path, ruby_prefixes, ruby_indent, fn);
			if (!*line)
				problem = xasprintf("'def %s' not found in %s", fn, name);
		} else {
			free(path);
			problem = xasprintf("handler file %s not found", name);
		}
		free(name);
	}
	free(module);
	return problem;
}

void project_resolve_function(struct project_function *f)
{
	char *problem;

	if (!f->code_dir)
		return;
	if (!util_is_dir(f->code_dir)) {
		project_add_problem(f, "code directory %s does not exist", f->code_dir);
		return;
	}
	if (!strcmp(f->package_type ? f->package_type : "Zip", "Image"))
		return;
	problem = project_locate_handler(f->runtime, f->handler, f->code_dir, &f->source_file,
	                                 &f->source_line, &f->handler_symbol);
	if (problem) {
		project_add_problem(f, "%s", problem);
		free(problem);
	}
}

/* ---- lambdeck.json ---------------------------------------------------------------------- */

/* 1-based line and column (in characters) of byte offset off. */
void project_offset_to_linecol(const char *text, size_t len, size_t off, int *line, int *col)
{
	*line = 1;
	*col = 1;
	if (off > len)
		off = len;
	for (size_t i = 0; i < off; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c == '\n') {
			(*line)++;
			*col = 1;
		} else if ((c & 0xC0) != 0x80) {
			(*col)++;
		}
	}
}

/* Position of the first `"key"` followed by ':' in text, for messages about a key. */
static void json_key_pos(const char *text, size_t len, const char *key, int *line, int *col)
{
	char *needle = xasprintf("\"%s\"", key);
	const char *hit = text ? strstr(text, needle) : NULL;

	free(needle);
	project_offset_to_linecol(text, len, hit ? (size_t)(hit - text) : 0, line, col);
}

static char **json_argv(const cJSON *v, const char **why)
{
	char **argv = NULL;
	size_t n = 0;

	*why = NULL;
	if (cJSON_IsString(v)) {
		/* A string is split on blanks; no shell is involved. Use an array for
		 * arguments containing blanks. */
		const char *s = v->valuestring;
		while (*s) {
			while (*s == ' ' || *s == '\t')
				s++;
			if (!*s)
				break;
			size_t l = strcspn(s, " \t");
			argv = xrealloc(argv, (n + 2) * sizeof(*argv));
			argv[n++] = xstrndup(s, l);
			argv[n] = NULL;
			s += l;
		}
	} else if (cJSON_IsArray(v)) {
		const cJSON *e;
		cJSON_ArrayForEach(e, v)
		{
			if (!cJSON_IsString(e)) {
				*why = "must be an array of strings";
				break;
			}
			argv = xrealloc(argv, (n + 2) * sizeof(*argv));
			argv[n++] = xstrdup(e->valuestring);
			argv[n] = NULL;
		}
		if (*why) {
			for (size_t i = 0; i < n; i++)
				free(argv[i]);
			free(argv);
			return NULL;
		}
	} else if (!cJSON_IsNull(v)) {
		*why = "must be a string or an array of strings";
	}
	return argv;
}

static char *json_scalar_text(const cJSON *v)
{
	if (cJSON_IsString(v))
		return xstrdup(v->valuestring);
	if (cJSON_IsBool(v))
		return xstrdup(cJSON_IsTrue(v) ? "true" : "false");
	if (cJSON_IsNumber(v)) {
		double d = v->valuedouble;
		if (d == (double)(long long)d)
			return xasprintf("%lld", (long long)d);
		return xasprintf("%g", d);
	}
	return NULL;
}

static void json_strings(struct project_function *f, const cJSON *v, const char *key, char ***out,
                         size_t *n)
{
	const cJSON *e;

	if (!v)
		return;
	if (!cJSON_IsArray(v)) {
		project_add_problem(f, "\"%s\" must be an array of strings", key);
		return;
	}
	cJSON_ArrayForEach(e, v)
	{
		if (!cJSON_IsString(e)) {
			project_add_problem(f, "\"%s\" must be an array of strings", key);
			continue;
		}
		*out = xrealloc(*out, (*n + 1) * sizeof(**out));
		(*out)[(*n)++] = xstrdup(e->valuestring);
	}
}

static void json_int(struct project_function *f, const cJSON *obj, const char *key, int *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (!v)
		return;
	if (!cJSON_IsNumber(v) || v->valuedouble < 1 || v->valuedouble > 1e7 ||
	    v->valuedouble != (double)(int)v->valuedouble) {
		project_add_problem(f, "\"%s\" must be a positive whole number", key);
		return;
	}
	*out = v->valueint;
}

static char *json_string(struct project_function *f, const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (!v || cJSON_IsNull(v))
		return NULL;
	if (!cJSON_IsString(v)) {
		project_add_problem(f, "\"%s\" must be a string", key);
		return NULL;
	}
	return xstrdup(v->valuestring);
}

static void json_function(struct project *p, const cJSON *obj, const char *key_name, size_t idx,
                          const char *cfg_dir)
{
	struct project_function *f;
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(obj, "name");
	char fallback[32];

	snprintf(fallback, sizeof(fallback), "function[%zu]", idx);
	if (key_name)
		f = project_add_function(p, key_name);
	else if (cJSON_IsString(name) && name->valuestring[0])
		f = project_add_function(p, name->valuestring);
	else
		f = project_add_function(p, fallback);
	if (!cJSON_IsObject(obj)) {
		project_add_problem(f, "must be an object");
		return;
	}
	if (!key_name && !(cJSON_IsString(name) && name->valuestring[0]))
		project_add_problem(f, "\"name\" is missing");
	f->runtime = json_string(f, obj, "runtime");
	f->handler = json_string(f, obj, "handler");
	f->deployed_name = json_string(f, obj, "deployed_name");
	if (!f->deployed_name && (key_name || (cJSON_IsString(name) && name->valuestring[0])))
		f->deployed_name =
		    xstrdup(f->name); /* explicit functions deploy under their name */
	char *code = json_string(f, obj, "code");
	if (!code)
		code = json_string(f, obj, "code_dir");
	char *joined =
	    code && code[0] == '/' ? xstrdup(code) : util_path_join(cfg_dir, code ? code : ".");
	f->code_dir = project_normalize_path(joined);
	free(joined);
	free(code);
	json_int(f, obj, "timeout", &f->timeout);
	json_int(f, obj, "memory", &f->memory);
	const cJSON *env = cJSON_GetObjectItemCaseSensitive(obj, "environment");
	if (env && !cJSON_IsObject(env)) {
		project_add_problem(f, "\"environment\" must be an object");
	} else if (env) {
		const cJSON *e;
		cJSON_ArrayForEach(e, env)
		{
			char *val = json_scalar_text(e);
			if (!val)
				project_add_problem(f, "environment \"%s\" must be a string",
				                    e->string);
			else
				project_add_env(f, e->string, val, NULL);
			free(val);
		}
	}
	json_strings(f, cJSON_GetObjectItemCaseSensitive(obj, "layers"), "layers", &f->layers,
	             &f->n_layers);
	json_strings(f, cJSON_GetObjectItemCaseSensitive(obj, "exclude"), "exclude", &f->exclude,
	             &f->n_exclude);
	const cJSON *img = cJSON_GetObjectItemCaseSensitive(obj, "image");
	if (img && !cJSON_IsNull(img) && !cJSON_IsFalse(img)) {
		free(f->package_type);
		f->package_type = xstrdup("Image");
		f->buildable = false;
		f->not_buildable = xstrdup("PackageType Image");
	}
	if (!f->runtime && !img)
		project_add_problem(f, "\"runtime\" is missing");
	if (!f->handler && f->runtime && strncmp(f->runtime, "provided", 8))
		project_add_problem(f, "\"handler\" is missing");
	project_resolve_function(f);
}

/* "stage", "env_vars", "parameter_overrides" and "skip_deps": the configuration overrides
 * lambdeck.json may hold (command-line options win over them). */
static int json_config_settings(struct project *p, const cJSON *root, const char *text, size_t len,
                                const char *shown, struct lk_error *err)
{
	const cJSON *v;
	int line, col;

	static const char *const keys[] = {"stage", "env_vars"};
	for (size_t i = 0; i < 2; i++) {
		v = cJSON_GetObjectItemCaseSensitive(root, keys[i]);
		if (!v || cJSON_IsNull(v))
			continue;
		if (!cJSON_IsString(v) || !v->valuestring[0]) {
			json_key_pos(text, len, keys[i], &line, &col);
			return lk_error_set(err, "ParseError",
			                    "%s:%d:%d: \"%s\" must be a non-empty string", shown,
			                    line, col, keys[i]);
		}
		if (i == 0)
			p->stage = xstrdup(v->valuestring);
		else /* relative to the project directory */
			p->env_vars_file = v->valuestring[0] == '/'
			                       ? xstrdup(v->valuestring)
			                       : util_path_join(p->dir, v->valuestring);
	}
	v = cJSON_GetObjectItemCaseSensitive(root, "skip_deps");
	if (v && !cJSON_IsBool(v)) {
		json_key_pos(text, len, "skip_deps", &line, &col);
		return lk_error_set(err, "ParseError",
		                    "%s:%d:%d: \"skip_deps\" must be true or false", shown, line,
		                    col);
	}
	p->skip_deps = cJSON_IsTrue(v);
	v = cJSON_GetObjectItemCaseSensitive(root, "parameter_overrides");
	if (!v || cJSON_IsNull(v))
		return 0;
	json_key_pos(text, len, "parameter_overrides", &line, &col);
	if (cJSON_IsString(v)) {
		struct lk_error perr = {0};
		if (project_parse_parameter_overrides(v->valuestring, &p->params, &p->n_params,
		                                      &perr) < 0)
			return lk_error_set(err, "ParseError",
			                    "%s:%d:%d: \"parameter_overrides\": %s", shown, line,
			                    col, perr.message);
		return 0;
	}
	if (!cJSON_IsObject(v))
		return lk_error_set(err, "ParseError",
		                    "%s:%d:%d: \"parameter_overrides\" must be an object "
		                    "({\"Name\": \"value\"}) or a string (\"Name=value ...\")",
		                    shown, line, col);
	const cJSON *e;
	cJSON_ArrayForEach(e, v)
	{
		char *val = json_scalar_text(e);
		if (!val)
			return lk_error_set(
			    err, "ParseError",
			    "%s:%d:%d: \"parameter_overrides\": %s must be a string", shown, line,
			    col, e->string);
		p->params = xrealloc(p->params, (p->n_params + 1) * sizeof(*p->params));
		p->params[p->n_params++] =
		    (struct project_env){.name = xstrdup(e->string), .value = val};
	}
	return 0;
}

static int json_settings(struct project *p, const cJSON *root, const char *text, size_t len,
                         const char *shown, struct lk_error *err)
{
	static const char *const string_keys[] = {"mode", "profile", "region", "artifact_bucket"};
	char **const fields[] = {&p->mode, &p->profile, &p->region, &p->artifact_bucket};
	const char *why;
	int line, col;

	for (size_t i = 0; i < sizeof(string_keys) / sizeof(string_keys[0]); i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, string_keys[i]);
		if (!v || cJSON_IsNull(v))
			continue;
		if (!cJSON_IsString(v)) {
			json_key_pos(text, len, string_keys[i], &line, &col);
			return lk_error_set(err, "ParseError", "%s:%d:%d: \"%s\" must be a string",
			                    shown, line, col, string_keys[i]);
		}
		*fields[i] = xstrdup(v->valuestring);
	}
	if (p->mode && strcmp(p->mode, "local") && strcmp(p->mode, "aws")) {
		json_key_pos(text, len, "mode", &line, &col);
		return lk_error_set(err, "ParseError",
		                    "%s:%d:%d: \"mode\" must be \"local\" or \"aws\", not \"%s\"",
		                    shown, line, col, p->mode);
	}
	const cJSON *share = cJSON_GetObjectItemCaseSensitive(root, "share_with_group");
	if (share && !cJSON_IsBool(share)) {
		json_key_pos(text, len, "share_with_group", &line, &col);
		return lk_error_set(err, "ParseError",
		                    "%s:%d:%d: \"share_with_group\" must be "
		                    "true or false",
		                    shown, line, col);
	}
	p->share_with_group = cJSON_IsTrue(share);
	if (json_config_settings(p, root, text, len, shown, err) < 0)
		return -1;
	static const char *const argv_keys[] = {"test", "deploy"};
	char ***const argvs[] = {&p->test_argv, &p->deploy_argv};
	for (size_t i = 0; i < 2; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, argv_keys[i]);
		/* {"command": [...]} is accepted as well as the bare command. */
		if (cJSON_IsObject(v))
			v = cJSON_GetObjectItemCaseSensitive(v, "command");
		if (!v)
			continue;
		*argvs[i] = json_argv(v, &why);
		if (why) {
			json_key_pos(text, len, argv_keys[i], &line, &col);
			return lk_error_set(err, "ParseError", "%s:%d:%d: \"%s\" %s", shown, line,
			                    col, argv_keys[i], why);
		}
	}
	return 0;
}

/* Reads lambdeck.json. Sets *has_functions when it declares "functions". */
static int load_lambdeck_json(struct project *p, const char *path, const char *shown,
                              bool *has_functions, struct lk_error *err)
{
	struct buf b = {0};
	const char *end = NULL;
	cJSON *root;
	int rc = 0, line, col;

	*has_functions = false;
	if (util_read_file(path, &b, err) < 0)
		return -1;
	root = cJSON_ParseWithLengthOpts(b.data ? b.data : "", b.len, &end, false);
	if (!root) {
		size_t off = end && b.data ? (size_t)(end - b.data) : 0;
		project_offset_to_linecol(b.data, b.len, off, &line, &col);
		rc = lk_error_set(err, "ParseError", "%s:%d:%d: %s", shown, line, col,
		                  off >= b.len ? "unexpected end of JSON" : "invalid JSON");
		goto out;
	}
	if (end && (size_t)(end - b.data) < b.len) {
		/* cJSON stops after the first value: trailing non-blank text is an error. */
		const char *s = end;
		while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
			s++;
		if (*s) {
			project_offset_to_linecol(b.data, b.len, (size_t)(s - b.data), &line, &col);
			rc = lk_error_set(err, "ParseError", "%s:%d:%d: text after the JSON value",
			                  shown, line, col);
			goto out;
		}
	}
	if (!cJSON_IsObject(root)) {
		const char *s = b.data;
		while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
			s++;
		project_offset_to_linecol(b.data, b.len, (size_t)(s - b.data), &line, &col);
		rc = lk_error_set(err, "ParseError", "%s:%d:%d: the top level must be an object",
		                  shown, line, col);
		goto out;
	}
	if (json_settings(p, root, b.data, b.len, shown, err) < 0) {
		rc = -1;
		goto out;
	}
	const cJSON *fns = cJSON_GetObjectItemCaseSensitive(root, "functions");
	if (fns && !cJSON_IsArray(fns) && !cJSON_IsObject(fns)) {
		json_key_pos(b.data, b.len, "functions", &line, &col);
		rc = lk_error_set(err, "ParseError",
		                  "%s:%d:%d: \"functions\" must be an array or an object", shown,
		                  line, col);
		goto out;
	}
	if (fns) {
		const cJSON *e;
		size_t i = 0;
		char *cfg_dir = xstrdup(path);
		*strrchr(cfg_dir, '/') = '\0';
		*has_functions = true;
		cJSON_ArrayForEach(e, fns)
		{
			json_function(p, e, cJSON_IsObject(fns) ? e->string : NULL, i++, cfg_dir);
		}
		free(cfg_dir);
	}
out:
	cJSON_Delete(root);
	buf_free(&b);
	return rc;
}

/* ---- discovery -------------------------------------------------------------------------- */

/* ---- configuration overrides -------------------------------------------------------------- */

static void params_add(struct project_env **v, size_t *n, const char *name, size_t name_len,
                       const char *value, size_t value_len)
{
	*v = xrealloc(*v, (*n + 1) * sizeof(**v));
	(*v)[(*n)++] = (struct project_env){.name = xstrndup(name, name_len),
	                                    .value = xstrndup(value, value_len)};
}

/* One blank-separated word of an override string with quotes removed ("K='a b'" -> K=a b). */
static const char *override_word(const char *s, struct buf *w, struct lk_error *err)
{
	char quote = 0;

	buf_reset(w);
	buf_puts(w, "");
	for (; *s && (quote || (*s != ' ' && *s != '\t' && *s != '\n')); s++) {
		if (quote && *s == quote)
			quote = 0;
		else if (!quote && (*s == '\'' || *s == '"'))
			quote = *s;
		else
			buf_putc(w, *s);
	}
	if (quote) {
		lk_error_set(err, "ParseError", "unterminated %c quote", quote);
		return NULL;
	}
	return s;
}

int project_parse_parameter_overrides(const char *text, struct project_env **out, size_t *n,
                                      struct lk_error *err)
{
	struct buf w = {0};
	const char *s = text ? text : "";
	int rc = 0;

	while (rc == 0) {
		while (*s == ' ' || *s == '\t' || *s == '\n')
			s++;
		if (!*s)
			break;
		if (!(s = override_word(s, &w, err))) {
			rc = -1;
			break;
		}
		const char *word = w.data;
		if (!strncmp(word, "ParameterKey=", 13)) {
			/* ParameterKey=K,ParameterValue=V (the value may hold commas) */
			const char *k = word + 13, *comma = strstr(k, ",ParameterValue=");
			if (!comma || comma == k) {
				rc = lk_error_set(
				    err, "ParseError",
				    "'%s': expected ParameterKey=NAME,ParameterValue=VALUE", word);
				break;
			}
			params_add(out, n, k, (size_t)(comma - k), comma + 16, strlen(comma + 16));
			continue;
		}
		const char *eq = strchr(word, '=');
		if (!eq || eq == word) {
			rc = lk_error_set(err, "ParseError",
			                  "'%s': expected NAME=VALUE (or "
			                  "ParameterKey=NAME,ParameterValue=VALUE)",
			                  word);
			break;
		}
		params_add(out, n, word, (size_t)(eq - word), eq + 1, strlen(eq + 1));
	}
	buf_free(&w);
	return rc;
}

/* Replaces a declared variable's value from env.json; true when f declares it. */
static bool env_override(struct project_function *f, const char *name, const char *value)
{
	for (size_t i = 0; i < f->n_env; i++) {
		if (strcmp(f->env[i].name, name))
			continue;
		free(f->env[i].value);
		f->env[i].value = xstrdup(value);
		f->env[i].standin = false;
		return true;
	}
	return false;
}

/* Applies one object of env.json ({VAR: value}) to f. */
static void env_json_apply(struct project_function *f, const cJSON *vars, const char *shown,
                           bool per_function)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, vars)
	{
		char *val = json_scalar_text(e);
		if (!val) {
			if (!cJSON_IsNull(e))
				project_add_note(
				    f, "%s: %s must be a string, number or boolean: ignored", shown,
				    e->string);
			continue;
		}
		if (!env_override(f, e->string, val) && per_function)
			project_add_note(f,
			                 "%s sets %s, which the function does not declare: ignored "
			                 "(as sam local does; declare it in the template)",
			                 shown, e->string);
		free(val);
	}
}

int project_apply_env_json(struct project *p, const char *path, const char *shown,
                           struct lk_error *err)
{
	struct buf b = {0};
	const char *end = NULL;
	int line, col, rc = 0;
	cJSON *root;

	if (util_read_file(path, &b, err) < 0)
		return -1;
	root = cJSON_ParseWithLengthOpts(b.data ? b.data : "", b.len, &end, false);
	if (!root || !cJSON_IsObject(root)) {
		size_t off = !root && end && b.data ? (size_t)(end - b.data) : 0;
		project_offset_to_linecol(b.data, b.len, off, &line, &col);
		rc = lk_error_set(err, "ParseError", "%s:%d:%d: %s", shown, line, col,
		                  !root ? "invalid JSON"
		                        : "must be an object: {\"Parameters\": {...}, "
		                          "\"FunctionLogicalId\": {...}}");
		goto out;
	}
	const cJSON *e;
	cJSON_ArrayForEach(e, root)
	{
		if (!cJSON_IsObject(e)) {
			json_key_pos(b.data, b.len, e->string, &line, &col);
			rc = lk_error_set(err, "ParseError",
			                  "%s:%d:%d: \"%s\" must be an object of variables", shown,
			                  line, col, e->string);
			goto out;
		}
		if (strcmp(e->string, "Parameters") && !project_find(p, e->string) &&
		    p->n_functions) {
			json_key_pos(b.data, b.len, e->string, &line, &col);
			project_add_note(&p->functions[0],
			                 "%s:%d:%d: \"%s\" is not a function of this project: "
			                 "ignored",
			                 shown, line, col, e->string);
		}
	}
	/* "Parameters" first, for every function; then each function's own section (by
	 * logical id or deployed name). */
	const cJSON *all = cJSON_GetObjectItemCaseSensitive(root, "Parameters");
	for (size_t i = 0; i < p->n_functions; i++) {
		struct project_function *f = &p->functions[i];
		env_json_apply(f, all, shown, false);
		cJSON_ArrayForEach(e, root)
		{
			if (strcmp(e->string, "Parameters") &&
			    (!strcmp(e->string, f->name) ||
			     (f->deployed_name && !strcmp(e->string, f->deployed_name))))
				env_json_apply(f, e, shown, true);
		}
	}
out:
	cJSON_Delete(root);
	buf_free(&b);
	return rc;
}

/* Command-line overrides over lambdeck.json's settings. */
static int apply_options(struct project *p, const struct project_options *o, struct lk_error *err)
{
	if (!o)
		return 0;
	if (o->stage) {
		free(p->stage);
		p->stage = xstrdup(o->stage);
	}
	if (o->region) {
		free(p->opt_region);
		p->opt_region = xstrdup(o->region);
	}
	if (o->env_vars_file) {
		char cwd[PATH_MAX];
		free(p->env_vars_file);
		/* relative to where the command runs, as for sam local --env-vars */
		p->env_vars_file = o->env_vars_file[0] == '/' || !getcwd(cwd, sizeof(cwd))
		                       ? xstrdup(o->env_vars_file)
		                       : util_path_join(cwd, o->env_vars_file);
	}
	if (o->parameter_overrides) {
		struct lk_error perr = {0};
		free(p->parameter_overrides);
		p->parameter_overrides = xstrdup(o->parameter_overrides);
		if (project_parse_parameter_overrides(o->parameter_overrides, &p->params,
		                                      &p->n_params, &perr) < 0)
			return lk_error_set(err, "ParseError", "--parameter-overrides: %s",
			                    perr.message);
	}
	p->skip_deps |= o->skip_deps;
	return 0;
}

void project_options_of(const struct project *p, struct project_options *o)
{
	*o = (struct project_options){
	    .stage = p ? p->stage : NULL,
	    .region = p ? p->opt_region : NULL,
	    .env_vars_file = p ? p->env_vars_file : NULL,
	    .parameter_overrides = p ? p->parameter_overrides : NULL,
	    .skip_deps = p && p->skip_deps,
	};
}

/* After env.json: every variable still holding a stand-in gets its note; a TypeScript handler
 * nothing builds is a problem that says what to add. */
static void final_checks(struct project *p)
{
	for (size_t i = 0; i < p->n_functions; i++) {
		struct project_function *f = &p->functions[i];
		size_t n = f->source_file ? strlen(f->source_file) : 0;
		if (n > 3 && !strcmp(f->source_file + n - 3, ".ts") && !f->build_method &&
		    f->buildable)
			project_add_problem(
			    f,
			    "the handler is TypeScript (%s) and nothing builds it: add "
			    "\"Metadata: BuildMethod: esbuild\" to the function (SAM), the "
			    "serverless-esbuild plugin (serverless.yml), or compile it to .js",
			    strrchr(f->source_file, '/') + 1);
		for (size_t e = 0; e < f->n_env; e++)
			if (f->env[e].standin)
				project_add_note(
				    f,
				    "%s is %s: no local value, using the stand-in '%s' "
				    "(override it with --env-vars)",
				    f->env[e].name, f->env[e].expr ? f->env[e].expr : "?",
				    f->env[e].value ? f->env[e].value : "");
	}
}

/* ---- discovery -------------------------------------------------------------------------- */

int project_load(const char *dir, struct project **out, struct lk_error *err)
{
	return project_load_with(dir, NULL, out, err);
}

/* Reads the functions from lambdeck.json or the first template found; 0, or -1 with err. */
static int load_functions(struct project *p, const char *dir, const struct project_options *o,
                          struct lk_error *err)
{
	static const char *const templates[] = {"template.yaml", "template.yml", NULL};
	static const char *const slsfiles[] = {"serverless.yml", "serverless.yaml", NULL};
	bool has_functions = false;
	int rc = 0;

	char *path = util_path_join(p->dir, "lambdeck.json");
	if (util_is_file(path)) {
		char *shown = project_display_path(dir, "lambdeck.json");
		p->kind = PROJECT_LAMBDECK_JSON;
		p->config_file = xstrdup(path);
		rc = load_lambdeck_json(p, path, shown, &has_functions, err);
		free(shown);
		if (rc == 0)
			rc = apply_options(p, o, err);
		if (rc < 0 || has_functions) {
			free(path);
			return rc;
		}
		/* Settings only: functions come from a template. */
		free(p->config_file);
		p->config_file = NULL;
		p->kind = PROJECT_NONE;
	} else if (apply_options(p, o, err) < 0) {
		free(path);
		return -1;
	}
	free(path);

	for (int pass = 0; pass < 2 && p->kind == PROJECT_NONE; pass++) {
		const char *const *names = pass == 0 ? templates : slsfiles;
		for (size_t i = 0; names[i]; i++) {
			path = util_path_join(p->dir, names[i]);
			if (!util_is_file(path)) {
				free(path);
				continue;
			}
			char *shown = project_display_path(dir, names[i]);
			p->config_file = path;
			p->kind = pass == 0 ? PROJECT_SAM : PROJECT_SERVERLESS;
			rc = pass == 0 ? project_load_sam(p, path, shown, err)
			               : project_load_serverless(p, path, shown, err);
			free(shown);
			break;
		}
	}
	return rc;
}

int project_load_with(const char *dir, const struct project_options *o, struct project **out,
                      struct lk_error *err)
{
	struct project *p = xcalloc(1, sizeof(*p));
	char real[PATH_MAX];
	int rc;

	lk_error_clear(err);
	*out = p;
	if (!dir || !*dir)
		dir = ".";
	if (!realpath(dir, real) || !util_is_dir(real)) {
		p->dir = xstrdup(dir);
		return lk_error_set(err, "NotFound", "%s: %s", dir,
		                    errno ? strerror(errno) : "not a directory");
	}
	p->dir = xstrdup(real);
	rc = load_functions(p, dir, o, err);
	if (rc == 0 && p->env_vars_file) {
		const char *slash = strrchr(p->env_vars_file, '/');
		rc = project_apply_env_json(p, p->env_vars_file,
		                            slash ? slash + 1 : p->env_vars_file, err);
	}
	final_checks(p);
	return rc;
}

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void free_argv(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

void project_free(struct project *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n_functions; i++) {
		struct project_function *f = &p->functions[i];
		free(f->name);
		free(f->runtime);
		free(f->handler);
		free(f->code_dir);
		free(f->source_file);
		for (size_t e = 0; e < f->n_env; e++) {
			free(f->env[e].name);
			free(f->env[e].value);
			free(f->env[e].expr);
		}
		free(f->env);
		free_strv(f->layers, f->n_layers);
		free_strv(f->exclude, f->n_exclude);
		free(f->deployed_name);
		free(f->problem);
		free(f->not_buildable);
		free(f->package_type);
		free(f->handler_symbol);
		free(f->notes);
		free(f->build_method);
		free_strv(f->build_props, f->n_build_props);
	}
	free(p->functions);
	free(p->dir);
	free(p->config_file);
	free_argv(p->test_argv);
	free_argv(p->deploy_argv);
	free(p->mode);
	free(p->profile);
	free(p->region);
	free(p->artifact_bucket);
	free(p->stage);
	free(p->opt_region);
	free(p->env_vars_file);
	free(p->parameter_overrides);
	for (size_t i = 0; i < p->n_params; i++) {
		free(p->params[i].name);
		free(p->params[i].value);
	}
	free(p->params);
	free_strv(p->plugins, p->n_plugins);
	free(p);
}

const struct project_function *project_find(const struct project *p, const char *name)
{
	if (!p || !name)
		return NULL;
	for (size_t i = 0; i < p->n_functions; i++)
		if (!strcmp(p->functions[i].name, name))
			return &p->functions[i];
	/* The deployed name identifies a function too (logs and history carry it). */
	for (size_t i = 0; i < p->n_functions; i++)
		if (p->functions[i].deployed_name && !strcmp(p->functions[i].deployed_name, name))
			return &p->functions[i];
	return NULL;
}
