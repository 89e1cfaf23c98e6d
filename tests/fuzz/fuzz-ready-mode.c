/*
 * fuzz-ready-mode - procmgr_ready_parse(), the --ready MODE: a mode it
 * accepts has its numbers in range and its path short enough for a
 * sockaddr_un.
 */
#include "fuzz.h"

#include <sys/un.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fz_cstr(data, size);
	struct procmgr_ready m;

	memset(&m, 0, sizeof(m));
	if (procmgr_ready_parse(s, &m) == 0) {
		switch (m.kind) {
		case PROCMGR_READY_FD:
			fz_check(m.fd >= 3 && m.fd <= 1023, "'%s'", s);
			break;
		case PROCMGR_READY_TCP:
			fz_check(m.port >= 1 && m.port <= 65535, "'%s'", s);
			break;
		case PROCMGR_READY_UNIX:
			fz_check(m.path && *m.path && strlen(m.path) <
				 sizeof(((struct sockaddr_un *)0)->sun_path),
				 "'%s'", s);
			break;
		default:
			break;
		}
		procmgr_ready_clear(&m);
	}
	free(s);
	return 0;
}
