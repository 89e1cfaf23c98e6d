/*
 * test-ensure.c - procmgr_start/ensure/restart: already running, stale
 * metadata, restart reasons, and 32 concurrent ensures starting one daemon.
 */
#include "spawned.h"
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define S(x) ((char *)(x))
#define N_RACERS 32
#define ROUNDS 3

static char *daemon_path;
static char *argv_a[4], *argv_b[4];

static void setup(void)
{
	daemon_path = tu_helper("fake-daemon");
	argv_a[0] = argv_b[0] = daemon_path;
	argv_a[1] = S("pause");
	argv_b[1] = S("say=b");
	argv_b[2] = S("pause");
}

static void teardown(void)
{
	free(daemon_path);
}

START_TEST(test_start_twice)
{
	struct procmgr_spawn_opts o = { .argv = argv_a };
	procmgr *h = tu_scratch("twice", NULL);
	pid_t pid, again = 0;

	ck_assert_int_eq(procmgr_start(h, &o, &pid), 0);
	track_daemon(pid);
	ck_assert_int_eq(procmgr_start(h, &o, &again), -EEXIST);
	ck_assert_int_eq(again, pid);
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h), "already running"));
	ck_assert_int_eq(procmgr_lock_held(h), 0);
	procmgr_free(h);
}
END_TEST

/*
 * A start records pidfd_ino, the pidfs inode of a pidfd on the daemon, and
 * an inode that is not the live process's makes it stale.
 */
START_TEST(test_pidfd_ino_recorded)
{
	struct procmgr_spawn_opts o = { .argv = argv_a };
	procmgr *h = tu_scratch("ino", NULL);
	char want[32], *v;
	pid_t pid;

	ck_assert_int_eq(procmgr_start(h, &o, &pid), 0);
	track_daemon(pid);
	v = tu_key(h, "pidfd_ino");
	if (!pidfd_ino_of(pid, want, sizeof(want))) {
		ck_assert_ptr_null(v);	/* nothing to record here */
		procmgr_free(h);
		tu_skip("pidfds are not on pidfs here (Linux < 6.9)");
	}
	ck_assert_ptr_nonnull(v);
	ck_assert_str_eq(v, want);
	free(v);
	ck_assert_int_eq(procmgr_write(h, "pidfd_ino", "1"), 0);
	ck_assert_int_eq(tu_state(h), PROCMGR_STALE);
	ck_assert_int_eq(procmgr_write(h, "pidfd_ino", "12x"), 0);
	ck_assert_int_eq(tu_state(h), PROCMGR_STALE);
	ck_assert_ptr_nonnull(strstr(procmgr_warning(h), "pidfd_ino"));
	ck_assert_int_eq(procmgr_write(h, "pidfd_ino", want), 0);
	ck_assert_int_eq(tu_state(h), PROCMGR_RUNNING);
	/* recorded again for the same process: the same value */
	ck_assert_int_eq(pm_record_pidfd_ino(h, pid), 0);
	ck_assert_int_eq(tu_state(h), PROCMGR_RUNNING);
	ck_assert_int_eq(pm_record_pidfd_ino(h, tu_dead_pid()), -ESRCH);
	/* a key that cannot be read: stale, with a warning */
	v = pm_asprintf("%s/pidfd_ino", procmgr_meta_dir(h));
	ck_assert_int_eq(unlink(v), 0);
	ck_assert_int_eq(mkdir(v, 0700), 0);
	ck_assert_int_eq(tu_state(h), PROCMGR_STALE);
	ck_assert_ptr_nonnull(strstr(procmgr_warning(h), v));
	ck_assert_int_eq(rmdir(v), 0);
	free(v);
	ck_assert_int_eq(procmgr_write(h, "pidfd_ino", want), 0);
	ck_assert_int_eq(procmgr_stop(h, NULL, NULL), 1);
	procmgr_free(h);
}
END_TEST

