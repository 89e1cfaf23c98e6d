/*
 * ready.c - readiness protocols: parse a mode and wait until the daemon
 * says (or shows) it is ready.
 *
 * Every wait is one poll() over the event source of the mode (inotify on
 * the metadata directory, the notify socket, the fd:N pipe) plus the
 * monitor's report pipe, which delivers the daemon's exit status the moment
 * it dies. tcp:PORT and unix:PATH are the exception: the kernel has no
 * event for "someone started listening", so there we retry connect() with a
 * short backoff - still inside the same poll, so death is noticed at once.
 * So is socket when the user has no inotify instance left: the key is then
 * looked for on the same back-off.
 */
#include "internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define PM_BACKOFF_MIN_MS 5
#define PM_BACKOFF_MAX_MS 200
#define PM_NOTIFY_MAX 4096

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

/*
 * The kernel picks a unique abstract address (autobind: an address length
 * of just the family): no name to invent, no collision with another
 * start, no file left behind. Who may send is checked per datagram.
 */
static int notify_socket(procmgr *h, struct pm_ready_wait *rw)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct sockaddr *addr = (struct sockaddr *)&sa;
	socklen_t len = sizeof(sa);
	int one = 1, fd, r;

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return pm_error(h, errno, "notify socket: %s", strerror(errno));
	if (bind(fd, addr, sizeof(sa_family_t)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0 ||
	    getsockname(fd, addr, &len) < 0) {
		r = pm_error(h, errno, "binding the notify socket: %s",
			     strerror(errno));
		close(fd);
		return r;
	}
	/* "@" stands for the leading NUL of an abstract address. */
	snprintf(rw->notify_addr, sizeof(rw->notify_addr), "@%.*s",
		 (int)(len - offsetof(struct sockaddr_un, sun_path) - 1),
		 sa.sun_path + 1);
	r = pm_fd_above_stdio(fd);
	if (r < 0) {
		close(fd);
		return pm_error(h, -r, "notify socket: %s", strerror(-r));
	}
	rw->notify_fd = r;
	return 0;
}

static int ready_pipe(procmgr *h, struct pm_ready_wait *rw,
		      struct pm_spawn *sp)
{
	int p[2], r;

	if (pipe2(p, O_CLOEXEC) < 0)
		return pm_error(h, errno, "readiness pipe: %s",
				strerror(errno));
	r = pm_pair_above_stdio(p);
	if (r < 0)
		return pm_error(h, -r, "readiness pipe: %s", strerror(-r));
	rw->pipe_r = p[0];
	sp->ready_w = p[1];
	sp->ready_n = rw->mode->fd;
	return 0;
}

int pm_ready_prepare(procmgr *h, const struct procmgr_ready *mode,
		     struct pm_ready_wait *rw, struct pm_spawn *sp)
{
	memset(rw, 0, sizeof(*rw));
	rw->mode = mode;
	rw->notify_fd = -1;
	rw->pipe_r = -1;
	if (mode->kind == PROCMGR_READY_NOTIFY)
		return notify_socket(h, rw);
	if (mode->kind == PROCMGR_READY_FD)
		return ready_pipe(h, rw, sp);
	return 0;
}

void pm_ready_wait_clear(struct pm_ready_wait *rw)
{
	if (rw->notify_fd >= 0)
		close(rw->notify_fd);
	if (rw->pipe_r >= 0)
		close(rw->pipe_r);
	rw->notify_fd = rw->pipe_r = -1;
}

/* One readiness wait: the death watch in pfd[0], the mode's fd in pfd[1]. */
struct waiter {
	procmgr *h;
	struct pm_ready_wait *rw;
	struct pm_spawn *sp;
	struct pollfd pfd[2];
	nfds_t nfds;
	int pidfd;		/* death watch when not the report pipe */
	pid_t sid;		/* the daemon's session, for MAINPID */
	int inotify_fd;
	int backoff_ms;
	bool pipe_eof;		/* fd:N closed without a newline */
	struct timespec eof_deadline;
	struct pm_report *exit;
};

/* How long a daemon that closed fd N unready has to show it is dying. */
#define PM_EOF_GRACE 1.0

static int died(struct waiter *w)
{
	char how[64];

	if (w->exit->kind == PM_REPORT_EXIT)
		pm_exit_text(w->exit, how, sizeof(how));
	else
		snprintf(how, sizeof(how), "exit status unknown");
	return pm_error(w->h, ECHILD, "%s (pid %d) died before it was "
			"ready: %s; see its log %s", w->h->name,
			(int)w->sp->pid, how, w->sp->log_path);
}

/* Watch a pid we are not the parent of (MAINPID, or the monitor gone). */
static int watch_pidfd(struct waiter *w, pid_t pid)
{
	int fd = pidfd_open(pid, 0);

	if (fd < 0)
		return died(w);
	if (w->pidfd >= 0)
		close(w->pidfd);
	w->pidfd = fd;
	w->pfd[0].fd = fd;
	return 0;
}

