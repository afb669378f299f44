/* build_method.c - commands of the declared build steps (see build_method.h). */
#include "backend/build_method.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/util.h"

extern char **environ;

struct argv_list {
	char **v;
	size_t n;
};

static void argv_add(struct argv_list *a, char *s)
{
	a->v = xrealloc(a->v, (a->n + 2) * sizeof(*a->v));
	a->v[a->n++] = s;
	a->v[a->n] = NULL;
}

/* The process environment with additions ("NAME=value"; a NULL entry is skipped); names in
 * the additions replace the inherited ones. */
static char **env_with(const char *const *extra, size_t n_extra)
{
	struct argv_list a = {0};

	for (char **e = environ; e && *e; e++) {
		bool replaced = false;
		for (size_t i = 0; i < n_extra && !replaced; i++) {
			const char *eq = extra[i] ? strchr(extra[i], '=') : NULL;
			replaced = eq && !strncmp(*e, extra[i], (size_t)(eq - extra[i]) + 1);
		}
		if (!replaced)
			argv_add(&a, xstrdup(*e));
	}
	for (size_t i = 0; i < n_extra; i++)
		if (extra[i])
			argv_add(&a, xstrdup(extra[i]));
	if (!a.v)
		argv_add(&a, xstrdup("PATH=/usr/bin:/bin"));
	return a.v;
}

/* True when the property "Key=value" has key k. */
static bool prop_is(const char *prop, size_t key_len, const char *k)
{
	return key_len == strlen(k) && !strncmp(prop, k, key_len);
}

static bool prop_true(const char *v)
{
	return !strcasecmp(v, "true") || !strcmp(v, "1") || !strcasecmp(v, "yes");
}

/* esbuild's arguments from SAM's BuildProperties. */
static int esbuild_argv(char *const *props, size_t n_props, const char *handler_rel,
                        const char *out_dir, const char *esbuild, struct argv_list *a, char **why)
{
	const char *target = "es2020", *format = "cjs";
	bool minify = false, sourcemap = false, entry = false;
	struct argv_list rest = {0};

	argv_add(a, xstrdup(esbuild));
	argv_add(a, xstrdup("--bundle"));
	argv_add(a, xstrdup("--platform=node"));
	argv_add(a, xasprintf("--outdir=%s", out_dir));
	for (size_t i = 0; i < n_props; i++) {
		const char *eq = strchr(props[i], '=');
		if (!eq)
			continue;
		size_t kl = (size_t)(eq - props[i]);
		const char *v = eq + 1;
		if (prop_is(props[i], kl, "EntryPoints")) {
			argv_add(&rest, xstrdup(v));
			entry = true;
		} else if (prop_is(props[i], kl, "Target")) {
			target = v;
		} else if (prop_is(props[i], kl, "Format")) {
			format = v;
		} else if (prop_is(props[i], kl, "Minify")) {
			minify = prop_true(v);
		} else if (prop_is(props[i], kl, "Sourcemap")) {
			sourcemap = prop_true(v);
		} else if (prop_is(props[i], kl, "External")) {
			argv_add(a, xasprintf("--external:%s", v));
		} else if (prop_is(props[i], kl, "MainFields")) {
			argv_add(a, xasprintf("--main-fields=%s", v));
		} else if (prop_is(props[i], kl, "Loader")) {
			argv_add(a, xasprintf("--loader:%s", v)); /* ".png=file" */
		} else if (prop_is(props[i], kl, "OutExtension")) {
			argv_add(a, xasprintf("--out-extension:%s", v)); /* ".js=.mjs" */
		} else if (prop_is(props[i], kl, "Outbase")) {
			argv_add(a, xasprintf("--outbase=%s", v));
		} else if (prop_is(props[i], kl, "Banner")) {
			argv_add(a, xasprintf("--banner:%s", v)); /* "js=..." */
		} else if (!prop_is(props[i], kl, "UseNpmCi") &&
		           !prop_is(props[i], kl, "Tsconfig") &&
		           !prop_is(props[i], kl, "SkipDeps")) {
			*why = xasprintf("BuildProperties %.*s is not supported by lambdeck",
			                 (int)kl, props[i]);
			for (size_t k = 0; k < rest.n; k++)
				free(rest.v[k]);
			free(rest.v);
			return -1;
		}
	}
	argv_add(a, xasprintf("--target=%s", target));
	argv_add(a, xasprintf("--format=%s", format));
	if (minify)
		argv_add(a, xstrdup("--minify"));
	if (sourcemap)
		argv_add(a, xstrdup("--sourcemap"));
	argv_add(a, xstrdup("--log-level=warning"));
	if (!entry && !handler_rel) {
		*why = xstrdup("no EntryPoints in BuildProperties and the handler's file was not "
		               "found");
		return -1;
	}
	if (!entry)
		argv_add(a, xstrdup(handler_rel));
	for (size_t k = 0; k < rest.n; k++)
		argv_add(a, rest.v[k]);
	free(rest.v);
	return 0;
}

