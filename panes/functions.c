/* functions.c - the Functions pane: the project's functions as a tree (function -> files of
 * its code directory), expand/collapse, incremental filter, runtime and badges per function,
 * Enter opens the file (or the handler at its line) in the editor, the selected function is
 * published for the other panes. The directory listing runs on libuv's thread pool; the
 * shared recursive watcher (backend/fswatch.h) on the project directory (and on code
 * directories outside it) triggers a rescan, and a change of the config file reloads the
 * project. */
#include <ctype.h>
#include <dirent.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "backend/build.h"
#include "backend/deploy.h"
#include "backend/aws/aws.h"
#include "backend/fswatch.h"
#include "panes/functions.h"
#include "tui/app.h"

#define SCAN_MAX_DEPTH   16
#define SCAN_MAX_ENTRIES 5000 /* per code directory */

/* A file-system node of a code directory. */
struct fnode {
	char *name;
	char *path; /* absolute */
	bool dir;
	bool deps; /* dependency folder: shown as one node, not listed */
	size_t deps_entries;
	struct fnode *kids;
	size_t n_kids;
};

/* One listed code directory (several functions may share one). */
struct root {
	char *dir;
	struct fnode node;
	bool truncated;
};

enum row_kind { ROW_FUNCTION, ROW_DIR, ROW_FILE, ROW_DEPS, ROW_PROBLEM, ROW_TEXT };

struct row {
	enum row_kind kind;
	int depth;
	size_t fn; /* index into the project's functions */
	const struct fnode *node;
	const char *text; /* ROW_PROBLEM / ROW_TEXT: points into the project or the state */
	enum theme_role role;
	bool cont; /* a wrapped continuation line */
};

struct scan_job {
	uv_work_t req;
	struct functions *st; /* NULL once the pane is gone */
	char **dirs;
	size_t n;
	struct root *roots; /* filled by the worker */
};

struct badge {
	char *fn;
	char *text[FUNCTIONS_BADGE_COUNT_];
	enum theme_role role[FUNCTIONS_BADGE_COUNT_];
};

struct functions {
	struct pane *p;
	struct root *roots;
	size_t n_roots;
	struct scan_job *scanning;
	bool rescan_pending;
	struct row *rows;
	size_t n_rows;
	size_t cursor, top;
	char *cursor_key; /* identity of the selected row, kept across rebuilds */
	char **expanded;  /* keys of expanded nodes */
	size_t n_expanded;
	struct buf filter;
	bool typing; /* the filter line has the keyboard */
	char *load_error;
	struct fswatch **watches;
	size_t n_watches;
	uv_timer_t debounce;
	bool publish_pending; /* publish the first selection once every pane is up */
	struct badge *badges;
	size_t n_badges;
	char **wrapped; /* text of wrapped rows, rebuilt with the rows */
	size_t n_wrapped;
	struct fbuild *builds; /* running quick builds (linked list) */
	struct fdeploy *full_deploy;
	struct status_job *status_job; /* build-status badges being computed */
	bool status_pending;
	/* Quick deploy: an aws client made from the app's mode on first use; deploys asked
	 * for before the mode is ready wait in pending_deploys. */
	struct aws_client *client;
	bool client_local;
	char **pending_deploys;
	size_t n_pending_deploys;
	size_t deploys_running;
	bool closing;               /* destroyed: free the client when the last deploy is done */
	bool destroyed;             /* pane gone: callbacks only do bookkeeping */
	struct deploy_watch *watch; /* W: saving a file deploys its function */
};

static const char *const skip_names[] = {".git",      ".lambdeck",     "__pycache__",
                                         ".DS_Store", ".pytest_cache", ".mypy_cache",
                                         ".hg",       ".svn",          NULL};
static const char *const skip_globs[] = {"*.pyc", "*.swp", "*.swx", "*~", ".#*", "4913", NULL};
static const char *const deps_names[] = {
    "node_modules", ".venv", "venv", "vendor", ".aws-sam", ".serverless", "bower_components", NULL};
static const char *const config_names[] = {"lambdeck.json",  "template.yaml",   "template.yml",
                                           "serverless.yml", "serverless.yaml", NULL};

static bool in_list(const char *name, const char *const *list)
{
	for (size_t i = 0; list[i]; i++)
		if (!strcmp(name, list[i]))
			return true;
	return false;
}

static bool skipped(const char *name)
{
	if (in_list(name, skip_names))
		return true;
	for (size_t i = 0; skip_globs[i]; i++)
		if (fnmatch(skip_globs[i], name, 0) == 0)
			return true;
	return false;
}

/* ---- scanning (runs on the thread pool: touches only its own data) --------------------- */

static void fnode_free(struct fnode *n)
{
	for (size_t i = 0; i < n->n_kids; i++)
		fnode_free(&n->kids[i]);
	free(n->kids);
	free(n->name);
	free(n->path);
}

static int fnode_cmp(const void *a, const void *b)
{
	const struct fnode *x = a, *y = b;

	if (x->dir != y->dir)
		return x->dir ? -1 : 1;
	return strcmp(x->name, y->name);
}

static size_t count_entries(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	size_t n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void scan_dir(struct fnode *n, int depth, size_t *budget, bool *truncated)
{
	DIR *d = opendir(n->path);
	struct dirent *e;
	size_t cap = 0;

	if (!d)
		return;
	while ((e = readdir(d))) {
		struct stat sb;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || skipped(e->d_name))
			continue;
		if (*budget == 0) {
			*truncated = true;
			break;
		}
		(*budget)--;
		char *path = util_path_join(n->path, e->d_name);
		if (stat(path, &sb) < 0) { /* dangling link: list it as a file */
			sb.st_mode = S_IFREG;
		}
		if (n->n_kids == cap) {
			cap = cap ? cap * 2 : 8;
			n->kids = xrealloc(n->kids, cap * sizeof(*n->kids));
		}
		struct fnode *k = &n->kids[n->n_kids++];
		*k = (struct fnode){
		    .name = xstrdup(e->d_name), .path = path, .dir = S_ISDIR(sb.st_mode)};
		if (k->dir && in_list(k->name, deps_names)) {
			k->deps = true;
			k->deps_entries = count_entries(path);
		}
	}
	closedir(d);
	if (n->n_kids > 1)
		qsort(n->kids, n->n_kids, sizeof(*n->kids), fnode_cmp);
	for (size_t i = 0; i < n->n_kids; i++)
		if (n->kids[i].dir && !n->kids[i].deps && depth < SCAN_MAX_DEPTH)
			scan_dir(&n->kids[i], depth + 1, budget, truncated);
}

static void scan_work(uv_work_t *req)
{
	struct scan_job *job = req->data;

	job->roots = xcalloc(job->n ? job->n : 1, sizeof(*job->roots));
	for (size_t i = 0; i < job->n; i++) {
		struct root *r = &job->roots[i];
		size_t budget = SCAN_MAX_ENTRIES;
		r->dir = xstrdup(job->dirs[i]);
		r->node = (struct fnode){
		    .name = xstrdup(job->dirs[i]), .path = xstrdup(job->dirs[i]), .dir = true};
		scan_dir(&r->node, 0, &budget, &r->truncated);
	}
}

static void roots_free(struct root *roots, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		fnode_free(&roots[i].node);
		free(roots[i].dir);
	}
	free(roots);
}

static void scan_job_free(struct scan_job *job)
{
	for (size_t i = 0; i < job->n; i++)
		free(job->dirs[i]);
	free(job->dirs);
	free(job);
}

static void rebuild_rows(struct functions *st);
static void cursor_changed(struct functions *st);
static void start_status(struct functions *st);
static void rewatch(struct functions *st);
static void start_scan(struct functions *st);

static void scan_done(uv_work_t *req, int status)
{
	struct scan_job *job = req->data;
	struct functions *st = job->st;

	if (!st || status < 0) {
		if (job->roots)
			roots_free(job->roots, job->n);
		scan_job_free(job);
		return;
	}
	roots_free(st->roots, st->n_roots);
	st->roots = job->roots;
	st->n_roots = job->n;
	st->scanning = NULL;
	scan_job_free(job);
	rebuild_rows(st);
	app_mark_dirty(st->p);
	start_status(st);
	if (st->rescan_pending) {
		st->rescan_pending = false;
		start_scan(st);
	}
}

