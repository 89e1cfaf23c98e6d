/*
 * testutil.c - scratch directories and tracked helper processes for the
 * unit suites. Every process a test starts is killed and reaped by an
 * atexit handler, because Check's fork mode leaves a failing test through
 * exit() and skips the rest of the test body.
 */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TU_MAX_TRACKED 256

static pid_t tracked[TU_MAX_TRACKED];
static size_t n_tracked;
static char *tmpdirs[64];
static size_t n_tmpdirs;
static bool atexit_set;

static void tu_cleanup(void)
{
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

static void tu_atexit(void)
{
	if (!atexit_set) {
		atexit(tu_cleanup);
		atexit_set = true;
	}
}

void tu_track(pid_t pid)
{
	tu_atexit();
	ck_assert_uint_lt(n_tracked, TU_MAX_TRACKED);
	tracked[n_tracked++] = pid;
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
	tu_atexit();
	if (n_tmpdirs < 64)
		tmpdirs[n_tmpdirs++] = strdup(p);
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

static void child_setup(void)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	close_range(3, ~0U, 0);
}

pid_t tu_spawn(const char *helper, const char *const *args)
{
	char path[PATH_MAX];
	const char *dir = getenv("HELPERS");
	const char *argv[32];
	size_t n = 0;
	pid_t pid;

	if (helper[0] == '/')
		snprintf(path, sizeof(path), "%s", helper);
	else
		snprintf(path, sizeof(path), "%s/%s", dir ? dir : "build/helpers",
			 helper);
	argv[n++] = path;
	for (; args && *args && n < 31; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		child_setup();
		execv(path, (char *const *)argv);
		_exit(127);
	}
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

int tu_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
