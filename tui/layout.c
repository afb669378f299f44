/* layout.c - 2x2 tiling with a status line (see layout.h). */
#include <string.h>

#include "tui/layout.h"

void layout_compute(int rows, int cols, int zoomed, struct layout *out)
{
	int body, top, left;

	memset(out, 0, sizeof(*out));
	if (rows < LAYOUT_MIN_ROWS || cols < LAYOUT_MIN_COLS) {
		out->too_small = true;
		return;
	}
	body = rows - 1;
	out->status = (struct layout_rect){.y = rows - 1, .x = 0, .h = 1, .w = cols};
	if (zoomed >= 0 && zoomed < LAYOUT_PANES) {
		out->pane[zoomed] = (struct layout_rect){.y = 0, .x = 0, .h = body, .w = cols};
		return;
	}
	top = body / 2;
	left = cols / 2;
	out->pane[0] = (struct layout_rect){.y = 0, .x = 0, .h = top, .w = left};
	out->pane[1] = (struct layout_rect){.y = 0, .x = left, .h = top, .w = cols - left};
	out->pane[2] = (struct layout_rect){.y = top, .x = 0, .h = body - top, .w = left};
	out->pane[3] = (struct layout_rect){.y = top, .x = left, .h = body - top, .w = cols - left};
}
