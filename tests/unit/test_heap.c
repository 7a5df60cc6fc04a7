/* Unit tests for the heap profiler's kiln side: stream decoding, live accounting (peaks, leaks, temporaries,
 * out-of-order threads, forks, sampling), the report, and its pprof round trip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyze/heap_report.h"
#include "cmd/cmds.h"
#include "cmd/profile_common.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/json.h"
#include "formats/format.h"
#include "profile/profile.h"
#include "record/heap_stream.h"
#include "record/heap_trace.h"
#include "symbols/symbolizer.h"

/* A stream under construction. */
struct sb {
	struct buf b;
};

static void sb_init_from(struct sb *s, uint32_t pid, uint64_t sample, uint32_t first_stack)
{
	struct kh_header h;
	memset(&h, 0, sizeof(h));
	memcpy(h.magic, KH_MAGIC, 8);
	h.version = KH_VERSION;
	h.pid = pid;
	h.sample_bytes = sample;
	h.start_ns = 1000;
	h.first_stack = first_stack;
	buf_init(&s->b, 0);
	buf_add(&s->b, &h, sizeof(h));
}

static void sb_init(struct sb *s, uint32_t pid, uint64_t sample)
{
	sb_init_from(s, pid, sample, 1);
}

static void sb_words(struct sb *s, const uint64_t *w, size_t n)
{
	buf_add(&s->b, w, n * 8);
}

static void sb_chunk(struct sb *s, uint64_t tid, uint64_t time)
{
	uint64_t w[3] = { KH_HEAD(KH_CHUNK, 0, 2, 0), tid, time };
	sb_words(s, w, 3);
}

/* Site `id`: allocator `kind` called from a0, called from a1. */
static void sb_site(struct sb *s, uint32_t id, unsigned kind, uint64_t a0, uint64_t a1)
{
	uint64_t w[3] = { KH_HEAD(KH_STACK, kind, 2, id), a0, a1 };
	sb_words(s, w, 3);
}

static void sb_stack(struct sb *s, uint32_t id, uint64_t a0, uint64_t a1)
{
	sb_site(s, id, KH_MALLOC, a0, a1);
}

static void sb_alloc(struct sb *s, uint32_t site, uint64_t size)
{
	uint64_t w[2] = { KH_HEAD(KH_ALLOC, KH_MALLOC, 1, site), size };
	sb_words(s, w, 2);
}

static void sb_free(struct sb *s, uint32_t site, uint64_t size, bool temporary)
{
	uint64_t w[2] = { KH_HEAD(KH_FREE, temporary ? KH_FREE_TEMPORARY : 0, 1, site), size };
	sb_words(s, w, 2);
}

/* A full trace's window of `nsites` SITE records (sb_wsite). */
static void sb_window(struct sb *s, uint32_t nsites, int64_t net_b, int64_t net_o, int64_t max_b, int64_t max_o,
		      uint64_t time)
{
	uint64_t w[6] = { KH_HEAD(KH_WINDOW, 0, 5, nsites), (uint64_t)net_b, (uint64_t)net_o, (uint64_t)max_b,
			  (uint64_t)max_o, time };
	sb_words(s, w, 6);
}

static void sb_wsite(struct sb *s, uint32_t id, int64_t allocs, int64_t alloc_bytes, int64_t live_o, int64_t live_b,
		     int64_t peak_o, int64_t peak_b, int64_t temporary)
{
	uint64_t w[8] = { KH_HEAD(KH_SITE, 0, 7, id), (uint64_t)allocs, (uint64_t)alloc_bytes, (uint64_t)live_o,
			  (uint64_t)live_b, (uint64_t)peak_o, (uint64_t)peak_b, (uint64_t)temporary };
	sb_words(s, w, 8);
}

