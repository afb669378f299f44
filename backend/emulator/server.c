/* server.c - libmicrohttpd driven from the emulator's libuv loop (MHD's epoll fd watched by
 * a uv_poll, MHD_get_timeout turned into a uv_timer), implementing the emu_http.h seam.
 * Deferred requests (long polls, invokes waiting for a worker) are suspended connections;
 * streams are callback responses that suspend themselves while they have nothing to send. */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "backend/aws/sigv4.h"
#include "backend/emulator/emu_internal.h"
#include "backend/emulator/emu_parse.h"

/* libmicrohttpd's per-connection memory: the request head must fit (it answers a larger one
 * with an HTML page of its own), so it is well above the EMU_MAX_* limits answered in JSON. */
#define SERVER_CONN_MEMORY ((size_t)256 * 1024)

struct emu_server {
	uv_loop_t *loop;
	struct MHD_Daemon *mhd;
	uv_poll_t *poll;
	uv_timer_t *timer;
	int port;
	size_t max_body;
	size_t drain_max; /* an over-size body is read and dropped up to this many bytes */
	unsigned idle_timeout_s;
	bool api;                /* AWS-facing: 413 via the handler, AWS error codes, redaction */
	char *redact;            /* replaced by "<state>" in error messages (api only) */
	emu_accept_fn accept_fn; /* may refuse a new connection before it is read */
	void *accept_user;
	emu_handler_fn fn;
	void *user;
	struct emu_request *requests; /* live requests, for shutdown */
	bool closing;
};

struct hdr {
	char *name;
	char *value;
};

struct emu_request {
	struct emu_server *srv;
	struct MHD_Connection *conn;
	char *raw_uri;
	char *raw_path;
	char *path;
	char *raw_query;
	struct emu_kv *query;
	size_t n_query;
	struct hdr *headers;
	size_t n_headers;
	const char *method;
	struct buf body;
	size_t dropped; /* body bytes read and dropped (too_large or rejected) */
	bool too_large;
	bool rejected; /* answered from the head (r->response set), body being dropped */
	bool dispatched;
	bool suspended;
	bool answered;
	struct MHD_Response *response;
	unsigned status;
	void (*abort_fn)(void *user);
	void *abort_user;
	void *ctx;
	struct emu_stream *stream;
	struct emu_request *prev, *next;
};

struct emu_stream {
	struct emu_request *req;
	struct MHD_Connection *conn;
	struct emu_server *srv;
	struct buf out;
	size_t off;
	bool ended;
	bool suspended;
	bool closed;
	void (*on_close)(void *user);
	void *user;
};

static void server_kick(struct emu_server *s);
static void on_timer(uv_timer_t *h);

/* Runs MHD and re-arms the timer from MHD's idea of its next timeout. MHD's epoll set is
 * edge-triggered: when it stops reading a socket that still has data (its per-connection
 * buffer is full), it reports a timeout of 0 and expects to run again at once, so a 0 is
 * honoured with a few immediate passes and then a 0 ms timer (never rounded up: rounding
 * to 1 ms made every request and every 16 KB of an upload wait a millisecond). */
static void server_run(struct emu_server *s)
{
	MHD_UNSIGNED_LONG_LONG to = 0;
	bool have_to = false;

	if (!s->mhd)
		return;
	for (int pass = 0; pass < 16; pass++) {
		MHD_run(s->mhd);
		have_to = MHD_get_timeout(s->mhd, &to) == MHD_YES;
		if (!have_to || to != 0)
			break;
	}
	if (have_to)
		uv_timer_start(s->timer, on_timer, (uint64_t)to, 0);
	else
		uv_timer_stop(s->timer);
}

static void on_poll(uv_poll_t *h, int status, int events)
{
	(void)status, (void)events;
	server_run(h->data);
}

static void on_timer(uv_timer_t *h)
{
	server_run(h->data);
}

static void on_timer_kick(uv_timer_t *h)
{
	server_run(h->data);
}

/* Resumed connections are signalled through MHD's ITC (in the epoll set), but make sure MHD
 * runs soon even if the wakeup is coalesced. */
static void server_kick(struct emu_server *s)
{
	if (s->timer && !s->closing)
		uv_timer_start(s->timer, on_timer_kick, 0, 0);
}

