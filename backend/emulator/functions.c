/* functions.c - the emulator's function registry: validation of Create/Update requests,
 * persistence under <state>/functions/<name>/ (config.json, code.zip, code/<id>/), safe zip
 * extraction (on the thread pool: a 250 MB unpack must not stall every other request), and
 * the FunctionConfiguration JSON. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include "backend/aws/aws.h"
#include "backend/emulator/emu_internal.h"
#include "backend/runtimes.h"

int emu_set_error(struct lk_error *err, int status, const char *code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return -1;
	lk_error_clear(err);
	snprintf(err->code, sizeof(err->code), "%s", code);
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	err->status = status;
	return -1;
}

#define INVALID(err, ...) emu_set_error(err, 400, "InvalidParameterValueException", __VA_ARGS__)

/* ---- code directories ---- */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)ftw;
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

int emu_rm_rf(const char *path)
{
	return nftw(path, rm_entry, 32, FTW_DEPTH | FTW_PHYS);
}

#define TRASH_PREFIX ".trash-"

struct rm_job {
	uv_work_t work;
	char *path;
};

static void rm_job_work(uv_work_t *w)
{
	emu_rm_rf(((struct rm_job *)w->data)->path);
}

static void rm_job_done(uv_work_t *w, int status)
{
	struct rm_job *j = w->data;

	(void)status;
	free(j->path);
	free(j);
}

/* Removes a directory tree without stalling the loop (a code copy can be 250 MB of small
 * files): it is renamed to <parent>/.trash-<id> at once, so its name is free again, and
 * deleted on the thread pool. Leftover .trash-* dirs (a crash meanwhile) are swept at
 * start. */
static void rm_rf_off_loop(uv_loop_t *loop, const char *path)
{
	const char *slash = strrchr(path, '/');
	char id[17], *trash;
	struct rm_job *j;

	emu_random_hex(id, 8);
	trash = slash ? xasprintf("%.*s/" TRASH_PREFIX "%s", (int)(slash - path), path, id)
	              : xasprintf(TRASH_PREFIX "%s", id);
	if (rename(path, trash) != 0) {
		if (errno != ENOENT)
			emu_rm_rf(path); /* cannot move it aside: remove it in place */
		free(trash);
		return;
	}
	j = xcalloc(1, sizeof(*j));
	j->path = trash;
	j->work.data = j;
	if (uv_queue_work(loop, &j->work, rm_job_work, rm_job_done) != 0) {
		emu_rm_rf(trash);
		free(trash);
		free(j);
	}
}

void codedir_ref(struct codedir *c)
{
	if (c)
		c->refs++;
}

void codedir_unref(struct codedir *c)
{
	if (!c || --c->refs > 0)
		return;
	if (c->obsolete)
		rm_rf_off_loop(c->loop, c->path);
	free(c->path);
	free(c);
}

struct codedir *codedir_new(struct emulator *emu, const char *path)
{
	struct codedir *c = xcalloc(1, sizeof(*c));

	c->loop = emu->loop;
	c->path = xstrdup(path);
	c->refs = 1;
	return c;
}

/* ---- zip extraction ---- */

/* A name is safe when it is relative, has no empty-but-leading, "." or ".." components. */
static bool safe_name(const char *name)
{
	const char *p = name;

	if (!*name || name[0] == '/')
		return false;
	while (*p) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);

		if ((len == 2 && !strncmp(p, "..", 2)))
			return false;
		p += len;
		if (*p == '/')
			p++;
	}
	return true;
}

/* True when one of name's parent components is the name of a symlink entry. */
static bool under_link(const char *name, char **links, size_t n_links)
{
	for (size_t i = 0; i < n_links; i++) {
		size_t l = strlen(links[i]);

		while (l && links[i][l - 1] == '/')
			l--;
		if (!strncmp(name, links[i], l) && name[l] == '/')
			return true;
	}
	return false;
}

static int mkparents(const char *root, const char *name, struct lk_error *err)
{
	char *copy = xstrdup(name), *slash = strrchr(copy, '/');
	int rc = 0;

	if (slash) {
		char *dir;

		*slash = 0;
		dir = util_path_join(root, copy);
		rc = util_mkdir_p(dir, 0755, err);
		free(dir);
	}
	free(copy);
	return rc;
}

