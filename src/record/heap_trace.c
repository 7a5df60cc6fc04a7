/* The heap profiler's live accounting and profile building (see heap_trace.h). */
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/array.h"
#include "../core/buf.h"
#include "../core/err.h"
#include "../core/hash.h"
#include "../core/xalloc.h"
#include "../profile/profile.h"
#include "../symbols/symbolizer.h"
#include "heap_stream.h"
#include "heap_trace.h"

/*
 * Streams carry no addresses (core/heap_wire.h): each ALLOC and FREE names its site and size, so a site's
 * live amount is its allocations less its frees, and what a stream leaves live when it ends is leaked. A free
 * can arrive before its site's STACK record (sent by another thread's buffer): it waits in the stream's
 * pending table until then.
 */
struct site {
	uint32_t rawstack;
	uint32_t kind;
	int64_t alloc_objs, alloc_bytes;
	int64_t live_objs, live_bytes;
	int64_t peak_objs, peak_bytes; /* live at the latest global peak (committed lazily, see site_change) */
	int64_t leak_objs, leak_bytes;
	int64_t temporary;
	uint64_t last_mod;             /* event number of the last change of live_* */
	int64_t win_alloc_objs, win_alloc_bytes; /* heap_trace_window(): allocations handed over so far */
	int64_t win_leak_objs, win_leak_bytes;   /* and what exited processes left */
};

struct rawstack {
	uint32_t asid;
	uint32_t n;
	size_t off; /* into trace->addrs */
};

struct stream {
	struct heap_stream dec;
	uint32_t asid;
	bool open, failed, exec, have_maps, forked, header_seen;
	uint64_t sample;       /* mean sampling interval, 0 = full trace */
	uint32_t first_stack;  /* lower site ids are the parent's (a forked child's inherited blocks) */
	uint64_t chunk_time;
	struct u64map stacks;  /* stream site id -> site */
	struct site_cache {    /* stream site id -> site, direct-mapped: most events skip the map */
		uint32_t stack, site;
	} cache[1024];
	struct u64map pending; /* site id -> index into held, for sites whose STACK has not arrived (see hold) */
	struct held {
		int64_t objs, bytes, temporary; /* the change of the site's live amount (counted in the total) */
		uint64_t count;                 /* frees and windows held */
	} *held;
	size_t held_nr, held_alloc;
	uint32_t win_sites;    /* SITE records still to come for the latest WINDOW */
	bool win_peak;         /* that window reached a new peak of the total */
	uint32_t *sites;       /* the sites of this stream, for its end */
	size_t sites_nr, sites_alloc;
	struct buf maps_part;  /* the maps text being received */
	char **maps;           /* complete maps dumps, oldest first */
	size_t maps_nr, maps_alloc;
	size_t maps_added;     /* of which given to the symbolizer (windows add each once) */
};

struct heap_trace {
	struct stream **streams;
	size_t streams_nr, streams_alloc;
	struct site *sites;
	size_t sites_nr, sites_alloc;
	struct u64map site_index; /* rawstack << 8 | kind -> site */
	struct rawstack *raws;
	size_t raws_nr, raws_alloc;
	struct u64map raw_index;  /* content hash -> rawstack (probing on collision) */
	uint64_t *addrs;
	size_t addrs_nr, addrs_alloc;

	uint64_t evt;              /* event counter */
	int64_t cur_bytes, cur_objs;
	int64_t peak_bytes, peak_objs;
	uint64_t peak_evt;
	uint64_t peak_time;        /* CLOCK_MONOTONIC of the chunk that reached the peak */
	int64_t total_bytes, total_calls, temporary;
	int64_t leaked_bytes, leaked_objs;
	int64_t exact_calls, exact_bytes; /* from STATS, for sampled streams */
	bool sampled;
	uint64_t sample;
	int64_t hist[HEAP_HIST_BUCKETS];

	uint64_t start_mono;
	int64_t start_epoch, duration;
	struct heap_trace_stats stats;

	struct warm *warm;         /* the background naming of the first stacks (heap_trace_warm) */
	pthread_t warm_thread;
	bool warm_tried;
};

/* What the warm-up thread names: copies, since the trace keeps growing meanwhile. */
struct warm {
	struct symbolizer *sym;
	char **maps;
	uint32_t *maps_asid;
	size_t maps_nr;
	uint64_t *addrs; /* return addresses */
	uint32_t *asids;
	size_t n;
};

