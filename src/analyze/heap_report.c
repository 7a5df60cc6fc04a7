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
#define HEAP_SHORT_LIMIT 60 /* stacks this deep reached the walker's depth limit (64 by default) */

enum { C_AOBJ, C_ASPACE, C_IOBJ, C_ISPACE, C_POBJ, C_PSPACE, C_TEMP, C_NR };

static const char *const col_names[C_NR] = {
	"alloc_objects", "alloc_space", "inuse_objects", "inuse_space",
	"peak_inuse_objects", "peak_inuse_space", "temporary_objects",
};

/*
 * Blocks the C library and the dynamic loader allocate once and keep until exit by design: stdio buffers,
 * locale data, NSS (getpwnam, getaddrinfo), iconv's gconv modules, TLS blocks (allocate_dtv, _dl_allocate_tls),
 * dlopen's link maps, atexit lists, libstdc++'s emergency pool. Not leaks the program can fix: reported apart,
 * as valgrind's "still reachable" and heaptrack's built-in suppressions are.
 */
static const char *const default_supp[] = {
	"^_IO_file_doallocate$", "^_dl_", "^__libc_setlocale", "^_nl_", "^__new_exitfn$", "^__cxa_thread_atexit",
	"pool::pool", "^__fopen_internal$", "^allocate_dtv$", "/ld-linux-", "^__nss_", "^nss_", "^__gconv",
	"^_nss_", "^__libc_dlopen", "^dlopen", "^_dlerror_run$", "^__tzfile_read$", "^__tzset",
};

/*
 * A stack of the C library's and the loader's frames only: their own state (setlocale's names, getpwnam's
 * static buffer, NSS's databases). A program's leak through a libc call keeps the program's caller, because
 * libc's functions leave the caller's frame pointer in place for the walk.
 */
static bool only_c_runtime(const struct profile *p, const uint32_t *stack, size_t depth)
{
	for (size_t i = 0; i < depth; i++) {
		const struct frame *f = &p->frames[stack[i]];
		const char *m = f->module ? profile_str(p, f->module) : "", *base = strrchr(m, '/');

		base = base ? base + 1 : m;
		if (strncmp(base, "libc.so", 7) && strncmp(base, "ld-linux", 8))
			return false;
	}
	return depth > 0;
}

/* Where a complete stack starts: a stack whose root is none of these was cut short. */
static bool is_stack_root(const char *fn)
{
	static const char *const roots[] = { "main", "_start", "__libc_start_main", "__libc_start_call_main",
					     "start_thread", "clone", "clone3", "__clone", "__clone3" };

	for (size_t i = 0; i < ARRAY_SIZE(roots); i++)
		if (!strcmp(fn, roots[i]))
			return true;
	return false;
}

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

