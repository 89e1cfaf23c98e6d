/*
 * launch.c - one run of the daemon: fork, record, exec.
 *
 * The child waits at a gate (a socketpair) just before execve until its
 * metadata is recorded: its pid and start time are fixed at fork, so they
 * can be written first, with pid last, and a daemon that calls
 * procmgr_self_check() as its first act already finds itself named.
 * Whether the exec worked comes back on a close-on-exec pipe (git's
 * run-command.c and libuv do the same): EOF means it did, a (step, errno)
 * message says where it failed.
 *
 * We are a small single-threaded program of our own, so the child may do
 * what it likes before exec; it still keeps to plain system calls.
 */
#include "monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

struct exec_msg {
	int step;
	int err;
};

/* The fds and environment of one launch. */
struct launch {
	char **envp;
	char *wd_pid;		/* the WATCHDOG_PID= entry, filled in the child */
	int exec_r, exec_w;
	int gate_r, gate_w;
	int ready_r, ready_w;
};

static void fail(int fd, int step, int err) __attribute__((noreturn));
static void fail(int fd, int step, int err)
{
	struct exec_msg msg = { step, err };

	while (write(fd, &msg, sizeof(msg)) < 0 && errno == EINTR)
		;
	MON_EXIT(127);
}

/*
 * glibc refuses to touch the signals it reserves (32, 33), but an ignored
 * one survives exec: ask the kernel directly. An all-zero kernel sigaction
 * is SIG_DFL, no flags, empty mask, whatever the architecture's layout.
 */
