/*
 * procmgr.h - manage named background processes (daemons).
 *
 * A guide to the API
 * ==================
 *
 * A *handle* names one daemon: a NAME under a metadata base directory DIR.
 * Everything procmgr knows about the daemon lives in small files ("keys")
 * in DIR/HOSTFP/NAME/, laid out as pants' ProcessManager lays them out, so
 * pants and procmgr can read each other's state:
 *
 *	procmgr *h = procmgr_new();
 *	if (!h || procmgr_open(h, NULL, "web") < 0)
 *		fail(procmgr_errmsg(h));
 *
 * Keys are read and written whole and atomically (procmgr_read(),
 * procmgr_write()); procmgr_await() blocks until a key appears.
 *
 * *Liveness* (procmgr_status()) answers "is the process my metadata names
 * still that process?": pid, start time and boot id must all match, so a
 * recycled pid never passes as running. Where the kernel has pidfs (Linux
 * 6.9 and later) a start also records key pidfd_ino, the inode number (in
 * decimal) of a pidfd on the daemon, which no other process of the boot
 * shares; when present it must match too, so even a pid reused within
 * the daemon's start tick (start times count 10 ms ticks) is told apart.
 *
 * The *lifecycle lock* (procmgr_lock()) is an OFD fcntl lock on
 * DIR/.lock.NAME. It excludes other procmgr processes and pants' clients
 * (which take POSIX lockf locks on the same file). The state-changing calls
 * below (procmgr_stop(), procmgr_purge(), procmgr_start(), procmgr_ensure(),
 * procmgr_restart()) take it themselves unless the handle already holds it;
 * the lock is counted, so a caller may hold it around several calls.
 *
 * *Spawning* (procmgr_start(), procmgr_ensure()) execs procmgr-monitor, a
 * small program of its own, in a new session; the monitor starts the daemon
 * as its child and owns it for life (SPEC §6): it records the metadata,
 * waits until the daemon is ready by the chosen protocol and tells the
 * starter exactly how the start went, keeps the daemon's whole process tree
 * (it is a child subreaper), listens on $NOTIFY_SOCKET for as long as the
 * daemon runs, and applies the lifecycle policy: idle timeout, restart on
 * failure, watchdog. Its path is fixed at build time; $PROCMGR_MONITOR
 * overrides it, and an uninstalled build finds it beside the program or
 * the shared library.
 *
 * *Waits* (the lock, readiness, procmgr_await(), the kill chain) return
 * -EINTR when a signal handler of the caller ran meanwhile, with the state
 * consistent (the lock released, the metadata whole), so that Ctrl-C can
 * cancel them. A caller that installs handlers for signals it does not
 * mean as a cancel (SIGCHLD, say) sees -EINTR for those too, and retries.
 *
 * Conventions: every function that can fail returns an int, >= 0 on success
 * and a negative errno value on failure. The handle keeps a message about
 * the last failure (procmgr_errmsg()). Output parameters are named ret_* and
 * written only on success. Strings handed out are malloc'd and freed by the
 * caller with free() unless the comment says otherwise. The library never
 * prints and never exits. It keeps no global state but a copy of the boot
 * id, which cannot change while a process runs; different handles may be
 * used from different threads at once, one handle by one thread at a time.
 *
 * ABI policy. The shared library keeps its soname (libprocmgr.so.0) for
 * every 0.x and 1.x release, so a program or binding built against 0.1
 * runs with any later one:
 *  - Functions are only added, never removed or changed.
 *  - struct procmgr_spawn_opts and struct procmgr_status only grow, at
 *    their end. Every call that takes one also takes its size, compiled
 *    into the caller: the macros below pass sizeof for C (procmgr_start()
 *    is procmgr_start_sized(..., sizeof(struct procmgr_spawn_opts), ...)),
 *    and a binding passes its own struct's size to the _sized function.
 *    The library reads a smaller (older) struct as if the fields it lacks
 *    were zero, fills only the part of an output struct the caller has,
 *    and refuses a larger (newer) input struct whose unknown fields are not
 *    all zero with -E2BIG: an option this library does not know is never
 *    silently ignored. (This is the convention of Linux's
 *    copy_struct_from_user(), as in clone3() and openat2().)
 *  - The structs these contain or point to (struct procmgr_ready, struct
 *    procmgr_exit, struct procmgr_stop_opts, struct procmgr_monitor) and
 *    the enums' existing values never change.
 *
 * Domain errors map onto errno values:
 *	-EINVAL      bad name, key or option
 *	-ENOENT      key or metadata absent
 *	-ESRCH       not running
 *	-EEXIST      already running (procmgr_start())
 *	-EBADMSG     corrupt metadata
 *	-ETIMEDOUT   await or readiness timed out
 *	-EWOULDBLOCK lock held by another (at once, or after the lock wait)
 *	-EBUSY       still running (procmgr_purge() without force)
 *	-ETIME       survived the whole signal chain (procmgr_stop())
 *	-ESTALE      metadata changed under us (purge compare-and-delete)
 *	-EPERM       process owned by another user
 *	-ECHILD      daemon died before it was ready
 *	-EINTR       a signal handler ran during a wait (see above)
 *	-ENOTDIR, -ELOOP, -EACCES  unsafe base directory (see procmgr_open())
 */
