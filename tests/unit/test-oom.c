/*
 * test-oom.c - the library out of memory: each allocation a call makes is
 * failed in turn, one per run of the call. Every run must end with
 * success (the call did without) or -ENOMEM with a message on the
 * handle; no fd may be left open (an AddressSanitizer build also checks
 * that no memory is), and the same call must then succeed.
 *
 * Calls that act on processes use real ones: a sleeper, a shell with two
 * children, a daemon started with its monitor.
 *
 * The allocators are wrapped at link time for this binary alone (the
 * Makefile links it with -Wl,--wrap=malloc and the rest): the library's
 * calls come here, and fail while a countdown says so.
 */
#include "internal.h"
#include "sleeper.h"
#include "spawned.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- the wrapped allocators ---------------------------------------- */

static atomic_long calls;	/* allocations since arm() */
static atomic_long fail_at;	/* the one to fail; 0: none */
static atomic_bool failed;	/* whether it was reached */

/* Whether this allocation is the one to fail (errno set then). */
static bool fail_now(void)
{
	long at = atomic_load(&fail_at);

	if (at == 0 || atomic_fetch_add(&calls, 1) + 1 != at)
		return false;
	atomic_store(&failed, true);
	errno = ENOMEM;
	return true;
}

void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);
void *__real_reallocarray(void *p, size_t n, size_t size);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
int __real_vasprintf(char **ret, const char *fmt, va_list ap);
DIR *__real_fdopendir(int fd);
void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t size);
void *__wrap_reallocarray(void *p, size_t n, size_t size);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);
int __wrap_vasprintf(char **ret, const char *fmt, va_list ap);
DIR *__wrap_fdopendir(int fd);

void *__wrap_malloc(size_t size)
{
	return fail_now() ? NULL : __real_malloc(size);
}

void *__wrap_calloc(size_t n, size_t size)
{
	return fail_now() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t size)
{
	return fail_now() ? NULL : __real_realloc(p, size);
}

void *__wrap_reallocarray(void *p, size_t n, size_t size)
{
	return fail_now() ? NULL : __real_reallocarray(p, n, size);
}

char *__wrap_strdup(const char *s)
{
	return fail_now() ? NULL : __real_strdup(s);
}

char *__wrap_strndup(const char *s, size_t n)
{
	return fail_now() ? NULL : __real_strndup(s, n);
}

int __wrap_vasprintf(char **ret, const char *fmt, va_list ap)
{
	return fail_now() ? -1 : __real_vasprintf(ret, fmt, ap);
}

/* fdopendir() allocates its DIR inside the C library, out of our reach. */
DIR *__wrap_fdopendir(int fd)
{
	return fail_now() ? NULL : __real_fdopendir(fd);
}

/* From now on, fail the nth allocation (n > 0). */
static void arm(long n)
{
	atomic_store(&calls, 0);
	atomic_store(&failed, false);
	atomic_store(&fail_at, n);
}

/* Stop failing; whether an allocation was failed since arm(). */
static bool disarm(void)
{
	atomic_store(&fail_at, 0);
	return atomic_load(&failed);
}

/* ---- checks ------------------------------------------------------- */

static char *tmp;

static void setup(void)
{
	tmp = tu_keep(tu_tmpdir());
}

/*
 * The end of run n of a call, r its result: with an allocation failed,
 * success or -ENOMEM (with a message on h, if any); without one, want.
 * Whether an allocation was failed (the loop goes on).
 */
static bool clean_end(const char *what, long n, int r, int want,
		      const procmgr *h)
{
	bool hit = disarm();

	ck_assert_int_lt(n, 100000);
	if (!hit) {
		ck_assert_msg(r == want, "%s: %d without a failure", what, r);
		return false;
	}
	ck_assert_msg(r == want || r == -ENOMEM, "%s: allocation %ld failed: "
		      "%d (%s)", what, n, r, h ? procmgr_errmsg(h) : "");
	if (r == -ENOMEM && h)
		ck_assert_msg(procmgr_errmsg(h)[0], "%s: allocation %ld: no "
			      "message", what, n);
	return true;
}

static char *host_dir(const char *dir)
{
	char fp[PROCMGR_HOSTFP_LEN + 1];

	ck_assert_int_eq(procmgr_host_fingerprint(fp), 0);
	return tu_path(dir, fp);
}