static void test_decode(void **state)
{
	(void)state;
	struct sb s;
	sb_init(&s, 42, 0);
	sb_chunk(&s, 7, 123);
	sb_site(&s, 1, KH_CALLOC, 0x1000, 0x2000);
	sb_alloc(&s, 1, 16);
	sb_free(&s, 1, 16, true);
	sb_alloc(&s, 1, 32);
	uint64_t maps[4] = { KH_HEAD(KH_MAPS, 1, 3, 0), 13, 0, 0 };
	memcpy(&maps[2], "00400000-0040", 13);
	sb_words(&s, maps, 4);
	uint64_t ex = KH_HEAD(KH_EXEC, 0, 0, 0);
	sb_words(&s, &ex, 1);

	/* Byte by byte: records come out only when complete. */
	struct heap_stream d;
	struct heap_event ev;
	struct err e = ERR_INIT;
	unsigned types[16], n = 0;
	heap_stream_init(&d);
	for (size_t i = 0; i < s.b.len; i++) {
		heap_stream_feed(&d, s.b.buf + i, 1);
		int r;
		while ((r = heap_stream_next(&d, &ev, &e)) > 0) {
			assert_true(n < 16);
			types[n++] = ev.type;
			if (ev.type == KH_STACK) {
				assert_int_equal(ev.naddrs, 2);
				assert_int_equal(ev.addrs[1], 0x2000);
				assert_int_equal(ev.stack, 1);
				assert_int_equal(ev.kind, KH_CALLOC);
			}
			if (ev.type == KH_ALLOC) {
				assert_int_equal(ev.stack, 1);
				assert_true(ev.a == 16 || ev.a == 32);
			}
			if (ev.type == KH_FREE) {
				assert_int_equal(ev.stack, 1);
				assert_int_equal(ev.a, 16);
				assert_int_equal(ev.kind, KH_FREE_TEMPORARY);
			}
			if (ev.type == KH_MAPS) {
				assert_int_equal(ev.text_len, 13);
				assert_memory_equal(ev.text, "00400000-0040", 13);
				assert_int_equal(ev.kind, 1);
			}
		}
		assert_int_equal(r, 0);
	}
	assert_int_equal(n, 7);
	assert_int_equal(types[0], KH_CHUNK);
	assert_int_equal(types[6], KH_EXEC);
	assert_int_equal(heap_stream_header(&d)->pid, 42);
	assert_int_equal(heap_stream_pending(&d), 0);
	heap_stream_release(&d);

	/* Uneven pieces, drained after every other one: the same records. */
	for (size_t step = 2; step < 40; step += 7) {
		unsigned m = 0;
		heap_stream_init(&d);
		for (size_t i = 0, k = 0; i < s.b.len; i += step, k++) {
			size_t len = s.b.len - i < step ? s.b.len - i : step;
			heap_stream_feed(&d, s.b.buf + i, len);
			if (k % 2 && i + len < s.b.len)
				continue;
			int r;
			while ((r = heap_stream_next(&d, &ev, &e)) > 0) {
				assert_true(m < n);
				assert_int_equal(ev.type, types[m]);
				m++;
			}
			assert_int_equal(r, 0);
		}
		assert_int_equal(m, n);
		assert_int_equal(heap_stream_pending(&d), 0);
		heap_stream_release(&d);
	}

	/* Corruption: bad magic, unknown type, bad lengths. */
	heap_stream_init(&d);
	char junk[sizeof(struct kh_header)];
	memset(junk, '.', sizeof(junk));
	memcpy(junk, "NOTAHEAPSTREAM", 14);
	heap_stream_feed(&d, junk, sizeof(junk));
	assert_int_equal(heap_stream_next(&d, &ev, &e), -1);
	assert_non_null(strstr(e.msg, "bad magic"));
	assert_int_equal(heap_stream_next(&d, &ev, &e), -1);
	heap_stream_release(&d);

	const uint64_t bad[][4] = {
		{ KH_HEAD(99, 0, 0, 0) },
		{ KH_HEAD(KH_ALLOC, 0, 2, 0), 0 },
		{ KH_HEAD(KH_ALLOC, 77, 1, 0), 0 },
		{ KH_HEAD(KH_FREE, 2, 1, 0), 0 },
		{ KH_HEAD(KH_STACK, KH_KIND_NR, 1, 1), 0 },
		{ KH_HEAD(KH_MAPS, 0, 1, 0), 9 },
		{ KH_HEAD(KH_STACK, 0, KH_MAX_DEPTH + 1, 0) },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sb t;
		sb_init(&t, 1, 0);
		sb_words(&t, bad[i], 4);
		/* enough bytes for the long stack's length check */
		for (int k = 0; k < KH_MAX_DEPTH + 2; k++)
			sb_words(&t, (const uint64_t[]){ 0 }, 1);
		heap_stream_init(&d);
		heap_stream_feed(&d, t.b.buf, t.b.len);
		assert_int_equal(heap_stream_next(&d, &ev, &e), -1);
		heap_stream_release(&d);
		buf_release(&t.b);
	}
	buf_release(&s.b);
}

