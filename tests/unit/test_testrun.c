/* test_testrun.c - the runner with real processes on a real loop: command detection, real
 * python3 unittest and node --test runs parsed, command not found, timeout, cancel killing
 * grandchildren (also ones ignoring SIGTERM), bounded/sanitised output, JUnit report
 * (good and broken), re-run on save with debounce and exactly one queued rerun. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "backend/testrun.h"

static uv_loop_t *g_loop;
static char g_dir[256];

struct events {
	int starts, finishes, lines, changes;
	char *triggers[8];
	struct testrun_result last;
	bool stop_on_finish;
};

static void on_start(struct testrun *tr, const struct testrun_result *r, void *user)
{
	struct events *e = user;
	(void)tr;
	assert_int_equal(r->status, r->error ? TESTRUN_ERROR : TESTRUN_RUNNING);
	if (e->starts < 8)
		e->triggers[e->starts] = strdup(r->trigger);
	e->starts++;
}

static void on_line(struct testrun *tr, const char *line, void *user)
{
	struct events *e = user;
	(void)tr;
	assert_null(strchr(line, '\x1b'));
	assert_null(strchr(line, '\n'));
	e->lines++;
}

static void on_finish(struct testrun *tr, const struct testrun_result *r, void *user)
{
	struct events *e = user;
	(void)tr;
	e->finishes++;
	testrun_result_clear(&e->last);
	testrun_result_copy(&e->last, r);
	if (e->stop_on_finish)
		uv_stop(g_loop);
}

static void on_change(struct testrun *tr, const char *const *paths, size_t n, void *user)
{
	struct events *e = user;
	(void)tr, (void)paths, (void)n;
	e->changes++;
}

static const struct testrun_callbacks cbs = {
    .on_start = on_start,
    .on_line = on_line,
    .on_finish = on_finish,
    .on_change = on_change,
};

static void events_clear(struct events *e)
{
	for (int i = 0; i < 8 && i < e->starts; i++)
		free(e->triggers[i]);
	testrun_result_clear(&e->last);
	memset(e, 0, sizeof(*e));
}

static void on_stop(uv_timer_t *t)
{
	*(bool *)t->data = true;
	uv_stop(t->loop);
}

/* Runs the loop until a run finishes (stop_on_finish) or ms elapse; returns true on
 * timeout. */
static bool run_for(unsigned ms)
{
	uv_timer_t t;
	bool timed_out = false;
	uv_timer_init(g_loop, &t);
	uv_update_time(g_loop); /* time passed since the last run: count from now */
	t.data = &timed_out;
	uv_timer_start(&t, on_stop, ms, 0);
	uv_run(g_loop, UV_RUN_DEFAULT);
	uv_close((uv_handle_t *)&t, NULL);
	uv_run(g_loop, UV_RUN_NOWAIT);
	return timed_out;
}

static void put(const char *rel, const char *text)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", g_dir, rel);
	char *slash = strrchr(p, '/');
	*slash = '\0';
	struct lk_error err = {0};
	assert_int_equal(util_mkdir_p(p, 0755, &err), 0);
	*slash = '/';
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	(void)state;
	snprintf(g_dir, sizeof(g_dir), "/tmp/lk-testrun-XXXXXX");
	assert_non_null(mkdtemp(g_dir));
	g_loop = malloc(sizeof(*g_loop));
	uv_loop_init(g_loop);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	pid_t pid = fork();
	if (pid == 0) {
		execlp("rm", "rm", "-rf", g_dir, (char *)NULL);
		_exit(127);
	}
	waitpid(pid, NULL, 0);
	uv_run(g_loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(g_loop), 0);
	free(g_loop);
	return 0;
}

static void close_run(struct testrun *tr)
{
	testrun_free(tr);
	uv_run(g_loop, UV_RUN_DEFAULT);
}

