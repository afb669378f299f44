/* Unit tests for backend/emulator/logstore: ordering, bounds, persistence, torn journals,
 * listeners. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend/emulator/logstore.h"

static char *make_dir(void)
{
	char tmpl[] = "/tmp/lk-logstore-XXXXXX";
	char *d = mkdtemp(tmpl);
	assert_non_null(d);
	return xstrdup(d);
}

static void remove_dir(char *dir)
{
	char *argv[] = {"rm", "-rf", dir, NULL};
	pid_t pid = fork();
	if (pid == 0) {
		execvp("rm", argv);
		_exit(127);
	}
	int st;
	waitpid(pid, &st, 0);
	free(dir);
}

struct collected {
	char msgs[64][64];
	char ids[64][48];
	uint64_t seqs[64];
	int n;
	int limit;
};

static bool collect(void *user, const struct log_event *ev)
{
	struct collected *c = user;
	if (c->n >= 64)
		return false;
	snprintf(c->msgs[c->n], sizeof(c->msgs[0]), "%.*s", (int)ev->message_len, ev->message);
	snprintf(c->ids[c->n], sizeof(c->ids[0]), "%s", ev->event_id);
	c->seqs[c->n] = ev->seq;
	c->n++;
	return c->limit == 0 || c->n < c->limit;
}

static void test_order_and_ids(void **state)
{
	(void)state;
	char *dir = make_dir();
	struct lk_error err;
	lk_error_clear(&err);
	struct logstore *ls = logstore_open(dir, 0, 0, &err);
	assert_non_null(ls);
	/* timestamps out of order: ingestion order must be kept */
	assert_int_equal(logstore_append(ls, "/aws/lambda/a", "s1", 3000, "one", 3), 0);
	assert_int_equal(logstore_append(ls, "/aws/lambda/a", "s2", 1000, "two", 3), 0);
	assert_int_equal(logstore_append(ls, "/aws/lambda/a", "s1", 2000, "three", 5), 0);
	assert_int_equal(logstore_append(ls, "/aws/lambda/b", "s1", 2000, "other", 5), 0);
	assert_int_equal(logstore_append(ls, "", "s1", 2000, "x", 1), -1);
	assert_int_equal(logstore_append(ls, "/g", "", 2000, "x", 1), -1);

	struct collected c = {0};
	assert_int_equal(logstore_scan(ls, "/aws/lambda/a", NULL, 0, false, collect, &c), 0);
	assert_int_equal(c.n, 3);
	assert_string_equal(c.msgs[0], "one");
	assert_string_equal(c.msgs[1], "two");
	assert_string_equal(c.msgs[2], "three");
	assert_true(strcmp(c.ids[0], c.ids[1]) != 0 && strcmp(c.ids[1], c.ids[2]) != 0);
	assert_true(c.seqs[0] < c.seqs[1] && c.seqs[1] < c.seqs[2]);

	memset(&c, 0, sizeof(c));
	logstore_scan(ls, "/aws/lambda/a", "s1", 0, false, collect, &c);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.msgs[1], "three");

	memset(&c, 0, sizeof(c));
	logstore_scan(ls, "/aws/lambda/a", NULL, UINT64_MAX, true, collect, &c);
	assert_int_equal(c.n, 3);
	assert_string_equal(c.msgs[0], "three");

	assert_int_equal(logstore_scan(ls, "/nope", NULL, 0, false, collect, &c), -1);

	struct logstore_group_info *gi;
	size_t n = logstore_list_groups(ls, &gi);
	assert_int_equal(n, 2);
	assert_string_equal(gi[0].name, "/aws/lambda/a");
	assert_int_equal(gi[0].stored_events, 3);
	assert_int_equal(gi[0].stored_bytes, 11);
	free(gi);
	struct logstore_stream_info *si;
	n = logstore_list_streams(ls, "/aws/lambda/a", &si);
	assert_int_equal(n, 2);
	assert_string_equal(si[0].name, "s1");
	assert_int_equal(si[0].first_event_timestamp, 3000);
	assert_int_equal(si[0].last_event_timestamp, 3000);
	assert_int_equal(si[1].first_event_timestamp, 1000);
	free(si);
	assert_int_equal(logstore_list_streams(ls, "/nope", &si), (size_t)-1);
	logstore_close(ls);
	remove_dir(dir);
}

