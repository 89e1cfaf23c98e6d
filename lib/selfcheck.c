/*
 * selfcheck.c - self-fencing for daemons: "does the metadata still name
 * me?". pants, Bazel and Buck2 daemons exit when their pid file stops
 * naming them, so two instances never serve one NAME for long.
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int procmgr_self_check(procmgr *h)
{
	char *pid_text = NULL, *recorded = NULL, *mine = NULL;
	size_t len;
	pid_t pid;
	int r;

	r = pm_check_open(h);
	if (r < 0)
		return r;
	r = procmgr_read_raw(h, "pid", &pid_text, &len);
	/* Gone or unreadable metadata names nobody, least of all us. */
	if (r == -ENOENT ||
	    (r >= 0 && (pm_parse_pid_len(pid_text, len, &pid) < 0 ||
			pid != getpid()))) {
		r = 0;
		goto out;
	}
	if (r < 0)
		goto out;
	r = procmgr_read(h, "start_time", &recorded);
	if (r == -ENOENT) {
		r = 1;
		goto out;
	}
	if (r < 0)
		goto out;
	r = procmgr_proc_identity(getpid(), &mine);
	if (r < 0)
		goto out;
	r = strcmp(recorded, mine) == 0;
out:
	free(pid_text);
	free(recorded);
	free(mine);
	return r;
}
