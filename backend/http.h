/* http.h - asynchronous HTTP on the libuv loop: libcurl multi_socket driven by uv_poll and
 * uv_timer (curl's libuv pattern), connection reuse, HTTP/2 where the server offers it, connect
 * and total timeouts, cancellation, and retries with exponential backoff and full jitter.
 *
 * Call order: http_client_new(loop) once per loop; http_send() any number of requests; each
 * request ends with exactly one call of its done callback, unless it was cancelled with
 * http_cancel() first (then never). http_client_free() cancels what is still running (no
 * callbacks) and closes its uv handles; run the loop afterwards so the close callbacks fire
 * before uv_loop_close(). Knows nothing of AWS beyond the retry classification hook. */
#ifndef LAMBDECK_HTTP_H
#define LAMBDECK_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "backend/util.h"

struct http_client;
struct http_request;

struct http_header {
	const char *name;
	const char *value;
};

/* A completed (or failed) exchange, as the done callback sees it. Owned by the http module;
 * valid only during the callback (copy or steal what you need). */
struct http_response {
	long status;         /* HTTP status; 0 when no response arrived */
	struct buf body;     /* the body (empty when streamed through on_data) */
	char **header_names; /* lower-cased; repeated headers appear repeatedly */
	char **header_values;
	size_t n_headers;
	int attempts;   /* how many attempts were made */
	double seconds; /* wall time of the whole exchange including retries */
};

/* Case-insensitive lookup of a response header (first occurrence); NULL when absent. */
const char *http_response_header(const struct http_response *r, const char *name);

/* Decides whether a finished attempt should be retried: HTTP_NO_RETRY, HTTP_RETRY (backoff
 * from retry_base_ms) or HTTP_RETRY_THROTTLED (backoff from throttle_base_ms: the server asked
 * us to slow down). `net_err` is set (code "NetworkError"/"Timeout"...) when the attempt failed
 * without a response. */
enum http_retry {
	HTTP_NO_RETRY,
	HTTP_RETRY,
	HTTP_RETRY_THROTTLED,
};
typedef enum http_retry (*http_retry_fn)(void *ud, const struct http_response *r,
                                         const struct lk_error *net_err);
/* The default: network errors and timeouts (not TLS errors), 5xx; 429 as throttled. */
enum http_retry http_default_retryable(void *ud, const struct http_response *r,
                                       const struct lk_error *net_err);

/* done: err is NULL on a transport-level success (any HTTP status, including 4xx/5xx: the
 * caller interprets the status), or describes the failure (code "NetworkError", "Timeout",
 * "TLSError", "ConnectionRefused", "ResponseTooLarge", "WriteAborted"); r is never NULL. */
typedef void (*http_done_fn)(void *ud, struct http_response *r, const struct lk_error *err);
/* Streaming: called with body bytes as they arrive (instead of accumulating them). Return 0
 * to continue, -1 to abort the transfer (done then gets code "WriteAborted"). */
typedef int (*http_data_fn)(void *ud, const struct http_response *r, const void *data, size_t len);
/* Upload/download progress: phase "upload" or "download", bytes done and total (0 if
 * unknown). */
typedef void (*http_progress_fn)(void *ud, const char *phase, uint64_t done, uint64_t total);

struct http_request_opts {
	const char *method; /* "GET", "POST", "PUT", "DELETE", "HEAD" */
	const char *url;
	const struct http_header *headers; /* sent as given (no Expect: 100-continue added) */
	size_t n_headers;
	const void *body; /* copied by http_send */
	size_t body_len;
	const char *body_file;   /* instead of body: stream this file (its size is taken at send) */
	long connect_timeout_ms; /* 0: 10 s */
	long timeout_ms;         /* total per attempt; 0: 60 s; -1: none (streams) */
	int max_attempts;        /* 0: 3; 1: no retries */
	long retry_base_ms;      /* backoff base, 0: 100 ms; delay = rand(0, min(cap, base*2^n)) */
	long retry_cap_ms;       /* 0: 20 s */
	long throttle_base_ms;   /* backoff base after throttling, 0: 500 ms */
	size_t max_body;         /* 0: 64 MiB; larger responses fail with ResponseTooLarge */
	const char *ca_bundle;   /* NULL: system store. TLS peer and host are always verified */
	http_retry_fn retryable; /* NULL: http_default_retryable */
	http_data_fn on_data;    /* NULL: accumulate the body */
	http_progress_fn on_progress;
	void *ud; /* passed to every callback above and to done */
};

struct http_client *http_client_new(uv_loop_t *loop, struct lk_error *err);
void http_client_free(struct http_client *c);
uv_loop_t *http_client_loop(struct http_client *c);

/* Starts a request. Never returns NULL; failures (bad URL...) are reported through done
 * (asynchronously, never from inside http_send). The handle is valid until done returns. */
struct http_request *http_send(struct http_client *c, const struct http_request_opts *o,
                               http_done_fn done);
/* Stops a request (any attempt or retry wait); done will not be called. NULL is ignored. */
void http_cancel(struct http_request *r);

/* Backoff delay before retry number `retry` (1 = first retry): a uniformly random value in
 * [0, min(cap, base * 2^(retry-1))] ("full jitter"). Exposed for tests. */
long http_backoff_ms(int retry, long base_ms, long cap_ms);

#endif
