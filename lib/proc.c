/*
 * proc.c - process identity and liveness.
 *
 * A pid alone does not name a process: the kernel hands pids out again.
 * procmgr names a process by pid + start time (field 22 of /proc/PID/stat,
 * clock ticks since boot) + boot id, which together never repeat. pants'
 * metadata carries process_name (argv[0]) instead; it is weaker, but it is
 * what pants writes, so it is honoured when start_time is absent (SPEC §2).
 */
#include "internal.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

/* Longest /proc/PID/stat: 52 fields of up to 20 digits plus comm (64). */
#define STAT_MAX 2048
#define PM_PIDFS_MAGIC 0x50494446	/* statfs f_type of pidfs */

/*
 * Read a whole /proc file (cmdline comes in page-sized chunks). until_nul
 * stops at the first NUL: argv[0] is all we want of a cmdline, and the
 * whole of one may be megabytes.
 */
static int read_proc(const char *path, size_t max, bool until_nul, char **ret,
		     size_t *ret_len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY), r;

	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	r = pm_read_fd(fd, max, until_nul, ret, ret_len);
	close(fd);
	return r;
}

int pm_parse_stat(const char *buf, char *ret_state,
		  unsigned long long *ret_start)
{
	const char *p = strrchr(buf, ')');
	unsigned long long start;
	char state, *end;

	/* comm may hold spaces and parentheses: only the last ')' ends it */
	if (!p || p[1] != ' ' || !p[2] || p[3] != ' ')
		return -EBADMSG;
	state = p[2];
	p += 3;
	/* p is at the blank before field 4; step to the one before field 22 */
	for (int field = 4; field < 22; field++) {
		p = strchr(p + 1, ' ');
		if (!p)
			return -EBADMSG;
	}
	errno = 0;
	start = strtoull(p + 1, &end, 10);
	if (errno || end == p + 1 || (*end != ' ' && *end != '\n'))
		return -EBADMSG;
	*ret_state = state;
	*ret_start = start;
	return 0;
}

int pm_proc_stat(pid_t pid, char *ret_state, unsigned long long *ret_start)
{
	char path[64], buf[STAT_MAX];
	ssize_t n;

	if (pid <= 0)
		return -ESRCH;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	/* one read(): the kernel builds the line in one go, so it is whole */
	n = pm_read_once(path, buf, sizeof(buf));
	return n < 0 ? (int)n : pm_parse_stat(buf, ret_state, ret_start);
}

static int read_boot_id(char ret[PM_BOOT_ID_LEN + 1])
{
	char buf[64], *s;
	ssize_t n;

	n = pm_read_once("/proc/sys/kernel/random/boot_id", buf, sizeof(buf));
	/* pm_read_once() says -ESRCH for a missing /proc file: no process */
	if (n < 0)
		return n == -ESRCH ? -ENOENT : (int)n;
	s = pm_strip(buf);
	if (strlen(s) != PM_BOOT_ID_LEN)
		return -EBADMSG;
	memcpy(ret, s, PM_BOOT_ID_LEN + 1);
	return 0;
}

/*
 * The boot id cannot change while a process runs, and a status compares
 * it once or twice, a list once per NAME: it is read once per process.
 * The first caller to claim the slot fills it; a caller that finds it
 * being filled reads the file itself rather than wait.
 */
static _Atomic int boot_state;	/* 0 empty, 1 being filled, 2 filled */
static char boot_id[PM_BOOT_ID_LEN + 1];

int pm_boot_id(char ret[PM_BOOT_ID_LEN + 1])
{
	int empty = 0, r;

	if (atomic_load_explicit(&boot_state, memory_order_acquire) == 2) {
		memcpy(ret, boot_id, PM_BOOT_ID_LEN + 1);
		return 0;
	}
	r = read_boot_id(ret);
	if (r == 0 && atomic_compare_exchange_strong(&boot_state, &empty, 1)) {
		memcpy(boot_id, ret, PM_BOOT_ID_LEN + 1);
		atomic_store_explicit(&boot_state, 2, memory_order_release);
	}
	return r;
}

int pm_proc_argv0(pid_t pid, char **ret_argv0)
{
	char path[64], *buf, *argv0;
	size_t len;
	int r;

	if (pid <= 0)
		return -ESRCH;
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	r = read_proc(path, PM_READ_MAX, true, &buf, &len);
	if (r < 0)
		return r;
	/* argv[0] ends at the first NUL; read_proc NUL-terminated the rest */
	argv0 = strdup(buf);
	free(buf);
	if (!argv0)
		return -ENOMEM;
	*ret_argv0 = argv0;
	return 0;
}

/* The number after label (which starts a line: "\nbtime ") in path. */
static int proc_number(const char *path, const char *label,
		       unsigned long long *ret)
{
	char *buf, *line;
	size_t len;
	int r;

	r = read_proc(path, PM_READ_MAX, false, &buf, &len);
	if (r < 0)
		return r;
	line = strstr(buf, label);
	r = line ? pm_parse_ull(line + strlen(label), 10, ret, NULL) :
		   -EBADMSG;
	free(buf);
	return r;
}

