/* Depth-first order of the stack trie and nearest same-key ancestors, iteratively and in linear time. */
#include "stackwalk.h"

#include <stdlib.h>

#include "../core/xalloc.h"
#include "../profile/profile.h"

uint32_t *stack_preorder(const struct profile *p)
{
	size_t nr = p->nodes_nr ? p->nodes_nr : 1, len = 0, sp = 0;
	uint32_t *first = xmalloc(nr * sizeof(*first)), *next = xmalloc(nr * sizeof(*next));
	uint32_t *order = xmalloc(nr * sizeof(*order)), *stack = xmalloc(nr * sizeof(*stack));

	for (size_t n = 0; n < nr; n++)
		first[n] = UINT32_MAX;
	/* Children come after their parent in the trie, so a backwards pass links them in ascending order. */
	for (size_t n = p->nodes_nr; n-- > 1;) {
		uint32_t par = p->nodes[n].parent;

		next[n] = first[par];
		first[par] = (uint32_t)n;
	}
	/* Each node is pushed once, so the stack never holds more than all of them. */
	stack[sp++] = 0;
	while (sp) {
		uint32_t n = stack[--sp];

		order[len++] = n;
		for (uint32_t c = first[n]; c != UINT32_MAX; c = next[c])
			stack[sp++] = c;
	}
	free(first);
	free(next);
	free(stack);
	return order;
}

void stack_same_key_ancestor(const struct profile *p, const uint32_t *order, const uint32_t *key, size_t nkeys,
			     uint32_t *up)
{
	uint32_t *top = xcalloc(nkeys ? nkeys : 1, sizeof(*top)); /* key -> innermost node on the path, 0 none */
	uint32_t *path = xmalloc((p->nodes_nr ? p->nodes_nr : 1) * sizeof(*path));
	size_t depth = 0;

	if (p->nodes_nr)
		up[0] = 0;
	for (size_t i = 1; i < p->nodes_nr; i++) {
		uint32_t n = order[i], k = key[n];

		/* Leave the nodes of the path that are not ancestors of n, restoring what they shadowed. */
		while (depth && path[depth - 1] != p->nodes[n].parent) {
			uint32_t t = path[--depth];

			if (key[t] != STACK_NO_KEY)
				top[key[t]] = up[t];
		}
		up[n] = k != STACK_NO_KEY ? top[k] : 0;
		if (k != STACK_NO_KEY)
			top[k] = n;
		path[depth++] = n;
	}
	free(top);
	free(path);
}