#ifndef PROCMGR_H
#define PROCMGR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(PROCMGR_BUILD)
#define PROCMGR_EXPORT __attribute__((visibility("default")))
#else
#define PROCMGR_EXPORT
#endif

/*
 * The version: these three numbers are its one source. The Makefile reads
 * them from here (the shared library's file name and the pkg-config file),
 * and debian/changelog must name the same version (tests/cli/version.bats
 * checks it). PROCMGR_VERSION is the header's version as a string,
 * PROCMGR_VERSION_NUMBER the same as one integer for #if comparisons
 * (0.1.0 is 100, 1.2.3 is 10203). procmgr_version() is the version of the
 * library actually loaded, which may be newer than the header a program
 * was built with.
 */
#define PROCMGR_VERSION_MAJOR 0
#define PROCMGR_VERSION_MINOR 1
#define PROCMGR_VERSION_PATCH 0

#define PROCMGR_STR_(x) #x
#define PROCMGR_STR(x) PROCMGR_STR_(x)
#define PROCMGR_VERSION                         \
	PROCMGR_STR(PROCMGR_VERSION_MAJOR) "."  \
	PROCMGR_STR(PROCMGR_VERSION_MINOR) "."  \
	PROCMGR_STR(PROCMGR_VERSION_PATCH)
#define PROCMGR_VERSION_NUMBER                  \
	(PROCMGR_VERSION_MAJOR * 10000 +        \
	 PROCMGR_VERSION_MINOR * 100 + PROCMGR_VERSION_PATCH)

#define PROCMGR_NAME_MAX 64	/* longest NAME, without the NUL */
#define PROCMGR_HOSTFP_LEN 12	/* hex digits of the host fingerprint */
#define PROCMGR_SHA256_HEX 64	/* hex digits of a SHA-256 digest */

typedef struct procmgr procmgr;

/*
 * The version of the library in use, "MAJOR.MINOR.PATCH": the
 * PROCMGR_VERSION the library was built with, not the one of the header
 * the caller was compiled against. A static string.
 */
PROCMGR_EXPORT const char *procmgr_version(void);

/* ------------------------------------------------------------------ */
/* Host, names and the base directory                                 */

/*
 * Write the host fingerprint into ret_fp (13 bytes with the NUL): the first
 * 12 lowercase hex digits of SHA-256 over uname(2)'s sysname, nodename,
 * release, version and machine concatenated, as pants computes it.
 */
PROCMGR_EXPORT int procmgr_host_fingerprint(char ret_fp[PROCMGR_HOSTFP_LEN + 1]);

/*
 * Check NAME and write its stored form (lower-cased, surrounding white space
 * stripped, as pants does) into ret_name. Allowed: 1-64 characters of
 * [a-z0-9._-] after lower-casing, not starting with '.'. -EINVAL otherwise.
 */
PROCMGR_EXPORT int procmgr_name_normalize(const char *name,
					  char ret_name[PROCMGR_NAME_MAX + 1]);

/*
 * The base directory procmgr uses when none is given: $PROCMGR_DIR, else
 * $XDG_RUNTIME_DIR/procmgr, else /tmp/procmgr-<uid>. Empty variables are
 * ignored.
 */
PROCMGR_EXPORT int procmgr_default_dir(char **ret_dir);

/*
 * List the NAMEs that have metadata under DIR/HOSTFP (dir NULL: the
 * default), sorted. ret_names is a NULL-terminated array; free it with
 * procmgr_strv_free(). A missing DIR gives an empty list. Entries that are
 * not valid names are skipped.
 */
PROCMGR_EXPORT int procmgr_list(const char *dir, char ***ret_names);
PROCMGR_EXPORT void procmgr_strv_free(char **strv);

/* ------------------------------------------------------------------ */
/* Handles                                                            */

/* A new, unopened handle, or NULL when out of memory. */
PROCMGR_EXPORT procmgr *procmgr_new(void);

/* Free the handle, releasing its lock if held. Accepts NULL. */
PROCMGR_EXPORT void procmgr_free(procmgr *h);

