/*
 * test-stop.c - signal names (lib/signal.c) and procmgr_stop() (lib/stop.c)
 * against real pm-sleeper processes.
 *
 * Ports pants' process_manager_test.py test_terminate_quick_death,
 * test_terminate_quick_death_no_kill, test_terminate_already_dead and
 * test_terminate_no_kill: pants mocks os.kill and the alive checks there;
 * here the signals are real and so is the death.
 */
#include "internal.h"
#include "sleeper.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

START_TEST(test_signal_names)
{
	static const char *term[] = { "TERM", "SIGTERM", "term", "sigTerm",
				      "15" };
	static const char *bad[] = { "", "0", "65", "-1", "9x", "FOO", "SIG",
				     "SIGFOO", "TERM ", " 9" };

	for (size_t i = 0; i < sizeof(term) / sizeof(term[0]); i++)
		ck_assert_int_eq(procmgr_signal_parse(term[i]), SIGTERM);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(procmgr_signal_parse(bad[i]) == -EINVAL,
			      "'%s' parsed", bad[i]);
	ck_assert_int_eq(procmgr_signal_parse(NULL), -EINVAL);
	ck_assert_int_eq(procmgr_signal_parse("9"), SIGKILL);
	ck_assert_int_eq(procmgr_signal_parse("KILL"), SIGKILL);
	ck_assert_int_eq(procmgr_signal_parse("34"), 34);
	ck_assert_int_eq(procmgr_signal_parse("IOT"), SIGABRT);
	ck_assert_str_eq(procmgr_signal_name(SIGTERM), "TERM");
	ck_assert_str_eq(procmgr_signal_name(SIGKILL), "KILL");
	ck_assert_str_eq(procmgr_signal_name(SIGSEGV), "SEGV");
	ck_assert_str_eq(procmgr_signal_name(SIGABRT), "ABRT");
	ck_assert_str_eq(procmgr_signal_name(SIGCHLD), "CHLD");
	ck_assert_ptr_null(procmgr_signal_name(0));
	ck_assert_ptr_null(procmgr_signal_name(40));
	for (int sig = 1; sig < 32; sig++) {
		const char *name = procmgr_signal_name(sig);

		ck_assert_msg(name, "signal %d has no name", sig);
		ck_assert_int_eq(procmgr_signal_parse(name), sig);
	}
}
END_TEST

/* A live daemon recorded under web, with the sleeper options given. */
static pid_t daemon_web(procmgr *h, const char *const *args)
{
	pid_t pid = start_sleeper(dir, args, NULL);

	record_pid(h, pid, true);
	return pid;
}

static const int term_kill[] = { SIGTERM, SIGKILL };

/*
 * A stop that ends the daemon, one row each: it returns 1 with the pid
 * after at least min_s (and well within 10 s), the daemon is gone, its
 * metadata too, the log stays for the post-mortem and the lock is free.
 */
static const struct {
	const char *why;
	const char *sleeper_arg;
	struct procmgr_stop_opts o;
	double min_s;
} stops[] = {
	/* test_terminate_quick_death: SIGTERM is enough. */
	{ "TERM is enough", "--exit-on-term", { .kill_wait = 60 }, 0 },
	/* test_terminate_no_kill's other half: TERM ignored, KILL needed. */
	{ "KILL needed", "--ignore-term", { .kill_wait = 0.5 }, 0.45 },
	/* --kill-wait 0: a KILL is still waited for, not called survived. */
	{ "KILL with no wait", "--ignore-term",
	  { .signals = term_kill, .n_signals = 2 }, 0 },
};

START_TEST(test_stop_ends_it)
{
	const char *args[] = { stops[_i].sleeper_arg, NULL };
	procmgr *h = tu_open(dir, "web");
	pid_t pid = daemon_web(h, args), got = 0;
	char *log = pm_asprintf("%s.log", procmgr_meta_dir(h));
	double t = tu_now();

	tu_write_file(log, "post-mortem\n", 12);
	ck_assert_msg(procmgr_stop(h, &stops[_i].o, &got) == 1, "%s: %s",
		      stops[_i].why, procmgr_errmsg(h));
	t = tu_now() - t;
	ck_assert_msg(t >= stops[_i].min_s && t < 10, "%s: took %.2f s",
		      stops[_i].why, t);
	ck_assert_int_eq(got, pid);
	ck_assert_int_eq(procmgr_pid_alive(pid), 0);
	ck_assert(!tu_exists(procmgr_meta_dir(h)));
	ck_assert(tu_exists(log));
	ck_assert_int_eq(procmgr_lock_held(h), 0);
	free(log);
	procmgr_free(h);
}
END_TEST

