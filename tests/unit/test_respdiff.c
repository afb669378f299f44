/* Unit tests for backend/respdiff: the line diff (blank lines kept, '-' before '+', final
 * newline, too long), and the whole report (status, JSON fields, identical, not JSON). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "backend/respdiff.h"
#include "backend/util.h"

/* Collects the report as "K|text\n" lines, K one of = - + ! ~. */
static void collect(enum respdiff_kind kind, const char *text, void *user)
{
	static const char k[] = {'=', '-', '+', '!', '~'};

	buf_printf(user, "%c|%s\n", k[kind], text);
}

static char *lines_of(const char *a, const char *b, int *rc)
{
	struct buf out = {0};

	buf_puts(&out, "");
	*rc = respdiff_lines(a, b, collect, &out);
	return buf_steal(&out);
}

static void test_blank_lines_kept(void **state)
{
	int rc;
	char *s = lines_of("a\n\nb\n", "a\nb\n", &rc);

	(void)state;
	assert_int_equal(rc, 0);
	assert_string_equal(s, "=|  a\n-|- \n=|  b\n");
	free(s);
	s = lines_of("x\n\n\ny", "x\n\n\ny", &rc);
	assert_string_equal(s, "=|  x\n=|  \n=|  \n=|  y\n");
	free(s);
}

static void test_del_before_add(void **state)
{
	int rc;
	char *s = lines_of("{\n  \"n\": 1\n}\n", "{\n  \"n\": 2\n}\n", &rc);

	(void)state;
	assert_non_null(strstr(s, "-|-   \"n\": 1\n+|+   \"n\": 2\n"));
	free(s);
	/* two changed lines in a row: both removals, then both additions */
	s = lines_of("p\nq\n", "r\ns\n", &rc);
	assert_string_equal(s, "-|- p\n-|- q\n+|+ r\n+|+ s\n");
	free(s);
}

static void test_edges(void **state)
{
	int rc;
	char *s = lines_of(NULL, "", &rc);
	struct buf big = {0};

	(void)state;
	assert_string_equal(s, "");
	free(s);
	s = lines_of("", "new\n", &rc);
	assert_string_equal(s, "+|+ new\n");
	free(s);
	s = lines_of("same", "same\n", &rc); /* a final newline adds no line */
	assert_string_equal(s, "=|  same\n");
	free(s);
	for (int i = 0; i <= RESPDIFF_MAX_LINES; i++)
		buf_puts(&big, "l\n");
	s = lines_of(big.data, "l\n", &rc);
	assert_int_equal(rc, -1);
	assert_string_equal(s, "!|(responses too long for a line diff)\n");
	free(s);
	buf_free(&big);
}

static void test_report(void **state)
{
	struct buf out = {0};

	(void)state;
	buf_puts(&out, "");
	respdiff_report(200, "{\"n\":1,\"k\":\"v\"}", 500, "{\"n\":2,\"k\":\"v\"}", collect, &out);
	assert_non_null(strstr(out.data, "!|status 200 -> 500\n"));
	assert_non_null(strstr(out.data, "!|n: 1 -> 2\n"));
	assert_non_null(strstr(out.data, "-|-   \"n\": 1,\n+|+   \"n\": 2,\n"));
	assert_true(strstr(out.data, "status") < strstr(out.data, "n: 1 -> 2"));
	buf_free(&out);

	buf_puts(&out, "");
	respdiff_report(200, "{\"a\":[1,2]}", 200, "{\"a\":[1,2]}", collect, &out);
	assert_non_null(strstr(out.data, "~|responses are identical\n"));
	assert_null(strstr(out.data, "status"));
	assert_null(strstr(out.data, "-|"));
	buf_free(&out);

	/* not JSON: no field diff, the raw texts line by line */
	buf_puts(&out, "");
	respdiff_report(200, "plain\ntext", 200, "plain\n\ntext", collect, &out);
	assert_string_equal(out.data, "=|  plain\n+|+ \n=|  text\n");
	buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_blank_lines_kept),
	    cmocka_unit_test(test_del_before_add),
	    cmocka_unit_test(test_edges),
	    cmocka_unit_test(test_report),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
