/* eventstream.c - AWS event-stream framing: encoder and incremental decoder (see
 * eventstream.h). Every length read from the wire is checked against what is actually
 * there before it is used. */
#include "backend/aws/eventstream.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define PRELUDE_LEN 12

static uint32_t rd32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void wr32(unsigned char *p, uint32_t v)
{
	p[0] = v >> 24, p[1] = (v >> 16) & 0xff, p[2] = (v >> 8) & 0xff, p[3] = v & 0xff;
}

static uint32_t crc(const void *data, size_t len)
{
	return (uint32_t)crc32(crc32(0L, Z_NULL, 0), data, (uInt)len);
}

char *eventstream_header_string(const struct eventstream_message *m, const char *name)
{
	size_t nl = strlen(name);
	for (size_t i = 0; i < m->n_headers; i++) {
		const struct eventstream_header *h = &m->headers[i];
		if (h->name_len == nl && !memcmp(h->name, name, nl))
			return h->type == EVENTSTREAM_STRING
			           ? xstrndup((const char *)h->bytes, h->len)
			           : NULL;
	}
	return NULL;
}

/* Size of a header's value on the wire, or -1 for an unknown type. */
static long value_size(enum eventstream_type t, size_t len)
{
	switch (t) {
	case EVENTSTREAM_BOOL_TRUE:
	case EVENTSTREAM_BOOL_FALSE:
		return 0;
	case EVENTSTREAM_BYTE:
		return 1;
	case EVENTSTREAM_SHORT:
		return 2;
	case EVENTSTREAM_INT:
		return 4;
	case EVENTSTREAM_LONG:
	case EVENTSTREAM_TIMESTAMP:
		return 8;
	case EVENTSTREAM_BYTES:
	case EVENTSTREAM_STRING:
		return 2 + (long)len;
	case EVENTSTREAM_UUID:
		return 16;
	}
	return -1;
}

int eventstream_encode(struct buf *out, const struct eventstream_out_header *headers,
                       size_t n_headers, const void *payload, size_t payload_len,
                       struct lk_error *err)
{
	size_t hlen = 0;
	for (size_t i = 0; i < n_headers; i++) {
		const struct eventstream_out_header *h = &headers[i];
		size_t nl = strlen(h->name);
		if (nl == 0 || nl > 255)
			return lk_error_set(err, "EventStreamError",
			                    "header name must be 1..255 bytes (got %zu)", nl);
		if ((h->type == EVENTSTREAM_STRING || h->type == EVENTSTREAM_BYTES) &&
		    h->len > 32767)
			return lk_error_set(err, "EventStreamError",
			                    "header %s: value of %zu bytes exceeds 32767", h->name,
			                    h->len);
		long vs = value_size(h->type, h->len);
		if (vs < 0)
			return lk_error_set(err, "EventStreamError", "header %s: unknown type %d",
			                    h->name, (int)h->type);
		hlen += 1 + nl + 1 + (size_t)vs;
	}
	if (hlen > EVENTSTREAM_MAX_HEADERS)
		return lk_error_set(err, "EventStreamError", "headers of %zu bytes exceed %u", hlen,
		                    EVENTSTREAM_MAX_HEADERS);
	size_t total = PRELUDE_LEN + hlen + payload_len + 4;
	if (payload_len > EVENTSTREAM_MAX_MESSAGE || total > EVENTSTREAM_MAX_MESSAGE)
		return lk_error_set(err, "EventStreamError", "message of %zu bytes exceeds %u",
		                    total, EVENTSTREAM_MAX_MESSAGE);
	size_t at = out->len;
	buf_reserve(out, total);
	unsigned char *p = (unsigned char *)out->data + at;
	wr32(p, (uint32_t)total);
	wr32(p + 4, (uint32_t)hlen);
	wr32(p + 8, crc(p, 8));
	unsigned char *q = p + PRELUDE_LEN;
	for (size_t i = 0; i < n_headers; i++) {
		const struct eventstream_out_header *h = &headers[i];
		size_t nl = strlen(h->name);
		*q++ = (unsigned char)nl;
		memcpy(q, h->name, nl);
		q += nl;
		*q++ = (unsigned char)h->type;
		uint64_t v = (uint64_t)h->integer;
		switch (h->type) {
		case EVENTSTREAM_BOOL_TRUE:
		case EVENTSTREAM_BOOL_FALSE:
			break;
		case EVENTSTREAM_BYTE:
			*q++ = (unsigned char)v;
			break;
		case EVENTSTREAM_SHORT:
			*q++ = (v >> 8) & 0xff, *q++ = v & 0xff;
			break;
		case EVENTSTREAM_INT:
			wr32(q, (uint32_t)v);
			q += 4;
			break;
		case EVENTSTREAM_LONG:
		case EVENTSTREAM_TIMESTAMP:
			wr32(q, (uint32_t)(v >> 32));
			wr32(q + 4, (uint32_t)v);
			q += 8;
			break;
		case EVENTSTREAM_BYTES:
		case EVENTSTREAM_STRING:
			*q++ = (h->len >> 8) & 0xff, *q++ = h->len & 0xff;
			if (h->len)
				memcpy(q, h->bytes, h->len);
			q += h->len;
			break;
		case EVENTSTREAM_UUID:
			memcpy(q, h->bytes, 16);
			q += 16;
			break;
		}
	}
	if (payload_len)
		memcpy(q, payload, payload_len);
	q += payload_len;
	wr32(q, crc(p, total - 4));
	out->len += total;
	out->data[out->len] = 0;
	return 0;
}

