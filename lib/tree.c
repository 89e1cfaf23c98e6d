/*
 * tree.c - a daemon's process tree: its descendants, their memory, and
 * whether any of them serves a connected client (TCP from /proc/net/tcp,
 * unix from the kernel's sock_diag).
 *
 * The monitor is a child subreaper, so every process the daemon starts
 * stays below it even after its parent exits: the tree is the monitor's
 * descendants. They are found through /proc/PID/task/TID/children, which
 * lists a thread's children directly; a kernel without it
 * (CONFIG_PROC_CHILDREN off) costs one scan of /proc instead.
 */
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kcmp.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <unistd.h>

#define STAT_MAX 2048
#define TREE_MAX 65536		/* processes: more is a fork bomb */
#define SHUTDOWN_MASK 3		/* RCV_SHUTDOWN | SEND_SHUTDOWN (net/sock.h) */

int pm_parse_stat_more(const char *line, pid_t *ret_ppid, pid_t *ret_sid,
		       long *ret_threads)
{
	const char *p = strrchr(line, ')');
	long v[18];
	char *end;

	/* after "comm)": state, then fields 4 .. 20 */
	if (!p || p[1] != ' ' || !p[2] || p[3] != ' ')
		return -EBADMSG;
	p += 3;
	for (int i = 0; i < 17; i++) {
		errno = 0;
		v[i] = strtol(p, &end, 10);
		if (errno || end == p || (*end != ' ' && *end != '\n'))
			return -EBADMSG;
		p = end;
	}
	*ret_ppid = (pid_t)v[0];	/* field 4 */
	*ret_sid = (pid_t)v[2];		/* field 6 */
	*ret_threads = v[16];		/* field 20 */
	return 0;
}

int pm_proc_info(pid_t pid, char *ret_state, unsigned long long *ret_start,
		 pid_t *ret_ppid, pid_t *ret_sid, long *ret_threads)
{
	char path[64], buf[STAT_MAX];
	ssize_t n;
	int r;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	n = pm_read_once(path, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	r = pm_parse_stat(buf, ret_state, ret_start);
	if (r == 0)
		r = pm_parse_stat_more(buf, ret_ppid, ret_sid, ret_threads);
	return r;
}

struct list {
	pid_t *pids;
	unsigned long long *starts;
	size_t n, cap;
};

static int add(struct list *l, pid_t pid, unsigned long long start)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		pid_t *np;
		unsigned long long *ns;

		if (cap > TREE_MAX)
			return -E2BIG;
		np = realloc(l->pids, cap * sizeof(*np));
		if (!np)
			return -ENOMEM;
		l->pids = np;
		ns = realloc(l->starts, cap * sizeof(*ns));
		if (!ns)
			return -ENOMEM;
		l->starts = ns;
		l->cap = cap;
	}
	l->pids[l->n] = pid;
	l->starts[l->n++] = start;
	return 0;
}

static bool listed(const struct list *l, pid_t pid)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->pids[i] == pid)
			return true;
	return false;
}

/* Add the children one children file lists. -ENOENT: no such file. */
static int add_children_of(struct list *l, const char *path)
{
	char buf[8192], *p, *end;
	ssize_t n;
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ENOENT : 0; /* a thread that ended */
	while (r == 0 && (n = read(fd, buf, sizeof(buf) - 1)) > 0) {
		buf[n] = '\0';
		/* A pid cut by the buffer's end is read again from there. */
		for (p = buf; r == 0 && *p;) {
			long pid = strtol(p, &end, 10);

			if (end == p)
				break;
			if (*end == '\0' && n == (ssize_t)sizeof(buf) - 1) {
				lseek(fd, -(off_t)(end - p), SEEK_CUR);
				break;
			}
			if (pid > 1 && !listed(l, (pid_t)pid))
				r = add(l, (pid_t)pid, 0);
			p = end;
		}
	}
	close(fd);
	return r;
}

/* Every thread's children of pid; -ENOENT when the kernel has no files. */
static int add_children(struct list *l, pid_t pid, long threads)
{
	char path[320];
	struct dirent *e;
	DIR *d;
	int r = 0;

	if (threads <= 1) {
		snprintf(path, sizeof(path), "/proc/%d/task/%d/children",
			 (int)pid, (int)pid);
		return add_children_of(l, path);
	}
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return 0;
	while (r == 0 && (e = readdir(d))) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/children",
			 (int)pid, e->d_name);
		r = add_children_of(l, path);
	}
	closedir(d);
	return r;
}

