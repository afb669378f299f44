/* test_deploy.c - quick deploy against real peers: the local emulator (`lambdeck emulate`:
 * create in local mode, skip by CodeSha256, --force, code edit -> new behaviour on invoke,
 * configuration push, unknown names) and, for what the emulator never does, a scripted
 * Lambda/S3 peer (tests/unit/deploy_fake_lambda.py): ResourceConflictException retries,
 * LastUpdateStatus InProgress -> Successful / Failed, uploads through S3, parallel bound. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "backend/aws/aws.h"
#include "backend/deploy.h"

extern char **environ;

struct peer {
	pid_t pid;
	char *line; /* first stdout line */
};

/* Peers still running, killed at exit even when a test failed half-way. */
static pid_t live_peers[8];

static void kill_live_peers(void)
{
	for (int i = 0; i < 8; i++)
		if (live_peers[i] > 0) {
			kill(live_peers[i], SIGTERM);
			waitpid(live_peers[i], NULL, 0);
			live_peers[i] = 0;
		}
}

/* Starts argv with stdout on a pipe; returns its first line. The peer gets SIGTERM if this
 * process dies. */
static void peer_start(struct peer *p, char *const argv[])
{
	int fds[2];
	char buf[4096];
	size_t n = 0;

	assert_int_equal(pipe(fds), 0);
	p->pid = fork();
	assert_true(p->pid >= 0);
	if (p->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execv(argv[0], argv);
		_exit(127);
	}
	for (int i = 0; i < 8; i++)
		if (live_peers[i] <= 0) {
			live_peers[i] = p->pid;
			break;
		}
	close(fds[1]);
	while (n < sizeof(buf) - 1) {
		ssize_t r = read(fds[0], buf + n, 1);

		if (r <= 0 || buf[n] == '\n')
			break;
		n++;
	}
	buf[n] = '\0';
	close(fds[0]);
	if (n == 0)
		fail_msg("%s printed nothing", argv[0]);
	p->line = xstrdup(buf);
}

static void peer_stop(struct peer *p, bool must_exit_cleanly)
{
	int status = 0;

	kill(p->pid, SIGTERM);
	waitpid(p->pid, &status, 0);
	for (int i = 0; i < 8; i++)
		if (live_peers[i] == p->pid)
			live_peers[i] = 0;
	if (must_exit_cleanly)
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	free(p->line);
}

static void rm_rf(const char *dir)
{
	char *argv[] = {"/bin/rm", "-rf", (char *)dir, NULL};
	pid_t pid;

	if (getenv("LK_TEST_KEEP"))
		return;
	posix_spawn(&pid, argv[0], NULL, NULL, argv, environ);
	waitpid(pid, NULL, 0);
}

static void write_text(const char *path, const char *text)
{
	assert_int_equal(util_write_atomic(path, text, strlen(text), 0644, NULL), 0);
}

/* ---- a deploy run on the test's loop */

struct outcome {
	char function[64];
	enum deploy_outcome outcome;
	bool code_updated, config_updated, via_s3;
	int attempts;
	char code_sha256[48];
	struct lk_error err;
};

struct run {
	bool done;
	size_t n, failures;
	struct outcome out[16];
	int active, max_active;
	char active_names[16][64];
	int all_done_calls;
	struct deploy_job *job;
	bool cancel_on_wait;
};

static void run_progress(void *user, const char *function, enum deploy_phase phase, uint64_t d,
                         uint64_t t)
{
	struct run *r = user;
	int slot = -1, free_slot = -1;

	(void)d, (void)t;
	if (r->cancel_on_wait && phase == DEPLOY_PHASE_WAIT && r->job) {
		r->cancel_on_wait = false;
		deploy_cancel(r->job);
	}
	for (int i = 0; i < 16; i++) {
		if (!strcmp(r->active_names[i], function))
			slot = i;
		else if (!r->active_names[i][0] && free_slot < 0)
			free_slot = i;
	}
	if (phase == DEPLOY_PHASE_QUEUED)
		return;
	if (phase == DEPLOY_PHASE_DONE) {
		if (slot >= 0) {
			r->active_names[slot][0] = '\0';
			r->active--;
		}
		return;
	}
	if (slot < 0 && free_slot >= 0) {
		snprintf(r->active_names[free_slot], 64, "%s", function);
		if (++r->active > r->max_active)
			r->max_active = r->active;
	}
}

