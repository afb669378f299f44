/* aws.c - the AWS client: configuration, the credential chain (with credential_process run
 * asynchronously and cached until shortly before its expiry), signing, sending, error
 * parsing, paging, waiters. Service ops live in lambda.c, logs.c, s3.c, tagging.c. */
#include "backend/aws/aws_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "backend/aws/awsconfig.h"
#include "backend/aws/sigv4.h"

/* Credentials expiring sooner than this are refreshed before use. */
#define CREDS_REFRESH_MS         (5 * 60 * 1000)
#define CREDS_PROCESS_TIMEOUT_MS 60000
#define CREDS_PROCESS_MAX_OUTPUT (1 << 20)
#define MAX_PAGES                1000

struct creds_proc {
	struct aws_client *c;
	uv_process_t proc;
	uv_pipe_t out, err;
	uv_timer_t timer;
	struct buf stdout_buf, stderr_buf;
	int open_handles;
	int64_t exit_status;
	int term_signal;
	bool exited, timed_out, out_eof, err_eof;
	char *name; /* argv[0] for messages */
};

struct aws_client {
	uv_loop_t *loop;
	struct http_client *http;
	struct awsconfig cfg;
	struct aws_config pub;
	char *user_agent;
	long connect_timeout_ms, timeout_ms;
	int max_attempts;
	/* credentials */
	char *ak, *sk, *token;
	int64_t expiration_ms;
	char *creds_source;
	char *ak_hint;
	bool have_creds;
	struct creds_proc *proc;
	struct aws_op *waiting; /* ops waiting for credentials (LIFO is fine) */
	struct aws_op *ops;     /* every live op */
};

static const char *const service_names[AWS_SVC_COUNT] = {"lambda", "logs", "s3", "tagging"};

const char *aws_service_name(enum aws_service s)
{
	return s < AWS_SVC_COUNT ? service_names[s] : "?";
}

/* ---- results ---- */

void aws_result_free(struct aws_result *r)
{
	if (!r)
		return;
	cJSON_Delete(r->json);
	buf_free(&r->body);
	for (size_t i = 0; i < r->n_headers; i++) {
		free(r->header_names[i]);
		free(r->header_values[i]);
	}
	free(r->header_names);
	free(r->header_values);
	free(r->function_error);
	free(r->log_tail);
	free(r->executed_version);
	free((char *)r->creds.access_key_id_hint);
	free((char *)r->creds.source);
	free(r);
}

const char *aws_result_header(const struct aws_result *r, const char *name)
{
	for (size_t i = 0; r && i < r->n_headers; i++)
		if (!strcasecmp(r->header_names[i], name))
			return r->header_values[i];
	return NULL;
}

bool aws_result_ok(const struct aws_result *r)
{
	return r && !r->err.code[0];
}

static struct aws_result *result_error(const char *code, const char *msg)
{
	struct aws_result *r = xcalloc(1, sizeof(*r));

	lk_error_set(&r->err, code, "%s", msg);
	return r;
}

/* ---- client ---- */

static char *key_hint(const char *ak)
{
	size_t n = strlen(ak);

	if (n <= 8)
		return xstrdup("****");
	return xasprintf("%.4s****%s", ak, ak + n - 4);
}

static void set_creds(struct aws_client *c, const char *ak, const char *sk, const char *tok,
                      int64_t exp, const char *source)
{
	free(c->ak);
	if (c->sk)
		memset(c->sk, 0, strlen(c->sk));
	free(c->sk);
	free(c->token);
	free(c->creds_source);
	free(c->ak_hint);
	c->ak = xstrdup(ak);
	c->sk = xstrdup(sk);
	c->token = tok && *tok ? xstrdup(tok) : NULL;
	c->expiration_ms = exp;
	c->creds_source = xstrdup(source);
	c->ak_hint = key_hint(ak);
	c->have_creds = true;
}

struct aws_client *aws_client_new(uv_loop_t *loop, const struct aws_options *o,
                                  struct lk_error *err)
{
	struct aws_client *c = xcalloc(1, sizeof(*c));
	struct aws_options none = {0};
	struct awsconfig_input in;

	if (!o)
		o = &none;
	in = (struct awsconfig_input){
	    .profile = o->profile,
	    .region = o->region,
	    .endpoint_url = o->endpoint_url,
	    .credentials_file = o->credentials_file,
	    .config_file = o->config_file,
	};
	c->loop = loop;
	if (awsconfig_resolve(&in, &c->cfg, err) != 0) {
		awsconfig_free(&c->cfg);
		free(c);
		return NULL;
	}
	c->http = http_client_new(loop, err);
	if (!c->http) {
		awsconfig_free(&c->cfg);
		free(c);
		return NULL;
	}
	if (o->ignore_env_credentials && c->cfg.credentials_source &&
	    !strcmp(c->cfg.credentials_source, "environment")) {
		/* Re-resolve without the environment's keys. */
		struct awsconfig_input in2 = in;

		in2.credentials_file = c->cfg.credentials_file;
		awsconfig_free(&c->cfg);
		if (awsconfig_resolve(&in2, &c->cfg, err) != 0) {
			awsconfig_free(&c->cfg);
			http_client_free(c->http);
			free(c);
			return NULL;
		}
	}
	c->user_agent = xstrdup(o->user_agent ? o->user_agent : "lambdeck/" LAMBDECK_VERSION);
	c->connect_timeout_ms = o->connect_timeout_ms;
	c->timeout_ms = o->timeout_ms;
	c->max_attempts = o->max_attempts > 0       ? o->max_attempts
	                  : c->cfg.max_attempts > 0 ? c->cfg.max_attempts
	                                            : 3;
	if (c->cfg.access_key_id)
		set_creds(c, c->cfg.access_key_id, c->cfg.secret_access_key, c->cfg.session_token,
		          0, c->cfg.credentials_source);

