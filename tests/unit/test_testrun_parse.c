/* test_testrun_parse.c - result parsers on stored REAL outputs (captured from pytest 7.2,
 * python3.11 unittest, node 20 --test (TAP, spec, junit reporters), go 1.19 test, jest 29
 * with its colours) plus hand-written TAP and JUnit, broken XML and nasty inputs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "backend/testrun.h"

static struct buf load(const char *name)
{
	const char *src = getenv("LAMBDECK_SRC");
	char path[1024];
	struct buf b = {0};
	struct lk_error err = {0};

	snprintf(path, sizeof(path), "%s/tests/data/testrun/%s", src ? src : LAMBDECK_SOURCE_DIR,
	         name);
	if (util_read_file(path, &b, &err) != 0)
		fail_msg("cannot read %s: %s", path, err.message);
	return b;
}

static struct testrun_result parse_file(const char *name)
{
	struct buf b = load(name);
	struct testrun_result r = {0};
	assert_true(testrun_parse_output(b.data, b.len, &r));
	buf_free(&b);
	return r;
}

static const struct testrun_failure *find(const struct testrun_result *r, const char *name)
{
	for (size_t i = 0; i < r->n_failures; i++)
		if (!strcmp(r->failures[i].name, name))
			return &r->failures[i];
	fprintf(stderr, "failure '%s' not found among %zu:\n", name, r->n_failures);
	for (size_t i = 0; i < r->n_failures; i++)
		fprintf(stderr, "  '%s' %s:%d '%s'\n", r->failures[i].name,
		        r->failures[i].file ? r->failures[i].file : "-", r->failures[i].line,
		        r->failures[i].message);
	fail();
	return NULL;
}

static void counts(const struct testrun_result *r, int passed, int failed, int skipped, int errors)
{
	assert_true(r->counts_known);
	assert_int_equal(r->passed, passed);
	assert_int_equal(r->failed, failed);
	assert_int_equal(r->skipped, skipped);
	assert_int_equal(r->errors, errors);
}

static void loc(const struct testrun_failure *f, const char *file, int line, const char *msg)
{
	assert_non_null(f->file);
	assert_string_equal(f->file, file);
	assert_int_equal(f->line, line);
	if (msg)
		assert_string_equal(f->message, msg);
}

static void test_pytest(void **state)
{
	(void)state;
	struct testrun_result r = parse_file("pytest.txt");
	assert_int_equal(r.format, TESTRUN_FMT_PYTEST);
	counts(&r, 1, 2, 1, 0);
	assert_true(r.duration_s > 0.18 && r.duration_s < 0.2);
	assert_int_equal(r.n_failures, 2);
	loc(find(&r, "tests/test_orders.py::TestOrders::test_error"), "tests/test_orders.py", 20,
	    "ValueError: boom <&> \"quoted\"");
	loc(find(&r, "tests/test_orders.py::TestOrders::test_refund"), "tests/test_orders.py", 13,
	    "AssertionError: 200 != 500");
	testrun_result_clear(&r);
}

static void test_pytest_multiframe_quiet_and_colour(void **state)
{
	(void)state;
	const char *files[] = {"pytest2.txt", "pytest_q.txt", "pytest_color.txt"};
	for (size_t i = 0; i < 3; i++) {
		struct testrun_result r = parse_file(files[i]);
		assert_int_equal(r.format, TESTRUN_FMT_PYTEST);
		counts(&r, 2, 3, 2, 0); /* 1 skipped + 1 xfailed */
		assert_int_equal(r.n_failures, 3);
		/* the line inside the test, not the helper's */
		loc(find(&r, "tests/test_plain.py::test_helper"), "tests/test_plain.py", 13,
		    "AssertionError: x should be three");
		testrun_result_clear(&r);
	}
}

static void test_unittest(void **state)
{
	(void)state;
	const char *files[] = {"unittest.txt", "unittest_v.txt"};
	for (size_t i = 0; i < 2; i++) {
		struct testrun_result r = parse_file(files[i]);
		assert_int_equal(r.format, TESTRUN_FMT_UNITTEST);
		counts(&r, 1, 1, 1, 1);
		assert_int_equal(r.n_failures, 2);
		loc(find(&r, "tests.test_orders.TestOrders.test_refund"),
		    "/tmp/cap/py/tests/test_orders.py", 13, "AssertionError: 200 != 500");
		loc(find(&r, "tests.test_orders.TestOrders.test_error"),
		    "/tmp/cap/py/tests/test_orders.py", 20, "ValueError: boom <&> \"quoted\"");
		testrun_result_clear(&r);
	}
}

