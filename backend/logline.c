/* logline.c - Lambda log line parsing and per-function summaries (see logline.h). */
#include "backend/logline.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static bool starts(const char *msg, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);
	return len >= n && !memcmp(msg, prefix, n);
}

static bool has(const char *msg, size_t len, const char *needle)
{
	return memmem(msg, len, needle, strlen(needle)) != NULL;
}

/* A timestamp as the runtimes print it: "2026-11-24T11:00:00[.fff]Z" (Z optional).
 * Returns its length, 0 when the text does not start with one. */
static size_t iso_time_len(const char *s, size_t len)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd";
	size_t i;

	if (len < sizeof(shape) - 1)
		return 0;
	for (i = 0; i < sizeof(shape) - 1; i++)
		if (shape[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != shape[i])
			return 0;
	if (i < len && (s[i] == '.' || s[i] == ','))
		for (i++; i < len && isdigit((unsigned char)s[i]); i++)
			;
	if (i < len && s[i] == 'Z')
		i++;
	return i;
}

/* Length of an upper-case level word ("INFO", "ERROR") at s, 0 if none. */
static size_t level_len(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len && i < 10 && isupper((unsigned char)s[i]))
		i++;
	return i >= 4 && (i == len || !isalnum((unsigned char)s[i])) ? i : 0;
}

bool logline_parse_fields(const char *msg, size_t len, struct logline_fields *out)
{
	const char *end = msg + len, *p, *tab;
	size_t n;

	memset(out, 0, sizeof(*out));
	out->message = msg;
	out->message_len = len;
	if ((n = iso_time_len(msg, len)) && n < len && msg[n] == '\t') {
		/* Node.js: time \t request id \t LEVEL \t message */
		p = msg + n + 1;
		tab = memchr(p, '\t', (size_t)(end - p));
		if (!tab || tab == p)
			return false;
		size_t lv = level_len(tab + 1, (size_t)(end - tab - 1));
		if (!lv || tab + 1 + lv >= end || tab[1 + lv] != '\t')
			return false;
		out->request_id = p;
		out->request_id_len = (size_t)(tab - p);
		out->level = tab + 1;
		out->level_len = lv;
		out->message = tab + 2 + lv;
		out->message_len = (size_t)(end - out->message);
		return true;
	}
	if (len > 2 && msg[0] == '[') {
		/* Python: [LEVEL]\ttime\trequest id\tmessage, or the runtime's "[ERROR] message" */
		size_t lv = level_len(msg + 1, len - 1);
		if (!lv || 1 + lv >= len || msg[1 + lv] != ']')
			return false;
		p = msg + 2 + lv;
		if (p < end && *p == '\t' && (n = iso_time_len(p + 1, (size_t)(end - p - 1))) &&
		    p + 1 + n < end && p[1 + n] == '\t') {
			const char *rid = p + 2 + n;
			tab = memchr(rid, '\t', (size_t)(end - rid));
			if (!tab)
				return false;
			out->request_id = rid;
			out->request_id_len = (size_t)(tab - rid);
			p = tab + 1;
		} else if (p < end && (*p == ' ' || *p == '\t')) {
			p++;
		} else if (p != end) {
			return false;
		}
		out->level = msg + 1;
		out->level_len = lv;
		out->message = p;
		out->message_len = (size_t)(end - p);
		return true;
	}
	return false;
}

bool logline_next_part(const char *msg, size_t len, size_t *pos, size_t *start, size_t *part_len)
{
	size_t i = *pos;

	if (len == 0) { /* an empty message is one empty part */
		*start = *part_len = 0;
		return (*pos)++ == 0;
	}
	if (i >= len)
		return false;
	*start = i;
	while (i < len && msg[i] != '\r' && msg[i] != '\n')
		i++;
	*part_len = i - *start;
	if (i < len && msg[i] == '\r')
		i++;
	if (i < len && msg[i] == '\n')
		i++;
	*pos = i; /* a trailing separator starts no empty part */
	return true;
}

/* True when the text starts with an error as an interpreter prints it: "TypeError: ...",
 * "Error: ...", "botocore.exceptions.ClientError: ..." (a name ending in "Error" or
 * "Exception", then a colon), or Node's "Uncaught ..." line. */