	c->pub.profile = c->cfg.profile;
	c->pub.profile_source = c->cfg.profile_source;
	c->pub.region = c->cfg.region;
	c->pub.region_source = c->cfg.region_source;
	for (int s = 0; s < AWS_SVC_COUNT; s++) {
		c->pub.endpoint[s] = c->cfg.endpoint[s];
		c->pub.endpoint_source[s] = c->cfg.endpoint_source[s];
		c->pub.custom_endpoint[s] = c->cfg.custom_endpoint[s];
	}
	c->pub.ca_bundle = c->cfg.ca_bundle;
	c->pub.credentials_file = c->cfg.credentials_file;
	c->pub.config_file = c->cfg.config_file;
	c->pub.max_attempts = c->max_attempts;
	return c;
}

uv_loop_t *aws_client_loop(struct aws_client *c)
{
	return c->loop;
}

const struct aws_config *aws_client_config(const struct aws_client *c)
{
	return &c->pub;
}

static void op_release(struct aws_op *op);
static void proc_abandon(struct creds_proc *p);

void aws_client_free(struct aws_client *c)
{
	if (!c)
		return;
	while (c->ops) {
		struct aws_op *op = c->ops;

		op->done = NULL;
		op_release(op);
	}
	if (c->proc)
		proc_abandon(c->proc);
	http_client_free(c->http);
	awsconfig_free(&c->cfg);
	free(c->user_agent);
	free(c->ak);
	if (c->sk)
		memset(c->sk, 0, strlen(c->sk));
	free(c->sk);
	free(c->token);
	free(c->creds_source);
	free(c->ak_hint);
	free(c);
}

/* ---- ops: lifetime ---- */

static void op_closed(uv_handle_t *h)
{
	struct aws_op *op = h->data;

	free(op->method);
	free(op->path);
	free(op->query);
	free(op->base_url);
	for (size_t i = 0; i < op->n_hdrs; i++) {
		free(op->hdr_names[i]);
		free(op->hdr_values[i]);
	}
	free(op->hdr_names);
	free(op->hdr_values);
	buf_free(&op->body);
	free(op->body_file);
	free(op->target);
	cJSON_Delete(op->req_json);
	cJSON_Delete(op->acc);
	cJSON_Delete(op->extra_acc);
	free(op->last_token);
	free(op->rest_query_base);
	eventstream_decoder_free(op->dec);
	aws_result_free(op->pending);
	free(op);
}

static void waiting_remove(struct aws_op *op)
{
	struct aws_op **pp = &op->c->waiting;

	while (*pp && *pp != op)
		pp = &(*pp)->wnext;
	if (*pp)
		*pp = op->wnext;
	op->wnext = NULL;
	op->waiting_creds = false;
}

/* Unlinks op, stops whatever it waits on and frees it once its timer has closed. */
static void op_release(struct aws_op *op)
{
	struct aws_client *c = op->c;

	if (op->finished)
		return;
	op->finished = true;
	if (op->http) {
		http_cancel(op->http);
		op->http = NULL;
	}
	if (op->waiting_creds)
		waiting_remove(op);
	if (op->prev)
		op->prev->next = op->next;
	else if (c->ops == op)
		c->ops = op->next;
	if (op->next)
		op->next->prev = op->prev;
	uv_timer_stop(&op->timer);
	uv_close((uv_handle_t *)&op->timer, op_closed);
}

/* Delivers r (ownership to the callback) and ends the op. */
static void op_complete(struct aws_op *op, struct aws_result *r)
{
	aws_done_fn done = op->done;

	op->http = NULL;
	op_release(op);
	if (done)
		done(op->user, r);
	else
		aws_result_free(r);
}

static void deferred_complete(uv_timer_t *t)
{
	struct aws_op *op = t->data;
	struct aws_result *r = op->pending;

	op->pending = NULL;
	op_complete(op, r);
}

static void op_complete_later(struct aws_op *op, struct aws_result *r)
{
	aws_result_free(op->pending);
	op->pending = r;
	uv_timer_start(&op->timer, deferred_complete, 0, 0);
}

struct aws_op *aws_op_new(struct aws_client *c, enum aws_op_kind kind, enum aws_service svc,
                          aws_done_fn done, void *user)
{
	struct aws_op *op = xcalloc(1, sizeof(*op));

	op->c = c;
	op->kind = kind;
	op->svc = svc;
	op->done = done;
	op->user = user;
	uv_timer_init(c->loop, &op->timer);
	op->timer.data = op;
	op->next = c->ops;
	if (c->ops)
		c->ops->prev = op;
	c->ops = op;
	return op;
}

void aws_op_header(struct aws_op *op, const char *name, const char *value)
{
	op->hdr_names = xrealloc(op->hdr_names, (op->n_hdrs + 1) * sizeof(char *));
	op->hdr_values = xrealloc(op->hdr_values, (op->n_hdrs + 1) * sizeof(char *));
	op->hdr_names[op->n_hdrs] = xstrdup(name);
	op->hdr_values[op->n_hdrs] = xstrdup(value);
	op->n_hdrs++;
}

struct aws_op *aws_op_fail(struct aws_op *op, const char *code, const char *fmt, ...)
{
	struct aws_result *r = xcalloc(1, sizeof(*r));
	va_list ap;

	snprintf(r->err.code, sizeof(r->err.code), "%s", code);
	va_start(ap, fmt);
	vsnprintf(r->err.message, sizeof(r->err.message), fmt, ap);
	va_end(ap);
	op_complete_later(op, r);
	return op;
}

void aws_op_cancel(struct aws_op *op)
{
	if (!op || op->finished)
		return;
	op->done = NULL;
	op_release(op);
}

void aws_op_set_progress(struct aws_op *op, aws_progress_fn fn)
{
	if (op && !op->finished)
		op->progress = fn;
}

