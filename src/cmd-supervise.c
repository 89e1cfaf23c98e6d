/*
 * cmd-supervise.c - the commands that speak to monitors: procmgr touch
 * NAME, procmgr ps, procmgr killall, and stop --all (SPEC §6).
 */
#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cmd_touch(struct cli *c, int argc, char **argv)
{
	struct procmgr_status st = { 0 };
	procmgr *h = NULL;
	int r;

	r = cli_name_status(c, argc, argv, false, &h, &st);
	if (r == CLI_CONTINUE && st.state != PROCMGR_RUNNING) {
		cli_info(c, "%s is not running: nothing to touch",
			 procmgr_get_name(h));
		r = CLI_NOT_RUNNING;
	} else if (r == CLI_CONTINUE) {
		r = procmgr_touch(h) < 0 ? cli_fail(h, -EIO) : CLI_OK;
	}
	procmgr_status_clear(&st);
	procmgr_free(h);
	return r;
}

/* One daemon, as ps and the stops of many see it. */
struct entry {
	const char *dir;
	const char *name;
};

static int open_entry(const struct cli *c, const struct entry *e,
		      procmgr **ret)
{
	procmgr *h = procmgr_new();
	int r;

	if (!h) {
		cli_err("out of memory");
		return CLI_ERROR;
	}
	r = procmgr_open(h, e->dir, e->name);
	if (r < 0) {
		r = cli_fail(h, r);
		procmgr_free(h);
		return r;
	}
	cli_wait_line(c, h);
	procmgr_set_cancel_fd(h, cli_cancel_fd());
	*ret = h;
	return CLI_CONTINUE;
}

/* ---- ps ------------------------------------------------------------ */

struct row {
	char *dir, *name, pid[16], state[16], up[32], rss[32];
	struct procmgr_status st;
	uint64_t bytes;
};

static void fill_row(const struct cli *c, const struct procmgr_monitor *m,
		     struct row *w)
{
	struct entry e = { m->dir, m->name };
	procmgr *h = NULL;

	w->dir = m->dir;
	w->name = m->name;
	snprintf(w->state, sizeof(w->state), "error");
	snprintf(w->pid, sizeof(w->pid), "-");
	snprintf(w->up, sizeof(w->up), "-");
	snprintf(w->rss, sizeof(w->rss), "-");
	if (open_entry(c, &e, &h) != CLI_CONTINUE)
		return;
	if (procmgr_status(h, &w->st) == 0) {
		snprintf(w->state, sizeof(w->state), "%s",
			 cli_state_name(w->st.state));
		if (w->st.pid > 0)
			snprintf(w->pid, sizeof(w->pid), "%d", (int)w->st.pid);
		if (w->st.state == PROCMGR_RUNNING) {
			cli_duration(cli_uptime(&w->st), w->up, sizeof(w->up));
			if (procmgr_tree_rss(h, &w->bytes) == 0)
				procmgr_format_size(w->bytes, w->rss,
						    sizeof(w->rss));
		}
	}
	procmgr_free(h);
}

static void print_table(const struct cli *c, const struct row *rows,
			size_t n)
{
	int wd = 3, wn = 4, wp = 3;

	for (size_t i = 0; i < n; i++) {
		int d = (int)strlen(rows[i].dir), m = (int)strlen(rows[i].name),
		    p = (int)strlen(rows[i].pid);

		wd = d > wd ? d : wd;
		wn = m > wn ? m : wn;
		wp = p > wp ? p : wp;
	}
	if (!c->quiet)
		printf("%-*s  %-*s  %*s  %-8s %-8s %s\n", wd, "DIR", wn, "NAME",
		       wp, "PID", "STATE", "UPTIME", "RSS");
	for (size_t i = 0; i < n; i++)
		printf("%-*s  %-*s  %*s  %-8s %-8s %s\n", wd, rows[i].dir, wn,
		       rows[i].name, wp, rows[i].pid, rows[i].state,
		       rows[i].up, rows[i].rss);
}

static int print_json_rows(const struct row *rows, size_t n)
{
	cli_json_printed();
	fputc('[', stdout);
	for (size_t i = 0; i < n; i++) {
		fputs(i ? ", " : "", stdout);
		json_status(stdout, rows[i].name, &rows[i].st);
		json_field(stdout, "dir", rows[i].dir);
		json_field_int(stdout, "rss_bytes", (long long)rows[i].bytes,
			       true);
		fputc('}', stdout);
	}
	puts("]");
	return CLI_OK;
}

