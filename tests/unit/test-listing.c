/*
 * test-listing.c - the NAMEs of a DIR and their statuses: sorted, junk
 * skipped, each status what a handle of its own would say, unsafe NAMEs
 * reported one by one, and the same answers in the same order whether
 * the calling thread reads them or threads read ahead.
 */
#include "internal.h"
#include "sleeper.h"
#include "testutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *tmp;	/* the test's scratch dir */
static char *base;	/* DIR of the current test, tmp/base */

static void setup(void)
{
	tmp = tu_keep(tu_tmpdir());
	base = tu_path(tmp, "base");
}

/* NAME in base with a pid key (and the live start_time when live). */
static void record(const char *name, pid_t pid, bool live)
{
	procmgr *h = tu_open(base, name);

	record_pid(h, pid, live);
	procmgr_free(h);
}

static char *host_dir(void)
{
	char fp[PROCMGR_HOSTFP_LEN + 1];

	ck_assert_int_eq(procmgr_host_fingerprint(fp), 0);
	return tu_path(base, fp);
}

START_TEST(test_missing_dir_lists_nothing)
{
	procmgr_listing *l = NULL;

	ck_assert_int_eq(procmgr_listing_open(base, 0, &l), 0);
	ck_assert_uint_eq(procmgr_listing_count(l), 0);
	ck_assert_ptr_null(procmgr_listing_name(l, 0));
	procmgr_listing_free(l);
	ck_assert_int_eq(procmgr_listing_open(base, 0, NULL), -EINVAL);
	ck_assert_int_eq(procmgr_listing_open("", 0, &l), -EINVAL);
	ck_assert_uint_eq(procmgr_listing_count(NULL), 0);
	ck_assert_ptr_null(procmgr_listing_name(NULL, 0));
	procmgr_listing_free(NULL);
}
END_TEST

/* DIR/HOSTFP there but empty (every NAME purged): nothing listed. */
START_TEST(test_empty_host_dir_lists_nothing)
{
	procmgr_listing *l = NULL;
	procmgr *h = tu_open(base, "web");

	ck_assert_int_eq(procmgr_write(h, "pid", "1"), 0);
	ck_assert_int_eq(procmgr_purge(h, true), 0);
	procmgr_free(h);
	ck_assert(tu_exists(host_dir()));
	ck_assert_int_eq(procmgr_listing_open(base, 0, &l), 0);
	ck_assert_uint_eq(procmgr_listing_count(l), 0);
	ck_assert_int_eq(procmgr_listing_each(l, 0, NULL, NULL), -EINVAL);
	procmgr_listing_free(l);
}
END_TEST

/* Threads of this process now, from /proc/self/task. */
static int threads_now(void)
{
	char *s = tu_read_file("/proc/self/status"), *p;
	int n;

	ck_assert_ptr_nonnull(s);
	p = strstr(s, "\nThreads:");
	ck_assert_ptr_nonnull(p);
	n = atoi(p + strlen("\nThreads:"));
	free(s);
	return n;
}

static int count_threads(void *userdata, size_t i, const char *name, int r,
			 const char *message, const struct procmgr_status *st)
{
	int *most = userdata, n = threads_now();

	(void)i, (void)name, (void)r, (void)message, (void)st;
	if (n > *most)
		*most = n;
	return 0;
}

/*
 * readers 0 picks for itself: a listing this short is not worth a thread,
 * and the caller reads it alone.
 */
START_TEST(test_short_listing_no_thread)
{
	procmgr_listing *l;
	int most = 0;

	record("a", tu_dead_pid(), false);
	record("b", tu_dead_pid(), false);
	record("c", tu_dead_pid(), false);
	ck_assert_int_eq(threads_now(), 1);
	ck_assert_int_eq(procmgr_listing_open(base, 0, &l), 0);
	ck_assert_int_eq(procmgr_listing_each(l, 0, count_threads, &most), 0);
	ck_assert_int_eq(most, 1);
	procmgr_listing_free(l);
}
END_TEST

