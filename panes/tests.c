/* tests.c - the Tests pane. Until its issue lands it shows a one-line empty state saying
 * what will appear here; its owner replaces this file (keep the name pane_tests_ops). */
#include "tui/app.h"

static int tests_init(struct pane *p, struct lk_error *err)
{
	(void)p;
	(void)err;
	return 0;
}

static void tests_destroy(struct pane *p)
{
	(void)p;
}

static void tests_draw(struct pane *p)
{
	wattrset(p->win, theme_attr(THEME_DIM));
	wmove(p->win, 0, 1);
	theme_put_clipped(p->win, "Test results will appear here.", p->cols - 2);
	wattrset(p->win, theme_attr(THEME_NORMAL));
}

static int tests_request(struct pane *p, enum request req)
{
	(void)p;
	(void)req;
	return PANE_UNHANDLED;
}

const struct pane_ops pane_tests_ops = {
    .name = "tests",
    .title = "Tests",
    .init = tests_init,
    .destroy = tests_destroy,
    .draw = tests_draw,
    .request = tests_request,
};
