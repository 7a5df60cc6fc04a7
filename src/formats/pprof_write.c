/*
 * The pprof writer (see pprof.c for the mapping of the model onto profile.proto): one Location per group of
 * inlined frames and their physical caller, one Function per name/file/start line, one Mapping per module or
 * known address range of it, unsymbolized frames as addresses in their mappings.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "gzip.h"
#include "pprof_meta.h"
#include "pprof_pb.h"

#include "../core/array.h"
#include "../core/buf.h"
#include "../core/err.h"
#include "../core/hash.h"
#include "../core/xalloc.h"
#include "../profile/profile.h"
#include "format.h"

struct writer {
	const struct profile *p;
	struct u64map str_index;   /* model string id -> pprof string index */
	char **strings;
	size_t strings_nr, strings_alloc;

	PbFunction *fns;
	size_t fns_nr, fns_alloc;
	struct u64map fn_index; /* hash of (name, file, start line) -> function index */

	PbMapping *maps;
	uint32_t *map_module; /* module string id of each mapping */
	size_t maps_nr, maps_alloc, map_module_alloc;
	struct u64map map_index; /* module string id | (1 + range index) << 32 -> mapping index */
	struct wrange {
		uint32_t module;
		uint64_t start, limit, offset;
	} *ranges; /* the profile's mapping ranges (meta.h) */
	size_t ranges_nr, ranges_alloc;

	PbLocation *locs;
	size_t locs_nr, locs_alloc;
	struct wloc {
		uint32_t first, nr; /* its frame ids in loc_keys, innermost first */
		uint32_t chain;     /* next location with the same hash, UINT32_MAX ends it */
	} *wl;
	size_t wl_alloc;
	uint32_t *loc_keys;
	size_t loc_keys_nr, loc_keys_alloc;
	struct u64map loc_index; /* hash of frame ids -> first location index in the chain */

	uint32_t *node_loc;  /* stack node -> 1 + location index of the group that starts at it, 0 = not yet */
	uint32_t *node_next; /* stack node -> the node rootward of that group */
};

static int64_t wstr(struct writer *w, uint32_t id)
{
	int inserted;
	uint64_t *v = u64map_insert(&w->str_index, id, &inserted);

	if (inserted) {
		ALLOC_GROW(w->strings, w->strings_nr + 1, w->strings_alloc);
		w->strings[w->strings_nr] = (char *)profile_str(w->p, id);
		*v = w->strings_nr++;
	}
	return (int64_t)*v;
}

static int64_t wstr_lit(struct writer *w, const char *s)
{
	/* A string that is not in the profile's (const) table; used once per mapping, so never deduplicated. */
	ALLOC_GROW(w->strings, w->strings_nr + 1, w->strings_alloc);
	w->strings[w->strings_nr] = (char *)s;
	return (int64_t)w->strings_nr++;
}

/* An interpreted function (Python, JS) is its name, file and first line, which is the line its frames carry. */
static bool has_start_line(const struct frame *f)
{
	return (f->kind == FRAME_PYTHON || f->kind == FRAME_JS) && f->line;
}

static uint64_t wfunction(struct writer *w, const struct frame *f)
{
	int inserted;
	int64_t start = has_start_line(f) ? f->line : 0;
	uint64_t key = hash_u64(((uint64_t)f->function << 32 | f->file) ^ hash_u64((uint64_t)start));
	uint64_t *v;

	/* Open addressing over the hash: a key taken by another function moves on to the next one. */
	for (;;) {
		v = u64map_insert(&w->fn_index, key == U64MAP_EMPTY ? 0 : key, &inserted);
		if (inserted)
			break;
		const PbFunction *fn = &w->fns[*v];
		if (fn->name == wstr(w, f->function) && fn->filename == wstr(w, f->file) && fn->start_line == start)
			return *v + 1;
		key = hash_u64(key + 1);
	}
	ALLOC_GROW(w->fns, w->fns_nr + 1, w->fns_alloc);
	PbFunction *fn = &w->fns[w->fns_nr];
	perftools__profiles__function__init(fn);
	fn->id = w->fns_nr + 1;
	fn->name = wstr(w, f->function);
	fn->system_name = fn->name;
	fn->filename = wstr(w, f->file);
	fn->start_line = start;
	*v = w->fns_nr++;
	return *v + 1;
}

