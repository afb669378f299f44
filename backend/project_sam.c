/* project_sam.c - functions of an AWS SAM / CloudFormation template: AWS::Serverless::Function
 * (with Globals.Function merged) and AWS::Lambda::Function. Intrinsic functions in short
 * (!Ref) or long ({Ref: x}) form are tolerated: !Ref of a parameter with a Default and !Sub
 * over such parameters resolve as `sam local` resolves them; anything else is kept as its
 * expression and reported as unresolved, never guessed. */
#include "backend/project_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum sam_value {
	SV_ABSENT,     /* no node, or null */
	SV_VALUE,      /* *value set */
	SV_UNRESOLVED, /* *expr set */
	SV_BADTYPE,    /* a plain sequence or mapping where a scalar was expected */
};

struct sam {
	yaml_document_t *doc;
	yaml_node_t *params;
	const char *shown;
	const char *tdir; /* the template's directory */
};

static enum sam_value sam_resolve(struct sam *s, yaml_node_t *n, char **value, char **expr,
                                  int depth);

static enum sam_value sam_ref(struct sam *s, const char *name, char **value, char **expr)
{
	yaml_node_t *param = yaml_map_get(s->doc, s->params, name);
	const char *def = yaml_scalar(yaml_map_get(s->doc, param, "Default"));

	if (param && def) {
		*value = xstrdup(def);
		return SV_VALUE;
	}
	*expr = xasprintf("!Ref %s", name);
	return SV_UNRESOLVED;
}

/* !Sub: "${Param}" from parameters with defaults or the variables map; "${!x}" is "${x}". */
static enum sam_value sam_sub(struct sam *s, const char *str, yaml_node_t *vars, char **value,
                              char **expr, int depth)
{
	struct buf b = {0};
	const char *p = str;
	bool ok = true;

	while (*p) {
		const char *open = strstr(p, "${");
		const char *close = open ? strchr(open, '}') : NULL;
		if (!open || !close) {
			buf_puts(&b, p);
			break;
		}
		buf_append(&b, p, (size_t)(open - p));
		char *name = xstrndup(open + 2, (size_t)(close - open - 2));
		if (name[0] == '!') {
			buf_printf(&b, "${%s}", name + 1);
		} else {
			char *v = NULL, *e = NULL;
			yaml_node_t *var = yaml_map_get(s->doc, vars, name);
			enum sam_value r = var ? sam_resolve(s, var, &v, &e, depth + 1)
			                   : strchr(name, '.') ? SV_UNRESOLVED
			                                       : sam_ref(s, name, &v, &e);
			if (r == SV_VALUE)
				buf_puts(&b, v);
			else
				ok = false;
			free(v);
			free(e);
		}
		free(name);
		p = close + 1;
	}
	if (ok) {
		*value = buf_steal(&b);
		return SV_VALUE;
	}
	buf_free(&b);
	*expr = xasprintf("!Sub %s", str);
	return SV_UNRESOLVED;
}

/* Resolves a node that should hold a scalar value. */
static enum sam_value sam_resolve(struct sam *s, yaml_node_t *n, char **value, char **expr,
                                  int depth)
{
	const char *tag = yaml_tag_short(n);
	const char *fn = NULL;
	yaml_node_t *arg = NULL;

	*value = *expr = NULL;
	if (!n || depth > 8)
		return SV_ABSENT;
	if (tag) {
		fn = tag + 1; /* "!Ref" -> "Ref", "!Sub" -> "Sub" */
		arg = n;
	} else if (n->type == YAML_MAPPING_NODE &&
	           n->data.mapping.pairs.top - n->data.mapping.pairs.start == 1) {
		yaml_node_t *k = yaml_document_get_node(s->doc, n->data.mapping.pairs.start->key);
		const char *key =
		    k && k->type == YAML_SCALAR_NODE ? (const char *)k->data.scalar.value : "";
		if (!strcmp(key, "Ref"))
			fn = "Ref";
		else if (!strncmp(key, "Fn::", 4))
			fn = key + 4;
		if (fn)
			arg = yaml_document_get_node(s->doc, n->data.mapping.pairs.start->value);
	}
	if (!fn) {
		if (n->type != YAML_SCALAR_NODE)
			return SV_BADTYPE;
		if (!yaml_scalar(n))
			return SV_ABSENT;
		*value = xstrdup(yaml_scalar(n));
		return SV_VALUE;
	}
	if (arg && arg->type == YAML_SCALAR_NODE && !strcmp(fn, "Ref"))
		return sam_ref(s, (const char *)arg->data.scalar.value, value, expr);
	if (arg && arg->type == YAML_SCALAR_NODE && !strcmp(fn, "Sub"))
		return sam_sub(s, (const char *)arg->data.scalar.value, NULL, value, expr, depth);
	if (arg && arg->type == YAML_SEQUENCE_NODE && !strcmp(fn, "Sub") &&
	    arg->data.sequence.items.top - arg->data.sequence.items.start == 2) {
		yaml_node_t *str =
		    yaml_document_get_node(s->doc, arg->data.sequence.items.start[0]);
		yaml_node_t *vars =
		    yaml_document_get_node(s->doc, arg->data.sequence.items.start[1]);
		if (str && str->type == YAML_SCALAR_NODE)
			return sam_sub(s, (const char *)str->data.scalar.value, vars, value, expr,
			               depth);
	}
	if (tag) {
		*expr = project_yaml_render(s->doc, n);
	} else {
		char *inner = project_yaml_render(s->doc, arg);
		*expr = xasprintf("Fn::%s %s", fn, inner);
		if (!strcmp(fn, "Ref"))
			memmove(*expr, *expr + 4, strlen(*expr + 4) + 1);
		free(inner);
	}
	return SV_UNRESOLVED;
}

