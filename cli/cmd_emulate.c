/* cmd_emulate.c - 'lambdeck emulate': run the local AWS-compatible emulator (Lambda API,
 * Runtime API, CloudWatch Logs API) until SIGTERM/SIGINT. Prints one JSON line with the
 * endpoint, region and credentials file on stdout once it is listening. */
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "backend/emulator/emulator.h"
#include "backend/mode.h"
#include "backend/project.h"
#include "cli/commands.h"
#include "cli/output.h"

static void usage(FILE *out)
{
	fputs("usage: lambdeck emulate [--host 127.0.0.1] [--port N] [--state-dir DIR]\n"
	      "                        [--region NAME] [--any-credentials] [--allow-remote]\n"
	      "                        [--max-concurrency N] [--idle-timeout SECONDS] [--quiet]\n"
	      "                        [--share-with-group] [--exit-when-unused]\n"
	      "                        [--exit-with-parent]\n"
	      "       lambdeck emulate --env\n"
	      "\n"
	      "--env prints shell exports for the project's emulator (attached to, or started\n"
	      "and left running): eval \"$(lambdeck emulate --env)\" sets AWS_ENDPOINT_URL,\n"
	      "AWS_REGION, AWS_DEFAULT_REGION, AWS_SHARED_CREDENTIALS_FILE (the 0600 file; the\n"
	      "secret is never printed) and AWS_PROFILE, and unsets AWS_ACCESS_KEY_ID,\n"
	      "AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, which would win over the profile.\n"
	      "\n"
	      "Runs the local emulator. Prints {\"endpoint\",\"region\",\"credentials_file\",...}\n"
	      "on one line, then serves until SIGTERM or SIGINT.\n"
	      "  --host ADDR           listen address, IPv4 or IPv6 (loopback - 127.0.0.0/8,\n"
	      "                        ::1 - unless --allow-remote)\n"
	      "  --port N              port (0 = any free port; default 0)\n"
	      "  --state-dir DIR       functions, code.zip, logs, credentials (default "
	      ".lambdeck/emulator;\n"
	      "                        unpacked code: $XDG_CACHE_HOME/lambdeck, not the project)\n"
	      "  --region NAME         the region it serves; requests must be signed for it\n"
	      "                        (default us-east-1)\n"
	      "  --any-credentials     accept requests without a valid SigV4 signature\n"
	      "  --allow-remote        allow a --host that is not loopback (prints a warning)\n"
	      "  --max-concurrency N   workers per function before 429 (default 10)\n"
	      "  --idle-timeout S      stop workers idle for S seconds (default 300)\n"
	      "  --quiet               no request log on stderr\n"
	      "  --share-with-group    credentials/endpoint 0640, state dir 0750 (also when the\n"
	      "                        project's lambdeck.json has \"share_with_group\": true)\n"
	      "  --exit-when-unused    stop when no console or command holds a lease in\n"
	      "                        STATE_DIR/users any more (how consoles start it)\n"
	      "  --exit-with-parent    stop (SIGTERM) when the process that started it dies\n"
	      "                        (test harnesses: no emulator outlives a killed test)\n",
	      out);
}

static int parse_int(const char *opt, const char *s, int lo, int hi, int *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (!*s || *end || v < lo || v > hi) {
		fprintf(stderr, "lambdeck emulate: %s needs a number between %d and %d, not '%s'\n",
		        opt, lo, hi, s);
		return -1;
	}
	*out = (int)v;
	return 0;
}

/* The project whose functions this emulator runs: --project when given, else the directory
 * holding the state dir's .lambdeck/emulator, else the current directory. Caller frees. */
static char *emulate_project_dir(const char *state_dir, const char *given)
{
	static const char tail[] = "/.lambdeck/emulator";
	size_t n = state_dir ? strlen(state_dir) : 0;

	while (n > 1 && state_dir[n - 1] == '/')
		n--;
	if (given && strcmp(given, "."))
		return xstrdup(given);
	if (n > sizeof(tail) - 1 &&
	    !strncmp(state_dir + n - (sizeof(tail) - 1), tail, sizeof(tail) - 1))
		return xstrndup(state_dir, n - (sizeof(tail) - 1));
	return xstrdup(".");
}

/* Prints v single-quoted for a POSIX shell. */
static void put_quoted(const char *v)
{
	struct buf b = {0};

	cli_shell_quote(&b, v);
	fwrite(b.data, 1, b.len, stdout);
	buf_free(&b);
}

/* --env: the client settings of the project's emulator, attached to or started (and then
 * left running: kept, no --exit-when-unused), as shell exports. */
