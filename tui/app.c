/* app.c - the console: one libuv loop, curses screen, layout, focus, zoom, status bar, help
 * overlay, prompt/confirm, jobs, editor launch, and the pane services of app.h.
 *
 * Drawing model: everything that changes state only sets dirty flags. A uv_prepare handle
 * (runs once per loop pass, before the loop blocks) draws what is dirty and calls doupdate()
 * once, at most one frame per frame budget (33 ms, 200 ms with --low-bandwidth); a frame
 * that is not yet due is scheduled with a timer instead of being drawn. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cli/commands.h"
#include "keymaps/keymap.h"
#include "panes/panes.h"
#include "backend/session.h"
#include "tui/app.h"
#include "tui/editor.h"
#include "tui/layout.h"

#define FRAME_NS              (33u * 1000 * 1000)
#define FRAME_NS_LOW_BW       (200u * 1000 * 1000)
#define MSG_SHOW_MS           4000
#define MSG_SHOW_ERROR_MS     9000
#define MSG_DIM_MS            1500
#define PROMPT_MAX            1024
#define STDIN_EMPTY_READS_EOF 64
#define MSG_LOG_MAX           100 /* messages kept for the messages view */
/* Button presses and the wheel; no releases, drags or motion (see mouse_start). */
#define MOUSE_EVENTS (BUTTON1_PRESSED | BUTTON4_PRESSED | BUTTON5_PRESSED)

struct app_job {
	struct app *app;
	struct app_job *next;
	char name[64];
	char phase[64];
	uint64_t done, total;
	app_job_cancel_fn cancel;
	void *ud;
	bool cancelled;
	bool background; /* the shell's own (emulator start): quitting does not ask */
};

struct help_line {
	char *keys;
	char *help; /* may be NULL */
	bool header;
	enum request req; /* the binding's request (on each of its wrapped lines), or REQ_NONE */
};

/* A message as shown in the messages view. */
struct msg_entry {
	char time[16]; /* HH:MM:SS, local time */
	enum app_msg_level level;
	char *text; /* sanitised, whole */
};

struct app {
	uv_loop_t loop;
	uv_poll_t stdin_poll;
	uv_signal_t sig_winch, sig_term, sig_int, sig_hup, sig_quit;
	uv_prepare_t prepare;
	uv_timer_t frame_timer, fade_timer, close_guard;
	uv_process_t editor_proc;

	const struct global_opts *g;
	struct project *project;
	bool skip_deps; /* the Functions pane's toggle, over --skip-deps */
	struct keymap *km;
	struct pane panes[PANES_COUNT];
	int focus;
	int zoomed; /* -1 none */
	int rows, cols;
	struct layout layout;
	WINDOW *status_win;
	WINDOW *input_win; /* never drawn: wgetch on it never triggers a refresh */
	WINDOW *help_win;
	bool curses_up;
	bool panes_ready; /* between the panes' init and destroy: events may be delivered */

	bool chrome_dirty, status_dirty, force_full;
	uint64_t last_frame_ns;
	uint64_t frame_ns;
	unsigned long frames;
	bool input_frame; /* keys were handled: the next frame answers them at once */

	char mode_text[96], endpoint[160];
	/* Two message slots, so an info message never hides a warning or error (and the other
	 * way round): [0] info, [1] warning/error. Shown newest first. */
	struct {
		char text[512];
		enum app_msg_level level;
		int64_t dim_at, clear_at;
		uint64_t seq;
	} msgs[2];
	uint64_t msg_seq;
	/* every message, the last MSG_LOG_MAX of them: a ring, log_n used, log_next written next */
	struct msg_entry log[MSG_LOG_MAX];
	size_t log_n, log_next;

	struct app_job *jobs;

	struct {
		bool active, confirm;
		char question[256];
		struct buf text;
		app_prompt_cb cb;
		app_confirm_cb ccb;
		void *ud;
	} prompt;

	bool mouse;         /* mouse reporting is on (--mouse / auto and the terminal has one) */
	int hint_x, hint_w; /* where the status bar shows "? help" (hint_w 0: not shown) */

	bool help_open;
	const char *help_title; /* " Help: keys " or " Messages " */
	int help_scroll;
	struct help_line *help_lines;
	size_t n_help_lines;

	bool editor_running, editor_resize_pending;
	app_editor_cb editor_cb;
	void *editor_ud;

	struct session *session; /* the project, the mode, the client, the invoke context */
	struct app_job *mode_job;
	bool mode_done; /* acquisition finished (ready or failed) */

	char *selected;
	bool quitting;
	int exit_status;
	int empty_reads;
};

/* The one console of this process, for the fatal-signal handler (no other use). */
static struct app *fatal_app;

static void app_render(struct app *a);
static void app_relayout(struct app *a);
static void app_request_quit(struct app *a);
static void app_quit_now(struct app *a, int status);
static void broadcast(struct app *a, enum app_event ev);
static void dispatch_request(struct app *a, enum request req);
static void command_cb(void *ud, const char *text);
static void edit_keys(struct app *a);

/* --- small helpers ---------------------------------------------------------------------- */

static int64_t now_ms(void)
{
	return (int64_t)(util_monotonic_ns() / 1000000u);
}

static struct pane *focused(struct app *a)
{
	return &a->panes[a->focus];
}

static bool pane_visible(const struct pane *p)
{
	return p->win && p->rows > 0 && p->cols > 0;
}

/* --- services of app.h ------------------------------------------------------------------ */

uv_loop_t *app_loop(struct app *a)
{
	return &a->loop;
}

struct project *app_project(struct app *a)
{
	return a->session ? session_project(a->session) : NULL;
}

struct session *app_session(struct app *a)
{
	return a->session;
}

/* Loads the project, keeping an empty one (dir only) when discovery fails. */
static struct project *load_project(struct app *a, struct lk_error *err)
{
	struct project *p = NULL;

	struct project_options o = a->g->project;

	o.region = a->g->region;
	o.skip_deps |= a->skip_deps;
	if (project_load_with(a->g->project_dir ? a->g->project_dir : ".", &o, &p, err) < 0 && !p) {
		p = xcalloc(1, sizeof(*p));
		p->dir = xstrdup(a->g->project_dir);
	}
	return p;
}

bool app_toggle_skip_deps(struct app *a)
{
	a->skip_deps = !a->skip_deps;
	app_reload_project(a);
	return app_project(a)->skip_deps;
}

void app_reload_project(struct app *a)
{
	struct lk_error err = {0};
	struct project *p = load_project(a, &err);

	if (lk_error_is_set(&err))
		app_message(a, APP_MSG_ERROR, "%s", err.message);
	session_set_project(a->session, p); /* the session's invoke context follows */
	broadcast(a, APP_EVENT_PROJECT);
	app_mark_all_dirty(a);
}

bool app_read_only(struct app *a)
{
	return a->g->read_only;
}

bool app_refuse_if_read_only(struct app *a, const char *what)
{
	if (!a->g->read_only)
		return false;
	app_message(a, APP_MSG_WARN, "read-only: %s is disabled", what);
	return true;
}

bool app_low_bandwidth(struct app *a)
{
	return a->g->low_bandwidth;
}

bool app_mouse(struct app *a)
{
	return a->mouse;
}

void app_mode_options(struct app *a, struct mode_options *o)
{
	cli_mode_options(a->g, app_project(a), o);
}

void app_mark_dirty(struct pane *p)
{
	if (p) {
		p->dirty = true;
		p->app->chrome_dirty |= p->ops->status != NULL; /* title text may change */
	}
}

void app_mark_all_dirty(struct app *a)
{
	a->chrome_dirty = a->status_dirty = true;
	for (int i = 0; i < PANES_COUNT; i++)
		a->panes[i].dirty = true;
}

struct pane *app_pane(struct app *a, const char *name)
{
	for (int i = 0; i < PANES_COUNT; i++)
		if (!strcmp(a->panes[i].ops->name, name))
			return &a->panes[i];
	return NULL;
}

static void set_focus(struct app *a, int index)
{
	if (index == a->focus || index < 0 || index >= PANES_COUNT)
		return;
	struct pane *old = focused(a);

	old->focused = false;
	if (!old->failed && old->ops->focus)
		old->ops->focus(old, false);
	keymap_reset(a->km);
	a->focus = index;
	focused(a)->focused = true;
	if (!focused(a)->failed && focused(a)->ops->focus)
		focused(a)->ops->focus(focused(a), true);
	if (a->zoomed >= 0) {
		a->zoomed = index;
		app_relayout(a);
	}
	app_mark_all_dirty(a);
}

void app_focus(struct app *a, struct pane *p)
{
	set_focus(a, p->index);
}

/* Clears expired messages and arms the timer for the next dim or clear. */
static void fade_cb(uv_timer_t *t)
{
	struct app *a = t->data;
	int64_t now = now_ms(), next = INT64_MAX;

	for (int i = 0; i < 2; i++) {
		if (!a->msgs[i].text[0])
			continue;
		if (now >= a->msgs[i].clear_at) {
			a->msgs[i].text[0] = '\0';
			continue;
		}
		if (now < a->msgs[i].dim_at && a->msgs[i].dim_at < next)
			next = a->msgs[i].dim_at;
		else if (a->msgs[i].clear_at < next)
			next = a->msgs[i].clear_at;
	}
	if (next != INT64_MAX)
		uv_timer_start(&a->fade_timer, fade_cb, (uint64_t)(next - now), 0);
	a->status_dirty = true;
}

