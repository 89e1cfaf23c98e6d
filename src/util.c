/*
 * util.c - argument parsing, messages and exit codes shared by the
 * commands.
 */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/*
 * A message on stderr, escaped (procmgr_escape()): it echoes what the
 * user typed (NAMEs, keys, commands), which may hold terminal controls.
 */
static void put_escaped(const char *fmt, va_list ap)
{
	char *raw = NULL, *safe = NULL;
	size_t size;

	if (vasprintf(&raw, fmt, ap) < 0)
		raw = NULL;
	size = raw ? strlen(raw) * 4 + 1 : 0;
	if (raw)
		safe = malloc(size);
	if (safe)
		procmgr_escape(raw, safe, size);
	fputs(safe ? safe : "out of memory", stderr);
	free(safe);
	free(raw);
}

/* What --json prints for a failure that printed no JSON of its own. */
static struct {
	bool printed;			/* a JSON document went to stdout */
	char message[1024];		/* the last error said on stderr */
} json_state;

void cli_json_printed(void)
{
	json_state.printed = true;
}

static void remember(const char *fmt, va_list ap)
{
	vsnprintf(json_state.message, sizeof(json_state.message), fmt, ap);
}

void cli_json_error(const struct cli *c, int code)
{
	if (!c->json || code == CLI_OK || json_state.printed)
		return;
	printf("{\"error\": {\"exit\": %d", code);
	json_field(stdout, "message", json_state.message);
	fputs("}", stdout);
	json_field(stdout, "command", c->cmd);
	puts("}");
}

void cli_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	remember(fmt, ap);
	va_end(ap);
	cli_stderr_lock();
	fputs("procmgr: ", stderr);
	va_start(ap, fmt);
	put_escaped(fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	cli_stderr_unlock();
}

