/* test_zipw.c - the quick build's zip writer/patcher: what it writes reads back with libzip
 * (consistency check on), unzip -t and Python's zipfile, with names, modes and contents
 * intact; a patch of a previous zip is byte-for-byte the full write and its CodeSha256 is the
 * SHA-256 of the file, also when it resumes from saved hash states; hostile previous zips
 * (truncated, offsets past the end, "../x" or absolute names, duplicates, any flipped byte,
 * any truncation) are refused with ZipInvalid, never crash (run under ASan/UBSan). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <zip.h>

#include "backend/zipw.h"

struct fixture {
	char dir[64];
};

static char *path_in(struct fixture *f, const char *rel)
{
	return util_path_join(f->dir, rel);
}

static void put_file(struct fixture *f, const char *rel, const void *data, size_t len, mode_t mode)
{
	char *p = path_in(f, rel);

	assert_int_equal(util_write_atomic(p, data, len, mode, NULL), 0);
	assert_int_equal(chmod(p, mode), 0);
	free(p);
}

/* Incompressible bytes from a fixed seed. */
static void noise(struct buf *b, size_t n, uint32_t seed)
{
	buf_reset(b);
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		buf_putc(b, (char)(seed >> 16));
	}
}

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/lk-test-zipw-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	*state = f;
	return 0;
}

static int run(char *const argv[])
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);

		dup2(fd, 1);
		dup2(fd, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char *argv[] = {"rm", "-rf", f->dir, NULL};

	run(argv);
	free(f);
	return 0;
}

static void read_all(const char *path, struct buf *b)
{
	buf_reset(b);
	assert_int_equal(util_read_file(path, b, NULL), 0);
}

/* The test tree: names (sorted), contents, modes. */
#define N_FILES 7
static const char *const names[N_FILES] = {
    "a/empty.txt", "a/text.py",      "bin/tool",      "blob1.bin",
    "blob2.bin",   "données/été.py", "日本/名前.txt",
};
static const mode_t modes[N_FILES] = {0644, 0644, 0755, 0600, 0644, 0644, 0640};

static void make_tree(struct fixture *f, struct buf *contents, const char *text_variant)
{
	struct buf b = {0};

	for (int i = 0; i < N_FILES; i++) {
		char *p = path_in(f, names[i]);

		*strrchr(p, '/') = '\0';
		util_mkdir_p(p, 0755, NULL);
		free(p);
		buf_reset(&contents[i]);
		if (!strcmp(names[i], "a/text.py")) {
			for (int k = 0; k < 2000; k++)
				buf_printf(&contents[i], "def f%d(x):\n    return x * %d  # %s\n",
				           k, k, text_variant);
		} else if (!strncmp(names[i], "blob", 4)) {
			noise(&b, 900 * 1024, (uint32_t)i); /* two blobs: > 1 MiB, so hash states */
			buf_append(&contents[i], b.data, b.len);
		} else if (strcmp(names[i], "a/empty.txt")) {
			buf_printf(&contents[i], "%s\n", names[i]);
		}
		put_file(f, names[i], contents[i].data ? contents[i].data : "", contents[i].len,
		         modes[i]);
	}
	buf_free(&b);
}

static void fill_items(struct fixture *f, struct zipw_item *items, char **srcs)
{
	for (int i = 0; i < N_FILES; i++) {
		srcs[i] = path_in(f, names[i]);
		items[i] = (struct zipw_item){
		    .name = names[i], .src = srcs[i], .mode = modes[i], .old = -1};
	}
}

static void write_zip(const char *zip, struct zipw_item *items, size_t n, const struct zipw_opts *o,
                      struct zipw_result *res)
{
	struct lk_error err = {0};

	if (zipw_write(zip, items, n, o, res, &err) < 0)
		fail_msg("zipw_write: %s: %s", err.code, err.message);
	assert_int_equal(zipw_commit(res, &err), 0);
}

static void assert_sha_of_file(const char *zip, const struct zipw_result *res)
{
	struct buf b = {0};
	unsigned char sha[32];

	read_all(zip, &b);
	assert_int_equal(b.len, res->size);
	util_sha256(b.data, b.len, sha);
	assert_memory_equal(sha, res->sha256, 32);
	buf_free(&b);
}

