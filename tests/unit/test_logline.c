/* Unit tests for backend/logline: REPORT lines, classification, stack-trace locations for
 * Python / Node / path:line, JSON lines, summaries, hostile input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend/logline.h"

#define S(x) x, strlen(x)

static void test_report(void **state)
{
	(void)state;
	struct logline_report r;
	assert_true(logline_parse_report(
	    S("REPORT RequestId: 5f1c-42\tDuration: 3.12 ms\tBilled Duration: 4 ms\tMemory Size: "
	      "128 MB\tMax Memory Used: 41 MB\tInit Duration: 120.55 ms\t"),
	    &r));
	assert_string_equal(r.request_id, "5f1c-42");
	assert_true(r.duration_ms > 3.11 && r.duration_ms < 3.13);
	assert_true(r.billed_ms == 4);
	assert_int_equal(r.memory_mb, 128);
	assert_int_equal(r.max_memory_mb, 41);
	assert_true(r.cold);
	assert_true(r.init_ms > 120.5 && r.init_ms < 120.6);
	/* warm, spaces instead of tabs, timeout status */
	assert_true(
	    logline_parse_report(S("REPORT RequestId: x Duration: 3000.00 ms Billed Duration: "
	                           "3000 ms Memory Size: 128 MB Max Memory Used: 19 MB "
	                           "Status: timeout"),
	                         &r));
	assert_false(r.cold);
	assert_true(r.timed_out);
	assert_true(r.duration_ms == 3000.0);
	assert_false(logline_parse_report(S("REPORT RequestId: x"), &r));
	assert_false(logline_parse_report(S("START RequestId: x Version: $LATEST"), &r));
	assert_false(logline_parse_report(S(""), &r));
	assert_false(logline_parse_report(S("REPORT RequestId: x\tBilled Duration: 4 ms"), &r));
}

static void test_classify(void **state)
{
	(void)state;
	assert_int_equal(logline_classify(S("START RequestId: a Version: $LATEST")), LOGLINE_START);
	assert_int_equal(logline_classify(S("END RequestId: a")), LOGLINE_END);
	assert_int_equal(logline_classify(S("REPORT RequestId: a\tDuration: 1 ms")),
	                 LOGLINE_REPORT);
	assert_int_equal(logline_classify(S("2026-11-24T11:00:00Z a Task timed out after 3.00 "
	                                    "seconds")),
	                 LOGLINE_TIMEOUT);
	assert_int_equal(logline_classify(S("[ERROR] KeyError: 'x'")), LOGLINE_ERROR);
	assert_int_equal(logline_classify(S("Traceback (most recent call last):")), LOGLINE_ERROR);
	assert_int_equal(logline_classify(S("processing order 42")), LOGLINE_PLAIN);
	assert_int_equal(logline_classify(S("")), LOGLINE_PLAIN);
	/* errors are marked by the runtime, not by a word somewhere in the message */
	assert_int_equal(logline_classify(S("2026-11-24T11:00:00.000Z\tabc\tERROR\tInvoke Error "
	                                    "\t{\"errorType\":\"Error\"}")),
	                 LOGLINE_ERROR);
	assert_int_equal(logline_classify(S("2026-11-24T11:00:00.000Z\tabc\tINFO\tretrying "
	                                    "after Error: throttled; ERROR count 0")),
	                 LOGLINE_PLAIN);
	assert_int_equal(logline_classify(S("2026-11-24T11:00:00.000Z\tabc\tWARN\tException "
	                                    "ignored")),
	                 LOGLINE_PLAIN);
	assert_int_equal(logline_classify(S("[INFO]\t2026-11-24T11:00:00.000Z\tabc\tprocessing "
	                                    "ErrorQueue")),
	                 LOGLINE_PLAIN);
	assert_int_equal(logline_classify(S("[ERROR]\t2026-11-24T11:00:00.000Z\tabc\tfailed")),
	                 LOGLINE_ERROR);
	assert_int_equal(logline_classify(S("[CRITICAL]\t2026-11-24T11:00:00.000Z\tabc\tdown")),
	                 LOGLINE_ERROR);
	assert_int_equal(logline_classify(S("reading ERRORS.md and Exception handling docs")),
	                 LOGLINE_PLAIN);
	assert_int_equal(logline_classify(S("TypeError: x is not a function")), LOGLINE_ERROR);
	assert_int_equal(logline_classify(S("Uncaught Exception \t{}")), LOGLINE_ERROR);
	assert_int_equal(logline_classify(S("botocore.exceptions.ClientError: denied")),
	                 LOGLINE_ERROR);
	assert_int_equal(logline_classify(S("Exception handling docs: see README")), LOGLINE_PLAIN);
	assert_int_equal(logline_classify(S("Error handling")), LOGLINE_PLAIN);
	assert_int_equal(logline_classify(S("    at handler (/var/task/index.js:3:9)")),
	                 LOGLINE_PLAIN);
	assert_int_equal(logline_classify(S("{\"errorType\":\"Error\",\"errorMessage\":\"x\"}")),
	                 LOGLINE_ERROR);
	assert_int_equal(
	    logline_classify(S("INIT_REPORT Init Duration: 1.00 ms\tPhase: init\t"
	                       "Status: error\tError Type: Runtime.ImportModuleError")),
	    LOGLINE_ERROR);
	/* one exception, one error: the runtime's traceback is one event with '\r' lines */
	struct logline_stats *s = calloc(1, sizeof(*s));
	const char *tb = "[ERROR] KeyError: 'x'\rTraceback (most recent call last):\r  File "
	                 "\"/var/task/app.py\", line 3, in handler\r    raise KeyError('x')";
	logline_stats_add(s, tb, strlen(tb));
	logline_stats_add(s, S("2026-11-24T11:00:00.000Z\tabc\tINFO\tError: none found"));
	assert_int_equal(s->errors, 1);
	free(s);
}

