/* logs_api.c - CloudWatch Logs JSON protocol over the logstore, including StartLiveTail as
 * an AWS event stream (see logs_api.h). */
#include "backend/emulator/logs_api.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/aws/eventstream.h"
#include "backend/emulator/emu_http.h"
#include "backend/emulator/emu_internal.h"
#include "backend/emulator/filter.h"

#define MAX_RESPONSE_BYTES (1024 * 1024)

/* --- small helpers --- */

static int fail(struct lk_error *err, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(struct lk_error *err, int status, const char *code, const char *fmt, ...)
{
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	lk_error_set(err, code, "%s", msg);
	if (err)
		err->status = status;
	return status;
}

static int invalid_param(struct lk_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int invalid_param(struct lk_error *err, const char *fmt, ...)
{
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return fail(err, 400, "InvalidParameterException", "%s", msg);
}

static int no_group(struct lk_error *err)
{
	return fail(err, 400, "ResourceNotFoundException",
	            "The specified log group does not exist.");
}

/* A JSON-safe copy of a log message: valid UTF-8, no NUL (both become U+FFFD); control
 * characters are kept (JSON escapes them) so clients see the real text. Caller frees. */
static char *json_safe(const char *msg, size_t len)
{
	struct buf b = {0};
	const unsigned char *s = (const unsigned char *)msg;
	buf_reserve(&b, len);
	size_t i = 0;
	while (i < len) {
		size_t n = s[i] ? util_utf8_len(s + i, len - i) : 0;
		if (n == 0) {
			buf_puts(&b, "\xEF\xBF\xBD");
			i++;
		} else {
			buf_append(&b, s + i, n);
			i += n;
		}
	}
	return buf_steal(&b);
}

static void add_message(cJSON *o, const char *key, const char *msg, size_t len)
{
	char *safe = json_safe(msg, len);
	cJSON_AddStringToObject(o, key, safe);
	free(safe);
}

static const char *get_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Integer parameter: returns 0 absent, 1 present (in *out), -1 wrong type. */
static int get_int(const cJSON *o, const char *key, int64_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble > 9.0e15 ||
	    v->valuedouble < -9.0e15)
		return -1;
	*out = (int64_t)v->valuedouble;
	return 1;
}

/* Optional startTime / endTime (ms) into *start / *end; -1 with err set when either is not
 * a number. */
static int get_time_range(const cJSON *req, int64_t *start, int64_t *end, struct lk_error *err)
{
	int64_t s = 0, e = 0;
	int rs = get_int(req, "startTime", &s), re = get_int(req, "endTime", &e);

	if (rs < 0 || re < 0) {
		invalid_param(err, "startTime and endTime must be numbers (ms).");
		return -1;
	}
	if (rs == 1)
		*start = s;
	if (re == 1)
		*end = e;
	return 0;
}

static bool get_bool(const cJSON *o, const char *key, bool dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsBool(v) ? cJSON_IsTrue(v) : dflt;
}

/* limit parameter in 1..max (default dflt); returns -1 after setting err. */
static int64_t get_limit(const cJSON *o, int64_t dflt, int64_t max, struct lk_error *err)
{
	int64_t v = dflt;
	int r = get_int(o, "limit", &v);
	if (r < 0 || (r == 1 && (v < 1 || v > max))) {
		invalid_param(err,
		              "1 validation error detected: Value at 'limit' failed to satisfy "
		              "constraint: Member must have value between 1 and %" PRId64,
		              max);
		return -1;
	}
	return v;
}

static char *make_token(char kind, uint64_t v)
{
	return xasprintf("%c/%020" PRIu64, kind, v);
}

/* Parses a token of our own making; false for anything else. */
static bool parse_token(const char *tok, char kind, uint64_t *out)
{
	if (!tok || tok[0] != kind || tok[1] != '/' || strlen(tok) != 22)
		return false;
	uint64_t v = 0;
	for (const char *p = tok + 2; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		if (v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	*out = v;
	return true;
}

char *logs_api_group_name(const char *id)
{
	if (!id)
		return NULL;
	if (strncmp(id, "arn:", 4) != 0)
		return xstrdup(id);
	const char *p = strstr(id, ":log-group:");
	if (!p)
		return xstrdup(id);
	p += strlen(":log-group:");
	size_t n = strlen(p);
	if (n >= 2 && !strcmp(p + n - 2, ":*"))
		n -= 2;
	return xstrndup(p, n);
}

static char *group_arn(const struct logs_api_ctx *ctx, const char *name, bool star)
{
	return xasprintf("arn:aws:logs:%s:%s:log-group:%s%s",
	                 ctx->region ? ctx->region : "us-east-1",
	                 ctx->account ? ctx->account : "000000000000", name, star ? ":*" : "");
}

/* The group of a request: logGroupName or logGroupIdentifier (exactly one). */
static char *request_group(const cJSON *req, struct lk_error *err)
{
	const char *name = get_str(req, "logGroupName");
	const char *id = get_str(req, "logGroupIdentifier");
	if (name && id) {
		invalid_param(err, "LogGroup name and LogGroup identifier are mutually exclusive "
		                   "parameters.");
		return NULL;
	}
	if (!name && !id) {
		invalid_param(err, "Either logGroupName or logGroupIdentifier is required.");
		return NULL;
	}
	return name ? xstrdup(name) : logs_api_group_name(id);
}

static void respond_json(cJSON *o, struct buf *out)
{
	char *s = cJSON_PrintUnformatted(o);
	buf_puts(out, s);
	cJSON_free(s);
	cJSON_Delete(o);
}

/* --- DescribeLogGroups --- */

static int describe_log_groups(const struct logs_api_ctx *ctx, const cJSON *req, struct buf *out,
                               struct lk_error *err)
{
	const char *prefix = get_str(req, "logGroupNamePrefix");
	const char *pattern = get_str(req, "logGroupNamePattern");
	if (prefix && pattern)
		return invalid_param(err, "LogGroup name prefix and LogGroup name pattern are "
		                          "mutually exclusive parameters.");
	int64_t limit = get_limit(req, 50, 50, err);
	if (limit < 0)
		return 400;
	const char *tok = get_str(req, "nextToken");
	char *after = NULL;
	if (tok) {
		size_t n;
		unsigned char *d = util_base64_decode(tok, strlen(tok), &n);
		if (!d || n < 2 || memcmp(d, "g:", 2) != 0 || memchr(d, 0, n)) {
			free(d);
			return invalid_param(err, "The specified nextToken is invalid.");
		}
		after = xstrndup((const char *)d + 2, n - 2);
		free(d);
	}
	struct logstore_group_info *gs;
	size_t n = logstore_list_groups(ctx->store, &gs);
	cJSON *resp = cJSON_CreateObject();
	cJSON *arr = cJSON_AddArrayToObject(resp, "logGroups");
	int64_t count = 0;
	const char *last = NULL;
	bool more = false;
	for (size_t i = 0; i < n; i++) {
		if (after && strcmp(gs[i].name, after) <= 0)
			continue;
		if (prefix && strncmp(gs[i].name, prefix, strlen(prefix)) != 0)
			continue;
		if (pattern && !strcasestr(gs[i].name, pattern))
			continue;
		if (count == limit) {
			more = true;
			break;
		}
		cJSON *g = cJSON_CreateObject();
		cJSON_AddStringToObject(g, "logGroupName", gs[i].name);
		cJSON_AddNumberToObject(g, "creationTime", (double)gs[i].creation_time);
		cJSON_AddNumberToObject(g, "metricFilterCount", 0);
		char *arn = group_arn(ctx, gs[i].name, true);
		cJSON_AddStringToObject(g, "arn", arn);
		free(arn);
		arn = group_arn(ctx, gs[i].name, false);
		cJSON_AddStringToObject(g, "logGroupArn", arn);
		free(arn);
		cJSON_AddNumberToObject(g, "storedBytes", (double)gs[i].stored_bytes);
		cJSON_AddStringToObject(g, "logGroupClass", "STANDARD");
		cJSON_AddItemToArray(arr, g);
		last = gs[i].name;
		count++;
	}
	if (more && last) {
		char *raw = xasprintf("g:%s", last);
		char *t = util_base64(raw, strlen(raw));
		cJSON_AddStringToObject(resp, "nextToken", t);
		free(t);
		free(raw);
	}
	free(gs);
	free(after);
	respond_json(resp, out);
	return 200;
}

/* --- DescribeLogStreams --- */

struct stream_order {
	bool by_time, descending;
};

static int cmp_streams(const void *a, const void *b, void *arg)
{
	const struct logstore_stream_info *x = a, *y = b;
	const struct stream_order *o = arg;
	int c;
	if (o->by_time) {
		/* streams without events sort as the oldest */
		int64_t tx = x->stored_events ? x->last_event_timestamp : x->creation_time;
		int64_t ty = y->stored_events ? y->last_event_timestamp : y->creation_time;
		c = tx < ty ? -1 : tx > ty ? 1 : strcmp(x->name, y->name);
	} else {
		c = strcmp(x->name, y->name);
	}
	return o->descending ? -c : c;
}

static int describe_log_streams(const struct logs_api_ctx *ctx, const cJSON *req, struct buf *out,
                                struct lk_error *err)
{
	char *group = request_group(req, err);
	if (!group)
		return 400;
	const char *prefix = get_str(req, "logStreamNamePrefix");
	const char *order = get_str(req, "orderBy");
	bool by_time = false;
	if (order && !strcmp(order, "LastEventTime"))
		by_time = true;
	else if (order && strcmp(order, "LogStreamName") != 0) {
		free(group);
		return invalid_param(
		    err,
		    "1 validation error detected: Value '%.64s' at 'orderBy' failed "
		    "to satisfy constraint: Member must satisfy enum value set: "
		    "[LogStreamName, LastEventTime]",
		    order);
	}
	if (by_time && prefix) {
		free(group);
		return invalid_param(err,
		                     "Cannot order by LastEventTime with a logStreamNamePrefix.");
	}
	int64_t limit = get_limit(req, 50, 50, err);
	if (limit < 0) {
		free(group);
		return 400;
	}
	uint64_t offset = 0;
	const char *tok = get_str(req, "nextToken");
	if (tok && !parse_token(tok, 's', &offset)) {
		free(group);
		return invalid_param(err, "The specified nextToken is invalid.");
	}
	struct logstore_stream_info *ss;
	size_t n = logstore_list_streams(ctx->store, group, &ss);
	if (n == (size_t)-1) {
		free(group);
		return no_group(err);
	}
	/* filter by prefix first, then order, then page by offset in that order */
	size_t w = 0;
	for (size_t i = 0; i < n; i++)
		if (!prefix || !strncmp(ss[i].name, prefix, strlen(prefix)))
			ss[w++] = ss[i];
	n = w;
	struct stream_order order_by = {.by_time = by_time,
	                                .descending = get_bool(req, "descending", false)};
	if (n > 1)
		qsort_r(ss, n, sizeof(*ss), cmp_streams, &order_by);
	cJSON *resp = cJSON_CreateObject();
	cJSON *arr = cJSON_AddArrayToObject(resp, "logStreams");
	char *garn = group_arn(ctx, group, false);
	size_t i;
	for (i = (size_t)(offset < n ? offset : n); i < n && (int64_t)(i - offset) < limit; i++) {
		cJSON *s = cJSON_CreateObject();
		cJSON_AddStringToObject(s, "logStreamName", ss[i].name);
		cJSON_AddNumberToObject(s, "creationTime", (double)ss[i].creation_time);
		if (ss[i].stored_events) {
			cJSON_AddNumberToObject(s, "firstEventTimestamp",
			                        (double)ss[i].first_event_timestamp);
			cJSON_AddNumberToObject(s, "lastEventTimestamp",
			                        (double)ss[i].last_event_timestamp);
			cJSON_AddNumberToObject(s, "lastIngestionTime",
			                        (double)ss[i].last_ingestion_time);
		}
		char *arn = xasprintf("%s:log-stream:%s", garn, ss[i].name);
		cJSON_AddStringToObject(s, "arn", arn);
		free(arn);
		cJSON_AddNumberToObject(s, "storedBytes", 0); /* deprecated by AWS: always 0 */
		cJSON_AddItemToArray(arr, s);
	}
	if (i < n) {
		char *t = make_token('s', i);
		cJSON_AddStringToObject(resp, "nextToken", t);
		free(t);
	}
	free(garn);
	free(ss);
	free(group);
	respond_json(resp, out);
	return 200;
}

/* --- GetLogEvents --- */

struct get_ctx {
	int64_t start, end; /* end exclusive; INT64_MIN/MAX when absent */
	int64_t limit;
	size_t bytes;
	size_t n;
	cJSON *arr; /* built newest-first when backwards */
	uint64_t first_seq, last_seq;
};

static bool get_visit(void *user, const struct log_event *ev)
{
	struct get_ctx *g = user;
	if (ev->timestamp < g->start || ev->timestamp >= g->end)
		return true;
	if ((int64_t)g->n >= g->limit ||
	    (g->n > 0 && g->bytes + ev->message_len + 26 > MAX_RESPONSE_BYTES))
		return false;
	cJSON *e = cJSON_CreateObject();
	cJSON_AddNumberToObject(e, "timestamp", (double)ev->timestamp);
	add_message(e, "message", ev->message, ev->message_len);
	cJSON_AddNumberToObject(e, "ingestionTime", (double)ev->ingestion_time);
	cJSON_AddItemToArray(g->arr, e);
	if (g->n == 0)
		g->first_seq = g->last_seq = ev->seq;
	if (ev->seq < g->first_seq)
		g->first_seq = ev->seq;
	if (ev->seq > g->last_seq)
		g->last_seq = ev->seq;
	g->n++;
	g->bytes += ev->message_len + 26;
	return true;
}

static cJSON *reverse_array(cJSON *arr)
{
	cJSON *r = cJSON_CreateArray();
	int n = cJSON_GetArraySize(arr);
	for (int i = n - 1; i >= 0; i--)
		cJSON_AddItemToArray(r, cJSON_DetachItemFromArray(arr, i));
	cJSON_Delete(arr);
	return r;
}

static int get_log_events(const struct logs_api_ctx *ctx, const cJSON *req, struct buf *out,
                          struct lk_error *err)
{
	char *group = request_group(req, err);
	if (!group)
		return 400;
	int status = 200;
	const char *stream = get_str(req, "logStreamName");
	struct get_ctx g = {.start = INT64_MIN, .end = INT64_MAX};
	if (!stream) {
		status = invalid_param(err, "logStreamName is required.");
		goto done;
	}
	if (get_time_range(req, &g.start, &g.end, err) < 0) {
		status = 400;
		goto done;
	}
	g.limit = get_limit(req, 10000, 10000, err);
	if (g.limit < 0) {
		status = 400;
		goto done;
	}
	if (!logstore_group_exists(ctx->store, group)) {
		status = no_group(err);
		goto done;
	}
	struct logstore_stream_info *ss;
	size_t ns = logstore_list_streams(ctx->store, group, &ss);
	bool found = false;
	for (size_t i = 0; i < ns && ns != (size_t)-1; i++)
		found = found || !strcmp(ss[i].name, stream);
	free(ss);
	if (!found) {
		status = fail(err, 400, "ResourceNotFoundException",
		              "The specified log stream does not exist.");
		goto done;
	}
	const char *tok = get_str(req, "nextToken");
	uint64_t pos = 0;
	bool forward;
	if (tok) {
		if (parse_token(tok, 'f', &pos))
			forward = true;
		else if (parse_token(tok, 'b', &pos))
			forward = false;
		else {
			status = invalid_param(err, "The specified nextToken is invalid.");
			goto done;
		}
	} else {
		forward = get_bool(req, "startFromHead", false);
		pos = forward ? 0 : UINT64_MAX;
	}
	g.arr = cJSON_CreateArray();
	if (forward)
		logstore_scan(ctx->store, group, stream, pos, false, get_visit, &g);
	else {
		logstore_scan(ctx->store, group, stream, pos, true, get_visit, &g);
		g.arr = reverse_array(g.arr);
	}
	cJSON *resp = cJSON_CreateObject();
	cJSON_AddItemToObject(resp, "events", g.arr);
	/* with no events the tokens stay where they were, as on AWS: a reader polling the
	 * forward token gets the same token back until something new arrives */
	uint64_t fwd, back;
	if (g.n) {
		fwd = g.last_seq;
		back = g.first_seq;
	} else if (tok) {
		fwd = back = pos;
	} else if (forward) {
		fwd = back = 0;
	} else {
		fwd = logstore_last_seq(ctx->store);
		back = fwd + 1;
	}
	char *ft = make_token('f', fwd), *bt = make_token('b', back);
	cJSON_AddStringToObject(resp, "nextForwardToken", ft);
	cJSON_AddStringToObject(resp, "nextBackwardToken", bt);
	free(ft);
	free(bt);
	respond_json(resp, out);
done:
	free(group);
	return status;
}

/* --- FilterLogEvents --- */

struct filter_ctx {
	int64_t start, end; /* inclusive */
	int64_t limit;
	const struct filter_pattern *pattern;
	char **names;
	size_t n_names;
	const char *prefix;
	size_t n, bytes;
	uint64_t last_seq; /* last examined */
	bool stopped;      /* limit reached before the end */
	cJSON *arr;
};

static bool stream_selected(char **names, size_t n_names, const char *prefix, const char *s)
{
	if (n_names) {
		for (size_t i = 0; i < n_names; i++)
			if (!strcmp(names[i], s))
				return true;
		return false;
	}
	return !prefix || !strncmp(s, prefix, strlen(prefix));
}

static bool filter_visit(void *user, const struct log_event *ev)
{
	struct filter_ctx *f = user;
	if (ev->timestamp >= f->start && ev->timestamp <= f->end &&
	    stream_selected(f->names, f->n_names, f->prefix, ev->stream) &&
	    filter_match(f->pattern, ev->message, ev->message_len)) {
		if ((int64_t)f->n >= f->limit ||
		    (f->n > 0 && f->bytes + ev->message_len + 26 > MAX_RESPONSE_BYTES)) {
			f->stopped = true;
			return false;
		}
		cJSON *e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "logStreamName", ev->stream);
		cJSON_AddNumberToObject(e, "timestamp", (double)ev->timestamp);
		add_message(e, "message", ev->message, ev->message_len);
		cJSON_AddNumberToObject(e, "ingestionTime", (double)ev->ingestion_time);
		cJSON_AddStringToObject(e, "eventId", ev->event_id);
		cJSON_AddItemToArray(f->arr, e);
		f->n++;
		f->bytes += ev->message_len + 26;
	}
	f->last_seq = ev->seq;
	return true;
}

/* Reads a string array parameter (at most max entries). Returns count or -1. */
static long get_str_array(const cJSON *req, const char *key, size_t max, char ***out,
                          struct lk_error *err)
{
	*out = NULL;
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(req, key);
	if (!a || cJSON_IsNull(a))
		return 0;
	if (!cJSON_IsArray(a)) {
		invalid_param(err, "%s must be a list of strings.", key);
		return -1;
	}
	size_t n = (size_t)cJSON_GetArraySize(a);
	if (n > max) {
		invalid_param(err,
		              "1 validation error detected: Value at '%s' failed to satisfy "
		              "constraint: Member must have length less than or equal to %zu",
		              key, max);
		return -1;
	}
	char **v = xcalloc(n + 1, sizeof(*v));
	size_t i = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, a)
	{
		if (!cJSON_IsString(it) || !*it->valuestring) {
			for (size_t j = 0; j < i; j++)
				free(v[j]);
			free(v);
			invalid_param(err, "%s must be a list of non-empty strings.", key);
			return -1;
		}
		v[i++] = xstrdup(it->valuestring);
	}
	*out = v;
	return (long)n;
}

static void free_strv(char **v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static int filter_log_events(const struct logs_api_ctx *ctx, const cJSON *req, struct buf *out,
                             struct lk_error *err)
{
	char *group = request_group(req, err);
	if (!group)
		return 400;
	int status = 200;
	struct filter_ctx f = {.start = INT64_MIN, .end = INT64_MAX};
	struct filter_pattern *pat = NULL;
	long nn = get_str_array(req, "logStreamNames", 100, &f.names, err);
	if (nn < 0) {
		status = 400;
		goto done;
	}
	f.n_names = (size_t)nn;
	f.prefix = get_str(req, "logStreamNamePrefix");
	if (f.n_names && f.prefix) {
		status = invalid_param(err, "logStreamNames and logStreamNamePrefix are mutually "
		                            "exclusive parameters.");
		goto done;
	}
	if (get_time_range(req, &f.start, &f.end, err) < 0) {
		status = 400;
		goto done;
	}
	f.limit = get_limit(req, 10000, 10000, err);
	if (f.limit < 0) {
		status = 400;
		goto done;
	}
	pat = filter_compile(get_str(req, "filterPattern"), err);
	if (!pat) {
		status = err->status = 400;
		goto done;
	}
	f.pattern = pat;
	uint64_t after = 0;
	const char *tok = get_str(req, "nextToken");
	if (tok && !parse_token(tok, 'n', &after)) {
		status = invalid_param(err, "The specified nextToken is invalid.");
		goto done;
	}
	if (!logstore_group_exists(ctx->store, group)) {
		status = no_group(err);
		goto done;
	}
	f.arr = cJSON_CreateArray();
	logstore_scan(ctx->store, group, NULL, after, false, filter_visit, &f);
	cJSON *resp = cJSON_CreateObject();
	cJSON_AddItemToObject(resp, "events", f.arr);
	cJSON *searched = cJSON_AddArrayToObject(resp, "searchedLogStreams");
	struct logstore_stream_info *ss;
	size_t ns = logstore_list_streams(ctx->store, group, &ss);
	for (size_t i = 0; i < ns && ns != (size_t)-1; i++) {
		if (!stream_selected(f.names, f.n_names, f.prefix, ss[i].name))
			continue;
		cJSON *s = cJSON_CreateObject();
		cJSON_AddStringToObject(s, "logStreamName", ss[i].name);
		cJSON_AddBoolToObject(s, "searchedCompletely", !f.stopped);
		cJSON_AddItemToArray(searched, s);
	}
	free(ss);
	if (f.stopped) {
		char *t = make_token('n', f.last_seq);
		cJSON_AddStringToObject(resp, "nextToken", t);
		free(t);
	}
	respond_json(resp, out);
done:
	filter_free(pat);
	free_strv(f.names, f.n_names);
	free(group);
	return status;
}

/* --- CreateLogGroup / CreateLogStream / PutLogEvents (so any AWS tool can write) --- */

static bool valid_name(const char *s, bool group)
{
	size_t n = strlen(s);
	if (n == 0 || n > 512)
		return false;
	for (const char *p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (group ? !(isalnum(c) || strchr("._-/#", c))
		          : (c == ':' || c == '*' || c < 0x20))
			return false;
	}
	return true;
}

static int create_log_group(const struct logs_api_ctx *ctx, const cJSON *req, struct buf *out,
                            struct lk_error *err)
{
	const char *name = get_str(req, "logGroupName");
	if (!name || !valid_name(name, true))
		return invalid_param(err, "logGroupName must be 1-512 characters of "
		                          "[.-_/#A-Za-z0-9].");
	if (logstore_create_group(ctx->store, name) == 1)
		return fail(err, 400, "ResourceAlreadyExistsException",
		            "The specified log group already exists");
	buf_puts(out, "{}");
	return 200;
}

static int create_log_stream(const struct logs_api_ctx *ctx, const cJSON *req, struct buf *out,
                             struct lk_error *err)
{
	const char *group = get_str(req, "logGroupName");
	const char *stream = get_str(req, "logStreamName");
	if (!group || !stream || !valid_name(stream, false))
		return invalid_param(err, "logGroupName and a valid logStreamName are required.");
	if (!logstore_group_exists(ctx->store, group))
		return no_group(err);
	if (logstore_create_stream(ctx->store, group, stream) == 1)
		return fail(err, 400, "ResourceAlreadyExistsException",
		            "The specified log stream already exists");
	buf_puts(out, "{}");
	return 200;
}

static int put_log_events(const struct logs_api_ctx *ctx, const cJSON *req, struct buf *out,
                          struct lk_error *err)
{
	const char *group = get_str(req, "logGroupName");
	const char *stream = get_str(req, "logStreamName");
	const cJSON *events = cJSON_GetObjectItemCaseSensitive(req, "logEvents");
	if (!group || !stream || !cJSON_IsArray(events))
		return invalid_param(err,
		                     "logGroupName, logStreamName and logEvents are required.");
	int n = cJSON_GetArraySize(events);
	if (n < 1 || n > 10000)
		return invalid_param(err, "logEvents must hold 1 to 10000 events.");
	if (!logstore_group_exists(ctx->store, group))
		return no_group(err);
	struct logstore_stream_info *ss;
	size_t ns = logstore_list_streams(ctx->store, group, &ss);
	bool found = false;
	for (size_t i = 0; i < ns && ns != (size_t)-1; i++)
		found = found || !strcmp(ss[i].name, stream);
	free(ss);
	if (!found)
		return fail(err, 400, "ResourceNotFoundException",
		            "The specified log stream does not exist.");
	const cJSON *e;
	cJSON_ArrayForEach(e, events)
	{
		int64_t ts;
		const char *msg = get_str(e, "message");
		if (get_int(e, "timestamp", &ts) != 1 || !msg)
			return invalid_param(err,
			                     "every log event needs a timestamp and a message.");
	}
	cJSON_ArrayForEach(e, events)
	{
		int64_t ts = 0;
		get_int(e, "timestamp", &ts);
		const char *msg = get_str(e, "message");
		logstore_append(ctx->store, group, stream, ts, msg, strlen(msg));
	}
	char *t = make_token('p', logstore_last_seq(ctx->store));
	buf_printf(out, "{\"nextSequenceToken\":\"%s\"}", t + 2);
	free(t);
	return 200;
}

/* Parameters of a wrong JSON type are a SerializationException, as on AWS. */
static int check_types(const cJSON *req, struct lk_error *err)
{
	static const char *const strings[] = {"logGroupName",
	                                      "logGroupIdentifier",
	                                      "logStreamName",
	                                      "logStreamNamePrefix",
	                                      "orderBy",
	                                      "nextToken",
	                                      "filterPattern",
	                                      "logGroupNamePrefix",
	                                      "logGroupNamePattern",
	                                      "logEventFilterPattern"};
	static const char *const numbers[] = {"limit", "startTime", "endTime"};
	static const char *const bools[] = {"descending", "startFromHead", "interleaved"};
	const cJSON *v;
	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
		if ((v = cJSON_GetObjectItemCaseSensitive(req, strings[i])) && !cJSON_IsNull(v) &&
		    !cJSON_IsString(v))
			return fail(err, 400, "SerializationException", "%s must be a string",
			            strings[i]);
	for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++)
		if ((v = cJSON_GetObjectItemCaseSensitive(req, numbers[i])) && !cJSON_IsNull(v) &&
		    !cJSON_IsNumber(v))
			return fail(err, 400, "SerializationException", "%s must be a number",
			            numbers[i]);
	for (size_t i = 0; i < sizeof(bools) / sizeof(bools[0]); i++)
		if ((v = cJSON_GetObjectItemCaseSensitive(req, bools[i])) && !cJSON_IsNull(v) &&
		    !cJSON_IsBool(v))
			return fail(err, 400, "SerializationException", "%s must be a boolean",
			            bools[i]);
	return 0;
}

int logs_api_call(const struct logs_api_ctx *ctx, const char *operation, const char *body,
                  size_t len, struct buf *out, struct lk_error *err)
{
	static const struct {
		const char *name;
		int (*fn)(const struct logs_api_ctx *, const cJSON *, struct buf *,
		          struct lk_error *);
	} ops[] = {
	    {"DescribeLogGroups", describe_log_groups},
	    {"DescribeLogStreams", describe_log_streams},
	    {"GetLogEvents", get_log_events},
	    {"FilterLogEvents", filter_log_events},
	    {"CreateLogGroup", create_log_group},
	    {"CreateLogStream", create_log_stream},
	    {"PutLogEvents", put_log_events},
	};
	lk_error_clear(err);
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		if (strcmp(ops[i].name, operation) != 0)
			continue;
		cJSON *req = cJSON_ParseWithLength(body ? body : "{}", body ? len : 2);
		if (!cJSON_IsObject(req)) {
			cJSON_Delete(req);
			return fail(err, 400, "SerializationException",
			            "The request body is not a JSON object.");
		}
		int status = check_types(req, err);
		if (status == 0)
			status = ops[i].fn(ctx, req, out, err);
		cJSON_Delete(req);
		if (status != 200 && err && !err->status)
			err->status = status;
		return status;
	}
	return fail(err, 400, "UnknownOperationException", "Operation %s is not supported.",
	            operation);
}

