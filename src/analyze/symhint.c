/* The "debuginfo" recommendation (symhint.h): hot modules without names, and where their symbols come from. */
#include "symhint.h"

#include <stdlib.h>
#include <string.h>

#include "../core/array.h"
#include "../core/buf.h"
#include "../core/hash.h"
#include "../core/util.h"
#include "../core/xalloc.h"
#include "../profile/meta.h"
#include "../profile/profile.h"
#include "../symbols/dbghint.h"
#include "analysis.h"

/* Modules measured at once: one bit each per stack node. */
#define MAX_MODULES 64
/* Unnamed functions cited as evidence per module. */
#define MAX_CITED 5

bool symhint_unnamed(const struct profile *p, const struct frame *f)
{
	if ((f->kind != FRAME_NATIVE && f->kind != FRAME_UNKNOWN) || !f->module)
		return false;
	const char *mod = profile_str(p, f->module);
	if (mod[0] != '/' || !strncmp(mod, "/memfd:", 7) || !strncmp(mod, "/dev/", 5) || !strncmp(mod, "/tmp/perf-", 10))
		return false;
	if (!f->function)
		return true;
	const char *name = profile_str(p, f->function);
	size_t len = profile_strlen(p, f->function);
	/* the symbolizer's "[base+0xoffset]", perf's "[unknown]" */
	return !strcmp(name, "[unknown]") ||
	       (len > 4 && name[0] == '[' && name[len - 1] == ']' && memmem(name, len, "+0x", 3));
}

/* The build-id recorded for module path `mod` (the profile's typed metadata), or NULL; malloc'd. */
static char *noted_build_id(const struct profile *p, const char *mod)
{
	int64_t m = strtab_find(&p->strings, mod, strlen(mod));
	uint32_t id = m > 0 ? profile_build_id(p, (uint32_t)m) : 0;

	return id ? xstrdup(profile_str(p, id)) : NULL;
}

struct module_cost {
	uint32_t module;   /* string id of the path */
	int64_t heaviest;  /* the largest inclusive cost of one of its unnamed functions: orders the candidates */
	int64_t through;   /* samples with its unnamed code on the stack, each counted once */
};

static int by_heaviest(const void *x, const void *y)
{
	const struct module_cost *a = x, *b = y;
	if (a->heaviest != b->heaviest)
		return a->heaviest > b->heaviest ? -1 : 1;
	return (a->module > b->module) - (a->module < b->module);
}

/* Modules with unnamed frames, heaviest first; `frame_mod` gets each frame's index in the result + 1 (0: named).
 * Returns their number (at most MAX_MODULES). */
static size_t find_modules(const struct analysis *a, struct module_cost **out, uint32_t *frame_mod)
{
	const struct profile *p = a->p;
	struct u64map index = U64MAP_INIT;
	struct module_cost *v = NULL;
	size_t nr = 0, alloc = 0;

	for (size_t f = 0; f < p->frames_nr; f++) {
		if (!symhint_unnamed(p, &p->frames[f]))
			continue;
		int ins;
		uint64_t *slot = u64map_insert(&index, p->frames[f].module, &ins);
		if (ins) {
			ALLOC_GROW(v, nr + 1, alloc);
			v[nr] = (struct module_cost){ p->frames[f].module, 0, 0 };
			*slot = nr++;
		}
		int64_t total = a->fns.v[a->frame_fn[f]].total;
		if (total > v[*slot].heaviest)
			v[*slot].heaviest = total;
	}
	if (nr > 1)
		qsort(v, nr, sizeof(*v), by_heaviest);
	if (nr > MAX_MODULES)
		nr = MAX_MODULES;
	u64map_release(&index);
	for (size_t i = 0; i < nr; i++)
		*u64map_insert(&index, v[i].module, &(int){ 0 }) = i;
	for (size_t f = 0; f < p->frames_nr; f++) {
		uint64_t *slot = symhint_unnamed(p, &p->frames[f]) ? u64map_find(&index, p->frames[f].module) : NULL;
		frame_mod[f] = slot ? (uint32_t)*slot + 1 : 0;
	}
	u64map_release(&index);
	*out = v;
	return nr;
}

