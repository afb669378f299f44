/* libFuzzer target: a test command's output (pytest, unittest, TAP, go test, node --test
 * spec, jest), as testrun_parse_output reads it after a run; the result must print as valid
 * JSON. The line splitter, fed in chunks whose sizes come from the input (output arrives
 * from a pipe in any pieces), must give the same lines as fed whole. */
#include <stdint.h>

#include "backend/testrun_internal.h"
#include "tests/fuzz/fuzz_testrun.h"

static void collect(const char *line, size_t len, void *ud)
{
	struct buf *b = ud;

	if (strlen(line) != len)
		abort();
	buf_append(b, line, len + 1); /* with its NUL as the separator */
}

/* All lines of data, fed in pieces of up to chunk bytes (0: whole). */
static void split(const uint8_t *data, size_t size, size_t chunk, struct buf *out)
{
	struct line_splitter s = {.emit = collect, .ud = out};

	for (size_t i = 0; i < size;) {
		size_t n = chunk ? 1 + (data[i] % chunk) : size;

		n = n < size - i ? n : size - i;
		line_splitter_feed(&s, (const char *)data + i, n);
		i += n;
	}
	line_splitter_finish(&s);
	line_splitter_free(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct testrun_result r = {0};
	struct buf whole = {0}, pieces = {0};

	split(data, size, 0, &whole);
	split(data, size, 7, &pieces);
	if (whole.len != pieces.len || (whole.len && memcmp(whole.data, pieces.data, whole.len)))
		abort();
	buf_free(&whole);
	buf_free(&pieces);

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
