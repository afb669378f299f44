/* sigv4.h - AWS Signature Version 4 (header form, AWS4-HMAC-SHA256) on OpenSSL: a signer for
 * the client and a verifier for the emulator, both built on the same canonical request.
 *
 * Canonical request rules (as botocore's SigV4Auth / S3SigV4Auth):
 *  - path: taken as sent on the wire (already percent-encoded). Except for S3, dot segments
 *    and empty segments are removed and the result is percent-encoded once more (so an ARN
 *    sent as "arn%3Aaws" is signed as "arn%253Aaws"); for S3 the path is used verbatim.
 *  - query: every key and value percent-decoded, re-encoded per RFC 3986 (unreserved
 *    A-Z a-z 0-9 - _ . ~ kept), sorted by key then value; '+' is a literal plus.
 *  - headers: every header given except user-agent, expect, x-amzn-trace-id, authorization
 *    and content-length; names lower-cased, values trimmed with inner runs of spaces
 *    collapsed, repeated names joined with ','. host must be among them.
 *  - payload: hex SHA-256 of the body, or a given value (UNSIGNED-PAYLOAD, the hash of a body
 *    streamed from a file, STREAMING-...).
 *
 * Call order (client): fill a struct sigv4_request, call sigv4_sign(), send the request with
 * every header of sig.add[] added, then sigv4_signature_free(). Nothing is global.
 * Call order (server): fill struct sigv4_verify_input with the request as received and call
 * sigv4_verify(); on failure err carries the AWS error code and the HTTP status (403/400) to
 * return. Secrets are never copied into errors or results. */
#ifndef LAMBDECK_AWS_SIGV4_H
#define LAMBDECK_AWS_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/util.h"

#define SIGV4_UNSIGNED_PAYLOAD  "UNSIGNED-PAYLOAD"
#define SIGV4_STREAMING_PAYLOAD "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
#define SIGV4_EMPTY_SHA256      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
/* Allowed clock difference between a request's X-Amz-Date and the verifier's clock. */
#define SIGV4_MAX_SKEW_SECONDS (15 * 60)

struct sigv4_header {
	const char *name;
	const char *value;
};

struct sigv4_credentials {
	const char *access_key_id;
	const char *secret_access_key;
	const char *session_token; /* NULL or "" when none */
};

struct sigv4_request {
	const char *method; /* "GET", "POST", ... */
	const char *path;   /* as on the wire, percent-encoded; NULL or "" means "/" */
	const char *query;  /* as on the wire, without '?'; NULL or "" for none */
	const struct sigv4_header *headers; /* headers that will be sent; must include Host */
	size_t n_headers;
	const void *body; /* may be NULL when body_len == 0 */
	size_t body_len;
	const char *payload_hash; /* NULL: hex SHA-256 of body; otherwise used verbatim */
	bool s3;                  /* S3 rules: path not normalised/re-encoded, sends
	                             X-Amz-Content-Sha256 */
};

/* What sigv4_sign produced. add[0..n_add) are the headers the caller must send in addition
 * to its own (X-Amz-Date, X-Amz-Security-Token when a token is set, X-Amz-Content-Sha256
 * for S3, Authorization); their strings live inside this struct: do not copy the struct. */
struct sigv4_signature {
	char amz_date[17];       /* YYYYMMDDTHHMMSSZ */
	char payload_hash[128];  /* what was signed as the payload */
	char signature[65];      /* hex */
	char *authorization;     /* full Authorization header value */
	char *token;             /* copy of the session token, or NULL */
	char *canonical_request; /* for debugging and tests; contains no secret */
	char *string_to_sign;
	struct sigv4_header add[4];
	size_t n_add;
};

/* Signs req for (region, service) at Unix time `when` (seconds; 0 = now). Fills *sig (caller
 * frees it with sigv4_signature_free, also after a failure). Returns 0, or -1 with err set
 * (missing host header, missing credentials, bad payload hash). */
int sigv4_sign(const struct sigv4_request *req, const struct sigv4_credentials *creds,
               const char *region, const char *service, int64_t when, struct sigv4_signature *sig,
               struct lk_error *err);
void sigv4_signature_free(struct sigv4_signature *sig);

/* The request as a server received it. */
struct sigv4_verify_input {
	const char *method;
	const char *path;  /* raw request path as received (percent-encoded), no query */
	const char *query; /* raw query string without '?', NULL or "" for none */
	/* Case-insensitive header lookup; returns NULL when absent. The string must stay valid
	 * during sigv4_verify. Repeated headers should be returned joined with ','. */
	const char *(*header)(void *ctx, const char *name);
	void *header_ctx;
	const void *body;
	size_t body_len;
	/* Returns the secret access key for an access key id, NULL when unknown. */
	const char *(*secret_for)(void *ctx, const char *access_key_id);
	void *secret_ctx;
	int64_t now; /* Unix seconds; 0 = now */
	bool s3;
	/* What the credential scope must name; NULL accepts any (as before). */
	const char *region;
	const char *service;
	/* Names of every header the request carries (repeats allowed): each x-amz-* one must be
	 * among SignedHeaders (x-amz-user-agent excepted: the JS SDKs never sign it). NULL
	 * skips the check. */
	const char *const *header_names;
	size_t n_header_names;
};

/* Who signed a verified request. */
struct sigv4_identity {
	char access_key_id[129];
	char region[64];
	char service[64];
	char amz_date[17];
};

/* Verifies the Authorization header of a request: parses it, checks the credential scope's
 * region and service when in->region / in->service are set, recomputes the signature with
 * the signer's code over the signed headers named in it and a secret looked up by access
 * key, compares in constant time, and checks X-Amz-Date within +-15 minutes of now and the
 * credential scope's date, and that no x-amz-* header was left unsigned. The payload is
 * always the body's SHA-256 except for S3: elsewhere an X-Amz-Content-Sha256 header (as the
 * JS SDK sends) must equal it, so UNSIGNED-PAYLOAD is refused; for S3 a hex value must match
 * the body and UNSIGNED-PAYLOAD is signed as such. Returns 0 and fills *who (may be NULL),
 * or -1 with err->status 403 (400 for an S3 content-hash mismatch) and an AWS code:
 * MissingAuthenticationTokenException, IncompleteSignatureException,
 * UnrecognizedClientException, InvalidSignatureException, XAmzContentSHA256Mismatch. */
int sigv4_verify(const struct sigv4_verify_input *in, struct sigv4_identity *who,
                 struct lk_error *err);

/* Building blocks, exposed for tests and for callers that need the same encoding. All
 * append to out. */
/* RFC 3986 percent-encoding of every byte except A-Z a-z 0-9 - _ . ~ (and '/' when
 * keep_slash). */
void sigv4_uri_encode(const char *s, size_t len, bool keep_slash, struct buf *out);
/* Percent-decodes s[0..len): %XX becomes the byte (%00 too: out->len counts it), an invalid
 * escape stays literal, '+' becomes ' ' when plus_space (form-style query strings). */
void sigv4_uri_decode(const char *s, size_t len, bool plus_space, struct buf *out);
void sigv4_canonical_path(const char *path, bool s3, struct buf *out);
void sigv4_canonical_query(const char *query, struct buf *out);

#endif