START_TEST(test_stale_cleared)
{
	struct procmgr_spawn_opts o = { .argv = argv_a };
	procmgr *h = tu_scratch("stale", NULL);
	char dead[16], *log;
	pid_t pid;

	snprintf(dead, sizeof(dead), "%d", (int)tu_dead_pid());
	ck_assert_int_eq(procmgr_write(h, "pid", dead), 0);
	ck_assert_int_eq(procmgr_write(h, "socket", "old"), 0);
	ck_assert_int_eq(procmgr_write(h, "leftover", "x"), 0);
	tu_write_file(procmgr_default_log(h), "old log\n", 8);
	ck_assert_int_eq(procmgr_start(h, &o, &pid), 0);
	track_daemon(pid);
	ck_assert_ptr_null(tu_key(h, "socket"));
	ck_assert_ptr_null(tu_key(h, "leftover"));
	log = tu_read_file(procmgr_default_log(h));
	ck_assert_ptr_nonnull(strstr(log, "old log"));
	free(log);
	procmgr_free(h);
}
END_TEST

START_TEST(test_ensure_reasons)
{
	char *envs[] = { S("CU_ENSURE_VAR"), NULL };
	struct procmgr_spawn_opts o = { .argv = argv_a,
					.fingerprint_env = envs };
	procmgr *h = tu_scratch("ens", NULL);
	char *reason = NULL, dead[16];
	pid_t p1, p2, p3;

	setenv("CU_ENSURE_VAR", "1", 1);
	/* Not running: started (2), not restarted (1). */
	ck_assert_int_eq(procmgr_ensure(h, &o, &p1, &reason), 2);
	track_daemon(p1);
	ck_assert_str_eq(reason, "not running");
	free(reason);
	reason = NULL;
	/* Same fingerprint: kept, no restart. */
	ck_assert_int_eq(procmgr_ensure(h, &o, &p2, &reason), 0);
	ck_assert_int_eq(p2, p1);
	ck_assert_ptr_null(reason);
	/* Changed argv: restarted, the old one stopped. */
	o.argv = argv_b;
	ck_assert_int_eq(procmgr_ensure(h, &o, &p2, &reason), 1);
	track_daemon(p2);
	ck_assert_str_eq(reason, "argv changed");
	free(reason);
	ck_assert_int_ne(p2, p1);
	ck_assert(tu_wait_gone(p1, 10));
	setenv("CU_ENSURE_VAR", "2", 1);
	ck_assert_int_eq(procmgr_ensure(h, &o, &p3, &reason), 1);
	track_daemon(p3);
	ck_assert_str_eq(reason, "env CU_ENSURE_VAR changed");
	free(reason);
	/* Stale: the recorded pid is dead. */
	kill(p3, SIGKILL);
	ck_assert(tu_wait_gone(p3, 10));
	ck_assert_int_eq(procmgr_ensure(h, &o, &p1, &reason), 2);
	track_daemon(p1);
	snprintf(dead, sizeof(dead), "stale pid %d", (int)p3);
	ck_assert_str_eq(reason, dead);
	free(reason);
	ck_assert_int_eq(procmgr_ensure(h, &o, &p2, NULL), 0);
	ck_assert_int_eq(p1, p2);
	procmgr_free(h);
}
END_TEST

START_TEST(test_restart)
{
	struct procmgr_spawn_opts o = { .argv = argv_a };
	procmgr *h = tu_scratch("rs", NULL);
	pid_t p1, p2;

	ck_assert_int_eq(procmgr_restart(h, &o, &p1), 0);
	track_daemon(p1);
	ck_assert_int_eq(procmgr_restart(h, &o, &p2), 0);
	track_daemon(p2);
	ck_assert_int_ne(p1, p2);
	ck_assert(tu_wait_gone(p1, 10));
	ck_assert_int_eq(procmgr_restart(NULL, &o, &p2), -EINVAL);
	ck_assert_int_eq(procmgr_ensure(h, NULL, &p2, NULL), -EINVAL);
	procmgr_free(h);
}
END_TEST

START_TEST(test_exec_failure_in_ensure)
{
	char *bad[] = { S("/nonexistent/x"), NULL };
	struct procmgr_spawn_opts o = { .argv = bad };
	procmgr *h = tu_scratch("ebad", NULL);
	char *reason = NULL;

	ck_assert_int_eq(procmgr_ensure(h, &o, NULL, &reason), -ENOENT);
	ck_assert_ptr_null(reason);
	ck_assert_int_eq(procmgr_lock_held(h), 0);
	procmgr_free(h);
}
END_TEST

