/*
 * handle.c - a handle on one NAME under a DIR: its paths, the host
 * directory it lives in (found again when the hostname changed), its
 * messages; and the NAMEs under a DIR.
 */
#include "internal.h"

#include <dirent.h>
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

procmgr *procmgr_new(void)
{
	procmgr *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->meta_fd = -1;
	h->cancel_fd = -1;
	h->lock_fd = -1;
	h->lock_timeout = -1;
	h->start_log_offset = -1;
	return h;
}

static void free_paths(procmgr *h)
{
	free(h->dir);
	free(h->host_dir);
	free(h->meta_dir);
	free(h->lock_path);
	free(h->lock_msg_path);
	free(h->default_log);
	h->dir = h->host_dir = h->meta_dir = NULL;
	h->lock_path = h->lock_msg_path = h->default_log = NULL;
}

void procmgr_free(procmgr *h)
{
	if (!h)
		return;
	/* The lock is counted: release it whatever the depth. */
	if (procmgr_lock_held(h)) {
		h->lock_depth = 1;
		procmgr_unlock(h);
	}
	pm_live_drop(h);
	pm_meta_drop(h);
	free_paths(h);
	free(h->warning);
	free(h);
}

/* DIR as an absolute path without trailing slashes; relative to cwd. */
static int absolute_dir(const char *dir, char **ret)
{
	size_t n;
	int r = pm_abs_path(NULL, dir, ret);

	if (r < 0)
		return r;
	n = strlen(*ret);
	while (n > 1 && (*ret)[n - 1] == '/')
		(*ret)[--n] = '\0';
	return 0;
}

/* h's NAME paths, from its dir and host_dir. */
static int set_name_paths(procmgr *h, const char *name)
{
	const char *sep = strcmp(h->dir, "/") ? "/" : "";

	h->meta_dir = pm_asprintf("%s/%s", h->host_dir, name);
	h->default_log = pm_asprintf("%s/%s.log", h->host_dir, name);
	h->lock_path = pm_asprintf("%s%s.lock.%s", h->dir, sep, name);
	h->lock_msg_path = pm_asprintf("%s.lock_message", h->lock_path);
	if (!h->meta_dir || !h->default_log || !h->lock_path ||
	    !h->lock_msg_path)
		return -ENOMEM;
	return 0;
}

/*
 * Set h's dir and host_dir from dir (NULL: the default). name may be NULL
 * (a listing), leaving the NAME paths unset.
 */
int pm_set_paths(procmgr *h, const char *dir, const char *name)
{
	char *def = NULL;
	int r;

	if (!dir) {
		r = procmgr_default_dir(&def);
		if (r < 0)
			return pm_error(h, -r, "out of memory");
		dir = def;
	}
	r = -EINVAL;
	if (!*dir)
		goto fail;
	r = absolute_dir(dir, &h->dir);
	if (r < 0)
		goto fail;
	r = procmgr_host_fingerprint(h->hostfp);
	if (r < 0)
		goto fail;
	h->host_dir = pm_asprintf("%s%s%s", h->dir, strcmp(h->dir, "/") ?
				  "/" : "", h->hostfp);
	r = h->host_dir ? 0 : -ENOMEM;
	if (r == 0 && name)
		r = set_name_paths(h, name);
	if (r < 0)
		goto fail;
	free(def);
	return 0;
fail:
	r = pm_error(h, -r, "cannot use directory '%s': %s; pass another "
		     "directory", dir ? dir : "",
		     r == -EINVAL ? "it is empty" : strerror(-r));
	free(def);
	free_paths(h);
	return r;
}

int procmgr_open_read_only(procmgr *h, const char *dir, const char *name)
{
	int r;

	if (!h)
		return -EINVAL;
	if (!h->opened)
		h->read_only = true;
	r = procmgr_open(h, dir, name);
	if (r < 0 && !h->opened)
		h->read_only = false;
	return r;
}

/* Point h's NAME paths into DIR/fp instead of DIR/HOSTFP. */
static int use_hostfp(procmgr *h, const char *fp)
{
	char *host = pm_asprintf("%s%s%s", h->dir, strcmp(h->dir, "/") ?
				 "/" : "", fp);
	char *meta = host ? pm_asprintf("%s/%s", host, h->name) : NULL;
	char *log = host ? pm_asprintf("%s/%s.log", host, h->name) : NULL;

	if (!host || !meta || !log) {
		free(host);
		free(meta);
		free(log);
		return -ENOMEM;
	}
	pm_live_drop(h);
	pm_meta_drop(h);
	free(h->host_dir);
	free(h->meta_dir);
	free(h->default_log);
	h->host_dir = host;
	h->meta_dir = meta;
	h->default_log = log;
	memcpy(h->hostfp, fp, PROCMGR_HOSTFP_LEN + 1);
	return 0;
}

/* Is DIR/fp/NAME this boot's live daemon (start_time and all)? */
static bool runs_under(procmgr *h, const char *fp)
{
	struct procmgr_status st;
	char *v = NULL;
	bool r;

	if (use_hostfp(h, fp) < 0 || procmgr_status(h, &st) < 0)
		return false;
	/* pants' metadata (no start_time) is not matched on a guess */
	r = st.state == PROCMGR_RUNNING && procmgr_read(h, "start_time", &v) ==
						  0;
	free(v);
	procmgr_status_clear(&st);
	return r;
}