int emu_unzip(const void *data, size_t len, const char *dir, struct lk_error *err)
{
	zip_error_t zerr;
	zip_source_t *src;
	zip_t *za;
	zip_int64_t n;
	uint64_t total = 0, written = 0;
	char **links = NULL, **targets = NULL, *root_real = NULL;
	size_t n_links = 0;
	int rc = -1;
	char *buf = xmalloc(64 * 1024);

	zip_error_init(&zerr);
	src = zip_source_buffer_create(data, len, 0, &zerr);
	if (!src) {
		free(buf);
		return INVALID(err, "Could not unzip uploaded file: %s", zip_error_strerror(&zerr));
	}
	za = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &zerr);
	if (!za) {
		zip_source_free(src);
		INVALID(err,
		        "Could not unzip uploaded file. Please check your file, then try to "
		        "upload again. (%s)",
		        zip_error_strerror(&zerr));
		zip_error_fini(&zerr);
		free(buf);
		return -1;
	}
	n = zip_get_num_entries(za, 0);
	if (n <= 0) {
		INVALID(err, "Uploaded file must be a non-empty zip");
		goto out;
	}
	/* First pass: names, sizes, links. */
	for (zip_int64_t i = 0; i < n; i++) {
		zip_stat_t st;
		zip_uint8_t opsys;
		zip_uint32_t attr;

		if (zip_stat_index(za, (zip_uint64_t)i, 0, &st) < 0 ||
		    !(st.valid & ZIP_STAT_NAME)) {
			INVALID(err, "Could not unzip uploaded file: unreadable entry %lld",
			        (long long)i);
			goto out;
		}
		if (!safe_name(st.name)) {
			INVALID(
			    err,
			    "Could not unzip uploaded file: entry '%.200s' has an absolute path or "
			    "'..' component",
			    st.name);
			goto out;
		}
		total += (st.valid & ZIP_STAT_SIZE) ? st.size : 0;
		if (total > EMU_UNZIPPED_MAX) {
			INVALID(err, "Unzipped size must be smaller than %u bytes",
			        (unsigned)EMU_UNZIPPED_MAX);
			goto out;
		}
		if (zip_file_get_external_attributes(za, (zip_uint64_t)i, 0, &opsys, &attr) == 0 &&
		    opsys == ZIP_OPSYS_UNIX && S_ISLNK((attr >> 16) & 0170000)) {
			links = xrealloc(links, (n_links + 1) * sizeof(*links));
			links[n_links++] = xstrdup(st.name);
		}
	}
	for (zip_int64_t i = 0; i < n; i++) {
		const char *name = zip_get_name(za, (zip_uint64_t)i, 0);

		if (name && under_link(name, links, n_links)) {
			INVALID(
			    err,
			    "Could not unzip uploaded file: entry '%.200s' lies under a symbolic "
			    "link",
			    name);
			goto out;
		}
	}
	if (util_mkdir_p(dir, 0755, err) < 0)
		goto out;
	targets = xcalloc(n_links + 1, sizeof(*targets));
	/* Second pass: directories and files; link targets are read, links made later. */
	for (zip_int64_t i = 0; i < n; i++) {
		zip_stat_t st;
		zip_uint8_t opsys;
		zip_uint32_t attr = 0;
		mode_t mode = 0;
		size_t nl = strlen(zip_get_name(za, (zip_uint64_t)i, 0));
		zip_file_t *zf;
		char *path;
		int fd;
		bool is_link = false;
		size_t link_idx = 0;

		zip_stat_index(za, (zip_uint64_t)i, 0, &st);
		if (zip_file_get_external_attributes(za, (zip_uint64_t)i, 0, &opsys, &attr) == 0 &&
		    opsys == ZIP_OPSYS_UNIX)
			mode = (attr >> 16) & 07777;
		for (size_t l = 0; l < n_links; l++)
			if (!strcmp(links[l], st.name))
				is_link = true, link_idx = l;
		path = util_path_join(dir, st.name);
		if (st.name[nl - 1] == '/' ? util_mkdir_p(path, 0755, err) < 0
		                           : mkparents(dir, st.name, err) < 0) {
			/* the host's error names host paths: report the entry only */
			INVALID(err,
			        "Could not unzip uploaded file: cannot create the directories of "
			        "'%.200s'",
			        st.name);
			free(path);
			goto out;
		}
		if (st.name[nl - 1] == '/') {
			free(path);
			continue;
		}
		zf = zip_fopen_index(za, (zip_uint64_t)i, 0);
		if (!zf) {
			free(path);
			INVALID(err, "Could not unzip uploaded file: %s", zip_strerror(za));
			goto out;
		}
		if (is_link) {
			struct buf t = {0};
			zip_int64_t r;

			while ((r = zip_fread(zf, buf, 64 * 1024)) > 0 && t.len < PATH_MAX)
				buf_append(&t, buf, (size_t)r);
			zip_fclose(zf);
			free(path);
			if (r < 0 || !t.len || t.len >= PATH_MAX || memchr(t.data, 0, t.len)) {
				buf_free(&t);
				INVALID(err,
				        "Could not unzip uploaded file: bad symbolic link '%.200s'",
				        st.name);
				goto out;
			}
			targets[link_idx] = buf_steal(&t);
			continue;
		}
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		          (mode & 0777 ? mode & 0777 : 0644) | 0400);
		if (fd < 0) {
			INVALID(err, "Could not unzip uploaded file: cannot write '%.200s': %s",
			        st.name, errno == EEXIST ? "duplicate entry" : strerror(errno));
			zip_fclose(zf);
			free(path);
			goto out;
		}
		for (;;) {
			zip_int64_t r = zip_fread(zf, buf, 64 * 1024);

			if (r == 0)
				break;
			written += r > 0 ? (uint64_t)r : 0;
			if (r < 0 || written > EMU_UNZIPPED_MAX ||
			    write(fd, buf, (size_t)r) != (ssize_t)r) {
				if (r < 0)
					INVALID(err, "Could not unzip uploaded file: %s (%.200s)",
					        zip_file_strerror(zf), st.name);
				else if (written > EMU_UNZIPPED_MAX)
					INVALID(err, "Unzipped size must be smaller than %u bytes",
					        (unsigned)EMU_UNZIPPED_MAX);
				else
					emu_set_error(err, 500, "ServiceException", "write %s: %s",
					              st.name, strerror(errno));
				close(fd);
				zip_fclose(zf);
				free(path);
				goto out;
			}
		}
		zip_fclose(zf);
		if (mode & 0777)
			fchmod(fd, (mode & 0777) | 0400);
		close(fd);
		free(path);
	}
	/* Links: create, then check that each resolves inside the root. */
	root_real = realpath(dir, NULL);
	for (size_t l = 0; l < n_links; l++) {
		char *path, *real;
		size_t rl = strlen(root_real ? root_real : "");

		if (mkparents(dir, links[l], err) < 0)
			goto out;
		path = util_path_join(dir, links[l]);
		if (targets[l][0] == '/' || symlink(targets[l], path) < 0) {
			INVALID(
			    err,
			    "Could not unzip uploaded file: symbolic link '%.200s' points outside "
			    "the function's root or cannot be created",
			    links[l]);
			free(path);
			goto out;
		}
		real = realpath(path, NULL);
		if (real ? (!root_real || strncmp(real, root_real, rl) ||
		            (real[rl] != '/' && real[rl] != 0))
		         : strstr(targets[l], "..") != NULL) {
			INVALID(
			    err,
			    "Could not unzip uploaded file: symbolic link '%.200s' points outside "
			    "the function's root",
			    links[l]);
			free(real);
			free(path);
			goto out;
		}
		free(real);
		free(path);
	}
	rc = 0;
