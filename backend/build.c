/* build.c - quick build: manifest, stat pre-filter, deterministic zip patched by zipw.c,
 * dependency installs into a cached staging dir. See build.h. */
#include "backend/build.h"
#include "backend/build_method.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <ftw.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "backend/childguard.h"
#include "backend/zipw.h"

/* 3: scan_ms, for racy entries (2: no scan_ms; 1: zips by libzip): an older manifest means
 * one full build */
#define MANIFEST_VERSION      3
#define MANIFEST_VERSION_TEXT "3"
/* An entry whose recorded mtime is this close to (or after) the start of the scan that
 * recorded it is "racy": a rewrite right after our stat can keep the same mtime (coarse
 * kernel clock, 1 s file systems) and size, so the next build hashes it instead of
 * trusting its stat (git's racily-clean entries). */
#define RACY_MS   1000
#define MAX_DEPTH 48

/* Paths never packaged, whatever lambdeck.json says: these names, and "*.pyc". Build outputs
 * of the other tools (.aws-sam, .serverless) are there so a SAM or serverless project never
 * zips itself. Compared directly: fnmatch() in a UTF-8 locale converts every name to wide
 * characters, which was a third of a no-change build's scan. */
static const char *const default_excludes[] = {
    ".git", ".lambdeck", "__pycache__", ".aws-sam", ".serverless", NULL,
};

static bool default_excluded(const char *base)
{
	size_t n = strlen(base);

	if (n >= 4 && !memcmp(base + n - 4, ".pyc", 4))
		return true;
	for (int i = 0; default_excludes[i]; i++)
		if (!strcmp(default_excludes[i], base))
			return true;
	return false;
}

const char *build_phase_name(enum build_phase phase)
{
	switch (phase) {
	case BUILD_PHASE_SCAN:
		return "scan";
	case BUILD_PHASE_HASH:
		return "hash";
	case BUILD_PHASE_DEPS:
		return "deps";
	case BUILD_PHASE_BUNDLE:
		return "bundle";
	case BUILD_PHASE_ZIP:
		return "zip";
	case BUILD_PHASE_DONE:
		return "done";
	}
	return "?";
}

const char *build_outcome_name(enum build_outcome o)
{
	switch (o) {
	case BUILD_OK:
		return "built";
	case BUILD_UNCHANGED:
		return "unchanged";
	case BUILD_FAILED:
		return "failed";
	case BUILD_CANCELLED:
		return "cancelled";
	}
	return "?";
}

/* ---------------------------------------------------------------- entries */

enum origin { ORIGIN_CODE, ORIGIN_DEPS };

struct entry {
	char *path; /* name in the zip, '/'-separated, relative */
	char *src;  /* absolute file to read (NULL for manifest entries) */
	uint64_t size;
	uint32_t mode; /* permission bits */
	int64_t mtime_sec;
	long mtime_nsec;
	uint64_t ino;
	unsigned char sha[32];
	bool hashed;
	int origin;
	long old_index; /* index in the previous zip with the same path, -1 if none */
	bool changed;   /* content or mode differs from the previous build */
};

struct entry_list {
	struct entry *v;
	size_t n, cap;
};

/* Entry arrays (a few hundred KB for a few thousand files) live in their own mappings,
 * populated when made: a page fault costs ~15 us on a virtual machine, populating ~1.5 us,
 * and a no-change build's budget is 30 ms. */
static size_t entry_bytes(size_t cap)
{
	size_t page = 4096, n = (cap ? cap : 1) * sizeof(struct entry);

	return (n + page - 1) / page * page;
}

static void entry_list_resize(struct entry_list *l, size_t cap)
{
	void *p;

	if (!l->v) {
		p = mmap(NULL, entry_bytes(cap), PROT_READ | PROT_WRITE,
		         MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	} else {
		p = mremap(l->v, entry_bytes(l->cap), entry_bytes(cap), MREMAP_MAYMOVE);
		if (p != MAP_FAILED && entry_bytes(cap) > entry_bytes(l->cap))
			madvise(
			    (char *)p + entry_bytes(l->cap), entry_bytes(cap) - entry_bytes(l->cap),
			    MADV_POPULATE_WRITE); /* a hint: faults as usual where unsupported */
	}
	if (p == MAP_FAILED)
		lk_fatal("out of memory (%zu file entries)", cap);
	l->v = p;
	l->cap = cap;
}

static void entry_list_unmap(struct entry_list *l)
{
	if (l->v)
		munmap(l->v, entry_bytes(l->cap));
	l->v = NULL;
	l->n = l->cap = 0;
}

static void entry_list_reserve(struct entry_list *l, size_t n)
{
	if (l->cap < n)
		entry_list_resize(l, n);
}

static struct entry *entry_push(struct entry_list *l)
{
	if (l->n == l->cap)
		entry_list_resize(l, l->cap ? l->cap * 2 : 64);
	memset(&l->v[l->n], 0, sizeof(l->v[0]));
	l->v[l->n].old_index = -1;
	return &l->v[l->n++];
}

static void entry_list_free(struct entry_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].path);
		free(l->v[i].src);
	}
	entry_list_unmap(l);
}

static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->path, ((const struct entry *)b)->path);
}

static long entry_find(const struct entry_list *l, const char *path)
{
	size_t lo = 0, hi = l->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(l->v[mid].path, path);

		if (c == 0)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* ---------------------------------------------------------------- manifest */

struct manifest {
	struct entry_list entries;
	uint64_t zip_size;
	int64_t zip_mtime_sec;
	long zip_mtime_nsec;
	uint64_t zip_ino;
	char code_sha256[48];
	char deps_key[72];
	int64_t built_at_ms;
	int64_t scan_ms; /* wall clock when the build that wrote it started scanning */
	struct zipw_sha_state *states; /* SHA-256 states of code.zip every 1 MiB */
	size_t n_states, cap_states;
};

static void manifest_free(struct manifest *m)
{
	entry_list_free(&m->entries);
	free(m->states);
	memset(m, 0, sizeof(*m));
}

static inline int hex_digit(char c)
{
	unsigned char u = (unsigned char)c;

	if ((unsigned)(u - '0') < 10u)
		return u - '0';
	u |= 0x20; /* lower case */
	if ((unsigned)(u - 'a') < 6u)
		return u - 'a' + 10;
	return -1;
}

/* 2*len hex digits into len bytes; false on anything else (runs 3000 times per manifest). */
static bool hex_decode(const char *hex, size_t len, unsigned char *out)
{
	for (size_t i = 0; i < len; i++) {
		int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);

		if ((hi | lo) < 0)
			return false;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return true;
}

/* The manifest is JSON in one fixed shape (written by manifest_save, one entry per line),
 * read back by this strict little parser: 3000 entries parse in about a millisecond, where a
 * general JSON parser took several. Anything else is "not ours" and means a full build. */
struct cursor {
	const char *p, *end;
	bool ok;
};

static void expect(struct cursor *c, const char *lit)
{
	size_t n = strlen(lit);

	if (c->ok && (size_t)(c->end - c->p) >= n && !memcmp(c->p, lit, n))
		c->p += n;
	else
		c->ok = false;
}

static bool peek(const struct cursor *c, char ch)
{
	return c->ok && c->p < c->end && *c->p == ch;
}

static uint64_t read_u64(struct cursor *c)
{
	uint64_t v = 0;
	const char *start = c->p;

	while (c->ok && c->p < c->end && *c->p >= '0' && *c->p <= '9') {
		if (v > (UINT64_MAX - 9) / 10)
			c->ok = false;
		v = v * 10 + (uint64_t)(*c->p++ - '0');
	}
	if (c->p == start)
		c->ok = false;
	return v;
}

static int64_t read_i64(struct cursor *c)
{
	bool neg = peek(c, '-');
	uint64_t v;

	if (neg)
		c->p++;
	v = read_u64(c);
	if (v > INT64_MAX)
		c->ok = false;
	return neg ? -(int64_t)v : (int64_t)v;
}

static void put_utf8(struct buf *b, uint32_t cp)
{
	if (cp < 0x80) {
		buf_putc(b, (char)cp);
	} else if (cp < 0x800) {
		buf_putc(b, (char)(0xc0 | cp >> 6));
		buf_putc(b, (char)(0x80 | (cp & 0x3f)));
	} else if (cp < 0x10000) {
		buf_putc(b, (char)(0xe0 | cp >> 12));
		buf_putc(b, (char)(0x80 | (cp >> 6 & 0x3f)));
		buf_putc(b, (char)(0x80 | (cp & 0x3f)));
	} else {
		buf_putc(b, (char)(0xf0 | cp >> 18));
		buf_putc(b, (char)(0x80 | (cp >> 12 & 0x3f)));
		buf_putc(b, (char)(0x80 | (cp >> 6 & 0x3f)));
		buf_putc(b, (char)(0x80 | (cp & 0x3f)));
	}
}

static uint32_t read_hex4(struct cursor *c)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++) {
		int d = c->p < c->end ? hex_digit(*c->p) : -1;

		if (d < 0) {
			c->ok = false;
			return 0;
		}
		v = v << 4 | (uint32_t)d;
		c->p++;
	}
	return v;
}

/* A JSON string into out (reset first); NUL characters are refused. */
static void read_string(struct cursor *c, struct buf *out)
{
	buf_reset(out);
	expect(c, "\"");
	while (c->ok) {
		const char *q = c->p;

		while (q < c->end && *q != '"' && *q != '\\' && (unsigned char)*q >= 0x20)
			q++;
		buf_append(out, c->p, (size_t)(q - c->p));
		c->p = q;
		if (q == c->end || (unsigned char)*q < 0x20) {
			c->ok = false;
		} else if (*q == '"') {
			c->p++;
			return;
		} else {
			char e = ++c->p < c->end ? *c->p++ : '\0';
			uint32_t cp;

			switch (e) {
			case '"':
			case '\\':
			case '/':
				buf_putc(out, e);
				break;
			case 'b':
				buf_putc(out, '\b');
				break;
			case 'f':
				buf_putc(out, '\f');
				break;
			case 'n':
				buf_putc(out, '\n');
				break;
			case 'r':
				buf_putc(out, '\r');
				break;
			case 't':
				buf_putc(out, '\t');
				break;
			case 'u':
				cp = read_hex4(c);
				if (cp >= 0xd800 && cp < 0xdc00) {
					uint32_t lo;

					expect(c, "\\u");
					lo = read_hex4(c);
					if (lo < 0xdc00 || lo > 0xdfff)
						c->ok = false;
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				} else if (cp >= 0xdc00 && cp < 0xe000) {
					c->ok = false;
				}
				if (cp == 0)
					c->ok = false;
				if (c->ok)
					put_utf8(out, cp);
				break;
			default:
				c->ok = false;
			}
		}
	}
}

