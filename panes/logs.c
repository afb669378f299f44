/* logs.c - the Logs pane: live tail of the project's functions (backend/tail: StartLiveTail
 * with polling fallback), merged, one color per function, START/END folded, REPORT lines as
 * summaries and a per-function summary in the header, errors highlighted; follow / pause,
 * local filter, server-side pattern, search, --since, UTC toggle, JSON pretty toggle, and
 * Enter on a stack-trace line opens the editor at that line of the function's code.
 *
 * The connection comes from the app's mode (app_mode_config: LOCAL = the project's emulator,
 * which the app attaches to or starts): the pane connects when APP_EVENT_MODE says it is
 * ready. */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "backend/logline.h"
#include "backend/mode.h"
#include "backend/tail.h"
#include "tui/app.h"

#define LOGS_MAX_LINES   50000
#define LOGS_MAX_MESSAGE 4096 /* longer messages are cut with a marker */
/* Events rendered per loop pass when every held event is rendered again (time zone, JSON,
 * fold, filter): the newest first, so the screen is right at once and keys stay answered
 * while the scrollback fills in behind (all 50 000 lines at once took ~0.2 s). */
#define LOGS_RERENDER_BATCH 1000
#define LOGS_RERENDER_FIRST 200 /* what a re-render draws at once: a screenful and then some */

struct raw_event {
	uint64_t seq;
	size_t fn; /* index into functions */
	int64_t ts;
	char *msg;
	size_t len;
};

struct logs_fn {
	char *name;
	char *code_dir;
	char *group;
	struct logline_stats stats;
};

struct logs {
	struct pane *p;
	struct textview *tv;
	struct logs_fn *fns;
	size_t n_fns;
	/* connection */
	struct aws_client *client;
	struct tail *tail;
	size_t *src_map; /* tail source index -> function index */
	char state_text[200];
	/* events: a ring of the newest LOGS_MAX_LINES */
	struct raw_event *ring;
	size_t ring_start, ring_len;
	uint64_t next_seq;
	uint64_t rendered_upto; /* events with seq < this are in the view (or filtered out) */
	uint64_t backfill_seq;  /* after a re-render: events with seq < this are still to be
	                           put in front of the view (LOGS_RERENDER_BATCH per pass) */
	uv_idle_t *backfill;    /* runs the backfill while there is some; owns itself on close */
	/* controls */
	bool paused;
	size_t new_while_paused;
	bool utc, pretty, show_start_end, only_selected;
	char *filter;
	bool filter_is_regex;
	regex_t filter_re;
	char *pattern;
	int64_t since_ms;
	size_t dropped_events;
};

/* --- rendering --- */

static bool filter_match(struct logs *st, const char *msg, size_t len)
{
	if (!st->filter)
		return true;
	if (st->filter_is_regex) {
		/* glibc's REG_STARTEND: match within [0, len) without a NUL-terminated copy */
		regmatch_t m = {.rm_so = 0, .rm_eo = (regoff_t)len};
		return regexec(&st->filter_re, msg, 1, &m, REG_STARTEND) == 0;
	}
	return memmem(msg, len, st->filter, strlen(st->filter)) != NULL;
}

static void format_time(const struct logs *st, int64_t ms, char *out, size_t n)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;
	if (st->utc)
		gmtime_r(&s, &tm);
	else
		localtime_r(&s, &tm);
	char base[16];
	strftime(base, sizeof(base), "%H:%M:%S", &tm);
	snprintf(out, n, "%s.%03d%s", base, (int)(ms % 1000), st->utc ? "Z" : "");
}

/* Appends one event to the view, or puts it in front of the view (front); or nothing:
 * folded, filtered. Returns false when it did not fit in front (the view is full). */