/*
 * Point the handle at NAME under dir (NULL: procmgr_default_dir()). The
 * name is normalized (procmgr_name_normalize()). Existing components of
 * DIR, DIR/HOSTFP and DIR/HOSTFP/NAME are checked: each must be a real
 * directory (not a symlink: -ELOOP), owned by the caller or by root
 * (-EACCES), and not group/world-writable unless sticky (-EACCES). Nothing is
 * created here: directories are made, mode 0700, by the first call that
 * writes or locks. A handle is opened once. It keeps a close-on-exec fd
 * on DIR/HOSTFP/NAME for its reads, and before each use only checks that
 * the path still leads to that directory; procmgr_free() closes it. When
 * DIR/HOSTFP/NAME does not exist but another HOSTFP of DIR holds NAME as
 * a live process of this boot (the host was renamed under it), the
 * handle uses that one, and procmgr_warning() says so.
 */
PROCMGR_EXPORT int procmgr_open(procmgr *h, const char *dir, const char *name);

/*
 * procmgr_open() for reading only: status, keys, the log. Root may then
 * read another user's DIR (its owner is accepted as root's own would be;
 * symlinks and open-to-all directories are still refused). Every call that
 * would write, lock or change state fails with -EROFS.
 */
PROCMGR_EXPORT int procmgr_open_read_only(procmgr *h, const char *dir,
					  const char *name);

/*
 * The message about the last failure on this handle ("" if none). Valid
 * until the next call on the handle. Accepts NULL (out of memory).
 */
PROCMGR_EXPORT const char *procmgr_errmsg(const procmgr *h);

/*
 * The parameter the last failure is about, when changing it is the fix,
 * so that a caller can point at its own name for it (the CLI's --dir, a
 * binding's keyword): "dir" (procmgr_open()'s), "cwd", "log_path",
 * "fingerprint_files" (struct procmgr_spawn_opts fields), "force"
 * (procmgr_purge()'s); NULL for any other failure. Static string.
 */
PROCMGR_EXPORT const char *procmgr_errparam(const procmgr *h);

/*
 * A warning left by the last procmgr_status() (corrupt metadata, naming
 * the file), or NULL.
 */
PROCMGR_EXPORT const char *procmgr_warning(const procmgr *h);

/* Accessors; strings owned by the handle. */
PROCMGR_EXPORT const char *procmgr_get_name(const procmgr *h);
PROCMGR_EXPORT const char *procmgr_get_dir(const procmgr *h);
PROCMGR_EXPORT const char *procmgr_meta_dir(const procmgr *h); /* DIR/HOSTFP/NAME */
PROCMGR_EXPORT const char *procmgr_lock_path(const procmgr *h); /* DIR/.lock.NAME */
PROCMGR_EXPORT const char *procmgr_default_log(const procmgr *h); /* DIR/HOSTFP/NAME.log */

/* ------------------------------------------------------------------ */
/* Keys                                                               */

/*
 * A key is a file name in the metadata directory: 1-255 bytes, no '/', not
 * "." or "..", not starting with '.' (those are temp files). -EINVAL else.
 */

/*
 * Read KEY; surrounding white space is stripped (pants writes values with
 * and without a trailing newline). -ENOENT when absent.
 */
PROCMGR_EXPORT int procmgr_read(procmgr *h, const char *key, char **ret_value);

/* Read KEY's bytes exactly (cmdline holds NULs); ret_value NUL-terminated. */
PROCMGR_EXPORT int procmgr_read_raw(procmgr *h, const char *key,
				    char **ret_value, size_t *ret_len);

/*
 * Write KEY atomically (temp file in the same directory, rename): a reader
 * sees the old value or the new one, never a partial file. Creates the
 * metadata directory if needed. It is not fsynced: after a crash of the
 * machine a key written just before may be lost or read empty, which
 * changes nothing, since the boot id has changed and every recorded
 * process is stale (an empty or absent key reads as stale too).
 */
PROCMGR_EXPORT int procmgr_write(procmgr *h, const char *key, const char *value);
PROCMGR_EXPORT int procmgr_write_raw(procmgr *h, const char *key,
				     const void *value, size_t len);

/* Remove KEY. Removing an absent key succeeds. */
PROCMGR_EXPORT int procmgr_delete(procmgr *h, const char *key);

/* The keys present, sorted, NULL-terminated; free with procmgr_strv_free(). */
PROCMGR_EXPORT int procmgr_keys(procmgr *h, char ***ret_keys);

/*
 * Wait until KEY exists and return its (stripped) value. Wakes on inotify
 * events, not a sleep loop. timeout < 0 waits forever; -ETIMEDOUT.
 */
PROCMGR_EXPORT int procmgr_await(procmgr *h, const char *key, double timeout,
				 char **ret_value);

/* ------------------------------------------------------------------ */
/* Identity and liveness                                              */

enum procmgr_state {
	PROCMGR_STOPPED = 0,	/* no metadata */
	PROCMGR_STALE = 1,	/* metadata, but not the process it names */
	PROCMGR_RUNNING = 2,
};

