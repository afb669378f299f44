/* deploy.c - quick deploy: build, compare CodeSha256, UpdateFunctionCode (inline or via S3),
 * wait for LastUpdateStatus, retry conflicts; create/configure in local mode. See deploy.h. */
#include "backend/deploy.h"

#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "backend/aws/aws.h"
#include "backend/childguard.h"
#include "backend/fswatch.h"

#define DEFAULT_PARALLEL         4
#define DEFAULT_ZIPFILE_LIMIT    (50ull * 1024 * 1024)
#define DEFAULT_CONFLICT_RETRIES 8
#define WAIT_TIMEOUT_MS          (5 * 60 * 1000)
#define LOCAL_ROLE               "arn:aws:iam::000000000000:role/lambdeck-local"

const char *deploy_phase_name(enum deploy_phase phase)
{
	switch (phase) {
	case DEPLOY_PHASE_QUEUED:
		return "queued";
	case DEPLOY_PHASE_BUILD:
		return "build";
	case DEPLOY_PHASE_CHECK:
		return "check";
	case DEPLOY_PHASE_UPLOAD:
		return "upload";
	case DEPLOY_PHASE_WAIT:
		return "wait";
	case DEPLOY_PHASE_CONFIG:
		return "config";
	case DEPLOY_PHASE_DONE:
		return "done";
	}
	return "?";
}

const char *deploy_outcome_name(enum deploy_outcome o)
{
	switch (o) {
	case DEPLOY_UPDATED:
		return "updated";
	case DEPLOY_CREATED:
		return "created";
	case DEPLOY_UNCHANGED:
		return "unchanged";
	case DEPLOY_FAILED:
		return "failed";
	case DEPLOY_CANCELLED:
		return "cancelled";
	}
	return "?";
}

/* ---------------------------------------------------------------- project copies */

/* The deploy job keeps its own copy of what it needs, so the caller may reload the project. */
static void fn_copy(struct project_function *d, const struct project_function *s)
{
	memset(d, 0, sizeof(*d));
	d->name = xstrdup(s->name);
	d->runtime = xstrdup(s->runtime);
	d->handler = xstrdup(s->handler);
	d->code_dir = xstrdup(s->code_dir);
	d->timeout = s->timeout;
	d->memory = s->memory;
	d->n_env = s->n_env;
	d->env = xcalloc(s->n_env + 1, sizeof(*d->env));
	for (size_t i = 0; i < s->n_env; i++) {
		d->env[i].name = xstrdup(s->env[i].name);
		d->env[i].value = xstrdup(s->env[i].value);
	}
	d->n_exclude = s->n_exclude;
	d->exclude = xcalloc(s->n_exclude + 1, sizeof(*d->exclude));
	for (size_t i = 0; i < s->n_exclude; i++)
		d->exclude[i] = xstrdup(s->exclude[i]);
	d->deployed_name = xstrdup(s->deployed_name);
	d->buildable = s->buildable;
	d->not_buildable = xstrdup(s->not_buildable);
	d->build_method = xstrdup(s->build_method); /* what its build needs (backend/build.c) */
	d->source_file = xstrdup(s->source_file);
	d->n_build_props = s->n_build_props;
	d->build_props = xcalloc(s->n_build_props + 1, sizeof(*d->build_props));
	for (size_t i = 0; i < s->n_build_props; i++)
		d->build_props[i] = xstrdup(s->build_props[i]);
}

static void fn_free(struct project_function *f)
{
	free(f->name);
	free(f->runtime);
	free(f->handler);
	free(f->code_dir);
	for (size_t i = 0; i < f->n_env; i++) {
		free(f->env[i].name);
		free(f->env[i].value);
	}
	free(f->env);
	for (size_t i = 0; i < f->n_exclude; i++)
		free(f->exclude[i]);
	free(f->exclude);
	free(f->deployed_name);
	free(f->not_buildable);
	free(f->build_method);
	free(f->source_file);
	for (size_t i = 0; i < f->n_build_props; i++)
		free(f->build_props[i]);
	free(f->build_props);
}

/* ---------------------------------------------------------------- the job */

struct deploy_job;

struct deploy_fn {
	struct deploy_job *job;
	size_t index;
	struct project_function fn; /* copy; fn.name empty when the name was unknown */
	char *requested;            /* the name as asked for */
	char *deployed_name;
	enum deploy_phase phase;
	bool started, finished;
	int stage;
	bool need_create;
	struct build_job *build;
	struct aws_op *op;
	uv_timer_t timer;
	bool timer_init;
	void (*timer_next)(struct deploy_fn *d);
	int conflict_attempt;
	int64_t wait_started_ms;
	int wait_polls;
	bool code_pending;   /* code must still be uploaded */
	bool config_pending; /* configuration must still be pushed */
	cJSON *desired;      /* local mode: desired configuration */
	struct buf zip;      /* artifact bytes for ZipFile */
	uv_work_t read_work;
	int read_errno;
	bool reading;
	uint64_t start_ns;
	struct deploy_result res;
};

struct deploy_job {
	uv_loop_t *loop;
	struct aws_client *client;
	struct project proj; /* dir + artifact bucket; functions unused */
	struct deploy_opts opts;
	char *artifact_bucket;
	char *role_arn;
	struct deploy_callbacks cb;
	void *user;
	struct deploy_fn *fns;
	size_t n, running, finished;
	bool cancelled, all_done_called;
	int closing; /* timer handles still closing */
	uv_timer_t kick;
};

static void fn_step(struct deploy_fn *d);
static void start_more(struct deploy_job *j);

/* Reports progress. Returns false when the function finished meanwhile (the callback may
 * cancel the job): the caller must then not start anything. */
static bool progress(struct deploy_fn *d, enum deploy_phase phase, uint64_t done, uint64_t total)
{
	d->phase = phase;
	if (d->job->cb.progress)
		d->job->cb.progress(d->job->user, d->res.function, phase, done, total);
	return !d->finished && !d->job->cancelled;
}

static void job_free(struct deploy_job *j)
{
	for (size_t i = 0; i < j->n; i++) {
		struct deploy_fn *d = &j->fns[i];

		fn_free(&d->fn);
		free(d->requested);
		free(d->deployed_name);
		cJSON_Delete(d->desired);
		buf_free(&d->zip);
		free((char *)d->res.build.function);
		free(d->res.build.zip_path);
	}
	free(j->fns);
	free(j->proj.dir);
	free(j->artifact_bucket);
	free(j->role_arn);
	free(j);
}

