/* project_sam.c - functions of an AWS SAM / CloudFormation template: AWS::Serverless::Function
 * (with Globals.Function merged) and AWS::Lambda::Function. Intrinsic functions in short
 * (!Ref) or long ({Ref: x}) form are tolerated: !Ref of a parameter with a Default and !Sub
 * over such parameters resolve as `sam local` resolves them; anything else is kept as its
 * expression and reported as unresolved, never guessed. */
#include "backend/project_internal.h"

#include <ctype.h>
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
	yaml_node_t *resources;
	yaml_node_t *mappings;
	const char *shown;
	const char *tdir; /* the template's directory */
	const struct project *p;
	const char *region;
	bool standin_ok; /* resolving an environment variable: stand-ins allowed */
	bool standin;    /* a stand-in was used in the last resolution */
};

#define SAM_ACCOUNT_ID "123456789012"

static enum sam_value sam_resolve(struct sam *s, yaml_node_t *n, char **value, char **expr,
                                  int depth);
static enum sam_value sam_other(struct sam *s, const char *fn, yaml_node_t *arg, char **value,
                                int depth);

/* What a stand-in looks like for a resource of type: Ref gives a name for most resources, a
 * URL for a queue, an ARN for a topic; GetAtt X.Arn gives an ARN in the service's format. */