static void write_key(const char *dir, const char *name, const char *key,
		      const char *value)
{
	procmgr *h = tu_open(dir, name);

	ck_assert_int_eq(procmgr_write(h, key, value), 0);
	procmgr_free(h);
}

/* ---- the calls ----------------------------------------------------- */

/*
 * Opening DIR from $PROCMGR_DIR, where NAME is found only under another
 * host fingerprint (a stale one): whatever fails, an opened handle points
 * at this host's directory, and a failed one can be opened again.
 */
START_TEST(test_open)
{
	char *base = tu_path(tmp, "base"), *want, *other, dead[16];
	procmgr *h;
	bool hit;
	int fds, r;

	want = tu_path(host_dir(base), "web");
	other = tu_path(base, "0123456789ab");
	snprintf(dead, sizeof(dead), "%d", (int)tu_dead_pid());
	write_key(base, "api", "pid", dead);
	ck_assert_int_eq(mkdir(other, 0700), 0);
	ck_assert_int_eq(mkdir(tu_path(other, "web"), 0700), 0);
	tu_write_file(tu_path(other, "web/pid"), dead, strlen(dead));
	tu_write_file(tu_path(other, "web/start_time"), "1 x", 3);
	setenv("PROCMGR_DIR", base, 1);
	for (long n = 1;; n++) {
		fds = tu_count_fds();
		arm(n);
		h = procmgr_new();
		r = h ? procmgr_open(h, NULL, "web") : -ENOMEM;
		hit = clean_end("open", n, r, 0, h);
		if (r == 0) {
			ck_assert_str_eq(procmgr_meta_dir(h), want);
		} else if (h) {
			ck_assert_ptr_null(procmgr_get_name(h));
			ck_assert_int_eq(procmgr_open(h, NULL, "web"), 0);
			ck_assert_str_eq(procmgr_meta_dir(h), want);
		}
		procmgr_free(h);
		ck_assert_int_eq(tu_count_fds(), fds);
		if (!hit)
			break;
	}
}
END_TEST

/* The first write makes DIR and its parents: a failure makes no key. */
START_TEST(test_write_makes_dirs)
{
	char dir[256], *v;
	procmgr *h;
	bool hit;
	int fds, r;

	for (long n = 1;; n++) {
		snprintf(dir, sizeof(dir), "%s/p%ld/q/base", tmp, n);
		h = tu_open(dir, "web");
		fds = tu_count_fds();
		arm(n);
		r = procmgr_write(h, "pid", "5");
		hit = clean_end("write", n, r, 0, h);
		ck_assert_int_eq(tu_count_fds(), fds);
		if (r < 0) {
			ck_assert_ptr_null(tu_key(h, "pid"));
			ck_assert_int_eq(procmgr_write(h, "pid", "5"), 0);
		}
		v = tu_key(h, "pid");
		ck_assert_str_eq(v, "5");
		free(v);
		procmgr_free(h);
		if (!hit)
			break;
	}
}
END_TEST

/* Listing keys, of a NAME with keys and of one without metadata. */
START_TEST(test_keys)
{
	char *base = tu_path(tmp, "base"), **keys;
	procmgr *h = tu_open(base, "web"), *none = tu_open(base, "none");
	int fds, r;
	bool hit;

	ck_assert_int_eq(procmgr_write(h, "socket", "1"), 0);
	ck_assert_int_eq(procmgr_write(h, "pid", "2"), 0);
	ck_assert_int_eq(procmgr_write(h, "fingerprint", "3"), 0);
	for (long n = 1;; n++) {
		keys = NULL;
		fds = tu_count_fds();
		arm(n);
		r = procmgr_keys(h, &keys);
		hit = clean_end("keys", n, r, 0, h);
		ck_assert_int_eq(tu_count_fds(), fds);
		if (r == 0) {
			ck_assert_str_eq(keys[0], "fingerprint");
			ck_assert_str_eq(keys[1], "pid");
			ck_assert_str_eq(keys[2], "socket");
			ck_assert_ptr_null(keys[3]);
		} else {
			ck_assert_ptr_null(keys);
		}
		procmgr_strv_free(keys);
		if (!hit)
			break;
	}
	for (long n = 1;; n++) {
		keys = NULL;
		arm(n);
		r = procmgr_keys(none, &keys);
		hit = clean_end("keys of none", n, r, 0, none);
		if (r == 0)
			ck_assert_ptr_null(keys[0]);
		procmgr_strv_free(keys);
		if (!hit)
			break;
	}
	procmgr_free(none);
	procmgr_free(h);
}
END_TEST

