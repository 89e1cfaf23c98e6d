/*
 * util.c - small helpers every lib file uses: the handle's error message,
 * formatted allocation, white space stripping, pid parsing and deadlines.
 */
#include "internal.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int pm_error(procmgr *h, int err, const char *fmt, ...)
{
	va_list ap;

	if (err < 0)
		err = -err;
	if (h) {
		va_start(ap, fmt);
		vsnprintf(h->errmsg, sizeof(h->errmsg), fmt, ap);
		va_end(ap);
	}
	return -err;
}

void pm_warn(procmgr *h, const char *fmt, ...)
{
	va_list ap;
	char *w = NULL;

	if (!h)
		return;
	va_start(ap, fmt);
	if (vasprintf(&w, fmt, ap) < 0)
		w = NULL;
	va_end(ap);
	free(h->warning);
	h->warning = w;
}

int pm_check_open(procmgr *h)
{
	if (!h || !h->opened)
		return pm_error(h, EINVAL, "the handle is not open; call "
				"procmgr_open() first");
	return 0;
}

char *pm_asprintf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	return r < 0 ? NULL : s;
}

char *pm_strip(char *s)
{
	size_t n;

	while (isspace((unsigned char)*s))
		s++;
	n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

int pm_parse_pid(const char *s, pid_t *ret_pid)
{
	long long v = 0;
	const char *p = s;

	if (!s)
		return -EBADMSG;
	while (isspace((unsigned char)*p))
		p++;
	if (!isdigit((unsigned char)*p))
		return -EBADMSG;
	/* Our own loop rather than strtoll: no sign, no locale, no overflow. */
	for (; isdigit((unsigned char)*p); p++) {
		v = v * 10 + (*p - '0');
		if (v > INT_MAX)
			return -EBADMSG;
	}
	while (isspace((unsigned char)*p))
		p++;
	if (*p != '\0' || v <= 1)
		return -EBADMSG;
	*ret_pid = (pid_t)v;
	return 0;
}

int pm_parse_pid_len(const char *s, size_t len, pid_t *ret_pid)
{
	/* "123\0garbage" is not 123: a NUL is no white space */
	if (!s || memchr(s, '\0', len))
		return -EBADMSG;
	return pm_parse_pid(s, ret_pid);
}

void pm_deadline(double timeout, struct timespec *ret_deadline)
{
	struct timespec now;
	double whole;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (timeout < 0)
		timeout = 0;
	/* Far enough in the future to mean "never" without overflowing. */
	if (timeout > 1e9)
		timeout = 1e9;
	whole = (double)(long long)timeout;
	now.tv_sec += (time_t)whole;
	now.tv_nsec += (long)((timeout - whole) * 1e9);
	if (now.tv_nsec >= 1000000000L) {
		now.tv_sec++;
		now.tv_nsec -= 1000000000L;
	}
	*ret_deadline = now;
}

int pm_ms_left(double timeout, const struct timespec *deadline)
{
	struct timespec now;
	long long ns, ms;

	if (timeout < 0)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &now);
	ns = (long long)(deadline->tv_sec - now.tv_sec) * 1000000000LL +
	     (deadline->tv_nsec - now.tv_nsec);
	/* Round a partial millisecond up so poll() never returns early. */
	ms = ns <= 0 ? 0 : (ns + 999999) / 1000000;
	if (ms > INT_MAX)
		ms = INT_MAX;
	return (int)ms;
}
