/*
 * test-supervise.c - what the monitor does for a daemon's whole life (SPEC
 * §6), through the library: restart policies and their limit, idle and
 * watchdog stops, adoption of a server that forks, its tree on stop, the
 * memory check of ensure, finding every monitor, and waits that a signal
 * handler cancels. Real daemons (fake-daemon and sh), real signals.
 */
#include "spawned.h"
#include "internal.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>

static char *daemon_path;

static void setup(void)
{
	daemon_path = tu_helper("fake-daemon");
}

static void teardown(void)
{
	free(daemon_path);
}

/* Start argv (fake-daemon with actions when argv[0] is NULL) with o. */
static int start_argv(procmgr *h, struct procmgr_spawn_opts *o,
		      const char **args, pid_t *ret_pid)
{
	char *argv[16] = { daemon_path };
	size_t n = args[0] ? 0 : 1;
	pid_t pid = 0;
	int r;

	for (const char **a = args[0] ? args : args + 1; *a; a++)
		argv[n++] = (char *)*a;
	argv[n] = NULL;
	o->argv = argv;
	r = procmgr_start(h, o, &pid);
	if (r == 0)
		track_daemon(pid);
	if (ret_pid)
		*ret_pid = pid;
	o->argv = NULL;
	return r;
}

/* Wait (generously) until the NAME's status has state and exit reason. */
static bool wait_state(procmgr *h, enum procmgr_state state,
		       const char *reason, double timeout)
{
	double end = tu_now() + timeout;
	struct procmgr_status st;

	for (;;) {
		bool ok;

		ck_assert_int_eq(procmgr_status(h, &st), 0);
		ok = st.state == state &&
		     (!reason || (st.exit.reason &&
				  !strcmp(st.exit.reason, reason)));
		procmgr_status_clear(&st);
		if (ok)
			return true;
		if (tu_now() > end)
			return false;
		tu_sleep(0.02);
	}
}

/* How many times the log says a run started. */
static int starts_logged(procmgr *h)
{
	char *log = tu_read_file(procmgr_default_log(h)), *p = log;
	int n = 0;

	while (p && (p = strstr(p, " started pid "))) {
		n++;
		p++;
	}
	free(log);
	return n;
}

static bool monitor_gone(procmgr *h)
{
	char *v = tu_key(h, "monitor");
	bool gone = true;

	if (v) {
		gone = tu_wait_gone(atoi(v), 30);
		free(v);
	}
	return gone;
}

START_TEST(test_restart_words)
{
	ck_assert_int_eq(procmgr_restart_parse("no"), PROCMGR_RESTART_NO);
	ck_assert_int_eq(procmgr_restart_parse("on-failure"),
			 PROCMGR_RESTART_ON_FAILURE);
	ck_assert_int_eq(procmgr_restart_parse("always"),
			 PROCMGR_RESTART_ALWAYS);
	ck_assert_int_eq(procmgr_restart_parse("On-failure"), -EINVAL);
	ck_assert_int_eq(procmgr_restart_parse(""), -EINVAL);
	ck_assert_int_eq(procmgr_restart_parse(NULL), -EINVAL);
	ck_assert_str_eq(procmgr_restart_name(PROCMGR_RESTART_ALWAYS),
			 "always");
	ck_assert_ptr_null(procmgr_restart_name(
		(enum procmgr_restart_policy)9));
}
END_TEST

START_TEST(test_sizes)
{
	static const struct {
		const char *s;
		uint64_t v;
	} ok[] = {
		{ "1024", 1024 }, { "300k", 300 << 10 }, { "300K", 300 << 10 },
		{ "512M", 512ULL << 20 }, { "4G", 4ULL << 30 },
		{ "4GiB", 4ULL << 30 }, { "4gb", 4ULL << 30 },
		{ "1.5G", 3ULL << 29 }, { "2T", 2ULL << 40 }, { "10B", 10 },
	};
	const char *bad[] = { "", "G", "-1", "4X", "4GG", "1e3", " 4G",
			      "4 G", "4GiBs", ".", "99999999999E", NULL };
	char buf[32];
	uint64_t v;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		ck_assert_msg(procmgr_size_parse(ok[i].s, &v) == 0, "%s",
			      ok[i].s);
		ck_assert_uint_eq(v, ok[i].v);
	}
	for (const char **b = bad; *b; b++)
		ck_assert_msg(procmgr_size_parse(*b, &v) == -EINVAL, "%s", *b);
	ck_assert_int_eq(procmgr_size_parse(NULL, &v), -EINVAL);
	procmgr_format_size(0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "0 B");
	procmgr_format_size(1023, buf, sizeof(buf));
	ck_assert_str_eq(buf, "1023 B");
	procmgr_format_size(1024, buf, sizeof(buf));
	ck_assert_str_eq(buf, "1 KiB");
	procmgr_format_size(1536, buf, sizeof(buf));
	ck_assert_str_eq(buf, "1.5 KiB");
	procmgr_format_size(4509715661ULL, buf, sizeof(buf));
	ck_assert_str_eq(buf, "4.2 GiB");
	procmgr_format_size(4ULL << 30, buf, sizeof(buf));
	ck_assert_str_eq(buf, "4 GiB");
}
END_TEST

