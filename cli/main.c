/* main.c - argument parsing: global options, then either the console (no subcommand) or
 * one of the headless subcommands. */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"

static const struct command commands[] = {
    {"functions", "list the project's functions as discovered", cmd_functions},
    {"build", "quick-build functions into .lambdeck/build", cmd_build},
    {"deploy", "quick-deploy (or --full deploy) functions", cmd_deploy},
    {"invoke", "invoke a function with an event", cmd_invoke},
    {"events", "list, show, create or remove saved events; templates", cmd_events},
    {"replay", "replay an invocation from the history", cmd_replay},
    {"logs", "print or follow the functions' logs", cmd_logs},
    {"test", "run the project's tests (and snapshot tests)", cmd_test},
    {"emulate", "run the local AWS-compatible emulator", cmd_emulate},
    {"doctor", "show mode, credentials source, endpoints; check access", cmd_doctor},
};

static void usage(FILE *out)
{
	fputs("usage: lambdeck [OPTIONS]                 open the console\n"
	      "       lambdeck [OPTIONS] COMMAND [ARGS]  run a command headless\n"
	      "\n"
	      "Options:\n"
	      "  --project DIR       project directory (default: current directory)\n"
	      "  --local             use the local emulator (the default)\n"
	      "  --aws               use a real AWS account\n"
	      "  --profile NAME      AWS profile (implies --aws)\n"
	      "  --region NAME       AWS region (implies --aws)\n"
	      "  --endpoint-url URL  any AWS-compatible endpoint (implies --aws)\n"
	      "  --keep-emulator     leave a started emulator running on exit\n"
	      "  --keymap FILE       extra key bindings\n"
	      "  --ascii             draw with ASCII only\n"
	      "  --read-only         browse only: no deploy, invoke, edit or test runs\n"
	      "  --low-bandwidth     fewer frames, no decorative redraws\n"
	      "  -h, --help          this help\n"
	      "  -V, --version       version\n"
	      "\n"
	      "Commands:\n",
	      out);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fputs("\nRun 'lambdeck COMMAND --help' for a command's options.\n", out);
}

/* Options taking a value: long name and where to store it. */
static const char **value_option(struct global_opts *g, const char *name)
{
	if (!strcmp(name, "--project"))
		return &g->project_dir;
	if (!strcmp(name, "--profile"))
		return &g->profile;
	if (!strcmp(name, "--region"))
		return &g->region;
	if (!strcmp(name, "--endpoint-url"))
		return &g->endpoint;
	if (!strcmp(name, "--keymap"))
		return &g->keymap;
	return NULL;
}

static bool *flag_option(struct global_opts *g, const char *name)
{
	if (!strcmp(name, "--aws"))
		return &g->force_aws;
	if (!strcmp(name, "--local"))
		return &g->force_local;
	if (!strcmp(name, "--keep-emulator"))
		return &g->keep_emulator;
	if (!strcmp(name, "--ascii"))
		return &g->ascii;
	if (!strcmp(name, "--read-only"))
		return &g->read_only;
	if (!strcmp(name, "--low-bandwidth"))
		return &g->low_bandwidth;
	return NULL;
}

int main(int argc, char **argv)
{
	struct global_opts g = {.project_dir = "."};
	const struct command *cmd = NULL;
	/* Non-global arguments are compacted into argv itself (never ahead of i). */
	char **rest = argv;
	int nrest = 0;

	setlocale(LC_ALL, "");
	/* Global options may stand anywhere; everything else goes to the subcommand. */
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *eq = strchr(a, '=');
		char name[64];
		const char **val;
		bool *flag;

		if (!strcmp(a, "--")) {
			while (i < argc)
				rest[nrest++] = argv[i++];
			break;
		}
		snprintf(name, sizeof(name), "%.*s", eq && a[0] == '-' ? (int)(eq - a) : 63, a);
		if ((val = value_option(&g, name))) {
			if (eq) {
				*val = eq + 1;
			} else if (i + 1 < argc) {
				*val = argv[++i];
			} else {
				fprintf(stderr, "lambdeck: %s needs a value\n", name);
				return 2;
			}
		} else if ((flag = flag_option(&g, a))) {
			*flag = true;
		} else if (!cmd && (!strcmp(a, "-h") || !strcmp(a, "--help"))) {
			usage(stdout);
			return 0;
		} else if (!cmd && (!strcmp(a, "-V") || !strcmp(a, "--version"))) {
			printf("lambdeck %s\n", LAMBDECK_VERSION);
			return 0;
		} else if (!cmd && a[0] == '-') {
			fprintf(stderr, "lambdeck: unknown option '%s'\n", a);
			usage(stderr);
			return 2;
		} else if (!cmd) {
			for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++)
				if (!strcmp(a, commands[c].name))
					cmd = &commands[c];
			if (!cmd) {
				fprintf(stderr, "lambdeck: unknown command '%s'\n", a);
				usage(stderr);
				return 2;
			}
			rest[nrest++] = argv[i];
		} else {
			rest[nrest++] = argv[i];
		}
	}
	if (g.force_aws && g.force_local) {
		fprintf(stderr, "lambdeck: --aws and --local exclude each other\n");
		return 2;
	}
	rest[nrest] = NULL;
	return cmd ? cmd->run(nrest, rest, &g) : console_main(&g);
}
