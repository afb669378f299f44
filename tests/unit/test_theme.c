/* Theme: glyph sets (UTF-8 / ASCII), color scheme selection with NO_COLOR, display width and
 * clipping of UTF-8 text (wide characters never split, control bytes never written). Uses a
 * real curses screen on /dev/null. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <locale.h>
#include <string.h>

#include <cmocka.h>

#include "tui/theme.h"

static SCREEN *scr;
static FILE *out, *in;

static int setup(void **state)
{
	(void)state;
	if (!setlocale(LC_ALL, "C.UTF-8"))
		return -1;
	out = fopen("/dev/null", "w");
	in = fopen("/dev/null", "r");
	scr = newterm("xterm-256color", out, in);
	return scr ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	endwin();
	delscreen(scr);
	fclose(out);
	fclose(in);
	return 0;
}

/* Text of row 0 of w, as UTF-8, trailing blanks removed. */
static void row_text(WINDOW *w, char *buf, size_t len)
{
	wchar_t wbuf[256];

	memset(wbuf, 0, sizeof(wbuf));
	mvwinnwstr(w, 0, 0, wbuf, 255);
	wcstombs(buf, wbuf, len);
	for (size_t n = strlen(buf); n > 0 && buf[n - 1] == ' '; n--)
		buf[n - 1] = '\0';
}

static void test_glyphs_and_scheme(void **state)
{
	(void)state;
	theme_init(true, false);
	assert_int_equal(theme_scheme(), THEME_MONO);
	assert_false(theme_ascii());
	assert_string_equal(theme_glyph(THEME_GLYPH_VLINE), "│");
	assert_int_equal(theme_attr(THEME_NORMAL), 0);
	assert_int_equal(theme_attr(THEME_SELECTED) & A_COLOR, 0);
	theme_init(false, true);
	assert_true(theme_ascii());
	assert_string_equal(theme_glyph(THEME_GLYPH_VLINE), "|");
	assert_string_equal(theme_glyph(THEME_GLYPH_COUNT_), "?");
	assert_int_equal(theme_scheme(), THEME_256);
	assert_true((theme_attr(THEME_SELECTED) & A_COLOR) != 0);
	/* Every glyph has an ASCII form of one column. */
	for (int g = 0; g < THEME_GLYPH_COUNT_; g++) {
		assert_int_equal(strlen(theme_glyph((enum theme_glyph)g)), 1);
		assert_true((unsigned char)theme_glyph((enum theme_glyph)g)[0] < 0x80);
	}
	/* Per-function colors are stable and in range. */
	assert_int_equal(theme_fn_role("Orders"), theme_fn_role("Orders"));
	for (const char *n = "abcdefghij"; *n; n++) {
		char name[2] = {*n, 0};
		enum theme_role r = theme_fn_role(name);

		assert_true(r >= THEME_FN1 && r < THEME_FN1 + THEME_FN_COLORS);
	}
	assert_true(theme_fn_role(NULL) >= THEME_FN1);
}

static void test_width_and_clip(void **state)
{
	WINDOW *w = newwin(1, 40, 0, 0);
	char buf[512];

	(void)state;
	theme_init(false, false);
	assert_int_equal(theme_text_width("abc"), 3);
	assert_int_equal(theme_text_width("日本語"), 6);
	assert_int_equal(theme_text_width("─│"), 2);
	assert_int_equal(theme_text_width("\xff\xfe"), 2);
	assert_int_equal(theme_text_width(""), 0);
	assert_int_equal(theme_text_width(NULL), 0);

	/* A wide character that does not fit is left out, not split. */
	werase(w);
	wmove(w, 0, 0);
	assert_int_equal(theme_put_clipped(w, "ab日本", 5), 4);
	row_text(w, buf, sizeof(buf));
	assert_string_equal(buf, "ab日");
	/* Control bytes and invalid UTF-8 are written as '?', never raw. */
	werase(w);
	wmove(w, 0, 0);
	assert_int_equal(theme_put_clipped(w, "a\x1b[31mb\xff", 40), 8);
	row_text(w, buf, sizeof(buf));
	assert_string_equal(buf, "a?[31mb?");
	werase(w);
	wmove(w, 0, 0);
	assert_int_equal(theme_put_clipped(w, "anything", 0), 0);
	assert_int_equal(theme_put_clipped(w, NULL, 10), 0);
	delwin(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_glyphs_and_scheme),
	    cmocka_unit_test(test_width_and_clip),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
