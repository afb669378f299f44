/* lambda_api.c - the Lambda REST-JSON API on /2015-03-31/functions: Create, Get,
 * GetConfiguration, List, UpdateCode, UpdateConfiguration, Delete, Invoke. Names, partial
 * ARNs and full ARNs are accepted; the only version is $LATEST. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/emulator/emu_internal.h"
#include "backend/emulator/emu_parse.h"

static void respond_json(struct emu_request *req, int status, cJSON *j)
{
	char *s = cJSON_PrintUnformatted(j);

	emu_respond(req, status, "application/json", NULL, s, strlen(s));
	cJSON_free(s);
	cJSON_Delete(j);
}

static void respond_lk_error(struct emu_request *req, const struct lk_error *err)
{
	emu_respond_error(req, err->status ? err->status : 400,
	                  err->code[0] ? err->code : "InvalidParameterValueException", "%s",
	                  err->message);
}

/* Parses a JSON request body; answers InvalidRequestContentException itself on failure. */
static cJSON *parse_body(struct emu_request *req)
{
	size_t len;
	const char *body = emu_request_body(req, &len);
	cJSON *j = cJSON_ParseWithLength(body, len);

	if (!j || !cJSON_IsObject(j)) {
		cJSON_Delete(j);
		emu_respond_error(req, 400, "InvalidRequestContentException",
		                  "Could not parse request body into json: the body is not a JSON "
		                  "object");
		return NULL;
	}
	return j;
}

/* Resolves a name, partial ARN or ARN (optionally with :qualifier) to a function. Answers
 * the request itself (404 / 400) and returns NULL when it does not resolve. */
static struct function *resolve(struct emulator *emu, struct emu_request *req, const char *ref)
{
	char *copy = xstrdup(ref), *name = copy, *qual = NULL, *p;
	const char *q = emu_request_query(req, "Qualifier");
	struct function *f;

	if (!strncmp(copy, "arn:", 4)) {
		/* arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER] */
		p = strstr(copy, ":function:");
		if (!p) {
			emu_respond_error(req, 400, "InvalidParameterValueException",
			                  "'%s' is not a function ARN", ref);
			free(copy);
			return NULL;
		}
		name = p + 10;
	} else if ((p = strstr(copy, ":function:"))) {
		name = p + 10; /* ACCOUNT:function:NAME */
	}
	if ((p = strchr(name, ':'))) {
		*p = 0;
		qual = p + 1;
	}
	if (!qual && q && *q)
		qual = (char *)q;
	f = functions_find(emu, name);
	if (!f || (qual && strcmp(qual, "$LATEST"))) {
		char *arn = function_arn(emu, name);

		emu_respond_error(req, 404, "ResourceNotFoundException",
		                  "Function not found: %s%s%s", arn, qual ? ":" : "",
		                  qual ? qual : "");
		free(arn);
		free(copy);
		return NULL;
	}
	free(copy);
	return f;
}

/* A Create/UpdateFunctionCode request waiting while the code is unpacked off the loop. */
struct held {
	struct emu_request *req; /* NULL once the client has gone */
	bool creating;
	int warm;
	unsigned gen;
};

static void held_abort(void *user)
{
	((struct held *)user)->req = NULL;
}

static struct held *hold(struct emu_request *req, bool creating, struct function *f)
{
	struct held *h = xcalloc(1, sizeof(*h));

	h->req = req;
	h->creating = creating;
	h->warm = f ? workers_alive(f) : 0;
	h->gen = f ? f->generation : 0;
	emu_request_on_abort(req, held_abort, h);
	return h;
}

/* The code install is over: answer as the synchronous operation did. */
static void code_settled(struct emulator *emu, struct function *f, const struct lk_error *err,
                         void *user)
{
	struct held *h = user;

	if (h->req)
		emu_request_on_abort(h->req, NULL, NULL);
	if (!err && !h->creating) {
		workers_drain(emu, f);
		/* a warm function stays warm: the next invoke finds a worker with the new code */
		if (h->warm > 0 && f->generation != h->gen && !emu->stopping)
			workers_prewarm(emu, f);
	}
	if (!err)
		emu_log(emu, "%s %s (%s)", h->creating ? "created function" : "updated code of",
		        f->name, f->runtime);
	if (h->req) {
		if (err)
			respond_lk_error(h->req, err);
		else
			respond_json(h->req, h->creating ? 201 : 200, function_config_json(emu, f));
	}
	free(h);
}

