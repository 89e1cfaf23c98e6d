/*
 * test-ensure.c - procmgr_start/ensure/restart: already running, stale
 * metadata, restart reasons, and 32 concurrent ensures starting one daemon.
 */
#include "c-util.h"

#include <errno.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define S(x) ((char *)(x))
#define N_RACERS 32
#define ROUNDS 3

static char *daemon_path;
static char *argv_a[4], *argv_b[4];

static void setup(void)
{
	daemon_path = cu_helper("c-daemon");
	argv_a[0] = argv_b[0] = daemon_path;
	argv_a[1] = S("pause");
	argv_b[1] = S("say=b");
	argv_b[2] = S("pause");
}

static void teardown(void)
{
	free(daemon_path);
}

START_TEST(test_start_twice)
{
	struct procmgr_spawn_opts o = { .argv = argv_a };
	procmgr *h = cu_open("twice", NULL);
	pid_t pid, again = 0;

	ck_assert_int_eq(procmgr_start(h, &o, &pid), 0);
	cu_track(pid);
	ck_assert_int_eq(procmgr_start(h, &o, &again), -EEXIST);
	ck_assert_int_eq(again, pid);
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h), "already running"));
	ck_assert_int_eq(procmgr_lock_held(h), 0);
	procmgr_free(h);
}
END_TEST

START_TEST(test_stale_cleared)
{
	struct procmgr_spawn_opts o = { .argv = argv_a };
	procmgr *h = cu_open("stale", NULL);
	char dead[16], *log;
	pid_t pid;

	snprintf(dead, sizeof(dead), "%d", (int)tu_dead_pid());
	ck_assert_int_eq(procmgr_write(h, "pid", dead), 0);
	ck_assert_int_eq(procmgr_write(h, "socket", "old"), 0);
	ck_assert_int_eq(procmgr_write(h, "leftover", "x"), 0);
	tu_write_file(procmgr_default_log(h), "old log\n", 8);
	ck_assert_int_eq(procmgr_start(h, &o, &pid), 0);
	cu_track(pid);
	ck_assert_ptr_null(cu_key(h, "socket"));
	ck_assert_ptr_null(cu_key(h, "leftover"));
	log = tu_read_file(procmgr_default_log(h));
	ck_assert_ptr_nonnull(strstr(log, "old log"));
	free(log);
	procmgr_free(h);
}
END_TEST

START_TEST(test_ensure_reasons)
{
	char *envs[] = { S("CU_ENSURE_VAR"), NULL };
	struct procmgr_spawn_opts o = { .argv = argv_a,
					.fingerprint_env = envs };
	procmgr *h = cu_open("ens", NULL);
	char *reason = NULL, dead[16];
	pid_t p1, p2, p3;

	setenv("CU_ENSURE_VAR", "1", 1);
	ck_assert_int_eq(procmgr_ensure(h, &o, &p1, &reason), 1);
	cu_track(p1);
	ck_assert_str_eq(reason, "not running");
	free(reason);
	reason = NULL;
	/* Same fingerprint: kept, no restart. */
	ck_assert_int_eq(procmgr_ensure(h, &o, &p2, &reason), 0);
	ck_assert_int_eq(p2, p1);
	ck_assert_ptr_null(reason);
	/* Changed argv: restarted, the old one stopped. */
	o.argv = argv_b;
	ck_assert_int_eq(procmgr_ensure(h, &o, &p2, &reason), 1);
	cu_track(p2);
	ck_assert_str_eq(reason, "argv changed");
	free(reason);
	ck_assert_int_ne(p2, p1);
	ck_assert(tu_wait_gone(p1, 10));
	setenv("CU_ENSURE_VAR", "2", 1);
	ck_assert_int_eq(procmgr_ensure(h, &o, &p3, &reason), 1);
	cu_track(p3);
	ck_assert_str_eq(reason, "env CU_ENSURE_VAR changed");
	free(reason);
	/* Stale: the recorded pid is dead. */
	kill(p3, SIGKILL);
	ck_assert(tu_wait_gone(p3, 10));
	ck_assert_int_eq(procmgr_ensure(h, &o, &p1, &reason), 1);
	cu_track(p1);
	snprintf(dead, sizeof(dead), "stale pid %d", (int)p3);
	ck_assert_str_eq(reason, dead);
	free(reason);
	ck_assert_int_eq(procmgr_ensure(h, &o, &p2, NULL), 0);
	ck_assert_int_eq(p1, p2);
	procmgr_free(h);
}
END_TEST

START_TEST(test_restart)
{
	struct procmgr_spawn_opts o = { .argv = argv_a };
	procmgr *h = cu_open("rs", NULL);
	pid_t p1, p2;

	ck_assert_int_eq(procmgr_restart(h, &o, &p1), 0);
	cu_track(p1);
	ck_assert_int_eq(procmgr_restart(h, &o, &p2), 0);
	cu_track(p2);
	ck_assert_int_ne(p1, p2);
	ck_assert(tu_wait_gone(p1, 10));
	ck_assert_int_eq(procmgr_restart(NULL, &o, &p2), -EINVAL);
	ck_assert_int_eq(procmgr_ensure(h, NULL, &p2, NULL), -EINVAL);
	procmgr_free(h);
}
END_TEST

