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

#define MAX_SIGNALS 16

struct stop_args {
	int signals[MAX_SIGNALS];
	struct procmgr_stop_opts opts;
	double lock_timeout;
};

/* "TERM,KILL" or "SIGINT,15" into a->signals; no empty items. */
static int parse_signals(const struct cli *c, const char *list,
			 struct stop_args *a)
{
	const char *p = list;
	char item[32];
	size_t n = 0, len;
	int sig;

	do {
		len = strcspn(p, ",");
		if (len == 0 || len >= sizeof(item) || n == MAX_SIGNALS)
			goto fail;
		memcpy(item, p, len);
		item[len] = '\0';
		sig = procmgr_signal_parse(item);
		if (sig <= 0)
			goto fail;
		a->signals[n++] = sig;
		p += len;
	} while (*p++ == ',');
	a->opts.signals = a->signals;
	a->opts.n_signals = n;
	return CLI_CONTINUE;
fail:
	return cli_usage(c, "--signals wants a comma-separated list of at "
			 "most %d signals, like TERM,KILL, not '%s'",
			 MAX_SIGNALS, list);
}

static int parse(struct cli *c, int argc, char **argv, struct stop_args *a)
{
	static const struct option opts[] = {
		{ "signals", required_argument, NULL, 's' },
		{ "kill-wait", required_argument, NULL, 'w' },
		{ "keep-metadata", no_argument, NULL, 'k' },
		{ "lock-timeout", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int o, r = CLI_CONTINUE;

	while (r == CLI_CONTINUE &&
	       (o = cli_getopt(c, argc, argv, "h", opts)) != -1) {
		if (o == 'h')
			r = cli_help(c->cmd);
		else if (o == 's')
			r = parse_signals(c, optarg, a);
		else if (o == 'w')
			r = cli_seconds(c, "--kill-wait", optarg,
					&a->opts.kill_wait);
		else if (o == 'k')
			a->opts.keep_metadata = true;
		else if (o == 'L')
			r = cli_seconds(c, "--lock-timeout", optarg,
					&a->lock_timeout);
		else
			r = CLI_USAGE;
	}
	return r == CLI_CONTINUE ? cli_no_more(c, argc, argv) : r;
}

static int report(struct cli *c, procmgr *h, int stopped, pid_t pid)
{
	struct procmgr_status st = { 0 };
	char *json = NULL;
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
	if (r >= 0)
		r = procmgr_status_json(procmgr_get_name(h), &st, NULL, &json);
	procmgr_status_clear(&st);
	if (r < 0)
		return cli_fail(h, r);
	/* "stopped" is a JSON boolean, which the library's string pairs
	 * cannot express: splice it in before the closing brace. */
	json[strlen(json) - 1] = '\0';
	printf("%s, \"stopped\": %s, \"stopped_pid\": ", json,
	       stopped ? "true" : "false");
	if (stopped)
		printf("%d}\n", (int)pid);
	else
		puts("null}");
	free(json);
	return CLI_OK;
}

int cmd_stop(struct cli *c, int argc, char **argv)
{
	struct stop_args a = { .opts.kill_wait = -1, .lock_timeout = -1 };
	char **op = argv + 1;
	procmgr *h = NULL;
	pid_t pid = 0;
	int r;

	if ((r = cli_operands(c, &argc, &argv, 1, "NAME")) != CLI_CONTINUE ||
	    (r = parse(c, argc, argv, &a)) != CLI_CONTINUE ||
	    (r = cli_open(c, op[0], &h)) != CLI_CONTINUE)
		return r;
	cli_lock_wait(c, h, a.lock_timeout);
	r = procmgr_stop(h, &a.opts, &pid);
	if (r == -EBUSY) {
		cli_err("%s; add KILL to --signals or raise --kill-wait",
			procmgr_errmsg(h));
		r = CLI_NOT_STOPPED;
	}
	else if (r < 0)
		r = cli_fail(h, r);
	else
		r = report(c, h, r, pid);
	procmgr_free(h);
	return r;
}
