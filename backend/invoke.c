/* invoke.c - one invocation: resolve the mode (and the emulator), in LOCAL mode bring the
 * function up to date (quick build + deploy), invoke with LogType=Tail, decode, record in
 * history. See invoke.h. */
#include "backend/invoke.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "backend/aws/aws.h"
#include "backend/build.h"
#include "backend/deploy.h"
#include "backend/events.h"

enum op_state {
	OP_WAIT_MODE,
	OP_DEPLOY,
	OP_INVOKE,
	OP_DONE,
};

/* What this ctx knows about a function it already brought up to date. */
struct fn_state {
	char *name;
	char *deployed_name;
	char settings[65]; /* hex SHA-256 of the settings deployed last */
	char code_sha[48];
	bool deployed;
};

struct invoke_ctx {
	uv_loop_t *loop;
	const struct project *project;
	struct mode *mode;
	bool own_mode;
	enum { MODE_IDLE, MODE_PENDING, MODE_READY, MODE_FAILED } mode_state;
	struct lk_error mode_err;
	struct aws_client *client;
	bool local;
	invoke_phase_fn phase_cb;
	void *phase_user;
	struct invoke_op *ops; /* in flight, linked */
	struct fn_state *fns;
	size_t n_fns;
	int deploys;  /* deploy jobs running */
	bool freeing; /* invoke_ctx_free was called; destroyed when deploys reaches 0 */
	bool in_free;
	/* An own mode is made again from these when its emulator went away (reconnect). */
	struct mode_options mo;
	char *mo_strings[9];
	/* Clients replaced by a reconnect: freed with the ctx, never inside their callbacks. */
	struct aws_client **retired;
	size_t n_retired;
};

struct invoke_op {
	struct invoke_op *next;
	struct invoke_ctx *ctx;
	enum op_state state;
	char *function; /* project name */
	char *qualifier;
	enum invoke_type type;
	char *event_name;
	char *payload;
	size_t payload_len;
	bool no_history, no_update, retried, deploy_retried, reconnected;
	invoke_done_fn cb;
	void *user;
	int64_t started_ms;
	uint64_t t0;
	struct aws_op *aws_op;
	struct deploy_job *deploy;
	bool deploy_updated;
	bool cancelled;
};

/* ---- ctx ----------------------------------------------------------------------------- */

static struct invoke_ctx *ctx_alloc(uv_loop_t *loop, const struct project *project)
{
	struct invoke_ctx *c = xcalloc(1, sizeof(*c));

	c->loop = loop;
	c->project = project;
	return c;
}

struct invoke_ctx *invoke_ctx_new(uv_loop_t *loop, const struct project *project,
                                  const struct mode_options *mo, struct lk_error *err)
{
	struct mode_options o = mo ? *mo : (struct mode_options){0};
	struct invoke_ctx *c;

	if (!o.project_dir)
		o.project_dir = project->dir;
	if (!o.project_mode)
		o.project_mode = project->mode;
	if (!o.project_profile)
		o.project_profile = project->profile;
	if (!o.project_region)
		o.project_region = project->region;
	c = ctx_alloc(loop, project);
	if (!(c->mode = mode_new(loop, &o, err))) {
		free(c);
		return NULL;
	}
	c->own_mode = true;
	{
		const char **fields[] = {&o.project_dir,    &o.profile,      &o.region,
		                         &o.endpoint,       &o.project_mode, &o.project_profile,
		                         &o.project_region, &o.lambdeck_exe, &o.state_dir};

		for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
			*fields[i] = c->mo_strings[i] = *fields[i] ? xstrdup(*fields[i]) : NULL;
		c->mo = o;
	}
	c->local = mode_kind(c->mode) == MODE_LOCAL;
	return c;
}

struct invoke_ctx *invoke_ctx_new_with_mode(uv_loop_t *loop, const struct project *project,
                                            struct mode *mode, struct lk_error *err)
{
	struct invoke_ctx *c;

	if (!mode) {
		lk_error_set(err, "InvalidParameter", "no mode");
		return NULL;
	}
	c = ctx_alloc(loop, project);
	c->mode = mode;
	c->local = mode_kind(mode) == MODE_LOCAL;
	return c;
}

