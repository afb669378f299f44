/* awsconfig.c - shared config/credentials files and profile/region/endpoint resolution. */
#include "backend/aws/awsconfig.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static char *trim_dup(const char *s, size_t n)
{
	while (n && isspace((unsigned char)*s))
		s++, n--;
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	return xstrndup(s, n);
}

static void lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

static int parse_error(struct lk_error *err, const char *path, int line, int col, const char *what)
{
	return lk_error_set(err, "ParseError", "%s:%d:%d: %s", path, line, col, what);
}

int ini_parse(const char *text, size_t len, const char *path, struct ini_file *out,
              struct lk_error *err)
{
	const char *p = text, *end = text + len;
	int lineno = 0;
	struct ini_section *cur = NULL;
	char *parent = NULL; /* key with an empty value: nested lines may follow */

	memset(out, 0, sizeof(*out));
	out->path = xstrdup(path);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		size_t n = (size_t)(le - p);
		size_t ind = 0;
		const char *eq;

		lineno++;
		if (n && p[n - 1] == '\r')
			n--;
		while (ind < n && (p[ind] == ' ' || p[ind] == '\t'))
			ind++;
		if (memchr(p, '\0', n)) {
			free(parent);
			return parse_error(err, path, lineno, 1, "NUL byte in file");
		}
		if (ind == n || p[ind] == '#' || p[ind] == ';') {
			/* blank or comment */
		} else if (ind == 0 && p[0] == '[') {
			const char *close = memchr(p, ']', n);

			if (!close) {
				free(parent);
				return parse_error(err, path, lineno, (int)n + 1,
				                   "section header without ']'");
			}
			for (const char *q = close + 1; q < p + n; q++) {
				if (*q == '#' || *q == ';')
					break;
				if (!isspace((unsigned char)*q)) {
					free(parent);
					return parse_error(err, path, lineno, (int)(q - p) + 1,
					                   "unexpected text after ']'");
				}
			}
			out->sections = xrealloc(out->sections, (out->n + 1) * sizeof(*cur));
			cur = &out->sections[out->n++];
			memset(cur, 0, sizeof(*cur));
			cur->name = trim_dup(p + 1, (size_t)(close - p - 1));
			cur->line = lineno;
			free(parent);
			parent = NULL;
		} else if (!(eq = memchr(p, '=', n))) {
			free(parent);
			return parse_error(err, path, lineno, (int)ind + 1,
			                   "expected 'key = value', '[section]' or a comment");
		} else if (!cur) {
			free(parent);
			return parse_error(err, path, lineno, (int)ind + 1,
			                   "'key = value' before any [section]");
		} else {
			char *key = trim_dup(p + ind, (size_t)(eq - p - ind));
			char *value = trim_dup(eq + 1, (size_t)(p + n - eq - 1));
			struct ini_entry *e;

			if (!*key) {
				free(key);
				free(value);
				free(parent);
				return parse_error(err, path, lineno, (int)ind + 1, "empty key");
			}
			lower(key);
			if (ind > 0 && parent) {
				char *full = xasprintf("%s.%s", parent, key);

				free(key);
				key = full;
			} else {
				free(parent);
				parent = *value ? NULL : xstrdup(key);
			}
			/* A later duplicate replaces the earlier value (configparser errors; the
			 * CLI's own parser keeps the last). */
			e = NULL;
			for (size_t i = 0; i < cur->n; i++)
				if (!strcmp(cur->entries[i].key, key))
					e = &cur->entries[i];
			if (e) {
				free(e->value);
				free(key);
				e->value = value;
				e->line = lineno;
			} else {
				cur->entries = xrealloc(cur->entries, (cur->n + 1) * sizeof(*e));
				cur->entries[cur->n++] =
				    (struct ini_entry){.key = key, .value = value, .line = lineno};
			}
		}
		p = nl ? nl + 1 : end;
	}
	free(parent);
	return 0;
}

