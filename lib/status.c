/*
 * status.c - what a NAME's metadata says, checked against the kernel: is
 * the recorded process still the one that was started (SPEC §2), how did
 * it last end, and what its monitor recorded about it.
 *
 * The identity keys are checked strongest first: pidfd_ino (pidfs), then
 * start_time (pid + start ticks + boot id), and for pants' metadata,
 * which has neither, process_name against argv[0].
 */
#include "internal.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define WARN_VALUE_MAX 40

/*
 * A value for a warning: at most WARN_VALUE_MAX of its len bytes, anything
 * not printable (a NUL too) as \xNN, so binary garbage in a file cannot
 * garble a terminal.
 */
static void quote_value(const char *v, size_t len, char *out, size_t size)
{
	size_t o = 0;

	for (size_t i = 0; i < len && i < WARN_VALUE_MAX && o + 5 < size;
	     i++) {
		unsigned char c = (unsigned char)v[i];

		if (isprint(c) && c != '\'')
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, size - o, "\\x%02x", c);
	}
	if (len > WARN_VALUE_MAX && o + 4 < size) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

/* Warn that key's value (len bytes) cannot be used, naming the file. */
static void warn_corrupt(procmgr *h, const char *key, const char *value,
			 size_t len, const char *why)
{
	char q[WARN_VALUE_MAX * 4 + 8];

	quote_value(value, len, q, sizeof(q));
	pm_warn(h, "corrupt %s file %s/%s: '%s' %s; treating %s as stale",
		key, h->meta_dir, key, q, why, h->name);
}

/*
 * The keys a status may read. Most NAMEs lack half of them, and each
 * open() of an absent one is a failed lookup (a negative dentry): a
 * status lists the directory once instead, and opens only what is there.
 * With 10,000 NAMEs, `list` spent a sixth of its time in those lookups.
 */
static const char *const status_keys[] = {
	"pid", "start_time", "process_name", "pidfd_ino", "fingerprint",
	"socket", "exit", "monitor", "ready", "restarts", "supervision",
	"status_text",
};
#define N_STATUS_KEYS (sizeof(status_keys) / sizeof(status_keys[0]))

static int status_key_index(const char *key)
{
	for (size_t i = 0; i < N_STATUS_KEYS; i++)
		if (!strcmp(key, status_keys[i]))
			return (int)i;
	return -1;
}

/* Which of status_keys dirfd holds, into h (h->keys_listed if known). */
static void list_keys(procmgr *h, int dirfd)
{
	char buf[4096] __attribute__((aligned(8)));
	ssize_t n = -1;

	h->keys_there = 0;
	if (lseek(dirfd, 0, SEEK_SET) == 0)
		while ((n = getdents64(dirfd, buf, sizeof(buf))) > 0)
			for (ssize_t off = 0; off < n;) {
				struct dirent64 *d = (void *)(buf + off);
				int i = status_key_index(d->d_name);

				if (i >= 0)
					h->keys_there |= 1u << i;
				off += d->d_reclen;
			}
	h->keys_listed = n == 0;
}

/* Known absent from the listing: no need to try to open it. */
static bool key_absent(const procmgr *h, const char *key)
{
	int i;

	if (!h->keys_listed)
		return false;
	i = status_key_index(key);
	return i >= 0 && !(h->keys_there & (1u << i));
}

/*
 * Every key a status reads: the bytes, and the file's stat noted for
 * pm_live, which can then tell that the next status would read the
 * same. key is a literal (pm_live keeps the pointer).
 */
static int status_read(procmgr *h, const char *key, char **ret,
		       size_t *ret_len)
{
	struct stat st;
	int r;

	if (key_absent(h, key))
		return -ENOENT;
	r = pm_key_read_stat(h, key, ret, ret_len, &st);

	if (r == 0)
		pm_live_note(h, key, &st);
	return r;
}

