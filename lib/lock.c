/*
 * lock.c - the lifecycle lock: an OFD fcntl lock on DIR/.lock.NAME.
 *
 * fcntl locks are used, not flock(2), because pants' clients lock the same
 * file with POSIX lockf(), and Linux makes OFD and POSIX record locks
 * conflict with each other while flock locks are a separate world. OFD
 * locks (rather than classic POSIX ones) belong to the open file
 * description, so two handles in one process exclude each other, and
 * closing some unrelated fd on the file does not drop the lock.
 *
 * How a waiter waits. F_OFD_SETLKW blocks in the kernel and returns the
 * moment the lock is granted - no sleep loop, so a release or a holder's
 * death (the kernel drops a SIGKILLed process's locks when its files are
 * closed) wakes us at once. But a blocked fcntl() can neither time out nor
 * notice that the holder changed. So the wait runs F_OFD_SETLKW in a
 * helper thread that writes an eventfd when it returns, while the caller
 * poll()s that eventfd, with the time left as poll's timeout. For the
 * first 200 ms it reads the .lock_message file again every 50 ms, to
 * see whether the holder changed; a wait that lasts longer sets up an
 * inotify watch on DIR instead (the file being written, renamed into
 * place or deleted). Not at once: closing an inotify fd that watched
 * costs the kernel's fsnotify teardown, 5-22 ms, which the short waits
 * of a busy NAME (64 clients ensuring it at once) should not pay. The
 * watch is best-effort: a user out of inotify instances still waits in
 * the kernel, and the message is then read again every second. A new
 * holder's message is reported through the wait callback. On timeout the helper is cancelled
 * (F_OFD_SETLKW is a cancellation point in glibc) and joined, and the fd is
 * closed: closing the last fd of the description drops the lock even if
 * the helper was granted it just before it was cancelled.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

/* Without a watch, how often a waiter reads the holder's message again. */
#define MESSAGE_RECHECK_MS 1000
/* ... and at the start of a wait, before the watch is set up. */
#define EARLY_RECHECK_MS 50
#define WATCH_AFTER_S 0.2

/*
 * What the helper thread uses lives here, in the caller's frame, not in
 * the helper's own: a cancelled thread's frames are unwound without
 * AddressSanitizer unpoisoning them, which it then reports as an overflow.
 */
struct waiter {
	int fd;			/* the lock file (the caller's) */
	int efd;		/* written once the fcntl returns */
	int err;		/* 0 granted, else the errno */
	short type;		/* F_WRLCK, or F_RDLCK (pm_lock_shared()) */
	struct flock fl;
	uint64_t one;
};

static const char *basename_of(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

static int setlk(int fd, int cmd, short type)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET };

	/* l_start = l_len = 0: the whole file, as pants' lockf(fd, F_LOCK) */
	return fcntl(fd, cmd, &fl) < 0 ? -errno : 0;
}

int pm_lock_message_pid(const char *msg, pid_t *ret_pid)
{
	char num[12];
	size_t n = 0;

	while (*msg == ' ' || (*msg >= '\t' && *msg <= '\r'))
		msg++;
	while (msg[n] >= '0' && msg[n] <= '9')
		n++;
	if (n == 0 || n >= sizeof(num))
		return -EBADMSG;
	memcpy(num, msg, n);
	num[n] = '\0';
	return pm_parse_pid(num, ret_pid);
}

/*
 * The holder's message, "" when there is none or it is stale: a message
 * naming a pid that no longer runs was left by a holder that died.
 */
static char *read_message(procmgr *h, int dirfd)
{
	char *v = NULL, *s, *m;
	struct stat st;
	size_t len;
	pid_t pid;

	if (pm_read_at_stat(dirfd, basename_of(h->lock_msg_path), 4096, &v,
			    &len, &st) < 0)
		return strdup("");
	/* in a DIR others may write to, another user's message is a fake */
	if (!pm_trusted_uid(st.st_uid)) {
		free(v);
		return strdup("");
	}
	s = pm_strip(v);
	if (pm_lock_message_pid(s, &pid) == 0 && !procmgr_pid_alive(pid))
		s = (char *)"";
	m = strdup(s);
	free(v);
	return m;
}

