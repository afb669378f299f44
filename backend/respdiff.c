/* respdiff.c - response comparison for the Playground and `lambdeck replay --diff`. See
 * respdiff.h. */
#include "backend/respdiff.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "backend/events.h"
#include "backend/snapshot.h"
#include "backend/util.h"

/* Splits text in place into lines (blank ones kept; no empty line after a final "\n"). */
static char **split_lines(char *text, size_t *n)
{
	char **lines = NULL;
	char *p = text;

	*n = 0;
	while (*p) {
		char *nl = strchr(p, '\n');

		lines = xrealloc(lines, (*n + 1) * sizeof(*lines));
		lines[(*n)++] = p;
		if (!nl)
			break;
		*nl = '\0';
		p = nl + 1;
	}
	return lines;
}

/* Emits one diff line with its prefix. */
static void emit(respdiff_line_fn cb, void *user, enum respdiff_kind kind, const char *line)
{
	const char *prefix = kind == RESPDIFF_DEL ? "- " : kind == RESPDIFF_ADD ? "+ " : "  ";
	char *text = xasprintf("%s%s", prefix, line);

	cb(kind, text, user);
	free(text);
}

int respdiff_lines(const char *old_text, const char *new_text, respdiff_line_fn cb, void *user)
{
	char *ca = xstrdup(old_text ? old_text : ""), *cb_text = xstrdup(new_text ? new_text : "");
	size_t na, nb;
	char **la = split_lines(ca, &na), **lb = split_lines(cb_text, &nb);
	unsigned short *t;
	int rc = 0;

	if (na > RESPDIFF_MAX_LINES || nb > RESPDIFF_MAX_LINES) {
		cb(RESPDIFF_NOTE, "(responses too long for a line diff)", user);
		rc = -1;
		goto out;
	}
	/* t(i, j): length of the longest common subsequence of la[i..] and lb[j..]. */
	t = xcalloc((na + 1) * (nb + 1), sizeof(*t));
#define T(i, j) t[(i) * (nb + 1) + (j)]
	for (size_t i = na; i-- > 0;)
		for (size_t j = nb; j-- > 0;)
			T(i, j) = !strcmp(la[i], lb[j])       ? T(i + 1, j + 1) + 1
			          : T(i + 1, j) > T(i, j + 1) ? T(i + 1, j)
			                                      : T(i, j + 1);
	for (size_t i = 0, j = 0; i < na || j < nb;) {
		if (i < na && j < nb && !strcmp(la[i], lb[j])) {
			emit(cb, user, RESPDIFF_SAME, la[i]);
			i++, j++;
		} else if (i < na && (j == nb || T(i + 1, j) >= T(i, j + 1))) {
			/* removals before additions where both keep the diff minimal, as diff(1) */
			emit(cb, user, RESPDIFF_DEL, la[i++]);
		} else {
			emit(cb, user, RESPDIFF_ADD, lb[j++]);
		}
	}
#undef T
	free(t);
out:
	free(la);
	free(lb);
	free(ca);
	free(cb_text);
	return rc;
}

static char *pretty_or_raw(const char *s)
{
	char *p = s ? events_pretty_json(s, strlen(s)) : NULL;

	return p ? p : xstrdup(s ? s : "");
}

void respdiff_report(int old_status, const char *old_response, int new_status,
                     const char *new_response, respdiff_line_fn cb, void *user)
{
	cJSON *ja = old_response ? cJSON_Parse(old_response) : NULL;
	cJSON *jb = new_response ? cJSON_Parse(new_response) : NULL;
	char *a, *b;

	if (old_status != new_status) {
		char *text = xasprintf("status %d -> %d", old_status, new_status);
		cb(RESPDIFF_NOTE, text, user);
		free(text);
	}
	if (ja && jb) {
		struct snapshot_diff *d = NULL;
		size_t n = 0;

		snapshot_compare(ja, jb, NULL, 0, &d, &n);
		if (!n)
			cb(RESPDIFF_EQUAL, "responses are identical", user);
		for (size_t i = 0; i < n; i++) {
			char *text =
			    xasprintf("%s: %s -> %s", *d[i].path ? d[i].path : "(response)",
			              d[i].expected, d[i].actual);
			cb(RESPDIFF_NOTE, text, user);
			free(text);
		}
		snapshot_diffs_free(d, n);
	}
	cJSON_Delete(ja);
	cJSON_Delete(jb);
	a = pretty_or_raw(old_response);
	b = pretty_or_raw(new_response);
	respdiff_lines(a, b, cb, user);
	free(a);
	free(b);
}
