/* Python stacks of off-CPU time: a thread reads the stacks of blocked threads while they wait (see offcpu_py.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
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
#include "offcpu_py.h"
#include "session.h"

#define MAX_CHAIN 512
#define BATCH 256

/* The last two blocks read of one thread: an event for the older one may still be in the ring buffer when the
 * next block is read (it ended after the poll's events were taken in). */
struct read {
	uint64_t ts;
	uint32_t chain; /* id in `chains`, 0 = none */
};

struct tid_state {
	uint64_t tried_ts; /* the last block looked at (read or not) */
	struct read cur, prev;
};

/* Aggregation key of waits with a Python stack, interned as bytes in `keys`. */
struct wkey {
	uint32_t tgid, tid;
	int32_t ustack, kstack;
	uint32_t chain;
	uint32_t pad;
};

struct ocpy {
	struct ocpy_opts o;
	struct rec_runtime_hooks h; /* the runtime's */
	struct rec_session *s;
	pthread_mutex_t lock;       /* around the runtime's hooks: the session calls them from the main thread */
	pthread_t thread;
	bool running, stopped;
	int stopfd;
	struct ring_buffer *rb;

	struct strtab chains;       /* user stacks as bytes (uint64_t addresses); id 0 = "" */
	struct u64map native;       /* ustack id -> chain id + 1 of its frame-pointer chain */
	struct tid_state *tids;
	size_t tids_nr, tids_alloc;
	struct u64map tid_index;    /* tid -> index in tids */
	struct strtab keys;         /* struct wkey bytes -> id; id 0 = "" */
	uint64_t *ns, *count;       /* per key id */
	size_t vals_alloc;
	struct ocpy_stats st;
	struct profile *tmp;        /* frames named by ocpy_merge() */
	uint64_t buf[MAX_CHAIN];
	uint32_t bkeys[BATCH];
	struct oc_start bvals[BATCH];
};

static size_t chain_get(const struct ocpy *py, uint32_t id, const uint64_t **out)
{
	*out = (const uint64_t *)(const void *)strtab_str(&py->chains, id);
	return strtab_len(&py->chains, id) / sizeof(uint64_t);
}

static uint32_t chain_intern(struct ocpy *py, const uint64_t *a, size_t n)
{
	return strtab_intern(&py->chains, (const char *)a, n * sizeof(*a));
}

static struct tid_state *tid_get(struct ocpy *py, uint32_t tid, bool create)
{
	int inserted = 0;
	uint64_t *slot = create ? u64map_insert(&py->tid_index, tid, &inserted) : u64map_find(&py->tid_index, tid);
	if (!slot)
		return NULL;
	if (inserted) {
		ALLOC_GROW(py->tids, py->tids_nr + 1, py->tids_alloc);
		memset(&py->tids[py->tids_nr], 0, sizeof(*py->tids));
		*slot = py->tids_nr++;
	}
	return &py->tids[*slot];
}

static uint32_t read_of(const struct ocpy *py, uint32_t tid, uint64_t ts)
{
	const uint64_t *slot = u64map_find(&py->tid_index, tid);
	if (!slot)
		return 0;
	const struct tid_state *t = &py->tids[*slot];
	if (t->cur.chain && t->cur.ts == ts)
		return t->cur.chain;
	if (t->prev.chain && t->prev.ts == ts)
		return t->prev.chain;
	return 0;
}

