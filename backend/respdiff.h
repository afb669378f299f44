/* respdiff.h - how one invocation's response differs from another's (the Playground's "="
 * and `lambdeck replay --diff`): the status change, the JSON fields that differ (as snapshot
 * tests compare them, backend/snapshot.h) and a line diff of the pretty-printed responses.
 *
 * The line diff is a longest-common-subsequence diff like diff(1): blank lines are lines
 * too, and where a removal and an addition both keep the diff minimal the removal ("- ")
 * comes before the addition ("+ "). Unchanged lines are prefixed "  ". Pure: no I/O. */
#ifndef LAMBDECK_RESPDIFF_H
#define LAMBDECK_RESPDIFF_H

#include <stddef.h>

enum respdiff_kind {
	RESPDIFF_SAME,  /* "  line" */
	RESPDIFF_DEL,   /* "- line" (old only) */
	RESPDIFF_ADD,   /* "+ line" (new only) */
	RESPDIFF_NOTE,  /* "status 200 -> 500", "body.x: 1 -> 2", "(too long ...)" */
	RESPDIFF_EQUAL, /* "responses are identical" */
};

/* Receives each output line (text without a newline; valid during the call only). */
typedef void (*respdiff_line_fn)(enum respdiff_kind kind, const char *text, void *user);

/* Most lines per side for the line diff (its table is n*m); longer gives one NOTE. */
#define RESPDIFF_MAX_LINES 2000

/* Line diff of two texts (NULL = ""); a final newline does not add an empty line.
 * Returns 0, or -1 (after one NOTE line) when a side is longer than RESPDIFF_MAX_LINES. */
int respdiff_lines(const char *old_text, const char *new_text, respdiff_line_fn cb, void *user);

/* The whole comparison of two responses (raw payloads, NULL = none) and HTTP statuses:
 * the status change, the differing JSON fields (or "responses are identical") when both
 * are JSON, then the line diff of the pretty-printed (or raw) responses. */
void respdiff_report(int old_status, const char *old_response, int new_status,
                     const char *new_response, respdiff_line_fn cb, void *user);

#endif
