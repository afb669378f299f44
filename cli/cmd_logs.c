/* cmd_logs.c - 'lambdeck logs [FUNCTION...] [-f] [--since 10m] [--filter PATTERN] [--json]':
 * print or follow the functions' CloudWatch logs (the local emulator's in LOCAL mode),
 * formatted like `aws logs tail`, through backend/tail (StartLiveTail, polling fallback). */
#include <cjson/cJSON.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backend/aws/aws.h"
#include "backend/mode.h"
#include "backend/project.h"
#include "backend/tail.h"
#include "cli/commands.h"

struct logs_run {
	bool json, color, multi, follow;
	bool done;
	int rc;
	struct tail *tail;
	uv_signal_t sigint, sigterm;
	struct buf line;
};

static void usage(FILE *out)
{
	fputs("usage: lambdeck logs [FUNCTION...] [-f] [--since TIME] [--filter PATTERN] [--json]\n"
	      "\n"
	      "Prints the functions' log events (all of the project's functions by default),\n"
	      "formatted like `aws logs tail`.\n"
	      "\n"
	      "  -f, --follow        keep printing new events (StartLiveTail; polling fallback)\n"
	      "  --since TIME        from TIME ago (30s, 10m, 2h, 1d) or an ISO time "
	      "(default 10m)\n"
	      "  --filter PATTERN    CloudWatch filter pattern, applied by the service\n"
	      "  --json              one JSON object per event\n"
	      "  --poll              follow by FilterLogEvents polling only (no live tail)\n"
	      "  -h, --help          this help\n",
	      out);
}

static void format_time(int64_t ms, char *out, size_t n)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&s, &tm);
	char base[32];
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, n, "%s.%03d000+00:00", base, (int)(ms % 1000));
}

static void on_event(void *user, const struct tail_event *ev)
{
	struct logs_run *r = user;
	struct buf *b = &r->line;
	buf_reset(b);
	if (r->json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "function", ev->label);
		cJSON_AddStringToObject(o, "logGroup", ev->group);
		cJSON_AddStringToObject(o, "logStream", ev->stream);
		cJSON_AddNumberToObject(o, "timestamp", (double)ev->timestamp);
		cJSON_AddNumberToObject(o, "ingestionTime", (double)ev->ingestion_time);
		if (ev->event_id)
			cJSON_AddStringToObject(o, "eventId", ev->event_id);
		struct buf clean = {0};
		/* JSON escapes control characters itself; only invalid UTF-8 needs fixing */
		util_sanitize(ev->message, ev->message_len, true, true, &clean);
		cJSON_AddStringToObject(o, "message", clean.len ? clean.data : "");
		buf_free(&clean);
		char *s = util_json_safe(cJSON_PrintUnformatted(o));
		buf_puts(b, s);
		buf_putc(b, '\n');
		free(s);
		cJSON_Delete(o);
	} else {
		char ts[48];
		format_time(ev->timestamp, ts, sizeof(ts));
		buf_printf(b, "%s%s%s ", r->color ? "\033[32m" : "", ts, r->color ? "\033[0m" : "");
		if (r->multi)
			buf_printf(b, "%s%s%s ", r->color ? "\033[1;35m" : "", ev->label,
			           r->color ? "\033[0m" : "");
		buf_printf(b, "%s", r->color ? "\033[36m" : "");
		util_sanitize(ev->stream, strlen(ev->stream), false, false, b);
		buf_printf(b, "%s ", r->color ? "\033[0m" : "");
		size_t len = ev->message_len;
		while (len > 0 && (ev->message[len - 1] == '\n' || ev->message[len - 1] == '\r'))
			len--;
		util_sanitize(ev->message, len, true, true, b);
		buf_putc(b, '\n');
	}
	fwrite(b->data, 1, b->len, stdout);
	if (r->follow)
		fflush(stdout);
}

static void on_status(void *user, const char *status)
{
	struct logs_run *r = user;
	if (r->follow)
		fprintf(stderr, "lambdeck logs: %s\n", status);
}

static void on_done(void *user, const struct lk_error *err)
{
	struct logs_run *r = user;
	if (err) {
		fprintf(stderr, "lambdeck logs: %s: %s\n", err->code, err->message);
		r->rc = 1;
	}
	r->done = true;
}

static void on_signal(uv_signal_t *h, int signum)
{
	(void)signum;
	struct logs_run *r = h->data;
	r->done = true;
}