/* Breadth first from root through the children files. */
static int walk_children(pid_t root, struct list *l)
{
	unsigned long long start;
	pid_t ppid, sid;
	long threads;
	char state;
	int r;

	if (pm_proc_info(root, &state, &start, &ppid, &sid, &threads) < 0)
		return 0;
	r = add_children(l, root, threads);
	for (size_t i = 0; r == 0 && i < l->n; i++) {
		if (pm_proc_info(l->pids[i], &state, &start, &ppid, &sid,
				 &threads) < 0)
			continue;
		l->starts[i] = start;
		r = add_children(l, l->pids[i], threads);
		if (r == -ENOENT)	/* it ended meanwhile */
			r = 0;
	}
	return r;
}

/*
 * Does pid share root's memory? Then it is root itself, not a process of
 * its tree: a vfork child about to exec, or a helper task a sanitizer
 * clones at exit (LeakSanitizer's, in the monitor), which a SIGKILL
 * would leave root waiting for for ever.
 */
static bool clone_of(pid_t root, pid_t pid)
{
	return syscall(SYS_kcmp, root, pid, KCMP_VM, 0, 0) == 0;
}

/*
 * Drop the zombies, those that are gone (they need no signal) and
 * root's own clones.
 */
static void keep_live(struct list *l, pid_t root)
{
	size_t o = 0;

	for (size_t i = 0; i < l->n; i++) {
		unsigned long long start;
		char state;

		if (pm_proc_stat(l->pids[i], &state, &start) < 0 ||
		    state == 'Z' || state == 'X' || clone_of(root, l->pids[i]))
			continue;
		l->pids[o] = l->pids[i];
		l->starts[o++] = start;
	}
	l->n = o;
}

/* Without children files: every process of /proc, parents followed. */
static int scan_all(pid_t root, struct list *l);

/* The live ones of l to the caller (NULL arrays when none), or r < 0. */
static int hand_out(struct list *l, pid_t root, int r, pid_t **ret_pids,
		    unsigned long long **ret_starts, size_t *ret_n)
{
	if (r == 0)
		keep_live(l, root);
	if (r < 0 || l->n == 0) {
		free(l->pids);
		free(l->starts);
		l->pids = NULL;
		l->starts = NULL;
		l->n = 0;
	}
	if (r < 0)
		return r;
	*ret_pids = l->pids;
	*ret_starts = l->starts;
	*ret_n = l->n;
	return 0;
}

int pm_tree_scan(pid_t root, pid_t **ret_pids,
		 unsigned long long **ret_starts, size_t *ret_n)
{
	struct list l = { 0 };
	int r = scan_all(root, &l);

	return hand_out(&l, root, r, ret_pids, ret_starts, ret_n);
}

static int scan_all(pid_t root, struct list *l)
{
	struct list all = { 0 };
	pid_t *parents = NULL;
	size_t cap = 0;
	struct dirent *e;
	DIR *d = opendir("/proc");
	int r = 0;

	if (!d)
		return -errno;
	while (r == 0 && (e = readdir(d))) {
		unsigned long long start;
		pid_t pid = (pid_t)atoi(e->d_name), ppid, sid;
		long threads;
		char state;

		if (pid <= 1 || pm_proc_info(pid, &state, &start, &ppid, &sid,
					     &threads) < 0)
			continue;
		r = add(&all, pid, start);
		if (r == 0 && all.n > cap) {
			pid_t *np = realloc(parents, all.cap * sizeof(*np));

			if (!np)
				r = -ENOMEM;
			else
				parents = np;
			cap = all.cap;
		}
		if (r == 0)
			parents[all.n - 1] = ppid;
	}
	closedir(d);
	/* Grow l from root until a pass adds nothing. */
	for (bool more = true; r == 0 && more;) {
		more = false;
		for (size_t i = 0; r == 0 && i < all.n; i++)
			if ((parents[i] == root || listed(l, parents[i])) &&
			    !listed(l, all.pids[i])) {
				r = add(l, all.pids[i], all.starts[i]);
				more = true;
			}
	}
	free(all.pids);
	free(all.starts);
	free(parents);
	return r;
}

int pm_tree(pid_t root, pid_t **ret_pids, unsigned long long **ret_starts,
	    size_t *ret_n)
{
	struct list l = { 0 };
	int r = walk_children(root, &l);

	if (r != -ENOENT)
		return hand_out(&l, root, r, ret_pids, ret_starts, ret_n);
	free(l.pids);
	free(l.starts);
	return pm_tree_scan(root, ret_pids, ret_starts, ret_n);
}