/* --- StartLiveTail --- */

struct logs_tail_session {
	struct logstore *store;
	uv_loop_t *loop;
	char **groups; /* resolved names */
	char **ids;    /* as given: echoed as logGroupIdentifier */
	size_t n_groups;
	char **stream_names;
	size_t n_stream_names;
	char **prefixes;
	size_t n_prefixes;
	struct filter_pattern *filter;
	char *pattern_text;
	char session_id[40], request_id[40];
	int subscription;
	bool running, stopped;
	uv_timer_t flush, tick;
	int open_handles;
	cJSON *pending;
	size_t n_pending;
	bool sampled;
	int64_t started_ms, last_sent_ms;
	void (*write)(void *user, const void *data, size_t len);
	void (*end)(void *user);
	void *user;
};

static void uuid4(char out[40])
{
	unsigned char b[16];
	if (RAND_bytes(b, sizeof(b)) != 1) {
		uint64_t t = util_monotonic_ns();
		for (int i = 0; i < 16; i++)
			b[i] = (unsigned char)(t >> ((i % 8) * 8)) ^ (unsigned char)i;
	}
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	snprintf(out, 40, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
	         b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
	         b[13], b[14], b[15]);
}

static void session_free(struct logs_tail_session *s)
{
	free_strv(s->groups, s->n_groups);
	free_strv(s->ids, s->n_groups);
	free_strv(s->stream_names, s->n_stream_names);
	free_strv(s->prefixes, s->n_prefixes);
	filter_free(s->filter);
	free(s->pattern_text);
	cJSON_Delete(s->pending);
	free(s);
}

