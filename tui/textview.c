/* textview.c - bounded, scrollable, searchable list of sanitised lines (see textview.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/util.h"
#include "tui/textview.h"

#define TEXTVIEW_MAX_LINE 8192 /* bytes kept of one line; the rest is cut */

struct tv_line {
	char *text;
	enum theme_role role;
	int64_t tag;
};

struct textview {
	struct tv_line *ring;
	size_t max, head, count; /* ring[(head + i) % max] is line i */
	size_t cursor, top;
	int shown_rows; /* height of the last draw: what a mouse click or wheel refers to */
	bool follow;
	uint64_t dropped;
	char *needle;
};

struct textview *textview_new(size_t max_lines)
{
	struct textview *tv = xcalloc(1, sizeof(*tv));

	tv->max = max_lines ? max_lines : 1;
	tv->ring = xcalloc(tv->max, sizeof(*tv->ring));
	tv->follow = true;
	return tv;
}

void textview_clear(struct textview *tv)
{
	for (size_t i = 0; i < tv->count; i++)
		free(tv->ring[(tv->head + i) % tv->max].text);
	tv->head = tv->count = tv->cursor = tv->top = 0;
	tv->follow = true;
}

void textview_free(struct textview *tv)
{
	if (!tv)
		return;
	textview_clear(tv);
	free(tv->ring);
	free(tv->needle);
	free(tv);
}

static struct tv_line *line_at(const struct textview *tv, size_t i)
{
	return &tv->ring[(tv->head + i) % tv->max];
}

/* Sanitises one line and expands tabs to 8-column stops. */
static char *clean_line(const char *text, size_t len)
{
	struct buf raw = {0}, out = {0};
	size_t col = 0;
	bool cut = len > TEXTVIEW_MAX_LINE;

	util_sanitize(text, cut ? TEXTVIEW_MAX_LINE : len, false, true, &raw);
	for (size_t i = 0; i < raw.len; i++) {
		if (raw.data[i] == '\t') {
			do
				buf_putc(&out, ' ');
			while (++col % 8);
		} else {
			buf_putc(&out, raw.data[i]);
			if (((unsigned char)raw.data[i] & 0xc0) != 0x80)
				col++;
		}
	}
	if (cut)
		buf_puts(&out, " [cut]");
	buf_free(&raw);
	return buf_steal(&out);
}

static void push_line(struct textview *tv, char *text, enum theme_role role, int64_t tag)
{
	bool at_end = tv->follow || tv->count == 0;

	if (tv->count == tv->max) {
		struct tv_line *old = line_at(tv, 0);

		free(old->text);
		tv->head = (tv->head + 1) % tv->max;
		tv->count--;
		tv->dropped++;
		if (tv->cursor > 0)
			tv->cursor--;
		if (tv->top > 0)
			tv->top--;
	}
	*line_at(tv, tv->count) = (struct tv_line){.text = text, .role = role, .tag = tag};
	tv->count++;
	if (at_end) {
		tv->cursor = tv->count - 1;
		tv->follow = true;
	}
}

/* Cuts the next line off *p (up to end): a cleaned copy, without its "\n" or "\r\n". */
static char *take_line(const char **p, const char *end)
{
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));
	size_t n = nl ? (size_t)(nl - *p) : (size_t)(end - *p);
	char *line = clean_line(*p, n && (*p)[n - 1] == '\r' ? n - 1 : n);

	*p += n + (nl ? 1 : 0);
	return line;
}

void textview_append(struct textview *tv, const char *text, size_t len, enum theme_role role,
                     int64_t tag)
{
	const char *p = text ? text : "";
	const char *end = p + (text ? len : 0);

	do
		push_line(tv, take_line(&p, end), role, tag);
	while (p < end);
}

void textview_appendf(struct textview *tv, enum theme_role role, int64_t tag, const char *fmt, ...)
{
	struct buf b = {0};
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	textview_append(tv, b.data ? b.data : "", b.len, role, tag);
	buf_free(&b);
}

