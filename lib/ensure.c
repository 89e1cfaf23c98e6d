/*
 * ensure.c - procmgr_start(), procmgr_ensure() and procmgr_restart(): the
 * lifecycle calls that spawn, each under the NAME's lifecycle lock from the
 * first look at the metadata to the daemon being ready, so concurrent
 * callers start exactly one daemon.
 *
 * A start: clear stale metadata (the log lives outside it and stays),
 * compute the fingerprint, prepare everything the fork chain needs, spawn
 * (spawn.c), record the metadata with pid last of the identity keys, then
 * wait for readiness (ready.c).
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PM_READY_TIMEOUT_DEFAULT 60.0

extern char **environ;

struct start {
	struct pm_spawn sp;
	struct pm_ready_wait rw;
	char fp[PROCMGR_SHA256_HEX + 1];
	char *inputs;
	char *log_path;
};

static bool env_named(const char *entry, const char *var, size_t n)
{
	return !strncmp(entry, var, n) && entry[n] == '=';
}

/* Is environ's entry e replaced by ours or by an extra? */
static bool env_own(const char *e)
{
	static const char *const own[] = { "PROCMGR_NAME", "PROCMGR_DIR",
					   "NOTIFY_SOCKET", PROCMGR_LOCK_ENV };

	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++)
		if (env_named(e, own[i], strlen(own[i])))
			return true;
	return false;
}

/*
 * Is environ's entry e replaced by ours or by an extra? procmgr owns
 * PROCMGR_NAME, PROCMGR_DIR and NOTIFY_SOCKET: an inherited
 * NOTIFY_SOCKET (procmgr run by systemd) would make the daemon notify
 * the wrong manager. PROCMGR_LOCK_FD (a lock inherited from `procmgr
 * lock`) is dropped: the daemon does not get the fd it names.
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

static int build_env(procmgr *h, const struct procmgr_spawn_opts *o,
		     const char *dir, const char *notify, char ***ret)
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
	if (r >= 0 && notify[0])
		r = env_add(envp, &n, pm_asprintf("NOTIFY_SOCKET=%s", notify));
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

static int make_pipe(procmgr *h, int *ret_r, int *ret_w)
{
	int p[2];

	int r;

	if (pipe2(p, O_CLOEXEC) < 0)
		return pm_error(h, errno, "pipe: %s", strerror(errno));
	r = pm_pair_above_stdio(p);
	if (r < 0)
		return pm_error(h, -r, "pipe: %s", strerror(-r));
	*ret_r = p[0];
	*ret_w = p[1];
	return 0;
}

static int make_gate(procmgr *h, int *ret_r, int *ret_w)
{
	int p[2];

	int r;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p) < 0)
		return pm_error(h, errno, "socketpair: %s", strerror(errno));
	r = pm_pair_above_stdio(p);
	if (r < 0)
		return pm_error(h, -r, "socketpair: %s", strerror(-r));
	*ret_r = p[0];
	*ret_w = p[1];
	return 0;
}

static int open_devnull(procmgr *h, int *ret_fd)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC), r;

	if (fd < 0)
		return pm_error(h, errno, "/dev/null: %s", strerror(errno));
	r = pm_fd_above_stdio(fd);
	if (r < 0) {
		close(fd);
		return pm_error(h, -r, "/dev/null: %s", strerror(-r));
	}
	*ret_fd = r;
	return 0;
}

/* Everything the fork chain needs, made before the first fork. */
static int prepare(procmgr *h, const struct procmgr_spawn_opts *o,
		   struct start *s)
{
	char *dir = NULL;
	int r;

	r = pm_fingerprint(h, o, s->fp, &s->inputs);
	if (r < 0)
		return r;
	r = abs_dir(o->cwd, &s->sp.cwd);
	if (r >= 0)
		r = abs_dir(h->dir, &dir);
	if (r < 0)
		return pm_error(h, -r, "cannot resolve directories (the "
				"daemon's cwd, DIR) against the current "
				"directory: %s; pass absolute paths (--cwd, "
				"--dir)", strerror(-r));
	r = pm_find_exe(h, o->argv[0], s->sp.cwd, &s->sp.exe);
	if (r >= 0)
		r = pm_log_open(h, o->log_path, o->log_max, &s->sp.log_fd,
				&s->log_path);
	s->sp.log_path = s->log_path;
	if (r >= 0) {
		r = open_devnull(h, &s->sp.devnull_fd);
	}
	if (r >= 0)
		r = make_pipe(h, &s->sp.exec_r, &s->sp.exec_w);
	if (r >= 0)
		r = make_pipe(h, &s->sp.report_r, &s->sp.report_w);
	if (r >= 0)
		r = make_gate(h, &s->sp.gate_r, &s->sp.gate_w);
	if (r >= 0)
		r = pm_ready_prepare(h, &o->ready, &s->rw, &s->sp);
	if (r >= 0)
		r = build_env(h, o, dir, s->rw.notify_addr, &s->sp.envp);
	s->sp.argv = o->argv;
	s->sp.lock_path = h->lock_path;
	s->sp.meta_dir = h->meta_dir;
	free(dir);
	return r;
}

