/* zipw.c - deterministic zip writer and patcher for the quick build. See zipw.h. */

/* SHA256_CTX is the one OpenSSL SHA-256 interface whose state can be saved to disk and
 * restored (EVP contexts cannot be exported); it runs the same SHA-NI code as EVP. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "backend/zipw.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/sha.h>
#include <zlib.h>

#define LOCAL_HEADER_SIZE   30
#define CENTRAL_HEADER_SIZE 46
#define END_RECORD_SIZE     22
#define SIG_LOCAL           0x04034b50u
#define SIG_CENTRAL         0x02014b50u
#define SIG_END             0x06054b50u
#define DOS_TIME            0x0000        /* 00:00:00 */
#define DOS_DATE            0x0021        /* 1980-01-01 */
#define VERSION_NEEDED      20            /* 2.0: deflate */
#define VERSION_MADE_BY     0x0314        /* Unix, 2.0 */
#define FLAG_UTF8           0x0800        /* names are UTF-8 */
#define MAX_ENTRIES         65534         /* 65535 marks zip64 */
#define MAX_32              0xffffffffull /* larger sizes and offsets need zip64 */
#define BUF_SIZE            (1u << 20) /* output buffer; a multiple of ZIPW_STATE_EVERY divides */
#define DEFLATE_LEVEL       6

static void put16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static void put32(unsigned char *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static uint16_t get16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)get16(p) | (uint32_t)get16(p + 2) << 16;
}

static int pread_full(int fd, void *buf, size_t n, uint64_t off)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = pread(fd, (char *)buf + got, n - got, (off_t)(off + got));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = EIO; /* shorter than its central directory says */
			return -1;
		}
		got += (size_t)r;
	}
	return 0;
}

/* ---------------------------------------------------------------- reading */

/* A safe relative name: not empty, not absolute, no NUL, no empty, "." or ".." component. */
static bool name_safe(const char *name, size_t len)
{
	const char *p = name, *end = name + len;

	if (len == 0 || name[0] == '/' || memchr(name, '\0', len))
		return false;
	for (;;) {
		const char *slash = memchr(p, '/', (size_t)(end - p));
		size_t k = slash ? (size_t)(slash - p) : (size_t)(end - p);

		if (k == 0 || (k == 1 && p[0] == '.') || (k == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		if (!slash)
			return true;
		p = slash + 1;
	}
}

void zipw_archive_free(struct zipw_archive *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i].name);
	free(a->v);
	memset(a, 0, sizeof(*a));
}

