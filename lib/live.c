/*
 * live.c - answer procmgr_status() again, without reading the metadata,
 * while nothing it was read from has changed.
 *
 * A client that asks "is my daemon still there?" before each request
 * calls procmgr_status() in a loop, and a full one reads a dozen files.
 * After a full status that found the daemon running, the handle keeps
 * that answer with what proves it: a pidfd of the daemon and one of its
 * monitor, each opened before the identity check and alive after it (so
 * each is the process the check found), and the stat of the metadata
 * directory and of every key the status read. The next status gives the
 * same answer when:
 *  - neither pidfd polls readable: a pidfd turns readable when its
 *    process exits and never names another one, so a reused pid cannot
 *    pass;
 *  - DIR/HOSTFP/NAME still leads to the same directory (a purge renames
 *    it away), with the same mtime and ctime: a key created, renamed over
 *    (every write of procmgr, a restart's new pid) or removed changes
 *    them;
 *  - every key read has the same inode, size, mtime and ctime: pants
 *    rewrites keys in place, which keeps the inode but not the times;
 *  - for pants' metadata, whose identity is argv[0] (process_name), the
 *    daemon's argv[0] is the one seen: a process may exec under another
 *    name without exiting.
 * File times come from a clock that ticks every few milliseconds, so two
 * changes within one tick can leave the same time behind. An answer is
 * therefore kept only when every time it recorded is older than the
 * coarse clock read before the status began: any later change gets a
 * later time, whatever the tick (git's "racily clean" rule). Only a
 * wall clock stepped back between two changes could hide one.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LIVE_KEYS 16

struct pm_live {
	bool recording;		/* a full status is being read */
	bool fit;		/* nothing it read is too recent or unknown */
	struct timespec t0;	/* coarse wall clock before it began */
	struct stat dir;
	size_t n;
	struct {
		const char *key;	/* a literal of status.c */
		struct stat st;
	} keys[LIVE_KEYS];
	bool kept;		/* st is an answer to give again */
	struct procmgr_status st;
	int pidfd, mon_pidfd;	/* -1: none */
	long long ticks;	/* start of the daemon (for started_at), or -1 */
	char *argv0;		/* pants' metadata: argv[0] seen; else NULL */
};

static bool before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec ||
	       (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

static bool same_time(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

/* The same file, unchanged: inode, size and both times. */
static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	       a->st_size == b->st_size && a->st_nlink == b->st_nlink &&
	       same_time(&a->st_mtim, &b->st_mtim) &&
	       same_time(&a->st_ctim, &b->st_ctim);
}

/* Changed last before the status began: a later change shows. */
static bool settled(const struct pm_live *l, const struct stat *st)
{
	return before(&st->st_mtim, &l->t0) && before(&st->st_ctim, &l->t0);
}

/* Free the strings of st (what procmgr_status_clear() frees). */
static void free_strings(struct procmgr_status *st)
{
	free(st->fingerprint);
	free(st->socket);
	free(st->exit.at);
	free(st->exit.reason);
	free(st->status_text);
}

/* Forget the kept answer. */
static void forget(struct pm_live *l)
{
	if (l->kept)
		free_strings(&l->st);
	if (l->pidfd >= 0)
		close(l->pidfd);
	if (l->mon_pidfd >= 0)
		close(l->mon_pidfd);
	free(l->argv0);
	l->kept = false;
	l->pidfd = l->mon_pidfd = -1;
	l->argv0 = NULL;
}

void pm_live_drop(procmgr *h)
{
	if (!h->live)
		return;
	forget(h->live);
	free(h->live);
	h->live = NULL;
}

/*
 * A handle's first status is not kept: most handles (the CLI's, a
 * start's) ask once, and should not pay for the pidfds or hold them.
 * The second one shows a caller that asks again.
 */
bool pm_live_begin(procmgr *h, int dirfd)
{
	struct pm_live *l = h->live;

	if (h->live_off)
		return false;
	if (!l) {
		l = h->live = calloc(1, sizeof(*l));
		if (l)
			l->pidfd = l->mon_pidfd = -1;
		return false;
	}
	forget(l);
	l->n = 0;
	l->recording = true;
	l->fit = clock_gettime(CLOCK_REALTIME_COARSE, &l->t0) == 0 &&
		 fstat(dirfd, &l->dir) == 0 && settled(l, &l->dir);
	return true;
}

void pm_live_note(procmgr *h, const char *key, const struct stat *st)
{
	struct pm_live *l = h->live;

	if (!l || !l->recording)
		return;
	if (l->n == LIVE_KEYS || !settled(l, st)) {
		l->fit = false;
		return;
	}
	l->keys[l->n].key = key;
	l->keys[l->n++].st = *st;
}

/*
 * A copy of st, strings and all, into *ret; false when out of memory,
 * *ret untouched then (a half copy would leave it freed strings).
 */
static bool copy_status(const struct procmgr_status *st,
			struct procmgr_status *ret)
{
	struct procmgr_status c = *st;
	const char *in[] = { st->fingerprint, st->socket, st->exit.at,
			     st->exit.reason, st->status_text };
	char **out[] = { &c.fingerprint, &c.socket, &c.exit.at,
			 &c.exit.reason, &c.status_text };
	bool ok = true;

	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		*out[i] = in[i] ? strdup(in[i]) : NULL;
		ok = ok && (*out[i] || !in[i]);
	}
	if (!ok) {
		free_strings(&c);
		return false;
	}
	*ret = c;
	return true;
}

