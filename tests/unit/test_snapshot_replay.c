/* backend/snapshot replay-all against a real emulator (started through backend/mode.h with
 * $LAMBDECK, in a copy of examples/hello-python): a snapshot saved from a real invocation
 * passes; an edited expectation fails with the differing path; ignored paths are ignored; a
 * broken snapshot file is an error, not a crash; the async API reports progress and runs its
 * callbacks on the loop only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend/events.h"
#include "backend/snapshot.h"

struct fixture {
	char dir[64];
	char *proj;
	uv_loop_t loop;
	struct project *p;
	struct invoke_ctx *ctx;
};

static void run_argv(char *const argv[])
{
	pid_t pid = fork();
	int st = 0;

	if (pid == 0) {
		execv(argv[0], argv);
		_exit(127);
	}
	waitpid(pid, &st, 0);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const char *src = getenv("LAMBDECK_SRC"), *exe = getenv("LAMBDECK");
	struct lk_error err = {0};
	struct mode_options mo = {0};
	char *from;

	if (!src || !exe) {
		fprintf(stderr, "LAMBDECK and LAMBDECK_SRC must be set (ctest sets them)\n");
		return -1;
	}
	snprintf(f->dir, sizeof(f->dir), "/tmp/lk-snaprun-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	f->proj = xasprintf("%s/p", f->dir);
	/* Only the tracked files: never what a console session left in examples/. */
	from = xasprintf("%s/tests/lib/fixture_copy.sh", src);
	{
		char *argv[] = {"/bin/bash", from, "examples/hello-python", f->proj, NULL};
		run_argv(argv);
	}
	free(from);
	if (project_load(f->proj, &f->p, &err) < 0) {
		fprintf(stderr, "%s\n", err.message);
		return -1;
	}
	uv_loop_init(&f->loop);
	mo.project_dir = f->proj;
	mo.force_local = true;
	mo.lambdeck_exe = exe;
	f->ctx = invoke_ctx_new(&f->loop, f->p, &mo, &err);
	if (!f->ctx) {
		fprintf(stderr, "%s\n", err.message);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	invoke_ctx_free(f->ctx); /* stops the emulator it started */
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	project_free(f->p);
	{
		char *argv[] = {"/bin/rm", "-rf", f->dir, NULL};
		run_argv(argv);
	}
	free(f->proj);
	free(f);
	return 0;
}

struct saved {
	struct fixture *f;
	const char *name;
	const char *event;
	bool done;
	int status;
};

static void save_cb(const struct invoke_result *r, void *user)
{
	struct saved *s = user;
	struct lk_error err = {0};

	s->done = true;
	s->status = r->status;
	assert_int_equal(snapshot_save(s->f->proj, "HelloFunction", s->name, s->event,
	                               strlen(s->event), NULL, r, &err),
	                 0);
}

static void write_text(const char *path, const char *text)
{
	struct lk_error err = {0};

	assert_int_equal(util_write_atomic(path, text, strlen(text), 0644, &err), 0);
}

struct async_state {
	int progress_calls;
	bool done;
	size_t n, passed, failed, errors;
	bool in_start;
};

static void on_progress(const struct snapshot_outcome *o, size_t done, size_t total, void *user)
{
	struct async_state *a = user;

	(void)o;
	assert_false(a->in_start);
	assert_true(done <= total);
	a->progress_calls++;
}

static void on_done(const struct snapshot_report *r, void *user)
{
	struct async_state *a = user;

	assert_false(a->in_start);
	a->done = true;
	a->n = r->n;
	a->passed = r->passed;
	a->failed = r->failed;
	a->errors = r->errors;
}

