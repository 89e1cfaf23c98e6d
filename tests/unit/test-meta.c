/*
 * test-meta.c - keys of DIR/HOSTFP/NAME: atomic writes under concurrent
 * readers, pants-format values, await, key rules, planted symlinks, failed
 * writes that keep the old value, listing keys and NAMEs.
 *
 * Ports of pants' tests/python/pants_test/pantsd/process_manager_test.py:
 * test_readwrite_metadata, test_deadline_until (await timeout),
 * test_wait_for_file and test_await_metadata_by_name (await).
 */
#include "internal.h"
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NOBODY 65534

static char *tmp;	/* the test's scratch dir */
static char *base;	/* DIR of the current test, tmp/base */

static procmgr *open_web(void)
{
	return tu_open(base, "web");
}

static void setup(void)
{
	tmp = tu_keep(tu_tmpdir());
	base = tu_path(tmp, "base");
}

static void assert_read(procmgr *h, const char *key, const char *want)
{
	char *v = NULL;

	ck_assert_int_eq(procmgr_read(h, key, &v), 0);
	ck_assert_str_eq(v, want);
	free(v);
}

/* Names in dir that start with '.', i.e. leftover temp files. */
static int count_hidden(const char *dir)
{
	char cmd[512];
	FILE *p;
	int n = -1;

	snprintf(cmd, sizeof(cmd), "ls -A '%s' | grep -c '^\\.'", dir);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(fscanf(p, "%d", &n), 1);
	pclose(p);
	return n;
}

/* pants: test_readwrite_metadata */
START_TEST(test_readwrite_metadata)
{
	procmgr *h = open_web();
	char *v, *file;

	ck_assert_int_eq(procmgr_read(h, "pid", &v), -ENOENT);
	ck_assert_int_eq(procmgr_write(h, "pid", "31337"), 0);
	assert_read(h, "pid", "31337");
	ck_assert_int_eq(procmgr_write(h, "pid", "4"), 0);
	assert_read(h, "pid", "4");
	/* Stored without a trailing newline, byte for byte as pants'. */
	file = tu_path(procmgr_meta_dir(h), "pid");
	ck_assert_str_eq(tu_keep(tu_read_file(file)), "4");
	ck_assert_uint_eq(count_hidden(procmgr_meta_dir(h)), 0);
	ck_assert_int_eq(procmgr_read(h, "socket", &v), -ENOENT);
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h), "socket"));
	ck_assert_int_eq(procmgr_write(h, "pid", NULL), -EINVAL);
	procmgr_free(h);
}
END_TEST

/* What pants writes (and older pants wrote) reads as the bare value. */
START_TEST(test_read_pants_format)
{
	static const char *const forms[] = { "123", "123\n", "  123  \n",
					     "\t123\r\n" };
	procmgr *h = open_web();
	char *file;

	/* An empty value; the write also makes the metadata dir. */
	ck_assert_int_eq(procmgr_write(h, "x", ""), 0);
	file = tu_path(procmgr_meta_dir(h), "pid");
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		tu_write_file(file, forms[i], strlen(forms[i]));
		assert_read(h, "pid", "123");
	}
	assert_read(h, "x", "");
	procmgr_free(h);
}
END_TEST

START_TEST(test_raw_bytes)
{
	static const char cmdline[] = "sleep\0" "100\0";
	procmgr *h = open_web();
	char *v;
	size_t n;

	ck_assert_int_eq(procmgr_write_raw(h, "cmdline", cmdline, 10), 0);
	ck_assert_int_eq(procmgr_read_raw(h, "cmdline", &v, &n), 0);
	ck_assert_uint_eq(n, 10);
	ck_assert_int_eq(memcmp(v, cmdline, 10), 0);
	ck_assert_int_eq(v[10], '\0');
	free(v);
	procmgr_free(h);
}
END_TEST

START_TEST(test_delete)
{
	procmgr *h = open_web();
	char *v;

	ck_assert_int_eq(procmgr_delete(h, "pid"), 0);	/* no dir yet */
	ck_assert_int_eq(procmgr_write(h, "pid", "5"), 0);
	ck_assert_int_eq(procmgr_delete(h, "pid"), 0);
	ck_assert_int_eq(procmgr_read(h, "pid", &v), -ENOENT);
	ck_assert_int_eq(procmgr_delete(h, "pid"), 0);	/* absent: fine */
	ck_assert_int_eq(procmgr_delete(h, "a/b"), -EINVAL);
	/* A directory planted as a key is not removed as if it were one. */
	ck_assert_int_eq(mkdir(tu_path(procmgr_meta_dir(h), "d"), 0700), 0);
	ck_assert_int_eq(procmgr_delete(h, "d"), -EISDIR);
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h), "cannot remove"));
	procmgr_free(h);
}
END_TEST