void cli_info(const struct cli *c, const char *fmt, ...)
{
	va_list ap;

	if (c->quiet)
		return;
	cli_stderr_lock();
	va_start(ap, fmt);
	put_escaped(fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	cli_stderr_unlock();
}

int cli_usage(const struct cli *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	remember(fmt, ap);
	va_end(ap);
	fputs("procmgr: ", stderr);
	if (c->cmd)
		fprintf(stderr, "%s: ", c->cmd);
	va_start(ap, fmt);
	put_escaped(fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'procmgr %s%s--help'.\n", c->cmd ? c->cmd : "",
		c->cmd ? " " : "");
	return CLI_USAGE;
}

int cli_exit_code(int r)
{
	switch (-r) {
	case EINTR:
		return 128 + (cli_signal ? cli_signal : SIGINT);
	case ETIMEDOUT:
	case EWOULDBLOCK:
		return CLI_TIMEOUT;
	case EEXIST:
		return CLI_ALREADY;
	case ETIME:
		return CLI_NOT_STOPPED;
	case ECHILD:
		return CLI_DIED;
	case EINVAL:
		return CLI_USAGE;
	default:
		return CLI_ERROR;
	}
}

/* The option that sets each parameter procmgr_errparam() names. */
static const char *const param_flags[][2] = {
	{ "dir", "--dir" },
	{ "cwd", "--cwd" },
	{ "log_path", "--log" },
	{ "fingerprint_files", "--fingerprint-file" },
	{ "force", "--force" },
};

const char *cli_errmsg(procmgr *h)
{
	static char buf[2048];
	const char *param = procmgr_errparam(h);

	for (size_t i = 0; param && i < sizeof(param_flags) / sizeof(param_flags[0]); i++)
		if (!strcmp(param, param_flags[i][0])) {
			snprintf(buf, sizeof(buf), "%s (%s)",
				 procmgr_errmsg(h), param_flags[i][1]);
			return buf;
		}
	return procmgr_errmsg(h);
}

int cli_fail(procmgr *h, int r)
{
	const char *msg = cli_errmsg(h);

	if (!msg || !*msg)
		msg = strerror(-r);
	cli_err("%s", msg);
	return cli_exit_code(r);
}

/* Options until the first operand (or "--"): CLI_CONTINUE or exit. */
static int options(struct cli *c, int argc, char **argv,
		   const struct cli_syntax *s, cli_option_fn fn, void *ctx)
{
	int o, r = CLI_CONTINUE;

	while (r == CLI_CONTINUE &&
	       (o = cli_getopt(c, argc, argv, s->shortopts, s->longopts)) !=
		       -1) {
		if (o == 'h')
			r = cli_help(c->cmd);
		else if (o == '?' || !fn)
			r = CLI_USAGE;
		else
			r = fn(c, o, optarg, ctx);
	}
	return r;
}

/* Did the last options() stop at "--" (which getopt then consumed)? */
static bool at_dashes(int argc, char **argv)
{
	return optind > 1 && optind <= argc && !strcmp(argv[optind - 1], "--");
}

int cli_parse(struct cli *c, int argc, char **argv,
	      const struct cli_syntax *s, cli_option_fn fn, void *ctx,
	      char **ops, char ***ret_rest)
{
	int r;

	optind = 0;	/* a fresh getopt for each command */
	r = options(c, argc, argv, s, fn, ctx);
	for (int i = 0; r == CLI_CONTINUE && i < s->npos; i++) {
		if ((i == 0 && at_dashes(argc, argv)) || optind >= argc)
			return cli_usage(c, "expects %s%s", s->what,
					 at_dashes(argc, argv) ?
					 " before '--'" : "");
		/*
		 * getopt leaves "-" alone: a NAME may not look like a flag.
		 * A KEY or VALUE after it is taken as it is ("-5").
		 */
		if (i == 0 && argv[optind][0] == '-')
			return cli_usage(c, "NAME cannot start with '-': '%s'",
					 argv[optind]);
		ops[i] = argv[optind++];
	}
	/* then options after the operands, as before them */
	if (r == CLI_CONTINUE && s->npos > 0 && !at_dashes(argc, argv))
		r = options(c, argc, argv, s, fn, ctx);
	if (r != CLI_CONTINUE)
		return r;
	if (s->rest && optind >= argc)
		return cli_usage(c, "expects a command to run after '--'");
	if (!s->rest && optind < argc)
		return cli_usage(c, "unexpected argument '%s'", argv[optind]);
	if (s->rest)
		*ret_rest = argv + optind;
	return CLI_CONTINUE;
}

/*
 * The global options are accepted after the command as well ("procmgr list
 * --json"), the way people type them; their codes lie above any character.
 */
enum { OPT_DIR = 0x100, OPT_JSON, OPT_QUIET, OPT_VERBOSE };
static const struct option global_opts[] = {
	{ "dir", required_argument, NULL, OPT_DIR },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "quiet", no_argument, NULL, OPT_QUIET },
	{ "verbose", no_argument, NULL, OPT_VERBOSE },
};
#define N_GLOBAL (sizeof(global_opts) / sizeof(global_opts[0]))
#define MAX_OPTS 40

/* Apply a global option to c; false when o is not one. */
static bool take_global(struct cli *c, int o)
{
	switch (o) {
	case OPT_DIR:
		c->dir = optarg;
		return true;
	case OPT_JSON:
		c->json = true;
		return true;
	case 'q':
	case OPT_QUIET:
		c->quiet = true;
		return true;
	case 'v':
	case OPT_VERBOSE:
		c->verbose = true;
		return true;
	}
	return false;
}

int cli_getopt(struct cli *c, int argc, char **argv, const char *shortopts,
	       const struct option *longopts)
{
	static const struct option help = { "help", no_argument, NULL, 'h' };
	struct option all[MAX_OPTS + N_GLOBAL + 2];
	char spec[64];
	const char *arg;
	size_t n = 0;
	int o;

	for (; longopts && longopts[n].name && n < MAX_OPTS; n++)
		all[n] = longopts[n];
	all[n++] = help;
	memcpy(all + n, global_opts, sizeof(global_opts));
	all[n + N_GLOBAL] = (struct option){ 0 };
	snprintf(spec, sizeof(spec), "+:h%sqv", shortopts ? shortopts : "");
	opterr = 0;
	do
		o = getopt_long(argc, argv, spec, all, NULL);
	while (take_global(c, o));
	if (o != '?' && o != ':')
		return o;
	arg = argv[optind - 1];
	if (o == ':')
		cli_usage(c, "option '%s' needs a value", arg);
	else if (!strncmp(arg, "--", 2))
		cli_usage(c, "unknown option '%s'", arg);
	else
		cli_usage(c, "unknown option '-%c'", optopt);
	return '?';
}