static void test_replay_all(void **state)
{
	struct fixture *f = *state;
	struct lk_error err = {0};
	struct snapshot_report rep;
	struct saved s1 = {.f = f, .name = "ada", .event = "{\"name\": \"Ada\"}"};
	struct saved s2 = {.f = f, .name = "bob", .event = "{\"name\": \"Bob\"}"};
	struct invoke_request req = {.function = "HelloFunction", .no_history = true};
	struct buf b = {0}, out = {0};
	char *path;
	struct async_state a = {0};
	struct snapshot_run *run;

	/* Two snapshots from real invocations. */
	req.payload = s1.event, req.payload_len = strlen(s1.event), req.event_name = "ada";
	assert_int_equal(invoke_run_sync(f->ctx, &req, save_cb, &s1, &err), 0);
	assert_int_equal(s1.status, 200);
	req.payload = s2.event, req.payload_len = strlen(s2.event), req.event_name = "bob";
	assert_int_equal(invoke_run_sync(f->ctx, &req, save_cb, &s2, &err), 0);

	assert_int_equal(snapshot_run_sync(f->ctx, f->p, NULL, &rep, &err), 0);
	assert_int_equal(rep.n, 2);
	assert_int_equal(rep.passed, 2);
	snapshot_report_clear(&rep);

	/* Change bob's expectation: one failure naming the path inside the JSON body. */
	path = snapshot_path(f->proj, "HelloFunction", "bob");
	assert_int_equal(util_read_file(path, &b, &err), 0);
	{
		char *p = strstr(b.data, "Hello, Bob!");
		assert_non_null(p);
		memcpy(p, "Howdy", 5);
	}
	write_text(path, b.data);
	assert_int_equal(snapshot_run_sync(f->ctx, f->p, "HelloFunction", &rep, &err), 0);
	assert_int_equal(rep.passed, 1);
	assert_int_equal(rep.failed, 1);
	assert_string_equal(rep.items[1].name, "bob");
	assert_int_equal(rep.items[1].n_diffs, 1);
	assert_string_equal(rep.items[1].diffs[0].path, "body.message");
	snapshot_report_format(&rep, false, &out);
	assert_non_null(strstr(out.data, "FAIL  HelloFunction/bob"));
	assert_non_null(
	    strstr(out.data, "body.message: expected \"Howdy, Bob!\", got \"Hello, Bob!\""));
	snapshot_report_clear(&rep);

	/* Ignoring that path makes it pass again. */
	{
		char *p = strstr(b.data, "\"ignore\": [");
		assert_non_null(p);
		char *fixed = xasprintf("%.*s\"ignore\": [\"body.message\", %s", (int)(p - b.data),
		                        b.data, p + strlen("\"ignore\": ["));
		write_text(path, fixed);
		free(fixed);
	}
	assert_int_equal(snapshot_run_sync(f->ctx, f->p, NULL, &rep, &err), 0);
	assert_int_equal(rep.passed, 2);
	snapshot_report_clear(&rep);

	/* A broken snapshot file: an error for that one, the others still run. */
	write_text(path, "{\"payload\": ");
	assert_int_equal(snapshot_run_sync(f->ctx, f->p, NULL, &rep, &err), 0);
	assert_int_equal(rep.errors, 1);
	assert_int_equal(rep.passed, 1);
	assert_non_null(strstr(rep.items[1].error, "bob.snapshot.json:1:"));
	snapshot_report_clear(&rep);

	/* Async: callbacks only from the loop, progress per snapshot. */
	a.in_start = true;
	run = snapshot_run_start(f->ctx, f->p, NULL, on_progress, on_done, &a, &err);
	a.in_start = false;
	assert_non_null(run);
	while (!a.done)
		uv_run(&f->loop, UV_RUN_ONCE);
	assert_int_equal(a.n, 2);
	assert_int_equal(a.progress_calls, 2);
	assert_int_equal(a.passed + a.errors, 2);

	/* Unknown function filter refused up front. */
	assert_null(snapshot_run_start(f->ctx, f->p, "Nope", NULL, on_done, &a, &err));
	assert_string_equal(err.code, "UnknownFunction");

	/* Replays are not history. */
	{
		char *h = xasprintf("%s/.lambdeck/history.jsonl", f->proj);
		assert_false(util_is_file(h));
		free(h);
	}
	buf_free(&b);
	buf_free(&out);
	free(path);
}

struct cancel_state {
	bool deploying;
	bool done;
	char code[64];
};

static void on_phase_stop(const char *phase, void *user)
{
	struct cancel_state *c = user;

	/* (may run inside invoke_start: no uv_stop here, the test loops with UV_RUN_ONCE) */
	if (!strcmp(phase, "deploying"))
		c->deploying = true;
}

static void on_cancelled(const struct invoke_result *r, void *user)
{
	struct cancel_state *c = user;

	c->done = true;
	snprintf(c->code, sizeof(c->code), "%s", r->err.code);
}

static void never_called(const struct invoke_result *r, void *user)
{
	(void)r;
	(void)user;
	fail_msg("callback after invoke_ctx_free");
}

/* Cancelling during the LOCAL deploy step reports "Cancelled"; freeing the ctx while a deploy
 * runs calls nobody back and leaves no handle or allocation behind (teardown checks
 * uv_loop_close, LeakSanitizer the rest). */
static void test_cancel_during_deploy(void **state)
{
	struct fixture *f = *state;
	struct cancel_state c = {0};
	struct invoke_request req = {
	    .function = "OrdersFunction", .payload = "{}", .payload_len = 2, .no_history = true};
	struct lk_error err = {0};
	struct invoke_op *op;

	invoke_ctx_set_phase_cb(f->ctx, on_phase_stop, &c);
	op = invoke_start(f->ctx, &req, on_cancelled, &c, &err);
	assert_non_null(op);
	while (!c.deploying && !c.done)
		uv_run(&f->loop, UV_RUN_ONCE);
	assert_true(c.deploying);
	invoke_cancel(op);
	while (!c.done)
		uv_run(&f->loop, UV_RUN_ONCE);
	assert_string_equal(c.code, "Cancelled");

	/* Again, then drop the whole context mid-deploy (HelloFunction is not deployed yet). */
	c.deploying = false;
	req.function = "HelloFunction";
	assert_non_null(invoke_start(f->ctx, &req, never_called, NULL, &err));
	while (!c.deploying)
		uv_run(&f->loop, UV_RUN_ONCE);
	invoke_ctx_free(f->ctx);
	f->ctx = NULL;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_replay_all, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cancel_during_deploy, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