/*
 * A pinned metadata directory serves every read from the one directory it
 * checked, even after a successor's replaces it, so a status never mixes
 * two daemons' keys; writes and reads after the unpin see the new one.
 */
START_TEST(test_pinned_reads)
{
	procmgr *h = open_web();
	char *aside = NULL, *v;

	ck_assert_int_eq(pm_meta_pin(h), -ENOENT);	/* nothing yet */
	ck_assert_int_eq(procmgr_write(h, "pid", "100"), 0);
	ck_assert_int_eq(pm_meta_pin(h), 0);
	ck_assert_int_ge(asprintf(&aside, "%s.old", procmgr_meta_dir(h)), 0);
	ck_assert_int_eq(rename(procmgr_meta_dir(h), aside), 0);
	ck_assert_int_eq(procmgr_write(h, "pid", "200"), 0); /* a new dir */
	ck_assert_int_eq(procmgr_read(h, "pid", &v), 0);
	ck_assert_str_eq(v, "100");
	free(v);
	pm_meta_unpin(h);
	ck_assert_int_eq(procmgr_read(h, "pid", &v), 0);
	ck_assert_str_eq(v, "200");
	free(v);
	ck_assert_int_eq(pm_meta_pin(h), 0);	/* freed with the handle */
	free(aside);
	procmgr_free(h);
}
END_TEST

static const char *const bad_keys[] = {
	"", "../x", "a/b", ".hidden", ".", "..", "/abs",
};

START_TEST(test_key_names_checked)
{
	procmgr *h = open_web();
	char *v = NULL, **keys = NULL;
	char long_key[300];
	struct stat st;

	ck_assert_int_eq(procmgr_write(h, bad_keys[_i], "x"), -EINVAL);
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h), "invalid key"));
	ck_assert_int_eq(procmgr_read(h, bad_keys[_i], &v), -EINVAL);
	ck_assert_int_eq(procmgr_delete(h, bad_keys[_i]), -EINVAL);
	ck_assert_int_eq(procmgr_await(h, bad_keys[_i], 0, &v), -EINVAL);
	ck_assert_ptr_null(v);
	/* Nothing was created by the refused calls. */
	ck_assert_int_eq(stat(base, &st), -1);
	memset(long_key, 'k', sizeof(long_key));
	long_key[256] = '\0';
	ck_assert_int_eq(procmgr_write(h, long_key, "x"), -EINVAL);
	long_key[255] = '\0';
	ck_assert_int_eq(procmgr_write(h, long_key, "x"), 0);
	ck_assert_int_eq(procmgr_write(h, NULL, "x"), -EINVAL);
	ck_assert_int_eq(procmgr_keys(h, &keys), 0);
	ck_assert_str_eq(keys[0], long_key);
	procmgr_strv_free(keys);
	procmgr_free(h);
}
END_TEST

/* A symlink planted as a key is never followed, for read or write. */
START_TEST(test_symlink_key_not_followed)
{
	procmgr *h = open_web();
	char *target = tu_path(tmp, "secret"), *key, *v = NULL;

	tu_write_file(target, "secret", 6);
	ck_assert_int_eq(procmgr_write(h, "socket", "1"), 0);
	key = tu_path(procmgr_meta_dir(h), "pid");
	ck_assert_int_eq(symlink(target, key), 0);
	ck_assert_int_eq(procmgr_read(h, "pid", &v), -ELOOP);
	ck_assert_ptr_null(v);
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h), key));
	/* Writing replaces the link itself; the target is untouched. */
	ck_assert_int_eq(procmgr_write(h, "pid", "77"), 0);
	ck_assert_str_eq(tu_keep(tu_read_file(target)), "secret");
	assert_read(h, "pid", "77");
	procmgr_free(h);
}
END_TEST

/* Other planted things: a FIFO must not hang, a directory is no value. */
START_TEST(test_odd_files_as_keys)
{
	procmgr *h = open_web();
	char *fifo, *dir, *big, *v = NULL;

	ck_assert_int_eq(procmgr_write(h, "socket", "1"), 0);
	fifo = tu_path(procmgr_meta_dir(h), "fifo");
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	ck_assert_int_eq(procmgr_read(h, "fifo", &v), -EBADMSG);
	dir = tu_path(procmgr_meta_dir(h), "dir");
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	ck_assert_int_eq(procmgr_read(h, "dir", &v), -EISDIR);
	/* Larger than any sane value: refused, not read into memory. */
	big = calloc(1, PM_READ_MAX + 2);
	ck_assert_ptr_nonnull(big);
	memset(big, 'x', PM_READ_MAX + 1);
	ck_assert_int_eq(procmgr_write(h, "big", big), 0);
	ck_assert_int_eq(procmgr_read(h, "big", &v), -EFBIG);
	ck_assert_ptr_null(v);
	free(big);
	procmgr_free(h);
}
END_TEST

