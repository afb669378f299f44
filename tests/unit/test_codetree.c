/* Unit tests for backend/codetree: the Functions pane's code tree (directories first, by
 * name; litter skipped; a dependency folder one node with its entry count; the budget). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "backend/codetree.h"
#include "backend/util.h"
#include "tests/lib/unit_tmp.h"

static void touch(const char *dir, const char *name)
{
	char *p = util_path_join(dir, name);
	FILE *f = fopen(p, "w");

	assert_non_null(f);
	fclose(f);
	free(p);
}

static void mkdir_in(const char *dir, const char *name)
{
	char *p = util_path_join(dir, name);

	assert_int_equal(mkdir(p, 0755), 0);
	free(p);
}

static void test_tree(void **state)
{
	char *d = test_tmpdir("codetree");
	struct codetree t;

	(void)state;
	mkdir_in(d, "src");
	mkdir_in(d, "node_modules");
	mkdir_in(d, ".git");
	mkdir_in(d, "__pycache__");
	touch(d, "src/b.py");
	touch(d, "src/a.py");
	touch(d, "node_modules/x");
	touch(d, "node_modules/y");
	touch(d, "node_modules/z");
	touch(d, "app.py");
	touch(d, "app.pyc");
	touch(d, "app.py~");
	touch(d, ".app.py.swp");
	codetree_scan(d, &t);
	assert_string_equal(t.dir, d);
	assert_false(t.truncated);
	assert_int_equal(t.node.n_kids, 3);
	assert_string_equal(t.node.kids[0].name, "node_modules");
	assert_true(t.node.kids[0].deps);
	assert_int_equal(t.node.kids[0].deps_entries, 3);
	assert_int_equal(t.node.kids[0].n_kids, 0); /* not listed */
	assert_string_equal(t.node.kids[1].name, "src");
	assert_true(t.node.kids[1].dir);
	assert_int_equal(t.node.kids[1].n_kids, 2);
	assert_string_equal(t.node.kids[1].kids[0].name, "a.py");
	assert_string_equal(t.node.kids[1].kids[1].name, "b.py");
	assert_string_equal(t.node.kids[2].name, "app.py");
	assert_false(t.node.kids[2].dir);
	codetree_clear(&t);
	codetree_clear(NULL);

	assert_true(codetree_skipped(".lambdeck"));
	assert_true(codetree_skipped("4913"));
	assert_false(codetree_skipped("handler.js"));
	test_rm_rf(d);
	free(d);
}

static void test_budget(void **state)
{
	char *d = test_tmpdir("codetree-big");
	struct codetree t;
	char name[32];

	(void)state;
	for (int i = 0; i <= CODETREE_MAX_ENTRIES; i++) {
		snprintf(name, sizeof(name), "f%05d", i);
		touch(d, name);
	}
	codetree_scan(d, &t);
	assert_true(t.truncated);
	assert_int_equal(t.node.n_kids, CODETREE_MAX_ENTRIES);
	codetree_clear(&t);
	codetree_scan("/nonexistent/lambdeck-codetree", &t); /* unreadable: no children */
	assert_int_equal(t.node.n_kids, 0);
	codetree_clear(&t);
	test_rm_rf(d);
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tree),
	    cmocka_unit_test(test_budget),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