static bool supp_match(const struct profile *p, const char *const *supp, size_t from, size_t n,
		       const uint32_t *stack, size_t depth)
{
	for (size_t k = from; k < n; k++)
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

/* Counts a leak stack (root first) that stops before a stack root, by the module it stops in. */
static void count_short(const struct profile *p, struct heap_report *r, const uint32_t *stack, size_t depth,
			struct u64map *by_module)
{
	const struct frame *root;
	int inserted;

	r->leak_stacks++;
	/* A stack at the walker's --depth limit is long, not broken; a Go or Python profile has other roots. */
	if (!depth || depth >= HEAP_SHORT_LIMIT)
		return;
	root = &p->frames[stack[0]];
	/* Only a native frame in a known module tells where the walk broke (an unresolved address does not). */
	if (root->kind != FRAME_NATIVE || !root->module ||
	    (root->function && is_stack_root(profile_str(p, root->function))))
		return;
	r->short_stacks++;
	(*u64map_insert(by_module, root->module, &inserted))++;
}

/* The key counted most often in `m` (0 when empty). */
static uint32_t most_counted(const struct u64map *m)
{
	uint64_t best = 0, bestkey = 0, key, val;
	size_t pos = 0;

	while (u64map_next(m, &pos, &key, &val))
		if (val > best) {
			best = val;
			bestkey = key;
		}
	return (uint32_t)bestkey;
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
	struct u64map leak_index = U64MAP_INIT, site_index = U64MAP_INIT, short_by_module = U64MAP_INIT;
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
		size_t sdepth = af == SIZE_MAX ? depth : af + 1;
		bool runtime = only_c_runtime(p, stack, sdepth) ||
			       supp_match(p, (const char *const *)r->supp, 0, r->default_supp_nr, stack, sdepth);
		bool suppressed = !runtime && supp_match(p, (const char *const *)r->supp, r->default_supp_nr,
							 r->supp_nr, stack, sdepth);
		if (!suppressed && !runtime) {
			s->leak_blocks = sat_add64(s->leak_blocks, x[C_IOBJ]);
			s->leak_bytes = sat_add64(s->leak_bytes, x[C_ISPACE]);
		}
		slot = u64map_insert(&leak_index, node, &inserted);
		if (inserted) {
			ALLOC_GROW(r->leaks, r->leaks_nr + 1, leaks_alloc);
			r->leaks[r->leaks_nr] = (struct heap_site){ .function = fn, .module = mod, .node = node,
								     .frame = f ? stack[af] : UINT32_MAX };
			r->leaks[r->leaks_nr].suppressed = suppressed;
			r->leaks[r->leaks_nr].runtime = runtime;
			*slot = r->leaks_nr++;
			if (!suppressed && !runtime)
				count_short(p, r, stack, depth, &short_by_module);
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
	r->short_module = most_counted(&short_by_module);
	u64map_release(&short_by_module);

	/* Scalars: from the recorder's metadata when present (exact), else from the columns. */
	r->total_allocated_bytes = sum[C_ASPACE];
	r->allocation_calls = sum[C_AOBJ];
	r->temporary_allocations = sum[C_TEMP];
	r->peak_bytes = sum[C_PSPACE];
	r->peak_blocks = sum[C_POBJ];
	profile_heap_get(p, HEAP_TOTAL_ALLOCATED_BYTES, &r->total_allocated_bytes);
	profile_heap_get(p, HEAP_ALLOCATION_CALLS, &r->allocation_calls);
	if (profile_heap_get(p, HEAP_TEMPORARY_ALLOCATIONS, &r->temporary_allocations))
		r->has_temporary = true;
	if (profile_heap_get(p, HEAP_PEAK_BYTES, &r->peak_bytes))
		r->has_peak = true;
	profile_heap_get(p, HEAP_PEAK_BLOCKS, &r->peak_blocks);
	r->has_time = profile_heap_get(p, HEAP_PEAK_TIME_NS, &r->peak_time_ns);
	profile_heap_get(p, HEAP_SAMPLE_BYTES, &r->sample_bytes);
	profile_heap_get(p, HEAP_PROCESSES, &r->processes);
	r->sampled = r->sample_bytes > 0;
	r->duration_ns = p->duration_nanos;
	if (p->meta.heap.has_hist) {
		memcpy(r->hist, p->meta.heap.hist, sizeof(r->hist));
		r->has_histogram = true;
	}

	for (size_t i = 0; i < r->leaks_nr; i++) {
		const struct heap_site *l = &r->leaks[i];
		if (l->runtime) {
			r->runtime_bytes = sat_add64(r->runtime_bytes, l->leak_bytes);
			r->runtime_blocks = sat_add64(r->runtime_blocks, l->leak_blocks);
		} else if (l->suppressed) {
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

size_t heap_site_stack(const struct profile *p, const struct heap_site *l, uint32_t *stack, size_t max)
{
	size_t depth = profile_stack(p, l->node, stack, max);
	size_t af = alloc_frame(p, stack, depth);
	return af == SIZE_MAX ? 0 : af + 1;
}