/* Keeps a copy of a message for the messages view (the status bar shows it only a few
 * seconds and cuts it at its width). */
static void log_message(struct app *a, enum app_msg_level level, const char *text)
{
	struct msg_entry *e = &a->log[a->log_next];
	time_t now = time(NULL);
	struct tm tm;

	free(e->text);
	e->text = xstrdup(text);
	e->level = level;
	if (localtime_r(&now, &tm))
		strftime(e->time, sizeof(e->time), "%H:%M:%S", &tm);
	else
		e->time[0] = '\0';
	a->log_next = (a->log_next + 1) % MSG_LOG_MAX;
	if (a->log_n < MSG_LOG_MAX)
		a->log_n++;
}

void app_vmessage(struct app *a, enum app_msg_level level, const char *fmt, va_list ap)
{
	struct buf raw = {0}, clean = {0};
	int64_t now = now_ms();
	int show = level == APP_MSG_INFO ? MSG_SHOW_MS : MSG_SHOW_ERROR_MS;
	int slot = level == APP_MSG_INFO ? 0 : 1;

	buf_vprintf(&raw, fmt, ap);
	util_sanitize(raw.data ? raw.data : "", raw.len, false, false, &clean);
	snprintf(a->msgs[slot].text, sizeof(a->msgs[slot].text), "%s",
	         clean.data ? clean.data : "");
	log_message(a, level, clean.data ? clean.data : "");
	buf_free(&raw);
	buf_free(&clean);
	a->msgs[slot].level = level;
	a->msgs[slot].seq = ++a->msg_seq;
	a->msgs[slot].dim_at = now + show;
	/* The dimmed phase is decoration: --low-bandwidth skips it (one frame less). */
	a->msgs[slot].clear_at = now + show + (a->g->low_bandwidth ? 0 : MSG_DIM_MS);
	a->status_dirty = true;
	fade_cb(&a->fade_timer);
}

void app_message(struct app *a, enum app_msg_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	app_vmessage(a, level, fmt, ap);
	va_end(ap);
}

static void broadcast(struct app *a, enum app_event ev)
{
	if (!a->panes_ready)
		return;
	for (int i = 0; i < PANES_COUNT; i++)
		if (!a->panes[i].failed && a->panes[i].ops->event)
			a->panes[i].ops->event(&a->panes[i], ev);
}

void app_set_mode(struct app *a, const char *mode, const char *endpoint)
{
	struct buf clean = {0};

	util_sanitize(mode ? mode : "", mode ? strlen(mode) : 0, false, false, &clean);
	snprintf(a->mode_text, sizeof(a->mode_text), "%s", clean.data ? clean.data : "");
	buf_reset(&clean);
	util_sanitize(endpoint ? endpoint : "", endpoint ? strlen(endpoint) : 0, false, false,
	              &clean);
	snprintf(a->endpoint, sizeof(a->endpoint), "%s", clean.data ? clean.data : "");
	buf_free(&clean);
	a->status_dirty = true;
	broadcast(a, APP_EVENT_MODE);
}

const char *app_mode(struct app *a)
{
	return a->mode_text;
}

struct app_job *app_job_start(struct app *a, const char *name, app_job_cancel_fn cancel, void *ud)
{
	struct app_job *j = xcalloc(1, sizeof(*j));
	struct buf clean = {0};

	util_sanitize(name ? name : "job", name ? strlen(name) : 3, false, false, &clean);
	snprintf(j->name, sizeof(j->name), "%s", clean.data ? clean.data : "");
	buf_free(&clean);
	j->app = a;
	j->cancel = cancel;
	j->ud = ud;
	j->next = a->jobs;
	a->jobs = j;
	a->status_dirty = true;
	return j;
}

void app_job_progress(struct app_job *j, const char *phase, uint64_t done, uint64_t total)
{
	struct buf clean = {0};

	if (!j)
		return;
	util_sanitize(phase ? phase : "", phase ? strlen(phase) : 0, false, false, &clean);
	snprintf(j->phase, sizeof(j->phase), "%s", clean.data ? clean.data : "");
	buf_free(&clean);
	j->done = total && done > total ? total : done;
	j->total = total;
	j->app->status_dirty = true;
}

void app_job_finish(struct app_job *j, bool ok, const char *fmt, ...)
{
	struct app *a;
	va_list ap;

	if (!j)
		return;
	a = j->app;
	for (struct app_job **pp = &a->jobs; *pp; pp = &(*pp)->next)
		if (*pp == j) {
			*pp = j->next;
			break;
		}
	if (fmt) {
		va_start(ap, fmt);
		app_vmessage(a, ok ? APP_MSG_INFO : APP_MSG_ERROR, fmt, ap);
		va_end(ap);
	}
	free(j);
	a->status_dirty = true;
}

size_t app_jobs_running(struct app *a)
{
	size_t n = 0;

	for (struct app_job *j = a->jobs; j; j = j->next)
		n++;
	return n;
}

static void cancel_job(struct app_job *j)
{
	if (j->cancelled)
		return;
	j->cancelled = true;
	snprintf(j->phase, sizeof(j->phase), "cancelling");
	j->app->status_dirty = true;
	if (j->cancel)
		j->cancel(j->ud);
}

/* Cancels every job. A cancel may finish its job (and others) synchronously, freeing them,
 * or start new ones: after each cancel the walk starts again from the head, since no pointer
 * into the list survives the call; each job is cancelled once (cancel_job marks it). */
static void cancel_all_jobs(struct app *a)
{
	for (;;) {
		struct app_job *j = a->jobs;

		while (j && j->cancelled)
			j = j->next;
		if (!j)
			return;
		cancel_job(j);
	}
}

void app_select_function(struct app *a, const char *name)
{
	if ((!name && !a->selected) || (name && a->selected && !strcmp(name, a->selected)))
		return;
	free(a->selected);
	a->selected = xstrdup(name);
	broadcast(a, APP_EVENT_SELECTION);
}

const char *app_selected_function(struct app *a)
{
	return a->selected;
}

const char *app_key_for(struct app *a, struct pane *p, enum request req)
{
	return keymap_key_for(a->km, p ? p->ops->name : NULL, req);
}

/* --- prompt / confirm ------------------------------------------------------------------- */

/* Ends the prompt and calls its callback (which may open a new prompt). */
static void prompt_finish(struct app *a, bool accepted, bool yes)
{
	app_prompt_cb cb = a->prompt.cb;
	app_confirm_cb ccb = a->prompt.ccb;
	void *ud = a->prompt.ud;
	bool confirm = a->prompt.confirm;
	char *text = buf_steal(&a->prompt.text);

	a->prompt.active = false;
	a->prompt.cb = NULL;
	a->prompt.ccb = NULL;
	a->status_dirty = true;
	if (confirm && ccb)
		ccb(ud, yes);
	else if (!confirm && cb)
		cb(ud, accepted ? text : NULL);
	free(text);
}

void app_prompt(struct app *a, const char *question, const char *initial, app_prompt_cb cb,
                void *ud)
{
	if (a->prompt.active)
		prompt_finish(a, false, false);
	a->prompt.active = true;
	a->prompt.confirm = false;
	snprintf(a->prompt.question, sizeof(a->prompt.question), "%s", question ? question : "");
	buf_reset(&a->prompt.text);
	if (initial)
		buf_puts(&a->prompt.text, initial);
	a->prompt.cb = cb;
	a->prompt.ud = ud;
	a->status_dirty = true;
}

void app_confirm(struct app *a, const char *question, app_confirm_cb cb, void *ud)
{
	if (a->prompt.active)
		prompt_finish(a, false, false);
	a->prompt.active = true;
	a->prompt.confirm = true;
	snprintf(a->prompt.question, sizeof(a->prompt.question), "%s", question ? question : "");
	buf_reset(&a->prompt.text);
	a->prompt.ccb = cb;
	a->prompt.ud = ud;
	a->status_dirty = true;
}

static void prompt_key(struct app *a, int ch)
{
	struct buf *t = &a->prompt.text;

	a->status_dirty = true;
	if (a->prompt.confirm) {
		prompt_finish(a, true, ch == 'y' || ch == 'Y');
		return;
	}
	switch (ch) {
	case 27:
		prompt_finish(a, false, false);
		return;
	case '\n':
	case '\r':
	case KEY_ENTER:
		prompt_finish(a, true, false);
		return;
	case KEY_BACKSPACE:
	case 127:
	case 8:
		while (t->len > 0 && ((unsigned char)t->data[t->len - 1] & 0xc0) == 0x80)
			t->len--;
		if (t->len > 0)
			t->len--;
		if (t->data)
			t->data[t->len] = '\0';
		return;
	case 'u' & 0x1f:
		buf_reset(t);
		if (t->data)
			t->data[0] = '\0';
		return;
	default:
		if (ch >= 0x20 && ch < 0x100 && ch != 0x7f && t->len < PROMPT_MAX)
			buf_putc(t, (char)ch);
	}
}

static void confirm_quit_cb(void *ud, bool yes)
{
	struct app *a = ud;

	if (yes)
		app_quit_now(a, 0);
}

static void app_request_quit(struct app *a)
{
	size_t n = 0;
	const char *name = NULL;
	char q[256];

	for (struct app_job *j = a->jobs; j; j = j->next)
		if (!j->background) {
			n++;
			name = name ? name : j->name;
		}
	if (n == 0) {
		app_quit_now(a, 0);
		return;
	}
	snprintf(q, sizeof(q), "%zu job%s running (%s). Quit anyway? [y/n]", n, n > 1 ? "s" : "",
	         name);
	app_confirm(a, q, confirm_quit_cb, a);
}

