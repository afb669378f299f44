/* http.c - libcurl multi_socket on libuv, with retries. See http.h for the contract. */
#include "backend/http.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <curl/curl.h>

#define DEFAULT_CONNECT_TIMEOUT_MS 10000L
#define DEFAULT_TIMEOUT_MS         60000L
#define DEFAULT_ATTEMPTS           3
#define DEFAULT_RETRY_BASE_MS      100L
#define DEFAULT_RETRY_CAP_MS       20000L
#define DEFAULT_MAX_BODY           (64u << 20)
#define DEFAULT_THROTTLE_BASE_MS   500L

struct http_client {
	uv_loop_t *loop;
	CURLM *multi;
	uv_timer_t timer;
	struct http_request *requests; /* live requests (for http_client_free) */
	struct sock_ctx *socks;        /* live poll contexts */
	int in_curl;       /* >0 while inside curl_multi_socket_action (no remove_handle then) */
	int dispatching;   /* >0 while delivering results (done callbacks may free the client) */
	bool free_pending; /* http_client_free was called during dispatch */
};

/* One uv_poll_t per socket, shared by every transfer on it via curl_multi_assign. */
struct sock_ctx {
	uv_poll_t poll;
	curl_socket_t fd;
	struct http_client *client;
	struct sock_ctx *next, *prev;
};

struct http_request {
	struct http_client *client;
	struct http_request *next, *prev;
	CURL *easy;
	struct curl_slist *headers;
	uv_timer_t timer; /* retry delay and deferred failures; its close callback frees us */
	struct http_request_opts o;
	char *url, *method;
	char *body;
	size_t body_len;
	char *body_file;
	FILE *upload;
	http_done_fn done;
	struct http_response resp;
	struct lk_error err;
	char curl_errbuf[CURL_ERROR_SIZE];
	uint64_t started_ns;
	bool in_multi;
	bool cancelled;
	bool finished;
	bool delivered; /* streamed bytes already handed out: no retry possible */
	bool too_large;
	bool aborted;
	bool released;
};

static void check_multi_info(struct http_client *c);
static void start_attempt(struct http_request *r);

const char *http_response_header(const struct http_response *r, const char *name)
{
	for (size_t i = 0; r && i < r->n_headers; i++)
		if (!strcasecmp(r->header_names[i], name))
			return r->header_values[i];
	return NULL;
}

static void response_clear_headers(struct http_response *r)
{
	for (size_t i = 0; i < r->n_headers; i++) {
		free(r->header_names[i]);
		free(r->header_values[i]);
	}
	free(r->header_names);
	free(r->header_values);
	r->header_names = r->header_values = NULL;
	r->n_headers = 0;
}

enum http_retry http_default_retryable(void *ud, const struct http_response *r,
                                       const struct lk_error *net_err)
{
	(void)ud;
	if (net_err)
		return strcmp(net_err->code, "TLSError") != 0 &&
		               strcmp(net_err->code, "ResponseTooLarge") != 0 &&
		               strcmp(net_err->code, "InvalidRequest") != 0
		           ? HTTP_RETRY
		           : HTTP_NO_RETRY;
	if (r->status == 429)
		return HTTP_RETRY_THROTTLED;
	return r->status >= 500 && r->status <= 599 ? HTTP_RETRY : HTTP_NO_RETRY;
}

long http_backoff_ms(int retry, long base_ms, long cap_ms)
{
	long ceiling = base_ms;

	if (retry < 1)
		retry = 1;
	for (int i = 1; i < retry && ceiling < cap_ms; i++)
		ceiling *= 2;
	if (ceiling > cap_ms)
		ceiling = cap_ms;
	if (ceiling <= 0)
		return 0;
	return (long)arc4random_uniform((uint32_t)ceiling + 1);
}

/* ---- the curl <-> libuv glue ---- */

static void sock_closed(uv_handle_t *h)
{
	free(h->data);
}

static void sock_release(struct http_client *c, struct sock_ctx *sc)
{
	if (sc->prev)
		sc->prev->next = sc->next;
	else
		c->socks = sc->next;
	if (sc->next)
		sc->next->prev = sc->prev;
	uv_poll_stop(&sc->poll);
	uv_close((uv_handle_t *)&sc->poll, sock_closed);
}