/* test_terminate_no_kill: a chain without KILL that it survives. */
START_TEST(test_terminate_survives_chain)
{
	const char *args[] = { "--ignore-term", NULL };
	static const int chain[] = { SIGTERM };
	struct procmgr_stop_opts o = { .signals = chain, .n_signals = 1,
				       .kill_wait = 0.5 };
	procmgr *h = tu_open(dir, "web");
	pid_t pid = daemon_web(h, args), got = 0;
	char *msg;

	ck_assert_int_eq(procmgr_stop(h, &o, &got), -ETIME);
	ck_assert_int_eq(got, 0);
	ck_assert_int_eq(procmgr_pid_alive(pid), 1);
	msg = pm_asprintf("pid %d of web survived SIGTERM", (int)pid);
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h), msg));
	free(msg);
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h), "metadata kept"));
	ck_assert_int_eq(tu_state(h), PROCMGR_RUNNING);
	ck_assert_int_eq(procmgr_lock_held(h), 0);
	procmgr_free(h);
}
END_TEST

/* test_terminate_already_dead: nothing signalled, stale metadata gone. */
START_TEST(test_terminate_already_dead)
{
	procmgr *h = tu_open(dir, "web");
	pid_t got = -1;

	record_pid(h, tu_dead_pid(), false);
	ck_assert_int_eq(procmgr_stop(h, NULL, &got), 0);
	ck_assert_int_eq(got, 0);
	ck_assert(!tu_exists(procmgr_meta_dir(h)));
	/* stopped: nothing to do either */
	ck_assert_int_eq(procmgr_stop(h, NULL, NULL), 0);
	procmgr_free(h);
}
END_TEST

/* A recycled pid: the live process has another start time. */
START_TEST(test_reused_pid_untouched)
{
	procmgr *h = tu_open(dir, "web");
	pid_t pid = start_sleeper(dir, NULL, NULL);
	char *id, *v;

	record_pid(h, pid, false);
	ck_assert_int_eq(procmgr_proc_identity(pid, &id), 0);
	v = pm_asprintf("1%s", id);	/* another start time, same boot */
	ck_assert_int_eq(procmgr_write(h, "start_time", v), 0);
	ck_assert_int_eq(procmgr_stop(h, NULL, NULL), 0);
	ck_assert_int_eq(procmgr_pid_alive(pid), 1);
	ck_assert(!tu_wait_gone(pid, 0.3));
	free(v);
	free(id);
	procmgr_free(h);
}
END_TEST

START_TEST(test_keep_metadata)
{
	struct procmgr_stop_opts o = { .kill_wait = -1, .keep_metadata = true };
	procmgr *h = tu_open(dir, "web");
	pid_t pid = daemon_web(h, NULL);
	char *v;

	ck_assert_int_eq(procmgr_stop(h, &o, NULL), 1);
	ck_assert_int_eq(procmgr_pid_alive(pid), 0);
	ck_assert_int_eq(procmgr_read(h, "pid", &v), 0);
	ck_assert_int_eq(atoi(v), pid);
	free(v);
	ck_assert_int_eq(tu_state(h), PROCMGR_STALE);
	/* a stale NAME with keep_metadata: still kept */
	ck_assert_int_eq(procmgr_stop(h, &o, NULL), 0);
	ck_assert(tu_exists(procmgr_meta_dir(h)));
	procmgr_free(h);
}
END_TEST

START_TEST(test_bad_options_and_lock)
{
	struct procmgr_stop_opts o = { .signals = (const int[]){ SIGTERM },
				       .n_signals = 0 };
	procmgr *h = tu_open(dir, "web"), *other = tu_open(dir, "web");
	pid_t pid = daemon_web(h, NULL);

	ck_assert_int_eq(procmgr_stop(h, &o, NULL), -EINVAL);
	/* someone else holds the lifecycle lock: nothing is signalled */
	ck_assert_int_eq(procmgr_lock(other), 0);
	procmgr_set_lock_wait(h, 0, NULL, NULL);
	ck_assert_int_eq(procmgr_stop(h, NULL, NULL), -EWOULDBLOCK);
	ck_assert_int_eq(procmgr_pid_alive(pid), 1);
	ck_assert_int_eq(procmgr_unlock(other), 0);
	/* a caller holding the lock may stop (the lock is counted) */
	ck_assert_int_eq(procmgr_lock(h), 0);
	ck_assert_int_eq(procmgr_stop(h, NULL, NULL), 1);
	ck_assert_int_eq(procmgr_lock_held(h), 1);
	ck_assert_int_eq(procmgr_unlock(h), 0);
	procmgr_free(other);
	procmgr_free(h);
}
END_TEST

