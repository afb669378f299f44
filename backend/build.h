/* build.h - quick build: one deterministic deployment zip per function, patched, not redone.
 *
 * Artifacts live in <project>/.lambdeck/build/<function>/:
 *   code.zip       the deployment package (entries sorted by name, fixed timestamps,
 *                  Unix modes kept), so the same tree always gives the same CodeSha256
 *   manifest.json  path -> size, mode, mtime, inode, SHA-256 of every packaged file, plus
 *                  the zip's own size/mtime/inode, CodeSha256 and SHA-256 state every 1 MiB
 *   bundle/        the output of the declared build step (SAM BuildMethod esbuild or
 *                  makefile, serverless-esbuild; backend/build_method.h), zipped instead of
 *                  the code directory; rerun only when a source file or property changed
 *                  (bundle.stamp)
 * and in <project>/.lambdeck/deps/<dir>-<hash>/ the installed dependencies (pip -t / npm
 * --omit=dev), one install shared by every function built from the same code directory,
 * keyed by that directory and the hash of requirements.txt / package.json + lock file and
 * the runtime; a lock makes parallel builds wait for the one install
 *
 * First build: full. Later builds: stat pre-filter against the manifest (a two-thread walk),
 * hash only what changed (and entries recorded within RACY_MS of their build's start), then patch code.zip with backend/zipw (the previous zip's central
 * directory is checked; the unchanged leading bytes are copied with copy_file_range and
 * their hash resumed from the saved state; later unchanged entries are copied raw, never
 * recompressed; changed and new files are deflated). A patched zip is byte-for-byte the
 * zip a full build of the same tree gives. A previous zip that fails the checks is never
 * patched: the build is a full one and build_result.warning says why. The zip is written to
 * a temp file, the manifest (fsynced, naming the new zip's inode) next, then the zip is
 * swapped in. The manifest's hash of a file is that of the bytes zipped and its stat the one
 * taken before reading them (zipw_read), so a file rewritten during a build is picked up by
 * the next one. A failed build (unreadable file, full disk, installer failure, cancel) leaves
 * the previous artifact and manifest untouched, and a crash in between costs a full build.
 *
 * Call order (console): build_start() on the app's loop -> progress callbacks -> exactly one
 * done callback (also after build_cancel) -> the job frees itself after the done callback
 * returns; the handle must not be used after that. Hashing and zipping run on the libuv
 * thread pool (uv_queue_work), installers as child processes (uv_spawn); every callback is
 * called on the loop thread. The CLI uses build_run(), which runs a private loop until done.
 */
#ifndef LAMBDECK_BUILD_H
#define LAMBDECK_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "backend/project.h"
#include "backend/util.h"

enum build_phase {
	BUILD_PHASE_SCAN,   /* walking the code dir; done/total = files seen / 0 */
	BUILD_PHASE_HASH,   /* hashing changed files; done/total = bytes */
	BUILD_PHASE_DEPS,   /* running the dependency installer; done/total = 0/0 */
	BUILD_PHASE_BUNDLE, /* running the declared build step (esbuild, make); 0/0 */
	BUILD_PHASE_ZIP,    /* writing the zip; done/total = entries */
	BUILD_PHASE_DONE,
};
/* "scan", "hash", "deps", "bundle", "zip", "done" */
const char *build_phase_name(enum build_phase phase);

struct build_opts {
	bool full;      /* ignore manifest and previous zip: rebuild from scratch */
	bool skip_deps; /* never run an installer (use the cached deps if any) */
	/* Installer output (stdout and stderr interleaved, raw bytes: sanitise before display).
	 * NULL: discarded. Called on the loop thread. */
	void (*on_output)(void *user, const char *function, const char *data, size_t len);
};

enum build_outcome {
	BUILD_OK,        /* zip written (full or patched) */
	BUILD_UNCHANGED, /* nothing changed since the last build; zip untouched */
	BUILD_FAILED,    /* err says why; previous artifact intact */
	BUILD_CANCELLED,
};
const char *build_outcome_name(enum build_outcome o); /* "built", "unchanged", ... */

struct build_result {
	const char *function; /* valid during the done callback (or until build_result_free) */
	enum build_outcome outcome;
	char *zip_path;       /* absolute path of code.zip (NULL if none was ever built) */
	char code_sha256[48]; /* base64 SHA-256 of code.zip, as Lambda's CodeSha256; "" if none */
	uint64_t zip_size;
	size_t n_files;                       /* entries in the zip */
	size_t n_added, n_changed, n_removed; /* vs the previous build */
	bool full;                            /* true when the zip was written from scratch */
	bool deps_installed;                  /* an installer ran in this build */
	bool deps_cached;                     /* dependencies came from the cache */
	double elapsed_ms;
	char warning[600];   /* non-fatal note for the user (e.g. why a patch became a full
	                        build); "" if none */
	struct lk_error err; /* set when outcome is BUILD_FAILED / BUILD_CANCELLED */
};

typedef void (*build_progress_fn)(void *user, const char *function, enum build_phase phase,
                                  uint64_t done, uint64_t total);
/* res is owned by the job and valid only during the call. */
typedef void (*build_done_fn)(void *user, const struct build_result *res);

struct build_job;

/* Starts building fn of project p on loop. Everything needed is copied from p and fn, so the
 * project may be reloaded or freed while the build runs. progress may be NULL. Returns the
 * job handle (never NULL: a function that cannot be built completes with BUILD_FAILED). */
struct build_job *build_start(uv_loop_t *loop, const struct project *p,
                              const struct project_function *fn, const struct build_opts *opts,
                              build_progress_fn progress, build_done_fn done, void *user);
/* Requests cancellation: kills a running installer, stops hashing/zipping at the next file;
 * the done callback still comes, with BUILD_CANCELLED (or the real outcome if it had already
 * finished). Safe to call at most until the done callback has run. */
void build_cancel(struct build_job *job);

/* Synchronous build for the CLI and tests: runs a private loop until done. Fills *res
 * (free with build_result_free). Returns 0 for BUILD_OK/BUILD_UNCHANGED, -1 otherwise. */
int build_run(const struct project *p, const struct project_function *fn,
              const struct build_opts *opts, build_progress_fn progress, void *user,
              struct build_result *res);
/* Frees what build_run put into res (not res itself). Accepts a zeroed struct. */
void build_result_free(struct build_result *res);

/* Absolute artifact directory / zip path for a function (caller frees). */
char *build_artifact_dir(const char *project_dir, const char *function);
char *build_zip_path(const char *project_dir, const char *function);

/* Cheap state for badges (no hashing of contents beyond what the stat pre-filter needs):
 * reads the manifest and stats the code dir. Blocking but fast (a few ms for thousands of
 * files); the console may call it from uv_queue_work. */
struct build_status {
	bool built;           /* a manifest + zip exist */
	bool modified;        /* some file differs by stat from the last build */
	char code_sha256[48]; /* of the last build, "" if none */
	int64_t built_at_ms;  /* when the last build finished, 0 if never */
};
int build_status_get(const struct project *p, const struct project_function *fn,
                     struct build_status *out, struct lk_error *err);

/* Base64 SHA-256 of a file (Lambda's CodeSha256). out: 48 bytes. Blocking. */
int build_file_code_sha256(const char *path, char out[48], struct lk_error *err);

#endif