/* ---- helpers for building requests ---- */

char *aws_path_escape(const char *s)
{
	struct buf b = {0};

	sigv4_uri_encode(s ? s : "", s ? strlen(s) : 0, false, &b);
	return buf_steal(&b);
}

void aws_query_add(struct buf *q, const char *key, const char *value)
{
	if (q->len)
		buf_putc(q, '&');
	sigv4_uri_encode(key, strlen(key), false, q);
	buf_putc(q, '=');
	sigv4_uri_encode(value, strlen(value), false, q);
}

void aws_op_json_body(struct aws_op *op)
{
	char *text = cJSON_PrintUnformatted(op->req_json);

	buf_reset(&op->body);
	buf_puts(&op->body, text ? text : "{}");
	free(text);
}

/* ---- error parsing ---- */

/* Copies the text between <tag> and </tag> (S3's XML errors). */
static bool xml_field(const char *xml, const char *tag, char *out, size_t outsz)
{
	char open[64], close[64];
	const char *a, *b;

	snprintf(open, sizeof(open), "<%s>", tag);
	snprintf(close, sizeof(close), "</%s>", tag);
	a = strstr(xml, open);
	if (!a)
		return false;
	a += strlen(open);
	b = strstr(a, close);
	if (!b)
		return false;
	snprintf(out, outsz, "%.*s", (int)(b - a), a);
	return true;
}

static void copy_sanitized(char *dst, size_t dstsz, const char *src, size_t len)
{
	struct buf b = {0};

	util_sanitize(src, len, false, false, &b);
	snprintf(dst, dstsz, "%s", b.data ? b.data : "");
	buf_free(&b);
}

/* Fills err from an error response: x-amzn-ErrorType / __type / code, message / Message. */
static void parse_error(const struct http_response *hr, const cJSON *json, const char *url,
                        struct lk_error *err)
{
	const char *type = http_response_header(hr, "x-amzn-errortype");
	const char *rid = http_response_header(hr, "x-amzn-requestid");
	char code[128] = "", msg[512] = "";
	const cJSON *v;

	if (!rid)
		rid = http_response_header(hr, "x-amz-request-id");
	if (type && *type) {
		snprintf(code, sizeof(code), "%.*s", (int)strcspn(type, ":"), type);
	} else if (json) {
		if ((v = cJSON_GetObjectItemCaseSensitive(json, "__type")) && cJSON_IsString(v)) {
			const char *t = strrchr(v->valuestring, '#');

			snprintf(code, sizeof(code), "%s", t ? t + 1 : v->valuestring);
		} else if (((v = cJSON_GetObjectItemCaseSensitive(json, "code")) ||
		            (v = cJSON_GetObjectItemCaseSensitive(json, "Code")) ||
		            (v = cJSON_GetObjectItemCaseSensitive(json, "Type"))) &&
		           cJSON_IsString(v)) {
			snprintf(code, sizeof(code), "%s", v->valuestring);
		}
	}
	if (json && (((v = cJSON_GetObjectItemCaseSensitive(json, "message")) ||
	              (v = cJSON_GetObjectItemCaseSensitive(json, "Message")) ||
	              (v = cJSON_GetObjectItemCaseSensitive(json, "errorMessage"))) &&
	             cJSON_IsString(v)))
		snprintf(msg, sizeof(msg), "%s", v->valuestring);
	if (!json && hr->body.len && hr->body.data[0] == '<') {
		char rid_xml[80];

		if (!code[0])
			xml_field(hr->body.data, "Code", code, sizeof(code));
		xml_field(hr->body.data, "Message", msg, sizeof(msg));
		if (!rid && xml_field(hr->body.data, "RequestId", rid_xml, sizeof(rid_xml)))
			copy_sanitized(err->request_id, sizeof(err->request_id), rid_xml,
			               strlen(rid_xml));
	}
	code[strcspn(code, ":")] = '\0';
	if (!code[0])
		snprintf(code, sizeof(code), "%s",
		         hr->status == 404   ? "NotFound"
		         : hr->status == 403 ? "AccessDenied"
		         : hr->status >= 500 ? "ServiceError"
		                             : "HttpError");
	if (!msg[0])
		snprintf(msg, sizeof(msg), "HTTP %ld from %s", hr->status, url);
	copy_sanitized(err->code, sizeof(err->code), code, strlen(code));
	copy_sanitized(err->message, sizeof(err->message), msg, strlen(msg));
	if (rid)
		copy_sanitized(err->request_id, sizeof(err->request_id), rid, strlen(rid));
	err->status = (int)hr->status;
}

static bool throttling_code(const char *code)
{
	static const char *const codes[] = {
	    "Throttling",
	    "ThrottlingException",
	    "ThrottledException",
	    "RequestThrottledException",
	    "TooManyRequestsException",
	    "ProvisionedThroughputExceededException",
	    "TransactionInProgressException",
	    "RequestLimitExceeded",
	    "BandwidthLimitExceeded",
	    "LimitExceededException",
	    "RequestThrottled",
	    "SlowDown",
	    "PriorRequestNotComplete",
	    "EC2ThrottledException",
	};

	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (!strcmp(code, codes[i]))
			return true;
	return false;
}

/* Retry policy: network errors, 429, 5xx and throttling error codes. Invoke is retried only
 * when nothing can have run: throttled (429 / TooManyRequests) or no connection made. */
