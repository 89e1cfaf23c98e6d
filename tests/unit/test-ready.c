/*
 * test-ready.c - readiness modes against real fake daemons: parsing, each
 * protocol, death before ready, timeouts and who may say READY=1.
 */
#include "spawned.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

static char *daemon_path;

static void setup(void)
{
	daemon_path = tu_helper("fake-daemon");
}

static void teardown(void)
{
	free(daemon_path);
}

static int start(procmgr *h, struct procmgr_spawn_opts *o,
		 const char *mode, const char **actions, pid_t *ret_pid)
{
	char *argv[16] = { daemon_path };
	size_t n = 1;
	pid_t pid = 0;
	int r;

	for (; actions && *actions; actions++)
		argv[n++] = (char *)*actions;
	o->argv = argv;
	if (mode)
		ck_assert_int_eq(procmgr_ready_parse(mode, &o->ready), 0);
	r = procmgr_start(h, o, &pid);
	if (r == 0) {
		/* MAINPID: the first process and then the monitor. */
		pid_t p = track_daemon(pid), gp = p > 1 ? ppid_of(p) : 0;

		if (gp > 1 && gp != getpid())
			tu_track(gp);
	}
	if (ret_pid)
		*ret_pid = pid;
	procmgr_ready_clear(&o->ready);
	o->argv = NULL;
	return r;
}

START_TEST(test_parse)
{
	struct procmgr_ready r;

	ck_assert_int_eq(procmgr_ready_parse("exec", &r), 0);
	ck_assert_int_eq(r.kind, PROCMGR_READY_EXEC);
	ck_assert_int_eq(procmgr_ready_parse("socket", &r), 0);
	ck_assert_int_eq(r.kind, PROCMGR_READY_SOCKET);
	ck_assert_int_eq(procmgr_ready_parse("notify", &r), 0);
	ck_assert_int_eq(r.kind, PROCMGR_READY_NOTIFY);
	ck_assert_int_eq(procmgr_ready_parse("fd:3", &r), 0);
	ck_assert_int_eq(r.kind, PROCMGR_READY_FD);
	ck_assert_int_eq(r.fd, 3);
	ck_assert_int_eq(procmgr_ready_parse("tcp:8080", &r), 0);
	ck_assert_int_eq(r.kind, PROCMGR_READY_TCP);
	ck_assert_int_eq(r.port, 8080);
	ck_assert_int_eq(procmgr_ready_parse("unix:/tmp/s", &r), 0);
	ck_assert_int_eq(r.kind, PROCMGR_READY_UNIX);
	ck_assert_str_eq(r.path, "/tmp/s");
	procmgr_ready_clear(&r);
	ck_assert_ptr_null(r.path);
	procmgr_ready_clear(NULL);
	const char *bad[] = { "", "Exec", "fd:", "fd:2", "fd:x", "fd:-3",
			      "fd:3x", "tcp:0", "tcp:65536", "tcp: 80",
			      "tcp:+80", "unix:", "wait", NULL };
	for (const char **b = bad; *b; b++)
		ck_assert_msg(procmgr_ready_parse(*b, &r) == -EINVAL, "%s", *b);
	char longpath[200];

	memset(longpath, 'a', sizeof(longpath));
	memcpy(longpath, "unix:", 5);
	longpath[sizeof(longpath) - 1] = '\0';
	ck_assert_int_eq(procmgr_ready_parse(longpath, &r), -EINVAL);
	ck_assert_int_eq(procmgr_ready_parse(NULL, &r), -EINVAL);
}
END_TEST

START_TEST(test_socket_key)
{
	const char *acts[] = { "sleep=0.3", "key=socket=1234", "pause", NULL };
	struct procmgr_spawn_opts o = { 0 };
	procmgr *h = tu_scratch("sock", NULL);
	double t0 = tu_now();
	char *v;

	ck_assert_msg(start(h, &o, "socket", acts, NULL) == 0, "%s",
		      procmgr_errmsg(h));
	ck_assert_double_ge(tu_now() - t0, 0.25);
	v = tu_key(h, "socket");
	ck_assert_str_eq(v, "1234");
	free(v);
	procmgr_free(h);
}
END_TEST

