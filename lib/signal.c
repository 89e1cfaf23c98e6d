/*
 * signal.c - signal names, and the signal chain of a stop: parsed from the
 * caller's options, checked, and said in messages.
 */
#include "internal.h"

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
void pm_chain_text(const struct pm_chain *c, char *out, size_t size)
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < c->n_signals && o < size; i++) {
		const char *name = procmgr_signal_name(c->signals[i]);

		if (name)
			o += (size_t)snprintf(out + o, size - o, "%sSIG%s",
					      i ? ", " : "", name);
		else
			o += (size_t)snprintf(out + o, size - o, "%ssignal %d",
					      i ? ", " : "", c->signals[i]);
	}
}

const char *pm_sig_text(int sig, char *buf, size_t size)
{
	const char *name = procmgr_signal_name(sig);

	if (name)
		snprintf(buf, size, "SIG%s", name);
	else
		snprintf(buf, size, "signal %d", sig);
	return buf;
}

static const int default_chain[] = { SIGTERM, SIGKILL };

int pm_chain_from(procmgr *h, const struct procmgr_stop_opts *opts,
		  struct pm_chain *ret)
{
	struct pm_chain c = { .kill_wait = -1 };
	const int *sigs = default_chain;
	size_t n = 2;

	if (opts) {
		c.kill_wait = opts->kill_wait;
		c.kill_mode = opts->kill_mode;
		if (opts->signals) {
			sigs = opts->signals;
			n = opts->n_signals;
		}
	}
	/*
	 * Refuse a chain that could not stop anything before touching the
	 * lock: signal 0 only probes, and a number past SIGRTMAX would fail
	 * midway.
	 */
	if (n == 0)
		return pm_error(h, EINVAL, "the signal chain is empty; name at "
				"least one signal");
	if (n > PM_CHAIN_MAX)
		return pm_error(h, EINVAL, "the signal chain has %zu signals; "
				"at most %d", n, PM_CHAIN_MAX);
	for (size_t i = 0; i < n; i++) {
		if (sigs[i] < 1 || sigs[i] > SIGRTMAX)
			return pm_error(h, EINVAL, "signal %d in the chain is "
					"not a signal; use 1-%d or a name "
					"such as TERM", sigs[i], SIGRTMAX);
		c.signals[i] = sigs[i];
	}
	c.n_signals = n;
	if (c.kill_mode != PROCMGR_KILL_TREE &&
	    c.kill_mode != PROCMGR_KILL_PROCESS)
		return pm_error(h, EINVAL, "unknown kill mode %d",
				(int)c.kill_mode);
	*ret = c;
	return 0;
}

void pm_exit_text(int status, int sig, char *buf, size_t size)
{
	const char *name = procmgr_signal_name(sig);

	if (sig > 0 && name)
		snprintf(buf, size, "signal=%s", name);
	else if (sig > 0)
		snprintf(buf, size, "signal=%d", sig);
	else
		snprintf(buf, size, "status=%d", status);
}
