/* cmd_build.c - 'lambdeck build [FUNCTION...] [--json] [--full] [--skip-deps]': quick-builds
 * functions into .lambdeck/build/<function>/ (all buildable functions when none is named).
 * Builds run concurrently on one loop (hashing and zipping on the libuv thread pool).
 * Exit status: 0 when every build succeeded or was unchanged, 1 otherwise, 2 usage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "backend/build.h"
#include "backend/project.h"
#include "cli/commands.h"

struct cli_build {
	struct project *p;
	bool json, tty;
	size_t n, pending, failures;
	const struct project_function **fns;
	struct build_result *res;
	bool *have;
	char status[160];   /* the TTY status line currently shown */
	struct buf line[1]; /* partial installer output line */
};

static void usage(FILE *out)
{
	fputs("usage: lambdeck build [FUNCTION...] [--json] [--full] [--skip-deps]\n"
	      "  Quick-builds functions into .lambdeck/build/<function>/code.zip: only changed\n"
	      "  files are re-hashed and patched into the previous zip.\n"
	      "  --json       print the results as JSON\n"
	      "  --full       rebuild the zips from scratch\n"
	      "  --skip-deps  never run pip/npm (use cached dependencies if any); a global\n"
	      "               option, as are --stage, --env-vars, --parameter-overrides\n",
	      out);
}

static void clear_status(struct cli_build *c)
{
	if (c->tty && c->status[0]) {
		fputs("\r\033[K", stderr);
		c->status[0] = '\0';
	}
}

static void on_progress(void *user, const char *function, enum build_phase phase, uint64_t done,
                        uint64_t total)
{
	struct cli_build *c = user;
	struct buf name = {0};

	if (!c->tty || phase == BUILD_PHASE_DONE)
		return;
	util_sanitize(function, strlen(function), false, false, &name);
	if (total)
		snprintf(c->status, sizeof(c->status), "building %.60s: %s %3d%%", name.data,
		         build_phase_name(phase), (int)(100.0 * (double)done / (double)total));
	else
		snprintf(c->status, sizeof(c->status), "building %.60s: %s", name.data,
		         build_phase_name(phase));
	fprintf(stderr, "\r\033[K%s", c->status);
	fflush(stderr);
	buf_free(&name);
}

/* Installer output, line by line, sanitised, prefixed with the function name. */
static void on_output(void *user, const char *function, const char *data, size_t len)
{
	struct cli_build *c = user;
	char saved[sizeof(c->status)];

	snprintf(saved, sizeof(saved), "%s", c->status);
	clear_status(c);
	for (size_t i = 0; i < len; i++) {
		if (data[i] == '\n') {
			struct buf clean = {0};

			util_sanitize(c->line->data ? c->line->data : "", c->line->len, false, true,
			              &clean);
			fprintf(stderr, "  %s | %s\n", function, clean.data ? clean.data : "");
			buf_free(&clean);
			buf_reset(c->line);
		} else {
			buf_putc(c->line, data[i]);
		}
	}
	if (c->tty && saved[0]) {
		snprintf(c->status, sizeof(c->status), "%s", saved);
		fprintf(stderr, "%s", c->status);
	}
	fflush(stderr);
}

static void print_result(struct cli_build *c, const struct build_result *r)
{
	struct buf name = {0}, msg = {0};

	util_sanitize(r->function, strlen(r->function), false, false, &name);
	clear_status(c);
	if (r->warning[0]) {
		util_sanitize(r->warning, strlen(r->warning), false, false, &msg);
		fprintf(stderr, "%s: %s\n", name.data, msg.data);
		buf_reset(&msg);
	}
	if (r->outcome == BUILD_OK || r->outcome == BUILD_UNCHANGED) {
		printf("%-24s %-9s %s %6.1f ms  %zu files  %llu bytes", name.data,
		       build_outcome_name(r->outcome),
		       r->outcome == BUILD_UNCHANGED ? "        "
		       : r->full                     ? "(full)  "
		                                     : "(patch) ",
		       r->elapsed_ms, r->n_files, (unsigned long long)r->zip_size);
		if (r->outcome == BUILD_OK && !r->full)
			printf("  +%zu ~%zu -%zu", r->n_added, r->n_changed, r->n_removed);
		if (r->deps_installed)
			printf("  deps installed");
		printf("  CodeSha256 %s\n", r->code_sha256);
	} else {
		util_sanitize(r->err.message, strlen(r->err.message), false, false, &msg);
		printf("%-24s %-9s %s\n", name.data, build_outcome_name(r->outcome), msg.data);
	}
	fflush(stdout);
	buf_free(&name);
	buf_free(&msg);
}

static void on_done(void *user, const struct build_result *r)
{
	struct cli_build *c = user;
	size_t i;

	for (i = 0; i < c->n; i++)
		if (!c->have[i] && c->fns[i] && !strcmp(c->fns[i]->name, r->function))
			break;
	if (i == c->n)
		return;
	c->have[i] = true;
	c->res[i] = *r;
	c->res[i].function = xstrdup(r->function);
	c->res[i].zip_path = xstrdup(r->zip_path);
	if (r->outcome != BUILD_OK && r->outcome != BUILD_UNCHANGED)
		c->failures++;
	if (!c->json)
		print_result(c, r);
	c->pending--;
}