static const struct testrun_failure *find(const struct testrun_result *r, const char *suffix)
{
	for (size_t i = 0; i < r->n_failures; i++) {
		size_t a = strlen(r->failures[i].name), b = strlen(suffix);
		if (a >= b && !strcmp(r->failures[i].name + a - b, suffix))
			return &r->failures[i];
	}
	fail_msg("no failure named *%s among %zu", suffix, r->n_failures);
	return NULL;
}

/* --- detection ----------------------------------------------------------------------------- */

static void expect_detect(const struct project *p, const char *want_cmd, const char *want_src)
{
	const char *src;
	char **argv = testrun_detect(g_dir, p, &src);
	char *cmd = testrun_argv_join(argv);
	assert_string_equal(cmd, want_cmd);
	assert_string_equal(src, want_src);
	free(cmd);
	testrun_argv_free(argv);
}

static void test_detect(void **state)
{
	(void)state;
	char *old_path = strdup(getenv("PATH"));
	char *old_venv = getenv("VIRTUAL_ENV") ? strdup(getenv("VIRTUAL_ENV")) : NULL;
	char bin[300];
	snprintf(bin, sizeof(bin), "%s/bin", g_dir);
	setenv("PATH", bin, 1); /* no python3, no pytest unless we put one there */
	unsetenv("VIRTUAL_ENV");

	expect_detect(NULL, "python3 -m unittest discover", "unittest");
	put("go.mod", "module example.com/x\n");
	expect_detect(NULL, "go test -v ./...", "go.mod");
	put("bin/pytest", "#!/bin/sh\nexit 0\n");
	snprintf(bin, sizeof(bin), "%s/bin/pytest", g_dir);
	chmod(bin, 0755);
	put("pytest.ini", "[pytest]\n");
	/* python3 cannot import it (not on PATH): the pytest executable that works */
	expect_detect(NULL, "pytest", "pytest");
	put("bin/pytest", "#!/bin/sh\nexit 1\n"); /* a broken one is not chosen */
	expect_detect(NULL, "python3 -m pytest", "pytest");
	put("package.json",
	    "{\"scripts\": {\"test\": \"echo \\\"Error: no test specified\\\" && exit 1\"}}");
	expect_detect(NULL, "python3 -m pytest", "pytest"); /* npm init's placeholder */
	put("package.json", "{\"scripts\": {\"test\": \"node --test\"}}");
	expect_detect(NULL, "npm test", "package.json");
	put("Makefile", "CFLAGS := -O2\ntest := nope\nbuild:\n\techo test:\n");
	expect_detect(NULL, "npm test", "package.json"); /* no test target in there */
	put("Makefile", "all: build\ncheck test: build\n\t./run-tests\n");
	expect_detect(NULL, "make test", "Makefile");

	char *argv[] = {"python3", "-m", "pytest", "-k", "not slow", NULL};
	struct project p = {.dir = g_dir, .test_argv = argv};
	expect_detect(&p, "python3 -m pytest -k 'not slow'", "lambdeck.json");
	setenv("PATH", old_path, 1);
	free(old_path);
	if (old_venv)
		setenv("VIRTUAL_ENV", old_venv, 1);
	free(old_venv);
}

static void plan_expect(const struct testrun_plan *pl, size_t i, const char *rel, const char *cmd,
                        const char *rule_prefix)
{
	assert_true(i < pl->n);
	char *c = testrun_argv_join(pl->roots[i].argv);
	assert_string_equal(pl->roots[i].rel, rel);
	assert_string_equal(c, cmd);
	if (strncmp(pl->roots[i].rule, rule_prefix, strlen(rule_prefix)))
		fail_msg("rule %s does not start with %s", pl->roots[i].rule, rule_prefix);
	free(c);
}

/* SAM's layout: no test command at the project root, package.json with scripts.test in
 * each function's code directory: each is a root; a Python project's pytest (named only in
 * tests/requirements.txt) with the interpreter of its virtualenv, which has pytest. */
