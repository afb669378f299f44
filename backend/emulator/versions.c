/* versions.c - published versions and aliases of a function, and the per-function extras
 * kept beside them (tags, reserved concurrency, resource policy, the version counter).
 * A version is a struct function of its own: a copy of $LATEST's configuration with a
 * reference to the code directory it had, so it keeps running that code after $LATEST
 * changes. On disk: <functions>/<name>/versions/<n>/{config.json,code.zip,code/} and
 * <functions>/<name>/extra.json (aliases, tags, concurrency, policy, last version). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/emulator/emu_internal.h"
#include "backend/emulator/emu_parse.h"

struct fn_alias {
	char *name;
	char *version;
	char *description;
	char revision_id[40];
	cJSON *routing; /* {"AdditionalVersionWeights": {...}} or NULL */
	struct fn_alias *next;
};

struct fn_extra {
	long last_version;
	struct fn_alias *aliases; /* sorted by name */
	cJSON *tags;              /* object name -> value, never NULL */
	int reserved;             /* -1: none */
	cJSON *policy;            /* array of statements, never NULL */
};

const char *function_version(const struct function *f)
{
	return f->version ? f->version : "$LATEST";
}

char *function_arn_q(const struct emulator *emu, const char *name, const char *qualifier)
{
	char *arn = function_arn(emu, name), *q;

	if (!qualifier)
		return arn;
	q = xasprintf("%s:%s", arn, qualifier);
	free(arn);
	return q;
}

static struct function *latest(const struct function *f)
{
	return f->version ? f->base : (struct function *)f;
}

static struct fn_extra *extra_of(struct function *f)
{
	if (!f->extra) {
		f->extra = xcalloc(1, sizeof(*f->extra));
		f->extra->tags = cJSON_CreateObject();
		f->extra->policy = cJSON_CreateArray();
		f->extra->reserved = -1;
	}
	return f->extra;
}

static void alias_free(struct fn_alias *a)
{
	if (!a)
		return;
	free(a->name);
	free(a->version);
	free(a->description);
	cJSON_Delete(a->routing);
	free(a);
}

void versions_release(struct function *f)
{
	struct fn_extra *x = f->extra;

	if (f->version) {
		free(f->version);
		return;
	}
	while (f->versions) {
		struct function *v = f->versions;

		f->versions = v->next;
		v->next = NULL;
		v->base = NULL;
		/* $LATEST is going (shutdown, or deleted with its directory): an older code copy a
		 * version kept is swept at the next start, not removed now */
		if (v->code)
			v->code->obsolete = false;
		function_unref(v);
	}
	if (!x)
		return;
	f->extra = NULL;
	while (x->aliases) {
		struct fn_alias *a = x->aliases;

		x->aliases = a->next;
		alias_free(a);
	}
	cJSON_Delete(x->tags);
	cJSON_Delete(x->policy);
	free(x);
}

/* ---- persistence ---- */

static cJSON *alias_json(const struct emulator *emu, const struct function *f,
                         const struct fn_alias *a)
{
	cJSON *j = cJSON_CreateObject();
	char *arn = function_arn_q(emu, f->name, a->name);

	cJSON_AddStringToObject(j, "AliasArn", arn);
	cJSON_AddStringToObject(j, "Name", a->name);
	cJSON_AddStringToObject(j, "FunctionVersion", a->version);
	cJSON_AddStringToObject(j, "Description", a->description ? a->description : "");
	if (a->routing)
		cJSON_AddItemToObject(j, "RoutingConfig", cJSON_Duplicate(a->routing, 1));
	cJSON_AddStringToObject(j, "RevisionId", a->revision_id);
	free(arn);
	return j;
}

cJSON *versions_tags(struct function *f)
{
	return extra_of(latest(f))->tags;
}

cJSON *versions_policy(struct function *f)
{
	return extra_of(latest(f))->policy;
}

void versions_set_reserved(struct function *f, int n)
{
	extra_of(latest(f))->reserved = n;
}

