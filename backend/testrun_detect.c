/* testrun_detect.c - which test commands a project has: its test roots (the project
 * directory and each function's code directory), the rule that chose each root's command
 * (lambdeck.json "test", Makefile, package.json, pytest, go.mod, unittest), the Python
 * interpreter that really has pytest (probed), and why a run that ran no tests ran none. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "backend/fswatch.h"
#include "backend/testrun_internal.h"

extern char **environ;

/* --- small file tests ------------------------------------------------------------------------ */

static bool file_contains(const char *dir, const char *name, const char *needle)
{
	char *p = util_path_join(dir, name);
	struct buf b = {0};
	bool found = false;
	if (util_read_file(p, &b, NULL) == 0 && b.data)
		found = strstr(b.data, needle) != NULL;
	buf_free(&b);
	free(p);
	return found;
}

static bool file_exists_in(const char *dir, const char *name)
{
	char *p = util_path_join(dir, name);
	bool ok = util_is_file(p);
	free(p);
	return ok;
}

static bool dir_exists_in(const char *dir, const char *name)
{
	char *p = util_path_join(dir, name);
	bool ok = util_is_dir(p);
	free(p);
	return ok;
}

/* A Makefile rule line "test:" / "test: deps" / "check test:" (not "test := x"). */
static bool makefile_has_test(const char *dir)
{
	static const char *const names[] = {"GNUmakefile", "makefile", "Makefile"};
	for (size_t k = 0; k < 3; k++) {
		char *p = util_path_join(dir, names[k]);
		struct buf b = {0};
		int rc = util_read_file(p, &b, NULL);
		free(p);
		if (rc != 0) {
			buf_free(&b);
			continue;
		}
		bool found = false;
		for (char *l = b.data; l && *l && !found;) {
			char *nl = strchr(l, '\n');
			if (nl)
				*nl = '\0';
			if (*l != '\t' && *l != '#') {
				char *colon = strchr(l, ':');
				if (colon && colon[1] != '=' && !(colon > l && colon[-1] == '?')) {
					/* targets before the colon, separated by blanks */
					for (char *t = l; t < colon;) {
						while (t < colon && (*t == ' ' || *t == '\t'))
							t++;
						char *e = t;
						while (e < colon && *e != ' ' && *e != '\t')
							e++;
						if (e - t == 4 && !strncmp(t, "test", 4))
							found = true;
						t = e;
					}
				}
			}
			l = nl ? nl + 1 : NULL;
		}
		buf_free(&b);
		return found; /* make reads only the first of these that exists */
	}
	return false;
}

/* scripts.test of dir/package.json (caller frees), NULL when none or npm init's
 * placeholder (which always fails: it is not a test command). */
static char *package_json_test(const char *dir)
{
	char *p = util_path_join(dir, "package.json");
	struct buf b = {0};
	char *out = NULL;
	if (util_read_file(p, &b, NULL) == 0 && b.data) {
		cJSON *j = cJSON_ParseWithLength(b.data, b.len);
		cJSON *scripts = cJSON_GetObjectItemCaseSensitive(j, "scripts");
		cJSON *t = cJSON_GetObjectItemCaseSensitive(scripts, "test");
		if (cJSON_IsString(t) && t->valuestring[0] &&
		    !strstr(t->valuestring, "no test specified"))
			out = xstrdup(t->valuestring);
		cJSON_Delete(j);
	}
	buf_free(&b);
	free(p);
	return out;
}

static bool in_path(const char *prog)
{
	return !strchr(prog, '/') && util_executable(prog, NULL);
}

/* --- what the tree holds ------------------------------------------------------------------- */

struct scan {
	int py_tests;          /* test_*.py / *_test.py files */
	int py_tests_in_tests; /* ... of them under tests/ (any depth) */
	char *pytest_import;   /* first test file importing pytest (relative), or NULL */
	char *pytest_req;      /* first requirements file naming pytest (relative), or NULL */
	char *conftest;        /* first conftest.py (relative), or NULL */
	int js_tests;          /* *.test.js / *.spec.ts ... and test/ or __tests__/ files */
	char *first_py, *first_js;
};

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && !strcmp(s + a - b, suffix);
}

