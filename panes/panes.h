/* panes.h - the table of panes the console shows, in layout order (top-left, top-right,
 * bottom-left, bottom-right). Adding a pane = one file in panes/ + one line in panes.c. */
#ifndef LAMBDECK_PANES_PANES_H
#define LAMBDECK_PANES_PANES_H

#include <stddef.h>

#include "tui/pane.h"

extern const struct pane_ops pane_functions_ops;
extern const struct pane_ops pane_logs_ops;
extern const struct pane_ops pane_playground_ops;
extern const struct pane_ops pane_tests_ops;

#define PANES_COUNT 4
extern const struct pane_ops *const panes_table[PANES_COUNT];

#endif
