/* testrun.h - the project's test command: choosing it, running it (own process group, argv,
 * timeout, cancel), re-running it on save (fswatch), and reading its results (JUnit XML,
 * TAP, the summary lines of pytest, unittest, go test, node --test, jest).
 *
 * Used by the Tests pane (panes/tests.c) and `lambdeck test` (cli/cmd_test.c).
 *
 * Call order:
 *   testrun_detect()                 pure: which argv to run for a project (no side effects)
 *   tr = testrun_new(loop, ...)      nothing runs yet
 *   testrun_start(tr, "manual")      starts a run (or queues one rerun if a run is going)
 *   testrun_set_watch(tr, true, ..)  re-run on save (debounced; a change during a run queues
 *                                    exactly one rerun)
 *   testrun_cancel(tr)               SIGTERM to the process group, SIGKILL after the grace
 *   testrun_free(tr)                 kills a running child's group, closes handles; run the
 *                                    loop afterwards so close callbacks release memory
 * All calls and callbacks happen on the loop's thread; nothing blocks (except the readdir
 * scan of the tree when the watch is switched on, see fswatch.h).
 *
 * Parsing is also available standalone and pure (testrun_parse_output, testrun_parse_junit)
 * so the parsers can be tested on stored real outputs. */
#ifndef LAMBDECK_TESTRUN_H
#define LAMBDECK_TESTRUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "backend/project.h"
#include "backend/util.h"

enum testrun_status {
	TESTRUN_IDLE, /* never ran */
	TESTRUN_RUNNING,
	TESTRUN_PASSED,    /* exit 0 and no failure reported */
	TESTRUN_FAILED,    /* exit != 0 or failures reported */
	TESTRUN_ERROR,     /* could not start (command not found...) */
	TESTRUN_TIMEOUT,   /* killed after the timeout */
	TESTRUN_CANCELLED, /* cancelled by the user */
	TESTRUN_NO_TESTS,  /* nothing failed but no tests ran (or the runner collected none):
	                      a warning, never a pass; result->warning names the likely cause */
};
const char *testrun_status_name(enum testrun_status s); /* "passed", "failed"... */

/* Which parser produced the counts. */
enum testrun_format {
	TESTRUN_FMT_NONE, /* nothing recognised: only the exit status counts */
	TESTRUN_FMT_JUNIT,
	TESTRUN_FMT_TAP,
	TESTRUN_FMT_PYTEST,
	TESTRUN_FMT_UNITTEST,
	TESTRUN_FMT_GOTEST,
	TESTRUN_FMT_NODE, /* node --test spec reporter ("ℹ tests 3"); its TAP output is TAP */
	TESTRUN_FMT_JEST,
	TESTRUN_FMT_SNAPSHOT,
	TESTRUN_FMT_MOCHA, /* spec, dot and JSON reporters */
	TESTRUN_FMT_VITEST,
	TESTRUN_FMT_MIXED, /* several roots, read by different parsers */
};
const char *testrun_format_name(enum testrun_format f); /* "junit", "tap", "pytest"... */

struct testrun_failure {
	char *name;    /* test id as the runner names it ("tests/test_x.py::test_y") */
	char *message; /* first line(s) of the assertion / error, sanitised; may be "" */
	char *file;    /* as reported (relative or absolute), NULL if unknown */
	char *path;    /* resolved absolute path of file when it exists, else NULL */
	int line;      /* 1-based, 0 if unknown */
	char *group;   /* NULL for the runner's tests, "snapshots" for snapshot tests */
};

#define TESTRUN_MAX_FAILURES 500

/* One test root of a run (a project can have several: its directory and each function's
 * code directory with its own package.json): what ran there and what it reported. */
struct testrun_root_result {
	char *dir;     /* relative to the project ("." for itself) */
	char *command; /* argv joined */
	char *rule;    /* why this command ("package.json scripts.test (mocha tests/unit/)") */
	enum testrun_status status;
	enum testrun_format format;
	int exit_status; /* -1 when not exited normally or not run */
	bool counts_known;
	int passed, failed, skipped, errors;
	char *warning; /* TESTRUN_NO_TESTS: the likely cause, else NULL */
};

