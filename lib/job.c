/*
 * job.c - what a starter hands to procmgr-monitor, and what the monitor
 * answers.
 *
 * The monitor is its own program (SPEC §6), so everything it needs to run
 * and supervise the daemon travels as bytes: the starter encodes a job into
 * a sealed memfd (no size limit, no partial reads, nothing on disk), the
 * monitor decodes it. The encoding is a list of records, each a 32-bit tag,
 * a 32-bit length and that many bytes; strings carry their NUL, numbers are
 * 64-bit. Repeated tags build lists (argv, envp, the signal chain). The
 * decoder trusts nothing: every length is checked against what is left.
 *
 * The answer, on a SOCK_SEQPACKET pair, is one fixed-size struct pm_result
 * per message.
 */
#include "internal.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum tag {
	T_VERSION = 1, T_EXE, T_ARG, T_ENV, T_CWD, T_LOG, T_FINGERPRINT,
	T_INPUTS, T_PROCESS_NAME, T_READY_KIND, T_READY_FD, T_READY_PORT,
	T_READY_PATH, T_READY_TIMEOUT, T_KILL_ON_TIMEOUT, T_SIGNAL,
	T_KILL_WAIT, T_KILL_MODE, T_RESTART, T_RESTART_LIMIT, T_IDLE,
	T_WATCHDOG, T_PID_FILE, T_REASON, T_HAS_LOCK,
	T_END,			/* last: a job cut short never decodes */
};

#define PM_JOB_VERSION 1
#define PM_JOB_MAX (64 << 20)	/* argv + environment, bytes */

struct buf {
	char *data;
	size_t len, cap;
	bool oom;
};

static void put(struct buf *b, uint32_t tag, const void *data, size_t len)
{
	uint32_t head[2] = { tag, (uint32_t)len };
	size_t need = b->len + sizeof(head) + len;
	char *nd;

	if (b->oom)
		return;
	if (need > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 4096;

		while (cap < need)
			cap *= 2;
		nd = realloc(b->data, cap);
		if (!nd) {
			b->oom = true;
			return;
		}
		b->data = nd;
		b->cap = cap;
	}
	memcpy(b->data + b->len, head, sizeof(head));
	if (len)
		memcpy(b->data + b->len + sizeof(head), data, len);
	b->len = need;
}

static void put_str(struct buf *b, uint32_t tag, const char *s)
{
	if (s)
		put(b, tag, s, strlen(s) + 1);
}

static void put_num(struct buf *b, uint32_t tag, int64_t v)
{
	put(b, tag, &v, sizeof(v));
}

static void put_real(struct buf *b, uint32_t tag, double v)
{
	put(b, tag, &v, sizeof(v));
}

int pm_job_encode(const struct pm_job *j, char **ret, size_t *ret_len)
{
	struct buf b = { 0 };

	put_num(&b, T_VERSION, PM_JOB_VERSION);
	put_str(&b, T_EXE, j->exe);
	for (char *const *a = j->argv; a && *a; a++)
		put_str(&b, T_ARG, *a);
	for (char *const *e = j->envp; e && *e; e++)
		put_str(&b, T_ENV, *e);
	put_str(&b, T_CWD, j->cwd);
	put_str(&b, T_LOG, j->log_path);
	put_str(&b, T_FINGERPRINT, j->fingerprint);
	put_str(&b, T_INPUTS, j->inputs);
	put_str(&b, T_PROCESS_NAME, j->process_name);
	put_num(&b, T_READY_KIND, j->ready.kind);
	put_num(&b, T_READY_FD, j->ready.fd);
	put_num(&b, T_READY_PORT, j->ready.port);
	put_str(&b, T_READY_PATH, j->ready.path);
	put_real(&b, T_READY_TIMEOUT, j->ready_timeout);
	put_num(&b, T_KILL_ON_TIMEOUT, j->kill_on_timeout);
	for (size_t i = 0; i < j->stop.n_signals; i++)
		put_num(&b, T_SIGNAL, j->stop.signals[i]);
	put_real(&b, T_KILL_WAIT, j->stop.kill_wait);
	put_num(&b, T_KILL_MODE, j->stop.kill_mode);
	put_num(&b, T_RESTART, j->restart);
	put_num(&b, T_RESTART_LIMIT, j->restart_limit);
	put_real(&b, T_IDLE, j->idle_timeout);
	put_real(&b, T_WATCHDOG, j->watchdog);
	put_str(&b, T_PID_FILE, j->pid_file);
	put_str(&b, T_REASON, j->reason);
	put_num(&b, T_HAS_LOCK, j->has_lock);
	put(&b, T_END, NULL, 0);
	if (b.oom) {
		free(b.data);
		return -ENOMEM;
	}
	*ret = b.data;
	*ret_len = b.len;
	return 0;
}

/* Append s (copied) to the NULL-terminated list *v of *n entries. */
static int push(char ***v, size_t *n, const char *s)
{
	char **nv = realloc(*v, (*n + 2) * sizeof(**v));

	if (!nv)
		return -ENOMEM;
	*v = nv;
	nv[*n] = strdup(s);
	if (!nv[*n])
		return -ENOMEM;
	nv[++*n] = NULL;
	return 0;
}

static int take_str(const char *p, uint32_t len, char **ret)
{
	if (len == 0 || p[len - 1] != '\0' || memchr(p, '\0', len) !=
						   p + len - 1)
		return -EBADMSG;
	free(*ret);
	*ret = strdup(p);
	return *ret ? 0 : -ENOMEM;
}

static int take_num(const char *p, uint32_t len, int64_t *ret)
{
	if (len != sizeof(*ret))
		return -EBADMSG;
	memcpy(ret, p, sizeof(*ret));
	return 0;
}

