/* snapshot_file.c - snapshot tests, the parts without I/O on the loop: comparison with
 * ignorable paths, saving a snapshot file, the report. The replay runner is snapshot.c. */
#include "backend/snapshot.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend/events.h"

const char *const snapshot_default_ignore[] = {
    "**.requestId", "**.RequestId", "**.awsRequestId", "**.request_id", "**.x-amzn-RequestId",
    "**.timestamp", "**.Timestamp", "**.date",         "**.Date",       NULL,
};

/* ---- paths and ignore patterns ------------------------------------------------------- */

/* Splits "a.b[2].c" / "**.x[*]" into segments "a" "b" "[2]" "c". Returns the count. */
static size_t split_path(const char *path, char ***out)
{
	char **seg = NULL;
	size_t n = 0;
	const char *p = path;

	if (!strncmp(p, "$.", 2))
		p += 2;
	else if (!strcmp(p, "$"))
		p++;
	while (*p) {
		size_t len;
		if (*p == '.') {
			p++;
			continue;
		}
		if (*p == '[') {
			const char *e = strchr(p, ']');
			len = e ? (size_t)(e - p) + 1 : strlen(p);
		} else {
			len = strcspn(p, ".[");
		}
		seg = xrealloc(seg, (n + 1) * sizeof(*seg));
		seg[n++] = xstrndup(p, len);
		p += len;
	}
	*out = seg;
	return n;
}

static void free_segs(char **s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(s[i]);
	free(s);
}

static bool seg_one(const char *pat, const char *seg)
{
	return !strcmp(pat, "*") || (!strcmp(pat, "[*]") && seg[0] == '[') || !strcmp(pat, seg);
}

/* Matches pattern segments against path segments. A table of which pattern suffix matches
 * which path suffix, filled from the end: O(np * n) whatever the "**" count (backtracking
 * over "**.**.**..." took exponential time on a deep response). */
static bool seg_match(char *const *pat, size_t np, char *const *path, size_t n)
{
	bool *m = xcalloc((np + 1) * (n + 1), sizeof(*m)), hit;

#define M(i, j) m[(i) * (n + 1) + (j)]
	M(np, n) = true;
	for (size_t i = np; i-- > 0;)
		for (size_t j = n + 1; j-- > 0;)
			M(i, j) = !strcmp(pat[i], "**")
			              ? M(i + 1, j) || (j < n && M(i, j + 1))
			              : j < n && seg_one(pat[i], path[j]) && M(i + 1, j + 1);
	hit = M(0, 0);
#undef M
	free(m);
	return hit;
}

bool snapshot_path_ignored(const char *path, const char *const *ignore, size_t n_ignore)
{
	char **ps;
	size_t n = split_path(path, &ps);
	bool hit = false;

	for (size_t i = 0; i < n_ignore && !hit; i++) {
		char **pp;
		size_t np = split_path(ignore[i], &pp);
		hit = seg_match(pp, np, ps, n);
		free_segs(pp, np);
	}
	free_segs(ps, n);
	return hit;
}

/* ---- compare ------------------------------------------------------------------------- */

struct diffs {
	struct snapshot_diff *v;
	size_t n;
	const char *const *ignore;
	size_t n_ignore;
};

static char *show(const cJSON *j)
{
	char *s;

	if (!j)
		return xstrdup("(missing)");
	s = cJSON_PrintUnformatted(j);
	return s ? s : xstrdup("?");
}

static void add_diff(struct diffs *d, const char *path, const cJSON *e, const cJSON *a)
{
	d->v = xrealloc(d->v, (d->n + 1) * sizeof(*d->v));
	d->v[d->n].path = xstrdup(path);
	d->v[d->n].expected = show(e);
	d->v[d->n].actual = show(a);
	d->n++;
}

static char *child(const char *path, const char *key)
{
	return *path ? xasprintf("%s.%s", path, key) : xstrdup(key);
}

/* A string holding a JSON object/array (API Gateway bodies), parsed; NULL otherwise. */
static cJSON *embedded_json(const cJSON *j)
{
	const char *s;

	if (!cJSON_IsString(j))
		return NULL;
	s = j->valuestring;
	while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r')
		s++;
	if (*s != '{' && *s != '[')
		return NULL;
	return cJSON_Parse(s);
}

/* The member of obj that corresponds to item of its counterpart other: the same key, and
 * for a key a JSON text repeats, the same occurrence (the first "a" with the first "a"), so
 * that a document always equals itself. */
