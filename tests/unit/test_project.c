/* Unit tests for backend/project: discovery over the fixtures in tests/fixtures/project
 * (SAM Globals merge, intrinsic tags, inline/image functions, serverless.yml variants,
 * lambdeck.json, broken files with their exact line:col) and handler -> file:line lookup. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend/project.h"

#define FIXTURES LAMBDECK_SOURCE_DIR "/tests/fixtures/project/"

static struct project *load_ok(const char *fixture)
{
	struct project *p = NULL;
	struct lk_error err;
	char *dir = xasprintf("%s%s", FIXTURES, fixture);
	int rc = project_load(dir, &p, &err);

	if (rc != 0)
		fail_msg("%s: %s", fixture, err.message);
	assert_non_null(p);
	free(dir);
	return p;
}

/* Loads a broken fixture: must fail with ParseError and exactly this message after the
 * directory prefix. */
static void load_fails(const char *fixture, const char *expect)
{
	struct project *p = NULL;
	struct lk_error err;
	char *dir = xasprintf("%s%s", FIXTURES, fixture);
	char *want = xasprintf("%s/%s", dir, expect);

	assert_int_equal(project_load(dir, &p, &err), -1);
	assert_string_equal(err.code, "ParseError");
	assert_string_equal(err.message, want);
	/* The console keeps going with an empty project. */
	assert_non_null(p);
	assert_non_null(p->dir);
	assert_int_equal(p->n_functions, 0);
	project_free(p);
	free(dir);
	free(want);
}

static const struct project_function *fn(const struct project *p, const char *name)
{
	const struct project_function *f = project_find(p, name);

	if (!f)
		fail_msg("function %s not found", name);
	return f;
}

static const char *env(const struct project_function *f, const char *name, const char **expr)
{
	for (size_t i = 0; i < f->n_env; i++) {
		if (!strcmp(f->env[i].name, name)) {
			if (expr)
				*expr = f->env[i].expr;
			return f->env[i].value;
		}
	}
	fail_msg("env %s not found in %s", name, f->name);
	return NULL;
}

static void assert_ends_with(const char *s, const char *suffix)
{
	size_t a, b;

	assert_non_null(s);
	a = strlen(s);
	b = strlen(suffix);
	if (a < b || strcmp(s + a - b, suffix))
		fail_msg("'%s' does not end with '%s'", s, suffix);
}

static void assert_contains(const char *s, const char *part)
{
	if (!s || !strstr(s, part))
		fail_msg("'%s' does not contain '%s'", s ? s : "(null)", part);
}

static void test_sam_globals_merge(void **state)
{
	(void)state;
	struct project *p = load_ok("sam-globals");
	assert_int_equal(p->kind, PROJECT_SAM);
	assert_int_equal(p->n_functions, 2); /* the DynamoDB table is not a function */
	assert_ends_with(p->config_file, "/sam-globals/template.yaml");

	const struct project_function *f = fn(p, "Inherits");
	assert_string_equal(f->runtime, "python3.11");
	assert_string_equal(f->handler, "app.handler");
	assert_ends_with(f->code_dir, "/sam-globals/shared");
	assert_ends_with(f->source_file, "/sam-globals/shared/app.py");
	assert_int_equal(f->source_line, 6); /* async def handler */
	assert_int_equal(f->timeout, 9);
	assert_int_equal(f->memory, 256);
	assert_string_equal(env(f, "SHARED", NULL), "1");
	assert_string_equal(env(f, "OVERRIDE_ME", NULL), "global");
	assert_int_equal(f->n_layers, 1);
	assert_null(f->deployed_name); /* resolved through the stack at deploy time */
	assert_true(f->buildable);
	assert_null(f->problem);
	assert_int_equal(f->config_line, 16);

	f = fn(p, "Overrides");
	assert_string_equal(f->runtime, "nodejs20.x");
	assert_ends_with(f->code_dir, "/src/nested/deep");
	assert_ends_with(f->source_file, "/src/nested/deep/index.js");
	assert_int_equal(f->source_line, 4); /* module.exports.main */
	assert_string_equal(f->handler_symbol, "main");
	assert_int_equal(f->timeout, 30);
	assert_int_equal(f->memory, 1024);
	assert_string_equal(env(f, "SHARED", NULL), "1");          /* merged from Globals */
	assert_string_equal(env(f, "OVERRIDE_ME", NULL), "local"); /* function wins */
	assert_string_equal(env(f, "PORT", NULL), "8080");
	assert_int_equal(f->n_layers, 2); /* lists are appended */
	assert_string_equal(f->layers[0], "arn:aws:lambda:us-east-1:123456789012:layer:common:1");
	assert_string_equal(f->layers[1], "arn:aws:lambda:us-east-1:123456789012:layer:extra:2");
	assert_null(f->problem);
	project_free(p);
}

