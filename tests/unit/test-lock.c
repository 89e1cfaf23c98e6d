/*
 * test-lock.c - the lifecycle lock (lib/lock.c) between real processes.
 *
 * Ports pants' lock_test.py (OwnerPrintingInterProcessFileLock):
 * test_non_blocking_attempt, test_message, test_blocking, and the release
 * half of test_reentry. Holders are forked children or python3 processes
 * taking lockf() locks as pants' clients (fasteners) do.
 */
#include "internal.h"
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/inotify.h>
#include <sys/resource.h>
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

/* A holder child, driven through a pipe: 'm' new message, 'r' release. */
struct holder {
	int cmd[2];	/* parent writes [1], child reads [0] */
	int ack[2];	/* child writes [1], parent reads [0] */
	pid_t pid;
};

static void holder_main(void *arg)
{
	struct holder *x = arg;
	procmgr *h;
	char c, msg[64];
	int dfd;

	close(x->cmd[1]);
	close(x->ack[0]);
	h = procmgr_new();
	if (!h || procmgr_open(h, dir, "web") < 0 || procmgr_lock(h) < 0)
		_exit(1);
	if (write(x->ack[1], "L", 1) != 1)
		_exit(1);
	while (read(x->cmd[0], &c, 1) == 1) {
		if (c == 'D')	/* late: after the waiter's first 0.2 s */
			usleep(500 * 1000);
		if (c == 'm' || c == 'D') {
			/* what a new holder's write looks like to a waiter */
			snprintf(msg, sizeof(msg), "%d (new holder)",
				 (int)getpid());
			if (pm_open_base(h, false, &dfd) == 0) {
				pm_write_atomic_at(dfd,
						   ".lock.web.lock_message",
						   msg, strlen(msg), 0644);
				close(dfd);
			}
		} else if (c == 'r') {
			procmgr_unlock(h);
		}
		if (write(x->ack[1], &c, 1) != 1)
			break;
	}
	procmgr_free(h);
	TU_GCOV_DUMP();
}

static char holder_ack(struct holder *x)
{
	struct pollfd p = { .fd = x->ack[0], .events = POLLIN };
	char c = 0;

	ck_assert_msg(poll(&p, 1, 10000) == 1, "holder did not answer");
	ck_assert_int_eq(read(x->ack[0], &c, 1), 1);
	return c;
}

static void holder_start(struct holder *x)
{
	ck_assert_int_eq(pipe2(x->cmd, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(x->ack, O_CLOEXEC), 0);
	x->pid = tu_fork(holder_main, x);
	close(x->cmd[0]);
	close(x->ack[1]);
	ck_assert_int_eq(holder_ack(x), 'L');
}

static void holder_send(struct holder *x, char c)
{
	ck_assert_int_eq(write(x->cmd[1], &c, 1), 1);
}

/* What the callback saw. */
struct seen {
	int calls;
	char msg[8][256];
	char line[8][512];
	struct holder *x;
	char on_first, on_second;	/* command for the holder, or 0 */
	bool kill_first;
	const char *fake;	/* on the first call, another user writes it */
	double t_last;
};

/* As uid 65533, create the file arg with a holder's message in it. */
static void write_fake_message(void *arg)
{
	int fd;

	if (tu_become_other()) {
		fd = open(arg, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd >= 0) {
			if (write(fd, "1 (fake holder)", 15) != 15)
				_exit(1);
			close(fd);
		}
	}
	tu_other_done();
}

static void on_wait(procmgr *h, const char *msg, const char *line, void *ud)
{
	struct seen *s = ud;

	(void)h;
	if (s->calls < 8) {
		snprintf(s->msg[s->calls], sizeof(s->msg[0]), "%s", msg);
		snprintf(s->line[s->calls], sizeof(s->line[0]), "%s", line);
	}
	s->calls++;
	s->t_last = tu_now();
	if (s->calls == 1 && s->fake)
		ck_assert_int_eq(tu_child_status(tu_fork(write_fake_message,
							 (void *)s->fake)), 0);
	if (s->calls == 1 && s->kill_first)
		kill(s->x->pid, SIGKILL);
	else if (s->calls == 1 && s->on_first)
		holder_send(s->x, s->on_first);
	else if (s->calls == 2 && s->on_second)
		holder_send(s->x, s->on_second);
}

/* "<pid> (<argv joined by spaces>)" for pid running this program. */
static char *expected_message(pid_t pid)
{
	char *m;
	size_t n;
	int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
	char buf[4096];
	ssize_t len = read(fd, buf, sizeof(buf) - 1);

	close(fd);
	ck_assert_int_gt(len, 0);
	for (ssize_t i = 0; i < len; i++)
		if (!buf[i])
			buf[i] = ' ';
	n = (size_t)len;
	while (n > 0 && buf[n - 1] == ' ')
		n--;
	buf[n] = '\0';
	m = pm_asprintf("%d (%s)", (int)pid, buf);
	return m;
}

/* lock_test.py test_non_blocking_attempt + test_message */
START_TEST(test_non_blocking_attempt)
{
	procmgr *h = tu_open(dir, "web");
	struct holder x;
	char *msg, *want;

	holder_start(&x);
	msg = tu_read_file(tu_lock_msg_path(h));
	want = expected_message(x.pid);
	ck_assert_str_eq(msg, want);
	procmgr_set_lock_wait(h, 0, NULL, NULL);
	ck_assert_int_eq(procmgr_lock(h), -EWOULDBLOCK);
	ck_assert_int_eq(procmgr_lock_held(h), 0);
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h), procmgr_lock_path(h)));
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h), want));
	holder_send(&x, 'r');
	ck_assert_int_eq(holder_ack(&x), 'r');
	ck_assert(!tu_exists(tu_lock_msg_path(h)));
	ck_assert_int_eq(procmgr_lock(h), 0);
	ck_assert_int_eq(procmgr_unlock(h), 0);
	free(msg);
	free(want);
	procmgr_free(h);
}
END_TEST

