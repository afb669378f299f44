/* cmd_test.c - 'lambdeck test [--watch] [--json] [--explain] [--snapshots] [--timeout S]
 * [--junit PATH] [--debounce MS] [--quiet] [-- COMMAND ARGS...]': runs the project's test
 * roots (lambdeck.json "test" or detected, see testrun.h testrun_plan_detect) as one suite,
 * streams their sanitised output, prints each root's result, the counts and the failures
 * with file:line; exits 0 only if everything passed, 5 when no tests ran. --watch re-runs
 * on save until Ctrl-C. --json prints one JSON object per run (JSON Lines). --explain
 * prints which rule chose each root's command and exits. */
#include <langinfo.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include <cjson/cJSON.h>

#include "backend/invoke.h"
#include "backend/project.h"
#include "backend/snapshot.h"
#include "backend/testrun.h"
#include "cli/cmd_invoke.h"
#include "cli/commands.h"
#include "cli/output.h"

struct cli_test {
	uv_loop_t *loop;
	struct testrun *tr;
	uv_signal_t sigint, sigterm;
	uv_timer_t defer; /* runs after_run outside the snapshot run's callback */
	bool watch, json, quiet, ascii;
	bool interrupted;
	bool stopping;
	int last_status; /* exit status of the last finished run */
	const char *dir;
	/* --snapshots: replayed after every run of the test command */
	bool snapshots;
	struct project *project;
	struct invoke_ctx *ctx;
	struct snapshot_run *snap_run;
	struct testrun_result pending; /* the test run waiting for its snapshot replay */
};

static void usage(FILE *out)
{
	fputs("usage: lambdeck test [--watch] [--json] [--explain] [--snapshots] [--timeout "
	      "SECONDS]\n"
	      "                     [--junit PATH] [--debounce MS] [--quiet] [-- COMMAND ARGS...]\n"
	      "\n"
	      "Runs the project's tests: lambdeck.json \"test\", else detected per test root (the\n"
	      "project and each function's code directory), first rule wins: Makefile test\n"
	      "target, package.json scripts.test, pytest (when the project uses it, with the\n"
	      "interpreter that has it: .venv/venv/$VIRTUAL_ENV first), go.mod, unittest. Several\n"
	      "roots run as one suite.\n"
	      "  --explain        print each root, its command and the rule that chose it; exit\n"
	      "  --watch          re-run on every save (debounced) until Ctrl-C\n"
	      "  --json           one JSON object per run on stdout (no streamed output)\n"
	      "  --snapshots      also replay the snapshot tests (events/F/NAME.snapshot.json)\n"
	      "                   after each run; all must pass too\n"
	      "  --timeout S      kill a run after S seconds (default 600, 0 = never)\n"
	      "  --junit PATH     JUnit XML report the command writes (default: --junitxml=PATH\n"
	      "                   of the command, if any)\n"
	      "  --debounce MS    delay after the last save before a re-run (default 200)\n"
	      "  --quiet          do not stream the command's output\n"
	      "  -- COMMAND ...   run this command instead\n"
	      "Exit status: 0 when every test passed, 1 when a test failed or the command could\n"
	      "not run, 2 on a usage error, 5 when no tests ran (a warning, not a pass).\n",
	      out);
}

static void print_sanitised(FILE *out, const char *s)
{
	struct buf b = {0};
	util_sanitize(s, strlen(s), false, false, &b);
	buf_append(&b, "", 0);
	fputs(b.data, out);
	buf_free(&b);
}

static void on_start(struct testrun *tr, const struct testrun_result *r, void *user)
{
	struct cli_test *c = user;
	(void)tr;
	if (c->json || r->status != TESTRUN_RUNNING)
		return;
	fprintf(stderr, "%s run %u (%s): ", c->ascii ? "==" : "▶", r->id, r->trigger);
	print_sanitised(stderr, r->command);
	fputc('\n', stderr);
}

static void on_line(struct testrun *tr, const char *line, void *user)
{
	struct cli_test *c = user;
	(void)tr;
	if (c->json || c->quiet)
		return;
	fputs(line, stdout); /* already sanitised by testrun */
	fputc('\n', stdout);
	fflush(stdout);
}

