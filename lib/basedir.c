/*
 * basedir.c - find, create and vet the metadata directories.
 *
 * DIR, DIR/HOSTFP and DIR/HOSTFP/NAME are walked one openat() at a time
 * with O_NOFOLLOW, so a symlink planted anywhere below DIR's parent can
 * never redirect our writes (and DIR itself may not be a symlink either).
 * DIR's parents are opened normally: /tmp or a relative path may well
 * pass through symlinks, and those belong to the system, not to us.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>

#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

int procmgr_default_dir(char **ret_dir)
{
	const char *env = getenv("PROCMGR_DIR");
	char *dir;

	if (env && *env)
		dir = strdup(env);
	else if ((env = getenv("XDG_RUNTIME_DIR")) && *env)
		dir = pm_asprintf("%s/procmgr", env);
	else
		dir = pm_asprintf("/tmp/procmgr-%u", (unsigned)getuid());
	if (!dir)
		return -ENOMEM;
	*ret_dir = dir;
	return 0;
}

int pm_passwd_name(uid_t uid, char *buf, size_t size)
{
	struct passwd pw, *res;
	char tmp[1024];
	FILE *f = fopen("/etc/passwd", "re");
	int found = 0;

	if (!f)
		return 0;
	while (!found && fgetpwent_r(f, &pw, tmp, sizeof(tmp), &res) == 0)
		if (pw.pw_uid == uid) {
			snprintf(buf, size, "%s", pw.pw_name);
			found = 1;
		}
	fclose(f);
	return found;
}

/*
 * A statically linked program (the CLI is a static PIE) cannot load
 * glibc's NSS modules, and getpwuid_r() crashes there on a uid that
 * the built-in lookups miss. Such a program has no interpreter
 * (AT_BASE is 0): it reads /etc/passwd itself. The weak reference keeps
 * glibc's NSS code (90 KiB) out of a static link that needs nothing else
 * of it, as the CLI's: the CLI's every page of text counts in its RSS.
 */
extern __typeof__(getpwuid_r) getpwuid_r __attribute__((weak));

static void user_name(uid_t uid, char *buf, size_t size)
{
	struct passwd pw, *res = NULL;
	char tmp[1024];

	if (!getpwuid_r || getauxval(AT_BASE) == 0) {
		if (!pm_passwd_name(uid, buf, size))
			snprintf(buf, size, "unknown user");
		return;
	}
	if (getpwuid_r(uid, &pw, tmp, sizeof(tmp), &res) == 0 && res)
		snprintf(buf, size, "%s", res->pw_name);
	else
		snprintf(buf, size, "unknown user");
}

bool pm_trusted_uid(uid_t uid)
{
	return uid == geteuid() || uid == 0;
}

int pm_check_file_owner(procmgr *h, const struct stat *st, const char *path)
{
	char owner[64], self[64];
	uid_t me = geteuid();

	if (pm_trusted_uid(st->st_uid) || (h && h->read_only && me == 0))
		return 0;
	user_name(st->st_uid, owner, sizeof(owner));
	user_name(me, self, sizeof(self));
	return pm_blame(h, "dir",
			pm_error(h, EACCES, "unsafe file %s: owned by uid %u "
				 "(%s), not you (uid %u, %s); another user may "
				 "fake or hold it: have it removed or use a "
				 "directory of your own", path,
				 (unsigned)st->st_uid, owner, (unsigned)me,
				 self));
}

/* pm_check_dir() of what fstat() said of the directory. */
static int check_dir_stat(procmgr *h, const struct stat *st, const char *path)
{
	uid_t me = geteuid();
	char owner[64], self[64];

	if (!S_ISDIR(st->st_mode))
		return pm_blame(h, "dir",
				pm_error(h, ENOTDIR, "%s is not a directory; "
					 "remove it or use another directory",
					 path));
	/* root may read (never write) another user's DIR */
	if (st->st_uid != me && st->st_uid != 0 &&
	    !(h && h->read_only && me == 0)) {
		user_name(st->st_uid, owner, sizeof(owner));
		user_name(me, self, sizeof(self));
		if (me == 0)
			return pm_error(h, EACCES, "directory %s is owned by "
					"uid %u (%s): root only reads another "
					"user's daemons (status, list, get, "
					"logs); change them as that user (sudo "
					"-u %s procmgr ...)", path,
					(unsigned)st->st_uid, owner, owner);
		return pm_blame(h, "dir",
				pm_error(h, EACCES, "unsafe directory %s: owned "
					 "by uid %u (%s), not you (uid %u, %s); "
					 "use a directory you own", path,
					 (unsigned)st->st_uid, owner,
					 (unsigned)me, self));
	}
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) && !(st->st_mode & S_ISVTX))
		return pm_blame(h, "dir",
				pm_error(h, EACCES, "unsafe directory %s: mode "
					 "%04o is writable by others without the "
					 "sticky bit; run 'chmod 700 %s' or use "
					 "another directory", path,
					 (unsigned)(st->st_mode & 07777), path));
	return 0;
}

