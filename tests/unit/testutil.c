/*
 * testutil.c - scratch directories and tracked helper processes for the
 * unit suites.
 *
 * Every process a test starts must die with the test, pass or fail. A
 * passing test cleans up in an atexit handler; but Check's fork mode ends a
 * failing test with _exit(), which runs no handler, and kills a test that
 * times out. So the suite has a watcher process, started by the runner
 * before any test, in its own process group (a killpg of a test spares it)
 * and nobody's child but the runner's (a test's waitpid(-1) never sees it).
 * Each test process sends it, over a SOCK_SEQPACKET socket, a pidfd of
 * itself and a pidfd of every process it tracks, plus its scratch
 * directories; when that test process dies, the watcher SIGKILLs what it
 * tracked through the pidfds - taken while the processes were surely the
 * test's, so a recycled pid is never hit - and removes the directories.
 */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/fs.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TU_MAX_TRACKED 256
#define TU_MAX_DIRS 64
#define W_MAX 1024		/* what one watcher keeps */

/* One message to the watcher; SCM_RIGHTS carries [reporter, tracked]. */
struct watch_msg {
	pid_t reporter;		/* the test process */
	char dir[248];		/* a directory to remove, or "" */
};

/* What the watcher keeps per tracked thing. */
struct watch_entry {
	pid_t reporter;
	int reporter_fd;	/* pidfd of the test process */
	int pidfd;		/* pidfd of the tracked process, or -1 */
	char *dir;		/* or NULL */
};

static pid_t tracked[TU_MAX_TRACKED];
static size_t n_tracked;
static char *tmpdirs[TU_MAX_DIRS];
static size_t n_tmpdirs;
static pid_t owner;		/* the process the lists above belong to */
static int watch_fd = -1;	/* our end of the socket to the watcher */

static void tu_cleanup(void)
{
	if (getpid() != owner)
		return;
	for (size_t i = 0; i < n_tracked; i++) {
		if (tracked[i] > 1) {
			kill(tracked[i], SIGKILL);
			waitpid(tracked[i], NULL, 0);
		}
	}
	n_tracked = 0;
	for (size_t i = 0; i < n_tmpdirs; i++) {
		tu_rmrf(tmpdirs[i]);
		free(tmpdirs[i]);
	}
	n_tmpdirs = 0;
}