/* Writes extra.json of $LATEST f atomically. */
static int save_extra(const struct emulator *emu, struct function *f, struct lk_error *err)
{
	struct fn_extra *x = extra_of(f);
	cJSON *j = cJSON_CreateObject(), *arr;
	char *dir = function_dir_path(emu, f->name), *path = util_path_join(dir, "extra.json"), *s;
	int rc;

	cJSON_AddNumberToObject(j, "LastVersion", (double)x->last_version);
	cJSON_AddNumberToObject(j, "ReservedConcurrentExecutions", x->reserved);
	cJSON_AddItemToObject(j, "Tags", cJSON_Duplicate(x->tags, 1));
	cJSON_AddItemToObject(j, "Policy", cJSON_Duplicate(x->policy, 1));
	arr = cJSON_AddArrayToObject(j, "Aliases");
	for (struct fn_alias *a = x->aliases; a; a = a->next)
		cJSON_AddItemToArray(arr, alias_json(emu, f, a));
	s = cJSON_Print(j);
	rc = util_write_atomic(path, s, strlen(s), 0600, err);
	if (rc < 0)
		emu_set_error(err, 500, "ServiceException", "cannot store %s's settings", f->name);
	cJSON_free(s);
	cJSON_Delete(j);
	free(path);
	free(dir);
	return rc;
}

static char *version_dir(const struct emulator *emu, const char *name, const char *version)
{
	char *dir = function_dir_path(emu, name), *vdir = xasprintf("%s/versions/%s", dir, version);

	free(dir);
	return vdir;
}

static void insert_version(struct function *f, struct function *v)
{
	struct function **pp = &f->versions;

	while (*pp && atol((*pp)->version) < atol(v->version))
		pp = &(*pp)->next;
	v->next = *pp;
	*pp = v;
	v->base = f;
}

/* Loads versions/<n>/ of f: config.json, code/ (unpacked again from code.zip if missing). */
static void load_version(struct emulator *emu, struct function *f, const char *n)
{
	char *vdir = version_dir(emu, f->name, n), *cfg = util_path_join(vdir, "config.json");
	char *code = util_path_join(vdir, "code"), *zpath = util_path_join(vdir, "code.zip");
	struct buf b = {0}, z = {0};
	struct lk_error err = {0};
	cJSON *j = NULL;
	const cJSON *src;
	struct function *v = NULL;

	if (access(cfg, F_OK) != 0 && errno == ENOENT) {
		emu_rm_rf(vdir); /* a deleted version whose code was still being removed */
		goto out;
	}
	if (util_read_file(cfg, &b, &err) < 0 ||
	    !(j = cJSON_ParseWithLength(b.data ? b.data : "", b.len)) ||
	    !(v = function_from_json(j, &err))) {
		emu_log(emu, "skipping version %s of %s: %s", n, f->name,
		        err.message[0] ? err.message : "not a function configuration");
		goto out;
	}
	if (!util_is_dir(code) &&
	    (util_read_file(zpath, &z, &err) < 0 || emu_unzip(z.data, z.len, code, &err) < 0)) {
		emu_log(emu, "skipping version %s of %s: %s", n, f->name, err.message);
		emu_rm_rf(code);
		goto out;
	}
	free(v->name);
	v->name = xstrdup(f->name);
	v->version = xstrdup(n);
	if (cJSON_IsString(src = cJSON_GetObjectItemCaseSensitive(j, "LambdeckSourceRevision")))
		snprintf(v->source_revision, sizeof(v->source_revision), "%s", src->valuestring);
	v->code = codedir_new(emu, code);
	insert_version(f, v);
	v = NULL;
out:
	if (v)
		function_unref(v);
	cJSON_Delete(j);
	buf_free(&b);
	buf_free(&z);
	free(cfg);
	free(code);
	free(zpath);
	free(vdir);
}