/* Report the holder's message if it differs from the one shown last. */
static int report_holder(procmgr *h, int dirfd, char **shown)
{
	char *msg = read_message(h, dirfd), *line;

	if (!msg)
		return -ENOMEM;
	/* an empty message after one was shown: the holder is releasing */
	if ((*shown && (!msg[0] || !strcmp(msg, *shown))) || !h->lock_fn) {
		free(msg);
		return 0;
	}
	/*
	 * None to show: a holder that wrote none (not procmgr), or one that
	 * died while another process of its (a monitor) lets the lock go.
	 */
	line = pm_asprintf("PID %d waiting for a file lock (%s) held by: %s",
			   (int)getpid(), h->lock_path, msg[0] ? msg :
			   "a process that left no current lock message");
	if (!line) {
		free(msg);
		return -ENOMEM;
	}
	h->lock_fn(h, msg, line, h->lock_userdata);
	free(line);
	free(*shown);
	*shown = msg;
	return 0;
}

static void *waiter_main(void *arg)
{
	struct waiter *w = arg;
	int r;

	do {
		w->fl = (struct flock){ .l_type = w->type,
					.l_whence = SEEK_SET };
		r = fcntl(w->fd, F_OFD_SETLKW, &w->fl);
	} while (r < 0 && errno == EINTR);
	w->err = r < 0 ? errno : 0;
	w->one = 1;
	while (write(w->efd, &w->one, sizeof(w->one)) < 0 && errno == EINTR)
		;
	return NULL;
}

