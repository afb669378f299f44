/* Regression tests for the bugs the fuzz targets (tests/fuzz) found: each reads the input
 * that crashed, stored as a seed in tests/fuzz/corpus/<target>/regress-*, and checks the
 * observable result of the fix (under gcc the sanitizers do not see every case, e.g. an
 * out-of-range float cast, so the values are asserted). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "backend/aws/awsconfig.h"
#include "backend/history.h"
#include "backend/logline.h"
#include "backend/snapshot.h"
#include "backend/testrun.h"
#include "backend/util.h"

/* The regression input tests/fuzz/corpus/<rel>. */
static struct buf seed(const char *rel)
{
	struct buf b = {0};
	struct lk_error err = {0};
	char *path = xasprintf("%s/tests/fuzz/corpus/%s", LAMBDECK_SOURCE_DIR, rel);

	assert_int_equal(util_read_file(path, &b, &err), 0);
	free(path);
	buf_append(&b, "", 1); /* NUL-terminated for string use */
	b.len--;
	return b;
}

/* The number field of a JSON text (NAN when it is not a number). */
static double json_number(const char *json, const char *key)
{
	cJSON *o = cJSON_Parse(json);
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	double d = cJSON_IsNumber(v) ? v->valuedouble : NAN;

	cJSON_Delete(o);
	return d;
}

/* True when the JSON text's field is null. */
static bool json_is_null(const char *json, const char *key)
{
	cJSON *o = cJSON_Parse(json);
	bool null = cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, key));

	cJSON_Delete(o);
	return null;
}

static void test_double_to_int_saturates(void **state)
{
	(void)state;
	assert_true(util_double_to_int64(1e300) == INT64_MAX);
	assert_true(util_double_to_int64(-1e300) == INT64_MIN);
	assert_true(util_double_to_int64(9223372036854775808.0) == INT64_MAX);
	assert_true(util_double_to_int64(-12.9) == -12);
	assert_true(util_double_to_int64(0.0 / 0.0) == 0);
	assert_int_equal(util_double_to_int(3e9), INT_MAX);
	assert_int_equal(util_double_to_int(-3e9), INT_MIN);
	assert_int_equal(util_double_to_int(200.7), 200);
}

/* history.jsonl numbers beyond int/int64 (fuzz.history: UBSan float-cast-overflow). */
static void test_history_huge_numbers(void **state)
{
	struct buf b = seed("history/regress-huge-numbers.jsonl");
	struct history_entry e;

	(void)state;
	history_entry_init(&e);
	assert_int_equal(history_entry_from_json(b.data, b.len, &e), 0);
	assert_true(e.time_ms == INT64_MAX);
	assert_int_equal(e.status, INT_MAX);
	assert_int_equal(e.memory_mb, INT_MIN);
	assert_int_equal(e.max_memory_mb, INT_MAX);
	history_entry_clear(&e);
	buf_free(&b);
}

/* .lambdeck/tests/last.json numbers beyond int/int64 (fuzz.testrun_share). */
static void test_shared_result_huge_numbers(void **state)
{
	struct buf b = seed("testrun_share/regress-huge-numbers.json");
	struct testrun_result r = {0};
	char *json;

	(void)state;
	assert_int_equal(testrun_result_from_json(b.data, b.len, &r), 0);
	assert_int_equal(r.passed, INT_MAX);
	assert_int_equal(r.failed, INT_MIN);
	assert_true(r.started_ms == INT64_MAX);
	assert_true(r.wall_ms == INT64_MIN);
	assert_true(r.dropped_lines == 0);
	assert_int_equal(r.n_failures, 1);
	assert_int_equal(r.failures[0].line, INT_MAX);
	json = testrun_result_json(&r, true);
	assert_true(json_is_null(json, "durationSeconds")); /* unknown */
	free(json);
	testrun_result_clear(&r);
	buf_free(&b);
}

/* "Ran 1 test in 1e999s" gave durationSeconds -9223372036854776 (fuzz.testrun_output; fixed
 * on main by the issue 21.12 change, kept here with its seed). */
static void test_runner_duration_overflow(void **state)
{
	struct buf b = seed("testrun_output/regress-unittest-1e999.txt");
	struct testrun_result r = {0};
	char *json;

	(void)state;
	assert_true(testrun_parse_output(b.data, b.len, &r));
	assert_int_equal(r.passed, 1);
	json = testrun_result_json(&r, false);
	assert_true(json_number(json, "durationSeconds") == 0); /* the parsed figure is dropped */
	free(json);
	testrun_result_clear(&r);
	buf_free(&b);
}

