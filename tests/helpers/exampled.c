/*
 * exampled - the example daemon bundled with procmgr.
 *
 *	procmgr start hello --ready notify -- exampled [GREETING]
 *
 * It listens on an ephemeral TCP port on 127.0.0.1, tells the service
 * manager it is ready the systemd way (READY=1, STATUS= and PORT= in one
 * datagram to $NOTIFY_SOCKET; procmgr records PORT as the socket key),
 * answers every connection with one line of GREETING, logs what it does on
 * stdout, and exits cleanly on SIGTERM or SIGINT.
 *
 * It is deliberately plain: no libprocmgr, only the protocol a daemon for
 * any service manager speaks.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Send one sd_notify datagram; silently nothing without NOTIFY_SOCKET. */
static int notify(const char *msg)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t plen;
	socklen_t len;
	int fd, r = 0;

	if (!path || !*path)
		return 0;
	plen = strlen(path);
	if (plen >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, plen);
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen);
	/* "@name" is Linux's abstract namespace: a leading NUL byte. */
	if (path[0] == '@')
		sa.sun_path[0] = '\0';
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (sendto(fd, msg, strlen(msg), 0, (struct sockaddr *)&sa, len) < 0)
		r = -errno;
	close(fd);
	return r;
}

static int listen_loopback(int *ret_port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 64) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
		int err = errno;

		close(fd);
		return -err;
	}
	*ret_port = ntohs(sa.sin_port);
	return fd;
}

/* Signals arrive as reads on a signalfd, so one poll() serves all. */
static int signals_fd(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	return signalfd(-1, &set, SFD_CLOEXEC);
}

static void serve(int lfd, const char *greeting, unsigned long *served)
{
	char line[512];
	int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	int n;

	if (c < 0)
		return;
	n = snprintf(line, sizeof(line), "%s (exampled pid %ld)\n",
		     greeting, (long)getpid());
	if (n > 0 && write(c, line, (size_t)n) < 0)
		perror("exampled: write");
	close(c);
	printf("exampled: served client #%lu\n", ++*served);
}

int main(int argc, char **argv)
{
	const char *greeting = argc > 1 ? argv[1] : "hello";
	unsigned long served = 0;
	struct signalfd_siginfo si;
	struct pollfd pfd[2];
	char msg[256];
	int port = 0, lfd, sfd;

	setvbuf(stdout, NULL, _IOLBF, 0);
	sfd = signals_fd();
	lfd = listen_loopback(&port);
	if (sfd < 0 || lfd < 0) {
		fprintf(stderr, "exampled: cannot listen: %s\n",
			strerror(lfd < 0 ? -lfd : errno));
		return 1;
	}
	printf("exampled: pid %ld listening on 127.0.0.1:%d\n",
	       (long)getpid(), port);
	snprintf(msg, sizeof(msg),
		 "READY=1\nSTATUS=serving on 127.0.0.1:%d\nPORT=%d\n", port,
		 port);
	if (notify(msg) < 0)
		fprintf(stderr, "exampled: notify failed\n");
	pfd[0] = (struct pollfd){ .fd = lfd, .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = sfd, .events = POLLIN };
	for (;;) {
		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			break;
		if (pfd[1].revents & POLLIN) {
			if (read(sfd, &si, sizeof(si)) == sizeof(si))
				printf("exampled: %s, shutting down after "
				       "%lu clients\n",
				       strsignal((int)si.ssi_signo), served);
			break;
		}
		if (pfd[0].revents & POLLIN)
			serve(lfd, greeting, &served);
	}
	close(lfd);
	close(sfd);
	return 0;
}
