/* events_templates.c - the built-in event templates of events.h: each one builds the event
 * AWS would deliver, with the fields AWS encodes already encoded (S3 keys URL-encoded,
 * Kinesis data base64, CloudWatch Logs awslogs.data gzip+base64, SQS/SNS/API bodies as
 * strings, DynamoDB images as AttributeValues). */
#include "backend/events.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <zlib.h>

/* Parameter values of one rendering: defaults overridden by the user's values. */
struct tvals {
	const struct event_template *t;
	const struct event_kv *kv;
	size_t n;
	struct lk_error *err;
};

typedef cJSON *(*template_build_fn)(struct tvals *v);

struct template_def {
	struct event_template pub; /* first: events_template_at returns its address */
	template_build_fn build;
};

/* Value of parameter name: the user's, else the template's default. */
static const char *val(struct tvals *v, const char *name)
{
	for (size_t i = 0; i < v->n; i++)
		if (!strcmp(v->kv[i].name, name))
			return v->kv[i].value ? v->kv[i].value : "";
	for (size_t i = 0; i < v->t->n_params; i++)
		if (!strcmp(v->t->params[i].name, name))
			return v->t->params[i].def;
	lk_fatal("template %s has no parameter %s", v->t->name, name);
}

/* Integer parameter; sets err and returns -1 on a bad value. */
static long long ival(struct tvals *v, const char *name, long long min, long long max)
{
	const char *s = val(v, name);
	char *end;
	long long n;

	errno = 0;
	n = strtoll(s, &end, 10);
	if (!*s || *end || errno || n < min || n > max) {
		lk_error_set(v->err, "InvalidParameter",
		             "%s: '%s' is not a whole number in %lld..%lld", name, s, min, max);
		return -1;
	}
	return n;
}

/* JSON parameter (an object unless any_type); sets err and returns NULL on a bad value. */
static cJSON *jval(struct tvals *v, const char *name, bool any_type)
{
	const char *s = val(v, name);
	struct lk_error perr = {0};
	cJSON *j;

	if (events_validate_json(s, strlen(s), name, &perr) < 0) {
		lk_error_set(v->err, "InvalidParameter", "%s is not JSON: %s", name, perr.message);
		return NULL;
	}
	j = cJSON_Parse(s);
	if (!j || (!any_type && !cJSON_IsObject(j))) {
		lk_error_set(v->err, "InvalidParameter", "%s must be a JSON object", name);
		cJSON_Delete(j);
		return NULL;
	}
	return j;
}

static void uuid4(char out[37])
{
	unsigned char r[16];
	char hex[33];

	if (RAND_bytes(r, sizeof(r)) != 1)
		for (size_t i = 0; i < sizeof(r); i++)
			r[i] = (unsigned char)rand();
	r[6] = (r[6] & 0x0f) | 0x40;
	r[8] = (r[8] & 0x3f) | 0x80;
	util_hex(r, sizeof(r), hex);
	snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
}

static void hex_id(char *out, size_t nbytes)
{
	unsigned char r[32];

	if (nbytes > sizeof(r))
		nbytes = sizeof(r);
	if (RAND_bytes(r, (int)nbytes) != 1)
		memset(r, 7, nbytes);
	util_hex(r, nbytes, out);
}

/* ISO-8601 UTC with milliseconds, "2026-11-24T11:23:04.123Z". */
static void iso_time(int64_t ms, char out[32])
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&s, &tm);
	size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, 32 - n, ".%03dZ", (int)(ms % 1000));
}

static void md5_hex(const char *s, char out[33])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	EVP_Digest(s, strlen(s), md, &n, EVP_md5(), NULL);
	util_hex(md, n, out);
}

/* S3 notifications carry the key URL-encoded, with spaces as '+'. */
static char *s3_key_encode(const char *key)
{
	struct buf b = {0};

	for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
		if (isalnum(*p) || strchr("-_.~/!*'()", *p))
			buf_putc(&b, (char)*p);
		else if (*p == ' ')
			buf_putc(&b, '+');
		else
			buf_printf(&b, "%%%02X", *p);
	}
	return buf_steal(&b);
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes %XX and '+' (query strings as API Gateway decodes them). */
static char *url_decode(const char *s, size_t len)
{
	struct buf b = {0};

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '%' && i + 2 < len && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
			buf_putc(&b, (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2])));
			i += 2;
		} else if (s[i] == '+') {
			buf_putc(&b, ' ');
		} else {
			buf_putc(&b, s[i]);
		}
	}
	return buf_steal(&b);
}

/* Parses "a=1&b=2&a=3" into {"a":"3","b":"2"} and {"a":["1","3"],"b":["2"]} (NULLs when
 * empty, as API Gateway sends null). */
static void parse_query(const char *q, cJSON **single, cJSON **multi)
{
	*single = *multi = NULL;
	if (q[0] == '?')
		q++;
	if (!*q)
		return;
	*single = cJSON_CreateObject();
	*multi = cJSON_CreateObject();
	while (*q) {
		const char *amp = strchr(q, '&');
		size_t len = amp ? (size_t)(amp - q) : strlen(q);
		const char *eq = memchr(q, '=', len);
		size_t klen = eq ? (size_t)(eq - q) : len;
		char *k = url_decode(q, klen);
		char *v = eq ? url_decode(eq + 1, len - klen - 1) : xstrdup("");

		if (*k) {
			cJSON *arr = cJSON_GetObjectItemCaseSensitive(*multi, k);
			if (!arr)
				arr = cJSON_AddArrayToObject(*multi, k);
			cJSON_AddItemToArray(arr, cJSON_CreateString(v));
			cJSON_DeleteItemFromObjectCaseSensitive(*single, k);
			cJSON_AddStringToObject(*single, k, v);
		}
		free(k);
		free(v);
		q += len;
		if (*q == '&')
			q++;
	}
}

