/*
 * life.c - how a run ends, and what comes after (SPEC §6).
 *
 * When the daemon exits we learn it through SIGCHLD (it is our child) or
 * its pidfd (a MAINPID we did not fork), but we leave it a zombie until
 * its end is recorded: while it is unreaped its pid cannot be reused, so
 * the pid key naming it cannot be a successor's that drew the same number
 * while we waited for the lock. Every record is made under NAME's lock and
 * only while the metadata is still ours: the pid key names our daemon and
 * the monitor key names us.
 *
 * Then, in order:
 *  - a daemon that exited 0 leaving exactly one process at the top of its
 *    tree (or naming one in --pid-file) forked to daemonize: that process
 *    is adopted as the daemon (systemd's Type=forking);
 *  - otherwise the exit is recorded (key exit, with reason= when procmgr
 *    ended it), whatever is left of the tree is stopped, and the restart
 *    policy decides: back off (100 ms doubling to 30 s, reset by a run of
 *    10 s or more) and start again under the lock, or give up after
 *    restart_limit restarts in a row, or end.
 */
#include "monitor.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BACKOFF_MIN 0.1
#define BACKOFF_MAX 30.0
#define LONG_RUN 10.0		/* a run this long resets the back-off */
#define ADOPT_GRACE 2.0		/* for a forking server's middle child */

