/*
 * meta.c - handles and the keys of DIR/HOSTFP/NAME: read, write, delete,
 * list and await them, and list the NAMEs under a DIR.
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

#define KEY_MAX 255

procmgr *procmgr_new(void)
{
	procmgr *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->meta_pin = -1;
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
	pm_meta_unpin(h);
	free_paths(h);
	free(h->warning);
	free(h);
}

/* DIR as an absolute path without trailing slashes; relative to cwd. */
static int absolute_dir(const char *dir, char **ret)
{
	char cwd[PATH_MAX];
	char *abs;
	size_t n;

	if (dir[0] == '/') {
		abs = strdup(dir);
	} else {
		if (!getcwd(cwd, sizeof(cwd)))
			return -errno;
		abs = pm_asprintf("%s%s%s", cwd, strcmp(cwd, "/") ? "/" : "",
				  dir);
	}
	if (!abs)
		return -ENOMEM;
	n = strlen(abs);
	while (n > 1 && abs[n - 1] == '/')
		abs[--n] = '\0';
	*ret = abs;
	return 0;
}

/*
 * Set h's dir and host_dir from dir (NULL: the default). name may be NULL
 * (procmgr_list), leaving the NAME paths unset.
 */
static int set_paths(procmgr *h, const char *dir, const char *name)
{
	char *def = NULL;
	const char *sep;
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
	sep = strcmp(h->dir, "/") ? "/" : "";
	h->host_dir = pm_asprintf("%s%s%s", h->dir, sep, h->hostfp);
	if (name) {
		h->meta_dir = pm_asprintf("%s/%s", h->host_dir, name);
		h->default_log = pm_asprintf("%s/%s.log", h->host_dir, name);
		h->lock_path = pm_asprintf("%s%s.lock.%s", h->dir, sep, name);
		h->lock_msg_path = pm_asprintf("%s.lock_message", h->lock_path);
	}
	r = -ENOMEM;
	if (!h->host_dir || (name && (!h->meta_dir || !h->default_log ||
				      !h->lock_path || !h->lock_msg_path)))
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
 * (start_time carries the boot id), use it, and say so once.
 */
static void find_moved(procmgr *h)
{
	char here[PROCMGR_HOSTFP_LEN + 1], *err = strdup(h->errmsg);
	struct dirent *e;
	bool found = false;
	DIR *d;
	int fd;

	memcpy(here, h->hostfp, sizeof(here));
	if (pm_open_base(h, false, &fd) < 0 || !(d = fdopendir(fd))) {
		free(err);
		return;
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
		use_hostfp(h, here);
	closedir(d);
	if (err)
		snprintf(h->errmsg, sizeof(h->errmsg), "%s", err);
	free(err);
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
	r = set_paths(h, dir, h->name);
	if (r < 0)
		goto fail;
	/* Vet what exists now; creating waits for the first write. */
	r = pm_open_meta(h, false, &fd);
	if (r >= 0)
		close(fd);
	if (r < 0 && r != -ENOENT)
		goto fail;
	h->errmsg[0] = '\0';
	h->opened = true;
	if (r == -ENOENT)
		find_moved(h);
	return 0;
fail:
	free_paths(h);
	h->name[0] = '\0';
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

int pm_key_check(procmgr *h, const char *key)
{
	if (!key || !*key || strlen(key) > KEY_MAX || strchr(key, '/') ||
	    key[0] == '.')
		return pm_error(h, EINVAL, "invalid key '%s': use 1-255 "
				"characters without '/', not starting with '.'",
				key ? key : "(null)");
	return 0;
}

/* Common start of the key calls: an opened handle and a valid key. */
static int key_call(procmgr *h, const char *key)
{
	int r = pm_check_open(h);

	return r < 0 ? r : pm_key_check(h, key);
}

int pm_meta_pin(procmgr *h)
{
	pm_meta_unpin(h);
	return pm_open_meta(h, false, &h->meta_pin);
}

void pm_meta_unpin(procmgr *h)
{
	if (h->meta_pin >= 0)
		close(h->meta_pin);
	h->meta_pin = -1;
}

/*
 * key_call(), then the NAME's metadata directory (create: made if missing);
 * a copy of the pinned one for reads while it is pinned.
 */
static int key_open(procmgr *h, const char *key, bool create, int *ret_fd)
{
	int r = key_call(h, key);

	if (r < 0)
		return r;
	if (h->meta_pin < 0 || create)
		return pm_open_meta(h, create, ret_fd);
	r = fcntl(h->meta_pin, F_DUPFD_CLOEXEC, 3);
	if (r < 0)
		return pm_error(h, errno, "cannot duplicate the fd of %s: %s",
				h->meta_dir, strerror(errno));
	*ret_fd = r;
	return 0;
}

int pm_key_stat(procmgr *h, const char *key, struct stat *ret)
{
	int fd, r;

	r = key_open(h, key, false, &fd);
	if (r < 0)
		return r;
	r = fstatat(fd, key, ret, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
	close(fd);
	return r;
}

int procmgr_read_raw(procmgr *h, const char *key, char **ret_value,
		     size_t *ret_len)
{
	int fd, r;

	r = key_open(h, key, false, &fd);
	if (r == -ENOENT)
		return pm_error(h, ENOENT, "%s: no metadata for '%s'",
				h->meta_dir, h->name);
	if (r < 0)
		return r;
	r = pm_read_at(fd, key, PM_READ_MAX, ret_value, ret_len);
	close(fd);
	if (r == -ENOENT)
		return pm_error(h, ENOENT, "%s/%s: key '%s' is not set",
				h->meta_dir, key, key);
	if (r == -ELOOP)
		return pm_error(h, ELOOP, "%s/%s is a symlink, refusing to "
				"follow it; remove it", h->meta_dir, key);
	if (r < 0)
		return pm_error(h, -r, "cannot read %s/%s: %s", h->meta_dir,
				key, strerror(-r));
	return 0;
}

int procmgr_read(procmgr *h, const char *key, char **ret_value)
{
	char *v, *s;
	int r;

	r = procmgr_read_raw(h, key, &v, NULL);
	if (r < 0)
		return r;
	s = pm_strip(v);
	memmove(v, s, strlen(s) + 1);
	*ret_value = v;
	return 0;
}

int procmgr_write_raw(procmgr *h, const char *key, const void *value,
		      size_t len)
{
	int fd, r;

	r = key_open(h, key, true, &fd);
	if (r < 0)
		return r;
	/* 0644 as pants' files are: keys are not secret, and readers may
	 * be other users' tools. */
	r = pm_write_atomic_at(fd, key, value, len, 0644);
	close(fd);
	if (r < 0)
		return pm_error(h, -r, "cannot write %s/%s: %s; the old value "
				"is kept; check free space and permissions",
				h->meta_dir, key, strerror(-r));
	return 0;
}

int procmgr_write(procmgr *h, const char *key, const char *value)
{
	if (!value)
		return pm_error(h, EINVAL, "no value given for key '%s'",
				key ? key : "(null)");
	return procmgr_write_raw(h, key, value, strlen(value));
}

int procmgr_delete(procmgr *h, const char *key)
{
	int fd, r;

	r = pm_check_writable(h);
	if (r < 0)
		return r;
	r = key_open(h, key, false, &fd);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	r = unlinkat(fd, key, 0) < 0 && errno != ENOENT ? -errno : 0;
	close(fd);
	if (r < 0)
		return pm_error(h, -r, "cannot remove %s/%s: %s", h->meta_dir,
				key, strerror(-r));
	return 0;
}

void procmgr_strv_free(char **strv)
{
	if (!strv)
		return;
	for (char **p = strv; *p; p++)
		free(*p);
	free(strv);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The entries of the open directory fd (consumed) that want() accepts,
 * sorted, as a NULL-terminated array.
 */
static int list_dir(int fd, bool (*want)(int, const char *), char ***ret)
{
	DIR *d = fdopendir(fd);
	struct dirent *e;
	char **v = NULL, **nv;
	size_t n = 0;
	int r = -ENOMEM;

	if (!d) {
		r = -errno;
		close(fd);
		return r;
	}
	v = calloc(1, sizeof(*v));
	if (!v)
		goto fail;
	while ((e = readdir(d))) {
		if (!want(dirfd(d), e->d_name))
			continue;
		nv = realloc(v, (n + 2) * sizeof(*v));
		if (!nv)
			goto fail;
		v = nv;
		v[n] = strdup(e->d_name);
		if (!v[n])
			goto fail;
		v[++n] = NULL;
	}
	qsort(v, n, sizeof(*v), cmp_str);
	closedir(d);
	*ret = v;
	return 0;
fail:
	closedir(d);
	procmgr_strv_free(v);
	return r;
}

static int empty_strv(char ***ret)
{
	char **v = calloc(1, sizeof(*v));

	if (!v)
		return -ENOMEM;
	*ret = v;
	return 0;
}

/* A key is a regular file whose name is a valid key (not a temp file). */
static bool want_key(int fd, const char *name)
{
	struct stat st;

	return name[0] != '.' && strlen(name) <= KEY_MAX &&
	       fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	       S_ISREG(st.st_mode);
}

int procmgr_keys(procmgr *h, char ***ret_keys)
{
	int fd, r;

	r = pm_check_open(h);
	if (r < 0)
		return r;
	r = pm_open_meta(h, false, &fd);
	if (r == -ENOENT)
		r = empty_strv(ret_keys);
	else if (r >= 0)
		r = list_dir(fd, want_key, ret_keys);
	if (r < 0)
		return pm_error(h, -r, "cannot list keys in %s: %s",
				h->meta_dir, strerror(-r));
	return 0;
}

/* A NAME is a real directory whose name is already a normalized name. */
static bool want_name(int fd, const char *name)
{
	char norm[PROCMGR_NAME_MAX + 1];
	struct stat st;

	return procmgr_name_normalize(name, norm) == 0 &&
	       strcmp(norm, name) == 0 &&
	       fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	       S_ISDIR(st.st_mode);
}

int procmgr_list(const char *dir, char ***ret_names)
{
	procmgr *h = procmgr_new();
	int fd, r;

	if (!h)
		return -ENOMEM;
	h->read_only = true;	/* it only reads: root may list anyone's */
	r = set_paths(h, dir, NULL);
	if (r < 0)
		goto out;
	r = pm_open_host(h, false, &fd);
	if (r == -ENOENT)
		r = empty_strv(ret_names);
	else if (r >= 0)
		r = list_dir(fd, want_name, ret_names);
out:
	procmgr_free(h);
	return r;
}

/* ---- await -------------------------------------------------------- */

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

static void drain(int ifd)
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

	r = key_call(h, key);
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
		drain(ifd);
	}
	close(ifd);
	return r;
}
