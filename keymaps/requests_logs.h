/* requests_logs.h - requests of the Logs pane; owned by that pane's engineer.
 * Add lines as  _(LOGS_SOMETHING, "keymap-name", "help text") \  (see keymaps/requests.h)
 * and bind them in keymaps/default_logs.keys under "bind logs ...". */
#ifndef LAMBDECK_KEYMAPS_REQUESTS_LOGS_H
#define LAMBDECK_KEYMAPS_REQUESTS_LOGS_H

#define REQ_LOGS(_)                                                                                \
	_(LOGS_PAUSE, "logs-pause", "Pause / resume following (counts new lines while paused)")    \
	_(LOGS_FILTER, "logs-filter", "Local filter: substring, or /regex/ (empty clears)")        \
	_(LOGS_PATTERN, "logs-pattern",                                                            \
	  "Server-side CloudWatch filter pattern (restarts the tail)")                             \
	_(LOGS_SINCE, "logs-since", "Show history from a time ago (10m, 2h, ISO time)")            \
	_(LOGS_CLEAR, "logs-clear", "Clear the pane")                                              \
	_(LOGS_UTC, "logs-utc", "Toggle local time / UTC")                                         \
	_(LOGS_JSON, "logs-json", "Toggle compact / pretty JSON lines")                            \
	_(LOGS_SOURCES, "logs-sources", "Tail all functions / only the selected function")         \
	_(LOGS_FOLD, "logs-fold", "Show / fold START and END lines")

#endif
