/*
 * test-basedir.c - where DIR is and the safety rules of SPEC §1: no
 * symlink at or below DIR, no foreign owner, no group/world-writable
 * directory without the sticky bit; missing directories made 0700.
 */
#include "internal.h"
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define NOBODY 65534

static char *host_path(const char *dir)
{
	char fp[PROCMGR_HOSTFP_LEN + 1];

	ck_assert_int_eq(procmgr_host_fingerprint(fp), 0);
	return tu_path(dir, fp);
}

static mode_t mode_of(const char *p)
{
	struct stat st;

	ck_assert_int_eq(lstat(p, &st), 0);
	return st.st_mode & 07777;
}

static void mkdir_mode(const char *p, mode_t mode)
{
	ck_assert_int_eq(mkdir(p, 0700), 0);
	ck_assert_int_eq(chmod(p, mode), 0);
}

/* Open a handle on dir, expecting r (and errmsg containing want). */
static procmgr *open_expect(const char *dir, int r, const char *want)
{
	procmgr *h = procmgr_new();

	ck_assert_ptr_nonnull(h);
	ck_assert_int_eq(procmgr_open(h, dir, "web"), r);
	if (want)
		ck_assert_msg(strstr(procmgr_errmsg(h), want),
			      "'%s' lacks '%s'", procmgr_errmsg(h), want);
	return h;
}

START_TEST(test_default_dir)
{
	char *d, want[64];

	setenv("PROCMGR_DIR", "/x/pm", 1);
	setenv("XDG_RUNTIME_DIR", "/run/user/7", 1);
	ck_assert_int_eq(procmgr_default_dir(&d), 0);
	ck_assert_str_eq(d, "/x/pm");
	free(d);
	setenv("PROCMGR_DIR", "", 1);	/* empty: ignored */
	ck_assert_int_eq(procmgr_default_dir(&d), 0);
	ck_assert_str_eq(d, "/run/user/7/procmgr");
	free(d);
	unsetenv("PROCMGR_DIR");
	setenv("XDG_RUNTIME_DIR", "", 1);
	ck_assert_int_eq(procmgr_default_dir(&d), 0);
	snprintf(want, sizeof(want), "/tmp/procmgr-%u", (unsigned)getuid());
	ck_assert_str_eq(d, want);
	free(d);
}
END_TEST

/* procmgr_open(NULL dir) uses the default dir. */
START_TEST(test_open_default_dir)
{
	char *tmp = tu_keep(tu_tmpdir()), *base = tu_path(tmp, "env");
	procmgr *h;

	setenv("PROCMGR_DIR", base, 1);
	h = open_expect(NULL, 0, NULL);
	ck_assert_str_eq(procmgr_get_dir(h), base);
	procmgr_free(h);
}
END_TEST

START_TEST(test_symlinked_dir_refused)
{
	char *tmp = tu_keep(tu_tmpdir()), *real = tu_path(tmp, "real");
	char *link = tu_path(tmp, "link");
	procmgr *h;

	mkdir_mode(real, 0700);
	ck_assert_int_eq(symlink(real, link), 0);
	h = open_expect(link, -ELOOP, link);
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h), "symlink"));
	procmgr_free(h);
	/* A DIR that turns into a symlink after the open is refused too. */
	ck_assert_int_eq(unlink(link), 0);
	h = open_expect(link, 0, NULL);
	ck_assert_int_eq(symlink(real, link), 0);
	ck_assert_int_eq(procmgr_write(h, "pid", "123"), -ELOOP);
	ck_assert_int_eq(rmdir(real), 0);	/* nothing written through */
	procmgr_free(h);
}
END_TEST

/* Symlinks in DIR's parents (/tmp on some systems) are the system's. */
START_TEST(test_symlinked_parent_accepted)
{
	char *tmp = tu_keep(tu_tmpdir()), *real = tu_path(tmp, "realparent");
	char *link = tu_path(tmp, "plink"), *dir = tu_path(link, "base");
	char *v;
	procmgr *h;

	mkdir_mode(real, 0700);
	ck_assert_int_eq(symlink(real, link), 0);
	h = open_expect(dir, 0, NULL);
	ck_assert_int_eq(procmgr_write(h, "pid", "123"), 0);
	ck_assert_int_eq(procmgr_read(h, "pid", &v), 0);
	ck_assert_str_eq(v, "123");
	free(v);
	ck_assert_uint_eq(mode_of(dir), 0700);
	procmgr_free(h);
}
END_TEST