/* Manifest strings keep file names byte for byte (invalid UTF-8 included: read_string takes
 * raw bytes back); controls, DEL and C1 are escaped like every JSON lambdeck writes. */
static void write_string(struct buf *b, const char *s)
{
	util_json_string(b, s, strlen(s), true);
}

/* Loads a manifest; returns false (and an empty manifest) if absent or not ours. */
static bool manifest_load(const char *path, struct manifest *m)
{
	struct buf s = {0};
	struct cursor c;
	struct stat st;
	const char *data;
	size_t lines = 0;
	bool ok = false;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	memset(m, 0, sizeof(*m));
	/* mapped, not read: page faults cost ~15 us each on a virtual machine, and a mapped
	 * file faults in 16-page batches where a malloc'ed copy faults page by page */
	if (fd < 0 || fstat(fd, &st) < 0 || st.st_size == 0) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	data = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (data == MAP_FAILED)
		return false;
	for (const char *p = data; (p = memchr(p, '\n', (size_t)(data + st.st_size - p))); p++)
		lines++;
	entry_list_reserve(&m->entries, lines);
	c = (struct cursor){.p = data, .end = data + st.st_size, .ok = true};
	expect(&c, "{\"version\":" MANIFEST_VERSION_TEXT ",\"built_at_ms\":");
	m->built_at_ms = read_i64(&c);
	expect(&c, ",\"scan_ms\":");
	m->scan_ms = read_i64(&c);
	expect(&c, ",\"zip_size\":");
	m->zip_size = read_u64(&c);
	expect(&c, ",\"zip_mtime_sec\":");
	m->zip_mtime_sec = read_i64(&c);
	expect(&c, ",\"zip_mtime_nsec\":");
	m->zip_mtime_nsec = (long)read_i64(&c);
	expect(&c, ",\"zip_ino\":");
	m->zip_ino = read_u64(&c);
	expect(&c, ",\"code_sha256\":");
	read_string(&c, &s);
	if (c.ok)
		snprintf(m->code_sha256, sizeof(m->code_sha256), "%s", s.data);
	expect(&c, ",\"deps_key\":");
	read_string(&c, &s);
	if (c.ok)
		snprintf(m->deps_key, sizeof(m->deps_key), "%s", s.data);
	expect(&c, ",\n\"sha_states\":[");
	while (c.ok && !peek(&c, ']')) {
		struct zipw_sha_state *st;
		unsigned char h[32];

		if (m->n_states)
			expect(&c, ",");
		expect(&c, "[");
		if (m->n_states == m->cap_states) {
			m->cap_states = m->cap_states ? 2 * m->cap_states : 16;
			m->states = xrealloc(m->states, m->cap_states * sizeof(*m->states));
		}
		st = &m->states[m->n_states++];
		st->offset = read_u64(&c);
		expect(&c, ",");
		read_string(&c, &s);
		expect(&c, "]");
		if (c.ok && (s.len != 64 || !hex_decode(s.data, 32, h)))
			c.ok = false;
		for (int i = 0; c.ok && i < 8; i++)
			st->h[i] = (uint32_t)h[4 * i] << 24 | (uint32_t)h[4 * i + 1] << 16 |
			           (uint32_t)h[4 * i + 2] << 8 | h[4 * i + 3];
	}
	expect(&c, "],\n\"entries\":[");
	while (c.ok && !peek(&c, ']')) {
		/* [path, size, mode, mtime_sec, mtime_nsec, ino, sha256hex, origin] */
		struct entry *e;

		if (m->entries.n)
			expect(&c, ",");
		expect(&c, "\n[");
		read_string(&c, &s);
		if (!c.ok || s.len == 0 || strlen(s.data) != s.len)
			break;
		e = entry_push(&m->entries);
		e->path = xstrdup(s.data);
		expect(&c, ",");
		e->size = read_u64(&c);
		expect(&c, ",");
		e->mode = (uint32_t)read_u64(&c) & 07777;
		expect(&c, ",");
		e->mtime_sec = read_i64(&c);
		expect(&c, ",");
		e->mtime_nsec = (long)read_i64(&c);
		expect(&c, ",");
		e->ino = read_u64(&c);
		expect(&c, ",\"");
		if (c.ok && (c.end - c.p < 64 || !hex_decode(c.p, 32, e->sha)))
			c.ok = false;
		if (c.ok)
			c.p += 64;
		expect(&c, "\",");
		e->origin = (int)read_u64(&c);
		expect(&c, "]");
		e->hashed = true;
		if (m->entries.n > 1 && strcmp(m->entries.v[m->entries.n - 2].path, e->path) >= 0)
			c.ok = false; /* must be sorted and unique */
	}
	expect(&c, "]}\n");
	ok = c.ok && c.p == c.end;
	munmap((void *)data, (size_t)st.st_size);
	buf_free(&s);
	if (!ok)
		manifest_free(m);
	return ok;
}

static int manifest_save(const char *path, const struct manifest *m, const struct entry_list *l,
                         struct lk_error *err)
{
	struct buf b = {0};
	int rc;

	buf_reserve(&b, 160 * l->n + 100 * m->n_states + 512);
	buf_printf(&b,
	           "{\"version\":%d,\"built_at_ms\":%lld,\"scan_ms\":%lld,\"zip_size\":%llu,"
	           "\"zip_mtime_sec\":%lld,\"zip_mtime_nsec\":%ld,\"zip_ino\":%llu,"
	           "\"code_sha256\":",
	           MANIFEST_VERSION, (long long)m->built_at_ms, (long long)m->scan_ms,
	           (unsigned long long)m->zip_size, (long long)m->zip_mtime_sec, m->zip_mtime_nsec,
	           (unsigned long long)m->zip_ino);
	write_string(&b, m->code_sha256);
	buf_puts(&b, ",\"deps_key\":");
	write_string(&b, m->deps_key);
	buf_puts(&b, ",\n\"sha_states\":[");
	for (size_t i = 0; i < m->n_states; i++) {
		unsigned char h[32];
		char hex[65];

		for (int k = 0; k < 8; k++) {
			h[4 * k] = (unsigned char)(m->states[i].h[k] >> 24);
			h[4 * k + 1] = (unsigned char)(m->states[i].h[k] >> 16);
			h[4 * k + 2] = (unsigned char)(m->states[i].h[k] >> 8);
			h[4 * k + 3] = (unsigned char)m->states[i].h[k];
		}
		util_hex(h, 32, hex);
		buf_printf(&b, "%s[%llu,\"%s\"]", i ? "," : "",
		           (unsigned long long)m->states[i].offset, hex);
	}
	buf_puts(&b, "],\n\"entries\":[");
	for (size_t i = 0; i < l->n; i++) {
		const struct entry *e = &l->v[i];
		char hex[65];

		util_hex(e->sha, 32, hex);
		buf_puts(&b, i ? ",\n[" : "\n[");
		write_string(&b, e->path);
		buf_printf(&b, ",%llu,%u,%lld,%ld,%llu,\"%s\",%d]", (unsigned long long)e->size,
		           e->mode, (long long)e->mtime_sec, e->mtime_nsec,
		           (unsigned long long)e->ino, hex, e->origin);
	}
	buf_puts(&b, "]}\n");
	rc = util_write_atomic(path, b.data, b.len, 0666, err);
	buf_free(&b);
	return rc;
}

/* ---------------------------------------------------------------- hashing */

static int sha256_file(const char *path, unsigned char out[32], uint64_t *size_read,
                       atomic_bool *cancel, struct lk_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	EVP_MD_CTX *ctx;
	char buf[1 << 16];
	uint64_t total = 0;
	ssize_t r;
	int rc = 0;

	if (fd < 0)
		return lk_error_set(err, "ReadError", "cannot read %s: %s", path, strerror(errno));
	ctx = EVP_MD_CTX_new();
	if (!ctx)
		lk_fatal("out of memory (EVP_MD_CTX_new)");
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	while ((r = read(fd, buf, sizeof(buf))) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			rc = lk_error_set(err, "ReadError", "cannot read %s: %s", path,
			                  strerror(errno));
			break;
		}
		EVP_DigestUpdate(ctx, buf, (size_t)r);
		total += (uint64_t)r;
		if (cancel && atomic_load(cancel)) {
			rc = lk_error_set(err, "Cancelled", "cancelled");
			break;
		}
	}
	EVP_DigestFinal_ex(ctx, out, NULL);
	EVP_MD_CTX_free(ctx);
	close(fd);
	if (size_read)
		*size_read = total;
	return rc;
}

int build_file_code_sha256(const char *path, char out[48], struct lk_error *err)
{
	unsigned char sha[32];
	char *b64;

	out[0] = '\0';
	if (sha256_file(path, sha, NULL, NULL, err) < 0)
		return -1;
	b64 = util_base64(sha, 32);
	snprintf(out, 48, "%s", b64);
	free(b64);
	return 0;
}

/* ---------------------------------------------------------------- scanning */

struct scan {
	const char *root;   /* directory being scanned (absolute) */
	char *root_real;    /* its realpath */
	const char *prefix; /* prepended to zip names ("" or "node_modules/") */
	int origin;
	char *const *exclude; /* user globs */
	size_t n_exclude;
	bool skip_node_modules; /* dependencies come from the staging dir instead */
	int part, n_parts;      /* this scanner takes the top-level directories k % n_parts == part
	                           (and, as part 0, the top-level files) */
	struct entry_list *out;
	atomic_bool *cancel;
	struct lk_error *err;
	int result; /* of a scanner on its own thread */
};

static bool glob_match(const char *glob, const char *rel, const char *base)
{
	size_t gl = strlen(glob);
	char *g;
	bool m;

	if (gl == 0)
		return false;
	/* "dir/" means the directory dir; "**" works like "*" because FNM_PATHNAME is off. */
	g = xstrdup(glob);
	while (gl > 1 && g[gl - 1] == '/')
		g[--gl] = '\0';
	if (!strncmp(g, "./", 2))
		memmove(g, g + 2, strlen(g + 2) + 1);
	m = fnmatch(g, rel, 0) == 0 || (!strchr(g, '/') && fnmatch(g, base, 0) == 0);
	if (!m && gl > 3 && !strcmp(g + gl - 3, "/**")) {
		g[gl - 3] = '\0';
		m = fnmatch(g, rel, 0) == 0;
	}
	free(g);
	return m;
}

