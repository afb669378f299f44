/* Unit tests for backend/runtimes: the table (every Python/Node.js/provided runtime AWS
 * accepts, deprecation dates), the nearest-version rule, the interpreter chosen from a PATH
 * of real executables in a scratch directory, and the project's Python environment order
 * (lambdeck.json "python", $VIRTUAL_ENV, .venv, venv). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend/runtimes.h"
#include "backend/util.h"
#include "tests/lib/unit_tmp.h"

static void test_table(void **state)
{
	static const char *const must[] = {
	    "python3.8",  "python3.9",  "python3.10", "python3.11",   "python3.12",
	    "python3.13", "python3.14", "nodejs16.x", "nodejs18.x",   "nodejs20.x",
	    "nodejs22.x", "nodejs24.x", "provided",   "provided.al2", "provided.al2023"};
	const struct runtime_info *r;

	(void)state;
	for (size_t i = 0; i < sizeof(must) / sizeof(must[0]); i++) {
		r = runtimes_find(must[i]);
		assert_non_null(r);
		assert_true(runtimes_runs_natively(r));
		assert_non_null(r->deprecated);
		assert_int_equal(strlen(r->deprecated), 10);
	}
	r = runtimes_find("python3.13");
	assert_int_equal(r->family, RUNTIME_PYTHON);
	assert_int_equal(r->major, 3);
	assert_int_equal(r->minor, 13);
	assert_string_equal(r->interpreter, "python3.13");
	r = runtimes_find("nodejs22.x");
	assert_int_equal(r->family, RUNTIME_NODE);
	assert_int_equal(r->major, 22);
	r = runtimes_find("java21");
	assert_non_null(r);
	assert_false(runtimes_runs_natively(r));
	assert_string_equal(runtimes_family_name(r->family), "Java");
	assert_non_null(runtimes_find("ruby3.3"));
	assert_non_null(runtimes_find("dotnet8"));
	assert_null(runtimes_find("python2.7"));
	assert_null(runtimes_find("nodejs14.x"));
	assert_null(runtimes_find("python3.12 "));
	assert_null(runtimes_find(""));
	assert_null(runtimes_find(NULL));
	assert_non_null(strstr(runtimes_list(), "python3.14"));
	assert_non_null(strstr(runtimes_list(), "provided.al2023"));
}

static time_t day(int y, int m, int d)
{
	struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d, .tm_hour = 12};

	return timegm(&tm);
}

static void test_deprecation(void **state)
{
	const struct runtime_info *py38 = runtimes_find("python3.8");
	const struct runtime_info *py314 = runtimes_find("python3.14");
	const struct runtime_info *node18 = runtimes_find("nodejs18.x");

	(void)state;
	assert_string_equal(py38->deprecated, "2024-10-14");
	assert_false(runtimes_deprecated(py38, day(2024, 10, 13)));
	assert_true(runtimes_deprecated(py38, day(2024, 10, 14))); /* on the day */
	assert_true(runtimes_deprecated(py38, day(2026, 1, 1)));
	assert_string_equal(node18->deprecated, "2025-09-01");
	assert_true(runtimes_deprecated(node18, day(2025, 9, 2)));
	assert_false(runtimes_deprecated(py314, day(2026, 12, 8)));
	assert_false(runtimes_deprecated(NULL, day(2026, 1, 1)));
}

static void test_nearest(void **state)
{
	const int have[][2] = {{3, 9}, {3, 11}, {3, 13}};
	const int two[][2] = {{3, 10}, {3, 12}};
	const int node[][2] = {{18, 0}, {22, 0}};

	(void)state;
	assert_int_equal(runtimes_nearest(3, 11, have, 3), 1); /* exact first */
	assert_int_equal(runtimes_nearest(3, 12, have, 3), 2); /* tie 3.11 / 3.13: newer */
	assert_int_equal(runtimes_nearest(3, 8, have, 3), 0);
	assert_int_equal(runtimes_nearest(3, 14, have, 3), 2);
	assert_int_equal(runtimes_nearest(3, 11, two, 2), 1);
	assert_int_equal(runtimes_nearest(20, 0, node, 2), 1); /* 18 and 22: the newer */
	assert_int_equal(runtimes_nearest(24, 0, node, 2), 1);
	assert_int_equal(runtimes_nearest(3, 12, have, 0), -1);
}