/* A block that ended after its stack was read: the kernel's event. */
static int on_event(void *ctx, void *data, size_t size)
{
	struct ocpy *py = ctx;
	const struct oc_pyblock *ev = data;
	if (size < sizeof(*ev))
		return 0;
	struct wkey k = { .tgid = ev->tgid, .tid = ev->pid, .ustack = ev->ustack, .kstack = ev->kstack };
	/* Unmatched cannot happen (the kernel sends only marked blocks); the time is kept all the same. */
	k.chain = read_of(py, ev->pid, ev->ts);
	uint32_t id = strtab_intern(&py->keys, (const char *)&k, sizeof(k));
	if (id >= py->vals_alloc) {
		size_t old = py->vals_alloc, na = old;
		ALLOC_GROW(py->ns, id + 1, na);
		py->count = xrealloc(py->count, na * sizeof(*py->count));
		memset(py->ns + old, 0, (na - old) * sizeof(*py->ns));
		memset(py->count + old, 0, (na - old) * sizeof(*py->count));
		py->vals_alloc = na;
	}
	py->ns[id] += ev->ns;
	py->count[id]++;
	if (k.chain) {
		py->st.waits++;
		py->st.ns += ev->ns;
	}
	return 0;
}

/* The frame-pointer chain of stack `id` (cached: ids name one stack for the map's life). */
static size_t native_chain(struct ocpy *py, int32_t id, uint64_t *out)
{
	int inserted;
	uint64_t *slot = u64map_insert(&py->native, (uint32_t)id, &inserted);
	if (inserted) {
		uint64_t a[KILN_BPF_MAX_STACK];
		size_t n = 0;
		if (bpf_map_lookup_elem(py->o.stacks_fd, &id, a) == 0)
			while (n < KILN_BPF_MAX_STACK && a[n])
				n++;
		*slot = (uint64_t)chain_intern(py, a, n) + 1;
	}
	const uint64_t *c;
	size_t n = chain_get(py, (uint32_t)(*slot - 1), &c);
	memcpy(out, c, n * sizeof(*c));
	return n;
}

/* Reads the Python stack of one blocked thread, then marks the block for the kernel (see offcpu.bpf.c). */
static void read_block(struct ocpy *py, uint32_t tid, const struct oc_start *st)
{
	size_t n = native_chain(py, st->ustack, py->buf);
	if (!n)
		return;
	pthread_mutex_lock(&py->lock);
	n = py->h.user_stack(py->h.ctx, st->tgid, tid, py->buf, n, MAX_CHAIN);
	pthread_mutex_unlock(&py->lock);
	bool python = false;
	for (size_t i = 0; i < n && !python; i++)
		python = (py->buf[i] & REC_RUNTIME_TAG) != 0;
	if (!python)
		return;
	struct tid_state *t = tid_get(py, tid, true);
	t->prev = t->cur;
	t->cur.ts = st->ts;
	t->cur.chain = chain_intern(py, py->buf, n);
	py->st.reads++;
	/* Written after the read: a block whose mark is found when it ends lasted through the whole read. */
	bpf_map_update_elem(py->o.pyread_fd, &tid, &st->ts, BPF_ANY);
}

static void consider(struct ocpy *py, uint32_t tid, const struct oc_start *st, uint64_t now)
{
	if (st->ustack < 0 || (st->preempted && !py->o.with_runq))
		return;
	/* Younger than --min-block: it may still end before it counts; a later poll reads it. */
	if (now < st->ts || now - st->ts < py->o.min_block_ns)
		return;
	struct tid_state *t = tid_get(py, tid, true);
	if (t->tried_ts == st->ts)
		return;
	t->tried_ts = st->ts;
	read_block(py, tid, st);
}

/* Every thread off CPU right now, in as few system calls as the kernel allows. */
static void scan(struct ocpy *py)
{
	uint32_t *keys = py->bkeys;
	struct oc_start *vals = py->bvals;
	uint32_t in = 0, out = 0;
	bool first = true;
	uint64_t now = now_ns();

	for (;;) {
		__u32 count = BATCH;
		int r = bpf_map_lookup_batch(py->o.starts_fd, first ? NULL : &in, &out, keys, vals, &count, NULL);
		int err = r < 0 ? errno : 0;
		for (__u32 i = 0; i < count && (r == 0 || err == ENOENT); i++)
			consider(py, keys[i], &vals[i], now);
		if (r < 0)
			break; /* ENOENT: done */
		in = out;
		first = false;
	}
}

