/* The heap report's documents: text and JSON, built from a computed report (heap_report.h). */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/buf.h"
#include "../core/json.h"
#include "../core/util.h"
#include "../core/xalloc.h"
#include "../profile/profile.h"
#include "heap_report.h"

#define MAX_STACK 4096

/*
 * Sorting: by a field, biggest first, ties by function name then node, so output is deterministic. The field and
 * profile travel with qsort_r(), not in globals: a server builds reports on several threads.
 */
struct sort_ctx {
	const struct profile *p;
	size_t field;
};

static int64_t field(const struct heap_site *s, size_t off)
{
	return *(const int64_t *)(const void *)((const char *)s + off);
}

static int site_cmp(const void *a, const void *b, void *arg)
{
	const struct sort_ctx *ctx = arg;
	const struct heap_site *x = a, *y = b;
	int64_t fx = field(x, ctx->field), fy = field(y, ctx->field);
	if (fx != fy)
		return fx < fy ? 1 : -1;
	int c = strcmp(profile_str(ctx->p, x->function), profile_str(ctx->p, y->function));
	if (c)
		return c;
	return (x->node > y->node) - (x->node < y->node);
}

/* A sorted copy of the sites with field > 0; the caller frees it. */
static struct heap_site *sorted(const struct profile *p, const struct heap_site *v, size_t n, size_t off,
				size_t *out_n)
{
	struct heap_site *c = xmalloc((n + 1) * sizeof(*c));
	struct sort_ctx ctx = { p, off };
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (field(&v[i], off) > 0)
			c[k++] = v[i];
	qsort_r(c, k, sizeof(*c), site_cmp, &ctx);
	*out_n = k;
	return c;
}

