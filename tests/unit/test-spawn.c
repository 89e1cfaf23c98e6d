/*
 * test-spawn.c - the fork chain, the daemon's environment, exec failures
 * and the monitor, with real processes inspected through /proc.
 */
#include "spawned.h"
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/stat.h>
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

/* Start fake-daemon with actions; the daemon and monitor are tracked. */
static int start(procmgr *h, struct procmgr_spawn_opts *o,
		 const char **actions, pid_t *ret_pid)
{
	char *argv[16] = { daemon_path };
	size_t n = 1;
	pid_t pid = 0;
	int r;

	for (; actions && *actions; actions++)
		argv[n++] = (char *)*actions;
	o->argv = argv;
	r = procmgr_start(h, o, &pid);
	if (r == 0)
		track_daemon(pid);
	if (ret_pid)
		*ret_pid = pid;
	o->argv = NULL;
	return r;
}

static bool is_proc_file(pid_t pid, int fd)
{
	char path[64], buf[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)pid, fd);
	n = readlink(path, buf, sizeof(buf) - 1);
	return n > 6 && !strncmp(buf, "/proc/", 6);
}

static int count_fds(pid_t pid, int *ret_max)
{
	char path[64];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	ck_assert_ptr_nonnull(d);
	*ret_max = -1;
	while ((de = readdir(d))) {
		int fd;

		if (de->d_name[0] == '.')
			continue;
		fd = atoi(de->d_name);
		/* ASan's runtime in a sanitized helper reads its own maps. */
		if (is_proc_file(pid, fd))
			continue;
		n++;
		if (fd > *ret_max)
			*ret_max = fd;
	}
	closedir(d);
	return n;
}

static char *fd_target(pid_t pid, int fd)
{
	char path[64], buf[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)pid, fd);
	n = readlink(path, buf, sizeof(buf) - 1);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	return strdup(buf);
}

static bool environ_has(pid_t pid, const char *entry)
{
	char path[64];
	char *buf;
	size_t n;
	FILE *f;
	bool found = false;

	snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
	f = fopen(path, "re");
	ck_assert_ptr_nonnull(f);
	buf = calloc(1, 1 << 16);
	n = fread(buf, 1, (1 << 16) - 1, f);
	fclose(f);
	for (size_t i = 0; i < n; i += strlen(buf + i) + 1)
		if (!strncmp(buf + i, entry, strlen(entry)))
			found = true;
	free(buf);
	return found;
}

START_TEST(test_daemon_environment)
{
	char *dir, *t, *cwd = tu_tmpdir();
	char *env[] = { (char *)"CU_EXTRA=42", (char *)"NOTIFY_SOCKET=/dev/null",
			NULL };
	struct procmgr_spawn_opts o = { .cwd = cwd, .env = env };
	const char *acts[] = { "say=up", "pause", NULL };
	procmgr *h = tu_scratch("envy", &dir);
	sigset_t block;
	pid_t pid, mon;
	int max, leak;

	/* State a careless spawn would leak into the daemon. */
	leak = open("/dev/null", O_RDONLY);	/* no O_CLOEXEC on purpose */
	setenv("NOTIFY_SOCKET", "@inherited", 1);
	ck_assert_int_ge(leak, 3);
	signal(SIGUSR1, SIG_IGN);
	{
		/* Also signals glibc reserves (32, 33), as a shell may. */
		static const unsigned long ign[8] = { 1 };	/* SIG_IGN */

		syscall(SYS_rt_sigaction, 33, ign, NULL, (size_t)8);
	}
	sigemptyset(&block);
	sigaddset(&block, SIGUSR2);
	sigprocmask(SIG_BLOCK, &block, NULL);
	ck_assert_msg(start(h, &o, acts, &pid) == 0, "%s", procmgr_errmsg(h));
	mon = ppid_of(pid);
	/* Past the dynamic loader, whose own fds come and go. */
	ck_assert(tu_wait_content(procmgr_default_log(h), "up\n", 10));
	{
		int n = count_fds(pid, &max);
		char *t3 = n > 3 ? fd_target(pid, max) : strdup("");

		ck_assert_msg(n == 3 && max == 2, "%d fds, fd %d: %s", n, max,
			      t3);
		free(t3);
	}
	t = fd_target(pid, 0);
	ck_assert_str_eq(t, "/dev/null");
	free(t);
	t = fd_target(pid, 1);
	ck_assert_str_eq(t, procmgr_default_log(h));
	free(t);
	t = fd_target(pid, 2);
	ck_assert_str_eq(t, procmgr_default_log(h));
	free(t);
	ck_assert_int_eq(status_num(pid, "Umask:"), 022);
	ck_assert_int_eq(status_num(pid, "SigIgn:"), 0);
	ck_assert_int_eq(status_num(pid, "SigBlk:"), 0);
	/* A new session, not ours; the monitor shares it as the parent. */
	ck_assert_int_ne(getsid(pid), getsid(0));
	ck_assert_int_eq(getsid(mon), getsid(pid));
	ck_assert_int_ne(getsid(pid), pid);
	ck_assert_int_ne(mon, getpid());
	ck_assert(environ_has(pid, "CU_EXTRA=42"));
	ck_assert(environ_has(pid, "PROCMGR_NAME=envy"));
	t = NULL;
	ck_assert_int_ge(asprintf(&t, "PROCMGR_DIR=%s", dir), 0);
	ck_assert(environ_has(pid, t));
	free(t);
	/*
	 * NOTIFY_SOCKET is the monitor's, in every readiness mode (it
	 * listens for the daemon's whole life), never an inherited or extra
	 * one; PROCMGR_META_DIR names the metadata directory.
	 */
	ck_assert(!environ_has(pid, "NOTIFY_SOCKET=@inherited"));
	ck_assert(!environ_has(pid, "NOTIFY_SOCKET=/dev/null"));
	t = NULL;
	ck_assert_int_ge(asprintf(&t, "NOTIFY_SOCKET=%s",
				  (char *)tu_keep(tu_key(h, "notify_socket"))),
			 0);
	ck_assert(environ_has(pid, t));
	free(t);
	t = NULL;
	ck_assert_int_ge(asprintf(&t, "PROCMGR_META_DIR=%s",
				  procmgr_meta_dir(h)), 0);
	ck_assert(environ_has(pid, t));
	free(t);
	t = fd_target(pid, 0);
	free(t);
	{
		char link[64], buf[PATH_MAX];
		ssize_t n;

		snprintf(link, sizeof(link), "/proc/%d/cwd", (int)pid);
		n = readlink(link, buf, sizeof(buf) - 1);
		ck_assert_int_gt(n, 0);
		buf[n] = '\0';
		ck_assert_str_eq(buf, cwd);
	}
	/* The monitor's first process was reaped: the caller has no child. */
	ck_assert_int_eq(waitpid(-1, NULL, WNOHANG), -1);
	ck_assert_int_eq(errno, ECHILD);
	close(leak);
	procmgr_free(h);
	free(dir);
	free(cwd);
}
END_TEST

