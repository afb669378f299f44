/* testrun_parse.c - reading test results: output line splitting (ANSI stripped, sanitised),
 * the summary/failure formats of TAP (incl. node --test), pytest, unittest, go test, node's
 * spec reporter and jest, and a small tolerant parser for the JUnit XML subset. Pure code:
 * no I/O, no loop. */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "backend/testrun_internal.h"

/* --- results ------------------------------------------------------------------------------ */

const char *testrun_status_name(enum testrun_status s)
{
	static const char *const names[] = {
	    [TESTRUN_IDLE] = "idle",           [TESTRUN_RUNNING] = "running",
	    [TESTRUN_PASSED] = "passed",       [TESTRUN_FAILED] = "failed",
	    [TESTRUN_ERROR] = "error",         [TESTRUN_TIMEOUT] = "timeout",
	    [TESTRUN_CANCELLED] = "cancelled", [TESTRUN_NO_TESTS] = "notests",
	};
	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "unknown";
}

const char *testrun_format_name(enum testrun_format f)
{
	static const char *const names[] = {
	    [TESTRUN_FMT_NONE] = "none",
	    [TESTRUN_FMT_JUNIT] = "junit",
	    [TESTRUN_FMT_TAP] = "tap",
	    [TESTRUN_FMT_PYTEST] = "pytest",
	    [TESTRUN_FMT_UNITTEST] = "unittest",
	    [TESTRUN_FMT_GOTEST] = "go test",
	    [TESTRUN_FMT_NODE] = "node --test",
	    [TESTRUN_FMT_JEST] = "jest",
	    [TESTRUN_FMT_SNAPSHOT] = "snapshots",
	    [TESTRUN_FMT_MOCHA] = "mocha",
	    [TESTRUN_FMT_VITEST] = "vitest",
	    [TESTRUN_FMT_MIXED] = "mixed",
	};
	return (unsigned)f < sizeof(names) / sizeof(names[0]) ? names[f] : "unknown";
}

/* Longest duration believed from a runner's output (about 11 days). */
#define DURATION_MAX_S 1e6

/* secs when it is a usable duration, else NAN: a runner's "1e999s", negative or absurd
 * figure is unknown, and NAN poisons any sum it joins, so the whole parsed total is dropped
 * for the measured wall time (duration_known is false for it). */
static double duration_checked(double secs)
{
	return isfinite(secs) && secs >= 0 && secs <= DURATION_MAX_S ? secs : NAN;
}

/* True for a parsed total worth reporting instead of the wall time. */
static bool duration_known(double secs)
{
	return isfinite(secs) && secs > 0 && secs <= DURATION_MAX_S;
}

static void failures_clear(struct testrun_result *r)
{
	for (size_t i = 0; i < r->n_failures; i++) {
		struct testrun_failure *f = &r->failures[i];
		free(f->name);
		free(f->message);
		free(f->file);
		free(f->path);
		free(f->group);
	}
	free(r->failures);
	r->failures = NULL;
	r->n_failures = 0;
	r->failures_truncated = false;
}

static void roots_clear(struct testrun_result *r)
{
	for (size_t i = 0; i < r->n_roots; i++) {
		struct testrun_root_result *x = &r->roots[i];
		free(x->dir);
		free(x->command);
		free(x->rule);
		free(x->warning);
	}
	free(r->roots);
	r->roots = NULL;
	r->n_roots = 0;
}

void testrun_result_clear(struct testrun_result *r)
{
	if (!r)
		return;
	failures_clear(r);
	roots_clear(r);
	free(r->warning);
	free(r->trigger);
	free(r->command);
	free(r->note);
	free(r->error);
	for (size_t i = 0; i < r->n_lines; i++)
		free(r->lines[i]);
	free(r->lines);
	memset(r, 0, sizeof(*r));
}

void testrun_result_copy(struct testrun_result *dst, const struct testrun_result *src)
{
	*dst = *src;
	dst->trigger = xstrdup(src->trigger);
	dst->command = xstrdup(src->command);
	dst->note = xstrdup(src->note);
	dst->error = xstrdup(src->error);
	dst->warning = xstrdup(src->warning);
	dst->roots = NULL;
	if (src->n_roots) {
		dst->roots = xcalloc(src->n_roots, sizeof(*dst->roots));
		for (size_t i = 0; i < src->n_roots; i++) {
			dst->roots[i] = src->roots[i];
			dst->roots[i].dir = xstrdup(src->roots[i].dir);
			dst->roots[i].command = xstrdup(src->roots[i].command);
			dst->roots[i].rule = xstrdup(src->roots[i].rule);
			dst->roots[i].warning = xstrdup(src->roots[i].warning);
		}
	}
	dst->failures = NULL;
	dst->n_failures = 0;
	if (src->n_failures) {
		dst->failures = xcalloc(src->n_failures, sizeof(*dst->failures));
		for (size_t i = 0; i < src->n_failures; i++) {
			const struct testrun_failure *f = &src->failures[i];
			dst->failures[i] = (struct testrun_failure){
			    .name = xstrdup(f->name),
			    .message = xstrdup(f->message),
			    .file = xstrdup(f->file),
			    .path = xstrdup(f->path),
			    .line = f->line,
			    .group = xstrdup(f->group),
			};
		}
		dst->n_failures = src->n_failures;
	}
	dst->lines = NULL;
	if (src->n_lines) {
		dst->lines = xcalloc(src->n_lines, sizeof(*dst->lines));
		for (size_t i = 0; i < src->n_lines; i++)
			dst->lines[i] = xstrdup(src->lines[i]);
	}
}

void testrun_add_failure(struct testrun_result *r, const char *name, const char *message,
                         const char *file, int line, const char *group)
{
	if (r->n_failures >= TESTRUN_MAX_FAILURES) {
		r->failures_truncated = true;
		return;
	}
	r->failures = xrealloc(r->failures, (r->n_failures + 1) * sizeof(*r->failures));
	struct buf m = {0};
	if (message) /* keep the first line of a message; at most 300 bytes */
		util_sanitize(message, strcspn(message, "\n"), false, false, &m);
	buf_append(&m, "", 0); /* util_sanitize leaves an empty buffer unterminated */
	if (m.len > 300) {
		m.len = 297;
		while (m.len && ((unsigned char)m.data[m.len] & 0xC0) == 0x80)
			m.len--;
		m.data[m.len] = '\0';
		buf_puts(&m, "...");
	}
	struct buf n = {0};
	util_sanitize(name ? name : "", name ? strlen(name) : 0, false, false, &n);
	buf_append(&n, "", 0); /* util_sanitize leaves an empty buffer unterminated */
	r->failures[r->n_failures++] = (struct testrun_failure){
	    .name = buf_steal(&n),
	    .message = buf_steal(&m),
	    .file = file && *file ? xstrdup(file) : NULL,
	    .line = line > 0 ? line : 0,
	    .group = xstrdup(group),
	};
}

static void summary(const struct testrun_result *r, bool ascii, bool duration, struct buf *out);

void testrun_result_summary(const struct testrun_result *r, bool ascii, struct buf *out)
{
	summary(r, ascii, true, out);
}

void testrun_root_summary(const struct testrun_root_result *x, bool ascii, struct buf *out)
{
	struct testrun_result one = {
	    .status = x->status,
	    .counts_known = x->counts_known,
	    .passed = x->passed,
	    .failed = x->failed,
	    .skipped = x->skipped,
	    .errors = x->errors,
	    .exit_status = x->exit_status,
	    .error = x->warning,
	};
	summary(&one, ascii, false, out);
}

/* The one-line summary; with the duration when duration. */
static void summary(const struct testrun_result *r, bool ascii, bool duration, struct buf *out)
{
	switch (r->status) {
	case TESTRUN_IDLE:
		buf_puts(out, "not run yet");
		return;
	case TESTRUN_RUNNING:
		buf_puts(out, ascii ? "running..." : "running…");
		return;
	case TESTRUN_ERROR:
		buf_printf(out, "%s %s", ascii ? "ERROR" : "⚠", r->error ? r->error : "error");
		return;
	default:
		break;
	}
	const char *mark = r->status == TESTRUN_PASSED     ? (ascii ? "PASS" : "✓")
	                   : r->status == TESTRUN_FAILED   ? (ascii ? "FAIL" : "✗")
	                   : r->status == TESTRUN_TIMEOUT  ? (ascii ? "TIMEOUT" : "⏱")
	                   : r->status == TESTRUN_NO_TESTS ? (ascii ? "WARN" : "⚠")
	                                                   : (ascii ? "CANCELLED" : "⊘");
	buf_puts(out, mark);
	if (r->status == TESTRUN_TIMEOUT)
		buf_puts(out, " timed out");
	else if (r->status == TESTRUN_CANCELLED)
		buf_puts(out, " cancelled");
	if (r->counts_known && !(r->passed || r->failed || r->errors || r->skipped)) {
		buf_puts(out, " no tests ran");
	} else if (r->counts_known) {
		const char *sep = " ";
		if (r->failed) {
			buf_printf(out, "%s%d failed", sep, r->failed);
			sep = ", ";
		}
		if (r->errors) {
			buf_printf(out, "%s%d error%s", sep, r->errors, r->errors == 1 ? "" : "s");
			sep = ", ";
		}
		buf_printf(out, "%s%d passed", sep, r->passed);
		if (r->skipped)
			buf_printf(out, ", %d skipped", r->skipped);
	} else if (r->status == TESTRUN_NO_TESTS) {
		buf_puts(out, " no tests ran");
	} else if (r->status == TESTRUN_PASSED || r->status == TESTRUN_FAILED) {
		buf_printf(out, " exit %d, counts unknown", r->exit_status);
	}
	if (r->term_signal && r->status != TESTRUN_PASSED)
		buf_printf(out, " (signal %d)", r->term_signal);
	if (duration)
		buf_printf(out, "  %.2f s", r->duration_s);
}

