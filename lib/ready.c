/*
 * ready.c - readiness modes: parse one, name one, try a connect, and parse
 * an sd_notify datagram. The waiting itself is the monitor's
 * (monitor/ready.c): it owns the daemon, and its loop already watches
 * every event that could end the wait.
 */
#include "internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>


static int parse_int(const char *s, int min, int max, int *ret)
{
	char *end;
	long v;

	if (!*s || *s == '+' || *s == '-' || *s == ' ')
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*ret = (int)v;
	return 0;
}

int procmgr_ready_parse(const char *mode, struct procmgr_ready *ret)
{
	struct procmgr_ready r = { .kind = PROCMGR_READY_EXEC };

	if (!mode || !ret)
		return -EINVAL;
	if (!strcmp(mode, "exec"))
		r.kind = PROCMGR_READY_EXEC;
	else if (!strcmp(mode, "socket"))
		r.kind = PROCMGR_READY_SOCKET;
	else if (!strcmp(mode, "notify"))
		r.kind = PROCMGR_READY_NOTIFY;
	else if (!strncmp(mode, "fd:", 3)) {
		/* 0-2 are the daemon's stdio. */
		r.kind = PROCMGR_READY_FD;
		if (parse_int(mode + 3, 3, 1023, &r.fd) < 0)
			return -EINVAL;
	} else if (!strncmp(mode, "tcp:", 4)) {
		r.kind = PROCMGR_READY_TCP;
		if (parse_int(mode + 4, 1, 65535, &r.port) < 0)
			return -EINVAL;
	} else if (!strncmp(mode, "unix:", 5)) {
		r.kind = PROCMGR_READY_UNIX;
		if (!mode[5] || strlen(mode + 5) >=
				sizeof(((struct sockaddr_un *)0)->sun_path))
			return -EINVAL;
		r.path = strdup(mode + 5);
		if (!r.path)
			return -ENOMEM;
	} else {
		return -EINVAL;
	}
	*ret = r;
	return 0;
}

void procmgr_ready_clear(struct procmgr_ready *r)
{
	if (!r)
		return;
	free(r->path);
	memset(r, 0, sizeof(*r));
}

void pm_ready_text(const struct procmgr_ready *r, char *buf, size_t size)
{
	switch (r->kind) {
	case PROCMGR_READY_SOCKET:
		snprintf(buf, size, "socket");
		break;
	case PROCMGR_READY_NOTIFY:
		snprintf(buf, size, "notify");
		break;
	case PROCMGR_READY_FD:
		snprintf(buf, size, "fd:%d", r->fd);
		break;
	case PROCMGR_READY_TCP:
		snprintf(buf, size, "tcp:%d", r->port);
		break;
	case PROCMGR_READY_UNIX:
		snprintf(buf, size, "unix:%s", r->path ? r->path : "");
		break;
	default:
		snprintf(buf, size, "exec");
	}
}

int pm_ready_connect(const struct procmgr_ready *m)
{
	struct sockaddr_in in = { .sin_family = AF_INET };
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	struct sockaddr *sa = (struct sockaddr *)&in;
	socklen_t len = sizeof(in);
	int fd, r;

	if (m->kind == PROCMGR_READY_TCP) {
		in.sin_port = htons((uint16_t)m->port);
		in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	} else {
		snprintf(un.sun_path, sizeof(un.sun_path), "%s", m->path);
		sa = (struct sockaddr *)&un;
		len = sizeof(un);
	}
	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	r = connect(fd, sa, len) == 0;
	close(fd);
	return r;
}

int pm_notify_parse(char *msg, size_t len,
		    void (*fn)(const char *var, const char *value, void *),
		    void *userdata)
{
	char *end = msg + len, *line = msg;
	int n = 0;

	while (line < end) {
		char *nl = memchr(line, '\n', (size_t)(end - line));
		char *stop = nl ? nl : end, *eq;

		/* A NUL ends a line too: what follows it is not text. */
		*stop = '\0';
		eq = strchr(line, '=');
		if (eq && eq > line) {
			*eq = '\0';
			fn(line, eq + 1, userdata);
			n++;
		}
		line = stop + 1;
	}
	return n;
}
