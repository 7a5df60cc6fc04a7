/*
 * libkiln-heap.so, the heap profiler's preload library: its state and recording (the hooks are in
 * heap_hooks.c). Each thread appends records (heap_wire.h) to its own buffer and interns its stacks, taken by
 * a bounds-checked frame pointer walk; a full buffer is sent to kiln over a Unix socket under a lock, so there
 * is no lock per event. A full trace finds a freed block's site in the header before it (heap.h), so threads
 * share nothing per event. Nothing here allocates through the hooked allocator (buffers are mmap()ed; dlsym's
 * start-up allocations come from a static arena), and nothing of libkiln is used.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "heap.h"

struct kh_real kh_real;
_Alignas(16) char kh_boot_arena[KH_BOOT_BYTES];
static size_t boot_used;
static int resolving;

TLS struct tstate *t_state;
TLS struct fastpath t_fast;
TLS int t_guard; /* inside the library: allocations pass through unrecorded */
static TLS int t_dead;  /* the thread's state was torn down (thread exit) */

int g_enabled;
pid_t g_pid; /* this process: a vfork()ed child shares our memory but must not use our stream */
static int g_sock = -1;
uint64_t g_sample;
int g_headers;
static bool g_configured;
static unsigned g_depth = KH_DEFAULT_DEPTH;
static bool g_no_children;
static char g_sock_path[108];
static pthread_key_t g_key;
static pthread_mutex_t g_write_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t g_reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tstate *g_threads;
static _Atomic uint32_t g_next_stack;
static uint32_t g_first_stack = 1; /* sites below were the parent's (a forked child's inherited blocks) */
static _Atomic int64_t g_live;     /* the live bytes of the windows closed so far, all threads */
static bool g_closed;              /* the final flush was sent: nothing more (g_write_lock held) */
static _Atomic bool g_off;         /* recording stopped for good, in a process without block headers */
static atomic_flag g_off_filter = ATOMIC_FLAG_INIT; /* g_off's emptying of the free() filter was done */

/* Sampled mode: the live sampled blocks (address, site, size), so that only their frees are sent. */
#define SSET_BITS 16
#define SSET_SIZE ((size_t)1 << SSET_BITS)
#define SSET_TOMB ((uintptr_t)1)
struct sset_ent {
	uintptr_t p; /* 0: empty, SSET_TOMB: removed */
	uint64_t size;
	uint32_t site;
};
static struct sset_ent *g_sset; /* lock held */
static size_t g_sset_used; /* live + tombstones */
static uint16_t g_fcount[FILTER_WORDS * 64]; /* live sampled blocks per filter bit (lock held) */
static bool g_sampling;                      /* the filter holds only sampled and start-up blocks */
/* All ones (every free takes the slow path: a full trace, or before kh_init) until sampling starts. */
_Atomic uint64_t g_filter[FILTER_WORDS] = { [0 ... FILTER_WORDS - 1] = ~(uint64_t)0 };
_Alignas(64) _Atomic uint64_t g_coarse = ~(uint64_t)0;
static uint32_t g_ccount[64]; /* live sampled blocks per coarse bit (lock held) */
static atomic_flag g_slock = ATOMIC_FLAG_INIT;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void slock(void)
{
	while (atomic_flag_test_and_set_explicit(&g_slock, memory_order_acquire))
		;
}

static void sunlock(void)
{
	atomic_flag_clear_explicit(&g_slock, memory_order_release);
}

/*
 * The filter that free()'s fast path reads has a bit set while a live sampled block hashes to it: a count per
 * bit (lock held) sets it on the first block and clears it with the last, so a free pays the set's lock only
 * for a sampled block or one sharing a bit with a live sampled block.
 */
static void filter_add(uintptr_t p)
{
	unsigned b = filter_bit(p), c = coarse_bit(p);
	if (g_fcount[b]++ == 0)
		atomic_fetch_or_explicit(&g_filter[b / 64], (uint64_t)1 << (b % 64), memory_order_relaxed);
	if (g_ccount[c]++ == 0)
		atomic_fetch_or_explicit(&g_coarse, (uint64_t)1 << c, memory_order_relaxed);
}

static void filter_del(uintptr_t p)
{
	unsigned b = filter_bit(p), c = coarse_bit(p);
	if (--g_fcount[b] == 0)
		atomic_fetch_and_explicit(&g_filter[b / 64], ~((uint64_t)1 << (b % 64)), memory_order_relaxed);
	if (--g_ccount[c] == 0)
		atomic_fetch_and_explicit(&g_coarse, ~((uint64_t)1 << c), memory_order_relaxed);
}

