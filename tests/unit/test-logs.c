/*
 * test-logs.c - log path resolution and tail, including a log far bigger
 * than one read chunk and logs with and without a final newline.
 */
#include "internal.h"
#include "spawned.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/un.h>

static char *tail(procmgr *h, size_t n)
{
	char *t = NULL;

	ck_assert_msg(procmgr_log_tail(h, n, &t) == 0, "%s", procmgr_errmsg(h));
	return t;
}

START_TEST(test_log_path)
{
	procmgr *h = tu_scratch("lp", NULL);
	char *p = NULL;

	ck_assert_int_eq(procmgr_log_path(h, &p), 0);
	ck_assert_str_eq(p, procmgr_default_log(h));
	free(p);
	ck_assert_int_eq(procmgr_write(h, "log", "/var/tmp/x.log"), 0);
	ck_assert_int_eq(procmgr_log_path(h, &p), 0);
	ck_assert_str_eq(p, "/var/tmp/x.log");
	free(p);
	ck_assert_int_eq(procmgr_log_path(NULL, &p), -EINVAL);
	procmgr_free(h);
}
END_TEST

START_TEST(test_tail_small)
{
	procmgr *h = tu_scratch("ts", NULL);
	char *t;

	ck_assert_int_eq(procmgr_write(h, "x", "1"), 0);
	ck_assert_int_eq(procmgr_log_tail(h, 3, &t), -ENOENT);
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h), ".log"));
	tu_write_file(procmgr_default_log(h), "a\nb\nc\nd\n", 8);
	t = tail(h, 2);
	ck_assert_str_eq(t, "c\nd\n");
	free(t);
	t = tail(h, 10);
	ck_assert_str_eq(t, "a\nb\nc\nd\n");
	free(t);
	t = tail(h, 0);
	ck_assert_str_eq(t, "");
	free(t);
	/* An unterminated last line is a line. */
	tu_write_file(procmgr_default_log(h), "a\nb\nc", 5);
	t = tail(h, 2);
	ck_assert_str_eq(t, "b\nc");
	free(t);
	tu_write_file(procmgr_default_log(h), "", 0);
	t = tail(h, 2);
	ck_assert_str_eq(t, "");
	free(t);
	procmgr_free(h);
}
END_TEST

START_TEST(test_tail_big)
{
	procmgr *h = tu_scratch("tb", NULL);
	char line[64], *t, *want = NULL;
	FILE *f;

	ck_assert_int_eq(procmgr_write(h, "x", "1"), 0);
	f = fopen(procmgr_default_log(h), "we");
	ck_assert_ptr_nonnull(f);
	/* ~4 MB: many 64 KiB chunks; lines straddle chunk edges. */
	for (int i = 0; i < 200000; i++)
		fprintf(f, "line %d of the big log\n", i);
	fclose(f);
	t = tail(h, 3);
	ck_assert_str_eq(t, "line 199997 of the big log\nline 199998 of the "
			    "big log\nline 199999 of the big log\n");
	free(t);
	t = tail(h, 5000);
	snprintf(line, sizeof(line), "line %d of the big log\n", 195000);
	ck_assert_int_eq(strncmp(t, line, strlen(line)), 0);
	free(t);
	free(want);
	procmgr_free(h);
}
END_TEST

/* Start fake-daemon with "say=up pause"; daemon and monitor are tracked. */
static int start_daemon(procmgr *h, const char *log, pid_t *ret_pid)
{
	char *path = tu_helper("fake-daemon");
	char *argv[] = { path, (char *)"say=up", (char *)"pause", NULL };
	struct procmgr_spawn_opts o = { .argv = argv, .log_path = log,
					.log_max = 100 };
	pid_t pid = 0;
	int r = procmgr_start(h, &o, &pid);

	if (r == 0)
		track_daemon(pid);
	if (ret_pid)
		*ret_pid = pid;
	free(path);
	return r;
}

static mode_t file_mode(const char *path)
{
	struct stat st;

	ck_assert_int_eq(stat(path, &st), 0);
	return st.st_mode & 07777;
}

/*
 * The log is created as the daemon would create it under its umask 022:
 * 0644, so another user's `procmgr logs` can read it; a stricter umask of
 * the caller still wins.
 */
