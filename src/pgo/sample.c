/* The LLVM sample-profile text writer of kiln pgo sample (AutoFDO from kiln's stacks and the binary's DWARF). */
#include "pgo/sample.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/array.h"
#include "core/err.h"
#include "core/hash.h"
#include "core/xalloc.h"
#include "pgo/debuginfo.h"
#include "profile/profile.h"

#define MAX_OFFSET 65535 /* Clang refuses a line offset this large: it is a line of another function or file */

struct target {
	uint32_t name; /* id in writer.names */
	uint64_t count;
};

struct rec {
	uint32_t off, disc;
	uint64_t count;
	struct target *t;
	size_t t_nr, t_alloc;
};

struct fs;
struct callsite {
	uint32_t off, disc;
	struct fs *fs;
};

/* One function's samples: top level, or a call site's inlined callee (LLVM's FunctionSamples). */
struct fs {
	uint32_t name;
	struct rec *r;
	size_t r_nr, r_alloc;
	struct callsite *c;
	size_t c_nr, c_alloc;
	uint64_t total; /* filled by finish() */
};

/* A resolved frame: the profile name of its function and its line offset. */
struct place {
	uint32_t name;
	uint32_t off;
};

struct writer {
	const struct profile *p;
	struct pgo_dbg *dbg;
	const struct pgo_sample_opts *o;
	struct strtab names;
	struct fs **top;
	size_t top_nr, top_alloc;
	struct u64map top_index;  /* name id -> index in top */
	struct pgo_modmatch module;
	struct u64map frame_memo; /* frame id -> 1 + (name << 32 | off), or 0 when it cannot be placed */
	struct u64map chain_memo; /* frame id << 1 | leaf -> 1 + index in chains, or 0 when it cannot be placed */
	struct u64map stale_fns;  /* function string ids of stale samples */
	struct place *chains;     /* chains[i]: its length, then its places outermost first */
	size_t chains_nr, chains_alloc;
};

static struct fs *fs_new(uint32_t name)
{
	struct fs *f = xcalloc(1, sizeof(*f));

	f->name = name;
	return f;
}

static void fs_free(struct fs *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->r_nr; i++)
		free(f->r[i].t);
	for (size_t i = 0; i < f->c_nr; i++)
		fs_free(f->c[i].fs);
	free(f->r);
	free(f->c);
	free(f);
}

static struct rec *rec_at(struct fs *f, uint32_t off, uint32_t disc)
{
	for (size_t i = 0; i < f->r_nr; i++)
		if (f->r[i].off == off && f->r[i].disc == disc)
			return &f->r[i];
	ALLOC_GROW(f->r, f->r_nr + 1, f->r_alloc);
	memset(&f->r[f->r_nr], 0, sizeof(f->r[0]));
	f->r[f->r_nr].off = off;
	f->r[f->r_nr].disc = disc;
	return &f->r[f->r_nr++];
}

static struct fs *callsite_at(struct fs *f, uint32_t off, uint32_t disc, uint32_t callee)
{
	for (size_t i = 0; i < f->c_nr; i++)
		if (f->c[i].off == off && f->c[i].disc == disc && f->c[i].fs->name == callee)
			return f->c[i].fs;
	ALLOC_GROW(f->c, f->c_nr + 1, f->c_alloc);
	f->c[f->c_nr].off = off;
	f->c[f->c_nr].disc = disc;
	f->c[f->c_nr].fs = fs_new(callee);
	return f->c[f->c_nr++].fs;
}

static struct fs *top_fs(struct writer *w, uint32_t name)
{
	int inserted;
	uint64_t *slot = u64map_insert(&w->top_index, name, &inserted);

	if (inserted) {
		ALLOC_GROW(w->top, w->top_nr + 1, w->top_alloc);
		w->top[w->top_nr] = fs_new(name);
		*slot = w->top_nr++;
	}
	return w->top[*slot];
}