static void *run(void *arg)
{
	struct ocpy *py = arg;
	for (;;) {
		struct pollfd pfd = { .fd = py->stopfd, .events = POLLIN };
		if (poll(&pfd, 1, OCPY_POLL_MS) > 0)
			break;
		/* Events first: an ended block's read must still be known when the thread's next block is read. */
		ring_buffer__consume(py->rb);
		scan(py);
	}
	return NULL;
}

/* --- the session's hooks, behind the lock ----------------------------------------------------------------- */

static size_t locked_user_stack(void *ctx, uint32_t pid, uint32_t tid, uint64_t *addrs, size_t n, size_t max)
{
	struct ocpy *py = ctx;
	if (py->stopped || !py->h.user_stack)
		return n; /* waits fed at the end carry their stacks; reading now would give today's */
	pthread_mutex_lock(&py->lock);
	n = py->h.user_stack(py->h.ctx, pid, tid, addrs, n, max);
	pthread_mutex_unlock(&py->lock);
	return n;
}

static size_t locked_resolve(void *ctx, struct profile *p, uint64_t addr, uint32_t *out, size_t max)
{
	struct ocpy *py = ctx;
	return py->h.resolve ? py->h.resolve(py->h.ctx, p, addr, out, max) : 0;
}

static size_t locked_frames(void *ctx, struct profile *p, uint32_t *ids, size_t n, size_t max)
{
	struct ocpy *py = ctx;
	return py->h.frames ? py->h.frames(py->h.ctx, p, ids, n, max) : n;
}

static void locked_exec(void *ctx, uint32_t pid)
{
	struct ocpy *py = ctx;
	if (!py->h.exec)
		return;
	pthread_mutex_lock(&py->lock);
	py->h.exec(py->h.ctx, pid);
	pthread_mutex_unlock(&py->lock);
}

struct ocpy *ocpy_start(const struct ocpy_opts *o, const struct rec_runtime_hooks *h, struct rec_session *s,
			struct err *e)
{
	struct ocpy *py = xcalloc(1, sizeof(*py));
	py->o = *o;
	py->h = *h;
	py->s = s;
	py->stopfd = -1;
	pthread_mutex_init(&py->lock, NULL);
	strtab_intern(&py->chains, "", 0);
	strtab_intern(&py->keys, "", 0);
	py->rb = ring_buffer__new(o->ring_fd, on_event, py, NULL);
	if (!py->rb) {
		kbpf_error(e, -errno, "read the off-CPU event ring", NULL);
		goto fail;
	}
	py->stopfd = eventfd(0, EFD_CLOEXEC);
	if (py->stopfd < 0) {
		err_errno(e, "cannot create an eventfd");
		goto fail;
	}
	int r = pthread_create(&py->thread, NULL, run, py);
	if (r) {
		errno = r;
		err_errno(e, "cannot start the Python stack reader");
		goto fail;
	}
	py->running = true;
	struct rec_runtime_hooks w = {
		.ctx = py,
		.user_stack = locked_user_stack,
		.resolve = locked_resolve,
		.frames = locked_frames,
		.exec = locked_exec,
	};
	rec_session_set_runtime_hooks(s, &w);
	return py;
fail:
	ocpy_free(py);
	return NULL;
}

void ocpy_stop(struct ocpy *py)
{
	if (!py || py->stopped)
		return;
	if (py->running) {
		uint64_t one = 1;
		ssize_t w = write(py->stopfd, &one, sizeof(one));
		(void)w;
		pthread_join(py->thread, NULL);
		py->running = false;
	}
	if (py->rb)
		ring_buffer__consume(py->rb);
	py->stopped = true;
}