/* The bootstrap arena holds blocks as a 16-byte header (the size asked) and the size rounded up to 16. */
static size_t boot_span(size_t n)
{
	return ((n + 15) & ~(size_t)15) + 16;
}

/* Sampling starts (kh_init): the filter is emptied but for the start-up blocks, which free() must not pass
 * to the real allocator. */
static void filter_start(void)
{
	for (size_t w = 0; w < FILTER_WORDS; w++)
		atomic_store_explicit(&g_filter[w], 0, memory_order_relaxed);
	atomic_store_explicit(&g_coarse, 0, memory_order_relaxed);
	for (size_t off = 0; off < boot_used;) {
		size_t n;
		memcpy(&n, kh_boot_arena + off, sizeof(n));
		filter_add((uintptr_t)(kh_boot_arena + off + 16));
		off += boot_span(n);
	}
	g_sampling = true;
}

void *kh_boot_alloc(size_t n)
{
	size_t span = boot_span(n);
	if (n > KH_BOOT_BYTES || span > KH_BOOT_BYTES - boot_used)
		return NULL;
	char *p = kh_boot_arena + boot_used + 16;
	memcpy(p - 16, &n, sizeof(n));
	boot_used += span;
	if (g_sampling) {
		/* free() must not hand it to the real allocator: its filter bit sends it to free_slow(). */
		slock();
		filter_add((uintptr_t)p);
		sunlock();
	}
	return p;
}


void *kh_sym(const char *name)
{
	return dlsym(RTLD_NEXT, name);
}

/*
 * What kiln asked for, from the environment, read once before the first allocation is served: whether blocks
 * carry headers cannot change afterwards. No headers when the library runs without kiln (nothing records) or
 * samples (few blocks are recorded: a header on every block would cost memory for nothing).
 */
static void configure(void)
{
	if (g_configured)
		return;
	g_configured = true;
	const char *path = getenv(KH_ENV_SOCK);
	if (!path || !*path || strlen(path) >= sizeof(g_sock_path))
		return;
	memcpy(g_sock_path, path, strlen(path) + 1);
	const char *s = getenv(KH_ENV_SAMPLE);
	if (s && *s)
		g_sample = strtoull(s, NULL, 10);
	s = getenv(KH_ENV_DEPTH);
	if (s && *s) {
		unsigned long d = strtoul(s, NULL, 10);
		g_depth = d < 1 ? 1 : d > KH_MAX_DEPTH ? KH_MAX_DEPTH : (unsigned)d;
	}
	s = getenv(KH_ENV_NO_CHILDREN);
	g_no_children = s && *s == '1';
	g_headers = !g_sample;
}

/*
 * Recording stops for good (no kiln to send to, kiln gone, a child kiln was told not to profile). Without block
 * headers the hooks then become plain forwarders (pass_through): the program runs on at the speed it has
 * without the library. A full trace's blocks keep their headers, which free() must still take off.
 */
static void stop_recording(void)
{
	g_enabled = 0;
	if (!g_headers)
		g_off = true;
}

/* Called by the recording entry points while recording is off for good (outside the library's own work). */
static void pass_through(void)
{
	t_fast.countdown = INT64_MAX; /* this thread's malloc() never leaves the fast path again */
	if (atomic_flag_test_and_set(&g_off_filter))
		return;
	/* free(): only the start-up blocks need the slow path; sampled blocks still live are the real allocator's */
	slock();
	filter_start();
	sunlock();
}

void kh_resolve(void)
{
	if (kh_real.malloc || resolving)
		return;
	resolving = 1;
	configure();
	kh_real.calloc = kh_sym("calloc");
	kh_real.free = kh_sym("free");
	kh_real.realloc = kh_sym("realloc");
	kh_real.posix_memalign = kh_sym("posix_memalign");
	kh_real.aligned_alloc = kh_sym("aligned_alloc");
	kh_real.memalign = kh_sym("memalign");
	kh_real.valloc = kh_sym("valloc");
	kh_real.pvalloc = kh_sym("pvalloc");
	kh_real.malloc_usable_size = kh_sym("malloc_usable_size");
	kh_real.execve = kh_sym("execve");
	kh_real.execvpe = kh_sym("execvpe");
	kh_real.exit_ = kh_sym("_exit");
	kh_real.dlclose = kh_sym("dlclose");
	kh_real.malloc = kh_sym("malloc");
	resolving = 0;
}