static void test_persist_and_bound(void **state)
{
	(void)state;
	char *dir = make_dir();
	struct lk_error err;
	lk_error_clear(&err);
	struct logstore *ls = logstore_open(dir, 10, 0, &err);
	assert_non_null(ls);
	char msg[32];
	for (int i = 0; i < 45; i++) {
		int n = snprintf(msg, sizeof(msg), "line %d", i);
		assert_int_equal(
		    logstore_append(ls, "/g", i < 40 ? "old" : "new", 1000 + i, msg, (size_t)n), 0);
	}
	struct collected before = {0};
	logstore_scan(ls, "/g", NULL, 0, false, collect, &before);
	assert_int_equal(before.n, 10);
	assert_string_equal(before.msgs[0], "line 35");
	assert_string_equal(before.msgs[9], "line 44");
	uint64_t last = logstore_last_seq(ls);
	logstore_close(ls);

	ls = logstore_open(dir, 10, 0, &err);
	assert_non_null(ls);
	struct collected after = {0};
	logstore_scan(ls, "/g", NULL, 0, false, collect, &after);
	assert_int_equal(after.n, 10);
	for (int i = 0; i < 10; i++) {
		assert_string_equal(after.msgs[i], before.msgs[i]);
		assert_string_equal(after.ids[i], before.ids[i]); /* stable ids */
	}
	assert_int_equal(logstore_last_seq(ls), last);
	/* seq continues after a restart: new ids never collide with old ones */
	logstore_append(ls, "/g", "new", 5000, "fresh", 5);
	assert_true(logstore_last_seq(ls) > last);
	logstore_close(ls);

	/* streams whose events were all evicted are gone, after a restart too */
	ls = logstore_open(dir, 10, 0, &err);
	struct logstore_stream_info *si;
	size_t n = logstore_list_streams(ls, "/g", &si);
	assert_int_equal(n, 2);
	assert_string_equal(si[1].name, "old");
	assert_int_equal(si[1].stored_events, 4); /* lines 36..39 */
	free(si);
	logstore_close(ls);
	remove_dir(dir);
}

static void test_torn_journal(void **state)
{
	(void)state;
	char *dir = make_dir();
	struct lk_error err;
	lk_error_clear(&err);
	struct logstore *ls = logstore_open(dir, 0, 0, &err);
	logstore_append(ls, "/t", "s", 1, "first", 5);
	logstore_append(ls, "/t", "s", 2, "second", 6);
	logstore_close(ls);
	/* "/t" -> hex 2f74 */
	char *path = util_path_join(dir, "2f74.journal");
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	/* cut the last record in the middle, as a crash during write would */
	assert_int_equal(truncate(path, st.st_size - 3), 0);
	ls = logstore_open(dir, 0, 0, &err);
	struct collected c = {0};
	logstore_scan(ls, "/t", NULL, 0, false, collect, &c);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.msgs[0], "first");
	/* appending after the cut works and survives another reopen */
	logstore_append(ls, "/t", "s", 3, "third", 5);
	logstore_close(ls);
	/* flip a byte of the first record's message: CRC catches it, everything after dropped */
	ls = logstore_open(dir, 0, 0, &err);
	memset(&c, 0, sizeof(c));
	logstore_scan(ls, "/t", NULL, 0, false, collect, &c);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.msgs[1], "third");
	logstore_close(ls);
	int fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "X", 1, 16 + 12 + 30 + 1), 1);
	close(fd);
	ls = logstore_open(dir, 0, 0, &err);
	memset(&c, 0, sizeof(c));
	assert_int_equal(logstore_scan(ls, "/t", NULL, 0, false, collect, &c), 0);
	assert_int_equal(c.n, 0);
	logstore_close(ls);
	/* garbage file with the journal suffix is ignored, not a crash */
	char *junk = util_path_join(dir, "zz.journal");
	assert_int_equal(util_write_atomic(junk, "garbage", 7, 0600, &err), 0);
	ls = logstore_open(dir, 0, 0, &err);
	assert_non_null(ls);
	logstore_close(ls);
	free(junk);
	free(path);
	remove_dir(dir);
}