static void app_quit_now(struct app *a, int status)
{
	a->quitting = true;
	a->exit_status = status;
	cancel_all_jobs(a);
	uv_stop(&a->loop);
}

/* --- help overlay ----------------------------------------------------------------------- */

static void help_free(struct app *a)
{
	for (size_t i = 0; i < a->n_help_lines; i++) {
		free(a->help_lines[i].keys);
		free(a->help_lines[i].help);
	}
	free(a->help_lines);
	a->help_lines = NULL;
	a->n_help_lines = 0;
}

static void help_add_line(struct app *a, const char *keys, char *help, bool header,
                          enum request req)
{
	a->help_lines = xrealloc(a->help_lines, (a->n_help_lines + 1) * sizeof(*a->help_lines));
	a->help_lines[a->n_help_lines++] = (struct help_line){xstrdup(keys), help, header, req};
}

/* Width of the overlay's text column for the current screen (see help_draw). */
static int help_text_width(struct app *a)
{
	int w = a->cols - 8;

	if (w > 78)
		w = 78;
	return w - 22 > 10 ? w - 22 : 10;
}

/* Adds a line; a text wider than the overlay's text column is wrapped at blanks (long words
 * are cut) onto continuation lines, so nothing is ever cut off. */
static void help_add_req(struct app *a, const char *keys, const char *help, bool header,
                         enum request req)
{
	int width = help_text_width(a);
	const char *s = help;

	if (!help || header) {
		help_add_line(a, keys, NULL, header, req);
		return;
	}
	do {
		const char *p = s, *brk = NULL, *end;
		int cols = 0;

		while (*p && cols < width) {
			if (*p == ' ')
				brk = p;
			p++;
			while ((*p & 0xc0) == 0x80)
				p++;
			cols++;
		}
		end = !*p ? p : brk && brk > s ? brk : p;
		help_add_line(a, s == help ? keys : "", xstrndup(s, (size_t)(end - s)), false, req);
		s = end;
		while (*s == ' ')
			s++;
	} while (*s);
}

static void help_add(struct app *a, const char *keys, const char *help, bool header)
{
	help_add_req(a, keys, help, header, REQ_NONE);
}

/* Collects bindings, merging the keys of one request onto one line (the first of its
 * wrapped lines). */
static void help_binding_cb(const struct keymap_binding *b, void *ud)
{
	struct app *a = ud;
	size_t n = a->n_help_lines;

	/* A global key the focused pane binds to something else does not apply here. */
	if (!strcmp(b->scope, "global") &&
	    keymap_bound(a->km, focused(a)->ops->name, b->keys) != REQ_NONE)
		return;
	if (n && !a->help_lines[n - 1].header && a->help_lines[n - 1].req == b->request &&
	    b->request != REQ_NONE) {
		struct help_line *first = &a->help_lines[n - 1];
		char *keys;

		while (first > a->help_lines && !first->keys[0] && first[-1].req == b->request)
			first--;
		keys = xasprintf("%s %s", first->keys, b->keys);
		free(first->keys);
		first->keys = keys;
		return;
	}
	help_add_req(a, b->keys, request_help(b->request), false, b->request);
}

static void help_open(struct app *a)
{
	struct pane *p = focused(a);
	size_t before;
	char header[128];

	help_free(a);
	snprintf(header, sizeof(header), "%s pane", p->ops->title);
	help_add(a, header, NULL, true);
	before = a->n_help_lines;
	keymap_foreach(a->km, p->ops->name, help_binding_cb, a);
	if (a->n_help_lines == before)
		help_add(a, "", "(no keys of its own yet)", false);
	help_add(a, "", NULL, false);
	help_add(a, "Global", NULL, true);
	keymap_foreach(a->km, "global", help_binding_cb, a);
	help_add(a, "", NULL, false);
	help_add(a, a->mouse ? "Mouse (on)" : "Mouse (off)", NULL, true);
	if (a->mouse) {
		help_add(a, "click", "Focus the pane, select the row; '? help' opens this", false);
		help_add(a, "wheel", "Scroll the pane under the pointer", false);
		help_add(a, "Shift+drag",
		         "Select text (the terminal's own; the mouse request above: plain drag)",
		         false);
	} else {
		help_add(a, "", "The mouse request above turns it on (--mouse at start)", false);
	}
	a->help_open = true;
	a->help_title = " Help: keys ";
	a->help_scroll = 0;
	a->chrome_dirty = true;
}

/* The messages view: every message kept (MSG_LOG_MAX), newest first, whole and wrapped, in
 * the help overlay (tig's and vim's :messages). */
static void messages_open(struct app *a)
{
	help_free(a);
	if (!a->log_n)
		help_add(a, "", "(no messages yet)", false);
	for (size_t k = 0; k < a->log_n; k++) {
		const struct msg_entry *e =
		    &a->log[(a->log_next + MSG_LOG_MAX - 1 - k) % MSG_LOG_MAX];
		char keys[48];

		snprintf(keys, sizeof(keys), "%s %s", e->time,
		         e->level == APP_MSG_ERROR  ? "error"
		         : e->level == APP_MSG_WARN ? "warning"
		                                    : "");
		help_add(a, keys, e->text, false);
	}
	a->help_open = true;
	a->help_title = " Messages (newest first) ";
	a->help_scroll = 0;
	a->chrome_dirty = true;
}

static void help_close(struct app *a)
{
	a->help_open = false;
	help_free(a);
	if (a->help_win) {
		delwin(a->help_win);
		a->help_win = NULL;
	}
	app_mark_all_dirty(a);
}

static void help_draw(struct app *a)
{
	int h = a->rows - 2, w = a->cols - 8, body;

	if (w > 78)
		w = 78;
	if ((int)a->n_help_lines + 4 < h)
		h = (int)a->n_help_lines + 4;
	if (a->help_win)
		delwin(a->help_win);
	a->help_win = newwin(h, w, (a->rows - 1 - h) / 2, (a->cols - w) / 2);
	if (!a->help_win)
		return;
	body = h - 4;
	if (a->help_scroll > (int)a->n_help_lines - body)
		a->help_scroll = (int)a->n_help_lines - body;
	if (a->help_scroll < 0)
		a->help_scroll = 0;
	werase(a->help_win);
	wattrset(a->help_win, theme_attr(THEME_BORDER_FOCUS));
	for (int y = 0; y < h; y++) {
		for (int x = 0; x < w; x++) {
			const char *g = NULL;

			if (y == 0 && x == 0)
				g = theme_glyph(THEME_GLYPH_ULCORNER);
			else if (y == 0 && x == w - 1)
				g = theme_glyph(THEME_GLYPH_URCORNER);
			else if (y == h - 1 && x == 0)
				g = theme_glyph(THEME_GLYPH_LLCORNER);
			else if (y == h - 1 && x == w - 1)
				g = theme_glyph(THEME_GLYPH_LRCORNER);
			else if (y == 0 || y == h - 1)
				g = theme_glyph(THEME_GLYPH_HLINE);
			else if (x == 0 || x == w - 1)
				g = theme_glyph(THEME_GLYPH_VLINE);
			if (g)
				mvwaddstr(a->help_win, y, x, g);
		}
	}
	wattrset(a->help_win, theme_attr(THEME_TITLE_FOCUS));
	mvwaddstr(a->help_win, 0, 2, a->help_title ? a->help_title : " Help: keys ");
	for (int i = 0; i < body && a->help_scroll + i < (int)a->n_help_lines; i++) {
		const struct help_line *l = &a->help_lines[a->help_scroll + i];

		wmove(a->help_win, 2 + i, 2);
		if (l->header) {
			wattrset(a->help_win, theme_attr(THEME_HEADER));
			theme_put_clipped(a->help_win, l->keys, w - 4);
			continue;
		}
		wattrset(a->help_win, theme_attr(THEME_KEY));
		theme_put_clipped(a->help_win, l->keys, 16);
		wattrset(a->help_win, theme_attr(THEME_NORMAL));
		if (l->help) {
			wmove(a->help_win, 2 + i, 20);
			theme_put_clipped(a->help_win, l->help, w - 22);
		}
	}
	wattrset(a->help_win, theme_attr(THEME_DIM));
	wmove(a->help_win, h - 1, 2);
	theme_put_clipped(a->help_win,
	                  a->n_help_lines > (size_t)body ? " Esc/q/? close, arrows scroll "
	                                                 : " Esc/q/? close ",
	                  w - 4);
	wattrset(a->help_win, theme_attr(THEME_NORMAL));
	wnoutrefresh(a->help_win);
}

static void help_key(struct app *a, int ch)
{
	enum request req = REQ_NONE;
	enum keymap_result r = keymap_feed(a->km, NULL, ch, &req);
	int page = a->rows - 6 > 1 ? a->rows - 6 : 1;

	if (r == KEYMAP_PENDING)
		return;
	if (ch == 27 || ch == 'q' || req == REQ_HELP || req == REQ_BACK || req == REQ_QUIT ||
	    req == REQ_MESSAGES) {
		help_close(a);
		return;
	}
	switch (req) {
	case REQ_MOVE_UP:
		a->help_scroll--;
		break;
	case REQ_MOVE_DOWN:
		a->help_scroll++;
		break;
	case REQ_PAGE_UP:
	case REQ_HALF_PAGE_UP:
		a->help_scroll -= page;
		break;
	case REQ_PAGE_DOWN:
	case REQ_HALF_PAGE_DOWN:
		a->help_scroll += page;
		break;
	case REQ_MOVE_TOP:
		a->help_scroll = 0;
		break;
	case REQ_MOVE_BOTTOM:
		a->help_scroll = (int)a->n_help_lines;
		break;
	default:
		return;
	}
	a->chrome_dirty = true;
}