static void start_clear(struct start *s)
{
	pm_spawn_clear(&s->sp);
	pm_ready_wait_clear(&s->rw);
	free(s->sp.exe);
	free(s->sp.cwd);
	procmgr_strv_free(s->sp.envp);
	free(s->inputs);
	free(s->log_path);
}

static int write_cmdline(procmgr *h, char *const *argv)
{
	size_t len = 0, off = 0;
	char *buf;
	int r;

	for (char *const *a = argv; *a; a++)
		len += strlen(*a) + 1;
	buf = malloc(len + 1);
	if (!buf)
		return -ENOMEM;
	for (char *const *a = argv; *a; a++) {
		memcpy(buf + off, *a, strlen(*a) + 1);
		off += strlen(*a) + 1;
	}
	r = procmgr_write_raw(h, "cmdline", buf, len);
	free(buf);
	return r;
}

/* The metadata, pid last: a reader that sees pid sees the rest. */
static int record(procmgr *h, const struct procmgr_spawn_opts *o,
		  struct start *s)
{
	char *id = NULL, pid[16];
	int r;

	r = procmgr_proc_identity(s->sp.pid, &id);
	if (r < 0)
		return r;	/* gone already: the wait will tell how */
	r = procmgr_write(h, "start_time", id);
	free(id);
	if (r >= 0)
		r = pm_record_pidfd_ino(h, s->sp.pid);
	if (r >= 0)
		r = procmgr_write(h, "fingerprint", s->fp);
	if (r >= 0)
		r = procmgr_write(h, "fingerprint_inputs", s->inputs);
	if (r >= 0)
		r = write_cmdline(h, o->argv);
	if (r >= 0)
		r = procmgr_write(h, "log", s->log_path);
	if (r >= 0 && o->process_name)
		r = procmgr_write(h, "process_name", o->process_name);
	snprintf(pid, sizeof(pid), "%d", (int)s->sp.pid);
	if (r >= 0)
		r = procmgr_write(h, "pid", pid);
	return r;
}

/* The daemon was gone before its identity could be read. */
static int died_at_once(procmgr *h, const struct pm_spawn *sp,
			struct pm_report *e)
{
	char how[64] = "exit status unknown";
	ssize_t n;

	/* It is dead or a zombie: the monitor reports it at once. */
	do
		n = read(sp->report_r, e, sizeof(*e));
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)sizeof(*e) && e->kind == PM_REPORT_EXIT)
		pm_exit_text(e, how, sizeof(how));
	return pm_error(h, ECHILD, "%s (pid %d) died before it was ready: "
			"%s; see its log %s", h->name, (int)sp->pid, how,
			sp->log_path);
}

static void record_death(procmgr *h, const struct pm_report *e)
{
	char text[128], at[21];
	size_t n;

	if (e->kind != PM_REPORT_EXIT)
		return;
	pm_exit_text(e, text, sizeof(text));
	procmgr_format_time(time(NULL), at);
	n = strlen(text);
	snprintf(text + n, sizeof(text) - n, " at=%s", at);
	procmgr_write(h, "exit", text);
}

/* Called after a failed readiness wait: the daemon's fate, if any. */
static void not_ready(procmgr *h, const struct procmgr_spawn_opts *o,
		      int r, const struct pm_report *e)
{
	char msg[PM_ERRMSG_MAX];

	if (r == -ECHILD) {
		/* The monitor waits for our lock; record it ourselves. */
		memcpy(msg, h->errmsg, sizeof(msg));
		record_death(h, e);
		memcpy(h->errmsg, msg, sizeof(msg));
	} else if (o->kill_on_timeout) {
		memcpy(msg, h->errmsg, sizeof(msg));
		procmgr_stop(h, o->stop, NULL);
		memcpy(h->errmsg, msg, sizeof(msg));
	}
}

