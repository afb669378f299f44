/* testrun_internal.h - shared between testrun.c and testrun_parse.c; not for other
 * modules. */
#ifndef LAMBDECK_TESTRUN_INTERNAL_H
#define LAMBDECK_TESTRUN_INTERNAL_H

#include "backend/testrun.h"

#define TESTRUN_MAX_LINE 8192 /* longer lines are cut (with a marker) */

/* Splits a byte stream into display lines: "\r\n" and "\n" end a line, a lone "\r" starts
 * the line over (as a terminal would overwrite it), ANSI sequences are stripped and the
 * rest sanitised (tabs kept). emit gets each finished line (NUL-terminated). */
struct line_splitter {
	struct buf cur;
	bool pending_cr;
	bool overlong;
	void (*emit)(const char *line, size_t len, void *ud);
	void *ud;
};
void line_splitter_feed(struct line_splitter *s, const char *data, size_t len);
void line_splitter_finish(struct line_splitter *s); /* emits a last unterminated line */
void line_splitter_free(struct line_splitter *s);

/* Parses already-split, sanitised lines (what a run keeps) into r. */
bool testrun_parse_lines(char *const *lines, size_t n, struct testrun_result *r);

void testrun_add_failure(struct testrun_result *r, const char *name, const char *message,
                         const char *file, int line, const char *group);

#endif
