/*
 * test-name.c - the NAME rules (SPEC §1): lower-cased and stripped as pants
 * does, a safe alphabet, and a failed procmgr_open() creates nothing.
 */
#include "internal.h"
#include "testutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void check_ok(const char *in, const char *want)
{
	char out[PROCMGR_NAME_MAX + 1];

	ck_assert_msg(procmgr_name_normalize(in, out) == 0, "'%s' refused", in);
	ck_assert_str_eq(out, want);
}

START_TEST(test_accepted)
{
	check_ok("pantsd", "pantsd");
	check_ok("PantsD", "pantsd");
	check_ok("  Web-1.x_y \n", "web-1.x_y");
	check_ok("a", "a");
	check_ok("-x", "-x");
	check_ok("x..y", "x..y");
	check_ok("0123456789012345678901234567890123456789012345678901234567"
		 "890123", "012345678901234567890123456789012345678901234567"
		 "8901234567890123");
}
END_TEST

static const char *const bad[] = {
	"", "   ", ".x", "..", ".", "a/b", "../x", "a b", "\xc3\xa9",
	"caf\xc3\xa9", "x\ty", "a\\b", "a:b", "a*", "x\x01",
	/* 65 characters */
	"01234567890123456789012345678901234567890123456789012345678901234",
};

START_TEST(test_refused)
{
	char out[PROCMGR_NAME_MAX + 1] = "untouched";

	ck_assert_int_eq(procmgr_name_normalize(bad[_i], out), -EINVAL);
	ck_assert_str_eq(out, "untouched");
}
END_TEST

START_TEST(test_null_refused)
{
	char out[PROCMGR_NAME_MAX + 1];

	ck_assert_int_eq(procmgr_name_normalize(NULL, out), -EINVAL);
}
END_TEST

/* A bad NAME is a usage error naming the rule, and nothing is created. */
START_TEST(test_open_bad_name_creates_nothing)
{
	char *tmp = tu_keep(tu_tmpdir());
	char dir[512];
	struct stat st;
	procmgr *h = procmgr_new();

	snprintf(dir, sizeof(dir), "%s/base", tmp);
	ck_assert_ptr_nonnull(h);
	ck_assert_int_eq(procmgr_open(h, dir, bad[_i]), -EINVAL);
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h), "invalid name"));
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h),
				     "1-64 characters of a-z, 0-9, '.', '_', "
				     "'-', not starting with '.'"));
	ck_assert_int_eq(stat(dir, &st), -1);
	ck_assert_int_eq(errno, ENOENT);
	/* Not even the base: the scratch dir is still empty. */
	ck_assert_int_eq(rmdir(tmp), 0);
	procmgr_free(h);
}
END_TEST

START_TEST(test_open_folds_case)
{
	char *tmp = tu_keep(tu_tmpdir());
	procmgr *h = procmgr_new();

	ck_assert_int_eq(procmgr_open(h, tmp, "  PantsD "), 0);
	ck_assert_str_eq(procmgr_get_name(h), "pantsd");
	procmgr_free(h);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("name");
	TCase *tc = tcase_create("core");
	int n = (int)(sizeof(bad) / sizeof(bad[0]));

	tcase_add_test(tc, test_accepted);
	tcase_add_loop_test(tc, test_refused, 0, n);
	tcase_add_test(tc, test_null_refused);
	tcase_add_loop_test(tc, test_open_bad_name_creates_nothing, 0, n);
	tcase_add_test(tc, test_open_folds_case);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