char *testrun_result_json(const struct testrun_result *r, bool with_output)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "status", testrun_status_name(r->status));
	cJSON_AddStringToObject(o, "format", testrun_format_name(r->format));
	if (r->command)
		cJSON_AddStringToObject(o, "command", r->command);
	if (r->trigger)
		cJSON_AddStringToObject(o, "trigger", r->trigger);
	if (r->exit_status >= 0)
		cJSON_AddNumberToObject(o, "exitStatus", r->exit_status);
	else
		cJSON_AddNullToObject(o, "exitStatus");
	if (r->term_signal)
		cJSON_AddNumberToObject(o, "signal", r->term_signal);
	cJSON_AddBoolToObject(o, "countsKnown", r->counts_known);
	cJSON_AddNumberToObject(o, "passed", r->passed);
	cJSON_AddNumberToObject(o, "failed", r->failed);
	cJSON_AddNumberToObject(o, "skipped", r->skipped);
	cJSON_AddNumberToObject(o, "errors", r->errors);
	if (isnan(duration_checked(r->duration_s)))
		cJSON_AddNullToObject(o, "durationSeconds");
	else
		cJSON_AddNumberToObject(o, "durationSeconds",
		                        (double)(int64_t)(r->duration_s * 1000) / 1000);
	cJSON_AddNumberToObject(o, "wallMs", (double)r->wall_ms);
	if (r->error)
		cJSON_AddStringToObject(o, "error", r->error);
	if (r->note)
		cJSON_AddStringToObject(o, "note", r->note);
	if (r->warning)
		cJSON_AddStringToObject(o, "warning", r->warning);
	cJSON *ra = cJSON_AddArrayToObject(o, "roots");
	for (size_t i = 0; i < r->n_roots; i++) {
		const struct testrun_root_result *x = &r->roots[i];
		cJSON *y = cJSON_CreateObject();
		cJSON_AddStringToObject(y, "dir", x->dir ? x->dir : "");
		cJSON_AddStringToObject(y, "command", x->command ? x->command : "");
		cJSON_AddStringToObject(y, "rule", x->rule ? x->rule : "");
		cJSON_AddStringToObject(y, "status", testrun_status_name(x->status));
		cJSON_AddStringToObject(y, "format", testrun_format_name(x->format));
		if (x->exit_status >= 0)
			cJSON_AddNumberToObject(y, "exitStatus", x->exit_status);
		else
			cJSON_AddNullToObject(y, "exitStatus");
		cJSON_AddBoolToObject(y, "countsKnown", x->counts_known);
		cJSON_AddNumberToObject(y, "passed", x->passed);
		cJSON_AddNumberToObject(y, "failed", x->failed);
		cJSON_AddNumberToObject(y, "skipped", x->skipped);
		cJSON_AddNumberToObject(y, "errors", x->errors);
		if (x->warning)
			cJSON_AddStringToObject(y, "warning", x->warning);
		cJSON_AddItemToArray(ra, y);
	}
	cJSON *fa = cJSON_AddArrayToObject(o, "failures");
	for (size_t i = 0; i < r->n_failures; i++) {
		const struct testrun_failure *f = &r->failures[i];
		cJSON *x = cJSON_CreateObject();
		cJSON_AddStringToObject(x, "name", f->name);
		cJSON_AddStringToObject(x, "message", f->message ? f->message : "");
		if (f->file)
			cJSON_AddStringToObject(x, "file", f->file);
		if (f->path)
			cJSON_AddStringToObject(x, "path", f->path);
		if (f->line)
			cJSON_AddNumberToObject(x, "line", f->line);
		if (f->group)
			cJSON_AddStringToObject(x, "group", f->group);
		cJSON_AddItemToArray(fa, x);
	}
	if (r->failures_truncated)
		cJSON_AddBoolToObject(o, "failuresTruncated", true);
	if (with_output) {
		cJSON *lines = cJSON_AddArrayToObject(o, "output");
		for (size_t i = 0; i < r->n_lines; i++)
			cJSON_AddItemToArray(lines, cJSON_CreateString(r->lines[i]));
		if (r->dropped_lines)
			cJSON_AddNumberToObject(o, "droppedLines", (double)r->dropped_lines);
	}
	char *s = util_json_safe(cJSON_PrintUnformatted(o));
	cJSON_Delete(o);
	return s;
}

/* --- line splitting ------------------------------------------------------------------------ */

void testrun_strip_ansi(const char *text, size_t len, struct buf *out)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = (unsigned char)text[i];
		if (c != 0x1B) {
			size_t j = i;
			while (j < len && text[j] != 0x1B)
				j++;
			buf_append(out, text + i, j - i);
			i = j;
			continue;
		}
		if (i + 1 >= len) {
			i++;
			break;
		}
		unsigned char k = (unsigned char)text[i + 1];
		if (k == '[') { /* CSI: parameters, intermediates, one final byte 0x40-0x7E */
			i += 2;
			while (i < len &&
			       !((unsigned char)text[i] >= 0x40 && (unsigned char)text[i] <= 0x7E))
				i++;
			i++;
		} else if (k == ']' || k == 'P' || k == 'X' || k == '^' || k == '_') {
			/* OSC / DCS / SOS / PM / APC: until BEL or ST (ESC \) */
			i += 2;
			while (i < len && text[i] != 0x07 &&
			       !(text[i] == 0x1B && i + 1 < len && text[i + 1] == '\\'))
				i++;
			i += (i < len && text[i] == 0x1B) ? 2 : 1;
		} else if (k >= 0x20 &&
		           k <= 0x2F) { /* ESC ( B and friends: intermediates + final */
			i += 2;
			while (i < len && (unsigned char)text[i] >= 0x20 &&
			       (unsigned char)text[i] <= 0x2F)
				i++;
			i++;
		} else {
			i += 2; /* two-byte sequence (ESC 7, ESC =, ...) */
		}
	}
}

static void splitter_emit(struct line_splitter *s)
{
	struct buf plain = {0}, clean = {0};

	testrun_strip_ansi(s->cur.data ? s->cur.data : "", s->cur.len, &plain);
	util_sanitize(plain.data ? plain.data : "", plain.len, false, true, &clean);
	buf_append(&clean, "", 0); /* util_sanitize leaves an empty buffer unterminated */
	if (s->overlong)
		buf_puts(&clean, " [line cut]");
	s->emit(clean.data ? clean.data : "", clean.len, s->ud);
	buf_free(&plain);
	buf_free(&clean);
	buf_reset(&s->cur);
	s->overlong = false;
}

void line_splitter_feed(struct line_splitter *s, const char *data, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char c = data[i];
		if (s->pending_cr) {
			s->pending_cr = false;
			if (c != '\n') { /* lone CR: the line is redrawn from its start */
				buf_reset(&s->cur);
				s->overlong = false;
			}
		}
		if (c == '\n') {
			splitter_emit(s);
		} else if (c == '\r') {
			s->pending_cr = true;
		} else if (s->cur.len < TESTRUN_MAX_LINE) {
			buf_putc(&s->cur, c);
		} else {
			s->overlong = true;
		}
	}
}

void line_splitter_finish(struct line_splitter *s)
{
	if (s->cur.len)
		splitter_emit(s);
	s->pending_cr = false;
}

void line_splitter_free(struct line_splitter *s)
{
	buf_free(&s->cur);
}

/* --- small text helpers ------------------------------------------------------------------- */

