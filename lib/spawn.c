/*
 * spawn.c - the starter's side of a start: find the executable and
 * procmgr-monitor, hand the monitor its job, and wait for its answer.
 *
 *	caller --posix_spawn--> procmgr-monitor DIR NAME (new session)
 *	                          `--fork--> monitor (the first one exits)
 *	                                       `--fork--> daemon: exec
 *
 * posix_spawn runs the child on the caller's memory until it execs (glibc
 * uses CLONE_VM | CLONE_VFORK), so a caller of 1 GiB is never copied, and
 * between the clone and the exec only glibc's own async-signal-safe code
 * runs - nothing of ours, in a possibly multi-threaded caller. The monitor
 * is a small program of its own: its memory is its own, not a copy of the
 * caller's (SPEC §6).
 *
 * The job travels in a sealed memfd (fd 3), the answer on a SOCK_SEQPACKET
 * socket (fd 4): one struct pm_result per message, and EOF if the monitor
 * dies without one. While the daemon starts the monitor also holds our
 * lock through fd 6, the same open file description: were we killed
 * meanwhile, the start would still finish under the lock.
 */
#include "internal.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef PROCMGR_MONITOR_PATH
#define PROCMGR_MONITOR_PATH "/usr/local/libexec/procmgr/procmgr-monitor"
#endif

/* Fds are moved this high before the spawn's dup2s, out of their way. */
#define FD_PARK 10
/* How long an interrupted start still waits to see the daemon recorded. */
#define RECORD_WAIT 5.0

extern char **environ;

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
		r = pm_abs_path(dir, argv0, &full);
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
		r = pm_abs_path(cwd, argv0, ret_path);
	else
		r = search_path(argv0, ret_path);
	if (r < 0)
		return pm_error(h, -r, "cannot run %s: %s%s", argv0,
				strerror(-r),
				r == -ENOENT ? " (not found in PATH); check "
				"the name and PATH, or give its path" : "");
	return 0;
}

int pm_make_pipe(procmgr *h, int *ret_r, int *ret_w)
{
	int p[2], r;

	if (pipe2(p, O_CLOEXEC) < 0)
		return pm_error(h, errno, "pipe: %s", strerror(errno));
	r = pm_pair_above_stdio(p);
	if (r < 0)
		return pm_error(h, -r, "pipe: %s", strerror(-r));
	*ret_r = p[0];
	*ret_w = p[1];
	return 0;
}

int pm_make_socketpair(procmgr *h, int type, int *ret_a, int *ret_b)
{
	int p[2], r;

	if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, p) < 0)
		return pm_error(h, errno, "socketpair: %s", strerror(errno));
	r = pm_pair_above_stdio(p);
	if (r < 0)
		return pm_error(h, -r, "socketpair: %s", strerror(-r));
	*ret_a = p[0];
	*ret_b = p[1];
	return 0;
}

int pm_exec_error(procmgr *h, const char *exe, const char *cwd, int step,
		  int err)
{
	if (err <= 0)
		err = EIO;
	switch (step) {
	case PM_STEP_CHDIR:
		return pm_blame(h, "cwd",
				pm_error(h, err, "cannot change to directory "
					 "%s: %s; check the daemon's cwd, which "
					 "must exist and be searchable", cwd,
					 strerror(err)));
	case PM_STEP_EXEC:
		return pm_error(h, err, "cannot execute %s: %s; check the path "
				"(and a script's #! line) and that it is "
				"executable (chmod +x %s)", exe, strerror(err),
				exe);
	default:
		return pm_error(h, err, "cannot start %s (%s): %s; check the "
				"limits on processes and open files "
				"(ulimit -u, ulimit -n)", exe,
				step == PM_STEP_FORK ? "fork" :
				"setting up its file descriptors",
				strerror(err));
	}
}

/* path + "/" PM_MONITOR_NAME, if that is an executable file. */
static char *beside(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *p;

	if (!slash)
		return NULL;
	p = pm_asprintf("%.*s/" PM_MONITOR_NAME, (int)(slash - path), path);
	if (p && access(p, X_OK) != 0) {
		free(p);
		p = NULL;
	}
	return p;
}