out:
	for (size_t l = 0; l < n_links; l++) {
		free(links[l]);
		if (targets)
			free(targets[l]);
	}
	free(links);
	free(targets);
	free(root_real);
	free(buf);
	zip_discard(za);
	zip_error_fini(&zerr);
	return rc;
}

/* ---- the registry ---- */

void function_ref(struct function *f)
{
	f->refs++;
}

void function_unref(struct function *f)
{
	if (!f || --f->refs > 0)
		return;
	free(f->name);
	free(f->runtime);
	free(f->handler);
	free(f->role);
	free(f->description);
	cJSON_Delete(f->env);
	cJSON_Delete(f->settings);
	versions_release(f);
	codedir_unref(f->code);
	free(f);
}

struct function *functions_find(struct emulator *emu, const char *name)
{
	for (struct function *f = emu->functions; f; f = f->next)
		if (!strcmp(f->name, name))
			return f;
	return NULL;
}

static void registry_insert(struct emulator *emu, struct function *f)
{
	struct function **pp = &emu->functions;

	while (*pp && strcmp((*pp)->name, f->name) < 0)
		pp = &(*pp)->next;
	f->next = *pp;
	*pp = f;
}

static void registry_remove(struct emulator *emu, struct function *f)
{
	for (struct function **pp = &emu->functions; *pp; pp = &(*pp)->next)
		if (*pp == f) {
			*pp = f->next;
			f->next = NULL;
			return;
		}
}

char *function_arn(const struct emulator *emu, const char *name)
{
	return xasprintf("arn:aws:lambda:%s:%s:function:%s", emu->opt.region, EMU_ACCOUNT_ID, name);
}

static bool valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > 64)
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
			return false;
	return true;
}

/* Every runtime AWS accepts today (backend/runtimes.c); which of them can run here is
 * the worker's question (a missing interpreter or bootstrap fails the invoke, like AWS). */
static bool valid_runtime(const char *r)
{
	return runtimes_find(r) != NULL;
}

static const char *const reserved_env[] = {
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
};

/* Validates and applies the configuration fields present in req to f. */
static int apply_config(struct function *f, const cJSON *req, bool creating, struct lk_error *err)
{
	const cJSON *v;
	int timeout = f->timeout, memory = f->memory;
	const char *runtime = f->runtime;

	v = cJSON_GetObjectItemCaseSensitive(req, "Runtime");
	if (v) {
		if (!cJSON_IsString(v) || !valid_runtime(v->valuestring))
			return INVALID(err,
			               "Value %s at 'runtime' failed to satisfy constraint: the "
			               "emulator supports: %s",
			               cJSON_IsString(v) ? v->valuestring : "(not a string)",
			               runtimes_list());
		runtime = v->valuestring;
	} else if (creating) {
		return INVALID(err,
		               "Runtime is required for .zip deployment packages (supported: %s)",
		               runtimes_list());
	}
	v = cJSON_GetObjectItemCaseSensitive(req, "Handler");
	if (v && (!cJSON_IsString(v) || strlen(v->valuestring) > 128 || !*v->valuestring))
		return INVALID(err, "Handler must be a non-empty string of at most 128 characters");
	if (strncmp(runtime, "provided", 8) && !v && !f->handler)
		return INVALID(err, "Handler is required for runtime %s", runtime);
	v = cJSON_GetObjectItemCaseSensitive(req, "Timeout");
	if (v) {
		if (!cJSON_IsNumber(v) || v->valuedouble < 1 || v->valuedouble > 900)
			return INVALID(err, "Timeout must be between 1 and 900 seconds");
		timeout = v->valueint;
	}
	v = cJSON_GetObjectItemCaseSensitive(req, "MemorySize");
	if (v) {
		if (!cJSON_IsNumber(v) || v->valuedouble < 128 || v->valuedouble > 10240)
			return INVALID(err, "MemorySize must be between 128 and 10240 MB");
		memory = v->valueint;
	}
	v = cJSON_GetObjectItemCaseSensitive(req, "Environment");
	if (v) {
		const cJSON *vars = cJSON_GetObjectItemCaseSensitive(v, "Variables");
		const cJSON *e;

		if (!cJSON_IsObject(v) || (vars && !cJSON_IsObject(vars)))
			return INVALID(err, "Environment.Variables must be a map of strings");
		cJSON_ArrayForEach(e, vars)
		{
			if (!cJSON_IsString(e))
				return INVALID(err, "Environment variable %s must be a string",
				               e->string);
			for (size_t i = 0; i < sizeof(reserved_env) / sizeof(reserved_env[0]); i++)
				if (!strcmp(e->string, reserved_env[i]))
					return INVALID(
					    err,
					    "Lambda was unable to configure your environment "
					    "variables because the environment variables you "
					    "have provided contains reserved keys that are "
					    "currently not supported for modification. Reserved "
					    "keys used in this request: %s",
					    e->string);
		}
	}
	if (cJSON_GetObjectItemCaseSensitive(req, "Layers") &&
	    cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(req, "Layers")) > 0)
		return INVALID(err, "Layers are not supported by the local emulator; bundle the "
		                    "dependencies into the function's zip");
	if (settings_check(req, err) < 0)
		return -1;
	/* all valid: apply */
	settings_apply(f, req, creating);
	if (runtime != f->runtime) {
		char *r = xstrdup(runtime);

		free(f->runtime);
		f->runtime = r;
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(req, "Handler"))) {
		free(f->handler);
		f->handler = xstrdup(v->valuestring);
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(req, "Role")) && cJSON_IsString(v)) {
		free(f->role);
		f->role = xstrdup(v->valuestring);
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(req, "Description")) && cJSON_IsString(v)) {
		free(f->description);
		f->description = xstrdup(v->valuestring);
	}
	f->timeout = timeout;
	f->memory = memory;
	if ((v = cJSON_GetObjectItemCaseSensitive(req, "Environment"))) {
		const cJSON *vars = cJSON_GetObjectItemCaseSensitive(v, "Variables");

		cJSON_Delete(f->env);
		f->env = vars ? cJSON_Duplicate(vars, 1) : cJSON_CreateObject();
	}
	return 0;
}

