/*
 * kiln profile --diff CMD_A CMD_B (the seeds' usage): profiles two commands one after the other, then compares
 * them as `kiln diff` does: a table of the functions whose share changed, with significance, and a differential
 * flame graph of B. Each recording is a run of `kiln profile` itself (this binary, through /proc/self/exe), so the
 * two commands are sampled exactly as a plain `kiln profile` would sample them.
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
#include "cmds.h"

/* Runs `kiln profile -q -o OUT PASS... -- /bin/sh -c CMD`; returns its exit status, or -1 when it cannot start. */
static int record_one(const char *cmd, const char *out, char *const *pass, size_t npass)
{
	const char **args = xcalloc(npass + 10, sizeof(*args));
	size_t n = 0;
	int status;
	pid_t pid;

	args[n++] = "kiln";
	args[n++] = "profile";
	args[n++] = "-q";
	args[n++] = "-o";
	args[n++] = out;
	for (size_t i = 0; i < npass; i++)
		args[n++] = pass[i];
	args[n++] = "--";
	args[n++] = "/bin/sh";
	args[n++] = "-c";
	args[n++] = cmd;
	args[n] = NULL;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		free(args);
		return -1;
	}
	if (pid == 0) {
		execv("/proc/self/exe", (char *const *)args);
		_exit(125);
	}
	free(args);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

int profile_diff_run(const char *cmd_a, const char *cmd_b, char *const *pass, size_t npass, const char *svg,
		     bool quiet)
{
	const char *cmds[2] = { cmd_a, cmd_b };
	struct profile *prof[2] = { NULL, NULL };
	char dir[] = "/tmp/kiln-diff.XXXXXX";
	char *paths[2] = { NULL, NULL };
	struct diff_opts dopts = DIFF_OPTS_INIT;
	struct buf report = BUF_INIT;
	struct err e = ERR_INIT;
	int status = 0, ret = EXIT_INTERNAL;

	if (!mkdtemp(dir)) {
		error_msg("cannot create a temporary directory: %s", strerror(errno));
		return EXIT_INTERNAL;
	}
	for (int i = 0; i < 2; i++) {
		int s;

		paths[i] = xasprintf("%s/%s.pb.gz", dir, i ? "after" : "before");
		if (!quiet)
			fprintf(stderr, "kiln: profiling %s: %s\n", i ? "after" : "before", cmds[i]);
		s = record_one(cmds[i], paths[i], pass, npass);
		if (s < 0 || s == EXIT_INTERNAL || s == EXIT_USAGE) {
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
		prof[i] = profile_new(0);
		if (profile_read_path(prof[i], paths[i], "pprof", NULL, &e)) {
			error_msg("%s", e.msg);
			goto out;
		}
	}
	dopts.title = "Differential Flame Graph (kiln profile --diff)";
	if (diff_profiles(prof[0], prof[1], &dopts, svg, &report, &e)) {
		error_msg("%s", e.msg);
		goto out;
	}
	fwrite(report.buf, 1, report.len, stdout);
	if (!quiet)
		fprintf(stderr, "kiln: wrote '%s' (differential flame graph of the second command: red grew, blue shrank)\n",
			svg);
	ret = status;
out:
	for (int i = 0; i < 2; i++) {
		if (paths[i])
			unlink(paths[i]);
		free(paths[i]);
		profile_free(prof[i]);
	}
	rmdir(dir);
	buf_release(&report);
	return ret;
}
