/* functions.h - what other panes and modules may tell the Functions pane: status badges shown
 * at the right of a function's row (modified since build, deployed, last invocation result).
 * Find the pane with app_pane(app, "functions"); all calls are on the loop thread. */
#ifndef LAMBDECK_PANES_FUNCTIONS_H
#define LAMBDECK_PANES_FUNCTIONS_H

#include "tui/pane.h"
#include "tui/theme.h"

enum functions_badge {
	FUNCTIONS_BADGE_BUILD,  /* e.g. "●" modified since the last build */
	FUNCTIONS_BADGE_DEPLOY, /* e.g. "↑" deployed / deploying */
	FUNCTIONS_BADGE_INVOKE, /* e.g. "✓" / "✗" last invocation */
	FUNCTIONS_BADGE_COUNT_
};

/* Sets (text non-NULL, copied; a few columns at most) or clears (text NULL) one badge of the
 * function named name (logical name). Marks the pane dirty. p may be NULL (no-op). */
void pane_functions_set_badge(struct pane *p, const char *function, enum functions_badge slot,
                              const char *text, enum theme_role role);

#endif
