/* events.c - saved events (events/<Function>/<name>.json), JSON validation with line:col,
 * the editor round trip with recovery copies; the templates are in events_templates.c. */
#include "backend/events.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

/* ---- JSON ------------------------------------------------------------------------------ */

/* 1-based line and column (in characters, not bytes) of byte offset off. */
static void line_col(const char *text, size_t off, int *line, int *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c == '\n') {
			(*line)++;
			*col = 1;
		} else if ((c & 0xC0) != 0x80) {
			(*col)++;
		}
	}
}

/* Offset of the first invalid UTF-8 sequence, or len when valid. */
static size_t utf8_invalid_at(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;

	for (size_t i = 0; i < len;) {
		unsigned char c = p[i];
		size_t n;
		unsigned cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF)
			n = 1, cp = c & 0x1F;
		else if (c >= 0xE0 && c <= 0xEF)
			n = 2, cp = c & 0x0F;
		else if (c >= 0xF0 && c <= 0xF4)
			n = 3, cp = c & 0x07;
		else
			return i;
		if (i + n >= len)
			return i;
		for (size_t k = 1; k <= n; k++) {
			if (i + k >= len || (p[i + k] & 0xC0) != 0x80)
				return i;
			cp = (cp << 6) | (p[i + k] & 0x3F);
		}
		if ((n == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
		    (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
			return i;
		i += n + 1;
	}
	return len;
}

/* A strict RFC 8259 scanner: cJSON says only roughly where it stopped, users need the exact
 * line:col and what is wrong there. */
struct scan {
	const char *t;
	size_t len, pos;
	const char *what;
	char buf[96];
};

#define SCAN_MAX_DEPTH 1000 /* cJSON's nesting limit */

static void skip_ws(struct scan *s)
{
	while (s->pos < s->len && s->t[s->pos] && strchr(" \t\r\n", s->t[s->pos]))
		s->pos++;
}

static int scan_fail(struct scan *s, const char *what)
{
	s->what = what;
	return -1;
}

static int scan_unexpected(struct scan *s, const char *expected)
{
	unsigned char c;

	if (s->pos >= s->len)
		return scan_fail(s, "unexpected end of input (unclosed string, object or array?)");
	c = (unsigned char)s->t[s->pos];
	if (c == '\'')
		return scan_fail(s, "single quotes are not JSON; use double quotes");
	if (c < 0x20 || c >= 0x7f)
		snprintf(s->buf, sizeof(s->buf), "unexpected character, expected %s", expected);
	else
		snprintf(s->buf, sizeof(s->buf), "unexpected '%c', expected %s", c, expected);
	return scan_fail(s, s->buf);
}

static int scan_value(struct scan *s, int depth);

static bool hex_at(struct scan *s, size_t i)
{
	return i < s->len && s->t[i] && strchr("0123456789abcdefABCDEF", s->t[i]);
}

static int scan_string(struct scan *s)
{
	size_t start = s->pos++;

	while (s->pos < s->len) {
		unsigned char c = (unsigned char)s->t[s->pos];
		if (c == '"') {
			s->pos++;
			return 0;
		}
		if (c < 0x20) {
			snprintf(s->buf, sizeof(s->buf),
			         "control character 0x%02x in a string (escape it as \\u%04x)", c,
			         c);
			return scan_fail(s, s->buf);
		}
		if (c == '\\') {
			char e = s->pos + 1 < s->len ? s->t[s->pos + 1] : '\0';
			if (e == 'u') {
				for (size_t k = 2; k < 6; k++)
					if (!hex_at(s, s->pos + k))
						return scan_fail(
						    s, "invalid \\u escape (needs 4 hex digits)");
				s->pos += 6;
				continue;
			}
			if (!e || !strchr("\"\\/bfnrt", e))
				return scan_fail(s, "invalid escape in a string");
			s->pos += 2;
			continue;
		}
		s->pos++;
	}
	s->pos = start;
	return scan_fail(s, "unterminated string");
}

static bool digit_at(struct scan *s)
{
	return s->pos < s->len && s->t[s->pos] >= '0' && s->t[s->pos] <= '9';
}

static int scan_number(struct scan *s)
{
	if (s->t[s->pos] == '-')
		s->pos++;
	if (!digit_at(s))
		return scan_fail(s, "invalid number");
	if (s->t[s->pos] == '0') {
		s->pos++;
		if (digit_at(s))
			return scan_fail(s, "invalid number (leading zero)");
	} else {
		while (digit_at(s))
			s->pos++;
	}
	if (s->pos < s->len && s->t[s->pos] == '.') {
		s->pos++;
		if (!digit_at(s))
			return scan_fail(s, "invalid number (digits expected after '.')");
		while (digit_at(s))
			s->pos++;
	}
	if (s->pos < s->len && (s->t[s->pos] == 'e' || s->t[s->pos] == 'E')) {
		s->pos++;
		if (s->pos < s->len && (s->t[s->pos] == '+' || s->t[s->pos] == '-'))
			s->pos++;
		if (!digit_at(s))
			return scan_fail(s, "invalid number (digits expected in the exponent)");
		while (digit_at(s))
			s->pos++;
	}
	return 0;
}

static int scan_container(struct scan *s, int depth, bool object)
{
	char close = object ? '}' : ']';

	if (depth >= SCAN_MAX_DEPTH)
		return scan_fail(s, "nested too deeply (more than 1000 levels)");
	s->pos++;
	skip_ws(s);
	if (s->pos < s->len && s->t[s->pos] == close) {
		s->pos++;
		return 0;
	}
	for (;;) {
		if (object) {
			if (s->pos >= s->len || s->t[s->pos] != '"')
				return scan_unexpected(s, "a \"key\"");
			if (scan_string(s) < 0)
				return -1;
			skip_ws(s);
			if (s->pos >= s->len || s->t[s->pos] != ':')
				return scan_unexpected(s, "':'");
			s->pos++;
			skip_ws(s);
		}
		if (scan_value(s, depth + 1) < 0)
			return -1;
		skip_ws(s);
		if (s->pos < s->len && s->t[s->pos] == close) {
			s->pos++;
			return 0;
		}
		if (s->pos >= s->len || s->t[s->pos] != ',')
			return scan_unexpected(s, object ? "',' or '}'" : "',' or ']'");
		s->pos++;
		skip_ws(s);
		if (s->pos < s->len && (s->t[s->pos] == '}' || s->t[s->pos] == ']')) {
			snprintf(s->buf, sizeof(s->buf), "trailing comma before '%c'",
			         s->t[s->pos]);
			return scan_fail(s, s->buf);
		}
	}
}

static int scan_literal(struct scan *s, const char *word)
{
	size_t n = strlen(word);

	if (s->len - s->pos < n || memcmp(s->t + s->pos, word, n))
		return scan_unexpected(s, "a value");
	s->pos += n;
	return 0;
}

static int scan_value(struct scan *s, int depth)
{
	char c;

	if (s->pos >= s->len)
		return scan_unexpected(s, "a value");
	c = s->t[s->pos];
	switch (c) {
	case '{':
		return scan_container(s, depth, true);
	case '[':
		return scan_container(s, depth, false);
	case '"':
		return scan_string(s);
	case 't':
		return scan_literal(s, "true");
	case 'f':
		return scan_literal(s, "false");
	case 'n':
		return scan_literal(s, "null");
	default:
		if (c == '-' || (c >= '0' && c <= '9'))
			return scan_number(s);
		return scan_unexpected(s, "a value");
	}
}

int events_validate_json(const char *text, size_t len, const char *label, struct lk_error *err)
{
	struct scan s = {.t = text, .len = len};
	size_t bad;
	int line, col;

	if (!label)
		label = "<event>";
	bad = utf8_invalid_at(text, len);
	if (bad < len) {
		line_col(text, bad, &line, &col);
		return lk_error_set(err, "ParseError", "%s:%d:%d: invalid UTF-8", label, line, col);
	}
	if (memchr(text, '\0', len)) {
		size_t off = (size_t)((const char *)memchr(text, '\0', len) - text);
		line_col(text, off, &line, &col);
		return lk_error_set(err, "ParseError", "%s:%d:%d: NUL byte", label, line, col);
	}
	skip_ws(&s);
	if (s.pos >= len) {
		line_col(text, len, &line, &col);
		return lk_error_set(err, "ParseError",
		                    "%s:%d:%d: empty: an event must be a JSON value", label, line,
		                    col);
	}
	if (scan_value(&s, 0) == 0) {
		skip_ws(&s);
		if (s.pos >= len)
			return 0;
		s.what = "unexpected text after the JSON value";
	}
	line_col(text, s.pos, &line, &col);
	return lk_error_set(err, "ParseError", "%s:%d:%d: %s", label, line, col, s.what);
}

/* Re-indents valid JSON text with two spaces, keeping numbers and strings byte for byte
 * (cJSON would round large integers). */
static char *reindent(const char *t, size_t len)
{
	struct buf b = {0};
	int depth = 0;

	for (size_t i = 0; i < len; i++) {
		char c = t[i];
		if (c == '"') {
			size_t s = i++;
			while (i < len && t[i] != '"')
				i += t[i] == '\\' ? 2 : 1;
			buf_append(&b, t + s, i - s + 1);
		} else if (c == '{' || c == '[') {
			size_t k = i + 1;
			while (k < len && strchr(" \t\r\n", t[k]))
				k++;
			if (k < len && (t[k] == '}' || t[k] == ']')) {
				buf_putc(&b, c), buf_putc(&b, t[k]);
				i = k;
				continue;
			}
			buf_putc(&b, c);
			depth++;
			buf_putc(&b, '\n');
			for (int d = 0; d < depth; d++)
				buf_puts(&b, "  ");
		} else if (c == '}' || c == ']') {
			depth--;
			buf_putc(&b, '\n');
			for (int d = 0; d < depth; d++)
				buf_puts(&b, "  ");
			buf_putc(&b, c);
		} else if (c == ',') {
			buf_puts(&b, ",\n");
			for (int d = 0; d < depth; d++)
				buf_puts(&b, "  ");
		} else if (c == ':') {
			buf_puts(&b, ": ");
		} else if (!strchr(" \t\r\n", c)) {
			buf_putc(&b, c);
		}
	}
	buf_putc(&b, '\n');
	return buf_steal(&b);
}

char *events_pretty_json(const char *text, size_t len)
{
	if (!text || events_validate_json(text, len, NULL, NULL) < 0)
		return NULL;
	return reindent(text, len);
}

/* ---- names and paths ------------------------------------------------------------------ */

static bool chars_ok(const char *s, size_t max, const char *extra)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > max || s[0] == '.')
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr(extra, *p)))
			return false;
	return true;
}

