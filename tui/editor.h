/* editor.h - how the editor is invoked: which program ($VISUAL, then $EDITOR, then vi),
 * which arguments (+LINE, read-only flag) for the editors known to take them. Pure string
 * work so it can be tested; the spawning is in app.c (app_edit_file). */
#ifndef LAMBDECK_TUI_EDITOR_H
#define LAMBDECK_TUI_EDITOR_H

#include <stdbool.h>

/* Builds the argv: the editor variable is split at blanks (no shell: "code -w" works, shell
 * syntax does not), then "-R"/"-v" when read_only and the editor knows a read-only flag,
 * then "+LINE" when line > 0 and the editor takes it, then path. visual/editor may be NULL
 * or empty (skipped). Returns a NULL-terminated array; free with editor_argv_free. */
char **editor_argv(const char *visual, const char *editor, const char *path, int line,
                   bool read_only);
void editor_argv_free(char **argv);

#endif
