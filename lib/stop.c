/*
 * stop.c - signal names and stopping a daemon along a signal chain.
 *
 * Signals go through a pidfd that was verified to name the recorded
 * process after it was opened (pm_pidfd_verified()), so a pid the kernel
 * has since handed to another process is never signalled, and waiting is a
 * poll() on that pidfd, which wakes the moment the process exits.
 */
#include "internal.h"

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/pidfd.h>
#include <unistd.h>

#define DEFAULT_KILL_WAIT 5.0	/* seconds, as pants */
/*
 * SIGKILL cannot be caught, but the kernel still needs a moment to tear the
 * process down: after a KILL wait at least this long, so "--kill-wait 0"
 * does not report a process that is dying as one that survived.
 */
#define KILL_GRACE 1.0

static const struct {
	int sig;
	const char *name;
} signals[] = {
	{ SIGHUP, "HUP" }, { SIGINT, "INT" }, { SIGQUIT, "QUIT" },
	{ SIGILL, "ILL" }, { SIGTRAP, "TRAP" }, { SIGABRT, "ABRT" },
	{ SIGBUS, "BUS" }, { SIGFPE, "FPE" }, { SIGKILL, "KILL" },
	{ SIGUSR1, "USR1" }, { SIGSEGV, "SEGV" }, { SIGUSR2, "USR2" },
	{ SIGPIPE, "PIPE" }, { SIGALRM, "ALRM" }, { SIGTERM, "TERM" },
	{ SIGSTKFLT, "STKFLT" }, { SIGCHLD, "CHLD" }, { SIGCONT, "CONT" },
	{ SIGSTOP, "STOP" }, { SIGTSTP, "TSTP" }, { SIGTTIN, "TTIN" },
	{ SIGTTOU, "TTOU" }, { SIGURG, "URG" }, { SIGXCPU, "XCPU" },
	{ SIGXFSZ, "XFSZ" }, { SIGVTALRM, "VTALRM" }, { SIGPROF, "PROF" },
	{ SIGWINCH, "WINCH" }, { SIGIO, "IO" }, { SIGPWR, "PWR" },
	{ SIGSYS, "SYS" }, { SIGIOT, "IOT" }, { SIGPOLL, "POLL" },
	{ SIGCHLD, "CLD" },
};

int procmgr_signal_parse(const char *s)
{
	char *end;
	long n;

	if (!s || !*s)
		return -EINVAL;
	if (isdigit((unsigned char)s[0])) {
		errno = 0;
		n = strtol(s, &end, 10);
		if (errno || *end || n < 1 || n > SIGRTMAX)
			return -EINVAL;
		return (int)n;
	}
	if (!strncasecmp(s, "SIG", 3))
		s += 3;
	for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
		if (!strcasecmp(s, signals[i].name))
			return signals[i].sig;
	return -EINVAL;
}

const char *procmgr_signal_name(int sig)
{
	/* the first entry for a number is its canonical name */
	for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
		if (signals[i].sig == sig)
			return signals[i].name;
	return NULL;
}

/* "SIGTERM, SIGKILL" for a message. */
static void chain_text(const int *sigs, size_t n, char *out, size_t size)
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n && o < size; i++) {
		const char *name = procmgr_signal_name(sigs[i]);

		if (name)
			o += (size_t)snprintf(out + o, size - o, "%sSIG%s",
					      i ? ", " : "", name);
		else
			o += (size_t)snprintf(out + o, size - o, "%ssignal %d",
					      i ? ", " : "", sigs[i]);
	}
}

/* Remove the metadata unless asked to keep it; never a successor's. */
static int drop_metadata(procmgr *h, const struct procmgr_stop_opts *o,
			 pid_t pid)
{
	int r;

	if (o->keep_metadata)
		return 0;
	r = pm_meta_remove_if(h, pid);
	/* -ESTALE: a successor recorded itself meanwhile; its metadata stays */
	return r == -ESTALE ? 0 : r;
}

