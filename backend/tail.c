/* tail.c - live log tail: StartLiveTail sessions with FilterLogEvents polling fallback (see
 * tail.h). */
#include "backend/tail.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_GROUPS_PER_SESSION 10
#define DEFAULT_RENEW_MS       (3LL * 3600 * 1000 - 5 * 60 * 1000)
#define POLL_OVERLAP_MS        2000 /* re-read this much before the newest seen event */
#define MAX_BACKOFF_MS         30000
#define DEDUPE_SET             8192 /* keys per generation (two generations kept) */
#define MAX_REBUILD_FAILURES   5
/* an old session is cancelled this long after its replacement started, so a batch it
 * still holds (AWS sends about every second) is not lost */
#define RETIRE_GRACE_MS 2500

enum src_mode { SRC_UNKNOWN, SRC_LIVE, SRC_POLL };

struct src {
	char *group, *label;
	enum src_mode mode;
	bool exists;
	int64_t newest; /* newest event timestamp seen, or the start time */
	struct aws_op *poll_op;
	bool catchup; /* poll once more when poll_op is done (a live session started meanwhile) */
	struct tail *t;
	size_t index;
};

struct session {
	struct tail *t;
	struct aws_op *op;
	unsigned gen;
	size_t *members;
	size_t n;
	bool started;
	struct session *next;
};

struct dedupe {
	uint64_t *cur, *old; /* open addressing, 2*DEDUPE_SET slots, 0 = empty */
	size_t n_cur;
};

struct held {
	size_t src;
	char *stream;
	int64_t ts, ingestion;
	char *msg;
	size_t len;
};

struct hist {
	size_t src;
	char *stream, *event_id;
	int64_t ts, ingestion;
	char *msg;
	size_t len;
};

struct hist_ctx {
	struct tail *t;
	size_t src;
};

struct tail {
	struct aws_client *c;
	uv_loop_t *loop;
	struct src *src;
	size_t n;
	char *pattern;
	int64_t since, started_ms;
	bool follow, no_live;
	int poll_ms;
	int64_t renew_ms;
	struct tail_callbacks cb;
	void *user;

	struct session *sessions;
	unsigned gen;
	size_t new_gen_pending; /* sessions of the current generation not yet started */
	bool live_broken;
	int rebuild_failures;
	/* "arn:aws:logs:REGION:ACCOUNT:log-group:" learnt from DescribeLogGroups: AWS wants
	 * StartLiveTail's groups as ARNs */
	char *arn_prefix;
	bool following;
	char live_reason[200];

	uv_timer_t poll_timer, renew_timer, rebuild_timer, retire_timer;
	int open_handles;
	bool stopped;
	int64_t backoff_ms, first_backoff_ms, next_poll_ms;

	struct aws_op *probe_op;
	struct aws_op **hist_ops;
	struct hist_ctx *hctx;
	size_t hist_left;
	struct lk_error hist_err;
	bool history_pending;
	struct hist *hist;
	size_t n_hist, cap_hist;
	struct held *held;
	size_t n_held, cap_held;

	struct dedupe dd;
	char status[320];
};

/* --- dedupe: two generations of hash sets --- */

static uint64_t fnv(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;
	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return h;
}

static uint64_t content_key(const char *group, const char *stream, int64_t ts, int64_t ingestion,
                            const char *msg, size_t len)
{
	uint64_t h = 1469598103934665603ULL;
	h = fnv(h, group, strlen(group) + 1);
	h = fnv(h, stream, strlen(stream) + 1);
	h = fnv(h, &ts, sizeof(ts));
	h = fnv(h, &ingestion, sizeof(ingestion));
	h = fnv(h, msg, len);
	return h ? h : 1;
}

static bool set_has(const uint64_t *set, uint64_t k)
{
	if (!set)
		return false;
	size_t mask = 2 * DEDUPE_SET - 1;
	for (size_t i = k & mask;; i = (i + 1) & mask) {
		if (set[i] == 0)
			return false;
		if (set[i] == k)
			return true;
	}
}

