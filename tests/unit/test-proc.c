/*
 * test-proc.c - identity and liveness (lib/proc.c, lib/status.c) against
 * real processes.
 *
 * Ports pants' process_manager_test.py test_is_alive_* and test_is_dead_*:
 * pants mocks psutil there; here every process is a real pm-sleeper, a
 * real zombie or a real reaped pid.
 */
#include "internal.h"
#include "sleeper.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
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

static pid_t sleeper(void)
{
	return start_sleeper(dir, NULL, NULL);
}

START_TEST(test_proc_stat_self)
{
	unsigned long long start;
	char state, *id, *s;

	ck_assert_int_eq(pm_proc_stat(getpid(), &state, &start), 0);
	ck_assert_int_eq(state, 'R');
	ck_assert_uint_gt(start, 0);
	ck_assert_int_eq(procmgr_proc_identity(getpid(), &id), 0);
	s = pm_asprintf("%llu ", start);
	ck_assert_ptr_eq(strstr(id, s), id);
	ck_assert_uint_eq(strlen(id), strlen(s) + PM_BOOT_ID_LEN);
	free(s);
	free(id);
	ck_assert_int_eq(pm_proc_stat(0, &state, &start), -ESRCH);
	ck_assert_int_eq(pm_proc_stat(tu_dead_pid(), &state, &start), -ESRCH);
}
END_TEST

/* comm may hold spaces and ')': only the last ')' ends it. */
START_TEST(test_comm_with_parens)
{
	const char *args[] = { "--comm", "a) b (c", NULL };
	unsigned long long start, mine;
	char path[64], *comm, state, *id;
	pid_t pid = start_sleeper(dir, args, NULL);

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	comm = tu_read_file(path);
	ck_assert_str_eq(comm, "a) b (c\n");
	free(comm);
	ck_assert_int_eq(pm_proc_stat(pid, &state, &start), 0);
	ck_assert_int_eq(state, 'S');
	ck_assert_int_eq(pm_proc_stat(getpid(), &state, &mine), 0);
	ck_assert_uint_ge(start, mine);
	ck_assert_int_eq(procmgr_pid_alive(pid), 1);
	ck_assert_int_eq(procmgr_proc_identity(pid, &id), 0);
	free(id);
}
END_TEST

START_TEST(test_boot_id_uid_argv0)
{
	char boot[PM_BOOT_ID_LEN + 1], *want, *argv0, *path;
	pid_t pid = sleeper();
	uid_t uid;

	ck_assert_int_eq(pm_boot_id(boot), 0);
	want = tu_read_file("/proc/sys/kernel/random/boot_id");
	ck_assert_int_eq(strncmp(want, boot, PM_BOOT_ID_LEN), 0);
	free(want);
	ck_assert_int_eq(pm_proc_uid(pid, &uid), 0);
	ck_assert_uint_eq(uid, getuid());
	ck_assert_int_eq(pm_proc_uid(tu_dead_pid(), &uid), -ESRCH);
	ck_assert_int_eq(pm_proc_argv0(pid, &argv0), 0);
	path = tu_helper("pm-sleeper");
	ck_assert_str_eq(argv0, path);
	free(path);
	free(argv0);
	ck_assert_int_eq(pm_proc_argv0(-1, &argv0), -ESRCH);
	ck_assert_int_eq(pm_proc_argv0(tu_dead_pid(), &argv0), -ESRCH);
}
END_TEST

/* test_is_alive: pid + process_name + start_time of a live process. */
START_TEST(test_running_full_identity)
{
	procmgr *h = tu_open(dir, "web");
	struct procmgr_status st;
	char *path = tu_helper("pm-sleeper");
	pid_t pid = sleeper();
	time_t now = time(NULL);

	record_pid(h, pid, true);
	ck_assert_int_eq(procmgr_write(h, "process_name", path), 0);
	free(path);
	ck_assert_int_eq(procmgr_write(h, "fingerprint", "abc"), 0);
	ck_assert_int_eq(procmgr_write(h, "socket", "38549\n"), 0);
	ck_assert_int_eq(procmgr_status(h, &st), 0);
	ck_assert_int_eq(st.state, PROCMGR_RUNNING);
	ck_assert_int_eq(st.pid, pid);
	ck_assert_str_eq(st.fingerprint, "abc");
	ck_assert_str_eq(st.socket, "38549");
	/* btime is whole seconds and start time is in ticks: allow slack */
	ck_assert_int_ge(st.started_at, now - 60);
	ck_assert_int_le(st.started_at, now + 2);
	ck_assert_int_eq(st.exit.known, false);
	ck_assert_ptr_null(procmgr_warning(h));
	procmgr_status_clear(&st);
	procmgr_status_clear(NULL);
	procmgr_free(h);
}
END_TEST