static void on_poll(uv_poll_t *p, int status, int events)
{
	struct sock_ctx *sc = p->data;
	struct http_client *c = sc->client;
	int flags = 0, running;

	if (status < 0)
		flags = CURL_CSELECT_ERR;
	if (events & UV_READABLE)
		flags |= CURL_CSELECT_IN;
	if (events & UV_WRITABLE)
		flags |= CURL_CSELECT_OUT;
	c->in_curl++;
	curl_multi_socket_action(c->multi, sc->fd, flags, &running);
	c->in_curl--;
	check_multi_info(c);
}

static int on_socket(CURL *easy, curl_socket_t s, int action, void *userp, void *socketp)
{
	struct http_client *c = userp;
	struct sock_ctx *sc = socketp;
	int events = 0;

	(void)easy;
	if (action == CURL_POLL_REMOVE) {
		if (sc) {
			curl_multi_assign(c->multi, s, NULL);
			sock_release(c, sc);
		}
		return 0;
	}
	if (!sc) {
		sc = xcalloc(1, sizeof(*sc));
		sc->fd = s;
		sc->client = c;
		if (uv_poll_init_socket(c->loop, &sc->poll, s) != 0) {
			free(sc);
			return -1;
		}
		sc->poll.data = sc;
		sc->next = c->socks;
		if (c->socks)
			c->socks->prev = sc;
		c->socks = sc;
		curl_multi_assign(c->multi, s, sc);
	}
	if (action == CURL_POLL_IN || action == CURL_POLL_INOUT)
		events |= UV_READABLE;
	if (action == CURL_POLL_OUT || action == CURL_POLL_INOUT)
		events |= UV_WRITABLE;
	uv_poll_start(&sc->poll, events, on_poll);
	return 0;
}

static void on_timeout(uv_timer_t *t)
{
	struct http_client *c = t->data;
	int running;

	c->in_curl++;
	curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	c->in_curl--;
	check_multi_info(c);
}

/* CURLMOPT_TIMERFUNCTION: only (re)arms the uv timer; never drives curl from here. */
static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
	struct http_client *c = userp;

	(void)multi;
	if (timeout_ms < 0)
		uv_timer_stop(&c->timer);
	else
		uv_timer_start(&c->timer, on_timeout, timeout_ms ? (uint64_t)timeout_ms : 1, 0);
	return 0;
}

static void global_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct http_client *http_client_new(uv_loop_t *loop, struct lk_error *err)
{
	static uv_once_t once = UV_ONCE_INIT;
	struct http_client *c;

	uv_once(&once, global_init);
	c = xcalloc(1, sizeof(*c));
	c->loop = loop;
	c->multi = curl_multi_init();
	if (!c->multi) {
		free(c);
		lk_error_set(err, "NetworkError", "cannot initialise libcurl");
		return NULL;
	}
	uv_timer_init(loop, &c->timer);
	c->timer.data = c;
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
	curl_multi_setopt(c->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
	curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS, 8L);
	return c;
}

uv_loop_t *http_client_loop(struct http_client *c)
{
	return c->loop;
}

/* ---- requests ---- */

static void request_closed(uv_handle_t *h)
{
	struct http_request *r = h->data;

	if (r->easy)
		curl_easy_cleanup(r->easy);
	curl_slist_free_all(r->headers);
	if (r->upload)
		fclose(r->upload);
	buf_free(&r->resp.body);
	response_clear_headers(&r->resp);
	free(r->url);
	free(r->method);
	free(r->body);
	free(r->body_file);
	free(r);
}

/* Detaches r from the client and frees it once its timer handle has closed. */
static void request_release(struct http_request *r)
{
	struct http_client *c = r->client;

	if (r->released)
		return;
	r->released = true;
	r->finished = true;
	if (r->in_multi) {
		curl_multi_remove_handle(c->multi, r->easy);
		r->in_multi = false;
	}
	if (r->prev)
		r->prev->next = r->next;
	else if (c->requests == r)
		c->requests = r->next;
	if (r->next)
		r->next->prev = r->prev;
	r->next = r->prev = NULL;
	uv_timer_stop(&r->timer);
	uv_close((uv_handle_t *)&r->timer, request_closed);
}