static void test_detect_roots(void **state)
{
	(void)state;
	char a[300], b[300];
	snprintf(a, sizeof(a), "%s/hello-world", g_dir);
	snprintf(b, sizeof(b), "%s/other", g_dir);
	put("hello-world/package.json", "{\"scripts\": {\"test\": \"mocha tests/unit/\"}}");
	put("other/package.json", "{\"scripts\": {\"test\": \"jest\"}}");
	struct project_function fns[3] = {{.code_dir = a}, {.code_dir = b}, {.code_dir = a}};
	struct project p = {.dir = g_dir, .functions = fns, .n_functions = 3};
	struct testrun_plan pl;
	testrun_plan_detect(g_dir, &p, &pl);
	assert_int_equal(pl.n, 2); /* no unittest default at the root, a shared dir once */
	plan_expect(&pl, 0, "hello-world", "npm test", "package.json scripts.test (mocha");
	plan_expect(&pl, 1, "other", "npm test", "package.json scripts.test (jest)");
	struct buf ex = {0};
	testrun_plan_explain(&pl, &ex);
	assert_non_null(strstr(ex.data, "hello-world: npm test\n    chosen by: package.json"));
	assert_non_null(strstr(ex.data, "2 roots run one after the other"));
	buf_free(&ex);
	testrun_plan_clear(&pl);

	/* Python: tests/ without __init__.py, pytest named in tests/requirements.txt */
	put("hello_world/app.py", "def lambda_handler(e, c):\n    return 1\n");
	put("tests/unit/test_handler.py", "from hello_world import app\n\n\ndef test_x():\n"
	                                  "    assert app.lambda_handler(1, 2) == 1\n");
	snprintf(a, sizeof(a), "%s/hello_world", g_dir);
	struct project_function pf = {.code_dir = a};
	struct project pp = {.dir = g_dir, .functions = &pf, .n_functions = 1};
	testrun_plan_detect(g_dir, &pp, &pl);
	assert_int_equal(pl.n, 1);
	plan_expect(&pl, 0, ".", "python3 -m unittest discover -s tests", "unittest");
	testrun_plan_clear(&pl);
	put("tests/requirements.txt", "boto3\npytest\nrequests\n");
	testrun_plan_detect(g_dir, &pp, &pl);
	assert_int_equal(pl.n, 1); /* hello_world/ is walked by the root's pytest */
	plan_expect(&pl, 0, ".", "python3 -m pytest", "pytest: pytest in tests/requirements.txt");
	testrun_plan_clear(&pl);

	/* a virtualenv with pytest (system site packages, as a user would make it) wins */
	char venv[300];
	snprintf(venv, sizeof(venv), "%s/.venv", g_dir);
	pid_t pid = fork();
	if (pid == 0) {
		execl("/usr/bin/python3", "python3", "-m", "venv", "--system-site-packages",
		      "--without-pip", venv, (char *)NULL);
		_exit(127);
	}
	int st = 0;
	waitpid(pid, &st, 0);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	testrun_plan_detect(g_dir, &pp, &pl);
	char want[400];
	snprintf(want, sizeof(want), "%s/bin/python -m pytest", venv);
	plan_expect(&pl, 0, ".", want, "pytest: pytest in tests/requirements.txt; the .venv");
	testrun_plan_clear(&pl);
}

/* --- real runs ------------------------------------------------------------------------------ */

static const char unittest_src[] = "import unittest\n"
                                   "\n"
                                   "\n"
                                   "class TestCart(unittest.TestCase):\n"
                                   "    def test_total(self):\n"
                                   "        self.assertEqual(sum([1, 2]), 3)\n"
                                   "\n"
                                   "    def test_refund(self):\n"
                                   "        self.assertEqual(200, 500)\n";