struct logs_tail_session *logs_tail_new(const struct logs_api_ctx *ctx, const char *body,
                                        size_t len, struct lk_error *err)
{
	lk_error_clear(err);
	cJSON *req = cJSON_ParseWithLength(body ? body : "{}", body ? len : 2);
	if (!cJSON_IsObject(req) || check_types(req, err) != 0) {
		if (!lk_error_is_set(err))
			fail(err, 400, "SerializationException",
			     "The request body is not a JSON object.");
		cJSON_Delete(req);
		return NULL;
	}
	struct logs_tail_session *s = xcalloc(1, sizeof(*s));
	s->store = ctx->store;
	s->loop = ctx->loop;
	long n = get_str_array(req, "logGroupIdentifiers", 10, &s->ids, err);
	if (n < 0)
		goto bad;
	s->n_groups = (size_t)n;
	if (n == 0) {
		invalid_param(err, "logGroupIdentifiers must name 1 to 10 log groups.");
		goto bad;
	}
	s->groups = xcalloc(s->n_groups, sizeof(*s->groups));
	for (size_t i = 0; i < s->n_groups; i++) {
		s->groups[i] = logs_api_group_name(s->ids[i]);
		if (!logstore_group_exists(ctx->store, s->groups[i])) {
			fail(err, 400, "ResourceNotFoundException",
			     "The specified log group does not exist: %.200s", s->ids[i]);
			goto bad;
		}
	}
	n = get_str_array(req, "logStreamNames", 100, &s->stream_names, err);
	if (n < 0)
		goto bad;
	s->n_stream_names = (size_t)n;
	n = get_str_array(req, "logStreamNamePrefixes", 100, &s->prefixes, err);
	if (n < 0)
		goto bad;
	s->n_prefixes = (size_t)n;
	if (s->n_stream_names && s->n_prefixes) {
		invalid_param(err, "logStreamNames and logStreamNamePrefixes are mutually "
		                   "exclusive parameters.");
		goto bad;
	}
	if ((s->n_stream_names || s->n_prefixes) && s->n_groups != 1) {
		invalid_param(err, "logStreamNames and logStreamNamePrefixes need exactly one log "
		                   "group in logGroupIdentifiers.");
		goto bad;
	}
	const char *pat = get_str(req, "logEventFilterPattern");
	s->filter = filter_compile(pat, err);
	if (!s->filter) {
		err->status = 400;
		goto bad;
	}
	s->pattern_text = xstrdup(pat ? pat : "");
	cJSON_Delete(req);
	uuid4(s->session_id);
	uuid4(s->request_id);
	s->pending = cJSON_CreateArray();
	return s;
bad:
	if (err && !err->status)
		err->status = 400;
	cJSON_Delete(req);
	session_free(s);
	return NULL;
}

