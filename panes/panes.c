/* panes.c - the panes of the console, in layout order. One line per pane. */
#include "panes/panes.h"

const struct pane_ops *const panes_table[PANES_COUNT] = {
    &pane_functions_ops,
    &pane_logs_ops,
    &pane_playground_ops,
    &pane_tests_ops,
};
