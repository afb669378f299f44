/* cmd_events.c - 'lambdeck events': saved events (events/<Function>/<name>.json) and the
 * built-in templates.
 *
 *   lambdeck events list [FUNCTION] [--json]
 *   lambdeck events show FUNCTION NAME
 *   lambdeck events new FUNCTION NAME [--template T] [--param KEY=VALUE]... [--from FILE|-]
 *   lambdeck events edit FUNCTION NAME          ($VISUAL / $EDITOR, validated on return)
 *   lambdeck events rename FUNCTION NAME NEW
 *   lambdeck events cp FUNCTION NAME NEW
 *   lambdeck events rm FUNCTION NAME [-y]       (asks on a terminal unless -y)
 *   lambdeck events templates [TEMPLATE [--param KEY=VALUE]...] [--json]
 */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "backend/events.h"
#include "backend/project.h"
#include "cli/commands.h"

extern char **environ;

static void usage(FILE *out)
{
	fputs("usage: lambdeck events list [FUNCTION] [--json]\n"
	      "       lambdeck events show FUNCTION NAME\n"
	      "       lambdeck events new FUNCTION NAME [--template T] [--param KEY=VALUE]... "
	      "[--from FILE|-]\n"
	      "       lambdeck events edit FUNCTION NAME\n"
	      "       lambdeck events rename FUNCTION NAME NEW_NAME\n"
	      "       lambdeck events cp FUNCTION NAME NEW_NAME\n"
	      "       lambdeck events rm FUNCTION NAME [-y]\n"
	      "       lambdeck events templates [TEMPLATE [--param KEY=VALUE]...] [--json]\n"
	      "\n"
	      "Saved events live in events/<Function>/<name>.json (commit them).\n",
	      out);
}

/* Prints s with control characters made visible. */
static void put_clean(FILE *out, const char *s)
{
	struct buf b = {0};

	buf_puts(&b, ""); /* util_sanitize leaves an empty buffer unterminated */
	util_sanitize(s, strlen(s), true, true, &b);
	fputs(b.data ? b.data : "", out);
	buf_free(&b);
}

static int fail(const struct lk_error *err)
{
	fputs("lambdeck: ", stderr);
	put_clean(stderr, err->message);
	fputc('\n', stderr);
	return 1;
}

/* Loads the project; prints its error but keeps going when discovery half-worked. */
static struct project *load(const struct global_opts *g, int *rc)
{
	struct project *p = NULL;
	struct lk_error err = {0};

	if (cli_project_load(g, &p, &err) < 0) {
		fail(&err);
		*rc = 1;
		project_free(p);
		return NULL;
	}
	return p;
}

/* The function must be one of the project's: a typo should not create events/Typo/. */
static int check_function(const struct project *p, const char *name)
{
	if (project_find(p, name))
		return 0;
	fprintf(stderr, "lambdeck: unknown function '");
	put_clean(stderr, name);
	fprintf(stderr, "'");
	if (p->n_functions) {
		fprintf(stderr, " (functions:");
		for (size_t i = 0; i < p->n_functions; i++)
			fprintf(stderr, " %s", p->functions[i].name);
		fprintf(stderr, ")");
	} else {
		fprintf(stderr, " (the project has no functions)");
	}
	fputc('\n', stderr);
	return -1;
}

