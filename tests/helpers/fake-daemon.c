/*
 * fake-daemon - the one scriptable fake daemon of the unit, CLI and
 * Python tests: a real process that does what its arguments say.
 *
 * Each argument is one action, run in order:
 *
 *	sleep=SEC	sleep (fractions allowed)
 *	say=TEXT	print TEXT and a newline on stdout
 *	err=TEXT	print TEXT and a newline on stderr
 *	lines=N		print "line 1" .. "line N" on stdout
 *	touch=PATH	create PATH (a readiness artefact the test can check)
 *	notify=MSG	send MSG to $NOTIFY_SOCKET ("\n" becomes a newline,
 *			"%p" the own pid); '@' starts an abstract address
 *	fd=N		write a newline to fd N and keep it open
 *	fdclose=N	write a newline to fd N and close it (s6 readiness)
 *	fdbad=N		write "x" (no newline) to fd N and close it
 *	tcp=PORT	listen on 127.0.0.1:PORT
 *	serve=PORT	listen on 127.0.0.1:PORT and accept forever, keeping
 *			every connection open (reading nothing), as a server
 *	unix=PATH	listen on the unix socket PATH
 *	accept		accept one connection on the socket the last tcp= or
 *			unix= opened, and keep it open (a connected client)
 *	drain		read the accepted connection until the client closes
 *			it, then close it too
 *	mem=MIB		allocate MIB mebibytes and touch every page, so they
 *			count in the resident set
 *	key=K=V		write metadata key K through libprocmgr
 *	fork		fork: the child runs the remaining actions, the
 *			parent waits for signals forever
 *	detach		fork: the child runs the remaining actions, the
 *			parent exits 0 a second later (once the child's
 *			MAINPID= is in), as a forking server does
 *	fence=SEC	every SEC, ask procmgr_self_check(); exit 3 (saying
 *			"fenced") once it says another process owns the
 *			NAME (an error is asked again, not taken as no)
 *	ignore=SIG	ignore signal SIG (a name or a number)
 *	raise=SIG	send SIG to itself (with the default disposition,
 *			and no core file)
 *	exit=N		exit with status N
 *	pause		wait for signals forever
 *
 * Sockets opened by actions stay open until the process ends. The program
 * uses libprocmgr only for key= and fence=, with $PROCMGR_DIR and
 * $PROCMGR_NAME as procmgr sets them. Any action that fails exits 100
 * with a message on stderr; an unknown action too.
 */
#include "procmgr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what, const char *arg)
{
	fprintf(stderr, "fake-daemon: %s %s: %s\n", what, arg, strerror(errno));
	exit(100);
}

static void sleep_sec(double sec)
{
	struct timespec ts;

	ts.tv_sec = (time_t)sec;
	ts.tv_nsec = (long)((sec - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Expand "\n" and "%p" of a notify message into buf. */
static size_t expand(const char *msg, char *buf, size_t size)
{
	size_t n = 0;

	for (; *msg && n + 16 < size; msg++) {
		if (msg[0] == '\\' && msg[1] == 'n') {
			buf[n++] = '\n';
			msg++;
		} else if (msg[0] == '%' && msg[1] == 'p') {
			n += (size_t)snprintf(buf + n, size - n, "%ld",
					      (long)getpid());
			msg++;
		} else {
			buf[n++] = *msg;
		}
	}
	buf[n] = '\0';
	return n;
}

static void do_notify(const char *msg)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t len;
	char buf[4096];
	size_t n;
	int fd;

	if (!path || !*path || strlen(path) >= sizeof(sa.sun_path)) {
		errno = EINVAL;
		die("NOTIFY_SOCKET", path ? path : "(unset)");
	}
	memcpy(sa.sun_path, path, strlen(path));
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
			  strlen(path));
	if (path[0] == '@')
		sa.sun_path[0] = '\0'; /* abstract namespace */
	else
		len++; /* count the NUL of a file system path */
	n = expand(msg, buf, sizeof(buf));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket", "AF_UNIX");
	if (sendto(fd, buf, n, 0, (struct sockaddr *)&sa, len) < 0)
		die("sendto", path);
	close(fd);
}

/* The listening socket of the last tcp= or unix=, for accept. */
static int listening = -1;
/* The connection the last accept took, for drain. */
static int accepted = -1;

static int do_tcp(const char *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sa.sin_port = htons((uint16_t)atoi(port));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
				 sizeof(one)) < 0)
		die("socket", port);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 16) < 0)
		die("listen on port", port);
	listening = fd;
	return fd;
}

static void do_unix(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || strlen(path) >= sizeof(sa.sun_path))
		die("socket", path);
	memcpy(sa.sun_path, path, strlen(path));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 16) < 0)
		die("listen on", path);
	listening = fd;
}

