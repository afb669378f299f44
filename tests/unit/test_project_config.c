/* Unit tests for the configuration overrides of backend/project: SAM --parameter-overrides
 * syntax, SAM's env.json reader, lambdeck.json's "stage" / "env_vars" /
 * "parameter_overrides" / "skip_deps", and which wins (command line over lambdeck.json,
 * env.json over the template). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../lib/unit_tmp.h"
#include "backend/project.h"

static void free_params(struct project_env *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].value);
	}
	free(v);
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", dir, name);
	struct lk_error err = {0};

	char *slash = strrchr(path, '/');
	*slash = '\0';
	assert_int_equal(util_mkdir_p(path, 0777, &err), 0);
	*slash = '/';
	assert_int_equal(util_write_atomic(path, text, strlen(text), 0644, &err), 0);
	free(path);
}

static const char *env_of(const struct project *p, const char *fn, const char *name)
{
	const struct project_function *f = project_find(p, fn);

	assert_non_null(f);
	for (size_t i = 0; i < f->n_env; i++)
		if (!strcmp(f->env[i].name, name))
			return f->env[i].value;
	fail_msg("%s: no %s", fn, name);
	return NULL;
}

static void test_parameter_overrides_syntax(void **state)
{
	struct project_env *v = NULL;
	size_t n = 0;
	struct lk_error err = {0};

	(void)state;
	/* SAM's two forms, several at once, quotes, values with '=' and ',' */
	assert_int_equal(project_parse_parameter_overrides(
	                     "Stage=prod  Table='my table' ParameterKey=Url,ParameterValue=a=b,c "
	                     "Empty= \"Quoted\"=\"x y\"",
	                     &v, &n, &err),
	                 0);
	assert_int_equal(n, 5);
	assert_string_equal(v[0].name, "Stage");
	assert_string_equal(v[0].value, "prod");
	assert_string_equal(v[1].name, "Table");
	assert_string_equal(v[1].value, "my table");
	assert_string_equal(v[2].name, "Url");
	assert_string_equal(v[2].value, "a=b,c");
	assert_string_equal(v[3].name, "Empty");
	assert_string_equal(v[3].value, "");
	assert_string_equal(v[4].name, "Quoted");
	assert_string_equal(v[4].value, "x y");
	free_params(v, n);
	v = NULL;
	n = 0;
	assert_int_equal(project_parse_parameter_overrides("", &v, &n, &err), 0);
	assert_int_equal(project_parse_parameter_overrides("   ", &v, &n, &err), 0);
	assert_int_equal(n, 0);
	/* bad input says what is expected */
	assert_int_equal(project_parse_parameter_overrides("novalue", &v, &n, &err), -1);
	assert_non_null(strstr(err.message, "'novalue': expected NAME=VALUE"));
	assert_int_equal(project_parse_parameter_overrides("=x", &v, &n, &err), -1);
	assert_int_equal(project_parse_parameter_overrides("ParameterKey=K", &v, &n, &err), -1);
	assert_non_null(strstr(err.message, "ParameterKey=NAME,ParameterValue=VALUE"));
	assert_int_equal(project_parse_parameter_overrides("A='open", &v, &n, &err), -1);
	assert_non_null(strstr(err.message, "unterminated ' quote"));
	free_params(v, n);
}

static const char *const template = "Parameters:\n"
                                    "  Stage:\n"
                                    "    Type: String\n"
                                    "    Default: dev\n"
                                    "  Size:\n"
                                    "    Type: Number\n"
                                    "    Default: 128\n"
                                    "Resources:\n"
                                    "  Table:\n"
                                    "    Type: AWS::DynamoDB::Table\n"
                                    "  Orders:\n"
                                    "    Type: AWS::Serverless::Function\n"
                                    "    Properties:\n"
                                    "      FunctionName: orders-fn\n"
                                    "      CodeUri: src/\n"
                                    "      Handler: app.handler\n"
                                    "      Runtime: python3.12\n"
                                    "      MemorySize: !Ref Size\n"
                                    "      Environment:\n"
                                    "        Variables:\n"
                                    "          STAGE: !Ref Stage\n"
                                    "          TABLE: !Ref Table\n"
                                    "          SHARED: x\n"
                                    "  Other:\n"
                                    "    Type: AWS::Serverless::Function\n"
                                    "    Properties:\n"
                                    "      CodeUri: src/\n"
                                    "      Handler: app.handler\n"
                                    "      Runtime: python3.12\n"
                                    "      Environment:\n"
                                    "        Variables:\n"
                                    "          SHARED: y\n";

static char *sam_project(void)
{
	char *dir = test_tmpdir("projcfg");

	write_file(dir, "template.yaml", template);
	write_file(dir, "src/app.py", "def handler(e, c):\n    return 1\n");
	return dir;
}