START_TEST(test_metadata_complete)
{
	const char *acts[] = { "pause", NULL };
	struct procmgr_spawn_opts o = { 0 };
	char *v, *id = NULL, *raw = NULL, pid_text[16];
	procmgr *h = tu_scratch("meta", NULL);
	size_t len = 0;
	pid_t pid;

	ck_assert_int_eq(start(h, &o, acts, &pid), 0);
	snprintf(pid_text, sizeof(pid_text), "%d", (int)pid);
	v = tu_key(h, "pid");
	ck_assert_str_eq(v, pid_text);
	free(v);
	ck_assert_int_eq(procmgr_proc_identity(pid, &id), 0);
	v = tu_key(h, "start_time");
	ck_assert_str_eq(v, id);
	free(v);
	free(id);
	v = tu_key(h, "fingerprint");
	ck_assert_uint_eq(strlen(v), 64);
	free(v);
	v = tu_key(h, "fingerprint_inputs");
	ck_assert_ptr_nonnull(strstr(v, "argv "));
	ck_assert_ptr_nonnull(strstr(v, "exe "));
	free(v);
	v = tu_key(h, "log");
	ck_assert_str_eq(v, procmgr_default_log(h));
	free(v);
	ck_assert_ptr_null(tu_key(h, "process_name"));
	ck_assert_int_eq(procmgr_read_raw(h, "cmdline", &raw, &len), 0);
	ck_assert_uint_eq(len, strlen(daemon_path) + 1 + strlen("pause") + 1);
	ck_assert_str_eq(raw, daemon_path);
	ck_assert_str_eq(raw + strlen(daemon_path) + 1, "pause");
	free(raw);
	procmgr_free(h);
}
END_TEST

START_TEST(test_process_name_and_log)
{
	const char *acts[] = { "say=hello out", "pause", NULL };
	char *dir, *log, *v;
	struct procmgr_spawn_opts o = { .process_name = "fake-daemon" };
	procmgr *h = tu_scratch("named", &dir);
	struct procmgr_status st = { 0 };
	pid_t pid;

	ck_assert_int_ge(asprintf(&log, "%s/custom.log", dir), 0);
	o.log_path = log;
	ck_assert_int_eq(start(h, &o, acts, &pid), 0);
	v = tu_key(h, "process_name");
	ck_assert_str_eq(v, "fake-daemon");
	free(v);
	v = tu_key(h, "log");
	ck_assert_str_eq(v, log);
	free(v);
	ck_assert(tu_wait_content(log, "hello out\n", 10));
	ck_assert_int_eq(procmgr_status(h, &st), 0);
	ck_assert_int_eq(st.state, PROCMGR_RUNNING);
	procmgr_status_clear(&st);
	procmgr_free(h);
	free(log);
	free(dir);
}
END_TEST

/* sh -c '...; exec daemon' stays running: start_time survives exec. */
START_TEST(test_sh_exec_stays_running)
{
	char *script = NULL;
	char *argv[] = { (char *)"/bin/sh", (char *)"-c", NULL, NULL };
	struct procmgr_spawn_opts o = { .argv = argv };
	struct procmgr_status st = { 0 };
	procmgr *h = tu_scratch("shexec", NULL);
	pid_t pid;
	char *a0 = NULL;

	ck_assert_int_ge(asprintf(&script, "sleep 0.2; exec %s pause",
				  daemon_path), 0);
	argv[2] = script;
	ck_assert_int_eq(procmgr_start(h, &o, &pid), 0);
	track_daemon(pid);
	/* Wait for the exec to happen, then ask again. */
	for (int i = 0; i < 1000; i++) {
		char path[64];
		char *c;

		snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
		c = tu_read_file(path);
		if (c && !strcmp(c, daemon_path)) {
			a0 = c;
			break;
		}
		free(c);
		usleep(10000);
	}
	ck_assert_ptr_nonnull(a0);
	free(a0);
	ck_assert_int_eq(procmgr_status(h, &st), 0);
	ck_assert_int_eq(st.state, PROCMGR_RUNNING);
	ck_assert_int_eq(st.pid, pid);
	procmgr_status_clear(&st);
	free(script);
	procmgr_free(h);
}
END_TEST

