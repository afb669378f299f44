/* playground.c - the Playground pane: the selected function's saved events and the built-in
 * templates; send with one key and see status, latency, REPORT numbers, the payload and the
 * log tail; new / edit (in $EDITOR, validated) / rename / duplicate / delete; the history of
 * every invocation (this console's and any other process's) with replay, response diff
 * against the previous response to the same event, and a function filter; snapshots.
 *
 * Layout: a header line, the list (events + templates, or history) in the upper part, the
 * response view (tui/textview) below. Everything asynchronous (invocations, the history
 * watch, the editor) only changes state and marks the pane dirty. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "backend/events.h"
#include "backend/history.h"
#include "backend/invoke.h"
#include "backend/snapshot.h"
#include "tui/app.h"

enum pg_view { PG_EVENTS, PG_HISTORY };
enum item_kind { ITEM_EVENT, ITEM_TEMPLATE };

struct item {
	enum item_kind kind;
	char *name;
	bool snapshot, recovery;
	const struct event_template *t;
};

/* The new-from-template form: one prompt per parameter. */
struct form {
	const struct event_template *t;
	char *name;
	size_t i;
	struct event_kv *kv;
};

struct playground {
	struct pane *p;
	enum pg_view view;
	char *function;
	struct item *items;
	size_t n_items, sel, top;
	struct textview *out;
	struct invoke_ctx *ctx;
	struct invoke_op *op;
	struct app_job *job;
	enum invoke_type type;
	char *qualifier;
	struct history hist;
	bool hist_loaded;
	struct history_watch *watch;
	size_t *hidx, hn, hsel, htop;
	bool filter_fn;
	/* the last invocation's inputs and result, for snapshots */
	char *last_function, *last_event_name, *last_event, *last_qualifier;
	struct invoke_result last; /* strings below are owned copies */
	bool have_last;
	uint64_t t_key;   /* when the send key was pressed */
	uv_timer_t *slow; /* shows "invoking..." + a job only when a send takes a while, so a
	                     warm send draws one frame (the answer), not two */
	char *sending;    /* "Function/event" of the running send */
	double key_to_result_ms;
	struct form form;
	char *edit_name;
	char *pending; /* name awaiting a confirm / prompt */
};

/* ---- helpers -------------------------------------------------------------------------- */

static struct playground *state(struct pane *p)
{
	return p->state;
}

static void put(WINDOW *w, const char *s, int max)
{
	struct buf b = {0};

	if (max <= 0)
		return;
	buf_puts(&b, "");
	util_sanitize(s, strlen(s), false, false, &b);
	theme_put_clipped(w, b.data, max);
	buf_free(&b);
}

static void free_items(struct playground *st)
{
	for (size_t i = 0; i < st->n_items; i++)
		free(st->items[i].name);
	free(st->items);
	st->items = NULL;
	st->n_items = 0;
}

static const struct item *selected(struct playground *st)
{
	return st->view == PG_EVENTS && st->sel < st->n_items ? &st->items[st->sel] : NULL;
}

/* Rebuilds the event list of the current function; keeps the selection by name. */
static void reload_items(struct playground *st, const char *keep)
{
	struct event_list l = {0};
	struct lk_error err = {0};
	char *want = xstrdup(keep ? keep : (selected(st) ? selected(st)->name : NULL));
	size_t n = 0;

	free_items(st);
	if (st->function && events_list(app_project(st->p->app)->dir, st->function, &l, &err) < 0)
		app_message(st->p->app, APP_MSG_ERROR, "%s", err.message);
	st->items = xcalloc(l.n + events_template_count() + 1, sizeof(*st->items));
	for (size_t i = 0; i < l.n; i++) {
		st->items[n].kind = ITEM_EVENT;
		st->items[n].name = xstrdup(l.items[i].name);
		st->items[n].snapshot = l.items[i].has_snapshot;
		st->items[n].recovery = l.items[i].has_recovery;
		n++;
	}
	for (size_t i = 0; i < events_template_count(); i++) {
		st->items[n].kind = ITEM_TEMPLATE;
		st->items[n].t = events_template_at(i);
		st->items[n].name = xstrdup(st->items[n].t->name);
		n++;
	}
	st->n_items = n;
	events_list_free(&l);
	if (st->sel >= n)
		st->sel = n ? n - 1 : 0;
	for (size_t i = 0; want && i < n; i++)
		if (!strcmp(st->items[i].name, want) &&
		    (st->items[i].kind == ITEM_EVENT || i >= l.n)) {
			st->sel = i;
			break;
		}
	free(want);
	app_mark_dirty(st->p);
}

/* The function to work on: the Functions pane's selection, else the first function. */
static void pick_function(struct playground *st)
{
	struct project *proj = app_project(st->p->app);
	const char *sel = app_selected_function(st->p->app);
	const char *fn = sel && project_find(proj, sel) ? sel
	                 : proj->n_functions            ? proj->functions[0].name
	                                                : NULL;

	if (fn && st->function && !strcmp(fn, st->function))
		return;
	free(st->function);
	st->function = xstrdup(fn);
	st->sel = st->top = 0;
	reload_items(st, NULL);
}

/* ---- history -------------------------------------------------------------------------- */

static void rebuild_hidx(struct playground *st)
{
	free(st->hidx);
	st->hidx = xcalloc(st->hist.n + 1, sizeof(*st->hidx));
	st->hn = 0;
	for (size_t i = st->hist.n; i-- > 0;)
		if (!st->filter_fn || !st->function ||
		    !strcmp(st->hist.entries[i].function, st->function))
			st->hidx[st->hn++] = i;
	if (st->hsel >= st->hn)
		st->hsel = st->hn ? st->hn - 1 : 0;
}