/* An executable file (a real script) at dir/name. */
static void exe(const char *dir, const char *name)
{
	char *p = util_path_join(dir, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0755);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "#!/bin/sh\n", 10), 10);
	close(fd);
	free(p);
}

static void mkvenv(const char *dir, const char *version)
{
	char *bin = util_path_join(dir, "bin"), *cfg = util_path_join(dir, "pyvenv.cfg");
	char *text = xasprintf("home = /usr/bin\ninclude-system-site-packages = true\n"
	                       "version = %s\n",
	                       version);

	assert_int_equal(util_mkdir_p(bin, 0755, NULL), 0);
	exe(bin, "python");
	assert_int_equal(util_write_atomic(cfg, text, strlen(text), 0644, NULL), 0);
	free(bin);
	free(cfg);
	free(text);
}

static void test_choose(void **state)
{
	char *root = test_tmpdir("runtimes"), *bin = util_path_join(root, "bin");
	char *proj = util_path_join(root, "proj"), *desc;
	struct runtimes_choice c;

	(void)state;
	unsetenv("VIRTUAL_ENV");
	assert_int_equal(util_mkdir_p(bin, 0755, NULL), 0);
	assert_int_equal(util_mkdir_p(proj, 0755, NULL), 0);
	exe(bin, "python3.9");
	exe(bin, "python3.12");
	exe(bin, "python3.12-config"); /* not an interpreter */

	/* exact */
	runtimes_choose("python3.12", proj, NULL, bin, &c);
	assert_null(c.problem);
	assert_true(c.exact);
	assert_non_null(strstr(c.path, "/bin/python3.12"));
	assert_null(runtimes_choice_describe("python3.12", &c));
	runtimes_choice_free(&c);

	/* nearest: 3.11 has 3.9 (distance 2) and 3.12 (distance 1) */
	runtimes_choose("python3.11", proj, NULL, bin, &c);
	assert_false(c.exact);
	assert_int_equal(c.minor, 12);
	desc = runtimes_choice_describe("python3.11", &c);
	assert_non_null(desc);
	assert_non_null(strstr(desc, "python3.11 → running with python3.12"));
	free(desc);
	runtimes_choice_free(&c);
	runtimes_choose("python3.8", proj, NULL, bin, &c);
	assert_int_equal(c.minor, 9);
	runtimes_choice_free(&c);

	/* nothing on PATH: a problem that says what to install */
	runtimes_choose("python3.13", proj, NULL, proj, &c);
	assert_null(c.path);
	assert_non_null(strstr(c.problem, "not runnable locally"));
	assert_non_null(strstr(c.problem, "python3.13"));
	runtimes_choice_free(&c);

	/* the project's venv wins over PATH, with its version from pyvenv.cfg */
	{
		char *venv = util_path_join(proj, ".venv");
		mkvenv(venv, "3.9.18");
		runtimes_choose("python3.12", proj, NULL, bin, &c);
		assert_string_equal(c.source, ".venv");
		assert_non_null(strstr(c.path, "/proj/.venv/bin/python"));
		assert_int_equal(c.minor, 9);
		assert_false(c.exact);
		desc = runtimes_choice_describe("python3.12", &c);
		assert_non_null(strstr(desc, "running with .venv python3.9"));
		free(desc);
		runtimes_choice_free(&c);
		free(venv);
	}
	/* a lambdeck.json "python" that does not exist: said, and the venv still runs it */
	runtimes_choose("python3.12", proj, "nope/bin/python", bin, &c);
	assert_non_null(c.path);
	assert_string_equal(c.source, ".venv");
	assert_non_null(strstr(c.problem, "lambdeck.json \"python\": nope/bin/python"));
	runtimes_choice_free(&c);
	/* provided: nothing to choose; java: not runnable, says why */
	runtimes_choose("provided.al2023", proj, NULL, bin, &c);
	assert_null(c.problem);
	assert_true(c.exact);
	runtimes_choice_free(&c);
	runtimes_choose("java21", proj, NULL, bin, &c);
	assert_non_null(strstr(c.problem, "not runnable locally: Java"));
	assert_non_null(strstr(c.problem, "bootstrap"));
	runtimes_choice_free(&c);
	runtimes_choose("python2.7", proj, NULL, bin, &c);
	assert_non_null(strstr(c.problem, "not one AWS Lambda accepts"));
	runtimes_choice_free(&c);

	/* node: the version comes from the node_version.h installed beside it */
	{
		char *nodeprefix = util_path_join(root, "node"), *nbin, *inc, *hdr;
		const char *h = "#define NODE_MAJOR_VERSION 22\n#define NODE_MINOR_VERSION 4\n";

		nbin = util_path_join(nodeprefix, "bin");
		inc = util_path_join(nodeprefix, "include/node");
		hdr = util_path_join(inc, "node_version.h");
		assert_int_equal(util_mkdir_p(nbin, 0755, NULL), 0);
		assert_int_equal(util_mkdir_p(inc, 0755, NULL), 0);
		exe(nbin, "node");
		assert_int_equal(util_write_atomic(hdr, h, strlen(h), 0644, NULL), 0);
		runtimes_choose("nodejs22.x", proj, NULL, nbin, &c);
		assert_true(c.exact);
		assert_int_equal(c.major, 22);
		runtimes_choice_free(&c);
		runtimes_choose("nodejs18.x", proj, NULL, nbin, &c);
		assert_false(c.exact);
		desc = runtimes_choice_describe("nodejs18.x", &c);
		assert_non_null(strstr(desc, "nodejs18.x → running with node 22"));
		free(desc);
		runtimes_choice_free(&c);
		/* a node whose version cannot be told without running it: said so */
		assert_int_equal(unlink(hdr), 0);
		runtimes_choose("nodejs22.x", proj, NULL, nbin, &c);
		assert_non_null(c.path);
		assert_false(c.exact);
		desc = runtimes_choice_describe("nodejs22.x", &c);
		assert_non_null(strstr(desc, "running with node of unknown version"));
		free(desc);
		runtimes_choice_free(&c);
		free(nodeprefix), free(nbin), free(inc), free(hdr);
	}
	test_rm_rf(root);
	free(root), free(bin), free(proj);
}

