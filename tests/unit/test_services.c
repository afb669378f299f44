/* Unit tests for backend/services: lambdeck.json "services" parsing (kinds, dependency
 * order, every bad input with its file:line:col), ${...} substitution. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "backend/services.h"

static struct services_config *parse_ok(const char *text)
{
	struct services_config *c = NULL;
	struct lk_error err = {0};

	if (services_config_parse("lambdeck.json", text, strlen(text), &c, &err) != 0)
		fail_msg("%s", err.message);
	return c;
}

static void parse_fails(const char *text, const char *want)
{
	struct services_config *c = NULL;
	struct lk_error err = {0};

	assert_int_equal(services_config_parse("lambdeck.json", text, strlen(text), &c, &err), -1);
	assert_string_equal(err.code, "ParseError");
	assert_string_equal(err.message, want);
	assert_non_null(c);
	assert_int_equal(c->n, 0);
	services_config_free(c);
}

static void test_kinds_and_order(void **state)
{
	struct services_config *c = parse_ok(
	    "{\"functions\": [],\n"
	    " \"services\": {\n"
	    "  \"app\": {\"command\": [\"srv\", \"--port\", \"${port}\"], \"depends_on\": [\"db\", "
	    "\"files\"],\n"
	    "          \"ready\": {\"http\": \"/health\"}, \"env\": {\"A\": \"1\"}, \"port\": "
	    "8080},\n"
	    "  \"db\": {\"kind\": \"dynamodb\", \"depends_on\": \"files\"},\n"
	    "  \"files\": {\"kind\": \"s3\", \"ready_timeout\": 5}\n"
	    " }}");
	const struct service_spec *s;

	(void)state;
	assert_int_equal(c->n, 3);
	assert_string_equal(c->v[0].name, "files");
	assert_string_equal(c->v[1].name, "db");
	assert_string_equal(c->v[2].name, "app");
	s = services_config_find(c, "files");
	assert_string_equal(s->kind, "s3");
	assert_string_equal(s->npm_package, "s3rver");
	assert_int_equal(s->ready_timeout_s, 5);
	assert_int_equal(s->n_exports, 1);
	assert_string_equal(s->exports[0].name, "AWS_ENDPOINT_URL_S3");
	s = services_config_find(c, "db");
	assert_string_equal(s->exports[0].name, "AWS_ENDPOINT_URL_DYNAMODB");
	assert_string_equal(s->npm_package, "dynalite");
	s = services_config_find(c, "app");
	assert_null(s->kind);
	assert_string_equal(s->argv[0], "srv");
	assert_string_equal(s->argv[2], "${port}");
	assert_null(s->argv[3]);
	assert_int_equal(s->port, 8080);
	assert_int_equal(s->ready, SERVICE_READY_HTTP);
	assert_string_equal(s->ready_path, "/health");
	assert_string_equal(s->env[0].name, "A");
	assert_int_equal(s->ready_timeout_s, 60);
	services_config_free(c);

	c = parse_ok("{\"services\": {\"r\": {\"kind\": \"redis\"}, \"pg\": {\"kind\": "
	             "\"postgres\"}}}");
	assert_string_equal(services_config_find(c, "r")->package, "redis-server");
	assert_string_equal(services_config_find(c, "pg")->package, "postgresql");
	assert_non_null(services_config_find(c, "pg")->init_argv);
	services_config_free(c);
	c = parse_ok("{\"functions\": []}");
	assert_int_equal(c->n, 0);
	services_config_free(c);
}

static void test_bad_input(void **state)
{
	(void)state;
	parse_fails("{\"services\": {\n  \"a\": {\"kind\": \"s3\", \"prot\": 1}}}",
	            "lambdeck.json:2:23: service 'a': unknown field 'prot' (known: kind, command, "
	            "init, port, ready, ready_timeout, env, export, depends_on)");
	parse_fails("{\"services\": {\n  \"a\": {\"command\": \"x\",\n    \"port\": 70000}}}",
	            "lambdeck.json:3:5: service 'a': port must be a number 0..65535 (0: any free "
	            "port)");
	parse_fails("{\"services\": {\"a\": {\"kind\": \"mongodb\"}}}",
	            "lambdeck.json:1:21: service 'a': kind must be one of s3, dynamodb, redis, "
	            "postgres");
	parse_fails("{\"services\": {\n\n   \"a\": {\"port\": 1}}}",
	            "lambdeck.json:3:4: service 'a' needs a \"command\" (argv) or a \"kind\"");
	parse_fails("{\"services\": {\"a\": {\"command\": []}}}",
	            "lambdeck.json:1:21: service 'a': command must be a non-empty string or "
	            "array of strings");
	parse_fails("{\"services\": {\"a\": {\"command\": \"x\", \"depends_on\": [\"b\"]}}}",
	            "lambdeck.json:1:52: service 'a' depends on 'b', which is not declared");
	parse_fails("{\"services\": {\"a\": {\"command\": \"x\", \"depends_on\": \"b\"},\n"
	            "              \"b\": {\"command\": \"y\", \"depends_on\": \"a\"}}}",
	            "lambdeck.json:1:37: service 'a': depends_on forms a cycle");
	parse_fails("{\"services\": {\"a b\": {\"command\": \"x\"}}}",
	            "lambdeck.json:1:15: service name 'a b': use letters, digits, '-' and '_' (at "
	            "most 64)");
	parse_fails("{\"services\": {\"a\": {\"command\": \"x\", \"ready\": \"udp\"}}}",
	            "lambdeck.json:1:37: service 'a': ready must be \"tcp\", \"http\", {\"tcp\": "
	            "true} or {\"http\": \"/path\"}");
	parse_fails("{\"services\": [1]}",
	            "lambdeck.json:1:2: \"services\" must be an object of NAME: {...}");
	parse_fails("{\"services\": {\"a\": {\"command\": \"x\",}}}",
	            "lambdeck.json:1:37: invalid JSON");
	parse_fails("{\"services\": {\"a\": {\"command\": \"x\", \"env\": {\"K\": []}}}}",
	            "lambdeck.json:1:37: service 'a': env must be an object of strings");
}

static char *lookup(void *ctx, const char *name, const char *key)
{
	(void)ctx;
	if (!strcmp(name, "db") && !strcmp(key, "host"))
		return strdup("127.0.0.1");
	return NULL;
}

static void test_expand(void **state)
{
	struct service_vars v = {.name = "db",
	                         .host = "127.0.0.1",
	                         .port = 4567,
	                         .data_dir = "/d",
	                         .npm_dir = "/n",
	                         .runtimes_dir = "/r"};
	char *s;

	(void)state;
	s = services_expand("${host}:${port} ${data_dir}/x ${npm_dir} ${unknown} ${name}$", &v);
	assert_string_equal(s, "127.0.0.1:4567 /d/x /n ${unknown} db$");
	free(s);
	s = services_expand_refs("h=${services.db.host} p=${services.db.nope} ${services.x}",
	                         lookup, NULL);
	assert_string_equal(s, "h=127.0.0.1 p=${services.db.nope} ${services.x}");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_kinds_and_order),
	    cmocka_unit_test(test_bad_input),
	    cmocka_unit_test(test_expand),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