static enum http_retry aws_retryable(void *ud, const struct http_response *r,
                                     const struct lk_error *net_err)
{
	struct aws_op *op = ud;

	if (net_err) {
		if (op->is_invoke)
			return !strcmp(net_err->code, "ConnectionRefused") ? HTTP_RETRY
			                                                   : HTTP_NO_RETRY;
		return http_default_retryable(NULL, r, net_err);
	}
	if (r->status < 400)
		return HTTP_NO_RETRY;
	if (r->status == 429)
		return HTTP_RETRY_THROTTLED;
	{
		cJSON *json = cJSON_ParseWithLength(r->body.data ? r->body.data : "", r->body.len);
		struct lk_error e = {0};

		parse_error(r, json, "", &e);
		cJSON_Delete(json);
		if (throttling_code(e.code))
			return HTTP_RETRY_THROTTLED;
	}
	return r->status >= 500 && !op->is_invoke ? HTTP_RETRY : HTTP_NO_RETRY;
}

/* ---- sending ---- */

/* Splits an endpoint URL into the Host header value (host[:port], default ports dropped)
 * and the base path (without trailing slash). */
static void endpoint_parts(const char *url, char *host, size_t hostsz, const char **base_path)
{
	const char *p = strstr(url, "://");
	const char *h = p ? p + 3 : url;
	size_t n = strcspn(h, "/?#");
	bool https = !strncasecmp(url, "https://", 8);

	snprintf(host, hostsz, "%.*s", (int)n, h);
	{
		char *colon = strrchr(host, ':');

		if (colon && !strchr(colon, ']') &&
		    ((https && !strcmp(colon, ":443")) || (!https && !strcmp(colon, ":80"))))
			*colon = '\0';
	}
	*base_path = h + n;
}

static void on_http_done(void *ud, struct http_response *hr, const struct lk_error *err);
static int on_stream_data(void *ud, const struct http_response *r, const void *data, size_t len);
static void on_http_progress(void *ud, const char *phase, uint64_t done, uint64_t total)
{
	struct aws_op *op = ud;

	if (op->progress && !op->finished)
		op->progress(op->user, phase, done, total);
}

static void op_send(struct aws_op *op)
{
	const char *endpoint = op->base_url ? op->base_url : op->c->cfg.endpoint[op->svc];
	char host[256];
	const char *base_path;
	struct buf path = {0}, url = {0};
	struct sigv4_header *hdrs;
	size_t n = 0;
	struct sigv4_signature sig;
	struct lk_error err = {0};
	struct http_request_opts ho;

	if (!endpoint) {
		aws_op_fail(op, "NoRegion",
		            "no region configured for %s: use --region, AWS_REGION or a profile's "
		            "region",
		            aws_service_name(op->svc));
		return;
	}
	endpoint_parts(endpoint, host, sizeof(host), &base_path);
	buf_puts(&path, base_path);
	if (path.len && path.data[path.len - 1] == '/')
		path.data[--path.len] = '\0';
	buf_puts(&path, op->path && *op->path ? op->path : "/");

	hdrs = xcalloc(op->n_hdrs + 8, sizeof(*hdrs));
	hdrs[n++] = (struct sigv4_header){"Host", host};
	if (op->target) {
		hdrs[n++] = (struct sigv4_header){"Content-Type", "application/x-amz-json-1.1"};
		hdrs[n++] = (struct sigv4_header){"X-Amz-Target", op->target};
	}
	for (size_t i = 0; i < op->n_hdrs; i++)
		hdrs[n++] = (struct sigv4_header){op->hdr_names[i], op->hdr_values[i]};
	{
		struct sigv4_request req = {
		    .method = op->method,
		    .path = path.data,
		    .query = op->query,
		    .headers = hdrs,
		    .n_headers = n,
		    .body = op->body.data,
		    .body_len = op->body.len,
		    .payload_hash = op->body_file ? SIGV4_UNSIGNED_PAYLOAD : NULL,
		    .s3 = op->s3,
		};
		struct sigv4_credentials cr = {op->c->ak, op->c->sk, op->c->token};

		if (sigv4_sign(&req, &cr, op->c->cfg.region, aws_service_name(op->svc), 0, &sig,
		               &err) != 0) {
			sigv4_signature_free(&sig);
			free(hdrs);
			buf_free(&path);
			aws_op_fail(op, err.code, "%s", err.message);
			return;
		}
	}
	hdrs = xrealloc(hdrs, (n + sig.n_add + 1) * sizeof(*hdrs));
	for (size_t i = 0; i < sig.n_add; i++)
		hdrs[n++] = sig.add[i];
	hdrs[n++] = (struct sigv4_header){"User-Agent", op->c->user_agent};

	buf_printf(&url, "%.*s%s", (int)(base_path - endpoint), endpoint, path.data);
	if (op->query && *op->query)
		buf_printf(&url, "?%s", op->query);
	ho = (struct http_request_opts){
	    .method = op->method,
	    .url = url.data,
	    .headers = (const struct http_header *)hdrs,
	    .n_headers = n,
	    .body = op->body.data,
	    .body_len = op->body.len,
	    .body_file = op->body_file,
	    .connect_timeout_ms = op->c->connect_timeout_ms,
	    .timeout_ms = op->kind == AWS_OP_STREAM ? -1
	                  : op->is_invoke           ? 905000
	                                            : op->c->timeout_ms,
	    .max_attempts = op->c->max_attempts,
	    .ca_bundle = op->c->cfg.ca_bundle,
	    .retryable = aws_retryable,
	    .on_data = op->kind == AWS_OP_STREAM ? on_stream_data : NULL,
	    .on_progress = on_http_progress,
	    .ud = op,
	};
	op->http = http_send(op->c->http, &ho, on_http_done);
	sigv4_signature_free(&sig);
	free(hdrs);
	buf_free(&path);
	buf_free(&url);
}

/* ---- credentials ---- */

static bool creds_fresh(const struct aws_client *c)
{
	return c->have_creds &&
	       (!c->expiration_ms || c->expiration_ms - util_now_ms() > CREDS_REFRESH_MS);
}

static void proc_start(struct aws_client *c);