static void run_all_done(void *user, const struct deploy_result *res, size_t n, size_t failures)
{
	struct run *r = user;

	r->done = true;
	r->all_done_calls++;
	r->n = n;
	r->failures = failures;
	for (size_t i = 0; i < n && i < 16; i++) {
		struct outcome *o = &r->out[i];

		snprintf(o->function, sizeof(o->function), "%s", res[i].function);
		o->outcome = res[i].outcome;
		o->code_updated = res[i].code_updated;
		o->config_updated = res[i].config_updated;
		o->via_s3 = res[i].via_s3;
		o->attempts = res[i].attempts;
		snprintf(o->code_sha256, sizeof(o->code_sha256), "%s", res[i].code_sha256);
		o->err = res[i].err;
	}
}

static void deploy_now(uv_loop_t *loop, struct aws_client *c, const struct project *p,
                       const char *const *names, size_t n, const struct deploy_opts *o,
                       struct run *r)
{
	struct deploy_callbacks cb = {.progress = run_progress, .all_done = run_all_done};

	bool cancel_on_wait = r->cancel_on_wait;

	memset(r, 0, sizeof(*r));
	r->cancel_on_wait = cancel_on_wait;
	r->job = deploy_start(loop, c, p, names, n, o, &cb, r);
	assert_false(r->done); /* never synchronously */
	while (!r->done)
		uv_run(loop, UV_RUN_ONCE);
}

static struct aws_result *call(struct aws_client *c,
                               struct aws_op *(*start)(struct aws_client *, struct aws_waiter *))
{
	struct aws_waiter w = {0};

	start(c, &w);
	return aws_waiter_run(c, &w);
}

/* ---- fixture: a project with one Python function */

struct fx {
	char dir[128];
	char *src;
	struct project p;
	struct project_function fn[6];
	struct project_env env[1];
	char names[6][16];
};

static void fx_init(struct fx *f, size_t n_functions)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/lk-test-deploy-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->src = util_path_join(f->dir, "src");
	assert_int_equal(util_mkdir_p(f->src, 0755, NULL), 0);
	{
		char *app = util_path_join(f->src, "app.py");

		write_text(app, "import os\n\ndef handler(event, context):\n"
		                "    return {'v': 1, 'greeting': os.environ.get('GREETING')}\n");
		free(app);
	}
	f->env[0].name = "GREETING";
	f->env[0].value = "hi";
	f->p.dir = f->dir;
	f->p.functions = f->fn;
	f->p.n_functions = n_functions;
	for (size_t i = 0; i < n_functions; i++) {
		snprintf(f->names[i], sizeof(f->names[i]), i ? "Fn%zu" : "Fn", i);
		f->fn[i].name = f->names[i];
		f->fn[i].deployed_name = f->names[i];
		f->fn[i].runtime = "python3.12";
		f->fn[i].handler = "app.handler";
		f->fn[i].code_dir = f->src;
		f->fn[i].timeout = 3;
		f->fn[i].memory = 128;
		f->fn[i].env = f->env;
		f->fn[i].n_env = 1;
		f->fn[i].buildable = true;
	}
}

static void fx_free(struct fx *f)
{
	rm_rf(f->dir);
	free(f->src);
}

/* ---- against the local emulator */

static const char *invoke_name;

static struct aws_op *start_invoke(struct aws_client *c, struct aws_waiter *w)
{
	struct aws_invoke inv = {.function_name = invoke_name, .payload = "{}", .payload_len = 2};

	return aws_lambda_invoke(c, &inv, aws_waiter_done, w);
}

static struct aws_op *start_get(struct aws_client *c, struct aws_waiter *w)
{
	return aws_lambda_get_function(c, invoke_name, NULL, aws_waiter_done, w);
}