static const cJSON *same_key(const cJSON *obj, const cJSON *other, const cJSON *item)
{
	const cJSON *it;
	size_t nth = 0;

	for (it = other->child; it && it != item; it = it->next)
		nth += !strcmp(it->string, item->string);
	cJSON_ArrayForEach(it, obj)
	{
		if (!strcmp(it->string, item->string) && nth-- == 0)
			return it;
	}
	return NULL;
}

static void compare(struct diffs *d, const char *path, const cJSON *e, const cJSON *a)
{
	cJSON *ee, *ae;

	if (*path && snapshot_path_ignored(path, d->ignore, d->n_ignore))
		return;
	if (!e || !a) {
		add_diff(d, path, e, a);
		return;
	}
	ee = embedded_json(e);
	ae = embedded_json(a);
	if (ee && ae) {
		compare(d, path, ee, ae);
		cJSON_Delete(ee);
		cJSON_Delete(ae);
		return;
	}
	cJSON_Delete(ee);
	cJSON_Delete(ae);
	if ((e->type & 0xFF) != (a->type & 0xFF)) {
		add_diff(d, path, e, a);
		return;
	}
	if (cJSON_IsObject(e)) {
		const cJSON *it;
		cJSON_ArrayForEach(it, e)
		{
			char *p = child(path, it->string);
			compare(d, p, it, same_key(a, e, it));
			free(p);
		}
		cJSON_ArrayForEach(it, a)
		{
			if (same_key(e, a, it))
				continue;
			char *p = child(path, it->string);
			if (!snapshot_path_ignored(p, d->ignore, d->n_ignore))
				add_diff(d, p, NULL, it);
			free(p);
		}
	} else if (cJSON_IsArray(e)) {
		int ne = cJSON_GetArraySize(e), na = cJSON_GetArraySize(a);
		for (int i = 0; i < (ne > na ? ne : na); i++) {
			char *p = xasprintf("%s[%d]", path, i);
			compare(d, p, cJSON_GetArrayItem(e, i), cJSON_GetArrayItem(a, i));
			free(p);
		}
	} else if (cJSON_IsString(e)) {
		if (strcmp(e->valuestring, a->valuestring))
			add_diff(d, path, e, a);
	} else if (cJSON_IsNumber(e)) {
		if (e->valuedouble != a->valuedouble)
			add_diff(d, path, e, a);
	}
	/* true/false/null: equal types are equal values */
}

size_t snapshot_compare(const cJSON *expected, const cJSON *actual, const char *const *ignore,
                        size_t n_ignore, struct snapshot_diff **diffs, size_t *n_diffs)
{
	struct diffs d = {.v = *diffs, .n = *n_diffs, .ignore = ignore, .n_ignore = n_ignore};
	size_t before = d.n;

	compare(&d, "", expected, actual);
	*diffs = d.v;
	*n_diffs = d.n;
	return d.n - before;
}

void snapshot_diffs_free(struct snapshot_diff *diffs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(diffs[i].path);
		free(diffs[i].expected);
		free(diffs[i].actual);
	}
	free(diffs);
}

/* ---- save ---------------------------------------------------------------------------- */

char *snapshot_path(const char *project_dir, const char *function, const char *name)
{
	if (!events_function_ok(function) || !events_name_ok(name))
		return NULL;
	return xasprintf("%s/events/%s/%s.snapshot.json", project_dir, function, name);
}