/* One finished (or running) run. Strings are owned by the result. */
struct testrun_result {
	unsigned id; /* 1, 2, ... per testrun */
	enum testrun_status status;
	enum testrun_format format;
	char *trigger;   /* "manual", "on save: app.py (+2)", "watch" */
	char *command;   /* the argv joined for display */
	int exit_status; /* -1 when not exited normally */
	int term_signal; /* 0 or the signal that ended it */
	bool counts_known;
	int passed, failed, skipped, errors; /* errors: pytest/unittest "error" */
	double duration_s;  /* from the runner's summary when given, else wall time */
	int64_t started_ms; /* wall clock */
	int64_t wall_ms;
	struct testrun_failure *failures;
	size_t n_failures;
	bool failures_truncated;           /* more than TESTRUN_MAX_FAILURES */
	struct testrun_root_result *roots; /* one per root, in run order (>= 1 once run) */
	size_t n_roots;
	char *warning; /* TESTRUN_NO_TESTS: which root ran none and the likely cause */
	char *note;    /* why parsing fell back ("junit.xml:3:7: ... (report ignored)"), or NULL */
	char *error;   /* TESTRUN_ERROR/TIMEOUT message ("command not found: pytest"), or NULL */
	/* Output: sanitised lines (ANSI colours stripped, controls in caret form, invalid UTF-8
	 * replaced), bounded: when more than max_output_bytes arrived, the oldest lines are
	 * dropped and dropped_lines counts them. Each line is NUL-terminated, no '\n'. */
	char **lines;
	size_t n_lines;
	uint64_t dropped_lines;
	uint64_t output_bytes; /* raw bytes received */
};

void testrun_result_clear(struct testrun_result *r);
/* Copies a result (deep). */
void testrun_result_copy(struct testrun_result *dst, const struct testrun_result *src);
/* One-line summary: "✗ 1 failed, 41 passed, 2 skipped  0.80 s" (ascii: "FAIL ..."). */
void testrun_result_summary(const struct testrun_result *r, bool ascii, struct buf *out);
/* The same for one root of a suite, without a duration: "✗ 1 failed, 3 passed". */
void testrun_root_summary(const struct testrun_root_result *x, bool ascii, struct buf *out);
/* JSON object (cJSON printed, unformatted): status, counts, duration, command, failures,
 * exit status; with output lines when with_output. */
char *testrun_result_json(const struct testrun_result *r, bool with_output);

/* --- parsing (pure) ---------------------------------------------------------------------- */

/* Parses the output text of a run (raw: ANSI escapes are stripped here) and fills format,
 * counts, duration (when the runner printed one) and failures of r. Recognises, by what
 * the text contains: TAP (incl. node --test's TAP), pytest, unittest, go test (-v or not),
 * node --test spec reporter, jest. Returns true when a format was recognised. */
bool testrun_parse_output(const char *text, size_t len, struct testrun_result *r);

/* Parses a JUnit XML report (the subset: testsuites/testsuite/testcase with failure, error,
 * skipped; attributes name, classname, file, line, time; CDATA, entities, comments,
 * processing instructions). Returns 0 and fills r (format JUNIT), or -1 with err->message
 * "name:line:col: what" (name is the report's display name) and r untouched. */
int testrun_parse_junit(const char *xml, size_t len, const char *name, struct testrun_result *r,
                        struct lk_error *err);

/* Finds a source location in one output line (Python traceback `File "x", line N`,
 * "path:N:col", "(path:N:col)", "at path line N"), skipping node internals, node_modules and
 * the Python standard library. Returns true with *file (caller frees) and *line. */
bool testrun_find_location(const char *line, char **file, int *lineno);

/* Strips ANSI escape sequences (CSI, OSC, other ESC sequences) from text, appending the
 * rest to out unchanged (no other sanitising). */
void testrun_strip_ansi(const char *text, size_t len, struct buf *out);

/* --- snapshot tests ------------------------------------------------------------------------ */

struct snapshot_report;
/* Turns a snapshot replay report (backend/snapshot.h) into a result of format SNAPSHOT:
 * counts (a snapshot that could not run counts as an error), one failure per differing or
 * broken snapshot (group "snapshots", file = its .snapshot.json relative to the project,
 * path = absolute, message = the first difference "path: expected X, got Y" or the error).
 * out is cleared first; status PASSED or FAILED. */
void testrun_from_snapshots(const struct snapshot_report *rep, const char *project_dir,
                            struct testrun_result *out);
/* True when the project has at least one events/<Function>/<name>.snapshot.json. */
bool testrun_has_snapshots(const char *project_dir);

/* --- choosing the commands ----------------------------------------------------------------- */

/* A test root: a directory, the command run there, and the rule that chose it. */
struct testrun_root {
	char *dir;   /* absolute */
	char *rel;   /* relative to the project directory, "." for it */
	char **argv; /* NULL-terminated */
	char *rule;  /* "pytest: tests/requirements.txt names pytest; the .venv interpreter..." */
};

/* What `lambdeck test` runs: one or more roots, run one after the other as one suite. */
struct testrun_plan {
	char *dir; /* the project directory */
	struct testrun_root *roots;
	size_t n;
};