static void test_local_emulator(void **state)
{
	struct fx f;
	struct peer emu;
	uv_loop_t loop;
	struct aws_client *c;
	struct lk_error err = {0};
	struct run r = {0};
	struct deploy_opts o = {.local = true};
	const char *lambdeck = getenv("LAMBDECK");
	cJSON *info;
	struct aws_result *res;
	char *state_dir;

	(void)state;
	if (!lambdeck)
		fail_msg("LAMBDECK is not set (run through ctest)");
	fx_init(&f, 1);
	state_dir = util_path_join(f.dir, "emu");
	{
		char *argv[] = {(char *)lambdeck, "emulate", "--port", "0",
		                "--state-dir",    state_dir, NULL};

		peer_start(&emu, argv);
	}
	info = cJSON_Parse(emu.line);
	assert_non_null(info);
	uv_loop_init(&loop);
	{
		struct aws_options ao = {
		    .profile = cJSON_GetObjectItem(info, "profile")->valuestring,
		    .region = cJSON_GetObjectItem(info, "region")->valuestring,
		    .endpoint_url = cJSON_GetObjectItem(info, "endpoint")->valuestring,
		    .credentials_file = cJSON_GetObjectItem(info, "credentials_file")->valuestring,
		    .config_file = "/dev/null",
		    .ignore_env_credentials = true,
		};

		c = aws_client_new(&loop, &ao, &err);
		assert_non_null(c);
	}
	invoke_name = "Fn";

	/* 1. missing in the emulator: created from the project's settings */
	deploy_now(&loop, c, &f.p, NULL, 0, &o, &r);
	if (r.out[0].outcome == DEPLOY_FAILED)
		fail_msg("create: %s", r.out[0].err.message);
	assert_int_equal(r.out[0].outcome, DEPLOY_CREATED);
	res = call(c, start_invoke);
	assert_true(aws_result_ok(res));
	assert_non_null(strstr(res->body.data, "\"v\": 1"));
	assert_non_null(strstr(res->body.data, "\"greeting\": \"hi\""));
	aws_result_free(res);
	/* the deployed CodeSha256 is the local artifact's */
	res = call(c, start_get);
	assert_true(aws_result_ok(res));
	assert_string_equal(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(res->json, "Configuration"), "CodeSha256")
	        ->valuestring,
	    r.out[0].code_sha256);
	aws_result_free(res);

	/* 2. nothing changed: skipped by hash */
	deploy_now(&loop, c, &f.p, NULL, 0, &o, &r);
	assert_int_equal(r.out[0].outcome, DEPLOY_UNCHANGED);
	assert_false(r.out[0].code_updated);
	assert_false(r.out[0].config_updated);

	/* 3. --force uploads anyway */
	o.force = true;
	deploy_now(&loop, c, &f.p, NULL, 0, &o, &r);
	assert_int_equal(r.out[0].outcome, DEPLOY_UPDATED);
	assert_true(r.out[0].code_updated);
	o.force = false;

	/* 4. an edited handler is live after the deploy */
	{
		char *app = util_path_join(f.src, "app.py");

		write_text(app, "import os\n\ndef handler(event, context):\n"
		                "    return {'v': 2, 'greeting': os.environ.get('GREETING')}\n");
		free(app);
	}
	deploy_now(&loop, c, &f.p, NULL, 0, &o, &r);
	assert_int_equal(r.out[0].outcome, DEPLOY_UPDATED);
	assert_true(r.out[0].code_updated);
	assert_false(r.out[0].config_updated);
	res = call(c, start_invoke);
	assert_non_null(strstr(res->body.data, "\"v\": 2"));
	aws_result_free(res);

	/* 5. changed settings are pushed with UpdateFunctionConfiguration, code untouched */
	f.env[0].value = "hello";
	f.fn[0].timeout = 7;
	deploy_now(&loop, c, &f.p, NULL, 0, &o, &r);
	assert_int_equal(r.out[0].outcome, DEPLOY_UPDATED);
	assert_false(r.out[0].code_updated);
	assert_true(r.out[0].config_updated);
	res = call(c, start_invoke);
	assert_non_null(strstr(res->body.data, "\"greeting\": \"hello\""));
	aws_result_free(res);
	res = call(c, start_get);
	assert_int_equal(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(res->json, "Configuration"), "Timeout")
	        ->valueint,
	    7);
	aws_result_free(res);

	/* 6. an unknown name fails; the others continue */
	{
		const char *names[] = {"Nope", "Fn"};

		deploy_now(&loop, c, &f.p, names, 2, &o, &r);
		assert_int_equal(r.n, 2);
		assert_int_equal(r.failures, 1);
		assert_int_equal(r.out[0].outcome, DEPLOY_FAILED);
		assert_string_equal(r.out[0].err.code, "FunctionNotFound");
		assert_int_equal(r.out[1].outcome, DEPLOY_UNCHANGED);
	}
	/* 7. a build failure is a deploy failure (nothing uploaded) */
	{
		char *lnk = util_path_join(f.src, "outside");

		assert_int_equal(symlink("/etc/passwd", lnk), 0);
		deploy_now(&loop, c, &f.p, NULL, 0, &o, &r);
		assert_int_equal(r.out[0].outcome, DEPLOY_FAILED);
		assert_string_equal(r.out[0].err.code, "SymlinkOutside");
		unlink(lnk);
		free(lnk);
	}

	aws_client_free(c);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
	cJSON_Delete(info);
	peer_stop(&emu, true);
	free(state_dir);
	fx_free(&f);
}