static void test_sam_intrinsics(void **state)
{
	const char *expr = NULL;

	(void)state;
	struct project *p = load_ok("sam-intrinsics"); /* template.yml */
	assert_ends_with(p->config_file, "/template.yml");
	const struct project_function *f = fn(p, "Fn");
	assert_string_equal(env(f, "STAGE", &expr), "beta"); /* parameter Default */
	assert_null(expr);
	/* No local value: a documented stand-in and a note, never a missing variable. */
	assert_string_equal(env(f, "TABLE", &expr), "TableName"); /* parameter without Default */
	assert_string_equal(expr, "!Ref TableName");
	assert_string_equal(env(f, "ARN", &expr), "Table.Arn"); /* no such resource */
	assert_string_equal(expr, "!GetAtt Table.Arn");
	assert_contains(f->notes, "TABLE is !Ref TableName: no local value, using the stand-in "
	                          "'TableName'");
	assert_string_equal(env(f, "PREFIX", NULL), "beta-orders-${Literal}");
	assert_non_null(env(f, "REGION", &expr)); /* AWS::Region: --region, AWS_REGION, us-east-1 */
	assert_null(expr);
	assert_string_equal(env(f, "LONG", &expr), "Table.StreamArn");
	assert_string_equal(expr, "Fn::GetAtt [Table, StreamArn]");
	assert_string_equal(env(f, "CHOICE", &expr), ""); /* !If is not evaluated */
	assert_string_equal(expr, "!If [IsProd, a, b]");
	assert_contains(f->notes, "template.yml:28:19: CHOICE is !If [IsProd, a, b]: not "
	                          "understood locally");
	assert_string_equal(env(f, "JOINED", &expr), "beta-x");
	assert_null(expr);
	assert_string_equal(env(f, "SUBVARS", NULL), "beta-lit");
	assert_int_equal(f->timeout, 7); /* !Ref Seconds, Default 7 */
	assert_int_equal(f->memory, 128);
	assert_contains(f->notes, "MemorySize is !Ref Memory: cannot be resolved locally");
	assert_null(f->deployed_name);
	assert_contains(f->notes, "FunctionName is !Sub ${AWS::StackName}-fn");
	assert_int_equal(f->n_layers, 1);
	assert_string_equal(f->layers[0], "!Ref SharedLayer");
	assert_int_equal(f->source_line, 5);
	assert_null(f->problem);

	f = fn(p, "Named");
	assert_string_equal(f->deployed_name, "plain-name");
	assert_null(f->runtime);
	assert_string_equal(f->problem, "Runtime is !Ref RuntimeParam: cannot be resolved locally");
	/* project_find also knows deployed names. */
	assert_ptr_equal(project_find(p, "plain-name"), f);
	project_free(p);
}

