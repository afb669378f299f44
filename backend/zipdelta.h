/* zipdelta.h - a compact delta between two deployed zips, for the remote quick deploy: only
 * the changed bytes leave the machine, a helper next to the artifact bucket rebuilds the new
 * object from the old one (backend/remote/zip_patcher/patcher.py applies the same format).
 *
 * The zip writer (zipw.h) copies unchanged entries raw, so the new zip is long runs of the old
 * one at shifted offsets, the changed entries, and a central directory whose records differ
 * from the old ones in a few bytes each (offsets, sizes). zipdelta_make finds those runs with
 * a rolling hash of the new zip over the old zip's ZIPDELTA_BLOCK-byte blocks, extends every
 * match both ways, and after a mismatch first tries to resume on the same diagonal (same
 * shift), so a central directory record costs a few bytes.
 *
 * Format (all integers little-endian; varints are LEB128, at most 10 bytes):
 *   magic        8 bytes  "LKZDELT1"
 *   base_size    u64      size of the object the delta applies to
 *   base_sha256  32 bytes SHA-256 of that object
 *   result_size  u64      size of the result (at most ZIPDELTA_MAX_SIZE)
 *   result_sha256 32 bytes SHA-256 of the result (Lambda's CodeSha256, raw)
 *   ops, up to the end of the delta, written to the result in order:
 *     0x01 COPY     varint zigzag(offset - cursor), varint len: base[offset, offset+len);
 *                   cursor = offset + len afterwards (starts at 0)
 *     0x02 LITERAL  varint len, then len bytes
 * A delta is refused (ZipDeltaInvalid) when: the magic, sizes or base hash do not match; an op
 * is unknown, truncated or has len 0; a COPY range is negative or past the end of the base;
 * a LITERAL is longer than the rest of the delta; the ops write more or fewer than
 * result_size bytes (ops are written in order, so output ranges cannot overlap); the result's
 * SHA-256 differs. */
#ifndef LAMBDECK_ZIPDELTA_H
#define LAMBDECK_ZIPDELTA_H

#include <stddef.h>
#include <stdint.h>

#include "backend/util.h"

#define ZIPDELTA_MAGIC       "LKZDELT1"
#define ZIPDELTA_HEADER_SIZE 88u
#define ZIPDELTA_BLOCK       32u                    /* bytes per indexed block of the base */
#define ZIPDELTA_MAX_SIZE    (256ull * 1024 * 1024) /* base or result: Lambda's limit is 250 MB */

enum { ZIPDELTA_OP_COPY = 1, ZIPDELTA_OP_LITERAL = 2 };

struct zipdelta_header {
	uint64_t base_size, result_size;
	unsigned char base_sha256[32], result_sha256[32];
};

struct zipdelta_stats {
	uint64_t copied, literal; /* result bytes from the base / carried in the delta */
	size_t n_ops;
};

/* Appends to out the delta that turns base into result. stats may be NULL. Returns 0, or -1
 * with err set (ZipDeltaTooLarge: an input above ZIPDELTA_MAX_SIZE). Blocking, CPU-bound. */
int zipdelta_make(const unsigned char *base, size_t base_len, const unsigned char *result,
                  size_t result_len, struct buf *out, struct zipdelta_stats *stats,
                  struct lk_error *err);
/* zipdelta_make on two files (read whole). Returns 0, or -1 with err set. Blocking. */
int zipdelta_make_files(const char *base_path, const char *result_path, struct buf *out,
                        struct zipdelta_stats *stats, struct lk_error *err);
/* Reads the header of delta. Returns 0, or -1 with err set (ZipDeltaInvalid). */
int zipdelta_header_read(const unsigned char *delta, size_t len, struct zipdelta_header *h,
                         struct lk_error *err);
/* Applies delta to base, checking everything listed above; out is reset and gets the result
 * only on success (on failure it is left empty). Returns 0, or -1 with err set
 * (ZipDeltaInvalid, or ZipDeltaBaseMismatch when the base's size or SHA-256 differ). */
int zipdelta_apply(const unsigned char *base, size_t base_len, const unsigned char *delta,
                   size_t delta_len, struct buf *out, struct lk_error *err);

#endif
