/*
 * The call tree by function with recursion folded, from which the hot path is read. Each stack is read with
 * its loops erased: when a function comes back on a stack, the frames since its earlier appearance are dropped,
 * so main;fib;fib;fib;hot reads main;fib;hot and eval;apply;eval;apply;prim reads eval;apply;prim. A function
 * is then at most once on each path of the tree, a node's total counts every sample through it once, and a
 * leaf hotspot under a recursion keeps its whole share instead of being split over the recursion's levels.
 * `depth` keeps how deep the recursion went: the most frames of the node's function on one stack folded into it.
 *
 * Built in one depth-first pass over the profile's trie, linear in its nodes (no walk towards the root).
 */
#ifndef KILN_CALLTREE_H
#define KILN_CALLTREE_H

#include <stddef.h>
#include <stdint.h>

struct profile;

/* Node 0 is the root (function UINT32_MAX); a child's id is above its parent's. */
struct calltree {
	uint32_t *parent, *fn, *first_child, *next_sibling; /* UINT32_MAX ends a child list */
	uint32_t *depth;      /* the most frames of `fn` on one stack folded into the node (1: no recursion) */
	int64_t *self, *total; /* saturating sums */
	size_t nr;
	uint32_t *of_node;    /* profile node -> tree node */
};

/*
 * Builds the tree of `p`: `order` is stack_preorder(p); `frame_fn` maps frames to functions below `nfns`;
 * `node_self` is each profile node's self cost; `node_rdepth` the number of frames of the node's function on
 * the stack from the root to it (1 for its outermost frame).
 */
void calltree_build(struct calltree *t, const struct profile *p, const uint32_t *order, const uint32_t *frame_fn,
		    size_t nfns, const int64_t *node_self, const uint32_t *node_rdepth);
void calltree_release(struct calltree *t);

#endif
