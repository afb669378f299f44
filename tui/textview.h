/* textview.h - a scrollable text view with a bounded line buffer, for panes that show
 * output (Logs, Tests, Playground responses). Lines are sanitised on append (control
 * characters shown in caret form, invalid UTF-8 replaced), so raw process or network output
 * can be appended directly.
 *
 * Behaviour: when more than max_lines are held, the oldest lines are dropped. The view has a
 * cursor line; when the cursor is on the last line ("follow" mode, like tail -f) appends keep
 * it on the last line, otherwise the view stays where the user put it. Navigation requests
 * (move/page/top/bottom, search-next/prev) are handled by textview_request.
 *
 * Ownership: the pane owns the textview (textview_new in init, textview_free in destroy).
 * Returned line pointers are valid until the next append/clear. */
#ifndef LAMBDECK_TUI_TEXTVIEW_H
#define LAMBDECK_TUI_TEXTVIEW_H

#include <curses.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keymaps/requests.h"
#include "tui/theme.h"

struct textview;

struct textview *textview_new(size_t max_lines);
void textview_free(struct textview *tv);

/* Appends text as one or more lines (split at '\n'; a trailing '\n' does not add an empty
 * line). role colors the line; tag is an opaque value the pane can read back (e.g. an index
 * into its own data, a source line number). */
void textview_append(struct textview *tv, const char *text, size_t len, enum theme_role role,
                     int64_t tag);
void textview_appendf(struct textview *tv, enum theme_role role, int64_t tag, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Inserts lines (split like textview_append) before the first line: for filling a view
 * from the newest line backwards. The cursor and the view stay on the lines they showed
 * (in follow mode: the last line). Returns false, inserting nothing, when they would not
 * fit under the bound. */
bool textview_prepend(struct textview *tv, const char *text, size_t len, enum theme_role role,
                      int64_t tag);
void textview_clear(struct textview *tv);

size_t textview_count(const struct textview *tv);
/* Total lines dropped because of the bound since creation (for "N lines dropped" hints). */
uint64_t textview_dropped(const struct textview *tv);
/* Line i (0 = oldest held); NULL when out of range. */
const char *textview_line(const struct textview *tv, size_t i, enum theme_role *role, int64_t *tag);

/* Cursor: index of the selected line (0 when empty). */
size_t textview_cursor(const struct textview *tv);
void textview_set_cursor(struct textview *tv, size_t i);
bool textview_following(const struct textview *tv);

/* Sets the search text (NULL or "" clears) used by search-next/prev and highlighted when
 * drawn; jumps to the first match at or after the cursor. Returns whether a match exists. */
bool textview_search(struct textview *tv, const char *needle);

/* Handles a navigation request; rows is the visible height (for paging). Returns true when
 * handled (then the pane should redraw). */
bool textview_request(struct textview *tv, enum request req, int rows);

/* Mouse support, in terms of the last textview_draw: a click on visible row `row` (0 = the
 * first row drawn) moves the cursor to the line shown there and returns true, false when that
 * row shows no line; a wheel scrolls the view by delta lines (negative: towards older lines)
 * without moving the cursor unless it would leave the view. Scrolling away from the end
 * leaves follow mode like moving the cursor does; returning to the last line resumes it. */
bool textview_click(struct textview *tv, int row);
void textview_scroll(struct textview *tv, int delta);

/* Draws rows x cols starting at (y, x) of w; the cursor line is highlighted when
 * show_cursor. Keeps the cursor visible. */
void textview_draw(struct textview *tv, WINDOW *w, int y, int x, int rows, int cols,
                   bool show_cursor);

#endif
