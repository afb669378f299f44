/* cmd_deploy.c - 'lambdeck deploy [FUNCTION...] [--force] [--watch] [--full] [--parallel N]
 * [--rebuild]': quick deploy (build, skip unchanged, UpdateFunctionCode, wait), in parallel
 * with per-function progress bars on a TTY and plain lines otherwise; --watch redeploys on
 * save until interrupted; --full runs the project's IaC tool with its output streamed.
 * Exit status: 0 when every function deployed or was unchanged, 1 otherwise, 2 usage. */
#include <langinfo.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/aws/aws.h"
#include "backend/deploy.h"
#include "backend/mode.h"
#include "backend/project.h"
#include "cli/commands.h"

struct row {
	char *name;
	enum deploy_phase phase;
	uint64_t done, total;
	char *final; /* the result line once finished */
};

struct cli_deploy {
	uv_loop_t loop;
	struct project *p;
	bool tty, watch, ascii;
	struct row *rows;
	size_t n_rows, drawn;
	uint64_t last_draw;
	size_t failures;
	bool finished;
	struct deploy_watch *w;
	uv_signal_t sigint, sigterm;
	struct buf line; /* partial output line */
	int full_status;
	bool full_done;
};

static void usage(FILE *out)
{
	fputs("usage: lambdeck deploy [FUNCTION...] [--force] [--watch] [--full] [--parallel N]\n"
	      "                       [--rebuild]\n"
	      "  Quick deploy: builds each function (only changed files), compares the local\n"
	      "  CodeSha256 with the deployed one and uploads only what changed.\n"
	      "  --force       upload even when the deployed code is identical\n"
	      "  --watch       redeploy the functions whose code changes, until Ctrl-C\n"
	      "  --full        run the project's deploy command (lambdeck.json \"deploy\",\n"
	      "                else sam deploy / serverless deploy)\n"
	      "  --parallel N  functions deployed at the same time (default 4)\n"
	      "  --rebuild     rebuild the zips from scratch first\n"
	      "Global options that apply: --skip-deps, --env-vars FILE, --parameter-overrides,\n"
	      "--stage (see 'lambdeck --help').\n",
	      out);
}

static char *clean(const char *s)
{
	struct buf b = {0};

	util_sanitize(s ? s : "", s ? strlen(s) : 0, false, false, &b);
	return buf_steal(&b);
}

static struct row *row_for(struct cli_deploy *c, const char *name)
{
	for (size_t i = 0; i < c->n_rows; i++)
		if (!strcmp(c->rows[i].name, name))
			return &c->rows[i];
	c->rows = xrealloc(c->rows, (c->n_rows + 1) * sizeof(*c->rows));
	memset(&c->rows[c->n_rows], 0, sizeof(c->rows[0]));
	c->rows[c->n_rows].name = xstrdup(name);
	return &c->rows[c->n_rows++];
}

static void rows_reset(struct cli_deploy *c)
{
	for (size_t i = 0; i < c->n_rows; i++) {
		free(c->rows[i].name);
		free(c->rows[i].final);
	}
	free(c->rows);
	c->rows = NULL;
	c->n_rows = 0;
	c->drawn = 0;
}

/* TTY: one line per function, redrawn in place (at most every 50 ms unless forced). */
static void draw(struct cli_deploy *c, bool force)
{
	uint64_t now = uv_now(&c->loop);

	if (!c->tty || (!force && now - c->last_draw < 50))
		return;
	c->last_draw = now;
	if (c->drawn)
		fprintf(stdout, "\033[%zuA", c->drawn);
	for (size_t i = 0; i < c->n_rows; i++) {
		struct row *r = &c->rows[i];
		char *name = clean(r->name);

		if (r->final) {
			fprintf(stdout, "\r\033[K%s\n", r->final);
		} else {
			int pct = r->total ? (int)(100.0 * (double)r->done / (double)r->total) : -1;
			int fill = pct < 0 ? 0 : pct / 10;
			char bar[64] = "";

			for (int k = 0; k < 10; k++)
				strcat(bar, k < fill ? (c->ascii ? "#" : "\u2588")
				                     : (c->ascii ? "-" : "\u2591"));
			if (pct >= 0)
				fprintf(stdout, "\r\033[K%-24s %s %3d%%  %s\n", name, bar, pct,
				        deploy_phase_name(r->phase));
			else
				fprintf(stdout, "\r\033[K%-24s %s       %s\n", name, bar,
				        deploy_phase_name(r->phase));
		}
		free(name);
	}
	c->drawn = c->n_rows;
	fflush(stdout);
}

static void on_progress(void *user, const char *function, enum deploy_phase phase, uint64_t done,
                        uint64_t total)
{
	struct cli_deploy *c = user;
	struct row *r = row_for(c, function);
	bool changed = r->phase != phase;

	r->phase = phase;
	r->done = done;
	r->total = total;
	if (c->tty) {
		draw(c, changed);
	} else if (changed && phase != DEPLOY_PHASE_DONE && phase != DEPLOY_PHASE_QUEUED) {
		char *name = clean(function);

		printf("%s: %s\n", name, deploy_phase_name(phase));
		fflush(stdout);
		free(name);
	}
}