int eventstream_encode_json_event(struct buf *out, const char *message_type, const char *event_type,
                                  const char *json, size_t json_len, struct lk_error *err)
{
	bool exception = !strcmp(message_type, "exception");
	const struct eventstream_out_header h[] = {
	    {.name = ":message-type",
	     .type = EVENTSTREAM_STRING,
	     .bytes = message_type,
	     .len = strlen(message_type)},
	    {.name = exception ? ":exception-type" : ":event-type",
	     .type = EVENTSTREAM_STRING,
	     .bytes = event_type,
	     .len = strlen(event_type)},
	    {.name = ":content-type",
	     .type = EVENTSTREAM_STRING,
	     .bytes = "application/json",
	     .len = strlen("application/json")},
	};
	return eventstream_encode(out, h, 3, json, json_len, err);
}

/* Parses the headers region into *hs (grown as needed). Returns count or -1. */
static long parse_headers(const unsigned char *p, size_t len, struct eventstream_header **hs,
                          size_t *cap, struct lk_error *err)
{
	size_t n = 0, off = 0;
	while (off < len) {
		size_t nl = p[off++];
		if (nl == 0 || nl > len - off)
			return lk_error_set(err, "EventStreamError",
			                    "header name length %zu overruns the headers", nl);
		const char *name = (const char *)p + off;
		off += nl;
		if (off >= len)
			return lk_error_set(err, "EventStreamError", "header %.*s has no type",
			                    (int)nl, name);
		unsigned type = p[off++];
		struct eventstream_header h = {
		    .name = name, .name_len = nl, .type = (enum eventstream_type)type};
		size_t avail = len - off;
		size_t need;
		switch (type) {
		case EVENTSTREAM_BOOL_TRUE:
		case EVENTSTREAM_BOOL_FALSE:
			need = 0;
			h.integer = type == EVENTSTREAM_BOOL_TRUE;
			break;
		case EVENTSTREAM_BYTE:
			need = 1;
			break;
		case EVENTSTREAM_SHORT:
			need = 2;
			break;
		case EVENTSTREAM_INT:
			need = 4;
			break;
		case EVENTSTREAM_LONG:
		case EVENTSTREAM_TIMESTAMP:
			need = 8;
			break;
		case EVENTSTREAM_BYTES:
		case EVENTSTREAM_STRING:
			if (avail < 2)
				return lk_error_set(err, "EventStreamError",
				                    "header %.*s: truncated length", (int)nl, name);
			h.len = (size_t)p[off] << 8 | p[off + 1];
			off += 2;
			avail -= 2;
			need = h.len;
			h.bytes = p + off;
			break;
		case EVENTSTREAM_UUID:
			need = 16;
			h.bytes = p + off;
			h.len = 16;
			break;
		default:
			return lk_error_set(err, "EventStreamError", "header %.*s: unknown type %u",
			                    (int)nl, name, type);
		}
		if (need > avail)
			return lk_error_set(err, "EventStreamError",
			                    "header %.*s: value overruns the headers", (int)nl,
			                    name);
		const unsigned char *v = p + off;
		switch (type) {
		case EVENTSTREAM_BYTE:
			h.integer = (int8_t)v[0];
			break;
		case EVENTSTREAM_SHORT:
			h.integer = (int16_t)(uint16_t)(v[0] << 8 | v[1]);
			break;
		case EVENTSTREAM_INT:
			h.integer = (int32_t)rd32(v);
			break;
		case EVENTSTREAM_LONG:
		case EVENTSTREAM_TIMESTAMP:
			h.integer = (int64_t)((uint64_t)rd32(v) << 32 | rd32(v + 4));
			break;
		default:
			break;
		}
		off += need;
		if (n == *cap) {
			*cap = *cap ? *cap * 2 : 8;
			*hs = xrealloc(*hs, *cap * sizeof(**hs));
		}
		(*hs)[n++] = h;
	}
	return (long)n;
}

