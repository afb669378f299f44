/* test_zipdelta.c - the remote quick deploy's delta: on a real 40 MB / 3 000-file zip written
 * by zipw, a one-file change gives a delta of at most 64 KB that applies back to the new zip
 * byte for byte, both with zipdelta_apply and with the helper function's Python applier;
 * unrelated and empty inputs round-trip; hostile deltas (wrong base, ranges past the end,
 * negative offsets, huge literals, truncated ops, too long/short results, wrong result hash)
 * are refused with nothing produced. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend/zipdelta.h"
#include "backend/zipw.h"

#define N_FILES   3000
#define FILE_SIZE 13981 /* 3 000 incompressible files: a ~42 MB zip */

struct fixture {
	char dir[64];
};

static int run(char *const argv[])
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		execv(argv[0], argv);
		_exit(127);
	}
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/lk-test-zipdelta-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char *argv[] = {"/bin/rm", "-rf", f->dir, NULL};

	run(argv);
	free(f);
	return 0;
}

/* Incompressible bytes from a seed (xorshift64*: a 32-bit LCG's output bytes repeat every
 * 2^24, which a 40 MB artifact exceeds, so any "new" content would be found in the old zip). */
static void noise(struct buf *b, size_t n, uint32_t seed)
{
	uint64_t x = 0x9e3779b97f4a7c15ull ^ seed;

	buf_reset(b);
	for (size_t i = 0; i < n; i++) {
		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		buf_putc(b, (char)((x * 0x2545f4914f6cdd1dull) >> 56));
	}
}

/* Writes a source file without fsync (3 000 of them; the zip writer only reads them). */
static void put_plain(const char *path, const struct buf *content)
{
	FILE *fp = fopen(path, "wb");

	assert_non_null(fp);
	assert_int_equal(fwrite(content->data, 1, content->len, fp), content->len);
	assert_int_equal(fclose(fp), 0);
}

static void write_zip(const char *zip, struct zipw_item *items, size_t n, const struct zipw_opts *o)
{
	struct zipw_result res = {0};
	struct lk_error err = {0};

	if (zipw_write(zip, items, n, o, &res, &err) < 0 || zipw_commit(&res, &err) < 0)
		fail_msg("zipw: %s: %s", err.code, err.message);
	zipw_result_free(&res);
}

/* Checks the helper function's own applier turns base into want with delta. */
static void assert_python_applies(struct fixture *f, const struct buf *base, const struct buf *d,
                                  const struct buf *want)
{
	const char *src = getenv("LAMBDECK_SRC");
	char *bp = util_path_join(f->dir, "py.base"), *dp = util_path_join(f->dir, "py.delta");
	char *op = util_path_join(f->dir, "py.out");
	char *mod = xasprintf("%s/backend/remote/zip_patcher", src ? src : ".");
	char *code =
	    xasprintf("import sys; sys.path.insert(0, sys.argv[1]); import patcher; "
	              "b = open(sys.argv[2], 'rb').read(); d = open(sys.argv[3], 'rb').read(); "
	              "open(sys.argv[4], 'wb').write(patcher.apply_delta(b, d))");
	char *argv[] = {"/usr/bin/python3", "-c", code, mod, bp, dp, op, NULL};
	struct buf out = {0};

	assert_int_equal(util_write_atomic(bp, base->data, base->len, 0600, NULL), 0);
	assert_int_equal(util_write_atomic(dp, d->data, d->len, 0600, NULL), 0);
	assert_int_equal(run(argv), 0);
	assert_int_equal(util_read_file(op, &out, NULL), 0);
	assert_int_equal(out.len, want->len);
	assert_memory_equal(out.data, want->data, want->len);
	buf_free(&out);
	free(bp);
	free(dp);
	free(op);
	free(mod);
	free(code);
}

