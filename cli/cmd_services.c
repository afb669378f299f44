/* cmd_services.c - 'lambdeck services [list|env|logs|start|stop|restart|reset]': the project's
 * declared services (lambdeck.json "services") as the running emulator runs them. Reads the
 * state files the emulator writes (STATE/services/NAME/state.json) and asks it for start,
 * stop, restart and reset through request files in STATE/services/control/. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "backend/emulator/services_run.h"
#include "backend/services.h"
#include "cli/commands.h"
#include "cli/output.h"

static void usage(FILE *out)
{
	fputs(
	    "usage: lambdeck services [list] [--json]\n"
	    "       lambdeck services env [--json]\n"
	    "       lambdeck services logs NAME [-n LINES]\n"
	    "       lambdeck services start|stop|restart NAME... [--wait SECONDS]\n"
	    "       lambdeck services reset NAME...\n"
	    "\n"
	    "The services the project declares in lambdeck.json (\"services\"), which the\n"
	    "emulator starts and stops with itself.\n"
	    "  list      name, kind, state, port, restarts (--json: the state files)\n"
	    "  env       export lines for the running services: eval \"$(lambdeck services env)\"\n"
	    "  logs      the last LINES (default 50) of a service's output\n"
	    "  start     start a stopped or failed service, wait until ready (default 120 s)\n"
	    "  stop      stop a service until started again or the emulator restarts\n"
	    "  restart   stop and start\n"
	    "  reset     empty the service's data directory (restarts it when running)\n",
	    out);
}

struct ctx {
	char *project_dir;
	char *state_dir;
	struct services_config *cfg;
	int emulator_pid; /* 0: not running */
};

/* The emulator serving this project's state dir, from its endpoint file: its pid or 0. */
static int running_emulator(const char *state_dir)
{
	char *path = util_path_join(state_dir, "endpoint");
	struct buf b = {0};
	int pid = 0;
	cJSON *j;

	if (util_read_file(path, &b, NULL) == 0 && (j = cJSON_ParseWithLength(b.data, b.len))) {
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(j, "pid");

		if (cJSON_IsNumber(p) && p->valueint > 0 &&
		    (kill(p->valueint, 0) == 0 || errno == EPERM))
			pid = p->valueint;
		cJSON_Delete(j);
	}
	buf_free(&b);
	free(path);
	return pid;
}

/* The state file of a service written by the running emulator, or NULL. */
static cJSON *service_state(const struct ctx *c, const char *name)
{
	char *path = xasprintf("%s/services/%s/state.json", c->state_dir, name);
	struct buf b = {0};
	cJSON *j = NULL;

	if (c->emulator_pid && util_read_file(path, &b, NULL) == 0) {
		const cJSON *e;

		j = cJSON_ParseWithLength(b.data, b.len);
		e = cJSON_GetObjectItemCaseSensitive(j, "emulatorPid");
		if (j && (!cJSON_IsNumber(e) || e->valueint != c->emulator_pid)) {
			cJSON_Delete(j); /* left by an earlier emulator */
			j = NULL;
		}
	}
	buf_free(&b);
	free(path);
	return j;
}

static const char *jstr(const cJSON *j, const char *k, const char *dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, k);

	return cJSON_IsString(v) ? v->valuestring : dflt;
}

static int jint(const cJSON *j, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, k);

	return cJSON_IsNumber(v) ? v->valueint : 0;
}

static void print_clean(FILE *out, const char *s)
{
	struct buf b = {0};

	util_sanitize(s, strlen(s), false, false, &b);
	fputs(b.data ? b.data : "", out);
	buf_free(&b);
}

/* The entry of one service for list --json: its state file, or the declaration when the
 * emulator does not run it. */
static cJSON *entry(const struct ctx *c, const struct service_spec *s)
{
	cJSON *j = service_state(c, s->name);

	if (!j) {
		j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "name", s->name);
		cJSON_AddStringToObject(j, "kind", s->kind ? s->kind : "command");
		cJSON_AddStringToObject(j, "state", "stopped");
		cJSON_AddNumberToObject(j, "port", s->port);
		cJSON_AddNumberToObject(j, "restarts", 0);
		if (!c->emulator_pid)
			cJSON_AddStringToObject(j, "message", "the emulator is not running");
	}
	return j;
}

