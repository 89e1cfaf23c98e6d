/*
 * c-util.h - what the spawn, ready, ensure, logs and selfcheck suites
 * share: a handle on a scratch DIR, /proc readers for the daemon and its
 * monitor, a free TCP port and a uid of the test's own. Static inline:
 * each suite uses a different subset.
 */
#ifndef PROCMGR_C_UTIL_H
#define PROCMGR_C_UTIL_H

#include "procmgr.h"
#include "testutil.h"

#include <arpa/inet.h>
#include <check.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define CU_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CU_ASAN 1
#endif
#endif

/* A handle on name in a new scratch DIR, which ret_dir (may be NULL) gets. */
static inline procmgr *cu_open(const char *name, char **ret_dir)
{
	char *dir = tu_tmpdir();
	procmgr *h = tu_open(dir, name);

	if (ret_dir)
		*ret_dir = dir;
	else
		free(dir);
	return h;
}

/* Field n (1-based) of /proc/PID/stat, counted after comm. */
static inline long cu_stat_field(pid_t pid, int n)
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

static inline pid_t cu_ppid(pid_t pid)
{
	return (pid_t)cu_stat_field(pid, 4);
}

/* The daemon and its monitor are killed when the test process ends. */
static inline pid_t cu_track(pid_t daemon)
{
	pid_t mon = cu_ppid(daemon);

	tu_track(daemon);
	if (mon > 1 && mon != getpid())
		tu_track(mon);
	return mon;
}

/* The value of "Key:" in /proc/PID/status, as a number (kB etc.). */
/*
 * The pidfd_ino key procmgr should record for pid (the inode of a pidfd on
 * pidfs) into buf; false where pidfds are not on pidfs (Linux < 6.9).
 */
static inline bool cu_pidfd_ino(pid_t pid, char *buf, size_t size)
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

/* h's state, read with procmgr_status() (which must succeed). */
static inline enum procmgr_state cu_state(procmgr *h)
{
	struct procmgr_status st = { 0 };
	enum procmgr_state s;

	ck_assert_msg(procmgr_status(h, &st) == 0, "status: %s",
		      procmgr_errmsg(h));
	s = st.state;
	procmgr_status_clear(&st);
	return s;
}

static inline long cu_status_num(pid_t pid, const char *key)
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

/* Wait up to timeout seconds for path's content to contain needle. */
static inline bool cu_wait_file(const char *path, const char *needle,
				double timeout)
{
	double end = tu_now() + timeout;

	do {
		char *s = tu_read_file(path);
		bool ok = s && strstr(s, needle);

		free(s);
		if (ok)
			return true;
		usleep(10000);
	} while (tu_now() < end);
	return false;
}

/* A loopback TCP port nobody listens on (just now). */
static inline int cu_free_port(void)
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

/*
 * Become uid (an otherwise unused one, root only) keeping only the
 * file-access capabilities (so coverage data can still be written): the
 * per-user kernel limits then count exactly this test's own use.
 */
static inline void cu_become_lone_uid(uid_t uid)
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

#endif
