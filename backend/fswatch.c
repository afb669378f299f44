/* fswatch.c - recursive directory watcher: one uv_fs_event per directory, ignore rules,
 * trailing-edge debounce with a maximum wait. See fswatch.h for the contract. */
#include "backend/fswatch.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* One watched directory. Freed from its handle's close callback. */
struct fs_dir {
	uv_fs_event_t handle;
	struct fswatch *w;
	char *path;            /* absolute */
	size_t idx;            /* position in w->dirs */
	struct fs_dir *h_next; /* hash chain */
	bool started;
};

struct fswatch {
	uv_loop_t *loop;
	char *root;
	size_t root_len;
	fswatch_cb cb;
	void *user;
	unsigned debounce_ms;
	unsigned max_wait_ms;
	char **ignore;
	size_t n_ignore;

	struct fs_dir **dirs; /* live (watched) directories */
	size_t n_dirs, cap_dirs;
	struct fs_dir **buckets; /* hash of dirs by path */
	size_t n_buckets;

	/* Pending changed paths: open-addressing string set. */
	char **pending;
	size_t n_pending, cap_pending;
	bool truncated;
	uint64_t first_pending_ms;

	uv_timer_t timer;
	size_t open_handles; /* timer + every fs_dir handle not yet closed */
	bool freed;
	bool paused;
	char *problem;
};

static const char *const ignored_names[] = {
    ".git",          ".hg",         ".svn",        ".lambdeck",  "node_modules", "__pycache__",
    ".pytest_cache", ".mypy_cache", ".ruff_cache", ".tox",       ".venv",        "venv",
    ".eggs",         "build",       "dist",        ".aws-sam",   ".serverless",  "coverage",
    "htmlcov",       ".nyc_output", ".idea",       ".DS_Store",  "4913",         ".coverage",
    ".hypothesis",   "target",      ".gradle",     ".terraform", "cdk.out",      ".cache",
};

static const char *const ignored_globs[] = {
    "*.sw[a-p]",     "*.swx", "*~",    "#*#",        ".#*",          "*___jb_tmp___",
    "*___jb_old___", "*.pyc", "*.pyo", "*.egg-info", "*.tmp.[0-9]*", ".coverage.*",
};

static bool name_ignored(const char *name, size_t len)
{
	char tmp[NAME_MAX + 1];

	if (len == 0 || len > NAME_MAX)
		return false;
	memcpy(tmp, name, len);
	tmp[len] = '\0';
	for (size_t i = 0; i < sizeof(ignored_names) / sizeof(ignored_names[0]); i++)
		if (!strcmp(tmp, ignored_names[i]))
			return true;
	for (size_t i = 0; i < sizeof(ignored_globs) / sizeof(ignored_globs[0]); i++)
		if (fnmatch(ignored_globs[i], tmp, 0) == 0)
			return true;
	return false;
}

bool fswatch_default_ignored(const char *relpath)
{
	const char *p = relpath;

	while (p && *p) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);
		if (name_ignored(p, len))
			return true;
		p = slash ? slash + 1 : NULL;
	}
	return false;
}

/* Matches one caller pattern against a path (relative or absolute) and its ancestors. */
static bool pattern_matches_path(const char *pattern, const char *path)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);

	if (len >= sizeof(buf))
		return false;
	memcpy(buf, path, len + 1);
	for (;;) {
		if (fnmatch(pattern, buf, 0) == 0)
			return true;
		char *slash = strrchr(buf, '/');
		if (!slash || slash == buf)
			return false;
		*slash = '\0';
	}
}