/* test_blocking: the waiter says pants' line, and the release wakes it. */
START_TEST(test_blocking_release_wakes)
{
	procmgr *h = tu_open(dir, "web");
	struct seen s = { 0 };
	struct holder x;
	char *want, *line;

	holder_start(&x);
	s.x = &x;
	s.on_first = 'r';
	procmgr_set_lock_wait(h, 60, on_wait, &s);
	ck_assert_int_eq(procmgr_lock(h), 0);
	ck_assert_double_lt(tu_now() - s.t_last, 1.0);
	ck_assert_int_eq(s.calls, 1);
	want = expected_message(x.pid);
	ck_assert_str_eq(s.msg[0], want);
	line = pm_asprintf("PID %d waiting for a file lock (%s) held by: %s",
			   (int)getpid(), procmgr_lock_path(h), want);
	ck_assert_str_eq(s.line[0], line);
	free(line);
	free(want);
	/* now ours: the message names us */
	want = expected_message(getpid());
	line = tu_read_file(tu_lock_msg_path(h));
	ck_assert_str_eq(line, want);
	free(line);
	free(want);
	ck_assert_int_eq(procmgr_unlock(h), 0);
	procmgr_free(h);
}
END_TEST

/* A SIGKILLed holder frees the lock at once. */
START_TEST(test_killed_holder)
{
	procmgr *h = tu_open(dir, "web");
	struct seen s = { 0 };
	struct holder x;

	holder_start(&x);
	s.x = &x;
	s.kill_first = true;
	procmgr_set_lock_wait(h, 60, on_wait, &s);
	ck_assert_int_eq(procmgr_lock(h), 0);
	ck_assert_double_lt(tu_now() - s.t_last, 1.0);
	ck_assert_int_eq(s.calls, 1);
	ck_assert_int_eq(procmgr_unlock(h), 0);
	procmgr_free(h);
}
END_TEST

START_TEST(test_timeout)
{
	procmgr *h = tu_open(dir, "web");
	struct seen s = { 0 };
	struct holder x;
	char *want;
	double t;

	holder_start(&x);
	s.x = &x;
	procmgr_set_lock_wait(h, 0.3, on_wait, &s);
	t = tu_now();
	ck_assert_int_eq(procmgr_lock(h), -EWOULDBLOCK);
	t = tu_now() - t;
	ck_assert_double_ge(t, 0.29);
	ck_assert_double_lt(t, 3.0);
	ck_assert_int_eq(s.calls, 1);
	ck_assert_int_eq(procmgr_lock_held(h), 0);
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h), "timed out"));
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h), procmgr_lock_path(h)));
	want = expected_message(x.pid);
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h), want));
	free(want);
	/* the cancelled wait left nothing locked behind */
	holder_send(&x, 'r');
	ck_assert_int_eq(holder_ack(&x), 'r');
	procmgr_set_lock_wait(h, 0, NULL, NULL);
	ck_assert_int_eq(procmgr_lock(h), 0);
	ck_assert_int_eq(procmgr_unlock(h), 0);
	procmgr_free(h);
}
END_TEST

/* While waiting, a new holder is reported again. */
START_TEST(test_holder_change_reprints)
{
	procmgr *h = tu_open(dir, "web");
	struct seen s = { 0 };
	struct holder x;
	char *want;

	holder_start(&x);
	s.x = &x;
	s.on_first = 'm';
	s.on_second = 'r';
	procmgr_set_lock_wait(h, 60, on_wait, &s);
	ck_assert_int_eq(procmgr_lock(h), 0);
	ck_assert_int_eq(s.calls, 2);
	want = pm_asprintf("%d (new holder)", (int)x.pid);
	ck_assert_str_eq(s.msg[1], want);
	ck_assert_ptr_nonnull(strstr(s.line[1], want));
	free(want);
	ck_assert_int_eq(procmgr_unlock(h), 0);
	procmgr_free(h);
}
END_TEST

/*
 * With no inotify instance left for the user, a waiter still waits in the
 * kernel, and still reports a new holder: it reads the message again
 * every second instead of watching it.
 */
