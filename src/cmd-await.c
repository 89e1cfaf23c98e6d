/*
 * cmd-await.c - procmgr await NAME KEY [--timeout SEC]: wait until a key
 * exists (the library wakes on inotify), then print its value.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>

static int parse(struct cli *c, int argc, char **argv, double *ret_timeout)
{
	static const struct option opts[] = {
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int o, r;

	while ((o = cli_getopt(c, argc, argv, "h", opts)) != -1) {
		if (o == 'h')
			return cli_help(c->cmd);
		if (o != 't')
			return CLI_USAGE;
		r = cli_seconds(c, "--timeout", optarg, ret_timeout);
		if (r != CLI_CONTINUE)
			return r;
	}
	return cli_no_more(c, argc, argv);
}

int cmd_await(struct cli *c, int argc, char **argv)
{
	char **op = argv + 1;
	struct procmgr_status st = { 0 };
	double timeout = -1;
	char *value = NULL;
	procmgr *h = NULL;
	int r;

	r = cli_operands(c, &argc, &argv, 2, "NAME KEY");
	if (r != CLI_CONTINUE ||
	    (r = parse(c, argc, argv, &timeout)) != CLI_CONTINUE ||
	    (r = cli_open(c, op[0], &h)) != CLI_CONTINUE)
		return r;
	r = procmgr_await(h, op[1], timeout, &value);
	if (r < 0) {
		r = cli_fail(h, r);
		goto out;
	}
	if (!c->json) {
		puts(value);
		r = CLI_OK;
		goto out;
	}
	r = procmgr_status(h, &st);
	if (r < 0) {
		r = cli_fail(h, r);
		goto out;
	}
	r = cli_print_json(h, &st, (const char *const[]){ "key", op[1],
				   "value", value, NULL });
out:
	procmgr_status_clear(&st);
	free(value);
	procmgr_free(h);
	return r;
}
