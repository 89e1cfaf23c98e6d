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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PM_LOG_MAX_DEFAULT (10 * 1024 * 1024)
#define PM_TAIL_CHUNK 65536

static int abs_path(const char *path, char **ret)
{
	char cwd[PATH_MAX];
	char *p;

	if (path[0] == '/')
		p = strdup(path);
	else if (!getcwd(cwd, sizeof(cwd)))
		return -errno;
	else
		p = pm_asprintf("%s/%s", cwd, path);
	if (!p)
		return -ENOMEM;
	*ret = p;
	return 0;
}

/* Rename a log over max bytes to PATH.1 (replacing an older one). */
static int rotate(procmgr *h, const char *path, off_t max)
{
	struct stat st;
	char *old;
	int r = 0;

	if (stat(path, &st) < 0 || st.st_size <= max)
		return 0;
	old = pm_asprintf("%s.1", path);
	if (!old)
		return -ENOMEM;
	if (rename(path, old) < 0)
		r = pm_error(h, errno, "cannot rotate log %s to %s: %s", path,
			     old, strerror(errno));
	free(old);
	return r;
}

int pm_log_open(procmgr *h, const char *path, off_t max, int *ret_fd,
		char **ret_path)
{
	char *abs = NULL;
	int fd = -1, hfd, r;

	if (!path) {
		/* Makes DIR/HOSTFP, checked, for the default log. */
		r = pm_open_host(h, true, &hfd);
		if (r < 0)
			return r;
		close(hfd);
		path = h->default_log;
	}
	r = abs_path(path, &abs);
	if (r < 0)
		return pm_error(h, -r, "cannot resolve log %s against the "
				"current directory: %s; give an absolute path",
				path, strerror(-r));
	r = rotate(h, abs, max > 0 ? max : PM_LOG_MAX_DEFAULT);
	if (r < 0)
		goto fail;
	/*
	 * 0644 (less if the caller's umask says so), as the daemon itself
	 * would create it under its umask 022, as pantsd's own log and
	 * systemd's StandardOutput=append: are: `procmgr logs` run by
	 * another user works, and the default log is private anyway inside
	 * DIR (0700).
	 */
	fd = open(abs, O_WRONLY | O_APPEND | O_CREAT | O_NOCTTY | O_CLOEXEC,
		  0644);
	if (fd < 0) {
		r = pm_error(h, errno, "cannot open log %s: %s; check that its "
			     "directory exists and is writable", abs,
			     strerror(errno));
		goto fail;
	}
	r = pm_fd_above_stdio(fd);
	if (r < 0) {
		close(fd);
		r = pm_error(h, -r, "cannot open log %s: %s; check the limit "
			     "on open files (ulimit -n)", abs, strerror(-r));
		goto fail;
	}
	*ret_fd = r;
	*ret_path = abs;
	return 0;
fail:
	free(abs);
	return r;
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

static int read_from(int fd, off_t start, off_t size, char **ret)
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
	char *path = NULL, *text = NULL;
	struct stat st;
	off_t start = 0;
	int fd = -1, r;

	r = procmgr_log_path(h, &path);
	if (r < 0)
		return r;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		r = pm_error(h, errno, "cannot read log %s: %s", path,
			     strerror(errno));
		goto fail;
	}
	if (n == 0)
		start = st.st_size;
	else
		r = tail_start(fd, st.st_size, n, &start);
	/* Not before from: an earlier run's lines are not this one's. */
	if (start < from)
		start = from > st.st_size ? st.st_size : from;
	if (r >= 0)
		r = read_from(fd, start, st.st_size, &text);
	if (r < 0) {
		r = pm_error(h, -r, "cannot read log %s: %s", path,
			     strerror(-r));
		goto fail;
	}
	*ret_text = text;
fail:
	if (fd >= 0)
		close(fd);
	free(path);
	return r;
}
