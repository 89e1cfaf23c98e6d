/*
 * cmd-spawn.c - procmgr start|ensure|restart NAME [spawn options] -- CMD...
 *
 * The three share their options and their output: the daemon's pid alone
 * on stdout (so pid=$(procmgr ensure web -- ./server) works), everything
 * else on stderr.
 */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum spawn_kind { SPAWN_START, SPAWN_ENSURE, SPAWN_RESTART };

struct spawn_args {
	struct procmgr_spawn_opts opts;
	char **env, **fp_env, **fp_files;	/* NULL-terminated */
	size_t n_env, n_fp_env, n_fp_files;
	double lock_timeout;
	struct procmgr_stop_opts stop;
	int signals[CLI_MAX_SIGNALS];
};

static const struct option spawn_opts[] = {
	{ "fingerprint", required_argument, NULL, 'F' },
	{ "fingerprint-env", required_argument, NULL, 'E' },
	{ "fingerprint-file", required_argument, NULL, 'P' },
	{ "cwd", required_argument, NULL, 'C' },
	{ "log", required_argument, NULL, 'l' },
	{ "log-max", required_argument, NULL, 'M' },
	{ "env", required_argument, NULL, 'e' },
	{ "process-name", required_argument, NULL, 'N' },
	{ "ready", required_argument, NULL, 'r' },
	{ "ready-timeout", required_argument, NULL, 'T' },
	{ "kill-on-timeout", no_argument, NULL, 'K' },
	{ "lock-timeout", required_argument, NULL, 'L' },
	{ "restart", required_argument, NULL, 'R' },
	{ "restart-limit", required_argument, NULL, 'Z' },
	{ "idle-timeout", required_argument, NULL, 'I' },
	{ "watchdog", required_argument, NULL, 'W' },
	{ "max-rss", required_argument, NULL, 'X' },
	{ "pid-file", required_argument, NULL, 'p' },
	CLI_STOP_OPTIONS,
	{ NULL, 0, NULL, 0 },
};

/* The options of supervision (SPEC §6) and of the stops it does. */
static int parse_supervision(const struct cli *c, int o, char *arg,
			     struct spawn_args *a)
{
	unsigned long long n;
	int r = CLI_CONTINUE;

	if (o == 'R') {
		r = procmgr_restart_parse(arg);
		if (r < 0)
			return cli_usage(c, "--restart wants no, on-failure or "
					 "always, not '%s'", arg);
		a->opts.restart = (enum procmgr_restart_policy)r;
		return CLI_CONTINUE;
	}
	if (o == 'Z') {
		r = cli_count(c, "--restart-limit", arg, &n);
		if (r == CLI_CONTINUE && (n == 0 || n > 1000000))
			return cli_usage(c, "--restart-limit wants 1 to "
					 "1000000 (for none, use --restart "
					 "no), not '%s'", arg);
		a->opts.restart_limit = (int)n;
	} else if (o == 'I') {
		r = cli_seconds(c, "--idle-timeout", arg,
				&a->opts.idle_timeout);
	} else if (o == 'W') {
		r = cli_seconds(c, "--watchdog", arg, &a->opts.watchdog);
	} else if (o == 'X') {
		if (procmgr_size_parse(arg, &a->opts.max_rss) < 0 ||
		    a->opts.max_rss == 0)
			return cli_usage(c, "--max-rss wants a size such as "
					 "4G, 512M or 1048576, not '%s'", arg);
	} else if (o == 'p') {
		a->opts.pid_file = arg;
	} else {
		r = cli_stop_option(c, o, arg, &a->stop, a->signals);
		a->opts.stop = &a->stop;
	}
	return r;
}

static int parse_value(const struct cli *c, int o, char *arg,
		       struct spawn_args *a)
{
	unsigned long long max;
	const char *eq;
	int r = CLI_CONTINUE;

