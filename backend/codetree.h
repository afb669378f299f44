/* codetree.h - the file tree of a function's code directory as the Functions pane lists
 * it: directories first then files, by name; editor/VCS/cache litter skipped
 * (codetree_skipped); dependency folders (node_modules, .venv, vendor, ...) one node with
 * their entry count, not listed; at most CODETREE_MAX_ENTRIES entries and
 * CODETREE_MAX_DEPTH levels (then truncated).
 *
 * Blocking (reads directories): the console scans on the thread pool. */
#ifndef LAMBDECK_CODETREE_H
#define LAMBDECK_CODETREE_H

#include <stdbool.h>
#include <stddef.h>

#define CODETREE_MAX_DEPTH   16
#define CODETREE_MAX_ENTRIES 5000 /* per code directory */

/* A file-system node of a code directory. */
struct codetree_node {
	char *name;
	char *path; /* absolute when the scanned directory is */
	bool dir;
	bool deps; /* dependency folder: shown as one node, not listed */
	size_t deps_entries;
	struct codetree_node *kids;
	size_t n_kids;
};

/* One scanned code directory (several functions may share one). */
struct codetree {
	char *dir;
	struct codetree_node node; /* the directory itself */
	bool truncated;            /* the entry budget ran out */
};

/* Scans dir into *out (always filled; an unreadable directory has no children). */
void codetree_scan(const char *dir, struct codetree *out);
void codetree_clear(struct codetree *t);
/* True for names never listed (.git, .lambdeck, __pycache__, *.pyc, *.swp, *~, ...). */
bool codetree_skipped(const char *name);

#endif
