/* Unit tests for backend/aws/awsconfig: INI parsing (comments, nesting, errors with
 * file:line:col), profile/region/endpoint/credential resolution and their precedence,
 * command splitting for credential_process, timestamps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend/aws/awsconfig.h"

/* A fake environment: NULL-terminated name/value pairs. */
static const char *fake_getenv(void *ctx, const char *name)
{
	const char *const *kv = ctx;

	for (size_t i = 0; kv && kv[i]; i += 2)
		if (!strcmp(kv[i], name))
			return kv[i + 1];
	return NULL;
}

static char tmpdir[64];

static char *write_tmp(const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", tmpdir, name);
	struct lk_error err = {0};

	assert_int_equal(util_write_atomic(path, text, strlen(text), 0600, &err), 0);
	return path;
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/lk-awsconfig-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	return 0;
}

static int teardown(void **state)
{
	char *cmd[] = {"rm", "-rf", tmpdir, NULL};
	pid_t pid;

	(void)state;
	if ((pid = fork()) == 0) {
		execvp(cmd[0], cmd);
		_exit(127);
	}
	if (pid > 0)
		waitpid(pid, NULL, 0);
	return 0;
}

static void test_ini_parse(void **state)
{
	const char *text = "# comment\n"
	                   "; also a comment\n"
	                   "[default]\n"
	                   "region = eu-west-1\r\n"
	                   "  \n"
	                   "[profile dev]  # trailing comment\n"
	                   "Region=us-east-2\n"
	                   "s3 =\n"
	                   "  max_concurrent_requests = 10\n"
	                   "  addressing_style = path\n"
	                   "output = json\n"
	                   "region = us-west-1\n"
	                   "empty =\n";
	struct ini_file f;
	struct lk_error err = {0};
	const struct ini_section *s;

	(void)state;
	assert_int_equal(ini_parse(text, strlen(text), "cfg", &f, &err), 0);
	assert_int_equal(f.n, 2);
	assert_string_equal(ini_get(ini_section(&f, "default"), "region"), "eu-west-1");
	s = ini_section(&f, "profile dev");
	assert_non_null(s);
	assert_string_equal(ini_get(s, "region"), "us-west-1"); /* last wins, key lower-cased */
	assert_string_equal(ini_get(s, "s3.max_concurrent_requests"), "10");
	assert_string_equal(ini_get(s, "s3.addressing_style"), "path");
	assert_string_equal(ini_get(s, "output"), "json");
	assert_string_equal(ini_get(s, "empty"), "");
	assert_null(ini_get(s, "missing"));
	ini_free(&f);
}

static void expect_parse_error(const char *text, const char *where)
{
	struct ini_file f;
	struct lk_error err = {0};

	assert_int_equal(ini_parse(text, strlen(text), "/home/u/.aws/config", &f, &err), -1);
	assert_string_equal(err.code, "ParseError");
	if (!strstr(err.message, where))
		fail_msg("'%s' not in '%s'", where, err.message);
	ini_free(&f);
}

static void test_ini_errors(void **state)
{
	(void)state;
	expect_parse_error("[default\nregion = x\n", "/home/u/.aws/config:1:9:");
	expect_parse_error("region = x\n", "/home/u/.aws/config:1:1:");
	expect_parse_error("[a]\nthis is not ini\n", "/home/u/.aws/config:2:1:");
	expect_parse_error("[a]\n  = v\n", "/home/u/.aws/config:2:3: empty key");
	expect_parse_error("[a] junk\n", "/home/u/.aws/config:1:5:");
	{
		const char nul[] = "[a]\nk = v\0x\n";
		struct ini_file f;
		struct lk_error err = {0};

		assert_int_equal(ini_parse(nul, sizeof(nul) - 1, "p", &f, &err), -1);
		assert_non_null(strstr(err.message, "p:2:1: NUL"));
		ini_free(&f);
	}
	/* Empty and whitespace-only input is fine. */
	{
		struct ini_file f;
		struct lk_error err = {0};

		assert_int_equal(ini_parse("", 0, "p", &f, &err), 0);
		assert_int_equal(f.n, 0);
		ini_free(&f);
	}
}

static int resolve(const char *const *env, const char *profile, const char *region,
                   const char *endpoint, struct awsconfig *out, struct lk_error *err)
{
	struct awsconfig_input in = {.profile = profile,
	                             .region = region,
	                             .endpoint_url = endpoint,
	                             .getenv = fake_getenv,
	                             .getenv_ctx = (void *)env};

	return awsconfig_resolve(&in, out, err);
}

