/* Writing Go's default.pgo: pprof with start lines, the program's frames only (see gopgo.h). */
#include "pgo/gopgo.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/array.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/hash.h"
#include "core/xalloc.h"
#include "formats/gzip.h"
#include "formats/pprof_pb.h"
#include "pgo/debuginfo.h"
#include "profile/profile.h"

struct gw {
	const struct profile *p;
	struct pgo_dbg *dbg;
	struct strtab strs;       /* the pprof string table; id 0 is "" */
	PbFunction *fns;
	size_t fns_nr, fns_alloc;
	struct u64map fn_index;   /* hash of (name, file, start line) -> 1 + function index */
	PbLocation *locs;
	PbLine *lines;            /* all Lines, in groups; a location points into them after the loop */
	size_t *loc_first, *loc_n;
	size_t locs_nr, locs_alloc, lines_nr, lines_alloc, lf_alloc, ln_alloc;
	struct u64map loc_index;  /* hash of a location's frame ids -> 1 + location index */
	struct pgo_modmatch module;
	size_t with_start_line;
};

static uint64_t str(struct gw *w, const char *s)
{
	return strtab_intern(&w->strs, s, strlen(s));
}

static bool keep_frame(struct gw *w, const struct frame *f)
{
	return f->function && (f->kind == FRAME_NATIVE || f->kind == FRAME_GO || f->kind == FRAME_INLINED) &&
	       pgo_modmatch(&w->module, w->p, f->module);
}

/* A Line before it is a pprof Line: string ids of the pprof table and the function's start line. */
struct gline {
	uint64_t name, file;
	uint32_t line, start;
};

static uint64_t function_id(struct gw *w, const struct gline *l)
{
	uint64_t key = hash_u64(l->name * 0x9e3779b97f4a7c15ULL ^ l->file << 20 ^ l->start) | 1, *slot;
	int inserted;
	PbFunction *pf;

	slot = u64map_insert(&w->fn_index, key, &inserted);
	if (!inserted) {
		pf = &w->fns[*slot - 1];
		if (pf->name == (int64_t)l->name && pf->filename == (int64_t)l->file && pf->start_line == l->start)
			return *slot;
	}
	ALLOC_GROW(w->fns, w->fns_nr + 1, w->fns_alloc);
	pf = &w->fns[w->fns_nr];
	perftools__profiles__function__init(pf);
	pf->id = w->fns_nr + 1;
	pf->name = pf->system_name = (int64_t)l->name;
	pf->filename = (int64_t)l->file;
	pf->start_line = l->start;
	w->with_start_line += l->start != 0;
	if (inserted)
		*slot = w->fns_nr + 1;
	return ++w->fns_nr;
}

/*
 * The Lines of frames ids[a..b), innermost first: kiln's frames when they carry lines, else the DWARF's inline
 * chain at the physical frame's address (a caller's return address less one: the call, not what follows it).
 */
static size_t group_lines(struct gw *w, const uint32_t *ids, size_t a, size_t b, bool leaf, struct gline *out,
			  size_t max)
{
	const struct frame *phys = &w->p->frames[ids[a]];
	struct pgo_inline chain[32];
	size_t n = 0;

	if (!phys->line && phys->addr) {
		size_t k = pgo_dbg_inline_chain(w->dbg, leaf ? phys->addr : phys->addr - 1, chain,
						max < 32 ? max : 32);

		for (size_t i = 0; i < k; i++) {
			out[i].name = str(w, chain[i].name);
			out[i].file = str(w, chain[i].file ? chain[i].file : "");
			out[i].line = chain[i].line;
			out[i].start = chain[i].start;
		}
		if (k)
			return k;
	}
	for (size_t i = b; i-- > a && n < max;) {
		const struct frame *f = &w->p->frames[ids[i]];
		const char *name = profile_str(w->p, f->function), *file = profile_str(w->p, f->file);
		const struct pgo_fn *fn = pgo_dbg_function(w->dbg, name, file);

		out[n].name = str(w, name);
		out[n].file = str(w, file);
		out[n].line = f->line;
		out[n].start = fn ? fn->line : 0;
		n++;
	}
	return n;
}