static void start_scan(struct functions *st)
{
	struct project *proj = app_project(st->p->app);
	struct scan_job *job;

	if (st->scanning) {
		st->rescan_pending = true;
		return;
	}
	job = xcalloc(1, sizeof(*job));
	job->st = st;
	job->req.data = job;
	job->dirs = xcalloc(proj->n_functions + 1, sizeof(char *));
	for (size_t i = 0; i < proj->n_functions; i++) {
		const char *d = proj->functions[i].code_dir;
		bool dup = !d;
		for (size_t k = 0; k < job->n && !dup; k++)
			dup = !strcmp(job->dirs[k], d);
		if (!dup && util_is_dir(d))
			job->dirs[job->n++] = xstrdup(d);
	}
	if (uv_queue_work(app_loop(st->p->app), &job->req, scan_work, scan_done) < 0) {
		scan_job_free(job);
		return;
	}
	st->scanning = job;
}

static const struct fnode *root_for(const struct functions *st, const char *dir, bool *truncated)
{
	for (size_t i = 0; dir && i < st->n_roots; i++) {
		if (!strcmp(st->roots[i].dir, dir)) {
			if (truncated)
				*truncated = st->roots[i].truncated;
			return &st->roots[i].node;
		}
	}
	return NULL;
}

/* ---- watches ------------------------------------------------------------------------------ */

static void unwatch_all(struct functions *st)
{
	for (size_t i = 0; i < st->n_watches; i++)
		fswatch_free(st->watches[i]);
	free(st->watches);
	st->watches = NULL;
	st->n_watches = 0;
}

static void debounce_fired(uv_timer_t *t)
{
	struct functions *st = t->data;

	if (st->publish_pending) {
		st->publish_pending = false;
		cursor_changed(st);
	}
}

/* A batch of changes (already debounced by the watcher): reload the project when one of the
 * config files changed, else list the directories again. */
static void watch_event(struct fswatch *w, const struct fswatch_batch *batch, void *user)
{
	struct functions *st = user;
	struct project *proj = app_project(st->p->app);
	size_t n = strlen(proj->dir);

	(void)w;
	for (size_t i = 0; i < batch->n_paths; i++) {
		const char *path = batch->paths[i];
		if (!strncmp(path, proj->dir, n) && path[n] == '/' &&
		    in_list(path + n + 1, config_names)) {
			app_reload_project(st->p->app); /* APP_EVENT_PROJECT -> rescan, rewatch */
			return;
		}
	}
	start_scan(st);
}

static void add_watch(struct functions *st, const char *dir)
{
	struct fswatch *w = NULL;
	struct lk_error err;

	for (size_t i = 0; i < st->n_watches; i++) {
		const char *root = fswatch_root(st->watches[i]);
		size_t n = strlen(root);
		if (!strncmp(dir, root, n) && (dir[n] == '/' || !dir[n]))
			return; /* already inside a watched tree */
	}
	if (fswatch_new(app_loop(st->p->app), dir, NULL, watch_event, st, &w, &err) < 0) {
		app_message(st->p->app, APP_MSG_WARN, "not watching %s: %s", dir, err.message);
		return;
	}
	st->watches = xrealloc(st->watches, (st->n_watches + 1) * sizeof(*st->watches));
	st->watches[st->n_watches++] = w;
}

/* Build artifacts/manifests or deploy state changed, by this process or another one (a
 * second console, `lambdeck deploy`, the Playground's deploy before invoking): badges. */
static void state_event(struct fswatch *w, const struct fswatch_batch *batch, void *user)
{
	(void)w;
	(void)batch;
	start_status(user);
}

/* Watches <project>/.lambdeck/<sub> (created if missing, so that a build or deploy made
 * later by another process is seen); subdirs matching ignore are skipped. */
static void add_state_watch(struct functions *st, const char *sub, const char *ignore)
{
	struct fswatch_opts o = {.debounce_ms = 100,
	                         .max_wait_ms = 500,
	                         .ignore = ignore ? &ignore : NULL,
	                         .n_ignore = ignore ? 1 : 0};
	char *dir = util_path_join(app_project(st->p->app)->dir, sub);
	struct fswatch *w = NULL;
	struct lk_error err;

	if (util_mkdir_p(dir, 0777, &err) == 0 &&
	    fswatch_new(app_loop(st->p->app), dir, &o, state_event, st, &w, &err) == 0) {
		st->watches = xrealloc(st->watches, (st->n_watches + 1) * sizeof(*st->watches));
		st->watches[st->n_watches++] = w;
	} else {
		app_message(st->p->app, APP_MSG_WARN,
		            "not following builds and deploys of other processes: %s", err.message);
	}
	free(dir);
}

/* Watches the project directory (config files, code) and code directories outside it, and
 * the shared build/deploy state. */
static void rewatch(struct functions *st)
{
	struct project *proj = app_project(st->p->app);

	unwatch_all(st);
	add_state_watch(st, ".lambdeck/build", "*/deps");
	add_state_watch(st, ".lambdeck/deploy", NULL);
	add_watch(st, proj->dir);
	for (size_t i = 0; i < proj->n_functions; i++)
		if (proj->functions[i].code_dir && util_is_dir(proj->functions[i].code_dir))
			add_watch(st, proj->functions[i].code_dir);
}

/* ---- tree rows ------------------------------------------------------------------------------ */

static char *node_key(const struct project_function *f, const struct fnode *n)
{
	return n ? xasprintf("%s\x1f%s", f->name, n->path) : xstrdup(f->name);
}

static char *row_key(struct functions *st, const struct row *r)
{
	struct project *proj = app_project(st->p->app);

	if (r->kind == ROW_TEXT || r->fn >= proj->n_functions)
		return xasprintf("text\x1f%s", r->text ? r->text : "");
	if (r->kind == ROW_PROBLEM)
		return xasprintf("%s\x1fproblem", proj->functions[r->fn].name);
	return node_key(&proj->functions[r->fn], r->node);
}

static size_t expanded_index(struct functions *st, const char *key)
{
	for (size_t i = 0; i < st->n_expanded; i++)
		if (!strcmp(st->expanded[i], key))
			return i;
	return (size_t)-1;
}

static bool is_expanded(struct functions *st, const struct project_function *f,
                        const struct fnode *n)
{
	char *key = node_key(f, n);
	bool yes = expanded_index(st, key) != (size_t)-1;

	free(key);
	return yes;
}

static void set_expanded(struct functions *st, const struct project_function *f,
                         const struct fnode *n, bool on)
{
	char *key = node_key(f, n);
	size_t i = expanded_index(st, key);

	if (on && i == (size_t)-1) {
		st->expanded = xrealloc(st->expanded, (st->n_expanded + 1) * sizeof(char *));
		st->expanded[st->n_expanded++] = key;
		return;
	}
	if (!on && i != (size_t)-1) {
		free(st->expanded[i]);
		st->expanded[i] = st->expanded[--st->n_expanded];
	}
	free(key);
}

static bool name_matches(const char *name, const char *needle)
{
	size_t n = strlen(needle);

	if (!n)
		return true;
	for (const char *s = name; *s; s++)
		if (!strncasecmp(s, needle, n))
			return true;
	return false;
}

static bool subtree_matches(const struct fnode *n, const char *needle)
{
	if (name_matches(n->name, needle))
		return true;
	for (size_t i = 0; i < n->n_kids; i++)
		if (subtree_matches(&n->kids[i], needle))
			return true;
	return false;
}

static void push_row(struct functions *st, struct row r)
{
	st->rows = xrealloc(st->rows, (st->n_rows + 1) * sizeof(*st->rows));
	st->rows[st->n_rows++] = r;
}