START_TEST(test_wait_without_inotify)
{
	procmgr *h;
	struct seen s = { 0 };
	struct holder x;
	char *want;
	int n = 0;

	if (getuid() != 0)
		tu_skip("needs root to become a lone uid");
	h = tu_open(dir, "web");
	tu_become_lone_uid(54325);
	while (inotify_init1(IN_CLOEXEC) >= 0)
		ck_assert_int_lt(++n, 100000);
	ck_assert_int_eq(errno, EMFILE);
	holder_start(&x);
	s.x = &x;
	s.on_first = 'm';
	s.on_second = 'r';
	procmgr_set_lock_wait(h, 60, on_wait, &s);
	ck_assert_msg(procmgr_lock(h) == 0, "%s", procmgr_errmsg(h));
	ck_assert_int_eq(s.calls, 2);
	want = pm_asprintf("%d (new holder)", (int)x.pid);
	ck_assert_str_eq(s.msg[1], want);
	free(want);
	ck_assert_int_eq(procmgr_unlock(h), 0);
	procmgr_free(h);
}
END_TEST

/* A child that locks web without waiting; exits 0 when it got it. */
static void lock_now_child(void *arg)
{
	procmgr *h = procmgr_new();
	int r = 1;

	(void)arg;
	if (h && procmgr_open(h, dir, "web") == 0) {
		procmgr_set_lock_wait(h, 0, NULL, NULL);
		if (procmgr_lock(h) == 0 && procmgr_lock_held(h) == 1 &&
		    procmgr_lock(h) == 0 && procmgr_unlock(h) == 0 &&
		    procmgr_unlock(h) == 0)
			r = 0;
	}
	procmgr_free(h);
	tu_child_exit(r);
}

/*
 * A child handed the lock (its fd and PROCMGR_LOCK_FD) uses it instead of
 * waiting for its parent; its unlock leaves the parent's lock and message
 * alone. Without the variable, it waits like anyone.
 */
START_TEST(test_lock_inherited)
{
	procmgr *h = tu_open(dir, "web");
	struct stat fd_st, path_st;
	char *env = NULL;
	int fd = -1;

	ck_assert_int_eq(procmgr_lock_child_env(h, &fd, &env), -ENOLCK);
	ck_assert_int_eq(procmgr_lock_child_env(NULL, &fd, &env), -ENOLCK);
	ck_assert_int_eq(procmgr_lock(h), 0);
	ck_assert_int_eq(procmgr_lock_child_env(h, &fd, &env), 0);
	/* the fd handed on is the lock file itself */
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &fd_st), 0);
	ck_assert_int_eq(stat(procmgr_lock_path(h), &path_st), 0);
	ck_assert(fd_st.st_dev == path_st.st_dev &&
		  fd_st.st_ino == path_st.st_ino);
	ck_assert_ptr_nonnull(strstr(env, procmgr_lock_path(h)));
	ck_assert_int_eq(putenv(env), 0);
	ck_assert_int_eq(tu_child_status(tu_fork(lock_now_child, NULL)), 0);
	ck_assert(tu_exists(tu_lock_msg_path(h)));
	ck_assert_int_eq(unsetenv(PROCMGR_LOCK_ENV), 0);
	free(env);
	ck_assert_int_eq(tu_child_status(tu_fork(lock_now_child, NULL)), 1);
	ck_assert_int_eq(procmgr_unlock(h), 0);
	ck_assert_int_eq(tu_child_status(tu_fork(lock_now_child, NULL)), 0);
	procmgr_free(h);
}
END_TEST

/* Run python3 with a script and argv; it reports through result. */
static pid_t python(const char *script, const char *a1, const char *a2)
{
	const char *args[] = { "-c", script, a1, a2, NULL };

	return tu_spawn("/usr/bin/python3", args);
}

static const char py_hold[] =
	"import fcntl, sys, time\n"
	"f = open(sys.argv[1], 'a')\n"
	"fcntl.lockf(f, fcntl.LOCK_EX)\n"
	"open(sys.argv[2], 'w').write('locked')\n"
	"time.sleep(600)\n";

static const char py_try[] =
	"import fcntl, sys\n"
	"f = open(sys.argv[1], 'a')\n"
	"try:\n"
	"    fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)\n"
	"    r = 'acquired'\n"
	"except OSError:\n"
	"    r = 'blocked'\n"
	"open(sys.argv[2] + '.tmp', 'w').write(r)\n"
	"import os; os.rename(sys.argv[2] + '.tmp', sys.argv[2])\n";

/* pants' clients lock with lockf(): they and we exclude each other. */
START_TEST(test_pants_lockf_holder_blocks_us)
{
	procmgr *h = tu_open(dir, "web");
	struct seen s = { 0 };
	char *ready = pm_asprintf("%s/py.ready", dir), *stale;
	pid_t py;

	ck_assert_int_eq(procmgr_lock(h), 0);	/* makes DIR, lock file */
	ck_assert_int_eq(procmgr_unlock(h), 0);
	py = python(py_hold, procmgr_lock_path(h), ready);
	ck_assert(tu_wait_path(ready, 20));
	procmgr_set_lock_wait(h, 0, NULL, NULL);
	ck_assert_int_eq(procmgr_lock(h), -EWOULDBLOCK);
	/* a stale message from a dead holder is not taken for this one */
	stale = pm_asprintf("%d (dead holder)", (int)tu_dead_pid());
	tu_write_file(tu_lock_msg_path(h), stale, strlen(stale));
	procmgr_set_lock_wait(h, 0.2, on_wait, &s);
	ck_assert_int_eq(procmgr_lock(h), -EWOULDBLOCK);
	ck_assert_int_eq(s.calls, 1);
	ck_assert_str_eq(s.msg[0], "");
	ck_assert_ptr_null(strstr(procmgr_errmsg(h), "dead holder"));
	tu_kill(py);
	procmgr_set_lock_wait(h, 10, NULL, NULL);
	ck_assert_int_eq(procmgr_lock(h), 0);
	ck_assert_int_eq(procmgr_unlock(h), 0);
	free(stale);
	free(ready);
	procmgr_free(h);
}
END_TEST

