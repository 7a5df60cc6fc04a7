/*
 * Fuzz target: kiln analyze and kiln diff on any profile the folded reader accepts: the analysis with details,
 * the rules, all three report forms, and a diff of the input against its first half. Whatever the counts
 * (near 2^63 included) and the recursion, the numbers must stay true: no negative total, no share above
 * 100 %, a function's total at least its self, and hot path steps that never grow.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "analyze/analysis.h"
#include "analyze/diff.h"
#include "analyze/report.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/json.h"
#include "formats/format.h"
#include "profile/profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct profile *read_folded(const uint8_t *data, size_t size)
{
	const struct format *f = format_by_name("folded");
	struct format_read_opts o = { 0 };
	struct profile *p = profile_new(0);
	struct err e = ERR_INIT;
	struct input in;

	input_from_memory(&in, data, size, "fuzz");
	if (f->read(p, &in, &o, &e)) {
		profile_free(p);
		return NULL;
	}
	return p;
}

#define SHARE_OK(x) ((x) >= 0 && (x) <= 100.0 + 1e-9)

static void check(const struct analysis *a)
{
	if (a->grand_total < 0 || a->idle_total < 0 || !SHARE_OK(a->idle_pct))
		abort();
	for (size_t i = 0; i < a->fns.nr; i++) {
		const struct hotspot *h = &a->fns.v[i];

		if (h->self < 0 || h->total < h->self || !SHARE_OK(h->self_pct) || !SHARE_OK(h->total_pct))
			abort();
	}
	for (size_t i = 0; i < a->hot_path_nr; i++)
		if (!SHARE_OK(a->hot_path[i].total_pct) || a->hot_path[i].depth < 1 ||
		    (i && a->hot_path[i].total > a->hot_path[i - 1].total))
			abort();
	for (size_t i = 0; i < a->recs_nr; i++)
		if (!SHARE_OK(a->recs[i].evidence.pct))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct profile *p = read_folded(data, size), *half = read_folded(data, size / 2);
	struct analyze_opts o = ANALYZE_OPTS_INIT;
	struct analysis a;
	struct diff_result d;
	struct err e = ERR_INIT;
	struct buf b = BUF_INIT;
	struct jw j;

	if (p) {
		o.detailed = true;
		o.threshold = 1;
		if (analysis_run(p, &o, &a, &e) == 0) {
			check(&a);
			analysis_format_text(&a, &b, true, false);
			analysis_format_text(&a, &b, false, true);
			jw_init(&j, &b, true);
			jw_object_begin(&j);
			analysis_format_json(&a, &j);
			jw_object_end(&j);
			analysis_release(&a);
		}
		if (half && diff_compute(half, p, NULL, &d, &e) == 0) {
			if (d.before_total < 0 || d.after_total < 0)
				abort();
			for (size_t i = 0; i < d.nr; i++)
				if (!SHARE_OK(d.v[i].before_pct) || !SHARE_OK(d.v[i].after_pct))
					abort();
			diff_format_text(&d, &b, 50, true, false);
			jw_init(&j, &b, false);
			jw_object_begin(&j);
			diff_format_json(&d, &j, 50);
			jw_object_end(&j);
			diff_release(&d);
		}
	}
	buf_release(&b);
	profile_free(p);
	profile_free(half);
	return 0;
}
