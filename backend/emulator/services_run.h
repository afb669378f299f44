/* services_run.h - runs a project's declared services (backend/services.h) on the emulator's
 * loop: npm installs for the kinds that need one, init, start in dependency order, readiness
 * checks, restart with backoff, stop. Each service lives in STATE/services/NAME/: data/ (kept
 * across restarts), output.log, state.json (written atomically, read by `lambdeck services`).
 * Requests from the CLI arrive as files in STATE/services/control/ ("OP NAME", OP one of
 * start, stop, restart, reset); each is removed once handled.
 *
 * Every command runs through the child guard (backend/childguard.h) in its own process
 * group: the group ends with the emulator, however the emulator ends.
 *
 * Call order: services_run_new() after the emulator listens; services_run_stop() at
 * shutdown (process groups get SIGTERM, SIGKILL after 5 s; the loop runs until they are
 * gone); services_run_free() after uv_run has returned. */
#ifndef LAMBDECK_EMULATOR_SERVICES_RUN_H
#define LAMBDECK_EMULATOR_SERVICES_RUN_H

#include <uv.h>

#include "backend/services.h"

struct services_run_options {
	const char *project_dir; /* commands run here */
	const char *state_dir;   /* the emulator's state directory */
	const char *runtimes_dir;
	bool share_with_group;
	void (*log)(void *ctx, const char *line); /* the emulator's log */
	void *log_ctx;
};

struct services_run;

/* Takes c. Starts everything it can; never fails (a service that cannot start is reported in
 * its state and the log). */
struct services_run *services_run_new(uv_loop_t *loop, struct services_config *c,
                                      const struct services_run_options *o);
void services_run_stop(struct services_run *r);
void services_run_free(struct services_run *r); /* accepts NULL */
/* Calls set(ctx, NAME, VALUE) for every variable the services export (AWS_ENDPOINT_URL_S3...):
 * all but the failed and stopped ones (ports are chosen up front and kept). */
void services_run_env(const struct services_run *r,
                      void (*set)(void *ctx, const char *name, const char *value), void *ctx);
/* services_lookup_fn for services_expand_refs: ${services.NAME.KEY} with KEY one of host,
 * port, url, data_dir or an exported variable (any case). ctx is the services_run. */
char *services_run_lookup(void *ctx, const char *name, const char *key);

/* Empties STATE/services/NAME/data while no emulator runs it (`lambdeck services reset`
 * without an emulator). 0 or -1 with err set. */
int services_run_reset_offline(const char *state_dir, const char *name, struct lk_error *err);

#endif
