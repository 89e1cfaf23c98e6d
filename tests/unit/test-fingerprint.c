/*
 * test-fingerprint.c - the options fingerprint: stable, length-prefixed,
 * sensitive to each input, and the inputs text that explains a change.
 */
#include "internal.h"
#include "testutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define S(x) ((char *)(x))

static void fp_of(const struct procmgr_spawn_opts *o, char fp[65],
		  char **inputs)
{
	ck_assert_int_eq(procmgr_fingerprint(o, fp, inputs), 0);
	ck_assert_uint_eq(strlen(fp), 64);
}

START_TEST(test_stable_and_length_prefixed)
{
	char *a1[] = { S("/bin/sh"), S("ab"), S("c"), NULL };
	char *a2[] = { S("/bin/sh"), S("a"), S("bc"), NULL };
	struct procmgr_spawn_opts o = { .argv = a1, .cwd = "/" };
	char f1[65], f2[65], f3[65];

	fp_of(&o, f1, NULL);
	fp_of(&o, f2, NULL);
	ck_assert_str_eq(f1, f2);
	for (int i = 0; i < 64; i++)
		ck_assert(strchr("0123456789abcdef", f1[i]));
	o.argv = a2;
	fp_of(&o, f3, NULL);
	ck_assert_str_ne(f1, f3);
}
END_TEST

START_TEST(test_inputs_text)
{
	char *argv[] = { S("sh"), NULL };
	char *envs[] = { S("CU_FP_SECRET"), NULL };
	char *dir = tu_tmpdir(), *file = NULL;
	char *files[] = { NULL, NULL };
	struct procmgr_spawn_opts o = { .argv = argv, .cwd = dir,
					.fingerprint_env = envs,
					.fingerprint_files = files };
	char fp[65], *in = NULL, *reason = NULL;

	ck_assert_int_ge(asprintf(&file, "%s/conf", dir), 0);
	files[0] = file;
	setenv("CU_FP_SECRET", "hunter2", 1);
	tu_write_file(file, "a=1\n", 4);
	fp_of(&o, fp, &in);
	/* One "<kind> <hex>" line per input, hashes only. */
	ck_assert_ptr_nonnull(strstr(in, "argv "));
	ck_assert_ptr_nonnull(strstr(in, "\ncwd "));
	ck_assert_ptr_nonnull(strstr(in, "\nexe "));
	ck_assert_ptr_nonnull(strstr(in, "\nenv:CU_FP_SECRET "));
	ck_assert_ptr_nonnull(strstr(in, "\nfile:"));
	ck_assert_ptr_null(strstr(in, "hunter2"));
	{
		int lines = 0;

		for (char *p = in; *p; p++)
			lines += *p == '\n';
		ck_assert_int_eq(lines, 5);
	}
	free(in);
	ck_assert_int_eq(pm_fingerprint_reason(NULL, "argv 00\n", &reason), 0);
	ck_assert_str_eq(reason, "fingerprint changed");
	free(reason);
	free(file);
	free(dir);
}
END_TEST

/* Changing one input changes the fingerprint and names that input. */
static void expect_change(const struct procmgr_spawn_opts *a,
			  const struct procmgr_spawn_opts *b,
			  const char *reason_want)
{
	char f1[65], f2[65], *i1 = NULL, *i2 = NULL, *reason = NULL;

	fp_of(a, f1, &i1);
	fp_of(b, f2, &i2);
	ck_assert_str_ne(f1, f2);
	ck_assert_int_eq(pm_fingerprint_reason(i1, i2, &reason), 0);
	ck_assert_str_eq(reason, reason_want);
	free(reason);
	free(i1);
	free(i2);
}

