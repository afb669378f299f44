/* logstore.c - bounded, persisted CloudWatch Logs storage for the emulator (see logstore.h). */
#include "backend/emulator/logstore.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zlib.h>

/* Journal layout: each segment file is a header record then event records, little-endian.
 *   header: "LKLG" u32 version(1) i64 creation_time
 *   record: u32 magic "LKEV", u32 body_len, u32 crc32(body), body
 *   body:   u64 seq, i64 timestamp, i64 ingestion, u16 stream_len, u32 msg_len, stream, msg
 * A group's segments are <hex>.journal (id 0) and <hex>.<id>.journal, in id order. */
#define JOURNAL_HEADER_SIZE 16
#define RECORD_MAGIC        0x56454b4cu /* "LKEV" */
#define RECORD_PREFIX       12
#define BODY_FIXED          30
/* Events whose journal write failed keep their message in memory, up to this many bytes per
 * group (older events are evicted beyond it). */
#define MEMORY_ONLY_MAX ((uint64_t)8 << 20)

struct ls_stream {
	char *name;
	int64_t creation_time;
	int64_t first_ts, last_ts, last_ingestion;
	size_t events;
	uint64_t bytes;
};

/* One event in the index; its message is read from its segment file when needed. */
struct ls_event {
	uint64_t seq;
	int64_t timestamp;
	int64_t ingestion;
	struct ls_stream *stream;
	uint64_t off;  /* of the message in its segment file */
	uint32_t seg;  /* segment id */
	uint32_t len;  /* message bytes */
	char *message; /* only for an event that could not be written to disk */
};

struct ls_segment {
	uint32_t id;
	char *path;
	uint64_t size;  /* bytes in the file */
	size_t records; /* records in the file */
	size_t live;    /* indexed events stored in it */
};

struct ls_group {
	char *name;
	int64_t creation_time;
	struct ls_stream **streams;
	size_t n_streams, cap_streams;
	struct ls_stream *last_stream; /* cache: workers append to the same stream in a row */
	/* events[start .. start+count) in seq order */
	struct ls_event *events;
	size_t start, count, cap;
	uint64_t bytes;          /* message bytes of the indexed events */
	uint64_t memory_bytes;   /* of those, held in memory (journal write failed) */
	struct ls_segment *segs; /* in id order; the last one is appended to */
	size_t n_segs, cap_segs;
	int fd; /* append descriptor of the last segment, or -1 */
	bool write_failed;
};

struct ls_listener {
	int handle;
	logstore_listener fn;
	void *user;
	bool removed;
};

struct logstore {
	char *dir;
	size_t max_events;
	uint64_t max_bytes;
	struct ls_group **groups; /* sorted by name */
	size_t n_groups, cap_groups;
	uint64_t last_seq;
	struct ls_listener *listeners;
	size_t n_listeners, cap_listeners;
	int next_handle;
	int dispatching;
};