void invoke_ctx_set_phase_cb(struct invoke_ctx *c, invoke_phase_fn cb, void *user)
{
	c->phase_cb = cb;
	c->phase_user = user;
}

uv_loop_t *invoke_ctx_loop(const struct invoke_ctx *c)
{
	return c->loop;
}

const struct project *invoke_ctx_project(const struct invoke_ctx *c)
{
	return c->project;
}

const char *invoke_ctx_mode_name(const struct invoke_ctx *c)
{
	return c->local ? "local" : "aws";
}

static void op_free(struct invoke_op *op)
{
	free(op->function);
	free(op->qualifier);
	free(op->event_name);
	free(op->payload);
	free(op);
}

static void unlink_op(struct invoke_op *op)
{
	for (struct invoke_op **pp = &op->ctx->ops; *pp; pp = &(*pp)->next)
		if (*pp == op) {
			*pp = op->next;
			return;
		}
}

static void ctx_destroy(struct invoke_ctx *c)
{
	aws_client_free(c->client);
	for (size_t i = 0; i < c->n_retired; i++)
		aws_client_free(c->retired[i]);
	free(c->retired);
	if (c->own_mode)
		mode_free(c->mode);
	for (size_t i = 0; i < sizeof(c->mo_strings) / sizeof(c->mo_strings[0]); i++)
		free(c->mo_strings[i]);
	for (size_t i = 0; i < c->n_fns; i++) {
		free(c->fns[i].name);
		free(c->fns[i].deployed_name);
	}
	free(c->fns);
	free(c);
}

void invoke_ctx_free(struct invoke_ctx *c)
{
	if (!c)
		return;
	/* In-flight operations end silently: their callers are going away too. A cancelled
	 * deploy job still uses the client until its all_done: the ctx lingers until then. */
	c->freeing = true;
	c->in_free = true;
	while (c->ops) {
		struct invoke_op *op = c->ops;
		c->ops = op->next;
		if (op->aws_op)
			aws_op_cancel(op->aws_op);
		if (op->deploy) {
			op->cancelled = true;
			op->cb = NULL;
			deploy_cancel(op->deploy); /* on_deploy_done frees the op */
			continue;
		}
		op_free(op);
	}
	c->in_free = false;
	if (c->deploys == 0)
		ctx_destroy(c);
}

static struct fn_state *fn_state(struct invoke_ctx *c, const char *name)
{
	for (size_t i = 0; i < c->n_fns; i++)
		if (!strcmp(c->fns[i].name, name))
			return &c->fns[i];
	c->fns = xrealloc(c->fns, (c->n_fns + 1) * sizeof(*c->fns));
	memset(&c->fns[c->n_fns], 0, sizeof(*c->fns));
	c->fns[c->n_fns].name = xstrdup(name);
	return &c->fns[c->n_fns++];
}

/* Hash of what a LOCAL deploy pushes besides code: a change means "deploy again". */
static void settings_hash(const struct project_function *f, char out[65])
{
	struct buf b = {0};
	unsigned char md[32];

	buf_printf(&b, "%s\n%s\n%s\n%d\n%d\n", f->runtime ? f->runtime : "",
	           f->handler ? f->handler : "", f->code_dir ? f->code_dir : "", f->timeout,
	           f->memory);
	for (size_t i = 0; i < f->n_env; i++)
		buf_printf(&b, "%s=%s\n", f->env[i].name, f->env[i].value ? f->env[i].value : "");
	for (size_t i = 0; i < f->n_layers; i++)
		buf_printf(&b, "L%s\n", f->layers[i]);
	util_sha256(b.data ? b.data : "", b.len, md);
	util_hex(md, 32, out);
	buf_free(&b);
}

/* ---- finishing ----------------------------------------------------------------------- */

static void phase(struct invoke_op *op, const char *name)
{
	if (op->ctx->phase_cb)
		op->ctx->phase_cb(name, op->ctx->phase_user);
}

