/* Unit tests for backend/aws/eventstream: round trips, every header type, byte-by-byte and
 * random chunking, corrupt CRCs, truncation, oversized and malformed frames. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "backend/aws/eventstream.h"

struct got {
	int n;
	char event_type[8][64];
	char payload[8][256];
	struct eventstream_header hs[16];
	size_t n_headers;
	int stop_after;
};

static int on_msg(void *user, const struct eventstream_message *m)
{
	struct got *g = user;
	char *et = eventstream_header_string(m, ":event-type");
	snprintf(g->event_type[g->n % 8], 64, "%s", et ? et : "");
	free(et);
	snprintf(g->payload[g->n % 8], 256, "%.*s", (int)m->payload_len, m->payload);
	g->n_headers = m->n_headers < 16 ? m->n_headers : 16;
	if (g->n_headers)
		memcpy(g->hs, m->headers, g->n_headers * sizeof(*m->headers));
	g->n++;
	return g->stop_after && g->n >= g->stop_after ? 7 : 0;
}

static void three_messages(struct buf *out)
{
	struct lk_error err;
	lk_error_clear(&err);
	assert_int_equal(
	    eventstream_encode_json_event(out, "event", "initial-response", "{}", 2, &err), 0);
	assert_int_equal(eventstream_encode_json_event(out, "event", "sessionStart",
	                                               "{\"sessionId\":\"abc\"}", 19, &err),
	                 0);
	assert_int_equal(eventstream_encode_json_event(out, "event", "sessionUpdate",
	                                               "{\"sessionResults\":[]}", 21, &err),
	                 0);
}

/* A known frame (bytes checked with zlib.crc32 and accepted by botocore.eventstream): a message
 * with one header "content-type": "application/json" and payload {'foo':'bar'}. */
static const unsigned char vector_one_header[] = {
    0x00, 0x00, 0x00, 0x3d, 0x00, 0x00, 0x00, 0x20, 0x07, 0xfd, 0x83, 0x96, 0x0c, 'c',  'o', 'n',
    't',  'e',  'n',  't',  '-',  't',  'y',  'p',  'e',  0x07, 0x00, 0x10, 'a',  'p',  'p', 'l',
    'i',  'c',  'a',  't',  'i',  'o',  'n',  '/',  'j',  's',  'o',  'n',  '{',  '\'', 'f', 'o',
    'o',  '\'', ':',  '\'', 'b',  'a',  'r',  '\'', '}',  0x8d, 0x9c, 0x08, 0xb1};

static void test_known_vector(void **state)
{
	(void)state;
	struct got g = {0};
	struct lk_error err;
	lk_error_clear(&err);
	assert_int_equal(
	    eventstream_decode_one(vector_one_header, sizeof(vector_one_header), on_msg, &g, &err),
	    0);
	assert_int_equal(g.n, 1);
	assert_string_equal(g.payload[0], "{'foo':'bar'}");
	assert_int_equal(g.n_headers, 1);
	/* and our encoder produces exactly those bytes */
	struct buf b = {0};
	struct eventstream_out_header h = {.name = "content-type",
	                                   .type = EVENTSTREAM_STRING,
	                                   .bytes = "application/json",
	                                   .len = 16};
	assert_int_equal(eventstream_encode(&b, &h, 1, "{'foo':'bar'}", 13, &err), 0);
	assert_int_equal(b.len, sizeof(vector_one_header));
	assert_memory_equal(b.data, vector_one_header, b.len);
	buf_free(&b);
}