static void warm_join(struct heap_trace *t);

/* Sums of values from the stream wrap instead of overflowing (a corrupt stream must not be undefined). */
#define LIKELY(x) __builtin_expect(!!(x), 1)
#define ADD(a, b) ((int64_t)((uint64_t)(a) + (uint64_t)(int64_t)(b)))
#define SUB(a, b) ((int64_t)((uint64_t)(a) - (uint64_t)(int64_t)(b)))

struct heap_trace *heap_trace_new(void)
{
	struct heap_trace *t = xcalloc(1, sizeof(*t));
	return t;
}

static void stream_free(struct stream *s)
{
	if (!s)
		return;
	heap_stream_release(&s->dec);
	u64map_release(&s->stacks);
	u64map_release(&s->pending);
	free(s->held);
	free(s->sites);
	buf_release(&s->maps_part);
	for (size_t i = 0; i < s->maps_nr; i++)
		free(s->maps[i]);
	free(s->maps);
	free(s);
}

void heap_trace_free(struct heap_trace *t)
{
	if (!t)
		return;
	warm_join(t);
	for (size_t i = 0; i < t->streams_nr; i++)
		stream_free(t->streams[i]);
	free(t->streams);
	free(t->sites);
	u64map_release(&t->site_index);
	free(t->raws);
	u64map_release(&t->raw_index);
	free(t->addrs);
	free(t);
}

void heap_trace_set_time(struct heap_trace *t, uint64_t start_mono_ns, int64_t start_epoch_ns, int64_t duration_ns)
{
	t->start_mono = start_mono_ns;
	t->start_epoch = start_epoch_ns;
	t->duration = duration_ns;
}

const struct heap_trace_stats *heap_trace_stats(const struct heap_trace *t)
{
	return &t->stats;
}

uint32_t heap_trace_open(struct heap_trace *t)
{
	struct stream *s = xcalloc(1, sizeof(*s));
	heap_stream_init(&s->dec);
	buf_init(&s->maps_part, 0);
	s->open = true;
	s->asid = (uint32_t)t->streams_nr + 1;
	ALLOC_GROW(t->streams, t->streams_nr + 1, t->streams_alloc);
	t->streams[t->streams_nr] = s;
	t->stats.streams++;
	return (uint32_t)t->streams_nr++;
}

static uint32_t rawstack_intern(struct heap_trace *t, uint32_t asid, const uint64_t *a, size_t n)
{
	uint64_t h = hash_bytes(a, n * sizeof(*a)) ^ hash_u64(asid + 1);
	for (;; h = hash_u64(h + 1)) {
		if (h == U64MAP_EMPTY)
			continue;
		int inserted;
		uint64_t *slot = u64map_insert(&t->raw_index, h, &inserted);
		if (inserted) {
			ALLOC_GROW(t->raws, t->raws_nr + 1, t->raws_alloc);
			ALLOC_GROW(t->addrs, t->addrs_nr + n, t->addrs_alloc);
			if (n)
				memcpy(t->addrs + t->addrs_nr, a, n * sizeof(*a));
			t->raws[t->raws_nr] = (struct rawstack){ asid, (uint32_t)n, t->addrs_nr };
			t->addrs_nr += n;
			*slot = t->raws_nr;
			return (uint32_t)t->raws_nr++;
		}
		const struct rawstack *r = &t->raws[*slot];
		if (r->asid == asid && r->n == n && (!n || !memcmp(t->addrs + r->off, a, n * sizeof(*a))))
			return (uint32_t)*slot;
	}
}

/* The site of (rawstack, kind), created for stream `s` when new. */
static uint32_t site_get(struct heap_trace *t, struct stream *s, uint32_t raw, unsigned kind)
{
	int inserted;
	uint64_t *slot = u64map_insert(&t->site_index, (uint64_t)raw << 8 | kind, &inserted);
	if (inserted) {
		ALLOC_GROW(t->sites, t->sites_nr + 1, t->sites_alloc);
		memset(&t->sites[t->sites_nr], 0, sizeof(t->sites[0]));
		t->sites[t->sites_nr].rawstack = raw;
		t->sites[t->sites_nr].kind = kind;
		*slot = t->sites_nr++;
		ALLOC_GROW(s->sites, s->sites_nr + 1, s->sites_alloc);
		s->sites[s->sites_nr++] = (uint32_t)*slot;
	}
	return (uint32_t)*slot;
}

