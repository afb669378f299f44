/* requests_tests.h - requests of the Tests pane; owned by that pane's engineer.
 * Add lines as  _(TESTS_SOMETHING, "keymap-name", "help text") \  (see keymaps/requests.h)
 * and bind them in keymaps/default_tests.keys under "bind tests ...". */
#ifndef LAMBDECK_KEYMAPS_REQUESTS_TESTS_H
#define LAMBDECK_KEYMAPS_REQUESTS_TESTS_H

#define REQ_TESTS(_)

#endif