int cmd_logs(int argc, char **argv, const struct global_opts *g)
{
	struct logs_run run = {.rc = 0};
	const char *since = "10m", *pattern = NULL;
	bool poll = false;
	const char **names = xcalloc((size_t)argc + 1, sizeof(char *));
	size_t n_names = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-f") || !strcmp(a, "--follow"))
			run.follow = true;
		else if (!strcmp(a, "--json"))
			run.json = true;
		else if (!strcmp(a, "--poll"))
			poll = true;
		else if ((!strcmp(a, "--since") || !strcmp(a, "--filter")) && i + 1 < argc)
			*(a[2] == 's' ? &since : &pattern) = argv[++i];
		else if (!strncmp(a, "--since=", 8))
			since = a + 8;
		else if (!strncmp(a, "--filter=", 9))
			pattern = a + 9;
		else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			free(names);
			return 0;
		} else if (a[0] == '-') {
			fprintf(stderr, "lambdeck logs: unknown or incomplete option '%s'\n", a);
			usage(stderr);
			free(names);
			return 2;
		} else
			names[n_names++] = a;
	}
	int64_t since_ms = tail_parse_since(since, util_now_ms());
	if (since_ms < 0) {
		fprintf(stderr,
		        "lambdeck logs: --since '%s': use 30s, 10m, 2h, 1d or an ISO time\n",
		        since);
		free(names);
		return 2;
	}

	struct lk_error err;
	lk_error_clear(&err);
	struct project *proj = NULL;
	if (cli_project_load(g, &proj, &err) != 0) {
		fprintf(stderr, "lambdeck logs: %s\n", err.message);
		project_free(proj);
		free(names);
		return 1;
	}
	/* sources: the named functions (or all), group /aws/lambda/<deployed name> */
	size_t n_src = n_names ? n_names : proj->n_functions;
	struct tail_source *src = xcalloc(n_src ? n_src : 1, sizeof(*src));
	char **groups = xcalloc(n_src ? n_src : 1, sizeof(char *));
	for (size_t i = 0; i < n_src; i++) {
		const struct project_function *f =
		    n_names ? project_find(proj, names[i]) : &proj->functions[i];
		if (!f) {
			fprintf(stderr, "lambdeck logs: no function '%s' in this project (",
			        names[i]);
			for (size_t k = 0; k < proj->n_functions; k++)
				fprintf(stderr, "%s%s", k ? ", " : "", proj->functions[k].name);
			fprintf(stderr, ")\n");
			for (size_t k = 0; k < i; k++)
				free(groups[k]);
			free(groups);
			free(src);
			project_free(proj);
			free(names);
			return 2;
		}
		groups[i] =
		    xasprintf("/aws/lambda/%s", f->deployed_name ? f->deployed_name : f->name);
		src[i] = (struct tail_source){.group = groups[i], .label = f->name};
	}
	free(names);
	if (n_src == 0) {
		fprintf(stderr, "lambdeck logs: the project has no functions\n");
		free(groups);
		free(src);
		project_free(proj);
		return 1;
	}
	run.multi = n_src > 1;
	run.color = !run.json && isatty(STDOUT_FILENO) && !getenv("NO_COLOR");

	uv_loop_t loop;
	uv_loop_init(&loop);
	struct mode_options mo;
	cli_mode_options(g, proj, &mo);
	struct mode *m = mode_new(&loop, &mo, &err);
	const struct mode_config *mc = m ? mode_acquire_sync(m, &err) : NULL;
	struct aws_client *c = NULL;
	if (!mc) {
		fprintf(stderr, "lambdeck logs: %s: %s\n", err.code, err.message);
		run.rc = 1;
		goto out;
	}
	struct aws_options ao = {0};
	mode_aws_options(mc, &ao);
	c = aws_client_new(&loop, &ao, &err);
	if (!c) {
		fprintf(stderr, "lambdeck logs: %s: %s\n", err.code, err.message);
		run.rc = 1;
		goto out;
	}
	struct tail_options to = {.sources = src,
	                          .n_sources = n_src,
	                          .pattern = pattern,
	                          .since_ms = since_ms,
	                          .follow = run.follow,
	                          .no_live = poll};
	struct tail_callbacks cb = {
	    .on_event = on_event, .on_status = on_status, .on_done = on_done};
	uv_signal_init(&loop, &run.sigint);
	uv_signal_init(&loop, &run.sigterm);
	run.sigint.data = run.sigterm.data = &run;
	uv_signal_start(&run.sigint, on_signal, SIGINT);
	uv_signal_start(&run.sigterm, on_signal, SIGTERM);
	signal(SIGPIPE, SIG_IGN);
	run.tail = tail_start(c, &to, &cb, &run);
	while (!run.done && uv_run(&loop, UV_RUN_ONCE))
		if (ferror(stdout))
			break; /* reader went away (e.g. | head) */
	tail_stop(run.tail);
	uv_close((uv_handle_t *)&run.sigint, NULL);
	uv_close((uv_handle_t *)&run.sigterm, NULL);
out:
	aws_client_free(c);
	mode_free(m);
	uv_run(&loop, UV_RUN_NOWAIT);
	uv_run(&loop, UV_RUN_NOWAIT);
	if (uv_loop_close(&loop) != 0) {
		uv_run(&loop, UV_RUN_DEFAULT);
		uv_loop_close(&loop);
	}
	fflush(stdout);
	buf_free(&run.line);
	for (size_t i = 0; i < n_src; i++)
		free(groups[i]);
	free(groups);
	free(src);
	project_free(proj);
	return run.rc;
}
