/*
 * purge.c - removing a NAME's metadata without ever removing a successor's.
 *
 * Compare-and-delete: the directory is first renamed aside (atomically, so
 * nobody can write into DIR/HOSTFP/NAME under that name any more), then its
 * pid is read again. Only if it is still the pid the caller decided on is
 * the aside copy removed; otherwise it goes back.
 */
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#define ASIDE_MAX (PROCMGR_NAME_MAX + 32)

/* ".NAME.purge.<12 hex>": a dot name, so listings and keys skip it. */
static int aside_name(procmgr *h, char out[ASIDE_MAX])
{
	unsigned char rnd[6];

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return -EIO;
	snprintf(out, ASIDE_MAX, ".%s.purge.%02x%02x%02x%02x%02x%02x",
		 h->name, rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5]);
	return 0;
}

/* The pid key of directory name in hostfd: 0 when absent or unparsable. */
static pid_t dir_pid(int hostfd, const char *name)
{
	pid_t pid = 0;
	size_t len;
	char *v;
	int fd;

	fd = openat(hostfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (pm_read_at(fd, "pid", PM_READ_MAX, &v, &len) == 0) {
		if (pm_parse_pid(v, &pid) < 0)
			pid = 0;
		free(v);
	}
	close(fd);
	return pid;
}

/*
 * Move the keys of from that to lacks into to, then remove from. Keys in
 * to were written after from was renamed aside, so they are newer and are
 * kept (RENAME_NOREPLACE); keys only in from are the current ones.
 */
static int merge_into(int hostfd, const char *from, const char *to)
{
	int ffd = -1, tfd = -1, r;
	struct dirent *e;
	DIR *d = NULL;

	ffd = openat(hostfd, from, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		     O_CLOEXEC);
	tfd = openat(hostfd, to, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		     O_CLOEXEC);
	if (ffd < 0 || tfd < 0) {
		r = -errno;
		goto out;
	}
	d = fdopendir(ffd);
	if (!d) {
		r = -errno;
		goto out;
	}
	ffd = -1;
	while ((e = readdir(d)))
		/* dot names are "." "..", and temp files of writes under way */
		if (e->d_name[0] != '.')
			renameat2(dirfd(d), e->d_name, tfd, e->d_name,
				  RENAME_NOREPLACE);
	r = pm_rm_rf_at(hostfd, from);
out:
	if (d)
		closedir(d);
	if (ffd >= 0)
		close(ffd);
	if (tfd >= 0)
		close(tfd);
	return r;
}

/*
 * Put the aside copy back. If a successor has meanwhile created NAME anew
 * (it writes key by key, so some of its keys may be in the aside copy and
 * the rest in the new directory), merge rather than lose either half.
 */
static int put_back(int hostfd, const char *aside, const char *name)
{
	if (renameat2(hostfd, aside, hostfd, name, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EEXIST)
		return -errno;
	return merge_into(hostfd, aside, name);
}

int pm_meta_remove_if(procmgr *h, pid_t expected_pid)
{
	char aside[ASIDE_MAX];
	pid_t pid;
	int hostfd, r;

	r = pm_open_host(h, false, &hostfd);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	r = aside_name(h, aside);
	if (r < 0)
		goto out;
	if (renameat2(hostfd, h->name, hostfd, aside, RENAME_NOREPLACE) < 0) {
		r = errno == ENOENT ? 0 :
		    pm_error(h, errno, "cannot move %s aside to remove it: %s",
			     h->meta_dir, strerror(errno));
		goto out;
	}
	pid = dir_pid(hostfd, aside);
	if (pid != expected_pid) {
		r = put_back(hostfd, aside, h->name);
		if (r < 0)
			r = pm_error(h, -r, "cannot move %s/%s back to %s: %s; "
				     "move it back by hand", h->host_dir, aside,
				     h->meta_dir, strerror(-r));
		else
			r = pm_error(h, ESTALE, "%s changed meanwhile (pid %d, "
				     "not %d); left it in place", h->meta_dir,
				     (int)pid, (int)expected_pid);
		goto out;
	}
	r = pm_rm_rf_at(hostfd, aside);
	if (r < 0)
		r = pm_error(h, -r, "cannot remove %s (moved to %s/%s): %s",
			     h->meta_dir, h->host_dir, aside, strerror(-r));
out:
	close(hostfd);
	return r;
}

int procmgr_purge(procmgr *h, bool force)
{
	struct procmgr_status st;
	int r;

	r = procmgr_lock(h);
	if (r < 0)
		return r;
	r = procmgr_status(h, &st);
	if (r < 0)
		goto out;
	if (st.state == PROCMGR_RUNNING && !force)
		r = pm_error(h, EBUSY, "%s is running (pid %d); stop it first "
			     "or use --force", h->name, (int)st.pid);
	else if (st.state != PROCMGR_STOPPED)
		r = pm_meta_remove_if(h, st.pid);
	procmgr_status_clear(&st);
out:
	procmgr_unlock(h);
	return r;
}
