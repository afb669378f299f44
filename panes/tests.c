/* tests.c - the Tests pane: the project's test roots (lambdeck.json "test" or detected on
 * the thread pool, see testrun_plan_detect; the header says which rule chose them),
 * re-run on save, counts and failures, Enter on a failure (or on any output line naming a
 * file:line) opens the editor there, the output with scrollback, the last runs.
 *
 * Layout: one header line (result at a glance, trigger, watch state), then one text view
 * holding, after a run, the failures (tag = failure index + 1) followed by the output
 * (tag 0); while a run goes, the output streams into it. The title shows the last result and
 * the command. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backend/fswatch.h"
#include "backend/invoke.h"
#include "backend/snapshot.h"
#include "backend/testrun.h"
#include "tui/app.h"

#define TESTS_VIEW_LINES  20000
#define TAG_HISTORY_BASE  1000000 /* history view: tag = base + index */
#define TAG_SNAPSHOT_BASE 2000000 /* snapshot failures: tag = base + index */

struct tests_pane {
	struct pane *p;
	struct testrun *tr;
	struct app_job *job; /* while the command runs: q asks first, quitting cancels it */
	struct textview *tv;
	char *source;                  /* the rule(s) that chose the command, shown in the header */
	struct detect_job *detect_job; /* detecting the test roots on the thread pool */
	bool detect_again;             /* the project changed again while detecting */
	bool detect_first;
	bool want_watch;
	bool history_view;
	long shown; /* history index shown in the view (-1: the current run) */
	char *watch_error;
	/* snapshot tests (events/F/NAME.snapshot.json), replayed after each run when present */
	struct snapshot_run *snap_run;
	bool snap_again;
	bool has_snap;
	struct testrun_result snap;
	uv_timer_t snap_timer;
	/* runs of other processes on the project (.lambdeck/tests/, testrun.h "sharing") */
	struct fswatch *share_watch;
	struct share_job *share_job; /* reading the shared files on the thread pool */
	bool share_again;            /* changed again while reading */
	char *foreign_running;       /* "console pid 123: on save: app.py" while it runs */
	int64_t adopted_ms;          /* finishedMs of the last adopted run */
};

struct detect_job {
	uv_work_t req;
	struct tests_pane *t; /* NULL once the pane is gone */
	struct project proj;  /* the parts detection reads, copied */
	struct testrun_plan plan;
};

struct share_job {
	uv_work_t req;
	struct tests_pane *t; /* NULL once the pane is gone */
	char *dir;
	struct testrun_shared s;
	struct lk_error err;
	int rc;
};

static struct tests_pane *state(struct pane *p)
{
	return p->state;
}

static const struct testrun_result *shown_result(struct tests_pane *t)
{
	if (t->shown >= 0)
		return testrun_history(t->tr, (size_t)t->shown);
	return testrun_current(t->tr);
}

/* Path shown for a failure: relative to the project when inside it. */
static const char *display_path(struct tests_pane *t, const struct testrun_failure *f)
{
	if (!t->tr)
		return f->path ? f->path : f->file;
	const char *dir = testrun_dir(t->tr);
	size_t dl = strlen(dir);
	if (f->path && !strncmp(f->path, dir, dl) && f->path[dl] == '/')
		return f->path + dl + 1;
	return f->path ? f->path : f->file;
}

/* Short test name for the list: "test_refund" for "tests/x.py::Cls::test_refund" and
 * "tests.x.Cls.test_refund"; names with blanks or '/' (jest, go subtests) stay whole. */
static const char *short_name(const char *name)
{
	const char *colons = NULL;
	for (const char *p = strstr(name, "::"); p; p = strstr(p + 2, "::"))
		colons = p;
	if (colons)
		return colons + 2;
	if (strpbrk(name, " /[("))
		return name;
	const char *dot = strrchr(name, '.');
	return dot && dot[1] ? dot + 1 : name;
}

/* The warning of a run that ran no tests, in short lines (the view does not wrap): a new
 * line at each "; " and before " but ". */
static void show_warning(struct tests_pane *t, const char *w)
{
	const char *prefix = "warning: ";
	while (*w) {
		const char *semi = strstr(w, "; "), *but = strstr(w, " but ");
		const char *cut = semi && (!but || semi < but) ? semi : but;
		size_t n = cut ? (size_t)(cut - w) : strlen(w);
		textview_appendf(t->tv, THEME_WARN, 0, "%s%.*s", prefix, (int)n, w);
		prefix = "  ";
		w += n;
		if (cut == semi && cut)
			w += 2;
		else if (cut)
			w += 1; /* keep "but ..." */
	}
}

