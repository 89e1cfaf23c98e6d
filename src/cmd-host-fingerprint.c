/*
 * cmd-host-fingerprint.c - procmgr host-fingerprint: print HOSTFP, the
 * directory under DIR that keeps this host's metadata apart.
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

int cmd_host_fingerprint(struct cli *c, int argc, char **argv)
{
	static const struct cli_syntax syntax = { 0, "", NULL, NULL, false };
	char fp[PROCMGR_HOSTFP_LEN + 1];
	int r;

	r = cli_parse(c, argc, argv, &syntax, NULL, NULL, NULL, NULL);
	if (r != CLI_CONTINUE)
		return r;
	r = procmgr_host_fingerprint(fp);
	if (r < 0) {
		/* no handle to ask: the only call that can fail is uname(2) */
		cli_err("cannot compute the host fingerprint: uname: %s",
			strerror(-r));
		return CLI_ERROR;
	}
	puts(fp);
	return CLI_OK;
}
