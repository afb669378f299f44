/* project.h - the project model: which functions a project directory has, how to build,
 * test and deploy it. Filled by discovery from lambdeck.json, template.yaml (SAM /
 * CloudFormation) or serverless.yml. Knows no ncurses, no libuv. */
#ifndef LAMBDECK_PROJECT_H
#define LAMBDECK_PROJECT_H

#include <stdbool.h>
#include <stddef.h>

#include "backend/util.h"

struct project_env {
	char *name;
	char *value; /* NULL when it cannot be resolved locally (e.g. !Ref of a parameter) */
};

struct project_function {
	char *name;          /* logical name (SAM logical id, serverless key, lambdeck.json name) */
	char *runtime;       /* "python3.12", "nodejs20.x", "provided.al2023", or NULL */
	char *handler;       /* "app.lambda_handler"; NULL for provided */
	char *code_dir;      /* absolute path of the code directory */
	char *source_file;   /* absolute path of the handler's file, NULL if not found */
	int source_line;     /* 1-based line of the handler definition, 0 if unknown */
	int timeout;         /* seconds (default 3) */
	int memory;          /* MB (default 128) */
	struct project_env *env;
	size_t n_env;
	char **layers;
	size_t n_layers;
	char **exclude;      /* extra exclude globs (lambdeck.json "exclude") */
	size_t n_exclude;
	char *deployed_name; /* name in the account, NULL if it must be resolved (SAM: tags) */
	bool buildable;      /* false for inline ZipFile code and PackageType Image */
	char *problem;       /* human-readable problem (missing code dir...), NULL if none */
};

enum project_kind {
	PROJECT_NONE,
	PROJECT_LAMBDECK_JSON,
	PROJECT_SAM,
	PROJECT_SERVERLESS,
};

struct project {
	char *dir;           /* absolute project directory */
	char *config_file;   /* absolute path of the file the functions came from, or NULL */
	enum project_kind kind;
	struct project_function *functions;
	size_t n_functions;
	char **test_argv;    /* NULL-terminated, NULL when not configured */
	char **deploy_argv;  /* NULL-terminated, NULL when not configured */
	char *mode;          /* "local", "aws" or NULL */
	char *profile;       /* lambdeck.json "profile", NULL if unset */
	char *region;        /* lambdeck.json "region", NULL if unset */
	char *artifact_bucket;
	bool share_with_group;
};

/* Loads the project in dir. On a malformed config file returns -1 with err->code
 * "ParseError" and err->message "file:line:col: what is wrong"; *out is still set to a
 * project with dir set and no functions, so callers can keep going. Caller frees. */
int project_load(const char *dir, struct project **out, struct lk_error *err);
void project_free(struct project *p);
const struct project_function *project_find(const struct project *p, const char *name);

#endif