static void send_event(struct logs_tail_session *s, const char *type, cJSON *payload)
{
	char *json = cJSON_PrintUnformatted(payload);
	cJSON_Delete(payload);
	struct buf frame = {0};
	struct lk_error err;
	if (eventstream_encode_json_event(&frame, "event", type, json, strlen(json), &err) == 0)
		s->write(s->user, frame.data, frame.len);
	buf_free(&frame);
	cJSON_free(json);
	s->last_sent_ms = util_now_ms();
}

/* Sends the pending events as sessionUpdate messages of at most 500 events each. */
static void flush_pending(struct logs_tail_session *s)
{
	while (s->n_pending > 0) {
		cJSON *batch = cJSON_CreateArray();
		for (int i = 0; i < LOGS_TAIL_MAX_PER_UPDATE && s->n_pending > 0; i++) {
			cJSON_AddItemToArray(batch, cJSON_DetachItemFromArray(s->pending, 0));
			s->n_pending--;
		}
		cJSON *u = cJSON_CreateObject();
		cJSON *meta = cJSON_AddObjectToObject(u, "sessionMetadata");
		cJSON_AddBoolToObject(meta, "sampled", s->sampled);
		cJSON_AddItemToObject(u, "sessionResults", batch);
		send_event(s, "sessionUpdate", u);
	}
	s->sampled = false;
}

