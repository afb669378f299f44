/* Unit tests for backend/emulator/logs_api: the CloudWatch Logs operations over a real
 * logstore, and StartLiveTail sessions on a real uv loop, read back with our decoder. The
 * same API is exercised over HTTP by the AWS CLI in tests/integration/emulator_logs*. */
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

#include "backend/aws/eventstream.h"
#include "backend/emulator/logs_api.h"

struct fixture {
	char dir[64];
	struct logstore *ls;
	uv_loop_t loop;
	struct logs_api_ctx ctx;
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	strcpy(f->dir, "/tmp/lk-logsapi-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	struct lk_error err;
	lk_error_clear(&err);
	f->ls = logstore_open(f->dir, 0, 0, &err);
	assert_non_null(f->ls);
	uv_loop_init(&f->loop);
	f->ctx = (struct logs_api_ctx){
	    .store = f->ls, .loop = &f->loop, .region = "eu-west-1", .account = "123456789012"};
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	logstore_close(f->ls);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	pid_t pid = fork();
	if (pid == 0) {
		execlp("rm", "rm", "-rf", f->dir, (char *)NULL);
		_exit(127);
	}
	waitpid(pid, NULL, 0);
	free(f);
	return 0;
}

/* Calls an operation; returns the parsed response (or NULL with *status != 200). */
static cJSON *call(struct fixture *f, const char *op, const char *body, int *status,
                   struct lk_error *err)
{
	struct buf out = {0};
	lk_error_clear(err);
	*status = logs_api_call(&f->ctx, op, body, strlen(body), &out, err);
	cJSON *r = NULL;
	if (*status == 200) {
		r = cJSON_Parse(out.data);
		assert_non_null(r);
	}
	buf_free(&out);
	return r;
}

static cJSON *ok(struct fixture *f, const char *op, const char *body)
{
	int st;
	struct lk_error err;
	cJSON *r = call(f, op, body, &st, &err);
	if (st != 200)
		fail_msg("%s %s: %d %s: %s", op, body, st, err.code, err.message);
	return r;
}

static void expect_err(struct fixture *f, const char *op, const char *body, const char *code,
                       const char *msg_part)
{
	int st;
	struct lk_error err;
	cJSON *r = call(f, op, body, &st, &err);
	if (st == 200) {
		cJSON_Delete(r);
		fail_msg("%s %s: expected %s", op, body, code);
	}
	assert_int_equal(st, 400);
	assert_string_equal(err.code, code);
	if (msg_part && !strstr(err.message, msg_part))
		fail_msg("'%s' lacks '%s'", err.message, msg_part);
}

static const char *str(const cJSON *o, const char *path)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, path);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int arr_len(const cJSON *o, const char *key)
{
	return cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o, key));
}

static void seed(struct fixture *f)
{
	logstore_append(f->ls, "/aws/lambda/orders", "2026/11/24/[$LATEST]aaa", 1000, "START one",
	                9);
	logstore_append(f->ls, "/aws/lambda/orders", "2026/11/24/[$LATEST]aaa", 1001,
	                "{\"level\":\"error\",\"ms\":30}", 26);
	logstore_append(f->ls, "/aws/lambda/orders", "2026/11/24/[$LATEST]bbb", 2000, "ERROR boom",
	                10);
	logstore_append(f->ls, "/aws/lambda/orders", "2026/11/24/[$LATEST]aaa", 3000, "END one", 7);
	logstore_append(f->ls, "/aws/lambda/cars", "s", 500, "cars line", 9);
	logstore_append(f->ls, "/other/group", "s", 500, "x", 1);
}

