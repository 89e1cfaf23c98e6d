/*
 * test-atomic.c - whole-file reads, atomic writes and tree removal relative
 * to a directory fd (lib/atomic.c), on real files, including the ones whose
 * read or removal the kernel refuses.
 */
#include "internal.h"
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static char *dir;

static void setup(void)
{
	dir = tu_tmpdir();
}

static void teardown(void)
{
	free(dir);
}

static int open_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	return fd;
}

/* Entries of path whose name starts with '.' (temp files), not . and .. */
static int dot_entries(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)))
		if (e->d_name[0] == '.' && strcmp(e->d_name, ".") &&
		    strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

START_TEST(test_write_read_roundtrip)
{
	int fd = open_dir(dir);
	char *v = NULL;
	size_t len = 0;

	ck_assert_int_eq(pm_write_atomic_at(fd, "k", "a\0b", 3, 0640), 0);
	ck_assert_int_eq(pm_read_at(fd, "k", 16, &v, &len), 0);
	ck_assert_uint_eq(len, 3);
	ck_assert_int_eq(memcmp(v, "a\0b", 4), 0);	/* NUL-terminated */
	free(v);
	/* over max: refused whole, not truncated */
	ck_assert_int_eq(pm_read_at(fd, "k", 2, &v, &len), -EFBIG);
	ck_assert_int_eq(pm_write_atomic_at(fd, "", "x", 1, 0600), -EINVAL);
	ck_assert_int_eq(pm_write_atomic_at(fd, "a/b", "x", 1, 0600),
			 -EINVAL);
	ck_assert_int_eq(pm_read_at(fd, "absent", 16, &v, NULL), -ENOENT);
	ck_assert_int_eq(dot_entries(dir), 0);
	close(fd);
}
END_TEST

/*
 * A file whose read() fails (/proc/self/mem at offset 0, which is not
 * mapped: EIO) gives the error and no partial value.
 */
START_TEST(test_read_error)
{
	int fd = open_dir("/proc/self");
	char *v = (char *)"untouched";
	size_t len = 7;

	ck_assert_int_eq(pm_read_at(fd, "mem", PM_READ_MAX, &v, &len), -EIO);
	ck_assert_str_eq(v, "untouched");
	ck_assert_uint_eq(len, 7);
	close(fd);
}
END_TEST

/*
 * In a directory where nothing may be created (immutable), a write fails
 * with the kernel's error, leaves the old value and no temp file.
 */
START_TEST(test_write_refused)
{
	int fd = open_dir(dir), r;
	char *v = NULL;

	ck_assert_int_eq(pm_write_atomic_at(fd, "k", "old", 3, 0644), 0);
	if (tu_immutable(dir, true) < 0) {
		close(fd);
		tu_skip("no immutable attribute here");
	}
	r = pm_write_atomic_at(fd, "k", "new", 3, 0644);
	ck_assert_int_eq(tu_immutable(dir, false), 0);
	ck_assert_int_eq(r, -EPERM);
	ck_assert_int_eq(pm_read_at(fd, "k", 16, &v, NULL), 0);
	ck_assert_str_eq(v, "old");
	free(v);
	ck_assert_int_eq(dot_entries(dir), 0);
	close(fd);
}
END_TEST

/*
 * A tree whose last rmdir the kernel refuses (its parent is immutable):
 * the error is reported, not success, and the directory is still there.
 */
START_TEST(test_rm_rf_rmdir_refused)
{
	char *x = pm_asprintf("%s/x", dir), *f = pm_asprintf("%s/x/f", dir);
	int fd = open_dir(dir), r;
	bool kept, emptied;

	ck_assert_int_eq(mkdir(x, 0700), 0);
	tu_write_file(f, "x", 1);
	if (tu_immutable(dir, true) < 0) {
		close(fd);
		free(f);
		free(x);
		tu_skip("no immutable attribute here");
	}
	r = pm_rm_rf_at(fd, "x");
	kept = tu_exists(x);
	emptied = !tu_exists(f);
	ck_assert_int_eq(tu_immutable(dir, false), 0);
	ck_assert_int_eq(r, -EPERM);
	ck_assert(kept);
	ck_assert(emptied);	/* its content was not protected */
	ck_assert_int_eq(pm_rm_rf_at(fd, "x"), 0);
	ck_assert(!tu_exists(x));
	close(fd);
	free(f);
	free(x);
}
END_TEST

/* The one temp file in path whose name starts with prefix, kept; or NULL. */
static char *temp_of(const char *path, const char *prefix)
{
	DIR *d = opendir(path);
	struct dirent *e;
	char *found = NULL;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, prefix, strlen(prefix))) {
			ck_assert_ptr_null(found);
			found = tu_keep(strdup(e->d_name));
		}
	closedir(d);
	return found;
}

