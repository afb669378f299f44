/* lk_awstool.c - test driver for backend/aws: `sign` reads a JSON array of requests on stdin
 * and prints our signer's output for each; `verify` checks requests signed by botocore (compared
 * with botocore by tests/integration/sigv4_botocore.py). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

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

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "sign"))
		return cmd_sign(false);
	if (argc >= 2 && !strcmp(argv[1], "verify"))
		return cmd_sign(true);
	fprintf(stderr, "usage: lk-awstool sign|verify < cases.json\n");
	return 2;
}
