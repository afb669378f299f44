/* services_run.c - the declared services as child process groups of the emulator. See
 * services_run.h. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "backend/childguard.h"
#include "backend/emulator/emu_internal.h"
#include "backend/emulator/services_run.h"

#define SVC_HOST            "127.0.0.1"
#define SVC_TAIL_LINES      12         /* last output lines kept for messages */
#define SVC_LOG_MAX         (4u << 20) /* output.log is rotated to output.log.1 past this */
#define SVC_STOP_GRACE_MS   5000       /* SIGTERM, then SIGKILL */
#define SVC_CHECK_MS        150        /* readiness probe interval */
#define SVC_MAX_EARLY_FAILS 5          /* exits before ready in a row: then failed */
#define SVC_BACKOFF_MAX_MS  30000
#define SVC_STABLE_MS       30000 /* up this long: the backoff starts over */

enum svc_state {
	SVC_WAITING,    /* for its dependencies */
	SVC_INSTALLING, /* npm install into the cache */
	SVC_INIT,       /* init command */
	SVC_STARTING,   /* spawned, not yet ready */
	SVC_READY,
	SVC_BACKOFF, /* exited; restarts after a delay */
	SVC_FAILED,
	SVC_STOPPED,
	SVC_STOPPING,
};

static const char *const state_names[] = {"waiting",  "installing", "initializing",
                                          "starting", "ready",      "restarting",
                                          "failed",   "stopped",    "stopping"};

struct services_run;

struct svc {
	struct services_run *r;
	const struct service_spec *spec;
	enum svc_state state;
	char *dir, *data_dir, *log_path;
	int port;
	uv_process_t *proc; /* the service or its init/install command; NULL when none */
	bool proc_is_aux;   /* proc is an npm install or init command */
	uv_pipe_t *out, *err;
	uv_timer_t *timer; /* readiness probes, backoff, stop grace */
	uv_tcp_t *probe;   /* a readiness connection in flight */
	struct buf probe_in;
	int64_t started_ms, deadline_ms;
	int restarts, early_fails;
	bool want_stop;     /* stop requested: no restart */
	bool restart_after; /* start again once the process is gone */
	bool reset_after;   /* empty data/ once the process is gone */
	char *tail[SVC_TAIL_LINES];
	size_t tail_next;
	struct buf partial; /* an output line not yet ended */
	char *message;      /* why it failed / what it waits for */
	char *last_request; /* the control request handled last (its file name) */
	/* output.log and state.json are written on the thread pool, one write at a time */
	struct buf log_pending;
	bool log_busy, state_busy, state_dirty;
};

struct services_run {
	uv_loop_t *loop;
	struct services_config *cfg;
	struct services_run_options o;
	char *dir, *control_dir, *npm_dir;
	struct svc *v;
	size_t n;
	uv_fs_event_t *watch;
	uv_timer_t *poll;
	bool stopping;
	int pending_work; /* thread-pool jobs not yet back */
	bool freed_wanted;
};

static void svc_start(struct svc *s);
static void svc_kick_all(struct services_run *r);
static void svc_state_save(struct svc *s);

/* ---- logging ---- */

