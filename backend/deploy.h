/* deploy.h - quick deploy (build + UpdateFunctionCode, skip when unchanged), watch mode,
 * and full deploy through the project's IaC tool.
 *
 * Quick deploy, per function: quick build (build.h) -> GetFunction -> compare CodeSha256
 * (skip as "unchanged" unless force) -> UpdateFunctionCode (ZipFile up to 50 MB zipped,
 * else PutObject to the artifact bucket + S3Bucket/S3Key) -> poll until LastUpdateStatus is
 * Successful (Failed -> its reason). ResourceConflictException is retried with backoff.
 * In local mode a function missing from the emulator is created from the project's
 * settings (CreateFunction), and changed settings (handler, runtime, timeout, memory,
 * environment) are pushed with UpdateFunctionConfiguration. Functions deploy in parallel,
 * at most opts.parallel at a time (default 4).
 *
 * Call order: deploy_start() on the caller's loop with a ready aws client (backend/mode.h
 * gives one) -> progress / function_done callbacks per function -> exactly one all_done
 * callback (also after deploy_cancel) -> the job frees itself after all_done returns. The
 * client must outlive the job. All callbacks run on the loop thread; nothing blocks it.
 */
#ifndef LAMBDECK_DEPLOY_H
#define LAMBDECK_DEPLOY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "backend/build.h"
#include "backend/project.h"
#include "backend/util.h"

struct aws_client; /* backend/aws/aws.h */

enum deploy_phase {
	DEPLOY_PHASE_QUEUED, /* waiting for a parallel slot */
	DEPLOY_PHASE_BUILD,  /* quick build; done/total from the build's own progress */
	DEPLOY_PHASE_CHECK,  /* GetFunction: compare CodeSha256 and configuration */
	DEPLOY_PHASE_UPLOAD, /* UpdateFunctionCode / CreateFunction / PutObject; bytes */
	DEPLOY_PHASE_WAIT,   /* polling LastUpdateStatus */
	DEPLOY_PHASE_CONFIG, /* UpdateFunctionConfiguration */
	DEPLOY_PHASE_DONE,
};
const char *deploy_phase_name(enum deploy_phase phase);

enum deploy_outcome {
	DEPLOY_UPDATED,   /* new code (and/or configuration) is live */
	DEPLOY_CREATED,   /* local mode: the function did not exist and was created */
	DEPLOY_UNCHANGED, /* the deployed CodeSha256 equals the local artifact's: skipped */
	DEPLOY_FAILED,
	DEPLOY_CANCELLED,
};
const char *deploy_outcome_name(enum deploy_outcome o); /* "updated", "created", ... */

struct deploy_opts {
	bool force;             /* upload even when the CodeSha256 matches */
	bool full_build;        /* rebuild the zip from scratch first */
	bool local;             /* the client talks to the emulator: create missing functions and
	                           push configuration */
	int parallel;           /* concurrent functions; 0 -> 4 */
	uint64_t zipfile_limit; /* largest zip sent inline as ZipFile; 0 -> 50 MB */
	const char *artifact_bucket; /* overrides project->artifact_bucket; may be NULL */
	const char *role_arn; /* role for CreateFunction in local mode; NULL -> a dummy ARN */
	int conflict_retries; /* retries on ResourceConflictException; 0 -> 8 (about 12 s) */
	/* Dependency installer output during the build; may be NULL. */
	void (*on_output)(void *user, const char *function, const char *data, size_t len);
};

struct deploy_result {
	const char *function;      /* project function name */
	const char *deployed_name; /* name used in the API calls */
	enum deploy_outcome outcome;
	char code_sha256[48]; /* local artifact's CodeSha256 ("" if the build failed) */
	bool code_updated;    /* UpdateFunctionCode / CreateFunction happened */
	bool config_updated;  /* UpdateFunctionConfiguration happened */
	bool via_s3;          /* uploaded through the artifact bucket */
	int attempts;         /* UpdateFunctionCode attempts (conflict retries + 1) */
	double elapsed_ms;
	struct build_result build; /* the build step's result */
	struct lk_error err;       /* set for DEPLOY_FAILED / DEPLOY_CANCELLED */
};

struct deploy_callbacks {
	/* Per-function progress; may be NULL. */
	void (*progress)(void *user, const char *function, enum deploy_phase phase, uint64_t done,
	                 uint64_t total);
	/* One function finished (any outcome); may be NULL. res valid during the call. */
	void (*function_done)(void *user, const struct deploy_result *res);
	/* All finished; results are in the order of names (a repeated name once; all
	 * functions: project order). failures = number of DEPLOY_FAILED or DEPLOY_CANCELLED.
	 * Valid during the call only. Required. */
	void (*all_done)(void *user, const struct deploy_result *results, size_t n,
	                 size_t failures);
};

