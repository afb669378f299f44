/* fnstatus.h - each function's build and deploy status as the Functions pane's badges show
 * it and `lambdeck functions --status` prints it: built or not, source modified since the
 * build, and whether the last quick deploy (the shared deploy state, backend/deploy.h)
 * carries the current build.
 *
 * Blocking (reads the project and hashes its code): the console calls it on the thread
 * pool, the CLI directly. */
#ifndef LAMBDECK_FNSTATUS_H
#define LAMBDECK_FNSTATUS_H

#include <stdbool.h>
#include <stddef.h>

#include "backend/deploy.h"
#include "backend/util.h"

enum fnstatus_build {
	FNSTATUS_NOT_BUILDABLE, /* inline code, image, unknown runtime: nothing to build */
	FNSTATUS_NOT_BUILT,
	FNSTATUS_BUILT,    /* the build is the code on disk */
	FNSTATUS_MODIFIED, /* built, and the code changed since */
};

enum fnstatus_deploy {
	FNSTATUS_NEVER,   /* no deploy recorded */
	FNSTATUS_FAILED,  /* the last deploy failed (or its record is unreadable) */
	FNSTATUS_CURRENT, /* the deployed code is the current build and nothing changed */
	FNSTATUS_BEHIND,  /* deployed, but the local code moved on */
};

struct fn_status {
	char *name;
	bool buildable, built, modified;
	char code_sha256[48]; /* of the last build */
	int deploy;           /* 0 no state, 1 read, -1 unreadable */
	struct deploy_state ds;
};

/* Loads the project in dir (project_load) and fills *out with one entry per function, in
 * project order. Returns -1 with err when the project does not load. */
int fnstatus_compute(const char *dir, struct fn_status **out, size_t *n, struct lk_error *err);
enum fnstatus_build fnstatus_build(const struct fn_status *s);
enum fnstatus_deploy fnstatus_deploy(const struct fn_status *s);
/* "not buildable", "not built", "built", "modified"; "never", "failed", "current",
 * "behind". */
const char *fnstatus_build_name(enum fnstatus_build b);
const char *fnstatus_deploy_name(enum fnstatus_deploy d);
/* Accepts NULL. */
void fnstatus_free(struct fn_status *s, size_t n);

#endif
