/* testrun.c - choosing and running the project's test command: uv_spawn in its own process
 * group, merged stdout+stderr through one pipe, bounded sanitised output, timeout, cancel
 * (SIGTERM to the group, SIGKILL after a grace), re-run on save with exactly one queued
 * rerun, results parsed from a JUnit report or the output. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <dirent.h>

#include "backend/childguard.h"
#include "backend/fswatch.h"
#include "backend/testrun_internal.h"

extern char **environ;

/* --- argv helpers ------------------------------------------------------------------------- */

char **testrun_argv_dup(char *const *argv)
{
	size_t n = 0;
	while (argv && argv[n])
		n++;
	char **out = xcalloc(n + 1, sizeof(*out));
	for (size_t i = 0; i < n; i++)
		out[i] = xstrdup(argv[i]);
	return out;
}

char **testrun_argv_make(const char *a, ...)
{
	va_list ap;
	size_t n = 0;
	char **out = xcalloc(16, sizeof(*out));

	va_start(ap, a);
	for (const char *s = a; s && n < 15; s = va_arg(ap, const char *))
		out[n++] = xstrdup(s);
	va_end(ap);
	return out;
}

void testrun_argv_free(char **argv)
{
	for (size_t i = 0; argv && argv[i]; i++)
		free(argv[i]);
	free(argv);
}

char *testrun_argv_join(char *const *argv)
{
	struct buf b = {0};

	for (size_t i = 0; argv && argv[i]; i++) {
		const char *a = argv[i];
		bool plain = *a != '\0';
		for (const char *p = a; *p; p++)
			if (!(isalnum((unsigned char)*p) || strchr("-_./=:,+@%", *p)))
				plain = false;
		if (i)
			buf_putc(&b, ' ');
		if (plain) {
			buf_puts(&b, a);
		} else {
			buf_putc(&b, '\'');
			for (const char *p = a; *p; p++) {
				if (*p == '\'')
					buf_puts(&b, "'\\''");
				else
					buf_putc(&b, *p);
			}
			buf_putc(&b, '\'');
		}
	}
	struct buf clean = {0};
	util_sanitize(b.data ? b.data : "", b.len, false, false, &clean);
	buf_append(&clean, "", 0); /* util_sanitize leaves an empty buffer unterminated */
	buf_free(&b);
	return buf_steal(&clean);
}

/* --- resolving failure locations ------------------------------------------------------------- */

static char *real_file(const char *p)
{
	char buf[PATH_MAX];
	if (util_is_file(p) && realpath(p, buf))
		return xstrdup(buf);
	return NULL;
}

static char *go_module(const char *dir)
{
	char *p = util_path_join(dir, "go.mod");
	struct buf b = {0};
	char *mod = NULL;
	if (util_read_file(p, &b, NULL) == 0 && b.data) {
		for (char *l = b.data; l && *l;) {
			char *nl = strchr(l, '\n');
			if (!strncmp(l, "module ", 7)) {
				char *s = l + 7;
				while (*s == ' ' || *s == '\t')
					s++;
				size_t n = strcspn(s, " \t\r\n\"");
				mod = xstrndup(s, n);
				break;
			}
			l = nl ? nl + 1 : NULL;
		}
	}
	buf_free(&b);
	free(p);
	return mod;
}

/* Breadth-first search under dir for a file whose relative path ends with "/suffix" (or
 * equals it); bounded, skipping the watcher's ignored directories. */
static char *search_suffix(const char *dir, const char *suffix)
{
	char **queue = xcalloc(1, sizeof(*queue));
	size_t head = 0, n = 1, cap = 1, visited = 0;
	size_t sl = strlen(suffix);
	char *found = NULL;

	queue[0] = xstrdup(dir);
	while (head < n && !found && visited < 20000) {
		char *d = queue[head++];
		DIR *dp = opendir(d);
		struct dirent *de;
		while (dp && (de = readdir(dp)) && !found && visited < 20000) {
			visited++;
			if (de->d_name[0] == '.' && (!de->d_name[1] || !strcmp(de->d_name, "..")))
				continue;
			if (fswatch_default_ignored(de->d_name))
				continue;
			char *p = util_path_join(d, de->d_name);
			size_t pl = strlen(p);
			if (de->d_type == DT_DIR) {
				if (n == cap)
					queue = xrealloc(queue, (cap *= 2) * sizeof(*queue));
				queue[n++] = p;
				continue;
			}
			if (pl > sl && p[pl - sl - 1] == '/' && !strcmp(p + pl - sl, suffix))
				found = real_file(p);
			free(p);
		}
		if (dp)
			closedir(dp);
	}
	for (size_t i = 0; i < n; i++)
		free(queue[i]);
	free(queue);
	return found;
}

char *testrun_resolve_file(const char *dir, const char *file)
{
	if (!file || !*file)
		return NULL;
	if (!strncmp(file, "file://", 7))
		file += 7;
	if (file[0] == '/')
		return real_file(file);
	while (!strncmp(file, "./", 2))
		file += 2;
	char *p = util_path_join(dir, file);
	char *r = real_file(p);
	free(p);
	if (r)
		return r;
	char *mod = go_module(dir);
	if (mod) {
		size_t ml = strlen(mod);
		if (!strncmp(file, mod, ml) && file[ml] == '/') {
			p = util_path_join(dir, file + ml + 1);
			r = real_file(p);
			free(p);
		}
		free(mod);
		if (r)
			return r;
	}
	/* "pkg/path/x_test.go" with an unknown module, or a bare name: search by suffix */
	r = search_suffix(dir, file);
	if (!r && strchr(file, '/'))
		r = search_suffix(dir, strrchr(file, '/') + 1);
	return r;
}