static int line_of(yaml_node_t *n)
{
	return n ? (int)n->start_mark.line + 1 : 0;
}

static int col_of(yaml_node_t *n)
{
	return n ? (int)n->start_mark.column + 1 : 0;
}

/* A property of the function, or of Globals.Function when the function lacks it. */
static yaml_node_t *prop(struct sam *s, yaml_node_t *props, yaml_node_t *globals, const char *key)
{
	yaml_node_t *n = yaml_map_get(s->doc, props, key);

	return n ? n : yaml_map_get(s->doc, globals, key);
}

/* A string property into *out (NULL when absent); problems and notes recorded on f. */
static void string_prop(struct sam *s, struct project_function *f, yaml_node_t *n, const char *key,
                        char **out, bool required)
{
	char *value = NULL, *expr = NULL;

	switch (sam_resolve(s, n, &value, &expr, 0)) {
	case SV_VALUE:
		*out = value;
		return;
	case SV_UNRESOLVED:
		if (required)
			project_add_problem(f, "%s is %s: cannot be resolved locally", key, expr);
		else
			project_add_note(f, "%s is %s: cannot be resolved locally", key, expr);
		break;
	case SV_BADTYPE:
		project_add_problem(f, "%s:%d:%d: %s must be a string", s->shown, line_of(n),
		                    col_of(n), key);
		break;
	case SV_ABSENT:
		break;
	}
	free(value);
	free(expr);
}

static void int_prop(struct sam *s, struct project_function *f, yaml_node_t *n, const char *key,
                     int *out)
{
	char *value = NULL, *expr = NULL, *end;
	long v;

	switch (sam_resolve(s, n, &value, &expr, 0)) {
	case SV_VALUE:
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
	case SV_UNRESOLVED:
		project_add_note(f, "%s is %s: cannot be resolved locally; using %d", key, expr,
		                 *out);
		break;
	case SV_BADTYPE:
		project_add_problem(f, "%s:%d:%d: %s must be a number", s->shown, line_of(n),
		                    col_of(n), key);
		break;
	case SV_ABSENT:
		break;
	}
	free(value);
	free(expr);
}

static void env_vars(struct sam *s, struct project_function *f, yaml_node_t *environment)
{
	yaml_node_t *vars = yaml_map_get(s->doc, environment, "Variables");

	if (!vars)
		return;
	if (vars->type != YAML_MAPPING_NODE) {
		project_add_problem(f, "%s:%d:%d: Environment.Variables must be a mapping",
		                    s->shown, line_of(vars), col_of(vars));
		return;
	}
	for (yaml_node_pair_t *pr = vars->data.mapping.pairs.start;
	     pr < vars->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = yaml_document_get_node(s->doc, pr->key);
		yaml_node_t *v = yaml_document_get_node(s->doc, pr->value);
		char *value = NULL, *expr = NULL;
		if (!k || k->type != YAML_SCALAR_NODE)
			continue;
		enum sam_value r = sam_resolve(s, v, &value, &expr, 0);
		if (r == SV_BADTYPE)
			project_add_problem(f, "%s:%d:%d: environment variable %s must be a string",
			                    s->shown, line_of(v), col_of(v),
			                    (const char *)k->data.scalar.value);
		else
			project_set_env(f, (const char *)k->data.scalar.value,
			                r == SV_ABSENT ? "" : value, expr);
		free(value);
		free(expr);
	}
}

static void layers(struct sam *s, struct project_function *f, yaml_node_t *list)
{
	if (!list)
		return;
	if (list->type != YAML_SEQUENCE_NODE) {
		project_add_problem(f, "%s:%d:%d: Layers must be a list", s->shown, line_of(list),
		                    col_of(list));
		return;
	}
	for (yaml_node_item_t *it = list->data.sequence.items.start;
	     it < list->data.sequence.items.top; it++) {
		char *value = NULL, *expr = NULL;
		if (sam_resolve(s, yaml_document_get_node(s->doc, *it), &value, &expr, 0) !=
		    SV_ABSENT)
			project_add_layer(f, value ? value : expr);
		free(value);
		free(expr);
	}
}

