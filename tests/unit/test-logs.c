/*
 * test-logs.c - log path resolution and tail, including a log far bigger
 * than one read chunk and logs with and without a final newline.
 */
#include "c-util.h"

#include <errno.h>
#include <fcntl.h>

static char *tail(procmgr *h, size_t n)
{
	char *t = NULL;

	ck_assert_msg(procmgr_log_tail(h, n, &t) == 0, "%s", procmgr_errmsg(h));
	return t;
}

START_TEST(test_log_path)
{
	procmgr *h = cu_open("lp", NULL);
	char *p = NULL;

	ck_assert_int_eq(procmgr_log_path(h, &p), 0);
	ck_assert_str_eq(p, procmgr_default_log(h));
	free(p);
	ck_assert_int_eq(procmgr_write(h, "log", "/var/tmp/x.log"), 0);
	ck_assert_int_eq(procmgr_log_path(h, &p), 0);
	ck_assert_str_eq(p, "/var/tmp/x.log");
	free(p);
	ck_assert_int_eq(procmgr_log_path(NULL, &p), -EINVAL);
	procmgr_free(h);
}
END_TEST

START_TEST(test_tail_small)
{
	procmgr *h = cu_open("ts", NULL);
	char *t;

	ck_assert_int_eq(procmgr_write(h, "x", "1"), 0);
	ck_assert_int_eq(procmgr_log_tail(h, 3, &t), -ENOENT);
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h), ".log"));
	tu_write_file(procmgr_default_log(h), "a\nb\nc\nd\n", 8);
	t = tail(h, 2);
	ck_assert_str_eq(t, "c\nd\n");
	free(t);
	t = tail(h, 10);
	ck_assert_str_eq(t, "a\nb\nc\nd\n");
	free(t);
	t = tail(h, 0);
	ck_assert_str_eq(t, "");
	free(t);
	/* An unterminated last line is a line. */
	tu_write_file(procmgr_default_log(h), "a\nb\nc", 5);
	t = tail(h, 2);
	ck_assert_str_eq(t, "b\nc");
	free(t);
	tu_write_file(procmgr_default_log(h), "", 0);
	t = tail(h, 2);
	ck_assert_str_eq(t, "");
	free(t);
	procmgr_free(h);
}
END_TEST

START_TEST(test_tail_big)
{
	procmgr *h = cu_open("tb", NULL);
	char line[64], *t, *want = NULL;
	FILE *f;

	ck_assert_int_eq(procmgr_write(h, "x", "1"), 0);
	f = fopen(procmgr_default_log(h), "we");
	ck_assert_ptr_nonnull(f);
	/* ~4 MB: many 64 KiB chunks; lines straddle chunk edges. */
	for (int i = 0; i < 200000; i++)
		fprintf(f, "line %d of the big log\n", i);
	fclose(f);
	t = tail(h, 3);
	ck_assert_str_eq(t, "line 199997 of the big log\nline 199998 of the "
			    "big log\nline 199999 of the big log\n");
	free(t);
	t = tail(h, 5000);
	snprintf(line, sizeof(line), "line %d of the big log\n", 195000);
	ck_assert_int_eq(strncmp(t, line, strlen(line)), 0);
	free(t);
	free(want);
	procmgr_free(h);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("logs");
	TCase *tc = tcase_create("logs");

	tcase_add_test(tc, test_log_path);
	tcase_add_test(tc, test_tail_small);
	tcase_add_test(tc, test_tail_big);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(suite());
}
