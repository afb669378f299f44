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

/* argv helper (testrun.c): one from up to 15 strings ending with NULL. */
char **testrun_argv_make(const char *a, ...);

/* Parses already-split, sanitised lines (what a run keeps) into r. */
bool testrun_parse_lines(char *const *lines, size_t n, struct testrun_result *r);

/* The JavaScript runners' parsers (testrun_parse_js.c), used by testrun_parse_lines: a
 * mocha/jest JSON report, mocha's spec/dot output, vitest's output. */
bool testrun_parse_json_report(char *const *lines, size_t n, struct testrun_result *r);
bool testrun_parse_mocha(char *const *lines, size_t n, struct testrun_result *r);
bool testrun_parse_vitest(char *const *lines, size_t n, struct testrun_result *r);

void testrun_add_failure(struct testrun_result *r, const char *name, const char *message,
                         const char *file, int line, const char *group);

/* Sharing (testrun_share.c). Acquire: 0 and *fd (the held run lock), 2 with err when
 * another process holds it and !wait, -1 with err when .lambdeck/tests/ is unusable (the
 * caller runs unshared). */
int testrun_share_acquire(const char *dir, bool wait, int *fd, struct lk_error *err);
void testrun_share_started(const char *dir, const char *by, const struct testrun_result *r);
/* Writes last.json, removes running.json, releases the lock (closes fd; fd < 0: none). */
void testrun_share_finished(const char *dir, const char *by, const struct testrun_result *r,
                            int fd);

#endif
