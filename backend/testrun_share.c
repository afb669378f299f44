/* testrun_share.c - the last test run shared between the processes working on one project
 * (two consoles in a pair session, `lambdeck test`): run lock, running.json, last.json under
 * .lambdeck/tests/. See testrun.h ("sharing"). */
#include "backend/testrun_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <cjson/cJSON.h>

char *testrun_share_dir(const char *project_dir)
{
	return util_path_join(project_dir, ".lambdeck/tests");
}

static char *share_file(const char *dir, const char *name)
{
	char *d = testrun_share_dir(dir);
	char *p = util_path_join(d, name);
	free(d);
	return p;
}

static bool pid_alive(int pid)
{
	return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

/* The pid and "by" of running.json, for a busy message. */
static void running_who(const char *dir, int *pid, char *by, size_t by_len)
{
	struct testrun_shared s;
	struct lk_error err;

	*pid = 0;
	snprintf(by, by_len, "another process");
	if (testrun_shared_read(dir, &s, &err) == 0 && s.running) {
		*pid = s.running_pid;
		snprintf(by, by_len, "%s", s.running_by ? s.running_by : "another process");
	}
	testrun_shared_clear(&s);
}

int testrun_share_acquire(const char *dir, bool wait, int *fd, struct lk_error *err)
{
	char *d = testrun_share_dir(dir);
	char *path = util_path_join(d, "run.lock");
	int rc = 0;

	*fd = -1;
	if (util_mkdir_p(d, 0777, err) < 0) {
		rc = -1;
		goto out;
	}
	*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
	if (*fd < 0) {
		rc = lk_error_set(err, "IOError", "%s: %s", path, strerror(errno));
		goto out;
	}
	while (flock(*fd, LOCK_EX | (wait ? 0 : LOCK_NB)) < 0) {
		if (errno == EINTR)
			continue;
		if (errno == EWOULDBLOCK) {
			int pid;
			char by[64];
			running_who(dir, &pid, by, sizeof(by));
			if (pid)
				lk_error_set(err, "Busy",
				             "the tests are running in %s (pid %d); its results "
				             "will show here",
				             by, pid);
			else
				lk_error_set(
				    err, "Busy",
				    "the tests are running in another process; its results "
				    "will show here");
			rc = 2;
		} else {
			rc = lk_error_set(err, "IOError", "%s: %s", path, strerror(errno));
		}
		close(*fd);
		*fd = -1;
		break;
	}
out:
	free(path);
	free(d);
	return rc;
}

void testrun_share_started(const char *dir, const char *by, const struct testrun_result *r)
{
	cJSON *o = cJSON_CreateObject();
	char *path = share_file(dir, "running.json"), *text;

	cJSON_AddNumberToObject(o, "pid", getpid());
	cJSON_AddStringToObject(o, "by", by);
	cJSON_AddStringToObject(o, "trigger", r->trigger ? r->trigger : "");
	cJSON_AddStringToObject(o, "command", r->command ? r->command : "");
	cJSON_AddNumberToObject(o, "startedMs", (double)r->started_ms);
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	util_write_atomic(path, text, strlen(text), 0666, NULL);
	free(text);
	free(path);
}

void testrun_share_finished(const char *dir, const char *by, const struct testrun_result *r, int fd)
{
	struct testrun_result view = *r; /* shallow: only the output tail is written */
	char *path = share_file(dir, "last.json"), *running = share_file(dir, "running.json");
	char *json;
	cJSON *o;

	if (view.n_lines > TESTRUN_SHARE_LINES) {
		view.dropped_lines += view.n_lines - TESTRUN_SHARE_LINES;
		view.lines += view.n_lines - TESTRUN_SHARE_LINES;
		view.n_lines = TESTRUN_SHARE_LINES;
	}
	json = testrun_result_json(&view, true);
	o = cJSON_Parse(json);
	free(json);
	if (o) {
		cJSON_AddNumberToObject(o, "pid", getpid());
		cJSON_AddStringToObject(o, "by", by);
		cJSON_AddNumberToObject(o, "startedMs", (double)r->started_ms);
		cJSON_AddNumberToObject(o, "finishedMs", (double)util_now_ms());
		json = cJSON_PrintUnformatted(o);
		cJSON_Delete(o);
		util_write_atomic(path, json, strlen(json), 0666, NULL);
		free(json);
	}
	unlink(running);
	if (fd >= 0)
		close(fd); /* releases the lock after last.json is in place */
	free(running);
	free(path);
}

static char *jstr(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? xstrdup(v->valuestring) : NULL;
}

/* A string another process wrote, safe for the terminal; NULL when absent. */
static char *clean_dup(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	struct buf c = {0};

	if (!cJSON_IsString(v))
		return NULL;
	util_sanitize(v->valuestring, strlen(v->valuestring), false, false, &c);
	buf_append(&c, "", 0);
	return buf_steal(&c);
}

static double jnum(const cJSON *o, const char *key, double dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

static int enum_of(const char *name, const char *(*fn)(int), int n)
{
	for (int i = 0; i < n; i++)
		if (name && !strcmp(fn(i), name))
			return i;
	return -1;
}

static const char *status_name(int i)
{
	return testrun_status_name((enum testrun_status)i);
}

static const char *format_name(int i)
{
	return testrun_format_name((enum testrun_format)i);
}

static int result_from(const cJSON *o, struct testrun_result *r)
{
	const cJSON *v, *it;
	char *s;
	int e;

	memset(r, 0, sizeof(*r));
	s = jstr(o, "status");
	e = enum_of(s, status_name, TESTRUN_NO_TESTS + 1);
	free(s);
	if (e < 0)
		return -1;
	r->status = (enum testrun_status)e;
	s = jstr(o, "format");
	e = enum_of(s, format_name, TESTRUN_FMT_MIXED + 1);
	free(s);
	r->format = e < 0 ? TESTRUN_FMT_NONE : (enum testrun_format)e;
	r->command = jstr(o, "command");
	r->trigger = jstr(o, "trigger");
	r->exit_status = util_double_to_int(jnum(o, "exitStatus", -1));
	r->term_signal = util_double_to_int(jnum(o, "signal", 0));
	r->counts_known = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "countsKnown"));
	r->passed = util_double_to_int(jnum(o, "passed", 0));
	r->failed = util_double_to_int(jnum(o, "failed", 0));
	r->skipped = util_double_to_int(jnum(o, "skipped", 0));
	r->errors = util_double_to_int(jnum(o, "errors", 0));
	r->duration_s = jnum(o, "durationSeconds", 0);
	r->wall_ms = util_double_to_int64(jnum(o, "wallMs", 0));
	r->started_ms = util_double_to_int64(jnum(o, "startedMs", 0));
	r->error = jstr(o, "error");
	r->note = jstr(o, "note");
	r->warning = clean_dup(o, "warning");
	v = cJSON_GetObjectItemCaseSensitive(o, "roots");
	r->roots = xcalloc((size_t)cJSON_GetArraySize(v) + 1, sizeof(*r->roots));
	cJSON_ArrayForEach(it, v)
	{
		struct testrun_root_result *x = &r->roots[r->n_roots++];
		char *st = jstr(it, "status"), *fm = jstr(it, "format");
		int se = enum_of(st, status_name, TESTRUN_NO_TESTS + 1);
		int fe = enum_of(fm, format_name, TESTRUN_FMT_MIXED + 1);
		free(st);
		free(fm);
		x->dir = clean_dup(it, "dir");
		x->command = clean_dup(it, "command");
		x->rule = clean_dup(it, "rule");
		x->warning = clean_dup(it, "warning");
		x->status = se < 0 ? TESTRUN_IDLE : (enum testrun_status)se;
		x->format = fe < 0 ? TESTRUN_FMT_NONE : (enum testrun_format)fe;
		x->exit_status = util_double_to_int(jnum(it, "exitStatus", -1));
		x->counts_known = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(it, "countsKnown"));
		x->passed = util_double_to_int(jnum(it, "passed", 0));
		x->failed = util_double_to_int(jnum(it, "failed", 0));
		x->skipped = util_double_to_int(jnum(it, "skipped", 0));
		x->errors = util_double_to_int(jnum(it, "errors", 0));
	}
	r->failures_truncated =
	    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "failuresTruncated"));
	v = cJSON_GetObjectItemCaseSensitive(o, "failures");
	cJSON_ArrayForEach(it, v)
	{
		char *name = jstr(it, "name"), *msg = jstr(it, "message");
		char *file = clean_dup(it, "file");
		char *group = jstr(it, "group");
		if (name && r->n_failures < TESTRUN_MAX_FAILURES) {
			testrun_add_failure(r, name, msg ? msg : "", file,
			                    util_double_to_int(jnum(it, "line", 0)), group);
			r->failures[r->n_failures - 1].path = clean_dup(it, "path");
		}
		free(name);
		free(msg);
		free(file);
		free(group);
	}
	v = cJSON_GetObjectItemCaseSensitive(o, "output");
	r->n_lines = 0;
	r->lines = xcalloc((size_t)cJSON_GetArraySize(v) + 1, sizeof(*r->lines));
	cJSON_ArrayForEach(it, v)
	{
		if (cJSON_IsString(it)) {
			struct buf clean = {0};
			util_sanitize(it->valuestring, strlen(it->valuestring), false, true,
			              &clean);
			buf_append(&clean, "", 0);
			r->lines[r->n_lines++] = buf_steal(&clean);
		}
	}
	r->dropped_lines = (uint64_t)util_double_to_int64(
	    jnum(o, "droppedLines", 0) > 0 ? jnum(o, "droppedLines", 0) : 0);
	return 0;
}