struct listen {
	struct logstore *ls;
	int handle;
	int calls;
	char last[64];
};

static void on_event(void *user, const struct log_event *ev)
{
	struct listen *l = user;
	l->calls++;
	snprintf(l->last, sizeof(l->last), "%s %s %.*s", ev->group, ev->stream,
	         (int)ev->message_len, ev->message);
	if (l->calls == 2)
		logstore_unsubscribe(l->ls, l->handle); /* from inside the callback */
}

static void test_listeners(void **state)
{
	(void)state;
	char *dir = make_dir();
	struct lk_error err;
	lk_error_clear(&err);
	struct logstore *ls = logstore_open(dir, 0, 0, &err);
	struct listen a = {.ls = ls}, b = {.ls = ls};
	a.handle = logstore_subscribe(ls, on_event, &a);
	b.handle = logstore_subscribe(ls, on_event, &b);
	assert_true(a.handle > 0 && b.handle > 0 && a.handle != b.handle);
	logstore_append(ls, "/g", "s", 1, "hello", 5);
	assert_string_equal(a.last, "/g s hello");
	logstore_append(ls, "/g", "s", 2, "x", 1);
	logstore_append(ls, "/g", "s", 3, "y", 1);
	assert_int_equal(a.calls, 2);
	assert_int_equal(b.calls, 2);
	logstore_unsubscribe(ls, 9999); /* unknown handle: ignored */
	logstore_close(ls);
	logstore_close(NULL);
	remove_dir(dir);
}

static void test_huge_message(void **state)
{
	(void)state;
	char *dir = make_dir();
	struct lk_error err;
	lk_error_clear(&err);
	struct logstore *ls = logstore_open(dir, 0, 0, &err);
	size_t big = 1024 * 1024;
	char *m = xmalloc(big);
	memset(m, 'a', big);
	m[5] = 0; /* embedded NUL kept */
	assert_int_equal(logstore_append(ls, "/g", "s", 1, m, big), 0);
	struct logstore_group_info *gi;
	logstore_list_groups(ls, &gi);
	assert_int_equal(gi[0].stored_bytes, LOGSTORE_MAX_MESSAGE);
	free(gi);
	free(m);
	logstore_close(ls);
	remove_dir(dir);
}

struct checked {
	int n;
	int first;
	bool ok;
};

/* Messages are "<index>:" followed by filler derived from the index. */
static bool check_message(void *user, const struct log_event *ev)
{
	struct checked *c = user;
	int idx = atoi(ev->message);
	if (c->n == 0)
		c->first = idx;
	else if (idx != c->first + c->n)
		c->ok = false;
	for (size_t i = strcspn(ev->message, ":") + 1; i < ev->message_len; i++)
		if (ev->message[i] != 'a' + idx % 26)
			c->ok = false;
	c->n++;
	return true;
}

static uint64_t dir_bytes(const char *dir, int *files)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	uint64_t total = 0;
	*files = 0;
	assert_non_null(d);
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char *p = util_path_join(dir, de->d_name);
		struct stat st;
		if (stat(p, &st) == 0)
			total += (uint64_t)st.st_size;
		(*files)++;
		free(p);
	}
	closedir(d);
	return total;
}

/* Appends events numbered 0..total-1 of 4000 bytes ("<n>:" then a filler from n) to /g,
 * alternating between two streams when two_streams. */
