/* unit_tmp.h - scratch directories for cmocka unit tests (include after <cmocka.h>). */
#ifndef LAMBDECK_TESTS_UNIT_TMP_H
#define LAMBDECK_TESTS_UNIT_TMP_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* A new empty directory /tmp/lk-<name>-XXXXXX (caller frees the path). */
static inline char *test_tmpdir(const char *name)
{
	char tmpl[256];
	char *d;

	snprintf(tmpl, sizeof(tmpl), "/tmp/lk-%s-XXXXXX", name);
	d = mkdtemp(tmpl);
	assert_non_null(d);
	return strdup(d);
}

/* rm -rf dir (a fixed argv, no shell). */
static inline void test_rm_rf(const char *dir)
{
	pid_t pid = fork();

	if (pid == 0) {
		execl("/bin/rm", "rm", "-rf", dir, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, NULL, 0) < 0)
		;
}

/* cp -r from to (a fixed argv, no shell); fails the test when cp does. */
static inline void test_cp_r(const char *from, const char *to)
{
	pid_t pid = fork();
	int st = 0;

	if (pid == 0) {
		execl("/bin/cp", "cp", "-r", from, to, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		;
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

#endif