bool events_name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (!chars_ok(name, 100, "._-"))
		return false;
	return !(n >= 9 && !strcmp(name + n - 9, ".snapshot"));
}

bool events_function_ok(const char *function)
{
	return chars_ok(function, 140, "._:-");
}

static int check_names(const char *function, const char *name, struct lk_error *err)
{
	if (!events_function_ok(function))
		return lk_error_set(err, "InvalidName", "'%s' is not a usable function name",
		                    function ? function : "");
	if (!events_name_ok(name))
		return lk_error_set(err, "InvalidName",
		                    "'%s' is not a usable event name (1-100 of A-Z a-z 0-9 . _ -, "
		                    "not starting with '.', not ending in .snapshot)",
		                    name ? name : "");
	return 0;
}

/* events/NAME.json at the project root: the `sam local invoke -e events/event.json` layout,
 * offered for every function. */
static char *shared_path(const char *project_dir, const char *name)
{
	return xasprintf("%s/events/%s.json", project_dir, name);
}

char *events_path(const char *project_dir, const char *function, const char *name)
{
	if (!events_function_ok(function) || !events_name_ok(name))
		return NULL;
	char *own = xasprintf("%s/events/%s/%s.json", project_dir, function, name);
	if (util_is_file(own))
		return own;
	char *shared = shared_path(project_dir, name);
	if (util_is_file(shared)) {
		free(own);
		return shared;
	}
	free(shared);
	return own;
}

