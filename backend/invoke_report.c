/* invoke_report.c - the pure parts of invoke.h: invocation type names and the REPORT
 * line parser (kept apart from invoke.c so tests and tools can use them without a client). */
#include "backend/invoke.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *invoke_type_name(enum invoke_type t)
{
	switch (t) {
	case INVOKE_EVENT:
		return "Event";
	case INVOKE_DRY_RUN:
		return "DryRun";
	default:
		return "RequestResponse";
	}
}

int invoke_type_parse(const char *s, enum invoke_type *out)
{
	if (!s)
		return -1;
	if (!strcasecmp(s, "RequestResponse") || !strcasecmp(s, "sync"))
		*out = INVOKE_REQUEST_RESPONSE;
	else if (!strcasecmp(s, "Event") || !strcasecmp(s, "async"))
		*out = INVOKE_EVENT;
	else if (!strcasecmp(s, "DryRun"))
		*out = INVOKE_DRY_RUN;
	else
		return -1;
	return 0;
}

/* ---- REPORT line --------------------------------------------------------------------- */

static double report_field(const char *line, const char *key)
{
	const char *p = strstr(line, key);

	if (!p)
		return -1;
	return strtod(p + strlen(key), NULL);
}

void invoke_parse_report(const char *log_tail, struct invoke_result *r)
{
	const char *p = log_tail, *line = NULL;
	char *copy;

	r->duration_ms = r->billed_ms = r->init_ms = -1;
	r->memory_mb = r->max_memory_mb = -1;
	if (!log_tail)
		return;
	/* The last REPORT line is this invocation's. */
	while ((p = strstr(p, "REPORT RequestId:"))) {
		if (p == log_tail || p[-1] == '\n')
			line = p;
		p++;
	}
	if (!line)
		return;
	p = strchr(line, '\n');
	copy = p ? xstrndup(line, (size_t)(p - line)) : xstrdup(line);
	/* "Billed Duration:" contains "Duration:" and "Init Duration:" too: look for the tab-
	 * or space-separated field names explicitly. */
	{
		const char *d = copy;
		while ((d = strstr(d, "Duration: "))) {
			bool billed = d - copy >= 7 && !strncmp(d - 7, "Billed ", 7);
			bool init = d - copy >= 5 && !strncmp(d - 5, "Init ", 5);
			double v = strtod(d + 10, NULL);
			if (billed)
				r->billed_ms = v;
			else if (init)
				r->init_ms = v;
			else
				r->duration_ms = v;
			d += 10;
		}
	}
	r->memory_mb = (int)report_field(copy, "Memory Size: ");
	r->max_memory_mb = (int)report_field(copy, "Max Memory Used: ");
	free(copy);
}