static void history_changed(void *user)
{
	struct playground *st = user;
	struct lk_error err = {0};
	size_t added = 0;

	if (!st->hist_loaded)
		return;
	if (history_refresh(&st->hist, &added, &err) < 0)
		return;
	if (added) {
		/* Keep the cursor on the same entry while new ones arrive on top. */
		if (st->view == PG_HISTORY && st->hsel > 0)
			st->hsel += added;
		rebuild_hidx(st);
		app_mark_dirty(st->p);
	}
}

static void ensure_history(struct playground *st)
{
	struct lk_error err = {0};
	const char *dir = app_project(st->p->app)->dir;

	if (st->hist_loaded)
		return;
	if (history_load(dir, &st->hist, &err) < 0)
		app_message(st->p->app, APP_MSG_ERROR, "%s", err.message);
	st->hist_loaded = true;
	/* Read-only consoles watch too (a pair partner's invocations), but never create
	 * .lambdeck/ for it. */
	if (!st->watch) {
		char *ld = xasprintf("%s/.lambdeck", dir);
		if (!app_read_only(st->p->app) || util_is_dir(ld))
			st->watch =
			    history_watch_new(app_loop(st->p->app), dir, history_changed, st, &err);
		free(ld);
	}
	rebuild_hidx(st);
}

static const struct history_entry *selected_entry(struct playground *st)
{
	if (!st->hist_loaded || st->hn == 0)
		return NULL;
	if (st->view == PG_HISTORY)
		return &st->hist.entries[st->hidx[st->hsel]];
	return &st->hist.entries[st->hidx[0]];
}

/* ---- the response view ---------------------------------------------------------------- */

static void show_text_block(struct playground *st, const char *text, enum theme_role role)
{
	if (text && *text)
		textview_append(st->out, text, strlen(text), role, 0);
}

static void show_stats(struct playground *st, int status, const char *function_error,
                       const char *error_type, double client_ms, double duration_ms,
                       double billed_ms, int max_mem, int mem, double init_ms, const char *what)
{
	struct buf b = {0};
	bool ok = !function_error && status >= 200 && status < 300;

	buf_printf(&b, "%d", status);
	if (function_error)
		buf_printf(&b, " %s%s%s%s", function_error, error_type ? " (" : "",
		           error_type ? error_type : "", error_type ? ")" : "");
	buf_printf(&b, "  %s", what);
	if (client_ms >= 0)
		buf_printf(&b, "  %.1f ms", client_ms);
	if (duration_ms >= 0)
		buf_printf(&b, "  dur %.2f ms", duration_ms);
	if (billed_ms >= 0)
		buf_printf(&b, "  billed %.0f ms", billed_ms);
	if (max_mem >= 0 && mem >= 0)
		buf_printf(&b, "  %d/%d MB", max_mem, mem);
	if (init_ms >= 0)
		buf_printf(&b, "  init %.0f ms", init_ms);
	textview_append(st->out, b.data, b.len, ok ? THEME_OK : THEME_FAIL, 0);
	buf_free(&b);
}

static void show_entry(struct playground *st, const struct history_entry *e)
{
	char *what, *pretty;

	textview_clear(st->out);
	if (!e) {
		textview_appendf(st->out, THEME_DIM, 0, "(no invocations yet)");
		return;
	}
	what = xasprintf("%s/%s", e->function, e->event_name ? e->event_name : "-");
	if (e->error_code) {
		textview_appendf(st->out, THEME_FAIL, 0, "FAILED  %s  %s: %s", what, e->error_code,
		                 e->error_message ? e->error_message : "");
	} else {
		show_stats(st, e->status, e->function_error, NULL, e->client_ms, e->duration_ms,
		           e->billed_ms, e->max_memory_mb, e->memory_mb, e->init_ms, what);
	}
	free(what);
	if (e->response) {
		pretty = events_pretty_json(e->response, strlen(e->response));
		show_text_block(st, pretty ? pretty : e->response, THEME_NORMAL);
		free(pretty);
	}
	if (e->log_tail && *e->log_tail) {
		textview_appendf(st->out, THEME_HEADER, 0, "-- log tail --");
		show_text_block(st, e->log_tail, THEME_DIM);
	}
	textview_set_cursor(st->out, 0);
}

/* Longest-common-subsequence line diff of two texts into the view ("- " old, "+ " new). */
static void line_diff(struct playground *st, const char *a, const char *b)
{
	char **la = NULL, **lb = NULL;
	size_t na = 0, nb = 0;
	char *ca = xstrdup(a ? a : ""), *cb = xstrdup(b ? b : "");
	unsigned short *t;

	for (char *s = NULL, *l = strtok_r(ca, "\n", &s); l; l = strtok_r(NULL, "\n", &s))
		la = xrealloc(la, (na + 1) * sizeof(*la)), la[na++] = l;
	for (char *s = NULL, *l = strtok_r(cb, "\n", &s); l; l = strtok_r(NULL, "\n", &s))
		lb = xrealloc(lb, (nb + 1) * sizeof(*lb)), lb[nb++] = l;
	if (na > 2000 || nb > 2000) {
		textview_appendf(st->out, THEME_WARN, 0, "(responses too long for a line diff)");
		goto out;
	}
	t = xcalloc((na + 1) * (nb + 1), sizeof(*t));
#define T(i, j) t[(i) * (nb + 1) + (j)]
	for (size_t i = na; i-- > 0;)
		for (size_t j = nb; j-- > 0;)
			T(i, j) = !strcmp(la[i], lb[j])       ? T(i + 1, j + 1) + 1
			          : T(i + 1, j) > T(i, j + 1) ? T(i + 1, j)
			                                      : T(i, j + 1);
	for (size_t i = 0, j = 0; i < na || j < nb;) {
		if (i < na && j < nb && !strcmp(la[i], lb[j])) {
			textview_appendf(st->out, THEME_DIM, 0, "  %s", la[i]);
			i++, j++;
		} else if (i < na && (j == nb || T(i + 1, j) >= T(i, j + 1))) {
			/* removals before additions where both keep the diff minimal, as diff(1) */
			textview_appendf(st->out, THEME_FAIL, 0, "- %s", la[i++]);
		} else {
			textview_appendf(st->out, THEME_OK, 0, "+ %s", lb[j++]);
		}
	}
#undef T
	free(t);
out:
	free(la);
	free(lb);
	free(ca);
	free(cb);
}