/* Each module's `through`: one preorder pass carrying, per node, the set of modules unnamed above it. */
static void measure(const struct analysis *a, struct module_cost *mods, const uint32_t *frame_mod)
{
	const struct profile *p = a->p;
	uint64_t *mask = xcalloc(p->nodes_nr ? p->nodes_nr : 1, sizeof(*mask));

	for (size_t i = 1; i < p->nodes_nr; i++) {
		uint32_t n = a->order[i], m = frame_mod[p->nodes[n].frame];
		mask[n] = mask[p->nodes[n].parent] | (m ? 1ull << (m - 1) : 0);
		if (!a->node_self[n])
			continue;
		for (uint64_t bits = mask[n]; bits; bits &= bits - 1)
			mods[__builtin_ctzll(bits)].through = sat_add64(mods[__builtin_ctzll(bits)].through, a->node_self[n]);
	}
	free(mask);
}

/* A new recommendation placed by share among the catalogue's (heaviest first, tiny-functions kept last). */
static struct recommendation *insert_rec(struct analysis *a, double pct)
{
	size_t at = 0;

	while (at < a->recs_nr && a->recs[at].evidence.pct >= pct && strcmp(a->recs[at].rule, "tiny-functions"))
		at++;
	ALLOC_GROW(a->recs, a->recs_nr + 1, a->recs_alloc);
	memmove(a->recs + at + 1, a->recs + at, (a->recs_nr - at) * sizeof(*a->recs));
	a->recs_nr++;
	memset(&a->recs[at], 0, sizeof(a->recs[at]));
	return &a->recs[at];
}

static void add_rec(struct analysis *a, const struct module_cost *mc, const uint32_t *frame_mod, uint32_t idx)
{
	const struct profile *p = a->p;
	const char *path = profile_str(p, mc->module);
	double pct = 100.0 * (double)mc->through / (double)a->grand_total;
	char *bid = noted_build_id(p, path), *owned[2];
	struct dbghint_facts facts;
	struct buf msg = BUF_INIT;
	struct recommendation *rec;
	struct u64map cited = U64MAP_INIT; /* function indices already cited */

	dbghint_gather(&facts, path, bid, owned);
	buf_addf(&msg, "%.1f%% of the samples run through code of %s without function names (%s has no debug symbols "
		 "here): ", pct, facts.module, path);
	dbghint_advice(&msg, &facts);
	rec = insert_rec(a, pct);
	rec->rule = "debuginfo";
	rec->title = "Missing debug symbols";
	rec->severity = severity_of(pct, a->threshold);
	rec->evidence.pct = pct;
	rec->evidence.value = mc->through;
	rec->message = buf_detach(&msg, NULL);
	for (size_t f = 0; f < p->frames_nr; f++) {
		int ins = 0;
		if (frame_mod[f] == idx + 1)
			u64map_insert(&cited, a->frame_fn[f], &ins);
		if (ins) {
			const struct hotspot *h = &a->fns.v[a->frame_fn[f]];
			share_list_add(&rec->evidence.functions, h->name, h->module, 0, h->total, h->total_pct);
		}
	}
	share_list_finish(&rec->evidence.functions, MAX_CITED);
	u64map_release(&cited);
	free(owned[0]);
	free(owned[1]);
	free(bid);
}

void symhint_add(struct analysis *a)
{
	const struct profile *p = a->p;
	struct module_cost *mods = NULL;
	uint32_t *frame_mod;
	size_t nr;

	if (a->grand_total <= 0 || !p->frames_nr)
		return;
	frame_mod = xcalloc(p->frames_nr, sizeof(*frame_mod));
	nr = find_modules(a, &mods, frame_mod);
	if (nr) {
		measure(a, mods, frame_mod);
		for (size_t i = 0; i < nr; i++)
			if (100.0 * (double)mods[i].through / (double)a->grand_total >= a->threshold)
				add_rec(a, &mods[i], frame_mod, (uint32_t)i);
	}
	free(mods);
	free(frame_mod);
}