/* Splits the raw URI into path (raw and decoded) and query pairs; false when a decoded
 * query name or value would hold a NUL byte. The decoded path stops at an encoded NUL: the
 * handlers that care (lambda_api.c) route on the raw path. */
static bool parse_uri(struct emu_request *r)
{
	const char *u = r->raw_uri ? r->raw_uri : "/";
	const char *q = strchr(u, '?');
	size_t plen = q ? (size_t)(q - u) : strlen(u);
	struct buf path = {0};
	long n;

	r->raw_path = xstrndup(u, plen);
	sigv4_uri_decode(u, plen, false, &path);
	r->path = buf_steal(&path);
	r->raw_query = xstrdup(q ? q + 1 : "");
	n = emu_query_parse(r->raw_query, &r->query);
	r->n_query = n > 0 ? (size_t)n : 0;
	return n >= 0;
}

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
	struct emu_request *r = cls;

	(void)kind;
	r->headers = xrealloc(r->headers, (r->n_headers + 1) * sizeof(*r->headers));
	r->headers[r->n_headers].name = xstrdup(key);
	r->headers[r->n_headers].value = xstrdup(value ? value : "");
	r->n_headers++;
	return MHD_YES;
}

static void *on_uri_log(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct emu_server *s = cls;
	struct emu_request *r = xcalloc(1, sizeof(*r));

	r->srv = s;
	r->conn = conn;
	r->raw_uri = xstrdup(uri);
	r->next = s->requests;
	if (s->requests)
		s->requests->prev = r;
	s->requests = r;
	return r;
}