static void finish(struct http_request *r, const struct lk_error *err)
{
	r->resp.seconds = (double)(util_monotonic_ns() - r->started_ns) / 1e9;
	if (r->in_multi) {
		curl_multi_remove_handle(r->client->multi, r->easy);
		r->in_multi = false;
	}
	r->finished = true;
	if (r->done)
		r->done(r->o.ud, &r->resp, err);
	request_release(r);
}

static size_t on_header(char *data, size_t size, size_t n, void *ud)
{
	struct http_request *r = ud;
	size_t len = size * n;
	const char *colon;
	size_t nl, vstart, vend;

	if (len >= 5 && !strncmp(data, "HTTP/", 5)) {
		/* A new response (after 100-continue or on a retry): start over. */
		response_clear_headers(&r->resp);
		return len;
	}
	colon = memchr(data, ':', len);
	if (!colon)
		return len;
	nl = (size_t)(colon - data);
	vstart = nl + 1;
	while (vstart < len && (data[vstart] == ' ' || data[vstart] == '\t'))
		vstart++;
	vend = len;
	while (vend > vstart && (data[vend - 1] == '\r' || data[vend - 1] == '\n' ||
	                         data[vend - 1] == ' ' || data[vend - 1] == '\t'))
		vend--;
	r->resp.header_names =
	    xrealloc(r->resp.header_names, (r->resp.n_headers + 1) * sizeof(char *));
	r->resp.header_values =
	    xrealloc(r->resp.header_values, (r->resp.n_headers + 1) * sizeof(char *));
	{
		char *name = xstrndup(data, nl);

		for (char *p = name; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		r->resp.header_names[r->resp.n_headers] = name;
	}
	r->resp.header_values[r->resp.n_headers] = xstrndup(data + vstart, vend - vstart);
	r->resp.n_headers++;
	return len;
}

static size_t on_write(char *data, size_t size, size_t n, void *ud)
{
	struct http_request *r = ud;
	size_t len = size * n;

	if (r->cancelled)
		return 0;
	if (!r->resp.status)
		curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &r->resp.status);
	if (r->o.on_data && r->resp.status >= 200 && r->resp.status <= 299) {
		r->delivered = true;
		if (r->o.on_data(r->o.ud, &r->resp, data, len) != 0 || r->cancelled) {
			r->aborted = true;
			return 0;
		}
		return len;
	}
	if (r->resp.body.len + len > r->o.max_body) {
		r->too_large = true;
		return 0;
	}
	buf_append(&r->resp.body, data, len);
	return len;
}

static size_t on_read(char *data, size_t size, size_t n, void *ud)
{
	struct http_request *r = ud;
	size_t got = fread(data, size, n, r->upload);

	if (got == 0 && ferror(r->upload))
		return CURL_READFUNC_ABORT;
	return got;
}

static int on_xfer(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                   curl_off_t ulnow)
{
	struct http_request *r = ud;

	if (r->cancelled)
		return 1;
	if (r->o.on_progress) {
		if (ultotal > 0)
			r->o.on_progress(r->o.ud, "upload", (uint64_t)ulnow, (uint64_t)ultotal);
		if (dlnow > 0)
			r->o.on_progress(r->o.ud, "download", (uint64_t)dlnow, (uint64_t)dltotal);
	}
	return 0;
}

static void client_destroy(struct http_client *c);

static void deferred_fail(uv_timer_t *t)
{
	struct http_request *r = t->data;
	struct http_client *c = r->client;

	c->dispatching++;
	finish(r, &r->err);
	if (--c->dispatching == 0 && c->free_pending)
		client_destroy(c);
}

static void retry_fire(uv_timer_t *t)
{
	struct http_request *r = t->data;

	start_attempt(r);
}

/* Maps a curl result to our error vocabulary. */
static void curl_to_error(struct http_request *r, CURLcode rc, struct lk_error *e)
{
	const char *detail = r->curl_errbuf[0] ? r->curl_errbuf : curl_easy_strerror(rc);
	const char *code = "NetworkError";

	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
		code = "Timeout";
		break;
	case CURLE_COULDNT_CONNECT:
		code = "ConnectionRefused";
		break;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
		code = "TLSError";
		break;
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
		code = "InvalidRequest";
		break;
	default:
		break;
	}
	if (r->too_large) {
		lk_error_set(e, "ResponseTooLarge", "response body exceeds %zu bytes from %s",
		             r->o.max_body, r->url);
		return;
	}
	if (r->aborted) {
		lk_error_set(e, "WriteAborted", "transfer stopped by the receiver");
		return;
	}
	lk_error_set(e, code, "%s: %s", r->url, detail);
}

