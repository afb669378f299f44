/* deploy_state.c - the per-function deploy state files under .lambdeck/deploy/, shared by
 * every console and CLI process on the project. See deploy.h. */
#include "backend/deploy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

char *deploy_state_dir(const char *project_dir)
{
	return util_path_join(project_dir, ".lambdeck/deploy");
}

/* A function name is a file name here: refuse what could leave the directory. */
static bool name_ok(const char *function)
{
	return function && *function && function[0] != '.' && !strchr(function, '/');
}

char *deploy_state_path(const char *project_dir, const char *function)
{
	char *dir = deploy_state_dir(project_dir);
	struct buf b = {0};

	buf_printf(&b, "%s/%s.json", dir, function);
	free(dir);
	return buf_steal(&b);
}

int deploy_state_write(const char *project_dir, const struct deploy_result *res, bool local,
                       struct lk_error *err)
{
	cJSON *o;
	char *dir, *path, *text;
	int rc;

	if (!name_ok(res->function))
		return lk_error_set(err, "InvalidName", "cannot record deploy state of '%s'",
		                    res->function ? res->function : "");
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "function", res->function);
	cJSON_AddStringToObject(o, "outcome", deploy_outcome_name(res->outcome));
	cJSON_AddStringToObject(o, "code_sha256", res->code_sha256);
	if (res->deployed_name)
		cJSON_AddStringToObject(o, "deployed_name", res->deployed_name);
	cJSON_AddBoolToObject(o, "local", local);
	cJSON_AddNumberToObject(o, "time_ms", (double)util_now_ms());
	cJSON_AddNumberToObject(o, "elapsed_ms", res->elapsed_ms);
	cJSON_AddNumberToObject(o, "pid", (double)getpid());
	if (res->outcome == DEPLOY_FAILED) {
		struct buf e = {0};
		buf_printf(&e, "%s: %s", res->err.code, res->err.message);
		cJSON_AddStringToObject(o, "error", e.data ? e.data : "");
		buf_free(&e);
	}
	text = util_json_safe(cJSON_PrintUnformatted(o));
	cJSON_Delete(o);
	dir = deploy_state_dir(project_dir);
	path = deploy_state_path(project_dir, res->function);
	rc = util_mkdir_p(dir, 0777, err);
	if (rc == 0)
		rc = util_write_atomic(path, text, strlen(text), 0666, err);
	free(text);
	free(dir);
	free(path);
	return rc;
}

static char *str_or_null(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? xstrdup(v->valuestring) : NULL;
}

int deploy_state_read(const char *project_dir, const char *function, struct deploy_state *out,
                      struct lk_error *err)
{
	struct buf b = {0};
	struct lk_error rerr;
	cJSON *o, *v;
	char *path;

	memset(out, 0, sizeof(*out));
	if (!name_ok(function))
		return 1;
	path = deploy_state_path(project_dir, function);
	if (util_read_file(path, &b, &rerr) < 0) {
		int missing = access(path, F_OK) < 0 && errno == ENOENT;
		if (!missing)
			lk_error_set(err, "IOError", "%s: %s", path, rerr.message);
		free(path);
		return missing ? 1 : -1;
	}
	o = cJSON_ParseWithLength(b.data ? b.data : "", b.len);
	buf_free(&b);
	v = o ? cJSON_GetObjectItemCaseSensitive(o, "outcome") : NULL;
	if (!cJSON_IsString(v)) {
		lk_error_set(err, "InvalidState", "%s:1:1: not a deploy state object", path);
		cJSON_Delete(o);
		free(path);
		return -1;
	}
	free(path);
	out->outcome = xstrdup(v->valuestring);
	out->ok = strcmp(out->outcome, "failed") != 0 && strcmp(out->outcome, "cancelled") != 0;
	v = cJSON_GetObjectItemCaseSensitive(o, "code_sha256");
	if (cJSON_IsString(v))
		snprintf(out->code_sha256, sizeof(out->code_sha256), "%s", v->valuestring);
	out->deployed_name = str_or_null(o, "deployed_name");
	out->error = str_or_null(o, "error");
	out->local = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "local"));
	v = cJSON_GetObjectItemCaseSensitive(o, "time_ms");
	out->time_ms = cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
	v = cJSON_GetObjectItemCaseSensitive(o, "pid");
	out->pid = cJSON_IsNumber(v) ? v->valueint : 0;
	cJSON_Delete(o);
	return 0;
}

void deploy_state_clear(struct deploy_state *s)
{
	free(s->outcome);
	free(s->deployed_name);
	free(s->error);
	memset(s, 0, sizeof(*s));
}
