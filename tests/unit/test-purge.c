/*
 * test-purge.c - procmgr_purge() and compare-and-delete (lib/purge.c).
 *
 * Ports pants' process_manager_test.py test_purge_metadata and
 * test_purge_metadata_error (pants mocks rmtree failing; here the refusal
 * comes from a real running process). The race with a successor is made
 * deterministic with a fanotify permission event: the kernel holds the
 * purge's open() of the pid file while the "successor" writes.
 */
#include "internal.h"
#include "sleeper.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
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

/* Entries of DIR/HOSTFP whose name starts with ".web.purge.". */
static int asides(procmgr *h)
{
	DIR *d = opendir(tu_host_dir(h));
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, ".web.purge.", 11))
			n++;
	closedir(d);
	return n;
}

/* test_purge_metadata: a stale NAME is purged; its log stays. */
START_TEST(test_purge_metadata)
{
	procmgr *h = tu_open(dir, "web");
	char *log;

	record_pid(h, tu_dead_pid(), false);
	ck_assert_int_eq(procmgr_write(h, "socket", "1234"), 0);
	log = pm_asprintf("%s.log", procmgr_meta_dir(h));
	tu_write_file(log, "x\n", 2);
	ck_assert_int_eq(procmgr_purge(h, false), 0);
	ck_assert(!tu_exists(procmgr_meta_dir(h)));
	ck_assert(tu_exists(log));
	ck_assert_int_eq(asides(h), 0);
	ck_assert_int_eq(procmgr_lock_held(h), 0);
	/* absent: nothing to do */
	ck_assert_int_eq(procmgr_purge(h, false), 0);
	free(log);
	procmgr_free(h);
}
END_TEST

/* test_purge_metadata_error: a running NAME is refused without force. */
START_TEST(test_purge_running_refused)
{
	procmgr *h = tu_open(dir, "web");
	pid_t pid = start_sleeper(dir, NULL, NULL);
	char *want, *v;

	record_pid(h, pid, true);
	ck_assert_int_eq(procmgr_purge(h, false), -EBUSY);
	want = pm_asprintf("web is running (pid %d); stop it first",
			   (int)pid);
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h), want));
	ck_assert_str_eq(procmgr_errparam(h), "force");
	ck_assert_ptr_null(strstr(procmgr_errmsg(h), "--"));
	free(want);
	v = tu_key(h, "pid");
	ck_assert_ptr_nonnull(v);
	ck_assert_int_eq(atoi(v), pid);
	free(v);
	/* force removes the metadata and signals nothing */
	ck_assert_int_eq(procmgr_purge(h, true), 0);
	ck_assert(!tu_exists(procmgr_meta_dir(h)));
	ck_assert_int_eq(procmgr_pid_alive(pid), 1);
	procmgr_free(h);
}
END_TEST

START_TEST(test_purge_absent_and_locked)
{
	procmgr *h = tu_open(dir, "web"), *other = tu_open(dir, "web");
	char *sub = pm_asprintf("%s/none", dir);
	procmgr *n = tu_open(sub, "web");

	/* no DIR at all */
	ck_assert_int_eq(pm_meta_remove_if(n, 0), 0);
	ck_assert_int_eq(procmgr_purge(n, false), 0);
	record_pid(h, tu_dead_pid(), false);
	ck_assert_int_eq(procmgr_lock(other), 0);
	procmgr_set_lock_wait(h, 0, NULL, NULL);
	ck_assert_int_eq(procmgr_purge(h, true), -EWOULDBLOCK);
	ck_assert(tu_exists(procmgr_meta_dir(h)));
	ck_assert_int_eq(procmgr_unlock(other), 0);
	ck_assert_int_eq(procmgr_purge(h, false), 0);
	procmgr_free(n);
	procmgr_free(other);
	procmgr_free(h);
	free(sub);
}
END_TEST