static void on_flush(uv_timer_t *t)
{
	struct logs_tail_session *s = t->data;
	if (!s->stopped)
		flush_pending(s);
}

static void on_tick(uv_timer_t *t)
{
	struct logs_tail_session *s = t->data;
	if (s->stopped)
		return;
	int64_t now = util_now_ms();
	if (now - s->started_ms >= LOGS_TAIL_MAX_SESSION_MS) {
		flush_pending(s);
		const char *msg = "{\"message\":\"Session timed out after 3 hours.\"}";
		struct buf frame = {0};
		struct lk_error err;
		if (eventstream_encode_json_event(&frame, "exception", "SessionTimeoutException",
		                                  msg, strlen(msg), &err) == 0)
			s->write(s->user, frame.data, frame.len);
		buf_free(&frame);
		s->running = false;
		if (s->end)
			s->end(s->user); /* the caller then calls logs_tail_stop */
		return;
	}
	if (now - s->last_sent_ms >= LOGS_TAIL_HEARTBEAT_MS && s->n_pending == 0) {
		cJSON *u = cJSON_CreateObject();
		cJSON *meta = cJSON_AddObjectToObject(u, "sessionMetadata");
		cJSON_AddBoolToObject(meta, "sampled", false);
		cJSON_AddArrayToObject(u, "sessionResults");
		send_event(s, "sessionUpdate", u);
	}
}