/* Receive one message into e; 0 at the end, -1 on a bad message. */
static int watch_recv(int fd, struct watch_entry *e)
{
	struct watch_msg m;
	struct iovec iov = { &m, sizeof(m) };
	union {
		char buf[CMSG_SPACE(2 * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *c;
	int fds[2] = { -1, -1 };
	ssize_t n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);

	if (n <= 0)
		return n < 0 && errno == EINTR ? -1 : 0;
	c = CMSG_FIRSTHDR(&mh);
	if (c && c->cmsg_type == SCM_RIGHTS)
		memcpy(fds, CMSG_DATA(c), c->cmsg_len - CMSG_LEN(0));
	*e = (struct watch_entry){ m.reporter, fds[0], fds[1],
				   m.dir[0] ? strdup(m.dir) : NULL };
	return 1;
}

/* Kill and remove what reporter tracked (every entry when reporter is 0). */
static void watch_reap(struct watch_entry *e, size_t *n, pid_t reporter)
{
	size_t k = 0;

	for (size_t i = 0; i < *n; i++) {
		if (reporter && e[i].reporter != reporter) {
			e[k++] = e[i];
			continue;
		}
		if (e[i].pidfd >= 0) {
			pidfd_send_signal(e[i].pidfd, SIGKILL, NULL, 0);
			close(e[i].pidfd);
		}
		if (e[i].dir)
			tu_rmrf(e[i].dir);
		free(e[i].dir);
		close(e[i].reporter_fd);
	}
	*n = k;
}

static void watcher_main(int fd)
{
	static struct watch_entry e[W_MAX];
	struct pollfd p[W_MAX + 1];
	size_t n = 0;
	int r = 1;

	while (r) {
		p[0] = (struct pollfd){ fd, POLLIN, 0 };
		for (size_t i = 0; i < n; i++)
			p[i + 1] = (struct pollfd){ e[i].reporter_fd, POLLIN, 0 };
		if (poll(p, n + 1, -1) < 0)
			continue;
		for (size_t i = n; i > 0; i--)
			if (p[i].revents && i - 1 < n)
				watch_reap(e, &n, e[i - 1].reporter);
		if (p[0].revents && (r = watch_recv(fd, &e[n])) > 0 && n < W_MAX)
			n++;
	}
	watch_reap(e, &n, 0);
	_exit(0);
}

/* Start the watcher once per suite (tu_run() does it before any test). */
static void tu_start_watcher(void)
{
	int sv[2], null;
	pid_t w;

	if (watch_fd >= 0)
		return;
	/* no ck_assert here: outside a test, Check cannot report one */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0 ||
	    (w = fork()) < 0) {
		perror("testutil: cannot start the watcher");
		exit(2);
	}
	if (w == 0) {
		setpgid(0, 0);
		null = open("/dev/null", O_RDWR | O_CLOEXEC);
		dup2(null, 0);
		dup2(null, 1);
		dup2(sv[1], 3);
		close_range(4, ~0U, 0);
		watcher_main(3);
	}
	close(sv[1]);
	watch_fd = sv[0];
}

/* Tell the watcher about pid (> 0) or dir, on behalf of this process. */
static void tu_watch(pid_t pid, const char *dir)
{
	struct watch_msg m = { .reporter = getpid() };
	struct iovec iov = { &m, sizeof(m) };
	union {
		char buf[CMSG_SPACE(2 * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	/*
	 * PIDFD_NONBLOCK only sets these apart from the library's pidfds:
	 * test-pref refuses those with a seccomp filter, never ours.
	 */
	int fds[2] = { pidfd_open(getpid(), PIDFD_NONBLOCK),
		       pid > 0 ? pidfd_open(pid, PIDFD_NONBLOCK) : -1 };

	tu_start_watcher();
	if (fds[0] < 0) {
		perror("testutil: pidfd_open of this process");
		exit(2);
	}
	if (dir)
		snprintf(m.dir, sizeof(m.dir), "%s", dir);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN((fds[1] >= 0 ? 2 : 1) * sizeof(int));
	memcpy(CMSG_DATA(c), fds, c->cmsg_len - CMSG_LEN(0));
	mh.msg_controllen = CMSG_SPACE(c->cmsg_len - CMSG_LEN(0));
	/* plain checks: this may run outside a test (unchecked fixtures) */
	if (sendmsg(watch_fd, &mh, 0) != (ssize_t)sizeof(m)) {
		perror("testutil: cannot reach the watcher");
		exit(2);
	}
	close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
}

/* Give this process its own lists and atexit handler. */
static void tu_guard(void)
{
	if (owner == getpid())
		return;
	/* a forked test process starts with its parent's lists: not ours */
	owner = getpid();
	n_tracked = 0;
	n_tmpdirs = 0;
	atexit(tu_cleanup);
}

void tu_track(pid_t pid)
{
	tu_guard();
	ck_assert_uint_lt(n_tracked, TU_MAX_TRACKED);
	tracked[n_tracked++] = pid;
	tu_watch(pid, NULL);
}

void tu_kill(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	for (size_t i = 0; i < n_tracked; i++)
		if (tracked[i] == pid)
			tracked[i] = 0;
}

static int rm_one(const char *p, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(p);
	return 0;
}

void tu_rmrf(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

char *tu_tmpdir(void)
{
	char *p = strdup("/tmp/procmgr-test.XXXXXX");

	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(mkdtemp(p));
	tu_guard();
	if (n_tmpdirs < TU_MAX_DIRS)
		tmpdirs[n_tmpdirs++] = strdup(p);
	tu_watch(0, p);
	return p;
}

void tu_write_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	close(fd);
}

char *tu_read_file(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf;
	size_t n;

	if (!f)
		return NULL;
	buf = calloc(1, 1 << 20);
	ck_assert_ptr_nonnull(buf);
	n = fread(buf, 1, (1 << 20) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

bool tu_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

bool tu_wait_path(const char *path, double timeout)
{
	double end = tu_now() + timeout;

	while (!tu_exists(path)) {
		if (tu_now() > end)
			return false;
		tu_sleep(0.005);
	}
	return true;
}

bool tu_wait_content(const char *path, const char *needle, double timeout)
{
	double end = tu_now() + timeout;

	do {
		char *s = tu_read_file(path);
		bool ok = s && strstr(s, needle);

		free(s);
		if (ok)
			return true;
		tu_sleep(0.01);
	} while (tu_now() < end);
	return false;
}

int tu_immutable(const char *path, bool on)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), flags, r = 0;

	if (fd < 0)
		return -errno;
	if (ioctl(fd, FS_IOC_GETFLAGS, &flags) < 0)
		r = -errno;
	flags = on ? flags | FS_IMMUTABLE_FL : flags & ~FS_IMMUTABLE_FL;
	if (r == 0 && ioctl(fd, FS_IOC_SETFLAGS, &flags) < 0)
		r = -errno;
	close(fd);
	return r;
}

static void *kept[512];
static size_t n_kept;

static void free_kept(void)
{
	while (n_kept > 0)
		free(kept[--n_kept]);
}

void *tu_keep(void *p)
{
	if (n_kept == 0)
		atexit(free_kept);
	ck_assert_uint_lt(n_kept, 512);
	kept[n_kept++] = p;
	return p;
}

char *tu_path(const char *a, const char *b)
{
	char *p = NULL;

	ck_assert_int_ge(asprintf(&p, "%s/%s", a, b), 0);
	return tu_keep(p);
}

int tu_count_fds(void)
{
	int n = 0;

	for (int fd = 0; fd < 1024; fd++)
		n += fcntl(fd, F_GETFD) >= 0;
	return n;
}

double tu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void tu_sleep(double s)
{
	time_t whole = (time_t)s;
	struct timespec ts = { whole, (long)((s - (double)whole) * 1e9) };

	nanosleep(&ts, NULL);
}

procmgr *tu_open(const char *dir, const char *name)
{
	procmgr *h = procmgr_new();

	ck_assert_ptr_nonnull(h);
	ck_assert_msg(procmgr_open(h, dir, name) == 0, "open: %s",
		      procmgr_errmsg(h));
	return h;
}

procmgr *tu_scratch(const char *name, char **ret_dir)
{
	char *dir = tu_tmpdir();
	procmgr *h = tu_open(dir, name);

	if (ret_dir)
		*ret_dir = dir;
	else
		free(dir);
	return h;
}

char *tu_key(procmgr *h, const char *key)
{
	char *v = NULL;

	return procmgr_read(h, key, &v) == 0 ? v : NULL;
}

enum procmgr_state tu_state(procmgr *h)
{
	struct procmgr_status st = { 0 };
	enum procmgr_state s;

	ck_assert_msg(procmgr_status(h, &st) == 0, "status: %s",
		      procmgr_errmsg(h));
	s = st.state;
	procmgr_status_clear(&st);
	return s;
}

const char *tu_host_dir(const procmgr *h)
{
	char *d = tu_keep(strdup(procmgr_meta_dir(h)));

	*strrchr(d, '/') = '\0';
	return d;
}

const char *tu_lock_msg_path(const procmgr *h)
{
	char *p = NULL;

	ck_assert_int_ge(asprintf(&p, "%s.lock_message", procmgr_lock_path(h)),
			 0);
	return tu_keep(p);
}

char *tu_helper(const char *helper)
{
	const char *dir = getenv("HELPERS");
	char *p = NULL;

	if (helper[0] == '/')
		p = strdup(helper);
	else if (asprintf(&p, "%s/%s", dir ? dir : "build/helpers",
			  helper) < 0)
		p = NULL;
	ck_assert_ptr_nonnull(p);
	return p;
}

/* Our fds close at the exec, not before: see tu_spawn's pipe. */
static void child_setup(void)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
}

pid_t tu_spawn(const char *helper, const char *const *args)
{
	char *path = tu_helper(helper);
	const char *argv[32];
	size_t n = 0;
	int p[2];
	pid_t pid;
	char c;

	argv[n++] = path;
	for (; args && *args && n < 31; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		child_setup();
		execv(path, (char *const *)argv);
		_exit(127);
	}
	/*
	 * EOF once the exec (or the child's death) closed the write end:
	 * from here the pid is the helper, never a copy of this process in
	 * our process group, which a stop of it would take down with it.
	 */
	close(p[1]);
	while (read(p[0], &c, 1) < 0 && errno == EINTR)
		;
	close(p[0]);
	free(path);
	tu_track(pid);
	return pid;
}

pid_t tu_fork(void (*fn)(void *), void *arg)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		fn(arg);
		_exit(0);
	}
	tu_track(pid);
	return pid;
}

static bool gone(pid_t pid)
{
	char path[64], buf[512];
	char *p;
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return true;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return true;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X');
}

bool tu_wait_gone(pid_t pid, double timeout)
{
	struct timespec ts = { 0, 5 * 1000 * 1000 };
	int steps = (int)(timeout * 200);

	for (int i = 0; i <= steps; i++) {
		if (gone(pid))
			return true;
		nanosleep(&ts, NULL);
	}
	return gone(pid);
}

pid_t tu_dead_pid(void)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
	return pid;
}

