/* logstore.h - the emulator's CloudWatch Logs storage: log groups -> streams -> events,
 * bounded per group, persisted in the state directory. Workers (the Lambda side) append;
 * the Logs API (DescribeLogGroups, FilterLogEvents, StartLiveTail...) reads and subscribes.
 * Single-threaded: call from the emulator's loop thread only. */
#ifndef LAMBDECK_EMULATOR_LOGSTORE_H
#define LAMBDECK_EMULATOR_LOGSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "backend/util.h"

struct logstore;

struct log_event {
	const char *group;
	const char *stream;
	const char *event_id;  /* unique, stable */
	int64_t timestamp;     /* ms */
	int64_t ingestion_time;
	const char *message;
	size_t message_len;
};

/* Opens (creating) the store under dir; max_events_per_group 0 means the default 100000. */
struct logstore *logstore_open(const char *dir, size_t max_events_per_group, struct lk_error *err);
void logstore_close(struct logstore *ls); /* flushes; accepts NULL */

/* Creates group/stream on first use. One call per log line (no trailing newline needed). */
int logstore_append(struct logstore *ls, const char *group, const char *stream, int64_t timestamp_ms,
		    const char *message, size_t len);

/* Called for every appended event; used by StartLiveTail sessions. Returns a handle for
 * logstore_unsubscribe. */
typedef void (*logstore_listener)(void *user, const struct log_event *ev);
int logstore_subscribe(struct logstore *ls, logstore_listener fn, void *user);
void logstore_unsubscribe(struct logstore *ls, int handle);

#endif
