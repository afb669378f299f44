/* logstore.c - bounded, persisted CloudWatch Logs storage for the emulator (see logstore.h). */
#include "backend/emulator/logstore.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

/* Journal layout: a header record then event records, all little-endian.
 *   header: "LKLG" u32 version(1) i64 creation_time
 *   record: u32 magic "LKEV", u32 body_len, u32 crc32(body), body
 *   body:   u64 seq, i64 timestamp, i64 ingestion, u16 stream_len, u32 msg_len, stream, msg */
#define JOURNAL_HEADER_SIZE 16
#define RECORD_MAGIC        0x56454b4cu /* "LKEV" */
#define RECORD_PREFIX       12
#define BODY_FIXED          30

struct ls_stream {
	char *name;
	int64_t creation_time;
	int64_t first_ts, last_ts, last_ingestion;
	size_t events;
	uint64_t bytes;
};

struct ls_event {
	uint64_t seq;
	int64_t timestamp;
	int64_t ingestion;
	struct ls_stream *stream;
	char *message;
	size_t len;
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
	uint64_t bytes;
	char *journal_path;
	int fd;
	size_t journal_records;
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

static char *journal_path_for(const struct logstore *ls, const char *group)
{
	size_t n = strlen(group);
	char *hex = xmalloc(2 * n + sizeof(".journal"));
	util_hex((const unsigned char *)group, n, hex);
	strcat(hex, ".journal");
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
	g->journal_path = journal_path_for(ls, name);
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
	if (g->fd >= 0)
		close(g->fd);
	free(g->journal_path);
	free(g->name);
	free(g);
}

static void group_evict_oldest(struct ls_group *g)
{
	struct ls_event *e = &g->events[g->start];
	struct ls_stream *st = e->stream;
	st->events--;
	st->bytes -= e->len;
	g->bytes -= e->len;
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
}

/* Evicts the oldest events so one more fits. Call BEFORE looking up the stream to append
 * to: eviction may free a stream whose last event goes. */
static void group_make_room(const struct logstore *ls, struct ls_group *g)
{
	while (g->count >= ls->max_events)
		group_evict_oldest(g);
}

/* Adds an event in memory (takes ownership of message); group_make_room first. */
static struct ls_event *group_push(struct ls_group *g, struct ls_stream *st, uint64_t seq,
                                   int64_t ts, int64_t ingestion, char *message, size_t len)
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
	                       .message = message,
	                       .len = len};
	if (st->events == 0)
		st->first_ts = st->last_ts = ts;
	else if (ts > st->last_ts)
		st->last_ts = ts;
	st->last_ingestion = ingestion;
	st->events++;
	st->bytes += len;
	g->bytes += len;
	return e;
}

static void encode_record(struct buf *b, const struct ls_event *e)
{
	size_t sl = strlen(e->stream->name);
	size_t body = BODY_FIXED + sl + e->len;
	unsigned char pre[RECORD_PREFIX + BODY_FIXED];
	put_u32(pre, RECORD_MAGIC);
	put_u32(pre + 4, (uint32_t)body);
	unsigned char *f = pre + RECORD_PREFIX;
	put_u64(f, e->seq);
	put_u64(f + 8, (uint64_t)e->timestamp);
	put_u64(f + 16, (uint64_t)e->ingestion);
	put_u16(f + 24, (uint16_t)sl);
	put_u32(f + 26, (uint32_t)e->len);
	uLong crc = crc32(0L, Z_NULL, 0);
	crc = crc32(crc, f, BODY_FIXED);
	crc = crc32(crc, (const Bytef *)e->stream->name, (uInt)sl);
	crc = crc32(crc, (const Bytef *)e->message, (uInt)e->len);
	put_u32(pre + 8, (uint32_t)crc);
	buf_append(b, pre, sizeof(pre));
	buf_append(b, e->stream->name, sl);
	buf_append(b, e->message, e->len);
}