/* The site a stream's site id stands for, or UINT32_MAX when its STACK record has not arrived. */
static inline uint32_t site_of(struct stream *s, uint32_t stack)
{
	struct site_cache *c = &s->cache[stack & 1023];
	if (LIKELY(c->stack == stack && stack))
		return c->site;
	uint64_t *v = u64map_find(&s->stacks, stack);
	if (!v)
		return UINT32_MAX;
	*c = (struct site_cache){ stack, (uint32_t)*v };
	return (uint32_t)*v;
}

/* Changes a site's live amount, first committing its value at the latest peak if it has not changed since. */
static void site_change(struct heap_trace *t, struct site *st, int64_t objs, int64_t bytes)
{
	if (st->last_mod <= t->peak_evt) {
		st->peak_objs = st->live_objs;
		st->peak_bytes = st->live_bytes;
	}
	st->live_objs = ADD(st->live_objs, objs);
	st->live_bytes = ADD(st->live_bytes, bytes);
	st->last_mod = t->evt;
}

/* What one recorded block stands for: itself in a full trace, its expected number when sampled. */
static inline void weigh(const struct stream *s, uint64_t size, int64_t *objs, int64_t *bytes)
{
	if (LIKELY(!s->sample) || !size) {
		*objs = 1;
		*bytes = (int64_t)size;
		return;
	}
	double p = -expm1(-(double)size / (double)s->sample);
	double w = p > 0 ? 1 / p : 1;
	double b = (double)size * w;
	*objs = w < 9e18 ? llround(w) : INT64_MAX;
	*bytes = b < 9e18 ? llround(b) : INT64_MAX;
}

static unsigned hist_bucket(uint64_t size)
{
	unsigned b = size ? 64 - (unsigned)__builtin_clzll(size) : 0;
	return b < HEAP_HIST_BUCKETS ? b : HEAP_HIST_BUCKETS - 1;
}

/* Temporary allocations of a site. */
static inline void add_temporary(struct heap_trace *t, struct site *st, int64_t n)
{
	st->temporary = ADD(st->temporary, n);
	t->temporary = ADD(t->temporary, n);
}

/* A block of site `si` is gone: freed, or live when its stream ended. */
static inline void site_release(struct heap_trace *t, uint32_t si, int64_t objs, int64_t bytes, int64_t temporary)
{
	struct site *st = &t->sites[si];
	t->evt++;
	site_change(t, st, SUB(0, objs), SUB(0, bytes));
	t->cur_bytes = SUB(t->cur_bytes, bytes);
	t->cur_objs = SUB(t->cur_objs, objs);
	add_temporary(t, st, temporary);
}

static void on_alloc(struct heap_trace *t, struct stream *s, unsigned kind, uint32_t stack, uint64_t size)
{
	uint32_t si = site_of(s, stack);
	if (si == UINT32_MAX) /* a site never described: counted, without its stack */
		si = site_get(t, s, rawstack_intern(t, s->asid, NULL, 0), kind);
	int64_t objs, bytes;
	weigh(s, size, &objs, &bytes);
	struct site *st = &t->sites[si];
	st->alloc_objs = ADD(st->alloc_objs, objs);
	st->alloc_bytes = ADD(st->alloc_bytes, bytes);
	t->total_calls = ADD(t->total_calls, objs);
	t->total_bytes = ADD(t->total_bytes, bytes);
	t->hist[hist_bucket(size)] = ADD(t->hist[hist_bucket(size)], objs);
	t->evt++;
	site_change(t, st, objs, bytes);
	t->cur_bytes = ADD(t->cur_bytes, bytes);
	t->cur_objs = ADD(t->cur_objs, objs);
	if (t->cur_bytes > t->peak_bytes) {
		t->peak_bytes = t->cur_bytes;
		t->peak_objs = t->cur_objs;
		t->peak_evt = t->evt;
		t->peak_time = s->chunk_time;
	}
}

/* A change of the live amount of site `stack` that cannot be given to its site yet (its STACK record is still
 * in the allocating thread's buffer): held until it is. The total has counted it already. */