static void op_create(struct emulator *emu, struct emu_request *req)
{
	cJSON *j = parse_body(req);
	struct lk_error err = {0};
	struct held *h;

	if (!j)
		return;
	h = hold(req, true, NULL);
	if (!functions_create(emu, j, code_settled, h, &err)) {
		emu_request_on_abort(req, NULL, NULL);
		free(h);
		respond_lk_error(req, &err);
	}
	cJSON_Delete(j);
}

static void op_list(struct emulator *emu, struct emu_request *req)
{
	const char *marker = emu_request_query(req, "Marker");
	const char *max_s = emu_request_query(req, "MaxItems");
	long max = 50;
	cJSON *j = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(j, "Functions");
	struct function *f = emu->functions;
	long n = 0;

	if (max_s) {
		char *end;

		max = strtol(max_s, &end, 10);
		if (*end || max < 1 || max > 10000) {
			cJSON_Delete(j);
			emu_respond_error(req, 400, "InvalidParameterValueException",
			                  "MaxItems must be between 1 and 10000");
			return;
		}
	}
	if (marker && *marker)
		while (f && strcmp(f->name, marker) <= 0)
			f = f->next;
	for (; f && n < max; f = f->next, n++)
		cJSON_AddItemToArray(arr, function_config_json(emu, f));
	if (f && n == max) {
		/* the marker is the last name returned: listing resumes after it */
		struct function *last = emu->functions;

		for (struct function *g = emu->functions; g != f; g = g->next)
			last = g;
		cJSON_AddStringToObject(j, "NextMarker", last->name);
	}
	respond_json(req, 200, j);
}

static void op_get(struct emulator *emu, struct emu_request *req, struct function *f, bool full)
{
	cJSON *cfg = function_config_json(emu, f), *j, *code;
	char *loc;

	if (!full) {
		respond_json(req, 200, cfg);
		return;
	}
	j = cJSON_CreateObject();
	cJSON_AddItemToObject(j, "Configuration", cfg);
	code = cJSON_AddObjectToObject(j, "Code");
	cJSON_AddStringToObject(code, "RepositoryType", "S3");
	loc = xasprintf("file://%s/%s/code.zip", emu->functions_dir, f->name);
	cJSON_AddStringToObject(code, "Location", loc);
	free(loc);
	cJSON_AddObjectToObject(j, "Tags");
	respond_json(req, 200, j);
}

static void op_update(struct emulator *emu, struct emu_request *req, struct function *f, bool code)
{
	cJSON *j = parse_body(req);
	struct lk_error err = {0};
	int rc, warm = workers_alive(f);
	unsigned gen = f->generation;

	if (!j)
		return;
	if (code) {
		struct held *h = hold(req, false, f);

		rc = functions_update_code(emu, f, j, code_settled, h, &err);
		cJSON_Delete(j);
		if (rc == 0)
			return; /* answered by code_settled */
		emu_request_on_abort(req, NULL, NULL);
		free(h);
		if (rc < 0)
			respond_lk_error(req, &err);
		else
			respond_json(req, 200, function_config_json(emu, f)); /* DryRun */
		return;
	}
	rc = functions_update_config(emu, f, j, &err);
	cJSON_Delete(j);
	if (rc < 0) {
		respond_lk_error(req, &err);
		return;
	}
	workers_drain(emu, f);
	/* a warm function stays warm: the next invoke finds a worker with the new code */
	if (warm > 0 && f->generation != gen)
		workers_prewarm(emu, f);
	emu_log(emu, "updated configuration of %s", f->name);
	respond_json(req, 200, function_config_json(emu, f));
}

static void op_delete(struct emulator *emu, struct emu_request *req, struct function *f)
{
	if (f->code_busy) {
		struct lk_error err = {0};

		functions_busy_error(emu, f, &err);
		respond_lk_error(req, &err);
		return;
	}
	emu_log(emu, "deleted function %s", f->name);
	function_ref(f);
	functions_delete(emu, f);
	workers_drain(emu, f);
	function_unref(f);
	emu_respond(req, 204, NULL, NULL, NULL, 0);
}

int lambda_api_client_context(const struct emu_request *req, char **out)
{
	const char *cc = emu_request_header(req, "X-Amz-Client-Context");
	unsigned char *raw;
	size_t n;
	cJSON *j;

	*out = NULL;
	if (!cc)
		return 0;
	if (strlen(cc) > 3583 || !(raw = util_base64_decode(cc, strlen(cc), &n)))
		return -1;
	j = cJSON_ParseWithLength((const char *)raw, n);
	free(raw);
	if (!cJSON_IsObject(j)) {
		cJSON_Delete(j);
		return -1;
	}
	*out = cJSON_PrintUnformatted(j); /* one line: it becomes a Runtime API header */
	cJSON_Delete(j);
	return 0;
}

