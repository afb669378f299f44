/* Unit tests for the pure parts of backend/snapshot and backend/invoke: JSON comparison
 * with ignore paths, snapshot files (save keeps the ignore list), report text, REPORT line
 * parsing, invocation type names. The replay itself is tested against the emulator
 * (tests/integration/invoke_emulator.sh). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/lib/unit_tmp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend/snapshot.h"

static size_t diff_count(const char *e, const char *a, const char *const *ign, size_t n,
                         struct snapshot_diff **d, size_t *nd)
{
	cJSON *je = cJSON_Parse(e), *ja = cJSON_Parse(a);
	size_t k;

	assert_non_null(je);
	assert_non_null(ja);
	*d = NULL;
	*nd = 0;
	k = snapshot_compare(je, ja, ign, n, d, nd);
	cJSON_Delete(je);
	cJSON_Delete(ja);
	return k;
}

static void test_compare(void **state)
{
	struct snapshot_diff *d;
	size_t nd;
	const char *ign[] = {"**.requestId", "items[*].id", "meta.*"};

	(void)state;
	assert_int_equal(
	    diff_count("{\"a\":1,\"b\":[1,2]}", "{\"b\":[1,2],\"a\":1}", NULL, 0, &d, &nd), 0);
	snapshot_diffs_free(d, nd);

	assert_int_equal(diff_count("{\"a\":1,\"b\":[1,2],\"c\":\"x\"}",
	                            "{\"a\":2,\"b\":[1],\"d\":true,\"c\":\"x\"}", NULL, 0, &d, &nd),
	                 3);
	assert_string_equal(d[0].path, "a");
	assert_string_equal(d[0].expected, "1");
	assert_string_equal(d[0].actual, "2");
	assert_string_equal(d[1].path, "b[1]");
	assert_string_equal(d[1].actual, "(missing)");
	assert_string_equal(d[2].path, "d");
	assert_string_equal(d[2].expected, "(missing)");
	snapshot_diffs_free(d, nd);

	/* Ignored paths, at any depth, in arrays, whole subtrees. */
	assert_int_equal(diff_count("{\"requestId\":\"1\",\"x\":{\"requestId\":\"2\"},"
	                            "\"items\":[{\"id\":1,\"v\":1}],\"meta\":{\"t\":1}}",
	                            "{\"requestId\":\"9\",\"x\":{\"requestId\":\"8\"},"
	                            "\"items\":[{\"id\":7,\"v\":1}],\"meta\":{\"t\":2,\"u\":3}}",
	                            ign, 3, &d, &nd),
	                 0);
	snapshot_diffs_free(d, nd);

	/* A JSON body inside a string is compared as JSON, paths continue into it. */
	assert_int_equal(diff_count("{\"statusCode\":200,\"body\":\"{\\\"id\\\":1,\\\"n\\\":2}\"}",
	                            "{\"statusCode\":200,\"body\":\"{\\\"n\\\":3, \\\"id\\\":1}\"}",
	                            NULL, 0, &d, &nd),
	                 1);
	assert_string_equal(d[0].path, "body.n");
	snapshot_diffs_free(d, nd);

	/* Type changes are one difference; a scalar root too. */
	assert_int_equal(diff_count("{\"a\":\"1\"}", "{\"a\":1}", NULL, 0, &d, &nd), 1);
	snapshot_diffs_free(d, nd);
	assert_int_equal(diff_count("\"hello\"", "\"hellp\"", NULL, 0, &d, &nd), 1);
	assert_string_equal(d[0].path, "");
	snapshot_diffs_free(d, nd);
}

static void test_ignore_patterns(void **state)
{
	const char *ign[] = {"$.a.b", "**.ts", "list[2]", "x.*.y"};

	(void)state;
	assert_true(snapshot_path_ignored("a.b", ign, 4));
	assert_true(snapshot_path_ignored("a.b.c", ign, 4) == false);
	assert_true(snapshot_path_ignored("ts", ign, 4));
	assert_true(snapshot_path_ignored("deep.er[3].ts", ign, 4));
	assert_true(snapshot_path_ignored("list[2]", ign, 4));
	assert_false(snapshot_path_ignored("list[1]", ign, 4));
	assert_true(snapshot_path_ignored("x.q.y", ign, 4));
	assert_false(snapshot_path_ignored("x.y", ign, 4));
	assert_false(snapshot_path_ignored("b", ign, 4));
	assert_true(snapshot_path_ignored("headers.Date", snapshot_default_ignore, 9));
}