static void test_sam_inline_image_cfn(void **state)
{
	(void)state;
	struct project *p = load_ok("sam-kinds");
	assert_int_equal(p->n_functions, 7);

	const struct project_function *f = fn(p, "Inline");
	assert_false(f->buildable);
	assert_string_equal(f->not_buildable, "inline code (InlineCode)");
	assert_null(f->code_dir);
	assert_null(f->source_file);
	assert_null(f->problem);
	assert_int_equal(f->config_line, 2);

	f = fn(p, "Image");
	assert_false(f->buildable);
	assert_string_equal(f->package_type, "Image");
	assert_string_equal(f->not_buildable, "PackageType Image");
	assert_ends_with(f->code_dir, "/sam-kinds/docker");
	assert_null(f->problem); /* no Runtime/Handler needed for images */

	f = fn(p, "ZipFileFn");
	assert_false(f->buildable);
	assert_string_equal(f->not_buildable, "inline code (ZipFile)");
	assert_string_equal(f->runtime, "nodejs18.x");

	f = fn(p, "LocalCode");
	assert_true(f->buildable);
	assert_ends_with(f->code_dir, "/sam-kinds/lambda_code");
	assert_ends_with(f->source_file, "/lambda_code/main.mjs");
	assert_int_equal(f->source_line, 2); /* export async function handler */
	assert_string_equal(f->deployed_name, "local-code-fn");

	f = fn(p, "S3Code");
	assert_false(f->buildable);
	assert_string_equal(f->not_buildable, "code is in S3");
	f = fn(p, "S3Uri");
	assert_false(f->buildable);
	assert_string_equal(f->not_buildable, "code is in S3");
	f = fn(p, "ImageCfn");
	assert_string_equal(f->package_type, "Image");
	project_free(p);
}

static void test_sam_problems_are_per_function(void **state)
{
	(void)state;
	struct project *p = load_ok("sam-problems");
	const struct project_function *f = fn(p, "NoDir");
	assert_contains(f->problem, "/sam-problems/missing does not exist");
	assert_null(f->source_file);
	f = fn(p, "NoFile");
	assert_string_equal(f->problem, "handler file nothere.py not found");
	f = fn(p, "NoDef");
	assert_string_equal(f->problem, "'def missing_fn' not found in app.py");
	assert_ends_with(f->source_file, "/present/app.py"); /* the file still opens */
	assert_int_equal(f->source_line, 0);
	f = fn(p, "Good");
	assert_null(f->problem);
	assert_int_equal(f->source_line, 4); /* def wins over the earlier assignment */
	f = fn(p, "BadTimeout");
	assert_ends_with(f->problem,
	                 "sam-problems/template.yaml:16:89: Timeout must be a positive whole "
	                 "number, not 'soon'");
	assert_int_equal(f->timeout, 3);
	f = fn(p, "BadProps");
	assert_ends_with(f->problem,
	                 "sam-problems/template.yaml:19:17: Properties must be a mapping");
	project_free(p);
}

static void test_serverless_basic(void **state)
{
	(void)state;
	struct project *p = load_ok("sls-basic");
	assert_int_equal(p->kind, PROJECT_SERVERLESS);
	assert_int_equal(p->n_functions, 2);
	const struct project_function *f = fn(p, "list");
	assert_string_equal(f->runtime, "nodejs18.x"); /* from provider */
	assert_string_equal(f->deployed_name, "shop-dev-list");
	assert_ends_with(f->source_file, "/sls-basic/handlers/list.js");
	assert_int_equal(f->source_line, 1);
	assert_int_equal(f->timeout, 6);
	assert_int_equal(f->memory, 512);
	assert_string_equal(env(f, "GLOBAL", NULL), "yes");
	f = fn(p, "create");
	assert_string_equal(f->runtime, "python3.12"); /* function overrides provider */
	assert_int_equal(f->timeout, 20);
	assert_string_equal(f->deployed_name, "shop-dev-create");
	assert_string_equal(env(f, "GLOBAL", NULL), "overridden");
	assert_ends_with(f->source_file, "/handlers/create.py");
	assert_int_equal(f->config_line, 11);
	project_free(p);
}