static char *pretty_or_raw(const char *s)
{
	char *p = s ? events_pretty_json(s, strlen(s)) : NULL;

	return p ? p : xstrdup(s ? s : "");
}

/* Shows how e's response differs from the previous response to the same event. */
static void show_diff(struct playground *st, const struct history_entry *e)
{
	const struct history_entry *prev;
	char *a, *b;
	cJSON *ja, *jb;

	textview_clear(st->out);
	if (!e) {
		textview_appendf(st->out, THEME_DIM, 0, "(no invocation to compare)");
		return;
	}
	prev = history_previous_same_event(&st->hist, (size_t)(e - st->hist.entries));
	if (!prev) {
		textview_appendf(st->out, THEME_WARN, 0,
		                 "no earlier invocation of %s with the same event", e->function);
		return;
	}
	textview_appendf(st->out, THEME_HEADER, 0, "diff %s/%s: previous (-) -> this (+)",
	                 e->function, e->event_name ? e->event_name : "-");
	if (prev->status != e->status)
		textview_appendf(st->out, THEME_WARN, 0, "status %d -> %d", prev->status,
		                 e->status);
	ja = prev->response ? cJSON_Parse(prev->response) : NULL;
	jb = e->response ? cJSON_Parse(e->response) : NULL;
	if (ja && jb) {
		struct snapshot_diff *d = NULL;
		size_t n = 0;
		snapshot_compare(ja, jb, NULL, 0, &d, &n);
		if (!n)
			textview_appendf(st->out, THEME_OK, 0, "responses are identical");
		for (size_t i = 0; i < n; i++)
			textview_appendf(st->out, THEME_WARN, 0, "%s: %s -> %s",
			                 *d[i].path ? d[i].path : "(response)", d[i].expected,
			                 d[i].actual);
		snapshot_diffs_free(d, n);
	}
	cJSON_Delete(ja);
	cJSON_Delete(jb);
	a = pretty_or_raw(prev->response);
	b = pretty_or_raw(e->response);
	line_diff(st, a, b);
	free(a);
	free(b);
	textview_set_cursor(st->out, 0);
}

/* ---- invoking ------------------------------------------------------------------------- */

static void clear_last(struct playground *st)
{
	free(st->last_function);
	free(st->last_event_name);
	free(st->last_event);
	free(st->last_qualifier);
	free((char *)st->last.payload);
	free((char *)st->last.function_error);
	st->last_function = st->last_event_name = st->last_event = st->last_qualifier = NULL;
	memset(&st->last, 0, sizeof(st->last));
	st->have_last = false;
}

static void on_phase(const char *phase, void *user)
{
	struct playground *st = user;

	if (st->job)
		app_job_progress(st->job, phase, 0, 0);
}

static void on_invoked(const struct invoke_result *r, void *user)
{
	struct playground *st = user;
	char *what = xasprintf("%s/%s", st->last_function ? st->last_function : "?",
	                       st->last_event_name ? st->last_event_name : "-");

	st->op = NULL;
	st->key_to_result_ms = (double)(util_monotonic_ns() - st->t_key) / 1e6;
	textview_clear(st->out);
	if (lk_error_is_set(&r->err) && !r->status) {
		textview_appendf(st->out, THEME_FAIL, 0, "FAILED  %s  %s: %s", what, r->err.code,
		                 r->err.message);
	} else {
		show_stats(st, r->status, r->function_error, r->error_type, r->client_ms,
		           r->duration_ms, r->billed_ms, r->max_memory_mb, r->memory_mb, r->init_ms,
		           what);
		textview_appendf(st->out, THEME_DIM, 0, "key to result %.1f ms%s",
		                 st->key_to_result_ms, r->updated ? "  (deployed first)" : "");
		show_text_block(st, r->pretty, THEME_NORMAL);
		if (r->log_tail && *r->log_tail) {
			textview_appendf(st->out, THEME_HEADER, 0, "-- log tail --");
			show_text_block(st, r->log_tail, THEME_DIM);
		}
		/* Keep what a snapshot needs. */
		st->last.status = r->status;
		st->last.payload = xstrndup(r->payload, r->payload_len);
		st->last.payload_len = r->payload_len;
		st->last.function_error = xstrdup(r->function_error);
		st->last.payload_is_json = r->payload_is_json;
		st->have_last = true;
	}
	textview_set_cursor(st->out, 0);
	uv_timer_stop(st->slow);
	{
		bool ok = !lk_error_is_set(&r->err) && !r->function_error;
		if (st->job) {
			app_job_finish(st->job, ok, "%s: %d%s%s", what, r->status,
			               r->function_error ? " " : "",
			               r->function_error          ? r->function_error
			               : lk_error_is_set(&r->err) ? r->err.message
			                                          : "");
			st->job = NULL;
		} else if (!ok) {
			app_message(st->p->app, APP_MSG_ERROR, "%s: %s", what,
			            r->function_error ? r->function_error : r->err.message);
		}
	}
	free(what);
	app_mark_dirty(st->p);
}