static void test_describe_log_groups(void **state)
{
	struct fixture *f = *state;
	seed(f);
	cJSON *r = ok(f, "DescribeLogGroups", "{\"logGroupNamePrefix\":\"/aws/lambda/\"}");
	cJSON *gs = cJSON_GetObjectItem(r, "logGroups");
	assert_int_equal(cJSON_GetArraySize(gs), 2);
	cJSON *g0 = cJSON_GetArrayItem(gs, 0);
	assert_string_equal(str(g0, "logGroupName"), "/aws/lambda/cars");
	assert_string_equal(str(g0, "arn"), "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/"
	                                    "lambda/cars:*");
	assert_null(str(r, "nextToken"));
	cJSON_Delete(r);
	/* paging */
	r = ok(f, "DescribeLogGroups", "{\"limit\":2}");
	assert_int_equal(arr_len(r, "logGroups"), 2);
	char body[256];
	snprintf(body, sizeof(body), "{\"limit\":2,\"nextToken\":\"%s\"}", str(r, "nextToken"));
	cJSON_Delete(r);
	r = ok(f, "DescribeLogGroups", body);
	assert_int_equal(arr_len(r, "logGroups"), 1);
	assert_string_equal(
	    str(cJSON_GetArrayItem(cJSON_GetObjectItem(r, "logGroups"), 0), "logGroupName"),
	    "/other/group");
	assert_null(str(r, "nextToken"));
	cJSON_Delete(r);
	r = ok(f, "DescribeLogGroups", "{\"logGroupNamePattern\":\"ORDER\"}");
	assert_int_equal(arr_len(r, "logGroups"), 1);
	cJSON_Delete(r);
	expect_err(f, "DescribeLogGroups", "{\"limit\":0}", "InvalidParameterException", "limit");
	expect_err(f, "DescribeLogGroups", "{\"nextToken\":\"garbage!\"}",
	           "InvalidParameterException", "nextToken");
	expect_err(f, "DescribeLogGroups", "not json", "SerializationException", NULL);
	expect_err(f, "DeleteEverything", "{}", "UnknownOperationException", "DeleteEverything");
}

static void test_describe_log_streams(void **state)
{
	struct fixture *f = *state;
	seed(f);
	cJSON *r = ok(f, "DescribeLogStreams",
	              "{\"logGroupName\":\"/aws/lambda/orders\",\"orderBy\":\"LastEventTime\","
	              "\"descending\":true}");
	cJSON *ss = cJSON_GetObjectItem(r, "logStreams");
	assert_int_equal(cJSON_GetArraySize(ss), 2);
	/* aaa's last event (3000) is newer than bbb's (2000) */
	assert_string_equal(str(cJSON_GetArrayItem(ss, 0), "logStreamName"),
	                    "2026/11/24/[$LATEST]aaa");
	assert_int_equal(
	    cJSON_GetObjectItem(cJSON_GetArrayItem(ss, 0), "lastEventTimestamp")->valuedouble,
	    3000);
	assert_int_equal(
	    cJSON_GetObjectItem(cJSON_GetArrayItem(ss, 0), "firstEventTimestamp")->valuedouble,
	    1000);
	cJSON_Delete(r);
	r = ok(f, "DescribeLogStreams",
	       "{\"logGroupIdentifier\":\"arn:aws:logs:eu-west-1:123456789012:log-group:/aws/"
	       "lambda/orders:*\",\"limit\":1}");
	assert_int_equal(arr_len(r, "logStreams"), 1);
	assert_string_equal(
	    str(cJSON_GetArrayItem(cJSON_GetObjectItem(r, "logStreams"), 0), "logStreamName"),
	    "2026/11/24/[$LATEST]aaa");
	char body[256];
	snprintf(body, sizeof(body),
	         "{\"logGroupName\":\"/aws/lambda/orders\",\"limit\":1,\"nextToken\":\"%s\"}",
	         str(r, "nextToken"));
	cJSON_Delete(r);
	r = ok(f, "DescribeLogStreams", body);
	assert_string_equal(
	    str(cJSON_GetArrayItem(cJSON_GetObjectItem(r, "logStreams"), 0), "logStreamName"),
	    "2026/11/24/[$LATEST]bbb");
	assert_null(str(r, "nextToken"));
	cJSON_Delete(r);
	r = ok(f, "DescribeLogStreams",
	       "{\"logGroupName\":\"/aws/lambda/orders\",\"logStreamNamePrefix\":\"2026/11/24/"
	       "[$LATEST]b\"}");
	assert_int_equal(arr_len(r, "logStreams"), 1);
	cJSON_Delete(r);
	expect_err(f, "DescribeLogStreams",
	           "{\"logGroupName\":\"/aws/lambda/orders\",\"orderBy\":\"LastEventTime\","
	           "\"logStreamNamePrefix\":\"x\"}",
	           "InvalidParameterException", "LastEventTime");
	expect_err(f, "DescribeLogStreams", "{\"logGroupName\":\"/nope\"}",
	           "ResourceNotFoundException", "log group does not exist");
	expect_err(f, "DescribeLogStreams", "{}", "InvalidParameterException", "logGroupName");
	expect_err(f, "DescribeLogStreams",
	           "{\"logGroupName\":\"/aws/lambda/orders\",\"orderBy\":1}",
	           "SerializationException", "orderBy");
	expect_err(f, "DescribeLogStreams",
	           "{\"logGroupName\":\"/aws/lambda/orders\",\"orderBy\":\"Size\"}",
	           "InvalidParameterException", "orderBy");
}