/* The pid changed between read and delete: nothing is removed. */
START_TEST(test_compare_and_delete)
{
	procmgr *h = tu_open(dir, "web");
	pid_t pid = tu_dead_pid();
	char *v;

	record_pid(h, pid, false);
	ck_assert_int_eq(procmgr_write(h, "fingerprint", "fp"), 0);
	ck_assert_int_eq(pm_meta_remove_if(h, pid + 1), -ESTALE);
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h), "changed"));
	v = tu_key(h, "pid");
	ck_assert_int_eq(atoi(v), pid);
	free(v);
	v = tu_key(h, "fingerprint");
	ck_assert_str_eq(v, "fp");
	free(v);
	ck_assert_int_eq(asides(h), 0);
	ck_assert_int_eq(pm_meta_remove_if(h, 0), -ESTALE);
	ck_assert(tu_exists(procmgr_meta_dir(h)));
	ck_assert_int_eq(pm_meta_remove_if(h, pid), 0);
	ck_assert(!tu_exists(procmgr_meta_dir(h)));
	/* an unparsable pid is expected as 0 */
	ck_assert_int_eq(procmgr_write(h, "pid", "garbage"), 0);
	ck_assert_int_eq(pm_meta_remove_if(h, 1234), -ESTALE);
	ck_assert_int_eq(pm_meta_remove_if(h, 0), 0);
	ck_assert(!tu_exists(procmgr_meta_dir(h)));
	ck_assert_int_eq(asides(h), 0);
	procmgr_free(h);
}
END_TEST

struct successor {
	int fan;
	const char *meta_dir;
	int events;
	bool as_file;	/* NAME comes back as a file, not a directory */
	bool immutable;	/* ... as an immutable directory: no key moves in */
};

/*
 * Wait for the purge to open the (moved aside) pid file; before letting
 * the open go on, create NAME anew with a pid and a socket, as a successor
 * writing its metadata in that window would.
 */
static void *successor_main(void *arg)
{
	struct successor *s = arg;
	struct fanotify_event_metadata ev;
	struct fanotify_response resp;
	char path[PATH_MAX];

	while (read(s->fan, &ev, sizeof(ev)) == (ssize_t)sizeof(ev)) {
		if (s->events++ == 0 && s->as_file) {
			tu_write_file(s->meta_dir, "junk", 4);
		} else if (s->events == 1) {
			mkdir(s->meta_dir, 0700);
			snprintf(path, sizeof(path), "%s/pid", s->meta_dir);
			tu_write_file(path, "4242", 4);
			snprintf(path, sizeof(path), "%s/socket", s->meta_dir);
			tu_write_file(path, "9999", 4);
			if (s->immutable)
				tu_immutable(s->meta_dir, true);
		}
		resp.fd = ev.fd;
		resp.response = FAN_ALLOW;
		if (write(s->fan, &resp, sizeof(resp)) != sizeof(resp))
			break;
		close(ev.fd);
		break;
	}
	return NULL;
}

/*
 * Start the successor thread on h's pid file; false (the caller skips the
 * test) where fanotify needs a capability we lack.
 */
static bool successor_start(procmgr *h, struct successor *s, pthread_t *t)
{
	char *p;

	s->fan = fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC, O_RDONLY);
	if (s->fan < 0 && (errno == EPERM || errno == ENOSYS))
		return false;
	ck_assert_int_ge(s->fan, 0);
	p = pm_asprintf("%s/pid", procmgr_meta_dir(h));
	ck_assert_int_eq(fanotify_mark(s->fan, FAN_MARK_ADD, FAN_OPEN_PERM,
				       AT_FDCWD, p), 0);
	free(p);
	s->meta_dir = procmgr_meta_dir(h);
	ck_assert_int_eq(pthread_create(t, NULL, successor_main, s), 0);
	return true;
}