/* Returns true when k was seen; otherwise remembers it. */
static bool dedupe_seen(struct dedupe *d, uint64_t k)
{
	if (set_has(d->cur, k) || set_has(d->old, k))
		return true;
	if (!d->cur)
		d->cur = xcalloc(2 * DEDUPE_SET, sizeof(uint64_t));
	if (d->n_cur >= DEDUPE_SET) {
		free(d->old);
		d->old = d->cur;
		d->cur = xcalloc(2 * DEDUPE_SET, sizeof(uint64_t));
		d->n_cur = 0;
	}
	size_t mask = 2 * DEDUPE_SET - 1;
	size_t i = k & mask;
	while (d->cur[i])
		i = (i + 1) & mask;
	d->cur[i] = k;
	d->n_cur++;
	return false;
}

/* --- status --- */

size_t tail_live_count(const struct tail *t)
{
	size_t n = 0;
	for (size_t i = 0; t && i < t->n; i++)
		n += t->src[i].mode == SRC_LIVE;
	return n;
}

size_t tail_poll_count(const struct tail *t)
{
	size_t n = 0;
	for (size_t i = 0; t && i < t->n; i++)
		n += t->src[i].mode == SRC_POLL;
	return n;
}

const char *tail_status(const struct tail *t)
{
	return t ? t->status : "";
}

static void update_status(struct tail *t)
{
	char s[sizeof(t->status)];
	size_t live = tail_live_count(t), poll = tail_poll_count(t), missing = 0;
	for (size_t i = 0; i < t->n; i++)
		missing += t->src[i].mode == SRC_POLL && !t->src[i].exists;
	int pi = t->poll_ms >= 1000 ? t->poll_ms / 1000 : 0;
	if (!t->follow)
		snprintf(s, sizeof(s), "history");
	else if (live == 0 && poll == 0)
		snprintf(s, sizeof(s), "connecting");
	else if (poll == 0)
		snprintf(s, sizeof(s), "live tail (%zu group%s)", live, live == 1 ? "" : "s");
	else if (live == 0 && t->live_broken)
		snprintf(s, sizeof(s), "polling every %d s (%s)", pi ? pi : 1, t->live_reason);
	else if (live == 0)
		snprintf(s, sizeof(s), "polling every %d s (%zu not created yet)", pi ? pi : 1,
		         missing);
	else
		snprintf(s, sizeof(s), "live tail (%zu group%s) + polling %zu (%s)", live,
		         live == 1 ? "" : "s", poll,
		         t->live_broken ? t->live_reason : "not created yet");
	if (strcmp(s, t->status) != 0) {
		memcpy(t->status, s, sizeof(s));
		if (t->cb.on_status)
			t->cb.on_status(t->user, t->status);
	}
}

/* --- emitting --- */

static void deliver(struct tail *t, size_t si, const char *stream, const char *event_id, int64_t ts,
                    int64_t ingestion, const char *msg, size_t len)
{
	struct src *s = &t->src[si];
	if (ts > s->newest)
		s->newest = ts;
	if (t->cb.on_event) {
		struct tail_event ev = {.source = si,
		                        .label = s->label,
		                        .group = s->group,
		                        .stream = stream,
		                        .event_id = event_id,
		                        .timestamp = ts,
		                        .ingestion_time = ingestion,
		                        .message = msg,
		                        .message_len = len};
		t->cb.on_event(t->user, &ev);
	}
}

/* An event from any path: deduplicated (content, and eventId when known), held while the
 * history is still loading. */
