/* output.c - --json writing, error reports, exit codes, "did you mean" and plurals for the
 * subcommands (see output.h). */
#include "cli/output.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "backend/util.h"

void cli_json_print(cJSON *o)
{
	char *text = util_json_safe(cJSON_PrintUnformatted(o));

	if (text) {
		fputs(text, stdout);
		fputc('\n', stdout);
		fflush(stdout);
	}
	free(text);
	cJSON_Delete(o);
}

cJSON *cli_json_error_item(const char *code, const char *message)
{
	cJSON *e = cJSON_CreateObject();

	cJSON_AddStringToObject(e, "code", code && *code ? code : "Error");
	cJSON_AddStringToObject(e, "message", message ? message : "");
	return e;
}

cJSON *cli_json_error(const char *code, const char *message)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddItemToObject(o, "error", cli_json_error_item(code, message));
	return o;
}

int cli_error(const char *cmd, bool json, int status, const char *code, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (json) {
		cli_json_print(cli_json_error(code, msg));
	} else {
		struct buf b = {0};

		buf_puts(&b, "");
		util_sanitize(msg, strlen(msg), true, true, &b);
		fprintf(stderr, "lambdeck%s%s: %s\n", cmd ? " " : "", cmd ? cmd : "", b.data);
		buf_free(&b);
	}
	return status;
}

/* Edit distance (insert, delete, substitute; a case-only difference costs 1 of 2 units),
 * in half units; gives up above limit. */
static size_t distance2(const char *a, const char *b, size_t limit)
{
	size_t la = strlen(a), lb = strlen(b), *row, best = 0;

	if (la > 64 || lb > 64)
		return limit + 1;
	row = xcalloc(lb + 1, sizeof(*row));
	for (size_t j = 0; j <= lb; j++)
		row[j] = 2 * j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = 2 * i;
		best = row[0];
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j], sub = a[i - 1] == b[j - 1] ? 0
			                          : tolower((unsigned char)a[i - 1]) ==
			                                  tolower((unsigned char)b[j - 1])
			                              ? 1
			                              : 2;
			size_t v = diag + sub;

			if (up + 2 < v)
				v = up + 2;
			if (row[j - 1] + 2 < v)
				v = row[j - 1] + 2;
			diag = up;
			row[j] = v;
			if (v < best)
				best = v;
		}
		if (best > limit)
			break;
	}
	best = best > limit ? limit + 1 : row[lb];
	free(row);
	return best;
}

const char *cli_suggest(const char *name, const char *const *candidates, size_t n)
{
	size_t len = name ? strlen(name) : 0, limit = 2 * (len / 3 > 1 ? len / 3 : 1),
	       best = (size_t)-1;
	const char *pick = NULL;

	for (size_t i = 0; name && i < n; i++) {
		size_t d;

		if (!candidates[i])
			continue;
		d = distance2(name, candidates[i], limit);
		if (d <= limit && d < best) {
			best = d;
			pick = candidates[i];
		}
	}
	if (!pick && len >= 3) { /* else the one candidate that starts with name: Hello */
		size_t starts = 0;

		for (size_t i = 0; i < n; i++)
			if (candidates[i] && !strncasecmp(candidates[i], name, len) &&
			    starts++ == 0)
				pick = candidates[i];
		if (starts != 1)
			pick = NULL;
	}
	return pick && strcmp(pick, name) ? pick : NULL;
}

char *cli_did_you_mean(char *out, size_t size, const char *name, const char *const *candidates,
                       size_t n)
{
	const char *s = cli_suggest(name, candidates, n);
	size_t len = strlen(out);

	if (s && len < size)
		snprintf(out + len, size - len, " (did you mean '%s'?)", s);
	return out;
}

int cli_unknown_function(const char *cmd, const struct project *p, const char *name, bool json)
{
	const char **names = xcalloc(p->n_functions + 1, sizeof(*names));
	struct buf list = {0};
	const char *s;
	int rc;

	for (size_t i = 0; i < p->n_functions; i++) {
		names[i] = p->functions[i].name;
		buf_printf(&list, "%s%s", i ? ", " : "", names[i]);
	}
	s = cli_suggest(name, names, p->n_functions);
	rc = cli_error(cmd, json, CLI_USAGE, "UnknownFunction",
	               "unknown function '%s'%s%s%s (functions: %s)", name,
	               s ? "; did you mean '" : "", s ? s : "", s ? "'?" : "",
	               list.data ? list.data : "none");
	buf_free(&list);
	free(names);
	return rc;
}

int cli_unknown_option(const char *cmd, const char *arg, const char *const *options, int argc,
                       char **argv)
{
	size_t n = 0;
	char opt[128], hint[192] = "";
	bool json = false;

	for (int i = 0; i < argc && strcmp(argv[i], "--"); i++) /* wherever --json stands */
		json |= !strcmp(argv[i], "--json");

	while (options && options[n])
		n++;
	/* a known option that lands here lacks its value (it was the last argument) */
	for (size_t i = 0; i < n; i++)
		if (!strcmp(arg, options[i]))
			return cli_error(cmd, json, CLI_USAGE, "UsageError", "%s needs a value",
			                 arg);
	snprintf(opt, sizeof(opt), "%.*s", (int)strcspn(arg, "="), arg);
	cli_did_you_mean(hint, sizeof(hint), opt, options, n);
	/* the help is the command's ("events new" -> "events") */
	return cli_error(cmd, json, CLI_USAGE, "UsageError",
	                 "%s '%s'%s; see 'lambdeck %.*s --help'",
	                 opt[0] == '-' ? "unknown option" : "unexpected argument", opt, hint,
	                 (int)strcspn(cmd, " "), cmd);
}

const char *cli_plural(size_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

void cli_shell_quote(struct buf *b, const char *v)
{
	buf_putc(b, '\'');
	for (; *v; v++) {
		if (*v == '\'')
			buf_puts(b, "'\\''");
		else
			buf_putc(b, *v);
	}
	buf_putc(b, '\'');
}