bool events_is_shared(const char *project_dir, const char *function, const char *name)
{
	char *path = events_path(project_dir, function, name);
	char *shared = events_name_ok(name) ? shared_path(project_dir, name) : NULL;
	bool is = path && shared && !strcmp(path, shared);

	free(path);
	free(shared);
	return is;
}

/* The path new_name gets when name is renamed or duplicated: beside it (a shared event stays
 * shared). */
static char *sibling_path(const char *project_dir, const char *function, const char *name,
                          const char *new_name)
{
	if (events_is_shared(project_dir, function, name))
		return shared_path(project_dir, new_name);
	return xasprintf("%s/events/%s/%s.json", project_dir, function, new_name);
}

char *events_recovery_path(const char *project_dir, const char *function, const char *name)
{
	if (!events_function_ok(function) || !events_name_ok(name))
		return NULL;
	return xasprintf("%s/.lambdeck/recovery/%s/%s.json", project_dir, function, name);
}

static char *scratch_path(const char *project_dir, const char *function, const char *name)
{
	/* per process: two consoles editing the same event must not share one scratch file */
	return xasprintf("%s/.lambdeck/edit/%ld/%s/%s.json", project_dir, (long)getpid(), function,
	                 name);
}

static char *rel_label(const char *function, const char *name)
{
	return xasprintf("events/%s/%s.json", function, name);
}

