/*
 * cmd-list.c - procmgr list: every NAME under DIR/HOSTFP, one row each
 * (a column-aligned table, or with --json one array of status objects).
 */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct row {
	char name[PROCMGR_NAME_MAX + 1];
	const char *state;
	char pid[24];
	char uptime[32];
	struct procmgr_status st;
	char *error;		/* why NAME could not be read, or NULL */
};

/*
 * A NAME that cannot be read (an unsafe directory, say) is a row of its
 * own with state "error" and a warning, not the end of the listing.
 */
static int error_row(const char *name, const char *msg, struct row *row)
{
	cli_err("warning: %s", msg);
	snprintf(row->name, sizeof(row->name), "%s", name);
	row->state = "error";
	strcpy(row->pid, "-");
	strcpy(row->uptime, "-");
	row->error = strdup(msg);
	return row->error ? CLI_OK : CLI_ERROR;
}

/* Read one NAME's state into row. */
static int fill_row(struct cli *c, const char *name, struct row *row)
{
	procmgr *h = procmgr_new();
	long long up;
	int r;

	if (!h) {
		cli_err("out of memory");
		return CLI_ERROR;
	}
	r = procmgr_open_read_only(h, c->dir, name);
	if (r >= 0)
		r = procmgr_status(h, &row->st);
	if (r < 0) {
		r = error_row(name, cli_errmsg(h), row);
		goto out;
	}
	if (procmgr_warning(h))
		cli_err("warning: %s", procmgr_warning(h));
	snprintf(row->name, sizeof(row->name), "%s", procmgr_get_name(h));
	row->state = cli_state_name(row->st.state);
	snprintf(row->pid, sizeof(row->pid), "%d", (int)row->st.pid);
	if (row->st.pid <= 0)
		strcpy(row->pid, "-");
	up = cli_uptime(&row->st);
	strcpy(row->uptime, "-");
	if (up >= 0)
		cli_duration(up, row->uptime, sizeof(row->uptime));
	r = CLI_OK;
out:
	procmgr_free(h);
	return r;
}

/* One row as a JSON object: the status's, or name, state "error", error. */
static void row_json(const struct row *row)
{
	if (!row->error) {
		json_status(stdout, row->name, &row->st);
	} else {
		fputs("{\"name\": ", stdout);
		json_string(stdout, row->name);
		fputs(", \"state\": \"error\", \"pid\": null, \"fingerprint\": "
		      "null, \"socket\": null, \"started_at\": null, "
		      "\"exit\": null", stdout);
		json_field(stdout, "error", row->error);
	}
	fputc('}', stdout);
}

/* The rows as one JSON array. */
static int print_json(const struct row *rows, size_t n)
{
	cli_json_printed();
	fputs(n ? "[\n  " : "[]\n", stdout);
	for (size_t i = 0; i < n; i++) {
		row_json(&rows[i]);
		fputs(i + 1 < n ? ",\n  " : "\n]\n", stdout);
	}
	return CLI_OK;
}

/* The table; with -q without its header, for scripts. */
static void print_table(const struct cli *c, const struct row *rows,
			size_t n)
{
	int wn = 4, ws = 7, wp = 3, wu = 6;

	for (size_t i = 0; i < n; i++) {
		if ((int)strlen(rows[i].name) > wn)
			wn = (int)strlen(rows[i].name);
		if ((int)strlen(rows[i].pid) > wp)
			wp = (int)strlen(rows[i].pid);
		if ((int)strlen(rows[i].uptime) > wu)
			wu = (int)strlen(rows[i].uptime);
	}
	if (!c->quiet)
		printf("%-*s  %-*s  %*s  %-*s  %s\n", wn, "NAME", ws, "STATE",
		       wp, "PID", wu, "UPTIME", "SOCKET");
	for (size_t i = 0; i < n; i++)
		printf("%-*s  %-*s  %*s  %-*s  %s\n", wn, rows[i].name, ws,
		       rows[i].state, wp, rows[i].pid, wu, rows[i].uptime,
		       rows[i].st.socket ? rows[i].st.socket : "-");
}

/*
 * procmgr_list() has no handle for its message: opening a handle on the
 * same DIR says what is wrong with it, naming the path.
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
	struct row *rows = NULL;
	char **names = NULL;
	size_t n = 0;
	int r;

	r = cli_parse(c, argc, argv, &syntax, NULL, NULL, NULL, NULL);
	if (r != CLI_CONTINUE)
		return r;
	r = procmgr_list(c->dir, &names);
	if (r < 0)
		return list_failed(c, r);
	say_dir(c);
	c->verbose = false;	/* not once per NAME */
	while (names[n])
		n++;
	rows = calloc(n + 1, sizeof(*rows));
	r = rows ? CLI_OK : CLI_ERROR;
	for (size_t i = 0; i < n && r == CLI_OK; i++)
		r = fill_row(c, names[i], &rows[i]);
	if (r == CLI_OK && c->json)
		r = print_json(rows, n);
	else if (r == CLI_OK)
		print_table(c, rows, n);
	for (size_t i = 0; rows && i < n; i++) {
		procmgr_status_clear(&rows[i].st);
		free(rows[i].error);
	}
	free(rows);
	procmgr_strv_free(names);
	return r;
}
