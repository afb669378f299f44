/* pane.h - the interface every pane implements (tig's view_ops, tmux's window_mode).
 *
 * A pane is one file in panes/ defining one `const struct pane_ops` with designated
 * initialisers, plus one line in the table in panes/panes.c. The shell owns the struct pane
 * (allocation, window, geometry); the pane owns whatever it hangs on p->state.
 *
 * Call order, all on the loop thread (there is no other thread):
 *   init(p, err)            once, after curses is up and app services work (p->win may be
 *                           NULL and rows/cols 0 if the terminal is too small: do not draw
 *                           here); set p->state. Return 0, or -1 with a message in err: the
 *                           pane then shows that message and gets no more calls except
 *                           destroy.
 *   resize(p)               after p->rows / p->cols changed (terminal resize, zoom).
 *   focus(p, focused)       when the pane gains or loses the keyboard focus.
 *   key(p, key)             optional: every key while focused, BEFORE the keymap, for panes
 *                           in a text-input state; return PANE_UNHANDLED to let the keymap
 *                           map it to a request as usual.
 *   request(p, req)         a request from the keymap while focused (or broadcast, see
 *                           app_event); return 0 (PANE_UNHANDLED) if not handled.
 *   mouse(p, m)             optional, only when mouse support is on (app_mouse): a click in
 *                           the pane's content area, after the shell moved the focus to the
 *                           pane (a click on the border only focuses); or a wheel turn over
 *                           the pane, focused or not (the focus stays). m->y/m->x are
 *                           relative to p->win. Return PANE_UNHANDLED for a wheel turn to
 *                           get the default: request(p, REQ_MOVE_UP/DOWN) PANE_WHEEL_LINES
 *                           times. Mouse actions select and scroll; never mutate with them
 *                           (a read-only seat may use the mouse).
 *   event(p, ev)            something app-wide changed (selection, project reloaded, mode).
 *   draw(p)                 only when the pane is dirty (app_mark_dirty) and visible. Draw
 *                           the whole content into p->win (already erased, size p->rows x
 *                           p->cols, border and title are drawn by the shell). Do not call
 *                           wrefresh/doupdate: the shell flushes once per loop pass.
 *   status(p, buf, len)     optional: short text shown in the title ("3 functions").
 *   destroy(p)              once, at exit: cancel/finish your jobs, close your uv handles
 *                           (the loop runs again afterwards so close callbacks fire), free
 *                           p->state.
 * Callbacks of your own async work (timers, HTTP, children) never draw: they change state and
 * call app_mark_dirty(p).
 */
#ifndef LAMBDECK_TUI_PANE_H
#define LAMBDECK_TUI_PANE_H

#include <curses.h>
#include <stdbool.h>
#include <stddef.h>

#include "backend/util.h"
#include "keymaps/requests.h"

struct app;

/* What a handler wants the shell to do; OR them together. */
enum pane_result {
	PANE_UNHANDLED = 0,
	PANE_HANDLED = 1 << 0,  /* consumed; nothing else to do */
	PANE_REDRAW = 1 << 1,   /* redraw this pane (implies handled) */
	PANE_RELAYOUT = 1 << 2, /* recompute the layout and redraw everything */
	PANE_QUIT = 1 << 3,     /* quit the console (asks first while jobs run) */
};

/* A mouse action on a pane (see mouse() above). */
enum pane_mouse_kind {
	PANE_MOUSE_CLICK,      /* button 1 pressed */
	PANE_MOUSE_WHEEL_UP,   /* towards the top / older lines */
	PANE_MOUSE_WHEEL_DOWN, /* towards the bottom / newer lines */
};

/* Lines one wheel notch scrolls. */
#define PANE_WHEEL_LINES 3

struct pane_mouse {
	enum pane_mouse_kind kind;
	int y, x; /* relative to p->win: 0..p->rows-1, 0..p->cols-1 */
};

/* App-wide changes delivered to every pane's event(). */
enum app_event {
	APP_EVENT_SELECTION,     /* app_selected_function() changed */
	APP_EVENT_PROJECT,       /* app_project() was reloaded (old pointer is gone) */
	APP_EVENT_MODE,          /* mode / endpoint text changed */
	APP_EVENT_EDITOR_RETURN, /* an editor launched by any pane has exited */
};

struct pane {
	const struct pane_ops *ops;
	struct app *app;
	void *state; /* owned by the pane: set in init, freed in destroy */
	WINDOW *win; /* content area inside the border; owned by the shell, recreated on
	                resize (do not keep copies across calls) */
	int rows;    /* p->win size; 0 while hidden (zoomed away / terminal too small) */
	int cols;
	int index; /* position in the table: 0..3 */
	bool focused;
	bool dirty;  /* set by app_mark_dirty; cleared by the shell after draw */
	bool failed; /* init failed: the shell shows failure instead of calling draw */
	char failure[256];
};

struct pane_ops {
	const char *name;  /* keymap scope and id: "functions" */
	const char *title; /* shown in the border: "Functions" */
	int (*init)(struct pane *p, struct lk_error *err);
	void (*destroy)(struct pane *p);
	void (*resize)(struct pane *p); /* optional */
	void (*draw)(struct pane *p);
	int (*request)(struct pane *p, enum request req);
	int (*key)(struct pane *p, int key);                      /* optional, see above */
	void (*focus)(struct pane *p, bool focused);              /* optional */
	void (*event)(struct pane *p, enum app_event ev);         /* optional */
	int (*mouse)(struct pane *p, const struct pane_mouse *m); /* optional, see above */
	/* optional: fills buf with a short status for the title; returns buf or NULL */
	const char *(*status)(struct pane *p, char *buf, size_t len);
};

#endif
