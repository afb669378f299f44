/* libFuzzer target: the remote quick deploy's delta (backend/zipdelta.h). The input's first
 * byte splits the rest into a base and a second part. (1) The second part, behind a header
 * naming the base's real size and SHA-256 and a result size taken from it, is applied as ops:
 * any op stream must be refused or applied without a crash, an overread or a leak, and a
 * refused one leaves the output empty. (2) zipdelta_make(base, second part) must apply back to
 * the second part byte for byte. */
#include <stdint.h>
#include <string.h>

#include "backend/zipdelta.h"
#include "tests/fuzz/fuzz_common.h"

static void put_u64(struct buf *b, uint64_t v)
{
	for (int k = 0; k < 8; k++)
		buf_putc(b, (char)(v >> (8 * k)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf d = {0}, out = {0};
	unsigned char sha[32];
	size_t cut;
	const uint8_t *base, *rest;
	size_t blen, rlen;

	if (size < 1)
		return 0;
	cut = (size_t)data[0] * (size - 1) / 255;
	base = data + 1;
	blen = cut;
	rest = data + 1 + cut;
	rlen = size - 1 - cut;

	/* (1) hostile op streams against a real base */
	buf_append(&d, ZIPDELTA_MAGIC, 8);
	put_u64(&d, blen);
	util_sha256(base, blen, sha);
	buf_append(&d, sha, 32);
	put_u64(&d, rlen > 0 ? rest[0] * 7u : 0);
	memset(sha, 0, sizeof(sha));
	buf_append(&d, sha, 32);
	buf_append(&d, rest, rlen);
	if (zipdelta_apply(base, blen, (const unsigned char *)d.data, d.len, &out, NULL) != 0 &&
	    out.len != 0)
		__builtin_trap();

	/* (2) round trip */
	buf_reset(&d);
	if (zipdelta_make(base, blen, rest, rlen, &d, NULL, NULL) != 0 ||
	    zipdelta_apply(base, blen, (const unsigned char *)d.data, d.len, &out, NULL) != 0 ||
	    out.len != rlen || (rlen && memcmp(out.data, rest, rlen) != 0))
		__builtin_trap();
	buf_free(&d);
	buf_free(&out);
	return 0;
}