void versions_load(struct emulator *emu, struct function *f)
{
	char *dir = function_dir_path(emu, f->name), *vroot = util_path_join(dir, "versions");
	char *path = util_path_join(dir, "extra.json");
	struct buf b = {0};
	struct lk_error err = {0};
	DIR *d = opendir(vroot);
	struct dirent *de;
	struct fn_extra *x = extra_of(f);

	while (d && (de = readdir(d)))
		if (de->d_name[0] >= '1' && de->d_name[0] <= '9' &&
		    strspn(de->d_name, "0123456789") == strlen(de->d_name))
			load_version(emu, f, de->d_name);
	if (d)
		closedir(d);
	if (util_read_file(path, &b, &err) == 0) {
		cJSON *j = cJSON_ParseWithLength(b.data ? b.data : "", b.len), *a;
		const cJSON *v;

		if ((v = cJSON_GetObjectItemCaseSensitive(j, "LastVersion")) && cJSON_IsNumber(v))
			x->last_version = (long)util_double_to_int64(v->valuedouble);
		if ((v = cJSON_GetObjectItemCaseSensitive(j, "ReservedConcurrentExecutions")) &&
		    cJSON_IsNumber(v))
			x->reserved = v->valueint;
		if (cJSON_IsObject(v = cJSON_GetObjectItemCaseSensitive(j, "Tags"))) {
			cJSON_Delete(x->tags);
			x->tags = cJSON_Duplicate(v, 1);
		}
		if (cJSON_IsArray(v = cJSON_GetObjectItemCaseSensitive(j, "Policy"))) {
			cJSON_Delete(x->policy);
			x->policy = cJSON_Duplicate(v, 1);
		}
		cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(j, "Aliases"))
		{
			const cJSON *n = cJSON_GetObjectItemCaseSensitive(a, "Name");
			const cJSON *fv = cJSON_GetObjectItemCaseSensitive(a, "FunctionVersion");
			const cJSON *ds = cJSON_GetObjectItemCaseSensitive(a, "Description");
			const cJSON *rid = cJSON_GetObjectItemCaseSensitive(a, "RevisionId");
			const cJSON *rc = cJSON_GetObjectItemCaseSensitive(a, "RoutingConfig");
			struct fn_alias *al, **pp = &x->aliases;

			if (!cJSON_IsString(n) || !cJSON_IsString(fv))
				continue;
			al = xcalloc(1, sizeof(*al));
			al->name = xstrdup(n->valuestring);
			al->version = xstrdup(fv->valuestring);
			al->description = xstrdup(cJSON_IsString(ds) ? ds->valuestring : "");
			snprintf(al->revision_id, sizeof(al->revision_id), "%s",
			         cJSON_IsString(rid) ? rid->valuestring : "");
			al->routing = cJSON_IsObject(rc) ? cJSON_Duplicate(rc, 1) : NULL;
			while (*pp)
				pp = &(*pp)->next;
			*pp = al;
		}
		cJSON_Delete(j);
	}
	for (struct function *v = f->versions; v; v = v->next)
		if (atol(v->version) > x->last_version)
			x->last_version = atol(v->version);
	buf_free(&b);
	free(path);
	free(vroot);
	free(dir);
}

/* ---- versions ---- */

static struct function *find_version(struct function *f, const char *n)
{
	for (struct function *v = f->versions; v; v = v->next)
		if (!strcmp(v->version, n))
			return v;
	return NULL;
}

static struct fn_alias *find_alias(struct function *f, const char *name)
{
	for (struct fn_alias *a = extra_of(f)->aliases; a; a = a->next)
		if (!strcmp(a->name, name))
			return a;
	return NULL;
}

static void stamp_new(struct function *v)
{
	char rid[37];

	emu_iso_time(v->last_modified, sizeof(v->last_modified), util_now_ms(), true);
	emu_uuid(rid);
	snprintf(v->revision_id, sizeof(v->revision_id), "%s", rid);
}

struct function *versions_publish(struct emulator *emu, struct function *f, const cJSON *req,
                                  struct lk_error *err)
{
	const cJSON *sha = cJSON_GetObjectItemCaseSensitive(req, "CodeSha256");
	const cJSON *rid = cJSON_GetObjectItemCaseSensitive(req, "RevisionId");
	const cJSON *desc = cJSON_GetObjectItemCaseSensitive(req, "Description");
	struct fn_extra *x = extra_of(f);
	struct function *v, *newest = f->versions;
	char num[24], *vdir, *path, *s, *zsrc, *zdst, *fdir;
	cJSON *cfg;