static bool starts(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

static const char *skip_ws(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

static size_t indent_of(const char *s)
{
	return (size_t)(skip_ws(s) - s);
}

static char *trim_dup(const char *s, size_t len)
{
	while (len && (*s == ' ' || *s == '\t'))
		s++, len--;
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	return xstrndup(s, len);
}

static bool parse_int(const char **p, int *out)
{
	const char *s = *p;
	long v = 0;

	if (!isdigit((unsigned char)*s))
		return false;
	while (isdigit((unsigned char)*s)) {
		if (v < 100000000)
			v = v * 10 + (*s - '0');
		s++;
	}
	*out = (int)v;
	*p = s;
	return true;
}

/* Finds a source location in a line: `File "path", line N` (Python tracebacks) or a
 * path-like token followed by ":N" (and ":col" or ")" or ":" or end). Skips node internals
 * and node_modules. Returns true with *file (malloc'd) and *line. */
static bool find_location(const char *s, char **file, int *line)
{
	const char *f = strstr(s, "File \"");
	if (f) {
		const char *start = f + 6, *end = strchr(start, '"');
		if (end && starts(end, "\", line ")) {
			const char *p = end + 8;
			int n;
			if (parse_int(&p, &n) && !strstr(start, "/lib/python")) {
				*file = xstrndup(start, (size_t)(end - start));
				*line = n;
				return true;
			}
		}
	}
	/* Perl / TAP style: "at t/x.t line 12." */
	const char *at = strstr(s, "at ");
	if (at && (at == s || at[-1] == ' ')) {
		const char *ps = at + 3, *pe = strstr(ps, " line ");
		const char *q = pe ? pe + 6 : NULL;
		int n;
		if (pe && pe > ps && !memchr(ps, ' ', (size_t)(pe - ps)) && parse_int(&q, &n)) {
			*file = xstrndup(ps, (size_t)(pe - ps));
			*line = n;
			return true;
		}
	}
	for (const char *c = strchr(s, ':'); c; c = strchr(c + 1, ':')) {
		if (!isdigit((unsigned char)c[1]))
			continue;
		const char *p = c + 1;
		int n;
		parse_int(&p, &n);
		if (*p && *p != ':' && *p != ')' && *p != ' ' && *p != ',')
			continue;
		const char *b = c;
		while (b > s && !strchr(" \t(\"'[<", b[-1]))
			b--;
		size_t len = (size_t)(c - b);
		if (len == 0)
			continue;
		char *tok = xstrndup(b, len);
		char *path = tok;
		if (starts(path, "file://"))
			path += 7;
		const char *slash = strrchr(path, '/');
		const char *dot = strrchr(slash ? slash : path, '.');
		bool ok = *path && dot && dot[1] && !starts(path, "node:") &&
		          !strstr(path, "node_modules") && !strstr(path, "/lib/python") &&
		          !starts(path, "internal/") && !strchr(path, ':');
		if (ok) {
			*file = xstrdup(path);
			*line = n;
			free(tok);
			return true;
		}
		free(tok);
	}
	return false;
}

bool testrun_find_location(const char *line, char **file, int *lineno)
{
	*file = NULL;
	*lineno = 0;
	return line && find_location(line, file, lineno);
}

/* "N word, N word" items (pytest / jest / unittest summaries). Calls fn per item; returns
 * false when the text is not such a list. */
static bool parse_count_list(const char *s, size_t len,
                             bool (*fn)(const char *word, size_t wlen, int n, void *ud), void *ud)
{
	const char *end = s + len;
	bool any = false;

	while (s < end) {
		s = skip_ws(s);
		int n;
		if (!parse_int(&s, &n) || *s != ' ')
			return false;
		s++;
		const char *w = s;
		while (s < end && (isalpha((unsigned char)*s) || *s == ' ') && *s != ',')
			s++;
		size_t wlen = (size_t)(s - w);
		while (wlen && w[wlen - 1] == ' ')
			wlen--;
		if (!wlen || !fn(w, wlen, n, ud))
			return false;
		any = true;
		if (s < end && *s == ',')
			s++;
		else if (s < end)
			return false;
	}
	return any;
}

static bool word_is(const char *w, size_t wlen, const char *word)
{
	return strlen(word) == wlen && !strncmp(w, word, wlen);
}

/* --- pytest ------------------------------------------------------------------------------- */

static bool pytest_item(const char *w, size_t wlen, int n, void *ud)
{
	struct testrun_result *r = ud;
	if (word_is(w, wlen, "passed") || word_is(w, wlen, "xpassed"))
		r->passed += n;
	else if (word_is(w, wlen, "failed"))
		r->failed += n;
	else if (word_is(w, wlen, "skipped") || word_is(w, wlen, "xfailed") ||
	         word_is(w, wlen, "deselected"))
		r->skipped += word_is(w, wlen, "deselected") ? 0 : n;
	else if (word_is(w, wlen, "error") || word_is(w, wlen, "errors"))
		r->errors += n;
	else if (!(word_is(w, wlen, "warning") || word_is(w, wlen, "warnings") ||
	           word_is(w, wlen, "rerun") || word_is(w, wlen, "reruns")))
		return false;
	return true;
}

/* "==== 2 failed, 1 passed in 0.19s ====", "2 failed, 1 passed in 0.07s" (-q),
 * "no tests ran in 0.01s". */
static bool pytest_summary_line(const char *line, struct testrun_result *r)
{
	const char *s = line, *e = line + strlen(line);
	bool bars = *s == '=';
	while (s < e && (*s == '=' || *s == ' '))
		s++;
	while (e > s && (e[-1] == '=' || e[-1] == ' '))
		e--;
	if (bars && (*line != '=' || e[0] != ' '))
		return false;
	/* find the last " in <number>s" */
	const char *in = NULL;
	for (const char *p = s; p + 4 < e; p++)
		if (!strncmp(p, " in ", 4) && isdigit((unsigned char)p[4]))
			in = p;
	if (!in)
		return false;
	const char *t = in + 4;
	char *endnum;
	double secs = duration_checked(strtod(t, &endnum));
	if (endnum == t || *endnum != 's')
		return false;
	if ((size_t)(in - s) == 12 && !strncmp(s, "no tests ran", 12)) {
		r->duration_s += secs;
		return true;
	}
	struct testrun_result tmp = {0};
	if (!parse_count_list(s, (size_t)(in - s), pytest_item, &tmp))
		return false;
	r->passed += tmp.passed;
	r->failed += tmp.failed;
	r->skipped += tmp.skipped;
	r->errors += tmp.errors;
	r->duration_s += secs;
	return true;
}

static bool is_rule_line(const char *s, char c)
{
	size_t n = 0;
	while (*s == c)
		s++, n++;
	return n >= 10 && *s == '\0';
}

/* "____ TestOrders.test_refund ____" -> "TestOrders.test_refund" */
static char *pytest_section_title(const char *line)
{
	if (!starts(line, "___"))
		return NULL;
	const char *s = line, *e = line + strlen(line);
	while (*s == '_')
		s++;
	while (e > s && e[-1] == '_')
		e--;
	if (s == e || *s != ' ' || e[-1] != ' ')
		return NULL;
	return trim_dup(s, (size_t)(e - s));
}

static bool parse_pytest(char *const *lines, size_t n, struct testrun_result *r)
{
	bool found = false;
	for (size_t i = 0; i < n; i++)
		if (pytest_summary_line(lines[i], r))
			found = true;
	if (!found)
		return false;
	r->format = TESTRUN_FMT_PYTEST;
	r->counts_known = true;

	/* Failure sections: title, first location, first "E" line. */
	bool in_sections = false;
	size_t first = r->n_failures;
	char *title = NULL, *file = NULL, *msg = NULL;
	int line = 0;
	for (size_t i = 0; i <= n; i++) {
		const char *l = i < n ? lines[i] : "=== end ===";
		bool banner = l[0] == '=' && strstr(l, "= ") && l[strlen(l) - 1] == '=';
		char *t = in_sections ? pytest_section_title(l) : NULL;
		if ((banner || t) && title) {
			testrun_add_failure(r, title, msg, file, line, NULL);
			free(title);
			free(file);
			free(msg);
			title = file = msg = NULL;
			line = 0;
		}
		if (banner) {
			in_sections = strstr(l, " FAILURES ") || strstr(l, " ERRORS ");
			free(t);
			continue;
		}
		if (t) {
			title = t;
			continue;
		}
		if (!title)
			continue;
		if (!msg && l[0] == 'E' && (l[1] == ' ' || l[1] == '\0'))
			msg = trim_dup(l + 1, strlen(l + 1));
		if (!file && !isspace((unsigned char)l[0])) {
			const char *c = strchr(l, ':');
			const char *p = c ? c + 1 : NULL;
			int ln;
			if (c && c > l && !memchr(l, ' ', (size_t)(c - l)) && parse_int(&p, &ln) &&
			    *p == ':') {
				file = xstrndup(l, (size_t)(c - l));
				line = ln;
			}
		}
	}
	/* Short summary: full ids and messages for sections that lack one, or new entries. */
	for (size_t i = 0; i < n; i++) {
		const char *l = lines[i];
		bool failed = starts(l, "FAILED "), error = starts(l, "ERROR ");
		if (!failed && !error)
			continue;
		const char *id = l + (failed ? 7 : 6);
		const char *dash = strstr(id, " - ");
		size_t idlen = dash ? (size_t)(dash - id) : strlen(id);
		char *full = xstrndup(id, idlen);
		/* "tests/x.py::Cls::test" -> "Cls.test", matching the section title */
		const char *sep = strstr(full, "::");
		struct buf key = {0};
		if (sep) {
			for (const char *p = sep + 2; *p; p++) {
				if (p[0] == ':' && p[1] == ':') {
					buf_putc(&key, '.');
					p++;
				} else {
					buf_putc(&key, *p);
				}
			}
		} else {
			buf_printf(&key, "ERROR collecting %s", full);
		}
		bool matched = false;
		for (size_t k = first; k < r->n_failures; k++) {
			struct testrun_failure *f = &r->failures[k];
			const char *nm = f->name, *phase = NULL;
			if (starts(nm, "ERROR at setup of ") ||
			    starts(nm, "ERROR at teardown of ")) {
				phase = starts(nm, "ERROR at setup") ? "setup" : "teardown";
				nm = strstr(nm, " of ") + 4;
			}
			if (key.data && !strcmp(nm, key.data)) {
				free(f->name);
				/* a fixture's error, not the test's own failure: say which */
				f->name = phase ? xasprintf("%s (%s)", full, phase) : xstrdup(full);
				if ((!f->message || !*f->message) && dash) {
					free(f->message);
					f->message = xstrdup(dash + 3);
				}
				matched = true;
				break;
			}
		}
		if (!matched)
			testrun_add_failure(r, full, dash ? dash + 3 : "", sep ? NULL : full, 0,
			                    NULL);
		buf_free(&key);
		free(full);
	}
	return true;
}

/* --- unittest ----------------------------------------------------------------------------- */

static bool unittest_item(const char *w, size_t wlen, int n, void *ud)
{
	int *c = ud; /* failures, errors, skipped, expected failures, unexpected successes */
	if (word_is(w, wlen, "failures"))
		c[0] += n;
	else if (word_is(w, wlen, "errors"))
		c[1] += n;
	else if (word_is(w, wlen, "skipped"))
		c[2] += n;
	else if (word_is(w, wlen, "expected failures"))
		c[3] += n;
	else if (word_is(w, wlen, "unexpected successes"))
		c[4] += n;
	else
		return false;
	return true;
}

/* "FAILED (failures=1, errors=1, skipped=1)" or "OK (skipped=2)" -> counts */
static bool unittest_status_line(const char *l, int c[5])
{
	const char *p;
	if (!strcmp(l, "OK") || !strcmp(l, "FAILED"))
		return true;
	if (starts(l, "OK ("))
		p = l + 4;
	else if (starts(l, "FAILED ("))
		p = l + 8;
	else
		return false;
	const char *e = strrchr(p, ')');
	if (!e)
		return false;
	/* turn "a=1, b=2" into "1 a, 2 b" form for parse_count_list */
	struct buf t = {0};
	const char *s = p;
	while (s < e) {
		const char *eq = memchr(s, '=', (size_t)(e - s));
		if (!eq)
			break;
		const char *v = eq + 1, *ve = v;
		while (ve < e && *ve != ',')
			ve++;
		buf_printf(&t, "%s%.*s %.*s", t.len ? ", " : "", (int)(ve - v), v, (int)(eq - s),
		           s);
		s = ve < e ? skip_ws(ve + 1) : e;
	}
	bool ok = t.len && parse_count_list(t.data, t.len, unittest_item, c);
	buf_free(&t);
	return ok;
}

static bool parse_unittest(char *const *lines, size_t n, struct testrun_result *r)
{
	bool found = false;
	for (size_t i = 0; i < n; i++) {
		const char *l = lines[i];
		int ran;
		const char *p = l + 4;
		if (!starts(l, "Ran ") || !parse_int(&p, &ran) ||
		    !(starts(p, " tests in ") || starts(p, " test in ")))
			continue;
		p = strstr(p, " in ") + 4;
		double secs = duration_checked(strtod(p, NULL));
		int c[5] = {0};
		size_t j = i + 1;
		while (j < n && !*lines[j])
			j++;
		if (j < n)
			unittest_status_line(lines[j], c);
		r->failed += c[0] + c[4];
		r->errors += c[1];
		r->skipped += c[2];
		int passed = ran - c[0] - c[1] - c[2] - c[4];
		r->passed += passed > 0 ? passed : 0;
		r->duration_s += secs;
		found = true;
	}
	if (!found)
		return false;
	r->format = TESTRUN_FMT_UNITTEST;
	r->counts_known = true;
	for (size_t i = 0; i < n; i++) {
		const char *l = lines[i];
		bool fail = starts(l, "FAIL: "), err = starts(l, "ERROR: ");
		if (!fail && !err)
			continue;
		const char *head = l + (fail ? 6 : 7);
		/* "test_refund (tests.test_orders.TestOrders.test_refund)" (3.11+) or
		 * "test_refund (tests.test_orders.TestOrders)" */
		const char *sp = strchr(head, ' ');
		char *method = xstrndup(head, sp ? (size_t)(sp - head) : strlen(head));
		char *name = NULL;
		const char *op = sp ? strstr(sp, " (") : NULL;
		const char *cp = op ? strchr(op, ')') : NULL;
		if (op && cp) {
			char *inner = xstrndup(op + 2, (size_t)(cp - op - 2));
			size_t il = strlen(inner), ml = strlen(method);
			if (il > ml && !strcmp(inner + il - ml, method) &&
			    inner[il - ml - 1] == '.')
				name = xasprintf("%s%s", inner, cp + 1);
			else
				name = xasprintf("%s.%s%s", inner, method, cp + 1);
			free(inner);
		} else {
			name = xstrdup(head);
		}
		char *file = NULL, *msg = NULL;
		int line = 0;
		size_t j = i + 1;
		/* a test with a docstring: its first line comes before the rule */
		if (j + 1 < n && !is_rule_line(lines[j], '-') && is_rule_line(lines[j + 1], '-'))
			j++;
		if (j < n && is_rule_line(lines[j], '-'))
			j++;
		bool after_frames = false;
		for (; j < n && !is_rule_line(lines[j], '=') && !is_rule_line(lines[j], '-'); j++) {
			const char *t = lines[j];
			if (starts(t, "  File \"")) {
				char *f;
				int ln;
				if (find_location(t, &f, &ln)) {
					/* prefer the frame of the test method itself */
					const char *in = strstr(t, ", in ");
					bool is_test = in && !strcmp(in + 5, method);
					if (is_test || !file) {
						free(file);
						file = f;
						line = ln;
					} else {
						free(f);
					}
				}
				after_frames = true;
				continue;
			}
			if (after_frames && !msg && *t && !isspace((unsigned char)t[0]) &&
			    !starts(t, "Traceback ") && !starts(t, "During handling") &&
			    !starts(t, "The above exception"))
				msg = xstrdup(t);
		}
		testrun_add_failure(r, name, msg ? msg : "", file, line, NULL);
		free(method);
		free(name);
		free(file);
		free(msg);
	}
	return true;
}

/* --- TAP (and node --test's TAP) -------------------------------------------------------------- */

/* "ok 1 - name # SKIP why" at any indentation. */
static bool tap_point(const char *l, bool *ok, int *num, char **name, char **directive)
{
	const char *s = skip_ws(l);
	if (starts(s, "not ok")) {
		*ok = false;
		s += 6;
	} else if (starts(s, "ok")) {
		*ok = true;
		s += 2;
	} else {
		return false;
	}
	if (*s && *s != ' ')
		return false;
	s = skip_ws(s);
	*num = 0;
	parse_int(&s, num);
	s = skip_ws(s);
	if (*s == '-')
		s = skip_ws(s + 1);
	const char *hash = NULL;
	for (const char *p = s; *p; p++) {
		if (*p == '\\' && p[1]) {
			p++;
			continue;
		}
		if (*p == '#') {
			hash = p;
			break;
		}
	}
	*name = trim_dup(s, hash ? (size_t)(hash - s) : strlen(s));
	*directive = hash ? trim_dup(hash + 1, strlen(hash + 1)) : NULL;
	return true;
}

static bool tap_detect(char *const *lines, size_t n)
{
	bool plan = false, point = false;
	for (size_t i = 0; i < n; i++) {
		const char *l = lines[i];
		if (starts(l, "TAP version "))
			return true;
		if (starts(l, "1..") && isdigit((unsigned char)l[3]))
			plan = true;
		if (starts(l, "ok ") || starts(l, "not ok ") || !strcmp(l, "ok") ||
		    !strcmp(l, "not ok"))
			point = true;
	}
	return plan && point;
}

/* Reads a YAML scalar value of a TAP diagnostic block: 'quoted', plain, or a |- block on
 * the following more-indented lines (first non-empty line taken). */
static char *tap_yaml_value(char *const *lines, size_t n, size_t i, const char *v,
                            size_t key_indent)
{
	v = skip_ws(v);
	if (*v == '|' || *v == '>') {
		for (size_t j = i + 1; j < n && indent_of(lines[j]) > key_indent; j++) {
			const char *t = skip_ws(lines[j]);
			if (*t)
				return xstrdup(t);
		}
		return xstrdup("");
	}
	size_t len = strlen(v);
	if (len >= 2 && (v[0] == '\'' || v[0] == '"') && v[len - 1] == v[0])
		return xstrndup(v + 1, len - 2);
	return xstrdup(v);
}

static bool parse_tap(char *const *lines, size_t n, struct testrun_result *r)
{
	if (!tap_detect(lines, n))
		return false;
	r->format = TESTRUN_FMT_TAP;
	r->counts_known = true;
	int node[6] = {-1, -1, -1, -1, -1, -1}; /* tests pass fail skipped todo cancelled */
	double node_ms = -1;
	int passed = 0, failed = 0, skipped = 0;
	for (size_t i = 0; i < n; i++) {
		const char *l = lines[i];
		if (starts(l, "# ")) {
			static const char *const keys[] = {"tests",   "pass", "fail",
			                                   "skipped", "todo", "cancelled"};
			for (int k = 0; k < 6; k++) {
				size_t kl = strlen(keys[k]);
				if (!strncmp(l + 2, keys[k], kl) && l[2 + kl] == ' ') {
					const char *p = l + 3 + kl;
					parse_int(&p, &node[k]);
				}
			}
			if (starts(l, "# duration_ms "))
				node_ms = strtod(l + 14, NULL);
			continue;
		}
		if (starts(skip_ws(l), "Bail out!")) {
			testrun_add_failure(r, "Bail out!", skip_ws(l) + 9, NULL, 0, NULL);
			failed++;
			continue;
		}
		bool ok;
		int num;
		char *name, *dir;
		if (!tap_point(l, &ok, &num, &name, &dir))
			continue;
		size_t ind = indent_of(l);
		bool skip = dir && !strncasecmp(dir, "skip", 4);
		bool todo = dir && !strncasecmp(dir, "todo", 4);
		if (ind == 0) {
			if (skip || todo)
				skipped++;
			else if (ok)
				passed++;
			else
				failed++;
		}
		if (!ok && !todo) {
			/* YAML diagnostics (node: location, error, stack, failureType) */
			char *file = NULL, *msg = NULL, *loc = NULL;
			int line = 0;
			bool parent = false;
			size_t j = i + 1;
			if (j < n && !strcmp(skip_ws(lines[j]), "---")) {
				size_t yind = indent_of(lines[j]);
				for (j++; j < n && strcmp(skip_ws(lines[j]), "..."); j++) {
					const char *t = lines[j];
					size_t ti = indent_of(t);
					t += ti;
					if (ti == yind && starts(t, "error:") && !msg)
						msg = tap_yaml_value(lines, n, j, t + 6, ti);
					else if (ti == yind && starts(t, "message:") && !msg)
						msg = tap_yaml_value(lines, n, j, t + 8, ti);
					else if (ti == yind && starts(t, "location:") && !loc)
						loc = tap_yaml_value(lines, n, j, t + 9, ti);
					else if (ti == yind && starts(t, "failureType:") &&
					         strstr(t, "subtestsFailed"))
						parent = true;
					else if (ti == yind && starts(t, "stack:") && !file) {
						for (size_t k = j + 1;
						     k < n && indent_of(lines[k]) > yind; k++)
							if (find_location(lines[k], &file, &line))
								break;
					}
				}
			} else {
				/* classic TAP: "# " diagnostics right after the test point */
				for (; j < n && starts(skip_ws(lines[j]), "#"); j++) {
					const char *t = skip_ws(skip_ws(lines[j]) + 1);
					if (!file && find_location(t, &file, &line))
						continue;
					if (!msg && *t && !starts(t, "Failed test"))
						msg = xstrdup(t);
				}
			}
			if (!file && loc) {
				char *f;
				int ln;
				if (find_location(loc, &f, &ln)) {
					file = f;
					line = ln;
				}
			}
			if (!parent)
				testrun_add_failure(r, name, msg ? msg : "", file, line, NULL);
			free(file);
			free(msg);
			free(loc);
		}
		free(name);
		free(dir);
	}
	if (node[0] >= 0 && node[1] >= 0 && node[2] >= 0) {
		r->passed += node[1];
		r->failed += node[2] + (node[5] > 0 ? node[5] : 0);
		r->skipped += (node[3] > 0 ? node[3] : 0) + (node[4] > 0 ? node[4] : 0);
	} else {
		r->passed += passed;
		r->failed += failed;
		r->skipped += skipped;
	}
	if (node_ms >= 0)
		r->duration_s += duration_checked(node_ms / 1000.0);
	return true;
}

/* --- go test ------------------------------------------------------------------------------- */

struct go_msg {
	char *test;
	char *file;
	int line;
	char *msg;
};

static bool parse_gotest(char *const *lines, size_t n, struct testrun_result *r)
{
	bool found = false;
	for (size_t i = 0; i < n && !found; i++) {
		const char *l = skip_ws(lines[i]);
		if (starts(l, "--- FAIL: ") || starts(l, "--- PASS: ") || starts(l, "--- SKIP: ") ||
		    starts(lines[i], "=== RUN ") ||
		    ((starts(lines[i], "ok  \t") || starts(lines[i], "FAIL\t") ||
		      starts(lines[i], "?   \t"))))
			found = true;
	}
	if (!found)
		return false;
	r->format = TESTRUN_FMT_GOTEST;
	r->counts_known = true;

	struct go_msg *msgs = NULL;
	size_t n_msgs = 0;
	char *cur = NULL;
	size_t pkg_from = r->n_failures; /* failures not yet given their package */
	char *build_file = NULL, *build_msg = NULL;
	int build_line = 0;
	for (size_t i = 0; i < n; i++) {
		const char *raw = lines[i];
		const char *l = skip_ws(raw);
		if (starts(raw, "=== RUN ") || starts(raw, "=== CONT ") ||
		    starts(raw, "=== PAUSE ")) {
			free(cur);
			cur = trim_dup(strchr(raw + 4, ' '), strlen(strchr(raw + 4, ' ')));
			continue;
		}
		bool pass = starts(l, "--- PASS: "), fail = starts(l, "--- FAIL: "),
		     skip = starts(l, "--- SKIP: ");
		if (pass || fail || skip) {
			const char *nm = l + 10;
			const char *paren = strstr(nm, " (");
			char *name = trim_dup(nm, paren ? (size_t)(paren - nm) : strlen(nm));
			if (pass)
				r->passed++;
			else if (skip)
				r->skipped++;
			else {
				r->failed++;
				testrun_add_failure(r, name, "", NULL, 0, NULL);
			}
			free(cur);
			cur = name;
			continue;
		}
		/* compile errors: "./x.go:3:2: msg" or "dir/x_test.go:5:28: msg" */
		if (raw[0] != ' ' && raw[0] != '\t' && strstr(raw, ".go:") && !build_file) {
			char *f;
			int ln;
			if (find_location(raw, &f, &ln)) {
				build_file = f;
				build_line = ln;
				const char *m = strstr(raw, ".go:") + 4;
				while (isdigit((unsigned char)*m) || *m == ':')
					m++;
				build_msg = trim_dup(m, strlen(m));
			}
			continue;
		}
		/* "    orders_test.go:9: Refund(50) = 200, want 500" */
		if ((raw[0] == ' ' || raw[0] == '\t') && cur) {
			const char *c = strstr(l, ".go:");
			if (c && !memchr(l, ' ', (size_t)(c - l))) {
				const char *p = c + 4;
				int ln;
				if (parse_int(&p, &ln) && *p == ':') {
					msgs = xrealloc(msgs, (n_msgs + 1) * sizeof(*msgs));
					msgs[n_msgs++] = (struct go_msg){
					    .test = xstrdup(cur),
					    .file = xstrndup(l, (size_t)(c + 3 - l)),
					    .line = ln,
					    .msg = trim_dup(p + 1, strlen(p + 1)),
					};
				}
			}
			continue;
		}
		/* package result lines: "ok  \tpkg\t0.01s", "FAIL\tpkg\t0.01s", "FAIL\tpkg [build
		 * failed]" */
		if (starts(raw, "ok  \t") || starts(raw, "FAIL\t")) {
			const char *p = raw + 5;
			const char *tab = strpbrk(p, "\t ");
			char *pkg = xstrndup(p, tab ? (size_t)(tab - p) : strlen(p));
			if (tab) {
				const char *t = skip_ws(tab);
				if (isdigit((unsigned char)*t))
					r->duration_s += duration_checked(strtod(t, NULL));
			}
			if (strstr(raw, "[build failed]") || strstr(raw, "[setup failed]")) {
				char *nm = xasprintf("%s [build failed]", pkg);
				testrun_add_failure(r, nm, build_msg ? build_msg : "build failed",
				                    build_file, build_line, NULL);
				free(nm);
				r->errors++;
				free(build_file);
				free(build_msg);
				build_file = build_msg = NULL;
			} else {
				for (size_t k = pkg_from; k < r->n_failures; k++)
					if (!r->failures[k].file) {
						/* remember the package until messages are matched
						 * below */
						r->failures[k].group = pkg ? xstrdup(pkg) : NULL;
					}
			}
			pkg_from = r->n_failures;
			free(pkg);
		}
	}
	/* attach the first message of each failed test; package dir + file */
	for (size_t k = 0; k < r->n_failures; k++) {
		struct testrun_failure *f = &r->failures[k];
		if (f->file)
			continue;
		for (size_t m = 0; m < n_msgs; m++) {
			if (strcmp(msgs[m].test, f->name))
				continue;
			f->file = f->group ? xasprintf("%s/%s", f->group, msgs[m].file)
			                   : xstrdup(msgs[m].file);
			f->line = msgs[m].line;
			free(f->message);
			struct buf b = {0};
			util_sanitize(msgs[m].msg, strlen(msgs[m].msg), false, false, &b);
			buf_append(&b, "",
			           0); /* util_sanitize leaves an empty buffer unterminated */
			f->message = buf_steal(&b);
			break;
		}
		free(f->group);
		f->group = NULL;
	}
	/* drop parents whose failure is only a failing subtest ("TestTable" when
	 * "TestTable/case" failed) */
	for (size_t k = 0; k < r->n_failures;) {
		struct testrun_failure *f = &r->failures[k];
		size_t nl = strlen(f->name);
		bool parent = false;
		for (size_t m = 0; m < r->n_failures && !f->file; m++)
			if (m != k && !strncmp(r->failures[m].name, f->name, nl) &&
			    r->failures[m].name[nl] == '/')
				parent = true;
		if (parent) {
			free(f->name);
			free(f->message);
			free(f->file);
			free(f->path);
			free(f->group);
			memmove(f, f + 1, (r->n_failures - k - 1) * sizeof(*f));
			r->n_failures--;
		} else {
			k++;
		}
	}
	for (size_t m = 0; m < n_msgs; m++) {
		free(msgs[m].test);
		free(msgs[m].file);
		free(msgs[m].msg);
	}
	free(msgs);
	free(cur);
	free(build_file);
	free(build_msg);
	return true;
}

/* --- node --test spec reporter --------------------------------------------------------------- */

static bool parse_node_spec(char *const *lines, size_t n, struct testrun_result *r)
{
	static const char info[] = "\xe2\x84\xb9 ";  /* ℹ */
	static const char cross[] = "\xe2\x9c\x96 "; /* ✖ */
	int c[6] = {-1, -1, -1, -1, -1, -1};
	double ms = -1;
	static const char *const keys[] = {"tests ",   "pass ", "fail ",
	                                   "skipped ", "todo ", "cancelled "};
	for (size_t i = 0; i < n; i++) {
		if (!starts(lines[i], info))
			continue;
		const char *p = lines[i] + strlen(info);
		for (int k = 0; k < 6; k++)
			if (starts(p, keys[k])) {
				const char *q = p + strlen(keys[k]);
				parse_int(&q, &c[k]);
			}
		if (starts(p, "duration_ms "))
			ms = strtod(p + 12, NULL);
	}
	if (c[0] < 0 || c[1] < 0 || c[2] < 0)
		return false;
	r->format = TESTRUN_FMT_NODE;
	r->counts_known = true;
	r->passed += c[1];
	r->failed += c[2] + (c[5] > 0 ? c[5] : 0);
	r->skipped += (c[3] > 0 ? c[3] : 0) + (c[4] > 0 ? c[4] : 0);
	if (ms >= 0)
		r->duration_s += duration_checked(ms / 1000);
	for (size_t i = 0; i < n; i++) {
		const char *l = skip_ws(lines[i]);
		if (starts(lines[i], cross) && strstr(lines[i], "failing tests:"))
			break; /* the recap repeats every failure */
		if (!starts(l, cross))
			continue;
		size_t ind = indent_of(lines[i]);
		const char *nm = l + strlen(cross);
		const char *paren = strrchr(nm, '(');
		char *name =
		    trim_dup(nm, paren && strstr(paren, "ms)") ? (size_t)(paren - nm) : strlen(nm));
		char *msg = NULL, *file = NULL;
		int line = 0;
		size_t j = i + 1;
		for (; j < n && (indent_of(lines[j]) > ind || !*skip_ws(lines[j])); j++) {
			const char *t = skip_ws(lines[j]);
			if (!*t)
				continue;
			if (starts(t, cross) || starts(t, "\xe2\x9c\x94 ") ||
			    starts(t, "\xe2\x96\xb6 ") || starts(t, "\xef\xb9\xa3 "))
				break; /* a nested test line: this one is a parent */
			if (!msg)
				msg = xstrdup(t);
			else if (!file && starts(t, "at "))
				find_location(t, &file, &line);
		}
		if (msg)
			testrun_add_failure(r, name, msg, file, line, NULL);
		free(name);
		free(msg);
		free(file);
	}
	return true;
}

/* --- jest ------------------------------------------------------------------------------------ */

static bool jest_item(const char *w, size_t wlen, int n, void *ud)
{
	struct testrun_result *r = ud;
	if (word_is(w, wlen, "passed"))
		r->passed += n;
	else if (word_is(w, wlen, "failed"))
		r->failed += n;
	else if (word_is(w, wlen, "skipped") || word_is(w, wlen, "todo") ||
	         word_is(w, wlen, "pending"))
		r->skipped += n;
	else if (!word_is(w, wlen, "total"))
		return false;
	return true;
}

static bool parse_jest(char *const *lines, size_t n, struct testrun_result *r)
{
	bool found = false;
	for (size_t i = 0; i < n; i++) {
		const char *l = lines[i];
		if (starts(l, "Tests:")) {
			const char *p = skip_ws(l + 6);
			struct testrun_result tmp = {0};
			if (parse_count_list(p, strlen(p), jest_item, &tmp)) {
				r->passed += tmp.passed;
				r->failed += tmp.failed;
				r->skipped += tmp.skipped;
				found = true;
			}
		} else if (starts(l, "Time:")) {
			const char *p = skip_ws(l + 5);
			char *e;
			double v = strtod(p, &e);
			if (e != p)
				r->duration_s +=
				    duration_checked(starts(skip_ws(e), "ms") ? v / 1000 : v);
		}
	}
	if (!found)
		return false;
	r->format = TESTRUN_FMT_JEST;
	r->counts_known = true;
	static const char bullet[] = "\xe2\x97\x8f "; /* ● */
	for (size_t i = 0; i < n; i++) {
		const char *l = skip_ws(lines[i]);
		if (!starts(l, bullet) || lines[i] == l)
			continue;
		const char *nm = l + strlen(bullet);
		if (starts(nm, "Console"))
			continue;
		size_t ind = indent_of(lines[i]);
		char *msg = NULL, *file = NULL, *suite = NULL;
		int line = 0;
		/* "FAIL tests/x.test.ts" + "● Test suite failed to run" (a compile error, a
		 * missing module): an error of that file, located at the first file:line given */
		if (starts(nm, "Test suite failed to run")) {
			for (size_t k = i; k-- > 0 && !suite;)
				if (starts(lines[k], "FAIL "))
					suite = xstrndup(lines[k] + 5, strcspn(lines[k] + 5, " "));
		}
		for (size_t j = i + 1; j < n; j++) {
			const char *t = skip_ws(lines[j]);
			if (*t && indent_of(lines[j]) <= ind)
				break;
			if (!*t)
				continue;
			if (!msg) {
				msg = xstrdup(t);
				if (suite && find_location(t, &file, &line))
					break;
			} else if ((starts(t, "at ") || suite) && find_location(t, &file, &line)) {
				break;
			}
		}
		/* "cart › sums items" keeps jest's own separator */
		testrun_add_failure(r, suite ? suite : nm, msg ? msg : "", file, line, NULL);
		if (suite)
			r->errors++;
		free(suite);
		free(msg);
		free(file);
	}
	return true;
}

/* --- choosing --------------------------------------------------------------------------------- */

bool testrun_parse_lines(char *const *lines, size_t n, struct testrun_result *r)
{
	static bool (*const parsers[])(char *const *, size_t, struct testrun_result *) = {
	    testrun_parse_json_report,
	    parse_tap,
	    parse_jest,
	    parse_pytest,
	    parse_unittest,
	    parse_gotest,
	    parse_node_spec,
	    testrun_parse_mocha,
	    testrun_parse_vitest,
	};
	for (size_t i = 0; i < sizeof(parsers) / sizeof(parsers[0]); i++) {
		struct testrun_result tmp = {0};
		if (parsers[i](lines, n, &tmp)) {
			failures_clear(r);
			r->format = tmp.format;
			r->counts_known = tmp.counts_known;
			r->passed = tmp.passed;
			r->failed = tmp.failed;
			r->skipped = tmp.skipped;
			r->errors = tmp.errors;
			if (duration_known(tmp.duration_s))
				r->duration_s = tmp.duration_s;
			r->failures = tmp.failures;
			r->n_failures = tmp.n_failures;
			r->failures_truncated = tmp.failures_truncated;
			return true;
		}
		testrun_result_clear(&tmp);
	}
	return false;
}

struct collect {
	char **lines;
	size_t n, cap;
};

static void collect_line(const char *line, size_t len, void *ud)
{
	struct collect *c = ud;
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 64;
		c->lines = xrealloc(c->lines, c->cap * sizeof(*c->lines));
	}
	c->lines[c->n++] = xstrndup(line, len);
}

bool testrun_parse_output(const char *text, size_t len, struct testrun_result *r)
{
	struct collect c = {0};
	struct line_splitter s = {.emit = collect_line, .ud = &c};
	line_splitter_feed(&s, text, len);
	line_splitter_finish(&s);
	line_splitter_free(&s);
	bool ok = testrun_parse_lines(c.lines, c.n, r);
	for (size_t i = 0; i < c.n; i++)
		free(c.lines[i]);
	free(c.lines);
	return ok;
}

/* --- JUnit XML ------------------------------------------------------------------------------- */

struct xml {
	const char *s;
	size_t len, pos;
	int line, col;
	const char *name;
	struct lk_error *err;
};

struct xml_attr {
	char *name;
	char *value;
};

static void xml_advance(struct xml *x, size_t n)
{
	while (n-- && x->pos < x->len) {
		if (x->s[x->pos] == '\n') {
			x->line++;
			x->col = 1;
		} else if (((unsigned char)x->s[x->pos] & 0xC0) != 0x80) {
			x->col++;
		}
		x->pos++;
	}
}

static int xml_fail(struct xml *x, const char *what)
{
	return lk_error_set(x->err, "ParseError", "%s:%d:%d: %s", x->name, x->line, x->col, what);
}

static bool xml_at(const struct xml *x, const char *lit)
{
	size_t l = strlen(lit);
	return x->len - x->pos >= l && !memcmp(x->s + x->pos, lit, l);
}

/* Skips to just after lit; false at end of input. */
static bool xml_skip_past(struct xml *x, const char *lit)
{
	while (x->pos < x->len) {
		if (xml_at(x, lit)) {
			xml_advance(x, strlen(lit));
			return true;
		}
		xml_advance(x, 1);
	}
	return false;
}

/* Decodes entities of s[0..len) into out; unknown entities are kept literally. */
static void xml_decode(const char *s, size_t len, struct buf *out)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] != '&') {
			buf_putc(out, s[i]);
			continue;
		}
		const char *semi = memchr(s + i, ';', len - i < 12 ? len - i : 12);
		if (!semi) {
			buf_putc(out, '&');
			continue;
		}
		size_t el = (size_t)(semi - (s + i + 1));
		const char *e = s + i + 1;
		unsigned long cp = 0;
		bool ok = true;
		if (el == 2 && !strncmp(e, "lt", 2))
			cp = '<';
		else if (el == 2 && !strncmp(e, "gt", 2))
			cp = '>';
		else if (el == 3 && !strncmp(e, "amp", 3))
			cp = '&';
		else if (el == 4 && !strncmp(e, "quot", 4))
			cp = '"';
		else if (el == 4 && !strncmp(e, "apos", 4))
			cp = '\'';
		else if (el >= 2 && e[0] == '#') {
			char *end;
			cp = e[1] == 'x' || e[1] == 'X' ? strtoul(e + 2, &end, 16)
			                                : strtoul(e + 1, &end, 10);
			ok = end == semi && cp > 0 && cp <= 0x10FFFF &&
			     !(cp >= 0xD800 && cp <= 0xDFFF);
		} else
			ok = false;
		if (!ok) {
			buf_putc(out, '&');
			continue;
		}
		char u[4];
		size_t n;
		if (cp < 0x80) {
			u[0] = (char)cp;
			n = 1;
		} else if (cp < 0x800) {
			u[0] = (char)(0xC0 | (cp >> 6));
			u[1] = (char)(0x80 | (cp & 0x3F));
			n = 2;
		} else if (cp < 0x10000) {
			u[0] = (char)(0xE0 | (cp >> 12));
			u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
			u[2] = (char)(0x80 | (cp & 0x3F));
			n = 3;
		} else {
			u[0] = (char)(0xF0 | (cp >> 18));
			u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
			u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
			u[3] = (char)(0x80 | (cp & 0x3F));
			n = 4;
		}
		buf_append(out, u, n);
		i += el + 1;
	}
}

