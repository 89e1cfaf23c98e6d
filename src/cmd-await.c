/*
 * cmd-await.c - procmgr await NAME KEY [--timeout SEC]: wait until a key
 * exists (the library wakes on inotify), then print its value.
 */
#include "cli.h"

#include <stdlib.h>

static int take(struct cli *c, int o, char *arg, void *timeout)
{
	(void)o;
	return cli_seconds(c, "--timeout", arg, timeout);
}

int cmd_await(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "timeout", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct cli_syntax syntax = { 2, "NAME KEY", NULL, opts,
						  false };
	double timeout = -1;
	char *op[2], *value = NULL;
	procmgr *h = NULL;
	int r;

	if ((r = cli_parse(c, argc, argv, &syntax, take, &timeout, op,
			   NULL)) != CLI_CONTINUE ||
	    (r = cli_open(c, op[0], &h)) != CLI_CONTINUE)
		return r;
	r = procmgr_await(h, op[1], timeout, &value);
	r = r < 0 ? cli_fail(h, r) : cli_print_value(c, h, op[1], value);
	free(value);
	procmgr_free(h);
	return r;
}
