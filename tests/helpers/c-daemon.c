/*
 * c-daemon - a fake daemon for the spawn/readiness/ensure unit suites.
 *
 * Each argument is an action, run in order:
 *	sleep=SEC	sleep (fractions allowed)
 *	say=TEXT	print TEXT and a newline on stdout
 *	key=K=V		write metadata key K via libprocmgr
 *	notify=MSG	send MSG ("\n" escapes a newline, %p is our pid) on
 *			$NOTIFY_SOCKET
 *	fd=N		write a newline to fd N
 *	fdbad=N		write "x" (no newline) to fd N and close it
 *	tcp=PORT	listen on 127.0.0.1:PORT
 *	serve=PORT	listen on 127.0.0.1:PORT and accept forever, keeping
 *			every connection open (read nothing), as a server
 *	unix=PATH	listen on unix socket PATH
 *	fence=SEC	every SEC ask procmgr_self_check(); exit 3 once it
 *			says another process owns the NAME
 *	fork		the rest runs in a child; the parent exits 0 a
 *			second later (after the child's MAINPID= is in)
 *	exit=N		exit with status N
 *	raise=SIG	die by signal number SIG
 *	pause		wait forever
 */
#include "procmgr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static void nap(double sec)
{
	struct timespec ts = { (time_t)sec,
			       (long)((sec - (double)(time_t)sec) * 1e9) };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static procmgr *handle(void)
{
	static procmgr *h;

	if (!h) {
		h = procmgr_new();
		if (!h || procmgr_open(h, getenv("PROCMGR_DIR"),
				       getenv("PROCMGR_NAME")) < 0) {
			fprintf(stderr, "c-daemon: open: %s\n",
				procmgr_errmsg(h));
			exit(100);
		}
	}
	return h;
}

static void do_key(const char *kv)
{
	char *k = strdup(kv), *eq = strchr(k, '=');

	*eq = '\0';
	if (procmgr_write(handle(), k, eq + 1) < 0) {
		fprintf(stderr, "c-daemon: %s\n", procmgr_errmsg(handle()));
		exit(100);
	}
	free(k);
}

static void do_notify(const char *msg)
{
	const char *addr = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char buf[4096];
	size_t n = 0;
	int fd;

	for (const char *p = msg; *p && n < sizeof(buf) - 16; p++) {
		if (p[0] == '\\' && p[1] == 'n') {
			buf[n++] = '\n';
			p++;
		} else if (p[0] == '%' && p[1] == 'p') {
			n += (size_t)snprintf(buf + n, 16, "%d", (int)getpid());
			p++;
		} else {
			buf[n++] = *p;
		}
	}
	if (!addr)
		exit(101);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", addr);
	if (addr[0] == '@')
		sa.sun_path[0] = '\0';
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || sendto(fd, buf, n, 0, (struct sockaddr *)&sa,
			     (socklen_t)(offsetof(struct sockaddr_un,
						  sun_path) +
					 strlen(addr))) < 0) {
		perror("c-daemon: notify");
		exit(102);
	}
	close(fd);
}

static int do_listen(int tcp, const char *arg)
{
	struct sockaddr_in in = { .sin_family = AF_INET };
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	struct sockaddr *sa = (struct sockaddr *)&in;
	socklen_t len = sizeof(in);
	int fd, one = 1;

	if (tcp) {
		in.sin_port = htons((uint16_t)atoi(arg));
		in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	} else {
		snprintf(un.sun_path, sizeof(un.sun_path), "%s", arg);
		sa = (struct sockaddr *)&un;
		len = sizeof(un);
	}
	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, sa, len) < 0 || listen(fd, 16) < 0) {
		perror("c-daemon: listen");
		exit(103);
	}
	return fd;
}

static void do_serve(const char *port)
{
	int fd = do_listen(1, port);

	for (;;)
		(void)accept4(fd, NULL, NULL, SOCK_CLOEXEC);
}

static void do_fence(double sec)
{
	for (;;) {
		int r = procmgr_self_check(handle());

		if (r == 0) {
			printf("fenced\n");
			fflush(stdout);
			exit(3);
		}
		nap(sec);
	}
}

static void action(const char *a)
{
	if (!strncmp(a, "sleep=", 6))
		nap(atof(a + 6));
	else if (!strncmp(a, "say=", 4))
		printf("%s\n", a + 4), fflush(stdout);
	else if (!strncmp(a, "key=", 4))
		do_key(a + 4);
	else if (!strncmp(a, "notify=", 7))
		do_notify(a + 7);
	else if (!strncmp(a, "fd=", 3))
		(void)!write(atoi(a + 3), "\n", 1);
	else if (!strncmp(a, "fdbad=", 6))
		(void)!write(atoi(a + 6), "x", 1), close(atoi(a + 6));
	else if (!strncmp(a, "tcp=", 4))
		do_listen(1, a + 4);
	else if (!strncmp(a, "serve=", 6))
		do_serve(a + 6);
	else if (!strncmp(a, "unix=", 5))
		do_listen(0, a + 5);
	else if (!strncmp(a, "fence=", 6))
		do_fence(atof(a + 6));
	else if (!strcmp(a, "fork")) {
		if (fork() > 0) {
			nap(1);
			exit(0);
		}
	} else if (!strncmp(a, "exit=", 5))
		exit(atoi(a + 5));
	else if (!strncmp(a, "raise=", 6)) {
		signal(atoi(a + 6), SIG_DFL);
		raise(atoi(a + 6));
	} else if (!strcmp(a, "pause"))
		for (;;)
			pause();
	else {
		fprintf(stderr, "c-daemon: unknown action %s\n", a);
		exit(104);
	}
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		action(argv[i]);
	return 0;
}