/* The location of frames ids[a..b) (a physical frame and the inlined frames leafward of it). */
static uint64_t location_id(struct gw *w, const uint32_t *ids, size_t a, size_t b, bool leaf)
{
	uint64_t h = (hash_bytes(ids + a, (b - a) * sizeof(*ids)) ^ leaf) | 1, *slot;
	struct gline gl[64];
	size_t n;
	int inserted;

	slot = u64map_insert(&w->loc_index, h, &inserted);
	n = group_lines(w, ids, a, b, leaf, gl, ARRAY_SIZE(gl));
	if (!inserted) {
		size_t li = *slot - 1;
		bool same = w->loc_n[li] == n;

		/* a hash collision just makes a second location with the same Lines: harmless */
		for (size_t i = 0; i < n && same; i++)
			same = w->lines[w->loc_first[li] + i].line == gl[i].line &&
			       w->lines[w->loc_first[li] + i].function_id == function_id(w, &gl[i]);
		if (same)
			return li + 1;
	}
	ALLOC_GROW(w->locs, w->locs_nr + 1, w->locs_alloc);
	ALLOC_GROW(w->loc_first, w->locs_nr + 1, w->lf_alloc);
	ALLOC_GROW(w->loc_n, w->locs_nr + 1, w->ln_alloc);
	perftools__profiles__location__init(&w->locs[w->locs_nr]);
	w->locs[w->locs_nr].id = w->locs_nr + 1;
	w->loc_first[w->locs_nr] = w->lines_nr;
	w->loc_n[w->locs_nr] = n;
	for (size_t i = 0; i < n; i++) {
		ALLOC_GROW(w->lines, w->lines_nr + 1, w->lines_alloc);
		perftools__profiles__line__init(&w->lines[w->lines_nr]);
		w->lines[w->lines_nr].function_id = function_id(w, &gl[i]);
		w->lines[w->lines_nr].line = gl[i].line;
		w->lines_nr++;
	}
	if (inserted)
		*slot = w->locs_nr + 1;
	return ++w->locs_nr;
}

int pgo_go_write(const struct profile *p, struct pgo_dbg *dbg, const char *binary, struct buf *out,
		 struct pgo_go_stats *st, struct err *e)
{
	struct gw w = { .p = p, .dbg = dbg, .strs = STRTAB_INIT };
	PbProfile pb = PERFTOOLS__PROFILES__PROFILE__INIT;
	PbValueType types[2], period_type;
	PbValueType *type_ptrs[2];
	PbSample *samples = NULL, **sample_ptrs = NULL;
	PbFunction **fn_ptrs = NULL;
	PbLocation **loc_ptrs = NULL;
	PbLine **line_ptrs = NULL;
	uint64_t *loc_ids = NULL;
	int64_t *vals = NULL;
	size_t samples_nr = 0, samples_alloc = 0, loc_ids_nr = 0, loc_ids_alloc = 0, ids_alloc = 0, vals_nr = 0,
	       vals_alloc = 0;
	uint32_t *ids = NULL;
	int cols[2], ncols = 0, ret = -1;
	uint8_t *packed = NULL;