START_TEST(test_notify)
{
	const char *acts[] = { "sleep=0.2", "notify=STATUS=warming up\\nPORT=4321",
			       "sleep=0.2", "notify=READY=1", "pause", NULL };
	struct procmgr_spawn_opts o = { 0 };
	procmgr *h = tu_scratch("notif", NULL);
	double t0 = tu_now();
	char *v;

	ck_assert_msg(start(h, &o, "notify", acts, NULL) == 0, "%s",
		      procmgr_errmsg(h));
	ck_assert_double_ge(tu_now() - t0, 0.35);
	v = tu_key(h, "socket");
	ck_assert_str_eq(v, "4321");
	free(v);
	v = tu_key(h, "status_text");
	ck_assert_str_eq(v, "warming up");
	free(v);
	procmgr_free(h);
}
END_TEST

/*
 * A start returns at READY=1 with the rest of its datagram applied: the
 * caller reads the socket it connects to next. Repeated, as the gap it
 * guards against is short.
 */
START_TEST(test_notify_ready_with_port)
{
	const char *acts[] = { "notify=READY=1\\nPORT=4322\\nSTATUS=up",
			       "pause", NULL };
	struct procmgr_spawn_opts o = { 0 };
	procmgr *h = tu_scratch("notif", NULL);
	char *v;

	for (int i = 0; i < 20; i++) {
		ck_assert_msg(start(h, &o, "notify", acts, NULL) == 0, "%s",
			      procmgr_errmsg(h));
		v = tu_key(h, "socket");
		ck_assert_msg(v && !strcmp(v, "4322"), "round %d: socket %s",
			      i, v ? v : "(none)");
		free(v);
		v = tu_key(h, "status_text");
		ck_assert_msg(v && !strcmp(v, "up"), "round %d: status %s", i,
			      v ? v : "(none)");
		free(v);
		ck_assert_int_eq(procmgr_stop(h, NULL, NULL), 1);
	}
	procmgr_free(h);
}
END_TEST

START_TEST(test_notify_mainpid)
{
	const char *acts[] = { "detach", "notify=MAINPID=%p\\nSOCKET=/run/x"
			       "\\nREADY=1", "pause", NULL };
	struct procmgr_spawn_opts o = { 0 };
	procmgr *h = tu_scratch("mainpid", NULL);
	struct procmgr_status st = { 0 };
	pid_t pid, first;
	char *v;

	ck_assert_msg(start(h, &o, "notify", acts, &pid) == 0, "%s",
		      procmgr_errmsg(h));
	first = ppid_of(pid);
	ck_assert_int_ne(first, getpid());
	v = tu_key(h, "socket");
	ck_assert_str_eq(v, "/run/x");
	free(v);
	ck_assert_int_eq(procmgr_status(h, &st), 0);
	ck_assert_int_eq(st.state, PROCMGR_RUNNING);
	ck_assert_int_eq(st.pid, pid);
	procmgr_status_clear(&st);
	/* the adopted process's own pidfd inode, not the first one's */
	{
		char want[32];

		v = tu_key(h, "pidfd_ino");
		if (pidfd_ino_of(pid, want, sizeof(want)))
			ck_assert_str_eq(v, want);
		free(v);
	}
	/* The first process exits; the monitor must not record it. */
	ck_assert(tu_wait_gone(first, 10));
	usleep(200000);
	ck_assert_ptr_null(tu_key(h, "exit"));
	procmgr_free(h);
}
END_TEST

START_TEST(test_notify_mainpid_dies)
{
	const char *acts[] = { "detach", "notify=MAINPID=%p", "sleep=0.2",
			       "exit=4", NULL };
	struct procmgr_spawn_opts o = { 0 };
	procmgr *h = tu_scratch("mpdie", NULL);
	double t0 = tu_now();

	ck_assert_int_eq(start(h, &o, "notify", acts, NULL), -ECHILD);
	ck_assert_double_lt(tu_now() - t0, 10);
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h), "died before"));
	procmgr_free(h);
}
END_TEST