static void run_log(struct services_run *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void run_log(struct services_run *r, const char *fmt, ...)
{
	struct buf b = {0};
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (r->o.log)
		r->o.log(r->o.log_ctx, b.data ? b.data : "");
	buf_free(&b);
}

/* The last output lines, oldest first, " | "-joined for a message. */
static char *svc_tail_text(const struct svc *s)
{
	struct buf b = {0};

	for (size_t i = 0; i < SVC_TAIL_LINES; i++) {
		const char *l = s->tail[(s->tail_next + i) % SVC_TAIL_LINES];

		if (l && *l)
			buf_printf(&b, "%s%s", b.len ? " | " : "", l);
	}
	return buf_steal(&b);
}

static void svc_tail_clear(struct svc *s)
{
	for (size_t i = 0; i < SVC_TAIL_LINES; i++) {
		free(s->tail[i]);
		s->tail[i] = NULL;
	}
}

static void svc_set_state(struct svc *s, enum svc_state st, const char *message)
{
	s->state = st;
	free(s->message);
	s->message = xstrdup(message);
	svc_state_save(s);
}

static void svc_fail(struct svc *s, const char *why)
{
	char *tail = svc_tail_text(s);

	char *msg = *tail ? xasprintf("%s; last output: %s", why, tail) : xstrdup(why);

	run_log(s->r, "service %s failed: %s", s->spec->name, msg);
	svc_set_state(s, SVC_FAILED, msg);
	free(msg);
	free(tail);
	svc_kick_all(s->r); /* dependents report what they wait for */
}

/* ---- thread-pool writes ---- */

struct file_job {
	uv_work_t req;
	struct svc *s;
	char *path;
	struct buf data;
	bool append, is_state;
	char *rm_path; /* reset: the tree to remove */
};

static void file_job_work(uv_work_t *req)
{
	struct file_job *j = req->data;

	if (j->rm_path) {
		emu_rm_rf(j->rm_path);
		mkdir(j->rm_path, 0700);
		return;
	}
	if (j->append) {
		struct stat st;
		int fd;

		if (stat(j->path, &st) == 0 && (size_t)st.st_size > SVC_LOG_MAX) {
			char *old = xasprintf("%s.1", j->path);

			rename(j->path, old);
			free(old);
		}
		fd = open(j->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (fd >= 0) {
			ssize_t n = write(fd, j->data.data, j->data.len);

			(void)n;
			close(fd);
		}
	} else {
		util_write_atomic(j->path, j->data.data ? j->data.data : "", j->data.len, 0600,
		                  NULL);
	}
}

static void svc_log_flush(struct svc *s);

static void file_job_done(uv_work_t *req, int status)
{
	struct file_job *j = req->data;
	struct svc *s = j->s;
	struct services_run *r = s->r;

	(void)status;
	r->pending_work--;
	if (j->rm_path) {
		s->reset_after = false;
		if (!r->stopping && !s->want_stop)
			svc_start(s);
		else
			svc_state_save(s);
	} else if (j->is_state) {
		s->state_busy = false;
		if (s->state_dirty)
			svc_state_save(s);
	} else {
		s->log_busy = false;
		svc_log_flush(s);
	}
	free(j->path);
	free(j->rm_path);
	buf_free(&j->data);
	free(j);
	if (r->freed_wanted && !r->pending_work)
		services_run_free(r);
}

static void file_job_queue(struct svc *s, struct file_job *j)
{
	j->s = s;
	j->req.data = j;
	s->r->pending_work++;
	uv_queue_work(s->r->loop, &j->req, file_job_work, file_job_done);
}

static void svc_log_flush(struct svc *s)
{
	struct file_job *j;

	if (s->log_busy || !s->log_pending.len)
		return;
	j = xcalloc(1, sizeof(*j));
	j->path = xstrdup(s->log_path);
	j->append = true;
	j->data = s->log_pending;
	s->log_pending = (struct buf){0};
	s->log_busy = true;
	file_job_queue(s, j);
}

/* state.json: what `lambdeck services` shows. */
static cJSON *svc_json(const struct svc *s)
{
	cJSON *j = cJSON_CreateObject(), *ex = cJSON_CreateObject();

	cJSON_AddStringToObject(j, "name", s->spec->name);
	cJSON_AddStringToObject(j, "kind", s->spec->kind ? s->spec->kind : "command");
	cJSON_AddStringToObject(j, "state", state_names[s->state]);
	cJSON_AddNumberToObject(j, "pid", s->proc && !s->proc_is_aux ? s->proc->pid : 0);
	cJSON_AddNumberToObject(j, "emulatorPid", (double)getpid());
	cJSON_AddStringToObject(j, "host", SVC_HOST);
	cJSON_AddNumberToObject(j, "port", s->port);
	cJSON_AddNumberToObject(j, "restarts", s->restarts);
	cJSON_AddStringToObject(j, "dataDir", s->data_dir);
	cJSON_AddStringToObject(j, "log", s->log_path);
	if (s->message)
		cJSON_AddStringToObject(j, "message", s->message);
	if (s->last_request)
		cJSON_AddStringToObject(j, "request", s->last_request);
	if (s->state == SVC_READY) {
		struct service_vars vars = {s->spec->name, SVC_HOST,      s->port,
		                            s->data_dir,   s->r->npm_dir, s->r->o.runtimes_dir};

		for (size_t i = 0; i < s->spec->n_exports; i++) {
			char *v = services_expand(s->spec->exports[i].value, &vars);

			cJSON_AddStringToObject(ex, s->spec->exports[i].name, v);
			free(v);
		}
	}
	cJSON_AddItemToObject(j, "env", ex);
	return j;
}

static void svc_state_save(struct svc *s)
{
	struct file_job *j;
	cJSON *o;
	char *text;

	if (s->state_busy) {
		s->state_dirty = true;
		return;
	}
	s->state_dirty = false;
	o = svc_json(s);
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	j = xcalloc(1, sizeof(*j));
	j->path = util_path_join(s->dir, "state.json");
	j->is_state = true;
	buf_puts(&j->data, text);
	buf_putc(&j->data, '\n');
	cJSON_free(text);
	s->state_busy = true;
	file_job_queue(s, j);
}

/* ---- output ---- */

static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	(void)h;
	(void)hint;
	b->base = xmalloc(16384);
	b->len = 16384;
}

static void svc_line(struct svc *s, const char *line, size_t len)
{
	struct buf clean = {0};

	util_sanitize(line, len, false, true, &clean);
	free(s->tail[s->tail_next]);
	s->tail[s->tail_next] = buf_steal(&clean);
	s->tail_next = (s->tail_next + 1) % SVC_TAIL_LINES;
}

static void on_output(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
	struct svc *s = st->data;

	if (n > 0) {
		buf_append(&s->log_pending, b->base, (size_t)n);
		buf_append(&s->partial, b->base, (size_t)n);
		for (;;) {
			char *nl = memchr(s->partial.data, '\n', s->partial.len);
			size_t used;

			if (!nl)
				break;
			used = (size_t)(nl - s->partial.data) + 1;
			svc_line(s, s->partial.data, used - 1);
			memmove(s->partial.data, s->partial.data + used, s->partial.len - used);
			s->partial.len -= used;
		}
		if (s->partial.len > 4096) {
			svc_line(s, s->partial.data, s->partial.len);
			buf_reset(&s->partial);
		}
		svc_log_flush(s);
	} else if (n < 0) {
		uv_close((uv_handle_t *)st, (uv_close_cb)free);
		if ((uv_pipe_t *)st == s->out)
			s->out = NULL;
		else if ((uv_pipe_t *)st == s->err)
			s->err = NULL; /* else a pipe of an earlier run */
	}
	free(b->base);
}

/* ---- processes ---- */

static void on_exit_cb(uv_process_t *p, int64_t status, int sig);

/* Frees a NULL-terminated vector. */
static void vec_free(char **v)
{
	if (!v)
		return;
	for (size_t i = 0; v[i]; i++)
		free(v[i]);
	free(v);
}

/* Spawns argv (already expanded) in its own process group with output into the service's
 * log; returns 0 or a uv error. */
static int svc_spawn(struct svc *s, char **argv, bool aux)
{
	extern char **environ;
	struct service_vars vars = {s->spec->name, SVC_HOST,      s->port,
	                            s->data_dir,   s->r->npm_dir, s->r->o.runtimes_dir};
	uv_process_options_t po = {0};
	uv_stdio_container_t stdio[3];
	size_t n = 0, k = 0;
	char **env, **gargv;
	int rc;

	while (environ[n])
		n++;
	env = xcalloc(n + s->spec->n_env + 2, sizeof(*env));
	for (size_t i = 0; i < n; i++) {
		bool overridden = !strncmp(environ[i], "PORT=", 5);

		for (size_t e = 0; e < s->spec->n_env && !overridden; e++) {
			size_t l = strlen(s->spec->env[e].name);

			overridden =
			    !strncmp(environ[i], s->spec->env[e].name, l) && environ[i][l] == '=';
		}
		if (!overridden)
			env[k++] = xstrdup(environ[i]);
	}
	env[k++] = xasprintf("PORT=%d", s->port);
	for (size_t e = 0; e < s->spec->n_env; e++) {
		char *v = services_expand(s->spec->env[e].value, &vars);

		env[k++] = xasprintf("%s=%s", s->spec->env[e].name, v);
		free(v);
	}
	s->proc = xcalloc(1, sizeof(*s->proc));
	s->proc->data = s;
	s->proc_is_aux = aux;
	s->out = xcalloc(1, sizeof(*s->out));
	s->err = xcalloc(1, sizeof(*s->err));
	uv_pipe_init(s->r->loop, s->out, 0);
	uv_pipe_init(s->r->loop, s->err, 0);
	s->out->data = s->err->data = s;
	stdio[0].flags = UV_IGNORE;
	stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	stdio[1].data.stream = (uv_stream_t *)s->out;
	stdio[2].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	stdio[2].data.stream = (uv_stream_t *)s->err;
	gargv = childguard_argv(argv, s->r->o.project_dir); /* the group dies with the emulator */
	po.file = gargv[0];
	po.args = gargv;
	po.env = env;
	po.cwd = s->r->o.project_dir;
	po.flags = UV_PROCESS_DETACHED; /* setsid: its own process group, killed as one */
	po.stdio = stdio;
	po.stdio_count = 3;
	po.exit_cb = on_exit_cb;
	rc = uv_spawn(s->r->loop, s->proc, &po);
	childguard_argv_free(gargv);
	vec_free(env);
	if (rc != 0) {
		uv_close((uv_handle_t *)s->proc, (uv_close_cb)free);
		uv_close((uv_handle_t *)s->out, (uv_close_cb)free);
		uv_close((uv_handle_t *)s->err, (uv_close_cb)free);
		s->proc = NULL;
		s->out = s->err = NULL;
		return rc;
	}
	uv_read_start((uv_stream_t *)s->out, alloc_cb, on_output);
	uv_read_start((uv_stream_t *)s->err, alloc_cb, on_output);
	return 0;
}

/* A free loopback port: the one wanted when it is free, else any. */
static int pick_port(int want)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = 0, one = 1;

	if (fd < 0)
		return 0;
	/* as servers do: a port whose last connections linger in TIME_WAIT is free */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	inet_pton(AF_INET, SVC_HOST, &a.sin_addr);
	a.sin_port = htons((uint16_t)want);
	if (want && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0) {
		close(fd);
		return want;
	}
	if (want) {
		close(fd);
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return 0;
	}
	a.sin_port = 0;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static void probe_close(struct svc *s)
{
	if (s->probe) {
		uv_close((uv_handle_t *)s->probe, (uv_close_cb)free);
		s->probe = NULL;
	}
	buf_reset(&s->probe_in);
}

static void svc_ready(struct svc *s)
{
	int64_t ms = util_now_ms() - s->started_ms;

	probe_close(s);
	uv_timer_stop(s->timer);
	run_log(s->r, "service %s ready on %s:%d (%lld ms)", s->spec->name, SVC_HOST, s->port,
	        (long long)ms);
	svc_set_state(s, SVC_READY, NULL);
	svc_kick_all(s->r);
}

static void probe_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
	struct svc *s = st->data;

	if (n > 0) {
		buf_append(&s->probe_in, b->base, (size_t)n);
		if (s->probe_in.len >= 12 && !strncmp(s->probe_in.data, "HTTP/1.", 7)) {
			free(b->base);
			svc_ready(s);
			return;
		}
	} else if (n < 0) {
		probe_close(s);
	}
	free(b->base);
}

