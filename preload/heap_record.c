/*
 * The heap profiler's recording: an allocation's stack (interned per thread) and, in a full trace, the
 * thread's window of per-site changes (heap.h), or a sampled allocation's and free's records. The hot path
 * of every recorded event, kept in one file so that its steps inline into kh_record_alloc and kh_record_free.
 */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>

#include "heap_lib.h"

static unsigned size_bits(uint64_t size)
{
	return size ? 64 - (unsigned)__builtin_clzll(size) : 0;
}

/* The histogram's buckets in use. */
static size_t hist_used(const struct window *w)
{
	size_t nh = 0;
	for (unsigned b = 0; b < 65; b++)
		nh += w->hist[b] != 0;
	return nh;
}

static size_t win_words(const struct window *w, uint32_t n)
{
	size_t nh = hist_used(w);
	return 6 + 8 * (size_t)n + (nh ? 1 + 2 * nh : 0);
}

/* The window's records into `o` (room for win_words()); `n`: its sites (read once by the caller). */
size_t kh_win_encode(const struct window *w, uint32_t n, uint64_t *o)
{
	size_t k = 0;
	o[k++] = KH_HEAD(KH_WINDOW, 0, 5, n);
	o[k++] = (uint64_t)w->net_b;
	o[k++] = (uint64_t)w->net_o;
	o[k++] = (uint64_t)w->max_b;
	o[k++] = (uint64_t)w->max_o;
	o[k++] = w->max_time;
	for (uint32_t i = 0; i < n; i++) {
		const struct win_site *st = &w->site[i];
		bool at_max = st->last_mod <= w->max_evt; /* unchanged since the highest point */
		o[k++] = KH_HEAD(KH_SITE, 0, 7, st->id);
		o[k++] = (uint64_t)st->allocs;
		o[k++] = (uint64_t)st->alloc_bytes;
		o[k++] = (uint64_t)st->live_o;
		o[k++] = (uint64_t)st->live_b;
		o[k++] = (uint64_t)(at_max ? st->live_o : st->peak_o);
		o[k++] = (uint64_t)(at_max ? st->live_b : st->peak_b);
		o[k++] = (uint64_t)st->temporary;
	}
	size_t nh = hist_used(w);
	if (nh) {
		o[k++] = KH_HEAD(KH_HIST, 0, 2 * nh, 0);
		for (unsigned b = 0; b < 65; b++)
			if (w->hist[b]) {
				o[k++] = b;
				o[k++] = w->hist[b];
			}
	}
	return k;
}

void kh_win_reset(struct window *w)
{
	memset(w->slot, 0, sizeof(w->slot));
	memset(w->hist, 0, sizeof(w->hist));
	w->n = 0;
	w->net_o = w->net_b = w->max_o = w->max_b = 0;
	w->max_time = w->start = 0;
	w->evt = w->max_evt = 0;
}

/* Ends the owner's window: its records go into the buffer (sent first when there is no room). */
void kh_win_close(struct tstate *t)
{
	struct window *w = &t->win;
	if (!w->n)
		return;
	size_t words = win_words(w, w->n);
	if (t->pos + (words + 3) * 8 > BUF_BYTES)
		kh_send_buf(t);
	if (!t->pos) {
		t->chunk_start = kh_now_ns();
		uint64_t c[3] = { KH_HEAD(KH_CHUNK, 0, 2, 0), t->tid, t->chunk_start };
		kh_put(t, c, 3);
	}
	size_t k = kh_win_encode(w, w->n, (uint64_t *)(void *)(t->buf + t->pos));
	__atomic_store_n(&t->pos, t->pos + k * 8, __ATOMIC_RELEASE);
	t->pend += w->net_b;
	atomic_fetch_add_explicit(&g_live, w->net_b, memory_order_relaxed);
	kh_win_reset(w);
}

/* The site's entry in the owner's window, created when new (the window is closed first when full). */
static inline struct win_site *win_site_of(struct tstate *t, uint32_t id)
{
	struct window *w = &t->win;
	for (;;) {
		size_t i = (id * 0x9e3779b1u) >> (32 - 10);
		for (;; i = (i + 1) & (WIN_SLOTS - 1)) {
			unsigned k = w->slot[i];
			if (!k)
				break;
			if (LIKELY(w->site[k - 1].id == id))
				return &w->site[k - 1];
		}
		if (w->n < WIN_SITES) {
			if (!w->n)
				w->start = t->now;
			struct win_site *st = &w->site[w->n++];
			memset(st, 0, sizeof(*st));
			st->id = id;
			w->slot[i] = (uint16_t)w->n;
			return st;
		}
		kh_win_close(t);
	}
}