/*
 * A crash loop under --restart on-failure --restart-limit 3 runs exactly
 * four times, backing off, then gives up: metadata kept, exit reason
 * gave-up, three restarts.
 */
START_TEST(test_crash_loop_gives_up)
{
	const char *args[] = { NULL, "exit=3", NULL };
	struct procmgr_spawn_opts o = { .restart = PROCMGR_RESTART_ON_FAILURE,
					.restart_limit = 3 };
	procmgr *h = tu_scratch("loop", NULL);
	struct procmgr_status st;
	char *log;

	ck_assert_int_eq(start_argv(h, &o, args, NULL), 0);
	ck_assert(wait_state(h, PROCMGR_STALE, "gave-up", 60));
	ck_assert(monitor_gone(h));
	ck_assert_int_eq(starts_logged(h), 4);
	ck_assert_int_eq(procmgr_status(h, &st), 0);
	ck_assert_uint_eq(st.restarts, 3);
	ck_assert_int_eq(st.exit.status, 3);
	procmgr_status_clear(&st);
	log = tu_read_file(procmgr_default_log(h));
	ck_assert_ptr_nonnull(strstr(log, "restarting in 0.1s (restart 1 of 3)"));
	ck_assert_ptr_nonnull(strstr(log, "restarting in 0.2s (restart 2 of 3)"));
	ck_assert_ptr_nonnull(strstr(log, "restarting in 0.4s (restart 3 of 3)"));
	ck_assert_ptr_nonnull(strstr(log, "gave up after 3 restarts in a row"));
	free(log);
	procmgr_free(h);
}
END_TEST

/* on-failure leaves a clean exit alone; always restarts even that. */
START_TEST(test_policies)
{
	const char *args[] = { NULL, "sleep=0.2", "exit=0", NULL };
	struct procmgr_spawn_opts o = { .restart = PROCMGR_RESTART_ON_FAILURE };
	procmgr *h = tu_scratch("clean", NULL);
	struct procmgr_status st;

	ck_assert_int_eq(start_argv(h, &o, args, NULL), 0);
	ck_assert(wait_state(h, PROCMGR_STALE, NULL, 30));
	ck_assert(monitor_gone(h));
	ck_assert_int_eq(starts_logged(h), 1);
	ck_assert_int_eq(procmgr_status(h, &st), 0);
	ck_assert(st.exit.known && st.exit.status == 0 && !st.exit.reason);
	procmgr_status_clear(&st);
	procmgr_free(h);

	h = tu_scratch("always", NULL);
	o.restart = PROCMGR_RESTART_ALWAYS;
	o.restart_limit = 1;
	ck_assert_int_eq(start_argv(h, &o, args, NULL), 0);
	ck_assert(wait_state(h, PROCMGR_STALE, "gave-up", 30));
	ck_assert_int_eq(starts_logged(h), 2);
	procmgr_free(h);
}
END_TEST

/* A stop during the back-off: nothing is started again. */
START_TEST(test_stop_during_backoff)
{
	const char *args[] = { NULL, "exit=1", NULL };
	struct procmgr_spawn_opts o = { .restart = PROCMGR_RESTART_ALWAYS,
					.restart_limit = 1000 };
	procmgr *h = tu_scratch("halt", NULL);
	char *mon;

	ck_assert_int_eq(start_argv(h, &o, args, NULL), 0);
	mon = tu_key(h, "monitor");
	/* wait until it backs off for long (0.8 s and more) */
	for (int i = 0; i < 3000 && starts_logged(h) < 4; i++)
		tu_sleep(0.01);
	ck_assert_int_ge(starts_logged(h), 4);
	ck_assert_int_ge(procmgr_stop(h, NULL, NULL), 0);
	ck_assert(tu_wait_gone(atoi(mon), 60));
	tu_sleep(0.3);
	ck_assert_ptr_null(tu_key(h, "pid"));	/* removed, not recreated */
	free(mon);
	procmgr_free(h);
}
END_TEST

/*
 * Idle: stopped after the timeout, metadata kept with reason idle, state
 * stopped; touches re-arm the timer first; the next ensure says why.
 */