static void test_real_unittest_run(void **state)
{
	(void)state;
	struct events e = {.stop_on_finish = true};
	put("tests/__init__.py", "");
	put("tests/test_cart.py", unittest_src);
	char **argv = testrun_detect(g_dir, NULL, NULL);
	struct testrun *tr = testrun_new(g_loop, g_dir, argv, NULL, &cbs, &e);
	testrun_argv_free(argv);
	assert_string_equal(testrun_command(tr), "python3 -m unittest discover");
	assert_int_equal(testrun_start(tr, "manual", NULL), 0);
	assert_true(testrun_running(tr));
	assert_true(testrun_pid(tr) > 0);
	assert_false(run_for(20000));
	assert_int_equal(e.last.status, TESTRUN_FAILED);
	assert_int_equal(e.last.format, TESTRUN_FMT_UNITTEST);
	assert_int_equal(e.last.exit_status, 1);
	assert_int_equal(e.last.passed, 1);
	assert_int_equal(e.last.failed, 1);
	const struct testrun_failure *f = find(&e.last, "TestCart.test_refund");
	assert_int_equal(f->line, 9);
	assert_string_equal(f->message, "AssertionError: 200 != 500");
	assert_non_null(f->path);
	assert_non_null(strstr(f->path, "/tests/test_cart.py"));
	assert_true(e.lines > 3);
	assert_true(e.last.n_lines > 3);
	assert_int_equal(testrun_history_count(tr), 1);

	/* fixed -> passes */
	put("tests/test_cart.py", "import unittest\n\n\nclass T(unittest.TestCase):\n"
	                          "    def test_ok(self):\n        pass\n");
	assert_int_equal(testrun_start(tr, "manual", NULL), 0);
	assert_false(run_for(20000));
	assert_int_equal(e.last.status, TESTRUN_PASSED);
	assert_int_equal(e.last.passed, 1);
	assert_int_equal(testrun_history_count(tr), 2);
	assert_int_equal(testrun_history(tr, 0)->status, TESTRUN_PASSED);
	assert_int_equal(testrun_history(tr, 1)->status, TESTRUN_FAILED);
	close_run(tr);
	events_clear(&e);
}

static void test_real_node_test_run(void **state)
{
	(void)state;
	struct events e = {.stop_on_finish = true};
	put("test/cart.test.js", "const test = require('node:test');\n"
	                         "const assert = require('node:assert');\n"
	                         "test('sums', () => { assert.strictEqual(1 + 2, 3); });\n"
	                         "test('refund', () => {\n"
	                         "  assert.strictEqual(200, 500);\n"
	                         "});\n"
	                         "test('later', { skip: true }, () => {});\n");
	char *argv[] = {"node", "--test", NULL};
	struct testrun *tr = testrun_new(g_loop, g_dir, argv, NULL, &cbs, &e);
	assert_int_equal(testrun_start(tr, NULL, NULL), 0);
	assert_false(run_for(30000));
	assert_int_equal(e.last.status, TESTRUN_FAILED);
	assert_int_equal(e.last.format, TESTRUN_FMT_TAP);
	assert_int_equal(e.last.passed, 1);
	assert_int_equal(e.last.failed, 1);
	assert_int_equal(e.last.skipped, 1);
	const struct testrun_failure *f = find(&e.last, "refund");
	assert_int_equal(f->line, 5);
	assert_non_null(f->path);
	assert_non_null(strstr(f->path, "/test/cart.test.js"));
	close_run(tr);
	events_clear(&e);
}

/* Two roots (each function's own package.json) run as one suite: one summary with the
 * counts summed, each root's own result, the failure located in its root's file. */
