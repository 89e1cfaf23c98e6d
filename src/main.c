/*
 * main.c - procmgr's entry point: global options, then one command.
 *
 * The global options come before the command (or after it: see
 * cli_getopt()); each command parses its own options after its operands
 * (cmd-*.c). Everything after "--" belongs to
 * the daemon and is never parsed here.
 */
#include "cli.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct command {
	const char *name;
	int (*fn)(struct cli *c, int argc, char **argv);
	const char *synopsis;
	const char *summary;
	const char *options;	/* NULL: none */
	const char *example;
};

#define SPAWN_OPTIONS \
	"  --fingerprint STR       use STR as the fingerprint\n" \
	"  --fingerprint-env VAR   fold $VAR into it (repeatable)\n" \
	"  --fingerprint-file PATH fold PATH's content in (repeatable)\n" \
	"  --cwd DIR               run the daemon in DIR (default: here)\n" \
	"  --log FILE              append its output to FILE\n" \
	"                          (default: DIR/HOSTFP/NAME.log)\n" \
	"  --log-max BYTES         rotate a log over BYTES to .1 at start\n" \
	"                          (default, and 0: 10 MiB)\n" \
	"  --env VAR=VALUE         add to its environment (repeatable;\n" \
	"                          part of the fingerprint)\n" \
	"  --process-name STR      record STR as process_name (pants)\n" \
	"  --ready MODE            exec, socket, notify, fd:N, tcp:PORT,\n" \
	"                          unix:PATH (default: exec)\n" \
	"  --ready-timeout SEC     wait that long for ready (default 60,\n" \
	"                          0: no limit)\n" \
	"  --kill-on-timeout       stop the daemon when not ready in time\n" \
	"  --lock-timeout SEC      wait that long for the lifecycle lock\n" \
	"                          (default: forever; 0: do not wait)\n" \
	"Supervision (by the daemon's monitor):\n" \
	"  --restart POLICY        no, on-failure or always: start it again\n" \
	"                          when it ends by itself (default no)\n" \
	"  --restart-limit N       restarts in a row before giving up (5)\n" \
	"  --idle-timeout SEC      stop it after SEC unused (start, ensure,\n" \
	"                          touch and connected clients are uses)\n" \
	"  --watchdog SEC          it must send WATCHDOG=1 that often\n" \
	"  --max-rss SIZE          ensure restarts it above SIZE (4G, 512M)\n" \
	"  --pid-file PATH         a server that forks names its main pid\n" \
	"  --signals LIST          stop chain (default TERM,KILL)\n" \
	"  --kill-wait SEC         wait after each signal (default 5)\n" \
	"  --kill-mode MODE        tree (default: the daemon, then the\n" \
	"                          rest of its tree) or process\n"