static bool is_hostfp(const char *s)
{
	return strlen(s) == PROCMGR_HOSTFP_LEN &&
	       strspn(s, "0123456789abcdef") == PROCMGR_HOSTFP_LEN;
}

/*
 * No DIR/HOSTFP/NAME: a change of the host's name (or kernel) changes
 * HOSTFP under a running daemon, which would then look stopped, and an
 * ensure would start a second copy. So look under the other host
 * directories of DIR for a NAME that is a live process of this boot
 * (start_time carries the boot id), use it, and say so once. -ENOMEM
 * when h, pointed at another host's directory to look, cannot be
 * pointed back at this host's.
 */
static int find_moved(procmgr *h)
{
	char here[PROCMGR_HOSTFP_LEN + 1], *err = strdup(h->errmsg);
	struct dirent *e;
	bool found = false;
	DIR *d = NULL;
	int fd, r = 0;

	memcpy(here, h->hostfp, sizeof(here));
	if (pm_open_base(h, false, &fd) == 0) {
		d = pm_opendir_at(fd, ".");
		close(fd);
	}
	if (!d) {
		free(err);
		return 0;
	}
	while (!found && (e = readdir(d)))
		found = is_hostfp(e->d_name) && strcmp(e->d_name, here) &&
			runs_under(h, e->d_name);
	if (found)
		pm_warn(h, "%s runs with its metadata in %s, under another host "
			"fingerprint than this host's %s (its name or kernel "
			"changed since it started); using that", h->name,
			h->meta_dir, here);
	else
		r = use_hostfp(h, here);
	closedir(d);
	if (err)
		snprintf(h->errmsg, sizeof(h->errmsg), "%s", err);
	free(err);
	return r;
}

int procmgr_open(procmgr *h, const char *dir, const char *name)
{
	char norm[PROCMGR_NAME_MAX + 1];
	int fd, r;

	if (!h)
		return -EINVAL;
	if (h->opened)
		return pm_error(h, EINVAL, "handle is already opened for '%s'; "
				"use a new handle", h->name);
	if (procmgr_name_normalize(name, norm) < 0)
		return pm_error(h, EINVAL, "invalid name '%s': use 1-64 "
				"characters of a-z, 0-9, '.', '_', '-', not "
				"starting with '.'", name ? name : "(null)");
	memcpy(h->name, norm, sizeof(norm));
	r = pm_set_paths(h, dir, h->name);
	if (r < 0)
		goto fail;
	/*
	 * Vet what exists now, and keep it for the reads to come; creating
	 * waits for the first write.
	 */
	r = pm_meta_fd(h, &fd);
	if (r < 0 && r != -ENOENT)
		goto fail;
	h->errmsg[0] = '\0';
	h->opened = true;
	if (r == -ENOENT && find_moved(h) < 0) {
		h->opened = false;
		pm_live_drop(h);
		pm_meta_drop(h);
		r = pm_error(h, ENOMEM, "out of memory");
		goto fail;
	}
	return 0;
fail:
	free_paths(h);
	h->name[0] = '\0';
	return r;
}

int pm_open_listed(procmgr *h, const procmgr *base, int host_fd,
		   const char *name)
{
	int r;

	if (h->opened)
		return pm_error(h, EINVAL, "handle is already opened for '%s'; "
				"use a new handle", h->name);
	snprintf(h->name, sizeof(h->name), "%s", name);
	memcpy(h->hostfp, base->hostfp, sizeof(h->hostfp));
	h->dir = strdup(base->dir);
	h->host_dir = strdup(base->host_dir);
	r = h->dir && h->host_dir ? set_name_paths(h, h->name) : -ENOMEM;
	if (r < 0) {
		r = pm_error(h, ENOMEM, "out of memory");
		goto fail;
	}
	h->read_only = true;
	/* A NAME removed since it was listed is stopped: no metadata. */
	r = pm_meta_open_at(h, host_fd);
	if (r < 0 && r != -ENOENT)
		goto fail;
	h->errmsg[0] = '\0';
	h->opened = true;
	return 0;
fail:
	free_paths(h);
	h->name[0] = '\0';
	h->read_only = false;
	return r;
}

const char *procmgr_errmsg(const procmgr *h)
{
	return h ? h->errmsg : "out of memory";
}

const char *procmgr_errparam(const procmgr *h)
{
	return h ? h->errparam : NULL;
}

const char *procmgr_warning(const procmgr *h)
{
	return h ? h->warning : NULL;
}

const char *procmgr_get_name(const procmgr *h)
{
	return h && h->opened ? h->name : NULL;
}

const char *procmgr_get_dir(const procmgr *h)
{
	return h ? h->dir : NULL;
}

const char *procmgr_meta_dir(const procmgr *h)
{
	return h ? h->meta_dir : NULL;
}

const char *procmgr_lock_path(const procmgr *h)
{
	return h ? h->lock_path : NULL;
}

const char *procmgr_default_log(const procmgr *h)
{
	return h ? h->default_log : NULL;
}