static bool xml_name_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '-' || c == '.' || c == ':' ||
	       ((unsigned char)c & 0x80);
}

static const char *attr_get(const struct xml_attr *a, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(a[i].name, name))
			return a[i].value;
	return NULL;
}

/* State of the JUnit reading. */
struct junit {
	struct testrun_result *r;
	int cases;
	int suite_tests, suite_failures, suite_errors, suite_skipped;
	int min_suite_depth;
	double suite_time, case_time;
	bool suite_time_set;
	bool in_case;
	char *case_name, *case_file;
	int case_line;
	int case_status; /* 0 pass, 1 failed, 2 error, 3 skipped */
	char *fail_msg;
	struct buf fail_text;
	bool in_fail;
};

static void junit_start(struct junit *j, const char *el, const struct xml_attr *a, size_t na,
                        int depth)
{
	if (!strcmp(el, "testsuite") || !strcmp(el, "testsuites")) {
		const char *t;
		if (!strcmp(el, "testsuites") && (t = attr_get(a, na, "time"))) {
			j->suite_time = duration_checked(strtod(t, NULL));
			j->suite_time_set = true;
			j->min_suite_depth = -1; /* testsuites time wins */
		}
		if (!strcmp(el, "testsuite") &&
		    (j->min_suite_depth == 0 || depth <= j->min_suite_depth) &&
		    j->min_suite_depth != -1) {
			if (j->min_suite_depth == 0 || depth < j->min_suite_depth) {
				j->min_suite_depth = depth;
				j->suite_tests = j->suite_failures = j->suite_errors =
				    j->suite_skipped = 0;
				j->suite_time = 0;
			}
			if ((t = attr_get(a, na, "tests")))
				j->suite_tests += atoi(t);
			if ((t = attr_get(a, na, "failures")))
				j->suite_failures += atoi(t);
			if ((t = attr_get(a, na, "errors")))
				j->suite_errors += atoi(t);
			if ((t = attr_get(a, na, "skipped")))
				j->suite_skipped += atoi(t);
			if ((t = attr_get(a, na, "time"))) {
				j->suite_time += duration_checked(strtod(t, NULL));
				j->suite_time_set = true;
			}
		}
		return;
	}
	if (!strcmp(el, "testcase")) {
		const char *name = attr_get(a, na, "name"), *cls = attr_get(a, na, "classname");
		const char *file = attr_get(a, na, "file"), *line = attr_get(a, na, "line");
		const char *t = attr_get(a, na, "time");
		j->in_case = true;
		j->case_status = 0;
		free(j->case_name);
		free(j->case_file);
		j->case_name = cls && *cls ? xasprintf("%s.%s", cls, name ? name : "?")
		                           : xstrdup(name ? name : "?");
		j->case_file = xstrdup(file);
		j->case_line = line ? atoi(line) : 0;
		if (t)
			j->case_time += duration_checked(strtod(t, NULL));
		return;
	}
	if (!j->in_case)
		return;
	bool fail = !strcmp(el, "failure"), err = !strcmp(el, "error");
	if (fail || err) {
		if (j->case_status == 0 || j->case_status == 3) {
			j->case_status = fail ? 1 : 2;
			const char *m = attr_get(a, na, "message");
			free(j->fail_msg);
			j->fail_msg = xstrdup(m);
			buf_reset(&j->fail_text);
			j->in_fail = true;
		}
	} else if (!strcmp(el, "skipped") && j->case_status == 0) {
		j->case_status = 3;
	}
}