/* The colour of a result: green passed, yellow no tests ran, red otherwise. */
static enum theme_role status_role(enum testrun_status s)
{
	return s == TESTRUN_PASSED ? THEME_OK : s == TESTRUN_NO_TESTS ? THEME_WARN : THEME_FAIL;
}

/* Fills the view with a finished run: failures first, then its output (the last lines that
 * fit, so the failures are never the lines the bound drops). */
static void show_result(struct tests_pane *t, const struct testrun_result *r)
{
	textview_clear(t->tv);
	if (!r)
		return;
	const char *cross = theme_glyph(THEME_GLYPH_CROSS);
	size_t first_snap = 0;
	for (size_t i = 0; i < r->n_failures; i++) {
		const struct testrun_failure *f = &r->failures[i];
		const char *path = display_path(t, f);
		const char *name = short_name(f->name);
		if (path && f->line)
			textview_appendf(t->tv, THEME_FAIL, (int64_t)i + 1, "%s %s:%d  %s", cross,
			                 path, f->line, name);
		else if (path)
			textview_appendf(t->tv, THEME_FAIL, (int64_t)i + 1, "%s %s  %s", cross,
			                 path, name);
		else
			textview_appendf(t->tv, THEME_FAIL, (int64_t)i + 1, "%s %s", cross,
			                 f->name);
		if (f->message && *f->message)
			textview_appendf(t->tv, THEME_DIM, (int64_t)i + 1, "    %s", f->message);
	}
	if (r->failures_truncated)
		textview_appendf(t->tv, THEME_DIM, 0, "(more than %d failures: see the output)",
		                 TESTRUN_MAX_FAILURES);
	if (r->error)
		textview_appendf(t->tv, THEME_FAIL, 0, "%s", r->error);
	for (size_t i = 0; r->n_roots > 1 && i < r->n_roots; i++) {
		const struct testrun_root_result *x = &r->roots[i];
		struct buf b = {0};
		testrun_root_summary(x, theme_ascii(), &b);
		textview_appendf(t->tv, status_role(x->status), 0, "%s: %s  (%s)", x->dir,
		                 b.data ? b.data : "", x->command ? x->command : "");
		buf_free(&b);
	}
	if (r->warning)
		show_warning(t, r->warning);
	if (r->note)
		textview_appendf(t->tv, THEME_WARN, 0, "note: %s", r->note);
	if (t->shown < 0 && (t->has_snap || t->snap_run)) {
		struct buf b = {0};
		if (t->snap_run)
			buf_puts(&b, "replaying…");
		else
			testrun_result_summary(&t->snap, theme_ascii(), &b);
		textview_appendf(t->tv, THEME_HEADER, 0, "%s snapshots: %s",
		                 theme_glyph(THEME_GLYPH_HLINE), b.data ? b.data : "");
		buf_free(&b);
		first_snap = textview_count(t->tv);
		for (size_t i = 0; !t->snap_run && i < t->snap.n_failures; i++) {
			const struct testrun_failure *f = &t->snap.failures[i];
			textview_appendf(t->tv, THEME_FAIL, TAG_SNAPSHOT_BASE + (int64_t)i,
			                 "%s %s  %s", cross, f->file ? f->file : "", f->name);
			if (f->message && *f->message)
				textview_appendf(t->tv, THEME_DIM, TAG_SNAPSHOT_BASE + (int64_t)i,
				                 "    %s", f->message);
		}
	}
	char how[32];
	if (r->term_signal)
		snprintf(how, sizeof(how), "signal %d", r->term_signal);
	else if (r->exit_status >= 0)
		snprintf(how, sizeof(how), "exit %d", r->exit_status);
	else
		snprintf(how, sizeof(how), "not started");
	textview_appendf(t->tv, THEME_HEADER, 0, "%s output of run #%u: %s (%s) %s",
	                 theme_glyph(THEME_GLYPH_HLINE), r->id, r->command ? r->command : "", how,
	                 theme_glyph(THEME_GLYPH_HLINE));
	if (t->source)
		textview_appendf(t->tv, THEME_DIM, 0, "chosen by: %s", t->source);
	size_t room = TESTS_VIEW_LINES - textview_count(t->tv) - 1;
	size_t from = r->n_lines > room ? r->n_lines - room : 0;
	if (from || r->dropped_lines)
		textview_appendf(t->tv, THEME_DIM, 0, "[%llu earlier lines not shown]",
		                 (unsigned long long)(from + r->dropped_lines));
	for (size_t i = from; i < r->n_lines; i++)
		textview_append(t->tv, r->lines[i], strlen(r->lines[i]), THEME_NORMAL, 0);
	/* the first failure is where the user wants to be; else the end of the output */
	bool snap_fail = t->shown < 0 && t->has_snap && !t->snap_run && t->snap.n_failures;
	if (r->n_failures)
		textview_set_cursor(t->tv, 0);
	else if (snap_fail)
		textview_set_cursor(t->tv, first_snap);
	else
		textview_set_cursor(t->tv, textview_count(t->tv) - 1);
}

