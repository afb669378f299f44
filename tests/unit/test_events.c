/* Unit tests for backend/events: every template renders the AWS event shape with the
 * encoded fields decoding back; JSON validation with line:col; the saved-event lifecycle
 * including an invalid edit and its recovery copy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/lib/unit_tmp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <zlib.h>

#include "backend/events.h"

static cJSON *render(const char *name, const struct event_kv *kv, size_t n)
{
	struct lk_error err = {0};
	const struct event_template *t = events_template_find(name);
	char *s;
	cJSON *j;

	assert_non_null(t);
	s = events_template_render(t, kv, n, &err);
	if (!s)
		fail_msg("%s: %s", name, err.message);
	assert_int_equal(events_validate_json(s, strlen(s), name, &err), 0);
	j = cJSON_Parse(s);
	free(s);
	assert_non_null(j);
	return j;
}

/* The value at a dotted path ("Records.0.s3.bucket.name"), asserted to exist. */
static const cJSON *at(const cJSON *j, const char *path)
{
	char *p = strdup(path), *save = NULL;

	for (char *k = strtok_r(p, ".", &save); k; k = strtok_r(NULL, ".", &save)) {
		if (cJSON_IsArray(j))
			j = cJSON_GetArrayItem(j, atoi(k));
		else
			j = cJSON_GetObjectItemCaseSensitive(j, k);
		if (!j)
			fail_msg("missing %s (at %s)", path, k);
	}
	free(p);
	return j;
}

static const char *str_at(const cJSON *j, const char *path)
{
	const cJSON *v = at(j, path);

	if (!cJSON_IsString(v))
		fail_msg("%s is not a string", path);
	return v->valuestring;
}

static double num_at(const cJSON *j, const char *path)
{
	const cJSON *v = at(j, path);

	if (!cJSON_IsNumber(v))
		fail_msg("%s is not a number", path);
	return v->valuedouble;
}

static void test_template_count_and_params(void **state)
{
	struct lk_error err = {0};
	struct event_kv bad = {"no-such-param", "x"};

	(void)state;
	assert_true(events_template_count() >= 12);
	for (size_t i = 0; i < events_template_count(); i++) {
		const struct event_template *t = events_template_at(i);
		cJSON *j = render(t->name, NULL, 0);
		assert_true(cJSON_IsObject(j));
		cJSON_Delete(j);
		assert_true(t->n_params > 0);
		for (size_t k = 0; k < t->n_params; k++)
			assert_non_null(t->params[k].help);
		assert_null(events_template_render(t, &bad, 1, &err));
		assert_string_equal(err.code, "InvalidParameter");
		assert_non_null(strstr(err.message, "no-such-param"));
	}
	assert_null(events_template_find("nope"));
}

static void test_s3(void **state)
{
	struct event_kv kv[] = {{"bucket", "my-bucket"}, {"key", "a dir/ü+x.txt"}, {"size", "77"}};
	struct lk_error err = {0};
	struct event_kv badsize = {"size", "12abc"};
	cJSON *j;

	(void)state;
	j = render("s3-put", kv, 3);
	assert_int_equal(cJSON_GetArraySize(at(j, "Records")), 1);
	assert_string_equal(str_at(j, "Records.0.eventSource"), "aws:s3");
	assert_string_equal(str_at(j, "Records.0.eventName"), "ObjectCreated:Put");
	assert_string_equal(str_at(j, "Records.0.s3.bucket.name"), "my-bucket");
	assert_string_equal(str_at(j, "Records.0.s3.bucket.arn"), "arn:aws:s3:::my-bucket");
	/* S3 sends the key URL-encoded with '+' for spaces. */
	assert_string_equal(str_at(j, "Records.0.s3.object.key"), "a+dir/%C3%BC%2Bx.txt");
	assert_int_equal((int)num_at(j, "Records.0.s3.object.size"), 77);
	assert_int_equal(strlen(str_at(j, "Records.0.s3.object.eTag")), 32);
	assert_non_null(strchr(str_at(j, "Records.0.eventTime"), 'T'));
	cJSON_Delete(j);
	j = render("s3-delete", kv, 2);
	assert_string_equal(str_at(j, "Records.0.eventName"), "ObjectRemoved:Delete");
	assert_null(cJSON_GetObjectItem(at(j, "Records.0.s3.object"), "size"));
	cJSON_Delete(j);
	assert_null(events_template_render(events_template_find("s3-put"), &badsize, 1, &err));
	assert_non_null(strstr(err.message, "size"));
}