static void emit(struct tail *t, size_t si, const char *stream, const char *event_id, int64_t ts,
                 int64_t ingestion, const char *msg, size_t len, bool from_history)
{
	if (!stream)
		stream = "";
	if (t->history_pending && !from_history) {
		if (t->n_held == t->cap_held) {
			t->cap_held = t->cap_held ? 2 * t->cap_held : 64;
			t->held = xrealloc(t->held, t->cap_held * sizeof(*t->held));
		}
		t->held[t->n_held++] = (struct held){.src = si,
		                                     .stream = xstrdup(stream),
		                                     .ts = ts,
		                                     .ingestion = ingestion,
		                                     .msg = xstrndup(msg, len),
		                                     .len = len};
		return;
	}
	uint64_t k = content_key(t->src[si].group, stream, ts, ingestion, msg, len);
	bool seen = dedupe_seen(&t->dd, k);
	if (event_id) {
		uint64_t ek = fnv(1469598103934665603ULL, event_id, strlen(event_id)) | 1;
		seen = dedupe_seen(&t->dd, ek) || seen;
	}
	if (!seen)
		deliver(t, si, stream, event_id, ts, ingestion, msg, len);
}

/* --- polling --- */

static void schedule_rebuild(struct tail *t, uint64_t delay_ms);
static void on_probe_done(void *user, struct aws_result *r);
static void poll_source(struct tail *t, struct src *s);

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int64_t jint(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsNumber(v) ? util_double_to_int64(v->valuedouble) : 0;
}

static void on_poll_done(void *user, struct aws_result *r)
{
	struct src *s = user;
	struct tail *t = s->t;
	s->poll_op = NULL;
	bool again = s->catchup;
	s->catchup = false;
	if (!aws_result_ok(r)) {
		if (!strcmp(r->err.code, "ResourceNotFoundException")) {
			s->exists = false; /* not created yet: keep polling */
		} else if (strstr(r->err.code, "Throttl") || r->status == 429) {
			t->backoff_ms = t->backoff_ms ? t->backoff_ms * 2 : t->first_backoff_ms;
			if (t->backoff_ms > MAX_BACKOFF_MS)
				t->backoff_ms = MAX_BACKOFF_MS;
			t->next_poll_ms = util_now_ms() + t->backoff_ms;
		}
		aws_result_free(r);
		return;
	}
	t->backoff_ms = 0;
	bool appeared = !s->exists;
	s->exists = true;
	const cJSON *evs = cJSON_GetObjectItemCaseSensitive(r->json, "events");
	const cJSON *e;
	cJSON_ArrayForEach(e, evs)
	{
		const char *msg = jstr(e, "message");
		if (!msg)
			continue;
		emit(t, s->index, jstr(e, "logStreamName"), jstr(e, "eventId"),
		     jint(e, "timestamp"), jint(e, "ingestionTime"), msg, strlen(msg), false);
		if (t->stopped)
			break;
	}
	aws_result_free(r);
	if (t->stopped)
		return;
	if (again)
		poll_source(t, s);
	if (appeared && s->mode == SRC_POLL && !t->live_broken && !t->no_live) {
		/* the group exists now: serve it live (learning the ARN format first if no group
		 * existed when the tail started) */
		if (t->arn_prefix || t->probe_op)
			schedule_rebuild(t, 0);
		else
			t->probe_op = aws_logs_describe_log_groups(
			    t->c, &(struct aws_logs_groups_query){.prefix = s->group, .limit = 1},
			    on_probe_done, t);
	}
	update_status(t);
}

static void poll_source(struct tail *t, struct src *s)
{
	if (s->poll_op)
		return;
	struct aws_logs_filter_query q = {.group = s->group,
	                                  .start_ms = s->newest - POLL_OVERLAP_MS,
	                                  .pattern = t->pattern,
	                                  .all_pages = true};
	if (q.start_ms <= 0)
		q.start_ms = 1;
	s->poll_op = aws_logs_filter_log_events(t->c, &q, on_poll_done, s);
}

static void on_poll_timer(uv_timer_t *h)
{
	struct tail *t = h->data;
	if (t->stopped || t->history_pending || util_now_ms() < t->next_poll_ms)
		return;
	for (size_t i = 0; i < t->n; i++)
		if (t->src[i].mode == SRC_POLL)
			poll_source(t, &t->src[i]);
}

