/*
 * pm-sleeper - a configurable fake daemon for the unit suites.
 *
 *   pm-sleeper [--ignore-term] [--exit-on-term] [--argv0 NAME]
 *              [--comm NAME] [--zombie-child] [--ready-file PATH]
 *              [--ignore SIGNO] [--pad TEXT]
 *
 * It closes every fd >= 3, then sleeps until a signal ends it.
 *   --ignore-term   SIGTERM is ignored (only SIGKILL stops it)
 *   --exit-on-term  SIGTERM makes it exit 0 from a handler
 *   --argv0 NAME    re-exec itself so /proc/PID/cmdline starts with NAME
 *   --comm NAME     set the kernel's comm (prctl PR_SET_NAME)
 *   --zombie-child  fork a child that exits at once and is never reaped
 *   --ready-file P  once set up, write P atomically: "<zombie pid>" with
 *                   --zombie-child, else "ready"
 *   --ignore SIGNO  signal number SIGNO is ignored (e.g. a real-time one)
 *   --pad TEXT      ignored: makes /proc/PID/cmdline as long as wanted
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_term(int sig)
{
	(void)sig;
	_exit(0);
}

static void write_ready(const char *path, const char *text)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "we");
	if (!f)
		return;
	fputs(text, f);
	fclose(f);
	rename(tmp, path);
}

/* Run again as argv0 with the remaining options, minus --argv0. */
static void reexec(const char *argv0, int argc, char **argv)
{
	char **nargv = calloc((size_t)argc + 1, sizeof(*nargv));
	int n = 0;

	if (!nargv)
		exit(1);
	nargv[n++] = (char *)argv0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--argv0")) {
			i++;
			continue;
		}
		nargv[n++] = argv[i];
	}
	execv("/proc/self/exe", nargv);
	perror("pm-sleeper: execv");
	exit(127);
}

int main(int argc, char **argv)
{
	const char *ready = NULL, *comm = NULL;
	char text[32] = "ready";
	pid_t child;

	for (int i = 1; i < argc; i++) {
		const char *next = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(argv[i], "--ignore-term")) {
			signal(SIGTERM, SIG_IGN);
		} else if (!strcmp(argv[i], "--exit-on-term")) {
			signal(SIGTERM, on_term);
		} else if (!strcmp(argv[i], "--argv0") && next) {
			reexec(next, argc, argv);
		} else if (!strcmp(argv[i], "--comm") && next) {
			comm = argv[++i];
		} else if (!strcmp(argv[i], "--ready-file") && next) {
			ready = argv[++i];
		} else if (!strcmp(argv[i], "--ignore") && next) {
			signal(atoi(argv[++i]), SIG_IGN);
		} else if (!strcmp(argv[i], "--pad") && next) {
			i++;
		} else if (!strcmp(argv[i], "--zombie-child")) {
			siginfo_t si;

			child = fork();
			if (child == 0)
				_exit(0);
			/* a zombie before anyone hears of it: waited, not reaped */
			waitid(P_PID, (id_t)child, &si, WEXITED | WNOWAIT);
			snprintf(text, sizeof(text), "%d", (int)child);
		} else {
			fprintf(stderr, "pm-sleeper: unknown option %s\n",
				argv[i]);
			return 2;
		}
	}
	close_range(3, ~0U, 0);
	if (comm)
		prctl(PR_SET_NAME, comm);
	if (ready)
		write_ready(ready, text);
	for (;;)
		pause();
}
