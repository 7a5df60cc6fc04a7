/* Off-CPU time with eBPF: loading, targets, and the sums fed to a session (see offcpu.h). */
#include <errno.h>
#include <linux/perf_event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "../core/clock.h"
#include "../core/err.h"
#include "../core/xalloc.h"
#include "../profile/profile.h"
#include "../symbols/symbolizer.h"
#include "bpf_shared.h"
#include "bpf_util.h"
#include "offcpu.h"
#include "offcpu_py.h"
#include "offcpu.skel.h"
#include "../perf/perf_record.h"
#include "session.h"

#define MAX_USER 512 /* user frames with Python frames spliced in */
#define MAX_CHAIN (KILN_BPF_MAX_STACK + MAX_USER + 4)

struct offcpu {
	struct offcpu_bpf *skel;
	bool stopped, with_runq;
	uint64_t min_block_ns;
	struct ocpy *py; /* Python stacks of waits, or NULL */
};

struct offcpu *offcpu_open(const struct offcpu_opts *o, bool *denied, struct err *e)
{
	struct offcpu *oc = xcalloc(1, sizeof(*oc));
	int ret;

	*denied = false;
	oc->with_runq = o->with_runq;
	oc->min_block_ns = o->min_block_ns;
	kbpf_init();
	oc->skel = offcpu_bpf__open();
	if (!oc->skel) {
		kbpf_error(e, -errno, "open the off-CPU eBPF programs", denied);
		goto fail;
	}
	oc->skel->rodata->min_block_ns = o->min_block_ns;
	oc->skel->rodata->trace_all = o->all;
	oc->skel->rodata->self_tgid = (uint32_t)getpid();
	oc->skel->rodata->capture_fix = !o->no_leaf_fix;
	oc->skel->rodata->with_runq = o->with_runq;
	oc->skel->rodata->kernel_stacks = !o->user_only;
	oc->skel->rodata->py_waits = o->py_waits;
	/* Tests (t3700): as if the kernel ran no program for any switch in or wakeup, to check that blocks are
	 * still measured, by the threads' own clocks (see kiln_switch). */
	oc->skel->rodata->blind_in = getenv("KILN_TEST_OFFCPU_BLIND") && *getenv("KILN_TEST_OFFCPU_BLIND") == '1';
	ret = offcpu_bpf__load(oc->skel);
	if (ret) {
		kbpf_error(e, ret, "load the off-CPU eBPF programs", denied);
		goto fail;
	}
	ret = offcpu_bpf__attach(oc->skel);
	if (ret) {
		kbpf_error(e, ret, "attach the off-CPU eBPF programs to sched_switch", denied);
		goto fail;
	}
	return oc;
fail:
	offcpu_free(oc);
	return NULL;
}

void offcpu_free(struct offcpu *oc)
{
	if (!oc)
		return;
	ocpy_free(oc->py);
	offcpu_bpf__destroy(oc->skel);
	free(oc);
}

int offcpu_add_pid(struct offcpu *oc, uint32_t pid, struct err *e)
{
	uint8_t one = 1;
	if (bpf_map__update_elem(oc->skel->maps.targets, &pid, sizeof(pid), &one, sizeof(one), BPF_ANY))
		return err_errno(e, "cannot add process %u to the off-CPU filter", pid);
	return 0;
}

int offcpu_read_stacks(struct offcpu *oc, const struct rec_runtime_hooks *h, struct rec_session *s, struct err *e)
{
	if (!h->user_stack || oc->py)
		return 0;
	struct ocpy_opts o = {
		.starts_fd = bpf_map__fd(oc->skel->maps.starts),
		.stacks_fd = bpf_map__fd(oc->skel->maps.stacks),
		.pyread_fd = bpf_map__fd(oc->skel->maps.pyread),
		.ring_fd = bpf_map__fd(oc->skel->maps.pyblocks),
		.with_runq = oc->with_runq,
		.min_block_ns = oc->min_block_ns,
	};
	oc->py = ocpy_start(&o, h, s, e);
	return oc->py ? 0 : -1;
}

void offcpu_stop(struct offcpu *oc)
{
	if (oc->stopped)
		return;
	offcpu_bpf__detach(oc->skel);
	/* After the programs: the events of the blocks that ended until then are all in the ring. */
	ocpy_stop(oc->py);
	oc->stopped = true;
}