START_TEST(test_option_errors)
{
	char *noeq[] = { S("NOEQUALS"), NULL };
	struct procmgr_spawn_opts o = { .argv = argv_a, .env = noeq };
	procmgr *h = tu_scratch("opts", NULL), *fresh = procmgr_new();
	char *reason = NULL;
	pid_t pid;

	ck_assert_int_eq(procmgr_start(h, &o, &pid), -EINVAL);
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h), "NOEQUALS"));
	o.env = NULL;
	o.fingerprint = "has space";
	ck_assert_int_eq(procmgr_start(h, &o, &pid), -EINVAL);
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h), "fingerprint"));
	ck_assert_int_eq(procmgr_start(fresh, &o, &pid), -EINVAL);
	ck_assert_int_eq(procmgr_start(NULL, &o, &pid), -EINVAL);
	/* A relative cwd is the caller's cwd joined with it. */
	o.fingerprint = NULL;
	o.cwd = ".";
	ck_assert_int_eq(procmgr_start(h, &o, &pid), 0);
	track_daemon(pid);
	o.fingerprint = "has space";
	ck_assert_int_eq(procmgr_ensure(h, &o, &pid, &reason), -EINVAL);
	procmgr_free(fresh);
	procmgr_free(h);
}
END_TEST

/* Metadata without our inputs (pants') can only say "changed". */
START_TEST(test_ensure_foreign_metadata)
{
	struct procmgr_spawn_opts o = { .argv = argv_a };
	procmgr *h = tu_scratch("foreign", NULL);
	char *reason = NULL;
	pid_t p1, p2;

	ck_assert_int_eq(procmgr_start(h, &o, &p1), 0);
	track_daemon(p1);
	ck_assert_int_eq(procmgr_delete(h, "fingerprint_inputs"), 0);
	ck_assert_int_eq(procmgr_write(h, "fingerprint", "pants-fp"), 0);
	ck_assert_int_eq(procmgr_ensure(h, &o, &p2, &reason), 1);
	track_daemon(p2);
	ck_assert_str_eq(reason, "fingerprint changed");
	free(reason);
	ck_assert_int_eq(procmgr_stop(h, NULL, NULL), 1);
	ck_assert_int_eq(procmgr_write(h, "pid", "garbage"), 0);
	ck_assert_int_eq(procmgr_ensure(h, &o, &p2, &reason), 2);
	track_daemon(p2);
	ck_assert_str_eq(reason, "stale metadata");
	free(reason);
	procmgr_free(h);
}
END_TEST

struct racer {
	const char *dir;
	const char *out;
};

static void race_one(void *arg)
{
	const struct racer *rc = arg;
	char *argv[] = { daemon_path, S("pause"), NULL };
	struct procmgr_spawn_opts o = { .argv = argv };
	procmgr *h = procmgr_new();
	char buf[64];
	pid_t pid = 0;
	int r = -1;

	if (h && procmgr_open(h, rc->dir, "racy") == 0)
		r = procmgr_ensure(h, &o, &pid, NULL);
	snprintf(buf, sizeof(buf), "%d %d", r, (int)pid);
	tu_write_file(rc->out, buf, strlen(buf));
	procmgr_free(h);
	_exit(0);
}

START_TEST(test_concurrent_ensure)
{
	char *dir, *outs[N_RACERS];
	struct racer rc[N_RACERS];
	procmgr *h = tu_scratch("racy", &dir);

	for (int round = 0; round < ROUNDS; round++) {
		pid_t kids[N_RACERS], daemon = 0;
		int started = 0;

		for (int i = 0; i < N_RACERS; i++) {
			ck_assert_int_ge(asprintf(&outs[i], "%s/out.%d.%d",
						  dir, round, i), 0);
			rc[i] = (struct racer){ dir, outs[i] };
			kids[i] = tu_fork(race_one, &rc[i]);
		}
		for (int i = 0; i < N_RACERS; i++) {
			int r = 0, pid = 0;
			char *s;

			ck_assert_int_eq(waitpid(kids[i], NULL, 0), kids[i]);
			s = tu_read_file(outs[i]);
			ck_assert_ptr_nonnull(s);
			ck_assert_int_eq(sscanf(s, "%d %d", &r, &pid), 2);
			free(s);
			free(outs[i]);
			/* one starts (2), the others keep it (0) */
			ck_assert_msg(r == 0 || r == 2, "racer %d: %d", i, r);
			started += r == 2;
			if (!daemon) {
				daemon = pid;
				track_daemon(daemon);
			}
			ck_assert_int_eq(pid, daemon);
		}
		ck_assert_int_eq(started, 1);
		ck_assert_int_eq(procmgr_stop(h, NULL, NULL), 1);
		ck_assert(tu_wait_gone(daemon, 10));
	}
	free(dir);
	procmgr_free(h);
}
END_TEST