static int do_list(const struct ctx *c, bool json)
{
	if (json) {
		cJSON *arr = cJSON_CreateArray();
		char *s;

		for (size_t i = 0; i < c->cfg->n; i++)
			cJSON_AddItemToArray(arr, entry(c, &c->cfg->v[i]));
		s = util_json_safe(cJSON_PrintUnformatted(arr));
		printf("%s\n", s);
		free(s);
		cJSON_Delete(arr);
		return 0;
	}
	if (!c->cfg->n) {
		printf("no services declared (add \"services\" to lambdeck.json; see `man "
		       "lambdeck`)\n");
		return 0;
	}
	if (!c->emulator_pid)
		printf("the emulator is not running: services start with it (`lambdeck emulate`, "
		       "the console, or any local command)\n");
	printf("%-16s %-9s %-12s %-6s %-8s %s\n", "NAME", "KIND", "STATE", "PORT", "RESTARTS",
	       "MESSAGE");
	for (size_t i = 0; i < c->cfg->n; i++) {
		cJSON *j = entry(c, &c->cfg->v[i]);
		char port[16] = "-";

		if (jint(j, "port") && strcmp(jstr(j, "state", ""), "stopped"))
			snprintf(port, sizeof(port), "%d", jint(j, "port"));
		printf("%-16s %-9s %-12s %-6s %-8d ", c->cfg->v[i].name, jstr(j, "kind", ""),
		       jstr(j, "state", ""), port, jint(j, "restarts"));
		print_clean(stdout, c->emulator_pid ? jstr(j, "message", "") : "");
		putchar('\n');
		cJSON_Delete(j);
	}
	return 0;
}

static int do_env(const struct ctx *c, bool json)
{
	cJSON *all = cJSON_CreateObject();
	struct buf out = {0};
	int n = 0;

	for (size_t i = 0; i < c->cfg->n; i++) {
		cJSON *j = service_state(c, c->cfg->v[i].name);
		const cJSON *env = cJSON_GetObjectItemCaseSensitive(j, "env"), *e;

		cJSON_ArrayForEach(e, env)
		{
			if (!cJSON_IsString(e))
				continue;
			cJSON_DeleteItemFromObjectCaseSensitive(all, e->string);
			cJSON_AddStringToObject(all, e->string, e->valuestring);
			n++;
		}
		cJSON_Delete(j);
	}
	if (json) {
		char *s = util_json_safe(cJSON_PrintUnformatted(all));

		printf("%s\n", s);
		free(s);
	} else {
		const cJSON *e;

		cJSON_ArrayForEach(e, all)
		{
			buf_printf(&out, "export %s=", e->string);
			cli_shell_quote(&out, e->valuestring);
			buf_putc(&out, '\n');
		}
		fputs(out.data ? out.data : "", stdout);
	}
	buf_free(&out);
	cJSON_Delete(all);
	if (!n && !json)
		fprintf(stderr, "lambdeck services env: %s\n",
		        c->emulator_pid ? "no service is ready" : "the emulator is not running");
	return 0;
}

