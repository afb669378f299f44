/* childguard.c - the guard process that ties a child's process group to lambdeck's life.
 * See childguard.h. */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "backend/childguard.h"
#include "backend/util.h"

/* After the parent died: time the group gets between SIGTERM and SIGKILL. */
#define GUARD_GRACE_MS 2000

static bool guard_enabled;

void childguard_enable(void)
{
	guard_enabled = access("/proc/self/exe", X_OK) == 0;
}

char **childguard_argv(char *const *argv, const char *cwd)
{
	size_t n = 0, k = 0;
	bool wrap;
	char **out;

	while (argv[n])
		n++;
	wrap = guard_enabled && util_executable(argv[0], cwd);
	out = xcalloc(n + 5, sizeof(*out));
	if (wrap) {
		out[k++] = xstrdup("/proc/self/exe"); /* in the forked child: this very binary */
		out[k++] = xstrdup(CHILDGUARD_ARG);
		out[k++] = xasprintf("%ld", (long)getpid());
		out[k++] = xstrdup("--");
	}
	for (size_t i = 0; i < n; i++)
		out[k++] = xstrdup(argv[i]);
	return out;
}

void childguard_argv_free(char **argv)
{
	if (!argv)
		return;
	for (size_t i = 0; argv[i]; i++)
		free(argv[i]);
	free(argv);
}

static int64_t monotonic_ms(void)
{
	return (int64_t)(util_monotonic_ns() / 1000000u);
}

/* Ends as the command did: the same exit status, or death by the same signal. */
static int exit_like(int status, const sigset_t *old)
{
	if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);
		struct sigaction dfl;
		sigset_t one;

		memset(&dfl, 0, sizeof(dfl));
		dfl.sa_handler = SIG_DFL;
		sigaction(sig, &dfl, NULL);
		sigprocmask(SIG_SETMASK, old, NULL);
		sigemptyset(&one);
		sigaddset(&one, sig);
		sigprocmask(SIG_UNBLOCK, &one, NULL);
		kill(getpid(), sig);
		return 128 + sig; /* a signal whose default is to continue */
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

int childguard_main(int argc, char **argv)
{
	static const int passed_on[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
	sigset_t set, old;
	pid_t parent, child;
	bool orphaned = false, killed = false;
	int64_t deadline = 0;
	int status = 0;

	if (argc < 5 || strcmp(argv[1], CHILDGUARD_ARG) || strcmp(argv[3], "--")) {
		fprintf(stderr, "lambdeck: %s is internal: %s PARENT_PID -- COMMAND [ARGS]\n",
		        CHILDGUARD_ARG, CHILDGUARD_ARG);
		return 2;
	}
	parent = (pid_t)strtol(argv[2], NULL, 10);
	sigemptyset(&set);
	for (size_t i = 0; i < sizeof(passed_on) / sizeof(passed_on[0]); i++)
		sigaddset(&set, passed_on[i]);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, &old);
	/* The group the guard answers for is its own (the spawner may not have made one). */
	if (getpgrp() != getpid())
		setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGHUP);
	orphaned = getppid() != parent; /* died before the request took effect */

	child = fork();
	if (child < 0) {
		fprintf(stderr, "lambdeck: cannot start %s: %s\n", argv[4], strerror(errno));
		return 126;
	}
	if (child == 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		execvp(argv[4], argv + 4);
		fprintf(stderr, "lambdeck: cannot run %s: %s\n", argv[4], strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	if (orphaned) {
		kill(-getpgrp(), SIGTERM);
		deadline = monotonic_ms() + GUARD_GRACE_MS;
	}
	for (;;) {
		siginfo_t info;
		int sig;

		if (orphaned) {
			int64_t left = deadline - monotonic_ms();
			struct timespec ts;

			if (left <= 0) {
				killed = true;
				break;
			}
			ts.tv_sec = left / 1000;
			ts.tv_nsec = (left % 1000) * 1000000;
			sig = sigtimedwait(&set, &info, &ts);
		} else {
			sig = sigwaitinfo(&set, &info);
		}
		if (sig < 0)
			continue; /* EINTR, or EAGAIN: the deadline is checked above */
		if (sig == SIGCHLD) {
			pid_t w;
			int st;
			bool done = false;

			while ((w = waitpid(-1, &st, WNOHANG)) > 0)
				if (w == child) {
					status = st;
					done = true;
				}
			if (done)
				break;
			continue;
		}
		if (getppid() != parent) {
			/* lambdeck is gone (the death signal, or any signal after it) */
			if (!orphaned) {
				orphaned = true;
				kill(-getpgrp(), SIGTERM);
				deadline = monotonic_ms() + GUARD_GRACE_MS;
			}
			continue;
		}
		/* Sent to the guard by lambdeck (cancel, timeout): the command's whole group gets
		 * it. The guard's own copy of what it sends comes back and is ignored here. */
		if (info.si_pid != getpid())
			kill(-getpgrp(), sig);
	}
	/* Without lambdeck nobody else will clean up: whatever is left of the group goes, the
	 * guard with it. */
	if (orphaned || killed)
		kill(-getpgrp(), SIGKILL);
	return exit_like(status, &old);
}