static void test_fields(void **state)
{
	struct logline_fields f;

	(void)state;
	/* Node.js */
	assert_true(logline_parse_fields(
	    S("2026-11-24T11:00:00.123Z\t5f1c-42\tINFO\thello\rsecond line"), &f));
	assert_int_equal(f.level_len, 4);
	assert_memory_equal(f.level, "INFO", 4);
	assert_int_equal(f.request_id_len, 7);
	assert_memory_equal(f.request_id, "5f1c-42", 7);
	assert_int_equal(f.message_len, strlen("hello\rsecond line"));
	assert_memory_equal(f.message, "hello\rsecond line", f.message_len);
	assert_true(logline_parse_fields(S("2026-11-24T11:00:00.123Z\tundefined\tERROR\t"), &f));
	assert_int_equal(f.message_len, 0);
	/* Python logging and the runtime's error line */
	assert_true(
	    logline_parse_fields(S("[WARNING]\t2026-11-24T11:00:00.123Z\trid\tlow disk"), &f));
	assert_memory_equal(f.level, "WARNING", 7);
	assert_memory_equal(f.request_id, "rid", 3);
	assert_memory_equal(f.message, "low disk", 8);
	assert_true(logline_parse_fields(S("[ERROR] KeyError: 'x'"), &f));
	assert_memory_equal(f.level, "ERROR", 5);
	assert_null(f.request_id);
	assert_memory_equal(f.message, "KeyError: 'x'", 13);
	/* not a runtime line: the whole text is the message */
	static const char *const plain[] = {
	    "hello",
	    "2026-11-24T11:00:00Z hello",                 /* no tab */
	    "2026-11-24T11:00:00.1Z\tid\tlower\tmessage", /* level must be upper case */
	    "2026-11-24T11:00:00.1Z\tid\tINFO",           /* no message field */
	    "2026-11-2XT11:00:00.1Z\tid\tINFO\tx",        /* not a time */
	    "[info] x",
	    "[ERRORS_AND_MORE_THAN_TEN] x",
	    "[",
	    "",
	};
	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		assert_false(logline_parse_fields(plain[i], strlen(plain[i]), &f));
		assert_null(f.level);
		assert_ptr_equal(f.message, plain[i]);
		assert_int_equal(f.message_len, strlen(plain[i]));
	}
	/* truncated input: a prefix of a valid line never reads past len */
	const char *full = "2026-11-24T11:00:00.123Z\t5f1c-42\tINFO\thello";
	for (size_t n = 0; n < strlen(full); n++) {
		char *copy = malloc(n ? n : 1);
		memcpy(copy, full, n);
		logline_parse_fields(copy, n, &f);
		logline_classify(copy, n);
		free(copy);
	}
}