	if (o == 'F') {
		a->opts.fingerprint = arg;
	} else if (o == 'E') {
		a->fp_env[a->n_fp_env++] = arg;
	} else if (o == 'P') {
		a->fp_files[a->n_fp_files++] = arg;
	} else if (o == 'C') {
		a->opts.cwd = arg;
	} else if (o == 'l') {
		a->opts.log_path = arg;
	} else if (o == 'M') {
		r = cli_count(c, "--log-max", arg, &max);
		a->opts.log_max = (off_t)max;
	} else if (o == 'e') {
		eq = strchr(arg, '=');
		if (!eq || eq == arg)
			return cli_usage(c, "--env wants VAR=VALUE, not '%s'",
					 arg);
		a->env[a->n_env++] = arg;
	} else if (o == 'N') {
		a->opts.process_name = arg;
	} else if (o == 'r') {
		procmgr_ready_clear(&a->opts.ready);
		if (procmgr_ready_parse(arg, &a->opts.ready) < 0)
			return cli_usage(c, "--ready wants exec, socket, "
					 "notify, fd:N, tcp:PORT or unix:PATH, "
					 "not '%s'", arg);
	} else if (o == 'T') {
		r = cli_seconds(c, "--ready-timeout", arg,
				&a->opts.ready_timeout);
		/* 0 is "no limit", as systemd's TimeoutStartSec=0; the
		 * library would read it as its default, 60 s. */
		if (a->opts.ready_timeout == 0)
			a->opts.ready_timeout = -1;
	} else if (o == 'L') {
		r = cli_seconds(c, "--lock-timeout", arg, &a->lock_timeout);
	} else {
		r = parse_supervision(c, o, arg, a);
	}
	return r;
}

static int take(struct cli *c, int o, char *arg, void *ctx)
{
	struct spawn_args *a = ctx;

	if (o != 'K')
		return parse_value(c, o, arg, a);
	a->opts.kill_on_timeout = true;
	return CLI_CONTINUE;
}

static int parse(struct cli *c, int argc, char **argv, struct spawn_args *a,
		 char **ret_name)
{
	static const struct cli_syntax syntax = { 1, "NAME", NULL, spawn_opts,
						  true };
	char **cmd = NULL;
	int r;

	/* Each repeatable option appears at most argc times. */
	a->env = calloc((size_t)argc + 1, sizeof(char *));
	a->fp_env = calloc((size_t)argc + 1, sizeof(char *));
	a->fp_files = calloc((size_t)argc + 1, sizeof(char *));
	if (!a->env || !a->fp_env || !a->fp_files) {
		cli_err("out of memory");
		return CLI_ERROR;
	}
	a->opts.env = a->env;
	a->opts.fingerprint_env = a->fp_env;
	a->opts.fingerprint_files = a->fp_files;
	r = cli_parse(c, argc, argv, &syntax, take, a, ret_name, &cmd);
	a->opts.argv = cmd;
	return r;
}

/* Exit 7: how the daemon ended (the message) and why (its log's end). */
static int died(procmgr *h, int r)
{
	char *tail = NULL, *log = NULL;

	cli_fail(h, r);
	if (procmgr_log_path(h, &log) >= 0 &&
	    procmgr_start_log_tail(h, 20, &tail) >= 0 && tail[0]) {
		cli_stderr_lock();
		fprintf(stderr, "procmgr: the last lines of %s:\n%s", log,
			tail);
		if (tail[strlen(tail) - 1] != '\n')
			fputc('\n', stderr);
		cli_stderr_unlock();
	}
	free(tail);
	free(log);
	return CLI_DIED;
}

static int report(struct cli *c, procmgr *h, pid_t pid, const char *action,
		  const char *reason)
{
	if (!c->json) {
		printf("%d\n", (int)pid);
		return CLI_OK;
	}
	return cli_print_status_json(h, (const char *const[]){
		"action", action, "reason", reason, NULL });
}