/* Adds text as rows wrapped at the pane's width (word boundaries when possible). */
static void push_text(struct functions *st, struct row r)
{
	int width = (st->p->cols > 20 ? st->p->cols : 20) - r.depth * 2 - 2;
	const char *s = r.text;
	bool first = true;

	while (*s) {
		size_t chars = 0, cut = 0, last_space = 0;
		const char *q = s;
		while (*q && chars < (size_t)width) {
			if (((unsigned char)*q & 0xC0) != 0x80)
				chars++;
			if (*q == ' ')
				last_space = (size_t)(q - s);
			q++;
		}
		while (*q && ((unsigned char)*q & 0xC0) == 0x80)
			q++; /* finish a UTF-8 sequence */
		cut = (size_t)(q - s);
		if (*q && last_space > 0)
			cut = last_space;
		st->wrapped = xrealloc(st->wrapped, (st->n_wrapped + 1) * sizeof(char *));
		st->wrapped[st->n_wrapped] = xstrndup(s, cut);
		r.text = st->wrapped[st->n_wrapped++];
		r.cont = !first;
		push_row(st, r);
		first = false;
		s += cut;
		while (*s == ' ')
			s++;
	}
}

/* Adds the children of n; with a filter that the function name does not match, only the
 * subtrees holding a match, opened. */
static void push_children(struct functions *st, size_t fi, const struct fnode *n, int depth,
                          const char *needle)
{
	const struct project_function *f = &app_project(st->p->app)->functions[fi];

	for (size_t i = 0; i < n->n_kids; i++) {
		const struct fnode *k = &n->kids[i];
		if (needle && !subtree_matches(k, needle))
			continue;
		push_row(st, (struct row){.kind = k->deps  ? ROW_DEPS
		                                  : k->dir ? ROW_DIR
		                                           : ROW_FILE,
		                          .depth = depth,
		                          .fn = fi,
		                          .node = k});
		if (k->dir && !k->deps &&
		    ((needle && !name_matches(k->name, needle)) || is_expanded(st, f, k)))
			push_children(st, fi, k, depth + 1,
			              needle && !name_matches(k->name, needle) ? needle : NULL);
	}
}

static void rebuild_rows(struct functions *st)
{
	struct project *proj = app_project(st->p->app);
	const char *needle = st->filter.len ? st->filter.data : NULL;

	st->n_rows = 0;
	for (size_t i = 0; i < st->n_wrapped; i++)
		free(st->wrapped[i]);
	st->n_wrapped = 0;
	if (st->load_error) {
		push_text(st, (struct row){.kind = ROW_TEXT,
		                           .text = st->load_error,
		                           .role = THEME_FAIL,
		                           .fn = (size_t)-1});
		push_text(st,
		          (struct row){.kind = ROW_TEXT,
		                       .text = "Fix the file: the tree reloads when it is saved.",
		                       .role = THEME_DIM,
		                       .fn = (size_t)-1});
	} else if (proj->n_functions == 0) {
		push_text(st, (struct row){.kind = ROW_TEXT,
		                           .text = project_empty_hint(),
		                           .role = THEME_DIM,
		                           .fn = (size_t)-1});
	}
	for (size_t i = 0; i < proj->n_functions; i++) {
		const struct project_function *f = &proj->functions[i];
		bool truncated = false;
		const struct fnode *root = root_for(st, f->code_dir, &truncated);
		bool fmatch = !needle || name_matches(f->name, needle);
		bool kmatch = needle && root && subtree_matches(root, needle);
		if (!fmatch && !kmatch)
			continue;
		push_row(st, (struct row){.kind = ROW_FUNCTION, .fn = i});
		bool open = fmatch ? is_expanded(st, f, NULL) : true;
		if (!open)
			continue;
		if (f->problem)
			push_text(st, (struct row){.kind = ROW_PROBLEM,
			                           .depth = 1,
			                           .fn = i,
			                           .text = f->problem,
			                           .role = THEME_FAIL});
		if (!f->buildable && f->not_buildable)
			push_text(st, (struct row){.kind = ROW_PROBLEM,
			                           .depth = 1,
			                           .fn = i,
			                           .text = f->not_buildable,
			                           .role = THEME_DIM});
		if (root)
			push_children(st, i, root, 1, fmatch ? NULL : needle);
		if (truncated)
			push_text(st, (struct row){.kind = ROW_PROBLEM,
			                           .depth = 1,
			                           .fn = i,
			                           .text = "(more files not listed)",
			                           .role = THEME_DIM});
	}
	if (needle && st->n_rows == 0)
		push_text(st, (struct row){.kind = ROW_TEXT,
		                           .text = "No match.",
		                           .role = THEME_DIM,
		                           .fn = (size_t)-1});
	/* Put the cursor back on the same item. */
	if (st->cursor_key) {
		for (size_t i = 0; i < st->n_rows; i++) {
			char *k = row_key(st, &st->rows[i]);
			bool same = !strcmp(k, st->cursor_key);
			free(k);
			if (same) {
				st->cursor = i;
				return;
			}
		}
	}
	if (st->cursor >= st->n_rows)
		st->cursor = st->n_rows ? st->n_rows - 1 : 0;
}

/* Remembers the cursor's item and publishes its function as the selection. */
static void cursor_changed(struct functions *st)
{
	struct project *proj = app_project(st->p->app);
	const struct row *r = st->n_rows ? &st->rows[st->cursor] : NULL;
	const char *sel;

	free(st->cursor_key);
	st->cursor_key = r ? row_key(st, r) : NULL;
	if (!r || r->fn >= proj->n_functions)
		return;
	sel = app_selected_function(st->p->app);
	if (!sel || strcmp(sel, proj->functions[r->fn].name))
		app_select_function(st->p->app, proj->functions[r->fn].name);
}

static void move_cursor(struct functions *st, long delta)
{
	long c = (long)st->cursor + delta;

	if (c < 0)
		c = 0;
	if (c >= (long)st->n_rows)
		c = st->n_rows ? (long)st->n_rows - 1 : 0;
	st->cursor = (size_t)c;
	cursor_changed(st);
}

/* ---- project state ------------------------------------------------------------------------ */

/* The app keeps an empty project on a parse error but not the message: ask discovery again
 * (cheap) for the text to show. */
static void check_load_error(struct functions *st)
{
	struct project *tmp = NULL, *cur = app_project(st->p->app);
	struct project_options o;
	struct lk_error err;

	free(st->load_error);
	st->load_error = NULL;
	project_options_of(cur, &o); /* the overrides the app loaded it with */
	if (project_load_with(cur->dir, &o, &tmp, &err) < 0) {
		struct buf b = {0};
		util_sanitize(err.message, strlen(err.message), false, false, &b);
		st->load_error = buf_steal(&b);
	}
	project_free(tmp);
}

static void project_changed(struct functions *st)
{
	struct project *proj = app_project(st->p->app);

	check_load_error(st);
	if (proj->n_functions == 1)
		set_expanded(st, &proj->functions[0], NULL, true);
	rebuild_rows(st);
	start_scan(st);
	rewatch(st);
}

/* ---- build badges, quick build, full deploy ---------------------------------------------- */

/* Build state of every function, computed on the thread pool from a private project load
 * (the app's project may be reloaded meanwhile). */
struct fn_status {
	char *name;
	bool buildable, built, modified;
	char code_sha256[48]; /* of the last build */
	int deploy;           /* 0 no state, 1 read, -1 unreadable */
	struct deploy_state ds;
};

struct status_job {
	uv_work_t req;
	struct functions *st; /* NULL once the pane is gone */
	char *dir;
	struct fn_status *out;
	size_t n;
};

static void status_work(uv_work_t *req)
{
	struct status_job *job = req->data;
	struct project *p = NULL;
	struct lk_error err;

	if (project_load(job->dir, &p, &err) == 0) {
		job->out = xcalloc(p->n_functions + 1, sizeof(*job->out));
		for (size_t i = 0; i < p->n_functions; i++) {
			struct build_status bs = {0};
			struct fn_status *o = &job->out[job->n++];
			o->name = xstrdup(p->functions[i].name);
			o->buildable = p->functions[i].buildable;
			if (o->buildable && build_status_get(p, &p->functions[i], &bs, &err) == 0) {
				o->built = bs.built;
				o->modified = bs.modified;
				memcpy(o->code_sha256, bs.code_sha256, sizeof(o->code_sha256));
			}
			switch (deploy_state_read(job->dir, o->name, &o->ds, &err)) {
			case 0:
				o->deploy = 1;
				break;
			case 1:
				o->deploy = 0;
				break;
			default:
				o->deploy = -1;
			}
		}
	}
	project_free(p);
}

