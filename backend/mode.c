/* mode.c - LOCAL / AWS selection, and in LOCAL mode attaching to the project's emulator or
 * starting one (`lambdeck emulate` as a child, argv only), with lease files so that
 * consoles and commands on one project share one emulator. See mode.h for the rules. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend/mode.h"
#include "backend/project.h"

#define START_TIMEOUT_MS 30000 /* whole acquire: attach, or wait for a leaving one, start */
#define RETRY_MS         100   /* while an emulator starts or leaves */
#define LOCK_RETRY_MS    5     /* while another process holds the lease registry lock */

struct waiter {
	mode_ready_fn cb;
	void *user;
	struct waiter *next;
};

struct mode {
	uv_loop_t *loop;
	enum mode_kind kind;
	char *project_dir;
	char *profile, *region, *endpoint_opt, *exe, *state_dir;
	bool keep_emulator;
	bool share; /* lambdeck.json "share_with_group" */

	struct mode_config cfg;
	char *endpoint, *cfg_region, *cfg_profile, *credentials_file, *description;
	bool ready, failed, acquiring;
	struct lk_error err;
	struct waiter *waiters;

	/* LOCAL */
	int emulator_pid;
	bool started_by_us;
	char lease_id[48];
	char *lease_path;
	uv_process_t *child;
	uv_pipe_t *child_out;
	struct buf child_line;
	uv_timer_t *timer;
	uint64_t deadline_ns; /* of the current acquire */
};

enum mode_kind mode_select(const struct mode_options *o)
{
	if (o->force_local)
		return MODE_LOCAL;
	if (o->force_aws || (o->profile && *o->profile) || (o->region && *o->region) ||
	    (o->endpoint && *o->endpoint))
		return MODE_AWS;
	if (o->project_mode && !strcmp(o->project_mode, "aws"))
		return MODE_AWS;
	return MODE_LOCAL;
}

static const char *first(const char *a, const char *b, const char *c)
{
	if (a && *a)
		return a;
	if (b && *b)
		return b;
	if (c && *c)
		return c;
	return NULL;
}

struct mode *mode_new(uv_loop_t *loop, const struct mode_options *o, struct lk_error *err)
{
	struct mode *m = xcalloc(1, sizeof(*m));
	char *abs;

	(void)err;
	m->loop = loop;
	m->kind = mode_select(o);
	abs = realpath(o->project_dir ? o->project_dir : ".", NULL);
	m->project_dir = abs ? abs : xstrdup(o->project_dir ? o->project_dir : ".");
	m->profile = xstrdup(first(o->profile, o->project_profile, NULL));
	m->region = xstrdup(first(o->region, o->project_region, NULL));
	m->endpoint_opt = xstrdup(o->endpoint && *o->endpoint ? o->endpoint : NULL);
	m->exe = xstrdup(o->lambdeck_exe);
	m->state_dir = o->state_dir ? xstrdup(o->state_dir)
	                            : xasprintf("%s/.lambdeck/emulator", m->project_dir);
	m->keep_emulator = o->keep_emulator;
	m->emulator_pid = -1;
	if (m->kind == MODE_AWS) {
		const char *prof = first(m->profile, getenv("AWS_PROFILE"), NULL);
		const char *reg =
		    first(m->region, getenv("AWS_REGION"), getenv("AWS_DEFAULT_REGION"));

		m->description = xasprintf(
		    "AWS %s %s%s%s", prof ? prof : "default", reg ? reg : "(region from profile)",
		    m->endpoint_opt ? " " : "", m->endpoint_opt ? m->endpoint_opt : "");
	} else {
		struct project *p = NULL;
		struct lk_error perr = {0}; /* the caller reports project errors, not us */

		project_load(m->project_dir, &p, &perr);
		m->share = p && p->share_with_group;
		project_free(p);
		m->description = xstrdup("LOCAL emulator starting…");
	}
	return m;
}

enum mode_kind mode_kind(const struct mode *m)
{
	return m->kind;
}

const char *mode_describe(const struct mode *m)
{
	return m->description;
}

const struct mode_config *mode_config(const struct mode *m)
{
	return m->ready ? &m->cfg : NULL;
}

