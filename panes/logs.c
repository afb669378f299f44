/* logs.c - the Logs pane. Until its issue lands it shows a one-line empty state saying
 * what will appear here; its owner replaces this file (keep the name pane_logs_ops). */
#include "tui/app.h"

static int logs_init(struct pane *p, struct lk_error *err)
{
	(void)p;
	(void)err;
	return 0;
}

static void logs_destroy(struct pane *p)
{
	(void)p;
}

static void logs_draw(struct pane *p)
{
	wattrset(p->win, theme_attr(THEME_DIM));
	wmove(p->win, 0, 1);
	theme_put_clipped(p->win, "Live function logs will appear here.", p->cols - 2);
	wattrset(p->win, theme_attr(THEME_NORMAL));
}

static int logs_request(struct pane *p, enum request req)
{
	(void)p;
	(void)req;
	return PANE_UNHANDLED;
}

const struct pane_ops pane_logs_ops = {
    .name = "logs",
    .title = "Logs",
    .init = logs_init,
    .destroy = logs_destroy,
    .draw = logs_draw,
    .request = logs_request,
};
