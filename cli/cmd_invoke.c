/* cmd_invoke.c - 'lambdeck invoke': placeholder until its issue lands; the owner replaces it. */
#include <stdio.h>

#include "cli/commands.h"

int cmd_invoke(int argc, char **argv, const struct global_opts *g)
{
	(void)argc, (void)argv, (void)g;
	fprintf(stderr, "lambdeck: 'invoke' is not available in this build yet\n");
	return 2;
}
