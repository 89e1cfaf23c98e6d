/*
 * spawned.h - daemons the library starts, for the spawn, ready, ensure,
 * logs, supervise and selfcheck suites: tracking each with its monitor so
 * both die with the test, what /proc says about them, and a free TCP port
 * to listen on. Static inline: each suite uses a different subset.
 */
#ifndef PROCMGR_SPAWNED_H
#define PROCMGR_SPAWNED_H

#include "procmgr.h"
#include "testutil.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

/* Field n (1-based) of /proc/PID/stat, counted after comm; -1 if gone. */
static inline long stat_field(pid_t pid, int n)
{
	char path[64], buf[1024];
	char *p;
	FILE *f;
	size_t got;
	long v = -1;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	got = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[got] = '\0';
	p = strrchr(buf, ')');
	if (!p)
		return -1;
	p += 2;	/* field 3 */
	for (int i = 3; i < n && p; i++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	if (p)
		v = strtol(p, NULL, 10);
	return v;
}

static inline pid_t ppid_of(pid_t pid)
{
	return (pid_t)stat_field(pid, 4);
}

/*
 * Have the daemon and its monitor (its parent) killed when the test
 * process ends; returns the monitor's pid.
 */
static inline pid_t track_daemon(pid_t daemon)
{
	pid_t mon = ppid_of(daemon);

	tu_track(daemon);
	if (mon > 1 && mon != getpid())
		tu_track(mon);
	return mon;
}

/* The number after "Key:" in /proc/PID/status (kB etc.; Umask in octal). */
static inline long status_num(pid_t pid, const char *key)
{
	char path[64], line[256];
	size_t n = strlen(key);
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n)) {
			v = strtol(line + n, NULL, strstr(key, "Umask") ?
				   8 : 10);
			break;
		}
	fclose(f);
	return v;
}

/*
 * The pidfd_ino key procmgr should record for pid (the inode of a pidfd on
 * pidfs) into buf; false where pidfds are not on pidfs (Linux < 6.9).
 */
static inline bool pidfd_ino_of(pid_t pid, char *buf, size_t size)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	struct statfs sfs;
	struct stat st;
	bool ok;

	ck_assert_int_ge(fd, 0);
	ok = fstatfs(fd, &sfs) == 0 && sfs.f_type == 0x50494446 &&
	     fstat(fd, &st) == 0;
	if (ok)
		snprintf(buf, size, "%llu", (unsigned long long)st.st_ino);
	close(fd);
	return ok;
}

/* A loopback TCP port nobody listens on (just now). */
static inline int free_tcp_port(void)
{
	struct sockaddr_in in = { .sin_family = AF_INET };
	socklen_t len = sizeof(in);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&in, sizeof(in)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&in, &len), 0);
	close(fd);
	return ntohs(in.sin_port);
}

#endif