/* --- live sessions --- */

static void session_unlink_free(struct tail *t, struct session *se)
{
	for (struct session **p = &t->sessions; *p; p = &(*p)->next) {
		if (*p == se) {
			*p = se->next;
			break;
		}
	}
	free(se->members);
	free(se);
}

static void cancel_old_generations(struct tail *t)
{
	struct session *se = t->sessions, *next;
	for (; se; se = next) {
		next = se->next;
		if (se->gen != t->gen) {
			aws_op_cancel(se->op);
			session_unlink_free(t, se);
		}
	}
}

static void on_retire_timer(uv_timer_t *h)
{
	cancel_old_generations(h->data);
}

/* All sessions of the current generation run: retire the older ones after a grace time. */
static void retire_old_generations(struct tail *t)
{
	if (!t->stopped)
		uv_timer_start(&t->retire_timer, on_retire_timer, RETIRE_GRACE_MS, 0);
}

static void on_live_event(void *user, const char *message_type, const char *event_type,
                          const cJSON *payload)
{
	struct session *se = user;
	struct tail *t = se->t;
	if (strcmp(message_type, "event") != 0)
		return; /* exceptions end the stream: handled in on_live_done */
	if (!strcmp(event_type, "sessionStart")) {
		se->started = true;
		t->rebuild_failures = 0;
		for (size_t i = 0; i < se->n; i++) {
			struct src *s = &t->src[se->members[i]];
			bool was_polling = s->mode == SRC_POLL;
			s->mode = SRC_LIVE;
			s->exists = true;
			if (was_polling) {
				/* catch up on what arrived before the session started; a poll in
				 * flight may have been read before that, so poll once more after it
				 */
				if (s->poll_op)
					s->catchup = true;
				else
					poll_source(t, s);
			}
		}
		if (se->gen == t->gen && t->new_gen_pending > 0 && --t->new_gen_pending == 0)
			retire_old_generations(t);
		update_status(t);
		return;
	}
	/* an older session keeps delivering until its replacement has started; the overlap
	 * is removed by the dedupe */
	if (strcmp(event_type, "sessionUpdate") != 0)
		return;
	const cJSON *res = cJSON_GetObjectItemCaseSensitive(payload, "sessionResults");
	const cJSON *e;
	cJSON_ArrayForEach(e, res)
	{
		const char *id = jstr(e, "logGroupIdentifier");
		const char *msg = jstr(e, "message");
		if (!id || !msg)
			continue;
		size_t si = t->n;
		for (size_t i = 0; i < se->n; i++) {
			const char *g = t->src[se->members[i]].group;
			size_t gl = strlen(g), il = strlen(id);
			/* the identifier is the name or an ARN ending in ":log-group:<name>[:*]" */
			if (!strcmp(id, g) ||
			    (il > gl && !strncmp(id + il - gl, g, gl) && id[il - gl - 1] == ':') ||
			    (il > gl + 2 && !strcmp(id + il - 2, ":*") &&
			     !strncmp(id + il - gl - 2, g, gl))) {
				si = se->members[i];
				break;
			}
		}
		if (si == t->n)
			continue;
		emit(t, si, jstr(e, "logStreamName"), NULL, jint(e, "timestamp"),
		     jint(e, "ingestionTime"), msg, strlen(msg), false);
		if (t->stopped)
			return;
	}
}

