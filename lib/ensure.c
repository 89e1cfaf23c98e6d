/*
 * ensure.c - procmgr_ensure(): keep a daemon that runs with these options,
 * else start it anew (start.c). The common case, kept, reads the state
 * without taking the lock; any change happens under the lock, from the
 * first look at the metadata to the new daemon being ready.
 */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* "memory 4.2 GiB over --max-rss 4 GiB" when the tree uses too much. */
static int over_memory(procmgr *h, uint64_t max, char **ret_reason)
{
	char used[32], limit[32];
	uint64_t rss;

	if (max == 0 || procmgr_tree_rss(h, &rss) < 0 || rss <= max)
		return 0;
	procmgr_format_size(rss, used, sizeof(used));
	procmgr_format_size(max, limit, sizeof(limit));
	*ret_reason = pm_asprintf("memory %s over --max-rss %s", used, limit);
	return *ret_reason ? 0 : -ENOMEM;
}

/*
 * Why a running daemon must be restarted, or NULL when it may stay: it
 * never became ready, its fingerprint differs, or its tree uses more
 * memory than max_rss allows.
 */
static int compare_running(procmgr *h, const struct procmgr_spawn_opts *o,
			   const struct procmgr_status *st, char **ret_reason)
{
	char fp[PROCMGR_SHA256_HEX + 1];
	char *inputs = NULL, *old = NULL;
	int r;

	*ret_reason = NULL;
	if (!st->ready) {
		*ret_reason = strdup("not ready");
		return *ret_reason ? 0 : -ENOMEM;
	}
	r = pm_fingerprint(h, o, fp, &inputs);
	if (r < 0)
		return r;
	if (!st->fingerprint || strcmp(st->fingerprint, fp)) {
		if (procmgr_read(h, "fingerprint_inputs", &old) < 0)
			old = NULL;
		r = pm_fingerprint_reason(old, inputs, ret_reason);
	}
	free(inputs);
	free(old);
	if (r >= 0 && !*ret_reason)
		r = over_memory(h, o->max_rss, ret_reason);
	return r;
}

static int why_not_running(const struct procmgr_status *st, char **ret)
{
	if (st->exit.reason && !strcmp(st->exit.reason, "idle"))
		*ret = strdup("stopped after idle");
	else if (st->state == PROCMGR_STOPPED)
		*ret = strdup("not running");
	else if (st->pid > 0)
		*ret = pm_asprintf("stale pid %d", (int)st->pid);
	else
		*ret = strdup("stale metadata");
	return *ret ? 0 : -ENOMEM;
}

static int ensure_locked(procmgr *h, const struct procmgr_spawn_opts *o,
			 pid_t *ret_pid, char **ret_reason)
{
	struct procmgr_status st = { 0 };
	char *reason = NULL;
	int r;

	r = procmgr_status(h, &st);
	if (r >= 0 && st.state == PROCMGR_RUNNING)
		r = compare_running(h, o, &st, &reason);
	else if (r >= 0)
		r = why_not_running(&st, &reason);
	if (r < 0)
		goto out;
	if (!reason) {
		*ret_pid = st.pid;
		procmgr_touch(h);
		goto out;
	}
	if (st.state == PROCMGR_RUNNING)
		r = procmgr_stop(h, o->stop, NULL);
	if (r >= 0)
		r = pm_start_locked(h, o, reason, ret_pid);
	if (r >= 0) {
		r = st.state == PROCMGR_RUNNING ? 1 : 2;
		*ret_reason = reason;
		reason = NULL;
	}
out:
	free(reason);
	procmgr_status_clear(&st);
	return r;
}

