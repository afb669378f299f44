/* lambda.c - Lambda operations (REST-JSON protocol, API version 2015-03-31). */
#include "backend/aws/aws_internal.h"

#include <stdlib.h>
#include <string.h>

#define LAMBDA_PREFIX "/2015-03-31/functions"

/* "/2015-03-31/functions/<escaped name><suffix>" (caller frees). */
static char *function_path(const char *name, const char *suffix)
{
	char *esc = aws_path_escape(name);
	char *p = xasprintf(LAMBDA_PREFIX "/%s%s", esc, suffix ? suffix : "");

	free(esc);
	return p;
}

static char *qualifier_query(const char *qualifier)
{
	struct buf q = {0};

	if (!qualifier || !*qualifier)
		return NULL;
	aws_query_add(&q, "Qualifier", qualifier);
	return buf_steal(&q);
}

static bool bad_name(const char *name)
{
	return !name || !*name || strlen(name) > 256;
}

/* A REST op on one function; fails asynchronously on a missing name. */
static struct aws_op *function_op(struct aws_client *c, enum aws_op_kind kind, const char *method,
                                  const char *name, const char *suffix, const char *qualifier,
                                  aws_done_fn done, void *user)
{
	struct aws_op *op = aws_op_new(c, kind, AWS_SVC_LAMBDA, done, user);

	if (bad_name(name))
		return aws_op_fail(op, "InvalidParameter",
		                   "a function name (1-256 characters) is required");
	op->method = xstrdup(method);
	op->path = function_path(name, suffix);
	op->query = qualifier_query(qualifier);
	return op;
}

static void json_body(struct aws_op *op, const cJSON *body)
{
	char *text = cJSON_PrintUnformatted(body);

	buf_puts(&op->body, text ? text : "{}");
	free(text);
	aws_op_header(op, "Content-Type", "application/json");
}

struct aws_op *aws_lambda_list_functions(struct aws_client *c, const char *marker, int max_items,
                                         bool all_pages, aws_done_fn done, void *user)
{
	struct aws_op *op =
	    aws_op_new(c, all_pages ? AWS_OP_PAGED : AWS_OP_PLAIN, AWS_SVC_LAMBDA, done, user);
	struct buf q = {0};

	op->method = xstrdup("GET");
	op->path = xstrdup(LAMBDA_PREFIX "/");
	if (max_items > 0) {
		char n[16];

		snprintf(n, sizeof(n), "%d", max_items);
		aws_query_add(&q, "MaxItems", n);
	}
	op->rest_query_base = q.len ? xstrdup(q.data) : NULL;
	if (marker && *marker)
		aws_query_add(&q, "Marker", marker);
	op->query = q.len ? buf_steal(&q) : NULL;
	buf_free(&q);
	op->list_key = "Functions";
	op->token_out = "NextMarker";
	op->token_in = "Marker";
	return aws_op_start(op);
}

struct aws_op *aws_lambda_get_function(struct aws_client *c, const char *name,
                                       const char *qualifier, aws_done_fn done, void *user)
{
	struct aws_op *op = function_op(c, AWS_OP_PLAIN, "GET", name, NULL, qualifier, done, user);

	return op->method ? aws_op_start(op) : op;
}

struct aws_op *aws_lambda_get_function_configuration(struct aws_client *c, const char *name,
                                                     const char *qualifier, aws_done_fn done,
                                                     void *user)
{
	struct aws_op *op =
	    function_op(c, AWS_OP_PLAIN, "GET", name, "/configuration", qualifier, done, user);

	return op->method ? aws_op_start(op) : op;
}

struct aws_op *aws_lambda_update_function_code(struct aws_client *c,
                                               const struct aws_update_code *p, aws_done_fn done,
                                               void *user)
{
	struct aws_op *op = function_op(c, AWS_OP_PLAIN, "PUT", p ? p->function_name : NULL,
	                                "/code", NULL, done, user);
	cJSON *b;

	if (!op->method)
		return op;
	if (!p->zip && !(p->s3_bucket && p->s3_key))
		return aws_op_fail(op, "InvalidParameter",
		                   "UpdateFunctionCode needs a zip or an S3 bucket and key");
	if (p->zip && p->zip_len > 50u * 1024 * 1024)
		return aws_op_fail(op, "InvalidParameter",
		                   "zip is %zu bytes; direct upload is limited to 50 MB, upload it "
		                   "to S3 first",
		                   p->zip_len);
	b = cJSON_CreateObject();
	if (p->zip) {
		char *z = util_base64(p->zip, p->zip_len);

		cJSON_AddStringToObject(b, "ZipFile", z);
		free(z);
	} else {
		cJSON_AddStringToObject(b, "S3Bucket", p->s3_bucket);
		cJSON_AddStringToObject(b, "S3Key", p->s3_key);
		if (p->s3_object_version)
			cJSON_AddStringToObject(b, "S3ObjectVersion", p->s3_object_version);
	}
	if (p->publish)
		cJSON_AddTrueToObject(b, "Publish");
	if (p->dry_run)
		cJSON_AddTrueToObject(b, "DryRun");
	if (p->revision_id)
		cJSON_AddStringToObject(b, "RevisionId", p->revision_id);
	json_body(op, b);
	cJSON_Delete(b);
	return aws_op_start(op);
}