void ocpy_free(struct ocpy *py)
{
	if (!py)
		return;
	ocpy_stop(py);
	ring_buffer__free(py->rb);
	if (py->stopfd >= 0)
		close(py->stopfd);
	pthread_mutex_destroy(&py->lock);
	strtab_release(&py->chains);
	u64map_release(&py->native);
	free(py->tids);
	u64map_release(&py->tid_index);
	strtab_release(&py->keys);
	free(py->ns);
	free(py->count);
	profile_free(py->tmp);
	free(py);
}

bool ocpy_wait_at(const struct ocpy *py, size_t i, struct ocpy_wait *w)
{
	uint32_t id = (uint32_t)i + 1;
	if (id >= py->keys.nr)
		return false;
	struct wkey k;
	memcpy(&k, strtab_str(&py->keys, id), sizeof(k));
	w->tgid = k.tgid;
	w->tid = k.tid;
	w->ustack = k.ustack;
	w->kstack = k.kstack;
	w->ns = id < py->vals_alloc ? py->ns[id] : 0;
	w->count = id < py->vals_alloc ? py->count[id] : 0;
	w->nchain = k.chain ? chain_get(py, k.chain, &w->chain) : 0;
	if (!k.chain)
		w->chain = NULL;
	return true;
}

size_t ocpy_block_chain(const struct ocpy *py, uint32_t tid, uint64_t ts, const uint64_t **chain)
{
	uint32_t id = read_of(py, tid, ts);
	return id ? chain_get(py, id, chain) : 0;
}

/* Whether the return address `a` (innermost: `leaf`) lies in CPython's evaluator loop. */
static bool in_eval(struct ocpy *py, struct symbolizer *sym, uint32_t asid, uint64_t a, bool leaf)
{
	uint32_t ids[64];
	size_t n = symbolizer_resolve(sym, py->tmp, asid, leaf ? a : a - 1, false, ids, 64);
	if (!n)
		return false;
	const struct frame *f = &py->tmp->frames[ids[n - 1]]; /* the outermost: the function, not an inlined one */
	return f->function && !strcmp(profile_str(py->tmp, f->function), "_PyEval_EvalFrameDefault");
}

size_t ocpy_merge(struct ocpy *py, struct symbolizer *sym, struct rec_session *s, uint32_t tgid, const uint64_t *u,
		  size_t nu, const uint64_t *chain, size_t nchain, uint64_t *out, size_t max)
{
	size_t t = 0;
	while (t < nchain && !(chain[t] & REC_RUNTIME_TAG))
		t++;
	if (t == nchain || !t) {
		/* No Python frame (or nothing native before it): the runtime's chain as it was read. */
		const uint64_t *src = t == nchain ? u : chain;
		size_t n = t == nchain ? nu : nchain;
		n = n < max ? n : max;
		memcpy(out, src, n * sizeof(*out));
		return n;
	}
	if (!py->tmp)
		py->tmp = profile_new(0);
	/*
	 * The leaf fix (DWARF unwinding of the stack top) often reaches the evaluator where the frame-pointer walk
	 * the runtime spliced did not (Debian's python3.11 has no frame pointers): its native frames up to the
	 * evaluator, then the Python frames and what the runtime kept outside them.
	 */
	uint32_t asid = rec_session_asid(s, tgid);
	size_t e = 0;
	while (e < nu && !in_eval(py, sym, asid, u[e], e == 0))
		e++;
	size_t n = 0;
	if (e < nu && e > 0) {
		for (size_t i = 0; i < e && n < max; i++)
			out[n++] = u[i];
		for (size_t i = t; i < nchain && n < max; i++)
			out[n++] = chain[i];
		return n;
	}
	/* Otherwise the spliced chain, with the leaf frames the fix found where it meets the native part. */
	n = nchain < max ? nchain : max;
	memcpy(out, chain, n * sizeof(*out));
	return kbpf_splice(out, n, u, nu, max);
}

void ocpy_get_stats(const struct ocpy *py, struct ocpy_stats *st)
{
	*st = py->st;
}
