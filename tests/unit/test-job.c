/*
 * test-job.c - the job a starter hands procmgr-monitor: what is encoded
 * comes back whole, and no damaged or hostile encoding decodes.
 */
#include "internal.h"
#include "testutil.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static char *argv_[] = { (char *)"/bin/server", (char *)"--port",
			 (char *)"", (char *)"ü", NULL };
static char *envp_[] = { (char *)"A=1", (char *)"PROCMGR_NAME=web", NULL };

static struct pm_job sample(void)
{
	struct pm_job j = {
		.exe = (char *)"/bin/server", .argv = argv_, .envp = envp_,
		.cwd = (char *)"/srv", .log_path = (char *)"/srv/web.log",
		.fingerprint = (char *)"ab12", .inputs = (char *)"argv 00\n",
		.process_name = (char *)"server",
		.ready = { .kind = PROCMGR_READY_TCP, .port = 8080 },
		.ready_timeout = 2.5, .kill_on_timeout = true,
		.stop = { .signals = { SIGINT, SIGKILL }, .n_signals = 2,
			  .kill_wait = 0.25, .kill_mode = PROCMGR_KILL_PROCESS },
		.restart = PROCMGR_RESTART_ON_FAILURE, .restart_limit = 7,
		.idle_timeout = 600, .watchdog = 1.5,
		.pid_file = (char *)"/run/s.pid", .reason = (char *)"why",
		.has_lock = true,
	};
	return j;
}

static void encoded(char **ret, size_t *ret_len)
{
	struct pm_job j = sample();

	ck_assert_int_eq(pm_job_encode(&j, ret, ret_len), 0);
	tu_keep(*ret);
}

START_TEST(test_roundtrip)
{
	struct pm_job d;
	char *data;
	size_t len;

	encoded(&data, &len);
	ck_assert_int_eq(pm_job_decode(data, len, &d), 0);
	ck_assert_str_eq(d.exe, "/bin/server");
	ck_assert_uint_eq(d.n_argv, 4);
	ck_assert_str_eq(d.argv[2], "");
	ck_assert_str_eq(d.argv[3], "ü");
	ck_assert_ptr_null(d.argv[4]);
	ck_assert_uint_eq(d.n_envp, 2);
	ck_assert_str_eq(d.envp[1], "PROCMGR_NAME=web");
	ck_assert_str_eq(d.cwd, "/srv");
	ck_assert_str_eq(d.log_path, "/srv/web.log");
	ck_assert_str_eq(d.fingerprint, "ab12");
	ck_assert_str_eq(d.inputs, "argv 00\n");
	ck_assert_str_eq(d.process_name, "server");
	ck_assert_int_eq(d.ready.kind, PROCMGR_READY_TCP);
	ck_assert_int_eq(d.ready.port, 8080);
	ck_assert_double_eq(d.ready_timeout, 2.5);
	ck_assert(d.kill_on_timeout);
	ck_assert_uint_eq(d.stop.n_signals, 2);
	ck_assert_int_eq(d.stop.signals[0], SIGINT);
	ck_assert_int_eq(d.stop.signals[1], SIGKILL);
	ck_assert_double_eq(d.stop.kill_wait, 0.25);
	ck_assert_int_eq(d.stop.kill_mode, PROCMGR_KILL_PROCESS);
	ck_assert_int_eq(d.restart, PROCMGR_RESTART_ON_FAILURE);
	ck_assert_int_eq(d.restart_limit, 7);
	ck_assert_double_eq(d.idle_timeout, 600);
	ck_assert_double_eq(d.watchdog, 1.5);
	ck_assert_str_eq(d.pid_file, "/run/s.pid");
	ck_assert_str_eq(d.reason, "why");
	ck_assert(d.has_lock);
	pm_job_clear(&d);
	ck_assert_ptr_null(d.exe);
	pm_job_clear(NULL);
}
END_TEST

/* Optional fields left out stay absent, and defaults stay defaults. */
START_TEST(test_minimal)
{
	char *argv[] = { (char *)"x", NULL }, *envp[] = { NULL, NULL };
	struct pm_job j = { .exe = (char *)"/x", .argv = argv, .envp = envp,
			    .cwd = (char *)"/", .log_path = (char *)"/l",
			    .ready_timeout = -1, .stop.kill_wait = -1 };
	struct pm_job d;
	char *data;
	size_t len;

	ck_assert_int_eq(pm_job_encode(&j, &data, &len), 0);
	ck_assert_int_eq(pm_job_decode(data, len, &d), -EBADMSG);
	free(data);
	/* An environment may be empty, but it must be said. */
	envp[0] = (char *)"PATH=/bin";
	ck_assert_int_eq(pm_job_encode(&j, &data, &len), 0);
	ck_assert_int_eq(pm_job_decode(data, len, &d), 0);
	free(data);
	ck_assert_ptr_null(d.process_name);
	ck_assert_ptr_null(d.pid_file);
	ck_assert_ptr_null(d.ready.path);
	ck_assert_uint_eq(d.stop.n_signals, 0);
	ck_assert_double_eq(d.ready_timeout, -1);
	ck_assert(!d.has_lock);
	pm_job_clear(&d);
}
END_TEST

