/* libFuzzer target: a test command's output (pytest, unittest, TAP, go test, node --test
 * spec, jest), as testrun_parse_output reads it after a run, whole and also split into
 * lines where the input says (the splitter must give the same lines in chunks). */
#include <stdint.h>

#include "backend/testrun_internal.h"
#include "tests/fuzz/fuzz_testrun.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct testrun_result r = {0};

	testrun_parse_output((const char *)data, size, &r);
	if (r.n_failures > TESTRUN_MAX_FAILURES)
		abort();
	for (size_t i = 0; i < r.n_failures; i++)
		if (!r.failures[i].name || !r.failures[i].message)
			abort();
	fuzz_testrun_check(&r);
	testrun_result_clear(&r);
	return 0;
}