/* Detects the plan of project directory dir (project may be NULL). lambdeck.json "test"
 * wins and runs alone in dir. Else each root - dir first, then each function's code
 * directory - takes the first rule that matches:
 *   1. a Makefile with a test target                 -> make test
 *   2. package.json scripts.test (not npm's placeholder) -> npm test
 *   3. pytest used: pytest.ini, [tool.pytest] in pyproject.toml, [tool:pytest] in
 *      setup.cfg, [pytest] in tox.ini, a conftest.py, pytest in a requirements file, or a
 *      test file importing pytest -> <python> -m pytest with the first interpreter that
 *      imports it ($VIRTUAL_ENV, .venv, venv, then python3), else a pytest executable
 *   4. go.mod                                        -> go test -v ./...
 *   5. unittest                                      -> <python> -m unittest discover
 *      (with -s tests when tests/ has no __init__.py: discovery would skip it)
 * A function's directory is a root only when rule 1 or 2 matches, or it has Python tests
 * and is not already walked by the project directory's pytest/unittest/go test; the
 * project directory falls back to rule 5 only when no function directory is a root.
 * Blocking (reads the tree, probes interpreters by running them): call it off the loop
 * thread in the console. Clear with testrun_plan_clear. */
void testrun_plan_detect(const char *dir, const struct project *project, struct testrun_plan *out);
void testrun_plan_clear(struct testrun_plan *pl);
void testrun_root_clear(struct testrun_root *r);
/* "ROOT: COMMAND\n    chosen by: RULE\n" per root (for --explain and the pane). */
void testrun_plan_explain(const struct testrun_plan *pl, struct buf *out);
/* The suite's command for display: the root's argv joined, or "npm test (in a) + npm test
 * (in b)" for several (what testrun_command() of a runner made from the plan says). */
char *testrun_plan_command(const struct testrun_plan *pl);
/* The first root's argv of testrun_plan_detect (caller frees with testrun_argv_free) and
 * *source: "lambdeck.json", "Makefile", "package.json", "pytest", "go.mod", "unittest". */
char **testrun_detect(const char *dir, const struct project *project, const char **source);
/* The likely reason a run in dir of command (format fmt) ran no tests, from what the tree
 * holds ("tests/ has test_*.py files (tests/unit/test_x.py) but unittest discovered none:
 * no __init__.py..."). Blocking (bounded tree walk). Caller frees. */
char *testrun_no_tests_cause(const char *dir, const char *command, enum testrun_format fmt);
void testrun_argv_free(char **argv);
char **testrun_argv_dup(char *const *argv); /* deep copy of a NULL-terminated argv */
char *testrun_argv_join(char *const *argv); /* for display, shell-quoted where needed */

/* --- running -------------------------------------------------------------------------------- */

struct testrun;

struct testrun_callbacks {
	/* A run started (r->status RUNNING). */
	void (*on_start)(struct testrun *tr, const struct testrun_result *r, void *user);
	/* One sanitised output line of the current run (NUL-terminated, no '\n'). */
	void (*on_line)(struct testrun *tr, const char *line, void *user);
	/* The run ended; r is final (also kept as testrun_last()). */
	void (*on_finish)(struct testrun *tr, const struct testrun_result *r, void *user);
	/* A watch batch arrived (paths absolute); called before any run it starts. Optional. */
	void (*on_change)(struct testrun *tr, const char *const *paths, size_t n, void *user);
};

struct testrun_opts {
	unsigned timeout_ms;     /* 0 -> no timeout */
	unsigned kill_grace_ms;  /* SIGTERM -> SIGKILL delay; 0 -> 5000 */
	unsigned debounce_ms;    /* watch debounce; 0 -> 200 */
	size_t max_output_bytes; /* 0 -> 4 MiB of kept output per run */
	const char *report_path; /* JUnit XML written by the runner (relative to dir or
	                            absolute); NULL -> taken from a --junitxml=PATH argument */
	size_t history;          /* finished runs kept; 0 -> 10 */
	/* Sharing with other processes on the project (see "sharing" below). NULL: not shared
	 * (no lock, nothing written). Else who runs, for the others' display ("console",
	 * "lambdeck test"): each run holds .lambdeck/tests/run.lock, announces itself in
	 * running.json and leaves its result in last.json. */
	const char *share_as;
	/* When another process holds the run lock: false -> testrun_start returns 2 (busy) and
	 * nothing runs; true -> wait for that run to end, then run (the CLI). */
	bool wait_for_lock;
};

/* Creates a runner for argv (copied) in directory dir. opts may be NULL. */
struct testrun *testrun_new(uv_loop_t *loop, const char *dir, char *const *argv,
                            const struct testrun_opts *opts, const struct testrun_callbacks *cbs,
                            void *user);