int snapshot_save(const char *project_dir, const char *function, const char *name,
                  const char *event, size_t event_len, const char *qualifier,
                  const struct invoke_result *r, struct lk_error *err)
{
	char *path = snapshot_path(project_dir, function, name), *text, *pretty, *evpath;
	cJSON *root, *ev, *exp, *resp, *ign, *old = NULL;
	struct buf oldtext = {0};
	char now[32];
	time_t t = time(NULL);
	struct tm tm;
	int rc;

	if (!path)
		return lk_error_set(err, "InvalidName", "'%s' / '%s' cannot name a snapshot",
		                    function ? function : "", name ? name : "");
	if (!r || (r->status == 0 && lk_error_is_set(&r->err))) {
		free(path);
		return lk_error_set(err, "NoResponse",
		                    "there is no response to save as a snapshot");
	}
	if (events_validate_json(event, event_len, name, err) < 0 ||
	    !(ev = cJSON_ParseWithLength(event, event_len))) {
		free(path);
		return -1;
	}
	/* Re-saving keeps the user's ignore list. */
	if (util_is_file(path) && util_read_file(path, &oldtext, NULL) == 0)
		old = cJSON_Parse(oldtext.data);
	buf_free(&oldtext);
	root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "function", function);
	cJSON_AddStringToObject(root, "event", name);
	cJSON_AddStringToObject(root, "invocationType", "RequestResponse");
	if (qualifier && *qualifier)
		cJSON_AddStringToObject(root, "qualifier", qualifier);
	else
		cJSON_AddNullToObject(root, "qualifier");
	cJSON_AddItemToObject(root, "payload", ev);
	exp = cJSON_AddObjectToObject(root, "expected");
	cJSON_AddNumberToObject(exp, "status", r->status);
	if (r->function_error)
		cJSON_AddStringToObject(exp, "functionError", r->function_error);
	else
		cJSON_AddNullToObject(exp, "functionError");
	resp = r->payload_len ? cJSON_ParseWithLength(r->payload, r->payload_len) : NULL;
	if (!resp)
		resp = cJSON_CreateString(r->payload ? r->payload : "");
	cJSON_AddItemToObject(exp, "response", resp);
	ign = cJSON_GetObjectItemCaseSensitive(old, "ignore");
	if (cJSON_IsArray(ign)) {
		cJSON_AddItemToObject(root, "ignore", cJSON_Duplicate(ign, true));
	} else {
		ign = cJSON_AddArrayToObject(root, "ignore");
		for (size_t i = 0; snapshot_default_ignore[i]; i++)
			cJSON_AddItemToArray(ign, cJSON_CreateString(snapshot_default_ignore[i]));
	}
	gmtime_r(&t, &tm);
	strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", &tm);
	cJSON_AddStringToObject(root, "savedAt", now);
	cJSON_Delete(old);
	text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	pretty = events_pretty_json(text, strlen(text));
	free(text);
	{
		char *dir = xasprintf("%s/events/%s", project_dir, function);
		rc = util_mkdir_p(dir, 0777, err);
		free(dir);
	}
	if (rc == 0)
		rc = util_write_atomic(path, pretty, strlen(pretty), 0666, err);
	free(pretty);
	free(path);
	if (rc < 0)
		return -1;
	/* The snapshot's event is a saved event too (so the pane lists it). */
	evpath = events_path(project_dir, function, name);
	if (evpath && !util_is_file(evpath))
		rc = events_save(project_dir, function, name, event, event_len, false, err);
	free(evpath);
	return rc;
}

/* ---- report -------------------------------------------------------------------------- */

static void outcome_clear(struct snapshot_outcome *o)
{
	free(o->function);
	free(o->name);
	free(o->file);
	free(o->error);
	snapshot_diffs_free(o->diffs, o->n_diffs);
	memset(o, 0, sizeof(*o));
}

void snapshot_report_clear(struct snapshot_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++)
		outcome_clear(&r->items[i]);
	free(r->items);
	memset(r, 0, sizeof(*r));
}

static void put_clean(struct buf *out, const char *s, size_t max)
{
	size_t n = strlen(s);

	util_sanitize(s, n > max ? max : n, false, false, out);
	if (n > max)
		buf_puts(out, "...");
}

void snapshot_report_format(const struct snapshot_report *r, bool verbose, struct buf *out)
{
	buf_puts(out, "");
	for (size_t i = 0; i < r->n; i++) {
		const struct snapshot_outcome *o = &r->items[i];
		const char *tag = o->error ? "ERROR" : o->passed ? "PASS " : "FAIL ";
		buf_printf(out, "%s %s/%s", tag, o->function, o->name);
		if (o->client_ms >= 0 && !o->error)
			buf_printf(out, "  (%.1f ms)", o->client_ms);
		buf_putc(out, '\n');
		if (o->error) {
			buf_puts(out, "      ");
			put_clean(out, o->error, 400);
			buf_putc(out, '\n');
		}
		for (size_t k = 0; k < o->n_diffs && (verbose || k < 10); k++) {
			buf_printf(out, "      %s: expected ",
			           *o->diffs[k].path ? o->diffs[k].path : "(response)");
			put_clean(out, o->diffs[k].expected, verbose ? 4000 : 200);
			buf_puts(out, ", got ");
			put_clean(out, o->diffs[k].actual, verbose ? 4000 : 200);
			buf_putc(out, '\n');
		}
		if (!verbose && o->n_diffs > 10)
			buf_printf(out, "      ... %zu more difference%s\n", o->n_diffs - 10,
			           o->n_diffs - 10 == 1 ? "" : "s");
	}
	buf_printf(out, "%zu snapshot%s: %zu passed, %zu failed, %zu error%s (%.0f ms)\n", r->n,
	           r->n == 1 ? "" : "s", r->passed, r->failed, r->errors, r->errors == 1 ? "" : "s",
	           r->total_ms);
}