static void hold(struct stream *s, uint32_t stack, int64_t objs, int64_t bytes, int64_t temporary)
{
	int inserted;
	uint64_t *slot = u64map_insert(&s->pending, stack, &inserted);
	if (inserted) {
		ALLOC_GROW(s->held, s->held_nr + 1, s->held_alloc);
		memset(&s->held[s->held_nr], 0, sizeof(s->held[0]));
		*slot = s->held_nr++;
	}
	struct held *f = &s->held[*slot];
	f->objs = ADD(f->objs, objs);
	f->bytes = ADD(f->bytes, bytes);
	f->temporary = ADD(f->temporary, temporary);
	f->count++;
}

static void on_free(struct heap_trace *t, struct stream *s, uint32_t stack, uint64_t size, bool temporary)
{
	if (stack < s->first_stack || !stack) {
		/* A block this stream's process inherited (fork): its parent accounts for it. */
		t->stats.unmatched_frees++;
		return;
	}
	int64_t objs, bytes;
	weigh(s, size, &objs, &bytes);
	uint32_t si = site_of(s, stack);
	if (LIKELY(si != UINT32_MAX)) {
		site_release(t, si, objs, bytes, temporary ? objs : 0);
		return;
	}
	t->evt++;
	t->cur_bytes = SUB(t->cur_bytes, bytes);
	t->cur_objs = SUB(t->cur_objs, objs);
	hold(s, stack, SUB(0, objs), SUB(0, bytes), temporary ? objs : 0);
}

static void on_stack(struct heap_trace *t, struct stream *s, const struct heap_event *ev)
{
	uint32_t si = site_get(t, s, rawstack_intern(t, s->asid, ev->addrs, ev->naddrs), ev->kind);
	int inserted;
	*u64map_insert(&s->stacks, ev->stack, &inserted) = si;
	struct site_cache *c = &s->cache[ev->stack & 1023];
	if (c->stack == ev->stack)
		c->site = si;
	uint64_t *pf = s->pending.nr ? u64map_find(&s->pending, ev->stack) : NULL;
	if (pf) {
		struct held *f = &s->held[*pf];
		struct site *st = &t->sites[si];
		t->evt++;
		site_change(t, st, f->objs, f->bytes);
		add_temporary(t, st, f->temporary);
		memset(f, 0, sizeof(*f));
	}
}

/* Record words (the bytes received need not be aligned for 64-bit loads). */
static inline uint64_t rec_word(const uint64_t *w, size_t i)
{
	uint64_t v;
	memcpy(&v, (const char *)w + i * 8, 8);
	return v;
}

/*
 * A thread's window (heap_wire.h): its net change of the total, and its highest point, which makes a new
 * peak when the total before the window plus that point passes the peak; its sites follow.
 */
static void on_window(struct heap_trace *t, struct stream *s, const struct heap_event *ev)
{
	int64_t net_b = (int64_t)rec_word(ev->addrs, 0), net_o = (int64_t)rec_word(ev->addrs, 1);
	int64_t max_b = (int64_t)rec_word(ev->addrs, 2), max_o = (int64_t)rec_word(ev->addrs, 3);
	s->win_sites = ev->stack;
	s->win_peak = false;
	if (ev->stack && ADD(t->cur_bytes, max_b) > t->peak_bytes) {
		t->peak_bytes = ADD(t->cur_bytes, max_b);
		t->peak_objs = ADD(t->cur_objs, max_o);
		t->peak_evt = ++t->evt;
		t->peak_time = rec_word(ev->addrs, 4);
		s->win_peak = true;
	}
	t->cur_bytes = ADD(t->cur_bytes, net_b);
	t->cur_objs = ADD(t->cur_objs, net_o);
	t->evt++; /* the window's sites change after its highest point */
}

