/* workers.c - invocations and warm workers. Each worker is a runtime process (python/node
 * shim or a provided bootstrap) in its own process group, with its own Runtime API listener
 * (AWS_LAMBDA_RUNTIME_API=127.0.0.1:port) so requests need no routing and a worker's long
 * poll is simply a suspended request. A worker takes one invocation at a time; a function
 * gets up to max_concurrency workers, then synchronous invokes get 429 and Event invokes
 * queue. Output lines and START/END/REPORT go to the logstore and to the invocation's tail. */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "backend/emulator/emu_internal.h"
#include "backend/emulator/logstore.h"

#define RUNTIME_PREFIX  "/2018-06-01/runtime/"
#define INIT_TIMEOUT_MS 10000
/* bodies above this are not buffered (answered 413 by runtime_handle) */
#define RUNTIME_MAX_BODY ((size_t)EMU_RUNTIME_RESPONSE_MAX)

struct invocation {
	struct emulator *emu;
	struct function *fn;
	char id[37];
	enum invoke_type type;
	bool tail;
	struct emu_request *req; /* the client's request while it waits (sync) */
	struct buf payload;
	char *client_context;
	struct worker *worker;
	int64_t deadline_ms;
	uint64_t start_ns;
	bool delivered;
	struct buf log; /* this invocation's log, trimmed to the last few KB */
	struct invocation *next;
};

struct worker {
	struct emulator *emu;
	struct function *fn;
	unsigned generation;
	struct codedir *code;
	uv_process_t *proc;
	uv_pipe_t *out, *err;
	uv_timer_t *timer;
	struct emu_server *rt;
	struct emu_request *next_req;
	struct invocation *inv;
	char stream[96];
	char group[96];
	struct buf part_out, part_err;
	uint64_t spawn_ns;
	double init_ms;
	bool report_init;
	bool initialized;
	bool spawned;
	bool exited;
	bool killed;
	bool destroyed;
	int open_handles;
	unsigned refused; /* Runtime API connections refused (another uid) */
	struct worker *next;
};

static void try_queue(struct emulator *emu, struct function *f);
static void worker_kill(struct worker *w);

/* ---- invocations ---- */

static void on_client_abort(void *user)
{
	struct invocation *inv = user;

	inv->req = NULL;
}

static struct invocation *invocation_new(struct emulator *emu, struct function *f,
                                         struct emu_request *req, enum invoke_type type, bool tail)
{
	struct invocation *inv = xcalloc(1, sizeof(*inv));
	size_t len;
	const char *body = emu_request_body(req, &len);

	inv->emu = emu;
	inv->fn = f;
	function_ref(f);
	emu_uuid(inv->id);
	inv->type = type;
	inv->tail = tail;
	buf_append(&inv->payload, len ? body : "{}", len ? len : 2);
	lambda_api_client_context(req, &inv->client_context); /* validated by lambda_api.c */
	if (type == INVOKE_SYNC) {
		inv->req = req;
		emu_request_on_abort(req, on_client_abort, inv);
	}
	return inv;
}

static void invocation_free(struct invocation *inv)
{
	if (!inv)
		return;
	if (inv->req)
		emu_request_on_abort(inv->req, NULL, NULL);
	function_unref(inv->fn);
	buf_free(&inv->payload);
	buf_free(&inv->log);
	free(inv->client_context);
	free(inv);
}

/* Bytes an Event invocation holds while it waits in a queue. */
static size_t invocation_bytes(const struct invocation *inv)
{
	return sizeof(*inv) + inv->payload.len +
	       (inv->client_context ? strlen(inv->client_context) : 0);
}

static void queue_push(struct function *f, struct invocation *inv)
{
	inv->next = NULL;
	if (f->queue_tail)
		f->queue_tail->next = inv;
	else
		f->queue_head = inv;
	f->queue_tail = inv;
	inv->emu->queued_bytes += invocation_bytes(inv);
}

/* Puts an invocation that could not be dispatched back at the head of the queue. */
static void queue_push_front(struct function *f, struct invocation *inv)
{
	inv->next = f->queue_head;
	f->queue_head = inv;
	if (!f->queue_tail)
		f->queue_tail = inv;
	inv->emu->queued_bytes += invocation_bytes(inv);
}

static struct invocation *queue_pop(struct function *f)
{
	struct invocation *inv = f->queue_head;

	if (!inv)
		return NULL;
	f->queue_head = inv->next;
	if (!f->queue_head)
		f->queue_tail = NULL;
	inv->next = NULL;
	inv->emu->queued_bytes -= invocation_bytes(inv);
	return inv;
}

/* Drops every queued invocation of f (deleted function, shutdown). */
static void queue_clear(struct function *f)
{
	struct invocation *inv;

	while ((inv = queue_pop(f)))
		invocation_free(inv);
}

static void tail_append(struct invocation *inv, const char *line, size_t len)
{
	buf_append(&inv->log, line, len);
	buf_putc(&inv->log, '\n');
	if (inv->log.len > 4 * EMU_TAIL_BYTES) {
		size_t keep = EMU_TAIL_BYTES;

		memmove(inv->log.data, inv->log.data + inv->log.len - keep, keep);
		inv->log.len = keep;
		inv->log.data[keep] = 0;
	}
}

