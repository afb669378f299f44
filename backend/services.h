/* services.h - local services a project declares in lambdeck.json ("services": {NAME: {...}})
 * and the emulator runs next to the functions: the configuration (parsed here, positions as
 * file:line:col), the ready-made kinds (s3, dynamodb, redis, postgres) and the text
 * substitution (${port}, ${data_dir}, ${services.NAME.KEY}). Knows no libuv: the runner that
 * starts and watches them is services_run.h.
 *
 * lambdeck.json:
 *   "services": {
 *     "files": {"kind": "s3"},
 *     "cache": {"command": ["redis-server", "--port", "${port}"], "port": 0,
 *               "ready": {"tcp": true}, "env": {"X": "1"}, "depends_on": ["files"],
 *               "export": {"CACHE_URL": "redis://${host}:${port}"}}
 *   }
 */
#ifndef LAMBDECK_SERVICES_H
#define LAMBDECK_SERVICES_H

#include <stdbool.h>
#include <stddef.h>

#include "backend/util.h"

enum service_ready { SERVICE_READY_TCP, SERVICE_READY_HTTP };

struct service_kv {
	char *name;
	char *value;
};

struct service_spec {
	char *name;
	char *kind;       /* "s3", "dynamodb", "redis", "postgres", or NULL (generic) */
	char **argv;      /* NULL-terminated, ${...} not yet substituted */
	char **init_argv; /* run once while the data directory is empty, or NULL */
	int port;         /* 0: a free loopback port is chosen at each start */
	enum service_ready ready;
	char *ready_path; /* HTTP readiness path ("/") */
	int ready_timeout_s;
	struct service_kv *env; /* the command's extra environment */
	size_t n_env;
	struct service_kv *exports; /* what functions and `services env` get */
	size_t n_exports;
	char **depends_on;
	size_t n_depends_on;
	char *npm_package; /* kinds from npm: the package installed into the cache */
	char *package;     /* kinds from the system: the Debian package to install */
	int line;          /* 1-based line of the declaration in the config file */
};

struct services_config {
	char *file; /* the lambdeck.json they came from, NULL when none */
	struct service_spec *v;
	size_t n; /* in dependency order: every service after what it depends on */
};

/* Reads project_dir/lambdeck.json's "services". No file or no "services": 0 with n == 0.
 * Bad input: -1, err->code "ParseError", err->message "file:line:col: what is wrong"; *out
 * is then an empty config. Caller frees. */
int services_config_load(const char *project_dir, struct services_config **out,
                         struct lk_error *err);
/* The same over text already read (file names the messages). */
int services_config_parse(const char *file, const char *text, size_t len,
                          struct services_config **out, struct lk_error *err);
void services_config_free(struct services_config *c); /* accepts NULL */
const struct service_spec *services_config_find(const struct services_config *c, const char *name);

/* Values a running service substitutes: ${name}, ${host}, ${port}, ${data_dir},
 * ${npm_dir} (lambdeck's npm cache), ${runtimes_dir}. */
struct service_vars {
	const char *name;
	const char *host;
	int port;
	const char *data_dir;
	const char *npm_dir;
	const char *runtimes_dir;
};

/* Substitutes ${...} in s; an unknown name is kept as written. Caller frees. */
char *services_expand(const char *s, const struct service_vars *v);

/* Looks up NAME.KEY for ${services.NAME.KEY}: returns the value (caller frees) or NULL. */
typedef char *(*services_lookup_fn)(void *ctx, const char *name, const char *key);
/* Substitutes every ${services.NAME.KEY} in s through lookup; one that resolves to nothing
 * is kept as written. Caller frees. */
char *services_expand_refs(const char *s, services_lookup_fn lookup, void *ctx);

/* $XDG_CACHE_HOME/lambdeck/npm (or ~/.cache/lambdeck/npm). Caller frees. */
char *services_npm_dir(void);

#endif