static bool is_excluded(const struct scan *s, const char *rel, const char *base, bool is_dir)
{
	if (default_excluded(base))
		return true;
	if (is_dir && s->skip_node_modules && !strcmp(rel, "node_modules"))
		return true;
	/* In order, the last match wins; "!glob" includes again (Serverless package.patterns) */
	bool excluded = false;
	for (size_t i = 0; i < s->n_exclude; i++) {
		const char *g = s->exclude[i];
		if (g && g[0] == '!' ? glob_match(g + 1, rel, base) : g && glob_match(g, rel, base))
			excluded = g[0] != '!';
	}
	return excluded;
}

static bool path_inside(const char *real, const char *root_real)
{
	size_t n = strlen(root_real);

	if (!strcmp(root_real, "/"))
		return true;
	return !strncmp(real, root_real, n) && (real[n] == '/' || real[n] == '\0');
}

static char *path_concat(const char *a, const char *sep, const char *b)
{
	size_t la = strlen(a), ls = strlen(sep), lb = strlen(b);
	char *p = xmalloc(la + ls + lb + 1);

	memcpy(p, a, la);
	memcpy(p + la, sep, ls);
	memcpy(p + la + ls, b, lb + 1);
	return p;
}

static int scan_dir(struct scan *s, const char *abs, const char *rel, int depth)
{
	DIR *d;
	struct dirent *de;
	int rc = 0, top_dirs = 0;

	if (depth > MAX_DEPTH)
		return lk_error_set(s->err, "BuildError",
		                    "%s: directories nested too deep (a symlink loop?)", abs);
	d = opendir(abs);
	if (!d)
		return lk_error_set(s->err, "ReadError", "cannot read directory %s: %s", abs,
		                    strerror(errno));
	while (rc == 0 && (de = readdir(d))) {
		const char *name = de->d_name;
		char *child_abs, *child_rel;
		struct stat st;

		if (!strcmp(name, ".") || !strcmp(name, ".."))
			continue;
		if (s->cancel && atomic_load(s->cancel)) {
			rc = lk_error_set(s->err, "Cancelled", "cancelled");
			break;
		}
		if (depth == 0 && de->d_type != DT_DIR && de->d_type != DT_UNKNOWN &&
		    de->d_type != DT_LNK && s->part != 0)
			continue; /* top-level files belong to part 0 */
		child_abs = path_concat(abs, "/", name);
		child_rel = rel[0] ? path_concat(rel, "/", name) : xstrdup(name);
		if (de->d_type == DT_DIR) {
			st.st_mode = S_IFDIR; /* no stat needed to recurse */
		} else if (fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			rc = lk_error_set(s->err, "ReadError", "cannot stat %s: %s", child_abs,
			                  strerror(errno));
		} else if (S_ISLNK(st.st_mode)) {
			char *real = realpath(child_abs, NULL);

			if (!real) {
				rc = lk_error_set(s->err, "BuildError",
				                  "%s%s: broken symlink (%s); fix or exclude it",
				                  s->prefix, child_rel, strerror(errno));
			} else if (!path_inside(real, s->root_real)) {
				rc = lk_error_set(
				    s->err, "SymlinkOutside",
				    "%s%s: symlink points outside the code directory (to "
				    "%s); refusing to package it — copy the file in or "
				    "exclude the link",
				    s->prefix, child_rel, real);
			} else if (stat(child_abs, &st) < 0) {
				rc = lk_error_set(s->err, "ReadError", "cannot stat %s: %s",
				                  child_abs, strerror(errno));
			}
			free(real);
		}
		if (rc == 0 && depth == 0 &&
		    (S_ISDIR(st.st_mode) ? top_dirs++ % s->n_parts != s->part : s->part != 0)) {
			/* the other scanner's */
		} else if (rc == 0 && S_ISDIR(st.st_mode)) {
			if (!is_excluded(s, child_rel, name, true))
				rc = scan_dir(s, child_abs, child_rel, depth + 1);
		} else if (rc == 0 && S_ISREG(st.st_mode) &&
		           !is_excluded(s, child_rel, name, false)) {
			struct entry *e = entry_push(s->out);

			e->path = s->prefix[0] ? path_concat(s->prefix, "", child_rel) : child_rel;
			if (!s->prefix[0])
				child_rel = NULL;
			e->src = child_abs;
			child_abs = NULL;
			e->size = (uint64_t)st.st_size;
			e->mode = st.st_mode & 07777;
			e->mtime_sec = st.st_mtim.tv_sec;
			e->mtime_nsec = st.st_mtim.tv_nsec;
			e->ino = (uint64_t)st.st_ino;
			e->origin = s->origin;
		}
		/* sockets, fifos and devices are not packaged */
		free(child_abs);
		free(child_rel);
	}
	closedir(d);
	return rc;
}

static void scan_thread(void *arg)
{
	struct scan *s = arg;

	s->result = scan_dir(s, s->root_real, "", 0);
}

/* Scans root into out (unsorted). Two scanners split the top-level directories: the walk is
 * a few thousand stat calls, which cost ~5 us each on a virtual machine, and the second core
 * halves that. */
/* hint: about how many files to expect (the last build's count), to size the lists once */
static int scan_tree(const char *root, const char *prefix, int origin, char *const *exclude,
                     size_t n_exclude, bool skip_node_modules, size_t hint, struct entry_list *out,
                     atomic_bool *cancel, struct lk_error *err)
{
	struct scan s[2];
	struct entry_list second = {0};
	struct lk_error err2 = {0};
	uv_thread_t helper;
	bool threaded;
	int rc;

	for (int i = 0; i < 2; i++)
		s[i] = (struct scan){
		    .root = root,
		    .prefix = prefix,
		    .origin = origin,
		    .exclude = exclude,
		    .n_exclude = n_exclude,
		    .skip_node_modules = skip_node_modules,
		    .part = i,
		    .n_parts = 2,
		    .out = i ? &second : out,
		    .cancel = cancel,
		    .err = i ? &err2 : err,
		};
	s[0].root_real = realpath(root, NULL);
	if (!s[0].root_real || !util_is_dir(s[0].root_real)) {
		free(s[0].root_real);
		return lk_error_set(err, "CodeDirMissing", "code directory %s does not exist",
		                    root);
	}
	s[1].root_real = s[0].root_real;
	entry_list_reserve(out, out->n + hint + 16);
	entry_list_reserve(&second, hint / 2 + 16);
	threaded = uv_thread_create(&helper, scan_thread, &s[1]) == 0;
	if (!threaded)
		s[0].n_parts = 1; /* no thread: one scanner takes everything */
	rc = scan_dir(&s[0], s[0].root_real, "", 0);
	if (threaded) {
		uv_thread_join(&helper);
		if (rc == 0 && s[1].result < 0) {
			*err = err2;
			rc = -1;
		}
		entry_list_reserve(out, out->n + second.n);
		for (size_t i = 0; i < second.n; i++) /* strings move to out */
			*entry_push(out) = second.v[i];
		entry_list_unmap(&second);
	}
	free(s[0].root_real);
	return rc;
}

/* ---------------------------------------------------------------- small fs helpers */

static int rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	remove(path);
	return 0;
}