struct procmgr_exit {
	bool known;		/* false when no exit key was recorded */
	int status;		/* exit status, or -1 when killed */
	int signal;		/* signal number, or 0 */
	char *at;		/* RFC 3339 UTC, or NULL */
	char *reason;		/* why it ended, when procmgr ended it: "stop",
				 * "idle", "watchdog", "not-ready",
				 * "gave-up"; NULL: it ended by itself */
};

struct procmgr_status {
	enum procmgr_state state;
	pid_t pid;		/* recorded pid, 0 if none or unparsable */
	char *fingerprint;	/* NULL when not recorded */
	char *socket;		/* NULL when not recorded */
	time_t started_at;	/* from start_time, else (pants' metadata)
				 * the live process's start; -1 unknown */
	struct procmgr_exit exit;
	bool ready;		/* it became ready (key ready); metadata not
				 * written by a monitor counts as ready */
	char *status_text;	/* the daemon's last STATUS=, or NULL */
	unsigned restarts;	/* restarts by its monitor so far */
	pid_t monitor;		/* its live monitor, or 0 */
	double idle_timeout;	/* its --idle-timeout, 0 if none */
};

/* Free what a struct procmgr_status holds (not the struct). Accepts NULL. */
PROCMGR_EXPORT void procmgr_status_clear_sized(struct procmgr_status *st,
					       size_t size);
#define procmgr_status_clear(st) \
	procmgr_status_clear_sized((st), sizeof(struct procmgr_status))

/*
 * Read the NAME's state per SPEC §2. Corrupt metadata is not an error: it
 * makes the state STALE and leaves a warning (procmgr_warning()). Without
 * a start_time key, a process that started after the pid key was last
 * written is not the recorded one, and process_name matches argv[0]
 * exactly or as a whole name followed by a blank or ':'. A daemon its
 * monitor stopped for being idle is STOPPED, with its metadata kept and
 * exit.reason "idle". From its second call on, a handle keeps a running
 * answer with a pidfd of the daemon and of its monitor (two fds until
 * procmgr_free()) and gives it again while neither has exited and no
 * file it read has changed (see procmgr(3), LIVENESS).
 */
PROCMGR_EXPORT int procmgr_status_sized(procmgr *h, struct procmgr_status *ret,
				       size_t size);
#define procmgr_status(h, ret) \
	procmgr_status_sized((h), (ret), sizeof(struct procmgr_status))

/*
 * Every NAME of a DIR with its status, for a listing of thousands: the
 * listing walks and checks DIR/HOSTFP once (dir NULL: the default) and
 * reads its NAMEs, sorted, into one buffer; each status then walks only
 * NAME's own directory. A missing DIR lists no NAMEs; failures are those
 * of procmgr_list(). The listing is a snapshot: a NAME made later is not
 * in it, and one removed since reads as STOPPED. Free it with
 * procmgr_listing_free() (accepts NULL).
 */
typedef struct procmgr_listing procmgr_listing;
/*
 * flags: PROCMGR_LISTING_BRIEF reads of each NAME only what its state,
 * pid, started_at, socket and exit need: fingerprint, status_text and
 * monitor stay NULL or 0, restarts 0, idle_timeout 0, ready true. A table
 * of states skips a third of the reads that way (the monitor's identity
 * among them).
 */
#define PROCMGR_LISTING_BRIEF 0x1u
PROCMGR_EXPORT int procmgr_listing_open(const char *dir, unsigned flags,
					procmgr_listing **ret_listing);
PROCMGR_EXPORT size_t procmgr_listing_count(const procmgr_listing *l);
/* The i-th NAME (from 0), owned by the listing; NULL past the end. */
PROCMGR_EXPORT const char *procmgr_listing_name(const procmgr_listing *l,
					       size_t i);
/*
 * Open h, a new handle, read-only on the i-th NAME and read its status:
 * procmgr_open_read_only() and procmgr_status() in one call, with the
 * same checks, answers and messages (an unsafe NAME directory fails with
 * h's message saying why). h stays open on NAME for further reads.
 */
PROCMGR_EXPORT int procmgr_listing_status_sized(procmgr_listing *l, size_t i,
					       procmgr *h,
					       struct procmgr_status *ret,
					       size_t size);
#define procmgr_listing_status(l, i, h, ret) \
	procmgr_listing_status_sized((l), (i), (h), (ret), \
				     sizeof(struct procmgr_status))
PROCMGR_EXPORT void procmgr_listing_free(procmgr_listing *l);

/*
 * Call fn for every NAME of the listing, in order, from the calling
 * thread, with what procmgr_listing_status() gives: r its result, st the
 * status (when r >= 0), message why it failed (r < 0) or the status's
 * warning (else NULL). st and message are freed when fn returns.
 * `readers` read the NAMEs ahead of fn, the calling thread among them
 * (0: one per CPU the process may use, at most 4, and the calling thread
 * alone for a short listing; 1: the calling thread alone; N: it and N - 1
 * threads). Each thread works on a copy of the process's fd table, which
 * keeps the process's files open until the walk ends. fn returning
 * non-zero stops the walk: that value is returned; else 0.
 */