char *project_standin_value(const char *logical, const char *type, const char *attr,
                            const char *region)
{
	static const struct {
		const char *type, *service, *arn_fmt, *ref; /* arn_fmt: %s region, %s name */
	} kinds[] = {
	    {"AWS::DynamoDB::Table", "dynamodb", "table/", NULL},
	    {"AWS::SQS::Queue", "sqs", "", "url"},
	    {"AWS::SNS::Topic", "sns", "", "arn"},
	    {"AWS::S3::Bucket", "s3", NULL, NULL},
	    {"AWS::Serverless::Function", "lambda", "function:", NULL},
	    {"AWS::Lambda::Function", "lambda", "function:", NULL},
	    {"AWS::Serverless::StateMachine", "states", "stateMachine:", "arn"},
	    {"AWS::StepFunctions::StateMachine", "states", "stateMachine:", "arn"},
	    {"AWS::Events::EventBus", "events", "event-bus/", NULL},
	    {"AWS::Kinesis::Stream", "kinesis", "stream/", NULL},
	    {"AWS::SecretsManager::Secret", "secretsmanager", "secret:", "arn"},
	    {"AWS::IAM::Role", "iam", "role/", NULL},
	};
	const char *service = NULL, *arn_fmt = "", *ref = NULL;

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (type && !strcmp(type, kinds[i].type)) {
			service = kinds[i].service;
			arn_fmt = kinds[i].arn_fmt;
			ref = kinds[i].ref;
		}
	char *guessed = NULL;
	if (!service && type && !strncmp(type, "AWS::", 5)) {
		/* AWS::Service::Kind -> "service" */
		const char *a = type + 5, *b = strstr(a, "::");
		guessed = xstrndup(a, b ? (size_t)(b - a) : strlen(a));
		for (char *c = guessed; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		service = guessed;
	}
	bool want_arn = attr ? !strcmp(attr, "Arn") : ref && !strcmp(ref, "arn");
	char *out = NULL;
	if (service && !strcmp(service, "s3") && want_arn)
		out = xasprintf("arn:aws:s3:::%s", logical);
	else if (service && !strcmp(service, "iam") && want_arn)
		out = xasprintf("arn:aws:iam::%s:role/%s", SAM_ACCOUNT_ID, logical);
	else if (service && want_arn)
		out = xasprintf("arn:aws:%s:%s:%s:%s%s", service, region, SAM_ACCOUNT_ID,
		                arn_fmt ? arn_fmt : "", logical);
	else if ((!attr && ref && !strcmp(ref, "url")) || (attr && !strcmp(attr, "QueueUrl")))
		out = xasprintf("https://sqs.%s.amazonaws.com/%s/%s", region, SAM_ACCOUNT_ID,
		                logical);
	else if (attr && strcmp(attr, "QueueName") && strcmp(attr, "Name"))
		out = xasprintf("%s.%s", logical, attr);
	else
		out = xstrdup(logical);
	free(guessed);
	return out;
}

/* A parameter override (--parameter-overrides, lambdeck.json; the last one wins). */
static const char *param_override(struct sam *s, const char *name)
{
	const char *v = NULL;

	for (size_t i = 0; s->p && i < s->p->n_params; i++)
		if (!strcmp(s->p->params[i].name, name))
			v = s->p->params[i].value;
	return v;
}

static enum sam_value sam_standin(struct sam *s, char *v, char **value)
{
	s->standin = true;
	*value = v;
	return SV_VALUE;
}

static enum sam_value sam_ref(struct sam *s, const char *name, char **value, char **expr)
{
	yaml_node_t *param = yaml_map_get(s->doc, s->params, name);
	const char *def = yaml_scalar(yaml_map_get(s->doc, param, "Default"));
	const char *over = param_override(s, name);
	yaml_node_t *res = yaml_map_get(s->doc, s->resources, name);

	if (param && (over || def)) { /* overrides of undeclared parameters are ignored */
		*value = xstrdup(over ? over : def);
		return SV_VALUE;
	}
	if (!strncmp(name, "AWS::", 5)) {
		static const char *const fixed[][2] = {
		    {"AWS::Partition", "aws"},
		    {"AWS::URLSuffix", "amazonaws.com"},
		};
		for (size_t i = 0; i < 2; i++)
			if (!strcmp(name, fixed[i][0])) {
				*value = xstrdup(fixed[i][1]);
				return SV_VALUE;
			}
		if (!strcmp(name, "AWS::Region")) {
			*value = xstrdup(s->region);
			return SV_VALUE;
		}
		if (!strcmp(name, "AWS::NoValue"))
			return SV_ABSENT;
		if (s->standin_ok && !strcmp(name, "AWS::AccountId"))
			return sam_standin(s, xstrdup(SAM_ACCOUNT_ID), value);
		if (s->standin_ok && !strcmp(name, "AWS::StackName"))
			return sam_standin(s, xstrdup("local"), value);
		if (s->standin_ok && !strcmp(name, "AWS::StackId"))
			return sam_standin(s,
			                   xasprintf("arn:aws:cloudformation:%s:%s:stack/local/"
			                             "00000000-0000-0000-0000-000000000000",
			                             s->region, SAM_ACCOUNT_ID),
			                   value);
	}
	if (s->standin_ok) {
		const char *type = yaml_scalar(yaml_map_get(s->doc, res, "Type"));
		return sam_standin(
		    s, res ? project_standin_value(name, type, NULL, s->region) : xstrdup(name),
		    value);
	}
	*expr = xasprintf("!Ref %s", name);
	return SV_UNRESOLVED;
}

/* !GetAtt Resource.Attribute: only a stand-in (nothing runs in CloudFormation locally). */
static enum sam_value sam_getatt(struct sam *s, const char *logical, const char *attr, char **value,
                                 char **expr)
{
	if (s->standin_ok) {
		yaml_node_t *res = yaml_map_get(s->doc, s->resources, logical);
		const char *type = yaml_scalar(yaml_map_get(s->doc, res, "Type"));
		return sam_standin(s, project_standin_value(logical, type, attr, s->region), value);
	}
	*expr = xasprintf("!GetAtt %s.%s", logical, attr);
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
			char *dot = strchr(name, '.');
			enum sam_value r = SV_UNRESOLVED;
			if (var) {
				r = sam_resolve(s, var, &v, &e, depth + 1);
			} else if (dot) {
				*dot = '\0';
				r = sam_getatt(s, name, dot + 1, &v, &e);
				*dot = '.';
			} else {
				r = sam_ref(s, name, &v, &e);
			}
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

static yaml_node_t *seq_item(struct sam *s, yaml_node_t *seq, size_t i)
{
	if (!seq || seq->type != YAML_SEQUENCE_NODE ||
	    (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start) <= i)
		return NULL;
	return yaml_document_get_node(s->doc, seq->data.sequence.items.start[i]);
}

static size_t seq_len(yaml_node_t *seq)
{
	return seq && seq->type == YAML_SEQUENCE_NODE
	           ? (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start)
	           : 0;
}

/* GetAtt, Join, Select and FindInMap over values that resolve; SV_UNRESOLVED otherwise. */
static enum sam_value sam_other(struct sam *s, const char *fn, yaml_node_t *arg, char **value,
                                int depth)
{
	char *v = NULL, *e = NULL;
	enum sam_value r = SV_UNRESOLVED;

	if (!strcmp(fn, "GetAtt")) {
		if (arg && arg->type == YAML_SCALAR_NODE &&
		    strchr((char *)arg->data.scalar.value, '.')) {
			char *name = xstrdup((char *)arg->data.scalar.value),
			     *dot = strchr(name, '.');
			*dot = '\0';
			r = sam_getatt(s, name, dot + 1, value, &e);
			free(name);
		} else if (seq_len(arg) == 2 && yaml_scalar(seq_item(s, arg, 0)) &&
		           yaml_scalar(seq_item(s, arg, 1))) {
			r = sam_getatt(s, yaml_scalar(seq_item(s, arg, 0)),
			               yaml_scalar(seq_item(s, arg, 1)), value, &e);
		}
	} else if (!strcmp(fn, "Join") && seq_len(arg) == 2) {
		struct buf b = {0};
		yaml_node_t *list = seq_item(s, arg, 1);
		char *sep = NULL;
		bool ok =
		    sam_resolve(s, seq_item(s, arg, 0), &sep, &e, depth + 1) != SV_UNRESOLVED &&
		    list && list->type == YAML_SEQUENCE_NODE;
		for (size_t i = 0; ok && i < seq_len(list); i++) {
			free(e);
			e = NULL;
			ok = sam_resolve(s, seq_item(s, list, i), &v, &e, depth + 1) == SV_VALUE;
			if (ok)
				buf_printf(&b, "%s%s", i ? (sep ? sep : "") : "", v);
			free(v);
			v = NULL;
		}
		free(sep);
		if (ok) {
			*value = buf_steal(&b);
			r = SV_VALUE;
		} else {
			buf_free(&b);
		}
	} else if (!strcmp(fn, "Select") && seq_len(arg) == 2) {
		yaml_node_t *list = seq_item(s, arg, 1);
		if (sam_resolve(s, seq_item(s, arg, 0), &v, &e, depth + 1) == SV_VALUE) {
			char *end;
			long i = strtol(v, &end, 10);
			if (!*end && i >= 0 && (size_t)i < seq_len(list))
				r = sam_resolve(s, seq_item(s, list, (size_t)i), value, &e,
				                depth + 1);
		}
	} else if (!strcmp(fn, "FindInMap") && seq_len(arg) >= 3) {
		yaml_node_t *n = s->mappings;
		for (size_t i = 0; n && i < 3; i++) {
			free(v);
			v = NULL;
			free(e);
			e = NULL;
			if (sam_resolve(s, seq_item(s, arg, i), &v, &e, depth + 1) != SV_VALUE)
				n = NULL;
			else
				n = yaml_map_get(s->doc, n, v);
		}
		if (n)
			r = sam_resolve(s, n, value, &e, depth + 1);
	} else if (!strcmp(fn, "ImportValue") && s->standin_ok) {
		if (sam_resolve(s, arg, &v, &e, depth + 1) == SV_VALUE)
			r = sam_standin(s, xstrdup(v), value);
	}
	free(v);
	free(e);
	return r == SV_BADTYPE ? SV_UNRESOLVED : r;
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
	enum sam_value r = sam_other(s, fn, arg, value, depth);
	if (r != SV_UNRESOLVED)
		return r;
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
		/* A handler reading os.environ["TABLE"] must find it locally as on AWS: what
		 * has no local value gets a stand-in (see project_standin_value), with a note. */
		s->standin_ok = true;
		s->standin = false;
		enum sam_value r = sam_resolve(s, v, &value, &expr, 0);
		s->standin_ok = false;
		const char *name = (const char *)k->data.scalar.value;
		if (r == SV_BADTYPE) {
			project_add_problem(f, "%s:%d:%d: environment variable %s must be a string",
			                    s->shown, line_of(v), col_of(v), name);
		} else if (r == SV_ABSENT && yaml_tag_short(v)) {
			continue; /* !Ref AWS::NoValue: not set */
		} else if (r == SV_UNRESOLVED || s->standin) {
			char *shown = expr, *plain = NULL;
			if (!shown) /* the expression as written, from a resolution without
			               stand-ins */
				sam_resolve(s, v, &plain, &shown, 0);
			free(plain);
			if (!shown)
				shown = project_yaml_render(s->doc, v);
			expr = NULL;
			struct project_env *e = project_set_env(f, name, value ? value : "", shown);
			e->standin = r != SV_UNRESOLVED;
			if (r == SV_UNRESOLVED)
				project_add_note(
				    f,
				    "%s:%d:%d: %s is %s: not understood locally, using '' "
				    "(override it with --env-vars)",
				    s->shown, line_of(v), col_of(v), name, shown);
			free(shown);
		} else {
			project_set_env(f, name, r == SV_ABSENT ? "" : value, NULL);
		}
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

/* Metadata: BuildMethod esbuild (BuildProperties kept as "Key=value" strings) or makefile;
 * another BuildMethod than the runtime's own is a note: the code is zipped as it is. */
static void build_metadata(struct sam *s, struct project_function *f, yaml_node_t *meta)
{
	yaml_node_t *bm = yaml_map_get(s->doc, meta, "BuildMethod");
	const char *method = yaml_scalar(bm);
	yaml_node_t *props = yaml_map_get(s->doc, meta, "BuildProperties");

	if (!method || !f->buildable)
		return;
	if (strcmp(method, "esbuild") && strcmp(method, "makefile")) {
		if (!f->runtime || strcmp(method, f->runtime))
			project_add_note(
			    f,
			    "%s:%d:%d: BuildMethod %s is not supported by lambdeck: the "
			    "code directory is packaged as it is",
			    s->shown, line_of(bm), col_of(bm), method);
		return;
	}
	f->build_method = xstrdup(method);
	if (!props)
		return;
	if (props->type != YAML_MAPPING_NODE) {
		project_add_problem(f, "%s:%d:%d: BuildProperties must be a mapping", s->shown,
		                    line_of(props), col_of(props));
		return;
	}
	for (yaml_node_pair_t *pr = props->data.mapping.pairs.start;
	     pr < props->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = yaml_document_get_node(s->doc, pr->key);
		yaml_node_t *v = yaml_document_get_node(s->doc, pr->value);
		const char *key = yaml_scalar(k);
		size_t n = v && v->type == YAML_SEQUENCE_NODE ? seq_len(v) : 1;
		if (!key)
			continue;
		for (size_t i = 0; i < n; i++) {
			yaml_node_t *item =
			    v && v->type == YAML_SEQUENCE_NODE ? seq_item(s, v, i) : v;
			const char *val = yaml_scalar(item);
			if (!val) {
				project_add_note(f,
				                 "%s:%d:%d: BuildProperties %s is not understood: "
				                 "ignored",
				                 s->shown, line_of(item), col_of(item), key);
				continue;
			}
			f->build_props = xrealloc(f->build_props,
			                          (f->n_build_props + 1) * sizeof(*f->build_props));
			f->build_props[f->n_build_props++] = xasprintf("%s=%s", key, val);
		}
	}
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
	s.resources = resources;
	s.mappings = yaml_map_get(&doc, root, "Mappings");
	s.p = p;
	s.region = p->opt_region                  ? p->opt_region
	           : getenv("AWS_REGION")         ? getenv("AWS_REGION")
	           : getenv("AWS_DEFAULT_REGION") ? getenv("AWS_DEFAULT_REGION")
	                                          : "us-east-1";
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
		build_metadata(&s, f, yaml_map_get(&doc, res, "Metadata"));
		if (!strcmp(f->package_type, "Zip") && !props_bad) {
			if (!f->runtime && !(f->problem && strstr(f->problem, "Runtime")))
				project_add_problem(f, "Runtime is missing");
			if (!f->handler && !(f->problem && strstr(f->problem, "Handler")) &&
			    !(f->runtime && !strncmp(f->runtime, "provided", 8)))
				project_add_problem(f, "Handler is missing");
		}
		yaml_node_t *cond = yaml_map_get(&doc, res, "Condition");
		if (yaml_scalar(cond))
			project_add_note(
			    f,
			    "%s:%d:%d: Condition %s is not evaluated locally: the function "
			    "is listed whatever it says",
			    shown, line_of(cond), col_of(cond), yaml_scalar(cond));
		project_resolve_function(f);
	}
	/* AWS::LanguageExtensions generates resources lambdeck does not expand: say so */
	for (yaml_node_pair_t *pr = resources->data.mapping.pairs.start;
	     pr < resources->data.mapping.pairs.top; pr++) {
		const char *key = yaml_scalar(yaml_document_get_node(&doc, pr->key));
		yaml_node_t *k = yaml_document_get_node(&doc, pr->key);
		for (size_t i = 0; key && !strncmp(key, "Fn::ForEach::", 13) && i < p->n_functions;
		     i++)
			project_add_note(
			    &p->functions[i],
			    "%s:%d:%d: %s (AWS::LanguageExtensions) is not expanded: the "
			    "functions it generates are not listed",
			    shown, line_of(k), col_of(k), key);
	}
out:
	free(tdir);
	yaml_document_delete(&doc);
	return rc;
}