/* ---- atomicity under concurrent readers --------------------------- */

#define N_WRITES 10000
#define N_READERS 3

static char *values[3];
static volatile int *done;	/* shared with the children */

static void make_values(void)
{
	values[0] = tu_keep(strdup("1"));
	values[1] = tu_keep(strdup("22222222222222222222222222222222"));
	/* Longer than a page, so a torn write would show. */
	values[2] = tu_keep(calloc(1, 9001));
	memset(values[2], '3', 9000);
}

static void writer(void *arg)
{
	procmgr *h = open_web();

	(void)arg;
	for (int i = 0; i < N_WRITES; i++)
		if (procmgr_write(h, "value", values[i % 3]) < 0)
			tu_child_exit(2);
	procmgr_free(h);
	tu_child_exit(0);
}

static void reader(void *arg)
{
	procmgr *h = open_web();
	long reads = 0;
	char *v;
	int r;

	(void)arg;
	while (!*done) {
		r = procmgr_read(h, "value", &v);
		if (r < 0) {
			fprintf(stderr, "reader: %s\n", procmgr_errmsg(h));
			tu_child_exit(3);
		}
		if (strcmp(v, values[0]) && strcmp(v, values[1]) &&
		    strcmp(v, values[2])) {
			fprintf(stderr, "reader saw %zu bytes: '%.40s'\n",
				strlen(v), v);
			tu_child_exit(4);
		}
		free(v);
		reads++;
	}
	procmgr_free(h);
	/* A reader that never ran concurrently would prove nothing. */
	tu_child_exit(reads > 10 ? 0 : 5);
}

START_TEST(test_atomic_under_readers)
{
	procmgr *h = open_web();
	pid_t w, rd[N_READERS];

	make_values();
	done = (volatile int *)mmap(NULL, sizeof(*done), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert((void *)done != MAP_FAILED);
	ck_assert_int_eq(procmgr_write(h, "value", values[2]), 0);
	for (int i = 0; i < N_READERS; i++)
		rd[i] = tu_fork(reader, NULL);
	w = tu_fork(writer, NULL);
	ck_assert_int_eq(tu_child_status(w), 0);
	*done = 1;
	for (int i = 0; i < N_READERS; i++)
		ck_assert_int_eq(tu_child_status(rd[i]), 0);
	/* The last value written wins, and no temp file is left over. */
	assert_read(h, "value", values[(N_WRITES - 1) % 3]);
	ck_assert_int_eq(count_hidden(procmgr_meta_dir(h)), 0);
	procmgr_free(h);
}
END_TEST

/* ---- failed writes keep the old value ----------------------------- */

static void write_as_nobody(void *arg)
{
	procmgr *h;
	int r;

	(void)arg;
	if (setgroups(0, NULL) < 0 || setgid(NOBODY) < 0 ||
	    setuid(NOBODY) < 0)
		tu_child_exit(99);
	h = open_web();
	r = procmgr_write(h, "pid", "999");
	if (r < 0 && !strstr(procmgr_errmsg(h), "old value is kept"))
		tu_child_exit(98);
	procmgr_free(h);
	tu_child_exit(r < 0 ? -r : 0);
}

START_TEST(test_failed_write_read_only_dir)
{
	procmgr *h;
	char cmd[512];

	if (geteuid() != 0)
		tu_skip("needs root to act as nobody");
	h = open_web();
	ck_assert_int_eq(procmgr_write(h, "pid", "123"), 0);
	snprintf(cmd, sizeof(cmd), "chmod 755 %s && chown -R %d:%d %s && "
		 "chmod 500 %s", tmp, NOBODY, NOBODY, base,
		 procmgr_meta_dir(h));
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_int_eq(tu_child_status(tu_fork(write_as_nobody, NULL)),
			 EACCES);
	/* Read directly: DIR is nobody's now, which root's handle refuses. */
	ck_assert_str_eq(tu_keep(tu_read_file(tu_path(procmgr_meta_dir(h),
							      "pid"))), "123");
	ck_assert_int_eq(count_hidden(procmgr_meta_dir(h)), 0);
	procmgr_free(h);
}
END_TEST

/* A full filesystem: the write fails with ENOSPC and the old value stays. */
START_TEST(test_failed_write_full_fs)
{
	char *mnt = tu_path(tmp, "mnt"), *big;
	procmgr *h;
	int r;

	ck_assert_int_eq(mkdir(mnt, 0700), 0);
	/* A private mount namespace: the tmpfs dies with this test. */
	if (unshare(CLONE_NEWNS) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("tmpfs", mnt, "tmpfs", 0, "size=16k,mode=0700") < 0)
		tu_skip("cannot mount a tmpfs: %s", strerror(errno));
	base = tu_path(mnt, "base");
	h = open_web();
	ck_assert_int_eq(procmgr_write(h, "pid", "123"), 0);
	big = calloc(1, 64 * 1024 + 1);
	memset(big, '9', 64 * 1024);
	r = procmgr_write(h, "pid", big);
	ck_assert_int_eq(r, -ENOSPC);
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h), "No space"));
	assert_read(h, "pid", "123");
	ck_assert_int_eq(count_hidden(procmgr_meta_dir(h)), 0);
	free(big);
	procmgr_free(h);
	tu_rmrf(base);
	umount(mnt);
}
END_TEST