static void attempt_done(struct http_request *r, CURLcode rc)
{
	struct lk_error net = {0};
	bool have_net_err = rc != CURLE_OK;
	enum http_retry retry = HTTP_NO_RETRY;

	r->in_multi = false;
	curl_multi_remove_handle(r->client->multi, r->easy);
	if (r->cancelled) {
		request_release(r);
		return;
	}
	if (!have_net_err || !r->resp.status)
		curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &r->resp.status);
	if (have_net_err) {
		curl_to_error(r, rc, &net);
		/* A partial response is not a response. */
		r->resp.status = 0;
	}
	retry = r->resp.attempts < r->o.max_attempts && !r->delivered && !r->aborted &&
	        r->o.retryable(r->o.ud, &r->resp, have_net_err ? &net : NULL);
	if (!retry) {
		finish(r, have_net_err ? &net : NULL);
		return;
	}
	uv_timer_start(
	    &r->timer, retry_fire,
	    (uint64_t)http_backoff_ms(r->resp.attempts, r->o.retry_base_ms, r->o.retry_cap_ms), 0);
}

static void check_multi_info(struct http_client *c)
{
	CURLMsg *msg;
	int left;

	c->dispatching++;
	while (!c->free_pending && (msg = curl_multi_info_read(c->multi, &left))) {
		struct http_request *r = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&r);
		if (r && r->in_multi)
			attempt_done(r, msg->data.result);
	}
	if (--c->dispatching == 0 && c->free_pending)
		client_destroy(c);
}

static void start_attempt(struct http_request *r)
{
	CURLMcode mc;

	r->resp.attempts++;
	r->resp.status = 0;
	buf_reset(&r->resp.body);
	response_clear_headers(&r->resp);
	r->curl_errbuf[0] = '\0';
	r->too_large = false;
	if (r->upload)
		rewind(r->upload);
	mc = curl_multi_add_handle(r->client->multi, r->easy);
	if (mc != CURLM_OK) {
		lk_error_set(&r->err, "NetworkError", "cannot start request: %s",
		             curl_multi_strerror(mc));
		uv_timer_start(&r->timer, deferred_fail, 0, 0);
		return;
	}
	r->in_multi = true;
}

static bool has_header(const struct http_request_opts *o, const char *name)
{
	for (size_t i = 0; i < o->n_headers; i++)
		if (!strcasecmp(o->headers[i].name, name))
			return true;
	return false;
}

/* Configures the easy handle; returns -1 with r->err set on a bad request. */
static int setup_easy(struct http_request *r, const struct http_request_opts *o)
{
	CURL *e = r->easy;

	curl_easy_setopt(e, CURLOPT_URL, r->url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)r);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->curl_errbuf);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	if (o->ca_bundle && *o->ca_bundle)
		curl_easy_setopt(e, CURLOPT_CAINFO, o->ca_bundle);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, r->o.connect_timeout_ms);
	if (r->o.timeout_ms > 0)
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, r->o.timeout_ms);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_xfer);
	curl_easy_setopt(e, CURLOPT_XFERINFODATA, r);
	/* Lambda answers gzip only when asked; responses are small, keep them verbatim. */
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, NULL);

	for (size_t i = 0; i < o->n_headers; i++) {
		char *line = xasprintf("%s: %s", o->headers[i].name, o->headers[i].value);
		struct curl_slist *n = curl_slist_append(r->headers, line);

		free(line);
		if (!n)
			lk_fatal("out of memory");
		r->headers = n;
	}
	/* libcurl would add these on its own; AWS requests must carry exactly what was signed. */
	if (!has_header(o, "Content-Type"))
		r->headers = curl_slist_append(r->headers, "Content-Type:");
	r->headers = curl_slist_append(r->headers, "Expect:");
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);

	if (!strcmp(r->method, "HEAD")) {
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	} else if (r->body_file) {
		struct stat st;

		r->upload = fopen(r->body_file, "rb");
		if (!r->upload || fstat(fileno(r->upload), &st) != 0)
			return lk_error_set(&r->err, "InvalidRequest", "cannot read %s: %s",
			                    r->body_file, strerror(errno));
		curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(e, CURLOPT_READDATA, r);
		curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)st.st_size);
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method);
	} else if (r->body || strcmp(r->method, "GET") != 0) {
		if (!strcmp(r->method, "GET") || !strcmp(r->method, "DELETE")) {
			if (r->body_len)
				goto postfields;
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method);
		} else {
		postfields:
			curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
			curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body ? r->body : "");
			if (strcmp(r->method, "POST") != 0)
				curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method);
		}
	}
	return 0;
}

