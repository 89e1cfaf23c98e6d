/*
 * stamp - CLOCK_MONOTONIC stamps for the benchmarks, which time the
 * moment something happens against the moment a command returns.
 *
 *	stamp FILE [STATUS]
 *		append the time (ns) to FILE, exit STATUS (default 1): a
 *		daemon whose every start can be timed
 *	stamp ready MODE DELAY_MS FILE
 *		a daemon that, DELAY_MS after exec, writes the time to FILE
 *		and at once signals readiness by MODE - notify, fd:N,
 *		socket (the socket key), tcp:PORT, unix:PATH - then
 *		sleeps until killed
 *	stamp run CMD [ARG...]
 *		run CMD; print the time it returned; exit with its status
 *	stamp reap CMD [ARG...]
 *		run CMD as a child subreaper that reaps every orphan at
 *		once: a daemon that start-stop-daemon or pants-style left
 *		behind is then gone the moment it exits, as under an init
 *		that reaps promptly (this VM's PID 1 reaps late, and their
 *		stops wait for the zombie); exit with CMD's status
 *	stamp herd N CMD [ARG...]
 *		run N copies of CMD at once (stdout to /dev/null); print
 *		each one's time from its fork to its return (us), sorted
 */
#include <procmgr.h>

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int append(const char *path, long long t)
{
	char line[32];
	int fd, n = snprintf(line, sizeof(line), "%lld\n", t);

	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, line, (size_t)n) != n)
		return -1;
	close(fd);
	return 0;
}

static int listen_on(const char *mode)
{
	struct sockaddr_in in = { .sin_family = AF_INET };
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	int tcp = !strncmp(mode, "tcp:", 4);
	int fd = socket(tcp ? AF_INET : AF_UNIX, SOCK_STREAM, 0), one = 1;

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (tcp) {
		in.sin_port = htons((uint16_t)atoi(mode + 4));
		in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (bind(fd, (struct sockaddr *)&in, sizeof(in)) < 0)
			return -1;
	} else {
		snprintf(un.sun_path, sizeof(un.sun_path), "%s", mode + 5);
		unlink(un.sun_path);
		if (bind(fd, (struct sockaddr *)&un, sizeof(un)) < 0)
			return -1;
	}
	return listen(fd, 16);
}

static int notify(void)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	const char *p = getenv("NOTIFY_SOCKET");
	socklen_t len;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (!p || fd < 0)
		return -1;
	snprintf(un.sun_path, sizeof(un.sun_path), "%s", p);
	if (p[0] == '@')
		un.sun_path[0] = '\0';
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(p));
	return sendto(fd, "READY=1", 7, 0, (struct sockaddr *)&un, len) == 7 ?
		       0 : -1;
}

static int socket_key(void)
{
	procmgr *h = procmgr_new();

	return h && procmgr_open(h, getenv("PROCMGR_DIR"),
				 getenv("PROCMGR_NAME")) == 0 &&
			       procmgr_write(h, "socket", "1") == 0 ? 0 : -1;
}

static int ready(const char *mode, int delay_ms, const char *file)
{
	struct timespec d = { delay_ms / 1000, (delay_ms % 1000) * 1000000L };
	int r;

	nanosleep(&d, NULL);
	if (append(file, now_ns()) < 0)
		return 3;
	if (!strcmp(mode, "notify"))
		r = notify();
	else if (!strncmp(mode, "fd:", 3))
		r = write(atoi(mode + 3), "\n", 1) == 1 ? 0 : -1;
	else if (!strcmp(mode, "socket"))
		r = socket_key();
	else if (!strncmp(mode, "tcp:", 4) || !strncmp(mode, "unix:", 5))
		r = listen_on(mode);
	else
		r = 0;	/* exec */
	if (r < 0)
		return 3;
	for (;;)
		pause();
}

static int run(char **argv)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		execvp(argv[0], argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		return 3;
	printf("%lld\n", now_ns());
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static int reap(char **argv)
{
	pid_t pid, child;
	int st, ret = 3;

	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		return 3;
	child = fork();
	if (child == 0) {
		execvp(argv[0], argv);
		_exit(127);
	}
	while (child > 0 && (pid = wait(&st)) > 0)
		if (pid == child) {
			ret = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
			break;
		}
	return ret;
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return (x > y) - (x < y);
}

/* Each child forks CMD, waits and writes its time to the pipe. */
static int herd(int n, char **argv)
{
	long long *t = calloc((size_t)n, sizeof(*t));
	int p[2], failed = 0;

	if (!t || n < 1 || pipe(p) < 0)
		return 3;
	for (int i = 0; i < n; i++) {
		if (fork() != 0)
			continue;
		long long t0 = now_ns(), dt;
		pid_t pid = fork();
		int st;

		if (pid == 0) {
			int null = open("/dev/null", O_WRONLY);

			dup2(null, 1);
			execvp(argv[0], argv);
			_exit(127);
		}
		waitpid(pid, &st, 0);
		dt = (now_ns() - t0) / 1000;
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			dt = -dt;
		_exit(write(p[1], &dt, sizeof(dt)) == sizeof(dt) ? 0 : 1);
	}
	close(p[1]);
	for (int i = 0; i < n; i++) {
		if (read(p[0], &t[i], sizeof(t[i])) != sizeof(t[i]))
			return 3;
		if (t[i] < 0) {
			failed++;
			t[i] = -t[i];
		}
	}
	while (wait(NULL) > 0)
		;
	qsort(t, (size_t)n, sizeof(*t), cmp_ll);
	for (int i = 0; i < n; i++)
		printf("%lld\n", t[i]);
	return failed ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc > 3 && !strcmp(argv[1], "herd"))
		return herd(atoi(argv[2]), argv + 3);
	if (argc > 4 && !strcmp(argv[1], "ready"))
		return ready(argv[2], atoi(argv[3]), argv[4]);
	if (argc > 2 && !strcmp(argv[1], "reap"))
		return reap(argv + 2);
	if (argc > 2 && !strcmp(argv[1], "run"))
		return run(argv + 2);
	if (argc < 2)
		return 2;
	if (append(argv[1], now_ns()) < 0)
		return 3;
	return argc > 2 ? atoi(argv[2]) : 1;
}