/* The profile's known mapping ranges (meta.h) of named modules. */
static void wread_ranges(struct writer *w)
{
	const struct profile_meta *m = &w->p->meta;

	for (size_t i = 0; i < m->mappings_nr; i++) {
		const struct meta_mapping *mm = &m->mappings[i];

		if (!mm->module || mm->limit <= mm->start)
			continue;
		ALLOC_GROW(w->ranges, w->ranges_nr + 1, w->ranges_alloc);
		w->ranges[w->ranges_nr++] = (struct wrange){ mm->module, mm->start, mm->limit, mm->offset };
	}
}

/*
 * The range of `module` that holds module-relative address `addr` (any of its ranges when `addr` is 0, an
 * unknown address), or -1.
 */
static long wfind_range(const struct writer *w, uint32_t module, uint64_t addr)
{
	long any = -1;

	for (size_t i = 0; i < w->ranges_nr; i++) {
		const struct wrange *r = &w->ranges[i];

		if (r->module != module)
			continue;
		if (any < 0)
			any = (long)i;
		if (addr && addr >= r->offset && addr - r->offset < r->limit - r->start)
			return (long)i;
	}
	return addr ? -1 : any;
}

/*
 * The mapping of a frame of `module` at module-relative `addr`; `*abs` receives the address as pprof wants it,
 * absolute in the mapping when its range is known.
 */
static uint64_t wmapping(struct writer *w, uint32_t module, uint64_t addr, uint64_t *abs)
{
	long ri;
	int inserted;
	uint64_t *v;

	*abs = addr;
	if (!module)
		return 0;
	ri = wfind_range(w, module, addr);
	if (ri >= 0 && addr)
		*abs = addr - w->ranges[ri].offset + w->ranges[ri].start;
	v = u64map_insert(&w->map_index, module | (uint64_t)(ri + 1) << 32, &inserted);
	if (inserted) {
		ALLOC_GROW(w->maps, w->maps_nr + 1, w->maps_alloc);
		ALLOC_GROW(w->map_module, w->maps_nr + 1, w->map_module_alloc);
		PbMapping *m = &w->maps[w->maps_nr];
		perftools__profiles__mapping__init(m);
		m->id = w->maps_nr + 1;
		m->filename = wstr(w, module);
		if (ri >= 0) {
			m->memory_start = w->ranges[ri].start;
			m->memory_limit = w->ranges[ri].limit;
			m->file_offset = w->ranges[ri].offset;
		}
		w->map_module[w->maps_nr] = module;
		*v = w->maps_nr++;
	}
	return *v + 1;
}

/* Interns the location made of `frames` (innermost first, the physical frame last); returns its index. */
static uint32_t wlocation(struct writer *w, const uint32_t *frames, uint32_t n)
{
	uint64_t h = hash_bytes(frames, n * sizeof(*frames)) & ~(uint64_t)0 >> 1;
	int inserted;
	uint64_t *head = u64map_insert(&w->loc_index, h, &inserted);

	if (!inserted) {
		for (uint32_t li = (uint32_t)*head; li != UINT32_MAX; li = w->wl[li].chain)
			if (w->wl[li].nr == n && !memcmp(w->loc_keys + w->wl[li].first, frames, n * sizeof(*frames)))
				return li;
	}
	uint32_t li = (uint32_t)w->locs_nr;
	ALLOC_GROW(w->locs, w->locs_nr + 1, w->locs_alloc);
	ALLOC_GROW(w->wl, w->locs_nr + 1, w->wl_alloc);
	ALLOC_GROW(w->loc_keys, w->loc_keys_nr + n, w->loc_keys_alloc);
	memcpy(w->loc_keys + w->loc_keys_nr, frames, n * sizeof(*frames));
	w->wl[li].first = (uint32_t)w->loc_keys_nr;
	w->wl[li].nr = n;
	w->wl[li].chain = inserted ? UINT32_MAX : (uint32_t)*head;
	w->loc_keys_nr += n;
	*head = li;

	const struct frame *phys = &w->p->frames[frames[n - 1]];
	PbLocation *loc = &w->locs[li];
	perftools__profiles__location__init(loc);
	loc->id = (uint64_t)li + 1;
	loc->mapping_id = wmapping(w, phys->module, phys->addr, &loc->address);
	w->locs_nr++;
	return li;
}