static void on_live_done(void *user, struct aws_result *r)
{
	struct session *se = user;
	struct tail *t = se->t;
	bool current = se->gen == t->gen;
	if (!se->started) {
		if (current && t->new_gen_pending > 0)
			t->new_gen_pending--;
		bool not_found = !strcmp(r->err.code, "ResourceNotFoundException");
		for (size_t i = 0; i < se->n; i++) {
			struct src *s = &t->src[se->members[i]];
			if (s->mode == SRC_LIVE && !current)
				continue; /* still served by the live generation */
			s->mode = SRC_POLL;
			if (not_found)
				s->exists = false; /* polling tells which ones exist */
		}
		if (!not_found || ++t->rebuild_failures >= MAX_REBUILD_FAILURES) {
			t->live_broken = true;
			snprintf(t->live_reason, sizeof(t->live_reason),
			         "live tail unavailable: %.60s%s%.100s",
			         r->err.code[0] ? r->err.code : "stream closed",
			         r->err.message[0] ? ": " : "", r->err.message);
		}
		if (current && t->new_gen_pending == 0)
			retire_old_generations(t);
	} else if (current) {
		/* a running session ended (3-hour limit, server closed, network): poll what it
		 * served until a new session is up */
		for (size_t i = 0; i < se->n; i++)
			t->src[se->members[i]].mode = SRC_POLL;
		schedule_rebuild(t, 1000);
	}
	aws_result_free(r);
	session_unlink_free(t, se);
	update_status(t);
}

/* Starts a new generation of sessions for every existing group (when live works); the
 * previous generation is cancelled once all of the new one have started. */
static void rebuild(struct tail *t)
{
	if (t->stopped || t->no_live || t->live_broken || !t->follow)
		return;
	size_t *ids = xcalloc(t->n ? t->n : 1, sizeof(*ids));
	size_t k = 0;
	for (size_t i = 0; i < t->n; i++)
		if (t->src[i].exists)
			ids[k++] = i;
	if (k == 0) {
		free(ids);
		return;
	}
	t->gen++;
	t->new_gen_pending = 0;
	for (size_t off = 0; off < k; off += MAX_GROUPS_PER_SESSION) {
		size_t m = k - off < MAX_GROUPS_PER_SESSION ? k - off : MAX_GROUPS_PER_SESSION;
		struct session *se = xcalloc(1, sizeof(*se));
		se->t = t;
		se->gen = t->gen;
		se->n = m;
		se->members = xcalloc(m, sizeof(size_t));
		const char **groups = xcalloc(m + 1, sizeof(char *));
		for (size_t j = 0; j < m; j++) {
			se->members[j] = ids[off + j];
			const char *g = t->src[ids[off + j]].group;
			groups[j] =
			    t->arn_prefix ? xasprintf("%s%s", t->arn_prefix, g) : xstrdup(g);
		}
		se->next = t->sessions;
		t->sessions = se;
		t->new_gen_pending++;
		struct aws_live_tail p = {.log_group_identifiers = groups, .pattern = t->pattern};
		se->op = aws_logs_start_live_tail(t->c, &p, on_live_event, on_live_done, se);
		for (size_t j = 0; j < m; j++)
			free((char *)groups[j]);
		free(groups);
	}
	free(ids);
}

static void on_rebuild_timer(uv_timer_t *h)
{
	rebuild(h->data);
}

static void on_renew_timer(uv_timer_t *h)
{
	struct tail *t = h->data;
	rebuild(t);
	uv_timer_start(&t->renew_timer, on_renew_timer, (uint64_t)t->renew_ms, 0);
}

static void schedule_rebuild(struct tail *t, uint64_t delay_ms)
{
	if (!t->stopped)
		uv_timer_start(&t->rebuild_timer, on_rebuild_timer, delay_ms, 0);
}

/* --- history and start --- */

static int cmp_hist(const void *a, const void *b)
{
	const struct hist *x = a, *y = b;
	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	if (x->ingestion != y->ingestion)
		return x->ingestion < y->ingestion ? -1 : 1;
	return x < y ? -1 : 1;
}

static void start_following(struct tail *t);

