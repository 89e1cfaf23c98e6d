/*
 * fuzz-start-time - pm_parse_start_time(), the start_time key: on success
 * the text starts with a digit, the boot id is 36 characters of [0-9a-f-],
 * and printing the pair back gives the text up to its blanks.
 */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fz_cstr(data, size), boot[PM_BOOT_ID_LEN + 1], again[128];
	unsigned long long start = 0;
	size_t n;

	memset(boot, 'Z', sizeof(boot));
	if (pm_parse_start_time(s, &start, boot) == 0) {
		fz_check(s[0] >= '0' && s[0] <= '9', "'%s'", s);
		fz_check(strlen(boot) == PM_BOOT_ID_LEN, "'%s'", s);
		fz_check(strspn(boot, "0123456789abcdef-") == PM_BOOT_ID_LEN,
			 "'%s'", s);
		snprintf(again, sizeof(again), "%llu", start);
		n = strlen(again);
		/* leading zeros are the one way to write it differently */
		fz_check(!strcmp(s + strlen(s) - PM_BOOT_ID_LEN, boot),
			 "'%s': boot id not at the end", s);
		fz_check(n <= strlen(s) && (s[0] == '0' ||
					    !strncmp(s, again, n)),
			 "'%s': start %s", s, again);
	} else {
		fz_check(boot[0] == 'Z', "'%s': written on failure", s);
	}
	free(s);
	return 0;
}