static void test_parts(void **state)
{
	const char *m = "one\rtwo\r\nthree\nfour\r";
	size_t pos = 0, start, len, n = 0;
	const char *want[] = {"one", "two", "three", "four"};

	(void)state;
	while (logline_next_part(m, strlen(m), &pos, &start, &len)) {
		assert_true(n < 4);
		assert_int_equal(len, strlen(want[n]));
		assert_memory_equal(m + start, want[n], len);
		n++;
	}
	assert_int_equal(n, 4);
	pos = 0;
	assert_true(logline_next_part("", 0, &pos, &start, &len)); /* one empty part */
	assert_int_equal(len, 0);
	assert_false(logline_next_part("", 0, &pos, &start, &len));
	pos = 0, n = 0;
	while (logline_next_part("a\r\rb", 4, &pos, &start, &len))
		n++;
	assert_int_equal(n, 3); /* an empty line in the middle stays */
}

static void loc(const char *line, const char *path, int lineno, int col)
{
	struct logline_location l;
	if (!logline_find_location(line, strlen(line), &l))
		fail_msg("no location in %s", line);
	assert_string_equal(l.path, path);
	assert_int_equal(l.line, lineno);
	assert_int_equal(l.column, col);
}

static void test_locations(void **state)
{
	(void)state;
	loc("  File \"/var/task/app.py\", line 12, in lambda_handler", "/var/task/app.py", 12, 0);
	loc("    at Runtime.handler (/var/task/index.js:5:11)", "/var/task/index.js", 5, 11);
	loc("    at /var/task/lib/util.mjs:40:3", "/var/task/lib/util.mjs", 40, 3);
	loc("    at async Promise.all (index 0) (file:///var/task/index.mjs:7:2)",
	    "file:///var/task/index.mjs", 7, 2);
	loc("test_orders.py:33: AssertionError", "test_orders.py", 33, 0);
	loc("error in src/handler.go:17 while parsing", "src/handler.go", 17, 0);
	struct logline_location l;
	assert_false(logline_find_location(S("    at node:internal/process/task_queues:95:5"), &l));
	assert_false(logline_find_location(S("time 12:30:01 nothing here"), &l));
	assert_false(logline_find_location(S("see http://example.com:8080/x"), &l));
	assert_false(logline_find_location(S("File \"unterminated"), &l));
	assert_false(logline_find_location(S(""), &l));
	/* a path longer than the buffer is refused, not overflowed */
	char big[2000];
	memset(big, 'a', sizeof(big));
	memcpy(big + 1990, ".py:1", 5);
	assert_false(logline_find_location(big, 1995, &l));
}

