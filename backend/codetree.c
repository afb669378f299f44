/* codetree.c - code directory scan for the Functions pane. See codetree.h. */
#include "backend/codetree.h"

#include <dirent.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "backend/util.h"

static const char *const skip_names[] = {".git",      ".lambdeck",     "__pycache__",
                                         ".DS_Store", ".pytest_cache", ".mypy_cache",
                                         ".hg",       ".svn",          NULL};
static const char *const skip_globs[] = {"*.pyc", "*.swp", "*.swx", "*~", ".#*", "4913", NULL};
static const char *const deps_names[] = {
    "node_modules", ".venv", "venv", "vendor", ".aws-sam", ".serverless", "bower_components", NULL};

static bool in_list(const char *name, const char *const *list)
{
	for (size_t i = 0; list[i]; i++)
		if (!strcmp(name, list[i]))
			return true;
	return false;
}

bool codetree_skipped(const char *name)
{
	if (in_list(name, skip_names))
		return true;
	for (size_t i = 0; skip_globs[i]; i++)
		if (fnmatch(skip_globs[i], name, 0) == 0)
			return true;
	return false;
}

static void node_free(struct codetree_node *n)
{
	for (size_t i = 0; i < n->n_kids; i++)
		node_free(&n->kids[i]);
	free(n->kids);
	free(n->name);
	free(n->path);
}

/* Directories first, then by name. */
static int node_cmp(const void *a, const void *b)
{
	const struct codetree_node *x = a, *y = b;

	if (x->dir != y->dir)
		return x->dir ? -1 : 1;
	return strcmp(x->name, y->name);
}

static size_t count_entries(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	size_t n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

/* Lists n's directory into its kids, then recurses; budget counts entries left. */
static void scan_dir(struct codetree_node *n, int depth, size_t *budget, bool *truncated)
{
	DIR *d = opendir(n->path);
	struct dirent *e;
	size_t cap = 0;

	if (!d)
		return;
	while ((e = readdir(d))) {
		struct stat sb;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
		    codetree_skipped(e->d_name))
			continue;
		if (*budget == 0) {
			*truncated = true;
			break;
		}
		(*budget)--;
		char *path = util_path_join(n->path, e->d_name);
		if (stat(path, &sb) < 0) { /* dangling link: list it as a file */
			sb.st_mode = S_IFREG;
		}
		if (n->n_kids == cap) {
			cap = cap ? cap * 2 : 8;
			n->kids = xrealloc(n->kids, cap * sizeof(*n->kids));
		}
		struct codetree_node *k = &n->kids[n->n_kids++];
		*k = (struct codetree_node){
		    .name = xstrdup(e->d_name), .path = path, .dir = S_ISDIR(sb.st_mode)};
		if (k->dir && in_list(k->name, deps_names)) {
			k->deps = true;
			k->deps_entries = count_entries(path);
		}
	}
	closedir(d);
	if (n->n_kids > 1)
		qsort(n->kids, n->n_kids, sizeof(*n->kids), node_cmp);
	for (size_t i = 0; i < n->n_kids; i++)
		if (n->kids[i].dir && !n->kids[i].deps && depth < CODETREE_MAX_DEPTH)
			scan_dir(&n->kids[i], depth + 1, budget, truncated);
}

void codetree_scan(const char *dir, struct codetree *out)
{
	size_t budget = CODETREE_MAX_ENTRIES;

	*out = (struct codetree){.dir = xstrdup(dir)};
	out->node = (struct codetree_node){.name = xstrdup(dir), .path = xstrdup(dir), .dir = true};
	scan_dir(&out->node, 0, &budget, &out->truncated);
}

void codetree_clear(struct codetree *t)
{
	if (!t)
		return;
	node_free(&t->node);
	free(t->dir);
	memset(t, 0, sizeof(*t));
}
