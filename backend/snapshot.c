/* snapshot.c - replaying every snapshot of a project through invoke.h and comparing the
 * responses (comparison and files: snapshot_file.c). See snapshot.h. */
#include "backend/snapshot.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/events.h"

static void add_diff(struct snapshot_outcome *o, const char *path, const cJSON *e, const cJSON *a)
{
	char *es = e ? cJSON_PrintUnformatted(e) : xstrdup("(missing)");
	char *as = a ? cJSON_PrintUnformatted(a) : xstrdup("(missing)");

	o->diffs = xrealloc(o->diffs, (o->n_diffs + 1) * sizeof(*o->diffs));
	o->diffs[o->n_diffs].path = xstrdup(path);
	o->diffs[o->n_diffs].expected = es;
	o->diffs[o->n_diffs].actual = as;
	o->n_diffs++;
}

/* ---- replay-all ---------------------------------------------------------------------- */

struct snapshot_item {
	char *function;
	char *name;
	char *path;
};

struct snapshot_run {
	struct invoke_ctx *ctx;
	struct snapshot_item *items;
	size_t n, next;
	struct snapshot_report report;
	snapshot_progress_fn progress;
	snapshot_done_fn done;
	void *user;
	struct invoke_op *op;
	cJSON *current; /* the snapshot being replayed */
	bool cancelled;
	uint64_t t0;
	uv_timer_t start; /* defers the first step to the loop: callbacks never run inside
	                     snapshot_run_start */
};

static int cmp_items(const void *a, const void *b)
{
	const struct snapshot_item *x = a, *y = b;
	int c = strcmp(x->function, y->function);

	return c ? c : strcmp(x->name, y->name);
}

static void collect(const char *project_dir, const char *function, struct snapshot_item **items,
                    size_t *n)
{
	char *dir = xasprintf("%s/events/%s", project_dir, function);
	DIR *d = opendir(dir);
	struct dirent *de;

	if (d) {
		while ((de = readdir(d))) {
			size_t len = strlen(de->d_name);
			const char *suffix = ".snapshot.json";
			size_t sl = strlen(suffix);
			char *name;
			if (len <= sl || strcmp(de->d_name + len - sl, suffix))
				continue;
			name = xstrndup(de->d_name, len - sl);
			if (!events_name_ok(name)) {
				free(name);
				continue;
			}
			*items = xrealloc(*items, (*n + 1) * sizeof(**items));
			(*items)[*n].function = xstrdup(function);
			(*items)[*n].name = name;
			(*items)[*n].path = xasprintf("%s/%s", dir, de->d_name);
			(*n)++;
		}
		closedir(d);
	}
	free(dir);
}

static void run_free(struct snapshot_run *run)
{
	for (size_t i = 0; i < run->n; i++) {
		free(run->items[i].function);
		free(run->items[i].name);
		free(run->items[i].path);
	}
	free(run->items);
	snapshot_report_clear(&run->report);
	cJSON_Delete(run->current);
	free(run);
}

static struct snapshot_outcome *new_outcome(struct snapshot_run *run, struct snapshot_item *it)
{
	struct snapshot_outcome *o;

	run->report.items =
	    xrealloc(run->report.items, (run->report.n + 1) * sizeof(*run->report.items));
	o = &run->report.items[run->report.n++];
	memset(o, 0, sizeof(*o));
	o->function = xstrdup(it->function);
	o->name = xstrdup(it->name);
	o->file = xasprintf("events/%s/%s.snapshot.json", it->function, it->name);
	o->client_ms = -1;
	return o;
}

static void outcome_done(struct snapshot_run *run, struct snapshot_outcome *o)
{
	if (o->error)
		run->report.errors++;
	else if (o->passed)
		run->report.passed++;
	else
		run->report.failed++;
	if (run->progress)
		run->progress(o, run->report.n, run->n, run->user);
}

static void run_next(struct snapshot_run *run);
static void run_finish(struct snapshot_run *run);

