/* aws.h - the AWS client: configuration and credential resolution as the SDKs do it, SigV4
 * signing, and asynchronous Lambda / CloudWatch Logs / S3 / Resource Groups Tagging calls on
 * the libuv loop (through backend/http.h, retries included).
 *
 * Call order:
 *   struct aws_client *c = aws_client_new(loop, &opts, &err);  // reads env + config files
 *   struct aws_op *op = aws_lambda_get_function(c, "fn", NULL, done, user);
 *   ... loop runs; done(user, result) is called exactly once unless aws_op_cancel(op) came
 *   first (then never). The handle is valid until done returns.
 *   aws_client_free(c);  // cancels what still runs (no callbacks); run the loop once more
 *                        // so its handles close before uv_loop_close()
 *
 * Results: done receives a struct aws_result it OWNS (free it with aws_result_free; keep it
 * as long as you like). result->err.code[0] == '\0' means success. Errors carry the AWS code
 * (e.g. "ResourceConflictException"), message, request id and HTTP status; lambdeck's own
 * codes are "NetworkError", "Timeout", "ConnectionRefused", "TLSError", "MissingCredentials",
 * "CredentialProcessError", "NoRegion", "InvalidParameter", "ParseError", "UpdateFailed",
 * "WaitTimeout", "EventStreamError". Messages never contain secrets.
 *
 * Ops never fail synchronously: parameter errors are reported through done on the next loop
 * iteration. Strings/buffers in parameter structs are copied before the op function returns.
 *
 * Headless use (CLI): run one op to completion with the waiter:
 *   struct aws_waiter w = {0};
 *   aws_lambda_get_function(c, "fn", NULL, aws_waiter_done, &w);
 *   struct aws_result *r = aws_waiter_run(c, &w);   // runs the loop until done fired
 *   ... aws_result_free(r);
 */
#ifndef LAMBDECK_AWS_H
#define LAMBDECK_AWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <uv.h>

#include "backend/util.h"

enum aws_service {
	AWS_SVC_LAMBDA,
	AWS_SVC_LOGS,
	AWS_SVC_S3,
	AWS_SVC_TAGGING,
	AWS_SVC_COUNT,
};

/* "lambda", "logs", "s3", "tagging" (the SigV4 signing names). */
const char *aws_service_name(enum aws_service s);

/* What the caller (CLI options, mode.h's struct mode_config) imposes; everything NULL means
 * "as the AWS CLI would resolve it from the environment and files". */
struct aws_options {
	const char *profile;      /* --profile; else AWS_PROFILE; else "default" */
	const char *region;       /* --region; else AWS_REGION, AWS_DEFAULT_REGION, profile */
	const char *endpoint_url; /* --endpoint-url: every service */
	/* else AWS_SHARED_CREDENTIALS_FILE, ~/.aws/credentials. Given explicitly (LOCAL mode: the
	 * emulator's generated file), the environment's AWS_ACCESS_KEY_ID & co. are ignored. */
	const char *credentials_file;
	const char *config_file;     /* else AWS_CONFIG_FILE, ~/.aws/config */
	bool ignore_env_credentials; /* true: skip AWS_ACCESS_KEY_ID & co. (LOCAL mode uses the
	                                emulator's credentials file, never the user's keys) */
	int max_attempts;            /* 0: profile max_attempts, AWS_MAX_ATTEMPTS, else 3 */
	long connect_timeout_ms;     /* 0: 10 s */
	long timeout_ms;             /* 0: 60 s per attempt */
	const char *user_agent;      /* NULL: "lambdeck/<version>" */
};

/* The resolved configuration, with where each value came from (for `lambdeck doctor`).
 * Strings are owned by the client and valid until aws_client_free. */