/*
 * In a DIR others may write to (sticky, as /tmp), another user's message
 * file appearing while we wait is a fake: never shown as the holder.
 */
START_TEST(test_foreign_message_ignored)
{
	procmgr *h;
	struct seen s = { 0 };
	char *ready;
	pid_t py;

	if (geteuid() != 0)
		tu_skip("needs root to act as another user");
	h = tu_open(dir, "web");
	ready = pm_asprintf("%s/py.ready", dir);
	ck_assert_int_eq(chmod(dir, 01777), 0);
	ck_assert_int_eq(procmgr_lock(h), 0);	/* makes the lock file */
	ck_assert_int_eq(procmgr_unlock(h), 0);
	py = python(py_hold, procmgr_lock_path(h), ready);
	ck_assert(tu_wait_path(ready, 20));
	s.fake = tu_lock_msg_path(h);
	procmgr_set_lock_wait(h, 1.5, on_wait, &s);
	ck_assert_int_eq(procmgr_lock(h), -EWOULDBLOCK);
	ck_assert(tu_exists(tu_lock_msg_path(h)));	/* it was there */
	ck_assert_int_eq(s.calls, 1);
	ck_assert_str_eq(s.msg[0], "");
	ck_assert_ptr_null(strstr(procmgr_errmsg(h), "fake"));
	/* and, there before we start, it is refused, naming it */
	ck_assert_int_eq(procmgr_lock(h), -EACCES);
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h), tu_lock_msg_path(h)));
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h), "uid 65533"));
	tu_kill(py);
	ck_assert_int_eq(unlink(tu_lock_msg_path(h)), 0);
	free(ready);
	procmgr_free(h);
}
END_TEST

/* As uid 65533, lock web in dir; report the result on the pipe *arg. */
static void lock_as_other(void *arg)
{
	int *out = arg, r = -1000;
	procmgr *h;

	if (tu_become_other()) {
		h = procmgr_new();
		if (h && procmgr_open(h, dir, "web") == 0) {
			r = procmgr_lock(h);
			if (r == -EACCES &&
			    !strstr(procmgr_errmsg(h), "uid 65534"))
				r = -2000;
		}
		procmgr_free(h);
	}
	if (write(*out, &r, sizeof(r)) != sizeof(r))
		_exit(1);
	tu_other_done();
}

/*
 * Another user's lock file that we cannot even open (mode 0600) is
 * refused naming its owner, not as a bare "permission denied".
 */
START_TEST(test_foreign_lock_file_unreadable)
{
	procmgr *h;
	int fds[2], r = 0;
	pid_t child;

	if (geteuid() != 0)
		tu_skip("needs root to act as two other users");
	h = tu_open(dir, "web");
	ck_assert_int_eq(chmod(dir, 01777), 0);
	tu_write_file(procmgr_lock_path(h), "", 0);
	ck_assert_int_eq(chown(procmgr_lock_path(h), 65534, 65534), 0);
	ck_assert_int_eq(pipe2(fds, O_CLOEXEC), 0);
	child = tu_fork(lock_as_other, &fds[1]);
	close(fds[1]);
	ck_assert_int_eq(read(fds[0], &r, sizeof(r)), sizeof(r));
	ck_assert_int_eq(r, -EACCES);
	tu_wait_gone(child, 10);	/* let it write its coverage */
	close(fds[0]);
	procmgr_free(h);
}
END_TEST

static char *python_try(procmgr *h, const char *result)
{
	pid_t py = python(py_try, procmgr_lock_path(h), result);
	char *r;

	ck_assert(tu_wait_path(result, 20));
	r = tu_read_file(result);
	tu_wait_gone(py, 10);
	unlink(result);
	return r;
}

START_TEST(test_we_block_pants_lockf)
{
	procmgr *h = tu_open(dir, "web");
	char *result = pm_asprintf("%s/py.result", dir), *r;

	ck_assert_int_eq(procmgr_lock(h), 0);
	r = python_try(h, result);
	ck_assert_str_eq(r, "blocked");
	free(r);
	ck_assert_int_eq(procmgr_unlock(h), 0);
	r = python_try(h, result);
	ck_assert_str_eq(r, "acquired");
	free(r);
	free(result);
	procmgr_free(h);
}
END_TEST