/* --- layout and drawing ----------------------------------------------------------------- */

/* Recomputes the layout for the current size and zoom and (re)creates the windows. */
static void app_relayout(struct app *a)
{
	layout_compute(a->rows, a->cols, a->zoomed, &a->layout);
	for (int i = 0; i < PANES_COUNT; i++) {
		struct pane *p = &a->panes[i];
		const struct layout_rect *r = &a->layout.pane[i];
		int rows = r->h > 2 ? r->h - 2 : 0, cols = r->w > 2 ? r->w - 2 : 0;

		if (a->layout.too_small)
			rows = cols = 0;
		if (p->win) {
			delwin(p->win);
			p->win = NULL;
		}
		if (rows > 0 && cols > 0)
			p->win = newwin(rows, cols, r->y + 1, r->x + 1);
		if (!p->win)
			rows = cols = 0;
		if (rows != p->rows || cols != p->cols) {
			p->rows = rows;
			p->cols = cols;
			if (!p->failed && p->ops->resize)
				p->ops->resize(p);
		}
	}
	if (a->status_win)
		delwin(a->status_win);
	a->status_win = a->layout.too_small ? NULL : newwin(1, a->cols, a->rows - 1, 0);
	if (a->help_win) {
		delwin(a->help_win);
		a->help_win = NULL;
	}
	app_mark_all_dirty(a);
}

/* Reads the terminal size from the tty and resizes curses to it. */
static void app_resize(struct app *a, bool force)
{
	struct winsize ws;

	if (a->editor_running) {
		a->editor_resize_pending = true;
		return;
	}
	/* resizeterm queues a KEY_RESIZE when the size changed; that comes back here through
	 * handle_key and then finds nothing to do, so this never loops. */
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0 &&
	    is_term_resized(ws.ws_row, ws.ws_col))
		resizeterm(ws.ws_row, ws.ws_col);
	if (a->rows == LINES && a->cols == COLS && !force)
		return;
	a->rows = LINES;
	a->cols = COLS;
	app_relayout(a);
	a->force_full = true;
}

static void draw_frame(struct app *a, int i)
{
	struct pane *p = &a->panes[i];
	const struct layout_rect *r = &a->layout.pane[i];
	bool f = p->focused;
	const char *hl = theme_glyph(f ? THEME_GLYPH_HLINE_HEAVY : THEME_GLYPH_HLINE);
	const char *vl = theme_glyph(f ? THEME_GLYPH_VLINE_HEAVY : THEME_GLYPH_VLINE);
	char title[160], status[96];
	int x, room;

	if (r->h < 2 || r->w < 2)
		return;
	wattrset(stdscr, theme_attr(f ? THEME_BORDER_FOCUS : THEME_BORDER));
	mvwaddstr(stdscr, r->y, r->x,
	          theme_glyph(f ? THEME_GLYPH_ULCORNER_HEAVY : THEME_GLYPH_ULCORNER));
	for (x = 1; x < r->w - 1; x++)
		waddstr(stdscr, hl);
	waddstr(stdscr, theme_glyph(f ? THEME_GLYPH_URCORNER_HEAVY : THEME_GLYPH_URCORNER));
	for (int y = 1; y < r->h - 1; y++) {
		mvwaddstr(stdscr, r->y + y, r->x, vl);
		mvwaddstr(stdscr, r->y + y, r->x + r->w - 1, vl);
	}
	mvwaddstr(stdscr, r->y + r->h - 1, r->x,
	          theme_glyph(f ? THEME_GLYPH_LLCORNER_HEAVY : THEME_GLYPH_LLCORNER));
	for (x = 1; x < r->w - 1; x++)
		waddstr(stdscr, hl);
	waddstr(stdscr, theme_glyph(f ? THEME_GLYPH_LRCORNER_HEAVY : THEME_GLYPH_LRCORNER));

	snprintf(title, sizeof(title), " %d %s%s ", i + 1, p->ops->title,
	         a->zoomed == i ? " [zoom]" : "");
	room = r->w - 4;
	wattrset(stdscr, theme_attr(f ? THEME_TITLE_FOCUS : THEME_TITLE));
	wmove(stdscr, r->y, r->x + 2);
	room -= theme_put_clipped(stdscr, title, room);
	status[0] = '\0';
	if (!p->failed && p->ops->status && p->ops->status(p, status, sizeof(status)) &&
	    status[0] && room > 4) {
		struct buf clean = {0};

		util_sanitize(status, strlen(status), false, false, &clean);
		wattrset(stdscr, theme_attr(THEME_DIM));
		waddch(stdscr, ' ');
		theme_put_clipped(stdscr, clean.data ? clean.data : "", room - 2);
		waddch(stdscr, ' ');
		buf_free(&clean);
	}
	wattrset(stdscr, theme_attr(THEME_NORMAL));
}

static void draw_pane(struct app *a, struct pane *p)
{
	(void)a;
	werase(p->win);
	if (p->failed) {
		wattrset(p->win, theme_attr(THEME_FAIL));
		wmove(p->win, 0, 1);
		theme_put_clipped(p->win, p->failure, p->cols - 2);
		wattrset(p->win, theme_attr(THEME_NORMAL));
	} else {
		p->ops->draw(p);
	}
	p->dirty = false;
}

/* Writes text clipped to the room left on the status line; returns columns used. */
static int status_put(WINDOW *w, const char *s, enum theme_role role, int *room)
{
	int n;

	if (*room <= 0)
		return 0;
	wattrset(w, theme_attr(role));
	n = theme_put_clipped(w, s, *room);
	*room -= n;
	return n;
}

static void draw_status(struct app *a)
{
	WINDOW *w = a->status_win;
	int room = a->cols;
	char tmp[256];

	if (!w)
		return;
	wbkgdset(w, ' ' | theme_attr(THEME_STATUS));
	werase(w);
	wmove(w, 0, 0);
	if (a->prompt.active) {
		snprintf(tmp, sizeof(tmp), " %.200s%s", a->prompt.question,
		         a->prompt.confirm ? " " : ": ");
		status_put(w, tmp, THEME_STATUS_JOB, &room);
		if (!a->prompt.confirm) {
			const char *t = a->prompt.text.data ? a->prompt.text.data : "";
			int tw = theme_text_width(t);

			/* Show the end of long input. */
			while (tw > room - 2 && *t) {
				t++;
				while ((*t & 0xc0) == 0x80)
					t++;
				tw = theme_text_width(t);
			}
			status_put(w, t, THEME_STATUS, &room);
			status_put(w, " ", THEME_SELECTED, &room);
		}
		wnoutrefresh(w);
		return;
	}
	/* The help hint always keeps its place at the right; everything else is clipped. */
	const char *help_key = keymap_key_for(a->km, focused(a)->ops->name, REQ_HELP);
	char hint[64];
	int hint_w;

	snprintf(hint, sizeof(hint), " %s help ", help_key ? help_key : "?");
	hint_w = theme_text_width(hint);
	if (hint_w + 20 <= room)
		room -= hint_w;
	else
		hint_w = 0;
	a->hint_x = a->cols - hint_w;
	a->hint_w = hint_w;
	snprintf(tmp, sizeof(tmp), " %s ", a->mode_text);
	status_put(w, tmp, THEME_STATUS_MODE, &room);
	if (a->endpoint[0]) {
		snprintf(tmp, sizeof(tmp), " %s", a->endpoint);
		status_put(w, tmp, THEME_STATUS, &room);
	}
	if (a->g->read_only)
		status_put(w, " [read-only]", THEME_MSG_WARN, &room);
	if (a->g->low_bandwidth)
		status_put(w, " [low-bandwidth]", THEME_STATUS_JOB, &room);
	for (struct app_job *j = a->jobs; j && room > 10; j = j->next) {
		status_put(w, " ", THEME_STATUS, &room);
		status_put(w, theme_glyph(THEME_GLYPH_SEPARATOR), THEME_STATUS, &room);
		snprintf(tmp, sizeof(tmp), " %s%s%s ", j->name, j->phase[0] ? " " : "", j->phase);
		status_put(w, tmp, THEME_STATUS_JOB, &room);
		if (j->total > 0) {
			int cells = 10, full = (int)(j->done * (uint64_t)cells / j->total);

			for (int c = 0; c < cells; c++)
				status_put(w,
				           theme_glyph(c < full ? THEME_GLYPH_BAR_FULL
				                                : THEME_GLYPH_BAR_EMPTY),
				           THEME_PROGRESS, &room);
			snprintf(tmp, sizeof(tmp), " %d%%", (int)(j->done * 100 / j->total));
			status_put(w, tmp, THEME_STATUS_JOB, &room);
		} else if (j->done > 0) {
			snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)j->done);
			status_put(w, tmp, THEME_STATUS_JOB, &room);
		}
	}
	const char *more_key = keymap_key_for(a->km, focused(a)->ops->name, REQ_MESSAGES);
	char more[48];

	snprintf(more, sizeof(more), "… %s: whole", more_key ? more_key : "");
	for (int k = 0; k < 2; k++) {
		int newest = a->msgs[1].seq > a->msgs[0].seq ? 1 : 0;
		int i = k == 0 ? newest : 1 - newest;
		enum theme_role role = a->msgs[i].level == APP_MSG_ERROR  ? THEME_MSG_ERROR
		                       : a->msgs[i].level == APP_MSG_WARN ? THEME_MSG_WARN
		                                                          : THEME_MSG_INFO;

		if (!a->msgs[i].text[0])
			continue;
		if (now_ms() >= a->msgs[i].dim_at)
			role = THEME_DIM;
		status_put(w, "  ", THEME_STATUS, &room);
		/* A message cut at the width says how to read it whole. */
		if (more_key && theme_text_width(a->msgs[i].text) > room &&
		    room > theme_text_width(more) + 12) {
			int keep = room - theme_text_width(more);

			room -= status_put(w, a->msgs[i].text, role, &keep);
			status_put(w, more, THEME_KEY, &room);
		} else {
			status_put(w, a->msgs[i].text, role, &room);
		}
		status_put(w, " ", THEME_STATUS, &room);
	}
	if (keymap_pending_text(a->km)[0]) {
		snprintf(tmp, sizeof(tmp), "  %s-", keymap_pending_text(a->km));
		status_put(w, tmp, THEME_KEY, &room);
	}
	if (hint_w > 0) {
		wmove(w, 0, a->cols - hint_w);
		wattrset(w, theme_attr(THEME_STATUS));
		theme_put_clipped(w, hint, hint_w);
	}
	wattrset(w, theme_attr(THEME_NORMAL));
	wnoutrefresh(w);
}

