/* runtimes.c - the runtime table and the choice of a local interpreter (see runtimes.h). */
#include "backend/runtimes.h"

#include <ctype.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/util.h"

/* AWS's "Lambda runtimes" page: identifiers and deprecation dates (supported and recently
 * deprecated runtimes, .zip packages). Keep in AWS's order within a family. */
static const struct runtime_info table[] = {
    {"nodejs24.x", RUNTIME_NODE, 24, 0, "node24", "2028-04-30"},
    {"nodejs22.x", RUNTIME_NODE, 22, 0, "node22", "2027-04-30"},
    {"nodejs20.x", RUNTIME_NODE, 20, 0, "node20", "2026-04-30"},
    {"nodejs18.x", RUNTIME_NODE, 18, 0, "node18", "2025-09-01"},
    {"nodejs16.x", RUNTIME_NODE, 16, 0, "node16", "2024-06-12"},
    {"python3.14", RUNTIME_PYTHON, 3, 14, "python3.14", "2029-06-30"},
    {"python3.13", RUNTIME_PYTHON, 3, 13, "python3.13", "2029-06-30"},
    {"python3.12", RUNTIME_PYTHON, 3, 12, "python3.12", "2028-10-31"},
    {"python3.11", RUNTIME_PYTHON, 3, 11, "python3.11", "2027-06-30"},
    {"python3.10", RUNTIME_PYTHON, 3, 10, "python3.10", "2026-06-30"},
    {"python3.9", RUNTIME_PYTHON, 3, 9, "python3.9", "2025-12-15"},
    {"python3.8", RUNTIME_PYTHON, 3, 8, "python3.8", "2024-10-14"},
    {"provided.al2023", RUNTIME_PROVIDED, 0, 0, NULL, "2029-06-30"},
    {"provided.al2", RUNTIME_PROVIDED, 0, 0, NULL, "2026-06-30"},
    {"provided", RUNTIME_PROVIDED, 0, 0, NULL, "2024-01-08"},
    {"java25", RUNTIME_JAVA, 25, 0, NULL, "2029-06-30"},
    {"java21", RUNTIME_JAVA, 21, 0, NULL, "2029-06-30"},
    {"java17", RUNTIME_JAVA, 17, 0, NULL, "2027-06-30"},
    {"java11", RUNTIME_JAVA, 11, 0, NULL, "2027-06-30"},
    {"java8.al2", RUNTIME_JAVA, 8, 0, NULL, "2026-06-30"},
    {"dotnet10", RUNTIME_DOTNET, 10, 0, NULL, "2028-11-14"},
    {"dotnet8", RUNTIME_DOTNET, 8, 0, NULL, "2026-11-10"},
    {"ruby3.4", RUNTIME_RUBY, 3, 4, NULL, "2028-03-31"},
    {"ruby3.3", RUNTIME_RUBY, 3, 3, NULL, "2027-03-31"},
    {"ruby3.2", RUNTIME_RUBY, 3, 2, NULL, "2026-03-31"},
    {"go1.x", RUNTIME_GO, 1, 0, NULL, "2024-01-08"},
};
#define N_TABLE (sizeof(table) / sizeof(table[0]))

const struct runtime_info *runtimes_find(const char *id)
{
	for (size_t i = 0; id && i < N_TABLE; i++)
		if (!strcmp(table[i].id, id))
			return &table[i];
	return NULL;
}

const struct runtime_info *runtimes_table(size_t *n)
{
	*n = N_TABLE;
	return table;
}

bool runtimes_deprecated(const struct runtime_info *r, time_t now)
{
	struct tm tm;
	char today[16];

	if (!r || !r->deprecated)
		return false;
	gmtime_r(&now, &tm);
	strftime(today, sizeof(today), "%Y-%m-%d", &tm);
	return strcmp(r->deprecated, today) <= 0; /* ISO dates compare as strings */
}