static void cancel_invoke(void *ud)
{
	struct playground *st = ud;

	if (st->op)
		invoke_cancel(st->op); /* on_invoked finishes the job */
}

/* The send is taking a while (first deploy, cold start, network): show it. */
static void on_slow(uv_timer_t *t)
{
	struct playground *st = t->data;
	char *job;

	if (!st->op)
		return;
	job = xasprintf("invoke %s", st->sending ? st->sending : "");
	st->job = app_job_start(st->p->app, job, cancel_invoke, st);
	free(job);
	textview_clear(st->out);
	textview_appendf(st->out, THEME_DIM, 0, "invoking %s ...", st->sending ? st->sending : "");
	app_mark_dirty(st->p);
}

static bool ensure_ctx(struct playground *st)
{
	struct mode_options mo;
	struct lk_error err = {0};

	if (st->ctx)
		return true;
	app_mode_options(st->p->app, &mo);
	st->ctx = invoke_ctx_new(app_loop(st->p->app), app_project(st->p->app), &mo, &err);
	if (!st->ctx) {
		app_message(st->p->app, APP_MSG_ERROR, "%s", err.message);
		return false;
	}
	invoke_ctx_set_phase_cb(st->ctx, on_phase, st);
	return true;
}

/* Starts an invocation; name is what history records as the event name. */
static void send_event(struct playground *st, const char *function, const char *name,
                       const char *event, size_t len, const char *qualifier, enum invoke_type type)
{
	struct invoke_request req = {
	    .function = function,
	    .qualifier = qualifier,
	    .type = type,
	    .event_name = name,
	    .payload = event,
	    .payload_len = len,
	};
	struct lk_error err = {0};

	if (app_refuse_if_read_only(st->p->app, "invoking"))
		return;
	if (st->op) {
		app_message(st->p->app, APP_MSG_WARN,
		            "an invocation is still running (C-x cancels)");
		return;
	}
	if (!ensure_ctx(st))
		return;
	clear_last(st);
	st->last_function = xstrdup(function);
	st->last_event_name = xstrdup(name);
	st->last_event = xstrndup(event, len);
	st->last_qualifier = xstrdup(qualifier);
	st->t_key = util_monotonic_ns();
	st->op = invoke_start(st->ctx, &req, on_invoked, st, &err);
	if (!st->op) {
		textview_clear(st->out);
		textview_appendf(st->out, THEME_FAIL, 0, "not sent: %s", err.message);
		app_message(st->p->app, APP_MSG_ERROR, "%s", err.message);
		app_mark_dirty(st->p);
		return;
	}
	free(st->sending);
	st->sending = xasprintf("%s/%s", function, name ? name : "-");
	uv_timer_start(st->slow, on_slow, 60, 0);
}

static void send_selected(struct playground *st)
{
	const struct item *it = selected(st);
	struct lk_error err = {0};
	struct buf b = {0};

	if (st->view == PG_HISTORY) {
		const struct history_entry *e = selected_entry(st);
		if (e)
			send_event(st, e->function, e->event_name, e->event ? e->event : "{}",
			           e->event ? strlen(e->event) : 2, e->qualifier, st->type);
		return;
	}
	if (!it || !st->function)
		return;
	if (it->kind == ITEM_TEMPLATE) {
		char *json = events_template_render(it->t, NULL, 0, &err), *name;
		if (!json) {
			app_message(st->p->app, APP_MSG_ERROR, "%s", err.message);
			return;
		}
		name = xasprintf("template:%s", it->name);
		send_event(st, st->function, name, json, strlen(json), st->qualifier, st->type);
		free(name);
		free(json);
		return;
	}
	if (events_read(app_project(st->p->app)->dir, st->function, it->name, &b, &err) < 0) {
		textview_clear(st->out);
		textview_appendf(st->out, THEME_FAIL, 0, "not sent: %s", err.message);
		app_message(st->p->app, APP_MSG_ERROR, "%s", err.message);
		app_mark_dirty(st->p);
	} else {
		send_event(st, st->function, it->name, b.data, b.len, st->qualifier, st->type);
	}
	buf_free(&b);
}

static void replay(struct playground *st)
{
	const struct history_entry *e;
	enum invoke_type type = INVOKE_REQUEST_RESPONSE;

	ensure_history(st);
	history_changed(st);
	if (!(e = selected_entry(st))) {
		app_message(st->p->app, APP_MSG_WARN, "nothing to replay yet");
		return;
	}
	if (e->invocation_type)
		invoke_type_parse(e->invocation_type, &type);
	send_event(st, e->function, e->event_name, e->event ? e->event : "{}",
	           e->event ? strlen(e->event) : 2, e->qualifier, type);
}

/* ---- editing -------------------------------------------------------------------------- */

static void on_editor_done(void *ud, int status, const struct lk_error *err)
{
	struct playground *st = ud;
	struct lk_error e = {0};
	bool changed = false;
	char *name = st->edit_name;

	st->edit_name = NULL;
	if (!name)
		return;
	if (status != 0) {
		app_message(st->p->app, APP_MSG_WARN, "editor failed%s%s; nothing saved",
		            err && lk_error_is_set(err) ? ": " : "",
		            err && lk_error_is_set(err) ? err->message : "");
	} else if (events_edit_finish(app_project(st->p->app)->dir, st->function, name, &changed,
	                              &e) < 0) {
		app_message(st->p->app, APP_MSG_ERROR, "%s", e.message);
		textview_clear(st->out);
		textview_appendf(st->out, THEME_FAIL, 0, "%s", e.message);
	} else {
		app_message(st->p->app, APP_MSG_INFO, "%s events/%s/%s.json",
		            changed ? "saved" : "unchanged", st->function, name);
	}
	reload_items(st, name);
	free(name);
}