static void test_sqs_sns(void **state)
{
	struct event_kv kv[] = {{"body", "{\"x\": 1}"}, {"count", "3"}, {"queue", "q1"}};
	struct event_kv sn[] = {{"message", "hi there"}, {"subject", ""}};
	const cJSON *r;
	unsigned char md[16];
	unsigned int mdlen;
	char hex[33];
	cJSON *j;

	(void)state;
	j = render("sqs", kv, 3);
	assert_int_equal(cJSON_GetArraySize(at(j, "Records")), 3);
	cJSON_ArrayForEach(r, at(j, "Records"))
	{
		/* The body is a string, not an object, exactly as SQS delivers it. */
		assert_true(cJSON_IsString(cJSON_GetObjectItem(r, "body")));
		assert_string_equal(cJSON_GetObjectItem(r, "body")->valuestring, "{\"x\": 1}");
		assert_string_equal(cJSON_GetObjectItem(r, "eventSource")->valuestring, "aws:sqs");
		assert_string_equal(cJSON_GetObjectItem(r, "eventSourceARN")->valuestring,
		                    "arn:aws:sqs:us-east-1:123456789012:q1");
		assert_true(cJSON_IsString(at(r, "attributes.SentTimestamp")));
	}
	EVP_Digest("{\"x\": 1}", 8, md, &mdlen, EVP_md5(), NULL);
	util_hex(md, mdlen, hex);
	assert_string_equal(str_at(j, "Records.0.md5OfBody"), hex);
	assert_string_not_equal(str_at(j, "Records.0.messageId"), str_at(j, "Records.1.messageId"));
	cJSON_Delete(j);

	j = render("sns", sn, 2);
	assert_string_equal(str_at(j, "Records.0.EventSource"), "aws:sns");
	assert_string_equal(str_at(j, "Records.0.Sns.Message"), "hi there");
	assert_true(cJSON_IsNull(at(j, "Records.0.Sns.Subject")));
	assert_string_equal(str_at(j, "Records.0.Sns.TopicArn"),
	                    "arn:aws:sns:us-east-1:123456789012:my-topic");
	cJSON_Delete(j);
}

static void test_http(void **state)
{
	struct event_kv kv[] = {{"method", "POST"},
	                        {"path", "/orders/7"},
	                        {"query", "a=1&b=x%20y&a=2"},
	                        {"body", "{\"n\":1}"},
	                        {"headers", "{\"X-Trace\": \"abc\"}"}};
	struct event_kv badm = {"method", "get me"};
	struct event_kv badh = {"headers", "{\"a\": "};
	struct lk_error err = {0};
	cJSON *j;

	(void)state;
	j = render("apigw-rest", kv, 5);
	assert_string_equal(str_at(j, "httpMethod"), "POST");
	assert_string_equal(str_at(j, "path"), "/orders/7");
	assert_string_equal(str_at(j, "body"), "{\"n\":1}");
	assert_true(cJSON_IsFalse(at(j, "isBase64Encoded")));
	assert_string_equal(str_at(j, "queryStringParameters.a"), "2");
	assert_string_equal(str_at(j, "queryStringParameters.b"), "x y");
	assert_int_equal(cJSON_GetArraySize(at(j, "multiValueQueryStringParameters.a")), 2);
	assert_string_equal(str_at(j, "headers.x-trace"), "abc");
	assert_string_equal(str_at(j, "multiValueHeaders.x-trace.0"), "abc");
	assert_string_equal(str_at(j, "requestContext.stage"), "prod");
	assert_string_equal(str_at(j, "requestContext.path"), "/prod/orders/7");
	assert_string_equal(str_at(j, "pathParameters.proxy"), "orders/7");
	cJSON_Delete(j);

	j = render("apigw-rest", NULL, 0); /* GET without body or query: nulls, as AWS sends */
	assert_true(cJSON_IsNull(at(j, "body")));
	assert_true(cJSON_IsNull(at(j, "queryStringParameters")));
	cJSON_Delete(j);

	j = render("apigw-http", kv, 5);
	assert_string_equal(str_at(j, "version"), "2.0");
	assert_string_equal(str_at(j, "rawPath"), "/orders/7");
	assert_string_equal(str_at(j, "rawQueryString"), "a=1&b=x%20y&a=2");
	assert_string_equal(str_at(j, "requestContext.http.method"), "POST");
	assert_string_equal(str_at(j, "body"), "{\"n\":1}");
	assert_true(cJSON_IsArray(at(j, "cookies")));
	cJSON_Delete(j);

	j = render("alb", kv, 5);
	assert_true(cJSON_IsString(at(j, "requestContext.elb.targetGroupArn")));
	assert_string_equal(str_at(j, "httpMethod"), "POST");
	assert_string_equal(str_at(j, "body"), "{\"n\":1}");
	cJSON_Delete(j);

	assert_null(events_template_render(events_template_find("apigw-rest"), &badm, 1, &err));
	assert_non_null(strstr(err.message, "method"));
	assert_null(events_template_render(events_template_find("alb"), &badh, 1, &err));
	assert_non_null(strstr(err.message, "headers"));
	assert_non_null(strstr(err.message, ":1:"));
}

