/* zipdelta.c - delta between two zips: rolling-hash block matching with diagonal resume, and
 * a strict applier (format and refusals in zipdelta.h). */
#include "backend/zipdelta.h"

#include <stdlib.h>
#include <string.h>

#define ZIPDELTA_PRIME  0x100000001b3ull /* rolling hash multiplier (odd) */
#define ZIPDELTA_CHAIN  16               /* candidates looked at per position */
#define ZIPDELTA_RESUME 8                /* bytes that must match to resume on a diagonal */

/* The base's blocks, by rolling hash: head[bucket] and next[] hold block index + 1. */
struct zipdelta_index {
	unsigned bits;
	uint32_t *head, *next;
	uint64_t *hash;
	size_t n;
};

/* Polynomial hash of one block. */
static uint64_t block_hash(const unsigned char *p)
{
	uint64_t h = 0;

	for (unsigned k = 0; k < ZIPDELTA_BLOCK; k++)
		h = h * ZIPDELTA_PRIME + p[k];
	return h;
}

static size_t bucket_of(const struct zipdelta_index *ix, uint64_t h)
{
	return (size_t)((h * 0x9e3779b97f4a7c15ull) >> (64 - ix->bits));
}

/* Indexes every aligned block of base; chains list lower offsets first. */
static void index_build(struct zipdelta_index *ix, const unsigned char *base, size_t len)
{
	ix->n = len / ZIPDELTA_BLOCK;
	ix->bits = 4;
	while (((size_t)1 << ix->bits) < 2 * ix->n && ix->bits < 30)
		ix->bits++;
	ix->head = xcalloc((size_t)1 << ix->bits, sizeof(*ix->head));
	ix->next = xcalloc(ix->n ? ix->n : 1, sizeof(*ix->next));
	ix->hash = xcalloc(ix->n ? ix->n : 1, sizeof(*ix->hash));
	for (size_t k = ix->n; k-- > 0;) {
		size_t b;

		ix->hash[k] = block_hash(base + k * ZIPDELTA_BLOCK);
		b = bucket_of(ix, ix->hash[k]);
		ix->next[k] = ix->head[b];
		ix->head[b] = (uint32_t)(k + 1);
	}
}

static void index_free(struct zipdelta_index *ix)
{
	free(ix->head);
	free(ix->next);
	free(ix->hash);
}

static void put_varint(struct buf *out, uint64_t v)
{
	while (v >= 0x80) {
		buf_putc(out, (char)(v | 0x80));
		v >>= 7;
	}
	buf_putc(out, (char)v);
}

static void put_u64(struct buf *out, uint64_t v)
{
	for (int k = 0; k < 8; k++)
		buf_putc(out, (char)(v >> (8 * k)));
}

/* The encoder's state: the output and the base cursor COPY offsets are relative to. */
struct zipdelta_enc {
	struct buf *out;
	uint64_t cursor;
	struct zipdelta_stats st;
};

static void emit_literal(struct zipdelta_enc *e, const unsigned char *p, size_t len)
{
	if (len == 0)
		return;
	buf_putc(e->out, ZIPDELTA_OP_LITERAL);
	put_varint(e->out, len);
	buf_append(e->out, p, len);
	e->st.literal += len;
	e->st.n_ops++;
}

static void emit_copy(struct zipdelta_enc *e, uint64_t off, uint64_t len)
{
	int64_t d = (int64_t)off - (int64_t)e->cursor;

	buf_putc(e->out, ZIPDELTA_OP_COPY);
	put_varint(e->out, ((uint64_t)d << 1) ^ (uint64_t)(d >> 63));
	put_varint(e->out, len);
	e->cursor = off + len;
	e->st.copied += len;
	e->st.n_ops++;
}

/* Finds a base block equal to the window at r (hash h). Returns its offset + 1, or 0. */
static size_t index_find(const struct zipdelta_index *ix, const unsigned char *base, uint64_t h,
                         const unsigned char *r)
{
	uint32_t k = ix->head[bucket_of(ix, h)];

	for (int steps = 0; k && steps < ZIPDELTA_CHAIN; steps++, k = ix->next[k - 1]) {
		size_t off = (size_t)(k - 1) * ZIPDELTA_BLOCK;

		if (ix->hash[k - 1] == h && memcmp(base + off, r, ZIPDELTA_BLOCK) == 0)
			return off + 1;
	}
	return 0;
}