/* status_read(), stripped of surrounding white space. */
static int read_plain(procmgr *h, const char *key, char **ret)
{
	char *v, *s;
	int r = status_read(h, key, &v, NULL);

	if (r < 0)
		return r;
	s = pm_strip(v);
	memmove(v, s, strlen(s) + 1);
	*ret = v;
	return 0;
}

/*
 * Read key into *ret (stripped, malloc'd). 0 read, -ENOENT absent; any
 * other failure warns and returns -EBADMSG so the caller treats it as a
 * key that cannot be parsed. A NUL byte is such a failure: read as a C
 * string, "123\0garbage" would pass for "123".
 */
static int read_key(procmgr *h, const char *key, char **ret)
{
	char *v, *s;
	size_t len;
	int r = status_read(h, key, &v, &len);

	if (r == -ENOENT || r == -ENOMEM)
		return r;
	if (r < 0) {
		pm_warn(h, "cannot read %s/%s: %s; treating %s as stale",
			h->meta_dir, key, strerror(-r), h->name);
		return -EBADMSG;
	}
	if (memchr(v, '\0', len)) {
		warn_corrupt(h, key, v, len, "holds a NUL byte");
		free(v);
		return -EBADMSG;
	}
	s = pm_strip(v);
	memmove(v, s, strlen(s) + 1);
	*ret = v;
	return 0;
}

int pm_parse_start_time(const char *v, unsigned long long *ret_start,
			char ret_boot[PM_BOOT_ID_LEN + 1])
{
	unsigned long long start;
	size_t n;
	char *end;

	if (!isdigit((unsigned char)v[0]))
		return -EBADMSG;
	errno = 0;
	start = strtoull(v, &end, 10);
	if (errno || *end != ' ')
		return -EBADMSG;
	end += strspn(end, " \t");
	n = strspn(end, "0123456789abcdef-");
	if (n != PM_BOOT_ID_LEN || end[n] != '\0')
		return -EBADMSG;
	*ret_start = start;
	memcpy(ret_boot, end, PM_BOOT_ID_LEN + 1);
	return 0;
}

/*
 * What one status learns about the recorded process, so that no file is
 * read twice: the live process's /proc/PID/stat, and the start_time key.
 */
struct ident {
	bool alive;			/* pid runs and is not a zombie */
	unsigned long long live;	/* its start time (field 22) */
	bool read;			/* start_time was looked at */
	bool recorded;			/* and it parsed */
	unsigned long long start;	/* its start time */
	bool this_boot;			/* its boot id is this boot's */
	char *argv0;			/* argv[0] process_name matched */
};

/*
 * Read and parse start_time into id: 0, -ENOENT, or -EBADMSG. For the
 * identity (warn), a key that cannot be used is warned about; it only
 * dates the start of a process that is not running, it is not.
 */
static int read_start_time(procmgr *h, struct ident *id, bool warn)
{
	char boot[PM_BOOT_ID_LEN + 1], live_boot[PM_BOOT_ID_LEN + 1], *v;
	int r;

	id->read = true;
	r = warn ? read_key(h, "start_time", &v) :
		   read_plain(h, "start_time", &v);
	if (r < 0)
		return r;
	if (pm_parse_start_time(v, &id->start, boot) < 0) {
		if (warn)
			warn_corrupt(h, "start_time", v, strlen(v),
				     "is not '<start time> <boot id>'");
		free(v);
		return -EBADMSG;
	}
	free(v);
	id->recorded = true;
	id->this_boot = pm_boot_id(live_boot) == 0 &&
			strcmp(boot, live_boot) == 0;
	return 0;
}

/*
 * pants compares argv[0] exactly; its Rust client also accepts a live
 * argv[0] that goes on after the recorded one: a daemon that set its
 * process title ("pantsd [/repo]") still matches "pantsd". Only a whole
 * name may be extended that way - the live text must go on with a blank
 * or a ':' (a title's separators) - so "/usr/bin/py" does not match
 * "/usr/bin/python3", nor "/" every absolute path.
 */
static int name_matches(procmgr *h, pid_t pid, const char *v,
			struct ident *id)
{
	size_t n = strlen(v);
	char *live;
	int r;