typedef int (*procmgr_listing_fn)(void *userdata, size_t i, const char *name,
				  int r, const char *message,
				  const struct procmgr_status *st);
PROCMGR_EXPORT int procmgr_listing_each(procmgr_listing *l, int readers,
				       procmgr_listing_fn fn, void *userdata);

/*
 * The identity of a live process as the start_time key holds it:
 * "<field 22 of /proc/PID/stat> <boot id>". -ESRCH when there is no such
 * process or it is a zombie.
 */
PROCMGR_EXPORT int procmgr_proc_identity(pid_t pid, char **ret_identity);

/* 1 when pid exists and is not a zombie, 0 otherwise. */
PROCMGR_EXPORT int procmgr_pid_alive(pid_t pid);

/* ------------------------------------------------------------------ */
/* The lifecycle lock                                                 */

/*
 * Called while waiting for the lock: once when the wait starts and again
 * whenever the holder's message changes. message is the holder's
 * lock_message text ("" when unknown). wait_line is pants' line:
 * "PID <own pid> waiting for a file lock (<path>) held by: <message>".
 */
typedef void (*procmgr_lock_wait_fn)(procmgr *h, const char *message,
				     const char *wait_line, void *userdata);

/*
 * How procmgr_lock() and the calls that take the lock themselves wait:
 * timeout < 0 forever (the default), 0 do not wait (-EWOULDBLOCK),
 * > 0 seconds (then -EWOULDBLOCK, as held). fn may be NULL.
 */
PROCMGR_EXPORT void procmgr_set_lock_wait(procmgr *h, double timeout,
					  procmgr_lock_wait_fn fn,
					  void *userdata);

/*
 * Take NAME's lifecycle lock (F_OFD_SETLKW on DIR/.lock.NAME), then write
 * DIR/.lock.NAME.lock_message as "<pid> (<argv>)" (argv from
 * /proc/self/cmdline). Counted: a handle that holds it just counts up.
 */
PROCMGR_EXPORT int procmgr_lock(procmgr *h);

/* Count down; at zero remove the message file and release the lock. */
PROCMGR_EXPORT int procmgr_unlock(procmgr *h);

/* 1 if this handle holds the lock. */
PROCMGR_EXPORT int procmgr_lock_held(const procmgr *h);

/*
 * Handing the held lock to a child process, so that a command run under
 * the lock may itself start, stop or purge the NAME (`procmgr lock web --
 * procmgr stop web`) instead of waiting for its parent for ever: the
 * child gets the lock's fd and, in its environment, PROCMGR_LOCK_ENV set
 * to "<fd>:<lock path>". procmgr_lock() in the child then uses that fd,
 * if it is open on this NAME's lock file and its open file description
 * holds the lock, and does not release the lock when it unlocks; the
 * parent must keep holding it until the child is done.
 *
 * procmgr_lock_child_env() gives the fd and the "NAME=VALUE" text
 * (malloc'd); the fd is close-on-exec: clear that in the child only (for
 * example with posix_spawn_file_actions_adddup2(fa, fd, fd)). -ENOLCK
 * when this handle does not hold the lock. Daemons started by procmgr
 * inherit neither the fd nor the variable.
 */
#define PROCMGR_LOCK_ENV "PROCMGR_LOCK_FD"
PROCMGR_EXPORT int procmgr_lock_child_env(procmgr *h, int *ret_fd,
					  char **ret_env);

/* ------------------------------------------------------------------ */
/* Stop and purge                                                     */

/* Who a stop signals. */
enum procmgr_kill_mode {
	PROCMGR_KILL_TREE = 0,	/* the daemon, then every process of its tree */
	PROCMGR_KILL_PROCESS,	/* the daemon alone, as pants does */
};

struct procmgr_stop_opts {
	const int *signals;	/* chain, e.g. {SIGTERM, SIGKILL}; NULL: that */
	size_t n_signals;
	double kill_wait;	/* seconds to wait after each; < 0: 5 */
	bool keep_metadata;	/* keep DIR/HOSTFP/NAME after the stop */
	enum procmgr_kill_mode kill_mode;
};