static bool render(struct logs *st, const struct raw_event *e, bool front)
{
	const struct logs_fn *f = &st->fns[e->fn];
	size_t len = e->len;
	while (len > 0 && (e->msg[len - 1] == '\n' || e->msg[len - 1] == '\r'))
		len--;
	enum logline_kind kind = logline_classify(e->msg, len);
	if ((kind == LOGLINE_START || kind == LOGLINE_END) && !st->show_start_end)
		return true;
	if (!filter_match(st, e->msg, len))
		return true;
	char ts[24];
	format_time(st, e->ts, ts, sizeof(ts));
	struct buf b = {0};
	buf_printf(&b, "%s %-10.10s ", ts, f->name);
	size_t indent = b.len;
	enum theme_role role = theme_fn_role(f->name);
	struct logline_report rep;
	if (kind == LOGLINE_REPORT && logline_parse_report(e->msg, len, &rep)) {
		buf_printf(&b, "REPORT %.1f ms (billed %.0f)  %d/%d MB", rep.duration_ms,
		           rep.billed_ms, rep.max_memory_mb, rep.memory_mb);
		if (rep.cold)
			buf_printf(&b, "  cold start %.1f ms", rep.init_ms);
		if (rep.timed_out)
			buf_puts(&b, "  TIMEOUT");
		role = rep.timed_out ? THEME_FAIL : THEME_DIM;
	} else {
		if (kind == LOGLINE_ERROR || kind == LOGLINE_TIMEOUT)
			role = THEME_FAIL;
		struct buf body = {0};
		struct logline_fields fl;
		/* a runtime's "time \t request id \t LEVEL \t" prefix folds to "LEVEL ": the
		 * pane has the time, START/END carry the request id */
		const char *text = e->msg;
		size_t tlen = len;
		if (logline_parse_fields(e->msg, len, &fl)) {
			buf_printf(&b, "%-5.*s ", (int)fl.level_len, fl.level);
			text = fl.message;
			tlen = fl.message_len;
		}
		if (logline_format_json(text, tlen, st->pretty, &body)) {
			text = body.data;
			tlen = body.len;
		}
		size_t cut = tlen > LOGS_MAX_MESSAGE ? LOGS_MAX_MESSAGE : tlen;
		/* continuation lines of a multi-line message ('\r' from the Node.js and Python
		 * runtimes, '\n') are indented under the message */
		size_t pos = 0, start, part;
		for (bool first = true; logline_next_part(text, cut, &pos, &start, &part);
		     first = false) {
			if (!first)
				buf_printf(&b, "\n%*s", (int)indent, "");
			buf_append(&b, text + start, part);
		}
		if (cut < tlen)
			buf_printf(&b, " …[+%zu bytes]", tlen - cut);
		buf_free(&body);
	}
	bool ok = true;
	if (front)
		ok = textview_prepend(st->tv, b.data, b.len, role, (int64_t)e->seq);
	else
		textview_append(st->tv, b.data, b.len, role, (int64_t)e->seq);
	buf_free(&b);
	return ok;
}

static const struct raw_event *ring_at(const struct logs *st, size_t i)
{
	return &st->ring[(st->ring_start + i) % LOGS_MAX_LINES];
}

static void render_pending(struct logs *st)
{
	/* the ring holds consecutive seqs: the pending ones are its tail */
	uint64_t first = st->ring_len ? ring_at(st, 0)->seq : 0;
	size_t from = st->rendered_upto > first ? (size_t)(st->rendered_upto - first) : 0;

	for (size_t i = from; i < st->ring_len; i++)
		render(st, ring_at(st, i), false);
	st->rendered_upto = st->next_seq;
	st->new_while_paused = 0;
}

/* Puts up to budget held events, newest first, in front of the view; stops the backfill
 * when none is left or the view is full. */
static void backfill_step(struct logs *st, size_t budget)
{
	uint64_t first = st->ring_len ? ring_at(st, 0)->seq : UINT64_MAX;
	bool full = false;
	for (size_t n = 0; n < budget && !full && st->backfill_seq > first &&
	                   st->backfill_seq - first <= st->ring_len;
	     n++) {
		if (render(st, ring_at(st, (size_t)(st->backfill_seq - 1 - first)), true))
			st->backfill_seq--;
		else
			full = true;
	}
	if (full || st->backfill_seq <= first || st->backfill_seq - first > st->ring_len)
		st->backfill_seq = 0;
	if (!st->backfill_seq && st->backfill)
		uv_idle_stop(st->backfill);
	app_mark_dirty(st->p);
}

static void on_backfill(uv_idle_t *h)
{
	backfill_step(h->data, LOGS_RERENDER_BATCH);
}

