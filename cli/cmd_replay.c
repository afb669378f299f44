/* cmd_replay.c - 'lambdeck replay': placeholder until its issue lands; the owner replaces it. */
#include <stdio.h>

#include "cli/commands.h"

int cmd_replay(int argc, char **argv, const struct global_opts *g)
{
	(void)argc, (void)argv, (void)g;
	fprintf(stderr, "lambdeck: 'replay' is not available in this build yet\n");
	return 2;
}
