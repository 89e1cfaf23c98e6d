/*
 * logs.c - the daemon's log: where it is, opening it for a start (rotating
 * a big one to .1 first), and its last lines.
 *
 * The default log lives beside the metadata directory, not in it, so stop
 * and purge (which remove the directory) keep it for the post-mortem.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#define PM_LOG_MAX_DEFAULT (10 * 1024 * 1024)
#define PM_TAIL_CHUNK 65536

/* What name in dirfd is, for a message: "a FIFO", "a directory"... */
static const char *kind_of(int dirfd, const char *name)
{
	struct stat st;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return "gone";
	if (S_ISDIR(st.st_mode))
		return "a directory";
	if (S_ISFIFO(st.st_mode))
		return "a FIFO";
	if (S_ISSOCK(st.st_mode))
		return "a socket";
	return "a device";
}

/*
 * Open name in dirfd (its absolute path is path, for messages) as a log:
 * flags plus O_NOFOLLOW, so a symlink planted as the log cannot send the
 * daemon's output, or our reads, elsewhere; and O_NONBLOCK, so a FIFO
 * cannot hang us (holding the lock) on open. Then anything but a regular
 * file is refused, and O_NONBLOCK cleared again. Every failure has its
 * message on h.
 */
static int open_regular(procmgr *h, int dirfd, const char *name,
			const char *path, int flags, int *ret_fd)
{
	struct stat st;
	int fd, fl, r;

	fd = openat(dirfd, name, flags | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
		    O_CLOEXEC, 0644);
	if (fd >= 0 && fstat(fd, &st) == 0 && !S_ISREG(st.st_mode)) {
		close(fd);
		fd = -1;
		errno = EISDIR;	/* below: "not a regular file" */
	}
	fl = fd >= 0 ? fcntl(fd, F_GETFL) : -1;
	if (fl >= 0 && fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) == 0) {
		*ret_fd = fd;
		return 0;
	}
	r = errno;
	if (fd >= 0)
		close(fd);
	if (r == ELOOP && fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISLNK(st.st_mode))
		return pm_blame(h, "log_path",
				pm_error(h, ELOOP, "log %s is a symlink, "
					 "refusing to follow it; remove it or "
					 "give the real path", path));
	/* ENXIO: a FIFO nobody reads (opened for writing) */
	if (r == EISDIR || r == ENXIO)
		return pm_blame(h, "log_path",
				pm_error(h, EBADFD, "log %s is %s, not a "
					 "regular file; remove it or give a "
					 "regular file", path,
					 kind_of(dirfd, name)));
	return pm_blame(h, "log_path",
			pm_error(h, r, "cannot open log %s: %s%s", path,
				 strerror(r), flags & O_CREAT ?
				 "; check that its directory exists and is "
				 "writable" : ""));
}

/*
 * A log over max bytes is renamed to NAME.1 (replacing an older one) and
 * *fd replaced by a fresh log.
 */
static int rotate(procmgr *h, int dirfd, const char *name, const char *path,
		  off_t max, int *fd)
{
	struct stat st;
	char *old;
	int nfd, r = 0;

	if (fstat(*fd, &st) < 0 || st.st_size <= max)
		return 0;
	old = pm_asprintf("%s.1", name);
	if (!old)
		return pm_error(h, ENOMEM, "out of memory");
	if (renameat(dirfd, name, dirfd, old) < 0)
		r = pm_error(h, errno, "cannot rotate log %s to %s.1: %s", path,
			     path, strerror(errno));
	free(old);
	if (r < 0)
		return r;
	r = open_regular(h, dirfd, name, path, O_WRONLY | O_APPEND | O_CREAT,
			 &nfd);
	if (r < 0)
		return r;
	close(*fd);
	*fd = nfd;
	return 0;
}

/*
 * Where the log at path (absolute) is opened: the default log by name in
 * the checked DIR/HOSTFP (create: made if missing), so no symlink on the
 * way is followed; any other by its path. *ret_dirfd is the directory to
 * open name in; *ret_close is -1 or an fd to close afterwards.
 */
static int log_place(procmgr *h, const char *path, bool create,
		     int *ret_dirfd, int *ret_close, const char **ret_name)
{
	int r;

	*ret_close = -1;
	*ret_dirfd = AT_FDCWD;
	*ret_name = path;
	if (strcmp(path, h->default_log))
		return 0;
	r = pm_open_host(h, create, ret_close);
	if (r < 0)
		return r;
	*ret_dirfd = *ret_close;
	*ret_name = strrchr(h->default_log, '/') + 1;
	return 0;
}

