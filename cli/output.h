/* output.h - what every subcommand prints the same way.
 *
 * Exit status: CLI_OK 0; CLI_FAILED 1 = the operation failed (a build, a call, a function
 * error, a malformed project); CLI_USAGE 2 = the command line is wrong: unknown option,
 * subcommand, function, event or template, bad argument value, bad --event JSON.
 *
 * --json: camelCase keys (as AWS's own JSON), one JSON value per line on stdout, written
 * through util_json_safe (valid, terminal-safe UTF-8 whatever the input). A failure prints
 * {"error": {"code": "...", "message": "..."}} on stdout (and nothing else for that
 * failure) with a non-zero exit status; codes are AWS-style names (UnknownFunction,
 * UsageError, ParseError, ...). */
#ifndef LAMBDECK_CLI_OUTPUT_H
#define LAMBDECK_CLI_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "backend/project.h"
#include "backend/util.h"

enum { CLI_OK = 0, CLI_FAILED = 1, CLI_USAGE = 2 };

/* Prints o as one line on stdout and deletes it. */
void cli_json_print(cJSON *o);
/* The error object {"error": {"code", "message"}} (caller owns it). */
cJSON *cli_json_error(const char *code, const char *message);
/* Its inner {"code", "message"}, for an "error" member of a result (caller owns it). */
cJSON *cli_json_error_item(const char *code, const char *message);

/* Reports a failure and returns status: with json the error object on stdout, else
 * "lambdeck CMD: message" on stderr with control characters made visible (cmd NULL:
 * "lambdeck: message"). */
int cli_error(const char *cmd, bool json, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* The candidate closest to name (edit distance at most a third of its length, at least
 * 1; case differences count half), else the only candidate name (3+ characters) begins, or
 * NULL. */
const char *cli_suggest(const char *name, const char *const *candidates, size_t n);
/* Appends " (did you mean 'X'?)" to out when a candidate is close; returns out. */
char *cli_did_you_mean(char *out, size_t size, const char *name, const char *const *candidates,
                       size_t n);
/* An unknown function name: reports "unknown function 'X' (did you mean 'Y'?; functions:
 * A, B)" as cli_error does and returns CLI_USAGE. */
int cli_unknown_function(const char *cmd, const struct project *p, const char *name, bool json);
/* An unknown option of a subcommand: reports it with a suggestion from options (NULL
 * terminated) and returns CLI_USAGE. An arg that is one of options is reported as lacking
 * its value. argv (the command's arguments): with --json anywhere in it, the report is the
 * error object. */
int cli_unknown_option(const char *cmd, const char *arg, const char *const *options, int argc,
                       char **argv);

/* "file" or "files" for n: printf("%zu %s", n, cli_plural(n, "file", "files")). */
const char *cli_plural(size_t n, const char *one, const char *many);

/* Appends v to b in single quotes for a POSIX shell (for `eval "$(lambdeck ...)"` output). */
void cli_shell_quote(struct buf *b, const char *v);

#endif
