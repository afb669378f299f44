/* services.c - lambdeck.json "services": parsing with file:line:col messages, the
 * ready-made kinds, dependency order and ${...} substitution. See services.h. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "backend/project_internal.h"
#include "backend/services.h"

/* A ready-made kind: what `{"kind": K}` stands for. Strings go through services_expand. */
struct kind {
	const char *name;
	const char *argv[12];
	const char *init_argv[12];
	const char *env[8];     /* "K=V" */
	const char *exports[8]; /* "K=V" */
	enum service_ready ready;
	const char *npm_package;
	const char *package;
};

static const struct kind kinds[] = {
    {"s3",
     {"node", "${runtimes_dir}/services/s3rver.js"},
     {NULL},
     {"LAMBDECK_S3RVER_MODULE=${npm_dir}/s3rver/node_modules/s3rver", "S3RVER_ADDRESS=${host}",
      "S3RVER_PORT=${port}", "S3RVER_DIRECTORY=${data_dir}"},
     {"AWS_ENDPOINT_URL_S3=http://${host}:${port}"},
     SERVICE_READY_HTTP,
     "s3rver",
     NULL},
    {"dynamodb",
     {"node", "${npm_dir}/dynalite/node_modules/dynalite/cli.js", "--host", "${host}", "--port",
      "${port}", "--path", "${data_dir}", "--createTableMs", "0", "--deleteTableMs", "0"},
     {NULL},
     {NULL},
     {"AWS_ENDPOINT_URL_DYNAMODB=http://${host}:${port}"},
     SERVICE_READY_HTTP,
     "dynalite",
     NULL},
    {"redis",
     {"redis-server", "--bind", "${host}", "--port", "${port}", "--dir", "${data_dir}",
      "--appendonly", "yes"},
     {NULL},
     {NULL},
     {"REDIS_URL=redis://${host}:${port}", "REDIS_HOST=${host}", "REDIS_PORT=${port}"},
     SERVICE_READY_TCP,
     NULL,
     "redis-server"},
    {"postgres",
     {"postgres", "-D", "${data_dir}/pgdata", "-h", "${host}", "-p", "${port}", "-k",
      "${data_dir}"},
     {"initdb", "-D", "${data_dir}/pgdata", "-U", "postgres", "--auth=trust"},
     {NULL},
     {"DATABASE_URL=postgresql://postgres@${host}:${port}/postgres", "PGHOST=${host}",
      "PGPORT=${port}", "PGUSER=postgres", "PGDATABASE=postgres"},
     SERVICE_READY_TCP,
     NULL,
     "postgresql"},
};

static const struct kind *kind_find(const char *name)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(kinds[i].name, name))
			return &kinds[i];
	return NULL;
}

static char **strv_dup(const char *const *v)
{
	size_t n = 0;
	char **out;

	while (v[n])
		n++;
	if (!n)
		return NULL;
	out = xcalloc(n + 1, sizeof(*out));
	for (size_t i = 0; i < n; i++)
		out[i] = xstrdup(v[i]);
	return out;
}

static void strv_free(char **v)
{
	if (!v)
		return;
	for (size_t i = 0; v[i]; i++)
		free(v[i]);
	free(v);
}

static void kv_set(struct service_kv **v, size_t *n, const char *name, size_t name_len,
                   const char *value)
{
	for (size_t i = 0; i < *n; i++)
		if (strlen((*v)[i].name) == name_len && !strncmp((*v)[i].name, name, name_len)) {
			free((*v)[i].value);
			(*v)[i].value = xstrdup(value);
			return;
		}
	*v = xrealloc(*v, (*n + 1) * sizeof(**v));
	(*v)[*n].name = xstrndup(name, name_len);
	(*v)[*n].value = xstrdup(value);
	(*n)++;
}

/* "K=V" strings into a kv list. */
static void kv_add_pairs(struct service_kv **v, size_t *n, const char *const *pairs)
{
	for (size_t i = 0; pairs[i]; i++) {
		const char *eq = strchr(pairs[i], '=');

		kv_set(v, n, pairs[i], (size_t)(eq - pairs[i]), eq + 1);
	}
}

