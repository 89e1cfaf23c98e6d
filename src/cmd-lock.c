/*
 * cmd-lock.c - procmgr lock NAME [--lock-timeout SEC] -- CMD...: run CMD
 * while holding NAME's lifecycle lock, and exit with CMD's status.
 *
 * The lock belongs to this process; it is released when CMD has ended and
 * we unlock, or at once by the kernel if we die. CMD gets the lock's fd
 * and PROCMGR_LOCK_FD naming it, so that a procmgr it runs for the same
 * NAME (`procmgr lock web -- procmgr stop web`) uses the lock it inherits
 * rather than wait for us, who wait for it.
 */
#include "cli.h"

#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

extern char **environ;

static int take(struct cli *c, int o, char *arg, void *timeout)
{
	(void)o;
	return cli_seconds(c, "--lock-timeout", arg, timeout);
}

/*
 * environ with PROCMGR_LOCK_FD set to env's value (any inherited one
 * replaced): the command may start or stop the NAME itself, under the
 * lock it inherits, instead of waiting for us for ever.
 */
static char **child_environ(const char *env)
{
	size_t n = 0, k = strlen(PROCMGR_LOCK_ENV);
	char **envp;

	while (environ[n])
		n++;
	envp = calloc(n + 2, sizeof(*envp));
	if (!envp)
		return NULL;
	n = 0;
	for (char **e = environ; *e; e++)
		if (strncmp(*e, PROCMGR_LOCK_ENV, k) || (*e)[k] != '=')
			envp[n++] = *e;
	envp[n] = (char *)env;
	return envp;
}

/* Spawn argv with the lock's fd (close-on-exec here) open in the child. */
static int spawn_locked(procmgr *h, char **argv, posix_spawnattr_t *attr,
			pid_t *ret_pid)
{
	posix_spawn_file_actions_t fa;
	char *env = NULL, **envp = NULL;
	int fd, r;

	r = procmgr_lock_child_env(h, &fd, &env);
	if (r < 0)
		return -r;
	envp = child_environ(env);
	r = envp ? posix_spawn_file_actions_init(&fa) : ENOMEM;
	if (r == 0) {
		/* dup2 of an fd onto itself clears its FD_CLOEXEC */
		r = posix_spawn_file_actions_adddup2(&fa, fd, fd);
		if (r == 0)
			r = posix_spawnp(ret_pid, argv[0], &fa, attr, argv,
					 envp);
		posix_spawn_file_actions_destroy(&fa);
	}
	free(envp);
	free(env);
	return r;
}

/*
 * Run argv and return its exit code as a shell would: its status, 128 +
 * the signal that killed it, 127 when it could not be run. Like system(),
 * ignore the terminal's SIGINT/SIGQUIT meanwhile: they reach CMD, which
 * decides; we report how it ended.
 */
static int run(procmgr *h, char **argv)
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
	r = spawn_locked(h, argv, &attr, &pid);
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
	static const struct option opts[] = {
		{ "lock-timeout", required_argument, NULL, 'L' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct cli_syntax syntax = { 1, "NAME", NULL, opts,
						  true };
	char *op[1], **cmd = NULL;
	double timeout = -1;
	procmgr *h = NULL;
	int r;

	if ((r = cli_parse(c, argc, argv, &syntax, take, &timeout, op,
			   &cmd)) != CLI_CONTINUE ||
	    (r = cli_open(c, op[0], &h)) != CLI_CONTINUE)
		return r;
	cli_lock_wait(c, h, timeout);
	r = procmgr_lock(h);
	if (r < 0) {
		r = cli_fail(h, r);
		goto out;
	}
	r = run(h, cmd);
	procmgr_unlock(h);
out:
	procmgr_free(h);
	return r;
}
