/*
 * test-pref.c - references to processes: through a pidfd, and through
 * kill(2) with the identity checked again where the kernel refuses pidfds.
 * The refusal is real: a seccomp filter makes pidfd_open() fail with
 * ENOSYS (an old kernel, valgrind) or EPERM (a sandbox) in this test's
 * process and everything it starts, monitors included.
 */
#include "internal.h"
#include "sleeper.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

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
 * From now on pidfd_open(pid, 0) fails with err, here and in our
 * children. (The test harness keeps its own, opened with PIDFD_NONBLOCK,
 * to kill what a failed test leaves.)
 */
static void refuse_pidfds(int err)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_pidfd_open, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, args[1])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1),
		BPF_STMT(BPF_RET | BPF_K,
			 SECCOMP_RET_ERRNO | ((unsigned)err & SECCOMP_RET_DATA)),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(f) / sizeof(f[0]), f };

	ck_assert_int_eq(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0);
	ck_assert_int_eq(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog), 0);
	ck_assert_int_eq(syscall(SYS_pidfd_open, getpid(), 0), -1);
	ck_assert_int_eq(errno, err);
}

static unsigned long long start_of(pid_t pid)
{
	unsigned long long start;
	char state;

	ck_assert_int_eq(pm_proc_stat(pid, &state, &start), 0);
	return start;
}

static void check_signal_and_wait(bool with_pidfd)
{
	const char *args[] = { "--exit-on-term", NULL };
	pid_t pid = start_sleeper(dir, args, NULL);
	struct pm_pref p;

	ck_assert_int_eq(pm_pref_open(pid, start_of(pid), &p), 0);
	ck_assert_int_eq(p.fd >= 0, with_pidfd);
	ck_assert_int_eq(pm_pref_exited(&p), 0);
	ck_assert_int_eq(pm_pref_wait(NULL, &p, 1, 0.05), 1);	/* still alive */
	ck_assert_int_eq(pm_pref_signal(&p, SIGTERM), 0);
	ck_assert_int_eq(pm_pref_wait(NULL, &p, 1, 30), 0);
	ck_assert_int_eq(pm_pref_exited(&p), 1);
	ck_assert_int_eq(pm_pref_signal(&p, SIGTERM), -ESRCH);
	pm_pref_close(&p);
	pm_pref_close(&p);	/* twice is harmless */
}

START_TEST(test_pidfd)
{
	check_signal_and_wait(true);
}
END_TEST

START_TEST(test_without_pidfd)
{
	refuse_pidfds(ENOSYS);
	check_signal_and_wait(false);
}
END_TEST

/* Not the process meant: another start time, a zombie, pid 0 or 1. */
START_TEST(test_refused)
{
	const char *args[] = { "--zombie-child", NULL };
	char *zombie = NULL;
	pid_t pid = start_sleeper(dir, args, &zombie);
	struct pm_pref p;

	ck_assert_int_eq(pm_pref_open(pid, start_of(pid) + 1, &p), -ESRCH);
	ck_assert_int_eq(pm_pref_open(atoi(zombie), 0, &p), -ESRCH);
	ck_assert_int_eq(pm_pref_open(1, 0, &p), -ESRCH);
	ck_assert_int_eq(pm_pref_open(0, 0, &p), -ESRCH);
	ck_assert_int_eq(pm_pref_open(tu_dead_pid(), 0, &p), -ESRCH);
	free(zombie);
}
END_TEST

/*
 * Without a pidfd, a pid that now names another process is never
 * signalled: the start time is read again right before the kill.
 */
START_TEST(test_without_pidfd_reused)
{
	pid_t pid = start_sleeper(dir, NULL, NULL);
	struct pm_pref p;

	refuse_pidfds(EPERM);
	ck_assert_int_eq(pm_pref_open(pid, 0, &p), 0);
	ck_assert_int_eq(p.fd, -1);
	p.start++;	/* as if the pid had been handed to a newcomer */
	ck_assert_int_eq(pm_pref_signal(&p, SIGKILL), -ESRCH);
	ck_assert_int_eq(pm_pref_exited(&p), 1);
	ck_assert(procmgr_pid_alive(pid));	/* the "newcomer" lives */
}
END_TEST

static void on_alarm(int sig)
{
	(void)sig;
}

/* A signal handler that runs during a wait ends it with -EINTR. */
static void arm_interrupt(double after)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct itimerval it = { .it_value = {
		.tv_sec = (time_t)after,
		.tv_usec = (suseconds_t)((after - (double)(time_t)after) * 1e6) } };

	sigemptyset(&sa.sa_mask);
	ck_assert_int_eq(sigaction(SIGALRM, &sa, NULL), 0);
	ck_assert_int_eq(setitimer(ITIMER_REAL, &it, NULL), 0);
}