static void put_u16(unsigned char *p, uint16_t v)
{
	p[0] = v & 0xff, p[1] = v >> 8;
}
static void put_u32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (v >> (8 * i)) & 0xff;
}
static void put_u64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (v >> (8 * i)) & 0xff;
}
static uint16_t get_u16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}
static uint32_t get_u32(const unsigned char *p)
{
	uint32_t v = 0;
	for (int i = 3; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}
static uint64_t get_u64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

void logstore_format_event_id(int64_t ingestion_time, uint64_t seq, char *out, size_t size)
{
	snprintf(out, size, "%015" PRId64 "%020" PRIu64, ingestion_time < 0 ? 0 : ingestion_time,
	         seq);
}

static struct ls_stream *group_stream(struct ls_group *g, const char *name, size_t name_len,
                                      int64_t now, bool create)
{
	if (g->last_stream && strlen(g->last_stream->name) == name_len &&
	    !memcmp(g->last_stream->name, name, name_len))
		return g->last_stream;
	/* binary search: streams are kept sorted by name */
	size_t lo = 0, hi = g->n_streams;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const char *s = g->streams[mid]->name;
		size_t sl = strlen(s);
		int c = memcmp(s, name, sl < name_len ? sl : name_len);
		if (c == 0)
			c = sl < name_len ? -1 : sl > name_len ? 1 : 0;
		if (c == 0)
			return g->last_stream = g->streams[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!create)
		return NULL;
	struct ls_stream *st = xcalloc(1, sizeof(*st));
	st->name = xstrndup(name, name_len);
	st->creation_time = now;
	if (g->n_streams == g->cap_streams) {
		g->cap_streams = g->cap_streams ? g->cap_streams * 2 : 8;
		g->streams = xrealloc(g->streams, g->cap_streams * sizeof(*g->streams));
	}
	memmove(g->streams + lo + 1, g->streams + lo, (g->n_streams - lo) * sizeof(*g->streams));
	g->streams[lo] = st;
	g->n_streams++;
	return g->last_stream = st;
}

static void stream_free(struct ls_stream *st)
{
	if (!st)
		return;
	free(st->name);
	free(st);
}

/* Removes a stream that no longer holds any event (keeps the store bounded when workers
 * come and go: each worker writes its own stream). */
static void group_drop_stream(struct ls_group *g, struct ls_stream *st)
{
	for (size_t i = 0; i < g->n_streams; i++) {
		if (g->streams[i] == st) {
			memmove(g->streams + i, g->streams + i + 1,
			        (g->n_streams - i - 1) * sizeof(*g->streams));
			g->n_streams--;
			break;
		}
	}
	if (g->last_stream == st)
		g->last_stream = NULL;
	stream_free(st);
}

static size_t find_group_index(const struct logstore *ls, const char *name, bool *found)
{
	size_t lo = 0, hi = ls->n_groups;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(ls->groups[mid]->name, name);
		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

static struct ls_group *find_group(const struct logstore *ls, const char *name)
{
	bool found;
	size_t i = find_group_index(ls, name, &found);
	return found ? ls->groups[i] : NULL;
}

/* Path of segment id of a group: <hex of name>.journal for id 0, <hex>.<id>.journal after. */
static char *segment_path(const struct logstore *ls, const char *group, uint32_t id)
{
	size_t n = strlen(group);
	char *hex = xmalloc(2 * n + 32);
	util_hex((const unsigned char *)group, n, hex);
	if (id)
		snprintf(hex + 2 * n, 32, ".%" PRIu32 ".journal", id);
	else
		strcpy(hex + 2 * n, ".journal");
	char *p = util_path_join(ls->dir, hex);
	free(hex);
	return p;
}

static struct ls_group *group_new(struct logstore *ls, const char *name, int64_t creation)
{
	bool found;
	size_t at = find_group_index(ls, name, &found);
	struct ls_group *g = xcalloc(1, sizeof(*g));
	g->name = xstrdup(name);
	g->creation_time = creation;
	g->fd = -1;
	if (ls->n_groups == ls->cap_groups) {
		ls->cap_groups = ls->cap_groups ? ls->cap_groups * 2 : 8;
		ls->groups = xrealloc(ls->groups, ls->cap_groups * sizeof(*ls->groups));
	}
	memmove(ls->groups + at + 1, ls->groups + at, (ls->n_groups - at) * sizeof(*ls->groups));
	ls->groups[at] = g;
	ls->n_groups++;
	return g;
}

static void group_free(struct ls_group *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < g->count; i++)
		free(g->events[g->start + i].message);
	free(g->events);
	for (size_t i = 0; i < g->n_streams; i++)
		stream_free(g->streams[i]);
	free(g->streams);
	for (size_t i = 0; i < g->n_segs; i++)
		free(g->segs[i].path);
	free(g->segs);
	if (g->fd >= 0)
		close(g->fd);
	free(g->name);
	free(g);
}

static struct ls_segment *group_segment(struct ls_group *g, uint32_t id)
{
	for (size_t i = g->n_segs; i-- > 0;)
		if (g->segs[i].id == id)
			return &g->segs[i];
	return NULL;
}

static struct ls_segment *segment_add(struct logstore *ls, struct ls_group *g, uint32_t id)
{
	if (g->n_segs == g->cap_segs) {
		g->cap_segs = g->cap_segs ? g->cap_segs * 2 : 4;
		g->segs = xrealloc(g->segs, g->cap_segs * sizeof(*g->segs));
	}
	struct ls_segment *sg = &g->segs[g->n_segs++];
	*sg = (struct ls_segment){.id = id, .path = segment_path(ls, g->name, id)};
	return sg;
}

/* Deletes the oldest segments that no longer hold an indexed event (never the last one,
 * which is appended to): the disk holds about the bound, never the whole history. */
static void group_drop_dead_segments(struct ls_group *g)
{
	size_t dead = 0;
	while (dead + 1 < g->n_segs && g->segs[dead].live == 0) {
		if (unlink(g->segs[dead].path) != 0 && errno != ENOENT)
			fprintf(stderr, "lambdeck emulator: logstore: cannot remove %s: %s\n",
			        g->segs[dead].path, strerror(errno));
		free(g->segs[dead].path);
		dead++;
	}
	if (dead) {
		memmove(g->segs, g->segs + dead, (g->n_segs - dead) * sizeof(*g->segs));
		g->n_segs -= dead;
	}
}

static void group_evict_oldest(struct ls_group *g)
{
	struct ls_event *e = &g->events[g->start];
	struct ls_stream *st = e->stream;
	struct ls_segment *sg = e->message ? NULL : group_segment(g, e->seg);
	if (sg && sg->live)
		sg->live--;
	st->events--;
	st->bytes -= e->len;
	g->bytes -= e->len;
	if (e->message)
		g->memory_bytes -= e->len;
	free(e->message);
	g->start++;
	g->count--;
	if (st->events == 0)
		group_drop_stream(g, st);
	else {
		/* the stream's first event is now its next one in the group */
		for (size_t i = 0; i < g->count; i++) {
			if (g->events[g->start + i].stream == st) {
				st->first_ts = g->events[g->start + i].timestamp;
				break;
			}
		}
	}
	if (sg && sg->live == 0)
		group_drop_dead_segments(g);
}

/* Evicts the oldest events so one more of len bytes fits the count and byte bounds. Call
 * BEFORE looking up the stream to append to: eviction may free a stream whose last event
 * goes. */
static void group_make_room(const struct logstore *ls, struct ls_group *g, size_t len)
{
	while (g->count > 0 && (g->count >= ls->max_events || g->bytes + len > ls->max_bytes))
		group_evict_oldest(g);
}

/* Adds an event to the index; group_make_room first. message: NULL when the event is on
 * disk at (seg, off), else an allocated copy the group takes. */
static void group_push(struct ls_group *g, struct ls_stream *st, uint64_t seq, int64_t ts,
                       int64_t ingestion, uint32_t seg, uint64_t off, char *message, size_t len)
{
	if (g->start + g->count == g->cap) {
		if (g->start > g->cap / 2) {
			memmove(g->events, g->events + g->start, g->count * sizeof(*g->events));
			g->start = 0;
		} else {
			g->cap = g->cap ? g->cap * 2 : 64;
			g->events = xrealloc(g->events, g->cap * sizeof(*g->events));
		}
	}
	struct ls_event *e = &g->events[g->start + g->count++];
	*e = (struct ls_event){.seq = seq,
	                       .timestamp = ts,
	                       .ingestion = ingestion,
	                       .stream = st,
	                       .off = off,
	                       .seg = seg,
	                       .len = (uint32_t)len,
	                       .message = message};
	if (message) {
		g->memory_bytes += len;
	} else {
		struct ls_segment *sg = group_segment(g, seg);
		if (sg)
			sg->live++;
	}
	if (st->events == 0)
		st->first_ts = st->last_ts = ts;
	else if (ts > st->last_ts)
		st->last_ts = ts;
	st->last_ingestion = ingestion;
	st->events++;
	st->bytes += len;
	g->bytes += len;
}

/* The record's fixed part (prefix + body fields) and CRC for one event. */
static void encode_record_head(unsigned char pre[RECORD_PREFIX + BODY_FIXED], uint64_t seq,
                               int64_t ts, int64_t ingestion, const char *stream, size_t sl,
                               const char *msg, size_t len)
{
	put_u32(pre, RECORD_MAGIC);
	put_u32(pre + 4, (uint32_t)(BODY_FIXED + sl + len));
	unsigned char *f = pre + RECORD_PREFIX;
	put_u64(f, seq);
	put_u64(f + 8, (uint64_t)ts);
	put_u64(f + 16, (uint64_t)ingestion);
	put_u16(f + 24, (uint16_t)sl);
	put_u32(f + 26, (uint32_t)len);
	uLong crc = crc32(0L, Z_NULL, 0);
	crc = crc32(crc, f, BODY_FIXED);
	crc = crc32(crc, (const Bytef *)stream, (uInt)sl);
	crc = crc32(crc, (const Bytef *)msg, (uInt)len);
	put_u32(pre + 8, (uint32_t)crc);
}

static void encode_header(unsigned char h[JOURNAL_HEADER_SIZE], int64_t creation)
{
	memcpy(h, "LKLG", 4);
	put_u32(h + 4, 1);
	put_u64(h + 8, (uint64_t)creation);
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void report_write_failure(struct ls_group *g, const char *what, const char *path)
{
	if (g->write_failed)
		return;
	g->write_failed = true;
	fprintf(stderr, "lambdeck emulator: logstore: %s %s: %s (events kept in memory only)\n",
	        what, path, strerror(errno));
}

/* A segment holds about an eighth of the group's bounds, so dropping whole old segments
 * keeps the disk near the bound without ever rewriting a file. */
static bool segment_full(const struct logstore *ls, const struct ls_segment *sg)
{
	uint64_t max_bytes = ls->max_bytes / 8 < 65536 ? 65536 : ls->max_bytes / 8;
	size_t max_records = (ls->max_events + 7) / 8;
	return sg->size >= max_bytes || sg->records >= max_records;
}

/* The segment to append to, opened (a new one is started when the last is full). */
static struct ls_segment *group_append_segment(struct logstore *ls, struct ls_group *g)
{
	struct ls_segment *sg = g->n_segs ? &g->segs[g->n_segs - 1] : NULL;
	if (sg && g->fd >= 0 && !segment_full(ls, sg))
		return sg;
	if (!sg || segment_full(ls, sg)) {
		if (g->fd >= 0)
			close(g->fd);
		g->fd = -1;
		sg = segment_add(ls, g, sg ? sg->id + 1 : 0);
		group_drop_dead_segments(g); /* the previous last one may be empty */
		sg = &g->segs[g->n_segs - 1];
	}
	g->fd = open(sg->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (g->fd < 0) {
		report_write_failure(g, "cannot open", sg->path);
		return NULL;
	}
	struct stat st;
	if (fstat(g->fd, &st) != 0) {
		report_write_failure(g, "cannot stat", sg->path);
		close(g->fd);
		g->fd = -1;
		return NULL;
	}
	if (st.st_size < JOURNAL_HEADER_SIZE) {
		/* new, or its header was cut short (full disk): no record may follow a partial
		 * header, so it is written again from the start */
		unsigned char h[JOURNAL_HEADER_SIZE];
		encode_header(h, g->creation_time);
		if ((st.st_size > 0 && ftruncate(g->fd, 0) != 0) ||
		    write_all(g->fd, h, sizeof(h)) != 0) {
			report_write_failure(g, "cannot write", sg->path);
			close(g->fd);
			g->fd = -1;
			return NULL;
		}
		st.st_size = JOURNAL_HEADER_SIZE;
	}
	sg->size = (uint64_t)st.st_size;
	return sg;
}

/* Writes one event record; on success sets *seg and *off to where its message is. */
static int group_write(struct logstore *ls, struct ls_group *g, uint64_t seq, int64_t ts,
                       int64_t ingestion, const char *stream, const char *msg, size_t len,
                       uint32_t *seg, uint64_t *off)
{
	struct ls_segment *sg = group_append_segment(ls, g);
	if (!sg)
		return -1;
	size_t sl = strlen(stream);
	unsigned char pre[RECORD_PREFIX + BODY_FIXED];
	encode_record_head(pre, seq, ts, ingestion, stream, sl, msg, len);
	struct iovec iov[3] = {{pre, sizeof(pre)}, {(void *)stream, sl}, {(void *)msg, len}};
	size_t total = sizeof(pre) + sl + len;
	ssize_t n;
	do
		n = writev(g->fd, iov, 3);
	while (n < 0 && errno == EINTR);
	if (n >= 0 && (size_t)n < total) {
		/* rare short write: finish it byte-exact */
		struct buf rest = {0};
		buf_append(&rest, pre, sizeof(pre));
		buf_append(&rest, stream, sl);
		buf_append(&rest, msg, len);
		if (write_all(g->fd, rest.data + n, total - (size_t)n) != 0)
			n = -1;
		buf_free(&rest);
	}
	if (n < 0) {
		report_write_failure(g, "cannot write", sg->path);
		/* the file may end in a partial record: appends go to a fresh segment */
		close(g->fd);
		g->fd = -1;
		sg->records = SIZE_MAX / 2;
		return -1;
	}
	*seg = sg->id;
	*off = sg->size + sizeof(pre) + sl;
	sg->size += total;
	sg->records++;
	g->write_failed = false;
	return 0;
}

/* Parses "<hex>.journal" or "<hex>.<id>.journal"; returns the group name (caller frees). */
static char *parse_segment_name(const char *base, uint32_t *id)
{
	size_t l = strlen(base);
	if (l <= 8 || strcmp(base + l - 8, ".journal"))
		return NULL;
	size_t hexlen = strcspn(base, ".");
	*id = 0;
	if (hexlen != l - 8) {
		const char *num = base + hexlen + 1;
		char *end;
		unsigned long v;
		if (!isdigit((unsigned char)*num))
			return NULL;
		errno = 0;
		v = strtoul(num, &end, 10);
		if (errno || v == 0 || v > UINT32_MAX || strcmp(end, ".journal"))
			return NULL;
		*id = (uint32_t)v;
	}
	if (hexlen == 0 || hexlen % 2)
		return NULL;
	char *name = xmalloc(hexlen / 2 + 1);
	for (size_t i = 0; i < hexlen / 2; i++) {
		unsigned v;
		if (!isxdigit((unsigned char)base[2 * i]) ||
		    !isxdigit((unsigned char)base[2 * i + 1]) ||
		    sscanf(base + 2 * i, "%2x", &v) != 1) {
			free(name);
			return NULL;
		}
		name[i] = (char)v;
	}
	name[hexlen / 2] = 0;
	if (strlen(name) != hexlen / 2 || !*name) {
		free(name);
		return NULL;
	}
	return name;
}

/* Reads one segment into the index (messages stay on disk). Records after a torn or corrupt
 * one are dropped and the file is cut there, so the next append starts on a record
 * boundary. */
static void load_segment(struct logstore *ls, const char *path, const char *name, uint32_t id)
{
	FILE *f = fopen(path, "rbe");
	if (!f) {
		fprintf(stderr, "lambdeck emulator: logstore: cannot open %s: %s\n", path,
		        strerror(errno));
		return;
	}
	unsigned char h[JOURNAL_HEADER_SIZE];
	size_t got = fread(h, 1, sizeof(h), f);
	if (got < sizeof(h) && (got == 0 || !memcmp(h, "LKLG", got < 4 ? got : 4))) {
		/* created, but the header never made it (crash or full disk): nothing in it */
		fclose(f);
		unlink(path);
		return;
	}
	if (got != sizeof(h) || memcmp(h, "LKLG", 4) != 0 || get_u32(h + 4) != 1) {
		fprintf(stderr, "lambdeck emulator: logstore: %s is not a journal; ignored\n",
		        path);
		fclose(f);
		return;
	}
	struct ls_group *g = find_group(ls, name);
	if (!g)
		g = group_new(ls, name, (int64_t)get_u64(h + 8));
	else if (g->n_segs && g->segs[g->n_segs - 1].id >= id) {
		fclose(f); /* cannot happen: segments are loaded in id order */
		return;
	}
	struct ls_segment *sg = segment_add(ls, g, id);
	uint32_t sid = sg->id;
	uint64_t off = JOURNAL_HEADER_SIZE;
	size_t records = 0;
	struct buf body = {0};
	for (;;) {
		unsigned char r[RECORD_PREFIX];
		if (fread(r, 1, sizeof(r), f) != sizeof(r))
			break;
		uint32_t blen = get_u32(r + 4);
		if (get_u32(r) != RECORD_MAGIC || blen < BODY_FIXED ||
		    blen > BODY_FIXED + UINT16_MAX + LOGSTORE_MAX_MESSAGE)
			break;
		buf_reset(&body);
		buf_reserve(&body, blen);
		if (fread(body.data, 1, blen, f) != blen)
			break;
		const unsigned char *b = (const unsigned char *)body.data;
		if ((uint32_t)crc32(crc32(0L, Z_NULL, 0), b, blen) != get_u32(r + 8))
			break;
		uint16_t sl = get_u16(b + 24);
		uint32_t ml = get_u32(b + 26);
		if ((size_t)BODY_FIXED + sl + ml != blen || sl == 0 || ml > LOGSTORE_MAX_MESSAGE)
			break;
		uint64_t seq = get_u64(b);
		int64_t ingestion = (int64_t)get_u64(b + 16);
		group_make_room(ls, g, ml);
		struct ls_stream *st =
		    group_stream(g, (const char *)b + BODY_FIXED, sl, ingestion, true);
		if (st->events == 0 && ingestion < st->creation_time)
			st->creation_time = ingestion;
		group_push(g, st, seq, (int64_t)get_u64(b + 8), ingestion, sid,
		           off + RECORD_PREFIX + BODY_FIXED + sl, NULL, ml);
		if (seq > ls->last_seq)
			ls->last_seq = seq;
		records++;
		off += RECORD_PREFIX + blen;
	}
	buf_free(&body);
	fclose(f);
	sg = group_segment(g, sid); /* eviction may have moved the array */
	struct stat st;
	if (stat(path, &st) == 0 && (uint64_t)st.st_size != off) {
		fprintf(stderr,
		        "lambdeck emulator: logstore: %s: dropped a torn/corrupt tail at byte "
		        "%" PRIu64 "\n",
		        path, off);
		if (truncate(path, (off_t)off) != 0)
			report_write_failure(g, "cannot truncate", path);
	}
	if (sg) {
		sg->size = off;
		sg->records = records;
	}
}

struct segment_file {
	char *name; /* group */
	uint32_t id;
	char *file;
};

static int cmp_segment_file(const void *a, const void *b)
{
	const struct segment_file *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c ? c : x->id < y->id ? -1 : x->id > y->id;
}

struct logstore *logstore_open(const char *dir, size_t max_events_per_group,
                               uint64_t max_bytes_per_group, struct lk_error *err)
{
	if (!dir || !*dir) {
		lk_error_set(err, "InvalidArgument", "logstore: no directory given");
		return NULL;
	}
	if (util_mkdir_p(dir, 0700, err) != 0)
		return NULL;
	DIR *d = opendir(dir);
	if (!d) {
		lk_error_set(err, "IOError", "cannot open %s: %s", dir, strerror(errno));
		return NULL;
	}
	struct logstore *ls = xcalloc(1, sizeof(*ls));
	ls->dir = xstrdup(dir);
	ls->max_events = max_events_per_group ? max_events_per_group : LOGSTORE_DEFAULT_MAX_EVENTS;
	ls->max_bytes = max_bytes_per_group ? max_bytes_per_group : LOGSTORE_DEFAULT_MAX_BYTES;
	ls->next_handle = 1;
	struct segment_file *files = NULL;
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		uint32_t id;
		char *name = parse_segment_name(de->d_name, &id);
		if (!name)
			continue;
		files = xrealloc(files, (n + 1) * sizeof(*files));
		files[n++] =
		    (struct segment_file){.name = name, .id = id, .file = xstrdup(de->d_name)};
	}
	closedir(d);
	if (n)
		qsort(files, n, sizeof(*files), cmp_segment_file);
	for (size_t i = 0; i < n; i++) {
		char *p = util_path_join(dir, files[i].file);
		load_segment(ls, p, files[i].name, files[i].id);
		free(p);
		free(files[i].name);
		free(files[i].file);
	}
	free(files);
	return ls;
}

void logstore_close(struct logstore *ls)
{
	if (!ls)
		return;
	for (size_t i = 0; i < ls->n_groups; i++)
		group_free(ls->groups[i]);
	free(ls->groups);
	free(ls->listeners);
	free(ls->dir);
	free(ls);
}

static void fill_event(const struct ls_group *g, const struct ls_event *e, const char *message,
                       char *id, size_t idsz, struct log_event *out)
{
	logstore_format_event_id(e->ingestion, e->seq, id, idsz);
	*out = (struct log_event){.group = g->name,
	                          .stream = e->stream->name,
	                          .event_id = id,
	                          .timestamp = e->timestamp,
	                          .ingestion_time = e->ingestion,
	                          .message = message,
	                          .message_len = e->len,
	                          .seq = e->seq};
}

int logstore_append(struct logstore *ls, const char *group, const char *stream,
                    int64_t timestamp_ms, const char *message, size_t len)
{
	if (!ls || !group || !*group || !stream || !*stream || (!message && len))
		return -1;
	if (strlen(stream) > UINT16_MAX)
		return -1;
	if (len > LOGSTORE_MAX_MESSAGE)
		len = LOGSTORE_MAX_MESSAGE;
	if (!message)
		message = "";
	int64_t now = util_now_ms();
	struct ls_group *g = find_group(ls, group);
	if (!g)
		g = group_new(ls, group, now);
	group_make_room(ls, g, len);
	struct ls_stream *st = group_stream(g, stream, strlen(stream), now, true);
	uint64_t seq = ++ls->last_seq;
	uint32_t seg = 0;
	uint64_t off = 0;
	char *copy = NULL;
	if (group_write(ls, g, seq, timestamp_ms, now, st->name, message, len, &seg, &off) != 0) {
		copy = xmalloc(len + 1);
		memcpy(copy, message, len);
		copy[len] = 0;
	}
	group_push(g, st, seq, timestamp_ms, now, seg, off, copy, len);
	/* memory-only events are bounded too; the new one (last) is never evicted here, so
	 * its stream stays */
	while (g->memory_bytes > MEMORY_ONLY_MAX && g->count > 1)
		group_evict_oldest(g);

	struct ls_event *e = &g->events[g->start + g->count - 1];
	char id[48];
	struct log_event ev;
	fill_event(g, e, message, id, sizeof(id), &ev);
	ls->dispatching++;
	size_t n = ls->n_listeners; /* listeners added during dispatch see the next event */
	for (size_t i = 0; i < n; i++)
		if (!ls->listeners[i].removed)
			ls->listeners[i].fn(ls->listeners[i].user, &ev);
	if (--ls->dispatching == 0) {
		size_t w = 0;
		for (size_t i = 0; i < ls->n_listeners; i++)
			if (!ls->listeners[i].removed)
				ls->listeners[w++] = ls->listeners[i];
		ls->n_listeners = w;
	}
	return 0;
}

int logstore_create_group(struct logstore *ls, const char *group)
{
	if (!ls || !group || !*group)
		return -1;
	if (find_group(ls, group))
		return 1;
	struct ls_group *g = group_new(ls, group, util_now_ms());
	group_append_segment(ls, g); /* the empty journal keeps the group across restarts */
	return 0;
}

int logstore_create_stream(struct logstore *ls, const char *group, const char *stream)
{
	struct ls_group *g = ls && group ? find_group(ls, group) : NULL;
	if (!g || !stream || !*stream || strlen(stream) > UINT16_MAX)
		return -1;
	size_t n = g->n_streams;
	group_stream(g, stream, strlen(stream), util_now_ms(), true);
	return g->n_streams > n ? 0 : 1;
}

int logstore_subscribe(struct logstore *ls, logstore_listener fn, void *user)
{
	if (!ls || !fn)
		return -1;
	if (ls->n_listeners == ls->cap_listeners) {
		ls->cap_listeners = ls->cap_listeners ? ls->cap_listeners * 2 : 4;
		ls->listeners = xrealloc(ls->listeners, ls->cap_listeners * sizeof(*ls->listeners));
	}
	int h = ls->next_handle++;
	ls->listeners[ls->n_listeners++] =
	    (struct ls_listener){.handle = h, .fn = fn, .user = user, .removed = false};
	return h;
}

void logstore_unsubscribe(struct logstore *ls, int handle)
{
	if (!ls)
		return;
	for (size_t i = 0; i < ls->n_listeners; i++) {
		if (ls->listeners[i].handle != handle)
			continue;
		if (ls->dispatching) {
			ls->listeners[i].removed = true;
		} else {
			memmove(ls->listeners + i, ls->listeners + i + 1,
			        (ls->n_listeners - i - 1) * sizeof(*ls->listeners));
			ls->n_listeners--;
		}
		return;
	}
}

size_t logstore_list_groups(struct logstore *ls, struct logstore_group_info **out)
{
	*out = NULL;
	if (!ls || ls->n_groups == 0)
		return 0;
	*out = xcalloc(ls->n_groups, sizeof(**out));
	for (size_t i = 0; i < ls->n_groups; i++) {
		const struct ls_group *g = ls->groups[i];
		(*out)[i] = (struct logstore_group_info){.name = g->name,
		                                         .creation_time = g->creation_time,
		                                         .stored_events = g->count,
		                                         .stored_bytes = g->bytes};
	}
	return ls->n_groups;
}

size_t logstore_list_streams(struct logstore *ls, const char *group,
                             struct logstore_stream_info **out)
{
	*out = NULL;
	struct ls_group *g = ls && group ? find_group(ls, group) : NULL;
	if (!g)
		return (size_t)-1;
	if (g->n_streams == 0)
		return 0;
	*out = xcalloc(g->n_streams, sizeof(**out));
	for (size_t i = 0; i < g->n_streams; i++) {
		const struct ls_stream *s = g->streams[i];
		(*out)[i] = (struct logstore_stream_info){.name = s->name,
		                                          .creation_time = s->creation_time,
		                                          .first_event_timestamp = s->first_ts,
		                                          .last_event_timestamp = s->last_ts,
		                                          .last_ingestion_time = s->last_ingestion,
		                                          .stored_events = s->events,
		                                          .stored_bytes = s->bytes};
	}
	return g->n_streams;
}

bool logstore_group_exists(struct logstore *ls, const char *group)
{
	return ls && group && find_group(ls, group) != NULL;
}

/* Index of the first event with seq > after (events are in seq order). */
static size_t upper_bound(const struct ls_group *g, uint64_t after)
{
	size_t lo = 0, hi = g->count;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (g->events[g->start + mid].seq <= after)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Reads events' messages back from their segments during one scan: one open file at a time
 * and one buffer of at most the largest message. */
struct scan_reader {
	const struct ls_group *g;
	uint32_t seg;
	int fd;
	struct buf msg;
};

/* The message of e, or NULL when its segment cannot be read (removed behind our back). */
static const char *scan_message(struct scan_reader *r, const struct ls_event *e)
{
	if (e->message)
		return e->message;
	if (r->fd < 0 || r->seg != e->seg) {
		if (r->fd >= 0)
			close(r->fd);
		r->fd = -1;
		struct ls_segment *sg = group_segment((struct ls_group *)r->g, e->seg);
		if (!sg)
			return NULL;
		r->fd = open(sg->path, O_RDONLY | O_CLOEXEC);
		if (r->fd < 0)
			return NULL;
		r->seg = e->seg;
	}
	buf_reset(&r->msg);
	buf_reserve(&r->msg, (size_t)e->len + 1);
	size_t got = 0;
	while (got < e->len) {
		ssize_t n = pread(r->fd, r->msg.data + got, e->len - got, (off_t)(e->off + got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return NULL;
		got += (size_t)n;
	}
	r->msg.len = got;
	r->msg.data[got] = 0;
	return r->msg.data;
}

/* Delivers one event of a scan; false stops the scan. */
static bool scan_visit(struct scan_reader *r, const struct ls_event *e, logstore_visitor fn,
                       void *user)
{
	char id[48];
	struct log_event ev;
	const char *msg = scan_message(r, e);
	if (!msg)
		return true; /* unreadable: skipped */
	fill_event(r->g, e, msg, id, sizeof(id), &ev);
	return fn(user, &ev);
}

int logstore_scan(struct logstore *ls, const char *group, const char *stream, uint64_t after_seq,
                  bool backwards, logstore_visitor fn, void *user)
{
	struct ls_group *g = ls && group ? find_group(ls, group) : NULL;
	if (!g)
		return -1;
	const struct ls_stream *only = NULL;
	if (stream) {
		only = group_stream(g, stream, strlen(stream), 0, false);
		if (!only)
			return 0;
	}
	struct scan_reader r = {.g = g, .fd = -1};
	if (!backwards) {
		for (size_t i = upper_bound(g, after_seq); i < g->count; i++) {
			const struct ls_event *e = &g->events[g->start + i];
			if (only && e->stream != only)
				continue;
			if (!scan_visit(&r, e, fn, user))
				break;
		}
	} else {
		/* events with seq < after_seq: those before the first with seq >= after_seq */
		size_t end = after_seq == 0 ? 0 : upper_bound(g, after_seq - 1);
		for (size_t i = end; i-- > 0;) {
			const struct ls_event *e = &g->events[g->start + i];
			if (only && e->stream != only)
				continue;
			if (!scan_visit(&r, e, fn, user))
				break;
		}
	}
	if (r.fd >= 0)
		close(r.fd);
	buf_free(&r.msg);
	return 0;
}

uint64_t logstore_last_seq(const struct logstore *ls)
{
	return ls ? ls->last_seq : 0;
}
