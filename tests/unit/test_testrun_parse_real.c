/* test_testrun_parse_real.c - the parsers on outputs captured from really running the
 * runners real projects use (tests/data/testrun/README.md says how): mocha 11 (spec, dot,
 * JSON reporter through npm test), jest 30 (default and --json), vitest 4 (with its
 * colours), pytest 7.2 (setup/teardown errors, parametrised ids, -q, xdist), python3.11
 * unittest with docstrings (plain and -v), node 20 --test (TAP and spec). The test sources
 * are in tests/data/testrun/src: each failure must point at the test file's line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "backend/testrun.h"

static struct testrun_result parse_file(const char *name)
{
	const char *src = getenv("LAMBDECK_SRC");
	char path[1024];
	struct buf b = {0};
	struct lk_error err = {0};
	struct testrun_result r = {0};

	snprintf(path, sizeof(path), "%s/tests/data/testrun/%s", src ? src : LAMBDECK_SOURCE_DIR,
	         name);
	if (util_read_file(path, &b, &err) != 0)
		fail_msg("cannot read %s: %s", path, err.message);
	if (!testrun_parse_output(b.data, b.len, &r))
		fail_msg("%s: no format recognised", name);
	buf_free(&b);
	return r;
}

/* The failure named name: at file (suffix) line, its message starting with msg. */
static void failure(const struct testrun_result *r, const char *name, const char *file, int line,
                    const char *msg)
{
	for (size_t i = 0; i < r->n_failures; i++) {
		const struct testrun_failure *f = &r->failures[i];
		if (strcmp(f->name, name))
			continue;
		size_t a = f->file ? strlen(f->file) : 0, b = strlen(file);
		if (!f->file || a < b || strcmp(f->file + a - b, file))
			fail_msg("%s: file %s, want *%s", name, f->file ? f->file : "(none)", file);
		if (f->line != line)
			fail_msg("%s: line %d, want %d", name, f->line, line);
		if (strncmp(f->message, msg, strlen(msg)))
			fail_msg("%s: message '%s', want '%s...'", name, f->message, msg);
		return;
	}
	for (size_t i = 0; i < r->n_failures; i++)
		fprintf(stderr, "  '%s' %s:%d '%s'\n", r->failures[i].name,
		        r->failures[i].file ? r->failures[i].file : "-", r->failures[i].line,
		        r->failures[i].message);
	fail_msg("failure '%s' not found among %zu", name, r->n_failures);
}

static void counts(const struct testrun_result *r, enum testrun_format fmt, int passed, int failed,
                   int skipped, int errors, size_t n_failures)
{
	if (r->format != fmt)
		fail_msg("format %s, want %s", testrun_format_name(r->format),
		         testrun_format_name(fmt));
	assert_true(r->counts_known);
	assert_int_equal(r->passed, passed);
	assert_int_equal(r->failed, failed);
	assert_int_equal(r->skipped, skipped);
	assert_int_equal(r->errors, errors);
	assert_int_equal(r->n_failures, n_failures);
}

static void mocha_failures(const struct testrun_result *r)
{
	failure(r, "cart applies the discount", "test/cart.test.js", 8,
	        "AssertionError [ERR_ASSERTION]: Expected values to be strictly equal");
	failure(r, "cart refunds throws on negative", "test/cart.test.js", 16,
	        "Error: negative amount");
}

static void test_mocha_spec(void **state)
{
	(void)state;
	struct testrun_result r = parse_file("mocha_spec.txt");
	counts(&r, TESTRUN_FMT_MOCHA, 2, 2, 1, 0, 2);
	mocha_failures(&r);
	testrun_result_clear(&r);
}

static void test_mocha_dot(void **state)
{
	(void)state;
	struct testrun_result r = parse_file("mocha_dot.txt");
	counts(&r, TESTRUN_FMT_MOCHA, 2, 2, 1, 0, 2);
	mocha_failures(&r);
	testrun_result_clear(&r);
}

static void test_mocha_json(void **state)
{
	(void)state;
	struct testrun_result r = parse_file("mocha_json.txt"); /* npm test's header first */
	counts(&r, TESTRUN_FMT_MOCHA, 2, 2, 1, 0, 2);
	mocha_failures(&r);
	testrun_result_clear(&r);
}

static void test_jest(void **state)
{
	(void)state;
	struct testrun_result r = parse_file("jest_real.txt");
	counts(&r, TESTRUN_FMT_JEST, 3, 2, 1, 0, 2);
	failure(&r, "cart › applies the discount", "__tests__/cart.test.js", 8,
	        "expect(received).toBe(expected)");
	failure(&r, "cart › doubles 2", "__tests__/cart.test.js", 12,
	        "expect(received).toBe(expected)");
	testrun_result_clear(&r);
}

static void test_jest_json(void **state)
{
	(void)state;
	struct testrun_result r = parse_file("jest_json.txt");
	counts(&r, TESTRUN_FMT_JEST, 3, 2, 1, 0, 2);
	failure(&r, "cart › applies the discount", "__tests__/cart.test.js", 8,
	        "Error: expect(received).toBe(expected)");
	failure(&r, "cart › doubles 2", "__tests__/cart.test.js", 12,
	        "Error: expect(received).toBe(expected)");
	testrun_result_clear(&r);
}

