/*
 * spawn.c - the fork chain that starts a daemon.
 *
 *	caller --fork--> intermediate: setsid(), fork, _exit(0)
 *	                   `--fork--> monitor (in the new session)
 *	                                `--fork--> daemon: exec
 *
 * The intermediate exits at once, so the caller reaps it immediately and a
 * long-lived library user is left with no zombie and no child. The monitor
 * and the daemon share the new session; neither is its leader, so neither
 * can acquire a controlling terminal by opening one.
 *
 * Whether the exec worked travels back on a close-on-exec pipe (git's
 * run-command.c and libuv do the same): a successful exec closes the
 * daemon's end, so the caller reads EOF; a failure writes (step, errno)
 * first. The monitor sends the daemon's pid, and later its exit status, on
 * a second pipe (see monitor.c).
 *
 * The daemon waits at a gate (a third pipe) just before execve until the
 * caller has recorded its metadata: its pid and start time are fixed at
 * fork, so they can be written first, and a daemon that checks
 * procmgr_self_check() as its first act already finds itself named. A
 * caller that dies or fails to record closes the gate without a byte and
 * the daemon exits instead of running unrecorded.
 *
 * Everything the children need (the resolved executable, envp, fds) is
 * prepared before the first fork: between fork and exec only
 * async-signal-safe calls are made.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifdef PROCMGR_COVERAGE
extern void __gcov_dump(void);
extern void __gcov_reset(void);
/* Write the counters and start again: a later dump (exec failed) adds. */
#define PM_GCOV_DUMP() (__gcov_dump(), __gcov_reset())
#else
#define PM_GCOV_DUMP() ((void)0)
#endif
/* On one line, so the line of the _exit itself is counted too. */
#define PM_EXIT(code) do { PM_GCOV_DUMP(); _exit(code); } while (0)

struct pm_exec_msg {
	int step;
	int err;
};

int pm_fd_above_stdio(int fd)
{
	int nfd;

	if (fd < 0 || fd > 2)
		return fd;
	nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (nfd < 0)
		return -errno;
	close(fd);
	return nfd;
}

int pm_pair_above_stdio(int p[2])
{
	int a = pm_fd_above_stdio(p[0]), b;

	if (a < 0) {
		close(p[0]);
		close(p[1]);
		return a;
	}
	b = pm_fd_above_stdio(p[1]);
	if (b < 0) {
		close(a);
		close(p[1]);
		return b;
	}
	p[0] = a;
	p[1] = b;
	return 0;
}

static int join_path(const char *dir, const char *name, char **ret)
{
	char cwd[PATH_MAX];
	char *p;

	if (name[0] == '/')
		p = strdup(name);
	else if (dir && dir[0] == '/')
		p = pm_asprintf("%s/%s", dir, name);
	else if (!getcwd(cwd, sizeof(cwd)))
		return -errno;
	else if (dir && dir[0])
		p = pm_asprintf("%s/%s/%s", cwd, dir, name);
	else
		p = pm_asprintf("%s/%s", cwd, name);
	if (!p)
		return -ENOMEM;
	*ret = p;
	return 0;
}

/* The first executable regular file named argv0 in $PATH. */
static int search_path(const char *argv0, char **ret_path)
{
	const char *path = getenv("PATH");
	int r = -ENOENT;

	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (;;) {
		size_t n = strcspn(path, ":");
		char *dir = strndup(path, n);
		char *full = NULL;
		struct stat st;

		if (!dir)
			return -ENOMEM;
		/* An empty entry means the current directory, as in execvp. */
		r = join_path(dir, argv0, &full);
		free(dir);
		if (r < 0)
			return r;
		if (stat(full, &st) == 0 && S_ISREG(st.st_mode) &&
		    access(full, X_OK) == 0) {
			*ret_path = full;
			return 0;
		}
		free(full);
		r = -ENOENT;
		if (!path[n])
			break;
		/* A trailing ':' is one more, empty, entry. */
		path += n + 1;
	}
	return r;
}

