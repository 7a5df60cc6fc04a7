/*
 * kiln profile --diff CMD_A CMD_B (the seeds' usage): profiles two commands one after the other, then compares
 * them as `kiln diff` does: a table of the functions whose share changed, with significance, and a differential
 * flame graph of B. Both recordings are runs of the library's driver (src/record/run.h) with the same request,
 * so every option of kiln profile reaches both, and the two commands are sampled as a plain `kiln profile`
 * would sample them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../analyze/diff.h"
#include "../core/array.h"
#include "../core/buf.h"
#include "../core/err.h"
#include "../core/util.h"
#include "../core/xalloc.h"
#include "../formats/format.h"
#include "../profile/profile.h"
#include "../record/run.h"
#include "../render/diff_graph.h"
#include "cmds.h"
#include "profile_common.h"

/* Records `/bin/sh -c CMD` with the options of `rq` into `p`; returns kiln profile's exit status for it, or -1
 * when recording failed (the error printed). `*whole` says whether the command ran to its end. */
static int record_one(const char *cmd, const struct record_request *rq, struct profile *p, bool *whole)
{
	char *argv[] = { (char *)"/bin/sh", (char *)"-c", (char *)cmd, NULL };
	struct record_request one = *rq;
	struct record_result res;
	struct err e = ERR_INIT;
	int st;

	one.argv = argv;
	if (record_run(&one, p, &res, &e) < 0) {
		error_msg("%s", e.msg);
		return -1;
	}
	for (size_t i = 0; i < res.notes_nr; i++)
		warning_msg("%s", res.notes[i]);
	if (res.launch_failed)
		error_msg("%s", e.msg);
	st = res.exit_status;
	*whole = res.reaped && !res.stop_signal && WIFEXITED(res.status);
	record_result_release(&res);
	return st;
}

int profile_diff_run(const char *cmd_a, const char *cmd_b, const struct record_request *rq, const char *svg,
		     bool quiet)
{
	const char *cmds[2] = { cmd_a, cmd_b };
	struct profile *prof[2] = { NULL, NULL };
	struct diff_opts dopts = DIFF_OPTS_INIT;
	struct diff_plan plan;
	struct buf report = BUF_INIT;
	struct err e = ERR_INIT;
	int status = 0, ret = EXIT_INTERNAL;
	bool whole[2] = { false, false };

	for (int i = 0; i < 2; i++) {
		int s;

		if (!quiet)
			fprintf(stderr, "kiln: profiling %s: %s\n", i ? "after" : "before", cmds[i]);
		prof[i] = profile_new(0);
		s = record_one(cmds[i], rq, prof[i], &whole[i]);
		if (s < 0) {
			error_msg("cannot profile '%s'", cmds[i]);
			goto out;
		}
		if (s == 126 || s == 127) {
			error_msg("cannot run '%s' (exit status %d)", cmds[i], s);
			ret = s;
			goto out;
		}
		if (s) {
			warning_msg("'%s' exited with status %d", cmds[i], s);
			if (!status)
				status = s;
		}
	}
	dopts.title = "Differential Flame Graph (kiln profile --diff)";
	/* Absolute cost compares like with like only when both commands ran to their end (diff.h: AUTO). */
	dopts.whole_runs = whole[0] && whole[1];
	if (diff_profiles(prof[0], prof[1], &dopts, &report, &e) ||
	    diff_graph_plan(prof[0], prof[1], &dopts, &plan, &e) || fg_write_diff(prof[0], prof[1], &plan, svg, &e)) {
		error_msg("%s", e.msg);
		goto out;
	}
	fwrite(report.buf, 1, report.len, stdout);
	if (!quiet)
		fprintf(stderr, "kiln: wrote '%s' (differential flame graph of the second command: red grew, blue shrank)\n",
			svg);
	ret = status;
out:
	for (int i = 0; i < 2; i++)
		profile_free(prof[i]);
	buf_release(&report);
	return ret;
}
