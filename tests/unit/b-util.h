/*
 * b-util.h - what the identity, lock, stop and purge suites share: starting
 * pm-sleeper and waiting until it is set up, recording a process in a NAME's
 * metadata.
 */
#ifndef PROCMGR_B_UTIL_H
#define PROCMGR_B_UTIL_H

#include "internal.h"
#include "testutil.h"

#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/fs.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Wait (generously) until path exists; true if it does. */
static inline bool b_wait_file(const char *path, double timeout)
{
	double end = tu_now() + timeout;

	while (access(path, F_OK) != 0) {
		if (tu_now() > end)
			return false;
		tu_sleep(0.005);
	}
	return true;
}

/*
 * Start pm-sleeper with args (NULL-terminated, up to 20) plus a ready file
 * in dir, and wait until it has set itself up. ret_text (may be NULL) gets
 * what it wrote to the ready file.
 */
static inline pid_t b_sleeper(const char *dir, const char *const *args,
			      char **ret_text)
{
	static int seq;
	const char *argv[32];
	char ready[PATH_MAX];
	size_t n = 0;
	pid_t pid;

	snprintf(ready, sizeof(ready), "%s/ready.%d.%d", dir, (int)getpid(),
		 seq++);
	for (; args && *args && n < 20; args++)
		argv[n++] = *args;
	argv[n++] = "--ready-file";
	argv[n++] = ready;
	argv[n] = NULL;
	pid = tu_spawn("pm-sleeper", argv);
	ck_assert_msg(b_wait_file(ready, 10), "pm-sleeper did not start");
	if (ret_text)
		*ret_text = tu_read_file(ready);
	unlink(ready);
	return pid;
}

/* Record pid, and its live start_time when with_start_time. */
static inline void b_record(procmgr *h, pid_t pid, bool with_start_time)
{
	char buf[32], *id;

	snprintf(buf, sizeof(buf), "%d", (int)pid);
	ck_assert_int_eq(procmgr_write(h, "pid", buf), 0);
	if (!with_start_time)
		return;
	ck_assert_int_eq(procmgr_proc_identity(pid, &id), 0);
	ck_assert_int_eq(procmgr_write(h, "start_time", id), 0);
	free(id);
}

/*
 * Set or clear the immutable attribute of a directory (root, and a file
 * system that has it, such as ext4): even root cannot add, remove or rename
 * entries in it. false when that is not possible here; tests then skip.
 * Callers clear it before asserting, so a failed test leaves no directory
 * the cleanup cannot remove.
 */
static inline bool b_immutable(const char *path, bool on)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), flags = 0;
	bool ok;

	if (fd < 0)
		return false;
	ok = ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0;
	flags = on ? flags | FS_IMMUTABLE_FL : flags & ~FS_IMMUTABLE_FL;
	ok = ok && ioctl(fd, FS_IOC_SETFLAGS, &flags) == 0;
	close(fd);
	return ok;
}

/*
 * In a tu_fork()ed child: become uid/gid 65533 (root ignores modes). The
 * saved ids stay root, so b_other_done() can take root back to write the
 * child's coverage data at its end. false if it cannot.
 */
static inline bool b_become_other(void)
{
	return setgroups(0, NULL) == 0 && setresgid(65533, 65533, 0) == 0 &&
	       setresuid(65533, 65533, 0) == 0;
}

static inline void b_other_done(void)
{
	if (seteuid(0) == 0)
		TU_GCOV_DUMP();
}

static inline bool b_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static inline enum procmgr_state b_state(procmgr *h)
{
	struct procmgr_status st;
	enum procmgr_state s;

	ck_assert_msg(procmgr_status(h, &st) == 0, "status: %s",
		      procmgr_errmsg(h));
	s = st.state;
	procmgr_status_clear(&st);
	return s;
}

#endif