START_TEST(test_log_mode)
{
	char *dir, *log = NULL;
	procmgr *h = tu_scratch("mode", &dir);
	mode_t old = umask(022);

	ck_assert_int_eq(start_daemon(h, NULL, NULL), 0);
	ck_assert_uint_eq(file_mode(procmgr_default_log(h)), 0644);
	ck_assert_int_eq(procmgr_stop(h, NULL, NULL), 1);
	umask(077);
	ck_assert_int_ge(asprintf(&log, "%s/private.log", dir), 0);
	ck_assert_int_eq(start_daemon(h, log, NULL), 0);
	ck_assert_uint_eq(file_mode(log), 0600);
	ck_assert_int_eq(procmgr_stop(h, NULL, NULL), 1);
	umask(old);
	free(log);
	free(dir);
	procmgr_free(h);
}
END_TEST

/* A rotation that cannot happen fails the start and starts nothing. */
START_TEST(test_rotation_fails)
{
	char *dir, *log = NULL, *old = NULL, *in = NULL, *t;
	procmgr *h = tu_scratch("norot", &dir);
	char big[200];

	ck_assert_int_ge(asprintf(&log, "%s/d.log", dir), 0);
	ck_assert_int_ge(asprintf(&old, "%s.1", log), 0);
	ck_assert_int_ge(asprintf(&in, "%s/keep", old), 0);
	memset(big, 'x', sizeof(big));
	tu_write_file(log, big, sizeof(big));
	/* d.log.1 is a directory that is not empty: rename(2) refuses. */
	ck_assert_int_eq(mkdir(old, 0700), 0);
	tu_write_file(in, "k", 1);
	ck_assert_int_lt(start_daemon(h, log, NULL), 0);
	ck_assert_msg(strstr(procmgr_errmsg(h), "cannot rotate log"), "%s",
		      procmgr_errmsg(h));
	ck_assert_ptr_null(tu_key(h, "pid"));
	t = tu_read_file(log);	/* untouched */
	ck_assert_uint_eq(strlen(t), sizeof(big));
	free(t);
	free(in);
	free(old);
	free(log);
	free(dir);
	procmgr_free(h);
}
END_TEST

/* A log (or log key) that is a directory: a clear error, no crash. */
START_TEST(test_log_unreadable)
{
	char *dir, *t = NULL, *p = NULL, *key = NULL;
	procmgr *h = tu_scratch("ldir", &dir);

	ck_assert_int_eq(procmgr_write(h, "log", dir), 0);
	ck_assert_int_eq(procmgr_log_tail(h, 5, &t), -EBADFD);
	ck_assert_msg(strstr(procmgr_errmsg(h), "not a regular file") &&
		      strstr(procmgr_errmsg(h), dir), "%s", procmgr_errmsg(h));
	ck_assert_ptr_null(t);
	/* The log key itself unreadable: its error, not the default log. */
	ck_assert_int_eq(procmgr_delete(h, "log"), 0);
	ck_assert_int_ge(asprintf(&key, "%s/log", procmgr_meta_dir(h)), 0);
	ck_assert_int_eq(mkdir(key, 0700), 0);
	ck_assert_int_lt(procmgr_log_path(h, &p), 0);
	ck_assert_ptr_null(p);
	ck_assert_int_lt(procmgr_log_tail(h, 5, &t), 0);
	ck_assert_ptr_null(t);
	free(key);
	free(dir);
	procmgr_free(h);
}
END_TEST

/*
 * A log that is a FIFO or a symlink is refused, for writing (start) and
 * for reading, at once: a FIFO never blocks the open.
 */
START_TEST(test_log_not_regular)
{
	char *dir, *fifo, *link, *t = NULL;
	procmgr *h = tu_scratch("lfifo", &dir);
	double t0 = tu_now();
	int fd = -1;

	fifo = tu_path(dir, "fifo");
	link = tu_path(dir, "link.log");
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	ck_assert_int_eq(start_daemon(h, fifo, NULL), -EBADFD);
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h), "not a regular"));
	ck_assert_ptr_null(tu_key(h, "pid"));
	ck_assert_int_eq(procmgr_write(h, "log", fifo), 0);
	ck_assert_int_eq(procmgr_log_open(h, &fd, NULL), -EBADFD);
	ck_assert_int_eq(procmgr_log_tail(h, 1, &t), -EBADFD);
	ck_assert_double_lt(tu_now() - t0, 10);
	/* the default log a symlink: neither written nor read through */
	ck_assert_int_eq(procmgr_delete(h, "log"), 0);
	tu_write_file(link, "secret\n", 7);
	ck_assert_int_eq(symlink(link, procmgr_default_log(h)), 0);
	ck_assert_int_eq(start_daemon(h, NULL, NULL), -ELOOP);
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h), "symlink"));
	ck_assert_int_eq(procmgr_log_open(h, &fd, NULL), -ELOOP);
	ck_assert_int_eq(fd, -1);
	/* a device, a socket: named for what they are */
	ck_assert_int_eq(procmgr_write(h, "log", "/dev/null"), 0);
	ck_assert_int_eq(procmgr_log_open(h, &fd, NULL), -EBADFD);
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h), "a device"));
	{
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		int sfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		char *sock = tu_path(dir, "sock.log");

		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
		ck_assert_int_eq(bind(sfd, (struct sockaddr *)&sa,
				      sizeof(sa)), 0);
		ck_assert_int_eq(procmgr_write(h, "log", sock), 0);
		ck_assert_int_eq(procmgr_log_open(h, &fd, NULL), -EBADFD);
		ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h), "a socket"));
		close(sfd);
	}
	ck_assert_int_eq(procmgr_delete(h, "log"), 0);
	/* a regular log opens, its path given back */
	ck_assert_int_eq(unlink(procmgr_default_log(h)), 0);
	tu_write_file(procmgr_default_log(h), "x\n", 2);
	ck_assert_int_eq(procmgr_log_open(h, &fd, &t), 0);
	ck_assert_str_eq(t, procmgr_default_log(h));
	ck_assert_int_eq(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
	close(fd);
	free(t);
	free(dir);
	procmgr_free(h);
}
END_TEST