int zipw_archive_read(const char *path, struct zipw_archive *out, struct lk_error *err)
{
	unsigned char end[END_RECORD_SIZE], *cd = NULL;
	const unsigned char *p, *cd_end;
	uint64_t expect = 0, cd_size, cd_off, size;
	struct stat st;
	const char *why = NULL;
	size_t n;
	int fd, rc = -1;

	memset(out, 0, sizeof(*out));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		lk_error_set(err, "ReadError", "cannot read %s: %s", path, strerror(errno));
		goto out;
	}
	size = (uint64_t)st.st_size;
	if (size < END_RECORD_SIZE || size > MAX_32) {
		why = size < END_RECORD_SIZE ? "too short for a zip" : "larger than 4 GiB";
		goto invalid;
	}
	if (pread_full(fd, end, sizeof(end), size - END_RECORD_SIZE) < 0) {
		lk_error_set(err, "ReadError", "cannot read %s: %s", path, strerror(errno));
		goto out;
	}
	n = get16(end + 10);
	cd_size = get32(end + 12);
	cd_off = get32(end + 16);
	if (get32(end) != SIG_END || get16(end + 4) || get16(end + 6) || get16(end + 8) != n ||
	    get16(end + 20)) {
		why = "no end-of-central-directory record at the end (or a comment, or several "
		      "disks)";
		goto invalid;
	}
	if (n > MAX_ENTRIES || cd_off > size - END_RECORD_SIZE ||
	    cd_size != size - END_RECORD_SIZE - cd_off ||
	    (uint64_t)n * CENTRAL_HEADER_SIZE > cd_size) {
		why = "central directory size, offset or entry count inconsistent with the file";
		goto invalid;
	}
	cd = xmalloc(cd_size ? cd_size : 1);
	if (pread_full(fd, cd, cd_size, cd_off) < 0) {
		lk_error_set(err, "ReadError", "cannot read %s: %s", path, strerror(errno));
		goto out;
	}
	out->v = xcalloc(n ? n : 1, sizeof(*out->v));
	out->cd_offset = cd_off;
	out->size = size;
	p = cd;
	cd_end = cd + cd_size;
	for (size_t i = 0; i < n; i++) {
		struct zipw_old_entry *e = &out->v[i];
		uint32_t attr;
		uint16_t nl;

		if ((size_t)(cd_end - p) < CENTRAL_HEADER_SIZE || get32(p) != SIG_CENTRAL) {
			why = "truncated central directory";
			goto invalid;
		}
		nl = get16(p + 28);
		if ((size_t)(cd_end - p) - CENTRAL_HEADER_SIZE < nl) {
			why = "truncated central directory";
			goto invalid;
		}
		e->flags = get16(p + 8);
		e->method = get16(p + 10);
		e->crc = get32(p + 16);
		e->csize = get32(p + 20);
		e->usize = get32(p + 24);
		attr = get32(p + 38);
		e->offset = get32(p + 42);
		e->mode = (attr >> 16) & 07777;
		if ((e->flags & ~FLAG_UTF8) || (e->method != 0 && e->method != 8) ||
		    (e->method == 0 && e->csize != e->usize) || get16(p + 30) || get16(p + 32) ||
		    get16(p + 34) || get16(p + 4) != VERSION_MADE_BY ||
		    ((attr >> 16) & S_IFMT) != S_IFREG) {
			why =
			    "an entry this writer never makes (encryption, data descriptor, other "
			    "method, extra field, comment, not a regular file)";
			goto invalid;
		}
		if (e->offset != expect) {
			why = "entries not stored back to back (an offset points elsewhere)";
			goto invalid;
		}
		expect += LOCAL_HEADER_SIZE + (uint64_t)nl + e->csize;
		if (expect > cd_off) {
			why = "an entry's data runs past the central directory";
			goto invalid;
		}
		if (!name_safe((const char *)p + CENTRAL_HEADER_SIZE, nl)) {
			why = "an entry name is empty, absolute or has a '.' or '..' component";
			goto invalid;
		}
		e->name = xstrndup((const char *)p + CENTRAL_HEADER_SIZE, nl);
		out->n = i + 1;
		if (i > 0 && strcmp(out->v[i - 1].name, e->name) >= 0) {
			why = "entry names not sorted or duplicated";
			goto invalid;
		}
		p += CENTRAL_HEADER_SIZE + nl;
	}
	if (p != cd_end || expect != cd_off) {
		why = p != cd_end ? "bytes left over in the central directory"
		                  : "bytes between the last entry and the central directory";
		goto invalid;
	}
	rc = 0;
	goto out;
invalid:
	lk_error_set(err, "ZipInvalid", "%s: %s", path, why);
out:
	if (fd >= 0)
		close(fd);
	free(cd);
	if (rc < 0)
		zipw_archive_free(out);
	return rc;
}

/* ---------------------------------------------------------------- writing */

/* The output: a buffer in front of the temp file, hashed on the way in. */
struct sink {
	int fd;
	const char *path;
	unsigned char *buf;
	size_t len;       /* buffered, not yet written */
	uint64_t written; /* bytes in the file */
	uint64_t hashed;  /* bytes fed to sha (== written + len once hashing runs) */
	SHA256_CTX sha;
	struct zipw_sha_state *states;
	size_t n_states, cap_states;
	struct lk_error *err;
};

static void sink_save_state(struct sink *s)
{
	struct zipw_sha_state *st;

	if (s->n_states == s->cap_states) {
		s->cap_states = s->cap_states ? 2 * s->cap_states : 64;
		s->states = xrealloc(s->states, s->cap_states * sizeof(*s->states));
	}
	st = &s->states[s->n_states++];
	st->offset = s->hashed;
	for (int i = 0; i < 8; i++)
		st->h[i] = (uint32_t)s->sha.h[i];
}

/* Hashes p, saving the state at every ZIPW_STATE_EVERY boundary. */
static void sink_hash(struct sink *s, const unsigned char *p, size_t n)
{
	while (n) {
		uint64_t next = (s->hashed / ZIPW_STATE_EVERY + 1) * ZIPW_STATE_EVERY;
		size_t k = next - s->hashed < n ? (size_t)(next - s->hashed) : n;

		SHA256_Update(&s->sha, p, k);
		s->hashed += k;
		p += k;
		n -= k;
		if (s->hashed == next)
			sink_save_state(s);
	}
}

