/* requests.h - every action a key can trigger, as one X-macro list per owner: the enum, the
 * name used in keymap files and the help text come from the same line (tig's request table).
 *
 * Ownership: REQ_GLOBAL and REQ_NAV belong to the tui; each pane owner edits only its own
 * keymaps/requests_<pane>.h (and keymaps/default_<pane>.keys for its default bindings).
 * A line is  _(ID, "keymap-name", "help text")  and yields the constant REQ_<ID>.
 * Names must be unique across all lists; prefix pane IDs with the pane (FUNCTIONS_BUILD).
 *
 * Panes receive requests through pane_ops.request (tui/pane.h) and return 0 for the ones they
 * do not handle. Navigation requests (REQ_NAV) are bound in the [global] scope, so every pane
 * gets the same movement keys; a pane may bind something else in its own scope. */
#ifndef LAMBDECK_KEYMAPS_REQUESTS_H
#define LAMBDECK_KEYMAPS_REQUESTS_H

#include "keymaps/requests_functions.h"
#include "keymaps/requests_logs.h"
#include "keymaps/requests_playground.h"
#include "keymaps/requests_tests.h"

/* Handled by the shell itself (tui/app.c), whatever pane has the focus. */
#define REQ_GLOBAL(_)                                                                              \
	_(QUIT, "quit", "Quit (asks first while a job is running)")                                \
	_(HELP, "help", "Show the key bindings of the focused pane")                               \
	_(FOCUS_NEXT, "focus-next", "Focus the next pane")                                         \
	_(FOCUS_PREV, "focus-prev", "Focus the previous pane")                                     \
	_(FOCUS_1, "focus-1", "Focus pane 1 (Functions)")                                          \
	_(FOCUS_2, "focus-2", "Focus pane 2 (Logs)")                                               \
	_(FOCUS_3, "focus-3", "Focus pane 3 (Playground)")                                         \
	_(FOCUS_4, "focus-4", "Focus pane 4 (Tests)")                                              \
	_(ZOOM, "zoom", "Zoom the focused pane to full screen and back")                           \
	_(REDRAW, "redraw", "Redraw the whole screen")                                             \
	_(CANCEL_JOB, "cancel-job", "Cancel the most recent running job")                          \
	_(COMMAND, "command", "Run a request by name (e.g. :zoom, :edit-keys)")                    \
	_(EDIT_KEYS, "edit-keys", "Edit your key bindings file; reloaded when the editor exits")   \
	_(MOUSE, "mouse", "Mouse on / off (off: plain drag selects text)")                         \
	_(MESSAGES, "messages", "Show the recent status bar messages whole, newest first")

/* Movement and common actions, sent to the focused pane (which may ignore them). */
#define REQ_NAV(_)                                                                                 \
	_(MOVE_UP, "move-up", "Move up one line")                                                  \
	_(MOVE_DOWN, "move-down", "Move down one line")                                            \
	_(MOVE_LEFT, "move-left", "Collapse / move left")                                          \
	_(MOVE_RIGHT, "move-right", "Expand / move right")                                         \
	_(PAGE_UP, "page-up", "Move up one page")                                                  \
	_(PAGE_DOWN, "page-down", "Move down one page")                                            \
	_(HALF_PAGE_UP, "half-page-up", "Move up half a page")                                     \
	_(HALF_PAGE_DOWN, "half-page-down", "Move down half a page")                               \
	_(MOVE_TOP, "move-top", "Go to the first line")                                            \
	_(MOVE_BOTTOM, "move-bottom", "Go to the last line")                                       \
	_(ENTER, "enter", "Open / activate the selected item")                                     \
	_(EDIT, "edit", "Open the selected item in the editor")                                    \
	_(SEARCH, "search", "Search forward")                                                      \
	_(SEARCH_NEXT, "search-next", "Next search match")                                         \
	_(SEARCH_PREV, "search-prev", "Previous search match")                                     \
	_(REFRESH, "refresh", "Reload the pane's data")                                            \
	_(BACK, "back", "Close / go back")

#define REQ_ALL(_)                                                                                 \
	REQ_GLOBAL(_)                                                                              \
	REQ_NAV(_)                                                                                 \
	REQ_FUNCTIONS(_)                                                                           \
	REQ_LOGS(_)                                                                                \
	REQ_PLAYGROUND(_)                                                                          \
	REQ_TESTS(_)

enum request {
	REQ_NONE = 0,
#define REQ_ENUM_(id, name, help) REQ_##id,
	REQ_ALL(REQ_ENUM_)
#undef REQ_ENUM_
	    REQ_COUNT_
};

/* Static strings; NULL for REQ_NONE or out-of-range values. */
const char *request_name(enum request req);
const char *request_help(enum request req);
/* Looks up a keymap name ("focus-next"); REQ_NONE when unknown. */
enum request request_from_name(const char *name);

#endif
