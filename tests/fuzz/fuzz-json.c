/*
 * fuzz-json - procmgr_json_string(), which puts any key value (bytes from
 * disk) into --json output: the result must be one valid JSON string
 * (RFC 8259: escapes well-formed, no raw control character, valid UTF-8).
 */
#include "fuzz.h"

/* Length of the valid UTF-8 sequence at p, 0 if invalid. */
static size_t utf8_ok(const unsigned char *p)
{
	unsigned long cp;
	size_t n;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, cp = p[0] & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

static int valid_json_string(const char *j)
{
	const unsigned char *p = (const unsigned char *)j;
	size_t n;

	if (*p++ != '"')
		return 0;
	while (*p != '"') {
		if (*p < 0x20)
			return 0;	/* also the end of the text */
		if (*p == '\\') {
			p++;
			if (*p == 'u') {
				for (int i = 1; i <= 4; i++)
					if (!strchr("0123456789abcdefABCDEF",
						    p[i]) || !p[i])
						return 0;
				p += 5;
			} else if (*p && strchr("\"\\/bfnrt", *p)) {
				p++;
			} else {
				return 0;
			}
			continue;
		}
		n = utf8_ok(p);
		if (!n)
			return 0;
		p += n;
	}
	return p[1] == '\0';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fz_cstr(data, size), *j = NULL;

	fz_check(procmgr_json_string(s, &j) == 0, "out of memory?");
	fz_check(valid_json_string(j), "'%s' -> %s", s, j);
	free(j);
	free(s);
	return 0;
}
