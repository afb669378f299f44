/* project_sls.c - functions of a Serverless Framework serverless.yml: `functions:` with
 * handler, runtime from the function or the provider, and the deployed name
 * <service>-<stage>-<function>. Variables resolve where that needs nothing remote:
 * ${self:path}, ${sls:stage}, ${env:NAME}, ${opt:...} (no options: its fallback), and any
 * source's fallback value ("${ssm:/x, 'dflt'}"); everything else stays unresolved. */
#include "backend/project_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sls {
	yaml_document_t *doc;
	yaml_node_t *root;
	const char *shown;
	char *stage; /* resolved provider.stage, "dev" by default */
};

static bool sls_string(struct sls *s, const char *text, char **out, int depth);

static int line_of(yaml_node_t *n)
{
	return n ? (int)n->start_mark.line + 1 : 0;
}

static int col_of(yaml_node_t *n)
{
	return n ? (int)n->start_mark.column + 1 : 0;
}

static char *trim_quotes(const char *s, size_t n)
{
	while (n && (*s == ' ' || *s == '\t'))
		s++, n--;
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n >= 2 && (s[0] == '\'' || s[0] == '"') && s[n - 1] == s[0])
		return xstrndup(s + 1, n - 2);
	return xstrndup(s, n);
}

/* Looks up "a.b.c" from the document root. */
static yaml_node_t *self_path(struct sls *s, const char *path)
{
	yaml_node_t *n = s->root;
	char *copy = xstrdup(path), *save = NULL;

	for (char *part = strtok_r(copy, ".", &save); part && n; part = strtok_r(NULL, ".", &save))
		n = yaml_map_get(s->doc, n, part);
	free(copy);
	return n;
}

/* Resolves the inside of one ${...}: "source[, fallback]". */
static bool sls_variable(struct sls *s, const char *inner, size_t n, char **out, int depth)
{
	size_t comma = n, level = 0;
	bool ok = false;

	for (size_t i = 0; i < n; i++) {
		if (inner[i] == '{')
			level++;
		else if (inner[i] == '}')
			level--;
		else if (inner[i] == ',' && level == 0) {
			comma = i;
			break;
		}
	}
	char *src = trim_quotes(inner, comma);
	if (!strncmp(src, "self:", 5)) {
		yaml_node_t *v = self_path(s, src + 5);
		if (yaml_scalar(v))
			ok = sls_string(s, yaml_scalar(v), out, depth + 1);
	} else if (!strcmp(src, "sls:stage") && s->stage) {
		*out = xstrdup(s->stage);
		ok = true;
	} else if (!strncmp(src, "env:", 4) && getenv(src + 4)) {
		*out = xstrdup(getenv(src + 4));
		ok = true;
	}
	if (!ok && comma < n) {
		char *fb = trim_quotes(inner + comma + 1, n - comma - 1);
		ok = sls_string(s, fb, out, depth + 1);
		free(fb);
	}
	free(src);
	return ok;
}

/* Substitutes every ${...} in text; false when one cannot be resolved locally. */
static bool sls_string(struct sls *s, const char *text, char **out, int depth)
{
	struct buf b = {0};
	const char *p = text;

	*out = NULL;
	if (depth > 10)
		return false;
	while (*p) {
		const char *open = strstr(p, "${");
		if (!open) {
			buf_puts(&b, p);
			break;
		}
		buf_append(&b, p, (size_t)(open - p));
		/* Find the matching brace: fallbacks may nest variables. */
		size_t level = 0;
		const char *q = open + 1;
		for (; *q; q++) {
			if (*q == '{')
				level++;
			else if (*q == '}' && --level == 0)
				break;
		}
		if (!*q) {
			buf_puts(&b, open); /* unterminated: keep it literally */
			break;
		}
		char *v = NULL;
		if (!sls_variable(s, open + 2, (size_t)(q - open - 2), &v, depth)) {
			buf_free(&b);
			return false;
		}
		buf_puts(&b, v);
		free(v);
		p = q + 1;
	}
	*out = buf_steal(&b);
	return true;
}

enum sls_value { SL_ABSENT, SL_VALUE, SL_UNRESOLVED, SL_BADTYPE };

static enum sls_value sls_value(struct sls *s, yaml_node_t *n, char **value, char **expr)
{
	*value = *expr = NULL;
	if (!n)
		return SL_ABSENT;
	if (n->type != YAML_SCALAR_NODE)
		return SL_BADTYPE;
	if (yaml_tag_short(n)) {
		/* CloudFormation tags are allowed in serverless.yml resources, not here. */
		*expr = project_yaml_render(s->doc, n);
		return SL_UNRESOLVED;
	}
	if (!yaml_scalar(n))
		return SL_ABSENT;
	if (sls_string(s, yaml_scalar(n), value, 0))
		return SL_VALUE;
	*expr = xstrdup(yaml_scalar(n));
	return SL_UNRESOLVED;
}