static void timer_closed(uv_handle_t *h)
{
	struct deploy_fn *d = h->data;
	struct deploy_job *j = d->job;

	if (--j->closing == 0)
		job_free(j);
}

static void kick_closed(uv_handle_t *h)
{
	struct deploy_job *j = h->data;

	if (--j->closing == 0)
		job_free(j);
}

static void maybe_all_done(struct deploy_job *j)
{
	struct deploy_result *results;
	size_t failures = 0;

	if (j->finished < j->n || j->all_done_called)
		return;
	for (size_t i = 0; i < j->n; i++)
		if (j->fns[i].reading || j->fns[i].build)
			return; /* wait for the thread-pool work / build to come back */
	j->all_done_called = true;
	results = xcalloc(j->n + 1, sizeof(*results));
	for (size_t i = 0; i < j->n; i++) {
		results[i] = j->fns[i].res;
		if (results[i].outcome == DEPLOY_FAILED || results[i].outcome == DEPLOY_CANCELLED)
			failures++;
	}
	j->cb.all_done(j->user, results, j->n, failures);
	free(results);
	j->closing++;
	uv_close((uv_handle_t *)&j->kick, kick_closed);
	for (size_t i = 0; i < j->n; i++) {
		if (j->fns[i].timer_init) {
			j->closing++;
			uv_close((uv_handle_t *)&j->fns[i].timer, timer_closed);
		}
	}
}

/* Completes one function with an outcome (err may be NULL). */
static void fn_finish(struct deploy_fn *d, enum deploy_outcome outcome, const struct lk_error *err)
{
	struct deploy_job *j = d->job;

	if (d->finished)
		return;
	d->finished = true;
	d->res.outcome = outcome;
	if (err)
		d->res.err = *err;
	d->res.elapsed_ms = (double)(util_monotonic_ns() - d->start_ns) / 1e6;
	if (d->timer_init)
		uv_timer_stop(&d->timer);
	if (d->started)
		j->running--;
	j->finished++;
	buf_free(&d->zip);
	/* Shared with the other processes on the project (deploy.h); a function that was never
	 * resolved (unknown name) or a cancelled attempt changes nothing there. */
	if (outcome != DEPLOY_CANCELLED && d->fn.name && *d->fn.name) {
		struct lk_error serr;
		if (deploy_state_write(j->proj.dir, &d->res, j->opts.local, &serr) < 0 &&
		    outcome != DEPLOY_FAILED && !d->res.err.message[0])
			snprintf(d->res.err.message, sizeof(d->res.err.message),
			         "deploy state not recorded: %.450s", serr.message);
	}
	(void)progress(d, DEPLOY_PHASE_DONE, 1, 1);
	if (j->cb.function_done)
		j->cb.function_done(j->user, &d->res);
	start_more(j);
	maybe_all_done(j);
}

