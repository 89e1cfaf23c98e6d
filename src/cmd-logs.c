/*
 * cmd-logs.c - procmgr logs NAME [-n LINES] [-f]: the end of the daemon's
 * log; with -f, new lines as they are written (inotify), until the daemon
 * ends (its pidfd becomes readable).
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <unistd.h>

struct logs_args {
	unsigned long long lines;
	bool follow;
};

static int take(struct cli *c, int o, char *arg, void *ctx)
{
	struct logs_args *a = ctx;

	if (o == 'n')
		return cli_count(c, "--lines", arg, &a->lines);
	a->follow = true;
	return CLI_CONTINUE;
}

/* Copy what was appended to fd since the last call to stdout. */
static void copy_new(int fd)
{
	char buf[8192];
	struct stat sb;
	ssize_t n;

	/* A log truncated under us starts over. */
	if (fstat(fd, &sb) == 0 && sb.st_size < lseek(fd, 0, SEEK_CUR))
		lseek(fd, 0, SEEK_SET);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)n, stdout);
	fflush(stdout);
}

/* A pidfd on the running daemon, confirmed after opening; -1 if none. */
static int daemon_pidfd(procmgr *h)
{
	struct procmgr_status st = { 0 };
	int pidfd = -1;

	if (procmgr_status(h, &st) >= 0 && st.state == PROCMGR_RUNNING)
		pidfd = pidfd_open(st.pid, 0);
	procmgr_status_clear(&st);
	if (pidfd >= 0 && (procmgr_status(h, &st) < 0 ||
			   st.state != PROCMGR_RUNNING)) {
		close(pidfd);
		pidfd = -1;
	}
	procmgr_status_clear(&st);
	return pidfd;
}

static int follow(procmgr *h, const char *path, unsigned long long n)
{
	char events[4096] __attribute__((aligned(8)));
	struct pollfd p[2] = { { .fd = -1 }, { .fd = -1 } };
	char *text;
	size_t len;
	int fd, r;

	r = procmgr_log_open(h, &fd, NULL);
	if (r == -ENOENT) {
		cli_err("cannot open the log %s: %s; has %s been started?",
			path, strerror(-r), procmgr_get_name(h));
		return CLI_ERROR;
	}
	if (r < 0)
		return cli_fail(h, r);
	r = procmgr_log_tail_fd(h, fd, (size_t)n, &text, &len);
	if (r < 0) {
		close(fd);
		return cli_fail(h, r);
	}
	fwrite(text, 1, len, stdout);
	free(text);
	r = CLI_OK;
	p[0] = (struct pollfd){ .fd = inotify_init1(IN_CLOEXEC),
				.events = POLLIN };
	p[1] = (struct pollfd){ .fd = daemon_pidfd(h), .events = POLLIN };
	if (p[0].fd < 0 ||
	    inotify_add_watch(p[0].fd, path, IN_MODIFY | IN_ATTRIB |
			      IN_DONT_FOLLOW) < 0) {
		cli_err("cannot watch %s: %s", path, strerror(errno));
		r = CLI_ERROR;
		goto out;
	}
	/* Written between the tail and the watch: copy it, then wait. */
	while (p[1].fd >= 0 && !(p[1].revents & POLLIN)) {
		copy_new(fd);
		if (poll(p, 2, -1) > 0 && (p[0].revents & POLLIN))
			(void)!read(p[0].fd, events, sizeof(events));
	}
	copy_new(fd);
out:
	for (int i = 0; i < 2; i++)
		if (p[i].fd >= 0)
			close(p[i].fd);
	close(fd);
	return r;
}

int cmd_logs(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "lines", required_argument, NULL, 'n' },
		{ "follow", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct cli_syntax syntax = { 1, "NAME", "n:f", opts,
						  false };
	struct logs_args a = { .lines = 10 };
	char *text = NULL, *path = NULL, *op[1];
	procmgr *h = NULL;
	int r;

	if ((r = cli_parse(c, argc, argv, &syntax, take, &a, op, NULL)) !=
		    CLI_CONTINUE ||
	    (r = cli_open_read_only(c, op[0], &h)) != CLI_CONTINUE)
		return r;
	r = procmgr_log_path(h, &path);
	if (r < 0) {
		r = cli_fail(h, r);
		goto out;
	}
	if (c->verbose)
		cli_info(c, "procmgr: %s: log %s", procmgr_get_name(h), path);
	if (a.follow) {
		r = follow(h, path, a.lines);
	} else if ((r = procmgr_log_tail(h, (size_t)a.lines, &text)) >= 0) {
		fputs(text, stdout);
		r = CLI_OK;
	} else if (r == -ENOENT) {
		cli_err("no log %s; has %s been started?", path,
			procmgr_get_name(h));
		r = CLI_ERROR;
	} else {
		r = cli_fail(h, r);
	}
out:
	free(text);
	free(path);
	procmgr_free(h);
	return r;
}