static void test_resolve_files(void **state)
{
	char *cred = write_tmp("credentials", "[default]\n"
	                                      "aws_access_key_id = AKIDDEFAULT\n"
	                                      "aws_secret_access_key = secretdefault\n"
	                                      "[dev]\n"
	                                      "aws_access_key_id = AKIDDEV\n"
	                                      "aws_secret_access_key = secretdev\n"
	                                      "aws_session_token = tokdev\n");
	char *conf = write_tmp("config", "[default]\n"
	                                 "region = eu-west-1\n"
	                                 "[profile dev]\n"
	                                 "region = eu-central-1\n"
	                                 "endpoint_url = http://127.0.0.1:4566/\n"
	                                 "[profile sso]\n"
	                                 "region = ap-south-1\n"
	                                 "credential_process = aws configure export-credentials "
	                                 "--profile real --format process\n"
	                                 "ca_bundle = /etc/ca.pem\n"
	                                 "max_attempts = 5\n"
	                                 "[profile svc]\n"
	                                 "services = local\n"
	                                 "[services local]\n"
	                                 "lambda =\n"
	                                 "  endpoint_url = http://127.0.0.1:9001\n"
	                                 "cloudwatch_logs =\n"
	                                 "  endpoint_url = http://127.0.0.1:9002\n");
	const char *env[] = {"AWS_SHARED_CREDENTIALS_FILE", cred, "AWS_CONFIG_FILE", conf, NULL};
	struct awsconfig c;
	struct lk_error err = {0};

	(void)state;
	/* default profile */
	assert_int_equal(resolve(env, NULL, NULL, NULL, &c, &err), 0);
	assert_string_equal(c.profile, "default");
	assert_string_equal(c.region, "eu-west-1");
	assert_non_null(strstr(c.region_source, "profile default in"));
	assert_string_equal(c.access_key_id, "AKIDDEFAULT");
	assert_non_null(strstr(c.credentials_source, "shared credentials file"));
	assert_string_equal(c.endpoint[AWSCONFIG_LAMBDA], "https://lambda.eu-west-1.amazonaws.com");
	assert_string_equal(c.endpoint[AWSCONFIG_LOGS], "https://logs.eu-west-1.amazonaws.com");
	assert_false(c.custom_endpoint[AWSCONFIG_LAMBDA]);
	awsconfig_free(&c);

	/* dev: session token, profile endpoint_url (trailing slash stripped) */
	assert_int_equal(resolve(env, "dev", NULL, NULL, &c, &err), 0);
	assert_string_equal(c.profile_source, "--profile");
	assert_string_equal(c.region, "eu-central-1");
	assert_string_equal(c.session_token, "tokdev");
	assert_string_equal(c.endpoint[AWSCONFIG_S3], "http://127.0.0.1:4566");
	assert_true(c.custom_endpoint[AWSCONFIG_S3]);
	assert_string_equal(c.endpoint_source[AWSCONFIG_S3], "profile dev endpoint_url");
	awsconfig_free(&c);

	/* sso: credential_process, ca_bundle, max_attempts; no static keys */
	assert_int_equal(resolve(env, "sso", NULL, NULL, &c, &err), 0);
	assert_null(c.access_key_id);
	assert_string_equal(c.credential_process,
	                    "aws configure export-credentials --profile real --format process");
	assert_string_equal(c.ca_bundle, "/etc/ca.pem");
	assert_int_equal(c.max_attempts, 5);
	awsconfig_free(&c);

	/* services section */
	assert_int_equal(resolve(env, "svc", "us-east-1", NULL, &c, &err), 0);
	assert_string_equal(c.endpoint[AWSCONFIG_LAMBDA], "http://127.0.0.1:9001");
	assert_string_equal(c.endpoint[AWSCONFIG_LOGS], "http://127.0.0.1:9002");
	assert_string_equal(c.endpoint[AWSCONFIG_S3], "https://s3.us-east-1.amazonaws.com");
	awsconfig_free(&c);

	/* unknown explicit profile */
	assert_int_equal(resolve(env, "nope", NULL, NULL, &c, &err), -1);
	assert_string_equal(err.code, "ProfileNotFound");
	awsconfig_free(&c);
	free(cred);
	free(conf);
}