static void on_function_done(void *user, const struct deploy_result *r)
{
	struct cli_deploy *c = user;
	struct row *row = row_for(c, r->function);
	char *name = clean(r->function), *msg = clean(r->err.message);
	struct buf b = {0};

	if (r->outcome == DEPLOY_FAILED || r->outcome == DEPLOY_CANCELLED) {
		buf_printf(&b, "%-24s %-9s %s", name, deploy_outcome_name(r->outcome), msg);
	} else {
		buf_printf(&b, "%-24s %-9s %7.0f ms  CodeSha256 %s", name,
		           deploy_outcome_name(r->outcome), r->elapsed_ms, r->code_sha256);
		if (r->config_updated)
			buf_puts(&b, "  (configuration updated)");
		if (r->via_s3)
			buf_puts(&b, "  (via S3)");
		if (r->attempts > 1)
			buf_printf(&b, "  (%d attempts)", r->attempts);
	}
	free(row->final);
	row->final = buf_steal(&b);
	if (c->tty) {
		draw(c, true);
	} else {
		printf("%s\n", row->final);
		fflush(stdout);
	}
	free(name);
	free(msg);
}

static void on_all_done(void *user, const struct deploy_result *results, size_t n, size_t failures)
{
	struct cli_deploy *c = user;

	(void)results;
	(void)n;
	c->failures += failures;
	c->finished = true;
	if (c->watch) {
		printf("watching for changes (Ctrl-C to stop)\n");
		fflush(stdout);
		c->drawn = 0; /* the next round draws below */
	}
}

/* Installer / IaC tool output: sanitised, line by line. */
static void emit_output(struct cli_deploy *c, const char *prefix, const char *data, size_t len)
{
	if (c->tty && c->drawn) {
		fprintf(stdout, "\033[%zuA\r\033[J", c->drawn);
		fflush(stdout);
		c->drawn = 0;
	}
	for (size_t i = 0; i < len; i++) {
		if (data[i] == '\n') {
			struct buf b = {0};

			util_sanitize(c->line.data ? c->line.data : "", c->line.len, false, true,
			              &b);
			if (prefix)
				fprintf(stderr, "  %s | %s\n", prefix, b.data ? b.data : "");
			else
				printf("%s\n", b.data ? b.data : "");
			buf_free(&b);
			buf_reset(&c->line);
		} else {
			buf_putc(&c->line, data[i]);
		}
	}
	fflush(stdout);
	fflush(stderr);
	draw(c, true);
}

static void on_build_output(void *user, const char *function, const char *data, size_t len)
{
	emit_output(user, function, data, len);
}

static void on_triggered(void *user, const char *const *functions, size_t n, const char *path)
{
	struct cli_deploy *c = user;
	char *p = clean(path);

	rows_reset(c);
	printf("change: %s -> deploying", p);
	for (size_t i = 0; i < n; i++) {
		char *f = clean(functions[i]);

		printf(" %s", f);
		free(f);
	}
	printf("\n");
	fflush(stdout);
	free(p);
}

static void on_signal(uv_signal_t *s, int signum)
{
	struct cli_deploy *c = s->data;

	(void)signum;
	deploy_watch_stop(c->w);
	c->w = NULL;
	uv_signal_stop(&c->sigint);
	uv_signal_stop(&c->sigterm);
	uv_close((uv_handle_t *)&c->sigint, NULL);
	uv_close((uv_handle_t *)&c->sigterm, NULL);
}

/* ---- --full */

static void full_output(void *user, const char *data, size_t len)
{
	emit_output(user, NULL, data, len);
}

static void full_exit(void *user, int status, const struct lk_error *err)
{
	struct cli_deploy *c = user;

	if (c->line.len)
		emit_output(c, NULL, "\n", 1);
	c->full_done = true;
	c->full_status = status;
	if (err) {
		char *m = clean(err->message);

		fprintf(stderr, "lambdeck deploy --full: %s\n", m);
		free(m);
	}
}

static int run_full(struct cli_deploy *c)
{
	struct lk_error err = {0};

	if (!deploy_full_start(&c->loop, c->p, full_output, full_exit, c, &err)) {
		char *m = clean(err.message);

		fprintf(stderr, "lambdeck deploy --full: %s\n", m);
		free(m);
		uv_run(&c->loop, UV_RUN_DEFAULT); /* let closed handles finish */
		return 1;
	}
	uv_run(&c->loop, UV_RUN_DEFAULT);
	return c->full_done && c->full_status == 0 ? 0 : 1;
}

