/* build_method.h - the build steps a template declares before the zip (SAM Metadata
 * BuildMethod esbuild / makefile, serverless-esbuild): which command runs, where, with which
 * environment, and where esbuild comes from. Pure helpers (no processes, no libuv): the build
 * job (backend/build.c) spawns what these return.
 *
 * esbuild: `esbuild --bundle --platform=node --outdir=OUT ENTRY...` in the code directory
 * with BuildProperties mapped as SAM maps them: EntryPoints (default: the handler's file),
 * Target (default es2020), Format (default cjs), Minify, Sourcemap, External, MainFields,
 * Loader, OutExtension; Outbase (serverless-esbuild keeps the handler's path). esbuild is the
 * project's own (node_modules/.bin/esbuild in the code directory or above, up to the project
 * directory), else the one installed dependencies hold, else lambdeck's cache
 * ($XDG_CACHE_HOME/lambdeck/tools/esbuild, installed from npm on first use).
 *
 * makefile: `make -f CODE_DIR/Makefile build-LOGICALID` in the code directory with
 * ARTIFACTS_DIR=OUT in the environment, as `sam build` runs it. */
#ifndef LAMBDECK_BUILD_METHOD_H
#define LAMBDECK_BUILD_METHOD_H

#include <stdbool.h>
#include <stddef.h>

struct build_method_step {
	char **argv; /* NULL-terminated */
	char *cwd;
	char **env;  /* NULL-terminated "NAME=value" list: the process environment plus additions */
	char *label; /* "esbuild" / "make build-Fn", for messages */
};

/* The build step of a function. method: "esbuild" or "makefile"; props: "Key=value" strings
 * (lists repeat the key); handler_rel: the handler's file relative to code_dir (the default
 * entry point), may be NULL; esbuild: the binary to run (esbuild only); node_path: extra
 * module directory for esbuild (installed dependencies), may be NULL. Returns 0, or -1 with
 * *why set (caller frees): an unknown method, a property we cannot map. */
int build_method_step(const char *method, char *const *props, size_t n_props,
                      const char *logical_id, const char *code_dir, const char *handler_rel,
                      const char *out_dir, const char *esbuild, const char *node_path,
                      struct build_method_step *out, char **why);
void build_method_step_free(struct build_method_step *s);

/* Finds esbuild for code_dir: node_modules/.bin/esbuild in code_dir and its parents up to
 * project_dir, then in deps_dir (may be NULL), then in the cache. Caller frees; NULL when
 * none is there. */
char *build_method_find_esbuild(const char *project_dir, const char *code_dir,
                                const char *deps_dir);
/* The cache directory esbuild is installed into (caller frees):
 * $XDG_CACHE_HOME/lambdeck/tools/esbuild, else ~/.cache/lambdeck/tools/esbuild. */
char *build_method_esbuild_home(void);
/* True when node_modules exists in code_dir or a parent up to project_dir: the project's own
 * install, which esbuild resolves from. */
bool build_method_has_node_modules(const char *project_dir, const char *code_dir);

#endif