/* A site's sums over the window: at the window's highest point (a new peak) its value there is its peak. */
static void on_site(struct heap_trace *t, struct stream *s, const struct heap_event *ev)
{
	const uint64_t *w = ev->addrs;
	int64_t allocs = (int64_t)rec_word(w, 0), alloc_bytes = (int64_t)rec_word(w, 1);
	int64_t live_o = (int64_t)rec_word(w, 2), live_b = (int64_t)rec_word(w, 3);
	int64_t peak_o = (int64_t)rec_word(w, 4), peak_b = (int64_t)rec_word(w, 5);
	int64_t temporary = (int64_t)rec_word(w, 6);
	bool at_peak = s->win_sites && s->win_peak;
	if (s->win_sites)
		s->win_sites--;
	uint32_t si = ev->stack ? site_of(s, ev->stack) : UINT32_MAX;
	if (si == UINT32_MAX) {
		if (!allocs) {
			if (ev->stack >= s->first_stack && ev->stack)
				hold(s, ev->stack, live_o, live_b, temporary); /* frees of a site described later */
			else
				t->stats.unmatched_frees++;
			return;
		}
		si = site_get(t, s, rawstack_intern(t, s->asid, NULL, 0), KH_MALLOC);
	}
	struct site *st = &t->sites[si];
	st->alloc_objs = ADD(st->alloc_objs, allocs);
	st->alloc_bytes = ADD(st->alloc_bytes, alloc_bytes);
	t->total_calls = ADD(t->total_calls, allocs);
	t->total_bytes = ADD(t->total_bytes, alloc_bytes);
	add_temporary(t, st, temporary);
	if (at_peak) {
		st->peak_objs = ADD(st->live_objs, peak_o);
		st->peak_bytes = ADD(st->live_bytes, peak_b);
	} else if (st->last_mod <= t->peak_evt) {
		st->peak_objs = st->live_objs;
		st->peak_bytes = st->live_bytes;
	}
	st->live_objs = ADD(st->live_objs, live_o);
	st->live_bytes = ADD(st->live_bytes, live_b);
	st->last_mod = t->evt;
}

static void on_hist(struct heap_trace *t, const struct heap_event *ev)
{
	for (size_t i = 0; i + 1 < ev->naddrs; i += 2) {
		uint64_t b = rec_word(ev->addrs, i);
		unsigned k = b < HEAP_HIST_BUCKETS ? (unsigned)b : HEAP_HIST_BUCKETS - 1;
		t->hist[k] = ADD(t->hist[k], (int64_t)rec_word(ev->addrs, i + 1));
	}
}

static void on_event(struct heap_trace *t, struct stream *s, const struct heap_event *ev)
{
	t->stats.events++;
	switch (ev->type) {
	case KH_CHUNK:
		s->chunk_time = ev->b;
		break;
	case KH_STACK:
		on_stack(t, s, ev);
		break;
	case KH_ALLOC:
		on_alloc(t, s, ev->kind, ev->stack, ev->a);
		break;
	case KH_FREE:
		on_free(t, s, ev->stack, ev->a, ev->kind & KH_FREE_TEMPORARY);
		break;
	case KH_WINDOW:
		on_window(t, s, ev);
		break;
	case KH_SITE:
		on_site(t, s, ev);
		break;
	case KH_HIST:
		on_hist(t, ev);
		break;
	case KH_STATS:
		t->exact_calls = ADD(t->exact_calls, (int64_t)ev->a);
		t->exact_bytes = ADD(t->exact_bytes, (int64_t)ev->b);
		break;
	case KH_MAPS:
		buf_add(&s->maps_part, ev->text, ev->text_len);
		if (ev->kind & 1) {
			ALLOC_GROW(s->maps, s->maps_nr + 1, s->maps_alloc);
			s->maps[s->maps_nr++] = buf_detach(&s->maps_part, NULL);
			buf_init(&s->maps_part, 0);
			s->have_maps = true;
		}
		break;
	case KH_EXEC:
		s->exec = true;
		break;
	}
}

int heap_trace_data(struct heap_trace *t, uint32_t h, const void *data, size_t len, struct err *e)
{
	if (h >= t->streams_nr)
		return err_set(e, "no heap stream %" PRIu32, h);
	struct stream *s = t->streams[h];
	if (s->failed || !s->open)
		return 0;
	heap_stream_feed(&s->dec, data, len);
	struct heap_event ev;
	int r;
	while ((r = heap_stream_next(&s->dec, &ev, e)) > 0) {
		if (!s->header_seen) {
			s->header_seen = true;
			s->sample = s->dec.header.sample_bytes;
			s->forked = s->dec.header.flags & KH_FLAG_FORKED;
			s->first_stack = s->dec.header.first_stack;
			if (s->sample) {
				t->sampled = true;
				t->sample = s->sample;
			}
		}
		on_event(t, s, &ev);
	}
	if (r < 0) {
		s->failed = true;
		t->stats.corrupt_streams++;
		return -1;
	}
	return 0;
}

