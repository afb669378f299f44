/* Unit tests for backend/util: buffers, atomic writes, sanitising, base64. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend/util.h"

static void test_buf_grows(void **state)
{
	struct buf b = {0};

	(void)state;
	for (int i = 0; i < 1000; i++)
		buf_printf(&b, "%d,", i);
	assert_int_equal(strlen(b.data), b.len);
	assert_true(strncmp(b.data, "0,1,2,", 6) == 0);
	buf_free(&b);
}

static void sanitized(const char *in, size_t len, const char *expect)
{
	struct buf b = {0};

	util_sanitize(in, len, false, false, &b);
	assert_string_equal(b.data ? b.data : "", expect);
	buf_free(&b);
}

static void test_sanitize_hostile(void **state)
{
	(void)state;
	sanitized("\x1b[2Jhi", 6, "^[[2Jhi");
	sanitized("a\0b", 3, "a^@b");
	sanitized("x\x7fy", 3, "x^?y");
	sanitized("bad\xff\xfeok", 7, "bad\xEF\xBF\xBD\xEF\xBF\xBDok");
	sanitized("\xc2\x9b"
	          "31m",
	          5,
	          "\xEF\xBF\xBD\xEF\xBF\xBD"
	          "31m"); /* C1 CSI */
	sanitized("caf\xc3\xa9", 5, "caf\xc3\xa9");
	sanitized("\xe2\x82", 2, "\xEF\xBF\xBD\xEF\xBF\xBD"); /* truncated sequence */
	sanitized("a\nb\tc", 5, "a^Jb c");

	/* empty input still yields a terminated string */
	struct buf b = {0};
	util_sanitize("", 0, false, false, &b);
	assert_non_null(b.data);
	assert_int_equal(b.data[0], '\0');
	buf_free(&b);
}

static void test_atomic_write(void **state)
{
	char dir[] = "/tmp/lk-util-XXXXXX";
	struct lk_error err = {0};
	struct buf b = {0};

	(void)state;
	assert_non_null(mkdtemp(dir));
	char *path = util_path_join(dir, "f.json");
	assert_int_equal(util_write_atomic(path, "one", 3, 0644, &err), 0);
	assert_int_equal(util_write_atomic(path, "two!", 4, 0644, &err), 0);
	assert_int_equal(util_read_file(path, &b, &err), 0);
	assert_string_equal(b.data, "two!");
	/* a write into a missing directory fails and says where */
	char *bad = util_path_join(dir, "missing/f.json");
	assert_int_equal(util_write_atomic(bad, "x", 1, 0644, &err), -1);
	assert_non_null(strstr(err.message, "missing/f.json"));
	unlink(path);
	rmdir(dir);
	free(path);
	free(bad);
	buf_free(&b);
}

static void test_base64_roundtrip(void **state)
{
	size_t n;
	char *enc = util_base64("hello world", 11);

	(void)state;
	assert_string_equal(enc, "aGVsbG8gd29ybGQ=");
	unsigned char *dec = util_base64_decode(enc, strlen(enc), &n);
	assert_int_equal(n, 11);
	assert_memory_equal(dec, "hello world", 11);
	assert_null(util_base64_decode("abc", 3, &n));
	free(enc);
	free(dec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_buf_grows),
	    cmocka_unit_test(test_sanitize_hostile),
	    cmocka_unit_test(test_atomic_write),
	    cmocka_unit_test(test_base64_roundtrip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
