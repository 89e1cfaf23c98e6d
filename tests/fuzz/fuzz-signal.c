/*
 * fuzz-signal - procmgr_signal_parse(), for --signals and the exit key:
 * 1..SIGRTMAX or -EINVAL, and the canonical name of a parsed signal parses
 * back to it.
 */
#include "fuzz.h"

#include <errno.h>
#include <signal.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fz_cstr(data, size);
	const char *name;
	int sig = procmgr_signal_parse(s);

	fz_check(sig == -EINVAL || (sig >= 1 && sig <= SIGRTMAX), "'%s': %d",
		 s, sig);
	if (sig > 0 && (name = procmgr_signal_name(sig)))
		fz_check(procmgr_signal_parse(name) == sig, "'%s': %s", s,
			 name);
	free(s);
	return 0;
}