	if (f->code_busy || !f->code) {
		functions_busy_error(emu, f, err);
		return NULL;
	}
	if (cJSON_IsString(sha) && strcmp(sha->valuestring, f->code_sha256)) {
		emu_set_error(
		    err, 400, "InvalidParameterValueException",
		    "CodeSHA256 (%.64s) is different from current CodeSHA256 in $LATEST (%s). "
		    "Please try again.",
		    sha->valuestring, f->code_sha256);
		return NULL;
	}
	if (cJSON_IsString(rid) && strcmp(rid->valuestring, f->revision_id)) {
		emu_set_error(
		    err, 412, "PreconditionFailedException",
		    "The Revision Id provided does not match the latest Revision Id. Call the "
		    "GetFunction/GetAlias API to retrieve the latest Revision Id");
		return NULL;
	}
	while (newest && newest->next)
		newest = newest->next;
	/* AWS publishes nothing new when neither code nor configuration changed since */
	if (newest && !strcmp(newest->source_revision, f->revision_id))
		return newest;
	snprintf(num, sizeof(num), "%ld", x->last_version + 1);
	cfg = function_config_json(emu, f);
	v = function_from_json(cfg, err);
	cJSON_Delete(cfg);
	if (!v)
		return NULL;
	free(v->name);
	v->name = xstrdup(f->name);
	v->version = xstrdup(num);
	snprintf(v->code_sha256, sizeof(v->code_sha256), "%s", f->code_sha256);
	v->code_size = f->code_size;
	cJSON_Delete(v->settings);
	v->settings = cJSON_Duplicate(f->settings, 1);
	if (cJSON_IsString(desc)) {
		free(v->description);
		v->description = xstrdup(desc->valuestring);
	}
	stamp_new(v);
	snprintf(v->source_revision, sizeof(v->source_revision), "%s", f->revision_id);
	v->code = f->code;
	codedir_ref(v->code);
	/* on disk: the configuration and a link to the zip (code.zip is replaced by rename, so
	 * the link keeps this version's bytes); the code dir is unpacked again on the next start */
	vdir = version_dir(emu, f->name, num);
	fdir = function_dir_path(emu, f->name);
	zsrc = util_path_join(fdir, "code.zip");
	zdst = util_path_join(vdir, "code.zip");
	path = util_path_join(vdir, "config.json");
	cfg = function_config_json(emu, v);
	cJSON_AddStringToObject(cfg, "LambdeckSourceRevision", v->source_revision);
	s = cJSON_Print(cfg);
	if (util_mkdir_p(vdir, 0700, err) < 0 || (link(zsrc, zdst) < 0 && errno != EEXIST) ||
	    util_write_atomic(path, s, strlen(s), 0600, err) < 0) {
		emu_set_error(err, 500, "ServiceException", "cannot store version %s of %s", num,
		              f->name);
		emu_rm_rf(vdir);
		function_unref(v);
		v = NULL;
	}
	cJSON_free(s);
	cJSON_Delete(cfg);
	free(path), free(zsrc), free(zdst), free(fdir), free(vdir);
	if (!v)
		return NULL;
	x->last_version++;
	insert_version(f, v);
	if (save_extra(emu, f, err) < 0)
		return NULL;
	emu_log(emu, "published version %s of %s", num, f->name);
	return v;
}

/* Picks the version an alias runs: its own, or the additional one by weight. */
static const char *route_alias(const struct fn_alias *a)
{
	const cJSON *w = cJSON_GetObjectItemCaseSensitive(a->routing, "AdditionalVersionWeights");
	const cJSON *e;
	double r = (double)(util_monotonic_ns() % 1000000) / 1000000.0;

	cJSON_ArrayForEach(e, w)
	{
		if (r < e->valuedouble)
			return e->string;
		r -= e->valuedouble;
	}
	return a->version;
}