/* Our direct children, zombies included. */
static int children(pid_t **ret, size_t *ret_n)
{
	char path[64], buf[8192], *p, *end;
	pid_t *v = NULL, *nv;
	size_t n = 0;
	ssize_t len;

	snprintf(path, sizeof(path), "/proc/self/task/%d/children",
		 (int)getpid());
	len = pm_read_once(path, buf, sizeof(buf));
	if (len < 0)
		return (int)len;
	for (p = buf;; p = end) {
		long pid = strtol(p, &end, 10);

		if (end == p)
			break;
		nv = realloc(v, (n + 1) * sizeof(*v));
		if (!nv) {
			free(v);
			return -ENOMEM;
		}
		v = nv;
		v[n++] = (pid_t)pid;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

/* Have all our children been reaped? */
static bool tree_empty(void)
{
	pid_t *v = NULL;
	size_t n = 0;

	if (children(&v, &n) < 0)
		return true;
	free(v);
	return n == 0;
}

/* Is one of our children (pid) a zombie: 1 with its status, 0 not. */
static int exited(pid_t pid, int *ret_status, int *ret_sig)
{
	siginfo_t si = { 0 };

	if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0 ||
	    si.si_pid != pid)
		return 0;
	*ret_status = si.si_code == CLD_EXITED ? si.si_status : -1;
	*ret_sig = si.si_code == CLD_EXITED ? 0 : si.si_status;
	return 1;
}

static void reap(pid_t pid)
{
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

static void log_exit(struct mon *m, int status, int sig, bool known)
{
	const char *name = procmgr_signal_name(sig);

	if (!known)
		pm_event(m->log, "pid %d exited", (int)m->main.pid);
	else if (sig && name)
		pm_event(m->log, "pid %d was killed by SIG%s", (int)m->main.pid,
			 name);
	else if (sig)
		pm_event(m->log, "pid %d was killed by signal %d",
			 (int)m->main.pid, sig);
	else
		pm_event(m->log, "pid %d exited with status %d",
			 (int)m->main.pid, status);
}

/*
 * Whatever is left of the tree, along the chain (kill mode tree), unless
 * the stop asked for was --kill-mode process: that leaves the rest alone.
 */
static void stop_leftovers(struct mon *m)
{
	if (m->job.stop.kill_mode == PROCMGR_KILL_TREE && !m->stop_process)
		pm_stop_tree(m->h, NULL, getpid(), &m->job.stop, m->log);
}

static void exit_text(int status, int sig, bool known, const char *reason,
		      char *text, size_t size)
{
	char at[21];
	size_t n;

	if (known)
		pm_exit_text(status, sig, text, size);
	else
		snprintf(text, size, "status=?");
	procmgr_format_utc(time(NULL), at);
	n = strlen(text);
	snprintf(text + n, size - n, " at=%s%s%s", at, reason ? " reason=" : "",
		 reason ? reason : "");
}

static void write_exit(struct mon *m, int status, int sig, bool known,
		       const char *reason)
{
	char text[160];

	exit_text(status, sig, known, reason, text, sizeof(text));
	mon_key(m, "exit", text);
}

/*
 * A stop was asked for (key stopping): its caller holds the lock for the
 * whole stop and removes the metadata afterwards, or keeps it. Taking the
 * lock here would only make the next command wait for us, so the exit is
 * recorded through the directory checked to be ours - never into a
 * successor's, even one made after the stopper let go.
 */
static void stopped_by_request(struct mon *m, int status, int sig,
			       bool known, bool keep)
{
	char text[160];
	int fd = keep ? mon_meta_if_ours(m, m->main.pid) : -1;

	if (fd >= 0) {
		exit_text(status, sig, known, "stop", text, sizeof(text));
		pm_write_atomic_at(fd, "exit", text, strlen(text), 0644);
		close(fd);
	}
	/* Ours to reap if it is our child: forked, or adopted and orphaned. */
	waitpid(m->main.pid, NULL, WNOHANG);
	pm_pref_close(&m->main);
	mon_ready_close(m);
	/*
	 * The stopper takes the rest of the tree along its own chain (with
	 * --kill-mode process, it leaves it): ours would override its
	 * signals and waits. Stay the tree's subreaper, so that its walk of
	 * our descendants still finds every process, until none is left.
	 */
	if (m->stop_process) {
		m->done = true;
		return;
	}
	m->phase = PH_DRAINING;
	m->d_ready = m->d_connect = m->d_idle = m->d_watchdog = -1;
	m->d_adopt = m->d_restart = -1;
	/* Nothing the tree says matters any more (a MAINPID= least). */
	if (m->notify >= 0)
		close(m->notify);
	m->notify = -1;
	m->done = tree_empty();
}

/*
 * 0 no stop asked, 1 asked and the metadata stays, 2 asked, it goes.
 * "<keep|remove> [process ]by <who>": notes whether the stopper spares
 * the rest of the tree.
 */
static int stop_asked(struct mon *m)
{
	char *v = NULL;
	const char *rest;
	int r = 0;

	if (procmgr_read(m->h, "stopping", &v) == 0) {
		r = strncmp(v, "remove ", 7) ? 1 : 2;
		rest = strchr(v, ' ');
		m->stop_process = rest && !strncmp(rest, " process by ", 12);
	}
	free(v);
	return r;
}

/* Should the policy start it again after this end? */
static bool wants_restart(const struct mon *m, int status, int sig,
			  bool known, const char *reason)
{
	bool failed = !known || status != 0 || sig != 0 || reason;

	if (reason && strcmp(reason, "watchdog") && strcmp(reason, "not-ready"))
		return false;	/* stopped on purpose: stop, idle */
	return m->job.restart == PROCMGR_RESTART_ALWAYS ||
	       (m->job.restart == PROCMGR_RESTART_ON_FAILURE && failed);
}

/*
 * NAME's lock, to record or act on what happened. When it cannot be had
 * the log says so and the monitor ends, leaving the metadata as it is: a
 * status then reads the daemon as not running, or the monitor as gone.
 */
static bool lock_or_end(struct mon *m)
{
	if (mon_lock(m) >= 0)
		return true;
	pm_event(m->log, "cannot take %s's lock (%s); the monitor ends",
		 m->h->name, procmgr_errmsg(m->h));
	m->done = true;
	return false;
}

static void end(struct mon *m)
{
	mon_unlock(m);
	m->done = true;
}

static void back_off(struct mon *m, int status, int sig, bool known)
{
	int limit = mon_restart_limit(m);

	if (m->in_a_row >= limit) {
		write_exit(m, status, sig, known, "gave-up");
		pm_event(m->log, "gave up after %d restart%s in a row", limit,
			 limit == 1 ? "" : "s");
		end(m);
		return;
	}
	m->in_a_row++;
	pm_event(m->log, "restarting in %.1fs (restart %d of %d)", m->backoff,
		 m->in_a_row, limit);
	m->phase = PH_BACKOFF;
	m->d_restart = mon_now() + m->backoff;
	m->backoff = m->backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX :
						    m->backoff * 2;
	m->d_idle = m->d_watchdog = m->d_ready = m->d_connect = -1;
	mon_unlock(m);
}

/*
 * The run is over (main has exited; we hold the lock): record it, clear
 * the tree, then restart, give up or end. Releases the lock.
 */
static void finish(struct mon *m, int status, int sig, bool known,
		   const char *reason)
{
	struct pm_result died = { .kind = PM_RES_DIED, .pid = m->main.pid,
				  .status = status, .signal = sig };
	bool starting = m->phase == PH_STARTING;

	m->d_ready = m->d_connect = m->d_adopt = -1;
	m->late = false;
	/* A restart that never got ready: its start is over too. */
	mon_start_unlock(m);
	if (!mon_owns_name(m, m->main.pid)) {
		/* Stopped and purged, or a successor took NAME over. */
		stop_leftovers(m);
		reap(m->main.pid);
		end(m);
		return;
	}
	if (!reason && stop_asked(m))
		reason = "stop";
	if (m->first && reason && !strcmp(reason, "not-ready")) {
		/* kill_on_timeout: nothing of this start stays behind */
		stop_leftovers(m);
		reap(m->main.pid);
		pm_meta_remove_if(m->h, m->main.pid);
		end(m);
		return;
	}
	write_exit(m, status, sig, known, reason);
	stop_leftovers(m);
	if (m->main.pid == m->child)
		reap(m->child);
	/* The run is over: nothing of it may wake the loop any more. */
	pm_pref_close(&m->main);
	mon_ready_close(m);
	/*
	 * The starter is owed exactly one answer: a first run that ends
	 * before it is ready died before ready, whether it crashed or was
	 * stopped (watchdog, the monitor's SIGTERM). Not restarted, as a
	 * crash before ready is not.
	 */
	if (m->first && starting) {
		mon_answer(m, &died);
		end(m);
		return;
	}
	if (mon_now() - m->t_start >= LONG_RUN) {
		m->in_a_row = 0;
		m->backoff = BACKOFF_MIN;
	}
	if (wants_restart(m, status, sig, known, reason))
		back_off(m, status, sig, known);
	else
		end(m);
}

/* Top-level processes of the tree but the old daemon, alive. */
static size_t candidates(struct mon *m, pid_t *ret_one)
{
	pid_t *v = NULL;
	size_t n = 0, live = 0;

	if (children(&v, &n) < 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (v[i] != m->main.pid && procmgr_pid_alive(v[i])) {
			*ret_one = v[i];
			live++;
		}
	free(v);
	return live;
}

/* The pid a --pid-file names, if it is a live process of our tree. */
static pid_t pid_file_pid(struct mon *m)
{
	char *v = NULL;
	pid_t pid = 0;
	pid_t *tree = NULL;
	unsigned long long *starts = NULL;
	size_t n = 0;

	/* A regular file, not followed through a symlink, never a FIFO. */
	if (pm_read_at(AT_FDCWD, m->job.pid_file, 64, &v, NULL) < 0 ||
	    pm_parse_pid(v, &pid) < 0)
		pid = 0;
	free(v);
	if (pid && pm_tree(getpid(), &tree, &starts, &n) == 0) {
		size_t i = 0;

		while (i < n && tree[i] != pid)
			i++;
		if (i == n)
			pid = 0;
	}
	free(tree);
	free(starts);
	return pid;
}

/* PH_ADOPTING: adopt now, keep waiting, or (deadline) give up on it. */
static void try_adopt(struct mon *m, bool deadline)
{
	pid_t one = 0;
	size_t n = candidates(m, &one);
	pid_t named = m->job.pid_file ? pid_file_pid(m) : 0;

	if (named) {
		one = named;
		n = 1;
	} else if (m->job.pid_file && !deadline && n > 0) {
		return;		/* it may write the file yet */
	}
	if (n == 1) {
		m->d_adopt = -1;
		mon_adopt(m, one, m->job.pid_file ? "named in its pid file" :
			  "forked and exited 0");
		return;
	}
	if (n > 1 && !deadline)
		return;		/* a middle child may be about to exit */
	m->d_adopt = -1;
	m->phase = m->adopt_from;
	if (!lock_or_end(m))
		return;
	finish(m, 0, 0, true, NULL);
}

/* The daemon has exited; we still hold it as a zombie if it is a child. */
static void main_ended(struct mon *m, int status, int sig, bool known)
{
	int asked = m->ending ? 0 : stop_asked(m);

	log_exit(m, status, sig, known);
	/*
	 * Removed (a stop or purge) or taken over by a successor: that never
	 * turns back, so it needs no lock to see, and nothing is left to do
	 * but clear our tree. Taking the lock here would make the next
	 * command wait for us.
	 */
	if (!m->ending && !mon_owns_name(m, m->main.pid)) {
		stop_leftovers(m);
		if (m->main.pid == m->child)
			reap(m->child);
		if (m->first)
			mon_answer_error(m, ECHILD, "%s (pid %d) ended while "
					 "its metadata was removed",
					 m->h->name, (int)m->main.pid);
		m->done = true;
		return;
	}
	/* Only a starter still waiting is owed the death as its answer. */
	if (asked && !(m->first && m->phase == PH_STARTING && m->ctl >= 0)) {
		stopped_by_request(m, status, sig, known, asked == 1);
		return;
	}
	if (known && status == 0 && !sig && !m->ending && !asked) {
		m->adopt_from = m->phase;
		m->phase = PH_ADOPTING;
		m->d_adopt = mon_now() + ADOPT_GRACE;
		try_adopt(m, false);
		return;
	}
	if (!lock_or_end(m))
		return;
	finish(m, status, sig, known, m->ending);
}

int mon_adopt(struct mon *m, pid_t pid, const char *how)
{
	pid_t old = m->main.pid;
	bool exited_old = m->phase == PH_ADOPTING;
	int r;

	r = mon_lock(m);
	if (r < 0)
		return r;
	if (!mon_owns_name(m, old)) {
		if (exited_old)
			finish(m, 0, 0, true, NULL);
		else
			mon_unlock(m);
		return -ESTALE;
	}
	r = mon_record_main(m, pid);
	pm_event(m->log, "pid %d is the daemon now (%s)", (int)pid, how);
	if (exited_old && old == m->child)
		reap(old);
	pm_pref_close(&m->main);
	if (pm_pref_open(pid, 0, &m->main) < 0)
		m->main = (struct pm_pref){ .pid = pid, .fd = -1 };
	if (exited_old)
		m->phase = m->adopt_from;
	mon_unlock(m);
	if (m->phase == PH_STARTING &&
	    m->job.ready.kind == PROCMGR_READY_EXEC)
		mon_became_ready(m);
	return r;
}

void mon_on_sigchld(struct mon *m)
{
	pid_t *v = NULL;
	size_t n = 0;
	int status, sig;

	if (children(&v, &n) < 0)
		return;
	for (size_t i = 0; i < n && !m->done; i++) {
		if (!exited(v[i], &status, &sig))
			continue;
		/* an orphan, a former main, or (draining) the last one */
		if (v[i] != m->main.pid || m->phase == PH_DRAINING)
			reap(v[i]);
		else if (m->phase != PH_ADOPTING && m->phase != PH_BACKOFF &&
			 m->phase != PH_DRAINING)
			main_ended(m, status, sig, true);
	}
	free(v);
	if (!m->done && m->phase == PH_ADOPTING)
		try_adopt(m, false);
	if (!m->done && m->phase == PH_DRAINING)
		m->done = tree_empty();
}

void mon_on_main_fd(struct mon *m)
{
	int status, sig;

	if (!pm_pref_exited(&m->main) || m->phase == PH_ADOPTING ||
	    m->phase == PH_BACKOFF || m->phase == PH_DRAINING)
		return;
	/* Ours now (its parent died): SIGCHLD tells, with the status. */
	if (exited(m->main.pid, &status, &sig))
		return;
	pm_pref_close(&m->main);
	main_ended(m, -1, 0, false);
}

void mon_on_adopt_deadline(struct mon *m)
{
	m->d_adopt = -1;
	if (m->phase == PH_ADOPTING)
		try_adopt(m, true);
}

void mon_stop_self(struct mon *m, const char *reason)
{
	int status = -1, sig = 0, r;
	bool known = false;
	siginfo_t si = { 0 };

	m->ending = reason;
	if (!lock_or_end(m))
		return;
	r = pm_stop_tree(m->h, &m->main, getpid(), &m->job.stop, m->log);
	if (r <= 0) {
		pm_event(m->log, "%s", procmgr_errmsg(m->h));
		end(m);
		return;
	}
	if (m->main.pid == m->child &&
	    waitid(P_PID, (id_t)m->child, &si, WEXITED | WNOWAIT) == 0) {
		known = true;
		status = si.si_code == CLD_EXITED ? si.si_status : -1;
		sig = si.si_code == CLD_EXITED ? 0 : si.si_status;
	}
	log_exit(m, status, sig, known);
	finish(m, status, sig, known, reason);
}

void mon_on_restart_deadline(struct mon *m)
{
	char why[64];
	int limit = mon_restart_limit(m);

	m->d_restart = -1;
	if (!lock_or_end(m))
		return;
	/* Stopped, purged or started anew meanwhile: not ours to restart. */
	if (!mon_owns_name(m, m->main.pid) || stop_asked(m)) {
		pm_event(m->log, "not restarting: %s was stopped or replaced",
			 m->h->name);
		end(m);
		return;
	}
	m->restarts++;
	snprintf(why, sizeof(why), "restart %d of %d", m->in_a_row, limit);
	/* The lock stays ours until the new run is ready or fails. */
	m->start_locked = true;
	if (mon_launch(m, why) < 0) {
		m->start_locked = false;
		end(m);
	}
}

void mon_on_idle_deadline(struct mon *m)
{
	unsigned long long *starts = NULL;
	pid_t *pids = NULL;
	size_t n = 0;
	int busy = 0;

	m->d_idle = -1;
	if (m->phase != PH_RUNNING)
		return;
	if (pm_tree(getpid(), &pids, &starts, &n) == 0)
		busy = pm_tree_has_client(pids, n) == 1;
	free(pids);
	free(starts);
	if (busy) {
		m->d_idle = mon_after(m->job.idle_timeout);
		return;
	}
	pm_event(m->log, "idle for %gs: stopping", m->job.idle_timeout);
	mon_stop_self(m, "idle");
}

void mon_on_watchdog_deadline(struct mon *m)
{
	m->d_watchdog = -1;
	if (m->phase != PH_STARTING && m->phase != PH_RUNNING)
		return;
	pm_event(m->log, "watchdog: no WATCHDOG=1 for %gs: stopping",
		 m->job.watchdog);
	mon_stop_self(m, "watchdog");
}
