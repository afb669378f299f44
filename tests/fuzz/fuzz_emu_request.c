/* libFuzzer target for the emulator's request handling without a server: the input is a
 * request as text - method line, URI line, "Name: value" header lines, an empty line, then
 * the body. It goes through the query parser, the Lambda API router and FunctionName check,
 * the SigV4 canonical path/query and the verifier (as received, with whatever Authorization
 * it carries), and must never crash, leak or read out of bounds. Property: the same request
 * signed by sigv4_sign must verify (canonical request built identically on both sides), and
 * must stop verifying once its body changes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "backend/aws/sigv4.h"
#include "backend/emulator/emu_parse.h"

#define MAX_HEADERS 32
#define NOW         1700000000 /* fixed clock: X-Amz-Date from the signer is "now" */
#define AKID        "LKIAFUZZFUZZFUZZFUZZ"
#define SECRET      "fuzz-secret"
#define WS          " \t\r\n\v\f" /* trimmed from header values, as the emulator does */

struct req {
	char *method, *uri;
	struct sigv4_header h[MAX_HEADERS + 8];
	size_t n;
	const char *body;
	size_t body_len;
};

struct lookup {
	const struct sigv4_header *h;
	size_t n;
	char *joined[128]; /* strings handed out, freed after verify */
	size_t n_joined;
};

/* Case-insensitive lookup joining repeats with ',' (as the emulator's server does). */
static const char *lookup(void *ctx, const char *name)
{
	struct lookup *l = ctx;
	struct buf b = {0};
	size_t count = 0;

	for (size_t i = 0; i < l->n; i++) {
		if (strcasecmp(l->h[i].name, name))
			continue;
		if (count++)
			buf_putc(&b, ',');
		buf_puts(&b, l->h[i].value);
	}
	if (!count || l->n_joined == sizeof(l->joined) / sizeof(l->joined[0])) {
		buf_free(&b);
		return NULL;
	}
	return l->joined[l->n_joined++] = buf_steal(&b);
}

static const char *secret_for(void *ctx, const char *ak)
{
	(void)ctx;
	return strcmp(ak, AKID) ? NULL : SECRET;
}

/* Verifies r with headers h[0..n) and the given body; 0 when the signature holds. */
static int verify(const struct req *r, const struct sigv4_header *h, size_t n, const char *body,
                  size_t body_len)
{
	struct lookup l = {.h = h, .n = n};
	const char *names[MAX_HEADERS + 8];
	const char *q = strchr(r->uri, '?');
	char *path = strndup(r->uri, q ? (size_t)(q - r->uri) : strlen(r->uri));
	struct lk_error err = {0};
	int rc;

	for (size_t i = 0; i < n; i++)
		names[i] = h[i].name;
	struct sigv4_verify_input in = {.method = r->method,
	                                .path = path,
	                                .query = q ? q + 1 : "",
	                                .header = lookup,
	                                .header_ctx = &l,
	                                .body = body,
	                                .body_len = body_len,
	                                .secret_for = secret_for,
	                                .now = NOW,
	                                .region = "us-east-1",
	                                .service = "lambda",
	                                .header_names = names,
	                                .n_header_names = n};
	rc = sigv4_verify(&in, NULL, &err);
	for (size_t i = 0; i < l.n_joined; i++)
		free(l.joined[i]);
	free(path);
	return rc;
}

/* Splits the input; header values are trimmed as an HTTP server hands them over. */
static void split(const uint8_t *data, size_t size, char *copy, struct req *r)
{
	char *p = copy, *end = copy + size, *nl;

	memcpy(copy, data, size);
	copy[size] = '\0';
	memset(r, 0, sizeof(*r));
	r->method = p;
	if ((nl = memchr(p, '\n', (size_t)(end - p))))
		*nl = '\0', p = nl + 1;
	else
		p = end;
	r->uri = p;
	if (p < end && (nl = memchr(p, '\n', (size_t)(end - p))))
		*nl = '\0', p = nl + 1;
	else
		p = end;
	while (p < end && *p != '\n' && r->n < MAX_HEADERS) {
		char *line = p, *colon, *v, *ve;

		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl)
			*nl = '\0', p = nl + 1;
		else
			p = end;
		colon = strchr(line, ':');
		if (!colon || colon == line)
			continue;
		*colon = '\0';
		for (v = colon + 1; *v && strchr(WS, *v); v++)
			;
		for (ve = v + strlen(v); ve > v && strchr(WS, ve[-1]);)
			*--ve = '\0';
		r->h[r->n].name = line;
		r->h[r->n].value = v;
		r->n++;
	}
	if (p < end && *p == '\n')
		p++;
	r->body = p;
	r->body_len = (size_t)(end - p);
}

