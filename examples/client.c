/*
 * client.c - the smallest program built on libprocmgr: is NAME running?
 *
 *	cc client.c $(pkg-config --cflags --libs procmgr) -o client
 *	./client [--dir DIR] NAME
 *
 * It prints the version of the library it runs with and NAME's state, and
 * exits as `procmgr status` does: 0 running, 1 stale, 3 stopped, 2 usage
 * or error. The staged install test and CI build it against an installed
 * copy, to show that the header, the pkg-config file and the libraries
 * work together.
 */
#include <procmgr.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	static const char *const states[] = { "stopped", "stale", "running" };
	static const int codes[] = { 3, 1, 0 };
	struct procmgr_status st;
	const char *dir = NULL;
	procmgr *h;
	int r;

	if (argc == 4 && !strcmp(argv[1], "--dir")) {
		dir = argv[2];
		argv += 2;
		argc -= 2;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: %s [--dir DIR] NAME\n", argv[0]);
		return 2;
	}
	printf("libprocmgr %s (built against %s)\n", procmgr_version(),
	       PROCMGR_VERSION);
	h = procmgr_new();
	if (!h) {
		fprintf(stderr, "out of memory\n");
		return 2;
	}
	r = procmgr_open(h, dir, argv[1]);
	if (r >= 0)
		r = procmgr_status(h, &st);
	if (r < 0) {
		fprintf(stderr, "%s\n", procmgr_errmsg(h));
		procmgr_free(h);
		return 2;
	}
	printf("%s: %s", procmgr_get_name(h), states[st.state]);
	if (st.state == PROCMGR_RUNNING)
		printf(", pid %d", (int)st.pid);
	printf("\n");
	r = codes[st.state];
	procmgr_status_clear(&st);
	procmgr_free(h);
	return r;
}
