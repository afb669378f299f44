/* logstore.h - the emulator's CloudWatch Logs storage: log groups -> streams -> events,
 * bounded per group, persisted in the state directory. Workers (the Lambda side) append;
 * the Logs API (DescribeLogGroups, FilterLogEvents, StartLiveTail...) reads and subscribes.
 * Single-threaded: call from the emulator's loop thread only.
 *
 * Bounds and persistence: a group keeps at most max_events events and max_bytes message
 * bytes (the oldest go first). The journal on disk is the store: memory holds only a small
 * index entry per event (about 64 bytes) and messages are read back from disk when a reader
 * asks, so the emulator's memory does not grow with what is logged. A group's journal is a
 * series of segment files under dir (<hex of group name>.journal, then <hex>.<n>.journal),
 * each one CRC-checked record per event appended with a single write; a segment whose events
 * have all been evicted is deleted, so the disk holds about the bound (plus one segment),
 * and no file is ever rewritten. A torn tail (crash mid write) is detected and cut off on the
 * next open.
 *
 * Ordering: every event gets a store-wide sequence number (seq) at append time; events of a
 * group are kept and returned in seq (= ingestion) order. The eventId is derived from the
 * ingestion time and seq, so it is unique and stable across restarts. */
#ifndef LAMBDECK_EMULATOR_LOGSTORE_H
#define LAMBDECK_EMULATOR_LOGSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/util.h"

struct logstore;

/* All pointers are owned by the store and valid only during the callback / until the next
 * logstore_append or logstore_close. */
struct log_event {
	const char *group;
	const char *stream;
	const char *event_id; /* unique, stable */
	int64_t timestamp;    /* ms */
	int64_t ingestion_time;
	const char *message;
	size_t message_len;
	uint64_t seq; /* store-wide ingestion sequence, strictly increasing */
};

#define LOGSTORE_DEFAULT_MAX_EVENTS 100000
#define LOGSTORE_DEFAULT_MAX_BYTES  ((uint64_t)256 << 20)
/* CloudWatch's event size limit is 256 KiB including 26 bytes of overhead; longer messages
 * are truncated to this many bytes. */
#define LOGSTORE_MAX_MESSAGE (256 * 1024 - 26)

/* Opens (creating) the store under dir with per-group bounds; 0 means the default
 * (LOGSTORE_DEFAULT_MAX_EVENTS, LOGSTORE_DEFAULT_MAX_BYTES). Indexes existing journals. */
struct logstore *logstore_open(const char *dir, size_t max_events_per_group,
                               uint64_t max_bytes_per_group, struct lk_error *err);
void logstore_close(struct logstore *ls); /* flushes; accepts NULL */

/* Creates group/stream on first use. One call per log line (no trailing newline needed).
 * Returns 0, or -1 on invalid arguments (empty names). A failed journal write is reported
 * once to stderr and the event is kept in memory instead (at most 8 MB of such events per
 * group). */
int logstore_append(struct logstore *ls, const char *group, const char *stream,
                    int64_t timestamp_ms, const char *message, size_t len);

/* Creates an empty group (CreateLogGroup; the emulator may also create a function's group
 * when the function is created, so a tail can start before the first invocation).
 * Returns 0 when created, 1 when it already existed, -1 on an empty name. */
int logstore_create_group(struct logstore *ls, const char *group);
/* Creates an empty stream in an existing group (CreateLogStream; not persisted until it
 * holds an event). Returns 0 created, 1 existed, -1 no such group or empty name. */
int logstore_create_stream(struct logstore *ls, const char *group, const char *stream);

/* Called for every appended event; used by StartLiveTail sessions. Returns a handle for
 * logstore_unsubscribe. A listener may unsubscribe itself (or others) from the callback. */
typedef void (*logstore_listener)(void *user, const struct log_event *ev);
int logstore_subscribe(struct logstore *ls, logstore_listener fn, void *user);
void logstore_unsubscribe(struct logstore *ls, int handle);

/* --- Reading (the Logs API) --- */

struct logstore_group_info {
	const char *name;
	int64_t creation_time; /* ms */
	size_t stored_events;
	uint64_t stored_bytes;
};

struct logstore_stream_info {
	const char *name;
	int64_t creation_time;
	int64_t first_event_timestamp; /* 0 when the stream holds no event */
	int64_t last_event_timestamp;
	int64_t last_ingestion_time;
	size_t stored_events;
	uint64_t stored_bytes;
};

/* Groups sorted by name. *out is a caller-freed array (the strings are the store's). */
size_t logstore_list_groups(struct logstore *ls, struct logstore_group_info **out);
/* Streams of a group sorted by name; returns (size_t)-1 when the group does not exist. */
size_t logstore_list_streams(struct logstore *ls, const char *group,
                             struct logstore_stream_info **out);
bool logstore_group_exists(struct logstore *ls, const char *group);

/* Visits the group's stored events with seq > after_seq in ingestion order (when
 * backwards is false) or the events with seq < after_seq newest first (backwards true;
 * pass UINT64_MAX for "from the end"). The visitor returns true to continue. Returns -1 if
 * the group does not exist. stream may be NULL (all streams). */
typedef bool (*logstore_visitor)(void *user, const struct log_event *ev);
int logstore_scan(struct logstore *ls, const char *group, const char *stream, uint64_t after_seq,
                  bool backwards, logstore_visitor fn, void *user);

/* The seq of the newest event in the store (0 when empty). */
uint64_t logstore_last_seq(const struct logstore *ls);

/* Formats the eventId for (ingestion_time, seq) into out (at least 40 bytes). */
void logstore_format_event_id(int64_t ingestion_time, uint64_t seq, char *out, size_t size);

#endif