static void history_finished(struct tail *t)
{
	if (t->n_hist > 1)
		qsort(t->hist, t->n_hist, sizeof(*t->hist), cmp_hist);
	t->history_pending = false;
	for (size_t i = 0; i < t->n_hist && !t->stopped; i++) {
		struct hist *h = &t->hist[i];
		emit(t, h->src, h->stream, h->event_id, h->ts, h->ingestion, h->msg, h->len, true);
	}
	for (size_t i = 0; i < t->n_held && !t->stopped; i++) {
		struct held *h = &t->held[i];
		emit(t, h->src, h->stream, NULL, h->ts, h->ingestion, h->msg, h->len, false);
	}
	for (size_t i = 0; i < t->n_hist; i++) {
		free(t->hist[i].stream);
		free(t->hist[i].event_id);
		free(t->hist[i].msg);
	}
	for (size_t i = 0; i < t->n_held; i++) {
		free(t->held[i].stream);
		free(t->held[i].msg);
	}
	free(t->hist);
	free(t->held);
	t->hist = NULL;
	t->held = NULL;
	t->n_hist = t->n_held = t->cap_hist = t->cap_held = 0;
	if (t->stopped)
		return;
	if (!t->follow) {
		if (t->cb.on_done)
			t->cb.on_done(t->user, NULL);
	}
}

static void on_hist_done(void *user, struct aws_result *r)
{
	struct hist_ctx *hc = user;
	struct tail *t = hc->t;
	size_t si = hc->src;
	t->hist_ops[si] = NULL;
	if (aws_result_ok(r)) {
		t->src[si].exists = true;
		const cJSON *e;
		cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(r->json, "events"))
		{
			const char *msg = jstr(e, "message");
			if (!msg)
				continue;
			if (t->n_hist == t->cap_hist) {
				t->cap_hist = t->cap_hist ? 2 * t->cap_hist : 256;
				t->hist = xrealloc(t->hist, t->cap_hist * sizeof(*t->hist));
			}
			const char *st = jstr(e, "logStreamName");
			t->hist[t->n_hist++] =
			    (struct hist){.src = si,
			                  .stream = xstrdup(st ? st : ""),
			                  .event_id = xstrdup(jstr(e, "eventId")),
			                  .ts = jint(e, "timestamp"),
			                  .ingestion = jint(e, "ingestionTime"),
			                  .msg = xstrdup(msg),
			                  .len = strlen(msg)};
		}
	} else if (!strcmp(r->err.code, "ResourceNotFoundException")) {
		t->src[si].exists = false;
	} else if (!lk_error_is_set(&t->hist_err)) {
		t->hist_err = r->err;
	}
	aws_result_free(r);
	if (--t->hist_left > 0)
		return;
	if (!t->follow && lk_error_is_set(&t->hist_err)) {
		/* a real failure of a one-shot history read is the caller's error */
		t->history_pending = false;
		if (t->cb.on_done)
			t->cb.on_done(t->user, &t->hist_err);
		return;
	}
	history_finished(t);
}

/* Probe result: which groups exist (so live sessions are not refused for a missing one). */
static void on_probe_done(void *user, struct aws_result *r)
{
	struct tail *t = user;
	t->probe_op = NULL;
	if (aws_result_ok(r)) {
		const cJSON *g;
		for (size_t i = 0; i < t->n && !t->following; i++)
			t->src[i].exists = false;
		cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(r->json, "logGroups"))
		{
			const char *name = jstr(g, "logGroupName");
			for (size_t i = 0; name && i < t->n; i++)
				if (!strcmp(name, t->src[i].group))
					t->src[i].exists = true;
			const char *arn =
			    jstr(g, "logGroupArn") ? jstr(g, "logGroupArn") : jstr(g, "arn");
			const char *mark = arn ? strstr(arn, ":log-group:") : NULL;
			if (mark && !t->arn_prefix)
				t->arn_prefix =
				    xstrndup(arn, (size_t)(mark - arn) + strlen(":log-group:"));
		}
	} else if (!t->following) {
		for (size_t i = 0; i < t->n; i++)
			t->src[i].exists = true; /* cannot tell: let StartLiveTail decide */
	}
	aws_result_free(r);
	if (t->following)
		rebuild(t); /* a probe after a group appeared: now with its ARN */
	else
		start_following(t);
}