/* Prints a run (and the snapshot replay that followed it, when snap is not NULL). */
static void print_result(struct cli_test *c, const struct testrun_result *r,
                         const struct testrun_result *snap)
{
	if (c->json) {
		char *j = testrun_result_json(r, true);
		if (snap) {
			cJSON *o = cJSON_Parse(j);
			char *sj = testrun_result_json(snap, false);
			cJSON_AddItemToObject(o, "snapshots", cJSON_Parse(sj));
			cJSON_AddBoolToObject(o, "allPassed",
			                      r->status == TESTRUN_PASSED &&
			                          snap->status == TESTRUN_PASSED);
			free(sj);
			free(j);
			j = util_json_safe(cJSON_PrintUnformatted(o));
			cJSON_Delete(o);
		}
		puts(j);
		free(j);
		fflush(stdout);
		return;
	}
	struct buf b = {0};
	if (r->note) {
		fputs("note: ", stdout);
		print_sanitised(stdout, r->note);
		fputc('\n', stdout);
	}
	for (size_t i = 0; i < r->n_failures; i++) {
		const struct testrun_failure *f = &r->failures[i];
		printf("%s ", c->ascii ? "FAIL" : "✗");
		if (f->file) {
			const char *shown = f->path ? f->path : f->file;
			size_t dl = strlen(c->dir);
			if (f->path && !strncmp(shown, c->dir, dl) && shown[dl] == '/')
				shown += dl + 1;
			print_sanitised(stdout, shown);
			if (f->line)
				printf(":%d", f->line);
			fputc(' ', stdout);
		}
		fputs(f->name, stdout);
		fputc('\n', stdout);
		if (f->message && *f->message)
			printf("    %s\n", f->message);
	}
	if (r->failures_truncated)
		printf("(more than %d failures; the rest are in the output)\n",
		       TESTRUN_MAX_FAILURES);
	for (size_t i = 0; r->n_roots > 1 && i < r->n_roots; i++) {
		const struct testrun_root_result *x = &r->roots[i];
		buf_reset(&b);
		testrun_root_summary(x, c->ascii, &b);
		fputs("  ", stdout);
		print_sanitised(stdout, x->dir);
		fputs(": ", stdout);
		print_sanitised(stdout, b.data ? b.data : "");
		fputs("  (", stdout);
		print_sanitised(stdout, x->command);
		fputs(")\n", stdout);
	}
	if (r->warning) {
		fputs(c->ascii ? "warning: " : "⚠ warning: ", stdout);
		print_sanitised(stdout, r->warning);
		fputc('\n', stdout);
	}
	buf_reset(&b);
	testrun_result_summary(r, c->ascii, &b);
	printf("%s%s\n", snap ? "tests: " : "", b.data ? b.data : "");
	buf_free(&b);
	if (snap) {
		for (size_t i = 0; i < snap->n_failures; i++) {
			const struct testrun_failure *f = &snap->failures[i];
			printf("%s %s %s\n", c->ascii ? "FAIL" : "✗", f->file ? f->file : "",
			       f->name);
			if (f->message && *f->message)
				printf("    %s\n", f->message);
		}
		buf_reset(&b);
		testrun_result_summary(snap, c->ascii, &b);
		printf("snapshots: %s\n",
		       snap->passed + snap->failed + snap->errors ? b.data : "none");
		buf_free(&b);
	}
	fflush(stdout);
}

/* The documented exit status of a run: 0 passed, 5 no tests ran, 1 otherwise. */
static int exit_of(const struct testrun_result *r)
{
	return r->status == TESTRUN_PASSED ? 0 : r->status == TESTRUN_NO_TESTS ? 5 : 1;
}

static void stop_loop(struct cli_test *c)
{
	if (c->stopping)
		return;
	c->stopping = true;
	if (c->snap_run)
		snapshot_run_cancel(c->snap_run); /* calls on_snapshots_done once */
	c->snap_run = NULL;
	invoke_ctx_free(c->ctx);
	c->ctx = NULL;
	testrun_free(c->tr);
	c->tr = NULL;
	uv_close((uv_handle_t *)&c->sigint, NULL);
	uv_close((uv_handle_t *)&c->sigterm, NULL);
	uv_close((uv_handle_t *)&c->defer, NULL);
}

static void after_run(struct cli_test *c)
{
	if (c->interrupted || !c->watch)
		stop_loop(c);
	else if (!c->json)
		fprintf(stderr, "%s watching for changes (Ctrl-C to stop)\n",
		        c->ascii ? "--" : "…");
}

static void on_defer(uv_timer_t *t)
{
	after_run(t->data);
}

