/* eventstream.h - the AWS event-stream binary framing (application/vnd.amazon.eventstream),
 * used by StartLiveTail: an encoder (the emulator's side) and an incremental decoder (the
 * client's side, fed with whatever chunks the socket delivers).
 *
 * Frame: total length (u32 BE), headers length (u32 BE), prelude CRC32 (of those 8 bytes),
 * headers, payload, message CRC32 (of everything before it); CRC32 is zlib's.
 * Header: name length (u8), name, value type (u8), value (see enum eventstream_type).
 *
 * Decoder call order: eventstream_decoder_new, eventstream_decoder_feed (any number of
 * times, any chunk sizes; the callback fires once per complete message, in order),
 * eventstream_decoder_free. After an error the decoder stays failed: the byte stream can no
 * longer be trusted to be in sync. */
#ifndef LAMBDECK_AWS_EVENTSTREAM_H
#define LAMBDECK_AWS_EVENTSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/util.h"

enum eventstream_type {
	EVENTSTREAM_BOOL_TRUE = 0,
	EVENTSTREAM_BOOL_FALSE = 1,
	EVENTSTREAM_BYTE = 2,
	EVENTSTREAM_SHORT = 3,
	EVENTSTREAM_INT = 4,
	EVENTSTREAM_LONG = 5,
	EVENTSTREAM_BYTES = 6,
	EVENTSTREAM_STRING = 7,
	EVENTSTREAM_TIMESTAMP = 8, /* ms since epoch, i64 */
	EVENTSTREAM_UUID = 9,      /* 16 bytes */
};

/* Limits (the service's): a message is at most 16 MiB, its headers at most 128 KiB. */
#define EVENTSTREAM_MAX_MESSAGE (16u * 1024 * 1024)
#define EVENTSTREAM_MAX_HEADERS (128u * 1024)
#define EVENTSTREAM_MIN_MESSAGE 16u

struct eventstream_header {
	const char *name; /* not NUL-terminated: name_len bytes */
	size_t name_len;
	enum eventstream_type type;
	const unsigned char *bytes; /* BYTES, STRING (not NUL-terminated), UUID (16 bytes) */
	size_t len;
	int64_t integer; /* BYTE/SHORT/INT/LONG/TIMESTAMP value; 1/0 for the booleans */
};

/* A decoded message; all pointers valid only during the callback. */
struct eventstream_message {
	const struct eventstream_header *headers;
	size_t n_headers;
	const unsigned char *payload;
	size_t payload_len;
};

/* Returns the header's string value (STRING type) as a fresh NUL-terminated copy the caller
 * frees, or NULL when absent / of another type. */
char *eventstream_header_string(const struct eventstream_message *m, const char *name);

/* --- Encoder --- */

/* A header to encode; for STRING/BYTES set bytes+len, for integers integer, for UUID bytes
 * (16), for booleans only the type. */
struct eventstream_out_header {
	const char *name;
	enum eventstream_type type;
	const void *bytes;
	size_t len;
	int64_t integer;
};

/* Appends one framed message to out. Fails (-1, err set, out unchanged) on a name longer
 * than 255 bytes, a string/bytes value over 32767 bytes, or a message over the limits. */
int eventstream_encode(struct buf *out, const struct eventstream_out_header *headers,
                       size_t n_headers, const void *payload, size_t payload_len,
                       struct lk_error *err);

/* Convenience: a message with the three string headers StartLiveTail uses
 * (:message-type, :event-type / :exception-type, :content-type application/json). */
int eventstream_encode_json_event(struct buf *out, const char *message_type, const char *event_type,
                                  const char *json, size_t json_len, struct lk_error *err);

/* --- Decoder --- */

struct eventstream_decoder;
/* Returns 0 to continue, non-zero to stop decoding (feed then returns that value). */
typedef int (*eventstream_message_fn)(void *user, const struct eventstream_message *m);

/* max_message: largest message accepted, 0 = EVENTSTREAM_MAX_MESSAGE. */
struct eventstream_decoder *eventstream_decoder_new(size_t max_message);
void eventstream_decoder_free(struct eventstream_decoder *d); /* accepts NULL */

/* Feeds bytes. Returns 0 when all were consumed (a partial message is kept for the next
 * call), -1 with err set (code "EventStreamError") on a corrupt, oversized or malformed
 * message, or the callback's non-zero value. */
int eventstream_decoder_feed(struct eventstream_decoder *d, const void *data, size_t len,
                             eventstream_message_fn fn, void *user, struct lk_error *err);
/* True when bytes of an unfinished message are buffered (a stream ending now is truncated). */
bool eventstream_decoder_pending(const struct eventstream_decoder *d);

/* Decodes exactly one whole message from data (len must be its total length). For tests
 * and the fuzzer; the callback gets it. Returns 0 or -1 with err set. */
int eventstream_decode_one(const void *data, size_t len, eventstream_message_fn fn, void *user,
                           struct lk_error *err);

#endif
