/* history.c - .lambdeck/history.jsonl: locked appends, tolerant incremental reads, and a
 * watch on .lambdeck/ so a console sees other processes' invocations. */
#include "backend/history.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

void history_entry_init(struct history_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->duration_ms = e->billed_ms = e->init_ms = -1;
	e->memory_mb = e->max_memory_mb = -1;
	e->client_ms = -1;
}

void history_entry_clear(struct history_entry *e)
{
	if (!e)
		return;
	free(e->id);
	free(e->mode);
	free(e->function);
	free(e->qualifier);
	free(e->invocation_type);
	free(e->event_name);
	free(e->event);
	free(e->function_error);
	free(e->error_code);
	free(e->error_message);
	free(e->response);
	free(e->log_tail);
	free(e->request_id);
	history_entry_init(e);
}

void history_entry_copy(struct history_entry *dst, const struct history_entry *src)
{
	*dst = *src;
	dst->id = xstrdup(src->id);
	dst->mode = xstrdup(src->mode);
	dst->function = xstrdup(src->function);
	dst->qualifier = xstrdup(src->qualifier);
	dst->invocation_type = xstrdup(src->invocation_type);
	dst->event_name = xstrdup(src->event_name);
	dst->event = xstrdup(src->event);
	dst->function_error = xstrdup(src->function_error);
	dst->error_code = xstrdup(src->error_code);
	dst->error_message = xstrdup(src->error_message);
	dst->response = xstrdup(src->response);
	dst->log_tail = xstrdup(src->log_tail);
	dst->request_id = xstrdup(src->request_id);
}

bool history_entry_failed(const struct history_entry *e)
{
	return (e->error_code && *e->error_code) || (e->function_error && *e->function_error);
}

char *history_path(const char *project_dir)
{
	return xasprintf("%s/.lambdeck/history.jsonl", project_dir);
}

/* ---- JSON ------------------------------------------------------------------------------ */

static void add_str(cJSON *o, const char *k, const char *v)
{
	if (v)
		cJSON_AddStringToObject(o, k, v);
}

static void add_num(cJSON *o, const char *k, double v)
{
	if (v >= 0)
		cJSON_AddNumberToObject(o, k, v);
}

char *history_entry_to_json(const struct history_entry *e)
{
	cJSON *o = cJSON_CreateObject();
	char *s;

	add_str(o, "id", e->id);
	cJSON_AddNumberToObject(o, "time", (double)e->time_ms);
	add_str(o, "mode", e->mode);
	add_str(o, "function", e->function);
	add_str(o, "qualifier", e->qualifier);
	add_str(o, "type", e->invocation_type);
	add_str(o, "eventName", e->event_name);
	add_str(o, "event", e->event);
	cJSON_AddNumberToObject(o, "status", e->status);
	add_str(o, "functionError", e->function_error);
	add_str(o, "errorCode", e->error_code);
	add_str(o, "errorMessage", e->error_message);
	if (e->response) {
		size_t n = strlen(e->response);
		if (n > HISTORY_MAX_RESPONSE || e->response_truncated) {
			char *t = xstrndup(e->response,
			                   n > HISTORY_MAX_RESPONSE ? HISTORY_MAX_RESPONSE : n);
			cJSON_AddStringToObject(o, "response", t);
			cJSON_AddBoolToObject(o, "responseTruncated", true);
			free(t);
		} else {
			cJSON_AddStringToObject(o, "response", e->response);
		}
	}
	add_str(o, "logTail", e->log_tail);
	add_str(o, "requestId", e->request_id);
	add_num(o, "clientMs", e->client_ms);
	add_num(o, "durationMs", e->duration_ms);
	add_num(o, "billedMs", e->billed_ms);
	add_num(o, "initMs", e->init_ms);
	add_num(o, "memoryMb", e->memory_mb);
	add_num(o, "maxMemoryMb", e->max_memory_mb);
	s = util_json_safe(cJSON_PrintUnformatted(o));
	cJSON_Delete(o);
	if (!s)
		lk_fatal("out of memory");
	return s;
}