static void start_status(struct functions *st);

/* The deploy badge from the shared deploy state: ✗ the last deploy failed; ↑ (ok colour)
 * the deployed CodeSha256 is the current build's and nothing changed since; ↑ (warning)
 * deployed, but the local code moved on; nothing when never deployed. */
static void set_deploy_badge(struct functions *st, const struct fn_status *o)
{
	if (o->deploy == 0) {
		pane_functions_set_badge(st->p, o->name, FUNCTIONS_BADGE_DEPLOY, NULL, THEME_DIM);
	} else if (o->deploy < 0 || !o->ds.ok) {
		pane_functions_set_badge(st->p, o->name, FUNCTIONS_BADGE_DEPLOY,
		                         theme_glyph(THEME_GLYPH_CROSS), THEME_FAIL);
	} else {
		bool current = o->built && !o->modified && o->ds.code_sha256[0] &&
		               !strcmp(o->ds.code_sha256, o->code_sha256);
		pane_functions_set_badge(st->p, o->name, FUNCTIONS_BADGE_DEPLOY,
		                         theme_glyph(THEME_GLYPH_ARROW_UP),
		                         current ? THEME_OK : THEME_WARN);
	}
}

static void status_done(uv_work_t *req, int status)
{
	struct status_job *job = req->data;
	struct functions *st = job->st;

	if (st && status == 0) {
		st->status_job = NULL;
		for (size_t i = 0; i < job->n; i++) {
			const struct fn_status *o = &job->out[i];
			if (!o->buildable)
				pane_functions_set_badge(st->p, o->name, FUNCTIONS_BADGE_BUILD,
				                         NULL, THEME_DIM);
			else if (!o->built)
				pane_functions_set_badge(st->p, o->name, FUNCTIONS_BADGE_BUILD,
				                         theme_ascii() ? "o" : "○", THEME_DIM);
			else
				pane_functions_set_badge(
				    st->p, o->name, FUNCTIONS_BADGE_BUILD,
				    o->modified ? theme_glyph(THEME_GLYPH_BULLET) : NULL,
				    THEME_WARN);
			set_deploy_badge(st, o);
		}
		if (st->status_pending) {
			st->status_pending = false;
			start_status(st);
		}
	}
	for (size_t i = 0; i < job->n; i++) {
		free(job->out[i].name);
		deploy_state_clear(&job->out[i].ds);
	}
	free(job->out);
	free(job->dir);
	free(job);
}

/* Recomputes the build badges (after a rescan or a build). */
static void start_status(struct functions *st)
{
	struct status_job *job;

	if (st->destroyed)
		return; /* a deploy finishing after destroy: nobody would take the result */
	if (st->status_job) {
		st->status_pending = true;
		return;
	}
	job = xcalloc(1, sizeof(*job));
	job->st = st;
	job->req.data = job;
	job->dir = xstrdup(app_project(st->p->app)->dir);
	if (uv_queue_work(app_loop(st->p->app), &job->req, status_work, status_done) < 0) {
		free(job->dir);
		free(job);
		return;
	}
	st->status_job = job;
}

struct fbuild {
	struct fbuild *next;
	struct functions *st; /* NULL once the pane is gone */
	struct app_job *job;
	struct build_job *b;
	char *name;
	bool starting; /* inside build_start: a synchronous done must not free fb */
	bool finished;
};

static void build_cancel_cb(void *ud)
{
	struct fbuild *fb = ud;

	if (fb->b)
		build_cancel(fb->b);
}

static void build_progress_cb(void *user, const char *function, enum build_phase phase,
                              uint64_t done, uint64_t total)
{
	struct fbuild *fb = user;

	(void)function;
	app_job_progress(fb->job, build_phase_name(phase), done, total);
}

static void build_done_cb(void *user, const struct build_result *res)
{
	struct fbuild *fb = user;
	struct functions *st = fb->st;

	if (res->outcome == BUILD_OK)
		app_job_finish(fb->job, true, "%s: built, %zu files, %llu bytes%s (%.0f ms)",
		               fb->name, res->n_files, (unsigned long long)res->zip_size,
		               res->full ? "" : ", patched", res->elapsed_ms);
	else if (res->outcome == BUILD_UNCHANGED)
		app_job_finish(fb->job, true, "%s: unchanged since the last build", fb->name);
	else
		app_job_finish(fb->job, false, "%s: build %s: %s", fb->name,
		               build_outcome_name(res->outcome), res->err.message);
	if (st) {
		for (struct fbuild **pp = &st->builds; *pp; pp = &(*pp)->next) {
			if (*pp == fb) {
				*pp = fb->next;
				break;
			}
		}
		start_status(st);
	}
	fb->finished = true;
	if (fb->starting)
		return; /* quick_build frees it */
	free(fb->name);
	free(fb);
}

static void quick_build(struct functions *st, const struct project_function *f)
{
	struct build_opts opts = {0};
	struct fbuild *fb;
	char title[160];

	if (app_refuse_if_read_only(st->p->app, "build"))
		return;
	if (!f->buildable) {
		app_message(st->p->app, APP_MSG_WARN, "%s is not built here: %s", f->name,
		            f->not_buildable ? f->not_buildable : "not buildable");
		return;
	}
	for (struct fbuild *b = st->builds; b; b = b->next) {
		if (!strcmp(b->name, f->name)) {
			app_message(st->p->app, APP_MSG_INFO, "%s is already building", f->name);
			return;
		}
	}
	fb = xcalloc(1, sizeof(*fb));
	fb->st = st;
	fb->name = xstrdup(f->name);
	snprintf(title, sizeof(title), "build %s", f->name);
	fb->job = app_job_start(st->p->app, title, build_cancel_cb, fb);
	fb->next = st->builds;
	st->builds = fb;
	fb->starting = true;
	fb->b = build_start(app_loop(st->p->app), app_project(st->p->app), f, &opts,
	                    build_progress_cb, build_done_cb, fb);
	fb->starting = false;
	if (fb->finished) {
		free(fb->name);
		free(fb);
	}
}

struct fdeploy {
	struct functions *st;
	struct app_job *job;
	struct deploy_full_job *d;
	struct buf line; /* the output line being collected */
	char last[200];  /* the last complete output line (sanitised) */
	bool cancelled;  /* by the user (C-x) or on quit: its end is no failure */
};

static void full_cancel_cb(void *ud)
{
	struct fdeploy *fd = ud;

	fd->cancelled = true;
	if (fd->d)
		deploy_full_cancel(fd->d);
}

static void full_output(void *user, const char *data, size_t len)
{
	struct fdeploy *fd = user;

	for (size_t i = 0; i < len; i++) {
		if (data[i] != '\n' && data[i] != '\r') {
			if (fd->line.len < 4096)
				buf_putc(&fd->line, data[i]);
			continue;
		}
		if (!fd->line.len)
			continue;
		struct buf clean = {0};
		util_sanitize(fd->line.data, fd->line.len, false, false, &clean);
		snprintf(fd->last, sizeof(fd->last), "%s", clean.data ? clean.data : "");
		buf_free(&clean);
		buf_reset(&fd->line);
		app_job_progress(fd->job, fd->last, 0, 0);
	}
}

static void full_exit(void *user, int status, const struct lk_error *err)
{
	struct fdeploy *fd = user;

	if (status == 0)
		app_job_finish(fd->job, true, "full deploy finished");
	else if (fd->cancelled && status > 0)
		app_job_finish(fd->job, true,
		               "full deploy cancelled (the tool may have changed "
		               "part of the stack: check it before deploying again)");
	else if (status < 0)
		app_job_finish(fd->job, false, "full deploy: %s",
		               err ? err->message : "cannot start the deploy tool");
	else
		app_job_finish(fd->job, false, "full deploy failed (exit %d): %s", status,
		               fd->last);
	if (fd->st)
		fd->st->full_deploy = NULL;
	buf_free(&fd->line);
	free(fd);
}