int zipdelta_make(const unsigned char *base, size_t blen, const unsigned char *r, size_t rlen,
                  struct buf *out, struct zipdelta_stats *stats, struct lk_error *err)
{
	struct zipdelta_index ix = {0};
	struct zipdelta_enc e = {.out = out};
	unsigned char sha[32];
	uint64_t pow = 1, h = 0;
	bool have_hash = false, have_diag = false;
	int64_t diag = 0;
	size_t i = 0, lit = 0;

	if (blen > ZIPDELTA_MAX_SIZE || rlen > ZIPDELTA_MAX_SIZE)
		return lk_error_set(err, "ZipDeltaTooLarge", "artifact above %llu bytes",
		                    (unsigned long long)ZIPDELTA_MAX_SIZE);
	buf_append(out, ZIPDELTA_MAGIC, 8);
	put_u64(out, blen);
	util_sha256(base, blen, sha);
	buf_append(out, sha, 32);
	put_u64(out, rlen);
	util_sha256(r, rlen, sha);
	buf_append(out, sha, 32);
	for (unsigned k = 1; k < ZIPDELTA_BLOCK; k++)
		pow *= ZIPDELTA_PRIME;
	index_build(&ix, base, blen);
	while (i + ZIPDELTA_RESUME <= rlen) {
		size_t j = 0, found = 0;

		if (have_diag) {
			int64_t jj = (int64_t)i + diag;

			if (jj >= 0 && (uint64_t)jj + ZIPDELTA_RESUME <= blen &&
			    memcmp(r + i, base + jj, ZIPDELTA_RESUME) == 0)
				found = (size_t)jj + 1;
		}
		if (!found && i + ZIPDELTA_BLOCK <= rlen) {
			if (!have_hash) {
				h = block_hash(r + i);
				have_hash = true;
			}
			found = index_find(&ix, base, h, r + i);
		}
		if (found) {
			size_t len = 0;

			j = found - 1;
			while (i > lit && j > 0 && r[i - 1] == base[j - 1]) {
				i--;
				j--;
			}
			while (i + len < rlen && j + len < blen && r[i + len] == base[j + len])
				len++;
			emit_literal(&e, r + lit, i - lit);
			emit_copy(&e, j, len);
			diag = (int64_t)j - (int64_t)i;
			have_diag = true;
			i += len;
			lit = i;
			have_hash = false;
			continue;
		}
		if (have_hash && i + ZIPDELTA_BLOCK < rlen)
			h = (h - r[i] * pow) * ZIPDELTA_PRIME + r[i + ZIPDELTA_BLOCK];
		else
			have_hash = false;
		i++;
	}
	emit_literal(&e, r + lit, rlen - lit);
	index_free(&ix);
	if (stats)
		*stats = e.st;
	return 0;
}

int zipdelta_make_files(const char *base_path, const char *result_path, struct buf *out,
                        struct zipdelta_stats *stats, struct lk_error *err)
{
	struct buf b = {0}, r = {0};
	int rc = -1;

	if (util_read_file(base_path, &b, err) == 0 && util_read_file(result_path, &r, err) == 0)
		rc = zipdelta_make((const unsigned char *)b.data, b.len,
		                   (const unsigned char *)r.data, r.len, out, stats, err);
	buf_free(&b);
	buf_free(&r);
	return rc;
}

static uint64_t get_u64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int k = 7; k >= 0; k--)
		v = (v << 8) | p[k];
	return v;
}

int zipdelta_header_read(const unsigned char *d, size_t len, struct zipdelta_header *h,
                         struct lk_error *err)
{
	if (len < ZIPDELTA_HEADER_SIZE || memcmp(d, ZIPDELTA_MAGIC, 8) != 0)
		return lk_error_set(err, "ZipDeltaInvalid", "not a lambdeck zip delta");
	h->base_size = get_u64(d + 8);
	memcpy(h->base_sha256, d + 16, 32);
	h->result_size = get_u64(d + 48);
	memcpy(h->result_sha256, d + 56, 32);
	if (h->base_size > ZIPDELTA_MAX_SIZE || h->result_size > ZIPDELTA_MAX_SIZE)
		return lk_error_set(err, "ZipDeltaInvalid", "delta sizes above %llu bytes",
		                    (unsigned long long)ZIPDELTA_MAX_SIZE);
	return 0;
}

