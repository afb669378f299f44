/* logs_api.h - the emulator's CloudWatch Logs JSON API (Logs_20140328.*) over the logstore.
 * logs_api_handle() (declared in emu_http.h) is the glue the server calls; the functions
 * here are the protocol logic without HTTP, so they can be tested directly.
 *
 * Operations: DescribeLogGroups, DescribeLogStreams, GetLogEvents, FilterLogEvents,
 * CreateLogGroup, CreateLogStream, PutLogEvents (logs_api_call) and StartLiveTail
 * (logs_tail_*: an event stream of initial-response, sessionStart, sessionUpdate...).
 * Everything runs on the emulator's loop thread. */
#ifndef LAMBDECK_EMULATOR_LOGS_API_H
#define LAMBDECK_EMULATOR_LOGS_API_H

#include <stddef.h>
#include <uv.h>

#include "backend/emulator/logstore.h"
#include "backend/util.h"

struct logs_api_ctx {
	struct logstore *store;
	uv_loop_t *loop;     /* for live-tail timers */
	const char *region;  /* for ARNs */
	const char *account; /* for ARNs */
};

/* Live tail: a pending batch is flushed this many ms after its first event (so at most
 * this late), a keep-alive sessionUpdate is sent after a second without events, and a
 * session ends with SessionTimeoutException after 3 hours, as on AWS. */
#define LOGS_TAIL_FLUSH_MS       25
#define LOGS_TAIL_HEARTBEAT_MS   1000
#define LOGS_TAIL_MAX_SESSION_MS (3LL * 3600 * 1000)
#define LOGS_TAIL_MAX_PER_UPDATE 500
#define LOGS_TAIL_MAX_PENDING    10000 /* beyond this a batch is sampled (events dropped) */

/* Runs one non-streaming operation on a JSON request body. Returns the HTTP status; on 200
 * out holds the JSON response, otherwise err has the AWS error code and message. */
int logs_api_call(const struct logs_api_ctx *ctx, const char *operation, const char *body,
                  size_t len, struct buf *out, struct lk_error *err);

/* Call order for StartLiveTail: logs_tail_new validates the request (NULL + err with the
 * HTTP status in err->status on a bad one: answer with an error); then the caller opens
 * the stream and calls logs_tail_run, after which write() receives encoded event-stream
 * frames and end() is called once if the session ends by itself (timeout). The caller calls
 * logs_tail_stop exactly once when the stream closes (client gone, after end(), or
 * shutdown); the session frees itself once its timers are closed. */
struct logs_tail_session;
struct logs_tail_session *logs_tail_new(const struct logs_api_ctx *ctx, const char *body,
                                        size_t len, struct lk_error *err);
void logs_tail_run(struct logs_tail_session *s,
                   void (*write)(void *user, const void *data, size_t len), void (*end)(void *user),
                   void *user);
void logs_tail_stop(struct logs_tail_session *s); /* accepts NULL */

/* Log group name from a name or an ARN (arn:aws:logs:REGION:ACCOUNT:log-group:NAME[:*]).
 * Caller frees. */
char *logs_api_group_name(const char *identifier);

#endif