/* A recycled pid: same pid, another start time. */
START_TEST(test_is_dead_other_start_time)
{
	procmgr *h = tu_open(dir, "web");
	unsigned long long start;
	char state, boot[PM_BOOT_ID_LEN + 1], *v;
	pid_t pid = sleeper();

	record_pid(h, pid, true);
	ck_assert_int_eq(pm_proc_stat(pid, &state, &start), 0);
	ck_assert_int_eq(pm_boot_id(boot), 0);
	v = pm_asprintf("%llu %s", start + 1, boot);
	ck_assert_int_eq(procmgr_write(h, "start_time", v), 0);
	free(v);
	/* a matching process_name must not rescue it: start_time decides */
	ck_assert_int_eq(procmgr_write(h, "process_name", "/"), 0);
	ck_assert_int_eq(tu_state(h), PROCMGR_STALE);
	ck_assert_int_eq(pm_identity_matches(h, pid), 0);
	procmgr_free(h);
}
END_TEST

START_TEST(test_is_dead_other_boot)
{
	procmgr *h = tu_open(dir, "web");
	struct procmgr_status st;
	unsigned long long start;
	char state, *v;
	pid_t pid = sleeper();

	record_pid(h, pid, false);
	ck_assert_int_eq(pm_proc_stat(pid, &state, &start), 0);
	v = pm_asprintf("%llu 00000000-0000-0000-0000-000000000000", start);
	ck_assert_int_eq(procmgr_write(h, "start_time", v), 0);
	free(v);
	ck_assert_int_eq(procmgr_status(h, &st), 0);
	ck_assert_int_eq(st.state, PROCMGR_STALE);
	ck_assert_int_eq(st.started_at, -1);
	procmgr_status_clear(&st);
	procmgr_free(h);
}
END_TEST

/* A start_time key that cannot be parsed: stale, with a warning. */
START_TEST(test_corrupt_start_time)
{
	static const char *bad[] = {
		"garbage", "", "123", "123 short-boot-id", "-1 x",
		"99999999999999999999999 00000000-0000-0000-0000-000000000000",
	};
	procmgr *h = tu_open(dir, "web");
	pid_t pid = sleeper();
	char *want;

	record_pid(h, pid, false);
	want = pm_asprintf("%s/start_time", procmgr_meta_dir(h));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(procmgr_write(h, "start_time", bad[i]), 0);
		ck_assert_int_eq(tu_state(h), PROCMGR_STALE);
		ck_assert_ptr_nonnull(procmgr_warning(h));
		ck_assert_msg(strstr(procmgr_warning(h), want),
			      "warning '%s' does not name %s",
			      procmgr_warning(h), want);
	}
	free(want);
	procmgr_free(h);
}
END_TEST

/* pants' metadata: process_name, no start_time. */
START_TEST(test_process_name)
{
	const char *args[] = { "--argv0", "pantsd [/repo]", NULL };
	procmgr *h = tu_open(dir, "web");
	pid_t pid = start_sleeper(dir, args, NULL);

	record_pid(h, pid, false);
	ck_assert_int_eq(procmgr_write(h, "process_name", "pantsd [/repo]"), 0);
	ck_assert_int_eq(tu_state(h), PROCMGR_RUNNING);
	/* the Rust client's rule: the live argv[0] may extend the record */
	ck_assert_int_eq(procmgr_write(h, "process_name", "pantsd"), 0);
	ck_assert_int_eq(tu_state(h), PROCMGR_RUNNING);
	ck_assert_int_eq(procmgr_write(h, "process_name", "pantsd [/x]"), 0);
	ck_assert_int_eq(tu_state(h), PROCMGR_STALE);
	ck_assert_int_eq(procmgr_write(h, "process_name", "java"), 0);
	ck_assert_int_eq(tu_state(h), PROCMGR_STALE);
	ck_assert_int_eq(procmgr_write(h, "process_name", " "), 0);
	ck_assert_int_eq(tu_state(h), PROCMGR_STALE);
	ck_assert_ptr_nonnull(strstr(procmgr_warning(h), "process_name"));
	procmgr_free(h);
}
END_TEST

/* Neither start_time nor process_name: a live pid counts (pants). */
START_TEST(test_pid_only)
{
	procmgr *h = tu_open(dir, "web");
	pid_t pid = sleeper();

	record_pid(h, pid, false);
	ck_assert_int_eq(tu_state(h), PROCMGR_RUNNING);
	tu_kill(pid);
	ck_assert_int_eq(tu_state(h), PROCMGR_STALE);
	procmgr_free(h);
}
END_TEST

/*
 * A pid key with a NUL and then garbage after the digits is corrupt, not
 * the pid its first bytes spell: stale, a warning, nothing signalled.
 */