static void request_free(struct emu_request *r)
{
	struct emu_server *s = r->srv;

	if (r->prev)
		r->prev->next = r->next;
	else if (s->requests == r)
		s->requests = r->next;
	if (r->next)
		r->next->prev = r->prev;
	emu_kv_free(r->query, r->n_query);
	for (size_t i = 0; i < r->n_headers; i++)
		free(r->headers[i].name), free(r->headers[i].value);
	free(r->headers);
	free(r->raw_uri);
	free(r->raw_path);
	free(r->path);
	free(r->raw_query);
	buf_free(&r->body);
	if (r->response)
		MHD_destroy_response(r->response);
	free(r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	struct emu_request *r = *con_cls;

	(void)cls, (void)conn, (void)toe;
	if (!r)
		return;
	*con_cls = NULL;
	if (!r->answered && r->abort_fn) {
		void (*fn)(void *) = r->abort_fn;

		r->abort_fn = NULL;
		r->answered = true; /* a late emu_respond from the hook is ignored */
		fn(r->abort_user);
	}
	if (r->stream)
		r->stream->req = NULL;
	request_free(r);
}

static enum MHD_Result queue(struct emu_request *r)
{
	enum MHD_Result ret = MHD_queue_response(r->conn, r->status, r->response);

	MHD_destroy_response(r->response);
	r->response = NULL;
	return ret;
}

/* A head the API refuses in AWS's JSON form (before libmicrohttpd's own limits): prepares
 * the answer in r->response and returns true. */
static bool reject_head(struct emu_request *r, bool query_ok)
{
	size_t head = 0;

	if (strlen(r->raw_uri) > EMU_MAX_URI_BYTES) {
		emu_respond_error(r, 414, "ValidationException",
		                  "Request-URI is %zu bytes long; at most %d are accepted",
		                  strlen(r->raw_uri), EMU_MAX_URI_BYTES);
		return true;
	}
	for (size_t i = 0; i < r->n_headers; i++)
		head += strlen(r->headers[i].name) + strlen(r->headers[i].value) + 4;
	if (head > EMU_MAX_HEADER_BYTES) {
		emu_respond_error(r, 431, "ValidationException",
		                  "Request header fields total %zu bytes; at most %d are accepted",
		                  head, EMU_MAX_HEADER_BYTES);
		return true;
	}
	if (!query_ok) {
		emu_respond_error(r, 400, "ValidationException",
		                  "The query string holds an encoded NUL byte (%%00)");
		return true;
	}
	return false;
}

/* Answers a request whose body went over max_body: a POST or PUT goes to the handler first
 * (emu_request_too_large true, empty body), which answers at once (the API names the
 * operation, the Runtime API fails the invocation); otherwise a generic 413. */
static void answer_too_large(struct emu_server *s, struct emu_request *r)
{
	r->dispatched = true;
	if (!strcmp(r->method, "POST") || !strcmp(r->method, "PUT"))
		s->fn(s->user, r);
	if (!r->response)
		emu_respond_error(r, 413, "RequestEntityTooLargeException",
		                  "Request must be smaller than %zu bytes", s->max_body);
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **con_cls)
{
	struct emu_server *s = cls;
	struct emu_request *r = *con_cls;

	(void)url, (void)version;
	if (!r) /* cannot happen with the URI log callback, but never crash */
		return MHD_NO;
	if (!r->method) {
		const char *cl =
		    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
		const char *expect = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Expect");
		unsigned long long clen = cl ? strtoull(cl, NULL, 10) : 0;
		bool query_ok;

		r->method = method;
		query_ok = parse_uri(r);
		MHD_get_connection_values(conn, MHD_HEADER_KIND, collect_header, r);
		if (s->api && reject_head(r, query_ok)) {
			r->rejected = true;
			r->dispatched = true;
		} else if (!query_ok) {
			r->rejected = true;
			r->dispatched = true;
			emu_respond_error(r, 400, "InvalidRequest", "encoded NUL in the query");
		} else if (clen > s->max_body) {
			r->too_large = true;
		}
		/* A refused request's body is read and dropped before the answer: a client that
		 * is still sending (botocore, the AWS CLI) would see only a closed connection.
		 * Not when the client waits for "100 Continue" (it then sends no body) nor for
		 * absurd sizes. */
		if ((r->rejected || r->too_large) &&
		    ((expect && !strcasecmp(expect, "100-continue")) || clen > s->drain_max)) {
			if (r->too_large && !r->rejected)
				answer_too_large(s, r);
			return queue(r);
		}
		return MHD_YES;
	}
	if (*upload_data_size) {
		if (!r->too_large && !r->rejected &&
		    r->body.len + *upload_data_size > s->max_body) {
			r->too_large = true;
			r->dropped = r->body.len;
			buf_free(&r->body);
		}
		if (r->too_large || r->rejected) {
			r->dropped += *upload_data_size;
			if (r->dropped > s->drain_max)
				return MHD_NO; /* close: not worth reading */
		} else {
			buf_append(&r->body, upload_data, *upload_data_size);
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (r->response)
		return queue(r);
	if (r->stream)
		return MHD_YES;
	if (r->dispatched) {
		/* Resumed without a response (should not happen): keep waiting. */
		r->suspended = true;
		MHD_suspend_connection(conn);
		return MHD_YES;
	}
	if (r->too_large) {
		answer_too_large(s, r);
		return queue(r);
	}
	r->dispatched = true;
	s->fn(s->user, r);
	if (r->response)
		return queue(r);
	r->suspended = true;
	MHD_suspend_connection(conn);
	return MHD_YES;
}

/* MHD's accept policy: asks the owner's check, if any, about each new connection. */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
	struct emu_server *s = cls;

	if (!s->accept_fn)
		return MHD_YES;
	return s->accept_fn(s->accept_user, addr, addrlen, s->port) ? MHD_YES : MHD_NO;
}

/* Starts a daemon on host (IPv4 or IPv6 literal):port; see emu_server_new(_api). */
static struct emu_server *server_start(uv_loop_t *loop, const char *host, int port, size_t max_body,
                                       const struct emu_server_api *api, emu_handler_fn fn,
                                       void *user, struct lk_error *err)
{
	struct emu_server *s = xcalloc(1, sizeof(*s));
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port)};
	struct sockaddr *sa = (struct sockaddr *)&sin;
	unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_TURBO;
	const union MHD_DaemonInfo *info;

	if (inet_pton(AF_INET6, host, &sin6.sin6_addr) == 1) {
		sa = (struct sockaddr *)&sin6;
		flags |= MHD_USE_IPv6;
	} else if (inet_pton(AF_INET, host, &sin.sin_addr) != 1) {
		free(s);
		lk_error_set(err, "InvalidHost", "'%s' is not an IPv4 or IPv6 address", host);
		return NULL;
	}
	s->loop = loop;
	s->max_body = max_body;
	/* reading and dropping an over-size body costs little on loopback: up to 4x the limit */
	s->drain_max = max_body > SIZE_MAX / 4 ? SIZE_MAX : max_body * 4;
	s->fn = fn;
	s->user = user;
	if (api) {
		s->api = true;
		s->idle_timeout_s = api->idle_timeout_s;
		s->redact = api->redact && *api->redact ? xstrdup(api->redact) : NULL;
	}
	s->mhd = MHD_start_daemon(flags, 0, on_accept, s, on_access, s, MHD_OPTION_SOCK_ADDR, sa,
	                          MHD_OPTION_URI_LOG_CALLBACK, on_uri_log, s,
	                          MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
	                          MHD_OPTION_CONNECTION_MEMORY_LIMIT, SERVER_CONN_MEMORY,
	                          MHD_OPTION_CONNECTION_TIMEOUT, s->idle_timeout_s,
	                          MHD_OPTION_LISTENING_ADDRESS_REUSE, 0, MHD_OPTION_END);
	if (!s->mhd) {
		free(s->redact);
		free(s);
		lk_error_set(err, "BindFailed", "cannot listen on %s:%d", host, port);
		return NULL;
	}
	info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);
	s->port = info ? info->port : port;
	info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	s->poll = xcalloc(1, sizeof(*s->poll));
	s->timer = xcalloc(1, sizeof(*s->timer));
	s->poll->data = s;
	s->timer->data = s;
	uv_timer_init(loop, s->timer);
	if (!info || uv_poll_init(loop, s->poll, info->epoll_fd) != 0) {
		MHD_stop_daemon(s->mhd);
		uv_close((uv_handle_t *)s->timer, (uv_close_cb)free);
		free(s->poll);
		free(s->redact);
		free(s);
		lk_error_set(err, "ServerFailed",
		             "cannot watch the HTTP server's epoll descriptor");
		return NULL;
	}
	uv_poll_start(s->poll, UV_READABLE, on_poll);
	server_run(s);
	return s;
}