struct aws_config {
	const char *profile;
	const char *profile_source;          /* "--profile", "AWS_PROFILE", "default" */
	const char *region;                  /* NULL when nothing set it */
	const char *region_source;           /* "--region", "AWS_REGION", "AWS_DEFAULT_REGION",
	                                        "profile <name> in <file>", "default for custom endpoint" */
	const char *endpoint[AWS_SVC_COUNT]; /* full base URL, no trailing slash */
	const char *endpoint_source[AWS_SVC_COUNT]; /* "--endpoint-url", "AWS_ENDPOINT_URL_LAMBDA",
	                                               "AWS_ENDPOINT_URL", "profile endpoint_url",
	                                               "default" */
	bool custom_endpoint[AWS_SVC_COUNT];        /* not AWS's own host */
	const char *ca_bundle;                      /* AWS_CA_BUNDLE / profile ca_bundle or NULL */
	const char *credentials_file;
	const char *config_file;
	int max_attempts;
};

/* Credentials as resolved; the secret is never exposed by this struct's describe fields. */
struct aws_credentials_info {
	const char *access_key_id_hint; /* e.g. "AKIA****WXYZ" (first 4 + last 4 only) */
	const char
	    *source; /* "environment", "shared credentials file <path> [<profile>]",
	                "config file <path> [profile <p>]", "credential_process (profile p)" */
	bool has_session_token;
	int64_t expiration_ms; /* Unix ms, 0 when they do not expire */
};

struct aws_client;
struct aws_op;

struct aws_client *aws_client_new(uv_loop_t *loop, const struct aws_options *o,
                                  struct lk_error *err);
void aws_client_free(struct aws_client *c);
uv_loop_t *aws_client_loop(struct aws_client *c);
const struct aws_config *aws_client_config(const struct aws_client *c);

/* ---- results ---- */

struct aws_result {
	struct lk_error err; /* err.code[0] == '\0': success */
	long status;         /* HTTP status, 0 if none */
	cJSON *json;         /* parsed JSON body or NULL (owned; cJSON_DetachItem... to keep
	                        parts, or steal it and set to NULL) */
	struct buf body;     /* raw body */
	char **header_names; /* response headers, lower-cased names */
	char **header_values;
	size_t n_headers;
	int attempts;
	/* Invoke only: */
	char *function_error;   /* X-Amz-Function-Error ("Unhandled"...), NULL if none */
	char *log_tail;         /* X-Amz-Log-Result decoded (LogType=Tail), NULL if none */
	char *executed_version; /* X-Amz-Executed-Version */
	/* Credentials ops only (aws_client_resolve_credentials): */
	struct aws_credentials_info creds;
};
void aws_result_free(struct aws_result *r); /* accepts NULL */
const char *aws_result_header(const struct aws_result *r, const char *name);
bool aws_result_ok(const struct aws_result *r);

typedef void (*aws_done_fn)(void *user, struct aws_result *r);
/* Progress of uploads/downloads and of waiters: phase, done, total (0 if unknown). */
typedef void (*aws_progress_fn)(void *user, const char *phase, uint64_t done, uint64_t total);

/* Cancels an op; its done callback will not be called. NULL is ignored. */
void aws_op_cancel(struct aws_op *op);
/* Attaches a progress callback (same user pointer as done). */
void aws_op_set_progress(struct aws_op *op, aws_progress_fn fn);

/* Runs the credential chain (env, shared files, credential_process — possibly spawning it)
 * and reports where they came from in r->creds; no network call. */
struct aws_op *aws_client_resolve_credentials(struct aws_client *c, aws_done_fn done, void *user);

/* ---- generic calls (used by the typed ops; also for anything not wrapped below) ---- */

/* JSON protocol (Logs, Tagging): POST / with X-Amz-Target: <target>, body = JSON of `body`
 * (not taken over; NULL means {}). */
struct aws_op *aws_call_json(struct aws_client *c, enum aws_service svc, const char *target,
                             const cJSON *body, aws_done_fn done, void *user);
/* REST-JSON (Lambda): method, path (segments already percent-encoded; use
 * aws_path_escape), query without '?' (already encoded) or NULL, extra headers as a
 * NULL-terminated list of name, value, name, value... (or NULL), body (copied). For S3
 * (svc AWS_SVC_S3) the S3 signing rules apply. */
struct aws_op *aws_call_rest(struct aws_client *c, enum aws_service svc, const char *method,
                             const char *path, const char *query, const char *const *headers,
                             const void *body, size_t body_len, aws_done_fn done, void *user);
/* Percent-encodes one path segment or query value (RFC 3986 unreserved kept). Caller frees. */
char *aws_path_escape(const char *s);

