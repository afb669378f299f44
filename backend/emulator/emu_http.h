/* emu_http.h - the seam between the emulator's HTTP server (server.c, libmicrohttpd driven
 * from the emulator's single libuv loop) and the API handlers (lambda_api.c, runtime_api.c,
 * logs_api.c). Handlers see a parsed, already-authenticated request and fill a response, or
 * take the request over as a stream (StartLiveTail) or defer it (Invoke, invocation/next).
 * Everything runs on the loop thread. */
#ifndef LAMBDECK_EMULATOR_EMU_HTTP_H
#define LAMBDECK_EMULATOR_EMU_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "backend/util.h"

struct emulator;    /* defined in emulator.h */
struct emu_request; /* owned by the server; valid until answered */

const char *emu_request_method(const struct emu_request *req);
const char *emu_request_path(const struct emu_request *req); /* decoded, no query */
const char *emu_request_query(const struct emu_request *req, const char *key);   /* or NULL */
const char *emu_request_header(const struct emu_request *req, const char *name); /* case-insens. */
const char *emu_request_body(const struct emu_request *req, size_t *len);

/* Completes the request. Headers: NULL-terminated name/value pairs, may be NULL.
 * Takes a copy of body. Call exactly once per request (directly or later, for deferred ones). */
void emu_respond(struct emu_request *req, int status, const char *content_type,
                 const char *const *headers, const void *body, size_t len);
/* AWS JSON error: {"__type": code, "message": msg} with x-amzn-ErrorType header. */
void emu_respond_error(struct emu_request *req, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Long responses: after emu_stream_begin the request stays open; each write is sent as soon
 * as the connection can take it; on_close is called once if the client goes away (then the
 * stream must not be used after the callback returns) or after emu_stream_end. */
struct emu_stream;
struct emu_stream *emu_stream_begin(struct emu_request *req, int status, const char *content_type,
                                    void (*on_close)(void *user), void *user);
void emu_stream_write(struct emu_stream *s, const void *data, size_t len);
void emu_stream_end(struct emu_stream *s);

/* CloudWatch Logs JSON protocol handler (logs_api.c): called for POST / with an
 * X-Amz-Target of "Logs_20140328.<Operation>". */
void logs_api_handle(struct emulator *emu, struct emu_request *req, const char *operation);

#endif