void heap_trace_close(struct heap_trace *t, uint32_t h)
{
	if (h >= t->streams_nr || !t->streams[h]->open)
		return;
	struct stream *s = t->streams[h];
	s->open = false;
	if (!s->failed && heap_stream_pending(&s->dec))
		t->stats.truncated_streams++;
	if (!s->have_maps && s->dec.have_header)
		t->stats.no_maps++;
	/* Frees of sites never described: the stream was cut short (or corrupt). */
	for (size_t i = 0; i < s->held_nr; i++)
		t->stats.unmatched_frees += s->held[i].count;
	/*
	 * Whatever is live now: leaked (unless a new image replaced this one), and gone from the heap. A site
	 * with more frees than allocations (a stream cut short before its allocating thread's buffer was sent)
	 * leaks nothing.
	 */
	for (size_t i = 0; i < s->sites_nr; i++) {
		struct site *st = &t->sites[s->sites[i]];
		int64_t objs = st->live_objs, bytes = st->live_bytes;
		if (!objs && !bytes)
			continue;
		if (!s->exec && objs > 0 && bytes >= 0) {
			st->leak_objs = ADD(st->leak_objs, objs);
			st->leak_bytes = ADD(st->leak_bytes, bytes);
			t->leaked_objs = ADD(t->leaked_objs, objs);
			t->leaked_bytes = ADD(t->leaked_bytes, bytes);
		}
		site_release(t, s->sites[i], objs, bytes, 0);
	}
	u64map_release(&s->pending);
	free(s->held);
	s->held = NULL;
	s->held_nr = s->held_alloc = 0;
	heap_stream_release(&s->dec);
	heap_stream_init(&s->dec);
}

/* Profile building. */

static void add_maps(struct symbolizer *sym, uint32_t asid, char *text);

static void *warm_main(void *arg)
{
	struct warm *w = arg;
	struct profile *scratch = profile_new(0);
	uint32_t frames[16];
	for (size_t i = 0; i < w->maps_nr; i++)
		add_maps(w->sym, w->maps_asid[i], w->maps[i]);
	for (size_t i = 0; i < w->n; i++)
		symbolizer_resolve(w->sym, scratch, w->asids[i], w->addrs[i] - 1, false, frames, ARRAY_SIZE(frames));
	profile_free(scratch);
	return NULL;
}

static void warm_free(struct warm *w)
{
	for (size_t i = 0; i < w->maps_nr; i++)
		free(w->maps[i]);
	free(w->maps);
	free(w->maps_asid);
	free(w->addrs);
	free(w->asids);
	free(w);
}

static void warm_join(struct heap_trace *t)
{
	if (!t->warm)
		return;
	pthread_join(t->warm_thread, NULL);
	warm_free(t->warm);
	t->warm = NULL;
}

void heap_trace_warm(struct heap_trace *t, struct symbolizer *sym)
{
	if (t->warm_tried || !t->raws_nr)
		return;
	size_t nmaps = 0;
	for (size_t i = 0; i < t->streams_nr; i++)
		nmaps += t->streams[i]->maps_nr;
	if (!nmaps)
		return;
	t->warm_tried = true;

	struct warm *w = xcalloc(1, sizeof(*w));
	w->sym = sym;
	w->maps = xcalloc(nmaps, sizeof(*w->maps));
	w->maps_asid = xcalloc(nmaps, sizeof(*w->maps_asid));
	for (size_t i = 0; i < t->streams_nr; i++)
		for (size_t m = 0; m < t->streams[i]->maps_nr; m++) {
			w->maps[w->maps_nr] = xstrdup(t->streams[i]->maps[m]);
			w->maps_asid[w->maps_nr++] = t->streams[i]->asid;
		}
	w->addrs = xmalloc(t->addrs_nr * sizeof(*w->addrs));
	w->asids = xmalloc(t->addrs_nr * sizeof(*w->asids));
	for (size_t r = 0; r < t->raws_nr; r++)
		for (uint32_t i = 0; i < t->raws[r].n; i++) {
			w->addrs[w->n] = t->addrs[t->raws[r].off + i];
			w->asids[w->n++] = t->raws[r].asid;
		}
	t->warm = w;
	if (pthread_create(&t->warm_thread, NULL, warm_main, w) != 0) {
		t->warm = NULL; /* named at the finish instead */
		warm_free(w);
	}
}

static const char *const kind_names[KH_KIND_NR] = {
	[KH_MALLOC] = "malloc",
	[KH_CALLOC] = "calloc",
	[KH_REALLOC_KIND] = "realloc",
	[KH_MEMALIGN] = "aligned_alloc",
	[KH_NEW] = "operator new",
	[KH_NEW_ARRAY] = "operator new[]",
};