static void full_confirmed(void *ud, bool yes)
{
	struct functions *st = ud;
	struct fdeploy *fd;
	struct lk_error err;

	if (!yes || st->full_deploy)
		return;
	fd = xcalloc(1, sizeof(*fd));
	fd->st = st;
	fd->job = app_job_start(st->p->app, "full deploy", full_cancel_cb, fd);
	fd->d = deploy_full_start(app_loop(st->p->app), app_project(st->p->app), full_output,
	                          full_exit, fd, &err);
	if (!fd->d) {
		app_job_finish(fd->job, false, "full deploy: %s", err.message);
		free(fd);
		return;
	}
	st->full_deploy = fd;
}

static void full_deploy(struct functions *st)
{
	struct lk_error err;
	char **argv;
	struct buf q = {0};

	if (app_refuse_if_read_only(st->p->app, "deploy"))
		return;
	if (st->full_deploy) {
		app_message(st->p->app, APP_MSG_INFO, "a full deploy is already running");
		return;
	}
	argv = deploy_full_argv(app_project(st->p->app), &err);
	if (!argv) {
		app_message(st->p->app, APP_MSG_ERROR, "%s", err.message);
		return;
	}
	buf_puts(&q, "Full deploy: run '");
	for (size_t i = 0; argv[i]; i++)
		buf_printf(&q, "%s%s", i ? " " : "", argv[i]);
	buf_puts(&q, "'?");
	deploy_argv_free(argv);
	app_confirm(st->p->app, q.data, full_confirmed, st);
	buf_free(&q);
}

/* ---- quick deploy and watch ---------------------------------------------------------------- */

struct fquick {
	struct functions *st;
	struct app_job *job;
	struct deploy_job *d;
	char *name;
};

/* After destroy: frees the client, the mode and the state once no deploy and no mode
 * acquisition is in flight (the client must outlive its jobs). */
static void free_client_if_done(struct functions *st)
{
	if (!st->closing || st->deploys_running)
		return;
	aws_client_free(st->client);
	free(st);
}

static void quick_progress(void *user, const char *function, enum deploy_phase phase, uint64_t done,
                           uint64_t total)
{
	struct fquick *q = user;
	char text[160];

	snprintf(text, sizeof(text), "%s %s", function, deploy_phase_name(phase));
	app_job_progress(q->job, text, done, total);
}

static void quick_function_done(void *user, const struct deploy_result *res)
{
	struct fquick *q = user;
	struct functions *st = q->st;
	bool ok = res->outcome != DEPLOY_FAILED && res->outcome != DEPLOY_CANCELLED;

	if (st && !st->destroyed) /* the badges are freed by destroy */
		pane_functions_set_badge(st->p, res->function, FUNCTIONS_BADGE_DEPLOY,
		                         ok ? theme_glyph(THEME_GLYPH_ARROW_UP)
		                            : theme_glyph(THEME_GLYPH_CROSS),
		                         ok ? THEME_OK : THEME_FAIL);
}

static void quick_all_done(void *user, const struct deploy_result *results, size_t n,
                           size_t failures)
{
	struct fquick *q = user;
	struct functions *st = q->st;
	struct buf b = {0};

	for (size_t i = 0; i < n; i++) {
		const struct deploy_result *r = &results[i];
		buf_printf(&b, "%s%s: %s", i ? "; " : "", r->function,
		           deploy_outcome_name(r->outcome));
		if (r->err.message[0])
			buf_printf(&b, " (%s)", r->err.message);
		else
			buf_printf(&b, " (%.0f ms)", r->elapsed_ms);
	}
	app_job_finish(q->job, failures == 0, "%s", b.data ? b.data : "nothing deployed");
	buf_free(&b);
	if (st) {
		st->deploys_running--;
		start_status(st); /* not after destroy (start_status checks) */
		free_client_if_done(st);
	}
	free(q->name);
	free(q);
}

static void quick_cancel_cb(void *ud)
{
	struct fquick *q = ud;

	if (q->d)
		deploy_cancel(q->d);
}

static struct deploy_opts quick_opts(struct functions *st)
{
	return (struct deploy_opts){.local = st->client_local};
}

static void run_quick_deploy(struct functions *st, const char *name)
{
	struct fquick *q = xcalloc(1, sizeof(*q));
	struct deploy_opts opts = quick_opts(st);
	struct deploy_callbacks cb = {.progress = quick_progress,
	                              .function_done = quick_function_done,
	                              .all_done = quick_all_done};
	const char *names[1] = {name};
	char title[160];

	q->st = st;
	q->name = xstrdup(name);
	snprintf(title, sizeof(title), "deploy %s", name);
	q->job = app_job_start(st->p->app, title, quick_cancel_cb, q);
	st->deploys_running++;
	q->d = deploy_start(app_loop(st->p->app), st->client, app_project(st->p->app), names, 1,
	                    &opts, &cb, q);
}

/* The client for the app's mode, made on first use; NULL while the mode is not ready. */
static struct aws_client *client_for_mode(struct functions *st)
{
	const struct mode_config *cfg = app_mode_config(st->p->app);
	struct aws_options o;
	struct lk_error err;

	if (st->client || !cfg)
		return st->client;
	mode_aws_options(cfg, &o);
	st->client = aws_client_new(app_loop(st->p->app), &o, &err);
	st->client_local = cfg->kind == MODE_LOCAL;
	if (!st->client)
		app_message(st->p->app, APP_MSG_ERROR, "deploy: %s", err.message);
	return st->client;
}

/* APP_EVENT_MODE: the mode became ready (or changed): run the deploys that waited. */
static void mode_changed(struct functions *st)
{
	if (st->client && !st->deploys_running && !st->watch) {
		aws_client_free(st->client); /* made for the previous mode */
		st->client = NULL;
	}
	if (!st->n_pending_deploys || !client_for_mode(st))
		return;
	for (size_t i = 0; i < st->n_pending_deploys; i++) {
		run_quick_deploy(st, st->pending_deploys[i]);
		free(st->pending_deploys[i]);
	}
	st->n_pending_deploys = 0;
}

/* Watch mode (W): each round of the deploy watch counts as a running deploy, so st and the
 * client outlive a round cancelled by the pane's destruction. */
static void watch_triggered(void *user, const char *const *functions, size_t n, const char *path)
{
	struct functions *st = user;

	st->deploys_running++;
	if (!st->destroyed)
		app_message(st->p->app, APP_MSG_INFO, "watch: %s changed, deploying %s%s",
		            path[0] ? path : "a file", n ? functions[0] : "",
		            n > 1 ? " and more" : "");
}

static void watch_function_done(void *user, const struct deploy_result *res)
{
	struct functions *st = user;
	bool ok = res->outcome != DEPLOY_FAILED && res->outcome != DEPLOY_CANCELLED;

	if (st->destroyed)
		return;
	pane_functions_set_badge(st->p, res->function, FUNCTIONS_BADGE_DEPLOY,
	                         ok ? theme_glyph(THEME_GLYPH_ARROW_UP)
	                            : theme_glyph(THEME_GLYPH_CROSS),
	                         ok ? THEME_OK : THEME_FAIL);
	if (!ok)
		app_message(st->p->app, APP_MSG_ERROR, "watch: %s %s: %s", res->function,
		            deploy_outcome_name(res->outcome), res->err.message);
	else
		app_message(st->p->app, APP_MSG_INFO, "watch: %s %s (%.0f ms)", res->function,
		            deploy_outcome_name(res->outcome), res->elapsed_ms);
}

static void watch_all_done(void *user, const struct deploy_result *results, size_t n,
                           size_t failures)
{
	struct functions *st = user;

	(void)results, (void)n, (void)failures;
	st->deploys_running--;
	free_client_if_done(st);
}