static void rm_rf(const char *path)
{
	nftw(path, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

char *build_artifact_dir(const char *project_dir, const char *function)
{
	return xasprintf("%s/.lambdeck/build/%s", project_dir, function);
}

char *build_zip_path(const char *project_dir, const char *function)
{
	return xasprintf("%s/.lambdeck/build/%s/code.zip", project_dir, function);
}

/* ---------------------------------------------------------------- the job */

#define BUILD_LOCK_WAIT_MS 120000
#define BUILD_SKIP_DEPS_HINT                                                                       \
	"To go on without installing (cached dependencies are used, if any): lambdeck build "      \
	"--skip-deps (also deploy, invoke, replay and the console, where S in the Functions pane " \
	"toggles it), or \"skip_deps\": true in lambdeck.json"

enum deps_kind { DEPS_NONE, DEPS_PIP, DEPS_NPM };

struct build_job {
	uv_loop_t *loop;
	/* inputs, copied */
	char *project_dir, *function, *code_dir, *runtime, *problem;
	bool buildable;
	char **exclude;
	size_t n_exclude;
	struct build_opts opts;
	build_progress_fn progress;
	build_done_fn done;
	void *user;      /* progress and output callbacks */
	void *done_user; /* the done callback */
	/* paths */
	char *art_dir, *zip_path, *manifest_path;
	/* progress from the worker thread */
	uv_async_t async;
	uv_mutex_t mu;
	enum build_phase p_phase;
	uint64_t p_done, p_total;
	bool p_pending;
	/* dependencies */
	enum deps_kind deps_kind;
	char deps_key[72];
	char *deps_dir;     /* final cache dir (exists when cached / installed) */
	char *deps_tmp;     /* staging dir the installer writes */
	char *deps_root;    /* <project>/.lambdeck/deps: shared by the functions of the project */
	int deps_lock_fd;   /* holds <key>.lock while deciding and installing, else -1 */
	int64_t started_ms; /* wall clock, to recognise an install that failed meanwhile */
	/* the declared build step (backend/build_method.h) */
	char *build_method; /* NULL: the code directory is zipped as it is */
	char **build_props;
	size_t n_build_props;
	char *handler_rel; /* the handler's file relative to code_dir (default entry) */
	char *bundle_dir;  /* <art>/bundle: zipped instead of code_dir */
	char *bundle_tmp;  /* where the step writes */
	char *esbuild;     /* NULL: install it first */
	char *tool_tmp;    /* esbuild's install directory before its rename */
	char *step_label;  /* "esbuild", "make build-Fn" */
	char stamp[65];    /* sources + properties the bundle was built from */
	bool need_build_step;
	bool bundle_built;                      /* bundle_tmp holds a new bundle to swap in */
	void (*proc_done)(struct build_job *j); /* after the running child process */
	bool need_install;
	uv_process_t proc;
	uv_pipe_t pipes[2];
	int proc_pending; /* process exit + open pipes */
	int64_t proc_status;
	int proc_signal;
	bool proc_started;
	bool spawn_failed;
	struct buf out_tail;
	/* state */
	atomic_bool cancel;
	uv_work_t work;
	int64_t started_ns;
	struct build_result res;
};

static void job_free(struct build_job *j)
{
	free(j->project_dir);
	free(j->function);
	free(j->code_dir);
	free(j->runtime);
	free(j->problem);
	for (size_t i = 0; i < j->n_exclude; i++)
		free(j->exclude[i]);
	free(j->exclude);
	free(j->art_dir);
	free(j->zip_path);
	free(j->manifest_path);
	free(j->deps_dir);
	free(j->deps_tmp);
	free(j->deps_root);
	free(j->build_method);
	for (size_t i = 0; i < j->n_build_props; i++)
		free(j->build_props[i]);
	free(j->build_props);
	free(j->handler_rel);
	free(j->bundle_dir);
	free(j->bundle_tmp);
	free(j->esbuild);
	free(j->tool_tmp);
	free(j->step_label);
	if (j->deps_lock_fd >= 0)
		close(j->deps_lock_fd);
	buf_free(&j->out_tail);
	free(j->res.zip_path);
	uv_mutex_destroy(&j->mu);
	free(j);
}

static void async_closed(uv_handle_t *h)
{
	job_free(h->data);
}

static void post_progress(struct build_job *j, enum build_phase phase, uint64_t done,
                          uint64_t total)
{
	uv_mutex_lock(&j->mu);
	j->p_phase = phase;
	j->p_done = done;
	j->p_total = total;
	j->p_pending = true;
	uv_mutex_unlock(&j->mu);
	uv_async_send(&j->async);
}

static void async_cb(uv_async_t *a)
{
	struct build_job *j = a->data;
	enum build_phase phase;
	uint64_t done, total;
	bool pending;

	uv_mutex_lock(&j->mu);
	phase = j->p_phase;
	done = j->p_done;
	total = j->p_total;
	pending = j->p_pending;
	j->p_pending = false;
	uv_mutex_unlock(&j->mu);
	if (pending && j->progress)
		j->progress(j->user, j->function, phase, done, total);
}

static void finish(struct build_job *j)
{
	async_cb(&j->async); /* deliver a last pending progress first */
	if (j->res.outcome != BUILD_OK && j->res.outcome != BUILD_UNCHANGED) {
		if (atomic_load(&j->cancel) && j->res.outcome != BUILD_FAILED) {
			j->res.outcome = BUILD_CANCELLED;
			lk_error_set(&j->res.err, "Cancelled", "build of %s cancelled",
			             j->function);
		}
	}
	j->res.function = j->function;
	j->res.elapsed_ms = (double)(util_monotonic_ns() - (uint64_t)j->started_ns) / 1e6;
	if (j->progress)
		j->progress(j->user, j->function, BUILD_PHASE_DONE, 1, 1);
	j->done(j->done_user, &j->res);
	uv_close((uv_handle_t *)&j->async, async_closed);
}

static void fail(struct build_job *j, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fail(struct build_job *j, const char *code, const char *fmt, ...)
{
	va_list ap;
	char msg[512];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	j->res.outcome = BUILD_FAILED;
	lk_error_set(&j->res.err, code, "%s", msg);
}

/* ---- dependency spec */

static bool requirements_nonempty(const struct buf *b)
{
	const char *p = b->data ? b->data : "";

	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t n = eol ? (size_t)(eol - p) : strlen(p);
		size_t k = 0;

		while (k < n && (p[k] == ' ' || p[k] == '\t' || p[k] == '\r'))
			k++;
		if (k < n && p[k] != '#')
			return true;
		p += n + (eol ? 1 : 0);
	}
	return false;
}

static bool package_json_has_deps(const struct buf *b)
{
	cJSON *root = cJSON_ParseWithLength(b->data ? b->data : "", b->len);
	const cJSON *deps = cJSON_GetObjectItemCaseSensitive(root, "dependencies");
	bool has = cJSON_IsObject(deps) && deps->child;

	cJSON_Delete(root);
	return has;
}

static bool starts_with(const char *s, const char *prefix)
{
	return s && !strncmp(s, prefix, strlen(prefix));
}

/* Takes <key>.lock, waiting (on this pool thread, cancel honoured) while another build, in
 * this process or another, installs the same dependencies. */
static int deps_lock(struct build_job *j, struct lk_error *err)
{
	char *path = xasprintf("%s/%s.lock", j->deps_root, j->deps_key);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);

	free(path);
	if (fd < 0)
		return lk_error_set(err, "BuildError", "%s: cannot lock the dependency cache: %s",
		                    j->function, strerror(errno));
	for (int waited = 0; flock(fd, LOCK_EX | LOCK_NB) < 0; waited += 50) {
		if (errno != EWOULDBLOCK || atomic_load(&j->cancel) ||
		    waited >= 60 * BUILD_LOCK_WAIT_MS) {
			close(fd);
			return lk_error_set(
			    err, atomic_load(&j->cancel) ? "Cancelled" : "BuildBusy",
			    "%s: the shared dependency install did not finish", j->function);
		}
		usleep(50 * 1000);
	}
	j->deps_lock_fd = fd;
	return 0;
}

static void deps_unlock(struct build_job *j)
{
	if (j->deps_lock_fd >= 0)
		close(j->deps_lock_fd); /* releases the flock */
	j->deps_lock_fd = -1;
}

static char *deps_failed_path(const struct build_job *j)
{
	return xasprintf("%s/%s.failed", j->deps_root, j->deps_key);
}

/* True (err set) when the same install failed after this build started: functions sharing
 * the dependencies report that failure instead of each running the installer again. */
static bool deps_failed_meanwhile(struct build_job *j, struct lk_error *err)
{
	char *path = deps_failed_path(j);
	struct stat st;
	struct buf b = {0};
	struct lk_error rerr = {0};
	bool failed = false;

	if (!util_is_dir(j->deps_dir) && stat(path, &st) == 0 &&
	    (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000 >= j->started_ms &&
	    util_read_file(path, &b, &rerr) == 0) {
		lk_error_set(err, "InstallFailed", "%s: %s", j->function, b.data ? b.data : "");
		failed = true;
	}
	buf_free(&b);
	free(path);
	if (failed)
		deps_unlock(j);
	return failed;
}

/* Decides whether and what to install; computes the cache key. Worker thread. */
static int deps_prepare(struct build_job *j, struct lk_error *err)
{
	char *req = util_path_join(j->code_dir, "requirements.txt");
	char *pkg = util_path_join(j->code_dir, "package.json");
	char *lock = util_path_join(j->code_dir, "package-lock.json");
	struct buf spec = {0}, content = {0};
	unsigned char sha[32];
	int rc = 0;

	/* A Makefile installs what it needs; esbuild resolves from the project's own
	 * node_modules when there is one (and from an install of ours otherwise). */
	if (j->build_method && (!strcmp(j->build_method, "makefile") ||
	                        build_method_has_node_modules(j->project_dir, j->code_dir)))
		goto out;
	if (util_is_file(req) && (starts_with(j->runtime, "python") || !j->runtime)) {
		if (util_read_file(req, &content, err) < 0) {
			rc = -1;
			goto out;
		}
		if (requirements_nonempty(&content)) {
			j->deps_kind = DEPS_PIP;
			buf_printf(&spec, "pip\n%s\n", j->runtime ? j->runtime : "");
			buf_append(&spec, content.data, content.len);
		}
	} else if (util_is_file(pkg) && (starts_with(j->runtime, "nodejs") || !j->runtime)) {
		if (util_read_file(pkg, &content, err) < 0) {
			rc = -1;
			goto out;
		}
		if (package_json_has_deps(&content)) {
			j->deps_kind = DEPS_NPM;
			buf_printf(&spec, "npm\n%s\n", j->runtime ? j->runtime : "");
			buf_append(&spec, content.data, content.len);
			buf_reset(&content);
			if (util_is_file(lock)) {
				if (util_read_file(lock, &content, err) < 0) {
					rc = -1;
					goto out;
				}
				buf_puts(&spec, "\nlock\n");
				buf_append(&spec, content.data, content.len);
			}
		}
	}
	if (j->deps_kind != DEPS_NONE) {
		char dir_key[65], spec_key[65];

		/* One install per (code directory, manifests, runtime), shared by every function
		 * built from that directory: <project>/.lambdeck/deps/<dir>-<manifests>. */
		util_sha256(j->code_dir, strlen(j->code_dir), sha);
		util_hex(sha, 32, dir_key);
		util_sha256(spec.data, spec.len, sha);
		util_hex(sha, 32, spec_key);
		/* 48 bits tell code directories apart, 128 bits of the manifests are plenty */
		snprintf(j->deps_key, sizeof(j->deps_key), "%.12s-%.32s", dir_key, spec_key);
		j->deps_root = xasprintf("%s/.lambdeck/deps", j->project_dir);
		j->deps_dir = xasprintf("%s/%s", j->deps_root, j->deps_key);
		j->deps_tmp = xasprintf("%s/%s.tmp", j->deps_root, j->deps_key);
		if (util_mkdir_p(j->deps_root, 0777, err) < 0 || deps_lock(j, err) < 0) {
			rc = -1;
			goto out;
		}
		if (deps_failed_meanwhile(j, err)) {
			rc = -1;
			goto out;
		}
		rm_rf(j->deps_tmp); /* leftover of a failed or interrupted install (we hold the
		                       lock) */
		j->need_install = !util_is_dir(j->deps_dir) && !j->opts.skip_deps;
		if (j->need_install) {
			if (util_mkdir_p(j->deps_tmp, 0777, err) < 0) {
				rc = -1;
			} else if (j->deps_kind == DEPS_NPM) {
				/* npm works in the staging dir on copies of the manifests */
				const char *names[] = {"package.json", "package-lock.json"};

				for (int i = 0; i < 2 && rc == 0; i++) {
					char *from = util_path_join(j->code_dir, names[i]);
					char *to = util_path_join(j->deps_tmp, names[i]);

					buf_reset(&content);
					if (util_is_file(from))
						rc = util_read_file(from, &content, err) < 0 ||
						             util_write_atomic(to, content.data,
						                               content.len, 0666,
						                               err) < 0
						         ? -1
						         : 0;
					free(from);
					free(to);
				}
			}
		} else {
			if (j->opts.skip_deps && !util_is_dir(j->deps_dir))
				snprintf(
				    j->res.warning, sizeof(j->res.warning),
				    "dependencies not installed (--skip-deps) and none cached: "
				    "the function may fail to import them");
			deps_unlock(j); /* nothing to install: others may go on */
		}
	}
out:
	buf_free(&spec);
	buf_free(&content);
	free(req);
	free(pkg);
	free(lock);
	return rc;
}

/* Fingerprint of what a declared build step reads: every source file's path, size and mtime
 * (node_modules aside), the method and its properties. Blocking; worker thread. */
static int source_stamp(const char *code_dir, char *const *exclude, size_t n_exclude,
                        const char *method, char *const *props, size_t n_props, atomic_bool *cancel,
                        char out[65], struct lk_error *err)
{
	struct entry_list list = {0};
	struct buf b = {0};
	unsigned char sha[32];

	if (scan_tree(code_dir, "", ORIGIN_CODE, exclude, n_exclude, true, 0, &list, cancel, err) <
	    0) {
		entry_list_free(&list);
		return -1;
	}
	if (list.n)
		qsort(list.v, list.n, sizeof(*list.v), entry_cmp);
	buf_printf(&b, "%s\n%s\n", method, code_dir);
	for (size_t i = 0; i < n_props; i++)
		buf_printf(&b, "%s\n", props[i]);
	for (size_t i = 0; i < list.n; i++)
		buf_printf(&b, "%s %llu %lld.%ld\n", list.v[i].path,
		           (unsigned long long)list.v[i].size, (long long)list.v[i].mtime_sec,
		           list.v[i].mtime_nsec);
	util_sha256(b.data ? b.data : "", b.len, sha);
	util_hex(sha, 32, out);
	buf_free(&b);
	entry_list_free(&list);
	return 0;
}

/* Whether the build step must run (sources or properties changed, or no bundle yet) and
 * which esbuild it uses. Worker thread. */
static int build_step_prepare(struct build_job *j, struct lk_error *err)
{
	char *stamp_path = util_path_join(j->art_dir, "bundle.stamp");
	struct buf old = {0};
	struct lk_error rerr = {0};

	if (source_stamp(j->code_dir, j->exclude, j->n_exclude, j->build_method, j->build_props,
	                 j->n_build_props, &j->cancel, j->stamp, err) < 0) {
		free(stamp_path);
		return -1;
	}
	j->need_build_step = j->opts.full || !util_is_dir(j->bundle_dir) ||
	                     util_read_file(stamp_path, &old, &rerr) < 0 || !old.data ||
	                     strcmp(old.data, j->stamp) != 0;
	buf_free(&old);
	free(stamp_path);
	rm_rf(j->bundle_tmp);
	if (!j->need_build_step)
		return 0;
	if (!strcmp(j->build_method, "esbuild"))
		j->esbuild = build_method_find_esbuild(j->project_dir, j->code_dir, j->deps_dir);
	return util_mkdir_p(j->bundle_tmp, 0777, err);
}

/* ---- worker: prepare */

static void prepare_work(uv_work_t *w)
{
	struct build_job *j = w->data;
	struct lk_error *err = &j->res.err;

	if (!j->buildable || j->problem) {
		fail(j, "NotBuildable", "%s: cannot be built by lambdeck (%s)", j->function,
		     j->problem ? j->problem : "no local code");
		return;
	}
	if (!j->code_dir || !util_is_dir(j->code_dir)) {
		fail(j, "CodeDirMissing", "%s: code directory %s does not exist", j->function,
		     j->code_dir ? j->code_dir : "(none)");
		return;
	}
	if (util_mkdir_p(j->art_dir, 0777, err) < 0 || deps_prepare(j, err) < 0 ||
	    (j->build_method && build_step_prepare(j, err) < 0)) {
		j->res.outcome = BUILD_FAILED;
		return;
	}
}

static void main_work(uv_work_t *w);
static void main_done(uv_work_t *w, int status);

static void start_main(struct build_job *j)
{
	j->work.data = j;
	if (uv_queue_work(j->loop, &j->work, main_work, main_done) < 0) {
		fail(j, "BuildError", "cannot queue the build of %s", j->function);
		finish(j);
	}
}

/* ---- installer (loop thread) */

static void tail_append(struct build_job *j, const char *data, size_t len)
{
	buf_append(&j->out_tail, data, len);
	if (j->out_tail.len > 4096) {
		size_t drop = j->out_tail.len - 2048;

		memmove(j->out_tail.data, j->out_tail.data + drop, j->out_tail.len - drop);
		j->out_tail.len -= drop;
		j->out_tail.data[j->out_tail.len] = '\0';
	}
}

/* The installer's most telling line, sanitised, for the error message: npm's first error
 * line that says what failed ("npm error 404 Not Found - GET .../pkg"), not the pointer to
 * its log; otherwise the last non-empty line (pip's). */
static void last_line(const struct buf *b, char *out, size_t cap)
{
	const char *s = b->data ? b->data : "";
	size_t end = b->len, start = 0;
	struct buf clean = {0};

	for (const char *l = s; *l;) {
		const char *eol = strchr(l, '\n');
		size_t n = eol ? (size_t)(eol - l) : strlen(l);
		bool npm = !strncmp(l, "npm error ", 10) || !strncmp(l, "npm ERR! ", 9);
		if (npm && n > 16 && !memmem(l, n, " code ", 6) &&
		    !memmem(l, n, "A complete log", 14) && !memmem(l, n, "-debug-", 7)) {
			util_sanitize(l, n, false, false, &clean);
			snprintf(out, cap, "%s", clean.data ? clean.data : "");
			buf_free(&clean);
			return;
		}
		l = eol ? eol + 1 : l + n;
	}
	for (int pass = 0; pass < 8; pass++) {
		while (end > 0 && (s[end - 1] == '\n' || s[end - 1] == '\r' || s[end - 1] == ' '))
			end--;
		start = end;
		while (start > 0 && s[start - 1] != '\n')
			start--;
		/* make's own "make: *** [...] Error 3" says less than the recipe's last words */
		bool make_trailer = !strncmp(s + start, "make", 4) &&
		                    memmem(s + start, end - start, ": *** ", 6) && start > 0;
		if (!make_trailer)
			break;
		end = start;
	}
	util_sanitize(s + start, end - start, false, false, &clean);
	snprintf(out, cap, "%s", clean.data ? clean.data : "");
	buf_free(&clean);
}

static void after_deps(struct build_job *j);

static void installer_finished(struct build_job *j)
{
	char line[300];

	if (atomic_load(&j->cancel)) {
		deps_unlock(j);
		j->res.outcome = BUILD_CANCELLED;
		finish(j);
		return;
	}
	if (j->proc_status != 0 || j->proc_signal) {
		char *marker = deps_failed_path(j), *why;
		struct lk_error werr = {0};

		last_line(&j->out_tail, line, sizeof(line));
		why = xasprintf("%s failed (%s %lld)%s%s; previous artifact kept. %s",
		                j->deps_kind == DEPS_PIP ? "pip install" : "npm",
		                j->proc_signal ? "signal" : "exit status",
		                j->proc_signal ? (long long)j->proc_signal
		                               : (long long)j->proc_status,
		                line[0] ? ": " : "", line, BUILD_SKIP_DEPS_HINT);
		/* the functions sharing these dependencies and waiting for them read this */
		util_write_atomic(marker, why, strlen(why), 0666, &werr);
		fail(j, "InstallFailed", "%s: %s", j->function, why);
		free(marker);
		free(why);
		deps_unlock(j);
		finish(j);
		return;
	}
	if (rename(j->deps_tmp, j->deps_dir) < 0) {
		fail(j, "BuildError", "cannot move %s to %s: %s", j->deps_tmp, j->deps_dir,
		     strerror(errno));
		deps_unlock(j);
		finish(j);
		return;
	}
	char *marker = deps_failed_path(j);
	unlink(marker);
	free(marker);
	deps_unlock(j);
	j->res.deps_installed = true;
	after_deps(j);
}

static void proc_handle_closed(uv_handle_t *h)
{
	struct build_job *j = h->data;

	if (--j->proc_pending > 0)
		return;
	if (j->spawn_failed)
		finish(j);
	else
		j->proc_done(j);
}

static void proc_exit(uv_process_t *p, int64_t status, int sig)
{
	struct build_job *j = p->data;

	j->proc_status = status;
	j->proc_signal = sig;
	uv_close((uv_handle_t *)p, proc_handle_closed);
}

static void pipe_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
	(void)h;
	b->base = xmalloc(suggested);
	b->len = suggested;
}

static void pipe_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct build_job *j = s->data;

	if (n > 0) {
		tail_append(j, b->base, (size_t)n);
		if (j->opts.on_output)
			j->opts.on_output(j->user, j->function, b->base, (size_t)n);
	} else if (n < 0) {
		uv_read_stop(s);
		uv_close((uv_handle_t *)s, proc_handle_closed);
	}
	free(b->base);
}

