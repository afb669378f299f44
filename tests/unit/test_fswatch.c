/* test_fswatch.c - the recursive watcher against a real directory tree on a real loop:
 * nested directories created after start, removed ones dropped, ignore rules, debounce
 * and its maximum wait. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "backend/fswatch.h"

struct rec {
	int batches;
	char **paths; /* union of all delivered paths */
	size_t n;
	uint64_t last_ms; /* loop time of the last delivery */
};

static void rec_clear(struct rec *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->paths[i]);
	free(r->paths);
	memset(r, 0, sizeof(*r));
}

static bool rec_has(const struct rec *r, const char *suffix)
{
	size_t sl = strlen(suffix);
	for (size_t i = 0; i < r->n; i++) {
		size_t l = strlen(r->paths[i]);
		if (l >= sl && !strcmp(r->paths[i] + l - sl, suffix))
			return true;
	}
	return false;
}

static uv_loop_t *g_loop;

static void on_batch(struct fswatch *w, const struct fswatch_batch *b, void *user)
{
	struct rec *r = user;
	(void)w;
	r->batches++;
	r->last_ms = uv_now(g_loop);
	for (size_t i = 0; i < b->n_paths; i++) {
		if (i)
			assert_true(strcmp(b->paths[i - 1], b->paths[i]) < 0); /* sorted, unique */
		r->paths = realloc(r->paths, (r->n + 1) * sizeof(*r->paths));
		r->paths[r->n++] = strdup(b->paths[i]);
	}
}

static void on_stop(uv_timer_t *t)
{
	uv_stop(t->loop);
}

/* Runs the loop for ms milliseconds. */
static void run_for(unsigned ms)
{
	uv_timer_t t;
	uv_timer_init(g_loop, &t);
	uv_update_time(g_loop); /* time passed since the last run: count from now */
	uv_timer_start(&t, on_stop, ms, 0);
	uv_run(g_loop, UV_RUN_DEFAULT);
	uv_close((uv_handle_t *)&t, NULL);
	uv_run(g_loop, UV_RUN_NOWAIT);
}

static char g_root[256];

static void mk(const char *rel)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", g_root, rel);
	assert_int_equal(mkdir(p, 0755), 0);
}

static void put(const char *rel, const char *text)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", g_root, rel);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	(void)state;
	snprintf(g_root, sizeof(g_root), "/tmp/lk-fswatch-XXXXXX");
	assert_non_null(mkdtemp(g_root));
	g_loop = malloc(sizeof(*g_loop));
	uv_loop_init(g_loop);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char *argv[] = {"rm", "-rf", g_root, NULL};
	pid_t pid = fork();
	if (pid == 0) {
		execvp("rm", argv);
		_exit(127);
	}
	int st;
	waitpid(pid, &st, 0);
	uv_run(g_loop, UV_RUN_NOWAIT);
	assert_int_equal(uv_loop_close(g_loop), 0);
	free(g_loop);
	return 0;
}

static void close_watch(struct fswatch *w)
{
	fswatch_free(w);
	uv_run(g_loop, UV_RUN_DEFAULT); /* close callbacks release the memory */
}

static void test_default_ignore_rules(void **state)
{
	(void)state;
	const char *ignored[] = {".git/HEAD",
	                         "a/node_modules/x.js",
	                         "__pycache__/m.pyc",
	                         ".lambdeck/build/x",
	                         "src/.app.py.swp",
	                         "src/.app.py.swx",
	                         "src/4913",
	                         "src/app.py~",
	                         "src/#app.py#",
	                         "src/.#app.py",
	                         "build/out.o",
	                         "dist/x.js",
	                         ".aws-sam/build",
	                         "m.pyc",
	                         "events/f/e.json.tmp.1234",
	                         "app.py___jb_tmp___",
	                         ".venv/bin/python"};
	const char *kept[] = {"app.py",          "src/app.py", "tests/test_app.py",
	                      "events/f/e.json", "Makefile",   ".gitignore",
	                      "builder/x.py",    "src/swp.py", "notes.tmp"};
	for (size_t i = 0; i < sizeof(ignored) / sizeof(*ignored); i++)
		assert_true(fswatch_default_ignored(ignored[i]));
	for (size_t i = 0; i < sizeof(kept) / sizeof(*kept); i++)
		assert_false(fswatch_default_ignored(kept[i]));
}