static void add_target(struct rec *r, uint32_t name, uint64_t count)
{
	for (size_t i = 0; i < r->t_nr; i++) {
		if (r->t[i].name == name) {
			r->t[i].count += count;
			return;
		}
	}
	ALLOC_GROW(r->t, r->t_nr + 1, r->t_alloc);
	r->t[r->t_nr].name = name;
	r->t[r->t_nr++].count = count;
}

static bool in_binary(struct writer *w, uint32_t module)
{
	return pgo_modmatch(&w->module, w->p, module);
}

/* A profile name must survive the text format: no spaces, no colons (the field separators). */
static bool name_ok(const char *s)
{
	return *s && !strpbrk(s, " \t\n:");
}

static bool place(struct writer *w, uint32_t frame_id, struct place *out)
{
	int inserted;
	uint64_t *memo = u64map_insert(&w->frame_memo, frame_id, &inserted);

	if (inserted) {
		const struct frame *f = &w->p->frames[frame_id];
		const char *file = profile_str(w->p, f->file);
		const struct pgo_fn *fn = f->function ? pgo_dbg_function(w->dbg, profile_str(w->p, f->function), file)
						      : NULL;

		*memo = 0;
		if (fn && f->line >= fn->line && f->line - fn->line < MAX_OFFSET && pgo_same_file(fn->file, file) &&
		    name_ok(fn->symbol)) {
			uint64_t name = strtab_intern(&w->names, fn->symbol, strlen(fn->symbol));

			*memo = 1 + (name << 32 | (f->line - fn->line));
		}
	}
	if (!*memo)
		return false;
	out->name = (uint32_t)((*memo - 1) >> 32);
	out->off = (uint32_t)(*memo - 1);
	return true;
}

static bool offset_ok(uint32_t line, uint32_t start)
{
	return start && line >= start && line - start < MAX_OFFSET;
}

/*
 * A location whose frames have no lines (kiln's symbolizer found no line table for the address: Clang's DWARF
 * without .debug_aranges on elfutils 0.188) is placed from the DWARF's inline chain at its address instead.
 * Returns the chain's length (places outermost first in `pl`), 0 when it cannot be placed.
 */
static size_t place_chain(struct writer *w, uint32_t frame_id, bool leaf, struct place *pl, size_t max)
{
	const struct frame *f = &w->p->frames[frame_id];
	int inserted;
	uint64_t *memo = u64map_insert(&w->chain_memo, (uint64_t)frame_id << 1 | leaf, &inserted);

	if (inserted) {
		struct pgo_inline ch[64];
		size_t k = pgo_dbg_inline_chain(w->dbg, leaf ? f->addr : f->addr - 1, ch, ARRAY_SIZE(ch)), base;

		*memo = 0;
		for (size_t i = 0; i < k; i++)
			if (!offset_ok(ch[i].line, ch[i].start) || !pgo_same_file(ch[i].decl_file, ch[i].file) ||
			    !name_ok(ch[i].symbol))
				k = 0;
		if (!k)
			goto done;
		base = w->chains_nr;
		ALLOC_GROW(w->chains, w->chains_nr + k + 1, w->chains_alloc);
		w->chains[w->chains_nr++].off = (uint32_t)k;
		for (size_t i = k; i-- > 0;) {
			w->chains[w->chains_nr].name = strtab_intern(&w->names, ch[i].symbol, strlen(ch[i].symbol));
			w->chains[w->chains_nr++].off = ch[i].line - ch[i].start;
		}
		*memo = base + 1;
	}
done:
	if (!*memo || w->chains[*memo - 1].off > max)
		return 0;
	memcpy(pl, &w->chains[*memo], w->chains[*memo - 1].off * sizeof(*pl));
	return w->chains[*memo - 1].off;
}