static void probe_written(uv_write_t *w, int status)
{
	free(w->data);
	free(w);
	(void)status;
}

static void probe_connected(uv_connect_t *c, int status)
{
	struct svc *s = c->data;
	uv_tcp_t *t = (uv_tcp_t *)c->handle;

	free(c);
	if (status == UV_ECANCELED || s->probe != t)
		return;
	if (status < 0) {
		probe_close(s);
		return;
	}
	if (s->spec->ready == SERVICE_READY_TCP) {
		svc_ready(s);
		return;
	}
	{
		uv_write_t *w = xcalloc(1, sizeof(*w));
		char *req = xasprintf("GET %s HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\n\r\n",
		                      s->spec->ready_path, SVC_HOST, s->port);
		uv_buf_t b = uv_buf_init(req, (unsigned)strlen(req));

		w->data = req;
		uv_write(w, (uv_stream_t *)t, &b, 1, probe_written);
		uv_read_start((uv_stream_t *)t, alloc_cb, probe_read);
	}
}

static void svc_kill(struct svc *s, int sig)
{
	if (s->proc && s->proc->pid > 0)
		kill(-s->proc->pid, sig); /* the whole group */
}

static void svc_close_timer(struct svc *s)
{
	if (s->timer) {
		uv_close((uv_handle_t *)s->timer, (uv_close_cb)free);
		s->timer = NULL;
	}
}