/* The label of an existing event as the user sees its file ("events/event.json" when
 * shared). */
static char *label_of(const char *project_dir, const char *function, const char *name)
{
	if (events_is_shared(project_dir, function, name))
		return xasprintf("events/%s.json", name);
	return rel_label(function, name);
}

/* mkdir -p of the directory holding path. */
static int mkdir_parent(const char *path, struct lk_error *err)
{
	char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	int rc = 0;

	if (slash && slash != dir) {
		*slash = '\0';
		rc = util_mkdir_p(dir, 0777, err);
	}
	free(dir);
	return rc;
}

/* ---- listing -------------------------------------------------------------------------- */

static int cmp_event_file(const void *a, const void *b)
{
	return strcmp(((const struct event_file *)a)->name, ((const struct event_file *)b)->name);
}

/* Appends the NAME.json files of dir (not NAME.snapshot.json) to out, skipping names out
 * already has. A missing directory adds nothing. */
static int list_dir(const char *project_dir, const char *function, const char *dir, bool shared,
                    struct event_list *out, size_t *cap, struct lk_error *err)
{
	size_t had = out->n;
	struct dirent *de;
	DIR *d;

	if (!(d = opendir(dir))) {
		int e = errno;
		if (e == ENOENT || e == ENOTDIR)
			return 0;
		return lk_error_set(err, "IOError", "%s: %s", dir, strerror(e));
	}
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);
		struct stat st;
		char *name, *path, *other;
		bool dup = false;

		if (n <= 5 || strcmp(de->d_name + n - 5, ".json"))
			continue;
		name = xstrndup(de->d_name, n - 5);
		for (size_t i = 0; i < had && !dup; i++)
			dup = !strcmp(out->items[i].name, name); /* the function's own wins */
		if (dup || !events_name_ok(name)) {              /* also skips NAME.snapshot.json */
			free(name);
			continue;
		}
		path = xasprintf("%s/%s", dir, de->d_name);
		if (stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
			free(name);
			free(path);
			continue;
		}
		if (out->n == *cap) {
			*cap = *cap ? *cap * 2 : 16;
			out->items = xrealloc(out->items, *cap * sizeof(*out->items));
		}
		struct event_file *f = &out->items[out->n++];
		f->name = name;
		f->path = path;
		f->shared = shared;
		f->mtime_ms = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
		other = xasprintf("%s/events/%s/%s.snapshot.json", project_dir, function, name);
		f->has_snapshot = util_is_file(other);
		free(other);
		other = events_recovery_path(project_dir, function, name);
		f->has_recovery = other && util_is_file(other);
		free(other);
	}
	closedir(d);
	return 0;
}

int events_list(const char *project_dir, const char *function, struct event_list *out,
                struct lk_error *err)
{
	size_t cap = 0;
	int rc;