static void on_snapshots_done(const struct snapshot_report *rep, void *user)
{
	struct cli_test *c = user;
	struct testrun_result snap = {0};

	c->snap_run = NULL;
	if (c->stopping) { /* cancelled by Ctrl-C: the test result still counts */
		testrun_result_clear(&c->pending);
		return;
	}
	testrun_from_snapshots(rep, c->dir, &snap);
	print_result(c, &c->pending, &snap);
	c->last_status = exit_of(&c->pending);
	if (c->last_status != 1 && snap.status != TESTRUN_PASSED)
		c->last_status = 1;
	testrun_result_clear(&snap);
	testrun_result_clear(&c->pending);
	/* the run (and the invoke ctx it uses) must not be freed from inside its callback */
	uv_timer_start(&c->defer, on_defer, 0, 0);
}

static void on_finish(struct testrun *tr, const struct testrun_result *r, void *user)
{
	struct cli_test *c = user;
	struct lk_error err = {0};
	(void)tr;
	c->last_status = exit_of(r);
	if (c->snapshots && c->ctx && !c->interrupted) {
		if (c->snap_run) {
			print_result(c, r, NULL);
			fputs("snapshots: still replaying for the previous run\n", stderr);
			c->last_status = 1;
			return;
		}
		testrun_result_clear(&c->pending);
		testrun_result_copy(&c->pending, r);
		if (!c->json)
			fputs("replaying snapshot tests\n", stderr);
		c->snap_run =
		    snapshot_run_start(c->ctx, c->project, NULL, NULL, on_snapshots_done, c, &err);
		if (c->snap_run)
			return;
		testrun_result_clear(&c->pending);
		print_result(c, r, NULL);
		fprintf(stderr, "lambdeck test: snapshots: %s\n", err.message);
		c->last_status = 1;
		after_run(c);
		return;
	}
	print_result(c, r, NULL);
	after_run(c);
}

static void on_signal(uv_signal_t *s, int signum)
{
	struct cli_test *c = s->data;
	(void)signum;
	c->interrupted = true;
	if (c->tr && testrun_running(c->tr))
		testrun_cancel(c->tr); /* on_finish stops the loop */
	else
		stop_loop(c); /* also cancels a snapshot replay */
}

