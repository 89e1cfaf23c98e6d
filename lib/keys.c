/*
 * keys.c - the keys of DIR/HOSTFP/NAME: read, write, delete and list them,
 * each file read and written whole, and atomically.
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
#include <unistd.h>

#define KEY_MAX 255

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
	int fd, r;

	h->meta_pinned = false;
	r = pm_meta_fd(h, &fd);
	h->meta_pinned = r >= 0;
	return r;
}

void pm_meta_unpin(procmgr *h)
{
	h->meta_pinned = false;
}

/*
 * key_call(), then the directory to read (or remove) key in: h's kept
 * one (pm_meta_fd()), which the caller does not close.
 */
static int key_dir(procmgr *h, const char *key, int *ret_fd)
{
	int r = key_call(h, key);

	return r < 0 ? r : pm_meta_fd(h, ret_fd);
}

int pm_key_stat(procmgr *h, const char *key, struct stat *ret)
{
	int fd, r;

	r = key_dir(h, key, &fd);
	if (r < 0)
		return r;
	return fstatat(fd, key, ret, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

int procmgr_read_raw(procmgr *h, const char *key, char **ret_value,
		     size_t *ret_len)
{
	return pm_key_read_stat(h, key, ret_value, ret_len, NULL);
}

int pm_key_read_stat(procmgr *h, const char *key, char **ret_value,
		     size_t *ret_len, struct stat *ret_st)
{
	int fd, r;

	r = key_dir(h, key, &fd);
	if (r == -ENOENT)
		return pm_error(h, ENOENT, "%s: no metadata for '%s'",
				h->meta_dir, h->name);
	if (r < 0)
		return r;
	r = pm_read_at_stat(fd, key, PM_READ_MAX, ret_value, ret_len, ret_st);
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

	r = key_call(h, key);
	if (r >= 0)
		r = pm_open_meta(h, true, &fd);
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
	r = key_dir(h, key, &fd);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	r = unlinkat(fd, key, 0) < 0 && errno != ENOENT ? -errno : 0;
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
int pm_list_dir(int fd, bool (*want)(int, const char *), char ***ret)
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

int pm_empty_strv(char ***ret)
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
		r = pm_empty_strv(ret_keys);
	else if (r >= 0)
		r = pm_list_dir(fd, want_key, ret_keys);
	if (r < 0)
		return pm_error(h, -r, "cannot list keys in %s: %s",
				h->meta_dir, strerror(-r));
	return 0;
}