static int list_function(const struct project *p, const char *fn, bool json, cJSON *arr)
{
	struct event_list l = {0};
	struct lk_error err = {0};

	if (events_list(p->dir, fn, &l, &err) < 0)
		return fail(&err);
	if (json) {
		for (size_t i = 0; i < l.n; i++) {
			cJSON *o = cJSON_CreateObject();
			char *rel = xasprintf("events/%s/%s.json", fn, l.items[i].name);
			cJSON_AddStringToObject(o, "function", fn);
			cJSON_AddStringToObject(o, "name", l.items[i].name);
			cJSON_AddStringToObject(o, "path", rel);
			cJSON_AddBoolToObject(o, "snapshot", l.items[i].has_snapshot);
			cJSON_AddBoolToObject(o, "shared",
			                      l.items[i].shared); /* events/NAME.json */
			cJSON_AddBoolToObject(o, "recovery", l.items[i].has_recovery);
			cJSON_AddItemToArray(arr, o);
			free(rel);
		}
	} else {
		printf("%s\n", fn);
		if (!l.n)
			printf("  (no saved events: lambdeck events new %s NAME --template T)\n",
			       fn);
		for (size_t i = 0; i < l.n; i++)
			printf("  %s%s%s%s\n", l.items[i].name,
			       l.items[i].shared ? "  [events/, every function]" : "",
			       l.items[i].has_snapshot ? "  [snapshot]" : "",
			       l.items[i].has_recovery ? "  [unsaved edit in .lambdeck/recovery]"
			                               : "");
	}
	events_list_free(&l);
	return 0;
}

static int do_list(const struct project *p, int argc, char **argv)
{
	const char *fn = NULL;
	bool json = false;
	cJSON *arr = cJSON_CreateArray();
	int rc = 0;

	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else if (!fn && argv[i][0] != '-')
			fn = argv[i];
		else {
			usage(stderr);
			cJSON_Delete(arr);
			return 2;
		}
	}
	if (fn) {
		if (check_function(p, fn) < 0)
			rc = 1;
		else
			rc = list_function(p, fn, json, arr);
	} else {
		for (size_t i = 0; i < p->n_functions && !rc; i++)
			rc = list_function(p, p->functions[i].name, json, arr);
	}
	if (json && !rc) {
		char *s = util_json_safe(cJSON_Print(arr));
		printf("%s\n", s);
		free(s);
	}
	cJSON_Delete(arr);
	return rc;
}

/* Collects --param KEY=VALUE pairs (pointers into argv). */
static int parse_params(const char *arg, struct event_kv *kv, size_t *n, size_t max)
{
	const char *eq = strchr(arg, '=');

	if (!eq || eq == arg) {
		fprintf(stderr, "lambdeck: --param wants KEY=VALUE, got '%s'\n", arg);
		return -1;
	}
	if (*n >= max) {
		fprintf(stderr, "lambdeck: too many --param\n");
		return -1;
	}
	kv[*n].name = xstrndup(arg, (size_t)(eq - arg));
	kv[*n].value = eq + 1;
	(*n)++;
	return 0;
}

static void free_params(struct event_kv *kv, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free((char *)kv[i].name);
}

static int do_templates(int argc, char **argv)
{
	struct event_kv kv[32];
	size_t n = 0;
	const char *name = NULL;
	bool json = false;
	int rc = 0;

	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "--param") && i + 1 < argc) {
			if (parse_params(argv[++i], kv, &n, 32) < 0) {
				free_params(kv, n);
				return 2;
			}
		} else if (!name && argv[i][0] != '-') {
			name = argv[i];
		} else {
			usage(stderr);
			free_params(kv, n);
			return 2;
		}
	}
	if (name) {
		const struct event_template *t = events_template_find(name);
		struct lk_error err = {0};
		char *s;
		if (!t) {
			fprintf(stderr,
			        "lambdeck: no template '%s' (see 'lambdeck events templates')\n",
			        name);
			free_params(kv, n);
			return 1;
		}
		if (!(s = events_template_render(t, kv, n, &err)))
			rc = fail(&err);
		else
			fputs(s, stdout);
		free(s);
		free_params(kv, n);
		return rc;
	}
	if (json) {
		cJSON *arr = cJSON_CreateArray();
		for (size_t i = 0; i < events_template_count(); i++) {
			const struct event_template *t = events_template_at(i);
			cJSON *o = cJSON_CreateObject(), *ps = cJSON_CreateArray();
			cJSON_AddStringToObject(o, "name", t->name);
			cJSON_AddStringToObject(o, "summary", t->summary);
			for (size_t k = 0; k < t->n_params; k++) {
				cJSON *pj = cJSON_CreateObject();
				cJSON_AddStringToObject(pj, "name", t->params[k].name);
				cJSON_AddStringToObject(pj, "default", t->params[k].def);
				cJSON_AddStringToObject(pj, "help", t->params[k].help);
				cJSON_AddItemToArray(ps, pj);
			}
			cJSON_AddItemToObject(o, "params", ps);
			cJSON_AddItemToArray(arr, o);
		}
		char *s = util_json_safe(cJSON_Print(arr));
		printf("%s\n", s);
		free(s);
		cJSON_Delete(arr);
	} else {
		for (size_t i = 0; i < events_template_count(); i++) {
			const struct event_template *t = events_template_at(i);
			printf("%-22s %s\n", t->name, t->summary);
			for (size_t k = 0; k < t->n_params; k++) {
				struct buf def = {0};
				buf_puts(&def, "");
				util_sanitize(t->params[k].def, strlen(t->params[k].def), false,
				              false, &def);
				printf("    %-14s %s (default: %s)\n", t->params[k].name,
				       t->params[k].help, def.data ? def.data : "");
				buf_free(&def);
			}
		}
	}
	free_params(kv, n);
	return 0;
}

