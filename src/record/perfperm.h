/*
 * What the kernel lets this process profile, from kernel.perf_event_paranoid and the effective capabilities,
 * so that kiln asks only for what it may have and says what is missing and why:
 *
 *   paranoid  unprivileged processes may                          (CAP_PERFMON or CAP_SYS_ADMIN: everything)
 *   -1        everything
 *    0        all but raw tracepoints                 (tracepoint events need -1)
 *    1        their own processes, user and kernel    (no CPU-wide events)
 *    2        their own processes, user space only    (Debian's default)
 *    3        nothing (a Debian kernel patch)
 *
 * eBPF tracing programs (the offcpu, wall and io modes) need CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN.
 */
#ifndef KILN_PERFPERM_H
#define KILN_PERFPERM_H

#include <stdbool.h>
#include <stddef.h>

struct err;

struct perfperm {
	int paranoid;  /* kernel.perf_event_paranoid; 2 when it cannot be read */
	bool perfmon;  /* CAP_PERFMON or CAP_SYS_ADMIN in the effective set */
	bool bpf;      /* CAP_BPF or CAP_SYS_ADMIN in the effective set */
};

/* From the text of /proc/sys/kernel/perf_event_paranoid and /proc/self/status (either may be NULL: unknown). */
void perfperm_parse(struct perfperm *pp, const char *paranoid, const char *status, size_t status_len);
/* This process's, read once and cached. */
const struct perfperm *perfperm_get(void);

/* Samples in kernel mode (and kernel callchains) are refused: profile user space only. */
bool perfperm_user_space_only(const struct perfperm *pp);
/* The note that says why kernel frames are missing and how to get them (one line, static). */
const char *perfperm_user_space_note(const struct perfperm *pp);
/*
 * perf_event_open(2) of the cpu-clock event failed with `errnum` (EACCES or EPERM) for a per-process or, with
 * `cpu_wide`, a CPU-wide event: fills `e` with the refusal and what would allow it. Returns -1.
 */
int perfperm_open_error(const struct perfperm *pp, bool cpu_wide, int errnum, struct err *e);

/*
 * eBPF tracing for `what` ("--mode offcpu"): 0 when the capabilities allow it, else -1 with a one-line `e`
 * naming the capabilities it needs. With `tracepoint_fallback` (io's perf_event tracepoint counting, which needs
 * CAP_PERFMON or perf_event_paranoid -1) it is 0 also when that fallback is allowed.
 */
int perfperm_check_bpf(const struct perfperm *pp, const char *what, bool tracepoint_fallback, struct err *e);

#endif
