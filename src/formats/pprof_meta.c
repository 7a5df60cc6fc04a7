/* The pprof comments that carry a profile's typed metadata (see pprof_meta.h). */
#include "pprof_meta.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "../core/array.h"
#include "../core/buf.h"
#include "../core/xalloc.h"
#include "../profile/profile.h"

#define HEAP_PREFIX "kiln-heap: "

static bool parse_i64(const char *s, int64_t *v)
{
	char *end;
	long long x;

	if (!*s)
		return false;
	x = strtoll(s, &end, 10);
	*v = x;
	return end != s;
}

/* "B:N,B:N,...": true when at least one bucket was read, as the heap report counts a histogram. */
static bool parse_hist(struct heap_meta *h, const char *v)
{
	bool any = false;

	while (*v) {
		char *end;
		unsigned long b = strtoul(v, &end, 10);
		long long c;

		if (*end != ':')
			break;
		c = strtoll(end + 1, &end, 10);
		if (b < HEAP_HIST_BUCKETS && c > 0)
			h->hist[b] = sat_add64(h->hist[b], c);
		any = true;
		if (*end != ',')
			break;
		v = end + 1;
	}
	return any;
}

static bool read_heap(struct profile *p, const char *c)
{
	const char *eq = strchr(c, '=');
	size_t kl = eq ? (size_t)(eq - c) : 0;
	int64_t v;

	if (!eq)
		return false;
	if (kl == 9 && !strncmp(c, "histogram", 9)) {
		struct heap_meta *h = &p->meta.heap;

		/* A later histogram replaces an earlier one, as a later scalar does. */
		memset(h->hist, 0, sizeof(h->hist));
		h->has_hist = parse_hist(h, eq + 1);
		return true;
	}
	for (unsigned k = 0; k < HEAP_META_NR; k++)
		if (strlen(heap_meta_names[k]) == kl && !strncmp(c, heap_meta_names[k], kl)) {
			if (!parse_i64(eq + 1, &v))
				return false;
			profile_heap_set(p, (enum heap_meta_key)k, v);
			return true;
		}
	return false;
}

void pprof_meta_read_comment(struct profile *p, const char *c)
{
	int64_t n;

	if (!strncmp(c, HEAP_PREFIX, strlen(HEAP_PREFIX)) && read_heap(p, c + strlen(HEAP_PREFIX)))
		return;
	if (!strncmp(c, "event: ", 7) && c[7] && !p->meta.event) {
		p->meta.event = profile_intern_str(p, c + 7);
		return;
	}
	/* The first count is the one that holds (a count of 0 or less is no count). */
	if (!strncmp(c, "samples: ", 9) && parse_i64(c + 9, &n) && n > 0 && !p->meta.samples) {
		p->meta.samples = n;
		return;
	}
	profile_add_comment(p, c);
}

size_t pprof_meta_comments(const struct profile *p, char ***out)
{
	const struct profile_meta *m = &p->meta;
	char **v = NULL;
	size_t nr = 0, alloc = 0;

	if (m->event) {
		ALLOC_GROW(v, nr + 1, alloc);
		v[nr++] = xasprintf("event: %s", profile_str(p, m->event));
	}
	if (m->samples) {
		ALLOC_GROW(v, nr + 1, alloc);
		v[nr++] = xasprintf("samples: %" PRId64, m->samples);
	}
	for (unsigned k = 0; k < HEAP_META_NR; k++)
		if (m->heap.known & 1u << k) {
			ALLOC_GROW(v, nr + 1, alloc);
			v[nr++] = xasprintf(HEAP_PREFIX "%s=%" PRId64, heap_meta_names[k], m->heap.v[k]);
		}
	if (m->heap.has_hist) {
		struct buf h = BUF_INIT;

		buf_adds(&h, HEAP_PREFIX "histogram=");
		for (unsigned b = 0, first = 1; b < HEAP_HIST_BUCKETS; b++)
			if (m->heap.hist[b]) {
				buf_addf(&h, "%s%u:%" PRId64, first ? "" : ",", b, m->heap.hist[b]);
				first = 0;
			}
		ALLOC_GROW(v, nr + 1, alloc);
		v[nr++] = buf_detach(&h, NULL);
	}
	*out = v;
	return nr;
}