/*
 * procmgr_log_tail_fd() leaves the offset where the lines end, so reading
 * on gives what comes later; an fd it cannot read says so.
 */
START_TEST(test_tail_fd)
{
	procmgr *h = tu_scratch("tfd", NULL);
	char *t = NULL, buf[16];
	size_t len = 0;
	int fd, wfd, p[2];

	ck_assert_int_eq(procmgr_write(h, "x", "1"), 0);	/* the dirs */
	tu_write_file(procmgr_default_log(h), "a\nb\0c\n", 6);
	ck_assert_int_eq(procmgr_log_open(h, &fd, NULL), 0);
	ck_assert_int_eq(procmgr_log_tail_fd(h, fd, 1, &t, &len), 0);
	ck_assert_uint_eq(len, 4);	/* "b\0c\n": the NUL counts */
	ck_assert_int_eq(memcmp(t, "b\0c\n", 4), 0);
	free(t);
	wfd = open(procmgr_default_log(h), O_WRONLY | O_APPEND | O_CLOEXEC);
	ck_assert_int_eq(write(wfd, "d\n", 2), 2);
	close(wfd);
	ck_assert_int_eq(read(fd, buf, sizeof(buf)), 2);
	ck_assert_int_eq(memcmp(buf, "d\n", 2), 0);
	close(fd);
	/* not a readable log: closed, write-only, a pipe */
	ck_assert_int_eq(procmgr_log_tail_fd(h, fd, 1, &t, NULL), -EBADF);
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h), "cannot read"));
	fd = open(procmgr_default_log(h), O_WRONLY | O_CLOEXEC);
	ck_assert_int_eq(procmgr_log_tail_fd(h, fd, 1, &t, NULL), -EBADF);
	close(fd);
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	ck_assert_int_eq(procmgr_log_tail_fd(h, p[0], 0, &t, NULL), -ESPIPE);
	close(p[0]);
	close(p[1]);
	procmgr_free(h);
}
END_TEST

/* The start's own log lines need an opened handle, as every call does. */
START_TEST(test_start_log_tail_unopened)
{
	procmgr *h = procmgr_new();
	char *t = NULL;

	ck_assert_int_eq(procmgr_start_log_tail(h, 5, &t), -EINVAL);
	ck_assert_ptr_nonnull(strstr(procmgr_errmsg(h), "procmgr_open"));
	ck_assert_ptr_null(t);
	ck_assert_int_eq(procmgr_start_log_tail(NULL, 5, &t), -EINVAL);
	procmgr_free(h);
}
END_TEST

/*
 * The log rotated, but no inode left for a fresh one (a tmpfs that holds
 * two files): the start fails naming the log, starts nothing, and the
 * old lines are kept in NAME.log.1.
 */