static void reset_signals(void)
{
	static const unsigned long zero[8];
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigset_t none;

	for (int s = 1; s < NSIG; s++)
		if (sigaction(s, &dfl, NULL) < 0 && errno == EINVAL)
			syscall(SYS_rt_sigaction, s, zero, NULL,
				(size_t)NSIG / 8);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* fd itself, or a copy above n when it is n (n is fd:N's number). */
static int out_of_way(int fd, int n)
{
	return fd == n ? fcntl(fd, F_DUPFD_CLOEXEC, n + 1) : fd;
}

static void daemon_child(struct mon *m, struct launch *l)
{
	int w = l->exec_w, gate = l->gate_r, n = m->job.ready.fd;
	ssize_t got;
	char c = 0;

	reset_signals();
	/* The monitor's end of the gate: our copy would hide its EOF. */
	close(l->gate_w);
	if (l->wd_pid)
		snprintf(l->wd_pid, 32, "WATCHDOG_PID=%d", (int)getpid());
	if (l->ready_w >= 0) {
		w = out_of_way(w, n);
		gate = out_of_way(gate, n);
		if (w < 0 || gate < 0)
			fail(w < 0 ? l->exec_w : w, PM_STEP_STDIO, errno);
	}
	/* Our fd 0 is /dev/null already (the starter saw to it). */
	if (dup2(m->log, 1) < 0 || dup2(m->log, 2) < 0)
		fail(w, PM_STEP_STDIO, errno);
	/* Everything above stdio closes at exec; only fd N survives it. */
	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		fail(w, PM_STEP_STDIO, errno);
	if (l->ready_w >= 0 && (l->ready_w == n ? fcntl(n, F_SETFD, 0) :
				dup2(l->ready_w, n)) < 0)
		fail(w, PM_STEP_STDIO, errno);
	umask(022);
	if (chdir(m->job.cwd) < 0)
		fail(w, PM_STEP_CHDIR, errno);
	/* No byte: the monitor could not record us; never run unrecorded. */
	do
		got = read(gate, &c, 1);
	while (got < 0 && errno == EINTR);
	if (got != 1 || c != 'g')
		MON_EXIT(127);
	MON_GCOV_DUMP();	/* exec discards the counters otherwise */
	execve(m->job.exe, m->job.argv, l->envp);
	fail(w, PM_STEP_EXEC, errno);
}

static int add_env(char **envp, size_t *n, char *s)
{
	if (!s)
		return -ENOMEM;
	envp[(*n)++] = s;
	return 0;
}

/* The job's environment plus NOTIFY_SOCKET and the watchdog's variables. */
static int build_env(struct mon *m, struct launch *l)
{
	size_t n = 0;
	int r = 0;

	l->envp = calloc(m->job.n_envp + 4, sizeof(char *));
	if (!l->envp)
		return -ENOMEM;
	for (size_t i = 0; i < m->job.n_envp && r == 0; i++)
		r = add_env(l->envp, &n, strdup(m->job.envp[i]));
	if (r == 0)
		r = add_env(l->envp, &n, pm_asprintf("NOTIFY_SOCKET=%s",
						     m->notify_addr));
	if (r == 0 && m->job.watchdog > 0)
		r = add_env(l->envp, &n, pm_asprintf("WATCHDOG_USEC=%llu",
			(unsigned long long)(m->job.watchdog * 1e6)));
	if (r == 0 && m->job.watchdog > 0) {
		l->wd_pid = calloc(1, 32);
		r = add_env(l->envp, &n, l->wd_pid);
	}
	return r;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void launch_clear(struct launch *l)
{
	procmgr_strv_free(l->envp);
	close_fd(&l->exec_r);
	close_fd(&l->exec_w);
	close_fd(&l->gate_r);
	close_fd(&l->gate_w);
	close_fd(&l->ready_r);
	close_fd(&l->ready_w);
}

static int prepare(struct mon *m, struct launch *l)
{
	int r;

	r = build_env(m, l);
	if (r < 0)
		return r;
	r = pm_make_pipe(NULL, &l->exec_r, &l->exec_w);
	if (r >= 0)
		r = pm_make_socketpair(NULL, SOCK_STREAM, &l->gate_r,
				       &l->gate_w);
	if (r >= 0 && m->job.ready.kind == PROCMGR_READY_FD)
		r = pm_make_pipe(NULL, &l->ready_r, &l->ready_w);
	return r;
}

int mon_key(struct mon *m, const char *key, const char *value)
{
	int fd, r;

	/* Never create it: a stop or purge may have removed it. */
	r = pm_open_meta(m->h, false, &fd);
	if (r < 0)
		return r;
	r = pm_write_atomic_at(fd, key, value, strlen(value), 0644);
	close(fd);
	return r;
}

int mon_meta_if_ours(struct mon *m, pid_t pid)
{
	char *v = NULL, *mon = NULL;
	pid_t recorded;
	size_t len;
	int fd;
	bool ours;

	if (pm_open_meta(m->h, false, &fd) < 0)
		return -1;
	ours = pm_read_at(fd, "pid", 64, &v, &len) == 0 &&
	       pm_parse_pid_len(v, len, &recorded) == 0 && recorded == pid &&
	       pm_read_at(fd, "monitor", 256, &mon, NULL) == 0 &&
	       !strcmp(pm_strip(mon), m->self_id);
	free(v);
	free(mon);
	if (!ours) {
		close(fd);
		return -1;
	}
	return fd;
}

bool mon_owns_name(struct mon *m, pid_t pid)
{
	int fd = mon_meta_if_ours(m, pid);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

int mon_record_main(struct mon *m, pid_t pid)
{
	char *id = NULL, text[16];
	int fd, r = procmgr_proc_identity(pid, &id);

	if (r < 0)
		return r;
	r = pm_open_meta(m->h, false, &fd);
	if (r >= 0) {
		r = pm_write_atomic_at(fd, "start_time", id, strlen(id), 0644);
		if (r >= 0)
			r = pm_put_pidfd_ino(fd, pid);
		snprintf(text, sizeof(text), "%d", (int)pid);
		if (r >= 0)
			r = pm_write_atomic_at(fd, "pid", text, strlen(text),
					       0644);
		close(fd);
	}
	free(id);
	return r;
}

static int put(int fd, const char *key, const char *value, size_t len)
{
	return pm_write_atomic_at(fd, key, value, len, 0644);
}

static int put_str(int fd, const char *key, const char *value)
{
	return value ? put(fd, key, value, strlen(value)) : 0;
}

/* argv as /proc/PID/cmdline holds it: each argument NUL-terminated. */
static int put_cmdline(int fd, char **argv)
{
	size_t len = 0, off = 0;
	char *buf;
	int r;

	for (char **a = argv; *a; a++)
		len += strlen(*a) + 1;
	buf = malloc(len + 1);
	if (!buf)
		return -ENOMEM;
	for (char **a = argv; *a; a++) {
		memcpy(buf + off, *a, strlen(*a) + 1);
		off += strlen(*a) + 1;
	}
	r = put(fd, "cmdline", buf, len);
	free(buf);
	return r;
}

/*
 * What the monitor was asked to do, for status; NULL when nothing. The
 * limit in effect, not 0 for "the default".
 */
static char *supervision_text(const struct mon *m)
{
	const struct pm_job *j = &m->job;

	if (!j->restart && j->idle_timeout <= 0 && j->watchdog <= 0 &&
	    !j->pid_file)
		return NULL;
	return pm_asprintf("restart=%s restart_limit=%d idle_timeout=%g "
			   "watchdog=%g", procmgr_restart_name(j->restart),
			   mon_restart_limit(m), j->idle_timeout, j->watchdog);
}

/* This run's identity keys and the job's, pid last. */
static int record(struct mon *m, pid_t pid)
{
	char *id = NULL, *sup = supervision_text(m);
	char num[32];
	int fd, r;

	r = pm_open_meta(m->h, m->first, &fd);
	if (r < 0)
		goto out;
	unlinkat(fd, "ready", 0);
	unlinkat(fd, "stopping", 0);
	r = procmgr_proc_identity(pid, &id);
	if (r >= 0)
		r = put_str(fd, "start_time", id);
	/* pidfs: tells apart a pid reused within the daemon's start tick */
	if (r >= 0)
		r = pm_put_pidfd_ino(fd, pid);
	if (r >= 0)
		r = put_str(fd, "fingerprint", m->job.fingerprint);
	if (r >= 0)
		r = put_str(fd, "fingerprint_inputs", m->job.inputs);
	if (r >= 0)
		r = put_cmdline(fd, m->job.argv);
	if (r >= 0)
		r = put_str(fd, "log", m->job.log_path);
	if (r >= 0)
		r = put_str(fd, "process_name", m->job.process_name);
	if (r >= 0)
		r = put_str(fd, "monitor", m->self_id);
	if (r >= 0)
		r = put_str(fd, "notify_socket", m->notify_addr);
	if (r >= 0)
		r = put_str(fd, "supervision", sup);
	snprintf(num, sizeof(num), "%u", m->restarts);
	if (r >= 0 && m->restarts)
		r = put_str(fd, "restarts", num);
	snprintf(num, sizeof(num), "%d", (int)pid);
	if (r >= 0)
		r = put_str(fd, "pid", num);
	close(fd);
out:
	free(id);
	free(sup);
	return r;
}

/* Let the child exec (go) or make it exit; then how its exec went. */
static int release(struct launch *l, bool go, struct exec_msg *ret)
{
	ssize_t n;

	if (go)
		send(l->gate_w, "g", 1, MSG_NOSIGNAL);
	close_fd(&l->gate_w);
	if (!go)
		return 0;
	do
		n = read(l->exec_r, ret, sizeof(*ret));
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(*ret) ? -ret->err : 0;
}

static void reap(pid_t pid)
{
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

/* The first run failed before the daemon ran: tell the starter, end. */
static void first_failed(struct mon *m, pid_t pid, int step, int err)
{
	struct pm_result res = { .kind = PM_RES_EXEC_FAILED, .pid = pid,
				 .step = step, .err = err };

	pm_meta_remove_if(m->h, pid);
	pm_event(m->log, "cannot start %s: %s", m->job.exe, strerror(err));
	reap(pid);
	mon_answer(m, &res);
	m->done = true;
	m->exit_code = 1;
}

/* arm: wait for its readiness; not for a run whose exec failed. */
static void started(struct mon *m, struct launch *l, pid_t pid, bool arm)
{
	m->child = pid;
	pm_pref_close(&m->main);
	if (pm_pref_open(pid, 0, &m->main) < 0)
		m->main = (struct pm_pref){ .pid = pid, .fd = -1 };
	close_fd(&m->ready_r);
	m->ready_r = l->ready_r;
	l->ready_r = -1;
	m->phase = PH_STARTING;
	m->ending = NULL;
	if (arm)
		mon_ready_arm(m);
}

int mon_launch(struct mon *m, const char *reason)
{
	struct launch l = { .exec_r = -1, .exec_w = -1, .gate_r = -1,
			    .gate_w = -1, .ready_r = -1, .ready_w = -1 };
	struct exec_msg msg = { 0 };
	pid_t pid;
	int r;

	r = prepare(m, &l);
	pid = r < 0 ? -1 : fork();
	if (pid == 0)
		daemon_child(m, &l);
	if (pid < 0) {
		r = r < 0 ? r : -errno;
		mon_answer_error(m, -r, "cannot start %s: %s", m->job.exe,
				 strerror(-r));
		launch_clear(&l);
		m->done = true;
		return r;
	}
	close_fd(&l.exec_w);
	close_fd(&l.gate_r);
	close_fd(&l.ready_w);
	/*
	 * The starter hears the pid before we record it: were we killed
	 * while recording, it can still tell whether the daemon runs on
	 * (recorded, past the gate) or not (it never passes the gate).
	 */
	if (m->first && m->ctl >= 0) {
		struct pm_result res = { .kind = PM_RES_STARTED, .pid = pid };

		send(m->ctl, &res, sizeof(res), MSG_NOSIGNAL);
	}
	m->t_start = mon_now();
	m->log_offset = pm_event(m->log, "started pid %d (%s)", (int)pid,
				 reason);
	r = record(m, pid);
	if (r == -ESRCH) {
		/*
		 * It failed before the gate (bad cwd, fd N): the pipe says.
		 * The keys written so far go too; pid, written last, is not
		 * among them.
		 */
		pm_meta_remove_if(m->h, 0);
		release(&l, true, &msg);
		msg.err = msg.err > 0 ? msg.err : ECHILD;
		msg.step = msg.step > 0 ? msg.step : PM_STEP_STDIO;
		first_failed(m, pid, msg.step, msg.err);
	} else if (r < 0) {
		release(&l, false, &msg);
		pm_meta_remove_if(m->h, 0);
		reap(pid);
		mon_answer_error(m, -r, "cannot record %s's metadata in %s: "
				 "%s", m->h->name, m->h->meta_dir,
				 strerror(-r));
		m->done = true;
	} else if (release(&l, true, &msg) < 0 && m->first) {
		first_failed(m, pid, msg.step, msg.err);
		r = -msg.err;
	} else if (msg.err) {
		/*
		 * A restart's failed exec ends as exit 127, like a crash; it
		 * never ran, so it is never ready. Say why.
		 */
		pm_event(m->log, "cannot start %s: %s", m->job.exe,
			 strerror(msg.err));
		started(m, &l, pid, false);
		r = 0;
	} else {
		started(m, &l, pid, true);
		r = 0;
	}
	launch_clear(&l);
	return r;
}