struct function *versions_resolve(struct emulator *emu, struct function *f, const char *qual,
                                  bool route, struct lk_error *err)
{
	struct function *v;
	struct fn_alias *a;
	const char *n = qual;
	char *arn;

	if (!qual || !strcmp(qual, "$LATEST"))
		return f;
	if ((a = find_alias(f, qual)))
		n = route && a->routing ? route_alias(a) : a->version;
	if (!strcmp(n, "$LATEST"))
		return f;
	if ((v = find_version(f, n)))
		return v;
	arn = function_arn_q(emu, f->name, qual);
	emu_set_error(err, 404, "ResourceNotFoundException", "Function not found: %s", arn);
	free(arn);
	return NULL;
}

static void drop_version(struct emulator *emu, struct function *f, struct function *v)
{
	char *vdir = version_dir(emu, f->name, v->version);

	for (struct function **pp = &f->versions; *pp; pp = &(*pp)->next)
		if (*pp == v) {
			*pp = v->next;
			break;
		}
	v->next = NULL;
	v->base = NULL;
	v->deleted = true;
	v->generation++;
	workers_drain(emu, v);
	/* the unpacked copy goes off the loop once no worker uses it; the rest at once (a dir
	 * left without config.json is swept at the next start) */
	if (v->code && !strncmp(v->code->path, vdir, strlen(vdir)))
		v->code->obsolete = true;
	for (const char *const *n = (const char *const[]){"config.json", "code.zip", NULL}; *n;
	     n++) {
		char *p = util_path_join(vdir, *n);

		unlink(p);
		free(p);
	}
	rmdir(vdir);
	free(vdir);
	function_unref(v);
}

void versions_delete_all(struct emulator *emu, struct function *f)
{
	while (f->versions) {
		struct function *v = f->versions;

		f->versions = v->next;
		v->next = NULL;
		v->base = NULL;
		v->deleted = true;
		v->generation++;
		workers_drain(emu, v);
		function_unref(v);
	}
}

int versions_delete(struct emulator *emu, struct function *f, const char *version,
                    struct lk_error *err)
{
	struct function *v = find_version(f, version);
	struct buf users = {0};

	if (!v) {
		char *arn = function_arn_q(emu, f->name, version);

		emu_set_error(err, 404, "ResourceNotFoundException", "Function not found: %s", arn);
		free(arn);
		return -1;
	}
	for (struct fn_alias *a = extra_of(f)->aliases; a; a = a->next) {
		bool uses =
		    !strcmp(a->version, version) ||
		    cJSON_GetObjectItemCaseSensitive(
		        cJSON_GetObjectItemCaseSensitive(a->routing, "AdditionalVersionWeights"),
		        version);

		if (uses)
			buf_printf(&users, "%s%s", users.len ? ", " : "", a->name);
	}
	if (users.len) {
		emu_set_error(
		    err, 409, "ResourceConflictException",
		    "Unable to delete version because the following aliases reference it: [%s]",
		    users.data);
		buf_free(&users);
		return -1;
	}
	drop_version(emu, f, v);
	emu_log(emu, "deleted version %s of %s", version, f->name);
	return 0;
}

int versions_reserved(const struct function *f)
{
	const struct function *l = latest(f);

	return l && l->extra ? l->extra->reserved : -1;
}

int versions_alive(const struct function *f)
{
	const struct function *l = latest(f);
	int n;

	if (!l)
		return workers_alive(f);
	n = workers_alive(l);
	for (const struct function *v = l->versions; v; v = v->next)
		n += workers_alive(v);
	return n;
}

/* ---- the API ---- */

/* AWS's alias name rule: (?!^[0-9]+$)([a-zA-Z0-9-_]+), 1-128 characters. */
static bool valid_alias_name(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= 128 && strspn(s, "0123456789") != n &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") == n;
}