/* await of a key that is there, and of one under a DIR not yet made. */
START_TEST(test_await)
{
	char *base = tu_path(tmp, "base"), *v;
	procmgr *h = tu_open(base, "web");
	procmgr *later = tu_open(tu_path(tmp, "later/base"), "web");
	int fds, r;
	bool hit;

	ck_assert_int_eq(procmgr_write(h, "socket", "8080"), 0);
	free(tu_key(h, "socket"));	/* the handle keeps its dir's fd */
	for (long n = 1;; n++) {
		v = NULL;
		fds = tu_count_fds();
		arm(n);
		r = procmgr_await(h, "socket", 0, &v);
		hit = clean_end("await", n, r, 0, h);
		ck_assert_int_eq(tu_count_fds(), fds);
		if (r == 0)
			ck_assert_str_eq(v, "8080");
		free(v);
		if (!hit)
			break;
	}
	for (long n = 1;; n++) {
		v = NULL;
		arm(n);
		r = procmgr_await(later, "socket", 0, &v);
		hit = clean_end("await later", n, r, -ETIMEDOUT, later);
		ck_assert_ptr_null(v);
		if (!hit)
			break;
	}
	procmgr_free(later);
	procmgr_free(h);
}
END_TEST

/* Removing a tree: a failure reports it, and a retry removes the rest. */
START_TEST(test_rm_rf)
{
	int dfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC), fds, r;
	char *x = tu_path(tmp, "x"), *sub = tu_path(tmp, "x/sub");
	char *f = tu_path(tmp, "x/sub/f");
	bool hit;

	ck_assert_int_ge(dfd, 0);
	for (long n = 1;; n++) {
		ck_assert_int_eq(mkdir(x, 0700), 0);
		ck_assert_int_eq(mkdir(sub, 0700), 0);
		tu_write_file(f, "f", 1);
		fds = tu_count_fds();
		arm(n);
		r = pm_rm_rf_at(dfd, "x");
		hit = clean_end("rm -rf", n, r, 0, NULL);
		ck_assert_int_eq(tu_count_fds(), fds);
		if (r < 0) {
			ck_assert(tu_exists(x));
			ck_assert_int_eq(pm_rm_rf_at(dfd, "x"), 0);
		}
		ck_assert(!tu_exists(x));
		if (!hit)
			break;
	}
	close(dfd);
}
END_TEST

/* The tail of the default log. */
START_TEST(test_log_tail)
{
	procmgr *h = tu_open(tu_path(tmp, "base"), "web");
	char *t;
	int fds, r;
	bool hit;

	ck_assert_int_eq(procmgr_write(h, "x", "1"), 0);
	tu_write_file(procmgr_default_log(h), "a\nb\nc\n", 6);
	free(tu_key(h, "x"));	/* the handle keeps its dir's fd */
	for (long n = 1;; n++) {
		t = NULL;
		fds = tu_count_fds();
		arm(n);
		r = procmgr_log_tail(h, 2, &t);
		hit = clean_end("log tail", n, r, 0, h);
		ck_assert_int_eq(tu_count_fds(), fds);
		if (r == 0)
			ck_assert_str_eq(t, "b\nc\n");
		else
			ck_assert_ptr_null(t);
		free(t);
		if (!hit)
			break;
	}
	procmgr_free(h);
}
END_TEST

/* Opening a log due for rotation: a failure leaves it as it was. */
START_TEST(test_log_rotate)
{
	procmgr *h = tu_open(tu_path(tmp, "base"), "web");
	char big[100], *log, *old, *path, *v;
	int fds, fd, r;
	bool hit;

	memset(big, 'x', sizeof(big));
	ck_assert_int_eq(procmgr_write(h, "x", "1"), 0);
	log = tu_keep(strdup(procmgr_default_log(h)));
	old = tu_keep(pm_asprintf("%s.1", log));
	for (long n = 1;; n++) {
		tu_write_file(log, big, sizeof(big));
		unlink(old);
		fd = -1;
		path = NULL;
		fds = tu_count_fds();
		arm(n);
		r = pm_log_open(h, NULL, 10, &fd, &path);
		hit = clean_end("log open", n, r, 0, h);
		if (r == 0) {
			ck_assert_str_eq(path, log);
			close(fd);
			free(path);
			v = tu_read_file(old);
			ck_assert_uint_eq(strlen(v), sizeof(big));
			free(v);
		} else {
			ck_assert(!tu_exists(old));
		}
		ck_assert_int_eq(tu_count_fds(), fds);
		if (!hit)
			break;
	}
	procmgr_free(h);
}
END_TEST

