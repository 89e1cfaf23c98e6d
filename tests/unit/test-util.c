/*
 * test-util.c - pid parsing (corrupt pid files must never parse), white
 * space stripping, deadlines and the handle's message helpers.
 */
#include "internal.h"
#include "testutil.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

START_TEST(test_parse_pid_good)
{
	pid_t pid = 0;

	ck_assert_int_eq(pm_parse_pid("123", &pid), 0);
	ck_assert_int_eq(pid, 123);
	/* pants writes with and without a trailing newline. */
	ck_assert_int_eq(pm_parse_pid("  4242\n", &pid), 0);
	ck_assert_int_eq(pid, 4242);
	ck_assert_int_eq(pm_parse_pid("2", &pid), 0);
	ck_assert_int_eq(pid, 2);
	ck_assert_int_eq(pm_parse_pid("2147483647", &pid), 0);
	ck_assert_int_eq(pid, INT_MAX);
}
END_TEST

static const char *const corrupt[] = {
	"", "   \n", "garbage", "0", "1", "-5", "+5", "99999999999",
	"2147483648", "12abc", "12 34", "0x10", "\x01\x02\xff", "1.5",
	"\xef\xbb\xbf" "123",
};

/* The numbers of /proc files: a leading number, where it ends, or none. */
static const struct {
	const char *in;
	int base;
	int r;
	unsigned long long v;
	const char *rest;
} ulls[] = {
	{ "123", 10, 0, 123, "" },
	{ "  42 7", 10, 0, 42, " 7" },
	{ "\t9]", 10, 0, 9, "]" },
	{ "1F90 x", 16, 0, 0x1F90, " x" },
	{ "0A", 16, 0, 10, "" },
	{ "18446744073709551615", 10, 0, 18446744073709551615ULL, "" },
	{ "18446744073709551616", 10, -EBADMSG, 0, NULL },
	{ "-1", 10, -EBADMSG, 0, NULL },
	{ "+5", 10, -EBADMSG, 0, NULL },
	{ "", 10, -EBADMSG, 0, NULL },
	{ "x1", 16, -EBADMSG, 0, NULL },
	{ "\n5", 10, -EBADMSG, 0, NULL },
};

START_TEST(test_parse_ull)
{
	unsigned long long v = 77;
	const char *end = NULL;

	ck_assert_int_eq(pm_parse_ull(ulls[_i].in, ulls[_i].base, &v, &end),
			 ulls[_i].r);
	if (ulls[_i].r == 0) {
		ck_assert(v == ulls[_i].v);
		ck_assert_str_eq(end, ulls[_i].rest);
	} else {
		ck_assert(v == 77);
	}
}
END_TEST

START_TEST(test_parse_pid_corrupt)
{
	pid_t pid = 77;

	ck_assert_int_eq(pm_parse_pid(corrupt[_i], &pid), -EBADMSG);
	ck_assert_int_eq(pid, 77);
}
END_TEST

START_TEST(test_parse_pid_null)
{
	pid_t pid = 77;

	ck_assert_int_eq(pm_parse_pid(NULL, &pid), -EBADMSG);
	/* read from a file: the length counts, and a NUL is corrupt */
	ck_assert_int_eq(pm_parse_pid_len("77\n", 3, &pid), 0);
	ck_assert_int_eq(pid, 77);
	ck_assert_int_eq(pm_parse_pid_len("77\0garbage", 10, &pid), -EBADMSG);
	ck_assert_int_eq(pm_parse_pid_len("77\0", 3, &pid), -EBADMSG);
	ck_assert_int_eq(pm_parse_pid_len(NULL, 0, &pid), -EBADMSG);
	ck_assert_int_eq(pid, 77);
}
END_TEST

START_TEST(test_strip)
{
	char a[] = " \t x y \n\n", b[] = "", c[] = "   ", d[] = "z";

	ck_assert_str_eq(pm_strip(a), "x y");
	ck_assert_str_eq(pm_strip(b), "");
	ck_assert_str_eq(pm_strip(c), "");
	ck_assert_str_eq(pm_strip(d), "z");
}
END_TEST