static void on_log_event(void *user, const struct log_event *ev)
{
	struct logs_tail_session *s = user;
	if (s->stopped)
		return;
	size_t gi;
	for (gi = 0; gi < s->n_groups; gi++)
		if (!strcmp(s->groups[gi], ev->group))
			break;
	if (gi == s->n_groups)
		return;
	if (s->n_stream_names &&
	    !stream_selected(s->stream_names, s->n_stream_names, NULL, ev->stream))
		return;
	if (s->n_prefixes) {
		bool ok = false;
		for (size_t i = 0; i < s->n_prefixes && !ok; i++)
			ok = !strncmp(ev->stream, s->prefixes[i], strlen(s->prefixes[i]));
		if (!ok)
			return;
	}
	if (!filter_match(s->filter, ev->message, ev->message_len))
		return;
	if (s->n_pending >= LOGS_TAIL_MAX_PENDING) {
		s->sampled = true; /* a flood faster than the client reads: drop, say so */
		return;
	}
	cJSON *e = cJSON_CreateObject();
	cJSON_AddStringToObject(e, "logStreamName", ev->stream);
	cJSON_AddStringToObject(e, "logGroupIdentifier", s->ids[gi]);
	add_message(e, "message", ev->message, ev->message_len);
	cJSON_AddNumberToObject(e, "timestamp", (double)ev->timestamp);
	cJSON_AddNumberToObject(e, "ingestionTime", (double)ev->ingestion_time);
	cJSON_AddItemToArray(s->pending, e);
	s->n_pending++;
	if (!uv_is_active((uv_handle_t *)&s->flush))
		uv_timer_start(&s->flush, on_flush, LOGS_TAIL_FLUSH_MS, 0);
}