/* Calls every waiter (in order of registration). */
static void notify(struct mode *m)
{
	struct waiter *w = m->waiters;

	m->waiters = NULL;
	m->acquiring = false;
	while (w) {
		struct waiter *next = w->next;

		w->cb(w->user, m->ready ? &m->cfg : NULL, m->ready ? NULL : &m->err);
		free(w);
		w = next;
	}
}

static void on_timer_closed(uv_handle_t *h)
{
	free(h);
}

static void stop_timer(struct mode *m)
{
	if (m->timer) {
		uv_close((uv_handle_t *)m->timer, on_timer_closed);
		m->timer = NULL;
	}
}

static void fail(struct mode *m, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fail(struct mode *m, const char *code, const char *fmt, ...)
{
	va_list ap;

	lk_error_clear(&m->err);
	snprintf(m->err.code, sizeof(m->err.code), "%s", code);
	va_start(ap, fmt);
	vsnprintf(m->err.message, sizeof(m->err.message), fmt, ap);
	va_end(ap);
	m->failed = true;
	free(m->description);
	m->description = xasprintf("LOCAL emulator unavailable: %s", m->err.message);
	stop_timer(m);
	notify(m);
}

/* ---- leases ---- */

static bool pid_alive(int pid)
{
	return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

static void write_lease(struct mode *m)
{
	char *dir = util_path_join(m->state_dir, "users");
	char id[24], line[64];
	unsigned char r[32];

	util_mkdir_p(dir, m->share ? 0770 : 0700, NULL);
	if (m->share)
		chmod(dir, 0770); /* group members hold leases too (fails harmlessly if not ours) */
	util_sha256(&m, sizeof(m), r); /* unique per object, no randomness needed */
	util_hex(r, 8, id);
	snprintf(m->lease_id, sizeof(m->lease_id), "%d-%.8s", (int)getpid(), id);
	m->lease_path = util_path_join(dir, m->lease_id);
	snprintf(line, sizeof(line), "%d\n", (int)getpid());
	util_write_atomic(m->lease_path, line, strlen(line), 0600, NULL);
	free(dir);
	if (m->started_by_us && !m->keep_emulator) {
		char *owner = util_path_join(m->state_dir, "owner");

		util_write_atomic(owner, m->lease_id, strlen(m->lease_id), 0600, NULL);
		free(owner);
	}
}

int mode_users_lock(const char *state_dir, bool share)
{
	char *dir = util_path_join(state_dir, "users");
	char *path = util_path_join(dir, ".lock");
	int fd, e;

	/* only inside an existing state dir: creating it (and .lambdeck/, which follows the
	 * user's umask) is start_emulator's business */
	if (mkdir(dir, share ? 0770 : 0700) == 0) {
		if (share)
			chmod(dir, 0770); /* group members hold leases too, whatever the umask */
	} else if (errno != EEXIST) {
		e = errno;
		free(path);
		free(dir);
		errno = e;
		return -1;
	}
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, share ? 0660 : 0600);
	if (fd < 0 && errno == EACCES) /* a group member's file: flock needs no write access */
		fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && share)
		fchmod(fd, 0660); /* fails harmlessly when the file is not ours */
	free(path);
	free(dir);
	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

void mode_users_unlock(int fd)
{
	if (fd >= 0)
		close(fd); /* closing the only descriptor releases the flock */
}

int mode_live_leases(const char *state_dir, const char *except)
{
	char *dir = util_path_join(state_dir, "users");
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	while (d && (de = readdir(d))) {
		int pid = atoi(de->d_name);

		if (de->d_name[0] == '.' || (except && !strcmp(de->d_name, except)))
			continue;
		if (pid_alive(pid)) {
			n++;
		} else {
			char *p = util_path_join(dir, de->d_name);

			unlink(p);
			free(p);
		}
	}
	if (d)
		closedir(d);
	free(dir);
	return n;
}

/* ---- the emulator's endpoint file ---- */

/* True when an emulator holds the state dir's lock (flock probe, never blocks). */
static bool emulator_running(const char *state_dir)
{
	char *path = util_path_join(state_dir, "lock");
	int fd = open(path, O_RDONLY | O_CLOEXEC); /* group members may only read it */
	bool held = false;

	free(path);
	if (fd < 0)
		return false;
	if (flock(fd, LOCK_SH | LOCK_NB) < 0)
		held = errno == EWOULDBLOCK;
	else
		flock(fd, LOCK_UN);
	close(fd);
	return held;
}

/* Takes endpoint, region, credentials file and pid from an emulator's JSON line. */
static int take_info(struct mode *m, const char *json, size_t len)
{
	cJSON *j = cJSON_ParseWithLength(json, len);
	const cJSON *ep = cJSON_GetObjectItemCaseSensitive(j, "endpoint");
	const cJSON *rg = cJSON_GetObjectItemCaseSensitive(j, "region");
	const cJSON *cf = cJSON_GetObjectItemCaseSensitive(j, "credentials_file");
	const cJSON *pid = cJSON_GetObjectItemCaseSensitive(j, "pid");

	if (!cJSON_IsString(ep) || !cJSON_IsString(rg) || !cJSON_IsString(cf)) {
		cJSON_Delete(j);
		return -1;
	}
	m->endpoint = xstrdup(ep->valuestring);
	m->cfg_region = xstrdup(rg->valuestring);
	m->credentials_file = xstrdup(cf->valuestring);
	m->emulator_pid = cJSON_IsNumber(pid) ? pid->valueint : -1;
	cJSON_Delete(j);
	return 0;
}

static void become_ready(struct mode *m)
{
	const char *hostport = strstr(m->endpoint, "://");

	m->cfg = (struct mode_config){
	    .kind = MODE_LOCAL,
	    .endpoint = m->endpoint,
	    .region = m->cfg_region,
	    .profile = "lambdeck-local",
	    .credentials_file = m->credentials_file,
	};
	free(m->description);
	m->description = xasprintf("LOCAL emulator %s", hostport ? hostport + 3 : m->endpoint);
	m->cfg.description = m->description;
	m->ready = true;
	if (m->started_by_us && m->child)
		uv_unref((uv_handle_t *)m->child); /* never keeps a CLI's loop alive */
	stop_timer(m);
	notify(m);
}

enum attach { ATTACH_OK, ATTACH_BUSY, ATTACH_NONE };

/* Attaches when the endpoint file names a running emulator: under the lease registry lock,
 * checks the endpoint and writes our lease, so an emulator deciding to exit (it decides only
 * under the same lock, and removes its endpoint file before releasing it) either sees the
 * lease and stays, or has already withdrawn the endpoint and is never attached to. */
static enum attach try_attach(struct mode *m)
{
	char *path = util_path_join(m->state_dir, "endpoint");
	struct buf b = {0};
	bool ok = false;
	int lock = mode_users_lock(m->state_dir, m->share);

	if (lock < 0 && errno == EWOULDBLOCK) {
		free(path);
		return ATTACH_BUSY;
	}
	free(m->endpoint), free(m->cfg_region), free(m->credentials_file);
	m->endpoint = m->cfg_region = m->credentials_file = NULL;
	if (emulator_running(m->state_dir) && util_read_file(path, &b, NULL) == 0 &&
	    take_info(m, b.data ? b.data : "", b.len) == 0) {
		if (pid_alive(m->emulator_pid)) {
			ok = true;
		} else {
			free(m->endpoint), free(m->cfg_region), free(m->credentials_file);
			m->endpoint = m->cfg_region = m->credentials_file = NULL;
		}
	}
	if (ok) {
		m->started_by_us = m->child && m->child->pid == m->emulator_pid;
		write_lease(m);
	}
	mode_users_unlock(lock);
	buf_free(&b);
	free(path);
	return ok ? ATTACH_OK : ATTACH_NONE;
}

/* True (and fails m with advice) when the state dir belongs to someone else and its
 * credentials are not readable by us: starting a second emulator there would fight the
 * first over the directory, so say how to share instead. */
static bool foreign_state(struct mode *m)
{
	char *cred = util_path_join(m->state_dir, "credentials");
	struct stat st, cst;
	bool unreadable;

	if (stat(m->state_dir, &st) < 0 || st.st_uid == geteuid()) {
		free(cred);
		return false;
	}
	if (stat(cred, &cst) == 0)
		unreadable = access(cred, R_OK) != 0;
	else
		unreadable = errno != ENOENT || access(m->state_dir, R_OK | W_OK | X_OK) != 0;
	if (unreadable) {
		struct passwd *pw = getpwuid(st.st_uid);
		struct group *gr = getgrgid(st.st_gid);
		char owner[64], group[64];

		snprintf(owner, sizeof(owner), "%s", pw ? pw->pw_name : "?");
		if (!pw)
			snprintf(owner, sizeof(owner), "uid %d", (int)st.st_uid);
		snprintf(group, sizeof(group), "%s", gr ? gr->gr_name : "?");
		if (!gr)
			snprintf(group, sizeof(group), "gid %d", (int)st.st_gid);
		fail(m, "EmulatorNotShared",
		     "the project's emulator state %s belongs to user %s and its credentials "
		     "(%s) are not readable by you; not starting a second emulator on it. To share "
		     "it: set \"share_with_group\": true in lambdeck.json, make both users members "
		     "of group %s, and restart the emulator (or use --aws)",
		     m->state_dir, owner, cred, group);
	}
	free(cred);
	return unreadable;
}

/* ---- starting an emulator ---- */

static void on_child_closed(uv_handle_t *h)
{
	free(h);
}

static void close_child_out(struct mode *m)
{
	if (m->child_out) {
		uv_close((uv_handle_t *)m->child_out, on_child_closed);
		m->child_out = NULL;
	}
}

static void attach_or_start(struct mode *m);

static void on_step(uv_timer_t *t)
{
	attach_or_start(t->data);
}

/* Runs attach_or_start again after delay_ms, or fails once the acquire's deadline passed. */
static void retry_later(struct mode *m, uint64_t delay_ms)
{
	if (util_monotonic_ns() > m->deadline_ns) {
		fail(m, "EmulatorUnavailable",
		     "the local emulator did not start within %d s; see %s/emulator.log",
		     START_TIMEOUT_MS / 1000, m->state_dir);
		return;
	}
	if (m->timer)
		uv_timer_start(m->timer, on_step, delay_ms, 0);
}

static void on_child_exit(uv_process_t *p, int64_t status, int sig)
{
	struct mode *m = p->data;

	(void)status, (void)sig;
	if (!m)
		return; /* mode_free closed the handle already */
	uv_close((uv_handle_t *)p, on_child_closed);
	m->child = NULL;
	if (m->ready || m->failed)
		return;
	/* It exited before we attached: most likely another process started one at the same
	 * moment and won the lock, or the one leaving still held it. Attach to the winner, or
	 * start again once the leaving one is gone. */
	close_child_out(m);
	attach_or_start(m);
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
	(void)h;
	b->base = xmalloc(suggested);
	b->len = suggested;
}

/* The child prints its JSON line once its endpoint file is written: attach to it then (the
 * lease goes in under the registry lock like any other user's). */
static void on_child_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct mode *m = s->data;
	char *nl;

	if (n > 0)
		buf_append(&m->child_line, b->base, (size_t)n);
	free(b->base);
	if (m->ready || m->failed)
		return;
	nl = m->child_line.data ? memchr(m->child_line.data, '\n', m->child_line.len) : NULL;
	if (nl) {
		close_child_out(m);
		attach_or_start(m);
	} else if (n < 0) {
		close_child_out(m); /* exit handling decides */
	}
}

