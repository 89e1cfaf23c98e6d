/*
 * cmd-logs.c - procmgr logs NAME [-n LINES] [-f]: the end of the daemon's
 * log; with -f, new lines as they are written, until the daemon ends
 * (procmgr_log_follow()).
 */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct logs_args {
	unsigned long long lines;
	bool follow;
};

static int take(struct cli *c, int o, char *arg, void *ctx)
{
	struct logs_args *a = ctx;

	if (o == 'n')
		return cli_count(c, "--lines", arg, &a->lines);
	a->follow = true;
	return CLI_CONTINUE;
}

/*
 * cli_fail() without its option hint: a log's path came from its start,
 * and logs has no --log to change it with.
 */
static int logs_fail(procmgr *h, int r)
{
	const char *msg = procmgr_errmsg(h);

	cli_err("%s", msg && *msg ? msg : strerror(-r));
	return cli_exit_code(r);
}

/* Out to stdout as it comes; a closed stdout stops the follow. */
static int print_piece(const char *data, size_t len, void *userdata)
{
	(void)userdata;
	if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0)
		return -EPIPE;
	return 0;
}

static int follow(procmgr *h, const char *path, unsigned long long n)
{
	int r = procmgr_log_follow(h, (size_t)n, print_piece, NULL);

	if (r == -ENOENT) {
		cli_err("cannot open the log %s: %s; has %s been started?",
			path, strerror(-r), procmgr_get_name(h));
		return CLI_ERROR;
	}
	if (r == -EPIPE)
		return CLI_ERROR;	/* main() says stdout failed */
	return r < 0 ? logs_fail(h, r) : CLI_OK;
}

int cmd_logs(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "lines", required_argument, NULL, 'n' },
		{ "follow", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct cli_syntax syntax = { 1, "NAME", "n:f", opts,
						  false };
	struct logs_args a = { .lines = 10 };
	char *text = NULL, *path = NULL, *op[1];
	procmgr *h = NULL;
	int r;

	if ((r = cli_parse(c, argc, argv, &syntax, take, &a, op, NULL)) !=
		    CLI_CONTINUE ||
	    (r = cli_open_read_only(c, op[0], &h)) != CLI_CONTINUE)
		return r;
	r = procmgr_log_path(h, &path);
	if (r < 0) {
		r = logs_fail(h, r);
		goto out;
	}
	if (c->verbose)
		cli_info(c, "procmgr: %s: log %s", procmgr_get_name(h), path);
	if (a.follow) {
		r = follow(h, path, a.lines);
	} else if ((r = procmgr_log_tail(h, (size_t)a.lines, &text)) >= 0) {
		fputs(text, stdout);
		r = CLI_OK;
	} else if (r == -ENOENT) {
		cli_err("no log %s; has %s been started?", path,
			procmgr_get_name(h));
		r = CLI_ERROR;
	} else {
		r = logs_fail(h, r);
	}
out:
	free(text);
	free(path);
	procmgr_free(h);
	return r;
}