const char *runtimes_family_name(enum runtime_family f)
{
	switch (f) {
	case RUNTIME_PYTHON:
		return "Python";
	case RUNTIME_NODE:
		return "Node.js";
	case RUNTIME_PROVIDED:
		return "OS-only (provided)";
	case RUNTIME_RUBY:
		return "Ruby";
	case RUNTIME_JAVA:
		return "Java";
	case RUNTIME_DOTNET:
		return ".NET";
	case RUNTIME_GO:
		return "Go";
	}
	return "?";
}

bool runtimes_runs_natively(const struct runtime_info *r)
{
	return r && (r->family == RUNTIME_PYTHON || r->family == RUNTIME_NODE ||
	             r->family == RUNTIME_PROVIDED);
}

const char *runtimes_list(void)
{
	static char list[512];

	if (!list[0]) {
		size_t off = 0;

		for (size_t i = 0; i < N_TABLE; i++)
			off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s",
			                        i ? ", " : "", table[i].id);
	}
	return list;
}

int runtimes_nearest(int want_major, int want_minor, const int (*have)[2], int n)
{
	int best = -1;
	long best_d = 0;

	for (int i = 0; i < n; i++) {
		long d = labs((long)(have[i][0] - want_major) * 1000 + (have[i][1] - want_minor));

		if (best < 0 || d < best_d ||
		    (d == best_d && (have[i][0] > have[best][0] || (have[i][0] == have[best][0] &&
		                                                    have[i][1] > have[best][1])))) {
			best = i;
			best_d = d;
		}
	}
	return best;
}

char *runtimes_cache_dir(void)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");

	if (xdg && xdg[0] == '/')
		return xasprintf("%s/lambdeck", xdg);
	if (home && home[0] == '/')
		return xasprintf("%s/.cache/lambdeck", home);
	return NULL;
}

/* ---- the project's Python environment ---- */

/* "3.11" from "3.11.2" / "3.11.2.final.0": sets major/minor, false if unparsable. */
static bool parse_version(const char *s, int *major, int *minor)
{
	char *end;
	long a, b;

	while (*s == ' ' || *s == '\t' || *s == 'v')
		s++;
	a = strtol(s, &end, 10);
	if (end == s || *end != '.')
		return false;
	s = end + 1;
	b = strtol(s, &end, 10);
	if (end == s || a < 0 || a > 1000 || b < 0 || b > 1000)
		return false;
	*major = (int)a;
	*minor = (int)b;
	return true;
}

/* The version in an executable's name: "python3.11" → 3.11 (also after realpath, so the
 * usual python3 → python3.11 link tells it). */
static bool version_from_name(const char *path, int *major, int *minor)
{
	char *real = realpath(path, NULL);
	const char *names[2] = {path, real};
	bool ok = false;

	for (int i = 0; i < 2 && !ok; i++) {
		const char *base = names[i] ? strrchr(names[i], '/') : NULL;

		base = base ? base + 1 : names[i];
		if (base && !strncmp(base, "python", 6) && isdigit((unsigned char)base[6]))
			ok = parse_version(base + 6, major, minor);
	}
	free(real);
	return ok;
}

/* The "version" of a virtualenv from its pyvenv.cfg. */
static bool venv_version(const char *root, int *major, int *minor)
{
	char *cfg = util_path_join(root, "pyvenv.cfg");
	struct buf b = {0};
	bool ok = false;

	if (util_read_file(cfg, &b, NULL) == 0 && b.data) {
		for (char *line = b.data; line && *line && !ok;) {
			char *nl = strchr(line, '\n');

			if (nl)
				*nl = 0;
			while (*line == ' ')
				line++;
			if ((!strncmp(line, "version_info", 12) || !strncmp(line, "version", 7))) {
				char *eq = strchr(line, '=');

				if (eq)
					ok = parse_version(eq + 1, major, minor);
			}
			line = nl ? nl + 1 : NULL;
		}
	}
	buf_free(&b);
	free(cfg);
	return ok;
}