static void stamp(struct function *f)
{
	char rid[37];

	emu_iso_time(f->last_modified, sizeof(f->last_modified), util_now_ms(), true);
	emu_uuid(rid);
	snprintf(f->revision_id, sizeof(f->revision_id), "%s", rid);
}

static char *function_dir(const struct emulator *emu, const char *name)
{
	return util_path_join(emu->functions_dir, name);
}

/* Where the unpacked copies of the functions' code live: outside the project, under the
 * user's cache keyed by the state dir (<cache>/emulator-<sha256 of the state dir>), so no
 * test runner, bundler, linter or `git status` in the project ever sees them; kept across
 * restarts like code.zip. Only this process reads them (workers run as its user). NULL
 * without a cache dir. */
static char *code_cache(const struct emulator *emu)
{
	char *cache = emu->state_dir ? util_cache_dir() : NULL;
	unsigned char digest[32];
	char hex[65];

	if (!cache)
		return NULL;
	util_sha256(emu->state_dir, strlen(emu->state_dir), digest);
	util_hex(digest, 12, hex);
	char *dir = xasprintf("%s/emulator-%s", cache, hex);
	free(cache);
	return dir;
}

/* A function's code copies (<id>/ per code version, .tmp-<id>/ while one is being
 * unpacked): <code_cache>/<name>; without a cache dir, beside config.json. The one place
 * this path is computed. */
static char *code_root(const struct emulator *emu, const char *name)
{
	char *cache = code_cache(emu);
	if (!cache) {
		char *dir = function_dir(emu, name), *codes = util_path_join(dir, "code");
		free(dir);
		return codes;
	}
	char *root = util_path_join(cache, name);
	free(cache);
	return root;
}

/* At start: records our state dir in our code cache ("state"), sweeps its trash left by a
 * crash, and drops the code caches whose state dir is gone (deleted or temporary projects).
 * The copies are only a cache: code.zip is unpacked again when one is missing. */
static void code_cache_gc(const struct emulator *emu)
{
	char *mine = code_cache(emu), *cache = util_cache_dir();
	DIR *d;
	struct dirent *de;

	if (mine && util_mkdir_p(mine, 0700, NULL) == 0) {
		char *st = util_path_join(mine, "state");
		util_write_atomic(st, emu->state_dir, strlen(emu->state_dir), 0600, NULL);
		free(st);
		d = opendir(mine);
		while (d && (de = readdir(d))) {
			if (strncmp(de->d_name, TRASH_PREFIX, strlen(TRASH_PREFIX)))
				continue;
			char *p = util_path_join(mine, de->d_name);
			emu_rm_rf(p);
			free(p);
		}
		if (d)
			closedir(d);
	}
	d = cache ? opendir(cache) : NULL;
	while (d && (de = readdir(d))) {
		if (strncmp(de->d_name, "emulator-", 9))
			continue;
		char *dir = util_path_join(cache, de->d_name), *st = util_path_join(dir, "state");
		struct buf b = {0};
		if (util_read_file(st, &b, NULL) == 0 && b.len && b.data[0] == '/') {
			buf_append(&b, "", 0);
			if (!util_is_dir(b.data))
				emu_rm_rf(dir);
		}
		buf_free(&b);
		free(st);
		free(dir);
	}
	if (d)
		closedir(d);
	free(cache);
	free(mine);
}

/* Writes config.json atomically. */
static int save_config(const struct emulator *emu, const struct function *f, struct lk_error *err)
{
	cJSON *j = function_config_json(emu, f);
	char *dir = function_dir(emu, f->name), *path = util_path_join(dir, "config.json");
	char *s, *slash = strrchr(f->code->path, '/');
	int rc;

	cJSON_AddStringToObject(j, "LambdeckCodeDir", slash ? slash + 1 : f->code->path);
	s = cJSON_Print(j);
	rc = util_write_atomic(path, s, strlen(s), 0600, err);
	if (rc < 0)
		err->status = 500, snprintf(err->code, sizeof(err->code), "ServiceException");
	cJSON_free(s);
	cJSON_Delete(j);
	free(path);
	free(dir);
	return rc;
}

/* A code install running on the thread pool: decode, unpack into a temp dir, rename it into
 * place, store code.zip, hash. Nothing of it touches the registry until code_job_done. */