static void append_numbered(struct logstore *ls, int total, bool two_streams)
{
	char *m = xmalloc(4000);
	for (int i = 0; i < total; i++) {
		int n = snprintf(m, 4000, "%d:", i);
		memset(m + n, 'a' + i % 26, 4000 - (size_t)n);
		assert_int_equal(
		    logstore_append(ls, "/g", two_streams && i % 2 ? "s1" : "s2", i, m, 4000), 0);
	}
	free(m);
}

/* Asserts /g holds the newest events of append_numbered(total) with their exact content,
 * stored_bytes within [min_bytes, max_bytes]; returns how many it holds. */
static size_t check_newest(struct logstore *ls, int total, uint64_t min_bytes, uint64_t max_bytes)
{
	struct logstore_group_info *gi;
	assert_int_equal(logstore_list_groups(ls, &gi), 1);
	assert_true(gi[0].stored_bytes <= max_bytes);
	assert_true(gi[0].stored_bytes >= min_bytes);
	size_t kept = gi[0].stored_events;
	free(gi);
	struct checked c = {.ok = true};
	logstore_scan(ls, "/g", NULL, 0, false, check_message, &c);
	assert_int_equal((size_t)c.n, kept);
	assert_int_equal(c.first + c.n, total);
	assert_true(c.ok);
	return kept;
}

/* The byte bound: a flood of large events keeps the newest that fit, readable (from disk)
 * in order with their exact content, and the journal's old segments are deleted. */
static void test_byte_bound(void **state)
{
	(void)state;
	char *dir = make_dir();
	struct lk_error err;
	lk_error_clear(&err);
	const uint64_t bound = 1 << 20;
	struct logstore *ls = logstore_open(dir, 0, bound, &err);
	assert_non_null(ls);
	append_numbered(ls, 2000, true); /* ~8 MB logged */
	size_t kept = check_newest(ls, 2000, bound - 8000, bound);
	int files;
	uint64_t disk = dir_bytes(dir, &files);
	assert_true(disk <= bound + bound / 8 + 100000);
	assert_true(files <= 10);
	logstore_close(ls);

	/* the same window after a restart */
	ls = logstore_open(dir, 0, bound, &err);
	assert_int_equal(check_newest(ls, 2000, bound - 8000, bound), kept);
	logstore_close(ls);
	remove_dir(dir);
}

/* A journal that cannot be written (here: the file size limit) keeps events in memory, but
 * only a bounded amount: a flood on a full disk must not grow the emulator either. */
static void test_write_failure_bounded(void **state)
{
	(void)state;
	char *dir = make_dir();
	struct lk_error err;
	lk_error_clear(&err);
	struct logstore *ls = logstore_open(dir, 0, 0, &err);
	assert_non_null(ls);
	struct rlimit old, small;
	void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	small = old;
	small.rlim_cur = 0; /* every journal write fails (EFBIG), as on a full disk */
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
	append_numbered(ls, 8000, false); /* 32 MB */
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, old_handler);
	/* the newest events are there, held in memory within the store's 8 MB for this case */
	check_newest(ls, 8000, (8u << 20) - 8000, 8u << 20);
	/* once the disk takes writes again, new events go there */
	assert_int_equal(logstore_append(ls, "/g", "s", 8000, "after", 5), 0);
	logstore_close(ls);
	ls = logstore_open(dir, 0, 0, &err);
	struct collected last = {0};
	last.limit = 1;
	logstore_scan(ls, "/g", NULL, UINT64_MAX, true, collect, &last);
	assert_int_equal(last.n, 1);
	assert_string_equal(last.msgs[0], "after");
	logstore_close(ls);
	remove_dir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_order_and_ids),         cmocka_unit_test(test_persist_and_bound),
	    cmocka_unit_test(test_torn_journal),          cmocka_unit_test(test_listeners),
	    cmocka_unit_test(test_huge_message),          cmocka_unit_test(test_byte_bound),
	    cmocka_unit_test(test_write_failure_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
