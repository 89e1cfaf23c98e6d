/*
 * test-tree.c - a daemon's process tree: its live descendants (through the
 * children files, and by a scan of /proc), their memory, and whether one
 * of them serves a connected client. Real process trees, real sockets.
 */
#include "internal.h"
#include "testutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static char *dir;

static void setup(void)
{
	dir = tu_tmpdir();
}

static void teardown(void)
{
	free(dir);
}

/* A child that dies with its parent, pausing (or running fn first). */
static pid_t kid(void (*fn)(void *), void *arg)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (fn)
			fn(arg);
		for (;;)
			pause();
	}
	return pid;
}

static void grandchild(void *arg)
{
	int *w = arg;
	pid_t g = kid(NULL, NULL);

	ck_assert_int_eq(write(*w, &g, sizeof(g)), (ssize_t)sizeof(g));
}

struct family {
	int w;			/* A, B and Z are reported here */
	int wc;			/* C, by B */
};

/*
 * The root of a test tree: children A and B (B with a grandchild C), and
 * Z, which exits at once and is never reaped (a zombie).
 */
static void root_main(void *arg)
{
	struct family *f = arg;
	pid_t a, b, z;

	a = kid(NULL, NULL);
	b = kid(grandchild, &f->wc);
	z = fork();
	if (z == 0)
		_exit(0);
	ck_assert_int_eq(write(f->w, &a, sizeof(a)), (ssize_t)sizeof(a));
	ck_assert_int_eq(write(f->w, &b, sizeof(b)), (ssize_t)sizeof(b));
	ck_assert_int_eq(write(f->w, &z, sizeof(z)), (ssize_t)sizeof(z));
	for (;;)
		pause();
}

static bool has(const pid_t *v, size_t n, pid_t pid)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == pid)
			return true;
	return false;
}

/* The tree's pids: C, A, B, then the zombie Z. */
static pid_t family(pid_t *ret_pids)
{
	struct family f;
	int p[2], c[2];
	pid_t root;

	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(pipe(c), 0);
	f.w = p[1];
	f.wc = c[1];
	root = tu_fork(root_main, &f);
	close(p[1]);
	close(c[1]);
	ck_assert_int_eq(read(c[0], &ret_pids[0], sizeof(pid_t)),
			 (ssize_t)sizeof(pid_t));
	for (int i = 1; i < 4; i++)
		ck_assert_int_eq(read(p[0], &ret_pids[i], sizeof(pid_t)),
				 (ssize_t)sizeof(pid_t));
	close(p[0]);
	close(c[0]);
	/* Z is a zombie once it has exited: wait for that. */
	for (int i = 0; i < 1000 && procmgr_pid_alive(ret_pids[3]); i++)
		tu_sleep(0.01);
	return root;
}

static void check_family(int (*fn)(pid_t, pid_t **, unsigned long long **,
				   size_t *))
{
	unsigned long long *starts, start;
	pid_t got[4], *pids, root = family(got);
	size_t n;
	char state;

	ck_assert_int_eq(fn(root, &pids, &starts, &n), 0);
	ck_assert_uint_eq(n, 3);
	for (int i = 0; i < 3; i++)
		ck_assert_msg(has(pids, n, got[i]), "pid %d missing", got[i]);
	ck_assert(!has(pids, n, got[3]));	/* a zombie needs no signal */
	ck_assert(!has(pids, n, root));
	for (size_t i = 0; i < n; i++) {
		ck_assert_int_eq(pm_proc_stat(pids[i], &state, &start), 0);
		ck_assert_uint_eq(starts[i], start);
	}
	free(pids);
	free(starts);
	tu_kill(root);
}

START_TEST(test_descendants)
{
	check_family(pm_tree);
}
END_TEST

/* The fallback for kernels without children files finds the same. */
START_TEST(test_descendants_by_scan)
{
	check_family(pm_tree_scan);
}
END_TEST