static void svc_close_pipes(struct svc *s)
{
	if (s->out && !uv_is_closing((uv_handle_t *)s->out))
		uv_close((uv_handle_t *)s->out, (uv_close_cb)free);
	if (s->err && !uv_is_closing((uv_handle_t *)s->err))
		uv_close((uv_handle_t *)s->err, (uv_close_cb)free);
	s->out = s->err = NULL;
}

static void on_stop_grace(uv_timer_t *t)
{
	struct svc *s = t->data;

	svc_kill(s, SIGKILL);
}

/* Ends the running process (group): SIGTERM now, SIGKILL after the grace period. */
static void svc_terminate(struct svc *s)
{
	probe_close(s);
	if (!s->proc)
		return;
	svc_kill(s, SIGTERM);
	uv_timer_start(s->timer, on_stop_grace, SVC_STOP_GRACE_MS, 0);
}

static void on_probe_tick(uv_timer_t *t)
{
	struct svc *s = t->data;
	struct sockaddr_in a = {.sin_family = AF_INET};
	uv_connect_t *c;

	if (s->state != SVC_STARTING)
		return;
	if (util_now_ms() > s->deadline_ms) {
		char why[160];

		snprintf(why, sizeof(why), "not ready on %s:%d after %d s (%s check)", SVC_HOST,
		         s->port, s->spec->ready_timeout_s,
		         s->spec->ready == SERVICE_READY_HTTP ? "HTTP" : "TCP");
		s->want_stop = true;
		svc_fail(s, why);
		svc_terminate(s);
		return;
	}
	if (s->probe)
		probe_close(s); /* the previous attempt took too long */
	s->probe = xcalloc(1, sizeof(*s->probe));
	uv_tcp_init(s->r->loop, s->probe);
	s->probe->data = s;
	inet_pton(AF_INET, SVC_HOST, &a.sin_addr);
	a.sin_port = htons((uint16_t)s->port);
	c = xcalloc(1, sizeof(*c));
	c->data = s;
	if (uv_tcp_connect(c, s->probe, (struct sockaddr *)&a, probe_connected) != 0) {
		free(c);
		probe_close(s);
	}
}