/* Copies stack `id` into `out` (leaf first, without the zero padding); returns the number of addresses. */
static size_t read_stack(int fd, int32_t id, uint64_t *out)
{
	if (id < 0 || bpf_map_lookup_elem(fd, &id, out))
		return 0;
	size_t n = 0;
	while (n < KILN_BPF_MAX_STACK && out[n])
		n++;
	return n;
}

/* The user chain of (tgid, ustack) in `u` (length `*nu`), with its leaf frames fixed when possible. */
static bool fix_leaf(struct offcpu *oc, struct rec_session *s, struct symbolizer *sym, uint32_t tgid,
		     uint32_t tid, int32_t ustack, uint64_t *u, size_t *nu, struct oc_ufix *fix)
{
	return kbpf_fix_leaf(bpf_map__fd(oc->skel->maps.ufix), s, sym, tgid, tid, ustack, u, nu, fix);
}

/* Drops the tracing machinery's own frames (the eBPF program and the tracepoint glue) from a kernel stack. */
static size_t strip_tracing(struct symbolizer *sym, struct profile *tmp, uint64_t *k, size_t nk)
{
	size_t skip = 0;
	while (skip < nk && skip < 8) {
		uint32_t fid;
		if (!symbolizer_resolve(sym, tmp, 0, k[skip], true, &fid, 1))
			break;
		const struct frame *f = &tmp->frames[fid];
		const char *name = f->function ? profile_str(tmp, f->function) : "";
		if (strncmp(name, "bpf_prog_", 9) && strncmp(name, "bpf_trace_run", 13) &&
		    strncmp(name, "__bpf_trace_", 12) && strncmp(name, "__traceiter_", 12) &&
		    strncmp(name, "bpf_get_stack", 13))
			break;
		skip++;
	}
	if (skip)
		memmove(k, k + skip, (nk - skip) * sizeof(*k));
	return nk - skip;
}

static void feed(struct rec_session *s, uint32_t tgid, uint32_t tid, const uint64_t *k, size_t nk,
		 const uint64_t *u, size_t nu, uint64_t ns, uint64_t count)
{
	uint64_t chain[MAX_CHAIN];
	size_t n = 0;
	if (nk) {
		chain[n++] = (uint64_t)PERF_CONTEXT_KERNEL;
		for (size_t i = 0; i < nk; i++)
			chain[n++] = k[i];
	}
	if (nu) {
		chain[n++] = (uint64_t)PERF_CONTEXT_USER;
		/* The session names return addresses by their call (address - 1); the runtime's pseudo addresses
		 * of Python frames are names already. */
		for (size_t i = 0; i < nu && i < MAX_USER; i++)
			chain[n++] = i && (u[i] & REC_RUNTIME_TAG) ? u[i] + 1 : u[i];
	}
	struct perf_rec r;
	memset(&r, 0, sizeof(r));
	r.type = PERF_RECORD_SAMPLE;
	r.misc = nk ? PERF_RECORD_MISC_KERNEL : PERF_RECORD_MISC_USER;
	r.sid.pid = tgid;
	r.sid.tid = tid;
	r.sid.has_tid = true;
	r.u.sample.period = ns;
	r.u.sample.callchain = (const unsigned char *)chain;
	r.u.sample.callchain_nr = n;
	rec_session_record_n(s, &r, count ? count : 1);
}

int offcpu_collect(struct offcpu *oc, struct rec_session *s, struct symbolizer *sym, struct offcpu_stats *st,
		   struct err *e)
{
	int counts = bpf_map__fd(oc->skel->maps.counts), stacks = bpf_map__fd(oc->skel->maps.stacks);
	int starts = bpf_map__fd(oc->skel->maps.starts);
	uint64_t *k = xcalloc(KILN_BPF_MAX_STACK, sizeof(*k)), *u = xcalloc(KILN_BPF_MAX_STACK, sizeof(*u));
	uint64_t *m = xcalloc(MAX_USER, sizeof(*m));
	struct oc_ufix *fix = xmalloc(sizeof(*fix));
	struct oc_key key, next, *prev = NULL;
	uint64_t now = now_ns();

	struct profile *tmp = profile_new(0); /* names of kernel frames, for strip_tracing() */

	memset(st, 0, sizeof(*st));
	offcpu_stop(oc);

