/* Editor command line: $VISUAL over $EDITOR over vi, +LINE and read-only flags only for
 * editors that take them, no shell involved. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tui/editor.h"

static void expect(char **argv, const char *joined)
{
	char buf[512] = "";

	for (char **a = argv; *a; a++) {
		strncat(buf, *a, sizeof(buf) - strlen(buf) - 2);
		if (a[1])
			strcat(buf, "|");
	}
	assert_string_equal(buf, joined);
	editor_argv_free(argv);
}

static void test_choice(void **state)
{
	(void)state;
	expect(editor_argv("nvim", "nano", "/p/a.py", 12, false), "nvim|+12|/p/a.py");
	expect(editor_argv("", "nano", "/p/a.py", 12, false), "nano|+12|/p/a.py");
	expect(editor_argv(NULL, NULL, "/p/a.py", 3, false), "vi|+3|/p/a.py");
	expect(editor_argv("   ", NULL, "f", 0, false), "vi|f");
	expect(editor_argv(NULL, NULL, "f", 0, true), "vi|-R|f");
	expect(editor_argv("/usr/bin/vim", NULL, "f", 7, true), "/usr/bin/vim|-R|+7|f");
	expect(editor_argv("nano", NULL, "f", 7, true), "nano|-v|+7|f");
	/* Unknown editors get neither +LINE nor flags; arguments in the variable are kept. */
	expect(editor_argv("code -w", NULL, "f", 7, true), "code|-w|f");
	expect(editor_argv("  emacs  -nw ", NULL, "f", 2, false), "emacs|-nw|+2|f");
	/* No shell: metacharacters are plain arguments, file names are one argument. */
	expect(editor_argv("vi;rm", NULL, "a b;$(x)", 0, false), "vi;rm|a b;$(x)");
	expect(editor_argv("ed", NULL, "f", 9, false), "ed|f");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_choice),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
