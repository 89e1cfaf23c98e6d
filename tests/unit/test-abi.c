/*
 * test-abi.c - the ABI policy of procmgr.h: a caller built against another
 * version passes its own struct sizes, and the library reads and fills
 * exactly those. A newer caller is simulated by a struct with room past
 * ours; an older one by the first release's size.
 */
#include "spawned.h"
#include "internal.h"

#include <errno.h>

/* A caller from the future: our struct, and fields we do not know. */
struct newer_opts {
	struct procmgr_spawn_opts o;
	long future[4];
};

struct newer_status {
	struct procmgr_status st;
	long future[4];
};

START_TEST(test_spawn_opts_sizes)
{
	char *argv[] = { (char *)"sleep", (char *)"1000", NULL };
	struct newer_opts n = { .o = { .argv = argv } };
	procmgr *h = tu_scratch("abi", NULL);
	char fp[PROCMGR_SHA256_HEX + 1], fp2[PROCMGR_SHA256_HEX + 1];
	pid_t pid;

	/* Unknown fields all zero: accepted, as the same options. */
	ck_assert_int_eq(procmgr_fingerprint(&n.o, fp, NULL), 0);
	ck_assert_int_eq(procmgr_fingerprint_sized(&n.o, sizeof(n), fp2, NULL),
			 0);
	ck_assert_str_eq(fp, fp2);
	ck_assert_int_eq(procmgr_start_sized(h, &n.o, sizeof(n), &pid), 0);
	track_daemon(pid);
	/* An option this library does not know is refused, not ignored. */
	n.future[2] = 1;
	ck_assert_int_eq(procmgr_ensure_sized(h, &n.o, sizeof(n), &pid, NULL),
			 -E2BIG);
	ck_assert_msg(strstr(procmgr_errmsg(h), "does not know"), "%s",
		      procmgr_errmsg(h));
	ck_assert_int_eq(procmgr_restart_sized(h, &n.o, sizeof(n), &pid),
			 -E2BIG);
	ck_assert_int_eq(procmgr_fingerprint_sized(&n.o, sizeof(n), fp2, NULL),
			 -E2BIG);
	/* The first release's size is the smallest there is. */
	ck_assert_int_eq(procmgr_start_sized(h, &n.o, PM_SPAWN_OPTS_V1 - 1,
					     &pid), -EINVAL);
	ck_assert_int_eq(procmgr_start_sized(h, NULL, sizeof(n.o), &pid),
			 -EINVAL);
	n.future[2] = 0;
	ck_assert_int_eq(procmgr_ensure_sized(h, &n.o, PM_SPAWN_OPTS_V1, &pid,
					      NULL), 0);
	ck_assert_int_eq(procmgr_stop(h, NULL, NULL), 1);
	procmgr_free(h);
}
END_TEST

START_TEST(test_status_sizes)
{
	char *argv[] = { (char *)"sleep", (char *)"1000", NULL };
	struct procmgr_spawn_opts o = { .argv = argv };
	struct newer_status n;
	procmgr *h = tu_scratch("abist", NULL);
	pid_t pid;

	ck_assert_int_eq(procmgr_start(h, &o, &pid), 0);
	track_daemon(pid);
	/* A newer caller's fields are zeroed: this library has none. */
	memset(&n, 0x5a, sizeof(n));
	ck_assert_int_eq(procmgr_status_sized(h, &n.st, sizeof(n)), 0);
	ck_assert_int_eq(n.st.state, PROCMGR_RUNNING);
	ck_assert_int_eq(n.st.pid, pid);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(n.future[i], 0);
	procmgr_status_clear_sized(&n.st, sizeof(n));
	ck_assert_ptr_null(n.st.fingerprint);
	ck_assert_int_eq(procmgr_status_sized(h, &n.st, PM_STATUS_V1 - 1),
			 -EINVAL);
	procmgr_status_clear_sized(NULL, sizeof(n));
	ck_assert_int_eq(procmgr_stop(h, NULL, NULL), 1);
	procmgr_free(h);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("abi");
	TCase *tc = tcase_create("abi");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_spawn_opts_sizes);
	tcase_add_test(tc, test_status_sizes);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(suite());
}