/* A lock held elsewhere and no wait allowed: nothing is started. */
START_TEST(test_lock_busy)
{
	struct procmgr_spawn_opts o = { .argv = argv_a };
	char *dir, *reason = NULL;
	procmgr *h = tu_scratch("busy", &dir), *holder = procmgr_new();
	pid_t pid = 0;

	ck_assert_int_eq(procmgr_open(holder, dir, "busy"), 0);
	ck_assert_int_eq(procmgr_lock(holder), 0);
	procmgr_set_lock_wait(h, 0, NULL, NULL);
	ck_assert_int_eq(procmgr_start(h, &o, &pid), -EWOULDBLOCK);
	ck_assert_int_eq(procmgr_restart(h, &o, &pid), -EWOULDBLOCK);
	ck_assert_int_eq(procmgr_ensure(h, &o, &pid, &reason), -EWOULDBLOCK);
	ck_assert_ptr_null(reason);
	ck_assert_int_eq(pid, 0);
	ck_assert_ptr_null(tu_key(h, "pid"));
	ck_assert_int_eq(procmgr_unlock(holder), 0);
	procmgr_free(holder);
	free(dir);
	procmgr_free(h);
}
END_TEST

/*
 * ensure's common case: it keeps a running, unchanged daemon without
 * taking the lock or writing anything, and defers to the locked path
 * whenever a state change may be under way (lock held anywhere).
 */
START_TEST(test_ensure_kept_without_lock)
{
	struct procmgr_spawn_opts o = { .argv = argv_a }, b = { .argv = argv_b };
	char *dir, *msg;
	procmgr *h = tu_scratch("kept", &dir), *holder = procmgr_new();
	pid_t pid, got = 0;

	ck_assert_int_eq(procmgr_start(h, &o, &pid), 0);
	track_daemon(pid);
	ck_assert_int_ge(asprintf(&msg, "%s/.lock.kept.lock_message", dir), 0);
	ck_assert_int_eq(procmgr_ensure(h, &o, &got, NULL), 0);
	ck_assert_int_eq(got, pid);
	ck_assert_int_ne(access(msg, F_OK), 0);	/* nothing written */
	/* another holder may be changing it: ensure waits for the lock */
	ck_assert_int_eq(procmgr_open(holder, dir, "kept"), 0);
	ck_assert_int_eq(procmgr_lock(holder), 0);
	procmgr_set_lock_wait(h, 0, NULL, NULL);
	ck_assert_int_eq(procmgr_ensure(h, &o, &got, NULL), -EWOULDBLOCK);
	/* and runs out with -EWOULDBLOCK, never a readiness -ETIMEDOUT */
	procmgr_set_lock_wait(h, 0.2, NULL, NULL);
	ck_assert_int_eq(procmgr_ensure(h, &b, &got, NULL), -EWOULDBLOCK);
	ck_assert_int_eq(procmgr_unlock(holder), 0);
	/* this handle holding the lock: the locked path decides */
	ck_assert_int_eq(procmgr_lock(h), 0);
	ck_assert_int_eq(procmgr_ensure(h, &o, &got, NULL), 0);
	ck_assert_int_eq(got, pid);
	ck_assert_int_eq(procmgr_unlock(h), 0);
	free(msg);
	free(dir);
	procmgr_free(holder);
	procmgr_free(h);
}
END_TEST

/* Reap every descendant (we are their subreaper); false if one lives on. */
static bool descendants_gone(double timeout)
{
	double end = tu_now() + timeout;

	for (;;) {
		pid_t p = waitpid(-1, NULL, WNOHANG);

		if (p < 0)
			return true;	/* ECHILD: none left */
		if (p == 0 && tu_now() > end)
			return false;
		if (p == 0)
			usleep(10000);
	}
}