	if (!n) {
		warn_corrupt(h, "process_name", v, 0, "is empty");
		return 0;
	}
	/* not read is not another name: the daemon would pass for dead */
	r = pm_proc_argv0(pid, &live);
	if (r < 0)
		return r == -ENOMEM ? r : 0;
	free(id->argv0);
	id->argv0 = live;
	return strncmp(live, v, n) == 0 &&
	       (live[n] == '\0' || live[n] == ' ' || live[n] == ':');
}

/*
 * 1 when pid's process started after the pid key was last written: then
 * it cannot be the process the key records, whose pid has been reused.
 * The start is in clock ticks since boot (CLOCK_BOOTTIME), the key's time
 * is wall-clock time: the difference of the two clocks now converts. A
 * tick of slack covers the truncation of both. 1 too when either cannot
 * be read (the key or the process is gone): nothing to trust then.
 */
static int started_after_pid_key(procmgr *h, unsigned long long start)
{
	long tck = sysconf(_SC_CLK_TCK);
	struct timespec real, boot;
	double started, written;
	struct stat st;

	if (tck <= 0 || pm_key_stat(h, "pid", &st) < 0)
		return 1;
	clock_gettime(CLOCK_REALTIME, &real);
	clock_gettime(CLOCK_BOOTTIME, &boot);
	started = (double)(real.tv_sec - boot.tv_sec) +
		  (double)(real.tv_nsec - boot.tv_nsec) / 1e9 +
		  (double)start / (double)tck;
	written = (double)st.st_mtim.tv_sec + (double)st.st_mtim.tv_nsec / 1e9;
	return started > written + 1.0 / (double)tck;
}

/*
 * The pidfd_ino key, when recorded, must be the inode of a pidfd on pid
 * (pidfd, or one opened here when pidfd < 0). It tells apart a process
 * that reused the pid within the recorded one's start tick, which
 * start_time cannot. Where no pidfs inode can be had (pidfd_open refused
 * by seccomp or valgrind) the other keys decide alone.
 */
static int pidfd_ino_matches(procmgr *h, pid_t pid, int pidfd)
{
	unsigned long long want, live;
	char *v, *end;
	int fd = pidfd, r;

	r = read_key(h, "pidfd_ino", &v);
	if (r == -ENOENT || r == -ENOMEM)
		return r == -ENOENT ? 1 : r;
	if (r < 0)
		return 0;
	errno = 0;
	want = strtoull(v, &end, 10);
	if (!isdigit((unsigned char)v[0]) || errno || *end) {
		warn_corrupt(h, "pidfd_ino", v, strlen(v), "is not an inode "
			     "number");
		free(v);
		return 0;
	}
	free(v);
	if (fd < 0)
		fd = pidfd_open(pid, 0);
	if (fd < 0)
		return errno == ESRCH ? 0 : 1;
	r = pm_pidfd_ino(fd, &live);
	if (fd != pidfd)
		close(fd);
	if (r < 0)
		return r == -EOPNOTSUPP || r == -ENOSYS ? 1 : 0;
	return live == want;
}

/* The keys other than pidfd_ino: see identity_matches(). */
static int keys_match(procmgr *h, pid_t pid, struct ident *id)
{
	char *v;
	int r;

	r = read_start_time(h, id, true);
	if (r == 0)
		return id->start == id->live && id->this_boot;
	if (r != -ENOENT)
		return r == -ENOMEM ? r : 0;
	if (started_after_pid_key(h, id->live))
		return 0;
	r = read_key(h, "process_name", &v);
	if (r == 0) {
		r = name_matches(h, pid, v, id);
		free(v);
		return r;
	}
	if (r != -ENOENT)
		return r == -ENOMEM ? r : 0;
	return 1;
}

