/*
 * internal.h - what the files of lib/ share and nobody else sees.
 *
 * Each lib file owns one concern; the owner of each group of functions is
 * named above it. Functions return >= 0 or -errno, like the public API.
 */
#ifndef PROCMGR_INTERNAL_H
#define PROCMGR_INTERNAL_H

#include "procmgr.h"

#include <stdarg.h>
#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>
#include <poll.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#define PM_ERRMSG_MAX 1024
#define PM_BOOT_ID_LEN 36	/* "6b0f2a2c-...": 36 characters */
#define PM_READ_MAX (1 << 20)	/* largest metadata value read, bytes */

struct procmgr {
	bool opened;
	bool read_only;		/* procmgr_open_read_only(): reads only */
	char name[PROCMGR_NAME_MAX + 1];
	char hostfp[PROCMGR_HOSTFP_LEN + 1];
	char *dir;		/* DIR, absolute or as given */
	char *host_dir;		/* DIR/HOSTFP */
	char *meta_dir;		/* DIR/HOSTFP/NAME */
	char *lock_path;	/* DIR/.lock.NAME */
	char *lock_msg_path;	/* DIR/.lock.NAME.lock_message */
	char *default_log;	/* DIR/HOSTFP/NAME.log */

	struct pm_live *live;	/* the last status, to give again (live.c) */
	bool live_off;		/* never keep one (the monitor's handle) */
	bool brief;		/* status: only what the state needs (listing) */
	bool keys_listed;	/* a status listed meta_fd: keys_there says */
	uint32_t keys_there;	/* which of status.c's keys are there */
	int meta_fd;		/* checked DIR/HOSTFP/NAME kept for reads, or -1 */
	struct stat meta_st;	/* meta_fd as its check found it */
	bool meta_pinned;	/* pm_meta_pin(): reads use meta_fd as it is */
	bool meta_fresh;	/* just walked: its next use needs no check */
	int lock_fd;		/* -1 when the lock is not held */
	unsigned lock_depth;
	bool lock_inherited;	/* lock_fd: a parent's (PROCMGR_LOCK_FD) */
	double lock_timeout;
	procmgr_lock_wait_fn lock_fn;
	void *lock_userdata;

	int cancel_fd;		/* procmgr_set_cancel_fd(), or -1 */
	procmgr_wait_fn wait_fn;
	void *wait_userdata;
	off_t start_log_offset;	/* of the last start's first line; -1 */

	char errmsg[PM_ERRMSG_MAX];
	const char *errparam;	/* procmgr_errparam() */
	char *warning;
};


/* ---- handle.c ------------------------------------------------------ */

/*
 * Set h's DIR (dir, NULL: the default), HOSTFP and DIR/HOSTFP; with a
 * name, also NAME's paths. A message on failure.
 */
int pm_set_paths(procmgr *h, const char *dir, const char *name);
/*
 * Open h read-only on name, a NAME listed under base's DIR/HOSTFP, whose
 * checked fd is host_fd: base's paths, only NAME's directory walked.
 */
int pm_open_listed(procmgr *h, const procmgr *base, int host_fd,
		   const char *name);

/* ---- util.c -------------------------------------------------------- */