static void toggle_watch(struct functions *st)
{
	struct deploy_opts opts;
	struct deploy_watch_callbacks cb = {
	    .triggered = watch_triggered,
	    .deploy = {.function_done = watch_function_done, .all_done = watch_all_done},
	};
	struct lk_error err = {0};

	if (st->watch) {
		deploy_watch_stop(st->watch);
		st->watch = NULL;
		app_message(st->p->app, APP_MSG_INFO, "watch off");
		return;
	}
	if (app_refuse_if_read_only(st->p->app, "watch"))
		return;
	if (!client_for_mode(st)) {
		app_message(st->p->app, APP_MSG_WARN,
		            "watch: the emulator or account is not ready yet");
		return;
	}
	opts = quick_opts(st);
	st->watch = deploy_watch_start(app_loop(st->p->app), st->client, app_project(st->p->app),
	                               &opts, &cb, st, &err);
	if (!st->watch)
		app_message(st->p->app, APP_MSG_ERROR, "watch: %s", err.message);
	else
		app_message(st->p->app, APP_MSG_INFO,
		            "watch on: a saved file deploys its function");
}

static void quick_deploy(struct functions *st, const struct project_function *f)
{
	if (app_refuse_if_read_only(st->p->app, "deploy"))
		return;
	if (!f->buildable) {
		app_message(st->p->app, APP_MSG_WARN, "%s is not deployed from here: %s", f->name,
		            f->not_buildable ? f->not_buildable : "not buildable");
		return;
	}
	if (client_for_mode(st)) {
		run_quick_deploy(st, f->name);
		return;
	}
	app_message(st->p->app, APP_MSG_INFO, "%s: deploys when %s is ready", f->name,
	            app_mode(st->p->app) ? app_mode(st->p->app) : "the mode");
	st->pending_deploys =
	    xrealloc(st->pending_deploys, (st->n_pending_deploys + 1) * sizeof(char *));
	st->pending_deploys[st->n_pending_deploys++] = xstrdup(f->name);
}

/* ---- pane ops ---------------------------------------------------------------------------- */

static int functions_init(struct pane *p, struct lk_error *err)
{
	struct functions *st = xcalloc(1, sizeof(*st));

	(void)err;
	st->p = p;
	p->state = st;
	uv_timer_init(app_loop(p->app), &st->debounce);
	st->debounce.data = st;
	project_changed(st);
	if (st->n_rows)
		st->cursor_key = row_key(st, &st->rows[0]);
	st->publish_pending = true;
	uv_timer_start(&st->debounce, debounce_fired, 0, 0);
	return 0;
}

static void debounce_closed(uv_handle_t *h)
{
	struct functions *st = h->data;

	st->closing = true;
	free_client_if_done(st);
}

static void functions_destroy(struct pane *p)
{
	struct functions *st = p->state;

	if (!st)
		return;
	if (st->scanning)
		st->scanning->st = NULL; /* scan_done frees it */
	if (st->status_job)
		st->status_job->st = NULL;
	for (struct fbuild *b = st->builds; b; b = b->next) {
		b->st = NULL; /* build_done_cb frees it */
		build_cancel(b->b);
	}
	if (st->full_deploy) {
		st->full_deploy->st = NULL;
		deploy_full_cancel(st->full_deploy->d);
	}
	for (size_t i = 0; i < st->n_pending_deploys; i++)
		free(st->pending_deploys[i]);
	free(st->pending_deploys);
	st->n_pending_deploys = 0;
	st->destroyed = true;
	deploy_watch_stop(st->watch); /* a running round ends through watch_all_done */
	st->watch = NULL;
	unwatch_all(st);
	roots_free(st->roots, st->n_roots);
	free(st->rows);
	free(st->cursor_key);
	for (size_t i = 0; i < st->n_expanded; i++)
		free(st->expanded[i]);
	free(st->expanded);
	buf_free(&st->filter);
	free(st->load_error);
	for (size_t i = 0; i < st->n_wrapped; i++)
		free(st->wrapped[i]);
	free(st->wrapped);
	for (size_t i = 0; i < st->n_badges; i++) {
		free(st->badges[i].fn);
		for (int s = 0; s < FUNCTIONS_BADGE_COUNT_; s++)
			free(st->badges[i].text[s]);
	}
	free(st->badges);
	p->state = NULL;
	/* The timer is embedded in st: free st once the timer is closed. */
	st->debounce.data = st;
	uv_close((uv_handle_t *)&st->debounce, debounce_closed);
}

static const struct badge *badge_for(const struct functions *st, const char *fn)
{
	for (size_t i = 0; i < st->n_badges; i++)
		if (!strcmp(st->badges[i].fn, fn))
			return &st->badges[i];
	return NULL;
}

void pane_functions_set_badge(struct pane *p, const char *function, enum functions_badge slot,
                              const char *text, enum theme_role role)
{
	struct functions *st = p ? p->state : NULL;
	struct badge *b = NULL;

	if (!st || !function || slot >= FUNCTIONS_BADGE_COUNT_)
		return;
	for (size_t i = 0; i < st->n_badges && !b; i++)
		if (!strcmp(st->badges[i].fn, function))
			b = &st->badges[i];
	if (!b) {
		st->badges = xrealloc(st->badges, (st->n_badges + 1) * sizeof(*st->badges));
		b = &st->badges[st->n_badges++];
		*b = (struct badge){.fn = xstrdup(function)};
	}
	free(b->text[slot]);
	b->text[slot] = xstrdup(text);
	b->role[slot] = role;
	app_mark_dirty(p);
}

/* Short runtime for the tree: "python3.12" -> "py3.12", "nodejs20.x" -> "node20". */
static void short_runtime(const struct project_function *f, char *out, size_t len)
{
	const char *r = f->runtime;

	if (!r)
		snprintf(out, len, "%s", !strcmp(f->package_type, "Image") ? "image" : "?");
	else if (!strncmp(r, "python", 6))
		snprintf(out, len, "py%s", r + 6);
	else if (!strncmp(r, "nodejs", 6))
		snprintf(out, len, "node%.*s", (int)strcspn(r + 6, "."), r + 6);
	else
		snprintf(out, len, "%s", r);
}

static void put_text(WINDOW *w, const char *text, int max)
{
	struct buf b = {0};

	if (max <= 0)
		return;
	util_sanitize(text, strlen(text), false, false, &b);
	theme_put_clipped(w, b.data ? b.data : "", max);
	buf_free(&b);
}

/* Width of the badge column at the right of function rows. */
static int badge_width(const struct functions *st, const struct project_function *f)
{
	const struct badge *b = badge_for(st, f->name);
	int w = 0;

	for (int s = 0; b && s < FUNCTIONS_BADGE_COUNT_; s++)
		if (b->text[s])
			w += theme_text_width(b->text[s]) + 1;
	if (f->problem)
		w += 2;
	return w;
}

static void draw_function_row(struct functions *st, const struct row *r, int y, bool cur)
{
	WINDOW *w = st->p->win;
	const struct project_function *f = &app_project(st->p->app)->functions[r->fn];
	bool open =
	    is_expanded(st, f, NULL) || (st->filter.len && !name_matches(f->name, st->filter.data));
	char rt[32];
	int x, bw = badge_width(st, f), cols = st->p->cols;

	short_runtime(f, rt, sizeof(rt));
	wmove(w, y, 0);
	wattrset(w, cur ? theme_attr(THEME_SELECTED) : theme_attr(THEME_NORMAL));
	waddstr(w, theme_glyph(open ? THEME_GLYPH_TREE_OPEN : THEME_GLYPH_TREE_CLOSED));
	waddch(w, ' ');
	if (!cur)
		wattrset(w, theme_attr(THEME_HEADER));
	put_text(w, f->name, cols - 2 - bw);
	x = getcurx(w);
	if (x + 2 < cols - bw) {
		wattrset(w, cur ? theme_attr(THEME_SELECTED) : theme_attr(THEME_DIM));
		waddstr(w, "  ");
		put_text(w, rt, cols - bw - x - 2);
		if (!f->buildable && getcurx(w) + 8 < cols - bw)
			waddstr(w, !strcmp(f->package_type, "Image") ? " [image]" : " [inline]");
	}
	/* Badges, right-aligned: the problem marker first, then the others' badges. */
	x = cols - bw;
	if (x < 0)
		return;
	wmove(w, y, x);
	if (f->problem) {
		wattrset(w, theme_attr(THEME_FAIL));
		waddstr(w, theme_glyph(THEME_GLYPH_CROSS));
		waddch(w, ' ');
	}
	const struct badge *b = badge_for(st, f->name);
	for (int s = 0; b && s < FUNCTIONS_BADGE_COUNT_; s++) {
		if (!b->text[s])
			continue;
		wattrset(w, theme_attr(b->role[s]));
		put_text(w, b->text[s], cols - getcurx(w));
		waddch(w, ' ');
	}
}