struct http_request *http_send(struct http_client *c, const struct http_request_opts *o,
                               http_done_fn done)
{
	struct http_request *r = xcalloc(1, sizeof(*r));

	r->client = c;
	r->o = *o;
	r->o.headers = NULL;
	r->o.n_headers = 0;
	if (!r->o.connect_timeout_ms)
		r->o.connect_timeout_ms = DEFAULT_CONNECT_TIMEOUT_MS;
	if (!r->o.timeout_ms)
		r->o.timeout_ms = DEFAULT_TIMEOUT_MS;
	if (r->o.max_attempts <= 0)
		r->o.max_attempts = DEFAULT_ATTEMPTS;
	if (r->o.retry_base_ms <= 0)
		r->o.retry_base_ms = DEFAULT_RETRY_BASE_MS;
	if (r->o.retry_cap_ms <= 0)
		r->o.retry_cap_ms = DEFAULT_RETRY_CAP_MS;
	if (r->o.throttle_base_ms <= 0)
		r->o.throttle_base_ms = DEFAULT_THROTTLE_BASE_MS;
	if (!r->o.max_body)
		r->o.max_body = DEFAULT_MAX_BODY;
	if (!r->o.retryable)
		r->o.retryable = http_default_retryable;
	r->o.ca_bundle = NULL; /* used during setup only, through o */
	r->o.body = NULL;
	r->o.body_file = NULL;
	r->o.url = NULL;
	r->o.method = NULL;
	r->done = done;
	r->url = xstrdup(o->url ? o->url : "");
	r->method = xstrdup(o->method ? o->method : "GET");
	r->body_file = xstrdup(o->body_file);
	if (o->body && o->body_len) {
		r->body = xmalloc(o->body_len);
		memcpy(r->body, o->body, o->body_len);
		r->body_len = o->body_len;
	}
	r->started_ns = util_monotonic_ns();
	uv_timer_init(c->loop, &r->timer);
	r->timer.data = r;
	r->next = c->requests;
	if (c->requests)
		c->requests->prev = r;
	c->requests = r;

	r->easy = curl_easy_init();
	if (!r->easy) {
		lk_error_set(&r->err, "NetworkError", "cannot create a transfer");
		uv_timer_start(&r->timer, deferred_fail, 0, 0);
		return r;
	}
	/* Header strings are copied into the slist, the CA path into curl. */
	if (setup_easy(r, o) != 0) {
		uv_timer_start(&r->timer, deferred_fail, 0, 0);
		return r;
	}
	start_attempt(r);
	return r;
}

void http_cancel(struct http_request *r)
{
	if (!r || r->cancelled || r->finished)
		return;
	r->cancelled = true;
	r->done = NULL;
	if (r->client->in_curl && r->in_multi) {
		/* Inside a curl callback: the write/progress callbacks see `cancelled` and stop
		 * the transfer; attempt_done then releases it. */
		return;
	}
	request_release(r);
}

static void client_closed(uv_handle_t *h)
{
	free(h->data);
}

/* Frees the client; a done callback may call this, then the rest waits for the dispatch
 * loop to unwind. */
void http_client_free(struct http_client *c)
{
	if (!c || c->free_pending)
		return;
	if (c->dispatching) {
		struct http_request *r;

		c->free_pending = true;
		for (r = c->requests; r; r = r->next) {
			r->cancelled = true;
			r->done = NULL;
		}
		return;
	}
	client_destroy(c);
}

static void client_destroy(struct http_client *c)
{
	while (c->requests) {
		struct http_request *r = c->requests;

		r->cancelled = true;
		r->done = NULL;
		request_release(r);
	}
	curl_multi_cleanup(c->multi);
	while (c->socks)
		sock_release(c, c->socks);
	uv_timer_stop(&c->timer);
	uv_close((uv_handle_t *)&c->timer, client_closed);
}
