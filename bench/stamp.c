/*
 * stamp - append CLOCK_MONOTONIC (nanoseconds) to a file, then exit with
 * the given status: a daemon whose every start the benchmarks can time.
 *
 *	stamp FILE [STATUS]
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct timespec ts;
	char line[32];
	int fd, n;

	if (argc < 2)
		return 2;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	n = snprintf(line, sizeof(line), "%lld\n",
		     (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
	fd = open(argv[1], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, line, (size_t)n) != n)
		return 3;
	close(fd);
	return argc > 2 ? atoi(argv[2]) : 1;
}