static char *self_exe(void)
{
	char buf[4096];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);

	if (n <= 0)
		return NULL;
	buf[n] = 0;
	return xstrdup(buf);
}

static void start_emulator(struct mode *m)
{
	char *exe = m->exe ? xstrdup(m->exe) : self_exe();
	char *log_path = util_path_join(m->state_dir, "emulator.log");
	char *args[] = {exe,          "emulate", "--port", "0", "--state-dir",
	                m->state_dir, NULL,      NULL,     NULL};
	char *parent = xstrdup(m->state_dir), *slash = strrchr(parent, '/');
	int argc = 6;
	uv_process_options_t po = {0};
	uv_stdio_container_t stdio[3];
	struct lk_error e = {0};
	int logfd, rc;

	if (!exe) {
		free(log_path);
		fail(m, "EmulatorUnavailable",
		     "cannot find the lambdeck binary to start the emulator");
		return;
	}
	if (slash && slash != parent) { /* .lambdeck/ itself follows the user's umask */
		*slash = 0;
		util_mkdir_p(parent, 0777, NULL);
	}
	free(parent);
	buf_reset(&m->child_line); /* an earlier child of this acquire may have printed */
	if (m->share)
		args[argc++] = "--share-with-group";
	if (!m->keep_emulator) /* a crashed console's emulator does not linger */
		args[argc++] = "--exit-when-unused";
	if (util_mkdir_p(m->state_dir, m->share ? 0750 : 0700, &e) < 0) {
		free(exe), free(log_path);
		fail(m, "EmulatorUnavailable", "%s", e.message);
		return;
	}
	logfd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	m->child = xcalloc(1, sizeof(*m->child));
	m->child->data = m;
	m->child_out = xcalloc(1, sizeof(*m->child_out));
	m->child_out->data = m;
	uv_pipe_init(m->loop, m->child_out, 0);
	stdio[0].flags = UV_IGNORE;
	stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	stdio[1].data.stream = (uv_stream_t *)m->child_out;
	if (logfd >= 0) {
		stdio[2].flags = UV_INHERIT_FD;
		stdio[2].data.fd = logfd;
	} else {
		stdio[2].flags = UV_IGNORE;
	}
	po.file = exe;
	po.args = args;
	po.flags = UV_PROCESS_DETACHED; /* own session: survives the terminal, not our signals */
	po.stdio = stdio;
	po.stdio_count = 3;
	po.exit_cb = on_child_exit;
	rc = uv_spawn(m->loop, m->child, &po);
	if (logfd >= 0)
		close(logfd);
	if (rc != 0) {
		free(m->child);
		m->child = NULL;
		close_child_out(m);
		fail(m, "EmulatorUnavailable", "cannot start %s emulate: %s", exe, uv_strerror(rc));
		free(exe), free(log_path);
		return;
	}
	uv_read_start((uv_stream_t *)m->child_out, alloc_cb, on_child_read);
	free(exe);
	free(log_path);
}