static struct heap_trace_stats last_stats; /* of the latest run() */

/* Runs streams through a trace and returns the profile (symbolized without maps: "[unknown]" frames). */
static struct profile *run(struct sb *streams, size_t n, bool byte_by_byte)
{
	struct heap_trace *t = heap_trace_new();
	struct symbolizer *sym = symbolizer_new();
	struct profile *p = profile_new(0);
	struct err e = ERR_INIT;
	heap_trace_set_time(t, 1000, 0, 5000);
	for (size_t i = 0; i < n; i++) {
		uint32_t h = heap_trace_open(t);
		if (byte_by_byte) {
			for (size_t k = 0; k < streams[i].b.len; k++)
				assert_int_equal(heap_trace_data(t, h, streams[i].b.buf + k, 1, &e), 0);
		} else {
			assert_int_equal(heap_trace_data(t, h, streams[i].b.buf, streams[i].b.len, &e), 0);
		}
		heap_trace_close(t, h);
	}
	assert_int_equal(heap_trace_finish(t, sym, p, &e), 0);
	last_stats = *heap_trace_stats(t);
	symbolizer_free(sym);
	heap_trace_free(t);
	return p;
}

static int64_t total(const struct profile *p, const char *col)
{
	int c = profile_find_column(p, col);
	assert_true(c >= 0);
	return profile_total(p, c);
}

/* The profile's columns, in heap_trace_finish()'s order: alloc, inuse (at exit), peak (objects, bytes), temporary. */
static void assert_columns(const struct profile *p, const int64_t want[7])
{
	static const char *const cols[7] = { "alloc_objects", "alloc_space", "inuse_objects", "inuse_space",
					     "peak_inuse_objects", "peak_inuse_space", "temporary_objects" };
	for (int i = 0; i < 7; i++)
		assert_int_equal(total(p, cols[i]), want[i]);
}

static void report_of(const struct profile *p, const char *supp, struct heap_report *r)
{
	struct heap_report_opts o = { .suppressions = supp };
	struct err e = ERR_INIT;
	assert_int_equal(heap_report_compute(p, &o, r, &e), 0);
}

static void test_accounting(void **state)
{
	(void)state;
	struct sb s;
	sb_init(&s, 1, 0);
	sb_chunk(&s, 1, 2000);
	sb_stack(&s, 1, 0x1000, 0x2000);
	sb_stack(&s, 2, 0x1100, 0x2000);
	sb_site(&s, 3, KH_REALLOC_KIND, 0x1000, 0x2000);
	sb_alloc(&s, 1, 100);         /* leaked */
	sb_alloc(&s, 2, 1000);        /* freed after the peak */
	sb_alloc(&s, 2, 50);          /* temporary */
	sb_free(&s, 2, 50, true);
	sb_alloc(&s, 2, 3000);        /* peak: 100 + 1000 + 3000; temporary */
	sb_free(&s, 2, 3000, true);
	sb_free(&s, 2, 1000, false);
	sb_alloc(&s, 1, 10);          /* realloc'd and leaked */
	sb_free(&s, 1, 10, false);
	uint64_t ra[2] = { KH_HEAD(KH_ALLOC, KH_REALLOC_KIND, 1, 3), 20 };
	sb_words(&s, ra, 2);
	sb_free(&s, 0, 999, false);   /* not a site: ignored */
	sb_free(&s, 9, 999, false);   /* a site never described: ignored */

	for (int bb = 0; bb < 2; bb++) {
		struct profile *p = run(&s, 1, bb);
		assert_columns(p, (const int64_t[7]){ 6, 100 + 1000 + 50 + 3000 + 10 + 20, 2, 120, 3, 4100, 2 });
		assert_int_equal(last_stats.unmatched_frees, 2);

		struct heap_report r;
		report_of(p, NULL, &r);
		assert_int_equal(r.peak_bytes, 4100);
		assert_int_equal(r.peak_time_ns, 1000);
		assert_int_equal(r.total_allocated_bytes, 4180);
		assert_int_equal(r.allocation_calls, 6);
		assert_int_equal(r.temporary_allocations, 2);
		assert_int_equal(r.leaked_bytes, 120);
		assert_int_equal(r.leaked_blocks, 2);
		assert_int_equal(r.hist[7], 1); /* 100 in [64, 128) */
		assert_int_equal(r.hist[6], 1); /* 50 in [32, 64) */
		/* Two leaking stacks (malloc and realloc leaves), both in "[unknown]" without maps. */
		assert_int_equal(r.leaks_nr, 2);
		heap_report_release(&r);
		profile_free(p);
	}
	buf_release(&s.b);
}

