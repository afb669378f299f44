/* functions.c - the Functions pane. Until its issue lands it shows a one-line empty state saying
 * what will appear here; its owner replaces this file (keep the name pane_functions_ops). */
#include "tui/app.h"

static int functions_init(struct pane *p, struct lk_error *err)
{
	(void)p;
	(void)err;
	return 0;
}

static void functions_destroy(struct pane *p)
{
	(void)p;
}

static void functions_draw(struct pane *p)
{
	wattrset(p->win, theme_attr(THEME_DIM));
	wmove(p->win, 0, 1);
	theme_put_clipped(p->win, "Project functions will appear here.", p->cols - 2);
	wattrset(p->win, theme_attr(THEME_NORMAL));
}

static int functions_request(struct pane *p, enum request req)
{
	(void)p;
	(void)req;
	return PANE_UNHANDLED;
}

const struct pane_ops pane_functions_ops = {
    .name = "functions",
    .title = "Functions",
    .init = functions_init,
    .destroy = functions_destroy,
    .draw = functions_draw,
    .request = functions_request,
};
