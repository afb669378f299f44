/* Text view widget: bounded line buffer, follow mode, navigation, search, sanitising, mouse
 * click and wheel in terms of what was drawn. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tui/textview.h"

static void test_bounded(void **state)
{
	struct textview *tv = textview_new(100);

	(void)state;
	for (int i = 0; i < 1000; i++)
		textview_appendf(tv, THEME_NORMAL, i, "line %d", i);
	assert_int_equal(textview_count(tv), 100);
	assert_int_equal(textview_dropped(tv), 900);
	int64_t tag = -1;
	assert_string_equal(textview_line(tv, 0, NULL, &tag), "line 900");
	assert_int_equal(tag, 900);
	assert_string_equal(textview_line(tv, 99, NULL, NULL), "line 999");
	assert_null(textview_line(tv, 100, NULL, NULL));
	textview_clear(tv);
	assert_int_equal(textview_count(tv), 0);
	textview_free(tv);
	textview_free(NULL);
}

static void test_follow_and_navigation(void **state)
{
	struct textview *tv = textview_new(50);

	(void)state;
	textview_append(tv, "a\nb\nc\n", 6, THEME_NORMAL, 0);
	assert_int_equal(textview_count(tv), 3);
	assert_true(textview_following(tv));
	assert_int_equal(textview_cursor(tv), 2);
	/* Moving up leaves follow mode: new lines do not move the cursor. */
	assert_true(textview_request(tv, REQ_MOVE_UP, 10));
	assert_false(textview_following(tv));
	textview_append(tv, "d", 1, THEME_NORMAL, 0);
	assert_int_equal(textview_cursor(tv), 1);
	assert_true(textview_request(tv, REQ_MOVE_BOTTOM, 10));
	assert_true(textview_following(tv));
	textview_append(tv, "e", 1, THEME_NORMAL, 0);
	assert_int_equal(textview_cursor(tv), 4);
	assert_true(textview_request(tv, REQ_MOVE_TOP, 10));
	assert_int_equal(textview_cursor(tv), 0);
	assert_true(textview_request(tv, REQ_MOVE_UP, 10));
	assert_int_equal(textview_cursor(tv), 0);
	for (int i = 0; i < 40; i++)
		textview_appendf(tv, THEME_NORMAL, 0, "x%d", i);
	assert_true(textview_request(tv, REQ_PAGE_DOWN, 10));
	assert_int_equal(textview_cursor(tv), 9);
	assert_true(textview_request(tv, REQ_HALF_PAGE_DOWN, 10));
	assert_int_equal(textview_cursor(tv), 14);
	assert_true(textview_request(tv, REQ_PAGE_UP, 10));
	assert_int_equal(textview_cursor(tv), 5);
	assert_false(textview_request(tv, REQ_ZOOM, 10));
	/* Dropping old lines keeps the cursor on the same line. */
	for (int i = 0; i < 10; i++)
		textview_appendf(tv, THEME_NORMAL, 0, "y%d", i);
	assert_int_equal(textview_count(tv), 50);
	textview_set_cursor(tv, 1000);
	assert_int_equal(textview_cursor(tv), 49);
	textview_free(tv);
}

/* Filling a view from the newest line backwards: lines keep their order, the cursor stays
 * on its line (the last one in follow mode), appends still follow, nothing past the bound. */
static void test_prepend(void **state)
{
	struct textview *tv = textview_new(6);
	int64_t tag = 0;

	(void)state;
	assert_true(textview_prepend(tv, "e\r\nf\n", 5, THEME_NORMAL, 3));
	assert_int_equal(textview_count(tv), 2);
	assert_int_equal(textview_cursor(tv), 1);
	assert_true(textview_prepend(tv, "d", 1, THEME_FAIL, 2));
	assert_true(textview_prepend(tv, "b\nc", 3, THEME_NORMAL, 1));
	assert_int_equal(textview_count(tv), 5);
	assert_string_equal(textview_line(tv, 0, NULL, &tag), "b");
	assert_int_equal(tag, 1);
	assert_string_equal(textview_line(tv, 1, NULL, NULL), "c");
	enum theme_role role = THEME_NORMAL;
	assert_string_equal(textview_line(tv, 2, &role, &tag), "d");
	assert_int_equal(role, THEME_FAIL);
	assert_string_equal(textview_line(tv, 3, NULL, NULL), "e");
	assert_string_equal(textview_line(tv, 4, NULL, NULL), "f");
	assert_int_equal(textview_cursor(tv), 4);
	assert_true(textview_following(tv));
	/* two lines do not fit in the one free slot: nothing is inserted */
	assert_false(textview_prepend(tv, "x\ny", 3, THEME_NORMAL, 0));
	assert_int_equal(textview_count(tv), 5);
	assert_true(textview_prepend(tv, "", 0, THEME_NORMAL, 0));
	assert_string_equal(textview_line(tv, 0, NULL, NULL), "");
	assert_false(textview_prepend(tv, "z", 1, THEME_NORMAL, 0));
	textview_append(tv, "g", 1, THEME_NORMAL, 4);
	assert_string_equal(textview_line(tv, 5, NULL, NULL), "g");
	assert_int_equal(textview_cursor(tv), 5);
	/* away from follow mode the cursor stays on its line */
	textview_clear(tv);
	textview_append(tv, "m", 1, THEME_NORMAL, 0);
	textview_append(tv, "n", 1, THEME_NORMAL, 0);
	assert_true(textview_request(tv, REQ_MOVE_UP, 10));
	assert_true(textview_prepend(tv, "l", 1, THEME_NORMAL, 0));
	assert_string_equal(textview_line(tv, textview_cursor(tv), NULL, NULL), "m");
	textview_free(tv);
}

