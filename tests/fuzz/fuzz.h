/*
 * fuzz.h - what the libFuzzer targets share.
 *
 * Each fuzz-*.c defines LLVMFuzzerTestOneInput() for one parser. Built with
 * clang -fsanitize=fuzzer,address,undefined by `make fuzz`; built with the
 * regular compiler and replay.c's main() by `make check`, which feeds it
 * every file of tests/fuzz/corpus/<target>/ (seeds, and the inputs that
 * once found a bug) so those stay fixed without clang.
 *
 * A target checks more than "no crash": where the parser's contract can be
 * restated simply, the target restates it and abort()s on a mismatch.
 */
#ifndef PROCMGR_FUZZ_H
#define PROCMGR_FUZZ_H

#include "internal.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* The input as a C string: a malloc'd copy with a NUL after it. */
static inline char *fz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* Stop with a message: libFuzzer saves the input that got here. */
#define fz_check(cond, ...)                                                  \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, "fuzz check failed: %s: ", #cond);   \
			fprintf(stderr, __VA_ARGS__);                        \
			fputc('\n', stderr);                                 \
			abort();                                             \
		}                                                            \
	} while (0)

/*
 * An opened handle on NAME "fz" in a scratch DIR, made once per process
 * under $FUZZ_SCRATCH (make fuzz sets it), else /dev/shm when there is one
 * (every key write fsyncs), else /tmp, and removed at exit. For the targets
 * that read or write metadata.
 */
static char fz_dir[4096];

static inline void fz_cleanup(void)
{
	char *slash = strrchr(fz_dir, '/');
	int fd;

	if (!slash)
		return;
	*slash = '\0';
	fd = open(fz_dir[0] ? fz_dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		pm_rm_rf_at(fd, slash + 1);
		close(fd);
	}
	*slash = '/';
}

static inline procmgr *fz_handle(void)
{
	static procmgr *h;
	const char *base = getenv("FUZZ_SCRATCH");

	if (h)
		return h;
	if (!base || !*base)
		base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(fz_dir, sizeof(fz_dir), "%s/procmgr-fuzz.XXXXXX", base);
	h = procmgr_new();
	if (!h || !mkdtemp(fz_dir) || procmgr_open(h, fz_dir, "fz") < 0 ||
	    procmgr_write(h, "log", "/dev/null") < 0)
		abort();
	atexit(fz_cleanup);
	return h;
}

#endif