	memset(st, 0, sizeof(*st));
	str(&w, "");
	pgo_modmatch_init(&w.module, binary);
	/* The compiler takes "samples/count" or "cpu/nanoseconds", whichever comes first. */
	static const char *const want[2][2] = { { "samples", "count" }, { "cpu", "nanoseconds" } };
	for (int i = 0; i < 2; i++) {
		int c = profile_find_column(p, want[i][0]);

		if (c < 0 || strcmp(profile_str(p, p->columns[c].unit), want[i][1]))
			continue;
		cols[ncols] = c;
		perftools__profiles__value_type__init(&types[ncols]);
		types[ncols].type = (int64_t)str(&w, want[i][0]);
		types[ncols].unit = (int64_t)str(&w, want[i][1]);
		type_ptrs[ncols] = &types[ncols];
		ncols++;
	}
	if (!ncols) {
		err_set(e, "the profile has neither samples/count nor cpu/nanoseconds values (is it a CPU profile?)");
		goto out;
	}
	/* Pointers into the growing arrays are taken after the loop: store indexes until then. */
	for (size_t r = 0; r < p->rows_nr; r++) {
		const int64_t *v = profile_row_values(p, r);
		uint32_t node = p->rows[r].node;
		size_t depth = p->nodes[node].depth, n, first_loc = loc_ids_nr;

		if (!depth || v[cols[0]] <= 0)
			continue;
		ALLOC_GROW(ids, depth, ids_alloc);
		n = profile_stack(p, node, ids, depth);
		/* Leaf first: walk groups from the leaf towards the root. */
		for (size_t end = n; end > 0;) {
			size_t start = end;

			while (start > 1 && p->frames[ids[start - 1]].kind == FRAME_INLINED)
				start--;
			start--;
			if (keep_frame(&w, &p->frames[ids[start]])) {
				size_t a = start, b = end;

				while (a < b && !keep_frame(&w, &p->frames[ids[b - 1]]))
					b--;
				if (a < b) {
					ALLOC_GROW(loc_ids, loc_ids_nr + 1, loc_ids_alloc);
					loc_ids[loc_ids_nr++] = location_id(&w, ids, a, b, end == n);
				}
			}
			end = start;
		}
		if (loc_ids_nr == first_loc)
			continue;
		ALLOC_GROW(samples, samples_nr + 1, samples_alloc);
		ALLOC_GROW(vals, vals_nr + (size_t)ncols, vals_alloc);
		perftools__profiles__sample__init(&samples[samples_nr]);
		samples[samples_nr].n_location_id = loc_ids_nr - first_loc;
		samples[samples_nr].location_id = (uint64_t *)(uintptr_t)first_loc; /* an index for now */
		samples[samples_nr].n_value = (size_t)ncols;
		samples[samples_nr].value = (int64_t *)(uintptr_t)vals_nr;
		for (int c = 0; c < ncols; c++)
			vals[vals_nr++] = v[cols[c]];
		st->samples += (uint64_t)v[cols[0]];
		samples_nr++;
	}
	if (!samples_nr) {
		err_set(e, "no samples of '%s' in the profile (is it the profiled Go program?)", binary);
		goto out;
	}
	if (!w.with_start_line) {
		err_set(e, "no function of the profile has a start line in '%s': it needs its DWARF (do not build "
			   "with -ldflags=-w)", binary);
		goto out;
	}
	sample_ptrs = xcalloc(samples_nr, sizeof(*sample_ptrs));
	for (size_t i = 0; i < samples_nr; i++) {
		samples[i].location_id = loc_ids + (uintptr_t)samples[i].location_id;
		samples[i].value = vals + (uintptr_t)samples[i].value;
		sample_ptrs[i] = &samples[i];
	}
	line_ptrs = xcalloc(w.lines_nr, sizeof(*line_ptrs));
	for (size_t i = 0; i < w.lines_nr; i++)
		line_ptrs[i] = &w.lines[i];
	loc_ptrs = xcalloc(w.locs_nr, sizeof(*loc_ptrs));
	for (size_t i = 0; i < w.locs_nr; i++) {
		w.locs[i].line = line_ptrs + w.loc_first[i];
		w.locs[i].n_line = w.loc_n[i];
		loc_ptrs[i] = &w.locs[i];
	}
	fn_ptrs = xcalloc(w.fns_nr, sizeof(*fn_ptrs));
	for (size_t i = 0; i < w.fns_nr; i++)
		fn_ptrs[i] = &w.fns[i];
	perftools__profiles__value_type__init(&period_type);
	period_type.type = (int64_t)str(&w, "cpu");
	period_type.unit = (int64_t)str(&w, "nanoseconds");
	pb.sample_type = type_ptrs;
	pb.n_sample_type = (size_t)ncols;
	pb.sample = sample_ptrs;
	pb.n_sample = samples_nr;
	pb.location = loc_ptrs;
	pb.n_location = w.locs_nr;
	pb.function = fn_ptrs;
	pb.n_function = w.fns_nr;
	pb.period_type = &period_type;
	pb.period = p->period;
	pb.time_nanos = p->time_nanos;
	pb.duration_nanos = p->duration_nanos;
	pb.string_table = (char **)w.strs.strs;
	pb.n_string_table = w.strs.nr;
	size_t size = perftools__profiles__profile__get_packed_size(&pb);
	packed = xmalloc(size ? size : 1);
	perftools__profiles__profile__pack(&pb, packed);
	if (gzip_deflate(packed, size, out, e))
		goto out;
	st->functions = w.fns_nr;
	st->with_start_line = w.with_start_line;
	ret = 0;
out:
	free(packed);
	free(sample_ptrs);
	free(line_ptrs);
	free(loc_ptrs);
	free(fn_ptrs);
	free(samples);
	free(vals);
	free(loc_ids);
	free(ids);
	free(w.fns);
	free(w.locs);
	free(w.lines);
	free(w.loc_first);
	free(w.loc_n);
	pgo_modmatch_release(&w.module);
	strtab_release(&w.strs);
	u64map_release(&w.fn_index);
	u64map_release(&w.loc_index);
	return ret;
}