/* A message file left by a dead holder is overwritten, never reported. */
START_TEST(test_stale_message)
{
	procmgr *h = tu_open(dir, "web");
	struct seen s = { 0 };
	char *stale, *msg, *want;

	ck_assert_int_eq(procmgr_lock(h), 0);
	ck_assert_int_eq(procmgr_unlock(h), 0);
	stale = pm_asprintf("%d (dead holder)", (int)tu_dead_pid());
	tu_write_file(tu_lock_msg_path(h), stale, strlen(stale));
	procmgr_set_lock_wait(h, 0, on_wait, &s);
	ck_assert_int_eq(procmgr_lock(h), 0);
	ck_assert_int_eq(s.calls, 0);
	msg = tu_read_file(tu_lock_msg_path(h));
	want = expected_message(getpid());
	ck_assert_str_eq(msg, want);
	ck_assert_int_eq(procmgr_unlock(h), 0);
	ck_assert(!tu_exists(tu_lock_msg_path(h)));
	free(msg);
	free(want);
	free(stale);
	procmgr_free(h);
}
END_TEST

/* Counted: only the last unlock releases (test_reentry's release half). */
START_TEST(test_reentry_and_handles)
{
	procmgr *a = tu_open(dir, "web"), *b = tu_open(dir, "WEB");

	procmgr_set_lock_wait(b, 0, NULL, NULL);
	ck_assert_int_eq(procmgr_lock(a), 0);
	ck_assert_int_eq(procmgr_lock(a), 0);
	ck_assert_int_eq(procmgr_lock_held(a), 1);
	/* OFD locks: two handles in one process exclude each other */
	ck_assert_int_eq(procmgr_lock(b), -EWOULDBLOCK);
	ck_assert_int_eq(procmgr_unlock(a), 0);
	ck_assert_int_eq(procmgr_lock_held(a), 1);
	ck_assert_int_eq(procmgr_lock(b), -EWOULDBLOCK);
	ck_assert(tu_exists(a->lock_msg_path));
	ck_assert_int_eq(procmgr_unlock(a), 0);
	ck_assert_int_eq(procmgr_lock_held(a), 0);
	ck_assert(!tu_exists(a->lock_msg_path));
	ck_assert(tu_exists(a->lock_path));	/* never deleted */
	ck_assert_int_eq(procmgr_unlock(a), -ENOLCK);
	ck_assert_int_eq(procmgr_lock(b), 0);
	ck_assert_int_eq(procmgr_lock_held(NULL), 0);
	procmgr_free(b);	/* releases */
	ck_assert_int_eq(procmgr_lock(a), 0);
	procmgr_free(a);
}
END_TEST

START_TEST(test_bad_lock_file)
{
	procmgr *h = tu_open(dir, "web"), *u = procmgr_new();
	char *p = pm_asprintf("%s/.lock.web", dir);

	ck_assert_int_eq(procmgr_lock(u), -EINVAL);
	procmgr_free(u);
	ck_assert_int_eq(mkdir(p, 0700), 0);
	ck_assert_int_lt(procmgr_lock(h), 0);
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h), p));
	ck_assert_int_eq(rmdir(p), 0);
	ck_assert_int_eq(symlink("/etc/passwd", p), 0);
	ck_assert_int_eq(procmgr_lock(h), -ELOOP);
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h), "symlink"));
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h), "remove it"));
	ck_assert_int_eq(unlink(p), 0);
	ck_assert_int_eq(mkfifo(p, 0600), 0);
	/* not -EINVAL: nothing the caller passed was wrong (CLI exit 1, not 2) */
	ck_assert_int_eq(procmgr_lock(h), -EBADFD);
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h), "not a regular"));
	free(p);
	procmgr_free(h);
}
END_TEST

/*
 * A lock message that cannot be written (its name is taken by a non-empty
 * directory) does not stop the lock from being taken: stop and purge must
 * work on a full disk. A waiter then sees no message.
 */
START_TEST(test_message_unwritable)
{
	procmgr *h = tu_open(dir, "web"), *other = tu_open(dir, "web");
	char *m = pm_asprintf("%s/.lock.web.lock_message", dir);
	char *f = pm_asprintf("%s/junk", m);

	ck_assert_int_eq(mkdir(m, 0700), 0);
	tu_write_file(f, "x", 1);
	ck_assert_int_eq(procmgr_lock(h), 0);
	procmgr_set_lock_wait(other, 0, NULL, NULL);
	ck_assert_int_eq(procmgr_lock(other), -EWOULDBLOCK);
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(other),
				     "no lock message"));
	ck_assert_int_eq(procmgr_unlock(h), 0);
	ck_assert_int_eq(procmgr_lock(other), 0);
	ck_assert_int_eq(procmgr_unlock(other), 0);
	free(f);
	free(m);
	procmgr_free(other);
	procmgr_free(h);
}
END_TEST

/* DIR swapped for a symlink after the open: no lock file lands there. */
START_TEST(test_symlinked_dir_after_open)
{
	char *base = pm_asprintf("%s/base", dir);
	char *moved = pm_asprintf("%s/moved", dir), *p;
	procmgr *h;

	ck_assert_int_eq(mkdir(base, 0700), 0);
	h = tu_open(base, "web");
	ck_assert_int_eq(rename(base, moved), 0);
	ck_assert_int_eq(symlink(moved, base), 0);
	ck_assert_int_eq(procmgr_lock(h), -ELOOP);
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h), base));
	ck_assert_int_eq(procmgr_lock_held(h), 0);
	p = pm_asprintf("%s/.lock.web", moved);
	ck_assert(!tu_exists(p));
	free(p);
	free(moved);
	free(base);
	procmgr_free(h);
}
END_TEST