static void test_resolve_precedence(void **state)
{
	char *conf = write_tmp("config2", "[profile p]\nregion = eu-west-3\n"
	                                  "endpoint_url = http://profile:1\n");
	const char *env[] = {"AWS_CONFIG_FILE",
	                     conf,
	                     "AWS_SHARED_CREDENTIALS_FILE",
	                     "/nonexistent/credentials",
	                     "AWS_PROFILE",
	                     "p",
	                     "AWS_DEFAULT_REGION",
	                     "us-west-2",
	                     "AWS_ACCESS_KEY_ID",
	                     "AKIDENV",
	                     "AWS_SECRET_ACCESS_KEY",
	                     "secretenv",
	                     "AWS_SESSION_TOKEN",
	                     "tokenv",
	                     "AWS_ENDPOINT_URL",
	                     "http://global:2",
	                     "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS",
	                     "http://logs:3",
	                     "AWS_CA_BUNDLE",
	                     "/env/ca.pem",
	                     NULL};
	const char *env_region[] = {
	    "AWS_CONFIG_FILE",    conf,        "AWS_PROFILE", "p", "AWS_REGION", "sa-east-1",
	    "AWS_DEFAULT_REGION", "us-west-2", NULL};
	const char *env_ignore[] = {"AWS_CONFIG_FILE",
	                            conf,
	                            "AWS_PROFILE",
	                            "p",
	                            "AWS_ENDPOINT_URL",
	                            "http://global:2",
	                            "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
	                            "true",
	                            NULL};
	struct awsconfig c;
	struct lk_error err = {0};

	(void)state;
	assert_int_equal(resolve(env, NULL, NULL, NULL, &c, &err), 0);
	assert_string_equal(c.profile, "p");
	assert_string_equal(c.profile_source, "AWS_PROFILE");
	assert_string_equal(c.region, "us-west-2");
	assert_string_equal(c.region_source, "AWS_DEFAULT_REGION");
	assert_string_equal(c.access_key_id, "AKIDENV");
	assert_string_equal(c.session_token, "tokenv");
	assert_string_equal(c.credentials_source, "environment");
	assert_string_equal(c.endpoint[AWSCONFIG_LAMBDA], "http://global:2");
	assert_string_equal(c.endpoint_source[AWSCONFIG_LAMBDA], "AWS_ENDPOINT_URL");
	assert_string_equal(c.endpoint[AWSCONFIG_LOGS], "http://logs:3");
	assert_string_equal(c.endpoint_source[AWSCONFIG_LOGS], "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS");
	assert_string_equal(c.ca_bundle, "/env/ca.pem");
	awsconfig_free(&c);

	/* explicit options win */
	assert_int_equal(resolve(env, NULL, "ca-central-1", "http://cli:4/", &c, &err), 0);
	assert_string_equal(c.region, "ca-central-1");
	assert_string_equal(c.region_source, "--region");
	for (int s = 0; s < AWSCONFIG_NSERVICES; s++) {
		assert_string_equal(c.endpoint[s], "http://cli:4");
		assert_string_equal(c.endpoint_source[s], "--endpoint-url");
	}
	awsconfig_free(&c);

	/* AWS_REGION beats AWS_DEFAULT_REGION; the profile endpoint_url applies */
	assert_int_equal(resolve(env_region, NULL, NULL, NULL, &c, &err), 0);
	assert_string_equal(c.region, "sa-east-1");
	assert_string_equal(c.endpoint[AWSCONFIG_TAGGING], "http://profile:1");
	assert_null(c.access_key_id);
	assert_null(c.credentials_source);
	awsconfig_free(&c);

	/* AWS_IGNORE_CONFIGURED_ENDPOINT_URLS */
	assert_int_equal(resolve(env_ignore, NULL, NULL, NULL, &c, &err), 0);
	assert_string_equal(c.endpoint[AWSCONFIG_LAMBDA], "https://lambda.eu-west-3.amazonaws.com");
	awsconfig_free(&c);
	free(conf);
}

