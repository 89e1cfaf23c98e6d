/*
 * json-check.h - a strict RFC 8259 validator for the fuzz targets that
 * check what --json prints: one value, strings of valid UTF-8 with no raw
 * control character and only the defined escapes, nothing after it.
 */
#ifndef PROCMGR_JSON_CHECK_H
#define PROCMGR_JSON_CHECK_H

#include <stdbool.h>
#include <string.h>

static const char *jc_value(const char *p, int depth);

static const char *jc_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

/* Length of the valid UTF-8 sequence at p, 0 if invalid. */
static size_t jc_utf8(const unsigned char *p)
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

static const char *jc_string(const char *p)
{
	size_t n;

	if (*p++ != '"')
		return NULL;
	while (*p != '"') {
		if ((unsigned char)*p < 0x20)
			return NULL;	/* also the end of the text */
		if (*p == '\\') {
			p++;
			if (*p == 'u') {
				for (int i = 1; i <= 4; i++)
					if (!p[i] || !strchr("0123456789abcdef"
							     "ABCDEF", p[i]))
						return NULL;
				p += 5;
			} else if (*p && strchr("\"\\/bfnrt", *p)) {
				p++;
			} else {
				return NULL;
			}
			continue;
		}
		n = jc_utf8((const unsigned char *)p);
		if (!n)
			return NULL;
		p += n;
	}
	return p + 1;
}

static const char *jc_number(const char *p)
{
	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		while (*p >= '0' && *p <= '9')
			p++;
	else
		return NULL;
	if (*p == '.') {
		if (!(*++p >= '0' && *p <= '9'))
			return NULL;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!(*p >= '0' && *p <= '9'))
			return NULL;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	return p;
}

/* Members of an object (pairs) or an array, up to the closing byte. */
static const char *jc_members(const char *p, char close, bool pairs,
			      int depth)
{
	p = jc_ws(p);
	if (*p == close)
		return p + 1;
	for (;;) {
		if (pairs) {
			p = jc_string(jc_ws(p));
			if (!p || *(p = jc_ws(p)) != ':')
				return NULL;
			p++;
		}
		p = jc_value(p, depth + 1);
		if (!p)
			return NULL;
		p = jc_ws(p);
		if (*p == close)
			return p + 1;
		if (*p++ != ',')
			return NULL;
	}
}

static const char *jc_value(const char *p, int depth)
{
	if (depth > 64)
		return NULL;
	p = jc_ws(p);
	switch (*p) {
	case '{':
		return jc_members(p + 1, '}', true, depth);
	case '[':
		return jc_members(p + 1, ']', false, depth);
	case '"':
		return jc_string(p);
	case 't':
		return strncmp(p, "true", 4) ? NULL : p + 4;
	case 'f':
		return strncmp(p, "false", 5) ? NULL : p + 5;
	case 'n':
		return strncmp(p, "null", 4) ? NULL : p + 4;
	default:
		return jc_number(p);
	}
}

/* One JSON value and nothing but white space after it. */
static inline bool jc_valid(const char *text)
{
	const char *end = jc_value(text, 0);

	return end && *jc_ws(end) == '\0';
}

#endif
