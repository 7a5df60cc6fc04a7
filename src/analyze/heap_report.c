/* The heap report: peak, totals, leaks with stacks, top sites, size histogram, suppressions (heap_report.h). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "../core/array.h"
#include "../core/buf.h"
#include "../core/err.h"
#include "../core/hash.h"
#include "../core/json.h"
#include "../core/util.h"
#include "../core/xalloc.h"
#include "../profile/profile.h"
#include "heap_report.h"

#define MAX_STACK 4096

enum { C_AOBJ, C_ASPACE, C_IOBJ, C_ISPACE, C_POBJ, C_PSPACE, C_TEMP, C_NR };

static const char *const col_names[C_NR] = {
	"alloc_objects", "alloc_space", "inuse_objects", "inuse_space",
	"peak_inuse_objects", "peak_inuse_space", "temporary_objects",
};

/* Leaks nobody can fix in the program: buffers the C runtime keeps until exit. */
static const char *const default_supp[] = {
	"^_IO_file_doallocate$", "^_dl_", "^__libc_setlocale", "^_nl_", "^__new_exitfn$", "^__cxa_thread_atexit",
	"pool::pool", "^__fopen_internal$", "^allocate_dtv$", "/ld-linux-",
};

bool heap_report_applies(const struct profile *p)
{
	return profile_find_column(p, "alloc_space") >= 0 || profile_find_column(p, "inuse_space") >= 0;
}

/* The allocator itself, in C, C++ and Go profiles: never "the function that allocated". */
static bool is_allocator(const char *fn)
{
	static const char *const names[] = {
		"malloc", "calloc", "realloc", "reallocarray", "aligned_alloc", "posix_memalign", "memalign",
		"valloc", "pvalloc", "__libc_malloc", "__libc_calloc", "__libc_realloc", "__libc_memalign",
		"_Znwm", "_Znam", "runtime.mallocgc", "runtime.newobject", "runtime.makeslice", "runtime.growslice",
		"runtime.makemap", "runtime.makemap_small", "runtime.newarray", "runtime.rawstring",
		"runtime.rawbyteslice", "runtime.rawstringtmp",
	};
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (!strcmp(fn, names[i]))
			return true;
	return !strncmp(fn, "operator new", 12) || !strncmp(fn, "_ZnwmSt", 7) || !strncmp(fn, "_ZnamSt", 7) ||
	       !strncmp(fn, "_ZnwmRK", 7) || !strncmp(fn, "_ZnamRK", 7);
}

static bool frame_is_allocator(const struct profile *p, uint32_t fid)
{
	const struct frame *f = &p->frames[fid];
	if (f->module) {
		const char *m = profile_str(p, f->module), *slash = strrchr(m, '/');
		if (!strcmp(slash ? slash + 1 : m, "libkiln-heap.so"))
			return true;
	}
	return f->function && is_allocator(profile_str(p, f->function));
}

/* LSan's template match: '*' matches anything, '^' and '$' anchor, otherwise a substring. Matches a prefix
 * of `s` (the caller tries every start unless anchored). */
static bool glob(const char *t, const char *s)
{
	for (;;) {
		if (!*t)
			return true;
		if (*t == '$' && !t[1])
			return !*s;
		if (*t == '*') {
			t++;
			for (;; s++) {
				if (glob(t, s))
					return true;
				if (!*s)
					return false;
			}
		}
		if (*s != *t)
			return false;
		t++;
		s++;
	}
}

static bool templ_match(const char *templ, const char *s)
{
	if (!s || !*s)
		return false;
	if (templ[0] == '^')
		return glob(templ + 1, s);
	for (const char *p = s; *p; p++)
		if (glob(templ, p))
			return true;
	return false;
}

static bool supp_match(const struct profile *p, const char *const *supp, size_t n, const uint32_t *stack,
		       size_t depth)
{
	for (size_t k = 0; k < n; k++)
		for (size_t i = 0; i < depth; i++) {
			const struct frame *f = &p->frames[stack[i]];
			if ((f->function && templ_match(supp[k], profile_str(p, f->function))) ||
			    (f->module && templ_match(supp[k], profile_str(p, f->module))) ||
			    (f->file && templ_match(supp[k], profile_str(p, f->file))))
				return true;
		}
	return false;
}

