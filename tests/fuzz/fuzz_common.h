/* fuzz_common.h - scratch files for the libFuzzer targets that must hand their input to code
 * reading a file or a directory (include from one fuzz_<name>.c). Everything lives under
 * $TMPDIR (the build tree when run by ctest) and is removed when the fuzzer exits. */
#ifndef LAMBDECK_TESTS_FUZZ_COMMON_H
#define LAMBDECK_TESTS_FUZZ_COMMON_H

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static inline int fuzz_rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

/* rm -rf of everything under dir (never following links); with keep, dir itself stays. */
static inline void fuzz_rm_rf(const char *dir, int keep)
{
	nftw(dir, fuzz_rm_one, 16, FTW_DEPTH | FTW_PHYS);
	if (keep)
		mkdir(dir, 0700);
}

static char *fuzz_dir; /* the target's scratch directory, removed at exit */

static inline void fuzz_cleanup(void)
{
	if (fuzz_dir)
		fuzz_rm_rf(fuzz_dir, 0);
}

/* A new empty directory $TMPDIR/lk-fuzz-<name>-XXXXXX, removed when the fuzzer exits
 * normally; aborts when it cannot be made (the target is useless then). One per process. */
static inline char *fuzz_tmpdir(const char *name)
{
	const char *base = getenv("TMPDIR");
	char tmpl[4096];

	snprintf(tmpl, sizeof(tmpl), "%s/lk-fuzz-%s-XXXXXX", base && *base ? base : "/tmp", name);
	if (!mkdtemp(tmpl)) {
		perror("mkdtemp");
		abort();
	}
	fuzz_dir = strdup(tmpl);
	atexit(fuzz_cleanup);
	return fuzz_dir;
}

/* Writes len bytes to dir/name (created or truncated); aborts on failure. */
static inline void fuzz_write(const char *dir, const char *name, const void *data, size_t len)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || (len && write(fd, data, len) != (ssize_t)len)) {
		perror(path);
		abort();
	}
	close(fd);
}

#endif