static void creds_result_fill(struct aws_client *c, struct aws_result *r)
{
	r->creds.access_key_id_hint = xstrdup(c->ak_hint);
	r->creds.source = xstrdup(c->creds_source);
	r->creds.has_session_token = c->token != NULL;
	r->creds.expiration_ms = c->expiration_ms;
}

/* Runs an op whose credentials are ready. */
static void op_go(struct aws_op *op)
{
	if (op->kind == AWS_OP_CREDS) {
		struct aws_result *r = xcalloc(1, sizeof(*r));

		creds_result_fill(op->c, r);
		op_complete_later(op, r);
		return;
	}
	op_send(op);
}

/* Fails every waiting op (credential errors). */
static void creds_fail_waiting(struct aws_client *c, const struct lk_error *e)
{
	while (c->waiting) {
		struct aws_op *op = c->waiting;
		struct aws_result *r = xcalloc(1, sizeof(*r));

		c->waiting = op->wnext;
		op->wnext = NULL;
		op->waiting_creds = false;
		r->err = *e;
		op_complete_later(op, r);
	}
}

static void creds_run_waiting(struct aws_client *c)
{
	while (c->waiting) {
		struct aws_op *op = c->waiting;

		c->waiting = op->wnext;
		op->wnext = NULL;
		op->waiting_creds = false;
		op_go(op);
	}
}

struct aws_op *aws_op_start(struct aws_op *op)
{
	struct aws_client *c = op->c;

	if (creds_fresh(c)) {
		op_go(op);
		return op;
	}
	if (!c->cfg.credential_process) {
		return aws_op_fail(
		    op, "MissingCredentials",
		    "unable to locate credentials (profile %s): set AWS_ACCESS_KEY_ID and "
		    "AWS_SECRET_ACCESS_KEY, run 'aws configure', or give the profile a "
		    "credential_process (for SSO/roles: credential_process = aws configure "
		    "export-credentials --profile NAME --format process)",
		    c->cfg.profile);
	}
	op->waiting_creds = true;
	op->wnext = c->waiting;
	c->waiting = op;
	if (!c->proc)
		proc_start(c);
	return op;
}

struct aws_op *aws_client_resolve_credentials(struct aws_client *c, aws_done_fn done, void *user)
{
	return aws_op_start(aws_op_new(c, AWS_OP_CREDS, AWS_SVC_LAMBDA, done, user));
}

/* credential_process: spawned with an argv (no shell), stdout collected, JSON parsed. */

static void proc_handle_closed(uv_handle_t *h);

static void proc_maybe_finish(struct creds_proc *p);

static void proc_free(struct creds_proc *p)
{
	buf_free(&p->stdout_buf);
	if (p->stdout_buf.data)
		memset(p->stdout_buf.data, 0, p->stdout_buf.cap);
	buf_free(&p->stderr_buf);
	free(p->name);
	free(p);
}

static void proc_handle_closed(uv_handle_t *h)
{
	struct creds_proc *p = h->data;

	if (--p->open_handles == 0)
		proc_free(p);
}

static void proc_close_all(struct creds_proc *p)
{
	uv_handle_t *hs[] = {(uv_handle_t *)&p->proc, (uv_handle_t *)&p->out,
	                     (uv_handle_t *)&p->err, (uv_handle_t *)&p->timer};

	for (size_t i = 0; i < 4; i++)
		if (hs[i]->data && !uv_is_closing(hs[i]))
			uv_close(hs[i], proc_handle_closed);
}

/* Client going away while the process runs: kill it (SIGKILL: a helper waiting on a login
 * prompt must not outlive us), close handles, no callbacks. */
static void proc_abandon(struct creds_proc *p)
{
	p->c->proc = NULL;
	p->c = NULL;
	if (!p->exited)
		uv_process_kill(&p->proc, SIGKILL);
	proc_close_all(p);
}

static void proc_parse(struct aws_client *c, struct creds_proc *p, struct lk_error *e)
{
	cJSON *j;
	const cJSON *ak, *sk, *tok, *exp, *ver;
	int64_t exp_ms = 0;
	char *source;

	if (p->timed_out) {
		lk_error_set(e, "CredentialProcessError",
		             "credential_process %s timed out after %d s", p->name,
		             CREDS_PROCESS_TIMEOUT_MS / 1000);
		return;
	}
	if (p->term_signal || p->exit_status != 0) {
		struct buf msg = {0};
		size_t n = p->stderr_buf.len > 300 ? 300 : p->stderr_buf.len;

		while (n && (p->stderr_buf.data[n - 1] == '\n' ||
		             p->stderr_buf.data[n - 1] == '\r' || p->stderr_buf.data[n - 1] == ' '))
			n--;

		util_sanitize(p->stderr_buf.data ? p->stderr_buf.data : "", n, false, false, &msg);
		lk_error_set(e, "CredentialProcessError",
		             "credential_process %s failed (%s %d)%s%s", p->name,
		             p->term_signal ? "signal" : "exit status",
		             p->term_signal ? p->term_signal : (int)p->exit_status,
		             msg.len ? ": " : "", msg.len ? msg.data : "");
		buf_free(&msg);
		return;
	}
	j = cJSON_ParseWithLength(p->stdout_buf.data ? p->stdout_buf.data : "", p->stdout_buf.len);
	/* Never quote the output: it holds the secret. */
	if (!cJSON_IsObject(j)) {
		lk_error_set(e, "CredentialProcessError",
		             "credential_process %s did not print a JSON object", p->name);
		cJSON_Delete(j);
		return;
	}
	ver = cJSON_GetObjectItemCaseSensitive(j, "Version");
	ak = cJSON_GetObjectItemCaseSensitive(j, "AccessKeyId");
	sk = cJSON_GetObjectItemCaseSensitive(j, "SecretAccessKey");
	tok = cJSON_GetObjectItemCaseSensitive(j, "SessionToken");
	exp = cJSON_GetObjectItemCaseSensitive(j, "Expiration");
	if (!cJSON_IsNumber(ver) || ver->valuedouble != 1) {
		lk_error_set(
		    e, "CredentialProcessError",
		    "credential_process %s: unsupported or missing \"Version\" (must be 1)",
		    p->name);
	} else if (!cJSON_IsString(ak) || !*ak->valuestring || !cJSON_IsString(sk) ||
	           !*sk->valuestring) {
		lk_error_set(e, "CredentialProcessError",
		             "credential_process %s: \"AccessKeyId\" and \"SecretAccessKey\" "
		             "are required strings",
		             p->name);
	} else if (exp && !cJSON_IsNull(exp) &&
	           (!cJSON_IsString(exp) ||
	            (exp_ms = awsconfig_parse_time(exp->valuestring)) < 0)) {
		lk_error_set(e, "CredentialProcessError",
		             "credential_process %s: \"Expiration\" is not an ISO 8601 time",
		             p->name);
	} else if (tok && !cJSON_IsNull(tok) && !cJSON_IsString(tok)) {
		lk_error_set(e, "CredentialProcessError",
		             "credential_process %s: \"SessionToken\" must be a string", p->name);
	} else {
		source = xstrdup(c->cfg.credential_process_source);
		set_creds(c, ak->valuestring, sk->valuestring,
		          cJSON_IsString(tok) ? tok->valuestring : NULL, exp_ms, source);
		free(source);
		if (exp_ms && exp_ms - util_now_ms() <= 0)
			lk_error_set(e, "CredentialProcessError",
			             "credential_process %s returned credentials that already "
			             "expired (%s)",
			             p->name, exp->valuestring);
	}
	if (cJSON_IsString(sk))
		memset(sk->valuestring, 0, strlen(sk->valuestring));
	cJSON_Delete(j);
}

