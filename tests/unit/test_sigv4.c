/* Unit tests for backend/aws/sigv4: canonical forms, AWS test-suite vectors, sign/verify
 * round trips and every way verification must fail. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "backend/aws/sigv4.h"

#define AKID   "AKIDEXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define T0     1440938160 /* 20150830T123600Z */

static const struct sigv4_credentials creds = {AKID, SECRET, NULL};

static char *canon_path(const char *p, bool s3)
{
	struct buf b = {0};

	sigv4_canonical_path(p, s3, &b);
	return buf_steal(&b);
}

static char *canon_query(const char *q)
{
	struct buf b = {0};

	sigv4_canonical_query(q, &b);
	return buf_steal(&b);
}

static void expect_path(const char *in, bool s3, const char *want)
{
	char *got = canon_path(in, s3);

	assert_string_equal(got, want);
	free(got);
}

static void expect_query(const char *in, const char *want)
{
	char *got = canon_query(in);

	assert_string_equal(got, want);
	free(got);
}

static void test_canonical_path(void **state)
{
	(void)state;
	expect_path("", false, "/");
	expect_path("/", false, "/");
	expect_path(
	    "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A1%3Afunction%3Af/invocations",
	    false,
	    "/2015-03-31/functions/arn%253Aaws%253Alambda%253Aus-east-1%253A1%253Afunction%253Af/"
	    "invocations");
	expect_path("/a//b/./c/../d/", false, "/a/b/d/");
	expect_path("/..", false, "/");
	expect_path("/caf\xc3\xa9 x", false, "/caf%C3%A9%20x");
	expect_path("/bucket/a%20b//c", true, "/bucket/a%20b//c");
	expect_path("/2015-03-31/functions/", false, "/2015-03-31/functions/");
}

static void test_canonical_query(void **state)
{
	(void)state;
	expect_query(NULL, "");
	expect_query("", "");
	expect_query("MasterRegion=us-east-1&FunctionVersion=ALL",
	             "FunctionVersion=ALL&MasterRegion=us-east-1");
	expect_query("b=2&a=3&a=1", "a=1&a=3&b=2");
	expect_query("k=a b+c%2Fd&x", "k=a%20b%2Bc%2Fd&x=");
	expect_query("Marker=abc%3D%3D&z=%7e", "Marker=abc%3D%3D&z=~");
	expect_query("bad=%zz%4", "bad=%25zz%254");
	expect_query("&&a=1&", "a=1");
	expect_query("u=%C3%A9", "u=%C3%A9");
}

/* From AWS's SigV4 test suite ("get-vanilla", "post-vanilla-query", "get-utf8"). */
static void sign_vector(const char *method, const char *path, const char *query,
                        const char *want_sig)
{
	struct sigv4_header hdrs[] = {{"Host", "example.amazonaws.com"}};
	struct sigv4_request req = {
	    .method = method, .path = path, .query = query, .headers = hdrs, .n_headers = 1};
	struct sigv4_signature sig;
	struct lk_error err = {0};

	assert_int_equal(sigv4_sign(&req, &creds, "us-east-1", "service", T0, &sig, &err), 0);
	assert_string_equal(sig.amz_date, "20150830T123600Z");
	assert_string_equal(sig.signature, want_sig);
	assert_non_null(strstr(sig.authorization,
	                       "Credential=AKIDEXAMPLE/20150830/us-east-1/"
	                       "service/aws4_request, SignedHeaders=host;x-amz-date, "
	                       "Signature="));
	assert_null(strstr(sig.authorization, SECRET));
	assert_null(strstr(sig.canonical_request, SECRET));
	sigv4_signature_free(&sig);
}