struct aws_op *aws_lambda_update_function_configuration(struct aws_client *c, const char *name,
                                                        const cJSON *body, aws_done_fn done,
                                                        void *user)
{
	struct aws_op *op =
	    function_op(c, AWS_OP_PLAIN, "PUT", name, "/configuration", NULL, done, user);

	if (!op->method)
		return op;
	if (!cJSON_IsObject(body))
		return aws_op_fail(op, "InvalidParameter",
		                   "UpdateFunctionConfiguration needs a JSON object");
	json_body(op, body);
	return aws_op_start(op);
}

struct aws_op *aws_lambda_create_function(struct aws_client *c, const cJSON *body, aws_done_fn done,
                                          void *user)
{
	struct aws_op *op = aws_op_new(c, AWS_OP_PLAIN, AWS_SVC_LAMBDA, done, user);

	if (!cJSON_IsObject(body) ||
	    !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(body, "FunctionName")))
		return aws_op_fail(op, "InvalidParameter",
		                   "CreateFunction needs a JSON object with FunctionName");
	op->method = xstrdup("POST");
	op->path = xstrdup(LAMBDA_PREFIX);
	json_body(op, body);
	return aws_op_start(op);
}

void aws_create_code_zip(cJSON *body, const void *zip, size_t zip_len)
{
	cJSON *code = cJSON_CreateObject();
	char *z = util_base64(zip, zip_len);

	cJSON_AddStringToObject(code, "ZipFile", z);
	free(z);
	cJSON_DeleteItemFromObjectCaseSensitive(body, "Code");
	cJSON_AddItemToObject(body, "Code", code);
}

struct aws_op *aws_lambda_delete_function(struct aws_client *c, const char *name,
                                          const char *qualifier, aws_done_fn done, void *user)
{
	struct aws_op *op =
	    function_op(c, AWS_OP_PLAIN, "DELETE", name, NULL, qualifier, done, user);

	return op->method ? aws_op_start(op) : op;
}

struct aws_op *aws_lambda_invoke(struct aws_client *c, const struct aws_invoke *p, aws_done_fn done,
                                 void *user)
{
	static const char *const types[] = {"RequestResponse", "Event", "DryRun"};
	struct aws_op *op = function_op(c, AWS_OP_PLAIN, "POST", p ? p->function_name : NULL,
	                                "/invocations", p ? p->qualifier : NULL, done, user);

	if (!op->method)
		return op;
	if ((unsigned)p->type > AWS_INVOKE_DRY_RUN)
		return aws_op_fail(op, "InvalidParameter", "unknown invocation type");
	op->is_invoke = true;
	/* RequestResponse is the default: sent as the AWS CLI does, without the header. */
	if (p->type != AWS_INVOKE_REQUEST_RESPONSE)
		aws_op_header(op, "X-Amz-Invocation-Type", types[p->type]);
	if (p->log_tail)
		aws_op_header(op, "X-Amz-Log-Type", "Tail");
	if (p->client_context && *p->client_context) {
		char *cc = util_base64(p->client_context, strlen(p->client_context));

		aws_op_header(op, "X-Amz-Client-Context", cc);
		free(cc);
	}
	if (p->payload && p->payload_len)
		buf_append(&op->body, p->payload, p->payload_len);
	return aws_op_start(op);
}

struct aws_op *aws_lambda_wait_updated(struct aws_client *c, const char *name, long timeout_ms,
                                       aws_done_fn done, void *user)
{
	struct aws_op *op =
	    function_op(c, AWS_OP_WAIT, "GET", name, "/configuration", NULL, done, user);

	if (!op->method)
		return op;
	op->deadline_ms = util_now_ms() + (timeout_ms > 0 ? timeout_ms : 5 * 60 * 1000);
	op->delay_ms = 500;
	return aws_op_start(op);
}