static void junit_end(struct junit *j, const char *el)
{
	if (!strcmp(el, "failure") || !strcmp(el, "error")) {
		j->in_fail = false;
		return;
	}
	if (strcmp(el, "testcase") || !j->in_case)
		return;
	struct testrun_result *r = j->r;
	j->cases++;
	if (j->case_status == 0)
		r->passed++;
	else if (j->case_status == 3)
		r->skipped++;
	else {
		if (j->case_status == 1)
			r->failed++;
		else
			r->errors++;
		char *file = NULL;
		int line = 0;
		const char *text = j->fail_text.data ? j->fail_text.data : "";
		/* a location inside the failure text is the failing line itself */
		const char *p = text;
		while (*p && !file) {
			const char *nl = strchr(p, '\n');
			char *ln = xstrndup(p, nl ? (size_t)(nl - p) : strlen(p));
			find_location(ln, &file, &line);
			free(ln);
			p = nl ? nl + 1 : p + strlen(p);
		}
		if (!file && j->case_file) {
			file = xstrdup(j->case_file);
			line = j->case_line;
		}
		const char *msg = j->fail_msg && *j->fail_msg ? j->fail_msg : NULL;
		char *first = NULL;
		if (!msg) {
			const char *t = text;
			while (*t == '\n' || *t == ' ' || *t == '\t' || *t == '\r')
				t++;
			first = xstrndup(t, strcspn(t, "\n"));
		}
		testrun_add_failure(r, j->case_name, msg ? msg : first, file, line, NULL);
		free(first);
		free(file);
	}
	j->in_case = false;
	j->in_fail = false;
}