struct emu_server *emu_server_new(uv_loop_t *loop, const char *host, int port, size_t max_body,
                                  emu_handler_fn fn, void *user, struct lk_error *err)
{
	return server_start(loop, host, port, max_body, NULL, fn, user, err);
}

struct emu_server *emu_server_new_api(uv_loop_t *loop, const char *host, int port, size_t max_body,
                                      const struct emu_server_api *api, emu_handler_fn fn,
                                      void *user, struct lk_error *err)
{
	return server_start(loop, host, port, max_body, api, fn, user, err);
}

void emu_server_set_accept_check(struct emu_server *s, emu_accept_fn fn, void *user)
{
	s->accept_fn = fn;
	s->accept_user = user;
}

void emu_server_dispatch_oversize(struct emu_server *s)
{
	s->drain_max = SIZE_MAX;
}

int emu_server_port(const struct emu_server *s)
{
	return s->port;
}

void emu_server_free(struct emu_server *s)
{
	if (!s)
		return;
	/* MHD refuses to stop with suspended connections: answer every waiting request (after
	 * telling its owner) and let MHD process the resumptions first. */
	for (struct emu_request *r = s->requests; r; r = r->next) {
		if (r->suspended && !r->answered) {
			void (*fn)(void *) = r->abort_fn;

			r->abort_fn = NULL;
			if (fn)
				fn(r->abort_user);
			emu_respond_error(r, 503, "ServiceException",
			                  "the server is shutting down");
		} else if (r->stream && r->stream->suspended) {
			r->stream->ended = true;
			r->stream->suspended = false;
			MHD_resume_connection(r->conn);
		}
	}
	s->closing = true;
	MHD_run(s->mhd);
	MHD_run(s->mhd);
	uv_close((uv_handle_t *)s->poll, (uv_close_cb)free);
	uv_close((uv_handle_t *)s->timer, (uv_close_cb)free);
	/* Resumes suspended connections and closes everything; on_completed runs the abort
	 * hooks and frees the requests. */
	MHD_stop_daemon(s->mhd);
	s->mhd = NULL;
	free(s->redact);
	free(s);
}

/* ---- request accessors ---- */

const char *emu_request_method(const struct emu_request *req)
{
	return req->method;
}

const char *emu_request_path(const struct emu_request *req)
{
	return req->path;
}

const char *emu_request_raw_path(const struct emu_request *req)
{
	return req->raw_path;
}

const char *emu_request_raw_query(const struct emu_request *req)
{
	return req->raw_query;
}

const char *emu_request_query(const struct emu_request *req, const char *key)
{
	for (size_t i = 0; i < req->n_query; i++)
		if (!strcmp(req->query[i].name, key))
			return req->query[i].value;
	return NULL;
}