static char *error_type_of(const char *payload, size_t len)
{
	cJSON *j = cJSON_ParseWithLength(payload, len);
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "errorType");
	char *s = cJSON_IsString(t) ? xstrdup(t->valuestring) : NULL;

	cJSON_Delete(j);
	return s;
}

/* Completes op with a response (aws result) or an error; records history; frees op. */
static void finish(struct invoke_op *op, struct aws_result *ar, const struct lk_error *err)
{
	struct invoke_ctx *c = op->ctx;
	struct invoke_result r = {0};
	struct history_entry h;
	char *pretty = NULL, *etype = NULL, *tail = NULL, *reqid = NULL;
	struct buf clean = {0};
	struct lk_error herr = {0};

	op->state = OP_DONE;
	unlink_op(op);
	invoke_parse_report(NULL, &r);
	r.client_ms = op->t0 ? (double)(util_monotonic_ns() - op->t0) / 1e6 : -1;
	r.updated = op->deploy_updated;
	r.payload = "";
	if (err && lk_error_is_set(err))
		r.err = *err;
	if (ar) {
		r.status = (int)ar->status;
		r.payload = ar->body.data ? ar->body.data : "";
		r.payload_len = ar->body.len;
		r.function_error = ar->function_error;
		r.executed_version = ar->executed_version;
		reqid = xstrdup(aws_result_header(ar, "x-amzn-requestid"));
		r.request_id = reqid;
		if (ar->log_tail) {
			/* one log event's lines, joined with '\r' by the Node.js and Python
			 * runtimes, are lines of the tail too */
			for (char *c = ar->log_tail; (c = strchr(c, '\r')); c++)
				if (c[1] != '\n')
					*c = '\n';
			buf_puts(&clean, "");
			util_sanitize(ar->log_tail, strlen(ar->log_tail), true, true, &clean);
			tail = buf_steal(&clean);
			r.log_tail = tail;
			invoke_parse_report(tail, &r);
		}
		if (!aws_result_ok(ar))
			r.err = ar->err;
	}
	if (r.payload_len) {
		pretty = events_pretty_json(r.payload, r.payload_len);
		r.payload_is_json = pretty != NULL;
		if (!pretty) {
			buf_puts(&clean, "");
			util_sanitize(r.payload, r.payload_len, true, true, &clean);
			pretty = buf_steal(&clean);
		}
	}
	r.pretty = pretty ? pretty : "";
	if (r.function_error)
		etype = error_type_of(r.payload, r.payload_len);
	r.error_type = etype;

	if (!op->no_history && !op->cancelled) {
		history_entry_init(&h);
		h.time_ms = op->started_ms;
		h.mode = xstrdup(c->local ? "local" : "aws");
		h.function = xstrdup(op->function);
		h.qualifier = xstrdup(op->qualifier);
		h.invocation_type = xstrdup(invoke_type_name(op->type));
		h.event_name = xstrdup(op->event_name);
		h.event = xstrndup(op->payload, op->payload_len);
		h.status = r.status;
		h.function_error = xstrdup(r.function_error);
		if (lk_error_is_set(&r.err)) {
			h.error_code = xstrdup(r.err.code[0] ? r.err.code : "Error");
			h.error_message = xstrdup(r.err.message);
		}
		if (r.payload_len)
			h.response = xstrndup(r.payload, r.payload_len);
		h.log_tail = xstrdup(r.log_tail);
		h.request_id = xstrdup(r.request_id);
		h.client_ms = r.client_ms;
		h.duration_ms = r.duration_ms;
		h.billed_ms = r.billed_ms;
		h.init_ms = r.init_ms;
		h.memory_mb = r.memory_mb;
		h.max_memory_mb = r.max_memory_mb;
		if (history_append(c->project->dir, &h, &herr) == 0)
			r.history_id = h.id;
		if (op->cb)
			op->cb(&r, op->user);
		history_entry_clear(&h);
	} else if (op->cb) {
		op->cb(&r, op->user);
	}
	free(pretty);
	free(etype);
	free(tail);
	free(reqid);
	aws_result_free(ar);
	op_free(op);
}