static int load_suppressions(struct heap_report *r, const char *path, struct err *e)
{
	struct buf b = BUF_INIT;
	if (buf_read_file(&b, path, e) < 0) {
		buf_release(&b);
		return -1;
	}
	size_t lineno = 0;
	for (char *line = b.buf, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		while (*line == ' ' || *line == '\t')
			line++;
		size_t len = strlen(line);
		while (len && (line[len - 1] == ' ' || line[len - 1] == '\t' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (!len || *line == '#')
			continue;
		if (strncmp(line, "leak:", 5) || !line[5]) {
			err_set(e, "bad suppression in '%s' line %zu: expected 'leak:PATTERN', got '%s'", path, lineno,
				line);
			buf_release(&b);
			return -1;
		}
		ALLOC_GROW(r->supp, r->supp_nr + 1, r->supp_alloc_);
		r->supp[r->supp_nr++] = xstrdup(line + 5);
	}
	buf_release(&b);
	return 0;
}

/* Comments "kiln-heap: KEY=VALUE". */
static const char *comment_value(const struct profile *p, const char *key)
{
	size_t kl = strlen(key);
	for (size_t i = p->comments_nr; i-- > 0;) {
		const char *c = profile_str(p, p->comments[i]);
		if (strncmp(c, "kiln-heap: ", 11))
			continue;
		c += 11;
		if (!strncmp(c, key, kl) && c[kl] == '=')
			return c + kl + 1;
	}
	return NULL;
}

static bool comment_num(const struct profile *p, const char *key, int64_t *out)
{
	const char *v = comment_value(p, key);
	if (!v)
		return false;
	char *end;
	long long x = strtoll(v, &end, 10);
	if (end == v)
		return false;
	*out = x;
	return true;
}

static void parse_hist(struct heap_report *r, const char *v)
{
	while (v && *v) {
		char *end;
		unsigned long b = strtoul(v, &end, 10);
		if (*end != ':')
			return;
		long long c = strtoll(end + 1, &end, 10);
		if (b < HEAP_HIST_BUCKETS && c > 0)
			r->hist[b] = sat_add64(r->hist[b], c);
		r->has_histogram = true;
		if (*end != ',')
			return;
		v = end + 1;
	}
}

/* The allocating frame of a stack given root to leaf: the leaf-most frame that is not an allocator. */
static size_t alloc_frame(const struct profile *p, const uint32_t *stack, size_t depth)
{
	for (size_t i = depth; i-- > 0;)
		if (!frame_is_allocator(p, stack[i]))
			return i;
	return depth ? depth - 1 : SIZE_MAX;
}

static uint32_t unknown_id(const struct profile *p)
{
	int64_t id = strtab_find(&p->strings, "[unknown]", 9);
	return id < 0 ? 0 : (uint32_t)id;
}

int heap_report_compute(const struct profile *p, const struct heap_report_opts *o, struct heap_report *r,
			struct err *e)
{
	memset(r, 0, sizeof(*r));
	r->peak_time_ns = -1;
	if (!heap_report_applies(p))
		return err_set(e, "not a heap profile: no alloc_space or inuse_space column");
	for (size_t i = 0; i < ARRAY_SIZE(default_supp); i++) {
		ALLOC_GROW(r->supp, r->supp_nr + 1, r->supp_alloc_);
		r->supp[r->supp_nr++] = xstrdup(default_supp[i]);
	}
	r->default_supp_nr = r->supp_nr;
	if (o && o->suppressions && load_suppressions(r, o->suppressions, e) < 0)
		return -1;

	int col[C_NR];
	for (int c = 0; c < C_NR; c++)
		col[c] = profile_find_column(p, col_names[c]);
	r->has_leaks = col[C_ISPACE] >= 0;
	r->has_peak = col[C_PSPACE] >= 0;
	r->has_temporary = col[C_TEMP] >= 0;

	uint32_t *stack = xmalloc(MAX_STACK * sizeof(*stack));
	struct u64map leak_index = U64MAP_INIT, site_index = U64MAP_INIT;
	size_t leaks_alloc = 0, sites_alloc = 0;
	int64_t sum[C_NR] = { 0 };
	uint32_t unknown = unknown_id(p);

	for (size_t row = 0; row < p->rows_nr; row++) {
		const int64_t *v = profile_row_values(p, row);
		int64_t x[C_NR];
		for (int c = 0; c < C_NR; c++) {
			x[c] = col[c] >= 0 ? v[col[c]] : 0;
			sum[c] = sat_add64(sum[c], x[c]);
		}
		uint32_t node = p->rows[row].node;
		size_t depth = profile_stack(p, node, stack, MAX_STACK);
		size_t af = alloc_frame(p, stack, depth);
		const struct frame *f = af != SIZE_MAX ? &p->frames[stack[af]] : NULL;
		uint32_t fn = f && f->function ? f->function : unknown;
		uint32_t mod = f ? f->module : 0;

		int inserted;
		uint64_t *slot = u64map_insert(&site_index, (uint64_t)fn << 32 | mod, &inserted);
		if (inserted) {
			ALLOC_GROW(r->sites, r->sites_nr + 1, sites_alloc);
			r->sites[r->sites_nr] = (struct heap_site){ .function = fn, .module = mod, .node = node,
								     .frame = f ? stack[af] : UINT32_MAX };
			*slot = r->sites_nr++;
		}
		struct heap_site *s = &r->sites[*slot];
		s->calls = sat_add64(s->calls, x[C_AOBJ]);
		s->bytes = sat_add64(s->bytes, x[C_ASPACE]);
		s->peak_blocks = sat_add64(s->peak_blocks, x[C_POBJ]);
		s->peak_bytes = sat_add64(s->peak_bytes, x[C_PSPACE]);
		s->temporary = sat_add64(s->temporary, x[C_TEMP]);

		if (x[C_ISPACE] <= 0 && x[C_IOBJ] <= 0)
			continue;
		bool suppressed = supp_match(p, (const char *const *)r->supp, r->supp_nr, stack,
					     af == SIZE_MAX ? depth : af + 1);
		if (!suppressed) {
			s->leak_blocks = sat_add64(s->leak_blocks, x[C_IOBJ]);
			s->leak_bytes = sat_add64(s->leak_bytes, x[C_ISPACE]);
		}
		slot = u64map_insert(&leak_index, node, &inserted);
		if (inserted) {
			ALLOC_GROW(r->leaks, r->leaks_nr + 1, leaks_alloc);
			r->leaks[r->leaks_nr] = (struct heap_site){ .function = fn, .module = mod, .node = node,
								     .frame = f ? stack[af] : UINT32_MAX };
			r->leaks[r->leaks_nr].suppressed = suppressed;
			*slot = r->leaks_nr++;
		}
		struct heap_site *l = &r->leaks[*slot];
		l->leak_blocks = sat_add64(l->leak_blocks, x[C_IOBJ]);
		l->leak_bytes = sat_add64(l->leak_bytes, x[C_ISPACE]);
		l->bytes = sat_add64(l->bytes, x[C_ASPACE]);
		l->calls = sat_add64(l->calls, x[C_AOBJ]);
	}
	free(stack);
	u64map_release(&leak_index);
	u64map_release(&site_index);

	/* Scalars: from the comments when present (exact), else from the columns. */
	r->total_allocated_bytes = sum[C_ASPACE];
	r->allocation_calls = sum[C_AOBJ];
	r->temporary_allocations = sum[C_TEMP];
	r->peak_bytes = sum[C_PSPACE];
	r->peak_blocks = sum[C_POBJ];
	comment_num(p, "total_allocated_bytes", &r->total_allocated_bytes);
	comment_num(p, "allocation_calls", &r->allocation_calls);
	if (comment_num(p, "temporary_allocations", &r->temporary_allocations))
		r->has_temporary = true;
	if (comment_num(p, "peak_bytes", &r->peak_bytes))
		r->has_peak = true;
	comment_num(p, "peak_blocks", &r->peak_blocks);
	r->has_time = comment_num(p, "peak_time_ns", &r->peak_time_ns);
	comment_num(p, "sample_bytes", &r->sample_bytes);
	comment_num(p, "processes", &r->processes);
	r->sampled = r->sample_bytes > 0;
	r->duration_ns = p->duration_nanos;
	parse_hist(r, comment_value(p, "histogram"));

	for (size_t i = 0; i < r->leaks_nr; i++) {
		const struct heap_site *l = &r->leaks[i];
		if (l->suppressed) {
			r->suppressed_bytes = sat_add64(r->suppressed_bytes, l->leak_bytes);
			r->suppressed_blocks = sat_add64(r->suppressed_blocks, l->leak_blocks);
		} else {
			r->leaked_bytes = sat_add64(r->leaked_bytes, l->leak_bytes);
			r->leaked_blocks = sat_add64(r->leaked_blocks, l->leak_blocks);
		}
	}
	return 0;
}

void heap_report_release(struct heap_report *r)
{
	free(r->leaks);
	free(r->sites);
	for (size_t i = 0; i < r->supp_nr; i++)
		free((char *)r->supp[i]);
	free(r->supp);
	memset(r, 0, sizeof(*r));
}

/* Sorting: by a field, biggest first, ties by function name then node, so output is deterministic. */
static const struct profile *sort_p;
static size_t sort_field;

static int64_t field(const struct heap_site *s)
{
	return *(const int64_t *)(const void *)((const char *)s + sort_field);
}

static int site_cmp(const void *a, const void *b)
{
	const struct heap_site *x = a, *y = b;
	int64_t fx = field(x), fy = field(y);
	if (fx != fy)
		return fx < fy ? 1 : -1;
	int c = strcmp(profile_str(sort_p, x->function), profile_str(sort_p, y->function));
	if (c)
		return c;
	return (x->node > y->node) - (x->node < y->node);
}

/* A sorted copy of the sites with field > 0; the caller frees it. */
static struct heap_site *sorted(const struct profile *p, const struct heap_site *v, size_t n, size_t off,
				size_t *out_n)
{
	struct heap_site *c = xmalloc((n + 1) * sizeof(*c));
	size_t k = 0;
	sort_field = off;
	for (size_t i = 0; i < n; i++)
		if (field(&v[i]) > 0)
			c[k++] = v[i];
	sort_p = p;
	qsort(c, k, sizeof(*c), site_cmp);
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

/* The leak's stack leaf first, from the allocating frame to the root. */
static size_t leak_stack(const struct profile *p, const struct heap_site *l, uint32_t *stack, size_t max)
{
	size_t depth = profile_stack(p, l->node, stack, max);
	size_t af = alloc_frame(p, stack, depth);
	return af == SIZE_MAX ? 0 : af + 1;
}

static const char *pct(char *out, int64_t part, int64_t whole)
{
	if (whole > 0)
		snprintf(out, 32, "%.1f%%", 100.0 * (double)part / (double)whole);
	else
		snprintf(out, 32, "-");
	return out;
}

static void print_top(FILE *out, const struct profile *p, const struct heap_report *r, size_t top,
		      const char *title, size_t off)
{
	size_t n;
	struct heap_site *v = sorted(p, r->sites, r->sites_nr, off, &n);
	if (n) {
		char a[32], b[32], c[32];
		fprintf(out, "%s:\n  %10s %14s %10s %10s  %s\n", title, "peak", "allocated", "calls", "leaked",
			"function");
		for (size_t i = 0; i < n && i < top; i++) {
			const struct heap_site *s = &v[i];
			fprintf(out, "  %10s %14s %10s %10s  %s", fmt_bytes(a, (double)s->peak_bytes),
				fmt_bytes(b, (double)s->bytes), fmt_count(c, (uint64_t)s->calls),
				fmt_bytes((char[32]){ 0 }, (double)s->leak_bytes), profile_str(p, s->function));
			if (s->module)
				fprintf(out, " (%s)", basename_of(profile_str(p, s->module)));
			fputc('\n', out);
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

void heap_report_print(FILE *out, const struct profile *p, const struct heap_report *r, size_t top)
{
	char a[32], b[32], c[32];
	struct buf line = BUF_INIT;
	uint32_t *stack = xmalloc(MAX_STACK * sizeof(*stack));
	if (!top)
		top = 10;

	fprintf(out, "Heap profile");
	if (r->processes > 1)
		fprintf(out, " of %" PRId64 " processes", r->processes);
	if (r->duration_ns > 0)
		fprintf(out, ", %s", fmt_ns(a, (double)r->duration_ns));
	if (r->sampled)
		fprintf(out, " (sampled every %s on average: estimates)", fmt_bytes(b, (double)r->sample_bytes));
	fprintf(out, "\n");
	if (r->has_peak) {
		fprintf(out, "  peak heap:             %s (%s bytes) in %s block%s", fmt_bytes(a, (double)r->peak_bytes),
			fmt_count(b, (uint64_t)r->peak_bytes), fmt_count(c, (uint64_t)r->peak_blocks),
			r->peak_blocks == 1 ? "" : "s");
		if (r->has_time && r->peak_time_ns >= 0)
			fprintf(out, " at %s", fmt_ns(a, (double)r->peak_time_ns));
		fputc('\n', out);
	}
	fprintf(out, "  total allocated:       %s (%s bytes) in %s calls\n",
		fmt_bytes(a, (double)r->total_allocated_bytes), fmt_count(b, (uint64_t)r->total_allocated_bytes),
		fmt_count(c, (uint64_t)r->allocation_calls));
	if (r->has_temporary)
		fprintf(out, "  temporary allocations: %s (%s of calls)\n",
			fmt_count(a, (uint64_t)r->temporary_allocations),
			pct(b, r->temporary_allocations, r->allocation_calls));
	if (r->has_leaks) {
		fprintf(out, "  leaked at exit:        %s (%s bytes) in %s block%s", fmt_bytes(a, (double)r->leaked_bytes),
			fmt_count(b, (uint64_t)r->leaked_bytes), fmt_count(c, (uint64_t)r->leaked_blocks),
			r->leaked_blocks == 1 ? "" : "s");
		if (r->suppressed_blocks)
			fprintf(out, "; %s bytes in %s block%s suppressed", fmt_count(a, (uint64_t)r->suppressed_bytes),
				fmt_count(b, (uint64_t)r->suppressed_blocks), r->suppressed_blocks == 1 ? "" : "s");
		fputc('\n', out);
	}

	size_t n;
	struct heap_site *v = sorted(p, r->leaks, r->leaks_nr, offsetof(struct heap_site, leak_bytes), &n);
	size_t shown = 0;
	for (size_t i = 0; i < n; i++) {
		const struct heap_site *l = &v[i];
		if (l->suppressed)
			continue;
		if (!shown++)
			fprintf(out, "\nLeaks (not freed at exit), biggest first:\n");
		fprintf(out, "  %s bytes in %s block%s allocated in %s\n", fmt_count(a, (uint64_t)l->leak_bytes),
			fmt_count(b, (uint64_t)l->leak_blocks), l->leak_blocks == 1 ? "" : "s",
			profile_str(p, l->function));
		size_t depth = leak_stack(p, l, stack, MAX_STACK);
		for (size_t k = depth; k-- > 0;) {
			buf_reset(&line);
			frame_text(p, stack[k], &line);
			fprintf(out, "      %s\n", line.buf);
		}
	}

	if (r->has_peak) {
		fputc('\n', out);
		print_top(out, p, r, top, "Top allocation sites by peak heap", offsetof(struct heap_site, peak_bytes));
	}
	if (r->has_leaks && r->leaked_bytes) {
		fputc('\n', out);
		print_top(out, p, r, top, "Top allocation sites by leaks", offsetof(struct heap_site, leak_bytes));
	}
	fputc('\n', out);
	print_top(out, p, r, top, "Top allocation sites by calls", offsetof(struct heap_site, calls));

	if (r->has_histogram) {
		int64_t max = 0;
		for (unsigned i = 0; i < HEAP_HIST_BUCKETS; i++)
			max = r->hist[i] > max ? r->hist[i] : max;
		fprintf(out, "\nAllocation sizes:\n");
		for (unsigned i = 0; i < HEAP_HIST_BUCKETS; i++) {
			if (!r->hist[i])
				continue;
			char lo[32], hi[32];
			hist_range(i, lo, hi);
			int bar = max ? (int)(40.0 * (double)r->hist[i] / (double)max + 0.5) : 0;
			fprintf(out, "  %10s - %-10s %14s  %.*s\n", lo, hi, fmt_count(a, (uint64_t)r->hist[i]),
				bar ? bar : 1, "########################################");
		}
	}
	if (shown) {
		fprintf(out, "\nSuppressions for these leaks (LSan format, for --suppressions FILE):\n");
		for (size_t i = 0, k = 0; i < n && k < top; i++)
			if (!v[i].suppressed) {
				fprintf(out, "  leak:%s\n", profile_str(p, v[i].function));
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

	size_t n;
	struct heap_site *v = sorted(p, r->leaks, r->leaks_nr, offsetof(struct heap_site, leak_bytes), &n);
	jw_key(j, "leaks");
	jw_array_begin(j);
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < n; i++) {
			const struct heap_site *l = &v[i];
			if (l->suppressed != (pass == 1))
				continue;
			jw_object_begin(j);
			jw_kv_str(j, "function", profile_str(p, l->function));
			jw_kv_str(j, "module", l->module ? profile_str(p, l->module) : "");
			jw_kv_i64(j, "bytes", l->leak_bytes);
			jw_kv_i64(j, "blocks", l->leak_blocks);
			jw_kv_bool(j, "suppressed", l->suppressed);
			jw_key(j, "stack");
			jw_array_begin(j);
			size_t depth = leak_stack(p, l, stack, MAX_STACK);
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
		if (!v[i].suppressed) {
			buf_reset(&line);
			buf_addf(&line, "leak:%s", profile_str(p, v[i].function));
			jw_string(j, line.buf);
		}
	jw_array_end(j);
	free(v);
	free(stack);
	buf_release(&line);
}
