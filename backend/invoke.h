/* invoke.h - invoking a project function with an event, locally (emulator) or on AWS,
 * through the aws client (backend/aws/aws.h) configured by backend/mode.h. Every result is
 * also appended to the project's history (backend/history.h), failures included.
 *
 * Call order:
 *   struct invoke_ctx *c = invoke_ctx_new(loop, project, &mode_options, &err);
 *        (or invoke_ctx_new_with_mode(loop, project, mode) to share the console's mode)
 *   struct invoke_op *op = invoke_start(c, &req, done_cb, user, &err);
 *        done_cb runs once on the loop; after invoke_cancel it runs with err code
 *        "Cancelled" (synchronously from invoke_cancel unless a deploy step is running).
 *        The result is valid only during the callback (copy what you keep).
 *   invoke_ctx_free(c);   (ends what is in flight WITHOUT callbacks; run the loop once more;
 *                          a cancelled deploy step keeps the ctx alive until it has stopped)
 * A CLI not yet running its loop can use invoke_run_sync(), which runs the loop until done.
 *
 * In LOCAL mode, before the first invocation of a function (and whenever its code or
 * settings changed), the function is quick-built and deployed to the emulator so what runs
 * is what is on disk (backend/build.h, backend/deploy.h).
 *
 * Ownership: the ctx borrows project (and a mode given to invoke_ctx_new_with_mode) and must
 * not outlive them. The console's ctx belongs to its session (backend/session.h), which
 * swaps the project on a reload and keeps the previous one while the ctx is busy. Strings in struct
 * invoke_request are copied by invoke_start. */
#ifndef LAMBDECK_INVOKE_H
#define LAMBDECK_INVOKE_H

#include <stdbool.h>
#include <stddef.h>

#include <uv.h>

#include "backend/history.h"
#include "backend/mode.h"
#include "backend/project.h"
#include "backend/util.h"

/* AWS limits (AWS-FACTS.md): checked before sending. */
#define INVOKE_MAX_SYNC_PAYLOAD  (6 * 1024 * 1024)
#define INVOKE_MAX_ASYNC_PAYLOAD (1024 * 1024)

enum invoke_type {
	INVOKE_REQUEST_RESPONSE,
	INVOKE_EVENT,
	INVOKE_DRY_RUN,
};
const char *invoke_type_name(enum invoke_type t); /* "RequestResponse", "Event", "DryRun" */
int invoke_type_parse(const char *s, enum invoke_type *out); /* case-insensitive; -1 if bad */

struct invoke_request {
	const char *function;  /* project (logical) function name; deployed name is resolved */
	const char *qualifier; /* version or alias; NULL = $LATEST */
	enum invoke_type type;
	const char *event_name; /* recorded in history: saved event name, "template:x", path, "-" */
	const char *payload;    /* JSON text */
	size_t payload_len;
	bool no_history; /* don't append to .lambdeck/history.jsonl */
	bool no_update;  /* LOCAL: skip the build + deploy before invoking */
	/* Optional progress of this invocation (else the ctx's, invoke_ctx_set_phase_cb). */
	void (*phase_cb)(const char *phase, void *user);
	void *phase_user;
};

struct invoke_result {
	int status;                 /* HTTP status; 0 when there was no response */
	const char *function_error; /* X-Amz-Function-Error ("Unhandled"), NULL if none */
	const char *error_type;     /* "errorType" from the payload when function_error, or NULL */
	const char *payload;        /* raw response bytes (NUL-terminated), "" when none */
	size_t payload_len;
	const char *pretty; /* pretty-printed JSON, or the raw payload sanitised for display */
	bool payload_is_json;
	const char *log_tail; /* decoded X-Amz-Log-Result (sanitised), NULL if none */
	const char *request_id;
	const char *executed_version;
	double client_ms;   /* client-measured: request sent -> response complete */
	double duration_ms; /* REPORT Duration; < 0 when unknown */
	double billed_ms;
	double init_ms;         /* Init Duration (cold start); < 0 when absent */
	int memory_mb;          /* REPORT Memory Size; < 0 when unknown */
	int max_memory_mb;      /* REPORT Max Memory Used; < 0 when unknown */
	const char *history_id; /* id of the appended history entry, NULL if none */
	struct lk_error err;    /* set when the call itself failed (network, API error, refused) */
	bool updated;           /* LOCAL: a build + deploy ran before this invocation */
};

