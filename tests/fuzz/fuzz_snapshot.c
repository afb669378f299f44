/* libFuzzer target: a snapshot file, events/<Function>/<name>.snapshot.json (committed,
 * hand-edited), read as a replay does: validated, parsed, its "ignore" paths applied while
 * comparing "expected.response" with a response (here: the file's "payload", and the
 * expectation itself, which must give no difference). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backend/events.h"
#include "backend/snapshot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lk_error err = {0};
	struct snapshot_diff *diffs = NULL;
	size_t n_diffs = 0, n_ignore = 0;
	const char **ignore = NULL;
	const cJSON *exp, *resp, *ign, *x;
	cJSON *root;

	if (events_validate_json((const char *)data, size, "s.snapshot.json", &err) < 0)
		return 0;
	root = cJSON_ParseWithLength((const char *)data, size);
	if (!root)
		return 0;
	exp = cJSON_GetObjectItemCaseSensitive(root, "expected");
	resp = cJSON_GetObjectItemCaseSensitive(exp, "response");
	ign = cJSON_GetObjectItemCaseSensitive(root, "ignore");
	if (cJSON_IsArray(ign)) {
		ignore = calloc((size_t)cJSON_GetArraySize(ign) + 1, sizeof(*ignore));
		cJSON_ArrayForEach(x, ign) if (cJSON_IsString(x)) ignore[n_ignore++] =
		    x->valuestring;
	}
	if (resp) {
		if (snapshot_compare(resp, resp, ignore, n_ignore, &diffs, &n_diffs) != 0)
			abort();
		if (cJSON_GetObjectItemCaseSensitive(root, "payload"))
			snapshot_compare(resp, cJSON_GetObjectItemCaseSensitive(root, "payload"),
			                 ignore, n_ignore, &diffs, &n_diffs);
		snapshot_compare(resp, root, ignore, n_ignore, &diffs, &n_diffs);
		for (size_t i = 0; i < n_diffs; i++)
			if (!diffs[i].path || !diffs[i].expected || !diffs[i].actual)
				abort();
		snapshot_diffs_free(diffs, n_diffs);
	}
	for (size_t i = 0; i < n_ignore; i++)
		(void)snapshot_path_ignored(ignore[i], ignore, n_ignore);
	free(ignore);
	cJSON_Delete(root);
	return 0;
}