static void edit_event(struct playground *st, const char *name)
{
	struct lk_error err = {0};
	char *scratch = NULL;

	if (app_refuse_if_read_only(st->p->app, "editing"))
		return;
	if (!st->function)
		return;
	if (events_edit_begin(app_project(st->p->app)->dir, st->function, name, &scratch, &err) <
	    0) {
		app_message(st->p->app, APP_MSG_ERROR, "%s", err.message);
		return;
	}
	free(st->edit_name);
	st->edit_name = xstrdup(name);
	if (app_edit_file(st->p->app, scratch, 1, false, on_editor_done, st) < 0) {
		free(st->edit_name);
		st->edit_name = NULL;
	}
	free(scratch);
}

static void form_free(struct playground *st)
{
	for (size_t i = 0; i < st->form.i; i++)
		free((char *)st->form.kv[i].value);
	free(st->form.kv);
	free(st->form.name);
	memset(&st->form, 0, sizeof(st->form));
}

static void form_next(struct playground *st);

static void on_form_value(void *ud, const char *text)
{
	struct playground *st = ud;

	if (!text) {
		form_free(st);
		app_message(st->p->app, APP_MSG_INFO, "cancelled");
		return;
	}
	st->form.kv[st->form.i].name = st->form.t->params[st->form.i].name;
	st->form.kv[st->form.i].value = xstrdup(text);
	st->form.i++;
	form_next(st);
}

/* Asks the next parameter, or creates the event when all were given. */
static void form_next(struct playground *st)
{
	struct lk_error err = {0};
	const struct event_param *pp;
	char *q;

	if (st->form.i < st->form.t->n_params) {
		pp = &st->form.t->params[st->form.i];
		q = xasprintf("%s (%s)", pp->name, pp->help);
		app_prompt(st->p->app, q, pp->def, on_form_value, st);
		free(q);
		return;
	}
	if (events_new_from_template(app_project(st->p->app)->dir, st->function, st->form.name,
	                             st->form.t, st->form.kv, st->form.i, &err) < 0) {
		app_message(st->p->app, APP_MSG_ERROR, "%s", err.message);
	} else {
		app_message(st->p->app, APP_MSG_INFO, "created events/%s/%s.json", st->function,
		            st->form.name);
		reload_items(st, st->form.name);
	}
	form_free(st);
}

static void on_new_name(void *ud, const char *text)
{
	struct playground *st = ud;
	const struct item *it = selected(st);

	if (!text || !*text)
		return;
	if (!events_name_ok(text)) {
		app_message(st->p->app, APP_MSG_ERROR,
		            "'%s' is not a usable event name (A-Z a-z 0-9 . _ -)", text);
		return;
	}
	{
		char *path = events_path(app_project(st->p->app)->dir, st->function, text);
		bool exists = path && util_is_file(path);
		free(path);
		if (exists) {
			app_message(st->p->app, APP_MSG_ERROR, "events/%s/%s.json already exists",
			            st->function, text);
			return;
		}
	}
	if (it && it->kind == ITEM_TEMPLATE) {
		form_free(st);
		st->form.t = it->t;
		st->form.name = xstrdup(text);
		st->form.kv = xcalloc(it->t->n_params + 1, sizeof(*st->form.kv));
		form_next(st);
	} else {
		edit_event(st, text); /* a new event starts as {} in the editor */
	}
}

static void on_rename(void *ud, const char *text)
{
	struct playground *st = ud;
	struct lk_error err = {0};
	char *old = st->pending;

	st->pending = NULL;
	if (text && *text && old && strcmp(text, old)) {
		if (events_rename(app_project(st->p->app)->dir, st->function, old, text, &err) < 0)
			app_message(st->p->app, APP_MSG_ERROR, "%s", err.message);
		else
			reload_items(st, text);
	}
	free(old);
}

static void on_duplicate(void *ud, const char *text)
{
	struct playground *st = ud;
	struct lk_error err = {0};
	char *old = st->pending;

	st->pending = NULL;
	if (text && *text && old) {
		if (events_duplicate(app_project(st->p->app)->dir, st->function, old, text, &err) <
		    0)
			app_message(st->p->app, APP_MSG_ERROR, "%s", err.message);
		else
			reload_items(st, text);
	}
	free(old);
}

static void on_delete(void *ud, bool yes)
{
	struct playground *st = ud;
	struct lk_error err = {0};
	char *name = st->pending;

	st->pending = NULL;
	if (yes && name) {
		if (events_delete(app_project(st->p->app)->dir, st->function, name, &err) < 0)
			app_message(st->p->app, APP_MSG_ERROR, "%s", err.message);
		else
			app_message(st->p->app, APP_MSG_INFO, "deleted events/%s/%s.json",
			            st->function, name);
		reload_items(st, NULL);
	}
	free(name);
}

static void on_snapshot_name(void *ud, const char *text)
{
	struct playground *st = ud;
	struct lk_error err = {0};

	if (!text || !*text || !st->have_last)
		return;
	if (snapshot_save(app_project(st->p->app)->dir, st->last_function, text, st->last_event,
	                  strlen(st->last_event), st->last_qualifier, &st->last, &err) < 0)
		app_message(st->p->app, APP_MSG_ERROR, "%s", err.message);
	else
		app_message(st->p->app, APP_MSG_INFO, "snapshot saved: events/%s/%s.snapshot.json",
		            st->last_function, text);
	reload_items(st, NULL);
}

static void on_qualifier(void *ud, const char *text)
{
	struct playground *st = ud;

	if (!text)
		return;
	free(st->qualifier);
	st->qualifier = *text ? xstrdup(text) : NULL;
	app_mark_dirty(st->p);
}