static void fn_fail(struct deploy_fn *d, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fn_fail(struct deploy_fn *d, const char *code, const char *fmt, ...)
{
	struct lk_error e = {0};
	va_list ap;
	char msg[512];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	lk_error_set(&e, code, "%s", msg);
	fn_finish(d, d->job->cancelled ? DEPLOY_CANCELLED : DEPLOY_FAILED, &e);
}

static void fn_fail_aws(struct deploy_fn *d, const char *what, const struct aws_result *r)
{
	struct lk_error e = r->err;
	char detail[320];

	snprintf(detail, sizeof(detail), "%.319s", r->err.message);
	snprintf(e.message, sizeof(e.message), "%s %.100s: %.63s%s%s", what,
	         d->deployed_name ? d->deployed_name : d->res.function, r->err.code,
	         detail[0] ? ": " : "", detail);
	fn_finish(d, d->job->cancelled ? DEPLOY_CANCELLED : DEPLOY_FAILED, &e);
}

static void schedule(struct deploy_fn *d, uint64_t ms, void (*next)(struct deploy_fn *d));

static void timer_fired(uv_timer_t *t)
{
	struct deploy_fn *d = t->data;
	void (*next)(struct deploy_fn *) = d->timer_next;

	d->timer_next = NULL;
	if (next)
		next(d);
}

static void schedule(struct deploy_fn *d, uint64_t ms, void (*next)(struct deploy_fn *d))
{
	if (!d->timer_init) {
		uv_timer_init(d->job->loop, &d->timer);
		d->timer.data = d;
		d->timer_init = true;
	}
	d->timer_next = next;
	uv_timer_start(&d->timer, timer_fired, ms, 0);
}

/* ---- waiting for LastUpdateStatus */

static void wait_poll(struct deploy_fn *d);
static void after_wait(struct deploy_fn *d, const cJSON *config);

/* Looks at a configuration: true when settled; then *failed tells whether it failed. */
static bool config_settled(const cJSON *cfg, bool *failed, const char **reason)
{
	const char *state = NULL, *last = NULL;
	const cJSON *it;

	*failed = false;
	*reason = NULL;
	if ((it = cJSON_GetObjectItemCaseSensitive(cfg, "State")) && cJSON_IsString(it))
		state = it->valuestring;
	if ((it = cJSON_GetObjectItemCaseSensitive(cfg, "LastUpdateStatus")) && cJSON_IsString(it))
		last = it->valuestring;
	if (last && !strcmp(last, "Failed")) {
		*failed = true;
		it = cJSON_GetObjectItemCaseSensitive(cfg, "LastUpdateStatusReason");
		*reason = cJSON_IsString(it) ? it->valuestring : "no reason given";
		return true;
	}
	if (state && !strcmp(state, "Failed")) {
		*failed = true;
		it = cJSON_GetObjectItemCaseSensitive(cfg, "StateReason");
		*reason = cJSON_IsString(it) ? it->valuestring : "no reason given";
		return true;
	}
	if (state && !strcmp(state, "Pending"))
		return false;
	return !last || strcmp(last, "InProgress") != 0;
}

static void wait_done(void *user, struct aws_result *r)
{
	struct deploy_fn *d = user;
	bool failed;
	const char *reason;

	d->op = NULL;
	if (d->job->cancelled) {
		aws_result_free(r);
		fn_fail(d, "Cancelled", "cancelled while waiting for the update to finish");
		return;
	}
	if (!aws_result_ok(r)) {
		fn_fail_aws(d, "GetFunctionConfiguration", r);
		aws_result_free(r);
		return;
	}
	if (config_settled(r->json, &failed, &reason)) {
		if (failed)
			fn_fail(d, "UpdateFailed", "update of %s failed: %s", d->deployed_name,
			        reason);
		else
			after_wait(d, r->json);
		aws_result_free(r);
		return;
	}
	aws_result_free(r);
	if (util_now_ms() - d->wait_started_ms > WAIT_TIMEOUT_MS) {
		fn_fail(d, "WaitTimeout", "%s still InProgress after %d s", d->deployed_name,
		        WAIT_TIMEOUT_MS / 1000);
		return;
	}
	/* 100 ms, 200, 400, 800, then every second (SAM polls every second) */
	schedule(d, d->wait_polls < 4 ? 100u << d->wait_polls : 1000, wait_poll);
	d->wait_polls++;
}

static void wait_poll(struct deploy_fn *d)
{
	if (!progress(d, DEPLOY_PHASE_WAIT, (uint64_t)d->wait_polls, 0))
		return;
	d->op = aws_lambda_get_function_configuration(d->job->client, d->deployed_name, NULL,
	                                              wait_done, d);
}

/* An update was accepted; cfg is the configuration it returned. */
static void await_settled(struct deploy_fn *d, const cJSON *cfg)
{
	bool failed;
	const char *reason;

	if (cfg && config_settled(cfg, &failed, &reason)) {
		if (failed)
			fn_fail(d, "UpdateFailed", "update of %s failed: %s", d->deployed_name,
			        reason);
		else
			after_wait(d, cfg);
		return;
	}
	d->wait_started_ms = util_now_ms();
	d->wait_polls = 0;
	wait_poll(d);
}

static void after_wait(struct deploy_fn *d, const cJSON *config)
{
	const cJSON *sha = cJSON_GetObjectItemCaseSensitive(config, "CodeSha256");

	if (d->res.code_updated && !d->code_pending && cJSON_IsString(sha) &&
	    strcmp(sha->valuestring, d->res.code_sha256) != 0) {
		fn_fail(d, "CodeMismatch",
		        "%s reports CodeSha256 %s after the update, but the artifact is %s",
		        d->deployed_name, sha->valuestring, d->res.code_sha256);
		return;
	}
	fn_step(d);
}

/* Another update is still running: retry after 250 ms, 500 ms, 1 s, then every 2 s, up to
 * opts.conflict_retries times. Returns false when retries are exhausted. */
static bool retry_conflict(struct deploy_fn *d)
{
	int max = d->job->opts.conflict_retries > 0 ? d->job->opts.conflict_retries
	                                            : DEFAULT_CONFLICT_RETRIES;
	uint64_t delay;

	if (d->job->cancelled || d->conflict_attempt >= max)
		return false;
	d->conflict_attempt++;
	delay = d->conflict_attempt >= 4 ? 2000 : 125u << d->conflict_attempt;
	if (!progress(d, DEPLOY_PHASE_WAIT, (uint64_t)d->conflict_attempt, (uint64_t)max))
		return true; /* finished meanwhile: nothing more to do */
	schedule(d, delay, fn_step);
	return true;
}

/* ---- configuration (local mode) */

static cJSON *desired_config(const struct deploy_fn *d)
{
	cJSON *o = cJSON_CreateObject(), *vars;

	if (d->fn.runtime)
		cJSON_AddStringToObject(o, "Runtime", d->fn.runtime);
	if (d->fn.handler)
		cJSON_AddStringToObject(o, "Handler", d->fn.handler);
	cJSON_AddNumberToObject(o, "Timeout", d->fn.timeout > 0 ? d->fn.timeout : 3);
	cJSON_AddNumberToObject(o, "MemorySize", d->fn.memory > 0 ? d->fn.memory : 128);
	vars = cJSON_AddObjectToObject(cJSON_AddObjectToObject(o, "Environment"), "Variables");
	for (size_t i = 0; i < d->fn.n_env; i++)
		if (d->fn.env[i].value)
			cJSON_AddStringToObject(vars, d->fn.env[i].name, d->fn.env[i].value);
	return o;
}

/* True when the deployed configuration differs from the desired one. */
static bool config_differs(const cJSON *want, const cJSON *have)
{
	const cJSON *w, *h;

	cJSON_ArrayForEach(w, want)
	{
		h = cJSON_GetObjectItemCaseSensitive(have, w->string);
		if (!strcmp(w->string, "Environment")) {
			const cJSON *wv = cJSON_GetObjectItemCaseSensitive(w, "Variables");
			const cJSON *hv = cJSON_GetObjectItemCaseSensitive(
			    cJSON_GetObjectItemCaseSensitive(have, "Environment"), "Variables");

			if (cJSON_GetArraySize(wv) != (hv ? cJSON_GetArraySize(hv) : 0))
				return true;
			if (cJSON_GetArraySize(wv) && !cJSON_Compare(wv, hv, true))
				return true;
			continue;
		}
		if (!h || !cJSON_Compare(w, h, true))
			return true;
	}
	return false;
}

static void config_done(void *user, struct aws_result *r)
{
	struct deploy_fn *d = user;

	d->op = NULL;
	if (!aws_result_ok(r)) {
		if (!strcmp(r->err.code, "ResourceConflictException") && retry_conflict(d)) {
			aws_result_free(r);
			return;
		}
		fn_fail_aws(d, "UpdateFunctionConfiguration", r);
		aws_result_free(r);
		return;
	}
	d->config_pending = false;
	d->res.config_updated = true;
	await_settled(d, r->json);
	aws_result_free(r);
}

static void push_config(struct deploy_fn *d)
{
	if (!progress(d, DEPLOY_PHASE_CONFIG, 0, 1))
		return;
	d->op = aws_lambda_update_function_configuration(d->job->client, d->deployed_name,
	                                                 d->desired, config_done, d);
}

/* ---- code upload */

static void code_done(void *user, struct aws_result *r)
{
	struct deploy_fn *d = user;

	d->op = NULL;
	d->res.attempts++;
	if (!aws_result_ok(r)) {
		if (!strcmp(r->err.code, "ResourceConflictException") && retry_conflict(d)) {
			aws_result_free(r);
			return;
		}
		fn_fail_aws(d, d->res.via_s3 ? "UpdateFunctionCode (S3)" : "UpdateFunctionCode", r);
		aws_result_free(r);
		return;
	}
	d->code_pending = false;
	d->res.code_updated = true;
	buf_free(&d->zip);
	await_settled(d, r->json);
	aws_result_free(r);
}

static void upload_progress(void *user, const char *phase, uint64_t done, uint64_t total)
{
	(void)phase;
	progress(user, DEPLOY_PHASE_UPLOAD, done, total);
}

static void s3_done(void *user, struct aws_result *r)
{
	struct deploy_fn *d = user;
	char hex[65] = "";
	char *key;
	struct aws_update_code p = {0};
	size_t blen = 0;
	unsigned char *raw;

	d->op = NULL;
	if (!aws_result_ok(r)) {
		fn_fail(d, r->err.code[0] ? r->err.code : "S3Error", "PutObject to s3://%s: %s",
		        d->job->artifact_bucket, r->err.message);
		aws_result_free(r);
		return;
	}
	aws_result_free(r);
	raw = util_base64_decode(d->res.code_sha256, strlen(d->res.code_sha256), &blen);
	if (raw && blen == 32)
		util_hex(raw, 32, hex);
	free(raw);
	key = xasprintf("lambdeck/%s/%s.zip", d->fn.name, hex);
	p.function_name = d->deployed_name;
	p.s3_bucket = d->job->artifact_bucket;
	p.s3_key = key;
	d->op = aws_lambda_update_function_code(d->job->client, &p, code_done, d);
	free(key);
}

static void read_zip_work(uv_work_t *w)
{
	struct deploy_fn *d = w->data;

	buf_reset(&d->zip);
	d->read_errno =
	    util_read_file(d->res.build.zip_path, &d->zip, NULL) < 0 ? errno ? errno : EIO : 0;
}

static void read_zip_done(uv_work_t *w, int status)
{
	struct deploy_fn *d = w->data;

	d->reading = false;
	if (d->finished) {
		maybe_all_done(d->job);
		return;
	}
	if (status < 0 || d->job->cancelled) {
		fn_fail(d, "Cancelled", "cancelled");
		return;
	}
	if (d->read_errno) {
		fn_fail(d, "ReadError", "cannot read %s: %s", d->res.build.zip_path,
		        strerror(d->read_errno));
		return;
	}
	fn_step(d);
}

/* Sends the code: inline when small enough, else through the artifact bucket. */
static void upload_code(struct deploy_fn *d)
{
	struct deploy_job *j = d->job;
	uint64_t limit = j->opts.zipfile_limit ? j->opts.zipfile_limit : DEFAULT_ZIPFILE_LIMIT;
	uint64_t size = d->res.build.zip_size;

	if (size > limit) {
		char hex[65] = "";
		size_t blen = 0;
		unsigned char *raw;
		char *key;
		struct aws_s3_put put = {0};

		if (!j->artifact_bucket) {
			fn_fail(
			    d, "ArtifactBucketMissing",
			    "%s: the zip is %.1f MB, above the %.0f MB direct-upload limit; set "
			    "\"artifact_bucket\" in lambdeck.json to upload it through S3",
			    d->fn.name, (double)size / 1048576.0, (double)limit / 1048576.0);
			return;
		}
		d->res.via_s3 = true;
		raw = util_base64_decode(d->res.code_sha256, strlen(d->res.code_sha256), &blen);
		if (raw && blen == 32)
			util_hex(raw, 32, hex);
		free(raw);
		key = xasprintf("lambdeck/%s/%s.zip", d->fn.name, hex);
		put.bucket = j->artifact_bucket;
		put.key = key;
		put.file_path = d->res.build.zip_path;
		put.content_type = "application/zip";
		if (!progress(d, DEPLOY_PHASE_UPLOAD, 0, size)) {
			free(key);
			return;
		}
		d->op = aws_s3_put_object(j->client, &put, s3_done, d);
		aws_op_set_progress(d->op, upload_progress);
		free(key);
		return;
	}
	if (d->zip.len != size || !d->zip.data) {
		/* read on the thread pool: the loop never blocks on the disk */
		d->reading = true;
		d->read_work.data = d;
		if (uv_queue_work(j->loop, &d->read_work, read_zip_work, read_zip_done) < 0) {
			d->reading = false;
			fn_fail(d, "DeployError", "cannot queue reading %s", d->res.build.zip_path);
		}
		return;
	}
	if (!progress(d, DEPLOY_PHASE_UPLOAD, 0, size))
		return;
	{
		struct aws_update_code p = {
		    .function_name = d->deployed_name,
		    .zip = d->zip.data,
		    .zip_len = d->zip.len,
		};

		d->op = aws_lambda_update_function_code(j->client, &p, code_done, d);
		aws_op_set_progress(d->op, upload_progress);
	}
}

/* ---- creating a function (local mode) */

static void create_done(void *user, struct aws_result *r)
{
	struct deploy_fn *d = user;

	d->op = NULL;
	if (!aws_result_ok(r)) {
		fn_fail_aws(d, "CreateFunction", r);
		aws_result_free(r);
		return;
	}
	d->need_create = false;
	d->code_pending = false;
	d->config_pending = false;
	d->res.code_updated = true;
	d->res.outcome = DEPLOY_CREATED;
	buf_free(&d->zip);
	await_settled(d, r->json);
	aws_result_free(r);
}

static void create_function(struct deploy_fn *d)
{
	cJSON *body = cJSON_Duplicate(d->desired, true);

	if (d->zip.len != d->res.build.zip_size || !d->zip.data) {
		cJSON_Delete(body);
		d->reading = true;
		d->read_work.data = d;
		if (uv_queue_work(d->job->loop, &d->read_work, read_zip_work, read_zip_done) < 0) {
			d->reading = false;
			fn_fail(d, "DeployError", "cannot queue reading %s", d->res.build.zip_path);
		}
		return;
	}
	cJSON_AddStringToObject(body, "FunctionName", d->deployed_name);
	cJSON_AddStringToObject(body, "Role", d->job->role_arn ? d->job->role_arn : LOCAL_ROLE);
	if (!cJSON_GetObjectItemCaseSensitive(body, "Handler") && d->fn.runtime &&
	    !strncmp(d->fn.runtime, "provided", 8))
		cJSON_AddStringToObject(body, "Handler", "bootstrap");
	aws_create_code_zip(body, d->zip.data, d->zip.len);
	if (!progress(d, DEPLOY_PHASE_UPLOAD, 0, d->zip.len)) {
		cJSON_Delete(body);
		return;
	}
	d->op = aws_lambda_create_function(d->job->client, body, create_done, d);
	cJSON_Delete(body);
}

/* ---- the per-function state machine */

enum stage { STAGE_BUILD, STAGE_RESOLVE, STAGE_CHECK, STAGE_ACT };

static void build_output(void *user, const char *function, const char *data, size_t len)
{
	struct deploy_fn *d = user;

	if (d->job->opts.on_output)
		d->job->opts.on_output(d->job->user, function, data, len);
}

static void build_progress(void *user, const char *function, enum build_phase phase, uint64_t done,
                           uint64_t total)
{
	struct deploy_fn *d = user;

	(void)function;
	if (phase != BUILD_PHASE_DONE)
		(void)progress(d, DEPLOY_PHASE_BUILD, done, total);
}

static void build_done(void *user, const struct build_result *r)
{
	struct deploy_fn *d = user;

	d->build = NULL;
	d->res.build = *r;
	d->res.build.function = xstrdup(r->function);
	d->res.build.zip_path = xstrdup(r->zip_path);
	if (d->finished) { /* cancelled meanwhile */
		maybe_all_done(d->job);
		return;
	}
	if (r->outcome != BUILD_OK && r->outcome != BUILD_UNCHANGED) {
		fn_finish(d, r->outcome == BUILD_CANCELLED ? DEPLOY_CANCELLED : DEPLOY_FAILED,
		          &r->err);
		return;
	}
	snprintf(d->res.code_sha256, sizeof(d->res.code_sha256), "%s", r->code_sha256);
	d->stage = STAGE_RESOLVE;
	fn_step(d);
}

static void check_done(void *user, struct aws_result *r)
{
	struct deploy_fn *d = user;
	const cJSON *cfg, *sha;

	d->op = NULL;
	if (!aws_result_ok(r)) {
		if (!strcmp(r->err.code, "ResourceNotFoundException") && d->job->opts.local) {
			d->need_create = true;
			d->stage = STAGE_ACT;
			aws_result_free(r);
			fn_step(d);
			return;
		}
		if (!strcmp(r->err.code, "ResourceNotFoundException")) {
			fn_fail(
			    d, r->err.code,
			    "%s is not deployed in this account/region yet: create it once with "
			    "the full deploy ('lambdeck deploy --full')",
			    d->deployed_name);
			aws_result_free(r);
			return;
		}
		fn_fail_aws(d, "GetFunction", r);
		aws_result_free(r);
		return;
	}
	cfg = cJSON_GetObjectItemCaseSensitive(r->json, "Configuration");
	sha = cJSON_GetObjectItemCaseSensitive(cfg, "CodeSha256");
	d->code_pending = d->job->opts.force || !cJSON_IsString(sha) ||
	                  strcmp(sha->valuestring, d->res.code_sha256) != 0;
	d->config_pending = d->job->opts.local && config_differs(d->desired, cfg);
	aws_result_free(r);
	d->stage = STAGE_ACT;
	fn_step(d);
}

static void resolve_done(void *user, struct aws_result *r)
{
	struct deploy_fn *d = user;
	const cJSON *list, *it;
	size_t n = 0;
	struct buf names = {0};

	d->op = NULL;
	if (!aws_result_ok(r)) {
		fn_fail_aws(d, "resolving the deployed name of", r);
		aws_result_free(r);
		return;
	}
	list = cJSON_GetObjectItemCaseSensitive(r->json, "ResourceTagMappingList");
	cJSON_ArrayForEach(it, list)
	{
		const cJSON *arn = cJSON_GetObjectItemCaseSensitive(it, "ResourceARN");

		if (!cJSON_IsString(arn))
			continue;
		if (n++ == 0) {
			free(d->deployed_name);
			d->deployed_name = xstrdup(arn->valuestring);
		}
		buf_printf(&names, "%s%s", names.len ? ", " : "", arn->valuestring);
	}
	aws_result_free(r);
	if (n == 0) {
		fn_fail(
		    d, "ResourceNotFoundException",
		    "no deployed function is tagged aws:cloudformation:logical-id=%s: deploy the "
		    "stack once with 'lambdeck deploy --full'",
		    d->fn.name);
	} else if (n > 1) {
		fn_fail(
		    d, "AmbiguousFunction",
		    "%zu deployed functions carry the logical id %s (%s): set \"deployed_name\" "
		    "in lambdeck.json",
		    n, d->fn.name, names.data);
	} else {
		d->res.deployed_name = d->deployed_name;
		d->stage = STAGE_CHECK;
		fn_step(d);
	}
	buf_free(&names);
}

static void fn_step(struct deploy_fn *d)
{
	struct deploy_job *j = d->job;

	if (d->finished)
		return;
	if (j->cancelled) {
		fn_fail(d, "Cancelled", "cancelled");
		return;
	}
	switch (d->stage) {
	case STAGE_BUILD: {
		struct build_opts bo = {.full = j->opts.full_build, .on_output = build_output};

		if (!progress(d, DEPLOY_PHASE_BUILD, 0, 0))
			return;
		d->build =
		    build_start(j->loop, &j->proj, &d->fn, &bo, build_progress, build_done, d);
		return;
	}
	case STAGE_RESOLVE:
		if (d->deployed_name || j->opts.local) {
			if (!d->deployed_name)
				d->deployed_name = xstrdup(d->fn.name);
			d->res.deployed_name = d->deployed_name;
			d->stage = STAGE_CHECK;
			fn_step(d);
			return;
		}
		{
			const char *values[] = {d->fn.name, NULL};
			const char *types[] = {"lambda:function", NULL};
			struct aws_tag_filter f = {.key = "aws:cloudformation:logical-id",
			                           .values = values};
			struct aws_tagging_query q = {.filters = &f,
			                              .n_filters = 1,
			                              .resource_types = types,
			                              .all_pages = true};

			if (!progress(d, DEPLOY_PHASE_CHECK, 0, 0))
				return;
			d->op = aws_tagging_get_resources(j->client, &q, resolve_done, d);
		}
		return;
	case STAGE_CHECK:
		if (!progress(d, DEPLOY_PHASE_CHECK, 0, 0))
			return;
		d->op = aws_lambda_get_function(j->client, d->deployed_name, NULL, check_done, d);
		return;
	case STAGE_ACT:
		if (d->need_create) {
			create_function(d);
		} else if (d->config_pending) {
			push_config(d);
		} else if (d->code_pending) {
			upload_code(d);
		} else {
			enum deploy_outcome o = d->res.outcome == DEPLOY_CREATED ? DEPLOY_CREATED
			                        : d->res.code_updated || d->res.config_updated
			                            ? DEPLOY_UPDATED
			                            : DEPLOY_UNCHANGED;

			fn_finish(d, o, NULL);
		}
		return;
	}
}

static void start_more(struct deploy_job *j)
{
	int parallel = j->opts.parallel > 0 ? j->opts.parallel : DEFAULT_PARALLEL;

	for (size_t i = 0; i < j->n && !j->cancelled && j->running < (size_t)parallel; i++) {
		struct deploy_fn *d = &j->fns[i];

		if (d->started || d->finished)
			continue;
		d->started = true;
		j->running++;
		d->start_ns = util_monotonic_ns();
		d->stage = STAGE_BUILD;
		fn_step(d);
	}
}

static void kick_cb(uv_timer_t *t)
{
	struct deploy_job *j = t->data;

	/* unknown names and unbuildable functions fail right away; the others start */
	for (size_t i = 0; i < j->n; i++) {
		struct deploy_fn *d = &j->fns[i];

		if (d->finished)
			continue;
		d->start_ns = util_monotonic_ns();
		if (!d->fn.name) {
			fn_fail(d, "FunctionNotFound", "%s: no such function in the project",
			        d->requested);
		} else if (!d->fn.buildable) {
			fn_fail(d, "NotBuildable", "%s: cannot be quick-deployed (%s); use --full",
			        d->fn.name,
			        d->fn.not_buildable ? d->fn.not_buildable : "no local code");
		} else {
			(void)progress(d, DEPLOY_PHASE_QUEUED, 0, 0);
		}
	}
	start_more(j);
	maybe_all_done(j);
}

struct deploy_job *deploy_start(uv_loop_t *loop, struct aws_client *client, const struct project *p,
                                const char *const *names, size_t n, const struct deploy_opts *opts,
                                const struct deploy_callbacks *cb, void *user)
{
	struct deploy_job *j = xcalloc(1, sizeof(*j));

	j->loop = loop;
	j->client = client;
	j->proj.dir = xstrdup(p->dir);
	j->proj.skip_deps = p->skip_deps; /* the builds it starts honour --skip-deps */
	if (opts)
		j->opts = *opts;
	j->artifact_bucket =
	    xstrdup(j->opts.artifact_bucket ? j->opts.artifact_bucket : p->artifact_bucket);
	j->role_arn = xstrdup(j->opts.role_arn);
	j->opts.artifact_bucket = NULL;
	j->opts.role_arn = NULL;
	j->cb = *cb;
	j->user = user;
	if (!names || n == 0) {
		j->fns = xcalloc(p->n_functions + 1, sizeof(*j->fns));
		for (size_t i = 0; i < p->n_functions; i++)
			if (p->functions[i].buildable)
				fn_copy(&j->fns[j->n++].fn, &p->functions[i]);
	} else {
		j->fns = xcalloc(n, sizeof(*j->fns));
		for (size_t i = 0; i < n; i++) {
			const struct project_function *f = project_find(p, names[i]);
			bool dup = false;

			for (size_t k = 0; k < j->n && !dup;
			     k++) /* a name given twice deploys once */
				dup = !strcmp(j->fns[k].requested, names[i]);
			if (dup)
				continue;

			j->fns[j->n].requested = xstrdup(names[i]);
			if (f)
				fn_copy(&j->fns[j->n].fn, f);
			j->n++;
		}
	}
	for (size_t i = 0; i < j->n; i++) {
		struct deploy_fn *d = &j->fns[i];

		d->job = j;
		d->index = i;
		d->res.function = d->fn.name ? d->fn.name : d->requested;
		d->res.outcome = DEPLOY_FAILED;
		d->deployed_name = xstrdup(d->fn.deployed_name);
		d->res.deployed_name = d->deployed_name;
		if (d->fn.name)
			d->desired = desired_config(d);
	}
	uv_timer_init(loop, &j->kick);
	j->kick.data = j;
	uv_timer_start(&j->kick, kick_cb, 0, 0);
	return j;
}

void deploy_cancel(struct deploy_job *j)
{
	if (!j || j->cancelled || j->all_done_called)
		return;
	j->cancelled = true;
	for (size_t i = 0; i < j->n; i++) {
		struct deploy_fn *d = &j->fns[i];

		if (d->finished)
			continue;
		if (d->build) {
			build_cancel(d->build); /* finishes through build_done */
			continue;
		}
		if (d->reading)
			continue; /* finishes through read_zip_done */
		if (d->op) {
			bool sent_update =
			    d->phase == DEPLOY_PHASE_UPLOAD || d->phase == DEPLOY_PHASE_CONFIG;

			aws_op_cancel(d->op);
			d->op = NULL;
			if (sent_update) {
				fn_fail(
				    d, "Cancelled",
				    "cancelled during the upload: the service may still apply it; "
				    "run the deploy again to confirm");
				continue;
			}
		}
		if (d->started || !d->finished)
			fn_fail(d, "Cancelled", "cancelled");
	}
}

/* ---------------------------------------------------------------- full deploy */

static char **argv_dup(const char *const *argv)
{
	size_t n = 0;
	char **out;

	while (argv[n])
		n++;
	out = xcalloc(n + 1, sizeof(*out));
	for (size_t i = 0; i < n; i++)
		out[i] = xstrdup(argv[i]);
	return out;
}

void deploy_argv_free(char **argv)
{
	if (!argv)
		return;
	for (size_t i = 0; argv[i]; i++)
		free(argv[i]);
	free(argv);
}

static bool project_has(const struct project *p, const char *name)
{
	char *path = util_path_join(p->dir, name);
	bool yes = util_is_file(path);

	free(path);
	return yes;
}

char **deploy_full_argv(const struct project *p, struct lk_error *err)
{
	static const char *const sam[] = {"sam", "deploy", NULL};
	static const char *const sls[] = {"serverless", "deploy", NULL};

	if (p->deploy_argv && p->deploy_argv[0])
		return argv_dup((const char *const *)p->deploy_argv);
	if (project_has(p, "samconfig.toml"))
		return argv_dup(sam);
	if (project_has(p, "serverless.yml") || project_has(p, "serverless.yaml") ||
	    p->kind == PROJECT_SERVERLESS)
		return argv_dup(sls);
	if (p->kind == PROJECT_SAM)
		lk_error_set(
		    err, "NoDeployCommand",
		    "no samconfig.toml in %s: run 'sam deploy --guided' there once, or set "
		    "\"deploy\": [\"command\", \"args\"...] in lambdeck.json",
		    p->dir);
	else
		lk_error_set(
		    err, "NoDeployCommand",
		    "no full-deploy command for %s: set \"deploy\": [\"command\", \"args\"...] "
		    "in lambdeck.json (or add samconfig.toml / serverless.yml)",
		    p->dir);
	return NULL;
}

struct deploy_full_job {
	uv_process_t proc;
	uv_pipe_t pipes[2];
	int pending;
	int64_t status;
	int signal;
	void (*on_output)(void *user, const char *data, size_t len);
	void (*on_exit)(void *user, int status, const struct lk_error *err);
	void *user;
};

static void full_closed(uv_handle_t *h)
{
	struct deploy_full_job *f = h->data;
	struct lk_error e = {0};

	if (--f->pending)
		return;
	if (f->signal) {
		lk_error_set(&e, "DeployFailed", "the deploy command was killed by signal %d",
		             f->signal);
		f->on_exit(f->user, 128 + f->signal, &e);
	} else if (f->status != 0) {
		lk_error_set(&e, "DeployFailed", "the deploy command exited with status %lld",
		             (long long)f->status);
		f->on_exit(f->user, (int)f->status, &e);
	} else {
		f->on_exit(f->user, 0, NULL);
	}
	free(f);
}

static void full_exit(uv_process_t *p, int64_t status, int sig)
{
	struct deploy_full_job *f = p->data;

	f->status = status;
	f->signal = sig;
	uv_close((uv_handle_t *)p, full_closed);
}

static void full_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
	(void)h;
	b->base = xmalloc(suggested);
	b->len = suggested;
}