/* -v: the log, and how long readiness is waited for. */
static void say_files(const struct cli *c, procmgr *h,
		      const struct spawn_args *a)
{
	double t = a->opts.ready_timeout;
	char limit[64] = "with no time limit";

	if (t >= 0)
		snprintf(limit, sizeof(limit), "up to %g s", t > 0 ? t : 60);
	cli_info(c, "procmgr: %s: log %s; waiting for readiness %s",
		 procmgr_get_name(h),
		 a->opts.log_path ? a->opts.log_path : procmgr_default_log(h),
		 limit);
}

/* The library's message, and what the user can do about it. */
static int failed(procmgr *h, int r, const struct spawn_args *a)
{
	const char *name = procmgr_get_name(h);

	if (r == -ECHILD)
		return died(h, r);
	if (r == -EEXIST)
		cli_err("%s; 'procmgr restart %s' replaces it, 'procmgr "
			"ensure %s' keeps it if unchanged", cli_errmsg(h),
			name, name);
	else if (r == -ETIMEDOUT && a->opts.kill_on_timeout)
		cli_err("%s; stopped it (--kill-on-timeout); see 'procmgr "
			"logs %s'", cli_errmsg(h), name);
	else if (r == -ETIMEDOUT)
		cli_err("%s; it is left running: see 'procmgr logs %s', "
			"raise --ready-timeout or 'procmgr stop %s'",
			cli_errmsg(h), name, name);
	else
		return cli_fail(h, r);
	return cli_exit_code(r);
}

/*
 * What ensure did, on stderr: "restarting web: argv changed" for a daemon
 * that ran, "starting web" (and why, when something was left of an
 * earlier run: "starting web: stale pid 123") for one that did not.
 */
static void say_start(const struct cli *c, procmgr *h, int r,
		      const char *reason)
{
	const char *name = procmgr_get_name(h);

	if (r == 1)
		cli_info(c, "restarting %s: %s", name, reason);
	else if (r == 2 && (!reason || !strcmp(reason, "not running")))
		cli_info(c, "starting %s", name);
	else if (r == 2)
		cli_info(c, "starting %s: %s", name, reason);
}

static int run(struct cli *c, procmgr *h, enum spawn_kind kind,
	       const struct spawn_args *a)
{
	char *reason = NULL;
	const char *action = "started";
	pid_t pid = 0;
	int r;

	cli_lock_wait(c, h, a->lock_timeout);
	if (c->verbose)
		say_files(c, h, a);
	if (kind == SPAWN_START) {
		r = procmgr_start(h, &a->opts, &pid);
	} else if (kind == SPAWN_RESTART) {
		r = procmgr_restart(h, &a->opts, &pid);
		action = "restarted";
	} else {
		r = procmgr_ensure(h, &a->opts, &pid, &reason);
		action = r == 0 ? "kept" : r == 1 ? "restarted" : "started";
		say_start(c, h, r, reason);
	}
	r = r < 0 ? failed(h, r, a) : report(c, h, pid, action, reason);
	free(reason);
	return r;
}

static int spawn(struct cli *c, int argc, char **argv, enum spawn_kind kind)
{
	struct spawn_args a = { .lock_timeout = -1, .stop.kill_wait = -1 };
	procmgr *h = NULL;
	char *op[1];
	int r;

	if ((r = parse(c, argc, argv, &a, op)) == CLI_CONTINUE &&
	    (r = cli_open(c, op[0], &h)) == CLI_CONTINUE)
		r = run(c, h, kind, &a);
	procmgr_free(h);
	procmgr_ready_clear(&a.opts.ready);
	free(a.env);
	free(a.fp_env);
	free(a.fp_files);
	return r;
}

int cmd_start(struct cli *c, int argc, char **argv)
{
	return spawn(c, argc, argv, SPAWN_START);
}

int cmd_ensure(struct cli *c, int argc, char **argv)
{
	return spawn(c, argc, argv, SPAWN_ENSURE);
}

int cmd_restart(struct cli *c, int argc, char **argv)
{
	return spawn(c, argc, argv, SPAWN_RESTART);
}
