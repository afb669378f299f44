/* fuzz_json.h - the check for every JSON text lambdeck writes from untrusted input (--json
 * outputs, history lines, shared results): it parses, and it is valid UTF-8 with no C1
 * control left raw (U+0080..U+009F, which a terminal may take for CSI), whatever the input. */
#ifndef LAMBDECK_TESTS_FUZZ_JSON_H
#define LAMBDECK_TESTS_FUZZ_JSON_H

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/util.h"

/* Aborts (a finding) when json is not such a text. */
static inline void fuzz_json_check(const char *json)
{
	size_t len = json ? strlen(json) : 0;
	cJSON *back = json ? cJSON_Parse(json) : NULL;

	if (!back) {
		fprintf(stderr, "not JSON: %.200s\n", json ? json : "(null)");
		abort();
	}
	cJSON_Delete(back);
	for (size_t i = 0; i < len;) {
		size_t n = util_utf8_len((const unsigned char *)json + i, len - i);

		if (!n || (n == 2 && (unsigned char)json[i] == 0xC2 &&
		           (unsigned char)json[i + 1] < 0xA0)) {
			fprintf(stderr, "invalid UTF-8 or raw C1 at byte %zu of JSON output\n", i);
			abort();
		}
		i += n;
	}
}

#endif
