/*
 * test-json.c - the CLI's JSON writer (src/json.c): --json output is valid
 * JSON whatever bytes a value holds (each string is round-tripped through
 * python3's json module), and a status has SPEC §4's fields in order.
 */
#include "cli.h"
#include "testutil.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Feed text to python3 and return what the program prints (one line). */
static char *python(const char *prog, const char *text)
{
	char *dir = tu_keep(tu_tmpdir()), file[512], cmd[2048], out[8192] = "";
	FILE *p;

	snprintf(file, sizeof(file), "%s/in.json", dir);
	tu_write_file(file, text, strlen(text));
	snprintf(cmd, sizeof(cmd), "python3 -c '%s' < %s", prog, file);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	if (!fgets(out, sizeof(out), p))
		out[0] = '\0';
	ck_assert_msg(pclose(p) == 0, "python3 rejected: %s", text);
	out[strcspn(out, "\n")] = '\0';
	return strdup(out);
}

/* What write(f) puts on a stream, as a string to free. */
#define CAPTURE(ret, write)						\
	do {								\
		size_t len_;						\
		FILE *f = open_memstream(&(ret), &len_);		\
		ck_assert_ptr_nonnull(f);				\
		write;							\
		ck_assert_int_eq(fclose(f), 0);				\
	} while (0)

static char *status_json(const char *name, const struct procmgr_status *st)
{
	char *json;

	CAPTURE(json, (json_status(f, name, st), fputc('}', f)));
	return json;
}

static const struct {
	const char *in;
	const char *utf8_hex;	/* what json.load must give back, UTF-8 */
} strings[] = {
	{ "plain", "706c61696e" },
	{ "", "" },
	{ "say \"hi\"", "7361792022686922" },
	{ "back\\slash", "6261636b5c736c617368" },
	{ "nl\ntab\tcr\r", "6e6c0a7461620963720d" },
	{ "\x01\x1f\x7f", "011f7f" },
	{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
	  "636166c3a920e282ac20f09f9880" },
	/* Not UTF-8: each bad byte becomes U+FFFD (ef bf bd). */
	{ "\xff", "efbfbd" },
	{ "a\xc0\x80z", "61efbfbdefbfbd7a" },		/* overlong NUL */
	{ "\xed\xa0\x80", "efbfbdefbfbdefbfbd" },	/* surrogate */
	{ "\xe2\x82", "efbfbdefbfbd" },			/* truncated */
	{ "\xf4\x90\x80\x80", "efbfbdefbfbdefbfbdefbfbd" }, /* > U+10FFFF */
	{ "\xe0\x80\xaf", "efbfbdefbfbdefbfbd" },	/* overlong 3 */
	{ "\xf0\x80\x80\xaf", "efbfbdefbfbdefbfbdefbfbd" }, /* overlong 4 */
	{ "\x80x", "efbfbd78" },			/* stray */
};

START_TEST(test_string_round_trip)
{
	char *json, *back;

	CAPTURE(json, json_string(f, strings[_i].in));
	back = python("import json, sys; "
		      "print(json.load(sys.stdin).encode().hex())", json);
	ck_assert_str_eq(back, strings[_i].utf8_hex);
	free(back);
	free(json);
}
END_TEST

START_TEST(test_string_exact)
{
	char *json;

	CAPTURE(json, json_string(f, "a\"b\\c\n\x01"));
	ck_assert_str_eq(json, "\"a\\\"b\\\\c\\n\\u0001\"");
	free(json);
	CAPTURE(json, (json_string(f, NULL), json_field(f, "k", NULL),
		       json_field_int(f, "n", -3, true),
		       json_field_int(f, "m", 7, false),
		       json_field_bool(f, "b", true)));
	ck_assert_str_eq(json, "null, \"k\": null, \"n\": -3, \"m\": null, "
			 "\"b\": true");
	free(json);
}
END_TEST

START_TEST(test_status_running)
{
	char fp[] = "ab12", sock[] = "38549";
	struct procmgr_status st = {
		.state = PROCMGR_RUNNING, .pid = 4242,
		.fingerprint = fp, .socket = sock,
		.started_at = 1795633339,
	};
	char *json, *back;

	CAPTURE(json, (json_status(f, "web", &st),
		       json_field(f, "uptime", "3m12s"),
		       json_field(f, "note", NULL), fputc('}', f)));
	ck_assert_str_eq(json, "{\"name\": \"web\", \"state\": \"running\", "
			 "\"pid\": 4242, \"fingerprint\": \"ab12\", "
			 "\"socket\": \"38549\", \"started_at\": "
			 "\"2026-11-25T19:02:19Z\", \"exit\": null, "
			 "\"ready\": false, \"status_text\": null, "
			 "\"restarts\": 0, \"monitor\": null, "
			 "\"uptime\": \"3m12s\", \"note\": null}");
	/* Field order is part of the contract: python keeps it. */
	back = python("import json, sys; "
		      "print(\",\".join(json.load(sys.stdin)))", json);
	ck_assert_str_eq(back, "name,state,pid,fingerprint,socket,started_at,"
			 "exit,ready,status_text,restarts,monitor,uptime,"
			 "note");
	free(back);
	free(json);
}
END_TEST

START_TEST(test_status_stopped_and_exits)
{
	struct procmgr_status st = {
		.state = PROCMGR_STOPPED, .started_at = -1,
	};
	char *json, *back, at[] = "2026-11-25T19:02:19Z";

	json = status_json("web", &st);
	ck_assert_str_eq(json, "{\"name\": \"web\", \"state\": \"stopped\", "
			 "\"pid\": null, \"fingerprint\": null, \"socket\": "
			 "null, \"started_at\": null, \"exit\": null, "
			 "\"ready\": false, \"status_text\": null, "
			 "\"restarts\": 0, \"monitor\": null}");
	free(json);
	st.state = PROCMGR_STALE;
	st.pid = 77;
	st.exit = (struct procmgr_exit){ true, -1, SIGSEGV, at, NULL };
	json = status_json("w\"x", &st);
	back = python("import json, sys; d = json.load(sys.stdin); "
		      "print(d[\"name\"], d[\"state\"], d[\"pid\"], "
		      "d[\"exit\"])", json);
	ck_assert_str_eq(back, "w\"x stale 77 {'status': None, 'signal': "
			 "'SEGV', 'at': '2026-11-25T19:02:19Z', 'reason': "
			 "None}");
	free(back);
	free(json);
	st.exit = (struct procmgr_exit){ true, 3, 0, NULL, (char *)"idle" };
	json = status_json("web", &st);
	ck_assert_ptr_nonnull(strstr(json, "\"exit\": {\"status\": 3, "
				     "\"signal\": null, \"at\": null, "
				     "\"reason\": \"idle\"}"));
	free(json);
	/* A signal without a name still shows, by number. */
	st.exit = (struct procmgr_exit){ true, -1, 200, NULL, NULL };
	json = status_json("web", &st);
	ck_assert_ptr_nonnull(strstr(json, "\"signal\": \"200\""));
	free(json);
	/* A state this CLI does not know is not passed off as one it does. */
	st.state = (enum procmgr_state)7;
	json = status_json("web", &st);
	ck_assert_ptr_nonnull(strstr(json, "\"state\": \"error\""));
	free(json);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("json");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_string_round_trip, 0,
			    (int)(sizeof(strings) / sizeof(strings[0])));
	tcase_add_test(tc, test_string_exact);
	tcase_add_test(tc, test_status_running);
	tcase_add_test(tc, test_status_stopped_and_exits);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