static int spawn_ready(procmgr *h, const struct procmgr_spawn_opts *o,
		       pid_t *ret_pid)
{
	struct start s = { .sp = { .log_fd = -1, .devnull_fd = -1,
				   .exec_r = -1, .exec_w = -1, .report_r = -1,
				   .report_w = -1, .ready_w = -1,
				   .gate_r = -1, .gate_w = -1 },
			   .rw = { .notify_fd = -1, .pipe_r = -1 } };
	struct pm_report exit = { 0 };
	int rel;
	double t = o->ready_timeout == 0 ? PM_READY_TIMEOUT_DEFAULT :
		   o->ready_timeout;
	int r;

	r = prepare(h, o, &s);
	if (r >= 0)
		r = pm_spawn_run(h, &s.sp);
	if (r < 0)
		goto out;
	r = record(h, o, &s);
	if (r < 0 && r != -ESRCH) {
		/* Unrecorded, it must not run: it exits at the gate. */
		pm_spawn_release(h, &s.sp, false);
		pm_meta_remove_if(h, 0);	/* pid, written last, is not */
		goto out;
	}
	rel = pm_spawn_release(h, &s.sp, true);
	if (rel < 0) {
		/* The exec failed: nothing of this run may look alive. */
		pm_meta_remove_if(h, s.sp.pid);
		r = rel;
		goto out;
	}
	if (r == -ESRCH) {
		r = died_at_once(h, &s.sp, &exit);
		goto out;
	}
	r = pm_ready_wait(h, &s.rw, &s.sp, t, &exit);
	if (r < 0)
		not_ready(h, o, r, &exit);
	else
		*ret_pid = s.sp.pid;
out:
	start_clear(&s);
	return r < 0 ? r : 0;
}

static int start_locked(procmgr *h, const struct procmgr_spawn_opts *o,
			pid_t *ret_pid)
{
	struct procmgr_status st = { 0 };
	int r;

	r = procmgr_status(h, &st);
	if (r < 0)
		goto out;
	if (st.state == PROCMGR_RUNNING) {
		*ret_pid = st.pid;
		r = pm_error(h, EEXIST, "%s is already running (pid %d)",
			     h->name, (int)st.pid);
		goto out;
	}
	/* Stale: keep nothing of the old run but its log. */
	if (st.state == PROCMGR_STALE) {
		r = pm_meta_remove_if(h, st.pid);
		if (r < 0)
			goto out;
	}
	r = spawn_ready(h, o, ret_pid);
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
		r = start_locked(h, o, &pid);
	procmgr_unlock(h);
	if ((r >= 0 || (r == -EEXIST && !restart)) && ret_pid)
		*ret_pid = pid;
	return r < 0 ? r : 0;
}

int procmgr_start(procmgr *h, const struct procmgr_spawn_opts *opts,
		  pid_t *ret_pid)
{
	return start_under_lock(h, opts, false, ret_pid);
}

int procmgr_restart(procmgr *h, const struct procmgr_spawn_opts *opts,
		    pid_t *ret_pid)
{
	return start_under_lock(h, opts, true, ret_pid);
}

/* Why a running daemon's fingerprint no longer matches, or NULL if it does. */
static int compare_running(procmgr *h, const struct procmgr_spawn_opts *o,
			   const struct procmgr_status *st, char **ret_reason)
{
	char fp[PROCMGR_SHA256_HEX + 1];
	char *inputs = NULL, *old = NULL;
	int r;

	r = pm_fingerprint(h, o, fp, &inputs);
	if (r < 0)
		return r;
	*ret_reason = NULL;
	if (!st->fingerprint || strcmp(st->fingerprint, fp)) {
		if (procmgr_read(h, "fingerprint_inputs", &old) < 0)
			old = NULL;
		r = pm_fingerprint_reason(old, inputs, ret_reason);
	}
	free(inputs);
	free(old);
	return r;
}

static int why_not_running(const struct procmgr_status *st, char **ret)
{
	if (st->state == PROCMGR_STOPPED)
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
		goto out;
	}
	if (st.state == PROCMGR_RUNNING)
		r = procmgr_stop(h, o->stop, NULL);
	if (r >= 0)
		r = start_locked(h, o, ret_pid);
	if (r >= 0) {
		r = 1;
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
int procmgr_ensure_kept(procmgr *h, const struct procmgr_spawn_opts *o,
			pid_t *ret_pid)
{
	struct procmgr_status st = { 0 };
	char *reason = NULL;
	int r;

	if (!h || !o || !o->argv || procmgr_lock_held(h) ||
	    pm_lock_free(h) != 1)
		return 0;
	r = procmgr_status(h, &st);
	if (r >= 0 && st.state == PROCMGR_RUNNING &&
	    compare_running(h, o, &st, &reason) >= 0 && !reason) {
		*ret_pid = st.pid;
		r = 1;
	} else {
		r = 0;
	}
	free(reason);
	procmgr_status_clear(&st);
	return r;
}

int procmgr_ensure(procmgr *h, const struct procmgr_spawn_opts *opts,
		   pid_t *ret_pid, char **ret_reason)
{
	char *reason = NULL;
	pid_t pid = 0;
	int r;

	r = check_opts(h, opts);
	if (r < 0)
		return r;
	if (procmgr_ensure_kept(h, opts, &pid) == 1) {
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