/*
 * $PROCMGR_MONITOR (not for set-id programs); beside the running program
 * (build/procmgr finds build/procmgr-monitor); beside the shared library
 * that holds this code (a Python binding over build/libprocmgr.so); else
 * the installed path fixed at build time.
 */
static const char monitor_anchor;

static char *monitor_path(void)
{
	const char *env = secure_getenv("PROCMGR_MONITOR");
	char exe[PATH_MAX];
	Dl_info info;
	ssize_t n;
	char *p;

	if (env && *env)
		return strdup(env);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		p = beside(exe);
		if (p)
			return p;
	}
	/* Any object of this library says where the library is. */
	if (dladdr(&monitor_anchor, &info) && info.dli_fname &&
	    info.dli_fname[0] == '/' && (p = beside(info.dli_fname)))
		return p;
	return strdup(PROCMGR_MONITOR_PATH);
}

/* A copy of *fd at FD_PARK or above; an owned original is closed. */
static int park(int fd, bool owned)
{
	int nfd = fcntl(fd, F_DUPFD_CLOEXEC, FD_PARK);

	if (owned)
		close(fd);
	return nfd;
}

/* The encoded job in a sealed memfd: the monitor can read, never write. */
static int job_memfd(procmgr *h, const struct pm_job *job, int *ret_fd)
{
	char *data = NULL;
	size_t len = 0, off = 0;
	int fd, r;

	r = pm_job_encode(job, &data, &len);
	if (r < 0)
		return pm_error(h, -r, "cannot encode the job for the monitor: "
				"%s", strerror(-r));
	fd = memfd_create("procmgr-job", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	r = fd < 0 ? -errno : 0;
	while (r == 0 && off < len) {
		ssize_t n = write(fd, data + off, len - off);

		if (n < 0 && errno != EINTR)
			r = -errno;
		else if (n > 0)
			off += (size_t)n;
	}
	if (r == 0 && fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK |
			    F_SEAL_GROW | F_SEAL_WRITE) < 0)
		r = -errno;
	free(data);
	if (r < 0) {
		if (fd >= 0)
			close(fd);
		return pm_error(h, -r, "cannot hand the job to the monitor "
				"(memfd): %s", strerror(-r));
	}
	*ret_fd = fd;
	return 0;
}

struct spawn_fds {
	int job, ctl, peer, log, lock;	/* parked above FD_PARK; -1 none */
};

static void close_fds(struct spawn_fds *f)
{
	int *v[] = { &f->job, &f->ctl, &f->peer, &f->log, &f->lock };

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		if (*v[i] >= 0)
			close(*v[i]);
		*v[i] = -1;
	}
}

/* /dev/null on 0-2, our fds on 3-6, nothing else (SPEC: no fd leaked). */
static int file_actions(posix_spawn_file_actions_t *fa,
			const struct spawn_fds *f)
{
	int r;

	r = posix_spawn_file_actions_init(fa);
	if (r)
		return -r;
	r = posix_spawn_file_actions_addopen(fa, 0, "/dev/null", O_RDWR, 0);
	if (!r)
		r = posix_spawn_file_actions_adddup2(fa, 0, 1);
	if (!r)
		r = posix_spawn_file_actions_adddup2(fa, 0, 2);
	if (!r)
		r = posix_spawn_file_actions_adddup2(fa, f->job, PM_MON_FD_JOB);
	if (!r)
		r = posix_spawn_file_actions_adddup2(fa, f->peer,
						     PM_MON_FD_CTL);
	if (!r)
		r = posix_spawn_file_actions_adddup2(fa, f->log, PM_MON_FD_LOG);
	if (!r && f->lock >= 0)
		r = posix_spawn_file_actions_adddup2(fa, f->lock,
						     PM_MON_FD_LOCK);
	if (!r)
		r = posix_spawn_file_actions_addclosefrom_np(fa,
							     PM_MON_FD_LOCK + 1);
	if (r)
		posix_spawn_file_actions_destroy(fa);
	return -r;
}