static void exec_fails(const char *argv0, const char *cwd, int err,
		       const char *text)
{
	char *argv[] = { (char *)argv0, NULL };
	struct procmgr_spawn_opts o = { .argv = argv, .cwd = cwd };
	procmgr *h = tu_scratch("broken", NULL);
	pid_t pid = 0;
	double t0 = tu_now();

	ck_assert_int_eq(procmgr_start(h, &o, &pid), -err);
	/* Reported by the pipe, not discovered by a timeout. */
	ck_assert_double_lt(tu_now() - t0, 5.0);
	ck_assert_msg(strstr(procmgr_errmsg(h), strerror(err)), "%s",
		      procmgr_errmsg(h));
	ck_assert_msg(strstr(procmgr_errmsg(h), text), "%s",
		      procmgr_errmsg(h));
	ck_assert_ptr_null(tu_key(h, "pid"));
	ck_assert_int_eq(waitpid(-1, NULL, WNOHANG), -1);
	procmgr_free(h);
}

START_TEST(test_exec_missing)
{
	exec_fails("/nonexistent/daemon", NULL, ENOENT, "/nonexistent/daemon");
	exec_fails("no-such-command-procmgr", NULL, ENOENT, "PATH");
}
END_TEST

START_TEST(test_exec_not_executable)
{
	char *dir = tu_tmpdir(), *f = NULL;

	ck_assert_int_ge(asprintf(&f, "%s/script", dir), 0);
	tu_write_file(f, "#!/bin/sh\n", 10);
	exec_fails(f, NULL, EACCES, f);
	free(f);
	free(dir);
}
END_TEST

START_TEST(test_exec_bad_cwd)
{
	exec_fails("/bin/true", "/nonexistent/dir", ENOENT,
		   "/nonexistent/dir");
}
END_TEST

static char *await_key(procmgr *h, const char *key)
{
	char *v = NULL;

	ck_assert_msg(procmgr_await(h, key, 10, &v) == 0, "%s",
		      procmgr_errmsg(h));
	return v;
}

START_TEST(test_monitor_records_exit)
{
	const char *acts[] = { "sleep=0.3", "exit=3", NULL };
	const char *acts2[] = { "sleep=0.3", "raise=15", NULL };
	struct procmgr_spawn_opts o = { 0 };
	procmgr *h = tu_scratch("exiting", NULL);
	pid_t pid, mon;
	char *v;

	ck_assert_int_eq(start(h, &o, acts, &pid), 0);
	mon = ppid_of(pid);
	v = await_key(h, "exit");
	ck_assert_msg(!strncmp(v, "status=3 at=", 12), "%s", v);
	ck_assert_uint_eq(strlen(v), 12 + 20);
	ck_assert_int_eq(v[strlen(v) - 1], 'Z');
	free(v);
	/* The monitor does not outlive the daemon. */
	ck_assert(tu_wait_gone(mon, 10));
	ck_assert_int_eq(start(h, &o, acts2, &pid), 0);
	v = tu_key(h, "exit");
	ck_assert_ptr_null(v);	/* the stale run's exit went with it */
	v = await_key(h, "exit");
	ck_assert_msg(!strncmp(v, "signal=TERM at=", 15), "%s", v);
	free(v);
	procmgr_free(h);
}
END_TEST

START_TEST(test_monitor_spares_successor)
{
	const char *acts[] = { "pause", NULL };
	struct procmgr_spawn_opts o = { 0 };
	procmgr *h = tu_scratch("succ", NULL);
	pid_t pid, mon;
	char other[16];
	struct stat st;

	ck_assert_int_eq(start(h, &o, acts, &pid), 0);
	mon = ppid_of(pid);
	/* A successor's metadata names another pid. */
	snprintf(other, sizeof(other), "%d", (int)tu_dead_pid());
	ck_assert_int_eq(procmgr_write(h, "pid", other), 0);
	kill(pid, SIGKILL);
	ck_assert(tu_wait_gone(mon, 10));
	ck_assert_ptr_null(tu_key(h, "exit"));
	/* A removed metadata directory is not recreated. */
	ck_assert_int_eq(start(h, &o, acts, &pid), 0);
	mon = ppid_of(pid);
	tu_rmrf(procmgr_meta_dir(h));
	kill(pid, SIGKILL);
	ck_assert(tu_wait_gone(mon, 10));
	ck_assert_int_eq(stat(procmgr_meta_dir(h), &st), -1);
	procmgr_free(h);
}
END_TEST