START_TEST(test_pid_with_nul)
{
	procmgr *h = tu_open(dir, "web");
	pid_t pid = sleeper(), got = -1;
	char buf[64], *want;
	int n;

	n = snprintf(buf, sizeof(buf), "%d", (int)pid);
	memcpy(buf + n, "\0garbage", 9);
	ck_assert_int_eq(procmgr_write_raw(h, "pid", buf, (size_t)n + 8), 0);
	ck_assert_int_eq(tu_state(h), PROCMGR_STALE);
	want = pm_asprintf("%s/pid", procmgr_meta_dir(h));
	ck_assert_msg(procmgr_warning(h) && strstr(procmgr_warning(h), want),
		      "warning '%s' does not name %s",
		      procmgr_warning(h) ? procmgr_warning(h) : "", want);
	ck_assert_ptr_nonnull(strstr(procmgr_warning(h), "\\x00"));
	free(want);
	ck_assert_int_eq(procmgr_stop(h, NULL, &got), 0);
	ck_assert_int_eq(got, 0);
	ck_assert_int_eq(procmgr_pid_alive(pid), 1);
	/* a NUL in process_name is as corrupt */
	record_pid(h, pid, false);
	ck_assert_int_eq(procmgr_write_raw(h, "process_name", "x\0y", 3), 0);
	ck_assert_int_eq(tu_state(h), PROCMGR_STALE);
	ck_assert_ptr_nonnull(strstr(procmgr_warning(h), "process_name"));
	/* surrounding white space is still fine */
	n = snprintf(buf, sizeof(buf), " %d\n", (int)pid);
	ck_assert_int_eq(procmgr_delete(h, "process_name"), 0);
	ck_assert_int_eq(procmgr_write_raw(h, "pid", buf, (size_t)n), 0);
	ck_assert_int_eq(tu_state(h), PROCMGR_RUNNING);
	procmgr_free(h);
}
END_TEST

/* Set path's modification time to now + delta seconds. */
static void touch_by(const char *path, double delta)
{
	struct timespec ts[2];

	clock_gettime(CLOCK_REALTIME, &ts[0]);
	ts[0].tv_sec += (time_t)delta;
	ts[1] = ts[0];
	ck_assert_int_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
}

/*
 * A process that started after the pid key was last written cannot be the
 * one it records (the pid was reused since): without start_time, only
 * the key's modification time can tell, and it does.
 */
START_TEST(test_started_after_pid_written)
{
	const char *args[] = { "--argv0", "pantsd", NULL };
	procmgr *h = tu_open(dir, "web");
	pid_t pid = start_sleeper(dir, args, NULL), got = -1;
	char *path;

	record_pid(h, pid, false);
	path = pm_asprintf("%s/pid", procmgr_meta_dir(h));
	ck_assert_int_eq(tu_state(h), PROCMGR_RUNNING);
	touch_by(path, -100);
	ck_assert_int_eq(tu_state(h), PROCMGR_STALE);
	/* a matching process_name does not rescue it */
	ck_assert_int_eq(procmgr_write(h, "process_name", "pantsd"), 0);
	ck_assert_int_eq(tu_state(h), PROCMGR_STALE);
	ck_assert_int_eq(procmgr_stop(h, NULL, &got), 0);
	ck_assert_int_eq(got, 0);
	ck_assert_int_eq(procmgr_pid_alive(pid), 1);
	/* written (again) after it started: it may be the one */
	record_pid(h, pid, false);
	ck_assert_int_eq(procmgr_write(h, "process_name", "pantsd"), 0);
	ck_assert_int_eq(tu_state(h), PROCMGR_RUNNING);
	touch_by(path, 0);
	ck_assert_int_eq(tu_state(h), PROCMGR_RUNNING);
	free(path);
	procmgr_free(h);
}
END_TEST

/*
 * The owner rule: a gone process or gone metadata leaves nothing to
 * signal (1); the caller's own process may be (0). The identity check
 * without a pid key to date the process names nobody.
 */
START_TEST(test_owner_and_undated)
{
	procmgr *h = tu_open(dir, "web");
	pid_t pid = sleeper();
	char *p;

	ck_assert_int_eq(pm_check_owner(h, tu_dead_pid()), 1);
	if (geteuid() == 0)	/* root asks the metadata's owner: none */
		ck_assert_int_eq(pm_check_owner(h, pid), 1);
	record_pid(h, pid, false);
	ck_assert_int_eq(pm_check_owner(h, pid), 0);
	ck_assert_int_eq(pm_identity_matches(h, pid), 1);
	p = pm_asprintf("%s/pid", procmgr_meta_dir(h));
	ck_assert_int_eq(unlink(p), 0);
	ck_assert_int_eq(pm_identity_matches(h, pid), 0);
	free(p);
	procmgr_free(h);
}
END_TEST

/*
 * The prefix rule of pants' Rust client (a live argv[0] longer than the
 * record) only extends a whole name: "pantsd" matches the title "pantsd
 * [/repo]", but a record that stops inside a word or a path does not.
 */
START_TEST(test_process_name_partial)
{
	const char *args[] = { "--argv0", "pantsd [/repo]", NULL };
	procmgr *h = tu_open(dir, "web");
	pid_t pid = start_sleeper(dir, args, NULL), plain = sleeper();
	char *path = tu_helper("pm-sleeper"), *cut;

	record_pid(h, pid, false);
	ck_assert_int_eq(procmgr_write(h, "process_name", "pants"), 0);
	ck_assert_int_eq(tu_state(h), PROCMGR_STALE);
	ck_assert_int_eq(procmgr_write(h, "process_name", "pantsd [/re"), 0);
	ck_assert_int_eq(tu_state(h), PROCMGR_STALE);
	ck_assert_int_eq(procmgr_write(h, "process_name", "pantsd"), 0);
	ck_assert_int_eq(tu_state(h), PROCMGR_RUNNING);
	/* an absolute argv[0]: neither "/" nor a cut path matches it */
	record_pid(h, plain, false);
	ck_assert_int_eq(procmgr_write(h, "process_name", "/"), 0);
	ck_assert_int_eq(tu_state(h), PROCMGR_STALE);
	cut = strndup(path, strlen(path) - 3);
	ck_assert_int_eq(procmgr_write(h, "process_name", cut), 0);
	ck_assert_int_eq(tu_state(h), PROCMGR_STALE);
	*strrchr(cut, '/') = '\0';
	ck_assert_int_eq(procmgr_write(h, "process_name", cut), 0);
	ck_assert_int_eq(tu_state(h), PROCMGR_STALE);
	ck_assert_int_eq(procmgr_write(h, "process_name", path), 0);
	ck_assert_int_eq(tu_state(h), PROCMGR_RUNNING);
	free(cut);
	free(path);
	procmgr_free(h);
}
END_TEST