static void test_project_python(void **state)
{
	char *root = test_tmpdir("pyenv"), *dotvenv = util_path_join(root, ".venv");
	char *venv = util_path_join(root, "venv"), *other = util_path_join(root, "elsewhere");
	char *problem = NULL;
	struct runtimes_pyenv e;

	(void)state;
	unsetenv("VIRTUAL_ENV");
	assert_false(runtimes_project_python(root, NULL, &e, &problem));
	assert_null(e.python);
	mkvenv(venv, "3.11.2");
	assert_true(runtimes_project_python(root, NULL, &e, NULL));
	assert_string_equal(e.source, "venv");
	assert_int_equal(e.major, 3);
	assert_int_equal(e.minor, 11);
	runtimes_pyenv_free(&e);
	mkvenv(dotvenv, "3.12.1"); /* .venv before venv */
	assert_true(runtimes_project_python(root, NULL, &e, NULL));
	assert_string_equal(e.source, ".venv");
	assert_int_equal(e.minor, 12);
	runtimes_pyenv_free(&e);
	mkvenv(other, "3.10.0"); /* $VIRTUAL_ENV before the project's folders */
	setenv("VIRTUAL_ENV", other, 1);
	assert_true(runtimes_project_python(root, NULL, &e, NULL));
	assert_string_equal(e.source, "$VIRTUAL_ENV");
	assert_int_equal(e.minor, 10);
	runtimes_pyenv_free(&e);
	/* lambdeck.json "python" before everything, relative to the project */
	assert_true(runtimes_project_python(root, "venv", &e, NULL));
	assert_string_equal(e.source, "lambdeck.json \"python\"");
	assert_int_equal(e.minor, 11);
	runtimes_pyenv_free(&e);
	/* a "python" that does not exist: said, and the next rule applies */
	assert_true(runtimes_project_python(root, "nope/.venv", &e, &problem));
	assert_non_null(problem);
	assert_non_null(strstr(problem, "nope/.venv"));
	assert_string_equal(e.source, "$VIRTUAL_ENV");
	free(problem);
	runtimes_pyenv_free(&e);
	runtimes_pyenv_free(NULL);
	unsetenv("VIRTUAL_ENV");
	test_rm_rf(root);
	free(root), free(dotvenv), free(venv), free(other);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table),          cmocka_unit_test(test_deprecation),
	    cmocka_unit_test(test_nearest),        cmocka_unit_test(test_choose),
	    cmocka_unit_test(test_project_python),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
