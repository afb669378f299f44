/* keymap.h - key bindings: parses keymap files and maps key sequences to requests.
 *
 * Syntax (one directive per line, '#' starts a comment line or a comment after blanks):
 *   bind   SCOPE KEYS REQUEST    e.g.  bind global <Tab> focus-next
 *   unbind SCOPE KEYS                  unbind logs gg
 *   include NAME                       loads a built-in map (keymaps/NAME.keys, e.g. "vim")
 * SCOPE is "global" or a pane name given to keymap_new(). KEYS is one or more keys with no
 * blanks between them: a printable character stands for itself ("gg" is g then g), special
 * keys are written <Name>: <Tab> <S-Tab> <Enter> <Esc> <Space> <Backspace> <Del> <Ins> <Up>
 * <Down> <Left> <Right> <PgUp> <PgDn> <Home> <End> <F1>..<F12> <lt> (a literal '<') <Hash>
 * ('#'), and control keys <C-x> (or ^x). A later binding of the same KEYS in the same scope
 * replaces the earlier one. A bad line is reported as a warning "file:line: message" and
 * skipped; the rest of the file still loads.
 *
 * Lookup: keymap_feed() takes one key at a time (curses key codes as returned by wgetch) and
 * tries the focused pane's scope first, then "global". While the keys typed so far are a
 * prefix of a longer binding it answers KEYMAP_PENDING; keymap_reset() drops the prefix.
 *
 * Ownership: the keymap copies every string it is given; keymap_free() releases it all. */
#ifndef LAMBDECK_KEYMAPS_KEYMAP_H
#define LAMBDECK_KEYMAPS_KEYMAP_H

#include <stdbool.h>
#include <stddef.h>

#include "backend/util.h"
#include "keymaps/requests.h"

#define KEYMAP_MAX_KEYS 4 /* longest key sequence */

struct keymap;

/* scopes: NULL-terminated pane names allowed besides "global" (copied). */
struct keymap *keymap_new(const char *const *scopes);
void keymap_free(struct keymap *km);

/* Parses text; source is the name used in warnings (a path or "builtin:default").
 * Returns the number of warnings this call added (0 = clean). */
int keymap_load_string(struct keymap *km, const char *source, const char *text);
/* Reads and parses a file: returns the number of warnings it added (0 = clean), or -1
 * with err set when it cannot be read (no warning added). */
int keymap_load_file(struct keymap *km, const char *path, struct lk_error *err);
/* Loads a compiled-in map by name ("default", "default_logs", "vim"); -1 if unknown. */
int keymap_load_builtin(struct keymap *km, const char *name);
/* Loads every compiled-in map whose name starts with "default". */
void keymap_load_defaults(struct keymap *km);

/* Warnings collected so far, in order; strings valid until keymap_free(). */
size_t keymap_warning_count(const struct keymap *km);
const char *keymap_warning(const struct keymap *km, size_t i);

enum keymap_result {
	KEYMAP_NONE,    /* no binding: the key sequence is dropped */
	KEYMAP_PENDING, /* a prefix of a longer binding: feed the next key */
	KEYMAP_MATCH,   /* *out is the request */
};
/* scope: the focused pane's name, or NULL for global only. */
enum keymap_result keymap_feed(struct keymap *km, const char *scope, int key, enum request *out);
void keymap_reset(struct keymap *km);
/* Keys typed so far of a pending sequence, as text ("g"), "" when none. */
const char *keymap_pending_text(struct keymap *km);

/* One binding as listed by keymap_foreach (strings valid during the callback). */
struct keymap_binding {
	const char *scope;
	const char *keys; /* printable form, e.g. "<Tab>", "gg", "<C-d>" */
	enum request request;
};
/* Calls fn for every binding of scope (exactly that scope, not global), sorted by request
 * then keys. Bindings shadowed in the pane scope are not filtered here. */
void keymap_foreach(const struct keymap *km, const char *scope,
                    void (*fn)(const struct keymap_binding *b, void *ud), void *ud);
/* The first bound key of req in scope (or global), printable; NULL when unbound.
 * Valid until the keymap changes. */
const char *keymap_key_for(const struct keymap *km, const char *scope, enum request req);

/* The request bound to exactly these keys (printable form, as in keymap_binding.keys) in
 * exactly this scope; REQ_NONE when none. */
enum request keymap_bound(const struct keymap *km, const char *scope, const char *keys);

/* Parses one KEYS token into curses key codes; returns the count (0 on a bad token, with
 * why set to a static explanation). Exposed for tests. */
int keymap_parse_keys(const char *token, int keys[KEYMAP_MAX_KEYS], const char **why);
/* Formats curses key codes as keymap text (inverse of keymap_parse_keys). */
void keymap_format_keys(const int *keys, int n, char *out, size_t len);

#endif
