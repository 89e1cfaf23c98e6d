/*
 * pid-reuse - steer a pid reuse within one clock tick, then check that
 * procmgr does not take the new process for the recorded one.
 *
 *   unshare -pf --mount-proc pid-reuse DIR
 *
 * Run as pid 1 of a private pid namespace (so that no other process can
 * draw pids there, and writing ns_last_pid decides the next one), it
 * forks a process A, notes A's identity (start time, boot id, pidfd inode),
 * kills and reaps A, sets ns_last_pid so that the next fork gets A's pid
 * again, and forks B - until B starts in the same clock tick as A, so
 * that start_time cannot tell them apart. Then it records A's identity as
 * NAME "web" under DIR and checks that B is stale and that a stop leaves
 * B alone; and, as a control, that B's own identity makes it running.
 *
 * Exit 0 when all holds, 1 (with a message) when not, 77 when the steered
 * reuse cannot be set up here (not pid 1, no pidfs, never the same tick).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#define PIDFS_MAGIC 0x50494446
#define TRIES 500

struct noted {
	pid_t pid;
	unsigned long long start;
	char *identity;		/* as the start_time key holds it */
	unsigned long long ino;	/* the pidfd's inode */
};

static int fail(int code, const char *why, const char *detail)
{
	fprintf(stderr, "pid-reuse: %s%s%s\n", why, detail ? ": " : "",
		detail ? detail : "");
	return code;
}

static pid_t fork_pause(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		for (;;)
			pause();
	}
	return pid;
}

static void kill_reap(pid_t pid)
{
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

/* start and pidfd inode of pid; -1 when pidfds are not on pidfs. */
static int note(pid_t pid, struct noted *ret)
{
	struct statfs sfs;
	struct stat st;
	char state;
	int fd, r = -1;

	fd = pidfd_open(pid, 0);
	if (fd < 0)
		return -1;
	if (fstatfs(fd, &sfs) == 0 && sfs.f_type == PIDFS_MAGIC &&
	    fstat(fd, &st) == 0 &&
	    pm_proc_stat(pid, &state, &ret->start) == 0 &&
	    procmgr_proc_identity(pid, &ret->identity) == 0) {
		ret->ino = (unsigned long long)st.st_ino;
		ret->pid = pid;
		r = 0;
	}
	close(fd);
	return r;
}

static int set_last_pid(pid_t pid)
{
	char buf[16];
	int fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY | O_CLOEXEC);
	int n = snprintf(buf, sizeof(buf), "%d", (int)pid), r;

	if (fd < 0)
		return -1;
	r = write(fd, buf, (size_t)n) == n ? 0 : -1;
	close(fd);
	return r;
}

/* Fork B with A's pid in A's start tick; B's pid, or -1. */
static pid_t steer(struct noted *a)
{
	unsigned long long start;
	char state;

	for (int i = 0; i < TRIES; i++) {
		pid_t pid = fork_pause(), b;

		free(a->identity);
		a->identity = NULL;
		if (pid < 0 || note(pid, a) < 0) {
			if (pid > 0)
				kill_reap(pid);
			return -1;
		}
		kill_reap(pid);
		if (set_last_pid(pid - 1) < 0)
			return -1;
		b = fork_pause();
		if (b == pid && pm_proc_stat(b, &state, &start) == 0 &&
		    start == a->start)
			return b;
		if (b > 0)
			kill_reap(b);
	}
	return -1;
}

static enum procmgr_state state_of(procmgr *h)
{
	struct procmgr_status st;
	enum procmgr_state s = PROCMGR_STOPPED;

	if (procmgr_status(h, &st) == 0)
		s = st.state;
	procmgr_status_clear(&st);
	return s;
}

/* Record a's identity (or, control, b's own) as NAME web. */
static int record(procmgr *h, const struct noted *a, bool own, pid_t b)
{
	char pid[16], ino[32];

	snprintf(pid, sizeof(pid), "%d", (int)a->pid);
	snprintf(ino, sizeof(ino), "%llu", a->ino);
	if (procmgr_write(h, "start_time", a->identity) < 0)
		return -1;
	if (own ? pm_record_pidfd_ino(h, b) < 0 :
		  procmgr_write(h, "pidfd_ino", ino) < 0)
		return -1;
	return procmgr_write(h, "pid", pid);
}

int main(int argc, char **argv)
{
	struct noted a = { 0 };
	procmgr *h = procmgr_new();
	pid_t b, got = -1;
	int r = 1;

	if (argc != 2 || !h || procmgr_open(h, argv[1], "web") < 0)
		return fail(2, "usage: pid-reuse DIR", procmgr_errmsg(h));
	if (getpid() != 1)
		return fail(77, "not pid 1 of a pid namespace", NULL);
	b = steer(&a);
	if (b < 0)
		return fail(77, "no reuse of a pid in its start tick", NULL);
	if (record(h, &a, false, b) < 0)
		r = fail(1, "cannot record", procmgr_errmsg(h));
	else if (state_of(h) != PROCMGR_STALE)
		r = fail(1, "the reused pid passes as running", NULL);
	else if (procmgr_stop(h, NULL, &got) != 0 || got != 0 ||
		 procmgr_pid_alive(b) != 1)
		r = fail(1, "stop signalled the reused pid", NULL);
	else if (record(h, &a, true, b) < 0)
		r = fail(1, "cannot record", procmgr_errmsg(h));
	else if (state_of(h) != PROCMGR_RUNNING)
		r = fail(1, "B's own pidfd inode does not make it running",
			 NULL);
	else
		r = 0;
	kill_reap(b);
	free(a.identity);
	procmgr_free(h);
	return r;
}
