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

static void assert_same_file(const char *path, const struct buf *before)
{
	struct buf now = {0};

	read_all(path, &now);
	assert_int_equal(now.len, before->len);
	assert_memory_equal(now.data, before->data, now.len);
	buf_free(&now);
}

static void test_excludes(void **state)
{
	struct fixture *f = *state;
	char *excl[] = {"tests/**", "*.md", "build/"};
	struct build_result r;
	char *l;

	write_file(f->code, ".git/config", "x", 0644);
	write_file(f->code, "__pycache__/app.cpython-312.pyc", "x", 0644);
	write_file(f->code, "lib/__pycache__/u.pyc", "x", 0644);
	write_file(f->code, "lib/old.pyc", "x", 0644);
	write_file(f->code, ".lambdeck/build/x", "x", 0644);
	write_file(f->code, "tests/test_app.py", "x", 0644);
	write_file(f->code, "README.md", "x", 0644);
	write_file(f->code, "build/out.txt", "x", 0644);
	write_file(f->code, "lib/.hidden", "kept", 0644);
	f->fn[0].exclude = excl;
	f->fn[0].n_exclude = 3;
	assert_int_equal(build_run(&f->p, &f->fn[0], NULL, NULL, NULL, &r), 0);
	l = zip_listing(f);
	assert_string_equal(l, "app.py 644\nbin/tool 755\ndata/a.txt 600\ndata/b.txt 644\n"
	                       "lib/.hidden 644\nlib/util.py 644\n");
	free(l);
	build_result_free(&r);
	/* changes inside excluded paths never make a build */
	write_file(f->code, "tests/test_app.py", "y", 0644);
	write_file(f->code, "lib/__pycache__/u.pyc", "yy", 0644);
	assert_int_equal(build_run(&f->p, &f->fn[0], NULL, NULL, NULL, &r), 0);
	assert_int_equal(r.outcome, BUILD_UNCHANGED);
	build_result_free(&r);
	f->fn[0].exclude = NULL;
	f->fn[0].n_exclude = 0;
}

/* Names in the zip are relative, without "." or ".." components, never absolute. */
static void test_no_zip_slip(void **state)
{
	struct fixture *f = *state;
	struct build_result r;
	char *zp;
	zip_t *za;
	int zerr;

	write_file(f->code, "..dots", "x", 0644);
	write_file(f->code, "a/..b/c", "x", 0644);
	write_file(f->code, "link-target/real.txt", "real", 0644);
	{
		char *lnk = util_path_join(f->code, "inner-link.txt");

		assert_int_equal(symlink("link-target/real.txt", lnk), 0);
		free(lnk);
	}
	assert_int_equal(build_run(&f->p, &f->fn[0], NULL, NULL, NULL, &r), 0);
	zp = build_zip_path(f->dir, "inc");
	za = zip_open(zp, ZIP_RDONLY, &zerr);
	assert_non_null(za);
	for (zip_int64_t i = 0; i < zip_get_num_entries(za, 0); i++) {
		const char *n = zip_get_name(za, i, 0);
		char *copy = xstrdup(n), *save = NULL;

		assert_true(n[0] != '/');
		for (char *t = strtok_r(copy, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
			assert_string_not_equal(t, "..");
			assert_string_not_equal(t, ".");
		}
		free(copy);
	}
	/* a symlink inside the code dir is packaged as the file it points to */
	{
		zip_stat_t st;

		assert_int_equal(zip_stat(za, "inner-link.txt", 0, &st), 0);
		assert_int_equal(st.size, 4);
	}
	zip_discard(za);
	free(zp);
	build_result_free(&r);
}

static void test_symlink_outside_refused(void **state)
{
	struct fixture *f = *state;
	struct build_result r;
	struct buf before = {0}, man = {0};
	char *zp = build_zip_path(f->dir, "inc");
	char *mp = xasprintf("%s/.lambdeck/build/inc/manifest.json", f->dir);
	char *lnk = util_path_join(f->code, "lib/passwd");

	assert_int_equal(build_run(&f->p, &f->fn[0], NULL, NULL, NULL, &r), 0);
	build_result_free(&r);
	read_all(zp, &before);
	read_all(mp, &man);
	assert_int_equal(symlink("/etc/passwd", lnk), 0);
	write_file(f->code, "app.py", "changed", 0644);
	assert_int_equal(build_run(&f->p, &f->fn[0], NULL, NULL, NULL, &r), -1);
	assert_int_equal(r.outcome, BUILD_FAILED);
	assert_string_equal(r.err.code, "SymlinkOutside");
	assert_non_null(strstr(r.err.message, "lib/passwd"));
	assert_non_null(strstr(r.err.message, "outside the code directory"));
	build_result_free(&r);
	assert_same_file(zp, &before);
	assert_same_file(mp, &man);
	/* a dangling link is refused too */
	unlink(lnk);
	assert_int_equal(symlink("does-not-exist", lnk), 0);
	assert_int_equal(build_run(&f->p, &f->fn[0], NULL, NULL, NULL, &r), -1);
	assert_non_null(strstr(r.err.message, "broken symlink"));
	build_result_free(&r);
	assert_same_file(zp, &before);
	unlink(lnk);
	build_both(f, BUILD_OK, true);
	buf_free(&before);
	buf_free(&man);
	free(zp);
	free(mp);
	free(lnk);
}

/* A write error half-way (here: the file-size limit, as on a full disk) leaves the
 * previous zip and manifest as they were; the next build recovers. */
static void test_write_failure_keeps_artifact(void **state)
{
	struct fixture *f = *state;
	struct build_result r;
	struct buf before = {0}, man = {0}, big = {0};
	char *zp = build_zip_path(f->dir, "inc");
	char *mp = xasprintf("%s/.lambdeck/build/inc/manifest.json", f->dir);
	struct rlimit old, lim;
	uint32_t x = 12345;

	assert_int_equal(build_run(&f->p, &f->fn[0], NULL, NULL, NULL, &r), 0);
	build_result_free(&r);
	read_all(zp, &before);
	read_all(mp, &man);
	for (int i = 0; i < 200000; i++) { /* incompressible */
		x = x * 1103515245u + 12345u;
		buf_putc(&big, (char)(x >> 16));
	}
	{
		char *p = util_path_join(f->code, "big.bin");

		assert_int_equal(util_write_atomic(p, big.data, big.len, 0644, NULL), 0);
		free(p);
	}
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 64 * 1024;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	assert_int_equal(build_run(&f->p, &f->fn[0], NULL, NULL, NULL, &r), -1);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);
	assert_int_equal(r.outcome, BUILD_FAILED);
	assert_true(r.err.message[0] != '\0');
	assert_non_null(r.zip_path); /* the previous artifact is still reported */
	build_result_free(&r);
	assert_same_file(zp, &before);
	assert_same_file(mp, &man);
	{ /* no temp files left behind */
		char *argv[] = {"sh", "-c", "test $(ls -A \"$0\" | wc -l) -eq 3", NULL, NULL};
		char *dir = build_artifact_dir(f->dir, "inc");

		argv[3] = dir;
		assert_int_equal(run_cmd(argv), 0); /* code.zip manifest.json .lock */
		free(dir);
	}
	build_both(f, BUILD_OK, true);
	buf_free(&before);
	buf_free(&man);
	buf_free(&big);
	free(zp);
	free(mp);
}