/* ---- Lambda ---- */

/* One page (marker NULL = first; next page's marker is json "NextMarker"), or every page when
 * all_pages (then json is {"Functions":[...all...]}). max_items 0 = service default. */
struct aws_op *aws_lambda_list_functions(struct aws_client *c, const char *marker, int max_items,
                                         bool all_pages, aws_done_fn done, void *user);
/* name: function name, ARN or partial ARN; qualifier NULL for $LATEST. */
struct aws_op *aws_lambda_get_function(struct aws_client *c, const char *name,
                                       const char *qualifier, aws_done_fn done, void *user);
struct aws_op *aws_lambda_get_function_configuration(struct aws_client *c, const char *name,
                                                     const char *qualifier, aws_done_fn done,
                                                     void *user);

struct aws_update_code {
	const char *function_name;
	const void *zip; /* ZipFile bytes (sent base64), or NULL with s3_bucket/s3_key */
	size_t zip_len;
	const char *s3_bucket;
	const char *s3_key;
	const char *s3_object_version;
	const char *revision_id; /* optimistic locking, may be NULL */
	bool publish;
	bool dry_run;
};
struct aws_op *aws_lambda_update_function_code(struct aws_client *c,
                                               const struct aws_update_code *p, aws_done_fn done,
                                               void *user);
/* body: the UpdateFunctionConfiguration request JSON (Timeout, MemorySize, Environment, ...). */
struct aws_op *aws_lambda_update_function_configuration(struct aws_client *c, const char *name,
                                                        const cJSON *body, aws_done_fn done,
                                                        void *user);
/* body: the CreateFunction request JSON; Code.ZipFile must be base64 (aws_create_code_zip
 * helps). */
struct aws_op *aws_lambda_create_function(struct aws_client *c, const cJSON *body, aws_done_fn done,
                                          void *user);
/* Adds {"Code":{"ZipFile":base64(zip)}} to a CreateFunction body. */
void aws_create_code_zip(cJSON *body, const void *zip, size_t zip_len);
struct aws_op *aws_lambda_delete_function(struct aws_client *c, const char *name,
                                          const char *qualifier, aws_done_fn done, void *user);

enum aws_invocation_type {
	AWS_INVOKE_REQUEST_RESPONSE,
	AWS_INVOKE_EVENT,
	AWS_INVOKE_DRY_RUN,
};
struct aws_invoke {
	const char *function_name;
	const char *qualifier; /* NULL: $LATEST */
	enum aws_invocation_type type;
	bool log_tail;              /* LogType=Tail: result->log_tail gets the decoded 4 KB */
	const char *client_context; /* JSON text, base64-encoded for you; NULL for none */
	const void *payload;        /* NULL/0: empty */
	size_t payload_len;
};
/* Result: status 200/202/204; body = the function's response bytes (json parsed when JSON);
 * function_error set when the function failed (the op itself still succeeded). */
struct aws_op *aws_lambda_invoke(struct aws_client *c, const struct aws_invoke *p, aws_done_fn done,
                                 void *user);

/* Polls GetFunctionConfiguration with backoff (500 ms doubling to 5 s) until State is not
 * Pending and LastUpdateStatus is not InProgress. Success: json = the final configuration.
 * Failed: err.code "UpdateFailed" with LastUpdateStatusReason (or StateReason) as message.
 * timeout_ms 0: 5 minutes ("WaitTimeout"). Progress phase "waiting", done = polls. */
struct aws_op *aws_lambda_wait_updated(struct aws_client *c, const char *name, long timeout_ms,
                                       aws_done_fn done, void *user);

/* ---- CloudWatch Logs ---- */

/* Optional fields: NULL / 0 mean "not sent". */
struct aws_logs_groups_query {
	const char *prefix;
	const char *next_token;
	int limit;
	bool all_pages; /* json {"logGroups":[...]} */
};
struct aws_op *aws_logs_describe_log_groups(struct aws_client *c,
                                            const struct aws_logs_groups_query *q, aws_done_fn done,
                                            void *user);

