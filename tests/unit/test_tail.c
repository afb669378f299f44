/* Tests for backend/tail against a real emulator running on the same loop (lambdeck's own
 * AWS client and event-stream decoder reading the emulator's StartLiveTail): 12 groups ->
 * two sessions, every line exactly once across several session renewals, polling mode with
 * dedupe over overlapping polls, history with --since, and tail_parse_since. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend/emulator/emu_internal.h"
#include "backend/emulator/emulator.h"
#include "backend/emulator/logstore.h"
#include "backend/tail.h"

#define N_GROUPS 12

struct fx {
	uv_loop_t loop;
	char dir[64];
	struct emulator *emu;
	struct aws_client *client;
	char *creds;
	char groups[N_GROUPS][64];
	struct tail_source src[N_GROUPS];
	/* received */
	int counts[64];
	int n_events;
	bool done;
	char status[256];
};

static int setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	uv_loop_init(&f->loop);
	strcpy(f->dir, "/tmp/lk-tail-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	char *sd = util_path_join(f->dir, "state");
	struct emulator_options eo = {.port = 0, .state_dir = sd, .quiet = true};
	struct lk_error err;
	lk_error_clear(&err);
	f->emu = emulator_new(&f->loop, &eo, &err);
	free(sd);
	if (!f->emu)
		fail_msg("emulator: %s: %s", err.code, err.message);
	cJSON *info = cJSON_Parse(emulator_info_json(f->emu));
	f->creds = xstrdup(cJSON_GetObjectItem(info, "credentials_file")->valuestring);
	struct aws_options o = {.endpoint_url = cJSON_GetObjectItem(info, "endpoint")->valuestring,
	                        .region = "us-east-1",
	                        .profile = "lambdeck-local",
	                        .credentials_file = f->creds,
	                        .config_file = "/dev/null",
	                        .ignore_env_credentials = true};
	f->client = aws_client_new(&f->loop, &o, &err);
	cJSON_Delete(info);
	if (!f->client)
		fail_msg("client: %s: %s", err.code, err.message);
	for (int i = 0; i < N_GROUPS; i++) {
		snprintf(f->groups[i], sizeof(f->groups[i]), "/aws/lambda/fn%02d", i);
		f->src[i] = (struct tail_source){.group = f->groups[i], .label = f->groups[i] + 12};
	}
	*state = f;
	return 0;
}