static void test_missing_root_is_an_error(void **state)
{
	(void)state;
	struct fswatch *w = (void *)1;
	struct lk_error err = {0};
	char p[512];
	snprintf(p, sizeof(p), "%s/nope", g_root);
	assert_int_equal(fswatch_new(g_loop, p, NULL, on_batch, NULL, &w, &err), -1);
	assert_null(w);
	assert_non_null(strstr(err.message, "nope"));
	put("file", "x");
	snprintf(p, sizeof(p), "%s/file", g_root);
	assert_int_equal(fswatch_new(g_loop, p, NULL, on_batch, NULL, &w, &err), -1);
	assert_non_null(strstr(err.message, "not a directory"));
}

/* Directories created after start (several levels deep, faster than the watcher can add
 * them) are watched and their files reported; deleted ones are dropped. */
static void test_nested_dirs_after_start(void **state)
{
	(void)state;
	struct rec r = {0};
	struct fswatch *w;
	struct lk_error err = {0};
	struct fswatch_opts o = {.debounce_ms = 50};

	mk("src");
	mk(".git");
	mk("node_modules");
	mk("node_modules/pkg");
	assert_int_equal(fswatch_new(g_loop, g_root, &o, on_batch, &r, &w, &err), 0);
	assert_int_equal(fswatch_n_dirs(w), 2); /* root + src; .git and node_modules ignored */

	mk("src/a");
	mk("src/a/b");
	mk("src/a/b/c");
	put("src/a/b/c/deep.py", "x = 1\n");
	run_for(300);
	assert_true(r.batches >= 1);
	assert_true(rec_has(&r, "/src/a/b/c/deep.py"));
	assert_int_equal(fswatch_n_dirs(w), 5);

	/* A file saved later in the newest directory is seen through its own watch. */
	rec_clear(&r);
	put("src/a/b/c/later.py", "y = 2\n");
	run_for(300);
	assert_int_equal(r.batches, 1);
	assert_true(rec_has(&r, "/src/a/b/c/later.py"));

	/* Removing the subtree drops its watches. */
	rec_clear(&r);
	char cmd_path[512];
	snprintf(cmd_path, sizeof(cmd_path), "%s/src/a", g_root);
	pid_t pid = fork();
	if (pid == 0) {
		execlp("rm", "rm", "-rf", cmd_path, (char *)NULL);
		_exit(127);
	}
	int st;
	waitpid(pid, &st, 0);
	run_for(300);
	assert_int_equal(fswatch_n_dirs(w), 2);
	assert_true(rec_has(&r, "/src/a"));

	/* Renaming a directory moves the watch to the new name. */
	mk("src/old");
	run_for(200);
	char from[512], to[512];
	snprintf(from, sizeof(from), "%s/src/old", g_root);
	snprintf(to, sizeof(to), "%s/src/new", g_root);
	assert_int_equal(rename(from, to), 0);
	run_for(200);
	rec_clear(&r);
	put("src/new/f.py", "z\n");
	run_for(300);
	assert_true(rec_has(&r, "/src/new/f.py"));
	assert_int_equal(fswatch_n_dirs(w), 3);

	rec_clear(&r);
	close_watch(w);
}

