/* The profile diff behind a benchmark change (bench_diff.h). */
#include "server/bench_diff.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "analyze/diff.h"
#include "bench/trend.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/util.h"
#include "core/xalloc.h"
#include "formats/format.h"
#include "profile/profile.h"
#include "render/diff_graph.h"

int bench_diff_files(const char *before, const char *after, bool graph, size_t top, struct trend_change *c,
		     struct err *e)
{
	struct profile *pb = profile_new(0), *pa = profile_new(0);
	struct diff_opts dopts = DIFF_OPTS_INIT;
	struct diff_plan plan;
	struct diff_result d;
	char *tmp = NULL;
	int fd = -1, r = -1;
	size_t i;

	if (profile_load(pb, before, NULL, NULL, NULL, e) || profile_load(pa, after, NULL, NULL, NULL, e))
		goto out;
	if (diff_compute(pb, pa, &dopts, &d, e))
		goto out;
	c->nfns = d.nr < top ? d.nr : top;
	c->fns = xcalloc(c->nfns ? c->nfns : 1, sizeof(*c->fns));
	for (i = 0; i < c->nfns; i++) {
		const struct diff_fn *f = &d.v[i];

		c->fns[i] = (struct trend_fn){ .name = xstrdup(strtab_str(&d.names, f->name)),
					       .before_pct = f->before_pct, .after_pct = f->after_pct,
					       .delta_pct = f->delta_pct, .p_adjusted = f->p_adjusted,
					       .significant = f->significant };
	}
	diff_release(&d);
	if (graph) {
		/* fg_write_diff() writes a file: go through a private temporary one to embed the SVG. */
		const char *dir = getenv("TMPDIR");
		struct buf svg = BUF_INIT;
		char chunk[65536];
		FILE *f;
		size_t n;

		tmp = xasprintf("%s/kiln-trend-XXXXXX.svg", dir && *dir ? dir : "/tmp");
		fd = mkstemps(tmp, 4);
		if (fd < 0) {
			err_errno(e, "cannot create a temporary file");
			goto out;
		}
		dopts.title = "Differential flame graph: last good -> first bad";
		if (diff_graph_plan(pb, pa, &dopts, &plan, e) || fg_write_diff(pb, pa, &plan, tmp, e))
			goto out;
		f = fopen(tmp, "rb");
		if (!f) {
			err_errno(e, "cannot read '%s'", tmp);
			goto out;
		}
		while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
			buf_add(&svg, chunk, n);
		fclose(f);
		c->graph = buf_detach(&svg, NULL);
	}
	r = 0;
out:
	if (fd >= 0) {
		close(fd);
		unlink(tmp);
	}
	free(tmp);
	profile_free(pb);
	profile_free(pa);
	return r;
}
