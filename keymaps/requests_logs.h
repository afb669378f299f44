/* requests_logs.h - requests of the Logs pane; owned by that pane's engineer.
 * Add lines as  _(LOGS_SOMETHING, "keymap-name", "help text") \  (see keymaps/requests.h)
 * and bind them in keymaps/default_logs.keys under "bind logs ...". */
#ifndef LAMBDECK_KEYMAPS_REQUESTS_LOGS_H
#define LAMBDECK_KEYMAPS_REQUESTS_LOGS_H

#define REQ_LOGS(_)

#endif