/* A successor that re-created NAME meanwhile keeps all of its keys. */
START_TEST(test_successor_in_the_window)
{
	procmgr *h = tu_open(dir, "web");
	struct successor s = { .meta_dir = NULL };
	pid_t pid = tu_dead_pid();
	pthread_t t;
	char *v;

	record_pid(h, pid, false);
	ck_assert_int_eq(procmgr_write(h, "fingerprint", "old-fp"), 0);
	ck_assert_int_eq(procmgr_write(h, "socket", "1111"), 0);
	if (!successor_start(h, &s, &t)) {
		procmgr_free(h);
		tu_skip("fanotify needs CAP_SYS_ADMIN");
	}
	ck_assert_int_eq(pm_meta_remove_if(h, pid + 1), -ESTALE);
	pthread_join(t, NULL);
	close(s.fan);
	ck_assert_int_eq(s.events, 1);
	/* the newer keys win, the older ones it lacked are back */
	v = tu_key(h, "pid");
	ck_assert_str_eq(v, "4242");
	free(v);
	v = tu_key(h, "socket");
	ck_assert_str_eq(v, "9999");
	free(v);
	v = tu_key(h, "fingerprint");
	ck_assert_str_eq(v, "old-fp");
	free(v);
	ck_assert_int_eq(asides(h), 0);
	procmgr_free(h);
}
END_TEST

/*
 * The successor's directory takes no key from the copy (immutable here; a
 * full or failing disk in life): the copy is kept whole, never removed,
 * and the message says where it is.
 */
START_TEST(test_merge_keeps_what_it_cannot_move)
{
	procmgr *h = tu_open(dir, "web");
	struct successor s = { .immutable = true };
	pid_t pid = tu_dead_pid();
	pthread_t t;
	char *v;
	int r;

	ck_assert_int_eq(procmgr_write(h, "fingerprint", "old-fp"), 0);
	if (tu_immutable(procmgr_meta_dir(h), true) < 0) {
		procmgr_free(h);
		tu_skip("no immutable attribute here");
	}
	ck_assert_int_eq(tu_immutable(procmgr_meta_dir(h), false), 0);
	record_pid(h, pid, false);
	if (!successor_start(h, &s, &t)) {
		procmgr_free(h);
		tu_skip("fanotify needs CAP_SYS_ADMIN");
	}
	r = pm_meta_remove_if(h, pid + 1);
	pthread_join(t, NULL);
	close(s.fan);
	ck_assert_int_eq(tu_immutable(procmgr_meta_dir(h), false), 0);
	ck_assert_int_eq(r, -EPERM);
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h), "by hand"));
	ck_assert_int_eq(asides(h), 1);
	/* the successor's keys are untouched */
	v = tu_key(h, "pid");
	ck_assert_str_eq(v, "4242");
	free(v);
	ck_assert_int_eq(procmgr_read(h, "fingerprint", &v), -ENOENT);
	procmgr_free(h);
}
END_TEST

/*
 * NAME reappears as a file while the copy is aside: the copy cannot go
 * back, so it is kept (never removed) and the message says where it is.
 */
START_TEST(test_put_back_fails)
{
	procmgr *h = tu_open(dir, "web");
	struct successor s = { .as_file = true };
	pid_t pid = tu_dead_pid();
	pthread_t t;
	int r;

	record_pid(h, pid, false);
	if (!successor_start(h, &s, &t)) {
		procmgr_free(h);
		tu_skip("fanotify needs CAP_SYS_ADMIN");
	}
	r = pm_meta_remove_if(h, pid + 1);
	pthread_join(t, NULL);
	close(s.fan);
	ck_assert_int_eq(s.events, 1);
	ck_assert_int_eq(r, -ENOTDIR);
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h), "by hand"));
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h), ".web.purge."));
	ck_assert_int_eq(asides(h), 1);
	procmgr_free(h);
}
END_TEST

