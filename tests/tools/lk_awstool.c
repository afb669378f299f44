/* lk_awstool.c - test driver for backend/aws: `sign` reads a JSON array of requests on stdin
 * and prints our signer's output for each; `verify` checks requests signed by botocore (compared
 * with botocore by tests/integration/sigv4_botocore.py). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "backend/aws/aws.h"
#include "backend/aws/sigv4.h"
#include "backend/util.h"

static const char *str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static cJSON *sign_one(const cJSON *c)
{
	const cJSON *hs = cJSON_GetObjectItemCaseSensitive(c, "headers");
	size_t n = (size_t)cJSON_GetArraySize(hs), i = 0;
	struct sigv4_header *h = xcalloc(n ? n : 1, sizeof(*h));
	const cJSON *it;
	size_t body_len = 0;
	unsigned char *body = NULL;
	const char *b64 = str(c, "body_b64");
	struct sigv4_credentials cr = {str(c, "access_key"), str(c, "secret_key"), str(c, "token")};
	struct sigv4_request req;
	struct sigv4_signature sig;
	struct lk_error err = {0};
	cJSON *out = cJSON_CreateObject();

	cJSON_ArrayForEach(it, hs)
	{
		h[i].name = cJSON_GetArrayItem(it, 0)->valuestring;
		h[i].value = cJSON_GetArrayItem(it, 1)->valuestring;
		i++;
	}
	if (b64 && *b64)
		body = util_base64_decode(b64, strlen(b64), &body_len);
	req = (struct sigv4_request){
	    .method = str(c, "method"),
	    .path = str(c, "path"),
	    .query = str(c, "query"),
	    .headers = h,
	    .n_headers = n,
	    .body = body,
	    .body_len = body_len,
	    .payload_hash = str(c, "payload_hash"),
	    .s3 = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "s3")),
	};
	if (sigv4_sign(&req, &cr, str(c, "region"), str(c, "service"),
	               (int64_t)cJSON_GetObjectItemCaseSensitive(c, "when")->valuedouble, &sig,
	               &err) == 0) {
		cJSON_AddStringToObject(out, "authorization", sig.authorization);
		cJSON_AddStringToObject(out, "amz_date", sig.amz_date);
		cJSON_AddStringToObject(out, "payload_hash", sig.payload_hash);
		cJSON_AddStringToObject(out, "canonical_request", sig.canonical_request);
	} else {
		cJSON_AddStringToObject(out, "error", err.message);
	}
	sigv4_signature_free(&sig);
	free(body);
	free(h);
	return out;
}

struct hdrs {
	struct sigv4_header *h;
	size_t n;
};

static const char *hdr_lookup(void *ctx, const char *name)
{
	struct hdrs *t = ctx;

	for (size_t i = 0; i < t->n; i++)
		if (!strcasecmp(t->h[i].name, name))
			return t->h[i].value;
	return NULL;
}

static const char *secret_lookup(void *ctx, const char *akid)
{
	const cJSON *c = ctx;

	return strcmp(akid, str(c, "access_key")) == 0 ? str(c, "secret_key") : NULL;
}

/* Verifies a request signed elsewhere (botocore) as the emulator would. */
static cJSON *verify_one(const cJSON *c)
{
	const cJSON *hs = cJSON_GetObjectItemCaseSensitive(c, "headers");
	struct hdrs t = {xcalloc((size_t)cJSON_GetArraySize(hs) + 1, sizeof(struct sigv4_header)),
	                 0};
	const cJSON *it;
	size_t body_len = 0;
	unsigned char *body = NULL;
	const char *b64 = str(c, "body_b64");
	struct sigv4_identity who;
	struct lk_error err = {0};
	cJSON *out = cJSON_CreateObject();

	cJSON_ArrayForEach(it, hs)
	{
		t.h[t.n].name = cJSON_GetArrayItem(it, 0)->valuestring;
		t.h[t.n].value = cJSON_GetArrayItem(it, 1)->valuestring;
		t.n++;
	}
	if (b64 && *b64)
		body = util_base64_decode(b64, strlen(b64), &body_len);
	struct sigv4_verify_input in = {
	    .method = str(c, "method"),
	    .path = str(c, "path"),
	    .query = str(c, "query"),
	    .header = hdr_lookup,
	    .header_ctx = &t,
	    .body = body,
	    .body_len = body_len,
	    .secret_for = secret_lookup,
	    .secret_ctx = (void *)c,
	    .now = (int64_t)cJSON_GetObjectItemCaseSensitive(c, "when")->valuedouble,
	    .s3 = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "s3")),
	};
	if (sigv4_verify(&in, &who, &err) == 0) {
		cJSON_AddBoolToObject(out, "ok", 1);
		cJSON_AddStringToObject(out, "service", who.service);
	} else {
		cJSON_AddBoolToObject(out, "ok", 0);
		cJSON_AddStringToObject(out, "code", err.code);
		cJSON_AddStringToObject(out, "message", err.message);
	}
	free(body);
	free(t.h);
	return out;
}