/* "TERM,KILL" or "SIGINT,15" into signals; no empty items. */
static int parse_signals(const struct cli *c, const char *list,
			 struct procmgr_stop_opts *stop, int *signals)
{
	const char *p = list;
	char item[32];
	size_t n = 0, len;
	int sig;

	do {
		len = strcspn(p, ",");
		if (len == 0 || len >= sizeof(item) || n == CLI_MAX_SIGNALS)
			goto fail;
		memcpy(item, p, len);
		item[len] = '\0';
		sig = procmgr_signal_parse(item);
		if (sig <= 0)
			goto fail;
		signals[n++] = sig;
		p += len;
	} while (*p++ == ',');
	stop->signals = signals;
	stop->n_signals = n;
	return CLI_CONTINUE;
fail:
	return cli_usage(c, "--signals wants a comma-separated list of at "
			 "most %d signals, like TERM,KILL, not '%s'",
			 CLI_MAX_SIGNALS, list);
}

int cli_stop_option(const struct cli *c, int o, const char *arg,
		    struct procmgr_stop_opts *stop, int *signals)
{
	if (o == 's')
		return parse_signals(c, arg, stop, signals);
	if (o == 'w')
		return cli_seconds(c, "--kill-wait", arg, &stop->kill_wait);
	if (!strcmp(arg, "tree"))
		stop->kill_mode = PROCMGR_KILL_TREE;
	else if (!strcmp(arg, "process"))
		stop->kill_mode = PROCMGR_KILL_PROCESS;
	else
		return cli_usage(c, "--kill-mode wants tree or process, not "
				 "'%s'", arg);
	return CLI_CONTINUE;
}

int cli_seconds(const struct cli *c, const char *opt, const char *s,
		double *ret)
{
	size_t len = strlen(s);
	char *end;
	double v;

	/* Digits and one optional point only: no sign, exponent, inf, hex. */
	if (len == 0 || strspn(s, "0123456789.") != len ||
	    strspn(s, ".") == len || strchr(s, '.') != strrchr(s, '.'))
		goto fail;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end)
		goto fail;
	*ret = v;
	return CLI_CONTINUE;
fail:
	return cli_usage(c, "%s wants seconds (a number >= 0, like 2.5), "
			 "not '%s'", opt, s);
}

int cli_count(const struct cli *c, const char *opt, const char *s,
	      unsigned long long *ret)
{
	size_t len = strlen(s);
	char *end;
	unsigned long long v;

	if (len == 0 || strspn(s, "0123456789") != len)
		goto fail;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		goto fail;
	*ret = v;
	return CLI_CONTINUE;
fail:
	return cli_usage(c, "%s wants a whole number >= 0, not '%s'", opt, s);
}

static int open_name(const struct cli *c, const char *name, bool read_only,
		     procmgr **ret_h)
{
	char norm[PROCMGR_NAME_MAX + 1];
	procmgr *h;
	int r;

	if (procmgr_name_normalize(name, norm) < 0)
		return cli_usage(c, "invalid NAME '%s': use 1-%d characters of "
				 "[a-z0-9._-] (upper case is lowered), not "
				 "starting with '.'", name, PROCMGR_NAME_MAX);
	h = procmgr_new();
	if (!h) {
		cli_err("out of memory");
		return CLI_ERROR;
	}
	r = read_only ? procmgr_open_read_only(h, c->dir, name) :
			procmgr_open(h, c->dir, name);
	if (r < 0) {
		r = cli_fail(h, r);
		procmgr_free(h);
		return r;
	}
	/* said once, here: the daemon was found under another HOSTFP */
	if (procmgr_warning(h))
		cli_err("warning: %s", procmgr_warning(h));
	if (c->verbose)
		cli_info(c, "procmgr: %s: metadata in %s, lock %s", norm,
			 procmgr_meta_dir(h), procmgr_lock_path(h));
	cli_wait_line(c, h);
	procmgr_set_cancel_fd(h, cli_cancel_fd());
	*ret_h = h;
	return CLI_CONTINUE;
}

