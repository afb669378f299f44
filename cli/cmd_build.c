/* cmd_build.c - 'lambdeck build': placeholder until its issue lands; the owner replaces it. */
#include <stdio.h>

#include "cli/commands.h"

int cmd_build(int argc, char **argv, const struct global_opts *g)
{
	(void)argc, (void)argv, (void)g;
	fprintf(stderr, "lambdeck: 'build' is not available in this build yet\n");
	return 2;
}
