/* libFuzzer target: a ZipFile uploaded to the emulator (CreateFunction /
 * UpdateFunctionCode), extracted by emu_unzip with its safety rules. Any archive must be
 * refused with an error or extracted, never crash or leak; either way nothing may appear
 * outside the target directory, and an accepted archive has no link leading out of it. */
#include <stdint.h>

#include "backend/emulator/emu_internal.h"
#include "tests/fuzz/fuzz_common.h"

static char *sandbox, *root, *root_real;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	sandbox = fuzz_tmpdir("unzip");
	root = util_path_join(sandbox, "code/fn");
	return 0;
}

static int outside; /* set by check_entry */

/* Every path under the root must resolve inside it. */
static int check_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	char *real = realpath(path, NULL);
	size_t rl = strlen(root_real);

	(void)st;
	(void)type;
	(void)ftw;
	if (real && (strncmp(real, root_real, rl) || (real[rl] && real[rl] != '/')))
		outside = 1;
	free(real);
	return 0;
}

/* Only "code" may be in the sandbox, and only "fn" in it. */
static void check_sandbox(void)
{
	char path[4096];
	struct stat st;

	snprintf(path, sizeof(path), "%s/code", sandbox);
	for (int pass = 0; pass < 2; pass++) {
		DIR *d = opendir(pass ? path : sandbox);
		struct dirent *e;

		while (d && (e = readdir(d))) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
			    !strcmp(e->d_name, pass ? "fn" : "code"))
				continue;
			fprintf(stderr, "written outside the target: %s\n", e->d_name);
			abort();
		}
		if (d)
			closedir(d);
	}
	(void)st;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lk_error err = {0};
	int rc = emu_unzip(data, size, root, &err);

	if (rc < 0 && !lk_error_is_set(&err))
		abort();
	check_sandbox();
	if (rc == 0) {
		root_real = realpath(root, NULL);
		if (!root_real)
			abort();
		outside = 0;
		nftw(root, check_entry, 16, FTW_PHYS);
		free(root_real);
		if (outside) {
			fprintf(stderr, "accepted archive has a path leading outside its root\n");
			abort();
		}
	}
	fuzz_rm_rf(sandbox, 1);
	return 0;
}