static void encode_header(struct buf *b, int64_t creation)
{
	unsigned char h[JOURNAL_HEADER_SIZE];
	memcpy(h, "LKLG", 4);
	put_u32(h + 4, 1);
	put_u64(h + 8, (uint64_t)creation);
	buf_append(b, h, sizeof(h));
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

static void report_write_failure(struct ls_group *g, const char *what)
{
	if (g->write_failed)
		return;
	g->write_failed = true;
	fprintf(stderr, "lambdeck emulator: logstore: %s %s: %s (events kept in memory only)\n",
	        what, g->journal_path, strerror(errno));
}

/* Rewrites the group's journal with exactly the events held in memory (temp + rename). */
static int group_compact(struct ls_group *g)
{
	struct buf b = {0};
	encode_header(&b, g->creation_time);
	for (size_t i = 0; i < g->count; i++)
		encode_record(&b, &g->events[g->start + i]);
	struct lk_error err;
	lk_error_clear(&err);
	int rc = util_write_atomic(g->journal_path, b.data, b.len, 0600, &err);
	buf_free(&b);
	if (g->fd >= 0)
		close(g->fd);
	g->fd = -1;
	if (rc != 0) {
		if (!g->write_failed)
			fprintf(stderr, "lambdeck emulator: logstore: %s\n", err.message);
		g->write_failed = true;
		return -1;
	}
	g->journal_records = g->count;
	g->fd = open(g->journal_path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (g->fd < 0) {
		report_write_failure(g, "cannot open");
		return -1;
	}
	return 0;
}

static int group_open_journal_for_append(struct ls_group *g)
{
	if (g->fd >= 0)
		return 0;
	g->fd = open(g->journal_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (g->fd < 0) {
		report_write_failure(g, "cannot open");
		return -1;
	}
	struct stat st;
	if (fstat(g->fd, &st) == 0 && st.st_size == 0) {
		struct buf b = {0};
		encode_header(&b, g->creation_time);
		if (write_all(g->fd, b.data, b.len) != 0)
			report_write_failure(g, "cannot write");
		buf_free(&b);
	}
	return 0;
}

/* Reads one journal into the store. Records after a torn or corrupt one are dropped and the
 * file is cut there, so the next append starts on a record boundary. */
static void load_journal(struct logstore *ls, const char *path)
{
	struct buf data = {0};
	struct lk_error err;
	lk_error_clear(&err);
	if (util_read_file(path, &data, &err) != 0) {
		fprintf(stderr, "lambdeck emulator: logstore: %s\n", err.message);
		return;
	}
	const unsigned char *p = (const unsigned char *)data.data;
	if (data.len < JOURNAL_HEADER_SIZE || memcmp(p, "LKLG", 4) != 0 || get_u32(p + 4) != 1) {
		fprintf(stderr, "lambdeck emulator: logstore: %s is not a journal; ignored\n",
		        path);
		buf_free(&data);
		return;
	}
	/* the group name is the hex file name */
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	size_t hexlen = strlen(base) - strlen(".journal");
	if (hexlen == 0 || hexlen % 2) {
		buf_free(&data);
		return;
	}
	char *name = xmalloc(hexlen / 2 + 1);
	for (size_t i = 0; i < hexlen / 2; i++) {
		unsigned v;
		if (sscanf(base + 2 * i, "%2x", &v) != 1) {
			free(name);
			buf_free(&data);
			return;
		}
		name[i] = (char)v;
	}
	name[hexlen / 2] = 0;
	if (strlen(name) != hexlen / 2 || find_group(ls, name)) {
		free(name);
		buf_free(&data);
		return;
	}
	struct ls_group *g = group_new(ls, name, (int64_t)get_u64(p + 8));
	free(name);
	size_t off = JOURNAL_HEADER_SIZE;
	size_t records = 0;
	while (off + RECORD_PREFIX <= data.len) {
		const unsigned char *r = p + off;
		uint32_t body = get_u32(r + 4);
		if (get_u32(r) != RECORD_MAGIC || body < BODY_FIXED ||
		    body > data.len - off - RECORD_PREFIX)
			break;
		const unsigned char *f = r + RECORD_PREFIX;
		if ((uint32_t)crc32(crc32(0L, Z_NULL, 0), f, body) != get_u32(r + 8))
			break;
		uint16_t sl = get_u16(f + 24);
		uint32_t ml = get_u32(f + 26);
		if ((size_t)BODY_FIXED + sl + ml != body || sl == 0)
			break;
		uint64_t seq = get_u64(f);
		int64_t ingestion = (int64_t)get_u64(f + 16);
		group_make_room(ls, g);
		struct ls_stream *st =
		    group_stream(g, (const char *)f + BODY_FIXED, sl, ingestion, true);
		if (st->events == 0 && ingestion < st->creation_time)
			st->creation_time = ingestion;
		char *msg = xstrndup((const char *)f + BODY_FIXED + sl, ml);
		group_push(g, st, seq, (int64_t)get_u64(f + 8), ingestion, msg, ml);
		if (seq > ls->last_seq)
			ls->last_seq = seq;
		records++;
		off += RECORD_PREFIX + body;
	}
	g->journal_records = records;
	if (off != data.len) {
		fprintf(
		    stderr,
		    "lambdeck emulator: logstore: %s: dropped a torn/corrupt tail at byte %zu\n",
		    path, off);
		if (truncate(path, (off_t)off) != 0)
			report_write_failure(g, "cannot truncate");
	}
	buf_free(&data);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

struct logstore *logstore_open(const char *dir, size_t max_events_per_group, struct lk_error *err)
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
	ls->next_handle = 1;
	char **names = NULL;
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (l > 8 && !strcmp(de->d_name + l - 8, ".journal")) {
			names = xrealloc(names, (n + 1) * sizeof(*names));
			names[n++] = xstrdup(de->d_name);
		}
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		char *p = util_path_join(dir, names[i]);
		load_journal(ls, p);
		free(p);
		free(names[i]);
	}
	free(names);
	/* a journal much larger than the bound (e.g. the bound was lowered) is compacted now */
	for (size_t i = 0; i < ls->n_groups; i++)
		if (ls->groups[i]->journal_records > 2 * ls->max_events)
			group_compact(ls->groups[i]);
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

static void fill_event(const struct ls_group *g, const struct ls_event *e, char *id, size_t idsz,
                       struct log_event *out)
{
	logstore_format_event_id(e->ingestion, e->seq, id, idsz);
	*out = (struct log_event){.group = g->name,
	                          .stream = e->stream->name,
	                          .event_id = id,
	                          .timestamp = e->timestamp,
	                          .ingestion_time = e->ingestion,
	                          .message = e->message,
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
	int64_t now = util_now_ms();
	struct ls_group *g = find_group(ls, group);
	if (!g)
		g = group_new(ls, group, now);
	group_make_room(ls, g);
	struct ls_stream *st = group_stream(g, stream, strlen(stream), now, true);
	char *msg = xmalloc(len + 1);
	if (len)
		memcpy(msg, message, len);
	msg[len] = 0;
	struct ls_event *e = group_push(g, st, ++ls->last_seq, timestamp_ms, now, msg, len);

	if (group_open_journal_for_append(g) == 0) {
		struct buf rec = {0};
		encode_record(&rec, e);
		if (write_all(g->fd, rec.data, rec.len) != 0)
			report_write_failure(g, "cannot write");
		buf_free(&rec);
		g->journal_records++;
		if (g->journal_records >= 2 * ls->max_events)
			group_compact(g);
	}

	/* e stays valid: nothing below touches the group's array */
	char id[48];
	struct log_event ev;
	fill_event(g, e, id, sizeof(id), &ev);
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
	group_open_journal_for_append(g);
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
	char id[48];
	struct log_event ev;
	if (!backwards) {
		for (size_t i = upper_bound(g, after_seq); i < g->count; i++) {
			const struct ls_event *e = &g->events[g->start + i];
			if (only && e->stream != only)
				continue;
			fill_event(g, e, id, sizeof(id), &ev);
			if (!fn(user, &ev))
				break;
		}
	} else {
		/* events with seq < after_seq: those before the first with seq >= after_seq */
		size_t end = after_seq == 0 ? 0 : upper_bound(g, after_seq - 1);
		for (size_t i = end; i-- > 0;) {
			const struct ls_event *e = &g->events[g->start + i];
			if (only && e->stream != only)
				continue;
			fill_event(g, e, id, sizeof(id), &ev);
			if (!fn(user, &ev))
				break;
		}
	}
	return 0;
}

uint64_t logstore_last_seq(const struct logstore *ls)
{
	return ls ? ls->last_seq : 0;
}