/* Checks FunctionVersion and RoutingConfig of an alias against f's versions. */
static int check_alias_target(struct emulator *emu, struct function *f, const char *version,
                              const cJSON *routing, struct lk_error *err)
{
	const cJSON *w = cJSON_GetObjectItemCaseSensitive(routing, "AdditionalVersionWeights");
	const cJSON *e;

	if (strcmp(version, "$LATEST") && !find_version(f, version)) {
		char *arn = function_arn_q(emu, f->name, version);

		emu_set_error(err, 404, "ResourceNotFoundException", "Function not found: %s", arn);
		free(arn);
		return -1;
	}
	if (!routing || cJSON_IsNull(routing) || !w || cJSON_GetArraySize(w) == 0)
		return 0;
	if (!cJSON_IsObject(w) || cJSON_GetArraySize(w) > 1)
		return emu_set_error(
		    err, 400, "InvalidParameterValueException",
		    "Number of items in AdditionalVersionWeights must be less than or equal "
		    "to 1");
	if (!strcmp(version, "$LATEST"))
		return emu_set_error(
		    err, 400, "InvalidParameterValueException",
		    "$LATEST is not supported for an alias pointing to more than 1 version");
	cJSON_ArrayForEach(e, w)
	{
		if (!cJSON_IsNumber(e) || e->valuedouble < 0 || e->valuedouble > 1)
			return emu_set_error(
			    err, 400, "ValidationException",
			    "1 validation error detected: Value at "
			    "'routingConfig.additionalVersionWeights' failed to satisfy "
			    "constraint: Map value must satisfy constraint: [Member must have "
			    "value less than or equal to 1.0, Member must have value greater "
			    "than or equal to 0.0]");
		if (!strcmp(e->string, version))
			return emu_set_error(
			    err, 400, "InvalidParameterValueException",
			    "Invalid function version %s. Function version %s is already "
			    "included in routing configuration.",
			    version, version);
		if (!find_version(f, e->string)) {
			char *arn = function_arn_q(emu, f->name, e->string);

			emu_set_error(err, 404, "ResourceNotFoundException",
			              "Function not found: %s", arn);
			free(arn);
			return -1;
		}
	}
	return 0;
}

static void set_routing(struct fn_alias *a, const cJSON *routing)
{
	const cJSON *w = cJSON_GetObjectItemCaseSensitive(routing, "AdditionalVersionWeights");

	cJSON_Delete(a->routing);
	a->routing = NULL;
	if (cJSON_IsObject(w) && cJSON_GetArraySize(w) > 0) {
		a->routing = cJSON_CreateObject();
		cJSON_AddItemToObject(a->routing, "AdditionalVersionWeights",
		                      cJSON_Duplicate(w, 1));
	}
}

static void stamp_alias(struct fn_alias *a)
{
	char rid[37];

	emu_uuid(rid);
	snprintf(a->revision_id, sizeof(a->revision_id), "%s", rid);
}

static void op_create_alias(struct emulator *emu, struct emu_request *req, struct function *f)
{
	cJSON *j = lambda_api_body(req, true);
	const cJSON *name, *ver, *desc, *routing;
	struct lk_error err = {0};
	struct fn_alias *a, **pp;

	if (!j)
		return;
	name = cJSON_GetObjectItemCaseSensitive(j, "Name");
	ver = cJSON_GetObjectItemCaseSensitive(j, "FunctionVersion");
	desc = cJSON_GetObjectItemCaseSensitive(j, "Description");
	routing = cJSON_GetObjectItemCaseSensitive(j, "RoutingConfig");
	if (!cJSON_IsString(name) || !valid_alias_name(name->valuestring)) {
		emu_set_error(
		    &err, 400, "ValidationException",
		    "1 validation error detected: Value at 'name' failed to satisfy constraint: "
		    "Member must satisfy regular expression pattern: "
		    "(?!^[0-9]+$)([a-zA-Z0-9-_]+)");
	} else if (!cJSON_IsString(ver)) {
		emu_set_error(
		    &err, 400, "ValidationException",
		    "1 validation error detected: Value null at 'functionVersion' failed to "
		    "satisfy constraint: Member must not be null");
	} else if (find_alias(f, name->valuestring)) {
		char *arn = function_arn_q(emu, f->name, name->valuestring);

		emu_set_error(&err, 409, "ResourceConflictException", "Alias already exists: %s",
		              arn);
		free(arn);
	} else if (check_alias_target(emu, f, ver->valuestring, routing, &err) == 0) {
		a = xcalloc(1, sizeof(*a));
		a->name = xstrdup(name->valuestring);
		a->version = xstrdup(ver->valuestring);
		a->description = xstrdup(cJSON_IsString(desc) ? desc->valuestring : "");
		set_routing(a, routing);
		stamp_alias(a);
		for (pp = &extra_of(f)->aliases; *pp && strcmp((*pp)->name, a->name) < 0;
		     pp = &(*pp)->next)
			;
		a->next = *pp;
		*pp = a;
		if (save_extra(emu, f, &err) == 0) {
			lambda_api_respond_json(req, 201, alias_json(emu, f, a));
			cJSON_Delete(j);
			return;
		}
	}
	cJSON_Delete(j);
	lambda_api_respond_error(req, &err);
}