/* --- the runner ------------------------------------------------------------------------------ */

/* One child process with its pipe; outlives the testrun when freed mid-run (the handles
 * close asynchronously). */
struct run_ctx {
	struct testrun *tr; /* NULL once detached */
	uv_process_t proc;
	uv_pipe_t pipe;
	int open_handles;
	bool exited, eof, proc_started, pipe_started;
	int pgid;
	char readbuf[65536];
};

struct testrun {
	uv_loop_t *loop;
	char *dir;
	char **argv; /* the current root's (roots[root_i].argv) */
	char *command;
	/* the suite: its roots run one after the other into one result */
	struct testrun_root *roots;
	size_t n_roots, root_i;
	size_t root_first; /* lines[root_first..n) are the current root's output */
	struct testrun_opts opts;
	char *report_path; /* absolute, or NULL */
	struct testrun_callbacks cbs;
	void *user;

	uv_timer_t timeout_timer, kill_timer, drain_timer;
	int open_timers;
	bool freed;

	struct run_ctx *ctx; /* the running child, NULL when idle */
	enum { KILL_NONE, KILL_CANCEL, KILL_TIMEOUT } kill_reason;
	bool queued;
	char *queued_trigger;
	unsigned next_id;

	struct testrun_result cur;
	bool has_cur;
	uint64_t start_ns;
	/* output store of the running run: lines[first..n) are live */
	char **lines;
	size_t first, n, cap;
	size_t bytes;
	struct line_splitter splitter;

	struct testrun_result *history; /* newest first */
	size_t n_history;

	struct fswatch *watch;

	/* the run ended but the cause of a root's "no tests ran" is being found on the thread
	 * pool: still counts as running; open_timers counts the job so tr outlives it */
	bool finishing;

	char *share_as; /* opts.share_as copied; NULL: not shared */
	int lock_fd;    /* run lock held for the current run, -1 when none */
};

static void ctx_handle_closed(uv_handle_t *h)
{
	struct run_ctx *c = h->data;
	if (--c->open_handles == 0)
		free(c);
}

static void ctx_close(struct run_ctx *c)
{
	if (c->proc_started && !uv_is_closing((uv_handle_t *)&c->proc))
		uv_close((uv_handle_t *)&c->proc, ctx_handle_closed);
	if (c->pipe_started && !uv_is_closing((uv_handle_t *)&c->pipe))
		uv_close((uv_handle_t *)&c->pipe, ctx_handle_closed);
	if (c->open_handles == 0)
		free(c);
}

static void store_line(const char *line, size_t len, void *ud)
{
	struct testrun *tr = ud;
	size_t max = tr->opts.max_output_bytes;

	if (tr->n == tr->cap) {
		if (tr->first > tr->cap / 2) { /* compact instead of growing */
			memmove(tr->lines, tr->lines + tr->first,
			        (tr->n - tr->first) * sizeof(*tr->lines));
			tr->n -= tr->first;
			tr->root_first -= tr->root_first > tr->first ? tr->first : tr->root_first;
			tr->first = 0;
		} else {
			tr->cap = tr->cap ? tr->cap * 2 : 256;
			tr->lines = xrealloc(tr->lines, tr->cap * sizeof(*tr->lines));
		}
	}
	tr->lines[tr->n++] = xstrndup(line, len);
	tr->bytes += len + 1;
	while (tr->bytes > max && tr->n - tr->first > 1) {
		tr->bytes -= strlen(tr->lines[tr->first]) + 1;
		free(tr->lines[tr->first++]);
		tr->cur.dropped_lines++;
	}
	if (tr->root_first < tr->first)
		tr->root_first = tr->first;
	if (tr->cbs.on_line)
		tr->cbs.on_line(tr, line, tr->user);
}

static void lines_reset(struct testrun *tr)
{
	for (size_t i = tr->first; i < tr->n; i++)
		free(tr->lines[i]);
	tr->first = tr->n = tr->root_first = 0;
	tr->bytes = 0;
}

static void history_push(struct testrun *tr, const struct testrun_result *r)
{
	size_t max = tr->opts.history;
	if (tr->n_history == max) {
		testrun_result_clear(&tr->history[max - 1]);
		tr->n_history--;
	}
	memmove(tr->history + 1, tr->history, tr->n_history * sizeof(*tr->history));
	testrun_result_copy(&tr->history[0], r);
	tr->n_history++;
}

static int start_run(struct testrun *tr, const char *trigger, struct lk_error *err);

/* Reads the JUnit report when it was written by this run (single-root suites only); falls
 * back to the output lines of the current root. Fills r (a scratch result). */