static void test_resolve(void **state)
{
	(void)state;
	char dir[] = "/tmp/lk-logline-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char *f = util_path_join(dir, "app.py");
	struct lk_error err;
	assert_int_equal(util_write_atomic(f, "x\n", 2, 0644, &err), 0);
	char *p = logline_resolve_source(dir, "/var/task/app.py");
	assert_non_null(p);
	assert_string_equal(p, f);
	free(p);
	p = logline_resolve_source(dir, "app.py");
	assert_string_equal(p, f);
	free(p);
	p = logline_resolve_source(dir, f);
	assert_string_equal(p, f);
	free(p);
	p = logline_resolve_source(dir,
	                           "/somewhere/.lambdeck/emulator/functions/f/code/ab12/app.py");
	assert_string_equal(p, f); /* the emulator's copy maps back to the source */
	free(p);
	p = logline_resolve_source(dir, "/home/u/.cache/lambdeck/emulator-0a1b/f/ab12/app.py");
	assert_string_equal(p, f); /* so does its copy under the user's cache */
	free(p);
	assert_null(logline_resolve_source(dir, "/var/task/missing.py"));
	assert_null(logline_resolve_source(dir, "/var/task/../../etc/passwd"));
	assert_null(logline_resolve_source(NULL, "app.py"));
	unlink(f);
	rmdir(dir);
	free(f);
}

static void test_json(void **state)
{
	(void)state;
	struct buf b = {0};
	assert_true(logline_format_json(S("{ \"a\" : 1,\n \"b\": [1, 2] }"), false, &b));
	assert_string_equal(b.data, "{\"a\":1,\"b\":[1,2]}");
	buf_reset(&b);
	assert_true(logline_format_json(S("2026-11-24T11:00:00.000Z\tabc\tINFO\t{\"level\":\"x\"}"),
	                                true, &b));
	assert_true(strncmp(b.data, "2026-11-24T11:00:00.000Z\tabc\tINFO\t{\n", 36) == 0);
	buf_reset(&b);
	assert_false(logline_format_json(S("not json"), false, &b));
	assert_false(logline_format_json(S("{broken"), false, &b));
	assert_false(logline_format_json(S(""), false, &b));
	assert_int_equal(b.len, 0);
	buf_free(&b);
}

static void test_stats(void **state)
{
	(void)state;
	struct logline_stats *s = xcalloc(1, sizeof(*s));
	char line[256];
	for (int i = 1; i <= 100; i++) {
		snprintf(
		    line, sizeof(line),
		    "REPORT RequestId: r%d\tDuration: %d.00 ms\tBilled Duration: %d ms\tMemory "
		    "Size: 128 MB\tMax Memory Used: %d MB%s",
		    i, i, i, 30 + i % 7, i == 1 ? "\tInit Duration: 100.00 ms" : "");
		logline_stats_add(s, line, strlen(line));
	}
	logline_stats_add(s, S("[ERROR] boom"));
	logline_stats_add(s, S("x Task timed out after 3.00 seconds"));
	logline_stats_add(s, S("plain"));
	assert_int_equal(s->invocations, 100);
	assert_int_equal(s->cold_starts, 1);
	assert_int_equal(s->errors, 1);
	assert_int_equal(s->timeouts, 1);
	assert_int_equal(s->max_memory_mb, 36);
	assert_true(logline_stats_percentile(s, 50) >= 50 && logline_stats_percentile(s, 50) <= 51);
	assert_true(logline_stats_percentile(s, 95) >= 95 && logline_stats_percentile(s, 95) <= 96);
	struct buf b = {0};
	logline_stats_format(s, &b);
	assert_non_null(strstr(b.data, "100 inv"));
	assert_non_null(strstr(b.data, "36/128 MB"));
	assert_non_null(strstr(b.data, "1 cold"));
	buf_free(&b);
	/* the window keeps only the newest durations */
	for (int i = 0; i < 2000; i++)
		logline_stats_add(s, S("REPORT RequestId: z\tDuration: 7.00 ms"));
	assert_true(logline_stats_percentile(s, 95) == 7.0);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_report),    cmocka_unit_test(test_classify),
	    cmocka_unit_test(test_locations), cmocka_unit_test(test_resolve),
	    cmocka_unit_test(test_json),      cmocka_unit_test(test_stats),
	    cmocka_unit_test(test_fields),    cmocka_unit_test(test_parts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