static struct fn_alias *alias_or_404(struct emulator *emu, struct emu_request *req,
                                     struct function *f, const char *name)
{
	struct fn_alias *a = find_alias(f, name);

	if (!a) {
		char *arn = function_arn_q(emu, f->name, name);

		emu_respond_error(req, 404, "ResourceNotFoundException", "Alias not found: %s",
		                  arn);
		free(arn);
	}
	return a;
}

static void op_update_alias(struct emulator *emu, struct emu_request *req, struct function *f,
                            struct fn_alias *a)
{
	cJSON *j = lambda_api_body(req, true);
	const cJSON *ver, *desc, *routing, *rid;
	struct lk_error err = {0};

	if (!j)
		return;
	ver = cJSON_GetObjectItemCaseSensitive(j, "FunctionVersion");
	desc = cJSON_GetObjectItemCaseSensitive(j, "Description");
	routing = cJSON_GetObjectItemCaseSensitive(j, "RoutingConfig");
	rid = cJSON_GetObjectItemCaseSensitive(j, "RevisionId");
	if (cJSON_IsString(rid) && strcmp(rid->valuestring, a->revision_id))
		emu_set_error(
		    &err, 412, "PreconditionFailedException",
		    "The Revision Id provided does not match the latest Revision Id. Call the "
		    "GetFunction/GetAlias API to retrieve the latest Revision Id");
	else if (check_alias_target(emu, f, cJSON_IsString(ver) ? ver->valuestring : a->version,
	                            routing ? routing : a->routing, &err) == 0) {
		if (cJSON_IsString(ver)) {
			free(a->version);
			a->version = xstrdup(ver->valuestring);
		}
		if (cJSON_IsString(desc)) {
			free(a->description);
			a->description = xstrdup(desc->valuestring);
		}
		if (routing)
			set_routing(a, routing);
		stamp_alias(a);
		if (save_extra(emu, f, &err) == 0) {
			lambda_api_respond_json(req, 200, alias_json(emu, f, a));
			cJSON_Delete(j);
			return;
		}
	}
	cJSON_Delete(j);
	lambda_api_respond_error(req, &err);
}

static void op_delete_alias(struct emulator *emu, struct emu_request *req, struct function *f,
                            const char *name)
{
	struct lk_error err = {0};

	for (struct fn_alias **pp = &extra_of(f)->aliases; *pp; pp = &(*pp)->next)
		if (!strcmp((*pp)->name, name)) {
			struct fn_alias *a = *pp;

			*pp = a->next;
			alias_free(a);
			if (save_extra(emu, f, &err) < 0) {
				lambda_api_respond_error(req, &err);
				return;
			}
			break;
		}
	/* AWS answers 204 for an alias that does not exist too */
	emu_respond(req, 204, NULL, NULL, NULL, 0);
}

