/* emu_parse.c - request parsing without a server: query strings and the Lambda API's
 * routing and FunctionName rules (see emu_parse.h). */
#include "backend/emulator/emu_parse.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/aws/sigv4.h"
#include "backend/util.h"

#define LAMBDA_REF_MAX 170

/* Decodes s[0..n) into a new string; false (and nothing allocated) when it holds a NUL. */
static bool decode_no_nul(const char *s, size_t n, bool plus_space, char **out)
{
	struct buf b = {0};

	sigv4_uri_decode(s, n, plus_space, &b);
	if (b.len && memchr(b.data, '\0', b.len)) {
		buf_free(&b);
		*out = NULL;
		return false;
	}
	*out = buf_steal(&b);
	return true;
}

long emu_query_parse(const char *raw, struct emu_kv **out)
{
	struct emu_kv *kv = NULL;
	size_t n = 0;

	*out = NULL;
	for (const char *p = raw ? raw : ""; *p;) {
		const char *amp = strchr(p, '&');
		size_t len = amp ? (size_t)(amp - p) : strlen(p);
		const char *eq = memchr(p, '=', len);

		if (len) {
			char *name, *value;

			if (!decode_no_nul(p, eq ? (size_t)(eq - p) : len, true, &name)) {
				emu_kv_free(kv, n);
				return -1;
			}
			if (!decode_no_nul(eq ? eq + 1 : "", eq ? len - (size_t)(eq + 1 - p) : 0,
			                   true, &value)) {
				free(name);
				emu_kv_free(kv, n);
				return -1;
			}
			kv = xrealloc(kv, (n + 1) * sizeof(*kv));
			kv[n].name = name;
			kv[n].value = value;
			n++;
		}
		p += len + (amp ? 1 : 0);
	}
	*out = kv;
	return (long)n;
}

void emu_kv_free(struct emu_kv *kv, size_t n)
{
	for (size_t i = 0; kv && i < n; i++) {
		free(kv[i].name);
		free(kv[i].value);
	}
	free(kv);
}

/* The Lambda REST-JSON routes: /<date>/<collection>[/<ref>[<sub>]] and the method. A sub
 * ending in a star segment takes one more path segment (r->param). */
struct route_def {
	const char *date, *coll;
	bool has_ref;
	const char *sub, *method;
	enum emu_lambda_op op;
	const char *name; /* AWS's operation name */
};