static int write_error(struct sink *s)
{
	return lk_error_set(s->err, "WriteError", "cannot write %s: %s", s->path, strerror(errno));
}

static int sink_flush(struct sink *s)
{
	size_t done = 0;

	while (done < s->len) {
		ssize_t r = pwrite(s->fd, s->buf + done, s->len - done, (off_t)s->written);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = ENOSPC;
			return write_error(s);
		}
		done += (size_t)r;
		s->written += (uint64_t)r;
	}
	s->len = 0;
	return 0;
}

static uint64_t sink_offset(const struct sink *s)
{
	return s->written + s->len;
}

static int sink_put(struct sink *s, const void *data, size_t n)
{
	const unsigned char *p = data;

	sink_hash(s, p, n);
	while (n) {
		size_t k = BUF_SIZE - s->len < n ? BUF_SIZE - s->len : n;

		memcpy(s->buf + s->len, p, k);
		s->len += k;
		p += k;
		n -= k;
		if (s->len == BUF_SIZE && sink_flush(s) < 0)
			return -1;
	}
	return 0;
}

/* Copies len bytes at from in in_fd to the output, hashing them. */
static int sink_copy_hashed(struct sink *s, int in_fd, const char *in_path, uint64_t from,
                            uint64_t len)
{
	while (len) {
		size_t k = BUF_SIZE - s->len;

		if (k > len)
			k = (size_t)len;
		if (pread_full(in_fd, s->buf + s->len, k, from) < 0)
			return lk_error_set(s->err, "ReadError", "cannot read %s: %s", in_path,
			                    strerror(errno));
		sink_hash(s, s->buf + s->len, k);
		s->len += k;
		from += k;
		len -= k;
		if (s->len == BUF_SIZE && sink_flush(s) < 0)
			return -1;
	}
	return 0;
}

/* Copies the first len bytes of in_fd to the (empty) output without hashing them: in the
 * kernel with copy_file_range, or through the buffer where that is not supported. */
static int sink_clone_prefix(struct sink *s, int in_fd, const char *in_path, uint64_t len)
{
	loff_t in_off = 0, out_off = 0;
	bool fallback = false;

	while ((uint64_t)in_off < len && !fallback) {
		ssize_t r = copy_file_range(in_fd, &in_off, s->fd, &out_off,
		                            (size_t)(len - (uint64_t)in_off), 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EXDEV || errno == ENOSYS || errno == EOPNOTSUPP ||
		              errno == EINVAL || errno == EBADF)) {
			fallback = true;
		} else if (r < 0) {
			return write_error(s);
		} else if (r == 0) {
			errno = EIO;
			return lk_error_set(s->err, "ReadError", "%s is shorter than expected",
			                    in_path);
		}
	}
	s->written = (uint64_t)out_off;
	while (s->written < len) {
		size_t k = len - s->written < BUF_SIZE ? (size_t)(len - s->written) : BUF_SIZE;

		if (pread_full(in_fd, s->buf, k, s->written) < 0)
			return lk_error_set(s->err, "ReadError", "cannot read %s: %s", in_path,
			                    strerror(errno));
		s->len = k;
		if (sink_flush(s) < 0)
			return -1;
	}
	return 0;
}

/* What the central directory needs of each written entry. */
struct cd_meta {
	uint32_t crc, csize, usize, offset;
	uint16_t method, flags;
};

static uint16_t name_flags(const char *name)
{
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (*p >= 0x80)
			return FLAG_UTF8;
	return 0;
}

static int put_local_header(struct sink *s, const char *name, const struct cd_meta *m)
{
	unsigned char h[LOCAL_HEADER_SIZE];
	size_t nl = strlen(name);

	put32(h, SIG_LOCAL);
	put16(h + 4, VERSION_NEEDED);
	put16(h + 6, m->flags);
	put16(h + 8, m->method);
	put16(h + 10, DOS_TIME);
	put16(h + 12, DOS_DATE);
	put32(h + 14, m->crc);
	put32(h + 18, m->csize);
	put32(h + 22, m->usize);
	put16(h + 26, (uint16_t)nl);
	put16(h + 28, 0);
	if (sink_put(s, h, sizeof(h)) < 0)
		return -1;
	return sink_put(s, name, nl);
}