/*
 * start_time, when recorded, decides among the other keys: it is exact to
 * the tick, and it does not depend on the wall clock, which may be set
 * forward after the pid key was written. Without it (pants' metadata) a
 * process that started after the pid key was written is not the recorded
 * one; then, if recorded, process_name must match. With neither start_time
 * nor process_name, a live pid older than its key counts as running: that
 * is what pants does for metadata without process_name, and refusing would
 * make such a daemon impossible to stop. pidfd_ino, when recorded, must
 * match as well.
 */
static int identity_matches(procmgr *h, pid_t pid, int pidfd,
			    struct ident *id)
{
	char state;
	int r;

	/* a zombie has exited; only its exit status is left to collect */
	id->alive = pm_proc_stat(pid, &state, &id->live) == 0 &&
		    state != 'Z' && state != 'X';
	if (!id->alive)
		return 0;
	r = keys_match(h, pid, id);
	if (r == 1)
		r = pidfd_ino_matches(h, pid, pidfd);
	return r;
}

int pm_identity_matches(procmgr *h, pid_t pid)
{
	struct ident id = { 0 };
	int r = identity_matches(h, pid, -1, &id);

	free(id.argv0);
	return r;
}

int pm_check_owner(procmgr *h, pid_t pid)
{
	uid_t uid = 0, me = geteuid();
	struct stat st;
	int fd, r;

	r = pm_proc_uid(pid, &uid);
	if (r == -ESRCH)
		return 1;
	if (r < 0)
		return pm_error(h, -r, "cannot read the owner of pid %d: %s",
				(int)pid, strerror(-r));
	if (me != 0) {
		if (uid != me)
			return pm_error(h, EPERM, "pid %d of %s belongs to uid "
					"%u, not to you (uid %u); stop it as "
					"that user", (int)pid, h->name,
					(unsigned)uid, (unsigned)me);
		return 0;
	}
	r = pm_open_meta(h, false, &fd);
	if (r < 0)
		return r == -ENOENT ? 1 : r;
	r = fstat(fd, &st) < 0 ? -errno : 0;
	close(fd);
	if (r < 0)
		return pm_error(h, -r, "cannot stat %s: %s", h->meta_dir,
				strerror(-r));
	if (uid != st.st_uid)
		return pm_error(h, EPERM, "pid %d of %s belongs to uid %u, but "
				"its metadata %s to uid %u; refusing to signal "
				"a process of another user than the metadata's "
				"owner", (int)pid, h->name, (unsigned)uid,
				h->meta_dir, (unsigned)st.st_uid);
	return 0;
}

/*
 * The identity is checked after pidfd_open(), and then the pidfd is checked
 * to still be alive: a process alive at the end held its pid the whole
 * time, so the /proc files read in between were its own, not a successor's.
 */
int pm_pidfd_verified(procmgr *h, pid_t pid, int *ret_pidfd)
{
	struct ident id = { 0 };
	int fd, r;

	if (pid <= 1)
		return pm_error(h, ESRCH, "pid %d is not a daemon's pid; "
				"refusing to signal it", (int)pid);
	fd = pidfd_open(pid, 0);
	if (fd < 0)
		return pm_error(h, errno, "cannot open pidfd for pid %d of %s: "
				"%s", (int)pid, h->name, strerror(errno));
	r = identity_matches(h, pid, fd, &id);
	free(id.argv0);
	if (r < 0)
		goto fail;
	if (r == 1)
		r = pm_pidfd_wait(fd, 0);
	else
		r = 1;
	if (r != 0) {
		r = pm_error(h, ESRCH, "pid %d is no longer the process %s's "
			     "metadata in %s names", (int)pid, h->name,
			     h->meta_dir);
		goto fail;
	}
	*ret_pidfd = fd;
	return 0;
fail:
	close(fd);
	return r;
}

int pm_record_pidfd_ino(procmgr *h, pid_t pid)
{
	int fd, r;

	r = pm_open_meta(h, true, &fd);
	if (r < 0)
		return r;
	r = pm_put_pidfd_ino(fd, pid);
	close(fd);
	if (r < 0 && r != -ESRCH)
		return pm_error(h, -r, "cannot write %s/pidfd_ino: %s",
				h->meta_dir, strerror(-r));
	return r;
}