static void test_get_log_events(void **state)
{
	struct fixture *f = *state;
	seed(f);
	const char *base = "\"logGroupName\":\"/aws/lambda/orders\",\"logStreamName\":\"2026/11/24/"
	                   "[$LATEST]aaa\"";
	char body[512];
	snprintf(body, sizeof(body), "{%s,\"startFromHead\":true,\"limit\":2}", base);
	cJSON *r = ok(f, "GetLogEvents", body);
	cJSON *ev = cJSON_GetObjectItem(r, "events");
	assert_int_equal(cJSON_GetArraySize(ev), 2);
	assert_string_equal(str(cJSON_GetArrayItem(ev, 0), "message"), "START one");
	char fwd[64];
	snprintf(fwd, sizeof(fwd), "%s", str(r, "nextForwardToken"));
	cJSON_Delete(r);
	snprintf(body, sizeof(body), "{%s,\"nextToken\":\"%s\"}", base, fwd);
	r = ok(f, "GetLogEvents", body);
	ev = cJSON_GetObjectItem(r, "events");
	assert_int_equal(cJSON_GetArraySize(ev), 1);
	assert_string_equal(str(cJSON_GetArrayItem(ev, 0), "message"), "END one");
	snprintf(fwd, sizeof(fwd), "%s", str(r, "nextForwardToken"));
	cJSON_Delete(r);
	/* nothing new: the same forward token comes back */
	snprintf(body, sizeof(body), "{%s,\"nextToken\":\"%s\"}", base, fwd);
	r = ok(f, "GetLogEvents", body);
	assert_int_equal(arr_len(r, "events"), 0);
	assert_string_equal(str(r, "nextForwardToken"), fwd);
	cJSON_Delete(r);
	/* a new line shows up on the next poll */
	logstore_append(f->ls, "/aws/lambda/orders", "2026/11/24/[$LATEST]aaa", 4000, "later", 5);
	r = ok(f, "GetLogEvents", body);
	assert_int_equal(arr_len(r, "events"), 1);
	cJSON_Delete(r);
	/* default: the newest events, ascending; backward token pages to older ones */
	snprintf(body, sizeof(body), "{%s,\"limit\":2}", base);
	r = ok(f, "GetLogEvents", body);
	ev = cJSON_GetObjectItem(r, "events");
	assert_int_equal(cJSON_GetArraySize(ev), 2);
	assert_string_equal(str(cJSON_GetArrayItem(ev, 0), "message"), "END one");
	assert_string_equal(str(cJSON_GetArrayItem(ev, 1), "message"), "later");
	char back[64];
	snprintf(back, sizeof(back), "%s", str(r, "nextBackwardToken"));
	cJSON_Delete(r);
	snprintf(body, sizeof(body), "{%s,\"nextToken\":\"%s\"}", base, back);
	r = ok(f, "GetLogEvents", body);
	ev = cJSON_GetObjectItem(r, "events");
	assert_int_equal(cJSON_GetArraySize(ev), 2);
	assert_string_equal(str(cJSON_GetArrayItem(ev, 0), "message"), "START one");
	cJSON_Delete(r);
	/* time range: endTime exclusive */
	snprintf(body, sizeof(body),
	         "{%s,\"startFromHead\":true,\"startTime\":1001,\"endTime\":3000}", base);
	r = ok(f, "GetLogEvents", body);
	assert_int_equal(arr_len(r, "events"), 1);
	cJSON_Delete(r);
	expect_err(f, "GetLogEvents",
	           "{\"logGroupName\":\"/aws/lambda/orders\",\"logStreamName\":\"nope\"}",
	           "ResourceNotFoundException", "log stream");
	snprintf(body, sizeof(body), "{%s,\"nextToken\":\"f/123\"}", base);
	expect_err(f, "GetLogEvents", body, "InvalidParameterException", "nextToken");
}

