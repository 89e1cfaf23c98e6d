/*
 * notify.c - $NOTIFY_SOCKET for the daemon's whole life (SPEC §6).
 *
 * systemd's sd_notify protocol: datagrams of newline-separated VAR=VALUE
 * assignments on a unix socket whose address is in $NOTIFY_SOCKET. Ours is
 * abstract and autobound, so the kernel picks a unique address and
 * nothing is left on disk. Only our own uid (or root) may speak on it; the
 * kernel attaches the sender's credentials (SO_PASSCRED).
 *
 *	READY=1                    readiness (--ready notify)
 *	STATUS=text                key status_text, shown by status
 *	PORT=n, SOCKET=s           key socket, at any time
 *	MAINPID=n                  the daemon is that process of our tree
 *	STOPPING=1                 it is shutting down by itself (logged)
 *	EXTEND_TIMEOUT_USEC=n      more time to get ready, from now
 *	WATCHDOG=1, WATCHDOG=trigger   a ping; a failure now
 *	X_PROCMGR_TOUCH=1          a use (procmgr touch): re-arm idle
 */
#include "monitor.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define NOTIFY_MAX 4096
#define ANCESTRY_MAX 256

int mon_notify_open(struct mon *m)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t len = sizeof(sa);
	int one = 1, fd;

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* An address length of just the family: the kernel picks one. */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa_family_t)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	/* "@" stands for the leading NUL of an abstract address. */
	snprintf(m->notify_addr, sizeof(m->notify_addr), "@%.*s",
		 (int)(len - offsetof(struct sockaddr_un, sun_path) - 1),
		 sa.sun_path + 1);
	m->notify = fd;
	return 0;
}

/* Is pid one of our descendants (and so ours to adopt)? */
static bool in_our_tree(pid_t pid)
{
	unsigned long long start;
	pid_t ppid, sid, self = getpid();
	long threads;
	char state;

	for (int i = 0; i < ANCESTRY_MAX && pid > 1; i++) {
		if (pm_proc_info(pid, &state, &start, &ppid, &sid,
				 &threads) < 0)
			return false;
		if (ppid == self)
			return true;
		pid = ppid;
	}
	return false;
}

/*
 * MAINPID=: stop and status will name this process from now on, so it
 * must be a live process of our own tree and uid - never an unrelated one.
 */
static void main_pid(struct mon *m, const char *value)
{
	uid_t uid;
	pid_t pid;

	if (pm_parse_pid(value, &pid) < 0 || pid == m->main.pid ||
	    !procmgr_pid_alive(pid) || !in_our_tree(pid) ||
	    pm_proc_uid(pid, &uid) < 0 || (uid != getuid() && getuid() != 0)) {
		pm_event(m->log, "ignored MAINPID=%.20s: not a live process of "
			 "the daemon's tree", value);
		return;
	}
	mon_adopt(m, pid, "MAINPID");
}

static void extend(struct mon *m, const char *value)
{
	char *end;
	double usec;

	errno = 0;
	usec = strtod(value, &end);
	if (errno || end == value || *end || usec < 0 ||
	    m->phase != PH_STARTING || m->d_ready < 0)
		return;
	if (mon_now() + usec / 1e6 > m->d_ready)
		m->d_ready = mon_now() + usec / 1e6;
}

/* One datagram, as it is parsed; READY=1 waits for the rest of it. */
struct datagram {
	struct mon *m;
	bool ready;
};

static void assign(const char *var, const char *value, void *userdata)
{
	struct datagram *d = userdata;
	struct mon *m = d->m;

	if (!strcmp(var, "READY") && !strcmp(value, "1"))
		d->ready = true;
	else if (!strcmp(var, "STATUS"))
		mon_key(m, "status_text", value);
	else if (!strcmp(var, "PORT") || !strcmp(var, "SOCKET"))
		mon_key(m, "socket", value);
	else if (!strcmp(var, "MAINPID"))
		main_pid(m, value);
	else if (!strcmp(var, "STOPPING") && !strcmp(value, "1"))
		pm_event(m->log, "the daemon says it is stopping");
	else if (!strcmp(var, "EXTEND_TIMEOUT_USEC"))
		extend(m, value);
	else if (!strcmp(var, "WATCHDOG") && m->job.watchdog > 0)
		m->d_watchdog = !strcmp(value, "trigger") ? mon_now() :
				mon_after(m->job.watchdog);
	else if (!strcmp(var, "X_PROCMGR_TOUCH") && m->phase == PH_RUNNING)
		m->d_idle = mon_after(m->job.idle_timeout);
}

static bool sender_ok(struct msghdr *mh)
{
	struct cmsghdr *c;
	struct ucred uc;

	for (c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET ||
		    c->cmsg_type != SCM_CREDENTIALS)
			continue;
		memcpy(&uc, CMSG_DATA(c), sizeof(uc));
		return uc.uid == getuid() || uc.uid == 0;
	}
	return false;
}

void mon_on_notify(struct mon *m)
{
	char buf[NOTIFY_MAX + 1];
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(struct ucred))];
	} ctl;

	for (int i = 0; i < 64 && !m->done; i++) {
		struct iovec iov = { buf, NOTIFY_MAX };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
				     .msg_control = &ctl,
				     .msg_controllen = sizeof(ctl) };
		ssize_t n = recvmsg(m->notify, &mh, MSG_CMSG_CLOEXEC);

		if (n < 0)
			return;
		/* Only our own uid (or root) may speak for our daemon. */
		if (!sender_ok(&mh))
			continue;
		struct datagram d = { m, false };
		pm_notify_parse(buf, (size_t)n, assign, &d);
		/*
		 * Ready only once the whole datagram is applied: a waiting
		 * ensure must find the PORT= and STATUS= sent beside READY=1.
		 */
		if (d.ready)
			mon_became_ready(m);
	}
}
