/*
 * liveness - time procmgr_status() in process, the way a client that asks
 * "is my daemon still there?" before each request calls it.
 *
 *	liveness DIR NAME [CALLS]
 *	liveness --floor PID [CALLS]
 *
 * Prints "median_us p99_us state" over CALLS calls (default 20000) on one
 * handle; exits 1 if the NAME is not running. With --floor, times what
 * any liveness check costs at least: one read of /proc/PID/stat.
 */
#include <procmgr.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* One open + read + close of /proc/PID/stat: 0 if the process is there. */
static int stat_read(const char *path)
{
	char buf[512];
	int fd = open(path, O_RDONLY | O_CLOEXEC), n;

	if (fd < 0)
		return -1;
	n = (int)read(fd, buf, sizeof(buf));
	close(fd);
	return n > 0 ? 0 : -1;
}

static int floor_of(const char *pid, int n)
{
	char path[64];
	double *t = malloc(sizeof(*t) * (size_t)n);

	if (!t)
		return 2;
	snprintf(path, sizeof(path), "/proc/%s/stat", pid);
	for (int i = 0; i < n; i++) {
		double t0 = now_us();

		if (stat_read(path) < 0)
			return 1;
		t[i] = now_us() - t0;
	}
	qsort(t, (size_t)n, sizeof(*t), cmp);
	printf("%.2f %.2f running\n", t[n / 2], t[n * 99 / 100]);
	free(t);
	return 0;
}

int main(int argc, char **argv)
{
	int n = argc > 3 ? atoi(argv[3]) : 20000;
	procmgr *h = procmgr_new();
	struct procmgr_status st;
	double *t;
	int r = 1;

	if (argc > 2 && !strcmp(argv[1], "--floor"))
		return floor_of(argv[2], n);
	if (argc < 3 || n < 1 || !h || procmgr_open(h, argv[1], argv[2]) < 0)
		return 2;
	t = malloc(sizeof(*t) * (size_t)n);
	if (!t)
		return 2;
	for (int i = 0; i < n; i++) {
		double t0 = now_us();

		if (procmgr_status(h, &st) < 0)
			return 2;
		t[i] = now_us() - t0;
		r = st.state == PROCMGR_RUNNING ? 0 : 1;
		procmgr_status_clear(&st);
	}
	qsort(t, (size_t)n, sizeof(*t), cmp);
	printf("%.2f %.2f %s\n", t[n / 2], t[n * 99 / 100],
	       r ? "not-running" : "running");
	free(t);
	procmgr_free(h);
	return r;
}
