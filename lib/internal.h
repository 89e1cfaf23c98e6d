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
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define PM_ERRMSG_MAX 1024
#define PM_BOOT_ID_LEN 36	/* "6b0f2a2c-...": 36 characters */
#define PM_READ_MAX (1 << 20)	/* largest metadata value read, bytes */

struct procmgr {
	bool opened;
	char name[PROCMGR_NAME_MAX + 1];
	char hostfp[PROCMGR_HOSTFP_LEN + 1];
	char *dir;		/* DIR, absolute or as given */
	char *host_dir;		/* DIR/HOSTFP */
	char *meta_dir;		/* DIR/HOSTFP/NAME */
	char *lock_path;	/* DIR/.lock.NAME */
	char *lock_msg_path;	/* DIR/.lock.NAME.lock_message */
	char *default_log;	/* DIR/HOSTFP/NAME.log */

	int meta_pin;		/* pinned DIR/HOSTFP/NAME fd, or -1 */
	int lock_fd;		/* -1 when the lock is not held */
	unsigned lock_depth;
	double lock_timeout;
	procmgr_lock_wait_fn lock_fn;
	void *lock_userdata;

	char errmsg[PM_ERRMSG_MAX];
	char *warning;
};

/* ---- util.c ------------------------------------------------------- */

