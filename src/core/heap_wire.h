/*
 * The wire format between libkiln-heap.so and kiln (src/record/heap_stream.c decodes it): one stream per
 * process image over a Unix stream socket, native byte order (both ends run on the same machine).
 *
 * A stream starts with struct kh_header, then records. Every record is a sequence of 64-bit words; the first,
 * KH_HEAD(type, kind, n, stack), says the type, an allocator kind or flag, the number n of words that follow
 * and a stack id:
 *
 *   CHUNK   n=2  tid, time_ns                  the records up to the next CHUNK come from thread `tid`;
 *                                              time_ns (CLOCK_MONOTONIC) is when the first of them happened
 *                                              (sent at each buffer start and every few allocations)
 *   STACK   n=d  addr[d]                       allocation site `stack` (per-process id): an allocator (kind =
 *                                              enum kh_kind) called from these return addresses, the
 *                                              allocator's caller first
 *   ALLOC   n=1  size                          a block of `size` bytes allocated at site `stack`
 *   FREE    n=1  size                          a block allocated at site `stack` with `size` bytes was freed;
 *                                              kind KH_FREE_TEMPORARY: it was the thread's latest allocation
 *                                              (freed with no allocation or free in between)
 *   WINDOW  n=5  net_bytes, net_blocks,        a full trace's summary of the thread's events since its last
 *                max_bytes, max_blocks,        WINDOW, followed by its `stack` SITE records: over the window
 *                max_time                      the thread's live total went from +0 to +net, and was highest
 *                                              (+max, at least 0) at max_time (CLOCK_MONOTONIC)
 *   SITE    n=7  allocs, alloc_bytes,          site `stack` in the window: its allocations, the change of its
 *                live_blocks, live_bytes,      live blocks and bytes over the window and at the window's
 *                peak_blocks, peak_bytes,      highest point, its temporary allocations (signed values in
 *                temporary                     two's complement)
 *   HIST    n=2k (bucket, count) pairs         the window's allocations by size: bucket b holds sizes with b
 *                                              significant bits
 *   STATS   n=2  calls, bytes                  allocations and bytes since the thread's last STATS (exact
 *                                              even when sampling)
 *   MAPS    n=1+w  len, text[w words]          a part of /proc/self/maps; kind 1 marks the last part
 *   EXEC    n=0                                the image is being replaced: what is live is not leaked
 *
 * No record carries an address: a free names its block's site and size, which the library keeps (in a header
 * before each block in a full trace, beside the sampled address when sampling), so kiln keeps no table of
 * addresses and the threads' records need no common order. A site's live amount is its allocations less its
 * frees; what is live when the stream ends is leaked. A full trace sends each thread's events summed per site
 * over windows of a few thousand events (WINDOW and its SITE records), sampling sends each event (ALLOC,
 * FREE). Records of different threads arrive in buffer order, so a free can come before the STACK record of
 * its site (sent by the allocating thread): kiln holds it until then. Sites below kh_header.first_stack belong
 * to the process before this stream started (a forked child's inherited blocks): the library does not send
 * their frees.
 *
 * With sampling (kh_header.sample_bytes > 0) only sampled allocations are sent, with their requested size, and
 * only their frees.
 */
#ifndef KILN_HEAP_WIRE_H
#define KILN_HEAP_WIRE_H

#include <stdint.h>

#define KH_MAGIC "KILNHEAP"
#define KH_VERSION 4

/* Environment variables set by kiln for the preload library. */
#define KH_ENV_SOCK "KILN_HEAP_SOCK"          /* Unix socket path to connect to */
#define KH_ENV_SAMPLE "KILN_HEAP_SAMPLE"      /* mean bytes between samples; 0 or unset = every allocation */
#define KH_ENV_DEPTH "KILN_HEAP_DEPTH"        /* maximum stack depth (default KH_DEFAULT_DEPTH) */
#define KH_ENV_NO_CHILDREN "KILN_HEAP_NO_CHILDREN" /* "1": do not follow forks and execs */

#define KH_DEFAULT_DEPTH 64
#define KH_MAX_DEPTH 256

struct kh_header {
	char magic[8];
	uint32_t version;
	uint32_t pid;
	uint32_t ppid;
	uint32_t flags;        /* KH_FLAG_* */
	uint64_t sample_bytes; /* 0 for a full trace */
	uint64_t start_ns;     /* CLOCK_MONOTONIC when the library started in this image */
	uint32_t first_stack;  /* the lowest site id this stream can define */
	uint32_t reserved;
};

#define KH_FLAG_FORKED 1 /* the stream of a forked child (not a new image) */

enum kh_type {
	KH_CHUNK = 1,
	KH_STACK,
	KH_ALLOC,
	KH_FREE,
	KH_WINDOW,
	KH_SITE,
	KH_HIST,
	KH_STATS,
	KH_MAPS,
	KH_EXEC,
	KH_TYPE_NR
};

enum kh_kind {
	KH_MALLOC = 0,
	KH_CALLOC,
	KH_REALLOC_KIND,
	KH_MEMALIGN,   /* posix_memalign, aligned_alloc, memalign, valloc, pvalloc */
	KH_NEW,        /* operator new */
	KH_NEW_ARRAY,  /* operator new[] */
	KH_KIND_NR
};

#define KH_FREE_TEMPORARY 1 /* FREE's kind: the block was its thread's latest allocation */

#define KH_HEAD(type, kind, n, stack) \
	((uint64_t)(type) | (uint64_t)(kind) << 8 | (uint64_t)(n) << 16 | (uint64_t)(stack) << 32)
#define KH_HEAD_TYPE(h) ((unsigned)((h) & 0xff))
#define KH_HEAD_KIND(h) ((unsigned)(((h) >> 8) & 0xff))
#define KH_HEAD_N(h) ((unsigned)(((h) >> 16) & 0xffff))
#define KH_HEAD_STACK(h) ((uint32_t)((h) >> 32))

#endif
