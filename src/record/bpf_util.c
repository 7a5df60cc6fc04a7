/* Shared helpers of the eBPF loaders: libbpf messages, errors, BTF probes (see bpf_util.h). */
#include <asm/perf_regs.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "../core/err.h"
#include "../symbols/symbolizer.h"
#include "bpf_shared.h"
#include "bpf_util.h"
#include "session.h"

#define MAX_UNWIND 64

static char last_msg[512];

static int on_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (getenv("KILN_BPF_DEBUG"))
		return vfprintf(stderr, fmt, ap);
	if (level == LIBBPF_DEBUG)
		return 0;
	vsnprintf(last_msg, sizeof(last_msg), fmt, ap);
	last_msg[strcspn(last_msg, "\n")] = 0;
	return 0;
}

void kbpf_init(void)
{
	static bool done;
	if (done)
		return;
	done = true;
	libbpf_set_print(on_libbpf_print);
}

int kbpf_error(struct err *e, int ret, const char *what, bool *denied)
{
	int code = ret < 0 ? -ret : ret;
	if (!code)
		code = errno ? errno : EINVAL;
	if (denied)
		*denied = code == EPERM || code == EACCES;
	if (code == EPERM || code == EACCES)
		return err_set(e, "cannot %s: %s (eBPF needs root, or CAP_BPF with CAP_PERFMON, and no kernel lockdown)",
			       what, strerror(code));
	if (last_msg[0])
		return err_set(e, "cannot %s: %s (%s)", what, strerror(code), last_msg);
	return err_set(e, "cannot %s: %s", what, strerror(code));
}

bool kbpf_kernel_has(const char *name, bool typedef_)
{
	static struct btf *vmlinux;
	static bool tried;
	if (!tried) {
		tried = true;
		vmlinux = btf__load_vmlinux_btf();
		if (libbpf_get_error(vmlinux))
			vmlinux = NULL;
	}
	if (!vmlinux)
		return false;
	return btf__find_by_name_kind(vmlinux, name, typedef_ ? BTF_KIND_TYPEDEF : BTF_KIND_FUNC) > 0;
}

size_t kbpf_splice(uint64_t *fp, size_t nfp, const uint64_t *dw, size_t ndw, size_t max)
{
	for (size_t j = 1; j < ndw; j++) {
		for (size_t i = 1; i < nfp; i++) {
			if (dw[j] != fp[i])
				continue;
			if (i == j)
				return nfp; /* nothing was missing */
			size_t tail = nfp - i;
			if (j + tail > max)
				tail = max - j;
			memmove(fp + j, fp + i, tail * sizeof(*fp));
			memcpy(fp, dw, j * sizeof(*fp));
			return j + tail;
		}
	}
	return nfp;
}

bool kbpf_fix_leaf(int ufix_fd, struct rec_session *s, struct symbolizer *sym, uint32_t tgid, uint32_t tid,
		   int32_t ustack, uint64_t *u, size_t *nu, struct oc_ufix *fix)
{
	struct oc_fixkey fk = { .tgid = tgid, .ustack = ustack };
	uint64_t dw[MAX_UNWIND];
	if (bpf_map_lookup_elem(ufix_fd, &fk, fix))
		return false;
	uint64_t mask = 0;
	static const int regs[OC_NREGS] = { PERF_REG_X86_AX, PERF_REG_X86_BX, PERF_REG_X86_CX, PERF_REG_X86_DX,
					    PERF_REG_X86_SI, PERF_REG_X86_DI, PERF_REG_X86_BP, PERF_REG_X86_SP,
					    PERF_REG_X86_IP, PERF_REG_X86_R8, PERF_REG_X86_R9, PERF_REG_X86_R10,
					    PERF_REG_X86_R11, PERF_REG_X86_R12, PERF_REG_X86_R13, PERF_REG_X86_R14,
					    PERF_REG_X86_R15 };
	for (int i = 0; i < OC_NREGS; i++)
		mask |= 1ULL << regs[i];
	size_t len = fix->len <= OC_SNAP ? fix->len : OC_SNAP;
	size_t ndw = symbolizer_unwind(sym, rec_session_asid(s, tgid), tid, (const uint64_t *)fix->regs, mask,
				       fix->stack, len, fix->sp, dw, MAX_UNWIND);
	if (ndw < 2)
		return false;
	bool met = false;
	for (size_t j = 1; j < ndw && !met; j++)
		for (size_t i = 1; i < *nu && !met; i++)
			met = dw[j] == u[i];
	/* The chains never meet: code without frame pointers broke the walk; the unwound chain is better
	 * when it went further. */
	if (!met) {
		if (ndw <= *nu)
			return false;
		memcpy(u, dw, ndw * sizeof(*u));
		*nu = ndw;
		return true;
	}
	size_t before = *nu;
	*nu = kbpf_splice(u, *nu, dw, ndw, KILN_BPF_MAX_STACK);
	return *nu != before;
}

