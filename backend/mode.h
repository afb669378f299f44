/* mode.h - LOCAL / AWS selection for every caller (console, CLI subcommands, build/deploy,
 * invoke, logs), and in LOCAL mode attaching to the project's running emulator or starting
 * one as a child process.
 *
 * Selection rules (mode_select, pure):
 *   --local                                     -> LOCAL (wins over everything else)
 *   --aws, --profile, --region, --endpoint-url  -> AWS
 *   lambdeck.json "mode": "aws"                 -> AWS  ("local" or absent -> LOCAL)
 *   otherwise                                   -> LOCAL
 * An exported AWS_PROFILE / AWS_REGION alone never selects AWS; once AWS is chosen they
 * supply the profile / region (after --profile/--region and lambdeck.json's values).
 *
 * Call order:
 *   struct mode *m = mode_new(loop, &opts, &err);
 *   mode_acquire(m, on_ready, user);   // async; on_ready runs on the loop exactly once
 *   ... use mode_config(m) (NULL until ready) to configure the aws client ...
 *   mode_free(m);                      // releases this user's lease on the emulator
 * A CLI that is not yet running its loop can call mode_acquire_sync(m, &err) instead
 * (runs the loop until ready; never call it from inside a loop callback).
 *
 * LOCAL mode: the emulator's state lives in <project>/.lambdeck/emulator. If its
 * `endpoint` file names a live emulator (checked by connecting to it), we attach. Otherwise
 * we spawn `lambdeck emulate --port 0 --state-dir <dir>` (argv, no shell) and read its
 * JSON line. Every user holds a lease file <dir>/users/<pid>; the console that started the
 * emulator stops it (SIGTERM) on mode_free when no other live lease remains, unless
 * keep_emulator. Attach and exit are race-free through one lock, <dir>/users/.lock: a user
 * checks the endpoint and writes its lease while holding it, and an emulator (or a user
 * stopping one) decides to stop only while holding it, withdrawing the endpoint file before
 * letting go. A user arriving while an emulator leaves waits for it to go and then starts
 * (or attaches to) the next one. Two consoles on one project therefore share one emulator, and the last one
 * to leave stops it only if it is the one that started it (an attached console whose
 * starter left first takes over the duty).
 *
 * Ownership: all strings in struct mode_config are owned by the mode object and valid
 * until mode_free. backend/ never includes cli/ headers: the CLI copies its global options
 * into struct mode_options. */
#ifndef LAMBDECK_MODE_H
#define LAMBDECK_MODE_H

#include <stdbool.h>
#include <uv.h>

#include "backend/aws/aws.h"
#include "backend/util.h"

enum mode_kind {
	MODE_LOCAL,
	MODE_AWS,
};

struct mode_options {
	const char *project_dir;     /* default "." */
	const char *profile;         /* --profile */
	const char *region;          /* --region */
	const char *endpoint;        /* --endpoint-url */
	bool force_aws;              /* --aws */
	bool force_local;            /* --local */
	bool keep_emulator;          /* --keep-emulator */
	const char *project_mode;    /* lambdeck.json "mode" ("local"/"aws") or NULL */
	const char *project_profile; /* lambdeck.json "profile" or NULL */
	const char *project_region;  /* lambdeck.json "region" or NULL */
	const char *lambdeck_exe;    /* binary to run `emulate` with; NULL = /proc/self/exe */
	const char *state_dir;       /* emulator state dir; NULL = <project>/.lambdeck/emulator */
};

/* A ready client configuration: hand it to the aws client (aws.h). */
struct mode_config {
	enum mode_kind kind;
	const char *endpoint; /* "http://127.0.0.1:PORT" in LOCAL, --endpoint-url or NULL */
	const char *region;   /* always set ("us-east-1" when nothing else says) */
	const char *profile;  /* "lambdeck-local" in LOCAL; AWS: chosen profile or NULL */
	const char
	    *credentials_file;   /* LOCAL: the emulator's generated file; AWS: NULL (default) */
	const char *description; /* one line for the status bar, e.g.
	                            "LOCAL emulator 127.0.0.1:4566" or "AWS dev us-east-1" */
};

/* Pure selection by the rules above (reads no environment, no files). */
enum mode_kind mode_select(const struct mode_options *o);

struct mode;
typedef void (*mode_ready_fn)(void *user, const struct mode_config *cfg,
                              const struct lk_error *err);

/* Creates a mode object; does not start or contact anything yet. Copies the options. */
struct mode *mode_new(uv_loop_t *loop, const struct mode_options *o, struct lk_error *err);
/* Resolves the configuration: in AWS mode immediately (callback still deferred to the loop);
 * in LOCAL mode after attaching to / starting the emulator. cb is called once, with cfg
 * NULL and err set on failure. Calling it again after success calls cb with the same cfg. */
int mode_acquire(struct mode *m, mode_ready_fn cb, void *user);
/* Blocking convenience for the CLI: runs the loop until mode_acquire has completed. */
const struct mode_config *mode_acquire_sync(struct mode *m, struct lk_error *err);
/* The configuration once ready, else NULL. */
const struct mode_config *mode_config(const struct mode *m);
enum mode_kind mode_kind(const struct mode *m);
/* Status-bar text; available before ready ("LOCAL emulator starting…"). */
const char *mode_describe(const struct mode *m);
/* Fills aws client options (aws.h) from a ready configuration: LOCAL uses only the
 * emulator's credentials file (profile lambdeck-local, no config file, environment keys
 * ignored); AWS passes profile/region/endpoint (NULL = the AWS CLI's own resolution, so an
 * exported AWS_PROFILE supplies the credentials). Strings point into cfg. */
void mode_aws_options(const struct mode_config *cfg, struct aws_options *o);
/* Live user leases in <state_dir>/users other than the one named except (NULL: all);
 * leases of dead processes are removed. Used by mode_free and by the emulator's
 * --exit-when-unused check. */
int mode_live_leases(const char *state_dir, const char *except);
/* The lease registry lock above: returns a descriptor holding it, or -1 with errno
 * EWOULDBLOCK when another process holds it (never blocks), or another errno when it cannot
 * be opened. share: the state dir is shared with the group (lock file mode 0660). */
int mode_users_lock(const char *state_dir, bool share);
/* Releases the lock (closes fd); accepts -1. */
void mode_users_unlock(int fd);
/* Releases the lease; stops the emulator this object started when it is the last user and
 * keep_emulator is off. Closes its loop handles (run the loop once more to finish closing).
 * Accepts NULL. */
void mode_free(struct mode *m);

#endif