void logs_tail_run(struct logs_tail_session *s,
                   void (*write)(void *user, const void *data, size_t len), void (*end)(void *user),
                   void *user)
{
	s->write = write;
	s->end = end;
	s->user = user;
	s->running = true;
	s->started_ms = util_now_ms();
	uv_timer_init(s->loop, &s->flush);
	uv_timer_init(s->loop, &s->tick);
	s->flush.data = s->tick.data = s;
	s->open_handles = 2;
	uv_timer_start(&s->tick, on_tick, LOGS_TAIL_HEARTBEAT_MS / 4, LOGS_TAIL_HEARTBEAT_MS / 4);

	send_event(s, "initial-response", cJSON_CreateObject());
	cJSON *start = cJSON_CreateObject();
	cJSON_AddStringToObject(start, "requestId", s->request_id);
	cJSON_AddStringToObject(start, "sessionId", s->session_id);
	cJSON *ids = cJSON_AddArrayToObject(start, "logGroupIdentifiers");
	for (size_t i = 0; i < s->n_groups; i++)
		cJSON_AddItemToArray(ids, cJSON_CreateString(s->ids[i]));
	cJSON *names = cJSON_AddArrayToObject(start, "logStreamNames");
	for (size_t i = 0; i < s->n_stream_names; i++)
		cJSON_AddItemToArray(names, cJSON_CreateString(s->stream_names[i]));
	cJSON *pre = cJSON_AddArrayToObject(start, "logStreamNamePrefixes");
	for (size_t i = 0; i < s->n_prefixes; i++)
		cJSON_AddItemToArray(pre, cJSON_CreateString(s->prefixes[i]));
	cJSON_AddStringToObject(start, "logEventFilterPattern", s->pattern_text);
	send_event(s, "sessionStart", start);
	s->subscription = logstore_subscribe(s->store, on_log_event, s);
}