/* Splits like textview_append (take_line), then inserts the lines before the first one, keeping the
 * cursor and the view on the lines they were on. */
bool textview_prepend(struct textview *tv, const char *text, size_t len, enum theme_role role,
                      int64_t tag)
{
	const char *p = text ? text : "";
	const char *end = p + (text ? len : 0);
	char **lines = NULL;
	size_t n = 0, cap = 0;
	bool was_empty = tv->count == 0;

	do {
		if (n == cap) {
			cap = cap ? 2 * cap : 4;
			lines = xrealloc(lines, cap * sizeof(*lines));
		}
		lines[n++] = take_line(&p, end);
	} while (p < end);
	if (tv->count + n > tv->max) {
		while (n > 0)
			free(lines[--n]);
		free(lines);
		return false;
	}
	for (size_t i = n; i-- > 0;) {
		tv->head = (tv->head + tv->max - 1) % tv->max;
		tv->ring[tv->head] = (struct tv_line){.text = lines[i], .role = role, .tag = tag};
		tv->count++;
	}
	free(lines);
	if (was_empty) {
		tv->cursor = tv->follow ? tv->count - 1 : 0;
		tv->top = 0;
	} else {
		tv->cursor += n;
		/* following: the view shows the newest lines (textview_draw scrolls down to the
		 * cursor); else it stays on the lines it showed */
		tv->top = tv->follow ? 0 : tv->top + n;
	}
	return true;
}

size_t textview_count(const struct textview *tv)
{
	return tv->count;
}

uint64_t textview_dropped(const struct textview *tv)
{
	return tv->dropped;
}

const char *textview_line(const struct textview *tv, size_t i, enum theme_role *role, int64_t *tag)
{
	const struct tv_line *l;

	if (i >= tv->count)
		return NULL;
	l = line_at(tv, i);
	if (role)
		*role = l->role;
	if (tag)
		*tag = l->tag;
	return l->text;
}

size_t textview_cursor(const struct textview *tv)
{
	return tv->cursor;
}

void textview_set_cursor(struct textview *tv, size_t i)
{
	if (tv->count == 0) {
		tv->cursor = 0;
		tv->follow = true;
		return;
	}
	tv->cursor = i >= tv->count ? tv->count - 1 : i;
	tv->follow = tv->cursor == tv->count - 1;
}

bool textview_following(const struct textview *tv)
{
	return tv->follow;
}

/* Finds the next line containing the needle from start in direction dir (+1/-1), wrapping. */
static bool find_match(struct textview *tv, size_t start, int dir, bool include_start)
{
	if (!tv->needle || !*tv->needle || tv->count == 0)
		return false;
	for (size_t k = include_start ? 0 : 1; k <= tv->count; k++) {
		size_t i =
		    dir > 0 ? (start + k) % tv->count : (start + tv->count * 2 - k) % tv->count;

		if (strstr(line_at(tv, i)->text, tv->needle)) {
			textview_set_cursor(tv, i);
			return true;
		}
	}
	return false;
}

bool textview_search(struct textview *tv, const char *needle)
{
	free(tv->needle);
	tv->needle = needle && *needle ? xstrdup(needle) : NULL;
	return find_match(tv, tv->cursor, 1, true);
}