/* ts-jest: the location is the TypeScript source's (jest applies the source map). */
static void test_jest_typescript(void **state)
{
	(void)state;
	struct testrun_result r = parse_file("jest_ts.txt");
	counts(&r, TESTRUN_FMT_JEST, 1, 1, 0, 0, 1);
	failure(&r, "cart › applies the discount", "tests/cart.test.ts", 12,
	        "expect(received).toBe(expected)");
	testrun_result_clear(&r);
	/* a type error: the suite fails to run, "Tests: 0 total": an error at the first
	 * location the compiler names, not a pass and not "no tests" */
	r = parse_file("jest_ts_suite_error.txt");
	counts(&r, TESTRUN_FMT_JEST, 0, 0, 0, 1, 1);
	failure(&r, "tests/cart.test.ts", "tests/cart.test.ts", 3,
	        "tests/cart.test.ts:3:1 - error TS2593: Cannot find name 'describe'.");
	testrun_result_clear(&r);
}

static void test_vitest(void **state)
{
	(void)state;
	struct testrun_result r = parse_file("vitest.txt");
	counts(&r, TESTRUN_FMT_VITEST, 3, 2, 1, 0, 2);
	failure(&r, "test/cart.test.js > cart > applies the discount", "test/cart.test.js", 8,
	        "AssertionError: expected 5 to be 4");
	failure(&r, "test/cart.test.js > cart > doubles 2", "test/cart.test.js", 12,
	        "AssertionError: expected 4 to be 6");
	testrun_result_clear(&r);
}

static void pytest_failures(const struct testrun_result *r)
{
	failure(r, "tests/test_cart.py::test_discount", "tests/test_cart.py", 20,
	        "assert 200 == 500");
	failure(r, "tests/test_cart.py::test_double[2-3]", "tests/test_cart.py", 25,
	        "assert (2 * 2) == (3 * 2)");
	failure(r, "tests/test_cart.py::test_needs_db (setup)", "tests/test_cart.py", 6,
	        "RuntimeError: database unavailable");
	failure(r, "tests/test_cart.py::test_cleans_up (teardown)", "tests/test_cart.py", 12,
	        "RuntimeError: cleanup failed");
}

static void test_pytest_errors(void **state)
{
	(void)state;
	struct testrun_result r = parse_file("pytest_errors.txt");
	/* pytest's own summary: 2 failed, 4 passed, 1 skipped, 1 xfailed, 2 errors */
	counts(&r, TESTRUN_FMT_PYTEST, 4, 2, 2, 2, 4);
	pytest_failures(&r);
	testrun_result_clear(&r);
}

static void test_pytest_errors_q(void **state)
{
	(void)state;
	struct testrun_result r = parse_file("pytest_errors_q.txt");
	counts(&r, TESTRUN_FMT_PYTEST, 4, 2, 2, 2, 4);
	pytest_failures(&r);
	testrun_result_clear(&r);
}

static void test_pytest_xdist(void **state)
{
	(void)state;
	struct testrun_result r = parse_file("pytest_xdist.txt");
	counts(&r, TESTRUN_FMT_PYTEST, 4, 2, 2, 2, 4);
	pytest_failures(&r);
	testrun_result_clear(&r);
}

static void unittest_failures(const struct testrun_result *r)
{
	failure(r, "tests.test_orders.TestOrders.test_refund", "tests/test_orders.py", 14,
	        "AssertionError: 200 != 500");
	failure(r, "tests.test_orders.TestOrders.test_error", "tests/test_orders.py", 18,
	        "ValueError: boom");
}

static void test_unittest_docstrings(void **state)
{
	(void)state;
	struct testrun_result r = parse_file("unittest_doc.txt");
	counts(&r, TESTRUN_FMT_UNITTEST, 1, 1, 1, 1, 2);
	unittest_failures(&r);
	testrun_result_clear(&r);
	r = parse_file("unittest_doc_v.txt");
	counts(&r, TESTRUN_FMT_UNITTEST, 1, 1, 1, 1, 2);
	unittest_failures(&r);
	testrun_result_clear(&r);
}

static void test_node_test(void **state)
{
	(void)state;
	struct testrun_result r = parse_file("node_tap_fail.txt");
	counts(&r, TESTRUN_FMT_TAP, 2, 2, 0, 0, 2);
	/* the assertion's line in the test file, not node:internal frames */
	failure(&r, "applies the discount", "test/cart.test.js", 9,
	        "Expected values to be strictly equal");
	failure(&r, "throws on negative", "test/cart.test.js", 15, "negative amount");
	testrun_result_clear(&r);
	r = parse_file("node_spec_fail.txt");
	counts(&r, TESTRUN_FMT_NODE, 2, 2, 0, 0, 2);
	failure(&r, "applies the discount", "test/cart.test.js", 9,
	        "AssertionError [ERR_ASSERTION]: Expected values to be strictly equal");
	failure(&r, "throws on negative", "test/cart.test.js", 15, "Error: negative amount");
	testrun_result_clear(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mocha_spec),
	    cmocka_unit_test(test_mocha_dot),
	    cmocka_unit_test(test_mocha_json),
	    cmocka_unit_test(test_jest),
	    cmocka_unit_test(test_jest_json),
	    cmocka_unit_test(test_jest_typescript),
	    cmocka_unit_test(test_vitest),
	    cmocka_unit_test(test_pytest_errors),
	    cmocka_unit_test(test_pytest_errors_q),
	    cmocka_unit_test(test_pytest_xdist),
	    cmocka_unit_test(test_unittest_docstrings),
	    cmocka_unit_test(test_node_test),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