static void test_serverless_variables(void **state)
{
	const char *expr = NULL;

	(void)state;
	struct project *p = load_ok("sls-vars"); /* serverless.yaml, functions as a list */
	assert_int_equal(p->n_functions, 2);
	const struct project_function *f = fn(p, "invoice");
	assert_string_equal(f->deployed_name, "acme-prod-invoice"); /* name: with variables */
	assert_int_equal(f->memory, 256);                           /* ${self:custom.memory} */
	assert_string_equal(env(f, "SECRET", &expr), "");           /* stand-in, with a note */
	assert_string_equal(expr, "${ssm:/billing/secret} (${ssm:/billing/secret} needs AWS)");
	assert_contains(f->notes, "SECRET is ${ssm:/billing/secret}");
	assert_string_equal(env(f, "WITH_DEFAULT", NULL), "fallback");
	assert_string_equal(env(f, "NESTED", NULL), "acme");
	f = fn(p, "refund");
	assert_string_equal(f->deployed_name, "billing-prod-refund"); /* service: {name:} */
	assert_string_equal(f->problem, "handler file src/refund.py not found");
	project_free(p);

	p = load_ok("sls-noruntime");
	f = fn(p, "a");
	assert_null(f->deployed_name); /* stage ${opt:stage} has no fallback */
	assert_contains(f->problem, "no runtime");
	project_free(p);
}

static void test_lambdeck_json(void **state)
{
	(void)state;
	struct project *p = load_ok("json-basic");
	assert_int_equal(p->kind, PROJECT_LAMBDECK_JSON);
	assert_int_equal(p->n_functions, 3);
	const struct project_function *f = fn(p, "Alpha");
	assert_ends_with(f->code_dir, "/json-basic/fns/a");
	assert_int_equal(f->source_line, 4);
	assert_int_equal(f->timeout, 15);
	assert_int_equal(f->memory, 512);
	assert_string_equal(env(f, "A", NULL), "1");
	assert_string_equal(env(f, "N", NULL), "2");
	assert_string_equal(env(f, "B", NULL), "true");
	assert_string_equal(f->deployed_name, "alpha-prod");
	assert_int_equal(f->n_layers, 1);
	assert_int_equal(f->n_exclude, 1);
	assert_string_equal(f->exclude[0], "*.md");
	f = fn(p, "Beta");
	assert_string_equal(f->deployed_name, "Beta");
	assert_ends_with(f->source_file, "/fns/b/index.mjs");
	assert_int_equal(f->source_line, 1);
	f = fn(p, "function[2]");
	assert_contains(f->problem, "\"name\" is missing");
	assert_contains(f->problem, "\"timeout\" must be a positive whole number");
	assert_null(f->deployed_name);
	assert_string_equal(p->test_argv[0], "python3");
	assert_string_equal(p->test_argv[2], "unittest");
	assert_null(p->test_argv[3]);
	assert_string_equal(p->deploy_argv[0], "make"); /* a string is split on blanks */
	assert_string_equal(p->deploy_argv[2], "STAGE=dev");
	assert_null(p->deploy_argv[3]);
	assert_string_equal(p->mode, "aws");
	assert_string_equal(p->profile, "dev");
	assert_string_equal(p->region, "eu-west-1");
	assert_string_equal(p->artifact_bucket, "my-artifacts");
	assert_true(p->share_with_group);
	project_free(p);

	p = load_ok("json-map");
	f = fn(p, "One");
	assert_string_equal(f->runtime, "provided.al2023");
	assert_ends_with(f->source_file, "/json-map/bootstrap");
	assert_int_equal(f->source_line, 1);
	assert_string_equal(p->test_argv[0], "./run-tests");
	project_free(p);

	/* Settings-only lambdeck.json: functions from the template, settings kept. */
	p = load_ok("json-settings-only");
	assert_int_equal(p->kind, PROJECT_SAM);
	assert_int_equal(p->n_functions, 1);
	assert_string_equal(p->test_argv[0], "pytest");
	assert_string_equal(p->mode, "local");
	assert_ends_with(p->config_file, "/template.yaml");
	project_free(p);
}

