/*
 * cmd-status.c - procmgr status NAME: one human line, then details.
 *
 * The exit code follows LSB's status actions: 0 running, 1 dead with a
 * pid file left (stale), 3 not running (stopped).
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "exited with status 3 at ..." / "killed by SIGSEGV at ..." */
static void print_exit(const struct procmgr_exit *e)
{
	const char *sig = procmgr_signal_name(e->signal);
	const char *at = e->at ? e->at : "an unknown time";

	if (e->signal == 0)
		printf("exited with status %d at %s", e->status, at);
	else if (sig)
		printf("killed by SIG%s at %s", sig, at);
	else
		printf("killed by signal %d at %s", e->signal, at);
}

/* Why procmgr ended it, for the headline of a NAME that is not running. */
static bool print_reason(const char *name, const struct procmgr_status *st)
{
	const char *why = st->exit.reason;

	if (!why)
		return false;
	if (!strcmp(why, "idle"))
		printf("%s: stopped (idle %gs)", name, st->idle_timeout);
	else if (!strcmp(why, "gave-up"))
		printf("%s: stale: gave up after %u restart%s; last ", name,
		       st->restarts, st->restarts == 1 ? "" : "s");
	else
		printf("%s: stale: stopped (%s); ", name,
		       !strcmp(why, "stop") ? "by procmgr stop" : why);
	if (strcmp(why, "idle"))
		print_exit(&st->exit);
	return true;
}

static void print_headline(procmgr *h, const struct procmgr_status *st)
{
	const char *name = procmgr_get_name(h);
	char up[32];

	if (st->state == PROCMGR_STOPPED && !st->exit.known) {
		printf("%s: stopped\n", name);
		return;
	}
	if (st->state == PROCMGR_RUNNING) {
		cli_duration(cli_uptime(st), up, sizeof(up));
		printf("%s: running%s, pid %d, up %s", name,
		       st->ready ? "" : " (not ready)", (int)st->pid, up);
		if (st->socket)
			printf(", socket %s", st->socket);
		if (st->status_text)
			printf(", \"%s\"", st->status_text);
	} else if (print_reason(name, st)) {
		/* said */
	} else if (st->exit.known) {
		printf("%s: stale: ", name);
		print_exit(&st->exit);
	} else if (st->pid <= 0) {
		printf("%s: stale: no valid pid recorded", name);
	} else if (procmgr_pid_alive(st->pid) == 1) {
		printf("%s: stale: pid %d is another process now", name,
		       (int)st->pid);
	} else {
		printf("%s: stale: pid %d is not running", name, (int)st->pid);
	}
	putchar('\n');
}

/* A key shown as it is stored (NULs of cmdline as spaces), if present. */
static void print_key(procmgr *h, const char *label, const char *key)
{
	char *value = NULL;
	size_t len;

	if (procmgr_read_raw(h, key, &value, &len) < 0)
		return;
	printf("  %-13s %s\n", label, cli_printable(value, len));
	free(value);
}

static void print_details(procmgr *h, const struct procmgr_status *st)
{
	char when[21];

	if (st->pid > 0)
		printf("  %-13s %d\n", "pid", (int)st->pid);
	if (st->started_at >= 0) {
		procmgr_format_utc(st->started_at, when);
		printf("  %-13s %s\n", "started", when);
	}
	if (st->fingerprint)
		printf("  %-13s %s\n", "fingerprint", st->fingerprint);
	if (st->socket)
		printf("  %-13s %s\n", "socket", st->socket);
	if (st->status_text)
		printf("  %-13s %s\n", "status text", st->status_text);
	if (st->restarts)
		printf("  %-13s %u\n", "restarts", st->restarts);
	if (st->monitor > 0)
		printf("  %-13s %d\n", "monitor", (int)st->monitor);
	print_key(h, "supervision", "supervision");
	print_key(h, "process name", "process_name");
	print_key(h, "cmdline", "cmdline");
	print_key(h, "log", "log");
	if (st->exit.known) {
		printf("  %-13s ", "last exit");
		print_exit(&st->exit);
		putchar('\n');
	}
	printf("  %-13s %s\n", "metadata", procmgr_meta_dir(h));
}

static int print_json(procmgr *h, const struct procmgr_status *st)
{
	char *log = NULL, *cmdline = NULL;
	size_t len;
	const char *extra[5] = { "log", NULL, "cmdline", NULL, NULL };
	int r;

	if (st->state != PROCMGR_STOPPED && procmgr_log_path(h, &log) >= 0)
		extra[1] = log;
	if (procmgr_read_raw(h, "cmdline", &cmdline, &len) >= 0)
		extra[3] = cli_printable(cmdline, len);
	r = cli_print_json(h, st, extra);
	free(log);
	free(cmdline);
	return r;
}

int cmd_status(struct cli *c, int argc, char **argv)
{
	static const int codes[] = {
		[PROCMGR_STOPPED] = CLI_NOT_RUNNING,
		[PROCMGR_STALE] = CLI_ERROR,
		[PROCMGR_RUNNING] = CLI_OK,
	};
	struct procmgr_status st = { 0 };
	procmgr *h = NULL;
	int r;

	r = cli_name_status(c, argc, argv, true, &h, &st);
	if (r != CLI_CONTINUE)
		goto out;
	if (procmgr_warning(h))
		cli_err("warning: %s", procmgr_warning(h));
	if (c->json) {
		r = print_json(h, &st);
		if (r != CLI_OK)
			goto out;
	} else {
		print_headline(h, &st);
		if (st.state != PROCMGR_STOPPED || st.exit.known)
			print_details(h, &st);
	}
	r = codes[st.state];
out:
	procmgr_status_clear(&st);
	procmgr_free(h);
	return r;
}