/* ---- await -------------------------------------------------------- */

static void write_later(void *arg)
{
	procmgr *h = procmgr_new();
	char when[64];

	tu_sleep(0.3);
	if (procmgr_open(h, arg, "web") < 0)
		tu_child_exit(2);
	/* The value is the time of the write, so the waiter can measure
	 * how long it took to wake. */
	snprintf(when, sizeof(when), "%.6f", tu_now());
	if (procmgr_write(h, "socket", when) < 0)
		tu_child_exit(3);
	procmgr_free(h);
	tu_child_exit(0);
}

/*
 * pants: test_wait_for_file / test_await_metadata_by_name. inotify wakes
 * the waiter microseconds after the rename; 1 s is only generous.
 */
static void check_await_wakes(const char *dir)
{
	procmgr *h = procmgr_new();
	char *v = NULL;
	pid_t pid;
	double woke;

	ck_assert_int_eq(procmgr_open(h, dir, "web"), 0);
	pid = tu_fork(write_later, (void *)dir);
	ck_assert_int_eq(procmgr_await(h, "socket", 30, &v), 0);
	woke = tu_now();
	ck_assert_ptr_nonnull(v);
	ck_assert_double_lt(woke - atof(v), 1.0);
	ck_assert_double_ge(woke - atof(v), 0.0);
	ck_assert_int_eq(tu_child_status(pid), 0);
	free(v);
	procmgr_free(h);
}

START_TEST(test_await_meta_dir_exists)
{
	procmgr *h = open_web();

	ck_assert_int_eq(procmgr_write(h, "pid", "12"), 0);
	check_await_wakes(base);
	procmgr_free(h);
}
END_TEST

START_TEST(test_await_meta_dir_missing)
{
	ck_assert_int_eq(mkdir(base, 0700), 0);
	check_await_wakes(base);
}
END_TEST

/* Not even DIR nor its parent exist yet: the watch climbs and re-arms. */
START_TEST(test_await_dir_missing)
{
	check_await_wakes(tu_path(base, "deeper/still"));
}
END_TEST

START_TEST(test_await_present)
{
	procmgr *h = open_web();
	char *v;
	double t0;

	ck_assert_int_eq(procmgr_write(h, "socket", " 8080\n"), 0);
	t0 = tu_now();
	ck_assert_int_eq(procmgr_await(h, "socket", -1, &v), 0);
	ck_assert_double_lt(tu_now() - t0, 1.0);
	ck_assert_str_eq(v, "8080");
	free(v);
	procmgr_free(h);
}
END_TEST

/* pants: test_deadline_until - gives up after the timeout, not before. */
START_TEST(test_await_timeout)
{
	procmgr *h = open_web();
	char *v = NULL;
	double t0, took;

	ck_assert_int_eq(procmgr_write(h, "pid", "12"), 0);
	t0 = tu_now();
	ck_assert_int_eq(procmgr_await(h, "socket", 0.5, &v), -ETIMEDOUT);
	took = tu_now() - t0;
	ck_assert_double_ge(took, 0.49);
	ck_assert_double_lt(took, 5.0);
	ck_assert_ptr_null(v);
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h), "timed out"));
	/* Unrelated writes wake it but do not end the wait early. */
	ck_assert_int_eq(procmgr_await(h, "socket", 0, &v), -ETIMEDOUT);
	procmgr_free(h);
}
END_TEST

