/* libFuzzer target: .lambdeck/history.jsonl, appended by every lambdeck process of the
 * project (and writable by anyone who can write the project). history_load reads a first
 * part, history_refresh the rest appended later (the split point comes from the input):
 * corrupt or torn lines are skipped, never a crash or a leak, and every entry read prints
 * back to a line that parses to the same line. */
#include <stdint.h>

#include "backend/history.h"
#include "tests/fuzz/fuzz_common.h"
#include "tests/fuzz/fuzz_json.h"

static char *dir, *state;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	dir = fuzz_tmpdir("history");
	state = util_path_join(dir, ".lambdeck");
	mkdir(state, 0700);
	return 0;
}

static void check_entries(const struct history *h, size_t from)
{
	for (size_t i = from; i < h->n; i++) {
		struct history_entry back;
		char *line = history_entry_to_json(&h->entries[i]), *again;

		history_entry_init(&back);
		fuzz_json_check(line);
		if (history_entry_from_json(line, strlen(line), &back) < 0)
			abort();
		again = history_entry_to_json(&back);
		if (strcmp(line, again))
			abort();
		(void)history_previous_same_event(h, i);
		free(again);
		free(line);
		history_entry_clear(&back);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct history h = {0};
	struct lk_error err = {0};
	size_t split = size ? data[0] % (size + 1) : 0, added = 0, before;
	int fd;

	fuzz_write(state, "history.jsonl", data, split);
	if (history_load(dir, &h, &err) < 0)
		abort();
	check_entries(&h, 0);
	before = h.n;
	fd = open(h.path, O_WRONLY | O_APPEND);
	if (fd < 0 || write(fd, data + split, size - split) != (ssize_t)(size - split))
		abort();
	close(fd);
	if (history_refresh(&h, &added, &err) < 0 || h.n != before + added)
		abort();
	check_entries(&h, before);
	history_clear(&h);
	return 0;
}
