/* Unit tests for backend/vars: each Serverless variable form and fallback, nesting, cycles,
 * and the reason given for what cannot be resolved locally. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "backend/util.h"
#include "backend/vars.h"

/* A tiny "document": self: paths and environment variables as key/value tables. */
static const char *const doc[][2] = {
    {"service", "shop"},
    {"provider.stage", "${opt:stage, 'staging'}"},
    {"provider.region", "eu-west-1"},
    {"custom.table", "${self:service}-${sls:stage}-orders"},
    {"custom.prod.size", "large"},
    {"custom.staging.size", "small"},
    {"custom.loop", "${self:custom.loop2}"},
    {"custom.loop2", "${self:custom.loop}"},
    {"custom.number", "42"},
    {NULL, NULL},
};

static const char *const environ_vars[][2] = {
    {"TABLE", "from-env"},
    {"EMPTY", ""},
    {NULL, NULL},
};

static const char *lookup(const char *const (*t)[2], const char *key)
{
	for (size_t i = 0; t[i][0]; i++)
		if (!strcmp(t[i][0], key))
			return t[i][1];
	return NULL;
}

static const char *self_value(void *user, const char *path)
{
	(void)user;
	return lookup(doc, path);
}

static const char *env_value(void *user, const char *name)
{
	(void)user;
	return lookup(environ_vars, name);
}

static struct vars_ctx ctx(const char *stage, const char *region)
{
	return (struct vars_ctx){
	    .self_value = self_value, .opt_stage = stage, .opt_region = region, .env = env_value};
}

/* Resolves text; expects success with want, or failure (want NULL) with why containing
 * why_part. */
static void check(const struct vars_ctx *c, const char *text, const char *want,
                  const char *why_part)
{
	char *out = NULL, *why = NULL;
	int rc = vars_resolve(c, text, &out, &why);

	if (want) {
		if (rc != 0)
			fail_msg("%s: expected '%s', failed: %s", text, want, why);
		assert_string_equal(out, want);
		assert_null(why);
	} else {
		if (rc == 0)
			fail_msg("%s: expected a failure, got '%s'", text, out);
		assert_null(out);
		assert_non_null(why);
		if (!strstr(why, why_part))
			fail_msg("%s: reason '%s' lacks '%s'", text, why, why_part);
	}
	free(out);
	free(why);
}

static void test_sources(void **state)
{
	struct vars_ctx c = ctx(NULL, NULL);

	(void)state;
	check(&c, "plain text", "plain text", NULL);
	check(&c, "${self:service}", "shop", NULL);
	check(&c, "${self:custom.number}", "42", NULL);
	check(&c, "${env:TABLE}", "from-env", NULL);
	check(&c, "${env:EMPTY}", "", NULL); /* set but empty counts as set */
	check(&c, "${env:MISSING}", NULL, "environment variable MISSING is not set");
	check(&c, "${opt:stage}", NULL, "--stage was not given");
	check(&c, "${opt:other}", NULL, "the option --other was not given");
	check(&c, "${ssm:/app/secret}", NULL, "${ssm:/app/secret} needs AWS");
	check(&c, "${aws:accountId}", NULL, "needs AWS");
	check(&c, "${param:x}", NULL, "Serverless Dashboard");
	check(&c, "${file(./config.yml):x}", NULL, "not read locally");
	check(&c, "${self:custom.absent}", NULL, "self:custom.absent is not set");
	check(&c, "${nope}", NULL, "not a variable");
	/* text around variables, several per string */
	check(&c, "arn:${self:service}:${env:TABLE}!", "arn:shop:from-env!", NULL);
	check(&c, "${unterminated", "${unterminated", NULL);
}

static void test_stage_and_region(void **state)
{
	struct vars_ctx none = ctx(NULL, NULL), given = ctx("prod", "ap-south-1");

	(void)state;
	/* sls:stage: --stage, else provider.stage (itself ${opt:stage, 'staging'}), else dev */
	check(&none, "${sls:stage}", "staging", NULL);
	check(&given, "${sls:stage}", "prod", NULL);
	check(&none, "${aws:region}", "eu-west-1", NULL);
	check(&given, "${aws:region}", "ap-south-1", NULL);
	check(&given, "${opt:region}", "ap-south-1", NULL);
	/* a self: value is resolved in turn */
	check(&none, "${self:custom.table}", "shop-staging-orders", NULL);
	check(&given, "${self:custom.table}", "shop-prod-orders", NULL);
	check(&none, "${self:provider.stage}", "staging", NULL);

	/* no provider.stage at all: "dev" and "us-east-1" */
	struct vars_ctx bare = {.env = env_value};
	check(&bare, "${sls:stage}-${aws:region}", "dev-us-east-1", NULL);
	/* as the framework fills in provider defaults before resolving */
	check(&bare, "${opt:stage, self:provider.stage}", "dev", NULL);
	check(&bare, "${opt:region, self:provider.region}", "us-east-1", NULL);
}