static void proc_maybe_finish(struct creds_proc *p)
{
	struct aws_client *c = p->c;
	struct lk_error e = {0};

	if (!p->exited || !p->out_eof || !p->err_eof)
		return;
	if (!c) /* abandoned */
		return;
	c->proc = NULL;
	p->c = NULL;
	proc_parse(c, p, &e);
	proc_close_all(p);
	if (lk_error_is_set(&e))
		creds_fail_waiting(c, &e);
	else
		creds_run_waiting(c);
}

static void proc_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
	(void)h;
	b->base = xmalloc(suggested);
	b->len = suggested;
}

static void proc_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct creds_proc *p = s->data;
	struct buf *into = s == (uv_stream_t *)&p->out ? &p->stdout_buf : &p->stderr_buf;

	if (n > 0 && into->len + (size_t)n <= CREDS_PROCESS_MAX_OUTPUT)
		buf_append(into, b->base, (size_t)n);
	if (b->base) {
		memset(b->base, 0, b->len);
		free(b->base);
	}
	if (n < 0) {
		uv_read_stop(s);
		if (s == (uv_stream_t *)&p->out)
			p->out_eof = true;
		else
			p->err_eof = true;
		proc_maybe_finish(p);
	}
}

static void proc_exit(uv_process_t *h, int64_t status, int sig)
{
	struct creds_proc *p = h->data;

	p->exited = true;
	p->exit_status = status;
	p->term_signal = sig;
	uv_timer_stop(&p->timer);
	proc_maybe_finish(p);
}

static void proc_timeout(uv_timer_t *t)
{
	struct creds_proc *p = t->data;

	p->timed_out = true;
	uv_process_kill(&p->proc, SIGKILL);
}

static void proc_start(struct aws_client *c)
{
	struct lk_error e = {0};
	char **argv = awsconfig_split_command(c->cfg.credential_process, &e);
	struct creds_proc *p;
	uv_stdio_container_t stdio[3];
	uv_process_options_t po = {0};
	int rc;

	if (!argv) {
		creds_fail_waiting(c, &e);
		return;
	}
	p = xcalloc(1, sizeof(*p));
	p->c = c;
	p->name = xstrdup(argv[0]);
	uv_pipe_init(c->loop, &p->out, 0);
	uv_pipe_init(c->loop, &p->err, 0);
	uv_timer_init(c->loop, &p->timer);
	p->out.data = p->err.data = p->timer.data = p;
	p->open_handles = 3;
	stdio[0].flags = UV_IGNORE;
	stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	stdio[1].data.stream = (uv_stream_t *)&p->out;
	stdio[2].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	stdio[2].data.stream = (uv_stream_t *)&p->err;
	po.file = argv[0];
	po.args = argv;
	po.stdio = stdio;
	po.stdio_count = 3;
	po.exit_cb = proc_exit;
	rc = uv_spawn(c->loop, &p->proc, &po);
	awsconfig_argv_free(argv);
	if (rc != 0) {
		lk_error_set(&e, "CredentialProcessError", "cannot run credential_process %s: %s",
		             p->name, uv_strerror(rc));
		p->c = NULL;
		/* uv_spawn failure leaves the process handle to be closed too. */
		p->proc.data = p;
		p->open_handles++;
		proc_close_all(p);
		creds_fail_waiting(c, &e);
		return;
	}
	p->proc.data = p;
	p->open_handles++;
	c->proc = p;
	uv_read_start((uv_stream_t *)&p->out, proc_alloc, proc_read);
	uv_read_start((uv_stream_t *)&p->err, proc_alloc, proc_read);
	uv_timer_start(&p->timer, proc_timeout, CREDS_PROCESS_TIMEOUT_MS, 0);
}

/* ---- responses ---- */

