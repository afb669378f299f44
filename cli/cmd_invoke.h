/* cmd_invoke.h - what 'lambdeck invoke' and 'lambdeck replay' share: building the invoke
 * context from the global options and printing a result. */
#ifndef LAMBDECK_CLI_CMD_INVOKE_H
#define LAMBDECK_CLI_CMD_INVOKE_H

#include <stdbool.h>

#include "backend/invoke.h"
#include "cli/commands.h"

/* Prints r: --json -> one JSON object on stdout; else the payload (pretty JSON, or the raw
 * text) on stdout and the status line + log tail on stderr. Returns the exit status: 0 ok,
 * 1 for a function error or a failed call. */
int cli_print_invoke_result(const struct invoke_result *r, const char *function, const char *mode,
                            bool json);

/* Reports an event that could not be resolved (events_resolve's err for spec) as
 * cli_error does, with a "did you mean" among FUNCTION's saved events and the templates;
 * returns the exit status: 2 for a bad or unknown event, 1 when it could not be read. */
int cli_event_error(const char *cmd, const struct project *p, const char *function,
                    const char *spec, const struct lk_error *err, bool json);

/* Runs a loop until its handles are closed, then closes it. */
void cli_loop_finish(uv_loop_t *loop);

#endif