/* A process of another uid that knows the address is not believed. */
static void spoof(void *arg)
{
	const char *flag = arg;

	for (int i = 0; i < 2000; i++) {
		DIR *d = opendir("/proc");
		struct dirent *de;

		while (d && (de = readdir(d))) {
			char path[300], *env, *p;
			size_t n;
			FILE *f;

			snprintf(path, sizeof(path), "/proc/%s/environ",
				 de->d_name);
			f = fopen(path, "re");
			if (!f)
				continue;
			env = calloc(1, 65536);
			n = fread(env, 1, 65535, f);
			fclose(f);
			bool ours = false;
			char *addr = NULL;

			for (p = env; p < env + n; p += strlen(p) + 1) {
				if (!strcmp(p, "PROCMGR_NAME=spoofed"))
					ours = true;
				if (!strncmp(p, "NOTIFY_SOCKET=", 14))
					addr = p + 14;
			}
			if (ours && addr) {
				struct sockaddr_un sa = { .sun_family = AF_UNIX };
				int fd;

				snprintf(sa.sun_path, sizeof(sa.sun_path), "%s",
					 addr);
				sa.sun_path[0] = '\0';
				if (setresgid(65534, 65534, 65534) < 0 ||
				    setresuid(65534, 65534, 65534) < 0)
					_exit(2);
				fd = socket(AF_UNIX, SOCK_DGRAM, 0);
				if (sendto(fd, "READY=1", 7, 0,
					   (struct sockaddr *)&sa,
					   (socklen_t)(offsetof(struct sockaddr_un,
								sun_path) +
						       strlen(addr))) == 7)
					tu_write_file(flag, "sent", 4);
				_exit(0);
			}
			free(env);
		}
		if (d)
			closedir(d);
		usleep(5000);
	}
	_exit(1);
}

START_TEST(test_notify_foreign_uid_ignored)
{
	const char *acts[] = { "sleep=1.5", "notify=READY=1", "pause", NULL };
	struct procmgr_spawn_opts o = { 0 };
	char *dir, *flag = NULL;
	procmgr *h;
	double t0;
	char *s;

	if (getuid() != 0)
		tu_skip("needs root to become another uid");
	dir = tu_tmpdir();
	h = tu_scratch("spoofed", NULL);
	ck_assert_int_ge(asprintf(&flag, "%s/flag", dir), 0);
	chmod(dir, 0777);
	tu_fork(spoof, flag);
	t0 = tu_now();
	ck_assert_int_eq(start(h, &o, "notify", acts, NULL), 0);
	s = tu_read_file(flag);
	ck_assert_ptr_nonnull(s);	/* the spoofer did send */
	free(s);
	ck_assert_double_ge(tu_now() - t0, 1.4);
	free(flag);
	free(dir);
	procmgr_free(h);
}
END_TEST

START_TEST(test_fd)
{
	const char *acts[] = { "sleep=0.2", "fd=5", "pause", NULL };
	const char *bad[] = { "fdbad=5", "pause", NULL };
	struct procmgr_spawn_opts o = { 0 };
	procmgr *h = tu_scratch("fdn", NULL);
	char path[64];
	struct stat st;
	pid_t pid;

	ck_assert_msg(start(h, &o, "fd:5", acts, &pid) == 0, "%s",
		      procmgr_errmsg(h));
	snprintf(path, sizeof(path), "/proc/%d/fd/5", (int)pid);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert(S_ISFIFO(st.st_mode));
	ck_assert_int_eq(procmgr_stop(h, NULL, NULL), 1);
	/* EOF without a newline: it will never be ready. */
	ck_assert_int_eq(start(h, &o, "fd:5", bad, &pid), -EPROTO);
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h), "fd 5"));
	ck_assert_int_eq(procmgr_stop(h, NULL, NULL), 1);
	procmgr_free(h);
}
END_TEST

START_TEST(test_tcp_and_unix)
{
	char tcp[32], mode[32], *dir, *upath = NULL, *umode = NULL, *uact = NULL;
	struct procmgr_spawn_opts o = { 0 };
	procmgr *h = tu_scratch("conn", &dir);
	int port = free_tcp_port();

	snprintf(tcp, sizeof(tcp), "tcp=%d", port);
	snprintf(mode, sizeof(mode), "tcp:%d", port);
	const char *acts[] = { "sleep=0.3", tcp, "pause", NULL };

	ck_assert_msg(start(h, &o, mode, acts, NULL) == 0, "%s",
		      procmgr_errmsg(h));
	ck_assert_int_eq(procmgr_stop(h, NULL, NULL), 1);
	ck_assert_int_ge(asprintf(&upath, "%s/s.sock", dir), 0);
	ck_assert_int_ge(asprintf(&umode, "unix:%s", upath), 0);
	ck_assert_int_ge(asprintf(&uact, "unix=%s", upath), 0);
	const char *uacts[] = { "sleep=0.3", uact, "pause", NULL };

	ck_assert_msg(start(h, &o, umode, uacts, NULL) == 0, "%s",
		      procmgr_errmsg(h));
	free(upath);
	free(umode);
	free(uact);
	free(dir);
	procmgr_free(h);
}
END_TEST

