/* test_json_output.c - every JSON lambdeck prints is valid and terminal-safe whatever the
 * input (issue 21.12): the shared writers (util_json_string, util_json_safe over cJSON's
 * output) with invalid UTF-8, C0/C1 controls, DEL, U+2028; test results from a JUnit report
 * with invalid UTF-8; runner durations that are not numbers a JSON reader can take
 * ("Ran 1 test in 1e999s" gave durationSeconds -9223372036854776). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "backend/testrun.h"
#include "backend/util.h"

/* Valid UTF-8 throughout, and no raw C1 control or DEL. */
static void assert_safe_text(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strlen(s);

	for (size_t i = 0; i < n;) {
		size_t k = util_utf8_len(u + i, n - i);

		if (k == 0)
			fail_msg("invalid UTF-8 at byte %zu of %s", i, s);
		if (u[i] == 0x7f || (k == 2 && u[i] == 0xc2 && u[i + 1] <= 0x9f))
			fail_msg("raw control at byte %zu of %s", i, s);
		i += k;
	}
}

static void test_string_writer(void **state)
{
	(void)state;
	struct buf b = {0};
	const char in[] = "q\"b\\n\n\x1b[1m\x7f"
	                  "\xc2\x9b"
	                  "31m"
	                  "\xe2\x80\xa8"
	                  "\xff"
	                  "\xe2\x82"
	                  "\xc3\xa9";

	util_json_string(&b, in, sizeof(in) - 1, false);
	assert_string_equal(b.data, "\"q\\\"b\\\\n\\n\\u001b[1m\\u007f\\u009b31m\\u2028"
	                            "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xc3\xa9\"");
	assert_safe_text(b.data);
	/* lossless: the invalid bytes stay, the rest is escaped the same way */
	buf_reset(&b);
	util_json_string(&b, in, sizeof(in) - 1, true);
	assert_string_equal(b.data, "\"q\\\"b\\\\n\\n\\u001b[1m\\u007f\\u009b31m\\u2028"
	                            "\xff\xe2\x82\xc3\xa9\"");
	buf_reset(&b);
	util_json_string(&b, "", 0, false);
	assert_string_equal(b.data, "\"\"");
	buf_free(&b);
}

static void test_cjson_output(void **state)
{
	(void)state;
	cJSON *o = cJSON_CreateObject(), *back;
	char *s;

	cJSON_AddStringToObject(o, "payload",
	                        "\xc2\x9b"
	                        "31mred\x7f");
	cJSON_AddStringToObject(o, "bad\xfe", "half \xe2\x82 and \xf4\x90\x80\x80 end");
	cJSON_AddNumberToObject(o, "n", 1.5);
	s = util_json_safe(cJSON_Print(o));
	assert_non_null(s);
	assert_safe_text(s);
	assert_non_null(strstr(s, "\\u009b31mred\\u007f"));
	back = cJSON_Parse(s);
	assert_non_null(back);
	/* the escaped characters come back as they were; invalid bytes as U+FFFD */
	assert_string_equal(cJSON_GetObjectItem(back, "payload")->valuestring, "\xc2\x9b"
	                                                                       "31mred\x7f");
	assert_string_equal(cJSON_GetObjectItem(back, "bad\xef\xbf\xbd")->valuestring,
	                    "half \xef\xbf\xbd\xef\xbf\xbd and \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
	                    "\xef\xbf\xbd end");
	cJSON_Delete(back);
	free(s);
	cJSON_Delete(o);
	assert_null(util_json_safe(NULL));
}

/* durationSeconds of a result as printed, NAN when null. */
static double json_duration(const struct testrun_result *r)
{
	char *s = testrun_result_json(r, true);
	cJSON *o = cJSON_Parse(s);
	const cJSON *d;
	double v;

	assert_non_null(o);
	assert_safe_text(s);
	d = cJSON_GetObjectItem(o, "durationSeconds");
	assert_non_null(d);
	v = cJSON_IsNull(d) ? NAN : d->valuedouble;
	cJSON_Delete(o);
	free(s);
	return v;
}

static void test_durations(void **state)
{
	(void)state;
	const char *outputs[] = {
	    "Ran 1 test in 1e999s\n\nOK\n",
	    "Ran 1 test in 1e300s\n\nOK\n",
	    "Ran 2 tests in 0.5s\n\nOK\nRan 1 test in 1e999s\n\nOK\n",
	    "============ 1 passed in 1e999s ============\n",
	    "ok  \texample.com/m\t1e999s\n",
	};

	for (size_t i = 0; i < sizeof(outputs) / sizeof(outputs[0]); i++) {
		struct testrun_result r = {.status = TESTRUN_PASSED, .duration_s = 2.25};

		testrun_parse_output(outputs[i], strlen(outputs[i]), &r);
		/* unknown: the measured wall time stays */
		assert_true(r.duration_s == 2.25);
		assert_true(json_duration(&r) == 2.25);
		testrun_result_clear(&r);
	}
	{
		struct testrun_result r = {.status = TESTRUN_PASSED, .duration_s = 2.25};
		const char *ok = "Ran 3 tests in 0.125s\n\nOK\n";

		testrun_parse_output(ok, strlen(ok), &r);
		assert_true(r.duration_s == 0.125);
		testrun_result_clear(&r);
	}
	{
		struct testrun_result r = {.status = TESTRUN_PASSED, .duration_s = INFINITY};

		assert_true(isnan(json_duration(&r)));
		r.duration_s = -1e300;
		assert_true(isnan(json_duration(&r)));
	}
	const char *times[] = {"1e999", "-5", "nan", "inf", "1e300"};
	for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		char xml[512];
		struct testrun_result r = {.duration_s = 1.5};
		struct lk_error err = {0};

		snprintf(xml, sizeof(xml),
		         "<testsuite tests=\"1\" time=\"%s\"><testcase name=\"a\" time=\"%s\"/>"
		         "</testsuite>",
		         times[i], times[i]);
		assert_int_equal(testrun_parse_junit(xml, strlen(xml), "r.xml", &r, &err), 0);
		assert_true(r.duration_s == 1.5);
		assert_true(json_duration(&r) == 1.5);
		testrun_result_clear(&r);
	}
}

/* A JUnit report's raw bytes (invalid UTF-8, C1) in names and messages: the JSON stays valid. */
static void test_junit_bytes(void **state)
{
	(void)state;
	const char xml[] = "<testsuite name=\"s\xff\" tests=\"1\"><testcase classname=\"t\xff\" "
	                   "name=\"x\xc2\x9b"
	                   "2J\" file=\"a\xfe\xc2\x9b.py\" line=\"3\"><failure message=\"boom "
	                   "\xe2\x82 \xc0\xaf\">trace \xfe"
	                   "</failure></testcase></testsuite>";
	struct testrun_result r = {0};
	struct lk_error err = {0};
	char *s;
	cJSON *o;

	assert_int_equal(testrun_parse_junit(xml, sizeof(xml) - 1, "r.xml", &r, &err), 0);
	assert_int_equal(r.n_failures, 1);
	s = testrun_result_json(&r, true);
	assert_safe_text(s);
	o = cJSON_Parse(s);
	assert_non_null(o);
	cJSON_Delete(o);
	free(s);
	testrun_result_clear(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_string_writer),
	    cmocka_unit_test(test_cjson_output),
	    cmocka_unit_test(test_durations),
	    cmocka_unit_test(test_junit_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