static void test_suite_of_roots(void **state)
{
	(void)state;
	struct events e = {.stop_on_finish = true};
	char a[300], b[300];
	snprintf(a, sizeof(a), "%s/fa", g_dir);
	snprintf(b, sizeof(b), "%s/fb", g_dir);
	put("fa/package.json", "{\"scripts\": {\"test\": \"node --test\"}}");
	put("fa/test/a.test.js", "const test = require('node:test');\n"
	                         "test('a one', () => {});\ntest('a two', () => {});\n");
	put("fb/package.json", "{\"scripts\": {\"test\": \"node --test\"}}");
	put("fb/test/b.test.js", "const test = require('node:test');\n"
	                         "const assert = require('node:assert');\n"
	                         "test('b ok', () => {});\n"
	                         "test('b bad', () => {\n  assert.strictEqual(1, 2);\n});\n");
	struct project_function fns[2] = {{.code_dir = a}, {.code_dir = b}};
	struct project p = {.dir = g_dir, .functions = fns, .n_functions = 2};
	struct testrun_plan pl;
	testrun_plan_detect(g_dir, &p, &pl);
	assert_int_equal(pl.n, 2);
	struct testrun *tr = testrun_new_plan(g_loop, &pl, NULL, &cbs, &e);
	testrun_plan_clear(&pl);
	assert_string_equal(testrun_command(tr), "npm test (in fa) + npm test (in fb)");
	assert_int_equal(testrun_start(tr, "manual", NULL), 0);
	assert_false(run_for(60000));
	assert_int_equal(e.starts, 1);
	assert_int_equal(e.finishes, 1);
	assert_int_equal(e.last.status, TESTRUN_FAILED);
	assert_true(e.last.counts_known);
	assert_int_equal(e.last.passed, 3);
	assert_int_equal(e.last.failed, 1);
	assert_int_equal(e.last.n_roots, 2);
	assert_string_equal(e.last.roots[0].dir, "fa");
	assert_int_equal(e.last.roots[0].status, TESTRUN_PASSED);
	assert_int_equal(e.last.roots[0].passed, 2);
	assert_string_equal(e.last.roots[1].dir, "fb");
	assert_int_equal(e.last.roots[1].status, TESTRUN_FAILED);
	assert_int_equal(e.last.roots[1].failed, 1);
	assert_true(e.last.exit_status != 0);
	const struct testrun_failure *f = find(&e.last, "b bad");
	assert_int_equal(f->line, 5);
	assert_non_null(f->path);
	assert_non_null(strstr(f->path, "/fb/test/b.test.js"));
	bool header = false;
	for (size_t i = 0; i < e.last.n_lines; i++)
		header = header || !strcmp(e.last.lines[i], "== fb: npm test ==");
	assert_true(header);
	char *j = testrun_result_json(&e.last, false);
	struct testrun_result back;
	assert_int_equal(testrun_result_from_json(j, strlen(j), &back), 0);
	assert_int_equal(back.n_roots, 2);
	assert_int_equal(back.roots[1].failed, 1);
	assert_string_equal(back.roots[1].command, "npm test");
	testrun_result_clear(&back);
	free(j);
	close_run(tr);
	events_clear(&e);
}

/* pytest-style tests in tests/ without __init__.py: unittest discovers none. That is not a
 * pass: NO_TESTS with the likely cause named. */
static void test_no_tests_is_a_warning(void **state)
{
	(void)state;
	struct events e = {.stop_on_finish = true};
	put("tests/test_fn.py", "def test_fn():\n    assert 1 == 1\n");
	char *argv[] = {"python3", "-m", "unittest", "discover", NULL};
	struct testrun_plan pl = {.dir = g_dir};
	testrun_plan_detect(g_dir, NULL, &pl);
	assert_int_equal(pl.n, 1);
	/* whatever was detected, run plain discovery: it finds nothing here */
	testrun_argv_free(pl.roots[0].argv);
	pl.roots[0].argv = testrun_argv_dup(argv);
	struct testrun *tr = testrun_new_plan(g_loop, &pl, NULL, &cbs, &e);
	testrun_plan_clear(&pl);
	assert_int_equal(testrun_start(tr, "manual", NULL), 0);
	assert_false(run_for(30000));
	assert_int_equal(e.last.status, TESTRUN_NO_TESTS);
	assert_non_null(e.last.warning);
	assert_non_null(strstr(e.last.warning, "tests/ has test_*.py files (tests/test_fn.py) but "
	                                       "unittest discovered none"));
	struct buf b = {0};
	testrun_result_summary(&e.last, true, &b);
	assert_non_null(strstr(b.data, "WARN no tests ran"));
	buf_free(&b);
	close_run(tr);
	events_clear(&e);
}