/* A writer killed mid-write (its file size limit): its temp file stays. */
static void die_writing(void *arg)
{
	static char big[65536];
	struct rlimit rl = { 1024, 1024 };

	signal(SIGXFSZ, SIG_DFL);
	TU_GCOV_DUMP();
	if (setrlimit(RLIMIT_FSIZE, &rl) == 0)
		pm_write_atomic_at(*(int *)arg, "key", big, sizeof(big), 0644);
	_exit(0);
}

/*
 * A temp file names its creator; a sweep removes those of writers that
 * are gone and keeps a write under way and any name it does not know.
 */
START_TEST(test_sweep_temps)
{
	int fd = open_dir(dir);
	pid_t pid = tu_fork(die_writing, &fd);
	unsigned long long start;
	char state, *left, *mine, *tag, *old = tu_path(dir, ".key.abcdefgh");
	const char *odd[] = { ".key.1.2.abcde", ".key.x.2.abcdef",
			      "..1.2.abcdef", ".key.99999999999.2.abcdef",
			      ".key.1.2x.abcdef", NULL };

	ck_assert_int_eq(tu_child_status(pid), -SIGXFSZ);
	left = temp_of(dir, ".key.");
	ck_assert_ptr_nonnull(left);
	tag = pm_asprintf(".key.%d.", (int)pid);
	ck_assert_msg(!strncmp(left, tag, strlen(tag)), "%s", left);
	free(tag);
	ck_assert_int_eq(pm_proc_stat(getpid(), &state, &start), 0);
	mine = pm_asprintf("%s/.key.%d.%llu.abcdef", dir, (int)getpid(), start);
	tu_write_file(mine, "", 0);
	tu_write_file(old, "", 0);
	for (const char **o = odd; *o; o++)
		tu_write_file(tu_path(dir, *o), "", 0);
	tag = pm_asprintf("%s/.other.%d.1.abcdef", dir, (int)tu_dead_pid());
	tu_write_file(tag, "", 0);
	pm_sweep_temps(fd, "key");
	ck_assert(!tu_exists(tu_path(dir, left)));
	ck_assert(tu_exists(mine));
	ck_assert(tu_exists(old));
	for (const char **o = odd; *o; o++)
		ck_assert_msg(tu_exists(tu_path(dir, *o)), "%s removed", *o);
	ck_assert(tu_exists(tag));	/* not "key"'s */
	pm_sweep_temps(fd, NULL);
	ck_assert(!tu_exists(tag));
	ck_assert(tu_exists(mine));
	pm_sweep_temps(-1, NULL);	/* no directory: nothing, no crash */
	free(tag);
	free(mine);
	close(fd);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("atomic");
	TCase *tc = tcase_create("atomic");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_write_read_roundtrip);
	tcase_add_test(tc, test_read_error);
	tcase_add_test(tc, test_write_refused);
	tcase_add_test(tc, test_rm_rf_rmdir_refused);
	tcase_add_test(tc, test_sweep_temps);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