static void test_node_tap(void **state)
{
	(void)state;
	struct testrun_result r = parse_file("node_tap.txt");
	assert_int_equal(r.format, TESTRUN_FMT_TAP);
	counts(&r, 2, 3, 1, 0); /* node's own "# pass/# fail" lines */
	assert_true(r.duration_s > 2.1 && r.duration_s < 2.2);
	/* the parent that failed only through its subtest is not listed */
	assert_int_equal(r.n_failures, 2);
	loc(find(&r, "refund"), "/tmp/cap/node/test/app.test.js", 9,
	    "Expected values to be strictly equal:");
	loc(find(&r, "inner bad"), "/tmp/cap/node/test/app.test.js", 17, "inner <boom>");
	testrun_result_clear(&r);
}

static void test_node_spec(void **state)
{
	(void)state;
	struct testrun_result r = parse_file("node_spec.txt");
	assert_int_equal(r.format, TESTRUN_FMT_NODE);
	counts(&r, 2, 3, 1, 0);
	assert_int_equal(r.n_failures, 2);
	loc(find(&r, "refund"), "/tmp/cap/node/test/app.test.js", 9,
	    "AssertionError [ERR_ASSERTION]: Expected values to be strictly equal:");
	loc(find(&r, "inner bad"), "/tmp/cap/node/test/app.test.js", 17, "Error: inner <boom>");
	testrun_result_clear(&r);
}

static void test_generic_tap(void **state)
{
	(void)state;
	struct testrun_result r = parse_file("tap_generic.txt");
	assert_int_equal(r.format, TESTRUN_FMT_TAP);
	counts(&r, 2, 1, 2, 0); /* SKIP and TODO are not failures */
	assert_int_equal(r.n_failures, 1);
	loc(find(&r, "handles unicode"), "t/unicode.t", 12, NULL);
	testrun_result_clear(&r);
}

static void test_go_verbose(void **state)
{
	(void)state;
	struct testrun_result r = parse_file("gotest_v.txt");
	assert_int_equal(r.format, TESTRUN_FMT_GOTEST);
	counts(&r, 2, 3, 1, 0);
	assert_int_equal(r.n_failures, 2); /* TestTable only failed through TestTable/case */
	loc(find(&r, "TestRefund"), "example.com/shop/orders/orders_test.go", 9,
	    "Refund(50) = 200, want 500");
	loc(find(&r, "TestTable/case"), "example.com/shop/orders/orders_test.go", 19,
	    "bad refund for 1");
	testrun_result_clear(&r);
}

static void test_go_plain_and_build_failure(void **state)
{
	(void)state;
	struct testrun_result r = parse_file("gotest.txt");
	counts(&r, 0, 3, 0, 0);
	loc(find(&r, "TestRefund"), "example.com/shop/orders/orders_test.go", 9,
	    "Refund(50) = 200, want 500");
	testrun_result_clear(&r);

	r = parse_file("gotest_build.txt");
	assert_int_equal(r.errors, 1);
	loc(find(&r, "example.com/shop/broken [build failed]"), "broken/b_test.go", 5,
	    "undefined: undefinedThing");
	loc(find(&r, "TestTable/case"), "example.com/shop/orders/orders_test.go", 19, NULL);
	testrun_result_clear(&r);
}

static void test_jest_with_colours(void **state)
{
	(void)state;
	struct testrun_result r = parse_file("jest.txt");
	assert_int_equal(r.format, TESTRUN_FMT_JEST);
	counts(&r, 1, 2, 1, 0);
	assert_true(r.duration_s > 2.5 && r.duration_s < 2.6);
	loc(find(&r, "cart › sums items"), "src/cart.test.js", 5,
	    "expect(received).toBe(expected) // Object.is equality");
	loc(find(&r, "cart › empty cart"), "src/cart.test.js", 8, NULL);
	testrun_result_clear(&r);
}

static struct testrun_result junit_file(const char *name, int expect_rc, struct lk_error *err)
{
	struct buf b = load(name);
	struct testrun_result r = {0};
	assert_int_equal(testrun_parse_junit(b.data, b.len, name, &r, err), expect_rc);
	buf_free(&b);
	return r;
}