static const char *basename_of(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

static void frame_text(const struct profile *p, uint32_t fid, struct buf *b)
{
	const struct frame *f = &p->frames[fid];
	buf_adds(b, f->function ? profile_str(p, f->function) : "[unknown]");
	if (f->file) {
		buf_addf(b, " (%s", basename_of(profile_str(p, f->file)));
		if (f->line)
			buf_addf(b, ":%" PRIu32, f->line);
		buf_addch(b, ')');
	} else if (f->module) {
		buf_addf(b, " (%s)", basename_of(profile_str(p, f->module)));
	}
}

static const char *pct(char *out, int64_t part, int64_t whole)
{
	if (whole > 0)
		snprintf(out, 32, "%.1f%%", 100.0 * (double)part / (double)whole);
	else
		snprintf(out, 32, "-");
	return out;
}

static void format_top(struct buf *out, const struct profile *p, const struct heap_report *r, size_t top,
		      const char *title, size_t off)
{
	size_t n;
	struct heap_site *v = sorted(p, r->sites, r->sites_nr, off, &n);
	if (n) {
		char a[32], b[32], c[32];
		buf_addf(out, "%s:\n  %10s %14s %10s %10s  %s\n", title, "peak", "allocated", "calls", "leaked",
			"function");
		for (size_t i = 0; i < n && i < top; i++) {
			const struct heap_site *s = &v[i];
			buf_addf(out, "  %10s %14s %10s %10s  %s", fmt_bytes(a, (double)s->peak_bytes),
				fmt_bytes(b, (double)s->bytes), fmt_count(c, (uint64_t)s->calls),
				fmt_bytes((char[32]){ 0 }, (double)s->leak_bytes), profile_str(p, s->function));
			if (s->module)
				buf_addf(out, " (%s)", basename_of(profile_str(p, s->module)));
			buf_addch(out, '\n');
		}
	}
	free(v);
}

static void hist_range(unsigned b, char *lo, char *hi)
{
	if (b == 0) {
		strcpy(lo, "0");
		strcpy(hi, "0");
		return;
	}
	uint64_t l = (uint64_t)1 << (b - 1), h = b >= 64 ? UINT64_MAX : ((uint64_t)1 << b) - 1;
	fmt_bytes(lo, (double)l);
	fmt_bytes(hi, (double)h);
}

/* True when v[i] is a counted leak whose function no earlier counted leak has: one suppression per function. */
static bool first_leak_of(const struct heap_site *v, size_t i)
{
	if (v[i].suppressed || v[i].runtime)
		return false;
	for (size_t k = 0; k < i; k++)
		if (!v[k].suppressed && !v[k].runtime && v[k].function == v[i].function)
			return false;
	return true;
}

void heap_report_format_text(struct buf *out, const struct profile *p, const struct heap_report *r, size_t top)
{
	char a[32], b[32], c[32];
	struct buf line = BUF_INIT;
	uint32_t *stack = xmalloc(MAX_STACK * sizeof(*stack));
	if (!top)
		top = 10;

	buf_adds(out, "Heap profile");
	if (r->processes > 1)
		buf_addf(out, " of %" PRId64 " processes", r->processes);
	if (r->duration_ns > 0)
		buf_addf(out, ", %s", fmt_ns(a, (double)r->duration_ns));
	if (r->sampled)
		buf_addf(out, " (sampled every %s on average: estimates)", fmt_bytes(b, (double)r->sample_bytes));
	buf_adds(out, "\n");
	if (r->has_peak) {
		buf_addf(out, "  peak heap:             %s (%s bytes) in %s block%s", fmt_bytes(a, (double)r->peak_bytes),
			fmt_count(b, (uint64_t)r->peak_bytes), fmt_count(c, (uint64_t)r->peak_blocks),
			r->peak_blocks == 1 ? "" : "s");
		if (r->has_time && r->peak_time_ns >= 0)
			buf_addf(out, " at %s", fmt_ns(a, (double)r->peak_time_ns));
		buf_addch(out, '\n');
	}
	buf_addf(out, "  total allocated:       %s (%s bytes) in %s calls\n",
		fmt_bytes(a, (double)r->total_allocated_bytes), fmt_count(b, (uint64_t)r->total_allocated_bytes),
		fmt_count(c, (uint64_t)r->allocation_calls));
	if (r->has_temporary)
		buf_addf(out, "  temporary allocations: %s (%s of calls)\n",
			fmt_count(a, (uint64_t)r->temporary_allocations),
			pct(b, r->temporary_allocations, r->allocation_calls));
	if (r->has_leaks) {
		buf_addf(out, "  leaked at exit:        %s (%s bytes) in %s block%s", fmt_bytes(a, (double)r->leaked_bytes),
			fmt_count(b, (uint64_t)r->leaked_bytes), fmt_count(c, (uint64_t)r->leaked_blocks),
			r->leaked_blocks == 1 ? "" : "s");
		if (r->suppressed_blocks)
			buf_addf(out, "; %s bytes in %s block%s suppressed", fmt_count(a, (uint64_t)r->suppressed_bytes),
				fmt_count(b, (uint64_t)r->suppressed_blocks), r->suppressed_blocks == 1 ? "" : "s");
		buf_addch(out, '\n');
		if (r->runtime_blocks)
			buf_addf(out, "  still reachable:       %s (%s bytes) in %s block%s: the C library's and loader's "
				 "one-time allocations (stdio, locale, NSS, gconv, TLS, dlopen), not leaks\n",
				 fmt_bytes(a, (double)r->runtime_bytes), fmt_count(b, (uint64_t)r->runtime_bytes),
				 fmt_count(c, (uint64_t)r->runtime_blocks), r->runtime_blocks == 1 ? "" : "s");
	}
	if (r->short_stacks) {
		const char *m = r->short_module ? profile_str(p, r->short_module) : "[unknown]";

		buf_addf(out, "  warning: %zu of %zu leak stacks stop before main or a thread start, most in %s: code "
			 "built without frame pointers ends the stack walk there, so their callers are missing\n",
			 r->short_stacks, r->leak_stacks, strrchr(m, '/') ? strrchr(m, '/') + 1 : m);
	}

	size_t n;
	struct heap_site *v = sorted(p, r->leaks, r->leaks_nr, offsetof(struct heap_site, leak_bytes), &n);
	size_t shown = 0;
	for (size_t i = 0; i < n; i++) {
		const struct heap_site *l = &v[i];
		if (l->suppressed || l->runtime)
			continue;
		if (!shown++)
			buf_adds(out, "\nLeaks (not freed at exit), biggest first:\n");
		buf_addf(out, "  %s bytes in %s block%s allocated in %s\n", fmt_count(a, (uint64_t)l->leak_bytes),
			fmt_count(b, (uint64_t)l->leak_blocks), l->leak_blocks == 1 ? "" : "s",
			profile_str(p, l->function));
		size_t depth = heap_site_stack(p, l, stack, MAX_STACK);
		for (size_t k = depth; k-- > 0;) {
			buf_reset(&line);
			frame_text(p, stack[k], &line);
			buf_addf(out, "      %s\n", line.buf);
		}
	}

	if (r->has_peak) {
		buf_addch(out, '\n');
		format_top(out, p, r, top, "Top allocation sites by peak heap", offsetof(struct heap_site, peak_bytes));
	}
	if (r->has_leaks && r->leaked_bytes) {
		buf_addch(out, '\n');
		format_top(out, p, r, top, "Top allocation sites by leaks", offsetof(struct heap_site, leak_bytes));
	}
	buf_addch(out, '\n');
	format_top(out, p, r, top, "Top allocation sites by calls", offsetof(struct heap_site, calls));

	if (r->has_histogram) {
		int64_t max = 0;
		for (unsigned i = 0; i < HEAP_HIST_BUCKETS; i++)
			max = r->hist[i] > max ? r->hist[i] : max;
		buf_adds(out, "\nAllocation sizes:\n");
		for (unsigned i = 0; i < HEAP_HIST_BUCKETS; i++) {
			if (!r->hist[i])
				continue;
			char lo[32], hi[32];
			hist_range(i, lo, hi);
			int bar = max ? (int)(40.0 * (double)r->hist[i] / (double)max + 0.5) : 0;
			buf_addf(out, "  %10s - %-10s %14s  %.*s\n", lo, hi, fmt_count(a, (uint64_t)r->hist[i]),
				bar ? bar : 1, "########################################");
		}
	}
	if (shown) {
		buf_adds(out, "\nSuppressions for these leaks (LSan format, for --suppressions FILE):\n");
		for (size_t i = 0, k = 0; i < n && k < top; i++)
			if (first_leak_of(v, i)) {
				buf_addf(out, "  leak:%s\n", profile_str(p, v[i].function));
				k++;
			}
	}
	free(v);
	free(stack);
	buf_release(&line);
}

static void json_site(struct jw *j, const struct profile *p, const struct heap_site *s)
{
	jw_object_begin(j);
	jw_kv_str(j, "function", profile_str(p, s->function));
	jw_kv_str(j, "module", s->module ? profile_str(p, s->module) : "");
	jw_kv_i64(j, "bytes", s->bytes);
	jw_kv_i64(j, "calls", s->calls);
	jw_kv_i64(j, "peak_bytes", s->peak_bytes);
	jw_kv_i64(j, "peak_blocks", s->peak_blocks);
	jw_kv_i64(j, "leaked_bytes", s->leak_bytes);
	jw_kv_i64(j, "leaked_blocks", s->leak_blocks);
	jw_kv_i64(j, "temporary", s->temporary);
	jw_object_end(j);
}

static void json_top(struct jw *j, const struct profile *p, const struct heap_report *r, const char *key,
		     size_t off, size_t top)
{
	size_t n;
	struct heap_site *v = sorted(p, r->sites, r->sites_nr, off, &n);
	jw_key(j, key);
	jw_array_begin(j);
	for (size_t i = 0; i < n && i < top; i++)
		json_site(j, p, &v[i]);
	jw_array_end(j);
	free(v);
}

void heap_report_json(struct jw *j, const struct profile *p, const struct heap_report *r, size_t top)
{
	jw_object_begin(j);
	heap_report_json_fields(j, p, r, top);
	jw_object_end(j);
}

void heap_report_json_fields(struct jw *j, const struct profile *p, const struct heap_report *r, size_t top)
{
	struct buf line = BUF_INIT;
	uint32_t *stack = xmalloc(MAX_STACK * sizeof(*stack));
	if (!top)
		top = 10;
	jw_kv_str(j, "type", "heap");
	jw_kv_bool(j, "sampled", r->sampled);
	jw_kv_i64(j, "sample_bytes", r->sample_bytes);
	jw_kv_i64(j, "processes", r->processes);
	jw_kv_i64(j, "duration_ns", r->duration_ns);
	jw_kv_i64(j, "peak_bytes", r->peak_bytes);
	jw_kv_i64(j, "peak_blocks", r->peak_blocks);
	if (r->has_time)
		jw_kv_i64(j, "peak_time_ns", r->peak_time_ns);
	else
		jw_kv_null(j, "peak_time_ns");
	jw_kv_i64(j, "total_allocated_bytes", r->total_allocated_bytes);
	jw_kv_i64(j, "allocation_calls", r->allocation_calls);
	jw_kv_i64(j, "temporary_allocations", r->temporary_allocations);
	jw_kv_i64(j, "leaked_bytes", r->leaked_bytes);
	jw_kv_i64(j, "leaked_blocks", r->leaked_blocks);
	jw_kv_i64(j, "suppressed_bytes", r->suppressed_bytes);
	jw_kv_i64(j, "suppressed_blocks", r->suppressed_blocks);
	jw_kv_i64(j, "still_reachable_bytes", r->runtime_bytes);
	jw_kv_i64(j, "still_reachable_blocks", r->runtime_blocks);
	jw_kv_u64(j, "short_leak_stacks", r->short_stacks);
	jw_kv_str(j, "short_stacks_module", r->short_module ? profile_str(p, r->short_module) : "");

	size_t n;
	struct heap_site *v = sorted(p, r->leaks, r->leaks_nr, offsetof(struct heap_site, leak_bytes), &n);
	jw_key(j, "leaks");
	jw_array_begin(j);
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < n; i++) {
			const struct heap_site *l = &v[i];
			if ((l->suppressed || l->runtime) != (pass == 1))
				continue;
			jw_object_begin(j);
			jw_kv_str(j, "function", profile_str(p, l->function));
			jw_kv_str(j, "module", l->module ? profile_str(p, l->module) : "");
			jw_kv_i64(j, "bytes", l->leak_bytes);
			jw_kv_i64(j, "blocks", l->leak_blocks);
			/* "suppressed": not counted as a leak; "kind" says why (valgrind's "still reachable"). */
			jw_kv_bool(j, "suppressed", l->suppressed || l->runtime);
			jw_kv_str(j, "kind", l->runtime ? "still_reachable" : l->suppressed ? "suppressed" : "leak");
			jw_key(j, "stack");
			jw_array_begin(j);
			size_t depth = heap_site_stack(p, l, stack, MAX_STACK);
			for (size_t k = depth; k-- > 0;) {
				const struct frame *f = &p->frames[stack[k]];
				jw_string(j, f->function ? profile_str(p, f->function) : "[unknown]");
			}
			jw_array_end(j);
			jw_key(j, "frames");
			jw_array_begin(j);
			for (size_t k = depth; k-- > 0;) {
				buf_reset(&line);
				frame_text(p, stack[k], &line);
				jw_string(j, line.buf);
			}
			jw_array_end(j);
			jw_object_end(j);
		}
	jw_array_end(j);

	json_top(j, p, r, "top_by_peak", offsetof(struct heap_site, peak_bytes), top);
	json_top(j, p, r, "top_by_leak", offsetof(struct heap_site, leak_bytes), top);
	json_top(j, p, r, "top_by_calls", offsetof(struct heap_site, calls), top);

	jw_key(j, "histogram");
	jw_array_begin(j);
	for (unsigned i = 0; i < HEAP_HIST_BUCKETS; i++) {
		if (!r->hist[i])
			continue;
		jw_object_begin(j);
		jw_kv_u64(j, "min", i ? (uint64_t)1 << (i - 1) : 0);
		jw_kv_u64(j, "max", i ? ((uint64_t)1 << i) - 1 : 0);
		jw_kv_i64(j, "count", r->hist[i]);
		jw_object_end(j);
	}
	jw_array_end(j);

	jw_key(j, "suppressions");
	jw_array_begin(j);
	for (size_t i = 0; i < n; i++)
		if (first_leak_of(v, i)) {
			buf_reset(&line);
			buf_addf(&line, "leak:%s", profile_str(p, v[i].function));
			jw_string(j, line.buf);
		}
	jw_array_end(j);
	free(v);
	free(stack);
	buf_release(&line);
}