/*
 * When the process in start_time started, if it started in this boot;
 * without start_time (pants' metadata), when the live process it names
 * started, if it runs.
 */
static time_t started_at(procmgr *h, const struct procmgr_status *st,
			 struct ident *id, long long *ret_ticks)
{
	if (!id->read)
		read_start_time(h, id, false);
	if (id->recorded && id->this_boot)
		*ret_ticks = (long long)id->start;
	else if (!id->recorded && st->state == PROCMGR_RUNNING && id->alive)
		*ret_ticks = (long long)id->live;
	return *ret_ticks >= 0 ? pm_ticks_to_time(
					 (unsigned long long)*ret_ticks) : -1;
}

void pm_parse_exit(char *v, struct procmgr_exit *ret)
{
	struct procmgr_exit e = { .known = false, .status = -1 };
	char *save = NULL, *tok, *end;
	const char *at = NULL, *reason = NULL;
	long n;

	for (tok = strtok_r(v, " \t\n", &save); tok;
	     tok = strtok_r(NULL, " \t\n", &save)) {
		if (!strncmp(tok, "status=", 7) && !e.known) {
			errno = 0;
			n = strtol(tok + 7, &end, 10);
			if (errno || end == tok + 7 || *end || n < 0 || n > 255)
				return;
			e.status = (int)n;
		} else if (!strncmp(tok, "signal=", 7) && !e.known) {
			e.signal = procmgr_signal_parse(tok + 7);
			if (e.signal <= 0)
				return;
		} else if (!strncmp(tok, "at=", 3) && !at && tok[3]) {
			at = tok + 3;
			continue;
		} else if (!strncmp(tok, "reason=", 7) && !reason && tok[7]) {
			reason = tok + 7;
			continue;
		} else {
			return;
		}
		e.known = true;
	}
	if (!e.known)
		return;
	if ((at && !(e.at = strdup(at))) ||
	    (reason && !(e.reason = strdup(reason)))) {
		free(e.at);
		free(e.reason);
		return;
	}
	*ret = e;
}

/*
 * A pidfd on pid opened before its identity is checked, kept only if it
 * is still alive after: then it is the process the check found, for
 * pm_live to watch. -1 when the kernel gives none.
 */
static int open_pidfd(pid_t pid)
{
	int fd = pidfd_open(pid, 0);

	return fd < 0 && errno != ESRCH ? -1 : fd;
}

static void keep_if_alive(int *fd)
{
	if (*fd >= 0 && pm_pidfd_wait(*fd, 0) != 0) {
		close(*fd);
		*fd = -1;
	}
}

/*
 * The pid key decides between RUNNING and STALE (SPEC §2). With
 * ret_pidfd, also a pidfd on the process found (see open_pidfd()), or -1.
 */
static int status_pid(procmgr *h, struct procmgr_status *st, struct ident *id,
		      int *ret_pidfd)
{
	pid_t pid;
	char *v;
	int fd, r;

	st->state = PROCMGR_STALE;
	r = read_key(h, "pid", &v);
	if (r == -ENOENT || r == -EBADMSG)
		return 0;
	if (r < 0)
		return r;
	r = pm_parse_pid(v, &pid);
	if (r < 0) {
		warn_corrupt(h, "pid", v, strlen(v), "is not a process id");
		free(v);
		return 0;
	}
	free(v);
	st->pid = pid;
	fd = ret_pidfd ? open_pidfd(pid) : -1;
	r = identity_matches(h, pid, fd, id);
	if (r > 0)
		st->state = PROCMGR_RUNNING;
	keep_if_alive(&fd);
	if (ret_pidfd)
		*ret_pidfd = fd;	/* else fd is -1: none was opened */
	return r < 0 ? r : 0;
}

/*
 * A key shown as is: absent or unreadable is NULL, never an error; out
 * of memory is -ENOMEM, and NULL too (the caller frees what it gets).
 */