static void write_others(void *arg)
{
	procmgr *h = procmgr_new();

	if (procmgr_open(h, arg, "web") < 0)
		tu_child_exit(2);
	for (int i = 0; i < 20; i++) {
		procmgr_write(h, "noise", "x");
		tu_sleep(0.02);
	}
	procmgr_free(h);
	tu_child_exit(0);
}

START_TEST(test_await_ignores_other_keys)
{
	procmgr *h = open_web();
	char *v = NULL;
	double t0;
	pid_t pid;

	pid = tu_fork(write_others, base);
	t0 = tu_now();
	ck_assert_int_eq(procmgr_await(h, "socket", 0.6, &v), -ETIMEDOUT);
	ck_assert_double_ge(tu_now() - t0, 0.59);
	ck_assert_int_eq(tu_child_status(pid), 0);
	procmgr_free(h);
}
END_TEST

/* A symlinked NAME dir makes await fail, naming it, not wait forever. */
START_TEST(test_await_symlinked_meta_dir)
{
	procmgr *h = open_web();
	char *v = NULL, *elsewhere = tu_path(tmp, "elsewhere");

	ck_assert_int_eq(procmgr_write(h, "pid", "12"), 0);
	ck_assert_int_eq(mkdir(elsewhere, 0700), 0);
	tu_rmrf(procmgr_meta_dir(h));
	ck_assert_int_eq(symlink(elsewhere, procmgr_meta_dir(h)), 0);
	ck_assert_int_eq(procmgr_await(h, "socket", 5, &v), -ELOOP);
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h), procmgr_meta_dir(h)));
	procmgr_free(h);
}
END_TEST

/* ---- keys and NAMEs ------------------------------------------------ */

START_TEST(test_keys_sorted)
{
	procmgr *h = open_web();
	char **keys, *p;

	ck_assert_int_eq(procmgr_keys(h, &keys), 0);	/* no dir: none */
	ck_assert_ptr_null(keys[0]);
	procmgr_strv_free(keys);
	ck_assert_int_eq(procmgr_write(h, "socket", "1"), 0);
	ck_assert_int_eq(procmgr_write(h, "fingerprint", "2"), 0);
	ck_assert_int_eq(procmgr_write(h, "pid", "3"), 0);
	/* Temp files, directories and symlinks are not keys. */
	p = tu_path(procmgr_meta_dir(h), ".pid.XXXXXXXX");
	tu_write_file(p, "x", 1);
	p = tu_path(procmgr_meta_dir(h), "subdir");
	ck_assert_int_eq(mkdir(p, 0700), 0);
	p = tu_path(procmgr_meta_dir(h), "link");
	ck_assert_int_eq(symlink("/etc/passwd", p), 0);
	ck_assert_int_eq(procmgr_keys(h, &keys), 0);
	ck_assert_str_eq(keys[0], "fingerprint");
	ck_assert_str_eq(keys[1], "pid");
	ck_assert_str_eq(keys[2], "socket");
	ck_assert_ptr_null(keys[3]);
	procmgr_strv_free(keys);
	procmgr_strv_free(NULL);
	/* An unsafe metadata dir is an error, not an empty list. */
	ck_assert_int_eq(chmod(procmgr_meta_dir(h), 0777), 0);
	ck_assert_int_eq(procmgr_keys(h, &keys), -EACCES);
	procmgr_free(h);
	h = procmgr_new();
	ck_assert_int_eq(procmgr_keys(h, &keys), -EINVAL);
	ck_assert_int_eq(procmgr_keys(NULL, &keys), -EINVAL);
	procmgr_free(h);
}
END_TEST

