/*
 * Flame graphs of a store's merges as text, for the tests of both backends (test_server_store.c, test_server_pg.c):
 * a merge for a graph of at most maxNodes nodes (store_select_merge_graph) must give the graph of the whole merge.
 */
#ifndef KILN_TEST_STORE_GRAPH_H
#define KILN_TEST_STORE_GRAPH_H

#include <stdbool.h>

#include "core/buf.h"
#include "core/err.h"
#include "profile/profile.h"
#include "server/flamebearer.h"
#include "server/store.h"

/* A flame graph as text: names, then each level's values. */
static void graph_text(const struct flamebearer *fb, struct buf *out)
{
	for (size_t i = 0; i < fb->names.nr; i++)
		buf_addf(out, "%s,", strtab_str(&fb->names, (uint32_t)i));
	for (size_t d = 0; d < fb->nlevels; d++) {
		buf_adds(out, "\n");
		for (size_t k = 0; k < fb->levels[d].nr; k++)
			buf_addf(out, "%lld ", (long long)fb->levels[d].v[k]);
	}
}

/* The graph of `q`'s merge, truncated by the store (`in_store`) or only by the graph. */
static char *graph_of(struct store *s, const struct store_query *q, int64_t max_nodes, bool in_store)
{
	struct profile *p = profile_new(0);
	struct flamebearer fb;
	struct buf out = BUF_INIT;
	struct err e = ERR_INIT;

	if ((in_store ? store_select_merge_graph(s, q, max_nodes, p, &e) : store_select_merge(s, q, p, &e)) ||
	    flamebearer_build(&fb, p, 0, max_nodes, &e))
		fail_msg("%s", e.msg);
	graph_text(&fb, &out);
	buf_addf(&out, "\nnodes %zu total %lld", fb.nodes, (long long)fb.total);
	flamebearer_release(&fb);
	profile_free(p);
	return buf_detach(&out, NULL);
}

#endif
