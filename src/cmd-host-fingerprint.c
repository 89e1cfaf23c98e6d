/*
 * cmd-host-fingerprint.c - procmgr host-fingerprint: print HOSTFP, the
 * directory under DIR that keeps this host's metadata apart.
 */
#include "cli.h"

#include <stdio.h>

int cmd_host_fingerprint(struct cli *c, int argc, char **argv)
{
	static const struct cli_syntax syntax = { 0, "", NULL, NULL, false };
	char fp[PROCMGR_HOSTFP_LEN + 1];
	int r;

	r = cli_parse(c, argc, argv, &syntax, NULL, NULL, NULL, NULL);
	if (r != CLI_CONTINUE)
		return r;
	/* uname(2) does not fail in practice: keep the error path short. */
	r = procmgr_host_fingerprint(fp);
	if (r >= 0)
		puts(fp);
	return r < 0 ? cli_fail(NULL, r) : CLI_OK;
}
