/*
 * cmd-set.c - procmgr set NAME KEY VALUE: write one key atomically.
 */
#include "cli.h"

int cmd_set(struct cli *c, int argc, char **argv)
{
	static const struct cli_syntax syntax = { 3, "NAME KEY VALUE", NULL,
						  NULL, false };
	char *op[3];
	procmgr *h = NULL;
	int r;

	if ((r = cli_parse(c, argc, argv, &syntax, NULL, NULL, op, NULL)) !=
		    CLI_CONTINUE ||
	    (r = cli_open(c, op[0], &h)) != CLI_CONTINUE)
		return r;
	r = procmgr_write(h, op[1], op[2]);
	r = r < 0 ? cli_fail(h, r) : CLI_OK;
	procmgr_free(h);
	return r;
}