static bool is_py_test(const char *name)
{
	return ends_with(name, ".py") &&
	       (!strncmp(name, "test_", 5) || ends_with(name, "_test.py"));
}

static bool is_js_test(const char *rel, const char *name)
{
	static const char *const exts[] = {".js",  ".mjs", ".cjs", ".ts",
	                                   ".mts", ".cts", ".jsx", ".tsx"};
	const char *dot = strrchr(name, '.');
	bool js = false;
	for (size_t i = 0; dot && i < sizeof(exts) / sizeof(exts[0]); i++)
		js = js || !strcmp(dot, exts[i]);
	if (!js)
		return false;
	if (strstr(name, ".test.") || strstr(name, ".spec.") || !strncmp(name, "test.", 5))
		return true;
	return !strncmp(rel, "test/", 5) || !strncmp(rel, "tests/", 6) || strstr(rel, "/test/") ||
	       strstr(rel, "/tests/") || strstr(rel, "__tests__/");
}

/* A requirements file (requirements*.txt, *requirements.txt, requirements/ *.txt) line
 * naming the pytest package. */
static bool requirements_name_pytest(const char *path)
{
	struct buf b = {0};
	bool found = false;
	if (util_read_file(path, &b, NULL) == 0 && b.data) {
		for (char *l = b.data; l && *l && !found;) {
			char *nl = strchr(l, '\n');
			while (*l == ' ' || *l == '\t')
				l++;
			if (!strncasecmp(l, "pytest", 6)) {
				char c = l[6];
				found = !(isalnum((unsigned char)c) || c == '-' || c == '_');
			}
			l = nl ? nl + 1 : NULL;
		}
	}
	buf_free(&b);
	return found;
}

static bool imports_pytest(const char *path)
{
	struct buf b = {0};
	bool found = false;
	if (util_read_file(path, &b, NULL) == 0 && b.data)
		found = strstr(b.data, "import pytest") || strstr(b.data, "from pytest") ||
		        strstr(b.data, "@pytest.");
	buf_free(&b);
	return found;
}

/* Breadth-first over dir (bounded; skips the directories the watcher ignores: VCS,
 * .lambdeck, node_modules, virtualenvs, caches), noting the test files and pytest's marks. */
static void scan_tree(const char *dir, struct scan *s)
{
	struct item {
		char *abs, *rel;
	} *queue = xcalloc(1, sizeof(*queue));
	size_t head = 0, n = 1, cap = 1, visited = 0;

	memset(s, 0, sizeof(*s));
	queue[0] = (struct item){xstrdup(dir), xstrdup("")};
	while (head < n && visited < 20000) {
		struct item it = queue[head++];
		DIR *dp = opendir(it.abs);
		struct dirent *de;
		int depth = 0;
		for (const char *c = it.rel; *c; c++)
			depth += *c == '/';
		while (dp && (de = readdir(dp)) && visited < 20000) {
			const char *nm = de->d_name;
			visited++;
			if (nm[0] == '.' && (!nm[1] || !strcmp(nm, "..")))
				continue;
			if (fswatch_default_ignored(nm))
				continue;
			char *abs = util_path_join(it.abs, nm);
			char *rel = *it.rel ? xasprintf("%s%s", it.rel, nm) : xstrdup(nm);
			bool isdir =
			    de->d_type == DT_DIR || (de->d_type == DT_UNKNOWN && util_is_dir(abs));
			if (isdir) {
				if (depth < 8 && nm[0] != '.') {
					if (n == cap)
						queue =
						    xrealloc(queue, (cap *= 2) * sizeof(*queue));
					queue[n++] = (struct item){abs, xasprintf("%s/", rel)};
					free(rel);
					continue;
				}
			} else if (is_py_test(nm)) {
				s->py_tests++;
				if (!strncmp(rel, "tests/", 6) || !strncmp(rel, "test/", 5))
					s->py_tests_in_tests++;
				if (!s->first_py)
					s->first_py = xstrdup(rel);
				if (!s->pytest_import && imports_pytest(abs))
					s->pytest_import = xstrdup(rel);
			} else if (!strcmp(nm, "conftest.py")) {
				if (!s->conftest)
					s->conftest = xstrdup(rel);
			} else if (ends_with(nm, ".txt") &&
			           (strstr(nm, "requirements") || strstr(rel, "requirements/"))) {
				if (!s->pytest_req && requirements_name_pytest(abs))
					s->pytest_req = xstrdup(rel);
			} else if (is_js_test(rel, nm)) {
				s->js_tests++;
				if (!s->first_js)
					s->first_js = xstrdup(rel);
			}
			free(abs);
			free(rel);
		}
		if (dp)
			closedir(dp);
		free(it.abs);
		free(it.rel);
	}
	for (size_t i = head; i < n; i++) {
		free(queue[i].abs);
		free(queue[i].rel);
	}
	free(queue);
}