/* A virtualenv at dir: its bin/python (python3) when executable. Caller frees. */
static char *venv_python(const char *dir)
{
	static const char *const names[] = {"bin/python", "bin/python3"};

	for (size_t i = 0; i < 2; i++) {
		char *p = util_path_join(dir, names[i]);

		if (access(p, X_OK) == 0 && util_is_file(p))
			return p;
		free(p);
	}
	return NULL;
}

/* Fills out from a venv directory or an interpreter path; false when neither. */
static bool pyenv_from(const char *path, const char *source, struct runtimes_pyenv *out)
{
	char *py = NULL, *root = NULL;

	if (util_is_dir(path)) {
		py = venv_python(path);
		if (!py)
			return false;
		root = realpath(path, NULL);
		if (!root)
			root = xstrdup(path);
	} else if (access(path, X_OK) == 0 && util_is_file(path)) {
		py = xstrdup(path);
	} else {
		return false;
	}
	out->python = py;
	out->root = root;
	out->source = source;
	out->major = out->minor = -1;
	if (!(root && venv_version(root, &out->major, &out->minor)) &&
	    !version_from_name(py, &out->major, &out->minor))
		out->major = out->minor = -1;
	return true;
}

bool runtimes_project_python(const char *project_dir, const char *configured,
                             struct runtimes_pyenv *out, char **problem)
{
	const char *venv = getenv("VIRTUAL_ENV");
	static const char *const dirs[] = {".venv", "venv"};

	memset(out, 0, sizeof(*out));
	if (problem)
		*problem = NULL;
	if (configured && *configured) {
		char *path = configured[0] == '/' || !project_dir
		                 ? xstrdup(configured)
		                 : util_path_join(project_dir, configured);
		bool ok = pyenv_from(path, "lambdeck.json \"python\"", out);

		if (!ok && problem)
			*problem = xasprintf("lambdeck.json \"python\": %s is neither a virtualenv "
			                     "(with bin/python) nor an executable interpreter",
			                     configured);
		free(path);
		if (ok)
			return true;
	}
	if (venv && *venv && pyenv_from(venv, "$VIRTUAL_ENV", out))
		return true;
	for (size_t i = 0; project_dir && i < 2; i++) {
		char *d = util_path_join(project_dir, dirs[i]);
		bool ok = pyenv_from(d, dirs[i], out) && out->root;

		if (!ok)
			runtimes_pyenv_free(out); /* a file named venv is not a virtualenv */
		free(d);
		if (ok)
			return true;
	}
	return false;
}

void runtimes_pyenv_free(struct runtimes_pyenv *e)
{
	if (!e)
		return;
	free(e->python);
	free(e->root);
	e->python = e->root = NULL;
}

/* ---- interpreters on PATH ---- */

struct candidate {
	char *path;
	int major, minor;
};

struct candidates {
	struct candidate *v;
	int n;
};

static void cand_add(struct candidates *c, char *path, int major, int minor)
{
	for (int i = 0; i < c->n; i++) /* first on PATH wins for one version */
		if (c->v[i].major == major && c->v[i].minor == minor) {
			free(path);
			return;
		}
	c->v = xrealloc(c->v, (size_t)(c->n + 1) * sizeof(*c->v));
	c->v[c->n++] = (struct candidate){path, major, minor};
}

static void cand_free(struct candidates *c)
{
	for (int i = 0; i < c->n; i++)
		free(c->v[i].path);
	free(c->v);
}

/* Node's version from the node_version.h installed beside it (Debian/NodeSource packages,
 * the official tarballs, nvm): <prefix>/include/node/node_version.h. */
static bool node_version(const char *exe, int *major, int *minor)
{
	char *real = realpath(exe, NULL), *slash, *hdr;
	struct buf b = {0};
	bool ok = false;

	if (!real)
		return false;
	slash = strrchr(real, '/');
	if (slash)
		*slash = 0;
	hdr = xasprintf("%s/../include/node/node_version.h", real);
	if (util_read_file(hdr, &b, NULL) == 0 && b.data) {
		const char *m = strstr(b.data, "#define NODE_MAJOR_VERSION ");
		const char *n = strstr(b.data, "#define NODE_MINOR_VERSION ");

		if (m) {
			*major = atoi(m + 27);
			*minor = n ? atoi(n + 27) : 0;
			ok = *major > 0;
		}
	}
	buf_free(&b);
	free(hdr);
	free(real);
	return ok;
}

