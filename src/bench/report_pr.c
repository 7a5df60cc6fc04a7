/*
 * The pull-request comment of `kiln compare --baseline-from`: the verdict in one line first (what a reviewer
 * reads in the notification), the full table folded in a <details> block, then the top changed functions when
 * both sides have a profile (the Markdown of the profile diff, made by the caller).
 */
#include "bench/report.h"

#include <math.h>
#include <string.h>

#include "bench/compare.h"
#include "core/buf.h"

void cmp_report_pr(struct buf *out, const struct cmp_result *r, const struct cmp_labels *l, const char *baseline,
		   const char *functions_md)
{
	size_t i, shown = 0;

	if (r->regressions) {
		buf_addf(out, ":x: **%zu regression%s** against %s:", r->regressions, r->regressions == 1 ? "" : "s",
			 baseline);
		for (i = 0; i < r->nr && shown < 3; i++) {
			const struct cmp_row *row = &r->rows[i];

			if (row->verdict != CMP_REGRESSION)
				continue;
			buf_addf(out, "%s `%s` %+.1f%%", shown ? "," : "", row->name, row->change * 100);
			shown++;
		}
		buf_adds(out, r->regressions > shown ? ", ...\n\n" : "\n\n");
	} else {
		buf_addf(out, ":white_check_mark: **no regression** against %s (%zu benchmark%s, %zu improvement%s)\n\n",
			 baseline, r->nr, r->nr == 1 ? "" : "s", r->improvements, r->improvements == 1 ? "" : "s");
	}
	buf_adds(out, "<details><summary>All benchmarks</summary>\n\n");
	cmp_report_markdown(out, r, l);
	buf_adds(out, "\n</details>\n");
	if (functions_md && *functions_md) {
		buf_adds(out, "\n<details open><summary>Top changed functions (CPU profile, baseline -> current)</summary>\n\n");
		buf_adds(out, functions_md);
		buf_adds(out, "\n</details>\n");
	}
}