static void test_filter_log_events(void **state)
{
	struct fixture *f = *state;
	seed(f);
	cJSON *r =
	    ok(f, "FilterLogEvents",
	       "{\"logGroupName\":\"/aws/lambda/orders\",\"filterPattern\":\"?ERROR ?END\"}");
	cJSON *ev = cJSON_GetObjectItem(r, "events");
	assert_int_equal(cJSON_GetArraySize(ev), 2);
	assert_string_equal(str(cJSON_GetArrayItem(ev, 0), "message"), "ERROR boom");
	assert_string_equal(str(cJSON_GetArrayItem(ev, 0), "logStreamName"),
	                    "2026/11/24/[$LATEST]bbb");
	assert_non_null(str(cJSON_GetArrayItem(ev, 0), "eventId"));
	assert_string_not_equal(str(cJSON_GetArrayItem(ev, 0), "eventId"),
	                        str(cJSON_GetArrayItem(ev, 1), "eventId"));
	assert_int_equal(arr_len(r, "searchedLogStreams"), 2);
	cJSON_Delete(r);
	r = ok(f, "FilterLogEvents",
	       "{\"logGroupName\":\"/aws/lambda/orders\",\"filterPattern\":\"{ $.ms > 10 }\"}");
	assert_int_equal(arr_len(r, "events"), 1);
	cJSON_Delete(r);
	/* paging: limit 1 walks every event once */
	int seen = 0;
	char body[512] = "{\"logGroupName\":\"/aws/lambda/orders\",\"limit\":1}";
	for (;;) {
		r = ok(f, "FilterLogEvents", body);
		seen += arr_len(r, "events");
		const char *t = str(r, "nextToken");
		if (!t) {
			cJSON_Delete(r);
			break;
		}
		snprintf(
		    body, sizeof(body),
		    "{\"logGroupName\":\"/aws/lambda/orders\",\"limit\":1,\"nextToken\":\"%s\"}",
		    t);
		cJSON_Delete(r);
		assert_true(seen < 10);
	}
	assert_int_equal(seen, 4);
	r = ok(f, "FilterLogEvents",
	       "{\"logGroupName\":\"/aws/lambda/orders\",\"startTime\":1001,\"endTime\":2000,"
	       "\"logStreamNames\":[\"2026/11/24/[$LATEST]aaa\"]}");
	assert_int_equal(arr_len(r, "events"), 1);
	assert_int_equal(arr_len(r, "searchedLogStreams"), 1);
	cJSON_Delete(r);
	r = ok(f, "FilterLogEvents",
	       "{\"logGroupName\":\"/aws/lambda/orders\",\"logStreamNamePrefix\":\"2026/11/24/"
	       "[$LATEST]b\"}");
	assert_int_equal(arr_len(r, "events"), 1);
	cJSON_Delete(r);
	expect_err(f, "FilterLogEvents",
	           "{\"logGroupName\":\"/aws/lambda/orders\",\"filterPattern\":\"[a, b]\"}",
	           "InvalidParameterException", "space-delimited");
	expect_err(f, "FilterLogEvents", "{\"logGroupName\":\"/none\"}",
	           "ResourceNotFoundException", NULL);
	expect_err(f, "FilterLogEvents",
	           "{\"logGroupName\":\"/aws/lambda/orders\",\"logStreamNames\":[\"a\"],"
	           "\"logStreamNamePrefix\":\"b\"}",
	           "InvalidParameterException", "exclusive");
}

static void test_put_and_create(void **state)
{
	struct fixture *f = *state;
	cJSON_Delete(ok(f, "CreateLogGroup", "{\"logGroupName\":\"/mine\"}"));
	expect_err(f, "CreateLogGroup", "{\"logGroupName\":\"/mine\"}",
	           "ResourceAlreadyExistsException", NULL);
	expect_err(f, "CreateLogGroup", "{\"logGroupName\":\"bad name!\"}",
	           "InvalidParameterException", NULL);
	expect_err(f, "PutLogEvents",
	           "{\"logGroupName\":\"/mine\",\"logStreamName\":\"s\",\"logEvents\":[{"
	           "\"timestamp\":1,\"message\":\"m\"}]}",
	           "ResourceNotFoundException", "log stream");
	cJSON_Delete(
	    ok(f, "CreateLogStream", "{\"logGroupName\":\"/mine\",\"logStreamName\":\"s\"}"));
	cJSON_Delete(
	    ok(f, "PutLogEvents",
	       "{\"logGroupName\":\"/mine\",\"logStreamName\":\"s\",\"logEvents\":[{"
	       "\"timestamp\":1,\"message\":\"m1\"},{\"timestamp\":2,\"message\":\"m2\"}]}"));
	cJSON *r = ok(f, "FilterLogEvents", "{\"logGroupName\":\"/mine\"}");
	assert_int_equal(arr_len(r, "events"), 2);
	cJSON_Delete(r);
	/* hostile message bytes come back as valid JSON (invalid UTF-8 and NUL -> U+FFFD) */
	logstore_append(f->ls, "/mine", "s", 3, "a\xff\0b\x1b[2J", 8);
	r = ok(f, "FilterLogEvents", "{\"logGroupName\":\"/mine\",\"startTime\":3}");
	assert_string_equal(str(cJSON_GetArrayItem(cJSON_GetObjectItem(r, "events"), 0), "message"),
	                    "a\xEF\xBF\xBD\xEF\xBF\xBD"
	                    "b\x1b[2J");
	cJSON_Delete(r);
}

