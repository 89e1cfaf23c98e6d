/*
 * inotify-hog - use up the calling user's inotify instances, then run a
 * command that inherits them.
 *
 *   inotify-hog CMD [ARG...]
 *
 * Instances count per user (fs.inotify.max_user_instances, 128 by
 * default), not per process: opened here and kept open across the exec,
 * they leave CMD - and every other process of the same uid - none. Run it
 * as a uid of the test's own, or it takes them from everybody else.
 *
 * Exit 77 when what ran out first was this process's fd limit rather than
 * the user's instances (the test cannot show anything then).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct rlimit rl;
	int n = 0, fd;

	if (argc < 2) {
		fputs("usage: inotify-hog CMD [ARG...]\n", stderr);
		return 2;
	}
	/* no IN_CLOEXEC: CMD must inherit them */
	while ((fd = inotify_init1(0)) >= 0)
		n++;
	if (errno != EMFILE || getrlimit(RLIMIT_NOFILE, &rl) < 0 ||
	    (rlim_t)n + 16 >= rl.rlim_cur) {
		fprintf(stderr, "inotify-hog: stopped after %d: %s\n", n,
			strerror(errno));
		return 77;
	}
	execvp(argv[1], argv + 1);
	fprintf(stderr, "inotify-hog: %s: %s\n", argv[1], strerror(errno));
	return 127;
}