/* Cut anywhere, the job never decodes into something half there. */
START_TEST(test_every_truncation)
{
	struct pm_job d;
	char *data;
	size_t len;

	encoded(&data, &len);
	for (size_t n = 0; n < len; n++) {
		int r = pm_job_decode(data, n, &d);

		ck_assert_msg(r == -EBADMSG || r == -EPROTO, "cut at %zu: %d",
			      n, r);
	}
}
END_TEST

/* Record at offset: its tag and length, for the tests to damage. */
static uint32_t *head_at(char *data, size_t off)
{
	return (uint32_t *)(void *)(data + off);
}

/* The offset of the n-th record. */
static size_t record(const char *data, size_t len, int n)
{
	size_t off = 0;
	uint32_t h[2];

	for (; n > 0 && off < len; n--) {
		memcpy(h, data + off, sizeof(h));
		off += sizeof(h) + h[1];
	}
	return off;
}

START_TEST(test_damage)
{
	struct pm_job d;
	char *data, *copy;
	size_t len, off;
	uint32_t h[2];

	encoded(&data, &len);
	copy = tu_keep(malloc(len));
	/* Another version: named as such, never read field by field. */
	memcpy(copy, data, len);
	copy[8] ^= 1;
	ck_assert_int_eq(pm_job_decode(copy, len, &d), -EPROTO);
	/* Something before the version: refused as a mismatch too. */
	memcpy(copy, data, len);
	memcpy(h, copy + record(copy, len, 1), sizeof(h));
	head_at(copy, 0)[0] = h[0];
	ck_assert_int_eq(pm_job_decode(copy, len, &d), -EPROTO);
	/* An unknown tag. */
	memcpy(copy, data, len);
	head_at(copy, record(copy, len, 1))[0] = 999;
	ck_assert_int_eq(pm_job_decode(copy, len, &d), -EBADMSG);
	/* A length running past the end. */
	memcpy(copy, data, len);
	head_at(copy, record(copy, len, 1))[1] = (uint32_t)len;
	ck_assert_int_eq(pm_job_decode(copy, len, &d), -EBADMSG);
	/* A string whose NUL is not its last byte (exe: "/bin/server"). */
	memcpy(copy, data, len);
	off = record(copy, len, 1) + 8;
	copy[off + 4] = '\0';
	ck_assert_int_eq(pm_job_decode(copy, len, &d), -EBADMSG);
	copy[off + 4] = 's';
	copy[off + strlen("/bin/server")] = 'x';
	ck_assert_int_eq(pm_job_decode(copy, len, &d), -EBADMSG);
	ck_assert_int_eq(pm_job_decode(data, (size_t)(PM_CHAIN_MAX) << 24,
				       &d), -EMSGSIZE);
}
END_TEST

static void bad_kind(struct pm_job *j)
{
	j->ready.kind = (enum procmgr_ready_kind)42;
}

static void bad_limit(struct pm_job *j)
{
	j->restart_limit = -1;
}

static void bad_idle(struct pm_job *j)
{
	j->idle_timeout = NAN;
}

static void bad_signal(struct pm_job *j)
{
	j->stop.signals[0] = 0;
}

/* Numbers out of range or of the wrong size; NaN seconds. */
START_TEST(test_bad_numbers)
{
	static const struct {
		const char *what;
		void (*spoil)(struct pm_job *j);
	} bad[] = {
		{ "ready kind 42", bad_kind },
		{ "restart limit -1", bad_limit },
		{ "idle timeout NaN", bad_idle },
		{ "signal 0", bad_signal },
	};
	struct pm_job j, d;
	char *data;
	size_t len;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		j = sample();
		bad[i].spoil(&j);
		ck_assert_int_eq(pm_job_encode(&j, &data, &len), 0);
		ck_assert_msg(pm_job_decode(data, len, &d) == -EBADMSG,
			      "%s: decoded", bad[i].what);
		free(data);
	}
	/* More signals than a chain holds. */
	j = sample();
	j.stop.n_signals = PM_CHAIN_MAX;
	for (int i = 0; i < PM_CHAIN_MAX; i++)
		j.stop.signals[i] = SIGTERM;
	ck_assert_int_eq(pm_job_encode(&j, &data, &len), 0);
	ck_assert_int_eq(pm_job_decode(data, len, &d), 0);
	pm_job_clear(&d);
	{
		/* A seventeenth: a copy of the first signal record appended. */
		char *more = tu_keep(malloc(len + 16));
		size_t off = 0;
		uint32_t h[2];
		int64_t v;

		for (;;) {
			memcpy(h, data + off, sizeof(h));
			memcpy(&v, data + off + 8, sizeof(v));
			if (h[1] == 8 && v == SIGTERM)
				break;
			off += 8 + h[1];
			ck_assert_uint_lt(off, len);
		}
		/* before the end marker, which stays last */
		memcpy(more, data, len - 8);
		memcpy(more + len - 8, data + off, 16);
		memcpy(more + len + 8, data + len - 8, 8);
		ck_assert_int_eq(pm_job_decode(more, len + 16, &d), -EBADMSG);
		/* and anything after the end marker is refused */
		memcpy(more, data, len);
		memcpy(more + len, data + off, 16);
		ck_assert_int_eq(pm_job_decode(more, len + 16, &d), -EBADMSG);
	}
	free(data);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("job");
	TCase *tc = tcase_create("job");

	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_minimal);
	tcase_add_test(tc, test_every_truncation);
	tcase_add_test(tc, test_damage);
	tcase_add_test(tc, test_bad_numbers);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(suite());
}