struct compressor {
	z_stream z;
	bool z_ready;
	struct buf in, out;
};

/* True when two stats of one file say its content may differ (size, mtime or inode moved). */
static bool stat_moved(const struct stat *a, const struct stat *b)
{
	return a->st_size != b->st_size || a->st_ino != b->st_ino ||
	       a->st_mtim.tv_sec != b->st_mtim.tv_sec || a->st_mtim.tv_nsec != b->st_mtim.tv_nsec;
}

/* Reads src whole into c->in; rd gets the stat taken before the read (never newer than the
 * bytes read). A file that moves while being read (another process rewriting it) is read
 * again, a few times; if it keeps moving, the last read is kept and rd->unstable set. */
static int read_source(struct compressor *c, const char *src, struct zipw_read *rd,
                       struct lk_error *err)
{
	for (int attempt = 0;; attempt++) {
		int fd = open(src, O_RDONLY | O_CLOEXEC);
		struct stat before, after;

		if (fd < 0 || fstat(fd, &before) < 0) {
			int e = errno;

			if (fd >= 0)
				close(fd);
			return lk_error_set(err, "ReadError", "cannot read %s: %s", src,
			                    strerror(e));
		}
		/* read to EOF: the file may have grown since it was stat'ed */
		buf_reset(&c->in);
		buf_reserve(&c->in, (size_t)before.st_size + 1);
		for (;;) {
			ssize_t r;

			if (c->in.cap - c->in.len < 65536)
				buf_reserve(&c->in, 65536);
			r = read(fd, c->in.data + c->in.len, c->in.cap - c->in.len - 1);
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0) {
				int e = errno;

				close(fd);
				return lk_error_set(err, "ReadError", "cannot read %s: %s", src,
				                    strerror(e));
			}
			if (r == 0)
				break;
			c->in.len += (size_t)r;
		}
		if (fstat(fd, &after) < 0)
			after.st_size = -1; /* counts as moved */
		close(fd);
		rd->size = c->in.len;
		rd->mtime_sec = before.st_mtim.tv_sec;
		rd->mtime_nsec = before.st_mtim.tv_nsec;
		rd->ino = (uint64_t)before.st_ino;
		rd->unstable = stat_moved(&before, &after) || (off_t)c->in.len != before.st_size;
		if (!rd->unstable || attempt == ZIPW_READ_ATTEMPTS - 1)
			break;
	}
	rd->read = true;
	util_sha256(c->in.data ? c->in.data : "", c->in.len, rd->sha256);
	return 0;
}

/* Reads src whole and deflates it into c->out (or keeps it stored when deflating does not
 * make it smaller). Sets data/len to what goes into the zip, rd to what was read. */
static int compress_file(struct compressor *c, const char *src, struct cd_meta *m,
                         const unsigned char **data, size_t *len, struct zipw_read *rd,
                         struct lk_error *err)
{
	size_t got;

	if (read_source(c, src, rd, err) < 0)
		return -1;
	got = c->in.len;
	if (got > MAX_32)
		return lk_error_set(err, "ZipTooLarge",
		                    "%s is larger than 4 GiB (zip64 is not supported; Lambda "
		                    "allows 250 MB unzipped)",
		                    src);
	m->usize = (uint32_t)got;
	m->crc = (uint32_t)crc32(0L, (const Bytef *)c->in.data, (uInt)got);
	if (!c->z_ready) {
		memset(&c->z, 0, sizeof(c->z));
		if (deflateInit2(&c->z, DEFLATE_LEVEL, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) !=
		    Z_OK)
			lk_fatal("out of memory (deflateInit2)");
		c->z_ready = true;
	} else {
		deflateReset(&c->z);
	}
	{
		uLong bound = deflateBound(&c->z, (uLong)got);

		buf_reset(&c->out);
		buf_reserve(&c->out, (size_t)bound + 1);
		c->z.next_in = (Bytef *)c->in.data;
		c->z.avail_in = (uInt)got;
		c->z.next_out = (Bytef *)c->out.data;
		c->z.avail_out = (uInt)(c->out.cap - 1);
		if (deflate(&c->z, Z_FINISH) != Z_STREAM_END)
			return lk_error_set(err, "ZipError", "cannot compress %s", src);
		c->out.len = c->z.total_out;
	}
	if (c->out.len < got) {
		m->method = 8;
		*data = (const unsigned char *)c->out.data;
		*len = c->out.len;
	} else {
		m->method = 0;
		*data = (const unsigned char *)c->in.data;
		*len = got;
	}
	m->csize = (uint32_t)*len;
	return 0;
}