static const int default_chain[] = { SIGTERM, SIGKILL };

/* Send the chain through the pidfd: 1 once the process is gone, 0 not. */
static int signal_chain(procmgr *h, int pidfd, pid_t pid,
			const struct procmgr_stop_opts *o)
{
	const int *sigs = o->signals;
	size_t n = o->n_signals;
	double wait = o->kill_wait < 0 ? DEFAULT_KILL_WAIT : o->kill_wait;
	int r;

	for (size_t i = 0; i < n; i++) {
		/* ESRCH: it exited (and was reaped) since the last wait */
		if (pidfd_send_signal(pidfd, sigs[i], NULL, 0) < 0)
			return errno == ESRCH ? 1 :
			       pm_error(h, errno, "cannot send signal %d to "
					"pid %d: %s", sigs[i], (int)pid,
					strerror(errno));
		r = pm_pidfd_wait(pidfd, sigs[i] == SIGKILL && wait < KILL_GRACE ?
					  KILL_GRACE : wait);
		if (r < 0)
			return pm_error(h, -r, "cannot wait for pid %d: %s",
					(int)pid, strerror(-r));
		if (r)
			return 1;
	}
	return 0;
}

static int stop_running(procmgr *h, const struct procmgr_stop_opts *o,
			pid_t pid)
{
	char chain[256];
	int pidfd, r;

	r = pm_pidfd_verified(h, pid, &pidfd);
	/* gone (or replaced) since the status was read: nothing to signal */
	if (r == -ESRCH)
		return drop_metadata(h, o, pid);
	if (r < 0)
		return r;
	r = pm_check_owner(h, pid);
	if (r == 0)
		r = signal_chain(h, pidfd, pid, o);
	close(pidfd);
	if (r < 0)
		return r;
	if (r == 0) {
		chain_text(o->signals, o->n_signals, chain, sizeof(chain));
		return pm_error(h, EBUSY, "pid %d of %s survived %s; metadata "
				"kept in %s", (int)pid, h->name, chain,
				h->meta_dir);
	}
	r = drop_metadata(h, o, pid);
	return r < 0 ? r : 1;
}

/*
 * Refuse a chain that could not stop anything before touching the lock:
 * signal 0 only probes, and a number past SIGRTMAX would fail midway.
 */
static int check_chain(procmgr *h, const struct procmgr_stop_opts *o)
{
	if (o->n_signals == 0)
		return pm_error(h, EINVAL, "the signal chain is empty; name at "
				"least one signal");
	for (size_t i = 0; i < o->n_signals; i++)
		if (o->signals[i] < 1 || o->signals[i] > SIGRTMAX)
			return pm_error(h, EINVAL, "signal %d in the chain is "
					"not a signal; use 1-%d or a name "
					"such as TERM", o->signals[i],
					SIGRTMAX);
	return 0;
}

int procmgr_stop(procmgr *h, const struct procmgr_stop_opts *opts,
		 pid_t *ret_pid)
{
	struct procmgr_stop_opts o = { .kill_wait = -1 };
	struct procmgr_status st;
	int r;

	if (opts)
		o = *opts;
	if (!o.signals) {
		o.signals = default_chain;
		o.n_signals = 2;
	}
	r = check_chain(h, &o);
	if (r < 0)
		return r;
	r = procmgr_lock(h);
	if (r < 0)
		return r;
	pm_sweep_litter(h);
	r = procmgr_status(h, &st);
	if (r < 0)
		goto out;
	/* stale or stopped: success with nothing signalled (SPEC §3) */
	if (st.state == PROCMGR_RUNNING)
		r = stop_running(h, &o, st.pid);
	else if (st.state == PROCMGR_STALE)
		r = drop_metadata(h, &o, st.pid);
	if (r >= 0 && ret_pid)
		*ret_pid = r == 1 ? st.pid : 0;
	procmgr_status_clear(&st);
out:
	procmgr_unlock(h);
	return r;
}
