/*
 * fuzz-json - json_string(), the CLI's writer of every string --json
 * prints (a key's value may be any bytes from disk): the result must be
 * one valid JSON string, and plain printable ASCII must come out as is.
 */
#include "fuzz.h"
#include "json-check.h"

#include "cli.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fz_cstr(data, size), *j = NULL;
	size_t jn = 0, n = strlen(s);
	bool plain = true;
	FILE *f = open_memstream(&j, &jn);

	if (!f)
		abort();
	json_string(f, s);
	fclose(f);
	fz_check(j[0] == '"' && jc_valid(j), "'%s' -> %s", s, j);
	for (size_t i = 0; i < n; i++)
		plain &= s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' &&
			 s[i] != '\\';
	fz_check(!plain || (jn == n + 2 && !memcmp(j + 1, s, n)),
		 "'%s' -> %s", s, j);
	free(j);
	free(s);
	return 0;
}
