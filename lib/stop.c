/*
 * stop.c - stopping a daemon and its tree along a signal chain.
 *
 * Every process is signalled through a reference opened and then checked
 * to be the process meant (pref.c): a pidfd, so a pid the kernel has since
 * handed to another process is never signalled and the wait is a poll()
 * that wakes the moment it exits; or, where the kernel refuses pidfds,
 * kill(2) with the start time checked again right before.
 *
 * The daemon comes first, along the whole chain, so that it can shut its
 * workers down itself; then whatever is left of its tree (SPEC §6) gets
 * the same chain. The tree is the monitor's descendants (it is a child
 * subreaper, so orphans stay with it), or the daemon's own when no monitor
 * lives, snapshotted before the daemon dies since its children then leave
 * for init.
 */
#include "internal.h"

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define DEFAULT_KILL_WAIT 5.0	/* seconds, as pants */
/*
 * SIGKILL cannot be caught, but the kernel still needs a moment to tear the
 * process down: after a KILL wait at least this long, so "--kill-wait 0"
 * does not report a process that is dying as one that survived.
 */
#define KILL_GRACE 1.0

/* How long to wait after sig. */
static double wait_after(const struct pm_chain *c, int sig)
{
	double wait = c->kill_wait < 0 ? DEFAULT_KILL_WAIT : c->kill_wait;

	return sig == SIGKILL && wait < KILL_GRACE ? KILL_GRACE : wait;
}

/*
 * Send sig, then SIGCONT (as systemd does): a stopped process acts on
 * neither TERM nor INT until it runs again. -ESRCH once gone.
 */
static int send_sig(struct pm_pref *p, int sig)
{
	int r = pm_pref_signal(p, sig);

	if (r == 0 && sig != SIGKILL && sig != SIGCONT)
		pm_pref_signal(p, SIGCONT);
	return r;
}

/*
 * A process of the tree owned by another user is not signalled (the kernel
 * would refuse anyway). Root may: the kernel listed it as a descendant of
 * the monitor or the daemon, so it is theirs whatever its uid (workers of
 * a root daemon often drop to another user).
 */
static bool owned(pid_t pid)
{
	uid_t uid, me = geteuid();

	return me == 0 || (pm_proc_uid(pid, &uid) == 0 && uid == me);
}

/* The daemon along the chain: 1 gone, 0 survived, < 0 error. */
static int stop_main(procmgr *h, struct pm_pref *m, const struct pm_chain *c,
		     int log_fd)
{
	char sig[32];
	int r = 0;

	for (size_t i = 0; i < c->n_signals; i++) {
		pm_sig_text(c->signals[i], sig, sizeof(sig));
		if (pm_pref_exited(m))
			return 1;
		/*
		 * Logged before it is sent: the monitor logs the death, and
		 * the story must not have the daemon die before the signal.
		 */
		pm_event(log_fd, "sent %s to pid %d", sig, (int)m->pid);
		r = send_sig(m, c->signals[i]);
		if (r == -ESRCH)
			return 1;
		if (r < 0)
			return pm_error(h, -r, "cannot send %s to pid %d of %s: "
					"%s", sig, (int)m->pid, h->name,
					strerror(-r));
		pm_waiting(h, "pid %d of %s to exit after %s", (int)m->pid,
			   h->name, sig);
		r = pm_pref_wait(h, m, 1, wait_after(c, c->signals[i]));
		pm_waiting(h, NULL);
		if (r <= 0)
			return r == 0 ? 1 : r;
	}
	return 0;
}

struct tree {
	struct pm_pref *v;
	size_t n, cap;
};

static void tree_clear(struct tree *t)
{
	for (size_t i = 0; i < t->n; i++)
		pm_pref_close(&t->v[i]);
	free(t->v);
	t->v = NULL;
	t->n = t->cap = 0;
}

/* Add root's live descendants not yet in t (and not main). */
static int tree_add(struct tree *t, pid_t root, pid_t main_pid)
{
	unsigned long long *starts = NULL;
	pid_t *pids = NULL;
	size_t n = 0, added = 0;
	int r;

	r = pm_tree(root, &pids, &starts, &n);
	for (size_t i = 0; r == 0 && i < n; i++) {
		bool known = pids[i] == main_pid || !owned(pids[i]);

		for (size_t j = 0; j < t->n && !known; j++)
			known = t->v[j].pid == pids[i] && !t->v[j].gone;
		if (known)
			continue;
		if (t->n == t->cap) {
			size_t cap = t->cap ? t->cap * 2 : 8;
			struct pm_pref *nv = realloc(t->v, cap * sizeof(*nv));

			if (!nv) {
				r = -ENOMEM;
				break;
			}
			t->v = nv;
			t->cap = cap;
		}
		if (pm_pref_open(pids[i], starts[i], &t->v[t->n]) == 0) {
			t->n++;
			added++;
		}
	}
	free(pids);
	free(starts);
	return r < 0 ? r : (int)added;
}