static int print_env(const struct global_opts *g)
{
	struct project *p = NULL;
	struct lk_error err = {0};
	struct mode_options mo;
	struct mode *m;
	const struct mode_config *cfg;
	uv_loop_t loop;
	int rc = CLI_OK;

	if (cli_project_load(g, &p, &err) < 0) {
		project_free(p);
		p = NULL; /* no project: the emulator of this directory all the same */
	}
	cli_mode_options(g, p, &mo);
	mo.force_local = true;
	mo.force_aws = false;
	mo.keep_emulator = true;
	uv_loop_init(&loop);
	m = mode_new(&loop, &mo, &err);
	cfg = m ? mode_acquire_sync(m, &err) : NULL;
	if (!cfg) {
		rc = cli_error("emulate", false, CLI_FAILED, err.code, "--env: %s", err.message);
	} else {
		char *cred = realpath(cfg->credentials_file, NULL);

		fputs("export AWS_ENDPOINT_URL=", stdout);
		put_quoted(cfg->endpoint);
		fputs("\nexport AWS_REGION=", stdout);
		put_quoted(cfg->region);
		fputs(" AWS_DEFAULT_REGION=", stdout);
		put_quoted(cfg->region);
		fputs("\nexport AWS_SHARED_CREDENTIALS_FILE=", stdout);
		put_quoted(cred ? cred : cfg->credentials_file);
		fputs(" AWS_PROFILE=", stdout);
		put_quoted(cfg->profile);
		fputs("\nunset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN\n",
		      stdout);
		printf("# %s; AWS CLI before 2.13: aws --endpoint-url \"$AWS_ENDPOINT_URL\" ...\n",
		       cfg->description);
		free(cred);
	}
	mode_free(m);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	project_free(p);
	return rc;
}

int cmd_emulate(int argc, char **argv, const struct global_opts *g)
{
	struct emulator_options o = {.port = 0};
	struct project *proj = NULL;
	char *project_dir = NULL;
	struct lk_error err = {0};
	struct emulator *emu;
	uv_loop_t loop;
	char *state_default = NULL;
	int rc;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		bool takes = !strcmp(a, "--host") || !strcmp(a, "--port") ||
		             !strcmp(a, "--state-dir") || !strcmp(a, "--region") ||
		             !strcmp(a, "--max-concurrency") || !strcmp(a, "--idle-timeout");

		if (takes && !v) {
			fprintf(stderr, "lambdeck emulate: %s needs a value\n", a);
			return 2;
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "--env")) {
			if (argc != 2)
				return cli_error("emulate", false, CLI_USAGE, "UsageError",
				                 "--env takes no other option");
			return print_env(g);
		} else if (!strcmp(a, "--host")) {
			o.host = v;
		} else if (!strcmp(a, "--port")) {
			if (parse_int(a, v, 0, 65535, &o.port) < 0)
				return 2;
		} else if (!strcmp(a, "--state-dir")) {
			o.state_dir = v;
		} else if (!strcmp(a, "--region")) {
			o.region = v;
		} else if (!strcmp(a, "--max-concurrency")) {
			if (parse_int(a, v, 1, 1000, &o.max_concurrency) < 0)
				return 2;
		} else if (!strcmp(a, "--idle-timeout")) {
			if (parse_int(a, v, 1, 86400, &o.idle_timeout_s) < 0)
				return 2;
		} else if (!strcmp(a, "--any-credentials")) {
			o.any_credentials = true;
		} else if (!strcmp(a, "--allow-remote")) {
			o.allow_remote = true;
		} else if (!strcmp(a, "--quiet")) {
			o.quiet = true;
		} else if (!strcmp(a, "--share-with-group")) {
			o.share_with_group = true;
		} else if (!strcmp(a, "--exit-when-unused")) {
			o.exit_when_unused = true;
		} else if (!strcmp(a, "--exit-with-parent")) {
			pid_t parent = getppid();

			if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent)
				return 1; /* the parent is already gone */
		} else {
			static const char *const options[] = {"--host",
			                                      "--port",
			                                      "--state-dir",
			                                      "--region",
			                                      "--any-credentials",
			                                      "--allow-remote",
			                                      "--max-concurrency",
			                                      "--idle-timeout",
			                                      "--quiet",
			                                      "--share-with-group",
			                                      "--exit-when-unused",
			                                      "--exit-with-parent",
			                                      "--env",
			                                      "--help",
			                                      NULL};
			return cli_unknown_option("emulate", a, options, argc, argv);
		}
		if (takes)
			i++;
	}
	if (!o.state_dir) {
		state_default =
		    xasprintf("%s/.lambdeck/emulator", g->project_dir ? g->project_dir : ".");
		o.state_dir = state_default;
	}
	{
		struct lk_error perr = {0}; /* not ours to report: there may be no project */

		project_dir = emulate_project_dir(o.state_dir, g->project_dir);
		project_load(project_dir, &proj, &perr);
		o.share_with_group = o.share_with_group || (proj && proj->share_with_group);
		o.project_dir = proj ? proj->dir : project_dir;
		o.python = proj ? proj->python : NULL;
	}
	signal(SIGPIPE, SIG_IGN);
	uv_loop_init(&loop);
	emu = emulator_new(&loop, &o, &err);
	if (!emu) {
		fprintf(stderr, "lambdeck emulate: %s\n", err.message);
		uv_loop_close(&loop);
		free(state_default);
		free(project_dir);
		project_free(proj);
		return 1;
	}
	printf("%s\n", emulator_info_json(emu));
	fflush(stdout);
	uv_run(&loop, UV_RUN_DEFAULT);
	emulator_free(emu);
	rc = uv_loop_close(&loop);
	if (rc != 0)
		fprintf(stderr, "lambdeck emulate: loop not empty at exit (%s)\n", uv_err_name(rc));
	free(state_default);
	free(project_dir);
	project_free(proj);
	return rc == 0 ? 0 : 1;
}