static void test_fallbacks(void **state)
{
	struct vars_ctx c = ctx(NULL, NULL), given = ctx("prod", NULL);

	(void)state;
	check(&c, "${opt:stage, self:provider.stage}", "staging", NULL);
	check(&given, "${opt:stage, self:provider.stage}", "prod", NULL);
	check(&c, "${env:MISSING, self:service}", "shop", NULL);
	check(&c, "${env:TABLE, self:service}", "from-env", NULL); /* first wins */
	check(&c, "${opt:stage, 'dev'}", "dev", NULL);
	check(&c, "${opt:stage, \"dev\"}", "dev", NULL);
	check(&c, "${opt:stage,'dev'}", "dev", NULL);
	check(&c, "${ssm:/a/b, 'with, comma'}", "with, comma", NULL);
	check(&c, "${ssm:/a/b, 10}", "10", NULL);
	check(&c, "${ssm:/a/b, true}", "true", NULL);
	/* a chain of fallbacks: the first that resolves */
	check(&c, "${opt:stage, env:MISSING, env:TABLE, 'x'}", "from-env", NULL);
	check(&c, "${opt:stage, env:MISSING, 'last'}", "last", NULL);
	/* nested variable as fallback */
	check(&c, "${opt:region, ${self:service}}", "shop", NULL);
	check(&c, "${env:MISSING, ${env:ALSO_MISSING, 'deep'}}", "deep", NULL);
	/* every fallback fails: the first source's reason is given */
	check(&c, "${env:MISSING, env:ALSO_MISSING}", NULL, "MISSING is not set");
	check(&c, "${ssm:/x, opt:stage}", NULL, "${ssm:/x} needs AWS");
}

static void test_nesting_and_cycles(void **state)
{
	struct vars_ctx c = ctx(NULL, NULL), given = ctx("prod", NULL);

	(void)state;
	/* the inner variable first, then the outer address */
	check(&c, "${self:custom.${sls:stage}.size}", "small", NULL);
	check(&given, "${self:custom.${sls:stage}.size}", "large", NULL);
	check(&given, "${self:custom.${opt:stage, 'staging'}.size}", "large", NULL);
	check(&c, "${self:custom.${opt:stage, 'missing'}.size, 'none'}", "none", NULL);
	check(&c, "${self:custom.loop}", NULL, "cycle");
}

/* Nasty input: no crash, no unbounded recursion, a reason. */
static void test_nasty(void **state)
{
	struct vars_ctx c = ctx(NULL, NULL);
	struct buf deep = {0};
	char *out = NULL, *why = NULL;

	(void)state;
	check(&c, "", "", NULL);
	check(&c, "}}}", "}}}", NULL);
	check(&c, "${", "${", NULL);
	check(&c, "${}", NULL, "empty variable");
	check(&c, "${,}", NULL, "empty variable");
	check(&c, "${opt:stage,}", NULL, "--stage was not given");
	check(&c, "${'unterminated}", NULL, "not a variable");
	check(&c, "$${self:service}", "$shop", NULL);
	check(&c, "${self:}", NULL, "is not set");
	for (int i = 0; i < 20000; i++)
		buf_puts(&deep, "${env:X, ");
	buf_puts(&deep, "'x'");
	for (int i = 0; i < 20000; i++)
		buf_putc(&deep, '}');
	assert_int_equal(vars_resolve(&c, deep.data, &out, &why), -1); /* bounded, no crash */
	assert_null(out);
	free(why);
	buf_reset(&deep);
	for (int i = 0; i < 20000; i++)
		buf_puts(&deep, "${");
	assert_int_equal(vars_resolve(&c, deep.data, &out, &why), 0); /* unterminated: as is */
	assert_string_equal(out, deep.data);
	free(out);
	buf_free(&deep);
}

static void test_whole_self(void **state)
{
	char *path = NULL;

	(void)state;
	assert_true(vars_whole_self("${self:custom.env}", &path));
	assert_string_equal(path, "custom.env");
	free(path);
	assert_true(vars_whole_self("  ${ self:custom.env }  ", &path));
	assert_string_equal(path, "custom.env");
	free(path);
	assert_false(vars_whole_self("${self:custom.env, 'x'}", &path));
	assert_null(path);
	assert_false(vars_whole_self("x-${self:a}", &path));
	assert_false(vars_whole_self("${env:A}", &path));
	assert_false(vars_whole_self("${self:a.${sls:stage}}", &path));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sources),   cmocka_unit_test(test_stage_and_region),
	    cmocka_unit_test(test_fallbacks), cmocka_unit_test(test_nesting_and_cycles),
	    cmocka_unit_test(test_nasty),     cmocka_unit_test(test_whole_self),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