static void exit_now(void *arg)
{
	(void)arg;
	TU_GCOV_DUMP();
}

/* test_is_dead_zombie: exited but not reaped is not running. */
START_TEST(test_zombie)
{
	const char *args[] = { "--zombie-child", NULL };
	procmgr *h = tu_open(dir, "web");
	pid_t pid = tu_fork(exit_now, NULL), other;
	char *text, *id;

	ck_assert(tu_wait_gone(pid, 10));
	ck_assert_int_eq(procmgr_pid_alive(pid), 0);
	ck_assert_int_eq(procmgr_proc_identity(pid, &id), -ESRCH);
	record_pid(h, pid, false);
	ck_assert_int_eq(tu_state(h), PROCMGR_STALE);
	/* a zombie whose parent is not us */
	start_sleeper(dir, args, &text);
	other = atoi(text);
	free(text);
	ck_assert_int_gt(other, 1);
	ck_assert(tu_wait_gone(other, 10));
	ck_assert_int_eq(procmgr_pid_alive(other), 0);
	record_pid(h, other, false);
	ck_assert_int_eq(tu_state(h), PROCMGR_STALE);
	procmgr_free(h);
}
END_TEST

/* test_is_dead: a pid nobody has. */
START_TEST(test_dead_pid)
{
	procmgr *h = tu_open(dir, "web");
	pid_t pid = tu_dead_pid();
	char *id;

	ck_assert_int_eq(procmgr_pid_alive(pid), 0);
	ck_assert_int_eq(procmgr_pid_alive(0), 0);
	ck_assert_int_eq(procmgr_pid_alive(-1), 0);
	ck_assert_int_eq(procmgr_proc_identity(pid, &id), -ESRCH);
	record_pid(h, pid, false);
	ck_assert_int_eq(tu_state(h), PROCMGR_STALE);
	ck_assert_ptr_null(procmgr_warning(h));
	procmgr_free(h);
}
END_TEST

START_TEST(test_stopped_and_empty)
{
	procmgr *h = tu_open(dir, "web");
	struct procmgr_status st;
	char *p;

	ck_assert_int_eq(procmgr_status(h, &st), 0);
	ck_assert_int_eq(st.state, PROCMGR_STOPPED);
	ck_assert_int_eq(st.pid, 0);
	ck_assert_ptr_null(st.fingerprint);
	ck_assert_int_eq(st.started_at, -1);
	procmgr_status_clear(&st);
	/* a metadata directory without a pid: a start that never finished */
	ck_assert_int_eq(procmgr_write(h, "fingerprint", "x"), 0);
	ck_assert_int_eq(tu_state(h), PROCMGR_STALE);
	/* a pid "file" that cannot be read */
	p = pm_asprintf("%s/pid", procmgr_meta_dir(h));
	ck_assert_int_eq(mkdir(p, 0700), 0);
	ck_assert_int_eq(tu_state(h), PROCMGR_STALE);
	ck_assert_ptr_nonnull(strstr(procmgr_warning(h), p));
	free(p);
	procmgr_free(h);
}
END_TEST

/*
 * Every corrupt pid form is stale with a warning naming the file, and stop
 * signals nothing: the sentinel's own pid hides in some of the forms.
 */