const char *emu_request_header(const struct emu_request *req, const char *name)
{
	for (size_t i = 0; i < req->n_headers; i++)
		if (!strcasecmp(req->headers[i].name, name))
			return req->headers[i].value;
	return NULL;
}

size_t emu_request_header_count(const struct emu_request *req)
{
	return req->n_headers;
}

void emu_request_header_at(const struct emu_request *req, size_t i, const char **name,
                           const char **value)
{
	*name = req->headers[i].name;
	*value = req->headers[i].value;
}

const char *emu_request_body(const struct emu_request *req, size_t *len)
{
	if (len)
		*len = req->body.len;
	return req->body.data ? req->body.data : "";
}

bool emu_request_too_large(const struct emu_request *req)
{
	return req->too_large;
}

void emu_request_on_abort(struct emu_request *req, void (*fn)(void *user), void *user)
{
	req->abort_fn = fn;
	req->abort_user = user;
}

void emu_request_set_context(struct emu_request *req, void *ctx)
{
	req->ctx = ctx;
}

void *emu_request_context(const struct emu_request *req)
{
	return req->ctx;
}

/* ---- responses ---- */

void emu_respond(struct emu_request *req, int status, const char *content_type,
                 const char *const *headers, const void *body, size_t len)
{
	struct MHD_Response *resp;

	if (req->answered)
		return;
	req->answered = true;
	req->abort_fn = NULL;
	resp =
	    MHD_create_response_from_buffer(len, (void *)(body ? body : ""), MHD_RESPMEM_MUST_COPY);
	if (!resp)
		lk_fatal("out of memory creating an HTTP response");
	if (content_type)
		MHD_add_response_header(resp, "Content-Type", content_type);
	{
		bool have_id = false;

		for (size_t i = 0; headers && headers[i] && headers[i + 1]; i += 2) {
			MHD_add_response_header(resp, headers[i], headers[i + 1]);
			have_id |= !strcasecmp(headers[i], "x-amzn-RequestId");
		}
		if (!have_id) {
			char id[37];

			emu_uuid(id);
			MHD_add_response_header(resp, "x-amzn-RequestId", id);
		}
	}
	req->response = resp;
	req->status = (unsigned)status;
	if (req->suspended) {
		req->suspended = false;
		MHD_resume_connection(req->conn);
		server_kick(req->srv);
	}
}

/* Error types the API may answer with: Lambda's and CloudWatch Logs' own and the common
 * ones (signature, throttling, validation). Anything else is a bug reported as
 * ServiceException, never a host-side name such as IOError. */
static bool aws_error_code(const char *code)
{
	static const char *const known[] = {
	    "AccessDeniedException",
	    "DataAlreadyAcceptedException",
	    "IncompleteSignatureException",
	    "InvalidOperationException",
	    "InvalidParameterException",
	    "InvalidParameterValueException",
	    "InvalidRequestContentException",
	    "InvalidRuntimeException",
	    "InvalidSequenceTokenException",
	    "InvalidSignatureException",
	    "InvalidZipFileException",
	    "LimitExceededException",
	    "MalformedQueryException",
	    "MissingAuthenticationTokenException",
	    "OperationAbortedException",
	    "PreconditionFailedException",
	    "RequestEntityTooLargeException",
	    "RequestTooLargeException",
	    "ResourceAlreadyExistsException",
	    "ResourceConflictException",
	    "ResourceNotFoundException",
	    "ResourceNotReadyException",
	    "SerializationException",
	    "ServiceException",
	    "ServiceUnavailableException",
	    "SessionStreamingException",
	    "SessionTimeoutException",
	    "ThrottlingException",
	    "TooManyRequestsException",
	    "UnknownOperationException",
	    "UnrecognizedClientException",
	    "UnsupportedMediaTypeException",
	    "ValidationException",
	};

	for (size_t i = 0; code && i < sizeof(known) / sizeof(known[0]); i++)
		if (!strcmp(code, known[i]))
			return true;
	return false;
}

