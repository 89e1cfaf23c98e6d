/*
 * cli.h - what the files of the procmgr command share.
 *
 * The command line is a thin layer over procmgr.h: main.c parses the global
 * options and dispatches to one cmd_*() per command (cmd-*.c); util.c holds
 * the argument parsing, message and exit-code helpers they share. Only this
 * layer prints or exits, and it never reaches past procmgr.h.
 */
#ifndef PROCMGR_CLI_H
#define PROCMGR_CLI_H

#include "procmgr.h"

#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

/* Exit codes, SPEC §4. */
enum cli_exit {
	CLI_OK = 0,
	CLI_ERROR = 1,		/* message on stderr */
	CLI_USAGE = 2,
	CLI_NOT_RUNNING = 3,	/* status: stopped; get: key absent */
	CLI_TIMEOUT = 4,	/* lock, await, readiness */
	CLI_ALREADY = 5,	/* start: already running */
	CLI_NOT_STOPPED = 6,	/* survived the signal chain */
	CLI_DIED = 7,		/* died before ready */
};

/* Returned by cli_parse() and friends when the command should go on. */
#define CLI_CONTINUE (-1)

/* The global options. */
struct cli {
	const char *dir;	/* --dir, or NULL: procmgr_default_dir() */
	const char *cmd;	/* the command, for messages */
	bool json;
	bool quiet;		/* no informational lines on stderr */
	bool verbose;
};

/* The commands; argv[0] is the command's name. They return an exit code. */
int cmd_status(struct cli *c, int argc, char **argv);
int cmd_list(struct cli *c, int argc, char **argv);
int cmd_get(struct cli *c, int argc, char **argv);
int cmd_set(struct cli *c, int argc, char **argv);
int cmd_await(struct cli *c, int argc, char **argv);
int cmd_purge(struct cli *c, int argc, char **argv);
int cmd_lock(struct cli *c, int argc, char **argv);
int cmd_stop(struct cli *c, int argc, char **argv);
int cmd_host_fingerprint(struct cli *c, int argc, char **argv);
int cmd_start(struct cli *c, int argc, char **argv);
int cmd_ensure(struct cli *c, int argc, char **argv);
int cmd_restart(struct cli *c, int argc, char **argv);
int cmd_logs(struct cli *c, int argc, char **argv);
int cmd_touch(struct cli *c, int argc, char **argv);
int cmd_ps(struct cli *c, int argc, char **argv);
int cmd_killall(struct cli *c, int argc, char **argv);

/* ---- cmd-supervise.c ------------------------------------------------ */

/*
 * Stop every NAME under dir (stop --all; NULL: the default DIR), or every
 * daemon of the user (killall, all_dirs): each line says what was stopped.
 */
int cli_stop_many(struct cli *c, bool all_dirs,
		  const struct procmgr_stop_opts *opts, double lock_timeout);

/* ---- json.c ---------------------------------------------------------- */

/*
 * JSON onto a stream: s as a string (null for NULL; control and non-UTF-8
 * bytes escaped), and ', "key": value' pairs to add to an open object.
 */
void json_string(FILE *f, const char *s);
void json_field(FILE *f, const char *key, const char *value);
void json_field_int(FILE *f, const char *key, long long value, bool present);
void json_field_bool(FILE *f, const char *key, bool value);
/*
 * A status as an object with SPEC §4's fields in their order, left open
 * ("{...") for the command's own fields; the caller writes the "}".
 */
void json_status(FILE *f, const char *name, const struct procmgr_status *st);
/* "running", "stale", "stopped" (SPEC §4); "error" for anything else. */
const char *cli_state_name(enum procmgr_state state);

/* ---- wait.c ---------------------------------------------------------- */

/* The signal that interrupted us (SIGINT, SIGTERM, SIGHUP), or 0. */
extern volatile sig_atomic_t cli_signal;
/* Note those signals instead of dying, so library waits return -EINTR. */
void cli_catch_signals(void);
/* The fd a caught signal makes readable, for procmgr_set_cancel_fd(). */
int cli_cancel_fd(void);
/* After cleaning up: die by the signal that interrupted us, if any. */
void cli_end_by_signal(void);
/* The live wait line for h's waits, when stderr is a terminal and not -q. */
void cli_wait_line(const struct cli *c, procmgr *h);
/* Wipe the wait line; around other stderr output: lock, print, unlock. */
void cli_wait_clear(void);
void cli_stderr_lock(void);
void cli_stderr_unlock(void);

/* ---- main.c ---------------------------------------------------------- */

/* Print the help of one command on stdout; returns CLI_OK. */
int cli_help(const char *cmd);

/* ---- util.c ---------------------------------------------------------- */