int tu_child_status(pid_t pid)
{
	siginfo_t si;

	ck_assert_int_eq(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT), 0);
	tu_kill(pid);	/* reaps it and forgets it */
	return si.si_code == CLD_EXITED ? si.si_status : -si.si_status;
}

bool tu_become_other(void)
{
	return setgroups(0, NULL) == 0 && setresgid(65533, 65533, 0) == 0 &&
	       setresuid(65533, 65533, 0) == 0;
}

void tu_other_done(void)
{
	if (seteuid(0) == 0)
		TU_GCOV_DUMP();
}

void tu_become_lone_uid(uid_t uid)
{
	struct __user_cap_header_struct hd = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	uint32_t bits = (1u << CAP_DAC_OVERRIDE) | (1u << CAP_DAC_READ_SEARCH) |
			(1u << CAP_FOWNER);

	memset(d, 0, sizeof(d));
	d[0].effective = d[0].permitted = bits;
	ck_assert_int_eq(prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0), 0);
	ck_assert_int_eq(setresgid(uid, uid, uid), 0);
	ck_assert_int_eq(setresuid(uid, uid, uid), 0);
	ck_assert_int_eq(syscall(SYS_capset, &hd, d), 0);
}

void tu_skip_note(const char *fn, const char *fmt, ...)
{
	/* START_TEST(name) defines name_fn: report the name as written */
	size_t n = strlen(fn);
	char line[512];
	int len;
	va_list ap;

	if (n > 3 && !strcmp(fn + n - 3, "_fn"))
		n -= 3;
	len = snprintf(line, sizeof(line), "SKIP: %.*s: ", (int)n, fn);
	va_start(ap, fmt);
	len += vsnprintf(line + len, sizeof(line) - (size_t)len - 1, fmt, ap);
	va_end(ap);
	if (len > (int)sizeof(line) - 2)
		len = (int)sizeof(line) - 2;
	line[len++] = '\n';
	/* one write, so a line never mixes with another process's output */
	(void)!write(2, line, (size_t)len);
}

int tu_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	tu_start_watcher();
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