static void finish_error(struct invoke_op *op, const char *code, const char *fmt, const char *msg)
{
	struct lk_error e = {0};

	lk_error_set(&e, code, fmt, msg);
	finish(op, NULL, &e);
}

/* ---- the steps ----------------------------------------------------------------------- */

static void step(struct invoke_op *op);
static void start_deploy(struct invoke_op *op);
static void on_mode_ready(void *user, const struct mode_config *cfg, const struct lk_error *err);

/* LOCAL, own mode: the emulator went away (crash, outside kill) and a request of op was
 * refused, i.e. it never reached the emulator, let alone a function. Attach to or start the
 * next emulator (a fresh mode, as a new process would) and run op again from the deploy
 * step, once. Returns false when this does not apply (the caller reports the error). */
static bool reconnect(struct invoke_op *op, const struct lk_error *e)
{
	struct invoke_ctx *c = op->ctx;
	struct lk_error err = {0};
	struct mode *fresh;

	if (!c->local || !c->own_mode || op->reconnected || op->cancelled ||
	    strcmp(e->code, "ConnectionRefused"))
		return false;
	op->reconnected = true;
	op->state = OP_WAIT_MODE;
	if (c->mode_state == MODE_PENDING)
		return true; /* another op is reconnecting already: on_mode_ready resumes this one
		              */
	if (c->mode_state != MODE_READY || !(fresh = mode_new(c->loop, &c->mo, &err)))
		return false;
	c->retired = xrealloc(c->retired, (c->n_retired + 1) * sizeof(*c->retired));
	c->retired[c->n_retired++] = c->client;
	c->client = NULL;
	mode_free(c->mode);
	c->mode = fresh;
	for (size_t i = 0; i < c->n_fns; i++)
		c->fns[i].deployed = false;
	c->mode_state = MODE_PENDING;
	phase(op, "restarting emulator");
	if (mode_acquire(c->mode, on_mode_ready, c) < 0) {
		c->mode_state = MODE_FAILED;
		lk_error_set(&c->mode_err, "ModeError", "cannot start the local emulator");
		return false;
	}
	return true;
}

static void on_invoked(void *user, struct aws_result *r)
{
	struct invoke_op *op = user;
	struct invoke_ctx *c = op->ctx;

	op->aws_op = NULL;
	/* LOCAL: the emulator lost the function (restarted with fresh state): deploy, retry. */
	if (c->local && !op->retried && r->status == 404 &&
	    !strcmp(r->err.code, "ResourceNotFoundException")) {
		struct fn_state *fs = fn_state(c, op->function);
		fs->deployed = false;
		op->retried = true;
		aws_result_free(r);
		op->state = OP_DEPLOY;
		step(op);
		return;
	}
	/* Refused: the request never reached a function, so it may go to the next emulator. */
	if (!r->status && reconnect(op, &r->err)) {
		aws_result_free(r);
		return;
	}
	finish(op, r, NULL);
}

static void start_invoke(struct invoke_op *op);

/* AWS mode, SAM/CloudFormation functions without a known name: the deployed function is the
 * one tagged aws:cloudformation:logical-id=<name> (as deploy.c resolves it). */
static void on_resolved(void *user, struct aws_result *r)
{
	struct invoke_op *op = user;
	struct fn_state *fs = fn_state(op->ctx, op->function);
	const cJSON *it;
	size_t n = 0;
	char *arn = NULL;

	op->aws_op = NULL;
	if (!aws_result_ok(r)) {
		struct lk_error e = r->err;
		aws_result_free(r);
		finish(op, NULL, &e);
		return;
	}
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(r->json, "ResourceTagMappingList"))
	{
		const cJSON *a = cJSON_GetObjectItemCaseSensitive(it, "ResourceARN");
		if (cJSON_IsString(a) && n++ == 0)
			arn = xstrdup(a->valuestring);
	}
	aws_result_free(r);
	if (n != 1) {
		struct lk_error e = {0};
		if (n == 0)
			lk_error_set(
			    &e, "ResourceNotFoundException",
			    "no deployed function is tagged aws:cloudformation:logical-id=%s "
			    "(deploy the stack first, or set \"deployed_name\")",
			    op->function);
		else
			lk_error_set(&e, "AmbiguousFunction",
			             "%zu deployed functions carry the logical id %s: set "
			             "\"deployed_name\" in lambdeck.json",
			             n, op->function);
		free(arn);
		finish(op, NULL, &e);
		return;
	}
	free(fs->deployed_name);
	fs->deployed_name = arn; /* an ARN is a valid FunctionName */
	start_invoke(op);
}