/* Header names the round trip can carry: a token a server would accept, none that the
 * signer owns or leaves out. */
static bool plain_header(const char *name)
{
	static const char *const own[] = {
	    "authorization",        "x-amz-date",     "x-amz-security-token",
	    "x-amz-content-sha256", "user-agent",     "expect",
	    "x-amzn-trace-id",      "content-length", "host"};

	if (!*name || strlen(name) > 100)
		return false;
	for (const char *c = name; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '-'))
			return false;
	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++)
		if (!strcasecmp(name, own[i]))
			return false;
	return true;
}

static void round_trip(const struct req *r)
{
	struct sigv4_header h[MAX_HEADERS + 8];
	size_t n = 0;
	const char *q = strchr(r->uri, '?');
	char *path = strndup(r->uri, q ? (size_t)(q - r->uri) : strlen(r->uri));
	struct sigv4_credentials creds = {AKID, SECRET, NULL};
	struct sigv4_signature sig = {0};
	struct lk_error err = {0};
	size_t names_len = 0;

	h[n++] = (struct sigv4_header){"Host", "127.0.0.1:4566"};
	for (size_t i = 0; i < r->n; i++) {
		/* SignedHeaders must fit the verifier's 2 KB */
		if (plain_header(r->h[i].name) && names_len + strlen(r->h[i].name) < 1500) {
			names_len += strlen(r->h[i].name) + 1;
			h[n++] = r->h[i];
		}
	}
	struct sigv4_request sr = {.method = r->method,
	                           .path = path,
	                           .query = q ? q + 1 : "",
	                           .headers = h,
	                           .n_headers = n,
	                           .body = r->body,
	                           .body_len = r->body_len};
	if (*r->method && !strpbrk(r->method, " \t\r") &&
	    sigv4_sign(&sr, &creds, "us-east-1", "lambda", NOW, &sig, &err) == 0) {
		for (size_t i = 0; i < sig.n_add; i++)
			h[n++] = sig.add[i];
		if (verify(r, h, n, r->body, r->body_len) != 0)
			abort(); /* signer and verifier disagree on the canonical request */
		if (r->body_len && verify(r, h, n, r->body, r->body_len - 1) == 0)
			abort(); /* a changed body still verified */
	}
	sigv4_signature_free(&sig);
	free(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1);
	struct req r;
	struct emu_kv *kv;
	long nq;
	const char *q;
	struct emu_lambda_route route;
	struct buf canon = {0};

	if (!copy)
		return 0;
	split(data, size, copy, &r);
	q = strchr(r.uri, '?');

	nq = emu_query_parse(q ? q + 1 : "", &kv);
	if (nq > 0)
		emu_kv_free(kv, (size_t)nq);

	{
		char *path = strndup(r.uri, q ? (size_t)(q - r.uri) : strlen(r.uri));

		if (emu_lambda_route(r.method, path, &route) == 0) {
			if (route.op == EMU_LAMBDA_NONE || !*emu_lambda_op_name(route.op))
				abort(); /* a successful route names an operation */
			if (route.ref && !emu_lambda_valid_ref(route.ref, strlen(route.ref)))
				abort(); /* routed names are valid names */
		} else if (!route.code || route.status < 400) {
			abort(); /* a refusal carries its answer */
		}
		emu_lambda_route_free(&route);
		sigv4_canonical_path(path, false, &canon);
		sigv4_canonical_path(path, true, &canon);
		free(path);
	}
	sigv4_canonical_query(q ? q + 1 : "", &canon);
	buf_free(&canon);
	emu_lambda_valid_ref(r.body, r.body_len);

	(void)verify(&r, r.h, r.n, r.body, r.body_len);
	round_trip(&r);
	free(copy);
	return 0;
}