static void start_following(struct tail *t)
{
	t->following = true;
	for (size_t i = 0; i < t->n; i++)
		if (t->no_live || !t->src[i].exists)
			t->src[i].mode = SRC_POLL;
	if (t->no_live) {
		t->live_broken = true;
		snprintf(t->live_reason, sizeof(t->live_reason), "live tail disabled");
	}
	rebuild(t);
	uv_timer_start(&t->poll_timer, on_poll_timer, 0, (uint64_t)t->poll_ms);
	uv_timer_start(&t->renew_timer, on_renew_timer, (uint64_t)t->renew_ms, 0);
	update_status(t);
}

/* Longest common prefix of the group names (for one DescribeLogGroups call). */
static char *common_prefix(const struct tail *t)
{
	size_t n = strlen(t->src[0].group);
	for (size_t i = 1; i < t->n; i++) {
		size_t k = 0;
		while (k < n && t->src[i].group[k] == t->src[0].group[k])
			k++;
		n = k;
	}
	return xstrndup(t->src[0].group, n);
}

/* The first wait after a throttled poll: LAMBDECK_LOGS_BACKOFF_MS (a tuning knob, e.g. for
 * tests against a scripted throttling peer) when it is a positive number of milliseconds,
 * else twice the poll interval. It doubles up to MAX_BACKOFF_MS. */
static int64_t first_backoff_ms(int poll_ms)
{
	const char *v = getenv("LAMBDECK_LOGS_BACKOFF_MS");
	char *end;
	long long ms;

	if (v && *v) {
		ms = strtoll(v, &end, 10);
		if (!*end && ms > 0)
			return ms < MAX_BACKOFF_MS ? ms : MAX_BACKOFF_MS;
	}
	return 2LL * poll_ms;
}

struct tail *tail_start(struct aws_client *client, const struct tail_options *o,
                        const struct tail_callbacks *cb, void *user)
{
	struct tail *t = xcalloc(1, sizeof(*t));
	t->c = client;
	t->loop = aws_client_loop(client);
	t->n = o->n_sources;
	t->src = xcalloc(t->n ? t->n : 1, sizeof(*t->src));
	t->started_ms = util_now_ms();
	for (size_t i = 0; i < t->n; i++) {
		t->src[i] =
		    (struct src){.group = xstrdup(o->sources[i].group),
		                 .label = xstrdup(o->sources[i].label ? o->sources[i].label
		                                                      : o->sources[i].group),
		                 .mode = SRC_UNKNOWN,
		                 .exists = true,
		                 .newest = o->since_ms ? o->since_ms : t->started_ms - 1000,
		                 .t = t,
		                 .index = i};
	}
	t->pattern = o->pattern && *o->pattern ? xstrdup(o->pattern) : NULL;
	t->since = o->since_ms;
	t->follow = o->follow;
	t->no_live = o->no_live;
	t->poll_ms = o->poll_interval_ms > 0 ? o->poll_interval_ms : 1000;
	t->renew_ms = o->renew_after_ms > 0 ? o->renew_after_ms : DEFAULT_RENEW_MS;
	t->first_backoff_ms = first_backoff_ms(t->poll_ms);
	if (cb)
		t->cb = *cb;
	t->user = user;
	uv_timer_init(t->loop, &t->poll_timer);
	uv_timer_init(t->loop, &t->renew_timer);
	uv_timer_init(t->loop, &t->rebuild_timer);
	uv_timer_init(t->loop, &t->retire_timer);
	t->poll_timer.data = t->renew_timer.data = t->rebuild_timer.data = t->retire_timer.data = t;
	t->open_handles = 4;
	t->hist_ops = xcalloc(t->n ? t->n : 1, sizeof(*t->hist_ops));
	t->hctx = xcalloc(t->n ? t->n : 1, sizeof(*t->hctx));
	lk_error_clear(&t->hist_err);
	if (t->n == 0) {
		snprintf(t->status, sizeof(t->status), "no log groups");
		return t;
	}
	if (o->since_ms || !o->follow) {
		t->history_pending = true;
		t->hist_left = t->n;
		for (size_t i = 0; i < t->n; i++) {
			struct hist_ctx *hc = &t->hctx[i];
			*hc = (struct hist_ctx){.t = t, .src = i};
			struct aws_logs_filter_query q = {.group = t->src[i].group,
			                                  .start_ms = o->since_ms ? o->since_ms : 1,
			                                  .pattern = t->pattern,
			                                  .all_pages = true};
			t->hist_ops[i] = aws_logs_filter_log_events(client, &q, on_hist_done, hc);
		}
	}
	if (o->follow) {
		if (o->no_live) {
			start_following(t);
		} else {
			char *prefix = common_prefix(t);
			struct aws_logs_groups_query q = {.prefix = *prefix ? prefix : NULL,
			                                  .all_pages = true};
			t->probe_op = aws_logs_describe_log_groups(client, &q, on_probe_done, t);
			free(prefix);
		}
	}
	update_status(t);
	return t;
}