static void test_junit_real(void **state)
{
	(void)state;
	struct lk_error err = {0};
	const char *files[] = {"pytest-junit.xml", "pytest-junit-xunit1.xml"};
	for (size_t i = 0; i < 2; i++) {
		struct testrun_result r = junit_file(files[i], 0, &err);
		assert_int_equal(r.format, TESTRUN_FMT_JUNIT);
		counts(&r, 1, 2, 1, 0);
		loc(find(&r, "tests.test_orders.TestOrders.test_error"), "tests/test_orders.py", 20,
		    "ValueError: boom <&> \"quoted\"");
		loc(find(&r, "tests.test_orders.TestOrders.test_refund"), "tests/test_orders.py",
		    13, "AssertionError: 200 != 500");
		testrun_result_clear(&r);
	}
	struct testrun_result r = junit_file("pytest2-junit.xml", 0, &err);
	counts(&r, 2, 3, 2, 0);
	loc(find(&r, "tests.test_plain.test_helper"), "tests/test_plain.py", 13, NULL);
	testrun_result_clear(&r);

	r = junit_file("node-junit.xml", 0, &err);
	counts(&r, 2, 2, 1, 0);
	loc(find(&r, "test.refund"), "/tmp/cap/node/test/app.test.js", 9,
	    "Expected values to be strictly equal:200 !== 500");
	testrun_result_clear(&r);
}

static void test_junit_handwritten(void **state)
{
	(void)state;
	struct lk_error err = {0};
	struct testrun_result r = junit_file("junit_handwritten.xml", 0, &err);
	counts(&r, 1, 1, 1, 1);
	assert_true(r.duration_s > 1.49 && r.duration_s < 1.51);
	loc(find(&r, "pkg.Mod.t1"), "src/mod.py", 41, "assert x < y & z");
	assert_string_equal(find(&r, "pkg.Mod.t2")->message,
	                    "Crash: \xF0\x9F\x92\xA5 \xC3\xA9t\xC3\xA9");
	testrun_result_clear(&r);
}

static void test_junit_broken(void **state)
{
	(void)state;
	struct lk_error err = {0};
	struct testrun_result r = junit_file("junit_broken_truncated.xml", -1, &err);
	assert_string_equal(err.code, "ParseError");
	assert_non_null(
	    strstr(err.message, "junit_broken_truncated.xml:7:1: unexpected end of file"));
	assert_int_equal(r.n_failures, 0);
	assert_false(r.counts_known);

	r = junit_file("junit_broken_mismatch.xml", -1, &err);
	assert_non_null(strstr(err.message, "junit_broken_mismatch.xml:2:"));
	assert_non_null(strstr(err.message, "mismatched </testcase>, expected </failure>"));

	const char *bad[] = {"",
	                     "   ",
	                     "not xml at all",
	                     "<a>",
	                     "<testsuite",
	                     "<testsuite a=b/>",
	                     "<testsuite></testsuite><testsuite/>",
	                     "<x/>",
	                     "<a></b>",
	                     "<testsuite name=\"unterminated/>",
	                     "<!-- never closed",
	                     "<testsuite>&#xFFFFFFFF;"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		lk_error_clear(&err);
		assert_int_equal(testrun_parse_junit(bad[i], strlen(bad[i]), "r.xml", &r, &err),
		                 -1);
		assert_true(lk_error_is_set(&err));
		assert_non_null(strstr(err.message, "r.xml:"));
	}
}

static void test_ansi_strip_and_nasty_input(void **state)
{
	(void)state;
	struct buf out = {0};
	const char colour[] =
	    "\x1b[31mred\x1b[0m \x1b]8;;http://x\x07link\x1b]8;;\x1b\\ \x1b(Bok\x1b=";
	testrun_strip_ansi(colour, sizeof(colour) - 1, &out);
	assert_string_equal(out.data, "red link ok");
	buf_free(&out);

	/* empty, binary, invalid UTF-8, a huge line: no crash, nothing recognised */
	struct testrun_result r = {0};
	assert_false(testrun_parse_output("", 0, &r));
	char *bin = malloc(1 << 20);
	for (size_t i = 0; i < (1u << 20); i++)
		bin[i] = (char)((i * 2654435761u) >> 13);
	assert_false(testrun_parse_output(bin, 1 << 20, &r));
	memset(bin, 'A', 1 << 20);
	assert_false(testrun_parse_output(bin, 1 << 20, &r));
	free(bin);
	assert_int_equal(r.n_failures, 0);

	/* control characters and invalid UTF-8 in a failure message come out sanitised */
	const char evil[] =
	    "FAIL: test_x (m.T.test_x)\n"
	    "----------------------------------------------------------------------\n"
	    "Traceback (most recent call last):\n"
	    "  File \"/p/m.py\", line 3, in test_x\n"
	    "    x()\n"
	    "AssertionError: \x1b[2J\x07"
	    "bad \xff\xfe"
	    " bytes\r\n"
	    "\n"
	    "----------------------------------------------------------------------\n"
	    "Ran 1 test in 0.001s\n\nFAILED (failures=1)\n";
	assert_true(testrun_parse_output(evil, sizeof(evil) - 1, &r));
	counts(&r, 0, 1, 0, 0);
	const struct testrun_failure *f = find(&r, "m.T.test_x");
	assert_null(strchr(f->message, 0x1b));
	assert_null(strchr(f->message, 0x07));
	assert_non_null(strstr(f->message, "\xEF\xBF\xBD"));
	loc(f, "/p/m.py", 3, NULL);
	testrun_result_clear(&r);

	/* a summary-like line inside other text does not count as pytest */
	const char fake[] = "we have 3 apples in 2s\nsomething 1 passed in a while\n";
	assert_false(testrun_parse_output(fake, sizeof(fake) - 1, &r));
}

