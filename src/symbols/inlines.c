/* Per-CU index of subprograms and inlined subroutines with their address ranges (see inlines.h). */
#include "inlines.h"

#include <dwarf.h>
#include <stdlib.h>

#include "../core/array.h"

struct inl_ival {
	uint64_t lo, hi;
	uint32_t node;
	uint32_t up;    /* the enclosing interval, INL_NONE at the top */
	uint32_t depth; /* nesting depth of the node, to order equal starts outer first */
};

struct cu_index {
	Dwarf_Files *files;
	struct inl_node *nodes;
	size_t nodes_nr, nodes_alloc;
	struct inl_ival *ivals;
	size_t ivals_nr, ivals_alloc;
};

static bool descend_into(int tag)
{
	switch (tag) {
	case DW_TAG_subprogram:
	case DW_TAG_inlined_subroutine:
	case DW_TAG_lexical_block:
	case DW_TAG_namespace:
	case DW_TAG_module:
	case DW_TAG_try_block:
	case DW_TAG_catch_block:
	case DW_TAG_with_stmt:
	case DW_TAG_common_block:
		return true;
	default:
		return false;
	}
}

/* Records `die` as a node with its ranges when it is a function with code; returns its node or `parent`. */
static uint32_t add_node(struct cu_index *ci, Dwarf_Die *die, int tag, uint32_t parent, uint32_t depth, bool *code)
{
	Dwarf_Addr base, lo, hi;
	ptrdiff_t off = 0;
	uint32_t id = (uint32_t)ci->nodes_nr;
	size_t first = ci->ivals_nr;

	*code = false;
	while ((off = dwarf_ranges(die, off, &base, &lo, &hi)) > 0) {
		if (hi <= lo)
			continue;
		ALLOC_GROW(ci->ivals, ci->ivals_nr + 1, ci->ivals_alloc);
		ci->ivals[ci->ivals_nr++] = (struct inl_ival){ lo, hi, id, INL_NONE, depth };
	}
	if (ci->ivals_nr == first)
		return parent;
	*code = true;

	struct inl_node n = { 0 };
	n.name = dwarf_diename(die);
	n.parent = parent;
	n.inlined = tag == DW_TAG_inlined_subroutine;
	if (n.inlined) {
		Dwarf_Attribute attr;
		Dwarf_Word val;
		if (dwarf_formudata(dwarf_attr(die, DW_AT_call_file, &attr), &val) == 0) {
			n.call_file = (uint32_t)val;
			n.has_call_file = 1;
		}
		if (dwarf_formudata(dwarf_attr(die, DW_AT_call_line, &attr), &val) == 0)
			n.call_line = (uint32_t)val;
	}
	ALLOC_GROW(ci->nodes, ci->nodes_nr + 1, ci->nodes_alloc);
	ci->nodes[ci->nodes_nr++] = n;
	return id;
}

static void walk(struct cu_index *ci, Dwarf_Die *parent_die, uint32_t parent, uint32_t depth)
{
	Dwarf_Die child;

	if (depth > 256 || dwarf_child(parent_die, &child) != 0)
		return;
	do {
		int tag = dwarf_tag(&child);
		uint32_t node = parent;
		bool code = false;
		if (!descend_into(tag))
			continue;
		if (tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine) {
			node = add_node(ci, &child, tag, parent, depth, &code);
			if (!code && tag == DW_TAG_subprogram)
				continue; /* a declaration or abstract instance: nothing with code below */
		}
		walk(ci, &child, node, depth + 1);
	} while (dwarf_siblingof(&child, &child) == 0);
}

static int cmp_ival(const void *a, const void *b)
{
	const struct inl_ival *x = a, *y = b;
	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	if (x->depth != y->depth)
		return x->depth < y->depth ? -1 : 1;
	return (x->hi < y->hi) - (x->hi > y->hi); /* wider first */
}

static struct cu_index *build(Dwarf_Die *cudie)
{
	struct cu_index *ci = xcalloc(1, sizeof(*ci));
	uint32_t *stack = NULL;
	size_t sn = 0;

	if (dwarf_getsrcfiles(cudie, &ci->files, NULL) != 0)
		ci->files = NULL;
	walk(ci, cudie, INL_NONE, 0);
	if (!ci->ivals_nr)
		return ci;
	qsort(ci->ivals, ci->ivals_nr, sizeof(*ci->ivals), cmp_ival);
	/* Enclosing interval of each, by a sweep with a stack of the open ones. */
	stack = xmalloc(ci->ivals_nr * sizeof(*stack));
	for (size_t i = 0; i < ci->ivals_nr; i++) {
		struct inl_ival *iv = &ci->ivals[i];
		while (sn && ci->ivals[stack[sn - 1]].hi <= iv->lo)
			sn--;
		iv->up = sn ? stack[sn - 1] : INL_NONE;
		stack[sn++] = (uint32_t)i;
	}
	free(stack);
	return ci;
}

struct cu_index *inl_cu(struct inl_index *ix, Dwarf_Die *cudie)
{
	int inserted = 0;
	uint64_t *slot = u64map_insert(&ix->by_offset, dwarf_dieoffset(cudie), &inserted);

	if (inserted) {
		ALLOC_GROW(ix->v, ix->nr + 1, ix->alloc);
		ix->v[ix->nr] = build(cudie);
		*slot = ix->nr++;
	}
	return ix->v[*slot];
}

uint32_t inl_lookup(const struct cu_index *ci, uint64_t pc)
{
	size_t lo = 0, hi = ci->ivals_nr;
	uint32_t i;

	if (!hi || pc < ci->ivals[0].lo)
		return INL_NONE;
	while (hi - lo > 1) { /* last interval starting at or below pc */
		size_t mid = lo + (hi - lo) / 2;
		if (ci->ivals[mid].lo <= pc)
			lo = mid;
		else
			hi = mid;
	}
	for (i = (uint32_t)lo; i != INL_NONE; i = ci->ivals[i].up)
		if (pc < ci->ivals[i].hi)
			return ci->ivals[i].node;
	return INL_NONE;
}

const struct inl_node *inl_node(const struct cu_index *ci, uint32_t node)
{
	return node < ci->nodes_nr ? &ci->nodes[node] : NULL;
}

const char *inl_call_file(const struct cu_index *ci, const struct inl_node *n)
{
	if (!ci->files || !n->has_call_file)
		return NULL;
	return dwarf_filesrc(ci->files, n->call_file, NULL, NULL);
}

void inl_index_release(struct inl_index *ix)
{
	for (size_t i = 0; i < ix->nr; i++) {
		free(ix->v[i]->nodes);
		free(ix->v[i]->ivals);
		free(ix->v[i]);
	}
	free(ix->v);
	u64map_release(&ix->by_offset);
}
