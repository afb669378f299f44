/* awsconfig.h - the shared AWS config and credentials files (INI as botocore reads them) and
 * the resolution of profile, region, endpoints and static credentials from options,
 * environment and those files. Pure: reads files and the environment given, no network, no
 * processes. Used by aws.c; exposed for tests and `lambdeck doctor`.
 *
 * File syntax: [section] headers; "key = value" lines; lines starting with '#' or ';' are
 * comments; an indented "sub = value" line after "key =" is a nested value, stored as key
 * "key.sub" (the [services x] sections and "s3 =" blocks use this). In the config file a
 * profile is [default] or [profile NAME]; in the credentials file it is [NAME]. Values from
 * the credentials file override the config file's for the same profile (as botocore). */
#ifndef LAMBDECK_AWS_AWSCONFIG_H
#define LAMBDECK_AWS_AWSCONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "backend/util.h"

struct ini_entry {
	char *key; /* lower-cased; nested keys as "parent.sub" */
	char *value;
	int line;
};

struct ini_section {
	char *name; /* as written between the brackets, trimmed */
	struct ini_entry *entries;
	size_t n;
	int line;
};

struct ini_file {
	char *path;
	struct ini_section *sections;
	size_t n;
};

/* Parses text (path is only used in messages). Returns 0, or -1 with err "ParseError" and a
 * "path:line:col: ..." message. *out must be freed with ini_free even after a failure. */
int ini_parse(const char *text, size_t len, const char *path, struct ini_file *out,
              struct lk_error *err);
/* Reads and parses path; a missing file is an empty file (0). */
int ini_load(const char *path, struct ini_file *out, struct lk_error *err);
void ini_free(struct ini_file *f);
const struct ini_section *ini_section(const struct ini_file *f, const char *name);
const char *ini_get(const struct ini_section *s, const char *key);

/* Environment lookup (getenv by default; tests pass their own). */
typedef const char *(*awsconfig_getenv_fn)(void *ctx, const char *name);

struct awsconfig_input {
	const char *profile;          /* explicit (--profile) or NULL */
	const char *region;           /* explicit (--region) or NULL */
	const char *endpoint_url;     /* explicit (--endpoint-url) or NULL */
	const char *credentials_file; /* explicit or NULL */
	const char *config_file;      /* explicit or NULL */
	awsconfig_getenv_fn getenv;   /* NULL: getenv(3) */
	void *getenv_ctx;
};

enum awsconfig_service {
	AWSCONFIG_LAMBDA,
	AWSCONFIG_LOGS,
	AWSCONFIG_S3,
	AWSCONFIG_TAGGING,
	AWSCONFIG_NSERVICES,
};

/* Everything resolved; strings owned by the struct (awsconfig_free). */
struct awsconfig {
	char *profile, *profile_source;
	bool profile_exists; /* found in either file */
	char *region, *region_source;
	char *endpoint[AWSCONFIG_NSERVICES], *endpoint_source[AWSCONFIG_NSERVICES];
	bool custom_endpoint[AWSCONFIG_NSERVICES];
	char *ca_bundle;
	char *credentials_file, *config_file;
	int max_attempts; /* 0 when unset */
	/* Static credentials found by the chain before credential_process (env first, then the
	 * profile's aws_access_key_id in credentials then config file). */
	char *access_key_id, *secret_access_key, *session_token;
	char *credentials_source; /* NULL when none static */
	char *credential_process; /* the profile's command line, or NULL */
	char *credential_process_source;
};

/* Resolves; returns 0, or -1 with err (a malformed file: ParseError with file:line:col; an
 * explicit profile that exists in neither file: ProfileNotFound). */
int awsconfig_resolve(const struct awsconfig_input *in, struct awsconfig *out,
                      struct lk_error *err);
void awsconfig_free(struct awsconfig *c);

/* Splits a command line as POSIX shells / Python's shlex.split do (quotes, backslashes; no
 * expansion). Returns a NULL-terminated argv (free with awsconfig_argv_free), or NULL with
 * err on an unterminated quote or an empty command. */
char **awsconfig_split_command(const char *cmd, struct lk_error *err);
void awsconfig_argv_free(char **argv);

/* Parses ISO 8601 / RFC 3339 timestamps as credential_process prints them
 * ("2026-11-24T12:00:00Z", "...T12:00:00.123+01:00"); returns Unix ms or -1. */
int64_t awsconfig_parse_time(const char *s);

#endif
