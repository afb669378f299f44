/* fuzz_project.h - the body of the project-discovery targets: the input is the content of
 * FUZZ_PROJECT_FILE (lambdeck.json, template.yaml or serverless.yml) in an otherwise small
 * project directory (a Python and a Node handler file), loaded with project_load(). Any
 * input must give 0 or -1 with a "file:line:col" message, never a crash or a leak; the
 * project struct is always set and every string in it readable. */
#include <stdint.h>

#include "backend/project.h"
#include "tests/fuzz/fuzz_common.h"

static char *dir;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char py[] = "import json\n\ndef handler(event, context):\n    return event\n";
	static const char js[] = "exports.handler = async (event) => event;\n";

	(void)argc;
	(void)argv;
	dir = fuzz_tmpdir("project");
	fuzz_write(dir, "app.py", py, sizeof(py) - 1);
	fuzz_write(dir, "index.js", js, sizeof(js) - 1);
	return 0;
}

/* Reads every byte of a string so ASan sees a bad pointer or a missing terminator. */
static void touch(const char *s)
{
	volatile size_t n = s ? strlen(s) : 0;
	(void)n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct project *p = NULL;
	struct lk_error err = {0};
	int rc;

	fuzz_write(dir, FUZZ_PROJECT_FILE, data, size);
	rc = project_load(dir, &p, &err);
	if (!p || (rc < 0 && !lk_error_is_set(&err)))
		abort();
	touch(err.message);
	touch(p->config_file);
	touch(p->mode);
	touch(p->profile);
	touch(p->region);
	for (char **a = p->test_argv; a && *a; a++)
		touch(*a);
	for (char **a = p->deploy_argv; a && *a; a++)
		touch(*a);
	for (size_t i = 0; i < p->n_functions; i++) {
		const struct project_function *f = &p->functions[i];

		touch(f->name);
		touch(f->runtime);
		touch(f->handler);
		touch(f->code_dir);
		touch(f->source_file);
		touch(f->problem);
		touch(f->notes);
		touch(f->deployed_name);
		for (size_t j = 0; j < f->n_env; j++) {
			touch(f->env[j].name);
			touch(f->env[j].value);
			touch(f->env[j].expr);
		}
		for (size_t j = 0; j < f->n_layers; j++)
			touch(f->layers[j]);
		if (f->name && project_find(p, f->name) == NULL)
			abort();
	}
	project_free(p);
	lk_error_clear(&err);
	return 0;
}
