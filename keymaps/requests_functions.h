/* requests_functions.h - requests of the Functions pane; owned by that pane's engineer.
 * Add lines as  _(FUNCTIONS_SOMETHING, "keymap-name", "help text") \  (see keymaps/requests.h)
 * and bind them in keymaps/default_functions.keys under "bind functions ...". */
#ifndef LAMBDECK_KEYMAPS_REQUESTS_FUNCTIONS_H
#define LAMBDECK_KEYMAPS_REQUESTS_FUNCTIONS_H

#define REQ_FUNCTIONS(_)

#endif