	out->items = NULL;
	out->n = 0;
	if (!events_function_ok(function))
		return lk_error_set(err, "InvalidName", "'%s' is not a usable function name",
		                    function ? function : "");
	char *own = xasprintf("%s/events/%s", project_dir, function);
	char *root = xasprintf("%s/events", project_dir);
	rc = list_dir(project_dir, function, own, false, out, &cap, err);
	if (rc == 0)
		rc = list_dir(project_dir, function, root, true, out, &cap, err);
	free(own);
	free(root);
	if (rc < 0) {
		events_list_free(out);
		return -1;
	}
	if (out->n)
		qsort(out->items, out->n, sizeof(*out->items), cmp_event_file);
	return 0;
}

void events_list_free(struct event_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++) {
		free(l->items[i].name);
		free(l->items[i].path);
	}
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

/* ---- read / save / rename / duplicate / delete ---------------------------------------- */

int events_read(const char *project_dir, const char *function, const char *name, struct buf *out,
                struct lk_error *err)
{
	char *path, *label;
	int rc;

	if (check_names(function, name, err) < 0)
		return -1;
	path = events_path(project_dir, function, name);
	label = label_of(project_dir, function, name);
	if (!util_is_file(path)) {
		lk_error_set(err, "EventNotFound", "no saved event '%s' for %s (%s)", name,
		             function, label);
		rc = -1;
	} else if ((rc = util_read_file(path, out, err)) == 0) {
		rc = events_validate_json(out->data, out->len, label, err);
	}
	free(path);
	free(label);
	return rc;
}

int events_save(const char *project_dir, const char *function, const char *name, const char *json,
                size_t len, bool overwrite, struct lk_error *err)
{
	char *path, *label;
	int rc = -1;

	if (check_names(function, name, err) < 0)
		return -1;
	path = events_path(project_dir, function, name);
	label = label_of(project_dir, function, name);
	if (events_validate_json(json, len, label, err) < 0)
		goto out;
	if (!overwrite && util_is_file(path)) {
		lk_error_set(err, "EventExists", "%s already exists", label);
		goto out;
	}
	if (mkdir_parent(path, err) < 0)
		goto out;
	rc = util_write_atomic(path, json, len, 0666, err);
out:
	free(path);
	free(label);
	return rc;
}

int events_new_from_template(const char *project_dir, const char *function, const char *name,
                             const struct event_template *t, const struct event_kv *values,
                             size_t n_values, struct lk_error *err)
{
	char *json;
	int rc;

	if (check_names(function, name, err) < 0)
		return -1;
	if (!(json = events_template_render(t, values, n_values, err)))
		return -1;
	rc = events_save(project_dir, function, name, json, strlen(json), false, err);
	free(json);
	return rc;
}

/* Moves src to dst when src exists (rename(2) within the project). */
static int move_if_exists(const char *src, const char *dst, struct lk_error *err)
{
	if (!util_is_file(src))
		return 0;
	if (mkdir_parent(dst, err) < 0)
		return -1;
	if (rename(src, dst) < 0)
		return lk_error_set(err, "IOError", "rename %s: %s", src, strerror(errno));
	return 0;
}

static int check_pair(const char *project_dir, const char *function, const char *name,
                      const char *new_name, struct lk_error *err)
{
	char *src, *dst, *label;
	int rc = 0;

	if (check_names(function, name, err) < 0 || check_names(function, new_name, err) < 0)
		return -1;
	src = events_path(project_dir, function, name);
	dst = sibling_path(project_dir, function, name, new_name);
	if (!util_is_file(src)) {
		label = rel_label(function, name);
		rc = lk_error_set(err, "EventNotFound", "no saved event %s", label);
		free(label);
	} else if (util_is_file(dst)) {
		label = rel_label(function, new_name);
		rc = lk_error_set(err, "EventExists", "%s already exists", label);
		free(label);
	}
	free(src);
	free(dst);
	return rc;
}