START_TEST(test_idle)
{
	const char *args[] = { NULL, "pause", NULL };
	struct procmgr_spawn_opts o = { .idle_timeout = 1.0 };
	procmgr *h = tu_scratch("idle", NULL);
	struct procmgr_status st;
	char *reason = NULL, *argv[] = { daemon_path, (char *)"pause", NULL };
	pid_t pid, again;

	ck_assert_int_eq(start_argv(h, &o, args, &pid), 0);
	for (int i = 0; i < 8; i++) {	/* 2 s of touches every 0.25 s */
		ck_assert_int_eq(procmgr_touch(h), 0);
		tu_sleep(0.25);
	}
	ck_assert(procmgr_pid_alive(pid));
	ck_assert(wait_state(h, PROCMGR_STOPPED, "idle", 30));
	ck_assert(tu_wait_gone(pid, 10));
	ck_assert_int_eq(procmgr_status(h, &st), 0);
	ck_assert_double_eq(st.idle_timeout, 1.0);
	ck_assert_int_eq(st.pid, pid);	/* metadata kept */
	procmgr_status_clear(&st);
	o.argv = argv;
	ck_assert_int_eq(procmgr_ensure(h, &o, &again, &reason), 2);
	track_daemon(again);
	ck_assert_str_eq(reason, "stopped after idle");
	free(reason);
	ck_assert_int_eq(procmgr_stop(h, NULL, NULL), 1);
	procmgr_free(h);
}
END_TEST

/* A client connected to the daemon keeps it from being idle. */
START_TEST(test_idle_with_client)
{
	int port = free_tcp_port();
	char tcp[32];
	const char *args[] = { NULL, tcp, NULL };
	struct procmgr_spawn_opts o = { .idle_timeout = 0.5 };
	procmgr *h = tu_scratch("busy", NULL);
	struct sockaddr_in in = { .sin_family = AF_INET };
	int fd;

	snprintf(tcp, sizeof(tcp), "tcp:%d", port);
	ck_assert_int_eq(procmgr_ready_parse(tcp, &o.ready), 0);
	snprintf(tcp, sizeof(tcp), "serve=%d", port);
	ck_assert_int_eq(start_argv(h, &o, args, NULL), 0);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	in.sin_port = htons((uint16_t)port);
	in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&in, sizeof(in)), 0);
	tu_sleep(2.0);	/* four idle periods with a client: still running */
	ck_assert(wait_state(h, PROCMGR_RUNNING, NULL, 1));
	close(fd);
	ck_assert(wait_state(h, PROCMGR_STOPPED, "idle", 30));
	procmgr_ready_clear(&o.ready);
	procmgr_free(h);
}
END_TEST

/* No WATCHDOG=1 in time: stopped with reason watchdog; pings keep it. */
START_TEST(test_watchdog)
{
	const char *pings[] = { NULL, "notify=WATCHDOG=1", "sleep=0.3",
				"notify=WATCHDOG=1", "sleep=0.3",
				"notify=WATCHDOG=1", "sleep=0.3",
				"notify=WATCHDOG=1", "pause", NULL };
	struct procmgr_spawn_opts o = { .watchdog = 0.6 };
	procmgr *h = tu_scratch("dog", NULL);
	pid_t pid;
	double t0 = tu_now();

	ck_assert_int_eq(start_argv(h, &o, pings, &pid), 0);
	ck_assert(wait_state(h, PROCMGR_STALE, "watchdog", 30));
	/* it pinged for about 0.9 s, so it lived longer than 0.6 s */
	ck_assert_double_gt(tu_now() - t0, 0.9);
	ck_assert(tu_wait_gone(pid, 10));
	procmgr_free(h);
}
END_TEST

/*
 * A server that forks and exits 0 (fake-daemon detach: the parent exits a
 * second later): the one process it leaves is adopted as the daemon, and
 * stop ends that one.
 */
START_TEST(test_adopts_forking_server)
{
	const char *args[] = { NULL, "detach", "pause", NULL };
	struct procmgr_spawn_opts o = { 0 };
	procmgr *h = tu_scratch("forker", NULL);
	struct procmgr_status st;
	pid_t first, adopted = 0;

	ck_assert_int_eq(start_argv(h, &o, args, &first), 0);
	for (int i = 0; i < 1000; i++) {
		ck_assert_int_eq(procmgr_status(h, &st), 0);
		adopted = st.state == PROCMGR_RUNNING && st.pid != first ?
			  st.pid : 0;
		procmgr_status_clear(&st);
		if (adopted)
			break;
		tu_sleep(0.01);
	}
	ck_assert_int_gt(adopted, 0);
	tu_track(adopted);
	ck_assert(tu_wait_gone(first, 10));
	ck_assert_int_eq(procmgr_stop(h, NULL, NULL), 1);
	ck_assert(tu_wait_gone(adopted, 10));
	procmgr_free(h);
}
END_TEST