/*
 * A chain with something that is not a signal is refused before anything
 * is locked or signalled: 0 would only probe (and then report "survived"
 * after the wait), a negative or too big number would fail halfway.
 */
START_TEST(test_bad_signal_numbers)
{
	const int bad[] = { 0, -1, SIGRTMAX + 1 };
	procmgr *h = tu_open(dir, "web");
	pid_t pid = daemon_web(h, NULL), got = -1;
	double t = tu_now();

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int chain[] = { SIGTERM, bad[i] };
		struct procmgr_stop_opts o = { .signals = chain,
					       .n_signals = 2,
					       .kill_wait = 30 };
		char *want = pm_asprintf("signal %d ", bad[i]);

		ck_assert_int_eq(procmgr_stop(h, &o, &got), -EINVAL);
		ck_assert_msg(strstr(procmgr_errmsg(h), want), "'%s' lacks "
			      "'%s'", procmgr_errmsg(h), want);
		free(want);
	}
	/* a chain longer than any stop needs, and a kill mode of no kind */
	{
		int chain[PM_CHAIN_MAX + 1];
		struct procmgr_stop_opts o = { .signals = chain,
					       .n_signals = PM_CHAIN_MAX + 1 };

		for (size_t i = 0; i <= PM_CHAIN_MAX; i++)
			chain[i] = SIGTERM;
		ck_assert_int_eq(procmgr_stop(h, &o, &got), -EINVAL);
		ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h), "at most"));
		o.n_signals = 1;
		o.kill_mode = (enum procmgr_kill_mode)99;
		ck_assert_int_eq(procmgr_stop(h, &o, &got), -EINVAL);
		ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h),
					     "unknown kill mode 99"));
	}
	ck_assert_double_lt(tu_now() - t, 10);
	ck_assert_int_eq(got, -1);
	ck_assert_int_eq(procmgr_lock_held(h), 0);
	ck_assert_int_eq(procmgr_pid_alive(pid), 1);
	ck_assert_int_eq(tu_state(h), PROCMGR_RUNNING);
	ck_assert_int_eq(procmgr_stop(NULL, NULL, NULL), -EINVAL);
	procmgr_free(h);
}
END_TEST

/* An exit by a signal without a name is recorded by its number. */
START_TEST(test_exit_text_unnamed_signal)
{
	char buf[64], want[32];

	snprintf(want, sizeof(want), "signal=%d", SIGRTMIN + 2);
	pm_exit_text(-1, SIGRTMIN + 2, buf, sizeof(buf));
	ck_assert_str_eq(buf, want);
	pm_exit_text(-1, SIGKILL, buf, sizeof(buf));
	ck_assert_str_eq(buf, "signal=KILL");
	pm_exit_text(3, 0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "status=3");
}
END_TEST

/* A signal without a name is reported by number when it is survived. */
START_TEST(test_survives_unnamed_signal)
{
	char num[16];
	const char *args[] = { "--ignore", num, NULL };
	int chain[] = { SIGRTMIN + 2 };
	struct procmgr_stop_opts o = { .signals = chain, .n_signals = 1,
				       .kill_wait = 0.3 };
	procmgr *h = tu_open(dir, "web");
	pid_t pid;
	char *want;

	snprintf(num, sizeof(num), "%d", SIGRTMIN + 2);
	pid = daemon_web(h, args);
	ck_assert_int_eq(procmgr_stop(h, &o, NULL), -ETIME);
	want = pm_asprintf("survived signal %d;", SIGRTMIN + 2);
	ck_assert_msg(strstr(procmgr_errmsg(h), want), "'%s' lacks '%s'",
		      procmgr_errmsg(h), want);
	free(want);
	ck_assert_int_eq(procmgr_pid_alive(pid), 1);
	ck_assert_int_eq(tu_state(h), PROCMGR_RUNNING);
	procmgr_free(h);
}
END_TEST