/* The group (location) that starts at `node`: it and its inlined-frame ancestors up to a physical frame. */
static uint32_t node_location(struct writer *w, uint32_t node, uint32_t **scratch, size_t *scratch_alloc)
{
	const struct profile *p = w->p;
	uint32_t n = 0, cur = node;

	if (w->node_loc[node])
		return w->node_loc[node] - 1;
	for (;;) {
		const struct stack_node *sn = &p->nodes[cur];
		ALLOC_GROW(*scratch, n + 1, *scratch_alloc);
		(*scratch)[n++] = sn->frame;
		cur = sn->parent;
		if (p->frames[sn->frame].kind != FRAME_INLINED || cur == 0)
			break;
	}
	uint32_t li = wlocation(w, *scratch, n);
	w->node_loc[node] = li + 1;
	w->node_next[node] = cur;
	return li;
}

/* A module that is a program rather than a shared library or a kernel/JIT pseudo-module. */
static bool is_program(const char *path)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	return *base && *base != '[' && !strstr(base, ".so");
}

/*
 * pprof takes mapping[0] for the main binary. Guess it as the program (not a shared library: libc holds the
 * outermost frames of most stacks, _start's and start_thread's callers) that most often holds the outermost
 * program frame of a stack; failing that, the module of the outermost module-bearing frames, kernel images
 * aside. It is registered first.
 */
static void wmain_mapping(struct writer *w)
{
	const struct profile *p = w->p;
	struct u64map count = U64MAP_INIT, any = U64MAP_INIT;
	uint64_t best = 0, best_n = 0, best_any = 0, best_any_n = 0;
	bool *under = xcalloc(p->nodes_nr ? p->nodes_nr : 1, sizeof(*under)); /* a program frame above */

	for (size_t n = 1; n < p->nodes_nr; n++) {
		const struct frame *f = &p->frames[p->nodes[n].frame];
		uint32_t parent = p->nodes[n].parent;
		bool prog = f->module && f->kind != FRAME_KERNEL && is_program(profile_str(p, f->module));
		under[n] = (parent < n && under[parent]) || prog;
		if (prog && !(parent < n && under[parent])) {
			uint64_t *c = u64map_insert(&count, f->module, NULL);
			if (++*c > best_n) {
				best_n = *c;
				best = f->module;
			}
		}
		if (!f->module || (parent && p->frames[p->nodes[parent].frame].module) || f->kind == FRAME_KERNEL)
			continue;
		uint64_t *c = u64map_insert(&any, f->module, NULL);
		if (++*c > best_any_n) {
			best_any_n = *c;
			best_any = f->module;
		}
	}
	if (best || best_any) {
		uint64_t abs;

		wmapping(w, (uint32_t)(best ? best : best_any), 0, &abs);
	}
	free(under);
	u64map_release(&count);
	u64map_release(&any);
}

static void fill_lines(struct writer *w)
{
	for (size_t li = 0; li < w->locs_nr; li++) {
		PbLocation *loc = &w->locs[li];
		const uint32_t *frames = w->loc_keys + w->wl[li].first;
		uint32_t n = w->wl[li].nr;
		const struct frame *phys = &w->p->frames[frames[n - 1]];

		/* An unnamed physical frame alone is an address for pprof to show or symbolize: no Line. */
		if (n == 1 && !phys->function && !phys->file)
			continue;
		loc->n_line = n;
		loc->line = xcalloc(n, sizeof(*loc->line));
		PbLine *lines = xcalloc(n, sizeof(*lines));
		for (uint32_t i = 0; i < n; i++) {
			const struct frame *f = &w->p->frames[frames[i]];
			perftools__profiles__line__init(&lines[i]);
			lines[i].function_id = wfunction(w, f);
			lines[i].line = f->line;
			loc->line[i] = &lines[i];
		}
		if (loc->mapping_id) {
			PbMapping *m = &w->maps[loc->mapping_id - 1];
			m->has_functions = true;
			if (phys->file)
				m->has_filenames = true;
			if (phys->line)
				m->has_line_numbers = true;
			if (n > 1)
				m->has_inline_frames = true;
		}
	}
}

