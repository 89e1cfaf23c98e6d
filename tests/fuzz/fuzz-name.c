/*
 * fuzz-name - procmgr_name_normalize(): a NAME it accepts is 1-64 of
 * [a-z0-9._-], not starting with '.', and normalizing it again changes
 * nothing; it is the input stripped and lower-cased.
 */
#include "fuzz.h"

#include <ctype.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fz_cstr(data, size), out[PROCMGR_NAME_MAX + 1];
	char again[PROCMGR_NAME_MAX + 1];
	size_t n;

	if (procmgr_name_normalize(s, out) == 0) {
		n = strlen(out);
		fz_check(n >= 1 && n <= PROCMGR_NAME_MAX && out[0] != '.',
			 "'%s' -> '%s'", s, out);
		fz_check(strspn(out, "abcdefghijklmnopqrstuvwxyz0123456789._-")
			 == n, "'%s' -> '%s'", s, out);
		fz_check(procmgr_name_normalize(out, again) == 0 &&
			 !strcmp(out, again), "'%s' not stable", out);
		for (const char *p = s; *p; p++)
			if (!isspace((unsigned char)*p)) {
				fz_check(!strncasecmp(p, out, n),
					 "'%s' -> '%s'", s, out);
				break;
			}
	}
	free(s);
	return 0;
}