static int on_death_fd(struct waiter *w)
{
	ssize_t n;

	if (w->pfd[0].fd == w->pidfd)
		return died(w);
	do
		n = read(w->sp->report_r, w->exit, sizeof(*w->exit));
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)sizeof(*w->exit) && w->exit->kind == PM_REPORT_EXIT)
		return died(w);
	/*
	 * The monitor is gone (killed?): watch the daemon itself. (It sends
	 * nothing but whole reports, so anything else means the same.)
	 */
	w->exit->kind = 0;
	return watch_pidfd(w, w->sp->pid);
}

static bool cred_ok(struct msghdr *mh)
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

/*
 * MAINPID=: the daemon's main process is another one of ours. As systemd
 * accepts only a process of the service's own cgroup, we accept only one
 * of the session the daemon was started in: stop would later signal
 * whatever pid we record, and must never hit an unrelated process.
 */
static int main_pid(struct waiter *w, const char *value)
{
	char *id = NULL, text[16];
	pid_t pid;
	uid_t uid;
	int r;

	if (pm_parse_pid(value, &pid) < 0 || pid == w->sp->pid ||
	    w->sid <= 0 || getsid(pid) != w->sid ||
	    procmgr_pid_alive(pid) != 1 || pm_proc_uid(pid, &uid) < 0 ||
	    (uid != getuid() && getuid() != 0))
		return 0;	/* not a process we may adopt: ignored */
	r = procmgr_proc_identity(pid, &id);
	if (r < 0)
		return 0;
	r = procmgr_write(w->h, "start_time", id);
	free(id);
	if (r >= 0)
		r = pm_record_pidfd_ino(w->h, pid);
	snprintf(text, sizeof(text), "%d", (int)pid);
	if (r >= 0)
		r = procmgr_write(w->h, "pid", text);
	if (r < 0)
		return r;
	w->sp->pid = pid;
	return watch_pidfd(w, pid);
}

/* One sd_notify datagram: newline-separated VAR=VALUE assignments. */
static int notify_vars(struct waiter *w, char *msg)
{
	bool ready = false;
	char *save = NULL;
	int r = 0;

	for (char *line = strtok_r(msg, "\n", &save); line && r >= 0;
	     line = strtok_r(NULL, "\n", &save)) {
		if (!strcmp(line, "READY=1"))
			ready = true;
		else if (!strncmp(line, "STATUS=", 7))
			r = procmgr_write(w->h, "status_text", line + 7);
		else if (!strncmp(line, "MAINPID=", 8))
			r = main_pid(w, line + 8);
		else if (!strncmp(line, "SOCKET=", 7))
			r = procmgr_write(w->h, "socket", line + 7);
		else if (!strncmp(line, "PORT=", 5))
			r = procmgr_write(w->h, "socket", line + 5);
	}
	return r < 0 ? r : ready;
}

static int on_notify(struct waiter *w)
{
	char buf[PM_NOTIFY_MAX + 1];
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(struct ucred))];
	} ctl;
	struct iovec iov = { buf, PM_NOTIFY_MAX };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = &ctl,
			     .msg_controllen = sizeof(ctl) };
	ssize_t n = recvmsg(w->rw->notify_fd, &mh, MSG_CMSG_CLOEXEC);

	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 :
			pm_error(w->h, errno, "reading the notify socket: %s",
				 strerror(errno));
	/* Only our own uid (or root) may declare our daemon ready. */
	if (!cred_ok(&mh))
		return 0;
	buf[n] = '\0';
	return notify_vars(w, buf);
}

static int on_pipe(struct waiter *w)
{
	char buf[512];
	ssize_t n = read(w->rw->pipe_r, buf, sizeof(buf));

	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 :
			pm_error(w->h, errno, "reading readiness fd: %s",
				 strerror(errno));
	if (n == 0) {
		/*
		 * Dying closes fd N a moment before the monitor can report
		 * the death: give that report a grace period to arrive.
		 */
		w->pipe_eof = true;
		w->nfds = 1;
		pm_deadline(PM_EOF_GRACE, &w->eof_deadline);
		return 0;
	}
	return memchr(buf, '\n', (size_t)n) != NULL;
}

static int closed_unready(struct waiter *w)
{
	return pm_error(w->h, EPROTO, "%s (pid %d) closed fd %d without "
			"writing a newline: it will not report ready",
			w->h->name, (int)w->sp->pid, w->rw->mode->fd);
}

static int on_inotify(struct waiter *w)
{
	char buf[4096]
		__attribute__((aligned(__alignof__(struct inotify_event))));

	/* Only a wake-up: the loop looks for the key itself. */
	while (read(w->inotify_fd, buf, sizeof(buf)) > 0)
		;
	return 0;
}

/* tcp:PORT / unix:PATH: does a connect succeed now? */
static int try_connect(const struct procmgr_ready *m)
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

