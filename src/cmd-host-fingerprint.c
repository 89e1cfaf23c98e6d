/*
 * cmd-host-fingerprint.c - procmgr host-fingerprint: print HOSTFP, the
 * directory under DIR that keeps this host's metadata apart.
 */
#include "cli.h"

#include <stdio.h>

int cmd_host_fingerprint(struct cli *c, int argc, char **argv)
{
	char fp[PROCMGR_HOSTFP_LEN + 1];
	int r;

	if ((r = cli_operands(c, &argc, &argv, 0, "")) != CLI_CONTINUE ||
	    (r = cli_plain(c, argc, argv)) != CLI_CONTINUE)
		return r;
	/* uname(2) does not fail in practice: keep the error path short. */
	r = procmgr_host_fingerprint(fp);
	if (r >= 0)
		puts(fp);
	return r < 0 ? cli_fail(NULL, r) : CLI_OK;
}