int cmd_deploy(int argc, char **argv, const struct global_opts *g)
{
	struct cli_deploy c = {0};
	struct deploy_opts opts = {0};
	struct lk_error err = {0};
	const char **names = xcalloc((size_t)argc + 1, sizeof(*names));
	size_t n_names = 0;
	bool full = false;
	struct mode *m = NULL;
	struct aws_client *client = NULL;
	const struct mode_config *cfg;
	int rc = 1;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--force")) {
			opts.force = true;
		} else if (!strcmp(a, "--watch")) {
			c.watch = true;
		} else if (!strcmp(a, "--full")) {
			full = true;
		} else if (!strcmp(a, "--rebuild")) {
			opts.full_build = true;
		} else if (!strcmp(a, "--parallel") || !strncmp(a, "--parallel=", 11)) {
			const char *v = a[10] == '=' ? a + 11 : i + 1 < argc ? argv[++i] : NULL;
			char *end = NULL;
			long n = v ? strtol(v, &end, 10) : 0;

			if (!v || !*v || *end || n < 1 || n > 64) {
				fprintf(stderr,
				        "lambdeck deploy: --parallel needs a number 1..64\n");
				free(names);
				return 2;
			}
			opts.parallel = (int)n;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			free(names);
			return 0;
		} else if (a[0] == '-' && strcmp(a, "--")) {
			fprintf(stderr, "lambdeck deploy: unknown option '%s'\n", a);
			usage(stderr);
			free(names);
			return 2;
		} else if (strcmp(a, "--")) {
			names[n_names++] = a;
		}
	}
	if (full && (c.watch || n_names || opts.force)) {
		fprintf(stderr,
		        "lambdeck deploy: --full deploys the whole stack; it takes no function "
		        "names, --force or --watch\n");
		free(names);
		return 2;
	}
	if (g->read_only) {
		fprintf(stderr, "lambdeck deploy: not allowed with --read-only\n");
		free(names);
		return 1;
	}
	if (cli_project_load(g, &c.p, &err) < 0) {
		char *msg = clean(err.message);

		fprintf(stderr, "lambdeck deploy: %s\n", msg);
		free(msg);
		project_free(c.p);
		free(names);
		return 1;
	}
	uv_loop_init(&c.loop);
	c.tty = isatty(1) && !c.watch;
	c.ascii = g->ascii || strcmp(nl_langinfo(CODESET), "UTF-8") != 0;
	if (full) {
		rc = run_full(&c);
		goto out;
	}
	if (!n_names && c.p->n_functions == 0) {
		fprintf(stderr, "lambdeck deploy: no functions in %s\n%s\n", c.p->dir,
		        project_empty_hint());
		goto out;
	}
	{
		struct mode_options mo;

		cli_mode_options(g, c.p, &mo);

		m = mode_new(&c.loop, &mo, &err);
		cfg = m ? mode_acquire_sync(m, &err) : NULL;
		if (!cfg) {
			char *msg = clean(err.message);

			fprintf(stderr, "lambdeck deploy: %s\n", msg);
			free(msg);
			goto out;
		}
	}
	{
		struct aws_options ao = {
		    .profile = cfg->profile,
		    .region = cfg->region,
		    .endpoint_url = cfg->endpoint,
		    .credentials_file = cfg->credentials_file,
		    .ignore_env_credentials = cfg->kind == MODE_LOCAL,
		};

		client = aws_client_new(&c.loop, &ao, &err);
		if (!client) {
			char *msg = clean(err.message);

			fprintf(stderr, "lambdeck deploy: %s\n", msg);
			free(msg);
			goto out;
		}
	}
	opts.local = cfg->kind == MODE_LOCAL;
	opts.on_output = on_build_output;
	if (!c.tty || c.watch) {
		char *d = clean(cfg->description);

		printf("deploying to %s\n", d);
		fflush(stdout);
		free(d);
	}
	{
		struct deploy_callbacks cb = {
		    .progress = on_progress,
		    .function_done = on_function_done,
		    .all_done = on_all_done,
		};

		if (c.watch) {
			struct deploy_watch_callbacks wcb = {.triggered = on_triggered,
			                                     .deploy = cb};

			c.w = deploy_watch_start(&c.loop, client, c.p, &opts, &wcb, &c, &err);
			if (!c.w) {
				char *msg = clean(err.message);

				fprintf(stderr, "lambdeck deploy --watch: %s\n", msg);
				free(msg);
				goto out;
			}
			uv_signal_init(&c.loop, &c.sigint);
			uv_signal_init(&c.loop, &c.sigterm);
			c.sigint.data = c.sigterm.data = &c;
			uv_signal_start(&c.sigint, on_signal, SIGINT);
			uv_signal_start(&c.sigterm, on_signal, SIGTERM);
			printf("watching %zu function%s (Ctrl-C to stop)\n", c.p->n_functions,
			       c.p->n_functions == 1 ? "" : "s");
			fflush(stdout);
			uv_run(&c.loop, UV_RUN_DEFAULT);
			rc = 0;
			goto out;
		}
		deploy_start(&c.loop, client, c.p, names, n_names, &opts, &cb, &c);
		while (!c.finished && uv_run(&c.loop, UV_RUN_ONCE))
			;
		rc = c.failures ? 1 : 0;
	}
out:
	aws_client_free(client);
	mode_free(m);
	uv_run(&c.loop, UV_RUN_DEFAULT);
	if (uv_loop_close(&c.loop) != 0)
		fprintf(stderr, "lambdeck deploy: internal: handles left open at exit\n");
	rows_reset(&c);
	buf_free(&c.line);
	project_free(c.p);
	free(names);
	return rc;
}
