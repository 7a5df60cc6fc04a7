/*
 * Sampled mode: the set of live sampled blocks (address, site, size), so that only their frees are sent, and
 * the filters free()'s fast path reads to tell that a block cannot be one of them (heap.h free_wanted()).
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "heap_lib.h"

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
bool g_sampling;
/* All ones (every free takes the slow path: a full trace, or before kh_init) until sampling starts. */
_Atomic uint64_t g_filter[FILTER_WORDS] = { [0 ... FILTER_WORDS - 1] = ~(uint64_t)0 };
_Alignas(64) _Atomic uint64_t g_coarse = ~(uint64_t)0;
static uint32_t g_ccount[64]; /* live sampled blocks per coarse bit (lock held) */
atomic_flag g_slock = ATOMIC_FLAG_INIT;

bool kh_sset_init(void)
{
	g_sset = kh_map_zero(SSET_SIZE * sizeof(*g_sset));
	return g_sset != NULL;
}

/*
 * The filter that free()'s fast path reads has a bit set while a live sampled block hashes to it: a count per
 * bit (lock held) sets it on the first block and clears it with the last, so a free pays the set's lock only
 * for a sampled block or one sharing a bit with a live sampled block.
 */
void kh_filter_add(uintptr_t p)
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

/* Sampling starts (kh_init): the filter is emptied but for the start-up blocks, which free() must not pass
 * to the real allocator. */
void kh_filter_start(void)
{
	for (size_t w = 0; w < FILTER_WORDS; w++)
		atomic_store_explicit(&g_filter[w], 0, memory_order_relaxed);
	atomic_store_explicit(&g_coarse, 0, memory_order_relaxed);
	for (size_t off = 0; off < kh_boot_used;) {
		size_t n;
		memcpy(&n, kh_boot_arena + off, sizeof(n));
		kh_filter_add((uintptr_t)(kh_boot_arena + off + 16));
		off += kh_boot_span(n);
	}
	g_sampling = true;
}

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
bool kh_sset_insert(uintptr_t p, uint32_t site, uint64_t size)
{
	kh_slock();
	/* Half full of live entries and tombstones: lookups (which pass tombstones) would grow long. */
	if (g_sset_used * 2 >= SSET_SIZE)
		sset_rebuild();
	if (g_sset_used * 2 >= SSET_SIZE) {
		kh_sunlock();
		return false;
	}
	sset_put(p, site, size);
	kh_filter_add(p);
	kh_sunlock();
	return true;
}

/* Finds a sampled block and removes it: false when `p` was not sampled. */
bool kh_sset_take(uintptr_t p, uint32_t *site, uint64_t *size)
{
	if (LIKELY(!free_wanted((const void *)p)))
		return false;
	bool found = false;
	kh_slock();
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
	kh_sunlock();
	return found;
}