static void test_eventbridge(void **state)
{
	struct event_kv kv[] = {{"source", "my.app"}, {"detail", "{\"k\": [1, 2]}"}};
	struct event_kv bad = {"detail", "[1]"};
	struct lk_error err = {0};
	cJSON *j;

	(void)state;
	j = render("eventbridge-scheduled", NULL, 0);
	assert_string_equal(str_at(j, "detail-type"), "Scheduled Event");
	assert_string_equal(str_at(j, "source"), "aws.events");
	assert_string_equal(str_at(j, "resources.0"),
	                    "arn:aws:events:us-east-1:123456789012:rule/my-schedule");
	assert_true(cJSON_IsObject(at(j, "detail")));
	assert_int_equal(strlen(str_at(j, "time")), 20); /* 2026-01-01T00:00:00Z */
	cJSON_Delete(j);
	j = render("eventbridge-custom", kv, 2);
	assert_string_equal(str_at(j, "source"), "my.app");
	assert_int_equal((int)num_at(j, "detail.k.1"), 2);
	cJSON_Delete(j);
	assert_null(
	    events_template_render(events_template_find("eventbridge-custom"), &bad, 1, &err));
}

static void test_dynamodb(void **state)
{
	struct event_kv kv[] = {
	    {"event-name", "MODIFY"},
	    {"keys", "{\"pk\": \"a\", \"sk\": 5}"},
	    {"new-image", "{\"tags\": [\"x\", true, null], \"m\": {\"z\": 1.5}}"}};
	struct event_kv bad = {"event-name", "UPSERT"};
	struct lk_error err = {0};
	cJSON *j;

	(void)state;
	j = render("dynamodb-stream", kv, 3);
	assert_string_equal(str_at(j, "Records.0.eventSource"), "aws:dynamodb");
	assert_string_equal(str_at(j, "Records.0.eventName"), "MODIFY");
	assert_string_equal(str_at(j, "Records.0.dynamodb.Keys.pk.S"), "a");
	assert_string_equal(str_at(j, "Records.0.dynamodb.Keys.sk.N"), "5");
	assert_string_equal(str_at(j, "Records.0.dynamodb.NewImage.tags.L.0.S"), "x");
	assert_true(cJSON_IsTrue(at(j, "Records.0.dynamodb.NewImage.tags.L.1.BOOL")));
	assert_true(cJSON_IsTrue(at(j, "Records.0.dynamodb.NewImage.tags.L.2.NULL")));
	assert_string_equal(str_at(j, "Records.0.dynamodb.NewImage.m.M.z.N"), "1.5");
	assert_string_equal(str_at(j, "Records.0.dynamodb.NewImage.pk.S"), "a");
	assert_string_equal(str_at(j, "Records.0.dynamodb.OldImage.status.S"), "OLD");
	assert_string_equal(str_at(j, "Records.0.dynamodb.StreamViewType"), "NEW_AND_OLD_IMAGES");
	cJSON_Delete(j);
	assert_null(events_template_render(events_template_find("dynamodb-stream"), &bad, 1, &err));
}

