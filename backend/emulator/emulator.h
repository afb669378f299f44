/* emulator.h - the local AWS-compatible endpoint (`lambdeck emulate`): Lambda API,
 * Runtime API with warm workers, CloudWatch Logs API (logs_api.c), on one libuv loop.
 *
 * Call order:
 *   struct emulator *e = emulator_new(loop, &opts, &err);  // binds, credentials, state
 *   printf("%s\n", emulator_info_json(e));                 // the JSON line for callers
 *   uv_run(loop, UV_RUN_DEFAULT);                           // serves until emulator_shutdown
 *   emulator_free(e);                                       // after uv_run has returned
 * emulator_new installs SIGTERM/SIGINT handlers on the loop that call emulator_shutdown.
 * emulator_shutdown kills workers, stops listening and closes every loop handle it owns,
 * so uv_run returns once everything is closed. */
#ifndef LAMBDECK_EMULATOR_EMULATOR_H
#define LAMBDECK_EMULATOR_EMULATOR_H

#include <stdbool.h>
#include <uv.h>

#include "backend/util.h"

struct emulator_options {
	const char *host;         /* default "127.0.0.1" */
	int port;                 /* 0 = ephemeral */
	const char *state_dir;    /* default ".lambdeck/emulator" */
	const char *region;       /* default "us-east-1" */
	bool allow_remote;        /* needed for a non-loopback host */
	bool any_credentials;     /* skip SigV4 verification */
	int max_concurrency;      /* workers per function, default 10 */
	int idle_timeout_s;       /* idle workers are stopped after this, default 300 */
	const char *runtimes_dir; /* NULL = located next to the binary / source / data dir */
	bool quiet;               /* no request log on stderr */
	bool share_with_group;    /* lambdeck.json "share_with_group": credentials, endpoint and
	                             lock 0640, state dir 0750 (else 0600 / 0700) */
	const char *project_dir;  /* the project the functions come from (its Python environment
	                             runs python workers: runtimes_project_python; its lambdeck.json
	                             "services" run with the emulator: services_run.h); NULL = none */
	const char *python;       /* the project's lambdeck.json "python", or NULL */
	bool exit_when_unused;    /* stop once no live user lease remains in <state_dir>/users
	                             (backend/mode.c's leases) for two checks 1 s apart: an
	                             emulator started for a console that crashed does not linger */
};

struct emulator;

struct emulator *emulator_new(uv_loop_t *loop, const struct emulator_options *o,
                              struct lk_error *err);
/* {"endpoint":"http://127.0.0.1:PORT","region":...,"credentials_file":...,"pid":N};
 * owned by the emulator. */
const char *emulator_info_json(struct emulator *e);
void emulator_shutdown(struct emulator *e);
void emulator_free(struct emulator *e); /* accepts NULL */

/* Where the bundled runtime shims are: LAMBDECK_RUNTIMES_DIR, <exe>/../share/lambdeck/
 * runtimes, LAMBDECK_DATA_DIR/runtimes, LAMBDECK_SOURCE_DIR/backend/emulator/runtimes.
 * Caller frees; NULL when none exists. */
char *emulator_find_runtimes_dir(void);

#endif