/* A callee's name for a call target: its profile name when it is placeable, else kiln's name when usable. */
static bool callee_name(struct writer *w, uint32_t frame_id, bool leaf, uint32_t *name)
{
	const struct frame *f = &w->p->frames[frame_id];
	struct place pl, chain[64];
	const char *s;

	if (!f->line && f->addr && place_chain(w, frame_id, leaf, chain, ARRAY_SIZE(chain))) {
		*name = chain[0].name;
		return true;
	}
	if (place(w, frame_id, &pl)) {
		*name = pl.name;
		return true;
	}
	s = profile_str(w->p, f->function);
	if (f->kind != FRAME_NATIVE || !name_ok(s))
		return false;
	*name = strtab_intern(&w->names, s, strlen(s));
	return true;
}

/*
 * True when the leaf's address sits elsewhere in the binary than kiln's frames say: its inline chain in the
 * DWARF has other lines (frames with lines: ids[a..b), physical first), or another outermost function (frames
 * placed from the DWARF's chain, `pl` outermost first). A profile of another build is stale, never misplaced.
 */
static bool leaf_stale(struct writer *w, const uint32_t *ids, size_t a, size_t b, bool chain,
		       const struct place *pl, uint32_t *disc)
{
	const struct frame *phys = &w->p->frames[ids[a]], *lf = &w->p->frames[ids[b - 1]];
	struct pgo_inline ch[64];
	uint32_t line = 0;
	const struct pgo_fn *fn;
	size_t k;

	if (!lf->addr || !pgo_dbg_line(w->dbg, lf->addr, &line, disc))
		return false;
	if (chain) {
		if (!phys->function)
			return false;
		fn = pgo_dbg_function(w->dbg, profile_str(w->p, phys->function), NULL);
		return fn && strcmp(fn->symbol, strtab_str(&w->names, pl[0].name));
	}
	k = pgo_dbg_inline_chain(w->dbg, lf->addr, ch, ARRAY_SIZE(ch));
	if (!k)
		return line && lf->line && line != lf->line;
	if (k != b - a)
		return true;
	for (size_t j = 0; j < k; j++)
		if (ch[k - 1 - j].line != w->p->frames[ids[a + j]].line)
			return true;
	return false;
}

static void count_stale(struct writer *w, const struct frame *f, uint64_t count, struct pgo_sample_stats *st)
{
	int inserted;

	st->stale += count;
	u64map_insert(&w->stale_fns, f->function, &inserted);
	if (!inserted)
		return;
	if (st->stale_functions < ARRAY_SIZE(st->stale_names))
		st->stale_names[st->stale_functions] = profile_str(w->p, f->function);
	st->stale_functions++;
}

/*
 * One stack (frame ids root to leaf) with `count` samples. Locations are a physical frame and the inlined
 * frames leafward of it; `start[i]` is the first frame of location i.
 */
static void add_stack(struct writer *w, const uint32_t *ids, size_t n, uint64_t count, struct pgo_sample_stats *st)
{
	const struct profile *p = w->p;
	size_t start[512], nloc = 0;

	for (size_t i = 0; i < n && nloc < ARRAY_SIZE(start); i++)
		if (p->frames[ids[i]].kind != FRAME_INLINED || !nloc)
			start[nloc++] = i;
	if (!nloc || !in_binary(w, p->frames[ids[n - 1]].module))
		return;
	st->in_binary += count;
	for (size_t l = 0; l < nloc; l++) {
		size_t end = l + 1 < nloc ? start[l + 1] : n;
		bool leaf = l + 1 == nloc;
		struct place pl[64];
		size_t k = end - start[l];
		struct fs *f;
		uint32_t disc = 0, callee = 0;

		if (!in_binary(w, p->frames[ids[start[l]]].module))
			continue;
		bool ok = k <= ARRAY_SIZE(pl), chain = false;
		const struct frame *phys = &p->frames[ids[start[l]]];

		if (ok && !phys->line && phys->addr && (chain = true))
			ok = (k = place_chain(w, ids[start[l]], leaf, pl, ARRAY_SIZE(pl))) > 0;
		else
			for (size_t j = 0; j < k && ok; j++)
				ok = place(w, ids[start[l] + j], &pl[j]);
		if (!ok) {
			st->unplaced += leaf ? count : 0;
			continue;
		}
		if (!leaf && (w->o->no_call_targets || !callee_name(w, ids[end], l + 2 == nloc, &callee)))
			continue;
		if (leaf && leaf_stale(w, ids, start[l], n, chain, pl, &disc)) {
			count_stale(w, &p->frames[ids[n - 1]], count, st);
			continue;
		}
		f = top_fs(w, pl[0].name);
		for (size_t j = 0; j + 1 < k; j++)
			f = callsite_at(f, pl[j].off, 0, pl[j + 1].name);
		if (leaf) {
			rec_at(f, pl[k - 1].off, disc)->count += count;
			st->written += count;
		} else {
			add_target(rec_at(f, pl[k - 1].off, 0), callee, count);
		}
	}
}