static void *thread_forks(void *arg)
{
	int *w = arg;
	pid_t k = kid(NULL, NULL);

	ck_assert_int_eq(write(*w, &k, sizeof(k)), (ssize_t)sizeof(k));
	for (;;)
		pause();
	return NULL;
}

/* A second thread's child is in that thread's children file. */
static void threaded_root(void *arg)
{
	pthread_t t;

	ck_assert_int_eq(pthread_create(&t, NULL, thread_forks, arg), 0);
	for (;;)
		pause();
}

START_TEST(test_children_of_threads)
{
	unsigned long long *starts;
	int p[2];
	pid_t root, k, *pids;
	size_t n;

	ck_assert_int_eq(pipe(p), 0);
	root = tu_fork(threaded_root, &p[1]);
	ck_assert_int_eq(read(p[0], &k, sizeof(k)), (ssize_t)sizeof(k));
	close(p[0]);
	close(p[1]);
	ck_assert_int_eq(pm_tree(root, &pids, &starts, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(pids[0], k);
	free(pids);
	free(starts);
	tu_kill(root);
}
END_TEST

/* A process without descendants, a dead one: none, and no error. */
START_TEST(test_empty_and_gone)
{
	unsigned long long *starts = (void *)1;
	pid_t *pids = (void *)1, lone = kid(NULL, NULL);
	size_t n = 99;

	tu_track(lone);
	ck_assert_int_eq(pm_tree(lone, &pids, &starts, &n), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(pids);
	ck_assert_int_eq(pm_tree(tu_dead_pid(), &pids, &starts, &n), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(pm_tree_scan(tu_dead_pid(), &pids, &starts, &n), 0);
	ck_assert_uint_eq(n, 0);
}
END_TEST

START_TEST(test_stat_fields)
{
	pid_t ppid, sid;
	long threads;
	unsigned long long start;
	char state;

	ck_assert_int_eq(pm_parse_stat_more("42 (a) (b)) S 7 8 9 0 0 0 0 0 0 "
					    "0 0 0 0 0 20 0 3 0 123 0\n",
					    &ppid, &sid, &threads), 0);
	ck_assert_int_eq(ppid, 7);
	ck_assert_int_eq(sid, 9);
	ck_assert_int_eq(threads, 3);
	ck_assert_int_eq(pm_parse_stat_more("42 (a) S 7 x", &ppid, &sid,
					    &threads), -EBADMSG);
	ck_assert_int_eq(pm_parse_stat_more("42 a S 7", &ppid, &sid,
					    &threads), -EBADMSG);
	ck_assert_int_eq(pm_parse_stat_more("42 (a) S 1 2", &ppid, &sid,
					    &threads), -EBADMSG);
	ck_assert_int_eq(pm_proc_info(getpid(), &state, &start, &ppid, &sid,
				      &threads), 0);
	ck_assert_int_eq(ppid, getppid());
	ck_assert_int_eq(sid, getsid(0));
	ck_assert_int_ge(threads, 1);
	ck_assert_int_eq(pm_proc_info(tu_dead_pid(), &state, &start, &ppid,
				      &sid, &threads), -ESRCH);
}
END_TEST

START_TEST(test_rss)
{
	ck_assert_uint_gt(pm_proc_rss(getpid()), 4096);
	ck_assert_uint_eq(pm_proc_rss(tu_dead_pid()), 0);
}
END_TEST

/* ---- connected clients -------------------------------------------- */

struct server {
	int port;		/* TCP, or 0 */
	char path[108];		/* unix, or "" */
	int ready_w;
};

/* Listen, say so, and accept forever, keeping every connection open. */
static void serve(void *arg)
{
	struct server *s = arg;
	struct sockaddr_in in = { .sin_family = AF_INET };
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	int fd, one = 1;

	if (s->port) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		ck_assert_int_eq(bind(fd, (struct sockaddr *)&in, sizeof(in)),
				 0);
		socklen_t len = sizeof(in);

		getsockname(fd, (struct sockaddr *)&in, &len);
		s->port = ntohs(in.sin_port);
	} else {
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		memcpy(un.sun_path, s->path, strlen(s->path) + 1);
		ck_assert_int_eq(bind(fd, (struct sockaddr *)&un, sizeof(un)),
				 0);
	}
	ck_assert_int_eq(listen(fd, 8), 0);
	ck_assert_int_eq(write(s->ready_w, &s->port, sizeof(s->port)),
			 (ssize_t)sizeof(s->port));
	for (;;)
		accept(fd, NULL, NULL);	/* leaked on purpose: held open */
}

static pid_t server(struct server *s)
{
	int p[2];
	pid_t pid;

	ck_assert_int_eq(pipe(p), 0);
	s->ready_w = p[1];
	pid = tu_fork(serve, s);
	ck_assert_int_eq(read(p[0], &s->port, sizeof(s->port)),
			 (ssize_t)sizeof(s->port));
	close(p[0]);
	close(p[1]);
	return pid;
}

static int client(const struct server *s)
{
	struct sockaddr_in in = { .sin_family = AF_INET };
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	int fd;

	if (s->path[0]) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		memcpy(un.sun_path, s->path, strlen(s->path) + 1);
		ck_assert_int_eq(connect(fd, (struct sockaddr *)&un,
					 sizeof(un)), 0);
	} else {
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		in.sin_port = htons((uint16_t)s->port);
		in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		ck_assert_int_eq(connect(fd, (struct sockaddr *)&in,
					 sizeof(in)), 0);
	}
	return fd;
}

/* Wait (generously) until pm_tree_has_client() of pid says want. */
static bool client_is(pid_t pid, int want)
{
	for (int i = 0; i < 500; i++) {
		if (pm_tree_has_client(&pid, 1) == want)
			return true;
		tu_sleep(0.01);
	}
	return false;
}

static void check_clients(struct server *s)
{
	pid_t pid = server(s);
	int fd;

	/* Listening alone is no client. */
	ck_assert_int_eq(pm_tree_has_client(&pid, 1), 0);
	fd = client(s);
	ck_assert(client_is(pid, 1));
	close(fd);
	/*
	 * The client hung up, the server did not close its end: a TCP one is
	 * in CLOSE_WAIT, a unix one shut down both ways (sock_diag).
	 */
	ck_assert(client_is(pid, 0));
	tu_kill(pid);
}

START_TEST(test_tcp_client)
{
	struct server s = { .port = 1 };

	check_clients(&s);
}
END_TEST

START_TEST(test_unix_client)
{
	struct server s = { .port = 0 };

	snprintf(s.path, sizeof(s.path), "%s/sock", dir);
	check_clients(&s);
}
END_TEST

/* A connection the process made to someone else's server is no client. */
static void dial(void *arg)
{
	int fd = client(arg);

	(void)fd;	/* held open until killed */
	for (;;)
		pause();
}

START_TEST(test_outgoing_is_not_a_client)
{
	struct server s = { .port = 1 };
	pid_t srv = server(&s), caller = tu_fork(dial, &s);

	ck_assert(client_is(srv, 1));	/* the server does have one */
	ck_assert_int_eq(pm_tree_has_client(&caller, 1), 0);
	ck_assert_int_eq(pm_tree_has_client(NULL, 0), 0);
	tu_kill(caller);
	tu_kill(srv);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("tree");
	TCase *tc = tcase_create("tree");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_descendants);
	tcase_add_test(tc, test_descendants_by_scan);
	tcase_add_test(tc, test_empty_and_gone);
	tcase_add_test(tc, test_children_of_threads);
	tcase_add_test(tc, test_stat_fields);
	tcase_add_test(tc, test_rss);
	tcase_add_test(tc, test_tcp_client);
	tcase_add_test(tc, test_unix_client);
	tcase_add_test(tc, test_outgoing_is_not_a_client);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(suite());
}
