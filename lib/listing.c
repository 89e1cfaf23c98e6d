/*
 * listing.c - the NAMEs under a DIR, and the status of each.
 *
 * A listing walks and checks DIR/HOSTFP once and keeps that fd: each
 * NAME's status then walks only NAME's own directory, instead of the
 * three directories and the host fingerprint a procmgr_open() costs.
 * The NAMEs are kept in one buffer, not one allocation each, so that a
 * listing of 10,000 NAMEs stays small. procmgr_listing_each() reads
 * ahead on a few threads: a status is a dozen system calls that wait on
 * nothing but the kernel, so two CPUs read twice as many.
 */
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct procmgr_listing {
	procmgr *base;		/* DIR and HOSTFP, read-only */
	int host_fd;		/* DIR/HOSTFP checked, or -1: there is none */
	char *names;		/* every NAME, each ended by a NUL */
	size_t len, cap;	/* bytes used and allocated in names */
	uint32_t *at;		/* where each NAME starts in names, sorted */
	size_t n, cap_at;	/* NAMEs, and room in at */
	bool brief;		/* PROCMGR_LISTING_BRIEF */
};

/* p grown to hold need items of size bytes (doubling); NULL: no memory. */
static void *grow(void *p, size_t *cap, size_t need, size_t size)
{
	size_t c = *cap ? *cap : 64;

	if (need <= *cap)
		return p;
	while (c < need)
		c *= 2;
	p = reallocarray(p, c, size);
	if (p)
		*cap = c;
	return p;
}

static int add_name(procmgr_listing *l, const char *name)
{
	size_t len = strlen(name) + 1;
	uint32_t *at;
	char *names;

	if (l->len + len > UINT32_MAX)
		return -E2BIG;
	names = grow(l->names, &l->cap, l->len + len, 1);
	if (names)
		l->names = names;
	at = names ? grow(l->at, &l->cap_at, l->n + 1, sizeof(*at)) : NULL;
	if (!at)
		return -ENOMEM;
	l->at = at;
	l->at[l->n++] = (uint32_t)l->len;
	memcpy(l->names + l->len, name, len);
	l->len += len;
	return 0;
}

/*
 * A NAME is a real directory whose name is already a normalized name.
 * The entry's type saves a stat on the file systems that record it.
 */
static bool is_name(int fd, const struct dirent *e)
{
	char norm[PROCMGR_NAME_MAX + 1];
	struct stat st;

	if (procmgr_name_normalize(e->d_name, norm) < 0 ||
	    strcmp(norm, e->d_name))
		return false;
	if (e->d_type != DT_UNKNOWN)
		return e->d_type == DT_DIR;
	return fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	       S_ISDIR(st.st_mode);
}

static int cmp_at(const void *a, const void *b, void *names)
{
	return strcmp((char *)names + *(const uint32_t *)a,
		      (char *)names + *(const uint32_t *)b);
}

/* The NAMEs of l->host_fd, sorted. */
static int read_names(procmgr_listing *l)
{
	DIR *d = pm_opendir_at(l->host_fd, ".");
	struct dirent *e;
	int r = 0;

	if (!d)
		return -errno;
	while (r == 0 && (e = readdir(d)))
		if (is_name(dirfd(d), e))
			r = add_name(l, e->d_name);
	closedir(d);
	if (r == 0 && l->n > 1)	/* no NAME: no array to give qsort */
		qsort_r(l->at, l->n, sizeof(*l->at), cmp_at, l->names);
	return r;
}

int procmgr_listing_open(const char *dir, unsigned flags,
			 procmgr_listing **ret)
{
	procmgr_listing *l = calloc(1, sizeof(*l));
	int r = -ENOMEM;

	if (!ret || (flags & ~PROCMGR_LISTING_BRIEF))
		r = -EINVAL;
	if (r == -EINVAL || !l)
		goto fail;
	l->host_fd = -1;
	l->brief = flags & PROCMGR_LISTING_BRIEF;
	l->base = procmgr_new();
	if (!l->base)
		goto fail;
	l->base->read_only = true;	/* it only reads: root may list anyone's */
	r = pm_set_paths(l->base, dir, NULL);
	if (r < 0)
		goto fail;
	r = pm_open_host(l->base, false, &l->host_fd);
	if (r == -ENOENT)	/* no DIR or no DIR/HOSTFP: no NAMEs */
		r = 0;
	else if (r >= 0)
		r = read_names(l);
	if (r < 0)
		goto fail;
	*ret = l;
	return 0;
fail:
	procmgr_listing_free(l);
	return r;
}

size_t procmgr_listing_count(const procmgr_listing *l)
{
	return l ? l->n : 0;
}

const char *procmgr_listing_name(const procmgr_listing *l, size_t i)
{
	return l && i < l->n ? l->names + l->at[i] : NULL;
}

