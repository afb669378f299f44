/* sigv4.c - AWS Signature Version 4: canonical request, signer and verifier. */
#include "backend/aws/sigv4.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

static bool unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.' || c == '~';
}

void sigv4_uri_encode(const char *s, size_t len, bool keep_slash, struct buf *out)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (unreserved(c) || (keep_slash && c == '/')) {
			buf_putc(out, (char)c);
		} else {
			char e[3] = {'%', hex[c >> 4], hex[c & 15]};
			buf_append(out, e, 3);
		}
	}
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void sigv4_uri_decode(const char *s, size_t len, bool plus_space, struct buf *out)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '%' && i + 2 < len && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
			buf_putc(out, (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2])));
			i += 2;
		} else {
			buf_putc(out, plus_space && s[i] == '+' ? ' ' : s[i]);
		}
	}
}

/* Removes dot segments and empty segments (as botocore's remove_dot_segments): leading '/'
 * kept, trailing '/' kept when anything remains. */
static void normalize_path(const char *path, struct buf *out)
{
	size_t len = strlen(path);
	size_t nseg = 0, cap = 8;
	struct {
		const char *p;
		size_t n;
	} *segs = xmalloc(cap * sizeof(*segs));
	const char *p = path, *end = path + len;

	while (p <= end) {
		const char *slash = memchr(p, '/', (size_t)(end - p));
		const char *e = slash ? slash : end;
		size_t n = (size_t)(e - p);

		if (n == 0 || (n == 1 && p[0] == '.')) {
			/* skip */
		} else if (n == 2 && p[0] == '.' && p[1] == '.') {
			if (nseg)
				nseg--;
		} else {
			if (nseg == cap) {
				cap *= 2;
				segs = xrealloc(segs, cap * sizeof(*segs));
			}
			segs[nseg].p = p;
			segs[nseg].n = n;
			nseg++;
		}
		p = e + 1;
	}
	if (path[0] == '/')
		buf_putc(out, '/');
	for (size_t i = 0; i < nseg; i++) {
		if (i)
			buf_putc(out, '/');
		buf_append(out, segs[i].p, segs[i].n);
	}
	if (len && path[len - 1] == '/' && nseg)
		buf_putc(out, '/');
	free(segs);
}

void sigv4_canonical_path(const char *path, bool s3, struct buf *out)
{
	struct buf norm = {0};

	if (!path || !*path)
		path = "/";
	if (s3) {
		buf_puts(out, path);
		return;
	}
	normalize_path(path, &norm);
	if (norm.len == 0)
		buf_puts(&norm, "/");
	sigv4_uri_encode(norm.data, norm.len, true, out);
	buf_free(&norm);
}

struct qpair {
	char *key;
	char *value;
};

static int qpair_cmp(const void *a, const void *b)
{
	const struct qpair *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	return c ? c : strcmp(x->value, y->value);
}

void sigv4_canonical_query(const char *query, struct buf *out)
{
	struct qpair *pairs = NULL;
	size_t n = 0, cap = 0;
	const char *p = query;

	if (!query || !*query)
		return;
	while (p) {
		const char *amp = strchr(p, '&');
		size_t len = amp ? (size_t)(amp - p) : strlen(p);
		const char *eq = memchr(p, '=', len);
		size_t klen = eq ? (size_t)(eq - p) : len;
		struct buf raw = {0}, enc = {0};

		if (len > 0) {
			if (n == cap) {
				cap = cap ? cap * 2 : 8;
				pairs = xrealloc(pairs, cap * sizeof(*pairs));
			}
			sigv4_uri_decode(p, klen, false, &raw);
			sigv4_uri_encode(raw.data ? raw.data : "", raw.len, false, &enc);
			pairs[n].key = buf_steal(&enc);
			buf_reset(&raw);
			if (eq)
				sigv4_uri_decode(eq + 1, len - klen - 1, false, &raw);
			sigv4_uri_encode(raw.data ? raw.data : "", raw.len, false, &enc);
			pairs[n].value = buf_steal(&enc);
			buf_free(&raw);
			n++;
		}
		p = amp ? amp + 1 : NULL;
	}
	if (n)
		qsort(pairs, n, sizeof(*pairs), qpair_cmp);
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_putc(out, '&');
		buf_puts(out, pairs[i].key);
		buf_putc(out, '=');
		buf_puts(out, pairs[i].value);
		free(pairs[i].key);
		free(pairs[i].value);
	}
	free(pairs);
}

