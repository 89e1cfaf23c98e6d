/*
 * cmd-list.c - procmgr list: every NAME under DIR/HOSTFP, one row each
 * (a column-aligned table, or with --json one array of status objects).
 */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Rows are printed as they are read, so that a listing of thousands of
 * NAMEs holds one status at a time. The NAME column is as wide as the
 * longest listed name; the others have fixed widths: 7 digits hold any
 * pid (the kernel's limit is 4194304) and 7 characters any uptime up to
 * 999d23h.
 */
#define W_STATE 7
#define W_PID 7
#define W_UPTIME 7

static void table_row(int wn, const char *name, const char *state,
		      const char *pid, const char *uptime, const char *socket)
{
	printf("%-*s  %-*s  %*s  %-*s  %s\n", wn, name, W_STATE, state, W_PID,
	       pid, W_UPTIME, uptime, socket);
}

/* One NAME's row; a NAME that could not be read has state "error". */
static void print_row(int wn, const char *name, const char *error,
		      const struct procmgr_status *st)
{
	char pid[24] = "-", uptime[32] = "-";
	long long up = cli_uptime(st);

	if (error) {
		table_row(wn, name, "error", "-", "-", "-");
		return;
	}
	if (st->pid > 0)
		snprintf(pid, sizeof(pid), "%d", (int)st->pid);
	if (up >= 0)
		cli_duration(up, uptime, sizeof(uptime));
	table_row(wn, name, cli_state_name(st->state), pid, uptime,
		  st->socket ? st->socket : "-");
}

/* One NAME as a JSON object: its status's, or state "error" and why. */
static void print_json(const char *name, const char *error,
		       const struct procmgr_status *st, bool first)
{
	fputs(first ? "[\n  " : ",\n  ", stdout);
	if (!error) {
		json_status(stdout, name, st);
	} else {
		fputs("{\"name\": ", stdout);
		json_string(stdout, name);
		fputs(", \"state\": \"error\", \"pid\": null, \"fingerprint\": "
		      "null, \"socket\": null, \"started_at\": null, "
		      "\"exit\": null", stdout);
		json_field(stdout, "error", error);
	}
	fputc('}', stdout);
}

struct printer {
	const struct cli *c;
	int wn;			/* the NAME column's width */
};

/*
 * Print one NAME. One that cannot be read (an unsafe directory, say) is
 * a row of its own with a warning, not the end of the listing.
 */
static int list_one(void *userdata, size_t i, const char *name, int r,
		    const char *message, const struct procmgr_status *st)
{
	const struct printer *p = userdata;
	const char *error = r < 0 ? message : NULL;

	if (message)
		cli_err("warning: %s", message);
	if (p->c->json)
		print_json(name, error, st, i == 0);
	else
		print_row(p->wn, name, error, st);
	return 0;
}

/* The NAME column's width: the longest name, at least "NAME"'s. */
static int name_width(const procmgr_listing *l)
{
	size_t n = procmgr_listing_count(l), w = 4;

	for (size_t i = 0; i < n; i++)
		if (strlen(procmgr_listing_name(l, i)) > w)
			w = strlen(procmgr_listing_name(l, i));
	return (int)w;
}

/* Every row, in one JSON array or a table (-q: without its header). */
static int print_listing(const struct cli *c, procmgr_listing *l)
{
	struct printer p = { c, name_width(l) };
	size_t n = procmgr_listing_count(l);

	if (c->json)
		cli_json_printed();
	else if (!c->quiet)
		table_row(p.wn, "NAME", "STATE", "PID", "UPTIME", "SOCKET");
	procmgr_listing_each(l, 0, list_one, &p);
	if (c->json)
		fputs(n ? "\n]\n" : "[]\n", stdout);
	return CLI_OK;
}

/*
 * procmgr_listing_open() has no handle for its message: opening a handle
 * on the same DIR says what is wrong with it, naming the path.
 */
static int list_failed(const struct cli *c, int r)
{
	procmgr *h = procmgr_new();
	int r2 = h ? procmgr_open_read_only(h, c->dir, "list") : -ENOMEM;

	if (r2 < 0)
		r = cli_fail(h, r2);
	else
		cli_err("cannot list the NAMEs under %s: %s; check --dir or "
			"$PROCMGR_DIR", procmgr_get_dir(h), strerror(-r));
	procmgr_free(h);
	return r2 < 0 ? r : CLI_ERROR;
}

/* -v: which directory is listed. */
static void say_dir(const struct cli *c)
{
	char fp[PROCMGR_HOSTFP_LEN + 1];
	char *dir = NULL;

	if (!c->verbose || procmgr_host_fingerprint(fp) < 0)
		return;
	if (c->dir || procmgr_default_dir(&dir) >= 0)
		cli_info(c, "procmgr: listing %s/%s", c->dir ? c->dir : dir,
			 fp);
	free(dir);
}

int cmd_list(struct cli *c, int argc, char **argv)
{
	static const struct cli_syntax syntax = { 0, "", NULL, NULL, false };
	procmgr_listing *l = NULL;
	int r;

	r = cli_parse(c, argc, argv, &syntax, NULL, NULL, NULL, NULL);
	if (r != CLI_CONTINUE)
		return r;
	/* the table shows no fingerprint, readiness or monitor: skip them */
	r = procmgr_listing_open(c->dir, c->json ? 0 : PROCMGR_LISTING_BRIEF,
				 &l);
	if (r < 0)
		return list_failed(c, r);
	say_dir(c);
	c->verbose = false;	/* not once per NAME */
	r = print_listing(c, l);
	procmgr_listing_free(l);
	return r;
}