int procmgr_listing_status_sized(procmgr_listing *l, size_t i, procmgr *h,
				 struct procmgr_status *ret, size_t size)
{
	int r;

	if (!l || !h || i >= l->n)
		return pm_error(h, EINVAL, "no listing, no handle or no NAME "
				"%zu in the listing", i);
	r = pm_open_listed(h, l->base, l->host_fd, l->names + l->at[i]);
	if (r < 0)
		return r;
	h->brief = l->brief;
	r = procmgr_status_sized(h, ret, size);
	h->brief = false;	/* the caller's own statuses are whole */
	return r;
}

/*
 * Reading ahead: readers take batches of NAMEs in order and read each
 * into its slot of a ring; the calling thread hands them to fn in order
 * and frees their slots, and reads the next free batch itself rather
 * than wait. Batches, not single NAMEs, so that waking the caller costs
 * a context switch per batch, not per NAME.
 */
#define BATCH 32
#define RING (4 * BATCH)
#define MAX_READERS 4

struct slot {
	struct procmgr_status st;
	int r;
	char *message;		/* why it failed, or the status's warning */
};

struct ahead {
	procmgr_listing *l;
	pthread_mutex_t mu;
	pthread_cond_t filled, freed;
	size_t next;		/* first NAME no reader has taken */
	size_t handed;		/* NAMEs given to fn: their slots are free */
	bool stop;
	size_t batch_done[RING / BATCH];	/* end of each ring batch read */
	struct slot slot[RING];
};

/*
 * NAME i into s: its status, or why not. The handle is freed at once, so
 * that a ring of slots holds statuses, not handles and their fds.
 */
static void read_slot(procmgr_listing *l, size_t i, struct slot *s)
{
	procmgr *h = procmgr_new();
	const char *msg;

	s->st = (struct procmgr_status){ 0 };
	s->message = NULL;
	s->r = -ENOMEM;
	if (!h)
		return;
	h->live_off = true;	/* asked once: nothing to keep for later */
	s->r = procmgr_listing_status(l, i, h, &s->st);
	msg = s->r < 0 ? h->errmsg : h->warning;
	if (msg)
		s->message = strdup(msg);
	if (msg && !s->message && s->r >= 0) {
		procmgr_status_clear(&s->st);
		s->r = -ENOMEM;
	}
	procmgr_free(h);
}

/* Give slot s of NAME i to fn, then free what it holds. */
static int hand_slot(procmgr_listing *l, size_t i, struct slot *s,
		     procmgr_listing_fn fn, void *userdata)
{
	int r = fn(userdata, i, procmgr_listing_name(l, i), s->r,
		   s->message ? s->message :
		   s->r < 0 ? strerror(-s->r) : NULL, &s->st);

	procmgr_status_clear(&s->st);
	free(s->message);
	s->message = NULL;
	return r;
}

/*
 * Take the next batch, once its slots are free (wait false: only if they
 * are free now); false: none to take.
 */
static bool take_batch(struct ahead *a, bool wait, size_t *ret_from,
		       size_t *ret_to)
{
	size_t n = a->l->n;

	while (wait && !a->stop && a->next < n &&
	       a->next + BATCH > a->handed + RING)
		pthread_cond_wait(&a->freed, &a->mu);
	if (a->stop || a->next >= n || a->next + BATCH > a->handed + RING)
		return false;
	*ret_from = a->next;
	*ret_to = a->next + BATCH < n ? a->next + BATCH : n;
	a->next = *ret_to;
	return true;
}

/* Read a taken batch into its slots; called and returns locked. */
static void read_batch(struct ahead *a, size_t from, size_t to)
{
	pthread_mutex_unlock(&a->mu);
	for (size_t i = from; i < to; i++)
		read_slot(a->l, i, &a->slot[i % RING]);
	pthread_mutex_lock(&a->mu);
	a->batch_done[from % RING / BATCH] = to;
	pthread_cond_broadcast(&a->filled);
}

/*
 * A reader first takes a copy of the fd table: opens and closes on a
 * shared table contend for its lock (118 -> 113 ms for 10,000 NAMEs).
 * The copy holds the process's other files open until the walk ends.
 */
static void *reader(void *arg)
{
	struct ahead *a = arg;
	size_t from, to;

	unshare(CLONE_FILES);
	pthread_mutex_lock(&a->mu);
	while (take_batch(a, true, &from, &to))
		read_batch(a, from, to);
	pthread_mutex_unlock(&a->mu);
	return NULL;
}

