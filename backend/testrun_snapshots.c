/* testrun_snapshots.c - snapshot replay reports (backend/snapshot.h, the Playground's
 * snapshot tests) as test results, so the CLI and the Tests pane show them as one more
 * group of tests. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "backend/snapshot.h"
#include "backend/testrun_internal.h"

void testrun_from_snapshots(const struct snapshot_report *rep, const char *project_dir,
                            struct testrun_result *out)
{
	testrun_result_clear(out);
	out->format = TESTRUN_FMT_SNAPSHOT;
	out->counts_known = true;
	out->exit_status = 0;
	out->command = xstrdup("snapshot replay");
	out->trigger = xstrdup("snapshots");
	out->started_ms = util_now_ms();
	if (!rep) {
		out->status = TESTRUN_PASSED;
		return;
	}
	out->passed = (int)rep->passed;
	out->failed = (int)rep->failed;
	out->errors = (int)rep->errors;
	out->duration_s = rep->total_ms / 1000.0;
	out->wall_ms = (int64_t)rep->total_ms;
	for (size_t i = 0; i < rep->n; i++) {
		const struct snapshot_outcome *o = &rep->items[i];
		if (o->passed)
			continue;
		char *name =
		    xasprintf("%s/%s", o->function ? o->function : "?", o->name ? o->name : "?");
		char *msg;
		if (o->error)
			msg = xstrdup(o->error);
		else if (o->n_diffs)
			msg = xasprintf("%s%s: expected %s, got %s%s",
			                o->diffs[0].path && *o->diffs[0].path ? "" : "(root)",
			                o->diffs[0].path ? o->diffs[0].path : "",
			                o->diffs[0].expected, o->diffs[0].actual,
			                o->n_diffs > 1 ? " (and more differences)" : "");
		else
			msg = xstrdup("differs");
		testrun_add_failure(out, name, msg, o->file, 0, "snapshots");
		if (o->file && out->n_failures && !out->failures[out->n_failures - 1].path)
			out->failures[out->n_failures - 1].path =
			    testrun_resolve_file(project_dir, o->file);
		free(name);
		free(msg);
	}
	out->status = rep->failed || rep->errors ? TESTRUN_FAILED : TESTRUN_PASSED;
	out->exit_status = out->status == TESTRUN_PASSED ? 0 : 1;
}

bool testrun_has_snapshots(const char *project_dir)
{
	char *events = util_path_join(project_dir, "events");
	DIR *d = opendir(events);
	bool found = false;
	struct dirent *de;

	while (d && !found && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char *sub = util_path_join(events, de->d_name);
		DIR *s = opendir(sub);
		struct dirent *e;
		while (s && !found && (e = readdir(s))) {
			size_t n = strlen(e->d_name);
			found = n > 14 && !strcmp(e->d_name + n - 14, ".snapshot.json");
		}
		if (s)
			closedir(s);
		free(sub);
	}
	if (d)
		closedir(d);
	free(events);
	return found;
}