static void test_round_trip(void **state)
{
	struct fixture *f = *state;
	struct buf contents[N_FILES] = {0};
	struct zipw_item items[N_FILES];
	char *srcs[N_FILES];
	struct zipw_result res;
	char *zp = path_in(f, "out.zip");
	zip_t *za;
	int zerr = 0;

	make_tree(f, contents, "v1");
	fill_items(f, items, srcs);
	write_zip(zp, items, N_FILES, NULL, &res);
	assert_sha_of_file(zp, &res);
	assert_true(res.n_states >= 1); /* > 1 MiB written */
	/* what was read for each entry: the hash and size of the bytes zipped, the stat from
	 * before the read (issue 21.9: the build's manifest records these) */
	for (int i = 0; i < N_FILES; i++) {
		const struct zipw_read *rd = &res.reads[i];
		unsigned char sha[32];
		struct stat st;

		assert_true(rd->read);
		assert_false(rd->unstable);
		util_sha256(contents[i].data ? contents[i].data : "", contents[i].len, sha);
		assert_memory_equal(rd->sha256, sha, 32);
		assert_int_equal(rd->size, contents[i].len);
		assert_int_equal(stat(srcs[i], &st), 0);
		assert_int_equal(rd->ino, st.st_ino);
		assert_int_equal(rd->mtime_sec, st.st_mtim.tv_sec);
		assert_int_equal(rd->mtime_nsec, st.st_mtim.tv_nsec);
	}
	zipw_result_free(&res);
	/* libzip, with its consistency checks */
	za = zip_open(zp, ZIP_RDONLY | ZIP_CHECKCONS, &zerr);
	assert_non_null(za);
	assert_int_equal(zip_get_num_entries(za, 0), N_FILES);
	for (int i = 0; i < N_FILES; i++) {
		zip_stat_t st;
		zip_file_t *zf;
		zip_uint8_t os;
		zip_uint32_t attr;
		char *data = xmalloc(contents[i].len + 1);

		assert_string_equal(zip_get_name(za, i, 0), names[i]);
		assert_int_equal(zip_stat_index(za, i, 0, &st), 0);
		assert_int_equal(st.size, contents[i].len);
		assert_int_equal(zip_file_get_external_attributes(za, i, 0, &os, &attr), 0);
		assert_int_equal(os, ZIP_OPSYS_UNIX);
		assert_int_equal((attr >> 16) & 07777, modes[i]);
		assert_true(S_ISREG(attr >> 16));
		zf = zip_fopen_index(za, i, 0);
		assert_non_null(zf);
		assert_int_equal(zip_fread(zf, data, contents[i].len),
		                 (zip_int64_t)contents[i].len);
		zip_fclose(zf);
		if (contents[i].len)
			assert_memory_equal(data, contents[i].data, contents[i].len);
		free(data);
		/* the incompressible blobs are stored, the text deflated */
		if (!strncmp(names[i], "blob", 4))
			assert_int_equal(st.comp_method, ZIP_CM_STORE);
		if (!strcmp(names[i], "a/text.py"))
			assert_int_equal(st.comp_method, ZIP_CM_DEFLATE);
	}
	zip_discard(za);
	/* unzip -t and Python's zipfile */
	{
		char *argv[] = {"unzip", "-tqq", zp, NULL};

		assert_int_equal(run(argv), 0);
	}
	{
		char *argv[] = {"/usr/bin/python3", "-c",
		                "import sys, zipfile\n"
		                "z = zipfile.ZipFile(sys.argv[1])\n"
		                "assert z.testzip() is None\n"
		                "names = [i.filename for i in z.infolist()]\n"
		                "assert names == sorted(names, key=lambda n: n.encode()), names\n"
		                "assert 'données/été.py' in names and '日本/名前.txt' in names\n"
		                "assert z.getinfo('bin/tool').external_attr >> 16 == 0o100755\n"
		                "assert z.getinfo('bin/tool').date_time == (1980, 1, 1, 0, 0, 0)\n",
		                zp, NULL};

		assert_int_equal(run(argv), 0);
	}
	for (int i = 0; i < N_FILES; i++) {
		free(srcs[i]);
		buf_free(&contents[i]);
	}
	free(zp);
}

/* Patches the zip at old_zip (written from the v1 tree) into items; returns the result. */
static void patch_zip(const char *zip, struct zipw_item *items, size_t n,
                      const struct zipw_result *prev, struct zipw_result *res)
{
	struct zipw_archive a;
	struct lk_error err = {0};
	struct zipw_opts o = {0};

	if (zipw_archive_read(zip, &a, &err) < 0)
		fail_msg("zipw_archive_read: %s", err.message);
	for (size_t i = 0; i < n; i++)
		if (items[i].old >= 0)
			assert_string_equal(a.v[items[i].old].name, items[i].name);
	o.old_path = zip;
	o.old = &a;
	o.old_states = prev->states;
	o.n_old_states = prev->n_states;
	write_zip(zip, items, n, &o, res);
	zipw_archive_free(&a);
}