/* The largest usable saved state at or before limit (states must be ascending multiples of
 * ZIPW_STATE_EVERY within the old zip); NULL when none. */
static const struct zipw_sha_state *state_before(const struct zipw_opts *o, uint64_t limit)
{
	const struct zipw_sha_state *best = NULL;
	uint64_t prev = 0;

	for (size_t i = 0; i < o->n_old_states; i++) {
		const struct zipw_sha_state *st = &o->old_states[i];

		if (st->offset <= prev || st->offset % ZIPW_STATE_EVERY ||
		    st->offset > o->old->size)
			return NULL; /* not ours: hash everything */
		prev = st->offset;
		if (st->offset <= limit)
			best = st;
	}
	return best;
}

static void restore_state(struct sink *s, const struct zipw_sha_state *st)
{
	uint64_t bits = st->offset * 8;

	SHA256_Init(&s->sha);
	for (int i = 0; i < 8; i++)
		s->sha.h[i] = st->h[i];
	s->sha.Nl = (SHA_LONG)(bits & 0xffffffffu);
	s->sha.Nh = (SHA_LONG)(bits >> 32);
	s->sha.num = 0;
	s->hashed = st->offset;
}

static int too_large(struct lk_error *err, const char *what)
{
	return lk_error_set(err, "ZipTooLarge",
	                    "the zip would have %s (zip64 is not supported; Lambda allows 250 MB "
	                    "unzipped)",
	                    what);
}

static int open_temp(const char *path, char **tmp_out, struct lk_error *err)
{
	static atomic_uint counter;

	for (int tries = 0; tries < 100; tries++) {
		char *tmp =
		    xasprintf("%s.tmp-%ld-%u", path, (long)getpid(), atomic_fetch_add(&counter, 1));
		int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);

		if (fd >= 0) {
			*tmp_out = tmp;
			return fd;
		}
		free(tmp);
		if (errno != EEXIST)
			break;
	}
	return lk_error_set(err, "WriteError", "cannot create a temp file next to %s: %s", path,
	                    strerror(errno));
}