static void full_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct deploy_full_job *f = s->data;

	if (n > 0 && f->on_output)
		f->on_output(f->user, b->base, (size_t)n);
	else if (n < 0) {
		uv_read_stop(s);
		uv_close((uv_handle_t *)s, full_closed);
	}
	free(b->base);
}

static void full_abandon_closed(uv_handle_t *h)
{
	struct deploy_full_job *f = h->data;

	if (--f->pending == 0)
		free(f);
}

static const char *tool_hint(const char *tool)
{
	if (!strcmp(tool, "sam"))
		return "install the AWS SAM CLI "
		       "(https://docs.aws.amazon.com/serverless-application-"
		       "model/latest/developerguide/install-sam-cli.html)";
	if (!strcmp(tool, "serverless") || !strcmp(tool, "sls"))
		return "install the Serverless Framework (npm install -g serverless)";
	return "install it or fix \"deploy\" in lambdeck.json";
}

struct deploy_full_job *
deploy_full_start(uv_loop_t *loop, const struct project *p,
                  void (*on_output)(void *user, const char *data, size_t len),
                  void (*on_exit)(void *user, int status, const struct lk_error *err), void *user,
                  struct lk_error *err)
{
	char **argv = deploy_full_argv(p, err);
	char **gargv;
	struct deploy_full_job *f;
	uv_stdio_container_t stdio[3];
	uv_process_options_t o = {0};
	int rc;

