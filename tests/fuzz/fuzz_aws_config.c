/* libFuzzer target: the user's ~/.aws/config and ~/.aws/credentials (the input is the config
 * text, a NUL byte, then the credentials text), resolved as every command does for the
 * default profile and a named one with a hermetic environment; then the credential_process
 * command line is split and every value is tried as a credential_process timestamp. Any
 * input must resolve or give "file:line:col", never crash or leak. */
#include <stdint.h>

#include "backend/aws/awsconfig.h"
#include "tests/fuzz/fuzz_common.h"

static char *dir, *config, *credentials;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	dir = fuzz_tmpdir("aws");
	config = util_path_join(dir, "config");
	credentials = util_path_join(dir, "credentials");
	return 0;
}

static const char *no_env(void *ctx, const char *name)
{
	(void)ctx;
	(void)name;
	return NULL;
}

static void resolve(const char *profile)
{
	struct awsconfig_input in = {.profile = profile,
	                             .config_file = config,
	                             .credentials_file = credentials,
	                             .getenv = no_env};
	struct awsconfig c = {0};
	struct lk_error err = {0};

	if (awsconfig_resolve(&in, &c, &err) == 0 && c.credential_process) {
		char **argv = awsconfig_split_command(c.credential_process, &err);

		for (char **a = argv; a && *a; a++)
			(void)strlen(*a);
		awsconfig_argv_free(argv);
	}
	awsconfig_free(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t nc = nul ? (size_t)(nul - data) : size;
	struct ini_file f = {0};
	struct lk_error err = {0};

	fuzz_write(dir, "config", data, nc);
	fuzz_write(dir, "credentials", nul ? nul + 1 : data, nul ? size - nc - 1 : 0);
	resolve(NULL);
	resolve("dev");
	if (ini_parse((const char *)data, nc, "config", &f, &err) == 0)
		for (size_t i = 0; i < f.n; i++)
			for (size_t j = 0; j < f.sections[i].n; j++)
				(void)awsconfig_parse_time(f.sections[i].entries[j].value);
	ini_free(&f);
	return 0;
}