int events_rename(const char *project_dir, const char *function, const char *name,
                  const char *new_name, struct lk_error *err)
{
	char *src, *dst;
	int rc;

	if (check_pair(project_dir, function, name, new_name, err) < 0)
		return -1;
	src = events_path(project_dir, function, name);
	dst = sibling_path(project_dir, function, name, new_name);
	rc = move_if_exists(src, dst, err);
	free(src);
	free(dst);
	if (rc < 0)
		return -1;
	/* The snapshot and a recovery copy belong to the event: they follow it. */
	src = xasprintf("%s/events/%s/%s.snapshot.json", project_dir, function, name);
	dst = xasprintf("%s/events/%s/%s.snapshot.json", project_dir, function, new_name);
	rc = move_if_exists(src, dst, err);
	free(src);
	free(dst);
	if (rc < 0)
		return -1;
	src = events_recovery_path(project_dir, function, name);
	dst = events_recovery_path(project_dir, function, new_name);
	rc = move_if_exists(src, dst, err);
	free(src);
	free(dst);
	return rc;
}

int events_duplicate(const char *project_dir, const char *function, const char *name,
                     const char *new_name, struct lk_error *err)
{
	struct buf b = {0};
	char *src;
	int rc;

	if (check_pair(project_dir, function, name, new_name, err) < 0)
		return -1;
	src = events_path(project_dir, function, name);
	/* Copy the bytes as they are (a duplicate of a hand-formatted file stays formatted). */
	rc = util_read_file(src, &b, err);
	free(src);
	if (rc == 0 && events_is_shared(project_dir, function, name)) {
		char *dst = sibling_path(project_dir, function, name, new_name);
		rc = util_write_atomic(dst, b.data, b.len, 0666, err);
		free(dst);
	} else if (rc == 0) {
		rc = events_save(project_dir, function, new_name, b.data, b.len, false, err);
	}
	buf_free(&b);
	return rc;
}

static int unlink_if_exists(const char *path, struct lk_error *err)
{
	if (unlink(path) < 0 && errno != ENOENT)
		return lk_error_set(err, "IOError", "%s: %s", path, strerror(errno));
	return 0;
}

int events_delete(const char *project_dir, const char *function, const char *name,
                  struct lk_error *err)
{
	char *path;
	int rc;

	if (check_names(function, name, err) < 0)
		return -1;
	path = events_path(project_dir, function, name);
	if (!util_is_file(path)) {
		char *label = label_of(project_dir, function, name);
		lk_error_set(err, "EventNotFound", "no saved event %s", label);
		free(label);
		free(path);
		return -1;
	}
	rc = unlink_if_exists(path, err);
	free(path);
	if (rc < 0)
		return -1;
	path = xasprintf("%s/events/%s/%s.snapshot.json", project_dir, function, name);
	rc = unlink_if_exists(path, err);
	free(path);
	if (rc < 0)
		return -1;
	return events_discard_recovery(project_dir, function, name, err);
}

/* ---- editor round trip ---------------------------------------------------------------- */

int events_edit_begin(const char *project_dir, const char *function, const char *name,
                      char **scratch, struct lk_error *err)
{
	char *rec, *path, *tmp;
	struct buf b = {0};
	int rc = -1;

	*scratch = NULL;
	if (check_names(function, name, err) < 0)
		return -1;
	rec = events_recovery_path(project_dir, function, name);
	path = events_path(project_dir, function, name);
	tmp = scratch_path(project_dir, function, name);
	if (util_is_file(rec)) {
		if (util_read_file(rec, &b, err) < 0)
			goto out;
	} else if (util_is_file(path)) {
		if (util_read_file(path, &b, err) < 0)
			goto out;
	} else {
		buf_puts(&b, "{\n}\n");
	}
	if (mkdir_parent(tmp, err) < 0 || util_write_atomic(tmp, b.data, b.len, 0600, err) < 0)
		goto out;
	*scratch = tmp;
	tmp = NULL;
	rc = 0;
out:
	buf_free(&b);
	free(rec);
	free(path);
	free(tmp);
	return rc;
}