#define LONG_A "a-name-long-enough-to-outgrow-the-first-buffer"
#define LONG_B "b-name-long-enough-to-outgrow-the-first-buffer"

struct seen {
	size_t n;
	int r[4];
	bool message[4];
	char name[4][64];
};

/* Note each NAME (no assertion here: allocations may be failing). */
static int note(void *userdata, size_t i, const char *name, int r,
		const char *message, const struct procmgr_status *st)
{
	struct seen *s = userdata;

	(void)st;
	if (i != s->n || i >= 4)
		return 1;
	s->r[i] = r;
	s->message[i] = message != NULL;
	snprintf(s->name[i], sizeof(s->name[i]), "%s", name);
	s->n++;
	return 0;
}

/*
 * A listing and each status in it, read here (readers 1) or ahead on a
 * thread (2): a status that could not be read says so for its NAME
 * alone, and the others are still given.
 */
START_TEST(test_listing)
{
	char *base = tu_path(tmp, "base"), dead[16];
	procmgr_listing *l;
	struct seen s;
	int fds, r;
	bool hit;

	snprintf(dead, sizeof(dead), "%d", (int)tu_dead_pid());
	/* long NAMEs: more than the room reserved for them at first */
	write_key(base, LONG_A, "pid", dead);
	write_key(base, LONG_B, "pid", "junk");	/* a warning */
	for (int readers = 1; readers <= 2; readers++) {
		for (long n = 1;; n++) {
			memset(&s, 0, sizeof(s));
			l = NULL;
			fds = tu_count_fds();
			arm(n);
			r = procmgr_listing_open(base, 0, &l);
			if (r == 0)
				r = procmgr_listing_each(l, readers, note, &s);
			procmgr_listing_free(l);
			hit = clean_end("listing", n, r, 0, NULL);
			ck_assert_int_eq(tu_count_fds(), fds);
			if (r == 0) {
				ck_assert_uint_eq(s.n, 2);
				ck_assert_str_eq(s.name[0], LONG_A);
				ck_assert_str_eq(s.name[1], LONG_B);
			}
			for (size_t i = 0; i < s.n; i++) {
				ck_assert(s.r[i] == 0 || s.r[i] == -ENOMEM);
				ck_assert(s.r[i] == 0 || s.message[i]);
			}
			if (!hit)
				break;
		}
	}
}
END_TEST

START_TEST(test_list)
{
	char *base = tu_path(tmp, "base"), **names;
	int fds, r;
	bool hit;

	write_key(base, "a", "pid", "1");
	write_key(base, "b", "pid", "1");
	for (long n = 1;; n++) {
		names = NULL;
		fds = tu_count_fds();
		arm(n);
		r = procmgr_list(base, &names);
		hit = clean_end("list", n, r, 0, NULL);
		ck_assert_int_eq(tu_count_fds(), fds);
		if (r == 0) {
			ck_assert_str_eq(names[0], "a");
			ck_assert_str_eq(names[1], "b");
			ck_assert_ptr_null(names[2]);
		} else {
			ck_assert_ptr_null(names);
		}
		procmgr_strv_free(names);
		if (!hit)
			break;
	}
}
END_TEST

/* The identity of a live process, as a monitor key records it. */
START_TEST(test_proc_identity)
{
	char *id, *want;
	int r;
	bool hit;

	ck_assert_int_eq(procmgr_proc_identity(getpid(), &want), 0);
	for (long n = 1;; n++) {
		id = NULL;
		arm(n);
		r = procmgr_proc_identity(getpid(), &id);
		hit = clean_end("proc identity", n, r, 0, NULL);
		if (r == 0)
			ck_assert_str_eq(id, want);
		else
			ck_assert_ptr_null(id);
		free(id);
		if (!hit)
			break;
	}
	free(want);
}
END_TEST

/*
 * What is wrong with a status of the sleeper pid, recorded with every key
 * (full) or as pants does, or NULL. No assertion (allocations may be
 * failing), and the exit a status could not copy is left unknown.
 */
