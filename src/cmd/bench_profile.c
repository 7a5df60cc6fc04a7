/*
 * `kiln bench --profile`: one extra run of each benchmarked command under the recording driver (record/run.h),
 * after the timed runs, so no timed run pays the sampler's overhead. The runs are merged into one CPU profile
 * (a sample keeps its process's comm label), written as pprof to a private temporary file that the history
 * store copies beside the run.
 */
#include "bench_history.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/runner.h"
#include "core/err.h"
#include "core/util.h"
#include "core/xalloc.h"
#include "formats/format.h"
#include "profile/profile.h"
#include "record/run.h"

/* Records one command into `p` (merged); 0, or -1 with the error printed. */
static int record_cmd(const struct bench_cmd *c, const char *shell, struct profile *p)
{
	char *sh_argv[] = { (char *)shell, (char *)"-c", c->display, NULL };
	struct record_request rq = RECORD_REQUEST_INIT;
	struct profile *one = profile_new(0);
	struct record_result res;
	struct err e = ERR_INIT;
	size_t i;
	int r = -1;

	rq.mode = RECORD_CPU;
	rq.argv = c->argv ? c->argv : sh_argv;
	if (record_run(&rq, one, &res, &e) < 0) {
		error_msg("--profile: cannot profile '%s': %s", bench_cmd_name(c), e.msg);
		goto out_free;
	}
	for (i = 0; i < res.notes_nr; i++)
		warning_msg("--profile: %s", res.notes[i]);
	if (res.launch_failed) {
		error_msg("--profile: %s", e.msg);
		goto out;
	}
	if (res.exit_status)
		warning_msg("--profile: '%s' exited with status %d in its profiled run", bench_cmd_name(c),
			    res.exit_status);
	if (profile_merge(p, one, &e)) {
		error_msg("--profile: %s", e.msg);
		goto out;
	}
	r = 0;
out:
	record_result_release(&res);
out_free:
	profile_free(one);
	return r;
}

char *bench_profile_record(const struct bench_cmd *cmds, size_t n, const char *shell, const char *keep)
{
	const char *tmpdir = getenv("TMPDIR");
	struct profile *p = profile_new(0);
	struct format_write_opts wo = { .column = -1 };
	struct err e = ERR_INIT;
	char *path = NULL;
	size_t i;
	int fd;

	for (i = 0; i < n; i++) {
		fprintf(stderr, "kiln: profiling '%s' (one run, after the timed ones)\n", bench_cmd_name(&cmds[i]));
		if (record_cmd(&cmds[i], shell ? shell : "/bin/sh", p))
			goto fail;
	}
	if (keep && profile_write_path(p, keep, format_for_path(keep) ? format_for_path(keep) : format_by_name("pprof"), &wo,
				       &e)) {
		error_msg("%s", e.msg);
		goto fail;
	}
	path = xasprintf("%s/kiln-bench-XXXXXX.pb.gz", tmpdir && *tmpdir ? tmpdir : "/tmp");
	fd = mkstemps(path, 6);
	if (fd < 0) {
		error_msg("cannot create a temporary file in '%s'", tmpdir && *tmpdir ? tmpdir : "/tmp");
		goto fail;
	}
	close(fd);
	if (profile_write_path(p, path, format_by_name("pprof"), &wo, &e)) {
		error_msg("%s", e.msg);
		unlink(path);
		goto fail;
	}
	profile_free(p);
	return path;
fail:
	free(path);
	profile_free(p);
	return NULL;
}