/* One log line of a worker: into the log stream and the current invocation's tail. */
static void worker_log(struct worker *w, const char *line, size_t len)
{
	logstore_append(w->emu->logs, w->group, w->stream, util_now_ms(), line, len);
	if (w->inv)
		tail_append(w->inv, line, len);
}

static void worker_logf(struct worker *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void worker_logf(struct worker *w, const char *fmt, ...)
{
	va_list ap;
	struct buf b = {0};

	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	worker_log(w, b.data, b.len);
	buf_free(&b);
}

/* Splits output into lines; a trailing partial line waits for more (flushed on EOF). */
static void feed(struct worker *w, struct buf *part, const char *data, size_t len)
{
	size_t start = 0;

	for (size_t i = 0; i < len; i++) {
		if (data[i] != '\n')
			continue;
		if (part->len) {
			buf_append(part, data + start, i - start);
			worker_log(w, part->data, part->len);
			buf_reset(part);
		} else {
			worker_log(w, data + start, i - start);
		}
		start = i + 1;
	}
	if (start < len)
		buf_append(part, data + start, len - start);
	if (part->len > 256 * 1024) { /* a runaway line without newline */
		worker_log(w, part->data, part->len);
		buf_reset(part);
	}
}

static void flush_part(struct worker *w, struct buf *part)
{
	if (part->len) {
		worker_log(w, part->data, part->len);
		buf_reset(part);
	}
}

/* Reads whatever the worker has written so far, so output printed before it posted its
 * response is in the log before END/REPORT. */
static void drain_pipe(struct worker *w, uv_pipe_t *p, struct buf *part)
{
	uv_os_fd_t fd;
	char b[16384];

	if (!p || uv_fileno((uv_handle_t *)p, &fd) != 0)
		return;
	for (int i = 0; i < 64; i++) {
		ssize_t n = read(fd, b, sizeof(b));

		if (n <= 0)
			break;
		feed(w, part, b, (size_t)n);
	}
}

static long max_memory_mb(struct worker *w)
{
	char path[64], line[256];
	FILE *f;
	long kb = 0;

	if (!w->spawned || w->exited)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/status", w->proc->pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmHWM:", 6))
			kb = strtol(line + 6, NULL, 10);
	fclose(f);
	return (kb + 1023) / 1024;
}

/* Answers the invocation and writes END/REPORT. error_type NULL = success. */
static void finish(struct worker *w, const char *body, size_t len, bool function_error)
{
	struct invocation *inv = w->inv;
	double ms;
	char *tail = NULL;

	if (!inv)
		return;
	uv_timer_stop(w->timer);
	drain_pipe(w, w->out, &w->part_out);
	drain_pipe(w, w->err, &w->part_err);
	ms = inv->delivered ? (double)(util_monotonic_ns() - inv->start_ns) / 1e6 : 0;
	worker_logf(w, "END RequestId: %s", inv->id);
	if (w->report_init && w->initialized) {
		worker_logf(w,
		            "REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %.0f ms\t"
		            "Memory Size: %d MB\tMax Memory Used: %ld MB\tInit Duration: %.2f ms",
		            inv->id, ms, ceil(ms < 1 ? 1 : ms), w->fn->memory, max_memory_mb(w),
		            w->init_ms);
		w->report_init = false;
	} else {
		worker_logf(w,
		            "REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %.0f ms\t"
		            "Memory Size: %d MB\tMax Memory Used: %ld MB",
		            inv->id, ms, ceil(ms < 1 ? 1 : ms), w->fn->memory, max_memory_mb(w));
	}
	if (inv->req) {
		const char *hdrs[11];
		int n = 0;

		hdrs[n++] = "X-Amz-Executed-Version";
		hdrs[n++] = "$LATEST";
		if (function_error) {
			hdrs[n++] = "X-Amz-Function-Error";
			hdrs[n++] = "Unhandled";
		}
		if (inv->tail) {
			size_t off =
			    inv->log.len > EMU_TAIL_BYTES ? inv->log.len - EMU_TAIL_BYTES : 0;

			tail = util_base64(inv->log.data ? inv->log.data + off : "",
			                   inv->log.len - off);
			hdrs[n++] = "X-Amz-Log-Result";
			hdrs[n++] = tail;
		}
		hdrs[n++] = "x-amzn-RequestId";
		hdrs[n++] = inv->id;
		hdrs[n] = NULL;
		emu_respond(inv->req, 200, "application/json", hdrs, body, len);
		inv->req = NULL;
	}
	emu_log(w->emu, "invoke %s %s %.2f ms%s", w->fn->name, inv->id, ms,
	        function_error ? " (function error)" : "");
	free(tail);
	w->inv = NULL;
	inv->worker = NULL;
	invocation_free(inv);
}