START_TEST(test_names_sorted_junk_skipped)
{
	static const char *const names[] = { "web", "api", "a.b" };
	procmgr_listing *l;
	char *hp;

	for (size_t i = 0; i < 3; i++)
		record(names[i], tu_dead_pid(), false);
	hp = host_dir();
	tu_write_file(tu_path(hp, "web.log"), "log", 3);
	ck_assert_int_eq(mkdir(tu_path(hp, "UPPER"), 0700), 0);
	ck_assert_int_eq(mkdir(tu_path(hp, ".hidden"), 0700), 0);
	ck_assert_int_eq(symlink(tu_path(hp, "web"), tu_path(hp, "lnk")), 0);
	ck_assert_int_eq(procmgr_listing_open(base, 0, &l), 0);
	ck_assert_uint_eq(procmgr_listing_count(l), 3);
	ck_assert_str_eq(procmgr_listing_name(l, 0), "a.b");
	ck_assert_str_eq(procmgr_listing_name(l, 1), "api");
	ck_assert_str_eq(procmgr_listing_name(l, 2), "web");
	ck_assert_ptr_null(procmgr_listing_name(l, 3));
	procmgr_listing_free(l);
}
END_TEST

/* Each status is what procmgr_status() says through a handle of its own. */
START_TEST(test_status_as_a_handle_says)
{
	pid_t pid = start_sleeper(tmp, NULL, NULL);
	struct procmgr_status st = { 0 };
	procmgr_listing *l;
	procmgr *h;

	record("live", pid, true);
	record("dead", tu_dead_pid(), false);
	ck_assert_int_eq(procmgr_listing_open(base, 0, &l), 0);
	/* listed "dead", then "live" */
	h = procmgr_new();
	ck_assert_int_eq(procmgr_listing_status(l, 0, h, &st), 0);
	ck_assert_int_eq(st.state, PROCMGR_STALE);
	procmgr_status_clear(&st);
	/* the handle stays open, read-only, on its NAME */
	ck_assert_str_eq(procmgr_get_name(h), "dead");
	ck_assert_int_eq(procmgr_write(h, "x", "1"), -EROFS);
	ck_assert_int_eq(procmgr_listing_status(l, 1, h, &st), -EINVAL);
	procmgr_free(h);
	h = procmgr_new();
	ck_assert_int_eq(procmgr_listing_status(l, 1, h, &st), 0);
	ck_assert_int_eq(st.state, PROCMGR_RUNNING);
	ck_assert_int_eq(st.pid, pid);
	ck_assert_int_ge(st.started_at, 0);
	procmgr_status_clear(&st);
	procmgr_free(h);
	/* out of range, or no handle */
	h = procmgr_new();
	ck_assert_int_eq(procmgr_listing_status(l, 2, h, &st), -EINVAL);
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h), "no NAME 2"));
	ck_assert_int_eq(procmgr_listing_status(l, 0, NULL, &st), -EINVAL);
	ck_assert_int_eq(procmgr_listing_status(NULL, 0, h, &st), -EINVAL);
	procmgr_free(h);
	procmgr_listing_free(l);
	tu_kill(pid);
}
END_TEST

/*
 * A brief listing reads what the state needs and leaves the rest empty:
 * the same state and pid, no fingerprint, no monitor; flags it does not
 * know are refused.
 */