static int cmd_sign(bool verify)
{
	struct buf in = {0};
	char chunk[4096];
	size_t n;
	cJSON *cases, *res, *c;
	char *text;

	while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
		buf_append(&in, chunk, n);
	cases = cJSON_Parse(in.data ? in.data : "");
	buf_free(&in);
	if (!cJSON_IsArray(cases)) {
		fprintf(stderr, "lk-awstool sign: stdin must be a JSON array\n");
		cJSON_Delete(cases);
		return 2;
	}
	res = cJSON_CreateArray();
	cJSON_ArrayForEach(c, cases)
	    cJSON_AddItemToArray(res, verify ? verify_one(c) : sign_one(c));
	text = cJSON_PrintUnformatted(res);
	puts(text);
	free(text);
	cJSON_Delete(res);
	cJSON_Delete(cases);
	return 0;
}

/* ---- call: one client op against the configured endpoint, result as JSON ---- */

static void print_result(struct aws_result *r, const char *extra_key, cJSON *extra)
{
	cJSON *o = cJSON_CreateObject();
	char *text;

	cJSON_AddBoolToObject(o, "ok", aws_result_ok(r));
	cJSON_AddNumberToObject(o, "status", (double)r->status);
	cJSON_AddNumberToObject(o, "attempts", r->attempts);
	cJSON_AddStringToObject(o, "code", r->err.code);
	cJSON_AddStringToObject(o, "message", r->err.message);
	cJSON_AddStringToObject(o, "request_id", r->err.request_id);
	if (r->json)
		cJSON_AddItemToObject(o, "json", cJSON_Duplicate(r->json, 1));
	else if (r->body.len)
		cJSON_AddStringToObject(o, "body", r->body.data);
	if (r->function_error)
		cJSON_AddStringToObject(o, "function_error", r->function_error);
	if (r->log_tail)
		cJSON_AddStringToObject(o, "log_tail", r->log_tail);
	if (r->executed_version)
		cJSON_AddStringToObject(o, "executed_version", r->executed_version);
	if (r->creds.source) {
		cJSON_AddStringToObject(o, "creds_source", r->creds.source);
		cJSON_AddStringToObject(o, "creds_hint", r->creds.access_key_id_hint);
		cJSON_AddNumberToObject(o, "creds_expiration_ms", (double)r->creds.expiration_ms);
		cJSON_AddBoolToObject(o, "creds_token", r->creds.has_session_token);
	}
	if (extra)
		cJSON_AddItemToObject(o, extra_key, extra);
	text = cJSON_PrintUnformatted(o);
	puts(text);
	fflush(stdout);
	free(text);
	cJSON_Delete(o);
}

/* The live-tail events collected (the user pointer is the waiter). */
static cJSON *tail_events;
/* LK_CANCEL_ON_EVENT=N: cancel the live tail from inside its N-th event callback. */
static struct aws_op *current_op;
static int cancel_on_event;

static void on_tail_event(void *user, const char *mtype, const char *etype, const cJSON *payload)
{
	cJSON *events = tail_events;
	cJSON *e = cJSON_CreateObject();

	cJSON_AddStringToObject(e, "message_type", mtype);
	cJSON_AddStringToObject(e, "event_type", etype);
	if (payload)
		cJSON_AddItemToObject(e, "payload", cJSON_Duplicate(payload, 1));
	cJSON_AddItemToArray(events, e);
	if (cancel_on_event && cJSON_GetArraySize(events) == cancel_on_event) {
		struct aws_waiter *w = user;

		aws_op_cancel(current_op);
		w->done = true; /* the done callback will not come */
	}
	{
		char *line = cJSON_PrintUnformatted(e);

		printf("{\"event\":%s}\n", line);
		free(line);
	}
	fflush(stdout);
}

static char *read_all(const char *path, size_t *len)
{
	struct buf b = {0};
	struct lk_error err = {0};

	if (util_read_file(path, &b, &err) != 0) {
		fprintf(stderr, "lk-awstool: %s\n", err.message);
		exit(2);
	}
	*len = b.len;
	return buf_steal(&b);
}

/* argv: call OP ARGS... ; env LK_MAX_ATTEMPTS, LK_TIMEOUT_MS, LK_REPEAT, LK_PROFILE,
 * LK_REGION, LK_ENDPOINT. */
static void noop_timer(uv_timer_t *t)
{
	(void)t;
}