int cmd_test(int argc, char **argv, const struct global_opts *g)
{
	struct cli_test c = {.last_status = 1};
	struct testrun_opts o = {.timeout_ms = 600000};
	char **custom = NULL;
	bool snapshots = false, explain = false;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--watch") || !strcmp(a, "-w"))
			c.watch = true;
		else if (!strcmp(a, "--json"))
			c.json = true;
		else if (!strcmp(a, "--quiet") || !strcmp(a, "-q"))
			c.quiet = true;
		else if (!strcmp(a, "--snapshots"))
			snapshots = true;
		else if (!strcmp(a, "--explain"))
			explain = true;
		else if ((!strcmp(a, "--timeout") || !strcmp(a, "--debounce") ||
		          !strcmp(a, "--junit")) &&
		         i + 1 < argc) {
			const char *v = argv[++i];
			char *end;
			if (!strcmp(a, "--junit")) {
				o.report_path = v;
				continue;
			}
			double d = strtod(v, &end);
			if (end == v || *end || d < 0 || d > 86400 * 7) {
				fprintf(stderr, "lambdeck test: %s: not a valid number: %s\n", a,
				        v);
				return 2;
			}
			if (!strcmp(a, "--timeout"))
				o.timeout_ms = (unsigned)(d * 1000);
			else
				o.debounce_ms = d < 1 ? 1 : (unsigned)d;
		} else if (!strcmp(a, "--")) {
			if (i + 1 >= argc) {
				fputs("lambdeck test: -- needs a command\n", stderr);
				return 2;
			}
			custom = argv + i + 1;
			break;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		} else {
			static const char *const options[] = {
			    "--watch",    "--json",  "--quiet", "--snapshots", "--timeout",
			    "--debounce", "--junit", "--help",  NULL};
			return cli_unknown_option("test", a, options, argc, argv);
		}
	}
	const char *codeset = nl_langinfo(CODESET);
	c.ascii = g->ascii || !codeset || strcmp(codeset, "UTF-8");

	struct project *p = NULL;
	struct lk_error err = {0};
	if (cli_project_load(g, &p, &err) != 0) {
		fprintf(stderr, "lambdeck test: warning: ");
		print_sanitised(stderr, err.message);
		fputc('\n', stderr);
	}
	if (!p || !p->dir) {
		project_free(p);
		return cli_error("test", c.json, CLI_FAILED, "ProjectError",
		                 "cannot open project %s", g->project_dir ? g->project_dir : ".");
	}
	c.project = p;
	c.snapshots = snapshots;
	struct testrun_plan plan = {0};
	if (!custom)
		testrun_plan_detect(p->dir, p, &plan);
	c.dir = p->dir;
	if (explain) {
		struct buf b = {0};
		if (custom) {
			char *j = testrun_argv_join(custom);
			buf_printf(&b, ".: %s\n    chosen by: the command line (-- COMMAND)\n", j);
			free(j);
		} else {
			testrun_plan_explain(&plan, &b);
		}
		struct buf clean = {0};
		util_sanitize(b.data ? b.data : "", b.len, true, false, &clean);
		fwrite(clean.data ? clean.data : "", 1, clean.len, stdout);
		buf_free(&clean);
		buf_free(&b);
		testrun_plan_clear(&plan);
		project_free(p);
		return 0;
	}

	uv_loop_t loop;
	uv_loop_init(&loop);
	c.loop = &loop;
	const struct testrun_callbacks cbs = {
	    .on_start = on_start,
	    .on_line = on_line,
	    .on_finish = on_finish,
	};
	if (!custom) { /* the project's suite: shared with consoles on it (testrun.h) */
		o.share_as = "lambdeck test";
		o.wait_for_lock = !c.watch; /* one-shot: wait for their run; watch: skip a save
		                              another process already runs the suite for */
	}
	c.tr = custom ? testrun_new(&loop, p->dir, custom, &o, &cbs, &c)
	              : testrun_new_plan(&loop, &plan, &o, &cbs, &c);
	if (!c.json) {
		for (size_t i = 0; i < (custom ? 1 : plan.n); i++) {
			fprintf(stderr, "test command%s%s (", plan.n > 1 ? " in " : "",
			        plan.n > 1 ? plan.roots[i].rel : "");
			print_sanitised(stderr, custom ? "command line" : plan.roots[i].rule);
			fputs("): ", stderr);
			char *j = testrun_argv_join(custom ? custom : plan.roots[i].argv);
			print_sanitised(stderr, j);
			free(j);
			fputc('\n', stderr);
		}
	}
	testrun_plan_clear(&plan);
	if (snapshots) {
		struct mode_options mo;
		cli_mode_options(g, p, &mo);
		c.ctx = invoke_ctx_new(&loop, p, &mo, &err);
		if (!c.ctx) {
			cli_error("test", c.json, CLI_FAILED, err.code, "--snapshots: %s",
			          err.message);
			testrun_free(c.tr);
			uv_run(&loop, UV_RUN_DEFAULT);
			uv_loop_close(&loop);
			project_free(p);
			return 1;
		}
	}
	uv_timer_init(&loop, &c.defer);
	c.defer.data = &c;
	uv_signal_init(&loop, &c.sigint);
	uv_signal_init(&loop, &c.sigterm);
	c.sigint.data = c.sigterm.data = &c;
	uv_signal_start(&c.sigint, on_signal, SIGINT);
	uv_signal_start(&c.sigterm, on_signal, SIGTERM);

	int rc = 0;
	if (c.watch) {
		if (testrun_set_watch(c.tr, true, &err) != 0) {
			fputs("lambdeck test: --watch: ", stderr);
			print_sanitised(stderr, err.message);
			fputc('\n', stderr);
			stop_loop(&c);
			rc = 1;
		} else if (!c.json) {
			fprintf(stderr, "watching %zu %s under ", testrun_watch_dirs(c.tr),
			        cli_plural(testrun_watch_dirs(c.tr), "directory", "directories"));
			print_sanitised(stderr, p->dir);
			fputc('\n', stderr);
			if (testrun_watch_problem(c.tr)) {
				fputs("warning: ", stderr);
				print_sanitised(stderr, testrun_watch_problem(c.tr));
				fputc('\n', stderr);
			}
		}
	}
	if (!c.stopping)
		testrun_start(c.tr, c.watch ? "watch start" : "manual", NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	if (!c.stopping)
		stop_loop(&c);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	testrun_result_clear(&c.pending);
	project_free(p);
	if (rc)
		return rc;
	if (c.interrupted && c.watch)
		return c.last_status;
	return c.interrupted ? 130 : c.last_status;
}