int pm_log_open(procmgr *h, const char *path, off_t max, int *ret_fd,
		char **ret_path)
{
	const char *name;
	char *abs = NULL;
	int dirfd, cfd = -1, fd = -1, r;

	r = pm_abs_path(NULL, path ? path : h->default_log, &abs);
	if (r < 0)
		return pm_error(h, -r, "cannot resolve log %s against the "
				"current directory: %s; give an absolute path",
				path, strerror(-r));
	/*
	 * 0644 (less if the caller's umask says so), as the daemon itself
	 * would create it under its umask 022, as pantsd's own log and
	 * systemd's StandardOutput=append: are: `procmgr logs` run by
	 * another user works, and the default log is private anyway inside
	 * DIR (0700).
	 */
	r = log_place(h, abs, true, &dirfd, &cfd, &name);
	if (r >= 0)
		r = open_regular(h, dirfd, name, abs,
				 O_WRONLY | O_APPEND | O_CREAT, &fd);
	if (r >= 0)
		r = rotate(h, dirfd, name, abs, max > 0 ? max :
			   PM_LOG_MAX_DEFAULT, &fd);
	if (cfd >= 0)
		close(cfd);
	if (r >= 0) {
		r = pm_fd_above_stdio(fd);
		if (r < 0)
			r = pm_error(h, -r, "cannot open log %s: %s; check the "
				     "limit on open files (ulimit -n)", abs,
				     strerror(-r));
	}
	if (r < 0) {
		if (fd >= 0)
			close(fd);
		free(abs);
		return r;
	}
	*ret_fd = r;
	*ret_path = abs;
	return 0;
}

int procmgr_log_path(procmgr *h, char **ret_path)
{
	char *v = NULL, *p;
	int r;

	r = pm_check_open(h);
	if (r < 0)
		return r;
	r = procmgr_read(h, "log", &v);
	if (r == -ENOENT || (r == 0 && !*v)) {
		free(v);
		p = strdup(h->default_log);
		if (!p)
			return -ENOMEM;
		*ret_path = p;
		return 0;
	}
	if (r < 0)
		return r;
	*ret_path = v;
	return 0;
}

/*
 * Find where the last n lines start by reading backwards from the end in
 * chunks, so a big log costs only what the lines need.
 */
static int tail_start(int fd, off_t size, size_t n, off_t *ret_start)
{
	char buf[PM_TAIL_CHUNK];
	off_t pos = size;
	size_t seen = 0;
	bool last = true;	/* a final newline ends, not starts, a line */

	while (pos > 0) {
		size_t len = pos > PM_TAIL_CHUNK ? PM_TAIL_CHUNK : (size_t)pos;
		/* Reads of a regular file are not interrupted by signals. */
		ssize_t got = pread(fd, buf, len, pos - (off_t)len);

		if (got != (ssize_t)len)
			return got < 0 ? -errno : -EIO;
		pos -= (off_t)len;
		for (size_t i = len; i-- > 0;) {
			if (buf[i] != '\n')
				continue;
			if (last && pos + (off_t)i == size - 1)
				continue;
			if (++seen == n) {
				*ret_start = pos + (off_t)i + 1;
				return 0;
			}
		}
		last = false;
	}
	*ret_start = 0;
	return 0;
}

static int read_from(int fd, off_t start, off_t size, char **ret,
		     size_t *ret_len)
{
	size_t len = (size_t)(size - start), got = 0;
	char *buf = malloc(len + 1);

	if (!buf)
		return -ENOMEM;
	while (got < len) {
		ssize_t r = pread(fd, buf + got, len - got, start + (off_t)got);

		if (r <= 0)
			break;	/* truncated: show what is left */
		got += (size_t)r;
	}
	buf[got] = '\0';
	*ret = buf;
	*ret_len = got;
	return 0;
}

int procmgr_log_open(procmgr *h, int *ret_fd, char **ret_path)
{
	const char *name;
	char *path = NULL;
	int dirfd, cfd = -1, fd = -1, r;

	r = procmgr_log_path(h, &path);
	if (r < 0)
		return r;
	r = log_place(h, path, false, &dirfd, &cfd, &name);
	if (r == -ENOENT)
		r = pm_error(h, ENOENT, "cannot open log %s: %s", path,
			     strerror(ENOENT));
	if (r >= 0)
		r = open_regular(h, dirfd, name, path, O_RDONLY, &fd);
	if (cfd >= 0)
		close(cfd);
	if (r < 0) {
		free(path);
		return r;
	}
	*ret_fd = fd;
	if (ret_path)
		*ret_path = path;
	else
		free(path);
	return 0;
}

/*
 * The last n lines of fd up to its size now, none before offset from (an
 * earlier run's lines are not this one's), and fd's offset left where
 * they end. -errno, no message.
 */
static int read_tail(int fd, off_t from, size_t n, char **ret_text,
		     size_t *ret_len)
{
	struct stat st;
	off_t start = 0;
	size_t len;
	char *text;
	int r;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (n == 0)
		start = st.st_size;
	else if ((r = tail_start(fd, st.st_size, n, &start)) < 0)
		return r;
	if (start < from)
		start = from > st.st_size ? st.st_size : from;
	r = read_from(fd, start, st.st_size, &text, &len);
	if (r < 0)
		return r;
	if (lseek(fd, start + (off_t)len, SEEK_SET) < 0) {
		free(text);
		return -errno;
	}
	*ret_text = text;
	if (ret_len)
		*ret_len = len;
	return 0;
}