static void test_ignored_paths_do_not_fire(void **state)
{
	(void)state;
	struct rec r = {0};
	struct fswatch *w;
	struct lk_error err = {0};
	const char *extra[] = {"*.log", "reports/junit.xml"};
	struct fswatch_opts o = {.debounce_ms = 50, .ignore = extra, .n_ignore = 2};

	mk(".git");
	mk("reports");
	assert_int_equal(fswatch_new(g_loop, g_root, &o, on_batch, &r, &w, &err), 0);
	put(".git/index", "x");
	put(".app.py.swp", "x");
	put("4913", "x");
	put("app.py~", "x");
	put("#app.py#", "x");
	put(".#app.py", "x");
	put("run.log", "x");
	put("reports/junit.xml", "<x/>");
	mk("node_modules");
	put("node_modules/x.js", "x");
	mk("__pycache__");
	put("__pycache__/a.cpython-311.pyc", "x");
	run_for(250);
	assert_int_equal(r.batches, 0);
	assert_int_equal(fswatch_n_dirs(w), 2);

	/* ...while the real file next to them does. */
	put("app.py", "print(1)\n");
	run_for(250);
	assert_int_equal(r.batches, 1);
	assert_int_equal(r.n, 1);
	assert_true(rec_has(&r, "/app.py"));
	rec_clear(&r);
	close_watch(w);
}

/* A burst of saves gives one batch, delivered debounce_ms after the last save. */
static void test_debounce_coalesces(void **state)
{
	(void)state;
	struct rec r = {0};
	struct fswatch *w;
	struct lk_error err = {0};
	struct fswatch_opts o = {.debounce_ms = 300, .max_wait_ms = 5000};

	assert_int_equal(fswatch_new(g_loop, g_root, &o, on_batch, &r, &w, &err), 0);
	uint64_t last = 0;
	for (int i = 0; i < 6; i++) {
		put(i % 2 ? "a.py" : "b.py", "x");
		uv_update_time(g_loop);
		last = uv_now(g_loop); /* the last save: delivery is debounce_ms after it */
		run_for(50);
	}
	assert_int_equal(r.batches, 0); /* still inside the debounce window */
	run_for(600);
	assert_int_equal(r.batches, 1);
	assert_int_equal(r.n, 2);
	assert_true(r.last_ms >= last + 290);
	rec_clear(&r);

	/* Continuous writes cannot starve delivery: max_wait bounds the delay. */
	fswatch_free(w);
	uv_run(g_loop, UV_RUN_DEFAULT);
	struct fswatch_opts o2 = {.debounce_ms = 150, .max_wait_ms = 300};
	assert_int_equal(fswatch_new(g_loop, g_root, &o2, on_batch, &r, &w, &err), 0);
	for (int i = 0; i < 16; i++) {
		put("stream.txt", "x");
		run_for(50);
	}
	assert_true(r.batches >= 2);
	rec_clear(&r);

	/* Paused: nothing delivered; resumed: delivered again. */
	fswatch_set_paused(w, true);
	put("p.py", "x");
	run_for(250);
	assert_int_equal(r.batches, 0);
	fswatch_set_paused(w, false);
	put("p.py", "y");
	run_for(250);
	assert_int_equal(r.batches, 1);
	rec_clear(&r);
	close_watch(w);
}

/* Freeing the watcher from inside its own callback is safe. */
static void free_in_cb(struct fswatch *w, const struct fswatch_batch *b, void *user)
{
	(void)b;
	*(int *)user += 1;
	fswatch_free(w);
}

static void test_free_inside_callback(void **state)
{
	(void)state;
	struct fswatch *w;
	struct lk_error err = {0};
	int calls = 0;
	struct fswatch_opts o = {.debounce_ms = 30};
	mk("d");
	assert_int_equal(fswatch_new(g_loop, g_root, &o, free_in_cb, &calls, &w, &err), 0);
	put("d/x", "1");
	run_for(150);
	put("d/y", "1");
	run_for(150);
	assert_int_equal(calls, 1);
	uv_run(g_loop, UV_RUN_DEFAULT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_default_ignore_rules),
	    cmocka_unit_test_setup_teardown(test_missing_root_is_an_error, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_nested_dirs_after_start, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ignored_paths_do_not_fire, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_debounce_coalesces, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_free_inside_callback, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