static void test_patch_equals_full(void **state)
{
	struct fixture *f = *state;
	struct buf contents[N_FILES] = {0}, patched = {0}, full = {0};
	struct zipw_item items[N_FILES];
	char *srcs[N_FILES];
	struct zipw_result prev, res, ref;
	char *zp = path_in(f, "code.zip"), *ref_zp = path_in(f, "ref.zip");

	make_tree(f, contents, "v1");
	fill_items(f, items, srcs);
	write_zip(zp, items, N_FILES, NULL, &prev);

	/* change the last entry: the prefix (both blobs, > 1 MiB) is copied, and hashing
	 * resumes from a saved state */
	put_file(f, names[6], "changed\n", 8, 0644);
	for (int i = 0; i < N_FILES; i++)
		items[i].old = i;
	items[6].old = -1;
	items[6].mode = 0644;
	items[2].mode = 0700; /* a mode change alone: same data, new attributes */
	patch_zip(zp, items, N_FILES, &prev, &res);
	assert_true(res.patched);
	assert_true(res.reused_hash >= ZIPW_STATE_EVERY);
	assert_sha_of_file(zp, &res);
	for (int i = 0; i < N_FILES; i++)
		items[i].old = -1;
	write_zip(ref_zp, items, N_FILES, NULL, &ref);
	read_all(zp, &patched);
	read_all(ref_zp, &full);
	assert_int_equal(patched.len, full.len);
	assert_memory_equal(patched.data, full.data, full.len);
	assert_memory_equal(res.sha256, ref.sha256, 32);
	/* the saved states are those of the full write */
	assert_int_equal(res.n_states, ref.n_states);
	assert_memory_equal(res.states, ref.states, ref.n_states * sizeof(*ref.states));
	zipw_result_free(&prev);
	prev = res;
	zipw_result_free(&ref);

	/* remove the first entry, add one in the middle, rename: runs shift */
	{
		struct zipw_item next[N_FILES];
		size_t n = 0;

		put_file(f, "b-new.txt", "new\n", 4, 0644);
		for (int i = 1; i < N_FILES; i++) {
			if (i == 3) /* "b-new.txt" sorts between bin/tool and blob1.bin */
				next[n++] = (struct zipw_item){.name = "b-new.txt",
				                               .src = path_in(f, "b-new.txt"),
				                               .mode = 0644,
				                               .old = -1};
			next[n] = items[i];
			next[n++].old = i;
		}
		patch_zip(zp, next, n, &prev, &res);
		assert_sha_of_file(zp, &res);
		for (size_t i = 0; i < n; i++)
			next[i].old = -1;
		write_zip(ref_zp, next, n, NULL, &ref);
		read_all(zp, &patched);
		read_all(ref_zp, &full);
		assert_int_equal(patched.len, full.len);
		assert_memory_equal(patched.data, full.data, full.len);
		assert_memory_equal(res.sha256, ref.sha256, 32);
		free((char *)next[2].src);
		zipw_result_free(&ref);
	}
	/* saved states that are not ours are ignored (everything re-hashed), not trusted */
	{
		struct zipw_result bogus, again;
		struct zipw_sha_state st = {.offset = 12345};

		zipw_result_free(&prev);
		for (int i = 0; i < N_FILES; i++)
			items[i].old = -1;
		write_zip(zp, items, N_FILES, NULL, &prev);
		for (int i = 0; i < N_FILES - 1; i++)
			items[i].old = i;
		bogus = prev;
		bogus.states = &st;
		bogus.n_states = 1;
		patch_zip(zp, items, N_FILES, &bogus, &again);
		assert_int_equal(again.reused_hash, 0);
		assert_sha_of_file(zp, &again);
		zipw_result_free(&again);
	}
	zipw_result_free(&prev);
	zipw_result_free(&res);
	for (int i = 0; i < N_FILES; i++) {
		free(srcs[i]);
		buf_free(&contents[i]);
	}
	buf_free(&patched);
	buf_free(&full);
	free(zp);
	free(ref_zp);
}