static bool extra_ignored(const struct fswatch *w, const char *abs, const char *rel)
{
	for (size_t i = 0; i < w->n_ignore; i++) {
		const char *pat = w->ignore[i];
		if (pat[0] == '/') {
			if (pattern_matches_path(pat, abs))
				return true;
		} else if (strchr(pat, '/')) {
			if (pattern_matches_path(pat, rel))
				return true;
		} else {
			const char *p = rel;
			while (p && *p) {
				const char *slash = strchr(p, '/');
				size_t len = slash ? (size_t)(slash - p) : strlen(p);
				char name[NAME_MAX + 1];
				if (len <= NAME_MAX) {
					memcpy(name, p, len);
					name[len] = '\0';
					if (fnmatch(pat, name, 0) == 0)
						return true;
				}
				p = slash ? slash + 1 : NULL;
			}
		}
	}
	return false;
}

/* The path relative to the root ("" for the root itself), or NULL when outside it. */
static const char *rel_of(const struct fswatch *w, const char *abs)
{
	if (strncmp(abs, w->root, w->root_len) != 0)
		return NULL;
	if (abs[w->root_len] == '\0')
		return "";
	if (abs[w->root_len] != '/')
		return NULL;
	return abs + w->root_len + 1;
}

static bool path_ignored(const struct fswatch *w, const char *abs)
{
	const char *rel = rel_of(w, abs);

	if (!rel)
		return true;
	if (!*rel)
		return false;
	return fswatch_default_ignored(rel) || extra_ignored(w, abs, rel);
}