START_TEST(test_symlinked_hostfp_refused)
{
	char *tmp = tu_keep(tu_tmpdir()), *dir = tu_path(tmp, "base");
	char *elsewhere = tu_path(tmp, "elsewhere"), *hp = host_path(dir);
	procmgr *h;

	mkdir_mode(dir, 0700);
	mkdir_mode(elsewhere, 0700);
	ck_assert_int_eq(symlink(elsewhere, hp), 0);
	h = open_expect(dir, -ELOOP, hp);
	procmgr_free(h);
	/* Nor may a later write go through it. */
	ck_assert_int_eq(unlink(hp), 0);
	h = open_expect(dir, 0, NULL);
	ck_assert_int_eq(symlink(elsewhere, hp), 0);
	ck_assert_int_eq(procmgr_write(h, "pid", "1234"), -ELOOP);
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h), hp));
	ck_assert_int_eq(rmdir(elsewhere), 0);	/* still empty */
	procmgr_free(h);
}
END_TEST

START_TEST(test_symlinked_name_dir_refused)
{
	char *tmp = tu_keep(tu_tmpdir()), *dir = tu_path(tmp, "base");
	char *elsewhere = tu_path(tmp, "elsewhere"), *hp = host_path(dir);
	char *np = tu_path(hp, "web");
	procmgr *h;

	mkdir_mode(dir, 0700);
	mkdir_mode(hp, 0700);
	mkdir_mode(elsewhere, 0700);
	ck_assert_int_eq(symlink(elsewhere, np), 0);
	h = open_expect(dir, -ELOOP, np);
	procmgr_free(h);
}
END_TEST

START_TEST(test_foreign_owner_refused)
{
	char *tmp = tu_keep(tu_tmpdir()), *dir = tu_path(tmp, "base");
	procmgr *h;

	if (geteuid() != 0)
		tu_skip("needs root to give DIR another owner");
	mkdir_mode(dir, 0700);
	ck_assert_int_eq(chown(dir, NOBODY, NOBODY), 0);
	h = open_expect(dir, -EACCES, dir);
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h), "uid 65534"));
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h), "nobody"));
	/* root is told what it may do, and as whom to do the rest */
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h), "only reads"));
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h), "sudo -u nobody"));
	procmgr_free(h);
}
END_TEST

/* A foreign HOSTFP below our own DIR is refused as well. */
START_TEST(test_foreign_hostfp_refused)
{
	char *tmp = tu_keep(tu_tmpdir()), *dir = tu_path(tmp, "base");
	char *hp = host_path(dir);
	procmgr *h;

	if (geteuid() != 0)
		tu_skip("needs root to give HOSTFP another owner");
	mkdir_mode(dir, 0700);
	mkdir_mode(hp, 0700);
	ck_assert_int_eq(chown(hp, NOBODY, NOBODY), 0);
	h = open_expect(dir, -EACCES, hp);
	procmgr_free(h);
}
END_TEST

START_TEST(test_writable_refused)
{
	static const mode_t modes[] = { 0770, 0777, 0720, 0702 };
	char *tmp = tu_keep(tu_tmpdir()), *dir = tu_path(tmp, "base");
	char want[16];
	procmgr *h;

	mkdir_mode(dir, modes[_i]);
	snprintf(want, sizeof(want), "mode %04o", (unsigned)modes[_i]);
	h = open_expect(dir, -EACCES, want);
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h), dir));
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h), "chmod 700"));
	/* The fix is another dir: said in the library's terms, no CLI flag. */
	ck_assert_str_eq(procmgr_errparam(h), "dir");
	ck_assert_ptr_null(strstr(procmgr_errmsg(h), "--"));
	/* The next failure is about no parameter in particular. */
	ck_assert_int_eq(procmgr_read(h, "pid", NULL), -EINVAL);
	ck_assert_ptr_null(procmgr_errparam(h));
	procmgr_free(h);
}
END_TEST