int events_edit_finish(const char *project_dir, const char *function, const char *name,
                       bool *changed, struct lk_error *err)
{
	char *tmp, *path, *rec, *label;
	struct buf edited = {0}, old = {0};
	struct lk_error perr = {0};
	int rc = -1;

	if (changed)
		*changed = false;
	if (check_names(function, name, err) < 0)
		return -1;
	tmp = scratch_path(project_dir, function, name);
	path = events_path(project_dir, function, name);
	rec = events_recovery_path(project_dir, function, name);
	label = label_of(project_dir, function, name);
	if (util_read_file(tmp, &edited, err) < 0)
		goto out;
	if (events_validate_json(edited.data, edited.len, label, &perr) < 0) {
		/* Keep every keystroke: the invalid text becomes the recovery copy, which the
		 * next edit starts from. The saved event stays as it was. */
		if (mkdir_parent(rec, err) < 0 ||
		    util_write_atomic(rec, edited.data, edited.len, 0600, err) < 0)
			goto out;
		unlink(tmp);
		lk_error_set(
		    err, "ParseError",
		    "%s (your text is kept in .lambdeck/recovery/%s/%s.json; edit again to "
		    "continue)",
		    perr.message, function, name);
		goto out;
	}
	if (util_is_file(path) && util_read_file(path, &old, err) < 0)
		goto out;
	if (!util_is_file(path) || old.len != edited.len ||
	    memcmp(old.data, edited.data, old.len)) {
		if (mkdir_parent(path, err) < 0 ||
		    util_write_atomic(path, edited.data, edited.len, 0666, err) < 0)
			goto out;
		if (changed)
			*changed = true;
	}
	unlink(tmp);
	unlink(rec);
	rc = 0;
out:
	buf_free(&edited);
	buf_free(&old);
	free(tmp);
	free(path);
	free(rec);
	free(label);
	return rc;
}

int events_discard_recovery(const char *project_dir, const char *function, const char *name,
                            struct lk_error *err)
{
	char *rec;
	int rc;

	if (check_names(function, name, err) < 0)
		return -1;
	rec = events_recovery_path(project_dir, function, name);
	rc = unlink_if_exists(rec, err);
	free(rec);
	return rc;
}

/* ---- --event resolution --------------------------------------------------------------- */

int events_resolve(const char *project_dir, const char *function, const char *spec, struct buf *out,
                   char **label, struct lk_error *err)
{
	*label = NULL;
	if (!spec || !*spec)
		spec = "{}";
	if (!strcmp(spec, "-")) {
		char chunk[65536];
		size_t n;
		while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
			buf_append(out, chunk, n);
		if (ferror(stdin))
			return lk_error_set(err, "IOError", "reading the event from stdin failed");
		if (!out->data)
			buf_puts(out, "");
		*label = xstrdup("-");
		if (events_validate_json(out->data, out->len, "<stdin>", err) < 0)
			return -1;
		return 0;
	}
	if (!strncmp(spec, "template:", 9)) {
		const struct event_template *t = events_template_find(spec + 9);
		char *json;
		if (!t)
			return lk_error_set(err, "EventNotFound",
			                    "no template '%s' (see 'lambdeck events templates')",
			                    spec + 9);
		if (!(json = events_template_render(t, NULL, 0, err)))
			return -1;
		buf_puts(out, json);
		free(json);
		*label = xstrdup(spec);
		return 0;
	}
	/* Inline JSON is handy in scripts: --event '{"a":1}'. */
	if (spec[0] == '{' || spec[0] == '[') {
		buf_puts(out, spec);
		*label = xstrdup("inline");
		return events_validate_json(out->data, out->len, "<--event>", err);
	}
	if (events_name_ok(spec) && events_function_ok(function)) {
		char *path = events_path(project_dir, function, spec);
		bool saved = util_is_file(path);
		free(path);
		if (saved) {
			*label = xstrdup(spec);
			return events_read(project_dir, function, spec, out, err);
		}
	}
	if (util_is_file(spec)) {
		*label = xstrdup(spec);
		if (util_read_file(spec, out, err) < 0)
			return -1;
		return events_validate_json(out->data, out->len, spec, err);
	}
	return lk_error_set(err, "EventNotFound",
	                    "no saved event '%s' for %s and no such file (events live in "
	                    "events/%s/NAME.json; see 'lambdeck events list %s')",
	                    spec, function ? function : "?", function ? function : "FUNCTION",
	                    function ? function : "FUNCTION");
}