static void test_resolve_missing(void **state)
{
	const char *env[] = {"HOME", "/nonexistent-home", NULL};
	const char *env_cn[] = {"HOME", "/nonexistent-home", "AWS_REGION", "cn-north-1", NULL};
	struct awsconfig c;
	struct lk_error err = {0};

	(void)state;
	/* No files, no env: resolves to nothing, no error. */
	assert_int_equal(resolve(env, NULL, NULL, NULL, &c, &err), 0);
	assert_string_equal(c.credentials_file, "/nonexistent-home/.aws/credentials");
	assert_null(c.region);
	assert_null(c.endpoint[AWSCONFIG_LAMBDA]);
	assert_null(c.access_key_id);
	assert_false(c.profile_exists);
	awsconfig_free(&c);
	/* A custom endpoint without a region defaults the region. */
	assert_int_equal(resolve(env, NULL, NULL, "http://127.0.0.1:1", &c, &err), 0);
	assert_string_equal(c.region, "us-east-1");
	awsconfig_free(&c);
	assert_int_equal(resolve(env_cn, NULL, NULL, NULL, &c, &err), 0);
	assert_string_equal(c.endpoint[AWSCONFIG_LAMBDA],
	                    "https://lambda.cn-north-1.amazonaws.com.cn");
	awsconfig_free(&c);
}

static void test_resolve_bad_file(void **state)
{
	char *conf = write_tmp("config-bad", "[default]\nregion = x\n[broken\n");
	const char *env[] = {"AWS_CONFIG_FILE", conf, NULL};
	struct awsconfig c;
	struct lk_error err = {0};
	char *want = xasprintf("%s:3:8:", conf);

	(void)state;
	assert_int_equal(resolve(env, NULL, NULL, NULL, &c, &err), -1);
	assert_string_equal(err.code, "ParseError");
	assert_non_null(strstr(err.message, want));
	awsconfig_free(&c);
	free(want);
	free(conf);
}

static void expect_argv(const char *cmd, const char *const *want)
{
	struct lk_error err = {0};
	char **argv = awsconfig_split_command(cmd, &err);
	size_t i = 0;

	assert_non_null(argv);
	for (; want[i]; i++) {
		assert_non_null(argv[i]);
		assert_string_equal(argv[i], want[i]);
	}
	assert_null(argv[i]);
	awsconfig_argv_free(argv);
}

static void test_split_command(void **state)
{
	struct lk_error err = {0};

	(void)state;
	expect_argv("aws configure export-credentials --profile x --format process",
	            (const char *[]){"aws", "configure", "export-credentials", "--profile", "x",
	                             "--format", "process", NULL});
	expect_argv("  '/opt/my tools/creds'  \"a \\\"b\\\" c\" d\\ e ''",
	            (const char *[]){"/opt/my tools/creds", "a \"b\" c", "d e", "", NULL});
	expect_argv("x'y'\"z\"", (const char *[]){"xyz", NULL});
	assert_null(awsconfig_split_command("a 'unterminated", &err));
	assert_string_equal(err.code, "CredentialProcessError");
	assert_null(awsconfig_split_command("a \"unterminated", &err));
	assert_null(awsconfig_split_command("   ", &err));
	assert_null(awsconfig_split_command("", &err));
}

static void test_parse_time(void **state)
{
	(void)state;
	assert_true(awsconfig_parse_time("2026-11-24T12:00:00Z") == 1795521600000LL);
	assert_true(awsconfig_parse_time("2026-11-24T12:00:00.250Z") == 1795521600250LL);
	assert_true(awsconfig_parse_time("2026-11-24T13:00:00+01:00") == 1795521600000LL);
	assert_true(awsconfig_parse_time("2026-11-24T11:30:00-00:30") == 1795521600000LL);
	assert_true(awsconfig_parse_time("2026-11-24 12:00:00Z") == 1795521600000LL);
	assert_true(awsconfig_parse_time("2026-11-24T12:00:00") == -1);
	assert_true(awsconfig_parse_time("tomorrow") == -1);
	assert_true(awsconfig_parse_time("") == -1);
	assert_true(awsconfig_parse_time(NULL) == -1);
	assert_true(awsconfig_parse_time("2026-13-24T12:00:00Z") == -1);
	assert_true(awsconfig_parse_time("2026-11-24T12:00:00Zjunk") == -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ini_parse),       cmocka_unit_test(test_ini_errors),
	    cmocka_unit_test(test_resolve_files),   cmocka_unit_test(test_resolve_precedence),
	    cmocka_unit_test(test_resolve_missing), cmocka_unit_test(test_resolve_bad_file),
	    cmocka_unit_test(test_split_command),   cmocka_unit_test(test_parse_time),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