int ini_load(const char *path, struct ini_file *out, struct lk_error *err)
{
	struct buf b = {0};
	struct lk_error rerr = {0};
	int rc;

	memset(out, 0, sizeof(*out));
	if (!path || !util_is_file(path)) {
		out->path = xstrdup(path ? path : "");
		return 0;
	}
	if (util_read_file(path, &b, &rerr) != 0) {
		out->path = xstrdup(path);
		lk_error_set(err, "ParseError", "%s", rerr.message);
		return -1;
	}
	rc = ini_parse(b.data ? b.data : "", b.len, path, out, err);
	buf_free(&b);
	return rc;
}

void ini_free(struct ini_file *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++) {
		for (size_t j = 0; j < f->sections[i].n; j++) {
			free(f->sections[i].entries[j].key);
			free(f->sections[i].entries[j].value);
		}
		free(f->sections[i].entries);
		free(f->sections[i].name);
	}
	free(f->sections);
	free(f->path);
	memset(f, 0, sizeof(*f));
}

const struct ini_section *ini_section(const struct ini_file *f, const char *name)
{
	const struct ini_section *found = NULL;

	for (size_t i = 0; f && i < f->n; i++)
		if (!strcmp(f->sections[i].name, name))
			found = &f->sections[i];
	return found;
}

const char *ini_get(const struct ini_section *s, const char *key)
{
	for (size_t i = 0; s && i < s->n; i++)
		if (!strcmp(s->entries[i].key, key))
			return s->entries[i].value;
	return NULL;
}

/* ---- resolution ---- */

static const char *env_get(const struct awsconfig_input *in, const char *name)
{
	const char *v = in->getenv ? in->getenv(in->getenv_ctx, name) : getenv(name);

	return v && *v ? v : NULL;
}

/* The profile's section in the config file: [profile NAME], or [default] for default. */
static const struct ini_section *config_profile(const struct ini_file *cfg, const char *name)
{
	char *sec = xasprintf("profile %s", name);
	const struct ini_section *s = ini_section(cfg, sec);

	free(sec);
	if (!s && !strcmp(name, "default"))
		s = ini_section(cfg, "default");
	return s;
}

/* A profile value: credentials file first (it overrides), then config file. */
static const char *profile_get(const struct ini_section *cred, const struct ini_section *conf,
                               const char *key, const char **where)
{
	const char *v = ini_get(cred, key);

	if (v) {
		*where = "credentials";
		return v;
	}
	v = ini_get(conf, key);
	*where = v ? "config" : NULL;
	return v;
}

static const char *const service_env[AWSCONFIG_NSERVICES] = {
    "AWS_ENDPOINT_URL_LAMBDA",
    "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS",
    "AWS_ENDPOINT_URL_S3",
    "AWS_ENDPOINT_URL_RESOURCE_GROUPS_TAGGING_API",
};
static const char *const service_key[AWSCONFIG_NSERVICES] = {
    "lambda",
    "cloudwatch_logs",
    "s3",
    "resource_groups_tagging_api",
};
static const char *const service_host[AWSCONFIG_NSERVICES] = {"lambda", "logs", "s3", "tagging"};

static bool truthy(const char *v)
{
	return v && !strcasecmp(v, "true");
}

/* Strips trailing slashes from an endpoint URL. */
static char *endpoint_dup(const char *url)
{
	size_t n = strlen(url);

	while (n > 0 && url[n - 1] == '/')
		n--;
	return xstrndup(url, n);
}