static void test_one_file_change(void **state)
{
	struct fixture *f = *state;
	struct zipw_item *items = xcalloc(N_FILES, sizeof(*items));
	char **srcs = xcalloc(N_FILES, sizeof(*srcs)), **names = xcalloc(N_FILES, sizeof(*names));
	char *zp = util_path_join(f->dir, "code.zip"), *old_zp = util_path_join(f->dir, "old.zip");
	struct buf content = {0}, base = {0}, result = {0}, d = {0}, applied = {0};
	struct zipw_archive a = {0};
	struct zipw_opts o = {0};
	struct zipdelta_stats st;
	struct lk_error err = {0};

	for (int i = 0; i < N_FILES; i++) {
		names[i] = xasprintf("node_modules/pkg%04d/index.js", i);
		srcs[i] = xasprintf("%s/f%04d", f->dir, i);
		noise(&content, FILE_SIZE, (uint32_t)i + 1);
		put_plain(srcs[i], &content);
		items[i] =
		    (struct zipw_item){.name = names[i], .src = srcs[i], .mode = 0644, .old = -1};
	}
	write_zip(zp, items, N_FILES, NULL);
	assert_int_equal(util_read_file(zp, &base, NULL), 0);
	assert_true(base.len > 40u * 1000 * 1000);
	assert_int_equal(util_write_atomic(old_zp, base.data, base.len, 0600, NULL), 0);

	/* one file in the middle changes (and its size: every later offset shifts) */
	noise(&content, FILE_SIZE + 517, 99999);
	assert_int_equal(util_write_atomic(srcs[1500], content.data, content.len, 0644, NULL), 0);
	if (zipw_archive_read(old_zp, &a, &err) < 0)
		fail_msg("zipw_archive_read: %s", err.message);
	for (int i = 0; i < N_FILES; i++)
		items[i].old = i == 1500 ? -1 : i;
	o.old_path = old_zp;
	o.old = &a;
	write_zip(zp, items, N_FILES, &o);
	zipw_archive_free(&a);
	assert_int_equal(util_read_file(zp, &result, NULL), 0);

	assert_int_equal(zipdelta_make_files(old_zp, zp, &d, &st, &err), 0);
	print_message("delta %zu bytes: %llu copied, %llu literal, %zu ops, zip %zu bytes\n", d.len,
	              (unsigned long long)st.copied, (unsigned long long)st.literal, st.n_ops,
	              result.len);
	assert_true(d.len <= 64 * 1024);
	assert_true(st.literal >= FILE_SIZE);
	assert_int_equal(st.copied + st.literal, result.len);
	assert_int_equal(zipdelta_apply((unsigned char *)base.data, base.len,
	                                (unsigned char *)d.data, d.len, &applied, &err),
	                 0);
	assert_int_equal(applied.len, result.len);
	assert_memory_equal(applied.data, result.data, result.len);
	assert_python_applies(f, &base, &d, &result);

	for (int i = 0; i < N_FILES; i++) {
		free(names[i]);
		free(srcs[i]);
	}
	free(names);
	free(srcs);
	free(items);
	free(zp);
	free(old_zp);
	buf_free(&content);
	buf_free(&base);
	buf_free(&result);
	buf_free(&d);
	buf_free(&applied);
}

/* make + apply on raw bytes, checked byte for byte. */
static void assert_round_trip(const struct buf *b, const struct buf *r)
{
	struct buf d = {0}, out = {0};
	struct lk_error err = {0};

	assert_int_equal(zipdelta_make((const unsigned char *)b->data, b->len,
	                               (const unsigned char *)r->data, r->len, &d, NULL, &err),
	                 0);
	assert_int_equal(zipdelta_apply((const unsigned char *)b->data, b->len,
	                                (unsigned char *)d.data, d.len, &out, &err),
	                 0);
	assert_int_equal(out.len, r->len);
	if (r->len)
		assert_memory_equal(out.data, r->data, r->len);
	buf_free(&d);
	buf_free(&out);
}

static void test_unrelated_and_empty(void **state)
{
	struct buf a = {0}, b = {0}, empty = {0};

	(void)state;
	noise(&a, 100000, 1);
	noise(&b, 70001, 2);
	assert_round_trip(&a, &b);
	assert_round_trip(&a, &empty);
	assert_round_trip(&empty, &b);
	assert_round_trip(&empty, &empty);
	/* repeated content: many equal blocks */
	buf_reset(&a);
	buf_reset(&b);
	for (int i = 0; i < 5000; i++)
		buf_puts(&a, "0123456789abcdef");
	buf_append(&b, a.data, 40000);
	buf_puts(&b, "x");
	buf_append(&b, a.data + 3, 30000);
	assert_round_trip(&a, &b);
	buf_free(&a);
	buf_free(&b);
}

static void put_u64(struct buf *out, uint64_t v)
{
	for (int k = 0; k < 8; k++)
		buf_putc(out, (char)(v >> (8 * k)));
}

/* A hand-made delta header for base -> result (claimed result size rsize). */
static void header(struct buf *d, const struct buf *base, const struct buf *result, uint64_t rsize)
{
	unsigned char sha[32];

	buf_reset(d);
	buf_append(d, ZIPDELTA_MAGIC, 8);
	put_u64(d, base->len);
	util_sha256(base->data, base->len, sha);
	buf_append(d, sha, 32);
	put_u64(d, rsize);
	util_sha256(result->data, result->len, sha);
	buf_append(d, sha, 32);
}