static const struct route_def routes[] = {
    {"2015-03-31", "functions", false, "", "POST", EMU_LAMBDA_CREATE, "CreateFunction"},
    {"2015-03-31", "functions", false, "", "GET", EMU_LAMBDA_LIST, "ListFunctions"},
    {"2015-03-31", "functions", true, "", "GET", EMU_LAMBDA_GET, "GetFunction"},
    {"2015-03-31", "functions", true, "", "DELETE", EMU_LAMBDA_DELETE, "DeleteFunction"},
    {"2015-03-31", "functions", true, "/configuration", "GET", EMU_LAMBDA_GET_CONFIG,
     "GetFunctionConfiguration"},
    {"2015-03-31", "functions", true, "/configuration", "PUT", EMU_LAMBDA_UPDATE_CONFIG,
     "UpdateFunctionConfiguration"},
    {"2015-03-31", "functions", true, "/code", "PUT", EMU_LAMBDA_UPDATE_CODE, "UpdateFunctionCode"},
    {"2015-03-31", "functions", true, "/invocations", "POST", EMU_LAMBDA_INVOKE, "InvokeFunction"},
    {"2015-03-31", "functions", true, "/versions", "POST", EMU_LAMBDA_PUBLISH_VERSION,
     "PublishVersion"},
    {"2015-03-31", "functions", true, "/versions", "GET", EMU_LAMBDA_LIST_VERSIONS,
     "ListVersionsByFunction"},
    {"2015-03-31", "functions", true, "/aliases", "POST", EMU_LAMBDA_CREATE_ALIAS, "CreateAlias"},
    {"2015-03-31", "functions", true, "/aliases", "GET", EMU_LAMBDA_LIST_ALIASES, "ListAliases"},
    {"2015-03-31", "functions", true, "/aliases/*", "GET", EMU_LAMBDA_GET_ALIAS, "GetAlias"},
    {"2015-03-31", "functions", true, "/aliases/*", "PUT", EMU_LAMBDA_UPDATE_ALIAS, "UpdateAlias"},
    {"2015-03-31", "functions", true, "/aliases/*", "DELETE", EMU_LAMBDA_DELETE_ALIAS,
     "DeleteAlias"},
    {"2015-03-31", "functions", true, "/policy", "GET", EMU_LAMBDA_GET_POLICY, "GetPolicy"},
    {"2015-03-31", "functions", true, "/policy", "POST", EMU_LAMBDA_ADD_PERMISSION,
     "AddPermission"},
    {"2015-03-31", "functions", true, "/policy/*", "DELETE", EMU_LAMBDA_REMOVE_PERMISSION,
     "RemovePermission"},
    {"2017-10-31", "functions", true, "/concurrency", "PUT", EMU_LAMBDA_PUT_CONCURRENCY,
     "PutFunctionConcurrency"},
    {"2017-10-31", "functions", true, "/concurrency", "DELETE", EMU_LAMBDA_DELETE_CONCURRENCY,
     "DeleteFunctionConcurrency"},
    {"2019-09-30", "functions", true, "/concurrency", "GET", EMU_LAMBDA_GET_CONCURRENCY,
     "GetFunctionConcurrency"},
    {"2020-06-30", "functions", true, "/code-signing-config", "GET", EMU_LAMBDA_GET_CODE_SIGNING,
     "GetFunctionCodeSigningConfig"},
    {"2021-10-31", "functions", true, "/url", "GET", EMU_LAMBDA_GET_URL_CONFIG,
     "GetFunctionUrlConfig"},
    {"2017-03-31", "tags", true, "", "POST", EMU_LAMBDA_TAG, "TagResource"},
    {"2017-03-31", "tags", true, "", "GET", EMU_LAMBDA_LIST_TAGS, "ListTags"},
    {"2017-03-31", "tags", true, "", "DELETE", EMU_LAMBDA_UNTAG, "UntagResource"},
    {"2016-08-19", "account-settings", false, "", "GET", EMU_LAMBDA_ACCOUNT_SETTINGS,
     "GetAccountSettings"},
    {"2015-03-31", "event-source-mappings", false, "", "GET", EMU_LAMBDA_LIST_EVENT_SOURCES,
     "ListEventSourceMappings"},
};

const char *emu_lambda_op_name(enum emu_lambda_op op)
{
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (routes[i].op == op)
			return routes[i].name;
	return "";
}

bool emu_lambda_valid_ref(const char *ref, size_t len)
{
	/* EMU_LAMBDA_NAME_PATTERN in POSIX ERE (\d as [0-9], '-' last in brackets). */
	static const char ere[] =
	    "^(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso(b?)))?-[a-z]+-[0-9]:)?"
	    "([0-9]{12}:)?(function:)?([a-zA-Z0-9_.-]+)(:(\\$LATEST|[a-zA-Z0-9_-]+))?$";
	static regex_t re;
	static int compiled; /* 0 not yet, 1 ok, -1 failed */
	char *s;
	bool ok;

	if (!ref || len == 0 || len > LAMBDA_REF_MAX || memchr(ref, '\0', len))
		return false;
	if (!compiled)
		compiled = regcomp(&re, ere, REG_EXTENDED | REG_NOSUB) == 0 ? 1 : -1;
	if (compiled < 0)
		lk_fatal("cannot compile the Lambda function name pattern");
	s = xstrndup(ref, len);
	ok = regexec(&re, s, 0, NULL, 0) == 0;
	free(s);
	return ok;
}

