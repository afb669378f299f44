/* snapshot.h - snapshot tests: an invocation (event + response) saved as
 * events/<Function>/<name>.snapshot.json, and a replay of every snapshot that reports the
 * differences between the saved and the new response, ignoring configurable JSON paths
 * (request ids, timestamps...). Used by the Playground pane (save), `lambdeck test
 * --snapshots` (cli/cmd_test.c) and the Tests pane (replay all).
 *
 * Snapshot file (pretty JSON, committable):
 *   {"function": "F", "event": "<name>", "invocationType": "RequestResponse",
 *    "qualifier": null, "payload": <event JSON>,
 *    "expected": {"status": 200, "functionError": null, "response": <JSON or string>},
 *    "ignore": ["**.requestId", "headers.Date", "items[*].id", ...], "savedAt": "ISO-8601"}
 *
 * Ignore paths: dot-separated keys; "*" matches any one key or array index, "**" any
 * number of levels (including none), "[N]" / "[*]" index arrays. A string value that holds
 * JSON (API Gateway "body") is compared as JSON, and paths continue into it ("body.id").
 *
 * Replay-all, two ways (same code):
 *   async:  run = snapshot_run_start(ctx, filter, progress, done, user, &err); the done
 *           callback gets the report (owned by the run; valid during the callback only);
 *           snapshot_run_cancel(run) stops early (done still called once). Callbacks never
 *           run inside snapshot_run_start (the first step is deferred to the loop). The
 *           run frees itself after done returns; do not use the handle after done.
 *   sync:   snapshot_run_sync(ctx, filter, &report, &err) runs ctx's loop until finished
 *           (not from inside a loop callback); snapshot_report_clear(&report) afterwards.
 * Snapshots run one after another (stable latency, readable logs). Replays are not written
 * to history (they are tests, not manual invocations). */
#ifndef LAMBDECK_SNAPSHOT_H
#define LAMBDECK_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "backend/invoke.h"
#include "backend/util.h"

/* Paths ignored in every new snapshot (users edit the "ignore" list in the file). */
extern const char *const snapshot_default_ignore[];

struct snapshot_diff {
	char *path;     /* "body.items[2].price", "" for the root, "status", "functionError" */
	char *expected; /* compact JSON text, or "(missing)" */
	char *actual;   /* compact JSON text, or "(missing)" */
};

/* Compares expected with actual (pure). Appends differences; returns their count. */
size_t snapshot_compare(const cJSON *expected, const cJSON *actual, const char *const *ignore,
                        size_t n_ignore, struct snapshot_diff **diffs, size_t *n_diffs);
bool snapshot_path_ignored(const char *path, const char *const *ignore, size_t n_ignore);
void snapshot_diffs_free(struct snapshot_diff *diffs, size_t n);

/* Saves event + response as events/<function>/<name>.snapshot.json (atomically,
 * overwriting). The event itself is saved as events/<function>/<name>.json too when no such
 * saved event exists. r must be a completed invocation with a response. */
int snapshot_save(const char *project_dir, const char *function, const char *name,
                  const char *event, size_t event_len, const char *qualifier,
                  const struct invoke_result *r, struct lk_error *err);
char *snapshot_path(const char *project_dir, const char *function, const char *name);

struct snapshot_outcome {
	char *function;
	char *name;
	char *file; /* path relative to the project: events/F/name.snapshot.json */
	bool passed;
	char *error; /* could not run (bad file, invoke failure), or NULL */
	struct snapshot_diff *diffs;
	size_t n_diffs;
	double client_ms;
};

struct snapshot_report {
	struct snapshot_outcome *items;
	size_t n;
	size_t passed, failed, errors; /* failed: ran and differed; errors: could not run */
	double total_ms;
};
void snapshot_report_clear(struct snapshot_report *r);
/* Human-readable report (one line per snapshot, diffs indented), for the CLI. */
void snapshot_report_format(const struct snapshot_report *r, bool verbose, struct buf *out);

struct snapshot_run;
typedef void (*snapshot_progress_fn)(const struct snapshot_outcome *o, size_t done, size_t total,
                                     void *user);
typedef void (*snapshot_done_fn)(const struct snapshot_report *r, void *user);

/* function_filter: only that function's snapshots, NULL for all. Returns NULL with err set
 * when the snapshots cannot even be listed. Zero snapshots -> done is called with n == 0. */
struct snapshot_run *snapshot_run_start(struct invoke_ctx *ctx, const struct project *project,
                                        const char *function_filter, snapshot_progress_fn progress,
                                        snapshot_done_fn done, void *user, struct lk_error *err);
void snapshot_run_cancel(struct snapshot_run *run);
/* Cancels without calling back (the caller is going away). */
void snapshot_run_abandon(struct snapshot_run *run);
/* Returns 0 when it ran (see report->failed/errors), -1 with err when it could not start. */
int snapshot_run_sync(struct invoke_ctx *ctx, const struct project *project,
                      const char *function_filter, struct snapshot_report *report,
                      struct lk_error *err);

#endif