static void not_buildable(struct project_function *f, const char *why)
{
	f->buildable = false;
	if (!f->not_buildable)
		f->not_buildable = xstrdup(why);
}

/* A local code path relative to the template; archives and S3 URIs are not buildable. */
static void code_path(struct sam *s, struct project_function *f, const char *path)
{
	if (!strncmp(path, "s3://", 5)) {
		not_buildable(f, "code is in S3");
		return;
	}
	char *joined = path[0] == '/' ? xstrdup(path) : util_path_join(s->tdir, path);
	f->code_dir = project_normalize_path(joined);
	free(joined);
	if (util_is_file(f->code_dir)) {
		not_buildable(f, "code is a prebuilt archive");
		free(f->code_dir);
		f->code_dir = NULL;
	}
}

static void image_function(struct sam *s, struct project_function *f, yaml_node_t *metadata)
{
	const char *ctx = yaml_scalar(yaml_map_get(s->doc, metadata, "DockerContext"));

	free(f->package_type);
	f->package_type = xstrdup("Image");
	not_buildable(f, "PackageType Image");
	if (ctx)
		code_path(s, f, ctx);
}

static void serverless_function(struct sam *s, struct project_function *f, yaml_node_t *props,
                                yaml_node_t *globals, yaml_node_t *res)
{
	char *package = NULL;

	string_prop(s, f, prop(s, props, globals, "PackageType"), "PackageType", &package, false);
	if (package && !strcmp(package, "Image")) {
		image_function(s, f, yaml_map_get(s->doc, res, "Metadata"));
	} else if (yaml_map_get(s->doc, props, "InlineCode")) {
		not_buildable(f, "inline code (InlineCode)");
	} else {
		yaml_node_t *uri = prop(s, props, globals, "CodeUri");
		char *value = NULL, *expr = NULL;
		switch (sam_resolve(s, uri, &value, &expr, 0)) {
		case SV_VALUE:
			code_path(s, f, value);
			break;
		case SV_ABSENT:
			code_path(s, f, ".");
			break;
		case SV_UNRESOLVED:
			project_add_problem(f, "CodeUri is %s: cannot be resolved locally", expr);
			not_buildable(f, "CodeUri cannot be resolved locally");
			break;
		case SV_BADTYPE:
			/* {Bucket, Key, Version}: an S3 location. */
			not_buildable(f, "code is in S3");
			break;
		}
		free(value);
		free(expr);
	}
	free(package);
	bool zip = !strcmp(f->package_type, "Zip");
	string_prop(s, f, prop(s, props, globals, "Runtime"), "Runtime", &f->runtime, zip);
	string_prop(s, f, prop(s, props, globals, "Handler"), "Handler", &f->handler, zip);
	int_prop(s, f, prop(s, props, globals, "Timeout"), "Timeout", &f->timeout);
	int_prop(s, f, prop(s, props, globals, "MemorySize"), "MemorySize", &f->memory);
	/* Globals merge: maps are merged (function wins), lists are appended. */
	env_vars(s, f, yaml_map_get(s->doc, globals, "Environment"));
	env_vars(s, f, yaml_map_get(s->doc, props, "Environment"));
	layers(s, f, yaml_map_get(s->doc, globals, "Layers"));
	layers(s, f, yaml_map_get(s->doc, props, "Layers"));
}

static void lambda_function(struct sam *s, struct project_function *f, yaml_node_t *props)
{
	yaml_node_t *code = yaml_map_get(s->doc, props, "Code");
	char *package = NULL, *value = NULL, *expr = NULL;

	string_prop(s, f, yaml_map_get(s->doc, props, "PackageType"), "PackageType", &package,
	            false);
	if ((package && !strcmp(package, "Image")) || yaml_map_get(s->doc, code, "ImageUri")) {
		image_function(s, f, NULL);
	} else if (!code) {
		project_add_problem(f, "Code is missing");
		not_buildable(f, "no code");
	} else if (yaml_map_get(s->doc, code, "ZipFile")) {
		not_buildable(f, "inline code (ZipFile)");
	} else if (sam_resolve(s, code, &value, &expr, 0) == SV_VALUE) {
		code_path(s, f, value); /* local path, as `aws cloudformation package` takes */
	} else if (expr) {
		project_add_problem(f, "Code is %s: cannot be resolved locally", expr);
		not_buildable(f, "Code cannot be resolved locally");
	} else {
		not_buildable(f, "code is in S3");
	}
	free(value);
	free(expr);
	free(package);
	bool zip = !strcmp(f->package_type, "Zip");
	string_prop(s, f, yaml_map_get(s->doc, props, "Runtime"), "Runtime", &f->runtime, zip);
	string_prop(s, f, yaml_map_get(s->doc, props, "Handler"), "Handler", &f->handler, zip);
	int_prop(s, f, yaml_map_get(s->doc, props, "Timeout"), "Timeout", &f->timeout);
	int_prop(s, f, yaml_map_get(s->doc, props, "MemorySize"), "MemorySize", &f->memory);
	env_vars(s, f, yaml_map_get(s->doc, props, "Environment"));
	layers(s, f, yaml_map_get(s->doc, props, "Layers"));
}