struct aws_logs_streams_query {
	const char *group;
	const char *prefix;
	bool order_by_last_event_time; /* orderBy LastEventTime */
	bool descending;
	const char *next_token;
	int limit;
};
struct aws_op *aws_logs_describe_log_streams(struct aws_client *c,
                                             const struct aws_logs_streams_query *q,
                                             aws_done_fn done, void *user);

struct aws_logs_get_query {
	const char *group;
	const char *stream;
	int64_t start_ms, end_ms; /* 0: not sent */
	const char *next_token;
	bool start_from_head;
	int limit;
};
struct aws_op *aws_logs_get_log_events(struct aws_client *c, const struct aws_logs_get_query *q,
                                       aws_done_fn done, void *user);

struct aws_logs_filter_query {
	const char *group;
	const char *const *stream_names; /* NULL-terminated or NULL */
	const char *stream_prefix;
	int64_t start_ms, end_ms;
	const char *pattern;
	const char *next_token;
	int limit;
	bool all_pages; /* follow nextToken; json {"events":[...], "searchedLogStreams":[]} */
};
struct aws_op *aws_logs_filter_log_events(struct aws_client *c,
                                          const struct aws_logs_filter_query *q, aws_done_fn done,
                                          void *user);

/* StartLiveTail: a long-lived stream. on_event is called for every decoded frame as it
 * arrives (the protocol's "initial-response" is skipped): event_type "sessionStart" /
 * "sessionUpdate" (payload JSON: sessionResults[] with
 * logGroupIdentifier, logStreamName, timestamp, message, ingestionTime) or, for an exception
 * frame, message_type "exception" and event_type its :exception-type. done is called once
 * when the stream ends (server closed: success; error: code from the exception frame or
 * "EventStreamError" for a corrupt/truncated frame). Cancel to stop tailing. */
struct aws_live_tail {
	const char *const *log_group_identifiers; /* NULL-terminated, 1..10 ARNs or names */
	const char *const *stream_names;          /* NULL-terminated or NULL */
	const char *const *stream_prefixes;       /* NULL-terminated or NULL */
	const char *pattern;                      /* NULL: everything */
};
typedef void (*aws_stream_event_fn)(void *user, const char *message_type, const char *event_type,
                                    const cJSON *payload);
struct aws_op *aws_logs_start_live_tail(struct aws_client *c, const struct aws_live_tail *p,
                                        aws_stream_event_fn on_event, aws_done_fn done, void *user);

/* ---- S3 ---- */

/* PutObject from memory (data) or from a file (file_path, streamed). Result headers carry
 * ETag / x-amz-version-id. */
struct aws_s3_put {
	const char *bucket;
	const char *key;
	const void *data;
	size_t data_len;
	const char *file_path;
	const char *content_type; /* NULL: application/octet-stream */
};
struct aws_op *aws_s3_put_object(struct aws_client *c, const struct aws_s3_put *p, aws_done_fn done,
                                 void *user);
/* GetObject: the object's bytes in result->body (an S3 error such as NoSuchKey in err). */
struct aws_op *aws_s3_get_object(struct aws_client *c, const char *bucket, const char *key,
                                 aws_done_fn done, void *user);

/* ---- Resource Groups Tagging ---- */

/* GetResources: tag filters as key + NULL-terminated values (values NULL = any value),
 * resource types e.g. "lambda:function". all_pages concatenates ResourceTagMappingList. */
struct aws_tag_filter {
	const char *key;
	const char *const *values;
};
struct aws_tagging_query {
	const struct aws_tag_filter *filters;
	size_t n_filters;
	const char *const *resource_types; /* NULL-terminated or NULL */
	const char *pagination_token;
	bool all_pages;
};
struct aws_op *aws_tagging_get_resources(struct aws_client *c, const struct aws_tagging_query *q,
                                         aws_done_fn done, void *user);

/* ---- headless helper ---- */

struct aws_waiter {
	bool done;
	struct aws_result *result;
};
void aws_waiter_done(void *user, struct aws_result *r); /* user = struct aws_waiter * */
/* Runs the client's loop until w->done; returns the result (caller frees). Never call it
 * from inside a loop callback. */
struct aws_result *aws_waiter_run(struct aws_client *c, struct aws_waiter *w);

#endif
