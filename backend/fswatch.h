/* fswatch.h - recursive directory watcher on a libuv loop, shared by the test runner
 * (re-run on save), `deploy --watch` and the Functions tree refresh.
 *
 * inotify is not recursive, so there is one uv_fs_event per directory: the tree is scanned
 * once at fswatch_new(), directories created later are added (their contents reported as
 * changed, since files may appear before the new watch exists), removed or moved-away ones
 * are dropped. Symbolic links to directories are not followed (no cycles).
 *
 * Ignored (never watched, never reported): version control and tool state (.git, .hg, .svn,
 * .lambdeck), dependency and cache trees (node_modules, __pycache__, .pytest_cache,
 * .mypy_cache, .ruff_cache, .tox, .venv, venv, .eggs, *.egg-info, .hypothesis, .gradle,
 * .terraform, .cache), build outputs (build, dist, target, .aws-sam, .serverless, cdk.out),
 * coverage data (coverage, htmlcov, .nyc_output, .coverage*), IDE state (.idea, .DS_Store),
 * editor swap / backup files
 * (vim .*.swp/.swx/.swo and "4913", "*~", emacs "#file#" and ".#file", JetBrains
 * "*___jb_tmp___"/"*___jb_old___"), compiled Python (*.pyc, *.pyo), lambdeck's own atomic
 * write temp files ("*.tmp.<pid>"), plus the caller's extra patterns.
 *
 * Changes are debounced: the callback fires once `debounce_ms` after the LAST change of a
 * burst (trailing edge), but never later than `max_wait_ms` after the first one, so a file
 * written continuously cannot starve it. It receives the set of changed paths (absolute,
 * sorted, deduplicated, at most FSWATCH_MAX_PATHS; `truncated` says when more changed).
 *
 * Call order: fswatch_new() -> callbacks on the loop -> fswatch_free(). fswatch_free()
 * closes the uv handles; the memory is released from their close callbacks, so run the loop
 * (e.g. uv_run(UV_RUN_DEFAULT) at shutdown) before uv_loop_close(). Single-threaded: call
 * everything from the loop's thread. The watcher never blocks except for the readdir()
 * scans of the tree at start and of newly created directories. */
#ifndef LAMBDECK_FSWATCH_H
#define LAMBDECK_FSWATCH_H

#include <stdbool.h>
#include <stddef.h>

#include <uv.h>

#include "backend/util.h"

#define FSWATCH_DEFAULT_DEBOUNCE_MS 200
#define FSWATCH_MAX_PATHS           1024

struct fswatch;

/* One debounced batch. paths[] and the strings are owned by the watcher and valid only
 * during the callback. */
struct fswatch_batch {
	const char *const *paths; /* absolute paths, sorted, unique */
	size_t n_paths;
	bool truncated; /* more than FSWATCH_MAX_PATHS changed; paths[] is a subset */
};

typedef void (*fswatch_cb)(struct fswatch *w, const struct fswatch_batch *batch, void *user);

struct fswatch_opts {
	unsigned debounce_ms; /* 0 -> FSWATCH_DEFAULT_DEBOUNCE_MS */
	unsigned max_wait_ms; /* 0 -> max(1000, 5 * debounce_ms) */
	/* Extra ignore patterns (fnmatch). A pattern without '/' is matched against every path
	 * component's name ("*.log", "tmp"); one with '/' against the path relative to the root
	 * ("reports/junit.xml", "out/ *"); an absolute one against the absolute path. Copied. */
	const char *const *ignore;
	size_t n_ignore;
};

/* Starts watching the directory tree at root (must be a directory). opts may be NULL.
 * Returns 0 and *out, or -1 with err set (root missing, not a directory, no inotify).
 * A watch that cannot be added (e.g. the inotify watch limit) does not fail the call: it is
 * recorded and reported by fswatch_problem(). */
int fswatch_new(uv_loop_t *loop, const char *root, const struct fswatch_opts *opts, fswatch_cb cb,
                void *user, struct fswatch **out, struct lk_error *err);

/* Stops watching; pending (not yet delivered) changes are dropped. Accepts NULL. */
void fswatch_free(struct fswatch *w);

/* Pauses / resumes delivery. While paused, changes are still tracked (directories added
 * and dropped) but not collected or reported. */
void fswatch_set_paused(struct fswatch *w, bool paused);
bool fswatch_paused(const struct fswatch *w);

/* Delivers pending changes now (skipping the rest of the debounce); no-op if none. */
void fswatch_flush(struct fswatch *w);

/* Number of directories currently watched. */
size_t fswatch_n_dirs(const struct fswatch *w);
/* Absolute root path (owned by the watcher). */
const char *fswatch_root(const struct fswatch *w);
/* The last problem met (e.g. "inotify watch limit reached at DIR: raise
 * fs.inotify.max_user_watches"), or NULL. Owned by the watcher. */
const char *fswatch_problem(const struct fswatch *w);

/* True when the path (relative to a watch root, '/'-separated) is ignored by the built-in
 * rules. Exposed so other modules (build manifests, tree views) can agree with the watcher. */
bool fswatch_default_ignored(const char *relpath);

#endif
