/* theme.c - color and glyph tables (see theme.h). */
#include <langinfo.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <wchar.h>

#include "tui/theme.h"

/* One row per role: foreground/background/attributes per scheme (-1 = terminal default). */
struct theme_color {
	short fg256, bg256;
	attr_t attr256;
	short fg8, bg8;
	attr_t attr8;
	attr_t mono;
};

static const struct theme_color theme_colors[THEME_ROLE_COUNT_] = {
    [THEME_NORMAL] = {-1, -1, 0, -1, -1, 0, 0},
    [THEME_BORDER] = {240, -1, 0, COLOR_WHITE, -1, A_DIM, 0},
    [THEME_BORDER_FOCUS] = {39, -1, A_BOLD, COLOR_CYAN, -1, A_BOLD, A_BOLD},
    [THEME_TITLE] = {250, -1, 0, COLOR_WHITE, -1, 0, 0},
    [THEME_TITLE_FOCUS] = {16, 39, A_BOLD, COLOR_BLACK, COLOR_CYAN, A_BOLD, A_REVERSE | A_BOLD},
    [THEME_STATUS] = {252, 236, 0, COLOR_WHITE, COLOR_BLUE, 0, A_REVERSE},
    [THEME_STATUS_MODE] = {16, 114, A_BOLD, COLOR_BLACK, COLOR_GREEN, A_BOLD, A_BOLD},
    [THEME_STATUS_JOB] = {229, 236, 0, COLOR_YELLOW, COLOR_BLUE, A_BOLD, A_REVERSE},
    [THEME_PROGRESS] = {114, 236, 0, COLOR_GREEN, COLOR_BLUE, A_BOLD, A_REVERSE},
    [THEME_MSG_INFO] = {252, 236, 0, COLOR_WHITE, COLOR_BLUE, 0, A_REVERSE},
    [THEME_MSG_WARN] = {214, 236, A_BOLD, COLOR_YELLOW, COLOR_BLUE, A_BOLD, A_REVERSE | A_BOLD},
    [THEME_MSG_ERROR] = {231, 160, A_BOLD, COLOR_WHITE, COLOR_RED, A_BOLD, A_REVERSE | A_BOLD},
    [THEME_SELECTED] = {231, 24, 0, COLOR_BLACK, COLOR_CYAN, 0, A_REVERSE},
    [THEME_DIM] = {244, -1, 0, COLOR_WHITE, -1, A_DIM, A_DIM},
    [THEME_OK] = {114, -1, 0, COLOR_GREEN, -1, 0, 0},
    [THEME_FAIL] = {203, -1, A_BOLD, COLOR_RED, -1, A_BOLD, A_BOLD},
    [THEME_WARN] = {214, -1, 0, COLOR_YELLOW, -1, 0, A_BOLD},
    [THEME_KEY] = {81, -1, A_BOLD, COLOR_CYAN, -1, A_BOLD, A_BOLD},
    [THEME_HEADER] = {231, -1, A_BOLD, COLOR_WHITE, -1, A_BOLD, A_BOLD | A_UNDERLINE},
    [THEME_MATCH] = {16, 220, 0, COLOR_BLACK, COLOR_YELLOW, 0, A_REVERSE},
    [THEME_FN1] = {81, -1, 0, COLOR_CYAN, -1, 0, 0},
    [THEME_FN2] = {177, -1, 0, COLOR_MAGENTA, -1, 0, 0},
    [THEME_FN3] = {114, -1, 0, COLOR_GREEN, -1, 0, 0},
    [THEME_FN4] = {221, -1, 0, COLOR_YELLOW, -1, 0, 0},
    [THEME_FN5] = {75, -1, 0, COLOR_BLUE, -1, A_BOLD, 0},
    [THEME_FN6] = {210, -1, 0, COLOR_RED, -1, 0, 0},
};

static const struct {
	const char *utf8;
	const char *ascii;
} theme_glyphs[THEME_GLYPH_COUNT_] = {
#define THEME_GLYPH_ROW_(g, u, a) [THEME_GLYPH_##g] = {u, a},
    THEME_GLYPHS(THEME_GLYPH_ROW_)
#undef THEME_GLYPH_ROW_
};

static enum theme_scheme active_scheme = THEME_MONO;
static bool active_ascii = true;
static attr_t role_attr[THEME_ROLE_COUNT_];

void theme_init(bool force_mono, bool ascii)
{
	const char *codeset = nl_langinfo(CODESET);

	active_ascii = ascii || !codeset || strcasecmp(codeset, "UTF-8") != 0;
	active_scheme = THEME_MONO;
	if (!force_mono && has_colors() && start_color() == OK) {
		use_default_colors();
		active_scheme = COLORS >= 256 && COLOR_PAIRS > THEME_ROLE_COUNT_ ? THEME_256
		                : COLORS >= 8 && COLOR_PAIRS > THEME_ROLE_COUNT_ ? THEME_8
		                                                                 : THEME_MONO;
	}
	for (int r = 0; r < THEME_ROLE_COUNT_; r++) {
		const struct theme_color *c = &theme_colors[r];

		switch (active_scheme) {
		case THEME_256:
			init_pair((short)(r + 1), c->fg256, c->bg256);
			role_attr[r] = COLOR_PAIR(r + 1) | c->attr256;
			break;
		case THEME_8:
			init_pair((short)(r + 1), c->fg8, c->bg8);
			role_attr[r] = COLOR_PAIR(r + 1) | c->attr8;
			break;
		case THEME_MONO:
			role_attr[r] = c->mono;
			break;
		}
	}
}

enum theme_scheme theme_scheme(void)
{
	return active_scheme;
}

bool theme_ascii(void)
{
	return active_ascii;
}

attr_t theme_attr(enum theme_role role)
{
	if ((int)role < 0 || role >= THEME_ROLE_COUNT_)
		return 0;
	return role_attr[role];
}

enum theme_role theme_fn_role(const char *name)
{
	unsigned h = 5381;

	for (const char *p = name ? name : ""; *p; p++)
		h = h * 33 + (unsigned char)*p;
	return (enum theme_role)(THEME_FN1 + (int)(h % THEME_FN_COLORS));
}

const char *theme_glyph(enum theme_glyph g)
{
	if ((int)g < 0 || g >= THEME_GLYPH_COUNT_)
		return "?";
	return active_ascii ? theme_glyphs[g].ascii : theme_glyphs[g].utf8;
}

/* Decodes one character; returns bytes used (>= 1) and its column width (invalid = 1). */
static size_t next_char(const char *s, int *width)
{
	mbstate_t st;
	wchar_t wc;
	size_t n;

	memset(&st, 0, sizeof(st));
	n = mbrtowc(&wc, s, MB_CUR_MAX, &st);
	if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
		*width = 1;
		return 1;
	}
	*width = wcwidth(wc);
	if (*width < 0)
		*width = 1;
	return n;
}

int theme_text_width(const char *s)
{
	int total = 0;

	while (s && *s) {
		int w;

		s += next_char(s, &w);
		total += w;
	}
	return total;
}

int theme_put_clipped(WINDOW *w, const char *s, int max)
{
	int used = 0;

	while (s && *s && used < max) {
		int cw;
		size_t n = next_char(s, &cw);

		if (used + cw > max)
			break;
		if (n == 1 && ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f))
			waddch(w, '?'); /* never hand control or stray bytes to the terminal */
		else
			waddnstr(w, s, (int)n);
		used += cw;
		s += n;
	}
	return used;
}