/* A change of a site's live blocks and bytes, and of the window's running total. */
static inline void win_change(struct tstate *t, struct win_site *st, int64_t o, int64_t b)
{
	struct window *w = &t->win;
	if (st->last_mod <= w->max_evt) {
		st->peak_o = st->live_o;
		st->peak_b = st->live_b;
	}
	st->live_o += o;
	st->live_b += b;
	st->last_mod = ++w->evt;
	w->net_o += o;
	w->net_b += b;
	if (w->net_b > w->max_b) {
		w->max_b = w->net_b;
		w->max_o = w->net_o;
		w->max_evt = w->evt;
		w->max_time = t->now;
	}
}

/* After each event of a full trace: sends when the thread holds too much of the total (DRIFT_MIN). */
static inline void win_drift(struct tstate *t)
{
	int64_t d = t->pend + t->win.net_b;
	if (UNLIKELY(d > t->drift_limit || d < -t->drift_limit))
		kh_flush_own(t);
}

/* Stacks. */

static void stab_grow(struct tstate *t)
{
	int saved = errno;
	size_t n = (t->stab_mask + 1) * 2;
	struct stab_slot *s = kh_map_zero(n * sizeof(*s));
	if (!s) {
		errno = saved;
		return;
	}
	for (size_t i = 0; i <= t->stab_mask; i++) {
		if (!t->stab[i].hash)
			continue;
		size_t j = t->stab[i].hash & (n - 1);
		while (s[j].hash)
			j = (j + 1) & (n - 1);
		s[j] = t->stab[i];
	}
	munmap(t->stab, (t->stab_mask + 1) * sizeof(*t->stab));
	t->stab = s;
	t->stab_mask = n - 1;
	errno = saved;
}

/*
 * Walks the frame pointer chain from the hook's frame `fp` and returns the id of the site (the stack and the
 * allocator `kind`), sending it the first time this thread sees it. The hook's own frame is always valid; the
 * next ones must lie in the thread's stack, above the previous one, and be aligned, so a broken chain ends the
 * walk instead of a crash.
 */
static uint32_t stack_id(struct tstate *t, const uintptr_t *fp, unsigned kind)
{
	uintptr_t addrs[KH_MAX_DEPTH];
	unsigned n = 0;
	uint64_t h = 0x9e3779b97f4a7c15ULL;
	uintptr_t lo = t->stack_lo, hi = t->stack_hi;
	bool on_stack = (uintptr_t)fp >= lo && (uintptr_t)fp < hi;

	for (;;) {
		uintptr_t ret = fp[1];
		if (ret < 4096)
			break;
		addrs[n++] = ret;
		h = (h ^ ret) * 0x100000001b3ULL;
		h ^= h >> 29;
		if (n >= g_depth || !on_stack)
			break;
		const uintptr_t *next = (const uintptr_t *)fp[0];
		if ((uintptr_t)next <= (uintptr_t)fp || ((uintptr_t)next & 7) || (uintptr_t)next > hi - 16)
			break;
		fp = next;
	}
	h += n + ((uint64_t)kind << 56);
	if (!h)
		h = 1;

	size_t i = h & t->stab_mask;
	while (t->stab[i].hash) {
		if (t->stab[i].hash == h)
			return t->stab[i].id;
		i = (i + 1) & t->stab_mask;
	}
	uint32_t id = atomic_fetch_add_explicit(&g_next_stack, 1, memory_order_relaxed) + 1;
	t->stab[i].hash = h;
	t->stab[i].id = id;
	if (++t->stab_nr * 2 > t->stab_mask)
		stab_grow(t);

	kh_reserve(t, 1 + n + 4);
	uint64_t head = KH_HEAD(KH_STACK, kind, n, id);
	memcpy(t->buf + t->pos, &head, 8);
	memcpy(t->buf + t->pos + 8, addrs, n * 8);
	__atomic_store_n(&t->pos, t->pos + (1 + n) * 8, __ATOMIC_RELEASE);
	return id;
}

/* Recording. */