/*
 * NAME's directory replaced by a symlink to metadata that names a live
 * process: stop refuses to read through it and signals nothing.
 */
START_TEST(test_symlinked_meta_dir_not_signalled)
{
	procmgr *h = tu_open(dir, "web");
	pid_t pid = daemon_web(h, NULL);
	char *elsewhere = pm_asprintf("%s/elsewhere", dir);

	ck_assert_int_eq(rename(procmgr_meta_dir(h), elsewhere), 0);
	ck_assert_int_eq(symlink(elsewhere, procmgr_meta_dir(h)), 0);
	ck_assert_int_eq(procmgr_stop(h, NULL, NULL), -ELOOP);
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h), "symlink"));
	ck_assert_int_eq(procmgr_lock_held(h), 0);
	ck_assert(!tu_wait_gone(pid, 0.3));
	ck_assert(tu_exists(elsewhere));
	free(elsewhere);
	procmgr_free(h);
}
END_TEST

/* Run pm-sleeper as uid/gid 65534 (nobody). */
static void sleeper_as_nobody(void *arg)
{
	char *path = tu_helper("pm-sleeper");
	char *argv[] = { path, NULL };

	(void)arg;
	if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0)
		_exit(126);
	execv(path, argv);
	_exit(127);
}

struct stopper {
	const char *sub;
	pid_t target;
	int out;
};

/*
 * In a child: record pid (and its start_time) under sub's NAME web and
 * stop it; the stop's result, -1000 if it could not be recorded. *ret_h
 * gets the handle (to read its message, then free), NULL if none.
 */
static int record_and_stop(const char *sub, pid_t pid, procmgr **ret_h)
{
	procmgr *h = procmgr_new();
	char buf[32], *id = NULL;
	int r = -1000;

	snprintf(buf, sizeof(buf), "%d", (int)pid);
	if (h && procmgr_open(h, sub, "web") == 0 &&
	    procmgr_write(h, "pid", buf) == 0 &&
	    procmgr_proc_identity(pid, &id) == 0 &&
	    procmgr_write(h, "start_time", id) == 0)
		r = procmgr_stop(h, NULL, NULL);
	free(id);
	*ret_h = h;
	return r;
}

/* Send the child's result r to the test, then write its coverage. */
static void stopper_report(struct stopper *s, int r)
{
	if (write(s->out, &r, sizeof(r)) != sizeof(r))
		_exit(1);
	tu_other_done();
}

/* As uid 65533: record the target under sub, stop it, report the result. */
static void stop_as_other(void *arg)
{
	struct stopper *s = arg;
	procmgr *h;
	int r = -1000;

	if (tu_become_other()) {
		r = record_and_stop(s->sub, s->target, &h);
		/* refused by procmgr itself, not only by the kernel's check */
		if (r == -EPERM &&
		    !strstr(procmgr_errmsg(h), "belongs to uid 65534"))
			r = -2000;
		procmgr_free(h);
	}
	stopper_report(s, r);
}

/* A pid owned by another user is never signalled. */
START_TEST(test_foreign_uid)
{
	struct stopper s;
	char *sub, *meta;
	char fp[PROCMGR_HOSTFP_LEN + 1];
	struct pollfd p;
	int fds[2], r = 0;
	pid_t target, stopper;

	if (geteuid() != 0)
		tu_skip("needs root to act as two other users");
	sub = pm_asprintf("%s/other", dir);
	target = tu_fork(sleeper_as_nobody, NULL);
	ck_assert_int_eq(chmod(dir, 0755), 0);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	ck_assert_int_eq(chown(sub, 65533, 65533), 0);
	ck_assert_int_eq(pipe2(fds, O_CLOEXEC), 0);
	s = (struct stopper){ .sub = sub, .target = target, .out = fds[1] };
	/* let the sleeper's exec land (its uid is set before the exec) */
	tu_sleep(0.1);
	stopper = tu_fork(stop_as_other, &s);
	close(fds[1]);
	p = (struct pollfd){ .fd = fds[0], .events = POLLIN };
	ck_assert_int_eq(poll(&p, 1, 20000), 1);
	ck_assert_int_eq(read(fds[0], &r, sizeof(r)), sizeof(r));
	ck_assert_int_eq(r, -EPERM);
	tu_wait_gone(stopper, 10);	/* let it write its coverage */
	ck_assert_int_eq(procmgr_pid_alive(target), 1);
	ck_assert(!tu_wait_gone(target, 0.3));
	ck_assert_int_eq(procmgr_host_fingerprint(fp), 0);
	meta = pm_asprintf("%s/%s/web/pid", sub, fp);
	ck_assert(tu_exists(meta));	/* metadata kept */
	free(meta);
	close(fds[0]);
	free(sub);
}
END_TEST

