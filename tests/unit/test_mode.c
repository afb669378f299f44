/* test_mode.c - LOCAL/AWS selection rules, and the LOCAL lifecycle against real
 * `lambdeck emulate` processes ($LAMBDECK): start on first need, attach, share, stop when
 * the last user goes, --keep-emulator, two simultaneous starters, a starter that is killed,
 * a user arriving while the emulator leaves. */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "backend/emulator/emu_internal.h"
#include "backend/mode.h"

static void test_select(void **state)
{
	(void)state;
	struct mode_options o = {0};

	assert_int_equal(mode_select(&o), MODE_LOCAL);
	o.project_mode = "local";
	assert_int_equal(mode_select(&o), MODE_LOCAL);
	o.project_mode = "aws";
	assert_int_equal(mode_select(&o), MODE_AWS);
	o.force_local = true;
	assert_int_equal(mode_select(&o), MODE_LOCAL);
	o = (struct mode_options){.profile = "dev"};
	assert_int_equal(mode_select(&o), MODE_AWS);
	o = (struct mode_options){.region = "eu-west-1"};
	assert_int_equal(mode_select(&o), MODE_AWS);
	o = (struct mode_options){.endpoint = "http://127.0.0.1:9"};
	assert_int_equal(mode_select(&o), MODE_AWS);
	o = (struct mode_options){.force_aws = true};
	assert_int_equal(mode_select(&o), MODE_AWS);
	o = (struct mode_options){.profile = "dev", .force_local = true};
	assert_int_equal(mode_select(&o), MODE_LOCAL);
	/* an exported AWS_PROFILE alone never selects AWS */
	setenv("AWS_PROFILE", "prod", 1);
	o = (struct mode_options){0};
	assert_int_equal(mode_select(&o), MODE_LOCAL);
	unsetenv("AWS_PROFILE");
}

static void test_aws_config(void **state)
{
	(void)state;
	uv_loop_t loop;
	struct mode_options o = {.profile = "dev", .region = "eu-west-1"};
	struct lk_error err = {0};
	struct mode *m;
	const struct mode_config *cfg;
	struct aws_options ao;

	uv_loop_init(&loop);
	m = mode_new(&loop, &o, &err);
	assert_non_null(m);
	assert_int_equal(mode_kind(m), MODE_AWS);
	assert_null(mode_config(m));
	cfg = mode_acquire_sync(m, &err);
	assert_non_null(cfg);
	assert_int_equal(cfg->kind, MODE_AWS);
	assert_string_equal(cfg->profile, "dev");
	assert_string_equal(cfg->region, "eu-west-1");
	assert_null(cfg->endpoint);
	assert_null(cfg->credentials_file);
	assert_string_equal(cfg->description, "AWS dev eu-west-1");
	mode_aws_options(cfg, &ao);
	assert_string_equal(ao.profile, "dev");
	assert_false(ao.ignore_env_credentials);
	mode_free(m);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
}

static char *tmpdir(void)
{
	char tmpl[] = "/tmp/lkmode.XXXXXX";
	char *d = mkdtemp(tmpl);

	assert_non_null(d);
	return strdup(d);
}

static bool running(const char *state)
{
	char path[512];
	int fd;
	bool held = false;

	snprintf(path, sizeof(path), "%s/lock", state);
	fd = open(path, O_RDWR);
	if (fd < 0)
		return false;
	if (flock(fd, LOCK_SH | LOCK_NB) < 0)
		held = true;
	close(fd);
	return held;
}

