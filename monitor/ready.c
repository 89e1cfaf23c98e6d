/*
 * ready.c - readiness (SPEC §3) and the typed result for the starter
 * (SPEC §6).
 *
 * Each mode waits on its own event in the monitor's loop: a newline on
 * the fd:N pipe (whose read end we hold while the run lasts, so a late
 * newline never kills the daemon with SIGPIPE), READY=1 on the notify
 * socket, an inotify event for the socket key, or, for tcp:PORT and
 * unix:PATH, where the kernel has no event for "someone listens now", a
 * connect() retried every 0.25 ms at first: the pause between tries is a
 * hundredth of the time waited so far (at least 0.25 ms, at most 100 ms),
 * so readiness is seen at most 1% late and a slow daemon is not hammered
 * (about 470 tries in the first second, each a refused connect()).
 *
 * The starter hears exactly one result: ready, exec failed, died before
 * ready, timed out, or an error of ours. We let go of its lock (our copy of
 * its open file description) before we answer, so that its unlock, which
 * follows the answer, is the last.
 */
#include "monitor.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CONNECT_MIN 0.00025
#define CONNECT_MAX 0.1
#define CONNECT_SHARE 100	/* the pause: 1/100 of the time waited */
#define LATE_CONNECT_MAX 1.0	/* past the timeout: no one waits */
#define EOF_GRACE 1.0	/* fd N closed unready: time to show it is dying */
#define KEY_RETRY 0.05	/* socket key without inotify: look this often */

void mon_answer(struct mon *m, struct pm_result *r)
{
	if (m->lock >= 0) {
		close(m->lock);
		m->lock = -1;
	}
	/* The first run has its result, whether or not anyone hears it. */
	m->first = false;
	if (m->ctl < 0)
		return;
	r->log_offset = m->log_offset;
	/* EPIPE: the starter is gone (killed, or it gave up waiting). */
	send(m->ctl, r, sizeof(*r), MSG_NOSIGNAL);
	close(m->ctl);
	m->ctl = -1;
}

void mon_answer_error(struct mon *m, int err, const char *fmt, ...)
{
	struct pm_result r = { .kind = PM_RES_ERROR, .err = err,
			       .pid = m->main.pid };
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r.text, sizeof(r.text), fmt, ap);
	va_end(ap);
	if (m->log >= 0)
		pm_event(m->log, "%s", r.text);
	mon_answer(m, &r);
}

static void close_inotify(struct mon *m)
{
	if (m->inotify >= 0)
		close(m->inotify);
	m->inotify = -1;
}

void mon_ready_close(struct mon *m)
{
	close_inotify(m);
	if (m->ready_r >= 0)
		close(m->ready_r);
	m->ready_r = -1;
}

/* The pants protocol: the daemon writes the socket key, last. */
static int socket_key_set(struct mon *m)
{
	char *v = NULL;
	int r;

	/* pants writes it in place: empty first, then the port */
	r = procmgr_read(m->h, "socket", &v) == 0 && v[0];
	free(v);
	return r;
}

static void watch_socket_key(struct mon *m)
{
	m->inotify = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (m->inotify >= 0 &&
	    inotify_add_watch(m->inotify, m->h->meta_dir, IN_CREATE |
			      IN_MOVED_TO | IN_CLOSE_WRITE) < 0)
		close_inotify(m);
	/* No inotify (the user's instances ran out): look every 50 ms. */
	m->d_connect = mon_now();
}

void mon_ready_arm(struct mon *m)
{
	const struct procmgr_ready *rd = &m->job.ready;

	m->eof_unready = false;
	m->late = false;
	m->d_ready = mon_after(m->job.ready_timeout);
	m->d_watchdog = mon_after(m->job.watchdog);
	m->d_idle = -1;
	if (rd->kind == PROCMGR_READY_EXEC && !m->job.pid_file)
		mon_became_ready(m);
	else if (rd->kind == PROCMGR_READY_SOCKET)
		watch_socket_key(m);
	else if (rd->kind == PROCMGR_READY_TCP ||
		 rd->kind == PROCMGR_READY_UNIX)
		m->d_connect = mon_now();
}

/* The pause before the next connect(): see the top of this file. */
static double connect_pause(const struct mon *m)
{
	double max = m->late ? LATE_CONNECT_MAX : CONNECT_MAX;
	double p = (mon_now() - m->t_start) / CONNECT_SHARE;

	return p < CONNECT_MIN ? CONNECT_MIN : p > max ? max : p;
}

