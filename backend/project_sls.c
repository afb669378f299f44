/* project_sls.c - functions of a Serverless Framework serverless.yml: `functions:` with
 * handler, runtime from the function or the provider, and the deployed name
 * <service>-<stage>-<function>. Variables resolve where that needs nothing remote:
 * ${self:path}, ${sls:stage}, ${env:NAME}, ${opt:...} (no options: its fallback), and any
 * source's fallback value ("${ssm:/x, 'dflt'}"); everything else stays unresolved. */
#include "backend/project_internal.h"
#include "backend/vars.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sls {
	yaml_document_t *doc;
	yaml_node_t *root;
	const char *shown;
	struct vars_ctx vars;
	char *stage;  /* resolved ${sls:stage}: --stage, provider.stage, or "dev" */
	char *region; /* resolved ${aws:region} */
	struct project *p;
};

static int line_of(yaml_node_t *n)
{
	return n ? (int)n->start_mark.line + 1 : 0;
}

static int col_of(yaml_node_t *n)
{
	return n ? (int)n->start_mark.column + 1 : 0;
}

/* Looks up "a.b.c" from the document root (numeric parts index lists). */
static yaml_node_t *self_path(struct sls *s, const char *path)
{
	yaml_node_t *n = s->root;
	char *copy = xstrdup(path), *save = NULL;

	for (char *part = strtok_r(copy, ".", &save); part && n;
	     part = strtok_r(NULL, ".", &save)) {
		char *end;
		long i = strtol(part, &end, 10);
		if (n->type == YAML_SEQUENCE_NODE && !*end && i >= 0 &&
		    i < n->data.sequence.items.top - n->data.sequence.items.start)
			n = yaml_document_get_node(s->doc, n->data.sequence.items.start[i]);
		else
			n = yaml_map_get(s->doc, n, part);
	}
	free(copy);
	return n;
}

/* vars.h callback: the raw text at a self: path. */
static const char *sls_self_value(void *user, const char *path)
{
	struct sls *s = user;

	return yaml_scalar(self_path(s, path));
}

/* A node whose scalar is exactly ${self:x} stands for the node at x ("environment:
 * ${self:custom.env}"), followed up to a few levels. */