/* A script that starts three children that ignore SIGTERM, then waits. */
static const char *const term_ignoring_kids[] = {
	"/bin/sh", "-c",
	"for i in 1 2 3; do sh -c 'trap \"\" TERM; exec sleep 1000' & done; "
	"trap 'exit 0' TERM; while :; do sleep 0.05; done", NULL
};

/* The daemon's three live children, once they all run. */
static size_t kids_of(pid_t pid, pid_t **ret)
{
	unsigned long long *starts = NULL;
	size_t n = 0;

	for (int i = 0; i < 1000; i++) {
		free(*ret);
		free(starts);
		*ret = NULL;
		starts = NULL;
		ck_assert_int_eq(pm_tree(pid, ret, &starts, &n), 0);
		/* the three sleeps, beside the loop's own sleep 0.05 */
		size_t sleeps = 0;

		for (size_t k = 0; k < n; k++) {
			char *a = NULL;

			if (pm_proc_argv0((*ret)[k], &a) == 0 &&
			    status_num((*ret)[k], "SigIgn:") != 0)
				sleeps++;
			free(a);
		}
		if (sleeps >= 3)
			break;
		tu_sleep(0.01);
	}
	free(starts);
	return n;
}

/*
 * Start term_ignoring_kids as h's daemon and wait for its children,
 * tracked (killed after the test): how many are in its tree.
 */
static size_t start_kids(procmgr *h, pid_t *ret_pid, pid_t **ret_kids)
{
	struct procmgr_spawn_opts o = { 0 };
	size_t n;

	ck_assert_int_eq(start_argv(h, &o, (const char **)term_ignoring_kids,
				    ret_pid), 0);
	n = kids_of(*ret_pid, ret_kids);
	for (size_t i = 0; i < n; i++)
		tu_track((*ret_kids)[i]);
	return n;
}

START_TEST(test_stop_takes_the_tree)
{
	const int chain[] = { SIGTERM, SIGKILL };
	struct procmgr_stop_opts so = { .signals = chain, .n_signals = 2,
					.kill_wait = 0.3 };
	procmgr *h = tu_scratch("tree", NULL);
	pid_t pid, *kids = NULL;
	size_t n;
	char *log;

	n = start_kids(h, &pid, &kids);
	ck_assert_uint_ge(n, 3);
	ck_assert_int_eq(procmgr_stop(h, &so, NULL), 1);
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(!procmgr_pid_alive(kids[i]), "pid %d lives",
			      kids[i]);
	log = tu_read_file(procmgr_default_log(h));
	ck_assert_ptr_nonnull(strstr(log, "sent SIGKILL to the rest of "
				     "tree's tree: "));
	free(log);
	free(kids);
	procmgr_free(h);
}
END_TEST

/* --kill-mode process: the daemon alone, as pants does. */
START_TEST(test_kill_mode_process)
{
	struct procmgr_stop_opts so = { .kill_wait = 0.3,
					.kill_mode = PROCMGR_KILL_PROCESS };
	procmgr *h = tu_scratch("solo", NULL);
	pid_t pid, *kids = NULL;
	size_t n, alive = 0;

	n = start_kids(h, &pid, &kids);
	ck_assert_int_eq(procmgr_stop(h, &so, NULL), 1);
	ck_assert(tu_wait_gone(pid, 10));
	for (size_t i = 0; i < n; i++)
		alive += procmgr_pid_alive(kids[i]) == 1;
	ck_assert_uint_ge(alive, 3);
	free(kids);
	procmgr_free(h);
}
END_TEST

/* A stopped (SIGSTOP) daemon gets SIGCONT after TERM, so TERM works. */
START_TEST(test_stopped_daemon_gets_cont)
{
	char *argv[] = { NULL, (char *)"--exit-on-term", NULL };
	struct procmgr_spawn_opts o = { 0 };
	const int chain[] = { SIGTERM, SIGKILL };
	struct procmgr_stop_opts so = { .signals = chain, .n_signals = 2,
					.kill_wait = 60 };
	procmgr *h = tu_scratch("frozen", NULL);
	pid_t pid;
	double t0;

	argv[0] = tu_helper("pm-sleeper");
	o.argv = argv;
	ck_assert_int_eq(procmgr_start(h, &o, &pid), 0);
	track_daemon(pid);
	ck_assert_int_eq(kill(pid, SIGSTOP), 0);
	t0 = tu_now();
	ck_assert_int_eq(procmgr_stop(h, &so, NULL), 1);
	/* well before the 60 s a KILL would have waited for */
	ck_assert_double_lt(tu_now() - t0, 30);
	free(argv[0]);
	procmgr_free(h);
}
END_TEST