/*
 * Stop the daemon: send each signal through a pidfd (so a recycled pid is
 * never hit; where the kernel refuses pidfds, kill(2) with the identity
 * checked again right before each signal) and wait up to kill_wait for it
 * to die. Each signal but SIGKILL is followed by SIGCONT, so a stopped
 * process can act on it. Then, unless kill_mode is PROCMGR_KILL_PROCESS,
 * every process still in the daemon's tree (its descendants, and the
 * orphans its monitor adopted) gets the same chain; the call returns when
 * all are gone. The log records who asked and each signal sent.
 * Returns 1 if a process was stopped, 0 if there was nothing to stop (stale
 * or stopped: nothing signalled). Metadata is removed afterwards unless
 * keep_metadata. -ETIME when a process survived the chain (metadata
 * kept), -EPERM when it belongs to another user (for root: to another
 * user than the owner of the metadata directory), -EINTR when a signal
 * handler ran (metadata kept; the signals sent so far stay sent). opts may
 * be NULL. ret_pid (may be NULL) gets the pid stopped.
 */
PROCMGR_EXPORT int procmgr_stop(procmgr *h, const struct procmgr_stop_opts *opts,
				pid_t *ret_pid);

/*
 * Remove DIR/HOSTFP/NAME. Refuses (-EBUSY) while the NAME is running unless
 * force. Compare-and-delete: if the pid key changes between the check and
 * the removal, nothing is removed (-ESTALE). Absent metadata: 0.
 */
PROCMGR_EXPORT int procmgr_purge(procmgr *h, bool force);

/* ------------------------------------------------------------------ */
/* Spawning (issue: daemon lifecycle)                                 */

enum procmgr_ready_kind {
	PROCMGR_READY_EXEC = 0,	/* the exec succeeded */
	PROCMGR_READY_SOCKET,	/* the socket key exists (pants) */
	PROCMGR_READY_NOTIFY,	/* READY=1 on $NOTIFY_SOCKET (sd_notify) */
	PROCMGR_READY_FD,	/* a newline written to fd N (s6) */
	PROCMGR_READY_TCP,	/* connect to 127.0.0.1:PORT succeeds */
	PROCMGR_READY_UNIX,	/* connect to a unix socket PATH succeeds */
};

/* When the monitor starts the daemon again after it ended by itself. */
enum procmgr_restart_policy {
	PROCMGR_RESTART_NO = 0,
	PROCMGR_RESTART_ON_FAILURE,	/* exit status != 0, a signal, watchdog */
	PROCMGR_RESTART_ALWAYS,
};

/* "no", "on-failure", "always" -> the enum; -EINVAL otherwise. */
PROCMGR_EXPORT int procmgr_restart_parse(const char *s);
PROCMGR_EXPORT const char *procmgr_restart_name(enum procmgr_restart_policy r);

struct procmgr_ready {
	enum procmgr_ready_kind kind;
	int fd;			/* PROCMGR_READY_FD */
	int port;		/* PROCMGR_READY_TCP */
	char *path;		/* PROCMGR_READY_UNIX, malloc'd */
};

/* Parse "exec", "socket", "notify", "fd:N", "tcp:PORT", "unix:PATH". */
PROCMGR_EXPORT int procmgr_ready_parse(const char *mode,
				       struct procmgr_ready *ret);
PROCMGR_EXPORT void procmgr_ready_clear(struct procmgr_ready *r);

struct procmgr_spawn_opts {
	char *const *argv;		/* required; argv[0] looked up in PATH */
	const char *cwd;		/* NULL: the caller's */
	const char *log_path;		/* NULL: procmgr_default_log();
					 * relative: to the caller's cwd */
	off_t log_max;			/* rotate above this; 0: 10 MiB */
	char *const *env;		/* extra VAR=VALUE, NULL-terminated */
	const char *process_name;	/* record as process_name, or NULL */
	const char *fingerprint;	/* NULL: computed */
	char *const *fingerprint_env;	/* VAR names, NULL-terminated */
	char *const *fingerprint_files;	/* paths, NULL-terminated */
	struct procmgr_ready ready;	/* zeroed: exec */
	double ready_timeout;		/* seconds; 0: 60; < 0: forever */
	bool kill_on_timeout;
	const struct procmgr_stop_opts *stop; /* for every stop of this
					       * daemon (restarts, idle,
					       * watchdog); NULL: default */
	/* Supervision (SPEC §6); all zero: none. */
	enum procmgr_restart_policy restart;	/* restart when it ends by itself */
	int restart_limit;		/* at most this many in a row; 0: 5 */
	double idle_timeout;		/* stop when unused this long; 0: never */
	double watchdog;		/* WATCHDOG=1 at least this often; 0: off */
	uint64_t max_rss;		/* procmgr_ensure() restarts a tree
					 * using more (bytes); 0: no limit */
	const char *pid_file;		/* a forking server names its main
					 * process here (relative: to the
					 * caller's cwd); NULL: guess */
};

/*
 * The options fingerprint: SHA-256 (64 hex) over a length-prefixed encoding
 * of argv, cwd, the executable's identity (resolved path, device, inode,
 * size, mtime), each fingerprint_env value and each fingerprint_files
 * content — or opts->fingerprint when set. ret_inputs (may be NULL) gets the
 * fingerprint_inputs key's text: "<kind> <sha256 hex>" per line.
 */