	if (!argv)
		return NULL;
	f = xcalloc(1, sizeof(*f));
	f->on_output = on_output;
	f->on_exit = on_exit;
	f->user = user;
	for (int i = 0; i < 2; i++) {
		uv_pipe_init(loop, &f->pipes[i], 0);
		f->pipes[i].data = f;
	}
	stdio[0].flags = UV_IGNORE;
	stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	stdio[1].data.stream = (uv_stream_t *)&f->pipes[0];
	stdio[2].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	stdio[2].data.stream = (uv_stream_t *)&f->pipes[1];
	gargv = childguard_argv(argv, p->dir); /* the group does not outlive lambdeck */
	o.file = gargv[0];
	o.args = gargv;
	o.cwd = p->dir;
	o.stdio = stdio;
	o.stdio_count = 3;
	o.exit_cb = full_exit;
	/* Its own process group, so cancelling reaches what the tool starts (sam, npm...). */
	o.flags = UV_PROCESS_DETACHED;
	f->proc.data = f;
	if (on_output) {
		struct buf banner = {0};

		buf_puts(&banner, "$");
		for (size_t i = 0; argv[i]; i++)
			buf_printf(&banner, " %s", argv[i]);
		buf_putc(&banner, '\n');
		on_output(user, banner.data, banner.len);
		buf_free(&banner);
	}
	rc = uv_spawn(loop, &f->proc, &o);
	childguard_argv_free(gargv);
	if (rc < 0) {
		if (rc == UV_ENOENT)
			lk_error_set(err, "ToolNotFound", "%s: command not found in PATH: %s",
			             argv[0], tool_hint(argv[0]));
		else
			lk_error_set(err, "DeployFailed", "cannot start %s: %s", argv[0],
			             uv_strerror(rc));
		/* nothing was started: close the handles and free once they are closed */
		f->pending = 3;
		uv_close((uv_handle_t *)&f->pipes[0], full_abandon_closed);
		uv_close((uv_handle_t *)&f->pipes[1], full_abandon_closed);
		uv_close((uv_handle_t *)&f->proc, full_abandon_closed);
		deploy_argv_free(argv);
		return NULL;
	}
	deploy_argv_free(argv);
	f->pending = 3;
	uv_read_start((uv_stream_t *)&f->pipes[0], full_alloc, full_read);
	uv_read_start((uv_stream_t *)&f->pipes[1], full_alloc, full_read);
	return f;
}