static const char *status_wrong(const struct procmgr_status *st, pid_t pid,
				bool full)
{
	if (st->state != PROCMGR_RUNNING || st->pid != pid)
		return "not the running sleeper";
	if (!full)
		return NULL;
	if (st->monitor != getpid())
		return "its monitor not found";
	if (st->restarts != 2 || !st->ready || st->idle_timeout != 5)
		return "restarts, ready or idle_timeout wrong";
	if (!st->socket || strcmp(st->socket, "8080") || !st->status_text ||
	    strcmp(st->status_text, "serving"))
		return "socket or status_text wrong";
	if (st->exit.known && (!st->exit.reason ||
			       strcmp(st->exit.reason, "crash")))
		return "exit wrong";
	return NULL;
}

/*
 * The keys of a status, each read and parsed: a daemon that is running
 * (a sleeper) with everything a monitor records (NAME full), and one
 * recorded as pants does, known by argv[0] (NAME pants). Three statuses
 * on one handle: the first, one the handle keeps, and the one it gives
 * again. An exit the status could not copy is left unknown.
 */
START_TEST(test_status_keys)
{
	char *base = tu_path(tmp, "base"), *self, *mon, *argv0;
	const char *names[] = { "full", "pants" };
	struct procmgr_status st;
	const char *wrong;
	procmgr *h;
	pid_t pid = start_sleeper(tmp, NULL, NULL);
	int fds, r;
	bool hit;

	h = tu_open(base, "full");
	record_pid(h, pid, true);
	ck_assert_int_eq(procmgr_proc_identity(getpid(), &self), 0);
	mon = tu_keep(pm_asprintf("%d %s", (int)getpid(), self));
	free(self);
	ck_assert_int_eq(procmgr_write(h, "monitor", mon), 0);
	ck_assert_int_eq(procmgr_write(h, "fingerprint", "fp"), 0);
	ck_assert_int_eq(procmgr_write(h, "socket", "8080"), 0);
	ck_assert_int_eq(procmgr_write(h, "exit", "status=1 "
				       "at=2026-01-01T00:00:00Z reason=crash"),
			 0);
	ck_assert_int_eq(procmgr_write(h, "ready", "1"), 0);
	ck_assert_int_eq(procmgr_write(h, "restarts", "2"), 0);
	ck_assert_int_eq(procmgr_write(h, "supervision", "idle_timeout=5"), 0);
	ck_assert_int_eq(procmgr_write(h, "status_text", "serving"), 0);
	procmgr_free(h);
	h = tu_open(base, "pants");
	record_pid(h, pid, false);
	ck_assert_int_eq(pm_proc_argv0(pid, &argv0), 0);
	ck_assert_int_eq(procmgr_write(h, "process_name", argv0), 0);
	free(argv0);
	procmgr_free(h);
	tu_sleep(0.05);	/* older than the clock: an answer to keep */
	for (size_t i = 0; i < 2; i++) {
		for (long n = 1;; n++) {
			fds = tu_count_fds();
			h = tu_open(base, names[i]);
			arm(n);
			r = 0;
			wrong = NULL;
			for (int k = 0; r == 0 && k < 3; k++) {
				r = procmgr_status(h, &st);
				if (r < 0)
					break;
				if (!wrong)
					wrong = status_wrong(&st, pid, i == 0);
				procmgr_status_clear(&st);
			}
			hit = clean_end("status", n, r, 0, h);
			ck_assert_msg(!wrong, "allocation %ld: %s", n, wrong);
			procmgr_free(h);
			ck_assert_int_eq(tu_count_fds(), fds);
			if (!hit)
				break;
		}
	}
	tu_kill(pid);
}
END_TEST

/* The checked pidfd of a recorded daemon. */
START_TEST(test_pidfd_verified)
{
	procmgr *h = tu_open(tu_path(tmp, "base"), "web");
	pid_t pid = start_sleeper(tmp, NULL, NULL);
	int fds, fd, r;
	bool hit;

	record_pid(h, pid, true);
	free(tu_key(h, "pid"));	/* the handle keeps its dir's fd */
	for (long n = 1;; n++) {
		fd = -1;
		fds = tu_count_fds();
		arm(n);
		r = pm_pidfd_verified(h, pid, &fd);
		hit = clean_end("pidfd verified", n, r, 0, h);
		if (r == 0)
			close(fd);
		ck_assert_int_eq(tu_count_fds(), fds);
		if (!hit)
			break;
	}
	procmgr_free(h);
	tu_kill(pid);
}
END_TEST

struct lock_waits {
	int calls;
	char message[256];
};