static void show_history(struct tests_pane *t)
{
	textview_clear(t->tv);
	size_t n = testrun_history_count(t->tr);
	if (!n) {
		textview_appendf(t->tv, THEME_DIM, 0, "No finished runs yet.");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const struct testrun_result *r = testrun_history(t->tr, i);
		struct buf b = {0};
		char when[16] = "";
		time_t sec = (time_t)(r->started_ms / 1000);
		struct tm tm;
		if (localtime_r(&sec, &tm))
			strftime(when, sizeof(when), "%H:%M:%S", &tm);
		testrun_result_summary(r, theme_ascii(), &b);
		enum theme_role role = status_role(r->status);
		textview_appendf(t->tv, role, TAG_HISTORY_BASE + (int64_t)i, "#%-3u %s  %s  %s",
		                 r->id, when, b.data ? b.data : "", r->trigger ? r->trigger : "");
		buf_free(&b);
	}
	textview_set_cursor(t->tv, 0);
}

/* --- testrun callbacks ------------------------------------------------------------------- */

static void cancel_run(void *ud)
{
	struct tests_pane *t = ud;

	testrun_cancel(t->tr); /* on_finish ends the job */
}

/* A run is a job of the console (status bar, C-x, q asks, quitting cancels it). */
static void run_job_begin(struct tests_pane *t, const char *trigger)
{
	if (!t->job)
		t->job = app_job_start(t->p->app, "tests", cancel_run, t);
	app_job_progress(t->job, trigger, 0, 0);
}

static void run_job_end(struct tests_pane *t)
{
	if (t->job)
		app_job_finish(t->job, true, NULL); /* the result is in the pane */
	t->job = NULL;
}

static void on_start(struct testrun *tr, const struct testrun_result *r, void *user)
{
	struct tests_pane *t = user;
	(void)tr;
	if (r->status != TESTRUN_RUNNING)
		return;
	run_job_begin(t, r->trigger);
	t->shown = -1;
	t->history_view = false;
	textview_clear(t->tv);
	textview_appendf(t->tv, THEME_HEADER, 0, "%s run #%u (%s): %s",
	                 theme_glyph(THEME_GLYPH_PLAY), r->id, r->trigger, r->command);
	if (t->source)
		textview_appendf(t->tv, THEME_DIM, 0, "chosen by: %s", t->source);
	app_mark_dirty(t->p);
}

static void on_line(struct testrun *tr, const char *line, void *user)
{
	struct tests_pane *t = user;
	(void)tr;
	if (t->shown >= 0 || t->history_view)
		return;
	textview_append(t->tv, line, strlen(line), THEME_NORMAL, 0);
	app_mark_dirty(t->p);
}

static void start_snapshots(struct tests_pane *t);

static void on_finish(struct testrun *tr, const struct testrun_result *r, void *user)
{
	struct tests_pane *t = user;
	(void)tr;
	run_job_end(t);
	if (r->status != TESTRUN_CANCELLED && testrun_has_snapshots(testrun_dir(t->tr)))
		start_snapshots(t);
	if (!t->history_view && t->shown < 0)
		show_result(t, r);
	else if (t->history_view)
		show_history(t);
	app_mark_dirty(t->p);
}

static void on_snap_timer(uv_timer_t *timer);

static void on_snapshots_done(const struct snapshot_report *rep, void *user)
{
	struct tests_pane *t = user;
	t->snap_run = NULL;
	testrun_from_snapshots(rep, testrun_dir(t->tr), &t->snap);
	t->has_snap = true;
	if (!t->history_view && t->shown < 0 && !testrun_running(t->tr))
		show_result(t, testrun_current(t->tr));
	/* Replay again (a run finished meanwhile): outside this callback, which runs inside
	 * one of the invoke context's operations. */
	if (t->snap_again)
		uv_timer_start(&t->snap_timer, on_snap_timer, 0, 0);
	app_mark_dirty(t->p);
}