static void scan_free(struct scan *s)
{
	free(s->pytest_import);
	free(s->pytest_req);
	free(s->conftest);
	free(s->first_py);
	free(s->first_js);
	memset(s, 0, sizeof(*s));
}

/* Why the project uses pytest (static or from s), NULL when nothing says so. */
static char *pytest_evidence(const char *dir, const struct scan *s)
{
	if (file_exists_in(dir, "pytest.ini"))
		return xstrdup("pytest.ini");
	if (file_contains(dir, "pyproject.toml", "[tool.pytest"))
		return xstrdup("[tool.pytest] in pyproject.toml");
	if (file_contains(dir, "setup.cfg", "[tool:pytest]"))
		return xstrdup("[tool:pytest] in setup.cfg");
	if (file_contains(dir, "tox.ini", "[pytest]"))
		return xstrdup("[pytest] in tox.ini");
	if (s->conftest)
		return xasprintf("%s", s->conftest);
	if (s->pytest_req)
		return xasprintf("pytest in %s", s->pytest_req);
	if (s->pytest_import)
		return xasprintf("%s imports pytest", s->pytest_import);
	return NULL;
}

/* --- interpreters -------------------------------------------------------------------------- */

/* Runs argv (PATH searched) with no input and output, in dir; true when it exits 0 within
 * 20 s. Blocking: detection runs off the loop thread. */
static bool probe(const char *dir, char *const *argv)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int status = 0;
	bool ok = false;

	if (posix_spawn_file_actions_init(&fa) != 0)
		return false;
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	/* the probe runs where the tests will (a project-local module named pytest counts);
	 * no chdir(): this runs on a worker thread of a multi-threaded process */
	if (dir)
		posix_spawn_file_actions_addchdir_np(&fa, dir);
	int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0)
		return false;
	for (int waited = 0;; waited += 10) {
		pid_t w = waitpid(pid, &status, WNOHANG);
		if (w == pid) {
			ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
			break;
		}
		if (w < 0 && errno != EINTR)
			break;
		if (waited >= 20000) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			break;
		}
		struct timespec ts = {0, 10 * 1000000};
		nanosleep(&ts, NULL);
	}
	return ok;
}

/* The project's virtualenv interpreters, in order: $VIRTUAL_ENV, <dir>/.venv, <dir>/venv
 * (a directory with bin/python and pyvenv.cfg). Returns how many were put in out[] (each
 * "label\0path" pairs: label static, path caller frees). */