/* Waits for the emulator (our child) to exit; returns its wait status. */
static int reap(int pid)
{
	int st = -1;

	for (int i = 0; i < 300; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return st;
		usleep(50 * 1000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	fail_msg("emulator %d did not stop", pid);
	return st;
}

static int pid_of(const char *state)
{
	char path[512], buf[1024] = "";
	FILE *f;
	char *p;

	snprintf(path, sizeof(path), "%s/endpoint", state);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	p = strstr(buf, "\"pid\":");
	assert_non_null(p);
	return atoi(p + 6);
}

static struct mode_options local_opts(const char *project)
{
	return (struct mode_options){.project_dir = project, .lambdeck_exe = getenv("LAMBDECK")};
}

static void test_local_share_and_stop(void **state)
{
	(void)state;
	uv_loop_t loop;
	char *proj = tmpdir(), st[512], cred[600];
	struct mode_options o = local_opts(proj);
	struct lk_error err = {0};
	struct mode *a, *b;
	const struct mode_config *ca, *cb;
	int pid, status;
	struct aws_options ao;

	assert_non_null(getenv("LAMBDECK"));
	snprintf(st, sizeof(st), "%s/.lambdeck/emulator", proj);
	uv_loop_init(&loop);
	a = mode_new(&loop, &o, &err);
	assert_int_equal(mode_kind(a), MODE_LOCAL);
	assert_non_null(strstr(mode_describe(a), "LOCAL"));
	ca = mode_acquire_sync(a, &err);
	assert_non_null(ca);
	assert_int_equal(ca->kind, MODE_LOCAL);
	assert_true(!strncmp(ca->endpoint, "http://127.0.0.1:", 17));
	assert_string_equal(ca->profile, "lambdeck-local");
	snprintf(cred, sizeof(cred), "%s/credentials", st);
	assert_string_equal(ca->credentials_file, cred);
	assert_true(!strncmp(ca->description, "LOCAL emulator 127.0.0.1:", 25));
	mode_aws_options(ca, &ao);
	assert_true(ao.ignore_env_credentials);
	assert_string_equal(ao.endpoint_url, ca->endpoint);
	assert_true(running(st));
	pid = pid_of(st);

	/* a second user attaches to the same emulator */
	b = mode_new(&loop, &o, &err);
	cb = mode_acquire_sync(b, &err);
	assert_non_null(cb);
	assert_string_equal(cb->endpoint, ca->endpoint);
	assert_int_equal(pid_of(st), pid);

	/* the starter leaves first: the emulator stays for the other user */
	mode_free(a);
	usleep(300 * 1000);
	assert_true(running(st));
	/* the last user leaves: it stops, cleanly */
	mode_free(b);
	status = reap(pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_false(running(st));

	/* --keep-emulator: it stays after its starter left */
	o.keep_emulator = true;
	a = mode_new(&loop, &o, &err);
	assert_non_null(mode_acquire_sync(a, &err));
	pid = pid_of(st);
	mode_free(a);
	usleep(300 * 1000);
	assert_true(running(st));
	/* a later user without the flag attaches, and (not being the starter) leaves it running */
	o.keep_emulator = false;
	b = mode_new(&loop, &o, &err);
	cb = mode_acquire_sync(b, &err);
	assert_non_null(cb);
	assert_int_equal(pid_of(st), pid);
	mode_free(b);
	usleep(300 * 1000);
	assert_true(running(st));
	kill(pid, SIGTERM);
	status = reap(pid);
	assert_int_equal(WEXITSTATUS(status), 0);

	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
	emu_rm_rf(proj);
	free(proj);
}

static int done_count;
static const char *endpoints[2];

static void on_ready(void *user, const struct mode_config *cfg, const struct lk_error *err)
{
	(void)err;
	endpoints[(intptr_t)user] = cfg ? cfg->endpoint : NULL;
	done_count++;
}

/* Two users starting at the same moment end up on one emulator. */
static void test_local_race(void **state)
{
	(void)state;
	uv_loop_t loop;
	char *proj = tmpdir(), st[512];
	struct mode_options o = local_opts(proj);
	struct lk_error err = {0};
	struct mode *a, *b;
	int pid, status;

	snprintf(st, sizeof(st), "%s/.lambdeck/emulator", proj);
	uv_loop_init(&loop);
	a = mode_new(&loop, &o, &err);
	b = mode_new(&loop, &o, &err);
	mode_acquire(a, on_ready, (void *)0);
	mode_acquire(b, on_ready, (void *)1);
	while (done_count < 2)
		uv_run(&loop, UV_RUN_ONCE);
	assert_non_null(endpoints[0]);
	assert_non_null(endpoints[1]);
	assert_string_equal(endpoints[0], endpoints[1]);
	pid = pid_of(st);
	mode_free(a);
	mode_free(b);
	status = reap(pid);
	assert_int_equal(WEXITSTATUS(status), 0);
	/* the losing child exited on its own; reap it too */
	while (waitpid(-1, &status, WNOHANG) > 0)
		;
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
	emu_rm_rf(proj);
	free(proj);
}

static void release_lock(uv_timer_t *t)
{
	close((int)(intptr_t)t->data); /* the leaving emulator is gone: its lock with it */
	uv_close((uv_handle_t *)t, NULL);
}

/* A user arriving while the project's emulator is leaving (it still holds the state lock but
 * has withdrawn its endpoint) waits for it to go and then starts the next one, instead of
 * giving up with EmulatorUnavailable while nobody starts one (issue 21.2). */
static void test_arrive_while_leaving(void **state)
{
	(void)state;
	uv_loop_t loop;
	uv_timer_t gone;
	char *proj = tmpdir(), st[512], lock[600];
	struct mode_options o = local_opts(proj);
	struct lk_error err = {0};
	const struct mode_config *cfg;
	struct mode *m;
	int fd, pid, status;

	snprintf(st, sizeof(st), "%s/.lambdeck/emulator", proj);
	snprintf(lock, sizeof(lock), "%s/lock", st);
	assert_int_equal(util_mkdir_p(st, 0700, NULL), 0);
	/* the "leaving emulator": holds the state lock, publishes no endpoint */
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0);
	uv_loop_init(&loop);
	uv_timer_init(&loop, &gone);
	gone.data = (void *)(intptr_t)fd;
	uv_timer_start(&gone, release_lock, 1500, 0);
	m = mode_new(&loop, &o, &err);
	cfg = mode_acquire_sync(m, &err);
	if (!cfg)
		fail_msg("acquire failed: %s: %s", err.code, err.message);
	assert_false(uv_is_active((uv_handle_t *)&gone)); /* ready only after it went */
	assert_true(running(st));
	pid = pid_of(st);
	mode_free(m);
	status = reap(pid);
	assert_int_equal(WEXITSTATUS(status), 0);
	while (waitpid(-1, &status, WNOHANG) > 0) /* children that lost to the lock */
		;
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
	emu_rm_rf(proj);
	free(proj);
}

/* A console killed with SIGKILL cannot release its lease: the emulator it started notices
 * that no live user is left and stops by itself (--exit-when-unused). */
static void test_killed_starter(void **state)
{
	(void)state;
	char *proj = tmpdir(), st[512];
	int child, pid, status;
	time_t t0;

	snprintf(st, sizeof(st), "%s/.lambdeck/emulator", proj);
	/* the orphaned emulator is reparented to us, so we can reap it */
	assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		uv_loop_t loop;
		struct mode_options o = local_opts(proj);
		struct lk_error err = {0};
		struct mode *m;

		uv_loop_init(&loop);
		m = mode_new(&loop, &o, &err);
		if (!m || !mode_acquire_sync(m, &err))
			_exit(3);
		kill(getpid(), SIGKILL); /* no mode_free: the lease stays behind */
		_exit(4);
	}
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFSIGNALED(status));
	assert_true(running(st));
	pid = pid_of(st);
	t0 = time(NULL);
	/* up to 5 s for the starter's lease to appear, then two 1 s checks */
	status = reap(pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_true(time(NULL) - t0 <= 12);
	assert_false(running(st));
	prctl(PR_SET_CHILD_SUBREAPER, 0);
	emu_rm_rf(proj);
	free(proj);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_select),
	    cmocka_unit_test(test_aws_config),
	    cmocka_unit_test(test_local_share_and_stop),
	    cmocka_unit_test(test_local_race),
	    cmocka_unit_test(test_killed_starter),
	    cmocka_unit_test(test_arrive_while_leaving),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
