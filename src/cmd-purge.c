/*
 * cmd-purge.c - procmgr purge NAME [--force]: remove a NAME's metadata
 * when it is not running (the library compares and deletes under the
 * lifecycle lock, so a successor's metadata is never wiped).
 */
#include "cli.h"

struct purge_args {
	bool force;
	double lock_timeout;
};

static int take(struct cli *c, int o, char *arg, void *ctx)
{
	struct purge_args *a = ctx;

	if (o == 'f') {
		a->force = true;
		return CLI_CONTINUE;
	}
	return cli_seconds(c, "--lock-timeout", arg, &a->lock_timeout);
}

int cmd_purge(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "lock-timeout", required_argument, NULL, 'L' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct cli_syntax syntax = { 1, "NAME", "f", opts,
						  false };
	struct purge_args a = { .lock_timeout = -1 };
	char *op[1];
	procmgr *h = NULL;
	int r;

	if ((r = cli_parse(c, argc, argv, &syntax, take, &a, op, NULL)) !=
		    CLI_CONTINUE ||
	    (r = cli_open(c, op[0], &h)) != CLI_CONTINUE)
		return r;
	cli_lock_wait(c, h, a.lock_timeout);
	r = procmgr_purge(h, a.force);
	r = r < 0 ? cli_fail(h, r) : CLI_OK;
	procmgr_free(h);
	return r;
}