static void test_save_keeps_ignore_list(void **state)
{
	char dir[] = "/tmp/lk-snap-XXXXXX";
	struct invoke_result r = {0};
	struct lk_error err = {0};
	struct buf b = {0};
	char *path, *evpath;
	cJSON *j;

	(void)state;
	assert_non_null(mkdtemp(dir));
	r.status = 200;
	r.payload = "{\"ok\":true,\"requestId\":\"abc\"}";
	r.payload_len = strlen(r.payload);
	assert_int_equal(snapshot_save(dir, "Fn", "ev1", "{\"k\":1}", 7, NULL, &r, &err), 0);
	path = snapshot_path(dir, "Fn", "ev1");
	evpath = xasprintf("%s/events/Fn/ev1.json", dir);
	assert_true(util_is_file(evpath)); /* the event is saved too */
	assert_int_equal(util_read_file(path, &b, &err), 0);
	j = cJSON_Parse(b.data);
	assert_non_null(j);
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "payload"), "k")->valueint, 1);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(j, "expected"), "response"), "ok")));
	assert_int_equal(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(j, "expected"), "status")->valueint, 200);
	assert_true(cJSON_GetArraySize(cJSON_GetObjectItem(j, "ignore")) > 3);
	cJSON_Delete(j);
	/* The user narrows the ignore list; saving again keeps it. */
	assert_int_equal(util_write_atomic(path, "{\"ignore\":[\"only.this\"]}", 24, 0644, &err),
	                 0);
	r.payload = "not json";
	r.payload_len = 8;
	r.function_error = "Unhandled";
	assert_int_equal(snapshot_save(dir, "Fn", "ev1", "{\"k\":1}", 7, "live", &r, &err), 0);
	buf_reset(&b);
	assert_int_equal(util_read_file(path, &b, &err), 0);
	j = cJSON_Parse(b.data);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "ignore")), 1);
	assert_string_equal(cJSON_GetObjectItem(j, "qualifier")->valuestring, "live");
	assert_string_equal(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(j, "expected"), "response")->valuestring,
	    "not json");
	assert_string_equal(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(j, "expected"), "functionError")->valuestring,
	    "Unhandled");
	cJSON_Delete(j);
	/* Invalid event or names refused. */
	assert_int_equal(snapshot_save(dir, "Fn", "ev2", "{", 1, NULL, &r, &err), -1);
	assert_int_equal(snapshot_save(dir, "Fn", "../x", "{}", 2, NULL, &r, &err), -1);
	r.status = 0;
	lk_error_set(&r.err, "NetworkError", "down");
	assert_int_equal(snapshot_save(dir, "Fn", "ev3", "{}", 2, NULL, &r, &err), -1);
	assert_string_equal(err.code, "NoResponse");
	buf_free(&b);
	free(path);
	free(evpath);
	test_rm_rf(dir);
}

static void test_report_format(void **state)
{
	struct snapshot_report r = {0};
	struct buf b = {0};

	(void)state;
	r.items = calloc(2, sizeof(*r.items));
	r.n = 2;
	r.items[0].function = strdup("F");
	r.items[0].name = strdup("a");
	r.items[0].passed = true;
	r.items[0].client_ms = 3.25;
	r.items[1].function = strdup("F");
	r.items[1].name = strdup("b");
	r.items[1].client_ms = 1;
	r.items[1].n_diffs = 1;
	r.items[1].diffs = calloc(1, sizeof(struct snapshot_diff));
	r.items[1].diffs[0].path = strdup("body.x");
	r.items[1].diffs[0].expected = strdup("1");
	r.items[1].diffs[0].actual = strdup("\"\x1b[31m\"");
	r.passed = 1;
	r.failed = 1;
	snapshot_report_format(&r, false, &b);
	assert_non_null(strstr(b.data, "PASS  F/a  (3.2 ms)") ? b.data
	                                                      : strstr(b.data, "PASS  F/a"));
	assert_non_null(strstr(b.data, "FAIL  F/b"));
	assert_non_null(strstr(b.data, "body.x: expected 1, got \"^[[31m\""));
	assert_non_null(strstr(b.data, "2 snapshots: 1 passed, 1 failed, 0 errors"));
	assert_null(strchr(b.data, '\x1b'));
	buf_free(&b);
	snapshot_report_clear(&r);
}

static void test_parse_report(void **state)
{
	struct invoke_result r;
	enum invoke_type t;

	(void)state;
	invoke_parse_report(
	    "START RequestId: 1 Version: $LATEST\nhello\nEND RequestId: 1\n"
	    "REPORT RequestId: 1\tDuration: 3.12 ms\tBilled Duration: 4 ms\t"
	    "Memory Size: 128 MB\tMax Memory Used: 41 MB\tInit Duration: 120.55 ms\t\n",
	    &r);
	assert_true(r.duration_ms > 3.11 && r.duration_ms < 3.13);
	assert_true(r.billed_ms == 4);
	assert_true(r.init_ms > 120.5 && r.init_ms < 120.6);
	assert_int_equal(r.memory_mb, 128);
	assert_int_equal(r.max_memory_mb, 41);
	invoke_parse_report("REPORT RequestId: 2\tDuration: 1.00 ms\tBilled Duration: 1 ms\t"
	                    "Memory Size: 256 MB\tMax Memory Used: 50 MB\n",
	                    &r);
	assert_true(r.init_ms < 0);
	assert_int_equal(r.memory_mb, 256);
	/* A function printing "REPORT" mid-line does not fool it; no REPORT = unknown. */
	invoke_parse_report("my REPORT RequestId: x Duration: 99 ms\n", &r);
	assert_true(r.duration_ms < 0);
	invoke_parse_report(NULL, &r);
	assert_int_equal(r.max_memory_mb, -1);
	assert_int_equal(invoke_type_parse("event", &t), 0);
	assert_int_equal(t, INVOKE_EVENT);
	assert_int_equal(invoke_type_parse("RequestResponse", &t), 0);
	assert_int_equal(t, INVOKE_REQUEST_RESPONSE);
	assert_int_equal(invoke_type_parse("bogus", &t), -1);
	assert_string_equal(invoke_type_name(INVOKE_EVENT), "Event");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_compare),
	    cmocka_unit_test(test_ignore_patterns),
	    cmocka_unit_test(test_save_keeps_ignore_list),
	    cmocka_unit_test(test_report_format),
	    cmocka_unit_test(test_parse_report),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
