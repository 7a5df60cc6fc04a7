/* kiln profile around the run: what is being recorded and a progress line on a terminal (-p/-a), and after it,
 * kiln's own output options that went to the command because they followed it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/buf.h"
#include "../core/progress.h"
#include "../core/xalloc.h"
#include "../record/run.h"
#include "profile_common.h"

struct profile_live {
	struct progress *prog;
};

static void on_progress(uint64_t elapsed_ns, void *arg)
{
	struct profile_live *l = arg;

	progress_update(l->prog, elapsed_ns);
}

/* "1234 (name)" for each PID. */
static void add_targets(struct buf *b, const struct record_request *rq)
{
	for (size_t i = 0; i < rq->npids; i++) {
		char path[64], comm[64] = "";
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%u/comm", rq->pids[i]);
		if ((f = fopen(path, "r"))) {
			if (fgets(comm, sizeof(comm), f))
				comm[strcspn(comm, "\n")] = '\0';
			fclose(f);
		}
		buf_addf(b, "%s%u (%s)", i ? ", " : "", rq->pids[i], *comm ? comm : "?");
	}
}

struct profile_live *profile_live_start(const struct profile_opts *o, struct record_request *rq)
{
	struct profile_live *l;
	struct buf b = BUF_INIT;

	/* A launched command's own output is on the terminal; -p and -a have nothing to show until the end. */
	if (o->quiet || (!rq->npids && !(rq->all_cpus && !rq->argv)) || !isatty(2))
		return NULL;
	if (rq->npids)
		add_targets(&b, rq);
	else
		buf_adds(&b, "all CPUs");
	if (rq->duration > 0)
		fprintf(stderr, "kiln: recording %s for %g s, Ctrl-C to stop\n", b.buf, rq->duration);
	else
		fprintf(stderr, "kiln: recording %s, Ctrl-C to stop\n", b.buf);
	buf_release(&b);
	l = xcalloc(1, sizeof(*l));
	l->prog = progress_new_time("recording", rq->duration > 0 ? (uint64_t)(rq->duration * 1e9) : 0);
	if (l->prog) {
		rq->on_progress = on_progress;
		rq->progress_arg = l;
	}
	return l;
}

void profile_live_end(struct profile_live *l)
{
	if (!l)
		return;
	progress_free(l->prog);
	free(l);
}

/* --- kiln's options after the command ------------------------------------------------------------------- */

/* One argument as a shell would read it back. */
static void add_quoted(struct buf *b, const char *arg)
{
	if (*arg && strspn(arg, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./=:,+-@%") ==
			    strlen(arg)) {
		buf_adds(b, arg);
		return;
	}
	buf_addch(b, '\'');
	for (; *arg; arg++)
		if (*arg == '\'')
			buf_adds(b, "'\\''");
		else
			buf_addch(b, *arg);
	buf_addch(b, '\'');
}

/* The output option (one whose value is one of `outs`) that `arg` spells, and where its file name is:
 * attached (`--flamegraph=x`, `-ox`) or the next argument. NULL when `arg` is not one. */
static const struct option *output_option(const struct option *opts, const void *const *outs, size_t nouts,
					  const char *arg, const char **attached)
{
	*attached = NULL;
	for (const struct option *opt = opts; opt->type != OPTION_END; opt++) {
		bool is_out = false;

		for (size_t i = 0; i < nouts; i++)
			is_out |= opt->value == outs[i];
		if (!is_out)
			continue;
		if (opt->long_name && arg[0] == '-' && arg[1] == '-') {
			size_t n = strlen(opt->long_name);

			if (!strncmp(arg + 2, opt->long_name, n) && (!arg[n + 2] || arg[n + 2] == '=')) {
				*attached = arg[n + 2] ? arg + n + 3 : NULL;
				return opt;
			}
		} else if (opt->short_name && arg[0] == '-' && arg[1] == opt->short_name) {
			*attached = arg[2] ? arg + 2 : NULL;
			return opt;
		}
	}
	return NULL;
}

/* True when `path` was written at or after `since_ns` (since the epoch): the command wrote it itself. */
static bool written_since(const char *path, uint64_t since_ns)
{
	struct stat st;

	return stat(path, &st) == 0 &&
	       (uint64_t)st.st_mtim.tv_sec * 1000000000ULL + (uint64_t)st.st_mtim.tv_nsec >= since_ns;
}

void profile_hint_misplaced(const struct option *opts, const struct profile_opts *o, int before, char **kiln_args,
			    char *const *cmd, uint64_t since_ns)
{
	const void *const outs[] = { &o->output, &o->flamegraph, &o->json };
	struct buf moved = BUF_INIT, rest = BUF_INIT, line = BUF_INIT;
	bool ddash = before > 0 && !strcmp(kiln_args[before - 1], "--");

	if (!cmd || !cmd[0])
		return;
	add_quoted(&rest, cmd[0]);
	for (size_t i = 1; cmd[i]; i++) {
		const char *file;
		const struct option *opt = output_option(opts, outs, 3, cmd[i], &file);
		size_t start = moved.len;

		if (opt && !file && cmd[i + 1])
			file = cmd[i + 1];
		if (!opt || !file || !strcmp(file, "-") || written_since(file, since_ns)) {
			buf_addch(&rest, ' ');
			add_quoted(&rest, cmd[i]);
			continue;
		}
		buf_adds(&moved, start ? " " : "");
		add_quoted(&moved, cmd[i]);
		if (file == cmd[i + 1]) {
			buf_addch(&moved, ' ');
			add_quoted(&moved, cmd[++i]);
		}
	}
	if (moved.len) {
		buf_adds(&line, "kiln profile");
		for (int i = 0; i < before - ddash; i++) {
			buf_addch(&line, ' ');
			add_quoted(&line, kiln_args[i]);
		}
		buf_addf(&line, " %s%s %s", moved.buf, ddash ? " --" : "", rest.buf);
		fprintf(stderr, "kiln: '%s' went to the command; kiln's options go before it: %s\n", moved.buf,
			line.buf);
	}
	buf_release(&moved);
	buf_release(&rest);
	buf_release(&line);
}