/* Replays the snapshot tests (after a run of the test command). */
static void start_snapshots(struct tests_pane *t)
{
	struct lk_error err = {0};
	struct invoke_ctx *ctx;

	if (t->snap_run) {
		t->snap_again = true;
		return;
	}
	t->snap_again = false;
	if (!(ctx = session_invoke(app_session(t->p->app), &err))) {
		app_message(t->p->app, APP_MSG_ERROR, "tests: snapshots: %s", err.message);
		return;
	}
	t->snap_run =
	    snapshot_run_start(ctx, app_project(t->p->app), NULL, NULL, on_snapshots_done, t, &err);
	if (!t->snap_run)
		app_message(t->p->app, APP_MSG_ERROR, "tests: snapshots: %s", err.message);
	app_mark_dirty(t->p);
}

static void on_snap_timer(uv_timer_t *timer)
{
	struct tests_pane *t = timer->data;

	if (t->snap_again)
		start_snapshots(t);
}

static const struct testrun_callbacks callbacks = {
    .on_start = on_start,
    .on_line = on_line,
    .on_finish = on_finish,
};

/* --- setup ---------------------------------------------------------------------------------- */

static void set_watch(struct tests_pane *t, bool on)
{
	struct lk_error err = {0};
	free(t->watch_error);
	t->watch_error = NULL;
	if (testrun_set_watch(t->tr, on, &err) != 0) {
		t->watch_error = xstrdup(err.message);
		app_message(t->p->app, APP_MSG_ERROR, "tests: cannot watch: %s", err.message);
	}
	t->want_watch = on;
}

/* (Re)creates the runner for the current project; keeps the watch setting. */
/* --- runs of other processes -------------------------------------------------------------- */

static void share_start(struct tests_pane *t);

static void share_work(uv_work_t *req)
{
	struct share_job *j = req->data;
	j->rc = testrun_shared_read(j->dir, &j->s, &j->err);
}

static void share_done(uv_work_t *req, int status)
{
	struct share_job *j = req->data;
	struct tests_pane *t = j->t;

	if (t && status == 0) {
		const struct testrun_shared *s = &j->s;
		t->share_job = NULL;
		free(t->foreign_running);
		t->foreign_running = NULL;
		if (s->running && s->running_pid != getpid())
			t->foreign_running =
			    xasprintf("%s pid %d: %s", s->running_by ? s->running_by : "?",
			              s->running_pid, s->running_trigger ? s->running_trigger : "");
		if (s->has_last && s->last_pid != getpid() && s->last_finished_ms > t->adopted_ms) {
			t->adopted_ms = s->last_finished_ms;
			testrun_adopt(t->tr, s);
			if (!testrun_running(t->tr) && !t->history_view && t->shown < 0) {
				show_result(t, testrun_current(t->tr));
				if (testrun_has_snapshots(testrun_dir(t->tr)))
					start_snapshots(t);
			} else if (t->history_view) {
				show_history(t);
			}
		}
		if (j->rc < 0)
			app_message(t->p->app, APP_MSG_WARN, "tests: %s", j->err.message);
		app_mark_dirty(t->p);
		if (t->share_again) {
			t->share_again = false;
			share_start(t);
		}
	}
	testrun_shared_clear(&j->s);
	free(j->dir);
	free(j);
}

static void share_start(struct tests_pane *t)
{
	struct share_job *j;

	if (t->share_job) {
		t->share_again = true;
		return;
	}
	j = xcalloc(1, sizeof(*j));
	j->t = t;
	j->req.data = j;
	j->dir = xstrdup(testrun_dir(t->tr));
	if (uv_queue_work(app_loop(t->p->app), &j->req, share_work, share_done) < 0) {
		free(j->dir);
		free(j);
		return;
	}
	t->share_job = j;
}

static void share_event(struct fswatch *w, const struct fswatch_batch *b, void *user)
{
	(void)w;
	(void)b;
	share_start(user);
}

/* Follows .lambdeck/tests/ of the project (created if missing). */
static void share_watch(struct tests_pane *t)
{
	struct fswatch_opts o = {.debounce_ms = 50, .max_wait_ms = 300};
	char *dir = testrun_share_dir(testrun_dir(t->tr));
	struct lk_error err;

	fswatch_free(t->share_watch);
	t->share_watch = NULL;
	if (util_mkdir_p(dir, 0777, &err) < 0 ||
	    fswatch_new(app_loop(t->p->app), dir, &o, share_event, t, &t->share_watch, &err) < 0)
		app_message(t->p->app, APP_MSG_WARN,
		            "tests: not following runs of other consoles: %s", err.message);
	free(dir);
	share_start(t);
}

static void make_runner(struct tests_pane *t, bool first);

static void detect_work(uv_work_t *req)
{
	struct detect_job *j = req->data;
	testrun_plan_detect(j->proj.dir, &j->proj, &j->plan);
}

