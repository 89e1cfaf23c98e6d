/*
 * monitor.h - what the files of procmgr-monitor share.
 *
 * procmgr-monitor DIR NAME owns one daemon for its whole life (SPEC §6):
 *
 *	main.c    reads the job, detaches, and runs the event loop
 *	launch.c  forks the daemon, records its metadata, execs it
 *	ready.c   readiness, and the typed result for the starter
 *	notify.c  $NOTIFY_SOCKET: READY=1, STATUS=, PORT=, MAINPID=, ...
 *	life.c    how the daemon ends: adoption, exit records, restarts,
 *	          idle and watchdog stops
 *
 * The monitor is single-threaded; every event (a child's exit, a
 * datagram, the readiness fd, a deadline) is handled from one poll() loop.
 * Deadlines are CLOCK_MONOTONIC seconds, so time in suspend does not count.
 */
#ifndef PROCMGR_MONITOR_H
#define PROCMGR_MONITOR_H

#include "internal.h"

#include <stdbool.h>
#include <sys/types.h>
#include <unistd.h>

/*
 * _exit() loses gcc's coverage counters: a coverage build writes them
 * first, and starts them again so that a later dump (exec failed) adds.
 */
#ifdef PROCMGR_COVERAGE
extern void __gcov_dump(void);
extern void __gcov_reset(void);
#define MON_GCOV_DUMP() (__gcov_dump(), __gcov_reset())
#else
#define MON_GCOV_DUMP() ((void)0)
#endif
#define MON_EXIT(code) do { MON_GCOV_DUMP(); _exit(code); } while (0)

enum phase {
	PH_STARTING,		/* forked, not ready yet */
	PH_RUNNING,		/* ready (or past its readiness timeout) */
	PH_ADOPTING,		/* it exited 0; waiting to see what it left */
	PH_BACKOFF,		/* it ended; restart at d_restart */
	PH_DRAINING,		/* a stop took it; the stopper takes the
				   rest of the tree: wait till it is empty */
};

struct mon {
	procmgr *h;
	struct pm_job job;
	int ctl;		/* results to the starter; -1 once answered */
	int log;		/* the daemon's log, O_APPEND */
	int lock;		/* the starter's lock, shared while starting */
	unsigned own_locks;	/* procmgr_lock() calls of ours outstanding */
	bool start_locked;	/* one of them is a restart's, held until
				   its run is ready or over */
	int sigfd;		/* SIGCHLD, SIGTERM, SIGINT, SIGHUP */
	int notify;		/* $NOTIFY_SOCKET, bound by the kernel */
	char notify_addr[64];	/* "@" + the abstract address */

	/* The current run. */
	enum phase phase;
	bool first;		/* the starter's run: it gets the result */
	pid_t child;		/* the process we forked, to reap */
	struct pm_pref main;	/* the daemon: child, MAINPID or adopted */
	int ready_r;		/* fd:N read end, held while the run lasts */
	int inotify;		/* socket readiness, while starting */
	off_t log_offset;	/* where this run's "started" line begins */
	double t_start;		/* monotonic, when it was forked */
	const char *ending;	/* why procmgr ends it: "idle", ... or NULL */
	bool stop_process;	/* the stop asked for spares the tree */

	/* Deadlines, monotonic seconds; < 0 none. */
	double d_ready, d_connect, d_idle, d_watchdog, d_restart, d_adopt;

	/* Restarts. */
	unsigned restarts;	/* total, key restarts */
	int in_a_row;		/* restarts since the last long run */
	double backoff;		/* seconds before the next restart */

	enum phase adopt_from;	/* the phase before PH_ADOPTING */
	bool eof_unready;	/* fd N closed without a newline */
	bool late;		/* left running unready: still listening */
	char *self_id;		/* our key monitor: "<pid> <ticks> <boot>" */
	bool done;		/* leave the loop and exit */
	int exit_code;
};

/* main.c */
double mon_now(void);
/* Take NAME's lock unless the starter's is shared with us; mon_unlock(). */
int mon_lock(struct mon *m);
void mon_unlock(struct mon *m);
/* Let go of the lock a restart took for its start, if still held. */
void mon_start_unlock(struct mon *m);
/* The deadline of timeout seconds from now, or -1 for none (<= 0). */
double mon_after(double timeout);
/* --restart-limit, or its default (5) when not given. */
int mon_restart_limit(const struct mon *m);

/* launch.c */
/* Fork, record and exec one run; reason goes to the log. */
int mon_launch(struct mon *m, const char *reason);
/* Write key into the metadata directory, not creating it (no lock). */
int mon_key(struct mon *m, const char *key, const char *value);
/* The metadata is still ours: pid names pid, and monitor names us. */
bool mon_owns_name(struct mon *m, pid_t pid);
/*
 * The same, as an fd on the directory checked (-1: not ours): writes
 * through it can only land in the directory that was checked.
 */
int mon_meta_if_ours(struct mon *m, pid_t pid);
/* Record pid (alive, start time read now) as the daemon: start_time, pid. */
int mon_record_main(struct mon *m, pid_t pid);

/* ready.c */
void mon_ready_arm(struct mon *m);
void mon_ready_check(struct mon *m);	/* socket/tcp/unix: ready now? */
void mon_on_ready_fd(struct mon *m);
void mon_on_inotify(struct mon *m);
void mon_became_ready(struct mon *m);
void mon_ready_timeout(struct mon *m);
/* Send the starter r (kind set) and let its lock go. */
void mon_answer(struct mon *m, struct pm_result *r);
void mon_answer_error(struct mon *m, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void mon_ready_close(struct mon *m);

/* notify.c */
int mon_notify_open(struct mon *m);
void mon_on_notify(struct mon *m);

/* life.c */
void mon_on_sigchld(struct mon *m);
void mon_on_main_fd(struct mon *m);
void mon_on_adopt_deadline(struct mon *m);
void mon_on_restart_deadline(struct mon *m);
void mon_on_idle_deadline(struct mon *m);
void mon_on_watchdog_deadline(struct mon *m);
/* Stop the daemon and its tree for reason, then end or restart. */
void mon_stop_self(struct mon *m, const char *reason);
/* Adopt pid (a process of our tree) as the daemon. */
int mon_adopt(struct mon *m, pid_t pid, const char *how);

#endif