/* One header to sign: lower-cased name, canonical value. */
struct chdr {
	char *name;
	struct buf value;
};

static bool excluded_header(const char *lname)
{
	static const char *const skip[] = {"user-agent", "expect", "x-amzn-trace-id",
	                                   "authorization", "content-length"};

	for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
		if (!strcmp(lname, skip[i]))
			return true;
	return false;
}

/* Trims and collapses runs of whitespace to one space (botocore: ' '.join(v.split())). */
static void append_trimall(struct buf *out, const char *v)
{
	bool pending = false, any = false;

	for (; *v; v++) {
		if (*v == ' ' || *v == '\t' || *v == '\n' || *v == '\r' || *v == '\v' ||
		    *v == '\f') {
			pending = any;
			continue;
		}
		if (pending)
			buf_putc(out, ' ');
		pending = false;
		any = true;
		buf_putc(out, *v);
	}
}

static int chdr_cmp(const void *a, const void *b)
{
	return strcmp(((const struct chdr *)a)->name, ((const struct chdr *)b)->name);
}

/* A list of canonical headers being built. */
struct chdrs {
	struct chdr *v;
	size_t n, cap;
};

static void chdrs_add(struct chdrs *h, const char *name, const char *value)
{
	char *lname = xstrdup(name);

	for (char *c = lname; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	for (size_t i = 0; i < h->n; i++) {
		if (!strcmp(h->v[i].name, lname)) {
			buf_putc(&h->v[i].value, ',');
			append_trimall(&h->v[i].value, value ? value : "");
			free(lname);
			return;
		}
	}
	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 16;
		h->v = xrealloc(h->v, h->cap * sizeof(*h->v));
	}
	h->v[h->n].name = lname;
	memset(&h->v[h->n].value, 0, sizeof(struct buf));
	append_trimall(&h->v[h->n].value, value ? value : "");
	h->n++;
}

static void chdrs_free(struct chdrs *h)
{
	for (size_t i = 0; i < h->n; i++) {
		free(h->v[i].name);
		buf_free(&h->v[i].value);
	}
	free(h->v);
}

static void hmac_sha256(const void *key, size_t klen, const char *msg, unsigned char out[32])
{
	unsigned int olen = 32;

	HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg, strlen(msg), out, &olen);
}

/* Canonical request -> string to sign -> hex signature. */
static void compute_signature(const char *method, const char *path, const char *query,
                              struct chdrs *h, const char *payload_hash, bool s3,
                              const char *amz_date, const char *secret, const char *region,
                              const char *service, struct buf *creq, struct buf *sts,
                              struct buf *signed_headers, char sig_hex[65])
{
	unsigned char digest[32], k[32];
	char hex[65];
	char date[9];
	struct buf key = {0};

	qsort(h->v, h->n, sizeof(*h->v), chdr_cmp);
	for (size_t i = 0; i < h->n; i++) {
		if (i)
			buf_putc(signed_headers, ';');
		buf_puts(signed_headers, h->v[i].name);
	}
	buf_printf(creq, "%s\n", method);
	sigv4_canonical_path(path, s3, creq);
	buf_putc(creq, '\n');
	sigv4_canonical_query(query, creq);
	buf_putc(creq, '\n');
	for (size_t i = 0; i < h->n; i++)
		buf_printf(creq, "%s:%s\n", h->v[i].name,
		           h->v[i].value.data ? h->v[i].value.data : "");
	buf_printf(creq, "\n%s\n%s", signed_headers->data ? signed_headers->data : "",
	           payload_hash);

