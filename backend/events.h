/* events.h - test events: the built-in templates (S3, SQS, SNS, API Gateway, ALB,
 * EventBridge, DynamoDB, Kinesis, CloudWatch Logs, Cognito...) with parameters, and the
 * project's saved events, events/<Function>/<name>.json, with the editor round trip
 * (validation with line:col, recovery copies in .lambdeck/recovery/). Knows no ncurses and
 * no libuv: every call here is synchronous file work.
 *
 * Ownership: strings returned as `char *` belong to the caller (free()); structs filled by
 * events_list() are released with events_list_free(). Names are validated (events_name_ok)
 * before they touch a path, so a name never escapes events/<Function>/. */
#ifndef LAMBDECK_EVENTS_H
#define LAMBDECK_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/util.h"

/* ---- templates ---------------------------------------------------------------------- */

struct event_param {
	const char *name; /* "bucket", "key", "body", "method", ... */
	const char *def;  /* default value (a string; numbers are parsed where needed) */
	const char *help; /* one line for the form */
};

struct event_template {
	const char *name;    /* "s3-put", "sqs", "apigw-rest", ... (stable, used on the CLI) */
	const char *summary; /* "Amazon S3 ObjectCreated:Put notification" */
	const struct event_param *params;
	size_t n_params;
};

/* A parameter value given by the user; names not in the template are an error. */
struct event_kv {
	const char *name;
	const char *value;
};

size_t events_template_count(void);
const struct event_template *events_template_at(size_t i);
const struct event_template *events_template_find(const char *name); /* NULL if unknown */
/* Renders the template as pretty-printed JSON with values for some parameters (the rest
 * take their defaults). Fields AWS encodes are encoded here (Kinesis data base64,
 * awslogs.data gzip+base64 of the log lines, SQS/SNS bodies as strings, API Gateway bodies
 * as strings). Returns NULL with err set (code "InvalidParameter") on a bad value. */
char *events_template_render(const struct event_template *t, const struct event_kv *values,
                             size_t n_values, struct lk_error *err);

/* ---- JSON validation ---------------------------------------------------------------- */

/* Checks that text is one JSON value (whitespace around allowed). On error returns -1 with
 * err->code "ParseError" and err->message "<label>:<line>:<col>: <what>" (1-based line and
 * column, column counted in characters). label is usually the file name. */
int events_validate_json(const char *text, size_t len, const char *label, struct lk_error *err);
/* Pretty-prints JSON text (2-space indent); returns NULL when text is not JSON. */
char *events_pretty_json(const char *text, size_t len);

/* ---- saved events ------------------------------------------------------------------- */

/* Saved-event names: 1-100 chars of [A-Za-z0-9._-], not starting with '.', not ending in
 * ".snapshot". Function names: 1-140 chars of [A-Za-z0-9._:-], not starting with '.'. */
bool events_name_ok(const char *name);
bool events_function_ok(const char *function);

struct event_file {
	char *name; /* "new-order" (no .json) */
	char *path; /* absolute path of events/<Function>/<name>.json */
	int64_t mtime_ms;
	bool has_snapshot; /* events/<Function>/<name>.snapshot.json exists */
	bool has_recovery; /* .lambdeck/recovery/<Function>/<name>.json exists */
	bool shared;       /* events/<name>.json at the project root (the `sam local invoke -e
	                    * events/event.json` layout), offered for every function */
};

struct event_list {
	struct event_file *items; /* sorted by name */
	size_t n;
};

/* Lists events/<function>/NAME.json (not NAME.snapshot.json) and the shared events/NAME.json
 * of the project root (a function's own event of the same name wins). A missing directory is
 * an empty list, not an error. */
int events_list(const char *project_dir, const char *function, struct event_list *out,
                struct lk_error *err);
void events_list_free(struct event_list *l);

/* Path of a saved event (caller frees); NULL when function or name is not acceptable. The
 * function's own events/<function>/NAME.json, else a shared events/NAME.json when that exists,
 * else the function's own path (where a new event goes). */
char *events_path(const char *project_dir, const char *function, const char *name);
/* True when NAME resolves to a shared events/NAME.json for function. */
bool events_is_shared(const char *project_dir, const char *function, const char *name);
char *events_recovery_path(const char *project_dir, const char *function, const char *name);

/* Reads a saved event; on invalid JSON returns -1 with "events/F/name.json:line:col: ...".
 * Unknown event -> err->code "EventNotFound". */
int events_read(const char *project_dir, const char *function, const char *name, struct buf *out,
                struct lk_error *err);
/* Validates and writes atomically. With overwrite false an existing event is an error
 * ("EventExists"). */
int events_save(const char *project_dir, const char *function, const char *name, const char *json,
                size_t len, bool overwrite, struct lk_error *err);
/* Renders template t with values and saves it as a new event. */
int events_new_from_template(const char *project_dir, const char *function, const char *name,
                             const struct event_template *t, const struct event_kv *values,
                             size_t n_values, struct lk_error *err);
/* Rename / duplicate move the snapshot along (rename) or leave it (duplicate); the target must
 * not exist. Delete removes the event, its snapshot and its recovery copy. */
int events_rename(const char *project_dir, const char *function, const char *name,
                  const char *new_name, struct lk_error *err);
int events_duplicate(const char *project_dir, const char *function, const char *name,
                     const char *new_name, struct lk_error *err);
int events_delete(const char *project_dir, const char *function, const char *name,
                  struct lk_error *err);

/* Editor round trip, used by the Playground pane (and usable by any caller):
 * 1. events_edit_begin() prepares a scratch copy .lambdeck/edit/<pid>/<Function>/<name>.json,
 *    seeded from the recovery copy when there is one (reopen continues where the invalid
 *    edit left off), else from the saved event (or "{}\n" for a new one). *scratch_path is
 *    the file to hand to $EDITOR (caller frees).
 * 2. After the editor exits, events_edit_finish() validates the scratch file. Valid: saved
 *    atomically to events/<Function>/<name>.json, recovery copy and scratch removed, returns
 *    0. Invalid: the text is kept as .lambdeck/recovery/<Function>/<name>.json and the saved
 *    event is left untouched; returns -1 with err "ParseError" "events/F/name.json:L:C: what
 *    (your text is kept in .lambdeck/recovery/F/name.json)". Unchanged text returns 0 and
 *    sets *changed false (changed may be NULL). */
int events_edit_begin(const char *project_dir, const char *function, const char *name,
                      char **scratch_path, struct lk_error *err);
int events_edit_finish(const char *project_dir, const char *function, const char *name,
                       bool *changed, struct lk_error *err);
/* Drops a recovery copy (the user chose to discard it). */
int events_discard_recovery(const char *project_dir, const char *function, const char *name,
                            struct lk_error *err);

/* Resolves what `--event` names for the CLI: a saved event of function, "template:<name>"
 * (rendered with defaults), a file path, or "-" (stdin). Reads into out and sets *label
 * (what history records as the event name; caller frees). Validates JSON. */
int events_resolve(const char *project_dir, const char *function, const char *spec, struct buf *out,
                   char **label, struct lk_error *err);

#endif