static void test_aws_vectors(void **state)
{
	(void)state;
	sign_vector("GET", "/", NULL,
	            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
	sign_vector("POST", "/", "Param1=value1",
	            "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11");
	sign_vector("GET", "/", "Param2=value2&Param1=value1",
	            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
}

/* A tiny header table for the verifier. */
struct hdrtab {
	const struct sigv4_header *h;
	size_t n;
};

static const char *lookup(void *ctx, const char *name)
{
	struct hdrtab *t = ctx;

	for (size_t i = 0; i < t->n; i++)
		if (!strcasecmp(t->h[i].name, name))
			return t->h[i].value;
	return NULL;
}

static const char *secret_of(void *ctx, const char *akid)
{
	(void)ctx;
	return strcmp(akid, AKID) == 0 ? SECRET : NULL;
}

/* Signs a request and returns the full header list as sent (caller frees list). */
struct sent {
	struct sigv4_header h[16];
	size_t n;
	struct sigv4_signature sig;
	bool s3;
};

static void sign_into(struct sent *s, const char *method, const char *path, const char *query,
                      const char *body, const struct sigv4_credentials *c, int64_t when, bool s3)
{
	struct sigv4_header base[] = {{"Host", "127.0.0.1:4566"},
	                              {"Content-Type", "application/x-amz-json-1.1"},
	                              {"X-Amz-Target", "Logs_20140328.DescribeLogGroups"},
	                              {"User-Agent", "lambdeck/0.1"}};
	struct sigv4_request req = {.method = method,
	                            .path = path,
	                            .query = query,
	                            .headers = base,
	                            .n_headers = 4,
	                            .body = body,
	                            .body_len = body ? strlen(body) : 0,
	                            .s3 = s3};
	struct lk_error err = {0};

	assert_int_equal(sigv4_sign(&req, c, "us-east-1", "logs", when, &s->sig, &err), 0);
	s->s3 = s3;
	memcpy(s->h, base, sizeof(base));
	s->n = 4;
	for (size_t i = 0; i < s->sig.n_add; i++)
		s->h[s->n++] = s->sig.add[i];
}

static int verify_sent(struct sent *s, const char *method, const char *path, const char *query,
                       const char *body, int64_t now, struct sigv4_identity *who,
                       struct lk_error *err)
{
	struct hdrtab t = {s->h, s->n};
	struct sigv4_verify_input in = {.method = method,
	                                .path = path,
	                                .query = query,
	                                .header = lookup,
	                                .header_ctx = &t,
	                                .body = body,
	                                .body_len = body ? strlen(body) : 0,
	                                .secret_for = secret_of,
	                                .now = now,
	                                .s3 = s->s3};

	return sigv4_verify(&in, who, err);
}

static void test_roundtrip(void **state)
{
	struct sent s;
	struct sigv4_identity who;
	struct lk_error err = {0};
	const char *body = "{\"limit\":5}";

	(void)state;
	sign_into(&s, "POST", "/", "b=2&a=%20x", body, &creds, T0, false);
	assert_int_equal(verify_sent(&s, "POST", "/", "b=2&a=%20x", body, T0 + 60, &who, &err), 0);
	assert_string_equal(who.access_key_id, AKID);
	assert_string_equal(who.region, "us-east-1");
	assert_string_equal(who.service, "logs");
	/* The verifier accepts the query in another order: it is canonicalised. */
	assert_int_equal(verify_sent(&s, "POST", "/", "a=%20x&b=2", body, T0, &who, &err), 0);

	/* Tampering with anything signed fails. */
	assert_int_equal(
	    verify_sent(&s, "POST", "/", "b=2&a=%20x", "{\"limit\":6}", T0, NULL, &err), -1);
	assert_string_equal(err.code, "InvalidSignatureException");
	assert_int_equal(err.status, 403);
	assert_int_equal(verify_sent(&s, "PUT", "/", "b=2&a=%20x", body, T0, NULL, &err), -1);
	assert_int_equal(verify_sent(&s, "POST", "/x", "b=2&a=%20x", body, T0, NULL, &err), -1);
	assert_int_equal(verify_sent(&s, "POST", "/", "b=3&a=%20x", body, T0, NULL, &err), -1);
	s.h[1].value = "application/json"; /* content-type is signed */
	assert_int_equal(verify_sent(&s, "POST", "/", "b=2&a=%20x", body, T0, NULL, &err), -1);
	s.h[1].value = "application/x-amz-json-1.1";
	s.h[3].value = "curl/8"; /* user-agent is not */
	assert_int_equal(verify_sent(&s, "POST", "/", "b=2&a=%20x", body, T0, NULL, &err), 0);
	sigv4_signature_free(&s.sig);
}

static void test_verify_skew(void **state)
{
	struct sent s;
	struct lk_error err = {0};

	(void)state;
	sign_into(&s, "GET", "/", NULL, NULL, &creds, T0, false);
	assert_int_equal(verify_sent(&s, "GET", "/", NULL, NULL, T0 + 15 * 60, NULL, &err), 0);
	assert_int_equal(verify_sent(&s, "GET", "/", NULL, NULL, T0 - 15 * 60, NULL, &err), 0);
	assert_int_equal(verify_sent(&s, "GET", "/", NULL, NULL, T0 + 15 * 60 + 1, NULL, &err), -1);
	assert_string_equal(err.code, "InvalidSignatureException");
	assert_non_null(strstr(err.message, "20150830T123600Z"));
	assert_int_equal(verify_sent(&s, "GET", "/", NULL, NULL, T0 - 15 * 60 - 1, NULL, &err), -1);
	sigv4_signature_free(&s.sig);
}

static void test_verify_token_and_unknown_key(void **state)
{
	struct sigv4_credentials tok = {AKID, SECRET, "FQoGZXIvYXdzE//token=="};
	struct sigv4_credentials other = {"AKIDOTHER", SECRET, NULL};
	struct sent s;
	struct lk_error err = {0};

	(void)state;
	sign_into(&s, "GET", "/", NULL, NULL, &tok, T0, false);
	assert_non_null(strstr(s.sig.authorization, "x-amz-security-token"));
	assert_int_equal(verify_sent(&s, "GET", "/", NULL, NULL, T0, NULL, &err), 0);
	/* Swapping the token after signing breaks the signature. */
	for (size_t i = 0; i < s.n; i++)
		if (!strcasecmp(s.h[i].name, "X-Amz-Security-Token"))
			s.h[i].value = "other";
	assert_int_equal(verify_sent(&s, "GET", "/", NULL, NULL, T0, NULL, &err), -1);
	sigv4_signature_free(&s.sig);

	sign_into(&s, "GET", "/", NULL, NULL, &other, T0, false);
	assert_int_equal(verify_sent(&s, "GET", "/", NULL, NULL, T0, NULL, &err), -1);
	assert_string_equal(err.code, "UnrecognizedClientException");
	sigv4_signature_free(&s.sig);
}

static void expect_auth_error(const char *auth, const char *date, const char *code)
{
	struct sigv4_header h[] = {{"Host", "h"}, {"Authorization", auth}, {"X-Amz-Date", date}};
	struct hdrtab t = {h, auth ? 3 : 0};
	struct sigv4_verify_input in = {.method = "GET",
	                                .path = "/",
	                                .header = lookup,
	                                .header_ctx = &t,
	                                .secret_for = secret_of,
	                                .now = T0};
	struct lk_error err = {0};

	if (!auth)
		h[1].name = "X-Nothing";
	t.n = 3;
	assert_int_equal(sigv4_verify(&in, NULL, &err), -1);
	if (!code) {
		assert_true(err.code[0] != '\0');
		return;
	}
	assert_string_equal(err.code, code);
	assert_int_equal(err.status, 403);
	assert_null(strstr(err.message, SECRET));
}

static void test_verify_malformed(void **state)
{
	(void)state;
	expect_auth_error(NULL, "20150830T123600Z", "MissingAuthenticationTokenException");
	expect_auth_error("", "20150830T123600Z", "MissingAuthenticationTokenException");
	expect_auth_error("Basic abc", "20150830T123600Z", "IncompleteSignatureException");
	expect_auth_error("AWS4-HMAC-SHA256 ", "20150830T123600Z", "IncompleteSignatureException");
	expect_auth_error("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/x, "
	                  "SignedHeaders=host;x-amz-date, Signature=00",
	                  "20150830T123600Z", "IncompleteSignatureException");
	expect_auth_error("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/s/"
	                  "aws4_request, SignedHeaders=host;x-amz-date, Signature=00",
	                  "2015-08-30", "IncompleteSignatureException");
	expect_auth_error("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150831/us-east-1/s/"
	                  "aws4_request, SignedHeaders=host;x-amz-date, Signature=00",
	                  "20150830T123600Z", "InvalidSignatureException");
	expect_auth_error("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/s/"
	                  "aws4_request, SignedHeaders=host;x-amz-date;x-missing, Signature=00",
	                  "20150830T123600Z", "IncompleteSignatureException");
	expect_auth_error("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/s/"
	                  "aws4_request, SignedHeaders=host, Signature=00",
	                  "20150830T123600Z", "IncompleteSignatureException");
	expect_auth_error("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/s/"
	                  "aws4_request, SignedHeaders=host;x-amz-date, Signature=00",
	                  "20150830T123600Z", "InvalidSignatureException");
}

static void test_payload_variants(void **state)
{
	struct sigv4_header hdrs[] = {{"Host", "bucket.s3.amazonaws.com"}};
	struct sigv4_request req = {.method = "PUT",
	                            .path = "/key%20x",
	                            .headers = hdrs,
	                            .n_headers = 1,
	                            .s3 = true,
	                            .body = "abc",
	                            .body_len = 3};
	struct sigv4_signature sig;
	struct lk_error err = {0};

	(void)state;
	assert_int_equal(sigv4_sign(&req, &creds, "us-east-1", "s3", T0, &sig, &err), 0);
	assert_string_equal(sig.payload_hash,
	                    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_int_equal(sig.n_add, 3);
	assert_string_equal(sig.add[1].name, "X-Amz-Content-Sha256");
	assert_non_null(strstr(sig.canonical_request, "PUT\n/key%20x\n"));
	sigv4_signature_free(&sig);

	req.payload_hash = SIGV4_UNSIGNED_PAYLOAD;
	assert_int_equal(sigv4_sign(&req, &creds, "us-east-1", "s3", T0, &sig, &err), 0);
	assert_string_equal(sig.payload_hash, "UNSIGNED-PAYLOAD");
	assert_non_null(strstr(sig.canonical_request, "\nUNSIGNED-PAYLOAD"));
	sigv4_signature_free(&sig);

	req.payload_hash = "bad hash\n";
	assert_int_equal(sigv4_sign(&req, &creds, "us-east-1", "s3", T0, &sig, &err), -1);
	sigv4_signature_free(&sig);

	/* Empty body: the well-known empty hash, no X-Amz-Content-Sha256 outside S3. */
	req.payload_hash = NULL;
	req.s3 = false;
	req.body = NULL;
	req.body_len = 0;
	assert_int_equal(sigv4_sign(&req, &creds, "us-east-1", "lambda", T0, &sig, &err), 0);
	assert_string_equal(sig.payload_hash, SIGV4_EMPTY_SHA256);
	assert_int_equal(sig.n_add, 2);
	sigv4_signature_free(&sig);

	/* No Host, no credentials: errors, not crashes. */
	req.n_headers = 0;
	assert_int_equal(sigv4_sign(&req, &creds, "us-east-1", "lambda", T0, &sig, &err), -1);
	sigv4_signature_free(&sig);
	req.n_headers = 1;
	struct sigv4_credentials none = {"", "", NULL};
	assert_int_equal(sigv4_sign(&req, &none, "us-east-1", "lambda", T0, &sig, &err), -1);
	assert_string_equal(err.code, "MissingCredentials");
	sigv4_signature_free(&sig);
}

static void test_verify_content_hash(void **state)
{
	struct sent s;
	struct lk_error err = {0};

	(void)state;
	sign_into(&s, "PUT", "/b/k", NULL, "data", &creds, T0, true);
	assert_int_equal(verify_sent(&s, "PUT", "/b/k", NULL, "data", T0, NULL, &err), 0);
	assert_int_equal(verify_sent(&s, "PUT", "/b/k", NULL, "datb", T0, NULL, &err), -1);
	assert_string_equal(err.code, "XAmzContentSHA256Mismatch");
	assert_int_equal(err.status, 400);
	sigv4_signature_free(&s.sig);
}

/* Outside S3 the payload is always the body's hash: UNSIGNED-PAYLOAD (or any header value
 * other than that hash) is refused, so the body cannot change after signing. */
static void test_verify_unsigned_payload(void **state)
{
	struct sent s;
	struct lk_error err = {0};
	struct sigv4_header hdrs[] = {{"Host", "127.0.0.1:4566"},
	                              {"X-Amz-Content-Sha256", SIGV4_UNSIGNED_PAYLOAD}};
	struct sigv4_request req = {.method = "POST",
	                            .path = "/",
	                            .headers = hdrs,
	                            .n_headers = 2,
	                            .body = "{}",
	                            .body_len = 2};

	(void)state;
	memset(&s, 0, sizeof(s));
	assert_int_equal(sigv4_sign(&req, &creds, "us-east-1", "logs", T0, &s.sig, &err), 0);
	memcpy(s.h, hdrs, sizeof(hdrs));
	s.n = 2;
	for (size_t i = 0; i < s.sig.n_add; i++)
		s.h[s.n++] = s.sig.add[i];
	assert_int_equal(verify_sent(&s, "POST", "/", NULL, "{}", T0, NULL, &err), -1);
	assert_string_equal(err.code, "InvalidSignatureException");
	assert_int_equal(verify_sent(&s, "POST", "/", NULL, "{\"x\":1}", T0, NULL, &err), -1);
	/* for S3 it stays what the client chose */
	s.s3 = true;
	assert_int_equal(verify_sent(&s, "POST", "/", NULL, "{}", T0, NULL, &err), 0);
	sigv4_signature_free(&s.sig);
}

/* The credential scope must name the expected region and service; every x-amz-* header
 * must be signed. */
static void test_verify_scope_and_unsigned_headers(void **state)
{
	struct sent s;
	struct lk_error err = {0};
	const char *names[] = {"Host", "X-Amz-Date", "X-Amz-Target", "X-Amz-Invocation-Type"};
	struct hdrtab t;
	struct sigv4_verify_input in = {.method = "POST",
	                                .path = "/",
	                                .header = lookup,
	                                .header_ctx = &t,
	                                .body = "{}",
	                                .body_len = 2,
	                                .secret_for = secret_of,
	                                .now = T0};

	(void)state;
	sign_into(&s, "POST", "/", NULL, "{}", &creds, T0, false); /* us-east-1 / logs */
	t = (struct hdrtab){s.h, s.n};
	assert_int_equal(sigv4_verify(&in, NULL, &err), 0);
	in.region = "us-east-1";
	in.service = "logs";
	assert_int_equal(sigv4_verify(&in, NULL, &err), 0);
	in.region = "eu-west-1";
	assert_int_equal(sigv4_verify(&in, NULL, &err), -1);
	assert_string_equal(err.code, "InvalidSignatureException");
	assert_non_null(strstr(err.message, "valid region"));
	in.region = "us-east-1";
	in.service = "lambda";
	assert_int_equal(sigv4_verify(&in, NULL, &err), -1);
	assert_non_null(strstr(err.message, "correct service: 'lambda'"));
	in.service = "logs";
	in.header_names = names;
	in.n_header_names = 3; /* all signed (x-amz-target is) */
	assert_int_equal(sigv4_verify(&in, NULL, &err), 0);
	in.n_header_names = 4; /* x-amz-invocation-type added after signing */
	assert_int_equal(sigv4_verify(&in, NULL, &err), -1);
	assert_string_equal(err.code, "InvalidSignatureException");
	assert_non_null(strstr(err.message, "X-Amz-Invocation-Type"));
	names[3] = "X-Amz-User-Agent"; /* the JS SDKs never sign it */
	assert_int_equal(sigv4_verify(&in, NULL, &err), 0);
	sigv4_signature_free(&s.sig);
}

/* Hostile Authorization headers: random mixes of the grammar's pieces and junk never crash,
 * never verify. */
static void test_verify_hostile(void **state)
{
	static const char *const parts[] = {
	    "AWS4-HMAC-SHA256 ",
	    "Credential=",
	    "SignedHeaders=",
	    "Signature=",
	    "AKIDEXAMPLE",
	    "/",
	    "20150830",
	    "us-east-1",
	    "service",
	    "aws4_request",
	    ",",
	    " ",
	    ";",
	    "host",
	    "x-amz-date",
	    "=",
	    "\xff\xfe",
	    "%00",
	    "0123456789abcdef",
	    "\t",
	    ",,,,",
	    "////",
	};
	unsigned seed = 12345;

	(void)state;
	for (int i = 0; i < 3000; i++) {
		struct buf auth = {0};
		int n = 1 + (int)((seed = seed * 1103515245u + 12345u) >> 16) % 30;

		for (int k = 0; k < n; k++) {
			seed = seed * 1103515245u + 12345u;
			buf_puts(&auth, parts[(seed >> 16) % (sizeof(parts) / sizeof(parts[0]))]);
		}
		if (i % 500 == 0) /* and some very long ones */
			for (int k = 0; k < 2000; k++)
				buf_puts(&auth, "x-amz-date;");
		expect_auth_error(auth.data, "20150830T123600Z", NULL);
		buf_free(&auth);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_canonical_path),
	    cmocka_unit_test(test_canonical_query),
	    cmocka_unit_test(test_aws_vectors),
	    cmocka_unit_test(test_roundtrip),
	    cmocka_unit_test(test_verify_skew),
	    cmocka_unit_test(test_verify_token_and_unknown_key),
	    cmocka_unit_test(test_verify_malformed),
	    cmocka_unit_test(test_payload_variants),
	    cmocka_unit_test(test_verify_content_hash),
	    cmocka_unit_test(test_verify_unsigned_payload),
	    cmocka_unit_test(test_verify_scope_and_unsigned_headers),
	    cmocka_unit_test(test_verify_hostile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
