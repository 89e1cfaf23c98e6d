/*
 * events.c - procmgr's own lines in the daemon's log (SPEC §6): who
 * started the daemon and why, when it became ready, who asked it to stop,
 * each signal sent, how it ended, idle and watchdog stops, restarts.
 *
 *	procmgr: 2026-11-29T23:21:43Z started pid 4242 (argv changed)
 *
 * Each line is one write(2) to a file opened O_APPEND, so it lands whole
 * between the daemon's own lines even while the daemon writes.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define EVENT_MAX 1024

/*
 * Civil date by arithmetic (days since 1970-01-01 to a proleptic
 * Gregorian date) rather than gmtime_r(), which takes glibc's time zone
 * lock and reads /etc/localtime on first use, for a UTC time that needs
 * neither.
 */
void procmgr_format_utc(time_t t, char ret[21])
{
	long long days, era, doe, yoe, doy, mp, y;
	unsigned secs, d, m;

	/* four-digit years only: 0000-01-01 to 9999-12-31 */
	if (t < -62167219200LL || t > 253402300799LL) {
		snprintf(ret, 21, "%s", t < 0 ? "0000-01-01T00:00:00Z" :
						 "9999-12-31T23:59:59Z");
		return;
	}
	/* floor division: a time before 1970 is the day before plus secs */
	days = t / 86400 - (t % 86400 < 0) + 719468;
	secs = (unsigned)((t % 86400 + 86400) % 86400);
	era = (days >= 0 ? days : days - 146096) / 146097;
	doe = days - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	y = yoe + era * 400 + (m <= 2);
	/* the moduli change nothing; they show the compiler what fits */
	snprintf(ret, 21, "%04u-%02u-%02uT%02u:%02u:%02uZ",
		 (unsigned)y % 10000, m % 13, d % 32, secs / 3600 % 24,
		 secs / 60 % 60, secs % 60);
}

off_t pm_event(int log_fd, const char *fmt, ...)
{
	char line[EVENT_MAX], at[21];
	va_list ap;
	int n, m;
	off_t end;

	if (log_fd < 0)
		return -1;
	procmgr_format_utc(time(NULL), at);
	n = snprintf(line, sizeof(line), "procmgr: %s ", at);
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		return -1;
	n += m < (int)(sizeof(line) - (size_t)n - 1) ? m :
	     (int)(sizeof(line) - (size_t)n - 2);
	line[n++] = '\n';
	if (write(log_fd, line, (size_t)n) != n)
		return -1;
	/* O_APPEND leaves the offset at the end of what was written. */
	end = lseek(log_fd, 0, SEEK_CUR);
	return end < n ? -1 : end - n;
}

int pm_event_log_open(procmgr *h)
{
	struct stat st;
	char *path = NULL;
	int fd;

	if (procmgr_read(h, "log", &path) < 0 || path[0] != '/') {
		free(path);
		return -1;
	}
	/* Never create it, follow a link or wait on a FIFO: only append. */
	fd = open(path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_NONBLOCK |
		  O_NOCTTY | O_CLOEXEC);
	free(path);
	if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))) {
		close(fd);
		fd = -1;
	}
	return fd;
}