static bool resolve_name(struct invoke_op *op)
{
	struct invoke_ctx *c = op->ctx;
	const struct project_function *f = project_find(c->project, op->function);
	struct fn_state *fs = fn_state(c, op->function);
	const char *values[] = {op->function, NULL};
	const char *types[] = {"lambda:function", NULL};
	struct aws_tag_filter tf = {.key = "aws:cloudformation:logical-id", .values = values};
	struct aws_tagging_query q = {
	    .filters = &tf, .n_filters = 1, .resource_types = types, .all_pages = true};

	if (c->local || fs->deployed_name || !f || f->deployed_name ||
	    c->project->kind != PROJECT_SAM)
		return false;
	op->state = OP_INVOKE;
	phase(op, "resolving name");
	op->t0 = util_monotonic_ns();
	op->aws_op = aws_tagging_get_resources(c->client, &q, on_resolved, op);
	return true;
}

static void start_invoke(struct invoke_op *op)
{
	struct invoke_ctx *c = op->ctx;
	const struct project_function *f = project_find(c->project, op->function);
	struct fn_state *fs = fn_state(c, op->function);
	const char *name = fs->deployed_name       ? fs->deployed_name
	                   : f && f->deployed_name ? f->deployed_name
	                                           : op->function;
	struct aws_invoke p = {
	    .function_name = name,
	    .qualifier = op->qualifier,
	    .type = op->type == INVOKE_EVENT     ? AWS_INVOKE_EVENT
	            : op->type == INVOKE_DRY_RUN ? AWS_INVOKE_DRY_RUN
	                                         : AWS_INVOKE_REQUEST_RESPONSE,
	    .log_tail = op->type == INVOKE_REQUEST_RESPONSE,
	    .payload = op->payload,
	    .payload_len = op->payload_len,
	};

	if (resolve_name(op))
		return;
	op->state = OP_INVOKE;
	phase(op, "invoking");
	op->t0 = util_monotonic_ns();
	op->aws_op = aws_lambda_invoke(c->client, &p, on_invoked, op);
}

static void on_deploy_done(void *user, const struct deploy_result *results, size_t n,
                           size_t failures)
{
	struct invoke_op *op = user;
	struct invoke_ctx *c = op->ctx;

	op->deploy = NULL;
	c->deploys--;
	if (op->cancelled && !op->cb) { /* ctx freed meanwhile */
		op_free(op);
		if (c->freeing && !c->in_free && c->deploys == 0)
			ctx_destroy(c);
		return;
	}
	if (op->cancelled) {
		finish_error(op, "Cancelled", "%s", "cancelled");
		return;
	}
	/* Another process (a second console in a pair session) may have created or updated the
	 * function at the same moment: one more round sees its state and settles. */
	if (n == 1 && failures && !op->deploy_retried &&
	    strstr(results[0].err.message, "ResourceConflictException")) {
		op->deploy_retried = true;
		start_deploy(op);
		return;
	}
	if (n == 1 && failures && reconnect(op, &results[0].err))
		return;
	if (n < 1 || failures) {
		char *msg = xasprintf("%s: %s", n ? results[0].err.code : "DeployFailed",
		                      n ? results[0].err.message : "deploy failed");
		finish_error(
		    op, "DeployFailed",
		    "bringing the emulator up to date failed (the function was not invoked): "
		    "%s",
		    msg);
		free(msg);
		return;
	}
	{
		struct fn_state *fs = fn_state(c, op->function);
		const struct project_function *f = project_find(c->project, op->function);
		fs->deployed = true;
		if (f)
			settings_hash(f, fs->settings);
		snprintf(fs->code_sha, sizeof(fs->code_sha), "%s", results[0].code_sha256);
		if (results[0].deployed_name) {
			free(fs->deployed_name);
			fs->deployed_name = xstrdup(results[0].deployed_name);
		}
		op->deploy_updated =
		    results[0].outcome == DEPLOY_UPDATED || results[0].outcome == DEPLOY_CREATED;
	}
	start_invoke(op);
}