START_TEST(test_monitor_small_and_fd_free)
{
	const char *acts[] = { "pause", NULL };
	struct procmgr_spawn_opts o = { 0 };
	procmgr *h = tu_scratch("mon", NULL);
	pid_t pid, mon;
	int max, leak;
	char *t;

	leak = open("/dev/null", O_RDONLY);	/* the caller's, no CLOEXEC */
	ck_assert_int_ge(leak, 3);
	ck_assert_int_eq(start(h, &o, acts, &pid), 0);
	mon = ppid_of(pid);
	/*
	 * Stdio on /dev/null, then only its own: the log, the notify
	 * socket, its signalfd and a pidfd on the daemon. Nothing of the
	 * caller's: the leak was /dev/null too, and would make a fourth.
	 * It answers the starter before it closes what the start needed
	 * (its inotify fd, the answer socket): give it time to settle.
	 */
	for (double t0 = tu_now(); count_fds(mon, &max) != 7 &&
				   tu_now() - t0 < 10;)
		tu_sleep(0.01);
	ck_assert_int_eq(count_fds(mon, &max), 7);
	for (int fd = 0; fd <= max; fd++) {
		char link[64];

		snprintf(link, sizeof(link), "/proc/%d/fd/%d", (int)mon, fd);
		if (access(link, F_OK) != 0)
			continue;	/* a gap: closed after the start */
		t = fd_target(mon, fd);
		if (fd < 3)
			ck_assert_str_eq(t, "/dev/null");
		else
			ck_assert_msg(!strcmp(t, procmgr_default_log(h)) ||
				      !strcmp(t, "anon_inode:[signalfd]") ||
				      !strcmp(t, "anon_inode:[pidfd]") ||
				      !strncmp(t, "socket:[", 8),
				      "fd %d: %s", fd, t);
		free(t);
	}
	/* Its command line says what it is (SPEC §6). */
	t = NULL;
	ck_assert_int_ge(asprintf(&t, "/proc/%d/cmdline", (int)mon), 0);
	{
		char *cl = tu_read_file(t), want[512];

		snprintf(want, sizeof(want), "procmgr-monitor");
		ck_assert_str_eq(cl, want);
		ck_assert_str_eq(cl + strlen(cl) + 1, procmgr_get_dir(h));
		ck_assert_str_eq(cl + strlen(cl) + strlen(procmgr_get_dir(h)) + 2,
				 "mon");
		free(cl);
	}
	free(t);
	/*
	 * RssAnon counts every resident anonymous page of the monitor: an
	 * exec'd program owes the caller nothing. ASan's shadow memory
	 * inflates it, so the bound is only checked without sanitizers.
	 */
#ifndef TU_ASAN
	{
		long kb = status_num(mon, "RssAnon:");

		ck_assert_int_gt(kb, 0);
		ck_assert_msg(kb <= 1024, "monitor RssAnon %ld kB", kb);
	}
#endif
	close(leak);
	procmgr_free(h);
}
END_TEST

START_TEST(test_log_rotation)
{
	const char *acts[] = { "say=new run", "pause", NULL };
	struct procmgr_spawn_opts o = { .log_max = 100 };
	procmgr *h = tu_scratch("rot", NULL);
	char big[300], *old = NULL, *s;
	pid_t pid;
	int fd;

	memset(big, 'x', sizeof(big));
	big[sizeof(big) - 1] = '\n';
	/* The log's directory (DIR/HOSTFP) exists once any key is written. */
	ck_assert_int_eq(procmgr_write(h, "junk", "1"), 0);
	ck_assert_int_eq(procmgr_purge(h, true), 0);
	fd = open(procmgr_default_log(h), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, big, sizeof(big)), (ssize_t)sizeof(big));
	close(fd);
	ck_assert_int_eq(start(h, &o, acts, &pid), 0);
	ck_assert_int_ge(asprintf(&old, "%s.1", procmgr_default_log(h)), 0);
	s = tu_read_file(old);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(strlen(s), sizeof(big));
	free(s);
	ck_assert(tu_wait_content(procmgr_default_log(h), "new run", 10));
	s = tu_read_file(procmgr_default_log(h));
	/* (A coverage build's helper may add gcov's own complaints.) */
	ck_assert_ptr_nonnull(strstr(s, "new run\n"));
	ck_assert_ptr_null(strstr(s, "xxxxxxxx"));
	free(s);
	free(old);
	procmgr_free(h);
}
END_TEST

START_TEST(test_bad_log_dir)
{
	char *argv[] = { (char *)"/bin/true", NULL };
	struct procmgr_spawn_opts o = { .argv = argv,
					.log_path = "/nonexistent/x.log" };
	procmgr *h = tu_scratch("badlog", NULL);

	ck_assert_int_eq(procmgr_start(h, &o, NULL), -ENOENT);
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h), "/nonexistent/x.log"));
	o.argv = NULL;
	ck_assert_int_eq(procmgr_start(h, &o, NULL), -EINVAL);
	{
		/* A relative log is the caller's cwd's. */
		char *cwd = tu_tmpdir(), *want = NULL, *v;
		pid_t pid;

		ck_assert_int_eq(chdir(cwd), 0);
		o.argv = argv;
		o.log_path = "rel.log";
		ck_assert_int_eq(procmgr_start(h, &o, &pid), 0);
		ck_assert_int_ge(asprintf(&want, "%s/rel.log", cwd), 0);
		v = tu_key(h, "log");
		ck_assert_str_eq(v, want);
		free(v);
		free(want);
		free(cwd);
	}
	procmgr_free(h);
}
END_TEST

/* A caller started with stdio closed: our fds must not land on 0-2. */
START_TEST(test_caller_without_stdio)
{
	const char *acts[] = { "say=still logged", "pause", NULL };
	struct procmgr_spawn_opts o = { 0 };
	procmgr *h = tu_scratch("nostdio", NULL);
	pid_t pid;

	close(0);
	close(1);
	ck_assert_int_eq(start(h, &o, acts, &pid), 0);
	ck_assert(tu_wait_content(procmgr_default_log(h), "still logged", 10));
	procmgr_free(h);
}
END_TEST

