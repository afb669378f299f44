/* util.c - shared helpers; see util.h. */
#include "backend/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

static void (*fatal_hook)(void);

void lk_error_clear(struct lk_error *err)
{
	if (err)
		memset(err, 0, sizeof(*err));
}

int lk_error_set(struct lk_error *err, const char *code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return -1;
	snprintf(err->code, sizeof(err->code), "%s", code ? code : "Error");
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return -1;
}

bool lk_error_is_set(const struct lk_error *err)
{
	return err && (err->code[0] || err->message[0]);
}

void lk_set_fatal_hook(void (*hook)(void))
{
	fatal_hook = hook;
}

void lk_fatal(const char *fmt, ...)
{
	va_list ap;

	if (fatal_hook)
		fatal_hook();
	fputs("lambdeck: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		lk_fatal("out of memory (%zu bytes)", n);
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		lk_fatal("out of memory");
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		lk_fatal("out of memory (%zu bytes)", n);
	return q;
}

char *xstrdup(const char *s)
{
	return s ? xstrndup(s, strlen(s)) : NULL;
}

char *xstrndup(const char *s, size_t n)
{
	char *p;

	if (!s)
		return NULL;
	p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	struct buf b = {0};
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	return buf_steal(&b);
}

void buf_reserve(struct buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;

	if (need <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap *= 2;
	b->data = xrealloc(b->data, cap);
	b->data[b->len] = '\0'; /* a reserved buffer is a valid (possibly empty) string */
	b->cap = cap;
}

void buf_append(struct buf *b, const void *data, size_t len)
{
	buf_reserve(b, len);
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void buf_puts(struct buf *b, const char *s)
{
	buf_append(b, s, strlen(s));
}

void buf_putc(struct buf *b, char c)
{
	buf_append(b, &c, 1);
}

void buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return;
	buf_reserve(b, (size_t)n);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

char *buf_steal(struct buf *b)
{
	char *p = b->data ? b->data : xstrdup("");

	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

int util_read_file(const char *path, struct buf *out, struct lk_error *err)
{
	char chunk[65536];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return lk_error_set(err, "IOError", "%s: %s", path, strerror(errno));
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			close(fd);
			return lk_error_set(err, "IOError", "%s: %s", path, strerror(e));
		}
		buf_append(out, chunk, (size_t)n);
	}
	close(fd);
	if (!out->data)
		buf_reserve(out, 0), out->data[0] = '\0';
	return 0;
}

int util_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
                      struct lk_error *err)
{
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	const char *p = data;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	if (fd < 0) {
		lk_error_set(err, "IOError", "%s: %s", path, strerror(errno));
		free(tmp);
		return -1;
	}
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) < 0 && errno != EINVAL)
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) < 0)
		goto fail;
	free(tmp);
	return 0;
fail:
	lk_error_set(err, "IOError", "%s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	free(tmp);
	return -1;
}

/* A project's .lambdeck/ ignores itself for git: writes .lambdeck/.gitignore ("*") once,
 * whoever creates (or first uses) the directory. Best effort. */
static void lambdeck_ignore(const char *dir)
{
	const char *base = strrchr(dir, '/');
	base = base ? base + 1 : dir;
	if (strcmp(base, ".lambdeck"))
		return;
	char *gi = util_path_join(dir, ".gitignore");
	if (access(gi, F_OK) != 0 && errno == ENOENT)
		util_write_atomic(gi, "*\n", 2, 0644, NULL);
	free(gi);
}

int util_mkdir_p(const char *path, mode_t mode, struct lk_error *err)
{
	char *p = xstrdup(path);

	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			goto fail;
		lambdeck_ignore(p);
		*s = '/';
	}
	if (mkdir(p, mode) < 0 && errno != EEXIST)
		goto fail;
	lambdeck_ignore(p);
	free(p);
	return 0;
fail:
	lk_error_set(err, "IOError", "cannot create %s: %s", p, strerror(errno));
	free(p);
	return -1;
}

char *util_cache_dir(void)
{
	const char *xdg = getenv("XDG_CACHE_HOME");
	if (xdg && xdg[0] == '/')
		return util_path_join(xdg, "lambdeck");
	const char *home = getenv("HOME");
	if (!home || home[0] != '/') {
		struct passwd *pw = getpwuid(geteuid());
		home = pw && pw->pw_dir && pw->pw_dir[0] == '/' ? pw->pw_dir : NULL;
	}
	return home ? xasprintf("%s/.cache/lambdeck", home) : NULL;
}

char *util_path_join(const char *a, const char *b)
{
	size_t la = strlen(a);

	if (b[0] == '/' || la == 0)
		return xstrdup(b);
	if (a[la - 1] == '/')
		return xasprintf("%s%s", a, b);
	return xasprintf("%s/%s", a, b);
}

bool util_is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

bool util_is_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

bool util_executable(const char *prog, const char *cwd)
{
	bool ok = false;

	if (!prog || !*prog)
		return false;
	if (strchr(prog, '/')) {
		char *p = prog[0] == '/' || !cwd ? xstrdup(prog) : util_path_join(cwd, prog);

		ok = access(p, X_OK) == 0 && util_is_file(p);
		free(p);
		return ok;
	}
	const char *path = getenv("PATH");
	if (!path)
		return false;
	char *copy = xstrdup(path);
	for (char *save, *d = strtok_r(copy, ":", &save); d && !ok;
	     d = strtok_r(NULL, ":", &save)) {
		char *p = util_path_join(*d ? d : ".", prog);

		ok = access(p, X_OK) == 0 && util_is_file(p);
		free(p);
	}
	free(copy);
	return ok;
}

