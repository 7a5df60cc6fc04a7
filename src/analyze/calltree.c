/* The call tree by function with recursion folded (loop-erased stacks), in one depth-first pass. */
#include "calltree.h"

#include <stdlib.h>
#include <string.h>

#include "../core/hash.h"
#include "../core/xalloc.h"
#include "../profile/profile.h"

#define NONE UINT32_MAX

void calltree_build(struct calltree *t, const struct profile *p, const uint32_t *order, const uint32_t *frame_fn,
		    size_t nfns, const int64_t *node_self, const uint32_t *node_rdepth)
{
	size_t n = p->nodes_nr ? p->nodes_nr : 1, sp = 0;
	struct u64map idx = U64MAP_INIT;
	/*
	 * While the walk is at profile node x, cpath[0..tdepth[of_node[x]]] is the tree path of x, and at[f] is the
	 * tree node where function f last joined a path (valid while cpath still holds it there). A node that
	 * extends the path saves the two slots it overwrites and puts them back when the walk leaves it, so the
	 * state is always that of the current stack.
	 */
	uint32_t *tdepth = xmalloc(n * sizeof(*tdepth)), *cpath = xmalloc(n * sizeof(*cpath));
	uint32_t *at = xmalloc((nfns ? nfns : 1) * sizeof(*at));
	uint32_t *saved_cpath = xmalloc(n * sizeof(*saved_cpath)), *saved_at = xmalloc(n * sizeof(*saved_at));
	uint32_t *path = xmalloc(n * sizeof(*path)), *kid = xmalloc(n * sizeof(*kid));
	unsigned char *wrote = xcalloc(n, 1);

	memset(t, 0, sizeof(*t));
	t->parent = xmalloc(n * sizeof(*t->parent));
	t->fn = xmalloc(n * sizeof(*t->fn));
	t->depth = xcalloc(n, sizeof(*t->depth));
	t->self = xcalloc(n, sizeof(*t->self));
	t->total = xcalloc(n, sizeof(*t->total));
	t->first_child = xmalloc(n * sizeof(*t->first_child));
	t->next_sibling = xmalloc(n * sizeof(*t->next_sibling));
	t->of_node = xmalloc(n * sizeof(*t->of_node));
	for (size_t f = 0; f < nfns; f++)
		at[f] = NONE;
	t->parent[0] = 0;
	t->fn[0] = NONE;
	t->of_node[0] = 0;
	t->self[0] = p->nodes_nr ? node_self[0] : 0;
	tdepth[0] = 0;
	kid[0] = NONE;
	cpath[0] = 0;
	t->nr = 1;
	for (size_t i = 1; i < p->nodes_nr; i++) {
		uint32_t pn = order[i], par = p->nodes[pn].parent, f = frame_fn[p->nodes[pn].frame];
		uint32_t cp, x, m;

		while (sp && path[sp - 1] != par) {
			uint32_t q = path[--sp];

			if (wrote[q]) {
				cpath[tdepth[t->of_node[q]]] = saved_cpath[q];
				at[t->fn[t->of_node[q]]] = saved_at[q];
			}
		}
		cp = t->of_node[par];
		x = at[f];
		if (x != NONE && tdepth[x] <= tdepth[cp] && cpath[tdepth[x]] == x) {
			m = x; /* f is already on the path: erase the loop */
		} else {
			uint32_t k = kid[cp];

			/* A tree node's first child is kept apart, as in the profile's trie: a deep chain of calls
			 * then never touches the map, whose every lookup is a cache miss once it is large. */
			if (k != NONE && t->fn[k] == f) {
				m = k;
			} else {
				uint64_t *slot = NULL;
				int ins = 1;

				if (k != NONE)
					slot = u64map_insert(&idx, ((uint64_t)cp << 32) | f, &ins);
				if (ins) {
					m = (uint32_t)t->nr++;
					t->parent[m] = cp;
					t->fn[m] = f;
					tdepth[m] = tdepth[cp] + 1;
					kid[m] = NONE;
					if (slot)
						*slot = m;
					else
						kid[cp] = m;
				} else {
					m = (uint32_t)*slot;
				}
			}
			saved_cpath[pn] = cpath[tdepth[m]];
			saved_at[pn] = at[f];
			wrote[pn] = 1;
			cpath[tdepth[m]] = m;
			at[f] = m;
		}
		t->of_node[pn] = m;
		t->self[m] = sat_add64(t->self[m], node_self[pn]);
		if (node_rdepth[pn] > t->depth[m])
			t->depth[m] = node_rdepth[pn];
		path[sp++] = pn;
	}
	/* A sample's folded stack is the tree path of its leaf's node: totals are subtree sums. */
	memcpy(t->total, t->self, t->nr * sizeof(*t->total));
	for (size_t m = t->nr; m-- > 1;)
		t->total[t->parent[m]] = sat_add64(t->total[t->parent[m]], t->total[m]);
	for (size_t m = 0; m < t->nr; m++)
		t->first_child[m] = NONE;
	for (size_t m = t->nr; m-- > 1;) {
		t->next_sibling[m] = t->first_child[t->parent[m]];
		t->first_child[t->parent[m]] = (uint32_t)m;
	}
	t->next_sibling[0] = NONE;
	free(tdepth);
	free(cpath);
	free(at);
	free(saved_cpath);
	free(saved_at);
	free(path);
	free(kid);
	free(wrote);
	u64map_release(&idx);
}

void calltree_release(struct calltree *t)
{
	free(t->parent);
	free(t->fn);
	free(t->depth);
	free(t->self);
	free(t->total);
	free(t->first_child);
	free(t->next_sibling);
	free(t->of_node);
	memset(t, 0, sizeof(*t));
}