/* "./prog" is relative to the daemon's cwd; a bare name uses PATH. */
START_TEST(test_relative_and_path)
{
	char *helpers = strdup(daemon_path), *slash = strrchr(helpers, '/');
	char *rel[] = { (char *)"./fake-daemon", (char *)"pause", NULL };
	char *bare[] = { (char *)"fake-daemon", (char *)"pause", NULL };
	char *sh[] = { (char *)"sh", (char *)"-c", (char *)"sleep 100", NULL };
	/*
	 * Run in order, each a start and a stop of argv with: the daemon's
	 * cwd set to the helpers' directory or not; PATH set (NULL: left as
	 * it was); the test's own cwd moved to the helpers' directory first.
	 * The last one's sh finds no sleep in its empty PATH and ends soon.
	 */
	const struct {
		char **argv;
		bool cwd;
		const char *path;
		bool in_helpers;
		const char *cmdline;	/* NULL: not checked */
		bool stays;		/* still running, to be stopped */
	} rows[] = {
		{ rel, true, NULL, false, NULL, true },
		{ bare, false, helpers, false, NULL, true },
		/* Relative and empty PATH entries are the caller's cwd. */
		{ bare, false, "/nonexistent:.", true, NULL, true },
		{ bare, false, "/nonexistent:", true, NULL, true },
		/* An empty PATH means the usual default, as for execvp. */
		{ sh, false, "", true, "sh", false },
	};
	procmgr *h = tu_scratch("rel", NULL);
	char *v;
	pid_t pid;

	*slash = '\0';
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct procmgr_spawn_opts o = { .argv = rows[i].argv };

		o.cwd = rows[i].cwd ? helpers : NULL;
		if (rows[i].path)
			setenv("PATH", rows[i].path, 1);
		if (rows[i].in_helpers)
			ck_assert_int_eq(chdir(helpers), 0);
		ck_assert_msg(procmgr_start(h, &o, &pid) == 0, "row %zu: %s",
			      i, procmgr_errmsg(h));
		track_daemon(pid);
		if (rows[i].cmdline) {
			v = tu_key(h, "cmdline");
			ck_assert_str_eq(v, rows[i].cmdline);
			free(v);
		}
		if (rows[i].stays)
			ck_assert_int_eq(procmgr_stop(h, NULL, NULL), 1);
	}
	free(helpers);
	procmgr_free(h);
}
END_TEST

/* Metadata that cannot be written: the daemon must never run. */
START_TEST(test_unrecordable_never_runs)
{
	const char *acts[] = { "say=it ran", "pause", NULL };
	struct procmgr_spawn_opts o = { 0 };
	struct rlimit small = { 20, RLIM_INFINITY }, old;
	char *p = NULL, *log;
	procmgr *h;
	pid_t pid;

#ifdef PROCMGR_COVERAGE
	tu_skip("a file size limit would stop gcov writing the monitor's data");
#endif
	h = tu_scratch("unrec", NULL);

	/* A file size limit under start_time's length: writing it fails. */
	ck_assert_int_eq(procmgr_lock(h), 0);
	signal(SIGXFSZ, SIG_IGN);
	getrlimit(RLIMIT_FSIZE, &old);
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &small), 0);
	ck_assert_int_eq(start(h, &o, acts, &pid), -EFBIG);
	setrlimit(RLIMIT_FSIZE, &old);
	ck_assert_int_eq(procmgr_unlock(h), 0);
	ck_assert_ptr_null(tu_key(h, "pid"));
	usleep(300000);
	log = tu_read_file(procmgr_default_log(h));
	ck_assert_ptr_null(log ? strstr(log, "it ran") : NULL);
	free(log);
	free(p);
	procmgr_free(h);
}
END_TEST

/* fd:N on the number the caller's exec pipe has: still kept apart. */
START_TEST(test_fd_n_collides)
{
	const char *acts[] = { "fd=0", "pause", NULL };
	struct procmgr_spawn_opts o = { 0 };
	procmgr *h = tu_scratch("collide", NULL);
	char act[16], mode[16];
	int k = dup(0);
	pid_t pid;

	ck_assert_int_ge(k, 3);
	close(k);
	/* The next few numbers are the lock, log and pipes of a start. */
	for (int n = k; n < k + 10; n++) {
		snprintf(mode, sizeof(mode), "fd:%d", n);
		snprintf(act, sizeof(act), "fd=%d", n);
		acts[0] = act;
		ck_assert_int_eq(procmgr_ready_parse(mode, &o.ready), 0);
		ck_assert_msg(start(h, &o, acts, &pid) == 0, "fd:%d: %s", n,
			      procmgr_errmsg(h));
		procmgr_ready_clear(&o.ready);
		ck_assert_int_eq(procmgr_stop(h, NULL, NULL), 1);
	}
	procmgr_free(h);
}
END_TEST

static void fork_fails_at(rlim_t nproc, const char *where)
{
	char *argv[] = { daemon_path, (char *)"pause", NULL };
	struct procmgr_spawn_opts o = { .argv = argv };
	struct rlimit lim;
	procmgr *h = tu_scratch("nofork", NULL);
	pid_t pid;
	int r;

	getrlimit(RLIMIT_NPROC, &lim);
	lim.rlim_cur = nproc;	/* the soft limit: it can be raised again */
	ck_assert_int_eq(procmgr_write(h, "x", "1"), 0);
	ck_assert_int_eq(setrlimit(RLIMIT_NPROC, &lim), 0);
	r = procmgr_start(h, &o, &pid);
	if (r == 0)
		track_daemon(pid);
	ck_assert_int_eq(r, -EAGAIN);
	ck_assert_msg(strstr(procmgr_errmsg(h), where), "%s",
		      procmgr_errmsg(h));
	procmgr_free(h);
}