static void detect_job_free(struct detect_job *j)
{
	testrun_plan_clear(&j->plan);
	free(j->proj.dir);
	testrun_argv_free(j->proj.test_argv);
	for (size_t i = 0; i < j->proj.n_functions; i++)
		free(j->proj.functions[i].code_dir);
	free(j->proj.functions);
	free(j);
}

/* The rules that chose the plan, for the header: "pytest: ..." or "2 roots: a (rule); ...". */
static char *plan_source(const struct testrun_plan *pl)
{
	struct buf b = {0};
	if (pl->n == 1)
		buf_puts(&b, pl->roots[0].rule);
	else if (pl->n > 1)
		buf_printf(&b, "%zu roots:", pl->n);
	for (size_t i = 0; pl->n > 1 && i < pl->n; i++)
		buf_printf(&b, "%s %s (%s)", i ? ";" : "", pl->roots[i].rel, pl->roots[i].rule);
	buf_append(&b, "", 0);
	struct buf clean = {0};
	util_sanitize(b.data, strlen(b.data), false, false, &clean);
	buf_append(&clean, "", 0);
	buf_free(&b);
	return buf_steal(&clean);
}

/* The plan arrived: (re)creates the runner unless it is the same; keeps the watch setting. */
static void detect_done(uv_work_t *req, int status)
{
	struct detect_job *j = req->data;
	struct tests_pane *t = j->t;
	struct project *proj;
	struct testrun_opts o = {.timeout_ms = 600000, .share_as = "console"};

	if (!t || status != 0) {
		detect_job_free(j);
		return;
	}
	t->detect_job = NULL;
	if (t->detect_again) { /* the project changed meanwhile: this plan is stale */
		t->detect_again = false;
		detect_job_free(j);
		make_runner(t, t->detect_first);
		return;
	}
	proj = app_project(t->p->app);
	char *src = plan_source(&j->plan);
	if (t->tr && !t->detect_first) {
		char *cmd = testrun_plan_command(&j->plan);
		bool same =
		    !strcmp(cmd, testrun_command(t->tr)) && !strcmp(testrun_dir(t->tr), proj->dir);
		free(cmd);
		if (same) {
			free(t->source);
			t->source = src;
			detect_job_free(j);
			app_mark_dirty(t->p);
			return;
		}
	}
	bool first = t->detect_first;
	run_job_end(t);
	testrun_free(t->tr);
	t->tr = testrun_new_plan(app_loop(t->p->app), &j->plan, &o, &callbacks, t);
	detect_job_free(j);
	free(t->source);
	t->source = src;
	t->shown = -1;
	t->history_view = false;
	textview_clear(t->tv);
	t->adopted_ms = 0;
	share_watch(t);
	app_mark_dirty(t->p);
	if (app_read_only(t->p->app)) {
		textview_appendf(t->tv, THEME_DIM, 0, "read-only: test runs are disabled.");
		return;
	}
	set_watch(t, t->want_watch);
	testrun_start(t->tr, first ? "console start" : "project reloaded", NULL);
}

/* Detects the project's test roots on the thread pool (it reads the tree and probes
 * interpreters); the runner is made when the plan arrives. */
static void make_runner(struct tests_pane *t, bool first)
{
	struct project *proj = app_project(t->p->app);

	if (t->detect_job) {
		t->detect_again = true;
		t->detect_first = t->detect_first || first;
		return;
	}
	struct detect_job *j = xcalloc(1, sizeof(*j));
	j->t = t;
	j->req.data = j;
	j->proj.dir = xstrdup(proj->dir);
	j->proj.test_argv = proj->test_argv ? testrun_argv_dup(proj->test_argv) : NULL;
	j->proj.functions = xcalloc(proj->n_functions + 1, sizeof(*j->proj.functions));
	for (size_t i = 0; i < proj->n_functions; i++)
		j->proj.functions[i].code_dir = xstrdup(proj->functions[i].code_dir);
	j->proj.n_functions = proj->n_functions;
	t->detect_first = first;
	if (uv_queue_work(app_loop(t->p->app), &j->req, detect_work, detect_done) < 0) {
		detect_job_free(j);
		app_message(t->p->app, APP_MSG_ERROR, "tests: cannot detect the test command");
		return;
	}
	t->detect_job = j;
}

static int tests_init(struct pane *p, struct lk_error *err)
{
	(void)err;
	struct tests_pane *t = xcalloc(1, sizeof(*t));
	t->p = p;
	t->tv = textview_new(TESTS_VIEW_LINES);
	t->want_watch = true;
	t->shown = -1;
	uv_timer_init(app_loop(p->app), &t->snap_timer);
	t->snap_timer.data = t;
	p->state = t;
	make_runner(t, true);
	return 0;
}