static void test_kinesis_base64(void **state)
{
	struct event_kv kv[] = {{"data", "héllo, kinesis"}};
	unsigned char *raw;
	size_t n = 0;
	const char *b64;
	cJSON *j;

	(void)state;
	j = render("kinesis", kv, 1);
	assert_string_equal(str_at(j, "Records.0.eventSource"), "aws:kinesis");
	assert_string_equal(str_at(j, "Records.0.eventName"), "aws:kinesis:record");
	b64 = str_at(j, "Records.0.kinesis.data");
	raw = util_base64_decode(b64, strlen(b64), &n);
	assert_non_null(raw);
	assert_int_equal(n, strlen("héllo, kinesis"));
	assert_memory_equal(raw, "héllo, kinesis", n);
	free(raw);
	cJSON_Delete(j);
}

/* gunzip with zlib (gzip header auto-detected). */
static char *gunzip(const unsigned char *in, size_t len)
{
	z_stream zs = {0};
	size_t cap = 1 << 20;
	char *out = malloc(cap);

	assert_int_equal(inflateInit2(&zs, 15 + 32), Z_OK);
	zs.next_in = (Bytef *)in;
	zs.avail_in = (uInt)len;
	zs.next_out = (Bytef *)out;
	zs.avail_out = (uInt)cap - 1;
	assert_int_equal(inflate(&zs, Z_FINISH), Z_STREAM_END);
	out[zs.total_out] = '\0';
	inflateEnd(&zs);
	return out;
}

static void test_cloudwatch_logs_gzip(void **state)
{
	struct event_kv kv[] = {{"lines", "alpha\nbeta \"quoted\"\\ngamma"},
	                        {"log-group", "/aws/lambda/Orders"}};
	unsigned char *gz;
	size_t n = 0;
	const char *b64;
	char *json;
	cJSON *j, *payload;

	(void)state;
	j = render("cloudwatch-logs", kv, 2);
	b64 = str_at(j, "awslogs.data");
	gz = util_base64_decode(b64, strlen(b64), &n);
	assert_non_null(gz);
	assert_true(n > 18 && gz[0] == 0x1f && gz[1] == 0x8b); /* gzip magic */
	json = gunzip(gz, n);
	payload = cJSON_Parse(json);
	assert_non_null(payload);
	assert_string_equal(str_at(payload, "messageType"), "DATA_MESSAGE");
	assert_string_equal(str_at(payload, "logGroup"), "/aws/lambda/Orders");
	assert_string_equal(str_at(payload, "owner"), "123456789012");
	assert_int_equal(cJSON_GetArraySize(at(payload, "logEvents")), 3);
	assert_string_equal(str_at(payload, "logEvents.0.message"), "alpha");
	assert_string_equal(str_at(payload, "logEvents.1.message"), "beta \"quoted\"");
	assert_string_equal(str_at(payload, "logEvents.2.message"), "gamma");
	assert_true(cJSON_IsNumber(at(payload, "logEvents.0.timestamp")));
	assert_true(cJSON_IsString(at(payload, "logEvents.0.id")));
	assert_string_equal(str_at(payload, "subscriptionFilters.0"), "my-subscription");
	cJSON_Delete(payload);
	free(json);
	free(gz);
	cJSON_Delete(j);
}