static size_t project_venvs(const char *dir, const char *labels[3], char *paths[3])
{
	const char *venv = getenv("VIRTUAL_ENV");
	const char *cand[3][2] = {{"$VIRTUAL_ENV", venv}, {".venv", ".venv"}, {"venv", "venv"}};
	size_t n = 0;
	for (size_t i = 0; i < 3; i++) {
		if (!cand[i][1] || !*cand[i][1])
			continue;
		char *root =
		    cand[i][1][0] == '/' ? xstrdup(cand[i][1]) : util_path_join(dir, cand[i][1]);
		char *py = util_path_join(root, "bin/python");
		char *cfg = util_path_join(root, "pyvenv.cfg");
		bool dup = false;
		for (size_t k = 0; k < n; k++)
			dup = dup || !strcmp(paths[k], py);
		if (!dup && access(py, X_OK) == 0 && util_is_file(cfg)) {
			labels[n] = cand[i][0];
			paths[n++] = py;
		} else {
			free(py);
		}
		free(root);
		free(cfg);
	}
	return n;
}

/* Chooses how to run pytest in dir: the first virtualenv python that imports it, then
 * python3 -m pytest, then a pytest executable. *how says which (caller frees); when none
 * works the command is python3 -m pytest and *how says so. */
static char **pytest_argv(const char *dir, char **how)
{
	const char *labels[3];
	char *paths[3];
	size_t n = project_venvs(dir, labels, paths);
	char **argv = NULL;

	for (size_t i = 0; i < n; i++) {
		char *pr[] = {paths[i], "-c", "import pytest", NULL};
		if (!argv && probe(dir, pr)) {
			argv = testrun_argv_make(paths[i], "-m", "pytest", NULL);
			*how = xasprintf("the %s interpreter has pytest", labels[i]);
		}
		free(paths[i]);
	}
	if (argv)
		return argv;
	char *pr[] = {"python3", "-c", "import pytest", NULL};
	if (probe(dir, pr)) {
		*how = xstrdup(n ? "python3 has pytest (the virtualenv has not)"
		                 : "python3 has pytest");
		return testrun_argv_make("python3", "-m", "pytest", NULL);
	}
	static const char *const exes[] = {"pytest", "pytest-3"};
	for (size_t i = 0; i < 2; i++) {
		char *pv[] = {(char *)exes[i], "--version", NULL};
		if (in_path(exes[i]) && probe(dir, pv)) {
			*how = xasprintf("%s works (python3 cannot import pytest)", exes[i]);
			return testrun_argv_make(exes[i], NULL);
		}
	}
	*how = xstrdup("no interpreter here has pytest: install it (python3-pytest, or into the "
	               "project's virtualenv)");
	return testrun_argv_make("python3", "-m", "pytest", NULL);
}

/* The Python that runs unittest: the first virtualenv interpreter, else python3. */
static char *unittest_python(const char *dir, const char **label)
{
	const char *labels[3];
	char *paths[3];
	size_t n = project_venvs(dir, labels, paths);
	for (size_t i = 1; i < n; i++)
		free(paths[i]);
	*label = n ? labels[0] : NULL;
	return n ? paths[0] : xstrdup("python3");
}

/* --- plans ----------------------------------------------------------------------------------- */

static void plan_add(struct testrun_plan *pl, const char *project_dir, const char *dir, char **argv,
                     char *rule)
{
	size_t pl_len = strlen(project_dir);
	pl->roots = xrealloc(pl->roots, (pl->n + 1) * sizeof(*pl->roots));
	struct testrun_root *r = &pl->roots[pl->n++];
	r->dir = xstrdup(dir);
	if (!strcmp(dir, project_dir))
		r->rel = xstrdup(".");
	else if (!strncmp(dir, project_dir, pl_len) && dir[pl_len] == '/')
		r->rel = xstrdup(dir + pl_len + 1);
	else
		r->rel = xstrdup(dir);
	r->argv = argv;
	r->rule = rule;
}

/* One root's command by the documented rules (Makefile, package.json, pytest, go.mod,
 * unittest). A function's directory gets unittest only when it holds Python tests, and
 * none of the Python/Go rules when the project directory already runs a recursive runner
 * of that kind over it. Returns false when the directory has no tests to run. */