/* Spawns one step's process (installer, esbuild install, build step) with its output
 * streamed to on_output; done runs on the loop once it exited and its pipes closed. A spawn
 * failure finishes the job with missing as the message when the tool is not in PATH. */
static void spawn_child(struct build_job *j, char **argv, const char *cwd, char **env,
                        enum build_phase phase, void (*done)(struct build_job *),
                        const char *missing)
{
	char **gargv = childguard_argv(argv, cwd); /* the process group dies with lambdeck */
	uv_stdio_container_t stdio[3];
	uv_process_options_t o = {0};
	char banner[1024];
	int rc;

	buf_reset(&j->out_tail);
	j->proc_done = done;
	j->proc_status = 0;
	j->proc_signal = 0;
	for (int i = 0; i < 2; i++) {
		uv_pipe_init(j->loop, &j->pipes[i], 0);
		j->pipes[i].data = j;
	}
	stdio[0].flags = UV_IGNORE;
	stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	stdio[1].data.stream = (uv_stream_t *)&j->pipes[0];
	stdio[2].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	stdio[2].data.stream = (uv_stream_t *)&j->pipes[1];
	o.file = gargv[0];
	o.args = gargv;
	o.cwd = cwd;
	o.env = env;
	o.stdio = stdio;
	o.stdio_count = 3;
	o.exit_cb = proc_exit;
	j->proc.data = j;
	snprintf(banner, sizeof(banner), "$");
	for (int i = 0; argv[i]; i++)
		snprintf(banner + strlen(banner), sizeof(banner) - strlen(banner), " %s", argv[i]);
	snprintf(banner + strlen(banner), sizeof(banner) - strlen(banner), "\n");
	if (j->opts.on_output)
		j->opts.on_output(j->user, j->function, banner, strlen(banner));
	if (j->progress)
		j->progress(j->user, j->function, phase, 0, 0);
	rc = uv_spawn(j->loop, &j->proc, &o);
	childguard_argv_free(gargv);
	if (rc < 0) {
		if (rc == UV_ENOENT)
			fail(j, "ToolNotFound", "%s: %s", j->function, missing);
		else
			fail(j, "InstallFailed", "%s: cannot start %s: %s", j->function, argv[0],
			     uv_strerror(rc));
		/* finish once the three handles are closed (proc_handle_closed) */
		deps_unlock(j);
		j->spawn_failed = true;
		j->proc_pending = 3;
		for (int i = 0; i < 2; i++)
			uv_close((uv_handle_t *)&j->pipes[i], proc_handle_closed);
		uv_close((uv_handle_t *)&j->proc, proc_handle_closed);
		return;
	}
	j->proc_started = true;
	j->proc_pending = 3;
	uv_read_start((uv_stream_t *)&j->pipes[0], pipe_alloc, pipe_read);
	uv_read_start((uv_stream_t *)&j->pipes[1], pipe_alloc, pipe_read);
}