static void finish_error(struct worker *w, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void finish_error(struct worker *w, const char *type, const char *fmt, ...)
{
	va_list ap;
	struct buf msg = {0};
	cJSON *o = cJSON_CreateObject();
	char *s;

	va_start(ap, fmt);
	buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	cJSON_AddStringToObject(o, "errorType", type);
	cJSON_AddStringToObject(o, "errorMessage", msg.data ? msg.data : "");
	s = cJSON_PrintUnformatted(o);
	finish(w, s, strlen(s), true);
	cJSON_free(s);
	cJSON_Delete(o);
	buf_free(&msg);
}

/* Hands the assigned invocation to the worker's pending invocation/next. */
static void deliver(struct worker *w)
{
	struct invocation *inv = w->inv;
	struct emu_request *req = w->next_req;
	char deadline[32], *arn;
	const char *hdrs[15];
	int n = 0;
	char trace[96], rnd[25];

	w->next_req = NULL;
	emu_request_on_abort(req, NULL, NULL);
	inv->delivered = true;
	inv->start_ns = util_monotonic_ns();
	inv->deadline_ms = util_now_ms() + (int64_t)w->fn->timeout * 1000;
	snprintf(deadline, sizeof(deadline), "%lld", (long long)inv->deadline_ms);
	arn = function_arn(w->emu, w->fn->name);
	emu_random_hex(rnd, 12);
	snprintf(trace, sizeof(trace), "Root=1-%08llx-%s;Parent=%.16s;Sampled=0",
	         (unsigned long long)(util_now_ms() / 1000), rnd, rnd + 4);
	worker_logf(w, "START RequestId: %s Version: $LATEST", inv->id);
	hdrs[n++] = "Lambda-Runtime-Aws-Request-Id";
	hdrs[n++] = inv->id;
	hdrs[n++] = "Lambda-Runtime-Deadline-Ms";
	hdrs[n++] = deadline;
	hdrs[n++] = "Lambda-Runtime-Invoked-Function-Arn";
	hdrs[n++] = arn;
	hdrs[n++] = "Lambda-Runtime-Trace-Id";
	hdrs[n++] = trace;
	if (inv->client_context) {
		hdrs[n++] = "Lambda-Runtime-Client-Context";
		hdrs[n++] = inv->client_context;
	}
	hdrs[n] = NULL;
	emu_respond(req, 200, "application/json", hdrs, inv->payload.data, inv->payload.len);
	free(arn);
	buf_free(&inv->payload);
}

static void on_worker_timer(uv_timer_t *t);

static void arm_timer(struct worker *w, uint64_t ms)
{
	uv_timer_start(w->timer, on_worker_timer, ms, 0);
}

/* Assigns inv to w; delivers at once when the worker is already polling. */
static void assign(struct worker *w, struct invocation *inv)
{
	w->inv = inv;
	inv->worker = w;
	if (w->next_req) {
		deliver(w);
		arm_timer(w, (uint64_t)w->fn->timeout * 1000);
	} else if (!w->initialized) {
		arm_timer(w, INIT_TIMEOUT_MS);
	} else {
		uv_timer_stop(w->timer);
	}
}

static void on_worker_timer(uv_timer_t *t)
{
	struct worker *w = t->data;

	if (w->inv && w->inv->delivered) {
		char ts[40];

		emu_iso_time(ts, sizeof(ts), util_now_ms(), false);
		worker_logf(w, "%s %s Task timed out after %d.00 seconds", ts, w->inv->id,
		            w->fn->timeout);
		finish_error(w, "Sandbox.Timedout",
		             "RequestId: %s Error: Task timed out after %d.00 seconds", w->inv->id,
		             w->fn->timeout);
		worker_kill(w);
	} else if (w->inv) {
		worker_logf(w, "INIT_REPORT Init Duration: %d.00 ms\tPhase: init\tStatus: timeout",
		            INIT_TIMEOUT_MS);
		finish_error(w, "Sandbox.Timedout",
		             "RequestId: %s Error: Runtime init timed out after %d.00 seconds",
		             w->inv->id, INIT_TIMEOUT_MS / 1000);
		worker_kill(w);
	} else {
		emu_log(w->emu, "stopping idle worker of %s", w->fn->name);
		worker_kill(w);
	}
}

/* ---- process and handles ---- */

static void worker_release(struct worker *w)
{
	if (--w->open_handles > 0 || !w->destroyed)
		return;
	buf_free(&w->part_out);
	buf_free(&w->part_err);
	codedir_unref(w->code);
	function_unref(w->fn);
	free(w);
}

static void on_handle_closed(uv_handle_t *h)
{
	struct worker *w = h->data;

	free(h);
	worker_release(w);
}

static void close_handle(struct worker *w, uv_handle_t *h)
{
	if (!h)
		return;
	w->open_handles++;
	uv_close(h, on_handle_closed);
}

static void unlink_worker(struct worker *w)
{
	for (struct worker **pp = &w->fn->workers; *pp; pp = &(*pp)->next)
		if (*pp == w) {
			*pp = w->next;
			return;
		}
}

/* Removes a worker whose process is gone (or never started). */
static void worker_destroy(struct worker *w, const char *why)
{
	struct function *f = w->fn;
	struct emulator *emu = w->emu;

	if (w->destroyed)
		return;
	drain_pipe(w, w->out, &w->part_out);
	drain_pipe(w, w->err, &w->part_err);
	flush_part(w, &w->part_out);
	flush_part(w, &w->part_err);
	if (w->inv) {
		const char *id = w->inv->id;

		worker_logf(w, "RequestId: %s Error: Runtime exited with error: %s", id, why);
		finish_error(w, "Runtime.ExitError",
		             "RequestId: %s Error: Runtime exited with error: %s", id, why);
	}
	w->destroyed = true;
	unlink_worker(w);
	w->open_handles++;      /* held until every handle below has closed */
	emu_server_free(w->rt); /* aborts a pending invocation/next */
	w->rt = NULL;
	w->next_req = NULL;
	close_handle(w, (uv_handle_t *)w->timer);
	close_handle(w, (uv_handle_t *)w->out);
	close_handle(w, (uv_handle_t *)w->err);
	if (w->spawned)
		close_handle(w, (uv_handle_t *)w->proc);
	else
		free(w->proc);
	w->timer = NULL, w->out = w->err = NULL, w->proc = NULL;
	function_ref(f);
	worker_release(w);
	if (!emu->stopping)
		try_queue(emu, f);
	function_unref(f);
}

static void on_exit_cb(uv_process_t *p, int64_t status, int sig)
{
	struct worker *w = p->data;
	char why[64];

	w->exited = true;
	if (sig)
		snprintf(why, sizeof(why), "signal: %s",
		         sig == SIGKILL ? "killed" : strsignal(sig));
	else
		snprintf(why, sizeof(why), "exit status %lld", (long long)status);
	if (!w->killed || w->inv)
		emu_log(w->emu, "worker of %s exited (%s)", w->fn->name, why);
	worker_destroy(w, why);
}

static void worker_kill(struct worker *w)
{
	if (w->killed || !w->spawned || w->exited)
		return;
	w->killed = true;
	kill(-w->proc->pid, SIGKILL);
	kill(w->proc->pid, SIGKILL);
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
	(void)h;
	b->base = xmalloc(suggested);
	b->len = suggested;
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct worker *w = s->data;
	struct buf *part = (uv_pipe_t *)s == w->out ? &w->part_out : &w->part_err;

	if (n > 0)
		feed(w, part, b->base, (size_t)n);
	else if (n < 0) {
		flush_part(w, part);
		uv_read_stop(s);
	}
	free(b->base);
}

/* Finds an executable in PATH. Version managers' shims (pyenv, asdf) are skipped when
 * skip_shims: they exist for every version and fail at run time for uninstalled ones. */
static char *find_in_path(const char *name, bool skip_shims)
{
	const char *path = getenv("PATH");
	char *copy, *save = NULL, *dir;

	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	copy = xstrdup(path);
	for (dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		char *cand;

		if (skip_shims && strstr(dir, "/shims"))
			continue;
		cand = util_path_join(dir, name);

		if (access(cand, X_OK) == 0) {
			free(copy);
			return cand;
		}
		free(cand);
	}
	free(copy);
	return NULL;
}

struct strv {
	char **v;
	size_t n;
};

static void strv_add(struct strv *s, char *str)
{
	s->v = xrealloc(s->v, (s->n + 2) * sizeof(*s->v));
	s->v[s->n++] = str;
	s->v[s->n] = NULL;
}

static void strv_free(struct strv *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
}

static void env_set(struct strv *e, const char *k, const char *v)
{
	size_t kl = strlen(k);

	for (size_t i = 0; i < e->n; i++)
		if (!strncmp(e->v[i], k, kl) && e->v[i][kl] == '=') {
			free(e->v[i]);
			e->v[i] = xasprintf("%s=%s", k, v);
			return;
		}
	strv_add(e, xasprintf("%s=%s", k, v));
}

static void runtime_handle(void *user, struct emu_request *req);

/* The uid owning the TCP socket peer that is connected to local, and its inode: an exact
 * NETLINK_SOCK_DIAG lookup of the 4-tuple (the client's side: source = peer, destination =
 * local). -1 when it cannot be found (e.g. the client already closed). */
static long tcp_peer_uid(const struct sockaddr_in *peer, const struct sockaddr_in *local,
                         unsigned long *inode)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 r;
	} req;
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	union {
		struct nlmsghdr nlh;
		char buf[8192];
	} resp;
	long uid = -1;
	ssize_t n;
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);

	if (fd < 0)
		return -1;
	memset(&req, 0, sizeof(req));
	req.nlh.nlmsg_len = sizeof(req);
	req.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	req.nlh.nlmsg_flags = NLM_F_REQUEST;
	req.r.sdiag_family = AF_INET;
	req.r.sdiag_protocol = IPPROTO_TCP;
	req.r.idiag_states = ~0u;
	req.r.id.idiag_sport = peer->sin_port;
	req.r.id.idiag_dport = local->sin_port;
	req.r.id.idiag_src[0] = peer->sin_addr.s_addr;
	req.r.id.idiag_dst[0] = local->sin_addr.s_addr;
	req.r.id.idiag_cookie[0] = req.r.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	if (sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0) {
		close(fd);
		return -1;
	}
	do
		n = recv(fd, &resp, sizeof(resp), 0);
	while (n < 0 && errno == EINTR);
	close(fd);
	for (struct nlmsghdr *h = &resp.nlh; n > 0 && NLMSG_OK(h, (size_t)n);
	     h = NLMSG_NEXT(h, n)) {
		if (h->nlmsg_type == SOCK_DIAG_BY_FAMILY &&
		    h->nlmsg_len >= NLMSG_LENGTH(sizeof(struct inet_diag_msg))) {
			const struct inet_diag_msg *m = NLMSG_DATA(h);

			if (m->id.idiag_sport == peer->sin_port &&
			    m->id.idiag_dport == local->sin_port) {
				uid = (long)m->idiag_uid;
				*inode = m->idiag_inode;
			}
			break;
		}
		if (h->nlmsg_type == NLMSG_ERROR || h->nlmsg_type == NLMSG_DONE)
			break;
	}
	return uid;
}

