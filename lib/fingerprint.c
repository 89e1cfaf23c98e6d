/*
 * fingerprint.c - the options fingerprint and why two of them differ.
 *
 * Each input (argv, cwd, exe, env:VAR, file:PATH) is hashed on its own; the
 * fingerprint is SHA-256 over the (kind, digest) pairs, every field
 * preceded by its length as 8 big-endian bytes. Without the lengths,
 * argv ("ab", "c") and ("a", "bc") would hash alike, as they do in pants.
 * The per-input digests are kept in the fingerprint_inputs key so ensure
 * can say which input changed without ever writing a value (an environment
 * variable may hold a secret) to disk.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct fp_state {
	struct pm_sha256 all;
	char *inputs;
	size_t len;
	int err;
	const char *bad_file;	/* the fingerprint file that failed */
};

static void put_u64(struct pm_sha256 *c, uint64_t v)
{
	unsigned char b[8];

	for (int i = 7; i >= 0; i--, v >>= 8)
		b[i] = (unsigned char)(v & 0xff);
	pm_sha256_update(c, b, sizeof(b));
}

static void put_bytes(struct pm_sha256 *c, const void *p, size_t n)
{
	put_u64(c, n);
	pm_sha256_update(c, p, n);
}

static void put_str(struct pm_sha256 *c, const char *s)
{
	put_bytes(c, s, strlen(s));
}

/* Fold one input's digest into the fingerprint and the inputs text. */
static void add_input(struct fp_state *f, const char *kind,
		      struct pm_sha256 *c)
{
	unsigned char d[32];
	char hex[PROCMGR_SHA256_HEX + 1];
	char *p;

	pm_sha256_final(c, d);
	pm_hex(d, sizeof(d), hex);
	put_str(&f->all, kind);
	put_bytes(&f->all, d, sizeof(d));
	if (f->err)
		return;
	p = pm_asprintf("%s%s %s\n", f->inputs ? f->inputs : "", kind, hex);
	if (!p) {
		f->err = -ENOMEM;
		return;
	}
	free(f->inputs);
	f->inputs = p;
}

/* The daemon's cwd, symlinks resolved when it exists; -errno. */
static int abs_cwd(const char *cwd, char **ret)
{
	char buf[PATH_MAX];

	if (!realpath(cwd ? cwd : ".", buf))
		return pm_abs_path(cwd, NULL, ret);
	*ret = strdup(buf);
	return *ret ? 0 : -ENOMEM;
}

static void hash_exe(struct pm_sha256 *c, const char *argv0, const char *cwd)
{
	char *path = NULL;
	struct stat st;

	if (pm_find_exe(NULL, argv0, cwd, &path) < 0) {
		put_str(c, "missing");
		put_str(c, argv0);
		return;
	}
	put_str(c, path);
	if (stat(path, &st) == 0) {
		put_u64(c, (uint64_t)st.st_dev);
		put_u64(c, (uint64_t)st.st_ino);
		put_u64(c, (uint64_t)st.st_size);
		put_u64(c, (uint64_t)st.st_mtim.tv_sec);
		put_u64(c, (uint64_t)st.st_mtim.tv_nsec);
	} else {
		put_str(c, "missing");
	}
	free(path);
}

/* The value VAR will have in the daemon: an extra --env wins. */
static const char *env_value(const struct procmgr_spawn_opts *o,
			     const char *var)
{
	size_t n = strlen(var);

	for (char *const *e = o->env; e && *e; e++)
		if (!strncmp(*e, var, n) && (*e)[n] == '=')
			return *e + n + 1;
	return getenv(var);
}

/*
 * A missing file is a state of its own (an optional config not written
 * yet): it hashes apart from any content, the empty one included, so that
 * creating it changes the fingerprint. A file that is there but cannot be
 * read (EACCES, EISDIR...) is an error: taking it for a state would hide
 * the problem and keep a daemon whose config was never looked at.
 */
static int hash_file(struct pm_sha256 *c, const char *path)
{
	char buf[65536];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC), r;

	if (fd < 0 && errno == ENOENT) {
		put_u64(c, 0);
		return 0;
	}
	if (fd < 0)
		return -errno;
	put_u64(c, 1);
	/* A regular file's read is not interrupted by signals. */
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		pm_sha256_update(c, buf, (size_t)n);
	r = n < 0 ? -errno : 0;
	close(fd);
	return r;
}

/* Fold the value VAR will have in the daemon in, as input env:VAR. */
static void hash_env(struct fp_state *f, const struct procmgr_spawn_opts *o,
		     const char *var, size_t n)
{
	char kind[PATH_MAX + 8], name[PATH_MAX];
	struct pm_sha256 c;
	const char *val;

	snprintf(name, sizeof(name), "%.*s", (int)n, var);
	val = env_value(o, name);
	pm_sha256_init(&c);
	put_u64(&c, val != NULL);
	put_str(&c, val ? val : "");
	snprintf(kind, sizeof(kind), "env:%s", name);
	add_input(f, kind, &c);
}

