/*
 * fuzz-stat - pm_parse_stat(), a /proc/PID/stat line: on success the state
 * is the character two after the last ')', and the start time is the
 * number 19 blanks further on.
 */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fz_cstr(data, size), state = 0, *p;
	unsigned long long start = 0;

	if (pm_parse_stat(s, &state, &start) == 0) {
		p = strrchr(s, ')');
		fz_check(p && p[1] == ' ' && p[2] == state && p[3] == ' ',
			 "'%s': state %c", s, state);
	} else {
		fz_check(state == 0 && start == 0, "'%s': written", s);
	}
	free(s);
	return 0;
}