static void test_missing_code_dir_and_bad_names(void **state)
{
	struct fixture *f = *state;
	struct build_result r;
	struct project_function bad = f->fn[0];

	bad.code_dir = "/nonexistent/lambdeck/code";
	assert_int_equal(build_run(&f->p, &bad, NULL, NULL, NULL, &r), -1);
	assert_string_equal(r.err.code, "CodeDirMissing");
	assert_null(r.zip_path);
	build_result_free(&r);
	bad = f->fn[0];
	bad.name = "../escape";
	assert_int_equal(build_run(&f->p, &bad, NULL, NULL, NULL, &r), -1);
	assert_string_equal(r.err.code, "NotBuildable");
	build_result_free(&r);
	bad = f->fn[0];
	bad.buildable = false;
	bad.not_buildable = "PackageType Image";
	assert_int_equal(build_run(&f->p, &bad, NULL, NULL, NULL, &r), -1);
	assert_non_null(strstr(r.err.message, "PackageType Image"));
	build_result_free(&r);
}

struct cancel_ctx {
	int done;
	struct build_result res;
	int progress_calls;
};

static void cancel_done(void *user, const struct build_result *r)
{
	struct cancel_ctx *c = user;

	c->done++;
	c->res = *r;
	c->res.zip_path = NULL;
	c->res.function = NULL;
}

static void count_progress(void *user, const char *fn, enum build_phase ph, uint64_t d, uint64_t t)
{
	(void)fn, (void)ph, (void)d, (void)t;
	((struct cancel_ctx *)user)->progress_calls++;
}

