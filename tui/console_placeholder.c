/* console_placeholder.c - replaced by tui/app.c when the terminal shell lands. */
#include <stdio.h>

#include "cli/commands.h"

int console_main(const struct global_opts *g)
{
	(void)g;
	fprintf(stderr, "lambdeck: the console is not available in this build yet\n");
	return 2;
}