static void assert_refused(const struct buf *base, const struct buf *d, const char *code,
                           const char *what)
{
	struct buf out = {0};
	struct lk_error err = {0};

	buf_puts(&out, "stale");
	assert_int_equal(zipdelta_apply((const unsigned char *)base->data, base->len,
	                                (const unsigned char *)d->data, d->len, &out, &err),
	                 -1);
	assert_string_equal(err.code, code);
	assert_non_null(strstr(err.message, what));
	assert_int_equal(out.len, 0);
	buf_free(&out);
}

static void test_hostile(void **state)
{
	struct buf base = {0}, result = {0}, d = {0}, other = {0};

	(void)state;
	noise(&base, 1000, 7);
	buf_append(&result, base.data, 600);

	header(&d, &base, &result, 600);
	buf_append(&d, "\x01\x00\xd8\x04", 4); /* COPY 0,600: valid */
	{
		struct buf out = {0};

		assert_int_equal(zipdelta_apply((unsigned char *)base.data, base.len,
		                                (unsigned char *)d.data, d.len, &out, NULL),
		                 0);
		assert_int_equal(out.len, 600);
		buf_free(&out);
	}

	noise(&other, 1000, 8);
	assert_refused(&other, &d, "ZipDeltaBaseMismatch", "not the one");
	buf_reset(&other);
	buf_append(&other, base.data, 999);
	assert_refused(&other, &d, "ZipDeltaBaseMismatch", "not the one");

	header(&d, &base, &result, 600);
	buf_append(&d, "\x01\xd0\x0f\xd8\x04", 5); /* COPY 1000,600: past the end */
	assert_refused(&base, &d, "ZipDeltaInvalid", "past the end");
	header(&d, &base, &result, 600);
	buf_append(&d, "\x01\x00\xe9\x07", 4); /* COPY 0,1001 */
	assert_refused(&base, &d, "ZipDeltaInvalid", "past the end");
	header(&d, &base, &result, 600);
	buf_append(&d, "\x01\x01\x05", 3); /* COPY -1,5 */
	assert_refused(&base, &d, "ZipDeltaInvalid", "outside the base");
	header(&d, &base, &result, 600);
	buf_append(&d, "\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01\x05", 12); /* huge offset */
	assert_refused(&base, &d, "ZipDeltaInvalid", "outside the base");
	header(&d, &base, &result, 600);
	buf_append(&d, "\x01\x00\x00", 3); /* COPY len 0 */
	assert_refused(&base, &d, "ZipDeltaInvalid", "past the end");
	header(&d, &base, &result, 600);
	buf_append(&d,
	           "\x02\xff\xff\xff\x7f"
	           "abc",
	           8); /* huge literal */
	assert_refused(&base, &d, "ZipDeltaInvalid", "longer than the delta");
	header(&d, &base, &result, 600);
	buf_append(&d, "\x01\x00\xd8\x04\x02\x01z", 7); /* result longer than declared */
	assert_refused(&base, &d, "ZipDeltaInvalid", "result longer");
	header(&d, &base, &result, 600);
	buf_append(&d, "\x01\x00\xd7\x04", 4); /* 599 bytes: too short */
	assert_refused(&base, &d, "ZipDeltaInvalid", "expected 600");
	header(&d, &base, &result, 600);
	buf_append(&d, "\x01\x02\xd8\x04", 4); /* COPY 1,600: right size, wrong bytes */
	assert_refused(&base, &d, "ZipDeltaInvalid", "SHA-256 differs");
	header(&d, &base, &result, 600);
	buf_append(&d, "\x01\x00", 2); /* truncated op */
	assert_refused(&base, &d, "ZipDeltaInvalid", "truncated");
	header(&d, &base, &result, 600);
	buf_append(&d, "\x07", 1);
	assert_refused(&base, &d, "ZipDeltaInvalid", "unknown op");
	header(&d, &base, &result, ZIPDELTA_MAX_SIZE + 1);
	assert_refused(&base, &d, "ZipDeltaInvalid", "sizes above");
	buf_reset(&d);
	buf_append(&d, "LKZDELT", 7);
	assert_refused(&base, &d, "ZipDeltaInvalid", "not a lambdeck zip delta");
	buf_free(&base);
	buf_free(&result);
	buf_free(&d);
	buf_free(&other);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_one_file_change, setup, teardown),
	    cmocka_unit_test(test_unrelated_and_empty),
	    cmocka_unit_test(test_hostile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