static void add_maps(struct symbolizer *sym, uint32_t asid, char *text)
{
	struct err e = ERR_INIT;
	for (char *line = text, *next; line && *line; line = next) {
		unsigned long long start, end, off;
		char perms[8];
		int pathpos = 0;
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (sscanf(line, "%llx-%llx %7s %llx %*s %*s %n", &start, &end, perms, &off, &pathpos) < 4)
			continue;
		if (strlen(perms) < 3 || perms[2] != 'x' || end <= start)
			continue;
		const char *path = pathpos ? line + pathpos : "";
		symbolizer_add_mapping(sym, asid, start, end - start, off, path, NULL, 0, &e);
	}
}

/* The node of each raw stack in `p` (leaf first, each address once through the symbolizer's cache), and the
 * frame of each allocator kind. The array is the caller's to free. */
static uint32_t *site_nodes(const struct heap_trace *t, struct symbolizer *sym, struct profile *p,
			    uint32_t kind_frames[KH_KIND_NR])
{
	uint32_t *frames = xmalloc(KH_MAX_DEPTH * 16 * sizeof(*frames));
	uint32_t *nodes = xcalloc(t->raws_nr + 1, sizeof(*nodes));
	for (size_t r = 0; r < t->raws_nr; r++) {
		const struct rawstack *rs = &t->raws[r];
		size_t nf = 0;
		for (uint32_t i = 0; i < rs->n && nf < KH_MAX_DEPTH * 16 - 16; i++) {
			uint64_t a = t->addrs[rs->off + i];
			nf += symbolizer_resolve(sym, p, rs->asid, a - 1, false, frames + nf, 16);
		}
		uint32_t node = 0;
		for (size_t i = nf; i-- > 0;)
			node = profile_node(p, node, frames[i]);
		nodes[r] = node;
	}
	for (unsigned k = 0; k < KH_KIND_NR; k++)
		kind_frames[k] = profile_frame_named(p, kind_names[k], strlen(kind_names[k]), FRAME_NATIVE);
	free(frames);
	return nodes;
}

/* Gives the symbolizer the maps dumps it has not seen yet. */
static void add_new_maps(struct heap_trace *t, struct symbolizer *sym)
{
	for (size_t i = 0; i < t->streams_nr; i++) {
		struct stream *s = t->streams[i];
		for (; s->maps_added < s->maps_nr; s->maps_added++)
			add_maps(sym, s->asid, s->maps[s->maps_added]);
	}
}

