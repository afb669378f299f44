/* Keymap parser and lookup: syntax, bad lines (warning with file:line, rest still loads),
 * sequences, scopes, built-in maps, nasty input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>
#include <curses.h>

#include "keymaps/keymap.h"

static const char *const scopes[] = {"functions", "logs", "playground", "tests", NULL};

static enum request feed_all(struct keymap *km, const char *scope, const int *keys, int n)
{
	enum request req = REQ_NONE;
	enum keymap_result r = KEYMAP_NONE;

	for (int i = 0; i < n; i++) {
		r = keymap_feed(km, scope, keys[i], &req);
		if (i < n - 1 && r != KEYMAP_PENDING)
			return REQ_NONE;
	}
	return r == KEYMAP_MATCH ? req : REQ_NONE;
}

static enum request feed1(struct keymap *km, const char *scope, int key)
{
	return feed_all(km, scope, &key, 1);
}

static void test_requests_table(void **state)
{
	(void)state;
	assert_string_equal(request_name(REQ_FOCUS_NEXT), "focus-next");
	assert_int_equal(request_from_name("zoom"), REQ_ZOOM);
	assert_int_equal(request_from_name("no-such"), REQ_NONE);
	assert_int_equal(request_from_name(NULL), REQ_NONE);
	assert_null(request_name(REQ_NONE));
	assert_null(request_name(REQ_COUNT_));
	/* Every request has a unique name and a help text. */
	for (int i = REQ_NONE + 1; i < REQ_COUNT_; i++) {
		assert_non_null(request_help((enum request)i));
		assert_int_equal(request_from_name(request_name((enum request)i)), i);
	}
}

static void test_parse_keys(void **state)
{
	int k[KEYMAP_MAX_KEYS];
	const char *why = NULL;
	char text[64];

	(void)state;
	assert_int_equal(keymap_parse_keys("q", k, &why), 1);
	assert_int_equal(k[0], 'q');
	assert_int_equal(keymap_parse_keys("gg", k, &why), 2);
	assert_int_equal(keymap_parse_keys("<Tab>", k, &why), 1);
	assert_int_equal(k[0], '\t');
	assert_int_equal(keymap_parse_keys("<S-Tab>", k, &why), 1);
	assert_int_equal(k[0], KEY_BTAB);
	assert_int_equal(keymap_parse_keys("<C-d>", k, &why), 1);
	assert_int_equal(k[0], 4);
	assert_int_equal(keymap_parse_keys("^U", k, &why), 1);
	assert_int_equal(k[0], 21);
	assert_int_equal(keymap_parse_keys("<F12>", k, &why), 1);
	assert_int_equal(k[0], KEY_F(12));
	assert_int_equal(keymap_parse_keys("<pgdn>", k, &why), 1);
	assert_int_equal(k[0], KEY_NPAGE);
	assert_int_equal(keymap_parse_keys("<lt><Hash>", k, &why), 2);
	assert_int_equal(k[0], '<');
	assert_int_equal(k[1], '#');
	assert_int_equal(keymap_parse_keys("g<Enter>", k, &why), 2);
	assert_int_equal(k[1], '\n');

	assert_int_equal(keymap_parse_keys("", k, &why), 0);
	assert_int_equal(keymap_parse_keys("<Nope>", k, &why), 0);
	assert_string_equal(why, "unknown key name");
	assert_int_equal(keymap_parse_keys("<Tab", k, &why), 0);
	assert_int_equal(keymap_parse_keys("<F13>", k, &why), 0);
	assert_int_equal(keymap_parse_keys("<F0>", k, &why), 0);
	assert_int_equal(keymap_parse_keys("<C-1>", k, &why), 0);
	assert_int_equal(keymap_parse_keys("abcde", k, &why), 0);
	assert_int_equal(keymap_parse_keys("\xc3\xa9", k, &why), 0);
	assert_int_equal(keymap_parse_keys("\x1b", k, &why), 0);
	assert_int_equal(keymap_parse_keys("<C-", k, &why), 0);

	/* Formatting is the inverse of parsing. */
	const char *round[] = {"q",      "gg",      "<Tab>", "<S-Tab>", "<C-d>",  "<F5>",   "<lt>",
	                       "<Hash>", "<Enter>", "<Esc>", "<Up>",    "<PgDn>", "g<Home>"};
	for (size_t i = 0; i < sizeof(round) / sizeof(round[0]); i++) {
		int n = keymap_parse_keys(round[i], k, &why);

		assert_true(n > 0);
		keymap_format_keys(k, n, text, sizeof(text));
		assert_string_equal(text, round[i]);
	}
}