static void walk_close(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

static struct tail *g_tail;

static int teardown(void **state)
{
	struct fx *f = *state;
	tail_stop(g_tail); /* when a test failed half-way */
	g_tail = NULL;
	aws_client_free(f->client);
	emulator_shutdown(f->emu);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	emulator_free(f->emu);
	if (uv_loop_close(&f->loop) != 0) {
		uv_walk(&f->loop, walk_close, NULL);
		uv_run(&f->loop, UV_RUN_DEFAULT);
		assert_int_equal(uv_loop_close(&f->loop), 0);
	}
	pid_t pid = fork();
	if (pid == 0) {
		execlp("rm", "rm", "-rf", f->dir, (char *)NULL);
		_exit(127);
	}
	waitpid(pid, NULL, 0);
	free(f->creds);
	free(f);
	return 0;
}

static void on_event(void *user, const struct tail_event *ev)
{
	struct fx *f = user;
	int k;
	if (sscanf(ev->message, "line %d", &k) == 1 && k >= 0 && k < 64)
		f->counts[k]++;
	f->n_events++;
}

static void on_status(void *user, const char *s)
{
	struct fx *f = user;
	snprintf(f->status, sizeof(f->status), "%s", s);
}

static void on_done(void *user, const struct lk_error *err)
{
	struct fx *f = user;
	assert_null(err);
	f->done = true;
}

static void stop_cb(uv_timer_t *t)
{
	uv_stop(t->loop);
}

/* Runs the loop until pred or ms elapsed. */
static bool run_until(struct fx *f, bool (*pred)(struct fx *), int ms)
{
	uint64_t end = util_monotonic_ns() + (uint64_t)ms * 1000000ULL;
	uv_timer_t t;
	uv_timer_init(&f->loop, &t);
	while (!(pred && pred(f)) && util_monotonic_ns() < end) {
		uv_timer_start(&t, stop_cb, 20, 0);
		uv_run(&f->loop, UV_RUN_DEFAULT);
	}
	uv_close((uv_handle_t *)&t, NULL);
	uv_run(&f->loop, UV_RUN_NOWAIT);
	return !pred || pred(f);
}

static bool all_live(struct fx *f)
{
	(void)f;
	return tail_live_count(g_tail) == N_GROUPS;
}
static int g_want;
static bool got_events(struct fx *f)
{
	return f->n_events >= g_want;
}

static void append(struct fx *f, int group, int k)
{
	char msg[32];
	int n = snprintf(msg, sizeof(msg), "line %d", k);
	logstore_append(f->emu->logs, f->groups[group], "2026/11/24/[$LATEST]abc", util_now_ms(),
	                msg, (size_t)n);
}

static void test_live_many_groups_and_renewal(void **state)
{
	struct fx *f = *state;
	for (int i = 0; i < N_GROUPS; i++)
		logstore_create_group(f->emu->logs, f->groups[i]);
	struct tail_options o = {
	    .sources = f->src, .n_sources = N_GROUPS, .follow = true, .renew_after_ms = 500};
	struct tail_callbacks cb = {.on_event = on_event, .on_status = on_status};
	g_tail = tail_start(f->client, &o, &cb, f);
	if (!run_until(f, all_live, 15000))
		fail_msg("not all live: %s", f->status);
	assert_string_equal(f->status, "live tail (12 groups)");
	/* one line per group: both sessions deliver */
	for (int i = 0; i < N_GROUPS; i++)
		append(f, i, i);
	g_want = N_GROUPS;
	assert_true(run_until(f, got_events, 5000));
	/* lines over ~2.5 s: several renewals (every 500 ms), each line exactly once */
	for (int k = N_GROUPS; k < 40; k++) {
		append(f, k % N_GROUPS, k);
		run_until(f, NULL, 90);
	}
	g_want = 40;
	if (!run_until(f, got_events, 5000)) {
		for (int k = 0; k < 40; k++)
			fprintf(stderr, "%d:%d ", k, f->counts[k]);
		fprintf(stderr, "\nstatus %s, live %zu poll %zu\n", f->status,
		        tail_live_count(g_tail), tail_poll_count(g_tail));
		fail();
	}
	run_until(f, NULL, 300);
	for (int k = 0; k < 40; k++)
		if (f->counts[k] != 1) {
			fprintf(stderr, "line %d delivered %d times (status %s)\n", k, f->counts[k],
			        f->status);
			fail();
		}
	assert_int_equal(tail_live_count(g_tail), N_GROUPS);
	tail_stop(g_tail);
	g_tail = NULL;
	tail_stop(NULL);
	run_until(f, NULL, 50);
}

static bool polled(struct fx *f)
{
	(void)f;
	return tail_poll_count(g_tail) == 2 && strstr(f->status, "polling");
}

static void test_polling_and_history(void **state)
{
	struct fx *f = *state;
	int64_t t0 = util_now_ms();
	append(f, 0, 0); /* history */
	append(f, 1, 1);
	struct tail_options o = {.sources = f->src,
	                         .n_sources = 2,
	                         .follow = true,
	                         .no_live = true,
	                         .since_ms = t0 - 1000,
	                         .poll_interval_ms = 100};
	struct tail_callbacks cb = {.on_event = on_event, .on_status = on_status};
	g_tail = tail_start(f->client, &o, &cb, f);
	assert_true(run_until(f, polled, 10000));
	g_want = 2;
	assert_true(run_until(f, got_events, 5000));
	/* new lines while polling every 100 ms (each poll re-reads a 2 s window): once each */
	for (int k = 2; k < 12; k++) {
		append(f, k % 2, k);
		run_until(f, NULL, 60);
	}
	g_want = 12;
	assert_true(run_until(f, got_events, 5000));
	run_until(f, NULL, 500); /* several more overlapping polls */
	for (int k = 0; k < 12; k++)
		if (f->counts[k] != 1)
			fail_msg("line %d delivered %d times", k, f->counts[k]);
	assert_non_null(strstr(f->status, "polling every"));
	tail_stop(g_tail);
	g_tail = NULL;
	run_until(f, NULL, 50);

	/* history only (not following): on_done after the merged history */
	memset(f->counts, 0, sizeof(f->counts));
	f->n_events = 0;
	struct tail_options h = {.sources = f->src, .n_sources = 3, .since_ms = t0 - 1000};
	struct tail_callbacks hcb = {.on_event = on_event, .on_done = on_done};
	g_tail = tail_start(f->client, &h, &hcb, f);
	bool (*is_done)(struct fx *) = NULL;
	(void)is_done;
	uint64_t end = util_monotonic_ns() + 10000000000ULL;
	while (!f->done && util_monotonic_ns() < end)
		run_until(f, NULL, 20);
	assert_true(f->done);
	assert_int_equal(f->n_events, 12); /* fn02 does not exist: no error, no lines */
	tail_stop(g_tail);
	g_tail = NULL;
	run_until(f, NULL, 50);
}

static void test_parse_since(void **state)
{
	(void)state;
	int64_t now = 1800000000000LL;
	assert_true(tail_parse_since("10m", now) == now - 600000);
	assert_true(tail_parse_since("30s", now) == now - 30000);
	assert_true(tail_parse_since("2h", now) == now - 7200000);
	assert_true(tail_parse_since("1d", now) == now - 86400000);
	assert_true(tail_parse_since("5", now) == now - 300000);
	assert_true(tail_parse_since("2026-11-24T10:00:00Z", now) == 1795514400000LL);
	assert_true(tail_parse_since("2026-11-24", now) == 1795478400000LL);
	assert_true(tail_parse_since("", now) == -1);
	assert_true(tail_parse_since("yesterday", now) == -1);
	assert_true(tail_parse_since("10x", now) == -1);
	assert_true(tail_parse_since("2026-11-24T10:00:00Zjunk", now) == -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_live_many_groups_and_renewal, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_polling_and_history, setup, teardown),
	    cmocka_unit_test(test_parse_since),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