/* True when a process of process group pgid has the socket with this inode open (the
 * worker is a group leader; its children, e.g. the curl of a provided bootstrap, inherit
 * the group). Reads /proc: getpgid per process, then the fd links of the group's members. */
static bool pgroup_holds_socket(pid_t pgid, unsigned long inode)
{
	char want[48], path[64], link[64];
	DIR *proc = opendir("/proc");
	struct dirent *de;
	bool found = false;

	if (!proc)
		return false;
	snprintf(want, sizeof(want), "socket:[%lu]", inode);
	while (!found && (de = readdir(proc))) {
		pid_t pid;
		DIR *fds;
		struct dirent *fe;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = (pid_t)strtol(de->d_name, NULL, 10);
		if (pid != pgid && getpgid(pid) != pgid)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
		fds = opendir(path);
		while (fds && !found && (fe = readdir(fds))) {
			ssize_t n = readlinkat(dirfd(fds), fe->d_name, link, sizeof(link) - 1);

			if (n > 0) {
				link[n] = 0;
				found = !strcmp(link, want);
			}
		}
		if (fds)
			closedir(fds);
	}
	closedir(proc);
	return found;
}

/* Accept check of a worker's Runtime API: only a socket of the emulator's own uid, held by a
 * process of the worker's process group, may connect (the port is on loopback, where every
 * local user, and every other program of this one, could otherwise take the invocation's
 * event, post a forged result or kill the worker). Needs no client change. A refusal is
 * logged once per worker, so a flood of attempts does not fill the log. */