/* No process left to fork: for the monitor, and in the monitor. */
START_TEST(test_fork_fails)
{
	if (getuid() != 0)
		tu_skip("needs root to become a lone uid");
	/*
	 * RLIMIT_NPROC then counts exactly our own processes, and
	 * CAP_SYS_RESOURCE no longer lifts it.
	 */
	tu_become_lone_uid(54321);
	fork_fails_at(1, "cannot fork to start the monitor");
	fork_fails_at(2, "procmgr-monitor cannot fork");
}
END_TEST

/*
 * A pipe that lands on fds 0 and 1 cannot be moved above stdio when every
 * fd from 3 up to the limit is taken: pm_pair_above_stdio() then closes
 * both ends rather than leak them.
 */
static void pair_fails_closed(void)
{
	struct rlimit lim, low;
	int saved0 = dup(0), saved1 = dup(1), p[2], free_fd;

	ck_assert(saved0 >= 0 && saved1 >= 0);
	close(0);
	close(1);
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	ck_assert(p[0] == 0 && p[1] == 1);
	free_fd = dup(2);	/* the lowest free fd, above 2 */
	close(free_fd);
	getrlimit(RLIMIT_NOFILE, &lim);
	low = lim;
	low.rlim_cur = (rlim_t)free_fd;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
	ck_assert_int_eq(pm_pair_above_stdio(p), -EMFILE);
	setrlimit(RLIMIT_NOFILE, &lim);
	ck_assert_int_eq(fcntl(0, F_GETFD), -1);	/* both closed */
	ck_assert_int_eq(fcntl(1, F_GETFD), -1);
	ck_assert_int_eq(dup2(saved0, 0), 0);
	ck_assert_int_eq(dup2(saved1, 1), 1);
	close(saved0);
	close(saved1);
}

START_TEST(test_internal_helpers)
{
	struct rlimit lim, three;
	char *dir = tu_tmpdir(), *sub = NULL, *p = NULL;
	int fd;

	ck_assert_int_eq(pm_find_exe(NULL, "", NULL, &p), -EINVAL);
	ck_assert_int_eq(pm_fd_above_stdio(7), 7);
	/* No fd free above 2: the error comes back, fd 0 stays open. */
	getrlimit(RLIMIT_NOFILE, &lim);
	fd = dup(0);
	close(fd);
	three = lim;
	three.rlim_cur = (rlim_t)fd;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &three), 0);
	ck_assert_int_eq(pm_fd_above_stdio(0), -EMFILE);
	setrlimit(RLIMIT_NOFILE, &lim);
	ck_assert_int_eq(fcntl(0, F_GETFD), 0);
	pair_fails_closed();
	/* A deleted cwd cannot anchor a relative path. */
	ck_assert_int_ge(asprintf(&sub, "%s/gone", dir), 0);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	ck_assert_int_eq(chdir(sub), 0);
	ck_assert_int_eq(rmdir(sub), 0);
	ck_assert_int_eq(pm_find_exe(NULL, "./x", NULL, &p), -ENOENT);
	free(sub);
	free(dir);
}
END_TEST

/*
 * The pipes and socket pairs of a start, with no fd left: the error names
 * what failed, and no end of a pair is leaked (fds 0 and 1 are free, so a
 * new pair lands on them and must be moved above stdio first).
 */
START_TEST(test_pipes_without_fds)
{
	struct rlimit lim, low;
	procmgr *h = procmgr_new();
	int saved0 = dup(0), saved1 = dup(1), free_fd, a = -1, b = -1;

	ck_assert(h && saved0 >= 0 && saved1 >= 0);
	free_fd = dup(2);	/* the lowest free fd above 2 */
	close(free_fd);
	getrlimit(RLIMIT_NOFILE, &lim);
	low = lim;
	/* no fd at all: the pipe itself fails */
	low.rlim_cur = (rlim_t)free_fd;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
	ck_assert_int_eq(pm_make_pipe(h, &a, &b), -EMFILE);
	ck_assert_str_eq(procmgr_errmsg(h), "pipe: Too many open files");
	close(0);
	close(1);
	/* on 0 and 1, with no fd above 2 to move them to */
	ck_assert_int_eq(pm_make_pipe(h, &a, &b), -EMFILE);
	ck_assert_str_eq(procmgr_errmsg(h), "pipe: Too many open files");
	ck_assert_int_eq(pm_make_socketpair(h, SOCK_STREAM, &a, &b), -EMFILE);
	ck_assert_str_eq(procmgr_errmsg(h), "socketpair: Too many open files");
	/* one fd above 2: the first end moves, the second cannot */
	low.rlim_cur = (rlim_t)free_fd + 1;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
	ck_assert_int_eq(pm_make_pipe(h, &a, &b), -EMFILE);
	ck_assert_int_eq(fcntl(0, F_GETFD), -1);	/* nothing leaked */
	ck_assert_int_eq(fcntl(1, F_GETFD), -1);
	ck_assert_int_eq(fcntl(free_fd, F_GETFD), -1);
	ck_assert_int_eq(a, -1);
	setrlimit(RLIMIT_NOFILE, &lim);
	ck_assert_int_eq(dup2(saved0, 0), 0);
	ck_assert_int_eq(dup2(saved1, 1), 1);
	close(saved0);
	close(saved1);
	/* an exec failure without an errno still names one */
	ck_assert_int_eq(pm_exec_error(h, "/x", "/", PM_STEP_EXEC, 0), -EIO);
	ck_assert_msg(strstr(procmgr_errmsg(h), "cannot execute /x: "
			     "Input/output error"), "%s", procmgr_errmsg(h));
	procmgr_free(h);
}
END_TEST