/* NAME's directory swapped for a symlink: purge removes nothing. */
START_TEST(test_purge_symlinked_meta_dir)
{
	procmgr *h = tu_open(dir, "web");
	char *elsewhere = pm_asprintf("%s/elsewhere", dir);

	record_pid(h, tu_dead_pid(), false);
	ck_assert_int_eq(rename(procmgr_meta_dir(h), elsewhere), 0);
	ck_assert_int_eq(symlink(elsewhere, procmgr_meta_dir(h)), 0);
	ck_assert_int_eq(procmgr_purge(h, true), -ELOOP);
	ck_assert_int_eq(procmgr_lock_held(h), 0);
	ck_assert(tu_exists(elsewhere));
	ck_assert(tu_exists(procmgr_meta_dir(h)));
	free(elsewhere);
	procmgr_free(h);
}
END_TEST

struct as_other {
	const char *sub;
	int out;
};

static void report(int fd, int r, procmgr *h, const char *want)
{
	/* a failure must say what failed: fold a missing phrase into r */
	if (r < 0 && !strstr(procmgr_errmsg(h), want))
		r = -1000;
	if (write(fd, &r, sizeof(r)) != sizeof(r))
		_exit(1);
}

/*
 * As uid 65533 (root ignores modes): a host directory that cannot be
 * written fails the rename; a metadata directory that cannot be emptied
 * fails the removal, and the message says where the copy went.
 */
static void purge_as_other(void *arg)
{
	struct as_other *a = arg;
	procmgr *h;

	if (!tu_become_other())
		_exit(1);
	h = procmgr_new();
	if (!h || procmgr_open(h, a->sub, "web") < 0 ||
	    procmgr_write(h, "pid", "garbage") < 0)
		_exit(1);
	chmod(tu_host_dir(h), 0500);
	report(a->out, pm_meta_remove_if(h, 0), h, "cannot move");
	chmod(tu_host_dir(h), 0700);
	chmod(procmgr_meta_dir(h), 0500);
	report(a->out, procmgr_purge(h, false), h, "cannot remove");
	procmgr_free(h);
	tu_other_done();
}

START_TEST(test_removal_failures)
{
	struct as_other a;
	char *sub;
	struct pollfd p;
	int fds[2], r[2] = { 0, 0 };
	pid_t child;

	if (geteuid() != 0)
		tu_skip("needs root to act as another user");
	sub = pm_asprintf("%s/other", dir);
	ck_assert_int_eq(chmod(dir, 0755), 0);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	ck_assert_int_eq(chown(sub, 65533, 65533), 0);
	ck_assert_int_eq(pipe2(fds, O_CLOEXEC), 0);
	a = (struct as_other){ .sub = sub, .out = fds[1] };
	child = tu_fork(purge_as_other, &a);
	close(fds[1]);
	for (int i = 0; i < 2; i++) {
		p = (struct pollfd){ .fd = fds[0], .events = POLLIN };
		ck_assert_int_eq(poll(&p, 1, 20000), 1);
		ck_assert_int_eq(read(fds[0], &r[i], sizeof(r[i])),
				 sizeof(r[i]));
	}
	ck_assert_int_eq(r[0], -EACCES);
	ck_assert_int_eq(r[1], -EACCES);
	/* let it finish (and write its coverage) before cleanup kills it */
	tu_wait_gone(child, 10);
	close(fds[0]);
	free(sub);
}
END_TEST

static Suite *purge_suite(void)
{
	Suite *s = suite_create("purge");
	TCase *tc = tcase_create("purge");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_purge_metadata);
	tcase_add_test(tc, test_purge_running_refused);
	tcase_add_test(tc, test_purge_absent_and_locked);
	tcase_add_test(tc, test_compare_and_delete);
	tcase_add_test(tc, test_successor_in_the_window);
	tcase_add_test(tc, test_removal_failures);
	tcase_add_test(tc, test_put_back_fails);
	tcase_add_test(tc, test_merge_keeps_what_it_cannot_move);
	tcase_add_test(tc, test_purge_symlinked_meta_dir);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(purge_suite());
}
