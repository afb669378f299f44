/* cmd_deploy.c - 'lambdeck deploy': placeholder until its issue lands; the owner replaces it. */
#include <stdio.h>

#include "cli/commands.h"

int cmd_deploy(int argc, char **argv, const struct global_opts *g)
{
	(void)argc, (void)argv, (void)g;
	fprintf(stderr, "lambdeck: 'deploy' is not available in this build yet\n");
	return 2;
}