/* Re-renders every held event (after a filter / time / JSON / fold change): the newest
 * few hundred now, the rest over the next loop passes (backfill_step). Events that came while
 * paused stay pending. */
static void rerender(struct logs *st)
{
	textview_clear(st->tv);
	st->backfill_seq = st->rendered_upto;
	backfill_step(st, LOGS_RERENDER_FIRST);
	if (st->backfill_seq) {
		if (!st->backfill) {
			st->backfill = xcalloc(1, sizeof(*st->backfill));
			uv_idle_init(app_loop(st->p->app), st->backfill);
			st->backfill->data = st;
		}
		uv_idle_start(st->backfill, on_backfill);
	}
}

static void ring_clear(struct logs *st)
{
	for (size_t i = 0; i < st->ring_len; i++)
		free(st->ring[(st->ring_start + i) % LOGS_MAX_LINES].msg);
	st->ring_start = st->ring_len = 0;
}

/* --- tail callbacks --- */

static void on_tail_event(void *user, const struct tail_event *ev)
{
	struct logs *st = user;
	if (!st->src_map || ev->source >= st->n_fns)
		return;
	size_t fn = st->src_map[ev->source];
	logline_stats_add(&st->fns[fn].stats, ev->message, ev->message_len);
	if (st->ring_len == LOGS_MAX_LINES) {
		free(st->ring[st->ring_start].msg);
		st->ring_start = (st->ring_start + 1) % LOGS_MAX_LINES;
		st->ring_len--;
		st->dropped_events++;
	}
	struct raw_event *e = &st->ring[(st->ring_start + st->ring_len) % LOGS_MAX_LINES];
	*e = (struct raw_event){.seq = st->next_seq++,
	                        .fn = fn,
	                        .ts = ev->timestamp,
	                        .msg = xstrndup(ev->message, ev->message_len),
	                        .len = ev->message_len};
	st->ring_len++;
	if (st->paused) {
		st->new_while_paused++;
	} else {
		render(st, e, false);
		st->rendered_upto = st->next_seq;
	}
	app_mark_dirty(st->p);
}

static void on_tail_status(void *user, const char *status)
{
	struct logs *st = user;
	snprintf(st->state_text, sizeof(st->state_text), "%s", status);
	app_mark_dirty(st->p);
}

static void on_tail_done(void *user, const struct lk_error *err)
{
	struct logs *st = user;
	if (err) {
		snprintf(st->state_text, sizeof(st->state_text), "error: %.60s: %.120s", err->code,
		         err->message);
		app_message(st->p->app, APP_MSG_ERROR, "logs: %s: %s", err->code, err->message);
	}
	app_mark_dirty(st->p);
}

/* --- sources and connection --- */

static void free_fns(struct logs *st)
{
	for (size_t i = 0; i < st->n_fns; i++) {
		free(st->fns[i].name);
		free(st->fns[i].code_dir);
		free(st->fns[i].group);
	}
	free(st->fns);
	st->fns = NULL;
	st->n_fns = 0;
}

static void load_fns(struct logs *st)
{
	free_fns(st);
	const struct project *proj = app_project(st->p->app);
	st->fns = xcalloc(proj->n_functions ? proj->n_functions : 1, sizeof(*st->fns));
	for (size_t i = 0; i < proj->n_functions; i++) {
		const struct project_function *f = &proj->functions[i];
		st->fns[i].name = xstrdup(f->name);
		st->fns[i].code_dir = xstrdup(f->code_dir);
		st->fns[i].group =
		    xasprintf("/aws/lambda/%s", f->deployed_name ? f->deployed_name : f->name);
	}
	st->n_fns = proj->n_functions;
}

static void start_tail(struct logs *st)
{
	tail_stop(st->tail);
	st->tail = NULL;
	if (!st->client || st->n_fns == 0)
		return;
	const char *sel = app_selected_function(st->p->app);
	struct tail_source *src = xcalloc(st->n_fns, sizeof(*src));
	free(st->src_map);
	st->src_map = xcalloc(st->n_fns, sizeof(*st->src_map));
	size_t n = 0;
	for (size_t i = 0; i < st->n_fns; i++) {
		if (st->only_selected && sel && strcmp(sel, st->fns[i].name))
			continue;
		st->src_map[n] = i;
		src[n++] =
		    (struct tail_source){.group = st->fns[i].group, .label = st->fns[i].name};
	}
	struct tail_options o = {.sources = src,
	                         .n_sources = n,
	                         .pattern = st->pattern,
	                         .since_ms = st->since_ms,
	                         .follow = true};
	struct tail_callbacks cb = {
	    .on_event = on_tail_event, .on_status = on_tail_status, .on_done = on_tail_done};
	st->tail = tail_start(st->client, &o, &cb, st);
	free(src);
	snprintf(st->state_text, sizeof(st->state_text), "%s", tail_status(st->tail));
	app_mark_dirty(st->p);
}

