/*
 * cmd-purge.c - procmgr purge NAME [--force]: remove a NAME's metadata
 * when it is not running (the library compares and deletes under the
 * lifecycle lock, so a successor's metadata is never wiped).
 */
#include "cli.h"

int cmd_purge(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "lock-timeout", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char **op = argv + 1;
	double lock_timeout = -1;
	bool force = false;
	procmgr *h = NULL;
	int o, r;

	if ((r = cli_operands(c, &argc, &argv, 1, "NAME")) != CLI_CONTINUE)
		return r;
	while ((o = cli_getopt(c, argc, argv, "fh", opts)) != -1) {
		if (o == 'h')
			return cli_help(c->cmd);
		if (o == 'f')
			force = true;
		else if (o != 'L')
			return CLI_USAGE;
		else if ((r = cli_seconds(c, "--lock-timeout", optarg,
					  &lock_timeout)) != CLI_CONTINUE)
			return r;
	}
	if ((r = cli_no_more(c, argc, argv)) != CLI_CONTINUE ||
	    (r = cli_open(c, op[0], &h)) != CLI_CONTINUE)
		return r;
	cli_lock_wait(c, h, lock_timeout);
	r = procmgr_purge(h, force);
	r = r < 0 ? cli_fail(h, r) : CLI_OK;
	procmgr_free(h);
	return r;
}