static int optional_key(procmgr *h, const char *key, char **ret)
{
	int r = read_plain(h, key, ret);

	if (r < 0)
		*ret = NULL;
	return r == -ENOMEM ? r : 0;
}

/* The string fields of a status, for clearing only what a caller has. */
static const size_t status_strings[] = {
	offsetof(struct procmgr_status, fingerprint),
	offsetof(struct procmgr_status, socket),
	offsetof(struct procmgr_status, exit.at),
	offsetof(struct procmgr_status, exit.reason),
	offsetof(struct procmgr_status, status_text),
};

/* Free (and forget) the strings of st that lie within its first size bytes. */
static void clear_strings(struct procmgr_status *st, size_t size)
{
	for (size_t i = 0; i < sizeof(status_strings) / sizeof(size_t); i++) {
		char **p = (char **)(void *)((char *)st + status_strings[i]);

		if (status_strings[i] + sizeof(char *) <= size) {
			free(*p);
			*p = NULL;
		}
	}
}

void procmgr_status_clear_sized(struct procmgr_status *st, size_t size)
{
	if (st)
		clear_strings(st, size);
}

/*
 * Hand st out in the caller's size: the part it has, and what it does
 * not have is freed here (a newer library's fields, an older caller).
 */
static void status_out(struct procmgr_status *st, struct procmgr_status *ret,
		       size_t size)
{
	size_t n = size < sizeof(*st) ? size : sizeof(*st);

	memcpy(ret, st, n);
	if (size > sizeof(*st))
		memset((char *)ret + sizeof(*st), 0, size - sizeof(*st));
	/* what was copied is the caller's now; the rest is freed */
	for (size_t i = 0; i < sizeof(status_strings) / sizeof(size_t); i++)
		if (status_strings[i] + sizeof(char *) <= n)
			*(char **)(void *)((char *)st + status_strings[i]) =
				NULL;
	clear_strings(st, sizeof(*st));
}

/* idle_timeout=N out of the supervision key. */
static double idle_of(const char *sup)
{
	const char *p = sup ? strstr(sup, "idle_timeout=") : NULL;

	return p ? strtod(p + 13, NULL) : 0;
}

/*
 * The live monitor named by key monitor's value v, or 0; with
 * ret_pidfd, a pidfd on it as open_pidfd() gives one, or -1.
 */
static pid_t monitor_of(const char *v, int *ret_pidfd)
{
	pid_t pid;
	int fd = -1;

	if (ret_pidfd && v)
		fd = open_pidfd((pid_t)strtol(v, NULL, 10));
	pid = pm_monitor_check(v);
	if (pid <= 0 && fd >= 0) {
		close(fd);
		fd = -1;
	}
	keep_if_alive(&fd);
	if (ret_pidfd)
		*ret_pidfd = fd;
	return pid;
}

/*
 * What the monitor keeps: ready, status_text, restarts, itself (with
 * ret_mon_pidfd, also a pidfd on it: see monitor_of()).
 */
static int supervision_keys(procmgr *h, struct procmgr_status *st,
			    int *ret_mon_pidfd)
{
	char *v = NULL;
	bool monitored;
	int r;

	r = optional_key(h, "monitor", &v);
	if (r < 0)
		return r;
	monitored = v != NULL;
	st->monitor = monitor_of(v, ret_mon_pidfd);
	free(v);
	/* a live monitor taken for none would restart what a stop ends */
	if (st->monitor < 0) {
		r = st->monitor;
		st->monitor = 0;
		return r;
	}
	r = optional_key(h, "ready", &v);
	if (r < 0)
		return r;
	/* Metadata a monitor did not write (pants') has no ready key. */
	st->ready = v != NULL || !monitored;
	free(v);
	r = optional_key(h, "restarts", &v);
	if (r >= 0 && v)
		st->restarts = (unsigned)strtoul(v, NULL, 10);
	free(v);
	if (r >= 0)
		r = optional_key(h, "supervision", &v);
	if (r >= 0) {
		st->idle_timeout = idle_of(v);
		free(v);
		r = optional_key(h, "status_text", &st->status_text);
	}
	return r;
}

