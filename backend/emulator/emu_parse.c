/* emu_parse.c - request parsing without a server: query strings and the Lambda API's
 * routing and FunctionName rules (see emu_parse.h). */
#include "backend/emulator/emu_parse.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/aws/sigv4.h"
#include "backend/util.h"

#define LAMBDA_PREFIX  "/2015-03-31/functions"
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

const char *emu_lambda_op_name(enum emu_lambda_op op)
{
	switch (op) {
	case EMU_LAMBDA_CREATE:
		return "CreateFunction";
	case EMU_LAMBDA_LIST:
		return "ListFunctions";
	case EMU_LAMBDA_GET:
		return "GetFunction";
	case EMU_LAMBDA_DELETE:
		return "DeleteFunction";
	case EMU_LAMBDA_GET_CONFIG:
		return "GetFunctionConfiguration";
	case EMU_LAMBDA_UPDATE_CONFIG:
		return "UpdateFunctionConfiguration";
	case EMU_LAMBDA_UPDATE_CODE:
		return "UpdateFunctionCode";
	case EMU_LAMBDA_INVOKE:
		return "InvokeFunction";
	case EMU_LAMBDA_NONE:
		break;
	}
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
	r->ref = NULL;
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

int emu_lambda_route(const char *method, const char *raw_path, struct emu_lambda_route *r)
{
	const char *rest, *seg_end, *sub;
	struct buf name = {0};

	memset(r, 0, sizeof(*r));
	if (!method || !raw_path || strncmp(raw_path, LAMBDA_PREFIX, strlen(LAMBDA_PREFIX)))
		return route_fail(r, 404, "UnknownOperationException", "no such operation");
	rest = raw_path + strlen(LAMBDA_PREFIX);
	if (!*rest || !strcmp(rest, "/")) {
		if (!strcmp(method, "POST"))
			r->op = EMU_LAMBDA_CREATE;
		else if (!strcmp(method, "GET"))
			r->op = EMU_LAMBDA_LIST;
		else
			return wrong_method(r, method);
		return 0;
	}
	if (*rest != '/')
		return route_fail(r, 404, "UnknownOperationException", "no such operation");
	rest++;
	seg_end = strchr(rest, '/');
	sub = seg_end ? seg_end : "";
	if (!seg_end)
		seg_end = rest + strlen(rest);
	/* The name is one raw segment: an encoded '/' or NUL inside it is part of the name
	 * (and makes it invalid), never a separator or an end. */
	sigv4_uri_decode(rest, (size_t)(seg_end - rest), false, &name);
	if (!emu_lambda_valid_ref(name.data, name.len)) {
		bad_name(r, name.data ? name.data : "", name.len);
		buf_free(&name);
		return -1;
	}
	r->ref = buf_steal(&name);
	if (!strcmp(sub, "") || !strcmp(sub, "/")) {
		if (!strcmp(method, "GET"))
			r->op = EMU_LAMBDA_GET;
		else if (!strcmp(method, "DELETE"))
			r->op = EMU_LAMBDA_DELETE;
		else
			return wrong_method(r, method);
	} else if (!strcmp(sub, "/configuration") || !strcmp(sub, "/configuration/")) {
		if (!strcmp(method, "GET"))
			r->op = EMU_LAMBDA_GET_CONFIG;
		else if (!strcmp(method, "PUT"))
			r->op = EMU_LAMBDA_UPDATE_CONFIG;
		else
			return wrong_method(r, method);
	} else if (!strcmp(sub, "/code") || !strcmp(sub, "/code/")) {
		if (strcmp(method, "PUT"))
			return wrong_method(r, method);
		r->op = EMU_LAMBDA_UPDATE_CODE;
	} else if (!strcmp(sub, "/invocations") || !strcmp(sub, "/invocations/")) {
		if (strcmp(method, "POST"))
			return wrong_method(r, method);
		r->op = EMU_LAMBDA_INVOKE;
	} else {
		return route_fail(r, 404, "UnknownOperationException", "no such operation");
	}
	return 0;
}

void emu_lambda_route_free(struct emu_lambda_route *r)
{
	if (!r)
		return;
	free(r->ref);
	r->ref = NULL;
}