static void check_interrupted_wait(void)
{
	const char *args[] = { "--ignore-term", NULL };
	pid_t pid = start_sleeper(dir, args, NULL);
	struct pm_pref p;
	double t0 = tu_now();

	ck_assert_int_eq(pm_pref_open(pid, 0, &p), 0);
	arm_interrupt(0.2);
	ck_assert_int_eq(pm_pref_wait(NULL, &p, 1, 60), -EINTR);
	ck_assert_double_lt(tu_now() - t0, 30);
	pm_pref_close(&p);
}

START_TEST(test_wait_interrupted)
{
	check_interrupted_wait();
}
END_TEST

START_TEST(test_wait_interrupted_without_pidfd)
{
	refuse_pidfds(ENOSYS);
	check_interrupted_wait();
}
END_TEST

/* Several at once: the wait ends when the last of them is gone. */
START_TEST(test_wait_many)
{
	const char *args[] = { "--exit-on-term", NULL };
	struct pm_pref v[3];

	for (int i = 0; i < 3; i++) {
		pid_t pid = start_sleeper(dir, args, NULL);

		ck_assert_int_eq(pm_pref_open(pid, 0, &v[i]), 0);
	}
	ck_assert_int_eq(pm_pref_wait(NULL, v, 3, 0.05), 3);
	ck_assert_int_eq(pm_pref_signal(&v[1], SIGTERM), 0);
	ck_assert_int_eq(pm_pref_wait(NULL, &v[1], 1, 30), 0);
	ck_assert_int_eq(pm_pref_wait(NULL, v, 3, 0.05), 2);
	ck_assert_int_eq(pm_pref_signal(&v[0], SIGTERM), 0);
	ck_assert_int_eq(pm_pref_signal(&v[2], SIGTERM), 0);
	ck_assert_int_eq(pm_pref_wait(NULL, v, 3, 30), 0);
	for (int i = 0; i < 3; i++)
		pm_pref_close(&v[i]);
}
END_TEST

/*
 * issue 7, item 3: with no pidfd (ENOSYS, or EPERM from seccomp), stop,
 * restart and ensure still work, through the weaker kill(2) path - for a
 * recorded process, and for a daemon under its monitor (which inherits
 * the filter, as it would inherit an old kernel).
 */
static void check_lifecycle_without_pidfd(int err)
{
	const char *args[] = { "--ignore-term", NULL };
	char *argv[] = { (char *)"sleep", (char *)"1000", NULL };
	struct procmgr_spawn_opts o = { .argv = argv };
	const int chain[] = { SIGTERM, SIGKILL };
	struct procmgr_stop_opts so = { .signals = chain, .n_signals = 2,
					.kill_wait = 0.2 };
	procmgr *h = tu_open(dir, "nopidfd");
	pid_t pid = start_sleeper(dir, args, NULL), got = 0, first;

	refuse_pidfds(err);
	record_pid(h, pid, true);
	ck_assert_int_eq(procmgr_stop(h, &so, &got), 1);
	ck_assert_int_eq(got, pid);
	ck_assert(tu_wait_gone(pid, 10));
	ck_assert_msg(procmgr_start(h, &o, &first) == 0, "%s",
		      procmgr_errmsg(h));
	tu_track(first);
	ck_assert_int_eq(procmgr_restart(h, &o, &pid), 0);
	tu_track(pid);
	ck_assert(tu_wait_gone(first, 10));
	ck_assert_int_eq(procmgr_stop(h, &so, &got), 1);
	ck_assert_int_eq(got, pid);
	ck_assert(tu_wait_gone(pid, 10));
	procmgr_free(h);
}

START_TEST(test_stop_without_pidfd_enosys)
{
	check_lifecycle_without_pidfd(ENOSYS);
}
END_TEST

START_TEST(test_stop_without_pidfd_eperm)
{
	check_lifecycle_without_pidfd(EPERM);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("pref");
	TCase *tc = tcase_create("pref");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_pidfd);
	tcase_add_test(tc, test_without_pidfd);
	tcase_add_test(tc, test_refused);
	tcase_add_test(tc, test_without_pidfd_reused);
	tcase_add_test(tc, test_wait_interrupted);
	tcase_add_test(tc, test_wait_interrupted_without_pidfd);
	tcase_add_test(tc, test_wait_many);
	tcase_add_test(tc, test_stop_without_pidfd_enosys);
	tcase_add_test(tc, test_stop_without_pidfd_eperm);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(suite());
}
