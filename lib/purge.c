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
#include <limits.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ASIDE_MAX (PROCMGR_NAME_MAX + PM_CREATOR_TAG_MAX + 32)

/*
 * ".NAME.purge.<pid>.<start time>.<ns>": a dot name, so listings and keys
 * skip it; unique enough (RENAME_NOREPLACE refuses rather than clobbers a
 * clash); and naming its creator, so that a sweep knows when one was left
 * by a removal that never finished (sweep_litter()).
 */
static void aside_name(procmgr *h, char out[ASIDE_MAX])
{
	char tag[PM_CREATOR_TAG_MAX];
	struct timespec ts;

	pm_creator_tag(tag, sizeof(tag));
	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(out, ASIDE_MAX, ".%s.purge.%s.%lld", h->name, tag,
		 (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
}

/* Is name NAME's aside copy made by a process that is gone? */
static bool dead_aside(procmgr *h, const char *name)
{
	unsigned long long v[3];	/* pid, its start, a time in ns */
	size_t n = strlen(h->name);

	if (name[0] != '.' || strncmp(name + 1, h->name, n) ||
	    strncmp(name + 1 + n, ".purge.", 7))
		return false;
	name += 1 + n + 7;
	if (strspn(name, "0123456789.") != strlen(name))
		return false;
	/* PID.START.NS: three numbers, two dots, nothing after */
	for (int k = 0; k < 3; k++) {
		if (pm_parse_ull(name, 10, &v[k], &name) < 0 ||
		    *name != (k < 2 ? '.' : '\0'))
			return false;
		name += k < 2;
	}
	if (v[0] < 1 || v[0] > INT_MAX)
		return false;
	return pm_creator_gone((int)v[0], v[1]) == 1;
}

/*
 * A removal that died left its aside copy: put it back when nothing took
 * NAME's place since (the removal never finished, and the state change
 * about to run decides afresh), else it is older than what is there.
 */
static void sweep_asides(procmgr *h, int hostfd)
{
	DIR *d = pm_opendir_at(hostfd, ".");
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (!dead_aside(h, e->d_name))
			continue;
		if (renameat2(hostfd, e->d_name, hostfd, h->name,
			      RENAME_NOREPLACE) < 0)
			pm_rm_rf_at(hostfd, e->d_name);
	}
	closedir(d);
}

static void sweep_litter(procmgr *h)
{
	char *msg = NULL;
	int fd;

	if (pm_open_host(h, false, &fd) == 0) {
		sweep_asides(h, fd);
		close(fd);
	}
	if (pm_open_meta(h, false, &fd) == 0) {
		pm_sweep_temps(fd, NULL);
		close(fd);
	}
	if (pm_open_base(h, false, &fd) == 0) {
		msg = strrchr(h->lock_msg_path, '/');
		pm_sweep_temps(fd, msg ? msg + 1 : h->lock_msg_path);
		close(fd);
	}
	h->errmsg[0] = '\0';
}

int pm_lock_and_sweep(procmgr *h, struct procmgr_status *ret_st)
{
	int r = procmgr_lock(h);

	if (r < 0)
		return r;
	sweep_litter(h);
	r = ret_st ? procmgr_status(h, ret_st) : 0;
	if (r < 0)
		procmgr_unlock(h);
	return r;
}

/* The pid key of directory name in hostfd: 0 when absent or unparsable. */
static pid_t dir_pid(int hostfd, const char *name)
{
	pid_t pid = 0;
	size_t len;
	char *v;
	int fd, r;

	fd = openat(hostfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
	if (fd < 0)
		return 0;
	r = pm_read_at(fd, "pid", PM_READ_MAX, &v, &len);
	if (r == 0) {
		if (pm_parse_pid_len(v, len, &pid) < 0)
			pid = 0;
		free(v);
	}
	close(fd);
	/* not read is not another pid: never taken for a successor's */
	return r == -ENOMEM ? -ENOMEM : pid;
}

/*
 * Move the keys of from that to lacks into to, then remove from. Keys in
 * to were written after from was renamed aside, so they are newer and are
 * kept (RENAME_NOREPLACE); keys only in from are the current ones. A key
 * that could not be moved for any other reason keeps from in place, so
 * that nothing is lost: the caller says where it is.
 */
static int merge_into(int hostfd, const char *from, const char *to)
{
	DIR *d = pm_opendir_at(hostfd, from);
	struct dirent *e;
	int tfd, r;

	tfd = d ? openat(hostfd, to, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
			 O_CLOEXEC) : -1;
	r = tfd < 0 ? -errno : 0;
	/* dot names are "." "..", and temp files of writes under way */
	while (tfd >= 0 && (e = readdir(d)))
		if (e->d_name[0] != '.' &&
		    renameat2(dirfd(d), e->d_name, tfd, e->d_name,
			      RENAME_NOREPLACE) < 0 && errno != EEXIST)
			r = -errno;
	if (d)
		closedir(d);
	if (tfd >= 0)
		close(tfd);
	return r < 0 ? r : pm_rm_rf_at(hostfd, from);
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
	aside_name(h, aside);
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
		else if (pid == -ENOMEM)
			r = pm_error(h, ENOMEM, "cannot read %s/pid: %s",
				     h->meta_dir, strerror(ENOMEM));
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

	r = pm_lock_and_sweep(h, &st);
	if (r < 0)
		return r;
	if (st.state == PROCMGR_RUNNING && !force)
		r = pm_blame(h, "force",
			     pm_error(h, EBUSY, "%s is running (pid %d); stop "
				      "it first or purge with force", h->name,
				      (int)st.pid));
	else if (st.state != PROCMGR_STOPPED)
		r = pm_meta_remove_if(h, st.pid);
	procmgr_status_clear(&st);
	procmgr_unlock(h);
	return r;
}