/* Headers: defaults plus the user's JSON object (string values). Returns NULL on error. */
static cJSON *http_headers(struct tvals *v, const char *body)
{
	cJSON *h = cJSON_CreateObject();
	cJSON *user = jval(v, "headers", false);
	cJSON *it;

	if (!user) {
		cJSON_Delete(h);
		return NULL;
	}
	cJSON_AddStringToObject(h, "accept", "*/*");
	cJSON_AddStringToObject(h, "host", "example.execute-api.us-east-1.amazonaws.com");
	cJSON_AddStringToObject(h, "user-agent", "lambdeck");
	if (*body)
		cJSON_AddStringToObject(h, "content-type", "application/json");
	cJSON_ArrayForEach(it, user)
	{
		char *lower = xstrdup(it->string);
		for (char *p = lower; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		cJSON_DeleteItemFromObjectCaseSensitive(h, lower);
		if (cJSON_IsString(it))
			cJSON_AddStringToObject(h, lower, it->valuestring);
		else {
			char *s = cJSON_PrintUnformatted(it);
			cJSON_AddStringToObject(h, lower, s);
			free(s);
		}
		free(lower);
	}
	cJSON_Delete(user);
	return h;
}

static cJSON *multi_headers(const cJSON *h)
{
	cJSON *m = cJSON_CreateObject();
	const cJSON *it;

	cJSON_ArrayForEach(it, h)
	{
		cJSON *arr = cJSON_AddArrayToObject(m, it->string);
		cJSON_AddItemToArray(arr, cJSON_CreateString(it->valuestring));
	}
	return m;
}

static cJSON *records(cJSON *record)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *arr = cJSON_AddArrayToObject(root, "Records");

	cJSON_AddItemToArray(arr, record);
	return root;
}

/* ---- S3 ------------------------------------------------------------------------------- */

