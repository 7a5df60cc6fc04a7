/*
 * The body shared by the fuzz_compare_* targets: import an input (format detected from content, as
 * `kiln compare` does), compare it with itself and render every report. Each target has its own seed corpus
 * of one importer's format; FUZZ_IMPORT picks the entry point.
 */
#include <stddef.h>
#include <stdint.h>

#include "bench/compare.h"
#include "bench/report.h"
#include "bench/result.h"
#include "core/buf.h"
#include "core/err.h"

#ifndef FUZZ_IMPORT
#define FUZZ_IMPORT(s, d, n, e) bench_import_buf((s), (d), (n), "fuzz", (e))
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bench_set a = BENCH_SET_INIT, b = BENCH_SET_INIT;
	struct cmp_opts o = CMP_OPTS_INIT;
	struct cmp_labels l = { "a", "fuzz", "b", "fuzz", NULL, NULL };
	struct err e = ERR_INIT;
	struct cmp_result r;
	struct buf out = BUF_INIT;

	if (FUZZ_IMPORT(&a, (const char *)data, size, &e) == 0 && FUZZ_IMPORT(&b, (const char *)data, size, &e) == 0) {
		bench_set_finish(&a);
		bench_set_finish(&b);
		for (int t = 0; t < 2; t++) {
			o.test = t ? CMP_MANNWHITNEY : CMP_WELCH;
			if (cmp_run(&a, &b, &o, &r, &e) == 0) {
				cmp_report_text(&out, &r, &l, false);
				cmp_report_json(&out, &r, &l);
				cmp_report_markdown(&out, &r, &l);
				cmp_report_html(&out, &r, &l);
				cmp_result_release(&r);
			}
		}
	}
	buf_release(&out);
	bench_set_release(&a);
	bench_set_release(&b);
	return 0;
}