START_TEST(test_list_names)
{
	static const char *const names[] = { "web", "api", "a.b" };
	char **list, *hp, *p, fp[PROCMGR_HOSTFP_LEN + 1];
	procmgr *h;

	ck_assert_int_eq(procmgr_list(base, &list), 0);	/* no DIR */
	ck_assert_ptr_null(list[0]);
	procmgr_strv_free(list);
	for (size_t i = 0; i < 3; i++) {
		h = procmgr_new();
		ck_assert_int_eq(procmgr_open(h, base, names[i]), 0);
		ck_assert_int_eq(procmgr_write(h, "pid", "5"), 0);
		procmgr_free(h);
	}
	ck_assert_int_eq(procmgr_host_fingerprint(fp), 0);
	hp = tu_path(base, fp);
	/* Junk that is not a NAME: logs, bad names, files, symlinks. */
	tu_write_file(tu_path(hp, "web.log"), "log", 3);
	tu_write_file(tu_path(hp, "zzz"), "file", 4);
	ck_assert_int_eq(mkdir(tu_path(hp, "UPPER"), 0700), 0);
	ck_assert_int_eq(mkdir(tu_path(hp, ".hidden"), 0700), 0);
	ck_assert_int_eq(symlink(tu_path(hp, "web"), tu_path(hp, "lnk")), 0);
	/* A NAME of another host is not ours. */
	ck_assert_int_eq(mkdir(tu_path(base, "0123456789ab"), 0700), 0);
	ck_assert_int_eq(mkdir(tu_path(base, "0123456789ab/other"), 0700), 0);
	ck_assert_int_eq(procmgr_list(base, &list), 0);
	ck_assert_str_eq(list[0], "a.b");
	ck_assert_str_eq(list[1], "api");
	ck_assert_str_eq(list[2], "web");
	ck_assert_ptr_null(list[3]);
	procmgr_strv_free(list);
	/* dir NULL: the default ($PROCMGR_DIR here). */
	setenv("PROCMGR_DIR", base, 1);
	ck_assert_int_eq(procmgr_list(NULL, &list), 0);
	ck_assert_str_eq(list[2], "web");
	procmgr_strv_free(list);
	/* An unsafe DIR is an error, not an empty list. */
	ck_assert_int_eq(chmod(base, 0777), 0);
	ck_assert_int_eq(procmgr_list(base, &list), -EACCES);
	ck_assert_int_eq(procmgr_list("", &list), -EINVAL);
	p = tu_path(tmp, "file");
	tu_write_file(p, "", 0);
	ck_assert_int_eq(procmgr_list(p, &list), -ENOTDIR);
}
END_TEST

/* pm_rm_rf_at removes a tree and never follows a symlink out of it. */
START_TEST(test_rm_rf)
{
	char *x = tu_path(tmp, "x"), *out = tu_path(tmp, "outside");
	int dfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct stat st;

	ck_assert_int_ge(dfd, 0);
	ck_assert_int_eq(mkdir(out, 0700), 0);
	tu_write_file(tu_path(out, "keep"), "k", 1);
	ck_assert_int_eq(mkdir(x, 0700), 0);
	ck_assert_int_eq(mkdir(tu_path(x, "sub"), 0700), 0);
	ck_assert_int_eq(mkdir(tu_path(x, "sub/deeper"), 0500), 0);
	tu_write_file(tu_path(x, "a"), "a", 1);
	tu_write_file(tu_path(x, "sub/b"), "b", 1);
	ck_assert_int_eq(symlink(out, tu_path(x, "sub/link")), 0);
	ck_assert_int_eq(mkfifo(tu_path(x, "fifo"), 0600), 0);
	ck_assert_int_eq(pm_rm_rf_at(dfd, "x"), 0);
	ck_assert_int_eq(lstat(x, &st), -1);
	ck_assert_str_eq(tu_keep(tu_read_file(tu_path(out, "keep"))), "k");
	ck_assert_int_eq(pm_rm_rf_at(dfd, "x"), 0);	/* absent: fine */
	/* A file or a symlink given as the name: the entry goes, only. */
	ck_assert_int_eq(symlink(out, tu_path(tmp, "ln")), 0);
	ck_assert_int_eq(pm_rm_rf_at(dfd, "ln"), 0);
	ck_assert_int_eq(lstat(tu_path(tmp, "ln"), &st), -1);
	ck_assert_int_eq(stat(tu_path(out, "keep"), &st), 0);
	tu_write_file(tu_path(tmp, "f"), "f", 1);
	ck_assert_int_eq(pm_rm_rf_at(dfd, "f"), 0);
	ck_assert_int_eq(lstat(tu_path(tmp, "f"), &st), -1);
	/* A name the kernel refuses is an error, not success. */
	{
		char longname[400];

		memset(longname, 'n', sizeof(longname) - 1);
		longname[sizeof(longname) - 1] = '\0';
		ck_assert_int_eq(pm_rm_rf_at(dfd, longname), -ENAMETOOLONG);
	}
	/* Never the directory itself or its parent. */
	ck_assert_int_eq(pm_rm_rf_at(dfd, "."), -EINVAL);
	ck_assert_int_eq(pm_rm_rf_at(dfd, ".."), -EINVAL);
	ck_assert_int_eq(pm_rm_rf_at(dfd, "a/b"), -EINVAL);
	ck_assert_int_eq(pm_write_atomic_at(dfd, "a/b", "", 0, 0644), -EINVAL);
	ck_assert_int_eq(stat(tu_path(out, "keep"), &st), 0);
	close(dfd);
}
END_TEST