static void parse_root(struct testrun *tr, struct testrun_result *r)
{
	bool done = false;

	r->started_ms = tr->cur.started_ms;
	if (tr->report_path && tr->n_roots == 1) {
		struct stat st;
		if (stat(tr->report_path, &st) == 0 &&
		    (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000 >=
		        r->started_ms - 1000) {
			struct buf b = {0};
			struct lk_error e = {0};
			const char *base = strrchr(tr->report_path, '/');
			if (util_read_file(tr->report_path, &b, &e) == 0 &&
			    testrun_parse_junit(b.data ? b.data : "", b.len,
			                        base ? base + 1 : tr->report_path, r, &e) == 0) {
				done = true;
			} else {
				free(r->note);
				r->note = xasprintf("%s (JUnit report ignored)", e.message);
			}
			buf_free(&b);
		}
	}
	if (!done)
		testrun_parse_lines(tr->lines + tr->root_first, tr->n - tr->root_first, r);
	const char *rdir = tr->roots[tr->root_i].dir;
	for (size_t i = 0; i < r->n_failures; i++) {
		struct testrun_failure *f = &r->failures[i];
		if (f->file && !f->path)
			f->path = testrun_resolve_file(rdir, f->file);
		if (f->file && !f->path && strcmp(rdir, tr->dir))
			f->path = testrun_resolve_file(tr->dir, f->file);
	}
}

/* True when a root's output says its runner found nothing to run. */
static bool says_no_tests(char *const *lines, size_t n)
{
	static const char *const phrases[] = {"No tests found", "NO TESTS RAN", "no tests ran",
	                                      "collected 0 items", "Ran 0 tests"};
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < sizeof(phrases) / sizeof(phrases[0]); k++)
			if (strstr(lines[i], phrases[k]))
				return true;
	return false;
}

/* The current root ended (its child exited, or it could not start: start_error set): its
 * result goes into tr->cur.roots and its failures and counts into tr->cur. */
static void root_done(struct testrun *tr, const char *start_error)
{
	struct testrun_result *r = &tr->cur, one = {0};
	const struct testrun_root *root = &tr->roots[tr->root_i];

	r->roots = xrealloc(r->roots, (r->n_roots + 1) * sizeof(*r->roots));
	struct testrun_root_result *rr = &r->roots[r->n_roots++];
	memset(rr, 0, sizeof(*rr));
	rr->dir = xstrdup(root->rel);
	rr->command = testrun_argv_join(root->argv);
	rr->rule = xstrdup(root->rule);
	rr->exit_status = -1;
	if (start_error) {
		rr->status = TESTRUN_ERROR;
		rr->warning = xstrdup(start_error);
		return;
	}
	line_splitter_finish(&tr->splitter);
	parse_root(tr, &one);
	rr->exit_status = r->exit_status;
	rr->format = one.format;
	rr->counts_known = one.counts_known;
	rr->passed = one.passed;
	rr->failed = one.failed;
	rr->skipped = one.skipped;
	rr->errors = one.errors;
	int total = one.passed + one.failed + one.skipped + one.errors;
	bool none_said = says_no_tests(tr->lines + tr->root_first, tr->n - tr->root_first);
	if (tr->kill_reason != KILL_NONE)
		rr->status = tr->kill_reason == KILL_TIMEOUT ? TESTRUN_TIMEOUT : TESTRUN_CANCELLED;
	else if (((one.counts_known && total == 0) || (!one.counts_known && none_said)) &&
	         (r->exit_status == 0 || r->exit_status == 5 || none_said))
		rr->status = TESTRUN_NO_TESTS;
	else if (r->exit_status == 0 && one.failed == 0 && one.errors == 0)
		rr->status = TESTRUN_PASSED;
	else
		rr->status = TESTRUN_FAILED;
	/* TESTRUN_NO_TESTS: its warning (the likely cause) is found when the suite ends */
	/* the suite's totals */
	if (r->n_roots == 1) {
		r->format = one.format;
		r->counts_known = one.counts_known;
		if (one.duration_s > 0 && tr->n_roots == 1)
			r->duration_s = one.duration_s;
	} else {
		if (r->format != one.format)
			r->format = TESTRUN_FMT_MIXED;
		r->counts_known = r->counts_known && one.counts_known;
	}
	r->passed += one.passed;
	r->failed += one.failed;
	r->skipped += one.skipped;
	r->errors += one.errors;
	for (size_t i = 0; i < one.n_failures; i++) {
		const struct testrun_failure *f = &one.failures[i];
		size_t before = r->n_failures;
		testrun_add_failure(r, f->name, f->message, f->file, f->line, f->group);
		if (r->n_failures > before)
			r->failures[before].path = xstrdup(f->path);
	}
	r->failures_truncated = r->failures_truncated || one.failures_truncated;
	if (one.note) {
		char *n =
		    xasprintf("%s%s%s", r->note ? r->note : "", r->note ? "; " : "", one.note);
		free(r->note);
		r->note = n;
	}
	testrun_result_clear(&one);
}

/* The run is over (any status): share it, then let the next runner have the lock. */
static void share_finished(struct testrun *tr, const struct testrun_result *r)
{
	if (tr->lock_fd < 0)
		return;
	testrun_share_finished(tr->dir, tr->share_as, r, tr->lock_fd);
	tr->lock_fd = -1;
}

static void suite_warning(struct testrun_result *r);

/* The suite's status from its roots': cancelled/timeout as killed; else failed when a
 * root failed or could not start (error when none started), no tests when a root ran
 * none, else passed. The exit status is the first failing root's. */
static void suite_status(struct testrun *tr, struct testrun_result *r)
{
	size_t failed = 0, errors = 0, none = 0;
	const char *err = NULL;
	r->exit_status = 0;
	for (size_t i = 0; i < r->n_roots; i++) {
		const struct testrun_root_result *rr = &r->roots[i];
		if (rr->status == TESTRUN_FAILED || rr->status == TESTRUN_ERROR) {
			if (rr->status == TESTRUN_ERROR) {
				errors++;
				err = err ? err : rr->warning;
			} else {
				failed++;
			}
			if (r->exit_status == 0)
				r->exit_status = rr->exit_status;
		} else if (rr->status == TESTRUN_NO_TESTS) {
			none++;
		}
	}
	if (r->n_roots == 1)
		r->exit_status = r->roots[0].exit_status;
	if (tr->kill_reason == KILL_TIMEOUT) {
		r->status = TESTRUN_TIMEOUT;
		free(r->error);
		r->error = xasprintf("timed out after %.1f s", tr->opts.timeout_ms / 1000.0);
	} else if (tr->kill_reason == KILL_CANCEL) {
		r->status = TESTRUN_CANCELLED;
	} else if (errors == r->n_roots) {
		r->status = TESTRUN_ERROR;
	} else if (failed || errors || r->failed || r->errors) {
		r->status = TESTRUN_FAILED;
	} else if (none) {
		r->status = TESTRUN_NO_TESTS;
	} else {
		r->status = TESTRUN_PASSED;
	}
	if (err && !r->error) {
		struct buf clean = {0};
		util_sanitize(err, strlen(err), false, false, &clean);
		buf_append(&clean, "", 0);
		r->error = buf_steal(&clean);
	}
	suite_warning(r);
}