static yaml_node_t *sls_deref(struct sls *s, yaml_node_t *n)
{
	for (int i = 0; i < 4 && yaml_scalar(n); i++) {
		char *path = NULL;
		if (!vars_whole_self(yaml_scalar(n), &path))
			break;
		yaml_node_t *to = self_path(s, path);
		free(path);
		if (!to || to->type == YAML_SCALAR_NODE)
			break;
		n = to;
	}
	return n;
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
	char *why = NULL;
	if (vars_resolve(&s->vars, yaml_scalar(n), value, &why) == 0)
		return SL_VALUE;
	*expr = xasprintf("%s (%s)", yaml_scalar(n), why);
	free(why);
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

/* Ref / Fn::GetAtt of a resource in resources.Resources (short or long form): the stand-in
 * value project_standin_value() documents; NULL for anything else. */
static char *cfn_standin(struct sls *s, yaml_node_t *n)
{
	const char *tag = yaml_tag_short(n), *fn = NULL;
	yaml_node_t *arg = n;
	char *logical = NULL, *attr = NULL, *out = NULL;

	if (tag) {
		fn = tag + 1;
	} else if (n && n->type == YAML_MAPPING_NODE &&
	           n->data.mapping.pairs.top - n->data.mapping.pairs.start == 1) {
		yaml_node_t *k = yaml_document_get_node(s->doc, n->data.mapping.pairs.start->key);
		fn = k && k->type == YAML_SCALAR_NODE ? (const char *)k->data.scalar.value : NULL;
		if (fn && !strncmp(fn, "Fn::", 4))
			fn += 4;
		arg = yaml_document_get_node(s->doc, n->data.mapping.pairs.start->value);
	}
	if (!fn || !arg)
		return NULL;
	if (!strcmp(fn, "Ref") && arg->type == YAML_SCALAR_NODE) {
		logical = xstrdup((const char *)arg->data.scalar.value);
	} else if (!strcmp(fn, "GetAtt") && arg->type == YAML_SCALAR_NODE) {
		logical = xstrdup((const char *)arg->data.scalar.value);
		char *dot = strchr(logical, '.');
		if (dot) {
			*dot = '\0';
			attr = xstrdup(dot + 1);
		}
	} else if (!strcmp(fn, "GetAtt") && arg->type == YAML_SEQUENCE_NODE &&
	           arg->data.sequence.items.top - arg->data.sequence.items.start == 2) {
		logical = xstrdup(
		    yaml_scalar(yaml_document_get_node(s->doc, arg->data.sequence.items.start[0])));
		attr = xstrdup(
		    yaml_scalar(yaml_document_get_node(s->doc, arg->data.sequence.items.start[1])));
	}
	if (logical && (strcmp(fn, "GetAtt") || attr)) {
		yaml_node_t *res = yaml_map_get(
		    s->doc,
		    yaml_map_get(s->doc, yaml_map_get(s->doc, s->root, "resources"), "Resources"),
		    logical);
		out = project_standin_value(logical, yaml_scalar(yaml_map_get(s->doc, res, "Type")),
		                            attr, s->region);
	}
	free(logical);
	free(attr);
	return out;
}

static void env_map(struct sls *s, struct project_function *f, yaml_node_t *env)
{
	env = sls_deref(s, env);
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
		const char *name = (const char *)k->data.scalar.value;
		enum sls_value r = sls_value(s, v, &value, &expr);
		char *standin = r == SL_VALUE || r == SL_ABSENT ? NULL : cfn_standin(s, v);
		if (standin || r == SL_UNRESOLVED) {
			/* no local value: a documented stand-in, never a missing variable */
			char *shown = expr ? xstrdup(expr) : project_yaml_render(s->doc, v);
			struct project_env *e =
			    project_set_env(f, name, standin ? standin : "", shown);
			e->standin = true;
			free(shown);
		} else if (r == SL_BADTYPE) {
			project_add_problem(f, "%s:%d:%d: environment variable %s must be a string",
			                    s->shown, line_of(v), col_of(v), name);
		} else {
			project_set_env(f, name, r == SL_ABSENT ? "" : value, NULL);
		}
		free(standin);
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

/* Plugins lambdeck understands: what they do is done locally too (or does not matter for a
 * local run). The others are named in a note on every function. */
static const char *const known_plugins[] = {
    "serverless-esbuild",             /* bundled with esbuild, as SAM's BuildMethod esbuild */
    "serverless-plugin-typescript",   /* likewise */
    "serverless-python-requirements", /* requirements.txt is installed by every build */
    "serverless-offline",             /* a local emulator itself */
    "serverless-iam-roles-per-function",
    "serverless-prune-plugin",
    "serverless-domain-manager",
    "serverless-deployment-bucket",
    "serverless-plugin-log-retention",
    NULL,
};

static bool plugin_known(const char *name)
{
	for (size_t i = 0; known_plugins[i]; i++)
		if (!strcmp(known_plugins[i], name))
			return true;
	return false;
}

static bool has_plugin(const struct project *p, const char *name)
{
	for (size_t i = 0; i < p->n_plugins; i++)
		if (!strcmp(p->plugins[i], name))
			return true;
	return false;
}

/* plugins: [a, b] or plugins: {modules: [a, b]} (the older form). */
static void read_plugins(struct sls *s, struct project *p)
{
	yaml_node_t *list = yaml_map_get(s->doc, s->root, "plugins");

	if (list && list->type == YAML_MAPPING_NODE)
		list = yaml_map_get(s->doc, list, "modules");
	if (!list || list->type != YAML_SEQUENCE_NODE)
		return;
	for (yaml_node_item_t *it = list->data.sequence.items.start;
	     it < list->data.sequence.items.top; it++) {
		const char *name = yaml_scalar(yaml_document_get_node(s->doc, *it));
		if (!name)
			continue;
		p->plugins = xrealloc(p->plugins, (p->n_plugins + 1) * sizeof(*p->plugins));
		p->plugins[p->n_plugins++] = xstrdup(name);
	}
}

/* Notes for what serverless.yml declares that lambdeck does not do: unknown plugins and
 * serverless-lift constructs. */
static void project_notes_plugins(struct sls *s, struct project *p)
{
	struct buf b = {0};
	yaml_node_t *constructs = yaml_map_get(s->doc, s->root, "constructs");

	for (size_t i = 0; i < p->n_plugins; i++)
		if (!plugin_known(p->plugins[i]))
			buf_printf(&b, "%s%s", b.len ? ", " : "", p->plugins[i]);
	for (size_t i = 0; i < p->n_functions; i++) {
		if (b.len)
			project_add_note(&p->functions[i],
			                 "plugins not run by lambdeck: %s (what they add or change "
			                 "is missing locally)",
			                 b.data);
		if (constructs && constructs->type == YAML_MAPPING_NODE)
			project_add_note(&p->functions[i],
			                 "%s:%d:%d: serverless-lift constructs are not created "
			                 "locally; ${construct:...} variables get stand-ins",
			                 s->shown, line_of(constructs), col_of(constructs));
	}
	buf_free(&b);
}

/* package.patterns (and the older exclude / include) of the service, then the function:
 * "!glob" excludes, "glob" includes again, in order (f->exclude's convention, negated). */
static void package_patterns(struct sls *s, struct project_function *f, yaml_node_t *package)
{
	static const char *const keys[] = {"exclude", "include", "patterns"};

	package = sls_deref(s, package);
	if (package && package->type != YAML_MAPPING_NODE) {
		project_add_note(f, "%s:%d:%d: package must be a mapping: ignored", s->shown,
		                 line_of(package), col_of(package));
		return;
	}
	for (size_t k = 0; k < 3 && package; k++) {
		yaml_node_t *list = yaml_map_get(s->doc, package, keys[k]);
		if (!list)
			continue;
		if (list->type != YAML_SEQUENCE_NODE) {
			project_add_note(f, "%s:%d:%d: package.%s must be a list: ignored",
			                 s->shown, line_of(list), col_of(list), keys[k]);
			continue;
		}
		for (yaml_node_item_t *it = list->data.sequence.items.start;
		     it < list->data.sequence.items.top; it++) {
			char *value = NULL, *expr = NULL;
			yaml_node_t *n = yaml_document_get_node(s->doc, *it);
			if (sls_value(s, n, &value, &expr) != SL_VALUE || !value[0]) {
				free(value);
				free(expr);
				continue;
			}
			const char *g = value;
			bool negated = g[0] == '!';
			if (negated)
				g++;
			/* exclude lists exclude; include lists include; patterns: "!" excludes */
			bool exclude = k == 0 || (k == 2 && negated);
			char *glob = exclude ? xstrdup(g) : xasprintf("!%s", g);
			f->exclude = xrealloc(f->exclude, (f->n_exclude + 1) * sizeof(*f->exclude));
			f->exclude[f->n_exclude++] = glob;
			free(value);
			free(expr);
		}
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
	package_patterns(s, f, yaml_map_get(s->doc, s->root, "package"));
	package_patterns(s, f, yaml_map_get(s->doc, def, "package"));
	f->code_dir = xstrdup(sdir);
	project_resolve_function(f);
	/* TypeScript through a plugin: bundled with esbuild as SAM's BuildMethod esbuild. */
	bool bundler = has_plugin(s->p, "serverless-esbuild") ||
	               has_plugin(s->p, "serverless-plugin-typescript");
	if (f->buildable && f->source_file && bundler && f->runtime &&
	    !strncmp(f->runtime, "nodejs", 6)) {
		/* like the plugin: the handler's file is the entry, its path kept in the bundle */
		f->build_method = xstrdup("esbuild");
		f->build_props = xcalloc(2, sizeof(*f->build_props));
		f->build_props[f->n_build_props++] = xstrdup("Outbase=.");
	}
}

static int must_be(struct sls *s, yaml_node_t *n, const char *what, bool seq_ok,
                   struct lk_error *err)
{
	if (!n || n->type == YAML_MAPPING_NODE || (seq_ok && n->type == YAML_SEQUENCE_NODE) ||
	    (n->type == YAML_SCALAR_NODE && !yaml_tag_short(n) && !yaml_scalar(n)))
		return 0;
	if (yaml_scalar(n) && strstr(yaml_scalar(n), "${file("))
		return lk_error_set(err, "ParseError",
		                    "%s:%d:%d: %s is %s: lambdeck does not read variables from "
		                    "other files; write the %s in %s or list them in lambdeck.json",
		                    s->shown, line_of(n), col_of(n), what, yaml_scalar(n), what,
		                    s->shown);
	return lk_error_set(err, "ParseError", "%s:%d:%d: %s must be a mapping", s->shown,
	                    line_of(n), col_of(n), what);
}

int project_load_serverless(struct project *p, const char *path, const char *shown,
                            struct lk_error *err)
{
	yaml_document_t doc;
	struct sls s = {.doc = &doc, .shown = shown, .p = p};
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
	s.vars = (struct vars_ctx){.self_value = sls_self_value,
	                           .user = &s,
	                           .opt_stage = p->stage,
	                           .opt_region = p->opt_region};
	vars_resolve(&s.vars, "${sls:stage}", &s.stage, NULL); /* NULL: provider.stage unresolved */
	if (vars_resolve(&s.vars, "${aws:region}", &s.region, NULL) < 0)
		s.region = xstrdup("us-east-1");
	sls_value(&s, svc, &service, &expr);
	free(expr);
	read_plugins(&s, p);

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
	project_notes_plugins(&s, p);
out:
	free(s.stage);
	free(s.region);
	free(service);
	free(sdir);
	yaml_document_delete(&doc);
	return rc;
}
