/* Unit tests for what processes on one project share besides the history: the deploy state
 * files (backend/deploy.h) and the test run lock / running.json / last.json (testrun.h,
 * "sharing"): round trips, invalid files named with path:line:col, a second runner refused
 * while the lock is held (and a waiting one let in when it is released), a crashed runner's
 * running.json ignored, another process's result adopted and sanitised. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/lib/unit_tmp.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend/deploy.h"
#include "backend/testrun.h"
#include "backend/testrun_internal.h"

static void write_file(const char *dir, const char *rel, const char *text)
{
	char *path = util_path_join(dir, rel);
	assert_int_equal(util_write_atomic(path, text, strlen(text), 0644, NULL), 0);
	free(path);
}

static void test_deploy_state_round_trip(void **state)
{
	char *dir = test_tmpdir("share");
	struct deploy_result r = {.function = "Orders",
	                          .deployed_name = "orders-prod",
	                          .outcome = DEPLOY_UPDATED,
	                          .code_sha256 = "abc="};
	struct deploy_state s;
	struct lk_error err;

	(void)state;
	assert_int_equal(deploy_state_read(dir, "Orders", &s, &err), 1); /* none yet */
	assert_int_equal(deploy_state_write(dir, &r, true, &err), 0);
	assert_int_equal(deploy_state_read(dir, "Orders", &s, &err), 0);
	assert_string_equal(s.outcome, "updated");
	assert_true(s.ok);
	assert_string_equal(s.code_sha256, "abc=");
	assert_string_equal(s.deployed_name, "orders-prod");
	assert_true(s.local);
	assert_int_equal(s.pid, getpid());
	assert_true(s.time_ms > 0);
	assert_null(s.error);
	deploy_state_clear(&s);

	r.outcome = DEPLOY_FAILED;
	snprintf(r.err.code, sizeof(r.err.code), "UpdateFailed");
	snprintf(r.err.message, sizeof(r.err.message), "no space");
	assert_int_equal(deploy_state_write(dir, &r, false, &err), 0);
	assert_int_equal(deploy_state_read(dir, "Orders", &s, &err), 0);
	assert_false(s.ok);
	assert_string_equal(s.error, "UpdateFailed: no space");
	deploy_state_clear(&s);

	/* a name that would leave the directory is refused */
	r.function = "../x";
	assert_int_equal(deploy_state_write(dir, &r, false, &err), -1);

	/* an invalid file: error naming it */
	write_file(dir, ".lambdeck/deploy/Bad.json", "{\"outcome\": 3}");
	assert_int_equal(deploy_state_read(dir, "Bad", &s, &err), -1);
	assert_non_null(strstr(err.message, "deploy/Bad.json:1:1:"));
	test_rm_rf(dir);
	free(dir);
}

static void fill_result(struct testrun_result *r)
{
	memset(r, 0, sizeof(*r));
	r->status = TESTRUN_FAILED;
	r->format = TESTRUN_FMT_UNITTEST;
	r->trigger = strdup("on save: app.py");
	r->command = strdup("python3 -m unittest discover");
	r->exit_status = 1;
	r->counts_known = true;
	r->passed = 4;
	r->failed = 1;
	r->duration_s = 0.25;
	r->started_ms = 1700000000000;
	testrun_add_failure(r, "test_refund", "AssertionError: 200 != 500", "tests/t.py", 6, NULL);
	r->n_lines = 3000;
	r->lines = calloc(r->n_lines, sizeof(*r->lines));
	for (size_t i = 0; i < r->n_lines; i++)
		r->lines[i] = xasprintf("line %zu", i);
}

static void test_result_json_round_trip(void **state)
{
	struct testrun_result r, back;
	char *json;

	(void)state;
	fill_result(&r);
	json = testrun_result_json(&r, true);
	assert_int_equal(testrun_result_from_json(json, strlen(json), &back), 0);
	assert_int_equal(back.status, TESTRUN_FAILED);
	assert_int_equal(back.format, TESTRUN_FMT_UNITTEST);
	assert_string_equal(back.trigger, "on save: app.py");
	assert_string_equal(back.command, "python3 -m unittest discover");
	assert_int_equal(back.exit_status, 1);
	assert_int_equal(back.passed, 4);
	assert_int_equal(back.failed, 1);
	assert_int_equal(back.n_failures, 1);
	assert_string_equal(back.failures[0].name, "test_refund");
	assert_string_equal(back.failures[0].message, "AssertionError: 200 != 500");
	assert_string_equal(back.failures[0].file, "tests/t.py");
	assert_int_equal(back.failures[0].line, 6);
	assert_int_equal(back.n_lines, 3000);
	assert_string_equal(back.lines[2999], "line 2999");
	free(json);
	testrun_result_clear(&back);
	assert_int_equal(testrun_result_from_json("{\"status\":\"nope\"}", 17, &back), -1);
	assert_int_equal(testrun_result_from_json("{", 1, &back), -1);
	testrun_result_clear(&r);
}

