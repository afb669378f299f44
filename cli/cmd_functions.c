/* cmd_functions.c - 'lambdeck functions [--json]': prints the project's functions as
 * discovered (name, runtime, handler, code dir, source file:line, deployed name, problems).
 * Exits 1 with "file:line:col: message" on a malformed config file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "backend/project.h"
#include "cli/commands.h"

/* Path relative to the project directory when inside it. */
static const char *rel(const struct project *p, const char *path)
{
	size_t n = strlen(p->dir);

	if (path && !strncmp(path, p->dir, n) && path[n] == '/')
		return path + n + 1;
	if (path && !strncmp(path, p->dir, n) && !path[n])
		return ".";
	return path;
}

/* Prints "label value" with control characters made visible. */
static void field(const char *label, const char *value)
{
	struct buf b = {0};

	if (!value)
		return;
	util_sanitize(value, strlen(value), false, false, &b);
	printf("  %-11s %s\n", label, b.data ? b.data : "");
	buf_free(&b);
}

static void print_text(const struct project *p)
{
	struct buf b = {0};

	util_sanitize(p->dir, strlen(p->dir), false, false, &b);
	printf("project %s (%s%s%s)\n", b.data, project_kind_name(p->kind),
	       p->config_file ? ": " : "", p->config_file ? rel(p, p->config_file) : "");
	buf_free(&b);
	if (p->n_functions == 0) {
		printf("%s\n", project_empty_hint());
		return;
	}
	for (size_t i = 0; i < p->n_functions; i++) {
		const struct project_function *f = &p->functions[i];
		char *tmp;

		buf_reset(&b);
		util_sanitize(f->name, strlen(f->name), false, false, &b);
		printf("\n%s\n", b.data);
		field("runtime", f->runtime                          ? f->runtime
		                 : !strcmp(f->package_type, "Image") ? "(container image)"
		                                                     : "(unknown)");
		field("handler", f->handler);
		field("code", f->code_dir ? rel(p, f->code_dir) : "(none)");
		if (f->source_file) {
			tmp = f->source_line
			          ? xasprintf("%s:%d", rel(p, f->source_file), f->source_line)
			          : xstrdup(rel(p, f->source_file));
			field("source", tmp);
			free(tmp);
		}
		tmp = xasprintf("%d s, %d MB", f->timeout, f->memory);
		field("limits", tmp);
		free(tmp);
		field("deployed",
		      f->deployed_name ? f->deployed_name : "(resolved at deploy time)");
		if (f->n_env) {
			struct buf env = {0};
			for (size_t e = 0; e < f->n_env; e++) {
				if (f->env[e].value)
					buf_printf(&env, "%s%s=%s", e ? " " : "", f->env[e].name,
					           f->env[e].value);
				else
					buf_printf(&env, "%s%s=<%s: unresolved>", e ? " " : "",
					           f->env[e].name,
					           f->env[e].expr ? f->env[e].expr : "?");
			}
			field("environment", env.data);
			buf_free(&env);
		}
		for (size_t l = 0; l < f->n_layers; l++)
			field("layer", f->layers[l]);
		if (!f->buildable)
			field("not built", f->not_buildable ? f->not_buildable : "yes");
		field("note", f->notes);
		field("problem", f->problem);
	}
	buf_free(&b);
}

static void add_string(cJSON *o, const char *key, const char *value)
{
	if (value)
		cJSON_AddStringToObject(o, key, value);
	else
		cJSON_AddNullToObject(o, key);
}

static void add_argv(cJSON *o, const char *key, char **argv)
{
	if (!argv) {
		cJSON_AddNullToObject(o, key);
		return;
	}
	cJSON *a = cJSON_AddArrayToObject(o, key);
	for (size_t i = 0; argv[i]; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(argv[i]));
}

static void print_json(const struct project *p)
{
	cJSON *root = cJSON_CreateObject();

	add_string(root, "dir", p->dir);
	add_string(root, "kind",
	           p->kind == PROJECT_LAMBDECK_JSON ? "lambdeck.json"
	           : p->kind == PROJECT_SAM         ? "sam"
	           : p->kind == PROJECT_SERVERLESS  ? "serverless"
	                                            : "none");
	add_string(root, "config_file", p->config_file);
	add_argv(root, "test", p->test_argv);
	add_argv(root, "deploy", p->deploy_argv);
	add_string(root, "mode", p->mode);
	cJSON *fns = cJSON_AddArrayToObject(root, "functions");
	for (size_t i = 0; i < p->n_functions; i++) {
		const struct project_function *f = &p->functions[i];
		cJSON *o = cJSON_CreateObject();
		add_string(o, "name", f->name);
		add_string(o, "runtime", f->runtime);
		add_string(o, "handler", f->handler);
		add_string(o, "code_dir", f->code_dir);
		add_string(o, "source_file", f->source_file);
		cJSON_AddNumberToObject(o, "source_line", f->source_line);
		cJSON_AddNumberToObject(o, "config_line", f->config_line);
		cJSON_AddNumberToObject(o, "timeout", f->timeout);
		cJSON_AddNumberToObject(o, "memory", f->memory);
		cJSON *env = cJSON_AddObjectToObject(o, "environment");
		cJSON *unres = cJSON_AddObjectToObject(o, "unresolved_environment");
		for (size_t e = 0; e < f->n_env; e++) {
			if (f->env[e].value)
				cJSON_AddStringToObject(env, f->env[e].name, f->env[e].value);
			else
				cJSON_AddStringToObject(unres, f->env[e].name,
				                        f->env[e].expr ? f->env[e].expr : "");
		}
		cJSON *layers = cJSON_AddArrayToObject(o, "layers");
		for (size_t l = 0; l < f->n_layers; l++)
			cJSON_AddItemToArray(layers, cJSON_CreateString(f->layers[l]));
		add_string(o, "deployed_name", f->deployed_name);
		add_string(o, "package_type", f->package_type);
		cJSON_AddBoolToObject(o, "buildable", f->buildable);
		add_string(o, "not_buildable", f->not_buildable);
		add_string(o, "notes", f->notes);
		add_string(o, "problem", f->problem);
		cJSON_AddItemToArray(fns, o);
	}
	char *text = util_json_safe(cJSON_Print(root));
	puts(text);
	free(text);
	cJSON_Delete(root);
}

int cmd_functions(int argc, char **argv, const struct global_opts *g)
{
	bool json = false;
	struct project *p = NULL;
	struct lk_error err;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			puts("usage: lambdeck [--project DIR] functions [--json]\n"
			     "Lists the functions discovered in lambdeck.json, template.yaml/.yml "
			     "or\n"
			     "serverless.yml: runtime, handler, code directory, handler source\n"
			     "file:line, deployed name and any problem.");
			return 0;
		} else {
			fprintf(stderr, "lambdeck functions: unknown argument '%s'\n", argv[i]);
			return 2;
		}
	}
	if (cli_project_load(g, &p, &err) < 0) {
		struct buf b = {0};
		util_sanitize(err.message, strlen(err.message), false, false, &b);
		fprintf(stderr, "lambdeck: %s\n", b.data);
		buf_free(&b);
		project_free(p);
		return 1;
	}
	if (json)
		print_json(p);
	else
		print_text(p);
	project_free(p);
	return 0;
}