START_TEST(test_corrupt_pid_forms)
{
	procmgr *h = tu_open(dir, "web");
	struct procmgr_status st;
	pid_t sentinel = sleeper(), got = -1;
	char forms[14][48], *want;
	size_t n = 0;

	snprintf(forms[n++], 48, "garbage");
	snprintf(forms[n++], 48, "%s", "");
	snprintf(forms[n++], 48, "0");
	snprintf(forms[n++], 48, "1");
	snprintf(forms[n++], 48, "-5");
	snprintf(forms[n++], 48, "99999999999");
	snprintf(forms[n++], 48, "\x01\xff");
	snprintf(forms[n++], 48, "  %dabc", (int)sentinel);
	snprintf(forms[n++], 48, "-%d", (int)sentinel);
	snprintf(forms[n++], 48, "+%d", (int)sentinel);
	snprintf(forms[n++], 48, "%d.0", (int)sentinel);
	snprintf(forms[n++], 48, "0x%x", (unsigned)sentinel);
	snprintf(forms[n++], 48, "%d %d", (int)sentinel, (int)sentinel);
	want = pm_asprintf("%s/pid", procmgr_meta_dir(h));
	for (size_t i = 0; i < n; i++) {
		ck_assert_int_eq(procmgr_write(h, "pid", forms[i]), 0);
		ck_assert_int_eq(procmgr_status(h, &st), 0);
		ck_assert_int_eq(st.state, PROCMGR_STALE);
		ck_assert_int_eq(st.pid, 0);
		procmgr_status_clear(&st);
		ck_assert_msg(procmgr_warning(h) &&
			      strstr(procmgr_warning(h), want),
			      "form %zu: warning does not name %s", i, want);
		ck_assert_int_eq(procmgr_stop(h, NULL, &got), 0);
		ck_assert_int_eq(got, 0);
		ck_assert_int_eq(procmgr_pid_alive(sentinel), 1);
	}
	/* binary bytes are shown escaped, not raw */
	ck_assert_int_eq(procmgr_write(h, "pid", "\x01\xff"), 0);
	ck_assert_int_eq(tu_state(h), PROCMGR_STALE);
	ck_assert_ptr_nonnull(strstr(procmgr_warning(h), "'\\x01\\xff'"));
	free(want);
	procmgr_free(h);
}
END_TEST

START_TEST(test_exit_key)
{
	static const char *bad[] = {
		"garbage", "status=abc at=x", "status=300", "signal=NOPE",
		"status=1 status=2", "at=2026-01-01T00:00:00Z", "status=1 x=y",
		"status=", "",
	};
	procmgr *h = tu_open(dir, "web");
	struct procmgr_status st;

	record_pid(h, tu_dead_pid(), false);
	ck_assert_int_eq(procmgr_write(h, "exit",
				       "status=3 at=2026-01-01T00:00:00Z"), 0);
	ck_assert_int_eq(procmgr_status(h, &st), 0);
	ck_assert(st.exit.known);
	ck_assert_int_eq(st.exit.status, 3);
	ck_assert_int_eq(st.exit.signal, 0);
	ck_assert_str_eq(st.exit.at, "2026-01-01T00:00:00Z");
	procmgr_status_clear(&st);
	ck_assert_int_eq(procmgr_write(h, "exit", "signal=KILL at=x"), 0);
	ck_assert_int_eq(procmgr_status(h, &st), 0);
	ck_assert(st.exit.known);
	ck_assert_int_eq(st.exit.status, -1);
	ck_assert_int_eq(st.exit.signal, SIGKILL);
	procmgr_status_clear(&st);
	ck_assert_int_eq(procmgr_write(h, "exit", "signal=SEGV"), 0);
	ck_assert_int_eq(procmgr_status(h, &st), 0);
	ck_assert(st.exit.known);
	ck_assert_ptr_null(st.exit.at);
	procmgr_status_clear(&st);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(procmgr_write(h, "exit", bad[i]), 0);
		ck_assert_int_eq(procmgr_status(h, &st), 0);
		ck_assert_msg(!st.exit.known, "'%s' parsed", bad[i]);
		ck_assert_ptr_null(st.exit.at);
		procmgr_status_clear(&st);
	}
	procmgr_free(h);
}
END_TEST

START_TEST(test_pidfd_verified)
{
	procmgr *h = tu_open(dir, "web");
	unsigned long long start;
	char state, boot[PM_BOOT_ID_LEN + 1], *v;
	pid_t pid = sleeper();
	int fd = -1;

	ck_assert_int_eq(pm_pidfd_verified(h, 1, &fd), -ESRCH);
	ck_assert_int_eq(pm_pidfd_verified(h, 0, &fd), -ESRCH);
	ck_assert_int_eq(pm_pidfd_verified(h, tu_dead_pid(), &fd), -ESRCH);
	ck_assert_int_eq(fd, -1);
	record_pid(h, pid, true);
	ck_assert_int_eq(pm_pidfd_verified(h, pid, &fd), 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pm_pidfd_wait(fd, 0), 0);
	close(fd);
	fd = -1;
	ck_assert_int_eq(pm_proc_stat(pid, &state, &start), 0);
	ck_assert_int_eq(pm_boot_id(boot), 0);
	v = pm_asprintf("%llu %s", start + 7, boot);
	ck_assert_int_eq(procmgr_write(h, "start_time", v), 0);
	free(v);
	ck_assert_int_eq(pm_pidfd_verified(h, pid, &fd), -ESRCH);
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h), "no longer"));
	ck_assert_int_eq(fd, -1);
	procmgr_free(h);
}
END_TEST

/* The pidfd wakes the waiter as the process dies (a zombie counts). */
START_TEST(test_pidfd_wait)
{
	pid_t pid = sleeper();
	double t;
	int fd;

	fd = pidfd_open(pid, 0);
	ck_assert_int_ge(fd, 0);
	t = tu_now();
	ck_assert_int_eq(pm_pidfd_wait(fd, 0.2), 0);
	ck_assert(tu_now() - t >= 0.19);
	kill(pid, SIGKILL);
	t = tu_now();
	ck_assert_int_eq(pm_pidfd_wait(fd, 30), 1);
	ck_assert(tu_now() - t < 5);
	ck_assert_int_eq(pm_pidfd_wait(fd, -1), 1);
	close(fd);
}
END_TEST