int testrun_parse_junit(const char *xml, size_t len, const char *name, struct testrun_result *r,
                        struct lk_error *err)
{
	struct xml x = {.s = xml,
	                .len = len,
	                .line = 1,
	                .col = 1,
	                .name = name ? name : "junit.xml",
	                .err = err};
	struct testrun_result res = {0};
	struct junit j = {.r = &res};
	char *stack[256];
	int depth = 0;
	bool root_seen = false, any_suite = false;
	int rc = -1;

	if (len >= 3 && !memcmp(xml, "\xEF\xBB\xBF", 3))
		xml_advance(&x, 3);
	while (x.pos < x.len) {
		if (xml_at(&x, "<?")) {
			if (!xml_skip_past(&x, "?>")) {
				xml_fail(&x, "unterminated processing instruction");
				goto out;
			}
		} else if (xml_at(&x, "<!--")) {
			if (!xml_skip_past(&x, "-->")) {
				xml_fail(&x, "unterminated comment");
				goto out;
			}
		} else if (xml_at(&x, "<![CDATA[")) {
			xml_advance(&x, 9);
			size_t start = x.pos;
			if (!xml_skip_past(&x, "]]>")) {
				xml_fail(&x, "unterminated CDATA section");
				goto out;
			}
			if (!depth) {
				xml_fail(&x, "text outside the root element");
				goto out;
			}
			if (j.in_fail)
				buf_append(&j.fail_text, x.s + start, x.pos - 3 - start);
		} else if (xml_at(&x, "<!")) {
			if (!xml_skip_past(&x, ">")) {
				xml_fail(&x, "unterminated declaration");
				goto out;
			}
		} else if (xml_at(&x, "</")) {
			xml_advance(&x, 2);
			size_t start = x.pos;
			while (x.pos < x.len && xml_name_char(x.s[x.pos]))
				xml_advance(&x, 1);
			char *el = xstrndup(x.s + start, x.pos - start);
			while (x.pos < x.len && isspace((unsigned char)x.s[x.pos]))
				xml_advance(&x, 1);
			if (x.pos >= x.len || x.s[x.pos] != '>') {
				free(el);
				xml_fail(&x, x.pos >= x.len ? "unexpected end of file in an end tag"
				                            : "expected '>'");
				goto out;
			}
			if (!depth || strcmp(stack[depth - 1], el)) {
				char msg[200];
				snprintf(msg, sizeof(msg), "mismatched </%.60s>%s%.60s%s", el,
				         depth ? ", expected </" : "",
				         depth ? stack[depth - 1] : "", depth ? ">" : "");
				free(el);
				xml_fail(&x, msg);
				goto out;
			}
			xml_advance(&x, 1);
			junit_end(&j, el);
			free(el);
			free(stack[--depth]);
		} else if (x.s[x.pos] == '<') {
			xml_advance(&x, 1);
			size_t start = x.pos;
			while (x.pos < x.len && xml_name_char(x.s[x.pos]))
				xml_advance(&x, 1);
			if (x.pos == start) {
				xml_fail(&x, "expected an element name after '<'");
				goto out;
			}
			if (!depth && root_seen) {
				xml_fail(&x, "a second root element");
				goto out;
			}
			char *el = xstrndup(x.s + start, x.pos - start);
			struct xml_attr attrs[32];
			size_t na = 0;
			bool self_close = false, bad = false;
			for (;;) {
				while (x.pos < x.len && isspace((unsigned char)x.s[x.pos]))
					xml_advance(&x, 1);
				if (x.pos >= x.len) {
					xml_fail(&x, "unexpected end of file in a tag");
					bad = true;
					break;
				}
				if (xml_at(&x, "/>")) {
					xml_advance(&x, 2);
					self_close = true;
					break;
				}
				if (x.s[x.pos] == '>') {
					xml_advance(&x, 1);
					break;
				}
				size_t an = x.pos;
				while (x.pos < x.len && xml_name_char(x.s[x.pos]))
					xml_advance(&x, 1);
				if (x.pos == an) {
					xml_fail(&x, "expected an attribute name");
					bad = true;
					break;
				}
				size_t anl = x.pos - an;
				while (x.pos < x.len && isspace((unsigned char)x.s[x.pos]))
					xml_advance(&x, 1);
				if (x.pos >= x.len || x.s[x.pos] != '=') {
					xml_fail(&x, "expected '=' after an attribute name");
					bad = true;
					break;
				}
				xml_advance(&x, 1);
				while (x.pos < x.len && isspace((unsigned char)x.s[x.pos]))
					xml_advance(&x, 1);
				if (x.pos >= x.len || (x.s[x.pos] != '"' && x.s[x.pos] != '\'')) {
					xml_fail(&x, "expected a quoted attribute value");
					bad = true;
					break;
				}
				char q = x.s[x.pos];
				xml_advance(&x, 1);
				size_t vs = x.pos;
				while (x.pos < x.len && x.s[x.pos] != q)
					xml_advance(&x, 1);
				if (x.pos >= x.len) {
					xml_fail(&x, "unterminated attribute value");
					bad = true;
					break;
				}
				if (na < sizeof(attrs) / sizeof(attrs[0])) {
					struct buf v = {0};
					xml_decode(x.s + vs, x.pos - vs, &v);
					attrs[na].name = xstrndup(x.s + an, anl);
					attrs[na].value = buf_steal(&v);
					na++;
				}
				xml_advance(&x, 1);
			}
			if (!bad) {
				root_seen = true;
				if (!strcmp(el, "testsuite") || !strcmp(el, "testsuites") ||
				    !strcmp(el, "testcase"))
					any_suite = true;
				junit_start(&j, el, attrs, na, depth + 1);
				if (self_close) {
					junit_end(&j, el);
				} else if (depth >= (int)(sizeof(stack) / sizeof(stack[0]))) {
					xml_fail(&x, "elements nested too deeply");
					bad = true;
				} else {
					stack[depth++] = el;
					el = NULL;
				}
			}
			for (size_t i = 0; i < na; i++) {
				free(attrs[i].name);
				free(attrs[i].value);
			}
			free(el);
			if (bad)
				goto out;
		} else {
			size_t start = x.pos;
			while (x.pos < x.len && x.s[x.pos] != '<')
				xml_advance(&x, 1);
			bool blank = true;
			for (size_t i = start; i < x.pos; i++)
				if (!isspace((unsigned char)x.s[i]))
					blank = false;
			if (!depth && !blank) {
				xml_fail(&x, "text outside the root element");
				goto out;
			}
			if (j.in_fail)
				xml_decode(x.s + start, x.pos - start, &j.fail_text);
		}
	}
	if (depth) {
		char msg[160];
		snprintf(msg, sizeof(msg), "unexpected end of file: <%.60s> is not closed",
		         stack[depth - 1]);
		xml_fail(&x, msg);
		goto out;
	}
	if (!root_seen || !any_suite) {
		xml_fail(&x, root_seen ? "no <testsuite> or <testcase> element" : "no XML element");
		goto out;
	}
	res.format = TESTRUN_FMT_JUNIT;
	res.counts_known = true;
	if (!j.cases) {
		res.failed = j.suite_failures;
		res.errors = j.suite_errors;
		res.skipped = j.suite_skipped;
		int p = j.suite_tests - j.suite_failures - j.suite_errors - j.suite_skipped;
		res.passed = p > 0 ? p : 0;
	}
	res.duration_s = j.suite_time_set ? j.suite_time : j.case_time;
	/* move into r */
	failures_clear(r);
	r->format = res.format;
	r->counts_known = true;
	r->passed = res.passed;
	r->failed = res.failed;
	r->skipped = res.skipped;
	r->errors = res.errors;
	if (duration_known(res.duration_s))
		r->duration_s = res.duration_s;
	r->failures = res.failures;
	r->n_failures = res.n_failures;
	r->failures_truncated = res.failures_truncated;
	res.failures = NULL;
	res.n_failures = 0;
	rc = 0;
out:
	while (depth)
		free(stack[--depth]);
	free(j.case_name);
	free(j.case_file);
	free(j.fail_msg);
	buf_free(&j.fail_text);
	testrun_result_clear(&res);
	return rc;
}