static void string_prop(struct sls *s, struct project_function *f, yaml_node_t *n, const char *key,
                        char **out, bool required)
{
	char *value = NULL, *expr = NULL;

	switch (sls_value(s, n, &value, &expr)) {
	case SL_VALUE:
		*out = value;
		return;
	case SL_UNRESOLVED:
		if (required)
			project_add_problem(f, "%s is %s: cannot be resolved locally", key, expr);
		else
			project_add_note(f, "%s is %s: cannot be resolved locally", key, expr);
		break;
	case SL_BADTYPE:
		project_add_problem(f, "%s:%d:%d: %s must be a string", s->shown, line_of(n),
		                    col_of(n), key);
		break;
	case SL_ABSENT:
		break;
	}
	free(value);
	free(expr);
}

static void int_prop(struct sls *s, struct project_function *f, yaml_node_t *n, const char *key,
                     int *out)
{
	char *value = NULL, *expr = NULL, *end;
	long v;

	switch (sls_value(s, n, &value, &expr)) {
	case SL_VALUE:
		errno = 0;
		v = strtol(value, &end, 10);
		if (errno || *end || end == value || v < 1 || v > 10000000)
			project_add_problem(f,
			                    "%s:%d:%d: %s must be a positive whole number, "
			                    "not '%s'",
			                    s->shown, line_of(n), col_of(n), key, value);
		else
			*out = (int)v;
		break;
	case SL_UNRESOLVED:
		project_add_note(f, "%s is %s: cannot be resolved locally; using %d", key, expr,
		                 *out);
		break;
	case SL_BADTYPE:
		project_add_problem(f, "%s:%d:%d: %s must be a number", s->shown, line_of(n),
		                    col_of(n), key);
		break;
	case SL_ABSENT:
		break;
	}
	free(value);
	free(expr);
}

static void env_map(struct sls *s, struct project_function *f, yaml_node_t *env)
{
	if (!env)
		return;
	if (env->type != YAML_MAPPING_NODE) {
		project_add_problem(f, "%s:%d:%d: environment must be a mapping", s->shown,
		                    line_of(env), col_of(env));
		return;
	}
	for (yaml_node_pair_t *pr = env->data.mapping.pairs.start; pr < env->data.mapping.pairs.top;
	     pr++) {
		yaml_node_t *k = yaml_document_get_node(s->doc, pr->key);
		yaml_node_t *v = yaml_document_get_node(s->doc, pr->value);
		char *value = NULL, *expr = NULL;
		if (!k || k->type != YAML_SCALAR_NODE)
			continue;
		enum sls_value r = sls_value(s, v, &value, &expr);
		if (r == SL_BADTYPE)
			project_add_problem(f, "%s:%d:%d: environment variable %s must be a string",
			                    s->shown, line_of(v), col_of(v),
			                    (const char *)k->data.scalar.value);
		else
			project_set_env(f, (const char *)k->data.scalar.value,
			                r == SL_ABSENT ? "" : value, expr);
		free(value);
		free(expr);
	}
}

static void layer_list(struct sls *s, struct project_function *f, yaml_node_t *list)
{
	if (!list)
		return;
	if (list->type != YAML_SEQUENCE_NODE) {
		project_add_problem(f, "%s:%d:%d: layers must be a list", s->shown, line_of(list),
		                    col_of(list));
		return;
	}
	for (yaml_node_item_t *it = list->data.sequence.items.start;
	     it < list->data.sequence.items.top; it++) {
		yaml_node_t *n = yaml_document_get_node(s->doc, *it);
		char *value = NULL, *expr = NULL;
		if (sls_value(s, n, &value, &expr) == SL_BADTYPE)
			expr = project_yaml_render(s->doc, n); /* {Ref: MyLayer} */
		if (value || expr)
			project_add_layer(f, value ? value : expr);
		free(value);
		free(expr);
	}
}

static void one_function(struct sls *s, struct project *p, yaml_node_t *key, yaml_node_t *def,
                         yaml_node_t *provider, const char *service, const char *sdir)
{
	struct project_function *f = project_add_function(p, (const char *)key->data.scalar.value);

	f->config_line = line_of(key);
	f->timeout = 6; /* the Serverless Framework's defaults */
	f->memory = 1024;
	if (def && def->type != YAML_MAPPING_NODE) {
		project_add_problem(f, "%s:%d:%d: a function must be a mapping", s->shown,
		                    line_of(def), col_of(def));
		def = NULL;
	}
	if (yaml_map_get(s->doc, def, "image")) {
		free(f->package_type);
		f->package_type = xstrdup("Image");
		f->buildable = false;
		f->not_buildable = xstrdup("PackageType Image");
	}
	bool zip = f->buildable;
	yaml_node_t *rt = yaml_map_get(s->doc, def, "runtime");
	string_prop(s, f, rt ? rt : yaml_map_get(s->doc, provider, "runtime"), "runtime",
	            &f->runtime, zip);
	string_prop(s, f, yaml_map_get(s->doc, def, "handler"), "handler", &f->handler, zip);
	if (zip && !f->runtime && !f->problem)
		project_add_problem(f,
		                    "no runtime: set provider.runtime or the function's runtime");
	if (zip && !f->handler && !yaml_map_get(s->doc, def, "handler"))
		project_add_problem(f, "handler is missing");
	int_prop(s, f, yaml_map_get(s->doc, provider, "timeout"), "timeout", &f->timeout);
	int_prop(s, f, yaml_map_get(s->doc, def, "timeout"), "timeout", &f->timeout);
	int_prop(s, f, yaml_map_get(s->doc, provider, "memorySize"), "memorySize", &f->memory);
	int_prop(s, f, yaml_map_get(s->doc, def, "memorySize"), "memorySize", &f->memory);
	env_map(s, f, yaml_map_get(s->doc, provider, "environment"));
	env_map(s, f, yaml_map_get(s->doc, def, "environment"));
	/* Function layers replace the provider's (the framework does not merge them). */
	yaml_node_t *lay = yaml_map_get(s->doc, def, "layers");
	layer_list(s, f, lay ? lay : yaml_map_get(s->doc, provider, "layers"));
	string_prop(s, f, yaml_map_get(s->doc, def, "name"), "name", &f->deployed_name, false);
	if (!f->deployed_name && service && s->stage)
		f->deployed_name = xasprintf("%s-%s-%s", service, s->stage, f->name);
	else if (!f->deployed_name)
		project_add_note(f, "deployed name unknown: service or stage cannot be resolved "
		                    "locally");
	f->code_dir = xstrdup(sdir);
	project_resolve_function(f);
}