struct code_job {
	uv_work_t work;
	struct emulator *emu;
	struct function *f;
	bool creating;
	char *b64; /* Code.ZipFile as sent */
	size_t b64_len;
	unsigned char *zip; /* or the zip itself, fetched from an S3 code location */
	size_t zip_len;
	char *codes, *tmp, *final, *zpath;
	int rc;
	struct lk_error err;
	char sha[48];
	int64_t size;
	functions_done_fn done;
	void *user;
};

/* Thread pool side: only the job's own files and memory. */
static void code_job_work(uv_work_t *w)
{
	struct code_job *j = w->data;
	unsigned char *zip, digest[32];
	size_t zlen;
	char *b64;

	j->rc = -1;
	if (j->err.code[0])
		return; /* the S3 code location could not be read */
	if (j->zip) {
		zip = j->zip;
		zlen = j->zip_len;
		j->zip = NULL;
	} else {
		zip = util_base64_decode(j->b64, j->b64_len, &zlen);
		free(j->b64);
		j->b64 = NULL;
	}
	if (!zip) {
		INVALID(&j->err, "Code.ZipFile is not valid base64");
		return;
	}
	if (zlen > (j->zip_len ? EMU_S3_ZIP_MAX : EMU_ZIP_MAX)) {
		emu_set_error(&j->err, 413, "RequestEntityTooLargeException",
		              "Zipped size must be smaller than %u bytes", (unsigned)EMU_ZIP_MAX);
		free(zip);
		return;
	}
	/* code.zip's directory too: the unpacked code lives elsewhere (code_root) */
	char *fdir = xstrndup(j->zpath, (size_t)(strrchr(j->zpath, '/') - j->zpath));
	int mk = util_mkdir_p(fdir, 0700, &j->err) < 0 || util_mkdir_p(j->codes, 0700, &j->err) < 0;
	free(fdir);
	if (mk) {
		j->err.status = 500;
		free(zip);
		return;
	}
	/* unpacked under a temp name, renamed into place only when complete: a crash leaves
	 * a .tmp-* directory that the next start sweeps, never a half code dir in use */
	if (emu_unzip(zip, zlen, j->tmp, &j->err) < 0) {
		emu_rm_rf(j->tmp);
		free(zip);
		return;
	}
	if (rename(j->tmp, j->final) < 0) {
		emu_set_error(&j->err, 500, "ServiceException", "cannot move the unpacked code: %s",
		              strerror(errno));
		emu_rm_rf(j->tmp);
		free(zip);
		return;
	}
	if (util_write_atomic(j->zpath, zip, zlen, 0600, &j->err) < 0) {
		j->err.status = 500;
		emu_rm_rf(j->final);
		free(zip);
		return;
	}
	util_sha256(zip, zlen, digest);
	free(zip);
	b64 = util_base64(digest, 32);
	snprintf(j->sha, sizeof(j->sha), "%s", b64);
	free(b64);
	j->size = (int64_t)zlen;
	j->rc = 0;
}

static void code_job_free(struct code_job *j)
{
	free(j->b64);
	free(j->zip);
	free(j->codes);
	free(j->tmp);
	free(j->final);
	free(j->zpath);
	free(j);
}

/* Loop side: the new code goes live (or the create is undone), then the caller hears. */
static void code_job_done(uv_work_t *w, int status)
{
	struct code_job *j = w->data;
	struct emulator *emu = j->emu;
	struct function *f = j->f;
	bool ok = status == 0 && j->rc == 0;

	f->code_busy = false;
	if (status != 0 && j->rc == 0)
		emu_set_error(&j->err, 500, "ServiceException", "the code install was cancelled");
	if (ok) {
		struct codedir *old = f->code;

		f->code = codedir_new(emu, j->final);
		if (old) {
			old->obsolete = true;
			codedir_unref(old);
		}
		snprintf(f->code_sha256, sizeof(f->code_sha256), "%s", j->sha);
		f->code_size = j->size;
		if (!j->creating)
			f->generation++;
		stamp(f);
		ok = save_config(emu, f, &j->err) == 0;
	}
	if (!ok && j->creating) {
		char *dir = function_dir(emu, f->name), *codes = code_root(emu, f->name);

		registry_remove(emu, f);
		f->deleted = true;
		if (f->code)
			f->code->obsolete = true;
		rm_rf_off_loop(emu->loop, dir);
		rm_rf_off_loop(emu->loop, codes); /* gone with dir while it lives inside it */
		free(codes);
		free(dir);
		function_unref(f); /* the registry's reference */
	}
	j->done(emu, f, ok ? NULL : &j->err, j->user);
	function_unref(f); /* the job's */
	code_job_free(j);
}

int functions_busy_error(const struct emulator *emu, const struct function *f, struct lk_error *err)
{
	char *arn = function_arn(emu, f->name);

	if (!f->code)
		emu_set_error(
		    err, 409, "ResourceConflictException",
		    "The operation cannot be performed at this time. The function is currently "
		    "in the following state: Pending");
	else
		emu_set_error(
		    err, 409, "ResourceConflictException",
		    "The operation cannot be performed at this time. An update is in progress "
		    "for resource: %s",
		    arn);
	free(arn);
	return -1;
}

static struct code_job *code_job_new(struct emulator *emu, struct function *f, bool creating,
                                     functions_done_fn done, void *user);