/* A daemon running with these options, ready: 1, its pid in *ret_pid. */
static int kept_now(procmgr *h, const struct procmgr_spawn_opts *o,
		    pid_t *ret_pid)
{
	struct procmgr_status st = { 0 };
	char *reason = NULL;
	int r;

	r = procmgr_status(h, &st);
	if (r >= 0 && st.state == PROCMGR_RUNNING &&
	    compare_running(h, o, &st, &reason) >= 0 && !reason) {
		*ret_pid = st.pid;
		procmgr_touch(h);
		r = 1;
	} else {
		r = 0;
	}
	free(reason);
	procmgr_status_clear(&st);
	return r;
}

/*
 * The common case, a daemon already running with this fingerprint, without
 * taking the lock (taking it writes and removes the message file). Only
 * when nobody holds the lock, so no state change is under way; the answer
 * is then the one the locked path would give, since a stop that begins
 * right after this check could as well have begun right after the locked
 * path let go.
 */
static int ensure_kept(procmgr *h, const struct procmgr_spawn_opts *o,
		       pid_t *ret_pid)
{
	if (!h || !o->argv || procmgr_lock_held(h) || pm_lock_free(h) != 1)
		return 0;
	return kept_now(h, o, ret_pid);
}

/*
 * Someone holds the lock (a start under way: many clients ensure one
 * NAME at once). Queueing for the lock would let them in one by one,
 * each writing the message file and waking the rest. Instead they all
 * wait for it shared (the same wait line, the same --lock-timeout): the
 * holder's release lets them in together, no change can begin while
 * they look, and most find the daemon it just started and keep it.
 * 1 kept; 0 take the lock; < 0 failed (-EWOULDBLOCK: timed out).
 */
static int kept_after_wait(procmgr *h, const struct procmgr_spawn_opts *o,
			   pid_t *ret_pid)
{
	int fd, r;

	if (!o->argv)
		return 0;
	r = pm_lock_shared(h, &fd);
	if (r != 1)
		return r;
	r = kept_now(h, o, ret_pid);
	close(fd);
	return r;
}

/* The lock and a sweep if nobody holds it: 0; else -EWOULDBLOCK. */
static int lock_now(procmgr *h)
{
	double timeout = h->lock_timeout;
	int r;

	h->lock_timeout = 0;
	r = pm_lock_and_sweep(h, NULL);
	h->lock_timeout = timeout;
	return r;
}

/* Seconds since *t0 (CLOCK_MONOTONIC). */
static double since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) +
	       (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

/*
 * Take the lock and sweep, within what is left of h's lock timeout after
 * the shared wait that began at *t0.
 */
static int lock_rest(procmgr *h, const struct timespec *t0)
{
	double timeout = h->lock_timeout, left = timeout - since(t0);
	int r;

	if (timeout > 0)
		h->lock_timeout = left > 0.001 ? left : 0.001;
	r = pm_lock_and_sweep(h, NULL);
	h->lock_timeout = timeout;
	return r;
}

int procmgr_ensure_sized(procmgr *h, const struct procmgr_spawn_opts *in,
			 size_t size, pid_t *ret_pid, char **ret_reason)
{
	struct procmgr_spawn_opts o, *opts = &o;
	struct timespec t0;
	char *reason = NULL;
	pid_t pid = 0;
	int r;

	r = pm_spawn_opts_in(h, in, size, &o);
	if (r >= 0)
		r = pm_check_spawn_opts(h, opts);
	if (r < 0)
		return r;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = ensure_kept(h, opts, &pid);
	if (r == 0) {
		r = lock_now(h);
		if (r == -EWOULDBLOCK) {
			r = kept_after_wait(h, opts, &pid);
			if (r == 0)
				r = lock_rest(h, &t0);
		}
	}
	if (r == 1) {
		if (ret_pid)
			*ret_pid = pid;
		if (ret_reason)
			*ret_reason = NULL;
		return 0;
	}
	if (r < 0)
		return r;
	r = ensure_locked(h, opts, &pid, &reason);
	procmgr_unlock(h);
	if (r >= 0 && ret_pid)
		*ret_pid = pid;
	if (r >= 0 && ret_reason)
		*ret_reason = reason;
	else
		free(reason);
	return r;
}
