/* The baseline of `kiln compare --baseline-from`: the latest stored run of a branch, and its profile diff. */
#include "compare_baseline.h"

#include <stdlib.h>
#include <string.h>

#include "analyze/diff.h"
#include "bench/history.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/xalloc.h"
#include "formats/format.h"
#include "profile/profile.h"

int baseline_load(struct baseline *b, const char *dir, const char *branch, const char *machine, struct err *e)
{
	struct hist *h = &b->h;
	size_t i;

	memset(b, 0, sizeof(*b));
	b->set = (struct bench_set)BENCH_SET_INIT;
	*h = (struct hist)HIST_INIT;
	if (hist_open(h, dir, branch, e)) {
		hist_release(h);
		return -1;
	}
	for (i = h->nr; i-- > 0;)
		if (!strcmp(h->v[i].branch, branch) && (!machine || !strcmp(h->v[i].machine, machine)))
			break;
	if (i == (size_t)-1) {
		err_set(e, "no run of branch '%s'%s%s in '%s'", branch, machine ? " on machine " : "",
			machine ? machine : "", dir);
		hist_release(h);
		return -1;
	}
	/* Take the run's results over; the history (and a downloaded profile) stays until baseline_release(). */
	b->set = h->v[i].set;
	h->v[i].set = (struct bench_set)BENCH_SET_INIT;
	b->desc = xasprintf("`%s@%.12s` (%s)", branch, h->v[i].commit, h->v[i].machine);
	b->profile = hist_profile_path(h, &h->v[i]);
	return 0;
}

void baseline_release(struct baseline *b)
{
	bench_set_release(&b->set);
	free(b->desc);
	free(b->profile);
	hist_release(&b->h);
}

int baseline_functions_md(const char *before, const char *after, size_t top, struct buf *out, struct err *e)
{
	struct profile *pb = profile_new(0), *pa = profile_new(0);
	struct diff_opts o = DIFF_OPTS_INIT;
	struct diff_result d;
	int r = -1;

	if (profile_load(pb, before, NULL, NULL, NULL, e) || profile_load(pa, after, NULL, NULL, NULL, e) ||
	    diff_compute(pb, pa, &o, &d, e))
		goto out;
	diff_format_text(&d, out, top, false, true);
	diff_release(&d);
	r = 0;
out:
	profile_free(pb);
	profile_free(pa);
	return r;
}