/* ---- against the scripted peer */

struct fake {
	struct peer peer;
	char log[160];
	uv_loop_t loop;
	struct aws_client *c;
};

static void fake_start(struct fake *k, const char *dir)
{
	const char *src = getenv("LAMBDECK_SRC");
	char *script, *endpoint;
	struct lk_error err = {0};

	if (!src)
		fail_msg("LAMBDECK_SRC is not set (run through ctest)");
	script = xasprintf("%s/tests/unit/deploy_fake_lambda.py", src);
	snprintf(k->log, sizeof(k->log), "%s/requests.log", dir);
	{
		char *argv[] = {"/usr/bin/python3", script, k->log, NULL};

		peer_start(&k->peer, argv);
	}
	free(script);
	endpoint = xasprintf("http://127.0.0.1:%s", k->peer.line);
	setenv("AWS_ACCESS_KEY_ID", "AKIDLAMBDECKTEST", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "not-a-real-secret", 1);
	setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null", 1);
	uv_loop_init(&k->loop);
	{
		struct aws_options ao = {
		    .region = "us-east-1",
		    .endpoint_url = endpoint,
		    .config_file = "/dev/null",
		};

		k->c = aws_client_new(&k->loop, &ao, &err);
		assert_non_null(k->c);
	}
	free(endpoint);
}

static const char *reset_body;

static struct aws_op *start_reset(struct aws_client *c, struct aws_waiter *w)
{
	return aws_call_rest(c, AWS_SVC_LAMBDA, "POST", "/_control/reset", NULL, NULL, reset_body,
	                     strlen(reset_body), aws_waiter_done, w);
}

static void fake_reset(struct fake *k, const char *json)
{
	struct aws_result *r;

	reset_body = json;
	r = call(k->c, start_reset);
	if (!aws_result_ok(r))
		fail_msg("reset: %s: %s", r->err.code, r->err.message);
	aws_result_free(r);
	unlink(k->log);
}

static int log_count(struct fake *k, const char *line)
{
	struct buf b = {0};
	int n = 0;

	if (util_read_file(k->log, &b, NULL) < 0)
		return 0;
	for (const char *p = b.data; (p = strstr(p, line)); p += strlen(line))
		n++;
	buf_free(&b);
	return n;
}

static void fake_stop(struct fake *k)
{
	aws_client_free(k->c);
	uv_run(&k->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&k->loop), 0);
	peer_stop(&k->peer, false);
}

