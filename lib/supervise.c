/*
 * supervise.c - the library's side of supervision (SPEC §6): finding a
 * daemon's monitor and every monitor of the user, telling a monitor about
 * a use, the tree's memory, and the words and sizes of the options.
 *
 * A monitor records itself in key monitor as "<pid> <start ticks> <boot
 * id>": a pid alone could name a stranger by now. Its notify socket, an
 * abstract unix address the kernel picked, is in key notify_socket; a
 * use is one datagram there, "X_PROCMGR_TOUCH=1" (sd_notify's convention
 * for variables of one's own).
 */
#include "internal.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static const char *const restart_names[] = {
	[PROCMGR_RESTART_NO] = "no",
	[PROCMGR_RESTART_ON_FAILURE] = "on-failure",
	[PROCMGR_RESTART_ALWAYS] = "always",
};

int procmgr_restart_parse(const char *s)
{
	for (int i = 0; s && i <= PROCMGR_RESTART_ALWAYS; i++)
		if (!strcmp(s, restart_names[i]))
			return i;
	return -EINVAL;
}

const char *procmgr_restart_name(enum procmgr_restart_policy r)
{
	return (unsigned)r <= PROCMGR_RESTART_ALWAYS ? restart_names[r] : NULL;
}

/* The abstract address "@xxxxx" of key notify_socket, as sockaddr_un. */
static int notify_addr(procmgr *h, struct sockaddr_un *sa, socklen_t *len)
{
	char *v = NULL;
	size_t n;
	int r = procmgr_read(h, "notify_socket", &v);

	if (r < 0)
		return r;
	n = strlen(v);
	r = -EBADMSG;
	if (v[0] == '@' && n > 1 && n < sizeof(sa->sun_path)) {
		memset(sa, 0, sizeof(*sa));
		sa->sun_family = AF_UNIX;
		memcpy(sa->sun_path + 1, v + 1, n - 1);
		*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
		r = 0;
	}
	free(v);
	return r;
}

int procmgr_touch(procmgr *h)
{
	static const char msg[] = "X_PROCMGR_TOUCH=1";
	struct sockaddr_un sa;
	socklen_t len;
	int fd, r;

	r = pm_check_open(h);
	if (r < 0)
		return r;
	if (notify_addr(h, &sa, &len) < 0)
		return 0;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return pm_error(h, errno, "cannot touch %s: socket: %s",
				h->name, strerror(errno));
	/* ECONNREFUSED: no monitor listens any more; nothing to re-arm. */
	sendto(fd, msg, sizeof(msg) - 1, MSG_NOSIGNAL, (struct sockaddr *)&sa,
	       len);
	close(fd);
	return 0;
}

int procmgr_tree_rss(procmgr *h, uint64_t *ret_bytes)
{
	struct procmgr_status st = { 0 };
	unsigned long long *starts = NULL;
	pid_t *pids = NULL, root;
	uint64_t sum = 0;
	size_t n = 0;
	int r;

	r = procmgr_status(h, &st);
	if (r < 0)
		return r;
	if (st.state != PROCMGR_RUNNING) {
		procmgr_status_clear(&st);
		return pm_error(h, ESRCH, "%s is not running", h->name);
	}
	root = st.monitor > 0 ? st.monitor : st.pid;
	if (root == st.pid)
		sum = pm_proc_rss(st.pid);
	r = pm_tree(root, &pids, &starts, &n);
	for (size_t i = 0; r == 0 && i < n; i++)
		sum += pm_proc_rss(pids[i]);
	free(pids);
	free(starts);
	procmgr_status_clear(&st);
	if (r < 0)
		return pm_error(h, -r, "cannot read the process tree of %s: %s",
				h->name, strerror(-r));
	*ret_bytes = sum;
	return 0;
}

/* ---- every monitor of the user ------------------------------------ */

static int cmp_monitor(const void *a, const void *b)
{
	const struct procmgr_monitor *x = a, *y = b;
	int c = strcmp(x->dir, y->dir);

	return c ? c : strcmp(x->name, y->name);
}