int heap_trace_finish(struct heap_trace *t, struct symbolizer *sym, struct profile *p, struct err *e)
{
	warm_join(t);
	for (size_t i = 0; i < t->streams_nr; i++)
		heap_trace_close(t, (uint32_t)i);
	add_new_maps(t, sym);

	static const char *const cols[][2] = {
		{ "alloc_objects", "count" },      { "alloc_space", "bytes" },
		{ "inuse_objects", "count" },      { "inuse_space", "bytes" },
		{ "peak_inuse_objects", "count" }, { "peak_inuse_space", "bytes" },
		{ "temporary_objects", "count" },
	};
	for (size_t c = 0; c < ARRAY_SIZE(cols); c++)
		profile_add_column(p, cols[c][0], cols[c][1]);
	p->default_column = 1;
	p->time_nanos = t->start_epoch;
	p->duration_nanos = t->duration;
	p->period_type.type = profile_intern_str(p, "space");
	p->period_type.unit = profile_intern_str(p, "bytes");
	p->period = t->sampled ? (int64_t)t->sample : 1;

	uint32_t kind_frames[KH_KIND_NR];
	uint32_t *nodes = site_nodes(t, sym, p, kind_frames);
	for (size_t i = 0; i < t->sites_nr; i++) {
		struct site *st = &t->sites[i];
		if (st->last_mod <= t->peak_evt) {
			st->peak_objs = st->live_objs;
			st->peak_bytes = st->live_bytes;
		}
		int64_t v[7] = { st->alloc_objs, st->alloc_bytes, st->leak_objs, st->leak_bytes,
				 st->peak_objs, st->peak_bytes, st->temporary };
		bool any = false;
		for (int c = 0; c < 7; c++)
			any |= v[c] != 0;
		if (!any)
			continue;
		uint32_t node = profile_node(p, nodes[st->rawstack], kind_frames[st->kind]);
		profile_add_sample(p, node, 0, v);
	}
	free(nodes);

	int64_t calls = t->total_calls, bytes = t->total_bytes;
	if (t->sampled && t->exact_calls) {
		calls = t->exact_calls;
		bytes = t->exact_bytes;
	}
	profile_heap_set(p, HEAP_PEAK_BYTES, t->peak_bytes);
	profile_heap_set(p, HEAP_PEAK_BLOCKS, t->peak_objs);
	if (t->peak_bytes && t->start_mono)
		profile_heap_set(p, HEAP_PEAK_TIME_NS,
				 t->peak_time > t->start_mono ? (int64_t)(t->peak_time - t->start_mono) : 0);
	profile_heap_set(p, HEAP_TOTAL_ALLOCATED_BYTES, bytes);
	profile_heap_set(p, HEAP_ALLOCATION_CALLS, calls);
	profile_heap_set(p, HEAP_TEMPORARY_ALLOCATIONS, t->temporary);
	profile_heap_set(p, HEAP_LIVE_AT_EXIT_BYTES, t->leaked_bytes);
	profile_heap_set(p, HEAP_LIVE_AT_EXIT_BLOCKS, t->leaked_objs);
	profile_heap_set(p, HEAP_SAMPLE_BYTES, t->sampled ? (int64_t)t->sample : 0);
	profile_heap_set(p, HEAP_PROCESSES, (int64_t)t->stats.streams);
	for (unsigned b = 0; b < HEAP_HIST_BUCKETS; b++) {
		p->meta.heap.hist[b] = t->hist[b];
		p->meta.heap.has_hist |= t->hist[b] > 0;
	}
	(void)e;
	return 0;
}

/*
 * A window's profile, in the columns of Go's heap profile: the allocations since the last window, and what is
 * in use at its end: a snapshot, as Go's runtime (and so Pyroscope's Go client) reports inuse_* as of the
 * last collection, not a sum over the window. For a process that exited within the window that is what it
 * left allocated at its exit.
 */
int heap_trace_window(struct heap_trace *t, struct symbolizer *sym, struct profile *p, struct err *e)
{
	static const char *const cols[][2] = {
		{ "alloc_objects", "count" }, { "alloc_space", "bytes" },
		{ "inuse_objects", "count" }, { "inuse_space", "bytes" },
	};
	uint32_t kind_frames[KH_KIND_NR], *nodes;

	warm_join(t); /* the warm-up thread is done with `sym` */
	add_new_maps(t, sym);
	for (size_t c = 0; c < ARRAY_SIZE(cols); c++)
		profile_add_column(p, cols[c][0], cols[c][1]);
	p->default_column = 1;
	p->period_type.type = profile_intern_str(p, "space");
	p->period_type.unit = profile_intern_str(p, "bytes");
	p->period = t->sampled ? (int64_t)t->sample : 1;
	nodes = site_nodes(t, sym, p, kind_frames);
	for (size_t i = 0; i < t->sites_nr; i++) {
		struct site *st = &t->sites[i];
		/* Blocks of a site freed by a thread whose buffer arrived before the allocating one's leave its live
		 * amount below zero for a moment: nothing is in use there. */
		int64_t live_o = st->live_objs > 0 ? st->live_objs : 0, live_b = st->live_bytes > 0 ? st->live_bytes : 0;
		int64_t v[4] = { SUB(st->alloc_objs, st->win_alloc_objs), SUB(st->alloc_bytes, st->win_alloc_bytes),
				 ADD(live_o, SUB(st->leak_objs, st->win_leak_objs)),
				 ADD(live_b, SUB(st->leak_bytes, st->win_leak_bytes)) };

		st->win_alloc_objs = st->alloc_objs;
		st->win_alloc_bytes = st->alloc_bytes;
		st->win_leak_objs = st->leak_objs;
		st->win_leak_bytes = st->leak_bytes;
		if (!v[0] && !v[1] && !v[2] && !v[3])
			continue;
		profile_add_sample(p, profile_node(p, nodes[st->rawstack], kind_frames[st->kind]), 0, v);
	}
	free(nodes);
	profile_heap_set(p, HEAP_SAMPLE_BYTES, t->sampled ? (int64_t)t->sample : 0);
	(void)e;
	return 0;
}