START_TEST(test_each_input_counts)
{
	char *d1 = tu_tmpdir(), *d2 = tu_tmpdir(), *file = NULL, *exe = NULL;
	char *a1[] = { S("sh"), S("-c"), S("x"), NULL };
	char *a2[] = { S("sh"), S("-c"), S("y"), NULL };
	char *a3[] = { NULL, NULL };
	char *envs[] = { S("CU_FP_VAR"), NULL };
	char *files[] = { NULL, NULL };
	char *extra[] = { S("CU_FP_VAR=from-extra"), NULL };
	struct procmgr_spawn_opts a = { .argv = a1, .cwd = d1 };
	struct procmgr_spawn_opts b = a;
	struct stat st;

	b.argv = a2;
	expect_change(&a, &b, "argv changed");
	b = a;
	b.cwd = d2;
	expect_change(&a, &b, "cwd changed");
	/* The executable's identity: a rewritten file is another exe. */
	ck_assert_int_ge(asprintf(&exe, "%s/prog", d1), 0);
	tu_write_file(exe, "#!/bin/sh\n", 10);
	chmod(exe, 0755);
	a3[0] = exe;
	a.argv = a3;
	b = a;
	{
		char f1[65], *i1 = NULL, f2[65], *i2 = NULL, *reason = NULL;

		fp_of(&a, f1, &i1);
		tu_write_file(exe, "#!/bin/sh\n# v2\n", 15);
		ck_assert_int_eq(stat(exe, &st), 0);
		fp_of(&b, f2, &i2);
		ck_assert_str_ne(f1, f2);
		ck_assert_int_eq(pm_fingerprint_reason(i1, i2, &reason), 0);
		ck_assert_str_eq(reason, "executable changed");
		free(reason);
		free(i1);
		free(i2);
	}
	a.argv = a1;
	a.fingerprint_env = envs;
	b = a;
	unsetenv("CU_FP_VAR");
	b.env = extra;
	expect_change(&a, &b, "env CU_FP_VAR changed");
	ck_assert_int_ge(asprintf(&file, "%s/conf", d1), 0);
	files[0] = file;
	a.fingerprint_env = NULL;
	a.fingerprint_files = files;
	b = a;
	{
		char f1[65], *i1 = NULL, f2[65], *i2 = NULL, *reason = NULL;

		fp_of(&a, f1, &i1);	/* missing file */
		tu_write_file(file, "v=1", 3);
		fp_of(&b, f2, &i2);
		ck_assert_str_ne(f1, f2);
		ck_assert_int_eq(pm_fingerprint_reason(i1, i2, &reason), 0);
		ck_assert_msg(strstr(reason, "file ") && strstr(reason, "conf"),
			      "%s", reason);
		free(reason);
		free(i1);
		free(i2);
	}
	/* Several at once, and inputs that appear or disappear. */
	b.argv = a2;
	b.fingerprint_files = NULL;
	b.fingerprint_env = envs;
	{
		char f1[65], *i1 = NULL, f2[65], *i2 = NULL, *reason = NULL;
		char *want = NULL;

		fp_of(&a, f1, &i1);
		fp_of(&b, f2, &i2);
		ck_assert_int_eq(pm_fingerprint_reason(i1, i2, &reason), 0);
		ck_assert_int_ge(asprintf(&want, "argv changed, env CU_FP_VAR "
					  "changed, file %s changed", file), 0);
		ck_assert_str_eq(reason, want);
		free(want);
		free(reason);
		free(i1);
		free(i2);
	}
	free(file);
	free(exe);
	free(d1);
	free(d2);
}
END_TEST

START_TEST(test_given_fingerprint)
{
	char *argv[] = { S("sh"), NULL };
	struct procmgr_spawn_opts o = { .argv = argv, .fingerprint = "v1.2" };
	char fp[65], *in = NULL, *reason = NULL;
	char long_fp[70];

	ck_assert_int_eq(procmgr_fingerprint(&o, fp, &in), 0);
	ck_assert_str_eq(fp, "v1.2");
	/* The inputs are still recorded, to tell what else changed. */
	ck_assert_ptr_nonnull(strstr(in, "argv "));
	ck_assert_int_eq(pm_fingerprint_reason(in, in, &reason), 0);
	ck_assert_str_eq(reason, "fingerprint changed");
	free(reason);
	free(in);
	memset(long_fp, 'a', sizeof(long_fp));
	long_fp[sizeof(long_fp) - 1] = '\0';
	o.fingerprint = long_fp;
	ck_assert_int_eq(procmgr_fingerprint(&o, fp, NULL), -EINVAL);
	o.fingerprint = "has space";
	ck_assert_int_eq(procmgr_fingerprint(&o, fp, NULL), -EINVAL);
	o.fingerprint = "";
	ck_assert_int_eq(procmgr_fingerprint(&o, fp, NULL), -EINVAL);
	o.fingerprint = NULL;
	o.argv = NULL;
	ck_assert_int_eq(procmgr_fingerprint(&o, fp, NULL), -EINVAL);
	ck_assert_int_eq(procmgr_fingerprint(NULL, fp, NULL), -EINVAL);
	/* A command not in PATH still has a fingerprint. */
	char *missing[] = { S("no-such-procmgr-cmd"), NULL };

	o.argv = missing;
	ck_assert_int_eq(procmgr_fingerprint(&o, fp, NULL), 0);
}
END_TEST

/*
 * A missing fingerprint file is a state of its own (an optional config):
 * it hashes apart from any content, the empty one included, and creating
 * it is named as the change.
 */