/* Totals, and a call line's samples at least its targets' (a block LLVM would otherwise read as never run). */
static uint64_t finish(struct fs *f)
{
	uint64_t total = 0;

	for (size_t i = 0; i < f->r_nr; i++) {
		uint64_t t = 0;

		for (size_t j = 0; j < f->r[i].t_nr; j++)
			t += f->r[i].t[j].count;
		if (f->r[i].count < t)
			f->r[i].count = t;
		total += f->r[i].count;
	}
	for (size_t i = 0; i < f->c_nr; i++)
		total += finish(f->c[i].fs);
	f->total = total;
	return total;
}

static int cmp_rec(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;

	return x->off != y->off ? (x->off < y->off ? -1 : 1) : x->disc < y->disc ? -1 : x->disc > y->disc;
}

static const struct strtab *sort_names; /* for the comparators below: qsort has no context argument */

static int cmp_target(const void *a, const void *b)
{
	const struct target *x = a, *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(strtab_str(sort_names, x->name), strtab_str(sort_names, y->name));
}

static int cmp_callsite(const void *a, const void *b)
{
	const struct callsite *x = a, *y = b;

	if (x->off != y->off)
		return x->off < y->off ? -1 : 1;
	if (x->disc != y->disc)
		return x->disc < y->disc ? -1 : 1;
	return strcmp(strtab_str(sort_names, x->fs->name), strtab_str(sort_names, y->fs->name));
}

static int cmp_top(const void *a, const void *b)
{
	const struct fs *x = *(const struct fs *const *)a, *y = *(const struct fs *const *)b;

	if (x->total != y->total)
		return x->total > y->total ? -1 : 1;
	return strcmp(strtab_str(sort_names, x->name), strtab_str(sort_names, y->name));
}

static void print_loc(FILE *out, int indent, uint32_t off, uint32_t disc)
{
	fprintf(out, "%*s%" PRIu32, indent, "", off);
	if (disc)
		fprintf(out, ".%" PRIu32, disc);
	fputs(": ", out);
}

static void print_body(const struct writer *w, FILE *out, struct fs *f, int indent)
{
	if (f->r_nr > 1)
		qsort(f->r, f->r_nr, sizeof(*f->r), cmp_rec);
	if (f->c_nr > 1)
		qsort(f->c, f->c_nr, sizeof(*f->c), cmp_callsite);
	for (size_t i = 0; i < f->r_nr; i++) {
		struct rec *r = &f->r[i];

		print_loc(out, indent, r->off, r->disc);
		fprintf(out, "%" PRIu64, r->count);
		if (r->t_nr > 1)
			qsort(r->t, r->t_nr, sizeof(*r->t), cmp_target);
		for (size_t j = 0; j < r->t_nr; j++)
			fprintf(out, " %s:%" PRIu64, strtab_str(&w->names, r->t[j].name), r->t[j].count);
		fputc('\n', out);
	}
	for (size_t i = 0; i < f->c_nr; i++) {
		if (!f->c[i].fs->total)
			continue;
		print_loc(out, indent, f->c[i].off, f->c[i].disc);
		fprintf(out, "%s:%" PRIu64 "\n", strtab_str(&w->names, f->c[i].fs->name), f->c[i].fs->total);
		print_body(w, out, f->c[i].fs, indent + 1);
	}
}