/* Every prefix (truncated report / output) and byte flips: an error or a result, never a
 * crash or a read past the end (ASan). */
static void test_truncated_and_mutated_inputs(void **state)
{
	(void)state;
	const char *xmls[] = {"pytest-junit.xml", "node-junit.xml", "junit_handwritten.xml"};
	for (size_t k = 0; k < 3; k++) {
		struct buf b = load(xmls[k]);
		for (size_t n = 0; n <= b.len; n += 3) {
			char *copy = malloc(n ? n : 1);
			memcpy(copy, b.data, n);
			struct testrun_result r = {0};
			struct lk_error err = {0};
			int rc = testrun_parse_junit(copy, n, "t.xml", &r, &err);
			if (n < b.len - 16) /* a cut report is never accepted as complete */
				assert_int_equal(rc, -1);
			if (rc < 0)
				assert_non_null(strstr(err.message, "t.xml:"));
			testrun_result_clear(&r);
			free(copy);
		}
		for (size_t i = 0; i < b.len; i += 5) {
			char saved = b.data[i];
			b.data[i] = (char)(saved ^ (0x55 + (char)i));
			struct testrun_result r = {0};
			struct lk_error err = {0};
			testrun_parse_junit(b.data, b.len, "t.xml", &r, &err);
			testrun_result_clear(&r);
			b.data[i] = saved;
		}
		buf_free(&b);
	}
	const char *outs[] = {"pytest2.txt",  "unittest.txt", "node_tap.txt",   "node_spec.txt",
	                      "gotest_v.txt", "jest.txt",     "tap_generic.txt"};
	for (size_t k = 0; k < sizeof(outs) / sizeof(*outs); k++) {
		struct buf b = load(outs[k]);
		for (size_t n = 0; n <= b.len; n += 11) {
			char *copy = malloc(n ? n : 1);
			memcpy(copy, b.data, n);
			struct testrun_result r = {0};
			testrun_parse_output(copy, n, &r);
			for (size_t i = 0; i < r.n_failures; i++)
				assert_non_null(r.failures[i].message);
			testrun_result_clear(&r);
			free(copy);
		}
		buf_free(&b);
	}
}

static void test_summary_and_json(void **state)
{
	(void)state;
	struct testrun_result r = parse_file("pytest.txt");
	r.status = TESTRUN_FAILED;
	r.exit_status = 1;
	struct buf b = {0};
	testrun_result_summary(&r, true, &b);
	assert_string_equal(b.data, "FAIL 2 failed, 1 passed, 1 skipped  0.19 s");
	char *j = testrun_result_json(&r, false);
	struct testrun_result none = {
	    .status = TESTRUN_PASSED, .counts_known = true, .duration_s = 0.5};
	struct buf b2 = {0};
	testrun_result_summary(&none, true, &b2);
	assert_string_equal(b2.data, "PASS no tests ran  0.50 s");
	buf_free(&b2);
	assert_non_null(strstr(j, "\"status\":\"failed\""));
	assert_non_null(strstr(j, "\"line\":13"));
	free(j);
	buf_free(&b);
	testrun_result_clear(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pytest),
	    cmocka_unit_test(test_pytest_multiframe_quiet_and_colour),
	    cmocka_unit_test(test_unittest),
	    cmocka_unit_test(test_node_tap),
	    cmocka_unit_test(test_node_spec),
	    cmocka_unit_test(test_generic_tap),
	    cmocka_unit_test(test_go_verbose),
	    cmocka_unit_test(test_go_plain_and_build_failure),
	    cmocka_unit_test(test_jest_with_colours),
	    cmocka_unit_test(test_junit_real),
	    cmocka_unit_test(test_junit_handwritten),
	    cmocka_unit_test(test_junit_broken),
	    cmocka_unit_test(test_ansi_strip_and_nasty_input),
	    cmocka_unit_test(test_truncated_and_mutated_inputs),
	    cmocka_unit_test(test_summary_and_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