static void test_round_trip_all_types(void **state)
{
	(void)state;
	static const unsigned char uuid[16] = {1, 2,  3,  4,  5,  6,  7,  8,
	                                       9, 10, 11, 12, 13, 14, 15, 16};
	const struct eventstream_out_header h[] = {
	    {.name = "t", .type = EVENTSTREAM_BOOL_TRUE},
	    {.name = "f", .type = EVENTSTREAM_BOOL_FALSE},
	    {.name = "b", .type = EVENTSTREAM_BYTE, .integer = -5},
	    {.name = "s", .type = EVENTSTREAM_SHORT, .integer = -300},
	    {.name = "i", .type = EVENTSTREAM_INT, .integer = -70000},
	    {.name = "l", .type = EVENTSTREAM_LONG, .integer = -5000000000LL},
	    {.name = "by", .type = EVENTSTREAM_BYTES, .bytes = "\0\1\2", .len = 3},
	    {.name = "str", .type = EVENTSTREAM_STRING, .bytes = "héllo", .len = 6},
	    {.name = "ts", .type = EVENTSTREAM_TIMESTAMP, .integer = 1700000000123LL},
	    {.name = "u", .type = EVENTSTREAM_UUID, .bytes = uuid},
	};
	struct buf b = {0};
	struct lk_error err;
	lk_error_clear(&err);
	assert_int_equal(eventstream_encode(&b, h, 10, "payload", 7, &err), 0);
	struct got g = {0};
	assert_int_equal(eventstream_decode_one(b.data, b.len, on_msg, &g, &err), 0);
	assert_int_equal(g.n_headers, 10);
	assert_int_equal(g.hs[0].integer, 1);
	assert_int_equal(g.hs[1].integer, 0);
	assert_int_equal(g.hs[2].integer, -5);
	assert_int_equal(g.hs[3].integer, -300);
	assert_int_equal(g.hs[4].integer, -70000);
	assert_true(g.hs[5].integer == -5000000000LL);
	assert_int_equal(g.hs[6].len, 3);
	assert_int_equal(g.hs[7].len, 6);
	assert_true(g.hs[8].integer == 1700000000123LL);
	assert_int_equal(g.hs[9].len, 16);
	assert_string_equal(g.payload[0], "payload");
	/* empty payload, no headers: the minimal 16-byte message */
	buf_reset(&b);
	assert_int_equal(eventstream_encode(&b, NULL, 0, NULL, 0, &err), 0);
	assert_int_equal(b.len, 16);
	memset(&g, 0, sizeof(g));
	assert_int_equal(eventstream_decode_one(b.data, b.len, on_msg, &g, &err), 0);
	assert_int_equal(g.n, 1);
	buf_free(&b);
}

static void test_chunked_feeding(void **state)
{
	(void)state;
	struct buf b = {0};
	three_messages(&b);
	struct lk_error err;
	lk_error_clear(&err);
	/* byte by byte */
	struct eventstream_decoder *d = eventstream_decoder_new(0);
	struct got g = {0};
	for (size_t i = 0; i < b.len; i++)
		assert_int_equal(eventstream_decoder_feed(d, b.data + i, 1, on_msg, &g, &err), 0);
	assert_int_equal(g.n, 3);
	assert_string_equal(g.event_type[0], "initial-response");
	assert_string_equal(g.event_type[2], "sessionUpdate");
	assert_string_equal(g.payload[1], "{\"sessionId\":\"abc\"}");
	assert_false(eventstream_decoder_pending(d));
	eventstream_decoder_free(d);
	/* pseudo-random chunk sizes, several rounds */
	srand(42);
	for (int round = 0; round < 200; round++) {
		d = eventstream_decoder_new(0);
		memset(&g, 0, sizeof(g));
		size_t off = 0;
		while (off < b.len) {
			size_t n = (size_t)(rand() % 40) + 1;
			if (n > b.len - off)
				n = b.len - off;
			assert_int_equal(
			    eventstream_decoder_feed(d, b.data + off, n, on_msg, &g, &err), 0);
			off += n;
		}
		assert_int_equal(g.n, 3);
		assert_string_equal(g.payload[2], "{\"sessionResults\":[]}");
		eventstream_decoder_free(d);
	}
	/* all in one go, and a partial tail reported as pending */
	d = eventstream_decoder_new(0);
	memset(&g, 0, sizeof(g));
	assert_int_equal(eventstream_decoder_feed(d, b.data, b.len - 5, on_msg, &g, &err), 0);
	assert_int_equal(g.n, 2);
	assert_true(eventstream_decoder_pending(d));
	assert_int_equal(eventstream_decoder_feed(d, b.data + b.len - 5, 5, on_msg, &g, &err), 0);
	assert_int_equal(g.n, 3);
	eventstream_decoder_free(d);
	/* the callback can stop decoding */
	d = eventstream_decoder_new(0);
	memset(&g, 0, sizeof(g));
	g.stop_after = 1;
	assert_int_equal(eventstream_decoder_feed(d, b.data, b.len, on_msg, &g, &err), 7);
	assert_int_equal(g.n, 1);
	eventstream_decoder_free(d);
	buf_free(&b);
}

