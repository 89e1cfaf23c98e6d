/*
 * fuzz-status - the whole status read over metadata keys holding anything:
 * procmgr_status() and the JSON the CLI prints of it. Input: two bytes of
 * presence bits for the keys below, then their values separated by 0x1e.
 * In a value "@P", "@S" and "@B" become this process's pid, start time and
 * boot id, so the fuzzer reaches the running state and the identity
 * checks.
 *
 * Checked: status never fails on a present metadata directory, running
 * means the pid key parses to a live process, and the JSON is valid.
 */
#include "fuzz.h"
#include "json-check.h"

#include "cli.h"

static const char *const keys[] = {
	"pid", "start_time", "process_name", "exit", "fingerprint", "socket",
	"cmdline", "log", "fingerprint_inputs",
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

/* value with the @ tokens replaced, into a malloc'd buffer. */
static char *expand(const uint8_t *v, size_t n, size_t *ret_len)
{
	static char pid[16], start[24], boot[PM_BOOT_ID_LEN + 1];
	char *out = malloc(n * 40 + 1), *o = out, state;
	unsigned long long st;

	if (!out)
		abort();
	if (!pid[0]) {
		snprintf(pid, sizeof(pid), "%d", (int)getpid());
		if (pm_proc_stat(getpid(), &state, &st) < 0 ||
		    pm_boot_id(boot) < 0)
			abort();
		snprintf(start, sizeof(start), "%llu", st);
	}
	for (size_t i = 0; i < n; i++) {
		const char *t = NULL;

		if (v[i] == '@' && i + 1 < n)
			t = v[i + 1] == 'P' ? pid : v[i + 1] == 'S' ? start :
			    v[i + 1] == 'B' ? boot : NULL;
		if (t) {
			o += sprintf(o, "%s", t);
			i++;
		} else {
			*o++ = (char)v[i];
		}
	}
	*ret_len = (size_t)(o - out);
	return out;
}

static void put(const char *dir, const char *key, const char *v, size_t n)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, key);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, v, n) != (ssize_t)n)
		abort();
	close(fd);
}

static void check(procmgr *h, const struct procmgr_status *st)
{
	char *v = NULL;
	pid_t pid = 0;

	fz_check(st->state != PROCMGR_STOPPED, "metadata is there");
	if (st->state != PROCMGR_RUNNING)
		return;
	fz_check(procmgr_read(h, "pid", &v) == 0 &&
		 pm_parse_pid(v, &pid) == 0 && pid == st->pid,
		 "running, pid key '%s'", v ? v : "(none)");
	fz_check(procmgr_pid_alive(pid) == 1, "running, pid %d dead",
		 (int)pid);
	free(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	procmgr *h = fz_handle();
	const char *dir = procmgr_meta_dir(h);
	struct procmgr_status st;
	char path[256], *json = NULL;
	size_t off = 2, jn = 0;
	FILE *f;
	unsigned mask;

	if (size < 2)
		return 0;
	mask = data[0] | (unsigned)data[1] << 8;
	for (size_t k = 0; k < NKEYS; k++) {
		const uint8_t *sep = NULL;
		size_t n = 0, len;
		char *v;

		if (off < size) {
			sep = memchr(data + off, 0x1e, size - off);
			n = sep ? (size_t)(sep - (data + off)) : size - off;
		}
		if (mask & 1u << k) {
			v = expand(n ? data + off : data, n, &len);
			put(dir, keys[k], v, len);
			free(v);
		} else {
			snprintf(path, sizeof(path), "%s/%s", dir, keys[k]);
			unlink(path);
		}
		off += n + 1;
	}
	fz_check(procmgr_status(h, &st) == 0, "%s", procmgr_errmsg(h));
	check(h, &st);
	f = open_memstream(&json, &jn);
	if (!f)
		abort();
	/* left open for the command's own fields, as the CLI does */
	json_status(f, "fz", &st);
	json_field(f, "log", procmgr_warning(h));
	fputc('}', f);
	fclose(f);
	fz_check(jc_valid(json), "%s", json);
	free(json);
	procmgr_status_clear(&st);
	return 0;
}
