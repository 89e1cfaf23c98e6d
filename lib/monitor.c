/*
 * monitor.c - the daemon's parent: waits for it and records how it ended.
 *
 * The monitor is a forked copy of the caller that never execs, so it must
 * stay small and hold nothing: its stdio goes to /dev/null and every other
 * fd is closed but the two pipes it writes (a test harness like bats waits
 * for whoever holds its fds). It does not outlive the daemon: it reaps it,
 * reports the status to the caller (who may still be waiting for
 * readiness), records the exit key and _exits.
 *
 * The exit key is written under the NAME's lifecycle lock and only when the
 * pid key still names our daemon, through an fd on the existing metadata
 * directory: a successor's metadata is never touched and a removed
 * directory is never recreated. stop holds the lock while it waits for the
 * daemon to die and removes the metadata before it lets go, so the monitor
 * then finds nothing to record.
 *
 * Code here runs in a forked child of a possibly multi-threaded caller, so
 * it keeps to system calls and a few malloc-using helpers (glibc's malloc
 * is reset in the child at fork); time formatting is done by hand because
 * gmtime_r takes the time zone lock.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifdef PROCMGR_COVERAGE
extern void __gcov_dump(void);
/* On one line with the _exit, so that line is counted too. */
#define PM_EXIT(code) do { __gcov_dump(); _exit(code); } while (0)
#else
#define PM_EXIT(code) _exit(code)
#endif

/* How long the monitor waits for the lock before giving up the record. */
#define PM_MONITOR_LOCK_WAIT 10

void pm_exit_text(const struct pm_report *r, char *buf, size_t size)
{
	const char *name = procmgr_signal_name(r->signal);

	if (r->signal > 0 && name)
		snprintf(buf, size, "signal=%s", name);
	else if (r->signal > 0)
		snprintf(buf, size, "signal=%d", r->signal);
	else
		snprintf(buf, size, "status=%d", r->status);
}

/*
 * RFC 3339 UTC from days since the epoch (civil calendar arithmetic), for
 * a t >= 0: the only caller passes time(NULL).
 */
static void format_utc(time_t t, char *buf, size_t size)
{
	long long days = t / 86400 + 719468, secs = t % 86400;
	long long era, doe, yoe, doy, mp, y;
	unsigned d, m;

	era = days / 146097;
	doe = days - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	y = yoe + era * 400 + (m <= 2);
	snprintf(buf, size, "%04lld-%02u-%02uT%02lld:%02lld:%02lldZ", y, m, d,
		 secs / 3600, secs / 60 % 60, secs % 60);
}

static void on_alarm(int sig)
{
	(void)sig;
}

/* Take the lock, bounded: a `procmgr lock NAME` may hold it for long. */
static int lock_bounded(const char *path)
{
	struct sigaction sa;
	struct flock fl;
	int fd;

	fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;	/* no SA_RESTART: interrupt the wait */
	sigaction(SIGALRM, &sa, NULL);
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	alarm(PM_MONITOR_LOCK_WAIT);
	if (fcntl(fd, F_OFD_SETLKW, &fl) < 0) {
		close(fd);
		fd = -1;
	}
	alarm(0);
	return fd;
}

static void record_exit(const struct pm_spawn *sp, const struct pm_report *r)
{
	char text[128], at[64];
	char *pid_text = NULL;
	pid_t pid = 0;
	int lock_fd, dir_fd = -1;
	size_t n;

	pm_exit_text(r, text, sizeof(text));
	format_utc(time(NULL), at, sizeof(at));
	n = strlen(text);
	snprintf(text + n, sizeof(text) - n, " at=%s", at);
	lock_fd = lock_bounded(sp->lock_path);
	if (lock_fd < 0)
		return;
	dir_fd = open(sp->meta_dir,
		      O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dir_fd < 0)
		goto out;
	if (pm_read_at(dir_fd, "pid", 64, &pid_text, NULL) < 0 ||
	    pm_parse_pid(pid_text, &pid) < 0 || pid != r->pid)
		goto out;
	pm_write_atomic_at(dir_fd, "exit", text, strlen(text), 0644);
out:
	free(pid_text);
	if (dir_fd >= 0)
		close(dir_fd);
	close(lock_fd);	/* the last fd of the description: unlocks */
}

/* Close every fd but 0-2 and those in keep (any order, -1 ignored). */
static void close_except(int *keep, size_t n)
{
	unsigned lo = 3;

	for (size_t i = 1; i < n; i++)	/* insertion sort: n is tiny */
		for (size_t j = i; j > 0 && keep[j - 1] > keep[j]; j--) {
			int t = keep[j];

			keep[j] = keep[j - 1];
			keep[j - 1] = t;
		}
	for (size_t i = 0; i < n; i++) {
		if (keep[i] < (int)lo)
			continue;
		if ((unsigned)keep[i] > lo)
			close_range(lo, (unsigned)keep[i] - 1, 0);
		lo = (unsigned)keep[i] + 1;
	}
	close_range(lo, ~0U, 0);
}

static void send_report(int fd, const struct pm_report *r)
{
	ssize_t n;

	/* The caller may be gone: EPIPE (SIGPIPE is ignored) is fine. */
	do
		n = write(fd, r, sizeof(*r));
	while (n < 0 && errno == EINTR);
}

static void monitor_setup(struct pm_spawn *sp)
{
	struct sigaction sa;
	sigset_t none;
	/* Not gate_w: the daemon must see EOF if the caller dies. */
	int keep[] = { sp->exec_w, sp->report_w, sp->log_fd, sp->devnull_fd,
		       sp->ready_w, sp->gate_r };

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (int s = 1; s < NSIG; s++)
		sigaction(s, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	dup2(sp->devnull_fd, 0);
	dup2(sp->devnull_fd, 1);
	dup2(sp->devnull_fd, 2);
	close_except(keep, sizeof(keep) / sizeof(keep[0]));
	/* Not the caller's cwd: it may be a mount someone wants to unmount. */
	(void)!chdir("/");
}

void pm_monitor_main(struct pm_spawn *sp)
{
	struct pm_report r = { .kind = PM_REPORT_PID };
	siginfo_t si;
	pid_t pid;

	monitor_setup(sp);
	pid = fork();
	if (pid < 0)
		pm_spawn_fail(sp->exec_w, PM_STEP_FORK, errno);
	if (pid == 0)
		pm_daemon_exec(sp);
	r.pid = pid;
	send_report(sp->report_w, &r);
	close(sp->exec_w);
	close(sp->log_fd);
	close(sp->devnull_fd);
	close(sp->gate_r);
	if (sp->ready_w >= 0)
		close(sp->ready_w);
	/*
	 * WNOWAIT: learn how it ended but leave it a zombie until the exit is
	 * recorded. While it is unreaped its pid cannot be reused, so a pid
	 * key naming it cannot be a successor's that drew the same number
	 * while we waited for the lock.
	 */
	memset(&si, 0, sizeof(si));
	while (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) < 0 &&
	       errno == EINTR)
		;
	r.kind = PM_REPORT_EXIT;
	r.status = si.si_code == CLD_EXITED ? si.si_status : -1;
	r.signal = si.si_code == CLD_EXITED ? 0 : si.si_status;
	send_report(sp->report_w, &r);
	close(sp->report_w);
	record_exit(sp, &r);
	while (waitid(P_PID, (id_t)pid, &si, WEXITED) < 0 && errno == EINTR)
		;
	PM_EXIT(0);
}