/* Writes the character at s (n >= 1 bytes left) in its JSON-safe form, except '"', '\\' and
 * C0 controls (the caller's): returns the bytes of s it covered. */
static size_t json_char(struct buf *out, const unsigned char *s, size_t n, bool keep_invalid)
{
	size_t len;

	if (s[0] < 0x80) {
		if (s[0] == 0x7F)
			buf_puts(out, "\\u007f");
		else
			buf_putc(out, (char)s[0]);
		return 1;
	}
	len = util_utf8_len(s, n);
	if (len == 0) {
		if (keep_invalid)
			buf_putc(out, (char)s[0]);
		else
			buf_puts(out, "\xEF\xBF\xBD");
		return 1;
	}
	if (len == 2 && s[0] == 0xC2 && s[1] <= 0x9F) {
		buf_printf(out, "\\u%04x", s[1]);
	} else if (len == 3 && s[0] == 0xE2 && s[1] == 0x80 && (s[2] == 0xA8 || s[2] == 0xA9)) {
		buf_printf(out, "\\u%04x", s[2] == 0xA8 ? 0x2028 : 0x2029);
	} else {
		buf_append(out, s, len);
	}
	return len;
}

void util_json_string(struct buf *out, const char *s, size_t len, bool keep_invalid)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;

	buf_reserve(out, len + 2);
	buf_putc(out, '"');
	while (i < len) {
		unsigned char c = u[i];

		if (c == '"' || c == '\\') {
			buf_putc(out, '\\');
			buf_putc(out, (char)c);
			i++;
		} else if (c == '\n') {
			buf_puts(out, "\\n"), i++;
		} else if (c == '\t') {
			buf_puts(out, "\\t"), i++;
		} else if (c == '\r') {
			buf_puts(out, "\\r"), i++;
		} else if (c < 0x20) {
			buf_printf(out, "\\u%04x", c), i++;
		} else {
			i += json_char(out, u + i, len - i, keep_invalid);
		}
	}
	buf_putc(out, '"');
}

char *util_json_safe(char *json)
{
	struct buf out = {0};
	const unsigned char *u = (const unsigned char *)json;
	size_t len, i = 0;

	if (!json)
		return NULL;
	len = strlen(json);
	buf_reserve(&out, len + 1);
	/* outside strings cJSON writes ASCII only (and never DEL): one pass over the text */
	while (i < len)
		i += json_char(&out, u + i, len - i, false);
	free(json);
	return buf_steal(&out);
}

size_t util_utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	unsigned cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xE0) == 0xC0)
		len = 2, cp = s[0] & 0x1F;
	else if ((s[0] & 0xF0) == 0xE0)
		len = 3, cp = s[0] & 0x0F;
	else if ((s[0] & 0xF8) == 0xF0)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return len;
}

void util_sanitize(const char *in, size_t len, bool keep_newlines, bool keep_tabs, struct buf *out)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t i = 0;

	buf_reserve(out, len);
	while (i < len) {
		unsigned char c = s[i];
		if (c < 0x20 || c == 0x7F) {
			if ((c == '\n' && keep_newlines) || (c == '\t' && keep_tabs)) {
				buf_putc(out, (char)c);
			} else if (c == '\t') {
				buf_putc(out, ' ');
			} else {
				buf_putc(out, '^');
				buf_putc(out, c == 0x7F ? '?' : (char)(c + '@'));
			}
			i++;
			continue;
		}
		size_t n = util_utf8_len(s + i, len - i);
		/* C1 controls (U+0080..U+009F, C2 80..C2 9F) act as escape introducers on some
		 * terminals: shown as U+FFFD like invalid bytes. */
		if (n == 0 || (n == 2 && s[i] == 0xC2 && s[i + 1] <= 0x9F)) {
			buf_puts(out, "\xEF\xBF\xBD");
			i++;
			continue;
		}
		buf_append(out, s + i, n);
		i += n;
	}
}

void util_sha256(const void *data, size_t len, unsigned char out[32])
{
	SHA256(data, len, out);
}

void util_hex(const unsigned char *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}

char *util_base64(const void *data, size_t len)
{
	char *out = xmalloc(4 * ((len + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	return out;
}

unsigned char *util_base64_decode(const char *in, size_t len, size_t *out_len)
{
	unsigned char *out;
	int n;
	size_t pad = 0;

	while (len > 0 && (in[len - 1] == '\n' || in[len - 1] == '\r' || in[len - 1] == ' '))
		len--;
	if (len % 4 != 0)
		return NULL;
	if (len >= 1 && in[len - 1] == '=')
		pad++;
	if (len >= 2 && in[len - 2] == '=')
		pad++;
	out = xmalloc(len / 4 * 3 + 1);
	n = EVP_DecodeBlock(out, (const unsigned char *)in, (int)len);
	if (n < 0) {
		free(out);
		return NULL;
	}
	*out_len = (size_t)n - pad;
	out[*out_len] = '\0';
	return out;
}

int64_t util_double_to_int64(double d)
{
	if (d != d)
		return 0;
	if (d >= 9223372036854775808.0) /* 2^63 */
		return INT64_MAX;
	if (d <= -9223372036854775808.0)
		return INT64_MIN;
	return (int64_t)d;
}

int util_double_to_int(double d)
{
	if (d != d)
		return 0;
	if (d >= (double)INT_MAX)
		return INT_MAX;
	if (d <= (double)INT_MIN)
		return INT_MIN;
	return (int)d;
}

int64_t util_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t util_monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