/* Written keys get the requested mode (pants' files are 0644). */
START_TEST(test_write_mode)
{
	int dfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct stat st;
	char *v;
	size_t n;

	ck_assert_int_eq(pm_write_atomic_at(dfd, "k", "abc", 3, 0640), 0);
	ck_assert_int_eq(stat(tu_path(tmp, "k"), &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0640);
	ck_assert_int_eq(pm_read_at(dfd, "k", 3, &v, &n), 0);
	ck_assert_uint_eq(n, 3);
	free(v);
	ck_assert_int_eq(pm_read_at(dfd, "k", 2, &v, &n), -EFBIG);
	ck_assert_int_eq(pm_read_at(dfd, "nope", 2, &v, &n), -ENOENT);
	/* No directory to write in: the error. */
	ck_assert_int_eq(pm_write_atomic_at(-1, "k", "abc", 3, 0640), -EBADF);
	/* The rename fails (a directory holds the name): nothing is left. */
	ck_assert_int_eq(mkdir(tu_path(tmp, "d"), 0700), 0);
	tu_write_file(tu_path(tmp, "d/x"), "x", 1);
	ck_assert_int_eq(pm_write_atomic_at(dfd, "d", "abc", 3, 0640),
			 -EISDIR);
	ck_assert_int_eq(count_hidden(tmp), 0);
	close(dfd);
}
END_TEST

/* procmgr_free() releases a held lifecycle lock (lock.c's counted lock). */
START_TEST(test_free_releases_lock)
{
	procmgr *a = open_web(), *b = open_web();

	ck_assert_int_eq(procmgr_lock(a), 0);
	ck_assert_int_eq(procmgr_lock(a), 0);	/* counted: depth 2 */
	ck_assert_int_eq(procmgr_lock(a), 0);	/* depth 3 */
	procmgr_set_lock_wait(b, 0, NULL, NULL);
	ck_assert_int_eq(procmgr_lock(b), -EWOULDBLOCK);
	procmgr_free(a);
	ck_assert_int_eq(procmgr_lock(b), 0);
	procmgr_free(b);
}
END_TEST

/*
 * A relative DIR is resolved against the cwd; a cwd that was deleted has
 * no path: the open fails naming DIR and what to do, and creates nothing.
 */
START_TEST(test_relative_dir_deleted_cwd)
{
	char *gone = tu_path(tmp, "gone"), **names = NULL;
	procmgr *h = procmgr_new();

	ck_assert_ptr_nonnull(h);
	ck_assert_int_eq(mkdir(gone, 0700), 0);
	ck_assert_int_eq(chdir(gone), 0);
	ck_assert_int_eq(rmdir(gone), 0);
	ck_assert_int_eq(procmgr_open(h, "rel", "web"), -ENOENT);
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h), "'rel'"));
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h), "pass another"));
	ck_assert_ptr_null(procmgr_get_name(h));
	ck_assert_int_eq(procmgr_list("rel", &names), -ENOENT);
	ck_assert_ptr_null(names);
	ck_assert_int_eq(chdir("/"), 0);
	procmgr_free(h);
}
END_TEST

/* Every key call refuses a NULL handle instead of crashing. */
START_TEST(test_null_handle)
{
	char *v = NULL, **keys = NULL;
	size_t len;

	ck_assert_int_eq(procmgr_open(NULL, base, "web"), -EINVAL);
	ck_assert_int_eq(procmgr_read(NULL, "pid", &v), -EINVAL);
	ck_assert_int_eq(procmgr_read_raw(NULL, "pid", &v, &len), -EINVAL);
	ck_assert_int_eq(procmgr_write(NULL, "pid", "5"), -EINVAL);
	ck_assert_int_eq(procmgr_delete(NULL, "pid"), -EINVAL);
	ck_assert_int_eq(procmgr_keys(NULL, &keys), -EINVAL);
	ck_assert_int_eq(procmgr_await(NULL, "pid", 0, &v), -EINVAL);
	ck_assert_ptr_null(v);
	ck_assert_ptr_null(keys);
	ck_assert_ptr_null(procmgr_get_name(NULL));
	ck_assert_str_eq(procmgr_errmsg(NULL), "out of memory");
}
END_TEST

/*
 * NAME's directory swapped for a symlink after the open: reads and deletes
 * refuse to go through it, and the keys where it points stay as they were.
 */