	memcpy(date, amz_date, 8);
	date[8] = '\0';
	util_sha256(creq->data, creq->len, digest);
	util_hex(digest, 32, hex);
	buf_printf(sts, "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s", amz_date, date, region,
	           service, hex);

	buf_printf(&key, "AWS4%s", secret);
	hmac_sha256(key.data, key.len, date, k);
	OPENSSL_cleanse(key.data, key.len);
	buf_free(&key);
	hmac_sha256(k, 32, region, k);
	hmac_sha256(k, 32, service, k);
	hmac_sha256(k, 32, "aws4_request", k);
	hmac_sha256(k, 32, sts->data, digest);
	OPENSSL_cleanse(k, sizeof(k));
	util_hex(digest, 32, sig_hex);
}

static void format_amz_date(int64_t when, char out[17])
{
	time_t t = (time_t)when;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

static bool valid_payload_hash(const char *h)
{
	size_t n = strlen(h);

	if (n == 0 || n >= 128)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)h[i]) && h[i] != '-')
			return false;
	return true;
}

int sigv4_sign(const struct sigv4_request *req, const struct sigv4_credentials *creds,
               const char *region, const char *service, int64_t when, struct sigv4_signature *sig,
               struct lk_error *err)
{
	struct chdrs h = {0};
	struct buf creq = {0}, sts = {0}, sh = {0};
	const char *payload = req->payload_hash;
	bool have_host = false, caller_hash = false;
	bool has_token = creds && creds->session_token && *creds->session_token;

	memset(sig, 0, sizeof(*sig));
	if (!creds || !creds->access_key_id || !*creds->access_key_id ||
	    !creds->secret_access_key || !*creds->secret_access_key)
		return lk_error_set(err, "MissingCredentials", "no AWS credentials to sign with");
	if (!region || !*region || !service || !*service)
		return lk_error_set(err, "SigningError", "region and service are required to sign");
	if (!when)
		when = util_now_ms() / 1000;
	format_amz_date(when, sig->amz_date);

	for (size_t i = 0; i < req->n_headers; i++) {
		const char *n = req->headers[i].name;

		if (!strcasecmp(n, "host"))
			have_host = true;
		/* The signer owns these; a caller's copy would be signed twice. */
		if (!strcasecmp(n, "x-amz-date") || !strcasecmp(n, "x-amz-security-token"))
			continue;
		if (!strcasecmp(n, "x-amz-content-sha256")) {
			caller_hash = true;
			if (!payload)
				payload = req->headers[i].value;
		}
		{
			char lname[128];
			size_t k = 0;

			for (; n[k] && k < sizeof(lname) - 1; k++)
				lname[k] = (char)tolower((unsigned char)n[k]);
			lname[k] = '\0';
			if (excluded_header(lname))
				continue;
		}
		chdrs_add(&h, n, req->headers[i].value);
	}
	if (!have_host) {
		chdrs_free(&h);
		return lk_error_set(err, "SigningError", "a Host header is required to sign");
	}
	if (payload) {
		if (!valid_payload_hash(payload)) {
			chdrs_free(&h);
			return lk_error_set(err, "SigningError", "invalid payload hash");
		}
		snprintf(sig->payload_hash, sizeof(sig->payload_hash), "%s", payload);
	} else {
		unsigned char d[32];

		util_sha256(req->body ? req->body : "", req->body ? req->body_len : 0, d);
		util_hex(d, 32, sig->payload_hash);
	}
	chdrs_add(&h, "x-amz-date", sig->amz_date);
	if (has_token) {
		sig->token = xstrdup(creds->session_token);
		chdrs_add(&h, "x-amz-security-token", sig->token);
	}
	/* S3 always wants the header; elsewhere only a non-default payload hash is announced.
	 * A caller who sends the header itself has it signed above. */
	bool send_hash = !caller_hash && (req->s3 || req->payload_hash);
	if (send_hash)
		chdrs_add(&h, "x-amz-content-sha256", sig->payload_hash);