START_TEST(test_not_open)
{
	procmgr *h = procmgr_new();
	struct procmgr_status st;
	uid_t uid;

	ck_assert_int_eq(procmgr_status(h, &st), -EINVAL);
	ck_assert_int_eq(procmgr_status(NULL, &st), -EINVAL);
	ck_assert_int_eq(procmgr_status(h, NULL), -EINVAL);
	ck_assert_int_eq(pm_proc_uid(0, &uid), -ESRCH);
	procmgr_free(h);
}
END_TEST

/*
 * A daemon whose whole command line is over 1 MiB (pm-sleeper's ignored
 * --pad arguments) is still known by its argv[0]: only that is read, so it
 * is running and stop signals it, rather than stale with metadata dropped.
 * Its argv[0] is longer than one page read, too.
 */
START_TEST(test_huge_cmdline)
{
	char name[10001];
	const char *args[21] = { "--argv0", name };	/* NULL-ended */
	procmgr *h = tu_open(dir, "web");
	size_t pad_len = 120000;
	char *pad = malloc(pad_len + 1), *argv0;
	pid_t pid, got = 0;

	ck_assert_ptr_nonnull(pad);
	memset(pad, 'x', pad_len);
	pad[pad_len] = '\0';
	memset(name, 'd', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	/* 9 x 120000 bytes: past PM_READ_MAX, each under MAX_ARG_STRLEN */
	for (int i = 0; i < 9; i++) {
		args[2 + 2 * i] = "--pad";
		args[3 + 2 * i] = pad;
	}
	pid = start_sleeper(dir, args, NULL);
	free(pad);
	ck_assert_int_eq(pm_proc_argv0(pid, &argv0), 0);
	ck_assert_str_eq(argv0, name);
	free(argv0);
	record_pid(h, pid, false);
	ck_assert_int_eq(procmgr_write(h, "process_name", name), 0);
	ck_assert_int_eq(tu_state(h), PROCMGR_RUNNING);
	ck_assert_int_eq(procmgr_stop(h, NULL, &got), 1);
	ck_assert_int_eq(got, pid);
	ck_assert(tu_wait_gone(pid, 10));
	procmgr_free(h);
}
END_TEST

/* The stat parser takes kernel lines apart and refuses anything else. */
START_TEST(test_parse_stat_lines)
{
	static const char *bad[] = {
		"", "123 no paren S 1 2", "123 (x)", "123 (x)S 1", "123 (x) S",
		"123 (x) SS 1", "123 (x) S 1 2 3",
		"1 (x) S 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 "
		"abc 23",
		"1 (x) S 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 "
		"22x 23",
		"1 (x) S 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 "
		"99999999999999999999999 23",
	};
	unsigned long long start = 0;
	char state = 0;

	ck_assert_int_eq(pm_parse_stat("1 (a) b) (c) Z 4 5 6 7 8 9 10 11 12 "
				       "13 14 15 16 17 18 19 20 21 4242 23\n",
				       &state, &start), 0);
	ck_assert_int_eq(state, 'Z');
	ck_assert_uint_eq(start, 4242);
	ck_assert_int_eq(pm_parse_stat("1 (x) S 4 5 6 7 8 9 10 11 12 13 14 "
				       "15 16 17 18 19 20 21 77\n", &state,
				       &start), 0);
	ck_assert_uint_eq(start, 77);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		state = 0;
		ck_assert_msg(pm_parse_stat(bad[i], &state, &start) ==
			      -EBADMSG, "'%s' parsed", bad[i]);
		ck_assert_int_eq(state, 0);
	}
}
END_TEST

/* Identity keys that cannot be read (a directory): stale, file named. */
START_TEST(test_unreadable_identity_keys)
{
	procmgr *h = tu_open(dir, "web");
	pid_t pid = sleeper();
	char *p;

	record_pid(h, pid, false);
	p = pm_asprintf("%s/start_time", procmgr_meta_dir(h));
	ck_assert_int_eq(mkdir(p, 0700), 0);
	ck_assert_int_eq(tu_state(h), PROCMGR_STALE);
	ck_assert_ptr_nonnull(procmgr_warning(h));
	ck_assert_ptr_nonnull(strstr(procmgr_warning(h), p));
	ck_assert_int_eq(rmdir(p), 0);
	free(p);
	p = pm_asprintf("%s/process_name", procmgr_meta_dir(h));
	ck_assert_int_eq(mkdir(p, 0700), 0);
	ck_assert_int_eq(tu_state(h), PROCMGR_STALE);
	ck_assert_ptr_nonnull(strstr(procmgr_warning(h), p));
	ck_assert_int_eq(rmdir(p), 0);
	ck_assert_int_eq(tu_state(h), PROCMGR_RUNNING);
	ck_assert_ptr_null(procmgr_warning(h));
	free(p);
	procmgr_free(h);
}
END_TEST

/*
 * NAME's directory swapped for a symlink after the open (pointing at a pid
 * of a live process): status refuses it, naming the path, and reads no
 * pid through it.
 */