static int cmd_call(int argc, char **argv)
{
	uv_loop_t loop;
	uv_timer_t tick;
	struct lk_error err = {0};
	struct aws_options o = {
	    .profile = getenv("LK_PROFILE"),
	    .region = getenv("LK_REGION"),
	    .endpoint_url = getenv("LK_ENDPOINT"),
	    .max_attempts = getenv("LK_MAX_ATTEMPTS") ? atoi(getenv("LK_MAX_ATTEMPTS")) : 0,
	    .timeout_ms = getenv("LK_TIMEOUT_MS") ? atol(getenv("LK_TIMEOUT_MS")) : 0,
	};
	int repeat = getenv("LK_REPEAT") ? atoi(getenv("LK_REPEAT")) : 1;
	struct aws_client *c;
	const char *op = argc > 2 ? argv[2] : "";
	const char *a1 = argc > 3 ? argv[3] : NULL, *a2 = argc > 4 ? argv[4] : NULL;
	int rc = 0;

	uv_loop_init(&loop);
	uv_timer_init(&loop, &tick);
	c = aws_client_new(&loop, &o, &err);
	if (!c) {
		uv_close((uv_handle_t *)&tick, NULL);
		uv_run(&loop, UV_RUN_DEFAULT);
		printf("{\"ok\":false,\"code\":\"%s\",\"message\":\"client: see stderr\"}\n",
		       err.code);
		fprintf(stderr, "%s\n", err.message);
		uv_loop_close(&loop);
		return 1;
	}
	for (int i = 0; i < repeat; i++) {
		struct aws_waiter w = {0};
		struct aws_result *r;
		cJSON *events = NULL;
		char *data = NULL;
		size_t len = 0;

		if (!strcmp(op, "creds")) {
			current_op = aws_client_resolve_credentials(c, aws_waiter_done, &w);
		} else if (!strcmp(op, "list-functions")) {
			current_op = aws_lambda_list_functions(c, a1, a2 ? atoi(a2) : 0,
			                                       getenv("LK_ALL_PAGES") != NULL,
			                                       aws_waiter_done, &w);
		} else if (!strcmp(op, "get-function")) {
			current_op = aws_lambda_get_function(c, a1, a2, aws_waiter_done, &w);
		} else if (!strcmp(op, "get-function-configuration")) {
			current_op =
			    aws_lambda_get_function_configuration(c, a1, a2, aws_waiter_done, &w);
		} else if (!strcmp(op, "delete-function")) {
			current_op = aws_lambda_delete_function(c, a1, a2, aws_waiter_done, &w);
		} else if (!strcmp(op, "wait-updated")) {
			current_op =
			    aws_lambda_wait_updated(c, a1, a2 ? atol(a2) : 0, aws_waiter_done, &w);
		} else if (!strcmp(op, "update-code")) {
			data = read_all(a2, &len);
			aws_lambda_update_function_code(
			    c,
			    &(struct aws_update_code){
			        .function_name = a1, .zip = data, .zip_len = len},
			    aws_waiter_done, &w);
		} else if (!strcmp(op, "update-code-s3")) {
			aws_lambda_update_function_code(
			    c,
			    &(struct aws_update_code){.function_name = a1,
			                              .s3_bucket = a2,
			                              .s3_key = argc > 5 ? argv[5] : NULL},
			    aws_waiter_done, &w);
		} else if (!strcmp(op, "update-config") || !strcmp(op, "create-function")) {
			cJSON *b = cJSON_Parse(!strcmp(op, "create-function") ? a1 : a2);

			if (!strcmp(op, "create-function")) {
				if (a2) {
					data = read_all(a2, &len);
					aws_create_code_zip(b, data, len);
				}
				aws_lambda_create_function(c, b, aws_waiter_done, &w);
			} else {
				aws_lambda_update_function_configuration(c, a1, b, aws_waiter_done,
				                                         &w);
			}
			cJSON_Delete(b);
		} else if (!strcmp(op, "invoke")) {
			const char *type = getenv("LK_INVOKE_TYPE");
			struct aws_invoke p = {
			    .function_name = a1,
			    .qualifier = getenv("LK_QUALIFIER"),
			    .type = type && !strcmp(type, "Event")    ? AWS_INVOKE_EVENT
			            : type && !strcmp(type, "DryRun") ? AWS_INVOKE_DRY_RUN
			                                              : AWS_INVOKE_REQUEST_RESPONSE,
			    .log_tail = getenv("LK_LOG_TAIL") != NULL,
			    .client_context = getenv("LK_CLIENT_CONTEXT"),
			    .payload = a2,
			    .payload_len = a2 ? strlen(a2) : 0,
			};
			current_op = aws_lambda_invoke(c, &p, aws_waiter_done, &w);
		} else if (!strcmp(op, "describe-log-groups")) {
			aws_logs_describe_log_groups(
			    c,
			    &(struct aws_logs_groups_query){
			        .prefix = a1, .all_pages = getenv("LK_ALL_PAGES") != NULL},
			    aws_waiter_done, &w);
		} else if (!strcmp(op, "describe-log-streams")) {
			aws_logs_describe_log_streams(
			    c,
			    &(struct aws_logs_streams_query){
			        .group = a1, .order_by_last_event_time = true, .descending = true},
			    aws_waiter_done, &w);
		} else if (!strcmp(op, "get-log-events")) {
			aws_logs_get_log_events(
			    c,
			    &(struct aws_logs_get_query){
			        .group = a1, .stream = a2, .start_from_head = true},
			    aws_waiter_done, &w);
		} else if (!strcmp(op, "filter-log-events")) {
			current_op = aws_logs_filter_log_events(
			    c,
			    &(struct aws_logs_filter_query){.group = a1,
			                                    .pattern = a2,
			                                    .all_pages =
			                                        getenv("LK_ALL_PAGES") != NULL},
			    aws_waiter_done, &w);
		} else if (!strcmp(op, "live-tail")) {
			const char *groups[] = {a1, NULL};

			events = tail_events = cJSON_CreateArray();
			cancel_on_event =
			    getenv("LK_CANCEL_ON_EVENT") ? atoi(getenv("LK_CANCEL_ON_EVENT")) : 0;
			current_op = aws_logs_start_live_tail(
			    c,
			    &(struct aws_live_tail){.log_group_identifiers = groups, .pattern = a2},
			    on_tail_event, aws_waiter_done, &w);
		} else if (!strcmp(op, "s3-put")) {
			aws_s3_put_object(
			    c,
			    &(struct aws_s3_put){
			        .bucket = a1, .key = a2, .file_path = argc > 5 ? argv[5] : NULL},
			    aws_waiter_done, &w);
		} else if (!strcmp(op, "tagging")) {
			const char *vals[] = {a1, NULL};
			struct aws_tag_filter f = {"aws:cloudformation:stack-name",
			                           a1 ? vals : NULL};
			const char *types[] = {"lambda:function", NULL};

			aws_tagging_get_resources(c,
			                          &(struct aws_tagging_query){
			                              .filters = &f,
			                              .n_filters = 1,
			                              .resource_types = types,
			                              .all_pages = getenv("LK_ALL_PAGES") != NULL},
			                          aws_waiter_done, &w);
		} else {
			fprintf(stderr, "lk-awstool call: unknown op '%s'\n", op);
			rc = 2;
			break;
		}
		if (getenv("LK_CANCEL_AFTER_MS")) {
			/* Cancel whatever runs after a delay (or free the client under it). */
			uint64_t ms = (uint64_t)atol(getenv("LK_CANCEL_AFTER_MS"));
			uint64_t until = uv_now(&loop) + ms;

			uv_timer_start(&tick, noop_timer, ms, 0);
			while (!w.done && uv_now(&loop) < until)
				uv_run(&loop, UV_RUN_ONCE);
			uv_timer_stop(&tick);
			if (!w.done) {
				printf("{\"cancelled\":true}\n");
				if (getenv("LK_FREE_CLIENT")) {
					aws_client_free(c);
					c = NULL;
				} else {
					aws_op_cancel(current_op);
				}
				uv_run(&loop, UV_RUN_DEFAULT);
				printf("{\"callback_called\":%s}\n", w.done ? "true" : "false");
				aws_result_free(w.result);
				cJSON_Delete(events);
				break;
			}
		}
		r = aws_waiter_run(c, &w);
		if (!r) {
			/* cancelled from a callback */
			printf("{\"cancelled_in_callback\":true,\"events\":%d}\n",
			       cJSON_GetArraySize(events));
			uv_run(&loop, UV_RUN_DEFAULT);
			cJSON_Delete(events);
			break;
		}
		if (i == repeat - 1 || !aws_result_ok(r))
			print_result(r, "events", events);
		else
			cJSON_Delete(events);
		if (!aws_result_ok(r))
			rc = 1;
		aws_result_free(r);
		free(data);
		if (rc)
			break;
	}
	aws_client_free(c);
	uv_close((uv_handle_t *)&tick, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	if (uv_loop_close(&loop) != 0) {
		fprintf(stderr, "lk-awstool: loop did not close cleanly\n");
		rc = 3;
	}
	return rc;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "sign"))
		return cmd_sign(false);
	if (argc >= 2 && !strcmp(argv[1], "verify"))
		return cmd_sign(true);
	if (argc >= 3 && !strcmp(argv[1], "call"))
		return cmd_call(argc, argv);
	fprintf(stderr, "usage: lk-awstool sign|verify < cases.json\n"
	                "       lk-awstool call OP [ARGS...]\n");
	return 2;
}