static void on_lock_wait(procmgr *h, const char *message,
			 const char *wait_line, void *userdata)
{
	struct lock_waits *w = userdata;

	(void)h;
	(void)wait_line;
	w->calls++;
	snprintf(w->message, sizeof(w->message), "%s", message);
}

/*
 * Waiting for a lock another handle holds, told of its holder: the
 * message is read at once, then again while the wait goes on.
 */
START_TEST(test_lock_wait)
{
	char *base = tu_path(tmp, "base"), want[32];
	procmgr *hold = tu_open(base, "web"), *h = tu_open(base, "web");
	struct lock_waits w;
	int fds, r;
	bool hit;

	snprintf(want, sizeof(want), "%d ", (int)getpid());
	ck_assert_int_eq(procmgr_lock(hold), 0);
	procmgr_set_lock_wait(h, 0.12, on_lock_wait, &w);
	for (long n = 1;; n++) {
		memset(&w, 0, sizeof(w));
		fds = tu_count_fds();
		arm(n);
		r = procmgr_lock(h);
		hit = clean_end("lock wait", n, r, -EWOULDBLOCK, h);
		ck_assert_int_eq(tu_count_fds(), fds);
		ck_assert_int_eq(procmgr_lock_held(h), 0);
		if (!hit) {
			ck_assert_int_eq(w.calls, 1);
			ck_assert_msg(!strncmp(w.message, want, strlen(want)),
				      "%s", w.message);
			break;
		}
	}
	ck_assert_int_eq(procmgr_unlock(hold), 0);
	ck_assert_int_eq(procmgr_lock(h), 0);
	ck_assert_int_eq(procmgr_unlock(h), 0);
	procmgr_free(h);
	procmgr_free(hold);
}
END_TEST

/* The environment that hands the held lock to a child. */
START_TEST(test_lock_child_env)
{
	procmgr *h = tu_open(tu_path(tmp, "base"), "web");
	char *env, *want;
	int fd, r;
	bool hit;

	ck_assert_int_eq(procmgr_lock(h), 0);
	want = tu_keep(pm_asprintf("%s=%d:%s", PROCMGR_LOCK_ENV, h->lock_fd,
				   procmgr_lock_path(h)));
	for (long n = 1;; n++) {
		env = NULL;
		arm(n);
		r = procmgr_lock_child_env(h, &fd, &env);
		hit = clean_end("lock child env", n, r, 0, h);
		if (r == 0)
			ck_assert_str_eq(env, want);
		else
			ck_assert_ptr_null(env);
		free(env);
		if (!hit)
			break;
	}
	ck_assert_int_eq(procmgr_unlock(h), 0);
	procmgr_free(h);
}
END_TEST

/* The children of pid (up to max) that /proc lists: how many. */
static size_t children_of(pid_t pid, pid_t *kids, size_t max)
{
	char path[64], *v, *p, *end;
	size_t n = 0;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)pid,
		 (int)pid);
	v = tu_read_file(path);
	for (p = v; p && n < max; p = end) {
		long k = strtol(p, &end, 10);

		if (end == p)
			break;
		kids[n++] = (pid_t)k;
	}
	free(v);
	return n;
}

/* A daemon with two children, recorded as h's: the shell's pid. */
static pid_t start_tree(procmgr *h, pid_t kids[2])
{
	const char *args[] = { "-c", "sleep 1000 & sleep 1000 & wait", NULL };
	pid_t sh = tu_spawn("/bin/sh", args);
	double end = tu_now() + 10;

	while (children_of(sh, kids, 2) < 2) {
		ck_assert_msg(tu_now() < end, "sh started no children");
		tu_sleep(0.001);
	}
	record_pid(h, sh, true);
	return sh;
}

/*
 * Stopping a daemon without a monitor and its tree: whatever fails, a
 * stop that succeeds leaves none of them running. This process is the
 * children's subreaper and ignores SIGCHLD, so that each is reaped the
 * moment it dies whatever happens (and the daemon's pid leaves /proc,
 * as under a parent that waits: its tree is then looked for in all of
 * /proc).
 */