START_TEST(test_sticky_accepted)
{
	char *tmp = tu_keep(tu_tmpdir()), *dir = tu_path(tmp, "base");
	char *v;
	procmgr *h;

	mkdir_mode(dir, 01777);
	h = open_expect(dir, 0, NULL);
	ck_assert_int_eq(procmgr_write(h, "pid", "99"), 0);
	ck_assert_int_eq(procmgr_read(h, "pid", &v), 0);
	ck_assert_str_eq(v, "99");
	free(v);
	procmgr_free(h);
}
END_TEST

static void open_as_nobody(void *arg)
{
	procmgr *h;
	int r;

	if (setgroups(0, NULL) < 0 || setgid(NOBODY) < 0 ||
	    setuid(NOBODY) < 0)
		tu_child_exit(99);
	h = procmgr_new();
	r = procmgr_open(h, arg, "web");
	procmgr_free(h);
	tu_child_exit(r == 0 ? 0 : -r);
}

/* Run fn(arg) as nobody in a child; its exit status (it must exit). */
static int run_as_nobody(void (*fn)(void *), void *arg)
{
	int status = tu_child_status(tu_fork(fn, arg));

	ck_assert_msg(status >= 0, "killed by signal %d", -status);
	return status;
}

/* Owned by root is fine for another user (a root-made /tmp/x, sticky). */
START_TEST(test_root_owned_ok_for_user)
{
	char *tmp = tu_keep(tu_tmpdir()), *dir = tu_path(tmp, "base");

	if (geteuid() != 0)
		tu_skip("needs root to act as nobody");
	ck_assert_int_eq(chmod(tmp, 0755), 0);
	mkdir_mode(dir, 01777);
	ck_assert_int_eq(run_as_nobody(open_as_nobody, dir), 0);
	/* ... but not when it is group/world-writable without sticky, */
	ck_assert_int_eq(chmod(dir, 0777), 0);
	ck_assert_int_eq(run_as_nobody(open_as_nobody, dir), EACCES);
	/* ... while root's plain 0755 dir is accepted (root excepted). */
	ck_assert_int_eq(chmod(dir, 0755), 0);
	ck_assert_int_eq(run_as_nobody(open_as_nobody, dir), 0);
}
END_TEST

/* Missing DIR: open creates nothing, the first write makes it all 0700. */
START_TEST(test_missing_dir_created_0700)
{
	char *tmp = tu_keep(tu_tmpdir()), *a = tu_path(tmp, "a");
	char *dir = tu_path(a, "b/c");
	char *hp = host_path(dir), *np = tu_path(hp, "web");
	struct stat st;
	procmgr *h;
	mode_t old = umask(0);

	h = open_expect(dir, 0, NULL);
	ck_assert_int_eq(stat(a, &st), -1);
	ck_assert_int_eq(procmgr_write(h, "pid", "4242"), 0);
	umask(old);
	ck_assert_uint_eq(mode_of(a), 0700);
	ck_assert_uint_eq(mode_of(dir), 0700);
	ck_assert_uint_eq(mode_of(hp), 0700);
	ck_assert_uint_eq(mode_of(np), 0700);
	ck_assert_str_eq(procmgr_meta_dir(h), np);
	procmgr_free(h);
	np = tu_path(hp, "web/pid");
	ck_assert_str_eq(tu_keep(tu_read_file(np)), "4242");
}
END_TEST

START_TEST(test_relative_dir_resolved)
{
	char *tmp = tu_keep(tu_tmpdir()), *dir = tu_path(tmp, "rel/base");
	char *v, *want;
	procmgr *h;

	ck_assert_int_eq(chdir(tmp), 0);
	h = open_expect("rel/base/", 0, NULL);
	ck_assert_str_eq(procmgr_get_dir(h), dir);
	/* A later cwd change must not move the metadata. */
	ck_assert_int_eq(chdir("/"), 0);
	ck_assert_int_eq(procmgr_write(h, "socket", "38549"), 0);
	want = tu_path(procmgr_meta_dir(h), "socket");
	ck_assert_ptr_nonnull(strstr(want, dir));
	v = tu_keep(tu_read_file(want));
	ck_assert_str_eq(v, "38549");
	procmgr_free(h);
}
END_TEST