START_TEST(test_symlinked_meta_dir_after_open)
{
	procmgr *h = open_web();
	char *elsewhere = tu_path(tmp, "elsewhere"), *v = NULL;

	ck_assert_int_eq(procmgr_write(h, "pid", "4242"), 0);
	ck_assert_int_eq(rename(procmgr_meta_dir(h), elsewhere), 0);
	ck_assert_int_eq(symlink(elsewhere, procmgr_meta_dir(h)), 0);
	ck_assert_int_eq(procmgr_read(h, "pid", &v), -ELOOP);
	ck_assert_ptr_null(v);
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h), "symlink"));
	ck_assert_int_eq(procmgr_delete(h, "pid"), -ELOOP);
	ck_assert_int_eq(procmgr_write(h, "pid", "1"), -ELOOP);
	ck_assert(access(tu_path(elsewhere, "pid"), F_OK) == 0);
	v = tu_read_file(tu_path(elsewhere, "pid"));
	ck_assert_str_eq(v, "4242");
	free(v);
	procmgr_free(h);
}
END_TEST

/*
 * Listing a directory consumes its fd, even when what it was given is no
 * directory at all: the error, and no fd left open.
 */
static bool any_entry(int fd, const char *name)
{
	(void)fd;
	(void)name;
	return true;
}

START_TEST(test_list_dir_not_a_directory)
{
	char *file = tu_path(tmp, "file"), **v = NULL;
	int fd;

	tu_write_file(file, "x", 1);
	fd = open(file, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pm_list_dir(fd, any_entry, &v), -ENOTDIR);
	ck_assert_ptr_null(v);
	ck_assert_int_eq(fcntl(fd, F_GETFD), -1);
	ck_assert_int_eq(errno, EBADF);
}
END_TEST

/* A key's stat (its mtime dates a pid key): the key's, or why not. */
START_TEST(test_key_stat)
{
	procmgr *h = open_web();
	struct stat st;

	ck_assert_int_eq(pm_key_stat(h, "pid", &st), -ENOENT);	/* no dir */
	ck_assert_int_eq(procmgr_write(h, "pid", "12345"), 0);
	ck_assert_int_eq(pm_key_stat(h, "pid", &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_int_eq(st.st_size, 5);
	ck_assert_int_eq(pm_key_stat(h, "socket", &st), -ENOENT);
	ck_assert_int_eq(pm_key_stat(h, "../pid", &st), -EINVAL);
	procmgr_free(h);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("meta");
	TCase *tc = tcase_create("keys"), *ta = tcase_create("atomic");
	TCase *tw = tcase_create("await");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_readwrite_metadata);
	tcase_add_test(tc, test_read_pants_format);
	tcase_add_test(tc, test_raw_bytes);
	tcase_add_test(tc, test_delete);
	tcase_add_test(tc, test_pinned_reads);
	tcase_add_loop_test(tc, test_key_names_checked, 0,
			    (int)(sizeof(bad_keys) / sizeof(bad_keys[0])));
	tcase_add_test(tc, test_symlink_key_not_followed);
	tcase_add_test(tc, test_odd_files_as_keys);
	tcase_add_test(tc, test_failed_write_read_only_dir);
	tcase_add_test(tc, test_failed_write_full_fs);
	tcase_add_test(tc, test_keys_sorted);
	tcase_add_test(tc, test_list_names);
	tcase_add_test(tc, test_free_releases_lock);
	tcase_add_test(tc, test_relative_dir_deleted_cwd);
	tcase_add_test(tc, test_null_handle);
	tcase_add_test(tc, test_symlinked_meta_dir_after_open);
	tcase_add_test(tc, test_rm_rf);
	tcase_add_test(tc, test_write_mode);
	tcase_add_test(tc, test_list_dir_not_a_directory);
	tcase_add_test(tc, test_key_stat);
	suite_add_tcase(s, tc);

	/* 10,000 writes, each a temp file and a rename: seconds on a slow disk. */
	tcase_add_checked_fixture(ta, setup, NULL);
	tcase_set_timeout(ta, 600);
	tcase_add_test(ta, test_atomic_under_readers);
	suite_add_tcase(s, ta);

	tcase_add_checked_fixture(tw, setup, NULL);
	tcase_add_test(tw, test_await_meta_dir_exists);
	tcase_add_test(tw, test_await_meta_dir_missing);
	tcase_add_test(tw, test_await_dir_missing);
	tcase_add_test(tw, test_await_present);
	tcase_add_test(tw, test_await_timeout);
	tcase_add_test(tw, test_await_ignores_other_keys);
	tcase_add_test(tw, test_await_symlinked_meta_dir);
	suite_add_tcase(s, tw);
	return tu_run(s);
}