static void expect_error(const void *data, size_t len, const char *what)
{
	struct lk_error err;
	lk_error_clear(&err);
	struct got g = {0};
	struct eventstream_decoder *d = eventstream_decoder_new(0);
	int rc = eventstream_decoder_feed(d, data, len, on_msg, &g, &err);
	if (rc != -1)
		fail_msg("%s: expected an error, got %d after %d messages", what, rc, g.n);
	assert_string_equal(err.code, "EventStreamError");
	assert_true(strstr(err.message, "") != NULL);
	/* stays failed */
	lk_error_clear(&err);
	assert_int_equal(eventstream_decoder_feed(d, "x", 1, on_msg, &g, &err), -1);
	eventstream_decoder_free(d);
	lk_error_clear(&err);
	assert_int_equal(eventstream_decode_one(data, len, on_msg, &g, &err), -1);
}

static void test_corrupt_frames(void **state)
{
	(void)state;
	struct buf b = {0};
	struct lk_error err;
	lk_error_clear(&err);
	assert_int_equal(
	    eventstream_encode_json_event(&b, "event", "sessionUpdate", "{\"a\":1}", 7, &err), 0);
	unsigned char *m = xmalloc(b.len);
	/* prelude CRC */
	memcpy(m, b.data, b.len);
	m[9] ^= 1;
	expect_error(m, b.len, "prelude crc");
	/* message CRC */
	memcpy(m, b.data, b.len);
	m[b.len - 1] ^= 0x80;
	expect_error(m, b.len, "message crc");
	/* payload byte flipped */
	memcpy(m, b.data, b.len);
	m[b.len - 6] ^= 0x20;
	expect_error(m, b.len, "payload flip");
	free(m);

	/* oversized: a prelude announcing 17 MiB with a valid prelude CRC */
	struct buf big = {0};
	unsigned char pre[12] = {0x01, 0x10, 0x00, 0x00, 0, 0, 0, 0};
	uint32_t c = (uint32_t)crc32(crc32(0L, Z_NULL, 0), pre, 8);
	pre[8] = c >> 24, pre[9] = (c >> 16) & 0xff, pre[10] = (c >> 8) & 0xff, pre[11] = c & 0xff;
	buf_append(&big, pre, 12);
	expect_error(big.data, big.len, "oversized");
	/* a decoder with a lower limit rejects a valid 40-byte message */
	struct eventstream_decoder *d = eventstream_decoder_new(20);
	struct got g = {0};
	assert_int_equal(eventstream_decoder_feed(d, b.data, b.len, on_msg, &g, &err), -1);
	eventstream_decoder_free(d);
	/* headers length larger than the message */
	unsigned char hl[16] = {0, 0, 0, 16, 0, 0, 0, 4};
	c = (uint32_t)crc32(crc32(0L, Z_NULL, 0), hl, 8);
	hl[8] = c >> 24, hl[9] = (c >> 16) & 0xff, hl[10] = (c >> 8) & 0xff, hl[11] = c & 0xff;
	c = (uint32_t)crc32(crc32(0L, Z_NULL, 0), hl, 12);
	hl[12] = c >> 24, hl[13] = (c >> 16) & 0xff, hl[14] = (c >> 8) & 0xff, hl[15] = c & 0xff;
	expect_error(hl, 16, "headers length");
	/* total length below the minimum */
	unsigned char small[12] = {0, 0, 0, 8, 0, 0, 0, 0};
	c = (uint32_t)crc32(crc32(0L, Z_NULL, 0), small, 8);
	small[8] = c >> 24, small[9] = (c >> 16) & 0xff, small[10] = (c >> 8) & 0xff,
	small[11] = c & 0xff;
	expect_error(small, 12, "too small");
	buf_free(&big);

	/* malformed header inside a frame with valid CRCs: unknown type 42, name overrun */
	const struct eventstream_out_header h = {
	    .name = "x", .type = EVENTSTREAM_STRING, .bytes = "abc", .len = 3};
	struct buf hb = {0};
	assert_int_equal(eventstream_encode(&hb, &h, 1, NULL, 0, &err), 0);
	unsigned char *f = (unsigned char *)hb.data;
	f[12 + 2] = 42; /* the type byte */
	c = (uint32_t)crc32(crc32(0L, Z_NULL, 0), f, hb.len - 4);
	f[hb.len - 4] = c >> 24, f[hb.len - 3] = (c >> 16) & 0xff, f[hb.len - 2] = (c >> 8) & 0xff,
	           f[hb.len - 1] = c & 0xff;
	expect_error(f, hb.len, "unknown type");
	f[12 + 2] = 7;
	f[12 + 3] = 0x7f; /* string length far past the headers */
	c = (uint32_t)crc32(crc32(0L, Z_NULL, 0), f, hb.len - 4);
	f[hb.len - 4] = c >> 24, f[hb.len - 3] = (c >> 16) & 0xff, f[hb.len - 2] = (c >> 8) & 0xff,
	           f[hb.len - 1] = c & 0xff;
	expect_error(f, hb.len, "string overrun");
	f[12] = 200; /* name length overruns */
	c = (uint32_t)crc32(crc32(0L, Z_NULL, 0), f, hb.len - 4);
	f[hb.len - 4] = c >> 24, f[hb.len - 3] = (c >> 16) & 0xff, f[hb.len - 2] = (c >> 8) & 0xff,
	           f[hb.len - 1] = c & 0xff;
	expect_error(f, hb.len, "name overrun");
	buf_free(&hb);
	buf_free(&b);
}

