/* emu_internal.h - private interfaces between the emulator's own files (server.c,
 * functions.c, workers.c, lambda_api.c, emulator.c). Not for use outside backend/emulator.
 * Everything runs on the emulator's single loop thread. */
#ifndef LAMBDECK_EMULATOR_EMU_INTERNAL_H
#define LAMBDECK_EMULATOR_EMU_INTERNAL_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "backend/emulator/emu_http.h"
#include "backend/emulator/emulator.h"
#include "backend/util.h"

#define EMU_ACCOUNT_ID        "000000000000"
#define EMU_SYNC_PAYLOAD_MAX  (6u * 1024 * 1024)
#define EMU_EVENT_PAYLOAD_MAX (1u * 1024 * 1024)
#define EMU_ZIP_MAX           (50u * 1024 * 1024)
#define EMU_S3_ZIP_MAX        (256u * 1024 * 1024) /* a zip read from an S3 code location */
#define EMU_UNZIPPED_MAX      (250u * 1024 * 1024)
#define EMU_TAIL_BYTES        4096

/* A runtime's response or error above this gets 413 from the Runtime API (6 MiB + 100). */
#define EMU_RUNTIME_RESPONSE_MAX (6u * 1024 * 1024 + 100)
/* Event invocations waiting for a worker hold at most this many bytes in all (payloads and
 * bookkeeping); beyond it Event invokes are throttled (429) as AWS throttles. */
#define EMU_EVENT_QUEUE_MAX ((size_t)32 * 1024 * 1024)

/* Sets err (when not NULL) to an API error: HTTP status, AWS error code, message; returns -1
 * so callers can `return emu_set_error(...)`. */
