/*
 * atomic.c - whole-file reads and writes relative to a directory fd.
 *
 * A write goes to a temp file in the same directory and is renamed over
 * the key, so a reader sees the old value or the new one and never the
 * empty or half-written file pants' in-place truncation can show. Temp
 * names start with '.', which no key may, so they are never read as keys.
 */
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TEMP_TRIES 100

/* Create a fresh temp file next to name, like mkostemp() but via openat. */
static int open_temp(int dirfd, const char *name, char *ret_tmp, size_t size)
{
	static const char letters[] =
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	unsigned char rnd[8];
	struct timespec ts;
	int fd, i, j;

	for (i = 0; i < TEMP_TRIES; i++) {
		if (getrandom(rnd, sizeof(rnd), GRND_NONBLOCK) !=
		    (ssize_t)sizeof(rnd)) {
			/* No entropy yet (early boot): time and pid will do,
			 * O_EXCL keeps it safe anyway. */
			clock_gettime(CLOCK_MONOTONIC, &ts);
			for (j = 0; j < 8; j++)
				rnd[j] = (unsigned char)((ts.tv_nsec >> j * 3) ^
						 (getpid() >> j) ^ i);
		}
		/* ".<key>.<8 random>": short enough for NAME_MAX. */
		j = snprintf(ret_tmp, size, ".%.200s.", name);
		for (int k = 0; k < 8; k++)
			ret_tmp[j + k] = letters[rnd[k] % (sizeof(letters) - 1)];
		ret_tmp[j + 8] = '\0';
		fd = openat(dirfd, ret_tmp, O_WRONLY | O_CREAT | O_EXCL |
			    O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0 || errno != EEXIST)
			return fd < 0 ? -errno : fd;
	}
	return -EEXIST;
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int pm_write_atomic_at(int dirfd, const char *name, const void *data,
		       size_t len, mode_t mode)
{
	char tmp[256];
	int fd, r;

	fd = open_temp(dirfd, name, tmp, sizeof(tmp));
	if (fd < 0)
		return fd;
	r = write_all(fd, data, len);
	if (r < 0)
		goto fail;
	if (fchmod(fd, mode) < 0 || fsync(fd) < 0)
		goto fail_errno;
	r = close(fd);
	fd = -1;
	if (r < 0)
		goto fail_errno;
	if (renameat(dirfd, tmp, dirfd, name) < 0)
		goto fail_errno;
	return 0;
fail_errno:
	r = -errno;
fail:
	if (fd >= 0)
		close(fd);
	unlinkat(dirfd, tmp, 0);
	return r;
}

int pm_read_at(int dirfd, const char *name, size_t max, char **ret_data,
	       size_t *ret_len)
{
	struct stat st;
	char *buf = NULL, *nbuf;
	size_t len = 0, cap = 256;
	ssize_t n;
	int fd, r;

	/* O_NONBLOCK: a FIFO planted as a key must not hang us. */
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		goto fail_errno;
	r = S_ISDIR(st.st_mode) ? -EISDIR : -EBADMSG;
	if (!S_ISREG(st.st_mode))
		goto fail;
	for (;;) {
		if (len + 1 >= cap || !buf) {
			cap = buf ? cap * 2 : cap;
			nbuf = realloc(buf, cap);
			r = -ENOMEM;
			if (!nbuf)
				goto fail;
			buf = nbuf;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto fail_errno;
		if (n == 0)
			break;
		len += (size_t)n;
		r = -EFBIG;
		if (len > max)
			goto fail;
	}
	close(fd);
	buf[len] = '\0';
	*ret_data = buf;
	if (ret_len)
		*ret_len = len;
	return 0;
fail_errno:
	r = -errno;
fail:
	close(fd);
	free(buf);
	return r;
}

/* Remove everything inside the open directory fd (consumed). */
static int empty_dir(int fd)
{
	DIR *d = fdopendir(fd);
	struct dirent *e;
	int r = 0, q;

	if (!d) {
		r = -errno;
		close(fd);
		return r;
	}
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		/* unlinkat without AT_REMOVEDIR never follows a symlink;
		 * EISDIR tells us it is a real directory to descend. */
		if (unlinkat(fd, e->d_name, 0) == 0 || errno == ENOENT)
			continue;
		q = errno == EISDIR || errno == EPERM ?
			    pm_rm_rf_at(fd, e->d_name) : -errno;
		if (q < 0 && r == 0)
			r = q;
	}
	closedir(d);
	return r;
}

int pm_rm_rf_at(int dirfd, const char *name)
{
	int fd, r;

	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		/* A file or a symlink: remove the entry itself. */
		if (errno == ENOTDIR || errno == ELOOP)
			return unlinkat(dirfd, name, 0) < 0 && errno != ENOENT ?
				       -errno : 0;
		return -errno;
	}
	r = empty_dir(fd);
	if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT &&
	    r == 0)
		r = -errno;
	return r;
}