/*
 * A full trace's windows from three threads, in buffer order: the peak comes from a window's highest point
 * (and the sites' values there), a site described after another thread's window freed its blocks gets them.
 */
static void test_windows(void **state)
{
	(void)state;
	struct sb s;
	sb_init(&s, 1, 0);
	sb_chunk(&s, 1, 2000);
	/* distinct allocators: the sites stay apart in the profile (without maps every frame is "[unknown]") */
	sb_site(&s, 1, KH_MALLOC, 0x1000, 0x2000);
	sb_site(&s, 2, KH_CALLOC, 0x1100, 0x2000);
	/* thread 1: site 1 three blocks of 100 (kept); site 2 two of 1000, both freed, one live at the top */
	sb_window(&s, 2, 300, 3, 1300, 4, 5000);
	sb_wsite(&s, 1, 3, 300, 3, 300, 3, 300, 0);
	sb_wsite(&s, 2, 2, 2000, 0, 0, 1, 1000, 1);
	uint64_t hist[5] = { KH_HEAD(KH_HIST, 0, 4, 0), 7, 3, 10, 2 };
	sb_words(&s, hist, 5);
	/* thread 2: frees one block of site 1, then one of site 3, which thread 3 describes later */
	sb_chunk(&s, 2, 5500);
	sb_window(&s, 1, -100, -1, 0, 0, 5500);
	sb_wsite(&s, 1, 0, 0, -1, -100, 0, 0, 0);
	sb_window(&s, 1, -50, -1, 0, 0, 5600);
	sb_wsite(&s, 3, 0, 0, -1, -50, 0, 0, 0);
	sb_chunk(&s, 3, 5400);
	sb_site(&s, 3, KH_NEW, 0x1200, 0x2000);
	sb_window(&s, 1, 50, 1, 50, 1, 5400);
	sb_wsite(&s, 3, 1, 50, 1, 50, 1, 50, 0);
	/* thread 1 again: two blocks of 1200 at site 2 (the new peak: 200 + 2400), one freed after */
	sb_chunk(&s, 1, 6000);
	sb_window(&s, 1, 1200, 1, 2400, 2, 6000);
	sb_wsite(&s, 2, 2, 2400, 1, 1200, 2, 2400, 0);

	for (int bb = 0; bb < 2; bb++) {
		struct profile *p = run(&s, 1, bb);
		assert_columns(p, (const int64_t[7]){ 8, 300 + 2000 + 50 + 2400, 3, 200 + 1200, 4, 2600, 1 });
		assert_int_equal(last_stats.unmatched_frees, 0);
		struct heap_report r;
		report_of(p, NULL, &r);
		assert_int_equal(r.peak_bytes, 2600);
		assert_int_equal(r.peak_blocks, 4);
		assert_int_equal(r.peak_time_ns, 5000);
		assert_int_equal(r.leaked_bytes, 1400);
		assert_int_equal(r.hist[7], 3);
		assert_int_equal(r.hist[10], 2);
		/* the sites at the peak: 200 at site 1 (unchanged since), 2400 at site 2, nothing at site 3 */
		int c = profile_find_column(p, "peak_inuse_space");
		int64_t biggest = 0, sum = 0;
		for (size_t i = 0; i < p->rows_nr; i++) {
			int64_t v = profile_row_values(p, i)[c];
			assert_true(v == 0 || v == 200 || v == 2400);
			biggest = v > biggest ? v : biggest;
			sum += v;
		}
		assert_int_equal(biggest, 2400);
		assert_int_equal(sum, 2600);
		heap_report_release(&r);
		profile_free(p);
	}
	buf_release(&s.b);
}