static void draw_too_small(struct app *a)
{
	char line[128];
	int y = a->rows / 2;

	werase(stdscr);
	snprintf(line, sizeof(line), "terminal too small (need 80%s24)",
	         theme_ascii() ? "x" : "\xc3\x97");
	wattrset(stdscr, theme_attr(THEME_WARN));
	wmove(stdscr, y > 0 ? y - 1 : 0, 0);
	if (theme_text_width(line) < a->cols)
		wmove(stdscr, y > 0 ? y - 1 : 0, (a->cols - theme_text_width(line)) / 2);
	theme_put_clipped(stdscr, line, a->cols);
	snprintf(line, sizeof(line), "now %dx%d; q quits", a->cols, a->rows);
	wattrset(stdscr, theme_attr(THEME_DIM));
	wmove(stdscr, y, 0);
	if ((int)strlen(line) < a->cols)
		wmove(stdscr, y, (a->cols - (int)strlen(line)) / 2);
	theme_put_clipped(stdscr, line, a->cols);
	wattrset(stdscr, theme_attr(THEME_NORMAL));
	wnoutrefresh(stdscr);
}

static bool anything_dirty(struct app *a)
{
	if (a->chrome_dirty || a->status_dirty || a->force_full)
		return true;
	for (int i = 0; i < PANES_COUNT; i++)
		if (a->panes[i].dirty && pane_visible(&a->panes[i]))
			return true;
	return false;
}

/* Draws everything dirty and flushes once. */
static void app_render(struct app *a)
{
	bool chrome = a->chrome_dirty || a->force_full;

	a->last_frame_ns = util_monotonic_ns();
	a->frames++;
	if (a->force_full)
		clearok(curscr, TRUE);
	if (a->layout.too_small) {
		draw_too_small(a);
	} else {
		if (chrome) {
			werase(stdscr);
			for (int i = 0; i < PANES_COUNT; i++)
				if (a->layout.pane[i].h > 0)
					draw_frame(a, i);
			wnoutrefresh(stdscr);
		}
		for (int i = 0; i < PANES_COUNT; i++) {
			struct pane *p = &a->panes[i];

			if (!pane_visible(p))
				continue;
			if (p->dirty)
				draw_pane(a, p);
			else if (chrome)
				touchwin(p->win);
			else
				continue;
			wnoutrefresh(p->win);
		}
		if (a->status_dirty || chrome)
			draw_status(a);
		if (a->help_open)
			help_draw(a);
	}
	a->chrome_dirty = a->status_dirty = a->force_full = a->input_frame = false;
	for (int i = 0; i < PANES_COUNT; i++)
		a->panes[i].dirty = false;
	doupdate();
}

static void frame_timer_cb(uv_timer_t *t)
{
	struct app *a = t->data;

	if (!a->editor_running && anything_dirty(a))
		app_render(a);
}

/* Once per loop pass: draw if something is dirty and the frame budget allows. */
static void prepare_cb(uv_prepare_t *h)
{
	struct app *a = h->data;
	uint64_t now, since;

	if (a->editor_running || a->quitting || !anything_dirty(a))
		return;
	now = util_monotonic_ns();
	since = now - a->last_frame_ns;
	if (a->frames > 0 && since < a->frame_ns && !a->input_frame) {
		if (!uv_is_active((uv_handle_t *)&a->frame_timer))
			uv_timer_start(&a->frame_timer, frame_timer_cb,
			               (a->frame_ns - since) / 1000000u + 1, 0);
		return;
	}
	app_render(a);
}

/* --- input -------------------------------------------------------------------------------- */

static void apply_result(struct app *a, struct pane *p, int r)
{
	if (r & PANE_REDRAW)
		app_mark_dirty(p);
	if (r & PANE_RELAYOUT) {
		app_relayout(a);
	}
	if (r & PANE_QUIT)
		app_request_quit(a);
}

static void toggle_zoom(struct app *a)
{
	a->zoomed = a->zoomed >= 0 ? -1 : a->focus;
	app_relayout(a);
}

/* The mouse request: turns reporting off (the terminal's plain drag selects text again) or
 * back on. */
static void mouse_toggle(struct app *a)
{
	const char *key = keymap_key_for(a->km, focused(a)->ops->name, REQ_MOUSE);

	if (a->mouse) {
		mousemask(0, NULL);
		a->mouse = false;
		app_message(a, APP_MSG_INFO, "mouse off: drag selects text%s%s%s", key ? "; " : "",
		            key ? key : "", key ? " turns it on" : "");
		return;
	}
	a->mouse = mousemask(MOUSE_EVENTS, NULL) != 0;
	if (a->mouse)
		app_message(a, APP_MSG_INFO, "mouse on: click focuses and selects, wheel scrolls");
	else
		app_message(a, APP_MSG_WARN, "the terminal (TERM=%s) reports no mouse",
		            getenv("TERM") ? getenv("TERM") : "");
}

static void dispatch_request(struct app *a, enum request req)
{
	struct pane *p = focused(a);
	int r;

	switch (req) {
	case REQ_QUIT:
		app_request_quit(a);
		return;
	case REQ_HELP:
		if (!a->layout.too_small)
			help_open(a);
		return;
	case REQ_MESSAGES:
		if (!a->layout.too_small)
			messages_open(a);
		return;
	case REQ_FOCUS_NEXT:
		set_focus(a, (a->focus + 1) % PANES_COUNT);
		return;
	case REQ_FOCUS_PREV:
		set_focus(a, (a->focus + PANES_COUNT - 1) % PANES_COUNT);
		return;
	case REQ_FOCUS_1:
	case REQ_FOCUS_2:
	case REQ_FOCUS_3:
	case REQ_FOCUS_4:
		set_focus(a, (int)(req - REQ_FOCUS_1));
		return;
	case REQ_ZOOM:
		toggle_zoom(a);
		return;
	case REQ_REDRAW:
		app_mark_all_dirty(a);
		a->force_full = true;
		return;
	case REQ_COMMAND:
		app_prompt(a, "request", NULL, command_cb, a);
		return;
	case REQ_EDIT_KEYS:
		edit_keys(a);
		return;
	case REQ_MOUSE:
		mouse_toggle(a);
		return;
	case REQ_CANCEL_JOB: {
		/* The most recent job the user can cancel (the shell's own are not). */
		struct app_job *j = a->jobs;

		while (j && (j->background || j->cancelled))
			j = j->next;
		if (j) {
			app_message(a, APP_MSG_INFO, "cancelling %s", j->name);
			cancel_job(j);
		} else {
			app_message(a, APP_MSG_INFO, "no job is running");
		}
		return;
	}
	default:
		break;
	}
	if (a->layout.too_small)
		return;
	r = p->failed ? PANE_UNHANDLED : p->ops->request(p, req);
	if (r == PANE_UNHANDLED && req == REQ_BACK && a->zoomed >= 0)
		toggle_zoom(a); /* Esc leaves the zoom when the pane has no use for it */
	apply_result(a, p, r);
}

/* The pane whose rectangle (border included) holds the screen cell; -1 for none. */
static int pane_at(struct app *a, int y, int x)
{
	for (int i = 0; i < PANES_COUNT; i++) {
		const struct layout_rect *r = &a->layout.pane[i];

		if (r->h > 0 && y >= r->y && y < r->y + r->h && x >= r->x && x < r->x + r->w)
			return i;
	}
	return -1;
}

/* A mouse action while the help overlay is open: the wheel scrolls it, a click outside it
 * closes it. */
static void help_mouse(struct app *a, enum pane_mouse_kind kind, int y, int x)
{
	int wy = 0, wx = 0, wh = 0, ww = 0;

	if (kind != PANE_MOUSE_CLICK) {
		a->help_scroll +=
		    kind == PANE_MOUSE_WHEEL_UP ? -PANE_WHEEL_LINES : PANE_WHEEL_LINES;
		a->chrome_dirty = true;
		return;
	}
	if (a->help_win) {
		getbegyx(a->help_win, wy, wx);
		getmaxyx(a->help_win, wh, ww);
	}
	if (y < wy || y >= wy + wh || x < wx || x >= wx + ww)
		help_close(a);
}