	compute_signature(req->method, req->path, req->query, &h, sig->payload_hash, req->s3,
	                  sig->amz_date, creds->secret_access_key, region, service, &creq, &sts,
	                  &sh, sig->signature);
	{
		char date[9];

		memcpy(date, sig->amz_date, 8);
		date[8] = '\0';
		sig->authorization = xasprintf(
		    "AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/aws4_request, SignedHeaders=%s, "
		    "Signature=%s",
		    creds->access_key_id, date, region, service, sh.data, sig->signature);
	}
	sig->canonical_request = buf_steal(&creq);
	sig->string_to_sign = buf_steal(&sts);
	buf_free(&sh);
	chdrs_free(&h);

	sig->add[sig->n_add++] = (struct sigv4_header){"X-Amz-Date", sig->amz_date};
	if (sig->token)
		sig->add[sig->n_add++] = (struct sigv4_header){"X-Amz-Security-Token", sig->token};
	if (send_hash)
		sig->add[sig->n_add++] =
		    (struct sigv4_header){"X-Amz-Content-Sha256", sig->payload_hash};
	sig->add[sig->n_add++] = (struct sigv4_header){"Authorization", sig->authorization};
	return 0;
}

void sigv4_signature_free(struct sigv4_signature *sig)
{
	if (!sig)
		return;
	free(sig->authorization);
	if (sig->token)
		OPENSSL_cleanse(sig->token, strlen(sig->token));
	free(sig->token);
	free(sig->canonical_request);
	free(sig->string_to_sign);
	memset(sig, 0, sizeof(*sig));
}

/* ---- verification ---- */

static int deny(struct lk_error *err, int status, const char *code, const char *msg)
{
	lk_error_set(err, code, "%s", msg);
	if (err)
		err->status = status;
	return -1;
}