/* Checks Code.ZipFile / ZipFile and starts installing it off the loop. */
static int start_code_job(struct emulator *emu, struct function *f, const cJSON *zipfile,
                          bool creating, functions_done_fn done, void *user, struct lk_error *err)
{
	struct code_job *j;
	int rc;

	if (!cJSON_IsString(zipfile))
		return INVALID(err, "Code.ZipFile or Code.S3Bucket/S3Key is required");
	if (!*zipfile->valuestring)
		return INVALID(err, "Uploaded file must be a non-empty zip");
	if (strlen(zipfile->valuestring) > (size_t)EMU_ZIP_MAX * 4 / 3 + 4)
		return emu_set_error(err, 413, "RequestEntityTooLargeException",
		                     "Zipped size must be smaller than %u bytes",
		                     (unsigned)EMU_ZIP_MAX);
	j = code_job_new(emu, f, creating, done, user);
	j->b64_len = strlen(zipfile->valuestring);
	j->b64 = xstrndup(zipfile->valuestring, j->b64_len);
	rc = uv_queue_work(emu->loop, &j->work, code_job_work, code_job_done);
	if (rc != 0) {
		function_unref(f);
		code_job_free(j);
		return emu_set_error(err, 500, "ServiceException",
		                     "cannot start the code install: %s", uv_strerror(rc));
	}
	f->code_busy = true;
	return 0;
}

/* A code job for f (referenced until it is done), not started. */
static struct code_job *code_job_new(struct emulator *emu, struct function *f, bool creating,
                                     functions_done_fn done, void *user)
{
	struct code_job *j = xcalloc(1, sizeof(*j));
	char id[17], tmpname[24], *dir;

	j->emu = emu;
	j->f = f;
	function_ref(f);
	j->creating = creating;
	j->codes = code_root(emu, f->name);
	emu_random_hex(id, 8);
	snprintf(tmpname, sizeof(tmpname), ".tmp-%s", id);
	j->tmp = util_path_join(j->codes, tmpname);
	j->final = util_path_join(j->codes, id);
	dir = function_dir(emu, f->name);
	j->zpath = util_path_join(dir, "code.zip");
	free(dir);
	j->done = done;
	j->user = user;
	j->work.data = j;
	return j;
}

/* GetObject of an S3 code location finished: install what it read, or fail the job (the
 * failure goes through the job's usual end, so a create is undone). */
static void s3_code_fetched(void *user, struct aws_result *r)
{
	struct code_job *j = user;

	if (r->err.code[0])
		INVALID(&j->err,
		        "Error occurred while GetObject. S3 Error Code: %s. S3 Error Message: %s",
		        r->err.code, r->err.message);
	else if (r->body.len == 0)
		INVALID(&j->err, "Uploaded file must be a non-empty zip");
	else {
		j->zip_len = r->body.len;
		j->zip = (unsigned char *)buf_steal(&r->body);
	}
	aws_result_free(r);
	if (uv_queue_work(j->emu->loop, &j->work, code_job_work, code_job_done) != 0)
		code_job_done(&j->work, UV_ECANCELED);
}

/* Code from an S3 location (S3Bucket/S3Key; the remote quick deploy's path): read with
 * GetObject from the S3 endpoint the emulator's environment names (AWS_ENDPOINT_URL_S3, the
 * project's local S3 service), then installed as a ZipFile is. The function is busy from
 * now on. An emulator shut down during the read drops the job with its client. */
static int start_s3_code_job(struct emulator *emu, struct function *f, const cJSON *loc,
                             bool creating, functions_done_fn done, void *user,
                             struct lk_error *err)
{
	const cJSON *bucket = cJSON_GetObjectItemCaseSensitive(loc, "S3Bucket");
	const cJSON *key = cJSON_GetObjectItemCaseSensitive(loc, "S3Key");
	struct code_job *j;
	struct lk_error e = {0};

	if (!cJSON_IsString(bucket) || !*bucket->valuestring || !cJSON_IsString(key) ||
	    !*key->valuestring)
		return INVALID(err, "S3Bucket and S3Key are both required");
	if (cJSON_GetObjectItemCaseSensitive(loc, "S3ObjectVersion"))
		return INVALID(err, "S3ObjectVersion is not supported by the local emulator");
	if (!emu->s3) {
		struct aws_options o = {.region =
		                            getenv("AWS_REGION") || getenv("AWS_DEFAULT_REGION")
		                                ? NULL
		                                : emu->opt.region};

		emu->s3 = aws_client_new(emu->loop, &o, &e);
		if (!emu->s3)
			return INVALID(err, "Error occurred while GetObject: %s", e.message);
	}
	j = code_job_new(emu, f, creating, done, user);
	aws_s3_get_object(emu->s3, bucket->valuestring, key->valuestring, s3_code_fetched, j);
	f->code_busy = true;
	return 0;
}

struct function *functions_create(struct emulator *emu, const cJSON *req, functions_done_fn done,
                                  void *user, struct lk_error *err)
{
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(req, "FunctionName");
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(req, "Code");
	const cJSON *pkg = cJSON_GetObjectItemCaseSensitive(req, "PackageType");
	struct function *f;

	if (!cJSON_IsString(name) || !valid_name(name->valuestring)) {
		INVALID(err, "FunctionName must be 1-64 characters of letters, digits, '-' or '_'");
		return NULL;
	}
	if (functions_find(emu, name->valuestring)) {
		emu_set_error(err, 409, "ResourceConflictException", "Function already exist: %s",
		              name->valuestring);
		return NULL;
	}
	if (cJSON_IsString(pkg) && strcmp(pkg->valuestring, "Zip")) {
		INVALID(err, "PackageType %s is not supported by the local emulator",
		        pkg->valuestring);
		return NULL;
	}
	f = xcalloc(1, sizeof(*f));
	f->name = xstrdup(name->valuestring);
	f->runtime = xstrdup("");
	f->timeout = 3;
	f->memory = 128;
	f->env = cJSON_CreateObject();
	f->refs = 1;
	f->settings = cJSON_CreateObject();
	f->role = xasprintf("arn:aws:iam::%s:role/lambdeck-local", EMU_ACCOUNT_ID);
	f->description = xstrdup("");
	if (apply_config(f, req, true, err) < 0) {
		function_unref(f);
		return NULL;
	}
	stamp(f);
	if ((cJSON_GetObjectItemCaseSensitive(code, "S3Bucket")
	         ? start_s3_code_job(emu, f, code, true, done, user, err)
	         : start_code_job(emu, f, cJSON_GetObjectItemCaseSensitive(code, "ZipFile"), true,
	                          done, user, err)) < 0) {
		function_unref(f);
		return NULL;
	}
	/* registered at once (State Pending): the name is taken, GetFunction sees it */
	registry_insert(emu, f);
	return f;
}