static bool runtime_accept(void *user, const struct sockaddr *peer, socklen_t len, int port)
{
	struct worker *w = user;
	struct sockaddr_in local = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	unsigned long inode = 0;
	long uid;

	if (peer->sa_family != AF_INET || len < (socklen_t)sizeof(struct sockaddr_in) ||
	    inet_pton(AF_INET, w->emu->runtime_host, &local.sin_addr) != 1)
		return false;
	uid = tcp_peer_uid((const struct sockaddr_in *)peer, &local, &inode);
	if (uid == (long)geteuid() && w->spawned && !w->exited &&
	    pgroup_holds_socket(w->proc->pid, inode))
		return true;
	if (w->refused++ > 0)
		return false;
	if (uid != (long)geteuid())
		emu_log(
		    w->emu,
		    "refused a Runtime API connection to the worker of %s: peer uid %ld, not %ld",
		    w->fn->name, uid, (long)geteuid());
	else
		emu_log(w->emu,
		        "refused a Runtime API connection to the worker of %s: the peer is not in "
		        "the worker's process group",
		        w->fn->name);
	return false;
}

/* Starts a worker process for f. Returns NULL with *why set when it cannot start. */
static struct worker *worker_spawn(struct emulator *emu, struct function *f, char *why,
                                   size_t why_len)
{
	struct worker *w = xcalloc(1, sizeof(*w));
	struct strv argv = {0}, env = {0};
	struct lk_error err = {0};
	uv_process_options_t po = {0};
	uv_stdio_container_t stdio[3];
	char num[32], date[16], hex[33], *s;
	const cJSON *e;
	time_t now = time(NULL);
	struct tm tm;
	int rc;

	w->emu = emu;
	w->fn = f;
	function_ref(f);
	w->generation = f->generation;
	w->code = f->code;
	codedir_ref(w->code);
	w->report_init = true;
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%Y/%m/%d", &tm);
	emu_random_hex(hex, 16);
	snprintf(w->stream, sizeof(w->stream), "%s/[$LATEST]%s", date, hex);
	snprintf(w->group, sizeof(w->group), "/aws/lambda/%s", f->name);
	w->timer = xcalloc(1, sizeof(*w->timer));
	uv_timer_init(emu->loop, w->timer);
	w->timer->data = w;
	w->out = xcalloc(1, sizeof(*w->out));
	w->err = xcalloc(1, sizeof(*w->err));
	uv_pipe_init(emu->loop, w->out, 0);
	uv_pipe_init(emu->loop, w->err, 0);
	w->out->data = w->err->data = w;
	w->proc = xcalloc(1, sizeof(*w->proc));
	w->proc->data = w;
	w->next = f->workers;
	f->workers = w;
	w->rt = emu_server_new(emu->loop, emu->runtime_host, 0, RUNTIME_MAX_BODY, runtime_handle, w,
	                       &err);
	if (!w->rt) {
		snprintf(why, why_len, "cannot start the Runtime API listener: %.400s",
		         err.message);
		worker_destroy(w, why);
		return NULL;
	}
	emu_server_dispatch_oversize(w->rt);
	emu_server_set_accept_check(w->rt, runtime_accept, w);

	/* argv by runtime */
	if (!strncmp(f->runtime, "python", 6)) {
		char *py = find_in_path(f->runtime, true);

		if (!py)
			py = find_in_path("python3", false);
		if (!py) {
			snprintf(why, why_len, "no python3 interpreter found in PATH for %s",
			         f->runtime);
			goto fail;
		}
		strv_add(&argv, py);
		strv_add(&argv, xstrdup("-u"));
		strv_add(&argv, xasprintf("%s/python/bootstrap.py", emu->runtimes_dir));
	} else if (!strncmp(f->runtime, "nodejs", 6)) {
		char *node = find_in_path("node", false);

		if (!node) {
			snprintf(why, why_len, "no node interpreter found in PATH for %s",
			         f->runtime);
			goto fail;
		}
		strv_add(&argv, node);
		strv_add(&argv, xasprintf("--max-old-space-size=%d", f->memory * 9 / 10));
		strv_add(&argv, xasprintf("%s/node/bootstrap.mjs", emu->runtimes_dir));
	} else {
		char *boot = util_path_join(w->code->path, "bootstrap");

		if (access(boot, X_OK) != 0) {
			snprintf(
			    why, why_len,
			    "Couldn't find valid bootstrap(s): [%s] (the zip needs an executable "
			    "'bootstrap' at its root)",
			    boot);
			free(boot);
			goto fail;
		}
		strv_add(&argv, boot);
	}

	/* environment: base, the function's variables, then the reserved ones */
	s = getenv("PATH");
	env_set(&env, "PATH", s && *s ? s : "/usr/local/bin:/usr/bin:/bin");
	env_set(&env, "LANG", "C.UTF-8");
	env_set(&env, "TZ", ":UTC");
	env_set(&env, "AWS_ENDPOINT_URL_LAMBDA", emu->endpoint);
	env_set(&env, "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", emu->endpoint);
	if (!strncmp(f->runtime, "python", 6))
		env_set(&env, "PYTHONUNBUFFERED", "1");
	cJSON_ArrayForEach(e, f->env)
	{
		if (cJSON_IsString(e))
			env_set(&env, e->string, e->valuestring);
	}
	if (f->handler)
		env_set(&env, "_HANDLER", f->handler);
	env_set(&env, "LAMBDA_TASK_ROOT", w->code->path);
	s = xasprintf("%s/%s", emu->runtimes_dir,
	              !strncmp(f->runtime, "python", 6)   ? "python"
	              : !strncmp(f->runtime, "nodejs", 6) ? "node"
	                                                  : "");
	env_set(&env, "LAMBDA_RUNTIME_DIR", s);
	free(s);
	s = xasprintf("127.0.0.1:%d", emu_server_port(w->rt));
	env_set(&env, "AWS_LAMBDA_RUNTIME_API", s);
	free(s);
	env_set(&env, "AWS_LAMBDA_FUNCTION_NAME", f->name);
	snprintf(num, sizeof(num), "%d", f->memory);
	env_set(&env, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", num);
	env_set(&env, "AWS_LAMBDA_FUNCTION_VERSION", "$LATEST");
	env_set(&env, "AWS_LAMBDA_LOG_GROUP_NAME", w->group);
	env_set(&env, "AWS_LAMBDA_LOG_STREAM_NAME", w->stream);
	env_set(&env, "AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand");
	s = xasprintf("AWS_Lambda_%s", f->runtime);
	env_set(&env, "AWS_EXECUTION_ENV", s);
	free(s);
	env_set(&env, "AWS_REGION", emu->opt.region);
	env_set(&env, "AWS_DEFAULT_REGION", emu->opt.region);
	env_set(&env, "AWS_ACCESS_KEY_ID", emu->access_key);
	env_set(&env, "AWS_SECRET_ACCESS_KEY", emu->secret_key);

	stdio[0].flags = UV_IGNORE;
	stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	stdio[1].data.stream = (uv_stream_t *)w->out;
	stdio[2].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	stdio[2].data.stream = (uv_stream_t *)w->err;
	po.file = argv.v[0];
	po.args = argv.v;
	po.env = env.v;
	po.cwd = w->code->path;
	po.flags = UV_PROCESS_DETACHED;
	po.stdio = stdio;
	po.stdio_count = 3;
	po.exit_cb = on_exit_cb;
	w->spawn_ns = util_monotonic_ns();
	rc = uv_spawn(emu->loop, w->proc, &po);
	if (rc != 0) {
		snprintf(why, why_len, "cannot start %s: %s", argv.v[0], uv_strerror(rc));
		goto fail;
	}
	w->spawned = true;
	{
		/* Memory limit: the heap of a python/provided worker (RLIMIT_DATA), with room for
		 * the interpreter itself; node is limited by --max-old-space-size (V8 reserves
		 * large address ranges, so an rlimit would break it). */
		struct rlimit rl;

		if (strncmp(f->runtime, "nodejs", 6)) {
			rl.rlim_cur = rl.rlim_max = ((rlim_t)f->memory + 64) * 1024 * 1024;
			prlimit(w->proc->pid, RLIMIT_DATA, &rl, NULL);
		}
	}
	uv_read_start((uv_stream_t *)w->out, alloc_cb, on_read);
	uv_read_start((uv_stream_t *)w->err, alloc_cb, on_read);
	strv_free(&argv);
	strv_free(&env);
	return w;
fail:
	strv_free(&argv);
	strv_free(&env);
	worker_destroy(w, why);
	return NULL;
}

/* ---- dispatch ---- */

static int alive_workers(const struct function *f)
{
	int n = 0;

	for (const struct worker *w = f->workers; w; w = w->next)
		if (!w->exited && !w->destroyed)
			n++;
	return n;
}

/* Finds or starts a worker for inv. Returns false when the function is at its limit. */
static bool dispatch(struct emulator *emu, struct invocation *inv)
{
	struct function *f = inv->fn;
	struct worker *best = NULL;
	char why[512];

	for (struct worker *w = f->workers; w; w = w->next) {
		if (w->inv || w->killed || w->exited || w->destroyed ||
		    w->generation != f->generation)
			continue;
		if (!best || (w->next_req && !best->next_req))
			best = w;
	}
	if (best) {
		assign(best, inv);
		return true;
	}
	if (alive_workers(f) >= emu->opt.max_concurrency)
		return false;
	best = worker_spawn(emu, f, why, sizeof(why));
	if (!best) {
		cJSON *o = cJSON_CreateObject();
		char *s;

		emu_log(emu, "cannot start a worker for %s: %s", f->name, why);
		if (inv->req) {
			const char *hdrs[] = {"X-Amz-Function-Error", "Unhandled",
			                      "X-Amz-Executed-Version", "$LATEST", NULL};

			cJSON_AddStringToObject(o, "errorType", "Runtime.InvalidEntrypoint");
			cJSON_AddStringToObject(o, "errorMessage", why);
			s = cJSON_PrintUnformatted(o);
			emu_respond(inv->req, 200, "application/json", hdrs, s, strlen(s));
			inv->req = NULL;
			cJSON_free(s);
		}
		cJSON_Delete(o);
		invocation_free(inv);
		return true;
	}
	assign(best, inv);
	return true;
}

static void try_queue(struct emulator *emu, struct function *f)
{
	(void)emu;
	struct invocation *inv;

	if (f->deleted) {
		queue_clear(f);
		return;
	}
	while ((inv = queue_pop(f))) {
		if (!dispatch(inv->emu, inv)) {
			queue_push_front(f, inv);
			return;
		}
	}
}

void workers_invoke(struct emulator *emu, struct function *f, struct emu_request *req,
                    enum invoke_type type, bool tail)
{
	struct invocation *inv;

	if (!f->code) { /* still being created (State Pending): AWS refuses too */
		struct lk_error err = {0};

		functions_busy_error(emu, f, &err);
		emu_respond_error(req, err.status, err.code, "%s", err.message);
		return;
	}
	inv = invocation_new(emu, f, req, type, tail);

	if (type == INVOKE_EVENT) {
		char id[37];
		const char *hdrs[] = {"x-amzn-RequestId", id, NULL};

		memcpy(id, inv->id, sizeof(id));
		if (f->queue_head || !dispatch(emu, inv)) {
			if (emu->queued_bytes + invocation_bytes(inv) > EMU_EVENT_QUEUE_MAX) {
				/* bounded memory: throttle as AWS does rather than grow */
				invocation_free(inv);
				emu_respond_error(req, 429, "TooManyRequestsException",
				                  "Rate Exceeded. (%zu MB of Event invocations are "
				                  "already waiting for a worker; retry later)",
				                  (size_t)(EMU_EVENT_QUEUE_MAX >> 20));
				return;
			}
			queue_push(f, inv);
		}
		emu_respond(req, 202, "application/json", hdrs, "", 0);
		return;
	}
	if (!dispatch(emu, inv)) {
		inv->req = NULL;
		emu_request_on_abort(req, NULL, NULL);
		invocation_free(inv);
		emu_respond_error(req, 429, "TooManyRequestsException",
		                  "Rate Exceeded. (%s already runs %d concurrent invocations)",
		                  f->name, emu->opt.max_concurrency);
	}
}

int workers_alive(const struct function *f)
{
	return alive_workers(f);
}

void workers_prewarm(struct emulator *emu, struct function *f)
{
	char why[512];
	struct worker *w;

	if (f->deleted || emu->stopping || alive_workers(f) >= emu->opt.max_concurrency)
		return;
	w = worker_spawn(emu, f, why, sizeof(why));
	if (!w) {
		emu_log(emu, "cannot pre-start a worker for %s: %s", f->name, why);
		return;
	}
	w->report_init = false; /* like provisioned concurrency: init is not the invoke's cost */
	arm_timer(w, INIT_TIMEOUT_MS); /* no invocation yet: stopped if init never finishes */
}

void workers_drain(struct emulator *emu, struct function *f)
{
	struct worker *next;

	(void)emu;
	for (struct worker *w = f->workers; w; w = next) {
		next = w->next;
		if ((w->generation != f->generation || f->deleted) && !w->inv)
			worker_kill(w);
	}
	if (f->deleted) {
		for (struct worker *w = f->workers; w; w = w->next)
			worker_kill(w);
		queue_clear(f);
	}
}

void workers_stop_all(struct emulator *emu)
{
	for (struct function *f = emu->functions; f; f = f->next) {
		for (struct worker *w = f->workers; w; w = w->next)
			worker_kill(w);
		queue_clear(f);
	}
}

int workers_count(const struct emulator *emu)
{
	int n = 0;

	for (const struct function *f = emu->functions; f; f = f->next)
		n += alive_workers(f);
	return n;
}

/* ---- the Runtime API (one listener per worker) ---- */

static void on_next_abort(void *user)
{
	struct worker *w = user;

	w->next_req = NULL;
}

static void rt_error(struct emu_request *req, int status, const char *type, const char *msg)
{
	cJSON *o = cJSON_CreateObject();
	char *s;

	cJSON_AddStringToObject(o, "errorMessage", msg);
	cJSON_AddStringToObject(o, "errorType", type);
	s = cJSON_PrintUnformatted(o);
	emu_respond(req, status, "application/json", NULL, s, strlen(s));
	cJSON_free(s);
	cJSON_Delete(o);
}

static void rt_accepted(struct emu_request *req)
{
	static const char ok[] = "{\"status\":\"OK\"}";

	emu_respond(req, 202, "application/json", NULL, ok, sizeof(ok) - 1);
}

/* The error body a runtime posted, normalised to {errorMessage, errorType, stackTrace}. */
static char *error_body(struct emu_request *req, const char *body, size_t len)
{
	cJSON *in = cJSON_ParseWithLength(body, len), *out = cJSON_CreateObject(), *v;
	const char *hdr_type = emu_request_header(req, "Lambda-Runtime-Function-Error-Type");
	char *s;

	v = cJSON_GetObjectItemCaseSensitive(in, "errorMessage");
	cJSON_AddStringToObject(out, "errorMessage",
	                        cJSON_IsString(v) ? v->valuestring : (in ? "" : body));
	v = cJSON_GetObjectItemCaseSensitive(in, "errorType");
	cJSON_AddStringToObject(out, "errorType",
	                        cJSON_IsString(v) ? v->valuestring
	                        : hdr_type        ? hdr_type
	                                          : "Unhandled");
	v = cJSON_GetObjectItemCaseSensitive(in, "stackTrace");
	if (!v)
		v = cJSON_GetObjectItemCaseSensitive(in, "trace");
	if (cJSON_IsArray(v))
		cJSON_AddItemToObject(out, "stackTrace", cJSON_Duplicate(v, 1));
	if (in && (v = cJSON_GetObjectItemCaseSensitive(in, "requestId")))
		cJSON_AddItemToObject(out, "requestId", cJSON_Duplicate(v, 1));
	s = cJSON_PrintUnformatted(out);
	cJSON_Delete(in);
	cJSON_Delete(out);
	return s;
}

static void after_invocation(struct worker *w)
{
	struct function *f = w->fn;

	if (w->generation != f->generation || f->deleted || w->killed) {
		worker_kill(w);
		return;
	}
	if (f->queue_head)
		try_queue(w->emu, f);
	else if (w->next_req && !w->inv)
		arm_timer(w, (uint64_t)w->emu->opt.idle_timeout_s * 1000);
}

static void runtime_handle(void *user, struct emu_request *req)
{
	struct worker *w = user;
	const char *path = emu_request_path(req), *method = emu_request_method(req);
	size_t len;
	const char *body = emu_request_body(req, &len);

	if (strncmp(path, RUNTIME_PREFIX, strlen(RUNTIME_PREFIX))) {
		rt_error(req, 404, "NotFound", "unknown Runtime API path");
		return;
	}
	path += strlen(RUNTIME_PREFIX);
	if (!strcmp(path, "invocation/next") && !strcmp(method, "GET")) {
		if (!w->initialized) {
			w->initialized = true;
			w->init_ms = (double)(util_monotonic_ns() - w->spawn_ns) / 1e6;
		}
		if (w->next_req) {
			rt_error(req, 400, "InvalidStateTransition",
			         "another invocation/next is already waiting");
			return;
		}
		if (w->killed || w->destroyed) {
			rt_error(req, 410, "WorkerStopping", "this worker is being stopped");
			return;
		}
		w->next_req = req;
		emu_request_on_abort(req, on_next_abort, w);
		if (w->inv && !w->inv->delivered) {
			deliver(w);
			arm_timer(w, (uint64_t)w->fn->timeout * 1000);
		} else if (!w->inv) {
			after_invocation(w);
		}
		return;
	}
	if (!strncmp(path, "invocation/", 11) && !strcmp(method, "POST")) {
		const char *id = path + 11, *slash = strchr(id, '/');

		if (!slash || (strcmp(slash, "/response") && strcmp(slash, "/error"))) {
			rt_error(req, 404, "NotFound", "unknown Runtime API path");
			return;
		}
		if (!w->inv || !w->inv->delivered || strlen(w->inv->id) != (size_t)(slash - id) ||
		    strncmp(w->inv->id, id, (size_t)(slash - id))) {
			rt_error(req, 400, "InvalidRequestID", "Invalid request ID");
			return;
		}
		if (emu_request_too_large(req) || len > EMU_RUNTIME_RESPONSE_MAX) {
			/* as AWS: the runtime gets 413 and lives on, the caller gets the error */
			char msg[96];

			snprintf(msg, sizeof(msg),
			         "Exceeded maximum allowed payload size (%u bytes).",
			         (unsigned)EMU_RUNTIME_RESPONSE_MAX);
			rt_error(req, 413, "RequestEntityTooLarge", msg);
			finish_error(w, "Function.ResponseSizeTooLarge",
			             "Response payload size exceeded maximum allowed payload "
			             "size (%u bytes).",
			             (unsigned)EMU_RUNTIME_RESPONSE_MAX);
		} else if (!strcmp(slash, "/response")) {
			rt_accepted(req);
			finish(w, body, len, false);
		} else {
			rt_accepted(req);
			char *e = error_body(req, body, len);

			finish(w, e, strlen(e), true);
			cJSON_free(e);
		}
		after_invocation(w);
		return;
	}
	if (!strcmp(path, "init/error") && !strcmp(method, "POST")) {
		char *e = error_body(req, body, len);

		rt_accepted(req);
		if (!w->initialized) {
			w->initialized = true;
			w->init_ms = (double)(util_monotonic_ns() - w->spawn_ns) / 1e6;
		}
		if (w->inv)
			finish(w, e, strlen(e), true);
		cJSON_free(e);
		worker_kill(w);
		return;
	}
	rt_error(req, 404, "NotFound", "unknown Runtime API path");
}
