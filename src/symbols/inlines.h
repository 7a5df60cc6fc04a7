/*
 * Per-compilation-unit index of functions and inlined instances, built by walking the CU's DIE tree once, so
 * that the inline chain of an address is a bisection plus a walk up its parents instead of a DIE tree walk per
 * address (which is what dwarf_getscopes does). Internal to src/symbols.
 */
#ifndef KILN_INLINES_H
#define KILN_INLINES_H

#include <elfutils/libdw.h>
#include <stdint.h>

#include "../core/hash.h"

#define INL_NONE UINT32_MAX

struct inl_node {
	const char *name;   /* DW_AT_name (through abstract_origin/specification), owned by libdw; may be NULL */
	uint32_t parent;    /* enclosing node, INL_NONE at the top */
	uint32_t call_file; /* DW_AT_call_file of an inlined instance (an index into the CU's files) */
	uint32_t call_line;
	uint8_t inlined;    /* DW_TAG_inlined_subroutine (else DW_TAG_subprogram) */
	uint8_t has_call_file;
};

struct cu_index;

struct inl_index {
	struct u64map by_offset; /* CU DIE offset -> index in v */
	struct cu_index **v;
	size_t nr, alloc;
};

#define INL_INDEX_INIT { U64MAP_INIT, NULL, 0, 0 }

void inl_index_release(struct inl_index *ix);
/* The index of `cudie` (built on first use). Never NULL. */
struct cu_index *inl_cu(struct inl_index *ix, Dwarf_Die *cudie);
/* The innermost node containing CU-relative `pc`, or INL_NONE. */
uint32_t inl_lookup(const struct cu_index *ci, uint64_t pc);
const struct inl_node *inl_node(const struct cu_index *ci, uint32_t node);
/* The source file of an inlined node's call site, or NULL. */
const char *inl_call_file(const struct cu_index *ci, const struct inl_node *n);

#endif