/* ensure restarts a tree over max_rss, and keeps one within it. */
START_TEST(test_max_rss)
{
	char *argv[] = { daemon_path, (char *)"pause", NULL };
	struct procmgr_spawn_opts o = { .argv = argv, .max_rss = 1 };
	procmgr *h = tu_scratch("fat", NULL);
	char *reason = NULL;
	uint64_t rss;
	pid_t pid, again;

	ck_assert_int_eq(procmgr_ensure(h, &o, &pid, NULL), 2);
	track_daemon(pid);
	ck_assert_int_eq(procmgr_tree_rss(h, &rss), 0);
	ck_assert_uint_gt(rss, 4096);
	ck_assert_int_eq(procmgr_ensure(h, &o, &again, &reason), 1);
	track_daemon(again);
	ck_assert_int_ne(again, pid);
	ck_assert_msg(!strncmp(reason, "memory ", 7) &&
		      strstr(reason, " over --max-rss 1 B"), "%s", reason);
	free(reason);
	reason = NULL;
	o.max_rss = 1ULL << 40;
	ck_assert_int_eq(procmgr_ensure(h, &o, &pid, &reason), 0);
	ck_assert_int_eq(pid, again);
	ck_assert_ptr_null(reason);
	ck_assert_int_eq(procmgr_stop(h, NULL, NULL), 1);
	ck_assert_int_eq(procmgr_tree_rss(h, &rss), -ESRCH);
	procmgr_free(h);
}
END_TEST

/* Left running after a readiness timeout: not ready; ensure restarts it. */
START_TEST(test_not_ready_is_restarted)
{
	char *argv[] = { daemon_path, (char *)"pause", NULL };
	struct procmgr_spawn_opts o = { .argv = argv, .ready_timeout = 0.3,
					.ready = { PROCMGR_READY_NOTIFY } };
	procmgr *h = tu_scratch("slow", NULL);
	struct procmgr_status st;
	char *reason = NULL;
	pid_t pid, again;

	ck_assert_int_eq(procmgr_start(h, &o, &pid), -ETIMEDOUT);
	ck_assert_int_eq(procmgr_status(h, &st), 0);
	ck_assert_int_eq(st.state, PROCMGR_RUNNING);
	ck_assert(!st.ready);
	track_daemon(st.pid);
	procmgr_status_clear(&st);
	o.ready.kind = PROCMGR_READY_EXEC;
	ck_assert_int_eq(procmgr_ensure(h, &o, &again, &reason), 1);
	track_daemon(again);
	ck_assert_str_eq(reason, "not ready");
	free(reason);
	ck_assert_int_eq(procmgr_status(h, &st), 0);
	ck_assert(st.ready);
	ck_assert_int_gt(st.monitor, 1);
	procmgr_status_clear(&st);
	ck_assert_int_eq(procmgr_stop(h, NULL, NULL), 1);
	procmgr_free(h);
}
END_TEST

/* Every monitor of ours is found through its command line. */
START_TEST(test_monitors)
{
	const char *args[] = { NULL, "pause", NULL };
	struct procmgr_spawn_opts o = { 0 };
	struct procmgr_monitor *v = NULL;
	procmgr *a = tu_scratch("alpha", NULL), *b = tu_scratch("beta", NULL);
	size_t n = 0, found = 0;
	pid_t pa, pb;

	ck_assert_int_eq(start_argv(a, &o, args, &pa), 0);
	ck_assert_int_eq(start_argv(b, &o, args, &pb), 0);
	ck_assert_int_eq(procmgr_monitors(&v, &n), 0);
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			ck_assert_int_le(strcmp(v[i - 1].dir, v[i].dir), 0);
		if (!strcmp(v[i].dir, procmgr_get_dir(a)) &&
		    !strcmp(v[i].name, "alpha") && v[i].pid == ppid_of(pa))
			found++;
		if (!strcmp(v[i].dir, procmgr_get_dir(b)) &&
		    !strcmp(v[i].name, "beta") && v[i].pid == ppid_of(pb))
			found++;
	}
	ck_assert_uint_eq(found, 2);
	procmgr_monitors_free(v, n);
	procmgr_monitors_free(NULL, 0);
	procmgr_free(a);
	procmgr_free(b);
}
END_TEST

struct waits {
	char seen[8][256];
	int n, ends;
};

static void on_wait(procmgr *h, const char *what, void *userdata)
{
	struct waits *w = userdata;

	(void)h;
	if (!what)
		w->ends++;
	else if (w->n < 8)
		snprintf(w->seen[w->n++], sizeof(w->seen[0]), "%s", what);
}

