/* runtimes.h - the Lambda runtimes lambdeck knows, in one table (identifier, language family,
 * language version, the interpreter's name, AWS's deprecation date), and which local program
 * runs a function of a given runtime: the project's own Python environment first (see
 * runtimes_project_python), then the interpreter of the exact version on PATH, then the
 * nearest version available. Used by discovery (project.c), `lambdeck functions`, the
 * Functions pane and the emulator's workers, so all four say the same thing.
 * Knows no ncurses, no libuv; the lookups are stat()s and small file reads, never a spawn. */
#ifndef LAMBDECK_RUNTIMES_H
#define LAMBDECK_RUNTIMES_H

#include <stdbool.h>
#include <time.h>

enum runtime_family {
	RUNTIME_PYTHON,
	RUNTIME_NODE,
	RUNTIME_PROVIDED, /* OS-only: the code's own executable `bootstrap` */
	RUNTIME_RUBY,
	RUNTIME_JAVA,
	RUNTIME_DOTNET,
	RUNTIME_GO,
};

struct runtime_info {
	const char *id; /* "python3.12", "nodejs20.x", "provided.al2023", "java21" */
	enum runtime_family family;
	int major, minor;        /* language version (3.12, 20.0); 0.0 for provided */
	const char *interpreter; /* executable of exactly this version ("python3.12", "node20"),
	                          * NULL where no such name exists (provided, compiled languages) */
	const char *deprecated;  /* AWS's deprecation date "YYYY-MM-DD", NULL if none announced */
};

/* The runtime named id (exact identifier), or NULL when AWS does not accept it today. */
const struct runtime_info *runtimes_find(const char *id);
/* The whole table (static), in AWS's order: Node.js, Python, provided, then the others. */
const struct runtime_info *runtimes_table(size_t *n);
/* True when r's deprecation date is on or before now. */
bool runtimes_deprecated(const struct runtime_info *r, time_t now);
/* "Python", "Node.js", "OS-only (provided)", "Ruby", "Java", ".NET", "Go". Static. */
const char *runtimes_family_name(enum runtime_family f);
/* The emulator runs python, nodejs and provided runtimes itself; the others only through
 * an executable `bootstrap` shipped with the code. */
bool runtimes_runs_natively(const struct runtime_info *r);
/* Comma-separated identifiers of every runtime the table holds (static). */
const char *runtimes_list(void);

/* The project's own Python environment, in this order (first match wins):
 *   1. lambdeck.json "python": a virtualenv directory or an interpreter, relative to the
 *      project directory or absolute;
 *   2. $VIRTUAL_ENV (an activated virtualenv);
 *   3. <project>/.venv, then <project>/venv (a directory with bin/python and pyvenv.cfg).
 * Used for local workers, dependency installs and test runs. */
struct runtimes_pyenv {
	char *python;       /* absolute path of the interpreter to run */
	char *root;         /* the virtualenv directory, NULL for a plain interpreter */
	const char *source; /* "lambdeck.json \"python\"", "$VIRTUAL_ENV", ".venv", "venv" */
	int major, minor;   /* its version, -1 when it cannot be told without running it */
};
/* Fills *out and returns true when the project has one; returns false and leaves *out
 * zeroed otherwise. configured is lambdeck.json's "python" or NULL; project_dir may be NULL
 * (then only $VIRTUAL_ENV counts). When "python" is set but does not exist, *problem gets
 * a caller-freed explanation (and the lookup goes on with the next rule). */
bool runtimes_project_python(const char *project_dir, const char *configured,
                             struct runtimes_pyenv *out, char **problem);
void runtimes_pyenv_free(struct runtimes_pyenv *e); /* frees the members; NULL ok */

/* The local program for one function. */
struct runtimes_choice {
	char *path;         /* absolute path of the interpreter; NULL for provided and when none */
	char *name;         /* what runs, for people: "python3.11", "node 20", ".venv python3.11" */
	int major, minor;   /* its language version, -1 when unknown */
	bool exact;         /* the declared language version (or provided: nothing to choose) */
	const char *source; /* "PATH", or the pyenv source ("$VIRTUAL_ENV", ".venv", ...) */
	char *problem;      /* why this runtime cannot run locally (path NULL), or what is wrong
	                     * with the configuration although it can (a lambdeck.json "python"
	                     * that does not exist); NULL when all is well */
};
/* Chooses the interpreter for runtime: python → the project's environment, else
 * python3.X of the exact version on PATH, else the nearest python3.Y (ties: the newer), else
 * python3; nodejsN.x → nodeN / node of version N, else the nearest node found. path_env is
 * the PATH to search (NULL: getenv("PATH")); version managers' shims are skipped for
 * versioned names. Always fills *out (free with runtimes_choice_free); out->problem says
 * what is missing ("no python3 interpreter on PATH", "not runnable locally: ..."). */
void runtimes_choose(const char *runtime, const char *project_dir, const char *configured_python,
                     const char *path_env, struct runtimes_choice *out);
void runtimes_choice_free(struct runtimes_choice *c);
/* "python3.9 → running with python3.11 (/usr/bin/python3.11)" when the choice differs from
 * the declared runtime, NULL when it is exact or nothing runs. Caller frees. */
char *runtimes_choice_describe(const char *runtime, const struct runtimes_choice *c);
/* lambdeck's per-user cache for what the managed runtimes provide (the AWS SDK v3 for
 * Node.js under aws-sdk-v3/): $XDG_CACHE_HOME/lambdeck, else $HOME/.cache/lambdeck.
 * Caller frees; NULL when neither variable is set. */
char *runtimes_cache_dir(void);
/* Picks the index of the version nearest to want among have[0..n): equal first, then the
 * smallest distance, ties to the newer. -1 when n is 0. Exposed for unit tests. */
int runtimes_nearest(int want_major, int want_minor, const int (*have)[2], int n);

#endif