static void test_lock_last_and_running(void **state)
{
	char *dir = test_tmpdir("share");
	struct testrun_result r;
	struct testrun_shared s;
	struct lk_error err;
	int fd, fd2;
	pid_t child;

	(void)state;
	fill_result(&r);
	assert_int_equal(testrun_share_acquire(dir, false, &fd, &err), 0);
	testrun_share_started(dir, "console", &r);
	/* a second runner (an own open file description, as another process has) is refused */
	assert_int_equal(testrun_share_acquire(dir, false, &fd2, &err), 2);
	assert_string_equal(err.code, "Busy");
	assert_non_null(strstr(err.message, "running in console (pid"));
	assert_int_equal(testrun_shared_read(dir, &s, &err), 0);
	assert_true(s.running); /* running.json names a live pid (ours) */
	assert_int_equal(s.running_pid, getpid());
	assert_string_equal(s.running_trigger, "on save: app.py");
	testrun_shared_clear(&s);
	/* a waiting runner in another process gets in once the lock is let go */
	child = fork();
	if (child == 0) {
		int cfd;
		struct lk_error cerr;
		close(fd); /* the parent's lock, inherited: only the parent lets it go */
		_exit(testrun_share_acquire(dir, true, &cfd, &cerr) == 0 ? 0 : 1);
	}
	usleep(200 * 1000);
	assert_int_equal(waitpid(child, NULL, WNOHANG), 0); /* still waiting */
	testrun_share_finished(dir, "console", &r, fd);
	{
		int st = -1;
		assert_int_equal(waitpid(child, &st, 0), child);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	assert_int_equal(testrun_shared_read(dir, &s, &err), 0);
	assert_false(s.running);
	assert_true(s.has_last);
	assert_int_equal(s.last_pid, getpid());
	assert_string_equal(s.last_by, "console");
	assert_int_equal(s.last.failed, 1);
	/* only the last TESTRUN_SHARE_LINES output lines are shared */
	assert_int_equal(s.last.n_lines, TESTRUN_SHARE_LINES);
	assert_int_equal(s.last.dropped_lines, 3000 - TESTRUN_SHARE_LINES);
	testrun_shared_clear(&s);

	/* a crashed runner's running.json (dead pid) is ignored; a live one is reported */
	write_file(dir, ".lambdeck/tests/running.json",
	           "{\"pid\":2147483000,\"by\":\"console\",\"trigger\":\"manual\"}");
	assert_int_equal(testrun_shared_read(dir, &s, &err), 0);
	assert_false(s.running);
	testrun_shared_clear(&s);
	{
		char text[128];
		snprintf(text, sizeof(text),
		         "{\"pid\":%d,\"by\":\"lambdeck test\",\"trigger\":\"x\"}", (int)getppid());
		write_file(dir, ".lambdeck/tests/running.json", text);
	}
	assert_int_equal(testrun_shared_read(dir, &s, &err), 0);
	assert_true(s.running);
	assert_string_equal(s.running_by, "lambdeck test");
	testrun_shared_clear(&s);

	/* an invalid last.json: error with path:line:col */
	write_file(dir, ".lambdeck/tests/last.json", "{\n  \"status\": \"passed\",\n  oops\n}");
	assert_int_equal(testrun_shared_read(dir, &s, &err), -1);
	assert_non_null(strstr(err.message, "tests/last.json:3:"));
	testrun_shared_clear(&s);
	testrun_result_clear(&r);
	test_rm_rf(dir);
	free(dir);
}

static void test_adopt_sanitises(void **state)
{
	char *dir = test_tmpdir("share");
	char *argv[] = {"true", NULL};
	struct testrun *tr;
	struct testrun_shared s = {0};
	const struct testrun_result *cur;
	uv_loop_t loop;

	(void)state;
	uv_loop_init(&loop);
	tr = testrun_new(&loop, dir, argv, NULL, NULL, NULL);
	fill_result(&s.last);
	free(s.last.trigger);
	s.last.trigger = strdup("manual\x1b[2J");
	s.has_last = true;
	s.last_pid = 4242;
	s.last_by = strdup("console");
	testrun_adopt(tr, &s);
	cur = testrun_current(tr);
	assert_non_null(cur);
	assert_string_equal(cur->trigger, "from console pid 4242: manual^[[2J");
	assert_int_equal(cur->failed, 1);
	assert_int_equal(testrun_history_count(tr), 1);
	testrun_shared_clear(&s);
	testrun_free(tr);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	test_rm_rf(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_deploy_state_round_trip),
	    cmocka_unit_test(test_result_json_round_trip),
	    cmocka_unit_test(test_lock_last_and_running),
	    cmocka_unit_test(test_adopt_sanitises),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