int zipw_write(const char *path, const struct zipw_item *items, size_t n,
               const struct zipw_opts *opts, struct zipw_result *res, struct lk_error *err)
{
	static const struct zipw_opts no_opts;
	const struct zipw_opts *o = opts ? opts : &no_opts;
	const struct zipw_archive *old = o->old_path && o->old ? o->old : NULL;
	struct sink s = {.fd = -1, .err = err};
	struct compressor c = {0};
	struct cd_meta *meta = NULL;
	struct zipw_read *reads = NULL;
	struct buf cd = {0};
	char *tmp = NULL;
	int old_fd = -1, rc = -1;
	size_t prefix = 0, last_tick = 0;
	uint64_t prefix_bytes = 0;

	memset(res, 0, sizeof(*res));
	if (n > MAX_ENTRIES)
		return too_large(err, "more than 65534 entries");
	if (old) {
		struct stat st;

		old_fd = open(o->old_path, O_RDONLY | O_CLOEXEC);
		if (old_fd < 0 || fstat(old_fd, &st) < 0 || (uint64_t)st.st_size != old->size) {
			lk_error_set(err, "ZipInvalid", "%s changed while building", o->old_path);
			goto out;
		}
		/* the leading entries that stay where they are: their bytes are the same */
		while (prefix < n && prefix < old->n && items[prefix].old == (long)prefix)
			prefix++;
		prefix_bytes = prefix < old->n ? old->v[prefix].offset : old->cd_offset;
	}
	s.fd = open_temp(path, &tmp, err);
	if (s.fd < 0)
		goto out;
	s.path = tmp;
	/* populated up front: 256 separate page faults cost more than the hashing of 1 MiB */
	s.buf = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE,
	             MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (s.buf == MAP_FAILED)
		lk_fatal("out of memory (mmap of the zip buffer)");
	meta = xcalloc(n ? n : 1, sizeof(*meta));
	reads = xcalloc(n ? n : 1, sizeof(*reads));
	SHA256_Init(&s.sha);
	if (prefix_bytes) {
		const struct zipw_sha_state *st = state_before(o, prefix_bytes);

		if (st) {
			/* the saved states up to st describe bytes this zip keeps */
			for (size_t i = 0;
			     i < o->n_old_states && o->old_states[i].offset <= st->offset; i++) {
				s.hashed = o->old_states[i].offset;
				sink_save_state(&s);
				memcpy(s.states[s.n_states - 1].h, o->old_states[i].h,
				       sizeof(st->h));
			}
			restore_state(&s, st);
			if (sink_clone_prefix(&s, old_fd, o->old_path, st->offset) < 0)
				goto out;
			res->reused_hash = st->offset;
		}
		if (sink_copy_hashed(&s, old_fd, o->old_path, s.written, prefix_bytes - s.written) <
		    0)
			goto out;
		res->patched = true;
	}
	for (size_t i = 0; i < prefix; i++) {
		const struct zipw_old_entry *e = &old->v[i];

		meta[i] = (struct cd_meta){.crc = e->crc,
		                           .csize = e->csize,
		                           .usize = e->usize,
		                           .offset = e->offset,
		                           .method = e->method,
		                           .flags = e->flags};
	}
	for (size_t i = prefix; i < n;) {
		const struct zipw_item *it = &items[i];
		uint64_t at = sink_offset(&s);

		if (o->cancel && atomic_load(o->cancel)) {
			lk_error_set(err, "Cancelled", "cancelled");
			goto out;
		}
		if (at > MAX_32) {
			too_large(err, "more than 4 GiB of entries");
			goto out;
		}
		if (it->old >= 0) {
			/* a run of unchanged entries that are back to back in the old zip */
			size_t j = i + 1;
			const struct zipw_old_entry *first;
			uint64_t from, to;
			unsigned char h[LOCAL_HEADER_SIZE];

			if (!old || (size_t)it->old >= old->n) {
				lk_error_set(err, "ZipError", "internal: no previous entry for %s",
				             it->name);
				goto out;
			}
			while (j < n && items[j].old == items[j - 1].old + 1 &&
			       (size_t)items[j].old < old->n)
				j++;
			first = &old->v[it->old];
			from = first->offset;
			to = (size_t)items[j - 1].old + 1 < old->n
			         ? old->v[items[j - 1].old + 1].offset
			         : old->cd_offset;
			/* the run's first local header must be the one its central entry describes
			 */
			if (pread_full(old_fd, h, sizeof(h), from) < 0 || get32(h) != SIG_LOCAL ||
			    get16(h + 26) != strlen(first->name) || get32(h + 18) != first->csize ||
			    get16(h + 28) != 0) {
				lk_error_set(err, "ZipInvalid", "%s: local header of %s damaged",
				             o->old_path, first->name);
				goto out;
			}
			if (at + (to - from) > MAX_32) {
				too_large(err, "more than 4 GiB of entries");
				goto out;
			}
			for (size_t k = i; k < j; k++) {
				const struct zipw_old_entry *e = &old->v[items[k].old];

				meta[k] =
				    (struct cd_meta){.crc = e->crc,
				                     .csize = e->csize,
				                     .usize = e->usize,
				                     .offset = (uint32_t)(at + e->offset - from),
				                     .method = e->method,
				                     .flags = e->flags};
			}
			if (sink_copy_hashed(&s, old_fd, o->old_path, from, to - from) < 0)
				goto out;
			res->patched = true;
			i = j;
		} else {
			const unsigned char *data = NULL;
			size_t len = 0;

			if (strlen(it->name) > 0xffff) {
				lk_error_set(err, "ZipError", "name too long: %.80s...", it->name);
				goto out;
			}
			meta[i].offset = (uint32_t)at;
			meta[i].flags = name_flags(it->name);
			if (compress_file(&c, it->src, &meta[i], &data, &len, &reads[i], err) < 0 ||
			    put_local_header(&s, it->name, &meta[i]) < 0 ||
			    sink_put(&s, data, len) < 0)
				goto out;
			i++;
		}
		if (o->progress && (i - last_tick) * 50 >= n) {
			o->progress(o->ctx, i, n);
			last_tick = i;
		}
	}
	/* central directory + end record */
	{
		uint64_t cd_off = sink_offset(&s);
		unsigned char end[END_RECORD_SIZE];

		if (cd_off > MAX_32) {
			too_large(err, "more than 4 GiB of entries");
			goto out;
		}
		for (size_t i = 0; i < n; i++) {
			unsigned char h[CENTRAL_HEADER_SIZE];
			size_t nl = strlen(items[i].name);

			put32(h, SIG_CENTRAL);
			put16(h + 4, VERSION_MADE_BY);
			put16(h + 6, VERSION_NEEDED);
			put16(h + 8, meta[i].flags);
			put16(h + 10, meta[i].method);
			put16(h + 12, DOS_TIME);
			put16(h + 14, DOS_DATE);
			put32(h + 16, meta[i].crc);
			put32(h + 20, meta[i].csize);
			put32(h + 24, meta[i].usize);
			put16(h + 28, (uint16_t)nl);
			put16(h + 30, 0); /* extra */
			put16(h + 32, 0); /* comment */
			put16(h + 34, 0); /* disk */
			put16(h + 36, 0); /* internal attributes */
			put32(h + 38, (uint32_t)(S_IFREG | (items[i].mode & 07777)) << 16);
			put32(h + 42, meta[i].offset);
			buf_append(&cd, h, sizeof(h));
			buf_append(&cd, items[i].name, nl);
		}
		if (cd_off + cd.len > MAX_32) {
			too_large(err, "a central directory past 4 GiB");
			goto out;
		}
		put32(end, SIG_END);
		put16(end + 4, 0);
		put16(end + 6, 0);
		put16(end + 8, (uint16_t)n);
		put16(end + 10, (uint16_t)n);
		put32(end + 12, (uint32_t)cd.len);
		put32(end + 16, (uint32_t)cd_off);
		put16(end + 20, 0);
		if (sink_put(&s, cd.data, cd.len) < 0 || sink_put(&s, end, sizeof(end)) < 0 ||
		    sink_flush(&s) < 0)
			goto out;
	}
	{
		struct stat st;

		if (fstat(s.fd, &st) < 0 || close(s.fd) < 0) {
			s.fd = -1;
			write_error(&s);
			goto out;
		}
		s.fd = -1;
		res->mtime_sec = st.st_mtim.tv_sec;
		res->mtime_nsec = st.st_mtim.tv_nsec;
		res->ino = (uint64_t)st.st_ino;
	}
	SHA256_Final(res->sha256, &s.sha);
	res->size = s.written;
	res->states = s.states;
	res->n_states = s.n_states;
	res->reads = reads;
	reads = NULL;
	res->tmp_path = tmp;
	res->path = xstrdup(path);
	s.states = NULL;
	tmp = NULL;
	if (o->progress)
		o->progress(o->ctx, n, n);
	rc = 0;
out:
	if (s.fd >= 0)
		close(s.fd);
	if (rc < 0 && tmp)
		unlink(tmp);
	if (old_fd >= 0)
		close(old_fd);
	if (c.z_ready)
		deflateEnd(&c.z);
	buf_free(&c.in);
	buf_free(&c.out);
	buf_free(&cd);
	free(s.states);
	if (s.buf)
		munmap(s.buf, BUF_SIZE);
	free(meta);
	free(reads);
	free(tmp);
	return rc;
}

int zipw_commit(struct zipw_result *res, struct lk_error *err)
{
	if (!res->tmp_path)
		return lk_error_set(err, "ZipError", "nothing to commit");
	/* Swap, then remove the old zip: a plain rename over it makes ext4 (auto_da_alloc) write
	 * the new zip out at once and free the old one's blocks inside the rename, 10-15 ms for
	 * 38 MB here. Readers see the old or the new zip either way. */
	if (renameat2(AT_FDCWD, res->tmp_path, AT_FDCWD, res->path, RENAME_EXCHANGE) == 0) {
		unlink(res->tmp_path);                     /* now the old zip */
	} else if (rename(res->tmp_path, res->path) < 0) { /* no old zip, or no exchange here */
		return lk_error_set(err, "WriteError", "cannot rename %s to %s: %s", res->tmp_path,
		                    res->path, strerror(errno));
	}
	free(res->tmp_path);
	res->tmp_path = NULL;
	return 0;
}

void zipw_result_free(struct zipw_result *res)
{
	if (!res)
		return;
	if (res->tmp_path)
		unlink(res->tmp_path);
	free(res->tmp_path);
	free(res->path);
	free(res->states);
	free(res->reads);
	memset(res, 0, sizeof(*res));
}
