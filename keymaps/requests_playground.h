/* requests_playground.h - requests of the Playground pane; owned by that pane's engineer.
 * Add lines as  _(PLAYGROUND_SOMETHING, "keymap-name", "help text") \  (see keymaps/requests.h)
 * and bind them in keymaps/default_playground.keys under "bind playground ...". */
#ifndef LAMBDECK_KEYMAPS_REQUESTS_PLAYGROUND_H
#define LAMBDECK_KEYMAPS_REQUESTS_PLAYGROUND_H

#define REQ_PLAYGROUND(_)                                                                          \
	_(PLAYGROUND_SEND, "playground-send", "Invoke the function with the selected event")       \
	_(PLAYGROUND_NEW, "playground-new", "New event (from the selected template, or empty)")    \
	_(PLAYGROUND_RENAME, "playground-rename", "Rename the selected event")                     \
	_(PLAYGROUND_DUPLICATE, "playground-duplicate", "Duplicate the selected event")            \
	_(PLAYGROUND_DELETE, "playground-delete", "Delete the selected event (asks first)")        \
	_(PLAYGROUND_HISTORY, "playground-history", "Switch between events and history")           \
	_(PLAYGROUND_REPLAY, "playground-replay", "Replay the selected (or last) invocation")      \
	_(PLAYGROUND_DIFF, "playground-diff",                                                      \
	  "Diff the response against the previous response to the same event")                     \
	_(PLAYGROUND_FILTER, "playground-filter", "History: all functions / selected function")    \
	_(PLAYGROUND_SNAPSHOT, "playground-snapshot",                                              \
	  "Save the last invocation as a snapshot test")                                           \
	_(PLAYGROUND_TYPE, "playground-type", "Toggle invocation type RequestResponse / Event")    \
	_(PLAYGROUND_QUALIFIER, "playground-qualifier", "Set the qualifier (version or alias)")    \
	_(PLAYGROUND_SCROLL_UP, "playground-scroll-up", "Scroll the response up")                  \
	_(PLAYGROUND_SCROLL_DOWN, "playground-scroll-down", "Scroll the response down")

#endif
