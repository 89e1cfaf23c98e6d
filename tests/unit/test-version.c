/*
 * test-version.c - the version macros and procmgr_version() agree, and the
 * string has the MAJOR.MINOR.PATCH shape packaging tools expect.
 */
#include "procmgr.h"
#include "testutil.h"

#include <stdio.h>

START_TEST(test_runtime_equals_header)
{
	ck_assert_str_eq(procmgr_version(), PROCMGR_VERSION);
}
END_TEST

START_TEST(test_parts)
{
	char want[32];

	snprintf(want, sizeof(want), "%d.%d.%d", PROCMGR_VERSION_MAJOR,
		 PROCMGR_VERSION_MINOR, PROCMGR_VERSION_PATCH);
	ck_assert_str_eq(PROCMGR_VERSION, want);
	ck_assert_int_eq(PROCMGR_VERSION_NUMBER,
			 PROCMGR_VERSION_MAJOR * 10000 +
				 PROCMGR_VERSION_MINOR * 100 +
				 PROCMGR_VERSION_PATCH);
	ck_assert_int_lt(PROCMGR_VERSION_MINOR, 100);
	ck_assert_int_lt(PROCMGR_VERSION_PATCH, 100);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("version");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_runtime_equals_header);
	tcase_add_test(tc, test_parts);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
