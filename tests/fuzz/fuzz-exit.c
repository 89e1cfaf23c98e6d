/*
 * fuzz-exit - pm_parse_exit(), the exit key the monitor writes: known
 * means exactly one of a status 0-255 or a signal 1-SIGRTMAX, and at= and
 * reason= are either absent or copies of a token of the text.
 */
#include "fuzz.h"

#include <signal.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fz_cstr(data, size), *orig = fz_cstr(data, size);
	struct procmgr_exit e = { .known = false, .status = -1 };

	pm_parse_exit(s, &e);
	if (e.known) {
		fz_check((e.status >= 0 && e.status <= 255 && e.signal == 0) ||
			 (e.status == -1 && e.signal >= 1 &&
			  e.signal <= SIGRTMAX),
			 "'%s': status %d signal %d", orig, e.status, e.signal);
		fz_check(!e.at || (*e.at && strstr(orig, e.at)), "'%s'", orig);
		fz_check(!e.reason || (*e.reason && strstr(orig, e.reason)),
			 "'%s'", orig);
	} else {
		fz_check(e.status == -1 && e.signal == 0 && !e.at &&
			 !e.reason, "'%s'", orig);
	}
	free(e.at);
	free(e.reason);
	free(s);
	free(orig);
	return 0;
}