static void writer_release(struct writer *w)
{
	for (size_t li = 0; li < w->locs_nr; li++) {
		if (w->locs[li].n_line)
			free(w->locs[li].line[0]);
		free(w->locs[li].line);
	}
	free(w->locs);
	free(w->wl);
	free(w->loc_keys);
	free(w->fns);
	free(w->maps);
	free(w->map_module);
	free(w->ranges);
	free(w->strings);
	free(w->node_loc);
	free(w->node_next);
	u64map_release(&w->str_index);
	u64map_release(&w->fn_index);
	u64map_release(&w->map_index);
	u64map_release(&w->loc_index);
}

int pprof_encode(const struct profile *p, bool gzip, FILE *out, struct err *e)
{
	struct writer w = { .p = p };
	PbProfile pb = PERFTOOLS__PROFILES__PROFILE__INIT;
	PbValueType *vts = xcalloc(p->ncolumns + 1, sizeof(*vts)), period_type;
	PbValueType **vtp = xcalloc(p->ncolumns + 1, sizeof(*vtp));
	PbSample *samples = xcalloc(p->rows_nr + 1, sizeof(*samples));
	PbSample **samplep = xcalloc(p->rows_nr + 1, sizeof(*samplep));
	PbLabel *labels = NULL;
	size_t labels_nr = 0, labels_alloc = 0;
	uint64_t *loc_ids = NULL;
	size_t loc_ids_nr = 0, loc_ids_alloc = 0;
	size_t *loc_ids_first = xcalloc(p->rows_nr + 1, sizeof(*loc_ids_first));
	size_t *labels_first = xcalloc(p->rows_nr + 1, sizeof(*labels_first));
	PbMapping **mapp = NULL;
	PbLocation **locp = NULL;
	PbFunction **fnp = NULL;
	char **meta = NULL;
	size_t nmeta = pprof_meta_comments(p, &meta);
	int64_t *comments = xcalloc(p->comments_nr + nmeta + 1, sizeof(*comments));
	uint32_t *scratch = NULL;
	size_t scratch_alloc = 0;
	unsigned char *packed = NULL;
	struct buf gz = BUF_INIT;
	int ret = -1;

	wstr(&w, 0); /* string_table[0] = "" */
	w.node_loc = xcalloc(p->nodes_nr + 1, sizeof(*w.node_loc));
	w.node_next = xcalloc(p->nodes_nr + 1, sizeof(*w.node_next));
	wread_ranges(&w);
	wmain_mapping(&w);

	for (size_t c = 0; c < p->ncolumns; c++) {
		perftools__profiles__value_type__init(&vts[c]);
		vts[c].type = wstr(&w, p->columns[c].type);
		vts[c].unit = wstr(&w, p->columns[c].unit);
		vtp[c] = &vts[c];
	}
	pb.n_sample_type = p->ncolumns;
	pb.sample_type = vtp;

	/* Samples: location ids leaf first, one Location per group of inlined frames and their caller. */
	for (size_t r = 0; r < p->rows_nr; r++) {
		const struct sample_row *row = &p->rows[r];
		loc_ids_first[r] = loc_ids_nr;
		for (uint32_t node = row->node; node != 0;) {
			uint32_t li = node_location(&w, node, &scratch, &scratch_alloc);
			ALLOC_GROW(loc_ids, loc_ids_nr + 1, loc_ids_alloc);
			loc_ids[loc_ids_nr++] = (uint64_t)li + 1;
			node = w.node_next[node];
		}
		size_t nl;
		const struct label *ls = profile_labelset_get(p, row->labelset, &nl);
		labels_first[r] = labels_nr;
		ALLOC_GROW(labels, labels_nr + nl, labels_alloc);
		for (size_t i = 0; i < nl; i++) {
			PbLabel *l = &labels[labels_nr++];
			perftools__profiles__label__init(l);
			l->key = wstr(&w, ls[i].key);
			if (ls[i].str) {
				l->str = wstr(&w, ls[i].str);
			} else {
				l->num = ls[i].num;
				l->num_unit = ls[i].num_unit ? wstr(&w, ls[i].num_unit) : 0;
			}
		}
	}
	/* Arrays have settled: point the samples into them. */
	PbLabel **labelp = xcalloc(labels_nr + 1, sizeof(*labelp));
	for (size_t i = 0; i < labels_nr; i++)
		labelp[i] = &labels[i];
	for (size_t r = 0; r < p->rows_nr; r++) {
		PbSample *s = &samples[r];
		perftools__profiles__sample__init(s);
		s->location_id = loc_ids ? loc_ids + loc_ids_first[r] : NULL;
		s->n_location_id = (r + 1 < p->rows_nr ? loc_ids_first[r + 1] : loc_ids_nr) - loc_ids_first[r];
		s->value = p->ncolumns ? (int64_t *)profile_row_values(p, r) : NULL;
		s->n_value = p->ncolumns;
		s->label = labelp + labels_first[r];
		s->n_label = (r + 1 < p->rows_nr ? labels_first[r + 1] : labels_nr) - labels_first[r];
		samplep[r] = s;
	}
	pb.n_sample = p->rows_nr;
	pb.sample = samplep;

	fill_lines(&w);

	/* Build ids go to every mapping of their module; the typed metadata's comments follow the profile's own. */
	for (size_t i = 0; i < p->meta.build_ids_nr; i++) {
		const struct meta_build_id *b = &p->meta.build_ids[i];

		for (size_t m = 0; m < w.maps_nr; m++)
			if (w.map_module[m] == b->module)
				w.maps[m].build_id = wstr(&w, b->id);
	}
	for (size_t i = 0; i < p->comments_nr; i++)
		comments[pb.n_comment++] = wstr(&w, p->comments[i]);
	for (size_t i = 0; i < nmeta; i++)
		comments[pb.n_comment++] = wstr_lit(&w, meta[i]);
	pb.comment = comments;

	mapp = xcalloc(w.maps_nr + 1, sizeof(*mapp));
	for (size_t i = 0; i < w.maps_nr; i++)
		mapp[i] = &w.maps[i];
	pb.n_mapping = w.maps_nr;
	pb.mapping = mapp;
	locp = xcalloc(w.locs_nr + 1, sizeof(*locp));
	for (size_t i = 0; i < w.locs_nr; i++)
		locp[i] = &w.locs[i];
	pb.n_location = w.locs_nr;
	pb.location = locp;
	fnp = xcalloc(w.fns_nr + 1, sizeof(*fnp));
	for (size_t i = 0; i < w.fns_nr; i++)
		fnp[i] = &w.fns[i];
	pb.n_function = w.fns_nr;
	pb.function = fnp;

	if (p->period_type.type || p->period_type.unit) {
		perftools__profiles__value_type__init(&period_type);
		period_type.type = wstr(&w, p->period_type.type);
		period_type.unit = wstr(&w, p->period_type.unit);
		pb.period_type = &period_type;
	}
	pb.period = p->period;
	pb.time_nanos = p->time_nanos;
	pb.duration_nanos = p->duration_nanos;
	if (p->default_column >= 0 && (size_t)p->default_column < p->ncolumns)
		pb.default_sample_type = wstr(&w, p->columns[p->default_column].type);

	pb.n_string_table = w.strings_nr;
	pb.string_table = w.strings;

	size_t size = perftools__profiles__profile__get_packed_size(&pb);
	packed = xmalloc(size ? size : 1);
	perftools__profiles__profile__pack(&pb, packed);
	if (gzip) {
		if (gzip_deflate(packed, size, &gz, e))
			goto out_labels;
		if (fwrite(gz.buf, 1, gz.len, out) != gz.len) {
			err_errno(e, "cannot write pprof data");
			goto out_labels;
		}
	} else if (size && fwrite(packed, 1, size, out) != size) {
		err_errno(e, "cannot write pprof data");
		goto out_labels;
	}
	ret = 0;
out_labels:
	free(labelp);
	free(packed);
	buf_release(&gz);
	free(scratch);
	free(vts);
	free(vtp);
	free(samples);
	free(samplep);
	free(labels);
	free(loc_ids);
	free(loc_ids_first);
	free(labels_first);
	free(mapp);
	free(locp);
	free(fnp);
	free(comments);
	for (size_t i = 0; i < nmeta; i++)
		free(meta[i]);
	free(meta);
	writer_release(&w);
	return ret;
}