static void op_invoke(struct emulator *emu, struct emu_request *req, struct function *f)
{
	const char *type = emu_request_header(req, "X-Amz-Invocation-Type");
	const char *log = emu_request_header(req, "X-Amz-Log-Type");
	size_t len;
	const char *body = emu_request_body(req, &len);
	enum invoke_type t = INVOKE_SYNC;

	if (!type || !strcmp(type, "RequestResponse")) {
		t = INVOKE_SYNC;
	} else if (!strcmp(type, "Event")) {
		t = INVOKE_EVENT;
	} else if (!strcmp(type, "DryRun")) {
		emu_respond(req, 204, NULL, NULL, NULL, 0);
		return;
	} else {
		emu_respond_error(req, 400, "InvalidParameterValueException",
		                  "InvocationType must be RequestResponse, Event or DryRun");
		return;
	}
	{
		char *cc;

		if (lambda_api_client_context(req, &cc) < 0) {
			emu_respond_error(
			    req, 400, "InvalidRequestContentException",
			    "Client context must be a valid Base64-encoded JSON object.");
			return;
		}
		cJSON_free(cc);
	}
	if (log && strcmp(log, "Tail") && strcmp(log, "None")) {
		emu_respond_error(req, 400, "InvalidParameterValueException",
		                  "LogType must be None or Tail");
		return;
	}
	if (len > (t == INVOKE_SYNC ? EMU_SYNC_PAYLOAD_MAX : EMU_EVENT_PAYLOAD_MAX)) {
		emu_respond_error(req, 413, "RequestEntityTooLargeException",
		                  "Request must be smaller than %u bytes for the InvokeFunction "
		                  "operation",
		                  t == INVOKE_SYNC ? EMU_SYNC_PAYLOAD_MAX : EMU_EVENT_PAYLOAD_MAX);
		return;
	}
	if (len) {
		cJSON *j = cJSON_ParseWithLength(body, len);

		if (!j) {
			emu_respond_error(req, 400, "InvalidRequestContentException",
			                  "Could not parse request body into json: Could not parse "
			                  "payload into json");
			return;
		}
		cJSON_Delete(j);
	}
	workers_invoke(emu, f, req, t, t == INVOKE_SYNC && log && !strcmp(log, "Tail"));
}

void lambda_api_too_large(struct emu_request *req, size_t limit)
{
	struct emu_lambda_route r;
	const char *op = "";

	if (emu_lambda_route(emu_request_method(req), emu_request_raw_path(req), &r) == 0)
		op = emu_lambda_op_name(r.op);
	emu_lambda_route_free(&r);
	if (*op)
		emu_respond_error(req, 413, "RequestEntityTooLargeException",
		                  "Request must be smaller than %zu bytes for the %s operation",
		                  limit, op);
	else
		emu_respond_error(req, 413, "RequestEntityTooLargeException",
		                  "Request must be smaller than %zu bytes", limit);
}

void lambda_api_handle(struct emulator *emu, struct emu_request *req)
{
	struct emu_lambda_route r;
	struct function *f = NULL;

	/* routed on the raw path: an encoded '/' or NUL in a name is part of the name */
	if (emu_lambda_route(emu_request_method(req), emu_request_raw_path(req), &r) < 0) {
		emu_respond_error(req, r.status, r.code, "%s", r.message);
		return;
	}
	if (r.ref) {
		f = resolve(emu, req, r.ref);
		if (!f) {
			emu_lambda_route_free(&r);
			return;
		}
	}
	switch (r.op) {
	case EMU_LAMBDA_CREATE:
		op_create(emu, req);
		break;
	case EMU_LAMBDA_LIST:
		op_list(emu, req);
		break;
	case EMU_LAMBDA_GET:
		op_get(emu, req, f, true);
		break;
	case EMU_LAMBDA_DELETE:
		op_delete(emu, req, f);
		break;
	case EMU_LAMBDA_GET_CONFIG:
		op_get(emu, req, f, false);
		break;
	case EMU_LAMBDA_UPDATE_CONFIG:
		op_update(emu, req, f, false);
		break;
	case EMU_LAMBDA_UPDATE_CODE:
		op_update(emu, req, f, true);
		break;
	case EMU_LAMBDA_INVOKE:
		op_invoke(emu, req, f);
		break;
	case EMU_LAMBDA_NONE:
		emu_respond_error(req, 404, "UnknownOperationException", "no such operation");
		break;
	}
	emu_lambda_route_free(&r);
}