static const struct command commands[] = {
	{ "start", cmd_start, "start NAME [spawn options] -- CMD [ARG...]",
	  "Start CMD as the daemon NAME and print its pid once it is ready.\n"
	  "Exit 5 if NAME is already running, 4 if it is not ready in time,\n"
	  "7 if it died before it was ready.",
	  SPAWN_OPTIONS,
	  "procmgr start web --ready tcp:8080 -- ./server --port 8080" },
	{ "ensure", cmd_ensure, "ensure NAME [spawn options] -- CMD [ARG...]",
	  "Keep NAME if it runs with this fingerprint, else (re)start it.\n"
	  "Prints the pid; a restart says why on stderr.",
	  SPAWN_OPTIONS,
	  "pid=$(procmgr ensure web -- ./server)" },
	{ "restart", cmd_restart,
	  "restart NAME [spawn options] -- CMD [ARG...]",
	  "Stop NAME if it runs, then start CMD as NAME; prints the pid.",
	  SPAWN_OPTIONS,
	  "procmgr restart web -- ./server" },
	{ "stop", cmd_stop, "stop NAME|--all [--signals LIST] [--kill-wait SEC] "
	  "[--kill-mode MODE] [--keep-metadata] [--lock-timeout SEC]",
	  "Signal NAME along the chain until it is gone, then every process\n"
	  "left in its tree, then remove its metadata. A stale or stopped\n"
	  "NAME is success. Exit 6 when a process survives the whole chain.\n"
	  "--all stops every NAME under DIR and says what it stopped.",
	  "  --signals LIST      signals to send in turn (default TERM,KILL)\n"
	  "  --kill-wait SEC     wait after each signal (default 5)\n"
	  "  --kill-mode MODE    tree (default) or process: the daemon alone\n"
	  "  --keep-metadata     keep DIR/HOSTFP/NAME afterwards\n"
	  "  --lock-timeout SEC  wait that long for the lifecycle lock\n"
	  "  --all               every NAME under DIR\n",
	  "procmgr stop web --signals INT,TERM,KILL --kill-wait 2" },
	{ "status", cmd_status, "status NAME",
	  "Show NAME's state, pid, uptime, fingerprint, socket and last exit.\n"
	  "Exit 0 running, 1 stale (dead, metadata left), 3 stopped.",
	  NULL, "procmgr status web" },
	{ "list", cmd_list, "list",
	  "Show every NAME under DIR/HOSTFP: NAME STATE PID UPTIME SOCKET.",
	  NULL, "procmgr --json list" },
	{ "get", cmd_get, "get NAME KEY",
	  "Print the value of KEY (NULs of cmdline shown as spaces).\n"
	  "Exit 3 when KEY is absent.",
	  NULL, "procmgr get web socket" },
	{ "set", cmd_set, "set NAME KEY VALUE",
	  "Write KEY atomically.", NULL, "procmgr set web socket 38549" },
	{ "await", cmd_await, "await NAME KEY [--timeout SEC]",
	  "Wait until KEY exists, then print its value. Exit 4 on timeout.",
	  "  --timeout SEC  give up after SEC seconds (default: forever)\n",
	  "port=$(procmgr await web socket --timeout 30)" },
	{ "purge", cmd_purge, "purge NAME [--force] [--lock-timeout SEC]",
	  "Remove NAME's metadata when it is not running (exit 1 while it\n"
	  "runs). Nothing is signalled; the log is kept.",
	  "  -f, --force         remove it even while NAME runs\n"
	  "  --lock-timeout SEC  wait that long for the lifecycle lock\n",
	  "procmgr purge web" },
	{ "lock", cmd_lock, "lock NAME [--lock-timeout SEC] -- CMD [ARG...]",
	  "Run CMD while holding NAME's lifecycle lock (pants' clients\n"
	  "respect it too); exit with CMD's status. Exit 4 on timeout.\n"
	  "CMD inherits the lock: a procmgr it runs for NAME uses it.",
	  "  --lock-timeout SEC  give up after SEC seconds (default: wait)\n",
	  "procmgr lock web -- ./migrate-db" },
	{ "logs", cmd_logs, "logs NAME [-n LINES] [-f]",
	  "Print the end of NAME's log; -f follows it until the daemon ends.",
	  "  -n, --lines LINES  how many lines (default 10)\n"
	  "  -f, --follow       keep printing new lines while NAME runs\n",
	  "procmgr logs web -n 50 -f" },
	{ "touch", cmd_touch, "touch NAME",
	  "Count a use of NAME: its monitor re-arms the --idle-timeout.\n"
	  "Exit 3 when NAME is not running.",
	  NULL, "procmgr touch web" },
	{ "ps", cmd_ps, "ps",
	  "Every daemon of yours, in every DIR, found through the running\n"
	  "monitors: DIR NAME PID STATE UPTIME RSS.",
	  NULL, "procmgr ps --json" },
	{ "killall", cmd_killall, "killall [--signals LIST] [--kill-wait SEC] "
	  "[--kill-mode MODE]",
	  "Stop every daemon that 'procmgr ps' lists, in every DIR, and say\n"
	  "what was stopped. Exit 6 if a process survived its chain.",
	  "  --signals LIST      signals to send in turn (default TERM,KILL)\n"
	  "  --kill-wait SEC     wait after each signal (default 5)\n"
	  "  --kill-mode MODE    tree (default) or process\n",
	  "procmgr killall" },
	{ "host-fingerprint", cmd_host_fingerprint, "host-fingerprint",
	  "Print the host fingerprint (HOSTFP), as pants computes it.",
	  NULL, "ls \"$PROCMGR_DIR/$(procmgr host-fingerprint)\"" },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

int cli_help(const char *cmd)
{
	const struct command *k = find_command(cmd);

	printf("Usage: procmgr [global options] %s\n\n%s\n", k->synopsis,
	       k->summary);
	if (k->options)
		printf("\nOptions:\n%s", k->options);
	printf("\nGlobal options (before or after %s): --dir DIR, --json, "
	       "-q, -v.\n", k->name);
	printf("\nExample:\n  %s\n", k->example);
	return CLI_OK;
}

static int main_help(void)
{
	puts("Usage: procmgr [--dir DIR] [--json] [-q] [-v] COMMAND NAME "
	     "[OPTIONS] [-- CMD [ARG...]]\n\n"
	     "Keep named background processes alive, identifiable and "
	     "stoppable.\n\n"
	     "Global options:\n"
	     "  --dir DIR      metadata directory (default: $PROCMGR_DIR,\n"
	     "                 $XDG_RUNTIME_DIR/procmgr, /tmp/procmgr-UID)\n"
	     "  --json         print JSON on stdout\n"
	     "  -q, --quiet    no informational lines on stderr\n"
	     "  -v, --verbose  say which files are used\n"
	     "  -h, --help     this help; 'procmgr COMMAND --help' for one\n"
	     "  --version      print the version\n\n"
	     "--dir, --json, -q and -v may also follow the command, as in\n"
	     "'procmgr list --json'. A command's options go before or after\n"
	     "NAME; what follows '--' is the daemon's.\n\n"
	     "Commands:");
	for (size_t i = 0; i < N_COMMANDS; i++)
		printf("  %s\n      e.g. %s\n", commands[i].synopsis,
		       commands[i].example);
	puts("\nExit status: 0 ok, 1 error, 2 usage, 3 not running, "
	     "4 timed out,\n5 already running, 6 could not stop, "
	     "7 died before ready, 130 interrupted (Ctrl-C).");
	return CLI_OK;
}

/* --dir, --json, -q and -v are cli_getopt()'s, here and after a command. */
static int parse_global(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int o;

	while ((o = cli_getopt(c, argc, argv, "h", opts)) != -1) {
		switch (o) {
		case 'h':
			return main_help();
		case 'V':
			printf("procmgr %s\n", procmgr_version());
			return CLI_OK;
		default:
			return CLI_USAGE;
		}
	}
	return CLI_CONTINUE;
}

static int dispatch(struct cli *c, int argc, char **argv)
{
	const struct command *k;
	int r;

	r = parse_global(c, argc, argv);
	if (r != CLI_CONTINUE)
		return r;
	if (optind >= argc)
		return cli_usage(c, "missing COMMAND");
	if (!strcmp(argv[optind], "help")) {
		if (optind + 1 >= argc)
			return main_help();
		if (find_command(argv[optind + 1]))
			return cli_help(argv[optind + 1]);
		return cli_usage(c, "no command '%s' to help with",
				 argv[optind + 1]);
	}
	k = find_command(argv[optind]);
	if (!k)
		return cli_usage(c, "unknown command '%s'", argv[optind]);
	c->cmd = k->name;
	return k->fn(c, argc - optind, argv + optind);
}

/*
 * Started with fd 0, 1 or 2 closed ("procmgr ... 2>&-"), the first file we
 * open would take that number, and our messages would be written into it -
 * into the lock file, say. /dev/null fills the gaps first.
 */
static void fill_stdio(void)
{
	int fd;

	while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd <= 2)
		;
	if (fd > 2)
		close(fd);
}

int main(int argc, char **argv)
{
	struct cli c = { 0 };
	int r;

	fill_stdio();
	cli_catch_signals();
	r = dispatch(&c, argc, argv);
	cli_wait_clear();
	cli_json_error(&c, r);
	/* A full disk or closed pipe must not pass for success. */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_err("cannot write to standard output");
		if (r == CLI_OK)
			r = CLI_ERROR;
	}
	cli_end_by_signal();
	return r;
}
