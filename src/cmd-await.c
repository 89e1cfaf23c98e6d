/*
 * cmd-await.c - procmgr await NAME KEY [--timeout SEC]: wait until a key
 * exists (the library wakes on inotify), then print its value.
 */
#include "cli.h"

#include <stdlib.h>

int cmd_await(struct cli *c, int argc, char **argv)
{
	char **op = argv + 1;
	double timeout = -1;
	char *value = NULL;
	procmgr *h = NULL;
	int r;

	r = cli_operands(c, &argc, &argv, 2, "NAME KEY");
	if (r != CLI_CONTINUE ||
	    (r = cli_seconds_option(c, argc, argv, "--timeout",
				    &timeout)) != CLI_CONTINUE ||
	    (r = cli_no_more(c, argc, argv)) != CLI_CONTINUE ||
	    (r = cli_open(c, op[0], &h)) != CLI_CONTINUE)
		return r;
	r = procmgr_await(h, op[1], timeout, &value);
	r = r < 0 ? cli_fail(h, r) : cli_print_value(c, h, op[1], value);
	free(value);
	procmgr_free(h);
	return r;
}