/* A snapshot file's expected.response and ignore list, compared with itself. */
static size_t snapshot_self_diffs(const char *rel)
{
	struct buf b = seed(rel);
	cJSON *root = cJSON_Parse(b.data);
	const cJSON *resp = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(root, "expected"), "response");
	const cJSON *ign = cJSON_GetObjectItemCaseSensitive(root, "ignore"), *x;
	const char *ignore[32];
	size_t n_ignore = 0, n = 0, count;
	struct snapshot_diff *diffs = NULL;

	assert_non_null(resp);
	cJSON_ArrayForEach(x, ign) if (n_ignore < 32) ignore[n_ignore++] = x->valuestring;
	count = snapshot_compare(resp, resp, ignore, n_ignore, &diffs, &n);
	snapshot_diffs_free(diffs, n);
	cJSON_Delete(root);
	buf_free(&b);
	return count;
}

/* A response with a repeated key ({"a":1,"a":2}) differed from itself, so its snapshot
 * failed every replay (fuzz.snapshot). */
static void test_snapshot_duplicate_keys(void **state)
{
	(void)state;
	assert_int_equal(snapshot_self_diffs("snapshot/regress-duplicate-keys.snapshot.json"), 0);
}

/* An ignore path of many "**" on a deep response took exponential time (the replay hung). */
static void test_snapshot_deep_ignore(void **state)
{
	(void)state;
	alarm(20); /* SIGALRM ends the test run: the fix makes this milliseconds */
	assert_int_equal(snapshot_self_diffs("snapshot/regress-deep-ignore.snapshot.json"), 0);
	alarm(0);
	assert_true(snapshot_path_ignored("a.b[2].c", (const char *[]){"**.**.**.c"}, 1));
	assert_true(snapshot_path_ignored("a.b[2].c", (const char *[]){"a.*[*].**"}, 1));
	assert_false(snapshot_path_ignored("a.b[2].c", (const char *[]){"**.b.c"}, 1));
	assert_true(snapshot_path_ignored("c", (const char *[]){"**.**.c.**"}, 1));
}

/* A REPORT line a function prints itself with "Memory Size: 15555555555 MB" (fuzz.log_lines:
 * UBSan float-cast-overflow in logline_parse_report). */
static void test_report_huge_memory(void **state)
{
	struct buf b = seed("log_lines/regress-report-huge-memory.txt");
	const char *line = strchr(b.data, '\n') + 1;
	struct logline_report r;

	(void)state;
	assert_true(logline_parse_report(line, strcspn(line, "\n"), &r));
	assert_int_equal(r.memory_mb, INT_MAX);
	assert_int_equal(r.max_memory_mb, INT_MAX);
	buf_free(&b);
}

/* A credential_process Expiration with a short offset ("+01:0") made awsconfig_parse_time
 * skip past the end of the string (fuzz.aws_config: ASan heap-buffer-overflow). The value is
 * read from the seed, in a heap string of its own length, as the parser gets it. */
static void test_expiration_short_offset(void **state)
{
	struct buf b = seed("aws_config/regress-expiration-short-offset");
	const char *v = strstr(b.data, "expiration = ") + 13;
	char *exp = xstrndup(v, strcspn(v, "\n"));

	(void)state;
	assert_true(awsconfig_parse_time(exp) == -1);
	assert_true(awsconfig_parse_time("2026-11-24T12:00:00 01:00") == -1);
	assert_true(awsconfig_parse_time("2026-11-24T12:00:00+01:00") ==
	            awsconfig_parse_time("2026-11-24T11:00:00Z"));
	assert_true(awsconfig_parse_time("2026-11-24T12:00:00.5-00:30") ==
	            awsconfig_parse_time("2026-11-24T12:30:00.500Z"));
	free(exp);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_double_to_int_saturates),
	    cmocka_unit_test(test_history_huge_numbers),
	    cmocka_unit_test(test_shared_result_huge_numbers),
	    cmocka_unit_test(test_runner_duration_overflow),
	    cmocka_unit_test(test_snapshot_duplicate_keys),
	    cmocka_unit_test(test_snapshot_deep_ignore),
	    cmocka_unit_test(test_report_huge_memory),
	    cmocka_unit_test(test_expiration_short_offset),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
