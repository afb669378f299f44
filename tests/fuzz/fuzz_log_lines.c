/* libFuzzer target: function log lines as the Logs pane, `lambdeck logs` and the emulator's
 * FilterLogEvents read them (a function prints anything). The input's first line is a
 * FilterLogEvents pattern, every further line a log message: each is classified, parsed as a
 * REPORT line, searched for a stack-trace location, re-printed as JSON both ways, added to
 * the per-function summary and matched against the pattern. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backend/emulator/filter.h"
#include "backend/logline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data, *end = text + size;
	const char *nl = memchr(text, '\n', size);
	char *pattern = xstrndup(text, nl ? (size_t)(nl - text) : size);
	struct lk_error err = {0};
	struct filter_pattern *f = filter_compile(pattern, &err);
	struct logline_stats *st = xcalloc(1, sizeof(*st));
	struct buf out = {0};

	for (const char *p = nl ? nl + 1 : end; p < end;) {
		const char *e = memchr(p, '\n', (size_t)(end - p));
		size_t len = e ? (size_t)(e - p) : (size_t)(end - p);
		struct logline_report r;
		struct logline_location loc;

		(void)logline_classify(p, len);
		if (logline_parse_report(p, len, &r) && strnlen(r.request_id, 64) == 64)
			abort();
		if (logline_find_location(p, len, &loc) &&
		    (strnlen(loc.path, sizeof(loc.path)) == sizeof(loc.path) || loc.line < 1))
			abort();
		logline_format_json(p, len, false, &out);
		logline_format_json(p, len, true, &out);
		buf_reset(&out);
		logline_stats_add(st, p, len);
		if (f)
			(void)filter_match(f, p, len);
		p += len + 1;
	}
	(void)logline_stats_percentile(st, 50);
	(void)logline_stats_percentile(st, 95);
	logline_stats_format(st, &out);
	buf_free(&out);
	free(st);
	filter_free(f);
	free(pattern);
	return 0;
}
