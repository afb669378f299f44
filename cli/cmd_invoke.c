/* cmd_invoke.c - 'lambdeck invoke FUNCTION [--event NAME|FILE|-|JSON|template:T]
 * [--type RequestResponse|Event|DryRun] [--qualifier Q] [--json] [--no-update]
 * [--snapshot NAME]': one invocation, recorded in .lambdeck/history.jsonl. Exit status 1
 * on a function error or a failed call, 2 on a usage error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "backend/events.h"
#include "backend/project.h"
#include "backend/snapshot.h"
#include "cli/cmd_invoke.h"

static void usage(FILE *out)
{
	fputs("usage: lambdeck invoke FUNCTION [--event NAME|FILE|-|JSON|template:NAME]\n"
	      "                       [--type RequestResponse|Event|DryRun] [--qualifier Q]\n"
	      "                       [--json] [--no-update] [--snapshot NAME]\n"
	      "\n"
	      "  --event      a saved event of FUNCTION (events/FUNCTION/NAME.json), a file,\n"
	      "               '-' for stdin, inline JSON, or template:NAME (default: {})\n"
	      "  --type       invocation type (default RequestResponse)\n"
	      "  --qualifier  version or alias\n"
	      "  --json       print one JSON object (status, payload, log tail, durations)\n"
	      "  --no-update  LOCAL: do not build + deploy before invoking\n"
	      "  --snapshot   save the event + response as events/FUNCTION/NAME.snapshot.json\n"
	      "\n"
	      "The payload goes to stdout; status, durations and the log tail to stderr.\n"
	      "Exit status: 0 ok, 1 function error or failed call, 2 usage.\n"
	      "Global options that apply (LOCAL build + deploy first): --skip-deps,\n"
	      "--env-vars FILE, --parameter-overrides, --stage (see 'lambdeck --help').\n",
	      out);
}

void cli_loop_finish(uv_loop_t *loop)
{
	uv_run(loop, UV_RUN_DEFAULT);
	if (uv_loop_close(loop) != 0)
		fprintf(stderr, "lambdeck: warning: event loop handles left open\n");
}

static void clean_put(FILE *out, const char *s)
{
	struct buf b = {0};

	buf_puts(&b, "");
	util_sanitize(s, strlen(s), true, true, &b);
	fputs(b.data, out);
	buf_free(&b);
}

static void add_num(cJSON *o, const char *k, double v)
{
	if (v >= 0)
		cJSON_AddNumberToObject(o, k, v);
	else
		cJSON_AddNullToObject(o, k);
}

int cli_print_invoke_result(const struct invoke_result *r, const char *function, const char *mode,
                            bool json)
{
	bool failed = lk_error_is_set(&r->err);
	int rc = failed || r->function_error ? 1 : 0;

	if (json) {
		cJSON *o = cJSON_CreateObject(), *p = NULL;
		char *s;
		cJSON_AddStringToObject(o, "function", function);
		cJSON_AddStringToObject(o, "mode", mode);
		cJSON_AddNumberToObject(o, "status", r->status);
		if (failed) {
			cJSON_AddStringToObject(o, "errorCode", r->err.code);
			cJSON_AddStringToObject(o, "errorMessage", r->err.message);
		}
		if (r->function_error)
			cJSON_AddStringToObject(o, "functionError", r->function_error);
		else
			cJSON_AddNullToObject(o, "functionError");
		if (r->error_type)
			cJSON_AddStringToObject(o, "errorType", r->error_type);
		if (r->payload_len && r->payload_is_json)
			p = cJSON_ParseWithLength(r->payload, r->payload_len);
		if (p)
			cJSON_AddItemToObject(o, "payload", p);
		else if (r->payload_len)
			cJSON_AddStringToObject(o, "payload", r->pretty);
		else
			cJSON_AddNullToObject(o, "payload");
		if (r->log_tail)
			cJSON_AddStringToObject(o, "logTail", r->log_tail);
		else
			cJSON_AddNullToObject(o, "logTail");
		if (r->request_id)
			cJSON_AddStringToObject(o, "requestId", r->request_id);
		add_num(o, "clientMs", r->client_ms);
		add_num(o, "durationMs", r->duration_ms);
		add_num(o, "billedMs", r->billed_ms);
		add_num(o, "initMs", r->init_ms);
		add_num(o, "memoryMb", r->memory_mb);
		add_num(o, "maxMemoryMb", r->max_memory_mb);
		cJSON_AddBoolToObject(o, "updated", r->updated);
		if (r->history_id)
			cJSON_AddStringToObject(o, "historyId", r->history_id);
		s = util_json_safe(cJSON_Print(o));
		printf("%s\n", s);
		free(s);
		cJSON_Delete(o);
		return rc;
	}
	if (failed) {
		fprintf(stderr, "lambdeck: %s: ", function);
		clean_put(stderr, r->err.code);
		fputs(": ", stderr);
		clean_put(stderr, r->err.message);
		fputc('\n', stderr);
		if (!r->status)
			return 1;
	}
	if (r->payload_len) {
		/* Valid JSON may still carry DEL or C1 controls: make them visible on a
		 * terminal; a pipe or file gets the bytes as they are. */
		if (isatty(STDOUT_FILENO))
			clean_put(stdout, r->pretty);
		else
			fputs(r->pretty, stdout);
		if (r->pretty[0] && r->pretty[strlen(r->pretty) - 1] != '\n')
			fputc('\n', stdout);
		fflush(stdout);
	}
	if (r->log_tail && *r->log_tail) {
		fputs("--- log tail ---\n", stderr);
		fputs(r->log_tail, stderr);
		if (r->log_tail[strlen(r->log_tail) - 1] != '\n')
			fputc('\n', stderr);
	}
	fprintf(stderr, "%d", r->status);
	if (r->function_error) {
		fputs(" ", stderr);
		clean_put(stderr, r->function_error);
		if (r->error_type) {
			fputs(" (", stderr);
			clean_put(stderr, r->error_type);
			fputs(")", stderr);
		}
	}
	fprintf(stderr, "  %s  %s", function, mode);
	if (r->client_ms >= 0)
		fprintf(stderr, "  client %.1f ms", r->client_ms);
	if (r->duration_ms >= 0)
		fprintf(stderr, "  duration %.2f ms", r->duration_ms);
	if (r->billed_ms >= 0)
		fprintf(stderr, "  billed %.0f ms", r->billed_ms);
	if (r->max_memory_mb >= 0 && r->memory_mb >= 0)
		fprintf(stderr, "  memory %d/%d MB", r->max_memory_mb, r->memory_mb);
	if (r->init_ms >= 0)
		fprintf(stderr, "  init %.2f ms", r->init_ms);
	if (r->updated)
		fputs("  (deployed first)", stderr);
	fputc('\n', stderr);
	return rc;
}