static void start_installer(struct build_job *j)
{
	char *req = util_path_join(j->code_dir, "requirements.txt");
	char *lock = util_path_join(j->deps_tmp, "package-lock.json");
	const char *pip[] = {"python3",    "-m", "pip", "install", "--disable-pip-version-check",
	                     "--no-input", "-r", req,   "-t",      j->deps_tmp,
	                     NULL};
	const char *npm_ci[] = {"npm", "ci", "--omit=dev", "--no-audit", "--no-fund", NULL};
	const char *npm_install[] = {"npm",        "install",   "--omit=dev",
	                             "--no-audit", "--no-fund", NULL};
	const char **argv = j->deps_kind == DEPS_PIP ? pip
	                    : util_is_file(lock)     ? npm_ci
	                                             : npm_install;
	char *missing = xasprintf(
	    "%s is needed to install the dependencies in %s but was not found in PATH (Debian: "
	    "apt install %s). %s",
	    argv[0], j->deps_kind == DEPS_PIP ? "requirements.txt" : "package.json",
	    j->deps_kind == DEPS_PIP ? "python3-pip" : "npm", BUILD_SKIP_DEPS_HINT);

	spawn_child(j, (char **)argv, j->deps_kind == DEPS_PIP ? j->code_dir : j->deps_tmp, NULL,
	            BUILD_PHASE_DEPS, installer_finished, missing);
	free(missing);
	free(req);
	free(lock);
}

/* ---- the declared build step (esbuild, makefile) */

static void run_build_step(struct build_job *j);

static void build_step_finished(struct build_job *j)
{
	char line[300];

	if (atomic_load(&j->cancel)) {
		j->res.outcome = BUILD_CANCELLED;
		finish(j);
		return;
	}
	if (j->proc_status != 0 || j->proc_signal) {
		last_line(&j->out_tail, line, sizeof(line));
		fail(j, "BuildFailed", "%s: %s failed (%s %lld)%s%s; previous artifact kept",
		     j->function, j->step_label ? j->step_label : "the build step",
		     j->proc_signal ? "signal" : "exit status",
		     j->proc_signal ? (long long)j->proc_signal : (long long)j->proc_status,
		     line[0] ? ": " : "", line);
		finish(j);
		return;
	}
	j->bundle_built = true; /* swapped in by main_work, under the function's lock */
	start_main(j);
}

static void esbuild_installed(struct build_job *j)
{
	char line[300];
	char *home = build_method_esbuild_home();

	if (atomic_load(&j->cancel)) {
		free(home);
		j->res.outcome = BUILD_CANCELLED;
		finish(j);
		return;
	}
	if (j->proc_status == 0 && j->proc_signal == 0 && rename(j->tool_tmp, home) < 0)
		rm_rf(j->tool_tmp); /* another build installed it meanwhile */
	free(home);
	free(j->esbuild);
	j->esbuild = build_method_find_esbuild(j->project_dir, j->code_dir, NULL);
	if (!j->esbuild) {
		last_line(&j->out_tail, line, sizeof(line));
		rm_rf(j->tool_tmp);
		fail(j, "ToolNotFound",
		     "%s: esbuild (BuildMethod esbuild) is not in the project and could not be "
		     "installed from npm%s%s; add it: npm install --save-dev esbuild",
		     j->function, line[0] ? ": " : "", line);
		finish(j);
		return;
	}
	run_build_step(j);
}

/* esbuild is neither in the project nor in the cache: npm installs it into the cache (a
 * private directory first, renamed into place, so concurrent builds never mix). */
static void install_esbuild(struct build_job *j)
{
	static atomic_uint counter;
	char *home = build_method_esbuild_home();
	struct lk_error err = {0};

	free(j->tool_tmp);
	j->tool_tmp =
	    xasprintf("%s.tmp-%ld-%u", home, (long)getpid(), atomic_fetch_add(&counter, 1));
	free(home);
	if (util_mkdir_p(j->tool_tmp, 0777, &err) < 0) {
		fail(j, "BuildError", "%s: %s", j->function, err.message);
		finish(j);
		return;
	}
	const char *argv[] = {"npm",       "install",   "--prefix",  j->tool_tmp, "--no-audit",
	                      "--no-fund", "--no-save", "esbuild@0", NULL};
	spawn_child(j, (char **)argv, j->tool_tmp, NULL, BUILD_PHASE_DEPS, esbuild_installed,
	            "npm is needed to install esbuild (BuildMethod esbuild) but was not found in "
	            "PATH (Debian: apt install npm)");
}

static void run_build_step(struct build_job *j)
{
	struct build_method_step step;
	char *why = NULL, *node_path = NULL;

	if (j->deps_dir && util_is_dir(j->deps_dir))
		node_path = xasprintf("%s/node_modules", j->deps_dir);
	if (build_method_step(j->build_method, j->build_props, j->n_build_props, j->function,
	                      j->code_dir, j->handler_rel, j->bundle_tmp, j->esbuild, node_path,
	                      &step, &why) < 0) {
		fail(j, "BuildFailed", "%s: %s", j->function, why);
		free(why);
		free(node_path);
		finish(j);
		return;
	}
	free(j->step_label);
	j->step_label = xstrdup(step.label);
	spawn_child(j, step.argv, step.cwd, step.env, BUILD_PHASE_BUNDLE, build_step_finished,
	            !strcmp(j->build_method, "makefile")
	                ? "make (BuildMethod makefile) was not found in PATH (Debian: apt install "
	                  "make)"
	                : "esbuild could not be started");
	build_method_step_free(&step);
	free(node_path);
}

/* After the dependencies: the declared build step when the sources changed, then the zip. */
static void after_deps(struct build_job *j)
{
	if (j->need_build_step && !strcmp(j->build_method, "esbuild") && !j->esbuild)
		/* the dependencies just installed may hold it (SAM templates list it) */
		j->esbuild = build_method_find_esbuild(j->project_dir, j->code_dir, j->deps_dir);
	if (!j->need_build_step)
		start_main(j);
	else if (!strcmp(j->build_method, "esbuild") && !j->esbuild)
		install_esbuild(j);
	else
		run_build_step(j);
}

static void prepare_done(uv_work_t *w, int status)
{
	struct build_job *j = w->data;

	if (status == UV_ECANCELED || atomic_load(&j->cancel)) {
		j->res.outcome = BUILD_CANCELLED;
		finish(j);
	} else if (j->res.outcome == BUILD_FAILED) {
		finish(j);
	} else if (j->need_install) {
		start_installer(j);
	} else {
		after_deps(j);
	}
}

/* ---- worker: scan, diff, hash, zip, manifest */

struct hash_progress {
	struct build_job *job;
	uint64_t done, total;
};

static void zip_progress_post(void *ctx, uint64_t done, uint64_t total)
{
	post_progress(ctx, BUILD_PHASE_ZIP, done, total);
}

static bool same_stat(const struct entry *a, const struct entry *b)
{
	return a->size == b->size && a->mode == b->mode && a->mtime_sec == b->mtime_sec &&
	       a->mtime_nsec == b->mtime_nsec && a->ino == b->ino && a->origin == b->origin;
}

/* True when e (recorded in manifest m) must be hashed whatever its stat says (see RACY_MS). */
static bool racy(const struct manifest *m, const struct entry *e)
{
	return e->mtime_sec * 1000 + e->mtime_nsec / 1000000 + RACY_MS > m->scan_ms;
}

/* Takes into list what the zip writer read for each entry it wrote from a file: the hash and
 * size of exactly the bytes zipped and the stat taken before reading them, so the manifest
 * describes the zip even when a file was rewritten during the build, and a later rewrite
 * shows as a stat change (or a racy entry) to the next build. */
static void take_reads(struct build_job *j, struct entry_list *list, const struct zipw_result *zr)
{
	size_t unstable = 0;
	const char *example = NULL;

	for (size_t i = 0; i < list->n; i++) {
		const struct zipw_read *rd = &zr->reads[i];
		struct entry *e = &list->v[i];

		if (!rd->read)
			continue;
		if (rd->unstable && !unstable++)
			example = e->path;
		memcpy(e->sha, rd->sha256, 32);
		e->hashed = true;
		e->size = rd->size;
		e->mtime_sec = rd->mtime_sec;
		e->mtime_nsec = rd->mtime_nsec;
		e->ino = rd->ino;
	}
	if (unstable && !j->res.warning[0])
		snprintf(j->res.warning, sizeof(j->res.warning),
		         "%zu file%s kept changing while being packaged (%s%s); the next build "
		         "packages their new content",
		         unstable, unstable == 1 ? "" : "s", example, unstable > 1 ? ", ..." : "");
}

/* Merges dependency entries into code entries (both sorted); code wins on a clash. */
static void merge_entries(struct entry_list *code, struct entry_list *deps)
{
	struct entry_list out = {0};
	size_t a = 0, b = 0;

	if (deps->n == 0) {
		entry_list_unmap(deps);
		return;
	}
	entry_list_reserve(&out, code->n + deps->n);
	while (a < code->n || b < deps->n) {
		int c = a == code->n   ? 1
		        : b == deps->n ? -1
		                       : strcmp(code->v[a].path, deps->v[b].path);
		struct entry *e = entry_push(&out);

		if (c <= 0) {
			*e = code->v[a++];
			if (c == 0) {
				free(deps->v[b].path);
				free(deps->v[b].src);
				b++;
			}
		} else {
			*e = deps->v[b++];
		}
	}
	entry_list_unmap(code);
	entry_list_unmap(deps);
	*code = out;
}

static int stat_zip(const char *path, struct manifest *m)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -1;
	m->zip_size = (uint64_t)st.st_size;
	m->zip_mtime_sec = st.st_mtim.tv_sec;
	m->zip_mtime_nsec = st.st_mtim.tv_nsec;
	m->zip_ino = (uint64_t)st.st_ino;
	return 0;
}

