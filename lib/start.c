/*
 * start.c - procmgr_start() and procmgr_restart(), and the start that
 * procmgr_ensure() does: each under the NAME's lifecycle lock from the
 * first look at the metadata to the daemon being ready, so concurrent
 * callers start exactly one daemon.
 *
 * A start: clear stale metadata (the log lives outside it and stays),
 * compute the fingerprint, resolve the executable and open the log here,
 * where the caller's cwd and rights apply, then hand the job to
 * procmgr-monitor (spawn.c), which records the metadata, runs the daemon
 * and answers how the start went.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PM_READY_TIMEOUT_DEFAULT 60.0

extern char **environ;

struct start {
	struct pm_job job;
	char fp[PROCMGR_SHA256_HEX + 1];
	int log_fd;
};

static bool env_named(const char *entry, const char *var, size_t n)
{
	return !strncmp(entry, var, n) && entry[n] == '=';
}

/* Is environ's entry e replaced by ours or by an extra? */
static bool env_own(const char *e)
{
	static const char *const own[] = {
		"PROCMGR_NAME", "PROCMGR_DIR", "PROCMGR_META_DIR",
		"NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID",
		PROCMGR_LOCK_ENV,
	};

	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++)
		if (env_named(e, own[i], strlen(own[i])))
			return true;
	return false;
}

/*
 * Is environ's entry e replaced by ours or by an extra? procmgr owns
 * PROCMGR_NAME, PROCMGR_DIR, PROCMGR_META_DIR, NOTIFY_SOCKET and the
 * watchdog's variables: an inherited NOTIFY_SOCKET (procmgr run by
 * systemd) would make the daemon notify the wrong manager.
 * PROCMGR_LOCK_FD (a lock inherited from `procmgr lock`) is dropped: the
 * daemon does not get the fd it names.
 */
static bool env_replaced(const char *e, char *const *extra)
{
	if (env_own(e))
		return true;
	for (; extra && *extra; extra++) {
		const char *eq = strchr(*extra, '=');

		if (eq && env_named(e, *extra, (size_t)(eq - *extra)))
			return true;
	}
	return false;
}

static int env_add(char **envp, size_t *n, char *s)
{
	if (!s)
		return -ENOMEM;
	envp[(*n)++] = s;
	return 0;
}

/* The daemon's environment; the monitor adds NOTIFY_SOCKET. */
static int build_env(procmgr *h, const struct procmgr_spawn_opts *o,
		     const char *dir, char ***ret)
{
	size_t n = 0, cap = 4;
	char **envp;
	int r = 0;

	for (char **e = environ; e && *e; e++)
		cap++;
	for (char *const *e = o->env; e && *e; e++, cap++)
		if (!strchr(*e, '=') || **e == '=')
			return pm_error(h, EINVAL, "environment entry '%s' is "
					"not VAR=VALUE", *e);
	envp = calloc(cap, sizeof(*envp));
	if (!envp)
		return -ENOMEM;
	for (char **e = environ; e && *e && r >= 0; e++)
		if (!env_replaced(*e, o->env))
			r = env_add(envp, &n, strdup(*e));
	for (char *const *e = o->env; e && *e && r >= 0; e++)
		if (!env_own(*e))
			r = env_add(envp, &n, strdup(*e));
	if (r >= 0)
		r = env_add(envp, &n, pm_asprintf("PROCMGR_NAME=%s", h->name));
	if (r >= 0)
		r = env_add(envp, &n, pm_asprintf("PROCMGR_DIR=%s", dir));
	if (r >= 0)
		r = env_add(envp, &n, pm_asprintf("PROCMGR_META_DIR=%s/%s/%s",
						  dir, h->hostfp, h->name));
	if (r < 0) {
		procmgr_strv_free(envp);
		return pm_error(h, ENOMEM, "out of memory");
	}
	*ret = envp;
	return 0;
}

static int check_supervision(procmgr *h, const struct procmgr_spawn_opts *o)
{
	if ((unsigned)o->restart > PROCMGR_RESTART_ALWAYS)
		return pm_error(h, EINVAL, "unknown restart policy %d",
				(int)o->restart);
	if (o->restart_limit < 0)
		return pm_error(h, EINVAL, "restart_limit %d is negative",
				o->restart_limit);
	if (!(o->idle_timeout >= 0) || !(o->watchdog >= 0))
		return pm_error(h, EINVAL, "idle_timeout and watchdog are "
				"seconds >= 0");
	return 0;
}

/* Why this start happens, and who asked, for the log's "started" line. */
static char *start_reason(const char *why)
{
	char *self = pm_self_text(), *r;

	r = pm_asprintf("%s, asked by %s%s", why, self ? "pid " : "",
			self ? self : "a process");
	free(self);
	return r;
}