int functions_update_code(struct emulator *emu, struct function *f, const cJSON *req,
                          functions_done_fn done, void *user, struct lk_error *err)
{
	const cJSON *dry = cJSON_GetObjectItemCaseSensitive(req, "DryRun");

	if (f->code_busy)
		return functions_busy_error(emu, f, err);
	if (cJSON_GetObjectItemCaseSensitive(req, "ImageUri"))
		return INVALID(err, "Only ZipFile and S3 code is supported by the local emulator");
	if (cJSON_IsTrue(dry))
		return 1;
	if (cJSON_GetObjectItemCaseSensitive(req, "S3Bucket"))
		return start_s3_code_job(emu, f, req, false, done, user, err);
	return start_code_job(emu, f, cJSON_GetObjectItemCaseSensitive(req, "ZipFile"), false, done,
	                      user, err);
}

int functions_update_config(struct emulator *emu, struct function *f, const cJSON *req,
                            struct lk_error *err)
{
	if (f->code_busy)
		return functions_busy_error(emu, f, err);
	if (apply_config(f, req, false, err) < 0)
		return -1;
	f->generation++;
	stamp(f);
	return save_config(emu, f, err);
}

void functions_delete(struct emulator *emu, struct function *f)
{
	char *dir = function_dir(emu, f->name);

	versions_delete_all(emu, f);
	registry_remove(emu, f);
	f->deleted = true;
	f->generation++;
	if (f->code)
		f->code->obsolete = true;
	rm_rf_off_loop(emu->loop, dir);
	free(dir);
	dir = code_root(emu, f->name); /* gone with dir while it lives inside it */
	rm_rf_off_loop(emu->loop, dir);
	free(dir);
	function_unref(f);
}

cJSON *function_config_json(const struct emulator *emu, const struct function *f)
{
	cJSON *j = cJSON_CreateObject(), *o;
	char *arn = function_arn_q(emu, f->name, f->version);

	cJSON_AddStringToObject(j, "FunctionName", f->name);
	cJSON_AddStringToObject(j, "FunctionArn", arn);
	cJSON_AddStringToObject(j, "Runtime", f->runtime);
	cJSON_AddStringToObject(j, "Role", f->role);
	if (f->handler)
		cJSON_AddStringToObject(j, "Handler", f->handler);
	cJSON_AddNumberToObject(j, "CodeSize", (double)f->code_size);
	cJSON_AddStringToObject(j, "Description", f->description ? f->description : "");
	cJSON_AddNumberToObject(j, "Timeout", f->timeout);
	cJSON_AddNumberToObject(j, "MemorySize", f->memory);
	cJSON_AddStringToObject(j, "LastModified", f->last_modified);
	cJSON_AddStringToObject(j, "CodeSha256", f->code_sha256);
	cJSON_AddStringToObject(j, "Version", function_version(f));
	o = cJSON_AddObjectToObject(j, "Environment");
	cJSON_AddItemToObject(o, "Variables", cJSON_Duplicate(f->env, 1));
	cJSON_AddStringToObject(j, "RevisionId", f->revision_id);
	if (!f->code) { /* being created: its code is still unpacking */
		cJSON_AddStringToObject(j, "State", "Pending");
		cJSON_AddStringToObject(j, "StateReason", "The function is being created.");
		cJSON_AddStringToObject(j, "StateReasonCode", "Creating");
		cJSON_AddStringToObject(j, "LastUpdateStatus", "InProgress");
	} else {
		cJSON_AddStringToObject(j, "State", "Active");
		cJSON_AddStringToObject(j, "LastUpdateStatus",
		                        f->code_busy ? "InProgress" : "Successful");
	}
	cJSON_AddStringToObject(j, "PackageType", "Zip");
	settings_to_json(emu, f, j);
	free(arn);
	return j;
}

struct function *function_from_json(const cJSON *j, struct lk_error *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "FunctionName");
	struct function *f = xcalloc(1, sizeof(*f));

	f->name = xstrdup(cJSON_IsString(v) ? v->valuestring : "");
	f->runtime = xstrdup("");
	f->timeout = 3;
	f->memory = 128;
	f->env = cJSON_CreateObject();
	f->settings = cJSON_CreateObject();
	f->refs = 1;
	/* Environment is stored as AWS returns it: {"Variables": {...}} */
	if (apply_config(f, j, true, err) < 0) {
		function_unref(f);
		return NULL;
	}
	v = cJSON_GetObjectItemCaseSensitive(j, "CodeSha256");
	snprintf(f->code_sha256, sizeof(f->code_sha256), "%s",
	         cJSON_IsString(v) ? v->valuestring : "");
	v = cJSON_GetObjectItemCaseSensitive(j, "CodeSize");
	f->code_size = cJSON_IsNumber(v) ? util_double_to_int64(v->valuedouble) : 0;
	v = cJSON_GetObjectItemCaseSensitive(j, "LastModified");
	snprintf(f->last_modified, sizeof(f->last_modified), "%s",
	         cJSON_IsString(v) ? v->valuestring : "");
	v = cJSON_GetObjectItemCaseSensitive(j, "RevisionId");
	snprintf(f->revision_id, sizeof(f->revision_id), "%s",
	         cJSON_IsString(v) ? v->valuestring : "");
	return f;
}

