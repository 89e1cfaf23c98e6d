/*
 * testutil.h - what the unit suites share: scratch directories, helper
 * processes that are always killed and reaped (even when a test fails), and
 * a runner for one suite.
 */
#ifndef PROCMGR_TESTUTIL_H
#define PROCMGR_TESTUTIL_H

#include "procmgr.h"

#include <check.h>
#include <stdbool.h>
#include <sys/types.h>
#include <unistd.h>

/*
 * gcc loses the coverage of a child that _exit()s: a forked child calls
 * TU_GCOV_DUMP() first, or ends with tu_child_exit().
 */
#ifdef PROCMGR_COVERAGE
extern void __gcov_dump(void);
#define TU_GCOV_DUMP() __gcov_dump()
#else
#define TU_GCOV_DUMP() ((void)0)
#endif
#define tu_child_exit(c) (TU_GCOV_DUMP(), _exit(c))

/* Defined in an AddressSanitizer build, whose shadow memory inflates RSS. */
#if defined(__SANITIZE_ADDRESS__)
#define TU_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TU_ASAN 1
#endif
#endif

/* A new private scratch directory (0700) under /tmp; removed at exit. */
char *tu_tmpdir(void);
/* rm -rf path. */
void tu_rmrf(const char *path);
/* Write a whole file (mode 0600). */
void tu_write_file(const char *path, const char *data, size_t len);
/* Read a whole file; NULL when absent. */
char *tu_read_file(const char *path);
/* Whether path exists (a dangling symlink does). */
bool tu_exists(const char *path);
/* Wait up to timeout seconds until path exists; whether it does. */
bool tu_wait_path(const char *path, double timeout);
/* Wait up to timeout seconds until path's content holds needle. */
bool tu_wait_content(const char *path, const char *needle, double timeout);
/*
 * Set or clear the immutable attribute of a directory (root, and a file
 * system that has it, such as ext4): even root cannot add, remove or rename
 * entries in it. 0, or -errno when that is not possible here (the test then
 * skips). Clear it before asserting, so that a failed test leaves nothing
 * the cleanup cannot remove.
 */
int tu_immutable(const char *path, bool on);

/* Keep p (malloc'd) to free at exit, so LeakSanitizer sees only ours. */
void *tu_keep(void *p);
/* "a/b", kept. */
char *tu_path(const char *a, const char *b);

/* Monotonic seconds; sleep for s seconds. */
double tu_now(void);
/*
 * The fds this process has open below 1024, counted without opening one
 * or allocating (so it works with no fd left, or malloc failing).
 */
int tu_count_fds(void);
void tu_sleep(double s);

/* A handle on NAME under dir (the test fails if it cannot be opened). */
procmgr *tu_open(const char *dir, const char *name);
/* A handle on name in a new scratch DIR, which ret_dir (may be NULL) gets. */
procmgr *tu_scratch(const char *name, char **ret_dir);
/* Read a key; NULL when absent. */
char *tu_key(procmgr *h, const char *key);
/* h's state, read with procmgr_status() (which must succeed). */
enum procmgr_state tu_state(procmgr *h);
/*
 * Paths the handle does not hand out, derived from those it does: DIR/HOSTFP
 * (the parent of procmgr_meta_dir()) and the lock's message file beside
 * procmgr_lock_path(). Kept (tu_keep): not to be freed.
 */
const char *tu_host_dir(const procmgr *h);
const char *tu_lock_msg_path(const procmgr *h);

/* Absolute path (malloc'd) of $HELPERS/<helper>, or helper if absolute. */
char *tu_helper(const char *helper);
/*
 * Start $HELPERS/<helper> (or an absolute path) with argv (argv[0] is
 * filled in), fds >= 3 closed, killed by SIGKILL when the test process
 * dies. The pid is remembered and killed + reaped at exit.
 */
pid_t tu_spawn(const char *helper, const char *const *args);
/* fork() a child that runs fn(arg) then _exit(0); tracked like tu_spawn. */
pid_t tu_fork(void (*fn)(void *), void *arg);
/* Remember pid to kill at exit (for daemons started through the library). */
void tu_track(pid_t pid);
/* SIGKILL and reap a tracked child now. */
void tu_kill(pid_t pid);
/* Wait (up to timeout seconds) until pid no longer exists or is a zombie. */
bool tu_wait_gone(pid_t pid, double timeout);
/* A pid that is surely not running (a reaped child's). */
pid_t tu_dead_pid(void);
/*
 * Wait for a tu_fork()ed child without losing track of it, then reap and
 * forget it: its exit status, or minus the signal that killed it.
 */
int tu_child_status(pid_t pid);

/*
 * In a tu_fork()ed child: become uid/gid 65533 (root ignores modes), or
 * return false. The saved ids stay root, so that tu_other_done() can take
 * root back at the child's end to write its coverage data.
 */
bool tu_become_other(void);
void tu_other_done(void);
/*
 * Become uid (an otherwise unused one; root only), keeping just the
 * file-access capabilities (so coverage data can still be written): the
 * per-user kernel limits then count this test's own use alone.
 */
void tu_become_lone_uid(uid_t uid);

/*
 * End the running test here as skipped, saying why (a printf format): one
 * line "SKIP: <test>: <why>" on stderr, which tests/run.sh counts apart
 * from the passes (Check itself counts the test as passed). A macro, as it
 * returns from the test function: use it in a START_TEST body only, once
 * the test has freed what it holds.
 */
#define tu_skip(...)                                   \
	do {                                           \
		tu_skip_note(__func__, __VA_ARGS__);   \
		return;                                \
	} while (0)
void tu_skip_note(const char *fn, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Run one suite; returns the process exit status for main(). */
int tu_run(Suite *s);

#endif