static void test_env_json(void **state)
{
	char *dir = sam_project();
	struct project *p = NULL;
	struct lk_error err = {0};

	(void)state;
	/* "Parameters" for every function, then the function's own section (by logical id or
	 * deployed name); only declared variables, the others noted */
	write_file(dir, "env.json",
	           "{\"Parameters\": {\"SHARED\": \"all\", \"UNDECLARED\": 1},\n"
	           " \"orders-fn\": {\"TABLE\": \"local-orders\", \"NOPE\": true},\n"
	           " \"Other\": {\"SHARED\": 42}}\n");
	struct project_options o = {.env_vars_file = NULL};
	char *env = xasprintf("%s/env.json", dir);
	o.env_vars_file = env;
	assert_int_equal(project_load_with(dir, &o, &p, &err), 0);
	assert_string_equal(env_of(p, "Orders", "SHARED"), "all");
	assert_string_equal(env_of(p, "Orders", "TABLE"), "local-orders");
	assert_string_equal(env_of(p, "Orders", "STAGE"), "dev");
	assert_string_equal(env_of(p, "Other", "SHARED"), "42"); /* numbers become strings */
	const struct project_function *f = project_find(p, "Orders");
	assert_non_null(
	    strstr(f->notes, "env.json sets NOPE, which the function does not declare"));
	assert_null(strstr(f->notes, "UNDECLARED")); /* Parameters may name anything */
	/* the overridden stand-in is no longer noted as one */
	assert_null(strstr(f->notes, "TABLE is !Ref Table"));
	project_free(p);

	/* without env.json the resource gets its stand-in and a note */
	assert_int_equal(project_load(dir, &p, &err), 0);
	assert_string_equal(env_of(p, "Orders", "TABLE"), "Table");
	assert_non_null(
	    strstr(project_find(p, "Orders")->notes, "TABLE is !Ref Table: no local value"));
	project_free(p);

	/* malformed files: file:line:col, the project still loads (no functions lost) */
	write_file(dir, "env.json", "{\n  \"Orders\": {\"A\": \"1\"},\n  oops\n}\n");
	assert_int_equal(project_load_with(dir, &o, &p, &err), -1);
	assert_string_equal(err.code, "ParseError");
	assert_non_null(strstr(err.message, "env.json:3:"));
	assert_int_equal(p->n_functions, 2);
	project_free(p);
	write_file(dir, "env.json", "[1]\n");
	assert_int_equal(project_load_with(dir, &o, &p, &err), -1);
	assert_non_null(strstr(err.message, "env.json:1:1: must be an object"));
	project_free(p);
	write_file(dir, "env.json", "{\"Parameters\": \"x\"}\n");
	assert_int_equal(project_load_with(dir, &o, &p, &err), -1);
	assert_non_null(strstr(err.message, "env.json:1:2: \"Parameters\" must be an object"));
	project_free(p);
	free(env);
	test_rm_rf(dir);
	free(dir);
}

static void test_overrides_and_settings(void **state)
{
	char *dir = sam_project();
	struct project *p = NULL;
	struct lk_error err = {0};

	(void)state;
	/* lambdeck.json without functions: settings for the template's functions */
	write_file(dir, "lambdeck.json",
	           "{\"parameter_overrides\": {\"Stage\": \"beta\", \"Size\": 256},\n"
	           " \"stage\": \"qa\", \"skip_deps\": true, \"env_vars\": \"env.json\"}\n");
	write_file(dir, "env.json", "{\"Orders\": {\"SHARED\": \"from-json\"}}\n");
	assert_int_equal(project_load(dir, &p, &err), 0);
	assert_string_equal(env_of(p, "Orders", "STAGE"), "beta");
	assert_int_equal(project_find(p, "Orders")->memory, 256);
	assert_string_equal(env_of(p, "Orders", "SHARED"),
	                    "from-json"); /* relative to the project */
	assert_true(p->skip_deps);
	assert_string_equal(p->stage, "qa");
	project_free(p);

	/* the command line wins; the same name later wins */
	struct project_options o = {.parameter_overrides = "Stage=cli Stage=cli2", .stage = "x"};
	assert_int_equal(project_load_with(dir, &o, &p, &err), 0);
	assert_string_equal(env_of(p, "Orders", "STAGE"), "cli2");
	assert_int_equal(project_find(p, "Orders")->memory, 256); /* Size from lambdeck.json */
	assert_string_equal(p->stage, "x");
	/* reloading with the same options gives the same project */
	struct project_options again;
	struct project *q = NULL;
	project_options_of(p, &again);
	assert_int_equal(project_load_with(dir, &again, &q, &err), 0);
	assert_string_equal(env_of(q, "Orders", "STAGE"), "cli2");
	project_free(q);
	project_free(p);

	o = (struct project_options){.parameter_overrides = "bad"};
	assert_int_equal(project_load_with(dir, &o, &p, &err), -1);
	assert_non_null(strstr(err.message, "--parameter-overrides: 'bad'"));
	project_free(p);

	/* bad settings are file:line:col errors */
	write_file(dir, "lambdeck.json", "{\n  \"skip_deps\": \"yes\"\n}\n");
	assert_int_equal(project_load(dir, &p, &err), -1);
	assert_non_null(
	    strstr(err.message, "lambdeck.json:2:3: \"skip_deps\" must be true or false"));
	project_free(p);
	write_file(dir, "lambdeck.json", "{\"parameter_overrides\": [1]}\n");
	assert_int_equal(project_load(dir, &p, &err), -1);
	assert_non_null(strstr(err.message, "\"parameter_overrides\" must be an object"));
	project_free(p);
	write_file(dir, "lambdeck.json", "{\"parameter_overrides\": \"A\"}\n");
	assert_int_equal(project_load(dir, &p, &err), -1);
	assert_non_null(strstr(err.message, "expected NAME=VALUE"));
	project_free(p);
	test_rm_rf(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parameter_overrides_syntax),
	    cmocka_unit_test(test_env_json),
	    cmocka_unit_test(test_overrides_and_settings),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
