/* layout.h - screen geometry: where the four panes and the status bar go for a terminal
 * size, with zoom. Pure arithmetic (no curses) so it can be tested for many sizes. */
#ifndef LAMBDECK_TUI_LAYOUT_H
#define LAMBDECK_TUI_LAYOUT_H

#include <stdbool.h>

#define LAYOUT_MIN_COLS 80
#define LAYOUT_MIN_ROWS 24
#define LAYOUT_PANES    4

/* A rectangle including the pane's border; h == 0 means not shown. */
struct layout_rect {
	int y, x, h, w;
};

struct layout {
	bool too_small;                        /* below 80x24: show only the message */
	struct layout_rect pane[LAYOUT_PANES]; /* 0 top-left, 1 top-right, 2 bottom-left, 3 ... */
	struct layout_rect status;             /* the last line */
};

/* zoomed: index of the zoomed pane, or -1. Panes tile rows-1 lines exactly, without
 * overlap; left column and top row get the smaller half on odd sizes. */
void layout_compute(int rows, int cols, int zoomed, struct layout *out);

#endif