/*
 * One start with at most base + k fds. It may fail at any step, but then
 * cleanly: a message, no fd of ours leaked, the lock released, and either
 * nothing recorded and no process left, or (a failed readiness check) a
 * recorded daemon that really runs. Returns the start's result.
 */
static int start_with_fds(procmgr *h, struct procmgr_spawn_opts *o,
			  int base, int k)
{
	struct rlimit lim, tight;
	struct procmgr_status st = { 0 };
	int fds = tu_count_fds(), r;
	pid_t pid = 0;

	getrlimit(RLIMIT_NOFILE, &lim);
	tight = lim;
	tight.rlim_cur = (rlim_t)(base + k);
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &tight), 0);
	r = procmgr_start(h, o, &pid);
	setrlimit(RLIMIT_NOFILE, &lim);
	ck_assert_msg(r == 0 || procmgr_errmsg(h)[0], "k=%d: %d", k, r);
	ck_assert_msg(tu_count_fds() == fds, "k=%d: fds %d -> %d (%s)", k,
		      fds, tu_count_fds(), procmgr_errmsg(h));
	ck_assert_int_eq(procmgr_lock_held(h), 0);
	ck_assert_int_eq(procmgr_status(h, &st), 0);
	if (r == 0 || st.pid > 0) {
		ck_assert_msg(st.state == PROCMGR_RUNNING, "k=%d: %s", k,
			      procmgr_errmsg(h));
		tu_track(st.pid);
		ck_assert_int_eq(procmgr_stop(h, NULL, NULL), 1);
	}
	procmgr_status_clear(&st);
	ck_assert_msg(descendants_gone(20), "k=%d: a process outlived the "
		      "start (r=%d: %s)", k, r, procmgr_errmsg(h));
	return r;
}

/*
 * Out of file descriptors at every step of a start, for each readiness
 * mode: each failure is clean, and with enough fds the start succeeds.
 */
START_TEST(test_fd_exhaustion)
{
	char tcp_act[32], tcp_mode[32];
	const char *modes[] = { "exec", "notify", "fd:5", "socket", tcp_mode,
				NULL };
	const char *acts[] = { "pause", "notify=READY=1", "fd=5",
			       "key=socket=1", tcp_act, NULL };
	procmgr *h = tu_scratch("nofds", NULL);
	int base = dup(0), port = free_tcp_port();

	close(base);
	snprintf(tcp_act, sizeof(tcp_act), "tcp=%d", port);
	snprintf(tcp_mode, sizeof(tcp_mode), "tcp:%d", port);
	/* Orphaned monitors and daemons come back to us to be counted. */
	ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	for (int m = 0; modes[m]; m++) {
		char *argv[] = { daemon_path, (char *)acts[m], S("pause"),
				 NULL };
		struct procmgr_spawn_opts o = { .argv = argv,
						.ready_timeout = 20 };
		int k = 0, failures = 0;

		ck_assert_int_eq(procmgr_ready_parse(modes[m], &o.ready), 0);
		while (start_with_fds(h, &o, base, k) < 0) {
			ck_assert_msg(++k < 64, "%s never started", modes[m]);
			failures++;
		}
		/* At least the lock, the log and the pipes needed fds. */
		ck_assert_int_ge(failures, 3);
		procmgr_ready_clear(&o.ready);
	}
	procmgr_free(h);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("ensure");
	TCase *tc = tcase_create("ensure");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_start_twice);
	tcase_add_test(tc, test_pidfd_ino_recorded);
	tcase_add_test(tc, test_stale_cleared);
	tcase_add_test(tc, test_ensure_reasons);
	tcase_add_test(tc, test_restart);
	tcase_add_test(tc, test_exec_failure_in_ensure);
	tcase_add_test(tc, test_concurrent_ensure);
	tcase_add_test(tc, test_option_errors);
	tcase_add_test(tc, test_ensure_foreign_metadata);
	tcase_add_test(tc, test_lock_busy);
	tcase_add_test(tc, test_ensure_kept_without_lock);
	tcase_add_test(tc, test_fd_exhaustion);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(suite());
}