/* Output. */

/* Writes to kiln. Like everything the recording paths call that can fail, it leaves errno as it was. */
static void send_all(const void *data, size_t len)
{
	int saved = errno;
	const char *p = data;
	while (len && g_sock >= 0) {
		ssize_t n = send(g_sock, p, len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			/* kiln is gone: stop recording, the program carries on. */
			stop_recording();
			break;
		}
		p += n;
		len -= (size_t)n;
	}
	errno = saved;
}

static void put(struct tstate *t, const uint64_t *w, size_t nwords)
{
	memcpy(t->buf + t->pos, w, nwords * 8);
	__atomic_store_n(&t->pos, t->pos + nwords * 8, __ATOMIC_RELEASE);
}

/* The fast path's counts since the last fold, into the thread's state (the owner thread's only). */
static void fast_fold(struct tstate *t)
{
	t->calls += t_fast.calls;
	t_fast.calls = 0;
	t->bytes += (uint64_t)(t->armed - t_fast.countdown);
	t->armed = t_fast.countdown;
}

/* Sampling's exact counts (a full trace sends every allocation: kiln counts them itself). */
static void put_stats(struct tstate *t)
{
	if (!g_sample)
		return;
	fast_fold(t);
	if (!t->calls)
		return;
	if (!t->pos) {
		uint64_t c[3] = { KH_HEAD(KH_CHUNK, 0, 2, 0), t->tid, now_ns() };
		put(t, c, 3);
	}
	uint64_t w[3] = { KH_HEAD(KH_STATS, 0, 2, 0), t->calls, t->bytes };
	put(t, w, 3);
	t->calls = t->bytes = 0;
}

/*
 * kiln applies each thread's windows in the order the buffers arrive, so what a thread holds unsent is missing
 * from kiln's total meanwhile: a thread that frees what another allocates would let the total (and the peak)
 * run far above the heap. So a thread sends as soon as what it holds moves the total by more than 1/64 of the
 * heap (at least DRIFT_MIN): programs whose threads each keep their heap steady send no more than before, a
 * growing heap sends a few dozen times per doubling, and the peak is within that much per thread.
 */
#define DRIFT_MIN (256 * 1024)

/* Sends the owner's buffer and empties it. */
static void send_buf(struct tstate *t)
{
	pthread_mutex_lock(&t->flock);
	pthread_mutex_lock(&g_write_lock);
	if (t->pos > t->start && !g_closed)
		send_all(t->buf + t->start, t->pos - t->start);
	pthread_mutex_unlock(&g_write_lock);
	t->start = 0;
	__atomic_store_n(&t->pos, 0, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&t->flock);
	int64_t live = atomic_load_explicit(&g_live, memory_order_relaxed);
	live = live < 0 ? -live : live;
	t->pend = 0;
	t->drift_limit = live / 64 > DRIFT_MIN ? live / 64 : DRIFT_MIN;
}

/* Windows (heap.h). */

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
static size_t win_encode(const struct window *w, uint32_t n, uint64_t *o)
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

static void win_reset(struct window *w)
{
	memset(w->slot, 0, sizeof(w->slot));
	memset(w->hist, 0, sizeof(w->hist));
	w->n = 0;
	w->net_o = w->net_b = w->max_o = w->max_b = 0;
	w->max_time = w->start = 0;
	w->evt = w->max_evt = 0;
}

