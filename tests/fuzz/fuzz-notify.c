/*
 * fuzz-notify - the sd_notify datagram parser of the readiness wait:
 * notify_vars() in lib/ready.c, which writes status_text and socket keys
 * and reads MAINPID=. It is static there, so this target compiles ready.c
 * into itself (and the fuzz build links every lib object but ready.o).
 * TODO: once ready.c's rewrite settles, give it a pure parse function in
 * internal.h and fuzz that instead.
 *
 * The datagram reports ready exactly when one of its lines is "READY=1";
 * MAINPID= is never acted on without the daemon's session (sid 0 here).
 */
#include "fuzz.h"

#include "ready.c"

static bool has_ready_line(const char *m)
{
	for (const char *l = m; *l;) {
		size_t n = strcspn(l, "\n");

		if (n == 7 && !strncmp(l, "READY=1", 7))
			return true;
		l += n + (l[n] == '\n');
	}
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pm_spawn sp = { .pid = 0, .ready_w = -1 };
	struct pm_ready_wait rw = { .notify_fd = -1, .pipe_r = -1 };
	struct waiter w = { .h = fz_handle(), .rw = &rw, .sp = &sp,
			    .pidfd = -1, .inotify_fd = -1, .sid = 0 };
	char *msg = fz_cstr(data, size), *copy = fz_cstr(data, size);
	int r;

	r = notify_vars(&w, msg);
	fz_check(r == (int)has_ready_line(copy), "'%s': %d (%s)", copy, r,
		 procmgr_errmsg(w.h));
	fz_check(w.pidfd == -1 && sp.pid == 0, "'%s': MAINPID taken", copy);
	free(msg);
	free(copy);
	return 0;
}
