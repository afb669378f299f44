/* testrun_parse_js.c - results of the JavaScript runners real projects use, beside the ones
 * in testrun_parse.c: mocha (spec and dot reporters, and its JSON reporter), jest's --json
 * report and vitest. Pure code over already split, sanitised lines (ANSI stripped).
 * Failures are located at the first stack frame outside node's internals and node_modules
 * (testrun_find_location), i.e. the test file's line. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "backend/testrun_internal.h"

static const char *ws(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* "<int><rest>" at s: the int, and *rest after it; false when s has no digits. */
static bool leading_int(const char *s, int *out, const char **rest)
{
	char *e;
	long v = strtol(s, &e, 10);
	if (e == s || !isdigit((unsigned char)*s) || v < 0 || v > 100000000)
		return false;
	*out = (int)v;
	*rest = e;
	return true;
}

/* The first source location in text (a stack trace) outside node internals/node_modules. */
static void stack_location(const char *text, char **file, int *line)
{
	*file = NULL;
	*line = 0;
	if (!text)
		return;
	const char *p = text;
	while (*p) {
		size_t n = strcspn(p, "\n");
		char *l = xstrndup(p, n);
		bool ok = testrun_find_location(l, file, line);
		free(l);
		if (ok)
			return;
		p += n;
		if (*p)
			p++;
	}
}

static char *first_line(const char *s)
{
	s = s ? ws(s) : "";
	return xstrndup(s, strcspn(s, "\n"));
}

/* --- JSON reports (mocha's JSON reporter, jest --json) ----------------------------------- */

/* The JSON object starting at line i (a line that is "{" or starts with "{\"", up to the end
 * of the output), parsed; NULL when it is not one. */
static cJSON *json_from(char *const *lines, size_t n, size_t i)
{
	struct buf b = {0};
	for (size_t k = i; k < n; k++) {
		buf_puts(&b, lines[k]);
		buf_putc(&b, '\n');
	}
	const char *end = NULL;
	cJSON *j = cJSON_ParseWithOpts(b.data ? b.data : "", &end, false);
	buf_free(&b);
	return j;
}

static int jint(const cJSON *o, const char *key, bool *ok)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!cJSON_IsNumber(v)) {
		*ok = false;
		return 0;
	}
	return v->valuedouble < 0 ? 0 : (int)v->valuedouble;
}

static const char *jstring(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* mocha --reporter json: {"stats": {...}, "tests", "pending", "failures", "passes"}. */
static bool mocha_json(const cJSON *j, struct testrun_result *r)
{
	const cJSON *stats = cJSON_GetObjectItemCaseSensitive(j, "stats");
	const cJSON *fails = cJSON_GetObjectItemCaseSensitive(j, "failures");
	bool ok = cJSON_IsObject(stats) && cJSON_IsArray(fails);
	int passes = jint(stats, "passes", &ok), failures = jint(stats, "failures", &ok),
	    pending = jint(stats, "pending", &ok);
	if (!ok)
		return false;
	r->format = TESTRUN_FMT_MOCHA;
	r->counts_known = true;
	r->passed = passes;
	r->failed = failures;
	r->skipped = pending;
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(stats, "duration");
	if (cJSON_IsNumber(d))
		r->duration_s = d->valuedouble / 1000;
	const cJSON *f;
	cJSON_ArrayForEach(f, fails)
	{
		const cJSON *err = cJSON_GetObjectItemCaseSensitive(f, "err");
		const char *stack = jstring(err, "stack"), *msg = jstring(err, "message");
		char *file = NULL, *m = first_line(stack ? stack : msg);
		int line = 0;
		stack_location(stack, &file, &line);
		if (!file && jstring(f, "file"))
			file = xstrdup(jstring(f, "file"));
		testrun_add_failure(r, jstring(f, "fullTitle") ? jstring(f, "fullTitle") : "?", m,
		                    file, line, NULL);
		free(m);
		free(file);
	}
	return true;
}

/* jest --json: {"numTotalTests", "numPassedTests", ..., "testResults": [{"name",
 * "message", "status", "assertionResults": [{"ancestorTitles", "title", "status",
 * "failureMessages"}]}]}. A suite that could not run counts as an error. */
static bool jest_json(const cJSON *j, struct testrun_result *r)
{
	bool ok = true;
	int passed = jint(j, "numPassedTests", &ok), failed = jint(j, "numFailedTests", &ok),
	    pending = jint(j, "numPendingTests", &ok);
	const cJSON *results = cJSON_GetObjectItemCaseSensitive(j, "testResults");
	if (!ok || !cJSON_IsArray(results))
		return false;
	bool todo_ok = true;
	int todo = jint(j, "numTodoTests", &todo_ok);
	r->format = TESTRUN_FMT_JEST;
	r->counts_known = true;
	r->passed = passed;
	r->failed = failed;
	r->skipped = pending + (todo_ok ? todo : 0);
	const cJSON *suite;
	cJSON_ArrayForEach(suite, results)
	{
		const cJSON *tests = cJSON_GetObjectItemCaseSensitive(suite, "assertionResults");
		const char *path = jstring(suite, "name");
		const char *smsg = jstring(suite, "message");
		if (!cJSON_GetArraySize(tests) && smsg && *smsg &&
		    !strcmp(jstring(suite, "status") ? jstring(suite, "status") : "", "failed")) {
			/* "Test suite failed to run" (syntax error, missing module) */
			char *file = NULL, *m = NULL;
			int line = 0;
			stack_location(smsg, &file, &line);
			const char *s = ws(smsg + strspn(smsg, "\n"));
			if (!strncmp(s, "\xe2\x97\x8f ", 4)) /* "● Test suite failed to run" */
				s += 4;
			m = first_line(s);
			testrun_add_failure(r, path ? path : "?", m, file ? file : path, line,
			                    NULL);
			r->errors++;
			free(m);
			free(file);
			continue;
		}
		const cJSON *t;
		cJSON_ArrayForEach(t, tests)
		{
			if (strcmp(jstring(t, "status") ? jstring(t, "status") : "", "failed"))
				continue;
			struct buf name = {0};
			const cJSON *a;
			cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(t, "ancestorTitles"))
			{
				if (cJSON_IsString(a))
					buf_printf(&name, "%s \xe2\x80\xba ",
					           a->valuestring); /* › */
			}
			buf_puts(&name, jstring(t, "title") ? jstring(t, "title") : "?");
			const cJSON *fm = cJSON_GetArrayItem(
			    cJSON_GetObjectItemCaseSensitive(t, "failureMessages"), 0);
			const char *text = cJSON_IsString(fm) ? fm->valuestring : NULL;
			char *file = NULL, *m = first_line(text);
			int line = 0;
			stack_location(text, &file, &line);
			testrun_add_failure(r, name.data, m, file ? file : path, line, NULL);
			buf_free(&name);
			free(m);
			free(file);
		}
	}
	return true;
}

