/* Layout math for many sizes: panes tile the screen above the status line exactly (every
 * cell covered once), sizes are balanced, the minimum is enforced, zoom fills the body. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tui/layout.h"

static void check_tiling(int rows, int cols, int zoomed)
{
	struct layout l;
	unsigned char *cover = calloc((size_t)rows * (size_t)cols, 1);

	layout_compute(rows, cols, zoomed, &l);
	assert_false(l.too_small);
	assert_int_equal(l.status.y, rows - 1);
	assert_int_equal(l.status.h, 1);
	assert_int_equal(l.status.w, cols);
	for (int i = 0; i < LAYOUT_PANES; i++) {
		const struct layout_rect *r = &l.pane[i];

		if (zoomed >= 0 && i != zoomed) {
			assert_int_equal(r->h, 0);
			continue;
		}
		/* Room for a border and at least 8 lines x 30 columns of content. */
		assert_true(r->h - 2 >= 8);
		assert_true(r->w - 2 >= 30);
		assert_true(r->y >= 0 && r->x >= 0);
		assert_true(r->y + r->h <= rows - 1);
		assert_true(r->x + r->w <= cols);
		for (int y = r->y; y < r->y + r->h; y++)
			for (int x = r->x; x < r->x + r->w; x++)
				cover[y * cols + x]++;
	}
	for (int y = 0; y < rows - 1; y++)
		for (int x = 0; x < cols; x++)
			assert_int_equal(cover[y * cols + x], 1);
	if (zoomed < 0) {
		/* Balanced: halves differ by at most one line/column. */
		assert_true(abs(l.pane[0].h - l.pane[2].h) <= 1);
		assert_true(abs(l.pane[0].w - l.pane[1].w) <= 1);
		assert_int_equal(l.pane[0].h, l.pane[1].h);
		assert_int_equal(l.pane[0].w, l.pane[2].w);
	} else {
		assert_int_equal(l.pane[zoomed].h, rows - 1);
		assert_int_equal(l.pane[zoomed].w, cols);
	}
	free(cover);
}

static void test_many_sizes(void **state)
{
	(void)state;
	for (int rows = 24; rows <= 90; rows++)
		for (int cols = 80; cols <= 260; cols += (cols < 90 ? 1 : 7))
			for (int z = -1; z < LAYOUT_PANES; z++)
				check_tiling(rows, cols, z);
	check_tiling(500, 1000, -1);
}

static void test_minimum(void **state)
{
	struct layout l;
	const int small[][2] = {{23, 80}, {24, 79}, {20, 60}, {0, 0}, {1, 1}, {-5, 100}, {24, -1}};

	(void)state;
	for (size_t i = 0; i < sizeof(small) / sizeof(small[0]); i++) {
		layout_compute(small[i][0], small[i][1], -1, &l);
		assert_true(l.too_small);
		for (int p = 0; p < LAYOUT_PANES; p++)
			assert_int_equal(l.pane[p].h, 0);
		assert_int_equal(l.status.h, 0);
	}
	layout_compute(24, 80, -1, &l);
	assert_false(l.too_small);
	assert_int_equal(l.pane[0].h, 11);
	assert_int_equal(l.pane[2].h, 12);
	assert_int_equal(l.pane[0].w, 40);
	assert_int_equal(l.pane[1].x, 40);
	/* A zoom index out of range means no zoom. */
	layout_compute(40, 120, 7, &l);
	assert_int_equal(l.pane[3].h, 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_many_sizes),
	    cmocka_unit_test(test_minimum),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