void mon_ready_check(struct mon *m)
{
	const struct procmgr_ready *rd = &m->job.ready;
	int r;

	m->d_connect = -1;
	if (m->phase != PH_STARTING && !m->late)
		return;
	if (rd->kind == PROCMGR_READY_SOCKET) {
		if (socket_key_set(m))
			mon_became_ready(m);
		else if (m->inotify < 0)
			m->d_connect = mon_now() + KEY_RETRY;
		return;
	}
	r = pm_ready_connect(rd);
	if (r == 1) {
		mon_became_ready(m);
		return;
	}
	m->d_connect = mon_now() + connect_pause(m);
}

void mon_on_inotify(struct mon *m)
{
	/* Only a wake-up: we look at the key ourselves. */
	pm_inotify_drain(m->inotify);
	mon_ready_check(m);
}

void mon_on_ready_fd(struct mon *m)
{
	char buf[512];
	ssize_t n = read(m->ready_r, buf, sizeof(buf));

	if (n < 0)
		return;
	if (n == 0) {
		close(m->ready_r);
		m->ready_r = -1;
		/*
		 * Dying closes fd N a moment before we learn of the death:
		 * give that a moment before calling it a protocol error.
		 */
		if (m->phase == PH_STARTING) {
			m->eof_unready = true;
			m->d_ready = mon_now() + EOF_GRACE;
		}
		return;
	}
	if ((m->phase == PH_STARTING || m->late) && memchr(buf, '\n', (size_t)n))
		mon_became_ready(m);
}

void mon_became_ready(struct mon *m)
{
	struct pm_result r = { .kind = PM_RES_READY, .pid = m->main.pid };
	char at[21];

	if (m->phase != PH_STARTING && !m->late)
		return;
	procmgr_format_utc(time(NULL), at);
	mon_key(m, "ready", at);
	pm_event(m->log, "ready after %.3fs%s", mon_now() - m->t_start,
		 m->late ? ", past its timeout" : "");
	m->d_ready = m->d_connect = -1;
	if (m->late) {
		/* The starter heard "timed out"; ensure now keeps it. */
		m->late = false;
	} else {
		m->phase = PH_RUNNING;
		m->d_idle = mon_after(m->job.idle_timeout);
		if (m->first)
			mon_answer(m, &r);
		else
			mon_start_unlock(m);
	}
	/*
	 * Only now: closing an inotify fd that watched something waits for
	 * the kernel's fsnotify teardown (5-22 ms), which the starter must
	 * not wait for.
	 */
	close_inotify(m);
}

void mon_ready_timeout(struct mon *m)
{
	struct pm_result r = { .kind = PM_RES_TIMEOUT, .pid = m->main.pid };
	char mode[64];

	m->d_ready = m->d_connect = -1;
	if (m->phase != PH_STARTING)
		return;
	if (m->eof_unready) {
		m->phase = PH_RUNNING;
		mon_answer_error(m, EPROTO, "%s (pid %d) closed fd %d without "
				 "writing a newline: it will not report "
				 "ready", m->h->name, (int)m->main.pid,
				 m->job.ready.fd);
		mon_start_unlock(m);
		return;
	}
	pm_ready_text(&m->job.ready, mode, sizeof(mode));
	pm_event(m->log, "not ready (%s) after %gs", mode,
		 m->job.ready_timeout);
	if (!m->first || m->job.kill_on_timeout) {
		/* A restart that never got ready failed like a crash. */
		r.killed = 1;
		mon_stop_self(m, "not-ready");
		if (m->ctl >= 0)
			mon_answer(m, &r);
		return;
	}
	/*
	 * Left running, not ready: the next ensure restarts it, unless it
	 * becomes ready meanwhile; we go on listening for that.
	 */
	m->phase = PH_RUNNING;
	m->late = true;
	if (m->job.ready.kind == PROCMGR_READY_TCP ||
	    m->job.ready.kind == PROCMGR_READY_UNIX ||
	    (m->job.ready.kind == PROCMGR_READY_SOCKET && m->inotify < 0))
		m->d_connect = mon_now();
	m->d_idle = mon_after(m->job.idle_timeout);
	mon_answer(m, &r);
}
