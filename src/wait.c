/*
 * wait.c - interrupts and the live wait line.
 *
 * Ctrl-C: SIGINT, SIGTERM and SIGHUP get a handler that notes the signal
 * and writes a byte to a self-pipe every handle watches
 * (procmgr_set_cancel_fd()), so a library wait returns -EINTR (SPEC §6)
 * even when the signal came just before it began to wait. The command then unwinds as for any error - the handle is
 * freed, which releases the lock - and main() ends by the same signal, so
 * the shell sees 128 + its number (130 for Ctrl-C).
 *
 * The wait line (SPEC §4): a wait that lasts over a second tells a person
 * at a terminal what it waits for and for how long, on one stderr line
 * rewritten in place each second:
 *
 *	waiting for web to be ready (notify)... 3s
 *
 * The library only says when a wait begins and ends (procmgr_wait_fn); a
 * thread of ours, with every signal blocked, keeps the clock. Every other
 * stderr line of the command takes the same mutex and wipes the wait line
 * first, so the two never mix.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

volatile sig_atomic_t cli_signal;

/* The self-pipe the handler writes to, which every library wait polls. */
static int cancel_r = -1, cancel_w = -1;

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t thread;
	bool started;
	bool active;		/* a wait is under way */
	bool shown;		/* the line is on the terminal */
	char what[256];
	struct timespec since;	/* CLOCK_MONOTONIC */
} w = { .mu = PTHREAD_MUTEX_INITIALIZER };

#ifdef PROCMGR_COVERAGE
extern void __gcov_dump(void);
#endif

static void on_signal(int sig)
{
	int saved = errno;

	cli_signal = sig;
	if (cancel_w >= 0)
		(void)!write(cancel_w, "", 1);
	errno = saved;
}

int cli_cancel_fd(void)
{
	return cancel_r;
}

void cli_catch_signals(void)
{
	static const int caught[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa;
	int p[2];

	/*
	 * A signal that lands after the handler is in place but before a
	 * wait blocks would only be noted: the pipe makes the wait see it.
	 */
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) == 0) {
		cancel_r = p[0];
		cancel_w = p[1];
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: waits return EINTR */
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(caught) / sizeof(caught[0]); i++) {
		struct sigaction old;

		/*
		 * An ignored signal stays ignored, as the shell meant it: a
		 * background job's SIGINT, nohup's SIGHUP.
		 */
		if (sigaction(caught[i], NULL, &old) == 0 &&
		    old.sa_handler == SIG_IGN)
			continue;
		sigaction(caught[i], &sa, NULL);
	}
}

void cli_end_by_signal(void)
{
	int sig = cli_signal;

	if (!sig)
		return;
	cli_wait_clear();
	fflush(stdout);
#ifdef PROCMGR_COVERAGE
	__gcov_dump();	/* death by a signal would lose the counters */
#endif
	signal(sig, SIG_DFL);
	raise(sig);
	_exit(128 + sig);
}

/* Wipe the line; w.mu held. */
static void wipe(void)
{
	if (w.shown)
		fputs("\r\033[K", stderr);
	w.shown = false;
}

void cli_wait_clear(void)
{
	pthread_mutex_lock(&w.mu);
	wipe();
	pthread_mutex_unlock(&w.mu);
}

void cli_stderr_lock(void)
{
	pthread_mutex_lock(&w.mu);
	wipe();
}

void cli_stderr_unlock(void)
{
	fflush(stderr);
	pthread_mutex_unlock(&w.mu);
}

static void *ticker(void *arg)
{
	struct timespec next, now;

	(void)arg;
	pthread_mutex_lock(&w.mu);
	for (;;) {
		if (!w.active) {
			pthread_cond_wait(&w.cv, &w.mu);
			continue;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		long secs = (long)(now.tv_sec - w.since.tv_sec -
				   (now.tv_nsec < w.since.tv_nsec));
		/* Nothing during the first second: most waits are shorter. */
		if (secs >= 1) {
			fprintf(stderr, "\r%s\xe2\x80\xa6 %lds\033[K", w.what,
				secs);
			fflush(stderr);
			w.shown = true;
		}
		next = w.since;
		next.tv_sec += secs + 1;
		pthread_cond_timedwait(&w.cv, &w.mu, &next);
	}
	return NULL;
}

static void on_wait(procmgr *h, const char *what, void *userdata)
{
	(void)h;
	(void)userdata;
	pthread_mutex_lock(&w.mu);
	if (what) {
		snprintf(w.what, sizeof(w.what), "waiting for %s", what);
		clock_gettime(CLOCK_MONOTONIC, &w.since);
		w.active = true;
	} else {
		w.active = false;
		wipe();
	}
	pthread_cond_signal(&w.cv);
	pthread_mutex_unlock(&w.mu);
}

static int start_ticker(void)
{
	pthread_condattr_t ca;
	sigset_t all, old;
	int r;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w.cv, &ca);
	pthread_condattr_destroy(&ca);
	/* Signals are the main thread's: its waits must see EINTR. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&w.thread, NULL, ticker, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r == 0)
		pthread_detach(w.thread);
	return r;
}

void cli_wait_line(const struct cli *c, procmgr *h)
{
	if (c->quiet || !isatty(STDERR_FILENO))
		return;
	if (!w.started && start_ticker() != 0)
		return;
	w.started = true;
	procmgr_set_wait_fn(h, on_wait, NULL);
}