static void set_problem(struct fswatch *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void set_problem(struct fswatch *w, const char *fmt, ...)
{
	struct buf b = {0};
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	free(w->problem);
	w->problem = buf_steal(&b);
}

/* --- hash of watched directories ------------------------------------------------------ */

static size_t hash_str(const char *s)
{
	size_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static struct fs_dir *dir_find(const struct fswatch *w, const char *path)
{
	if (!w->n_buckets)
		return NULL;
	for (struct fs_dir *d = w->buckets[hash_str(path) % w->n_buckets]; d; d = d->h_next)
		if (!strcmp(d->path, path))
			return d;
	return NULL;
}

static void dir_hash_insert(struct fswatch *w, struct fs_dir *d)
{
	if (w->n_dirs * 2 >= w->n_buckets) {
		size_t n = w->n_buckets ? w->n_buckets * 2 : 64;
		struct fs_dir **b = xcalloc(n, sizeof(*b));
		for (size_t i = 0; i < w->n_dirs; i++) {
			struct fs_dir *x = w->dirs[i];
			if (x == d)
				continue; /* inserted below */
			size_t k = hash_str(x->path) % n;
			x->h_next = b[k];
			b[k] = x;
		}
		free(w->buckets);
		w->buckets = b;
		w->n_buckets = n;
	}
	size_t k = hash_str(d->path) % w->n_buckets;
	d->h_next = w->buckets[k];
	w->buckets[k] = d;
}

static void dir_hash_remove(struct fswatch *w, struct fs_dir *d)
{
	struct fs_dir **pp = &w->buckets[hash_str(d->path) % w->n_buckets];

	while (*pp && *pp != d)
		pp = &(*pp)->h_next;
	if (*pp)
		*pp = d->h_next;
	d->h_next = NULL;
}

static void maybe_release(struct fswatch *w);

static void on_dir_closed(uv_handle_t *h)
{
	struct fs_dir *d = h->data;
	struct fswatch *w = d->w;

	free(d->path);
	free(d);
	w->open_handles--;
	maybe_release(w);
}

/* Stops watching one directory and forgets it. */
static void dir_drop(struct fswatch *w, struct fs_dir *d)
{
	dir_hash_remove(w, d);
	w->dirs[d->idx] = w->dirs[--w->n_dirs];
	w->dirs[d->idx]->idx = d->idx;
	if (d->started)
		uv_fs_event_stop(&d->handle);
	uv_close((uv_handle_t *)&d->handle, on_dir_closed);
}

/* Drops the watches of path and everything below it. */
static void drop_subtree(struct fswatch *w, const char *path)
{
	size_t len = strlen(path);

	for (size_t i = 0; i < w->n_dirs;) {
		struct fs_dir *d = w->dirs[i];
		if (!strncmp(d->path, path, len) && (d->path[len] == '\0' || d->path[len] == '/'))
			dir_drop(w, d); /* swaps another dir into slot i */
		else
			i++;
	}
}

/* --- pending set and debounce ---------------------------------------------------------- */

static void pending_insert_raw(char **tab, size_t cap, char *s)
{
	size_t k = hash_str(s) & (cap - 1);

	while (tab[k])
		k = (k + 1) & (cap - 1);
	tab[k] = s;
}

static void pending_add(struct fswatch *w, const char *path)
{
	if (w->cap_pending) {
		size_t k = hash_str(path) & (w->cap_pending - 1);
		while (w->pending[k]) {
			if (!strcmp(w->pending[k], path))
				return;
			k = (k + 1) & (w->cap_pending - 1);
		}
	}
	if (w->n_pending >= FSWATCH_MAX_PATHS) {
		w->truncated = true;
		return;
	}
	if ((w->n_pending + 1) * 2 > w->cap_pending) {
		size_t cap = w->cap_pending ? w->cap_pending * 2 : 32;
		char **tab = xcalloc(cap, sizeof(*tab));
		for (size_t i = 0; i < w->cap_pending; i++)
			if (w->pending[i])
				pending_insert_raw(tab, cap, w->pending[i]);
		free(w->pending);
		w->pending = tab;
		w->cap_pending = cap;
	}
	pending_insert_raw(w->pending, w->cap_pending, xstrdup(path));
	w->n_pending++;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void deliver(struct fswatch *w)
{
	if (w->freed || (!w->n_pending && !w->truncated))
		return;
	/* Take the set out first: the callback may call fswatch_free() or cause new changes. */
	char **tab = w->pending;
	size_t cap = w->cap_pending, n = 0;
	bool truncated = w->truncated;
	w->pending = NULL;
	w->cap_pending = w->n_pending = 0;
	w->truncated = false;
	uv_timer_stop(&w->timer);

	char **list = xcalloc(cap ? cap : 1, sizeof(*list));
	for (size_t i = 0; i < cap; i++)
		if (tab[i])
			list[n++] = tab[i];
	qsort(list, n, sizeof(*list), cmp_str);
	struct fswatch_batch batch = {
	    .paths = (const char *const *)list,
	    .n_paths = n,
	    .truncated = truncated,
	};
	w->cb(w, &batch, w->user);
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
	free(tab);
}

static void on_timer(uv_timer_t *t)
{
	deliver(t->data);
}

/* Records one changed path (already known not to be ignored) and (re)arms the debounce. */
static void note_change(struct fswatch *w, const char *path)
{
	if (w->paused || w->freed)
		return;
	uint64_t now = uv_now(w->loop);
	if (!w->n_pending && !w->truncated)
		w->first_pending_ms = now;
	pending_add(w, path); /* already pending or not, the debounce restarts */
	uint64_t deadline = now + w->debounce_ms;
	uint64_t latest = w->first_pending_ms + w->max_wait_ms;
	if (deadline > latest)
		deadline = latest;
	uv_timer_start(&w->timer, on_timer, deadline > now ? deadline - now : 0, 0);
}

/* --- watching -------------------------------------------------------------------------- */

static void on_fs_event(uv_fs_event_t *h, const char *filename, int events, int status);

/* Adds a watch on one directory; returns false when the watch could not be added. */
static bool dir_add(struct fswatch *w, const char *path)
{
	if (dir_find(w, path))
		return true;
	struct fs_dir *d = xcalloc(1, sizeof(*d));
	d->w = w;
	d->path = xstrdup(path);
	uv_fs_event_init(w->loop, &d->handle);
	d->handle.data = d;
	w->open_handles++;
	int rc = uv_fs_event_start(&d->handle, on_fs_event, path, 0);
	if (rc < 0) {
		if (rc == UV_ENOSPC)
			set_problem(w,
			            "inotify watch limit reached at %s: raise "
			            "fs.inotify.max_user_watches",
			            path);
		else if (rc != UV_ENOENT && rc != UV_ENOTDIR)
			set_problem(w, "cannot watch %s: %s", path, uv_strerror(rc));
		uv_close((uv_handle_t *)&d->handle, on_dir_closed);
		return false;
	}
	d->started = true;
	if (w->n_dirs == w->cap_dirs) {
		w->cap_dirs = w->cap_dirs ? w->cap_dirs * 2 : 64;
		w->dirs = xrealloc(w->dirs, w->cap_dirs * sizeof(*w->dirs));
	}
	d->idx = w->n_dirs;
	w->dirs[w->n_dirs++] = d;
	dir_hash_insert(w, d);
	return true;
}

/* Watches the tree at top (breadth-first). When report is set, every non-ignored entry
 * found is recorded as changed: it appeared before its directory's watch existed. */
static void add_tree(struct fswatch *w, const char *top, bool report)
{
	char **stack = NULL;
	size_t n = 0, cap = 0;

	stack = xrealloc(stack, (cap = 16) * sizeof(*stack));
	stack[n++] = xstrdup(top);
	while (n) {
		char *dir = stack[--n];
		if (!dir_add(w, dir)) {
			free(dir);
			continue;
		}
		DIR *dp = opendir(dir);
		if (!dp) {
			free(dir);
			continue;
		}
		struct dirent *de;
		while ((de = readdir(dp))) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			char *child = util_path_join(dir, de->d_name);
			if (path_ignored(w, child)) {
				free(child);
				continue;
			}
			bool is_dir = de->d_type == DT_DIR;
			if (de->d_type == DT_UNKNOWN) {
				struct stat st;
				is_dir = lstat(child, &st) == 0 && S_ISDIR(st.st_mode);
			}
			if (report)
				note_change(w, child);
			if (is_dir) {
				if (n == cap)
					stack = xrealloc(stack, (cap *= 2) * sizeof(*stack));
				stack[n++] = child;
			} else {
				free(child);
			}
		}
		closedir(dp);
		free(dir);
	}
	free(stack);
}

static void on_fs_event(uv_fs_event_t *h, const char *filename, int events, int status)
{
	struct fs_dir *d = h->data;
	struct fswatch *w = d->w;
	struct stat st;

	(void)events;
	if (w->freed || uv_is_closing((uv_handle_t *)h))
		return;
	if (status < 0) {
		set_problem(w, "watch error on %s: %s", d->path, uv_strerror(status));
		return;
	}
	if (lstat(d->path, &st) != 0 || !S_ISDIR(st.st_mode)) {
		/* The watched directory itself went away (deleted or moved out). */
		char *gone = xstrdup(d->path);
		if (!path_ignored(w, gone))
			note_change(w, gone);
		drop_subtree(w, gone);
		free(gone);
		return;
	}
	char *path = filename && *filename ? util_path_join(d->path, filename) : xstrdup(d->path);
	if (lstat(path, &st) != 0) {
		/* libuv names a self-event (attributes of the directory itself) by the directory's
		 * basename: report the directory rather than a path that never existed. */
		const char *base = strrchr(d->path, '/');
		if (filename && base && !strcmp(base + 1, filename) && !dir_find(w, path)) {
			free(path);
			path = xstrdup(d->path);
		} else {
			drop_subtree(w, path);
		}
	} else if (S_ISDIR(st.st_mode) && !path_ignored(w, path) && !dir_find(w, path)) {
		add_tree(w, path, true);
	}
	if (strcmp(path, w->root) != 0 && !path_ignored(w, path))
		note_change(w, path);
	free(path);
}

int fswatch_new(uv_loop_t *loop, const char *root, const struct fswatch_opts *opts, fswatch_cb cb,
                void *user, struct fswatch **out, struct lk_error *err)
{
	char resolved[PATH_MAX];

	*out = NULL;
	if (!root || !realpath(root, resolved))
		return lk_error_set(err, "WatchError", "cannot watch %s: %s",
		                    root ? root : "(null)", strerror(errno));
	if (!util_is_dir(resolved))
		return lk_error_set(err, "WatchError", "cannot watch %s: not a directory", root);
	struct fswatch *w = xcalloc(1, sizeof(*w));
	w->loop = loop;
	w->root = xstrdup(resolved);
	w->root_len = strlen(resolved);
	if (w->root_len == 1) /* "/": relative paths start right after it */
		w->root_len = 0;
	w->cb = cb;
	w->user = user;
	w->debounce_ms =
	    opts && opts->debounce_ms ? opts->debounce_ms : FSWATCH_DEFAULT_DEBOUNCE_MS;
	w->max_wait_ms = opts && opts->max_wait_ms ? opts->max_wait_ms : 5 * w->debounce_ms;
	if (!(opts && opts->max_wait_ms) && w->max_wait_ms < 1000)
		w->max_wait_ms = 1000;
	if (w->max_wait_ms < w->debounce_ms)
		w->max_wait_ms = w->debounce_ms;
	if (opts && opts->n_ignore) {
		w->ignore = xcalloc(opts->n_ignore, sizeof(*w->ignore));
		for (size_t i = 0; i < opts->n_ignore; i++)
			if (opts->ignore[i] && *opts->ignore[i])
				w->ignore[w->n_ignore++] = xstrdup(opts->ignore[i]);
	}
	uv_timer_init(loop, &w->timer);
	w->timer.data = w;
	w->open_handles = 1;
	add_tree(w, w->root, false);
	if (!dir_find(w, w->root)) {
		lk_error_set(err, "WatchError", "cannot watch %s: %s", root,
		             w->problem ? w->problem : "inotify refused the watch");
		fswatch_free(w);
		return -1;
	}
	*out = w;
	return 0;
}

static void maybe_release(struct fswatch *w)
{
	if (!w->freed || w->open_handles)
		return;
	for (size_t i = 0; i < w->cap_pending; i++)
		free(w->pending[i]);
	free(w->pending);
	for (size_t i = 0; i < w->n_ignore; i++)
		free(w->ignore[i]);
	free(w->ignore);
	free(w->dirs);
	free(w->buckets);
	free(w->problem);
	free(w->root);
	free(w);
}

static void on_timer_closed(uv_handle_t *h)
{
	struct fswatch *w = h->data;

	w->open_handles--;
	maybe_release(w);
}

void fswatch_free(struct fswatch *w)
{
	if (!w || w->freed)
		return;
	w->freed = true;
	while (w->n_dirs)
		dir_drop(w, w->dirs[w->n_dirs - 1]);
	uv_timer_stop(&w->timer);
	uv_close((uv_handle_t *)&w->timer, on_timer_closed);
}

void fswatch_set_paused(struct fswatch *w, bool paused)
{
	if (!w)
		return;
	w->paused = paused;
	if (paused) {
		uv_timer_stop(&w->timer);
		for (size_t i = 0; i < w->cap_pending; i++) {
			free(w->pending[i]);
			w->pending[i] = NULL;
		}
		w->n_pending = 0;
		w->truncated = false;
	}
}

bool fswatch_paused(const struct fswatch *w)
{
	return w && w->paused;
}

void fswatch_flush(struct fswatch *w)
{
	if (w)
		deliver(w);
}

size_t fswatch_n_dirs(const struct fswatch *w)
{
	return w ? w->n_dirs : 0;
}

const char *fswatch_root(const struct fswatch *w)
{
	return w ? w->root : NULL;
}

const char *fswatch_problem(const struct fswatch *w)
{
	return w ? w->problem : NULL;
}
