/*
 * Internals shared by the files of libkiln-heap.so (preload/): the per-thread state, the process-wide
 * settings, and the fast paths the hooks inline. Nothing here is exported (the library is built with
 * -fvisibility=hidden; only the hooks are marked EXPORT).
 */
#ifndef KILN_PRELOAD_HEAP_H
#define KILN_PRELOAD_HEAP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/heap_wire.h"

/* Nothing declared here is exported: hidden declarations let the hooks reach the data without the GOT. */
#pragma GCC visibility push(hidden)

#define EXPORT __attribute__((visibility("default")))
#define TLS __thread __attribute__((tls_model("initial-exec")))
#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)

#define BUF_BYTES (256 * 1024)
#define FLUSH_NS 100000000 /* a buffer older than this is sent at the next time stamp (100 ms) */
#define STAB_INIT 1024   /* per-thread stack table slots (a power of two) */
#define KH_BOOT_BYTES (64 * 1024)
#define FILTER_WORDS 512 /* the sampled-address filter: 32768 bits */

/* The allocator below us, found with dlsym(RTLD_NEXT). */
struct kh_real {
	void *(*malloc)(size_t);
	void (*free)(void *);
	void *(*calloc)(size_t, size_t);
	void *(*realloc)(void *, size_t);
	int (*posix_memalign)(void **, size_t, size_t);
	void *(*aligned_alloc)(size_t, size_t);
	void *(*memalign)(size_t, size_t);
	void *(*valloc)(size_t);
	void *(*pvalloc)(size_t);
	size_t (*malloc_usable_size)(void *);
	int (*execve)(const char *, char *const[], char *const[]);
	int (*execvpe)(const char *, char *const[], char *const[]);
	void (*exit_)(int) __attribute__((noreturn));
	int (*dlclose)(void *);
};
extern struct kh_real kh_real;

/* dlsym() may allocate before the real allocator is known: it is served from here (never freed). */
extern char kh_boot_arena[KH_BOOT_BYTES];

struct stab_slot {
	uint64_t hash; /* 0 = empty */
	uint32_t id;
	uint32_t pad;
};

/*
 * A full trace's window: the thread's events summed per site (heap_wire.h's WINDOW and SITE records). A site's
 * value at the window's highest point is kept lazily: `peak_*` is valid when the site changed after that point
 * (last_mod > max_evt), else it equals `live_*`.
 */
#define WIN_SITES 512   /* sites per window: a window closes when it has this many */
#define WIN_SLOTS 1024  /* its index by site id (a power of two) */
#define WIN_EVENTS 16384 /* events per window */

struct win_site {
	uint32_t id;
	int64_t allocs, alloc_bytes;
	int64_t live_o, live_b, peak_o, peak_b;
	int64_t temporary;
	uint64_t last_mod; /* event number of the latest change */
};

struct window {
	int64_t net_o, net_b, max_o, max_b;
	uint64_t max_time, start;
	uint64_t evt, max_evt;
	uint32_t n;                   /* sites used */
	uint16_t slot[WIN_SLOTS];     /* index + 1 into site[], by site id */
	struct win_site site[WIN_SITES];
	uint64_t hist[65];            /* allocations by significant bits of their size */
};

struct tstate {
	struct tstate *next;
	pthread_mutex_t flock; /* held while the buffer is written out */
	uint32_t tid;
	size_t pos;            /* bytes used; written by the owner thread only */
	size_t start;          /* bytes already sent by another thread (exit flush) */
	uintptr_t stack_lo, stack_hi;
	struct stab_slot *stab;
	size_t stab_mask, stab_nr;
	int64_t armed;         /* t_fast.countdown when it was last armed or folded in */
	bool drawn;            /* sampling: the first interval was drawn */
	const void *last_alloc; /* the latest recorded allocation, until a free (temporary allocations) */
	uint64_t rng;
	uint64_t calls, bytes; /* since the last STATS record (the fast path's counts once folded in) */
	unsigned tick;         /* records since the last time stamp */
	uint64_t chunk_start;  /* CLOCK_MONOTONIC when the buffer's first record was written */
	uint64_t now;          /* the latest time stamp taken */
	int64_t pend;          /* net bytes of the closed windows not sent yet */
	int64_t drift_limit;   /* pend plus the open window's net beyond this: sent now (see win_drift) */
	unsigned char *buf;
	struct window win;     /* a full trace's open window (read by another thread only at the final flush) */
};

/*
 * The allocation hooks' fast path counts here, without reaching the thread's state: calls, and bytes as a
 * countdown. It falls to the slow path (kh_record_alloc) when the countdown is not positive: a sampled
 * allocation, the thread's first, or every allocation of a full trace (which keeps it at zero). The slow
 * path folds the counts into the thread's state (bytes = armed - countdown) and arms the next interval.
 */