/* Compares the replay's result with the snapshot's expectation. */
static void on_replayed(const struct invoke_result *r, void *user)
{
	struct snapshot_run *run = user;
	struct snapshot_item *it = &run->items[run->next - 1];
	struct snapshot_outcome *o = new_outcome(run, it);
	const cJSON *exp = cJSON_GetObjectItemCaseSensitive(run->current, "expected");
	const cJSON *ign = cJSON_GetObjectItemCaseSensitive(run->current, "ignore");
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(exp, "status");
	const cJSON *fe = cJSON_GetObjectItemCaseSensitive(exp, "functionError");
	const cJSON *resp = cJSON_GetObjectItemCaseSensitive(exp, "response");
	const char **ignore = NULL;
	size_t n_ignore = 0;
	cJSON *actual = NULL;

	run->op = NULL;
	o->client_ms = r->client_ms;
	if (lk_error_is_set(&r->err)) {
		o->error = xasprintf("%s: %s", r->err.code, r->err.message);
		goto out;
	}
	if (cJSON_IsNumber(st) && util_double_to_int(st->valuedouble) != r->status) {
		cJSON *a = cJSON_CreateNumber(r->status);
		add_diff(o, "status", st, a);
		cJSON_Delete(a);
	}
	{
		const char *want = cJSON_IsString(fe) ? fe->valuestring : NULL;
		const char *got = r->function_error;
		if ((want || got) && (!want || !got || strcmp(want, got))) {
			cJSON *w = want ? cJSON_CreateString(want) : cJSON_CreateNull();
			cJSON *g = got ? cJSON_CreateString(got) : cJSON_CreateNull();
			add_diff(o, "functionError", w, g);
			cJSON_Delete(w);
			cJSON_Delete(g);
		}
	}
	if (cJSON_IsArray(ign)) {
		const cJSON *x;
		ignore = xcalloc((size_t)cJSON_GetArraySize(ign) + 1, sizeof(*ignore));
		cJSON_ArrayForEach(x, ign) if (cJSON_IsString(x)) ignore[n_ignore++] =
		    x->valuestring;
	}
	actual = r->payload_len ? cJSON_ParseWithLength(r->payload, r->payload_len) : NULL;
	if (!actual)
		actual = cJSON_CreateString(r->payload ? r->payload : "");
	if (resp)
		snapshot_compare(resp, actual, ignore, n_ignore, &o->diffs, &o->n_diffs);
	o->passed = o->n_diffs == 0;
	free(ignore);
	cJSON_Delete(actual);
out:
	cJSON_Delete(run->current);
	run->current = NULL;
	outcome_done(run, o);
	run_next(run); /* or finishes the run when cancelled / nothing is left */
}

static void on_run_closed(uv_handle_t *h)
{
	run_free(h->data);
}

static void run_finish(struct snapshot_run *run)
{
	run->report.total_ms = (double)(util_monotonic_ns() - run->t0) / 1e6;
	if (run->done)
		run->done(&run->report, run->user);
	uv_close((uv_handle_t *)&run->start, on_run_closed);
}

static void on_start(uv_timer_t *t)
{
	run_next(t->data);
}