static void test_truncated(void **state)
{
	(void)state;
	struct buf b = {0};
	three_messages(&b);
	struct lk_error err;
	lk_error_clear(&err);
	/* every truncation point: never an error or a crash, exactly the whole messages come
	 * out and the rest is pending; decode_one refuses a truncated message */
	for (size_t cut = 0; cut < b.len; cut++) {
		struct eventstream_decoder *d = eventstream_decoder_new(0);
		struct got g = {0};
		assert_int_equal(eventstream_decoder_feed(d, b.data, cut, on_msg, &g, &err), 0);
		assert_true(g.n <= 2);
		assert_true(eventstream_decoder_pending(d) || cut == 0 || g.n > 0);
		eventstream_decoder_free(d);
	}
	assert_int_equal(eventstream_decode_one(b.data, 11, on_msg, NULL, &err), -1);
	assert_int_equal(eventstream_decode_one(b.data, 20, on_msg, NULL, &err), -1);
	buf_free(&b);
}

static void test_encoder_limits(void **state)
{
	(void)state;
	struct buf b = {0};
	struct lk_error err;
	lk_error_clear(&err);
	char name[300];
	memset(name, 'n', sizeof(name) - 1);
	name[299] = 0;
	struct eventstream_out_header h = {.name = name, .type = EVENTSTREAM_BOOL_TRUE};
	assert_int_equal(eventstream_encode(&b, &h, 1, NULL, 0, &err), -1);
	assert_int_equal(b.len, 0);
	char *val = xcalloc(40000, 1);
	h = (struct eventstream_out_header){
	    .name = "v", .type = EVENTSTREAM_STRING, .bytes = val, .len = 40000};
	assert_int_equal(eventstream_encode(&b, &h, 1, NULL, 0, &err), -1);
	free(val);
	char *huge = xmalloc(EVENTSTREAM_MAX_MESSAGE);
	assert_int_equal(eventstream_encode(&b, NULL, 0, huge, EVENTSTREAM_MAX_MESSAGE, &err), -1);
	free(huge);
	assert_int_equal(b.len, 0);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_known_vector),    cmocka_unit_test(test_round_trip_all_types),
	    cmocka_unit_test(test_chunked_feeding), cmocka_unit_test(test_corrupt_frames),
	    cmocka_unit_test(test_truncated),       cmocka_unit_test(test_encoder_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