START_TEST(test_status_symlinked_meta_dir)
{
	procmgr *h = tu_open(dir, "web");
	char *elsewhere = pm_asprintf("%s/elsewhere", dir);
	struct procmgr_status st = { .pid = -7 };

	ck_assert_int_eq(procmgr_write(h, "pid", "4242"), 0);
	ck_assert_int_eq(rename(procmgr_meta_dir(h), elsewhere), 0);
	ck_assert_int_eq(symlink(elsewhere, procmgr_meta_dir(h)), 0);
	ck_assert_int_eq(procmgr_status(h, &st), -ELOOP);
	ck_assert_int_eq(st.pid, -7);
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h), procmgr_meta_dir(h)));
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h), "symlink"));
	free(elsewhere);
	procmgr_free(h);
}
END_TEST

/* An fd that is not open is an error, never "the process exited". */
START_TEST(test_pidfd_wait_bad_fd)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(pm_pidfd_wait(fd, 0), -EBADF);
	ck_assert_int_eq(pm_pidfd_wait(fd, 5), -EBADF);
}
END_TEST

/* The start_time and exit parsers on their own, as the fuzzers use them. */
START_TEST(test_parse_start_time_and_exit)
{
	static const char *bad[] = {
		"", "81234", " 81234 d57d0841-e4b2-4a47-8fef-359085f3392b",
		"+81234 d57d0841-e4b2-4a47-8fef-359085f3392b",
		"81234\td57d0841-e4b2-4a47-8fef-359085f3392b",
		"81234 D57D0841-E4B2-4A47-8FEF-359085F3392B",
		"81234 d57d0841-e4b2-4a47-8fef-359085f3392bb",
		"81234 d57d0841-e4b2-4a47-8fef-359085f3392",
		"99999999999999999999999 d57d0841-e4b2-4a47-8fef-359085f3392b",
	};
	char boot[PM_BOOT_ID_LEN + 1] = "", v[64];
	struct procmgr_exit e = { .known = false, .status = -1 };
	unsigned long long start = 0;

	ck_assert_int_eq(pm_parse_start_time("81234  \t"
			 "d57d0841-e4b2-4a47-8fef-359085f3392b", &start, boot),
			 0);
	ck_assert_uint_eq(start, 81234);
	ck_assert_str_eq(boot, "d57d0841-e4b2-4a47-8fef-359085f3392b");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(pm_parse_start_time(bad[i], &start, boot) ==
			      -EBADMSG, "'%s' parsed", bad[i]);
	snprintf(v, sizeof(v), "signal=TERM at=2026-01-01T00:00:00Z");
	pm_parse_exit(v, &e);
	ck_assert(e.known);
	ck_assert_int_eq(e.signal, SIGTERM);
	ck_assert_str_eq(e.at, "2026-01-01T00:00:00Z");
	free(e.at);
	e = (struct procmgr_exit){ .known = false, .status = -1 };
	snprintf(v, sizeof(v), "status=256");
	pm_parse_exit(v, &e);
	ck_assert(!e.known);
	ck_assert_ptr_null(e.at);
}
END_TEST

/*
 * With the boot id hidden, as a container may mask /proc paths (a tmpfs
 * over the directory, /dev/null over the file), no identity is made up:
 * none for a process, none for a monitor, and a daemon recorded with a
 * start time is not taken for running, since its boot cannot be checked.
 */
START_TEST(test_boot_id_hidden)
{
	static const char *const how[] = { "tmpfs over its directory",
					   "/dev/null over it" };
	procmgr *h = tu_open(dir, "web");
	pid_t pid = sleeper();
	char *boot = tu_read_file("/proc/sys/kernel/random/boot_id");
	char *id = NULL, state, rec[128];
	unsigned long long start;
	int r;

	if (geteuid() != 0)
		tu_skip("needs root to mount");
	ck_assert_ptr_nonnull(boot);
	/* recorded by hand: the library would keep the boot id it read */
	ck_assert_int_eq(pm_proc_stat(pid, &state, &start), 0);
	snprintf(rec, sizeof(rec), "%llu %s", start, pm_strip(boot));
	record_pid(h, pid, false);
	ck_assert_int_eq(procmgr_write(h, "start_time", rec), 0);
	if (unshare(CLONE_NEWNS) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		tu_skip("no mount namespace: %s", strerror(errno));
	if (_i == 0)
		r = mount("none", "/proc/sys/kernel/random", "tmpfs", 0, NULL);
	else
		r = mount("/dev/null", "/proc/sys/kernel/random/boot_id", NULL,
			  MS_BIND, NULL);
	ck_assert_msg(r == 0, "%s: %s", how[_i], strerror(errno));
	r = procmgr_proc_identity(pid, &id);
	ck_assert_msg(r == (_i == 0 ? -ENOENT : -EBADMSG), "%s: %d", how[_i],
		      r);
	ck_assert_ptr_null(id);
	ck_assert_int_eq(pm_monitor_identity(&id), r);
	ck_assert_ptr_null(id);
	ck_assert_int_eq(tu_state(h), PROCMGR_STALE);
	free(boot);
	procmgr_free(h);
}
END_TEST

/*
 * A pidfd's inode names a process only on pidfs (Linux 6.9 on): an fd
 * on another file system, as an older kernel's anonymous-inode pidfd, has
 * none (-EOPNOTSUPP, which the identity check then does without), and a
 * bad fd is an error, not an inode.
 */
START_TEST(test_pidfd_ino_elsewhere)
{
	unsigned long long ino = 42;
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pm_pidfd_ino(fd, &ino), -EOPNOTSUPP);
	close(fd);
	ck_assert_int_eq(pm_pidfd_ino(fd, &ino), -EBADF);
	ck_assert(ino == 42);
}
END_TEST

