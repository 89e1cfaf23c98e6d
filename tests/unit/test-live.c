/*
 * test-live.c - a status given again from what the handle kept (lib/live.c)
 * must still be the truth: every way the daemon or its metadata can change
 * after a status that found it running shows in the next status.
 */
#include "internal.h"
#include "sleeper.h"

#include <errno.h>
#include <fcntl.h>

static char *dir;

static void setup(void)
{
	dir = tu_tmpdir();
}

static void teardown(void)
{
	free(dir);
}

/*
 * A running daemon recorded in h, with keys written long enough ago (a
 * few clock ticks) for the handle to keep the status it reads, read twice
 * so that the second comes from what was kept.
 */
static pid_t kept_running(procmgr *h)
{
	struct procmgr_status st;
	pid_t pid = start_sleeper(dir, NULL, NULL);

	record_pid(h, pid, true);
	ck_assert_int_eq(procmgr_write(h, "fingerprint", "abc"), 0);
	ck_assert_int_eq(procmgr_write(h, "socket", "1111"), 0);
	tu_sleep(0.05);
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(procmgr_status(h, &st), 0);
		ck_assert_int_eq(st.state, PROCMGR_RUNNING);
		ck_assert_int_eq(st.pid, pid);
		ck_assert_str_eq(st.socket, "1111");
		ck_assert_int_gt(st.started_at, 0);
		procmgr_status_clear(&st);
	}
	return pid;
}

static char *socket_of(procmgr *h)
{
	struct procmgr_status st;
	char *s;

	ck_assert_int_eq(procmgr_status(h, &st), 0);
	s = st.socket ? strdup(st.socket) : NULL;
	procmgr_status_clear(&st);
	return s;
}

START_TEST(test_exit_shows)
{
	procmgr *h = tu_open(dir, "web");
	pid_t pid = kept_running(h);

	tu_kill(pid);
	ck_assert(tu_wait_gone(pid, 10));
	ck_assert_int_eq(tu_state(h), PROCMGR_STALE);
	procmgr_free(h);
}
END_TEST

/* pants rewrites a key in place (same inode); procmgr renames over it. */
START_TEST(test_key_rewrite_shows)
{
	procmgr *h = tu_open(dir, "web");
	struct procmgr_status st;
	char *path, *s;
	int fd;

	kept_running(h);
	path = tu_path(procmgr_meta_dir(h), "socket");
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "2222", 4), 4);
	close(fd);
	s = socket_of(h);
	ck_assert_str_eq(s, "2222");
	free(s);
	ck_assert_int_eq(procmgr_write(h, "socket", "3333"), 0);
	s = socket_of(h);
	ck_assert_str_eq(s, "3333");
	free(s);
	/* a key that was absent */
	ck_assert_int_eq(procmgr_write(h, "exit", "status=3 at=2026-01-01T00:00:00Z"), 0);
	ck_assert_int_eq(procmgr_status(h, &st), 0);
	ck_assert(st.exit.known);
	ck_assert_int_eq(st.exit.status, 3);
	procmgr_status_clear(&st);
	ck_assert_int_eq(procmgr_delete(h, "socket"), 0);
	ck_assert_ptr_null(socket_of(h));
	procmgr_free(h);
}
END_TEST

/* A successor recorded over the kept daemon, which keeps running. */
START_TEST(test_new_pid_shows)
{
	procmgr *h = tu_open(dir, "web");
	struct procmgr_status st;
	pid_t other;

	kept_running(h);
	other = start_sleeper(dir, NULL, NULL);
	record_pid(h, other, true);
	ck_assert_int_eq(procmgr_status(h, &st), 0);
	ck_assert_int_eq(st.state, PROCMGR_RUNNING);
	ck_assert_int_eq(st.pid, other);
	procmgr_status_clear(&st);
	/* a start_time that no longer matches the live process */
	ck_assert_int_eq(procmgr_write(h, "start_time", "1 0123"), 0);
	ck_assert_int_eq(tu_state(h), PROCMGR_STALE);
	procmgr_free(h);
}
END_TEST

/* The metadata removed, or replaced by a copy (a new directory). */
START_TEST(test_dir_replaced_shows)
{
	procmgr *h = tu_open(dir, "web");
	char *meta = strdup(procmgr_meta_dir(h)), *moved;
	char *s;

	kept_running(h);
	moved = pm_asprintf("%s.old", meta);
	ck_assert_int_eq(rename(meta, moved), 0);
	ck_assert_int_eq(tu_state(h), PROCMGR_STOPPED);
	ck_assert_int_eq(mkdir(meta, 0700), 0);
	tu_write_file(tu_path(meta, "pid"), "1", 1);
	ck_assert_int_eq(tu_state(h), PROCMGR_STALE);
	tu_rmrf(meta);
	ck_assert_int_eq(rename(moved, meta), 0);
	s = socket_of(h);
	ck_assert_str_eq(s, "1111");
	free(s);
	tu_rmrf(meta);
	ck_assert_int_eq(tu_state(h), PROCMGR_STOPPED);
	free(moved);
	free(meta);
	procmgr_free(h);
}
END_TEST

/*
 * A monitor key whose pid now belongs to another process (its start time
 * differs) names no monitor, in a status read anew or given again.
 */
START_TEST(test_monitor_pid_reused)
{
	procmgr *h = tu_open(dir, "web");
	struct procmgr_status st;
	pid_t other;
	char *id, *v;

	kept_running(h);
	other = start_sleeper(dir, NULL, NULL);
	ck_assert_int_eq(procmgr_proc_identity(other, &id), 0);
	/* its pid, a start time of tick 1 and this boot's id */
	v = pm_asprintf("%d 1%s", (int)other, strchr(id, ' '));
	ck_assert_int_eq(procmgr_write(h, "monitor", v), 0);
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(procmgr_status(h, &st), 0);
		ck_assert_int_eq(st.state, PROCMGR_RUNNING);
		ck_assert_int_eq(st.monitor, 0);
		procmgr_status_clear(&st);
	}
	ck_assert_int_eq(procmgr_pid_alive(other), 1);
	free(v);
	free(id);
	procmgr_free(h);
}
END_TEST

static Suite *live_suite(void)
{
	Suite *s = suite_create("live");
	TCase *tc = tcase_create("kept status");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_exit_shows);
	tcase_add_test(tc, test_key_rewrite_shows);
	tcase_add_test(tc, test_new_pid_shows);
	tcase_add_test(tc, test_dir_replaced_shows);
	tcase_add_test(tc, test_monitor_pid_reused);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(live_suite());
}