void deploy_full_cancel(struct deploy_full_job *f)
{
	if (f && !uv_is_closing((uv_handle_t *)&f->proc) && f->proc.pid > 0)
		uv_kill(-f->proc.pid, SIGTERM); /* the whole group (UV_PROCESS_DETACHED: setsid) */
}

/* ---------------------------------------------------------------- watch */

#define WATCH_DEBOUNCE_MS 100

struct deploy_watch {
	uv_loop_t *loop;
	struct aws_client *client;
	struct project proj; /* dir, artifact bucket and copies of the functions */
	struct deploy_opts opts;
	char *artifact_bucket, *role_arn;
	struct deploy_watch_callbacks cb;
	void *user;
	struct fswatch **watches;
	size_t n_watches;
	bool *pending;
	char *pending_path;
	struct deploy_job *running;
	bool stopping;
};

bool deploy_watch_ignored(const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	if (!*base || fswatch_default_ignored(base))
		return true;
	/* lambdeck's own artifacts and any atomic-write temp file */
	return strstr(path, "/.lambdeck/") != NULL || !strncmp(path, ".lambdeck/", 10) ||
	       strstr(base, ".tmp") != NULL;
}

static void watch_free(struct deploy_watch *w)
{
	for (size_t i = 0; i < w->proj.n_functions; i++)
		fn_free(&w->proj.functions[i]);
	free(w->proj.functions);
	free(w->proj.dir);
	free(w->artifact_bucket);
	free(w->role_arn);
	free(w->watches);
	free(w->pending);
	free(w->pending_path);
	free(w);
}

