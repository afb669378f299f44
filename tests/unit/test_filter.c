/* Unit tests for backend/emulator/filter: CloudWatch filter patterns, supported subset and
 * the clear rejection of everything else. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/emulator/filter.h"

static bool m(const char *pattern, const char *msg)
{
	struct lk_error err;
	lk_error_clear(&err);
	struct filter_pattern *f = filter_compile(pattern, &err);
	if (!f)
		fail_msg("pattern %s rejected: %s", pattern, err.message);
	bool r = filter_match(f, msg, strlen(msg));
	filter_free(f);
	return r;
}

static void rejected(const char *pattern, const char *part)
{
	struct lk_error err;
	lk_error_clear(&err);
	struct filter_pattern *f = filter_compile(pattern, &err);
	if (f) {
		filter_free(f);
		fail_msg("pattern %s accepted", pattern);
	}
	assert_string_equal(err.code, "InvalidParameterException");
	if (!strstr(err.message, part))
		fail_msg("message '%s' does not name '%s'", err.message, part);
}

static void test_terms(void **state)
{
	(void)state;
	assert_true(m("", "anything"));
	assert_true(m(NULL, "anything"));
	assert_true(m("   ", "anything"));
	assert_true(m("ERROR", "[ERROR] boom"));
	assert_false(m("ERROR", "[error] boom")); /* case-sensitive */
	assert_true(m("ERROR boom", "boom ERROR"));
	assert_false(m("ERROR boom", "ERROR bang"));
	assert_true(m("\"two words\"", "has two words in it"));
	assert_false(m("\"two words\"", "two  words"));
	assert_true(m("\"say \\\"hi\\\"\"", "they say \"hi\" now"));
	assert_true(m("ERROR -Retry", "ERROR final"));
	assert_false(m("ERROR -Retry", "ERROR Retry 2"));
	assert_false(m("ERROR -\"will retry\"", "ERROR will retry"));
	assert_true(m("-DEBUG", "INFO x"));
	assert_false(m("-DEBUG", "DEBUG x"));
	assert_true(m("?ERROR ?WARN", "WARN low disk"));
	assert_true(m("?ERROR ?WARN", "ERROR x"));
	assert_false(m("?ERROR ?WARN", "INFO x"));
	assert_true(m("?\"Task timed out\" ?ERROR", "2026 Task timed out after 3.00 seconds"));
	assert_true(m("-", "a - b")); /* a lone dash is a term */
}

static void test_json(void **state)
{
	(void)state;
	const char *j =
	    "{\"level\":\"error\",\"latency\":250,\"ok\":false,\"user\":{\"id\":\"u-17\","
	    "\"tags\":[\"a\",\"b\"]},\"n\":null,\"code\":\"E42\"}";
	assert_true(m("{ $.level = \"error\" }", j));
	assert_false(m("{ $.level = \"info\" }", j));
	assert_true(m("{ $.level != \"info\" }", j));
	assert_true(m("{$.level=error}", j)); /* bareword value */
	assert_true(m("{ $.latency > 200 }", j));
	assert_false(m("{ $.latency < 200 }", j));
	assert_true(m("{ $.latency >= 250 && $.latency <= 250 }", j));
	assert_true(m("{ $.latency = 250 }", j));
	assert_true(m("{ $.latency != 251 }", j));
	assert_true(m("{ $.user.id = \"u-*\" }", j));
	assert_false(m("{ $.user.id = \"x*\" }", j));
	assert_true(m("{ $.user.tags[1] = \"b\" }", j));
	assert_false(m("{ $.user.tags[5] = \"b\" }", j));
	assert_true(m("{ $.ok IS FALSE }", j));
	assert_false(m("{ $.ok IS TRUE }", j));
	assert_true(m("{ $.n IS NULL }", j));
	assert_true(m("{ $.missing NOT EXISTS }", j));
	assert_false(m("{ $.level NOT EXISTS }", j));
	assert_false(m("{ $.missing = \"x\" }", j));
	assert_true(m("{ ($.level = \"info\" || $.latency > 100) && $.code = \"E*\" }", j));
	assert_false(m("{ $.level = \"info\" || $.latency > 1000 }", j));
	assert_true(m("{ $.level = \"error\" || $.latency > 1000 }", j));
	assert_false(m("{ $.latency = \"250\" }", j)); /* quoted: a string comparison */
	assert_false(m("{ $.user = \"x\" }", j));      /* objects never compare */
	/* non-JSON and prefixed lines */
	assert_false(m("{ $.level = \"error\" }", "not json at all"));
	assert_false(m("{ $.level = \"error\" }", "[1,2]"));
	assert_true(m("{ $.level = \"error\" }",
	              "2026-11-24T11:00:00Z\tabc-123\tINFO\t{\"level\":\"error\"}"));
	assert_false(m("{ $.a = 1 }", "{\"a\":1"));
}