/* Builds the aws client from the app's mode once it is ready, then starts the tail. */
static void logs_connect(struct logs *st)
{
	if (st->client)
		return;
	const struct mode_config *cfg = app_mode_config(st->p->app);
	if (!cfg) {
		snprintf(st->state_text, sizeof(st->state_text), "waiting for %s",
		         app_mode(st->p->app) ? app_mode(st->p->app) : "the mode");
		app_mark_dirty(st->p);
		return;
	}
	struct aws_options o = {0};
	mode_aws_options(cfg, &o);
	struct lk_error err;
	lk_error_clear(&err);
	st->client = aws_client_new(app_loop(st->p->app), &o, &err);
	if (!st->client) {
		snprintf(st->state_text, sizeof(st->state_text), "not connected: %.60s: %.100s",
		         err.code, err.message);
		app_mark_dirty(st->p);
		return;
	}
	start_tail(st);
}

/* --- prompts --- */

static void on_filter(void *ud, const char *text)
{
	struct logs *st = ud;
	if (!text)
		return;
	if (st->filter_is_regex)
		regfree(&st->filter_re);
	free(st->filter);
	st->filter = NULL;
	st->filter_is_regex = false;
	size_t n = strlen(text);
	if (n >= 2 && text[0] == '/' && text[n - 1] == '/') {
		char *re = xstrndup(text + 1, n - 2);
		int rc = regcomp(&st->filter_re, re, REG_EXTENDED | REG_NOSUB);
		free(re);
		if (rc != 0) {
			app_message(st->p->app, APP_MSG_ERROR,
			            "logs: invalid regular expression %s", text);
			return;
		}
		st->filter_is_regex = true;
		st->filter = xstrdup(text);
	} else if (n) {
		st->filter = xstrdup(text);
	}
	rerender(st);
}

static void on_pattern(void *ud, const char *text)
{
	struct logs *st = ud;
	if (!text)
		return;
	free(st->pattern);
	st->pattern = *text ? xstrdup(text) : NULL;
	start_tail(st);
}

static void on_since(void *ud, const char *text)
{
	struct logs *st = ud;
	if (!text)
		return;
	int64_t v = *text ? tail_parse_since(text, util_now_ms()) : 0;
	if (v < 0) {
		app_message(st->p->app, APP_MSG_ERROR,
		            "logs: since '%s': use 30s, 10m, 2h, 1d or an "
		            "ISO time",
		            text);
		return;
	}
	st->since_ms = v;
	start_tail(st);
}

static void on_search(void *ud, const char *text)
{
	struct logs *st = ud;
	if (!text)
		return;
	if (*text && !textview_search(st->tv, text))
		app_message(st->p->app, APP_MSG_WARN, "logs: no match for %s", text);
	else if (!*text)
		textview_search(st->tv, NULL);
	app_mark_dirty(st->p);
}

/* Enter: the stack-trace location on the cursor line, in the function's code. */
static void jump_to_source(struct logs *st)
{
	if (!textview_count(st->tv))
		return;
	int64_t tag = 0;
	const char *line = textview_line(st->tv, textview_cursor(st->tv), NULL, &tag);
	struct logline_location loc;
	if (!line || !logline_find_location(line, strlen(line), &loc)) {
		app_message(st->p->app, APP_MSG_INFO, "logs: no file:line on this line");
		return;
	}
	const struct raw_event *e = NULL;
	for (size_t i = 0; i < st->ring_len; i++)
		if (ring_at(st, i)->seq == (uint64_t)tag)
			e = ring_at(st, i);
	const char *code_dir = e && e->fn < st->n_fns ? st->fns[e->fn].code_dir : NULL;
	char *path = logline_resolve_source(code_dir, loc.path);
	for (size_t i = 0; !path && i < st->n_fns; i++)
		path = logline_resolve_source(st->fns[i].code_dir, loc.path);
	if (!path) {
		app_message(st->p->app, APP_MSG_WARN, "logs: %s is not in the function's code",
		            loc.path);
		return;
	}
	app_edit_file(st->p->app, path, loc.line, app_read_only(st->p->app), NULL, NULL);
	free(path);
}