static void watch_round(struct deploy_watch *w);

static void watch_progress(void *user, const char *function, enum deploy_phase phase, uint64_t done,
                           uint64_t total)
{
	struct deploy_watch *w = user;

	if (w->cb.deploy.progress)
		w->cb.deploy.progress(w->user, function, phase, done, total);
}

static void watch_function_done(void *user, const struct deploy_result *r)
{
	struct deploy_watch *w = user;

	if (w->cb.deploy.function_done)
		w->cb.deploy.function_done(w->user, r);
}

static void watch_all_done(void *user, const struct deploy_result *results, size_t n,
                           size_t failures)
{
	struct deploy_watch *w = user;

	w->running = NULL;
	if (w->cb.deploy.all_done)
		w->cb.deploy.all_done(w->user, results, n, failures);
	if (w->stopping) {
		watch_free(w);
		return;
	}
	watch_round(w); /* changes seen during the round: exactly one more */
}

static void watch_round(struct deploy_watch *w)
{
	const char **names = xcalloc(w->proj.n_functions + 1, sizeof(*names));
	size_t n = 0;
	struct deploy_callbacks cb = {
	    .progress = watch_progress,
	    .function_done = watch_function_done,
	    .all_done = watch_all_done,
	};
	struct deploy_opts o = w->opts;

	for (size_t i = 0; i < w->proj.n_functions; i++)
		if (w->pending[i]) {
			names[n++] = w->proj.functions[i].name;
			w->pending[i] = false;
		}
	if (n) {
		if (w->cb.triggered)
			w->cb.triggered(w->user, names, n, w->pending_path ? w->pending_path : "");
		free(w->pending_path);
		w->pending_path = NULL;
		o.artifact_bucket = w->artifact_bucket;
		o.role_arn = w->role_arn;
		w->running = deploy_start(w->loop, w->client, &w->proj, names, n, &o, &cb, w);
	}
	free(names);
}