int awsconfig_resolve(const struct awsconfig_input *in, struct awsconfig *out, struct lk_error *err)
{
	struct ini_file cred = {0}, conf = {0};
	const struct ini_section *cs, *ps;
	const char *home = env_get(in, "HOME");
	const char *v, *where;
	bool ignore_endpoints;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	/* Files. */
	if (in->credentials_file)
		out->credentials_file = xstrdup(in->credentials_file);
	else if ((v = env_get(in, "AWS_SHARED_CREDENTIALS_FILE")))
		out->credentials_file = xstrdup(v);
	else
		out->credentials_file = xasprintf("%s/.aws/credentials", home ? home : "");
	if (in->config_file)
		out->config_file = xstrdup(in->config_file);
	else if ((v = env_get(in, "AWS_CONFIG_FILE")))
		out->config_file = xstrdup(v);
	else
		out->config_file = xasprintf("%s/.aws/config", home ? home : "");
	if (ini_load(out->credentials_file, &cred, err) != 0 ||
	    ini_load(out->config_file, &conf, err) != 0)
		goto done;

	/* Profile. */
	if (in->profile && *in->profile) {
		out->profile = xstrdup(in->profile);
		out->profile_source = xstrdup("--profile");
	} else if ((v = env_get(in, "AWS_PROFILE"))) {
		out->profile = xstrdup(v);
		out->profile_source = xstrdup("AWS_PROFILE");
	} else {
		out->profile = xstrdup("default");
		out->profile_source = xstrdup("default");
	}
	cs = ini_section(&cred, out->profile);
	ps = config_profile(&conf, out->profile);
	out->profile_exists = cs || ps;
	if (!out->profile_exists && strcmp(out->profile_source, "default") != 0) {
		lk_error_set(err, "ProfileNotFound",
		             "the config profile (%s) could not be found in %s or %s", out->profile,
		             out->credentials_file, out->config_file);
		goto done;
	}

	/* Region. */
	if (in->region && *in->region) {
		out->region = xstrdup(in->region);
		out->region_source = xstrdup("--region");
	} else if ((v = env_get(in, "AWS_REGION"))) {
		out->region = xstrdup(v);
		out->region_source = xstrdup("AWS_REGION");
	} else if ((v = env_get(in, "AWS_DEFAULT_REGION"))) {
		out->region = xstrdup(v);
		out->region_source = xstrdup("AWS_DEFAULT_REGION");
	} else if ((v = profile_get(cs, ps, "region", &where))) {
		out->region = xstrdup(v);
		out->region_source =
		    xasprintf("profile %s in %s", out->profile,
		              !strcmp(where, "config") ? out->config_file : out->credentials_file);
	}

	/* CA bundle, attempts. */
	if ((v = env_get(in, "AWS_CA_BUNDLE")) || (v = profile_get(cs, ps, "ca_bundle", &where)))
		out->ca_bundle = xstrdup(v);
	if ((v = env_get(in, "AWS_MAX_ATTEMPTS")) ||
	    (v = profile_get(cs, ps, "max_attempts", &where)))
		out->max_attempts = atoi(v) > 0 && atoi(v) <= 20 ? atoi(v) : 0;

	/* Endpoints: --endpoint-url, AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL, the profile's
	 * services section, the profile's endpoint_url, then AWS's own. */
	ignore_endpoints = truthy(env_get(in, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")) ||
	                   truthy(profile_get(cs, ps, "ignore_configured_endpoint_urls", &where));
	for (int s = 0; s < AWSCONFIG_NSERVICES; s++) {
		const char *services = profile_get(cs, ps, "services", &where);

		if (in->endpoint_url && *in->endpoint_url) {
			out->endpoint[s] = endpoint_dup(in->endpoint_url);
			out->endpoint_source[s] = xstrdup("--endpoint-url");
		} else if (!ignore_endpoints && (v = env_get(in, service_env[s]))) {
			out->endpoint[s] = endpoint_dup(v);
			out->endpoint_source[s] = xstrdup(service_env[s]);
		} else if (!ignore_endpoints && (v = env_get(in, "AWS_ENDPOINT_URL"))) {
			out->endpoint[s] = endpoint_dup(v);
			out->endpoint_source[s] = xstrdup("AWS_ENDPOINT_URL");
		} else if (!ignore_endpoints && services) {
			char *sec = xasprintf("services %s", services);
			char *key = xasprintf("%s.endpoint_url", service_key[s]);
			const char *u = ini_get(ini_section(&conf, sec), key);

			if (u) {
				out->endpoint[s] = endpoint_dup(u);
				out->endpoint_source[s] =
				    xasprintf("[services %s] %s in %s", services, service_key[s],
				              out->config_file);
			}
			free(sec);
			free(key);
		}
		if (!out->endpoint[s] && !ignore_endpoints &&
		    (v = profile_get(cs, ps, "endpoint_url", &where))) {
			out->endpoint[s] = endpoint_dup(v);
			out->endpoint_source[s] =
			    xasprintf("profile %s endpoint_url", out->profile);
		}
		if (out->endpoint[s]) {
			out->custom_endpoint[s] = true;
		} else if (out->region) {
			bool cn = !strncmp(out->region, "cn-", 3);

			out->endpoint[s] = xasprintf("https://%s.%s.amazonaws.com%s",
			                             service_host[s], out->region, cn ? ".cn" : "");
			out->endpoint_source[s] = xstrdup("default");
		}
	}
	/* A custom endpoint (the emulator, LocalStack...) does not care about the region, but
	 * SigV4 needs one: use the SDKs' historical default rather than failing. */
	if (!out->region && out->custom_endpoint[AWSCONFIG_LAMBDA]) {
		out->region = xstrdup("us-east-1");
		out->region_source = xstrdup("default for a custom endpoint");
		for (int s = 0; s < AWSCONFIG_NSERVICES; s++)
			if (!out->endpoint[s]) {
				out->endpoint[s] = xasprintf("https://%s.us-east-1.amazonaws.com",
				                             service_host[s]);
				out->endpoint_source[s] = xstrdup("default");
			}
	}

	/* Static credentials: environment (both key id and secret), then the profile. */
	{
		const char *ak = env_get(in, "AWS_ACCESS_KEY_ID");
		const char *sk = env_get(in, "AWS_SECRET_ACCESS_KEY");

		if (ak && sk && !in->credentials_file) {
			out->access_key_id = xstrdup(ak);
			out->secret_access_key = xstrdup(sk);
			out->session_token = xstrdup(env_get(in, "AWS_SESSION_TOKEN"));
			out->credentials_source = xstrdup("environment");
		} else {
			const struct ini_section *from[2] = {cs, ps};
			const char *file[2] = {out->credentials_file, out->config_file};

			for (int i = 0; i < 2 && !out->access_key_id; i++) {
				ak = ini_get(from[i], "aws_access_key_id");
				sk = ini_get(from[i], "aws_secret_access_key");
				if (ak && *ak && sk && *sk) {
					const char *tok = ini_get(from[i], "aws_session_token");

					out->access_key_id = xstrdup(ak);
					out->secret_access_key = xstrdup(sk);
					out->session_token = tok && *tok ? xstrdup(tok) : NULL;
					out->credentials_source = xasprintf(
					    "%s %s [%s]",
					    i == 0 ? "shared credentials file" : "config file",
					    file[i], from[i]->name);
				}
			}
		}
		if ((v = profile_get(cs, ps, "credential_process", &where)) && *v) {
			out->credential_process = xstrdup(v);
			out->credential_process_source = xasprintf(
			    "credential_process (profile %s in %s)", out->profile,
			    !strcmp(where, "config") ? out->config_file : out->credentials_file);
		}
	}
	rc = 0;
done:
	ini_free(&cred);
	ini_free(&conf);
	return rc;
}

void awsconfig_free(struct awsconfig *c)
{
	if (!c)
		return;
	free(c->profile);
	free(c->profile_source);
	free(c->region);
	free(c->region_source);
	for (int s = 0; s < AWSCONFIG_NSERVICES; s++) {
		free(c->endpoint[s]);
		free(c->endpoint_source[s]);
	}
	free(c->ca_bundle);
	free(c->credentials_file);
	free(c->config_file);
	free(c->access_key_id);
	if (c->secret_access_key)
		memset(c->secret_access_key, 0, strlen(c->secret_access_key));
	free(c->secret_access_key);
	free(c->session_token);
	free(c->credentials_source);
	free(c->credential_process);
	free(c->credential_process_source);
	memset(c, 0, sizeof(*c));
}

char **awsconfig_split_command(const char *cmd, struct lk_error *err)
{
	char **argv = NULL;
	size_t argc = 0;
	struct buf cur = {0};
	bool in_word = false;
	const char *p = cmd ? cmd : "";

	while (1) {
		char c = *p;

		if (c == '\0' || isspace((unsigned char)c)) {
			if (in_word) {
				argv = xrealloc(argv, (argc + 2) * sizeof(char *));
				argv[argc++] = buf_steal(&cur);
				argv[argc] = NULL;
				in_word = false;
			}
			if (!c)
				break;
			p++;
			continue;
		}
		in_word = true;
		if (c == '\\') {
			if (p[1]) {
				buf_putc(&cur, p[1]);
				p += 2;
			} else {
				p++;
			}
		} else if (c == '\'') {
			const char *q = strchr(p + 1, '\'');

			if (!q)
				goto unterminated;
			buf_append(&cur, p + 1, (size_t)(q - p - 1));
			if (q == p + 1)
				buf_reserve(&cur, 1);
			p = q + 1;
		} else if (c == '"') {
			p++;
			while (*p && *p != '"') {
				if (*p == '\\' && p[1] && strchr("\\\"$`", p[1])) {
					buf_putc(&cur, p[1]);
					p += 2;
				} else {
					buf_putc(&cur, *p++);
				}
			}
			if (!*p)
				goto unterminated;
			buf_reserve(&cur, 1);
			p++;
		} else {
			buf_putc(&cur, c);
			p++;
		}
	}
	if (!argc) {
		lk_error_set(err, "CredentialProcessError", "credential_process is empty");
		free(argv);
		return NULL;
	}
	return argv;
unterminated:
	buf_free(&cur);
	for (size_t i = 0; i < argc; i++)
		free(argv[i]);
	free(argv);
	lk_error_set(err, "CredentialProcessError", "credential_process has an unterminated quote");
	return NULL;
}

void awsconfig_argv_free(char **argv)
{
	for (size_t i = 0; argv && argv[i]; i++)
		free(argv[i]);
	free(argv);
}

int64_t awsconfig_parse_time(const char *s)
{
	int y, mo, d, h, mi, sec, n = 0;
	struct tm tm = {0};
	int64_t ms = 0, off = 0;
	const char *p;

	if (!s ||
	    sscanf(s, "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 ||
	    n < 19)
		return -1;
	p = s + n;
	if (*p == '.') {
		int digits = 0;

		p++;
		while (isdigit((unsigned char)*p)) {
			if (digits < 3)
				ms = ms * 10 + (*p - '0');
			digits++;
			p++;
		}
		for (; digits < 3; digits++)
			ms *= 10;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		/* exactly "+HH:MM": sscanf's %2d would also take "+1:0" or " 1: 2", and the
		 * 6 bytes skipped below would then run past the end of the string */
		if (!isdigit((unsigned char)p[1]) || !isdigit((unsigned char)p[2]) || p[3] != ':' ||
		    !isdigit((unsigned char)p[4]) || !isdigit((unsigned char)p[5]))
			return -1;
		off = (int64_t)(((p[1] - '0') * 10 + (p[2] - '0')) * 3600 +
		                ((p[4] - '0') * 10 + (p[5] - '0')) * 60) *
		      (*p == '+' ? 1 : -1);
		p += 6;
	} else {
		return -1;
	}
	if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	return ((int64_t)timegm(&tm) - off) * 1000 + ms;
}
