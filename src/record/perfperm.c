/* What the kernel lets this process profile (perfperm.h): perf_event_paranoid and the effective capabilities. */
#include "perfperm.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/err.h"

/* linux/capability.h numbers (CAP_PERFMON and CAP_BPF are newer than some headers) */
#define CAP_SYS_ADMIN_BIT 21
#define CAP_PERFMON_BIT 38
#define CAP_BPF_BIT 39

void perfperm_parse(struct perfperm *pp, const char *paranoid, const char *status, size_t status_len)
{
	char *end;
	long v = paranoid ? strtol(paranoid, &end, 10) : 0;

	pp->paranoid = paranoid && end != paranoid && v >= -1 && v <= 1000 ? (int)v : 2;
	pp->perfmon = pp->bpf = false;
	for (size_t i = 0; status && i < status_len;) {
		const char *line = status + i, *nl = memchr(line, '\n', status_len - i);
		size_t len = nl ? (size_t)(nl - line) : status_len - i;
		if (len > 7 && !memcmp(line, "CapEff:", 7)) {
			char hex[32];
			size_t n = len - 7 < sizeof(hex) - 1 ? len - 7 : sizeof(hex) - 1;
			memcpy(hex, line + 7, n);
			hex[n] = '\0';
			unsigned long long caps = strtoull(hex, NULL, 16);
			bool admin = caps >> CAP_SYS_ADMIN_BIT & 1;
			pp->perfmon = admin || (caps >> CAP_PERFMON_BIT & 1);
			pp->bpf = admin || (caps >> CAP_BPF_BIT & 1);
		}
		i += len + 1;
	}
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "re");
	char *text = NULL;
	size_t n = 0, alloc = 0;

	if (!f)
		return NULL;
	for (;;) {
		if (n + 1024 > alloc) {
			char *grown = realloc(text, alloc = alloc ? 2 * alloc : 4096);
			if (!grown)
				break;
			text = grown;
		}
		size_t got = fread(text + n, 1, alloc - n - 1, f);
		n += got;
		if (!got)
			break;
	}
	fclose(f);
	if (text)
		text[n] = '\0';
	*len = n;
	return text;
}

static struct perfperm cached;
static pthread_once_t cached_once = PTHREAD_ONCE_INIT;

static void probe(void)
{
	size_t plen = 0, slen = 0;
	char *paranoid = slurp("/proc/sys/kernel/perf_event_paranoid", &plen);
	char *status = slurp("/proc/self/status", &slen);

	perfperm_parse(&cached, paranoid, status, slen);
	free(paranoid);
	free(status);
}

const struct perfperm *perfperm_get(void)
{
	pthread_once(&cached_once, probe);
	return &cached;
}

bool perfperm_user_space_only(const struct perfperm *pp)
{
	return pp->paranoid >= 2 && !pp->perfmon;
}

const char *perfperm_user_space_note(const struct perfperm *pp)
{
	(void)pp;
	return "kernel.perf_event_paranoid is 2 or more and kiln has no CAP_PERFMON: sampling user space only, so "
	       "kernel frames and the time spent in the kernel are missing (for them: sysctl "
	       "kernel.perf_event_paranoid=1, or run as root)";
}

int perfperm_open_error(const struct perfperm *pp, bool cpu_wide, int errnum, struct err *e)
{
	const char *why = strerror(errnum);

	if (pp->perfmon)
		return err_set(e, "cannot open the cpu-clock event: %s (refused despite CAP_PERFMON: a security module "
				  "or seccomp policy?)", why);
	if (pp->paranoid >= 3)
		return err_set(e, "cannot open the cpu-clock event: %s (kernel.perf_event_paranoid is %d: no unprivileged "
				  "profiling at all; sysctl kernel.perf_event_paranoid=2 allows user space, or run as root)",
			       why, pp->paranoid);
	if (cpu_wide && pp->paranoid >= 1)
		return err_set(e, "cannot open the cpu-clock event: %s (kernel.perf_event_paranoid is %d: --all-cpus "
				  "needs it at 0 or below, or CAP_PERFMON, or root)", why, pp->paranoid);
	return err_set(e, "cannot open the cpu-clock event: %s (kernel.perf_event_paranoid is %d: check it, or run "
			  "as root)", why, pp->paranoid);
}

int perfperm_check_bpf(const struct perfperm *pp, const char *what, bool tracepoint_fallback, struct err *e)
{
	if ((pp->bpf && pp->perfmon) || (tracepoint_fallback && (pp->perfmon || pp->paranoid <= -1)))
		return 0;
	return err_set(e, "%s needs root, or the capabilities CAP_BPF and CAP_PERFMON (it traces with eBPF)%s", what,
		       pp->bpf ? ": CAP_PERFMON is missing" : pp->perfmon ? ": CAP_BPF is missing" : "");
}