/* Runs the service's own command. */
static void svc_run_main(struct svc *s)
{
	struct service_vars vars = {s->spec->name, SVC_HOST,      0,
	                            s->data_dir,   s->r->npm_dir, s->r->o.runtimes_dir};
	size_t n = 0;
	char **argv;
	int rc, want = s->port ? s->port : s->spec->port;

	s->port = pick_port(want);
	if (want && s->port != want)
		run_log(s->r, "service %s: port %d is taken, using %d", s->spec->name, want,
		        s->port);
	vars.port = s->port;
	while (s->spec->argv[n])
		n++;
	argv = xcalloc(n + 1, sizeof(*argv));
	for (size_t i = 0; i < n; i++)
		argv[i] = services_expand(s->spec->argv[i], &vars);
	svc_tail_clear(s); /* messages quote this run's output, not an install's */
	rc = svc_spawn(s, argv, false);
	if (rc != 0) {
		char why[512];

		if (s->spec->package && rc == UV_ENOENT)
			snprintf(why, sizeof(why),
			         "%s is not installed (install the Debian package %s: "
			         "apt-get install %s)",
			         argv[0], s->spec->package, s->spec->package);
		else
			snprintf(why, sizeof(why), "cannot start %s: %s", argv[0], uv_strerror(rc));
		vec_free(argv);
		s->want_stop = true;
		svc_fail(s, why);
		return;
	}
	vec_free(argv);
	s->started_ms = util_now_ms();
	s->deadline_ms = s->started_ms + (int64_t)s->spec->ready_timeout_s * 1000;
	svc_set_state(s, SVC_STARTING, NULL);
	uv_timer_start(s->timer, on_probe_tick, 50, SVC_CHECK_MS);
}

static bool dir_empty(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	bool empty = true;

	if (!d)
		return true;
	while (empty && (e = readdir(d)))
		empty = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");
	closedir(d);
	return empty;
}

static char *npm_module_dir(const struct svc *s)
{
	return xasprintf("%s/%s/node_modules/%s", s->r->npm_dir, s->spec->npm_package,
	                 s->spec->npm_package);
}

static bool npm_installed(const struct svc *s)
{
	char *m = npm_module_dir(s), *pj = util_path_join(m, "package.json");
	bool ok = util_is_file(pj);

	free(m);
	free(pj);
	return ok;
}

/* Another service of this run already installs the same package. */
static bool npm_install_running(const struct svc *s)
{
	for (size_t i = 0; i < s->r->n; i++) {
		const struct svc *o = &s->r->v[i];

		if (o != s && o->state == SVC_INSTALLING && o->proc && o->spec->npm_package &&
		    !strcmp(o->spec->npm_package, s->spec->npm_package))
			return true;
	}
	return false;
}

/* npm install into NPM_DIR/PKG.tmp-PID, renamed to NPM_DIR/PKG when it succeeded: an
 * interrupted install leaves nothing half-usable. */
static void svc_npm_install(struct svc *s)
{
	char *tmp = xasprintf("%s/%s.tmp-%d", s->r->npm_dir, s->spec->npm_package, (int)getpid());
	char *argv[] = {"npm",      "install", "--no-audit",         "--no-fund", "--loglevel=http",
	                "--prefix", tmp,       s->spec->npm_package, NULL};
	char *copy[9];
	int rc;

	emu_rm_rf(tmp);
	util_mkdir_p(tmp, 0755, NULL);
	for (size_t i = 0; i < 9; i++)
		copy[i] = argv[i] ? xstrdup(argv[i]) : NULL;
	run_log(s->r, "service %s: installing %s from npm into %s/%s (first use)", s->spec->name,
	        s->spec->npm_package, s->r->npm_dir, s->spec->npm_package);
	svc_set_state(s, SVC_INSTALLING, "installing from npm");
	rc = svc_spawn(s, copy, true);
	for (size_t i = 0; i < 9; i++)
		free(copy[i]);
	free(tmp);
	if (rc != 0) {
		char why[256];

		snprintf(why, sizeof(why), "cannot run npm (install the Debian package npm): %s",
		         uv_strerror(rc));
		s->want_stop = true;
		svc_fail(s, why);
	}
}

static void svc_npm_done(struct svc *s, bool ok)
{
	char *tmp = xasprintf("%s/%s.tmp-%d", s->r->npm_dir, s->spec->npm_package, (int)getpid());
	char *final = util_path_join(s->r->npm_dir, s->spec->npm_package);

	if (ok && !npm_installed(s)) {
		emu_rm_rf(final);
		ok = rename(tmp, final) == 0;
	}
	emu_rm_rf(tmp);
	free(tmp);
	free(final);
	if (!ok) {
		s->want_stop = true;
		svc_fail(s, "npm install failed");
		return;
	}
	run_log(s->r, "service %s: %s installed", s->spec->name, s->spec->npm_package);
	svc_start(s);
	svc_kick_all(s->r);
}

static void svc_run_init(struct svc *s)
{
	struct service_vars vars = {s->spec->name, SVC_HOST,      s->port,
	                            s->data_dir,   s->r->npm_dir, s->r->o.runtimes_dir};
	size_t n = 0;
	char **argv;
	int rc;

	while (s->spec->init_argv[n])
		n++;
	argv = xcalloc(n + 1, sizeof(*argv));
	for (size_t i = 0; i < n; i++)
		argv[i] = services_expand(s->spec->init_argv[i], &vars);
	svc_set_state(s, SVC_INIT, NULL);
	rc = svc_spawn(s, argv, true);
	if (rc != 0) {
		char why[512];

		snprintf(why, sizeof(why), "cannot run %s%s%s%s: %s", argv[0],
		         s->spec->package ? " (install the Debian package " : "",
		         s->spec->package ? s->spec->package : "", s->spec->package ? ")" : "",
		         uv_strerror(rc));
		s->want_stop = true;
		svc_fail(s, why);
	}
	vec_free(argv);
}