/* Reads a LEB128 varint at *p (below end). Returns 0, or -1 if truncated or above 64 bits. */
static int get_varint(const unsigned char *d, size_t len, size_t *p, uint64_t *v)
{
	*v = 0;
	for (unsigned shift = 0; shift < 64; shift += 7) {
		unsigned char c;

		if (*p >= len)
			return -1;
		c = d[(*p)++];
		if (shift == 63 && (c & 0x7e))
			return -1;
		*v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80))
			return 0;
	}
	return -1;
}

/* Runs the ops of delta into out (reserved for h->result_size). Returns 0, or -1 with err. */
static int apply_ops(const unsigned char *base, size_t blen, const unsigned char *d, size_t len,
                     const struct zipdelta_header *h, struct buf *out, struct lk_error *err)
{
	size_t p = ZIPDELTA_HEADER_SIZE;
	uint64_t cursor = 0;

	while (p < len) {
		size_t at = p;
		unsigned char op = d[p++];
		uint64_t z, n;
		const unsigned char *src;

		if (op == ZIPDELTA_OP_COPY) {
			int64_t rel;
			uint64_t off;

			if (get_varint(d, len, &p, &z) || get_varint(d, len, &p, &n))
				return lk_error_set(err, "ZipDeltaInvalid",
				                    "op at byte %zu truncated", at);
			rel = (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
			if (rel < -(int64_t)cursor || rel > (int64_t)blen)
				return lk_error_set(err, "ZipDeltaInvalid",
				                    "copy at byte %zu: offset outside the base",
				                    at);
			off = cursor + (uint64_t)rel;
			if (n == 0 || off > blen || n > blen - off)
				return lk_error_set(
				    err, "ZipDeltaInvalid",
				    "copy at byte %zu: range past the end of the base", at);
			src = base + off;
			cursor = off + n;
		} else if (op == ZIPDELTA_OP_LITERAL) {
			if (get_varint(d, len, &p, &n))
				return lk_error_set(err, "ZipDeltaInvalid",
				                    "op at byte %zu truncated", at);
			if (n == 0 || n > len - p)
				return lk_error_set(err, "ZipDeltaInvalid",
				                    "literal at byte %zu: longer than the delta",
				                    at);
			src = d + p;
			p += n;
		} else {
			return lk_error_set(err, "ZipDeltaInvalid", "unknown op %u at byte %zu", op,
			                    at);
		}
		if (n > h->result_size - out->len)
			return lk_error_set(err, "ZipDeltaInvalid",
			                    "%s at byte %zu: result longer than %llu bytes",
			                    op == ZIPDELTA_OP_COPY ? "copy" : "literal", at,
			                    (unsigned long long)h->result_size);
		buf_append(out, src, n);
	}
	if (out->len != h->result_size)
		return lk_error_set(err, "ZipDeltaInvalid", "result is %zu bytes, expected %llu",
		                    out->len, (unsigned long long)h->result_size);
	return 0;
}

int zipdelta_apply(const unsigned char *base, size_t blen, const unsigned char *d, size_t len,
                   struct buf *out, struct lk_error *err)
{
	struct zipdelta_header h;
	unsigned char sha[32];

	buf_reset(out);
	if (zipdelta_header_read(d, len, &h, err))
		return -1;
	util_sha256(base, blen, sha);
	if (blen != h.base_size || memcmp(sha, h.base_sha256, 32) != 0)
		return lk_error_set(err, "ZipDeltaBaseMismatch",
		                    "the old object is not the one the delta was made from");
	buf_reserve(out, h.result_size);
	if (apply_ops(base, blen, d, len, &h, out, err) == 0) {
		util_sha256(out->data, out->len, sha);
		if (memcmp(sha, h.result_sha256, 32) == 0)
			return 0;
		lk_error_set(err, "ZipDeltaInvalid",
		             "result SHA-256 differs from the expected one");
	}
	buf_reset(out);
	return -1;
}