static int pick_column(const struct profile *p, int column)
{
	if (column >= 0)
		return column;
	column = profile_find_column(p, "samples");
	return column >= 0 ? column : profile_default_column(p);
}

int pgo_sample_write(const struct profile *p, struct pgo_dbg *dbg, const struct pgo_sample_opts *o, FILE *out,
		     struct pgo_sample_stats *st, struct err *e)
{
	struct writer w = { .p = p, .dbg = dbg, .o = o, .names = STRTAB_INIT };
	uint32_t *ids = NULL;
	size_t ids_alloc = 0;
	int col = pick_column(p, o->column), ret = -1;

	memset(st, 0, sizeof(*st));
	if (col < 0 || (size_t)col >= p->ncolumns)
		return err_set(e, "the profile has no sample values");
	pgo_modmatch_init(&w.module, o->binary);
	for (size_t r = 0; r < p->rows_nr; r++) {
		int64_t v = profile_row_values(p, r)[col];
		uint32_t node = p->rows[r].node;
		size_t depth = p->nodes[node].depth, n;

		if (v <= 0 || !depth)
			continue;
		st->total += (uint64_t)v;
		ALLOC_GROW(ids, depth, ids_alloc);
		n = profile_stack(p, node, ids, depth);
		add_stack(&w, ids, n, (uint64_t)v, st);
	}
	if (!st->in_binary) {
		err_set(e, "no samples of '%s' in the profile (is it the profiled program?)", o->binary);
		goto out;
	}
	if (!st->written && st->stale) {
		err_set(e, "the profile is stale for '%s': its samples sit on other lines in its debug information "
			   "(rebuilt since the profile was taken?)", o->binary);
		goto out;
	}
	if (!st->written) {
		err_set(e, "none of the samples of '%s' could be placed: its debug information does not describe "
			   "the profiled functions (rebuilt since? built with -g?)", o->binary);
		goto out;
	}
	for (size_t i = 0; i < w.top_nr; i++)
		finish(w.top[i]);
	sort_names = &w.names;
	if (w.top_nr > 1)
		qsort(w.top, w.top_nr, sizeof(*w.top), cmp_top);
	for (size_t i = 0; i < w.top_nr; i++) {
		if (!w.top[i]->total)
			continue;
		fprintf(out, "%s:%" PRIu64 ":0\n", strtab_str(&w.names, w.top[i]->name), w.top[i]->total);
		print_body(&w, out, w.top[i], 1);
		st->functions++;
	}
	sort_names = NULL;
	ret = 0;
out:
	for (size_t i = 0; i < w.top_nr; i++)
		fs_free(w.top[i]);
	free(w.top);
	free(ids);
	pgo_modmatch_release(&w.module);
	strtab_release(&w.names);
	u64map_release(&w.top_index);
	u64map_release(&w.frame_memo);
	u64map_release(&w.chain_memo);
	u64map_release(&w.stale_fns);
	free(w.chains);
	return ret;
}

const char *pgo_sample_main_module(const struct profile *p)
{
	struct u64map counts = U64MAP_INIT;
	int col = pick_column(p, -1);
	uint64_t best = 0, key, val;
	uint32_t best_module = 0;
	size_t pos = 0;

	if (col < 0)
		return NULL;
	for (size_t r = 0; r < p->rows_nr; r++) {
		const struct stack_node *node = &p->nodes[p->rows[r].node];
		const struct frame *f = &p->frames[node->frame];
		int64_t v = profile_row_values(p, r)[col];
		int inserted;

		if (!node->depth || v <= 0 || !f->module || (f->kind != FRAME_NATIVE && f->kind != FRAME_INLINED))
			continue;
		*u64map_insert(&counts, f->module, &inserted) += (uint64_t)v;
	}
	while (u64map_next(&counts, &pos, &key, &val)) {
		if (val > best || (val == best && key < best_module)) {
			best = val;
			best_module = (uint32_t)key;
		}
	}
	u64map_release(&counts);
	return best ? profile_str(p, best_module) : NULL;
}