/* "procmgr: <message>" on stderr. */
void cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* An informational line on stderr, unless -q. */
void cli_info(const struct cli *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A usage error: the message and a pointer to --help; returns CLI_USAGE. */
int cli_usage(const struct cli *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A JSON document went to stdout (with --json). */
void cli_json_printed(void);
/*
 * With --json, a command that failed (code) without printing JSON prints
 * {"error": {"exit": code, "message": "..."}, "command": "..."}, so that
 * stdout always holds exactly one JSON document.
 */
void cli_json_error(const struct cli *c, int code);
/* The exit code for a library failure r (< 0). */
int cli_exit_code(int r);
/*
 * h's message about its last failure, with the option to change when the
 * failure is about one: "... use another directory (--dir)".
 */
const char *cli_errmsg(procmgr *h);
/* Print cli_errmsg(h) about failure r; returns cli_exit_code(r). */
int cli_fail(procmgr *h, int r);

/* What a command takes on its command line. */
struct cli_syntax {
	int npos;			/* operands: NAME, KEY, VALUE */
	const char *what;		/* "NAME KEY", for messages */
	const char *shortopts;		/* besides -h, -q, -v; NULL: none */
	const struct option *longopts;	/* besides --help, the globals */
	bool rest;			/* a command follows (-- CMD...) */
};

/* Take option o (with arg): CLI_CONTINUE, or an exit code. */
typedef int (*cli_option_fn)(struct cli *c, int o, char *arg, void *ctx);

/*
 * Parse a command's arguments (argv[0] is the command): options before
 * and after the operands, as getopt users expect (`logs -n 5 web`), each
 * handed to fn; the operands into ops[] (none may start with '-'); with
 * rest, the daemon's command, after "--" or at the first word that is
 * not an option, into *ret_rest, never parsed. --help shows the command's
 * help. CLI_CONTINUE, or an exit code (help shown, or a usage error).
 */
int cli_parse(struct cli *c, int argc, char **argv,
	      const struct cli_syntax *s, cli_option_fn fn, void *ctx,
	      char **ops, char ***ret_rest);
/*
 * getopt_long() with the leading '+' (stop at "--" and at the first operand,
 * so a daemon's flags are never parsed), --help, the global options, and
 * our own messages: returns the option, -1 at the end, '?' after printing
 * a usage message.
 */
int cli_getopt(struct cli *c, int argc, char **argv,
	       const char *shortopts, const struct option *longopts);

#define CLI_MAX_SIGNALS 16

/*
 * --signals LIST ('s'), --kill-wait SEC ('w') or --kill-mode MODE ('k')
 * into a stop's options; signals is where the chain is kept.
 */
#define CLI_STOP_OPTIONS						\
	{ "signals", required_argument, NULL, 's' },			\
	{ "kill-wait", required_argument, NULL, 'w' },			\
	{ "kill-mode", required_argument, NULL, 'k' }
int cli_stop_option(const struct cli *c, int o, const char *arg,
		    struct procmgr_stop_opts *stop, int *signals);

/* Strict numbers: seconds >= 0 (fractions allowed) and counts >= 0. */
int cli_seconds(const struct cli *c, const char *opt, const char *s,
		double *ret);
int cli_count(const struct cli *c, const char *opt, const char *s,
	      unsigned long long *ret);

/* Check NAME (exit 2 naming the rule) and open a handle on it. */
int cli_open(const struct cli *c, const char *name, procmgr **ret_h);
/* The same for reading only: root may read another user's DIR. */
int cli_open_read_only(const struct cli *c, const char *name,
		       procmgr **ret_h);
/*
 * For a command whose only operand is NAME: parse, open (read_only: as
 * cli_open_read_only()) and read the status. CLI_CONTINUE, or the exit
 * code; *ret_h may be set either way, for the caller to free.
 */
int cli_name_status(struct cli *c, int argc, char **argv, bool read_only,
		    procmgr **ret_h, struct procmgr_status *ret_st);
/* procmgr_set_lock_wait() with a callback printing pants' waiting line. */
void cli_lock_wait(struct cli *c, procmgr *h, double timeout);

/* Print a status (or list row) as JSON with extra pairs; CLI_OK or 1. */
int cli_print_json(procmgr *h, const struct procmgr_status *st,
		   const char *const *extra);
/* Read h's status and print it as cli_print_json() does. */
int cli_print_status_json(procmgr *h, const char *const *extra);
/* A key's value (get, await): alone, or with --json in h's status. */
int cli_print_value(const struct cli *c, procmgr *h, const char *key,
		    const char *value);
/*
 * A raw value (len bytes) made printable in place: NULs become spaces,
 * surrounding white space is dropped. Returns the start inside value.
 */
char *cli_printable(char *value, size_t len);
/* "3m12s" for a duration in seconds into buf. */
void cli_duration(long long secs, char *buf, size_t size);
/* Seconds since the recorded process started, or -1 when unknown. */
long long cli_uptime(const struct procmgr_status *st);

#endif