/* The wait callback hears each wait begin and end. */
START_TEST(test_wait_callback)
{
	const char *args[] = { NULL, "sleep=0.2", "notify=READY=1", "pause",
			       NULL };
	struct procmgr_spawn_opts o = { .ready = { PROCMGR_READY_NOTIFY } };
	procmgr *h = tu_scratch("patient", NULL);
	struct waits w = { 0 };

	procmgr_set_wait_fn(h, on_wait, &w);
	procmgr_set_wait_fn(NULL, on_wait, &w);	/* harmless */
	ck_assert_int_eq(start_argv(h, &o, args, NULL), 0);
	ck_assert_int_ge(w.n, 1);
	ck_assert_str_eq(w.seen[0], "patient to be ready (notify)");
	ck_assert_int_eq(w.ends, w.n);
	ck_assert_int_eq(procmgr_stop(h, NULL, NULL), 1);
	ck_assert_int_ge(w.n, 2);
	ck_assert_msg(strstr(w.seen[w.n - 1], "to exit after SIGTERM"), "%s",
		      w.seen[w.n - 1]);
	procmgr_free(h);
}
END_TEST

/* ---- cancellable waits (SPEC §6) ----------------------------------- */

static void on_alarm(int sig)
{
	(void)sig;
}

/*
 * SIGALRM after `after` s, then every 0.2 s until interrupt_off(): on a
 * loaded machine the first may land before the wait has begun, where no
 * system call is there to interrupt.
 */
static void interrupt_in(double after)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct itimerval it = {
		.it_value = { .tv_sec = (time_t)after, .tv_usec =
			(suseconds_t)((after - (double)(time_t)after) * 1e6) },
		.it_interval = { .tv_usec = 200000 } };

	sigemptyset(&sa.sa_mask);	/* no SA_RESTART */
	ck_assert_int_eq(sigaction(SIGALRM, &sa, NULL), 0);
	ck_assert_int_eq(setitimer(ITIMER_REAL, &it, NULL), 0);
}

static void interrupt_off(void)
{
	ck_assert_int_eq(setitimer(ITIMER_REAL, &(struct itimerval){ 0 },
				   NULL), 0);
}

/* The lock is free: another handle takes it at once. */
static void lock_is_free(const char *dir, const char *name)
{
	procmgr *o = tu_open(dir, name);

	procmgr_set_lock_wait(o, 0, NULL, NULL);
	ck_assert_msg(procmgr_lock(o) == 0, "%s", procmgr_errmsg(o));
	procmgr_free(o);
}

/* Readiness: -EINTR, the lock released, the daemon recorded whole. */
START_TEST(test_start_interrupted)
{
	const char *args[] = { NULL, "pause", NULL };
	struct procmgr_spawn_opts o = { .ready = { PROCMGR_READY_NOTIFY },
					.ready_timeout = -1 };
	struct procmgr_status st;
	char *dir;
	procmgr *h = tu_scratch("cancel", &dir);

	interrupt_in(0.3);
	ck_assert_int_eq(start_argv(h, &o, args, NULL), -EINTR);
	interrupt_off();
	ck_assert_msg(strstr(procmgr_errmsg(h), "interrupted"), "%s",
		      procmgr_errmsg(h));
	lock_is_free(dir, "cancel");
	ck_assert_int_eq(procmgr_status(h, &st), 0);
	ck_assert_int_eq(st.state, PROCMGR_RUNNING);
	ck_assert(!st.ready);
	track_daemon(st.pid);
	procmgr_status_clear(&st);
	ck_assert_int_eq(procmgr_stop(h, NULL, NULL), 1);
	free(dir);
	procmgr_free(h);
}
END_TEST