int pm_proc_uid(pid_t pid, uid_t *ret_uid)
{
	unsigned long long uid = 0;
	char path[64];
	int r;

	if (pid <= 0)
		return -ESRCH;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	/* "Uid:\t<real>\t<effective>\t<saved>\t<fs>": the real uid owns it */
	r = proc_number(path, "\nUid:", &uid);
	if (r == 0)
		*ret_uid = (uid_t)uid;
	return r;
}

/*
 * The inode of a pidfd on pidfs (Linux 6.9 and later), where it names one
 * process for the whole boot, unlike a pid or a start time in clock ticks.
 * -EOPNOTSUPP on older kernels, whose pidfds all share one anonymous inode.
 */
int pm_pidfd_ino(int pidfd, unsigned long long *ret)
{
	struct statfs sfs;
	struct stat st;

	if (fstatfs(pidfd, &sfs) < 0 || fstat(pidfd, &st) < 0)
		return -errno;
	if (sfs.f_type != PM_PIDFS_MAGIC)
		return -EOPNOTSUPP;
	*ret = (unsigned long long)st.st_ino;
	return 0;
}

void pm_creator_tag(char *buf, size_t size)
{
	unsigned long long start = 0;
	pid_t pid = getpid();
	char state;

	if (pm_proc_stat(pid, &state, &start) < 0)
		start = 0;
	snprintf(buf, size, "%d.%llu", (int)pid, start);
}

int pm_creator_gone(pid_t pid, unsigned long long start)
{
	unsigned long long live;
	char state;

	if (pid <= 0 || pm_proc_stat(pid, &state, &live) < 0)
		return 1;
	/* a zombie writes nothing more; another start time is a reuse */
	return state == 'Z' || state == 'X' || (start && live != start);
}

int procmgr_pid_alive(pid_t pid)
{
	unsigned long long start;
	char state;

	if (pm_proc_stat(pid, &state, &start) < 0)
		return 0;
	/* a zombie has exited; only its exit status is left to collect */
	return state != 'Z' && state != 'X';
}

int procmgr_proc_identity(pid_t pid, char **ret_identity)
{
	char boot[PM_BOOT_ID_LEN + 1], state, *s;
	unsigned long long start;
	int r;

	r = pm_proc_stat(pid, &state, &start);
	if (r < 0)
		return r;
	if (state == 'Z' || state == 'X')
		return -ESRCH;
	r = pm_boot_id(boot);
	if (r < 0)
		return r;
	s = pm_asprintf("%llu %s", start, boot);
	if (!s)
		return -ENOMEM;
	*ret_identity = s;
	return 0;
}

int pm_pidfd_wait(int pidfd, double timeout)
{
	struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
	struct timespec deadline;
	int n;

	pm_deadline(timeout, &deadline);
	for (;;) {
		/* a pidfd polls readable once the process exited (zombie) */
		n = poll(&pfd, 1, pm_ms_left(timeout, &deadline));
		if (n < 0)
			return -errno;	/* -EINTR: a signal handler ran */
		/* a bad fd is an error, never taken for "it exited" */
		if (n > 0 && (pfd.revents & POLLNVAL))
			return -EBADF;
		return n > 0;
	}
}

/*
 * Seconds since the epoch of a start time in clock ticks since boot. The
 * boot's own time is the wall clock less the time since boot (what
 * /proc/stat's btime says, without reading it).
 */
time_t pm_ticks_to_time(unsigned long long start)
{
	long tck = sysconf(_SC_CLK_TCK);
	struct timespec real, boot;

	if (tck <= 0 || clock_gettime(CLOCK_REALTIME, &real) < 0 ||
	    clock_gettime(CLOCK_BOOTTIME, &boot) < 0)
		return -1;
	return real.tv_sec - boot.tv_sec - (real.tv_nsec < boot.tv_nsec) +
	       (time_t)(start / (unsigned long long)tck);
}

char *pm_self_text(void)
{
	char buf[4096];
	ssize_t n = pm_read_once("/proc/self/cmdline", buf, sizeof(buf));

	if (n < 0)
		n = 0;
	/* one line: a newline in an argument would split a log line */
	for (ssize_t i = 0; i < n; i++)
		if (buf[i] == '\0' || buf[i] == '\n')
			buf[i] = ' ';
	buf[n] = '\0';
	return pm_asprintf("%d (%s)", (int)getpid(), pm_strip(buf));
}

int pm_monitor_identity(char **ret)
{
	char *id = NULL;
	int r = procmgr_proc_identity(getpid(), &id);

	if (r < 0)
		return r;
	*ret = pm_asprintf("%d %s", (int)getpid(), id);
	free(id);
	return *ret ? 0 : -ENOMEM;
}

pid_t pm_monitor_check(const char *value)
{
	char *id = NULL, *rest;
	pid_t pid = 0;
	long n;
	int r;

	if (!value || !isdigit((unsigned char)value[0]))
		return 0;
	errno = 0;
	n = strtol(value, &rest, 10);
	if (errno || n <= 1 || n > 0x7fffffff || *rest != ' ')
		return 0;
	r = procmgr_proc_identity((pid_t)n, &id);
	if (r == -ENOMEM)
		return -ENOMEM;
	if (r == 0 && !strcmp(rest + 1, id))
		pid = (pid_t)n;
	free(id);
	return pid;
}