int testrun_result_from_json(const char *json, size_t len, struct testrun_result *out)
{
	cJSON *o = cJSON_ParseWithLength(json, len);
	int rc = o ? result_from(o, out) : -1;

	if (rc < 0 && o)
		testrun_result_clear(out);
	cJSON_Delete(o);
	return rc;
}

/* Reads one file into a parsed object; 1 when missing, -1 with err when invalid. */
static int read_json(const char *path, cJSON **out, struct lk_error *err)
{
	struct buf b = {0};
	struct lk_error rerr;
	const char *end = NULL;

	*out = NULL;
	if (util_read_file(path, &b, &rerr) < 0)
		return errno == ENOENT || !util_is_file(path)
		           ? 1
		           : lk_error_set(err, "IOError", "%s", rerr.message);
	*out = cJSON_ParseWithLengthOpts(b.data ? b.data : "", b.len, &end, false);
	if (!*out) {
		size_t off = end && b.data ? (size_t)(end - b.data) : 0, line = 1, col = 1;
		for (size_t i = 0; i < off && i < b.len; i++) {
			if (b.data[i] == '\n') {
				line++;
				col = 1;
			} else {
				col++;
			}
		}
		lk_error_set(err, "InvalidJSON", "%s:%zu:%zu: not valid JSON", path, line, col);
		buf_free(&b);
		return -1;
	}
	buf_free(&b);
	return 0;
}