START_TEST(test_exec_failure_in_ensure)
{
	char *bad[] = { S("/nonexistent/x"), NULL };
	struct procmgr_spawn_opts o = { .argv = bad };
	procmgr *h = cu_open("ebad", NULL);
	char *reason = NULL;

	ck_assert_int_eq(procmgr_ensure(h, &o, NULL, &reason), -ENOENT);
	ck_assert_ptr_null(reason);
	ck_assert_int_eq(procmgr_lock_held(h), 0);
	procmgr_free(h);
}
END_TEST

START_TEST(test_option_errors)
{
	char *noeq[] = { S("NOEQUALS"), NULL };
	struct procmgr_spawn_opts o = { .argv = argv_a, .env = noeq };
	procmgr *h = cu_open("opts", NULL), *fresh = procmgr_new();
	char *reason = NULL;
	pid_t pid;

	ck_assert_int_eq(procmgr_start(h, &o, &pid), -EINVAL);
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h), "NOEQUALS"));
	o.env = NULL;
	o.fingerprint = "has space";
	ck_assert_int_eq(procmgr_start(h, &o, &pid), -EINVAL);
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h), "fingerprint"));
	ck_assert_int_eq(procmgr_start(fresh, &o, &pid), -EINVAL);
	ck_assert_int_eq(procmgr_start(NULL, &o, &pid), -EINVAL);
	/* A relative cwd is the caller's cwd joined with it. */
	o.fingerprint = NULL;
	o.cwd = ".";
	ck_assert_int_eq(procmgr_start(h, &o, &pid), 0);
	cu_track(pid);
	o.fingerprint = "has space";
	ck_assert_int_eq(procmgr_ensure(h, &o, &pid, &reason), -EINVAL);
	procmgr_free(fresh);
	procmgr_free(h);
}
END_TEST

/* Metadata without our inputs (pants') can only say "changed". */
START_TEST(test_ensure_foreign_metadata)
{
	struct procmgr_spawn_opts o = { .argv = argv_a };
	procmgr *h = cu_open("foreign", NULL);
	char *reason = NULL;
	pid_t p1, p2;

	ck_assert_int_eq(procmgr_start(h, &o, &p1), 0);
	cu_track(p1);
	ck_assert_int_eq(procmgr_delete(h, "fingerprint_inputs"), 0);
	ck_assert_int_eq(procmgr_write(h, "fingerprint", "pants-fp"), 0);
	ck_assert_int_eq(procmgr_ensure(h, &o, &p2, &reason), 1);
	cu_track(p2);
	ck_assert_str_eq(reason, "fingerprint changed");
	free(reason);
	ck_assert_int_eq(procmgr_stop(h, NULL, NULL), 1);
	ck_assert_int_eq(procmgr_write(h, "pid", "garbage"), 0);
	ck_assert_int_eq(procmgr_ensure(h, &o, &p2, &reason), 1);
	cu_track(p2);
	ck_assert_str_eq(reason, "stale metadata");
	free(reason);
	procmgr_free(h);
}
END_TEST

struct racer {
	const char *dir;
	const char *out;
};

static void race_one(void *arg)
{
	const struct racer *rc = arg;
	char *argv[] = { daemon_path, S("pause"), NULL };
	struct procmgr_spawn_opts o = { .argv = argv };
	procmgr *h = procmgr_new();
	char buf[64];
	pid_t pid = 0;
	int r = -1;

	if (h && procmgr_open(h, rc->dir, "racy") == 0)
		r = procmgr_ensure(h, &o, &pid, NULL);
	snprintf(buf, sizeof(buf), "%d %d", r, (int)pid);
	tu_write_file(rc->out, buf, strlen(buf));
	procmgr_free(h);
	_exit(0);
}

START_TEST(test_concurrent_ensure)
{
	char *dir, *outs[N_RACERS];
	struct racer rc[N_RACERS];
	procmgr *h = cu_open("racy", &dir);

	for (int round = 0; round < ROUNDS; round++) {
		pid_t kids[N_RACERS], daemon = 0;
		int started = 0;

		for (int i = 0; i < N_RACERS; i++) {
			ck_assert_int_ge(asprintf(&outs[i], "%s/out.%d.%d",
						  dir, round, i), 0);
			rc[i] = (struct racer){ dir, outs[i] };
			kids[i] = tu_fork(race_one, &rc[i]);
		}
		for (int i = 0; i < N_RACERS; i++) {
			int r = 0, pid = 0;
			char *s;

			ck_assert_int_eq(waitpid(kids[i], NULL, 0), kids[i]);
			s = tu_read_file(outs[i]);
			ck_assert_ptr_nonnull(s);
			ck_assert_int_eq(sscanf(s, "%d %d", &r, &pid), 2);
			free(s);
			free(outs[i]);
			ck_assert_msg(r == 0 || r == 1, "racer %d: %d", i, r);
			started += r;
			if (!daemon) {
				daemon = pid;
				cu_track(daemon);
			}
			ck_assert_int_eq(pid, daemon);
		}
		ck_assert_int_eq(started, 1);
		ck_assert_int_eq(procmgr_stop(h, NULL, NULL), 1);
		ck_assert(tu_wait_gone(daemon, 10));
	}
	free(dir);
	procmgr_free(h);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("ensure");
	TCase *tc = tcase_create("ensure");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_start_twice);
	tcase_add_test(tc, test_stale_cleared);
	tcase_add_test(tc, test_ensure_reasons);
	tcase_add_test(tc, test_restart);
	tcase_add_test(tc, test_exec_failure_in_ensure);
	tcase_add_test(tc, test_concurrent_ensure);
	tcase_add_test(tc, test_option_errors);
	tcase_add_test(tc, test_ensure_foreign_metadata);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(suite());
}