static cJSON *result_json(const char *name, const struct build_result *r)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "function", name);
	cJSON_AddStringToObject(o, "outcome", r ? build_outcome_name(r->outcome) : "failed");
	if (r && (r->outcome == BUILD_OK || r->outcome == BUILD_UNCHANGED)) {
		cJSON_AddStringToObject(o, "zip", r->zip_path ? r->zip_path : "");
		cJSON_AddStringToObject(o, "code_sha256", r->code_sha256);
		cJSON_AddNumberToObject(o, "zip_size", (double)r->zip_size);
		cJSON_AddNumberToObject(o, "files", (double)r->n_files);
		cJSON_AddNumberToObject(o, "added", (double)r->n_added);
		cJSON_AddNumberToObject(o, "changed", (double)r->n_changed);
		cJSON_AddNumberToObject(o, "removed", (double)r->n_removed);
		cJSON_AddBoolToObject(o, "full", r->full);
		cJSON_AddBoolToObject(o, "deps_installed", r->deps_installed);
		cJSON_AddBoolToObject(o, "deps_cached", r->deps_cached);
	}
	if (r)
		cJSON_AddNumberToObject(o, "elapsed_ms", r->elapsed_ms);
	if (r && r->warning[0])
		cJSON_AddStringToObject(o, "warning", r->warning);
	if (!r || lk_error_is_set(&r->err)) {
		cJSON *e = cJSON_AddObjectToObject(o, "error");

		cJSON_AddStringToObject(e, "code", r ? r->err.code : "FunctionNotFound");
		cJSON_AddStringToObject(e, "message",
		                        r ? r->err.message : "no such function in the project");
	}
	return o;
}

int cmd_build(int argc, char **argv, const struct global_opts *g)
{
	struct cli_build c = {0};
	struct build_opts opts = {0};
	struct lk_error err = {0};
	const char **names = xcalloc((size_t)argc + 1, sizeof(*names));
	size_t n_names = 0;
	uv_loop_t loop;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			c.json = true;
		} else if (!strcmp(argv[i], "--full")) {
			opts.full = true;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			free(names);
			return 0;
		} else if (argv[i][0] == '-' && strcmp(argv[i], "--")) {
			fprintf(stderr, "lambdeck build: unknown option '%s'\n", argv[i]);
			usage(stderr);
			free(names);
			return 2;
		} else if (strcmp(argv[i], "--")) {
			names[n_names++] = argv[i];
		}
	}
	if (cli_project_load(g, &c.p, &err) < 0) {
		fprintf(stderr, "lambdeck build: %s\n", err.message);
		project_free(c.p);
		free(names);
		return 1;
	}
	if (n_names) {
		c.n = n_names;
		c.fns = xcalloc(c.n, sizeof(*c.fns));
		for (size_t i = 0; i < n_names; i++)
			c.fns[i] = project_find(c.p, names[i]);
	} else {
		c.fns = xcalloc(c.p->n_functions + 1, sizeof(*c.fns));
		for (size_t i = 0; i < c.p->n_functions; i++)
			if (c.p->functions[i].buildable)
				c.fns[c.n++] = &c.p->functions[i];
		if (c.n == 0) {
			fprintf(stderr, "lambdeck build: no buildable functions in %s\n%s\n",
			        c.p->dir, project_empty_hint());
			project_free(c.p);
			free(c.fns);
			free(names);
			return 1;
		}
	}
	c.res = xcalloc(c.n, sizeof(*c.res));
	c.have = xcalloc(c.n, sizeof(*c.have));
	c.tty = !c.json && isatty(2);
	opts.on_output = on_output;
	uv_loop_init(&loop);
	for (size_t i = 0; i < c.n; i++) {
		if (!c.fns[i]) {
			c.failures++;
			if (!c.json) {
				struct buf b = {0};

				util_sanitize(names[i], strlen(names[i]), false, false, &b);
				printf("%-24s %-9s no such function in the project (see 'lambdeck "
				       "functions')\n",
				       b.data, "failed");
				buf_free(&b);
			}
			continue;
		}
		/* the same function named twice builds once */
		bool dup = false;

		for (size_t k = 0; k < i; k++)
			dup |= c.fns[k] == c.fns[i];
		if (dup) {
			c.fns[i] = NULL;
			continue;
		}
		c.pending++;
		build_start(&loop, c.p, c.fns[i], &opts, on_progress, on_done, &c);
	}
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	clear_status(&c);
	if (c.json) {
		cJSON *arr = cJSON_CreateArray();
		char *text;

		for (size_t i = 0; i < c.n; i++) {
			if (!c.fns[i] && n_names && project_find(c.p, names[i]))
				continue; /* duplicate */
			cJSON_AddItemToArray(arr, result_json(c.fns[i] ? c.fns[i]->name : names[i],
			                                      c.have[i] ? &c.res[i] : NULL));
		}
		text = util_json_safe(cJSON_Print(arr));
		puts(text);
		free(text);
		cJSON_Delete(arr);
	}
	rc = c.failures ? 1 : 0;
	for (size_t i = 0; i < c.n; i++)
		build_result_free(&c.res[i]);
	buf_free(c.line);
	free(c.res);
	free(c.have);
	free(c.fns);
	free(names);
	project_free(c.p);
	return rc;
}