static int must_be(struct sls *s, yaml_node_t *n, const char *what, bool seq_ok,
                   struct lk_error *err)
{
	if (!n || n->type == YAML_MAPPING_NODE || (seq_ok && n->type == YAML_SEQUENCE_NODE) ||
	    (n->type == YAML_SCALAR_NODE && !yaml_tag_short(n) && !yaml_scalar(n)))
		return 0;
	return lk_error_set(err, "ParseError", "%s:%d:%d: %s must be a mapping", s->shown,
	                    line_of(n), col_of(n), what);
}

int project_load_serverless(struct project *p, const char *path, const char *shown,
                            struct lk_error *err)
{
	yaml_document_t doc;
	struct sls s = {.doc = &doc, .shown = shown};
	char *service = NULL, *expr = NULL;
	int rc = 0;

	if (project_yaml_load(path, shown, &doc, err) < 0)
		return -1;
	char *sdir = xstrdup(path);
	*strrchr(sdir, '/') = '\0';
	s.root = yaml_document_get_root_node(&doc);
	if (!s.root)
		goto out;
	if (s.root->type != YAML_MAPPING_NODE) {
		rc = lk_error_set(err, "ParseError", "%s:%d:%d: the top level must be a mapping",
		                  shown, line_of(s.root), col_of(s.root));
		goto out;
	}
	yaml_node_t *provider = yaml_map_get(&doc, s.root, "provider");
	yaml_node_t *functions = yaml_map_get(&doc, s.root, "functions");
	if (must_be(&s, provider, "provider", false, err) < 0 ||
	    must_be(&s, functions, "functions", true, err) < 0) {
		rc = -1;
		goto out;
	}
	yaml_node_t *svc = yaml_map_get(&doc, s.root, "service");
	if (svc && svc->type == YAML_MAPPING_NODE)
		svc = yaml_map_get(&doc, svc, "name"); /* the older `service: {name: x}` form */
	char *stage = NULL;
	yaml_node_t *stage_node = yaml_map_get(&doc, provider, "stage");
	if (sls_value(&s, stage_node, &stage, &expr) == SL_ABSENT)
		stage = xstrdup("dev");
	free(expr);
	s.stage = stage;
	sls_value(&s, svc, &service, &expr);
	free(expr);

	if (!functions || functions->type == YAML_SCALAR_NODE)
		goto out;
	if (functions->type == YAML_MAPPING_NODE) {
		for (yaml_node_pair_t *pr = functions->data.mapping.pairs.start;
		     pr < functions->data.mapping.pairs.top; pr++) {
			yaml_node_t *k = yaml_document_get_node(&doc, pr->key);
			if (k && k->type == YAML_SCALAR_NODE)
				one_function(&s, p, k, yaml_document_get_node(&doc, pr->value),
				             provider, service, sdir);
		}
	} else {
		/* functions: [ {a: {...}}, {b: {...}} ] (as merged from several files) */
		for (yaml_node_item_t *it = functions->data.sequence.items.start;
		     it < functions->data.sequence.items.top; it++) {
			yaml_node_t *m = yaml_document_get_node(&doc, *it);
			if (!m || m->type != YAML_MAPPING_NODE)
				continue;
			for (yaml_node_pair_t *pr = m->data.mapping.pairs.start;
			     pr < m->data.mapping.pairs.top; pr++) {
				yaml_node_t *k = yaml_document_get_node(&doc, pr->key);
				if (k && k->type == YAML_SCALAR_NODE)
					one_function(&s, p, k,
					             yaml_document_get_node(&doc, pr->value),
					             provider, service, sdir);
			}
		}
	}
out:
	free(s.stage);
	free(service);
	free(sdir);
	yaml_document_delete(&doc);
	return rc;
}
