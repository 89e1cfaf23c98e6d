/*
 * fuzz-lock-message - pm_lock_message_pid(), how a waiter reads the pid of
 * the lock holder from "<pid> (<argv>)" to tell a stale message: the pid
 * it returns is the leading run of digits, in range.
 */
#include "fuzz.h"

#include <ctype.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fz_cstr(data, size), *p = s;
	pid_t pid = 0;

	if (pm_lock_message_pid(s, &pid) == 0) {
		while (isspace((unsigned char)*p))
			p++;
		fz_check(pid > 1 && strtoll(p, NULL, 10) == pid, "'%s' -> %d",
			 s, (int)pid);
	} else {
		fz_check(pid == 0, "'%s': written on failure", s);
	}
	free(s);
	return 0;
}