PROCMGR_EXPORT int procmgr_fingerprint_sized(
	const struct procmgr_spawn_opts *opts, size_t size,
	char ret_fp[PROCMGR_SHA256_HEX + 1], char **ret_inputs);
#define procmgr_fingerprint(o, fp, inputs) \
	procmgr_fingerprint_sized((o), sizeof(struct procmgr_spawn_opts), \
				  (fp), (inputs))

/*
 * Start the daemon and wait until it is ready, as its monitor reports.
 * -EEXIST (with ret_pid set) when already running; -ECHILD when it died
 * before ready (errmsg says how; procmgr_start_log_tail() shows why);
 * -ETIMEDOUT when not ready in time (left running unless kill_on_timeout);
 * an exec failure returns its errno; -EINTR when a signal handler ran
 * while waiting (the daemon goes on starting under its monitor).
 */
PROCMGR_EXPORT int procmgr_start_sized(procmgr *h,
				       const struct procmgr_spawn_opts *opts,
				       size_t size, pid_t *ret_pid);
#define procmgr_start(h, o, pid) \
	procmgr_start_sized((h), (o), sizeof(struct procmgr_spawn_opts), (pid))

/*
 * Keep a running daemon whose recorded fingerprint equals this one, that
 * became ready and whose tree's memory is within opts->max_rss (returns
 * 0); else stop it and start anew (returns 1) or, when it was not
 * running, start it (returns 2). ret_reason says why: "not ready", "argv
 * changed", "env FOO changed", "memory 4.2 GiB over --max-rss 4 GiB", ...
 * for a restart; "not running", "stale pid 123", "stopped after idle" for
 * a start. ret_reason may be NULL. The common case (kept) takes no lock
 * while nobody holds it, and writes nothing.
 */
PROCMGR_EXPORT int procmgr_ensure_sized(procmgr *h,
					const struct procmgr_spawn_opts *opts,
					size_t size, pid_t *ret_pid,
					char **ret_reason);
#define procmgr_ensure(h, o, pid, reason) \
	procmgr_ensure_sized((h), (o), sizeof(struct procmgr_spawn_opts), \
			     (pid), (reason))

/* Stop (if running) then start. */
PROCMGR_EXPORT int procmgr_restart_sized(procmgr *h,
					 const struct procmgr_spawn_opts *opts,
					 size_t size, pid_t *ret_pid);
#define procmgr_restart(h, o, pid) \
	procmgr_restart_sized((h), (o), sizeof(struct procmgr_spawn_opts), \
			      (pid))

/*
 * The last n lines of the daemon's log (the log key, else the default
 * log) as one string.
 */
PROCMGR_EXPORT int procmgr_log_tail(procmgr *h, size_t n, char **ret_text);

/*
 * Follow the daemon's log as tail -f does: fn gets its last n lines, then
 * each piece appended to it, until the daemon ends (at once when it does
 * not run). A log truncated meanwhile is read again from its start. It
 * wakes on inotify and on the daemon's exit (a pidfd), or looks every
 * second without them. fn returns 0 to go on, < 0 to stop (that value is
 * returned). -EINTR when a signal handler ran; -ENOENT when there is no
 * log.
 */
typedef int (*procmgr_log_fn)(const char *data, size_t len, void *userdata);
PROCMGR_EXPORT int procmgr_log_follow(procmgr *h, size_t n, procmgr_log_fn fn,
				      void *userdata);

/* Path of the daemon's log (the log key, else the default). */
PROCMGR_EXPORT int procmgr_log_path(procmgr *h, char **ret_path);

/*
 * Open the daemon's log (procmgr_log_path()) for reading, O_CLOEXEC.
 * Only a regular file is opened: a symlink is refused (-ELOOP) rather
 * than followed, and a FIFO or any other kind of file (-EBADFD) rather
 * than waited on. -ENOENT when there is none. ret_path (may be NULL) gets
 * its path.
 */
PROCMGR_EXPORT int procmgr_log_open(procmgr *h, int *ret_fd, char **ret_path);

/*
 * The last n lines of a log opened with procmgr_log_open(), as it is now,
 * however long they are, leaving fd's offset where they end: reading on
 * from fd gives what is appended later (a follower). ret_len (may be
 * NULL) gets the text's length, which counts NUL bytes a log may hold.
 */
PROCMGR_EXPORT int procmgr_log_tail_fd(procmgr *h, int fd, size_t n,
				       char **ret_text, size_t *ret_len);

/*
 * For daemons: is the calling process still the one the metadata names?
 * 1 yes, 0 no (pid or start_time name another process, or the metadata is
 * gone). A daemon that gets 0 should exit: a newer instance owns the NAME.
 */