static void free_state(uv_handle_t *h)
{
	free(h->data);
}

static void tests_destroy(struct pane *p)
{
	struct tests_pane *t = state(p);
	if (!t)
		return;
	snapshot_run_abandon(t->snap_run); /* ends what is in flight without callbacks */
	t->snap_run = NULL;
	fswatch_free(t->share_watch);
	if (t->share_job)
		t->share_job->t = NULL; /* share_done frees it */
	if (t->detect_job)
		t->detect_job->t = NULL; /* detect_done frees it */
	free(t->foreign_running);
	run_job_end(t);
	testrun_free(t->tr); /* kills a running group; handles close on the next loop pass */
	testrun_result_clear(&t->snap);
	textview_free(t->tv);
	free(t->source);
	free(t->watch_error);
	p->state = NULL;
	/* the timer is closed asynchronously: t is freed from its close callback */
	uv_close((uv_handle_t *)&t->snap_timer, free_state);
}

/* --- drawing -------------------------------------------------------------------------------- */

static void tests_draw(struct pane *p)
{
	struct tests_pane *t = state(p);
	const struct testrun_result *r = shown_result(t);
	struct buf b = {0};
	enum theme_role role = THEME_DIM;

	if (testrun_running(t->tr) && t->shown < 0) {
		buf_printf(&b, "%s running", theme_glyph(THEME_GLYPH_PLAY));
		if (testrun_rerun_queued(t->tr))
			buf_puts(&b, " (+1 queued)");
		role = THEME_WARN;
	} else if (t->foreign_running && t->shown < 0 && !t->history_view) {
		buf_printf(&b, "%s running in %s", theme_glyph(THEME_GLYPH_PLAY),
		           t->foreign_running);
		role = THEME_WARN;
	} else if (r) {
		testrun_result_summary(r, theme_ascii(), &b);
		role = status_role(r->status);
	} else if (!t->tr) {
		buf_puts(&b, theme_ascii() ? "detecting the test command..."
		                           : "detecting the test command…");
	} else {
		buf_puts(&b, app_read_only(p->app) ? "read-only" : "not run yet");
	}
	if (t->shown < 0 && (t->snap_run || t->has_snap)) {
		if (t->snap_run) {
			buf_puts(&b, "  snapshots…");
		} else {
			buf_printf(
			    &b, "  snapshots %s %d/%d",
			    theme_glyph(t->snap.status == TESTRUN_PASSED ? THEME_GLYPH_CHECK
			                                                 : THEME_GLYPH_CROSS),
			    t->snap.passed, t->snap.passed + t->snap.failed + t->snap.errors);
			if (t->snap.status != TESTRUN_PASSED && role == THEME_OK)
				role = THEME_FAIL;
		}
	}
	if (r && r->trigger && !(testrun_running(t->tr) && t->shown < 0) &&
	    !(t->foreign_running && t->shown < 0 && !t->history_view))
		buf_printf(&b, "  %s", r->trigger);
	if (t->shown >= 0 && r)
		buf_printf(&b, "  [run #%u from history]", r->id);
	if (t->source && !t->history_view) /* which rule chose the command, in short */
		buf_printf(&b, "  via %.*s", (int)strcspn(t->source, ";"), t->source);
	/* the watch state is always visible at the right; the summary gets the rest */
	const char *mode = t->history_view           ? "history"
	                   : testrun_watching(t->tr) ? "watch on"
	                   : t->watch_error          ? "watch failed"
	                                             : "watch off";
	int w = theme_text_width(mode);
	int room = p->cols - 2;
	if (room > w + 4) {
		wmove(p->win, 0, p->cols - w - 1);
		wattrset(p->win, theme_attr(THEME_DIM));
		theme_put_clipped(p->win, mode, w);
		room -= w + 2;
	}
	wmove(p->win, 0, 1);
	wattrset(p->win, theme_attr(role));
	theme_put_clipped(p->win, b.data ? b.data : "", room);
	wattrset(p->win, theme_attr(THEME_NORMAL));
	buf_free(&b);
	if (p->rows > 1)
		textview_draw(t->tv, p->win, 1, 0, p->rows - 1, p->cols, p->focused);
}