/* KEY_MOUSE: finds the pane under the pointer; a click focuses it and, inside its border,
 * goes to the pane's mouse(); the wheel goes to the pane under the pointer (its mouse(), else
 * move requests) without moving the focus. A click on the status bar's "? help" opens the
 * help. Nothing happens while a prompt has the keyboard or when mouse support is off (the
 * report is read and dropped, so its bytes never become keys). */
static void handle_mouse(struct app *a)
{
	MEVENT ev;
	struct pane_mouse m;
	struct pane *p;
	const struct layout_rect *r;
	int i, res = PANE_UNHANDLED;

	if (getmouse(&ev) != OK || !a->mouse || a->prompt.active || a->layout.too_small)
		return;
	if (ev.bstate & BUTTON4_PRESSED)
		m.kind = PANE_MOUSE_WHEEL_UP;
	else if (ev.bstate & BUTTON5_PRESSED)
		m.kind = PANE_MOUSE_WHEEL_DOWN;
	else if (ev.bstate & BUTTON1_PRESSED)
		m.kind = PANE_MOUSE_CLICK;
	else
		return;
	if (a->help_open) {
		help_mouse(a, m.kind, ev.y, ev.x);
		return;
	}
	if (ev.y == a->rows - 1) {
		if (m.kind == PANE_MOUSE_CLICK && a->hint_w > 0 && ev.x >= a->hint_x)
			help_open(a);
		return;
	}
	if ((i = pane_at(a, ev.y, ev.x)) < 0)
		return;
	p = &a->panes[i];
	r = &a->layout.pane[i];
	m.y = ev.y - r->y - 1;
	m.x = ev.x - r->x - 1;
	if (m.kind == PANE_MOUSE_CLICK) {
		keymap_reset(a->km);
		a->status_dirty = true;
		set_focus(a, i);
		if (m.y < 0 || m.y >= p->rows || m.x < 0 || m.x >= p->cols)
			return; /* the border: focus only */
		if (!p->failed && p->ops->mouse)
			apply_result(a, p, p->ops->mouse(p, &m));
		return;
	}
	if (!pane_visible(p) || p->failed)
		return;
	/* The wheel over the border scrolls as if over the nearest content cell. */
	m.y = m.y < 0 ? 0 : m.y >= p->rows ? p->rows - 1 : m.y;
	m.x = m.x < 0 ? 0 : m.x >= p->cols ? p->cols - 1 : m.x;
	if (p->ops->mouse)
		res = p->ops->mouse(p, &m);
	for (int k = 0; res == PANE_UNHANDLED && k < PANE_WHEEL_LINES; k++) {
		int rk =
		    p->ops->request(p, m.kind == PANE_MOUSE_WHEEL_UP ? REQ_MOVE_UP : REQ_MOVE_DOWN);

		if (rk == PANE_UNHANDLED)
			break;
		apply_result(a, p, rk);
	}
	apply_result(a, p, res);
}

static void handle_key(struct app *a, int ch)
{
	struct pane *p = focused(a);
	enum request req;

	if (ch == KEY_MOUSE) {
		handle_mouse(a);
		return;
	}
	if (ch == KEY_RESIZE) {
		app_resize(a, false);
		return;
	}
	if (a->prompt.active) {
		prompt_key(a, ch);
		return;
	}
	if (a->help_open) {
		help_key(a, ch);
		return;
	}
	if (!a->layout.too_small && !p->failed && p->ops->key) {
		int r = p->ops->key(p, ch);

		if (r != PANE_UNHANDLED) {
			apply_result(a, p, r);
			return;
		}
	}
	switch (keymap_feed(a->km, p->ops->name, ch, &req)) {
	case KEYMAP_MATCH:
		a->status_dirty = true; /* the pending prefix, if any, is gone */
		dispatch_request(a, req);
		break;
	case KEYMAP_PENDING:
		a->status_dirty = true;
		break;
	case KEYMAP_NONE:
		a->status_dirty |= ch == 27;
		break;
	}
}

static void stdin_cb(uv_poll_t *h, int status, int events)
{
	struct app *a = h->data;
	int ch, n = 0;

	if (status < 0 || (events & UV_DISCONNECT)) {
		app_quit_now(a, 129); /* the terminal went away */
		return;
	}
	/* Bounded, so a flood of input never starves the rest of the loop. */
	while (n < 512 && !a->editor_running && !a->quitting &&
	       (ch = wgetch(a->input_win)) != ERR) {
		n++;
		handle_key(a, ch);
	}
	/* A key is answered in this loop pass, not at the next frame of the budget (which only
	 * paces output the loop's other events cause): people press keys a few times a second. */
	a->input_frame |= n > 0;
	/* A readable tty that yields nothing, again and again, has hung up. */
	a->empty_reads = n ? 0 : a->empty_reads + 1;
	if (a->empty_reads > STDIN_EMPTY_READS_EOF)
		app_quit_now(a, 129);
}

static void signal_cb(uv_signal_t *h, int signum)
{
	struct app *a = h->data;

	if (signum == SIGWINCH) {
		app_resize(a, false);
		return;
	}
	if ((signum == SIGINT || signum == SIGQUIT) && a->editor_running)
		return; /* Ctrl-C and Ctrl-\ belong to the editor */
	app_quit_now(a, 128 + signum);
}

/* --- editor ------------------------------------------------------------------------------- */

/* Takes the terminal back after the editor: curses modes, stdin, full redraw. */
static void editor_return(struct app *a)
{
	a->editor_running = false;
	reset_prog_mode();
	uv_poll_start(&a->stdin_poll, UV_READABLE | UV_DISCONNECT, stdin_cb);
	app_resize(a, true); /* the size may have changed meanwhile; also forces a full redraw */
	a->editor_resize_pending = false;
}

static void editor_close_cb(uv_handle_t *h)
{
	(void)h;
}

static void editor_exit_cb(uv_process_t *proc, int64_t exit_status, int term_signal)
{
	struct app *a = proc->data;
	app_editor_cb cb = a->editor_cb;
	void *ud = a->editor_ud;
	int status = term_signal ? 128 + term_signal : (int)exit_status;

	uv_close((uv_handle_t *)proc, editor_close_cb);
	if (a->quitting) {
		/* stopped by the teardown (editor_stop): no screen to hand back; the owner still
		 * hears of it, so it can keep what was saved */
		a->editor_running = false;
		a->editor_cb = NULL;
		a->editor_ud = NULL;
		if (cb)
			cb(ud, status, NULL);
		return;
	}
	editor_return(a);
	if (status != 0)
		app_message(a, APP_MSG_WARN, "editor exited with status %d", status);
	a->editor_cb = NULL;
	a->editor_ud = NULL;
	if (cb)
		cb(ud, status, NULL);
	broadcast(a, APP_EVENT_EDITOR_RETURN);
}

int app_edit_file(struct app *a, const char *path, int line, bool read_only, app_editor_cb cb,
                  void *ud)
{
	char **argv;
	uv_process_options_t opts = {0};
	uv_stdio_container_t stdio[3];
	int rc;

	if (a->editor_running) {
		app_message(a, APP_MSG_WARN, "an editor is already open");
		return -1;
	}
	if (!read_only && app_refuse_if_read_only(a, "editing"))
		return -1;
	argv = editor_argv(getenv("VISUAL"), getenv("EDITOR"), path, line, read_only);
	for (int i = 0; i < 3; i++) {
		stdio[i].flags = UV_INHERIT_FD;
		stdio[i].data.fd = i;
	}
	opts.file = argv[0];
	opts.args = argv;
	opts.stdio = stdio;
	opts.stdio_count = 3;
	opts.exit_cb = editor_exit_cb;
	opts.cwd = app_project(a) && app_project(a)->dir ? app_project(a)->dir : NULL;

	uv_poll_stop(&a->stdin_poll);
	def_prog_mode();
	endwin();
	a->editor_running = true;
	a->editor_proc.data = a;
	rc = uv_spawn(&a->loop, &a->editor_proc, &opts);
	if (rc < 0) {
		/* uv_spawn needs the handle closed even on failure. */
		uv_close((uv_handle_t *)&a->editor_proc, editor_close_cb);
		editor_return(a);
		app_message(a, APP_MSG_ERROR,
		            "cannot start editor '%s': %s (set $VISUAL or $EDITOR)", argv[0],
		            uv_strerror(rc));
		editor_argv_free(argv);
		return -1;
	}
	editor_argv_free(argv);
	a->editor_cb = cb;
	a->editor_ud = ud;
	return 0;
}

/* --- terminal setup and teardown ---------------------------------------------------------- */

/* XON/XOFF flow control off (as raw mode would, keeping ISIG for Ctrl-C and Ctrl-\): Ctrl-S
 * no longer freezes the screen and Ctrl-S / Ctrl-Q reach the keymap. Curses is told the new
 * state (def_prog_mode), so it survives the editor's round trips; endwin brings the shell's
 * own modes back. */
static void flow_control_off(void)
{
	struct termios t;

	if (tcgetattr(STDIN_FILENO, &t) != 0)
		return;
	t.c_iflag &= ~(tcflag_t)(IXON | IXOFF);
	if (tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0)
		def_prog_mode();
}

static void editor_kill_cb(uv_timer_t *t)
{
	struct app *a = t->data;

	if (a->editor_running)
		uv_process_kill(&a->editor_proc, SIGKILL);
}

/* The console is going while an editor is open: the editor goes too rather than being left
 * on the terminal (SIGTERM, which editors answer by preserving their files; SIGKILL after
 * 3 s). Waits for it, with the loop running. */
