/*
 * cmd-get.c - procmgr get NAME KEY: print one key's value.
 *
 * An absent key exits 3, like a stopped NAME in status, so a script can
 * tell "not there" from a failure.
 */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

int cmd_get(struct cli *c, int argc, char **argv)
{
	static const struct cli_syntax syntax = { 2, "NAME KEY", NULL, NULL,
						  false };
	char *op[2], *value = NULL;
	procmgr *h = NULL;
	size_t len;
	int r;

	if ((r = cli_parse(c, argc, argv, &syntax, NULL, NULL, op, NULL)) !=
		    CLI_CONTINUE ||
	    (r = cli_open_read_only(c, op[0], &h)) != CLI_CONTINUE)
		return r;
	r = procmgr_read_raw(h, op[1], &value, &len);
	if (r == -ENOENT) {
		cli_err("%s has no key '%s' in %s; 'procmgr set' writes one",
			procmgr_get_name(h), op[1], procmgr_meta_dir(h));
		r = CLI_NOT_RUNNING;
	} else if (r < 0) {
		r = cli_fail(h, r);
	} else {
		r = cli_print_value(c, h, op[1], cli_printable(value, len));
	}
	free(value);
	procmgr_free(h);
	return r;
}