/* Is VAR (n bytes) named before entry *at of v (VAR or VAR=VALUE)? */
static bool named_before(char *const *v, char *const *at, const char *var,
			 size_t n)
{
	for (; v && *v && v != at; v++)
		if (!strncmp(*v, var, n) && ((*v)[n] == '=' || !(*v)[n]))
			return true;
	return false;
}

/*
 * Every variable the daemon is given (--env VAR=VALUE) counts, as does
 * each one named for the fingerprint (--fingerprint-env VAR): a change of
 * either restarts the daemon, with reason "env VAR changed".
 */
static void hash_envs(struct fp_state *f, const struct procmgr_spawn_opts *o)
{
	for (char *const *v = o->fingerprint_env; v && *v; v++)
		if (!named_before(o->fingerprint_env, v, *v, strlen(*v)))
			hash_env(f, o, *v, strlen(*v));
	for (char *const *e = o->env; e && *e; e++) {
		size_t n = strcspn(*e, "=");

		if (!named_before(o->fingerprint_env, NULL, *e, n) &&
		    !named_before(o->env, e, *e, n))
			hash_env(f, o, *e, n);
	}
}

static void hash_inputs(struct fp_state *f,
			const struct procmgr_spawn_opts *o, const char *cwd)
{
	struct pm_sha256 c;
	size_t argc = 0;
	char kind[PATH_MAX + 8];
	int r;

	pm_sha256_init(&c);
	while (o->argv[argc])
		argc++;
	put_u64(&c, argc);
	for (size_t i = 0; i < argc; i++)
		put_str(&c, o->argv[i]);
	add_input(f, "argv", &c);
	pm_sha256_init(&c);
	put_str(&c, cwd);
	add_input(f, "cwd", &c);
	pm_sha256_init(&c);
	hash_exe(&c, o->argv[0], cwd);
	add_input(f, "exe", &c);
	hash_envs(f, o);
	for (char *const *p = o->fingerprint_files; p && *p; p++) {
		pm_sha256_init(&c);
		r = hash_file(&c, *p);
		if (r < 0) {
			f->err = r;
			f->bad_file = *p;
			return;
		}
		snprintf(kind, sizeof(kind), "file:%s", *p);
		add_input(f, kind, &c);
	}
}

static int check_given(const char *fp)
{
	size_t n = strlen(fp);

	if (n == 0 || n > PROCMGR_SHA256_HEX)
		return -EINVAL;
	for (const char *p = fp; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return -EINVAL;
	return 0;
}

int pm_fingerprint(procmgr *h, const struct procmgr_spawn_opts *opts,
		   char ret_fp[PROCMGR_SHA256_HEX + 1], char **ret_inputs)
{
	struct fp_state f = { .err = 0 };
	unsigned char d[32];
	char *cwd = NULL;
	int r;

	if (!opts || !opts->argv || !opts->argv[0] || !opts->argv[0][0]) {
		r = pm_error(h, EINVAL, "no command to fingerprint");
		goto fail;
	}
	if (opts->fingerprint && check_given(opts->fingerprint) < 0) {
		r = pm_error(h, EINVAL, "invalid fingerprint '%s': use 1-64 "
			     "printable characters without spaces",
			     opts->fingerprint);
		goto fail;
	}
	r = abs_cwd(opts->cwd, &cwd);
	if (r < 0) {
		r = pm_blame(h, "cwd",
			     pm_error(h, -r, "cannot compute the fingerprint: "
				      "cannot resolve the current directory: "
				      "%s; give the daemon's cwd",
				      strerror(-r)));
		goto fail;
	}
	pm_sha256_init(&f.all);
	hash_inputs(&f, opts, cwd);
	r = f.err;
	if (r < 0 && f.bad_file)
		r = pm_blame(h, "fingerprint_files",
			     pm_error(h, -r, "cannot read fingerprint file %s: "
				      "%s; make it a readable file or leave "
				      "it out", f.bad_file, strerror(-r)));
	else if (r < 0)
		r = pm_error(h, -r, "cannot compute the fingerprint: %s",
			     strerror(-r));
	if (r < 0)
		goto fail;
	pm_sha256_final(&f.all, d);
	/* A given fingerprint wins; the inputs still say what changed. */
	if (opts->fingerprint)
		snprintf(ret_fp, PROCMGR_SHA256_HEX + 1, "%s",
			 opts->fingerprint);
	else
		pm_hex(d, sizeof(d), ret_fp);
	if (ret_inputs) {
		*ret_inputs = f.inputs;
		f.inputs = NULL;
	}
	r = 0;
fail:
	free(f.inputs);
	free(cwd);
	return r;
}

int procmgr_fingerprint_sized(const struct procmgr_spawn_opts *opts,
			      size_t size, char ret_fp[PROCMGR_SHA256_HEX + 1],
			      char **ret_inputs)
{
	struct procmgr_spawn_opts o;
	int r;

	if (!opts)
		return pm_fingerprint(NULL, NULL, ret_fp, ret_inputs);
	r = pm_struct_in(&o, sizeof(o), PM_SPAWN_OPTS_V1, opts, size, true);
	return r < 0 ? r : pm_fingerprint(NULL, &o, ret_fp, ret_inputs);
}

static const char *next_line(const char *l)
{
	const char *nl = strchr(l, '\n');

	return nl ? nl + 1 : NULL;
}

/* The digest recorded for kind in inputs text, or NULL. */
static const char *find_input(const char *text, const char *kind,
			      size_t kind_len, size_t *ret_len)
{
	for (const char *l = text; l && *l; l = next_line(l)) {
		const char *end = strchr(l, '\n');
		size_t n = end ? (size_t)(end - l) : strlen(l);
		const char *sp = memrchr(l, ' ', n);

		if (sp && (size_t)(sp - l) == kind_len &&
		    !memcmp(l, kind, kind_len)) {
			*ret_len = n - kind_len - 1;
			return sp + 1;
		}
	}
	return NULL;
}

/*
 * The reason being built. The recorded inputs are a key like any other and
 * may hold anything, a megabyte of lines included: the text grows in place
 * (no copy per input), names at most REASON_NAMED inputs and counts the
 * rest, and shows no byte of a name that a terminal would act on.
 */
#define REASON_NAMED 8
#define REASON_NAME_MAX 256	/* bytes of one env name or path shown */

struct reason {
	char *s;
	size_t len, cap;
	unsigned named, more;
};

static int reason_put(struct reason *r, const char *p, size_t n)
{
	char *ns;

	if (r->len + n + 1 > r->cap) {
		size_t cap = r->cap ? r->cap : 128;

		while (cap < r->len + n + 1)
			cap *= 2;
		ns = realloc(r->s, cap);
		if (!ns)
			return -ENOMEM;
		r->s = ns;
		r->cap = cap;
	}
	memcpy(r->s + r->len, p, n);
	r->len += n;
	r->s[r->len] = '\0';
	return 0;
}

/* An env name or path from the inputs: printable ASCII, the rest \xNN. */
static int reason_put_name(struct reason *r, const char *p, size_t n)
{
	char hex[5];
	int q = 0;

	for (size_t i = 0; i < n && i < REASON_NAME_MAX && q == 0; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c >= 0x20 && c < 0x7f) {
			q = reason_put(r, p + i, 1);
		} else {
			snprintf(hex, sizeof(hex), "\\x%02x", c);
			q = reason_put(r, hex, 4);
		}
	}
	if (q == 0 && n > REASON_NAME_MAX)
		q = reason_put(r, "...", 3);
	return q;
}

