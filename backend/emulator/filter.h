/* filter.h - CloudWatch Logs filter patterns (filterPattern of FilterLogEvents,
 * logEventFilterPattern of StartLiveTail), the subset lambdeck supports:
 *
 *   ""                       every event
 *   ERROR                    events containing the term (case-sensitive substring)
 *   ERROR Exception          both terms (AND)
 *   "two words"              a quoted phrase; \" and \\ escape inside quotes
 *   ERROR -Retry             ERROR but not Retry (exclusions may be quoted: -"x y")
 *   ?ERROR ?WARN             either term (OR); cannot be mixed with plain/-terms
 *   { $.level = "error" }    JSON: the message (or, failing that, the text from its first
 *                            '{') parsed as a JSON object; selectors $.a.b[0];
 *                            = and != with "string" or bareword values (* wildcards),
 *                            = != < > <= >= with numbers, IS TRUE / IS FALSE / IS NULL,
 *                            NOT EXISTS, && and || with parentheses.
 *
 * Anything else (space-delimited [..] patterns, %regex%, wildcard selectors [*], string
 * comparisons with < >, ...) is rejected by filter_compile with code
 * "InvalidParameterException" and a message naming the unsupported part, so a pattern
 * never silently gives wrong results. */
#ifndef LAMBDECK_EMULATOR_FILTER_H
#define LAMBDECK_EMULATOR_FILTER_H

#include <stdbool.h>
#include <stddef.h>

#include "backend/util.h"

struct filter_pattern;

/* Compiles a pattern (NULL or blank = match everything). Returns NULL with err set on a
 * pattern outside the subset. Caller frees with filter_free. */
struct filter_pattern *filter_compile(const char *pattern, struct lk_error *err);
void filter_free(struct filter_pattern *f); /* accepts NULL */

/* True when the message (len bytes, need not be NUL-terminated) matches. */
bool filter_match(const struct filter_pattern *f, const char *message, size_t len);

#endif