/* True for "python3.N" (N digits only). */
static bool python_name(const char *name, int *minor)
{
	const char *p = name + 8;

	if (strncmp(name, "python3.", 8) || !*p)
		return false;
	for (const char *q = p; *q; q++)
		if (!isdigit((unsigned char)*q))
			return false;
	*minor = atoi(p);
	return true;
}

/* Every python3.N (or node, nodeN, nodejs) executable on path_env, one per version. */
static void scan_path(const char *path_env, bool python, struct candidates *out)
{
	char *copy = xstrdup(path_env && *path_env ? path_env : "/usr/local/bin:/usr/bin:/bin");
	char *save = NULL;

	for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		DIR *d;
		struct dirent *de;

		if (strstr(dir, "/shims")) /* pyenv/asdf shims exist for versions not installed */
			continue;
		d = opendir(dir);
		if (!d)
			continue;
		while ((de = readdir(d))) {
			int major = 3, minor = 0;
			char *p;

			if (python) {
				if (!python_name(de->d_name, &minor))
					continue;
			} else if (strcmp(de->d_name, "node") && strcmp(de->d_name, "nodejs") &&
			           !(strncmp(de->d_name, "node", 4) == 0 &&
			             isdigit((unsigned char)de->d_name[4]))) {
				continue;
			}
			p = util_path_join(dir, de->d_name);
			if (access(p, X_OK) != 0 || !util_is_file(p)) {
				free(p);
				continue;
			}
			if (!python) {
				minor = 0;
				if (!node_version(p, &major, &minor)) {
					if (!isdigit((unsigned char)de->d_name[4])) {
						major =
						    -1; /* unknown version: only a last resort */
					} else {
						major = atoi(de->d_name + 4);
					}
				}
			}
			cand_add(out, p, major, minor);
		}
		closedir(d);
	}
	free(copy);
}

/* Finds name on path_env (the first executable). Caller frees. */
static char *which(const char *path_env, const char *name)
{
	char *copy = xstrdup(path_env && *path_env ? path_env : "/usr/local/bin:/usr/bin:/bin");
	char *save = NULL, *found = NULL;

	for (char *dir = strtok_r(copy, ":", &save); dir && !found;
	     dir = strtok_r(NULL, ":", &save)) {
		char *p = util_path_join(dir, name);

		if (access(p, X_OK) == 0 && util_is_file(p))
			found = p;
		else
			free(p);
	}
	free(copy);
	return found;
}

static void choose_python(const struct runtime_info *r, const char *project_dir,
                          const char *configured, const char *path_env, struct runtimes_choice *c)
{
	struct runtimes_pyenv env;
	struct candidates cands = {0};
	char *problem = NULL;

	if (runtimes_project_python(project_dir, configured, &env, &problem)) {
		c->path = env.python;
		env.python = NULL;
		c->source = env.source;
		c->major = env.major;
		c->minor = env.minor;
		c->exact = env.major == r->major && env.minor == r->minor;
		if (env.major >= 0)
			c->name = xasprintf("%s python%d.%d", env.source, env.major, env.minor);
		else
			c->name = xasprintf("%s python", env.source);
		c->problem = problem; /* a wrong "python" is said even when the next rule works */
		runtimes_pyenv_free(&env);
		return;
	}
	scan_path(path_env, true, &cands);
	if (cands.n) {
		int(*have)[2] = xcalloc((size_t)cands.n, sizeof(*have));
		int i;

		for (int k = 0; k < cands.n; k++) {
			have[k][0] = cands.v[k].major;
			have[k][1] = cands.v[k].minor;
		}
		i = runtimes_nearest(r->major, r->minor, (const int(*)[2])have, cands.n);
		free(have);
		c->path = xstrdup(cands.v[i].path);
		c->major = cands.v[i].major;
		c->minor = cands.v[i].minor;
	} else if ((c->path = which(path_env, "python3"))) {
		if (!version_from_name(c->path, &c->major, &c->minor))
			c->major = c->minor = -1;
	}
	cand_free(&cands);
	c->source = "PATH";
	if (!c->path) {
		c->problem = problem ? xasprintf("%s; and no python3 interpreter on PATH", problem)
		                     : xasprintf("not runnable locally: no python3 interpreter on "
		                                 "PATH (install %s or python3)",
		                                 r->interpreter);
		free(problem);
		return;
	}
	c->problem = problem;
	c->exact = c->major == r->major && c->minor == r->minor;
	c->name = c->major >= 0 ? xasprintf("python%d.%d", c->major, c->minor) : xstrdup("python3");
}