/* "12 13 14" of the live members, for the log and messages. */
static void live_pids(struct tree *t, char *buf, size_t size)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < t->n && o + 12 < size; i++)
		if (!pm_pref_exited(&t->v[i]))
			o += (size_t)snprintf(buf + o, size - o, "%s%d",
					      o ? " " : "", (int)t->v[i].pid);
}

static size_t signal_all(struct tree *t, int sig)
{
	size_t sent = 0;

	for (size_t i = 0; i < t->n; i++)
		sent += send_sig(&t->v[i], sig) == 0;
	return sent;
}

/* Rounds of the last signal for processes forked while the chain ran. */
#define LATE_ROUNDS 10

/* The rest of the tree along the chain: 1 all gone, 0 not, < 0 error. */
static int stop_rest(procmgr *h, struct tree *t, pid_t root, pid_t main_pid,
		     const struct pm_chain *c, int log_fd)
{
	size_t steps = c->n_signals + LATE_ROUNDS;
	char sig[32], pids[256];
	int r = 0;

	for (size_t i = 0; i < steps; i++) {
		int s = c->signals[i < c->n_signals ? i : c->n_signals - 1];

		r = tree_add(t, root, main_pid);
		if (r < 0)
			return pm_error(h, -r, "cannot read the process tree of "
					"%s: %s", h->name, strerror(-r));
		/* The chain is done and nothing new came: see who is left. */
		if (i >= c->n_signals && r == 0)
			break;
		live_pids(t, pids, sizeof(pids));
		if (!pids[0])
			return 1;
		pm_sig_text(s, sig, sizeof(sig));
		if (signal_all(t, s) == 0)
			continue;
		pm_event(log_fd, "sent %s to the rest of %s's tree: %s", sig,
			 h->name, pids);
		pm_waiting(h, "the rest of %s's tree to exit after %s",
			   h->name, sig);
		r = pm_pref_wait(h, t->v, t->n, wait_after(c, s));
		pm_waiting(h, NULL);
		if (r < 0)
			return r;
	}
	live_pids(t, pids, sizeof(pids));
	if (!pids[0])
		return 1;
	pm_chain_text(c, sig, sizeof(sig));
	return pm_error(h, ETIME, "processes of %s's tree survived %s: %s",
			h->name, sig, pids);
}

int pm_stop_tree(procmgr *h, struct pm_pref *m, pid_t tree_root,
		 const struct pm_chain *c, int log_fd)
{
	struct tree t = { 0 };
	bool tree = c->kill_mode == PROCMGR_KILL_TREE;
	pid_t main_pid = m ? m->pid : 0;
	int r = 1;

	/*
	 * Without a monitor the daemon's children leave it when it dies:
	 * without their list, nothing is signalled (they would be lost).
	 */
	if (tree && m && tree_root == m->pid) {
		r = tree_add(&t, tree_root, main_pid);
		if (r < 0)
			goto fail;
		r = 1;
	}
	if (m)
		r = stop_main(h, m, c, log_fd);
	if (r == 1 && tree)
		r = stop_rest(h, &t, tree_root, main_pid, c, log_fd);
fail:
	tree_clear(&t);
	return r;
}

/* Remove the metadata unless asked to keep it; never a successor's. */
static int drop_metadata(procmgr *h, const struct procmgr_stop_opts *o,
			 pid_t pid)
{
	int r;

	if (o && o->keep_metadata)
		return 0;
	r = pm_meta_remove_if(h, pid);
	/* -ESTALE: a successor recorded itself meanwhile; its metadata stays */
	return r == -ESTALE ? 0 : r;
}


/*
 * A reference on the recorded daemon, checked after it was opened to be
 * the process the metadata names: -ESRCH when it is not (any more).
 */
static int open_daemon(procmgr *h, pid_t pid, struct pm_pref *ret)
{
	int r = pm_pref_open(pid, 0, ret);

	if (r < 0)
		return r == -ESRCH ? r : pm_error(h, -r, "cannot open pid %d "
						   "of %s: %s", (int)pid,
						   h->name, strerror(-r));
	r = pm_identity_matches(h, pid);
	if (r == 1 && pm_pref_exited(ret) == 0)
		return 0;
	pm_pref_close(ret);
	return r < 0 ? r : -ESRCH;
}

/*
 * Tell a live monitor the end is asked for, so that it neither restarts
 * the daemon nor takes the stop for a crash: key stopping says whether
 * the metadata stays ("keep", so the monitor records the exit) or goes
 * ("remove": it writes nothing into a directory being removed), whether
 * the stop spares the rest of the tree ("process", for --kill-mode
 * process: the monitor must not take it with its own kill mode), and who
 * asked.
 */