/* Creates a runner for every root of plan (copied; run in order, one result: counts
 * summed, known only when every root's are, status the worst, each root's own result in
 * result->roots; a header line names each root in the output when there are several). */
struct testrun *testrun_new_plan(uv_loop_t *loop, const struct testrun_plan *plan,
                                 const struct testrun_opts *opts,
                                 const struct testrun_callbacks *cbs, void *user);
void testrun_free(struct testrun *tr);

/* Starts a run now. When a run is going it does not start another: it queues exactly one
 * rerun (returns 1). Returns 0 when started; -1 with err set when the command could not be
 * started (the failed run is still recorded as TESTRUN_ERROR and on_finish is called);
 * 2 with err set ("Busy") when shared, another process is running the suite of this
 * project and wait_for_lock is off: nothing runs, nothing is recorded (its result will
 * arrive in last.json). A re-run on save that finds the lock taken is skipped that way. */
int testrun_start(struct testrun *tr, const char *trigger, struct lk_error *err);
/* Cancels the running run (SIGTERM to its process group, SIGKILL after the grace) and drops
 * a queued rerun. No-op when idle. */
void testrun_cancel(struct testrun *tr);
bool testrun_running(const struct testrun *tr);
bool testrun_rerun_queued(const struct testrun *tr);
/* Process group id of the running child (== its pid), 0 when idle. */
int testrun_pid(const struct testrun *tr);

/* Switches re-run on save on/off. Returns 0, or -1 with err set (the watch could not be
 * set up); extra_ignore patterns as in fswatch_opts (the JUnit report is always ignored). */
int testrun_set_watch(struct testrun *tr, bool on, struct lk_error *err);
bool testrun_watching(const struct testrun *tr);
/* Watched directories (0 when not watching), and the watcher's last problem or NULL. */
size_t testrun_watch_dirs(const struct testrun *tr);
const char *testrun_watch_problem(const struct testrun *tr);

/* The current (running) result or the last finished one; NULL before the first run.
 * Valid until the next run starts. */
const struct testrun_result *testrun_current(const struct testrun *tr);
/* Finished runs, newest first (i = 0 is the last one). */
size_t testrun_history_count(const struct testrun *tr);
const struct testrun_result *testrun_history(const struct testrun *tr, size_t i);
const char *testrun_command(const struct testrun *tr); /* argv joined */
const char *testrun_dir(const struct testrun *tr);

/* --- sharing: .lambdeck/tests/ of the project ------------------------------------------------
 *
 *   run.lock      flock()ed (exclusive) by the process running the suite, for the whole run:
 *                 two consoles watching the same project never both run it for one save
 *   running.json  {"pid","by","trigger","command","startedMs"} while a run goes (atomic;
 *                 removed at the end; a dead pid means a crashed runner: ignored)
 *   last.json     the last finished run: testrun_result_json() (output: its last
 *                 TESTRUN_SHARE_LINES lines) plus "pid", "by", "startedMs", "finishedMs";
 *                 written atomically before the lock is released */

#define TESTRUN_SHARE_LINES 2000

struct testrun_shared {
	bool running; /* another live process holds a run (running.json, pid alive) */
	int running_pid;
	char *running_by, *running_trigger;
	int64_t running_started_ms;
	bool has_last;
	int last_pid;
	char *last_by;
	int64_t last_finished_ms;
	struct testrun_result last; /* status, counts, failures, output tail, trigger... */
};

/* Directory (caller frees). */
char *testrun_share_dir(const char *project_dir);
/* Reads running.json and last.json of dir. Blocking (small files): run it on the thread
 * pool from a console. Missing files are not errors. Returns 0, or -1 with err set
 * ("path:line:col: what") when a file is not valid; out is filled as far as valid. */
int testrun_shared_read(const char *project_dir, struct testrun_shared *out, struct lk_error *err);
void testrun_shared_clear(struct testrun_shared *s);
/* Parses a result written by testrun_result_json(); -1 when it is not one. */
int testrun_result_from_json(const char *json, size_t len, struct testrun_result *out);
/* Shows another process's finished run here: it is added to the history (newest) and, when
 * no run of ours is going, becomes testrun_current(). Its trigger is prefixed with "from
 * <by> pid <pid>: " so a reader knows where it came from. */
void testrun_adopt(struct testrun *tr, const struct testrun_shared *s);

/* Resolves a failure's file as reported by a runner to an existing absolute path under dir
 * (tries dir/file, then the go module path from go.mod, then a search by name under dir
 * skipping ignored directories). Returns NULL when not found. Caller frees. */
char *testrun_resolve_file(const char *dir, const char *file);

#endif
