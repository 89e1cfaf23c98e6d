/*
 * json.c - the JSON the CLI prints for --json: strings escaped so that any
 * bytes (a key's value may be anything) still give valid JSON, RFC 3339
 * times, and one status object.
 */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Length of the valid UTF-8 sequence at p (1-4), or 0 when p starts an
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

static void put_string(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n;

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

/*
 * Finish a memstream: the text, or -ENOMEM when any write failed. buf is
 * the stream's pointer, which only fclose() makes final.
 */
static int close_stream(FILE *f, char **buf, char **ret)
{
	int bad = ferror(f);

	if (fclose(f) != 0 || bad) {
		free(*buf);
		return -ENOMEM;
	}
	*ret = *buf;
	return 0;
}

int procmgr_json_string(const char *s, char **ret_json)
{
	char *buf = NULL;
	size_t len;
	FILE *f;

	if (!s)
		return -EINVAL;
	f = open_memstream(&buf, &len);
	if (!f)
		return -errno;
	put_string(f, s);
	return close_stream(f, &buf, ret_json);
}

void procmgr_format_time(time_t t, char ret[21])
{
	struct tm tm;

	/* Four-digit years only, so the text always fits the buffer. */
	if (!gmtime_r(&t, &tm) || tm.tm_year < -1900 + 1000 ||
	    tm.tm_year > 9999 - 1900) {
		snprintf(ret, 21, "%s", t < 0 ? "0000-01-01T00:00:00Z" :
						 "9999-12-31T23:59:59Z");
		return;
	}
	strftime(ret, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void put_string_or_null(FILE *f, const char *s)
{
	if (s)
		put_string(f, s);
	else
		fputs("null", f);
}

static void put_exit(FILE *f, const struct procmgr_exit *e)
{
	const char *sig;
	char num[16];

	if (!e->known) {
		fputs("null", f);
		return;
	}
	fputs("{\"status\": ", f);
	if (e->status >= 0)
		fprintf(f, "%d", e->status);
	else
		fputs("null", f);
	fputs(", \"signal\": ", f);
	sig = e->signal > 0 ? procmgr_signal_name(e->signal) : NULL;
	if (e->signal > 0 && !sig) {
		/* A real-time or unknown signal: its number still says it. */
		snprintf(num, sizeof(num), "%d", e->signal);
		sig = num;
	}
	put_string_or_null(f, sig);
	fputs(", \"at\": ", f);
	put_string_or_null(f, e->at);
	fputs(", \"reason\": ", f);
	put_string_or_null(f, e->reason);
	fputc('}', f);
}

int procmgr_status_json_sized(const char *name,
			      const struct procmgr_status *in, size_t size,
			      const char *const *extra, char **ret_json)
{
	struct procmgr_status full, *st = &full;
	static const char *const states[] = { "stopped", "stale", "running" };
	char *buf = NULL, when[21];
	size_t len;
	FILE *f;

	/* a newer caller's fields are not this library's to print */
	if (!name || pm_struct_in(&full, sizeof(full), PM_STATUS_V1, in, size,
				  false) < 0 ||
	    (unsigned)st->state > PROCMGR_RUNNING)
		return -EINVAL;
	f = open_memstream(&buf, &len);
	if (!f)
		return -errno;
	fputs("{\"name\": ", f);
	put_string(f, name);
	fprintf(f, ", \"state\": \"%s\", \"pid\": ", states[st->state]);
	if (st->pid > 0)
		fprintf(f, "%d", (int)st->pid);
	else
		fputs("null", f);
	fputs(", \"fingerprint\": ", f);
	put_string_or_null(f, st->fingerprint);
	fputs(", \"socket\": ", f);
	put_string_or_null(f, st->socket);
	fputs(", \"started_at\": ", f);
	if (st->started_at >= 0) {
		procmgr_format_time(st->started_at, when);
		put_string(f, when);
	} else {
		fputs("null", f);
	}
	fputs(", \"exit\": ", f);
	put_exit(f, &st->exit);
	fprintf(f, ", \"ready\": %s, \"status_text\": ",
		st->state == PROCMGR_RUNNING && st->ready ? "true" : "false");
	put_string_or_null(f, st->status_text);
	fprintf(f, ", \"restarts\": %u, \"monitor\": ", st->restarts);
	if (st->monitor > 0)
		fprintf(f, "%d", (int)st->monitor);
	else
		fputs("null", f);
	for (; extra && extra[0]; extra += 2) {
		fputs(", ", f);
		put_string(f, extra[0]);
		fputs(": ", f);
		put_string_or_null(f, extra[1]);
	}
	fputc('}', f);
	return close_stream(f, &buf, ret_json);
}
