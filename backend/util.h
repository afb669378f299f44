/* util.h - small shared helpers: errors as values, growable buffers, files written
 * atomically, terminal-safe text, hashing and encoding. Knows no ncurses, no libuv. */
#ifndef LAMBDECK_UTIL_H
#define LAMBDECK_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* An error is a value: an AWS-style code ("ResourceConflictException", or a lambdeck one
 * such as "ParseError"), a message a user can act on, the AWS request id when there was one,
 * and the HTTP status (0 when not an HTTP error). Never contains secrets. */
struct lk_error {
	int status;
	char code[64];
	char message[512];
	char request_id[80];
};

void lk_error_clear(struct lk_error *err);
/* Sets code and a printf-style message; err may be NULL. Returns -1 so callers can
 * `return lk_error_set(...)`. */
int lk_error_set(struct lk_error *err, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
bool lk_error_is_set(const struct lk_error *err);

/* Called by xmalloc & co. before aborting on out-of-memory, and by fatal paths: the console
 * installs a hook that ends curses so the terminal always comes back. */
void lk_set_fatal_hook(void (*hook)(void));
void lk_fatal(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s); /* NULL in, NULL out */
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A growable byte buffer, always NUL-terminated (data may be NULL while len == 0). */
struct buf {
	char *data;
	size_t len;
	size_t cap;
};
void buf_reserve(struct buf *b, size_t extra);
void buf_append(struct buf *b, const void *data, size_t len);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap);
void buf_reset(struct buf *b); /* len = 0, keeps memory */
void buf_free(struct buf *b);
char *buf_steal(struct buf *b); /* returns data ("" if empty), caller frees */

/* Files. All return 0 on success, -1 with err set. */
int util_read_file(const char *path, struct buf *out, struct lk_error *err);
/* Writes temp file in the same directory, fsyncs, renames over path: readers see the old
 * or the new content, never a torn one; on failure the old file is untouched. */
int util_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
                      struct lk_error *err);
/* mkdir -p. A ".lambdeck" directory on the way gets a .gitignore of "*" (written once), so a
 * project's .lambdeck/ ignores itself for git whoever creates it. */
int util_mkdir_p(const char *path, mode_t mode, struct lk_error *err);
/* The user's cache directory for lambdeck: $XDG_CACHE_HOME/lambdeck (when absolute), else
 * ~/.cache/lambdeck; NULL when there is no home directory. Not created here. Caller frees. */
char *util_cache_dir(void);
char *util_path_join(const char *a, const char *b); /* caller frees */
bool util_is_dir(const char *path);
bool util_is_file(const char *path);
/* True when prog is an executable regular file as execvp would find it: a name with a '/'
 * taken relative to cwd (NULL: ours), else searched in $PATH. */
bool util_executable(const char *prog, const char *cwd);

/* Terminal safety: copies text for display. Control characters become visible caret form
 * (ESC -> "^[", NUL -> "^@", DEL -> "^?"), tab kept as tab only when keep_tabs, newline
 * kept only when keep_newlines, invalid UTF-8 -> U+FFFD. Appends to out. */
void util_sanitize(const char *in, size_t len, bool keep_newlines, bool keep_tabs, struct buf *out);

/* Length (1..4) of the valid UTF-8 sequence at s (at most n bytes, n >= 1): no overlongs, no
 * surrogates, nothing above U+10FFFF; 0 if invalid. */
size_t util_utf8_len(const unsigned char *s, size_t n);

/* JSON text that is valid and terminal-safe whatever the input. Inside strings: invalid
 * UTF-8 becomes U+FFFD, and the characters a terminal or a JavaScript consumer may act on
 * are escaped: C0 controls, DEL, the C1 controls U+0080..U+009F (U+009B is CSI) and
 * U+2028/U+2029. util_json_string appends s (len bytes) as one quoted JSON string;
 * keep_invalid copies invalid bytes as they are instead (lossless, for lambdeck's own
 * files whose reader takes raw bytes back, e.g. file names in a build manifest). */
void util_json_string(struct buf *out, const char *s, size_t len, bool keep_invalid);
/* The one writer behind every --json output: takes a JSON text printed by cJSON (malloc'd
 * by it, consumed here; cJSON escapes only '"', '\\' and C0 controls and copies every other
 * byte) and returns it (caller frees) with every string made safe as above. NULL -> NULL. */
char *util_json_safe(char *json);

/* Hashing and encoding (OpenSSL). */
void util_sha256(const void *data, size_t len, unsigned char out[32]);
void util_hex(const unsigned char *in, size_t len, char *out); /* out: 2*len+1 */
char *util_base64(const void *data, size_t len);               /* caller frees */
/* Returns decoded bytes (caller frees) and sets *out_len; NULL on invalid input. */
unsigned char *util_base64_decode(const char *in, size_t len, size_t *out_len);

/* A JSON number as an integer: the fraction is dropped, values beyond the type's range
 * saturate and NaN gives 0 (a plain cast of an out-of-range double is undefined). */
int64_t util_double_to_int64(double d);
int util_double_to_int(double d);

int64_t util_now_ms(void); /* wall clock, Unix ms */
uint64_t util_monotonic_ns(void);

#endif