static int do_new(const struct project *p, int argc, char **argv)
{
	struct event_kv kv[32];
	size_t n = 0;
	const char *fn = NULL, *name = NULL, *tmpl = NULL, *from = NULL;
	struct lk_error err = {0};
	int rc = 0;

	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--template") && i + 1 < argc)
			tmpl = argv[++i];
		else if (!strcmp(argv[i], "--from") && i + 1 < argc)
			from = argv[++i];
		else if (!strcmp(argv[i], "--param") && i + 1 < argc) {
			if (parse_params(argv[++i], kv, &n, 32) < 0) {
				free_params(kv, n);
				return 2;
			}
		} else if (!fn && argv[i][0] != '-')
			fn = argv[i];
		else if (!name && argv[i][0] != '-')
			name = argv[i];
		else {
			free_params(kv, n);
			usage(stderr);
			return 2;
		}
	}
	if (!fn || !name || (tmpl && from) || (n && !tmpl)) {
		free_params(kv, n);
		usage(stderr);
		return 2;
	}
	if (check_function(p, fn) < 0) {
		free_params(kv, n);
		return 1;
	}
	if (tmpl) {
		const struct event_template *t = events_template_find(tmpl);
		if (!t) {
			fprintf(stderr,
			        "lambdeck: no template '%s' (see 'lambdeck events templates')\n",
			        tmpl);
			rc = 1;
		} else if (events_new_from_template(p->dir, fn, name, t, kv, n, &err) < 0) {
			rc = fail(&err);
		}
	} else if (from) {
		struct buf b = {0};
		char *label = NULL;
		if (events_resolve(p->dir, fn, from, &b, &label, &err) < 0 ||
		    events_save(p->dir, fn, name, b.data, b.len, false, &err) < 0)
			rc = fail(&err);
		free(label);
		buf_free(&b);
	} else if (events_save(p->dir, fn, name, "{}\n", 3, false, &err) < 0) {
		rc = fail(&err);
	}
	free_params(kv, n);
	if (!rc)
		printf("created events/%s/%s.json\n", fn, name);
	return rc;
}

/* Runs the editor on path with the terminal inherited; $VISUAL, $EDITOR, else vi. The
 * value may carry arguments ("code -w"): split on spaces, no shell. */
static int run_editor(const char *path)
{
	const char *ed = getenv("VISUAL");
	char *copy, *args[16];
	int n = 0, status = 0;
	pid_t pid;

	if (!ed || !*ed)
		ed = getenv("EDITOR");
	if (!ed || !*ed)
		ed = "vi";
	copy = xstrdup(ed);
	for (char *save = NULL, *t = strtok_r(copy, " \t", &save); t && n < 14;
	     t = strtok_r(NULL, " \t", &save))
		args[n++] = t;
	args[n++] = (char *)path;
	args[n] = NULL;
	if (posix_spawnp(&pid, args[0], NULL, NULL, args, environ) != 0) {
		fprintf(stderr, "lambdeck: cannot run editor '%s'\n", args[0]);
		free(copy);
		return -1;
	}
	free(copy);
	while (waitpid(pid, &status, 0) < 0)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "lambdeck: the editor exited with a failure; nothing saved\n");
		return -1;
	}
	return 0;
}

