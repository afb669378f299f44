/* commands.h - the headless subcommands. Each takes argc/argv after the subcommand name
 * (argv[0] is the subcommand) and the global options already parsed, and returns the exit
 * status: 0 success, 1 failure of the operation, 2 usage error. */
#ifndef LAMBDECK_CLI_COMMANDS_H
#define LAMBDECK_CLI_COMMANDS_H

#include <stdbool.h>

#include "backend/mode.h"
#include "backend/project.h"

/* A setting that is on, off, or decided when the console starts. */
enum opt_switch { OPT_AUTO, OPT_ON, OPT_OFF };

/* Options every subcommand and the console share (parsed before the subcommand). */
struct global_opts {
	const char *project_dir; /* --project DIR, default "." */
	const char *profile;     /* --profile */
	const char *region;      /* --region */
	const char *endpoint;    /* --endpoint-url */
	bool force_aws;          /* --aws */
	bool force_local;        /* --local */
	bool keep_emulator;      /* --keep-emulator */
	bool ascii;              /* --ascii */
	bool read_only;          /* --read-only */
	bool low_bandwidth;      /* --low-bandwidth[=on|off|auto], LAMBDECK_LOW_BANDWIDTH; resolved
	                            (auto: on under SSH) */
	enum opt_switch mouse;   /* --mouse[=on|off|auto], --no-mouse, LAMBDECK_MOUSE; auto (the
	                            default): on when the terminal has a mouse (decided by the
	                            console) */
	const char *keymap;      /* --keymap FILE */
	/* --stage, --env-vars FILE, --parameter-overrides TEXT (repeatable: joined), --skip-deps;
	 * region is --region */
	struct project_options project;
};

/* Loads the project of the global options with their overrides (--stage, --env-vars,
 * --parameter-overrides, --skip-deps, --region). */
static inline int cli_project_load(const struct global_opts *g, struct project **out,
                                   struct lk_error *err)
{
	struct project_options o = g->project;

	o.region = g->region;
	return project_load_with(g->project_dir ? g->project_dir : ".", &o, out, err);
}

/* Mode options from the global options and the project's settings (p may be NULL: none
 * loaded). Strings are borrowed from g and p. */
static inline void cli_mode_options(const struct global_opts *g, const struct project *p,
                                    struct mode_options *o)
{
	*o = (struct mode_options){
	    .project_dir = p && p->dir ? p->dir : g->project_dir,
	    .profile = g->profile,
	    .region = g->region,
	    .endpoint = g->endpoint,
	    .force_aws = g->force_aws,
	    .force_local = g->force_local,
	    .keep_emulator = g->keep_emulator,
	    .project_mode = p ? p->mode : NULL,
	    .project_profile = p ? p->profile : NULL,
	    .project_region = p ? p->region : NULL,
	};
}

struct command {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv, const struct global_opts *g);
};

int cmd_functions(int argc, char **argv, const struct global_opts *g);
int cmd_build(int argc, char **argv, const struct global_opts *g);
int cmd_deploy(int argc, char **argv, const struct global_opts *g);
int cmd_invoke(int argc, char **argv, const struct global_opts *g);
int cmd_events(int argc, char **argv, const struct global_opts *g);
int cmd_replay(int argc, char **argv, const struct global_opts *g);
int cmd_logs(int argc, char **argv, const struct global_opts *g);
int cmd_test(int argc, char **argv, const struct global_opts *g);
int cmd_emulate(int argc, char **argv, const struct global_opts *g);
int cmd_doctor(int argc, char **argv, const struct global_opts *g);

/* The console (tui/app.c): runs until quit; returns the exit status. */
int console_main(const struct global_opts *g);

#endif