/* Takes s one step towards running: dependencies, install, init, start. */
static void svc_start(struct svc *s)
{
	if (s->r->stopping || s->want_stop || s->proc || s->reset_after)
		return;
	for (size_t d = 0; d < s->spec->n_depends_on; d++) {
		for (size_t i = 0; i < s->r->n; i++) {
			struct svc *o = &s->r->v[i];
			char msg[160];

			if (strcmp(o->spec->name, s->spec->depends_on[d]) || o->state == SVC_READY)
				continue;
			snprintf(msg, sizeof(msg), "waiting for %s (%s)", o->spec->name,
			         state_names[o->state]);
			if (s->state != SVC_WAITING || !s->message || strcmp(s->message, msg))
				svc_set_state(s, SVC_WAITING, msg);
			return;
		}
	}
	if (s->spec->npm_package && !npm_installed(s)) {
		if (npm_install_running(s)) {
			if (s->state != SVC_INSTALLING)
				svc_set_state(s, SVC_INSTALLING, "waiting for npm install");
		} else {
			svc_npm_install(s);
		}
		return;
	}
	if (s->spec->init_argv && dir_empty(s->data_dir) && s->state != SVC_INIT) {
		svc_run_init(s);
		return;
	}
	svc_run_main(s);
}

static void svc_kick_all(struct services_run *r)
{
	for (size_t i = 0; i < r->n; i++) {
		struct svc *s = &r->v[i];

		if ((s->state == SVC_WAITING || (s->state == SVC_INSTALLING && !s->proc)) &&
		    !s->proc)
			svc_start(s);
	}
}

static void on_backoff(uv_timer_t *t)
{
	struct svc *s = t->data;

	if (s->state == SVC_BACKOFF)
		svc_start(s);
}

static void on_exit_cb(uv_process_t *p, int64_t status, int sig)
{
	struct svc *s = p->data;
	bool aux = s->proc_is_aux;
	enum svc_state was = s->state;
	char why[200];

	/* what is left of its group (children of a guard that was killed) goes with it: it
	 * would hold the port and the output pipes */
	kill(-p->pid, SIGKILL);
	uv_close((uv_handle_t *)p, (uv_close_cb)free);
	s->proc = NULL;
	probe_close(s);
	if (s->r->stopping) {
		svc_close_pipes(s);
		svc_close_timer(s);
		if (s->state != SVC_FAILED)
			svc_set_state(s, SVC_STOPPED, NULL);
		return;
	}
	uv_timer_stop(s->timer);
	if (s->partial.len) {
		svc_line(s, s->partial.data, s->partial.len);
		buf_reset(&s->partial);
	}
	if (sig)
		snprintf(why, sizeof(why), "killed by signal %d", sig);
	else
		snprintf(why, sizeof(why), "exited with status %lld", (long long)status);
	if (aux) {
		if (was == SVC_INSTALLING) {
			svc_npm_done(s, !sig && status == 0 && !s->r->stopping && !s->want_stop);
		} else if (!sig && status == 0 && !s->r->stopping && !s->want_stop) {
			svc_run_main(s);
		} else if (!s->r->stopping && !s->want_stop) {
			char msg[260];

			snprintf(msg, sizeof(msg), "init command %s", why);
			s->want_stop = true;
			svc_fail(s, msg);
		}
		if (s->r->stopping || s->want_stop)
			goto stopped;
		return;
	}
	if (s->r->stopping || s->want_stop || s->restart_after || s->reset_after) {
	stopped:
		if (s->state != SVC_FAILED)
			svc_set_state(s, SVC_STOPPED, NULL);
		if (s->reset_after) {
			struct file_job *j = xcalloc(1, sizeof(*j));

			j->rm_path = xstrdup(s->data_dir);
			file_job_queue(s, j);
		} else if (s->restart_after && !s->r->stopping) {
			s->restart_after = false;
			s->want_stop = false;
			svc_start(s);
		}
		return;
	}
	/* it died on its own */
	if (was == SVC_READY && util_now_ms() - s->started_ms > SVC_STABLE_MS)
		s->early_fails = 0;
	if (was != SVC_READY && ++s->early_fails >= SVC_MAX_EARLY_FAILS) {
		char msg[300];

		snprintf(msg, sizeof(msg), "%s before it was ready, %d times in a row", why,
		         s->early_fails);
		svc_fail(s, msg);
		return;
	}
	{
		int64_t delay = 500LL << (s->early_fails < 6 ? s->early_fails : 6);
		char msg[300];
		char *tail = svc_tail_text(s);

		if (delay > SVC_BACKOFF_MAX_MS)
			delay = SVC_BACKOFF_MAX_MS;
		s->restarts++;
		if (was == SVC_READY)
			s->early_fails++;
		snprintf(msg, sizeof(msg), "%s; restarting in %lld ms", why, (long long)delay);
		run_log(s->r, "service %s %s%s%s", s->spec->name, msg,
		        *tail ? "; last output: " : "", tail);
		free(tail);
		svc_set_state(s, SVC_BACKOFF, msg);
		svc_kick_all(s->r); /* dependents wait again */
		uv_timer_start(s->timer, on_backoff, (uint64_t)delay, 0);
	}
}