START_TEST(test_paths)
{
	char *tmp = tu_keep(tu_tmpdir()), *dir = tu_path(tmp, "base");
	char *hp = host_path(dir), *want, fp[PROCMGR_HOSTFP_LEN + 1];
	procmgr *h = open_expect(dir, 0, NULL);

	want = tu_path(dir, ".lock.web");
	ck_assert_str_eq(procmgr_lock_path(h), want);
	want = tu_path(hp, "web.log");
	ck_assert_str_eq(procmgr_default_log(h), want);
	ck_assert_str_eq(procmgr_get_name(h), "web");
	/* the holder's message goes beside the lock */
	ck_assert_int_eq(procmgr_lock(h), 0);
	ck_assert(tu_exists(tu_path(dir, ".lock.web.lock_message")));
	ck_assert_int_eq(procmgr_unlock(h), 0);
	procmgr_free(h);
	/* DIR "/" joins without a double slash and is not created. */
	ck_assert_int_eq(procmgr_host_fingerprint(fp), 0);
	h = open_expect("/", 0, NULL);
	want = tu_path(tu_path("", fp), "web");
	ck_assert_str_eq(procmgr_meta_dir(h), want);
	procmgr_free(h);
}
END_TEST

START_TEST(test_bad_dirs)
{
	char *tmp = tu_keep(tu_tmpdir()), *file = tu_path(tmp, "file"), *v;
	char *sub = tu_path(file, "sub");
	procmgr *h;

	tu_write_file(file, "x", 1);
	h = open_expect(file, -ENOTDIR, file);
	procmgr_free(h);
	h = open_expect("", -EINVAL, NULL);
	procmgr_free(h);
	/* A DIR whose parent is a file: reading finds nothing to read. */
	h = open_expect(sub, -ENOTDIR, NULL);
	procmgr_free(h);
	/* Opened once only. */
	h = open_expect(tmp, 0, NULL);
	ck_assert_int_eq(procmgr_open(h, tmp, "web"), -EINVAL);
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h), "already"));
	procmgr_free(h);
	/* An unopened handle refuses key calls. */
	h = procmgr_new();
	ck_assert_int_eq(procmgr_read(h, "pid", &v), -EINVAL);
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h), "procmgr_open"));
	ck_assert_ptr_null(procmgr_get_name(h));
	procmgr_free(h);
	procmgr_free(NULL);
}
END_TEST

/* Unknown owners still get a message; the uid says who. */
START_TEST(test_unknown_owner_named)
{
	char *tmp = tu_keep(tu_tmpdir()), *dir = tu_path(tmp, "base");
	procmgr *h;

	if (geteuid() != 0)
		tu_skip("needs root to give DIR another owner");
	mkdir_mode(dir, 0700);
	ck_assert_int_eq(chown(dir, 54321, 54321), 0);
	h = open_expect(dir, -EACCES, "uid 54321 (unknown user)");
	procmgr_free(h);
}
END_TEST

/*
 * Read-only handles: root reads another user's DIR, and nothing on such
 * a handle writes, locks or changes state (-EROFS).
 */
START_TEST(test_read_only)
{
	char *tmp = tu_keep(tu_tmpdir()), *dir = tu_path(tmp, "base"), *v;
	char *argv[] = { (char *)"true", NULL };
	struct procmgr_spawn_opts o = { .argv = argv };
	procmgr *h = procmgr_new(), *w = tu_open(dir, "web");

	ck_assert_int_eq(procmgr_write(w, "note", "hi"), 0);
	ck_assert_int_eq(procmgr_open_read_only(h, dir, "web"), 0);
	ck_assert_int_eq(procmgr_read(h, "note", &v), 0);
	ck_assert_str_eq(v, "hi");
	free(v);
	ck_assert_int_eq(procmgr_write(h, "note", "x"), -EROFS);
	ck_assert_msg(strstr(procmgr_errmsg(h), "read-only"), "%s",
		      procmgr_errmsg(h));
	ck_assert_int_eq(procmgr_delete(h, "note"), -EROFS);
	ck_assert_int_eq(procmgr_lock(h), -EROFS);
	ck_assert_int_eq(procmgr_stop(h, NULL, NULL), -EROFS);
	ck_assert_int_eq(procmgr_purge(h, true), -EROFS);
	ck_assert_int_eq(procmgr_start(h, &o, NULL), -EROFS);
	ck_assert_int_eq(procmgr_open_read_only(h, dir, "web"), -EINVAL);
	ck_assert_int_eq(procmgr_open_read_only(NULL, dir, "web"), -EINVAL);
	procmgr_free(h);
	procmgr_free(w);
}
END_TEST