/* A JSON report of mocha or jest in the output (after npm's header, beside jest's text on
 * stderr): the first line opening an object that parses as one of them. */
bool testrun_parse_json_report(char *const *lines, size_t n, struct testrun_result *r)
{
	for (size_t i = 0; i < n; i++) {
		const char *l = lines[i];
		if (!(l[0] == '{' && (l[1] == '\0' || l[1] == '"')))
			continue;
		if (l[1] == '"' && !strstr(l, "\"numTotalTests\"") && !strstr(l, "\"stats\""))
			continue;
		/* jest's report is one line; mocha's spans the rest of the output */
		cJSON *j = l[1] == '"' ? cJSON_Parse(l) : json_from(lines, n, i);
		bool ok = j && (mocha_json(j, r) || jest_json(j, r));
		cJSON_Delete(j);
		if (ok)
			return true;
	}
	return false;
}

/* --- mocha: spec and dot reporters ---------------------------------------------------------- */

/* "  2 passing (5ms)", "  1 pending", "  2 failing": which word, and the count. */
static const char *mocha_count(const char *l, int *n)
{
	const char *rest;
	if (!leading_int(ws(l), n, &rest) || *rest != ' ')
		return NULL;
	rest++;
	static const char *const words[] = {"passing", "failing", "pending"};
	for (size_t k = 0; k < 3; k++) {
		size_t wl = strlen(words[k]);
		if (!strncmp(rest, words[k], wl) && (rest[wl] == '\0' || rest[wl] == ' '))
			return words[k];
	}
	return NULL;
}

