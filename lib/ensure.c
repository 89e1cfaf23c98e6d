/*
 * ensure.c - procmgr_start(), procmgr_ensure() and procmgr_restart(): the
 * lifecycle calls that spawn, each under the NAME's lifecycle lock from the
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

/* dir made absolute; the caller's cwd is asked only when needed. */
static int abs_dir(const char *dir, char **ret)
{
	char cwd[PATH_MAX];

	if (dir && dir[0] == '/')
		*ret = strdup(dir);
	else if (!getcwd(cwd, sizeof(cwd)))
		return -errno;
	else if (!dir)
		*ret = strdup(cwd);
	else
		*ret = pm_asprintf("%s/%s", cwd, dir);
	return *ret ? 0 : -ENOMEM;
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

	r = pm_asprintf("%s, asked by %s", why, self ? self : "a process");
	free(self);
	return r;
}

/* Everything the monitor needs, made here, in the caller's cwd. */
static int prepare(procmgr *h, const struct procmgr_spawn_opts *o,
		   const char *why, struct start *s)
{
	struct pm_job *j = &s->job;
	char *dir = NULL;
	int r;

	r = check_supervision(h, o);
	if (r >= 0)
		r = pm_fingerprint(h, o, s->fp, &j->inputs);
	if (r < 0)
		return r;
	r = abs_dir(o->cwd, &j->cwd);
	if (r >= 0)
		r = abs_dir(h->dir, &dir);
	if (r < 0)
		return pm_blame(h, "cwd",
				pm_error(h, -r, "cannot resolve the daemon's "
					 "cwd and DIR against the current "
					 "directory: %s; give both as absolute "
					 "paths", strerror(-r)));
	r = pm_find_exe(h, o->argv[0], j->cwd, &j->exe);
	if (r >= 0)
		r = pm_log_open(h, o->log_path, o->log_max, &s->log_fd,
				&j->log_path);
	if (r >= 0)
		r = build_env(h, o, dir, &j->envp);
	if (r >= 0)
		r = pm_chain_from(h, o->stop, &j->stop);
	free(dir);
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
	j->pid_file = (char *)o->pid_file;
	j->has_lock = true;
	j->reason = start_reason(why);
	return j->reason ? 0 : pm_error(h, ENOMEM, "out of memory");
}

