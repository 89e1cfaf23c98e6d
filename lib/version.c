/*
 * version.c - which libprocmgr is loaded. A program compiled against one
 * procmgr.h may run with a newer libprocmgr.so.0; PROCMGR_VERSION in its
 * own code tells the former, this function the latter.
 */
#include "internal.h"

const char *procmgr_version(void)
{
	return PROCMGR_VERSION;
}