static void test_broken_files(void **state)
{
	(void)state;
	load_fails("broken-yaml", "template.yaml:6:6: did not find expected key while parsing "
	                          "a block mapping (started at line 3)");
	load_fails("broken-json", "lambdeck.json:4:6: invalid JSON");
	load_fails("broken-json-trailing", "lambdeck.json:2:1: text after the JSON value");
	load_fails("broken-json-mode",
	           "lambdeck.json:2:3: \"mode\" must be \"local\" or \"aws\", not \"cloud\"");
	load_fails("broken-sls", "serverless.yml:5:1: found unexpected end of stream while "
	                         "scanning a quoted scalar (started at line 4)");
	load_fails("broken-types", "template.yaml:2:3: Resources must be a mapping");
	load_fails("broken-utf8", "template.yaml:5:19: invalid leading UTF-8 octet");
}

static void test_empty_projects(void **state)
{
	struct project *p = NULL;
	struct lk_error err;

	(void)state;
	p = load_ok("empty-dir");
	assert_int_equal(p->kind, PROJECT_NONE);
	assert_int_equal(p->n_functions, 0);
	assert_null(p->config_file);
	assert_contains(project_empty_hint(), "lambdeck.json");
	project_free(p);
	p = load_ok("empty-template");
	assert_int_equal(p->kind, PROJECT_SAM);
	assert_int_equal(p->n_functions, 0);
	project_free(p);
	assert_int_equal(project_load("/nonexistent/lambdeck-dir", &p, &err), -1);
	assert_string_equal(err.code, "NotFound");
	assert_int_equal(p->n_functions, 0);
	project_free(p);
	project_free(NULL);
}

/* ---- temp-dir tests: handler lookup variants and nasty inputs ---- */

static char tmpdir[64];

static void put(const char *name, const char *text, size_t len)
{
	char *path = util_path_join(tmpdir, name);
	char *slash = strrchr(path, '/');
	struct lk_error err;

	*slash = '\0';
	assert_int_equal(util_mkdir_p(path, 0755, &err), 0);
	*slash = '/';
	FILE *f = fopen(path, "wb"); /* test data: no need for the fsync of an atomic write */
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	free(path);
}

static void puts_file(const char *name, const char *text)
{
	put(name, text, strlen(text));
}