int procmgr_log_tail_fd(procmgr *h, int fd, size_t n, char **ret_text,
			size_t *ret_len)
{
	int r = read_tail(fd, 0, n, ret_text, ret_len);

	if (r < 0)
		return pm_error(h, -r, "cannot read the log: %s", strerror(-r));
	return 0;
}

int procmgr_log_tail(procmgr *h, size_t n, char **ret_text)
{
	return pm_log_tail_from(h, 0, n, ret_text);
}

int procmgr_start_log_tail(procmgr *h, size_t n, char **ret_text)
{
	int r = pm_check_open(h);

	if (r < 0)
		return r;
	return pm_log_tail_from(h, h->start_log_offset > 0 ?
				   h->start_log_offset : 0, n, ret_text);
}

int pm_log_tail_from(procmgr *h, off_t from, size_t n, char **ret_text)
{
	char *path = NULL;
	int fd = -1, r;

	r = procmgr_log_open(h, &fd, &path);
	if (r < 0)
		return r;
	r = read_tail(fd, from, n, ret_text, NULL);
	if (r < 0)
		r = pm_error(h, -r, "cannot read log %s: %s", path,
			     strerror(-r));
	close(fd);
	free(path);
	return r;
}

/* ---- following ---------------------------------------------------- */

/* Hand what was appended to fd since the last call to fn. */
static int pass_new(int fd, procmgr_log_fn fn, void *userdata)
{
	char buf[8192];
	struct stat sb;
	ssize_t n;
	int r = 0;

	/* A log truncated under us starts over. */
	if (fstat(fd, &sb) == 0 && sb.st_size < lseek(fd, 0, SEEK_CUR))
		lseek(fd, 0, SEEK_SET);
	while (r == 0 && (n = read(fd, buf, sizeof(buf))) > 0)
		r = fn(buf, (size_t)n, userdata);
	return r;
}

/* The running daemon, as a reference checked after it was opened. */
static bool daemon_ref(procmgr *h, struct pm_pref *ret)
{
	struct procmgr_status st = { 0 };
	bool r = false;

	if (procmgr_status(h, &st) >= 0 && st.state == PROCMGR_RUNNING &&
	    pm_pref_open(st.pid, 0, ret) == 0)
		r = pm_identity_matches(h, st.pid) == 1 &&
		    pm_pref_exited(ret) == 0;
	procmgr_status_clear(&st);
	if (!r && ret->pid > 0)
		pm_pref_close(ret);
	return r;
}

/* A watch for writes to path, or -1: then the loop looks every second. */
static int watch_log(const char *path)
{
	int ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);

	if (ifd >= 0 && inotify_add_watch(ifd, path, IN_MODIFY | IN_ATTRIB |
					  IN_DONT_FOLLOW) < 0) {
		close(ifd);
		ifd = -1;
	}
	return ifd;
}

static int follow_loop(procmgr *h, int fd, int ifd, struct pm_pref *d,
		       procmgr_log_fn fn, void *userdata)
{
	char events[4096] __attribute__((aligned(8)));
	struct pollfd p[3] = { { .fd = ifd, .events = POLLIN },
			       { .fd = d->fd, .events = POLLIN } };
	int r;

	for (;;) {
		/* written between the tail and the watch: pass it first */
		r = pass_new(fd, fn, userdata);
		if (r < 0 || pm_pref_exited(d))
			return r < 0 ? r : pass_new(fd, fn, userdata);
		r = pm_poll(h, p, 2, ifd < 0 || d->fd < 0 ? 1000 : -1);
		if (r < 0)
			return r;	/* -EINTR: a signal handler ran */
		if (ifd >= 0 && (p[0].revents & POLLIN))
			(void)!read(ifd, events, sizeof(events));
	}
}

int procmgr_log_follow(procmgr *h, size_t n, procmgr_log_fn fn,
		       void *userdata)
{
	struct pm_pref d = { .fd = -1 };
	char *path = NULL, *text = NULL;
	size_t len;
	int fd, ifd = -1, r;

	r = procmgr_log_open(h, &fd, &path);
	if (r < 0)
		return r;
	r = procmgr_log_tail_fd(h, fd, n, &text, &len);
	if (r >= 0)
		r = fn(text, len, userdata);
	free(text);
	if (r >= 0 && daemon_ref(h, &d)) {
		ifd = watch_log(path);
		r = follow_loop(h, fd, ifd, &d, fn, userdata);
		pm_pref_close(&d);
	}
	if (r == -EINTR)
		r = pm_error(h, EINTR, "interrupted while following %s", path);
	if (ifd >= 0)
		close(ifd);
	close(fd);
	free(path);
	return r < 0 ? r : 0;
}