/* Title: the result at a glance and the command. */
static const char *tests_status(struct pane *p, char *out, size_t len)
{
	struct tests_pane *t = state(p);
	const struct testrun_result *r = testrun_current(t->tr);
	struct buf b = {0};

	if (!t->tr)
		return NULL;
	if (testrun_running(t->tr))
		buf_puts(&b, theme_ascii() ? "running..." : "running…");
	else if (r && r->status != TESTRUN_IDLE) {
		struct buf s = {0};
		testrun_result_summary(r, theme_ascii(), &s);
		/* drop the duration in the title: it is in the header line */
		char *dur = s.data ? strstr(s.data, "  ") : NULL;
		if (dur)
			*dur = '\0';
		buf_puts(&b, s.data ? s.data : "");
		buf_free(&s);
	}
	buf_printf(&b, "%s%s%s", b.len ? " " : "", b.len ? theme_glyph(THEME_GLYPH_SEPARATOR) : "",
	           b.len ? " " : "");
	buf_puts(&b, testrun_command(t->tr));
	if (testrun_watching(t->tr))
		buf_puts(&b, " (on save)");
	snprintf(out, len, "%s", b.data ? b.data : "");
	buf_free(&b);
	return out;
}

/* --- requests ------------------------------------------------------------------------------- */

static void on_search(void *ud, const char *text)
{
	struct pane *p = ud;
	struct tests_pane *t = state(p);
	if (!text)
		return;
	if (!textview_search(t->tv, text) && *text)
		app_message(p->app, APP_MSG_WARN, "not found: %s", text);
	app_mark_dirty(p);
}

static int open_location(struct tests_pane *t, const char *path, int line)
{
	if (!path) {
		app_message(t->p->app, APP_MSG_WARN,
		            "tests: the file of this failure was not found");
		return PANE_HANDLED;
	}
	app_edit_file(t->p->app, path, line, app_read_only(t->p->app), NULL, NULL);
	return PANE_REDRAW;
}

/* Enter: a failure -> its file:line; an output line naming an existing file:line -> there;
 * a history entry -> that run. */
static int activate(struct tests_pane *t)
{
	size_t cur = textview_cursor(t->tv);
	int64_t tag = 0;
	const char *text = textview_line(t->tv, cur, NULL, &tag);
	if (!text)
		return PANE_HANDLED;
	if (t->history_view) {
		if (tag >= TAG_HISTORY_BASE) {
			t->history_view = false;
			t->shown = (long)(tag - TAG_HISTORY_BASE);
			show_result(t, testrun_history(t->tr, (size_t)t->shown));
		}
		return PANE_REDRAW;
	}
	if (tag >= TAG_SNAPSHOT_BASE && (size_t)(tag - TAG_SNAPSHOT_BASE) < t->snap.n_failures) {
		const struct testrun_failure *f = &t->snap.failures[tag - TAG_SNAPSHOT_BASE];
		return open_location(t, f->path, 0);
	}
	const struct testrun_result *r = shown_result(t);
	if (tag > 0 && r && (size_t)tag <= r->n_failures) {
		const struct testrun_failure *f = &r->failures[tag - 1];
		return open_location(t, f->path, f->line);
	}
	char *file = NULL;
	int line = 0;
	if (testrun_find_location(text, &file, &line)) {
		char *path = testrun_resolve_file(testrun_dir(t->tr), file);
		int rc = path ? open_location(t, path, line) : PANE_HANDLED;
		if (!path)
			app_message(t->p->app, APP_MSG_WARN, "tests: %s not found", file);
		free(path);
		free(file);
		return rc;
	}
	return PANE_HANDLED;
}

/* Moves the cursor to the next/previous failure line (tag change). */
static void jump_failure(struct tests_pane *t, int dir)
{
	size_t n = textview_count(t->tv), cur = textview_cursor(t->tv);
	int64_t here = 0;
	textview_line(t->tv, cur, NULL, &here);
	for (size_t k = 1; k <= n; k++) {
		size_t i = dir > 0 ? cur + k : cur - k;
		if (dir < 0 && k > cur)
			break;
		if (i >= n)
			break;
		int64_t tag = 0;
		textview_line(t->tv, i, NULL, &tag);
		if (tag > 0 && tag < TAG_HISTORY_BASE && tag != here) {
			/* first line of that failure */
			while (i > 0) {
				int64_t prev = 0;
				textview_line(t->tv, i - 1, NULL, &prev);
				if (prev != tag)
					break;
				i--;
			}
			textview_set_cursor(t->tv, i);
			return;
		}
	}
}