static bool js_error_start(const char *s, size_t len)
{
	size_t i = 0;

	if (starts(s, len, "Uncaught "))
		return true;
	while (i < len && (isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == '.'))
		i++;
	bool named = (i >= 5 && !memcmp(s + i - 5, "Error", 5)) ||
	             (i >= 9 && !memcmp(s + i - 9, "Exception", 9));
	return named && i < len && s[i] == ':';
}

enum logline_kind logline_classify(const char *msg, size_t len)
{
	struct logline_fields f;

	if (starts(msg, len, "START RequestId:"))
		return LOGLINE_START;
	if (starts(msg, len, "END RequestId:"))
		return LOGLINE_END;
	if (starts(msg, len, "REPORT RequestId:"))
		return LOGLINE_REPORT;
	if (has(msg, len, "Task timed out after"))
		return LOGLINE_TIMEOUT;
	if (starts(msg, len, "INIT_REPORT"))
		return has(msg, len, "Status: error") ? LOGLINE_ERROR : LOGLINE_PLAIN;
	if (logline_parse_fields(msg, len, &f)) {
		static const char *const errors[] = {"ERROR", "FATAL", "CRITICAL"};
		for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
			if (f.level_len == strlen(errors[i]) &&
			    !memcmp(f.level, errors[i], f.level_len))
				return LOGLINE_ERROR;
		return LOGLINE_PLAIN;
	}
	/* no runtime prefix: what the interpreter itself prints on an uncaught exception */
	if (starts(msg, len, "Traceback (most recent call last)") || starts(msg, len, "ERROR") ||
	    starts(msg, len, "FATAL") || js_error_start(msg, len))
		return LOGLINE_ERROR;
	if (len && msg[0] == '{' && has(msg, len, "\"errorType\"") &&
	    has(msg, len, "\"errorMessage\""))
		return LOGLINE_ERROR;
	return LOGLINE_PLAIN;
}

/* Finds "Key: <number>" in the line; returns true and the value. */
static bool field_number(const char *msg, size_t len, const char *key, double *out)
{
	const char *p = memmem(msg, len, key, strlen(key));
	if (!p)
		return false;
	p += strlen(key);
	const char *end = msg + len;
	while (p < end && *p == ' ')
		p++;
	char tmp[32];
	size_t n = 0;
	while (p < end && n < sizeof(tmp) - 1 && (isdigit((unsigned char)*p) || *p == '.'))
		tmp[n++] = *p++;
	tmp[n] = 0;
	if (n == 0)
		return false;
	*out = strtod(tmp, NULL);
	return true;
}

bool logline_parse_report(const char *msg, size_t len, struct logline_report *out)
{
	memset(out, 0, sizeof(*out));
	if (!starts(msg, len, "REPORT RequestId:"))
		return false;
	const char *p = msg + strlen("REPORT RequestId:");
	const char *end = msg + len;
	while (p < end && *p == ' ')
		p++;
	size_t n = 0;
	while (p < end && !isspace((unsigned char)*p) && n < sizeof(out->request_id) - 1)
		out->request_id[n++] = *p++;
	out->request_id[n] = 0;
	double v;
	/* "Billed Duration:" contains "Duration:" too: read it first, then the real one from
	 * the field boundary */
	if (field_number(msg, len, "Billed Duration:", &v))
		out->billed_ms = v;
	const char *d = msg;
	bool found = false;
	while ((d = memmem(d, (size_t)(end - d), "Duration:", 9))) {
		if (d == msg || d[-1] == '\t' || d[-1] == ' ') {
			const char *before = d;
			bool billed = before - msg >= 7 && !memcmp(before - 7, "Billed ", 7);
			bool init = before - msg >= 5 && !memcmp(before - 5, "Init ", 5);
			if (!billed && !init &&
			    field_number(d, (size_t)(end - d), "Duration:", &out->duration_ms)) {
				found = true;
				break;
			}
		}
		d += 9;
	}
	if (!found)
		return false;
	if (field_number(msg, len, "Memory Size:", &v))
		out->memory_mb = util_double_to_int(v);
	if (field_number(msg, len, "Max Memory Used:", &v))
		out->max_memory_mb = util_double_to_int(v);
	if (field_number(msg, len, "Init Duration:", &v)) {
		out->init_ms = v;
		out->cold = true;
	}
	out->timed_out = has(msg, len, "Status: timeout");
	return true;
}