struct invoke_cli {
	const char *function;
	const char *mode;
	bool json;
	int rc;
	const char *snapshot;
	const char *event;
	size_t event_len;
	const char *qualifier;
	const char *project_dir;
};

static void on_done(const struct invoke_result *r, void *user)
{
	struct invoke_cli *s = user;

	s->rc = cli_print_invoke_result(r, s->function, s->mode, s->json);
	if (s->snapshot && r->status) {
		struct lk_error err = {0};
		if (snapshot_save(s->project_dir, s->function, s->snapshot, s->event, s->event_len,
		                  s->qualifier, r, &err) < 0) {
			fprintf(stderr, "lambdeck: snapshot not saved: %s\n", err.message);
			s->rc = 1;
		} else if (!s->json) {
			fprintf(stderr, "saved events/%s/%s.snapshot.json\n", s->function,
			        s->snapshot);
		}
	}
}

int cmd_invoke(int argc, char **argv, const struct global_opts *g)
{
	const char *function = NULL, *event = NULL, *type = NULL, *qualifier = NULL;
	const char *snapshot = NULL;
	bool json = false, no_update = false;
	struct project *p = NULL;
	struct lk_error err = {0};
	struct buf body = {0};
	char *label = NULL;
	struct mode_options mo;
	struct invoke_ctx *ctx;
	struct invoke_request req = {0};
	struct invoke_cli st = {0};
	uv_loop_t loop;
	int rc = 1;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "--event") && i + 1 < argc) {
			event = argv[++i];
		} else if (!strcmp(a, "--type") && i + 1 < argc) {
			type = argv[++i];
		} else if (!strcmp(a, "--qualifier") && i + 1 < argc) {
			qualifier = argv[++i];
		} else if (!strcmp(a, "--snapshot") && i + 1 < argc) {
			snapshot = argv[++i];
		} else if (!strcmp(a, "--json")) {
			json = true;
		} else if (!strcmp(a, "--no-update")) {
			no_update = true;
		} else if (!function && a[0] != '-') {
			function = a;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (!function) {
		usage(stderr);
		return 2;
	}
	if (type && invoke_type_parse(type, &req.type) < 0) {
		fprintf(stderr, "lambdeck: --type must be RequestResponse, Event or DryRun\n");
		return 2;
	}
	if (snapshot && !events_name_ok(snapshot)) {
		fprintf(stderr, "lambdeck: '%s' is not a usable snapshot name\n", snapshot);
		return 2;
	}
	if (cli_project_load(g, &p, &err) < 0) {
		fprintf(stderr, "lambdeck: %s\n", err.message);
		project_free(p);
		return 1;
	}
	if (!project_find(p, function)) {
		fprintf(stderr, "lambdeck: unknown function '%s'", function);
		if (p->n_functions) {
			fputs(" (functions:", stderr);
			for (size_t i = 0; i < p->n_functions; i++)
				fprintf(stderr, " %s", p->functions[i].name);
			fputc(')', stderr);
		}
		fputc('\n', stderr);
		project_free(p);
		return 1;
	}
	if (events_resolve(p->dir, function, event, &body, &label, &err) < 0) {
		fprintf(stderr, "lambdeck: %s\n", err.message);
		goto out_project;
	}
	uv_loop_init(&loop);
	cli_mode_options(g, p, &mo);
	if (!(ctx = invoke_ctx_new(&loop, p, &mo, &err))) {
		fprintf(stderr, "lambdeck: %s\n", err.message);
		cli_loop_finish(&loop);
		goto out_project;
	}
	req.function = function;
	req.qualifier = qualifier;
	req.event_name = label;
	req.payload = body.data;
	req.payload_len = body.len;
	req.no_update = no_update;
	st.function = function;
	st.mode = invoke_ctx_mode_name(ctx);
	st.json = json;
	st.rc = 1;
	st.snapshot = snapshot;
	st.event = body.data;
	st.event_len = body.len;
	st.qualifier = qualifier;
	st.project_dir = p->dir;
	if (invoke_run_sync(ctx, &req, on_done, &st, &err) < 0 && !strcmp(err.code, "InvokeFailed"))
		rc = st.rc; /* already printed by on_done */
	else if (lk_error_is_set(&err))
		fprintf(stderr, "lambdeck: %s\n", err.message), rc = 1;
	else
		rc = st.rc;
	invoke_ctx_free(ctx);
	cli_loop_finish(&loop);
out_project:
	free(label);
	buf_free(&body);
	project_free(p);
	return rc;
}
