/* fuzz_testrun.h - checks shared by the test-runner targets: a parsed result must print as
 * valid JSON (fuzz_json.h: every --json output must be, whatever the input) and as a
 * one-line summary, and copy and free without leaks. */
#ifndef LAMBDECK_TESTS_FUZZ_TESTRUN_H
#define LAMBDECK_TESTS_FUZZ_TESTRUN_H

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "backend/testrun.h"
#include "tests/fuzz/fuzz_json.h"

/* Prints r both ways and aborts when the JSON does not parse back. */
static inline void fuzz_testrun_check(const struct testrun_result *r)
{
	struct testrun_result copy = {0};
	struct buf summary = {0};

	for (int with_output = 0; with_output < 2; with_output++) {
		char *json = testrun_result_json(r, with_output);

		fuzz_json_check(json);
		free(json);
	}
	testrun_result_summary(r, false, &summary);
	testrun_result_summary(r, true, &summary);
	buf_free(&summary);
	testrun_result_copy(&copy, r);
	testrun_result_clear(&copy);
}

#endif