static void choose_node(const struct runtime_info *r, const char *path_env,
                        struct runtimes_choice *c)
{
	struct candidates cands = {0};
	int best = -1;

	scan_path(path_env, false, &cands);
	for (int k = 0; k < cands.n; k++) {
		if (cands.v[k].major < 0) {
			if (best < 0)
				best = k; /* a node of unknown version, if nothing better */
			continue;
		}
		if (best < 0 || cands.v[best].major < 0 ||
		    abs(cands.v[k].major - r->major) < abs(cands.v[best].major - r->major) ||
		    (abs(cands.v[k].major - r->major) == abs(cands.v[best].major - r->major) &&
		     cands.v[k].major > cands.v[best].major))
			best = k;
	}
	c->source = "PATH";
	if (best < 0) {
		c->problem = xstrdup("not runnable locally: no node on PATH (install Node.js)");
		cand_free(&cands);
		return;
	}
	c->path = xstrdup(cands.v[best].path);
	c->major = cands.v[best].major;
	c->minor = c->major < 0 ? -1 : cands.v[best].minor;
	c->exact = c->major == r->major;
	c->name = c->major >= 0 ? xasprintf("node %d", c->major) : xstrdup("node");
	cand_free(&cands);
}

void runtimes_choose(const char *runtime, const char *project_dir, const char *configured_python,
                     const char *path_env, struct runtimes_choice *out)
{
	const struct runtime_info *r = runtimes_find(runtime);

	memset(out, 0, sizeof(*out));
	out->major = out->minor = -1;
	if (!path_env)
		path_env = getenv("PATH");
	if (!r) {
		out->problem = xasprintf("runtime %s is not one AWS Lambda accepts (%s)",
		                         runtime ? runtime : "(none)", runtimes_list());
		return;
	}
	switch (r->family) {
	case RUNTIME_PYTHON:
		choose_python(r, project_dir, configured_python, path_env, out);
		break;
	case RUNTIME_NODE:
		choose_node(r, path_env, out);
		break;
	case RUNTIME_PROVIDED:
		out->exact = true;
		out->source = "bootstrap";
		break;
	default:
		out->source = "bootstrap";
		out->problem = xasprintf(
		    "not runnable locally: %s functions need AWS's %s runtime, which the local "
		    "emulator does not have; ship an executable `bootstrap` with the code (a "
		    "custom runtime) to run them locally",
		    runtimes_family_name(r->family), r->id);
		break;
	}
}

void runtimes_choice_free(struct runtimes_choice *c)
{
	if (!c)
		return;
	free(c->path);
	free(c->name);
	free(c->problem);
	memset(c, 0, sizeof(*c));
}

char *runtimes_choice_describe(const char *runtime, const struct runtimes_choice *c)
{
	if (!c || !c->path || c->exact)
		return NULL;
	if (c->major < 0)
		return xasprintf("%s → running with %s of unknown version (%s)", runtime, c->name,
		                 c->path);
	return xasprintf("%s → running with %s (%s)", runtime, c->name, c->path);
}