int pm_find_exe(procmgr *h, const char *argv0, const char *cwd,
		char **ret_path)
{
	int r;

	if (!argv0 || !*argv0)
		return pm_error(h, EINVAL, "no command given to start");
	/*
	 * A name with a slash is relative to the daemon's cwd, as it would
	 * be for execve() after chdir(); it is not checked here: a missing
	 * or unusable file is the exec failure the pipe reports.
	 */
	if (strchr(argv0, '/'))
		r = join_path(cwd, argv0, ret_path);
	else
		r = search_path(argv0, ret_path);
	if (r < 0)
		return pm_error(h, r, "cannot run %s: %s%s", argv0,
				strerror(-r),
				r == -ENOENT ? " (not found in PATH); check "
				"the name and PATH, or give its path" : "");
	return 0;
}

void pm_spawn_fail(int fd, int step, int err)
{
	struct pm_exec_msg m = { step, err };
	ssize_t n;

	do
		n = write(fd, &m, sizeof(m));
	while (n < 0 && errno == EINTR);
	PM_EXIT(127);
}

static bool gate_open(int fd)
{
	char c;
	ssize_t n;

	do
		n = read(fd, &c, 1);
	while (n < 0 && errno == EINTR);
	return n == 1;
}

/*
 * glibc refuses to touch the signals it reserves (32, 33), but an ignored
 * one survives exec: ask the kernel directly. An all-zero kernel sigaction
 * is SIG_DFL, no flags, empty mask, whatever the architecture's layout.
 */
static void reset_reserved(int sig)
{
	static const unsigned long zero[8];

	syscall(SYS_rt_sigaction, sig, zero, NULL, (size_t)NSIG / 8);
}

/* fd itself, or a copy above n when it is n (n is fd:N's number). */
static int out_of_way(int fd, int n)
{
	return fd == n ? fcntl(fd, F_DUPFD_CLOEXEC, n + 1) : fd;
}

void pm_daemon_exec(const struct pm_spawn *sp)
{
	struct sigaction dfl;
	sigset_t none;
	int w = sp->exec_w, gate = sp->gate_r;

	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	for (int s = 1; s < NSIG; s++)
		if (sigaction(s, &dfl, NULL) < 0 && errno == EINVAL)
			reset_reserved(s);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* Keep the exec pipe and the gate out of fd N's way. */
	if (sp->ready_w >= 0) {
		w = out_of_way(w, sp->ready_n);
		gate = out_of_way(gate, sp->ready_n);
		if (w < 0 || gate < 0)
			pm_spawn_fail(w < 0 ? sp->exec_w : w, PM_STEP_STDIO,
				      errno);
	}
	if (dup2(sp->devnull_fd, 0) < 0 || dup2(sp->log_fd, 1) < 0 ||
	    dup2(sp->log_fd, 2) < 0)
		pm_spawn_fail(w, PM_STEP_STDIO, errno);
	/* Everything above stdio closes at exec; only fd N survives it. */
	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		pm_spawn_fail(w, PM_STEP_STDIO, errno);
	if (sp->ready_w >= 0) {
		int r = sp->ready_w == sp->ready_n ?
			fcntl(sp->ready_n, F_SETFD, 0) :
			dup2(sp->ready_w, sp->ready_n);

		if (r < 0)
			pm_spawn_fail(w, PM_STEP_STDIO, errno);
	}
	umask(022);
	if (sp->cwd && chdir(sp->cwd) < 0)
		pm_spawn_fail(w, PM_STEP_CHDIR, errno);
	if (!gate_open(gate))
		PM_EXIT(127);
	PM_GCOV_DUMP();	/* exec discards the counters otherwise */
	execve(sp->exe, sp->argv, sp->envp);
	pm_spawn_fail(w, PM_STEP_EXEC, errno);
}