/* Set h's message (printf-style) and return -err; err is a positive errno. */
int pm_error(procmgr *h, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Replace h's warning (printf-style). */
void pm_warn(procmgr *h, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* -EINVAL (with h's message, when h) unless h is an opened handle. */
int pm_check_open(procmgr *h);
/* malloc'd printf; NULL when out of memory. */
char *pm_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Strip surrounding white space in place; returns the start inside s. */
char *pm_strip(char *s);
/* Parse a decimal pid (> 1, fits pid_t, nothing else but white space). */
int pm_parse_pid(const char *s, pid_t *ret_pid);
/* Seconds as a double to a struct timespec deadline on CLOCK_MONOTONIC. */
void pm_deadline(double timeout, struct timespec *ret_deadline);
/* Milliseconds left to deadline (>= 0), for poll(); timeout < 0: -1. */
int pm_ms_left(double timeout, const struct timespec *deadline);

/* ---- sha256.c ----------------------------------------------------- */

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

/* ---- basedir.c ---------------------------------------------------- */

/*
 * Check an open directory fd against the safety rules of SPEC §1 (owner is
 * the caller or root, not group/world-writable unless sticky). path is for
 * the message.
 */
int pm_check_dir(procmgr *h, int fd, const char *path);
/*
 * Open DIR (create=true: make it, 0700, if missing), checked, as an
 * O_PATH-free O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC fd.
 */
int pm_open_base(procmgr *h, bool create, int *ret_fd);
/* Open DIR/HOSTFP/NAME, each component checked; create makes them. */
int pm_open_meta(procmgr *h, bool create, int *ret_fd);
/* Open DIR/HOSTFP, checked; create makes it. */
int pm_open_host(procmgr *h, bool create, int *ret_fd);

/* ---- meta.c (pinning) --------------------------------------------- */

/*
 * Pin the metadata directory for a group of reads: until pm_meta_unpin(),
 * key reads use this one checked fd instead of walking and checking DIR,
 * HOSTFP and NAME again each time, and so all read the same directory even
 * if a successor's replaces it meanwhile. -ENOENT when there is none.
 */
int pm_meta_pin(procmgr *h);
void pm_meta_unpin(procmgr *h);

/* ---- atomic.c ----------------------------------------------------- */

/* Write name in dirfd atomically: temp + write all + fsync + rename. */
int pm_write_atomic_at(int dirfd, const char *name, const void *data,
		       size_t len, mode_t mode);
/* Read name in dirfd whole (at most max bytes); ret NUL-terminated. */
int pm_read_at(int dirfd, const char *name, size_t max, char **ret_data,
	       size_t *ret_len);
/* Remove directory name in dirfd and everything in it (no symlink follow). */
int pm_rm_rf_at(int dirfd, const char *name);

/* ---- meta.c ------------------------------------------------------- */

/* Check a key name (see procmgr.h). */
int pm_key_check(procmgr *h, const char *key);

/* ---- proc.c ------------------------------------------------------- */

/* State letter and start time (field 22) of pid from /proc/PID/stat. */
int pm_proc_stat(pid_t pid, char *ret_state, unsigned long long *ret_start);
/* Field 3 (state letter) and field 22 (start time) of a /proc stat line. */
int pm_parse_stat(const char *line, char *ret_state,
		  unsigned long long *ret_start);
/*
 * The start_time key, "<start time> <boot id>": digits, one space (then
 * any blanks), 36 characters of [0-9a-f-], nothing after. -EBADMSG else.
 */
int pm_parse_start_time(const char *v, unsigned long long *ret_start,
			char ret_boot[PM_BOOT_ID_LEN + 1]);
/*
 * The exit key, "status=N at=T" or "signal=NAME at=T" (at= optional), into
 * *ret (at strdup'd); anything else leaves *ret untouched. v is cut up.
 */
void pm_parse_exit(char *v, struct procmgr_exit *ret);
/* /proc/sys/kernel/random/boot_id, 36 characters + NUL. */
int pm_boot_id(char ret[PM_BOOT_ID_LEN + 1]);
/* argv[0] of pid as /proc/PID/cmdline holds it. */
int pm_proc_argv0(pid_t pid, char **ret_argv0);
/* Real uid owning pid (from /proc/PID status). */
int pm_proc_uid(pid_t pid, uid_t *ret_uid);
/*
 * Is pid the process the metadata names? Reads start_time / process_name
 * from h. 1 yes, 0 no (and a warning on corrupt keys).
 */
int pm_identity_matches(procmgr *h, pid_t pid);
/*
 * Open a pidfd for pid and confirm, after opening, that it is still the
 * process the metadata names: -ESRCH otherwise.
 */
int pm_pidfd_verified(procmgr *h, pid_t pid, int *ret_pidfd);
/* Wait on a pidfd until the process exits or timeout: 1 exited, 0 not. */
int pm_pidfd_wait(int pidfd, double timeout);
/*
 * Remove DIR/HOSTFP/NAME only if its pid key still reads expected_pid
 * (0: absent or unparsable). Rename aside, verify, remove. -ESTALE if not.
 */
int pm_meta_remove_if(procmgr *h, pid_t expected_pid);

/* ---- lock.c ------------------------------------------------------- */

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

/* ---- spawn.c, monitor.c, ready.c, fingerprint.c, logs.c (helper C) - */

/* What the monitor tells the caller through the report pipe. */
enum pm_report_kind {
	PM_REPORT_PID = 1,	/* the daemon was forked: pid */
	PM_REPORT_EXIT,		/* the daemon ended: status / signal */
};

struct pm_report {
	int kind;
	pid_t pid;
	int status;		/* exit status, -1 when killed */
	int signal;		/* signal number, or 0 */
};

/* Everything the fork chain needs, prepared before the first fork. */
struct pm_spawn {
	char *exe;		/* resolved executable */
	char *const *argv;
	char **envp;
	char *cwd;		/* NULL: inherit */
	const char *lock_path;	/* the monitor takes the lock to record exit */
	const char *meta_dir;
	const char *log_path;	/* the log log_fd appends to, for messages */
	int log_fd, devnull_fd;
	int exec_r, exec_w;	/* CLOEXEC pipe: errno of a failed exec */
	int report_r, report_w;	/* monitor -> caller */
	int ready_w;		/* fd:N pipe's write end, or -1 */
	int ready_n;		/* N */
	int gate_r, gate_w;	/* the daemon execs after a byte on it */
	pid_t pid;		/* the daemon, once forked */
};

/* Resolve argv[0] like execvp (relative to cwd when it has a '/'). */
int pm_find_exe(procmgr *h, const char *argv0, const char *cwd,
		char **ret_path);
/*
 * The fork chain; on success sp->pid is the daemon, held before its exec
 * until pm_spawn_release() (so its metadata is complete before it runs).
 */
int pm_spawn_run(procmgr *h, struct pm_spawn *sp);
/* Let the daemon exec (go=false: make it _exit) and learn how exec went. */
int pm_spawn_release(procmgr *h, struct pm_spawn *sp, bool go);
/* Close every fd the spawn owns (accepts a half-prepared one). */
void pm_spawn_clear(struct pm_spawn *sp);
/* Where the fork chain failed, as the exec pipe reports it. */
enum pm_spawn_step {
	PM_STEP_SETSID = 1, PM_STEP_FORK, PM_STEP_STDIO, PM_STEP_CHDIR,
	PM_STEP_EXEC,
};
/* Report (step, err) on the exec pipe and _exit(127); fork children only. */
void pm_spawn_fail(int fd, int step, int err) __attribute__((noreturn));
/* The daemon's side of the last fork: set up and exec; never returns. */
void pm_daemon_exec(const struct pm_spawn *sp) __attribute__((noreturn));
/* Runs in the monitor process; never returns. */
void pm_monitor_main(struct pm_spawn *sp) __attribute__((noreturn));
/* "signal=TERM" / "status=3" text for an exit report, into buf. */
void pm_exit_text(const struct pm_report *r, char *buf, size_t size);
/*
 * Make fd >= 3 (CLOEXEC) so dup2 onto 0-2 never clobbers it. On failure fd
 * is left open for the caller to close.
 */
int pm_fd_above_stdio(int fd);
/* Both ends of a pipe or socketpair above stdio; on failure both closed. */
int pm_pair_above_stdio(int p[2]);

/* Readiness state the caller prepares before spawning. */
struct pm_ready_wait {
	const struct procmgr_ready *mode;
	int notify_fd;		/* datagram socket for NOTIFY_SOCKET, or -1 */
	/*
	 * NOTIFY_SOCKET's value: "@" for the leading NUL, then the abstract
	 * address the kernel autobound (five hex digits); "" when the mode
	 * is not notify.
	 */
	char notify_addr[64];
	int pipe_r;		/* fd:N read end, or -1 */
};
int pm_ready_prepare(procmgr *h, const struct procmgr_ready *mode,
		     struct pm_ready_wait *rw, struct pm_spawn *sp);
/*
 * Wait until the daemon is ready, it dies (-ECHILD, *ret_exit filled) or
 * timeout passes (-ETIMEDOUT).
 */
int pm_ready_wait(procmgr *h, struct pm_ready_wait *rw, struct pm_spawn *sp,
		  double timeout, struct pm_report *ret_exit);
void pm_ready_wait_clear(struct pm_ready_wait *rw);

/*
 * procmgr_fingerprint() that says on h (may be NULL) what failed: a
 * fingerprint file that is there but cannot be read is named.
 */
int pm_fingerprint(procmgr *h, const struct procmgr_spawn_opts *opts,
		   char ret_fp[PROCMGR_SHA256_HEX + 1], char **ret_inputs);
/* Lines of "kind hex" that differ, as "argv changed, env FOO changed". */
int pm_fingerprint_reason(const char *old_inputs, const char *new_inputs,
			  char **ret_reason);

/* Open (rotating first) the log for appending; ret_path is absolute. */
int pm_log_open(procmgr *h, const char *path, off_t max, int *ret_fd,
		char **ret_path);

#endif
