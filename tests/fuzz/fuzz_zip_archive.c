/* libFuzzer target: the previous zip a quick build patches (zipw_archive_read of any file,
 * as .lambdeck/build/ may hold anything). The reader must refuse or accept without a crash,
 * an overread or a leak; an accepted archive is then patched (every entry kept but one,
 * replaced by a new file) and the result must read back with the same names. */
#include <stdint.h>

#include "backend/zipw.h"
#include "tests/fuzz/fuzz_common.h"

static char *dir, *old_path, *new_path, *src_path;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	dir = fuzz_tmpdir("zip");
	fuzz_write(dir, "src", "print('changed')\n", 17);
	old_path = util_path_join(dir, "old.zip");
	new_path = util_path_join(dir, "new.zip");
	src_path = util_path_join(dir, "src");
	return 0;
}

/* Patches old into new.zip keeping every entry but the one at data-chosen index k. */
static void patch(const struct zipw_archive *old, size_t k)
{
	struct zipw_item *items = calloc(old->n ? old->n : 1, sizeof(*items));
	struct zipw_opts opts = {.old_path = old_path, .old = old};
	struct zipw_result res = {0};
	struct zipw_archive back = {0};
	struct lk_error err = {0};

	for (size_t i = 0; i < old->n; i++)
		items[i] = (struct zipw_item){.name = old->v[i].name,
		                              .src = src_path,
		                              .mode = old->v[i].mode ? old->v[i].mode : 0644,
		                              .old = i == k ? -1 : (long)i};
	if (zipw_write(new_path, items, old->n, &opts, &res, &err) == 0) {
		if (zipw_commit(&res, &err) < 0 || zipw_archive_read(new_path, &back, &err) < 0 ||
		    back.n != old->n)
			abort();
		for (size_t i = 0; i < back.n; i++)
			if (strcmp(back.v[i].name, old->v[i].name))
				abort();
		zipw_archive_free(&back);
		unlink(new_path);
	} else if (!lk_error_is_set(&err)) {
		abort();
	}
	zipw_result_free(&res);
	free(items);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct zipw_archive a = {0};
	struct lk_error err = {0};

	fuzz_write(dir, "old.zip", data, size);
	if (zipw_archive_read(old_path, &a, &err) == 0) {
		for (size_t i = 0; i < a.n; i++)
			if (!a.v[i].name || !*a.v[i].name)
				abort();
		patch(&a, size ? data[0] % (a.n + 1) : 0);
	} else if (strcmp(err.code, "ZipInvalid") || a.v || a.n) {
		abort();
	}
	zipw_archive_free(&a);
	return 0;
}