static int take_real(const char *p, uint32_t len, double *ret)
{
	if (len != sizeof(*ret))
		return -EBADMSG;
	memcpy(ret, p, sizeof(*ret));
	/* NaN compares false with everything: refuse it outright. */
	return *ret == *ret ? 0 : -EBADMSG;
}

/* A number that must lie in [lo, hi]. */
static int take_int(const char *p, uint32_t len, int64_t lo, int64_t hi,
		    int *ret)
{
	int64_t v = 0;
	int r = take_num(p, len, &v);

	if (r < 0 || v < lo || v > hi)
		return -EBADMSG;
	*ret = (int)v;
	return 0;
}

static int take_signal(struct pm_job *j, const char *p, uint32_t len)
{
	int sig, r;

	if (j->stop.n_signals == PM_CHAIN_MAX)
		return -EBADMSG;
	r = take_int(p, len, 1, 64, &sig);
	if (r == 0)
		j->stop.signals[j->stop.n_signals++] = sig;
	return r;
}

static int take(struct pm_job *j, uint32_t tag, const char *p, uint32_t len)
{
	int64_t v = 0;
	int r;

	switch (tag) {
	case T_VERSION:
		r = take_num(p, len, &v);
		return r < 0 || v != PM_JOB_VERSION ? -EPROTO : 0;
	case T_EXE:
		return take_str(p, len, &j->exe);
	case T_ARG:
	case T_ENV: {
		char *s = NULL;

		r = take_str(p, len, &s);
		if (r == 0)
			r = tag == T_ARG ? push(&j->argv, &j->n_argv, s) :
					   push(&j->envp, &j->n_envp, s);
		free(s);
		return r;
	}
	case T_CWD:
		return take_str(p, len, &j->cwd);
	case T_LOG:
		return take_str(p, len, &j->log_path);
	case T_FINGERPRINT:
		return take_str(p, len, &j->fingerprint);
	case T_INPUTS:
		return take_str(p, len, &j->inputs);
	case T_PROCESS_NAME:
		return take_str(p, len, &j->process_name);
	case T_READY_KIND:
		return take_int(p, len, PROCMGR_READY_EXEC, PROCMGR_READY_UNIX,
				(int *)&j->ready.kind);
	case T_READY_FD:
		return take_int(p, len, 0, 1023, &j->ready.fd);
	case T_READY_PORT:
		return take_int(p, len, 0, 65535, &j->ready.port);
	case T_READY_PATH:
		return take_str(p, len, &j->ready.path);
	case T_READY_TIMEOUT:
		return take_real(p, len, &j->ready_timeout);
	case T_KILL_ON_TIMEOUT:
		r = take_num(p, len, &v);
		j->kill_on_timeout = v != 0;
		return r;
	case T_SIGNAL:
		return take_signal(j, p, len);
	case T_KILL_WAIT:
		return take_real(p, len, &j->stop.kill_wait);
	case T_KILL_MODE:
		return take_int(p, len, PROCMGR_KILL_TREE, PROCMGR_KILL_PROCESS,
				(int *)&j->stop.kill_mode);
	case T_RESTART:
		return take_int(p, len, PROCMGR_RESTART_NO,
				PROCMGR_RESTART_ALWAYS, (int *)&j->restart);
	case T_RESTART_LIMIT:
		return take_int(p, len, 0, 1 << 30, &j->restart_limit);
	case T_IDLE:
		return take_real(p, len, &j->idle_timeout);
	case T_WATCHDOG:
		return take_real(p, len, &j->watchdog);
	case T_PID_FILE:
		return take_str(p, len, &j->pid_file);
	case T_REASON:
		return take_str(p, len, &j->reason);
	case T_HAS_LOCK:
		r = take_num(p, len, &v);
		j->has_lock = v != 0;
		return r;
	case T_END:
		return len == 0 ? 1 : -EBADMSG;
	default:
		return -EBADMSG;	/* same version, so no unknown tags */
	}
}

int pm_job_decode(const char *data, size_t len, struct pm_job *ret)
{
	struct pm_job j = { .ready_timeout = -1, .stop.kill_wait = -1 };
	uint32_t head[2];
	size_t off = 0;
	bool end = false;
	int r = 0;

	if (len > PM_JOB_MAX)
		return -EMSGSIZE;
	while (r == 0 && off < len) {
		if (len - off < sizeof(head)) {
			r = -EBADMSG;
			break;
		}
		memcpy(head, data + off, sizeof(head));
		off += sizeof(head);
		if (head[1] > len - off) {
			r = -EBADMSG;
			break;
		}
		/* The version comes first: a mismatch is named, not garbled. */
		if (off == sizeof(head) && head[0] != T_VERSION)
			r = -EPROTO;
		else
			r = take(&j, head[0], data + off, head[1]);
		off += head[1];
		/* The end marker must be the very last record. */
		if (r == 1) {
			end = true;
			r = off == len ? 0 : -EBADMSG;
		}
	}
	if (r == 0 && (!end || !j.exe || !j.argv || !j.envp || !j.cwd ||
		       !j.log_path))
		r = -EBADMSG;
	if (r < 0) {
		pm_job_clear(&j);
		return r;
	}
	*ret = j;
	return 0;
}

void pm_job_clear(struct pm_job *j)
{
	if (!j)
		return;
	free(j->exe);
	procmgr_strv_free(j->argv);
	procmgr_strv_free(j->envp);
	free(j->cwd);
	free(j->log_path);
	free(j->fingerprint);
	free(j->inputs);
	free(j->process_name);
	free(j->ready.path);
	free(j->pid_file);
	free(j->reason);
	memset(j, 0, sizeof(*j));
}