/* The lock wait, await and the kill chain return -EINTR too. */
START_TEST(test_waits_interrupted)
{
	struct procmgr_spawn_opts o = { 0 };
	const int term[] = { SIGTERM };
	struct procmgr_stop_opts so = { .signals = term, .n_signals = 1,
					.kill_wait = 60 };
	/* ready (fd 3) once TERM is ignored: a TERM sent sooner would end it */
	char *dir, *v = NULL, *ign[] = { (char *)"/bin/sh", (char *)"-c",
					 (char *)"trap '' TERM; echo >&3; "
						 "exec sleep 1000 3>&-",
					 NULL };
	procmgr *h = tu_scratch("waits", &dir), *holder = tu_open(dir, "waits");
	pid_t pid;

	ck_assert_int_eq(procmgr_lock(holder), 0);
	interrupt_in(0.2);
	ck_assert_int_eq(procmgr_lock(h), -EINTR);
	interrupt_off();
	ck_assert_int_eq(procmgr_lock_held(h), 0);
	ck_assert_int_eq(procmgr_unlock(holder), 0);
	interrupt_in(0.2);
	ck_assert_int_eq(procmgr_await(h, "never", 60, &v), -EINTR);
	interrupt_off();
	o.argv = ign;
	o.ready = (struct procmgr_ready){ .kind = PROCMGR_READY_FD, .fd = 3 };
	ck_assert_int_eq(procmgr_start(h, &o, &pid), 0);
	track_daemon(pid);
	interrupt_in(0.3);
	ck_assert_int_eq(procmgr_stop(h, &so, NULL), -EINTR);
	interrupt_off();
	lock_is_free(dir, "waits");
	ck_assert(procmgr_pid_alive(pid));	/* TERM ignored, stop cancelled */
	ck_assert_ptr_null(tu_key(h, "stopping"));
	ck_assert_int_eq(procmgr_stop(h, NULL, NULL), 1);
	free(dir);
	procmgr_free(holder);
	procmgr_free(h);
}
END_TEST

/*
 * A readable cancel fd (a signal handler's self-pipe) ends every wait at
 * once, even one that begins after the byte was written - the race a
 * signal handler alone cannot close.
 */
START_TEST(test_cancel_fd)
{
	/* ready (fd 3) once TERM is ignored: a TERM sent sooner would end it */
	char *argv[] = { (char *)"/bin/sh", (char *)"-c",
			 (char *)"trap '' TERM; echo >&3; exec sleep 1000 3>&-",
			 NULL };
	struct procmgr_spawn_opts o = {
		.argv = argv,
		.ready = { .kind = PROCMGR_READY_FD, .fd = 3 },
	};
	const int term[] = { SIGTERM };
	struct procmgr_stop_opts so = { .signals = term, .n_signals = 1,
					.kill_wait = 60 };
	char *dir, *v = NULL;
	procmgr *h = tu_scratch("cancel", &dir);
	procmgr *holder = tu_open(dir, "cancel");
	int p[2];
	pid_t pid;

	ck_assert_int_eq(procmgr_start(h, &o, &pid), 0);
	track_daemon(pid);
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(write(p[1], "x", 1), 1);	/* before any wait */
	procmgr_set_cancel_fd(h, p[0]);
	procmgr_set_cancel_fd(NULL, p[0]);	/* harmless */
	ck_assert_int_eq(procmgr_await(h, "never", 60, &v), -EINTR);
	ck_assert_int_eq(procmgr_stop(h, &so, NULL), -EINTR);
	ck_assert(procmgr_pid_alive(pid));
	ck_assert_int_eq(procmgr_lock(holder), 0);
	ck_assert_int_eq(procmgr_lock(h), -EINTR);
	ck_assert_int_eq(procmgr_unlock(holder), 0);
	o.ready.kind = PROCMGR_READY_NOTIFY;
	ck_assert_int_eq(procmgr_restart(h, &o, &pid), -EINTR);
	track_daemon(pid);
	/* emptied: the waits wait again */
	procmgr_set_cancel_fd(h, -1);
	ck_assert_int_eq(procmgr_stop(h, NULL, NULL), 1);
	close(p[0]);
	close(p[1]);
	free(dir);
	procmgr_free(holder);
	procmgr_free(h);
}
END_TEST

/* ---- the monitor is not a copy of a big caller (SPEC §6) ----------- */

struct big_start {
	char *dir;
	char *daemon;
	int w;
};

static void big_caller(void *arg)
{
	struct big_start *b = arg;
	size_t len = 256u << 20;
	char *mem = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *argv[] = { b->daemon, (char *)"pause", NULL };
	struct procmgr_spawn_opts o = { .argv = argv };
	procmgr *h = procmgr_new();
	pid_t pid = 0;

	if (mem == MAP_FAILED || !h || procmgr_open(h, b->dir, "big") < 0)
		_exit(1);
	memset(mem, 1, len);	/* resident: 256 MiB of RssAnon */
	if (procmgr_start(h, &o, &pid) < 0)
		_exit(2);
	if (write(b->w, &pid, sizeof(pid)) != (ssize_t)sizeof(pid))
		_exit(3);
	for (;;)
		pause();	/* the caller lives on, big */
}