uint64_t pm_proc_rss(pid_t pid)
{
	char path[64], buf[256];
	unsigned long long size, resident;
	const char *p = buf;

	snprintf(path, sizeof(path), "/proc/%d/statm", (int)pid);
	/* "size resident shared ...", in pages */
	if (pm_read_once(path, buf, sizeof(buf)) <= 0 ||
	    pm_parse_ull(p, 10, &size, &p) < 0 ||
	    pm_parse_ull(p, 10, &resident, NULL) < 0)
		return 0;
	return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

/* ---- connected clients -------------------------------------------- */

struct inodes {
	unsigned long *v;
	size_t n, cap;
};

static int add_inode(struct inodes *s, unsigned long ino)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 32;
		unsigned long *nv = realloc(s->v, cap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		s->v = nv;
		s->cap = cap;
	}
	s->v[s->n++] = ino;
	return 0;
}

static bool has_inode(const struct inodes *s, unsigned long ino)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i] == ino)
			return true;
	return false;
}

/* The inode of a socket fd's link, "socket:[INODE]". */
static bool socket_inode(const char *link, unsigned long *ret_ino)
{
	unsigned long long ino;
	const char *end;

	if (strncmp(link, "socket:[", 8) ||
	    pm_parse_ull(link + 8, 10, &ino, &end) < 0 || strcmp(end, "]"))
		return false;
	*ret_ino = (unsigned long)ino;
	return true;
}

/* The inodes of the sockets pid holds ("socket:[123]" links in fd/). */
static int socket_inodes(pid_t pid, struct inodes *s)
{
	char path[64], link[64];
	struct dirent *e;
	unsigned long ino;
	DIR *d;
	int r = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	if (!d)
		return 0;
	while (r == 0 && (e = readdir(d))) {
		ssize_t n = readlinkat(dirfd(d), e->d_name, link,
				       sizeof(link) - 1);

		if (n <= 0)
			continue;
		link[n] = '\0';
		if (socket_inode(link, &ino) && !has_inode(s, ino))
			r = add_inode(s, ino);
	}
	closedir(d);
	return r;
}

/*
 * A line of /proc/net/tcp or tcp6: "sl: local_addr:port rem_addr:port st
 * tx:rx tr:when retrnsmt uid timeout inode ...", numbers in hex but the
 * inode. The header line has no number where the port goes.
 */
static bool tcp_line(char *line, unsigned *ret_port, unsigned *ret_st,
		     unsigned long *ret_ino)
{
	unsigned long long port, st, ino;
	char *f[10], *save = NULL, *colon;
	size_t n = 0;

	for (char *t = strtok_r(line, " \t\n", &save); t && n < 10;
	     t = strtok_r(NULL, " \t\n", &save))
		f[n++] = t;
	if (n < 10 || !(colon = strchr(f[1], ':')) ||
	    pm_parse_ull(colon + 1, 16, &port, NULL) < 0 ||
	    pm_parse_ull(f[3], 16, &st, NULL) < 0 ||
	    pm_parse_ull(f[9], 10, &ino, NULL) < 0)
		return false;
	*ret_port = (unsigned)port;
	*ret_st = (unsigned)st;
	*ret_ino = (unsigned long)ino;
	return true;
}

/*
 * /proc/net/tcp and tcp6: the local ports our sockets listen on (state
 * 0A), then whether one of our established ones (01) uses such a port.
 * A connection still in a listener's accept queue does not count: the
 * queue keeps one whose client has gone (tcp:PORT readiness's own probe,
 * for one) for as long as the daemon does not accept.
 */
static int tcp_client(const char *path, const struct inodes *ours)
{
	unsigned listening[64];
	size_t nl = 0;
	int found = 0;

	for (int pass = 0; pass < 2 && !found; pass++) {
		char line[512];
		FILE *f = fopen(path, "re");

		if (!f)
			return 0;
		while (!found && fgets(line, sizeof(line), f)) {
			unsigned port, st;
			unsigned long ino;

			if (!tcp_line(line, &port, &st, &ino) ||
			    !has_inode(ours, ino))
				continue;
			if (pass == 0 && st == 0x0A && nl < 64)
				listening[nl++] = port;
			for (size_t i = 0; pass == 1 && st == 0x01 && i < nl;
			     i++)
				found |= listening[i] == port;
		}
		fclose(f);
	}
	return found;
}