/* Temp files a crashed build left behind (a build holds the lock, so none is in use). */
static void remove_stale_temps(struct build_job *j)
{
	DIR *d = opendir(j->art_dir);
	struct dirent *de;

	while (d && (de = readdir(d))) {
		if (strncmp(de->d_name, "code.zip.tmp-", 13) &&
		    strncmp(de->d_name, "manifest.json.tmp.", 18))
			continue;
		char *p = util_path_join(j->art_dir, de->d_name);

		unlink(p);
		free(p);
	}
	if (d)
		closedir(d);
}

/* After a build with dependencies: the installs of this code directory for manifests it no
 * longer has go (same "<dir>-" prefix, another key; not while in use: each is locked), and so
 * does the per-function deps/ directory of older versions. */
static void remove_other_deps(struct build_job *j)
{
	char *legacy = util_path_join(j->art_dir, "deps");
	DIR *d = opendir(j->deps_root);
	struct dirent *de;

	rm_rf(legacy);
	free(legacy);
	while (d && (de = readdir(d))) {
		size_t n = strlen(de->d_name);
		if (n != 45 || strncmp(de->d_name, j->deps_key, 13) ||
		    !strcmp(de->d_name, j->deps_key))
			continue;
		char *lock = xasprintf("%s/%s.lock", j->deps_root, de->d_name);
		int fd = open(lock, O_RDWR | O_CLOEXEC);
		if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) == 0) {
			char *p = util_path_join(j->deps_root, de->d_name);
			rm_rf(p);
			unlink(lock);
			free(p);
		}
		if (fd >= 0)
			close(fd);
		free(lock);
	}
	if (d)
		closedir(d);
}

/* True when the previous zip's entries are exactly the manifest's, in order. */
static bool archive_matches(const struct zipw_archive *a, const struct manifest *m)
{
	if (a->n != m->entries.n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i].name, m->entries.v[i].path))
			return false;
	return true;
}

/* Writes the new code.zip for list into a temp file (zr; zipw_commit puts it in place): a
 * patch of the previous zip when it can be trusted (its central directory reads back clean
 * and lists exactly the manifest's entries), else a full write. A previous zip that cannot be
 * used is reported in res.warning, never patched. Fills cur's zip fields, CodeSha256 and
 * SHA-256 states. */
static int write_zip(struct build_job *j, const struct manifest *old, bool try_patch,
                     const struct entry_list *list, struct manifest *cur, struct zipw_result *zr)
{
	struct lk_error *err = &j->res.err;
	struct zipw_archive arch = {0};
	struct zipw_item *items = xcalloc(list->n ? list->n : 1, sizeof(*items));
	struct zipw_opts full = {.progress = zip_progress_post, .ctx = j, .cancel = &j->cancel};
	struct zipw_opts o = full;
	struct lk_error why = {0};
	bool patch = false;
	int rc;

	if (try_patch) {
		if (zipw_archive_read(j->zip_path, &arch, &why) == 0 &&
		    !archive_matches(&arch, old))
			lk_error_set(&why, "ZipInvalid", "%s: entries differ from the manifest",
			             j->zip_path);
		patch = !lk_error_is_set(&why);
	}
	for (size_t i = 0; i < list->n; i++) {
		const struct entry *e = &list->v[i];
		bool same_data = patch && e->old_index >= 0 &&
		                 !memcmp(old->entries.v[e->old_index].sha, e->sha, 32);

		items[i] = (struct zipw_item){.name = e->path,
		                              .src = e->src,
		                              .mode = e->mode,
		                              .old = same_data ? e->old_index : -1};
	}
	if (patch) {
		o.old_path = j->zip_path;
		o.old = &arch;
		o.old_states = old->states;
		o.n_old_states = old->n_states;
	}
	post_progress(j, BUILD_PHASE_ZIP, 0, list->n);
	rc = zipw_write(j->zip_path, items, list->n, &o, zr, err);
	if (rc < 0 && patch && !strcmp(err->code, "ZipInvalid")) {
		/* damaged behind the central directory's back: write it whole instead */
		why = *err;
		lk_error_clear(err);
		patch = false;
		for (size_t i = 0; i < list->n; i++)
			items[i].old = -1;
		rc = zipw_write(j->zip_path, items, list->n, &full, zr, err);
	}
	if (rc == 0) {
		char *b64 = util_base64(zr->sha256, 32);

		j->res.full = !patch;
		if (lk_error_is_set(&why))
			snprintf(j->res.warning, sizeof(j->res.warning),
			         "previous zip not reused, rebuilt in full: %s", why.message);
		snprintf(cur->code_sha256, sizeof(cur->code_sha256), "%s", b64);
		free(b64);
		cur->states = zr->states;
		cur->n_states = cur->cap_states = zr->n_states;
		zr->states = NULL;
		cur->zip_size = zr->size;
		cur->zip_mtime_sec = zr->mtime_sec;
		cur->zip_mtime_nsec = zr->mtime_nsec;
		cur->zip_ino = zr->ino;
	}
	zipw_archive_free(&arch);
	free(items);
	return rc;
}

static void build_locked(struct build_job *j)
{
	struct lk_error *err = &j->res.err;
	struct manifest old = {0}, cur = {0};
	struct entry_list list = {0}, deps = {0};
	struct zipw_result zr = {0};
	bool have_old, zip_ok = false;
	uint64_t hash_total = 0, hash_done = 0;
	size_t removed = 0;
	int64_t scan_ms = util_now_ms();
	int rc;

	if (j->bundle_built) {
		/* the new bundle replaces the old one (we hold the function's lock) */
		char *stamp_path = util_path_join(j->art_dir, "bundle.stamp");
		rm_rf(j->bundle_dir);
		if (rename(j->bundle_tmp, j->bundle_dir) < 0 ||
		    util_write_atomic(stamp_path, j->stamp, strlen(j->stamp), 0666, err) < 0) {
			if (!lk_error_is_set(err))
				lk_error_set(err, "BuildError", "%s: %s", j->bundle_dir,
				             strerror(errno));
			free(stamp_path);
			goto fail;
		}
		free(stamp_path);
	}
	const char *pack_root = j->build_method ? j->bundle_dir : j->code_dir;
	have_old = !j->opts.full && manifest_load(j->manifest_path, &old);
	if (have_old) {
		struct manifest now = {0};

		zip_ok = stat_zip(j->zip_path, &now) == 0 && now.zip_size == old.zip_size &&
		         now.zip_mtime_sec == old.zip_mtime_sec &&
		         now.zip_mtime_nsec == old.zip_mtime_nsec && now.zip_ino == old.zip_ino;
	}
	post_progress(j, BUILD_PHASE_SCAN, 0, 0);
	rc = scan_tree(pack_root, "", ORIGIN_CODE, j->build_method ? NULL : j->exclude,
	               j->build_method ? 0 : j->n_exclude,
	               j->deps_kind == DEPS_NPM && j->deps_dir && util_is_dir(j->deps_dir),
	               old.entries.n, &list, &j->cancel, err);
	/* a bundle has its dependencies inside; a Makefile copies them into its output */
	if (rc == 0 && !j->build_method && j->deps_dir && util_is_dir(j->deps_dir)) {
		char *root = j->deps_kind == DEPS_NPM ? util_path_join(j->deps_dir, "node_modules")
		                                      : xstrdup(j->deps_dir);

		if (util_is_dir(root))
			rc = scan_tree(root, j->deps_kind == DEPS_NPM ? "node_modules/" : "",
			               ORIGIN_DEPS, NULL, 0, false, 0, &deps, &j->cancel, err);
		j->res.deps_cached = !j->res.deps_installed;
		free(root);
	}
	if (rc < 0)
		goto fail;
	if (list.n)
		qsort(list.v, list.n, sizeof(*list.v), entry_cmp);
	if (deps.n)
		qsort(deps.v, deps.n, sizeof(*deps.v), entry_cmp);
	merge_entries(&list, &deps);
	if (list.n == 0) {
		lk_error_set(err, "BuildError", "%s: nothing to package in %s", j->function,
		             j->code_dir);
		goto fail;
	}
	post_progress(j, BUILD_PHASE_SCAN, list.n, list.n);

	/* stat pre-filter: only files whose size/mode/mtime/inode moved get hashed */
	for (size_t i = 0; i < list.n; i++) {
		struct entry *e = &list.v[i];
		long k = have_old ? entry_find(&old.entries, e->path) : -1;

		e->old_index = k;
		if (k >= 0 && same_stat(e, &old.entries.v[k]) && !racy(&old, &old.entries.v[k])) {
			memcpy(e->sha, old.entries.v[k].sha, 32);
			e->hashed = true;
		} else if (!have_old) {
			/* a full build: the zip writer hashes what it zips */
		} else {
			hash_total += e->size;
		}
	}
	for (size_t i = 0; i < list.n; i++) {
		struct entry *e = &list.v[i];
		uint64_t got = 0;

		if (!e->hashed && have_old) {
			if (sha256_file(e->src, e->sha, &got, &j->cancel, err) < 0)
				goto fail;
			e->hashed = true;
			e->size = got;
			hash_done += got;
			post_progress(j, BUILD_PHASE_HASH, hash_done, hash_total);
		}
		if (e->old_index < 0) {
			e->changed = true;
			j->res.n_added++;
		} else {
			const struct entry *o = &old.entries.v[e->old_index];

			e->changed = memcmp(o->sha, e->sha, 32) != 0 || o->mode != e->mode;
			if (e->changed)
				j->res.n_changed++;
		}
	}
	if (have_old)
		for (size_t i = 0; i < old.entries.n; i++)
			if (entry_find(&list, old.entries.v[i].path) < 0)
				removed++;
	j->res.n_removed = removed;
	j->res.n_files = list.n;
	if (atomic_load(&j->cancel)) {
		lk_error_set(err, "Cancelled", "cancelled");
		goto fail;
	}

	if (have_old && zip_ok && j->res.n_added == 0 && j->res.n_changed == 0 && removed == 0 &&
	    strcmp(old.deps_key, j->deps_key) == 0) {
		bool touched = false;

		for (size_t i = 0; i < list.n; i++)
			touched |= !same_stat(&list.v[i], &old.entries.v[i]) ||
			           racy(&old, &old.entries.v[i]);
		old.scan_ms = scan_ms; /* the stats saved are this scan's */
		j->res.outcome = BUILD_UNCHANGED;
		snprintf(j->res.code_sha256, sizeof(j->res.code_sha256), "%s", old.code_sha256);
		j->res.zip_size = old.zip_size;
		if (touched) /* keep the pre-filter cheap next time; the zip is untouched */
			manifest_save(j->manifest_path, &old, &list, NULL);
		goto out;
	}

	remove_stale_temps(j);
	if (write_zip(j, &old, have_old && zip_ok, &list, &cur, &zr) < 0)
		goto fail;
	take_reads(j, &list, &zr);
	cur.scan_ms = scan_ms;
	cur.built_at_ms = util_now_ms();
	snprintf(cur.deps_key, sizeof(cur.deps_key), "%s", j->deps_key);
	/* The manifest (fsynced) goes first and names the new zip's inode, so its fsync does not
	 * wait for the zip's data; until the rename below, the old zip no longer matches it and a
	 * crash in between only costs a full build. A failure here leaves both as they were. */
	if (manifest_save(j->manifest_path, &cur, &list, err) < 0)
		goto fail;
	if (zipw_commit(&zr, err) < 0)
		goto fail;
	if (j->deps_key[0])
		remove_other_deps(j);
	j->res.outcome = BUILD_OK;
	snprintf(j->res.code_sha256, sizeof(j->res.code_sha256), "%s", cur.code_sha256);
	j->res.zip_size = cur.zip_size;
	goto out;
fail:
	j->res.outcome = atomic_load(&j->cancel) ? BUILD_CANCELLED : BUILD_FAILED;
out:
	entry_list_free(&list);
	entry_list_free(&deps);
	manifest_free(&old);
	manifest_free(&cur);
	zipw_result_free(&zr);
}