/* --- live tail --- */

struct tail_reader {
	struct eventstream_decoder *dec;
	char types[64][32];
	int n;
	int results;
	char last_message[128];
	char last_group[128];
	bool ended;
	bool sampled;
	struct logs_tail_session *s;
};

static int on_frame(void *user, const struct eventstream_message *m)
{
	struct tail_reader *r = user;
	char *mt = eventstream_header_string(m, ":message-type");
	char *et = eventstream_header_string(m, ":event-type");
	char *ct = eventstream_header_string(m, ":content-type");
	assert_string_equal(mt, "event");
	assert_string_equal(ct, "application/json");
	if (r->n < 64)
		snprintf(r->types[r->n], 32, "%s", et);
	r->n++;
	cJSON *p = cJSON_ParseWithLength((const char *)m->payload, m->payload_len);
	assert_non_null(p);
	if (!strcmp(et, "sessionUpdate")) {
		cJSON *res = cJSON_GetObjectItem(p, "sessionResults");
		int k = cJSON_GetArraySize(res);
		assert_true(k <= LOGS_TAIL_MAX_PER_UPDATE);
		r->results += k;
		if (cJSON_IsTrue(
		        cJSON_GetObjectItem(cJSON_GetObjectItem(p, "sessionMetadata"), "sampled")))
			r->sampled = true;
		if (k) {
			cJSON *last = cJSON_GetArrayItem(res, k - 1);
			snprintf(r->last_message, sizeof(r->last_message), "%s",
			         str(last, "message"));
			snprintf(r->last_group, sizeof(r->last_group), "%s",
			         str(last, "logGroupIdentifier"));
		}
	}
	cJSON_Delete(p);
	free(mt);
	free(et);
	free(ct);
	return 0;
}

static void tail_write(void *user, const void *data, size_t len)
{
	struct tail_reader *r = user;
	struct lk_error err;
	/* feed in two uneven pieces, as a socket might deliver them */
	size_t half = len / 3;
	assert_int_equal(eventstream_decoder_feed(r->dec, data, half, on_frame, r, &err), 0);
	assert_int_equal(eventstream_decoder_feed(r->dec, (const char *)data + half, len - half,
	                                          on_frame, r, &err),
	                 0);
}

static void tail_end(void *user)
{
	struct tail_reader *r = user;
	r->ended = true;
}

static void stop_timer_cb(uv_timer_t *t)
{
	uv_stop(t->loop);
}

/* Runs the loop for about ms milliseconds. */
static void run_for(uv_loop_t *loop, int ms)
{
	uv_timer_t t;
	uv_timer_init(loop, &t);
	uv_timer_start(&t, stop_timer_cb, (uint64_t)ms, 0);
	uv_run(loop, UV_RUN_DEFAULT);
	uv_close((uv_handle_t *)&t, NULL);
	uv_run(loop, UV_RUN_NOWAIT);
}