/* One unix stream socket of ours, as sock_diag describes it. */
struct unix_sock {
	unsigned char state;		/* TCP_LISTEN or TCP_ESTABLISHED */
	unsigned char shutdown;		/* SHUTDOWN_MASK once the peer left */
	char name[108];			/* its address ("" unnamed) */
	size_t name_len;
};

/* The attributes of one unix_diag message that we use. */
static void unix_attrs(struct nlmsghdr *nh, struct unix_sock *u)
{
	struct unix_diag_msg *m = NLMSG_DATA(nh);
	struct rtattr *a = (struct rtattr *)(m + 1);
	int len = (int)nh->nlmsg_len - NLMSG_LENGTH(sizeof(*m));

	u->state = m->udiag_state;
	for (; RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		size_t n = RTA_PAYLOAD(a);

		if (a->rta_type == UNIX_DIAG_SHUTDOWN && n >= 1)
			u->shutdown = *(unsigned char *)RTA_DATA(a);
		if (a->rta_type == UNIX_DIAG_NAME && n <= sizeof(u->name)) {
			memcpy(u->name, RTA_DATA(a), n);
			u->name_len = n;
		}
	}
}

/* Ask the kernel (sock_diag) for every unix stream socket and its state. */
static int unix_dump(int fd)
{
	struct {
		struct nlmsghdr nh;
		struct unix_diag_req req;
	} q = {
		.nh = { .nlmsg_len = sizeof(q),
			.nlmsg_type = SOCK_DIAG_BY_FAMILY,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP },
		.req = { .sdiag_family = AF_UNIX, .udiag_states = ~0U,
			 .udiag_show = UDIAG_SHOW_NAME },
	};

	return send(fd, &q, sizeof(q), 0) == (ssize_t)sizeof(q) ? 0 : -errno;
}

/* Our stream sockets from the dump, into v (at most max); their count. */
static size_t unix_ours(int fd, const struct inodes *ours,
			struct unix_sock *v, size_t max)
{
	char buf[16384] __attribute__((aligned(8)));
	size_t n = 0;
	ssize_t got;

	while ((got = recv(fd, buf, sizeof(buf), 0)) > 0) {
		struct nlmsghdr *nh = (struct nlmsghdr *)(void *)buf;
		int len = (int)got;

		for (; NLMSG_OK(nh, len); nh = NLMSG_NEXT(nh, len)) {
			struct unix_diag_msg *m = NLMSG_DATA(nh);

			if (nh->nlmsg_type == NLMSG_DONE ||
			    nh->nlmsg_type == NLMSG_ERROR)
				return n;
			if (m->udiag_type != SOCK_STREAM ||
			    !has_inode(ours, m->udiag_ino) || n == max)
				continue;
			memset(&v[n], 0, sizeof(v[n]));
			unix_attrs(nh, &v[n++]);
		}
	}
	return n;
}

/*
 * A unix stream connection accepted on a path one of ours listens on,
 * whose client is still there. sock_diag tells what /proc/net/unix does
 * not: a socket whose peer closed is shut down both ways
 * (UNIX_DIAG_SHUTDOWN), though it still counts as connected until the
 * daemon closes it.
 */
static int unix_client(const struct inodes *ours)
{
	struct unix_sock *v = calloc(ours->n ? ours->n : 1, sizeof(*v));
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC,
			NETLINK_SOCK_DIAG);
	size_t n = 0;
	int found = 0;

	if (v && fd >= 0 && unix_dump(fd) == 0)
		n = unix_ours(fd, ours, v, ours->n);
	for (size_t i = 0; i < n && !found; i++)
		for (size_t j = 0; j < n && !found; j++)
			found = v[i].state == TCP_LISTEN && v[i].name_len &&
				v[j].state == TCP_ESTABLISHED &&
				v[j].shutdown != SHUTDOWN_MASK &&
				v[j].name_len == v[i].name_len &&
				!memcmp(v[i].name, v[j].name, v[i].name_len);
	if (fd >= 0)
		close(fd);
	free(v);
	return found;
}

int pm_tree_has_client(const pid_t *pids, size_t n)
{
	struct inodes ours = { 0 };
	int r = 0;

	for (size_t i = 0; r == 0 && i < n; i++)
		r = socket_inodes(pids[i], &ours);
	if (r == 0 && ours.n > 0)
		r = tcp_client("/proc/net/tcp", &ours) ||
		    tcp_client("/proc/net/tcp6", &ours) || unix_client(&ours);
	free(ours.v);
	return r;
}
