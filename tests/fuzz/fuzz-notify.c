/*
 * fuzz-notify - pm_notify_parse(), how the monitor reads an sd_notify
 * datagram: it is cut into lines at '\n' (a NUL ends a line too), and each
 * line with a non-empty name before its first '=' is passed on as
 * VAR=VALUE, in order. Restated here line by line and compared.
 */
#include "fuzz.h"

struct seen {
	const char *in;		/* the input, unmodified */
	size_t len, at;		/* where the next expected line starts */
	int calls;
};

/* The next line of the input that the parser must pass on; false if none. */
static bool next_assignment(struct seen *s, const char **ret_line,
			    size_t *ret_n)
{
	while (s->at < s->len) {
		const char *line = s->in + s->at;
		const char *eq;
		size_t n = 0;

		while (s->at + n < s->len && line[n] != '\n')
			n++;
		s->at += n + 1;
		/* a NUL ends the text of the line */
		n = strnlen(line, n);
		eq = memchr(line, '=', n);
		if (eq && eq > line) {
			*ret_line = line;
			*ret_n = n;
			return true;
		}
	}
	return false;
}

static void assign(const char *var, const char *value, void *userdata)
{
	struct seen *s = userdata;
	const char *line;
	size_t n, vn = strlen(var);

	fz_check(next_assignment(s, &line, &n), "an extra call %s=%s", var,
		 value);
	fz_check(vn > 0 && !memcmp(line, var, vn) && line[vn] == '=' &&
		 strlen(value) == n - vn - 1 &&
		 !memcmp(line + vn + 1, value, n - vn - 1),
		 "got %s=%s for '%.*s'", var, value, (int)n, line);
	s->calls++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *msg = fz_cstr(data, size);	/* a byte of room past len */
	struct seen s = { .in = (const char *)data, .len = size };
	const char *line;
	size_t n;
	int r;

	r = pm_notify_parse(msg, size, assign, &s);
	fz_check(r == s.calls, "returned %d after %d calls", r, s.calls);
	fz_check(!next_assignment(&s, &line, &n), "a line was skipped: '%.*s'",
		 (int)n, line);
	free(msg);
	return 0;
}