/* --- pane ops --- */

static int logs_init(struct pane *p, struct lk_error *err)
{
	(void)err;
	struct logs *st = xcalloc(1, sizeof(*st));
	st->p = p;
	p->state = st;
	st->tv = textview_new(LOGS_MAX_LINES);
	st->ring = xcalloc(LOGS_MAX_LINES, sizeof(*st->ring));
	load_fns(st);
	logs_connect(st);
	return 0;
}

static void free_handle(uv_handle_t *h)
{
	free(h);
}

static void logs_destroy(struct pane *p)
{
	struct logs *st = p->state;
	if (!st)
		return;
	if (st->backfill)
		uv_close((uv_handle_t *)st->backfill, free_handle);
	tail_stop(st->tail);
	aws_client_free(st->client);
	ring_clear(st);
	free(st->ring);
	textview_free(st->tv);
	free_fns(st);
	free(st->src_map);
	if (st->filter_is_regex)
		regfree(&st->filter_re);
	free(st->filter);
	free(st->pattern);
	p->state = NULL;
	free(st);
}

static void draw_header(struct logs *st)
{
	struct pane *p = st->p;
	struct buf b = {0};
	if (st->paused)
		buf_printf(&b, "PAUSED (%zu new)  ", st->new_while_paused);
	buf_puts(&b, st->state_text);
	if (st->pattern)
		buf_printf(&b, "  pattern: %s", st->pattern);
	if (st->filter)
		buf_printf(&b, "  filter: %s", st->filter);
	struct buf clean = {0};
	util_sanitize(b.data ? b.data : "", b.len, false, false, &clean);
	wattrset(p->win, theme_attr(st->paused ? THEME_WARN : THEME_HEADER));
	wmove(p->win, 0, 0);
	theme_put_clipped(p->win, clean.len ? clean.data : "", p->cols);
	buf_free(&clean);
	buf_reset(&b);
	/* summary: the selected function, else every function with invocations */
	const char *sel = app_selected_function(p->app);
	for (size_t i = 0; i < st->n_fns; i++) {
		if (sel && strcmp(sel, st->fns[i].name))
			continue;
		if (!sel && st->fns[i].stats.invocations == 0 && st->fns[i].stats.errors == 0)
			continue;
		buf_printf(&b, "%s%s: ", b.len ? "  |  " : "", st->fns[i].name);
		logline_stats_format(&st->fns[i].stats, &b);
	}
	if (b.len && p->rows > 2) {
		util_sanitize(b.data, b.len, false, false, &clean);
		wattrset(p->win, theme_attr(THEME_DIM));
		wmove(p->win, 1, 0);
		theme_put_clipped(p->win, clean.data, p->cols);
		buf_free(&clean);
	}
	buf_free(&b);
	wattrset(p->win, theme_attr(THEME_NORMAL));
}

static int header_rows(const struct pane *p)
{
	return p->rows > 4 ? 2 : p->rows > 1 ? 1 : 0;
}

static void logs_draw(struct pane *p)
{
	struct logs *st = p->state;
	if (p->rows <= 0 || p->cols <= 0)
		return;
	draw_header(st);
	int h = header_rows(p);
	if (textview_count(st->tv) == 0 && p->rows > h) {
		wattrset(p->win, theme_attr(THEME_DIM));
		wmove(p->win, h, 1);
		theme_put_clipped(p->win,
		                  st->n_fns
		                      ? "Live function logs will appear here. Invoke a function."
		                      : "The project has no functions.",
		                  p->cols - 2);
		wattrset(p->win, theme_attr(THEME_NORMAL));
		return;
	}
	textview_draw(st->tv, p->win, h, 0, p->rows - h, p->cols, p->focused);
}

