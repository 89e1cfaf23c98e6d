/*
 * fuzz-job - pm_job_decode(), how procmgr-monitor reads the job its
 * starter hands it: any bytes either fail to decode or give a job that
 * encodes and decodes back to the same job.
 */
#include "fuzz.h"

static bool str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static bool strv_eq(char **a, size_t na, char **b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (strcmp(a[i], b[i]))
			return false;
	return (!a && !b) || (a && b && !a[na] && !b[nb]);
}

static bool job_eq(const struct pm_job *a, const struct pm_job *b)
{
	return str_eq(a->exe, b->exe) &&
	       strv_eq(a->argv, a->n_argv, b->argv, b->n_argv) &&
	       strv_eq(a->envp, a->n_envp, b->envp, b->n_envp) &&
	       str_eq(a->cwd, b->cwd) && str_eq(a->log_path, b->log_path) &&
	       str_eq(a->fingerprint, b->fingerprint) &&
	       str_eq(a->inputs, b->inputs) &&
	       str_eq(a->process_name, b->process_name) &&
	       a->ready.kind == b->ready.kind && a->ready.fd == b->ready.fd &&
	       a->ready.port == b->ready.port &&
	       str_eq(a->ready.path, b->ready.path) &&
	       !memcmp(&a->ready_timeout, &b->ready_timeout,
		       sizeof(double)) &&
	       a->kill_on_timeout == b->kill_on_timeout &&
	       a->stop.n_signals == b->stop.n_signals &&
	       !memcmp(a->stop.signals, b->stop.signals,
		       a->stop.n_signals * sizeof(int)) &&
	       !memcmp(&a->stop.kill_wait, &b->stop.kill_wait,
		       sizeof(double)) &&
	       a->stop.kill_mode == b->stop.kill_mode &&
	       a->restart == b->restart &&
	       a->restart_limit == b->restart_limit &&
	       !memcmp(&a->idle_timeout, &b->idle_timeout, sizeof(double)) &&
	       !memcmp(&a->watchdog, &b->watchdog, sizeof(double)) &&
	       str_eq(a->pid_file, b->pid_file) &&
	       str_eq(a->reason, b->reason) && a->has_lock == b->has_lock;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pm_job a, b;
	char *enc = NULL;
	size_t len = 0;

	if (pm_job_decode((const char *)data, size, &a) < 0)
		return 0;
	fz_check(a.exe && a.argv && a.n_argv && a.envp && a.cwd &&
		 a.log_path, "decoded without a required field");
	fz_check(pm_job_encode(&a, &enc, &len) == 0, "encode");
	fz_check(pm_job_decode(enc, len, &b) == 0, "re-decode");
	fz_check(job_eq(&a, &b), "round trip changed the job");
	pm_job_clear(&a);
	pm_job_clear(&b);
	free(enc);
	return 0;
}