static cJSON *s3_event(struct tvals *v, bool put)
{
	char now[32], reqid[17], id2[65], seq[19];
	cJSON *r = cJSON_CreateObject(), *o, *s3, *bucket, *obj;
	const char *region = val(v, "region"), *bname = val(v, "bucket");
	char *arn, *key;
	long long size = 0;

	if (put && (size = ival(v, "size", 0, 5LL * 1024 * 1024 * 1024 * 1024)) < 0) {
		cJSON_Delete(r);
		return NULL;
	}
	if (!*bname || !*val(v, "key")) {
		cJSON_Delete(r);
		lk_error_set(v->err, "InvalidParameter", "bucket and key must not be empty");
		return NULL;
	}
	iso_time(util_now_ms(), now);
	hex_id(reqid, 8);
	hex_id(id2, 32);
	hex_id(seq, 9);
	cJSON_AddStringToObject(r, "eventVersion", "2.1");
	cJSON_AddStringToObject(r, "eventSource", "aws:s3");
	cJSON_AddStringToObject(r, "awsRegion", region);
	cJSON_AddStringToObject(r, "eventTime", now);
	cJSON_AddStringToObject(r, "eventName", put ? "ObjectCreated:Put" : "ObjectRemoved:Delete");
	o = cJSON_AddObjectToObject(r, "userIdentity");
	cJSON_AddStringToObject(o, "principalId", "AWS:AIDAEXAMPLE");
	o = cJSON_AddObjectToObject(r, "requestParameters");
	cJSON_AddStringToObject(o, "sourceIPAddress", "127.0.0.1");
	o = cJSON_AddObjectToObject(r, "responseElements");
	cJSON_AddStringToObject(o, "x-amz-request-id", reqid);
	cJSON_AddStringToObject(o, "x-amz-id-2", id2);
	s3 = cJSON_AddObjectToObject(r, "s3");
	cJSON_AddStringToObject(s3, "s3SchemaVersion", "1.0");
	cJSON_AddStringToObject(s3, "configurationId", "lambdeck-notification");
	bucket = cJSON_AddObjectToObject(s3, "bucket");
	cJSON_AddStringToObject(bucket, "name", bname);
	o = cJSON_AddObjectToObject(bucket, "ownerIdentity");
	cJSON_AddStringToObject(o, "principalId", "AEXAMPLE");
	arn = xasprintf("arn:aws:s3:::%s", bname);
	cJSON_AddStringToObject(bucket, "arn", arn);
	free(arn);
	obj = cJSON_AddObjectToObject(s3, "object");
	key = s3_key_encode(val(v, "key"));
	cJSON_AddStringToObject(obj, "key", key);
	free(key);
	if (put) {
		char etag[33];
		md5_hex(val(v, "key"), etag);
		cJSON_AddNumberToObject(obj, "size", (double)size);
		cJSON_AddStringToObject(obj, "eTag", etag);
	}
	for (char *p = seq; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	cJSON_AddStringToObject(obj, "sequencer", seq);
	return records(r);
}

static cJSON *build_s3_put(struct tvals *v)
{
	return s3_event(v, true);
}

static cJSON *build_s3_delete(struct tvals *v)
{
	return s3_event(v, false);
}

/* ---- SQS / SNS ------------------------------------------------------------------------ */

static cJSON *build_sqs(struct tvals *v)
{
	long long count = ival(v, "count", 1, 10000);
	const char *region = val(v, "region"), *account = val(v, "account");
	const char *body = val(v, "body");
	char *arn = xasprintf("arn:aws:sqs:%s:%s:%s", region, account, val(v, "queue"));
	cJSON *root, *arr;
	char ts[24], md5[33];

	if (count < 0) {
		free(arn);
		return NULL;
	}
	root = cJSON_CreateObject();
	arr = cJSON_AddArrayToObject(root, "Records");
	snprintf(ts, sizeof(ts), "%lld", (long long)util_now_ms());
	md5_hex(body, md5);
	for (long long i = 0; i < count; i++) {
		cJSON *r = cJSON_CreateObject(), *a;
		char id[37], rh[65];
		uuid4(id);
		hex_id(rh, 32);
		cJSON_AddStringToObject(r, "messageId", id);
		cJSON_AddStringToObject(r, "receiptHandle", rh);
		cJSON_AddStringToObject(r, "body", body);
		a = cJSON_AddObjectToObject(r, "attributes");
		cJSON_AddStringToObject(a, "ApproximateReceiveCount", "1");
		cJSON_AddStringToObject(a, "SentTimestamp", ts);
		cJSON_AddStringToObject(a, "SenderId", "AIDAEXAMPLE");
		cJSON_AddStringToObject(a, "ApproximateFirstReceiveTimestamp", ts);
		cJSON_AddObjectToObject(r, "messageAttributes");
		cJSON_AddStringToObject(r, "md5OfBody", md5);
		cJSON_AddStringToObject(r, "eventSource", "aws:sqs");
		cJSON_AddStringToObject(r, "eventSourceARN", arn);
		cJSON_AddStringToObject(r, "awsRegion", region);
		cJSON_AddItemToArray(arr, r);
	}
	free(arn);
	return root;
}

static cJSON *build_sns(struct tvals *v)
{
	const char *region = val(v, "region"), *account = val(v, "account");
	char *topic = xasprintf("arn:aws:sns:%s:%s:%s", region, account, val(v, "topic"));
	char id[37], sub[37], now[32], *s;
	cJSON *r = cJSON_CreateObject(), *sns;

	uuid4(id);
	uuid4(sub);
	iso_time(util_now_ms(), now);
	cJSON_AddStringToObject(r, "EventVersion", "1.0");
	s = xasprintf("%s:%s", topic, sub);
	cJSON_AddStringToObject(r, "EventSubscriptionArn", s);
	free(s);
	cJSON_AddStringToObject(r, "EventSource", "aws:sns");
	sns = cJSON_AddObjectToObject(r, "Sns");
	cJSON_AddStringToObject(sns, "SignatureVersion", "1");
	cJSON_AddStringToObject(sns, "Timestamp", now);
	cJSON_AddStringToObject(sns, "Signature", "EXAMPLE");
	cJSON_AddStringToObject(
	    sns, "SigningCertUrl",
	    "https://sns.us-east-1.amazonaws.com/SimpleNotificationService.pem");
	cJSON_AddStringToObject(sns, "MessageId", id);
	cJSON_AddStringToObject(sns, "Message", val(v, "message"));
	cJSON_AddObjectToObject(sns, "MessageAttributes");
	cJSON_AddStringToObject(sns, "Type", "Notification");
	s = xasprintf("https://sns.%s.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=%s:%s",
	              region, topic, sub);
	cJSON_AddStringToObject(sns, "UnsubscribeUrl", s);
	free(s);
	cJSON_AddStringToObject(sns, "TopicArn", topic);
	if (*val(v, "subject"))
		cJSON_AddStringToObject(sns, "Subject", val(v, "subject"));
	else
		cJSON_AddNullToObject(sns, "Subject");
	free(topic);
	return records(r);
}

/* ---- HTTP: API Gateway REST, HTTP API, ALB -------------------------------------------- */

static int check_method_path(struct tvals *v)
{
	const char *m = val(v, "method"), *p = val(v, "path");

	for (const char *c = m; *c; c++)
		if (!isupper((unsigned char)*c))
			return lk_error_set(v->err, "InvalidParameter",
			                    "method: '%s' is not an HTTP method (GET, POST...)", m);
	if (!*m)
		return lk_error_set(v->err, "InvalidParameter", "method must not be empty");
	if (p[0] != '/')
		return lk_error_set(v->err, "InvalidParameter", "path must start with '/'");
	return 0;
}

static void add_body(cJSON *o, const char *body)
{
	if (*body)
		cJSON_AddStringToObject(o, "body", body);
	else
		cJSON_AddNullToObject(o, "body");
	cJSON_AddBoolToObject(o, "isBase64Encoded", false);
}

static cJSON *build_apigw_rest(struct tvals *v)
{
	const char *path = val(v, "path"), *stage = val(v, "stage"), *body = val(v, "body");
	cJSON *e, *h, *q, *mq, *rc, *id, *pp;
	char now[32], rid[37], *s;
	int64_t ms = util_now_ms();

	if (check_method_path(v) < 0 || !(h = http_headers(v, body)))
		return NULL;
	e = cJSON_CreateObject();
	cJSON_AddStringToObject(e, "resource", "/{proxy+}");
	cJSON_AddStringToObject(e, "path", path);
	cJSON_AddStringToObject(e, "httpMethod", val(v, "method"));
	cJSON_AddItemToObject(e, "headers", h);
	cJSON_AddItemToObject(e, "multiValueHeaders", multi_headers(h));
	parse_query(val(v, "query"), &q, &mq);
	cJSON_AddItemToObject(e, "queryStringParameters", q ? q : cJSON_CreateNull());
	cJSON_AddItemToObject(e, "multiValueQueryStringParameters", mq ? mq : cJSON_CreateNull());
	pp = cJSON_AddObjectToObject(e, "pathParameters");
	cJSON_AddStringToObject(pp, "proxy", path + 1);
	cJSON_AddNullToObject(e, "stageVariables");
	rc = cJSON_AddObjectToObject(e, "requestContext");
	cJSON_AddStringToObject(rc, "accountId", "123456789012");
	cJSON_AddStringToObject(rc, "apiId", "1234567890");
	cJSON_AddStringToObject(rc, "resourceId", "123456");
	cJSON_AddStringToObject(rc, "resourcePath", "/{proxy+}");
	cJSON_AddStringToObject(rc, "httpMethod", val(v, "method"));
	s = xasprintf("/%s%s", stage, path);
	cJSON_AddStringToObject(rc, "path", s);
	free(s);
	cJSON_AddStringToObject(rc, "stage", stage);
	uuid4(rid);
	cJSON_AddStringToObject(rc, "requestId", rid);
	iso_time(ms, now);
	cJSON_AddStringToObject(rc, "requestTime", now);
	cJSON_AddNumberToObject(rc, "requestTimeEpoch", (double)ms);
	id = cJSON_AddObjectToObject(rc, "identity");
	cJSON_AddStringToObject(id, "sourceIp", "127.0.0.1");
	cJSON_AddStringToObject(id, "userAgent", "lambdeck");
	cJSON_AddStringToObject(rc, "protocol", "HTTP/1.1");
	cJSON_AddStringToObject(rc, "domainName", "1234567890.execute-api.us-east-1.amazonaws.com");
	add_body(e, body);
	return e;
}

static cJSON *build_apigw_http(struct tvals *v)
{
	const char *path = val(v, "path"), *body = val(v, "body"), *query = val(v, "query");
	cJSON *e, *h, *q, *mq, *rc, *http, *cookies;
	char rid[37], tbuf[64], *s;
	int64_t ms = util_now_ms();
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (check_method_path(v) < 0 || !(h = http_headers(v, body)))
		return NULL;
	e = cJSON_CreateObject();
	cJSON_AddStringToObject(e, "version", "2.0");
	cJSON_AddStringToObject(e, "routeKey", "$default");
	cJSON_AddStringToObject(e, "rawPath", path);
	cJSON_AddStringToObject(e, "rawQueryString", query[0] == '?' ? query + 1 : query);
	cookies = cJSON_AddArrayToObject(e, "cookies");
	if (*val(v, "cookies")) {
		s = xstrdup(val(v, "cookies"));
		for (char *save = NULL, *c = strtok_r(s, ";", &save); c;
		     c = strtok_r(NULL, ";", &save)) {
			while (*c == ' ')
				c++;
			if (*c)
				cJSON_AddItemToArray(cookies, cJSON_CreateString(c));
		}
		free(s);
	}
	cJSON_AddItemToObject(e, "headers", h);
	parse_query(query, &q, &mq);
	cJSON_Delete(mq);
	if (q)
		cJSON_AddItemToObject(e, "queryStringParameters", q);
	rc = cJSON_AddObjectToObject(e, "requestContext");
	cJSON_AddStringToObject(rc, "accountId", "123456789012");
	cJSON_AddStringToObject(rc, "apiId", "api-id");
	cJSON_AddStringToObject(rc, "domainName", "api-id.execute-api.us-east-1.amazonaws.com");
	cJSON_AddStringToObject(rc, "domainPrefix", "api-id");
	http = cJSON_AddObjectToObject(rc, "http");
	cJSON_AddStringToObject(http, "method", val(v, "method"));
	cJSON_AddStringToObject(http, "path", path);
	cJSON_AddStringToObject(http, "protocol", "HTTP/1.1");
	cJSON_AddStringToObject(http, "sourceIp", "127.0.0.1");
	cJSON_AddStringToObject(http, "userAgent", "lambdeck");
	uuid4(rid);
	cJSON_AddStringToObject(rc, "requestId", rid);
	cJSON_AddStringToObject(rc, "routeKey", "$default");
	cJSON_AddStringToObject(rc, "stage", "$default");
	gmtime_r(&t, &tm);
	strftime(tbuf, sizeof(tbuf), "%d/%b/%Y:%H:%M:%S +0000", &tm);
	cJSON_AddStringToObject(rc, "time", tbuf);
	cJSON_AddNumberToObject(rc, "timeEpoch", (double)ms);
	if (*body)
		cJSON_AddStringToObject(e, "body", body);
	cJSON_AddBoolToObject(e, "isBase64Encoded", false);
	return e;
}

static cJSON *build_alb(struct tvals *v)
{
	const char *body = val(v, "body");
	cJSON *e, *h, *q, *mq, *rc, *elb;

	if (check_method_path(v) < 0 || !(h = http_headers(v, body)))
		return NULL;
	e = cJSON_CreateObject();
	rc = cJSON_AddObjectToObject(e, "requestContext");
	elb = cJSON_AddObjectToObject(rc, "elb");
	cJSON_AddStringToObject(elb, "targetGroupArn",
	                        "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/"
	                        "lambda-target/abcdef0123456789");
	cJSON_AddStringToObject(e, "httpMethod", val(v, "method"));
	cJSON_AddStringToObject(e, "path", val(v, "path"));
	parse_query(val(v, "query"), &q, &mq);
	cJSON_Delete(mq);
	cJSON_AddItemToObject(e, "queryStringParameters", q ? q : cJSON_CreateObject());
	cJSON_AddItemToObject(e, "headers", h);
	cJSON_AddStringToObject(e, "body", body);
	cJSON_AddBoolToObject(e, "isBase64Encoded", false);
	return e;
}

/* ---- EventBridge ---------------------------------------------------------------------- */

static cJSON *eventbridge(struct tvals *v, const char *source, const char *detail_type,
                          cJSON *detail, const char *resource)
{
	cJSON *e = cJSON_CreateObject(), *res;
	char id[37], now[32];

	uuid4(id);
	iso_time(util_now_ms(), now);
	now[19] = 'Z', now[20] = '\0'; /* EventBridge time has no fraction */
	cJSON_AddStringToObject(e, "version", "0");
	cJSON_AddStringToObject(e, "id", id);
	cJSON_AddStringToObject(e, "detail-type", detail_type);
	cJSON_AddStringToObject(e, "source", source);
	cJSON_AddStringToObject(e, "account", val(v, "account"));
	cJSON_AddStringToObject(e, "time", now);
	cJSON_AddStringToObject(e, "region", val(v, "region"));
	res = cJSON_AddArrayToObject(e, "resources");
	if (resource)
		cJSON_AddItemToArray(res, cJSON_CreateString(resource));
	cJSON_AddItemToObject(e, "detail", detail);
	return e;
}

static cJSON *build_eb_scheduled(struct tvals *v)
{
	char *arn = xasprintf("arn:aws:events:%s:%s:rule/%s", val(v, "region"), val(v, "account"),
	                      val(v, "rule"));
	cJSON *e = eventbridge(v, "aws.events", "Scheduled Event", cJSON_CreateObject(), arn);

	free(arn);
	return e;
}

static cJSON *build_eb_custom(struct tvals *v)
{
	cJSON *detail = jval(v, "detail", false);

	if (!detail)
		return NULL;
	if (!*val(v, "source") || !*val(v, "detail-type")) {
		cJSON_Delete(detail);
		lk_error_set(v->err, "InvalidParameter",
		             "source and detail-type must not be empty");
		return NULL;
	}
	return eventbridge(v, val(v, "source"), val(v, "detail-type"), detail, NULL);
}

/* ---- DynamoDB stream ------------------------------------------------------------------ */

/* Plain JSON -> DynamoDB AttributeValue ({"S": ...}, {"N": "..."}, {"M": ...}...). */
static cJSON *to_attribute_value(const cJSON *j)
{
	cJSON *av = cJSON_CreateObject();

	if (cJSON_IsString(j)) {
		cJSON_AddStringToObject(av, "S", j->valuestring);
	} else if (cJSON_IsNumber(j)) {
		char num[64];
		if (j->valuedouble == (double)(long long)j->valuedouble)
			snprintf(num, sizeof(num), "%lld", (long long)j->valuedouble);
		else
			snprintf(num, sizeof(num), "%.17g", j->valuedouble);
		cJSON_AddStringToObject(av, "N", num);
	} else if (cJSON_IsBool(j)) {
		cJSON_AddBoolToObject(av, "BOOL", cJSON_IsTrue(j));
	} else if (cJSON_IsNull(j)) {
		cJSON_AddBoolToObject(av, "NULL", true);
	} else if (cJSON_IsArray(j)) {
		cJSON *l = cJSON_AddArrayToObject(av, "L");
		const cJSON *it;
		cJSON_ArrayForEach(it, j) cJSON_AddItemToArray(l, to_attribute_value(it));
	} else {
		cJSON *m = cJSON_AddObjectToObject(av, "M");
		const cJSON *it;
		cJSON_ArrayForEach(it, j)
		    cJSON_AddItemToObject(m, it->string, to_attribute_value(it));
	}
	return av;
}

static cJSON *to_image(const cJSON *obj)
{
	cJSON *img = cJSON_CreateObject();
	const cJSON *it;

	cJSON_ArrayForEach(it, obj) cJSON_AddItemToObject(img, it->string, to_attribute_value(it));
	return img;
}

static cJSON *build_dynamodb(struct tvals *v)
{
	const char *name = val(v, "event-name");
	cJSON *keys, *newi = NULL, *oldi = NULL, *r, *d;
	char seq[32], id[33], *arn, *s;

	if (strcmp(name, "INSERT") && strcmp(name, "MODIFY") && strcmp(name, "REMOVE")) {
		lk_error_set(v->err, "InvalidParameter",
		             "event-name: '%s' must be INSERT, MODIFY or REMOVE", name);
		return NULL;
	}
	if (!(keys = jval(v, "keys", false)))
		return NULL;
	if (strcmp(name, "REMOVE") && !(newi = jval(v, "new-image", false)))
		goto fail;
	if (strcmp(name, "INSERT") && !(oldi = jval(v, "old-image", false)))
		goto fail;
	r = cJSON_CreateObject();
	hex_id(id, 16);
	cJSON_AddStringToObject(r, "eventID", id);
	cJSON_AddStringToObject(r, "eventName", name);
	cJSON_AddStringToObject(r, "eventVersion", "1.1");
	cJSON_AddStringToObject(r, "eventSource", "aws:dynamodb");
	cJSON_AddStringToObject(r, "awsRegion", val(v, "region"));
	d = cJSON_AddObjectToObject(r, "dynamodb");
	cJSON_AddNumberToObject(d, "ApproximateCreationDateTime", (double)(util_now_ms() / 1000));
	cJSON_AddItemToObject(d, "Keys", to_image(keys));
	/* Images contain the keys too, as DynamoDB sends them. */
	if (newi) {
		const cJSON *k;
		cJSON_ArrayForEach(k, keys) if (!cJSON_GetObjectItemCaseSensitive(newi, k->string))
		    cJSON_AddItemToObject(newi, k->string, cJSON_Duplicate(k, true));
		cJSON_AddItemToObject(d, "NewImage", to_image(newi));
	}
	if (oldi) {
		const cJSON *k;
		cJSON_ArrayForEach(k, keys) if (!cJSON_GetObjectItemCaseSensitive(oldi, k->string))
		    cJSON_AddItemToObject(oldi, k->string, cJSON_Duplicate(k, true));
		cJSON_AddItemToObject(d, "OldImage", to_image(oldi));
	}
	snprintf(seq, sizeof(seq), "%lld", (long long)util_now_ms() * 100000);
	cJSON_AddStringToObject(d, "SequenceNumber", seq);
	s = cJSON_PrintUnformatted(d);
	cJSON_AddNumberToObject(d, "SizeBytes", (double)strlen(s));
	free(s);
	cJSON_AddStringToObject(d, "StreamViewType", "NEW_AND_OLD_IMAGES");
	arn = xasprintf("arn:aws:dynamodb:%s:%s:table/%s/stream/2026-01-01T00:00:00.000",
	                val(v, "region"), val(v, "account"), val(v, "table"));
	cJSON_AddStringToObject(r, "eventSourceARN", arn);
	free(arn);
	cJSON_Delete(keys);
	cJSON_Delete(newi);
	cJSON_Delete(oldi);
	return records(r);
fail:
	cJSON_Delete(keys);
	cJSON_Delete(newi);
	cJSON_Delete(oldi);
	return NULL;
}

/* ---- Kinesis -------------------------------------------------------------------------- */

static cJSON *build_kinesis(struct tvals *v)
{
	const char *data = val(v, "data"), *region = val(v, "region");
	cJSON *r = cJSON_CreateObject(), *k;
	char *b64 = util_base64(data, strlen(data)), *s;
	char seq[64];
	int64_t ms = util_now_ms();

	snprintf(seq, sizeof(seq), "49590338271490256608559692538361571095921575989136588898");
	k = cJSON_AddObjectToObject(r, "kinesis");
	cJSON_AddStringToObject(k, "kinesisSchemaVersion", "1.0");
	cJSON_AddStringToObject(k, "partitionKey", val(v, "partition-key"));
	cJSON_AddStringToObject(k, "sequenceNumber", seq);
	cJSON_AddStringToObject(k, "data", b64);
	cJSON_AddNumberToObject(k, "approximateArrivalTimestamp", (double)ms / 1000.0);
	free(b64);
	cJSON_AddStringToObject(r, "eventSource", "aws:kinesis");
	cJSON_AddStringToObject(r, "eventVersion", "1.0");
	s = xasprintf("shardId-000000000000:%s", seq);
	cJSON_AddStringToObject(r, "eventID", s);
	free(s);
	cJSON_AddStringToObject(r, "eventName", "aws:kinesis:record");
	s = xasprintf("arn:aws:iam::%s:role/lambda-kinesis-role", val(v, "account"));
	cJSON_AddStringToObject(r, "invokeIdentityArn", s);
	free(s);
	cJSON_AddStringToObject(r, "awsRegion", region);
	s = xasprintf("arn:aws:kinesis:%s:%s:stream/%s", region, val(v, "account"),
	              val(v, "stream"));
	cJSON_AddStringToObject(r, "eventSourceARN", s);
	free(s);
	return records(r);
}

/* ---- CloudWatch Logs subscription ----------------------------------------------------- */

/* gzip (RFC 1952) of data; returns malloc'd bytes or NULL. */
static unsigned char *gzip_bytes(const void *data, size_t len, size_t *out_len)
{
	z_stream zs = {0};
	uLong cap;
	unsigned char *out;

	if (deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
	    Z_OK)
		return NULL;
	cap = deflateBound(&zs, (uLong)len) + 32;
	out = xmalloc(cap);
	zs.next_in = (Bytef *)data;
	zs.avail_in = (uInt)len;
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	if (deflate(&zs, Z_FINISH) != Z_STREAM_END) {
		deflateEnd(&zs);
		free(out);
		return NULL;
	}
	*out_len = zs.total_out;
	deflateEnd(&zs);
	return out;
}

static cJSON *build_cwlogs(struct tvals *v)
{
	cJSON *payload = cJSON_CreateObject(), *subs, *evs, *root, *aw;
	char *lines = xstrdup(val(v, "lines")), *json, *b64;
	unsigned char *gz;
	size_t gz_len = 0;
	int64_t ms = util_now_ms();
	int i = 0;

	cJSON_AddStringToObject(payload, "messageType", "DATA_MESSAGE");
	cJSON_AddStringToObject(payload, "owner", val(v, "account"));
	cJSON_AddStringToObject(payload, "logGroup", val(v, "log-group"));
	cJSON_AddStringToObject(payload, "logStream", val(v, "log-stream"));
	subs = cJSON_AddArrayToObject(payload, "subscriptionFilters");
	cJSON_AddItemToArray(subs, cJSON_CreateString(val(v, "filter-name")));
	evs = cJSON_AddArrayToObject(payload, "logEvents");
	/* One log event per line; "\n" typed literally in a form field counts as a newline. */
	for (char *p = lines; (p = strstr(p, "\\n"));)
		p[0] = '\n', memmove(p + 1, p + 2, strlen(p + 2) + 1);
	for (char *save = NULL, *l = strtok_r(lines, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save), i++) {
		cJSON *e = cJSON_CreateObject();
		char id[64];
		snprintf(id, sizeof(id), "%020lld%036d", (long long)ms, i);
		cJSON_AddStringToObject(e, "id", id);
		cJSON_AddNumberToObject(e, "timestamp", (double)(ms + i));
		cJSON_AddStringToObject(e, "message", l);
		cJSON_AddItemToArray(evs, e);
	}
	free(lines);
	json = cJSON_PrintUnformatted(payload);
	cJSON_Delete(payload);
	gz = gzip_bytes(json, strlen(json), &gz_len);
	free(json);
	if (!gz) {
		lk_error_set(v->err, "InternalError", "gzip failed");
		return NULL;
	}
	b64 = util_base64(gz, gz_len);
	free(gz);
	root = cJSON_CreateObject();
	aw = cJSON_AddObjectToObject(root, "awslogs");
	cJSON_AddStringToObject(aw, "data", b64);
	free(b64);
	return root;
}

/* ---- Cognito -------------------------------------------------------------------------- */

static cJSON *build_cognito(struct tvals *v)
{
	cJSON *e = cJSON_CreateObject(), *cc, *rq, *ua, *rs;
	const char *trigger = val(v, "trigger");

	cJSON_AddStringToObject(e, "version", "1");
	cJSON_AddStringToObject(e, "region", val(v, "region"));
	cJSON_AddStringToObject(e, "userPoolId", val(v, "user-pool-id"));
	cJSON_AddStringToObject(e, "userName", val(v, "username"));
	cc = cJSON_AddObjectToObject(e, "callerContext");
	cJSON_AddStringToObject(cc, "awsSdkVersion", "aws-sdk-unknown-unknown");
	cJSON_AddStringToObject(cc, "clientId", val(v, "client-id"));
	cJSON_AddStringToObject(e, "triggerSource", trigger);
	rq = cJSON_AddObjectToObject(e, "request");
	ua = cJSON_AddObjectToObject(rq, "userAttributes");
	if (strncmp(trigger, "PreSignUp", 9) != 0) {
		char sub[37];
		uuid4(sub);
		cJSON_AddStringToObject(ua, "sub", sub);
		cJSON_AddStringToObject(ua, "cognito:user_status", "CONFIRMED");
	}
	cJSON_AddStringToObject(ua, "email", val(v, "email"));
	cJSON_AddStringToObject(ua, "email_verified",
	                        strncmp(trigger, "PreSignUp", 9) ? "true" : "false");
	rs = cJSON_AddObjectToObject(e, "response");
	if (!strncmp(trigger, "PreSignUp", 9)) {
		cJSON_AddNullToObject(rq, "validationData");
		cJSON_AddBoolToObject(rs, "autoConfirmUser", false);
		cJSON_AddBoolToObject(rs, "autoVerifyEmail", false);
		cJSON_AddBoolToObject(rs, "autoVerifyPhone", false);
	} else if (!strncmp(trigger, "PostConfirmation", 16)) {
		cJSON_AddObjectToObject(rq, "clientMetadata");
	} else {
		cJSON_Delete(e);
		lk_error_set(
		    v->err, "InvalidParameter",
		    "trigger: '%s' must be PreSignUp_SignUp, PreSignUp_AdminCreateUser, "
		    "PostConfirmation_ConfirmSignUp or PostConfirmation_ConfirmForgotPassword",
		    trigger);
		return NULL;
	}
	return e;
}

/* ---- the table ------------------------------------------------------------------------ */

#define P(n, d, h)                                                                                 \
	{                                                                                          \
		.name = n, .def = d, .help = h                                                     \
	}
#define REGION     P("region", "us-east-1", "AWS region")
#define ACCOUNT    P("account", "123456789012", "AWS account id")
#define NPARAMS(a) (sizeof(a) / sizeof((a)[0]))

static const struct event_param s3_put_params[] = {
    P("bucket", "example-bucket", "bucket name"),
    P("key", "uploads/hello world.txt", "object key (URL-encoded in the event, as S3 does)"),
    P("size", "1024", "object size in bytes"),
    REGION,
};
static const struct event_param s3_delete_params[] = {
    P("bucket", "example-bucket", "bucket name"),
    P("key", "uploads/hello world.txt", "object key"),
    REGION,
};
static const struct event_param sqs_params[] = {
    P("body", "{\"orderId\": \"42\", \"amount\": 9.99}", "message body (sent as a string)"),
    P("queue", "my-queue", "queue name"),
    P("count", "1", "number of records in the batch"),
    REGION,
    ACCOUNT,
};
static const struct event_param sns_params[] = {
    P("message", "Hello from SNS!", "message (a string)"),
    P("subject", "TestInvoke", "subject (empty for none)"),
    P("topic", "my-topic", "topic name"),
    REGION,
    ACCOUNT,
};
static const struct event_param http_params[] = {
    P("method", "GET", "HTTP method"),
    P("path", "/hello", "request path"),
    P("query", "", "query string, e.g. a=1&b=2"),
    P("body", "", "request body (a string; empty for none)"),
    P("headers", "{}", "extra headers as a JSON object"),
    P("stage", "prod", "stage name"),
};
static const struct event_param http2_params[] = {
    P("method", "GET", "HTTP method"),
    P("path", "/hello", "request path"),
    P("query", "", "query string, e.g. a=1&b=2"),
    P("body", "", "request body (a string; empty for none)"),
    P("headers", "{}", "extra headers as a JSON object"),
    P("cookies", "", "cookies, e.g. a=1; b=2"),
};
static const struct event_param alb_params[] = {
    P("method", "GET", "HTTP method"),
    P("path", "/", "request path"),
    P("query", "", "query string, e.g. a=1&b=2"),
    P("body", "", "request body (a string)"),
    P("headers", "{}", "extra headers as a JSON object"),
};
static const struct event_param eb_sched_params[] = {
    P("rule", "my-schedule", "rule name"),
    REGION,
    ACCOUNT,
};
static const struct event_param eb_custom_params[] = {
    P("source", "com.example.orders", "event source"),
    P("detail-type", "OrderPlaced", "detail type"),
    P("detail", "{\"orderId\": \"42\"}", "detail as a JSON object"),
    REGION,
    ACCOUNT,
};
static const struct event_param ddb_params[] = {
    P("table", "Orders", "table name"),
    P("event-name", "INSERT", "INSERT, MODIFY or REMOVE"),
    P("keys", "{\"id\": \"42\"}", "keys as plain JSON (converted to AttributeValues)"),
    P("new-image", "{\"status\": \"NEW\", \"amount\": 9.99}", "new image as plain JSON"),
    P("old-image", "{\"status\": \"OLD\"}", "old image as plain JSON (MODIFY/REMOVE)"),
    REGION,
    ACCOUNT,
};
static const struct event_param kinesis_params[] = {
    P("data", "{\"temperature\": 21.5}", "record data (base64-encoded in the event)"),
    P("partition-key", "1", "partition key"),
    P("stream", "my-stream", "stream name"),
    REGION,
    ACCOUNT,
};
static const struct event_param cwlogs_params[] = {
    P("lines", "first log line\nsecond log line",
      "log messages, one per line (gzip+base64 in awslogs.data)"),
    P("log-group", "/aws/lambda/my-function", "log group"),
    P("log-stream", "2026/01/01/[$LATEST]0123456789abcdef0123456789abcdef", "log stream"),
    P("filter-name", "my-subscription", "subscription filter name"),
    ACCOUNT,
};
static const struct event_param cognito_params[] = {
    P("trigger", "PreSignUp_SignUp", "trigger source (PreSignUp_*, PostConfirmation_*)"),
    P("username", "jdoe", "user name"),
    P("email", "jdoe@example.com", "email attribute"),
    P("user-pool-id", "us-east-1_EXAMPLE", "user pool id"),
    P("client-id", "example-client-id", "app client id"),
    REGION,
};

#define T(n, s, p, b)                                                                              \
	{                                                                                          \
		.pub = {.name = n, .summary = s, .params = p, .n_params = NPARAMS(p)}, .build = b  \
	}

static const struct template_def templates[] = {
    T("s3-put", "Amazon S3 ObjectCreated:Put notification", s3_put_params, build_s3_put),
    T("s3-delete", "Amazon S3 ObjectRemoved:Delete notification", s3_delete_params,
      build_s3_delete),
    T("sqs", "Amazon SQS message batch", sqs_params, build_sqs),
    T("sns", "Amazon SNS notification", sns_params, build_sns),
    T("apigw-rest", "API Gateway REST API proxy request (payload 1.0)", http_params,
      build_apigw_rest),
    T("apigw-http", "API Gateway HTTP API request (payload 2.0)", http2_params, build_apigw_http),
    T("alb", "Application Load Balancer request", alb_params, build_alb),
    T("eventbridge-scheduled", "EventBridge scheduled event", eb_sched_params, build_eb_scheduled),
    T("eventbridge-custom", "EventBridge custom event", eb_custom_params, build_eb_custom),
    T("dynamodb-stream", "DynamoDB stream record", ddb_params, build_dynamodb),
    T("kinesis", "Kinesis Data Streams record", kinesis_params, build_kinesis),
    T("cloudwatch-logs", "CloudWatch Logs subscription (awslogs.data)", cwlogs_params,
      build_cwlogs),
    T("cognito", "Cognito user pool trigger (pre sign-up / post confirmation)", cognito_params,
      build_cognito),
};

size_t events_template_count(void)
{
	return sizeof(templates) / sizeof(templates[0]);
}

const struct event_template *events_template_at(size_t i)
{
	return i < events_template_count() ? &templates[i].pub : NULL;
}

const struct event_template *events_template_find(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < events_template_count(); i++)
		if (!strcmp(templates[i].pub.name, name))
			return &templates[i].pub;
	return NULL;
}