static bool detect_root(const char *dir, bool is_project, const char *covered,
                        struct testrun_plan *pl, const char *project_dir)
{
	char *npm = NULL;
	if (makefile_has_test(dir)) {
		plan_add(pl, project_dir, dir, testrun_argv_make("make", "test", NULL),
		         xstrdup("Makefile: it has a test target"));
		return true;
	}
	if ((npm = package_json_test(dir))) {
		char *rule = xasprintf("package.json scripts.test (%s)", npm);
		free(npm);
		plan_add(pl, project_dir, dir, testrun_argv_make("npm", "test", NULL), rule);
		return true;
	}
	if (covered)
		return false; /* the project's pytest/unittest/go test already walks this tree */
	struct scan s;
	scan_tree(dir, &s);
	char *why = pytest_evidence(dir, &s);
	bool found = true;
	if (why) {
		char *how = NULL;
		char **argv = pytest_argv(dir, &how);
		plan_add(pl, project_dir, dir, argv, xasprintf("pytest: %s; %s", why, how));
		free(how);
		free(why);
	} else if (file_exists_in(dir, "go.mod")) {
		plan_add(pl, project_dir, dir, testrun_argv_make("go", "test", "-v", "./...", NULL),
		         xstrdup("go.mod"));
	} else if (is_project || s.py_tests) {
		const char *label;
		char *py = unittest_python(dir, &label);
		bool no_init =
		    dir_exists_in(dir, "tests") && !file_exists_in(dir, "tests/__init__.py");
		/* not "-t .": Python 3.11 refuses a start directory that is not a package */
		char **argv = no_init ? testrun_argv_make(py, "-m", "unittest", "discover", "-s",
		                                          "tests", NULL)
		                      : testrun_argv_make(py, "-m", "unittest", "discover", NULL);
		char *rule = xasprintf("unittest (%s%s%s)%s",
		                       s.py_tests ? "Python tests and nothing naming another runner"
		                                  : "nothing else found",
		                       label ? "; the " : "", label ? label : "",
		                       no_init ? "; -s tests: tests/ has no __init__.py" : "");
		free(py);
		plan_add(pl, project_dir, dir, argv, rule);
	} else {
		found = false;
	}
	scan_free(&s);
	return found;
}

void testrun_plan_detect(const char *dir, const struct project *project, struct testrun_plan *out)
{
	memset(out, 0, sizeof(*out));
	out->dir = xstrdup(dir);
	if (project && project->test_argv && project->test_argv[0]) {
		plan_add(out, dir, dir, testrun_argv_dup(project->test_argv),
		         xstrdup("lambdeck.json \"test\""));
		return;
	}
	/* the project directory first; its recursive Python/Go runner covers the functions
	 * below it, its npm test does not (each function's package.json is its own root) */
	detect_root(dir, true, NULL, out, dir);
	const char *root_rule = out->n ? out->roots[0].rule : "";
	bool recursive = !strncmp(root_rule, "pytest", 6) || !strncmp(root_rule, "unittest", 8) ||
	                 !strncmp(root_rule, "go.mod", 6);
	size_t dl = strlen(dir);
	for (size_t i = 0; project && i < project->n_functions; i++) {
		const char *cd = project->functions[i].code_dir;
		bool seen = !cd || !util_is_dir(cd);
		for (size_t k = 0; k < out->n && !seen; k++)
			seen = !strcmp(out->roots[k].dir, cd);
		/* functions sharing a code directory, or the project directory itself */
		if (seen)
			continue;
		bool below = !strncmp(cd, dir, dl) && cd[dl] == '/';
		detect_root(cd, false, recursive && below ? root_rule : NULL, out, dir);
	}
	/* A project directory with nothing but the unittest default while its functions have
	 * their own roots: that default would only report "no tests ran". */
	if (out->n > 1 && !strncmp(out->roots[0].rule, "unittest (nothing else found", 28)) {
		testrun_root_clear(&out->roots[0]);
		memmove(out->roots, out->roots + 1, (out->n - 1) * sizeof(*out->roots));
		out->n--;
	}
}

