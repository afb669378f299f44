/* libFuzzer target: a saved event, events/<Function>/<name>.json, as the editor round trip
 * and --event read it: events_validate_json gives 0 or "label:line:col: what" (never a
 * crash, overread or leak), and a valid event pretty-prints to valid JSON that
 * pretty-prints to itself and that cJSON (which the invoke path uses) parses too. */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backend/events.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct lk_error err = {0};
	char *pretty, *again;
	cJSON *j;

	if (events_validate_json(text, size, "ev.json", &err) < 0) {
		if (strncmp(err.message, "ev.json:", 8) || events_pretty_json(text, size))
			abort();
		return 0;
	}
	pretty = events_pretty_json(text, size);
	if (!pretty || events_validate_json(pretty, strlen(pretty), "pretty", &err) < 0)
		abort();
	again = events_pretty_json(pretty, strlen(pretty));
	if (!again || strcmp(again, pretty))
		abort();
	j = cJSON_ParseWithLength(text, size);
	cJSON_Delete(j);
	free(again);
	free(pretty);
	return 0;
}
