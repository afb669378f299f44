/* editor.c - editor command line (see editor.h). */
#include <stdlib.h>
#include <string.h>

#include "backend/util.h"
#include "tui/editor.h"

/* Editors that take "+LINE FILE", and their read-only flag (NULL: none). */
static const struct {
	const char *name;
	const char *read_only;
} known_editors[] = {
    {"vi", "-R"},    {"vim", "-R"},  {"nvim", "-R"},     {"view", NULL},
    {"gvim", "-R"},  {"nano", "-v"}, {"emacs", NULL},    {"emacsclient", NULL},
    {"micro", NULL}, {"kak", NULL},  {"joe", "-rdonly"}, {"jed", NULL},
    {"mg", NULL},    {"ne", NULL},   {"vis", NULL},      {"ed", NULL},
};

static int known_index(const char *prog)
{
	const char *base = strrchr(prog, '/');

	base = base ? base + 1 : prog;
	for (size_t i = 0; i < sizeof(known_editors) / sizeof(known_editors[0]); i++)
		if (!strcmp(base, known_editors[i].name))
			return (int)i;
	return -1;
}

char **editor_argv(const char *visual, const char *editor, const char *path, int line,
                   bool read_only)
{
	const char *cmd = visual && *visual ? visual : editor && *editor ? editor : "vi";
	size_t n = 0, cap = 8;
	char **argv = xcalloc(cap, sizeof(char *));
	const char *p = cmd;
	int known;

	while (*p) {
		const char *start;

		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		start = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		if (n + 5 >= cap) {
			cap *= 2;
			argv = xrealloc(argv, cap * sizeof(char *));
		}
		argv[n++] = xstrndup(start, (size_t)(p - start));
	}
	if (n == 0)
		argv[n++] = xstrdup("vi");
	known = known_index(argv[0]);
	if (read_only && known >= 0 && known_editors[known].read_only)
		argv[n++] = xstrdup(known_editors[known].read_only);
	if (line > 0 && known >= 0 && strcmp(known_editors[known].name, "ed"))
		argv[n++] = xasprintf("+%d", line);
	argv[n++] = xstrdup(path);
	argv[n] = NULL;
	return argv;
}

void editor_argv_free(char **argv)
{
	if (!argv)
		return;
	for (char **a = argv; *a; a++)
		free(*a);
	free(argv);
}
