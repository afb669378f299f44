/* Unit tests for backend/history: concurrent writers in two processes, torn lines,
 * incremental refresh, the watch noticing another process's append, previous-same-event. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/lib/unit_tmp.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "backend/history.h"

static void make_entry(struct history_entry *e, const char *fn, const char *event, int i)
{
	history_entry_init(e);
	e->function = xstrdup(fn);
	e->mode = xstrdup("local");
	e->invocation_type = xstrdup("RequestResponse");
	e->event_name = xstrdup("ev");
	e->event = xstrdup(event);
	e->status = 200;
	/* A response big enough that a non-atomic writer would interleave. */
	e->response = xasprintf("{\"i\":%d,\"pad\":\"%0*d\"}", i, 3000, i);
	e->duration_ms = 1.5;
}

/* Child: n appends, exits 0 on success. */
static void writer(const char *dir, const char *fn, int n)
{
	for (int i = 0; i < n; i++) {
		struct history_entry e;
		struct lk_error err = {0};
		make_entry(&e, fn, "{}", i);
		if (history_append(dir, &e, &err) < 0) {
			fprintf(stderr, "append: %s\n", err.message);
			_exit(1);
		}
		history_entry_clear(&e);
	}
}

static void test_two_processes_500_each(void **state)
{
	char *dir = test_tmpdir("history"), *path;
	struct history h;
	struct lk_error err = {0};
	pid_t pids[2];
	int a = 0, b = 0;
	FILE *f;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int lines = 0;

	(void)state;
	for (int k = 0; k < 2; k++) {
		pids[k] = fork();
		assert_true(pids[k] >= 0);
		if (pids[k] == 0) {
			writer(dir, k ? "B" : "A", 500);
			_exit(0);
		}
	}
	for (int k = 0; k < 2; k++) {
		int st = 0;
		assert_int_equal(waitpid(pids[k], &st, 0), pids[k]);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	/* Every line is valid JSON on its own: no interleaving. */
	path = history_path(dir);
	f = fopen(path, "r");
	assert_non_null(f);
	while ((n = getline(&line, &cap, f)) > 0) {
		cJSON *j = cJSON_ParseWithLength(line, (size_t)n);
		assert_non_null(j);
		cJSON_Delete(j);
		lines++;
	}
	free(line);
	fclose(f);
	assert_int_equal(lines, 1000);
	assert_int_equal(history_load(dir, &h, &err), 0);
	assert_int_equal(h.n, 1000);
	assert_int_equal(h.skipped, 0);
	for (size_t i = 0; i < h.n; i++) {
		if (!strcmp(h.entries[i].function, "A"))
			a++;
		else if (!strcmp(h.entries[i].function, "B"))
			b++;
		assert_non_null(h.entries[i].id);
	}
	assert_int_equal(a, 500);
	assert_int_equal(b, 500);
	/* ids are unique */
	for (size_t i = 1; i < h.n; i++)
		assert_string_not_equal(h.entries[i].id, h.entries[i - 1].id);
	history_clear(&h);
	free(path);
	test_rm_rf(dir);
	free(dir);
}

static void append_raw(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void test_torn_lines_and_refresh(void **state)
{
	char *dir = test_tmpdir("history"), *path;
	struct history h;
	struct history_entry e;
	struct lk_error err = {0};
	size_t added = 0;

	(void)state;
	/* Missing file = empty history. */
	assert_int_equal(history_load(dir, &h, &err), 0);
	assert_int_equal(h.n, 0);
	make_entry(&e, "F", "{\"a\":1}", 1);
	assert_int_equal(history_append(dir, &e, &err), 0);
	assert_non_null(e.id);
	history_entry_clear(&e);
	assert_int_equal(history_refresh(&h, &added, &err), 0);
	assert_int_equal(added, 1);

	/* A writer caught mid-line: the partial line is not consumed yet. */
	path = history_path(dir);
	append_raw(path, "{\"id\":\"x\",\"function\":\"F\",\"ev");
	assert_int_equal(history_refresh(&h, &added, &err), 0);
	assert_int_equal(added, 0);
	assert_int_equal(h.n, 1);
	/* ... it completes: now it is read. */
	append_raw(path, "ent\":\"{}\"}\n");
	assert_int_equal(history_refresh(&h, &added, &err), 0);
	assert_int_equal(added, 1);
	assert_string_equal(h.entries[1].event, "{}");

	/* A writer that died mid-line: the next append starts a fresh line, the torn one is
	 * skipped, nothing else is lost. */
	append_raw(path, "{\"id\":\"dead\",\"func");
	make_entry(&e, "G", "{}", 2);
	assert_int_equal(history_append(dir, &e, &err), 0);
	history_entry_clear(&e);
	append_raw(path, "garbage that is not json\n\n");
	assert_int_equal(history_refresh(&h, &added, &err), 0);
	assert_int_equal(added, 1);
	assert_string_equal(h.entries[2].function, "G");
	assert_int_equal(h.skipped, 2);

	/* Round trip of every field. */
	assert_int_equal(h.entries[2].status, 200);
	assert_true(h.entries[2].duration_ms > 1.4 && h.entries[2].duration_ms < 1.6);
	assert_true(h.entries[2].billed_ms < 0);
	assert_string_equal(h.entries[2].mode, "local");
	assert_false(history_entry_failed(&h.entries[2]));

	/* File replaced (cleared by the user): re-read from the start. */
	unlink(path);
	make_entry(&e, "H", "{}", 3);
	e.error_code = xstrdup("NetworkError");
	e.error_message = xstrdup("connection refused");
	assert_int_equal(history_append(dir, &e, &err), 0);
	history_entry_clear(&e);
	assert_int_equal(history_refresh(&h, &added, &err), 0);
	assert_int_equal(h.n, 1);
	assert_string_equal(h.entries[0].function, "H");
	assert_true(history_entry_failed(&h.entries[0]));
	assert_string_equal(h.entries[0].error_message, "connection refused");
	history_clear(&h);
	free(path);
	test_rm_rf(dir);
	free(dir);
}

static void test_previous_same_event(void **state)
{
	char *dir = test_tmpdir("history");
	struct history h;
	struct history_entry e;
	struct lk_error err = {0};
	const struct history_entry *p;

	(void)state;
	make_entry(&e, "F", "{\"a\":1}", 0);
	history_append(dir, &e, &err), history_entry_clear(&e);
	make_entry(&e, "F", "{\"a\":2}", 1);
	history_append(dir, &e, &err), history_entry_clear(&e);
	make_entry(&e, "G", "{\"a\":1}", 2);
	history_append(dir, &e, &err), history_entry_clear(&e);
	make_entry(&e, "F", "{\"a\":1}", 3);
	history_append(dir, &e, &err), history_entry_clear(&e);
	assert_int_equal(history_load(dir, &h, &err), 0);
	assert_int_equal(h.n, 4);
	p = history_previous_same_event(&h, 3);
	assert_ptr_equal(p, &h.entries[0]);
	assert_null(history_previous_same_event(&h, 2));
	assert_null(history_previous_same_event(&h, 0));
	assert_null(history_previous_same_event(&h, 99));
	history_clear(&h);
	test_rm_rf(dir);
	free(dir);
}

/* The watch fires when another process appends. */
struct watch_state {
	int fired;
	uv_timer_t timeout;
	bool timed_out;
};

static void on_change(void *user)
{
	struct watch_state *s = user;

	s->fired++;
	uv_stop(s->timeout.loop);
}

static void on_timeout(uv_timer_t *t)
{
	struct watch_state *s = t->data;

	s->timed_out = true;
	uv_stop(t->loop);
}

static void test_watch_sees_other_process(void **state)
{
	char *dir = test_tmpdir("history");
	uv_loop_t loop;
	struct watch_state s = {0};
	struct lk_error err = {0};
	struct history_watch *w;
	pid_t pid;
	int st = 0;
	uint64_t t0;

	(void)state;
	uv_loop_init(&loop);
	uv_timer_init(&loop, &s.timeout);
	s.timeout.data = &s;
	w = history_watch_new(&loop, dir, on_change, &s, &err);
	assert_non_null(w);
	t0 = util_monotonic_ns();
	pid = fork();
	if (pid == 0) {
		writer(dir, "Other", 1);
		_exit(0);
	}
	uv_timer_start(&s.timeout, on_timeout, 1000, 0);
	uv_run(&loop, UV_RUN_DEFAULT);
	waitpid(pid, &st, 0);
	assert_false(s.timed_out);
	assert_true(s.fired >= 1);
	assert_true(util_monotonic_ns() - t0 < 1000000000ull);
	history_watch_free(w);
	uv_close((uv_handle_t *)&s.timeout, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
	test_rm_rf(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_two_processes_500_each),
	    cmocka_unit_test(test_torn_lines_and_refresh),
	    cmocka_unit_test(test_previous_same_event),
	    cmocka_unit_test(test_watch_sees_other_process),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