int pm_check_dir(procmgr *h, int fd, const char *path, struct stat *ret_st)
{
	struct stat st;
	int r;

	if (fstat(fd, &st) < 0)
		return pm_error(h, errno, "cannot stat %s: %s", path,
				strerror(errno));
	r = check_dir_stat(h, &st, path);
	if (r == 0 && ret_st)
		*ret_st = st;
	return r;
}

/* mkdir -p path, 0700 for what it creates; symlinks followed (parents). */
static int mkdir_parents(const char *path)
{
	char *p = strdup(path);
	char *s, c;
	int r = 0;

	if (!p)
		return -ENOMEM;
	for (s = p + 1; ; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		c = *s;
		*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST) {
			r = -errno;
			break;
		}
		*s = c;
		if (c == '\0')
			break;
	}
	free(p);
	return r;
}

int pm_denied(procmgr *h, int atfd, const char *name, const char *path,
	      const char *what)
{
	char owner[64], self[64];
	struct stat st;
	uid_t me = geteuid();

	if (fstatat(atfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    st.st_uid == me)
		return pm_error(h, EACCES, "cannot open %s %s: %s", what, path,
				strerror(EACCES));
	user_name(st.st_uid, owner, sizeof(owner));
	user_name(me, self, sizeof(self));
	return pm_error(h, EACCES, "cannot open %s %s: it belongs to uid %u "
			"(%s) and you (uid %u, %s) may not use it; its daemons "
			"are %s's: act on them as that user%s", what, path,
			(unsigned)st.st_uid, owner, (unsigned)me, self, owner,
			st.st_uid == 0 ? " (sudo)" : "");
}

int pm_check_writable(procmgr *h)
{
	if (h && h->read_only)
		return pm_error(h, EROFS, "%s was opened read-only; open it "
				"with procmgr_open() to change it", h->name);
	return 0;
}

/*
 * Open name in atfd as a directory without following a symlink, making it
 * 0700 when create and missing, then vet it. path names it in messages;
 * *ret_fd and *ret_st (its stat, when not NULL) are written only on
 * success.
 */
static int open_component(procmgr *h, int atfd, const char *name,
			  const char *path, bool create, int *ret_fd,
			  struct stat *ret_st)
{
	struct stat st;
	int fd, r;

	if (create && (r = pm_check_writable(h)) < 0)
		return r;
	fd = openat(atfd, name, DIR_FLAGS);
	if (fd < 0 && errno == ENOENT && create) {
		if (mkdirat(atfd, name, 0700) < 0 && errno != EEXIST)
			return pm_error(h, errno, "cannot create directory "
					"%s: %s; check the permissions of its "
					"parent", path, strerror(errno));
		fd = openat(atfd, name, DIR_FLAGS);
	}
	if (fd < 0) {
		r = errno;
		if (fstatat(atfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISLNK(st.st_mode))
			return pm_blame(h, "dir",
					pm_error(h, ELOOP, "unsafe directory "
						 "%s: it is a symlink; remove "
						 "it or use the real path",
						 path));
		if (r == ENOENT)
			return pm_error(h, ENOENT, "no directory %s", path);
		if (r == EACCES)
			return pm_denied(h, atfd, name, path, "directory");
		return pm_error(h, r, "cannot open directory %s: %s", path,
				strerror(r));
	}
	r = pm_check_dir(h, fd, path, ret_st);
	if (r < 0) {
		close(fd);
		return r;
	}
	*ret_fd = fd;
	return 0;
}

/* Split DIR into an fd on its parent (opened normally) and its last name. */
static int open_parent(procmgr *h, bool create, int *ret_fd,
		       const char **ret_base)
{
	char *parent = NULL;
	const char *slash = strrchr(h->dir, '/');
	int fd, r;

	if (!slash || slash == h->dir)
		parent = strdup("/");
	else
		parent = strndup(h->dir, (size_t)(slash - h->dir));
	if (!parent)
		return pm_error(h, ENOMEM, "out of memory");
	if (create) {
		r = mkdir_parents(parent);
		if (r < 0) {
			r = pm_blame(h, "dir",
				     pm_error(h, -r, "cannot create directory "
					      "%s: %s; create it or use "
					      "another directory", parent,
					      strerror(-r)));
			goto out;
		}
	}
	fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 && errno == EACCES) {
		r = pm_denied(h, AT_FDCWD, parent, parent, "directory");
		goto out;
	}
	if (fd < 0) {
		r = pm_blame(h, "dir",
			     pm_error(h, errno, "cannot open directory %s: %s; "
				      "create it or use another directory",
				      parent, strerror(errno)));
		goto out;
	}
	*ret_fd = fd;
	*ret_base = slash ? slash + 1 : h->dir;
	r = 0;
out:
	free(parent);
	return r;
}

int pm_open_base(procmgr *h, bool create, int *ret_fd)
{
	const char *base = NULL;
	int pfd = -1, fd, r;

	if (!h->dir)
		return pm_error(h, EINVAL, "handle is not opened; call "
				"procmgr_open() first");
	/* DIR "/" has no last component: it is its own parent. */
	if (strcmp(h->dir, "/") == 0) {
		fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			return pm_error(h, errno, "cannot open /: %s",
					strerror(errno));
		r = pm_check_dir(h, fd, "/", NULL);
		if (r < 0)
			close(fd);
		else
			*ret_fd = fd;
		return r;
	}
	r = open_parent(h, create, &pfd, &base);
	if (r < 0)
		return r;
	r = open_component(h, pfd, base, h->dir, create, ret_fd, NULL);
	close(pfd);
	return r;
}

int pm_open_host(procmgr *h, bool create, int *ret_fd)
{
	int bfd, r;

	r = pm_open_base(h, create, &bfd);
	if (r < 0)
		return r;
	r = open_component(h, bfd, h->hostfp, h->host_dir, create, ret_fd,
			   NULL);
	close(bfd);
	return r;
}

/* pm_open_meta(), with the stat of what it opened into *ret_st. */
static int open_meta(procmgr *h, bool create, int *ret_fd,
		     struct stat *ret_st)
{
	int hfd, r;

	r = pm_open_host(h, create, &hfd);
	if (r < 0)
		return r;
	r = open_component(h, hfd, h->name, h->meta_dir, create, ret_fd,
			   ret_st);
	close(hfd);
	return r;
}

int pm_open_meta(procmgr *h, bool create, int *ret_fd)
{
	return open_meta(h, create, ret_fd, NULL);
}

int pm_meta_open_at(procmgr *h, int host_fd)
{
	int fd, r;

	pm_meta_drop(h);
	r = open_component(h, host_fd, h->name, h->meta_dir, false, &fd,
			   &h->meta_st);
	if (r < 0)
		return r;
	h->meta_fd = fd;
	h->meta_fresh = true;
	return 0;
}

void pm_meta_drop(procmgr *h)
{
	if (h->meta_fd >= 0)
		close(h->meta_fd);
	h->meta_fd = -1;
	h->meta_pinned = false;
	h->meta_fresh = false;
}

/*
 * Is the kept fd still the directory DIR/HOSTFP/NAME names, with the
 * owner and mode its check approved? The kept fd holds its inode, so no
 * other directory can have been given that inode number meanwhile; a
 * kept directory that was removed (no link left) or renamed away (a
 * purge) no longer matches the path. *kept: its stat now.
 */
static bool meta_still_there(procmgr *h, struct stat *kept)
{
	struct stat at;

	return fstatat(AT_FDCWD, h->meta_dir, &at, AT_SYMLINK_NOFOLLOW) == 0 &&
	       fstat(h->meta_fd, kept) == 0 && kept->st_nlink > 0 &&
	       at.st_dev == h->meta_st.st_dev &&
	       at.st_ino == h->meta_st.st_ino &&
	       at.st_mode == h->meta_st.st_mode &&
	       at.st_uid == h->meta_st.st_uid;
}

/*
 * A walk opens and checks three directories, a dozen system calls; a
 * handle reads keys over and over, so it keeps the fd of its last walk
 * and, before using it again, only confirms that the path still leads
 * there: two system calls.
 */
int pm_meta_fd_stat(procmgr *h, int *ret_fd, struct stat *ret_st)
{
	struct stat now;
	int fd, r;

	if (h->meta_fd >= 0 && (h->meta_pinned || h->meta_fresh)) {
		h->meta_fresh = false;
		*ret_fd = h->meta_fd;
		return ret_st && fstat(h->meta_fd, ret_st) < 0 ? -errno : 0;
	}
	if (h->meta_fd >= 0 && meta_still_there(h, &now)) {
		*ret_fd = h->meta_fd;
		if (ret_st)
			*ret_st = now;
		return 0;
	}
	pm_meta_drop(h);
	r = open_meta(h, false, &fd, &h->meta_st);
	if (r < 0)
		return r;
	h->meta_fd = fd;
	*ret_fd = fd;
	if (ret_st)
		*ret_st = h->meta_st;
	return 0;
}

int pm_meta_fd(procmgr *h, int *ret_fd)
{
	return pm_meta_fd_stat(h, ret_fd, NULL);
}
