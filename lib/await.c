/*
 * await.c - procmgr_await(): block until a key appears, woken by inotify
 * on NAME's directory (and on DIR/HOSTFP until NAME's directory exists),
 * never by polling the file system in a sleep loop.
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
#include <unistd.h>

#define AWAIT_MASK (IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE | \
		    IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW)

/*
 * Watch the deepest existing directory of DIR/HOSTFP/NAME (or of DIR's
 * parents). Watching an ancestor, we look again for the child after
 * arming: had it appeared in between, its creation event would be lost.
 */
static int arm_watch(procmgr *h, int ifd, int *wd)
{
	char *path = NULL, *slash;
	int w, r = 0;
	bool deepest;

again:
	free(path);
	path = strdup(h->meta_dir);
	if (!path)
		return -ENOMEM;
	deepest = true;
	while ((w = inotify_add_watch(ifd, path, AWAIT_MASK)) < 0) {
		slash = strrchr(path, '/');
		if (errno != ENOENT || !slash || slash == path) {
			r = -errno;
			goto out;
		}
		*slash = '\0';
		deepest = false;
	}
	if (*wd >= 0 && *wd != w)
		inotify_rm_watch(ifd, *wd);
	*wd = w;
	if (!deepest) {
		struct stat st;

		*slash = '/';
		if (lstat(path, &st) == 0)
			goto again;
	}
out:
	free(path);
	return r;
}

void pm_inotify_drain(int ifd)
{
	char buf[4096]
		__attribute__((aligned(__alignof__(struct inotify_event))));

	while (read(ifd, buf, sizeof(buf)) > 0)
		;
}

/* Say why a watch failed: a symlink or bad component explains it best. */
static int await_arm_failed(procmgr *h, const char *key, int err)
{
	int fd, r;

	r = pm_open_meta(h, false, &fd);
	if (r >= 0)
		close(fd);
	if (r < 0 && r != -ENOENT)
		return r;
	return pm_error(h, -err, "cannot watch %s for '%s': %s", h->meta_dir,
			key, strerror(-err));
}

int procmgr_await(procmgr *h, const char *key, double timeout,
		  char **ret_value)
{
	struct timespec deadline;
	struct pollfd pfd[2];
	int ifd, wd = -1, r, n;

	r = pm_check_open(h);
	if (r >= 0)
		r = pm_key_check(h, key);
	if (r < 0)
		return r;
	ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (ifd < 0)
		return pm_error(h, errno, "cannot await %s/%s: inotify: %s",
				h->meta_dir, key, strerror(errno));
	pm_deadline(timeout, &deadline);
	for (;;) {
		r = arm_watch(h, ifd, &wd);
		if (r < 0) {
			r = await_arm_failed(h, key, r);
			break;
		}
		r = procmgr_read(h, key, ret_value);
		if (r != -ENOENT)
			break;
		pfd[0] = (struct pollfd){ .fd = ifd, .events = POLLIN };
		pm_waiting(h, "key %s of %s", key, h->name);
		n = pm_poll(h, pfd, 1, pm_ms_left(timeout, &deadline));
		pm_waiting(h, NULL);
		if (n == -EINTR) {
			r = pm_error(h, EINTR, "interrupted while waiting for "
				     "%s/%s", h->meta_dir, key);
			break;
		}
		if (n < 0) {
			r = pm_error(h, -n, "cannot await %s/%s: %s",
				     h->meta_dir, key, strerror(-n));
			break;
		}
		if (n == 0) {
			r = pm_error(h, ETIMEDOUT, "timed out after %gs "
				     "waiting for %s/%s", timeout,
				     h->meta_dir, key);
			break;
		}
		pm_inotify_drain(ifd);
	}
	close(ifd);
	return r;
}