static void test_bad_lines_warn_and_rest_loads(void **state)
{
	struct keymap *km = keymap_new(scopes);
	const char *text = "# comment\n"
	                   "bind global x zoom\n"
	                   "bind global y no-such-request\n"
	                   "bind nowhere q quit\n"
	                   "bind global <Bogus> quit\n"
	                   "frobnicate\n"
	                   "bind global a\n"
	                   "\n"
	                   "   bind logs w focus-2   # trailing comment\n"
	                   "bind global \x1b[31m zoom\n"
	                   "include no-such-map\n"
	                   "unbind global\n"
	                   "bind global b focus-3\r\n";

	(void)state;
	assert_int_equal(keymap_load_string(km, "keys.txt", text), 8);
	assert_int_equal(keymap_warning_count(km), 8);
	assert_string_equal(keymap_warning(km, 0), "keys.txt:3: unknown request 'no-such-request'");
	assert_non_null(strstr(keymap_warning(km, 1), "keys.txt:4: unknown scope 'nowhere'"));
	assert_string_equal(keymap_warning(km, 2),
	                    "keys.txt:5: bad key '<Bogus>': unknown key name");
	assert_non_null(
	    strstr(keymap_warning(km, 3), "keys.txt:6: unknown directive 'frobnicate'"));
	assert_string_equal(keymap_warning(km, 4),
	                    "keys.txt:7: expected 'bind SCOPE KEYS REQUEST'");
	/* Escape sequences from the file are shown in caret form, never raw. */
	assert_non_null(strstr(keymap_warning(km, 5), "keys.txt:10: bad key '^[[31m'"));
	assert_null(strchr(keymap_warning(km, 5), '\x1b'));
	assert_non_null(strstr(keymap_warning(km, 6), "keys.txt:11: unknown built-in keymap"));
	assert_non_null(strstr(keymap_warning(km, 7), "keys.txt:12: expected 'unbind SCOPE KEYS'"));
	assert_null(keymap_warning(km, 8));

	/* The good lines around them loaded. */
	assert_int_equal(feed1(km, "functions", 'x'), REQ_ZOOM);
	assert_int_equal(feed1(km, "logs", 'w'), REQ_FOCUS_2);
	assert_int_equal(feed1(km, "functions", 'w'), REQ_NONE);
	assert_int_equal(feed1(km, NULL, 'b'), REQ_FOCUS_3);
	assert_int_equal(feed1(km, NULL, 'y'), REQ_NONE);
	keymap_free(km);
}