/* Until NAME i is read (its batch ended), read what is free to take. */
static void wait_read(struct ahead *a, size_t i)
{
	size_t b = i % RING / BATCH, from, to;

	pthread_mutex_lock(&a->mu);
	while (a->batch_done[b] <= i) {
		if (take_batch(a, false, &from, &to))
			read_batch(a, from, to);
		else
			pthread_cond_wait(&a->filled, &a->mu);
	}
	pthread_mutex_unlock(&a->mu);
}

/* Hand NAME i to fn and free its slot; fn's answer. */
static int hand(struct ahead *a, size_t i, procmgr_listing_fn fn,
		void *userdata)
{
	int r = hand_slot(a->l, i, &a->slot[i % RING], fn, userdata);

	pthread_mutex_lock(&a->mu);
	a->handed = i + 1;
	if (a->handed % BATCH == 0 || r)
		pthread_cond_broadcast(&a->freed);
	a->stop = a->stop || r;
	pthread_mutex_unlock(&a->mu);
	return r;
}

/*
 * How many threads besides the caller: readers (0: one per CPU this
 * process may use) less the caller, at most MAX_READERS in all; none for
 * a short listing unless asked.
 */
static int threads_for(const procmgr_listing *l, int readers)
{
	cpu_set_t set;
	int n = readers;

	if (n == 0) {
		n = sched_getaffinity(0, sizeof(set), &set) == 0 ?
			    CPU_COUNT(&set) : 1;
		if (l->n < 2 * BATCH)
			n = 1;
	}
	return (n > MAX_READERS ? MAX_READERS : n) - 1;
}

/* Every NAME from the calling thread alone. */
static int each_here(procmgr_listing *l, procmgr_listing_fn fn,
		     void *userdata)
{
	struct slot s;
	int r = 0;

	for (size_t i = 0; i < l->n && !r; i++) {
		read_slot(l, i, &s);
		r = hand_slot(l, i, &s, fn, userdata);
	}
	return r;
}

/* Start up to n readers; how many started (0: read here instead). */
static int start_readers(struct ahead *a, pthread_t *t, int n)
{
	pthread_attr_t attr;
	int started = 0;

	if (pthread_attr_init(&attr) != 0)
		return 0;
	/* a reader needs little stack; the default reserves 8 MiB each */
	pthread_attr_setstacksize(&attr, 256 * 1024);
	while (started < n && pthread_create(&t[started], &attr, reader, a) ==
				      0)
		started++;
	pthread_attr_destroy(&attr);
	return started;
}

static void stop_readers(struct ahead *a, pthread_t *t, int n)
{
	pthread_mutex_lock(&a->mu);
	a->stop = true;
	pthread_cond_broadcast(&a->freed);
	pthread_mutex_unlock(&a->mu);
	for (int k = 0; k < n; k++)
		pthread_join(t[k], NULL);
	/* what was read ahead of a stop */
	for (size_t i = a->handed; i < a->next; i++) {
		procmgr_status_clear(&a->slot[i % RING].st);
		free(a->slot[i % RING].message);
	}
}

int procmgr_listing_each(procmgr_listing *l, int readers,
			 procmgr_listing_fn fn, void *userdata)
{
	pthread_t t[MAX_READERS];
	struct ahead *a;
	int n, r = 0;

	if (!l || !fn || readers < 0)
		return -EINVAL;
	n = threads_for(l, readers);
	a = n ? calloc(1, sizeof(*a)) : NULL;
	if (!a)
		return each_here(l, fn, userdata);
	a->l = l;
	pthread_mutex_init(&a->mu, NULL);
	pthread_cond_init(&a->filled, NULL);
	pthread_cond_init(&a->freed, NULL);
	n = start_readers(a, t, n);
	if (n == 0)
		r = each_here(l, fn, userdata);
	for (size_t i = 0; n && i < l->n && !r; i++) {
		wait_read(a, i);
		r = hand(a, i, fn, userdata);
	}
	stop_readers(a, t, n);
	pthread_cond_destroy(&a->freed);
	pthread_cond_destroy(&a->filled);
	pthread_mutex_destroy(&a->mu);
	free(a);
	return r;
}

void procmgr_listing_free(procmgr_listing *l)
{
	if (!l)
		return;
	if (l->host_fd >= 0)
		close(l->host_fd);
	procmgr_free(l->base);
	free(l->names);
	free(l->at);
	free(l);
}

int procmgr_list(const char *dir, char ***ret_names)
{
	procmgr_listing *l;
	char **v;
	int r = procmgr_listing_open(dir, 0, &l);

	if (r < 0)
		return r;
	v = calloc(l->n + 1, sizeof(*v));
	for (size_t i = 0; v && i < l->n; i++) {
		v[i] = strdup(procmgr_listing_name(l, i));
		if (!v[i]) {
			procmgr_strv_free(v);
			v = NULL;
		}
	}
	procmgr_listing_free(l);
	if (!v)
		return -ENOMEM;
	*ret_names = v;
	return 0;
}