static bool inside(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	return !strncmp(path, dir, n) && (path[n] == '/' || path[n] == '\0');
}

static void watch_batch(struct fswatch *fw, const struct fswatch_batch *batch, void *user)
{
	struct deploy_watch *w = user;
	bool any = false;

	(void)fw;
	if (w->stopping)
		return;
	for (size_t k = 0; k < batch->n_paths; k++) {
		const char *path = batch->paths[k];

		if (deploy_watch_ignored(path))
			continue;
		for (size_t i = 0; i < w->proj.n_functions; i++) {
			const struct project_function *f = &w->proj.functions[i];
			const char *rel;

			if (!f->code_dir || !inside(path, f->code_dir))
				continue;
			rel = path + strlen(f->code_dir);
			while (*rel == '/')
				rel++;
			if (*rel && fswatch_default_ignored(rel))
				continue;
			w->pending[i] = true;
			any = true;
			/* name a file that still exists (not an editor's vanished temp file) */
			if (!w->pending_path || access(w->pending_path, F_OK) != 0) {
				free(w->pending_path);
				w->pending_path = xstrdup(path);
			}
		}
	}
	if (any && !w->running)
		watch_round(w);
}

struct deploy_watch *deploy_watch_start(uv_loop_t *loop, struct aws_client *client,
                                        const struct project *p, const struct deploy_opts *opts,
                                        const struct deploy_watch_callbacks *cb, void *user,
                                        struct lk_error *err)
{
	struct deploy_watch *w = xcalloc(1, sizeof(*w));
	struct fswatch_opts fo = {.debounce_ms = WATCH_DEBOUNCE_MS, .max_wait_ms = 1000};

	w->loop = loop;
	w->client = client;
	w->proj.dir = xstrdup(p->dir);
	w->proj.kind = p->kind;
	w->proj.skip_deps = p->skip_deps;
	if (opts)
		w->opts = *opts;
	w->artifact_bucket =
	    xstrdup(w->opts.artifact_bucket ? w->opts.artifact_bucket : p->artifact_bucket);
	w->role_arn = xstrdup(w->opts.role_arn);
	w->cb = *cb;
	w->user = user;
	w->proj.functions = xcalloc(p->n_functions + 1, sizeof(*w->proj.functions));
	for (size_t i = 0; i < p->n_functions; i++)
		if (p->functions[i].buildable && p->functions[i].code_dir)
			fn_copy(&w->proj.functions[w->proj.n_functions++], &p->functions[i]);
	w->pending = xcalloc(w->proj.n_functions + 1, sizeof(*w->pending));
	if (w->proj.n_functions == 0) {
		lk_error_set(err, "NothingToWatch", "no buildable functions in %s", p->dir);
		watch_free(w);
		return NULL;
	}
	/* one recursive watch per code dir that is not inside another one */
	w->watches = xcalloc(w->proj.n_functions, sizeof(*w->watches));
	for (size_t i = 0; i < w->proj.n_functions; i++) {
		const char *dir = w->proj.functions[i].code_dir;
		bool covered = false;

		for (size_t k = 0; k < w->proj.n_functions && !covered; k++) {
			const char *other = w->proj.functions[k].code_dir;

			if (k == i)
				continue;
			if (strcmp(other, dir) == 0)
				covered = k < i; /* same dir: the first one watches */
			else
				covered = inside(dir, other);
		}
		if (covered || !util_is_dir(dir))
			continue;
		if (fswatch_new(loop, dir, &fo, watch_batch, w, &w->watches[w->n_watches], err) <
		    0) {
			deploy_watch_stop(w);
			return NULL;
		}
		w->n_watches++;
	}
	if (w->n_watches == 0) {
		lk_error_set(err, "NothingToWatch",
		             "none of the functions' code directories exists");
		watch_free(w);
		return NULL;
	}
	return w;
}

void deploy_watch_stop(struct deploy_watch *w)
{
	if (!w || w->stopping)
		return;
	w->stopping = true;
	for (size_t i = 0; i < w->n_watches; i++)
		fswatch_free(w->watches[i]);
	w->n_watches = 0;
	if (w->running)
		deploy_cancel(w->running); /* watch_all_done frees */
	else
		watch_free(w);
}