/* Another user's DIR: refused for writing, fine for reading. */
START_TEST(test_read_only_foreign)
{
	char *tmp = tu_keep(tu_tmpdir()), *dir = tu_path(tmp, "base"), *v;
	procmgr *h, *w;

	if (geteuid() != 0)
		tu_skip("needs root to read another user's DIR");
	w = tu_open(dir, "web");
	ck_assert_int_eq(procmgr_write(w, "note", "hi"), 0);
	procmgr_free(w);
	ck_assert_int_eq(chown(dir, NOBODY, NOBODY), 0);
	procmgr_free(open_expect(dir, -EACCES, "sudo -u nobody"));
	h = procmgr_new();
	ck_assert_int_eq(procmgr_open_read_only(h, dir, "web"), 0);
	ck_assert_int_eq(procmgr_read(h, "note", &v), 0);
	ck_assert_str_eq(v, "hi");
	free(v);
	procmgr_free(h);
}
END_TEST

static void write_as_nobody(void *arg)
{
	procmgr *h;
	int r;

	if (setgroups(0, NULL) < 0 || setgid(NOBODY) < 0 ||
	    setuid(NOBODY) < 0)
		tu_child_exit(99);
	h = procmgr_new();
	r = procmgr_open(h, arg, "web");
	if (r == 0)
		r = procmgr_write(h, "pid", "5");
	if (r < 0 && !strstr(procmgr_errmsg(h), "cannot create directory"))
		tu_child_exit(98);
	procmgr_free(h);
	tu_child_exit(r == 0 ? 0 : -r);
}

/* Creating fails cleanly, naming the directory it could not make. */
START_TEST(test_create_failures)
{
	char *tmp = tu_keep(tu_tmpdir()), *p = tu_path(tmp, "p");
	char *dir = tu_path(tmp, "p/q/base");
	procmgr *h;
	int fd;

	/* A file where a parent of DIR should be. */
	h = open_expect(dir, 0, NULL);
	tu_write_file(p, "", 0);
	ck_assert_int_eq(procmgr_write(h, "pid", "5"), -ENOTDIR);
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h), p));
	procmgr_free(h);
	ck_assert_int_eq(unlink(p), 0);
	/* An unopened handle has no DIR to open. */
	h = procmgr_new();
	ck_assert_int_eq(pm_open_base(h, false, &fd), -EINVAL);
	procmgr_free(h);
}
END_TEST

/* DIR's parent not writable by the caller: named, not created. */
/* The CLI, a static PIE, names owners from /etc/passwd itself. */
START_TEST(test_passwd_name)
{
	char name[64];

	ck_assert_int_eq(pm_passwd_name(0, name, sizeof(name)), 1);
	ck_assert_str_eq(name, "root");
	ck_assert_int_eq(pm_passwd_name(65534, name, sizeof(name)), 1);
	ck_assert_str_eq(name, "nobody");
	/* a uid /etc/passwd does not list has no name */
	ck_assert_int_eq(pm_passwd_name(4000000000u, name, sizeof(name)), 0);
}
END_TEST

START_TEST(test_create_refused)
{
	char *tmp = tu_keep(tu_tmpdir()), *dir = tu_path(tmp, "p/q/base");

	if (geteuid() != 0)
		tu_skip("needs root to act as nobody");
	ck_assert_int_eq(chmod(tmp, 0755), 0);
	ck_assert_int_eq(run_as_nobody(write_as_nobody, dir), EACCES);
}
END_TEST

/* A DIR right under / is split into "/" and its name like any other. */
START_TEST(test_dir_under_root)
{
	char dir[64];
	procmgr *h;
	char *v;

	snprintf(dir, sizeof(dir), "/procmgr-test-absent-%d", (int)getpid());
	h = open_expect(dir, 0, NULL);
	ck_assert_int_eq(procmgr_read(h, "pid", &v), -ENOENT);
	ck_assert(!tu_exists(dir));	/* reading creates nothing */
	procmgr_free(h);
}
END_TEST