static void test_cognito(void **state)
{
	struct event_kv pc[] = {{"trigger", "PostConfirmation_ConfirmSignUp"}, {"username", "bob"}};
	struct event_kv bad = {"trigger", "Nope"};
	struct lk_error err = {0};
	cJSON *j;

	(void)state;
	j = render("cognito", NULL, 0);
	assert_string_equal(str_at(j, "triggerSource"), "PreSignUp_SignUp");
	assert_string_equal(str_at(j, "request.userAttributes.email"), "jdoe@example.com");
	assert_true(cJSON_IsFalse(at(j, "response.autoConfirmUser")));
	cJSON_Delete(j);
	j = render("cognito", pc, 2);
	assert_string_equal(str_at(j, "userName"), "bob");
	assert_true(cJSON_IsString(at(j, "request.userAttributes.sub")));
	cJSON_Delete(j);
	assert_null(events_template_render(events_template_find("cognito"), &bad, 1, &err));
}

static void expect_error(const char *text, const char *expect)
{
	struct lk_error err = {0};

	assert_int_equal(events_validate_json(text, strlen(text), "f.json", &err), -1);
	assert_string_equal(err.code, "ParseError");
	if (strncmp(err.message, expect, strlen(expect)))
		fail_msg("for %s: got '%s', want prefix '%s'", text, err.message, expect);
}

static void test_validation_line_col(void **state)
{
	struct lk_error err = {0};
	char deep[3000];

	(void)state;
	assert_int_equal(events_validate_json("{\"a\": [1, 2]}\n", 14, "x", &err), 0);
	expect_error("{\n  \"a\": 1,\n  \"b\": tru\n}\n", "f.json:3:8:");
	expect_error("{\n  \"a\": 1,\n}\n", "f.json:3:1: trailing comma");
	expect_error("", "f.json:1:1: empty");
	expect_error("   \n ", "f.json:2:2: empty");
	expect_error("{\"a\": 1", "f.json:1:");
	expect_error("{'a': 1}", "f.json:1:2: single quotes");
	expect_error("{\"é\": x}",
	             "f.json:1:7: unexpected 'x', expected a value"); /* columns in characters */
	expect_error("{\"a\": \"b\xff\"}", "f.json:1:9: invalid UTF-8");
	expect_error("{} {}", "f.json:1:");
	expect_error("{\"a\":\"x\ny\"}", "f.json:");
	memset(deep, '[', sizeof(deep) - 1);
	deep[sizeof(deep) - 1] = '\0';
	expect_error(deep, "f.json:1:");
	char nul[] = "{\"a\":\0}";
	assert_int_equal(events_validate_json(nul, 7, "n", &err), -1);
	assert_non_null(strstr(err.message, "NUL"));
}

