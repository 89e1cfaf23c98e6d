/*
 * fuzz-fingerprint-reason - pm_fingerprint_reason(), which reads two
 * fingerprint_inputs keys (the recorded one may be anything) and says what
 * changed. Input: old inputs, a NUL, new inputs. Whatever they hold, the
 * answer is a non-empty reason.
 */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fz_cstr(data, size), *old = s, *new, *reason = NULL;
	size_t n = strlen(s);
	int r;

	new = n < size ? s + n + 1 : s + n;
	r = pm_fingerprint_reason(old, new, &reason);
	fz_check(r == 0 && reason && *reason, "r=%d", r);
	free(reason);
	/* the recorded key may also be missing */
	r = pm_fingerprint_reason(NULL, new, &reason);
	fz_check(r == 0 && reason && *reason, "r=%d", r);
	free(reason);
	free(s);
	return 0;
}