bool textview_request(struct textview *tv, enum request req, int rows)
{
	size_t page = rows > 1 ? (size_t)rows - 1 : 1;
	size_t last = tv->count ? tv->count - 1 : 0;

	switch (req) {
	case REQ_MOVE_UP:
		textview_set_cursor(tv, tv->cursor ? tv->cursor - 1 : 0);
		return true;
	case REQ_MOVE_DOWN:
		textview_set_cursor(tv, tv->cursor + 1);
		return true;
	case REQ_PAGE_UP:
		textview_set_cursor(tv, tv->cursor > page ? tv->cursor - page : 0);
		return true;
	case REQ_PAGE_DOWN:
		textview_set_cursor(tv, tv->cursor + page);
		return true;
	case REQ_HALF_PAGE_UP:
		textview_set_cursor(tv, tv->cursor > page / 2 ? tv->cursor - page / 2 : 0);
		return true;
	case REQ_HALF_PAGE_DOWN:
		textview_set_cursor(tv, tv->cursor + (page + 1) / 2);
		return true;
	case REQ_MOVE_TOP:
		textview_set_cursor(tv, 0);
		return true;
	case REQ_MOVE_BOTTOM:
		textview_set_cursor(tv, last);
		return true;
	case REQ_SEARCH_NEXT:
		find_match(tv, tv->cursor, 1, false);
		return true;
	case REQ_SEARCH_PREV:
		find_match(tv, tv->cursor, -1, false);
		return true;
	default:
		return false;
	}
}

bool textview_click(struct textview *tv, int row)
{
	size_t i = tv->top + (size_t)row;

	if (row < 0 || row >= tv->shown_rows || i >= tv->count)
		return false;
	textview_set_cursor(tv, i);
	return true;
}

void textview_scroll(struct textview *tv, int delta)
{
	size_t rows = tv->shown_rows > 0 ? (size_t)tv->shown_rows : 1;
	size_t max_top = tv->count > rows ? tv->count - rows : 0;
	size_t top = tv->top;

	if (delta < 0)
		top = top > (size_t)-delta ? top - (size_t)-delta : 0;
	else
		top = top + (size_t)delta < max_top ? top + (size_t)delta : max_top;
	if (top == tv->top)
		return;
	tv->top = top;
	/* The cursor stays where it was on the text unless it would leave the view. */
	if (tv->cursor < top)
		textview_set_cursor(tv, top);
	else if (tv->cursor >= top + rows)
		textview_set_cursor(tv, top + rows - 1);
}

/* Draws one line clipped to cols, with search matches highlighted. */
static void draw_text(struct textview *tv, WINDOW *w, const char *text, attr_t base, int cols)
{
	int used = 0;
	size_t nlen = tv->needle ? strlen(tv->needle) : 0;

	while (*text && used < cols) {
		const char *m = nlen ? strstr(text, tv->needle) : NULL;
		size_t plain = m ? (size_t)(m - text) : strlen(text);
		char *seg = xstrndup(text, plain);

		wattrset(w, base);
		used += theme_put_clipped(w, seg, cols - used);
		free(seg);
		if (!m)
			break;
		seg = xstrndup(m, nlen);
		wattrset(w, theme_attr(THEME_MATCH));
		used += theme_put_clipped(w, seg, cols - used);
		free(seg);
		text = m + nlen;
	}
	wattrset(w, base);
	while (used++ < cols)
		waddch(w, ' ');
}

void textview_draw(struct textview *tv, WINDOW *w, int y, int x, int rows, int cols,
                   bool show_cursor)
{
	if (rows <= 0 || cols <= 0)
		return;
	/* Keep the cursor on screen; in follow mode show the newest lines. */
	if (tv->cursor < tv->top)
		tv->top = tv->cursor;
	if (tv->cursor >= tv->top + (size_t)rows)
		tv->top = tv->cursor - (size_t)rows + 1;
	if (tv->count > 0 && tv->top > tv->count - 1)
		tv->top = tv->count - 1;
	tv->shown_rows = rows;
	for (int r = 0; r < rows; r++) {
		size_t i = tv->top + (size_t)r;
		attr_t a;

		wmove(w, y + r, x);
		if (i >= tv->count) {
			wattrset(w, theme_attr(THEME_NORMAL));
			for (int c = 0; c < cols; c++)
				waddch(w, ' ');
			continue;
		}
		a = show_cursor && i == tv->cursor ? theme_attr(THEME_SELECTED)
		                                   : theme_attr(line_at(tv, i)->role);
		draw_text(tv, w, line_at(tv, i)->text, a, cols);
	}
	wattrset(w, theme_attr(THEME_NORMAL));
}