/* pants' test_deadline_until: the deadline is honoured, not overshot. */
START_TEST(test_deadline)
{
	struct timespec dl = { 0, 0 };
	int ms;

	ck_assert_int_eq(pm_ms_left(-1, &dl), -1);
	pm_deadline(1.5, &dl);
	ms = pm_ms_left(1.5, &dl);
	ck_assert_int_le(ms, 1500);
	ck_assert_int_ge(ms, 1000);	/* generous: a noisy machine */
	pm_deadline(0, &dl);
	ck_assert_int_eq(pm_ms_left(0, &dl), 0);
	pm_deadline(-3, &dl);
	ck_assert_int_eq(pm_ms_left(0, &dl), 0);
	/* "Forever" as a deadline must not overflow into the past. */
	pm_deadline(1e300, &dl);
	ck_assert_int_eq(pm_ms_left(1e300, &dl), INT_MAX);
	pm_deadline(0.2, &dl);
	{
		double t0 = tu_now();

		while (pm_ms_left(0.2, &dl) > 0)
			;
		ck_assert(tu_now() - t0 >= 0.19);
	}
}
END_TEST

START_TEST(test_error_and_warning)
{
	procmgr *h = procmgr_new();
	char *s;

	ck_assert_ptr_nonnull(h);
	ck_assert_str_eq(procmgr_errmsg(h), "");
	ck_assert_ptr_null(procmgr_warning(h));
	ck_assert_int_eq(pm_error(h, ENOENT, "no %s at %d", "x", 7), -ENOENT);
	ck_assert_str_eq(procmgr_errmsg(h), "no x at 7");
	/* A message about a parameter says which; the next one forgets. */
	ck_assert_int_eq(pm_blame(h, "cwd", pm_error(h, EPERM, "p")), -EPERM);
	ck_assert_str_eq(procmgr_errparam(h), "cwd");
	ck_assert_int_eq(pm_error(h, EPERM, "q"), -EPERM);
	ck_assert_ptr_null(procmgr_errparam(h));
	ck_assert_ptr_null(procmgr_errparam(NULL));
	ck_assert_int_eq(pm_error(NULL, EIO, "nobody sees this"), -EIO);
	pm_warn(h, "corrupt %s", "pid");
	ck_assert_str_eq(procmgr_warning(h), "corrupt pid");
	pm_warn(h, "second");
	ck_assert_str_eq(procmgr_warning(h), "second");
	pm_warn(NULL, "ignored");
	ck_assert_str_eq(procmgr_errmsg(NULL), "out of memory");
	ck_assert_ptr_null(procmgr_warning(NULL));
	s = pm_asprintf("%s-%d", "a", 1);
	ck_assert_str_eq(s, "a-1");
	free(s);
	procmgr_free(h);
}
END_TEST

/* Paths made absolute the one way every caller needs. */
static const struct {
	const char *base, *path, *want;	/* "@" stands for the cwd */
} abs_cases[] = {
	{ NULL, "/etc/x", "/etc/x" },		/* absolute stays */
	{ "/srv", "/etc/x", "/etc/x" },
	{ "/srv", "x/y", "/srv/x/y" },		/* under an absolute base */
	{ "/srv/", "x", "/srv/x" },		/* no doubled slash */
	{ "/", "x", "/x" },
	{ NULL, "x", "@/x" },			/* under the cwd */
	{ "", "x", "@/x" },			/* PATH's empty entry */
	{ "sub", "x", "@/sub/x" },		/* relative base, cwd first */
	{ "sub", NULL, "@/sub" },		/* the base itself */
	{ NULL, NULL, "@" },
	{ "/srv", NULL, "/srv" },
};

START_TEST(test_abs_path)
{
	char cwd[PATH_MAX], want[PATH_MAX + 64], *got = NULL;
	const char *w = abs_cases[_i].want;

	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	snprintf(want, sizeof(want), "%s%s", w[0] == '@' ? cwd : "",
		 w[0] == '@' ? w + 1 : w);
	ck_assert_int_eq(pm_abs_path(abs_cases[_i].base, abs_cases[_i].path,
				     &got), 0);
	ck_assert_str_eq(got, want);
	free(got);
}
END_TEST