START_TEST(test_brief_status)
{
	pid_t pid = start_sleeper(tmp, NULL, NULL);
	struct procmgr_status st = { 0 };
	procmgr_listing *l;
	procmgr *h = tu_open(base, "web");

	record_pid(h, pid, true);
	ck_assert_int_eq(procmgr_write(h, "fingerprint", "abc"), 0);
	ck_assert_int_eq(procmgr_write(h, "socket", "4242"), 0);
	ck_assert_int_eq(procmgr_write(h, "restarts", "3"), 0);
	procmgr_free(h);
	ck_assert_int_eq(procmgr_listing_open(base, 2, &l), -EINVAL);
	ck_assert_int_eq(procmgr_listing_open(base, PROCMGR_LISTING_BRIEF, &l),
			 0);
	h = procmgr_new();
	ck_assert_int_eq(procmgr_listing_status(l, 0, h, &st), 0);
	ck_assert_int_eq(st.state, PROCMGR_RUNNING);
	ck_assert_int_eq(st.pid, pid);
	ck_assert_str_eq(st.socket, "4242");
	ck_assert_ptr_null(st.fingerprint);
	ck_assert_uint_eq(st.restarts, 0);
	ck_assert(st.ready);
	procmgr_status_clear(&st);
	/* the handle's own statuses afterwards are whole */
	ck_assert_int_eq(procmgr_status(h, &st), 0);
	ck_assert_str_eq(st.fingerprint, "abc");
	ck_assert_uint_eq(st.restarts, 3);
	procmgr_status_clear(&st);
	procmgr_free(h);
	procmgr_listing_free(l);
	tu_kill(pid);
}
END_TEST

/* A listing is a snapshot: a NAME removed since reads as stopped. */
START_TEST(test_removed_since_listed_is_stopped)
{
	struct procmgr_status st = { 0 };
	procmgr_listing *l;
	procmgr *h;

	record("gone", tu_dead_pid(), false);
	ck_assert_int_eq(procmgr_listing_open(base, 0, &l), 0);
	h = tu_open(base, "gone");
	ck_assert_int_eq(procmgr_purge(h, false), 0);
	procmgr_free(h);
	h = procmgr_new();
	ck_assert_int_eq(procmgr_listing_status(l, 0, h, &st), 0);
	ck_assert_int_eq(st.state, PROCMGR_STOPPED);
	procmgr_status_clear(&st);
	procmgr_free(h);
	procmgr_listing_free(l);
}
END_TEST

/* An unsafe DIR/HOSTFP fails the listing; an unsafe NAME, its status. */
START_TEST(test_unsafe_directories)
{
	struct procmgr_status st = { 0 };
	procmgr_listing *l;
	procmgr *h;
	char *hp;

	record("open", tu_dead_pid(), false);
	record("fine", tu_dead_pid(), false);
	hp = host_dir();
	ck_assert_int_eq(chmod(tu_path(hp, "open"), 0777), 0);
	ck_assert_int_eq(procmgr_listing_open(base, 0, &l), 0);
	h = procmgr_new();
	ck_assert_int_eq(procmgr_listing_status(l, 1, h, &st), -EACCES);
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h), "/open"));
	ck_assert_ptr_null(procmgr_get_name(h));
	procmgr_free(h);
	procmgr_listing_free(l);
	ck_assert_int_eq(chmod(hp, 0777), 0);
	ck_assert_int_eq(procmgr_listing_open(base, 0, &l), -EACCES);
}
END_TEST

struct seen {
	size_t n;
	char names[400][16];
	int states[400];
	int errors;		/* r < 0, each with a message */
	int warnings;		/* r >= 0 with a message */
	size_t stop_at;		/* return 7 at this index (0: never) */
};

static int collect(void *userdata, size_t i, const char *name, int r,
		   const char *message, const struct procmgr_status *st)
{
	struct seen *s = userdata;

	ck_assert_uint_eq(i, s->n);
	snprintf(s->names[s->n], sizeof(s->names[0]), "%s", name);
	s->states[s->n++] = r < 0 ? -1 : (int)st->state;
	if (r < 0) {
		ck_assert_ptr_nonnull(message);
		s->errors++;
	} else if (message) {
		s->warnings++;
	}
	return s->stop_at && i == s->stop_at ? 7 : 0;
}