/* Reads back path; asserts ZipInvalid (or ReadError) and that a reason is given. */
static void assert_refused(const char *path, const char *reason)
{
	struct zipw_archive a;
	struct lk_error err = {0};

	assert_int_equal(zipw_archive_read(path, &a, &err), -1);
	if (strcmp(err.code, "ZipInvalid") && strcmp(err.code, "ReadError"))
		fail_msg("unexpected code %s", err.code);
	assert_null(a.v);
	if (reason && !strstr(err.message, reason))
		fail_msg("expected '%s' in '%s'", reason, err.message);
}

/* Writes a small zip of the given names (each a one-line file) and returns its bytes. */
static void small_zip(struct fixture *f, const char *const *list, size_t n, struct buf *out)
{
	struct zipw_item items[8];
	struct zipw_result res;
	char *zp = path_in(f, "small.zip");

	for (size_t i = 0; i < n; i++) {
		char rel[64];

		snprintf(rel, sizeof(rel), "src%zu", i);
		put_file(f, rel, list[i], strlen(list[i]), 0644);
		items[i] = (struct zipw_item){
		    .name = list[i], .src = path_in(f, rel), .mode = 0644, .old = -1};
	}
	write_zip(zp, items, n, NULL, &res);
	zipw_result_free(&res);
	read_all(zp, out);
	for (size_t i = 0; i < n; i++)
		free((char *)items[i].src);
	free(zp);
}

/* Replaces every occurrence of from (n bytes) in b by to (n bytes). */
static void replace_n(struct buf *b, const char *from, const char *to, size_t n)
{
	for (size_t i = 0; i + n <= b->len; i++)
		if (!memcmp(b->data + i, from, n))
			memcpy(b->data + i, to, n);
}

static void replace_all(struct buf *b, const char *from, const char *to)
{
	assert_int_equal(strlen(from), strlen(to));
	replace_n(b, from, to, strlen(from));
}

static void test_hostile_previous_zips(void **state)
{
	struct fixture *f = *state;
	const char *const list[] = {"aa/x", "ab", "zabc"};
	struct buf good = {0}, b = {0};
	char *hp = path_in(f, "hostile.zip");
	struct zipw_archive a;

	small_zip(f, list, 3, &good);
	assert_int_equal(util_write_atomic(hp, good.data, good.len, 0644, NULL), 0);
	assert_int_equal(zipw_archive_read(hp, &a, NULL), 0);
	assert_int_equal(a.n, 3);
	zipw_archive_free(&a);

	/* empty, garbage, an end record alone */
	assert_int_equal(util_write_atomic(hp, "", 0, 0644, NULL), 0);
	assert_refused(hp, "too short");
	assert_int_equal(util_write_atomic(hp, "PK\5\6 this is not a zip at all", 30, 0644, NULL),
	                 0);
	assert_refused(hp, NULL);
	/* central directory truncated: the file cut in the middle of it */
	assert_int_equal(util_write_atomic(hp, good.data, good.len - 40, 0644, NULL), 0);
	assert_refused(hp, NULL);
	/* central directory offset past the end of the file */
	buf_reset(&b);
	buf_append(&b, good.data, good.len);
	b.data[b.len - 6] = (char)0xff, b.data[b.len - 5] = (char)0x7f;
	assert_int_equal(util_write_atomic(hp, b.data, b.len, 0644, NULL), 0);
	assert_refused(hp, "inconsistent");
	/* an entry's local header offset past the end */
	buf_reset(&b);
	buf_append(&b, good.data, good.len);
	{
		size_t cd = (size_t)(unsigned char)b.data[b.len - 6] |
		            (size_t)(unsigned char)b.data[b.len - 5] << 8;

		/* second central entry's offset field */
		size_t second = cd + 46 + strlen(list[0]);

		b.data[second + 42 + 3] = 0x40;
		assert_int_equal(util_write_atomic(hp, b.data, b.len, 0644, NULL), 0);
		assert_refused(hp, "offset");
	}
	/* "../x", absolute and duplicate names */
	buf_reset(&b);
	buf_append(&b, good.data, good.len);
	replace_all(&b, "aa/x", "../x");
	assert_int_equal(util_write_atomic(hp, b.data, b.len, 0644, NULL), 0);
	assert_refused(hp, "'..'");
	buf_reset(&b);
	buf_append(&b, good.data, good.len);
	replace_all(&b, "zabc", "/abc");
	assert_int_equal(util_write_atomic(hp, b.data, b.len, 0644, NULL), 0);
	assert_refused(hp, "absolute");
	buf_reset(&b);
	buf_append(&b, good.data, good.len);
	replace_n(&b, "aa/x", "ab\0x", 4);
	assert_int_equal(util_write_atomic(hp, b.data, b.len, 0644, NULL), 0);
	assert_refused(hp, NULL);
	{
		const char *const dup[] = {"a1", "a2"};

		small_zip(f, dup, 2, &b);
		replace_all(&b, "a2", "a1");
		assert_int_equal(util_write_atomic(hp, b.data, b.len, 0644, NULL), 0);
		assert_refused(hp, "duplicated");
	}
	/* every single flipped byte and every truncation: refused or read, never a crash; what
	 * reads back has safe names and offsets inside the file */
	for (size_t i = 0; i < good.len; i++) {
		for (int pass = 0; pass < 2; pass++) {
			struct lk_error err = {0};

			buf_reset(&b);
			buf_append(&b, good.data, pass ? i : good.len);
			if (!pass)
				b.data[i] ^= (char)0x5a;
			assert_int_equal(util_write_atomic(hp, b.data, b.len, 0644, NULL), 0);
			if (zipw_archive_read(hp, &a, &err) == 0) {
				for (size_t k = 0; k < a.n; k++) {
					assert_true(a.v[k].name[0] != '/');
					assert_null(strstr(a.v[k].name, ".."));
					assert_true(a.v[k].offset + 30ull + a.v[k].csize <=
					            a.cd_offset);
				}
				zipw_archive_free(&a);
			} else {
				assert_true(err.message[0] != '\0');
			}
		}
	}
	buf_free(&good);
	buf_free(&b);
	free(hp);
}

