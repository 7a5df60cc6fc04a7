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

#include "../core/array.h"
#include "../core/clock.h"
#include "../core/err.h"
#include "../core/hash.h"
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

/* Per (process, thread, stacks): sums (offcpu_drain: what was handed over so far). */
struct oc_sum {
	struct oc_key key;
	uint64_t ns, count;
};

struct oc_tab {
	struct oc_sum *v;
	size_t nr, alloc;
	struct u64map index; /* hash of the key -> index into v (probing on collision) */
};

/* A block still open at a window's end, and how much of it was counted up to there (offcpu_drain). */
struct oc_credit {
	uint32_t tid;
	struct oc_start st;
	uint64_t ns;
};

struct oc_credits {
	struct oc_credit *v;
	size_t nr, alloc;
	struct u64map index; /* tid -> index into v */
};

struct offcpu {
	struct offcpu_bpf *skel;
	bool stopped, with_runq;
	uint64_t min_block_ns;
	struct ocpy *py; /* Python stacks of waits, or NULL */
	struct oc_tab seen;        /* windows: the map's sums as of the last drain */
	struct oc_credits credits; /* windows: the open blocks counted in part */
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
	free(oc->seen.v);
	u64map_release(&oc->seen.index);
	free(oc->credits.v);
	u64map_release(&oc->credits.index);
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

/* The kernel side's counters (losses, run queue waits, unended blocks): totals since the start. */
static void read_counters(struct offcpu *oc, struct offcpu_stats *st)
{
	int dropped = bpf_map__fd(oc->skel->maps.dropped);
	int ncpu = libbpf_num_possible_cpus();

	if (ncpu <= 0)
		return;
	uint64_t *per = xcalloc((size_t)ncpu, sizeof(*per));
	st->dropped = st->runq_ns = st->runq_waits = st->unended = 0;
	for (uint32_t i = 0; i < 5; i++) {
		if (bpf_map_lookup_elem(dropped, &i, per))
			continue;
		for (int c = 0; c < ncpu; c++)
			*(i < 2 ? &st->dropped : i == 2 ? &st->runq_ns : i == 3 ? &st->runq_waits : &st->unended) +=
				per[c];
	}
	free(per);
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

	read_counters(oc, st);
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

/* --- windows: the sums since the last drain --- */

static struct oc_sum *tab_get(struct oc_tab *t, const struct oc_key *k, bool create)
{
	for (uint64_t h = hash_bytes(k, sizeof(*k));; h = hash_u64(h + 1)) {
		int inserted = 0;
		uint64_t *slot;

		if (h == U64MAP_EMPTY)
			continue;
		slot = create ? u64map_insert(&t->index, h, &inserted) : u64map_find(&t->index, h);
		if (!slot)
			return NULL;
		if (inserted) {
			ALLOC_GROW(t->v, t->nr + 1, t->alloc);
			t->v[t->nr] = (struct oc_sum){ .key = *k };
			*slot = t->nr++;
		}
		if (!memcmp(&t->v[*slot].key, k, sizeof(*k)))
			return &t->v[*slot];
	}
}

static void tab_release(struct oc_tab *t)
{
	free(t->v);
	u64map_release(&t->index);
	memset(t, 0, sizeof(*t));
}

static struct oc_credit *credit_find(const struct oc_credits *c, uint32_t tid)
{
	uint64_t *slot = u64map_find(&c->index, tid);

	return slot ? &c->v[*slot] : NULL;
}

static void credits_release(struct oc_credits *c)
{
	free(c->v);
	u64map_release(&c->index);
	memset(c, 0, sizeof(*c));
}

/* Buffers for turning a key's stacks into a fed sample. */
struct oc_bufs {
	uint64_t *k, *u;
	struct oc_ufix *fix;
	struct profile *tmp;
};

static void feed_key(struct offcpu *oc, struct rec_session *s, struct symbolizer *sym, struct oc_bufs *b,
		     const struct oc_key *key, uint64_t ns, uint64_t count, struct offcpu_stats *st)
{
	size_t nk = strip_tracing(sym, b->tmp, b->k, read_stack(bpf_map__fd(oc->skel->maps.stacks), key->kstack, b->k));
	size_t nu = read_stack(bpf_map__fd(oc->skel->maps.stacks), key->ustack, b->u);

	if (key->ustack >= 0 && fix_leaf(oc, s, sym, key->tgid, key->pid, key->ustack, b->u, &nu, b->fix))
		st->leaf_fixed++;
	feed(s, key->tgid, key->pid, b->k, nk, b->u, nu, ns, count);
	st->stacks++;
	st->switches += count;
	st->total_ns += ns;
}

/*
 * The blocks open now: each counted up to now (or its wakeup), less what earlier windows counted of it. Fills
 * `next` with the new credits and `ended` with the credits of blocks that ended since the last drain: the
 * kernel side added those blocks whole to `counts` before it removed their start (kiln_switch), so the caller
 * takes the part counted before off their sums.
 */
static void drain_open(struct offcpu *oc, uint64_t now, struct oc_credits *next, struct oc_tab *ended,
		       struct oc_tab *out, struct offcpu_stats *st)
{
	int starts = bpf_map__fd(oc->skel->maps.starts);
	uint32_t tid, tnext, *tprev = NULL;

	while (bpf_map_get_next_key(starts, tprev, &tnext) == 0) {
		struct oc_start sv;
		char path[64];
		int inserted;

		tid = tnext;
		tprev = &tid;
		if (bpf_map_lookup_elem(starts, &tid, &sv) || sv.ts >= now || (!oc->with_runq && sv.preempted))
			continue;
		snprintf(path, sizeof(path), "/proc/%u/task/%u", sv.tgid, tid);
		if (access(path, F_OK) < 0)
			continue;
		uint64_t upto = !oc->with_runq && sv.wake > sv.ts && sv.wake < now ? sv.wake : now;
		uint64_t total = upto - sv.ts;
		if (total < oc->min_block_ns)
			continue;
		const struct oc_credit *old = credit_find(&oc->credits, tid);
		bool same = old && old->st.ts == sv.ts;
		uint64_t add = same ? (total > old->ns ? total - old->ns : 0) : total;
		*u64map_insert(&next->index, tid, &inserted) = next->nr;
		ALLOC_GROW(next->v, next->nr + 1, next->alloc);
		next->v[next->nr++] = (struct oc_credit){ tid, sv, same && old->ns > total ? old->ns : total };
		if (add) {
			struct oc_key key = { .tgid = sv.tgid, .pid = tid, .ustack = sv.ustack, .kstack = sv.kstack };
			struct oc_sum *o = tab_get(out, &key, true);

			o->ns += add;
			o->count += !same;
			st->still_blocked++;
		}
	}
	for (size_t i = 0; i < oc->credits.nr; i++) {
		const struct oc_credit *c = &oc->credits.v[i], *now_c = credit_find(next, c->tid);
		struct oc_key key = { .tgid = c->st.tgid, .pid = c->tid, .ustack = c->st.ustack, .kstack = c->st.kstack };
		struct oc_sum *e;

		if (now_c && now_c->st.ts == c->st.ts)
			continue;
		e = tab_get(ended, &key, true);
		e->ns += c->ns;
		e->count++;
	}
}

int offcpu_drain(struct offcpu *oc, struct rec_session *s, struct symbolizer *sym, struct offcpu_stats *st,
		 struct err *e)
{
	int counts = bpf_map__fd(oc->skel->maps.counts);
	struct oc_tab seen = { 0 }, ended = { 0 }, out = { 0 };
	struct oc_credits credits = { 0 };
	struct oc_key key, next, *prev = NULL, *idle = NULL;
	size_t idle_nr = 0, idle_alloc = 0;
	uint64_t now = now_ns();

	/*
	 * Open blocks first: one that ends after this still has its start in the map, so it is credited here and
	 * taken off its sum at the next drain. Both maps are read before anything is named, so that few blocks
	 * end in between (those move to the next window). Open blocks are cut now, not at the window's end: the
	 * sums hold every block that ended until now, so a drain that runs late (kiln starved of CPU) moves the
	 * same time into this window for every thread, instead of counting some of it twice.
	 */
	drain_open(oc, now, &credits, &ended, &out, st);
	while (bpf_map_get_next_key(counts, prev, &next) == 0) {
		struct oc_val v;
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(counts, &key, &v))
			continue;
		const struct oc_sum *was = tab_get(&oc->seen, &key, false), *end = tab_get(&ended, &key, false);
		uint64_t ns = v.ns - (was ? was->ns : 0), count = v.count - (was ? was->count : 0);
		if (!ns && !count && !end) {
			/* Idle for a whole window: out of the kernel's map, so that threads that come and go over days
			 * do not fill it (deleted after the walk, which a deletion would restart). */
			ALLOC_GROW(idle, idle_nr + 1, idle_alloc);
			idle[idle_nr++] = key;
			continue;
		}
		struct oc_sum *now_s = tab_get(&seen, &key, true);
		now_s->ns = v.ns;
		now_s->count = v.count;
		if (end) {
			ns = ns > end->ns ? ns - end->ns : 0;
			count = count > end->count ? count - end->count : 0;
		}
		if (ns) {
			struct oc_sum *o = tab_get(&out, &key, true);

			o->ns += ns;
			o->count += count;
		}
	}
	for (size_t i = 0; i < idle_nr; i++)
		bpf_map_delete_elem(counts, &idle[i]);
	struct oc_bufs b = { xcalloc(KILN_BPF_MAX_STACK, sizeof(uint64_t)), xcalloc(KILN_BPF_MAX_STACK, sizeof(uint64_t)),
			     xmalloc(sizeof(struct oc_ufix)), profile_new(0) };
	for (size_t i = 0; i < out.nr; i++)
		feed_key(oc, s, sym, &b, &out.v[i].key, out.v[i].ns, out.v[i].count, st);
	tab_release(&oc->seen);
	oc->seen = seen;
	credits_release(&oc->credits);
	oc->credits = credits;
	read_counters(oc, st);
	tab_release(&ended);
	tab_release(&out);
	free(idle);
	profile_free(b.tmp);
	free(b.fix);
	free(b.u);
	free(b.k);
	(void)e;
	return 0;
}