static int do_edit(const struct project *p, const char *fn, const char *name)
{
	struct lk_error err = {0};
	char *scratch = NULL;
	bool changed = false;

	if (check_function(p, fn) < 0)
		return 1;
	if (events_edit_begin(p->dir, fn, name, &scratch, &err) < 0)
		return fail(&err);
	if (run_editor(scratch) < 0) {
		free(scratch);
		return 1;
	}
	free(scratch);
	if (events_edit_finish(p->dir, fn, name, &changed, &err) < 0)
		return fail(&err);
	printf("%s events/%s/%s.json\n", changed ? "saved" : "unchanged", fn, name);
	return 0;
}

static int do_rm(const struct project *p, const char *fn, const char *name, bool yes)
{
	struct lk_error err = {0};
	char *path;

	if (check_function(p, fn) < 0)
		return 1;
	path = events_path(p->dir, fn, name);
	if (!path || !util_is_file(path)) {
		free(path);
		fprintf(stderr, "lambdeck: no saved event '%s' for %s\n", name, fn);
		return 1;
	}
	free(path);
	if (!yes && isatty(STDIN_FILENO)) {
		char answer[16] = "";
		fprintf(stderr, "delete events/%s/%s.json (and its snapshot)? [y/N] ", fn, name);
		if (!fgets(answer, sizeof(answer), stdin) ||
		    (answer[0] != 'y' && answer[0] != 'Y')) {
			fprintf(stderr, "kept\n");
			return 1;
		}
	}
	if (events_delete(p->dir, fn, name, &err) < 0)
		return fail(&err);
	printf("deleted events/%s/%s.json\n", fn, name);
	return 0;
}

int cmd_events(int argc, char **argv, const struct global_opts *g)
{
	const char *sub = argc > 1 ? argv[1] : "list";
	struct project *p;
	struct lk_error err = {0};
	int rc = 0;

	if (!strcmp(sub, "-h") || !strcmp(sub, "--help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(sub, "templates"))
		return do_templates(argc - 2, argv + 2);
	if (!(p = load(g, &rc)))
		return rc;
	if (!strcmp(sub, "list")) {
		rc = do_list(p, argc > 2 ? argc - 2 : 0, argv + 2);
	} else if (!strcmp(sub, "show") && argc == 4) {
		struct buf b = {0};
		if (check_function(p, argv[2]) < 0)
			rc = 1;
		else if (events_read(p->dir, argv[2], argv[3], &b, &err) < 0)
			rc = fail(&err);
		else
			fwrite(b.data, 1, b.len, stdout);
		buf_free(&b);
	} else if (!strcmp(sub, "new")) {
		rc = do_new(p, argc - 2, argv + 2);
	} else if (!strcmp(sub, "edit") && argc == 4) {
		rc = do_edit(p, argv[2], argv[3]);
	} else if ((!strcmp(sub, "rename") || !strcmp(sub, "mv")) && argc == 5) {
		if (check_function(p, argv[2]) < 0)
			rc = 1;
		else if (events_rename(p->dir, argv[2], argv[3], argv[4], &err) < 0)
			rc = fail(&err);
	} else if ((!strcmp(sub, "cp") || !strcmp(sub, "duplicate")) && argc == 5) {
		if (check_function(p, argv[2]) < 0)
			rc = 1;
		else if (events_duplicate(p->dir, argv[2], argv[3], argv[4], &err) < 0)
			rc = fail(&err);
	} else if (!strcmp(sub, "rm") && (argc == 4 || argc == 5)) {
		bool yes = argc == 5 && (!strcmp(argv[4], "-y") || !strcmp(argv[4], "--yes"));
		if (argc == 5 && !yes) {
			usage(stderr);
			rc = 2;
		} else {
			rc = do_rm(p, argv[2], argv[3], yes);
		}
	} else {
		usage(stderr);
		rc = 2;
	}
	project_free(p);
	return rc;
}