int emu_set_error(struct lk_error *err, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ---- server.c: one libmicrohttpd daemon driven from the uv loop ---- */
struct emu_server;
typedef void (*emu_handler_fn)(void *user, struct emu_request *req);

/* Listens on host:port (port 0 = ephemeral). Request bodies above max_body are not buffered:
 * the body is read and dropped, then a POST/PUT goes to the handler with
 * emu_request_too_large() true; what it does not answer gets a generic 413. */
struct emu_server *emu_server_new(uv_loop_t *loop, const char *host, int port, size_t max_body,
                                  emu_handler_fn fn, void *user, struct lk_error *err);
/* The AWS-facing API server: as emu_server_new, plus connections idle (or stalled mid-request)
 * for idle_timeout_s are closed (suspended ones - a waiting Invoke, a quiet live tail - are
 * not idle), a body over max_body is read to its end and dropped and fn then answers it
 * (emu_request_too_large() true, body empty, before authentication), error types outside
 * AWS's become ServiceException, and redact (the state dir) never appears in a message. */
struct emu_server_api {
	unsigned idle_timeout_s;
	const char *redact;
};
struct emu_server *emu_server_new_api(uv_loop_t *loop, const char *host, int port, size_t max_body,
                                      const struct emu_server_api *api, emu_handler_fn fn,
                                      void *user, struct lk_error *err);
int emu_server_port(const struct emu_server *s);
/* From now on a body over max_body is always read to its end, whatever its size (not only
 * up to 4x max_body), before the handler answers it with emu_request_too_large() true: the
 * Runtime API's 413 for an oversize response, after which the worker lives on. */
void emu_server_dispatch_oversize(struct emu_server *s);
/* From now on each accepted connection is first shown to fn (peer address, the server's
 * port); false closes it before anything is read. */
typedef bool (*emu_accept_fn)(void *user, const struct sockaddr *peer, socklen_t len,
                              int local_port);
void emu_server_set_accept_check(struct emu_server *s, emu_accept_fn fn, void *user);
/* Stops listening, closes every connection (pending requests get their abort hook) and
 * frees the server once its loop handles are closed. Accepts NULL. */
void emu_server_free(struct emu_server *s);

/* Called once if the request ends before it was answered (client gone, shutdown); the
 * request must not be used afterwards. */
void emu_request_on_abort(struct emu_request *req, void (*fn)(void *user), void *user);
/* The body of this POST/PUT went over the server's max_body and was read and dropped: the
 * handler is called with an empty body and must answer at once (never defer such a
 * request); if it does not, the server answers a generic 413. */
bool emu_request_too_large(const struct emu_request *req);
const char *emu_request_raw_path(const struct emu_request *req);  /* as sent, still encoded */
const char *emu_request_raw_query(const struct emu_request *req); /* after '?', or "" */
size_t emu_request_header_count(const struct emu_request *req);
void emu_request_header_at(const struct emu_request *req, size_t i, const char **name,
                           const char **value);
void emu_request_set_context(struct emu_request *req, void *ctx);
void *emu_request_context(const struct emu_request *req);

/* ---- functions.c: the function registry, persistence and code extraction ---- */
struct codedir {
	uv_loop_t *loop; /* removal runs on its thread pool */
	char *path;
	int refs;
	bool obsolete; /* replaced or deleted: remove the directory when the last user goes */
};
/* A code directory in use (one reference); removed when obsolete and unused. */
struct codedir *codedir_new(struct emulator *emu, const char *path);
void codedir_ref(struct codedir *c);
void codedir_unref(struct codedir *c);

struct worker;
struct invocation;

struct function {
	char *name;
	char *runtime;
	char *handler; /* may be NULL for provided* */
	char *role;
	char *description;
	int timeout;          /* seconds */
	int memory;           /* MB */
	cJSON *env;           /* object name -> string value, never NULL */
	char code_sha256[48]; /* base64 */
	int64_t code_size;
	char last_modified[40];
	char revision_id[40];
	struct codedir *code; /* current extracted code */
	unsigned generation;  /* bumped on every code/config change: older workers drain */
	bool code_busy;       /* new code is being unpacked off the loop (code NULL: creating) */
	bool deleted;
	int refs; /* registry + workers + invocations */
	struct worker *workers;
	struct invocation *queue_head, *queue_tail; /* Event invocations waiting for a worker */
	struct function *next; /* registry order; for a published version: the next version */
	/* versions.c: a published version is a function of its own (immutable code + config) */
	char *version;             /* NULL: $LATEST, else the version number */
	struct function *base;     /* a version's $LATEST (not counted: cleared on delete) */
	char source_revision[40];  /* a version: the RevisionId of $LATEST it was published from */
	struct function *versions; /* $LATEST: its published versions, ascending */
	struct fn_extra *extra;    /* $LATEST: aliases, tags, concurrency, policy (versions.c) */
	cJSON *settings;           /* kept settings as AWS returns them (settings.c), never NULL */
};

struct aws_client; /* backend/aws/aws.h */

struct emulator {
	uv_loop_t *loop;
	struct emulator_options opt;
	char *state_dir;
	char *functions_dir;
	char *runtimes_dir;
	char *access_key;
	char *secret_key;
	char *credentials_file;
	char *endpoint; /* http://host:port */
	char info_json[1024];
	char *runtime_host;
	struct aws_client *s3; /* S3 code locations: created on first use */
	struct emu_server *api;
	struct logstore *logs;
	struct function *functions; /* sorted by name */
	size_t queued_bytes;        /* Event invocations waiting in every function's queue */
	uv_signal_t *sig_term, *sig_int;
	uv_timer_t *users_timer; /* exit_when_unused: watches <state_dir>/users */
	int unused_ticks;        /* consecutive checks that found no live user */
	int lock_fd;
	struct services_run *services; /* the project's declared services, or NULL */
	bool stopping;
	void (*on_stopped)(void *user);
	void *on_stopped_user;
};

void function_ref(struct function *f);
void function_unref(struct function *f);
struct function *functions_find(struct emulator *emu, const char *name);
/* Loads every persisted function from the state dir. */
int functions_load(struct emulator *emu, struct lk_error *err);
void functions_free_all(struct emulator *emu);
/* Called on the loop when a code install has finished: err NULL when the new code is live,
 * else why it failed (a failed create has removed the function again; f stays valid during
 * the call). */
typedef void (*functions_done_fn)(struct emulator *emu, struct function *f,
                                  const struct lk_error *err, void *user);
/* Create / update from a parsed request; on error sets err (code = AWS error type,
 * status = HTTP status) and returns NULL / -1. Code is decoded, unpacked and stored on the
 * thread pool: create returns the function registered in State Pending, update_code returns
 * 0 with LastUpdateStatus InProgress (the old code keeps serving), and done is called once
 * it is over; update_code returns 1 (done not called) for a DryRun. While code is being
 * installed, updates get 409 ResourceConflictException (functions_busy_error). */
struct function *functions_create(struct emulator *emu, const cJSON *req, functions_done_fn done,
                                  void *user, struct lk_error *err);
int functions_update_code(struct emulator *emu, struct function *f, const cJSON *req,
                          functions_done_fn done, void *user, struct lk_error *err);
int functions_update_config(struct emulator *emu, struct function *f, const cJSON *req,
                            struct lk_error *err);
/* Sets err to AWS's 409 for an operation on a function whose code is being installed. */
int functions_busy_error(const struct emulator *emu, const struct function *f,
                         struct lk_error *err);
void functions_delete(struct emulator *emu, struct function *f);
/* FunctionConfiguration JSON as AWS returns it (caller deletes). */
cJSON *function_config_json(const struct emulator *emu, const struct function *f);
char *function_arn(const struct emulator *emu, const char *name);
/* Extracts a zip into dir with the safety rules; exposed for unit tests. */
int emu_unzip(const void *zip, size_t len, const char *dir, struct lk_error *err);
int emu_rm_rf(const char *path);

/* Builds a function from its stored FunctionConfiguration JSON (no code dir yet). */
struct function *function_from_json(const cJSON *j, struct lk_error *err);
/* Writes <functions>/<name>/config.json for $LATEST (atomic). */
int functions_save(const struct emulator *emu, const struct function *f, struct lk_error *err);
char *function_dir_path(const struct emulator *emu, const char *name);

/* ---- versions.c: published versions, aliases and per-function extras ---- */
struct fn_extra;
/* "$LATEST" or the version number. */
const char *function_version(const struct function *f);
/* ARN of f as invoked with qualifier (NULL: unqualified). */
char *function_arn_q(const struct emulator *emu, const char *name, const char *qualifier);
/* Publishes $LATEST f as a new version (or returns the newest when nothing changed);
 * req may be NULL (Publish on create/update) or the PublishVersion body. */
struct function *versions_publish(struct emulator *emu, struct function *f, const cJSON *req,
                                  struct lk_error *err);
/* Resolves a qualifier ("$LATEST", a version, an alias) of f; for an alias with routing a
 * version is picked by weight. NULL (err set, 404) when it does not exist. */
struct function *versions_resolve(struct emulator *emu, struct function *f, const char *qual,
                                  bool route, struct lk_error *err);
/* Loads the versions and extras of a loaded $LATEST. */
void versions_load(struct emulator *emu, struct function *f);
/* Frees what versions.c hangs on f (called by function_unref). */
void versions_release(struct function *f);
/* Drops every version (function deleted): their workers drain. */
void versions_delete_all(struct emulator *emu, struct function *f);
/* Deletes one version; 409 when an alias uses it. */
int versions_delete(struct emulator *emu, struct function *f, const char *version,
                    struct lk_error *err);
/* Lambda API operations on versions and aliases (answer req). */
void versions_api(struct emulator *emu, struct emu_request *req, int op, struct function *f,
                  const char *param);
/* The function's tags (object) and resource policy statements (array), kept in extra.json:
 * change them, then versions_save_extra. */
cJSON *versions_tags(struct function *f);
cJSON *versions_policy(struct function *f);
void versions_set_reserved(struct function *f, int n);
int versions_save_extra(const struct emulator *emu, struct function *f, struct lk_error *err);
/* Reserved concurrency of f's function, or -1 when none is set. */
int versions_reserved(const struct function *f);
/* Workers alive for f's function across $LATEST and its versions. */
int versions_alive(const struct function *f);

/* ---- settings.c: settings kept and returned as AWS does, and the smaller operations ---- */
/* Validates the settings members of a Create/UpdateFunctionConfiguration request (or a
 * stored configuration); settings_apply then stores them in f->settings. */
int settings_check(const cJSON *req, struct lk_error *err);
void settings_apply(struct function *f, const cJSON *req, bool creating);
/* Adds the settings members of FunctionConfiguration to j. */
void settings_to_json(const struct emulator *emu, const struct function *f, cJSON *j);
/* The function's log group (LoggingConfig.LogGroup, default /aws/lambda/NAME). */
const char *settings_log_group(const struct function *f, char *buf, size_t n);
/* Tags, concurrency, policy, account settings, code signing, URL config, event sources. */
void settings_api(struct emulator *emu, struct emu_request *req, int op, struct function *f,
                  const char *param);
/* GetFunction's Code.Location: a signed URL on the emulator, valid 10 minutes. */
char *settings_code_url(const struct emulator *emu, const struct function *f);
/* Serves GET /lambdeck/code/NAME[/VERSION]?Expires=&Signature= (no SigV4: the URL is the
 * credential, as a presigned S3 URL). Returns false when the path is not one of these. */
bool settings_serve_code(struct emulator *emu, struct emu_request *req);

/* ---- foreign.c ---- */
/* Answers a request meant for a service the emulator does not serve (by SigV4 scope,
 * X-Amz-Target or query Action) in that service's protocol; false when it is ours. */
bool foreign_service_answer(struct emulator *emu, struct emu_request *req);

/* ---- workers.c: invocations, workers, the Runtime API ---- */
enum invoke_type {
	INVOKE_SYNC,
	INVOKE_EVENT,
};
/* Starts an invocation; answers req itself (sync: when done; event: 202 now). invoked_arn is
 * the ARN the client named (qualified or not), handed to the runtime. */
void workers_invoke(struct emulator *emu, struct function *f, struct emu_request *req,
                    enum invoke_type type, bool tail, const char *invoked_arn);
/* Called after a code/config change or delete: idle older workers stop now, busy ones after
 * their invocation. */
void workers_drain(struct emulator *emu, struct function *f);
/* Live workers of f (any generation). */
int workers_alive(const struct function *f);
/* Starts one worker of the current code without an invocation, so the first invoke after
 * an update does not pay the cold start (used when the function was warm before). */
void workers_prewarm(struct emulator *emu, struct function *f);
/* Kills every worker (shutdown). */
void workers_stop_all(struct emulator *emu);
int workers_count(const struct emulator *emu);

/* ---- lambda_api.c ---- */
void lambda_api_handle(struct emulator *emu, struct emu_request *req);
/* Answers j (deleted) as application/json. */
void lambda_api_respond_json(struct emu_request *req, int status, cJSON *j);
/* Answers err in AWS's JSON error shape (status 400 / InvalidParameterValueException when
 * unset). */
void lambda_api_respond_error(struct emu_request *req, const struct lk_error *err);
/* The request body as a JSON object (an empty body is {} when empty_ok); answers
 * InvalidRequestContentException itself and returns NULL otherwise. */
cJSON *lambda_api_body(struct emu_request *req, bool empty_ok);
/* X-Amz-Client-Context decoded (base64 of a JSON object, at most 3583 bytes) as one-line
 * JSON for the Runtime API: 0 with *out NULL when absent or the JSON (free with cJSON_free),
 * -1 when invalid. */
int lambda_api_client_context(const struct emu_request *req, char **out);
/* 413 RequestEntityTooLargeException naming the request's operation, as AWS words it. */
void lambda_api_too_large(struct emu_request *req, size_t limit);

/* ---- emulator.c ---- */
/* Generates a random id: lowercase hex, n bytes of entropy (out: 2n+1). */
void emu_random_hex(char *out, size_t nbytes);
void emu_uuid(char out[37]);
/* "2026-11-24T11:22:58.123+0000" (Lambda's LastModified form). */
void emu_iso_time(char *out, size_t n, int64_t ms, bool lambda_form);
void emu_log(struct emulator *emu, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