static void intermediate(struct pm_spawn *sp) __attribute__((noreturn));
static void intermediate(struct pm_spawn *sp)
{
	pid_t pid;

	/* A fresh child is never a process group leader: this cannot fail. */
	(void)setsid();
	pid = fork();
	if (pid < 0)
		pm_spawn_fail(sp->exec_w, PM_STEP_FORK, errno);
	if (pid == 0)
		pm_monitor_main(sp);
	PM_EXIT(0);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void pm_spawn_clear(struct pm_spawn *sp)
{
	close_fd(&sp->log_fd);
	close_fd(&sp->devnull_fd);
	close_fd(&sp->exec_r);
	close_fd(&sp->exec_w);
	close_fd(&sp->report_r);
	close_fd(&sp->report_w);
	close_fd(&sp->ready_w);
	close_fd(&sp->gate_r);
	close_fd(&sp->gate_w);
}

static ssize_t read_full(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, (char *)buf + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

static int exec_error(procmgr *h, const struct pm_spawn *sp,
		      const struct pm_exec_msg *m)
{
	int err = m->err > 0 ? m->err : EIO;

	switch (m->step) {
	case PM_STEP_CHDIR:
		return pm_error(h, err, "cannot change to directory %s: %s; "
				"check --cwd (it must exist and be searchable)",
				sp->cwd, strerror(err));
	case PM_STEP_EXEC:
		return pm_error(h, err, "cannot execute %s: %s; check the path "
				"(and a script's #! line) and that it is "
				"executable (chmod +x %s)", sp->exe,
				strerror(err), sp->exe);
	default:
		return pm_error(h, err, "cannot start %s (%s): %s; check the "
				"limits on processes and open files "
				"(ulimit -u, ulimit -n)", sp->exe,
				m->step == PM_STEP_FORK ? "fork" :
				"setting up its file descriptors",
				strerror(err));
	}
}

static int read_exec_pipe(procmgr *h, struct pm_spawn *sp)
{
	struct pm_exec_msg m;
	ssize_t n = read_full(sp->exec_r, &m, sizeof(m));

	if (n < 0)
		return pm_error(h, (int)-n, "reading the exec status pipe: %s",
				strerror((int)-n));
	if (n == (ssize_t)sizeof(m))
		return exec_error(h, sp, &m);
	return 0;	/* EOF: exec succeeded */
}

/* After the fork: reap the intermediate, then learn the daemon's pid. */
static int collect(procmgr *h, struct pm_spawn *sp, pid_t mid)
{
	struct pm_report rep;
	ssize_t n;
	int r;

	while (waitpid(mid, NULL, 0) < 0 && errno == EINTR)
		;
	n = read_full(sp->report_r, &rep, sizeof(rep));
	if (n == (ssize_t)sizeof(rep) && rep.kind == PM_REPORT_PID) {
		sp->pid = rep.pid;
		return 0;
	}
	/* No daemon: the chain failed before, and said why on the pipe. */
	r = read_exec_pipe(h, sp);
	return r < 0 ? r : pm_error(h, EIO, "the monitor of %s did not "
				    "report the daemon's pid", sp->exe);
}

int pm_spawn_run(procmgr *h, struct pm_spawn *sp)
{
	pid_t mid;

	mid = fork();
	if (mid < 0)
		return pm_error(h, errno, "cannot fork to start %s: %s",
				sp->exe, strerror(errno));
	if (mid == 0)
		intermediate(sp);
	/* Our copies of the write ends would hide the children's EOF. */
	close_fd(&sp->exec_w);
	close_fd(&sp->report_w);
	close_fd(&sp->ready_w);
	close_fd(&sp->gate_r);
	return collect(h, sp, mid);
}

int pm_spawn_release(procmgr *h, struct pm_spawn *sp, bool go)
{
	int r = 0;

	/*
	 * A socket, not a pipe, so a daemon that already failed (bad cwd)
	 * gives EPIPE without SIGPIPE; the exec pipe then says why.
	 */
	if (go && send(sp->gate_w, "g", 1, MSG_NOSIGNAL) != 1 &&
	    errno != EPIPE && errno != ECONNRESET)
		r = pm_error(h, errno, "cannot release %s (pid %d): %s",
			     sp->exe, (int)sp->pid, strerror(errno));
	close_fd(&sp->gate_w);
	if (go && r >= 0)
		r = read_exec_pipe(h, sp);
	close_fd(&sp->exec_r);
	return r;
}
