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
#include "tests/lib/unit_tmp.h"

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

/* A project's .lambdeck/ ignores itself for git whoever creates it; an existing one without
 * the file gets it on the next use; a user's own .gitignore there is kept. */
static void test_lambdeck_gitignore(void **state)
{
	(void)state;
	char *dir = test_tmpdir("util-gi");
	char *deep = util_path_join(dir, ".lambdeck/build/fn");
	char *gi = util_path_join(dir, ".lambdeck/.gitignore");
	struct lk_error err = {0};
	struct buf b = {0};

	assert_int_equal(util_mkdir_p(deep, 0755, &err), 0);
	assert_int_equal(util_read_file(gi, &b, &err), 0);
	assert_int_equal(b.len, 2);
	assert_memory_equal(b.data, "*\n", 2);
	assert_int_equal(unlink(gi), 0);
	assert_int_equal(util_mkdir_p(deep, 0755, &err), 0); /* exists: written again */
	assert_true(util_is_file(gi));
	assert_int_equal(util_write_atomic(gi, "mine\n", 5, 0644, &err), 0);
	char *other = util_path_join(dir, ".lambdeck/tests");
	assert_int_equal(util_mkdir_p(other, 0755, &err), 0);
	buf_reset(&b);
	assert_int_equal(util_read_file(gi, &b, &err), 0);
	assert_int_equal(b.len, 5); /* kept */
	char *plain = util_path_join(dir, "lambdeck/x"),
	     *pgi = util_path_join(dir, "lambdeck/.gitignore");
	assert_int_equal(util_mkdir_p(plain, 0755, &err), 0);
	assert_false(util_is_file(pgi)); /* only .lambdeck */

	setenv("XDG_CACHE_HOME", "/x/cache", 1);
	char *c = util_cache_dir();
	assert_string_equal(c, "/x/cache/lambdeck");
	free(c);
	setenv("XDG_CACHE_HOME", "relative", 1); /* not absolute: ignored, as the spec says */
	setenv("HOME", "/home/u", 1);
	c = util_cache_dir();
	assert_string_equal(c, "/home/u/.cache/lambdeck");
	free(c);
	buf_free(&b);
	test_rm_rf(dir);
	free(plain), free(pgi), free(other), free(gi), free(deep), free(dir);
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
	    cmocka_unit_test(test_buf_grows),          cmocka_unit_test(test_sanitize_hostile),
	    cmocka_unit_test(test_atomic_write),       cmocka_unit_test(test_base64_roundtrip),
	    cmocka_unit_test(test_lambdeck_gitignore),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