/* ---- control requests ---- */

static struct svc *svc_find(struct services_run *r, const char *name)
{
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->v[i].spec->name, name))
			return &r->v[i];
	return NULL;
}

static void svc_control(struct services_run *r, const char *op, struct svc *s, const char *request)
{
	run_log(r, "service %s: %s requested", s->spec->name, op);
	free(s->last_request);
	s->last_request = xstrdup(request);
	if (s->proc && !s->proc_is_aux && strcmp(op, "start"))
		svc_set_state(s, SVC_STOPPING, NULL);
	else
		svc_state_save(s);
	if (!strcmp(op, "stop")) {
		s->want_stop = true;
		uv_timer_stop(s->timer);
		if (s->proc)
			svc_terminate(s);
		else
			svc_set_state(s, SVC_STOPPED, NULL);
	} else if (!strcmp(op, "start") || !strcmp(op, "restart")) {
		if (s->proc && !strcmp(op, "restart")) {
			s->restart_after = true;
			svc_terminate(s);
			return;
		}
		s->want_stop = false;
		s->early_fails = 0;
		if (!s->proc) {
			uv_timer_stop(s->timer);
			s->state = SVC_WAITING;
			svc_start(s);
		}
	} else if (!strcmp(op, "reset")) {
		s->want_stop = false;
		s->early_fails = 0;
		s->reset_after = true;
		if (s->proc) {
			svc_terminate(s);
		} else {
			struct file_job *j = xcalloc(1, sizeof(*j));

			uv_timer_stop(s->timer);
			j->rm_path = xstrdup(s->data_dir);
			file_job_queue(s, j);
		}
	}
}

/* Handles every request file in the control directory. */
static void control_scan(struct services_run *r)
{
	DIR *d;
	struct dirent *e;

	if (r->stopping || !(d = opendir(r->control_dir)))
		return;
	while ((e = readdir(d))) {
		char *path, op[16] = "", name[80] = "";
		struct buf b = {0};
		struct svc *s;

		if (e->d_name[0] == '.' || strstr(e->d_name, ".tmp."))
			continue; /* util_write_atomic's temporary file: not there yet */
		path = util_path_join(r->control_dir, e->d_name);
		if (util_read_file(path, &b, NULL) == 0 && b.data &&
		    sscanf(b.data, "%15s %79s", op, name) == 2 && (s = svc_find(r, name)))
			svc_control(r, op, s, e->d_name);
		unlink(path);
		free(path);
		buf_free(&b);
	}
	closedir(d);
}

static void on_control_event(uv_fs_event_t *h, const char *f, int events, int status)
{
	(void)f;
	(void)events;
	(void)status;
	control_scan(h->data);
}

static void on_control_poll(uv_timer_t *t)
{
	control_scan(t->data);
}

/* ---- lifecycle ---- */

struct services_run *services_run_new(uv_loop_t *loop, struct services_config *c,
                                      const struct services_run_options *o)
{
	struct services_run *r = xcalloc(1, sizeof(*r));
	mode_t dmode = o->share_with_group ? 0750 : 0700;

	r->loop = loop;
	r->cfg = c;
	r->o = *o;
	r->o.project_dir = xstrdup(o->project_dir);
	r->o.state_dir = xstrdup(o->state_dir);
	r->o.runtimes_dir = xstrdup(o->runtimes_dir);
	r->dir = util_path_join(o->state_dir, "services");
	r->control_dir = util_path_join(r->dir, "control");
	r->npm_dir = services_npm_dir();
	util_mkdir_p(r->control_dir, dmode, NULL);
	util_mkdir_p(r->npm_dir, 0755, NULL);
	r->n = c->n;
	r->v = xcalloc(c->n ? c->n : 1, sizeof(*r->v));
	for (size_t i = 0; i < c->n; i++) {
		struct svc *s = &r->v[i];

		s->r = r;
		s->spec = &c->v[i];
		s->dir = util_path_join(r->dir, s->spec->name);
		s->data_dir = util_path_join(s->dir, "data");
		s->log_path = util_path_join(s->dir, "output.log");
		util_mkdir_p(s->data_dir, 0700, NULL);
		s->timer = xcalloc(1, sizeof(*s->timer));
		uv_timer_init(loop, s->timer);
		s->timer->data = s;
		s->port =
		    pick_port(s->spec->port); /* known before it starts: see services_run_env */
		if (s->spec->port && s->port != s->spec->port)
			run_log(r, "service %s: port %d is taken, using %d", s->spec->name,
			        s->spec->port, s->port);
	}
	/* requests left from before this emulator are stale */
	{
		DIR *d = opendir(r->control_dir);
		struct dirent *e;

		while (d && (e = readdir(d))) {
			char *p;

			if (e->d_name[0] == '.')
				continue;
			p = util_path_join(r->control_dir, e->d_name);
			unlink(p);
			free(p);
		}
		if (d)
			closedir(d);
	}
	r->watch = xcalloc(1, sizeof(*r->watch));
	uv_fs_event_init(loop, r->watch);
	r->watch->data = r;
	uv_fs_event_start(r->watch, on_control_event, r->control_dir, 0);
	r->poll = xcalloc(1, sizeof(*r->poll));
	uv_timer_init(loop, r->poll);
	r->poll->data = r;
	uv_timer_start(r->poll, on_control_poll, 1000, 1000);
	for (size_t i = 0; i < r->n; i++)
		svc_set_state(&r->v[i], SVC_WAITING, NULL);
	for (size_t i = 0; i < r->n; i++)
		svc_start(&r->v[i]);
	return r;
}