static struct aws_result *result_from_http(struct aws_op *op, struct http_response *hr,
                                           const struct lk_error *err)
{
	struct aws_result *r = xcalloc(1, sizeof(*r));
	const char *ct;

	r->status = hr->status;
	r->attempts = hr->attempts;
	r->body = hr->body;
	memset(&hr->body, 0, sizeof(hr->body));
	r->header_names = hr->header_names;
	r->header_values = hr->header_values;
	r->n_headers = hr->n_headers;
	hr->header_names = hr->header_values = NULL;
	hr->n_headers = 0;
	ct = aws_result_header(r, "content-type");
	if (r->body.len &&
	    (!ct || strstr(ct, "json") || r->body.data[0] == '{' || r->body.data[0] == '['))
		r->json = cJSON_ParseWithLength(r->body.data, r->body.len);
	if (err) {
		r->err = *err;
		if (r->attempts > 1) {
			size_t l = strlen(r->err.message);

			snprintf(r->err.message + l, sizeof(r->err.message) - l,
			         " (after %d attempts)", r->attempts);
		}
	} else if (r->status >= 300) {
		struct http_response view = *hr;

		view.body.data = r->body.data;
		view.body.len = r->body.len;
		view.header_names = r->header_names;
		view.header_values = r->header_values;
		view.n_headers = r->n_headers;
		parse_error(&view, r->json,
		            op->base_url ? op->base_url : op->c->cfg.endpoint[op->svc], &r->err);
	} else {
		const char *rid = aws_result_header(r, "x-amzn-requestid");

		if (!rid)
			rid = aws_result_header(r, "x-amz-request-id");
		if (rid)
			copy_sanitized(r->err.request_id, sizeof(r->err.request_id), rid,
			               strlen(rid));
	}
	if (op->is_invoke && !r->err.code[0]) {
		const char *fe = aws_result_header(r, "x-amz-function-error");
		const char *lr = aws_result_header(r, "x-amz-log-result");
		const char *ev = aws_result_header(r, "x-amz-executed-version");

		r->function_error = xstrdup(fe);
		r->executed_version = xstrdup(ev);
		if (lr) {
			size_t n = 0;
			unsigned char *d = util_base64_decode(lr, strlen(lr), &n);

			if (d) {
				r->log_tail = xstrndup((char *)d, n);
				free(d);
			}
		}
	}
	return r;
}

/* Paging: JSON ops set the token into the body; REST ops into the query. */
static bool page_next(struct aws_op *op, struct aws_result *r)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(r->json, op->list_key);
	const cJSON *tok = cJSON_GetObjectItemCaseSensitive(r->json, op->token_out);
	cJSON *it;

	if (!op->acc)
		op->acc = cJSON_CreateArray();
	if (cJSON_IsArray(list)) {
		cJSON *copy = cJSON_Duplicate(list, 1);

		while ((it = cJSON_DetachItemFromArray(copy, 0)))
			cJSON_AddItemToArray(op->acc, it);
		cJSON_Delete(copy);
	}
	if (!strcmp(op->list_key, "events")) {
		const cJSON *s = cJSON_GetObjectItemCaseSensitive(r->json, "searchedLogStreams");

		if (!op->extra_acc)
			op->extra_acc = cJSON_CreateArray();
		if (cJSON_IsArray(s))
			cJSON_ArrayForEach(it, s)
			    cJSON_AddItemToArray(op->extra_acc, cJSON_Duplicate(it, 1));
	}
	op->pages++;
	if (!cJSON_IsString(tok) || !*tok->valuestring || op->pages >= MAX_PAGES ||
	    (op->last_token && !strcmp(op->last_token, tok->valuestring)))
		return false;
	free(op->last_token);
	op->last_token = xstrdup(tok->valuestring);
	if (op->req_json) {
		cJSON_DeleteItemFromObjectCaseSensitive(op->req_json, op->token_in);
		cJSON_AddStringToObject(op->req_json, op->token_in, op->last_token);
		aws_op_json_body(op);
	} else {
		struct buf q = {0};

		buf_puts(&q, op->rest_query_base ? op->rest_query_base : "");
		aws_query_add(&q, op->token_in, op->last_token);
		free(op->query);
		op->query = buf_steal(&q);
	}
	return true;
}

static void wait_poll(uv_timer_t *t)
{
	struct aws_op *op = t->data;

	op_send(op);
}

/* Wait-until-updated: decides from one GetFunctionConfiguration result. */
static void wait_step(struct aws_op *op, struct aws_result *r)
{
	const char *state = NULL, *last = NULL, *reason = NULL;
	const cJSON *v;

	op->polls++;
	if (op->progress)
		op->progress(op->user, "waiting", (uint64_t)op->polls, 0);
	if (!aws_result_ok(r)) {
		op_complete(op, r);
		return;
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(r->json, "State")) && cJSON_IsString(v))
		state = v->valuestring;
	if ((v = cJSON_GetObjectItemCaseSensitive(r->json, "LastUpdateStatus")) &&
	    cJSON_IsString(v))
		last = v->valuestring;
	if (last && !strcmp(last, "Failed")) {
		v = cJSON_GetObjectItemCaseSensitive(r->json, "LastUpdateStatusReason");
		reason = cJSON_IsString(v) ? v->valuestring : "no reason given";
		lk_error_set(&r->err, "UpdateFailed", "update failed: %s", reason);
		op_complete(op, r);
		return;
	}
	if (state && !strcmp(state, "Failed")) {
		v = cJSON_GetObjectItemCaseSensitive(r->json, "StateReason");
		reason = cJSON_IsString(v) ? v->valuestring : "no reason given";
		lk_error_set(&r->err, "UpdateFailed", "function is in state Failed: %s", reason);
		op_complete(op, r);
		return;
	}
	if ((!state || strcmp(state, "Pending") != 0) &&
	    (!last || strcmp(last, "InProgress") != 0)) {
		op_complete(op, r);
		return;
	}
	if (util_now_ms() + op->delay_ms > op->deadline_ms) {
		lk_error_set(&r->err, "WaitTimeout",
		             "function still %s after waiting; try again later",
		             last && !strcmp(last, "InProgress") ? "updating" : "pending");
		op_complete(op, r);
		return;
	}
	aws_result_free(r);
	uv_timer_start(&op->timer, wait_poll, (uint64_t)op->delay_ms, 0);
	op->delay_ms = op->delay_ms * 2 > 5000 ? 5000 : op->delay_ms * 2;
}