static void main_work(uv_work_t *w)
{
	struct build_job *j = w->data;
	char *lock_path = util_path_join(j->art_dir, ".lock");
	int fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);

	free(lock_path);
	/* Another process (a second console, `lambdeck build` in a shell) building the same
	 * function: wait for it on this pool thread (its zip is then reused or patched), polling
	 * so a cancel is honoured; give up after BUILD_LOCK_WAIT_MS. */
	for (int waited = 0; fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0; waited += 50) {
		if (errno != EWOULDBLOCK || waited >= BUILD_LOCK_WAIT_MS ||
		    atomic_load(&j->cancel)) {
			if (atomic_load(&j->cancel)) {
				fail(j, "Cancelled", "build of %s cancelled", j->function);
				j->res.outcome = BUILD_CANCELLED;
			} else
				fail(j, "BuildBusy",
				     "%s: another build of this function is still "
				     "running after %d s",
				     j->function, BUILD_LOCK_WAIT_MS / 1000);
			close(fd);
			return;
		}
		usleep(50 * 1000);
	}
	if (fd < 0) {
		fail(j, "BuildBusy", "%s: %s", j->function, strerror(errno));
		return;
	}
	build_locked(j);
	close(fd);
}

static void main_done(uv_work_t *w, int status)
{
	struct build_job *j = w->data;

	if (status == UV_ECANCELED)
		j->res.outcome = BUILD_CANCELLED;
	if (j->res.outcome == BUILD_OK || j->res.outcome == BUILD_UNCHANGED) {
		free(j->res.zip_path);
		j->res.zip_path = xstrdup(j->zip_path);
	} else if (util_is_file(j->zip_path)) {
		/* failed: the previous artifact is still there and still valid */
		free(j->res.zip_path);
		j->res.zip_path = xstrdup(j->zip_path);
	}
	finish(j);
}

static struct build_job *start_job(uv_loop_t *loop, const struct project *p,
                                   const struct project_function *fn, const struct build_opts *opts,
                                   build_progress_fn progress, void *user, build_done_fn done,
                                   void *done_user)
{
	struct build_job *j = xcalloc(1, sizeof(*j));

	j->loop = loop;
	j->project_dir = xstrdup(p->dir);
	j->function = xstrdup(fn->name);
	j->code_dir = xstrdup(fn->code_dir);
	j->runtime = xstrdup(fn->runtime);
	j->problem = xstrdup(fn->not_buildable);
	j->buildable = fn->buildable;
	if (fn->n_exclude) {
		j->exclude = xcalloc(fn->n_exclude, sizeof(*j->exclude));
		for (size_t i = 0; i < fn->n_exclude; i++)
			j->exclude[i] = xstrdup(fn->exclude[i]);
		j->n_exclude = fn->n_exclude;
	}
	if (opts)
		j->opts = *opts;
	j->opts.skip_deps |= p->skip_deps; /* --skip-deps, lambdeck.json "skip_deps" */
	j->progress = progress;
	j->done = done;
	j->done_user = done_user;
	j->user = user;
	j->art_dir = build_artifact_dir(p->dir, fn->name);
	if (fn->build_method) {
		size_t cl = fn->code_dir ? strlen(fn->code_dir) : 0;
		j->build_method = xstrdup(fn->build_method);
		j->build_props = xcalloc(fn->n_build_props + 1, sizeof(*j->build_props));
		for (size_t i = 0; i < fn->n_build_props; i++)
			j->build_props[i] = xstrdup(fn->build_props[i]);
		j->n_build_props = fn->n_build_props;
		if (fn->source_file && cl && !strncmp(fn->source_file, fn->code_dir, cl) &&
		    fn->source_file[cl] == '/')
			j->handler_rel = xstrdup(fn->source_file + cl + 1);
		j->bundle_dir = util_path_join(j->art_dir, "bundle");
		j->bundle_tmp = xasprintf("%s/bundle.tmp-%ld", j->art_dir, (long)getpid());
	}
	j->zip_path = build_zip_path(p->dir, fn->name);
	j->manifest_path = util_path_join(j->art_dir, "manifest.json");
	j->started_ns = (int64_t)util_monotonic_ns();
	j->started_ms = util_now_ms();
	j->deps_lock_fd = -1;
	j->res.outcome = BUILD_OK;
	atomic_init(&j->cancel, false);
	uv_mutex_init(&j->mu);
	uv_async_init(loop, &j->async, async_cb);
	j->async.data = j;
	j->work.data = j;
	if (strchr(fn->name, '/') || !strcmp(fn->name, "..") || !strcmp(fn->name, ".")) {
		/* the name becomes a directory under .lambdeck/build */
		j->buildable = false;
		free(j->problem);
		j->problem = xstrdup("function name cannot be used as a directory name");
	}
	if (uv_queue_work(loop, &j->work, prepare_work, prepare_done) < 0) {
		fail(j, "BuildError", "cannot queue the build of %s", j->function);
		finish(j);
	}
	return j;
}

struct build_job *build_start(uv_loop_t *loop, const struct project *p,
                              const struct project_function *fn, const struct build_opts *opts,
                              build_progress_fn progress, build_done_fn done, void *user)
{
	return start_job(loop, p, fn, opts, progress, user, done, user);
}

void build_cancel(struct build_job *j)
{
	if (!j)
		return;
	atomic_store(&j->cancel, true);
	uv_cancel((uv_req_t *)&j->work);
	if (j->proc_started && !uv_is_closing((uv_handle_t *)&j->proc))
		uv_process_kill(&j->proc, SIGTERM);
}

/* ---- synchronous wrapper */

struct run_ctx {
	struct build_result *res;
	build_progress_fn progress;
	void *user;
};

static void run_done(void *user, const struct build_result *r)
{
	struct run_ctx *c = user;

	*c->res = *r;
	c->res->function = xstrdup(r->function);
	c->res->zip_path = xstrdup(r->zip_path);
}

int build_run(const struct project *p, const struct project_function *fn,
              const struct build_opts *opts, build_progress_fn progress, void *user,
              struct build_result *res)
{
	uv_loop_t loop;
	struct run_ctx c = {.res = res, .progress = progress, .user = user};

	memset(res, 0, sizeof(*res));
	uv_loop_init(&loop);
	start_job(&loop, p, fn, opts, progress, user, run_done, &c);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	return res->outcome == BUILD_OK || res->outcome == BUILD_UNCHANGED ? 0 : -1;
}

void build_result_free(struct build_result *res)
{
	if (!res)
		return;
	free((char *)res->function);
	free(res->zip_path);
	memset(res, 0, sizeof(*res));
}

/* ---- badges */

int build_status_get(const struct project *p, const struct project_function *fn,
                     struct build_status *out, struct lk_error *err)
{
	char *art = build_artifact_dir(p->dir, fn->name);
	char *mp = util_path_join(art, "manifest.json");
	char *zp = util_path_join(art, "code.zip");
	struct manifest m, now = {0};
	struct entry_list list = {0};
	bool npm_deps = false;
	size_t k = 0;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (!manifest_load(mp, &m))
		goto done;
	out->built = stat_zip(zp, &now) == 0 && now.zip_size == m.zip_size &&
	             now.zip_mtime_sec == m.zip_mtime_sec && now.zip_mtime_nsec == m.zip_mtime_nsec;
	if (out->built) {
		snprintf(out->code_sha256, sizeof(out->code_sha256), "%s", m.code_sha256);
		out->built_at_ms = m.built_at_ms;
	}
	if (fn->build_method && fn->code_dir) {
		/* a bundle: modified when its sources or properties changed since it was built */
		char stamp[65], *sp = util_path_join(art, "bundle.stamp");
		struct buf old = {0};
		struct lk_error rerr = {0};
		if (source_stamp(fn->code_dir, fn->exclude, fn->n_exclude, fn->build_method,
		                 fn->build_props, fn->n_build_props, NULL, stamp, err) < 0)
			rc = -1;
		out->modified = rc < 0 || util_read_file(sp, &old, &rerr) < 0 || !old.data ||
		                strcmp(old.data, stamp) != 0;
		buf_free(&old);
		free(sp);
		goto done;
	}
	for (size_t i = 0; i < m.entries.n; i++)
		npm_deps |= m.entries.v[i].origin == ORIGIN_DEPS &&
		            !strncmp(m.entries.v[i].path, "node_modules/", 13);
	if (!fn->code_dir || scan_tree(fn->code_dir, "", ORIGIN_CODE, fn->exclude, fn->n_exclude,
	                               npm_deps, m.entries.n, &list, NULL, err) < 0) {
		out->modified = true;
		rc = -1;
		goto done;
	}
	if (list.n)
		qsort(list.v, list.n, sizeof(*list.v), entry_cmp);
	for (size_t i = 0; i < m.entries.n && !out->modified; i++) {
		const struct entry *e = &m.entries.v[i];

		if (e->origin != ORIGIN_CODE)
			continue;
		out->modified = k >= list.n || strcmp(list.v[k].path, e->path) != 0 ||
		                !same_stat(&list.v[k], e);
		k++;
	}
	if (k != list.n)
		out->modified = true;
done:
	if (out->built || rc < 0)
		manifest_free(&m);
	entry_list_free(&list);
	free(art);
	free(mp);
	free(zp);
	return rc;
}