START_TEST(test_null_handle)
{
	procmgr_set_lock_wait(NULL, 0, NULL, NULL);
	ck_assert_int_eq(procmgr_lock(NULL), -EINVAL);
	ck_assert_int_eq(procmgr_unlock(NULL), -EINVAL);
	ck_assert_int_eq(procmgr_lock_held(NULL), 0);
	ck_assert_int_eq(procmgr_purge(NULL, false), -EINVAL);
}
END_TEST

/* A waiter reads the holder's pid off the front of its message. */
START_TEST(test_message_pid)
{
	static const char *bad[] = {
		"", "   ", "(pants) 4242", "x4242 (y)", "1 (init?)", "0 (x)",
		"123456789012 (too long)", "99999999999 (past INT_MAX)",
		"-4242 (x)", "+4242 (x)",
	};
	pid_t pid = 0;

	ck_assert_int_eq(pm_lock_message_pid("4242 (pants run)", &pid), 0);
	ck_assert_int_eq(pid, 4242);
	ck_assert_int_eq(pm_lock_message_pid(" \n\t77(x)", &pid), 0);
	ck_assert_int_eq(pid, 77);
	ck_assert_int_eq(pm_lock_message_pid("2147483647", &pid), 0);
	ck_assert_int_eq(pid, 2147483647);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		pid = 0;
		ck_assert_msg(pm_lock_message_pid(bad[i], &pid) == -EBADMSG,
			      "'%s' gave a pid", bad[i]);
		ck_assert_int_eq(pid, 0);
	}
}
END_TEST

/* Write text into the /proc file path; whether it worked. */
static bool write_proc(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	bool ok = fd >= 0 && write(fd, text, strlen(text)) ==
				     (ssize_t)strlen(text);

	if (fd >= 0)
		close(fd);
	return ok;
}

/*
 * Enter a user namespace of our own (root mapped to root) and set one of
 * its inotify limits, /proc/sys/user/max_inotify_{instances,watches}, to
 * 0: the kernel then refuses us what a user who ran out would be refused.
 */
static bool no_inotify(const char *limit)
{
	char path[128];

	snprintf(path, sizeof(path), "/proc/sys/user/max_inotify_%s", limit);
	return unshare(CLONE_NEWUSER) == 0 &&
	       write_proc("/proc/self/setgroups", "deny") &&
	       write_proc("/proc/self/uid_map", "0 0 1") &&
	       write_proc("/proc/self/gid_map", "0 0 1") &&
	       write_proc(path, "0");
}

/*
 * A wait longer than the first 0.2 s, with the kernel refusing inotify
 * (no instance, or no watch, left): the waiter reads the message again on
 * a timer, and so still reports the holder that took over late.
 */
START_TEST(test_long_wait_without_inotify)
{
	static const char *const limit[] = { "instances", "watches" };
	procmgr *h;
	struct seen s = { 0 };
	struct holder x;
	char *want;
	double t;

	if (geteuid() != 0)
		tu_skip("needs root to map root into a user namespace");
	h = tu_open(dir, "web");
	holder_start(&x);
	if (!no_inotify(limit[_i]))
		tu_skip("cannot limit inotify %s in a user namespace",
			limit[_i]);
	s.x = &x;
	s.on_first = 'D';
	s.on_second = 'r';
	procmgr_set_lock_wait(h, 60, on_wait, &s);
	t = tu_now();
	ck_assert_msg(procmgr_lock(h) == 0, "%s", procmgr_errmsg(h));
	/* the new message comes after 0.5 s, and is read within a second */
	ck_assert_double_lt(tu_now() - t, 20);
	ck_assert_int_eq(s.calls, 2);
	want = pm_asprintf("%d (new holder)", (int)x.pid);
	ck_assert_str_eq(s.msg[1], want);
	free(want);
	ck_assert_int_eq(procmgr_unlock(h), 0);
	procmgr_free(h);
}
END_TEST

/*
 * Out of file descriptors, a lock wait fails with EMFILE whatever step
 * needed the one missing: the directory, the lock file or the eventfd
 * the wait needs. It never hangs, holds nothing and leaks no fd. With
 * enough, the same call waits and times out as usual.
 */