void emu_respond_error(struct emu_request *req, int status, const char *code, const char *fmt, ...)
{
	va_list ap;
	struct buf msg = {0}, clean = {0};
	cJSON *o = cJSON_CreateObject();
	char *body;
	const char *hdrs[] = {"x-amzn-ErrorType", NULL, NULL};
	struct emu_server *s = req->srv;

	va_start(ap, fmt);
	buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	if (s->api && !aws_error_code(code)) {
		code = "ServiceException";
		status = 500;
	}
	if (s->api && s->redact && msg.data) {
		/* no host path in a message: the state dir becomes "<state>" */
		struct buf out = {0};
		size_t rl = strlen(s->redact);
		const char *p = msg.data, *hit;

		while ((hit = strstr(p, s->redact))) {
			buf_append(&out, p, (size_t)(hit - p));
			buf_puts(&out, "<state>");
			p = hit + rl;
		}
		buf_puts(&out, p);
		buf_free(&msg);
		msg = out;
	}
	/* valid UTF-8 without control characters, whatever the message quotes */
	util_sanitize(msg.data ? msg.data : "", msg.len, true, true, &clean);
	hdrs[1] = code;
	cJSON_AddStringToObject(o, "__type", code);
	cJSON_AddStringToObject(o, "message", clean.data ? clean.data : "");
	body = cJSON_PrintUnformatted(o);
	emu_respond(req, status, "application/json", hdrs, body, strlen(body));
	cJSON_free(body);
	cJSON_Delete(o);
	buf_free(&msg);
	buf_free(&clean);
}

/* ---- streams ---- */

static ssize_t stream_read(void *cls, uint64_t pos, char *out, size_t max)
{
	struct emu_stream *st = cls;
	size_t n = st->out.len - st->off;

	(void)pos;
	if (n == 0) {
		if (st->ended || !st->req)
			return MHD_CONTENT_READER_END_OF_STREAM;
		st->suspended = true;
		MHD_suspend_connection(st->conn);
		return 0;
	}
	if (n > max)
		n = max;
	memcpy(out, st->out.data + st->off, n);
	st->off += n;
	if (st->off == st->out.len) {
		buf_reset(&st->out);
		st->off = 0;
	}
	return (ssize_t)n;
}

static void stream_free(void *cls)
{
	struct emu_stream *st = cls;

	st->closed = true;
	if (st->on_close)
		st->on_close(st->user);
	buf_free(&st->out);
	free(st);
}

struct emu_stream *emu_stream_begin(struct emu_request *req, int status, const char *content_type,
                                    void (*on_close)(void *user), void *user)
{
	struct emu_stream *st = xcalloc(1, sizeof(*st));
	struct MHD_Response *resp;

	st->req = req;
	st->conn = req->conn;
	st->srv = req->srv;
	st->on_close = on_close;
	st->user = user;
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, stream_read, st,
	                                         stream_free);
	if (!resp)
		lk_fatal("out of memory creating an HTTP stream");
	if (content_type)
		MHD_add_response_header(resp, "Content-Type", content_type);
	req->stream = st;
	req->answered = true;
	req->abort_fn = NULL;
	req->response = resp; /* queued by on_access, now or when resumed */
	req->status = (unsigned)status;
	if (req->suspended) {
		req->suspended = false;
		MHD_resume_connection(req->conn);
		server_kick(req->srv);
	}
	return st;
}

static void stream_wake(struct emu_stream *s)
{
	if (s->suspended) {
		s->suspended = false;
		MHD_resume_connection(s->conn);
	}
	server_kick(s->srv);
}

/* A client that stops reading (a stalled live tail) must not grow the emulator without bound:
 * past this many unsent bytes the stream ends once what is buffered has been sent, and the
 * client starts a new session, as with a session AWS ends. */
#define EMU_STREAM_MAX_PENDING (16u << 20)

void emu_stream_write(struct emu_stream *s, const void *data, size_t len)
{
	size_t pending;

	if (!s || s->ended || s->closed)
		return;
	pending = s->out.len - s->off;
	if (pending + len > EMU_STREAM_MAX_PENDING) {
		s->ended = true;
		stream_wake(s);
		return;
	}
	/* Drop the sent prefix of a stream that is never fully drained. */
	if (s->off > 65536 && s->off > pending) {
		memmove(s->out.data, s->out.data + s->off, pending);
		s->out.len = pending;
		s->out.data[pending] = '\0';
		s->off = 0;
	}
	buf_append(&s->out, data, len);
	stream_wake(s);
}

void emu_stream_end(struct emu_stream *s)
{
	if (!s || s->ended)
		return;
	s->ended = true;
	stream_wake(s);
}
