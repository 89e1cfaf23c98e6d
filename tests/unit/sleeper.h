/*
 * sleeper.h - stand-in daemons for the identity, lock, stop and purge
 * suites: pm-sleeper started and waited for until it has set itself up,
 * and a process recorded in a NAME's metadata as procmgr would record it.
 */
#ifndef PROCMGR_SLEEPER_H
#define PROCMGR_SLEEPER_H

#include "procmgr.h"
#include "testutil.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/*
 * Start pm-sleeper with args (NULL-terminated, up to 20) plus a ready file
 * in dir, and wait until it has set itself up. ret_text (may be NULL) gets
 * what it wrote to the ready file.
 */
static inline pid_t start_sleeper(const char *dir, const char *const *args,
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
	ck_assert_msg(tu_wait_path(ready, 10), "pm-sleeper did not start");
	if (ret_text)
		*ret_text = tu_read_file(ready);
	unlink(ready);
	return pid;
}

/* Record pid as h's process, and its live start_time when with_start_time. */
static inline void record_pid(procmgr *h, pid_t pid, bool with_start_time)
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

#endif
