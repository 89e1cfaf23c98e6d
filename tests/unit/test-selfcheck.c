/*
 * test-selfcheck.c - procmgr_self_check() in this process and in a real
 * daemon that fences itself when its metadata names another process.
 */
#include "spawned.h"

#include <errno.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define S(x) ((char *)(x))

START_TEST(test_self)
{
	procmgr *h = tu_scratch("me", NULL);
	char pid[16], *id = NULL;

	ck_assert_int_eq(procmgr_self_check(h), 0);	/* no metadata */
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	ck_assert_int_eq(procmgr_write(h, "pid", pid), 0);
	ck_assert_int_eq(procmgr_self_check(h), 1);	/* no start_time */
	ck_assert_int_eq(procmgr_proc_identity(getpid(), &id), 0);
	ck_assert_int_eq(procmgr_write(h, "start_time", id), 0);
	ck_assert_int_eq(procmgr_self_check(h), 1);
	free(id);
	/* Our pid, another process's start time: a recycled pid. */
	ck_assert_int_eq(procmgr_write(h, "start_time", "1 00000000-0000-0000-"
				       "0000-000000000000"), 0);
	ck_assert_int_eq(procmgr_self_check(h), 0);
	snprintf(pid, sizeof(pid), "%d", (int)getppid());
	ck_assert_int_eq(procmgr_write(h, "pid", pid), 0);
	ck_assert_int_eq(procmgr_self_check(h), 0);
	ck_assert_int_eq(procmgr_write(h, "pid", "garbage"), 0);
	ck_assert_int_eq(procmgr_self_check(h), 0);
	{
		/* Our pid, then a NUL: corrupt, so it names nobody. */
		int n = snprintf(pid, sizeof(pid), "%d", (int)getpid());

		ck_assert_int_eq(procmgr_delete(h, "start_time"), 0);
		ck_assert_int_eq(procmgr_write_raw(h, "pid", pid,
						   (size_t)n + 1), 0);
		ck_assert_int_eq(procmgr_self_check(h), 0);
		ck_assert_int_eq(procmgr_write_raw(h, "pid", pid, (size_t)n),
				 0);
		ck_assert_int_eq(procmgr_self_check(h), 1);
	}
	{
		/* Unreadable keys are errors, not a verdict. */
		char *p = NULL;

		snprintf(pid, sizeof(pid), "%d", (int)getpid());
		ck_assert_int_eq(procmgr_write(h, "pid", pid), 0);
		ck_assert_int_eq(procmgr_delete(h, "start_time"), 0);
		ck_assert_int_ge(asprintf(&p, "%s/start_time",
					  procmgr_meta_dir(h)), 0);
		ck_assert_int_eq(mkdir(p, 0700), 0);
		ck_assert_int_lt(procmgr_self_check(h), 0);
		rmdir(p);
		free(p);
		ck_assert_int_eq(asprintf(&p, "%s/pid", procmgr_meta_dir(h)) > 0,
				 1);
		unlink(p);
		ck_assert_int_eq(mkdir(p, 0700), 0);
		ck_assert_int_lt(procmgr_self_check(h), 0);
		rmdir(p);
		free(p);
	}
	ck_assert_int_eq(procmgr_self_check(NULL), -EINVAL);
	procmgr_free(h);
}
END_TEST

START_TEST(test_daemon_fences_itself)
{
	char *helper = tu_helper("fake-daemon");
	char *argv[] = { helper, S("fence=0.05"), NULL };
	struct procmgr_spawn_opts o = { .argv = argv };
	procmgr *h = tu_scratch("fenced", NULL);
	char other[16], *v;
	pid_t pid;

	ck_assert_int_eq(procmgr_start(h, &o, &pid), 0);
	track_daemon(pid);
	/* Still ours: it keeps running. */
	usleep(300000);
	ck_assert_int_eq(procmgr_pid_alive(pid), 1);
	/* A newer instance owns the NAME: the old one must exit. */
	snprintf(other, sizeof(other), "%d", (int)getpid());
	ck_assert_int_eq(procmgr_write(h, "pid", other), 0);
	ck_assert(tu_wait_gone(pid, 10));
	ck_assert(tu_wait_content(procmgr_default_log(h), "fenced", 10));
	v = tu_key(h, "pid");
	ck_assert_str_eq(v, other);	/* the monitor left it alone */
	free(v);
	free(helper);
	procmgr_free(h);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("selfcheck");
	TCase *tc = tcase_create("selfcheck");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_self);
	tcase_add_test(tc, test_daemon_fences_itself);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(suite());
}