static void test_conflict_retry_and_wait(void **state)
{
	struct fx f;
	struct fake k;
	struct run r = {0};
	struct deploy_opts o = {0}; /* AWS mode */

	(void)state;
	fx_init(&f, 1);
	fake_start(&k, f.dir);

	/* two conflicts, then accepted as InProgress for two polls */
	fake_reset(&k, "{\"functions\":{\"Fn\":{\"conflicts\":2,\"polls\":2}}}");
	deploy_now(&k.loop, k.c, &f.p, NULL, 0, &o, &r);
	if (r.out[0].outcome != DEPLOY_UPDATED)
		fail_msg("deploy: %s", r.out[0].err.message);
	assert_int_equal(r.out[0].attempts, 3);
	assert_int_equal(log_count(&k, "PUT /2015-03-31/functions/Fn/code\n"), 3);
	assert_true(log_count(&k, "GET /2015-03-31/functions/Fn/configuration\n") >= 2);

	/* the service now has our CodeSha256: skipped, no upload */
	unlink(k.log);
	deploy_now(&k.loop, k.c, &f.p, NULL, 0, &o, &r);
	assert_int_equal(r.out[0].outcome, DEPLOY_UNCHANGED);
	assert_int_equal(log_count(&k, "PUT /2015-03-31/functions/Fn/code\n"), 0);
	assert_int_equal(log_count(&k, "GET /2015-03-31/functions/Fn\n"), 1);

	/* conflicts that never end: reported after the retries, not retried forever */
	fake_reset(&k, "{\"functions\":{\"Fn\":{\"conflicts\":100}}}");
	o.conflict_retries = 2;
	deploy_now(&k.loop, k.c, &f.p, NULL, 0, &o, &r);
	o.conflict_retries = 0;
	assert_int_equal(r.out[0].outcome, DEPLOY_FAILED);
	assert_string_equal(r.out[0].err.code, "ResourceConflictException");
	assert_int_equal(log_count(&k, "PUT /2015-03-31/functions/Fn/code\n"), 3);

	/* LastUpdateStatus Failed: the reason is shown */
	fake_reset(&k, "{\"functions\":{\"Fn\":{\"fail\":\"Lambda was unable to configure "
	               "access to your environment variables\"}}}");
	deploy_now(&k.loop, k.c, &f.p, NULL, 0, &o, &r);
	assert_int_equal(r.out[0].outcome, DEPLOY_FAILED);
	assert_string_equal(r.out[0].err.code, "UpdateFailed");
	assert_non_null(strstr(r.out[0].err.message, "unable to configure access"));

	/* cancelled while waiting for LastUpdateStatus: reported as cancelled, once */
	fake_reset(&k, "{\"functions\":{\"Fn\":{\"polls\":1000}}}");
	{
		char *app = util_path_join(f.src, "app.py");

		write_text(app, "def handler(e, c):\n    return 'changed'\n");
		free(app);
	}
	r.cancel_on_wait = true;
	deploy_now(&k.loop, k.c, &f.p, NULL, 0, &o, &r);
	assert_int_equal(r.all_done_calls, 1);
	assert_int_equal(r.out[0].outcome, DEPLOY_CANCELLED);
	assert_int_equal(r.failures, 1);
	for (int i = 0; i < 20; i++) /* nothing fires after all_done */
		uv_run(&k.loop, UV_RUN_NOWAIT);
	assert_int_equal(r.all_done_calls, 1);

	/* not deployed (AWS mode): no create, a hint at the full deploy */
	fake_reset(&k, "{\"functions\":{}}");
	deploy_now(&k.loop, k.c, &f.p, NULL, 0, &o, &r);
	assert_int_equal(r.out[0].outcome, DEPLOY_FAILED);
	assert_non_null(strstr(r.out[0].err.message, "--full"));
	assert_int_equal(log_count(&k, "PUT"), 0);

	fake_stop(&k);
	fx_free(&f);
}

static void test_s3_and_parallel(void **state)
{
	struct fx f;
	struct fake k;
	struct run r = {0};
	struct deploy_opts o = {.zipfile_limit = 10};

	(void)state;
	fx_init(&f, 6);
	fake_start(&k, f.dir);

	/* above the direct-upload limit without a bucket: a clear failure */
	fake_reset(&k, "{\"functions\":{\"Fn\":{}}}");
	{
		const char *names[] = {"Fn"};

		deploy_now(&k.loop, k.c, &f.p, names, 1, &o, &r);
	}
	assert_int_equal(r.out[0].outcome, DEPLOY_FAILED);
	assert_string_equal(r.out[0].err.code, "ArtifactBucketMissing");
	/* with a bucket: PutObject + UpdateFunctionCode(S3Bucket, S3Key) */
	o.artifact_bucket = "bkt";
	{
		const char *names[] = {"Fn"};

		deploy_now(&k.loop, k.c, &f.p, names, 1, &o, &r);
	}
	if (r.out[0].outcome != DEPLOY_UPDATED)
		fail_msg("s3 deploy: %s", r.out[0].err.message);
	assert_true(r.out[0].via_s3);
	assert_int_equal(log_count(&k, "PUT /bkt/lambdeck/Fn/"), 1);

	/* six functions, at most two at a time */
	fake_reset(
	    &k, "{\"functions\":{\"Fn\":{\"polls\":1},\"Fn1\":{\"polls\":1},\"Fn2\":{\"polls\":1},"
	        "\"Fn3\":{\"polls\":1},\"Fn4\":{\"polls\":1},\"Fn5\":{\"polls\":1}}}");
	o.zipfile_limit = 0;
	o.parallel = 2;
	deploy_now(&k.loop, k.c, &f.p, NULL, 0, &o, &r);
	assert_int_equal(r.n, 6);
	assert_int_equal(r.failures, 0);
	for (size_t i = 0; i < 6; i++)
		assert_int_equal(r.out[i].outcome, DEPLOY_UPDATED);
	assert_int_equal(r.max_active, 2);

	fake_stop(&k);
	fx_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_local_emulator),
	    cmocka_unit_test(test_conflict_retry_and_wait),
	    cmocka_unit_test(test_s3_and_parallel),
	};

	int rc;

	signal(SIGPIPE, SIG_IGN);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	kill_live_peers();
	return rc;
}
