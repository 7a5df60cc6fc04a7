/*
 * The preload library behind the hooks (heap.h), shared by its files and by nothing else:
 *
 *   heap_core.c    state, configuration, start, process life (exec, _exit, dlclose, fork)
 *   heap_output.c  the stream to kiln: buffers, the exit flush, /proc/self/maps
 *   heap_record.c  windows, stacks and the recording of an event: the hot path, in one file so that it inlines
 *   heap_thread.c  per-thread state and sampling's intervals
 *   heap_sset.c    the sampled-address set and the filters free()'s fast path reads
 *
 * Locks: g_reg_lock (the list of threads) before a thread's flock before g_write_lock (the socket); g_slock
 * (the sampled-address set) is a spin lock taken alone. Hidden like heap.h: nothing here is exported.
 */
#ifndef KILN_PRELOAD_HEAP_LIB_H
#define KILN_PRELOAD_HEAP_LIB_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "heap.h"

#pragma GCC visibility push(hidden)

/*
 * kiln applies each thread's windows in the order the buffers arrive, so what a thread holds unsent is missing
 * from kiln's total meanwhile: a thread that frees what another allocates would let the total (and the peak)
 * run far above the heap. So a thread sends as soon as what it holds moves the total by more than 1/64 of the
 * heap (at least DRIFT_MIN): programs whose threads each keep their heap steady send no more than before, a
 * growing heap sends a few dozen times per doubling, and the peak is within that much per thread.
 */
#define DRIFT_MIN (256 * 1024)

/* heap_core.c */
extern size_t kh_boot_used;          /* bytes of kh_boot_arena handed out */
extern int g_sock;                   /* the socket to kiln, -1 when none */
extern unsigned g_depth;             /* frames per stack at most */
extern pthread_key_t g_key;          /* its destructor is kh_thread_exit */
extern pthread_mutex_t g_write_lock; /* held while writing to g_sock */
extern pthread_mutex_t g_reg_lock;   /* held while g_threads changes or is walked */
extern struct tstate *g_threads;
extern _Atomic uint32_t g_next_stack;
extern uint32_t g_first_stack; /* sites below were the parent's (a forked child's inherited blocks) */
extern _Atomic int64_t g_live; /* the live bytes of the windows closed so far, all threads */
extern bool g_closed;          /* the final flush was sent: nothing more (g_write_lock held) */
extern _Atomic bool g_off;     /* recording stopped for good, in a process without block headers */
void kh_stop_recording(void);
void kh_pass_through(void);

/* heap_output.c */
void kh_send_all(const void *data, size_t len);
void kh_send_buf(struct tstate *t);
void kh_flush_own(struct tstate *t);
void kh_reserve(struct tstate *t, size_t words);
void kh_send_maps(void);
void kh_flush_all(bool final);
void kh_close_stream(void);

/* heap_record.c */
size_t kh_win_encode(const struct window *w, uint32_t n, uint64_t *o);
void kh_win_reset(struct window *w);
void kh_win_close(struct tstate *t);

/* heap_thread.c */
void *kh_map_zero(size_t n);
struct tstate *kh_tstate_new(void); /* the calling thread's state, created; NULL when it cannot be */
void kh_tstate_unmap(struct tstate *t);
void kh_thread_exit(void *arg);
bool kh_arm_sampled(struct tstate *t, size_t size);

/* heap_sset.c */
extern bool g_sampling; /* the filter holds only sampled and start-up blocks */
extern atomic_flag g_slock;
bool kh_sset_init(void);
void kh_filter_add(uintptr_t p);
void kh_filter_start(void);
bool kh_sset_insert(uintptr_t p, uint32_t site, uint64_t size);
bool kh_sset_take(uintptr_t p, uint32_t *site, uint64_t *size);

static inline uint64_t kh_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline void kh_slock(void)
{
	while (atomic_flag_test_and_set_explicit(&g_slock, memory_order_acquire))
		;
}

static inline void kh_sunlock(void)
{
	atomic_flag_clear_explicit(&g_slock, memory_order_release);
}

static inline void kh_put(struct tstate *t, const uint64_t *w, size_t nwords)
{
	memcpy(t->buf + t->pos, w, nwords * 8);
	__atomic_store_n(&t->pos, t->pos + nwords * 8, __ATOMIC_RELEASE);
}

/* The fast path's counts since the last fold, into the thread's state (the owner thread's only). */
static inline void kh_fast_fold(struct tstate *t)
{
	t->calls += t_fast.calls;
	t_fast.calls = 0;
	t->bytes += (uint64_t)(t->armed - t_fast.countdown);
	t->armed = t_fast.countdown;
}

/* The bootstrap arena holds blocks as a 16-byte header (the size asked) and the size rounded up to 16. */
static inline size_t kh_boot_span(size_t n)
{
	return ((n + 15) & ~(size_t)15) + 16;
}

/* The calling thread's state, NULL when it has none and cannot have one (exiting, or not recording). */
static inline struct tstate *kh_tstate(void)
{
	struct tstate *t = t_state;
	return LIKELY(t != NULL) ? t : kh_tstate_new();
}

/*
 * The slow path's first step, for an allocation of `size` bytes the fast path has counted: true when the
 * allocation is recorded. A full trace records every one (the countdown stays at zero, so every allocation
 * comes here); sampling re-arms the countdown (kh_arm_sampled).
 */
static inline bool kh_arm(struct tstate *t, size_t size)
{
	if (!g_sample) {
		t_fast.countdown = 0;
		return true;
	}
	return kh_arm_sampled(t, size);
}

#pragma GCC visibility pop

#endif
