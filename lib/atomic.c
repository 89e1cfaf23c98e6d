/*
 * atomic.c - whole-file reads and writes relative to a directory fd.
 *
 * A write goes to a temp file in the same directory and is renamed over
 * the key, so a reader sees the old value or the new one and never the
 * empty or half-written file pants' in-place truncation can show. Temp
 * names start with '.', which no key may, so they are never read as keys.
 *
 * Nothing is fsynced. The rename alone gives every reader of the running
 * system the old value or the new one; fsync would only matter after a
 * crash of the machine, and then every key is stale anyway: the boot id
 * in start_time has changed, so no recorded process can pass as running.
 * A key a crash left empty or lost reads as corrupt or absent: stale, as
 * it would be. An fsync cost about 0.3 ms per key on ext4, a dozen keys
 * per start.
 */
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TEMP_TRIES 100
#define TEMP_LETTERS 6

/*
 * Create a fresh temp file next to name, like mkostemp() but via openat:
 * ".<name>.<pid>.<start time>.<6 letters>". The creator's pid and start
 * time let a later sweep (pm_sweep_temps()) tell a dead writer's leftover
 * from a write under way. The letters need not be unpredictable: the
 * directory is ours (0700, or vetted by pm_check_dir) and O_EXCL refuses
 * anything already there.
 */
static int open_temp(int dirfd, const char *name, char *ret_tmp, size_t size)
{
	static const char letters[] = "abcdefghijklmnopqrstuvwxyz"
				      "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	char tag[PM_CREATOR_TAG_MAX];
	struct timespec ts;
	uint64_t x;
	int fd = -EEXIST, i, j, k;

	pm_creator_tag(tag, sizeof(tag));
	clock_gettime(CLOCK_MONOTONIC, &ts);
	x = (uint64_t)ts.tv_nsec ^ (uint64_t)ts.tv_sec << 32 ^
	    (uint64_t)getpid() << 16;
	for (i = 0; i < TEMP_TRIES && fd == -EEXIST; i++) {
		/* splitmix64: spreads even nearby seeds over all letters. */
		x += 0x9e3779b97f4a7c15ULL;
		x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
		x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
		x ^= x >> 31;
		/* 1 + 200 + 1 + 39 + 1 + 6 at most: within NAME_MAX */
		j = snprintf(ret_tmp, size, ".%.200s.%s.", name, tag);
		for (k = 0; k < TEMP_LETTERS; k++)
			ret_tmp[j + k] = letters[(x >> (k * 6)) % 62];
		ret_tmp[j + TEMP_LETTERS] = '\0';
		fd = openat(dirfd, ret_tmp, O_WRONLY | O_CREAT | O_EXCL |
			    O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0)
			fd = -errno;
	}
	return fd;
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		/* 0 for a nonzero count: no progress; never loop on it */
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
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

	if (!*name || strchr(name, '/'))
		return -EINVAL;
	fd = open_temp(dirfd, name, tmp, sizeof(tmp));
	if (fd < 0)
		return fd;
	r = write_all(fd, data, len);
	if (r == 0 && fchmod(fd, mode) < 0)
		r = -errno;
	/* close() can report a deferred write error (NFS): keep it. */
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && renameat(dirfd, tmp, dirfd, name) < 0)
		r = -errno;
	if (r < 0)
		unlinkat(dirfd, tmp, 0);
	return r;
}

int pm_read_at(int dirfd, const char *name, size_t max, char **ret_data,
	       size_t *ret_len)
{
	return pm_read_at_stat(dirfd, name, max, ret_data, ret_len, NULL);
}

int pm_read_at_stat(int dirfd, const char *name, size_t max, char **ret_data,
		    size_t *ret_len, struct stat *ret_st)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	int fd, r;

	/* O_NONBLOCK: a FIFO planted as a key must not hang us. */
	fd = openat(dirfd, name,
		    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		r = -errno;
	else if (!S_ISREG(st.st_mode))
		r = S_ISDIR(st.st_mode) ? -EISDIR : -EBADMSG;
	else
		r = pm_read_fd_sized(fd, max, false, (size_t)st.st_size, &buf,
				     &len);
	close(fd);
	if (r < 0)
		return r;
	*ret_data = buf;
	if (ret_len)
		*ret_len = len;
	if (ret_st)
		*ret_st = st;
	return 0;
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

	/* "." or ".." would empty the directory we were given, or above. */
	if (!*name || strchr(name, '/') || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0)
		return -EINVAL;
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

/* Strict decimal digits, the whole of s, into *ret. */
static bool parse_digits(const char *s, unsigned long long *ret)
{
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	*ret = strtoull(s, &end, 10);
	return !errno && !*end;
}

/*
 * Is name a temp file ".<target>.<pid>.<start>.<letters>" (of target only,
 * if given)? Its creator's pid and start time into *pid, *start.
 */
static bool temp_name(const char *name, const char *only, pid_t *pid,
		      unsigned long long *start)
{
	char buf[256], *p, *s;
	unsigned long long n;
	size_t len = strlen(name);

	if (name[0] != '.' || len >= sizeof(buf))
		return false;
	memcpy(buf, name, len + 1);
	p = strrchr(buf, '.');
	if (strlen(p + 1) != TEMP_LETTERS)
		return false;
	*p = '\0';
	s = strrchr(buf, '.');
	if (!parse_digits(s + 1, start))
		return false;
	*s = '\0';
	p = strrchr(buf, '.');
	if (p == buf || !parse_digits(p + 1, &n) || n > INT_MAX)
		return false;
	*p = '\0';
	*pid = (pid_t)n;
	return !only || strcmp(buf + 1, only) == 0;
}

void pm_sweep_temps(int dirfd, const char *only)
{
	DIR *d = pm_opendir_at(dirfd, ".");
	unsigned long long start;
	struct dirent *e;
	pid_t pid;

	if (!d)
		return;
	while ((e = readdir(d)))
		if (temp_name(e->d_name, only, &pid, &start) &&
		    pm_creator_gone(pid, start) == 1)
			unlinkat(dirfd, e->d_name, 0);
	closedir(d);
}