/* A new session, every signal at its default and none blocked. */
static int spawn_attr(posix_spawnattr_t *at)
{
	sigset_t all, none;
	int r;

	sigfillset(&all);
	sigemptyset(&none);
	r = posix_spawnattr_init(at);
	if (!r)
		r = posix_spawnattr_setflags(at, POSIX_SPAWN_SETSID |
					     POSIX_SPAWN_SETSIGDEF |
					     POSIX_SPAWN_SETSIGMASK);
	if (!r)
		r = posix_spawnattr_setsigdefault(at, &all);
	if (!r)
		r = posix_spawnattr_setsigmask(at, &none);
	return -r;
}

/*
 * Our environment for the monitor, but for a lock inherited from `procmgr
 * lock` (PROCMGR_LOCK_FD): the monitor does not get that fd, and the
 * number could name another of its fds.
 */
static char **monitor_env(void)
{
	size_t n = 0, k = 0, len = strlen(PROCMGR_LOCK_ENV);
	char **v;

	while (environ && environ[n])
		n++;
	v = calloc(n + 1, sizeof(*v));
	for (size_t i = 0; v && i < n; i++)
		if (strncmp(environ[i], PROCMGR_LOCK_ENV, len) ||
		    environ[i][len] != '=')
			v[k++] = environ[i];
	return v;
}