static void on_http_done(void *ud, struct http_response *hr, const struct lk_error *err)
{
	struct aws_op *op = ud;
	struct aws_result *r;

	op->http = NULL;
	if (op->kind == AWS_OP_STREAM) {
		r = result_from_http(op, hr, err);
		if (op->stream_failed)
			r->err = op->stream_err;
		else if (!r->err.code[0] && op->dec && eventstream_decoder_pending(op->dec))
			lk_error_set(&r->err, "EventStreamError",
			             "the event stream ended inside a message (truncated)");
		op_complete(op, r);
		return;
	}
	r = result_from_http(op, hr, err);
	if (op->kind == AWS_OP_WAIT) {
		wait_step(op, r);
		return;
	}
	if (op->kind == AWS_OP_PAGED && aws_result_ok(r)) {
		if (page_next(op, r)) {
			aws_result_free(r);
			op_send(op);
			return;
		}
		cJSON_Delete(r->json);
		r->json = cJSON_CreateObject();
		cJSON_AddItemToObject(r->json, op->list_key, op->acc);
		op->acc = NULL;
		if (op->extra_acc) {
			cJSON_AddItemToObject(r->json, "searchedLogStreams", op->extra_acc);
			op->extra_acc = NULL;
		}
	}
	op_complete(op, r);
}

/* ---- event streams ---- */

static int on_stream_message(void *ud, const struct eventstream_message *m)
{
	struct aws_op *op = ud;
	char *mtype = eventstream_header_string(m, ":message-type");
	char *etype = eventstream_header_string(m, ":event-type");
	cJSON *payload = cJSON_ParseWithLength((const char *)m->payload, m->payload_len);
	int rc = 0;

	if (mtype && !strcmp(mtype, "exception")) {
		char *xtype = eventstream_header_string(m, ":exception-type");
		const cJSON *msg = cJSON_GetObjectItemCaseSensitive(payload, "message");

		if (!msg)
			msg = cJSON_GetObjectItemCaseSensitive(payload, "Message");
		lk_error_set(&op->stream_err, xtype ? xtype : "EventStreamException", "%s",
		             cJSON_IsString(msg) ? msg->valuestring
		                                 : "the stream reported an error");
		op->stream_failed = true;
		op->stream_exception = true;
		if (op->on_event)
			op->on_event(op->user, "exception", xtype ? xtype : "", payload);
		free(xtype);
		rc = 1; /* stop: the service ends the stream after an exception */
	} else if (etype && !strcmp(etype, "initial-response")) {
		/* protocol plumbing (the HTTP response's initial part): SDKs swallow it too */
	} else if (op->on_event && !op->finished) {
		op->on_event(op->user, mtype ? mtype : "event", etype ? etype : "", payload);
	}
	cJSON_Delete(payload);
	free(mtype);
	free(etype);
	return rc;
}

static int on_stream_data(void *ud, const struct http_response *r, const void *data, size_t len)
{
	struct aws_op *op = ud;

	(void)r;
	if (!op->dec)
		op->dec = eventstream_decoder_new(0);
	if (eventstream_decoder_feed(op->dec, data, len, on_stream_message, op, &op->stream_err) !=
	    0) {
		if (!op->stream_exception && !op->stream_failed) {
			op->stream_failed = true;
			if (!op->stream_err.code[0])
				lk_error_set(&op->stream_err, "EventStreamError",
				             "corrupt event stream");
		}
		return -1;
	}
	return op->finished ? -1 : 0;
}

/* ---- generic calls ---- */

struct aws_op *aws_call_json(struct aws_client *c, enum aws_service svc, const char *target,
                             const cJSON *body, aws_done_fn done, void *user)
{
	struct aws_op *op = aws_op_new(c, AWS_OP_PLAIN, svc, done, user);

	op->method = xstrdup("POST");
	op->path = xstrdup("/");
	op->target = xstrdup(target);
	op->req_json = body ? cJSON_Duplicate(body, 1) : cJSON_CreateObject();
	aws_op_json_body(op);
	return aws_op_start(op);
}

struct aws_op *aws_call_rest(struct aws_client *c, enum aws_service svc, const char *method,
                             const char *path, const char *query, const char *const *headers,
                             const void *body, size_t body_len, aws_done_fn done, void *user)
{
	struct aws_op *op = aws_op_new(c, AWS_OP_PLAIN, svc, done, user);

	op->method = xstrdup(method);
	op->path = xstrdup(path);
	op->query = query && *query ? xstrdup(query) : NULL;
	for (size_t i = 0; headers && headers[i] && headers[i + 1]; i += 2)
		aws_op_header(op, headers[i], headers[i + 1]);
	if (body && body_len)
		buf_append(&op->body, body, body_len);
	op->s3 = svc == AWS_SVC_S3;
	return aws_op_start(op);
}

/* ---- headless helper ---- */

void aws_waiter_done(void *user, struct aws_result *r)
{
	struct aws_waiter *w = user;

	w->result = r;
	w->done = true;
}

struct aws_result *aws_waiter_run(struct aws_client *c, struct aws_waiter *w)
{
	while (!w->done)
		if (uv_run(c->loop, UV_RUN_ONCE) == 0 && !w->done)
			break;
	if (!w->done)
		return result_error("InternalError", "the loop ended before the call completed");
	return w->result;
}
