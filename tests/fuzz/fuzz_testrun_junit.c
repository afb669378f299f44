/* libFuzzer target: a JUnit XML report (pytest --junitxml, jest-junit, go-junit-report,
 * hand-written) as testrun_parse_junit reads it: 0 with a result or -1 with
 * "name:line:col: what", never a crash or a leak; a result must print as valid JSON. */
#include <stdint.h>

#include "tests/fuzz/fuzz_testrun.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct testrun_result r = {0};
	struct lk_error err = {0};

	if (testrun_parse_junit((const char *)data, size, "junit.xml", &r, &err) < 0) {
		if (strncmp(err.message, "junit.xml:", 10) || r.n_failures || r.failures)
			abort();
		return 0;
	}
	if (r.n_failures > TESTRUN_MAX_FAILURES)
		abort();
	fuzz_testrun_check(&r);
	testrun_result_clear(&r);
	return 0;
}