static void mark_stopping(procmgr *h, const struct procmgr_stop_opts *o,
			  pid_t monitor, const char *who)
{
	char *v;

	if (monitor <= 0)
		return;
	v = pm_asprintf("%s%s by %s%s", o && o->keep_metadata ? "keep" :
			"remove", o && o->kill_mode == PROCMGR_KILL_PROCESS ?
			" process" : "", who ? "pid " : "", who ? who : "a process");
	if (v)
		procmgr_write(h, "stopping", v);
	free(v);
}

/*
 * The monitor learns of the stop from key stopping, when the daemon dies.
 * Had we removed the metadata by then, it would take the end for a crash:
 * clear what is left of the tree with its own kill mode (killing the
 * children --kill-mode process spares) and take the lock to record it, so
 * that the next command on NAME waits for a monitor that is going away.
 * So let it read the key first: wait (bounded; it needs no lock for this)
 * until the monitor, seeing the stop, has ended.
 */
static void let_monitor_see(pid_t monitor)
{
	struct pm_pref mon;

	if (monitor <= 0 || pm_pref_open(monitor, 0, &mon) < 0)
		return;
	pm_pref_wait(NULL, &mon, 1, DEFAULT_KILL_WAIT);
	pm_pref_close(&mon);
}

static int stop_running(procmgr *h, const struct procmgr_stop_opts *o,
			const struct pm_chain *c, pid_t pid, pid_t monitor)
{
	struct pm_pref m;
	char *who = NULL;
	int log_fd, r;

	r = open_daemon(h, pid, &m);
	/* gone (or replaced) since the status was read: nothing to signal */
	if (r == -ESRCH)
		return drop_metadata(h, o, pid);
	if (r < 0)
		return r;
	r = pm_check_owner(h, pid);
	if (r != 0) {
		pm_pref_close(&m);
		return r < 0 ? r : drop_metadata(h, o, pid);
	}
	who = pm_self_text();
	mark_stopping(h, o, monitor, who);
	log_fd = pm_event_log_open(h);
	pm_event(log_fd, "stop requested by %s%s", who ? "pid " : "",
		 who ? who : "a process");
	r = pm_stop_tree(h, &m, monitor > 0 ? monitor : pid, c, log_fd);
	if (r == 1)
		let_monitor_see(monitor);
	if (log_fd >= 0)
		close(log_fd);
	/* Not stopped after all: a later crash is a crash again. */
	if (r <= 0 && !pm_pref_exited(&m))
		procmgr_delete(h, "stopping");
	pm_pref_close(&m);
	free(who);
	if (r == 0) {
		char chain[256];

		pm_chain_text(c, chain, sizeof(chain));
		return pm_error(h, ETIME, "pid %d of %s survived %s; metadata "
				"kept in %s", (int)pid, h->name, chain,
				h->meta_dir);
	}
	if (r == -EINTR)
		return pm_error(h, EINTR, "interrupted while stopping %s "
				"(pid %d); its metadata is kept", h->name,
				(int)pid);
	if (r < 0)
		return r;
	r = drop_metadata(h, o, pid);
	return r < 0 ? r : 1;
}

/*
 * Not running, but a monitor may live on: between restarts, or with
 * leftovers of the tree. Stop those and keep it from restarting.
 */
static int stop_stale(procmgr *h, const struct procmgr_stop_opts *o,
		      const struct pm_chain *c, pid_t pid, pid_t monitor)
{
	char *who;
	int r = 0;

	if (monitor > 0) {
		who = pm_self_text();
		mark_stopping(h, o, monitor, who);
		free(who);
		if (c->kill_mode == PROCMGR_KILL_TREE)
			r = pm_stop_tree(h, NULL, monitor, c, -1);
		if (r == -EINTR)
			return pm_error(h, EINTR, "interrupted while stopping "
					"what is left of %s", h->name);
		if (r < 0)
			return r;
	}
	return drop_metadata(h, o, pid);
}

int procmgr_stop(procmgr *h, const struct procmgr_stop_opts *opts,
		 pid_t *ret_pid)
{
	struct procmgr_status st;
	struct pm_chain c;
	pid_t monitor;
	int r;

	r = pm_check_open(h);
	if (r < 0)
		return r;
	r = pm_chain_from(h, opts, &c);
	if (r < 0)
		return r;
	r = pm_lock_and_sweep(h, &st);
	if (r < 0)
		return r;
	monitor = st.monitor;
	/* stale or stopped: success with nothing signalled (SPEC §3) */
	if (st.state == PROCMGR_RUNNING)
		r = stop_running(h, opts, &c, st.pid, monitor);
	else if (st.state == PROCMGR_STALE || st.exit.known)
		r = stop_stale(h, opts, &c, st.pid, monitor);
	if (r >= 0 && ret_pid)
		*ret_pid = r == 1 ? st.pid : 0;
	procmgr_status_clear(&st);
	procmgr_unlock(h);
	return r;
}