int functions_save(const struct emulator *emu, const struct function *f, struct lk_error *err)
{
	return save_config(emu, f, err);
}

char *function_dir_path(const struct emulator *emu, const char *name)
{
	return function_dir(emu, name);
}

/* Loads one function from <functions>/<name>/config.json; extracts code.zip again when the
 * recorded code directory is missing. */
static int load_one(struct emulator *emu, const char *name, struct lk_error *err)
{
	char *dir = function_dir(emu, name), *cfg = util_path_join(dir, "config.json");
	struct buf b = {0};
	cJSON *j = NULL;
	const cJSON *v;
	struct function *f = NULL;
	int rc = -1;

	if (util_read_file(cfg, &b, err) < 0)
		goto out;
	j = cJSON_ParseWithLength(b.data ? b.data : "", b.len);
	if (!j || !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "FunctionName"))) {
		lk_error_set(err, "StateCorrupt", "%s: not a function configuration", cfg);
		goto out;
	}
	f = function_from_json(j, err);
	if (!f) {
		char why[sizeof(err->message)];

		snprintf(why, sizeof(why), "%s", err->message);
		lk_error_set(err, "StateCorrupt", "%s: %s", cfg, why);
		goto out;
	}
	free(f->name);
	f->name = xstrdup(name);
	v = cJSON_GetObjectItemCaseSensitive(j, "LambdeckCodeDir");
	{
		char *codes = code_root(emu, name), *old = util_path_join(dir, "code");
		char *cd = cJSON_IsString(v) && !strchr(v->valuestring, '/')
		               ? util_path_join(codes, v->valuestring)
		               : NULL;

		if (strcmp(old, codes)) /* older versions unpacked into the project */
			emu_rm_rf(old);
		free(old);
		/* drop older code dirs and unpacks (.tmp-*) cut short by a crash */
		DIR *d = opendir(codes);
		struct dirent *de;

		while (d && (de = readdir(d))) {
			char *p;

			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
			    (cd && !strcmp(strrchr(cd, '/') + 1, de->d_name)))
				continue;
			p = util_path_join(codes, de->d_name);
			emu_rm_rf(p);
			free(p);
		}
		if (d)
			closedir(d);
		if (!cd || !util_is_dir(cd)) {
			char *zpath = util_path_join(dir, "code.zip");
			struct buf z = {0};
			char id[17];

			free(cd);
			emu_random_hex(id, 8);
			cd = util_path_join(codes, id);
			if (util_read_file(zpath, &z, err) < 0 ||
			    emu_unzip(z.data, z.len, cd, err) < 0) {
				free(zpath), buf_free(&z), free(codes), free(cd);
				goto out;
			}
			free(zpath);
			buf_free(&z);
		}
		f->code = codedir_new(emu, cd);
		free(cd);
		free(codes);
	}
	registry_insert(emu, f);
	versions_load(emu, f);
	f = NULL;
	rc = 0;
out:
	if (f)
		function_unref(f);
	cJSON_Delete(j);
	buf_free(&b);
	free(cfg);
	free(dir);
	return rc;
}

/* A function directory without config.json is a CreateFunction that never finished (the
 * emulator was killed while unpacking): nothing was promised to the client, so it goes.
 * Temp files of interrupted atomic writes go too. Returns true when the dir was removed. */
static bool sweep_unfinished(struct emulator *emu, const char *name)
{
	char *dir = function_dir(emu, name), *cfg = util_path_join(dir, "config.json");
	bool gone = false;
	DIR *d;
	struct dirent *de;

	if (access(cfg, F_OK) != 0 && errno == ENOENT) {
		char *codes = code_root(emu, name);

		emu_log(emu, "removing %s: its CreateFunction never finished", dir);
		emu_rm_rf(codes);
		emu_rm_rf(dir);
		free(codes);
		gone = true;
	} else if ((d = opendir(dir))) {
		while ((de = readdir(d))) {
			if (strstr(de->d_name, ".tmp.")) {
				char *p = util_path_join(dir, de->d_name);

				unlink(p);
				free(p);
			}
		}
		closedir(d);
	}
	free(cfg);
	free(dir);
	return gone;
}

int functions_load(struct emulator *emu, struct lk_error *err)
{
	DIR *d = opendir(emu->functions_dir);
	struct dirent *de;

	code_cache_gc(emu);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		struct lk_error e = {0};

		if (!strncmp(de->d_name, TRASH_PREFIX, strlen(TRASH_PREFIX))) {
			char *p = util_path_join(emu->functions_dir, de->d_name);

			emu_rm_rf(p); /* a delete cut short by a crash */
			free(p);
			continue;
		}
		if (de->d_name[0] == '.' || !valid_name(de->d_name))
			continue;
		if (sweep_unfinished(emu, de->d_name))
			continue;
		if (load_one(emu, de->d_name, &e) < 0)
			emu_log(emu, "skipping function %s: %s", de->d_name, e.message);
	}
	closedir(d);
	(void)err;
	return 0;
}

void functions_free_all(struct emulator *emu)
{
	while (emu->functions) {
		struct function *f = emu->functions;

		emu->functions = f->next;
		function_unref(f);
	}
}
