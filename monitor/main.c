/*
 * main.c - procmgr-monitor DIR NAME: read the job, detach, run the loop.
 *
 * The starter execs us (posix_spawn, so a big caller is never copied) as
 * the leader of a new session, with the job on fd 3, the result socket on
 * fd 4, the daemon's log on fd 5 and, while it starts the daemon, the
 * starter's own lock on fd 6 (see internal.h). We fork once at once and
 * the first process exits: the starter reaps it right away and is left
 * with no child; we go on in the new session but are not its leader, so
 * no terminal can become ours. We are the daemon's parent and a child
 * subreaper, so the whole tree the daemon starts stays with us.
 */
#include "monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

double mon_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double mon_after(double timeout)
{
	return timeout > 0 ? mon_now() + timeout : -1;
}

int mon_restart_limit(const struct mon *m)
{
	return m->job.restart_limit > 0 ? m->job.restart_limit : 5;
}

int mon_lock(struct mon *m)
{
	int r;

	if (m->lock >= 0)
		return 0;
	r = procmgr_lock(m->h);
	if (r >= 0)
		m->own_locks++;
	return r;
}

void mon_unlock(struct mon *m)
{
	if (m->lock >= 0 || m->own_locks == 0)
		return;
	m->own_locks--;
	procmgr_unlock(m->h);
}

void mon_start_unlock(struct mon *m)
{
	if (!m->start_locked)
		return;
	m->start_locked = false;
	mon_unlock(m);
}

static int load_job(struct mon *m)
{
	struct stat st;
	char *data;
	ssize_t n;
	int r;

	if (fstat(PM_MON_FD_JOB, &st) < 0)
		return -errno;
	if (st.st_size <= 0 || st.st_size > (64 << 20))
		return -EBADMSG;
	data = malloc((size_t)st.st_size);
	if (!data)
		return -ENOMEM;
	n = pread(PM_MON_FD_JOB, data, (size_t)st.st_size, 0);
	r = n == st.st_size ? pm_job_decode(data, (size_t)n, &m->job) :
			      -EIO;
	free(data);
	close(PM_MON_FD_JOB);
	return r;
}

/* Our fds must not reach the daemon; signals come through a signalfd. */
static int setup(struct mon *m)
{
	sigset_t set;

	for (int fd = PM_MON_FD_CTL; fd <= PM_MON_FD_LOCK; fd++)
		fcntl(fd, F_SETFD, FD_CLOEXEC);
	m->ctl = PM_MON_FD_CTL;
	m->log = PM_MON_FD_LOG;
	m->lock = m->job.has_lock ? PM_MON_FD_LOCK : -1;
	if (!m->job.has_lock)
		close(PM_MON_FD_LOCK);
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	m->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (m->sigfd < 0)
		return -errno;
	/* Not the caller's cwd: it may be a mount someone wants gone. */
	return chdir("/") < 0 ? -errno : 0;
}

static void on_signals(struct mon *m)
{
	struct signalfd_siginfo si;
	bool chld = false;

	while (read(m->sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGCHLD) {
			chld = true;
		} else if (!m->done && m->phase != PH_BACKOFF &&
			   m->phase != PH_DRAINING) {
			pm_event(m->log, "procmgr-monitor got SIG%s: stopping "
				 "the daemon", procmgr_signal_name(
				 (int)si.ssi_signo));
			mon_stop_self(m, "stop");
			m->done = true;
		} else {
			m->done = true;
		}
	}
	if (chld)
		mon_on_sigchld(m);
}

/*
 * The starter stopped waiting (killed, or interrupted and gone): nobody
 * is left to answer, and its lock must not outlive it in our hands - a
 * stop must be able to get in. The metadata is whole: pid was written
 * before the daemon ran.
 */
static void starter_gone(struct mon *m)
{
	char c;

	if (recv(m->ctl, &c, 1, MSG_DONTWAIT) > 0)
		return;	/* it never writes; ignore anything it does */
	close(m->ctl);
	m->ctl = -1;
	if (m->lock >= 0)
		close(m->lock);
	m->lock = -1;
}

static double soonest(const struct mon *m)
{
	const double d[] = { m->d_ready, m->d_connect, m->d_idle,
			     m->d_watchdog, m->d_restart, m->d_adopt };
	double t = -1;

	for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++)
		if (d[i] >= 0 && (t < 0 || d[i] < t))
			t = d[i];
	return t;
}

static void on_deadlines(struct mon *m)
{
	double now = mon_now();

#define DUE(d) ((d) >= 0 && (d) <= now)
	if (DUE(m->d_connect))
		mon_ready_check(m);
	if (DUE(m->d_ready))
		mon_ready_timeout(m);
	if (DUE(m->d_adopt))
		mon_on_adopt_deadline(m);
	if (DUE(m->d_watchdog))
		mon_on_watchdog_deadline(m);
	if (DUE(m->d_idle))
		mon_on_idle_deadline(m);
	if (DUE(m->d_restart))
		mon_on_restart_deadline(m);
#undef DUE
}

/*
 * The time to the soonest deadline, into *ts: ts; NULL when there is
 * none. To the nanosecond, as ppoll() takes it: poll()'s milliseconds,
 * rounded up, would double a 1 ms connect() pause.
 */