/* Starts the next snapshot; loops over the ones that fail before sending. */
static void run_next(struct snapshot_run *run)
{
	while (run->next < run->n && !run->cancelled) {
		struct snapshot_item *it = &run->items[run->next++];
		struct buf text = {0};
		struct lk_error err = {0};
		const cJSON *payload, *type, *qual;
		struct invoke_request req = {0};
		char *event = NULL;

		if (util_read_file(it->path, &text, &err) < 0 ||
		    events_validate_json(text.data, text.len, it->path, &err) < 0) {
			struct snapshot_outcome *o = new_outcome(run, it);
			o->error = xstrdup(err.message);
			outcome_done(run, o);
			buf_free(&text);
			continue;
		}
		run->current = cJSON_Parse(text.data);
		buf_free(&text);
		payload = cJSON_GetObjectItemCaseSensitive(run->current, "payload");
		type = cJSON_GetObjectItemCaseSensitive(run->current, "invocationType");
		qual = cJSON_GetObjectItemCaseSensitive(run->current, "qualifier");
		if (!payload ||
		    !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(run->current, "expected"))) {
			struct snapshot_outcome *o = new_outcome(run, it);
			o->error = xasprintf(
			    "%s: not a snapshot (needs \"payload\" and \"expected\")", o->file);
			outcome_done(run, o);
			cJSON_Delete(run->current);
			run->current = NULL;
			continue;
		}
		event = cJSON_PrintUnformatted(payload);
		req.function = it->function;
		req.qualifier = cJSON_IsString(qual) ? qual->valuestring : NULL;
		req.event_name = it->name;
		req.payload = event;
		req.payload_len = strlen(event);
		req.no_history = true;
		if (!cJSON_IsString(type) || invoke_type_parse(type->valuestring, &req.type) < 0)
			req.type = INVOKE_REQUEST_RESPONSE;
		run->op = invoke_start(run->ctx, &req, on_replayed, run, &err);
		free(event);
		if (run->op)
			return; /* on_replayed continues (it may already have run) */
		{
			struct snapshot_outcome *o = new_outcome(run, it);
			o->error = xasprintf("%s: %s", err.code, err.message);
			outcome_done(run, o);
			cJSON_Delete(run->current);
			run->current = NULL;
		}
	}
	if (run->op)
		return;
	run_finish(run);
}

struct snapshot_run *snapshot_run_start(struct invoke_ctx *ctx, const struct project *project,
                                        const char *function_filter, snapshot_progress_fn progress,
                                        snapshot_done_fn done, void *user, struct lk_error *err)
{
	struct snapshot_run *run;

	if (function_filter && !project_find(project, function_filter)) {
		lk_error_set(err, "UnknownFunction", "unknown function '%s'", function_filter);
		return NULL;
	}
	run = xcalloc(1, sizeof(*run));
	run->ctx = ctx;
	run->progress = progress;
	run->done = done;
	run->user = user;
	run->t0 = util_monotonic_ns();
	for (size_t i = 0; i < project->n_functions; i++) {
		const char *fn = project->functions[i].name;
		if ((!function_filter || !strcmp(fn, function_filter)) && events_function_ok(fn))
			collect(project->dir, fn, &run->items, &run->n);
	}
	if (run->n)
		qsort(run->items, run->n, sizeof(*run->items), cmp_items);
	uv_timer_init(invoke_ctx_loop(ctx), &run->start);
	run->start.data = run;
	uv_timer_start(&run->start, on_start, 0, 0);
	return run;
}

void snapshot_run_cancel(struct snapshot_run *run)
{
	if (!run)
		return;
	run->cancelled = true;
	/* on_replayed records the cancelled one and finishes the run (now or, during a deploy
	 * step, when it has stopped); run must not be touched after this. */
	if (run->op)
		invoke_cancel(run->op);
}

struct sync_run {
	bool done;
	struct snapshot_report *out;
};

static void on_sync_done(const struct snapshot_report *r, void *user)
{
	struct sync_run *s = user;

	/* Take the report over; the run frees an emptied one. */
	*s->out = *r;
	memset((struct snapshot_report *)r, 0, sizeof(*r));
	s->done = true;
}

int snapshot_run_sync(struct invoke_ctx *ctx, const struct project *project,
                      const char *function_filter, struct snapshot_report *report,
                      struct lk_error *err)
{
	struct sync_run s = {.out = report};

	memset(report, 0, sizeof(*report));
	if (!snapshot_run_start(ctx, project, function_filter, NULL, on_sync_done, &s, err))
		return -1;
	while (!s.done)
		uv_run(invoke_ctx_loop(ctx), UV_RUN_ONCE);
	uv_run(invoke_ctx_loop(ctx), UV_RUN_NOWAIT); /* lets the run's handle close */
	return 0;
}