/*
 * Threads whose buffers arrive out of order: thread 2 frees blocks of site 5 before thread 1's buffer, which
 * describes the site and allocates them, arrives. A forked child frees a block it inherited (a site below its
 * first_stack): its parent accounts for that block, the child does not.
 */
static void test_reorder(void **state)
{
	(void)state;
	struct sb s[2];
	sb_init(&s[0], 1, 0);
	sb_chunk(&s[0], 2, 10);
	sb_free(&s[0], 5, 64, false);
	sb_free(&s[0], 5, 64, false);
	sb_chunk(&s[0], 1, 10);
	sb_stack(&s[0], 5, 0x1000, 0x2000);
	sb_alloc(&s[0], 5, 64);
	sb_alloc(&s[0], 5, 64);
	sb_alloc(&s[0], 5, 64);       /* leaked */
	sb_init_from(&s[1], 2, 0, 10);
	sb_chunk(&s[1], 3, 20);
	sb_free(&s[1], 5, 64, false); /* the parent's block */
	sb_stack(&s[1], 10, 0x1000, 0x3000);
	sb_alloc(&s[1], 10, 7);       /* leaked */
	struct profile *p = run(s, 2, false);
	assert_int_equal(total(p, "inuse_objects"), 2);
	assert_int_equal(total(p, "inuse_space"), 71);
	assert_int_equal(total(p, "alloc_objects"), 4);
	assert_int_equal(last_stats.unmatched_frees, 1);
	profile_free(p);
	buf_release(&s[0].b);
	buf_release(&s[1].b);
}

static void test_sampled(void **state)
{
	(void)state;
	struct sb s;
	const uint64_t N = 1000;
	sb_init(&s, 1, N);
	sb_chunk(&s, 1, 10);
	sb_stack(&s, 1, 0x1000, 0x2000);
	sb_alloc(&s, 1, 100);
	sb_alloc(&s, 1, 100000);
	sb_free(&s, 1, 100000, false);
	uint64_t st[3] = { KH_HEAD(KH_STATS, 0, 2, 0), 12345, 678900 };
	sb_words(&s, st, 3);
	struct profile *p = run(&s, 1, false);
	double w = 1 / -expm1(-100.0 / N);
	assert_int_equal(total(p, "inuse_space"), llround(100 * w));
	assert_int_equal(total(p, "inuse_objects"), llround(w));
	struct heap_report r;
	report_of(p, NULL, &r);
	assert_true(r.sampled);
	assert_int_equal(r.sample_bytes, N);
	/* Exact totals come from the STATS records. */
	assert_int_equal(r.allocation_calls, 12345);
	assert_int_equal(r.total_allocated_bytes, 678900);
	heap_report_release(&r);
	profile_free(p);
	buf_release(&s.b);
}

/* The profile of one push window (heap_trace_window()), and its four columns' totals. */
static struct profile *window_of(struct heap_trace *t, struct symbolizer *sym, int64_t got[4])
{
	static const char *const cols[4] = { "alloc_objects", "alloc_space", "inuse_objects", "inuse_space" };
	struct profile *p = profile_new(0);
	struct err e = ERR_INIT;

	assert_int_equal(heap_trace_window(t, sym, p, &e), 0);
	assert_int_equal(p->ncolumns, 4);
	for (int i = 0; i < 4; i++)
		got[i] = total(p, cols[i]);
	return p;
}