START_TEST(test_death_before_ready)
{
	const char *acts[] = { "sleep=0.2", "say=oops, config broken",
			       "exit=7", NULL };
	const char *sig[] = { "sleep=0.2", "raise=9", NULL };
	struct procmgr_spawn_opts o = { 0 };
	procmgr *h = tu_scratch("dies", NULL);
	double t0 = tu_now();
	char *v, *tail = NULL;

	ck_assert_int_eq(start(h, &o, "socket", acts, NULL), -ECHILD);
	/* At once, not after the 60 s readiness timeout. */
	ck_assert_double_lt(tu_now() - t0, 10);
	ck_assert_msg(strstr(procmgr_errmsg(h), "status=7"), "%s",
		      procmgr_errmsg(h));
	v = tu_key(h, "exit");
	ck_assert_msg(v && !strncmp(v, "status=7 at=", 12), "%s", v);
	free(v);
	ck_assert_int_eq(procmgr_log_tail(h, 20, &tail), 0);
	ck_assert_ptr_nonnull(strstr(tail, "oops, config broken"));
	free(tail);
	ck_assert_int_eq(start(h, &o, "fd:4", sig, NULL), -ECHILD);
	ck_assert_msg(strstr(procmgr_errmsg(h), "signal=KILL"), "%s",
		      procmgr_errmsg(h));
	ck_assert_int_eq(start(h, &o, "notify", sig, NULL), -ECHILD);
	ck_assert_int_eq(start(h, &o, "tcp:1", sig, NULL), -ECHILD);
	procmgr_free(h);
}
END_TEST

START_TEST(test_timeout)
{
	const char *acts[] = { "pause", NULL };
	struct procmgr_spawn_opts o = { .ready_timeout = 0.5 };
	procmgr *h = tu_scratch("slow", NULL);
	struct procmgr_status st = { 0 };
	pid_t pid = 0;
	double t0 = tu_now();

	ck_assert_int_eq(start(h, &o, "socket", acts, &pid), -ETIMEDOUT);
	ck_assert_double_ge(tu_now() - t0, 0.45);
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h), "not ready"));
	/* Left running. */
	ck_assert_int_eq(procmgr_status(h, &st), 0);
	ck_assert_int_eq(st.state, PROCMGR_RUNNING);
	pid = st.pid;
	track_daemon(pid);
	procmgr_status_clear(&st);
	ck_assert_int_eq(procmgr_stop(h, NULL, NULL), 1);
	/* kill_on_timeout stops it. */
	o.kill_on_timeout = true;
	ck_assert_int_eq(start(h, &o, "socket", acts, &pid), -ETIMEDOUT);
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h), "not ready"));
	ck_assert_int_eq(procmgr_status(h, &st), 0);
	ck_assert_int_ne(st.state, PROCMGR_RUNNING);
	procmgr_status_clear(&st);
	procmgr_free(h);
}
END_TEST

START_TEST(test_notify_bad_mainpid_ignored)
{
	const char *acts[] = { "notify=MAINPID=1\\nREADY=1", "pause", NULL };
	struct procmgr_spawn_opts o = { 0 };
	procmgr *h = tu_scratch("badmain", NULL);
	pid_t pid;
	char *v, want[16];

	ck_assert_int_eq(start(h, &o, "notify", acts, &pid), 0);
	snprintf(want, sizeof(want), "%d", (int)pid);
	v = tu_key(h, "pid");
	ck_assert_str_eq(v, want);
	free(v);
	procmgr_free(h);
}
END_TEST