void testrun_root_clear(struct testrun_root *r)
{
	free(r->dir);
	free(r->rel);
	testrun_argv_free(r->argv);
	free(r->rule);
	memset(r, 0, sizeof(*r));
}

void testrun_plan_clear(struct testrun_plan *pl)
{
	if (!pl)
		return;
	for (size_t i = 0; i < pl->n; i++)
		testrun_root_clear(&pl->roots[i]);
	free(pl->roots);
	free(pl->dir);
	memset(pl, 0, sizeof(*pl));
}

void testrun_plan_explain(const struct testrun_plan *pl, struct buf *out)
{
	for (size_t i = 0; i < pl->n; i++) {
		const struct testrun_root *r = &pl->roots[i];
		char *cmd = testrun_argv_join(r->argv);
		buf_printf(out, "%s: %s\n    chosen by: %s\n", r->rel, cmd, r->rule);
		free(cmd);
	}
	if (pl->n > 1)
		buf_printf(out, "%zu roots run one after the other as one suite\n", pl->n);
}

char **testrun_detect(const char *dir, const struct project *project, const char **source)
{
	struct testrun_plan pl;
	static const char *const names[] = {"lambdeck.json", "Makefile", "package.json",
	                                    "pytest",        "go.mod",   "unittest"};
	testrun_plan_detect(dir, project, &pl);
	char **argv = pl.n ? pl.roots[0].argv : NULL;
	if (pl.n)
		pl.roots[0].argv = NULL;
	else
		argv = testrun_argv_make("python3", "-m", "unittest", "discover", NULL);
	if (source) {
		*source = "unittest";
		for (size_t i = 0; pl.n && i < sizeof(names) / sizeof(names[0]); i++)
			if (!strncmp(pl.roots[0].rule, names[i], strlen(names[i])))
				*source = names[i];
	}
	testrun_plan_clear(&pl);
	return argv;
}

/* --- "no tests ran" ----------------------------------------------------------------------------
 */

char *testrun_no_tests_cause(const char *dir, const char *command, enum testrun_format fmt)
{
	struct scan s;
	char *why = NULL;
	bool unittest = command && strstr(command, "unittest");
	scan_tree(dir, &s);
	if (unittest && s.py_tests) {
		bool no_init =
		    dir_exists_in(dir, "tests") && !file_exists_in(dir, "tests/__init__.py");
		char *ev = pytest_evidence(dir, &s);
		why = xasprintf("%s has test_*.py files (%s) but unittest discovered none%s%s%s",
		                s.py_tests_in_tests ? "tests/" : "the project", s.first_py,
		                no_init ? ": no __init__.py in tests/ (or its subfolders)" : "",
		                ev ? "; pytest-style tests? (" : "", ev ? ev : "");
		if (ev) {
			char *w = xasprintf("%s)", why);
			free(why);
			why = w;
		}
		free(ev);
	} else if (fmt == TESTRUN_FMT_PYTEST || (command && strstr(command, "pytest"))) {
		why = s.py_tests
		          ? xasprintf("pytest collected nothing although there are test files "
		                      "(%s): check testpaths/python_files in its configuration",
		                      s.first_py)
		          : xstrdup("pytest collected nothing: no test_*.py or *_test.py files");
	} else if (s.js_tests) {
		why = xasprintf("the command ran no tests although there are test files (%s): does "
		                "its pattern or directory match them?",
		                s.first_js);
	} else if (s.py_tests) {
		why =
		    xasprintf("the command ran no tests although there are Python test files (%s)",
		              s.first_py);
	} else {
		why = xstrdup("no test files found (test_*.py, *.test.js, *_test.go...)");
	}
	scan_free(&s);
	return why;
}