/* The suite's warning: each root that ran no tests and its likely cause. */
static void suite_warning(struct testrun_result *r)
{
	if (r->status == TESTRUN_NO_TESTS) {
		struct buf w = {0};
		for (size_t i = 0; i < r->n_roots; i++)
			if (r->roots[i].status == TESTRUN_NO_TESTS)
				buf_printf(&w, "%s%s%s%s", w.len ? "; " : "",
				           r->n_roots > 1 ? r->roots[i].dir : "",
				           r->n_roots > 1 ? ": " : "", r->roots[i].warning);
		buf_append(&w, "", 0);
		free(r->warning);
		r->warning = buf_steal(&w);
	}
}

static int spawn_root(struct testrun *tr, char **why);
static void complete_run(struct testrun *tr);
static void testrun_release(struct testrun *tr);

/* Why roots ran no tests: found on the thread pool (testrun_no_tests_cause walks the tree
 * as it is now, after the run). */
struct cause_job {
	uv_work_t req;
	struct testrun *tr;
	size_t n;
	size_t *idx; /* index in tr->cur.roots (== tr->roots) */
	char **dir, **cmd, **why;
	enum testrun_format *fmt;
};

static void cause_job_free(struct cause_job *j)
{
	for (size_t i = 0; i < j->n; i++) {
		free(j->dir[i]);
		free(j->cmd[i]);
		free(j->why[i]);
	}
	free(j->idx), free(j->dir), free(j->cmd), free(j->why), free(j->fmt);
	free(j);
}

static void cause_work(uv_work_t *req)
{
	struct cause_job *j = req->data;
	for (size_t i = 0; i < j->n; i++)
		j->why[i] = testrun_no_tests_cause(j->dir[i], j->cmd[i], j->fmt[i]);
}

/* Fills the NO_TESTS roots' warnings (why[i], or a generic text when NULL). */
static void causes_apply(struct testrun_result *r, struct cause_job *j)
{
	for (size_t i = 0; i < j->n; i++) {
		struct testrun_root_result *rr = &r->roots[j->idx[i]];
		free(rr->warning);
		rr->warning = j->why[i] ? j->why[i] : xstrdup("the runner reported no tests");
		j->why[i] = NULL;
	}
	suite_warning(r);
}

static void cause_done(uv_work_t *req, int status)
{
	struct cause_job *j = req->data;
	struct testrun *tr = j->tr;

	(void)status;
	tr->finishing = false;
	causes_apply(&tr->cur, j);
	cause_job_free(j);
	tr->open_timers--;
	if (tr->freed) { /* freed meanwhile (its lock was let go then): nothing to report */
		if (tr->open_timers == 0)
			testrun_release(tr);
		return;
	}
	complete_run(tr);
}

/* Starts finding the causes when a root ran no tests; false when none did (or the job
 * cannot be queued: the generic text then). */
static bool find_causes(struct testrun *tr)
{
	struct testrun_result *r = &tr->cur;
	struct cause_job *j = xcalloc(1, sizeof(*j));
	size_t n = r->n_roots ? r->n_roots : 1;

	j->idx = xcalloc(n, sizeof(*j->idx));
	j->dir = xcalloc(n, sizeof(*j->dir));
	j->cmd = xcalloc(n, sizeof(*j->cmd));
	j->why = xcalloc(n, sizeof(*j->why));
	j->fmt = xcalloc(n, sizeof(*j->fmt));
	for (size_t i = 0; i < r->n_roots && i < tr->n_roots; i++) {
		if (r->roots[i].status != TESTRUN_NO_TESTS)
			continue;
		j->idx[j->n] = i;
		j->dir[j->n] = xstrdup(tr->roots[i].dir);
		j->cmd[j->n] = xstrdup(r->roots[i].command);
		j->fmt[j->n] = r->roots[i].format;
		j->n++;
	}
	j->tr = tr;
	j->req.data = j;
	if (j->n && uv_queue_work(tr->loop, &j->req, cause_work, cause_done) == 0) {
		tr->finishing = true;
		tr->open_timers++;
		return true;
	}
	if (j->n)
		causes_apply(r, j);
	cause_job_free(j);
	return false;
}