/*
 * Windows for --push: alloc_* count the allocations since the last window only, inuse_* are what is live at
 * the window's end; a process that exits within a window shows what it left; streams stay open between.
 */
static void test_push_windows(void **state)
{
	struct heap_trace *t = heap_trace_new();
	struct symbolizer *sym = symbolizer_new();
	struct err e = ERR_INIT;
	struct sb a, b;
	int64_t got[4];
	uint32_t h;

	(void)state;
	sb_init(&a, 1, 0);
	sb_chunk(&a, 1, 10);
	sb_stack(&a, 1, 0x1000, 0x2000);
	sb_alloc(&a, 1, 100);
	sb_alloc(&a, 1, 300);
	h = heap_trace_open(t);
	assert_int_equal(heap_trace_data(t, h, a.b.buf, a.b.len, &e), 0);
	profile_free(window_of(t, sym, got));
	assert_int_equal(got[0], 2);
	assert_int_equal(got[1], 400);
	assert_int_equal(got[2], 2);
	assert_int_equal(got[3], 400);

	/* Window 2: one more allocation of 50 bytes, the 300-byte block freed. */
	sb_init(&b, 1, 0); /* only its records are fed: the stream goes on */
	size_t from = b.b.len;
	sb_alloc(&b, 1, 50);
	sb_free(&b, 1, 300, false);
	assert_int_equal(heap_trace_data(t, h, b.b.buf + from, b.b.len - from, &e), 0);
	profile_free(window_of(t, sym, got));
	assert_int_equal(got[0], 1);
	assert_int_equal(got[1], 50);
	assert_int_equal(got[2], 2);
	assert_int_equal(got[3], 150);

	/* Window 3: nothing happened; the heap is as it was. */
	struct profile *p = window_of(t, sym, got);
	assert_int_equal(got[0], 0);
	assert_int_equal(got[1], 0);
	assert_int_equal(got[3], 150);
	assert_string_equal(profile_str(p, p->period_type.type), "space");
	profile_free(p);

	/* Window 4: the process exits with its blocks: in use at its end, and nothing after. */
	heap_trace_close(t, h);
	profile_free(window_of(t, sym, got));
	assert_int_equal(got[3], 150);
	p = window_of(t, sym, got);
	assert_int_equal(got[3], 0);
	assert_int_equal(p->rows_nr, 0);
	profile_free(p);

	symbolizer_free(sym);
	heap_trace_free(t);
	buf_release(&a.b);
	buf_release(&b.b);
}

/* Forked children and exec'd images: an image replaced by exec leaks nothing. */
static void test_exec(void **state)
{
	(void)state;
	struct sb s[2];
	sb_init(&s[0], 1, 0);
	sb_chunk(&s[0], 1, 10);
	sb_stack(&s[0], 1, 0x1000, 0x2000);
	sb_alloc(&s[0], 1, 100);
	uint64_t ex = KH_HEAD(KH_EXEC, 0, 0, 0);
	sb_words(&s[0], &ex, 1);
	sb_init(&s[1], 1, 0);
	sb_chunk(&s[1], 1, 20);
	sb_stack(&s[1], 1, 0x1000, 0x2000);
	sb_alloc(&s[1], 1, 7);
	struct profile *p = run(s, 2, false);
	assert_int_equal(total(p, "inuse_space"), 7);
	assert_int_equal(total(p, "peak_inuse_space"), 100);
	profile_free(p);
	buf_release(&s[0].b);
	buf_release(&s[1].b);
}

static char *json_of(const struct profile *p, const struct heap_report *r)
{
	struct buf b = BUF_INIT;
	struct jw j;
	jw_init(&j, &b, false);
	heap_report_json(&j, p, r, 10);
	return buf_detach(&b, NULL);
}