/* What a terminal would act on is escaped; printable UTF-8 is kept. */
START_TEST(test_escape)
{
	static const char *const cases[][2] = {
		{ "plain text", "plain text" },
		{ "\x1b[31mred", "\\x1b[31mred" },
		{ "tab\there\n", "tab\\x09here\\x0a" },
		{ "del\x7f", "del\\x7f" },
		{ "w\xc3\xa9" "b \xe2\x82\xac \xf0\x9f\x98\x80",
		  "w\xc3\xa9" "b \xe2\x82\xac \xf0\x9f\x98\x80" },
		{ "\xc2\x9b", "\\xc2\\x9b" },		/* C1 CSI */
		{ "\xc2\xa0", "\xc2\xa0" },		/* NBSP: printable */
		{ "\xe0\x80\xaf", "\\xe0\\x80\\xaf" },	/* overlong */
		{ "\xed\xa0\x80", "\\xed\\xa0\\x80" },	/* surrogate */
		{ "\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80" },
		{ "\xf0\x80\x80\x80", "\\xf0\\x80\\x80\\x80" },
		{ "\xe2\x82", "\\xe2\\x82" },		/* cut short */
		{ "\xff\xc0", "\\xff\\xc0" },
	};
	char buf[64];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_uint_eq(procmgr_escape(cases[i][0], buf, sizeof(buf)),
				  strlen(cases[i][1]));
		ck_assert_str_eq(buf, cases[i][1]);
	}
	/* cut at the end of what fits, never inside an escape */
	ck_assert_uint_eq(procmgr_escape("\x01" "abc", buf, 5), 4);
	ck_assert_str_eq(buf, "\\x01");
	ck_assert_uint_eq(procmgr_escape("\x01" "abc", buf, 4), 0);
	ck_assert_str_eq(buf, "");
	ck_assert_uint_eq(procmgr_escape("\xc3\xa9", buf, 2), 0);
	ck_assert_uint_eq(procmgr_escape("abc", buf, 0), 0);
}
END_TEST

/* UTC by arithmetic, beside gmtime_r(), and clamped to four digits. */
START_TEST(test_format_utc)
{
	static const long long cases[] = {
		0, 1795633339, 951782400, 951868799, 4107542400LL, -1,
		-86400, -86401, -2203891200LL, -62135596800LL,
		-62162035201LL, 253402300799LL,
	};
	char got[21], want[96];
	struct tm tm;
	time_t t;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		t = (time_t)cases[i];
		ck_assert_ptr_nonnull(gmtime_r(&t, &tm));
		snprintf(want, sizeof(want), "%04d-%02d-%02dT%02d:%02d:%02dZ",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			 tm.tm_hour, tm.tm_min, tm.tm_sec);
		procmgr_format_utc(t, got);
		ck_assert_str_eq(got, want);
	}
	procmgr_format_utc(0, got);
	ck_assert_str_eq(got, "1970-01-01T00:00:00Z");
	procmgr_format_utc((time_t)400000000000LL, got);
	ck_assert_str_eq(got, "9999-12-31T23:59:59Z");
	procmgr_format_utc((time_t)-400000000000LL, got);
	ck_assert_str_eq(got, "0000-01-01T00:00:00Z");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("util");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_parse_pid_good);
	tcase_add_loop_test(tc, test_parse_ull, 0,
			    (int)(sizeof(ulls) / sizeof(ulls[0])));
	tcase_add_loop_test(tc, test_parse_pid_corrupt, 0,
			    (int)(sizeof(corrupt) / sizeof(corrupt[0])));
	tcase_add_test(tc, test_parse_pid_null);
	tcase_add_test(tc, test_strip);
	tcase_add_test(tc, test_deadline);
	tcase_add_test(tc, test_error_and_warning);
	tcase_add_test(tc, test_escape);
	tcase_add_test(tc, test_format_utc);
	tcase_add_loop_test(tc, test_abs_path, 0,
			    (int)(sizeof(abs_cases) / sizeof(abs_cases[0])));
	suite_add_tcase(s, tc);
	return tu_run(s);
}