static void do_accept(void)
{
	int fd;

	if (listening < 0) {
		errno = EBADF;
		die("accept", "(no tcp= or unix= before it)");
	}
	do
		fd = accept4(listening, NULL, NULL, SOCK_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	if (fd < 0)
		die("accept", "");
	/* The connection stays open until drain or the process ends. */
	accepted = fd;
}

static void do_drain(void)
{
	char buf[512];
	ssize_t n;

	if (accepted < 0) {
		errno = EBADF;
		die("drain", "(no accept before it)");
	}
	do
		n = read(accepted, buf, sizeof(buf));
	while (n > 0 || (n < 0 && errno == EINTR));
	close(accepted);
	accepted = -1;
}

static void do_serve(const char *port)
{
	int fd = do_tcp(port);

	for (;;)
		(void)accept4(fd, NULL, NULL, SOCK_CLOEXEC);
}

/* Held here, so the compiler cannot drop the writes as dead. */
static char *volatile held;

static void do_mem(const char *mib)
{
	size_t n = (size_t)atol(mib) << 20;
	char *p = malloc(n ? n : 1);

	if (!p)
		die("malloc", mib);
	/* Every page written, so every page is resident. */
	memset(p, 1, n);
	held = p;
}

/* Our NAME's handle, opened on first use and kept to the end. */
static procmgr *self(void)
{
	static procmgr *h;

	if (h)
		return h;
	h = procmgr_new();
	if (!h || procmgr_open(h, getenv("PROCMGR_DIR"),
			       getenv("PROCMGR_NAME")) < 0) {
		fprintf(stderr, "fake-daemon: open: %s\n", procmgr_errmsg(h));
		exit(100);
	}
	return h;
}

static void do_key(const char *kv)
{
	char key[256];
	const char *eq = strchr(kv, '=');

	if (!eq || (size_t)(eq - kv) >= sizeof(key)) {
		errno = EINVAL;
		die("key", kv);
	}
	memcpy(key, kv, (size_t)(eq - kv));
	key[eq - kv] = '\0';
	if (procmgr_write(self(), key, eq + 1) < 0) {
		fprintf(stderr, "fake-daemon: %s\n", procmgr_errmsg(self()));
		exit(100);
	}
}

static void do_fence(const char *sec)
{
	/* 1: still ours; < 0: could not tell, so ask again. */
	while (procmgr_self_check(self()) != 0)
		sleep_sec(atof(sec));
	printf("fenced\n");
	fflush(stdout);
	exit(3);
}

static int sig_arg(const char *s)
{
	int sig = procmgr_signal_parse(s);

	if (sig <= 0) {
		errno = EINVAL;
		die("signal", s);
	}
	return sig;
}

static void wait_forever(void)
{
	for (;;)
		pause();
}

/* Write text to fd N, and close it when asked. */
static void do_fd(const char *arg, const char *text, int and_close)
{
	int fd = atoi(arg);

	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		die("write to fd", arg);
	if (and_close)
		close(fd);
}

/* The child goes on; the parent waits forever, or exits 0 after 1 s. */
static void do_fork(int parent_exits)
{
	pid_t pid = fork();

	if (pid < 0)
		die("fork", "");
	if (pid > 0 && parent_exits) {
		sleep_sec(1);
		exit(0);
	}
	if (pid > 0)
		wait_forever();
}

static void do_raise(const char *arg)
{
	/* A core file would litter the test's cwd. */
	struct rlimit none = { 0, 0 };

	setrlimit(RLIMIT_CORE, &none);
	signal(sig_arg(arg), SIG_DFL);
	kill(getpid(), sig_arg(arg));
}

/* One action; returns 0 when it was not recognised. */
static int act(const char *a)
{
	const char *v = strchr(a, '=');
	size_t k = v ? (size_t)(v - a) : strlen(a);

	v = v ? v + 1 : "";
#define IS(word) (k == strlen(word) && strncmp(a, word, k) == 0)
	if (IS("sleep"))
		sleep_sec(atof(v));
	else if (IS("say"))
		printf("%s\n", v);
	else if (IS("err"))
		fprintf(stderr, "%s\n", v);
	else if (IS("lines"))
		for (int i = 1; i <= atoi(v); i++)
			printf("line %d\n", i);
	else if (IS("touch"))
		close(open(v, O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
	else if (IS("notify"))
		do_notify(v);
	else if (IS("fd"))
		do_fd(v, "\n", 0);
	else if (IS("fdclose"))
		do_fd(v, "\n", 1);
	else if (IS("fdbad"))
		do_fd(v, "x", 1);
	else if (IS("tcp"))
		do_tcp(v);
	else if (IS("serve"))
		do_serve(v);
	else if (IS("unix"))
		do_unix(v);
	else if (IS("accept"))
		do_accept();
	else if (IS("drain"))
		do_drain();
	else if (IS("mem"))
		do_mem(v);
	else if (IS("key"))
		do_key(v);
	else if (IS("fork"))
		do_fork(0);
	else if (IS("detach"))
		do_fork(1);
	else if (IS("fence"))
		do_fence(v);
	else if (IS("ignore"))
		signal(sig_arg(v), SIG_IGN);
	else if (IS("raise"))
		do_raise(v);
	else if (IS("exit"))
		exit(atoi(v));
	else if (IS("pause"))
		wait_forever();
	else
		return 0;
#undef IS
	fflush(NULL);
	return 1;
}

int main(int argc, char **argv)
{
	/* The log is a file: line-buffer so lines land before a crash. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 1; i < argc; i++) {
		if (!act(argv[i])) {
			fprintf(stderr, "fake-daemon: unknown action %s\n",
				argv[i]);
			return 100;
		}
	}
	return 0;
}
