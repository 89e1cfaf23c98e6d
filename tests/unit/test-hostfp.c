/*
 * test-hostfp.c - the host fingerprint must be the very string pants
 * computes, or pants and procmgr would look in different HOSTFP dirs.
 */
#include "internal.h"
#include "testutil.h"

#include <stdio.h>
#include <string.h>

START_TEST(test_equals_python)
{
	char fp[PROCMGR_HOSTFP_LEN + 1], py[64] = "";
	FILE *p;

	/* pants: hashlib.sha256(''.join(os.uname()).encode()).hexdigest() */
	p = popen("python3 -c 'import hashlib, os; print(hashlib.sha256(\"\""
		  ".join(os.uname()).encode()).hexdigest()[:12])'", "r");
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(fgets(py, sizeof(py), p));
	ck_assert_int_eq(pclose(p), 0);
	py[strcspn(py, "\n")] = '\0';
	ck_assert_int_eq(procmgr_host_fingerprint(fp), 0);
	ck_assert_str_eq(fp, py);
}
END_TEST

START_TEST(test_shape)
{
	char fp[PROCMGR_HOSTFP_LEN + 1];

	memset(fp, 'X', sizeof(fp));
	ck_assert_int_eq(procmgr_host_fingerprint(fp), 0);
	ck_assert_uint_eq(strlen(fp), PROCMGR_HOSTFP_LEN);
	ck_assert_uint_eq(strspn(fp, "0123456789abcdef"), PROCMGR_HOSTFP_LEN);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("hostfp");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_equals_python);
	tcase_add_test(tc, test_shape);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