static void finish_run(struct testrun *tr)
{
	struct run_ctx *c = tr->ctx;
	struct testrun_result *r = &tr->cur;

	uv_timer_stop(&tr->kill_timer);
	uv_timer_stop(&tr->drain_timer);
	if (c) {
		/* Anything the command left behind in its process group goes too. */
		if (c->pgid > 0)
			kill(-c->pgid, SIGKILL);
		c->tr = NULL;
		ctx_close(c);
		tr->ctx = NULL;
	}
	root_done(tr, NULL);
	tr->root_first = tr->n;
	/* the next root, unless the suite was cancelled or timed out */
	while (tr->kill_reason == KILL_NONE && !tr->freed && tr->root_i + 1 < tr->n_roots) {
		char *why = NULL;
		tr->root_i++;
		if (spawn_root(tr, &why) == 0)
			return;
		root_done(tr, why);
		free(why);
		tr->root_first = tr->n;
	}
	uv_timer_stop(&tr->timeout_timer);
	/* move the kept lines into the result */
	r->n_lines = tr->n - tr->first;
	r->lines = xcalloc(r->n_lines ? r->n_lines : 1, sizeof(*r->lines));
	if (r->n_lines)
		memcpy(r->lines, tr->lines + tr->first, r->n_lines * sizeof(*r->lines));
	tr->first = tr->n = 0;
	tr->bytes = 0;
	r->wall_ms = (int64_t)((util_monotonic_ns() - tr->start_ns) / 1000000);
	if (!(r->duration_s > 0))
		r->duration_s = r->wall_ms / 1000.0;
	suite_status(tr, r);
	if (r->dropped_lines) {
		char *n = xasprintf("%s%soutput bounded: %llu earlier line%s dropped",
		                    r->note ? r->note : "", r->note ? "; " : "",
		                    (unsigned long long)r->dropped_lines,
		                    r->dropped_lines == 1 ? "" : "s");
		free(r->note);
		r->note = n;
	}
	tr->kill_reason = KILL_NONE;
	if (find_causes(tr))
		return; /* complete_run() when the causes are known */
	complete_run(tr);
}

/* The run is final: shared, kept in the history, reported; a queued rerun starts. */
static void complete_run(struct testrun *tr)
{
	struct testrun_result *r = &tr->cur;

	share_finished(tr, r);
	history_push(tr, r);
	if (tr->cbs.on_finish)
		tr->cbs.on_finish(tr, r, tr->user);
	if (tr->queued && !tr->freed && !tr->ctx) {
		char *t = tr->queued_trigger;
		tr->queued = false;
		tr->queued_trigger = NULL;
		start_run(tr, t ? t : "queued", NULL);
		free(t);
	}
}

static void maybe_finish(struct testrun *tr)
{
	if (tr->ctx && tr->ctx->exited && tr->ctx->eof)
		finish_run(tr);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct run_ctx *c = h->data;
	(void)suggested;
	*buf = uv_buf_init(c->readbuf, sizeof(c->readbuf));
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct run_ctx *c = s->data;
	struct testrun *tr = c->tr;

	if (nread > 0 && tr) {
		tr->cur.output_bytes += (uint64_t)nread;
		line_splitter_feed(&tr->splitter, buf->base, (size_t)nread);
		return;
	}
	if (nread < 0) {
		uv_read_stop(s);
		c->eof = true;
		if (tr)
			maybe_finish(tr);
	}
}

static void on_drain_timeout(uv_timer_t *t);

static void on_exit_cb(uv_process_t *p, int64_t exit_status, int term_signal)
{
	struct run_ctx *c = p->data;
	struct testrun *tr = c->tr;

	c->exited = true;
	if (!tr)
		return;
	tr->cur.exit_status = term_signal ? -1 : (int)exit_status;
	tr->cur.term_signal = term_signal;
	if (c->eof)
		finish_run(tr);
	else /* grandchildren still hold the pipe: give them a moment, then end the group */
		uv_timer_start(&tr->drain_timer, on_drain_timeout, 500, 0);
}

static void on_drain_timeout(uv_timer_t *t)
{
	struct testrun *tr = t->data;
	if (tr->ctx) {
		tr->ctx->eof = true;
		finish_run(tr);
	}
}

static void on_kill_timer(uv_timer_t *t)
{
	struct testrun *tr = t->data;
	if (tr->ctx && tr->ctx->pgid > 0)
		kill(-tr->ctx->pgid, SIGKILL);
}

static void begin_kill(struct testrun *tr, int reason)
{
	if (!tr->ctx || tr->kill_reason != KILL_NONE)
		return;
	tr->kill_reason = reason;
	if (tr->ctx->pgid > 0)
		kill(-tr->ctx->pgid, SIGTERM);
	uv_timer_start(&tr->kill_timer, on_kill_timer, tr->opts.kill_grace_ms, 0);
}

static void on_timeout(uv_timer_t *t)
{
	begin_kill(t->data, KILL_TIMEOUT);
}

/* Environment of the child: ours, plus unbuffered Python output so the view is live. */
static char **child_env(void)
{
	size_t n = 0;
	while (environ && environ[n])
		n++;
	char **env = xcalloc(n + 2, sizeof(*env));
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "PYTHONUNBUFFERED=", 17))
			env[k++] = environ[i];
	env[k++] = "PYTHONUNBUFFERED=1";
	env[k] = NULL;
	return env;
}

/* Starts the current root's command (tr->roots[tr->root_i]) in its directory, in its own
 * process group, with a header line naming the root when the suite has several. Returns 0,
 * or -1 with *why (caller frees) when it could not start. */
