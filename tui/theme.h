/* theme.h - colors and glyphs as tables (htop's CRT colors, tmux's border sets).
 *
 * Colors: an enum of UI roles x schemes (256 colors / 8 colors / monochrome). The scheme is
 * chosen once at start from the terminal (COLORS) and NO_COLOR (https://no-color.org: set and
 * non-empty -> monochrome). Glyphs: a UTF-8 set when the locale's codeset is UTF-8, an ASCII
 * set otherwise or with --ascii.
 *
 * Call theme_init after initscr(); theme_attr/theme_glyph are valid afterwards. */
#ifndef LAMBDECK_TUI_THEME_H
#define LAMBDECK_TUI_THEME_H

#include <curses.h>
#include <stdbool.h>

#define THEME_ROLES(_)                                                                             \
	_(NORMAL)                                                                                  \
	_(BORDER)                                                                                  \
	_(BORDER_FOCUS)                                                                            \
	_(TITLE)                                                                                   \
	_(TITLE_FOCUS)                                                                             \
	_(STATUS)                                                                                  \
	_(STATUS_MODE)                                                                             \
	_(STATUS_JOB)                                                                              \
	_(PROGRESS)                                                                                \
	_(MSG_INFO)                                                                                \
	_(MSG_WARN)                                                                                \
	_(MSG_ERROR)                                                                               \
	_(SELECTED)                                                                                \
	_(DIM)                                                                                     \
	_(OK)                                                                                      \
	_(FAIL)                                                                                    \
	_(WARN)                                                                                    \
	_(KEY)                                                                                     \
	_(HEADER)                                                                                  \
	_(MATCH)                                                                                   \
	_(FN1)                                                                                     \
	_(FN2)                                                                                     \
	_(FN3)                                                                                     \
	_(FN4)                                                                                     \
	_(FN5)                                                                                     \
	_(FN6)

enum theme_role {
#define THEME_ENUM_(r) THEME_##r,
	THEME_ROLES(THEME_ENUM_)
#undef THEME_ENUM_
	    THEME_ROLE_COUNT_
};
#define THEME_FN_COLORS 6 /* THEME_FN1 .. THEME_FN6: per-function colors (logs) */

enum theme_scheme { THEME_MONO, THEME_8, THEME_256 };

#define THEME_GLYPHS(_)                                                                            \
	_(HLINE, "─", "-")                                                                         \
	_(VLINE, "│", "|")                                                                         \
	_(ULCORNER, "┌", "+")                                                                      \
	_(URCORNER, "┐", "+")                                                                      \
	_(LLCORNER, "└", "+")                                                                      \
	_(LRCORNER, "┘", "+")                                                                      \
	_(HLINE_HEAVY, "━", "=")                                                                   \
	_(VLINE_HEAVY, "┃", "#")                                                                   \
	_(ULCORNER_HEAVY, "┏", "#")                                                                \
	_(URCORNER_HEAVY, "┓", "#")                                                                \
	_(LLCORNER_HEAVY, "┗", "#")                                                                \
	_(LRCORNER_HEAVY, "┛", "#")                                                                \
	_(BAR_FULL, "█", "#")                                                                      \
	_(BAR_EMPTY, "░", ".")                                                                     \
	_(TREE_OPEN, "▾", "v")                                                                     \
	_(TREE_CLOSED, "▸", ">")                                                                   \
	_(CHECK, "✓", "+")                                                                         \
	_(CROSS, "✗", "x")                                                                         \
	_(BULLET, "●", "*")                                                                        \
	_(PLAY, "⏵", ">")                                                                        \
	_(ELLIPSIS, "…", "~")                                                                      \
	_(SEPARATOR, "│", "|")                                                                     \
	_(ARROW_UP, "↑", "^")                                                                      \
	_(ARROW_DOWN, "↓", "v")                                                                    \
	_(ARROW_RIGHT, "→", ">")

enum theme_glyph {
#define THEME_GLYPH_ENUM_(g, u, a) THEME_GLYPH_##g,
	THEME_GLYPHS(THEME_GLYPH_ENUM_)
#undef THEME_GLYPH_ENUM_
	    THEME_GLYPH_COUNT_
};

/* Picks the scheme (force_mono: NO_COLOR) and the glyph set (ascii: --ascii or non-UTF-8
 * locale), sets up color pairs. */
void theme_init(bool force_mono, bool ascii);
enum theme_scheme theme_scheme(void);
bool theme_ascii(void);
/* curses attributes (color pair + bold/reverse...) for a role; use with wattr_on/wattrset. */
attr_t theme_attr(enum theme_role role);
/* Per-function color: THEME_FN1 + (hash(name) % THEME_FN_COLORS). */
enum theme_role theme_fn_role(const char *name);
/* The glyph's text in the active set (UTF-8 or ASCII); a static string. */
const char *theme_glyph(enum theme_glyph g);
/* Display width in columns of UTF-8 text (wcwidth per character; invalid bytes count 1). */
int theme_text_width(const char *s);
/* Writes UTF-8 text at the cursor, clipped to at most max columns (never splits a
 * character); returns the columns written. */
int theme_put_clipped(WINDOW *w, const char *s, int max);

#endif