static void on_timer_closed(uv_handle_t *h)
{
	struct logs_tail_session *s = h->data;
	if (--s->open_handles == 0)
		session_free(s);
}

void logs_tail_stop(struct logs_tail_session *s)
{
	if (!s || s->stopped)
		return;
	s->stopped = true;
	if (s->open_handles == 0) { /* never ran */
		session_free(s);
		return;
	}
	logstore_unsubscribe(s->store, s->subscription);
	uv_timer_stop(&s->flush);
	uv_timer_stop(&s->tick);
	uv_close((uv_handle_t *)&s->flush, on_timer_closed);
	uv_close((uv_handle_t *)&s->tick, on_timer_closed);
}

/* --- the HTTP glue (emu_http.h) --- */

struct tail_conn {
	struct emu_stream *stream;
	struct logs_tail_session *session;
};

static void conn_write(void *user, const void *data, size_t len)
{
	struct tail_conn *c = user;
	emu_stream_write(c->stream, data, len);
}

static void conn_end(void *user)
{
	struct tail_conn *c = user;
	emu_stream_end(c->stream); /* on_close follows and stops the session */
}

static void conn_closed(void *user)
{
	struct tail_conn *c = user;
	logs_tail_stop(c->session);
	free(c);
}

void logs_api_handle(struct emulator *emu, struct emu_request *req, const char *operation)
{
	struct logs_api_ctx ctx = {.store = emu->logs,
	                           .loop = emu->loop,
	                           .region = emu->opt.region ? emu->opt.region : "us-east-1",
	                           .account = EMU_ACCOUNT_ID};
	size_t len = 0;
	const char *body = emu_request_body(req, &len);
	struct lk_error err;
	lk_error_clear(&err);
	if (!strcmp(operation, "StartLiveTail")) {
		struct logs_tail_session *s = logs_tail_new(&ctx, body, len, &err);
		if (!s) {
			emu_respond_error(req, err.status ? err.status : 400, err.code, "%s",
			                  err.message);
			return;
		}
		struct tail_conn *c = xcalloc(1, sizeof(*c));
		c->session = s;
		c->stream = emu_stream_begin(req, 200, "application/vnd.amazon.eventstream",
		                             conn_closed, c);
		logs_tail_run(s, conn_write, conn_end, c);
		return;
	}
	struct buf out = {0};
	int status = logs_api_call(&ctx, operation, body, len, &out, &err);
	if (status == 200)
		emu_respond(req, 200, "application/x-amz-json-1.1", NULL, out.data, out.len);
	else
		emu_respond_error(req, status, err.code, "%s", err.message);
	buf_free(&out);
}