static int tests_request(struct pane *p, enum request req)
{
	struct tests_pane *t = state(p);

	if (!t->tr && (req == REQ_TESTS_RUN || req == REQ_REFRESH || req == REQ_TESTS_WATCH ||
	               req == REQ_TESTS_CANCEL || req == REQ_ENTER || req == REQ_EDIT)) {
		app_message(p->app, APP_MSG_INFO, "tests: still detecting the test command");
		return PANE_HANDLED;
	}

	switch (req) {
	case REQ_TESTS_RUN:
	case REQ_REFRESH:
		if (app_refuse_if_read_only(p->app, "running tests"))
			return PANE_HANDLED;
		{
			struct lk_error err;
			int rc = testrun_start(t->tr, "manual", &err);
			if (rc == 1)
				app_message(p->app, APP_MSG_INFO,
				            "tests: a re-run is queued after this run");
			else if (rc == 2)
				app_message(p->app, APP_MSG_WARN, "tests: %s", err.message);
			return PANE_REDRAW;
		}
	case REQ_TESTS_WATCH:
		if (app_refuse_if_read_only(p->app, "watching for changes"))
			return PANE_HANDLED;
		set_watch(t, !testrun_watching(t->tr));
		if (!t->watch_error)
			app_message(p->app, APP_MSG_INFO, "tests: re-run on save %s%s",
			            testrun_watching(t->tr) ? "on" : "off",
			            testrun_watch_problem(t->tr) ? " (some directories not watched)"
			                                         : "");
		app_mark_dirty(p);
		return PANE_REDRAW;
	case REQ_TESTS_CANCEL:
		if (!testrun_running(t->tr)) {
			app_message(p->app, APP_MSG_INFO, "tests: nothing is running");
			return PANE_HANDLED;
		}
		testrun_cancel(t->tr);
		app_message(p->app, APP_MSG_INFO, "tests: cancelling");
		return PANE_REDRAW;
	case REQ_TESTS_NEXT_FAILURE:
	case REQ_TESTS_PREV_FAILURE:
		jump_failure(t, req == REQ_TESTS_NEXT_FAILURE ? 1 : -1);
		return PANE_REDRAW;
	case REQ_TESTS_OUTPUT: {
		int64_t tag = 0;
		textview_line(t->tv, textview_cursor(t->tv), NULL, &tag);
		if (tag > 0 || textview_cursor(t->tv) + 1 >= textview_count(t->tv))
			textview_request(t->tv, tag > 0 ? REQ_MOVE_BOTTOM : REQ_MOVE_TOP,
			                 p->rows - 1);
		else
			textview_request(t->tv, REQ_MOVE_BOTTOM, p->rows - 1);
		return PANE_REDRAW;
	}
	case REQ_TESTS_HISTORY:
		t->history_view = !t->history_view;
		if (t->history_view)
			show_history(t);
		else {
			t->shown = -1;
			show_result(t, testrun_running(t->tr) ? NULL : testrun_current(t->tr));
		}
		return PANE_REDRAW;
	case REQ_BACK:
		if (t->history_view || t->shown >= 0) {
			t->history_view = false;
			t->shown = -1;
			show_result(t, testrun_running(t->tr) ? NULL : testrun_current(t->tr));
			return PANE_REDRAW;
		}
		return PANE_UNHANDLED;
	case REQ_ENTER:
	case REQ_EDIT:
		return activate(t);
	case REQ_SEARCH:
		app_prompt(p->app, "search tests output:", NULL, on_search, p);
		return PANE_HANDLED;
	default:
		if (textview_request(t->tv, req, p->rows - 1))
			return PANE_REDRAW;
		return PANE_UNHANDLED;
	}
}

static void tests_event(struct pane *p, enum app_event ev)
{
	struct tests_pane *t = state(p);
	if (ev == APP_EVENT_PROJECT) {
		/* A replay in flight goes on: the session's invoke context follows the reload. */
		make_runner(t, false);
		app_mark_dirty(p);
	} else if (ev == APP_EVENT_EDITOR_RETURN) {
		app_mark_dirty(p);
	}
}

/* Mouse: a click selects the output line under the pointer, the wheel scrolls the output. */
static int tests_mouse(struct pane *p, const struct pane_mouse *m)
{
	struct tests_pane *t = state(p);

	if (m->kind == PANE_MOUSE_CLICK)
		return textview_click(t->tv, m->y - 1) ? PANE_REDRAW : PANE_HANDLED;
	textview_scroll(t->tv,
	                m->kind == PANE_MOUSE_WHEEL_UP ? -PANE_WHEEL_LINES : PANE_WHEEL_LINES);
	return PANE_REDRAW;
}

const struct pane_ops pane_tests_ops = {
    .name = "tests",
    .title = "Tests",
    .init = tests_init,
    .destroy = tests_destroy,
    .draw = tests_draw,
    .request = tests_request,
    .event = tests_event,
    .status = tests_status,
    .mouse = tests_mouse,
};