/*
 * An empty entry of $PATH is the current directory, as in execvp; a
 * deleted one cannot anchor it, and the search says so.
 */
START_TEST(test_path_entry_in_deleted_cwd)
{
	char *dir = tu_tmpdir(), *sub = NULL, *p = NULL;

	ck_assert_int_ge(asprintf(&sub, "%s/gone", dir), 0);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	ck_assert_int_eq(chdir(sub), 0);
	ck_assert_int_eq(rmdir(sub), 0);
	setenv("PATH", ":/usr/bin:/bin", 1);
	ck_assert_int_eq(pm_find_exe(NULL, "sh", NULL, &p), -ENOENT);
	ck_assert_ptr_null(p);
	free(sub);
	free(dir);
}
END_TEST

/* An extra VAR=VALUE replaces the inherited VAR, never adds a second. */
START_TEST(test_env_extra_overrides)
{
	char *env[] = { (char *)"CU_OVR=new", NULL };
	struct procmgr_spawn_opts o = { .env = env };
	const char *acts[] = { "pause", NULL };
	procmgr *h = tu_scratch("ovr", NULL);
	pid_t pid;

	setenv("CU_OVR", "old", 1);
	ck_assert_int_eq(start(h, &o, acts, &pid), 0);
	ck_assert(environ_has(pid, "CU_OVR=new"));
	ck_assert(!environ_has(pid, "CU_OVR=old"));
	procmgr_free(h);
}
END_TEST

/*
 * A caller whose cwd was deleted (a removed build tree) can still start a
 * daemon when nothing is relative to that cwd; when something is, the
 * error says so instead of blaming memory.
 */
START_TEST(test_caller_cwd_deleted)
{
	char *argv[] = { daemon_path, (char *)"pause", NULL };
	struct procmgr_spawn_opts o = { .argv = argv };
	char *dir = tu_tmpdir(), *sub = NULL;
	procmgr *h = tu_scratch("nocwd", NULL);
	pid_t pid;

	ck_assert_int_ge(asprintf(&sub, "%s/gone", dir), 0);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	ck_assert_int_eq(chdir(sub), 0);
	ck_assert_int_eq(rmdir(sub), 0);
	o.cwd = dir;
	ck_assert_msg(procmgr_start(h, &o, &pid) == 0, "%s",
		      procmgr_errmsg(h));
	track_daemon(pid);
	ck_assert_int_eq(procmgr_stop(h, NULL, NULL), 1);
	o.log_path = "rel.log";
	ck_assert_int_eq(procmgr_start(h, &o, &pid), -ENOENT);
	ck_assert_msg(strstr(procmgr_errmsg(h), "log rel.log"), "%s",
		      procmgr_errmsg(h));
	o.log_path = NULL;
	o.cwd = "sub";
	ck_assert_int_eq(procmgr_start(h, &o, &pid), -ENOENT);
	ck_assert_msg(strstr(procmgr_errmsg(h), "current directory"), "%s",
		      procmgr_errmsg(h));
	o.cwd = NULL;
	ck_assert_int_eq(procmgr_start(h, &o, &pid), -ENOENT);
	ck_assert_msg(!strstr(procmgr_errmsg(h), "memory"), "%s",
		      procmgr_errmsg(h));
	ck_assert_ptr_null(tu_key(h, "pid"));
	free(sub);
	free(dir);
	procmgr_free(h);
}
END_TEST

/* fd:N the daemon may not have (over its RLIMIT_NOFILE): said at once. */
START_TEST(test_ready_fd_over_limit)
{
	const char *acts[] = { "fd=100", "pause", NULL };
	struct procmgr_spawn_opts o = { 0 };
	struct rlimit lim;
	procmgr *h = tu_scratch("fdlim", NULL);
	double t0 = tu_now();
	pid_t pid = 0;

	getrlimit(RLIMIT_NOFILE, &lim);
	lim.rlim_cur = 64;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &lim), 0);
	ck_assert_int_eq(procmgr_ready_parse("fd:100", &o.ready), 0);
	ck_assert_int_eq(start(h, &o, acts, &pid), -EBADF);
	ck_assert_double_lt(tu_now() - t0, 10);
	ck_assert_msg(strstr(procmgr_errmsg(h), "file descriptors"), "%s",
		      procmgr_errmsg(h));
	ck_assert_ptr_null(tu_key(h, "pid"));
	procmgr_ready_clear(&o.ready);
	procmgr_free(h);
}
END_TEST

/* A signal without a name (real-time) is recorded by number. */
START_TEST(test_exit_by_unnamed_signal)
{
	const char *acts[] = { "sleep=0.2", "raise=40", NULL };
	struct procmgr_spawn_opts o = { 0 };
	procmgr *h = tu_scratch("rtsig", NULL);
	struct procmgr_status st = { 0 };
	pid_t pid;
	char *v;

	ck_assert_int_eq(start(h, &o, acts, &pid), 0);
	v = await_key(h, "exit");
	ck_assert_msg(!strncmp(v, "signal=40 at=", 13), "%s", v);
	free(v);
	ck_assert_int_eq(procmgr_status(h, &st), 0);
	ck_assert(st.exit.known);
	ck_assert_int_eq(st.exit.signal, 40);
	procmgr_status_clear(&st);
	procmgr_free(h);
}
END_TEST

struct mid_start {
	const char *dir;
	const char *path;
};

