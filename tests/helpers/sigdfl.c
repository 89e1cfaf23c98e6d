/*
 * sigdfl - run a command with SIGINT, SIGTERM and SIGHUP at their default
 * dispositions: bash starts its background jobs with SIGINT ignored, and
 * an ignored signal stays ignored across exec. Tests of Ctrl-C start
 * procmgr through this, as a terminal's foreground job would run it.
 *
 *	sigdfl CMD [ARG...]
 */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: sigdfl CMD [ARG...]\n");
		return 2;
	}
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	execvp(argv[1], argv + 1);
	perror(argv[1]);
	return 127;
}
