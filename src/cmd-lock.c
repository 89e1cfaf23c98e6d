/*
 * cmd-lock.c - procmgr lock NAME [--lock-timeout SEC] -- CMD...: run CMD
 * while holding NAME's lifecycle lock, and exit with CMD's status.
 *
 * The lock belongs to this process (its fd is close-on-exec, so CMD does
 * not hold it); it is released when CMD has ended and we unlock, or at
 * once by the kernel if we die.
 */
#include "cli.h"

#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

extern char **environ;

static int parse(struct cli *c, int argc, char **argv, double *ret_timeout)
{
	int r;

	r = cli_seconds_option(c, argc, argv, "--lock-timeout", ret_timeout);
	if (r != CLI_CONTINUE)
		return r;
	if (optind >= argc)
		return cli_usage(c, "expects a command after '--' to run "
				 "under the lock");
	return CLI_CONTINUE;
}

/*
 * Run argv and return its exit code as a shell would: its status, 128 +
 * the signal that killed it, 127 when it could not be run. Like system(),
 * ignore the terminal's SIGINT/SIGQUIT meanwhile: they reach CMD, which
 * decides; we report how it ended.
 */
static int run(char **argv)
{
	struct sigaction ign = { .sa_handler = SIG_IGN }, old_int, old_quit;
	posix_spawnattr_t attr;
	sigset_t dfl;
	int status, r;
	pid_t pid;

	sigemptyset(&dfl);
	sigaddset(&dfl, SIGINT);
	sigaddset(&dfl, SIGQUIT);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setsigdefault(&attr, &dfl);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);
	sigaction(SIGINT, &ign, &old_int);
	sigaction(SIGQUIT, &ign, &old_quit);
	r = posix_spawnp(&pid, argv[0], NULL, &attr, argv, environ);
	if (r != 0) {
		cli_err("cannot run '%s': %s; check the command and PATH",
			argv[0], strerror(r));
		r = r == ENOENT ? 127 : 126;
		goto out;
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	r = WIFEXITED(status) ? WEXITSTATUS(status)
			      : 128 + WTERMSIG(status);
out:
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGQUIT, &old_quit, NULL);
	posix_spawnattr_destroy(&attr);
	return r;
}

int cmd_lock(struct cli *c, int argc, char **argv)
{
	char **op = argv + 1;
	double timeout = -1;
	procmgr *h = NULL;
	int r;

	if ((r = cli_operands(c, &argc, &argv, 1, "NAME")) != CLI_CONTINUE ||
	    (r = parse(c, argc, argv, &timeout)) != CLI_CONTINUE ||
	    (r = cli_open(c, op[0], &h)) != CLI_CONTINUE)
		return r;
	cli_lock_wait(c, h, timeout);
	r = procmgr_lock(h);
	if (r < 0) {
		r = cli_fail(h, r);
		goto out;
	}
	r = run(argv + optind);
	procmgr_unlock(h);
out:
	procmgr_free(h);
	return r;
}