/* Everything the monitor needs, made here, in the caller's cwd. */
static int prepare(procmgr *h, const struct procmgr_spawn_opts *o,
		   const char *why, struct start *s)
{
	struct pm_job *j = &s->job;
	int r;

	r = check_supervision(h, o);
	if (r >= 0)
		r = pm_fingerprint(h, o, s->fp, &j->inputs);
	if (r < 0)
		return r;
	/* the daemon runs in its cwd: relative paths are ours, made whole */
	r = pm_abs_path(o->cwd, NULL, &j->cwd);
	if (r >= 0 && o->pid_file)
		r = pm_abs_path(NULL, o->pid_file, &j->pid_file);
	if (r < 0)
		return pm_blame(h, "cwd",
				pm_error(h, -r, "cannot resolve the daemon's "
					 "cwd against the current directory: "
					 "%s; give an absolute path",
					 strerror(-r)));
	r = pm_find_exe(h, o->argv[0], j->cwd, &j->exe);
	if (r >= 0)
		r = pm_log_open(h, o->log_path, o->log_max, &s->log_fd,
				&j->log_path);
	if (r >= 0)
		r = build_env(h, o, h->dir, &j->envp);
	if (r >= 0)
		r = pm_chain_from(h, o->stop, &j->stop);
	if (r < 0)
		return r;
	j->argv = (char **)o->argv;
	j->fingerprint = s->fp;
	j->process_name = (char *)o->process_name;
	j->ready = o->ready;
	j->ready_timeout = o->ready_timeout == 0 ? PM_READY_TIMEOUT_DEFAULT :
			   o->ready_timeout < 0 ? -1 : o->ready_timeout;
	j->kill_on_timeout = o->kill_on_timeout;
	j->restart = o->restart;
	j->restart_limit = o->restart_limit;
	j->idle_timeout = o->idle_timeout;
	j->watchdog = o->watchdog;
	j->has_lock = true;
	j->reason = start_reason(why);
	return j->reason ? 0 : pm_error(h, ENOMEM, "out of memory");
}

static void start_clear(struct start *s)
{
	free(s->job.exe);
	free(s->job.cwd);
	free(s->job.log_path);
	free(s->job.pid_file);
	free(s->job.inputs);
	free(s->job.reason);
	procmgr_strv_free(s->job.envp);
	if (s->log_fd >= 0)
		close(s->log_fd);
}

static int spawn_ready(procmgr *h, const struct procmgr_spawn_opts *o,
		       const char *why, pid_t *ret_pid)
{
	struct start s = { .log_fd = -1 };
	int r;

	r = prepare(h, o, why, &s);
	if (r >= 0)
		r = pm_spawn_monitor(h, &s.job, s.log_fd, ret_pid);
	start_clear(&s);
	return r < 0 ? r : 0;
}

int pm_start_locked(procmgr *h, const struct procmgr_spawn_opts *o,
			const char *why, pid_t *ret_pid)
{
	struct procmgr_status st = { 0 };
	int r;

	r = procmgr_status(h, &st);
	if (r < 0)
		goto out;
	if (st.state == PROCMGR_RUNNING) {
		*ret_pid = st.pid;
		procmgr_touch(h);	/* asked for: a use */
		r = pm_error(h, EEXIST, "%s is already running (pid %d)",
			     h->name, (int)st.pid);
		goto out;
	}
	/* Stale, or stopped when idle: keep nothing but the log. */
	if (st.state == PROCMGR_STALE || st.exit.known) {
		r = pm_meta_remove_if(h, st.pid);
		if (r < 0)
			goto out;
	}
	r = spawn_ready(h, o, why, ret_pid);
out:
	procmgr_status_clear(&st);
	return r;
}

int pm_check_spawn_opts(procmgr *h, const struct procmgr_spawn_opts *o)
{
	int r;

	r = pm_check_open(h);
	if (r < 0)
		return r;
	if (!o || !o->argv || !o->argv[0] || !o->argv[0][0])
		return pm_error(h, EINVAL, "no command given to start %s",
				h->name);
	return 0;
}

/*
 * start and restart: under the lock, (restart: stop, then) start. A start
 * refused because NAME runs gives that pid with -EEXIST.
 */
static int start_under_lock(procmgr *h, const struct procmgr_spawn_opts *o,
			    bool restart, pid_t *ret_pid)
{
	pid_t pid = 0;
	int r;

	r = pm_check_spawn_opts(h, o);
	if (r < 0)
		return r;
	r = pm_lock_and_sweep(h, NULL);
	if (r < 0)
		return r;
	r = restart ? procmgr_stop(h, o->stop, NULL) : 0;
	if (r >= 0)
		r = pm_start_locked(h, o, restart ? "restart" : "start", &pid);
	procmgr_unlock(h);
	if ((r >= 0 || (r == -EEXIST && !restart)) && ret_pid)
		*ret_pid = pid;
	return r < 0 ? r : 0;
}

/* The caller's options, whatever the version of procmgr.h it was built with. */
int pm_spawn_opts_in(procmgr *h, const struct procmgr_spawn_opts *in,
		   size_t size, struct procmgr_spawn_opts *ret)
{
	int r;

	if (!in)
		return pm_error(h, EINVAL, "no spawn options given");
	r = pm_struct_in(ret, sizeof(*ret), PM_SPAWN_OPTS_V1, in, size, true);
	if (r == -E2BIG)
		return pm_error(h, E2BIG, "the spawn options set fields this "
				"library (%s) does not know; it is older than "
				"the procmgr.h the caller was built with",
				PROCMGR_VERSION);
	if (r < 0)
		return pm_error(h, EINVAL, "spawn options of %zu bytes are "
				"smaller than any procmgr.h's", size);
	return 0;
}

int procmgr_start_sized(procmgr *h, const struct procmgr_spawn_opts *opts,
			size_t size, pid_t *ret_pid)
{
	struct procmgr_spawn_opts o;
	int r = pm_spawn_opts_in(h, opts, size, &o);

	return r < 0 ? r : start_under_lock(h, &o, false, ret_pid);
}

int procmgr_restart_sized(procmgr *h, const struct procmgr_spawn_opts *opts,
			  size_t size, pid_t *ret_pid)
{
	struct procmgr_spawn_opts o;
	int r = pm_spawn_opts_in(h, opts, size, &o);

	return r < 0 ? r : start_under_lock(h, &o, true, ret_pid);
}
