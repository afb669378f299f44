/* app.h - services the shell offers to panes. Everything here runs on the one libuv loop;
 * no call blocks. Include this from panes; backend code never includes it.
 *
 * Ownership: strings passed in are copied unless stated otherwise; pointers returned are
 * owned by the app and valid until the stated event. struct app lives from console start
 * until after every pane's destroy() returned. */
#ifndef LAMBDECK_TUI_APP_H
#define LAMBDECK_TUI_APP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "backend/mode.h"
#include "backend/project.h"
#include "backend/util.h"
#include "tui/pane.h"
#include "tui/textview.h"
#include "tui/theme.h"

struct app;

/* --- loop, project, options ------------------------------------------------------------ */

uv_loop_t *app_loop(struct app *a);
/* The loaded project; never NULL (a project with no functions when discovery failed).
 * Valid until APP_EVENT_PROJECT is delivered (after app_reload_project). */
struct project *app_project(struct app *a);
/* Reloads the project from disk (e.g. after lambdeck.json changed); delivers
 * APP_EVENT_PROJECT to every pane; a parse error is shown in the status bar. */
void app_reload_project(struct app *a);
/* Dependencies off/on for the console's builds (--skip-deps, "skip_deps" in lambdeck.json,
 * or this toggle): flips the toggle, reloads the project with it (APP_EVENT_PROJECT) and
 * returns whether installs are now skipped. */
bool app_toggle_skip_deps(struct app *a);
/* --read-only: panes must not deploy, invoke, edit, run tests or write files. */
bool app_read_only(struct app *a);
/* Convenience: when read-only, shows "read-only: <what> is disabled" and returns true. */
bool app_refuse_if_read_only(struct app *a, const char *what);
/* --low-bandwidth: fewer frames; panes should skip decorative redraws. */
bool app_low_bandwidth(struct app *a);
/* Mouse reporting is on (--mouse, or auto and the terminal has a mouse): panes get mouse()
 * calls (tui/pane.h). Everything must stay reachable from the keyboard. */
bool app_mouse(struct app *a);
/* Fills o with the mode selection the console runs with (--profile/--region/--endpoint-url,
 * --aws/--local, --keep-emulator, the project's own settings), for panes that need a backend
 * context of their own (backend/invoke.h). Strings stay owned by the app. */
void app_mode_options(struct app *a, struct mode_options *o);

/* --- drawing ---------------------------------------------------------------------------- */

/* Requests a redraw of p at the next frame (coalesced, at most ~30 frames/s). */
void app_mark_dirty(struct pane *p);
void app_mark_all_dirty(struct app *a);
/* Finds a pane by name ("logs"); NULL if none. */
struct pane *app_pane(struct app *a, const char *name);
/* Moves the focus to that pane. */
void app_focus(struct app *a, struct pane *p);

/* --- status bar ------------------------------------------------------------------------- */

enum app_msg_level { APP_MSG_INFO, APP_MSG_WARN, APP_MSG_ERROR };
/* Shows a message in the status bar; it fades after a few seconds (errors stay longer) and
 * is cut at the bar's width, but the messages view (request "messages", key m) keeps the
 * last 100 whole. The text is sanitised. */
void app_message(struct app *a, enum app_msg_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void app_vmessage(struct app *a, enum app_msg_level level, const char *fmt, va_list ap);
/* Mode text at the left of the status bar ("LOCAL", "AWS dev eu-west-1"), and an optional
 * endpoint text after it ("emulator 127.0.0.1:4566"); NULL clears the endpoint. Delivers
 * APP_EVENT_MODE. */
void app_set_mode(struct app *a, const char *mode, const char *endpoint);
const char *app_mode(struct app *a);
/* The backend mode (backend/mode.h), owned by the app: selected at start from the options
 * and lambdeck.json and acquired asynchronously (LOCAL: attaching to or starting the
 * project's emulator, shown as a job). NULL until ready, or when it failed (the error is in
 * the status bar). Every pane gets APP_EVENT_MODE when it becomes ready; build an aws client
 * from it with mode_aws_options(). Valid until exit. */
const struct mode_config *app_mode_config(struct app *a);

/* --- jobs ------------------------------------------------------------------------------- */

/* A job is a long-running operation shown in the status bar with a progress bar (builds,
 * deploys, invocations, test runs); q asks before quitting while one runs. The caller owns
 * the handle from app_job_start until it calls app_job_finish (which frees it). cancel (may
 * be NULL) is called when the user cancels the job or quits: it must make the operation end
 * soon; it may also call app_job_finish itself (synchronously); otherwise the owner calls it
 * afterwards. */
struct app_job;
typedef void (*app_job_cancel_fn)(void *ud);
struct app_job *app_job_start(struct app *a, const char *name, app_job_cancel_fn cancel, void *ud);
/* phase: short text ("zipping"); total 0 = unknown (indeterminate bar). */
void app_job_progress(struct app_job *j, const char *phase, uint64_t done, uint64_t total);
/* Ends the job and frees j; the message (may be NULL) goes to the status bar as info when
 * ok, as an error otherwise. */
void app_job_finish(struct app_job *j, bool ok, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
size_t app_jobs_running(struct app *a);

/* --- editor ----------------------------------------------------------------------------- */

/* Called when the editor exited (status: exit code, or -1 if it could not start, with err
 * set). The screen is already fully redrawn. */
typedef void (*app_editor_cb)(void *ud, int status, const struct lk_error *err);
/* Opens path in $VISUAL, else $EDITOR, else vi, at line (> 0; "+N" for editors that take it),
 * read-only (-R / -v) when asked. The terminal is handed to the editor; the loop keeps running
 * (tails keep collecting) but nothing is drawn and stdin is not read until it exits. Returns
 * 0 when started, -1 when it could not start (message shown; cb is NOT called) or another
 * editor is already running. cb may be NULL. Refused in --read-only mode unless read_only. */
int app_edit_file(struct app *a, const char *path, int line, bool read_only, app_editor_cb cb,
                  void *ud);

/* --- prompt and confirm ----------------------------------------------------------------- */

/* One-line text input in the status bar. cb gets the text (valid during the call only), or
 * NULL when the user pressed Esc. Only one prompt at a time: a new one cancels the old one
 * (its cb gets NULL). initial may be NULL. */
typedef void (*app_prompt_cb)(void *ud, const char *text);
void app_prompt(struct app *a, const char *question, const char *initial, app_prompt_cb cb,
                void *ud);
/* y/n question in the status bar; Esc, n and anything else but y/Y answer no. */
typedef void (*app_confirm_cb)(void *ud, bool yes);
void app_confirm(struct app *a, const char *question, app_confirm_cb cb, void *ud);

/* --- selection shared between panes ----------------------------------------------------- */

/* The Functions pane publishes its selected function here; others (Playground, Logs) read
 * it. name NULL clears. Delivers APP_EVENT_SELECTION to every pane (also to the caller). */
void app_select_function(struct app *a, const char *name);
/* NULL when nothing is selected; valid until the next app_select_function. */
const char *app_selected_function(struct app *a);

/* --- keymap ------------------------------------------------------------------------------ */

/* Printable key bound to req for pane p's scope (or global), e.g. to show "b build" hints;
 * NULL when unbound. Valid until the keymap changes (never, after start). */
const char *app_key_for(struct app *a, struct pane *p, enum request req);

#endif