static int check_now(struct waiter *w)
{
	enum procmgr_ready_kind k = w->rw->mode->kind;
	char *v = NULL;
	int r;

	if (k == PROCMGR_READY_SOCKET) {
		/*
		 * pants writes the key in place: created empty, then
		 * filled. An empty value is not a port yet; the write that
		 * fills it wakes us again (IN_CLOSE_WRITE).
		 */
		r = procmgr_read(w->h, "socket", &v);
		r = r == 0 && *v;
		free(v);
		return r;
	}
	if (k == PROCMGR_READY_TCP || k == PROCMGR_READY_UNIX) {
		r = try_connect(w->rw->mode);
		if (r < 0)
			return pm_error(w->h, -r, "cannot check whether %s is "
					"ready (socket: %s)", w->h->name,
					strerror(-r));
		return r;
	}
	return 0;
}

/*
 * Watch the metadata directory for the socket key. A user out of inotify
 * instances (or watches) gets false: the key is then looked for on the
 * back-off timer, as a connect is for tcp:PORT.
 */
static bool watch_socket_key(struct waiter *w, uint32_t mask)
{
	w->inotify_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (w->inotify_fd >= 0 &&
	    inotify_add_watch(w->inotify_fd, w->h->meta_dir, mask) >= 0)
		return true;
	if (w->inotify_fd >= 0)
		close(w->inotify_fd);
	w->inotify_fd = -1;
	return false;
}

static int setup(struct waiter *w)
{
	enum procmgr_ready_kind k = w->rw->mode->kind;
	uint32_t mask = IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE;

	w->pfd[0].fd = w->sp->report_r;
	w->pfd[0].events = POLLIN;
	w->pfd[1].events = POLLIN;
	w->nfds = 2;
	if (k == PROCMGR_READY_NOTIFY)
		w->pfd[1].fd = w->rw->notify_fd;
	else if (k == PROCMGR_READY_FD)
		w->pfd[1].fd = w->rw->pipe_r;
	else if (k == PROCMGR_READY_SOCKET && watch_socket_key(w, mask))
		w->pfd[1].fd = w->inotify_fd;
	else {
		w->nfds = 1;
	}
	return 0;
}

static int poll_ms(struct waiter *w, double timeout,
		   const struct timespec *deadline)
{
	enum procmgr_ready_kind k = w->rw->mode->kind;
	int ms = pm_ms_left(timeout, deadline);

	if (w->pipe_eof) {
		int grace = pm_ms_left(PM_EOF_GRACE, &w->eof_deadline);

		return ms < 0 || grace < ms ? grace : ms;
	}
	if (k != PROCMGR_READY_TCP && k != PROCMGR_READY_UNIX &&
	    !(k == PROCMGR_READY_SOCKET && w->inotify_fd < 0))
		return ms;
	/* The one polling loop: retry connect with a growing backoff. */
	if (ms < 0 || ms > w->backoff_ms)
		ms = w->backoff_ms;
	if (w->backoff_ms < PM_BACKOFF_MAX_MS)
		w->backoff_ms *= 2;
	return ms;
}

static int on_mode_fd(struct waiter *w)
{
	switch (w->rw->mode->kind) {
	case PROCMGR_READY_NOTIFY:
		return on_notify(w);
	case PROCMGR_READY_FD:
		return on_pipe(w);
	default:
		return on_inotify(w);
	}
}

static int wait_loop(struct waiter *w, double timeout)
{
	struct timespec deadline;
	int r;

	pm_deadline(timeout, &deadline);
	for (;;) {
		r = check_now(w);
		if (r != 0)
			return r < 0 ? r : 0;
		if (timeout >= 0 && pm_ms_left(timeout, &deadline) == 0)
			return pm_error(w->h, ETIMEDOUT, "%s (pid %d) was not "
					"ready after %g seconds", w->h->name,
					(int)w->sp->pid, timeout);
		r = poll(w->pfd, w->nfds, poll_ms(w, timeout, &deadline));
		if (r < 0 && errno != EINTR)
			return pm_error(w->h, errno, "poll: %s",
					strerror(errno));
		if (r == 0 && w->pipe_eof &&
		    pm_ms_left(PM_EOF_GRACE, &w->eof_deadline) == 0)
			return closed_unready(w);
		if (r <= 0)
			continue;
		/* A daemon that said "ready" and died at once was ready. */
		if (w->nfds > 1 && w->pfd[1].revents) {
			r = on_mode_fd(w);
			if (r != 0)
				return r < 0 ? r : 0;
		}
		if (w->pfd[0].revents) {
			r = on_death_fd(w);
			if (r < 0)
				return r;
		}
	}
}

int pm_ready_wait(procmgr *h, struct pm_ready_wait *rw, struct pm_spawn *sp,
		  double timeout, struct pm_report *ret_exit)
{
	struct waiter w = { .h = h, .rw = rw, .sp = sp, .pidfd = -1,
			    .inotify_fd = -1, .backoff_ms = PM_BACKOFF_MIN_MS };
	struct pm_report exit = { 0 };
	int r;

	w.exit = &exit;
	if (rw->mode->kind == PROCMGR_READY_EXEC)
		return 0;
	w.sid = getsid(sp->pid);
	r = setup(&w);
	if (r >= 0)
		r = wait_loop(&w, timeout);
	if (w.pidfd >= 0)
		close(w.pidfd);
	if (w.inotify_fd >= 0)
		close(w.inotify_fd);
	if (r == -ECHILD)
		*ret_exit = exit;
	return r;
}