static void test_defaults_clean(void **state)
{
	struct keymap *km = keymap_new(scopes);

	(void)state;
	keymap_load_defaults(km);
	for (size_t i = 0; i < keymap_warning_count(km); i++)
		fprintf(stderr, "%s\n", keymap_warning(km, i));
	/* Built-in maps must load without a single warning (pane owners: keep it so). */
	assert_int_equal(keymap_warning_count(km), 0);
	assert_int_equal(feed1(km, "logs", 'q'), REQ_QUIT);
	assert_int_equal(feed1(km, "logs", '\t'), REQ_FOCUS_NEXT);
	assert_int_equal(feed1(km, "logs", KEY_BTAB), REQ_FOCUS_PREV);
	assert_int_equal(feed1(km, "tests", '3'), REQ_FOCUS_3);
	assert_int_equal(feed1(km, "tests", 'z'), REQ_ZOOM);
	assert_int_equal(feed1(km, "tests", '?'), REQ_HELP);
	/* Enter arrives as \r (nonl), \n or KEY_ENTER: all the same key. */
	assert_int_equal(feed1(km, NULL, '\r'), REQ_ENTER);
	assert_int_equal(feed1(km, NULL, KEY_ENTER), REQ_ENTER);
	assert_int_equal(feed1(km, NULL, 127), feed1(km, NULL, KEY_BACKSPACE));
	assert_string_equal(keymap_key_for(km, "logs", REQ_HELP), "?");
	assert_string_equal(keymap_key_for(km, NULL, REQ_FOCUS_NEXT), "<Tab>");
	assert_null(keymap_key_for(km, NULL, REQ_HALF_PAGE_DOWN));

	assert_int_equal(keymap_load_builtin(km, "vim"), 0);
	assert_int_equal(keymap_warning_count(km), 0);
	assert_int_equal(feed1(km, "logs", 'j'), REQ_MOVE_DOWN);
	assert_int_equal(feed1(km, "logs", 4), REQ_HALF_PAGE_DOWN);
	assert_int_equal(feed_all(km, "logs", (int[]){'g', 'g'}, 2), REQ_MOVE_TOP);
	assert_int_equal(feed1(km, "logs", 'G'), REQ_MOVE_BOTTOM);
	assert_int_equal(keymap_load_builtin(km, "no-such"), -1);
	keymap_free(km);
}

static void test_sequences_and_scopes(void **state)
{
	struct keymap *km = keymap_new(scopes);
	enum request req = REQ_NONE;

	(void)state;
	assert_int_equal(keymap_load_string(km, "t",
	                                    "bind global gg move-top\n"
	                                    "bind global j move-down\n"
	                                    "bind logs j focus-4\n"
	                                    "bind logs gx zoom\n"
	                                    "bind global x redraw\n"),
	                 0);
	/* Pane scope beats global. */
	assert_int_equal(feed1(km, "logs", 'j'), REQ_FOCUS_4);
	assert_int_equal(feed1(km, "tests", 'j'), REQ_MOVE_DOWN);
	/* Prefix: pending, then the match. */
	assert_int_equal(keymap_feed(km, "tests", 'g', &req), KEYMAP_PENDING);
	assert_string_equal(keymap_pending_text(km), "g");
	assert_int_equal(keymap_feed(km, "tests", 'g', &req), KEYMAP_MATCH);
	assert_int_equal(req, REQ_MOVE_TOP);
	assert_string_equal(keymap_pending_text(km), "");
	assert_int_equal(feed_all(km, "logs", (int[]){'g', 'x'}, 2), REQ_ZOOM);
	/* A broken-off sequence retries its last key on its own. */
	assert_int_equal(keymap_feed(km, "tests", 'g', &req), KEYMAP_PENDING);
	assert_int_equal(keymap_feed(km, "tests", 'x', &req), KEYMAP_MATCH);
	assert_int_equal(req, REQ_REDRAW);
	/* Reset drops a pending prefix. */
	assert_int_equal(keymap_feed(km, "tests", 'g', &req), KEYMAP_PENDING);
	keymap_reset(km);
	assert_int_equal(keymap_feed(km, "tests", 'j', &req), KEYMAP_MATCH);
	assert_int_equal(req, REQ_MOVE_DOWN);
	/* Rebinding replaces, unbind and "none" remove. */
	keymap_load_string(km, "t2", "bind global j move-up\nunbind logs j\nbind global x none\n");
	assert_int_equal(feed1(km, "logs", 'j'), REQ_MOVE_UP);
	assert_int_equal(feed1(km, NULL, 'x'), REQ_NONE);
	/* Unknown scope names at lookup fall back to global. */
	assert_int_equal(feed1(km, "nonexistent", 'j'), REQ_MOVE_UP);
	keymap_free(km);
}

struct collect {
	char text[512];
	int n;
};

static void collect_cb(const struct keymap_binding *b, void *ud)
{
	struct collect *c = ud;
	size_t used = strlen(c->text);

	snprintf(c->text + used, sizeof(c->text) - used, "%s=%s;", b->keys,
	         request_name(b->request));
	c->n++;
}

