/* cmd_replay.c - 'lambdeck replay [N] [--function F] [--json]' replays the Nth most recent
 * invocation from .lambdeck/history.jsonl (1 = the newest, the default) with the same
 * function, qualifier, type and event; 'lambdeck replay --list [--function F]' shows the
 * numbered history. The replay is itself recorded. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend/history.h"
#include "backend/project.h"
#include "cli/cmd_invoke.h"

static void usage(FILE *out)
{
	fputs("usage: lambdeck replay [N] [--function F] [--json] [--no-update]\n"
	      "       lambdeck replay --list [--function F] [--limit N]\n"
	      "\n"
	      "N counts back from the newest invocation (1 = the newest, the default).\n"
	      "Global options that apply (LOCAL build + deploy first): --skip-deps,\n"
	      "--env-vars FILE, --parameter-overrides, --stage (see 'lambdeck --help').\n",
	      out);
}

static bool matches(const struct history_entry *e, const char *function)
{
	return !function || !strcmp(e->function, function);
}

static void print_list(const struct history *h, const char *function, int limit)
{
	int n = 0;

	for (size_t i = h->n; i-- > 0 && n < limit;) {
		const struct history_entry *e = &h->entries[i];
		char when[32];
		time_t t = (time_t)(e->time_ms / 1000);
		struct tm tm;
		struct buf b = {0};

		if (!matches(e, function))
			continue;
		n++;
		localtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
		buf_printf(&b, "%3d  %s  %-5s %-24s %-24s ", n, when, e->mode ? e->mode : "?",
		           e->function, e->event_name ? e->event_name : "-");
		if (e->error_code)
			buf_printf(&b, "FAILED %s", e->error_code);
		else if (e->function_error)
			buf_printf(&b, "%d %s", e->status, e->function_error);
		else
			buf_printf(&b, "%d", e->status);
		if (e->client_ms >= 0)
			buf_printf(&b, "  %.1f ms", e->client_ms);
		{
			struct buf c = {0};
			buf_puts(&c, "");
			util_sanitize(b.data, b.len, false, false, &c);
			puts(c.data);
			buf_free(&c);
		}
		buf_free(&b);
	}
	if (!n)
		puts("(no invocations yet)");
}

struct replay_cli {
	const char *function;
	const char *mode;
	bool json;
	int rc;
};

static void on_done(const struct invoke_result *r, void *user)
{
	struct replay_cli *s = user;

	s->rc = cli_print_invoke_result(r, s->function, s->mode, s->json);
}

int cmd_replay(int argc, char **argv, const struct global_opts *g)
{
	const char *function = NULL;
	bool list = false, json = false, no_update = false;
	long nth = 1, limit = 20;
	struct project *p = NULL;
	struct history h = {0};
	struct lk_error err = {0};
	const struct history_entry *pick = NULL;
	struct history_entry e;
	struct mode_options mo;
	struct invoke_ctx *ctx;
	struct replay_cli st = {0};
	uv_loop_t loop;
	int rc = 1, seen = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		char *end;
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "--list")) {
			list = true;
		} else if (!strcmp(a, "--json")) {
			json = true;
		} else if (!strcmp(a, "--no-update")) {
			no_update = true;
		} else if (!strcmp(a, "--function") && i + 1 < argc) {
			function = argv[++i];
		} else if (!strcmp(a, "--limit") && i + 1 < argc) {
			limit = strtol(argv[++i], &end, 10);
			if (*end || limit < 1) {
				usage(stderr);
				return 2;
			}
		} else if (a[0] != '-' && (nth = strtol(a, &end, 10), !*end) && nth >= 1) {
			continue;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (cli_project_load(g, &p, &err) < 0) {
		fprintf(stderr, "lambdeck: %s\n", err.message);
		project_free(p);
		return 1;
	}
	if (history_load(p->dir, &h, &err) < 0) {
		fprintf(stderr, "lambdeck: %s\n", err.message);
		goto out;
	}
	if (list) {
		print_list(&h, function, (int)limit);
		rc = 0;
		goto out;
	}
	for (size_t i = h.n; i-- > 0;)
		if (matches(&h.entries[i], function) && ++seen == nth) {
			pick = &h.entries[i];
			break;
		}
	if (!pick) {
		fprintf(stderr, "lambdeck: no invocation #%ld in the history%s%s (%d recorded)\n",
		        nth, function ? " of " : "", function ? function : "", seen);
		goto out;
	}
	if (!project_find(p, pick->function)) {
		fprintf(stderr, "lambdeck: the project has no function '%s' any more\n",
		        pick->function);
		goto out;
	}
	/* The history may change under us (another console): keep a private copy. */
	history_entry_copy(&e, pick);
	uv_loop_init(&loop);
	cli_mode_options(g, p, &mo);
	if (!(ctx = invoke_ctx_new(&loop, p, &mo, &err))) {
		fprintf(stderr, "lambdeck: %s\n", err.message);
	} else {
		struct invoke_request req = {
		    .function = e.function,
		    .qualifier = e.qualifier,
		    .event_name = e.event_name,
		    .payload = e.event ? e.event : "{}",
		    .payload_len = e.event ? strlen(e.event) : 2,
		    .no_update = no_update,
		};
		if (e.invocation_type && invoke_type_parse(e.invocation_type, &req.type) < 0)
			req.type = INVOKE_REQUEST_RESPONSE;
		st.function = e.function;
		st.mode = invoke_ctx_mode_name(ctx);
		st.json = json;
		st.rc = 1;
		if (!json)
			fprintf(stderr, "replaying %s with %s\n", e.function,
			        e.event_name ? e.event_name : "its event");
		if (invoke_run_sync(ctx, &req, on_done, &st, &err) < 0 &&
		    strcmp(err.code, "InvokeFailed"))
			fprintf(stderr, "lambdeck: %s\n", err.message), rc = 1;
		else
			rc = st.rc;
		invoke_ctx_free(ctx);
	}
	cli_loop_finish(&loop);
	history_entry_clear(&e);
out:
	history_clear(&h);
	project_free(p);
	return rc;
}