static void editor_stop(struct app *a)
{
	if (!a->editor_running)
		return;
	uv_process_kill(&a->editor_proc, SIGTERM);
	uv_timer_start(&a->close_guard, editor_kill_cb, 3000, 0);
	while (a->editor_running && uv_run(&a->loop, UV_RUN_ONCE))
		;
	uv_timer_stop(&a->close_guard);
}

static void restore_terminal(void)
{
	if (fatal_app && fatal_app->curses_up && !isendwin())
		endwin();
}

static const int fatal_signals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
/* The handlers that were there before ours (a sanitizer's, or SIG_DFL). */
static struct sigaction fatal_previous[sizeof(fatal_signals) / sizeof(fatal_signals[0])];

/* Crash: give the terminal back, then let the previous handler (a sanitizer's report, or the
 * default: core dump and "died of signal" status) have the same signal. */
static void fatal_signal_handler(int sig)
{
	restore_terminal();
	for (size_t i = 0; i < sizeof(fatal_signals) / sizeof(fatal_signals[0]); i++)
		if (fatal_signals[i] == sig) {
			struct sigaction prev = fatal_previous[i];

			if (prev.sa_handler == SIG_IGN)
				prev.sa_handler = SIG_DFL;
			sigaction(sig, &prev, NULL);
		}
	/* A fault re-executes the faulting instruction on return; a sent signal needs raising.
	 * Either way the signal is delivered again once this handler returns. */
	raise(sig);
}

static void install_fatal_handlers(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fatal_signal_handler;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(fatal_signals) / sizeof(fatal_signals[0]); i++)
		sigaction(fatal_signals[i], &sa, &fatal_previous[i]);
	lk_set_fatal_hook(restore_terminal);
}

/* Turns mouse reporting on per --mouse / LAMBDECK_MOUSE: auto asks for it only when the
 * terminal's description has a mouse (terminfo kmous), on asks anyway and says when the
 * terminal has none. Only presses are asked for (no drag or motion reports, so the
 * terminal's own Shift+drag selection stays), and clicks are not held back to detect double
 * clicks. On the Linux console curses goes through GPM, whose own selection is the
 * console's only copy and paste: auto leaves it to GPM there (--mouse takes it). */
static void mouse_start(struct app *a)
{
	const char *kmous = tigetstr("kmous"), *term = getenv("TERM");
	bool described = kmous && kmous != (char *)-1 && *kmous;
	bool gpm = term && !strncmp(term, "linux", 5);

	mouseinterval(0);
	if (a->g->mouse == OPT_OFF || (a->g->mouse == OPT_AUTO && gpm)) {
		/* Reporting ends up off, but curses learns the report format (it only does when a
		 * mask is set once), so that stray reports (a program before us left reporting
		 * on) are read and dropped as KEY_MOUSE instead of arriving as keys: "\e[M a"
		 * would press 'a'. */
		if (described && !gpm && mousemask(BUTTON1_PRESSED, NULL) != 0)
			mousemask(0, NULL);
		return;
	}
	if (a->g->mouse == OPT_AUTO && !described)
		return;
	a->mouse = mousemask(MOUSE_EVENTS, NULL) != 0;
	if (!a->mouse && a->g->mouse == OPT_ON)
		app_message(a, APP_MSG_WARN, "--mouse: the terminal (TERM=%s) reports no mouse",
		            term ? term : "");
}

const struct mode_config *app_mode_config(struct app *a)
{
	return a->session ? session_config(a->session) : NULL;
}

/* Shows a mode description ("LOCAL emulator 127.0.0.1:4566", "AWS dev eu-west-1") as the
 * mode label plus the endpoint text. */
static void show_mode(struct app *a, const struct mode_config *cfg)
{
	const char *d = mode_describe(session_mode(a->session));
	enum mode_kind kind = mode_kind(session_mode(a->session));

	if (kind == MODE_LOCAL) {
		app_set_mode(a, "LOCAL", !strncmp(d, "LOCAL ", 6) ? d + 6 : d);
		return;
	}
	app_set_mode(a, d, cfg && cfg->endpoint ? cfg->endpoint : NULL);
}

static void mode_ready_cb(void *user, const struct mode_config *cfg, const struct lk_error *err)
{
	struct app *a = user;

	a->mode_done = true;
	if (a->quitting)
		return; /* teardown frees the job; the screen is gone */
	if (a->mode_job) {
		if (cfg)
			app_job_finish(a->mode_job, true, NULL); /* the status bar shows it */
		else
			app_job_finish(a->mode_job, false, "%s",
			               err && err->message[0] ? err->message : "mode failed");
		a->mode_job = NULL;
	} else if (!cfg) {
		app_message(a, APP_MSG_ERROR, "%s",
		            err && err->message[0] ? err->message : "mode failed");
	}
	if (!a->quitting)
		show_mode(a, cfg);
}

/* Starts acquiring the session's mode (LOCAL or AWS, backend/mode.h); LOCAL shows the
 * emulator start as a background job. */
static void start_mode(struct app *a)
{
	struct mode_options o;

	if (!session_mode(a->session)) {
		app_mode_options(a, &o);
		a->mode_done = true;
		app_set_mode(a, mode_select(&o) == MODE_LOCAL ? "LOCAL" : "AWS", NULL);
		app_message(a, APP_MSG_ERROR, "%s", session_error(a->session)->message);
		return;
	}
	show_mode(a, NULL);
	if (mode_kind(session_mode(a->session)) == MODE_LOCAL) {
		a->mode_job = app_job_start(a, "emulator", NULL, NULL);
		a->mode_job->background = true;
		app_job_progress(a->mode_job, "starting", 0, 0);
	}
	if (session_start(a->session, mode_ready_cb, a) < 0) {
		a->mode_done = true;
		if (a->mode_job) {
			app_job_finish(a->mode_job, false, "cannot start the mode");
			a->mode_job = NULL;
		}
	}
}

/* The user's key bindings file: $XDG_CONFIG_HOME/lambdeck/keys or ~/.config/lambdeck/keys;
 * NULL when neither variable is set. Caller frees. */
static char *user_keys_path(void)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");

	if (xdg && *xdg)
		return xasprintf("%s/lambdeck/keys", xdg);
	if (home && *home)
		return xasprintf("%s/.config/lambdeck/keys", home);
	return NULL;
}

/* Builds the keymap: compiled-in defaults, the user's keys file, then --keymap (a file, or
 * a built-in map name such as "vim"). Problems go to the status bar; all warnings are also
 * printed on stderr at exit. */
static struct keymap *load_keymap(struct app *a)
{
	const char *scopes[PANES_COUNT + 1];
	char *path = user_keys_path();
	struct lk_error err = {0};
	struct keymap *km;

	for (int i = 0; i < PANES_COUNT; i++)
		scopes[i] = panes_table[i]->name;
	scopes[PANES_COUNT] = NULL;
	km = keymap_new(scopes);
	keymap_load_defaults(km);
	if (path && util_is_file(path))
		keymap_load_file(km, path, &err);
	free(path);
	if (a->g->keymap) {
		lk_error_clear(&err);
		if (util_is_file(a->g->keymap) || keymap_load_builtin(km, a->g->keymap) < 0) {
			if (keymap_load_file(km, a->g->keymap, &err) < 0)
				app_message(a, APP_MSG_ERROR, "--keymap: %s", err.message);
		}
	}
	if (keymap_warning_count(km) > 0)
		app_message(a, APP_MSG_WARN, "%s%s", keymap_warning(km, 0),
		            keymap_warning_count(km) > 1 ? " (and more, listed on exit)" : "");
	return km;
}

static void print_keymap_warnings(struct keymap *km)
{
	for (size_t i = 0; km && i < keymap_warning_count(km); i++)
		fprintf(stderr, "lambdeck: warning: %s\n", keymap_warning(km, i));
}

static const char keys_template[] =
    "# lambdeck key bindings: this file is read after the built-in ones.\n"
    "#   bind SCOPE KEYS REQUEST     SCOPE: global functions logs playground tests\n"
    "#   unbind SCOPE KEYS           KEYS: q  gg  <Tab>  <C-d>  <F5>  <Enter> ...\n"
    "#   include vim                 vim-style movement (hjkl, gg/G, Ctrl-d/u)\n"
    "# Requests and their current keys: press ? in the console.\n";

/* After the keys file was edited: rebuild the keymap from scratch. */
static void edit_keys_done(void *ud, int status, const struct lk_error *err)
{
	struct app *a = ud;
	struct keymap *km;

	(void)status;
	(void)err;
	km = load_keymap(a);
	print_keymap_warnings(a->km); /* the old map's warnings would be lost otherwise */
	keymap_free(a->km);
	a->km = km;
	if (keymap_warning_count(km) == 0)
		app_message(a, APP_MSG_INFO, "key bindings reloaded");
	app_mark_all_dirty(a);
}

/* Opens the user's keys file in the editor (creating it with a commented header). */
static void edit_keys(struct app *a)
{
	char *path = user_keys_path();
	struct lk_error err = {0};

	if (!path) {
		app_message(a, APP_MSG_ERROR, "neither $XDG_CONFIG_HOME nor $HOME is set");
		return;
	}
	if (app_refuse_if_read_only(a, "editing key bindings")) {
		free(path);
		return;
	}
	if (!util_is_file(path)) {
		char *dir = xstrdup(path);

		*strrchr(dir, '/') = '\0';
		if (util_mkdir_p(dir, 0755, &err) < 0 ||
		    util_write_atomic(path, keys_template, sizeof(keys_template) - 1, 0644, &err) <
		        0)
			app_message(a, APP_MSG_ERROR, "%s", err.message);
		free(dir);
	}
	if (!lk_error_is_set(&err))
		app_edit_file(a, path, 0, false, edit_keys_done, a);
	free(path);
}

