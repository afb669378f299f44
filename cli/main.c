/* main.c - argument parsing: global options, then either the console (no subcommand) or
 * one of the headless subcommands. */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/childguard.h"
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
	      "  --stage NAME        the stage for serverless.yml (${opt:stage}, ${sls:stage})\n"
	      "  --env-vars FILE     environment overrides in SAM's env.json format:\n"
	      "                      {\"Parameters\": {VAR: v}, \"Function\": {VAR: v}}\n"
	      "  --parameter-overrides 'K=V K2=V2'\n"
	      "                      template parameters (also ParameterKey=K,ParameterValue=V;\n"
	      "                      repeatable)\n"
	      "  --skip-deps         never run pip/npm: build, deploy, invoke, replay and the\n"
	      "                      console use the cached dependencies, if any\n"
	      "  --keymap FILE       extra key bindings\n"
	      "  --ascii             draw with ASCII only\n"
	      "  --read-only         browse only: no deploy, invoke, edit or test runs\n"
	      "  --low-bandwidth[=on|off|auto]\n"
	      "                      fewer frames, no decorative redraws; auto: on under SSH\n"
	      "                      (SSH_CONNECTION or SSH_TTY set); default off\n"
	      "  --mouse[=on|off|auto], --no-mouse\n"
	      "                      click focuses and selects, wheel scrolls; default auto: on\n"
	      "                      when the terminal reports a mouse (Shift+drag still\n"
	      "                      selects text in most terminals)\n"
	      "  -h, --help          this help\n"
	      "  -V, --version       version\n"
	      "\n"
	      "Environment: LAMBDECK_LOW_BANDWIDTH, LAMBDECK_MOUSE (on|off|auto, below\n"
	      "the options), VISUAL, EDITOR, NO_COLOR, AWS_PROFILE, AWS_REGION,\n"
	      "AWS_ENDPOINT_URL.\n"
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
	if (!strcmp(name, "--stage"))
		return &g->project.stage;
	if (!strcmp(name, "--env-vars"))
		return &g->project.env_vars_file;
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
	if (!strcmp(name, "--skip-deps"))
		return &g->project.skip_deps;
	return NULL;
}

/* --parameter-overrides may be given several times ("A=1" "B=2" or "A=1 B=2"): the values
 * are joined with blanks, in order (later ones win for the same name). */
static void add_parameter_overrides(struct global_opts *g, const char *value)
{
	static struct buf joined; /* lives as long as the process */

	if (joined.len)
		buf_putc(&joined, ' ');
	buf_puts(&joined, value);
	g->project.parameter_overrides = joined.data;
}

/* Reads on/off/auto (and the usual yes/no, true/false, 1/0); -1 when it is none of them. */
static int parse_switch(const char *v)
{
	static const char *const on[] = {"on", "yes", "true", "1"};
	static const char *const off[] = {"off", "no", "false", "0"};

	if (!strcmp(v, "auto"))
		return OPT_AUTO;
	for (size_t i = 0; i < sizeof(on) / sizeof(on[0]); i++) {
		if (!strcmp(v, on[i]))
			return OPT_ON;
		if (!strcmp(v, off[i]))
			return OPT_OFF;
	}
	return -1;
}

/* Settings that take an optional on/off/auto value, with an environment variable below the
 * option: --low-bandwidth, --mouse (and --no-mouse). Returns 1 when a was one of them, 0
 * when not, -1 (message printed) on a bad value. */
static int switch_option(const char *a, enum opt_switch *low_bw, enum opt_switch *mouse)
{
	static const struct {
		const char *name;
		size_t len;
	} names[] = {{"--low-bandwidth", 15}, {"--mouse", 7}};
	int v;

	if (!strcmp(a, "--no-mouse")) {
		*mouse = OPT_OFF;
		return 1;
	}
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strncmp(a, names[i].name, names[i].len) ||
		    (a[names[i].len] != '\0' && a[names[i].len] != '='))
			continue;
		v = a[names[i].len] == '=' ? parse_switch(a + names[i].len + 1) : OPT_ON;
		if (v < 0) {
			fprintf(stderr, "lambdeck: %s: expected on, off or auto\n", a);
			return -1;
		}
		*(i == 0 ? low_bw : mouse) = (enum opt_switch)v;
		return 1;
	}
	return 0;
}

/* Sets *out from the environment variable when it is set and not empty; returns -1 (message
 * printed) when its value is bad. */
static int env_switch(const char *name, enum opt_switch *out)
{
	const char *v = getenv(name);
	int r;

	if (!v || !*v)
		return 0;
	if ((r = parse_switch(v)) < 0) {
		fprintf(stderr, "lambdeck: %s=%s: expected on, off or auto\n", name, v);
		return -1;
	}
	*out = (enum opt_switch)r;
	return 0;
}

/* auto low bandwidth: the console's terminal is at the end of an SSH connection. */
static bool under_ssh(void)
{
	const char *c = getenv("SSH_CONNECTION"), *t = getenv("SSH_TTY");

	return (c && *c) || (t && *t);
}

int main(int argc, char **argv)
{
	struct global_opts g = {.project_dir = "."};
	const struct command *cmd = NULL;
	/* Non-global arguments are compacted into argv itself (never ahead of i). */
	char **rest = argv;
	int nrest = 0;
	enum opt_switch low_bw = OPT_OFF, mouse = OPT_AUTO;

	/* The guard of a child's process group (backend/childguard.h), not a command. */
	if (argc > 1 && !strcmp(argv[1], CHILDGUARD_ARG))
		return childguard_main(argc, argv);
	childguard_enable();
	setlocale(LC_ALL, "");
	if (env_switch("LAMBDECK_LOW_BANDWIDTH", &low_bw) < 0 ||
	    env_switch("LAMBDECK_MOUSE", &mouse) < 0)
		return 2;
	/* Global options may stand anywhere; everything else goes to the subcommand. */
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *eq = strchr(a, '=');
		char name[64];
		const char **val;
		bool *flag;
		int sw;

		if (!strcmp(a, "--")) {
			while (i < argc)
				rest[nrest++] = argv[i++];
			break;
		}
		snprintf(name, sizeof(name), "%.*s", eq && a[0] == '-' ? (int)(eq - a) : 63, a);
		if (!strcmp(name, "--parameter-overrides")) {
			if (!eq && i + 1 >= argc) {
				fprintf(stderr, "lambdeck: %s needs a value\n", name);
				return 2;
			}
			add_parameter_overrides(&g, eq ? eq + 1 : argv[++i]);
		} else if ((val = value_option(&g, name))) {
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
		} else if ((sw = switch_option(a, &low_bw, &mouse)) != 0) {
			if (sw < 0)
				return 2;
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
	g.low_bandwidth = low_bw == OPT_ON || (low_bw == OPT_AUTO && under_ssh());
	g.mouse = mouse;
	rest[nrest] = NULL;
	return cmd ? cmd->run(nrest, rest, &g) : console_main(&g);
}