static bool copy_path(struct logline_location *out, const char *p, size_t n)
{
	if (n == 0 || n >= sizeof(out->path))
		return false;
	memcpy(out->path, p, n);
	out->path[n] = 0;
	return true;
}

/* Reads a positive int at *p (advancing); 0 if none. */
static int read_int(const char **p, const char *end)
{
	long v = 0;
	bool any = false;
	while (*p < end && isdigit((unsigned char)**p) && v < 10000000) {
		v = v * 10 + (**p - '0');
		(*p)++;
		any = true;
	}
	return any ? (int)v : 0;
}

static bool python_location(const char *msg, size_t len, struct logline_location *out)
{
	const char *end = msg + len;
	const char *p = memmem(msg, len, "File \"", 6);
	if (!p)
		return false;
	p += 6;
	const char *q = memchr(p, '"', (size_t)(end - p));
	if (!q || !copy_path(out, p, (size_t)(q - p)))
		return false;
	const char *l = memmem(q, (size_t)(end - q), ", line ", 7);
	if (!l)
		return false;
	l += 7;
	out->line = read_int(&l, end);
	out->column = 0;
	return out->line > 0;
}

/* path:LINE[:COL] ending at a non-path character; the path must contain a '.' extension. */
static bool path_line_at(const char *start, const char *end, struct logline_location *out)
{
	const char *p = start;
	if (end - start > 7 && !memcmp(start, "file://", 7))
		p += 7; /* ESM stack frames: file:///var/task/index.mjs:7:2 */
	while (p < end && *p != ':' && !isspace((unsigned char)*p) && *p != '(' && *p != ')' &&
	       *p != '"' && *p != '\'')
		p++;
	if (p >= end || *p != ':' || p == start)
		return false;
	const char *dot = memchr(start, '.', (size_t)(p - start));
	if (!dot)
		return false;
	const char *n = p + 1;
	int line = read_int(&n, end);
	if (line <= 0)
		return false;
	int col = 0;
	if (n < end && *n == ':') {
		n++;
		col = read_int(&n, end);
	}
	if (!copy_path(out, start, (size_t)(p - start)))
		return false;
	/* "node:internal/..." and URLs are not source files */
	if (!strncmp(out->path, "node:", 5) || !strcmp(out->path, "node") ||
	    (strstr(out->path, "://") && strncmp(out->path, "file://", 7) != 0))
		return false;
	out->line = line;
	out->column = col;
	return true;
}

static bool node_location(const char *msg, size_t len, struct logline_location *out)
{
	const char *end = msg + len;
	const char *at = memmem(msg, len, "at ", 3);
	if (!at)
		return false;
	const char *open = memrchr(at, '(', (size_t)(end - at));
	if (open && path_line_at(open + 1, end, out))
		return true;
	return path_line_at(at + 3, end, out);
}

bool logline_find_location(const char *msg, size_t len, struct logline_location *out)
{
	memset(out, 0, sizeof(*out));
	if (python_location(msg, len, out) || node_location(msg, len, out))
		return true;
	/* plain path:line anywhere: try each token start */
	const char *end = msg + len;
	for (const char *p = msg; p < end; p++) {
		if (p != msg && !isspace((unsigned char)p[-1]) && p[-1] != '(' && p[-1] != '"' &&
		    p[-1] != '\'')
			continue;
		if (path_line_at(p, end, out))
			return true;
	}
	memset(out, 0, sizeof(*out));
	return false;
}

static char *existing(char *p)
{
	struct stat st;
	if (p && stat(p, &st) == 0 && S_ISREG(st.st_mode))
		return p;
	free(p);
	return NULL;
}

