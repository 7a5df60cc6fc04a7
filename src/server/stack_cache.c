/*
 * The folded-stack cache of kiln serve (stack_cache.h): one open-addressing table of (key, stack id) slots,
 * sized once for the most entries it may hold at half load, never resized and never emptied: a full cache
 * stops learning. Lookups take no lock: a fleet's table is tens of MB, so each lookup is a cache miss, and
 * without locks the misses of a body's lines can be fetched ahead to overlap (with a lock per lookup they were
 * a fifth of the server's CPU). Learners take the one lock, write a slot's id before its key (release), and
 * a reader that sees the key (acquire) sees the id; an id never changes once written.
 */
#include "server/stack_cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "core/array.h"
#include "core/buf.h"
#include "core/hash.h"
#include "core/sort.h"
#include "core/xalloc.h"
#include "profile/profile.h"
#include "server/store.h"

struct slot {
	uint64_t key; /* 0: free */
	int64_t id;
};

struct stack_cache {
	struct slot *slots; /* mapped on demand: untouched pages cost no memory */
	size_t mask, nr, max;
	size_t bytes; /* of the mapping; 0: calloc'd */
	pthread_mutex_t lock; /* learners */
};

struct stack_cache *stack_cache_new(size_t max_entries)
{
	struct stack_cache *c = xcalloc(1, sizeof(*c));
	size_t cap = 1024;

