/*
 * What kiln's eBPF loaders share: libbpf is kept quiet (library code never prints; its last warning is kept
 * for the error message), refusals of BPF itself are told apart from other failures, and kernel features are
 * probed in the running kernel's BTF.
 */
#ifndef KILN_RECORD_BPF_UTIL_H
#define KILN_RECORD_BPF_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct err;
struct oc_ufix;
struct rec_session;
struct symbolizer;

/* Routes libbpf's messages into a buffer (or to stderr when $KILN_BPF_DEBUG is set). Idempotent. */
void kbpf_init(void);

/*
 * Fills `e` for a libbpf failure `ret` (a negative errno) while doing `what`, with libbpf's last warning when
 * it says more; sets `*denied` (when not NULL) if the kernel refused BPF itself (EPERM/EACCES). Returns -1.
 */
int kbpf_error(struct err *e, int ret, const char *what, bool *denied);

/* True when the running kernel's BTF has a function (or, with `typedef_`, a typedef such as a tracepoint's
 * "btf_trace_block_rq_issue") of this name. */
bool kbpf_kernel_has(const char *name, bool typedef_);

/*
 * The leaf fix (see offcpu.h): `u` holds the frame-pointer user chain of stack `ustack` of process `tgid`
 * (`*nu` addresses, capacity KILN_BPF_MAX_STACK). When `ufix_fd` (a map of struct oc_fixkey -> struct oc_ufix)
 * has the registers and stack top saved for it, they are unwound with DWARF CFI through `s`'s address spaces
 * and the innermost frames the frame-pointer walk missed are spliced in. `fix` is scratch space. Returns true
 * when the chain changed.
 */
/*
 * Replaces the innermost frames of the frame-pointer chain `fp` (leaf first, `nfp` addresses, capacity `max`)
 * with the DWARF-unwound chain `dw` where the two agree further out: the first unwound return address that also
 * appears in `fp` joins them. Returns the new length (`nfp` when they never meet or nothing was missing).
 */
size_t kbpf_splice(uint64_t *fp, size_t nfp, const uint64_t *dw, size_t ndw, size_t max);

bool kbpf_fix_leaf(int ufix_fd, struct rec_session *s, struct symbolizer *sym, uint32_t tgid, uint32_t tid,
		   int32_t ustack, uint64_t *u, size_t *nu, struct oc_ufix *fix);

#endif