/* One step of acquiring LOCAL mode: attach to the published emulator; else wait while one
 * is starting (ours or another process's) or leaving (it holds the state lock but withdrew
 * its endpoint); else start one. Repeats until attached or the deadline passes, so a user
 * that arrives while the emulator exits waits for it and starts (or attaches to) the next. */
static void attach_or_start(struct mode *m)
{
	switch (try_attach(m)) {
	case ATTACH_OK:
		become_ready(m);
		return;
	case ATTACH_BUSY:
		retry_later(m, LOCK_RETRY_MS);
		return;
	case ATTACH_NONE:
		break;
	}
	if (m->child || emulator_running(m->state_dir)) {
		retry_later(m, RETRY_MS); /* our child's line or exit also brings us back */
		return;
	}
	if (util_monotonic_ns() > m->deadline_ns) {
		retry_later(m, 0); /* fails with the timeout */
		return;
	}
	if (foreign_state(m))
		return;
	start_emulator(m);
	if (!m->failed)
		retry_later(m, RETRY_MS);
}

/* First step of an acquire, run from the loop (never inside mode_acquire itself). */
static void on_begin(uv_timer_t *t)
{
	struct mode *m = t->data;

	if (m->kind == MODE_AWS) {
		m->cfg = (struct mode_config){
		    .kind = MODE_AWS,
		    .endpoint = m->endpoint_opt,
		    .region = m->region,
		    .profile = m->profile,
		    .credentials_file = NULL,
		    .description = m->description,
		};
		m->ready = true;
		stop_timer(m);
		notify(m);
		return;
	}
	m->deadline_ns = util_monotonic_ns() + (uint64_t)START_TIMEOUT_MS * 1000000u;
	attach_or_start(m);
}