/* In a tu_fork()ed child: the pid NAME in dir records, once it does. */
static pid_t awaited_pid(const char *dir, const char *name)
{
	procmgr *h = procmgr_new();
	char *v = NULL;

	if (!h || procmgr_open(h, dir, name) < 0 ||
	    procmgr_await(h, "pid", 20, &v) < 0)
		_exit(1);
	return atoi(v);
}

/* Kill the monitor of NAME "orphan" in dir as soon as its daemon runs. */
static void kill_monitor(void *arg)
{
	kill(ppid_of(awaited_pid(arg, "orphan")), SIGKILL);
	_exit(0);
}

/*
 * The monitor killed while the starter waits for its answer: the starter
 * hears at once that no answer will come, and whether the daemon runs on.
 */
START_TEST(test_monitor_killed_while_waiting)
{
	const char *acts[] = { "pause", NULL };
	struct procmgr_spawn_opts o = { 0 };
	char *dir;
	procmgr *h = tu_scratch("orphan", &dir);
	double t0 = tu_now();

	tu_fork(kill_monitor, dir);
	ck_assert_int_eq(start(h, &o, "socket", acts, NULL), -EIO);
	ck_assert_double_lt(tu_now() - t0, 10);
	ck_assert_msg(strstr(procmgr_errmsg(h), "without saying") &&
		      strstr(procmgr_errmsg(h), "runs on"), "%s",
		      procmgr_errmsg(h));
	{
		char *v = tu_key(h, "pid");

		ck_assert_ptr_nonnull(v);
		tu_track(atoi(v));	/* ours to kill: it has no monitor */
		free(v);
	}
	free(dir);
	procmgr_free(h);
}
END_TEST

/*
 * pants writes the socket key in place: the file exists, empty, before
 * the port is in it. Empty is not ready.
 */
START_TEST(test_socket_key_empty_first)
{
	const char *acts[] = { "key=socket=", "sleep=0.5", "key=socket=4242",
			       "pause", NULL };
	struct procmgr_spawn_opts o = { 0 };
	procmgr *h = tu_scratch("sockempty", NULL);
	double t0 = tu_now();
	char *v;

	ck_assert_msg(start(h, &o, "socket", acts, NULL) == 0, "%s",
		      procmgr_errmsg(h));
	ck_assert_double_ge(tu_now() - t0, 0.45);
	v = tu_key(h, "socket");
	ck_assert_str_eq(v, "4242");
	free(v);
	procmgr_free(h);
}
END_TEST

/*
 * MAINPID= naming a process outside the daemon's session (here another
 * process of ours) is ignored: stop would otherwise signal it.
 */
START_TEST(test_notify_mainpid_outsider_ignored)
{
	const char *sargs[] = { "pause", NULL };
	char act[64], want[16], *v;
	struct procmgr_spawn_opts o = { 0 };
	procmgr *h = tu_scratch("outsider", NULL);
	pid_t outsider = tu_spawn("fake-daemon", sargs), pid;

	snprintf(act, sizeof(act), "notify=MAINPID=%d\\nREADY=1",
		 (int)outsider);
	const char *acts[] = { act, "pause", NULL };

	ck_assert_int_eq(start(h, &o, "notify", acts, &pid), 0);
	ck_assert_int_ne(pid, outsider);
	snprintf(want, sizeof(want), "%d", (int)pid);
	v = tu_key(h, "pid");
	ck_assert_str_eq(v, want);
	free(v);
	ck_assert_int_eq(procmgr_stop(h, NULL, NULL), 1);
	ck_assert_int_eq(procmgr_pid_alive(outsider), 1);
	procmgr_free(h);
}
END_TEST

/* MAINPID= handed on twice: the last one is recorded, as plain digits. */
START_TEST(test_notify_mainpid_twice)
{
	const char *acts[] = { "detach", "notify=MAINPID=%p", "detach",
			       "notify=MAINPID= %p \\nREADY=1", "pause", NULL };
	struct procmgr_spawn_opts o = { 0 };
	procmgr *h = tu_scratch("mptwice", NULL);
	struct procmgr_status st = { 0 };
	char *raw = NULL, want[16];
	size_t len = 0;
	pid_t pid, first;

	ck_assert_msg(start(h, &o, "notify", acts, &pid) == 0, "%s",
		      procmgr_errmsg(h));
	first = ppid_of(pid);
	ck_assert_int_gt(first, 1);
	ck_assert_int_gt(ppid_of(first), 1);
	ck_assert_int_eq(procmgr_read_raw(h, "pid", &raw, &len), 0);
	snprintf(want, sizeof(want), "%d", (int)pid);
	ck_assert_str_eq(raw, want);
	free(raw);
	ck_assert_int_eq(procmgr_status(h, &st), 0);
	ck_assert_int_eq(st.state, PROCMGR_RUNNING);
	procmgr_status_clear(&st);
	procmgr_free(h);
}
END_TEST