static int logs_request(struct pane *p, enum request req)
{
	struct logs *st = p->state;
	switch (req) {
	case REQ_LOGS_PAUSE:
		st->paused = !st->paused;
		if (!st->paused) {
			render_pending(st);
			if (textview_count(st->tv))
				textview_set_cursor(st->tv, textview_count(st->tv) - 1);
		}
		return PANE_REDRAW;
	case REQ_LOGS_FILTER:
		app_prompt(p->app, "filter (text or /regex/)", st->filter, on_filter, st);
		return PANE_HANDLED;
	case REQ_LOGS_PATTERN:
		app_prompt(p->app, "CloudWatch filter pattern", st->pattern, on_pattern, st);
		return PANE_HANDLED;
	case REQ_LOGS_SINCE:
		app_prompt(p->app, "since (30s, 10m, 2h, 1d, ISO time; empty = now)", NULL,
		           on_since, st);
		return PANE_HANDLED;
	case REQ_LOGS_CLEAR:
		ring_clear(st);
		textview_clear(st->tv);
		st->rendered_upto = st->next_seq;
		st->new_while_paused = 0;
		return PANE_REDRAW;
	case REQ_LOGS_UTC:
		st->utc = !st->utc;
		rerender(st);
		return PANE_REDRAW;
	case REQ_LOGS_JSON:
		st->pretty = !st->pretty;
		rerender(st);
		return PANE_REDRAW;
	case REQ_LOGS_FOLD:
		st->show_start_end = !st->show_start_end;
		rerender(st);
		return PANE_REDRAW;
	case REQ_LOGS_SOURCES:
		st->only_selected = !st->only_selected;
		app_message(p->app, APP_MSG_INFO, "logs: %s",
		            st->only_selected ? "only the selected function" : "all functions");
		start_tail(st);
		return PANE_REDRAW;
	case REQ_SEARCH:
		app_prompt(p->app, "search", NULL, on_search, st);
		return PANE_HANDLED;
	case REQ_ENTER:
	case REQ_EDIT:
		jump_to_source(st);
		return PANE_REDRAW;
	case REQ_REFRESH:
		if (!st->client) {
			logs_connect(st);
		} else {
			start_tail(st);
		}
		return PANE_REDRAW;
	default:
		break;
	}
	if (textview_request(st->tv, req, p->rows - header_rows(p)))
		return PANE_REDRAW;
	return PANE_UNHANDLED;
}

static void logs_event(struct pane *p, enum app_event ev)
{
	struct logs *st = p->state;
	if (ev == APP_EVENT_MODE) {
		logs_connect(st);
	} else if (ev == APP_EVENT_PROJECT) {
		load_fns(st);
		ring_clear(st);
		textview_clear(st->tv);
		start_tail(st);
	} else if (ev == APP_EVENT_SELECTION && st->only_selected) {
		start_tail(st);
	} else if (ev == APP_EVENT_SELECTION) {
		app_mark_dirty(p); /* the header shows the selected function's summary */
	}
}

static const char *logs_status(struct pane *p, char *buf, size_t len)
{
	struct logs *st = p->state;
	if (st->paused)
		snprintf(buf, len, "paused, %zu new", st->new_while_paused);
	else
		snprintf(buf, len, "%zu lines", textview_count(st->tv));
	return buf;
}

/* Mouse: a click selects the log line under the pointer, the wheel scrolls (up leaves
 * follow mode like moving the cursor up does). */
static int logs_mouse(struct pane *p, const struct pane_mouse *m)
{
	struct logs *st = p->state;

	if (m->kind == PANE_MOUSE_CLICK)
		return textview_click(st->tv, m->y - header_rows(p)) ? PANE_REDRAW : PANE_HANDLED;
	textview_scroll(st->tv,
	                m->kind == PANE_MOUSE_WHEEL_UP ? -PANE_WHEEL_LINES : PANE_WHEEL_LINES);
	return PANE_REDRAW;
}

const struct pane_ops pane_logs_ops = {
    .name = "logs",
    .title = "Logs",
    .init = logs_init,
    .destroy = logs_destroy,
    .draw = logs_draw,
    .request = logs_request,
    .event = logs_event,
    .status = logs_status,
    .mouse = logs_mouse,
};