static void test_rejections(void **state)
{
	(void)state;
	rejected("[ip, user, status]", "space-delimited");
	rejected("%ERROR [0-9]+%", "regular expressions");
	rejected("\"unterminated", "unterminated");
	rejected("ERROR ?WARN", "mixing");
	rejected("{ $.a[*] = 1 }", "numeric array indexes");
	rejected("{ $.* = 1 }", "wildcard selectors");
	rejected("{ $.level > \"x\" }", "compare numbers only");
	rejected("{ $.level = \"x\"", "closing '}'");
	rejected("{ $.level = \"x\" } trailing", "text after");
	rejected("{ level = 1 }", "selector");
	rejected("{ $ = 1 }", "at least one member");
	rejected("{ $.a ~ 1 }", "comparison operator");
	rejected("{ $.a IS MAYBE }", "TRUE, FALSE or NULL");
	rejected("{ ($.a = 1 }", "expected ')'");
	rejected("ERROR {x}", "whole pattern");
	rejected("ab\"cd", "stray quote");
	/* the quoted text read before the error is freed (LeakSanitizer checks) */
	rejected("\"x\"y", "closing quote");
	rejected("ok \"x\"y", "closing quote");
	char deep[200];
	memset(deep, '(', 100);
	strcpy(deep + 100, "$.a = 1");
	char pat[256];
	snprintf(pat, sizeof(pat), "{ %s }", deep);
	rejected(pat, "nested too deeply");
	char *huge = xmalloc(3000);
	memset(huge, 'a', 2999);
	huge[2999] = 0;
	rejected(huge, "longer than 1024");
	free(huge);
	/* hostile bytes in a rejected pattern do not reach the message raw */
	struct lk_error err;
	lk_error_clear(&err);
	assert_null(filter_compile("[\x1b[2J]", &err));
	assert_null(strchr(err.message, 0x1b));
}

static void test_hostile_messages(void **state)
{
	(void)state;
	/* embedded NULs, invalid UTF-8, deep JSON nesting: no crash, sane answers */
	struct lk_error err;
	lk_error_clear(&err);
	struct filter_pattern *f = filter_compile("needle", &err);
	const char msg[] = "ab\0cd needle \xff\xfe";
	assert_true(filter_match(f, msg, sizeof(msg) - 1));
	assert_false(filter_match(f, msg, 3));
	filter_free(f);
	f = filter_compile("{ $.a = 1 }", &err);
	char *deep = xmalloc(20001);
	for (int i = 0; i < 10000; i++)
		deep[i] = '[', deep[19999 - i] = ']';
	deep[20000] = 0;
	assert_false(filter_match(f, deep, 20000));
	free(deep);
	filter_free(f);
	filter_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_terms),
	    cmocka_unit_test(test_json),
	    cmocka_unit_test(test_rejections),
	    cmocka_unit_test(test_hostile_messages),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