static void test_command_not_found(void **state)
{
	(void)state;
	struct events e = {0};
	struct lk_error err = {0};
	char *argv[] = {"lambdeck-no-such-test-runner", "--x", NULL};
	struct testrun *tr = testrun_new(g_loop, g_dir, argv, NULL, &cbs, &e);
	assert_int_equal(testrun_start(tr, "manual", &err), -1);
	assert_non_null(strstr(err.message, "command not found: lambdeck-no-such-test-runner"));
	assert_int_equal(e.finishes, 1);
	assert_int_equal(e.last.status, TESTRUN_ERROR);
	assert_false(testrun_running(tr));
	close_run(tr);
	events_clear(&e);
}

static void test_timeout(void **state)
{
	(void)state;
	struct events e = {.stop_on_finish = true};
	char *argv[] = {"sleep", "30", NULL};
	struct testrun_opts o = {.timeout_ms = 300, .kill_grace_ms = 1000};
	struct testrun *tr = testrun_new(g_loop, g_dir, argv, &o, &cbs, &e);
	uint64_t t0 = util_monotonic_ns();
	assert_int_equal(testrun_start(tr, NULL, NULL), 0);
	assert_false(run_for(10000));
	assert_int_equal(e.last.status, TESTRUN_TIMEOUT);
	assert_non_null(strstr(e.last.error, "timed out after 0.3 s"));
	assert_true(util_monotonic_ns() - t0 < 5000000000ull);
	close_run(tr);
	events_clear(&e);
}

static bool alive(int pid)
{
	char p[64], buf[512];
	snprintf(p, sizeof(p), "/proc/%d/stat", pid);
	FILE *f = fopen(p, "r");
	if (!f)
		return false;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	const char *rp = strrchr(buf, ')');
	return rp && rp[1] == ' ' && rp[2] != 'Z' && rp[2] != 'X';
}

static int read_pid(const char *rel)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", g_dir, rel);
	FILE *f = fopen(p, "r");
	int pid = 0;
	if (f) {
		if (fscanf(f, "%d", &pid) != 1)
			pid = 0;
		fclose(f);
	}
	return pid;
}

/* Cancel: SIGTERM to the whole group (grandchildren included), SIGKILL after the grace for
 * those that ignore SIGTERM. */
static void test_cancel_kills_grandchildren(void **state)
{
	(void)state;
	struct events e = {.stop_on_finish = true};
	char *argv[] = {"sh", "-c",
	                "sleep 300 & echo $! > gc1.pid; "
	                "sh -c 'trap \"\" TERM; sleep 300 & echo $! > gc3.pid; wait' >/dev/null & "
	                "echo $! > gc2.pid; "
	                "echo started; wait",
	                NULL};
	struct testrun_opts o = {.kill_grace_ms = 400};
	struct testrun *tr = testrun_new(g_loop, g_dir, argv, &o, &cbs, &e);
	assert_int_equal(testrun_start(tr, NULL, NULL), 0);
	for (int i = 0;
	     i < 100 && !(read_pid("gc1.pid") && read_pid("gc2.pid") && read_pid("gc3.pid")); i++)
		run_for(50);
	int p1 = read_pid("gc1.pid"), p2 = read_pid("gc2.pid"), p3 = read_pid("gc3.pid");
	assert_true(p1 > 0 && p2 > 0 && p3 > 0);
	assert_true(alive(p1) && alive(p2) && alive(p3));
	testrun_cancel(tr);
	assert_false(run_for(10000));
	assert_int_equal(e.last.status, TESTRUN_CANCELLED);
	for (int i = 0; i < 40 && (alive(p1) || alive(p2) || alive(p3)); i++)
		usleep(50000);
	assert_false(alive(p1));
	assert_false(alive(p2));
	assert_false(alive(p3));
	close_run(tr);
	events_clear(&e);
}

