/*
 * notify-daemon - a complete daemon written for procmgr, in C.
 *
 *	procmgr start web --ready notify --watchdog 10 -- ./notify-daemon
 *
 * What procmgr gives it: PROCMGR_NAME, PROCMGR_DIR, PROCMGR_META_DIR and
 * NOTIFY_SOCKET in its environment (WATCHDOG_USEC too with --watchdog),
 * stdin /dev/null, stdout and stderr appended to its log.
 *
 * What it tells procmgr, as datagrams on $NOTIFY_SOCKET: READY=1 once it
 * listens, PORT= (procmgr records it as the socket key), STATUS= whenever
 * it has something to say, WATCHDOG=1 at half the watchdog period, and
 * STOPPING=1 when it begins to shut down. It also checks, now and then,
 * that its metadata still names it (procmgr_self_check()): a daemon a
 * newer instance has replaced steps down instead of fighting over NAME.
 */
#include <procmgr.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static volatile sig_atomic_t stopping;

static void on_term(int sig)
{
	(void)sig;
	stopping = 1;
}

/* sd_notify(): one datagram to $NOTIFY_SOCKET ("@..." is abstract). */
static void notify(const char *msg)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t n;
	int fd;

	if (!path || !*path || (n = strlen(path)) >= sizeof(sa.sun_path))
		return;
	memcpy(sa.sun_path, path, n);
	if (path[0] == '@')
		sa.sun_path[0] = '\0';
	else
		n++;	/* a file system path counts its NUL */
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	sendto(fd, msg, strlen(msg), 0, (struct sockaddr *)&sa,
	       (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n));
	close(fd);
}

/* A TCP listener on 127.0.0.1, port chosen by the kernel. */
static int listen_any(int *ret_port)
{
	struct sockaddr_in in = { .sin_family = AF_INET };
	socklen_t len = sizeof(in);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&in, sizeof(in)) < 0 ||
	    listen(fd, 16) < 0 ||
	    getsockname(fd, (struct sockaddr *)&in, &len) < 0)
		return -1;
	*ret_port = ntohs(in.sin_port);
	return fd;
}

int main(void)
{
	const char *wd = getenv("WATCHDOG_USEC");
	int tick_ms = wd ? (int)(atoll(wd) / 2000) : 1000, port, fd;
	struct sigaction sa = { .sa_handler = on_term };
	procmgr *h = procmgr_new();
	char msg[128];

	sigaction(SIGTERM, &sa, NULL);
	if (!h || procmgr_open(h, getenv("PROCMGR_DIR"),
			       getenv("PROCMGR_NAME")) < 0 ||
	    (fd = listen_any(&port)) < 0) {
		fprintf(stderr, "notify-daemon: cannot start: %s\n",
			h ? procmgr_errmsg(h) : "out of memory");
		return 1;
	}
	snprintf(msg, sizeof(msg), "READY=1\nPORT=%d\nSTATUS=listening on "
		 "127.0.0.1:%d", port, port);
	notify(msg);
	printf("listening on 127.0.0.1:%d\n", port);
	fflush(stdout);
	while (!stopping) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, tick_ms > 0 ? tick_ms : 1000) > 0) {
			int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

			if (c >= 0) {
				(void)!write(c, "hello\n", 6);
				close(c);
			}
		}
		notify("WATCHDOG=1");
		if (procmgr_self_check(h) == 0) {
			printf("replaced by a newer instance: exiting\n");
			break;
		}
	}
	notify("STOPPING=1\nSTATUS=shutting down");
	procmgr_free(h);
	return 0;
}
