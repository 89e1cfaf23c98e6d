/*
 * test-atomic.c - whole-file reads, atomic writes and tree removal relative
 * to a directory fd (lib/atomic.c), on real files, including the ones whose
 * read or removal the kernel refuses.
 */
#include "b-util.h"

#include <dirent.h>
#include <errno.h>

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
	if (!b_immutable(dir, true)) {
		fprintf(stderr, "test_write_refused: skipped, no immutable "
			"attribute here\n");
		close(fd);
		return;
	}
	r = pm_write_atomic_at(fd, "k", "new", 3, 0644);
	ck_assert(b_immutable(dir, false));
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
	if (!b_immutable(dir, true)) {
		fprintf(stderr, "test_rm_rf_rmdir_refused: skipped, no "
			"immutable attribute here\n");
		goto out;
	}
	r = pm_rm_rf_at(fd, "x");
	kept = b_exists(x);
	emptied = !b_exists(f);
	ck_assert(b_immutable(dir, false));
	ck_assert_int_eq(r, -EPERM);
	ck_assert(kept);
	ck_assert(emptied);	/* its content was not protected */
	ck_assert_int_eq(pm_rm_rf_at(fd, "x"), 0);
	ck_assert(!b_exists(x));
out:
	close(fd);
	free(f);
	free(x);
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
	suite_add_tcase(s, tc);
	return tu_run(s);
}