static void test_live_tail(void **state)
{
	struct fixture *f = *state;
	seed(f);
	struct lk_error err;
	const char *body = "{\"logGroupIdentifiers\":[\"arn:aws:logs:eu-west-1:123456789012:log-"
	                   "group:/aws/lambda/orders\",\"/aws/lambda/cars\"],"
	                   "\"logEventFilterPattern\":\"-DEBUG\"}";
	struct logs_tail_session *s = logs_tail_new(&f->ctx, body, strlen(body), &err);
	assert_non_null(s);
	struct tail_reader r = {.dec = eventstream_decoder_new(0)};
	logs_tail_run(s, tail_write, tail_end, &r);
	assert_int_equal(r.n, 2);
	assert_string_equal(r.types[0], "initial-response");
	assert_string_equal(r.types[1], "sessionStart");
	/* old events are not replayed; new ones arrive within one flush period */
	uint64_t t0 = util_monotonic_ns();
	logstore_append(f->ls, "/aws/lambda/orders", "s", util_now_ms(), "hello live", 10);
	logstore_append(f->ls, "/aws/lambda/orders", "s", util_now_ms(), "DEBUG hidden", 12);
	logstore_append(f->ls, "/other/group", "s", util_now_ms(), "not tailed", 10);
	logstore_append(f->ls, "/aws/lambda/cars", "s", util_now_ms(), "cars live", 9);
	while (r.results < 2 && util_monotonic_ns() - t0 < 2000000000ULL)
		uv_run(&f->loop, UV_RUN_ONCE);
	assert_int_equal(r.results, 2);
	assert_true(util_monotonic_ns() - t0 < 500000000ULL);
	assert_string_equal(r.last_message, "cars live");
	assert_string_equal(r.last_group, "/aws/lambda/cars");
	/* both in one update: they were appended together */
	assert_int_equal(r.n, 3);
	/* a burst of 1200 lines comes as updates of at most 500 */
	for (int i = 0; i < 1200; i++)
		logstore_append(f->ls, "/aws/lambda/orders", "s", util_now_ms(), "burst", 5);
	run_for(&f->loop, 100);
	assert_int_equal(r.results, 1202);
	assert_int_equal(r.n, 6);
	assert_false(r.sampled);
	/* keep-alive after a quiet second */
	run_for(&f->loop, 1300);
	assert_true(r.n >= 7);
	assert_string_equal(r.types[r.n - 1], "sessionUpdate");
	assert_false(r.ended);
	logs_tail_stop(s);
	logs_tail_stop(NULL);
	/* after stop nothing is written (the decoder would see it) */
	int n = r.n;
	logstore_append(f->ls, "/aws/lambda/orders", "s", util_now_ms(), "after", 5);
	run_for(&f->loop, 60);
	assert_int_equal(r.n, n);
	assert_false(eventstream_decoder_pending(r.dec));
	eventstream_decoder_free(r.dec);
}

static void test_live_tail_errors(void **state)
{
	struct fixture *f = *state;
	seed(f);
	struct lk_error err;
	const char *bad[][3] = {
	    {"{}", "InvalidParameterException", "1 to 10"},
	    {"{\"logGroupIdentifiers\":[]}", "InvalidParameterException", "1 to 10"},
	    {"{\"logGroupIdentifiers\":[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\",\"i\","
	     "\"j\",\"k\"]}",
	     "InvalidParameterException", "10"},
	    {"{\"logGroupIdentifiers\":[\"/nope\"]}", "ResourceNotFoundException", "/nope"},
	    {"{\"logGroupIdentifiers\":[\"/aws/lambda/orders\"],\"logEventFilterPattern\":\"%x%\"}",
	     "InvalidParameterException", "regular"},
	    {"{\"logGroupIdentifiers\":[\"/aws/lambda/orders\",\"/aws/lambda/cars\"],"
	     "\"logStreamNames\":[\"s\"]}",
	     "InvalidParameterException", "exactly one"},
	    {"[1]", "SerializationException", NULL},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		lk_error_clear(&err);
		struct logs_tail_session *s =
		    logs_tail_new(&f->ctx, bad[i][0], strlen(bad[i][0]), &err);
		if (s)
			fail_msg("accepted %s", bad[i][0]);
		assert_string_equal(err.code, bad[i][1]);
		assert_int_equal(err.status, 400);
		if (bad[i][2] && !strstr(err.message, bad[i][2]))
			fail_msg("'%s' lacks '%s'", err.message, bad[i][2]);
	}
	/* a validated session that never ran can be stopped (client left before the start) */
	const char *okb = "{\"logGroupIdentifiers\":[\"/aws/lambda/orders\"]}";
	struct logs_tail_session *s = logs_tail_new(&f->ctx, okb, strlen(okb), &err);
	assert_non_null(s);
	logs_tail_stop(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_describe_log_groups, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_describe_log_streams, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_get_log_events, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_filter_log_events, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_put_and_create, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_live_tail, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_live_tail_errors, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