/* LOCAL: does fn need a build + deploy before this invocation? */
static bool needs_update(struct invoke_ctx *c, const struct project_function *f)
{
	struct fn_state *fs = fn_state(c, f->name);
	struct build_status st = {0};
	struct lk_error err = {0};
	char settings[65];

	if (!fs->deployed)
		return true;
	settings_hash(f, settings);
	if (strcmp(settings, fs->settings))
		return true;
	if (build_status_get(c->project, f, &st, &err) < 0 || !st.built || st.modified)
		return true;
	return strcmp(st.code_sha256, fs->code_sha) != 0;
}

static void start_deploy(struct invoke_op *op)
{
	struct invoke_ctx *c = op->ctx;
	const struct project_function *f = project_find(c->project, op->function);
	const char *names[1] = {op->function};
	struct deploy_opts o = {.local = true, .parallel = 1};
	struct deploy_callbacks cbs = {.all_done = on_deploy_done};

	if (!f || !f->buildable) {
		/* Nothing to build (inline code, image): invoke what the emulator has. */
		start_invoke(op);
		return;
	}
	if (!needs_update(c, f)) {
		start_invoke(op);
		return;
	}
	op->state = OP_DEPLOY;
	phase(op, "deploying");
	c->deploys++;
	op->deploy = deploy_start(c->loop, c->client, c->project, names, 1, &o, &cbs, op);
}

static void step(struct invoke_op *op)
{
	struct invoke_ctx *c = op->ctx;

	if (c->mode_state == MODE_FAILED) {
		finish(op, NULL, &c->mode_err);
		return;
	}
	if (c->mode_state != MODE_READY)
		return; /* on_mode_ready resumes every waiting op */
	if (c->local && !op->no_update)
		start_deploy(op);
	else
		start_invoke(op);
}

static void on_mode_ready(void *user, const struct mode_config *cfg, const struct lk_error *err)
{
	struct invoke_ctx *c = user;
	struct invoke_op *waiting, *next;

	if (!cfg) {
		c->mode_state = MODE_FAILED;
		if (err && lk_error_is_set(err))
			c->mode_err = *err;
		else
			lk_error_set(&c->mode_err, "ModeError", "cannot reach the %s",
			             c->local ? "local emulator" : "AWS endpoint");
	} else {
		struct aws_options o;
		mode_aws_options(cfg, &o);
		c->local = cfg->kind == MODE_LOCAL;
		if (!(c->client = aws_client_new(c->loop, &o, &c->mode_err)))
			c->mode_state = MODE_FAILED;
		else
			c->mode_state = MODE_READY;
	}
	/* Resume the ops waiting for the mode (a step may finish and unlink its op). */
	for (waiting = c->ops; waiting; waiting = next) {
		next = waiting->next;
		if (waiting->state == OP_WAIT_MODE)
			step(waiting);
	}
}

