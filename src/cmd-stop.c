/*
 * cmd-stop.c - procmgr stop NAME [--signals LIST] [--kill-wait SEC]
 * [--keep-metadata] [--lock-timeout SEC].
 *
 * A stale or stopped NAME is success with nothing signalled; a process
 * that survives the whole chain exits 6 with its metadata kept.
 */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct stop_args {
	int signals[CLI_MAX_SIGNALS];
	struct procmgr_stop_opts opts;
	double lock_timeout;
	bool all;
};

static const struct option stop_opts[] = {
	CLI_STOP_OPTIONS,
	{ "keep-metadata", no_argument, NULL, 'K' },
	{ "lock-timeout", required_argument, NULL, 'L' },
	{ "all", no_argument, NULL, 'a' },
	{ NULL, 0, NULL, 0 },
};

static int take(struct cli *c, int o, char *arg, void *ctx)
{
	struct stop_args *a = ctx;

	if (o == 'K')
		a->opts.keep_metadata = true;
	else if (o == 'a')
		a->all = true;
	else if (o == 'L')
		return cli_seconds(c, "--lock-timeout", arg, &a->lock_timeout);
	else
		return cli_stop_option(c, o, arg, &a->opts, a->signals);
	return CLI_CONTINUE;
}

static int report(struct cli *c, procmgr *h, int stopped, pid_t pid)
{
	struct procmgr_status st = { 0 };
	int r;

	if (stopped)
		cli_info(c, "stopped %s (pid %d)", procmgr_get_name(h),
			 (int)pid);
	else
		cli_info(c, "%s was not running: nothing to stop",
			 procmgr_get_name(h));
	if (!c->json)
		return CLI_OK;
	r = procmgr_status(h, &st);
	if (r < 0)
		return cli_fail(h, r);
	cli_json_printed();
	json_status(stdout, procmgr_get_name(h), &st);
	json_field_bool(stdout, "stopped", stopped);
	json_field_int(stdout, "stopped_pid", pid, stopped);
	puts("}");
	procmgr_status_clear(&st);
	return CLI_OK;
}

/* stop --all: no NAME; every NAME under DIR. */
static bool wants_all(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--all"))
			return true;
	return false;
}

int cmd_stop(struct cli *c, int argc, char **argv)
{
	static const struct cli_syntax one = { 1, "NAME", NULL, stop_opts,
					       false };
	static const struct cli_syntax all = { 0, "", NULL, stop_opts, false };
	struct stop_args a = { .opts.kill_wait = -1, .lock_timeout = -1 };
	procmgr *h = NULL;
	char *op[1];
	pid_t pid = 0;
	int r;

	if (wants_all(argc, argv)) {
		r = cli_parse(c, argc, argv, &all, take, &a, NULL, NULL);
		return r != CLI_CONTINUE ? r :
		       cli_stop_many(c, false, &a.opts, a.lock_timeout);
	}
	if ((r = cli_parse(c, argc, argv, &one, take, &a, op, NULL)) !=
		    CLI_CONTINUE ||
	    (r = cli_open(c, op[0], &h)) != CLI_CONTINUE)
		return r;
	cli_lock_wait(c, h, a.lock_timeout);
	r = procmgr_stop(h, &a.opts, &pid);
	if (r == -ETIME) {
		cli_err("%s; add KILL to --signals or raise --kill-wait",
			cli_errmsg(h));
		r = CLI_NOT_STOPPED;
	}
	else if (r < 0)
		r = cli_fail(h, r);
	else
		r = report(c, h, r, pid);
	procmgr_free(h);
	return r;
}