START_TEST(test_stop_tree)
{
	char *base = tu_path(tmp, "base");
	pid_t sh, kids[2], got;
	procmgr *h;
	int fds, r;
	bool hit;

	ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	signal(SIGCHLD, SIG_IGN);
	for (long n = 1;; n++) {
		fds = tu_count_fds();
		h = tu_open(base, "web");
		sh = start_tree(h, kids);
		got = 0;
		arm(n);
		r = procmgr_stop(h, NULL, &got);
		hit = clean_end("stop", n, r, 1, h);
		if (r < 0)
			r = procmgr_stop(h, NULL, &got);
		ck_assert_msg(r >= 0, "allocation %ld: stop again: %s", n,
			      procmgr_errmsg(h));
		if (r == 1) {
			ck_assert_int_eq(got, sh);
			ck_assert_msg(!procmgr_pid_alive(kids[0]) &&
				      !procmgr_pid_alive(kids[1]),
				      "allocation %ld: a child survived", n);
		}
		ck_assert_msg(!tu_exists(procmgr_meta_dir(h)),
			      "allocation %ld: stop %d kept the metadata", n, r);
		procmgr_free(h);
		tu_kill(sh);
		for (int i = 0; i < 2; i++) {
			if (procmgr_pid_alive(kids[i]))
				kill(kids[i], SIGKILL);
			ck_assert(tu_wait_gone(kids[i], 10));
		}
		ck_assert_int_eq(tu_count_fds(), fds);
		if (!hit)
			break;
	}
}
END_TEST

/*
 * What a supervised daemon offers: the memory of its tree, a touch of
 * its monitor, and the monitor among the user's.
 */
START_TEST(test_supervised)
{
	char *daemon = tu_keep(tu_helper("fake-daemon"));
	char *argv[] = { daemon, (char *)"pause", NULL };
	struct procmgr_spawn_opts o = { .argv = argv };
	char *base = tu_path(tmp, "base");
	procmgr *h = tu_open(base, "web"), *t;
	struct procmgr_monitor *v;
	pid_t pid, mon;
	size_t count;
	uint64_t rss;
	int fds, r;
	bool hit, found;

	ck_assert_msg(procmgr_start(h, &o, &pid) == 0, "%s",
		      procmgr_errmsg(h));
	mon = track_daemon(pid);
	/* a handle each: a status kept on one holds pidfds (procmgr.h) */
	for (long n = 1;; n++) {
		rss = 0;
		fds = tu_count_fds();
		t = tu_open(base, "web");
		arm(n);
		r = procmgr_tree_rss(t, &rss);
		hit = clean_end("tree rss", n, r, 0, t);
		if (r == 0)
			ck_assert_uint_gt(rss, 0);
		procmgr_free(t);
		ck_assert_int_eq(tu_count_fds(), fds);
		if (!hit)
			break;
	}
	for (long n = 1;; n++) {
		fds = tu_count_fds();
		t = tu_open(base, "web");
		arm(n);
		r = procmgr_touch(t);
		hit = clean_end("touch", n, r, 0, t);
		procmgr_free(t);
		ck_assert_int_eq(tu_count_fds(), fds);
		if (!hit)
			break;
	}
	for (long n = 1;; n++) {
		v = NULL;
		count = 0;
		fds = tu_count_fds();
		arm(n);
		r = procmgr_monitors(&v, &count);
		hit = clean_end("monitors", n, r, 0, NULL);
		ck_assert_int_eq(tu_count_fds(), fds);
		found = false;
		for (size_t i = 0; r == 0 && i < count; i++)
			found = found || (v[i].pid == mon &&
					  !strcmp(v[i].name, "web"));
		ck_assert(r < 0 || found);
		procmgr_monitors_free(v, count);
		if (!hit)
			break;
	}
	ck_assert_int_eq(procmgr_stop(h, NULL, NULL), 1);
	procmgr_free(h);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("oom");
	TCase *tc = tcase_create("oom");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_open);
	tcase_add_test(tc, test_write_makes_dirs);
	tcase_add_test(tc, test_keys);
	tcase_add_test(tc, test_await);
	tcase_add_test(tc, test_rm_rf);
	tcase_add_test(tc, test_log_tail);
	tcase_add_test(tc, test_log_rotate);
	tcase_add_test(tc, test_listing);
	tcase_add_test(tc, test_list);
	tcase_add_test(tc, test_proc_identity);
	tcase_add_test(tc, test_status_keys);
	tcase_add_test(tc, test_pidfd_verified);
	tcase_add_test(tc, test_lock_wait);
	tcase_add_test(tc, test_lock_child_env);
	tcase_add_test(tc, test_stop_tree);
	tcase_add_test(tc, test_supervised);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