/* Validates a prelude; returns the total length or 0 with err set. */
static size_t check_prelude(const unsigned char *p, size_t max, struct lk_error *err)
{
	uint32_t total = rd32(p), hlen = rd32(p + 4);
	if (crc(p, 8) != rd32(p + 8)) {
		lk_error_set(err, "EventStreamError", "prelude CRC mismatch");
		return 0;
	}
	if (total < EVENTSTREAM_MIN_MESSAGE || total > max) {
		lk_error_set(err, "EventStreamError", "message length %u outside %u..%zu", total,
		             EVENTSTREAM_MIN_MESSAGE, max);
		return 0;
	}
	if (hlen > total - EVENTSTREAM_MIN_MESSAGE || hlen > EVENTSTREAM_MAX_HEADERS) {
		lk_error_set(err, "EventStreamError", "headers length %u does not fit message %u",
		             hlen, total);
		return 0;
	}
	return total;
}

/* Decodes one complete message whose prelude was already checked. */
static int decode_message(const unsigned char *p, size_t total, struct eventstream_header **hs,
                          size_t *cap, eventstream_message_fn fn, void *user, struct lk_error *err)
{
	if (crc(p, total - 4) != rd32(p + total - 4))
		return lk_error_set(err, "EventStreamError", "message CRC mismatch");
	size_t hlen = rd32(p + 4);
	long n = parse_headers(p + PRELUDE_LEN, hlen, hs, cap, err);
	if (n < 0)
		return -1;
	struct eventstream_message m = {.headers = *hs,
	                                .n_headers = (size_t)n,
	                                .payload = p + PRELUDE_LEN + hlen,
	                                .payload_len = total - PRELUDE_LEN - hlen - 4};
	return fn ? fn(user, &m) : 0;
}

int eventstream_decode_one(const void *data, size_t len, eventstream_message_fn fn, void *user,
                           struct lk_error *err)
{
	if (len < PRELUDE_LEN)
		return lk_error_set(err, "EventStreamError", "truncated prelude (%zu bytes)", len);
	size_t total = check_prelude(data, EVENTSTREAM_MAX_MESSAGE, err);
	if (!total)
		return -1;
	if (total != len)
		return lk_error_set(err, "EventStreamError",
		                    "message length %zu but %zu bytes given", total, len);
	struct eventstream_header *hs = NULL;
	size_t cap = 0;
	int rc = decode_message(data, total, &hs, &cap, fn, user, err);
	free(hs);
	return rc;
}

struct eventstream_decoder {
	size_t max;
	struct buf pending; /* bytes of the current, incomplete message */
	size_t want;        /* its total length once the prelude is in, else 0 */
	bool failed;
	struct eventstream_header *hs;
	size_t cap;
};

struct eventstream_decoder *eventstream_decoder_new(size_t max_message)
{
	struct eventstream_decoder *d = xcalloc(1, sizeof(*d));
	d->max = max_message && max_message < EVENTSTREAM_MAX_MESSAGE ? max_message
	                                                              : EVENTSTREAM_MAX_MESSAGE;
	return d;
}

void eventstream_decoder_free(struct eventstream_decoder *d)
{
	if (!d)
		return;
	buf_free(&d->pending);
	free(d->hs);
	free(d);
}

bool eventstream_decoder_pending(const struct eventstream_decoder *d)
{
	return d && d->pending.len > 0;
}

static int fail(struct eventstream_decoder *d)
{
	d->failed = true;
	buf_free(&d->pending);
	d->want = 0;
	return -1;
}

int eventstream_decoder_feed(struct eventstream_decoder *d, const void *data, size_t len,
                             eventstream_message_fn fn, void *user, struct lk_error *err)
{
	if (d->failed)
		return lk_error_set(err, "EventStreamError",
		                    "decoder stopped after an earlier error");
	const unsigned char *p = data;
	while (len > 0) {
		if (d->pending.len == 0 && len >= PRELUDE_LEN) {
			/* fast path: decode straight from the caller's bytes */
			size_t total = check_prelude(p, d->max, err);
			if (!total)
				return fail(d);
			if (total <= len) {
				int rc = decode_message(p, total, &d->hs, &d->cap, fn, user, err);
				if (rc < 0)
					return fail(d);
				p += total;
				len -= total;
				if (rc)
					return rc;
				continue;
			}
			d->want = total;
		}
		if (d->want == 0) {
			size_t take = PRELUDE_LEN - d->pending.len;
			if (take > len)
				take = len;
			buf_append(&d->pending, p, take);
			p += take;
			len -= take;
			if (d->pending.len < PRELUDE_LEN)
				break;
			d->want =
			    check_prelude((const unsigned char *)d->pending.data, d->max, err);
			if (!d->want)
				return fail(d);
		}
		size_t take = d->want - d->pending.len;
		if (take > len)
			take = len;
		buf_append(&d->pending, p, take);
		p += take;
		len -= take;
		if (d->pending.len < d->want)
			break;
		int rc = decode_message((const unsigned char *)d->pending.data, d->want, &d->hs,
		                        &d->cap, fn, user, err);
		buf_reset(&d->pending);
		d->want = 0;
		if (rc < 0)
			return fail(d);
		if (rc)
			return rc;
	}
	return 0;
}