static void test_search(void **state)
{
	struct textview *tv = textview_new(10);

	(void)state;
	textview_append(tv, "alpha\nbeta\ngamma\nbeta two\n", 26, THEME_NORMAL, 0);
	textview_set_cursor(tv, 0);
	assert_true(textview_search(tv, "beta"));
	assert_int_equal(textview_cursor(tv), 1);
	textview_request(tv, REQ_SEARCH_NEXT, 5);
	assert_int_equal(textview_cursor(tv), 3);
	textview_request(tv, REQ_SEARCH_NEXT, 5); /* wraps */
	assert_int_equal(textview_cursor(tv), 1);
	textview_request(tv, REQ_SEARCH_PREV, 5);
	assert_int_equal(textview_cursor(tv), 3);
	assert_false(textview_search(tv, "zeta"));
	assert_false(textview_search(tv, NULL));
	textview_free(tv);
}

static void test_sanitised(void **state)
{
	struct textview *tv = textview_new(10);
	const char evil[] = "red \x1b[31mX\x1b[0m\tend\r\nnul\0byte\nbad \xff utf8";

	(void)state;
	textview_append(tv, evil, sizeof(evil) - 1, THEME_FAIL, 0);
	assert_int_equal(textview_count(tv), 3);
	for (size_t i = 0; i < textview_count(tv); i++) {
		const char *l = textview_line(tv, i, NULL, NULL);

		for (const char *p = l; *p; p++)
			assert_true((unsigned char)*p >= 0x20 && *p != 0x7f);
	}
	enum theme_role role;
	assert_string_equal(textview_line(tv, 0, &role, NULL), "red ^[[31mX^[[0m        end");
	assert_int_equal(role, THEME_FAIL);
	assert_string_equal(textview_line(tv, 1, NULL, NULL), "nul^@byte");
	assert_non_null(strstr(textview_line(tv, 2, NULL, NULL), "\xef\xbf\xbd"));
	/* Empty text is one empty line; a huge line is cut, not kept whole. */
	textview_append(tv, "", 0, THEME_NORMAL, 0);
	assert_string_equal(textview_line(tv, 3, NULL, NULL), "");
	size_t big = 100000;
	char *huge = malloc(big);
	memset(huge, 'h', big);
	textview_append(tv, huge, big, THEME_NORMAL, 0);
	assert_true(strlen(textview_line(tv, 4, NULL, NULL)) < 9000);
	free(huge);
	textview_free(tv);
}

/* Click and wheel refer to the last draw: a curses screen on /dev/null to draw into. */
static void test_mouse(void **state)
{
	FILE *out = fopen("/dev/null", "w"), *in = fopen("/dev/null", "r");
	SCREEN *scr = newterm("dumb", out, in);
	WINDOW *w;
	struct textview *tv = textview_new(1000);

	(void)state;
	assert_non_null(scr);
	w = newwin(10, 40, 0, 0);
	assert_false(textview_click(tv, 0)); /* nothing drawn yet */
	for (int i = 0; i < 100; i++)
		textview_appendf(tv, THEME_NORMAL, i, "line %d", i);
	textview_draw(tv, w, 0, 0, 10, 40, true); /* follow: lines 90..99 shown */
	assert_true(textview_following(tv));
	assert_true(textview_click(tv, 0));
	assert_int_equal(textview_cursor(tv), 90);
	assert_false(textview_following(tv));
	assert_false(textview_click(tv, 10)); /* below the view */
	assert_false(textview_click(tv, -1));
	assert_int_equal(textview_cursor(tv), 90);
	assert_true(textview_click(tv, 9));
	assert_true(textview_following(tv));

	textview_scroll(tv, -3); /* view 87..96: the cursor (99) comes along to 96 */
	assert_int_equal(textview_cursor(tv), 96);
	assert_false(textview_following(tv));
	textview_draw(tv, w, 0, 0, 10, 40, true);
	assert_true(textview_click(tv, 0));
	assert_int_equal(textview_cursor(tv), 87);
	textview_scroll(tv, -1000); /* clamped at the top; the cursor is dragged into view */
	assert_int_equal(textview_cursor(tv), 9);
	textview_draw(tv, w, 0, 0, 10, 40, true);
	assert_true(textview_click(tv, 0));
	assert_int_equal(textview_cursor(tv), 0);
	textview_scroll(tv, 1000); /* clamped at the end: view 90..99 */
	assert_int_equal(textview_cursor(tv), 90);
	textview_draw(tv, w, 0, 0, 10, 40, true);
	assert_true(textview_click(tv, 9));
	assert_true(textview_following(tv));
	textview_appendf(tv, THEME_NORMAL, 100, "line 100"); /* following again */
	assert_int_equal(textview_cursor(tv), 100);

	/* Fewer lines than rows: nothing to scroll; rows past the text are not lines. */
	textview_clear(tv);
	textview_appendf(tv, THEME_NORMAL, 0, "a\nb\nc");
	textview_draw(tv, w, 0, 0, 10, 40, true);
	textview_scroll(tv, 3);
	assert_int_equal(textview_cursor(tv), 2);
	assert_false(textview_click(tv, 3));
	assert_true(textview_click(tv, 1));
	assert_int_equal(textview_cursor(tv), 1);

	textview_free(tv);
	delwin(w);
	endwin();
	delscreen(scr);
	fclose(out);
	fclose(in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bounded),   cmocka_unit_test(test_follow_and_navigation),
	    cmocka_unit_test(test_prepend),   cmocka_unit_test(test_search),
	    cmocka_unit_test(test_sanitised), cmocka_unit_test(test_mouse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