static int setup_tmp(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/lk-project-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_tmp(void **state)
{
	char *argv[] = {"rm", "-rf", tmpdir, NULL};
	pid_t pid;

	(void)state;
	pid = fork();
	if (pid == 0) {
		execvp(argv[0], argv);
		_exit(127);
	}
	return pid > 0 && waitpid(pid, NULL, 0) == pid ? 0 : -1;
}

static int locate(const char *runtime, const char *handler, char **problem, char **file)
{
	int line = 0;
	char *symbol = NULL;

	*problem = project_locate_handler(runtime, handler, tmpdir, file, &line, &symbol);
	free(symbol);
	return line;
}

static void expect_line(const char *runtime, const char *handler, const char *file_suffix, int want)
{
	char *problem, *file;
	int line = locate(runtime, handler, &problem, &file);

	if (problem)
		fail_msg("%s: %s", handler, problem);
	assert_ends_with(file, file_suffix);
	if (line != want)
		fail_msg("%s: line %d, want %d", handler, line, want);
	free(file);
}

static void test_handler_lines_node(void **state)
{
	(void)state;
	puts_file("n/a.js",
	          "const x = 1;\nexports.handlerX = 1;\nexports.handler = async () => 1;\n");
	puts_file("n/b.mjs", "// export const handler\nexport const other = 1;\n"
	                     "export const handler = async (e) => e;\n");
	puts_file("n/c.mjs", "\n\nexport async function handler(event) {}\n");
	puts_file("n/d.cjs", "module.exports.handler = function (e, c, cb) { cb(null, 1); };\n");
	puts_file("n/e.ts", "import x from 'y';\nexport function handler(): void {}\n");
	puts_file("n/f.js", "async function handler(event) {\n  return 1;\n}\n\n"
	                    "module.exports = { handler };\n");
	puts_file("n/g.js", "exports.helper = 1;\n");
	expect_line("nodejs20.x", "n/a.handler", "/n/a.js", 3);
	expect_line("nodejs20.x", "n/b.handler", "/n/b.mjs", 3);
	expect_line("nodejs20.x", "n/c.handler", "/n/c.mjs", 3);
	expect_line("nodejs18.x", "n/d.handler", "/n/d.cjs", 1);
	expect_line("nodejs20.x", "n/e.handler", "/n/e.ts", 2);
	expect_line("nodejs20.x", "n/f.handler", "/n/f.js", 1);

	char *problem, *file;
	assert_int_equal(locate("nodejs20.x", "n/g.handler", &problem, &file), 0);
	assert_string_equal(problem, "handler 'handler' not exported by g.js");
	free(problem);
	free(file);
	assert_int_equal(locate("nodejs20.x", "n/zz.handler", &problem, &file), 0);
	assert_string_equal(problem, "handler file n/zz.{js,mjs,cjs,ts} not found");
	assert_null(file);
	free(problem);
	assert_int_equal(locate("nodejs20.x", "nodot", &problem, &file), 0);
	assert_string_equal(problem, "handler 'nodot' is not MODULE.FUNCTION");
	free(problem);
}

static void test_handler_lines_python_ruby_provided(void **state)
{
	(void)state;
	puts_file("pkg/sub/mod.py",
	          "import os\n\nclass X:\n    def handler(self):\n        pass\n\n"
	          "async def handler(event, context):\n    pass\n");
	puts_file("asgi.py", "app = object()\nhandler = Mangum(app)\n");
	puts_file("fn.rb", "require 'json'\n\ndef lambda_handler(event:, context:)\nend\n");
	puts_file("function.sh", "#!/bin/bash\n\nhandler() {\n  echo hi\n}\n");
	expect_line("python3.12", "pkg.sub.mod.handler", "/pkg/sub/mod.py", 7);
	expect_line("python3.12", "pkg/sub/mod.handler", "/pkg/sub/mod.py", 7);
	expect_line("python3.12", "asgi.handler", "/asgi.py", 2);
	expect_line("ruby3.3", "fn.lambda_handler", "/fn.rb", 3);
	expect_line("provided.al2023", "function.handler", "/function.sh", 3);

	char *problem, *file;
	assert_int_equal(locate("provided.al2", NULL, &problem, &file), 0);
	assert_string_equal(problem, "no bootstrap file in the code directory");
	free(problem);
	puts_file("bootstrap", "#!/bin/sh\n");
	expect_line("provided.al2", NULL, "/bootstrap", 1);
	/* Compiled runtimes: no source navigation, no problem. */
	assert_int_equal(locate("java21", "com.example.Handler::handleRequest", &problem, &file),
	                 0);
	assert_null(problem);
	assert_null(file);
}

/* Loads tmpdir, expecting failure with message ending in suffix (or success if NULL). */
static struct project *load_tmp(const char *fail_suffix)
{
	struct project *p = NULL;
	struct lk_error err;
	int rc = project_load(tmpdir, &p, &err);

	if (fail_suffix) {
		assert_int_equal(rc, -1);
		assert_ends_with(err.message, fail_suffix);
	} else if (rc != 0) {
		fail_msg("%s", err.message);
	}
	return p;
}

static void test_nasty_inputs(void **state)
{
	struct project *p;
	struct buf b = {0};

	(void)state;
	/* NUL and escape characters in a template: a reader error with its position. */
	put("template.yaml", "Resources:\n  A: \x1b[2J\n", 17);
	project_free(load_tmp("template.yaml:2:6: control characters are not allowed"));
	put("template.yaml", "Resources:\n  A\0: x\n", 16);
	project_free(load_tmp("template.yaml:2:4: control characters are not allowed"));
	/* Truncated flow mapping. */
	puts_file("template.yaml", "Resources: {Fn: {Type: AWS::Serverless::Function");
	p = load_tmp("template.yaml:1:49: did not find expected ',' or '}' while parsing a flow "
	             "mapping (started at line 1)");
	project_free(p);
	/* Very deep nesting must not crash. */
	for (int i = 0; i < 20000; i++)
		buf_putc(&b, '[');
	puts_file("template.yaml", b.data);
	project_free(load_tmp("template.yaml:1:20001: did not find expected node content while "
	                      "parsing a flow node (started at line 1)"));
	buf_reset(&b);
	/* Aliases are not expanded blindly (billion laughs). */
	buf_puts(&b, "a: &a [x, x, x, x, x, x, x, x, x]\n");
	for (int i = 0; i < 20; i++)
		buf_printf(&b, "%c: &%c [*%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c]\n", 'b' + i,
		           'b' + i, 'a' + i, 'a' + i, 'a' + i, 'a' + i, 'a' + i, 'a' + i, 'a' + i,
		           'a' + i, 'a' + i);
	buf_puts(&b, "Resources:\n  F:\n    Type: AWS::Serverless::Function\n"
	             "    Properties: {Runtime: python3.12, Handler: x.y, Layers: *u}\n");
	puts_file("template.yaml", b.data);
	p = load_tmp(NULL);
	assert_int_equal(p->n_functions, 1);
	project_free(p);
	buf_free(&b);
	/* A template with 200 functions. */
	buf_puts(&b, "Globals:\n  Function:\n    Runtime: python3.12\n    CodeUri: src/\n"
	             "Resources:\n");
	for (int i = 0; i < 200; i++)
		buf_printf(&b,
		           "  F%d:\n    Type: AWS::Serverless::Function\n    Properties:\n"
		           "      Handler: app.h%d\n",
		           i, i);
	puts_file("template.yaml", b.data);
	puts_file("src/app.py", "def h0(e, c):\n    pass\ndef h199(e, c):\n    pass\n");
	p = load_tmp(NULL);
	assert_int_equal(p->n_functions, 200);
	assert_int_equal(project_find(p, "F199")->source_line, 3);
	assert_string_equal(project_find(p, "F5")->problem, "'def h5' not found in app.py");
	project_free(p);
	buf_free(&b);
	/* Required properties missing: marked, not fatal. */
	puts_file("template.yaml", "Resources:\n  F:\n    Type: AWS::Serverless::Function\n"
	                           "  G:\n    Type: AWS::Serverless::Function\n"
	                           "    Properties: {Runtime: provided.al2023, CodeUri: src}\n");
	p = load_tmp(NULL);
	assert_string_equal(p->functions[0].problem, "Runtime is missing; Handler is missing");
	assert_contains(p->functions[1].problem, "no bootstrap file"); /* no Handler needed */
	project_free(p);
	/* Wrong types everywhere do not crash. */
	puts_file("template.yaml", "Globals: [1]\n");
	project_free(load_tmp("template.yaml:1:10: Globals must be a mapping"));
	puts_file("template.yaml", "- just\n- a list\n");
	project_free(load_tmp("template.yaml:1:1: the top level must be a mapping"));
	puts_file("template.yaml", "Resources:\n  F:\n    Type: AWS::Serverless::Function\n"
	                           "    Properties:\n      Runtime: [a]\n      Environment: 5\n"
	                           "      Layers: {a: b}\n      CodeUri: !GetAtt X.Y\n");
	p = load_tmp(NULL);
	assert_contains(p->functions[0].problem, "template.yaml:5:16: Runtime must be a string");
	assert_contains(p->functions[0].problem, "template.yaml:7:15: Layers must be a list");
	assert_contains(p->functions[0].problem, "CodeUri is !GetAtt X.Y");
	assert_false(p->functions[0].buildable);
	project_free(p);
	char *tpl = util_path_join(tmpdir, "template.yaml");
	unlink(tpl);
	free(tpl);
	/* lambdeck.json: not an object; functions of the wrong type. */
	puts_file("lambdeck.json", "\n  [1, 2]");
	project_free(load_tmp("lambdeck.json:2:3: the top level must be an object"));
	puts_file("lambdeck.json", "{\n \"functions\": 3}");
	project_free(load_tmp("lambdeck.json:2:2: \"functions\" must be an array or an object"));
	puts_file("lambdeck.json", "{\"test\": [1]}");
	project_free(load_tmp("lambdeck.json:1:2: \"test\" must be an array of strings"));
	puts_file("lambdeck.json", "");
	project_free(load_tmp("lambdeck.json:1:1: unexpected end of JSON"));
	puts_file("lambdeck.json",
	          "{\"functions\": [{\"name\": \"x\", \"runtime\": \"python3.12\", "
	          "\"handler\": \"a.b\", \"code\": \"../../../../nowhere\"}]}");
	p = load_tmp(NULL);
	assert_contains(p->functions[0].problem, "/nowhere does not exist");
	project_free(p);
}

/* Random damage (deterministic seed) to real templates, serverless.yml and lambdeck.json:
 * discovery must fail cleanly or succeed, never crash or leak (ASan/UBSan/LSan). */
static void mutate_and_load(const char *fixture, const char *name, unsigned *seed)
{
	struct buf orig = {0};
	struct lk_error err;
	char *src = xasprintf("%s%s/%s", FIXTURES, fixture, name);

	assert_int_equal(util_read_file(src, &orig, &err), 0);
	for (int round = 0; round < 150; round++) {
		struct buf m = {0};
		buf_append(&m, orig.data, orig.len);
		int edits = 1 + rand_r(seed) % 4;
		for (int e = 0; e < edits && m.len; e++) {
			size_t at = (size_t)rand_r(seed) % m.len;
			static const char junk[] = "\0\x1b\xff\xc3:-[]{}!&*|>'\"\t\n #%@`";
			switch (rand_r(seed) % 4) {
			case 0: /* truncate */
				m.len = at;
				m.data[m.len] = '\0';
				break;
			case 1: /* overwrite a byte */
				m.data[at] = junk[rand_r(seed) % (sizeof(junk) - 1)];
				break;
			case 2: { /* duplicate a chunk (copied first: the buffer may move) */
				size_t n = (m.len - at) % 64;
				char chunk[64];
				memcpy(chunk, m.data + at, n);
				buf_append(&m, chunk, n);
				break;
			}
			default: /* delete a byte */
				memmove(m.data + at, m.data + at + 1, m.len - at);
				m.len--;
				break;
			}
		}
		put(name, m.data ? m.data : "", m.len);
		struct project *p = NULL;
		if (project_load(tmpdir, &p, &err) < 0) {
			assert_string_equal(err.code, "ParseError");
			assert_non_null(strstr(err.message, name));
		}
		project_free(p);
		buf_free(&m);
	}
	char *path = util_path_join(tmpdir, name);
	unlink(path);
	free(path);
	buf_free(&orig);
	free(src);
}

static void test_mutated_inputs(void **state)
{
	unsigned seed = 12345;

	(void)state;
	mutate_and_load("sam-intrinsics", "template.yml", &seed);
	mutate_and_load("sam-kinds", "template.yaml", &seed);
	mutate_and_load("sls-vars", "serverless.yaml", &seed);
	mutate_and_load("json-basic", "lambdeck.json", &seed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sam_globals_merge),
	    cmocka_unit_test(test_sam_intrinsics),
	    cmocka_unit_test(test_sam_inline_image_cfn),
	    cmocka_unit_test(test_sam_problems_are_per_function),
	    cmocka_unit_test(test_serverless_basic),
	    cmocka_unit_test(test_serverless_variables),
	    cmocka_unit_test(test_lambdeck_json),
	    cmocka_unit_test(test_broken_files),
	    cmocka_unit_test(test_empty_projects),
	    cmocka_unit_test_setup_teardown(test_handler_lines_node, setup_tmp, teardown_tmp),
	    cmocka_unit_test_setup_teardown(test_handler_lines_python_ruby_provided, setup_tmp,
	                                    teardown_tmp),
	    cmocka_unit_test_setup_teardown(test_nasty_inputs, setup_tmp, teardown_tmp),
	    cmocka_unit_test_setup_teardown(test_mutated_inputs, setup_tmp, teardown_tmp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