/* Ends the owner's window: its records go into the buffer (sent first when there is no room). */
static void win_close(struct tstate *t)
{
	struct window *w = &t->win;
	if (!w->n)
		return;
	size_t words = win_words(w, w->n);
	if (t->pos + (words + 3) * 8 > BUF_BYTES)
		send_buf(t);
	if (!t->pos) {
		t->chunk_start = now_ns();
		uint64_t c[3] = { KH_HEAD(KH_CHUNK, 0, 2, 0), t->tid, t->chunk_start };
		put(t, c, 3);
	}
	size_t k = win_encode(w, w->n, (uint64_t *)(void *)(t->buf + t->pos));
	__atomic_store_n(&t->pos, t->pos + k * 8, __ATOMIC_RELEASE);
	t->pend += w->net_b;
	atomic_fetch_add_explicit(&g_live, w->net_b, memory_order_relaxed);
	win_reset(w);
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
		win_close(t);
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

/* Sends the owner's window and buffer. */
static void flush_own(struct tstate *t)
{
	put_stats(t);
	win_close(t);
	send_buf(t);
}

/* After each event of a full trace: sends when the thread holds too much of the total (DRIFT_MIN). */
static inline void win_drift(struct tstate *t)
{
	int64_t d = t->pend + t->win.net_b;
	if (UNLIKELY(d > t->drift_limit || d < -t->drift_limit))
		flush_own(t);
}

/*
 * Sends what another thread has committed so far (at exit); it is not reset, only marked sent. `final`: the
 * process image is ending, so its open window is sent too, as it is now (the thread may be changing it: at
 * most its event in flight is lost), and nothing is sent after (g_closed).
 */
static void flush_other(struct tstate *t, bool final)
{
	static uint64_t snap[6 + 8 * WIN_SITES + 1 + 2 * 65];
	pthread_mutex_lock(&t->flock);
	size_t pos = __atomic_load_n(&t->pos, __ATOMIC_ACQUIRE);
	uint64_t chunk[3] = { KH_HEAD(KH_CHUNK, 0, 2, 0), t->tid, now_ns() };
	pthread_mutex_lock(&g_write_lock);
	if (pos > t->start && !g_closed) {
		if (t->start) /* the buffer's own CHUNK record was sent already */
			send_all(chunk, sizeof(chunk));
		send_all(t->buf + t->start, pos - t->start);
		t->start = pos;
	}
	uint32_t n = __atomic_load_n(&t->win.n, __ATOMIC_RELAXED);
	if (final && n && !g_closed) {
		n = n < WIN_SITES ? n : WIN_SITES;
		size_t k = win_encode(&t->win, n, snap);
		send_all(chunk, sizeof(chunk));
		send_all(snap, k * 8);
	}
	pthread_mutex_unlock(&g_write_lock);
	pthread_mutex_unlock(&t->flock);
}

/* Makes room for `words` more words, starting a new chunk when the buffer is empty. */
static void reserve(struct tstate *t, size_t words)
{
	if (t->pos + (words + 3 + 3) * 8 > BUF_BYTES)
		flush_own(t);
	if (!t->pos) {
		t->chunk_start = now_ns();
		uint64_t w[3] = { KH_HEAD(KH_CHUNK, 0, 2, 0), t->tid, t->chunk_start };
		put(t, w, 3);
	}
}

/* /proc/self/maps into the stream (under the write lock), so kiln can name addresses after we are gone. */
static void send_maps(void)
{
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	size_t cap = 64 * 1024;
	uint64_t *rec = mmap(NULL, cap + 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (rec == MAP_FAILED) {
		close(fd);
		return;
	}
	pthread_mutex_lock(&g_write_lock);
	while (!g_closed) {
		size_t len = 0;
		ssize_t n;
		while (len < cap && ((n = read(fd, (char *)(rec + 2) + len, cap - len)) > 0 || (n < 0 && errno == EINTR)))
			if (n > 0)
				len += (size_t)n;
		size_t words = (len + 7) / 8;
		memset((char *)(rec + 2) + len, 0, words * 8 - len);
		bool last = len < cap;
		rec[0] = KH_HEAD(KH_MAPS, last, 1 + words, 0);
		rec[1] = len;
		send_all(rec, (2 + words) * 8);
		if (last)
			break;
	}
	pthread_mutex_unlock(&g_write_lock);
	munmap(rec, cap + 16);
	close(fd);
}

/* `final`: the process image is ending (exit, exec): the other threads' open windows are sent too. */
static void flush_all(bool final)
{
	pthread_mutex_lock(&g_reg_lock);
	for (struct tstate *t = g_threads; t; t = t->next) {
		if (t == t_state)
			flush_own(t);
		else
			flush_other(t, final);
	}
	pthread_mutex_unlock(&g_reg_lock);
}

/* After the final flush: what threads still running would send now would count twice. */
static void close_stream(void)
{
	pthread_mutex_lock(&g_write_lock);
	g_closed = true;
	pthread_mutex_unlock(&g_write_lock);
}

/* Per-thread state. */

static uint64_t rng_next(struct tstate *t)
{
	uint64_t x = t->rng;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return t->rng = x;
}

/* ln(x) for x in (0, 1], without libm: exponent plus an atanh series on the mantissa. */
static double ln(double x)
{
	union {
		double d;
		uint64_t u;
	} v = { .d = x };
	int e = (int)((v.u >> 52) & 0x7ff) - 1023;
	v.u = (v.u & ~((uint64_t)0x7ff << 52)) | ((uint64_t)1023 << 52); /* mantissa in [1, 2) */
	double m = v.d;
	if (m > 1.41421356) {
		m /= 2;
		e++;
	}
	double z = (m - 1) / (m + 1), z2 = z * z;
	double s = z * (1 + z2 * (1.0 / 3 + z2 * (1.0 / 5 + z2 * (1.0 / 7 + z2 * (1.0 / 9 + z2 / 11)))));
	return 2 * s + e * 0.69314718055994531;
}

/* Bytes until the next sample: exponential with mean g_sample, so each byte is sampled with p = 1/g_sample. */
static int64_t next_interval(struct tstate *t)
{
	double u = (double)((rng_next(t) >> 11) + 1) / 9007199254740993.0; /* (0, 1] */
	double v = -ln(u) * (double)g_sample;
	return v < 1 ? 1 : v > 1e15 ? (int64_t)1e15 : (int64_t)v;
}

/*
 * The slow path's first step, for an allocation of `size` bytes the fast path has counted: folds the counts
 * in and re-arms the countdown. True when the allocation is recorded: always in a full trace (the countdown
 * stays at zero, so every allocation comes here), when its bytes ran the countdown out when sampling. A
 * thread's first allocation comes here before any interval was drawn: it is sampled as if one had been.
 */
static bool arm(struct tstate *t, size_t size)
{
	if (!g_sample) {
		t_fast.countdown = 0;
		return true;
	}
	fast_fold(t);
	if (!t->drawn) {
		t->drawn = true;
		int64_t left = next_interval(t) - (int64_t)size;
		if (left > 0) {
			t->armed = t_fast.countdown = left;
			return false;
		}
	}
	t->armed = t_fast.countdown = next_interval(t);
	return true;
}

static void *map_zero(size_t n)
{
	void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/*
 * The mapping of /proc/self/maps that holds `addr` (the thread's stack, from its stack pointer), read with plain
 * system calls: no allocation and no lock. pthread_getattr_np() cannot be used: it is what called the hook
 * when a program (the JVM) asks for a new thread's stack, and it holds the thread's lock while it reallocs.
 */
static bool mapping_of(uintptr_t addr, uintptr_t *lo, uintptr_t *hi)
{
	char buf[2048];
	size_t len = 0;
	bool found = false, eof = false;
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	while (!found && !eof) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			eof = true;
		else
			len += (size_t)n;
		char *p = buf, *end = buf + len, *nl;
		while (!found && (nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
			uintptr_t start = 0, stop = 0;
			int d;
			while ((d = hexval((unsigned char)*p)) >= 0)
				start = start << 4 | (uintptr_t)d, p++;
			if (*p == '-')
				for (p++; (d = hexval((unsigned char)*p)) >= 0; p++)
					stop = stop << 4 | (uintptr_t)d;
			if (addr >= start && addr < stop) {
				*lo = start;
				*hi = stop;
				found = true;
			}
			p = nl + 1;
		}
		len = (size_t)(end - p);
		memmove(buf, p, len);
		if (len == sizeof(buf)) /* a line longer than the buffer: not a maps line we can read */
			break;
	}
	close(fd);
	return found;
}

static struct tstate *tstate_get(void)
{
	struct tstate *t = t_state;
	if (LIKELY(t != NULL))
		return t;
	if (t_dead || !g_enabled)
		return NULL;
	int saved = errno;
	t = map_zero(sizeof(*t) + BUF_BYTES);
	if (!t) {
		errno = saved;
		return NULL;
	}
	t->buf = (unsigned char *)(t + 1);
	t->stab = map_zero(STAB_INIT * sizeof(*t->stab));
	if (!t->stab) {
		munmap(t, sizeof(*t) + BUF_BYTES);
		errno = saved;
		return NULL;
	}
	t->stab_mask = STAB_INIT - 1;
	pthread_mutex_init(&t->flock, NULL);
	t->tid = (uint32_t)syscall(SYS_gettid);
	t->now = now_ns();
	t->drift_limit = DRIFT_MIN;
	t->rng = now_ns() ^ ((uint64_t)t->tid << 32) ^ (uintptr_t)t;
	if (!t->rng)
		t->rng = 88172645463325252ULL;

	/* The thread's stack, for bounds-checked frame pointer walks. */
	if (!mapping_of((uintptr_t)__builtin_frame_address(0), &t->stack_lo, &t->stack_hi))
		t->stack_lo = t->stack_hi = 0; /* walks stop at the hook's caller */
	pthread_mutex_lock(&g_reg_lock);
	t->next = g_threads;
	g_threads = t;
	pthread_mutex_unlock(&g_reg_lock);
	t_state = t;
	pthread_setspecific(g_key, t);
	errno = saved;
	return t;
}

static void tstate_unlink(struct tstate *t)
{
	for (struct tstate **pp = &g_threads; *pp; pp = &(*pp)->next)
		if (*pp == t) {
			*pp = t->next;
			break;
		}
}

static void tstate_unmap(struct tstate *t)
{
	munmap(t->stab, (t->stab_mask + 1) * sizeof(*t->stab));
	munmap(t, sizeof(*t) + BUF_BYTES);
}

/* pthread key destructor: the thread is exiting. */
static void thread_exit(void *arg)
{
	struct tstate *t = arg;
	int saved = errno;
	t_guard++;
	flush_own(t);
	pthread_mutex_lock(&g_reg_lock);
	tstate_unlink(t);
	pthread_mutex_unlock(&g_reg_lock);
	t_state = NULL;
	t_dead = 1;
	tstate_unmap(t);
	t_guard--;
	errno = saved;
}

/* Stacks. */

static void stab_grow(struct tstate *t)
{
	int saved = errno;
	size_t n = (t->stab_mask + 1) * 2;
	struct stab_slot *s = map_zero(n * sizeof(*s));
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

	reserve(t, 1 + n + 4);
	uint64_t head = KH_HEAD(KH_STACK, kind, n, id);
	memcpy(t->buf + t->pos, &head, 8);
	memcpy(t->buf + t->pos + 8, addrs, n * 8);
	__atomic_store_n(&t->pos, t->pos + (1 + n) * 8, __ATOMIC_RELEASE);
	return id;
}

/* The sampled-address set. */

static inline size_t sset_hash(uintptr_t p)
{
	uint64_t x = p * 0x9e3779b97f4a7c15ULL;
	return (size_t)(x >> (64 - SSET_BITS));
}

static void sset_put(uintptr_t p, uint32_t site, uint64_t size)
{
	size_t i = sset_hash(p);
	while (g_sset[i].p > SSET_TOMB)
		i = (i + 1) & (SSET_SIZE - 1);
	if (!g_sset[i].p)
		g_sset_used++;
	g_sset[i] = (struct sset_ent){ p, size, site };
}

/* Rebuilds the table without tombstones (lock held); the live entries, and so the filter, stay. */
static void sset_rebuild(void)
{
	static struct sset_ent tmp[SSET_SIZE / 2];
	size_t n = 0;
	for (size_t i = 0; i < SSET_SIZE; i++) {
		if (g_sset[i].p > SSET_TOMB && n < SSET_SIZE / 2)
			tmp[n++] = g_sset[i];
		g_sset[i].p = 0;
	}
	g_sset_used = 0;
	for (size_t k = 0; k < n; k++)
		sset_put(tmp[k].p, tmp[k].site, tmp[k].size);
}

/* Returns false when the set is full (the sample is then not taken). */
static bool sset_insert(uintptr_t p, uint32_t site, uint64_t size)
{
	slock();
	/* Half full of live entries and tombstones: lookups (which pass tombstones) would grow long. */
	if (g_sset_used * 2 >= SSET_SIZE)
		sset_rebuild();
	if (g_sset_used * 2 >= SSET_SIZE) {
		sunlock();
		return false;
	}
	sset_put(p, site, size);
	filter_add(p);
	sunlock();
	return true;
}

/* Finds a sampled block and removes it: false when `p` was not sampled. */
static bool sset_remove(uintptr_t p, uint32_t *site, uint64_t *size)
{
	if (LIKELY(!free_wanted((const void *)p)))
		return false;
	bool found = false;
	slock();
	for (size_t i = sset_hash(p); g_sset[i].p; i = (i + 1) & (SSET_SIZE - 1)) {
		if (g_sset[i].p == p) {
			*site = g_sset[i].site;
			*size = g_sset[i].size;
			g_sset[i].p = SSET_TOMB;
			filter_del(p);
			found = true;
			break;
		}
	}
	sunlock();
	return found;
}

/* Recording. */

/* A time stamp now and then (and before big blocks) dates the peak closely: the time, or 0 when none is due. */
static inline uint64_t stamp_due(struct tstate *t, size_t size)
{
	if (++t->tick < 64 && size < 65536)
		return 0;
	t->tick = 0;
	return t->now = now_ns();
}

/*
 * After an event of a full trace: a full window is closed; the buffer is sent when it (or the open window) is
 * older than FLUSH_NS at a time stamp (`now`, 0 when none was taken), or when the thread holds too much.
 */
static void win_after(struct tstate *t, uint64_t now)
{
	if (t->win.evt >= WIN_EVENTS)
		win_close(t);
	if (now && ((t->pos && now - t->chunk_start > FLUSH_NS) || (t->win.n && now - t->win.start > FLUSH_NS)))
		flush_own(t);
	else
		win_drift(t);
}

uint32_t kh_record_alloc(unsigned kind, const void *ptr, size_t size, const uintptr_t *fp, bool counted)
{
	if (t_guard || !g_enabled) {
		if (UNLIKELY(g_off) && !t_guard)
			pass_through();
		return 0;
	}
	uint32_t id = 0;
	t_guard++; /* errno: what can fail below keeps it (send_all, tstate_get, stab_grow) */
	struct tstate *t = tstate_get();
	if (!t)
		goto out;
	/* Not counted by a hook's fast path (realloc, aligned new): counted now, and done with when the countdown
	 * is still running. */
	if (!counted && sample_fast(size) && t->drawn)
		goto out;
	if (!arm(t, size))
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
	if (!sset_insert((uintptr_t)ptr, id, size)) {
		id = 0;
		goto out;
	}
	reserve(t, 5);
	uint64_t now = stamp_due(t, size);
	if (now) {
		uint64_t c[3] = { KH_HEAD(KH_CHUNK, 0, 2, 0), t->tid, now };
		put(t, c, 3);
	}
	uint64_t w[2] = { KH_HEAD(KH_ALLOC, kind, 1, id), size };
	put(t, w, 2);
	t->last_alloc = ptr;
	/* A buffer is not kept longer than FLUSH_NS: a process killed without exit loses at most that much. */
	if (now && now - t->chunk_start > FLUSH_NS)
		flush_own(t);
out:
	t_guard--;
	return id;
}

void kh_record_free(const void *ptr, uint32_t site, uint64_t size, bool by_realloc)
{
	if (t_guard || !g_enabled) {
		if (UNLIKELY(g_off) && !t_guard)
			pass_through();
		return;
	}
	if (g_sample && !sset_remove((uintptr_t)ptr, &site, &size))
		return;
	if (site < g_first_stack)
		return; /* allocated by the parent before the fork: its stream accounts for it */
	t_guard++;
	struct tstate *t = tstate_get();
	if (t && !g_sample) {
		struct win_site *st = win_site_of(t, site);
		win_change(t, st, -1, -(int64_t)size);
		if (ptr == t->last_alloc && !by_realloc)
			st->temporary++;
		t->last_alloc = NULL;
		win_after(t, 0);
	} else if (t) {
		reserve(t, 2);
		unsigned temporary = ptr == t->last_alloc && !by_realloc ? KH_FREE_TEMPORARY : 0;
		uint64_t w[2] = { KH_HEAD(KH_FREE, temporary, 1, site), size };
		put(t, w, 2);
		t->last_alloc = NULL;
	}
	t_guard--;
}

/* Process life: exec, _exit, dlclose, fork. */

void kh_before_exec(void)
{
	if (!g_enabled || getpid() != g_pid)
		return;
	int saved = errno;
	t_guard++;
	flush_all(true);
	uint64_t w = KH_HEAD(KH_EXEC, 0, 0, 0);
	pthread_mutex_lock(&g_write_lock);
	if (!g_closed)
		send_all(&w, 8);
	pthread_mutex_unlock(&g_write_lock);
	/* Should the exec fail, the stream has said the image is gone: the rest of it goes unrecorded. */
	close_stream();
	t_guard--;
	errno = saved;
}

void kh_flush_process(bool final)
{
	if (!g_enabled || getpid() != g_pid)
		return;
	int saved = errno;
	t_guard++;
	flush_all(final);
	send_maps();
	if (final)
		close_stream();
	t_guard--;
	errno = saved;
}

static void send_header(uint32_t flags)
{
	struct kh_header h;
	memset(&h, 0, sizeof(h));
	memcpy(h.magic, KH_MAGIC, 8);
	h.version = KH_VERSION;
	h.pid = (uint32_t)getpid();
	h.ppid = (uint32_t)getppid();
	h.flags = flags;
	h.sample_bytes = g_sample;
	h.start_ns = now_ns();
	h.first_stack = g_first_stack = atomic_load_explicit(&g_next_stack, memory_order_relaxed) + 1;
	send_all(&h, sizeof(h));
}

static int connect_sock(void)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_un a;
	memset(&a, 0, sizeof(a));
	a.sun_family = AF_UNIX;
	memcpy(a.sun_path, g_sock_path, sizeof(a.sun_path));
	while (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		if (errno == EINTR)
			continue;
		close(fd);
		return -1;
	}
	return fd;
}

static void fork_prepare(void)
{
	t_guard++;
	pthread_mutex_lock(&g_reg_lock);
	pthread_mutex_lock(&g_write_lock);
	if (g_sample)
		slock();
}

static void fork_parent(void)
{
	if (g_sample)
		sunlock();
	pthread_mutex_unlock(&g_write_lock);
	pthread_mutex_unlock(&g_reg_lock);
	t_guard--;
}

static void fork_child(void)
{
	if (g_sample)
		sunlock();
	pthread_mutex_init(&g_write_lock, NULL);
	pthread_mutex_init(&g_reg_lock, NULL);
	/* Only this thread lives on; the others' buffers belong to the parent, which sends them. */
	struct tstate *self = t_state, *next;
	for (struct tstate *t = g_threads; t; t = next) {
		next = t->next;
		if (t != self)
			tstate_unmap(t);
	}
	g_threads = self;
	if (self) {
		self->next = NULL;
		pthread_mutex_init(&self->flock, NULL);
		self->pos = self->start = 0;
		self->calls = self->bytes = 0;
		t_fast.calls = 0;
		self->armed = t_fast.countdown;
		self->tid = (uint32_t)syscall(SYS_gettid);
		/* A new stream: its stacks are sent again; the window's events are the parent's. */
		memset(self->stab, 0, (self->stab_mask + 1) * sizeof(*self->stab));
		self->stab_nr = 0;
		win_reset(&self->win);
		self->last_alloc = NULL;
		self->pend = 0;
	}
	if (g_sock >= 0)
		close(g_sock);
	g_sock = -1;
	g_pid = getpid();
	g_closed = false;
	if (g_enabled && !g_no_children) {
		g_sock = connect_sock();
		if (g_sock >= 0) {
			send_header(KH_FLAG_FORKED);
			send_maps();
		}
	}
	if (g_sock < 0)
		stop_recording();
	t_guard--;
}

/* Removes this library from LD_PRELOAD in place (no allocation), so that exec'd programs run without it. */
static void strip_preload(void)
{
	extern char **environ;
	Dl_info info;
	if (!dladdr((void *)strip_preload, &info) || !info.dli_fname)
		return;
	const char *self = info.dli_fname;
	const char *base = strrchr(self, '/');
	base = base ? base + 1 : self;
	for (char **e = environ; e && *e; e++) {
		if (strncmp(*e, "LD_PRELOAD=", 11))
			continue;
		char *v = *e + 11, *p = v;
		while (*p) {
			char *end = p + strcspn(p, ": ");
			size_t len = (size_t)(end - p);
			const char *slash = memrchr(p, '/', len);
			const char *b = slash ? slash + 1 : p;
			if ((size_t)(end - b) == strlen(base) && !memcmp(b, base, strlen(base))) {
				size_t skip = len + (*end ? 1 : 0);
				memmove(p, p + skip, strlen(p + skip) + 1);
				continue;
			}
			p = *end ? end + 1 : end;
		}
	}
}

/* Connects to kiln and starts recording: false when it cannot. */
static bool start_recording(void)
{
	if (!g_sock_path[0])
		return false;
	if (g_no_children)
		strip_preload();
	if (g_sample) {
		g_sset = map_zero(SSET_SIZE * sizeof(*g_sset));
		if (!g_sset)
			return false;
	}
	if (pthread_key_create(&g_key, thread_exit) != 0)
		return false;
	g_sock = connect_sock();
	if (g_sock < 0)
		return false;
	pthread_atfork(fork_prepare, fork_parent, fork_child);
	g_pid = getpid();
	send_header(0);
	send_maps();
	if (g_sample) {
		slock();
		filter_start();
		sunlock();
	}
	g_enabled = 1;
	return true;
}

__attribute__((constructor)) static void kh_init(void)
{
	kh_resolve(); /* the first allocation may have done it, and read the settings (configure) */
	if (!start_recording())
		stop_recording();
}

__attribute__((destructor)) static void kh_fini(void)
{
	if (!g_enabled)
		return;
	t_guard++;
	flush_all(true);
	send_maps();
	close_stream();
	g_enabled = 0;
	t_guard--;
}