int cmd_ps(struct cli *c, int argc, char **argv)
{
	static const struct cli_syntax syntax = { 0, "", NULL, NULL, false };
	struct procmgr_monitor *mons = NULL;
	struct row *rows = NULL;
	size_t n = 0;
	int r;

	r = cli_parse(c, argc, argv, &syntax, NULL, NULL, NULL, NULL);
	if (r != CLI_CONTINUE)
		return r;
	r = procmgr_monitors(&mons, &n);
	if (r < 0) {
		cli_err("cannot list the monitors in /proc: %s", strerror(-r));
		return CLI_ERROR;
	}
	rows = calloc(n ? n : 1, sizeof(*rows));
	if (!rows) {
		procmgr_monitors_free(mons, n);
		cli_err("out of memory");
		return CLI_ERROR;
	}
	for (size_t i = 0; i < n; i++)
		fill_row(c, &mons[i], &rows[i]);
	if (c->json)
		r = print_json_rows(rows, n);
	else
		print_table(c, rows, n);
	for (size_t i = 0; i < n; i++)
		procmgr_status_clear(&rows[i].st);
	free(rows);
	procmgr_monitors_free(mons, n);
	return r;
}

/* ---- stop --all, killall ------------------------------------------- */

/* Stop one; its exit code. json: one array element on stdout. */
static int stop_one(struct cli *c, const struct entry *e, bool say_dir,
		    const struct procmgr_stop_opts *opts, double lock_timeout,
		    bool *first)
{
	procmgr *h = NULL;
	pid_t pid = 0;
	int r;

	r = open_entry(c, e, &h);
	if (r != CLI_CONTINUE)
		return r;
	cli_lock_wait(c, h, lock_timeout);
	r = procmgr_stop(h, opts, &pid);
	if (r == 1)
		cli_info(c, "stopped %s%s%s (pid %d)", e->name,
			 say_dir ? " in " : "", say_dir ? e->dir : "",
			 (int)pid);
	else if (r == -ETIME)
		cli_err("%s", cli_errmsg(h));
	else if (r < 0)
		cli_fail(h, r);
	if (c->json) {
		fputs(*first ? "{\"dir\": " : ", {\"dir\": ", stdout);
		json_string(stdout, e->dir);
		json_field(stdout, "name", e->name);
		json_field_bool(stdout, "stopped", r == 1);
		json_field_int(stdout, "pid", pid, r == 1);
		fputc('}', stdout);
		*first = false;
	}
	procmgr_free(h);
	return r >= 0 ? CLI_OK : cli_exit_code(r);
}

static int names_under(const struct cli *c, struct entry **ret, size_t *n,
		       char ***ret_names, struct procmgr_monitor **ret_mons,
		       bool all_dirs)
{
	char **names = NULL;
	int r;

	if (all_dirs) {
		r = procmgr_monitors(ret_mons, n);
		if (r < 0)
			return r;
	} else {
		r = procmgr_list(c->dir, &names);
		if (r < 0)
			return r;
		for (*n = 0; names[*n]; (*n)++)
			;
	}
	*ret = calloc(*n ? *n : 1, sizeof(**ret));
	if (!*ret) {
		procmgr_strv_free(names);
		return -ENOMEM;
	}
	for (size_t i = 0; i < *n; i++)
		(*ret)[i] = all_dirs ?
			(struct entry){ (*ret_mons)[i].dir, (*ret_mons)[i].name } :
			(struct entry){ c->dir, names[i] };
	*ret_names = names;
	return 0;
}

int cli_stop_many(struct cli *c, bool all_dirs,
		  const struct procmgr_stop_opts *opts, double lock_timeout)
{
	struct procmgr_monitor *mons = NULL;
	struct entry *v = NULL;
	char **names = NULL;
	size_t n = 0;
	bool first = true;
	int r, worst = CLI_OK;

	r = names_under(c, &v, &n, &names, &mons, all_dirs);
	if (r < 0) {
		cli_err("cannot list the daemons to stop: %s", strerror(-r));
		return CLI_ERROR;
	}
	if (c->json) {
		cli_json_printed();
		fputc('[', stdout);
	}
	for (size_t i = 0; i < n && !cli_signal; i++) {
		r = stop_one(c, &v[i], all_dirs, opts, lock_timeout, &first);
		if (r != CLI_OK && (worst == CLI_OK || r > 128))
			worst = r;
	}
	if (c->json)
		puts("]");
	if (n == 0)
		cli_info(c, "nothing to stop");
	free(v);
	procmgr_strv_free(names);
	procmgr_monitors_free(mons, n);
	return worst;
}

static int take_stop(struct cli *c, int o, char *arg, void *ctx)
{
	struct procmgr_stop_opts *stop = ctx;

	/* the chain is kept in the options' own array, below */
	return cli_stop_option(c, o, arg, stop, (int *)stop->signals);
}

int cmd_killall(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_STOP_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	static const struct cli_syntax syntax = { 0, "", NULL, opts, false };
	int signals[CLI_MAX_SIGNALS];
	struct procmgr_stop_opts stop = { .kill_wait = -1 };
	int r;

	stop.signals = signals;	/* where take_stop keeps the chain */
	r = cli_parse(c, argc, argv, &syntax, take_stop, &stop, NULL, NULL);
	if (!stop.n_signals)
		stop.signals = NULL;
	return r == CLI_CONTINUE ? cli_stop_many(c, true, &stop, -1) : r;
}
