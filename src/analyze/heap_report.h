/*
 * The heap report of a memory profile (`kiln profile --mode mem`, `kiln analyze HEAP.pb.gz`): peak heap and
 * when it happened, totals, temporary allocations, leaks at exit with their stacks, top allocation sites by peak,
 * by leak and by calls, an allocation size histogram and LSan-format leak suppressions.
 *
 * Everything is computed from the profile alone, so a heap pprof file gives the same report as the live run:
 * the columns alloc_objects, alloc_space, inuse_objects, inuse_space (live at exit = leaks),
 * peak_inuse_objects, peak_inuse_space (live at the peak) and temporary_objects, plus the heap metadata
 * (profile/meta.h) for the scalars samples cannot carry (peak time, histogram, ...). Profiles without it (e.g. a
 * Go heap profile) get what the columns allow.
 */
#ifndef KILN_HEAP_REPORT_H
#define KILN_HEAP_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../profile/meta.h"

struct buf;
struct err;
struct jw;
struct profile;

/* One allocation site: a function (the frame nearest the allocator that is not an allocator) or one stack. */
struct heap_site {
	uint32_t function;  /* string id of the function name ("[unknown]" when unnamed) */
	uint32_t module;    /* string id of the module, 0 when unknown */
	uint32_t node;      /* leaks: the allocation stack's leaf node; sites: one representative node */
	uint32_t frame;     /* frame id of the allocating frame, UINT32_MAX when none */
	int64_t calls, bytes;         /* allocations and bytes allocated */
	int64_t peak_bytes, peak_blocks; /* live at the peak */
	int64_t leak_bytes, leak_blocks; /* live at exit */
	int64_t temporary;
	bool suppressed;    /* leaks only: matched a suppression of the user's */
	/* leaks only: a one-time allocation of the C library or the dynamic loader (NSS, gconv, locale, TLS,
	 * dlopen), kept until exit by design: valgrind's "still reachable", heaptrack's built-in suppressions */
	bool runtime;
};


struct heap_report {
	bool has_peak, has_leaks, has_temporary, has_histogram, has_time;
	bool sampled;                   /* values are estimates from --sample-bytes sampling */
	int64_t sample_bytes;           /* mean sampling interval, 0 for a full trace */
	int64_t peak_bytes, peak_blocks;
	int64_t peak_time_ns;           /* since the start, -1 when unknown */
	int64_t duration_ns;            /* 0 when unknown */
	int64_t total_allocated_bytes;
	int64_t allocation_calls;
	int64_t temporary_allocations;
	int64_t leaked_bytes, leaked_blocks;       /* not counting suppressed leaks */
	int64_t suppressed_bytes, suppressed_blocks;
	int64_t runtime_bytes, runtime_blocks;     /* still reachable: the C runtime's one-time allocations */
	/* Leak stacks that stop before main or a thread start (not at the --depth limit): a frame pointer chain
	 * broken by code built without them; `short_module` is where most of them stop (string id, 0: unknown). */
	size_t short_stacks, leak_stacks;
	uint32_t short_module;
	int64_t processes;
	int64_t hist[HEAP_HIST_BUCKETS];

	/* Owned by the report (heap_report_release()). */
	struct heap_site *leaks;  /* one per leaking stack, biggest first (suppressed ones included, flagged) */
	size_t leaks_nr;
	struct heap_site *sites;  /* one per allocating function */
	size_t sites_nr;
	const char **supp;        /* suppression patterns (copies): the built-in ones, then the file's */
	size_t supp_nr, supp_alloc_;
	size_t default_supp_nr;   /* how many of them are built in (the C runtime's one-time allocations) */
};

struct heap_report_opts {
	size_t top;                /* sites per top list in the text report (default 10) */
	const char *suppressions;  /* an LSan suppressions file ("leak:PATTERN" lines), NULL for none */
};

/* True when the profile has heap columns (alloc_space or inuse_space). */
bool heap_report_applies(const struct profile *p);

/*
 * Computes the report of `p` into `r` (which is zeroed first). `o` may be NULL for the defaults. Returns 0, or
 * -1 with `e` set (not a heap profile, an unreadable suppressions file). Release `r` in both cases.
 */
int heap_report_compute(const struct profile *p, const struct heap_report_opts *o, struct heap_report *r,
			struct err *e);
void heap_report_release(struct heap_report *r);

/* The stack of a leak or site from the root to its allocating frame into `stack`; returns its depth. */
size_t heap_site_stack(const struct profile *p, const struct heap_site *l, uint32_t *stack, size_t max);

/* The text report, appended to `out` (heap_report_text.c). `top` sites per list (0 = 10). */
void heap_report_format_text(struct buf *out, const struct profile *p, const struct heap_report *r, size_t top);
/*
 * The report as one JSON object: peak_bytes, peak_time_ns, total_allocated_bytes, allocation_calls,
 * temporary_allocations, leaked_bytes, leaked_blocks, leaks [{function, module, bytes, blocks, stack,
 * suppressed}], top_by_peak / top_by_leak / top_by_calls [{function, module, bytes, calls, peak_bytes,
 * leaked_bytes}], histogram [{min, max, count}], suppressions ["leak:..."].
 */
void heap_report_json(struct jw *j, const struct profile *p, const struct heap_report *r, size_t top);
/* The same members without the enclosing braces, to merge them into a caller's object (e.g. at the top level
 * of `kiln analyze --json`, where the keys peak_bytes, leaks, ... are expected). */
void heap_report_json_fields(struct jw *j, const struct profile *p, const struct heap_report *r, size_t top);

#endif
