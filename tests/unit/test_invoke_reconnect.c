/* backend/invoke reconnect (issue 21.2): one invoke ctx (as one `lambdeck invoke` or one
 * loop of invocations holds it) whose emulator is killed with SIGKILL between two
 * invocations: the second request is refused, never reached a function, so the ctx attaches
 * to / starts the next emulator, deploys there and the invocation succeeds. Runs against
 * the real emulator ($LAMBDECK) in a copy of examples/hello-python. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "backend/invoke.h"
#include "tests/lib/unit_tmp.h"

struct fixture {
	char *dir;
	char *proj;
	uv_loop_t loop;
	struct project *p;
	struct invoke_ctx *ctx;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const char *src = getenv("LAMBDECK_SRC"), *exe = getenv("LAMBDECK");
	struct lk_error err = {0};
	char *from;
	/* strings on the stack: the ctx keeps its own copies for a reconnect */
	char proj[128], exe_copy[512];
	struct mode_options mo = {
	    .force_local = true, .project_dir = proj, .lambdeck_exe = exe_copy};

	if (!src || !exe) {
		fprintf(stderr, "LAMBDECK and LAMBDECK_SRC must be set (ctest sets them)\n");
		return -1;
	}
	f->dir = test_tmpdir("reconnect");
	f->proj = xasprintf("%s/p", f->dir);
	from = xasprintf("%s/examples/hello-python", src);
	test_cp_r(from, f->proj);
	free(from);
	if (project_load(f->proj, &f->p, &err) < 0) {
		fprintf(stderr, "%s\n", err.message);
		return -1;
	}
	uv_loop_init(&f->loop);
	snprintf(proj, sizeof(proj), "%s", f->proj);
	snprintf(exe_copy, sizeof(exe_copy), "%s", exe);
	f->ctx = invoke_ctx_new(&f->loop, f->p, &mo, &err);
	memset(proj, 0, sizeof(proj));
	memset(exe_copy, 0, sizeof(exe_copy));
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
	test_rm_rf(f->dir);
	free(f->dir);
	free(f->proj);
	free(f);
	return 0;
}

/* The pid and port of the project's emulator, from its endpoint file (-1 when none). */
static void emulator_info(const struct fixture *f, int *pid, int *port)
{
	char *path = xasprintf("%s/.lambdeck/emulator/endpoint", f->proj);
	struct buf b = {0};
	cJSON *j = NULL;

	*pid = *port = -1;
	if (util_read_file(path, &b, NULL) == 0 && (j = cJSON_Parse(b.data ? b.data : ""))) {
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(j, "pid");
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "endpoint");
		const char *colon = cJSON_IsString(e) ? strrchr(e->valuestring, ':') : NULL;

		*pid = cJSON_IsNumber(p) ? p->valueint : -1;
		*port = colon ? atoi(colon + 1) : -1;
	}
	cJSON_Delete(j);
	buf_free(&b);
	free(path);
}

static int emulator_pid(const struct fixture *f)
{
	int pid, port;

	emulator_info(f, &pid, &port);
	return pid;
}

/* Waits until pid has died (a zombie or gone: its sockets are closed), as a crash would
 * have left it before the next request. */
static void wait_gone(int pid)
{
	char path[64], st[512];

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	for (int i = 0; i < 30000; i++) {
		FILE *fp = fopen(path, "r");
		size_t n = fp ? fread(st, 1, sizeof(st) - 1, fp) : 0;
		char *rp;

		if (fp)
			fclose(fp);
		st[n] = '\0';
		rp = strrchr(st, ')');
		if (!fp || (rp && rp[1] == ' ' && (rp[2] == 'Z' || rp[2] == 'X')))
			return;
		usleep(1000);
	}
	fail_msg("emulator %d did not die", pid);
}

struct outcome {
	int status;
	bool updated;
	char code[64];
	char payload[256];
};

static void on_done(const struct invoke_result *r, void *user)
{
	struct outcome *o = user;

	o->status = r->status;
	o->updated = r->updated;
	snprintf(o->code, sizeof(o->code), "%s", r->err.code);
	if (lk_error_is_set(&r->err))
		fprintf(stderr, "invoke: %s: %s\n", r->err.code, r->err.message);
	snprintf(o->payload, sizeof(o->payload), "%s", r->payload);
}

static void invoke_once(struct fixture *f, struct outcome *o)
{
	struct invoke_request req = {
	    .function = "HelloFunction", .payload = "{\"name\":\"ada\"}", .payload_len = 14};
	struct lk_error err = {0};

	memset(o, 0, sizeof(*o));
	if (invoke_run_sync(f->ctx, &req, on_done, o, &err) < 0)
		fail_msg("invoke failed: %s: %s (%s)", err.code, err.message, o->code);
}

/* Waits until no connection of ours to port is ESTABLISHED any more: the dead emulator's
 * FIN has reached the client's kept-alive connection (softirq work that a loaded machine
 * delays), as it has long since when a real emulator crashed before the next request. A
 * request on a connection that still looks alive is sent, and a sent request is never
 * retried: that is not the case under test. */
static void wait_connections_closed(int port)
{
	char rem[32], line[512];

	snprintf(rem, sizeof(rem), "0100007F:%04X", port);
	for (int i = 0; i < 30000; i++) {
		FILE *fp = fopen("/proc/net/tcp", "r");
		bool open = false;

		while (fp && fgets(line, sizeof(line), fp)) {
			char local[64], remote[64], st[8];

			if (sscanf(line, " %*d: %63s %63s %7s", local, remote, st) == 3 &&
			    !strcmp(remote, rem) && !strcmp(st, "01"))
				open = true;
		}
		if (fp)
			fclose(fp);
		if (!open)
			return;
		usleep(1000);
	}
	fail_msg("connections to port %d stayed established", port);
}

/* One invocation starts the emulator, which is then killed with SIGKILL; returns its pid. */
static int invoke_then_kill(struct fixture *f)
{
	struct outcome o;
	int pid, port;

	invoke_once(f, &o);
	assert_int_equal(o.status, 200);
	emulator_info(f, &pid, &port);
	assert_true(pid > 0 && port > 0);
	assert_int_equal(kill(pid, SIGKILL), 0);
	wait_gone(pid);
	wait_connections_closed(port);
	return pid;
}

static void test_killed_emulator_is_replaced(void **state)
{
	struct fixture *f = *state;
	struct outcome o;
	int first = invoke_then_kill(f), second;

	/* the same ctx: its client still points at the dead emulator's port */
	invoke_once(f, &o);
	assert_int_equal(o.status, 200);
	assert_non_null(strstr(o.payload, "ada"));
	second = emulator_pid(f);
	assert_true(second > 0);
	assert_int_not_equal(first, second);
	/* and it stays usable */
	invoke_once(f, &o);
	assert_int_equal(o.status, 200);
}

/* The code changed too: the refused request is the deploy's, which runs again against the
 * next emulator before the invocation. */
static void test_killed_emulator_during_update(void **state)
{
	struct fixture *f = *state;
	struct outcome o;
	int first = invoke_then_kill(f);
	char *app = xasprintf("%s/hello/app.py", f->proj);
	FILE *fp;

	assert_non_null(fp = fopen(app, "a"));
	fputs("\n# changed\n", fp);
	fclose(fp);
	invoke_once(f, &o);
	assert_int_equal(o.status, 200);
	assert_true(o.updated); /* the new code was deployed to the next emulator */
	assert_int_not_equal(emulator_pid(f), first);
	free(app);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_killed_emulator_is_replaced, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_killed_emulator_during_update, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