static void kv_free(struct service_kv *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].value);
	}
	free(v);
}

static void spec_free(struct service_spec *s)
{
	free(s->name);
	free(s->kind);
	strv_free(s->argv);
	strv_free(s->init_argv);
	free(s->ready_path);
	kv_free(s->env, s->n_env);
	kv_free(s->exports, s->n_exports);
	for (size_t i = 0; i < s->n_depends_on; i++)
		free(s->depends_on[i]);
	free(s->depends_on);
	free(s->npm_package);
	free(s->package);
}

void services_config_free(struct services_config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		spec_free(&c->v[i]);
	free(c->v);
	free(c->file);
	free(c);
}

const struct service_spec *services_config_find(const struct services_config *c, const char *name)
{
	for (size_t i = 0; c && i < c->n; i++)
		if (!strcmp(c->v[i].name, name))
			return &c->v[i];
	return NULL;
}

/* Where a message points: the keys of path found one after the other in text (the
 * first "services", then the service's name after it, then the field after that). */
struct pos_ctx {
	const char *file, *text;
	size_t len;
};

static int fail_at(const struct pos_ctx *pc, struct lk_error *err, const char *const *path,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int fail_at(const struct pos_ctx *pc, struct lk_error *err, const char *const *path,
                   const char *fmt, ...)
{
	const char *at = pc->text, *found = pc->text;
	char msg[400];
	int line, col;
	va_list ap;

	for (size_t i = 0; path[i] && at; i++) {
		char *needle = xasprintf("\"%s\"", path[i]);
		const char *hit = strstr(at, needle);

		free(needle);
		if (!hit)
			break;
		found = hit;
		at = hit + 1;
	}
	project_offset_to_linecol(pc->text, pc->len, (size_t)(found - pc->text), &line, &col);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return lk_error_set(err, "ParseError", "%s:%d:%d: %s", pc->file, line, col, msg);
}

static bool valid_name(const char *s)
{
	if (!*s || strlen(s) > 64)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_')
			return false;
	return true;
}

/* A non-empty command: a string (split on blanks, no shell) or an array of strings. */
static char **argv_of(const cJSON *v, bool *ok)
{
	const char *why = NULL;
	char **out = project_json_argv(v, &why);

	*ok = !why && out && out[0];
	if (!*ok) {
		strv_free(out);
		return NULL;
	}
	return out;
}

/* An object of string (or number/bool) values into kv. */
static bool kv_of(const cJSON *v, struct service_kv **out, size_t *n)
{
	const cJSON *e;

	if (!cJSON_IsObject(v))
		return false;
	cJSON_ArrayForEach(e, v)
	{
		char num[64];

		if (cJSON_IsString(e)) {
			kv_set(out, n, e->string, strlen(e->string), e->valuestring);
		} else if (cJSON_IsNumber(e)) {
			snprintf(num, sizeof(num), "%.17g", e->valuedouble);
			kv_set(out, n, e->string, strlen(e->string), num);
		} else if (cJSON_IsBool(e)) {
			kv_set(out, n, e->string, strlen(e->string),
			       cJSON_IsTrue(e) ? "true" : "false");
		} else {
			return false;
		}
	}
	return true;
}

/* One service's declaration into s. */
static int parse_one(const struct pos_ctx *pc, const cJSON *o, struct service_spec *s,
                     struct lk_error *err)
{
	static const char *const fields[] = {
	    "kind",          "command", "init",   "port",       "ready",
	    "ready_timeout", "env",     "export", "depends_on", NULL};
	const char *name = o->string;
	const cJSON *e, *v;
	const struct kind *k = NULL;
	bool ok;

	s->name = xstrdup(name);
	s->ready = SERVICE_READY_TCP;
	s->ready_timeout_s = 60;
	if (!valid_name(name))
		return fail_at(pc, err, (const char *const[]){"services", name, NULL},
		               "service name '%s': use letters, digits, '-' and '_' (at most 64)",
		               name);
	if (!cJSON_IsObject(o))
		return fail_at(pc, err, (const char *const[]){"services", name, NULL},
		               "service '%s' must be an object", name);
	cJSON_ArrayForEach(e, o)
	{
		size_t i = 0;

		while (fields[i] && strcmp(fields[i], e->string))
			i++;
		if (!fields[i])
			return fail_at(
			    pc, err, (const char *const[]){"services", name, e->string, NULL},
			    "service '%s': unknown field '%s' (known: kind, command, init, "
			    "port, ready, ready_timeout, env, export, depends_on)",
			    name, e->string);
	}
	v = cJSON_GetObjectItemCaseSensitive(o, "kind");
	if (v) {
		if (!cJSON_IsString(v) || !(k = kind_find(v->valuestring)))
			return fail_at(pc, err,
			               (const char *const[]){"services", name, "kind", NULL},
			               "service '%s': kind must be one of s3, dynamodb, redis, "
			               "postgres",
			               name);
		s->kind = xstrdup(k->name);
		s->argv = strv_dup(k->argv);
		s->init_argv = strv_dup(k->init_argv);
		kv_add_pairs(&s->env, &s->n_env, k->env);
		kv_add_pairs(&s->exports, &s->n_exports, k->exports);
		s->ready = k->ready;
		s->npm_package = xstrdup(k->npm_package);
		s->package = xstrdup(k->package);
	}
	v = cJSON_GetObjectItemCaseSensitive(o, "command");
	if (v) {
		char **argv = argv_of(v, &ok);

		if (!ok)
			return fail_at(
			    pc, err, (const char *const[]){"services", name, "command", NULL},
			    "service '%s': command must be a non-empty string or array of "
			    "strings",
			    name);
		strv_free(s->argv);
		s->argv = argv;
		/* the command is the user's: a kind's npm package is not what it runs */
		free(s->npm_package);
		s->npm_package = NULL;
	} else if (!k) {
		return fail_at(pc, err, (const char *const[]){"services", name, NULL},
		               "service '%s' needs a \"command\" (argv) or a \"kind\"", name);
	}
	v = cJSON_GetObjectItemCaseSensitive(o, "init");
	if (v) {
		char **argv = argv_of(v, &ok);

		if (!ok)
			return fail_at(pc, err,
			               (const char *const[]){"services", name, "init", NULL},
			               "service '%s': init must be a non-empty string or array of "
			               "strings",
			               name);
		strv_free(s->init_argv);
		s->init_argv = argv;
	}
	v = cJSON_GetObjectItemCaseSensitive(o, "port");
	if (v) {
		if (!cJSON_IsNumber(v) || v->valuedouble != (double)(int)v->valuedouble ||
		    v->valueint < 0 || v->valueint > 65535)
			return fail_at(
			    pc, err, (const char *const[]){"services", name, "port", NULL},
			    "service '%s': port must be a number 0..65535 (0: any free port)",
			    name);
		s->port = v->valueint;
	}
	v = cJSON_GetObjectItemCaseSensitive(o, "ready");
	if (v) {
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(v, "tcp");
		const cJSON *h = cJSON_GetObjectItemCaseSensitive(v, "http");

		if (cJSON_IsString(v) && !strcmp(v->valuestring, "tcp")) {
			s->ready = SERVICE_READY_TCP;
		} else if (cJSON_IsString(v) && !strcmp(v->valuestring, "http")) {
			s->ready = SERVICE_READY_HTTP;
		} else if (cJSON_IsObject(v) && cJSON_GetArraySize(v) == 1 && t &&
		           cJSON_IsTrue(t)) {
			s->ready = SERVICE_READY_TCP;
		} else if (cJSON_IsObject(v) && cJSON_GetArraySize(v) == 1 && h &&
		           cJSON_IsString(h) && h->valuestring[0] == '/') {
			s->ready = SERVICE_READY_HTTP;
			s->ready_path = xstrdup(h->valuestring);
		} else {
			return fail_at(
			    pc, err, (const char *const[]){"services", name, "ready", NULL},
			    "service '%s': ready must be \"tcp\", \"http\", {\"tcp\": true} "
			    "or {\"http\": \"/path\"}",
			    name);
		}
	}
	v = cJSON_GetObjectItemCaseSensitive(o, "ready_timeout");
	if (v) {
		if (!cJSON_IsNumber(v) || v->valuedouble < 1 || v->valuedouble > 3600)
			return fail_at(
			    pc, err, (const char *const[]){"services", name, "ready_timeout", NULL},
			    "service '%s': ready_timeout must be 1..3600 seconds", name);
		s->ready_timeout_s = (int)v->valuedouble;
	}
	v = cJSON_GetObjectItemCaseSensitive(o, "env");
	if (v && !kv_of(v, &s->env, &s->n_env))
		return fail_at(pc, err, (const char *const[]){"services", name, "env", NULL},
		               "service '%s': env must be an object of strings", name);
	v = cJSON_GetObjectItemCaseSensitive(o, "export");
	if (v && !kv_of(v, &s->exports, &s->n_exports))
		return fail_at(pc, err, (const char *const[]){"services", name, "export", NULL},
		               "service '%s': export must be an object of strings", name);
	v = cJSON_GetObjectItemCaseSensitive(o, "depends_on");
	if (v) {
		char **deps = argv_of(v, &ok);

		if (!ok)
			return fail_at(
			    pc, err, (const char *const[]){"services", name, "depends_on", NULL},
			    "service '%s': depends_on must be a name or an array of names", name);
		for (size_t i = 0; deps[i]; i++) {
			s->depends_on = xrealloc(s->depends_on, (i + 1) * sizeof(*s->depends_on));
			s->depends_on[i] = deps[i];
			s->n_depends_on = i + 1;
		}
		free(deps);
	}
	if (!s->ready_path)
		s->ready_path = xstrdup("/");
	return 0;
}

/* Orders c->v so that every service comes after what it depends on. */
static int order(const struct pos_ctx *pc, struct services_config *c, struct lk_error *err)
{
	struct service_spec *sorted = xcalloc(c->n ? c->n : 1, sizeof(*sorted));
	bool *placed = xcalloc(c->n ? c->n : 1, sizeof(*placed));
	size_t done = 0;

	for (size_t i = 0; i < c->n; i++)
		for (size_t d = 0; d < c->v[i].n_depends_on; d++)
			if (!services_config_find(c, c->v[i].depends_on[d])) {
				fail_at(pc, err,
				        (const char *const[]){"services", c->v[i].name,
				                              "depends_on", c->v[i].depends_on[d],
				                              NULL},
				        "service '%s' depends on '%s', which is not declared",
				        c->v[i].name, c->v[i].depends_on[d]);
				goto fail;
			}
	while (done < c->n) {
		bool progress = false;

		for (size_t i = 0; i < c->n; i++) {
			bool ready = !placed[i];

			for (size_t d = 0; ready && d < c->v[i].n_depends_on; d++) {
				bool found = false;

				for (size_t j = 0; j < done; j++)
					if (!strcmp(sorted[j].name, c->v[i].depends_on[d]))
						found = true;
				ready = found;
			}
			if (ready) {
				sorted[done++] = c->v[i];
				placed[i] = true;
				progress = true;
			}
		}
		if (!progress) {
			for (size_t i = 0; i < c->n; i++)
				if (!placed[i]) {
					fail_at(pc, err,
					        (const char *const[]){"services", c->v[i].name,
					                              "depends_on", NULL},
					        "service '%s': depends_on forms a cycle",
					        c->v[i].name);
					break;
				}
			goto fail;
		}
	}
	free(c->v);
	c->v = sorted;
	free(placed);
	return 0;
fail:
	free(sorted);
	free(placed);
	return -1;
}

int services_config_parse(const char *file, const char *text, size_t len,
                          struct services_config **out, struct lk_error *err)
{
	struct services_config *c = xcalloc(1, sizeof(*c));
	struct pos_ctx pc = {.file = file, .text = text ? text : "", .len = len};
	cJSON *root = cJSON_ParseWithLength(pc.text, len);
	const cJSON *svc, *e;

	*out = c;
	c->file = xstrdup(file);
	if (!root) {
		const char *at = cJSON_GetErrorPtr();
		int line, col;
		size_t off =
		    at && at >= pc.text && at <= pc.text + len ? (size_t)(at - pc.text) : 0;

		project_offset_to_linecol(pc.text, len, off, &line, &col);
		return lk_error_set(err, "ParseError", "%s:%d:%d: invalid JSON", file, line, col);
	}
	svc = cJSON_GetObjectItemCaseSensitive(root, "services");
	if (svc && !cJSON_IsObject(svc)) {
		fail_at(&pc, err, (const char *const[]){"services", NULL},
		        "\"services\" must be an object of NAME: {...}");
		goto fail;
	}
	cJSON_ArrayForEach(e, svc)
	{
		c->v = xrealloc(c->v, (c->n + 1) * sizeof(*c->v));
		memset(&c->v[c->n], 0, sizeof(c->v[c->n]));
		c->n++;
		if (parse_one(&pc, e, &c->v[c->n - 1], err) < 0)
			goto fail;
	}
	if (order(&pc, c, err) < 0)
		goto fail;
	cJSON_Delete(root);
	return 0;
fail:
	cJSON_Delete(root);
	for (size_t i = 0; i < c->n; i++)
		spec_free(&c->v[i]);
	free(c->v);
	c->v = NULL;
	c->n = 0;
	return -1;
}

int services_config_load(const char *project_dir, struct services_config **out,
                         struct lk_error *err)
{
	char *file = util_path_join(project_dir, "lambdeck.json");
	struct buf b = {0};
	int rc;

	if (!util_is_file(file)) {
		*out = xcalloc(1, sizeof(**out));
		free(file);
		return 0;
	}
	if (util_read_file(file, &b, err) < 0) {
		*out = xcalloc(1, sizeof(**out));
		free(file);
		return -1;
	}
	rc = services_config_parse(file, b.data, b.len, out, err);
	buf_free(&b);
	free(file);
	return rc;
}

char *services_expand(const char *s, const struct service_vars *v)
{
	struct buf b = {0};

	while (*s) {
		const char *end;

		if (s[0] != '$' || s[1] != '{' || !(end = strchr(s + 2, '}'))) {
			buf_putc(&b, *s++);
			continue;
		}
		{
			size_t n = (size_t)(end - s - 2);
			const char *name = s + 2;
			char num[16];
			const char *val = NULL;

#define IS(k) (n == strlen(k) && !strncmp(name, k, n))
			if (IS("name"))
				val = v->name;
			else if (IS("host"))
				val = v->host;
			else if (IS("port"))
				snprintf(num, sizeof(num), "%d", v->port), val = num;
			else if (IS("data_dir"))
				val = v->data_dir;
			else if (IS("npm_dir"))
				val = v->npm_dir;
			else if (IS("runtimes_dir"))
				val = v->runtimes_dir;
#undef IS
			if (val) {
				buf_puts(&b, val);
			} else {
				buf_append(&b, s, (size_t)(end - s) + 1);
			}
			s = end + 1;
		}
	}
	return buf_steal(&b);
}

char *services_expand_refs(const char *s, services_lookup_fn lookup, void *ctx)
{
	static const char pfx[] = "${services.";
	struct buf b = {0};

	while (*s) {
		const char *end, *dot;
		char *name, *key, *val = NULL;

		if (strncmp(s, pfx, sizeof(pfx) - 1) || !(end = strchr(s, '}'))) {
			buf_putc(&b, *s++);
			continue;
		}
		name = xstrndup(s + sizeof(pfx) - 1, (size_t)(end - s) - (sizeof(pfx) - 1));
		dot = strchr(name, '.');
		if (dot) {
			key = xstrdup(dot + 1);
			name[dot - name] = 0;
			val = lookup(ctx, name, key);
			free(key);
		}
		free(name);
		if (val)
			buf_puts(&b, val);
		else
			buf_append(&b, s, (size_t)(end - s) + 1);
		free(val);
		s = end + 1;
	}
	return buf_steal(&b);
}

char *services_npm_dir(void)
{
	const char *x = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");

	if (x && *x == '/')
		return xasprintf("%s/lambdeck/npm", x);
	return xasprintf("%s/.cache/lambdeck/npm", home && *home ? home : "/tmp");
}