/* Event name proposals: "name-copy", "name-2"... the first free one. */
static char *free_name(struct playground *st, const char *base, const char *suffix)
{
	for (int i = 1; i < 100; i++) {
		char *n =
		    i == 1 ? xasprintf("%s%s", base, suffix) : xasprintf("%s%s%d", base, suffix, i);
		char *path = events_path(app_project(st->p->app)->dir, st->function, n);
		bool taken = !path || util_is_file(path);
		free(path);
		if (!taken)
			return n;
		free(n);
	}
	return xstrdup(base);
}

/* ---- pane ops ------------------------------------------------------------------------- */

static void free_handle(uv_handle_t *h)
{
	free(h);
}

static int playground_init(struct pane *p, struct lk_error *err)
{
	struct playground *st = xcalloc(1, sizeof(*st));

	(void)err;
	st->p = p;
	st->out = textview_new(5000);
	st->slow = xcalloc(1, sizeof(*st->slow));
	uv_timer_init(app_loop(p->app), st->slow);
	st->slow->data = st;
	p->state = st;
	pick_function(st);
	textview_appendf(st->out, THEME_DIM, 0, "s/Enter send  a new  e edit  h history  ? keys");
	return 0;
}

static void playground_destroy(struct pane *p)
{
	struct playground *st = state(p);

	if (st->job)
		app_job_finish(st->job, false, NULL);
	invoke_ctx_free(st->ctx); /* ends the invocation without calling back */
	uv_timer_stop(st->slow);
	uv_close((uv_handle_t *)st->slow, free_handle);
	free(st->sending);
	history_watch_free(st->watch);
	history_clear(&st->hist);
	free(st->hidx);
	free_items(st);
	clear_last(st);
	form_free(st);
	free(st->function);
	free(st->qualifier);
	free(st->edit_name);
	free(st->pending);
	textview_free(st->out);
	free(st);
}

static int list_rows(struct pane *p)
{
	int rows = (p->rows - 1) * 2 / 5;

	if (rows < 2)
		rows = p->rows > 3 ? 2 : 1;
	return rows;
}

static void draw_header(struct pane *p, struct playground *st)
{
	char buf[256];

	wmove(p->win, 0, 0);
	wattrset(p->win, theme_attr(THEME_HEADER));
	if (st->view == PG_HISTORY)
		snprintf(buf, sizeof(buf), "History (%s) %zu  %s",
		         st->filter_fn && st->function ? st->function : "all functions", st->hn,
		         "r replay  = diff  f filter  h events");
	else
		snprintf(buf, sizeof(buf), "%s  %s%s%s",
		         st->function ? st->function : "(no function)", invoke_type_name(st->type),
		         st->qualifier ? "  :" : "", st->qualifier ? st->qualifier : "");
	put(p->win, buf, p->cols);
	wattrset(p->win, theme_attr(THEME_NORMAL));
}

static void draw_events(struct pane *p, struct playground *st, int rows)
{
	if (st->sel < st->top)
		st->top = st->sel;
	if (st->sel >= st->top + (size_t)rows)
		st->top = st->sel - (size_t)rows + 1;
	for (int y = 0; y < rows && st->top + (size_t)y < st->n_items; y++) {
		const struct item *it = &st->items[st->top + (size_t)y];
		bool cur = st->top + (size_t)y == st->sel;
		char buf[256];
		wmove(p->win, 1 + y, 0);
		wattrset(p->win, theme_attr(cur && p->focused ? THEME_SELECTED : THEME_NORMAL));
		if (it->kind == ITEM_EVENT)
			snprintf(buf, sizeof(buf), "%s %s%s%s",
			         cur ? theme_glyph(THEME_GLYPH_PLAY) : " ", it->name,
			         it->snapshot ? "  [snapshot]" : "",
			         it->recovery ? "  [unsaved edit]" : "");
		else
			snprintf(buf, sizeof(buf), "%s %s (template)",
			         cur ? theme_glyph(THEME_GLYPH_PLAY) : " ", it->name);
		if (it->kind == ITEM_TEMPLATE && !(cur && p->focused))
			wattrset(p->win, theme_attr(THEME_DIM));
		put(p->win, buf, p->cols);
		if (cur && p->focused)
			for (int x = getcurx(p->win); x < p->cols && getcury(p->win) == 1 + y; x++)
				waddch(p->win, ' ');
	}
	wattrset(p->win, theme_attr(THEME_NORMAL));
}

static void draw_history(struct pane *p, struct playground *st, int rows)
{
	if (st->hsel < st->htop)
		st->htop = st->hsel;
	if (st->hsel >= st->htop + (size_t)rows)
		st->htop = st->hsel - (size_t)rows + 1;
	if (!st->hn) {
		wmove(p->win, 1, 1);
		wattrset(p->win, theme_attr(THEME_DIM));
		put(p->win, "(no invocations yet)", p->cols - 1);
	}
	for (int y = 0; y < rows && st->htop + (size_t)y < st->hn; y++) {
		size_t k = st->htop + (size_t)y;
		const struct history_entry *e = &st->hist.entries[st->hidx[k]];
		bool cur = k == st->hsel;
		char when[16], buf[256], res[64];
		time_t t = (time_t)(e->time_ms / 1000);
		struct tm tm;
		localtime_r(&t, &tm);
		strftime(when, sizeof(when), "%H:%M:%S", &tm);
		if (e->error_code)
			snprintf(res, sizeof(res), "FAILED");
		else if (e->function_error)
			snprintf(res, sizeof(res), "%d %s", e->status, e->function_error);
		else
			snprintf(res, sizeof(res), "%d", e->status);
		snprintf(buf, sizeof(buf), "%s %s %s %s %s", when, e->function,
		         e->event_name ? e->event_name : "-", res,
		         e->mode && !strcmp(e->mode, "aws") ? "aws" : "");
		wmove(p->win, 1 + y, 0);
		wattrset(p->win, theme_attr(cur && p->focused         ? THEME_SELECTED
		                            : history_entry_failed(e) ? THEME_FAIL
		                                                      : THEME_NORMAL));
		put(p->win, buf, p->cols);
	}
	wattrset(p->win, theme_attr(THEME_NORMAL));
}