static void on_notify(uv_timer_t *t)
{
	struct mode *m = t->data;

	stop_timer(m);
	notify(m);
}

int mode_acquire(struct mode *m, mode_ready_fn cb, void *user)
{
	struct waiter *w = xcalloc(1, sizeof(*w)), **pp = &m->waiters;

	w->cb = cb;
	w->user = user;
	while (*pp)
		pp = &(*pp)->next;
	*pp = w;
	if (m->acquiring)
		return 0;
	m->acquiring = true;
	if (!m->timer) {
		m->timer = xcalloc(1, sizeof(*m->timer));
		uv_timer_init(m->loop, m->timer);
		m->timer->data = m;
	}
	if (m->ready || m->failed)
		uv_timer_start(m->timer, on_notify, 0, 0);
	else
		uv_timer_start(m->timer, on_begin, 0, 0);
	return 0;
}

static void sync_done(void *user, const struct mode_config *cfg, const struct lk_error *err)
{
	(void)cfg, (void)err;
	*(bool *)user = true;
}

const struct mode_config *mode_acquire_sync(struct mode *m, struct lk_error *err)
{
	bool done = false;

	mode_acquire(m, sync_done, &done);
	while (!done)
		uv_run(m->loop, UV_RUN_ONCE);
	if (!m->ready) {
		if (err)
			*err = m->err;
		return NULL;
	}
	return &m->cfg;
}