START_TEST(test_lock_out_of_fds)
{
	procmgr *h = tu_open(dir, "web");
	struct rlimit rl = { 64, 64 };
	bool eventfd_failed = false;
	struct holder x;
	int before, r, fill[64], n = 0;

	holder_start(&x);
	procmgr_set_lock_wait(h, 0.3, NULL, NULL);
	/*
	 * No wait before this one: glibc loads libgcc_s at a process's
	 * first pthread_cancel() and aborts if it cannot open it (no fd
	 * left), unless the library brought it in at start (-lgcc_s).
	 */
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	while (n < 64 && (fill[n] = dup(0)) >= 0)
		n++;
	ck_assert_int_eq(errno, EMFILE);
	before = tu_count_fds();
	/* free one more fd each round, until the wait itself can begin */
	for (r = -EMFILE; r == -EMFILE;) {
		ck_assert_int_gt(n, 0);
		close(fill[--n]);
		before--;
		r = procmgr_lock(h);
		ck_assert_int_eq(procmgr_lock_held(h), 0);
		ck_assert_int_eq(tu_count_fds(), before);
		if (r == -EMFILE && strstr(procmgr_errmsg(h), "cannot lock "))
			eventfd_failed = true;
	}
	ck_assert_msg(r == -EWOULDBLOCK, "%d: %s", r, procmgr_errmsg(h));
	ck_assert(eventfd_failed);
	while (n > 0)
		close(fill[--n]);
	procmgr_free(h);
}
END_TEST

/*
 * When the wait's helper thread cannot be started (the user is at its
 * process limit), the lock call fails at once saying why, rather than
 * waiting blind.
 */
START_TEST(test_lock_wait_without_thread)
{
	struct rlimit rl, was;
	procmgr *h;
	struct holder x;
	double t;

	if (getuid() != 0)
		tu_skip("needs root to become a lone uid");
	h = tu_open(dir, "web");
	holder_start(&x);
	tu_become_lone_uid(54331);
	ck_assert_int_eq(getrlimit(RLIMIT_NPROC, &was), 0);
	rl = was;
	rl.rlim_cur = 1;	/* this process alone: no thread more */
	ck_assert_int_eq(setrlimit(RLIMIT_NPROC, &rl), 0);
	procmgr_set_lock_wait(h, 60, NULL, NULL);
	t = tu_now();
	ck_assert_int_eq(procmgr_lock(h), -EAGAIN);
	ck_assert_double_lt(tu_now() - t, 10);
	/* back: LeakSanitizer needs a thread of its own at exit */
	ck_assert_int_eq(setrlimit(RLIMIT_NPROC, &was), 0);
	ck_assert_int_eq(procmgr_lock_held(h), 0);
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h), "cannot lock "));
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h), procmgr_lock_path(h)));
	holder_send(&x, 'r');
	ck_assert_int_eq(holder_ack(&x), 'r');
	ck_assert_int_eq(procmgr_lock(h), 0);
	procmgr_free(h);
	/* root's holder is not ours to kill any more: it ends at EOF */
	close(x.cmd[1]);
	ck_assert_int_eq(tu_child_status(x.pid), 0);
}
END_TEST

/* Report on the pipe *arg what procmgr_lock() gave, and its message. */
struct denied {
	int fd[2];
	bool inherit;	/* lock once, hand it on to a second handle */
};

static void lock_denied_as_other(void *arg)
{
	struct denied *d = arg;
	char out[600] = "";
	procmgr *a = NULL, *b = NULL;
	char *env = NULL;
	int r = -1000, fd;

	if (!tu_become_other())
		goto out;
	b = procmgr_new();
	if (!b || procmgr_open(b, dir, "web") < 0)
		goto out;
	if (d->inherit) {
		/* hold it; then the lock file loses its read bit */
		a = procmgr_new();
		if (!a || procmgr_open(a, dir, "web") < 0 ||
		    procmgr_lock(a) < 0 ||
		    procmgr_lock_child_env(a, &fd, &env) < 0 ||
		    putenv(env) != 0 || chmod(a->lock_path, 0200) < 0)
			goto out;
	}
	r = procmgr_lock(b);
	snprintf(out, sizeof(out), "%d %s", r, procmgr_errmsg(b));
out:
	if (write(d->fd[1], out, sizeof(out)) != sizeof(out))
		_exit(1);
	procmgr_free(b);
	procmgr_free(a);
	tu_other_done();
}

static char *lock_denied(bool inherit)
{
	struct denied d = { .inherit = inherit };
	char *out = calloc(1, 600);
	pid_t child;

	ck_assert_int_eq(pipe2(d.fd, O_CLOEXEC), 0);
	child = tu_fork(lock_denied_as_other, &d);
	close(d.fd[1]);
	ck_assert_int_eq(read(d.fd[0], out, 600), 600);
	close(d.fd[0]);
	tu_wait_gone(child, 10);
	return out;
}

/*
 * A lock file of ours that we may not open (its mode lost the read bit),
 * or a DIR of ours where it cannot be created, is an error naming which:
 * EACCES, never a bare failure. An inherited lock on such a file cannot
 * be checked to be the lock's, so it is not adopted either.
 */
START_TEST(test_lock_file_denied)
{
	char *lock = pm_asprintf("%s/.lock.web", dir), *out, *want;

	if (geteuid() != 0)
		tu_skip("needs root to act as another user");
	ck_assert_int_eq(chown(dir, 65533, 65533), 0);
	tu_write_file(lock, "", 0);
	ck_assert_int_eq(chown(lock, 65533, 65533), 0);
	ck_assert_int_eq(chmod(lock, 0200), 0);
	want = pm_asprintf("-13 cannot open lock file %s: ", lock);
	out = lock_denied(false);
	ck_assert_msg(!strncmp(out, want, strlen(want)), "%s", out);
	free(out);
	ck_assert_int_eq(unlink(lock), 0);
	out = lock_denied(true);
	ck_assert_msg(!strncmp(out, want, strlen(want)), "%s", out);
	free(out);
	free(want);
	ck_assert_int_eq(unlink(lock), 0);
	ck_assert_int_eq(chmod(dir, 0500), 0);
	want = pm_asprintf("-13 cannot open directory %s: ", dir);
	out = lock_denied(false);
	ck_assert_int_eq(chmod(dir, 0700), 0);
	ck_assert_msg(!strncmp(out, want, strlen(want)), "%s", out);
	ck_assert(!tu_exists(lock));
	free(out);
	free(want);
	free(lock);
}
END_TEST