/* A DIR below a regular file: the message says why and what to do. */
START_TEST(test_parent_not_a_directory)
{
	char *tmp = tu_keep(tu_tmpdir()), *f = tu_path(tmp, "file");
	procmgr *h;

	tu_write_file(f, "", 0);
	h = open_expect(tu_path(f, "base"), -ENOTDIR, f);
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h), strerror(ENOTDIR)));
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h), "another directory"));
	ck_assert_str_eq(procmgr_errparam(h), "dir");
	procmgr_free(h);
}
END_TEST

/* The kernel refuses to make DIR (immutable parent): named, not created. */
START_TEST(test_mkdir_refused)
{
	char *tmp = tu_keep(tu_tmpdir()), *dir = tu_path(tmp, "base");
	procmgr *h = open_expect(dir, 0, NULL);
	int r;

	if (tu_immutable(tmp, true) < 0) {
		procmgr_free(h);
		tu_skip("no immutable attribute here");
	}
	r = procmgr_write(h, "pid", "5");
	ck_assert_int_eq(tu_immutable(tmp, false), 0);
	ck_assert_int_eq(r, -EPERM);
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h),
				     "cannot create directory"));
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h), dir));
	ck_assert(!tu_exists(dir));
	procmgr_free(h);
}
END_TEST

/* What a user who is refused a directory is told, as uid 65533. */
struct refused {
	const char *dir;
	const char *want;
};

static void open_as_other(void *arg)
{
	const struct refused *f = arg;
	procmgr *h;
	int code = 99, r;

	if (tu_become_other()) {
		h = procmgr_new();
		r = procmgr_open(h, f->dir, "web");
		code = r == -EACCES && strstr(procmgr_errmsg(h), f->want) ? 0 :
									    1;
		if (code)
			fprintf(stderr, "open: %d, '%s'\n", r,
				procmgr_errmsg(h));
		procmgr_free(h);
	}
	tu_other_done();
	_exit(code);
}

/*
 * A DIR the caller may not enter: its own (mode 0) is the kernel's plain
 * refusal; root's says whose it is and to act as root.
 */
START_TEST(test_denied_named)
{
	char *tmp = tu_keep(tu_tmpdir()), *mine = tu_path(tmp, "mine");
	char *roots = tu_path(tmp, "roots");
	struct refused own = { mine, NULL }, root = { roots, NULL };
	char *want_own = NULL;

	if (geteuid() != 0)
		tu_skip("needs root to act as another user");
	ck_assert_int_eq(chmod(tmp, 0755), 0);
	mkdir_mode(mine, 0);
	ck_assert_int_eq(chown(mine, 65533, 65533), 0);
	mkdir_mode(roots, 0700);
	ck_assert_int_ge(asprintf(&want_own, "cannot open directory %s: %s",
				  mine, strerror(EACCES)), 0);
	own.want = want_own;
	root.want = "belongs to uid 0 (root)";
	ck_assert_int_eq(tu_child_status(tu_fork(open_as_other, &own)), 0);
	ck_assert_int_eq(tu_child_status(tu_fork(open_as_other, &root)), 0);
	free(want_own);
}
END_TEST

/*
 * NAME found only under another host fingerprint is taken over only when
 * its directory is safe: a group-writable one is left alone, even with a
 * live daemon recorded in it.
 */
START_TEST(test_moved_name_unsafe_ignored)
{
	char *tmp = tu_keep(tu_tmpdir()), *dir = tu_path(tmp, "base");
	char *other = tu_path(dir, "0123456789ab"), *np = tu_path(other, "web");
	char *own = tu_path(host_path(dir), "web"), pid[16], *id;
	procmgr *h;

	mkdir_mode(dir, 0700);
	mkdir_mode(other, 0700);
	mkdir_mode(np, 0770);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	ck_assert_int_eq(procmgr_proc_identity(getpid(), &id), 0);
	tu_write_file(tu_path(np, "pid"), pid, strlen(pid));
	tu_write_file(tu_path(np, "start_time"), id, strlen(id));
	free(id);
	h = open_expect(dir, 0, NULL);
	ck_assert_str_eq(procmgr_meta_dir(h), own);
	ck_assert_ptr_null(procmgr_warning(h));
	procmgr_free(h);
	/* made safe, it is taken over, and the user told */
	ck_assert_int_eq(chmod(np, 0700), 0);
	h = open_expect(dir, 0, NULL);
	ck_assert_str_eq(procmgr_meta_dir(h), np);
	ck_assert_ptr_nonnull(procmgr_warning(h));
	procmgr_free(h);
}
END_TEST

