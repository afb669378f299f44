/* libFuzzer target: a user keymap file (keymap_load_file over the compiled-in defaults, as
 * the console loads ~/.config/lambdeck/keys). Any input must load with warnings, never crash
 * or leak; then every binding is listed and printed back, and the input's bytes are fed as
 * keys through the lookup. */
#include <stdint.h>

#include "keymaps/keymap.h"
#include "tests/fuzz/fuzz_common.h"

static char *dir, *path;
static const char *const scopes[] = {"functions", "logs", "playground", "tests", NULL};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	dir = fuzz_tmpdir("keymap");
	path = util_path_join(dir, "keys");
	return 0;
}

/* Every listed binding must parse back to the same keys and be found again. */
static void check_binding(const struct keymap_binding *b, void *ud)
{
	const struct keymap *km = ud;
	int keys[KEYMAP_MAX_KEYS];
	const char *why = NULL;
	char back[64];
	int n = keymap_parse_keys(b->keys, keys, &why);

	if (n <= 0)
		abort();
	keymap_format_keys(keys, n, back, sizeof(back));
	if (strcmp(back, b->keys) || keymap_bound(km, b->scope, b->keys) != b->request)
		abort();
	(void)keymap_key_for(km, b->scope, b->request);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct keymap *km = keymap_new(scopes);
	struct lk_error err = {0};
	enum request req;

	keymap_load_defaults(km);
	fuzz_write(dir, "keys", data, size);
	if (keymap_load_file(km, path, &err) < 0)
		abort();
	for (size_t i = 0; i < keymap_warning_count(km); i++)
		(void)strlen(keymap_warning(km, i));
	keymap_foreach(km, "global", check_binding, km);
	for (size_t s = 0; scopes[s]; s++)
		keymap_foreach(km, scopes[s], check_binding, km);
	for (size_t i = 0; i < size; i++) {
		keymap_feed(km, scopes[i % 4], data[i], &req);
		(void)strlen(keymap_pending_text(km));
	}
	keymap_free(km);
	return 0;
}