START_TEST(test_file_missing)
{
	char *argv[] = { S("/bin/sh"), NULL };
	char *dir = tu_tmpdir(), *f = NULL, *want = NULL, *reason = NULL;
	char *files[] = { NULL, NULL };
	struct procmgr_spawn_opts o = { .argv = argv, .cwd = "/",
					.fingerprint_files = files };
	char missing[65], again[65], empty[65], full[65];
	char *in_missing = NULL, *in_empty = NULL;

	ck_assert_int_ge(asprintf(&f, "%s/conf", dir), 0);
	files[0] = f;
	fp_of(&o, missing, &in_missing);
	fp_of(&o, again, NULL);
	ck_assert_str_eq(missing, again);
	tu_write_file(f, "", 0);
	fp_of(&o, empty, &in_empty);
	tu_write_file(f, "a", 1);
	fp_of(&o, full, NULL);
	ck_assert_str_ne(missing, empty);
	ck_assert_str_ne(missing, full);
	ck_assert_str_ne(empty, full);
	ck_assert_int_eq(pm_fingerprint_reason(in_missing, in_empty, &reason),
			 0);
	ck_assert_int_ge(asprintf(&want, "file %s changed", f), 0);
	ck_assert_str_eq(reason, want);
	free(want);
	free(reason);
	free(in_missing);
	free(in_empty);
	free(f);
	free(dir);
}
END_TEST

/*
 * A fingerprint file that is there but cannot be read (a directory; no
 * read permission) is an error naming the path, not a state to hash.
 */
START_TEST(test_file_unreadable)
{
	static const struct {
		bool is_dir;	/* else a file of mode 0 */
		int err;
	} cases[] = { { true, EISDIR }, { false, EACCES } };
	char *argv[] = { S("/bin/sh"), NULL };
	char *dir, *f = NULL;
	char *files[] = { NULL, NULL };
	struct procmgr_spawn_opts o = { .argv = argv, .cwd = "/",
					.fingerprint_files = files };
	procmgr *h;
	char fp[65], *in = NULL;

	if (!cases[_i].is_dir && geteuid() == 0)
		tu_skip("root reads a file whatever its mode");
	dir = tu_tmpdir();
	h = procmgr_new();
	ck_assert_ptr_nonnull(h);
	ck_assert_int_ge(asprintf(&f, "%s/conf", dir), 0);
	files[0] = f;
	if (cases[_i].is_dir) {
		ck_assert_int_eq(mkdir(f, 0700), 0);
	} else {
		tu_write_file(f, "secret", 6);
		ck_assert_int_eq(chmod(f, 0), 0);
	}
	ck_assert_int_eq(procmgr_fingerprint(&o, fp, &in), -cases[_i].err);
	ck_assert_ptr_null(in);
	ck_assert_int_eq(pm_fingerprint(h, &o, fp, NULL), -cases[_i].err);
	ck_assert_msg(strstr(procmgr_errmsg(h), f) &&
		      strstr(procmgr_errmsg(h), "fingerprint file"),
		      "%s", procmgr_errmsg(h));
	procmgr_free(h);
	free(f);
	free(dir);
}
END_TEST

/* An input kind this version does not know still gets named. */
START_TEST(test_reason_unknown_kind)
{
	char *reason = NULL;

	ck_assert_int_eq(pm_fingerprint_reason("argv 00\ngpu 01\n",
					       "argv 00\ngpu 02\n", &reason),
			 0);
	ck_assert_str_eq(reason, "gpu changed");
	free(reason);
}
END_TEST

/* The caller's cwd deleted and no cwd given: its errno, not ENOMEM. */
START_TEST(test_cwd_deleted)
{
	char *argv[] = { S("/bin/sh"), NULL };
	struct procmgr_spawn_opts o = { .argv = argv };
	char *dir = tu_tmpdir(), *sub = NULL, fp[65];

	ck_assert_int_ge(asprintf(&sub, "%s/gone", dir), 0);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	ck_assert_int_eq(chdir(sub), 0);
	ck_assert_int_eq(rmdir(sub), 0);
	ck_assert_int_eq(procmgr_fingerprint(&o, fp, NULL), -ENOENT);
	o.cwd = dir;
	fp_of(&o, fp, NULL);
	free(sub);
	free(dir);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("fingerprint");
	TCase *tc = tcase_create("fingerprint");

	tcase_add_test(tc, test_stable_and_length_prefixed);
	tcase_add_test(tc, test_inputs_text);
	tcase_add_test(tc, test_each_input_counts);
	tcase_add_test(tc, test_given_fingerprint);
	tcase_add_test(tc, test_file_missing);
	tcase_add_loop_test(tc, test_file_unreadable, 0, 2);
	tcase_add_test(tc, test_reason_unknown_kind);
	tcase_add_test(tc, test_cwd_deleted);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(suite());
}
