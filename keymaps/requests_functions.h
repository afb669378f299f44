/* requests_functions.h - requests of the Functions pane; owned by that pane's engineer.
 * Add lines as  _(FUNCTIONS_SOMETHING, "keymap-name", "help text") \  (see keymaps/requests.h)
 * and bind them in keymaps/default_functions.keys under "bind functions ...". */
#ifndef LAMBDECK_KEYMAPS_REQUESTS_FUNCTIONS_H
#define LAMBDECK_KEYMAPS_REQUESTS_FUNCTIONS_H

#define REQ_FUNCTIONS(_)                                                                           \
	_(FUNCTIONS_TOGGLE, "functions-toggle", "Expand or collapse the selected node")            \
	_(FUNCTIONS_EXPAND_ALL, "functions-expand-all", "Expand every function")                   \
	_(FUNCTIONS_COLLAPSE_ALL, "functions-collapse-all", "Collapse the whole tree")             \
	_(FUNCTIONS_FILTER, "functions-filter", "Filter the tree as you type (Esc clears)")        \
	_(FUNCTIONS_OPEN_CONFIG, "functions-open-config",                                          \
	  "Open the function's definition in lambdeck.json / template / serverless.yml")           \
	_(FUNCTIONS_BUILD, "functions-build", "Quick-build the selected function")                 \
	_(FUNCTIONS_BUILD_ALL, "functions-build-all", "Quick-build every buildable function")      \
	_(FUNCTIONS_DEPLOY, "functions-deploy",                                                    \
	  "Quick deploy of the selected function (build, skip if unchanged, update code)")         \
	_(FUNCTIONS_DEPLOY_FULL, "functions-deploy-full",                                          \
	  "Full deploy with the project's IaC tool (sam / serverless / lambdeck.json deploy)")     \
	_(FUNCTIONS_WATCH, "functions-watch",                                                      \
	  "Watch on/off: every saved file builds and deploys its function")                        \
	_(FUNCTIONS_SKIP_DEPS, "functions-skip-deps",                                              \
	  "Dependencies on/off: builds skip pip/npm and use what was installed (--skip-deps)")

#endif