START_TEST(test_rotated_log_cannot_be_made)
{
	char *dir, *mnt, *log, *old, big[200], *t;
	procmgr *h = tu_scratch("noinode", &dir);

	mnt = tu_path(dir, "mnt");
	log = tu_path(mnt, "d.log");
	old = tu_path(mnt, "d.log.1");
	ck_assert_int_eq(mkdir(mnt, 0700), 0);
	if (unshare(CLONE_NEWNS) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("tmpfs", mnt, "tmpfs", 0, "size=64k,nr_inodes=2") < 0) {
		free(dir);
		procmgr_free(h);
		tu_skip("cannot mount a tmpfs: %s", strerror(errno));
	}
	memset(big, 'x', sizeof(big));
	tu_write_file(log, big, sizeof(big));
	ck_assert_int_eq(start_daemon(h, log, NULL), -ENOSPC);
	ck_assert_msg(strstr(procmgr_errmsg(h), "cannot open log") &&
		      strstr(procmgr_errmsg(h), log), "%s", procmgr_errmsg(h));
	ck_assert_ptr_null(tu_key(h, "pid"));
	t = tu_read_file(old);
	ck_assert_ptr_nonnull(t);
	ck_assert_uint_eq(strlen(t), sizeof(big));
	free(t);
	ck_assert(!tu_exists(log));
	umount2(mnt, MNT_DETACH);
	free(dir);
	procmgr_free(h);
}
END_TEST

/*
 * Called with stdin closed, the log would land on fd 0, where the
 * daemon's stdin goes: it is moved above 2, and with no fd left for
 * that, the open fails saying so, and leaves no fd behind.
 */
START_TEST(test_log_fd_above_stdio)
{
	char *dir, *log, *path = NULL;
	procmgr *h = tu_scratch("stdio", &dir);
	struct rlimit old, rl;
	int fd = -1, low;

	log = tu_path(dir, "d.log");
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
	close(0);
	ck_assert_int_eq(pm_log_open(h, log, 0, &fd, &path), 0);
	ck_assert_int_gt(fd, 2);
	ck_assert_str_eq(path, log);
	close(fd);
	free(path);
	/* every fd from 3 up to the limit taken */
	low = fcntl(2, F_DUPFD_CLOEXEC, 3);
	ck_assert_int_ge(low, 3);
	close(low);
	rl = old;
	rl.rlim_cur = (rlim_t)low;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	fd = -1;
	ck_assert_int_eq(pm_log_open(h, log, 0, &fd, &path), -EMFILE);
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
	ck_assert_int_eq(fd, -1);
	ck_assert_msg(strstr(procmgr_errmsg(h), "ulimit -n") &&
		      strstr(procmgr_errmsg(h), log), "%s", procmgr_errmsg(h));
	ck_assert_int_eq(fcntl(0, F_GETFD), -1);	/* closed again */
	free(dir);
	procmgr_free(h);
}
END_TEST

/*
 * An event is one line, written whole: its offset is where it starts, a
 * text too long for a line is cut and still ends the line, and a log
 * that cannot be written (or none) gives -1.
 */
START_TEST(test_event_lines)
{
	char *path = tu_path(tu_keep(tu_tmpdir()), "events.log"), *text;
	char *long_text;
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	off_t first, second;
	size_t n;

	ck_assert_int_ge(fd, 0);
	first = pm_event(fd, "started pid %d", 42);
	ck_assert_int_eq(first, 0);
	long_text = calloc(1, 3001);
	ck_assert_ptr_nonnull(long_text);
	memset(long_text, 'x', 3000);
	second = pm_event(fd, "%s", long_text);
	free(long_text);
	close(fd);
	text = tu_read_file(path);
	n = strlen(text);
	ck_assert_int_eq(second, (off_t)(strchr(text, '\n') + 1 - text));
	ck_assert(strncmp(text, "procmgr: ", 9) == 0);
	ck_assert_ptr_nonnull(strstr(text, "Z started pid 42\n"));
	/* the long one: cut to a line of 1023 bytes, newline last */
	ck_assert_uint_eq(n - (size_t)second, 1023);
	ck_assert_int_eq(text[n - 1], '\n');
	ck_assert_int_eq(text[n - 2], 'x');
	free(text);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_eq(pm_event(fd, "not written"), -1);
	close(fd);
	ck_assert_int_eq(pm_event(-1, "no log"), -1);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("logs");
	TCase *tc = tcase_create("logs");

	tcase_add_test(tc, test_log_path);
	tcase_add_test(tc, test_tail_small);
	tcase_add_test(tc, test_tail_big);
	tcase_add_test(tc, test_log_mode);
	tcase_add_test(tc, test_rotation_fails);
	tcase_add_test(tc, test_log_unreadable);
	tcase_add_test(tc, test_log_not_regular);
	tcase_add_test(tc, test_tail_fd);
	tcase_add_test(tc, test_start_log_tail_unopened);
	tcase_add_test(tc, test_rotated_log_cannot_be_made);
	tcase_add_test(tc, test_log_fd_above_stdio);
	tcase_add_test(tc, test_event_lines);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(suite());
}
