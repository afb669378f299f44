/* zipw.h - the quick build's deterministic zip writer and patcher (zlib + OpenSSL, no libzip).
 *
 * One writer for both the full build and the patch, so a patched zip is byte-for-byte the zip
 * a full build of the same tree gives. The layout is canonical and fixed:
 *   - entries in the order given (the caller sorts them by name), each a 30-byte local header
 *     (no extra field, no data descriptor), the name, then the data: deflated (zlib level 6,
 *     raw deflate) or stored when deflating does not make it smaller;
 *   - every timestamp the DOS epoch 1980-01-01 00:00, version made by Unix 2.0, external
 *     attributes S_IFREG | mode, the UTF-8 flag on names that are not plain ASCII;
 *   - the central directory right after the last entry, then a 22-byte end record (no comment).
 * No zip64: more than 65535 entries or any size/offset above 4 GiB - 1 is refused with a
 * ZipTooLarge error (Lambda's own limits are 250 MB unzipped).
 *
 * Patching reads the previous zip's central directory (zipw_archive_read, bounds-checked; any
 * name that is absolute, has "." / ".." / empty components, or any layout that is not the
 * canonical one above is refused), then writes a new temp file in the given order: the
 * unchanged prefix is copied with copy_file_range(2), later unchanged entries are copied raw
 * (local header + data) through a 1 MiB buffer while hashing, changed and new entries are
 * compressed from their files; then the central directory and end record. zipw_commit
 * renames the temp file over the target (not fsynced, as before); on any failure the temp
 * file is removed and the target is untouched.
 *
 * The SHA-256 of the zip (Lambda's CodeSha256) is computed while writing. The writer also
 * returns the SHA-256 state at every 1 MiB boundary of the output; given the previous zip's
 * states, a patch hashes only from the last state at or before the first changed byte.
 */
#ifndef LAMBDECK_ZIPW_H
#define LAMBDECK_ZIPW_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/util.h"

#define ZIPW_STATE_EVERY (1u << 20) /* bytes between saved SHA-256 states */

/* The SHA-256 state after hashing the first offset bytes of a zip (offset is a positive
 * multiple of ZIPW_STATE_EVERY). */
struct zipw_sha_state {
	uint64_t offset;
	uint32_t h[8];
};

/* One entry of an existing zip, from its central directory. */
struct zipw_old_entry {
	char *name;
	uint32_t crc, csize, usize;
	uint16_t method, flags;
	uint32_t offset; /* of the local header */
	uint32_t mode;   /* permission bits from the external attributes */
};

struct zipw_archive {
	struct zipw_old_entry *v;
	size_t n;
	uint64_t cd_offset, size; /* central directory offset, file size */
};

/* Reads and checks the central directory of the zip at path (written by zipw_write). Returns
 * 0, or -1 with err set ("ZipInvalid": not a zip this writer made, or damaged; "ReadError").
 * Free with zipw_archive_free (accepts a zeroed struct). */
int zipw_archive_read(const char *path, struct zipw_archive *out, struct lk_error *err);
void zipw_archive_free(struct zipw_archive *a);

/* One entry to write. */
struct zipw_item {
	const char *name; /* name in the zip; the caller sorts and checks names */
	const char *src;  /* file to compress when old < 0 */
	uint32_t mode;    /* permission bits */
	long old;         /* index in the previous archive whose data to copy raw, or -1 */
};

#define ZIPW_READ_ATTEMPTS 3 /* reads of a file that moves while it is read */

/* What was read from an item's file (items written from their file; read false for items
 * copied from the previous zip): the SHA-256 and size of exactly the bytes put into the zip,
 * and the file's stat taken before reading them (so it is never newer than that content; a
 * later change shows as a different stat). unstable: the file kept changing while it was
 * read (ZIPW_READ_ATTEMPTS times); the stat is still the one from before the kept read. */
struct zipw_read {
	bool read, unstable;
	unsigned char sha256[32];
	uint64_t size, ino;
	int64_t mtime_sec;
	long mtime_nsec;
};

struct zipw_result {
	char *tmp_path; /* the written zip until zipw_commit; NULL after */
	char *path;     /* where zipw_commit puts it */
	uint64_t size, ino;
	int64_t mtime_sec; /* of the written file (a rename keeps them) */
	long mtime_nsec;
	unsigned char sha256[32];
	struct zipw_sha_state *states; /* every 1 MiB of the new zip */
	size_t n_states;
	struct zipw_read *reads; /* one per item, in order */
	bool patched;            /* the previous zip's unchanged prefix/entries were reused */
	uint64_t reused_hash;    /* bytes whose hash came from a saved state (not re-hashed) */
};

struct zipw_opts {
	/* previous zip (may all be NULL/0: full write) */
	const char *old_path;
	const struct zipw_archive *old;
	const struct zipw_sha_state *old_states; /* ascending offsets, as returned before */
	size_t n_old_states;
	/* progress in entries written; called on the writing thread */
	void (*progress)(void *ctx, uint64_t done, uint64_t total);
	void *ctx;
	atomic_bool *cancel; /* checked per entry; NULL: never */
};

/* Writes items (in order) into a temp file next to path (res->tmp_path). Items with old >= 0
 * must refer to opts->old entries whose data is the wanted content. Fills res. Returns 0, or
 * -1 with err set (no temp file left, nothing at path changed). Blocking. The caller then
 * records what it needs (size, inode, mtime stay the same through the rename) and calls
 * zipw_commit, or zipw_result_free alone to throw the new zip away. */
int zipw_write(const char *path, const struct zipw_item *items, size_t n,
               const struct zipw_opts *opts, struct zipw_result *res, struct lk_error *err);
/* Renames the written zip over path. Returns 0, or -1 with err set (the temp file stays
 * until zipw_result_free). */
int zipw_commit(struct zipw_result *res, struct lk_error *err);
/* Frees res; removes the temp file if it was not committed. Accepts a zeroed struct. */
void zipw_result_free(struct zipw_result *res);

#endif