char *logline_resolve_source(const char *code_dir, const char *path)
{
	if (!path || !*path || strstr(path, ".."))
		return NULL;
	static const char *const roots[] = {"/var/task/", "/opt/", "file:///var/task/"};
	for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
		size_t n = strlen(roots[i]);
		if (!strncmp(path, roots[i], n))
			return code_dir ? existing(util_path_join(code_dir, path + n)) : NULL;
	}
	if (code_dir) {
		/* the longest tail of the path that exists under the code dir: the emulator (and
		 * other local runners) execute a copy of the code elsewhere, e.g.
		 * ~/.cache/lambdeck/emulator-<key>/<fn>/<id>/app.py -> <code_dir>/app.py */
		for (const char *p = path; p; p = strchr(p + 1, '/')) {
			const char *rest = *p == '/' ? p + 1 : p;
			if (!*rest)
				break;
			char *cand = existing(util_path_join(code_dir, rest));
			if (cand)
				return cand;
		}
	}
	if (path[0] == '/')
		return existing(xstrdup(path));
	return NULL;
}

bool logline_format_json(const char *msg, size_t len, bool pretty, struct buf *out)
{
	/* skip a runtime prefix: up to 3 tab-separated fields before the JSON */
	size_t off = 0;
	for (int tabs = 0; tabs <= 3; tabs++) {
		size_t i = off;
		while (i < len && (msg[i] == ' '))
			i++;
		if (i < len && (msg[i] == '{' || msg[i] == '[')) {
			cJSON *j = cJSON_ParseWithLength(msg + i, len - i);
			if (!j)
				return false;
			char *s = pretty ? cJSON_Print(j) : cJSON_PrintUnformatted(j);
			cJSON_Delete(j);
			if (!s)
				return false;
			buf_append(out, msg, off);
			buf_puts(out, s);
			cJSON_free(s);
			return true;
		}
		const char *tab = memchr(msg + off, '\t', len - off);
		if (!tab)
			return false;
		off = (size_t)(tab - msg) + 1;
	}
	return false;
}

void logline_stats_add(struct logline_stats *s, const char *msg, size_t len)
{
	switch (logline_classify(msg, len)) {
	case LOGLINE_REPORT: {
		struct logline_report r;
		if (!logline_parse_report(msg, len, &r))
			return;
		s->invocations++;
		s->last_ms = r.duration_ms;
		if (r.cold)
			s->cold_starts++;
		if (r.timed_out)
			s->timeouts++;
		if (r.max_memory_mb > s->max_memory_mb)
			s->max_memory_mb = r.max_memory_mb;
		if (r.memory_mb)
			s->memory_mb = r.memory_mb;
		s->window[s->next] = r.duration_ms;
		s->next = (s->next + 1) % LOGLINE_STATS_WINDOW;
		if (s->n_window < LOGLINE_STATS_WINDOW)
			s->n_window++;
		break;
	}
	case LOGLINE_TIMEOUT:
		s->timeouts++;
		break;
	case LOGLINE_ERROR:
		s->errors++;
		break;
	default:
		break;
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

double logline_stats_percentile(const struct logline_stats *s, double p)
{
	if (s->n_window == 0)
		return 0;
	double tmp[LOGLINE_STATS_WINDOW];
	memcpy(tmp, s->window, s->n_window * sizeof(double));
	qsort(tmp, s->n_window, sizeof(double), cmp_double);
	size_t idx = (size_t)(p / 100.0 * (double)(s->n_window - 1) + 0.5);
	if (idx >= s->n_window)
		idx = s->n_window - 1;
	return tmp[idx];
}

void logline_stats_format(const struct logline_stats *s, struct buf *out)
{
	if (s->invocations == 0) {
		buf_printf(out, "no invocations yet");
	} else {
		buf_printf(out, "%zu inv  last %.1f ms  p50 %.1f  p95 %.1f", s->invocations,
		           s->last_ms, logline_stats_percentile(s, 50),
		           logline_stats_percentile(s, 95));
		if (s->memory_mb)
			buf_printf(out, "  %d/%d MB", s->max_memory_mb, s->memory_mb);
		else
			buf_printf(out, "  %d MB", s->max_memory_mb);
		buf_printf(out, "  %zu cold", s->cold_starts);
	}
	buf_printf(out, "  %zu err  %zu timeout", s->errors, s->timeouts);
}