struct deploy_job;

/* Deploys the named functions of p (names == NULL or n == 0: every buildable function).
 * Unknown names complete as DEPLOY_FAILED with a message; the others continue. p is copied
 * (what is needed), so it may be reloaded while the job runs. Never returns NULL. */
struct deploy_job *deploy_start(uv_loop_t *loop, struct aws_client *client, const struct project *p,
                                const char *const *names, size_t n, const struct deploy_opts *opts,
                                const struct deploy_callbacks *cb, void *user);
/* Cancels builds and pending requests; in-flight updates are reported as cancelled only
 * if they did not reach the service, otherwise their real outcome is reported. */
void deploy_cancel(struct deploy_job *job);

/* ---- deploy state: .lambdeck/deploy/<function>.json, shared by every process ---- */

/* Every quick deploy (console, `lambdeck deploy`, the Playground's deploy before invoking)
 * records each function's last outcome here when it finishes (cancelled ones are not
 * recorded), written atomically (temp + rename), so another console watching the directory
 * shows the same badge. Full deploys (the IaC tool) are not recorded: they do not say which
 * functions they changed. */
struct deploy_state {
	char *outcome;        /* deploy_outcome_name(): "updated", "created", "unchanged",
	                         "failed" */
	bool ok;              /* not failed */
	char code_sha256[48]; /* local artifact's CodeSha256 that was deployed ("" if none) */
	char *deployed_name;  /* name used in the API calls, NULL if not resolved */
	bool local;           /* deployed to the local emulator */
	int64_t time_ms;      /* when it finished, Unix ms */
	char *error;          /* "Code: message" when failed, else NULL */
	int pid;              /* process that deployed */
};
/* Directory of the state files / one function's file (caller frees). */
char *deploy_state_dir(const char *project_dir);
char *deploy_state_path(const char *project_dir, const char *function);
/* Records res (atomically). Returns 0, -1 with err set. */
int deploy_state_write(const char *project_dir, const struct deploy_result *res, bool local,
                       struct lk_error *err);
/* Reads a function's state: 0 and *out filled, 1 when there is none yet, -1 with err set
 * ("path: what") when the file is not valid. Blocking, small. */
int deploy_state_read(const char *project_dir, const char *function, struct deploy_state *out,
                      struct lk_error *err);
void deploy_state_clear(struct deploy_state *s);

/* ---- watch: saved file -> build + deploy of the functions whose code dir contains it ---- */

struct deploy_watch;
struct deploy_watch_callbacks {
	/* A change was seen (after the ~100 ms debounce) and these functions will deploy. */
	void (*triggered)(void *user, const char *const *functions, size_t n, const char *path);
	struct deploy_callbacks deploy; /* forwarded for every round */
};
/* Watches every function's code dir recursively (backend/fswatch.h). Editor swap/backup
 * files (*.swp, *~, .#*, 4913, ...) and .lambdeck / build outputs never trigger. A change
 * during a running round queues exactly one more round. Returns NULL with err set. */
struct deploy_watch *deploy_watch_start(uv_loop_t *loop, struct aws_client *client,
                                        const struct project *p, const struct deploy_opts *opts,
                                        const struct deploy_watch_callbacks *cb, void *user,
                                        struct lk_error *err);
/* Stops watching; a running round is cancelled. Accepts NULL. */
void deploy_watch_stop(struct deploy_watch *w);
/* True when path should never trigger a build (editor temp files, build outputs). */
bool deploy_watch_ignored(const char *path);

/* ---- full deploy: the project's IaC tool ---- */

/* The argv a full deploy runs: lambdeck.json "deploy", else `sam deploy` when samconfig.toml
 * (or a SAM template) is there, else `serverless deploy` for serverless.yml. Returns a
 * NULL-terminated copy (free with deploy_argv_free), or NULL with err set ("NoDeployCommand"). */
char **deploy_full_argv(const struct project *p, struct lk_error *err);
void deploy_argv_free(char **argv);

struct deploy_full_job;
/* Runs the full deploy in the project dir, streaming output (raw bytes, sanitise before
 * display) to on_output; on_exit gets the exit status (or -1 with err: tool missing ->
 * code "ToolNotFound" and a message naming the tool and how to get it). The job frees itself
 * after on_exit returns. Returns NULL with err set if nothing can be started. */
struct deploy_full_job *
deploy_full_start(uv_loop_t *loop, const struct project *p,
                  void (*on_output)(void *user, const char *data, size_t len),
                  void (*on_exit)(void *user, int status, const struct lk_error *err), void *user,
                  struct lk_error *err);
/* Sends SIGTERM to the tool; on_exit still comes. */
void deploy_full_cancel(struct deploy_full_job *job);

#endif