static void test_async_and_cancel(void **state)
{
	struct fixture *f = *state;
	uv_loop_t loop;
	struct cancel_ctx c = {0};
	struct build_job *j;

	uv_loop_init(&loop);
	/* a normal asynchronous build: progress, then exactly one done */
	build_start(&loop, &f->p, &f->fn[0], NULL, count_progress, cancel_done, &c);
	assert_int_equal(c.done, 0); /* never synchronously */
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(c.done, 1);
	assert_int_equal(c.res.outcome, BUILD_OK);
	assert_true(c.progress_calls > 0);
	/* cancelled right away: done still comes, once, as cancelled; nothing written */
	memset(&c, 0, sizeof(c));
	j = build_start(&loop, &f->p, &f->fn[1], NULL, NULL, cancel_done, &c);
	build_cancel(j);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(c.done, 1);
	assert_int_equal(c.res.outcome, BUILD_CANCELLED);
	{
		char *zp = build_zip_path(f->dir, "full");

		assert_false(util_is_file(zp));
		free(zp);
	}
	assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_status(void **state)
{
	struct fixture *f = *state;
	struct build_status st;
	struct build_result r;

	assert_int_equal(build_status_get(&f->p, &f->fn[0], &st, NULL), 0);
	assert_false(st.built);
	assert_int_equal(build_run(&f->p, &f->fn[0], NULL, NULL, NULL, &r), 0);
	assert_int_equal(build_status_get(&f->p, &f->fn[0], &st, NULL), 0);
	assert_true(st.built);
	assert_false(st.modified);
	assert_string_equal(st.code_sha256, r.code_sha256);
	build_result_free(&r);
	write_file(f->code, "new.py", "N = 1\n", 0644);
	assert_int_equal(build_status_get(&f->p, &f->fn[0], &st, NULL), 0);
	assert_true(st.modified);
}

/* A damaged manifest or zip (crash, manual edits) never yields a wrong zip: full rebuild. */
static void test_damaged_state_rebuilds(void **state)
{
	struct fixture *f = *state;
	struct build_result r;
	char *mp = xasprintf("%s/.lambdeck/build/inc/manifest.json", f->dir);
	char *zp = build_zip_path(f->dir, "inc");
	const char *garbage[] = {"", "{", "{\"version\":1,\"entries\":[[\"a\",1]]}", "\x01\x02",
	                         NULL};

	build_both(f, BUILD_OK, false);
	for (int i = 0; garbage[i]; i++) {
		assert_int_equal(util_write_atomic(mp, garbage[i], strlen(garbage[i]), 0644, NULL),
		                 0);
		write_file(f->code, "app.py", garbage[i][0] ? "v = 1\n" : "v = 2\n", 0644);
		build_both(f, BUILD_OK, false); /* full, and equal to the reference */
	}
	/* the zip replaced behind our back (different size): full rebuild, not a patch */
	assert_int_equal(util_write_atomic(zp, "not a zip", 9, 0644, NULL), 0);
	write_file(f->code, "app.py", "v = 3\n", 0644);
	build_both(f, BUILD_OK, false);
	/* zip deleted: rebuilt even though no source changed */
	assert_int_equal(unlink(zp), 0);
	assert_int_equal(build_run(&f->p, &f->fn[0], NULL, NULL, NULL, &r), 0);
	assert_int_equal(r.outcome, BUILD_OK);
	assert_true(r.full);
	build_result_free(&r);
	free(mp);
	free(zp);
}

/* A previous zip damaged in place (same size, inode and mtime, so the manifest still
 * matches it) is not patched: its central directory is checked ("../app" is refused), the
 * build is a full one, says why, and equals the reference. */
static void test_hostile_previous_zip_rebuilds(void **state)
{
	struct fixture *f = *state;
	struct build_result r;
	struct buf z = {0};
	struct stat st;
	char *zp = build_zip_path(f->dir, "inc");
	char *hit = NULL;
	int fd;

	build_both(f, BUILD_OK, false);
	read_all(zp, &z);
	assert_int_equal(stat(zp, &st), 0);
	for (char *p = z.data; (p = memmem(p, z.len - (size_t)(p - z.data), "app.py", 6)); p++)
		hit = p; /* the last one: the central directory's */
	assert_non_null(hit);
	fd = open(zp, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "../app", 6, hit - z.data), 6);
	close(fd);
	{
		struct timespec ts[2] = {st.st_atim, st.st_mtim};

		assert_int_equal(utimensat(AT_FDCWD, zp, ts, 0), 0);
	}
	write_file(f->code, "lib/util.py", "X = 2\n", 0644);
	assert_int_equal(build_run(&f->p, &f->fn[0], NULL, NULL, NULL, &r), 0);
	assert_int_equal(r.outcome, BUILD_OK);
	assert_true(r.full);
	assert_non_null(strstr(r.warning, "rebuilt in full"));
	assert_non_null(strstr(r.warning, "'..'"));
	build_result_free(&r);
	build_both(f, BUILD_UNCHANGED, false);
	buf_free(&z);
	free(zp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_full_then_patch, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_excludes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_zip_slip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_symlink_outside_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_write_failure_keeps_artifact, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_missing_code_dir_and_bad_names, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_async_and_cancel, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_status, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_damaged_state_rebuilds, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hostile_previous_zip_rebuilds, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