/* A patch whose previous zip was damaged behind its central directory (the local header
 * of a copied entry) fails with ZipInvalid and leaves no temp file and the zip as it was. */
static void test_damaged_local_header(void **state)
{
	struct fixture *f = *state;
	const char *const list[] = {"a.txt", "b.txt"};
	struct buf good = {0}, after = {0};
	char *zp = path_in(f, "small.zip");
	struct zipw_archive a;
	struct zipw_item items[2];
	struct zipw_result res;
	struct zipw_opts o = {0};
	struct lk_error err = {0};

	small_zip(f, list, 2, &good);
	good.data[0] = 'X'; /* first local header's signature */
	assert_int_equal(util_write_atomic(zp, good.data, good.len, 0644, NULL), 0);
	assert_int_equal(zipw_archive_read(zp, &a, NULL), 0);
	items[0] = (struct zipw_item){.name = "a.txt", .mode = 0644, .old = 0};
	items[1] = (struct zipw_item){.name = "b.txt", .src = zp, .mode = 0644, .old = -1};
	o.old_path = zp;
	o.old = &a;
	/* the first entry is a prefix copy (no header check needed); move it to force a run */
	items[0].old = 0;
	items[1].old = -1;
	{
		struct zipw_item shifted[3] = {
		    {.name = "0.txt", .src = zp, .mode = 0644, .old = -1}, items[0], items[1]};

		assert_int_equal(zipw_write(zp, shifted, 3, &o, &res, &err), -1);
	}
	assert_string_equal(err.code, "ZipInvalid");
	zipw_archive_free(&a);
	read_all(zp, &after);
	assert_int_equal(after.len, good.len);
	assert_memory_equal(after.data, good.data, good.len);
	{
		char *argv[] = {"sh", "-c", "! ls \"$0\"/*.tmp-* >/dev/null 2>&1", f->dir, NULL};

		assert_int_equal(run(argv), 0);
	}
	buf_free(&good);
	buf_free(&after);
	free(zp);
}

static void test_too_many_entries(void **state)
{
	struct fixture *f = *state;
	size_t n = 65535;
	struct zipw_item *items = xcalloc(n, sizeof(*items));
	struct zipw_result res;
	struct lk_error err = {0};
	char *zp = path_in(f, "huge.zip");

	for (size_t i = 0; i < n; i++)
		items[i] = (struct zipw_item){.name = "x", .src = "/nonexistent", .old = -1};
	assert_int_equal(zipw_write(zp, items, n, NULL, &res, &err), -1);
	assert_string_equal(err.code, "ZipTooLarge");
	assert_non_null(strstr(err.message, "zip64"));
	assert_false(util_is_file(zp));
	free(items);
	free(zp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_patch_equals_full, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hostile_previous_zips, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_damaged_local_header, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_too_many_entries, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