/* As uid 65533: start a sleeper of its own, record it, stop it, report. */
static void stop_own_as_other(void *arg)
{
	struct stopper *s = arg;
	procmgr *h;
	pid_t pid;
	int r = -1000;

	if (tu_become_other()) {
		/* its parent is this child: PDEATHSIG kills it with us */
		pid = tu_spawn("pm-sleeper", NULL);
		r = record_and_stop(s->sub, pid, &h);
		/* it must really be gone: reap it */
		if (r == 1 && waitpid(pid, NULL, 0) != pid)
			r = -2000;
		procmgr_free(h);
	}
	stopper_report(s, r);
}

/* A user who is not root stops a daemon of their own. */
START_TEST(test_non_root_stops_own)
{
	struct stopper s;
	char *sub;
	struct pollfd p;
	int fds[2], r = 0;
	pid_t child;

	if (geteuid() != 0)
		tu_skip("needs root to act as another user");
	sub = pm_asprintf("%s/other", dir);
	ck_assert_int_eq(chmod(dir, 0755), 0);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	ck_assert_int_eq(chown(sub, 65533, 65533), 0);
	ck_assert_int_eq(pipe2(fds, O_CLOEXEC), 0);
	s = (struct stopper){ .sub = sub, .out = fds[1] };
	child = tu_fork(stop_own_as_other, &s);
	close(fds[1]);
	p = (struct pollfd){ .fd = fds[0], .events = POLLIN };
	ck_assert_int_eq(poll(&p, 1, 30000), 1);
	/* nothing to read: the child died first; say how */
	if (read(fds[0], &r, sizeof(r)) != sizeof(r))
		ck_abort_msg("the child ended with %d before reporting",
			     tu_child_status(child));
	ck_assert_int_eq(r, 1);
	tu_wait_gone(child, 10);	/* let it write its coverage */
	close(fds[0]);
	free(sub);
}
END_TEST

/*
 * Root is refused too: a process whose uid is not the owner of the
 * metadata directory is not one that metadata may send signals to.
 */
START_TEST(test_root_refuses_foreign_uid)
{
	procmgr *h;
	pid_t target, got = -1;

	if (geteuid() != 0)
		tu_skip("needs root to start a process of another user");
	h = tu_open(dir, "web");
	target = tu_fork(sleeper_as_nobody, NULL);
	tu_sleep(0.1);
	record_pid(h, target, true);
	ck_assert_int_eq(procmgr_stop(h, NULL, &got), -EPERM);
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h), "uid 65534"));
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h),
				     procmgr_meta_dir(h)));
	ck_assert(!tu_wait_gone(target, 0.3));
	ck_assert_int_eq(tu_state(h), PROCMGR_RUNNING);
	procmgr_free(h);
}
END_TEST

static Suite *stop_suite(void)
{
	Suite *s = suite_create("stop");
	TCase *tc = tcase_create("stop");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, test_signal_names);
	tcase_add_loop_test(tc, test_stop_ends_it, 0,
			    (int)(sizeof(stops) / sizeof(stops[0])));
	tcase_add_test(tc, test_terminate_survives_chain);
	tcase_add_test(tc, test_exit_text_unnamed_signal);
	tcase_add_test(tc, test_terminate_already_dead);
	tcase_add_test(tc, test_reused_pid_untouched);
	tcase_add_test(tc, test_keep_metadata);
	tcase_add_test(tc, test_bad_options_and_lock);
	tcase_add_test(tc, test_foreign_uid);
	tcase_add_test(tc, test_root_refuses_foreign_uid);
	tcase_add_test(tc, test_non_root_stops_own);
	tcase_add_test(tc, test_bad_signal_numbers);
	tcase_add_test(tc, test_survives_unnamed_signal);
	tcase_add_test(tc, test_symlinked_meta_dir_not_signalled);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(stop_suite());
}