static int spawn_root(struct testrun *tr, char **why)
{
	const struct testrun_root *root = &tr->roots[tr->root_i];

	tr->argv = root->argv;
	if (tr->n_roots > 1) {
		char *cmd = testrun_argv_join(root->argv);
		char *h = xasprintf("== %s: %s ==", root->rel, cmd);
		store_line(h, strlen(h), tr);
		free(h);
		free(cmd);
		tr->root_first = tr->n;
	}
	struct run_ctx *c = xcalloc(1, sizeof(*c));
	c->tr = tr;
	uv_file fds[2];
	int rc = uv_pipe(fds, 0, 0);
	if (rc < 0) {
		free(c);
		*why = xasprintf("cannot create a pipe: %s", uv_strerror(rc));
		return -1;
	}
	uv_stdio_container_t stdio[3] = {
	    {.flags = UV_IGNORE},
	    {.flags = UV_INHERIT_FD, .data.fd = fds[1]},
	    {.flags = UV_INHERIT_FD, .data.fd = fds[1]},
	};
	char **env = child_env();
	/* through the guard: the group does not outlive lambdeck (backend/childguard.h) */
	char **args = childguard_argv(tr->argv, root->dir);
	uv_process_options_t o = {
	    .exit_cb = on_exit_cb,
	    .file = args[0],
	    .args = args,
	    .env = env,
	    .cwd = root->dir,
	    .flags = UV_PROCESS_DETACHED, /* setsid: its own process group, no terminal */
	    .stdio_count = 3,
	    .stdio = stdio,
	};
	c->proc.data = c;
	rc = uv_spawn(tr->loop, &c->proc, &o);
	free(env);
	childguard_argv_free(args);
	close(fds[1]);
	c->proc_started = true;
	c->open_handles++;
	if (rc < 0) {
		close(fds[0]);
		c->tr = NULL;
		ctx_close(c);
		if (rc == UV_ENOENT)
			*why = xasprintf("command not found: %s", tr->argv[0]);
		else if (rc == UV_EACCES)
			*why = xasprintf("permission denied: %s", tr->argv[0]);
		else
			*why = xasprintf("cannot start %s: %s", tr->argv[0], uv_strerror(rc));
		return -1;
	}
	c->pgid = c->proc.pid;
	uv_pipe_init(tr->loop, &c->pipe, 0);
	c->pipe.data = c;
	c->pipe_started = true;
	c->open_handles++;
	uv_pipe_open(&c->pipe, fds[0]);
	uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read);
	tr->ctx = c;
	tr->cur.exit_status = -1;
	tr->cur.term_signal = 0;
	return 0;
}

static int start_run(struct testrun *tr, const char *trigger, struct lk_error *err)
{
	struct testrun_result *r = &tr->cur;

	if (tr->share_as) {
		struct lk_error lerr;
		int rc =
		    testrun_share_acquire(tr->dir, tr->opts.wait_for_lock, &tr->lock_fd, &lerr);
		if (rc == 2) {
			if (err)
				*err = lerr;
			return 2;
		}
		/* rc < 0: .lambdeck/tests/ unusable (read-only project...): run unshared */
	}
	testrun_result_clear(r);
	lines_reset(tr);
	tr->has_cur = true;
	r->id = ++tr->next_id;
	r->status = TESTRUN_RUNNING;
	r->trigger = xstrdup(trigger ? trigger : "manual");
	r->command = xstrdup(tr->command);
	r->exit_status = -1;
	r->counts_known = true; /* until a root's are not */
	r->started_ms = util_now_ms();
	tr->start_ns = util_monotonic_ns();
	tr->kill_reason = KILL_NONE;

	char *why = NULL;
	for (tr->root_i = 0; tr->root_i < tr->n_roots; tr->root_i++) {
		if (spawn_root(tr, &why) == 0)
			break;
		root_done(tr, why);
		tr->root_first = tr->n;
		if (tr->root_i + 1 < tr->n_roots) {
			free(why);
			why = NULL;
		}
	}
	if (tr->root_i == tr->n_roots) { /* none started: the run is an error */
		r->status = TESTRUN_ERROR;
		r->counts_known = false;
		goto failed;
	}
	free(why);
	if (tr->lock_fd >= 0)
		testrun_share_started(tr->dir, tr->share_as, r);
	if (tr->opts.timeout_ms)
		uv_timer_start(&tr->timeout_timer, on_timeout, tr->opts.timeout_ms, 0);
	if (tr->cbs.on_start)
		tr->cbs.on_start(tr, r, tr->user);
	return 0;

failed : {
	struct buf clean = {0};
	util_sanitize(why, strlen(why), false, false, &clean);
	buf_append(&clean, "", 0); /* util_sanitize leaves an empty buffer unterminated */
	free(why);
	r->error = buf_steal(&clean);
	lk_error_set(err, "TestCommandError", "%s", r->error);
	/* the header lines of multi-root suites stay; a single root has none */
	r->n_lines = tr->n - tr->first;
	r->lines = xcalloc(r->n_lines ? r->n_lines : 1, sizeof(*r->lines));
	if (r->n_lines)
		memcpy(r->lines, tr->lines + tr->first, r->n_lines * sizeof(*r->lines));
	tr->first = tr->n = tr->root_first = 0;
	tr->bytes = 0;
	share_finished(tr, r);
	history_push(tr, r);
	if (tr->cbs.on_start)
		tr->cbs.on_start(tr, r, tr->user);
	if (tr->cbs.on_finish)
		tr->cbs.on_finish(tr, r, tr->user);
	return -1;
}
}

char *testrun_plan_command(const struct testrun_plan *pl)
{
	if (pl->n == 1)
		return testrun_argv_join(pl->roots[0].argv);
	struct buf b = {0};
	for (size_t i = 0; i < pl->n; i++) {
		char *c = testrun_argv_join(pl->roots[i].argv);
		buf_printf(&b, "%s%s (in %s)", i ? " + " : "", c, pl->roots[i].rel);
		free(c);
	}
	buf_append(&b, "", 0);
	return buf_steal(&b);
}