static struct timespec *timeout_of(const struct mon *m, struct timespec *ts)
{
	double t = soonest(m), left;

	if (t < 0)
		return NULL;
	left = t - mon_now();
	if (left <= 0)
		left = 0;
	if (left > 1e9)
		left = 1e9;
	ts->tv_sec = (time_t)left;
	ts->tv_nsec = (long)((left - (double)ts->tv_sec) * 1e9);
	return ts;
}

static void loop(struct mon *m)
{
	while (!m->done) {
		struct pollfd p[6] = {
			{ .fd = m->sigfd, .events = POLLIN },
			{ .fd = m->notify, .events = POLLIN },
			{ .fd = m->ready_r, .events = POLLIN },
			{ .fd = m->inotify, .events = POLLIN },
			/* a MAINPID or adopted daemon we did not fork */
			{ .fd = m->main.pid != m->child ? m->main.fd : -1,
			  .events = POLLIN },
			/* the starter, while it waits for our answer */
			{ .fd = m->ctl, .events = POLLIN },
		};
		struct timespec ts;

		if (ppoll(p, 6, timeout_of(m, &ts), NULL) < 0 && errno != EINTR)
			break;
		if (p[5].revents)
			starter_gone(m);
		/*
		 * The socket first: what the daemon sent before it died
		 * (READY=1, STATUS=) was queued before its SIGCHLD, and must
		 * count before its end does (systemd orders them the same).
		 */
		if (p[1].revents)
			mon_on_notify(m);
		if (!m->done && p[0].revents)
			on_signals(m);
		if (!m->done && p[2].revents)
			mon_on_ready_fd(m);
		if (!m->done && p[3].revents)
			mon_on_inotify(m);
		if (!m->done && p[4].revents)
			mon_on_main_fd(m);
		if (!m->done)
			on_deadlines(m);
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: " PM_MONITOR_NAME " DIR NAME\n"
		"The daemon monitor of procmgr(1): started by procmgr and "
		"libprocmgr,\nwith the job on fd 3, not by hand.\n");
	exit(2);
}

/* Everything after the fork; returns the exit code. */
static int monitor(const char *dir, const char *name)
{
	struct mon m = { .ctl = -1, .log = -1, .lock = -1, .sigfd = -1,
			 .notify = -1, .ready_r = -1,
			 .inotify = -1, .main = { .fd = -1 }, .first = true,
			 .d_ready = -1, .d_connect = -1, .d_idle = -1,
			 .d_watchdog = -1, .d_restart = -1, .d_adopt = -1,
			 .backoff = 0.1 };
	int r;

	r = load_job(&m);
	if (r >= 0)
		r = setup(&m);
	m.h = procmgr_new();
	if (r >= 0 && !m.h)
		r = -ENOMEM;
	if (m.h)
		m.h->live_off = true;	/* it holds its own pidfds */
	if (r >= 0)
		r = procmgr_open(m.h, dir, name);
	if (r >= 0)
		r = pm_monitor_identity(&m.self_id);
	if (r >= 0)
		r = mon_notify_open(&m);
	if (r < 0) {
		const char *why = m.h ? procmgr_errmsg(m.h) : "";

		mon_answer_error(&m, -r, "procmgr-monitor cannot set up: %s%s%s",
				 strerror(-r), *why ? "; " : "", why);
		m.exit_code = 1;
		goto out;
	}
	r = mon_launch(&m, m.job.reason ? m.job.reason : "started");
	if (r >= 0)
		loop(&m);
out:
	/* on a failed set-up too: memcheck counts the handle as lost */
	procmgr_free(m.h);
	pm_job_clear(&m.job);
	free(m.self_id);
	return m.exit_code;
}

#if defined(__SANITIZE_ADDRESS__)
/*
 * An AddressSanitizer build only. LeakSanitizer checks for leaks at exit
 * from a helper it clones off us: a child of ours, so part of our tree,
 * which a stop walking the rest of the tree kills; we then wait for it
 * forever, spinning. No leak check at exit, then (ASAN_OPTIONS may still
 * ask for one); the library's own leaks are checked in the unit tests.
 */
__attribute__((visibility("default"))) const char *
__asan_default_options(void);
__attribute__((visibility("default"))) const char *
__asan_default_options(void)
{
	return "detect_leaks=0";
}
#endif

int main(int argc, char **argv)
{
	pid_t pid;

	/* by hand, without the job and the answer socket procmgr passes */
	if (argc != 3 || argv[1][0] != '/' ||
	    fcntl(PM_MON_FD_JOB, F_GETFD) < 0 ||
	    fcntl(PM_MON_FD_CTL, F_GETFD) < 0)
		usage();
	pid = fork();
	if (pid < 0) {
		/* no log yet: fd 0 is not one */
		struct mon m = { .ctl = PM_MON_FD_CTL, .log = -1,
				 .lock = -1 };

		mon_answer_error(&m, errno, "procmgr-monitor cannot fork: %s",
				 strerror(errno));
		return 1;
	}
	if (pid > 0)
		MON_EXIT(0);
	return monitor(argv[1], argv[2]);
}
