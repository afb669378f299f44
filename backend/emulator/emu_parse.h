/* emu_parse.h - the emulator's request parsing that needs no server and no loop: query
 * strings, header limits and the Lambda API's routing and function-name rules. server.c and
 * lambda_api.c use it; tests/fuzz/fuzz_emu_request.c fuzzes it without a server. All
 * functions work on the bytes as received (still percent-encoded) and are pure. */
#ifndef LAMBDECK_EMULATOR_EMU_PARSE_H
#define LAMBDECK_EMULATOR_EMU_PARSE_H

#include <stdbool.h>
#include <stddef.h>

/* Limits of the API's request head, answered in AWS's JSON form (414 / 431) before
 * libmicrohttpd's own, larger limit (its HTML error pages) is reached. */
#define EMU_MAX_URI_BYTES    16384
#define EMU_MAX_HEADER_BYTES 32768

struct emu_kv {
	char *name;
	char *value;
};

/* Splits a raw query string (after '?') into percent-decoded pairs ('+' is a space; a pair
 * without '=' has the value ""). Returns the count and sets *out (free with emu_kv_free),
 * or -1 (and *out NULL) when a decoded name or value would contain a NUL byte. */
long emu_query_parse(const char *raw, struct emu_kv **out);
void emu_kv_free(struct emu_kv *kv, size_t n);

/* Lambda API operations on /2015-03-31/functions. */
enum emu_lambda_op {
	EMU_LAMBDA_NONE,
	EMU_LAMBDA_CREATE,
	EMU_LAMBDA_LIST,
	EMU_LAMBDA_GET,
	EMU_LAMBDA_DELETE,
	EMU_LAMBDA_GET_CONFIG,
	EMU_LAMBDA_UPDATE_CONFIG,
	EMU_LAMBDA_UPDATE_CODE,
	EMU_LAMBDA_INVOKE,
};

/* Where a Lambda request goes. On failure status/code/message say what to answer. */
struct emu_lambda_route {
	enum emu_lambda_op op;
	char *ref; /* decoded FunctionName path parameter (name, partial ARN or ARN), or NULL */
	int status;
	const char *code;
	char message[512];
};

/* AWS's pattern for a FunctionName path parameter, as its ValidationException quotes it. */
#define EMU_LAMBDA_NAME_PATTERN                                                                    \
	"(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso(b?)))?-[a-z]+-\\d{1}:)?(\\d{12}:)?" \
	"(function:)?([a-zA-Z0-9-_\\.]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?"

/* Routes method + raw path (as on the wire, no query). Returns 0 with r->op (and r->ref for
 * per-function operations), or -1 with r->status/code/message (unknown path 404, wrong
 * method 405, a FunctionName AWS refuses 400 ValidationException: bytes outside its pattern,
 * an encoded NUL or '/', over 170 bytes). Free r->ref with emu_lambda_route_free. */
int emu_lambda_route(const char *method, const char *raw_path, struct emu_lambda_route *r);
void emu_lambda_route_free(struct emu_lambda_route *r);
/* AWS's operation name ("CreateFunction", "InvokeFunction"...), "" for EMU_LAMBDA_NONE. */
const char *emu_lambda_op_name(enum emu_lambda_op op);
/* True when the len bytes of ref match EMU_LAMBDA_NAME_PATTERN's alphabet and length. */
bool emu_lambda_valid_ref(const char *ref, size_t len);

#endif