/* Marker/MaxItems paging: the index to start at and the page size, or -1 (answered). */
static long page_args(struct emu_request *req, long *max)
{
	const char *marker = emu_request_query(req, "Marker");
	const char *max_s = emu_request_query(req, "MaxItems");
	char *end;
	long start = 0;

	*max = 50;
	if (max_s) {
		*max = strtol(max_s, &end, 10);
		if (*end || *max < 1 || *max > 10000) {
			emu_respond_error(req, 400, "InvalidParameterValueException",
			                  "MaxItems must be between 1 and 10000");
			return -1;
		}
	}
	if (marker && *marker) {
		start = strtol(marker, &end, 10);
		if (*end || start < 0) {
			emu_respond_error(req, 400, "InvalidParameterValueException",
			                  "Invalid marker: %.64s", marker);
			return -1;
		}
	}
	return start;
}

static void add_page(cJSON *j, cJSON *all, const char *key, long start, long max)
{
	cJSON *arr = cJSON_AddArrayToObject(j, key);
	long n = cJSON_GetArraySize(all);

	for (long i = start; i < n && i < start + max; i++)
		cJSON_AddItemToArray(arr, cJSON_Duplicate(cJSON_GetArrayItem(all, (int)i), 1));
	if (start + max < n) {
		char m[24];

		snprintf(m, sizeof(m), "%ld", start + max);
		cJSON_AddStringToObject(j, "NextMarker", m);
	}
	cJSON_Delete(all);
}

static void op_list_versions(struct emulator *emu, struct emu_request *req, struct function *f)
{
	long max, start = page_args(req, &max);
	cJSON *all, *j;

	if (start < 0)
		return;
	all = cJSON_CreateArray();
	cJSON_AddItemToArray(all, function_config_json(emu, f));
	for (struct function *v = f->versions; v; v = v->next)
		cJSON_AddItemToArray(all, function_config_json(emu, v));
	j = cJSON_CreateObject();
	add_page(j, all, "Versions", start, max);
	lambda_api_respond_json(req, 200, j);
}

static void op_list_aliases(struct emulator *emu, struct emu_request *req, struct function *f)
{
	const char *fv = emu_request_query(req, "FunctionVersion");
	long max, start = page_args(req, &max);
	cJSON *all, *j;

	if (start < 0)
		return;
	all = cJSON_CreateArray();
	for (struct fn_alias *a = extra_of(f)->aliases; a; a = a->next)
		if (!fv || !strcmp(fv, a->version))
			cJSON_AddItemToArray(all, alias_json(emu, f, a));
	j = cJSON_CreateObject();
	add_page(j, all, "Aliases", start, max);
	lambda_api_respond_json(req, 200, j);
}

void versions_api(struct emulator *emu, struct emu_request *req, int op, struct function *f,
                  const char *param)
{
	struct lk_error err = {0};
	struct fn_alias *a;

	switch ((enum emu_lambda_op)op) {
	case EMU_LAMBDA_PUBLISH_VERSION: {
		cJSON *j = lambda_api_body(req, true);
		struct function *v;

		if (!j)
			return;
		v = versions_publish(emu, f, j, &err);
		cJSON_Delete(j);
		if (v)
			lambda_api_respond_json(req, 201, function_config_json(emu, v));
		else
			lambda_api_respond_error(req, &err);
		return;
	}
	case EMU_LAMBDA_LIST_VERSIONS:
		op_list_versions(emu, req, f);
		return;
	case EMU_LAMBDA_CREATE_ALIAS:
		op_create_alias(emu, req, f);
		return;
	case EMU_LAMBDA_LIST_ALIASES:
		op_list_aliases(emu, req, f);
		return;
	case EMU_LAMBDA_GET_ALIAS:
		if ((a = alias_or_404(emu, req, f, param)))
			lambda_api_respond_json(req, 200, alias_json(emu, f, a));
		return;
	case EMU_LAMBDA_UPDATE_ALIAS:
		if ((a = alias_or_404(emu, req, f, param)))
			op_update_alias(emu, req, f, a);
		return;
	case EMU_LAMBDA_DELETE_ALIAS:
		op_delete_alias(emu, req, f, param);
		return;
	default:
		emu_respond_error(req, 404, "UnknownOperationException", "no such operation");
		return;
	}
}

int versions_save_extra(const struct emulator *emu, struct function *f, struct lk_error *err)
{
	return save_extra(emu, latest(f), err);
}