/*
 * The shared lock that clients ensuring one NAME wait for together: many
 * hold it at once, none while someone holds the lock, and it is not taken
 * at all by a handle that holds the lock or runs under an inherited one.
 */
START_TEST(test_shared_lock)
{
	procmgr *a = tu_open(dir, "web"), *b = tu_open(dir, "web");
	procmgr *w = tu_open(dir, "web");
	char *lock = pm_asprintf("%s/.lock.web", dir);
	int fa = -1, fb = -1;

	procmgr_set_lock_wait(w, 0, NULL, NULL);
	ck_assert_int_eq(pm_lock_shared(a, &fa), 1);
	ck_assert_int_eq(pm_lock_shared(b, &fb), 1);
	ck_assert_int_eq(procmgr_lock(w), -EWOULDBLOCK);
	close(fa);
	ck_assert_int_eq(procmgr_lock(w), -EWOULDBLOCK);
	close(fb);
	ck_assert_int_eq(procmgr_lock(w), 0);
	/* held: shared is not taken, not waited for */
	fa = -1;
	ck_assert_int_eq(pm_lock_shared(w, &fa), 0);
	ck_assert_int_eq(fa, -1);
	procmgr_set_lock_wait(a, 0, NULL, NULL);
	ck_assert_int_eq(pm_lock_shared(a, &fa), -EWOULDBLOCK);
	ck_assert_int_eq(procmgr_unlock(w), 0);
	ck_assert_int_eq(setenv(PROCMGR_LOCK_ENV, "9:/elsewhere", 1), 0);
	ck_assert_int_eq(pm_lock_shared(a, &fa), 0);
	ck_assert_int_eq(unsetenv(PROCMGR_LOCK_ENV), 0);
	ck_assert_int_eq(fa, -1);
	/* a lock file that is a symlink is refused, shared or not */
	ck_assert_int_eq(unlink(lock), 0);
	ck_assert_int_eq(symlink("/etc/passwd", lock), 0);
	ck_assert_int_eq(pm_lock_shared(a, &fa), -ELOOP);
	ck_assert_int_eq(fa, -1);
	free(lock);
	procmgr_free(w);
	procmgr_free(b);
	procmgr_free(a);
}
END_TEST

/* DIR swapped for a symlink: no shared lock either. */
START_TEST(test_shared_lock_symlinked_dir)
{
	char *base = pm_asprintf("%s/base", dir);
	char *moved = pm_asprintf("%s/moved", dir);
	procmgr *h;
	int fd = -1;

	ck_assert_int_eq(mkdir(base, 0700), 0);
	h = tu_open(base, "web");
	ck_assert_int_eq(rename(base, moved), 0);
	ck_assert_int_eq(symlink(moved, base), 0);
	ck_assert_int_eq(pm_lock_shared(h, &fd), -ELOOP);
	ck_assert_int_eq(fd, -1);
	free(moved);
	free(base);
	procmgr_free(h);
}
END_TEST

static Suite *lock_suite(void)
{
	Suite *s = suite_create("lock");
	TCase *tc = tcase_create("lock");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_non_blocking_attempt);
	tcase_add_test(tc, test_blocking_release_wakes);
	tcase_add_test(tc, test_killed_holder);
	tcase_add_test(tc, test_timeout);
	tcase_add_test(tc, test_holder_change_reprints);
	tcase_add_test(tc, test_wait_without_inotify);
	tcase_add_test(tc, test_lock_inherited);
	tcase_add_test(tc, test_pants_lockf_holder_blocks_us);
	tcase_add_test(tc, test_foreign_message_ignored);
	tcase_add_test(tc, test_foreign_lock_file_unreadable);
	tcase_add_test(tc, test_we_block_pants_lockf);
	tcase_add_test(tc, test_stale_message);
	tcase_add_test(tc, test_reentry_and_handles);
	tcase_add_test(tc, test_bad_lock_file);
	tcase_add_test(tc, test_message_unwritable);
	tcase_add_test(tc, test_symlinked_dir_after_open);
	tcase_add_test(tc, test_null_handle);
	tcase_add_test(tc, test_message_pid);
	tcase_add_loop_test(tc, test_long_wait_without_inotify, 0, 2);
	tcase_add_test(tc, test_lock_out_of_fds);
	tcase_add_test(tc, test_lock_wait_without_thread);
	tcase_add_test(tc, test_lock_file_denied);
	tcase_add_test(tc, test_shared_lock);
	tcase_add_test(tc, test_shared_lock_symlinked_dir);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(lock_suite());
}
