/* libFuzzer target: a shared run result, .lambdeck/tests/last.json, written by another
 * process (or anyone who can write the project) and read by testrun_result_from_json: -1 or
 * a result that prints as JSON which parses back to the same counts. */
#include <stdint.h>

#include "tests/fuzz/fuzz_testrun.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct testrun_result r = {0}, again = {0};
	char *json;

	if (testrun_result_from_json((const char *)data, size, &r) < 0) {
		testrun_result_clear(&r);
		return 0;
	}
	fuzz_testrun_check(&r);
	json = testrun_result_json(&r, true);
	if (testrun_result_from_json(json, strlen(json), &again) < 0 || again.passed != r.passed ||
	    again.failed != r.failed || again.n_failures != r.n_failures)
		abort();
	free(json);
	testrun_result_clear(&again);
	testrun_result_clear(&r);
	return 0;
}