struct fastpath {
	int64_t countdown;
	uint64_t calls;
};

/*
 * A full trace keeps each block's site and size in a header just before it, so that a free needs no table of
 * addresses: the block the program sees starts `off` bytes into the one the real allocator returned (16, or
 * the alignment asked for), and the header takes the last 16 of those bytes. Site 0: not recorded (allocated
 * before recording started, while it was off, or by the library itself).
 */
struct kh_block {
	uint32_t site;
	uint32_t off;
	uint64_t size;
};
#define KH_HDR ((size_t)sizeof(struct kh_block))

static inline struct kh_block *kh_hdr(const void *p)
{
	return (struct kh_block *)((char *)p - KH_HDR);
}

extern TLS struct tstate *t_state;
extern TLS struct fastpath t_fast;
extern TLS int t_guard; /* inside the library: allocations pass through unrecorded */
extern int g_enabled;
extern pid_t g_pid;
extern uint64_t g_sample;
extern int g_headers; /* blocks carry headers (a full trace): decided before the first allocation, for good */
extern _Atomic uint64_t g_filter[FILTER_WORDS];
extern _Atomic uint64_t g_coarse;

/* heap_core.c */
void kh_resolve(void);
void *kh_boot_alloc(size_t n);
void *kh_sym(const char *name);
/*
 * Records an allocation and returns its site id, 0 when it is not recorded (unsampled, or recording is off).
 * `counted`: sample_fast() counted the allocation already. `fp`: the hook's frame.
 */
uint32_t kh_record_alloc(unsigned kind, const void *ptr, size_t size, const uintptr_t *fp, bool counted);
/*
 * Records the free of `ptr`. A full trace passes its header's site and size (the site is not 0); sampling
 * passes 0 and the library finds whether the block was sampled. `by_realloc`: realloc's free of the old
 * block, which is never a temporary allocation.
 */
void kh_record_free(const void *ptr, uint32_t site, uint64_t size, bool by_realloc);
/* exec is about to replace the image: everything is sent, then an EXEC record. */
void kh_before_exec(void);
/* _exit (final: the image ends) and dlclose: every buffer and the maps are sent. */
void kh_flush_process(bool final);

static inline bool is_boot(const void *p)
{
	return (uintptr_t)p - (uintptr_t)kh_boot_arena < KH_BOOT_BYTES;
}

/* The filter's bit for a block: its address in 16-byte units, modulo the filter's 32,768 bits. */
static inline unsigned filter_bit(uintptr_t p)
{
	return (unsigned)(p >> 4) & (FILTER_WORDS * 64 - 1);
}

/* The coarse filter's bit: the block's 4 KiB page, modulo 64 pages. */
static inline unsigned coarse_bit(uintptr_t p)
{
	return (unsigned)(p >> 12) & 63;
}

#define FRAME ((const uintptr_t *)__builtin_frame_address(0))

/*
 * Sampling's fast path, inlined into the hooks: counts the allocation and returns true when it is not
 * sampled (nothing more to do); false sends it to kh_record_alloc(..., true).
 */
static inline __attribute__((always_inline)) bool sample_fast(size_t size)
{
	t_fast.calls++;
	t_fast.countdown -= (int64_t)size;
	return LIKELY(t_fast.countdown > 0);
}

/*
 * False when free(ptr) can go straight to the real allocator: sampling, and no live sampled block (nor a
 * start-up block) shares ptr's filter bit. Every bit is set in a full trace and before sampling starts. The
 * coarse filter (one word: it stays in the cache however much memory the program touches) answers most frees
 * of a program with few live sampled blocks; the fine one (4 KiB) the rest.
 */
static inline __attribute__((always_inline)) bool free_wanted(const void *ptr)
{
	if (LIKELY(!(atomic_load_explicit(&g_coarse, memory_order_relaxed) >> coarse_bit((uintptr_t)ptr) & 1)))
		return false;
	unsigned b = filter_bit((uintptr_t)ptr);
	return UNLIKELY(atomic_load_explicit(&g_filter[b / 64], memory_order_relaxed) & ((uint64_t)1 << (b % 64)));
}

/* The hooks' common tail: nothing to do for an unsampled allocation, else record it with the stack from `fp`. */
#define RECORD_AT(kind, p, n, fp)                                \
	do {                                                     \
		if (UNLIKELY(!sample_fast(n)))                   \
			kh_record_alloc((kind), (p), (n), (fp), true); \
	} while (0)
/* The same from the calling hook's own frame. */
#define RECORD(kind, p, n) RECORD_AT(kind, p, n, FRAME)

#pragma GCC visibility pop

#endif
