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

static char **argv_dup(char *const *argv)
{
	size_t n = 0;
	while (argv && argv[n])
		n++;
	char **out = xcalloc(n + 1, sizeof(*out));
	for (size_t i = 0; i < n; i++)
		out[i] = xstrdup(argv[i]);
	return out;
}

static char **argv_make(const char *a, ...)
{
	va_list ap;
	size_t n = 0;
	char **out = xcalloc(8, sizeof(*out));

	va_start(ap, a);
	for (const char *s = a; s && n < 7; s = va_arg(ap, const char *))
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

/* --- detection ------------------------------------------------------------------------------ */

static bool file_contains(const char *dir, const char *name, const char *needle)
{
	char *p = util_path_join(dir, name);
	struct buf b = {0};
	bool found = false;
	if (util_read_file(p, &b, NULL) == 0 && b.data)
		found = strstr(b.data, needle) != NULL;
	buf_free(&b);
	free(p);
	return found;
}

static bool file_exists_in(const char *dir, const char *name)
{
	char *p = util_path_join(dir, name);
	bool ok = util_is_file(p);
	free(p);
	return ok;
}

/* A Makefile rule line "test:" / "test: deps" / "check test:" (not "test := x"). */
static bool makefile_has_test(const char *dir)
{
	static const char *const names[] = {"GNUmakefile", "makefile", "Makefile"};
	for (size_t k = 0; k < 3; k++) {
		char *p = util_path_join(dir, names[k]);
		struct buf b = {0};
		int rc = util_read_file(p, &b, NULL);
		free(p);
		if (rc != 0) {
			buf_free(&b);
			continue;
		}
		bool found = false;
		for (char *l = b.data; l && *l && !found;) {
			char *nl = strchr(l, '\n');
			if (nl)
				*nl = '\0';
			if (*l != '\t' && *l != '#') {
				char *colon = strchr(l, ':');
				if (colon && colon[1] != '=' && !(colon > l && colon[-1] == '?')) {
					/* targets before the colon, separated by blanks */
					for (char *t = l; t < colon;) {
						while (t < colon && (*t == ' ' || *t == '\t'))
							t++;
						char *e = t;
						while (e < colon && *e != ' ' && *e != '\t')
							e++;
						if (e - t == 4 && !strncmp(t, "test", 4))
							found = true;
						t = e;
					}
				}
			}
			l = nl ? nl + 1 : NULL;
		}
		buf_free(&b);
		return found; /* make reads only the first of these that exists */
	}
	return false;
}

static bool package_json_has_test(const char *dir)
{
	char *p = util_path_join(dir, "package.json");
	struct buf b = {0};
	bool ok = false;
	if (util_read_file(p, &b, NULL) == 0 && b.data) {
		cJSON *j = cJSON_ParseWithLength(b.data, b.len);
		cJSON *scripts = cJSON_GetObjectItemCaseSensitive(j, "scripts");
		cJSON *t = cJSON_GetObjectItemCaseSensitive(scripts, "test");
		/* npm init's placeholder always fails: it is not a test command */
		ok = cJSON_IsString(t) && t->valuestring[0] &&
		     !strstr(t->valuestring, "no test specified");
		cJSON_Delete(j);
	}
	buf_free(&b);
	free(p);
	return ok;
}

static bool in_path(const char *prog)
{
	return !strchr(prog, '/') && util_executable(prog, NULL);
}

static bool pytest_configured(const char *dir)
{
	return file_exists_in(dir, "pytest.ini") || file_exists_in(dir, "conftest.py") ||
	       file_contains(dir, "pyproject.toml", "[tool.pytest") ||
	       file_contains(dir, "setup.cfg", "[tool:pytest]") ||
	       file_contains(dir, "tox.ini", "[pytest]");
}

char **testrun_detect(const char *dir, const struct project *project, const char **source)
{
	const char *why;
	char **argv;

	if (project && project->test_argv && project->test_argv[0]) {
		why = "lambdeck.json";
		argv = argv_dup(project->test_argv);
	} else if (makefile_has_test(dir)) {
		why = "Makefile";
		argv = argv_make("make", "test", NULL);
	} else if (package_json_has_test(dir)) {
		why = "package.json";
		argv = argv_make("npm", "test", NULL);
	} else if (pytest_configured(dir) && (in_path("pytest") || in_path("pytest-3"))) {
		why = "pytest";
		argv = argv_make("python3", "-m", "pytest", NULL);
	} else if (file_exists_in(dir, "go.mod")) {
		why = "go.mod";
		argv = argv_make("go", "test", "-v", "./...", NULL);
	} else {
		why = "default";
		argv = argv_make("python3", "-m", "unittest", "discover", NULL);
	}
	if (source)
		*source = why;
	return argv;
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
	char **argv;
	char *command;
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
	if (tr->cbs.on_line)
		tr->cbs.on_line(tr, line, tr->user);
}

static void lines_reset(struct testrun *tr)
{
	for (size_t i = tr->first; i < tr->n; i++)
		free(tr->lines[i]);
	tr->first = tr->n = 0;
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

/* Reads the JUnit report when it was written by this run; falls back to the output. */
static void parse_results(struct testrun *tr)
{
	struct testrun_result *r = &tr->cur;
	bool done = false;

	if (tr->report_path) {
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
		testrun_parse_lines(r->lines, r->n_lines, r);
	for (size_t i = 0; i < r->n_failures; i++) {
		struct testrun_failure *f = &r->failures[i];
		if (f->file && !f->path)
			f->path = testrun_resolve_file(tr->dir, f->file);
	}
}

/* The run is over (any status): share it, then let the next runner have the lock. */
static void share_finished(struct testrun *tr, const struct testrun_result *r)
{
	if (tr->lock_fd < 0)
		return;
	testrun_share_finished(tr->dir, tr->share_as, r, tr->lock_fd);
	tr->lock_fd = -1;
}

static void finish_run(struct testrun *tr)
{
	struct run_ctx *c = tr->ctx;
	struct testrun_result *r = &tr->cur;

	uv_timer_stop(&tr->timeout_timer);
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
	line_splitter_finish(&tr->splitter);
	/* move the kept lines into the result */
	r->n_lines = tr->n - tr->first;
	r->lines = xcalloc(r->n_lines ? r->n_lines : 1, sizeof(*r->lines));
	if (r->n_lines)
		memcpy(r->lines, tr->lines + tr->first, r->n_lines * sizeof(*r->lines));
	tr->first = tr->n = 0;
	tr->bytes = 0;
	r->wall_ms = (int64_t)((util_monotonic_ns() - tr->start_ns) / 1000000);
	r->duration_s = r->wall_ms / 1000.0;
	parse_results(tr);
	if (tr->kill_reason == KILL_TIMEOUT) {
		r->status = TESTRUN_TIMEOUT;
		free(r->error);
		r->error = xasprintf("timed out after %.1f s", tr->opts.timeout_ms / 1000.0);
	} else if (tr->kill_reason == KILL_CANCEL) {
		r->status = TESTRUN_CANCELLED;
	} else if (r->exit_status == 0 && r->failed == 0 && r->errors == 0) {
		r->status = TESTRUN_PASSED;
	} else {
		r->status = TESTRUN_FAILED;
	}
	if (r->dropped_lines) {
		char *n = xasprintf("%s%soutput bounded: %llu earlier line%s dropped",
		                    r->note ? r->note : "", r->note ? "; " : "",
		                    (unsigned long long)r->dropped_lines,
		                    r->dropped_lines == 1 ? "" : "s");
		free(r->note);
		r->note = n;
	}
	tr->kill_reason = KILL_NONE;
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
	r->started_ms = util_now_ms();
	tr->start_ns = util_monotonic_ns();
	tr->kill_reason = KILL_NONE;

	struct run_ctx *c = xcalloc(1, sizeof(*c));
	c->tr = tr;
	uv_file fds[2];
	int rc = uv_pipe(fds, 0, 0);
	if (rc < 0) {
		free(c);
		r->status = TESTRUN_ERROR;
		r->error = xasprintf("cannot create a pipe: %s", uv_strerror(rc));
		goto failed;
	}
	uv_stdio_container_t stdio[3] = {
	    {.flags = UV_IGNORE},
	    {.flags = UV_INHERIT_FD, .data.fd = fds[1]},
	    {.flags = UV_INHERIT_FD, .data.fd = fds[1]},
	};
	char **env = child_env();
	/* through the guard: the group does not outlive lambdeck (backend/childguard.h) */
	char **args = childguard_argv(tr->argv, tr->dir);
	uv_process_options_t o = {
	    .exit_cb = on_exit_cb,
	    .file = args[0],
	    .args = args,
	    .env = env,
	    .cwd = tr->dir,
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
		r->status = TESTRUN_ERROR;
		if (rc == UV_ENOENT)
			r->error = xasprintf("command not found: %s", tr->argv[0]);
		else if (rc == UV_EACCES)
			r->error = xasprintf("permission denied: %s", tr->argv[0]);
		else
			r->error = xasprintf("cannot start %s: %s", tr->argv[0], uv_strerror(rc));
		goto failed;
	}
	c->pgid = c->proc.pid;
	uv_pipe_init(tr->loop, &c->pipe, 0);
	c->pipe.data = c;
	c->pipe_started = true;
	c->open_handles++;
	uv_pipe_open(&c->pipe, fds[0]);
	uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read);
	tr->ctx = c;
	if (tr->lock_fd >= 0)
		testrun_share_started(tr->dir, tr->share_as, r);
	if (tr->opts.timeout_ms)
		uv_timer_start(&tr->timeout_timer, on_timeout, tr->opts.timeout_ms, 0);
	if (tr->cbs.on_start)
		tr->cbs.on_start(tr, r, tr->user);
	return 0;

failed : {
	struct buf clean = {0};
	util_sanitize(r->error, strlen(r->error), false, false, &clean);
	buf_append(&clean, "", 0); /* util_sanitize leaves an empty buffer unterminated */
	free(r->error);
	r->error = buf_steal(&clean);
	lk_error_set(err, "TestCommandError", "%s", r->error);
	r->lines = xcalloc(1, sizeof(*r->lines));
	share_finished(tr, r);
	history_push(tr, r);
	if (tr->cbs.on_start)
		tr->cbs.on_start(tr, r, tr->user);
	if (tr->cbs.on_finish)
		tr->cbs.on_finish(tr, r, tr->user);
	return -1;
}
}

struct testrun *testrun_new(uv_loop_t *loop, const char *dir, char *const *argv,
                            const struct testrun_opts *opts, const struct testrun_callbacks *cbs,
                            void *user)
{
	struct testrun *tr = xcalloc(1, sizeof(*tr));
	char buf[PATH_MAX];

	tr->loop = loop;
	tr->dir = xstrdup(realpath(dir, buf) ? buf : dir);
	tr->argv = argv_dup(argv);
	if (!tr->argv[0]) { /* an empty argv cannot run: make that visible */
		testrun_argv_free(tr->argv);
		tr->argv = argv_make("(empty test command)", NULL);
	}
	tr->command = testrun_argv_join(tr->argv);
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

static void timer_closed(uv_handle_t *h)
{
	struct testrun *tr = h->data;
	if (--tr->open_timers)
		return;
	testrun_result_clear(&tr->cur);
	for (size_t i = 0; i < tr->n_history; i++)
		testrun_result_clear(&tr->history[i]);
	free(tr->history);
	lines_reset(tr);
	free(tr->lines);
	line_splitter_free(&tr->splitter);
	testrun_argv_free(tr->argv);
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
	if (tr->ctx) {
		if (tr->lock_fd >= 0) { /* killed mid-run: no result to share, just let go */
			char *d = testrun_share_dir(tr->dir),
			     *run = util_path_join(d, "running.json");
			unlink(run);
			free(run);
			free(d);
			close(tr->lock_fd);
			tr->lock_fd = -1;
		}
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
	if (tr->ctx) {
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
	return tr && tr->ctx;
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