/*
 * 300 NAMEs, enough for threads to read ahead in batches: running,
 * stale, corrupt (a warning) and unsafe (an error) ones.
 */
static pid_t make_many(void)
{
	pid_t pid = start_sleeper(tmp, NULL, NULL);
	char name[16], dead[16], *hp;
	procmgr *h;

	snprintf(dead, sizeof(dead), "%d", (int)tu_dead_pid());
	for (int i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "n%03d", i);
		h = tu_open(base, name);
		if (i % 3 == 0)
			record_pid(h, pid, true);
		else
			ck_assert_int_eq(procmgr_write(h, "pid", i % 3 == 1 ?
						       "junk" : dead), 0);
		procmgr_free(h);
	}
	hp = host_dir();
	ck_assert_int_eq(chmod(tu_path(hp, "n299"), 0777), 0);
	return pid;
}

static void check_many(const struct seen *s)
{
	char name[16];

	ck_assert_uint_eq(s->n, 300);
	for (int i = 0; i < 299; i++) {
		snprintf(name, sizeof(name), "n%03d", i);
		ck_assert_str_eq(s->names[i], name);
		ck_assert_int_eq(s->states[i], i % 3 == 0 ? PROCMGR_RUNNING :
							    PROCMGR_STALE);
	}
	ck_assert_int_eq(s->states[299], -1);
	ck_assert_int_eq(s->errors, 1);
	ck_assert_int_eq(s->warnings, 100);	/* the "junk" pids */
}

/* The calling thread alone, or 2, 3, 9 (capped) readers: the same walk. */
START_TEST(test_each_same_with_readers)
{
	static const int readers[] = { 0, 1, 2, 3, 9 };
	procmgr_listing *l;
	struct seen *s;
	pid_t pid = make_many();

	ck_assert_int_eq(procmgr_listing_open(base, 0, &l), 0);
	for (size_t k = 0; k < sizeof(readers) / sizeof(readers[0]); k++) {
		s = calloc(1, sizeof(*s));
		ck_assert_int_eq(procmgr_listing_each(l, readers[k], collect,
						      s), 0);
		check_many(s);
		free(s);
	}
	procmgr_listing_free(l);
	tu_kill(pid);
}
END_TEST

/* fn's non-zero answer stops the walk there, with readers or without. */
START_TEST(test_each_stops)
{
	procmgr_listing *l;
	struct seen *s = calloc(1, sizeof(*s));
	pid_t pid = make_many();

	ck_assert_int_eq(procmgr_listing_open(base, 0, &l), 0);
	for (int readers = 1; readers <= 3; readers += 2) {
		memset(s, 0, sizeof(*s));
		s->stop_at = 50;
		ck_assert_int_eq(procmgr_listing_each(l, readers, collect, s),
				 7);
		ck_assert_uint_eq(s->n, 51);
	}
	ck_assert_int_eq(procmgr_listing_each(l, -1, collect, s), -EINVAL);
	ck_assert_int_eq(procmgr_listing_each(l, 1, NULL, s), -EINVAL);
	ck_assert_int_eq(procmgr_listing_each(NULL, 1, collect, s), -EINVAL);
	free(s);
	procmgr_listing_free(l);
	tu_kill(pid);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("listing");
	TCase *tc = tcase_create("listing");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_missing_dir_lists_nothing);
	tcase_add_test(tc, test_empty_host_dir_lists_nothing);
	tcase_add_test(tc, test_short_listing_no_thread);
	tcase_add_test(tc, test_names_sorted_junk_skipped);
	tcase_add_test(tc, test_status_as_a_handle_says);
	tcase_add_test(tc, test_brief_status);
	tcase_add_test(tc, test_removed_since_listed_is_stopped);
	tcase_add_test(tc, test_unsafe_directories);
	tcase_add_test(tc, test_each_same_with_readers);
	tcase_add_test(tc, test_each_stops);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
