/* childguard.h - children that do not outlive lambdeck. A command lambdeck starts in its own
 * process group (test runs, full deploys, dependency installs) is run through a small guard:
 * the lambdeck binary itself in an internal mode (`lambdeck __childguard PID -- ARGV...`),
 * which makes itself the group's leader, asks the kernel for a signal when its parent dies
 * (PR_SET_PDEATHSIG), forks and execs the command, passes on the signals it is sent, and
 * exits as the command did. When lambdeck ends in any way (quit, crash, SIGKILL) the guard
 * terminates the whole group: SIGTERM, then SIGKILL after a grace period. This is what a
 * terminal hangup does for a shell's jobs; these groups have no terminal, so the guard
 * stands in for it. uv_spawn cannot run code between fork and exec, hence the exec wrapper.
 *
 * Call order: childguard_enable() once at process start (cli/main.c, only in the lambdeck
 * binary: other programs linking the backend, such as unit tests, spawn unguarded); then
 * childguard_argv() for each spawn. */
#ifndef LAMBDECK_CHILDGUARD_H
#define LAMBDECK_CHILDGUARD_H

/* The first argument that selects the guard mode in the lambdeck binary. */
#define CHILDGUARD_ARG "__childguard"

/* Spawns from now on go through the guard (this process's own executable). */
void childguard_enable(void);
/* The argv to spawn for argv (NULL-terminated) run in cwd (NULL: ours): the guarded form when
 * enabled and argv[0] resolves to an executable file, otherwise a plain copy (so that a
 * missing command still fails in uv_spawn with ENOENT/EACCES). Free with
 * childguard_argv_free. */
char **childguard_argv(char *const *argv, const char *cwd);
void childguard_argv_free(char **argv);
/* The guard itself: argc/argv as given to main (argv[1] == CHILDGUARD_ARG). Returns the exit
 * status, or does not return when the command died of a signal (it dies of the same). */
int childguard_main(int argc, char **argv);

#endif