int cli_open(const struct cli *c, const char *name, procmgr **ret_h)
{
	return open_name(c, name, false, ret_h);
}

int cli_open_read_only(const struct cli *c, const char *name, procmgr **ret_h)
{
	return open_name(c, name, true, ret_h);
}

int cli_name_status(struct cli *c, int argc, char **argv, bool read_only,
		    procmgr **ret_h, struct procmgr_status *ret_st)
{
	static const struct cli_syntax syntax = { 1, "NAME", NULL, NULL,
						  false };
	char *op[1];
	int r;

	if ((r = cli_parse(c, argc, argv, &syntax, NULL, NULL, op, NULL)) !=
		    CLI_CONTINUE ||
	    (r = open_name(c, op[0], read_only, ret_h)) != CLI_CONTINUE)
		return r;
	r = procmgr_status(*ret_h, ret_st);
	return r < 0 ? cli_fail(*ret_h, r) : CLI_CONTINUE;
}

static void on_lock_wait(procmgr *h, const char *message,
			 const char *wait_line, void *userdata)
{
	const struct cli *c = userdata;

	(void)h;
	(void)message;
	cli_info(c, "%s", wait_line);
}

void cli_lock_wait(struct cli *c, procmgr *h, double timeout)
{
	procmgr_set_lock_wait(h, timeout, on_lock_wait, c);
}

int cli_print_json(procmgr *h, const struct procmgr_status *st,
		   const char *const *extra)
{
	cli_json_printed();
	json_status(stdout, procmgr_get_name(h), st);
	for (; extra && extra[0]; extra += 2)
		json_field(stdout, extra[0], extra[1]);
	puts("}");
	return CLI_OK;
}

int cli_print_status_json(procmgr *h, const char *const *extra)
{
	struct procmgr_status st = { 0 };
	int r;

	r = procmgr_status(h, &st);
	r = r < 0 ? cli_fail(h, r) : cli_print_json(h, &st, extra);
	procmgr_status_clear(&st);
	return r;
}

int cli_print_value(const struct cli *c, procmgr *h, const char *key,
		    const char *value)
{
	if (c->json)
		return cli_print_status_json(h, (const char *const[]){
			"key", key, "value", value, NULL });
	puts(value);
	return CLI_OK;
}

void cli_duration(long long secs, char *buf, size_t size)
{
	if (secs < 0) {
		snprintf(buf, size, "?");
		return;
	}
	if (secs >= 86400)
		snprintf(buf, size, "%lldd%lldh", secs / 86400,
			 secs % 86400 / 3600);
	else if (secs >= 3600)
		snprintf(buf, size, "%lldh%lldm", secs / 3600,
			 secs % 3600 / 60);
	else if (secs >= 60)
		snprintf(buf, size, "%lldm%llds", secs / 60, secs % 60);
	else
		snprintf(buf, size, "%llds", secs);
}

long long cli_uptime(const struct procmgr_status *st)
{
	long long d;

	if (st->state != PROCMGR_RUNNING || st->started_at < 0)
		return -1;
	d = (long long)(time(NULL) - st->started_at);
	return d < 0 ? 0 : d;
}

char *cli_printable(char *value, size_t len)
{
	/* cmdline holds NUL-terminated arguments: show them space-separated. */
	for (size_t i = 0; i < len; i++)
		if (value[i] == '\0')
			value[i] = ' ';
	while (len > 0 && strchr(" \t\r\n", value[len - 1]))
		value[--len] = '\0';
	return value + strspn(value, " \t\r\n");
}