/* Every key of a status into st; p gets what pm_live needs to keep it. */
static int read_status(procmgr *h, struct procmgr_status *st,
		       struct pm_live_proof *p)
{
	struct ident id = { 0 };
	long long ticks = -1;
	char *v;
	int r;

	r = status_pid(h, st, &id, p ? &p->pidfd : NULL);
	if (r >= 0 && !h->brief)
		r = optional_key(h, "fingerprint", &st->fingerprint);
	if (r >= 0)
		r = optional_key(h, "socket", &st->socket);
	if (r >= 0) {
		st->started_at = started_at(h, st, &id, &ticks);
		if (read_plain(h, "exit", &v) == 0) {
			pm_parse_exit(v, &st->exit);
			free(v);
		}
		st->ready = true;
		if (!h->brief)
			r = supervision_keys(h, st, p && st->state ==
						    PROCMGR_RUNNING ?
						    &p->mon_pidfd : NULL);
	}
	if (p) {
		p->ticks = ticks;
		p->argv0 = id.argv0;
	} else {
		free(id.argv0);
	}
	/* Stopped by its monitor for being idle: stopped, metadata kept. */
	if (st->state == PROCMGR_STALE && st->exit.reason &&
	    !strcmp(st->exit.reason, "idle"))
		st->state = PROCMGR_STOPPED;
	return r;
}

int procmgr_status_sized(procmgr *h, struct procmgr_status *ret, size_t size)
{
	struct procmgr_status st = {
		.state = PROCMGR_STOPPED,
		.started_at = -1,
		.exit = { .known = false, .status = -1 },
	};
	struct pm_live_proof proof = { .pidfd = -1, .mon_pidfd = -1,
				       .ticks = -1 };
	int r;

	if (!h || !ret)
		return pm_error(h, EINVAL, "no handle or no status to fill");
	if (size < PM_STATUS_V1)
		return pm_error(h, EINVAL, "a status of %zu bytes is smaller "
				"than any procmgr.h's", size);
	r = pm_check_open(h);
	if (r < 0)
		return r;
	free(h->warning);
	h->warning = NULL;
	if (pm_live_answer(h, &st) == 1)
		goto done;
	/* one checked walk for all the keys, all from the same directory */
	r = pm_meta_pin(h);
	if (r == -ENOENT)
		goto done;
	if (r < 0)
		return r;
	list_keys(h, h->meta_fd);
	/* a brief status is not an answer to give again for a whole one */
	r = read_status(h, &st, !h->brief && pm_live_begin(h, h->meta_fd) ?
				&proof : NULL);
	h->keys_listed = false;
	proof.st = r < 0 ? NULL : &st;
	pm_live_keep(h, h->meta_fd, &proof);
	pm_meta_unpin(h);
	if (r < 0) {
		procmgr_status_clear(&st);
		return pm_error(h, -r, "cannot read the status of %s in %s: "
				"%s", h->name, h->meta_dir, strerror(-r));
	}
done:
	status_out(&st, ret, size);
	return 0;
}

int pm_put_pidfd_ino(int dirfd, pid_t pid)
{
	unsigned long long ino = 0;
	char buf[32];
	int fd, r;

	fd = pidfd_open(pid, 0);
	if (fd < 0 && errno == ESRCH)
		return -ESRCH;
	r = fd < 0 ? -errno : pm_pidfd_ino(fd, &ino);
	if (fd >= 0)
		close(fd);
	/* No pidfds or no pidfs: nothing to record; never an older one. */
	if (r < 0)
		return unlinkat(dirfd, "pidfd_ino", 0) < 0 && errno != ENOENT ?
			       -errno : 0;
	snprintf(buf, sizeof(buf), "%llu", ino);
	return pm_write_atomic_at(dirfd, "pidfd_ino", buf, strlen(buf), 0644);
}
