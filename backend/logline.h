/* logline.h - understanding Lambda log lines: the platform's START / END / REPORT lines,
 * errors and timeouts, stack-trace locations (Python, Node, plain path:line), JSON lines,
 * and per-function summaries (last / p50 / p95 duration, max memory, cold starts, errors,
 * timeouts). Pure functions, no I/O except logline_resolve_source (stat). */
#ifndef LAMBDECK_LOGLINE_H
#define LAMBDECK_LOGLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/util.h"

enum logline_kind {
	LOGLINE_PLAIN,
	LOGLINE_START,   /* START RequestId: ... */
	LOGLINE_END,     /* END RequestId: ... */
	LOGLINE_REPORT,  /* REPORT RequestId: ... Duration: ... */
	LOGLINE_ERROR,   /* an error: ERROR/FATAL level, an uncaught exception, a function error */
	LOGLINE_TIMEOUT, /* ... Task timed out after N seconds */
};

/* What a line is. Errors are lines the runtime or the interpreter marks as such: a Node.js
 * or Python logging line of level ERROR or FATAL (CRITICAL), "[ERROR] ..." (the Python
 * runtime's uncaught exception), a line that starts a traceback ("Traceback (most recent
 * call last):") or a JavaScript error ("TypeError: ..."), an "errorType"/"errorMessage"
 * object, INIT_REPORT ... Status: error. A message that merely contains the word
 * ("processing ErrorQueue", an INFO line quoting "Exception") is PLAIN. */
enum logline_kind logline_classify(const char *msg, size_t len);

/* The fields of a line written by a managed runtime's logger. Node.js:
 * "2026-11-24T11:00:00.000Z\t<request id>\tINFO\t<message>"; Python logging:
 * "[INFO]\t2026-11-24T11:00:00.000Z\t<request id>\t<message>"; the Python runtime's error
 * line "[ERROR] Type: message". Multi-line messages keep their separators ('\r' from the
 * Node.js runtime, '\n'); see logline_next_part. Pointers are into the line. */
struct logline_fields {
	const char *level; /* "INFO", "ERROR", "WARN" ..., NULL when the line has no level */
	size_t level_len;
	const char *request_id; /* NULL when absent */
	size_t request_id_len;
	const char *message; /* the message after the runtime's prefix (the whole line when
	                      * there is none) */
	size_t message_len;
};
/* Returns true when the line has a runtime prefix (level, and for the tab forms a time and
 * a request id); false otherwise, with message = the whole line and no level. */
bool logline_parse_fields(const char *msg, size_t len, struct logline_fields *out);
/* Splits a multi-line message: the part that starts at *pos runs to the next '\r', '\n' or
 * "\r\n"; sets *start and *part_len to it, moves *pos past its separator and returns true;
 * false when no part is left. Start with *pos = 0; an empty message is one empty part. */
bool logline_next_part(const char *msg, size_t len, size_t *pos, size_t *start, size_t *part_len);

struct logline_report {
	char request_id[64];
	double duration_ms;
	double billed_ms;
	int memory_mb;
	int max_memory_mb;
	double init_ms; /* valid when cold */
	bool cold;      /* "Init Duration" present */
	bool timed_out; /* "Status: timeout" present (newer runtimes) */
};
/* Parses a REPORT line (tab- or space-separated fields, any order after the id). Returns
 * false when msg is not a REPORT line with at least a Duration. */
bool logline_parse_report(const char *msg, size_t len, struct logline_report *out);

/* A source location found in a log line. */
struct logline_location {
	char path[512]; /* as written in the line, e.g. "/var/task/app.py" or "src/app.ts" */
	int line;       /* 1-based */
	int column;     /* 0 when unknown */
};
/* Finds a stack-trace location: Python `File "/var/task/app.py", line 12`, Node
 * `at fn (/var/task/index.js:5:11)` / `at /var/task/index.js:5:11`, or a plain
 * `path/file.ext:LINE[:COL]`. Returns false when there is none. */
bool logline_find_location(const char *msg, size_t len, struct logline_location *out);
/* Maps a location's path into the function's code directory: "/var/task/X" becomes
 * code_dir/X; otherwise the longest tail of the path that exists under code_dir (so a copy
 * the emulator runs maps back to the source); else an existing absolute path is kept.
 * Returns a caller-freed path of an existing regular file, or NULL. */
char *logline_resolve_source(const char *code_dir, const char *path);

/* If the message (after an optional runtime prefix such as
 * "2026-11-24T11:00:00.000Z\t<request id>\tINFO\t") is a JSON object or array, appends it
 * re-printed (compact on one line, or pretty over several) to out after the prefix and
 * returns true; otherwise returns false and leaves out alone. */
bool logline_format_json(const char *msg, size_t len, bool pretty, struct buf *out);

/* Per-function summary from REPORT lines, errors and timeouts. Keeps the last 1000
 * durations for the percentiles. */
#define LOGLINE_STATS_WINDOW 1000
struct logline_stats {
	size_t invocations;
	size_t cold_starts;
	size_t errors;
	size_t timeouts;
	double last_ms;
	int max_memory_mb;
	int memory_mb;
	double window[LOGLINE_STATS_WINDOW];
	size_t n_window, next;
};
void logline_stats_add(struct logline_stats *s, const char *msg, size_t len);
double logline_stats_percentile(const struct logline_stats *s, double p); /* 0 when empty */
/* "12 inv  last 3.1 ms  p50 2.9  p95 8.0  41/128 MB  2 cold  1 err  0 timeout" */
void logline_stats_format(const struct logline_stats *s, struct buf *out);

#endif
