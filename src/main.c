/*
 * kiln: the command table and global flags. Dispatches to src/cmd/NAME.c and checks that stdout was flushed and
 * closed without error, so a full disk or a closed pipe is never reported as success (git.c, perf.c).
 */
#include <errno.h>
#include <locale.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmds.h"
#include "core/atomicfile.h"
#include "core/options.h"
#include "core/util.h"

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct cmd commands[] = {
	/* Subcommands: one line each. */
	{ "help", cmd_help, "show help for kiln or a command" },
	{ "version", cmd_version, "print the version" },
	{ "collapse", cmd_collapse, "fold perf script stacks like stackcollapse-perf.pl" },
	{ "convert", cmd_convert, "convert a profile between formats (pprof, speedscope, folded, ...)" },
	{ "profile", cmd_profile, "sample a command, processes or the system on CPU (perf_event cpu-clock)" },
	{ "flamegraph", cmd_flamegraph, "draw an interactive SVG flame graph, icicle graph or flame chart" },
	{ "bench", cmd_bench, "benchmark commands like hyperfine: interleaved runs, statistics, exports" },
	{ "compare", cmd_compare, "compare benchmark results with statistics; exit 1 on a regression" },
	{ "push-bench", cmd_push_bench, "store a benchmark result file in a benchmark history directory" },
	{ "trend", cmd_trend, "benchmark history: change points, regressions and their profile diffs (HTML)" },
	{ "analyze", cmd_analyze, "find hotspots, the hot path and evidence-based recommendations in a profile" },
	{ "diff", cmd_diff, "compare two profiles: differential flame graph and significant changes" },
	{ "serve", cmd_serve, "store and query profiles pushed by Pyroscope clients and kiln profile --push" },
	{ "pgo", cmd_pgo, "profile-guided builds: instrument, train, optimize; AutoFDO and Go profiles" },
	{ NULL, NULL, NULL },
};

static void print_main_help(FILE *out)
{
	fprintf(out, "usage: kiln [--version] [--help] COMMAND [OPTIONS] [ARGS]\n\n"
		     "kiln is a Linux performance toolkit: profile programs, draw flame graphs, find hotspots,\n"
		     "and prove with statistics that a change made things faster or slower.\n\n"
		     "Commands:\n");
	for (const struct cmd *c = commands; c->name; c++)
		fprintf(out, "    %-12s %s\n", c->name, c->summary);
	fprintf(out, "\nRun 'kiln help COMMAND' or 'kiln COMMAND --help' for a command's options and examples.\n");
}

static const char description[] =
	"kiln is a Linux performance toolkit: profile programs, draw flame graphs, find hotspots, and prove with "
	"statistics that a change made things faster or slower. Each command has its own page: kiln-COMMAND(1), "
	"or 'kiln help COMMAND'.";

static bool has_page(const struct cmd *c)
{
	return c->fn != cmd_help && c->fn != cmd_version;
}

/*
 * What the build generates from the option tables (hidden): kiln(1) (--help-man), a completion script
 * (--help-completion=SHELL: the command list, then each command's own part), the commands with a page.
 */
static int print_generated(const char *arg)
{
	struct cmd_summary list[sizeof(commands) / sizeof(commands[0])];
	const struct cmd *c;
	size_t n = 0;

	for (c = commands; c->name; c++)
		if (has_page(c))
			list[n++] = (struct cmd_summary){ c->name, c->summary };
	if (!strcmp(arg, "--help-commands")) {
		for (size_t i = 0; i < n; i++)
			printf("%s\n", list[i].name);
	} else if (!strcmp(arg, "--help-man")) {
		options_man_top(list, n, description);
	} else {
		const char *shell = arg + strlen("--help-completion=");

		if (options_completion_begin(shell, list, n)) {
			error_msg("--help-completion expects bash, zsh or fish, got '%s'", shell);
			return EXIT_USAGE;
		}
		for (c = commands; c->name; c++) {
			char *cargv[] = { (char *)c->name, (char *)arg, NULL };

			if (has_page(c) && c->fn(2, cargv) != EXIT_OK)
				return EXIT_USAGE;
		}
		options_completion_end(shell);
	}
	return EXIT_OK;
}

static const struct cmd *find_cmd(const char *name)
{
	for (const struct cmd *c = commands; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

int cmd_version(int argc, char **argv)
{
	(void)argc, (void)argv;
	printf("kiln %s\n", KILN_VERSION);
	return 0;
}

int cmd_help(int argc, char **argv)
{
	const struct cmd *c;
	char *hargv[3];

	if (argc < 2) {
		print_main_help(stdout);
		return 0;
	}
	c = find_cmd(argv[1]);
	if (!c) {
		error_msg("'%s' is not a kiln command (see 'kiln help')", argv[1]);
		return EXIT_USAGE;
	}
	if (c->fn == cmd_help || c->fn == cmd_version) {
		print_main_help(stdout);
		return 0;
	}
	hargv[0] = argv[1];
	hargv[1] = (char *)"--help";
	hargv[2] = NULL;
	return c->fn(2, hargv);
}

/*
 * A write error on stdout (EPIPE aside, which means the reader went away) makes the command fail. A command that
 * already failed (status 2 and up) has said why in its one line; a success or a verdict (1: a regression found)
 * becomes exit 2, as an error must never look like a verdict.
 */
static int finish_stdout(int status)
{
	bool failed = false;

	if (fflush(stdout) || ferror(stdout))
		failed = errno != EPIPE;
	else if (fclose(stdout) && errno != EPIPE && errno != EBADF)
		failed = true;
	if (!failed)
		return status;
	if (status == EXIT_OK || status == 1) {
		fprintf(stderr, "kiln: cannot write to standard output: %s\n", strerror(errno));
		return EXIT_USAGE;
	}
	return status;
}

int main(int argc, char **argv)
{
	const struct cmd *c;

	/* Numbers are printed in the C locale whatever the environment says. */
	setlocale(LC_ALL, "C");
	afile_install_signal_cleanup();
	if (argc < 2) {
		print_main_help(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V"))
		return finish_stdout(cmd_version(argc - 1, argv + 1));
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return finish_stdout(cmd_help(1, argv + 1));
	if (!strcmp(argv[1], "--help-man") || !strcmp(argv[1], "--help-commands") ||
	    !strncmp(argv[1], "--help-completion=", 18))
		return finish_stdout(print_generated(argv[1]));
	c = find_cmd(argv[1]);
	if (!c) {
		error_msg("'%s' is not a kiln command (see 'kiln help')", argv[1]);
		return EXIT_USAGE;
	}
	options_set_summary(c->summary);
	return finish_stdout(c->fn(argc - 1, argv + 1));
}