PROCMGR_EXPORT int procmgr_self_check(procmgr *h);

/*
 * Also end every wait of the handle (with -EINTR, state consistent as for
 * a signal handler) once fd is readable: the self-pipe a caller's signal
 * handler writes to (Python's signal.set_wakeup_fd() gives one), so that
 * a signal that lands just before a wait begins still ends it. The library
 * only polls fd, never reads it: the caller empties it. -1: none.
 */
PROCMGR_EXPORT void procmgr_set_cancel_fd(procmgr *h, int fd);

/*
 * Count a use of the daemon: its monitor re-arms the idle timer
 * (spawn_opts.idle_timeout). procmgr_start() and procmgr_ensure() touch
 * the daemon themselves; a client that uses it otherwise, or the daemon
 * itself while busy, calls this. 0 when there is no monitor to tell (no
 * daemon, or one without a monitor); it is never an error to touch.
 */
PROCMGR_EXPORT int procmgr_touch(procmgr *h);

/*
 * Resident memory of the daemon's process tree, in bytes: the daemon and
 * its descendants (and the orphans its monitor adopted), not the monitor.
 * -ESRCH when it is not running.
 */
PROCMGR_EXPORT int procmgr_tree_rss(procmgr *h, uint64_t *ret_bytes);

/* One running monitor: the daemon it owns is NAME under DIR. */
struct procmgr_monitor {
	char *dir;
	char *name;
	pid_t pid;		/* the monitor's pid */
};

/*
 * Every daemon of the calling user, in every DIR: found through the
 * command lines of the running monitors ("procmgr-monitor DIR NAME"), no
 * registry. Sorted by DIR, then NAME. Free with procmgr_monitors_free().
 */
PROCMGR_EXPORT int procmgr_monitors(struct procmgr_monitor **ret,
				    size_t *ret_n);
PROCMGR_EXPORT void procmgr_monitors_free(struct procmgr_monitor *v,
					  size_t n);

/*
 * Called when one of the handle's waits begins, with what it waits for
 * ("the lock of web", "web to be ready (notify)", "pid 4242 of web to
 * exit after SIGTERM", ...), and with NULL when it ends; for a person at a
 * terminal. Nothing else calls back, so the caller keeps its own clock.
 */
typedef void (*procmgr_wait_fn)(procmgr *h, const char *what,
				void *userdata);
PROCMGR_EXPORT void procmgr_set_wait_fn(procmgr *h, procmgr_wait_fn fn,
					void *userdata);

/*
 * The last n lines the daemon's log received since this handle's last
 * start began (procmgr_start() and friends): after -ECHILD, why it died,
 * with nothing of an earlier run. Without a start on the handle, the last
 * n lines of the log (procmgr_log_tail()).
 */
PROCMGR_EXPORT int procmgr_start_log_tail(procmgr *h, size_t n,
					  char **ret_text);

/*
 * t as RFC 3339 UTC, "2026-11-25T19:02:19Z", into ret (21 bytes with the
 * NUL); times outside the years 0000-9999 are clamped to their ends. It
 * needs no time zone: nothing is read, no lock taken.
 */
PROCMGR_EXPORT void procmgr_format_utc(time_t t, char ret[21]);

/*
 * "4.2 GiB", "512 MiB", "300 B": bytes in powers of 1024, for messages.
 * Writes at most size bytes.
 */
PROCMGR_EXPORT void procmgr_format_size(uint64_t bytes, char *buf,
					size_t size);

/* "4G", "512M", "300k", "1024" -> bytes (powers of 1024); -EINVAL. */
PROCMGR_EXPORT int procmgr_size_parse(const char *s, uint64_t *ret_bytes);

/* ------------------------------------------------------------------ */
/* Formatting helpers the CLI shares                                  */

/* SHA-256 of data as 64 lowercase hex digits. */
PROCMGR_EXPORT void procmgr_sha256_hex(const void *data, size_t len,
				       char ret_hex[PROCMGR_SHA256_HEX + 1]);

/* "SIGTERM" -> SIGTERM, "TERM" -> SIGTERM, "9" -> 9; -EINVAL otherwise. */
PROCMGR_EXPORT int procmgr_signal_parse(const char *s);

/* "TERM" for SIGTERM, or NULL. Static string. */
PROCMGR_EXPORT const char *procmgr_signal_name(int sig);

/*
 * s made safe to show on a terminal, into buf (size bytes with the NUL;
 * cut short, never inside an escape, when it does not fit): control
 * characters, bytes that are not UTF-8 and the C1 controls as \xNN,
 * printable UTF-8 as it is. Returns the length written. The messages of
 * procmgr_errmsg() and procmgr_warning() are escaped so already.
 */
PROCMGR_EXPORT size_t procmgr_escape(const char *s, char *buf, size_t size);


#ifdef __cplusplus
}
#endif
#endif
