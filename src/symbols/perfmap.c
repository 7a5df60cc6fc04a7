/* perf-PID.map parsing and lookup; overlapping regions resolved in favour of later lines (see perfmap.h). */
#include "perfmap.h"

#include <stdlib.h>
#include <string.h>

#include "../core/arena.h"
#include "../core/array.h"

struct pm_entry {
	uint64_t start, end;
	uint32_t seq;
	const char *name;
};

struct pm_seg {
	uint64_t start, end;
	const char *name;
};

struct perfmap {
	struct pm_seg *segs;
	size_t nr, alloc;
	struct arena arena;
};

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static const char *parse_hex(const char *p, const char *end, uint64_t *out)
{
	uint64_t v = 0;
	int digits = 0, d;

	if (end - p > 2 && p[0] == '0' && (p[1] | 0x20) == 'x')
		p += 2;
	while (p < end && (d = hexval((unsigned char)*p)) >= 0) {
		if (++digits > 16)
			return NULL;
		v = v << 4 | (uint64_t)d;
		p++;
	}
	if (!digits)
		return NULL;
	*out = v;
	return p;
}

static int is_blank(int c)
{
	return c == ' ' || c == '\t';
}

static int parse_line(const char *p, const char *end, struct pm_entry *e)
{
	uint64_t start, size;

	while (p < end && is_blank(*p))
		p++;
	if (!(p = parse_hex(p, end, &start)) || p == end || !is_blank(*p))
		return -1;
	while (p < end && is_blank(*p))
		p++;
	if (!(p = parse_hex(p, end, &size)) || p == end || !is_blank(*p) || !size)
		return -1;
	while (p < end && is_blank(*p))
		p++;
	while (end > p && (end[-1] == '\r' || is_blank(end[-1])))
		end--;
	if (p == end)
		return -1;
	e->start = start;
	e->end = start + size < start ? UINT64_MAX : start + size;
	e->name = p;
	e->seq = (uint32_t)(end - p); /* the name's length until the caller copies it */
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

static int cmp_start(const void *a, const void *b)
{
	const struct pm_entry *x = a, *y = b;
	return (x->start > y->start) - (x->start < y->start);
}

/* Max-heap of entry pointers by seq (latest line on top). */
static void heap_push(const struct pm_entry **h, size_t *n, const struct pm_entry *e)
{
	size_t i = (*n)++;
	while (i && h[(i - 1) / 2]->seq < e->seq) {
		h[i] = h[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h[i] = e;
}

static void heap_pop(const struct pm_entry **h, size_t *n)
{
	const struct pm_entry *last = h[--*n];
	size_t i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= *n)
			break;
		if (c + 1 < *n && h[c + 1]->seq > h[c]->seq)
			c++;
		if (h[c]->seq <= last->seq)
			break;
		h[i] = h[c];
		i = c;
	}
	if (*n)
		h[i] = last;
}

struct perfmap *perfmap_parse(const char *text, size_t len)
{
	struct perfmap *m = xcalloc(1, sizeof(*m));
	struct pm_entry *ents = NULL;
	size_t nents = 0, ents_alloc = 0;
	const char *p = text, *end = text + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		struct pm_entry e;
		if (!parse_line(p, eol, &e)) {
			e.name = arena_strndup(&m->arena, e.name, e.seq);
			e.seq = (uint32_t)nents;
			ALLOC_GROW(ents, nents + 1, ents_alloc);
			ents[nents++] = e;
		}
		p = nl ? nl + 1 : end;
	}
	if (!nents)
		goto out;

	/* Sweep over the sorted region boundaries; between two boundaries the latest covering line wins. */
	uint64_t *bounds = xmalloc(2 * nents * sizeof(*bounds));
	size_t nb = 0;
	for (size_t i = 0; i < nents; i++) {
		bounds[nb++] = ents[i].start;
		bounds[nb++] = ents[i].end;
	}
	qsort(bounds, nb, sizeof(*bounds), cmp_u64);
	size_t u = 0;
	for (size_t i = 0; i < nb; i++)
		if (!u || bounds[u - 1] != bounds[i])
			bounds[u++] = bounds[i];
	nb = u;
	qsort(ents, nents, sizeof(*ents), cmp_start);

	const struct pm_entry **heap = xmalloc(nents * sizeof(*heap));
	size_t hn = 0, next = 0;
	for (size_t i = 0; i + 1 < nb; i++) {
		uint64_t lo = bounds[i], hi = bounds[i + 1];
		while (next < nents && ents[next].start <= lo)
			heap_push(heap, &hn, &ents[next++]);
		while (hn && heap[0]->end <= lo)
			heap_pop(heap, &hn);
		if (!hn)
			continue;
		const char *name = heap[0]->name;
		if (m->nr && m->segs[m->nr - 1].end == lo && m->segs[m->nr - 1].name == name) {
			m->segs[m->nr - 1].end = hi;
			continue;
		}
		ALLOC_GROW(m->segs, m->nr + 1, m->alloc);
		m->segs[m->nr++] = (struct pm_seg){ lo, hi, name };
	}
	free(heap);
	free(bounds);
out:
	free(ents);
	return m;
}

void perfmap_free(struct perfmap *m)
{
	if (!m)
		return;
	free(m->segs);
	arena_release(&m->arena);
	free(m);
}

size_t perfmap_count(const struct perfmap *m)
{
	return m ? m->nr : 0;
}

const char *perfmap_find(const struct perfmap *m, uint64_t addr, uint64_t *start)
{
	size_t lo = 0, hi;

	if (!m || !m->nr || addr < m->segs[0].start)
		return NULL;
	hi = m->nr;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (m->segs[mid].start <= addr)
			lo = mid;
		else
			hi = mid;
	}
	if (addr >= m->segs[lo].end)
		return NULL;
	if (start)
		*start = m->segs[lo].start;
	return m->segs[lo].name;
}