static void playground_draw(struct pane *p)
{
	struct playground *st = state(p);
	int rows = list_rows(p);

	if (p->rows < 1)
		return;
	draw_header(p, st);
	if (st->view == PG_HISTORY)
		draw_history(p, st, rows);
	else
		draw_events(p, st, rows);
	if (p->rows > rows + 2) {
		wmove(p->win, rows + 1, 0);
		wattrset(p->win, theme_attr(THEME_BORDER));
		for (int x = 0; x < p->cols; x++)
			waddstr(p->win, theme_glyph(THEME_GLYPH_HLINE));
		wattrset(p->win, theme_attr(THEME_NORMAL));
		textview_draw(st->out, p->win, rows + 2, 0, p->rows - rows - 2, p->cols, false);
	}
}

static int list_move(struct playground *st, enum request req, int rows)
{
	size_t *sel = st->view == PG_HISTORY ? &st->hsel : &st->sel;
	size_t n = st->view == PG_HISTORY ? st->hn : st->n_items;

	if (!n)
		return PANE_HANDLED;
	switch (req) {
	case REQ_MOVE_UP:
		if (*sel > 0)
			(*sel)--;
		break;
	case REQ_MOVE_DOWN:
		if (*sel + 1 < n)
			(*sel)++;
		break;
	case REQ_PAGE_UP:
	case REQ_HALF_PAGE_UP:
		*sel = *sel > (size_t)rows ? *sel - (size_t)rows : 0;
		break;
	case REQ_PAGE_DOWN:
	case REQ_HALF_PAGE_DOWN:
		*sel = *sel + (size_t)rows < n ? *sel + (size_t)rows : n - 1;
		break;
	case REQ_MOVE_TOP:
		*sel = 0;
		break;
	case REQ_MOVE_BOTTOM:
		*sel = n - 1;
		break;
	default:
		return PANE_UNHANDLED;
	}
	if (st->view == PG_HISTORY)
		show_entry(st, selected_entry(st));
	return PANE_REDRAW;
}

static int playground_request(struct pane *p, enum request req)
{
	struct playground *st = state(p);
	const struct item *it = selected(st);
	int rows = list_rows(p);
	int r;

	if ((r = list_move(st, req, rows)) != PANE_UNHANDLED)
		return r;
	switch (req) {
	case REQ_ENTER:
	case REQ_PLAYGROUND_SEND:
		send_selected(st); /* draws when the answer is there (or after 60 ms) */
		return PANE_HANDLED;
	case REQ_EDIT:
		if (st->view == PG_EVENTS && it && it->kind == ITEM_EVENT)
			edit_event(st, it->name);
		else
			app_message(p->app, APP_MSG_INFO,
			            "templates are read-only: a (new) makes an event from one");
		return PANE_HANDLED;
	case REQ_PLAYGROUND_NEW:
		if (app_refuse_if_read_only(p->app, "creating events") || !st->function)
			return PANE_HANDLED;
		{
			char *name =
			    free_name(st, it && it->kind == ITEM_TEMPLATE ? it->name : "event", "");
			app_prompt(p->app,
			           it && it->kind == ITEM_TEMPLATE ? "new event from template, name"
			                                           : "new event name",
			           name, on_new_name, st);
			free(name);
		}
		return PANE_HANDLED;
	case REQ_PLAYGROUND_RENAME:
	case REQ_PLAYGROUND_DUPLICATE:
	case REQ_PLAYGROUND_DELETE:
		if (!it || it->kind != ITEM_EVENT) {
			app_message(p->app, APP_MSG_INFO, "select a saved event first");
			return PANE_HANDLED;
		}
		if (app_refuse_if_read_only(p->app, "changing events"))
			return PANE_HANDLED;
		free(st->pending);
		st->pending = xstrdup(it->name);
		if (req == REQ_PLAYGROUND_RENAME) {
			app_prompt(p->app, "rename to", it->name, on_rename, st);
		} else if (req == REQ_PLAYGROUND_DUPLICATE) {
			char *n = free_name(st, it->name, "-copy");
			app_prompt(p->app, "duplicate as", n, on_duplicate, st);
			free(n);
		} else {
			char *q = xasprintf("delete events/%s/%s.json%s?", st->function, it->name,
			                    it->snapshot ? " and its snapshot" : "");
			app_confirm(p->app, q, on_delete, st);
			free(q);
		}
		return PANE_HANDLED;
	case REQ_PLAYGROUND_HISTORY:
		ensure_history(st);
		history_changed(st);
		st->view = st->view == PG_HISTORY ? PG_EVENTS : PG_HISTORY;
		if (st->view == PG_HISTORY) {
			st->hsel = 0;
			show_entry(st, selected_entry(st));
		}
		return PANE_REDRAW;
	case REQ_PLAYGROUND_REPLAY:
		replay(st);
		return PANE_REDRAW;
	case REQ_PLAYGROUND_DIFF:
		ensure_history(st);
		history_changed(st);
		if (st->view == PG_HISTORY) {
			show_diff(st, selected_entry(st));
		} else {
			/* The newest invocation of the selected event. */
			const struct history_entry *e = NULL;
			const char *want = it ? it->name : NULL;
			char *tname = it && it->kind == ITEM_TEMPLATE
			                  ? xasprintf("template:%s", it->name)
			                  : NULL;
			for (size_t i = st->hist.n; i-- > 0 && want;) {
				const struct history_entry *h = &st->hist.entries[i];
				if (st->function && !strcmp(h->function, st->function) &&
				    h->event_name && !strcmp(h->event_name, tname ? tname : want)) {
					e = h;
					break;
				}
			}
			free(tname);
			show_diff(st, e);
		}
		return PANE_REDRAW;
	case REQ_PLAYGROUND_FILTER:
		ensure_history(st);
		st->filter_fn = !st->filter_fn;
		st->hsel = 0;
		rebuild_hidx(st);
		if (st->view == PG_HISTORY)
			show_entry(st, selected_entry(st));
		return PANE_REDRAW;
	case REQ_PLAYGROUND_SNAPSHOT:
		if (app_refuse_if_read_only(p->app, "saving snapshots"))
			return PANE_HANDLED;
		if (!st->have_last) {
			app_message(p->app, APP_MSG_WARN,
			            "invoke first: a snapshot saves the last "
			            "invocation");
			return PANE_HANDLED;
		}
		{
			const char *base =
			    st->last_event_name && !strncmp(st->last_event_name, "template:", 9)
			        ? st->last_event_name + 9
			        : st->last_event_name;
			app_prompt(p->app, "save snapshot as",
			           base && events_name_ok(base) ? base : "snapshot",
			           on_snapshot_name, st);
		}
		return PANE_HANDLED;
	case REQ_PLAYGROUND_TYPE:
		st->type =
		    st->type == INVOKE_REQUEST_RESPONSE ? INVOKE_EVENT : INVOKE_REQUEST_RESPONSE;
		app_message(p->app, APP_MSG_INFO, "invocation type: %s",
		            invoke_type_name(st->type));
		return PANE_REDRAW;
	case REQ_PLAYGROUND_QUALIFIER:
		app_prompt(p->app, "qualifier (version or alias, empty = $LATEST)", st->qualifier,
		           on_qualifier, st);
		return PANE_HANDLED;
	case REQ_PLAYGROUND_SCROLL_UP:
		textview_request(st->out, REQ_PAGE_UP, p->rows - rows - 2);
		return PANE_REDRAW;
	case REQ_PLAYGROUND_SCROLL_DOWN:
		textview_request(st->out, REQ_PAGE_DOWN, p->rows - rows - 2);
		return PANE_REDRAW;
	case REQ_REFRESH:
		reload_items(st, NULL);
		if (st->hist_loaded)
			history_changed(st);
		return PANE_REDRAW;
	default:
		return PANE_UNHANDLED;
	}
}