/* Parses "YYYYMMDDTHHMMSSZ" to Unix seconds; -1 when malformed. */
static int64_t parse_amz_date(const char *s)
{
	struct tm tm = {0};

	if (!s || strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z')
		return -1;
	for (int i = 0; i < 15; i++)
		if (i != 8 && !isdigit((unsigned char)s[i]))
			return -1;
	tm.tm_year =
	    (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0') - 1900;
	tm.tm_mon = (s[4] - '0') * 10 + (s[5] - '0') - 1;
	tm.tm_mday = (s[6] - '0') * 10 + (s[7] - '0');
	tm.tm_hour = (s[9] - '0') * 10 + (s[10] - '0');
	tm.tm_min = (s[11] - '0') * 10 + (s[12] - '0');
	tm.tm_sec = (s[13] - '0') * 10 + (s[14] - '0');
	if (tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
	    tm.tm_min > 59 || tm.tm_sec > 60)
		return -1;
	return (int64_t)timegm(&tm);
}

/* Finds "key=" inside the Authorization parameters and copies its value up to ',' or end. */
static bool auth_param(const char *params, const char *key, char *out, size_t outsz)
{
	size_t klen = strlen(key);
	const char *p = params;

	while (p && *p) {
		while (*p == ' ' || *p == ',')
			p++;
		if (!strncmp(p, key, klen) && p[klen] == '=') {
			const char *v = p + klen + 1;
			size_t n = strcspn(v, ",");

			while (n && v[n - 1] == ' ')
				n--;
			if (n >= outsz)
				return false;
			memcpy(out, v, n);
			out[n] = '\0';
			return true;
		}
		p = strchr(p, ',');
	}
	return false;
}

int sigv4_verify(const struct sigv4_verify_input *in, struct sigv4_identity *who,
                 struct lk_error *err)
{
	const char *auth = in->header(in->header_ctx, "authorization");
	const char *amz_date = in->header(in->header_ctx, "x-amz-date");
	const char *content_hash = in->header(in->header_ctx, "x-amz-content-sha256");
	char credential[512], signed_list[2048], provided[128];
	char *scope[5] = {0};
	char payload[128];
	struct chdrs h = {0};
	struct buf creq = {0}, sts = {0}, sh = {0};
	char expect[65];
	const char *secret;
	int64_t now = in->now ? in->now : util_now_ms() / 1000;
	int64_t t;
	int rc = -1;

	if (!auth || !*auth)
		return deny(err, 403, "MissingAuthenticationTokenException",
		            "Missing Authentication Token");
	if (strncmp(auth, "AWS4-HMAC-SHA256 ", 17) != 0)
		return deny(err, 403, "IncompleteSignatureException",
		            "Authorization header must use AWS4-HMAC-SHA256");
	if (!auth_param(auth + 17, "Credential", credential, sizeof(credential)) ||
	    !auth_param(auth + 17, "SignedHeaders", signed_list, sizeof(signed_list)) ||
	    !auth_param(auth + 17, "Signature", provided, sizeof(provided)))
		return deny(err, 403, "IncompleteSignatureException",
		            "Authorization header requires Credential, SignedHeaders and "
		            "Signature parameters");
	/* Credential=AKID/date/region/service/aws4_request */
	{
		char *save = NULL, *tok = strtok_r(credential, "/", &save);
		int i = 0;

		for (; tok && i < 5; i++, tok = strtok_r(NULL, "/", &save))
			scope[i] = tok;
		if (i != 5 || tok || strcmp(scope[4], "aws4_request") != 0 || strlen(scope[1]) != 8)
			return deny(err, 403, "IncompleteSignatureException",
			            "Credential must have the form "
			            "ACCESSKEY/YYYYMMDD/region/service/aws4_request");
	}
	if (strlen(scope[0]) >= sizeof(who->access_key_id) || strlen(scope[2]) >= 64 ||
	    strlen(scope[3]) >= 64)
		return deny(err, 403, "IncompleteSignatureException", "Credential too long");
	/* AWS's wording; the scope names a region and service this endpoint does not serve. */
	if (in->region && strcmp(scope[2], in->region)) {
		lk_error_set(err, "InvalidSignatureException",
		             "Credential should be scoped to a valid region, not '%.63s'. This "
		             "endpoint serves region '%.63s'.",
		             scope[2], in->region);
		if (err)
			err->status = 403;
		return -1;
	}
	if (in->service && strcmp(scope[3], in->service)) {
		lk_error_set(err, "InvalidSignatureException",
		             "Credential should be scoped to correct service: '%.63s'. ",
		             in->service);
		if (err)
			err->status = 403;
		return -1;
	}
	if (!amz_date || (t = parse_amz_date(amz_date)) < 0)
		return deny(err, 403, "IncompleteSignatureException",
		            "X-Amz-Date header missing or not in the form YYYYMMDDTHHMMSSZ");
	if (strncmp(amz_date, scope[1], 8) != 0)
		return deny(err, 403, "InvalidSignatureException",
		            "Credential should be scoped to a valid date matching X-Amz-Date");
	if (t < now - SIGV4_MAX_SKEW_SECONDS || t > now + SIGV4_MAX_SKEW_SECONDS) {
		char nowbuf[17];

		format_amz_date(now, nowbuf);
		lk_error_set(err, "InvalidSignatureException",
		             "Signature expired or not yet current: request time %s, server time "
		             "%s (allowed clock skew 15 minutes)",
		             amz_date, nowbuf);
		if (err)
			err->status = 403;
		return -1;
	}
	secret = in->secret_for ? in->secret_for(in->secret_ctx, scope[0]) : NULL;
	if (!secret)
		return deny(err, 403, "UnrecognizedClientException",
		            "The security token included in the request is invalid.");

	/* Rebuild the signed headers from the request. */
	{
		char *save = NULL;
		bool has_host = false, has_date = false;

		for (char *n = strtok_r(signed_list, ";", &save); n;
		     n = strtok_r(NULL, ";", &save)) {
			const char *v = in->header(in->header_ctx, n);

			if (!v) {
				chdrs_free(&h);
				lk_error_set(err, "IncompleteSignatureException",
				             "Signed header '%.100s' is missing from the request",
				             n);
				if (err)
					err->status = 403;
				return -1;
			}
			if (!strcasecmp(n, "host"))
				has_host = true;
			if (!strcasecmp(n, "x-amz-date"))
				has_date = true;
			chdrs_add(&h, n, v);
		}
		if (!has_host || !has_date) {
			chdrs_free(&h);
			return deny(err, 403, "IncompleteSignatureException",
			            "SignedHeaders must include host and x-amz-date");
		}
	}
	for (size_t i = 0; i < in->n_header_names; i++) {
		const char *n = in->header_names[i];
		bool found = false;

		if (strncasecmp(n, "x-amz-", 6) || !strcasecmp(n, "x-amz-user-agent"))
			continue;
		for (size_t k = 0; k < h.n && !found; k++)
			found = !strcasecmp(h.v[k].name, n);
		if (!found) {
			chdrs_free(&h);
			lk_error_set(err, "InvalidSignatureException",
			             "There were headers present in the request which were not "
			             "signed: %.100s",
			             n);
			if (err)
				err->status = 403;
			return -1;
		}
	}

	if (!in->s3) {
		/* Every service but S3 signs the payload itself: the header, when sent, can only
		 * repeat the body's hash (UNSIGNED-PAYLOAD would let the body change freely). */
		unsigned char d[32];

		util_sha256(in->body ? in->body : "", in->body ? in->body_len : 0, d);
		util_hex(d, 32, payload);
		if (content_hash && strcmp(content_hash, payload)) {
			chdrs_free(&h);
			return deny(err, 403, "InvalidSignatureException",
			            "X-Amz-Content-Sha256 must be the hex SHA-256 of the payload: "
			            "this service does not accept UNSIGNED-PAYLOAD or streaming "
			            "payloads");
		}
	} else if (content_hash && *content_hash) {
		if (strlen(content_hash) >= sizeof(payload)) {
			chdrs_free(&h);
			return deny(err, 400, "InvalidArgument", "X-Amz-Content-Sha256 too long");
		}
		snprintf(payload, sizeof(payload), "%s", content_hash);
		if (strlen(content_hash) == 64 && strspn(content_hash, "0123456789abcdef") == 64) {
			unsigned char d[32];
			char hx[65];

			util_sha256(in->body ? in->body : "", in->body ? in->body_len : 0, d);
			util_hex(d, 32, hx);
			if (strcmp(hx, content_hash) != 0) {
				chdrs_free(&h);
				return deny(err, 400, "XAmzContentSHA256Mismatch",
				            "The provided 'x-amz-content-sha256' header does not "
				            "match what was computed.");
			}
		}
	} else {
		unsigned char d[32];

		util_sha256(in->body ? in->body : "", in->body ? in->body_len : 0, d);
		util_hex(d, 32, payload);
	}

	compute_signature(in->method, in->path, in->query, &h, payload, in->s3, amz_date, secret,
	                  scope[2], scope[3], &creq, &sts, &sh, expect);
	if (strlen(provided) == 64 && CRYPTO_memcmp(provided, expect, 64) == 0) {
		rc = 0;
		if (who) {
			snprintf(who->access_key_id, sizeof(who->access_key_id), "%s", scope[0]);
			snprintf(who->region, sizeof(who->region), "%s", scope[2]);
			snprintf(who->service, sizeof(who->service), "%s", scope[3]);
			snprintf(who->amz_date, sizeof(who->amz_date), "%s", amz_date);
		}
	} else {
		deny(err, 403, "InvalidSignatureException",
		     "The request signature we calculated does not match the signature you "
		     "provided. Check your AWS Secret Access Key and signing method. Consult the "
		     "service documentation for details.");
	}
	OPENSSL_cleanse(expect, sizeof(expect));
	buf_free(&creq);
	buf_free(&sts);
	buf_free(&sh);
	chdrs_free(&h);
	return rc;
}