int testrun_shared_read(const char *project_dir, struct testrun_shared *out, struct lk_error *err)
{
	char *rp = share_file(project_dir, "running.json"),
	     *lp = share_file(project_dir, "last.json");
	cJSON *o;
	int rc = 0, r;

	memset(out, 0, sizeof(*out));
	r = read_json(rp, &o, err);
	if (r < 0)
		rc = -1;
	if (r == 0) {
		int pid = util_double_to_int(jnum(o, "pid", 0));
		if (pid_alive(pid)) {
			out->running = true;
			out->running_pid = pid;
			out->running_by = jstr(o, "by");
			out->running_trigger = jstr(o, "trigger");
			out->running_started_ms = util_double_to_int64(jnum(o, "startedMs", 0));
		}
		cJSON_Delete(o);
	}
	r = read_json(lp, &o, err);
	if (r < 0)
		rc = -1;
	if (r == 0) {
		if (result_from(o, &out->last) == 0) {
			out->has_last = true;
			out->last_pid = util_double_to_int(jnum(o, "pid", 0));
			out->last_by = jstr(o, "by");
			out->last_finished_ms = util_double_to_int64(jnum(o, "finishedMs", 0));
		} else {
			testrun_result_clear(&out->last);
			rc =
			    lk_error_set(err, "InvalidResult", "%s:1:1: not a test run result", lp);
		}
		cJSON_Delete(o);
	}
	free(rp);
	free(lp);
	return rc;
}

void testrun_shared_clear(struct testrun_shared *s)
{
	free(s->running_by);
	free(s->running_trigger);
	free(s->last_by);
	testrun_result_clear(&s->last);
	memset(s, 0, sizeof(*s));
}