/* The ':' prompt: runs the request named in the text. */
static void command_cb(void *ud, const char *text)
{
	struct app *a = ud;
	char name[64];
	enum request req;

	if (!text)
		return;
	while (*text == ' ' || *text == ':')
		text++;
	snprintf(name, sizeof(name), "%s", text);
	for (char *e = name + strlen(name); e > name && e[-1] == ' ';)
		*--e = '\0';
	if (!name[0])
		return;
	req = request_from_name(name);
	if (req == REQ_NONE || req == REQ_COMMAND) {
		app_message(a, APP_MSG_ERROR, "unknown request '%s' (? lists the keys)", name);
		return;
	}
	dispatch_request(a, req);
}

static void walk_close_cb(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

/* Shutdown went on too long (a pane left a handle open): close whatever is left. */
static void close_guard_cb(uv_timer_t *t)
{
	uv_walk(t->loop, walk_close_cb, NULL);
}

static void app_teardown(struct app *a)
{
	uv_handle_t *mine[] = {
	    (uv_handle_t *)&a->stdin_poll, (uv_handle_t *)&a->sig_winch,
	    (uv_handle_t *)&a->sig_term,   (uv_handle_t *)&a->sig_int,
	    (uv_handle_t *)&a->sig_hup,    (uv_handle_t *)&a->sig_quit,
	    (uv_handle_t *)&a->prepare,    (uv_handle_t *)&a->frame_timer,
	    (uv_handle_t *)&a->fade_timer,
	};

	if (a->prompt.active)
		prompt_finish(a, false, false);
	cancel_all_jobs(a);
	editor_stop(a);
	a->panes_ready = false;
	for (int i = 0; i < PANES_COUNT; i++) {
		struct pane *p = &a->panes[i];

		if (p->ops->destroy)
			p->ops->destroy(p);
		if (p->win)
			delwin(p->win);
		p->win = NULL;
	}
	if (a->curses_up) {
		if (a->status_win)
			delwin(a->status_win);
		if (a->help_win)
			delwin(a->help_win);
		if (a->input_win)
			delwin(a->input_win);
		/* Without an alternate screen (TERM=linux, vt100...) the panes would stay on the
		 * screen under the shell's next output: leave a clean screen instead. */
		if (!tigetstr("smcup") || tigetstr("smcup") == (char *)-1) {
			clear();
			refresh();
		}
		endwin();
		a->curses_up = false;
	}
	for (size_t i = 0; i < sizeof(mine) / sizeof(mine[0]); i++)
		if (!uv_is_closing(mine[i]))
			uv_close(mine[i], NULL);
	/* An emulator being started is waited for (bounded by mode.c's start timeout), so that
	 * mode_free can stop it instead of leaving it running. */
	while (session_mode(a->session) && !a->mode_done && uv_run(&a->loop, UV_RUN_ONCE))
		;
	session_free(a->session); /* the client lives on while a cancelled deploy holds it */
	a->session = NULL;
	uv_timer_start(&a->close_guard, close_guard_cb, 2000, 0);
	uv_unref((uv_handle_t *)&a->close_guard);
	uv_run(&a->loop, UV_RUN_DEFAULT);
	/* The guard's own walk may have closed it already. */
	if (!uv_is_closing((uv_handle_t *)&a->close_guard))
		uv_close((uv_handle_t *)&a->close_guard, NULL);
	uv_run(&a->loop, UV_RUN_DEFAULT);
	/* Jobs live until here: a cancelled job's process may finish during the runs above and
	 * its owner then calls app_job_finish. What is left was never finished. */
	while (a->jobs) {
		struct app_job *j = a->jobs;

		a->jobs = j->next;
		free(j);
	}
	a->mode_job = NULL;
	if (uv_loop_close(&a->loop) != 0)
		fprintf(stderr, "lambdeck: some event handles were still open at exit\n");
}

int console_main(const struct global_opts *g)
{
	struct app *a;
	struct lk_error err = {0};
	int status;
	SCREEN *scr;

	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		fprintf(stderr, "lambdeck: the console needs a terminal; for scripts use a "
		                "command (lambdeck --help)\n");
		return 2;
	}
	a = xcalloc(1, sizeof(*a));
	fatal_app = a;
	a->g = g;
	a->zoomed = -1;
	for (int i = 0; i < PANES_COUNT; i++) {
		a->panes[i].ops = panes_table[i];
		a->panes[i].app = a;
		a->panes[i].index = i;
	}
	a->frame_ns = g->low_bandwidth ? FRAME_NS_LOW_BW : FRAME_NS;
	uv_loop_init(&a->loop);
	{
		struct project *p = load_project(a, &err);
		struct mode_options o;

		cli_mode_options(g, p, &o);
		a->session = session_new(&a->loop, p, &o); /* takes p */
	}

	/* Signals first: with a SIGWINCH handler in place curses does not install its own. */
	uv_signal_init(&a->loop, &a->sig_winch);
	uv_signal_init(&a->loop, &a->sig_term);
	uv_signal_init(&a->loop, &a->sig_int);
	uv_signal_init(&a->loop, &a->sig_hup);
	uv_signal_init(&a->loop, &a->sig_quit);
	a->sig_winch.data = a->sig_term.data = a->sig_int.data = a->sig_hup.data = a;
	a->sig_quit.data = a;
	uv_signal_start(&a->sig_winch, signal_cb, SIGWINCH);
	uv_signal_start(&a->sig_term, signal_cb, SIGTERM);
	uv_signal_start(&a->sig_int, signal_cb, SIGINT);
	uv_signal_start(&a->sig_hup, signal_cb, SIGHUP);
	/* Ctrl-\ quits like Ctrl-C (status 131): the terminal and the jobs are cleaned up, no
	 * core dump of a console the user merely wanted gone. */
	uv_signal_start(&a->sig_quit, signal_cb, SIGQUIT);
	install_fatal_handlers();

	set_escdelay(25);
	scr = newterm(NULL, stdout, stdin);
	if (!scr) {
		uv_handle_t *sigs[] = {(uv_handle_t *)&a->sig_winch, (uv_handle_t *)&a->sig_term,
		                       (uv_handle_t *)&a->sig_int, (uv_handle_t *)&a->sig_hup,
		                       (uv_handle_t *)&a->sig_quit};

		fprintf(stderr, "lambdeck: cannot initialise the terminal (TERM=%s)\n",
		        getenv("TERM") ? getenv("TERM") : "");
		for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
			uv_close(sigs[i], NULL);
		session_free(a->session);
		a->session = NULL;
		uv_run(&a->loop, UV_RUN_DEFAULT);
		uv_loop_close(&a->loop);
		fatal_app = NULL;
		free(a);
		return 1;
	}
	a->curses_up = true;
	cbreak();
	noecho();
	nonl();
	flow_control_off();
	curs_set(0);
	intrflush(stdscr, FALSE);
	{
		const char *nc = getenv("NO_COLOR");

		theme_init(nc && *nc, g->ascii);
	}
	a->input_win = newwin(1, 1, 0, 0);
	keypad(a->input_win, TRUE);
	nodelay(a->input_win, TRUE);
	wnoutrefresh(a->input_win); /* once, so wgetch never refreshes it later */

	uv_prepare_init(&a->loop, &a->prepare);
	uv_timer_init(&a->loop, &a->frame_timer);
	uv_timer_init(&a->loop, &a->fade_timer);
	uv_timer_init(&a->loop, &a->close_guard);
	a->prepare.data = a->frame_timer.data = a->fade_timer.data = a->close_guard.data = a;
	uv_prepare_start(&a->prepare, prepare_cb);
	uv_poll_init(&a->loop, &a->stdin_poll, STDIN_FILENO);
	a->stdin_poll.data = a;
	uv_poll_start(&a->stdin_poll, UV_READABLE | UV_DISCONNECT, stdin_cb);

	a->km = load_keymap(a);
	mouse_start(a); /* after the timers: it may show a message */
	if (lk_error_is_set(&err))
		app_message(a, APP_MSG_ERROR, "%s", err.message);
	start_mode(a);

	a->rows = LINES;
	a->cols = COLS;
	a->panes[0].focused = true;
	app_relayout(a);
	for (int i = 0; i < PANES_COUNT; i++) {
		struct pane *p = &a->panes[i];
		struct lk_error perr = {0};

		if (p->ops->init(p, &perr) < 0) {
			p->failed = true;
			snprintf(p->failure, sizeof(p->failure), "%.40s: %.200s", p->ops->title,
			         perr.message[0] ? perr.message : "failed to start");
		}
	}
	a->panes_ready = true;
	if (!focused(a)->failed && focused(a)->ops->focus)
		focused(a)->ops->focus(focused(a), true);
	app_mark_all_dirty(a);

	uv_run(&a->loop, UV_RUN_DEFAULT);

	status = a->exit_status;
	app_teardown(a);
	print_keymap_warnings(a->km);
	keymap_free(a->km);
	buf_free(&a->prompt.text);
	help_free(a);
	for (size_t i = 0; i < MSG_LOG_MAX; i++)
		free(a->log[i].text);
	free(a->selected);
	delscreen(scr);
	fatal_app = NULL;
	free(a);
	return status;
}