START_TEST(test_monitor_of_big_caller)
{
	struct big_start b = { .daemon = daemon_path };
	procmgr *h = tu_scratch("big", &b.dir);
	pid_t caller, pid, mon;
	int p[2];

	ck_assert_int_eq(pipe(p), 0);
	b.w = p[1];
	caller = tu_fork(big_caller, &b);
	ck_assert_int_eq(read(p[0], &pid, sizeof(pid)), (ssize_t)sizeof(pid));
	mon = track_daemon(pid);
	ck_assert_int_gt(status_num(caller, "RssAnon:"), 200 * 1024);
#ifndef TU_ASAN
	/* the exec'd monitor owes the caller nothing */
	ck_assert_msg(status_num(mon, "RssAnon:") <= 1024,
		      "monitor RssAnon %ld kB", status_num(mon, "RssAnon:"));
#endif
	ck_assert_int_gt(status_num(mon, "RssAnon:"), 0);
	tu_kill(caller);
	ck_assert_int_eq(procmgr_stop(h, NULL, NULL), 1);
	close(p[0]);
	close(p[1]);
	free(b.dir);
	procmgr_free(h);
}
END_TEST

/*
 * Interrupted while the rest of the tree is waited for (the daemon itself
 * died on TERM, its children ignore it): -EINTR, the metadata kept, the
 * children left as they are, the lock free.
 */
START_TEST(test_stop_rest_interrupted)
{
	struct procmgr_stop_opts so = { .kill_wait = 60 };
	char *dir;
	procmgr *h = tu_scratch("rest", &dir);
	pid_t pid, *kids = NULL;
	size_t n, alive = 0;

	n = start_kids(h, &pid, &kids);
	interrupt_in(1.0);
	ck_assert_int_eq(procmgr_stop(h, &so, NULL), -EINTR);
	interrupt_off();
	ck_assert_msg(strstr(procmgr_errmsg(h), "interrupted while stopping"),
		      "%s", procmgr_errmsg(h));
	ck_assert(tu_wait_gone(pid, 10));
	for (size_t i = 0; i < n; i++)
		alive += procmgr_pid_alive(kids[i]) == 1;
	ck_assert_uint_ge(alive, 3);
	ck_assert(tu_exists(tu_path(procmgr_meta_dir(h), "pid")));
	lock_is_free(dir, "rest");
	free(kids);
	free(dir);
	procmgr_free(h);
}
END_TEST

/*
 * Out of file descriptors, listing the monitors is an error (/proc cannot
 * be read), not an empty list that would say none runs.
 */
START_TEST(test_monitors_out_of_fds)
{
	struct rlimit rl = { 32, 32 };
	struct procmgr_monitor *v = NULL;
	int fill[32], k = 0, r;
	size_t n = 7;

	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	while (k < 32 && (fill[k] = dup(0)) >= 0)
		k++;
	ck_assert_int_eq(errno, EMFILE);
	r = procmgr_monitors(&v, &n);
	/* fds again, for the coverage data written at exit */
	while (k > 0)
		close(fill[--k]);
	ck_assert_int_eq(r, -EMFILE);
	ck_assert_ptr_null(v);
	ck_assert_uint_eq(n, 7);
}
END_TEST

/* A handle that was never opened: -EINVAL, nothing sent or read. */
START_TEST(test_touch_and_rss_not_open)
{
	procmgr *h = procmgr_new();
	uint64_t rss = 42;

	ck_assert_ptr_nonnull(h);
	ck_assert_int_eq(procmgr_touch(h), -EINVAL);
	ck_assert_int_eq(procmgr_tree_rss(h, &rss), -EINVAL);
	ck_assert(rss == 42);
	ck_assert_int_eq(procmgr_touch(NULL), -EINVAL);
	procmgr_free(h);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("supervise");
	TCase *tc = tcase_create("supervise");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, test_restart_words);
	tcase_add_test(tc, test_sizes);
	tcase_add_test(tc, test_crash_loop_gives_up);
	tcase_add_test(tc, test_policies);
	tcase_add_test(tc, test_stop_during_backoff);
	tcase_add_test(tc, test_idle);
	tcase_add_test(tc, test_idle_with_client);
	tcase_add_test(tc, test_watchdog);
	tcase_add_test(tc, test_adopts_forking_server);
	tcase_add_test(tc, test_stop_takes_the_tree);
	tcase_add_test(tc, test_kill_mode_process);
	tcase_add_test(tc, test_stopped_daemon_gets_cont);
	tcase_add_test(tc, test_max_rss);
	tcase_add_test(tc, test_not_ready_is_restarted);
	tcase_add_test(tc, test_monitors);
	tcase_add_test(tc, test_wait_callback);
	tcase_add_test(tc, test_start_interrupted);
	tcase_add_test(tc, test_waits_interrupted);
	tcase_add_test(tc, test_cancel_fd);
	tcase_add_test(tc, test_monitor_of_big_caller);
	tcase_add_test(tc, test_stop_rest_interrupted);
	tcase_add_test(tc, test_monitors_out_of_fds);
	tcase_add_test(tc, test_touch_and_rss_not_open);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(suite());
}