/* A command that exits leaving a background child holding its output pipe: the run still
 * ends (shortly after the command) and the leftover is killed. */
static void test_leftover_children_do_not_hang_the_run(void **state)
{
	(void)state;
	struct events e = {.stop_on_finish = true};
	char *argv[] = {"sh", "-c", "sleep 300 & echo $! > bg.pid; echo hi", NULL};
	struct testrun *tr = testrun_new(g_loop, g_dir, argv, NULL, &cbs, &e);
	uint64_t t0 = util_monotonic_ns();
	assert_int_equal(testrun_start(tr, NULL, NULL), 0);
	assert_false(run_for(10000));
	assert_true(util_monotonic_ns() - t0 < 5000000000ull);
	assert_int_equal(e.last.status, TESTRUN_PASSED);
	assert_string_equal(e.last.lines[0], "hi");
	int pid = read_pid("bg.pid");
	assert_true(pid > 0);
	for (int i = 0; i < 40 && alive(pid); i++)
		usleep(50000);
	assert_false(alive(pid));
	close_run(tr);
	events_clear(&e);
}

/* Megabytes of binary and escape sequences: bounded, sanitised, never raw. */
static void test_bounded_sanitised_output(void **state)
{
	(void)state;
	struct events e = {.stop_on_finish = true};
	char *argv[] = {"python3", "-c",
	                "import sys\n"
	                "w = sys.stdout.buffer.write\n"
	                "for i in range(3000):\n"
	                "    w(b'\\x1b[31mline %d\\x1b[0m \\x07\\x00\\xff\\xfe\\x1b]0;title\\x07 ' "
	                "% i + bytes(range(256)) + b'\\n')\n"
	                "w(b'x' * 100000 + b'\\n')\n"
	                "w(b'50%\\r75%\\r100%\\n')\n",
	                NULL};
	struct testrun_opts o = {.max_output_bytes = 64 * 1024};
	struct testrun *tr = testrun_new(g_loop, g_dir, argv, &o, &cbs, &e);
	assert_int_equal(testrun_start(tr, NULL, NULL), 0);
	assert_false(run_for(20000));
	assert_int_equal(e.last.status, TESTRUN_PASSED); /* exit 0, nothing recognised */
	assert_int_equal(e.last.format, TESTRUN_FMT_NONE);
	assert_true(e.last.output_bytes > 800000);
	assert_true(e.last.dropped_lines > 2000);
	size_t total = 0;
	for (size_t i = 0; i < e.last.n_lines; i++) {
		const char *l = e.last.lines[i];
		total += strlen(l) + 1;
		for (const char *p = l; *p; p++)
			assert_true((unsigned char)*p >= 0x20 || *p == '\t');
		assert_null(strstr(l, "title"));
	}
	assert_true(total <= 64 * 1024 + 8192 + 64);
	assert_string_equal(e.last.lines[e.last.n_lines - 1], "100%");
	assert_non_null(strstr(e.last.lines[e.last.n_lines - 2], "[line cut]"));
	assert_non_null(strstr(e.last.note, "earlier lines dropped"));
	close_run(tr);
	events_clear(&e);
}

