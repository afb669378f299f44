/* requests_playground.h - requests of the Playground pane; owned by that pane's engineer.
 * Add lines as  _(PLAYGROUND_SOMETHING, "keymap-name", "help text") \  (see keymaps/requests.h)
 * and bind them in keymaps/default_playground.keys under "bind playground ...". */
#ifndef LAMBDECK_KEYMAPS_REQUESTS_PLAYGROUND_H
#define LAMBDECK_KEYMAPS_REQUESTS_PLAYGROUND_H

#define REQ_PLAYGROUND(_)

#endif
