/* Command-line pieces shared by the modes of `kiln profile`. */
#include "profile_common.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../core/array.h"
#include "../core/err.h"
#include "../core/options.h"
#include "../core/util.h"
#include "../core/xalloc.h"
#include "../formats/format.h"
#include "../record/recorder.h"
#include "../symbols/symbolizer.h"

const char *profile_mode_arg(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--"))
			return NULL;
		if (!strncmp(a, "--mode=", 7))
			return a + 7;
		if (!strcmp(a, "--mode"))
			return i + 1 < argc ? argv[i + 1] : NULL;
		if (a[0] != '-') {
			/* The command starts here, unless this is the value of the option before it. */
			static const char *const flags[] = { "-q", "-a", "--quiet", "--all-cpus", "--user-only",
							     "--no-inline", "--no-children", "--no-stacks", "--no-files",
							     "--diff", NULL };
			const char *prev = argv[i - 1];
			bool value = i > 1 && prev[0] == '-' &&
				     ((prev[1] == '-' && !strchr(prev, '=')) || (prev[1] && !prev[2]));

			for (size_t k = 0; value && flags[k]; k++)
				value = strcmp(prev, flags[k]) != 0;
			if (!value)
				return NULL;
		}
	}
	return NULL;
}

int profile_parse_pids(const struct opt_list *l, uint32_t **out, size_t *n, struct err *e)
{
	size_t alloc = 0;

	*out = NULL;
	*n = 0;
	for (size_t i = 0; i < l->nr; i++) {
		char *copy = xstrdup(l->v[i]), *save = NULL;

		for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			long long v;

			if (parse_ll(tok, 1, 4194304, "--pid", &v, e) < 0) {
				free(copy);
				return -1;
			}
			ALLOC_GROW(*out, *n + 1, alloc);
			(*out)[(*n)++] = (uint32_t)v;
		}
		free(copy);
		if (!*n)
			return err_set(e, "--pid expects a process id, got '%s'", l->v[i]);
	}
	return 0;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcasecmp(s + a - b, suffix);
}

int profile_pick_output(const char *path, const char *format, struct profile_output *out,
			const struct cmd_help *help)
{
	out->path = path;
	out->f = NULL;
	out->what = "flame graph";
	if (format) {
		if (!strcmp(format, "svg") || !strcmp(format, "flamegraph"))
			return 0;
		out->f = format_by_name(format);
		if (!out->f || !out->f->write)
			return usage_error(help, "unknown output format '%s'", format);
	} else {
		out->f = format_for_path(path);
		if (!out->f && (ends_with(path, ".svg") || ends_with(path, ".svgz")))
			return 0;
		if (!out->f)
			return usage_error(help, "cannot tell the output format of '%s' from its extension (use --format)",
					   path);
	}
	out->what = out->f->name;
	return 0;
}

int profile_check_writable(const char *path)
{
	char *dir, *slash;
	const char *d;
	int ret;

	if (!strcmp(path, "-"))
		return 0;
	dir = xstrdup(path);
	slash = strrchr(dir, '/');
	d = slash ? (slash == dir ? "/" : (*slash = 0, dir)) : ".";
	ret = access(d, W_OK | X_OK);
	if (ret < 0)
		error_msg("cannot write '%s': %s", path, strerror(errno));
	free(dir);
	return ret;
}

/* Stops the recording; a signal sent to kiln alone (not by the terminal, which already reached the command's
 * process group) is passed on to the command. */
static void profile_on_signal(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	recorder_stop(sig, si && (si->si_code == SI_USER || si->si_code == SI_QUEUE));
}

int profile_check_target(const struct cmd_help *help, size_t npids, bool all_cpus, int argc)
{
	if (npids && all_cpus)
		return usage_error(help, "--pid and --all-cpus cannot be combined");
	if (npids && argc)
		return usage_error(help, "--pid and a command cannot be combined");
	if (!npids && !all_cpus && !argc)
		return usage_error(help, "nothing to profile: give a command, --pid or --all-cpus");
	return 0;
}

struct symbolizer *profile_symbolizer_new(const char *debuginfo_dirs, bool no_inline)
{
	struct symbolizer *sym = symbolizer_new();

	if (debuginfo_dirs) {
		char *dirs = xasprintf("%s:/usr/lib/debug", debuginfo_dirs);

		symbolizer_set_debuginfo_dirs(sym, dirs);
		free(dirs);
	}
	if (no_inline)
		symbolizer_set_flags(sym, SYMBOLIZER_NO_INLINE);
	return sym;
}

int profile_record(struct recorder_opts *ro, struct rec_session *s, struct recorder_result *res, struct err *e)
{
	static const int sigs[3] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa, old[3];
	int rr;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = profile_on_signal;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (int i = 0; i < 3; i++) {
		sigaction(sigs[i], &sa, &old[i]);
		/* An ignored signal (a background job's SIGINT, nohup's SIGHUP) stays ignored in the command. */
		if (old[i].sa_handler == SIG_IGN)
			ro->child_ignored_signals |= 1ULL << sigs[i];
	}
	rr = recorder_run(ro, s, res, e);
	for (int i = 0; i < 3; i++)
		sigaction(sigs[i], &old[i], NULL);
	return rr;
}


int profile_exit_status(const struct recorder_result *res)
{
	if (!res->launched)
		return 0;
	if (!res->reaped)
		return 128 + res->stop_signal; /* recording stopped at a second signal, the command still runs */
	if (WIFEXITED(res->status))
		return WEXITSTATUS(res->status);
	if (WIFSIGNALED(res->status))
		return 128 + WTERMSIG(res->status);
	return EXIT_INTERNAL;
}