static void start_clear(struct start *s)
{
	free(s->job.exe);
	free(s->job.cwd);
	free(s->job.log_path);
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

static int start_locked(procmgr *h, const struct procmgr_spawn_opts *o,
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

static int check_opts(procmgr *h, const struct procmgr_spawn_opts *o)
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

	r = check_opts(h, o);
	if (r < 0)
		return r;
	r = procmgr_lock(h);
	if (r < 0)
		return r;
	pm_sweep_litter(h);
	r = restart ? procmgr_stop(h, o->stop, NULL) : 0;
	if (r >= 0)
		r = start_locked(h, o, restart ? "restart" : "start", &pid);
	procmgr_unlock(h);
	if ((r >= 0 || (r == -EEXIST && !restart)) && ret_pid)
		*ret_pid = pid;
	return r < 0 ? r : 0;
}

/* The caller's options, whatever the version of procmgr.h it was built with. */
static int opts_in(procmgr *h, const struct procmgr_spawn_opts *in,
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
	int r = opts_in(h, opts, size, &o);

	return r < 0 ? r : start_under_lock(h, &o, false, ret_pid);
}

int procmgr_restart_sized(procmgr *h, const struct procmgr_spawn_opts *opts,
			  size_t size, pid_t *ret_pid)
{
	struct procmgr_spawn_opts o;
	int r = opts_in(h, opts, size, &o);

	return r < 0 ? r : start_under_lock(h, &o, true, ret_pid);
}

/* "memory 4.2 GiB over --max-rss 4 GiB" when the tree uses too much. */
static int over_memory(procmgr *h, uint64_t max, char **ret_reason)
{
	char used[32], limit[32];
	uint64_t rss;

	if (max == 0 || procmgr_tree_rss(h, &rss) < 0 || rss <= max)
		return 0;
	procmgr_format_size(rss, used, sizeof(used));
	procmgr_format_size(max, limit, sizeof(limit));
	*ret_reason = pm_asprintf("memory %s over --max-rss %s", used, limit);
	return *ret_reason ? 0 : -ENOMEM;
}

/*
 * Why a running daemon must be restarted, or NULL when it may stay: it
 * never became ready, its fingerprint differs, or its tree uses more
 * memory than max_rss allows.
 */
static int compare_running(procmgr *h, const struct procmgr_spawn_opts *o,
			   const struct procmgr_status *st, char **ret_reason)
{
	char fp[PROCMGR_SHA256_HEX + 1];
	char *inputs = NULL, *old = NULL;
	int r;

	*ret_reason = NULL;
	if (!st->ready) {
		*ret_reason = strdup("not ready");
		return *ret_reason ? 0 : -ENOMEM;
	}
	r = pm_fingerprint(h, o, fp, &inputs);
	if (r < 0)
		return r;
	if (!st->fingerprint || strcmp(st->fingerprint, fp)) {
		if (procmgr_read(h, "fingerprint_inputs", &old) < 0)
			old = NULL;
		r = pm_fingerprint_reason(old, inputs, ret_reason);
	}
	free(inputs);
	free(old);
	if (r >= 0 && !*ret_reason)
		r = over_memory(h, o->max_rss, ret_reason);
	return r;
}

static int why_not_running(const struct procmgr_status *st, char **ret)
{
	if (st->exit.reason && !strcmp(st->exit.reason, "idle"))
		*ret = strdup("stopped after idle");
	else if (st->state == PROCMGR_STOPPED)
		*ret = strdup("not running");
	else if (st->pid > 0)
		*ret = pm_asprintf("stale pid %d", (int)st->pid);
	else
		*ret = strdup("stale metadata");
	return *ret ? 0 : -ENOMEM;
}

static int ensure_locked(procmgr *h, const struct procmgr_spawn_opts *o,
			 pid_t *ret_pid, char **ret_reason)
{
	struct procmgr_status st = { 0 };
	char *reason = NULL;
	int r;

	r = procmgr_status(h, &st);
	if (r >= 0 && st.state == PROCMGR_RUNNING)
		r = compare_running(h, o, &st, &reason);
	else if (r >= 0)
		r = why_not_running(&st, &reason);
	if (r < 0)
		goto out;
	if (!reason) {
		*ret_pid = st.pid;
		procmgr_touch(h);
		goto out;
	}
	if (st.state == PROCMGR_RUNNING)
		r = procmgr_stop(h, o->stop, NULL);
	if (r >= 0)
		r = start_locked(h, o, reason, ret_pid);
	if (r >= 0) {
		r = st.state == PROCMGR_RUNNING ? 1 : 2;
		*ret_reason = reason;
		reason = NULL;
	}
out:
	free(reason);
	procmgr_status_clear(&st);
	return r;
}

/*
 * The common case, a daemon already running with this fingerprint, without
 * taking the lock (taking it writes and removes the message file). Only
 * when nobody holds the lock, so no state change is under way; the answer
 * is then the one the locked path would give, since a stop that begins
 * right after this check could as well have begun right after the locked
 * path let go.
 */
static int ensure_kept(procmgr *h, const struct procmgr_spawn_opts *o,
		       pid_t *ret_pid)
{
	struct procmgr_status st = { 0 };
	char *reason = NULL;
	int r;

	if (!h || !o->argv || procmgr_lock_held(h) || pm_lock_free(h) != 1)
		return 0;
	r = procmgr_status(h, &st);
	if (r >= 0 && st.state == PROCMGR_RUNNING &&
	    compare_running(h, o, &st, &reason) >= 0 && !reason) {
		*ret_pid = st.pid;
		procmgr_touch(h);
		r = 1;
	} else {
		r = 0;
	}
	free(reason);
	procmgr_status_clear(&st);
	return r;
}

int procmgr_ensure_sized(procmgr *h, const struct procmgr_spawn_opts *in,
			 size_t size, pid_t *ret_pid, char **ret_reason)
{
	struct procmgr_spawn_opts o, *opts = &o;
	char *reason = NULL;
	pid_t pid = 0;
	int r;

	r = opts_in(h, in, size, &o);
	if (r >= 0)
		r = check_opts(h, opts);
	if (r < 0)
		return r;
	if (ensure_kept(h, opts, &pid) == 1) {
		if (ret_pid)
			*ret_pid = pid;
		if (ret_reason)
			*ret_reason = NULL;
		return 0;
	}
	r = procmgr_lock(h);
	if (r < 0)
		return r;
	pm_sweep_litter(h);
	r = ensure_locked(h, opts, &pid, &reason);
	procmgr_unlock(h);
	if (r >= 0 && ret_pid)
		*ret_pid = pid;
	if (r >= 0 && ret_reason)
		*ret_reason = reason;
	else
		free(reason);
	return r;
}