	while (bpf_map_get_next_key(counts, prev, &next) == 0) {
		struct oc_val v;
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(counts, &key, &v) || !v.ns)
			continue;
		size_t nk = strip_tracing(sym, tmp, k, read_stack(stacks, key.kstack, k));
		size_t nu = read_stack(stacks, key.ustack, u);
		if (key.ustack >= 0 && fix_leaf(oc, s, sym, key.tgid, key.pid, key.ustack, u, &nu, fix))
			st->leaf_fixed++;
		feed(s, key.tgid, key.pid, k, nk, u, nu, v.ns, v.count);
		st->stacks++;
		st->switches += v.count;
		st->total_ns += v.ns;
	}

	/* Waits whose Python stacks were read while they lasted (offcpu_py.h). */
	struct ocpy_wait w;
	for (size_t i = 0; oc->py && ocpy_wait_at(oc->py, i, &w); i++) {
		if (!w.ns)
			continue;
		size_t nk = strip_tracing(sym, tmp, k, read_stack(stacks, w.kstack, k));
		size_t nu = read_stack(stacks, w.ustack, u);
		if (w.ustack >= 0 && fix_leaf(oc, s, sym, w.tgid, w.tid, w.ustack, u, &nu, fix))
			st->leaf_fixed++;
		if (w.nchain)
			nu = ocpy_merge(oc->py, sym, s, w.tgid, u, nu, w.chain, w.nchain, m, MAX_USER);
		feed(s, w.tgid, w.tid, k, nk, w.nchain ? m : u, nu, w.ns, w.count);
		st->stacks++;
		st->switches += w.count;
		st->total_ns += w.ns;
		if (w.nchain)
			st->py_ns += w.ns;
	}

	/* Threads off CPU right now (blocked since their last switch): counted up to now, if still alive. */
	uint32_t tid, tnext, *tprev = NULL;
	while (bpf_map_get_next_key(starts, tprev, &tnext) == 0) {
		struct oc_start sv;
		tid = tnext;
		tprev = &tid;
		if (bpf_map_lookup_elem(starts, &tid, &sv) || sv.ts >= now)
			continue;
		char path[64];
		snprintf(path, sizeof(path), "/proc/%u/task/%u", sv.tgid, tid);
		if (access(path, F_OK) < 0)
			continue;
		size_t nk = strip_tracing(sym, tmp, k, read_stack(stacks, sv.kstack, k));
		size_t nu = read_stack(stacks, sv.ustack, u);
		if (sv.ustack >= 0 && fix_leaf(oc, s, sym, sv.tgid, tid, sv.ustack, u, &nu, fix))
			st->leaf_fixed++;
		uint64_t ns = now - sv.ts;
		if (!oc->with_runq && sv.preempted)
			continue;
		if (!oc->with_runq && sv.wake > sv.ts && sv.wake < now)
			ns = sv.wake - sv.ts;
		if (ns < oc->min_block_ns)
			continue;
		const uint64_t *pc = NULL;
		size_t npc = oc->py ? ocpy_block_chain(oc->py, tid, sv.ts, &pc) : 0;
		if (npc) {
			nu = ocpy_merge(oc->py, sym, s, sv.tgid, u, nu, pc, npc, m, MAX_USER);
			st->py_ns += ns;
		}
		feed(s, sv.tgid, tid, k, nk, npc ? m : u, nu, ns, 1);
		st->still_blocked++;
		st->total_ns += ns;
	}

	int dropped = bpf_map__fd(oc->skel->maps.dropped);
	int ncpu = libbpf_num_possible_cpus();
	if (ncpu > 0) {
		uint64_t *per = xcalloc((size_t)ncpu, sizeof(*per));
		for (uint32_t i = 0; i < 5; i++) {
			if (bpf_map_lookup_elem(dropped, &i, per))
				continue;
			for (int c = 0; c < ncpu; c++)
				*(i < 2 ? &st->dropped : i == 2 ? &st->runq_ns : i == 3 ? &st->runq_waits : &st->unended) +=
					per[c];
		}
		free(per);
	}
	if (oc->py) {
		struct ocpy_stats ps;
		ocpy_get_stats(oc->py, &ps);
		st->py_reads = ps.reads;
	}
	profile_free(tmp);
	free(m);
	free(k);
	free(u);
	free(fix);
	(void)e;
	return 0;
}