static void on_alarm(int sig)
{
	(void)sig;
}

/* A signal handler that runs ends a pidfd wait with -EINTR. */
START_TEST(test_pidfd_wait_interrupted)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct itimerval it = { .it_value = { .tv_usec = 200000 },
				.it_interval = { .tv_usec = 200000 } };
	pid_t pid = sleeper();
	int fd = pidfd_open(pid, 0);
	double t;

	ck_assert_int_ge(fd, 0);
	sigemptyset(&sa.sa_mask);	/* no SA_RESTART */
	ck_assert_int_eq(sigaction(SIGALRM, &sa, NULL), 0);
	ck_assert_int_eq(setitimer(ITIMER_REAL, &it, NULL), 0);
	t = tu_now();
	ck_assert_int_eq(pm_pidfd_wait(fd, 60), -EINTR);
	ck_assert_double_lt(tu_now() - t, 30);
	ck_assert_int_eq(setitimer(ITIMER_REAL, &(struct itimerval){ 0 },
				   NULL), 0);
	ck_assert_int_eq(procmgr_pid_alive(pid), 1);
	close(fd);
}
END_TEST

/*
 * Recording the pidfd inode fails, saying where, when the metadata
 * directory cannot be used: swapped for a symlink, or immutable.
 */
START_TEST(test_record_pidfd_ino_fails)
{
	char *base = pm_asprintf("%s/base", dir);
	char *moved = pm_asprintf("%s/moved", dir);
	procmgr *h;
	pid_t pid = sleeper();
	int r;

	ck_assert_int_eq(mkdir(base, 0700), 0);
	h = tu_open(base, "web");
	ck_assert_int_eq(procmgr_write(h, "pid", "1234"), 0);
	ck_assert_int_eq(rename(base, moved), 0);
	ck_assert_int_eq(symlink(moved, base), 0);
	ck_assert_int_eq(pm_record_pidfd_ino(h, pid), -ELOOP);
	ck_assert_int_eq(unlink(base), 0);
	ck_assert_int_eq(rename(moved, base), 0);
	if (tu_immutable(procmgr_meta_dir(h), true) < 0) {
		procmgr_free(h);
		free(moved);
		free(base);
		tu_skip("no immutable directories here");
	}
	r = pm_record_pidfd_ino(h, pid);
	ck_assert_int_eq(tu_immutable(procmgr_meta_dir(h), false), 0);
	ck_assert_int_eq(r, -EPERM);
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h), "/pidfd_ino"));
	ck_assert(!tu_exists(tu_path(procmgr_meta_dir(h), "pidfd_ino")));
	procmgr_free(h);
	free(moved);
	free(base);
}
END_TEST

static Suite *proc_suite(void)
{
	Suite *s = suite_create("proc");
	TCase *tc = tcase_create("identity");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_proc_stat_self);
	tcase_add_test(tc, test_comm_with_parens);
	tcase_add_test(tc, test_boot_id_uid_argv0);
	tcase_add_test(tc, test_running_full_identity);
	tcase_add_test(tc, test_is_dead_other_start_time);
	tcase_add_test(tc, test_is_dead_other_boot);
	tcase_add_test(tc, test_corrupt_start_time);
	tcase_add_test(tc, test_process_name);
	tcase_add_test(tc, test_pid_only);
	tcase_add_test(tc, test_pid_with_nul);
	tcase_add_test(tc, test_started_after_pid_written);
	tcase_add_test(tc, test_process_name_partial);
	tcase_add_test(tc, test_owner_and_undated);
	tcase_add_test(tc, test_zombie);
	tcase_add_test(tc, test_dead_pid);
	tcase_add_test(tc, test_stopped_and_empty);
	tcase_add_test(tc, test_corrupt_pid_forms);
	tcase_add_test(tc, test_exit_key);
	tcase_add_test(tc, test_pidfd_verified);
	tcase_add_test(tc, test_pidfd_wait);
	tcase_add_test(tc, test_not_open);
	tcase_add_test(tc, test_huge_cmdline);
	tcase_add_test(tc, test_parse_stat_lines);
	tcase_add_test(tc, test_unreadable_identity_keys);
	tcase_add_test(tc, test_status_symlinked_meta_dir);
	tcase_add_loop_test(tc, test_boot_id_hidden, 0, 2);
	tcase_add_test(tc, test_pidfd_ino_elsewhere);
	tcase_add_test(tc, test_pidfd_wait_interrupted);
	tcase_add_test(tc, test_record_pidfd_ino_fails);
	tcase_add_test(tc, test_pidfd_wait_bad_fd);
	tcase_add_test(tc, test_parse_start_time_and_exit);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(proc_suite());
}