static int exec_monitor(procmgr *h, const char *path,
			const struct spawn_fds *f)
{
	char *argv[] = { (char *)PM_MONITOR_NAME, h->dir, h->name, NULL };
	char **envp = monitor_env();
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	pid_t pid;
	int r;

	if (!envp)
		return pm_error(h, ENOMEM, "out of memory");
	r = file_actions(&fa, f);
	if (r < 0) {
		free(envp);
		return pm_error(h, -r, "cannot prepare the monitor: %s",
				strerror(-r));
	}
	r = spawn_attr(&at);
	if (r == 0)
		r = -posix_spawn(&pid, path, &fa, &at, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	free(envp);
	if (r == -EAGAIN || r == -ENOMEM)
		return pm_error(h, -r, "cannot fork to start the monitor %s: "
				"%s; check the limits on processes and memory "
				"(ulimit -u, ulimit -v)", path, strerror(-r));
	if (r < 0)
		return pm_error(h, -r, "cannot run the monitor %s: %s; "
				"reinstall procmgr, or point $PROCMGR_MONITOR "
				"at procmgr-monitor", path, strerror(-r));
	/* It forks and exits at once: reap it, leave the caller no child. */
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	return 0;
}

/*
 * One message of the monitor: 1 read, 0 EOF, -EINTR, or an error. h (may
 * be NULL: not cancellable) gives the cancel fd.
 */
static int read_result(procmgr *h, int fd, double timeout,
		       struct pm_result *ret)
{
	struct pollfd p[2] = { { .fd = fd, .events = POLLIN } };
	struct timespec deadline;
	ssize_t n;
	int r;

	pm_deadline(timeout, &deadline);
	r = pm_poll(h, p, 1, pm_ms_left(timeout, &deadline));
	if (r < 0)
		return r;
	if (r == 0)
		return -ETIMEDOUT;
	n = recv(fd, ret, sizeof(*ret), 0);
	if (n < 0)
		return errno == EINTR ? -EINTR : -errno;
	if (n == 0)
		return 0;
	return n == (ssize_t)sizeof(*ret) ? 1 : -EBADMSG;
}

static int result_error(procmgr *h, const struct pm_job *job,
			const struct pm_result *res)
{
	char how[64], mode[64];

	h->start_log_offset = res->log_offset;
	switch (res->kind) {
	case PM_RES_EXEC_FAILED:
		return pm_exec_error(h, job->exe, job->cwd, res->step,
				     res->err);
	case PM_RES_DIED:
		pm_exit_text(res->status, res->signal, how, sizeof(how));
		return pm_error(h, ECHILD, "%s (pid %d) died before it was "
				"ready: %s; see its log %s", h->name,
				(int)res->pid, how, job->log_path);
	case PM_RES_TIMEOUT:
		pm_ready_text(&job->ready, mode, sizeof(mode));
		return pm_error(h, ETIMEDOUT, "%s (pid %d) was not ready (%s) "
				"after %g seconds", h->name, (int)res->pid,
				mode, job->ready_timeout);
	default:
		return pm_error(h, res->err > 0 ? res->err : EIO, "%s",
				res->text[0] ? res->text : "the monitor failed");
	}
}

/*
 * Interrupted: wait a little, uninterrupted, until the daemon is at least
 * recorded, so that the lock is let go over whole metadata.
 */
static int interrupted(procmgr *h, int ctl, bool recorded, pid_t pid)
{
	struct pm_result res;
	double t = RECORD_WAIT;

	while (!recorded && t > 0) {
		int r = read_result(NULL, ctl, 0.1, &res);

		t -= 0.1;
		if (r == -EINTR || r == -ETIMEDOUT)
			continue;
		if (r == 1 && res.kind == PM_RES_STARTED)
			pid = res.pid;
		recorded = true;
	}
	return pm_error(h, EINTR, "interrupted while waiting for %s%s to be "
			"ready; it goes on starting under its monitor",
			h->name, pid > 0 ? "" : " (not recorded yet)");
}

/*
 * Does the daemon outlive its monitor? Whatever killed the monitor often
 * killed it too (kill -9 of the session's group), and its death may not
 * be complete yet: give it a moment to finish dying before saying it
 * runs on.
 */
static bool outlives_monitor(pid_t pid)
{
	struct pm_pref p;
	bool alive;

	if (pid <= 0 || pm_pref_open(pid, 0, &p) < 0)
		return false;
	alive = pm_pref_wait(NULL, &p, 1, 0.5) > 0;
	pm_pref_close(&p);
	return alive;
}

static int await_result(procmgr *h, const struct pm_job *job, int ctl,
			pid_t *ret_pid)
{
	struct pm_result res;
	char mode[64];
	pid_t pid = 0;
	int r;

	pm_ready_text(&job->ready, mode, sizeof(mode));
	for (;;) {
		pm_waiting(h, "%s to be ready (%s)", h->name, mode);
		r = read_result(h, ctl, -1, &res);
		pm_waiting(h, NULL);
		if (r == -EINTR)
			return interrupted(h, ctl, pid > 0, pid);
		if (r < 0)
			return pm_error(h, -r, "reading the monitor's answer: "
					"%s", strerror(-r));
		if (r == 0)
			return pm_error(h, EIO, "the monitor of %s ended "
					"without saying how the start went "
					"(was it killed?); %s; see its log %s",
					h->name, outlives_monitor(pid) ?
					"the daemon runs on without it" :
					"the daemon is not running",
					job->log_path);
		if (res.kind != PM_RES_STARTED)
			break;
		pid = res.pid;
	}
	if (res.kind != PM_RES_READY)
		return result_error(h, job, &res);
	*ret_pid = res.pid;
	return 0;
}

int pm_spawn_monitor(procmgr *h, const struct pm_job *job, int log_fd,
		     pid_t *ret_pid)
{
	struct spawn_fds f = { -1, -1, -1, -1, -1 };
	char *path = monitor_path();
	int r;

	if (!path)
		return pm_error(h, ENOMEM, "out of memory");
	h->start_log_offset = -1;
	r = job_memfd(h, job, &f.job);
	if (r >= 0)
		r = pm_make_socketpair(h, SOCK_SEQPACKET, &f.ctl, &f.peer);
	if (r >= 0) {
		f.job = park(f.job, true);
		f.peer = park(f.peer, true);
		f.log = park(log_fd, false);
		f.lock = job->has_lock ? park(h->lock_fd, false) : -1;
		if (f.job < 0 || f.peer < 0 || f.log < 0 ||
		    (job->has_lock && f.lock < 0))
			r = pm_error(h, errno, "cannot set up the monitor's "
				     "fds: %s", strerror(errno));
	}
	if (r >= 0)
		r = exec_monitor(h, path, &f);
	if (r >= 0) {
		/* Our copy of its end would hide its EOF from us. */
		close(f.peer);
		f.peer = -1;
		r = await_result(h, job, f.ctl, ret_pid);
	}
	close_fds(&f);
	free(path);
	return r;
}
