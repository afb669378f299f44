/* requests_tests.h - requests of the Tests pane; owned by that pane's engineer.
 * Add lines as  _(TESTS_SOMETHING, "keymap-name", "help text") \  (see keymaps/requests.h)
 * and bind them in keymaps/default_tests.keys under "bind tests ...". */
#ifndef LAMBDECK_KEYMAPS_REQUESTS_TESTS_H
#define LAMBDECK_KEYMAPS_REQUESTS_TESTS_H

#define REQ_TESTS(_)                                                                               \
	_(TESTS_RUN, "tests-run", "Run the tests now (queues one re-run while running)")           \
	_(TESTS_WATCH, "tests-watch", "Toggle re-run on save")                                     \
	_(TESTS_CANCEL, "tests-cancel", "Cancel the running tests (SIGTERM, SIGKILL after 5 s)")   \
	_(TESTS_NEXT_FAILURE, "tests-next-failure", "Go to the next failure")                      \
	_(TESTS_PREV_FAILURE, "tests-prev-failure", "Go to the previous failure")                  \
	_(TESTS_OUTPUT, "tests-output", "Jump to the output / back to the failures")               \
	_(TESTS_HISTORY, "tests-history", "Show the last runs (Enter shows one)")

#endif
