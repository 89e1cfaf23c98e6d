/*
 * fuzz-pid - pm_parse_pid() and pm_parse_pid_len(), the readers of every
 * pid key, against a restatement of their contract: white space, 1+ ASCII
 * digits, white space, nothing else (no NUL among the bytes read); a value
 * from 2 to INT_MAX.
 */
#include "fuzz.h"

#include <ctype.h>
#include <limits.h>

static int expect(const char *s, long long *ret)
{
	long long v = 0;

	while (isspace((unsigned char)*s))
		s++;
	if (!isdigit((unsigned char)*s))
		return -1;
	for (; isdigit((unsigned char)*s); s++) {
		v = v * 10 + (*s - '0');
		if (v > INT_MAX)
			return -1;
	}
	while (isspace((unsigned char)*s))
		s++;
	if (*s || v < 2)
		return -1;
	*ret = v;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fz_cstr(data, size);
	pid_t pid = -7;
	long long want = 0;
	int r = pm_parse_pid(s, &pid), e = expect(s, &want);

	fz_check((r == 0) == (e == 0), "'%s': parser %d, contract %d", s, r,
		 e);
	fz_check(r == 0 || pid == -7, "'%s': pid written on failure", s);
	fz_check(r != 0 || pid == want, "'%s': %d, not %lld", s, (int)pid,
		 want);
	/* the key as read from a file: a NUL among the bytes is corrupt */
	pid = -7;
	r = pm_parse_pid_len(s, size, &pid);
	if (memchr(data, '\0', size))
		e = -1;
	fz_check((r == 0) == (e == 0), "%zu bytes '%s': parser %d, contract %d",
		 size, s, r, e);
	fz_check(r != 0 || pid == want, "'%s': %d, not %lld", s, (int)pid,
		 want);
	free(s);
	return 0;
}
