/* history.h - the invocation history, .lambdeck/history.jsonl: one JSON object per line,
 * appended under an exclusive flock() so several processes (two consoles in a pair
 * session, the CLI) never interleave or lose entries. Readers tolerate a partially written
 * or corrupt line (skipped; a torn last line is re-read once complete). A watch tells a
 * console within a second that another process appended (uv_fs_event on .lambdeck/).
 *
 * Call order: history_load() once, then history_refresh() whenever the watch fires (or
 * after your own append); history_clear() at the end. history_watch_new() needs the loop;
 * history_watch_free() closes its handle (the loop must run once more to finish closing;
 * memory is released in the close callback). */
#ifndef LAMBDECK_HISTORY_H
#define LAMBDECK_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <uv.h>

#include "backend/util.h"

/* Responses and log tails longer than this are stored truncated (flag set); events are
 * stored whole, so every entry can be replayed. */
#define HISTORY_MAX_RESPONSE (1024 * 1024)

struct history_entry {
	char *id;              /* unique: "<time_ms>-<pid>-<counter>" */
	int64_t time_ms;       /* Unix ms, when the invocation started */
	char *mode;            /* "local" or "aws" */
	char *function;        /* project (logical) function name */
	char *qualifier;       /* NULL = $LATEST */
	char *invocation_type; /* "RequestResponse" or "Event" */
	char *event_name;      /* saved event name, "template:x", a file path, "-" or NULL */
	char *event;           /* event body (JSON text) */
	int status;            /* HTTP status, 0 when no response */
	char *function_error;  /* X-Amz-Function-Error ("Unhandled"...), NULL if none */
	char *error_code;      /* failure without a function response: lk_error code */
	char *error_message;   /*   ... and its message (network error, API error) */
	char *response;        /* payload text, NULL if none */
	bool response_truncated;
	char *log_tail; /* decoded tail, NULL if none */
	char *request_id;
	double client_ms;   /* client-measured latency */
	double duration_ms; /* REPORT Duration, < 0 when unknown */
	double billed_ms;   /* < 0 when unknown */
	double init_ms;     /* < 0 when not a cold start / unknown */
	int memory_mb;      /* < 0 when unknown */
	int max_memory_mb;  /* < 0 when unknown */
};

/* An entry is a failure when it has an error code or a function error. */
bool history_entry_failed(const struct history_entry *e);
/* Initialises unknown numbers to -1 and strings to NULL. */
void history_entry_init(struct history_entry *e);
void history_entry_clear(struct history_entry *e);
/* Deep copy. */
void history_entry_copy(struct history_entry *dst, const struct history_entry *src);

/* Path of the history file (caller frees). */
char *history_path(const char *project_dir);

/* Appends one entry as one line, under an exclusive lock, creating .lambdeck/ as needed.
 * Sets e->id when it is NULL (so the caller knows it). Blocking file I/O: a few hundred
 * microseconds; fine on the loop. */
int history_append(const char *project_dir, struct history_entry *e, struct lk_error *err);
/* Serialises one entry to a JSON line (no trailing newline); caller frees. */
char *history_entry_to_json(const struct history_entry *e);
/* Parses one line; -1 when it is not a valid entry. */
int history_entry_from_json(const char *line, size_t len, struct history_entry *out);

struct history {
	char *path;
	struct history_entry *entries; /* oldest first */
	size_t n, cap;
	off_t offset;   /* bytes of the file consumed (complete lines only) */
	ino_t ino;      /* file identity; a replaced/truncated file is re-read from 0 */
	size_t skipped; /* corrupt lines skipped so far */
};

/* Reads the whole history. A missing file is an empty history. */
int history_load(const char *project_dir, struct history *h, struct lk_error *err);
/* Reads complete lines appended since the last load/refresh; *added (may be NULL) gets
 * the number of new entries. */
int history_refresh(struct history *h, size_t *added, struct lk_error *err);
void history_clear(struct history *h);

/* The entry before index i (older) for the same function and the same event body
 * (event name and body must both match), or NULL. Used for the response diff. */
const struct history_entry *history_previous_same_event(const struct history *h, size_t i);

/* Notices appends by any process: cb(user) runs on the loop within a few ms of the file
 * changing (inotify via uv_fs_event on .lambdeck/). The callee decides whether to refresh. */
struct history_watch;
struct history_watch *history_watch_new(uv_loop_t *loop, const char *project_dir,
                                        void (*cb)(void *user), void *user, struct lk_error *err);
void history_watch_free(struct history_watch *w);

#endif