static void draw_row(struct functions *st, const struct row *r, int y, bool cur)
{
	WINDOW *w = st->p->win;
	int cols = st->p->cols, indent = r->depth * 2;

	if (cur) {
		wattrset(w, theme_attr(THEME_SELECTED));
		wmove(w, y, 0);
		for (int i = 0; i < cols; i++)
			waddch(w, ' ');
	}
	if (r->kind == ROW_FUNCTION) {
		draw_function_row(st, r, y, cur);
		return;
	}
	wmove(w, y, indent < cols ? indent : cols - 1);
	if (r->kind == ROW_TEXT || r->kind == ROW_PROBLEM) {
		wattrset(w, theme_attr(cur ? THEME_SELECTED : r->role));
		if (r->kind == ROW_PROBLEM && r->role == THEME_FAIL) {
			if (r->cont)
				waddstr(w, "  ");
			else {
				waddstr(w, theme_glyph(THEME_GLYPH_CROSS));
				waddch(w, ' ');
			}
		}
		put_text(w, r->text, cols - getcurx(w));
		return;
	}
	const struct project_function *f = &app_project(st->p->app)->functions[r->fn];
	wattrset(w, theme_attr(cur                   ? THEME_SELECTED
	                       : r->kind == ROW_FILE ? THEME_NORMAL
	                                             : THEME_DIM));
	if (r->kind == ROW_DIR)
		waddstr(w, theme_glyph(is_expanded(st, f, r->node) || st->filter.len
		                           ? THEME_GLYPH_TREE_OPEN
		                           : THEME_GLYPH_TREE_CLOSED));
	else
		waddch(w, ' ');
	waddch(w, ' ');
	if (cur)
		wattrset(w, theme_attr(THEME_SELECTED));
	else if (r->kind == ROW_DIR)
		wattrset(w, theme_attr(THEME_NORMAL) | A_BOLD);
	put_text(w, r->node->name, cols - getcurx(w));
	if (r->kind == ROW_DIR || r->kind == ROW_DEPS)
		waddch(w, '/');
	if (r->kind == ROW_DEPS && getcurx(w) < cols - 4) {
		char n[48];
		snprintf(n, sizeof(n), " (%zu entries)", r->node->deps_entries);
		wattrset(w, theme_attr(cur ? THEME_SELECTED : THEME_DIM));
		put_text(w, n, cols - getcurx(w));
	}
	if (r->kind == ROW_FILE && f->source_file && !strcmp(f->source_file, r->node->path) &&
	    getcurx(w) < cols - 10) {
		char h[32];
		snprintf(h, sizeof(h), "  handler:%d", f->source_line);
		wattrset(w, theme_attr(cur ? THEME_SELECTED : THEME_DIM));
		put_text(w, h, cols - getcurx(w));
	}
}

static void functions_resize(struct pane *p)
{
	if (p->state)
		rebuild_rows(p->state); /* text rows wrap at the width */
}

static void functions_draw(struct pane *p)
{
	struct functions *st = p->state;
	int rows = p->rows - (st->typing || st->filter.len ? 1 : 0);

	if (rows < 1)
		rows = 1;
	if (st->cursor < st->top)
		st->top = st->cursor;
	if (st->cursor >= st->top + (size_t)rows)
		st->top = st->cursor - (size_t)rows + 1;
	for (int y = 0; y < rows && st->top + (size_t)y < st->n_rows; y++)
		draw_row(st, &st->rows[st->top + (size_t)y], y,
		         st->top + (size_t)y == st->cursor &&
		             st->rows[st->cursor].kind != ROW_TEXT);
	if (st->typing || st->filter.len) {
		wmove(p->win, p->rows - 1, 0);
		wattrset(p->win, theme_attr(st->typing ? THEME_KEY : THEME_DIM));
		waddch(p->win, '/');
		put_text(p->win, st->filter.data ? st->filter.data : "", p->cols - 2);
		if (!st->typing)
			put_text(p->win, "  (/ edit, Esc clears)", p->cols - getcurx(p->win));
		else
			waddch(p->win, '_');
	}
	wattrset(p->win, theme_attr(THEME_NORMAL));
}

static void open_config(struct functions *st, const struct project_function *f)
{
	struct project *proj = app_project(st->p->app);

	if (!proj->config_file) {
		app_message(st->p->app, APP_MSG_WARN, "no config file");
		return;
	}
	app_edit_file(st->p->app, proj->config_file, f ? f->config_line : 0,
	              app_read_only(st->p->app), NULL, NULL);
}

static void open_function(struct functions *st, const struct project_function *f)
{
	if (f->source_file) {
		app_edit_file(st->p->app, f->source_file, f->source_line, app_read_only(st->p->app),
		              NULL, NULL);
		return;
	}
	/* Inline code, images, missing files: the definition in the config file. */
	if (f->problem)
		app_message(st->p->app, APP_MSG_WARN, "%s: %s", f->name, f->problem);
	open_config(st, f);
}

static void toggle(struct functions *st, const struct row *r, int want /* -1 toggle */)
{
	const struct project_function *f = &app_project(st->p->app)->functions[r->fn];
	const struct fnode *n = r->kind == ROW_FUNCTION ? NULL : r->node;
	bool on = want < 0 ? !is_expanded(st, f, n) : want;

	set_expanded(st, f, n, on);
	rebuild_rows(st);
}

static size_t parent_row(struct functions *st, size_t i)
{
	int depth = st->rows[i].depth;

	while (i > 0 && st->rows[i].depth >= depth)
		i--;
	return i;
}