/*
 * A time stamp now and then (and before big blocks) dates the peak closely: the time, or 0 when none is due.
 * Sampling stamps every sampled allocation: they are rare (one per sample interval of bytes, each walking a
 * stack already), and a stamp is when a buffer older than FLUSH_NS is sent, so a thread that allocates
 * slowly still sends its samples within about FLUSH_NS of the next one instead of after 64 of them (a
 * window of `kiln profile --push` gets the allocations of its own time).
 */
static inline uint64_t stamp_due(struct tstate *t, size_t size)
{
	if (++t->tick < 64 && size < 65536 && !g_sample)
		return 0;
	t->tick = 0;
	return t->now = kh_now_ns();
}

/*
 * After an event of a full trace: a full window is closed; the buffer is sent when it (or the open window) is
 * older than FLUSH_NS at a time stamp (`now`, 0 when none was taken), or when the thread holds too much.
 */
static void win_after(struct tstate *t, uint64_t now)
{
	if (t->win.evt >= WIN_EVENTS)
		kh_win_close(t);
	if (now && ((t->pos && now - t->chunk_start > FLUSH_NS) || (t->win.n && now - t->win.start > FLUSH_NS)))
		kh_flush_own(t);
	else
		win_drift(t);
}

uint32_t kh_record_alloc(unsigned kind, const void *ptr, size_t size, const uintptr_t *fp, bool counted)
{
	if (t_guard || !g_enabled) {
		if (UNLIKELY(g_off) && !t_guard)
			kh_pass_through();
		return 0;
	}
	uint32_t id = 0;
	t_guard++; /* errno: what can fail below keeps it (kh_send_all, kh_tstate, stab_grow) */
	struct tstate *t = kh_tstate();
	if (!t)
		goto out;
	/* Not counted by a hook's fast path (realloc, aligned new): counted now, and done with when the countdown
	 * is still running. */
	if (!counted && sample_fast(size) && t->drawn)
		goto out;
	if (!kh_arm(t, size))
		goto out;
	id = stack_id(t, fp, kind);
	if (!g_sample) {
		/* A full trace: into the window. */
		uint64_t now = stamp_due(t, size);
		struct win_site *st = win_site_of(t, id);
		st->allocs++;
		st->alloc_bytes += (int64_t)size;
		win_change(t, st, 1, (int64_t)size);
		t->win.hist[size_bits(size)]++;
		t->last_alloc = ptr;
		win_after(t, now);
		goto out;
	}
	if (!kh_sset_insert((uintptr_t)ptr, id, size)) {
		id = 0;
		goto out;
	}
	kh_reserve(t, 5);
	uint64_t now = stamp_due(t, size);
	if (now) {
		uint64_t c[3] = { KH_HEAD(KH_CHUNK, 0, 2, 0), t->tid, now };
		kh_put(t, c, 3);
	}
	uint64_t w[2] = { KH_HEAD(KH_ALLOC, kind, 1, id), size };
	kh_put(t, w, 2);
	t->last_alloc = ptr;
	/* A buffer is not kept longer than FLUSH_NS: a process killed without exit loses at most that much. */
	if (now && now - t->chunk_start > FLUSH_NS)
		kh_flush_own(t);
out:
	t_guard--;
	return id;
}

void kh_record_free(const void *ptr, uint32_t site, uint64_t size, bool by_realloc)
{
	if (t_guard || !g_enabled) {
		if (UNLIKELY(g_off) && !t_guard)
			kh_pass_through();
		return;
	}
	if (g_sample && !kh_sset_take((uintptr_t)ptr, &site, &size))
		return;
	if (site < g_first_stack)
		return; /* allocated by the parent before the fork: its stream accounts for it */
	t_guard++;
	struct tstate *t = kh_tstate();
	if (t && !g_sample) {
		struct win_site *st = win_site_of(t, site);
		win_change(t, st, -1, -(int64_t)size);
		if (ptr == t->last_alloc && !by_realloc)
			st->temporary++;
		t->last_alloc = NULL;
		win_after(t, 0);
	} else if (t) {
		kh_reserve(t, 2);
		unsigned temporary = ptr == t->last_alloc && !by_realloc ? KH_FREE_TEMPORARY : 0;
		uint64_t w[2] = { KH_HEAD(KH_FREE, temporary, 1, site), size };
		kh_put(t, w, 2);
		t->last_alloc = NULL;
	}
	t_guard--;
}