struct invoke_op *invoke_start(struct invoke_ctx *c, const struct invoke_request *req,
                               invoke_done_fn cb, void *user, struct lk_error *err)
{
	struct invoke_op *op;
	size_t limit =
	    req->type == INVOKE_EVENT ? INVOKE_MAX_ASYNC_PAYLOAD : INVOKE_MAX_SYNC_PAYLOAD;
	const char *payload = req->payload ? req->payload : "{}";
	size_t len = req->payload ? req->payload_len : 2;

	if (!req->function || !project_find(c->project, req->function)) {
		struct buf names = {0};
		for (size_t i = 0; i < c->project->n_functions; i++)
			buf_printf(&names, "%s%s", i ? ", " : "", c->project->functions[i].name);
		lk_error_set(err, "UnknownFunction", "unknown function '%s' (functions: %s)",
		             req->function ? req->function : "", names.data ? names.data : "none");
		buf_free(&names);
		return NULL;
	}
	if (len > limit) {
		lk_error_set(err, "PayloadTooLarge",
		             "the event is %zu bytes; %s invocations take at most %zu bytes "
		             "(not sent)",
		             len, invoke_type_name(req->type), limit);
		return NULL;
	}
	if (events_validate_json(payload, len, req->event_name ? req->event_name : "<event>", err) <
	    0)
		return NULL;
	if (c->mode_state == MODE_FAILED) {
		if (err)
			*err = c->mode_err;
		return NULL;
	}
	op = xcalloc(1, sizeof(*op));
	op->ctx = c;
	op->function = xstrdup(req->function);
	op->qualifier = req->qualifier && *req->qualifier ? xstrdup(req->qualifier) : NULL;
	op->type = req->type;
	op->event_name = xstrdup(req->event_name);
	op->payload = xstrndup(payload, len);
	op->payload_len = len;
	op->no_history = req->no_history;
	op->no_update = req->no_update;
	op->cb = cb;
	op->user = user;
	op->started_ms = util_now_ms();
	op->state = OP_WAIT_MODE;
	op->next = c->ops;
	c->ops = op;
	if (c->mode_state == MODE_IDLE) {
		c->mode_state = MODE_PENDING;
		phase(op, c->local ? "starting emulator" : "resolving credentials");
		if (mode_acquire(c->mode, on_mode_ready, c) < 0) {
			unlink_op(op);
			op_free(op);
			c->mode_state = MODE_IDLE;
			lk_error_set(err, "ModeError", "cannot start the %s",
			             c->local ? "local emulator" : "AWS client");
			return NULL;
		}
	}
	/* A mode that fails synchronously is reported by on_mode_ready on the loop, never
	 * from inside invoke_start (callers rely on that). */
	if (c->mode_state == MODE_READY)
		step(op);
	return op;
}

void invoke_cancel(struct invoke_op *op)
{
	if (!op || op->state == OP_DONE)
		return;
	if (op->deploy) {
		op->cancelled = true;
		deploy_cancel(op->deploy); /* on_deploy_done finishes the op */
		return;
	}
	if (op->aws_op) {
		aws_op_cancel(op->aws_op);
		op->aws_op = NULL;
	}
	op->cancelled = true;
	finish_error(op, "Cancelled", "%s", "cancelled");
}

struct sync_state {
	bool done;
	bool responded;
	invoke_done_fn cb;
	void *user;
};

static void on_sync_done(const struct invoke_result *r, void *user)
{
	struct sync_state *s = user;

	s->done = true;
	s->responded = !lk_error_is_set(&r->err);
	if (s->cb)
		s->cb(r, s->user);
}

int invoke_run_sync(struct invoke_ctx *c, const struct invoke_request *req, invoke_done_fn cb,
                    void *user, struct lk_error *err)
{
	struct sync_state s = {.cb = cb, .user = user};

	if (!invoke_start(c, req, on_sync_done, &s, err))
		return -1;
	/* UV_RUN_ONCE: other handles (the emulator child, watches) may keep the loop alive. */
	while (!s.done)
		uv_run(c->loop, UV_RUN_ONCE);
	if (!s.responded)
		return lk_error_set(err, "InvokeFailed", "the invocation failed");
	return 0;
}

struct invoke_op *invoke_replay(struct invoke_ctx *c, const struct history_entry *e,
                                invoke_done_fn cb, void *user, struct lk_error *err)
{
	struct invoke_request req = {
	    .function = e->function,
	    .qualifier = e->qualifier,
	    .event_name = e->event_name,
	    .payload = e->event ? e->event : "{}",
	    .payload_len = e->event ? strlen(e->event) : 2,
	};

	if (e->invocation_type && invoke_type_parse(e->invocation_type, &req.type) < 0)
		req.type = INVOKE_REQUEST_RESPONSE;
	return invoke_start(c, &req, cb, user, err);
}