static int must_be_map(struct sam *s, yaml_node_t *n, const char *what, struct lk_error *err)
{
	if (!n || n->type == YAML_MAPPING_NODE ||
	    (n->type == YAML_SCALAR_NODE && !yaml_tag_short(n) && !yaml_scalar(n)))
		return 0;
	return lk_error_set(err, "ParseError", "%s:%d:%d: %s must be a mapping", s->shown,
	                    line_of(n), col_of(n), what);
}

int project_load_sam(struct project *p, const char *path, const char *shown, struct lk_error *err)
{
	yaml_document_t doc;
	yaml_node_t *root, *resources, *globals;
	struct sam s = {.doc = &doc, .shown = shown};
	int rc = 0;

	if (project_yaml_load(path, shown, &doc, err) < 0)
		return -1;
	char *tdir = xstrdup(path);
	*strrchr(tdir, '/') = '\0';
	s.tdir = tdir;
	root = yaml_document_get_root_node(&doc);
	if (!root)
		goto out; /* empty file: no functions */
	if (root->type != YAML_MAPPING_NODE) {
		rc = lk_error_set(err, "ParseError", "%s:%d:%d: the top level must be a mapping",
		                  shown, line_of(root), col_of(root));
		goto out;
	}
	resources = yaml_map_get(&doc, root, "Resources");
	s.params = yaml_map_get(&doc, root, "Parameters");
	globals = yaml_map_get(&doc, yaml_map_get(&doc, root, "Globals"), "Function");
	if (must_be_map(&s, resources, "Resources", err) < 0 ||
	    must_be_map(&s, yaml_map_get(&doc, root, "Globals"), "Globals", err) < 0 ||
	    must_be_map(&s, globals, "Globals.Function", err) < 0 ||
	    must_be_map(&s, s.params, "Parameters", err) < 0) {
		rc = -1;
		goto out;
	}
	if (!resources || resources->type != YAML_MAPPING_NODE)
		goto out;
	for (yaml_node_pair_t *pr = resources->data.mapping.pairs.start;
	     pr < resources->data.mapping.pairs.top; pr++) {
		yaml_node_t *key = yaml_document_get_node(&doc, pr->key);
		yaml_node_t *res = yaml_document_get_node(&doc, pr->value);
		const char *type = yaml_scalar(yaml_map_get(&doc, res, "Type"));
		bool sam_fn = type && !strcmp(type, "AWS::Serverless::Function");
		bool cfn_fn = type && !strcmp(type, "AWS::Lambda::Function");
		if (!key || key->type != YAML_SCALAR_NODE || !(sam_fn || cfn_fn))
			continue;
		struct project_function *f =
		    project_add_function(p, (const char *)key->data.scalar.value);
		f->config_line = line_of(key);
		yaml_node_t *props = yaml_map_get(&doc, res, "Properties");
		bool props_bad = props && props->type != YAML_MAPPING_NODE;
		if (props_bad) {
			project_add_problem(f, "%s:%d:%d: Properties must be a mapping", shown,
			                    line_of(props), col_of(props));
			props = NULL;
		}
		if (sam_fn)
			serverless_function(&s, f, props, globals, res);
		else
			lambda_function(&s, f, props);
		/* FunctionName: the deployed name when literal; otherwise CloudFormation
		 * generates it and deploy resolves it through the stack's tags. */
		string_prop(&s, f, yaml_map_get(&doc, props, "FunctionName"), "FunctionName",
		            &f->deployed_name, false);
		if (!strcmp(f->package_type, "Zip") && !props_bad) {
			if (!f->runtime && !(f->problem && strstr(f->problem, "Runtime")))
				project_add_problem(f, "Runtime is missing");
			if (!f->handler && !(f->problem && strstr(f->problem, "Handler")) &&
			    !(f->runtime && !strncmp(f->runtime, "provided", 8)))
				project_add_problem(f, "Handler is missing");
		}
		project_resolve_function(f);
	}
out:
	free(tdir);
	yaml_document_delete(&doc);
	return rc;
}