void mode_aws_options(const struct mode_config *cfg, struct aws_options *o)
{
	memset(o, 0, sizeof(*o));
	if (!cfg)
		return;
	o->endpoint_url = cfg->endpoint;
	o->region = cfg->region;
	o->profile = cfg->profile;
	if (cfg->kind == MODE_LOCAL) {
		/* only the emulator's own keys; the user's files and variables cannot interfere */
		o->credentials_file = cfg->credentials_file;
		o->config_file = "/dev/null";
		o->ignore_env_credentials = true;
	}
}

/* Takes the lease registry lock for a teardown: its holders keep it for a few file
 * operations, so a few short tries suffice; -1 when it stays busy (or cannot be opened). */
static int users_lock_briefly(const struct mode *m)
{
	for (int i = 0; i < 40; i++) {
		int fd = mode_users_lock(m->state_dir, m->share);

		if (fd >= 0 || errno != EWOULDBLOCK)
			return fd;
		usleep(5000);
	}
	return -1;
}

/* Removes the endpoint file when it still names the emulator with that pid. */
static void withdraw_endpoint(const char *state_dir, int pid)
{
	char *path = util_path_join(state_dir, "endpoint");
	struct buf b = {0};
	char needle[32];

	snprintf(needle, sizeof(needle), "\"pid\":%d", pid);
	if (util_read_file(path, &b, NULL) == 0 && b.data) {
		const char *at = strstr(b.data, needle);

		if (at && (at[strlen(needle)] < '0' || at[strlen(needle)] > '9'))
			unlink(path);
	}
	buf_free(&b);
	free(path);
}

/* Drops our lease and stops the emulator when this object is responsible for it and nobody
 * else uses it. Done under the lease registry lock, and the endpoint is withdrawn before
 * the lock is released: a user registering right after us finds no endpoint and waits for
 * this emulator to go, then starts the next one, instead of attaching to one being stopped.
 * When the lock stays busy the emulator is left to its own --exit-when-unused check. */
static void release_emulator(struct mode *m)
{
	char *owner_path = util_path_join(m->state_dir, "owner");
	struct buf owner = {0};
	bool responsible = false;
	int lock = users_lock_briefly(m);

	if (m->lease_path)
		unlink(m->lease_path);
	if (util_read_file(owner_path, &owner, NULL) == 0 && owner.data) {
		int opid = atoi(owner.data);

		/* ours, or the starter is gone and left the duty to the remaining users */
		responsible = !strcmp(owner.data, m->lease_id) || !pid_alive(opid);
	}
	if (lock >= 0 && responsible && !m->keep_emulator && m->emulator_pid > 0 &&
	    emulator_running(m->state_dir)) {
		if (mode_live_leases(m->state_dir, m->lease_id) == 0) {
			unlink(owner_path);
			withdraw_endpoint(m->state_dir, m->emulator_pid);
			kill(m->emulator_pid, SIGTERM);
		} else {
			/* hand the duty over: whoever leaves last stops it */
			util_write_atomic(owner_path, "0", 1, 0600, NULL);
		}
	}
	mode_users_unlock(lock);
	buf_free(&owner);
	free(owner_path);
}

void mode_free(struct mode *m)
{
	struct waiter *w;

	if (!m)
		return;
	if (m->kind == MODE_LOCAL && m->ready)
		release_emulator(m);
	stop_timer(m);
	close_child_out(m);
	if (m->child) {
		m->child->data = NULL;
		uv_close((uv_handle_t *)m->child, on_child_closed);
	}
	while ((w = m->waiters)) {
		m->waiters = w->next;
		free(w);
	}
	buf_free(&m->child_line);
	free(m->project_dir);
	free(m->profile);
	free(m->region);
	free(m->endpoint_opt);
	free(m->exe);
	free(m->state_dir);
	free(m->endpoint);
	free(m->cfg_region);
	free(m->credentials_file);
	free(m->description);
	free(m->lease_path);
	free(m);
}
