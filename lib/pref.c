/*
 * pref.c - references to processes that survive pid reuse: a pidfd where
 * the kernel gives one, the start time checked again before every kill(2)
 * where it does not.
 *
 * A pidfd names one process for good: signals through it never reach a
 * successor that drew the same pid, and poll() on it wakes the moment the
 * process exits. pidfd_open() fails with ENOSYS on kernels before 5.3 and
 * under valgrind, and with EPERM under some seccomp filters; then stop
 * must still work, so the reference falls back to the pid plus its start
 * time (field 22 of /proc/PID/stat), read again right before each signal.
 * That is weaker - the pid could be reused between the read and the kill -
 * and the wait becomes a sleep that backs off from 1 ms to 50 ms.
 */
#include "internal.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/pidfd.h>
#include <time.h>
#include <unistd.h>

#define BACKOFF_MIN_MS 1
#define BACKOFF_MAX_MS 50

/* The live process's start time, or -ESRCH when gone or a zombie. */
static int live_start(pid_t pid, unsigned long long *ret)
{
	char state;
	int r = pm_proc_stat(pid, &state, ret);

	if (r < 0)
		return r;
	return state == 'Z' || state == 'X' ? -ESRCH : 0;
}

int pm_pref_open(pid_t pid, unsigned long long start, struct pm_pref *ret)
{
	struct pm_pref p = { .pid = pid, .fd = -1 };
	unsigned long long live;
	int r;

	if (pid <= 1)
		return -ESRCH;
	p.fd = pidfd_open(pid, 0);
	if (p.fd < 0 && errno != ENOSYS && errno != EPERM)
		return errno == ESRCH ? -ESRCH : -errno;
	/*
	 * Read after the open: if the process is alive now (the pidfd does
	 * not poll readable) the start time read is its own.
	 */
	r = live_start(pid, &live);
	if (r == 0 && start && live != start)
		r = -ESRCH;
	p.start = live;
	if (r == 0 && pm_pref_exited(&p) == 1)
		r = -ESRCH;
	if (r < 0) {
		pm_pref_close(&p);
		return r;
	}
	*ret = p;
	return 0;
}

void pm_pref_close(struct pm_pref *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
}

int pm_pref_exited(struct pm_pref *p)
{
	struct pollfd pfd = { .fd = p->fd, .events = POLLIN };
	unsigned long long live;

	if (p->gone)
		return 1;
	if (p->fd >= 0) {
		if (poll(&pfd, 1, 0) == 1 && (pfd.revents & (POLLIN | POLLHUP)))
			p->gone = true;
	} else if (live_start(p->pid, &live) < 0 || live != p->start) {
		p->gone = true;
	}
	return p->gone;
}

int pm_pref_signal(struct pm_pref *p, int sig)
{
	unsigned long long live;
	int r;

	if (p->gone)
		return -ESRCH;
	if (p->fd >= 0)
		r = pidfd_send_signal(p->fd, sig, NULL, 0) < 0 ? -errno : 0;
	else if (live_start(p->pid, &live) < 0 || live != p->start)
		r = -ESRCH;
	else
		r = kill(p->pid, sig) < 0 ? -errno : 0;
	if (r == -ESRCH)
		p->gone = true;
	return r;
}

/* Those of v still alive; the pollfds of the ones with a pidfd. */
static size_t alive_fds(struct pm_pref *v, size_t n, struct pollfd *pfd,
			size_t *ret_npfd)
{
	size_t alive = 0, np = 0;

	for (size_t i = 0; i < n; i++) {
		if (pm_pref_exited(&v[i]))
			continue;
		alive++;
		if (v[i].fd >= 0)
			pfd[np++] = (struct pollfd){ .fd = v[i].fd,
						     .events = POLLIN };
	}
	*ret_npfd = np;
	return alive;
}

int pm_pref_wait(procmgr *h, struct pm_pref *v, size_t n, double timeout)
{
	struct pollfd *pfd = calloc(n + 1, sizeof(*pfd));	/* + cancel */
	struct timespec deadline;
	int backoff = BACKOFF_MIN_MS, ms, r;
	size_t alive, np;

	if (!pfd)
		return -ENOMEM;
	pm_deadline(timeout, &deadline);
	for (;;) {
		alive = alive_fds(v, n, pfd, &np);
		ms = pm_ms_left(timeout, &deadline);
		if (alive == 0 || ms == 0) {
			r = (int)alive;
			break;
		}
		/* Without pidfds for all, poll only until the next look. */
		if (np < alive && (ms < 0 || ms > backoff)) {
			ms = backoff;
			backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS :
								 backoff * 2;
		}
		/* One readable pidfd is enough to look at all of them again. */
		if (pm_poll(h, pfd, np, ms) == -EINTR) {
			r = -EINTR;
			break;
		}
	}
	free(pfd);
	return r;
}
