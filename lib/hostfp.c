/*
 * hostfp.c - the host fingerprint that keeps metadata of different hosts
 * (containers, VMs) apart in a shared DIR, computed exactly as pants does:
 * sha256 over "".join(os.uname()), first 12 hex digits.
 */
#include "internal.h"

#include <errno.h>
#include <string.h>
#include <sys/utsname.h>

int procmgr_host_fingerprint(char ret_fp[PROCMGR_HOSTFP_LEN + 1])
{
	const char *fields[5];
	struct utsname u;
	struct pm_sha256 c;
	unsigned char d[32];
	char hex[PROCMGR_SHA256_HEX + 1];
	size_t i;

	if (uname(&u) < 0)
		return -errno;
	fields[0] = u.sysname;
	fields[1] = u.nodename;
	fields[2] = u.release;
	fields[3] = u.version;
	fields[4] = u.machine;
	/* No separator between the fields: pants concatenates them. */
	pm_sha256_init(&c);
	for (i = 0; i < 5; i++)
		pm_sha256_update(&c, fields[i], strlen(fields[i]));
	pm_sha256_final(&c, d);
	pm_hex(d, sizeof(d), hex);
	memcpy(ret_fp, hex, PROCMGR_HOSTFP_LEN);
	ret_fp[PROCMGR_HOSTFP_LEN] = '\0';
	return 0;
}