static void playground_event(struct pane *p, enum app_event ev)
{
	struct playground *st = state(p);

	switch (ev) {
	case APP_EVENT_SELECTION:
		pick_function(st);
		if (st->filter_fn && st->hist_loaded)
			rebuild_hidx(st);
		app_mark_dirty(p);
		break;
	case APP_EVENT_PROJECT:
		/* The context borrows the project: drop it (a running invocation is cancelled
		 * and reported), a new one is made on the next send. */
		if (st->op) {
			struct invoke_op *op = st->op;
			invoke_cancel(op);
			if (st->op == op) {
				st->op = NULL;
				if (st->job)
					app_job_finish(st->job, false,
					               "invocation dropped: project reloaded");
				st->job = NULL;
			}
		}
		invoke_ctx_free(st->ctx);
		st->ctx = NULL;
		free(st->function);
		st->function = NULL;
		pick_function(st);
		break;
	case APP_EVENT_EDITOR_RETURN:
		reload_items(st, NULL);
		break;
	default:
		break;
	}
}

static const char *playground_status(struct pane *p, char *buf, size_t len)
{
	struct playground *st = state(p);
	size_t n = 0;

	for (size_t i = 0; i < st->n_items; i++)
		n += st->items[i].kind == ITEM_EVENT;
	if (st->op)
		snprintf(buf, len, "invoking");
	else
		snprintf(buf, len, "%zu event%s", n, n == 1 ? "" : "s");
	return buf;
}

/* Mouse: a click on the event list (or the history) selects that row; the wheel scrolls
 * the response under the pointer, and over the list gets the shell's default (move
 * requests: the selection moves). */
static int playground_mouse(struct pane *p, const struct pane_mouse *m)
{
	struct playground *st = state(p);
	bool hist = st->view == PG_HISTORY;
	size_t i = (hist ? st->htop : st->top) + (size_t)(m->y - 1);

	if (m->kind != PANE_MOUSE_CLICK && m->y > list_rows(p) + 1) {
		textview_scroll(st->out, m->kind == PANE_MOUSE_WHEEL_UP ? -PANE_WHEEL_LINES
		                                                        : PANE_WHEEL_LINES);
		return PANE_REDRAW;
	}
	if (m->kind != PANE_MOUSE_CLICK)
		return PANE_UNHANDLED;
	if (m->y < 1 || m->y > list_rows(p) || i >= (hist ? st->hn : st->n_items))
		return PANE_HANDLED;
	if (hist) {
		st->hsel = i;
		show_entry(st, selected_entry(st));
	} else {
		st->sel = i;
	}
	return PANE_REDRAW;
}

const struct pane_ops pane_playground_ops = {
    .name = "playground",
    .title = "Playground",
    .init = playground_init,
    .destroy = playground_destroy,
    .draw = playground_draw,
    .request = playground_request,
    .event = playground_event,
    .status = playground_status,
    .mouse = playground_mouse,
};
