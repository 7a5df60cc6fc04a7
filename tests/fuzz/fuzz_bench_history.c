/*
 * Fuzz target: a benchmark history run file (bench/history.c). Whatever the input, parsing either fails with a
 * message or gives a run whose every series is finite in count, and writing it back and parsing that again
 * gives the same commit, branch and series.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bench/history.h"
#include "core/buf.h"
#include "core/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hist_run r, back;
	struct err e = ERR_INIT;
	struct buf out = BUF_INIT;
	struct hist_meta m;

	if (hist_parse_run(&r, (const char *)data, size, "fuzz", &e)) {
		if (!e.msg[0])
			abort();
		return 0;
	}
	m = (struct hist_meta){ .commit = r.commit, .branch = r.branch, .machine = r.machine, .time = r.time };
	hist_format_run(&out, &m, &r.set, r.profile);
	if (hist_parse_run(&back, out.buf, out.len, "again", &e))
		abort();
	if (strcmp(back.commit, r.commit) || strcmp(back.branch, r.branch) || back.set.nr != r.set.nr)
		abort();
	hist_run_release(&back);
	hist_run_release(&r);
	buf_release(&out);
	return 0;
}
