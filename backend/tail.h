/* tail.h - live tail of a set of CloudWatch log groups, on the libuv loop, through the AWS
 * client (aws.h): StartLiveTail sessions of up to 10 groups each (more groups -> more
 * sessions), renewed before the 3-hour session limit, with a fallback to FilterLogEvents
 * polling across all streams (1 s interval, dedupe by eventId, backoff on throttling) for
 * groups a live session cannot serve (live tail refused / unavailable, group not created
 * yet — then it moves to live once it exists). History (--since) comes from
 * FilterLogEvents first; live events that arrive meanwhile are held and deduplicated.
 *
 * Call order:
 *   struct tail *t = tail_start(client, &opts, &callbacks, user);
 *   ... loop runs: on_event per line (in order per group), on_status when the method
 *   changes, on_done once (only when !follow, or on a fatal error) ...
 *   tail_stop(t);   // cancels everything; no callback after it returns; safe from inside
 *                   // a callback. Run the loop once more so its timers close.
 * The client must outlive the tail. Options are copied. */
#ifndef LAMBDECK_TAIL_H
#define LAMBDECK_TAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/aws/aws.h"
#include "backend/util.h"

struct tail_source {
	const char *group; /* "/aws/lambda/<deployed name>" */
	const char *label; /* shown to the user, e.g. the function's name */
};

struct tail_options {
	const struct tail_source *sources;
	size_t n_sources;
	const char *pattern; /* CloudWatch filter pattern, NULL = everything */
	int64_t since_ms;    /* history from this Unix ms time; 0 = none (follow from now) */
	bool follow;
	bool no_live;           /* poll only (tests, endpoints without StartLiveTail) */
	int poll_interval_ms;   /* 0 = 1000 */
	int64_t renew_after_ms; /* 0 = 2 h 55 min (sessions end after 3 h) */
};

/* Valid during the callback only. */
struct tail_event {
	size_t source; /* index into options.sources */
	const char *label;
	const char *group;
	const char *stream;
	const char *event_id; /* NULL when the line came from a live session */
	int64_t timestamp;
	int64_t ingestion_time;
	const char *message;
	size_t message_len;
};

struct tail_callbacks {
	void (*on_event)(void *user, const struct tail_event *ev);
	void (*on_status)(void *user, const char *status); /* may be NULL */
	/* history finished (not following) or a fatal error (err set). May be NULL. */
	void (*on_done)(void *user, const struct lk_error *err);
};

struct tail;
struct tail *tail_start(struct aws_client *client, const struct tail_options *o,
                        const struct tail_callbacks *cb, void *user);
void tail_stop(struct tail *t); /* accepts NULL */

/* "live tail (3 groups)", "polling every 1 s (live tail unavailable: ...)", "live tail (2
 * groups) + polling 1 (not created yet)". Owned by the tail, valid until the next change. */
const char *tail_status(const struct tail *t);
/* Counts for tests and the pane: groups currently served live / by polling. */
size_t tail_live_count(const struct tail *t);
size_t tail_poll_count(const struct tail *t);

/* Parses "10m", "2h", "30s", "1d", "90" (minutes) or an ISO-8601 UTC time
 * "2026-11-24T10:00:00Z" into a Unix ms time relative to now_ms. Returns -1 on bad input. */
int64_t tail_parse_since(const char *s, int64_t now_ms);

#endif
