/* libFuzzer target for the event-stream decoder: arbitrary bytes, fed whole and in
 * chunks whose sizes come from the input itself, must never crash, leak or read out of
 * bounds; whole messages that decode must re-encode to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backend/aws/eventstream.h"

struct ctx {
	size_t messages;
};

static int count(void *user, const struct eventstream_message *m)
{
	struct ctx *c = user;
	c->messages++;
	/* touch every byte the decoder hands out */
	volatile unsigned sum = 0;
	for (size_t i = 0; i < m->n_headers; i++) {
		for (size_t j = 0; j < m->headers[i].name_len; j++)
			sum += (unsigned char)m->headers[i].name[j];
		for (size_t j = 0; j < m->headers[i].len; j++)
			sum += m->headers[i].bytes[j];
	}
	for (size_t i = 0; i < m->payload_len; i++)
		sum += m->payload[i];
	char *s = eventstream_header_string(m, ":event-type");
	free(s);
	return 0;
}

/* Re-encodes a decoded message; must reproduce the input exactly. */
static int reencode(void *user, const struct eventstream_message *m)
{
	struct buf *out = user;
	struct eventstream_out_header *h = calloc(m->n_headers + 1, sizeof(*h));
	char **names = calloc(m->n_headers + 1, sizeof(*names));
	for (size_t i = 0; i < m->n_headers; i++) {
		names[i] = strndup(m->headers[i].name, m->headers[i].name_len);
		h[i] = (struct eventstream_out_header){.name = names[i],
		                                       .type = m->headers[i].type,
		                                       .bytes = m->headers[i].bytes,
		                                       .len = m->headers[i].len,
		                                       .integer = m->headers[i].integer};
	}
	struct lk_error err;
	int rc = eventstream_encode(out, h, m->n_headers, m->payload, m->payload_len, &err);
	for (size_t i = 0; i < m->n_headers; i++)
		free(names[i]);
	free(names);
	free(h);
	return rc == 0 ? 0 : 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lk_error err;
	struct ctx c = {0};
	struct eventstream_decoder *d = eventstream_decoder_new(1 << 20);
	eventstream_decoder_feed(d, data, size, count, &c, &err);
	eventstream_decoder_free(d);

	/* chunked: first byte picks the chunk size */
	if (size > 1) {
		size_t chunk = (size_t)data[0] % 17 + 1;
		struct ctx c2 = {0};
		d = eventstream_decoder_new(1 << 20);
		for (size_t off = 1; off < size; off += chunk) {
			size_t n = size - off < chunk ? size - off : chunk;
			if (eventstream_decoder_feed(d, data + off, n, count, &c2, &err) != 0)
				break;
		}
		eventstream_decoder_free(d);
	}

	struct buf out = {0};
	if (eventstream_decode_one(data, size, reencode, &out, &err) == 0) {
		if (out.len != size || memcmp(out.data, data, size) != 0)
			abort();
	}
	buf_free(&out);
	return 0;
}