static void test_foreach_sorted(void **state)
{
	struct keymap *km = keymap_new(scopes);
	struct collect c = {{0}, 0};

	(void)state;
	keymap_load_string(km, "t",
	                   "bind logs <F1> help\nbind logs z zoom\nbind logs ? help\n"
	                   "bind global q quit\n");
	keymap_foreach(km, "logs", collect_cb, &c);
	assert_int_equal(c.n, 3);
	assert_string_equal(c.text, "?=help;<F1>=help;z=zoom;");
	memset(&c, 0, sizeof(c));
	keymap_foreach(km, "nope", collect_cb, &c);
	assert_int_equal(c.n, 0);
	assert_int_equal(keymap_bound(km, "logs", "<F1>"), REQ_HELP);
	assert_int_equal(keymap_bound(km, "logs", "q"), REQ_NONE);
	assert_int_equal(keymap_bound(km, "global", "q"), REQ_QUIT);
	assert_int_equal(keymap_bound(km, "nope", "q"), REQ_NONE);
	keymap_free(km);
}

static void test_nasty_input(void **state)
{
	struct keymap *km = keymap_new(scopes);
	size_t big = 1 << 20;
	char *huge = malloc(big + 1);

	(void)state;
	/* One enormous line, many lines, empty text, NULL text. */
	memset(huge, 'x', big);
	huge[big] = '\0';
	assert_int_equal(keymap_load_string(km, "huge", huge), 1);
	assert_int_equal(keymap_load_string(km, "empty", ""), 0);
	assert_int_equal(keymap_load_string(km, "null", NULL), 0);
	for (size_t i = 0; i < big; i++)
		huge[i] = i % 2 ? '\n' : 'b';
	keymap_load_string(km, "many", huge);
	/* Warnings are capped, the last one says so. */
	assert_int_equal(keymap_warning_count(km), 201);
	assert_non_null(strstr(keymap_warning(km, 200), "too many warnings"));
	free(huge);
	keymap_free(km);
}

static void test_load_file(void **state)
{
	char path[] = "/tmp/lk-keymap-test-XXXXXX";
	int fd = mkstemp(path);
	struct lk_error err = {0};
	struct keymap *km = keymap_new(scopes);
	const char *text = "include vim\nbind tests r refresh\nbind tests <Oops> refresh\n";

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(keymap_load_file(km, path, &err), 1); /* its warnings, counted */
	assert_int_equal(keymap_warning_count(km), 1);
	assert_non_null(strstr(keymap_warning(km, 0), ":3: bad key '<Oops>'"));
	assert_int_equal(strncmp(keymap_warning(km, 0), path, strlen(path)), 0);
	assert_int_equal(feed1(km, "tests", 'r'), REQ_REFRESH);
	assert_int_equal(feed1(km, "tests", 'k'), REQ_MOVE_UP);
	unlink(path);
	assert_int_equal(keymap_load_file(km, path, &err), -1);
	assert_true(lk_error_is_set(&err));
	/* a clean file adds none; a NUL byte adds its own warning, counted too */
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "bind tests r refresh\n", 21), 21);
	close(fd);
	assert_int_equal(keymap_load_file(km, path, &err), 0);
	fd = open(path, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "\0bind tests <Bad> refresh\n", 26), 26);
	close(fd);
	assert_int_equal(keymap_load_file(km, path, &err), 1);
	assert_int_equal(keymap_warning_count(km), 2);
	unlink(path);
	keymap_free(km);
	keymap_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_requests_table),
	    cmocka_unit_test(test_parse_keys),
	    cmocka_unit_test(test_bad_lines_warn_and_rest_loads),
	    cmocka_unit_test(test_defaults_clean),
	    cmocka_unit_test(test_sequences_and_scopes),
	    cmocka_unit_test(test_foreach_sorted),
	    cmocka_unit_test(test_nasty_input),
	    cmocka_unit_test(test_load_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
