/*
 * util.c - small helpers every lib file uses: the handle's error message,
 * formatted allocation, white space stripping, pid parsing and deadlines.
 */
#include "internal.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/*
 * Length of the printable UTF-8 sequence at s, 0 if it is none: an
 * invalid or overlong sequence, a surrogate, or a C1 control (U+0080 to
 * U+009F: terminals take U+009B for an escape sequence's start, as ESC [).
 */
static size_t utf8_printable(const unsigned char *s)
{
	unsigned cp;
	size_t n;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1fu;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0fu;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07u;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	if (cp < 0xa0 || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

size_t procmgr_escape(const char *s, char *buf, size_t size)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0, n;

	if (!size)
		return 0;
	while (*p) {
		n = *p >= 0x20 && *p < 0x7f ? 1 : utf8_printable(p);
		if (n && o + n < size) {
			memcpy(buf + o, p, n);
			o += n;
			p += n;
		} else if (!n && o + 4 < size) {
			o += (size_t)snprintf(buf + o, size - o, "\\x%02x",
					      *p++);
		} else {
			break;
		}
	}
	buf[o] = '\0';
	return o;
}

/*
 * Messages name what the user typed and what files hold (NAMEs, keys,
 * paths, argv): escaped, no byte of it can move a terminal's cursor or
 * retitle its window.
 */
int pm_error(procmgr *h, int err, const char *fmt, ...)
{
	char raw[PM_ERRMSG_MAX];
	va_list ap;

	assert(err > 0);
	if (h) {
		h->errparam = NULL;
		va_start(ap, fmt);
		vsnprintf(raw, sizeof(raw), fmt, ap);
		va_end(ap);
		procmgr_escape(raw, h->errmsg, sizeof(h->errmsg));
	}
	return -err;
}

/* a/b, without doubling a slash that ends a. NULL when out of memory. */
static char *join(const char *a, const char *b)
{
	size_t n = strlen(a);

	return pm_asprintf("%s%s%s", a, n && a[n - 1] == '/' ? "" : "/", b);
}

int pm_abs_path(const char *base, const char *path, char **ret)
{
	char cwd[PATH_MAX], *dir, *p;

	if (path && path[0] == '/') {
		p = strdup(path);
	} else {
		if (base && base[0] == '/')
			dir = strdup(base);
		else if (!getcwd(cwd, sizeof(cwd)))
			return -errno;
		else
			dir = base && base[0] ? join(cwd, base) : strdup(cwd);
		p = dir && path ? join(dir, path) : dir;
		if (p != dir)
			free(dir);
	}
	if (!p)
		return -ENOMEM;
	*ret = p;
	return 0;
}

int pm_blame(procmgr *h, const char *param, int r)
{
	if (h)
		h->errparam = param;
	return r;
}

void pm_warn(procmgr *h, const char *fmt, ...)
{
	va_list ap;
	char *raw = NULL, *w = NULL;
	size_t size;

	if (!h)
		return;
	va_start(ap, fmt);
	if (vasprintf(&raw, fmt, ap) < 0)
		raw = NULL;
	va_end(ap);
	size = raw ? strlen(raw) * 4 + 1 : 0;
	w = raw ? malloc(size) : NULL;
	if (w)
		procmgr_escape(raw, w, size);
	free(raw);
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

int pm_parse_ull(const char *s, int base, unsigned long long *ret,
		 const char **ret_end)
{
	unsigned long long v;
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	/* strtoull() would take a sign, "0x" and white space of its own */
	if (!(base == 16 ? isxdigit((unsigned char)*s) :
			   isdigit((unsigned char)*s)))
		return -EBADMSG;
	errno = 0;
	v = strtoull(s, &end, base);
	if (errno)
		return -EBADMSG;
	*ret = v;
	if (ret_end)
		*ret_end = end;
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

int pm_struct_in(void *ours, size_t ours_size, size_t min, const void *theirs,
		 size_t size, bool strict)
{
	const unsigned char *extra = (const unsigned char *)theirs + ours_size;

	if (!theirs || size < min)
		return -EINVAL;
	for (size_t i = 0; strict && size > ours_size && i < size - ours_size;
	     i++)
		if (extra[i])
			return -E2BIG;
	memset(ours, 0, ours_size);
	memcpy(ours, theirs, size < ours_size ? size : ours_size);
	return 0;
}

int pm_poll(procmgr *h, struct pollfd *pfd, nfds_t n, int ms)
{
	int cancel = h ? h->cancel_fd : -1, r;

	pfd[n] = (struct pollfd){ .fd = cancel, .events = POLLIN };
	r = poll(pfd, n + (cancel >= 0), ms);
	if (r < 0)
		return -errno;	/* -EINTR: a signal handler ran */
	if (cancel >= 0 && (pfd[n].revents & (POLLIN | POLLHUP | POLLERR)))
		return -EINTR;
	return r;
}

int pm_read_fd(int fd, size_t max, bool until_nul, char **ret,
	       size_t *ret_len)
{
	return pm_read_fd_sized(fd, max, until_nul, 0, ret, ret_len);
}

int pm_read_fd_sized(int fd, size_t max, bool until_nul, size_t size,
		     char **ret, size_t *ret_len)
{
	size_t len = 0, cap = 0, ask, first = size < max ? size : max;
	char *buf = NULL, *nbuf;
	ssize_t n = 1;
	int r = 0;

	while (r == 0 && n != 0) {
		if (len + 1 >= cap) {
			/* room for all of it and one byte more, to see the end */
			cap = cap ? cap * 2 : first < 255 ? 256 : first + 2;
			nbuf = realloc(buf, cap);
			if (!nbuf) {
				r = -ENOMEM;
				break;
			}
			buf = nbuf;
		}
		ask = cap - len - 1;
		n = read(fd, buf + len, ask);
		if (n < 0)
			r = errno == EINTR ? 0 : -errno;
		else if ((len += (size_t)n) > max)
			r = -EFBIG;
		else if (until_nul && n > 0 &&
			 memchr(buf + len - (size_t)n, '\0', (size_t)n))
			break;
		/* short of what was asked, with all fstat promised: the end */
		else if (size && len >= size && (size_t)n < ask)
			break;
	}
	if (r < 0) {
		free(buf);
		return r;
	}
	buf[len] = '\0';
	*ret = buf;
	*ret_len = len;
	return 0;
}

DIR *pm_opendir_at(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
			O_CLOEXEC), e;
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;

	if (!d && fd >= 0) {
		e = errno;
		close(fd);
		errno = e;
	}
	return d;
}

ssize_t pm_read_once(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	do
		n = read(fd, buf, size - 1);
	while (n < 0 && errno == EINTR);
	/* ESRCH: the process went away between open and read */
	r = n < 0 ? -errno : 0;
	close(fd);
	if (r < 0)
		return r;
	buf[n] = '\0';
	return n;
}

void procmgr_set_cancel_fd(procmgr *h, int fd)
{
	if (h)
		h->cancel_fd = fd;
}

void procmgr_set_wait_fn(procmgr *h, procmgr_wait_fn fn, void *userdata)
{
	if (!h)
		return;
	h->wait_fn = fn;
	h->wait_userdata = userdata;
}

void pm_waiting(procmgr *h, const char *fmt, ...)
{
	char what[256];
	va_list ap;

	if (!h || !h->wait_fn)
		return;
	if (!fmt) {
		h->wait_fn(h, NULL, h->wait_userdata);
		return;
	}
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	h->wait_fn(h, what, h->wait_userdata);
}