/* The runner of a suite of roots (taken over: roots[] and its strings are owned). */
static struct testrun *runner_new(uv_loop_t *loop, const char *dir, struct testrun_root *roots,
                                  size_t n_roots, const struct testrun_opts *opts,
                                  const struct testrun_callbacks *cbs, void *user)
{
	struct testrun *tr = xcalloc(1, sizeof(*tr));
	char buf[PATH_MAX];

	tr->loop = loop;
	tr->dir = xstrdup(realpath(dir, buf) ? buf : dir);
	tr->roots = roots;
	tr->n_roots = n_roots;
	for (size_t i = 0; i < n_roots; i++) {
		if (!roots[i].argv || !roots[i].argv[0]) { /* an empty argv cannot run: show it */
			testrun_argv_free(roots[i].argv);
			roots[i].argv = testrun_argv_make("(empty test command)", NULL);
		}
	}
	tr->argv = roots[0].argv;
	tr->command = testrun_plan_command(&(struct testrun_plan){.roots = roots, .n = n_roots});
	if (opts)
		tr->opts = *opts;
	tr->opts.report_path = NULL;
	tr->share_as = opts && opts->share_as ? xstrdup(opts->share_as) : NULL;
	tr->opts.share_as = NULL;
	tr->lock_fd = -1;
	if (!tr->opts.kill_grace_ms)
		tr->opts.kill_grace_ms = 5000;
	if (!tr->opts.debounce_ms)
		tr->opts.debounce_ms = FSWATCH_DEFAULT_DEBOUNCE_MS;
	if (!tr->opts.max_output_bytes)
		tr->opts.max_output_bytes = 4u << 20;
	if (!tr->opts.history)
		tr->opts.history = 10;
	const char *rp = opts ? opts->report_path : NULL;
	for (size_t i = 0; !rp && tr->argv[i]; i++) {
		if (!strncmp(tr->argv[i], "--junitxml=", 11) ||
		    !strncmp(tr->argv[i], "--junit-xml=", 12))
			rp = strchr(tr->argv[i], '=') + 1;
		else if ((!strcmp(tr->argv[i], "--junitxml") ||
		          !strcmp(tr->argv[i], "--junit-xml")) &&
		         tr->argv[i + 1])
			rp = tr->argv[i + 1];
	}
	if (rp && *rp)
		tr->report_path = rp[0] == '/' ? xstrdup(rp) : util_path_join(tr->dir, rp);
	if (cbs)
		tr->cbs = *cbs;
	tr->user = user;
	tr->history = xcalloc(tr->opts.history, sizeof(*tr->history));
	tr->splitter.emit = store_line;
	tr->splitter.ud = tr;
	uv_timer_init(loop, &tr->timeout_timer);
	uv_timer_init(loop, &tr->kill_timer);
	uv_timer_init(loop, &tr->drain_timer);
	tr->timeout_timer.data = tr->kill_timer.data = tr->drain_timer.data = tr;
	tr->open_timers = 3;
	return tr;
}

struct testrun *testrun_new(uv_loop_t *loop, const char *dir, char *const *argv,
                            const struct testrun_opts *opts, const struct testrun_callbacks *cbs,
                            void *user)
{
	struct testrun_root *root = xcalloc(1, sizeof(*root));
	char buf[PATH_MAX];
	root->dir = xstrdup(realpath(dir, buf) ? buf : dir);
	root->rel = xstrdup(".");
	root->argv = testrun_argv_dup(argv);
	root->rule = xstrdup("the given command");
	return runner_new(loop, dir, root, 1, opts, cbs, user);
}

struct testrun *testrun_new_plan(uv_loop_t *loop, const struct testrun_plan *plan,
                                 const struct testrun_opts *opts,
                                 const struct testrun_callbacks *cbs, void *user)
{
	size_t n = plan->n ? plan->n : 1;
	struct testrun_root *roots = xcalloc(n, sizeof(*roots));
	for (size_t i = 0; i < plan->n; i++) {
		const struct testrun_root *p = &plan->roots[i];
		roots[i] = (struct testrun_root){
		    .dir = xstrdup(p->dir),
		    .rel = xstrdup(p->rel),
		    .argv = testrun_argv_dup(p->argv),
		    .rule = xstrdup(p->rule),
		};
	}
	if (!plan->n) {
		roots[0] = (struct testrun_root){.dir = xstrdup(plan->dir),
		                                 .rel = xstrdup("."),
		                                 .rule = xstrdup("no test command")};
	}
	return runner_new(loop, plan->dir, roots, n, opts, cbs, user);
}

static void timer_closed(uv_handle_t *h)
{
	struct testrun *tr = h->data;
	if (--tr->open_timers == 0)
		testrun_release(tr);
}

/* Frees tr once nothing refers to it any more (timers closed, no cause job pending). */
static void testrun_release(struct testrun *tr)
{
	testrun_result_clear(&tr->cur);
	for (size_t i = 0; i < tr->n_history; i++)
		testrun_result_clear(&tr->history[i]);
	free(tr->history);
	lines_reset(tr);
	free(tr->lines);
	line_splitter_free(&tr->splitter);
	for (size_t i = 0; i < tr->n_roots; i++)
		testrun_root_clear(&tr->roots[i]);
	free(tr->roots);
	free(tr->command);
	free(tr->report_path);
	free(tr->queued_trigger);
	free(tr->share_as);
	free(tr->dir);
	free(tr);
}