/* Set h's message (printf-style) and return -err; err is a positive errno. */
int pm_error(procmgr *h, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The last failure (r, returned) is about parameter param: errparam. */
int pm_blame(procmgr *h, const char *param, int r);
/* Replace h's warning (printf-style). */
void pm_warn(procmgr *h, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* -EINVAL (with h's message, when h) unless h is an opened handle. */
int pm_check_open(procmgr *h);
/*
 * path made absolute: itself when it starts with '/', else under base,
 * which is absolute or relative to the current directory (NULL or "": the
 * current directory). path NULL: base itself. -errno when the current
 * directory is needed and cannot be had, -ENOMEM.
 */
int pm_abs_path(const char *base, const char *path, char **ret);
/* malloc'd printf; NULL when out of memory. */
char *pm_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Strip surrounding white space in place; returns the start inside s. */
char *pm_strip(char *s);
/*
 * The unsigned number (base 10 or 16) s starts with after blanks, and in
 * *ret_end (may be NULL) where it ends; -EBADMSG without a digit (a sign
 * is none) or past ULLONG_MAX. sscanf() would do, but it brings 60 KiB
 * of glibc's scanf into the static CLI.
 */
int pm_parse_ull(const char *s, int base, unsigned long long *ret,
		 const char **ret_end);
/* Parse a decimal pid (> 1, fits pid_t, nothing else but white space). */
int pm_parse_pid(const char *s, pid_t *ret_pid);
/* The same for len bytes read from a file: a NUL among them is corrupt. */
int pm_parse_pid_len(const char *s, size_t len, pid_t *ret_pid);
/* Seconds as a double to a struct timespec deadline on CLOCK_MONOTONIC. */
void pm_deadline(double timeout, struct timespec *ret_deadline);
/* Milliseconds left to deadline (>= 0), for poll(); timeout < 0: -1. */
int pm_ms_left(double timeout, const struct timespec *deadline);
/*
 * poll() the n fds of pfd and h's cancel fd, which pfd has room for at
 * [n] (h may be NULL: none): what poll() returns for the n, or -EINTR
 * when a signal handler ran or the cancel fd is readable.
 */
int pm_poll(procmgr *h, struct pollfd *pfd, nfds_t n, int ms);

/*
 * Structs across library versions (procmgr.h, "ABI policy"). The sizes of
 * the first release's structs, which every caller's are at least:
 */
#define PM_SPAWN_OPTS_V1 (offsetof(struct procmgr_spawn_opts, pid_file) + \
			  sizeof(const char *))
#define PM_STATUS_V1 (offsetof(struct procmgr_status, idle_timeout) + \
		      sizeof(double))
/*
 * Read a caller's struct (size bytes) into ours (ours_size bytes), the
 * fields it lacks zeroed: -EINVAL under min, and with strict, -E2BIG when
 * the caller's struct is larger and what lies beyond ours is not zero.
 */
int pm_struct_in(void *ours, size_t ours_size, size_t min, const void *theirs,
		 size_t size, bool strict);

/* Tell h's wait callback a wait begins (what) or ends (NULL). */
void pm_waiting(procmgr *h, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/*
 * Read fd to its end (at most max bytes, else -EFBIG; with until_nul, only
 * up to the read that brings a NUL) into a NUL-terminated buffer.
 */
int pm_read_fd(int fd, size_t max, bool until_nul, char **ret,
	       size_t *ret_len);
/*
 * The same for a regular file fstat found size bytes long (0: unknown): a
 * read that returns less than asked once size bytes are in is its end,
 * and needs no second read to confirm it.
 */
int pm_read_fd_sized(int fd, size_t max, bool until_nul, size_t size,
		     char **ret, size_t *ret_len);
/*
 * Read path with one read(), as the kernel writes a small /proc file
 * whole, into buf (size - 1 bytes at most), NUL-terminated: the length, or
 * -errno (-ESRCH when a /proc/PID path is gone).
 */
ssize_t pm_read_once(const char *path, char *buf, size_t size);
/*
 * A directory stream on name in dirfd (not followed if a symlink), on an
 * open file description of its own: "." gives one that shares no offset
 * with dirfd. NULL with errno set.
 */
DIR *pm_opendir_at(int dirfd, const char *name);

/* ---- sha256.c ------------------------------------------------------ */

struct pm_sha256 {
	uint32_t state[8];
	uint64_t length;	/* bytes hashed */
	unsigned char buf[64];
	size_t buf_len;
};
void pm_sha256_init(struct pm_sha256 *c);
void pm_sha256_update(struct pm_sha256 *c, const void *data, size_t len);
void pm_sha256_final(struct pm_sha256 *c, unsigned char ret_digest[32]);
void pm_hex(const unsigned char *bytes, size_t len, char *ret_hex);

/* ---- signal.c ------------------------------------------------------ */

#define PM_CHAIN_MAX 16		/* signals in a stop chain */

/* How to stop: the chain, the wait after each signal, whom to signal. */
struct pm_chain {
	int signals[PM_CHAIN_MAX];
	size_t n_signals;
	double kill_wait;	/* < 0: the default, 5 s */
	enum procmgr_kill_mode kill_mode;
};
/* The chain of opts (NULL: TERM, KILL; 5 s), checked. */
int pm_chain_from(procmgr *h, const struct procmgr_stop_opts *opts,
		  struct pm_chain *ret);
/* "SIGTERM, SIGKILL" of a chain, for a message, into out. */
void pm_chain_text(const struct pm_chain *c, char *out, size_t size);
/* "SIGTERM" (or "signal 40"), into buf; returns buf. */
const char *pm_sig_text(int sig, char *buf, size_t size);
/* "status=3" or "signal=TERM" of an exit, into buf. */
void pm_exit_text(int status, int sig, char *buf, size_t size);

/* ---- proc.c -------------------------------------------------------- */

/* State letter and start time (field 22) of pid from /proc/PID/stat. */
int pm_proc_stat(pid_t pid, char *ret_state, unsigned long long *ret_start);
/* Field 3 (state letter) and field 22 (start time) of a /proc stat line. */
int pm_parse_stat(const char *line, char *ret_state,
		  unsigned long long *ret_start);
/*
 * "<pid>.<start time>" of the calling process, for the names of the
 * temporary files and directories it makes: a later sweep removes those
 * whose creator is gone (pm_creator_gone()), never a write under way.
 */
#define PM_CREATOR_TAG_MAX 40
void pm_creator_tag(char *buf, size_t size);
/* 1 when process pid with start time start (0: unknown) no longer runs. */
int pm_creator_gone(pid_t pid, unsigned long long start);
/* /proc/sys/kernel/random/boot_id, 36 characters + NUL; read once. */
int pm_boot_id(char ret[PM_BOOT_ID_LEN + 1]);
/* argv[0] of pid as /proc/PID/cmdline holds it. */
int pm_proc_argv0(pid_t pid, char **ret_argv0);
/* Real uid owning pid (from /proc/PID status). */
int pm_proc_uid(pid_t pid, uid_t *ret_uid);
/* Wait on a pidfd until the process exits or timeout: 1 exited, 0 not. */
int pm_pidfd_wait(int pidfd, double timeout);
/* The inode number of pidfd on pidfs: unique for the boot. */
int pm_pidfd_ino(int pidfd, unsigned long long *ret);
/* Seconds since the epoch of a start time in clock ticks since boot. */
time_t pm_ticks_to_time(unsigned long long start);
/*
 * "4242 (procmgr stop web)": the calling process, as pants' lock message
 * names its holder; also who asked, in the log.
 */
char *pm_self_text(void);
/*
 * The pid of a value of key monitor when that monitor is alive, or 0;
 * -ENOMEM when that could not be told.
 */
pid_t pm_monitor_check(const char *value);
/* "<pid> <start ticks> <boot id>" of the calling process, for key monitor. */
int pm_monitor_identity(char **ret);

/* ---- pref.c -------------------------------------------------------- */

/*
 * A process we may signal: its pid, a pidfd when the kernel gives one, and
 * its start time, checked again before each kill(2) when it does not
 * (ENOSYS: old kernels, valgrind; EPERM: seccomp). That fallback is the
 * weaker one: between the check and the kill the pid could in principle
 * be reused; the wait backs off from 1 ms to 50 ms instead of polling a
 * pidfd.
 */
struct pm_pref {
	pid_t pid;
	int fd;				/* pidfd, or -1 */
	unsigned long long start;	/* field 22 of /proc/PID/stat */
	bool gone;
};
/*
 * Open a reference on pid if its start time is start (0: take the live
 * one). -ESRCH when it is not that process or not alive.
 */
int pm_pref_open(pid_t pid, unsigned long long start, struct pm_pref *ret);
void pm_pref_close(struct pm_pref *p);
/* Send sig: 0, or -ESRCH once the process is gone (p->gone set). */
int pm_pref_signal(struct pm_pref *p, int sig);
/* 1 when the process has exited (zombie or reaped), 0 alive. */
int pm_pref_exited(struct pm_pref *p);
/*
 * Wait until every process of v has exited or timeout passes: the number
 * still alive (0: all gone), or -EINTR when a signal handler ran.
 */
int pm_pref_wait(procmgr *h, struct pm_pref *v, size_t n, double timeout);

/* ---- tree.c -------------------------------------------------------- */

/* Fields 4 (ppid), 6 (session) and 20 (threads) of a stat line. */
int pm_parse_stat_more(const char *line, pid_t *ret_ppid, pid_t *ret_sid,
		       long *ret_threads);
/* State, start time, ppid, session and threads of pid. */
int pm_proc_info(pid_t pid, char *ret_state, unsigned long long *ret_start,
		 pid_t *ret_ppid, pid_t *ret_sid, long *ret_threads);
/*
 * The live (non-zombie) descendants of root, root excluded, with their
 * start times, through /proc/PID/task/TID/children (a full /proc scan when
 * the kernel lacks it). ret_pids/ret_starts are malloc'd (NULL when n is 0).
 */
int pm_tree(pid_t root, pid_t **ret_pids, unsigned long long **ret_starts,
	    size_t *ret_n);
/* pm_tree() the slow way, by one scan of /proc (no children files). */
int pm_tree_scan(pid_t root, pid_t **ret_pids,
		 unsigned long long **ret_starts, size_t *ret_n);
/* Resident bytes of pid (statm), 0 when it is gone. */
uint64_t pm_proc_rss(pid_t pid);
/*
 * 1 when a stream socket held by one of pids is connected to a client: a
 * TCP connection accepted on a port one of them listens on, or a unix
 * stream connection accepted on a path one of them listens on.
 */
int pm_tree_has_client(const pid_t *pids, size_t n);

/* ---- atomic.c ------------------------------------------------------ */

/* Write name in dirfd atomically: temp + write all + rename (no fsync). */
int pm_write_atomic_at(int dirfd, const char *name, const void *data,
		       size_t len, mode_t mode);
/* Read name in dirfd whole (at most max bytes); ret NUL-terminated. */
int pm_read_at(int dirfd, const char *name, size_t max, char **ret_data,
	       size_t *ret_len);
/* pm_read_at(), and the fstat of the file it read into *ret_st. */
int pm_read_at_stat(int dirfd, const char *name, size_t max, char **ret_data,
		    size_t *ret_len, struct stat *ret_st);
/* Remove directory name in dirfd and everything in it (no symlink follow). */
int pm_rm_rf_at(int dirfd, const char *name);
/*
 * Remove the temp files in dirfd that a writer which died (crashed, was
 * killed) before its rename left, and only those: their names carry their
 * creator. only (may be NULL) limits it to the temp files of that name.
 */
void pm_sweep_temps(int dirfd, const char *only);

/* ---- basedir.c ----------------------------------------------------- */

/* uid's name as /etc/passwd itself has it: 1, or 0 if it has none. */
int pm_passwd_name(uid_t uid, char *buf, size_t size);

/*
 * Check an open directory fd against the safety rules of SPEC §1 (owner is
 * the caller or root, not group/world-writable unless sticky). path is for
 * the message; *ret_st (when not NULL) gets its stat if it passes.
 */
int pm_check_dir(procmgr *h, int fd, const char *path, struct stat *ret_st);
/*
 * The message for EACCES on name in atfd (path in messages): whose it is
 * and that its daemons are that user's to act on. Returns -EACCES.
 */
int pm_denied(procmgr *h, int atfd, const char *name, const char *path,
	      const char *what);
/* -EROFS with a message when h is read-only; 0 otherwise. */
int pm_check_writable(procmgr *h);
/* True when a file of uid may be trusted: the caller's or root's. */
bool pm_trusted_uid(uid_t uid);
/*
 * -EACCES with a message naming path and its owner when st (a file in a
 * DIR others may write to, such as a sticky /tmp) is another user's.
 */
int pm_check_file_owner(procmgr *h, const struct stat *st, const char *path);
/*
 * Open DIR (create=true: make it, 0700, if missing), checked, as an
 * O_PATH-free O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC fd.
 */
int pm_open_base(procmgr *h, bool create, int *ret_fd);
/* Open DIR/HOSTFP/NAME, each component checked; create makes them. */
int pm_open_meta(procmgr *h, bool create, int *ret_fd);
/*
 * The metadata directory h reads its keys in, checked as pm_open_meta()
 * does and kept between calls: h owns the fd (do not close it). -ENOENT
 * when there is none.
 */
int pm_meta_fd(procmgr *h, int *ret_fd);
/* pm_meta_fd(), and the directory's stat as it is now. */
int pm_meta_fd_stat(procmgr *h, int *ret_fd, struct stat *ret_st);
/* Close the kept fd (h's paths changed, or h is freed). */
void pm_meta_drop(procmgr *h);
/*
 * Walk only DIR/HOSTFP/NAME, from host_fd (a checked fd on DIR/HOSTFP),
 * and keep it as h's metadata directory, fresh: the next pm_meta_fd()
 * takes it as it is, the walk having just checked it. For a listing,
 * which walks DIR/HOSTFP once for all its NAMEs.
 */
int pm_meta_open_at(procmgr *h, int host_fd);
/* Open DIR/HOSTFP, checked; create makes it. */
int pm_open_host(procmgr *h, bool create, int *ret_fd);

/* ---- keys.c -------------------------------------------------------- */

/*
 * Pin the metadata directory for a group of reads: until pm_meta_unpin(),
 * key reads use the kept fd (pm_meta_fd()) without looking again whether
 * DIR/HOSTFP/NAME still names it, and so all read the same directory even
 * if a successor's replaces it meanwhile. -ENOENT when there is none.
 */
int pm_meta_pin(procmgr *h);
void pm_meta_unpin(procmgr *h);
/* Check a key name (see procmgr.h). */
int pm_key_check(procmgr *h, const char *key);
/* procmgr_read_raw(), and the fstat of the file it read (may be NULL). */
int pm_key_read_stat(procmgr *h, const char *key, char **ret_value,
		     size_t *ret_len, struct stat *ret_st);
/* lstat KEY in the metadata directory (the pinned one while pinned). */
int pm_key_stat(procmgr *h, const char *key, struct stat *ret);
/* The names in directory fd (consumed) that want accepts, sorted. */
int pm_list_dir(int fd, bool (*want)(int, const char *), char ***ret);
/* An empty NULL-terminated array. */
int pm_empty_strv(char ***ret);

/* ---- await.c ------------------------------------------------------- */

/* Read a non-blocking inotify fd empty: a wake-up, its events unused. */
void pm_inotify_drain(int ifd);

/* ---- lock.c -------------------------------------------------------- */

/*
 * 1 when nobody holds NAME's lifecycle lock (F_OFD_GETLK: nothing is taken
 * or written), 0 when someone does, < 0 when it cannot tell.
 */
int pm_lock_free(procmgr *h);
/*
 * The pid a lock message ("<pid> (<argv>)") starts with, once surrounding
 * white space is stripped: 0 when it starts with a valid pid followed by
 * anything but another digit, -EBADMSG otherwise.
 */
int pm_lock_message_pid(const char *msg, pid_t *ret_pid);
/*
 * Wait as procmgr_lock() does (wait line, h->lock_timeout), but for a
 * shared lock on NAME: one that any number of readers hold together and
 * no state change can be under way beneath. 1: held through *ret_fd
 * (close it to let go); 0: not tried, since h holds the lock or runs
 * under an inherited one (PROCMGR_LOCK_FD), whose owner it would wait
 * for; else -errno (-EWOULDBLOCK: timed out).
 */
int pm_lock_shared(procmgr *h, int *ret_fd);

/* ---- status.c ------------------------------------------------------ */

/*
 * The start_time key, "<start time> <boot id>": digits, one space (then
 * any blanks), 36 characters of [0-9a-f-], nothing after. -EBADMSG else.
 */
int pm_parse_start_time(const char *v, unsigned long long *ret_start,
			char ret_boot[PM_BOOT_ID_LEN + 1]);
/*
 * The exit key, "status=N at=T" or "signal=NAME at=T" (at= optional), with
 * " reason=R" when procmgr ended it, into *ret (at and reason strdup'd);
 * anything else leaves *ret untouched. v is cut up.
 */
void pm_parse_exit(char *v, struct procmgr_exit *ret);

/*
 * Is pid the process the metadata names? Reads start_time, process_name,
 * pidfd_ino and the pid key's age from h. 1 yes, 0 no (and a warning on
 * corrupt keys).
 */
int pm_identity_matches(procmgr *h, pid_t pid);
/*
 * Open a pidfd for pid and confirm, after opening, that it is still the
 * process the metadata names: -ESRCH otherwise.
 */
int pm_pidfd_verified(procmgr *h, pid_t pid, int *ret_pidfd);
/*
 * Record the pidfd_ino key for pid, the daemon about to be recorded: the
 * inode of a pidfd on it, unique for the boot on pidfs (Linux >= 6.9).
 * Call it after start_time and before pid, wherever a pid is recorded.
 * Where pidfds have no such inode (older kernels) or cannot be opened, an
 * older key is removed instead. -ESRCH when pid is gone.
 */
int pm_record_pidfd_ino(procmgr *h, pid_t pid);
/* The same in the metadata directory dirfd (no message): for the monitor. */
int pm_put_pidfd_ino(int dirfd, pid_t pid);
/*
 * May pid be signalled on h's behalf? Never another user's process: for a
 * caller who is not root, pid must be the caller's; for root, pid must
 * belong to the owner of the metadata directory. 0 yes, 1 pid (or the
 * metadata) is gone meanwhile, -EPERM (with h's message) no.
 */
int pm_check_owner(procmgr *h, pid_t pid);

/* ---- live.c: a status given again while nothing changed ------------ */

/* What proves a status of a running daemon, handed to pm_live_keep(). */
struct pm_live_proof {
	const struct procmgr_status *st;
	int pidfd;		/* the daemon's, opened before its identity
				 * check and alive after it; or -1 */
	int mon_pidfd;		/* the same of its monitor, or -1 */
	long long ticks;	/* start ticks its started_at comes from; -1 */
	char *argv0;		/* pants' metadata: argv[0] it was matched by */
};
/*
 * Start recording a full status read in dirfd (the pinned directory):
 * true; false when this one is not to be kept, and needs no proof.
 */
bool pm_live_begin(procmgr *h, int dirfd);
/* A key that status read, as the fstat of the file read found it. */
void pm_live_note(procmgr *h, const char *key, const struct stat *st);
/*
 * End the recording: keep *p->st as the answer to give again when it is
 * running and everything it was read from is settled. Takes p's fds and
 * argv0, whatever it decides.
 */
void pm_live_keep(procmgr *h, int dirfd, struct pm_live_proof *p);
/* Close p's fds and free its argv0. */
void pm_live_proof_clear(struct pm_live_proof *p);
/*
 * The kept answer, into ret (its strings malloc'd), if everything that
 * proves it still holds: 1; else 0, and it is forgotten.
 */
int pm_live_answer(procmgr *h, struct procmgr_status *ret);
/* Forget it and free what holds it (h freed, or its paths changed). */
void pm_live_drop(procmgr *h);

/* ---- events.c: procmgr's own lines in the daemon's log ------------- */

/*
 * Append "procmgr: <RFC 3339 time> <text>\n" to log_fd in one write(2),
 * so that it lands whole between the daemon's own lines. Returns the
 * offset the line starts at, or -1.
 */
off_t pm_event(int log_fd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Open h's log (key log) to append events: -1 when there is none. */
int pm_event_log_open(procmgr *h);

/* ---- purge.c ------------------------------------------------------- */

/*
 * Remove DIR/HOSTFP/NAME only if its pid key still reads expected_pid
 * (0: absent or unparsable). Rename aside, verify, remove. -ESTALE if not.
 */
int pm_meta_remove_if(procmgr *h, pid_t expected_pid);

/*
 * Take the lock (procmgr_lock()), then clear what crashed state changes of
 * NAME left: temp files in its metadata directory and of its lock message,
 * and its directories moved aside for removal (".NAME.purge.*") - each
 * only when its creator is gone. A moved aside copy goes back when NAME is
 * missing (the removal never finished), and is removed otherwise. The
 * sweep is best-effort. With ret_st, then read the status; the lock is
 * held on success only.
 */
int pm_lock_and_sweep(procmgr *h, struct procmgr_status *ret_st);

/* ---- stop.c -------------------------------------------------------- */

/*
 * Stop main (already referenced) along the chain, then, unless kill_mode
 * is PROCMGR_KILL_PROCESS, every descendant of tree_root (the monitor, or
 * main itself when there is none) but main and tree_root. Each signal is
 * logged to log_fd (-1: none). 1 all gone, 0 something survived (h's
 * message names it), -EINTR, or another error.
 */
int pm_stop_tree(procmgr *h, struct pm_pref *main, pid_t tree_root,
		 const struct pm_chain *c, int log_fd);

/* ---- job.c: what the starter hands procmgr-monitor ----------------- */

/*
 * Everything the monitor needs to run and supervise the daemon. Decoded,
 * every pointer is owned (pm_job_clear()); the starter fills one with
 * borrowed pointers and only encodes it.
 */
struct pm_job {
	char *exe;		/* resolved executable */
	char **argv;
	size_t n_argv;
	char **envp;		/* without NOTIFY_SOCKET: the monitor adds it */
	size_t n_envp;
	char *cwd;		/* absolute */
	char *log_path;		/* absolute, for the log key */
	char *fingerprint;
	char *inputs;		/* the fingerprint_inputs key */
	char *process_name;	/* NULL: not recorded */
	struct procmgr_ready ready;
	double ready_timeout;	/* seconds; < 0 forever */
	bool kill_on_timeout;
	struct pm_chain stop;
	enum procmgr_restart_policy restart;
	int restart_limit;
	double idle_timeout;	/* 0: none */
	double watchdog;	/* 0: none */
	char *pid_file;		/* NULL: none */
	char *reason;		/* why it is started, for the log */
	bool has_lock;		/* fd PM_MON_FD_LOCK shares the starter's lock */
};
int pm_job_encode(const struct pm_job *j, char **ret, size_t *ret_len);
int pm_job_decode(const char *data, size_t len, struct pm_job *ret);
void pm_job_clear(struct pm_job *j);

/* The fds procmgr-monitor finds at exec, besides /dev/null on 0-2. */
#define PM_MON_FD_JOB 3		/* sealed memfd: the encoded job */
#define PM_MON_FD_CTL 4		/* SOCK_SEQPACKET: results to the starter */
#define PM_MON_FD_LOG 5		/* the daemon's log, O_APPEND */
#define PM_MON_FD_LOCK 6	/* the starter's lock (same open file) */
#define PM_MONITOR_NAME "procmgr-monitor"

/* What the monitor tells the starter (SPEC §6: a typed start result). */
enum pm_result_kind {
	PM_RES_STARTED = 1,	/* forked and recorded: pid (not final) */
	PM_RES_READY,		/* ready: pid */
	PM_RES_EXEC_FAILED,	/* step, err */
	PM_RES_DIED,		/* before ready: status / signal */
	PM_RES_TIMEOUT,		/* not ready in time; killed says if stopped */
	PM_RES_ERROR,		/* err, text: the monitor could not go on */
};

struct pm_result {
	int32_t kind;
	int32_t pid;
	int32_t step;		/* enum pm_spawn_step of an exec failure */
	int32_t err;		/* errno */
	int32_t status;		/* exit status, -1 when killed */
	int32_t signal;		/* signal number, or 0 */
	int32_t killed;		/* TIMEOUT: stopped (kill_on_timeout) */
	int64_t log_offset;	/* where this start's lines begin in the log */
	char text[512];		/* ERROR: the monitor's message */
};

/* Where the daemon's start failed, as the exec pipe reports it. */
enum pm_spawn_step {
	PM_STEP_SETSID = 1, PM_STEP_FORK, PM_STEP_STDIO, PM_STEP_CHDIR,
	PM_STEP_EXEC,
};

/* ---- spawn.c: the starter's side ----------------------------------- */

/* Resolve argv[0] like execvp (relative to cwd when it has a '/'). */
int pm_find_exe(procmgr *h, const char *argv0, const char *cwd,
		char **ret_path);
/*
 * Exec procmgr-monitor for job (detached, in a new session) and wait for
 * its result. 0 ready (*ret_pid), else the error with h's message.
 */
int pm_spawn_monitor(procmgr *h, const struct pm_job *job, int log_fd,
		     pid_t *ret_pid);
/* The message for an exec failure the monitor reports. */
int pm_exec_error(procmgr *h, const char *exe, const char *cwd, int step,
		  int err);
/*
 * Make fd >= 3 (CLOEXEC) so dup2 onto 0-2 never clobbers it. On failure fd
 * is left open for the caller to close.
 */
int pm_fd_above_stdio(int fd);
/* Both ends of a pipe or socketpair above stdio; on failure both closed. */
int pm_pair_above_stdio(int p[2]);
/* A CLOEXEC pipe (or socketpair of type) above stdio, with h's message. */
int pm_make_pipe(procmgr *h, int *ret_r, int *ret_w);
int pm_make_socketpair(procmgr *h, int type, int *ret_a, int *ret_b);

/* ---- ready.c ------------------------------------------------------- */

/* "notify", "tcp:8080", ... for messages, into buf. */
void pm_ready_text(const struct procmgr_ready *r, char *buf, size_t size);
/* tcp:PORT / unix:PATH: 1 when a connect succeeds now, 0 not, < 0 error. */
int pm_ready_connect(const struct procmgr_ready *r);
/*
 * Split one sd_notify datagram (msg, len bytes; modified) into VAR=VALUE
 * lines and call fn for each; lines without '=' are skipped. Returns how
 * many were passed on. msg must have room for one byte past len.
 */
int pm_notify_parse(char *msg, size_t len,
		    void (*fn)(const char *var, const char *value, void *),
		    void *userdata);

/* ---- fingerprint.c ------------------------------------------------- */

/*
 * procmgr_fingerprint() that says on h (may be NULL) what failed: a
 * fingerprint file that is there but cannot be read is named.
 */
int pm_fingerprint(procmgr *h, const struct procmgr_spawn_opts *opts,
		   char ret_fp[PROCMGR_SHA256_HEX + 1], char **ret_inputs);
/* Lines of "kind hex" that differ, as "argv changed, env FOO changed". */
int pm_fingerprint_reason(const char *old_inputs, const char *new_inputs,
			  char **ret_reason);

/* ---- start.c ------------------------------------------------------- */

/* opts (size bytes, the caller's struct) into ret, checked for size. */
int pm_spawn_opts_in(procmgr *h, const struct procmgr_spawn_opts *in,
		     size_t size, struct procmgr_spawn_opts *ret);
/* Check the options of a start: argv, readiness, supervision. */
int pm_check_spawn_opts(procmgr *h, const struct procmgr_spawn_opts *o);
/*
 * Start the daemon, the lock held and nothing running: clear what is left
 * of an earlier run, hand the job to the monitor, wait until it is ready.
 * why says what the log's "started" line gives as the reason.
 */
int pm_start_locked(procmgr *h, const struct procmgr_spawn_opts *o,
		    const char *why, pid_t *ret_pid);

/* ---- logs.c -------------------------------------------------------- */

/* Open (rotating first) the log for appending; ret_path is absolute. */
int pm_log_open(procmgr *h, const char *path, off_t max, int *ret_fd,
		char **ret_path);
/* The last n lines of the log from offset from on. */
int pm_log_tail_from(procmgr *h, off_t from, size_t n, char **ret_text);

#endif