static void on_closed(uv_handle_t *h)
{
	struct tail *t = h->data;
	if (--t->open_handles > 0)
		return;
	for (size_t i = 0; i < t->n; i++) {
		free(t->src[i].group);
		free(t->src[i].label);
	}
	free(t->src);
	free(t->hist_ops);
	free(t->hctx);
	free(t->pattern);
	free(t->arn_prefix);
	free(t->dd.cur);
	free(t->dd.old);
	free(t);
}

void tail_stop(struct tail *t)
{
	if (!t || t->stopped)
		return;
	t->stopped = true;
	aws_op_cancel(t->probe_op);
	for (size_t i = 0; i < t->n; i++) {
		aws_op_cancel(t->src[i].poll_op);
		t->src[i].poll_op = NULL;
		aws_op_cancel(t->hist_ops[i]);
		t->hist_ops[i] = NULL;
	}
	while (t->sessions) {
		aws_op_cancel(t->sessions->op);
		session_unlink_free(t, t->sessions);
	}
	for (size_t i = 0; i < t->n_hist; i++) {
		free(t->hist[i].stream);
		free(t->hist[i].event_id);
		free(t->hist[i].msg);
	}
	for (size_t i = 0; i < t->n_held; i++) {
		free(t->held[i].stream);
		free(t->held[i].msg);
	}
	free(t->hist);
	free(t->held);
	t->hist = NULL;
	t->held = NULL;
	t->n_hist = t->n_held = 0;
	uv_close((uv_handle_t *)&t->poll_timer, on_closed);
	uv_close((uv_handle_t *)&t->renew_timer, on_closed);
	uv_close((uv_handle_t *)&t->rebuild_timer, on_closed);
	uv_close((uv_handle_t *)&t->retire_timer, on_closed);
}

int64_t tail_parse_since(const char *s, int64_t now_ms)
{
	if (!s || !*s)
		return -1;
	char *end;
	double v = strtod(s, &end);
	if (end != s && v >= 0 && v < 1e7) {
		int64_t unit;
		if (!*end || !strcmp(end, "m"))
			unit = 60000;
		else if (!strcmp(end, "s"))
			unit = 1000;
		else if (!strcmp(end, "h"))
			unit = 3600000;
		else if (!strcmp(end, "d"))
			unit = 86400000;
		else if (!strcmp(end, "w"))
			unit = 7 * 86400000LL;
		else
			unit = -1;
		if (unit > 0)
			return now_ms - (int64_t)(v * (double)unit);
		if (*end != '-' && *end != 'T')
			return -1;
	}
	struct tm tm = {0};
	const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!p) {
		memset(&tm, 0, sizeof(tm));
		p = strptime(s, "%Y-%m-%d", &tm);
		if (!p)
			return -1;
	}
	if (*p == 'Z')
		p++;
	if (*p)
		return -1;
	return (int64_t)timegm(&tm) * 1000;
}
