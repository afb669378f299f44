/* fnstatus.c - build and deploy status per function. See fnstatus.h. */
#include "backend/fnstatus.h"

#include <stdlib.h>
#include <string.h>

#include "backend/build.h"
#include "backend/project.h"

int fnstatus_compute(const char *dir, struct fn_status **out, size_t *n, struct lk_error *err)
{
	struct project *p = NULL;
	struct lk_error ignored;

	*out = NULL;
	*n = 0;
	if (project_load(dir, &p, err) != 0) {
		project_free(p);
		return -1;
	}
	*out = xcalloc(p->n_functions + 1, sizeof(**out));
	for (size_t i = 0; i < p->n_functions; i++) {
		struct build_status bs = {0};
		struct fn_status *o = &(*out)[(*n)++];

		o->name = xstrdup(p->functions[i].name);
		o->buildable = p->functions[i].buildable;
		if (o->buildable && build_status_get(p, &p->functions[i], &bs, &ignored) == 0) {
			o->built = bs.built;
			o->modified = bs.modified;
			memcpy(o->code_sha256, bs.code_sha256, sizeof(o->code_sha256));
		}
		switch (deploy_state_read(dir, o->name, &o->ds, &ignored)) {
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
	project_free(p);
	return 0;
}

enum fnstatus_build fnstatus_build(const struct fn_status *s)
{
	if (!s->buildable)
		return FNSTATUS_NOT_BUILDABLE;
	if (!s->built)
		return FNSTATUS_NOT_BUILT;
	return s->modified ? FNSTATUS_MODIFIED : FNSTATUS_BUILT;
}

enum fnstatus_deploy fnstatus_deploy(const struct fn_status *s)
{
	if (s->deploy == 0)
		return FNSTATUS_NEVER;
	if (s->deploy < 0 || !s->ds.ok)
		return FNSTATUS_FAILED;
	return s->built && !s->modified && s->ds.code_sha256[0] &&
	               !strcmp(s->ds.code_sha256, s->code_sha256)
	           ? FNSTATUS_CURRENT
	           : FNSTATUS_BEHIND;
}

const char *fnstatus_build_name(enum fnstatus_build b)
{
	static const char *const names[] = {"not buildable", "not built", "built", "modified"};

	return names[b];
}

const char *fnstatus_deploy_name(enum fnstatus_deploy d)
{
	static const char *const names[] = {"never", "failed", "current", "behind"};

	return names[d];
}

void fnstatus_free(struct fn_status *s, size_t n)
{
	if (!s)
		return;
	for (size_t i = 0; i < n; i++) {
		free(s[i].name);
		deploy_state_clear(&s[i].ds);
	}
	free(s);
}
