/*
 * Walking a profile's stack trie in time linear in its nodes and without recursion: stacks can be hundreds of
 * thousands of frames deep, so nothing here walks from a node up to the root.
 *
 *   uint32_t *order = stack_preorder(p);
 *   stack_same_key_ancestor(p, order, key, nkeys, up);   // key = function of each node's frame, ...
 *   free(order);
 */
#ifndef KILN_STACKWALK_H
#define KILN_STACKWALK_H

#include <stddef.h>
#include <stdint.h>

struct profile;

#define STACK_NO_KEY UINT32_MAX

/* The profile's nodes in depth-first preorder, root first: a heap array of p->nodes_nr ids (caller frees). */
uint32_t *stack_preorder(const struct profile *p);

/*
 * Fills `up` (p->nodes_nr entries) with each node's nearest proper ancestor of the same key, or 0 when it has
 * none. `key[n]` is below `nkeys`, or STACK_NO_KEY for a node without one (its `up` is 0). A node with `up` 0 is
 * the outermost of its key on every stack through it: adding up the inclusive values of those nodes counts each
 * sample once per key, as pprof's cum does for a function that recurses.
 */
void stack_same_key_ancestor(const struct profile *p, const uint32_t *order, const uint32_t *key, size_t nkeys,
			     uint32_t *up);

#endif