static int do_logs(const struct ctx *c, const char *name, int lines)
{
	char *path = xasprintf("%s/services/%s/output.log", c->state_dir, name);
	struct buf b = {0}, clean = {0};
	const char *start;
	int seen = 0;

	if (util_read_file(path, &b, NULL) < 0) {
		fprintf(stderr, "lambdeck services logs: no output from %s yet\n", name);
		free(path);
		return 1;
	}
	free(path);
	start = b.data ? b.data : "";
	for (size_t i = b.len; i > 0; i--)
		if (b.data[i - 1] == '\n' && i != b.len && ++seen == lines) {
			start = b.data + i;
			break;
		}
	util_sanitize(start, strlen(start), true, true, &clean);
	fputs(clean.data ? clean.data : "", stdout);
	if (clean.len && clean.data[clean.len - 1] != '\n')
		putchar('\n');
	buf_free(&b);
	buf_free(&clean);
	return 0;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* Hands OP NAME to the emulator, then waits until the service's state file names the
 * request and shows its outcome: stopped for stop, ready or failed for the others (wait_s).
 * Returns the exit status. */
static int request(const struct ctx *c, const char *op, const char *name, int wait_s)
{
	char *dir = xasprintf("%s/services/control", c->state_dir);
	char *id = xasprintf("%d-%lld-%s-%s", (int)getpid(), (long long)util_now_ms(), op, name);
	char *path = util_path_join(dir, id), *line = xasprintf("%s %s\n", op, name);
	struct lk_error err = {0};
	uint64_t t0 = util_monotonic_ns();
	bool stop = !strcmp(op, "stop");
	int rc = 1;

	if (util_write_atomic(path, line, strlen(line), 0600, &err) < 0) {
		fprintf(stderr, "lambdeck services %s: %s\n", op, err.message);
		goto out;
	}
	for (;;) {
		cJSON *j = service_state(c, name);
		const char *st = jstr(j, "state", "");
		bool ours = !strcmp(jstr(j, "request", ""), id);
		bool done =
		    ours && (!strcmp(st, "failed") || !strcmp(st, stop ? "stopped" : "ready"));

		if (done && !strcmp(st, "ready")) {
			printf("%s ready on %s:%d\n", name, jstr(j, "host", ""), jint(j, "port"));
			rc = 0;
		} else if (done && stop) {
			printf("%s %s\n", name, st);
			rc = 0;
		} else if (done) {
			fprintf(stderr, "lambdeck services %s: %s failed: ", op, name);
			print_clean(stderr, jstr(j, "message", ""));
			fputc('\n', stderr);
		}
		cJSON_Delete(j);
		if (done)
			break;
		if (util_monotonic_ns() - t0 > (uint64_t)wait_s * 1000000000u) {
			fprintf(stderr, "lambdeck services %s: %s: %s after %d s\n", op, name,
			        ours ? st : "the emulator did not take the request", wait_s);
			unlink(path);
			break;
		}
		sleep_ms(50);
	}
out:
	free(dir);
	free(id);
	free(path);
	free(line);
	return rc;
}

int cmd_services(int argc, char **argv, const struct global_opts *g)
{
	struct ctx c = {0};
	struct lk_error err = {0};
	const char *sub = "list";
	const char *names[64];
	int n_names = 0, lines = 50, wait_s = 120, rc = 0;
	bool json = false;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "--json")) {
			json = true;
		} else if ((!strcmp(a, "-n") || !strcmp(a, "--wait")) && i + 1 < argc) {
			char *end;
			long v = strtol(argv[++i], &end, 10);

			if (*end || v < 1 || v > 100000) {
				fprintf(stderr, "lambdeck services: %s needs a positive number\n",
				        a);
				return 2;
			}
			if (!strcmp(a, "-n"))
				lines = (int)v;
			else
				wait_s = (int)v;
		} else if (a[0] == '-') {
			static const char *const opts[] = {"--json", "-n", "--wait", "--help",
			                                   NULL};

			return cli_unknown_option("services", a, opts, argc, argv);
		} else if (i == 1) {
			sub = a;
		} else if (n_names < 64) {
			names[n_names++] = a;
		}
	}
	{
		static const char *const subs[] = {"list", "env",     "logs", "start",
		                                   "stop", "restart", "reset"};
		size_t k = 0;
		char hint[128] = "";

		while (k < 7 && strcmp(sub, subs[k]))
			k++;
		if (k == 7)
			return cli_error("services", json, CLI_USAGE, "UsageError",
			                 "unknown subcommand '%s'%s (list, env, logs, start, stop, "
			                 "restart, reset)",
			                 sub, cli_did_you_mean(hint, sizeof(hint), sub, subs, 7));
	}
	if ((!strcmp(sub, "list") || !strcmp(sub, "env")) ? n_names > 0
	    : !strcmp(sub, "logs")                        ? n_names != 1
	                                                  : n_names < 1)
		return cli_error("services", json, CLI_USAGE, "UsageError", "%s takes %s", sub,
		                 !strcmp(sub, "logs") ? "one service name"
		                 : (!strcmp(sub, "list") || !strcmp(sub, "env")) ? "no service name"
		                                                                 : "service names");
	c.project_dir = realpath(g->project_dir ? g->project_dir : ".", NULL);
	if (!c.project_dir)
		return cli_error("services", json, CLI_FAILED, "NoProject", "%s: %s",
		                 g->project_dir, strerror(errno));
	c.state_dir = util_path_join(c.project_dir, ".lambdeck/emulator");
	if (services_config_load(c.project_dir, &c.cfg, &err) < 0) {
		rc = cli_error("services", json, CLI_FAILED, err.code, "%s", err.message);
		goto out;
	}
	c.emulator_pid = running_emulator(c.state_dir);
	for (int i = 0; i < n_names; i++)
		if (!services_config_find(c.cfg, names[i])) {
			rc = cli_error("services", json, CLI_USAGE, "UnknownService",
			               "no service '%s' in %s", names[i],
			               c.cfg->file ? c.cfg->file : "lambdeck.json (there is none)");
			goto out;
		}
	if (!strcmp(sub, "list")) {
		rc = do_list(&c, json);
	} else if (!strcmp(sub, "env")) {
		rc = do_env(&c, json);
	} else if (!strcmp(sub, "logs")) {
		rc = do_logs(&c, names[0], lines);
	} else if (!c.emulator_pid && !strcmp(sub, "reset")) {
		for (int i = 0; i < n_names && !rc; i++)
			if (services_run_reset_offline(c.state_dir, names[i], &err) < 0) {
				fprintf(stderr, "lambdeck services reset: %s\n", err.message);
				rc = 1;
			}
	} else if (!c.emulator_pid) {
		fprintf(
		    stderr,
		    "lambdeck services %s: the emulator is not running (services start with it: "
		    "`lambdeck emulate` or the console)\n",
		    sub);
		rc = 1;
	} else {
		for (int i = 0; i < n_names; i++)
			rc |= request(&c, sub, names[i], wait_s);
	}
out:
	services_config_free(c.cfg);
	free(c.project_dir);
	free(c.state_dir);
	return rc;
}