/* A caller that starts "mid" and waits for readiness forever. */
static void start_forever(void *arg)
{
	const struct mid_start *m = arg;
	char *argv[] = { (char *)m->path, (char *)"pause", NULL };
	struct procmgr_spawn_opts o = { .argv = argv, .ready_timeout = -1,
					.ready = { PROCMGR_READY_SOCKET } };
	procmgr *h = procmgr_new();

	if (h && procmgr_open(h, m->dir, "mid") == 0)
		procmgr_start(h, &o, NULL);
	_exit(1);
}

/*
 * The caller killed while it waits for readiness: its lock goes with it
 * (the monitor and the daemon hold no copy), the daemon runs on, fully
 * recorded, and its monitor still records how it ends.
 */
START_TEST(test_caller_killed_mid_start)
{
	char *dir, *v;
	procmgr *h = tu_scratch("mid", &dir);
	struct mid_start m = { dir, daemon_path };
	struct procmgr_status st = { 0 };
	pid_t caller, pid, mon;
	double t0;

	caller = tu_fork(start_forever, &m);
	v = await_key(h, "pid");
	pid = atoi(v);
	free(v);
	mon = track_daemon(pid);
	ck_assert_int_ne(mon, caller);
	tu_kill(caller);
	procmgr_set_lock_wait(h, 10, NULL, NULL);
	t0 = tu_now();
	ck_assert_msg(procmgr_lock(h) == 0, "%s", procmgr_errmsg(h));
	ck_assert_double_lt(tu_now() - t0, 5);
	ck_assert_int_eq(procmgr_status(h, &st), 0);
	ck_assert_int_eq(st.state, PROCMGR_RUNNING);
	ck_assert_int_eq(st.pid, pid);
	procmgr_status_clear(&st);
	ck_assert_int_eq(procmgr_unlock(h), 0);
	kill(pid, SIGKILL);
	ck_assert(tu_wait_gone(mon, 20));
	v = tu_key(h, "exit");
	ck_assert_msg(v && !strncmp(v, "signal=KILL", 11), "%s", v);
	free(v);
	free(dir);
	procmgr_free(h);
}
END_TEST

/* State letter of pid from /proc, or 0 when it is gone (reaped). */
static char proc_state(pid_t pid)
{
	char path[64], *v, *p, c = 0;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	v = tu_read_file(path);
	if (v && (p = strrchr(v, ')')) && p[1] == ' ')
		c = p[2];
	free(v);
	return c;
}

/*
 * A daemon that died stays unreaped (a zombie, its pid not reusable) until
 * its monitor has recorded the exit under the lock: so the pid key it
 * compares cannot name a successor that drew the same pid meanwhile.
 */
START_TEST(test_monitor_reaps_after_recording)
{
	const char *acts[] = { "pause", NULL };
	struct procmgr_spawn_opts o = { 0 };
	char *dir, *v;
	procmgr *h = tu_scratch("zomb", &dir), *holder = procmgr_new();
	pid_t pid;

	ck_assert_int_eq(start(h, &o, acts, &pid), 0);
	ck_assert_int_eq(procmgr_open(holder, dir, "zomb"), 0);
	ck_assert_int_eq(procmgr_lock(holder), 0);
	kill(pid, SIGKILL);
	for (int i = 0; i < 1000 && proc_state(pid) != 'Z'; i++)
		tu_sleep(0.01);
	ck_assert_int_eq(proc_state(pid), 'Z');
	ck_assert_int_eq(procmgr_pid_alive(pid), 0);	/* not running */
	tu_sleep(0.3);
	ck_assert_int_eq(proc_state(pid), 'Z');	/* held while locked */
	ck_assert_int_eq(procmgr_unlock(holder), 0);
	for (int i = 0; i < 1000 && proc_state(pid) != 0; i++)
		tu_sleep(0.01);
	ck_assert_int_eq(proc_state(pid), 0);	/* reaped once recorded */
	v = tu_key(h, "exit");
	ck_assert_msg(v && !strncmp(v, "signal=KILL", 11), "%s", v);
	free(v);
	procmgr_free(holder);
	free(dir);
	procmgr_free(h);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("spawn");
	TCase *tc = tcase_create("spawn");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_daemon_environment);
	tcase_add_test(tc, test_metadata_complete);
	tcase_add_test(tc, test_process_name_and_log);
	tcase_add_test(tc, test_sh_exec_stays_running);
	tcase_add_test(tc, test_exec_missing);
	tcase_add_test(tc, test_exec_not_executable);
	tcase_add_test(tc, test_exec_bad_cwd);
	tcase_add_test(tc, test_monitor_records_exit);
	tcase_add_test(tc, test_monitor_spares_successor);
	tcase_add_test(tc, test_monitor_small_and_fd_free);
	tcase_add_test(tc, test_log_rotation);
	tcase_add_test(tc, test_bad_log_dir);
	tcase_add_test(tc, test_caller_without_stdio);
	tcase_add_test(tc, test_relative_and_path);
	tcase_add_test(tc, test_unrecordable_never_runs);
	tcase_add_test(tc, test_fd_n_collides);
	tcase_add_test(tc, test_fork_fails);
	tcase_add_test(tc, test_internal_helpers);
	tcase_add_test(tc, test_pipes_without_fds);
	tcase_add_test(tc, test_path_entry_in_deleted_cwd);
	tcase_add_test(tc, test_env_extra_overrides);
	tcase_add_test(tc, test_caller_cwd_deleted);
	tcase_add_test(tc, test_ready_fd_over_limit);
	tcase_add_test(tc, test_exit_by_unnamed_signal);
	tcase_add_test(tc, test_caller_killed_mid_start);
	tcase_add_test(tc, test_monitor_reaps_after_recording);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(suite());
}