static int add_reason(struct reason *r, const char *kind, size_t n)
{
	const char *what = NULL, *label = "";
	size_t skip = 0;
	int q;

	if (r->named == REASON_NAMED) {
		r->more++;
		return 0;
	}
	if (n == 4 && !memcmp(kind, "argv", 4))
		what = "argv";
	else if (n == 3 && !memcmp(kind, "cwd", 3))
		what = "cwd";
	else if (n == 3 && !memcmp(kind, "exe", 3))
		what = "executable";
	else if (n > 4 && !memcmp(kind, "env:", 4)) {
		label = "env ";
		skip = 4;
	} else if (n > 5 && !memcmp(kind, "file:", 5)) {
		label = "file ";
		skip = 5;
	}
	q = reason_put(r, ", ", r->named ? 2 : 0);
	if (q == 0 && what)
		q = reason_put(r, what, strlen(what));
	if (q == 0 && !what)
		q = reason_put(r, label, strlen(label));
	if (q == 0 && !what)
		q = reason_put_name(r, kind + skip, n - skip);
	if (q == 0)
		q = reason_put(r, " changed", 8);
	r->named++;
	return q;
}

/* Kinds of a that b lacks or records with another digest. */
static int diff_into(const char *a, const char *b, bool only_missing,
		     struct reason *acc)
{
	for (const char *l = a; l && *l; l = next_line(l)) {
		const char *end = strchr(l, '\n');
		size_t n = end ? (size_t)(end - l) : strlen(l), vn = 0;
		const char *sp = memrchr(l, ' ', n), *v;

		if (!sp)
			continue;
		v = find_input(b, l, (size_t)(sp - l), &vn);
		if (v ? only_missing || (vn == n - (size_t)(sp - l) - 1 &&
					 !memcmp(v, sp + 1, vn)) : false)
			continue;
		if (add_reason(acc, l, (size_t)(sp - l)) < 0)
			return -ENOMEM;
	}
	return 0;
}

int pm_fingerprint_reason(const char *old_inputs, const char *new_inputs,
			  char **ret_reason)
{
	struct reason acc = { 0 };
	char more[48];
	int r = 0;

	/* Without recorded inputs (pants, --fingerprint) nothing is known. */
	if (old_inputs && *old_inputs)
		r = diff_into(new_inputs, old_inputs, false, &acc);
	if (r >= 0)
		r = diff_into(old_inputs, new_inputs, true, &acc);
	if (r >= 0 && acc.more) {
		snprintf(more, sizeof(more), ", and %u more", acc.more);
		r = reason_put(&acc, more, strlen(more));
	}
	if (r >= 0 && !acc.named)
		r = reason_put(&acc, "fingerprint changed", 19);
	if (r < 0) {
		free(acc.s);
		return r;
	}
	*ret_reason = acc.s;
	return 0;
}
