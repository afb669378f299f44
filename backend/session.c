/* session.c - the console's one mode, client and invoke context. See session.h. */
#include "backend/session.h"

#include <stdlib.h>

struct session {
	uv_loop_t *loop;
	struct project *project;
	struct project **retired; /* replaced while the ctx was busy */
	size_t n_retired;
	struct mode *mode;
	struct lk_error mode_err; /* mode_new failed */
	struct invoke_ctx *ctx;
	struct aws_client *client;
	struct lk_error client_err;
	struct lk_error ready_err; /* the mode's acquisition failed */
	bool started, ready_done;
	mode_ready_fn cb;
	void *cb_user;
	int refs; /* the owner, the ctx until destroyed, and session_hold */
};

static void free_retired(struct session *s)
{
	for (size_t i = 0; i < s->n_retired; i++)
		project_free(s->retired[i]);
	free(s->retired);
	s->retired = NULL;
	s->n_retired = 0;
}

static void ctx_destroyed(void *user)
{
	session_release(user);
}

struct session *session_new(uv_loop_t *loop, struct project *project, const struct mode_options *mo)
{
	struct session *s = xcalloc(1, sizeof(*s));

	s->loop = loop;
	s->project = project;
	s->refs = 1;
	if (!(s->mode = mode_new(loop, mo, &s->mode_err)))
		return s;
	if (!(s->ctx = invoke_ctx_new_with_mode(loop, project, s->mode, &s->mode_err))) {
		mode_free(s->mode);
		s->mode = NULL;
		return s;
	}
	invoke_ctx_on_destroyed(s->ctx, ctx_destroyed, s);
	s->refs++;
	return s;
}

const struct lk_error *session_error(const struct session *s)
{
	return s->mode ? NULL : &s->mode_err;
}

/* The mode is ready (or failed): make the one client before anyone else hears of it. */
static void on_ready(void *user, const struct mode_config *cfg, const struct lk_error *err)
{
	struct session *s = user;

	s->ready_done = true;
	if (!cfg) {
		if (err && lk_error_is_set(err))
			s->ready_err = *err;
		else
			lk_error_set(&s->ready_err, "ModeError", "cannot start %s",
			             mode_describe(s->mode));
	} else {
		struct aws_options o;
		mode_aws_options(cfg, &o);
		if ((s->client = aws_client_new(s->loop, &o, &s->client_err)))
			invoke_ctx_set_client(s->ctx, s->client);
	}
	if (s->cb)
		s->cb(s->cb_user, cfg, err);
}

int session_start(struct session *s, mode_ready_fn cb, void *user)
{
	if (!s->mode)
		return -1;
	if (s->started)
		return 0;
	s->started = true;
	s->cb = cb;
	s->cb_user = user;
	/* Registered first: the client exists when the ctx's own wait ends. */
	if (mode_acquire(s->mode, on_ready, s) < 0)
		return -1;
	return invoke_ctx_acquire(s->ctx);
}

const struct mode_config *session_open_sync(struct session *s, struct lk_error *err)
{
	if (!s->mode) {
		if (err)
			*err = s->mode_err;
		return NULL;
	}
	if (session_start(s, NULL, NULL) < 0 && !s->ready_done) {
		lk_error_set(err, "ModeError", "cannot start %s", mode_describe(s->mode));
		return NULL;
	}
	while (!s->ready_done)
		uv_run(s->loop, UV_RUN_ONCE);
	if (!mode_config(s->mode)) {
		if (err)
			*err = s->ready_err;
		return NULL;
	}
	if (!s->client) {
		if (err)
			*err = s->client_err;
		return NULL;
	}
	return mode_config(s->mode);
}

struct mode *session_mode(const struct session *s)
{
	return s->mode;
}

const struct mode_config *session_config(const struct session *s)
{
	return s->mode ? mode_config(s->mode) : NULL;
}

struct aws_client *session_client(const struct session *s)
{
	return s->client;
}

const struct lk_error *session_client_error(const struct session *s)
{
	return session_config(s) && !s->client ? &s->client_err : NULL;
}

struct invoke_ctx *session_invoke(struct session *s, struct lk_error *err)
{
	if (!s->ctx && err)
		*err = s->mode_err;
	return s->ctx;
}

struct project *session_project(const struct session *s)
{
	return s->project;
}

void session_set_project(struct session *s, struct project *p)
{
	struct project *old = s->project;

	s->project = p;
	if (s->ctx)
		invoke_ctx_set_project(s->ctx, p);
	if (!s->ctx || !invoke_ctx_busy(s->ctx)) {
		free_retired(s);
		project_free(old);
		return;
	}
	s->retired = xrealloc(s->retired, (s->n_retired + 1) * sizeof(*s->retired));
	s->retired[s->n_retired++] = old;
}

void session_hold(struct session *s)
{
	s->refs++;
}

void session_release(struct session *s)
{
	if (--s->refs > 0)
		return;
	aws_client_free(s->client);
	free_retired(s);
	project_free(s->project);
	free(s);
}

void session_free(struct session *s)
{
	struct invoke_ctx *ctx;

	if (!s)
		return;
	ctx = s->ctx;
	s->ctx = NULL;
	s->cb = NULL;
	/* Ends invocations silently; the ctx drops its reference once its deploys stopped. */
	invoke_ctx_free(ctx);
	mode_free(s->mode);
	s->mode = NULL;
	session_release(s);
}