void services_run_stop(struct services_run *r)
{
	if (!r || r->stopping)
		return;
	r->stopping = true;
	uv_close((uv_handle_t *)r->watch, (uv_close_cb)free);
	uv_close((uv_handle_t *)r->poll, (uv_close_cb)free);
	r->watch = NULL;
	r->poll = NULL;
	for (size_t i = 0; i < r->n; i++) {
		struct svc *s = &r->v[i];

		uv_timer_stop(s->timer);
		if (s->proc) {
			svc_terminate(
			    s); /* the grace timer keeps the loop alive until it is gone */
		} else {
			svc_close_timer(s);
			svc_set_state(s, s->state == SVC_FAILED ? SVC_FAILED : SVC_STOPPED, NULL);
		}
	}
}

/* Closes what is left once every process is gone (called from emulator_free, after the
 * loop has run dry: the processes have exited and their handles are closed). */
void services_run_free(struct services_run *r)
{
	if (!r)
		return;
	if (r->pending_work) { /* cannot happen after uv_run returned; kept for safety */
		r->freed_wanted = true;
		return;
	}
	for (size_t i = 0; i < r->n; i++) {
		struct svc *s = &r->v[i];

		free(s->dir);
		free(s->data_dir);
		free(s->log_path);
		free(s->message);
		free(s->last_request);
		buf_free(&s->probe_in);
		buf_free(&s->partial);
		buf_free(&s->log_pending);
		for (size_t t = 0; t < SVC_TAIL_LINES; t++)
			free(s->tail[t]);
	}
	free(r->v);
	services_config_free(r->cfg);
	free((char *)r->o.project_dir);
	free((char *)r->o.state_dir);
	free((char *)r->o.runtimes_dir);
	free(r->dir);
	free(r->control_dir);
	free(r->npm_dir);
	free(r);
}

void services_run_env(const struct services_run *r,
                      void (*set)(void *ctx, const char *name, const char *value), void *ctx)
{
	for (size_t i = 0; r && i < r->n; i++) {
		const struct svc *s = &r->v[i];
		struct service_vars vars = {s->spec->name, SVC_HOST,   s->port,
		                            s->data_dir,   r->npm_dir, r->o.runtimes_dir};

		/* the port is chosen up front and kept: a function started while its service is
		 * still starting or restarting gets the address (and connection errors until the
		 * service is there), never nothing, which SDKs would take for AWS itself */
		if (s->state == SVC_FAILED || s->state == SVC_STOPPED || !s->port)
			continue;
		for (size_t e = 0; e < s->spec->n_exports; e++) {
			char *v = services_expand(s->spec->exports[e].value, &vars);

			set(ctx, s->spec->exports[e].name, v);
			free(v);
		}
	}
}

char *services_run_lookup(void *ctx, const char *name, const char *key)
{
	struct services_run *r = ctx;
	struct svc *s = r ? svc_find(r, name) : NULL;
	struct service_vars vars;

	if (!s || !s->port)
		return NULL;
	vars = (struct service_vars){s->spec->name, SVC_HOST,   s->port,
	                             s->data_dir,   r->npm_dir, r->o.runtimes_dir};
	if (!strcmp(key, "host"))
		return xstrdup(SVC_HOST);
	if (!strcmp(key, "port"))
		return xasprintf("%d", s->port);
	if (!strcmp(key, "url"))
		return xasprintf("http://%s:%d", SVC_HOST, s->port);
	if (!strcmp(key, "data_dir"))
		return xstrdup(s->data_dir);
	for (size_t e = 0; e < s->spec->n_exports; e++)
		if (!strcasecmp(s->spec->exports[e].name, key))
			return services_expand(s->spec->exports[e].value, &vars);
	return NULL;
}

int services_run_reset_offline(const char *state_dir, const char *name, struct lk_error *err)
{
	char *data = xasprintf("%s/services/%s/data", state_dir, name);
	int rc = 0;

	if (util_is_dir(data) && emu_rm_rf(data) < 0)
		rc = lk_error_set(err, "ResetFailed", "cannot empty %s", data);
	else if (util_mkdir_p(data, 0700, err) < 0)
		rc = -1;
	free(data);
	return rc;
}
