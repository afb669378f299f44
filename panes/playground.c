/* playground.c - the Playground pane. Until its issue lands it shows a one-line empty state saying
 * what will appear here; its owner replaces this file (keep the name pane_playground_ops). */
#include "tui/app.h"

static int playground_init(struct pane *p, struct lk_error *err)
{
	(void)p;
	(void)err;
	return 0;
}

static void playground_destroy(struct pane *p)
{
	(void)p;
}

static void playground_draw(struct pane *p)
{
	wattrset(p->win, theme_attr(THEME_DIM));
	wmove(p->win, 0, 1);
	theme_put_clipped(p->win, "Events to invoke will appear here.", p->cols - 2);
	wattrset(p->win, theme_attr(THEME_NORMAL));
}

static int playground_request(struct pane *p, enum request req)
{
	(void)p;
	(void)req;
	return PANE_UNHANDLED;
}

const struct pane_ops pane_playground_ops = {
    .name = "playground",
    .title = "Playground",
    .init = playground_init,
    .destroy = playground_destroy,
    .draw = playground_draw,
    .request = playground_request,
};