static char *get_str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? xstrdup(v->valuestring) : NULL;
}

static double get_num(const cJSON *o, const char *k, double def)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsNumber(v) ? v->valuedouble : def;
}

int history_entry_from_json(const char *line, size_t len, struct history_entry *e)
{
	cJSON *o = cJSON_ParseWithLength(line, len);

	history_entry_init(e);
	if (!cJSON_IsObject(o) || !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(o, "id")) ||
	    !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(o, "function"))) {
		cJSON_Delete(o);
		return -1;
	}
	e->id = get_str(o, "id");
	e->time_ms = (int64_t)get_num(o, "time", 0);
	e->mode = get_str(o, "mode");
	e->function = get_str(o, "function");
	e->qualifier = get_str(o, "qualifier");
	e->invocation_type = get_str(o, "type");
	e->event_name = get_str(o, "eventName");
	e->event = get_str(o, "event");
	e->status = (int)get_num(o, "status", 0);
	e->function_error = get_str(o, "functionError");
	e->error_code = get_str(o, "errorCode");
	e->error_message = get_str(o, "errorMessage");
	e->response = get_str(o, "response");
	e->response_truncated =
	    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "responseTruncated"));
	e->log_tail = get_str(o, "logTail");
	e->request_id = get_str(o, "requestId");
	e->client_ms = get_num(o, "clientMs", -1);
	e->duration_ms = get_num(o, "durationMs", -1);
	e->billed_ms = get_num(o, "billedMs", -1);
	e->init_ms = get_num(o, "initMs", -1);
	e->memory_mb = (int)get_num(o, "memoryMb", -1);
	e->max_memory_mb = (int)get_num(o, "maxMemoryMb", -1);
	cJSON_Delete(o);
	return 0;
}

/* ---- append ---------------------------------------------------------------------------- */

static int write_all(int fd, const char *p, size_t len)
{
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

int history_append(const char *project_dir, struct history_entry *e, struct lk_error *err)
{
	static unsigned counter;
	char *dir = xasprintf("%s/.lambdeck", project_dir);
	char *path = history_path(project_dir);
	char *json;
	struct buf line = {0};
	struct stat st;
	int fd = -1, rc = -1;

	if (!e->id)
		e->id =
		    xasprintf("%lld-%ld-%u", (long long)util_now_ms(), (long)getpid(), ++counter);
	if (!e->time_ms)
		e->time_ms = util_now_ms();
	if (util_mkdir_p(dir, 0777, err) < 0)
		goto out;
	fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
	if (fd < 0) {
		lk_error_set(err, "IOError", "%s: %s", path, strerror(errno));
		goto out;
	}
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			lk_error_set(err, "IOError", "lock %s: %s", path, strerror(errno));
			goto out;
		}
	}
	/* A writer that died mid-line left no newline: start ours on a fresh line so only the
	 * torn one is lost (readers skip it). */
	if (fstat(fd, &st) == 0 && st.st_size > 0) {
		char last = '\n';
		if (pread(fd, &last, 1, st.st_size - 1) == 1 && last != '\n')
			buf_putc(&line, '\n');
	}
	json = history_entry_to_json(e);
	buf_puts(&line, json);
	buf_putc(&line, '\n');
	free(json);
	if (write_all(fd, line.data, line.len) < 0) {
		lk_error_set(err, "IOError", "append to %s: %s", path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd); /* releases the lock */
	buf_free(&line);
	free(dir);
	free(path);
	return rc;
}

/* ---- read ------------------------------------------------------------------------------ */

static void push(struct history *h, struct history_entry *e)
{
	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 64;
		h->entries = xrealloc(h->entries, h->cap * sizeof(*h->entries));
	}
	h->entries[h->n++] = *e;
}

int history_load(const char *project_dir, struct history *h, struct lk_error *err)
{
	memset(h, 0, sizeof(*h));
	h->path = history_path(project_dir);
	return history_refresh(h, NULL, err);
}