char *events_template_render(const struct event_template *t, const struct event_kv *values,
                             size_t n_values, struct lk_error *err)
{
	const struct template_def *def = (const struct template_def *)t;
	struct tvals v = {.t = t, .kv = values, .n = n_values, .err = err};
	cJSON *j;
	char *out;

	if (!t || def < templates || def >= templates + events_template_count()) {
		lk_error_set(err, "InvalidParameter", "not a built-in template");
		return NULL;
	}
	for (size_t i = 0; i < n_values; i++) {
		bool known = false;
		for (size_t k = 0; k < t->n_params; k++)
			known = known || !strcmp(t->params[k].name, values[i].name);
		if (!known) {
			struct buf names = {0};
			for (size_t k = 0; k < t->n_params; k++)
				buf_printf(&names, "%s%s", k ? ", " : "", t->params[k].name);
			lk_error_set(err, "InvalidParameter",
			             "template %s has no parameter '%s' (it has: %s)", t->name,
			             values[i].name, names.data ? names.data : "none");
			buf_free(&names);
			return NULL;
		}
	}
	lk_error_clear(err);
	if (!(j = def->build(&v))) {
		if (!lk_error_is_set(err))
			lk_error_set(err, "InvalidParameter", "cannot render template %s", t->name);
		return NULL;
	}
	out = cJSON_Print(j);
	cJSON_Delete(j);
	if (!out)
		lk_fatal("out of memory");
	/* cJSON indents with tabs; events are files people edit: use two spaces. */
	char *pretty = events_pretty_json(out, strlen(out));
	free(out);
	return pretty;
}
