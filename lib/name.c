/*
 * name.c - the rules for a NAME. pants lower-cases and strips the name;
 * we also restrict the alphabet so a NAME is always one safe path
 * component (no '/', no "..", no hidden or temp file look-alikes).
 */
#include "internal.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

static bool name_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-';
}

int procmgr_name_normalize(const char *name,
			   char ret_name[PROCMGR_NAME_MAX + 1])
{
	char buf[PROCMGR_NAME_MAX + 1];
	const char *end;
	size_t n = 0;

	if (!name)
		return -EINVAL;
	while (isspace((unsigned char)*name))
		name++;
	end = name + strlen(name);
	while (end > name && isspace((unsigned char)end[-1]))
		end--;
	if (end == name || *name == '.')
		return -EINVAL;
	for (; name < end; name++) {
		/* ASCII folds only: tolower() of a UTF-8 byte is no letter. */
		char c = *name >= 'A' && *name <= 'Z' ?
				 (char)(*name - 'A' + 'a') : *name;

		if (n == PROCMGR_NAME_MAX || !name_char_ok(c))
			return -EINVAL;
		buf[n++] = c;
	}
	buf[n] = '\0';
	memcpy(ret_name, buf, n + 1);
	return 0;
}