/* Start the helper thread with every signal blocked: they are the caller's. */
static int waiter_start(struct waiter *w, pthread_t *ret_thread)
{
	sigset_t all, old;
	int r;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = -pthread_create(ret_thread, NULL, waiter_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return r;
}

/* Drain the inotify fd; 1 if an event concerned the message file. */
static int message_changed(procmgr *h, int ifd)
{
	char buf[4096]
		__attribute__((aligned(__alignof__(struct inotify_event))));
	const char *name = basename_of(h->lock_msg_path);
	const struct inotify_event *ev;
	int changed = 0;
	ssize_t n;

	while ((n = read(ifd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n; p += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)p;
			if ((ev->mask & IN_Q_OVERFLOW) ||
			    (ev->len && !strcmp(ev->name, name)))
				changed = 1;
		}
	}
	return changed;
}

/* Watch DIR for the message file being written, replaced or removed. */
static int watch_messages(int dirfd, int *ret_ifd)
{
	char path[64];
	int ifd, r;

	ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (ifd < 0)
		return -errno;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", dirfd);
	if (inotify_add_watch(ifd, path, IN_CLOSE_WRITE | IN_MOVED_TO |
			      IN_DELETE) < 0) {
		r = -errno;
		close(ifd);
		return r;
	}
	*ret_ifd = ifd;
	return 0;
}

/*
 * How long one poll() of the wait may sleep: the time left, or, without a
 * watch on the message file, at most EARLY_RECHECK_MS before the watch
 * is tried and MESSAGE_RECHECK_MS after, when the message is read again
 * to see whether the holder changed.
 */
static int wait_ms(procmgr *h, int ifd, bool watch_tried,
		   const struct timespec *deadline)
{
	int ms = pm_ms_left(h->lock_timeout, deadline);
	int most = watch_tried ? MESSAGE_RECHECK_MS : EARLY_RECHECK_MS;

	if (ifd < 0 && (ms < 0 || ms > most))
		ms = most;
	return ms;
}

/*
 * poll() the helper's eventfd, and the watch once the wait is long
 * enough to set one up (*ifd), until granted or timed out. Without a
 * watch the message is read again now and then instead.
 */
static int wait_loop(procmgr *h, int dirfd, struct waiter *w, int *ifd,
		     char **shown)
{
	struct pollfd pfd[3] = {	/* pm_poll() uses the third */
		{ .fd = w->efd, .events = POLLIN },
		{ .fd = -1, .events = POLLIN },		/* the watch */
	};
	struct timespec deadline, watch_at;
	bool watch_tried = false;
	int n, r;

	pm_deadline(h->lock_timeout, &deadline);
	pm_deadline(WATCH_AFTER_S, &watch_at);
	for (;;) {
		if (!watch_tried && pm_ms_left(WATCH_AFTER_S, &watch_at) == 0) {
			watch_tried = true;
			if (watch_messages(dirfd, ifd) < 0)
				*ifd = -1;
			pfd[1].fd = *ifd;
		}
		n = pm_poll(h, pfd, 2, wait_ms(h, *ifd, watch_tried,
					       &deadline));
		/* -EINTR: a signal handler ran; the caller may give up. */
		if (n < 0)
			return n;
		if (n == 0 && h->lock_timeout >= 0 &&
		    pm_ms_left(h->lock_timeout, &deadline) == 0)
			return -ETIMEDOUT;
		if (pfd[0].revents)
			return 1;
		if (*ifd < 0 || message_changed(h, *ifd)) {
			r = report_holder(h, dirfd, shown);
			if (r < 0)
				return r;
		}
	}
}

/*
 * Block until fd's lock is granted (0) or h->lock_timeout passes. The
 * wait is the kernel's and needs no inotify; watching the message file
 * does, and the user may have no instance left (the per-user
 * fs.inotify.max_user_instances): then the message is re-read on a timer.
 */
static int wait_lock(procmgr *h, int dirfd, int fd, short type,
		     char **shown)
{
	struct waiter w = { .fd = fd, .efd = -1, .type = type };
	pthread_t thread;
	int ifd = -1, r;

	w.efd = eventfd(0, EFD_CLOEXEC);
	r = w.efd < 0 ? -errno : 0;
	if (r < 0)
		goto out;
	r = waiter_start(&w, &thread);
	if (r < 0)
		goto out;
	r = report_holder(h, dirfd, shown);
	if (r >= 0)
		r = wait_loop(h, dirfd, &w, &ifd, shown);
	if (r != 1)
		pthread_cancel(thread);
	/*
	 * A cancelled helper may have been granted the lock just before: the
	 * caller closes fd on failure, which drops it again.
	 */
	pthread_join(thread, NULL);
	if (r == 1)
		r = -w.err;
out:
	if (ifd >= 0)
		close(ifd);
	if (w.efd >= 0)
		close(w.efd);
	return r;
}

/*
 * The lock is held: fail at once, or wait as h->lock_timeout says for a
 * lock of this type.
 */
static int lock_held(procmgr *h, int dirfd, int fd, short type)
{
	char *shown = NULL, *msg;
	int r;

	if (h->lock_timeout != 0) {
		pm_waiting(h, "the lock of %s", h->name);
		r = wait_lock(h, dirfd, fd, type, &shown);
		pm_waiting(h, NULL);
		free(shown);
		if (r == -EINTR)
			return pm_error(h, EINTR, "interrupted while waiting "
					"for the lock %s", h->lock_path);
		if (r != -ETIMEDOUT)
			return r < 0 ? pm_error(h, -r, "cannot lock %s: %s",
						h->lock_path, strerror(-r)) : r;
	}
	msg = read_message(h, dirfd);
	/* Held by another, waited for or not: never a readiness timeout. */
	r = pm_error(h, EWOULDBLOCK, "%s%s is held by: %s; %s",
		     h->lock_timeout ? "timed out waiting for lock: " : "lock ",
		     h->lock_path,
		     msg && msg[0] ? msg : "another process (no lock message)",
		     h->lock_timeout ? "wait longer or stop that process" :
				       "try again later or wait for it");
	free(msg);
	return r;
}

/*
 * Whatever message file exists when the lock is granted was left by a
 * holder that died: overwrite it. If it cannot be written (a full disk),
 * remove it rather than fail - a stop must not need disk space, and a
 * waiter shows an empty message rather than a dead holder's.
 */
static void write_message(procmgr *h, int dirfd)
{
	const char *name = basename_of(h->lock_msg_path);
	char *msg = pm_self_text();

	if (!msg || pm_write_atomic_at(dirfd, name, msg, strlen(msg),
				       0644) < 0)
		unlinkat(dirfd, name, 0);
	free(msg);
}

/*
 * Open (creating) the lock file. In a DIR that others may write to (a
 * sticky /tmp), another user could have made it, to hold the lock for
 * ever; or the message file, to show waiters a fake holder that we could
 * neither replace nor remove. Both must be ours or root's.
 */
static int open_lock_file(procmgr *h, int dirfd, int *ret_fd)
{
	struct stat st;
	int fd, e, r;

	fd = openat(dirfd, basename_of(h->lock_path), O_RDWR | O_CREAT |
		    O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
	/* kept: the fstatat() below would overwrite errno */
	e = fd < 0 ? errno : 0;
	if (e == ELOOP)
		return pm_error(h, ELOOP, "lock file %s is a symlink, refusing "
				"to follow it; remove it", h->lock_path);
	if (e == EACCES &&
	    fstatat(dirfd, basename_of(h->lock_path), &st,
		    AT_SYMLINK_NOFOLLOW) == 0 && !pm_trusted_uid(st.st_uid))
		return pm_check_file_owner(h, &st, h->lock_path);
	/* not ours to lock: say whose, and so whose daemons these are */
	if (e == EACCES)
		return fstatat(dirfd, basename_of(h->lock_path), &st,
			       AT_SYMLINK_NOFOLLOW) == 0 ?
		       pm_denied(h, dirfd, basename_of(h->lock_path),
				 h->lock_path, "lock file") :
		       pm_denied(h, dirfd, ".", h->dir, "directory");
	if (fd < 0)
		return pm_error(h, e, "cannot open lock file %s: %s",
				h->lock_path, strerror(e));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		r = pm_error(h, EBADFD, "lock file %s is not a regular file; "
			     "remove it", h->lock_path);
	else
		r = pm_check_file_owner(h, &st, h->lock_path);
	if (r >= 0 && fstatat(dirfd, basename_of(h->lock_msg_path), &st,
			      AT_SYMLINK_NOFOLLOW) == 0)
		r = pm_check_file_owner(h, &st, h->lock_msg_path);
	if (r < 0) {
		close(fd);
		return r;
	}
	*ret_fd = fd;
	return 0;
}

void procmgr_set_lock_wait(procmgr *h, double timeout,
			   procmgr_lock_wait_fn fn, void *userdata)
{
	if (!h)
		return;
	h->lock_timeout = timeout;
	h->lock_fn = fn;
	h->lock_userdata = userdata;
}

/* lock_path's fd in "<fd>:<lock path>" (PROCMGR_LOCK_FD's value), or -1. */
static int inherited_fd(procmgr *h, const char *v)
{
	const char *colon = v ? strchr(v, ':') : NULL;
	char *end;
	long fd;

	if (!colon || colon == v || strcmp(colon + 1, h->lock_path))
		return -1;
	errno = 0;
	fd = strtol(v, &end, 10);
	if (errno || end != colon || fd < 0 || fd > INT_MAX)
		return -1;
	return (int)fd;
}

/*
 * A process run under the lock by `procmgr lock NAME -- CMD` inherits it:
 * PROCMGR_LOCK_FD=<fd>:<lock path>. Were it to take the lock anew it
 * would wait for its own parent for ever. The fd is trusted only when it
 * is open on this very lock file (device and inode of the one in DIR) and
 * its open file description holds the lock: F_OFD_GETLK on it finds no
 * conflicting lock (a description never conflicts with itself), while on
 * a description of our own it finds one. Then h uses a copy of it: 1.
 * Anything else: 0, and the lock is taken as usual.
 */
static int adopt_inherited(procmgr *h, int dirfd)
{
	struct flock mine = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	struct flock theirs = mine;
	const char *name = basename_of(h->lock_path);
	int fd = inherited_fd(h, getenv(PROCMGR_LOCK_ENV)), own, copy;
	struct stat a, b;

	if (fd < 0 || fstat(fd, &a) < 0 || !S_ISREG(a.st_mode) ||
	    fstatat(dirfd, name, &b, AT_SYMLINK_NOFOLLOW) < 0 ||
	    a.st_dev != b.st_dev || a.st_ino != b.st_ino ||
	    fcntl(fd, F_OFD_GETLK, &theirs) < 0 || theirs.l_type != F_UNLCK)
		return 0;
	own = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW |
		     O_NOCTTY | O_NONBLOCK);
	if (own < 0)
		return 0;
	if (fcntl(own, F_OFD_GETLK, &mine) < 0 || mine.l_type == F_UNLCK ||
	    (copy = fcntl(fd, F_DUPFD_CLOEXEC, 3)) < 0) {
		close(own);
		return 0;
	}
	close(own);
	/* what this process runs next must not pin the lock: only h's copy */
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	h->lock_fd = copy;
	h->lock_depth = 1;
	h->lock_inherited = true;
	return 1;
}

/* Lock fd (type F_WRLCK or F_RDLCK) at once, or wait as h says. */
static int take_lock(procmgr *h, int dirfd, int fd, short type)
{
	int r = setlk(fd, F_OFD_SETLK, type);

	if (r == -EAGAIN || r == -EACCES)
		return lock_held(h, dirfd, fd, type);
	if (r < 0)
		return pm_error(h, -r, "cannot lock %s: %s", h->lock_path,
				strerror(-r));
	return r;
}

int procmgr_lock(procmgr *h)
{
	int dirfd = -1, fd = -1, r;

	r = pm_check_open(h);
	if (r >= 0)
		r = pm_check_writable(h);
	if (r < 0)
		return r;
	if (h->lock_depth > 0) {
		h->lock_depth++;
		return 0;
	}
	r = pm_open_base(h, true, &dirfd);
	if (r < 0)
		return r;
	if (adopt_inherited(h, dirfd)) {
		close(dirfd);
		return 0;
	}
	r = open_lock_file(h, dirfd, &fd);
	if (r < 0)
		goto fail;
	r = take_lock(h, dirfd, fd, F_WRLCK);
	if (r < 0)
		goto fail;
	write_message(h, dirfd);
	close(dirfd);
	h->lock_fd = fd;
	h->lock_depth = 1;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	close(dirfd);
	return r;
}

int pm_lock_shared(procmgr *h, int *ret_fd)
{
	int dirfd = -1, fd = -1, r;

	if (h->lock_depth > 0 || getenv(PROCMGR_LOCK_ENV))
		return 0;
	r = pm_open_base(h, true, &dirfd);
	if (r < 0)
		return r;
	r = open_lock_file(h, dirfd, &fd);
	if (r < 0)
		goto out;
	r = take_lock(h, dirfd, fd, F_RDLCK);
	if (r >= 0) {
		*ret_fd = fd;
		fd = -1;
		r = 1;
	}
out:
	if (fd >= 0)
		close(fd);
	close(dirfd);
	return r;
}

int pm_lock_free(procmgr *h)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	int dirfd, fd, r;

	r = pm_open_base(h, false, &dirfd);
	if (r < 0)
		return r == -ENOENT ? 1 : r;
	fd = openat(dirfd, basename_of(h->lock_path),
		    O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	r = fd < 0 ? (errno == ENOENT ? 1 : -errno) :
	    fcntl(fd, F_OFD_GETLK, &fl) < 0 ? -errno : fl.l_type == F_UNLCK;
	if (fd >= 0)
		close(fd);
	close(dirfd);
	return r;
}

int procmgr_unlock(procmgr *h)
{
	if (!h)
		return -EINVAL;
	if (h->lock_depth == 0)
		return pm_error(h, ENOLCK, "the lock %s is not held by this "
				"handle", h->lock_path ? h->lock_path : "");
	if (--h->lock_depth > 0)
		return 0;
	/* an inherited lock is the parent's to release, message and all */
	if (h->lock_inherited) {
		close(h->lock_fd);
		h->lock_fd = -1;
		h->lock_inherited = false;
		return 0;
	}
	/* message first: once the lock is free a new holder writes its own */
	unlink(h->lock_msg_path);
	/*
	 * Unlock explicitly: a child forked without exec shares the open file
	 * description, and a close() here would leave the lock to it.
	 */
	setlk(h->lock_fd, F_OFD_SETLK, F_UNLCK);
	close(h->lock_fd);
	h->lock_fd = -1;
	return 0;
}

int procmgr_lock_held(const procmgr *h)
{
	return h && h->lock_depth > 0;
}

int procmgr_lock_child_env(procmgr *h, int *ret_fd, char **ret_env)
{
	char *env;

	if (!h || !procmgr_lock_held(h))
		return pm_error(h, ENOLCK, "the lock %s is not held by this "
				"handle",
				h && h->lock_path ? h->lock_path : "");
	env = pm_asprintf("%s=%d:%s", PROCMGR_LOCK_ENV, h->lock_fd,
			  h->lock_path);
	if (!env)
		return pm_error(h, ENOMEM, "out of memory");
	*ret_fd = h->lock_fd;
	*ret_env = env;
	return 0;
}