/*
 * "procmgr-monitor DIR NAME" of pid: 1 (with copies of DIR and NAME) when
 * it is a monitor's command line, 0 when not.
 */
static int monitor_args(pid_t pid, char **ret_dir, char **ret_name)
{
	char path[64], buf[8192], *argv[4] = { 0 };
	const char *base;
	size_t off = 0;
	ssize_t n;
	int argc = 0;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	n = pm_read_once(path, buf, sizeof(buf));
	if (n <= 0 || buf[n - 1] != '\0')
		return 0;
	while (off < (size_t)n && argc < 4) {
		argv[argc++] = buf + off;
		off += strlen(buf + off) + 1;
	}
	if (argc != 3 || off != (size_t)n || argv[1][0] != '/')
		return 0;
	base = strrchr(argv[0], '/');
	base = base ? base + 1 : argv[0];
	if (strcmp(base, PM_MONITOR_NAME))
		return 0;
	*ret_dir = strdup(argv[1]);
	*ret_name = strdup(argv[2]);
	if (!*ret_dir || !*ret_name) {
		free(*ret_dir);
		free(*ret_name);
		return -ENOMEM;
	}
	return 1;
}

void procmgr_monitors_free(struct procmgr_monitor *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].dir);
		free(v[i].name);
	}
	free(v);
}

int procmgr_monitors(struct procmgr_monitor **ret, size_t *ret_n)
{
	struct procmgr_monitor *v = NULL, *nv;
	size_t n = 0, cap = 0;
	struct dirent *e;
	DIR *d = opendir("/proc");
	int r = 0;

	if (!d)
		return -errno;
	while (r >= 0 && (e = readdir(d))) {
		pid_t pid = (pid_t)atoi(e->d_name);
		char *dir = NULL, *name = NULL;
		uid_t uid;

		if (pid <= 1)
			continue;
		/* a monitor left out for want of memory would be missed */
		r = pm_proc_uid(pid, &uid);
		if (r == -ENOMEM)
			break;
		if (r < 0 || uid != getuid() || !procmgr_pid_alive(pid)) {
			r = 0;
			continue;
		}
		r = monitor_args(pid, &dir, &name);
		if (r <= 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				free(dir);
				free(name);
				r = -ENOMEM;
				break;
			}
			v = nv;
		}
		v[n++] = (struct procmgr_monitor){ dir, name, pid };
	}
	closedir(d);
	if (r < 0) {
		procmgr_monitors_free(v, n);
		return r;
	}
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_monitor);
	*ret = v;
	*ret_n = n;
	return 0;
}

/* ---- sizes --------------------------------------------------------- */

static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB",
				     "PiB", "EiB" };

void procmgr_format_size(uint64_t bytes, char *buf, size_t size)
{
	double v = (double)bytes;
	size_t u = 0;

	while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		u++;
	}
	if (u == 0 || v == (double)(uint64_t)v)
		snprintf(buf, size, "%.0f %s", v, units[u]);
	else
		snprintf(buf, size, "%.1f %s", v, units[u]);
}

int procmgr_size_parse(const char *s, uint64_t *ret_bytes)
{
	static const char suffixes[] = "KMGTPE";
	const char *p;
	double v, mult = 1;
	char *end;

	if (!s || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || strspn(s, "0123456789.") != (size_t)(end - s))
		return -EINVAL;
	if (*end && (p = strchr(suffixes, toupper((unsigned char)*end)))) {
		for (const char *q = suffixes; q <= p; q++)
			mult *= 1024;
		end++;
		/* "4G", "4GB", "4GiB" all mean 4 * 1024^3 */
		if (!strcasecmp(end, "ib") || !strcasecmp(end, "b"))
			end += strlen(end);
	} else if (!strcasecmp(end, "b")) {
		end++;
	}
	if (*end || v * mult >= 18446744073709551615.0)
		return -EINVAL;
	*ret_bytes = (uint64_t)(v * mult);
	return 0;
}