/* The report from the pprof file equals the report from the live profile; suppressions apply. */
static void test_pprof_roundtrip(void **state)
{
	(void)state;
	struct sb s;
	sb_init(&s, 1, 0);
	sb_chunk(&s, 1, 2000);
	sb_stack(&s, 1, 0x1000, 0x2000);
	sb_alloc(&s, 1, 4096);
	sb_alloc(&s, 1, 1 << 20);
	sb_free(&s, 1, 1 << 20, false);
	struct profile *p = run(&s, 1, false);

	char path[] = "/tmp/kiln-test-heap-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	struct err e = ERR_INIT;
	struct format_write_opts wo = { -1 };
	assert_int_equal(profile_write_path(p, path, format_by_name("pprof"), &wo, &e), 0);
	struct profile *q = profile_new(0);
	assert_int_equal(profile_read_path(q, path, NULL, NULL, &e), 0);
	unlink(path);
	assert_true(heap_report_applies(q));

	struct heap_report r1, r2;
	report_of(p, NULL, &r1);
	report_of(q, NULL, &r2);
	char *j1 = json_of(p, &r1), *j2 = json_of(q, &r2);
	assert_string_equal(j1, j2);
	assert_non_null(strstr(j1, "\"leaked_bytes\":4096"));
	assert_non_null(strstr(j1, "\"peak_bytes\":1052672"));
	free(j1);
	free(j2);
	heap_report_release(&r1);
	heap_report_release(&r2);

	/* An LSan suppression file: "[unknown]" frames are matched by '*nknow*'. */
	char sp[] = "/tmp/kiln-test-supp-XXXXXX";
	fd = mkstemp(sp);
	assert_true(fd >= 0);
	const char *text = "# comment\nleak:*nknow*\n";
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	report_of(q, sp, &r1);
	assert_int_equal(r1.leaked_bytes, 0);
	assert_int_equal(r1.suppressed_bytes, 4096);
	heap_report_release(&r1);
	/* A bad line is an error naming the file and line. */
	fd = open(sp, O_WRONLY | O_TRUNC);
	text = "leak:ok\nwhat:ever\n";
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	struct heap_report_opts o = { .suppressions = sp };
	assert_int_equal(heap_report_compute(q, &o, &r1, &e), -1);
	assert_non_null(strstr(e.msg, "line 2"));
	heap_report_release(&r1);
	unlink(sp);

	/* Not a heap profile. */
	struct profile *cpu = profile_new(0);
	profile_add_column(cpu, "samples", "count");
	assert_false(heap_report_applies(cpu));
	assert_int_equal(heap_report_compute(cpu, NULL, &r1, &e), -1);
	heap_report_release(&r1);
	profile_free(cpu);
	profile_free(q);
	profile_free(p);
	buf_release(&s.b);
}

/* `kiln profile` hands over to the heap profiler only for --mode mem before the command. */
static void test_mode_dispatch(void **state)
{
	(void)state;
	struct {
		const char *args[8];
		int want;
	} cases[] = {
		{ { "profile", "--mode", "mem", "./p" }, 1 },
		{ { "profile", "--mode=mem", "./p" }, 1 },
		{ { "profile", "-o", "x.pb.gz", "--mode", "mem", "--", "./p" }, 1 },
		{ { "profile", "-F", "99", "--mode=mem", "./p" }, 1 },
		{ { "profile", "./p", "--mode", "mem" }, 0 },
		{ { "profile", "-q", "./p", "--mode", "mem" }, 0 },
		{ { "profile", "--", "--mode", "mem" }, 0 },
		{ { "profile", "--mode", "cpu", "./p" }, 0 },
		{ { "profile", "--mode", "offcpu", "./p" }, 0 },
		{ { "profile", "./p" }, 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int argc = 0;
		while (cases[i].args[argc])
			argc++;
		const char *mode = profile_mode_arg(argc, (char **)cases[i].args);

		assert_int_equal(mode && !strcmp(mode, "mem"), cases[i].want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_accounting),
		cmocka_unit_test(test_reorder),
		cmocka_unit_test(test_windows),
		cmocka_unit_test(test_sampled),
		cmocka_unit_test(test_push_windows),
		cmocka_unit_test(test_exec),
		cmocka_unit_test(test_pprof_roundtrip),
		cmocka_unit_test(test_mode_dispatch),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
