/* session.h - one console's (or one CLI command's) connection to its backend: the project,
 * the mode (LOCAL emulator lease or AWS), one AWS client and one invoke context
 * (backend/invoke.h). The console owns exactly one and hands it to its panes
 * (app_session()); panes never build a client or a mode of their own, so a console holds one
 * emulator lease, one curl multi handle and one credential cache.
 *
 * Call order:
 *   struct session *s = session_new(loop, project, &mode_options);  (takes the project)
 *   session_start(s, on_ready, user);       // console: async, on_ready once on the loop
 *   session_open_sync(s, &err);             // or a CLI: runs the loop until ready
 *   session_client(s), session_invoke(s, &err), session_project(s) ...
 *   session_set_project(s, reloaded);       // a reload: everything sees the new project
 *   session_free(s);                        // the lease goes; the client stays for holders
 *
 * Lifetime: work that uses the client beyond the caller's own lifetime (a deploy job a pane
 * started) holds the session (session_hold/session_release); the client is freed when the
 * last holder let go, after session_free. Run the loop afterwards to finish closing.
 *
 * Project: the session owns it. On a reload the invoke context switches to the new project;
 * the previous one is kept while the context is busy and freed once it is idle (at the next
 * reload or at the end), so nothing of the session ever reads a freed project. */
#ifndef LAMBDECK_SESSION_H
#define LAMBDECK_SESSION_H

#include <stdbool.h>
#include <uv.h>

#include "backend/aws/aws.h"
#include "backend/invoke.h"
#include "backend/mode.h"
#include "backend/project.h"
#include "backend/util.h"

struct session;

/* Creates the session and its mode (nothing is contacted yet). Takes ownership of project.
 * Never NULL; when the mode cannot be made (bad options) session_error() says why and
 * everything that needs the mode fails with that error. */
struct session *session_new(uv_loop_t *loop, struct project *project,
                            const struct mode_options *mo);
/* The error that kept the mode from being made, or NULL. */
const struct lk_error *session_error(const struct session *s);
/* Starts acquiring the mode; cb runs once on the loop (cfg NULL and err set on failure),
 * after the client was made. Returns -1 when there is no mode. */
int session_start(struct session *s, mode_ready_fn cb, void *user);
/* CLI: runs the loop until the mode is ready and the client made; NULL with err set. */
const struct mode_config *session_open_sync(struct session *s, struct lk_error *err);
/* The mode (NULL when it could not be made) and its ready configuration (NULL until). */
struct mode *session_mode(const struct session *s);
const struct mode_config *session_config(const struct session *s);
/* The one AWS client: NULL until the mode is ready (or when it failed). */
struct aws_client *session_client(const struct session *s);
/* Why session_client() is NULL although the mode is ready, or NULL. */
const struct lk_error *session_client_error(const struct session *s);
/* The one invoke context; NULL with err set when there is no mode. */
struct invoke_ctx *session_invoke(struct session *s, struct lk_error *err);
/* The current project. */
struct project *session_project(const struct session *s);
/* Replaces the project (takes ownership of p); see the header comment. */
void session_set_project(struct session *s, struct project *p);
/* Keeps the client (and the session's memory) alive for work that outlives its starter. */
void session_hold(struct session *s);
void session_release(struct session *s);
/* Ends the session: in-flight invocations end without callbacks, the lease is released.
 * The client lives on until the last session_release. Accepts NULL. */
void session_free(struct session *s);

#endif