int build_method_step(const char *method, char *const *props, size_t n_props,
                      const char *logical_id, const char *code_dir, const char *handler_rel,
                      const char *out_dir, const char *esbuild, const char *node_path,
                      struct build_method_step *out, char **why)
{
	struct argv_list a = {0};

	memset(out, 0, sizeof(*out));
	*why = NULL;
	if (method && !strcmp(method, "esbuild")) {
		if (esbuild_argv(props, n_props, handler_rel, out_dir, esbuild, &a, why) < 0) {
			for (size_t i = 0; i < a.n; i++)
				free(a.v[i]);
			free(a.v);
			return -1;
		}
		char *np = node_path ? xasprintf("NODE_PATH=%s", node_path) : NULL;
		const char *extra[] = {np};
		out->env = env_with(extra, 1);
		free(np);
		out->label = xstrdup("esbuild");
	} else if (method && !strcmp(method, "makefile")) {
		argv_add(&a, xstrdup("make"));
		argv_add(&a, xstrdup("-f"));
		argv_add(&a, util_path_join(code_dir, "Makefile"));
		argv_add(&a, xasprintf("build-%s", logical_id));
		char *art = xasprintf("ARTIFACTS_DIR=%s", out_dir);
		const char *extra[] = {art};
		out->env = env_with(extra, 1);
		free(art);
		out->label = xasprintf("make build-%s", logical_id);
	} else {
		*why = xasprintf("BuildMethod %s is not supported", method ? method : "(none)");
		return -1;
	}
	out->argv = a.v;
	out->cwd = xstrdup(code_dir);
	return 0;
}

void build_method_step_free(struct build_method_step *s)
{
	if (!s)
		return;
	for (size_t i = 0; s->argv && s->argv[i]; i++)
		free(s->argv[i]);
	for (size_t i = 0; s->env && s->env[i]; i++)
		free(s->env[i]);
	free(s->argv);
	free(s->env);
	free(s->cwd);
	free(s->label);
	memset(s, 0, sizeof(*s));
}

char *build_method_esbuild_home(void)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");

	if (xdg && xdg[0] == '/')
		return xasprintf("%s/lambdeck/tools/esbuild", xdg);
	return xasprintf("%s/.cache/lambdeck/tools/esbuild", home && *home ? home : "/tmp");
}

/* Walks from code_dir up to project_dir (inclusive), returning the first dir/rel that exists
 * (as a file when want_file, else as a directory). */
static char *find_up(const char *project_dir, const char *code_dir, const char *rel, bool want_file)
{
	char *dir = xstrdup(code_dir);
	size_t pl = strlen(project_dir);

	for (;;) {
		char *p = util_path_join(dir, rel);
		if (want_file ? access(p, X_OK) == 0 && util_is_file(p) : util_is_dir(p)) {
			free(dir);
			return p;
		}
		free(p);
		char *slash = strrchr(dir, '/');
		if (!slash || slash == dir || strlen(dir) <= pl ||
		    strncmp(dir, project_dir, pl) != 0)
			break;
		*slash = '\0';
		if (strlen(dir) < pl)
			break;
	}
	free(dir);
	return NULL;
}

char *build_method_find_esbuild(const char *project_dir, const char *code_dir, const char *deps_dir)
{
	char *p = find_up(project_dir, code_dir, "node_modules/.bin/esbuild", true);

	if (!p && deps_dir) {
		p = xasprintf("%s/node_modules/.bin/esbuild", deps_dir);
		if (access(p, X_OK) != 0) {
			free(p);
			p = NULL;
		}
	}
	if (!p) {
		char *home = build_method_esbuild_home();
		p = xasprintf("%s/node_modules/.bin/esbuild", home);
		free(home);
		if (access(p, X_OK) != 0) {
			free(p);
			p = NULL;
		}
	}
	return p;
}

bool build_method_has_node_modules(const char *project_dir, const char *code_dir)
{
	char *p = find_up(project_dir, code_dir, "node_modules", false);
	bool has = p != NULL;

	free(p);
	return has;
}