void testrun_free(struct testrun *tr)
{
	if (!tr || tr->freed)
		return;
	tr->freed = true;
	fswatch_free(tr->watch);
	tr->watch = NULL;
	if (tr->ctx || tr->finishing) {
		if (tr->lock_fd >= 0) { /* killed mid-run: no result to share, just let go */
			char *d = testrun_share_dir(tr->dir),
			     *run = util_path_join(d, "running.json");
			unlink(run);
			free(run);
			free(d);
			close(tr->lock_fd);
			tr->lock_fd = -1;
		}
	}
	if (tr->ctx) {
		if (tr->ctx->pgid > 0)
			kill(-tr->ctx->pgid, SIGKILL);
		tr->ctx->tr = NULL;
		ctx_close(tr->ctx);
		tr->ctx = NULL;
	}
	uv_close((uv_handle_t *)&tr->timeout_timer, timer_closed);
	uv_close((uv_handle_t *)&tr->kill_timer, timer_closed);
	uv_close((uv_handle_t *)&tr->drain_timer, timer_closed);
}

int testrun_start(struct testrun *tr, const char *trigger, struct lk_error *err)
{
	if (tr->ctx || tr->finishing) {
		tr->queued = true;
		free(tr->queued_trigger);
		tr->queued_trigger = xstrdup(trigger);
		return 1;
	}
	return start_run(tr, trigger, err);
}

void testrun_cancel(struct testrun *tr)
{
	if (!tr)
		return;
	tr->queued = false;
	free(tr->queued_trigger);
	tr->queued_trigger = NULL;
	begin_kill(tr, KILL_CANCEL);
}

/* Another process wrote it: make it safe for the terminal. Frees s; NULL stays NULL. */
static char *resanitize(char *s)
{
	struct buf c = {0};

	if (!s)
		return NULL;
	util_sanitize(s, strlen(s), false, false, &c);
	buf_append(&c, "", 0);
	free(s);
	return buf_steal(&c);
}

void testrun_adopt(struct testrun *tr, const struct testrun_shared *s)
{
	struct testrun_result r;
	struct buf t = {0}, clean = {0};

	if (!s->has_last)
		return;
	testrun_result_copy(&r, &s->last);
	buf_printf(&t, "from %s pid %d: %s", s->last_by ? s->last_by : "another process",
	           s->last_pid, s->last.trigger ? s->last.trigger : "");
	util_sanitize(t.data, t.len, false, false, &clean);
	buf_append(&clean, "", 0);
	free(r.trigger);
	r.trigger = buf_steal(&clean);
	buf_free(&t);
	r.command = resanitize(r.command);
	r.note = resanitize(r.note);
	r.error = resanitize(r.error);
	r.id = ++tr->next_id;
	history_push(tr, &r);
	if (!tr->ctx) {
		testrun_result_clear(&tr->cur);
		tr->cur = r;
		tr->has_cur = true;
	} else {
		testrun_result_clear(&r);
	}
}

bool testrun_running(const struct testrun *tr)
{
	return tr && (tr->ctx || tr->finishing);
}

bool testrun_rerun_queued(const struct testrun *tr)
{
	return tr && tr->queued;
}

int testrun_pid(const struct testrun *tr)
{
	return tr && tr->ctx ? tr->ctx->pgid : 0;
}

static void on_watch(struct fswatch *w, const struct fswatch_batch *b, void *user)
{
	struct testrun *tr = user;
	(void)w;
	if (tr->cbs.on_change)
		tr->cbs.on_change(tr, b->paths, b->n_paths, tr->user);
	if (!b->n_paths)
		return;
	const char *first = b->paths[0];
	size_t dl = strlen(tr->dir);
	if (!strncmp(first, tr->dir, dl) && first[dl] == '/')
		first += dl + 1;
	char *trigger = b->n_paths > 1 ? xasprintf("on save: %s (+%zu)", first, b->n_paths - 1)
	                               : xasprintf("on save: %s", first);
	struct buf clean = {0};
	util_sanitize(trigger, strlen(trigger), false, false, &clean);
	buf_append(&clean, "", 0); /* util_sanitize leaves an empty buffer unterminated */
	testrun_start(tr, clean.data, NULL);
	buf_free(&clean);
	free(trigger);
}

int testrun_set_watch(struct testrun *tr, bool on, struct lk_error *err)
{
	if (!on) {
		fswatch_free(tr->watch);
		tr->watch = NULL;
		return 0;
	}
	if (tr->watch)
		return 0;
	const char *ignore[1];
	size_t n_ignore = 0;
	if (tr->report_path)
		ignore[n_ignore++] = tr->report_path;
	struct fswatch_opts o = {
	    .debounce_ms = tr->opts.debounce_ms,
	    .ignore = ignore,
	    .n_ignore = n_ignore,
	};
	return fswatch_new(tr->loop, tr->dir, &o, on_watch, tr, &tr->watch, err);
}

bool testrun_watching(const struct testrun *tr)
{
	return tr && tr->watch;
}

size_t testrun_watch_dirs(const struct testrun *tr)
{
	return tr ? fswatch_n_dirs(tr->watch) : 0;
}

const char *testrun_watch_problem(const struct testrun *tr)
{
	return tr ? fswatch_problem(tr->watch) : NULL;
}

const struct testrun_result *testrun_current(const struct testrun *tr)
{
	return tr && tr->has_cur ? &tr->cur : NULL;
}

size_t testrun_history_count(const struct testrun *tr)
{
	return tr ? tr->n_history : 0;
}

const struct testrun_result *testrun_history(const struct testrun *tr, size_t i)
{
	return tr && i < tr->n_history ? &tr->history[i] : NULL;
}

const char *testrun_command(const struct testrun *tr)
{
	return tr->command;
}

const char *testrun_dir(const struct testrun *tr)
{
	return tr->dir;
}