void pm_live_proof_clear(struct pm_live_proof *p)
{
	if (p->pidfd >= 0)
		close(p->pidfd);
	if (p->mon_pidfd >= 0)
		close(p->mon_pidfd);
	free(p->argv0);
	p->pidfd = p->mon_pidfd = -1;
	p->argv0 = NULL;
}

void pm_live_keep(procmgr *h, int dirfd, struct pm_live_proof *p)
{
	struct pm_live *l = h->live;
	struct stat dir;

	if (!l || !l->recording) {
		pm_live_proof_clear(p);
		return;
	}
	l->recording = false;
	l->pidfd = p->pidfd;
	l->mon_pidfd = p->mon_pidfd;
	l->argv0 = p->argv0;
	l->ticks = p->ticks;
	/* what changed while it was read is too new to trust */
	if (!l->fit || !p->st || p->st->state != PROCMGR_RUNNING || h->warning ||
	    p->pidfd < 0 || fstat(dirfd, &dir) < 0 ||
	    !same_file(&dir, &l->dir) || !copy_status(p->st, &l->st)) {
		forget(l);
		return;
	}
	l->kept = true;
}

/* Has the daemon or its monitor exited since? */
static bool exited(const struct pm_live *l)
{
	struct pollfd pfd[2] = {
		{ .fd = l->pidfd, .events = POLLIN },
		{ .fd = l->mon_pidfd, .events = POLLIN },
	};

	return poll(pfd, l->mon_pidfd >= 0 ? 2 : 1, 0) != 0;
}

/* Are the directory and every key read as they were? */
static bool files_unchanged(procmgr *h, const struct pm_live *l)
{
	struct stat st;
	int fd;

	if (pm_meta_fd_stat(h, &fd, &st) < 0 || !same_file(&st, &l->dir))
		return false;
	for (size_t i = 0; i < l->n; i++)
		if (fstatat(fd, l->keys[i].key, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !same_file(&st, &l->keys[i].st))
			return false;
	return true;
}

/* For pants' metadata: is argv[0] of the daemon still the one seen? */
static bool same_argv0(const struct pm_live *l)
{
	char *now = NULL;
	bool same;

	if (!l->argv0)
		return true;
	same = pm_proc_argv0(l->st.pid, &now) == 0 && !strcmp(now, l->argv0);
	free(now);
	return same;
}

int pm_live_answer(procmgr *h, struct procmgr_status *ret)
{
	struct pm_live *l = h->live;

	if (!l || !l->kept)
		return 0;
	if (exited(l) || !files_unchanged(h, l) || !same_argv0(l) ||
	    !copy_status(&l->st, ret)) {
		forget(l);
		return 0;
	}
	ret->started_at = l->ticks >= 0 ?
		pm_ticks_to_time((unsigned long long)l->ticks) : -1;
	return 1;
}