bool testrun_parse_mocha(char *const *lines, size_t n, struct testrun_result *r)
{
	size_t failing_at = 0;
	bool found = false;
	for (size_t i = 0; i < n; i++) {
		int c;
		const char *w = mocha_count(lines[i], &c);
		if (!w)
			continue;
		if (!strcmp(w, "passing")) {
			found = true;
			r->passed = c;
			const char *p = strchr(lines[i], '(');
			if (p) { /* "(5ms)", "(2s)", "(1m)" */
				char *e;
				double v = strtod(p + 1, &e);
				if (e != p + 1)
					r->duration_s = !strncmp(e, "ms", 2) ? v / 1000
					                : *e == 'm'          ? v * 60
					                                     : v;
			}
		} else if (found && !strcmp(w, "failing")) {
			r->failed = c;
			failing_at = i + 1;
		} else if (found && !strcmp(w, "pending")) {
			r->skipped = c;
		}
	}
	if (!found)
		return false;
	r->format = TESTRUN_FMT_MOCHA;
	r->counts_known = true;
	/* "  1) cart\n       refunds\n         throws on negative:\n     Error: ...\n   at ..." */
	for (size_t i = failing_at; failing_at && i < n; i++) {
		const char *l = ws(lines[i]), *rest;
		int num;
		if (!leading_int(l, &num, &rest) || strncmp(rest, ") ", 2))
			continue;
		struct buf name = {0};
		const char *part = rest + 2;
		size_t j = i;
		for (;;) { /* title parts up to the one ending with ':' */
			size_t pl = strlen(part);
			bool last = pl && part[pl - 1] == ':';
			buf_printf(&name, "%s%.*s", name.len ? " " : "", (int)(last ? pl - 1 : pl),
			           part);
			if (last || ++j >= n || !*ws(lines[j]))
				break;
			part = ws(lines[j]);
		}
		char *msg = NULL, *file = NULL;
		int line = 0;
		size_t k = j + 1;
		for (; k < n; k++) {
			const char *t = ws(lines[k]);
			int m;
			const char *rr;
			if (leading_int(t, &m, &rr) && !strncmp(rr, ") ", 2) && m == num + 1)
				break; /* the next failure */
			if (!*t)
				continue;
			if (!msg) {
				msg = xstrdup(t);
			} else if (!strncmp(t, "at ", 3) &&
			           testrun_find_location(t, &file, &line)) {
				break;
			}
		}
		testrun_add_failure(r, name.data ? name.data : "?", msg ? msg : "", file, line,
		                    NULL);
		buf_free(&name);
		free(msg);
		free(file);
		i = k > i ? k - 1 : i;
	}
	return true;
}

/* --- vitest ----------------------------------------------------------------------------------- */

/* "      Tests  2 failed | 3 passed | 1 skipped (6)" */
static bool vitest_counts(const char *l, struct testrun_result *r)
{
	l = ws(l);
	if (strncmp(l, "Tests  ", 7))
		return false;
	const char *p = ws(l + 7);
	bool any = false;
	while (*p) {
		int c;
		const char *rest;
		if (!leading_int(p, &c, &rest) || *rest != ' ')
			break;
		rest++;
		size_t wl = strcspn(rest, " |(");
		if (wl == 6 && !strncmp(rest, "passed", 6))
			r->passed = c;
		else if (wl == 6 && !strncmp(rest, "failed", 6))
			r->failed = c;
		else if ((wl == 7 && !strncmp(rest, "skipped", 7)) ||
		         (wl == 4 && !strncmp(rest, "todo", 4)))
			r->skipped += c;
		else if (!(wl == 8 && !strncmp(rest, "expected", 8)))
			return false;
		any = true;
		p = rest + wl;
		p += strspn(p, " |");
		if (*p == '(')
			break;
	}
	return any;
}

bool testrun_parse_vitest(char *const *lines, size_t n, struct testrun_result *r)
{
	bool found = false;
	for (size_t i = 0; i < n && !found; i++)
		found = vitest_counts(lines[i], r);
	if (!found) /* "No test files found" needs no parser: nothing ran */
		return false;
	r->format = TESTRUN_FMT_VITEST;
	r->counts_known = true;
	for (size_t i = 0; i < n; i++) {
		const char *l = ws(lines[i]);
		if (!strncmp(l, "Duration ", 9)) {
			char *e;
			double v = strtod(ws(l + 9), &e);
			if (e != ws(l + 9))
				r->duration_s = !strncmp(e, "ms", 2) ? v / 1000 : v;
		}
		/* " FAIL  test/cart.test.js > cart > applies the discount" */
		if (strncmp(lines[i], " FAIL  ", 7) || !strstr(lines[i], " > "))
			continue;
		char *msg = NULL, *file = NULL;
		int line = 0;
		for (size_t k = i + 1; k < n && strncmp(lines[k], " FAIL  ", 7); k++) {
			const char *t = ws(lines[k]);
			if (!*t)
				continue;
			if (strstr(t, "\xe2\x8e\xaf\xe2\x8e\xaf\xe2\x8e\xaf")) /* ⎯⎯⎯ rule */
				break;
			if (!msg)
				msg = xstrdup(t);
			else if (!strncmp(t, "\xe2\x9d\xaf ", 4) &&
			         testrun_find_location(t, &file, &line))
				break; /* " ❯ test/cart.test.js:8:15" */
		}
		testrun_add_failure(r, ws(lines[i] + 7), msg ? msg : "", file, line, NULL);
		free(msg);
		free(file);
	}
	return true;
}
