/*
 * json.c - what --json prints. The library hands out structs; these turn
 * them into JSON on a stream. Any bytes may sit in a value (a key holds
 * what a daemon wrote), so strings are escaped until the output is valid
 * JSON whatever they hold.
 */
#include "cli.h"

#include <stdio.h>

/*
 * Length of the valid UTF-8 sequence at p (2-4), or 0 when p starts an
 * invalid one (stray continuation, overlong form, surrogate, > U+10FFFF,
 * truncated). Multi-byte only: ASCII is handled by the caller.
 */
static size_t utf8_len(const unsigned char *p)
{
	size_t n, i;
	unsigned long cp;

	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		n = 2;
		cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		cp = p[0] & 0x07;
	} else {
		return 0;
	}
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)	/* also stops at the NUL */
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

void json_string(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n;

	if (!s) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	while (*p) {
		if (*p == '"' || *p == '\\') {
			fprintf(f, "\\%c", *p++);
		} else if (*p == '\n') {
			fputs("\\n", f);
			p++;
		} else if (*p == '\t') {
			fputs("\\t", f);
			p++;
		} else if (*p < 0x20 || *p == 0x7f) {
			fprintf(f, "\\u%04x", *p++);
		} else if (*p < 0x80) {
			fputc(*p++, f);
		} else if ((n = utf8_len(p)) > 0) {
			fwrite(p, 1, n, f);
			p += n;
		} else {
			/* Not UTF-8: the replacement character keeps the
			 * output valid; the raw bytes are what `get` is for. */
			fputs("\\ufffd", f);
			p++;
		}
	}
	fputc('"', f);
}

void json_field(FILE *f, const char *key, const char *value)
{
	fputs(", ", f);
	json_string(f, key);
	fputs(": ", f);
	json_string(f, value);
}

void json_field_int(FILE *f, const char *key, long long value, bool present)
{
	fputs(", ", f);
	json_string(f, key);
	if (present)
		fprintf(f, ": %lld", value);
	else
		fputs(": null", f);
}

void json_field_bool(FILE *f, const char *key, bool value)
{
	fputs(", ", f);
	json_string(f, key);
	fputs(value ? ": true" : ": false", f);
}

const char *cli_state_name(enum procmgr_state state)
{
	static const char *const names[] = {
		[PROCMGR_STOPPED] = "stopped",
		[PROCMGR_STALE] = "stale",
		[PROCMGR_RUNNING] = "running",
	};

	return (unsigned)state <= PROCMGR_RUNNING ? names[state] : "error";
}

static void put_exit(FILE *f, const struct procmgr_exit *e)
{
	const char *sig;
	char num[16];

	fputs(", \"exit\": ", f);
	if (!e->known) {
		fputs("null", f);
		return;
	}
	fputs("{\"status\": ", f);
	if (e->status >= 0)
		fprintf(f, "%d", e->status);
	else
		fputs("null", f);
	sig = e->signal > 0 ? procmgr_signal_name(e->signal) : NULL;
	if (e->signal > 0 && !sig) {
		/* A real-time or unknown signal: its number still says it. */
		snprintf(num, sizeof(num), "%d", e->signal);
		sig = num;
	}
	json_field(f, "signal", sig);
	json_field(f, "at", e->at);
	json_field(f, "reason", e->reason);
	fputc('}', f);
}

void json_status(FILE *f, const char *name, const struct procmgr_status *st)
{
	char when[21];

	fputs("{\"name\": ", f);
	json_string(f, name);
	json_field(f, "state", cli_state_name(st->state));
	json_field_int(f, "pid", st->pid, st->pid > 0);
	json_field(f, "fingerprint", st->fingerprint);
	json_field(f, "socket", st->socket);
	if (st->started_at >= 0)
		procmgr_format_utc(st->started_at, when);
	json_field(f, "started_at", st->started_at >= 0 ? when : NULL);
	put_exit(f, &st->exit);
	json_field_bool(f, "ready", st->state == PROCMGR_RUNNING && st->ready);
	json_field(f, "status_text", st->status_text);
	json_field_int(f, "restarts", st->restarts, true);
	json_field_int(f, "monitor", st->monitor, st->monitor > 0);
}