/* Parses the REPORT line of a log tail into r's duration fields (pure; used by tests too). */
void invoke_parse_report(const char *log_tail, struct invoke_result *r);

struct invoke_ctx;
struct invoke_op;
typedef void (*invoke_done_fn)(const struct invoke_result *r, void *user);
/* Optional progress for the status bar: "building", "deploying", "invoking". */
typedef void (*invoke_phase_fn)(const char *phase, void *user);

struct invoke_ctx *invoke_ctx_new(uv_loop_t *loop, const struct project *project,
                                  const struct mode_options *mo, struct lk_error *err);
struct invoke_ctx *invoke_ctx_new_with_mode(uv_loop_t *loop, const struct project *project,
                                            struct mode *mode, struct lk_error *err);
void invoke_ctx_set_phase_cb(struct invoke_ctx *c, invoke_phase_fn cb, void *user);
/* Shares a client (the session's, backend/session.h) instead of making one when the mode is
 * ready: call before the mode is ready; the client must outlive the ctx. */
void invoke_ctx_set_client(struct invoke_ctx *c, struct aws_client *client);
/* The client in use (NULL until the mode is ready). */
struct aws_client *invoke_ctx_client(const struct invoke_ctx *c);
/* Starts acquiring the mode without an invocation (a no-op once started). */
int invoke_ctx_acquire(struct invoke_ctx *c);
/* Replaces the borrowed project (a reload): later steps read the new one. An operation in
 * flight may still use the previous project until invoke_ctx_busy() turns false. */
void invoke_ctx_set_project(struct invoke_ctx *c, const struct project *project);
/* True while operations or deploy steps are in flight. */
bool invoke_ctx_busy(const struct invoke_ctx *c);
/* cb runs when the ctx is really destroyed (after invoke_ctx_free, or later when a
 * cancelled deploy step had to stop first). */
void invoke_ctx_on_destroyed(struct invoke_ctx *c, void (*cb)(void *user), void *user);
uv_loop_t *invoke_ctx_loop(const struct invoke_ctx *c);
const struct project *invoke_ctx_project(const struct invoke_ctx *c);
/* "local" or "aws". */
const char *invoke_ctx_mode_name(const struct invoke_ctx *c);
void invoke_ctx_free(struct invoke_ctx *c);

/* Validates (known function: "UnknownFunction"; JSON payload: "ParseError" with line:col;
 * size limits: "PayloadTooLarge") before anything is sent, and starts. Returns NULL with err
 * set when refused up front (nothing sent, nothing recorded). Everything that was attempted
 * is recorded in history, failures (network, API errors, deploy failures) included. */
struct invoke_op *invoke_start(struct invoke_ctx *c, const struct invoke_request *req,
                               invoke_done_fn cb, void *user, struct lk_error *err);
void invoke_cancel(struct invoke_op *op);
/* Cancels without calling back (the caller is going away); records nothing. */
void invoke_abandon(struct invoke_op *op);

/* Runs the loop until the invocation finished; calls cb like invoke_start. Returns 0 when
 * the call returned a response (function errors included), -1 with err otherwise. Never
 * call it from inside a loop callback. */
int invoke_run_sync(struct invoke_ctx *c, const struct invoke_request *req, invoke_done_fn cb,
                    void *user, struct lk_error *err);

/* Replays history entry e (same function, qualifier, type and event). */
struct invoke_op *invoke_replay(struct invoke_ctx *c, const struct history_entry *e,
                                invoke_done_fn cb, void *user, struct lk_error *err);

#endif