/* "Value '...'" of a ValidationException: printable ASCII only, bounded. */
static void quote_value(const char *s, size_t n, char *out, size_t outsz)
{
	size_t o = 0;

	for (size_t i = 0; i < n && o + 4 < outsz; i++) {
		unsigned char c = (unsigned char)s[i];

		out[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	if (n && o + 4 >= outsz)
		out[o - 3] = out[o - 2] = out[o - 1] = '.';
	out[o] = '\0';
}

static int route_fail(struct emu_lambda_route *r, int status, const char *code, const char *msg)
{
	free(r->ref);
	free(r->param);
	r->ref = r->param = NULL;
	r->op = EMU_LAMBDA_NONE;
	r->status = status;
	r->code = code;
	snprintf(r->message, sizeof(r->message), "%s", msg);
	return -1;
}

/* ValidationException for a FunctionName path parameter (decoded bytes s[0..n)). */
static int bad_name(struct emu_lambda_route *r, const char *s, size_t n)
{
	char v[200], msg[512];
	const char *why =
	    n == 0 ? "Member must have length greater than or equal to 1"
	    : n > LAMBDA_REF_MAX
	        ? "Member must have length less than or equal to 170"
	        : "Member must satisfy regular expression pattern: " EMU_LAMBDA_NAME_PATTERN;

	quote_value(s, n, v, sizeof(v));
	snprintf(msg, sizeof(msg),
	         "1 validation error detected: Value '%s' at 'functionName' failed to satisfy "
	         "constraint: %s",
	         v, why);
	return route_fail(r, 400, "ValidationException", msg);
}

static int wrong_method(struct emu_lambda_route *r, const char *method)
{
	char msg[256];

	snprintf(msg, sizeof(msg), "%.16s is not allowed on this resource", method);
	return route_fail(r, 405, "UnknownOperationException", msg);
}

/* Next raw segment of *p (after a '/'): sets seg/len and advances; false at the end. */
static bool next_segment(const char **p, const char **seg, size_t *len)
{
	if (**p != '/')
		return false;
	*seg = *p + 1;
	*len = strcspn(*seg, "/");
	*p = *seg + *len;
	return true;
}

/* Does the rest of the path (after the ref) match sub? Sets *param for a star sub. */
static bool sub_matches(const char *rest, const char *sub, const char **param, size_t *plen)
{
	size_t n = strlen(sub);

	*param = NULL;
	if (n >= 2 && !strcmp(sub + n - 2, "/*")) {
		if (strncmp(rest, sub, n - 1))
			return false;
		*param = rest + n - 1;
		*plen = strcspn(*param, "/");
		return *plen > 0 && (!(*param)[*plen] || !strcmp(*param + *plen, "/"));
	}
	return !strncmp(rest, sub, n) && (!rest[n] || !strcmp(rest + n, "/"));
}

int emu_lambda_route(const char *method, const char *raw_path, struct emu_lambda_route *r)
{
	const char *p = raw_path, *date, *coll, *ref = NULL, *param = NULL, *param_at = NULL;
	size_t date_len, coll_len, ref_len = 0, plen = 0, param_len = 0;
	bool path_known = false;
	const struct route_def *hit = NULL;

	memset(r, 0, sizeof(*r));
	if (!method || !raw_path || !next_segment(&p, &date, &date_len) ||
	    !next_segment(&p, &coll, &coll_len))
		return route_fail(r, 404, "UnknownOperationException", "no such operation");
	if (next_segment(&p, &ref, &ref_len) && ref_len == 0 && !*p)
		ref = NULL; /* "/functions/" lists */
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		const struct route_def *d = &routes[i];

		if (strlen(d->date) != date_len || strncmp(d->date, date, date_len) ||
		    strlen(d->coll) != coll_len || strncmp(d->coll, coll, coll_len) ||
		    d->has_ref != (ref != NULL))
			continue;
		if (ref && !sub_matches(p, d->sub, &param, &plen))
			continue;
		path_known = true;
		if (!strcmp(d->method, method)) {
			hit = d;
			param_at = param;
			param_len = plen;
			break;
		}
	}
	if (!hit)
		return path_known
		           ? wrong_method(r, method)
		           : route_fail(r, 404, "UnknownOperationException", "no such operation");
	if (ref) {
		/* The name is one raw segment: an encoded '/' or NUL inside it is part of the
		 * name (and makes it invalid), never a separator or an end. */
		struct buf name = {0};

		sigv4_uri_decode(ref, ref_len, false, &name);
		if (!emu_lambda_valid_ref(name.data, name.len)) {
			bad_name(r, name.data ? name.data : "", name.len);
			buf_free(&name);
			return -1;
		}
		r->ref = buf_steal(&name);
	}
	if (param_at && !decode_no_nul(param_at, param_len, false, &r->param))
		return route_fail(r, 400, "ValidationException",
		                  "a path parameter holds a NUL byte");
	r->op = hit->op;
	return 0;
}

void emu_lambda_route_free(struct emu_lambda_route *r)
{
	if (!r)
		return;
	free(r->ref);
	free(r->param);
	r->ref = NULL;
	r->param = NULL;
}