	while (cap < max_entries * 2)
		cap *= 2;
	c->bytes = cap * sizeof(*c->slots);
	c->slots = mmap(NULL, c->bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (c->slots == MAP_FAILED) {
		c->slots = xcalloc(cap, sizeof(*c->slots));
		c->bytes = 0;
	} else {
		madvise(c->slots, c->bytes, MADV_HUGEPAGE); /* a probe is a TLB miss too with 4 KiB pages */
	}
	c->mask = cap - 1;
	c->max = max_entries;
	pthread_mutex_init(&c->lock, NULL);
	return c;
}

void stack_cache_free(struct stack_cache *c)
{
	if (!c)
		return;
	if (c->bytes)
		munmap(c->slots, c->bytes);
	else
		free(c->slots);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

size_t stack_cache_size(struct stack_cache *c)
{
	return __atomic_load_n(&c->nr, __ATOMIC_RELAXED);
}

/* The key of a stack's text in a tenant; never 0, the free slot's. */
static uint64_t key_of(int64_t tenant_id, const char *stack, size_t len)
{
	uint64_t k = hash_u64(hash_bytes(stack, len) ^ ((uint64_t)tenant_id * 0x9e3779b97f4a7c15ULL));

	return k ? k : 1;
}

static size_t slot_of(const struct stack_cache *c, uint64_t key)
{
	return (size_t)(key >> 7) & c->mask;
}

static int64_t find(const struct stack_cache *c, uint64_t key)
{
	for (size_t i = slot_of(c, key);; i = (i + 1) & c->mask) {
		uint64_t k = __atomic_load_n(&c->slots[i].key, __ATOMIC_ACQUIRE);

		if (k == key)
			return __atomic_load_n(&c->slots[i].id, __ATOMIC_RELAXED);
		if (!k)
			return 0;
	}
}

/* With the lock held. */
static void add(struct stack_cache *c, uint64_t key, int64_t id)
{
	size_t i;

	if (c->nr >= c->max)
		return;
	for (i = slot_of(c, key); c->slots[i].key; i = (i + 1) & c->mask)
		if (c->slots[i].key == key)
			return;
	__atomic_store_n(&c->slots[i].id, id, __ATOMIC_RELAXED);
	__atomic_store_n(&c->slots[i].key, key, __ATOMIC_RELEASE);
	__atomic_store_n(&c->nr, c->nr + 1, __ATOMIC_RELAXED);
}

static bool is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

/*
 * The next line of a folded body at `*s`: 1 with a plain line's stack and count, 0 at the end, -1 for a line
 * that is not plain. Empty lines are skipped, as the folded reader skips them. A plain line is read by the
 * folded reader the same way whatever its context: "STACK COUNT" with one space before a count of 1 to 18
 * digits greater than 0, a stack that does not end in a blank or in what could be a first count and has a frame
 * (not only ';'), and no tab, CR or NUL anywhere: the reader takes every such line, alone or among others.
 */
static int next_line(const char **s, const char *end, const char **stack, size_t *slen, int64_t *count)
{
	const char *l, *le, *sp, *tok;
	int64_t v = 0;

	while (*s < end && **s == '\n')
		(*s)++;
	if (*s >= end)
		return 0;
	l = *s;
	le = memchr(l, '\n', (size_t)(end - l));
	if (!le)
		le = end;
	*s = le < end ? le + 1 : end;
	if (memchr(l, '\r', (size_t)(le - l)) || memchr(l, '\t', (size_t)(le - l)) || memchr(l, '\0', (size_t)(le - l)))
		return -1;
	sp = memrchr(l, ' ', (size_t)(le - l));
	if (!sp || sp == l || sp[-1] == ' ' || le - sp - 1 < 1 || le - sp - 1 > 18)
		return -1;
	for (const char *q = sp + 1; q < le; q++) {
		if (!is_digit(*q))
			return -1;
		v = v * 10 + (*q - '0');
	}
	if (!v)
		return -1;
	/* "a;b 3 5" is a differential line (before, after): its stack must not end in a token that is a count */
	tok = memrchr(l, ' ', (size_t)(sp - l));
	if (tok && (is_digit(tok[1]) || tok[1] == '.'))
		return -1;
	/* a stack of empty frames only: the reader skips the line (and so would a body of such lines alone) */
	if (strspn(l, ";") >= (size_t)(sp - l))
		return -1;
	*stack = l;
	*slen = (size_t)(sp - l);
	*count = v;
	return 1;
}

SORT_BY_KEY(sort_pairs, struct store_pair, stack)

int stack_cache_lookup(struct stack_cache *c, int64_t tenant_id, const char *body, size_t len,
		       struct store_pair **pairs, size_t *npairs, struct buf *missed)
{
	const char *s = body, *end = body + len, *stack, *nl;
	struct store_pair *v = NULL;
	uint64_t *keys = NULL;
	size_t n = 0, alloc = 0, slen, i, j, found;
	int64_t count;
	int r;

	*pairs = NULL;
	*npairs = 0;
	/*
	 * Two passes: the keys first, each slot's cache line fetched ahead, then the lookups. A fleet's cache is
	 * tens of MB, so each lookup is a cache miss; fetched ahead, the misses of a body overlap instead of
	 * following each other (this was a fifth of the server's CPU).
	 */
	while ((r = next_line(&s, end, &stack, &slen, &count)) > 0) {
		uint64_t key = key_of(tenant_id, stack, slen);

		if (n + 1 > alloc) {
			ALLOC_GROW(v, n + 1, alloc);
			keys = xrealloc(keys, alloc * sizeof(*keys));
		}
		/* the line's text, for a miss: its stack up to the end of its count */
		v[n] = (struct store_pair){ (int64_t)(stack - body), count };
		keys[n++] = key;
		__builtin_prefetch(&c->slots[slot_of(c, key)]);
	}
	if (r < 0) {
		free(keys);
		free(v);
		return -1;
	}
	for (i = 0, j = 0; i < n; i++) {
		int64_t id = find(c, keys[i]);

		if (id) {
			v[j++] = (struct store_pair){ id, v[i].value };
			continue;
		}
		/* A plain line is its stack, a space and its count's digits, which end the line. */
		s = body + v[i].stack;
		nl = memchr(s, '\n', (size_t)(end - s));
		buf_add(missed, s, (size_t)((nl ? nl : end) - s));
		buf_addch(missed, '\n');
	}
	free(keys);
	found = j;
	if (!found) {
		free(v);
		return 0;
	}
	/* One pair per stack, as the folded reader makes one row per stack: the sample limit counts them. */
	n = found;
	sort_pairs(v, n);
	for (i = 0, j = 0; i < n; i++) {
		if (j && v[j - 1].stack == v[i].stack) {
			if (__builtin_add_overflow(v[j - 1].value, v[i].value, &v[j - 1].value))
				v[j - 1].value = INT64_MAX;
		} else {
			v[j++] = v[i];
		}
	}
	*pairs = v;
	*npairs = j;
	return (int)(found < INT32_MAX ? found : INT32_MAX);
}

/* The node of `stack` in `p`: its frames, split at ';' with empty ones skipped as the folded reader does,
 * walked from the root; 0 when the profile has no such path. `frame_of` maps a string id to its frame. */
static uint32_t walk(const struct profile *p, const struct u64map *frame_of, const char *stack, size_t slen)
{
	const char *f = stack, *end = stack + slen;
	uint32_t node = 0;

	while (f <= end) {
		const char *semi = memchr(f, ';', (size_t)(end - f));
		size_t fl = semi ? (size_t)(semi - f) : (size_t)(end - f);

		if (fl) {
			int64_t sid = strtab_find(&p->strings, f, fl);
			const uint64_t *fr = sid >= 0 ? u64map_find(frame_of, (uint64_t)sid) : NULL;

			if (!fr || *fr == UINT32_MAX)
				return 0;
			node = profile_node_find(p, node, (uint32_t)*fr);
			if (node == UINT32_MAX)
				return 0;
		}
		if (!semi)
			break;
		f = semi + 1;
	}
	return node;
}

void stack_cache_learn(struct stack_cache *c, int64_t tenant_id, const char *body, size_t len,
		       const struct profile *p)
{
	struct u64map frame_of = U64MAP_INIT;
	const char *s = body, *end = body + len, *stack;
	uint32_t *nodes = NULL;
	uint64_t *keys = NULL;
	int64_t *ids, count;
	size_t n = 0, alloc = 0, slen;
	int r;

	/* A folded frame is its name: the frame of each name, or none when two frames share one. */
	for (size_t i = 0; i < p->frames_nr; i++) {
		int inserted;
		uint64_t *slot = u64map_insert(&frame_of, p->frames[i].function, &inserted);

		*slot = inserted ? i : UINT32_MAX;
	}
	while ((r = next_line(&s, end, &stack, &slen, &count)) >= 0) {
		uint32_t node;

		if (!r)
			break;
		node = walk(p, &frame_of, stack, slen);
		if (!node)
			continue;
		if (n + 1 > alloc) {
			ALLOC_GROW(nodes, n + 1, alloc);
			keys = xrealloc(keys, alloc * sizeof(*keys));
		}
		nodes[n] = node;
		keys[n++] = key_of(tenant_id, stack, slen);
	}
	u64map_release(&frame_of);
	if (r < 0 || !n) {
		/* A body with a line that is not plain is never looked up whole: nothing to learn. */
		free(nodes);
		free(keys);
		return;
	}
	ids = xcalloc(n, sizeof(*ids));
	store_stack_ids(p, nodes, n, ids);
	pthread_mutex_lock(&c->lock);
	for (size_t i = 0; i < n; i++)
		if (ids[i])
			add(c, keys[i], ids[i]);
	pthread_mutex_unlock(&c->lock);
	free(ids);
	free(nodes);
	free(keys);
}