/*
 * The kept metadata fd, its directory replaced meanwhile: the handle
 * opens the new one and gives its stat, not the old one's.
 */
START_TEST(test_meta_fd_reopened)
{
	char *tmp = tu_keep(tu_tmpdir()), *dir = tu_path(tmp, "base");
	procmgr *h = open_expect(dir, 0, NULL);
	struct stat old, now, st;
	char *aside;
	int fd;

	ck_assert_int_eq(procmgr_write(h, "pid", "1"), 0);
	ck_assert_int_eq(pm_meta_fd_stat(h, &fd, &old), 0);
	aside = tu_path(tmp, "aside");
	ck_assert_int_eq(rename(procmgr_meta_dir(h), aside), 0);
	ck_assert_int_eq(mkdir(procmgr_meta_dir(h), 0700), 0);
	ck_assert_int_eq(stat(procmgr_meta_dir(h), &now), 0);
	ck_assert_int_eq(pm_meta_fd_stat(h, &fd, &st), 0);
	ck_assert_uint_eq(st.st_ino, now.st_ino);
	ck_assert_uint_ne(st.st_ino, old.st_ino);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_uint_eq(st.st_ino, now.st_ino);
	procmgr_free(h);
}
END_TEST

/* DIR "/" with no fd left to open it: the open fails, naming "/". */
START_TEST(test_root_dir_no_fd)
{
	struct rlimit old, rl;
	procmgr *h = procmgr_new();
	int low = dup(2), r;

	ck_assert_int_ge(low, 0);
	close(low);
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
	rl = old;
	rl.rlim_cur = (rlim_t)low;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	r = procmgr_open(h, "/", "web");
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
	ck_assert_int_eq(r, -EMFILE);
	ck_assert_msg(strstr(procmgr_errmsg(h), "cannot open /: "), "%s",
		      procmgr_errmsg(h));
	ck_assert_int_eq(procmgr_open(h, "/", "web"), 0);
	procmgr_free(h);
}
END_TEST

/* A system without /etc/passwd (a bare container): no name, no crash. */
START_TEST(test_passwd_missing)
{
	char name[64] = "untouched";

	if (unshare(CLONE_NEWNS) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("tmpfs", "/etc", "tmpfs", 0, "size=16k,mode=0755") < 0)
		tu_skip("cannot mount over /etc: %s", strerror(errno));
	ck_assert(!tu_exists("/etc/passwd"));
	ck_assert_int_eq(pm_passwd_name(0, name, sizeof(name)), 0);
	ck_assert_str_eq(name, "untouched");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("basedir");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_default_dir);
	tcase_add_test(tc, test_open_default_dir);
	tcase_add_test(tc, test_symlinked_dir_refused);
	tcase_add_test(tc, test_symlinked_parent_accepted);
	tcase_add_test(tc, test_dir_under_root);
	tcase_add_test(tc, test_parent_not_a_directory);
	tcase_add_test(tc, test_mkdir_refused);
	tcase_add_test(tc, test_symlinked_hostfp_refused);
	tcase_add_test(tc, test_symlinked_name_dir_refused);
	tcase_add_test(tc, test_foreign_owner_refused);
	tcase_add_test(tc, test_foreign_hostfp_refused);
	tcase_add_loop_test(tc, test_writable_refused, 0, 4);
	tcase_add_test(tc, test_sticky_accepted);
	tcase_add_test(tc, test_root_owned_ok_for_user);
	tcase_add_test(tc, test_missing_dir_created_0700);
	tcase_add_test(tc, test_relative_dir_resolved);
	tcase_add_test(tc, test_paths);
	tcase_add_test(tc, test_bad_dirs);
	tcase_add_test(tc, test_unknown_owner_named);
	tcase_add_test(tc, test_read_only);
	tcase_add_test(tc, test_read_only_foreign);
	tcase_add_test(tc, test_create_failures);
	tcase_add_test(tc, test_create_refused);
	tcase_add_test(tc, test_passwd_name);
	tcase_add_test(tc, test_denied_named);
	tcase_add_test(tc, test_moved_name_unsafe_ignored);
	tcase_add_test(tc, test_meta_fd_reopened);
	tcase_add_test(tc, test_passwd_missing);
	tcase_add_test(tc, test_root_dir_no_fd);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