static void test_junit_report(void **state)
{
	(void)state;
	struct events e = {.stop_on_finish = true};
	char *argv[] = {
	    "sh", "-c",
	    "mkdir -p out; printf '%s' '<testsuite><testcase classname=\"m\" name=\"a\"/>"
	    "<testcase classname=\"m\" name=\"b\" file=\"m.py\" line=\"7\">"
	    "<failure message=\"nope\"/></testcase></testsuite>' > out/r.xml; echo ran; exit 1",
	    NULL};
	struct testrun_opts o = {.report_path = "out/r.xml"};
	struct testrun *tr = testrun_new(g_loop, g_dir, argv, &o, &cbs, &e);
	assert_int_equal(testrun_start(tr, NULL, NULL), 0);
	assert_false(run_for(10000));
	assert_int_equal(e.last.format, TESTRUN_FMT_JUNIT);
	assert_int_equal(e.last.status, TESTRUN_FAILED);
	assert_int_equal(e.last.passed, 1);
	assert_int_equal(e.last.failed, 1);
	assert_int_equal(find(&e.last, "m.b")->line, 7);
	close_run(tr);
	events_clear(&e);

	/* broken report: the note says where, raw output and exit status still there */
	e.stop_on_finish = true;
	char *argv2[] = {
	    "sh", "-c",
	    "printf '<testsuite><testcase name=\"a\">' > r2.xml; echo raw-output; exit 3",
	    "--junitxml=r2.xml", NULL};
	tr = testrun_new(g_loop, g_dir, argv2, NULL, &cbs, &e);
	assert_int_equal(testrun_start(tr, NULL, NULL), 0);
	assert_false(run_for(10000));
	assert_int_equal(e.last.status, TESTRUN_FAILED);
	assert_int_equal(e.last.exit_status, 3);
	assert_int_equal(e.last.format, TESTRUN_FMT_NONE);
	assert_non_null(e.last.note);
	assert_non_null(strstr(e.last.note, "r2.xml:1:"));
	assert_non_null(strstr(e.last.note, "JUnit report ignored"));
	assert_string_equal(e.last.lines[0], "raw-output");
	close_run(tr);
	events_clear(&e);
}

/* Save -> run (debounced); saves during the run queue exactly one rerun; ignored paths do
 * not trigger. */
static void test_watch_debounce_and_queued_rerun(void **state)
{
	(void)state;
	struct events e = {0};
	put("app.py", "x = 1\n");
	put(".git/HEAD", "ref\n");
	char *argv[] = {"sh", "-c", "sleep 1.5; echo done", NULL};
	struct testrun_opts o = {.debounce_ms = 100};
	struct testrun *tr = testrun_new(g_loop, g_dir, argv, &o, &cbs, &e);
	struct lk_error err = {0};
	assert_int_equal(testrun_set_watch(tr, true, &err), 0);
	assert_true(testrun_watching(tr));
	assert_int_equal(testrun_watch_dirs(tr), 1); /* .git ignored */

	put(".git/HEAD", "ref2\n");
	put(".app.py.swp", "swap");
	run_for(300);
	assert_int_equal(e.starts, 0);

	put("app.py", "x = 2\n");
	run_for(50);
	assert_int_equal(e.starts, 0); /* still debouncing */
	run_for(250);
	assert_int_equal(e.starts, 1);
	assert_string_equal(e.triggers[0], "on save: app.py");
	assert_true(testrun_running(tr));

	/* three saves (in two debounce batches) during the run -> exactly one rerun */
	put("app.py", "x = 3\n");
	put("lib.py", "y = 1\n");
	run_for(200);
	put("app.py", "x = 4\n");
	run_for(150);
	assert_true(testrun_rerun_queued(tr));
	assert_int_equal(e.starts, 1);
	for (int i = 0; i < 200 && e.finishes < 2; i++)
		run_for(50);
	assert_int_equal(e.finishes, 2);
	run_for(1000);
	assert_int_equal(e.starts, 2);
	assert_int_equal(e.finishes, 2);
	assert_false(testrun_running(tr));
	assert_true(e.changes >= 3);

	/* watch off: saves do nothing */
	assert_int_equal(testrun_set_watch(tr, false, &err), 0);
	put("app.py", "x = 5\n");
	run_for(300);
	assert_int_equal(e.starts, 2);
	close_run(tr);
	events_clear(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_detect, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_detect_roots, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_suite_of_roots, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_tests_is_a_warning, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_real_unittest_run, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_real_node_test_run, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_command_not_found, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cancel_kills_grandchildren, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_leftover_children_do_not_hang_the_run, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_bounded_sanitised_output, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_junit_report, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_watch_debounce_and_queued_rerun, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