static int functions_request(struct pane *p, enum request req)
{
	struct functions *st = p->state;
	struct project *proj = app_project(p->app);
	const struct row *r = st->n_rows ? &st->rows[st->cursor] : NULL;
	bool has_fn = r && r->fn < proj->n_functions;
	const struct project_function *f = has_fn ? &proj->functions[r->fn] : NULL;
	int page = p->rows > 2 ? p->rows - 1 : 1;

	switch (req) {
	case REQ_MOVE_UP:
		move_cursor(st, -1);
		return PANE_REDRAW;
	case REQ_MOVE_DOWN:
		move_cursor(st, 1);
		return PANE_REDRAW;
	case REQ_PAGE_UP:
		move_cursor(st, -page);
		return PANE_REDRAW;
	case REQ_PAGE_DOWN:
		move_cursor(st, page);
		return PANE_REDRAW;
	case REQ_HALF_PAGE_UP:
		move_cursor(st, -page / 2);
		return PANE_REDRAW;
	case REQ_HALF_PAGE_DOWN:
		move_cursor(st, page / 2);
		return PANE_REDRAW;
	case REQ_MOVE_TOP:
		move_cursor(st, -(long)st->n_rows);
		return PANE_REDRAW;
	case REQ_MOVE_BOTTOM:
		move_cursor(st, (long)st->n_rows);
		return PANE_REDRAW;
	case REQ_MOVE_RIGHT:
		if (!has_fn || (r->kind != ROW_FUNCTION && r->kind != ROW_DIR))
			return PANE_HANDLED;
		if (is_expanded(st, f, r->kind == ROW_FUNCTION ? NULL : r->node))
			move_cursor(st, 1);
		else
			toggle(st, r, 1);
		return PANE_REDRAW;
	case REQ_MOVE_LEFT:
		if (!has_fn)
			return PANE_HANDLED;
		if ((r->kind == ROW_FUNCTION || r->kind == ROW_DIR) &&
		    is_expanded(st, f, r->kind == ROW_FUNCTION ? NULL : r->node)) {
			toggle(st, r, 0);
		} else if (r->depth > 0) {
			st->cursor = parent_row(st, st->cursor);
			cursor_changed(st);
		}
		return PANE_REDRAW;
	case REQ_FUNCTIONS_TOGGLE:
		if (has_fn && (r->kind == ROW_FUNCTION || r->kind == ROW_DIR))
			toggle(st, r, -1);
		return PANE_REDRAW;
	case REQ_FUNCTIONS_EXPAND_ALL:
		for (size_t i = 0; i < proj->n_functions; i++)
			set_expanded(st, &proj->functions[i], NULL, true);
		rebuild_rows(st);
		return PANE_REDRAW;
	case REQ_FUNCTIONS_COLLAPSE_ALL:
		for (size_t i = 0; i < st->n_expanded; i++)
			free(st->expanded[i]);
		st->n_expanded = 0;
		if (has_fn) {
			free(st->cursor_key);
			st->cursor_key = xstrdup(f->name);
		}
		rebuild_rows(st);
		return PANE_REDRAW;
	case REQ_ENTER:
	case REQ_EDIT:
		if (!has_fn)
			return PANE_HANDLED;
		if (r->kind == ROW_FUNCTION)
			open_function(st, f);
		else if (r->kind == ROW_DIR && req == REQ_ENTER)
			toggle(st, r, -1);
		else if (r->kind == ROW_FILE)
			app_edit_file(p->app, r->node->path,
			              f->source_file && !strcmp(f->source_file, r->node->path)
			                  ? f->source_line
			                  : 0,
			              app_read_only(p->app), NULL, NULL);
		else if (r->kind == ROW_PROBLEM)
			open_config(st, f);
		else if (r->kind == ROW_DEPS)
			app_message(p->app, APP_MSG_INFO, "%s: dependency folder, %zu entries",
			            r->node->name, r->node->deps_entries);
		return PANE_REDRAW;
	case REQ_FUNCTIONS_OPEN_CONFIG:
		open_config(st, f);
		return PANE_HANDLED;
	case REQ_SEARCH:
	case REQ_FUNCTIONS_FILTER:
		st->typing = true;
		return PANE_REDRAW;
	case REQ_BACK:
		if (!st->filter.len)
			return PANE_UNHANDLED;
		buf_reset(&st->filter);
		rebuild_rows(st);
		return PANE_REDRAW;
	case REQ_REFRESH:
		app_reload_project(p->app);
		return PANE_REDRAW;
	case REQ_FUNCTIONS_BUILD:
		if (has_fn)
			quick_build(st, f);
		return PANE_REDRAW;
	case REQ_FUNCTIONS_BUILD_ALL:
		for (size_t i = 0; i < proj->n_functions; i++)
			if (proj->functions[i].buildable)
				quick_build(st, &proj->functions[i]);
		return PANE_REDRAW;
	case REQ_FUNCTIONS_DEPLOY:
		if (has_fn)
			quick_deploy(st, f);
		return PANE_REDRAW;
	case REQ_FUNCTIONS_DEPLOY_FULL:
		full_deploy(st);
		return PANE_REDRAW;
	case REQ_FUNCTIONS_WATCH:
		toggle_watch(st);
		return PANE_REDRAW;
	case REQ_FUNCTIONS_SKIP_DEPS:
		app_message(st->p->app, APP_MSG_INFO, "%s",
		            app_toggle_skip_deps(st->p->app)
		                ? "dependencies off: builds skip pip/npm and use what was installed"
		                : "dependencies on: builds install what requirements.txt / "
		                  "package.json declare");
		return PANE_REDRAW;
	default:
		return PANE_UNHANDLED;
	}
}

/* While the filter line is open, keys edit it; the tree follows every keystroke. */
static int functions_key(struct pane *p, int key)
{
	struct functions *st = p->state;

	if (!st->typing)
		return PANE_UNHANDLED;
	if (key == '\n' || key == '\r' || key == KEY_ENTER) {
		st->typing = false;
	} else if (key == 27) { /* Esc: drop the filter */
		st->typing = false;
		buf_reset(&st->filter);
	} else if (key == KEY_BACKSPACE || key == 127 || key == 8) {
		if (st->filter.len) {
			/* remove one UTF-8 character */
			do
				st->filter.len--;
			while (st->filter.len &&
			       ((unsigned char)st->filter.data[st->filter.len] & 0xC0) == 0x80);
			st->filter.data[st->filter.len] = '\0';
		} else {
			st->typing = false;
		}
	} else if (key == KEY_UP || key == KEY_DOWN) {
		move_cursor(st, key == KEY_UP ? -1 : 1);
		return PANE_REDRAW;
	} else if (key >= 32 && key < 256 && key != 127 && st->filter.len < 200) {
		buf_putc(&st->filter, (char)key);
	} else {
		return PANE_HANDLED;
	}
	rebuild_rows(st);
	/* Land on the first match while typing. */
	if (st->filter.len) {
		for (size_t i = 0; i < st->n_rows; i++) {
			const struct row *r = &st->rows[i];
			const char *name = r->kind == ROW_FUNCTION
			                       ? app_project(p->app)->functions[r->fn].name
			                   : r->node ? r->node->name
			                             : "";
			if (r->kind != ROW_TEXT && name_matches(name, st->filter.data)) {
				st->cursor = i;
				break;
			}
		}
	}
	cursor_changed(st);
	return PANE_REDRAW;
}

static void functions_event(struct pane *p, enum app_event ev)
{
	struct functions *st = p->state;
	struct project *proj = app_project(p->app);

	switch (ev) {
	case APP_EVENT_PROJECT:
		project_changed(st);
		app_mark_dirty(p);
		break;
	case APP_EVENT_SELECTION: {
		/* Another pane picked a function: follow it unless we are already inside it. */
		const char *sel = app_selected_function(p->app);
		const struct row *r = st->n_rows ? &st->rows[st->cursor] : NULL;
		if (!sel ||
		    (r && r->fn < proj->n_functions && !strcmp(proj->functions[r->fn].name, sel)))
			break;
		for (size_t i = 0; i < st->n_rows; i++) {
			if (st->rows[i].kind == ROW_FUNCTION &&
			    !strcmp(proj->functions[st->rows[i].fn].name, sel)) {
				st->cursor = i;
				free(st->cursor_key);
				st->cursor_key = row_key(st, &st->rows[i]);
				app_mark_dirty(p);
				break;
			}
		}
		break;
	}
	case APP_EVENT_MODE:
		mode_changed(st);
		break;
	case APP_EVENT_EDITOR_RETURN:
		start_scan(st); /* the editor may have created files */
		break;
	default:
		break;
	}
}

static const char *functions_status(struct pane *p, char *buf, size_t len)
{
	struct functions *st = p->state;
	struct project *proj = app_project(p->app);

	if (st->load_error)
		snprintf(buf, len, "error");
	else
		snprintf(buf, len, "%zu function%s%s%s", proj->n_functions,
		         proj->n_functions == 1 ? "" : "s", st->watch ? "  watch on" : "",
		         proj->skip_deps ? "  deps off" : "");
	return buf;
}

/* Mouse: a click selects the row under the pointer (not the filter line); the wheel gets the
 * shell's default (move requests). */
static int functions_mouse(struct pane *p, const struct pane_mouse *m)
{
	struct functions *st = p->state;
	int rows = p->rows - (st->typing || st->filter.len ? 1 : 0);
	size_t i = st->top + (size_t)m->y;

	if (m->kind != PANE_MOUSE_CLICK)
		return PANE_UNHANDLED;
	if (m->y >= rows || i >= st->n_rows)
		return PANE_HANDLED;
	move_cursor(st, (long)i - (long)st->cursor);
	return PANE_REDRAW;
}

const struct pane_ops pane_functions_ops = {
    .name = "functions",
    .title = "Functions",
    .init = functions_init,
    .destroy = functions_destroy,
    .resize = functions_resize,
    .draw = functions_draw,
    .request = functions_request,
    .key = functions_key,
    .event = functions_event,
    .status = functions_status,
    .mouse = functions_mouse,
};