static void test_pretty_keeps_numbers(void **state)
{
	const char *in = "{\"big\":12345678901234567890,\"s\":\"a,b:{c}\\\"\",\"e\":[],\"o\":{}}";
	char *p;

	(void)state;
	p = events_pretty_json(in, strlen(in));
	assert_non_null(p);
	assert_non_null(strstr(p, "12345678901234567890"));
	assert_non_null(strstr(p, "\"a,b:{c}\\\"\""));
	assert_non_null(strstr(p, "\"e\": []"));
	assert_non_null(strstr(p, "\n  \"o\": {}\n}"));
	free(p);
	assert_null(events_pretty_json("nope", 4));
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static char *slurp(const char *path)
{
	struct buf b = {0};
	struct lk_error err = {0};

	if (util_read_file(path, &b, &err) < 0)
		return NULL;
	return buf_steal(&b);
}

static void test_saved_event_lifecycle(void **state)
{
	char *dir = test_tmpdir("events"), *scratch = NULL, *s, *rec;
	struct lk_error err = {0};
	struct event_list l = {0};
	struct buf b = {0};
	bool changed = false;

	(void)state;
	/* Empty before anything exists. */
	assert_int_equal(events_list(dir, "Orders", &l, &err), 0);
	assert_int_equal(l.n, 0);
	/* New from template. */
	assert_int_equal(events_new_from_template(dir, "Orders", "put",
	                                          events_template_find("s3-put"), NULL, 0, &err),
	                 0);
	assert_int_equal(events_new_from_template(dir, "Orders", "put", events_template_find("sqs"),
	                                          NULL, 0, &err),
	                 -1);
	assert_string_equal(err.code, "EventExists");
	assert_int_equal(events_save(dir, "Orders", "a-first", "{\"x\":1}", 7, false, &err), 0);
	assert_int_equal(events_save(dir, "Orders", "bad", "{\"x\":", 5, false, &err), -1);
	assert_string_equal(err.code, "ParseError");
	assert_non_null(strstr(err.message, "events/Orders/bad.json:1:"));
	/* Hostile names never reach the file system. */
	assert_int_equal(events_save(dir, "Orders", "../../etc/x", "{}", 2, false, &err), -1);
	assert_string_equal(err.code, "InvalidName");
	assert_int_equal(events_save(dir, "../x", "e", "{}", 2, false, &err), -1);
	assert_int_equal(events_save(dir, "Orders", "x.snapshot", "{}", 2, false, &err), -1);
	assert_int_equal(events_save(dir, "Orders", ".hidden", "{}", 2, false, &err), -1);

	/* A snapshot file is not listed as an event. */
	s = xasprintf("%s/events/Orders/put.snapshot.json", dir);
	write_file(s, "{}");
	free(s);
	assert_int_equal(events_list(dir, "Orders", &l, &err), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.items[0].name, "a-first");
	assert_string_equal(l.items[1].name, "put");
	assert_true(l.items[1].has_snapshot);
	assert_false(l.items[0].has_snapshot);
	events_list_free(&l);

	/* Rename carries the snapshot; duplicate copies bytes; target must not exist. */
	assert_int_equal(events_rename(dir, "Orders", "put", "upload", &err), 0);
	s = xasprintf("%s/events/Orders/upload.snapshot.json", dir);
	assert_true(util_is_file(s));
	free(s);
	assert_int_equal(events_rename(dir, "Orders", "upload", "a-first", &err), -1);
	assert_string_equal(err.code, "EventExists");
	assert_int_equal(events_rename(dir, "Orders", "gone", "x", &err), -1);
	assert_string_equal(err.code, "EventNotFound");
	assert_int_equal(events_duplicate(dir, "Orders", "a-first", "copy", &err), 0);
	assert_int_equal(events_read(dir, "Orders", "copy", &b, &err), 0);
	assert_string_equal(b.data, "{\"x\":1}");
	buf_reset(&b);

	/* Editor round trip: a valid edit is saved. */
	assert_int_equal(events_edit_begin(dir, "Orders", "copy", &scratch, &err), 0);
	s = slurp(scratch);
	assert_string_equal(s, "{\"x\":1}");
	free(s);
	write_file(scratch, "{\"x\": 2}\n");
	assert_int_equal(events_edit_finish(dir, "Orders", "copy", &changed, &err), 0);
	assert_true(changed);
	assert_false(util_is_file(scratch));
	free(scratch);
	assert_int_equal(events_read(dir, "Orders", "copy", &b, &err), 0);
	assert_string_equal(b.data, "{\"x\": 2}\n");
	buf_reset(&b);

	/* An invalid edit: error with line:col, saved event untouched, text kept. */
	assert_int_equal(events_edit_begin(dir, "Orders", "copy", &scratch, &err), 0);
	write_file(scratch, "{\n  \"x\": 3,\n  \"y\": [1, 2\n}\n");
	assert_int_equal(events_edit_finish(dir, "Orders", "copy", &changed, &err), -1);
	assert_string_equal(err.code, "ParseError");
	assert_non_null(strstr(err.message, "events/Orders/copy.json:4:1:"));
	assert_non_null(strstr(err.message, ".lambdeck/recovery/Orders/copy.json"));
	free(scratch);
	assert_int_equal(events_read(dir, "Orders", "copy", &b, &err), 0);
	assert_string_equal(b.data, "{\"x\": 2}\n");
	buf_reset(&b);
	rec = events_recovery_path(dir, "Orders", "copy");
	s = slurp(rec);
	assert_string_equal(s, "{\n  \"x\": 3,\n  \"y\": [1, 2\n}\n");
	free(s);
	assert_int_equal(events_list(dir, "Orders", &l, &err), 0);
	assert_true(l.items[1].has_recovery); /* a-first, copy, upload */
	assert_string_equal(l.items[1].name, "copy");
	events_list_free(&l);

	/* Reopen continues from the recovery copy; fixing it saves and drops the copy. */
	assert_int_equal(events_edit_begin(dir, "Orders", "copy", &scratch, &err), 0);
	s = slurp(scratch);
	assert_string_equal(s, "{\n  \"x\": 3,\n  \"y\": [1, 2\n}\n");
	free(s);
	write_file(scratch, "{\n  \"x\": 3,\n  \"y\": [1, 2]\n}\n");
	assert_int_equal(events_edit_finish(dir, "Orders", "copy", &changed, &err), 0);
	assert_true(changed);
	assert_false(util_is_file(rec));
	free(scratch);
	assert_int_equal(events_read(dir, "Orders", "copy", &b, &err), 0);
	assert_string_equal(b.data, "{\n  \"x\": 3,\n  \"y\": [1, 2]\n}\n");
	buf_reset(&b);

	/* Unchanged edit reports unchanged. */
	assert_int_equal(events_edit_begin(dir, "Orders", "copy", &scratch, &err), 0);
	free(scratch);
	assert_int_equal(events_edit_finish(dir, "Orders", "copy", &changed, &err), 0);
	assert_false(changed);

	/* New event through the editor starts from {} */
	assert_int_equal(events_edit_begin(dir, "Orders", "fresh", &scratch, &err), 0);
	s = slurp(scratch);
	assert_int_equal(events_validate_json(s, strlen(s), "x", &err), 0);
	free(s);
	free(scratch);
	assert_int_equal(events_edit_finish(dir, "Orders", "fresh", &changed, &err), 0);
	assert_true(changed);

	/* A saved file made invalid outside lambdeck is reported with line:col. */
	s = xasprintf("%s/events/Orders/copy.json", dir);
	write_file(s, "{\n\n   oops\n}");
	free(s);
	assert_int_equal(events_read(dir, "Orders", "copy", &b, &err), -1);
	assert_non_null(strstr(err.message, "events/Orders/copy.json:3:4:"));
	buf_reset(&b);

	/* Delete removes event, snapshot, recovery copy. */
	assert_int_equal(events_delete(dir, "Orders", "upload", &err), 0);
	s = xasprintf("%s/events/Orders/upload.snapshot.json", dir);
	assert_false(util_is_file(s));
	free(s);
	assert_int_equal(events_delete(dir, "Orders", "upload", &err), -1);
	assert_string_equal(err.code, "EventNotFound");
	assert_int_equal(events_read(dir, "Orders", "nope", &b, &err), -1);
	assert_string_equal(err.code, "EventNotFound");

	free(rec);
	buf_free(&b);
	test_rm_rf(dir);
	free(dir);
}

static void test_resolve(void **state)
{
	char *dir = test_tmpdir("events"), *label = NULL, *path;
	struct lk_error err = {0};
	struct buf b = {0};

	(void)state;
	assert_int_equal(events_save(dir, "F", "e1", "{\"k\":1}", 7, false, &err), 0);
	assert_int_equal(events_resolve(dir, "F", "e1", &b, &label, &err), 0);
	assert_string_equal(b.data, "{\"k\":1}");
	assert_string_equal(label, "e1");
	free(label);
	buf_reset(&b);
	assert_int_equal(events_resolve(dir, "F", "template:sqs", &b, &label, &err), 0);
	assert_string_equal(label, "template:sqs");
	assert_non_null(strstr(b.data, "aws:sqs"));
	free(label);
	buf_reset(&b);
	path = xasprintf("%s/other.json", dir);
	write_file(path, "[1,");
	assert_int_equal(events_resolve(dir, "F", path, &b, &label, &err), -1);
	assert_string_equal(err.code, "ParseError");
	assert_non_null(strstr(err.message, "other.json:1:"));
	free(label);
	free(path);
	buf_reset(&b);
	assert_int_equal(events_resolve(dir, "F", "missing", &b, &label, &err), -1);
	assert_string_equal(err.code, "EventNotFound");
	free(label);
	assert_int_equal(events_resolve(dir, "F", "template:nope", &b, &label, &err), -1);
	assert_string_equal(err.code, "EventNotFound");
	free(label);
	buf_free(&b);
	test_rm_rf(dir);
	free(dir);
}

/* events/NAME.json at the root (the sam local invoke -e layout) is offered to every function;
 * a function's own event of the same name wins; renames keep a shared event shared. */
static void test_shared_root_events(void **state)
{
	char *dir = test_tmpdir("events"), *path, *label = NULL;
	struct lk_error err = {0};
	struct event_list l = {0};
	struct buf b = {0};

	(void)state;
	path = xasprintf("%s/events", dir);
	assert_int_equal(util_mkdir_p(path, 0777, &err), 0);
	free(path);
	path = xasprintf("%s/events/event.json", dir);
	write_file(path, "{\"shared\": true}");
	free(path);
	path = xasprintf("%s/events/notes.txt", dir);
	write_file(path, "not an event");
	free(path);
	assert_int_equal(events_save(dir, "Orders", "own", "{\"own\":1}", 9, false, &err), 0);

	assert_int_equal(events_list(dir, "Orders", &l, &err), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.items[0].name, "event");
	assert_true(l.items[0].shared);
	assert_string_equal(l.items[1].name, "own");
	assert_false(l.items[1].shared);
	events_list_free(&l);
	/* every function sees it, also one with no events directory */
	assert_int_equal(events_list(dir, "Other", &l, &err), 0);
	assert_int_equal(l.n, 1);
	assert_true(l.items[0].shared);
	events_list_free(&l);
	assert_true(events_is_shared(dir, "Other", "event"));
	assert_int_equal(events_read(dir, "Other", "event", &b, &err), 0);
	assert_string_equal(b.data, "{\"shared\": true}");
	buf_reset(&b);
	assert_int_equal(events_resolve(dir, "Other", "event", &b, &label, &err), 0);
	assert_string_equal(b.data, "{\"shared\": true}");
	free(label);
	buf_reset(&b);
	/* errors name the file as the user has it */
	path = xasprintf("%s/events/broken.json", dir);
	write_file(path, "{");
	free(path);
	assert_int_equal(events_read(dir, "Orders", "broken", &b, &err), -1);
	assert_non_null(strstr(err.message, "events/broken.json:1:"));
	buf_reset(&b);

	/* the function's own event of the same name wins */
	assert_int_equal(events_save(dir, "Orders", "event", "{\"mine\":1}", 10, false, &err), -1);
	assert_string_equal(err.code, "EventExists"); /* the shared one is there */
	path = xasprintf("%s/events/Orders/event.json", dir);
	write_file(path, "{\"mine\": 1}");
	free(path);
	assert_int_equal(events_read(dir, "Orders", "event", &b, &err), 0);
	assert_string_equal(b.data, "{\"mine\": 1}");
	buf_reset(&b);
	assert_int_equal(events_list(dir, "Orders", &l, &err), 0);
	assert_int_equal(l.n, 3); /* broken, event (own), own */
	assert_false(l.items[1].shared);
	events_list_free(&l);

	/* a shared event renamed stays shared */
	assert_int_equal(events_rename(dir, "Other", "event", "renamed", &err), 0);
	path = xasprintf("%s/events/renamed.json", dir);
	assert_true(util_is_file(path));
	free(path);
	assert_true(events_is_shared(dir, "Orders", "renamed"));
	buf_free(&b);
	test_rm_rf(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_template_count_and_params),
	    cmocka_unit_test(test_s3),
	    cmocka_unit_test(test_sqs_sns),
	    cmocka_unit_test(test_http),
	    cmocka_unit_test(test_eventbridge),
	    cmocka_unit_test(test_dynamodb),
	    cmocka_unit_test(test_kinesis_base64),
	    cmocka_unit_test(test_cloudwatch_logs_gzip),
	    cmocka_unit_test(test_cognito),
	    cmocka_unit_test(test_validation_line_col),
	    cmocka_unit_test(test_pretty_keeps_numbers),
	    cmocka_unit_test(test_saved_event_lifecycle),
	    cmocka_unit_test(test_resolve),
	    cmocka_unit_test(test_shared_root_events),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