int history_refresh(struct history *h, size_t *added, struct lk_error *err)
{
	struct stat st;
	struct buf b = {0};
	char chunk[65536];
	size_t before = h->n, start = 0;
	int fd;

	if (added)
		*added = 0;
	fd = open(h->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return lk_error_set(err, "IOError", "%s: %s", h->path, strerror(errno));
	}
	if (fstat(fd, &st) < 0) {
		close(fd);
		return lk_error_set(err, "IOError", "%s: %s", h->path, strerror(errno));
	}
	/* Replaced or truncated (someone cleared it): start over. */
	if ((h->ino && st.st_ino != h->ino) || st.st_size < h->offset) {
		for (size_t i = 0; i < h->n; i++)
			history_entry_clear(&h->entries[i]);
		h->n = before = 0;
		h->offset = 0;
	}
	h->ino = st.st_ino;
	if (lseek(fd, h->offset, SEEK_SET) < 0) {
		close(fd);
		return lk_error_set(err, "IOError", "%s: %s", h->path, strerror(errno));
	}
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		buf_append(&b, chunk, (size_t)n);
	}
	close(fd);
	/* Only complete lines are consumed; a partial last line waits for its newline. */
	for (size_t i = 0; i < b.len; i++) {
		if (b.data[i] != '\n')
			continue;
		if (i > start) {
			struct history_entry e;
			if (history_entry_from_json(b.data + start, i - start, &e) == 0)
				push(h, &e);
			else
				h->skipped++, history_entry_clear(&e);
		}
		start = i + 1;
	}
	h->offset += (off_t)start;
	buf_free(&b);
	if (added)
		*added = h->n - before;
	return 0;
}

void history_clear(struct history *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->n; i++)
		history_entry_clear(&h->entries[i]);
	free(h->entries);
	free(h->path);
	memset(h, 0, sizeof(*h));
}

static bool same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

const struct history_entry *history_previous_same_event(const struct history *h, size_t i)
{
	const struct history_entry *e;

	if (i >= h->n)
		return NULL;
	e = &h->entries[i];
	for (size_t k = i; k-- > 0;) {
		const struct history_entry *p = &h->entries[k];
		if (same(p->function, e->function) && same(p->event_name, e->event_name) &&
		    same(p->event, e->event))
			return p;
	}
	return NULL;
}

/* ---- watch ----------------------------------------------------------------------------- */

struct history_watch {
	uv_fs_event_t ev;
	void (*cb)(void *user);
	void *user;
};

static void on_fs_event(uv_fs_event_t *h, const char *filename, int events, int status)
{
	struct history_watch *w = h->data;

	(void)events;
	if (status < 0)
		return;
	/* NULL filename: the kernel could not say which; refreshing is cheap. */
	if (!filename || !strcmp(filename, "history.jsonl"))
		w->cb(w->user);
}

static void on_close(uv_handle_t *h)
{
	free(h->data);
}

struct history_watch *history_watch_new(uv_loop_t *loop, const char *project_dir,
                                        void (*cb)(void *user), void *user, struct lk_error *err)
{
	char *dir = xasprintf("%s/.lambdeck", project_dir);
	struct history_watch *w;
	int rc;

	if (util_mkdir_p(dir, 0777, err) < 0) {
		free(dir);
		return NULL;
	}
	w = xcalloc(1, sizeof(*w));
	w->cb = cb;
	w->user = user;
	uv_fs_event_init(loop, &w->ev);
	w->ev.data = w;
	/* Watch the directory, not the file: the file may not exist yet, and a replaced file
	 * would silently end a file watch. */
	rc = uv_fs_event_start(&w->ev, on_fs_event, dir, 0);
	free(dir);
	if (rc < 0) {
		lk_error_set(err, "IOError", "cannot watch .lambdeck/: %s", uv_strerror(rc));
		uv_close((uv_handle_t *)&w->ev, on_close);
		return NULL;
	}
	return w;
}

void history_watch_free(struct history_watch *w)
{
	if (!w)
		return;
	uv_fs_event_stop(&w->ev);
	uv_close((uv_handle_t *)&w->ev, on_close);
}