/* Kill the whole session of NAME "session" (monitor and daemon). */
static void kill_session(void *arg)
{
	kill(-getpgid(awaited_pid(arg, "session")), SIGKILL);
	_exit(0);
}

/* `kill -9 -- -PGID` of the daemon's group: start returns at once. */
START_TEST(test_session_killed_while_waiting)
{
	const char *acts[] = { "pause", NULL };
	struct procmgr_spawn_opts o = { 0 };
	char *dir;
	procmgr *h = tu_scratch("session", &dir);
	double t0 = tu_now();

	tu_fork(kill_session, dir);
	ck_assert_int_eq(start(h, &o, "socket", acts, NULL), -EIO);
	ck_assert_double_lt(tu_now() - t0, 10);
	ck_assert_msg(strstr(procmgr_errmsg(h), "not running"), "%s",
		      procmgr_errmsg(h));
	free(dir);
	procmgr_free(h);
}
END_TEST

/*
 * No inotify instance left for this user (the monitor runs as that user
 * too): watching is best-effort, so --ready socket still sees the key,
 * by looking for it every 50 ms instead.
 */
START_TEST(test_socket_unwatchable)
{
	const char *acts[] = { "sleep=0.3", "key=socket=4242", "pause", NULL };
	struct procmgr_spawn_opts o = { .ready_timeout = 30 };
	struct procmgr_status st = { 0 };
	procmgr *h;
	double t0;
	int n = 0;

	if (getuid() != 0)
		tu_skip("needs root to become a lone uid");
	h = procmgr_new();
	tu_become_lone_uid(54322);
	/* A DIR of that user's own: its monitor keeps no root powers. */
	ck_assert_int_eq(procmgr_open(h, tu_keep(tu_tmpdir()), "nowatch"), 0);
	while (inotify_init1(IN_CLOEXEC) >= 0)
		ck_assert_int_lt(++n, 100000);
	ck_assert_int_eq(errno, EMFILE);
	t0 = tu_now();
	ck_assert_msg(start(h, &o, "socket", acts, NULL) == 0, "%s",
		      procmgr_errmsg(h));
	ck_assert_double_lt(tu_now() - t0, 10);
	ck_assert_int_eq(procmgr_status(h, &st), 0);
	ck_assert_int_eq(st.state, PROCMGR_RUNNING);
	ck_assert_str_eq(st.socket, "4242");
	track_daemon(st.pid);
	procmgr_status_clear(&st);
	ck_assert_int_eq(procmgr_stop(h, NULL, NULL), 1);
	procmgr_free(h);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("ready");
	TCase *tc = tcase_create("ready");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_parse);
	tcase_add_test(tc, test_socket_key);
	tcase_add_test(tc, test_notify);
	tcase_add_test(tc, test_notify_ready_with_port);
	tcase_add_test(tc, test_notify_mainpid);
	tcase_add_test(tc, test_notify_mainpid_dies);
	tcase_add_test(tc, test_notify_foreign_uid_ignored);
	tcase_add_test(tc, test_fd);
	tcase_add_test(tc, test_tcp_and_unix);
	tcase_add_test(tc, test_death_before_ready);
	tcase_add_test(tc, test_timeout);
	tcase_add_test(tc, test_notify_bad_mainpid_ignored);
	tcase_add_test(tc, test_monitor_killed_while_waiting);
	tcase_add_test(tc, test_socket_key_empty_first);
	tcase_add_test(tc, test_notify_mainpid_outsider_ignored);
	tcase_add_test(tc, test_notify_mainpid_twice);
	tcase_add_test(tc, test_session_killed_while_waiting);
	tcase_add_test(tc, test_socket_unwatchable);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(suite());
}
