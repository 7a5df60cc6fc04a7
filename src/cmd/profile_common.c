/* Command-line pieces shared by the files of `kiln profile` (see profile_common.h). */
#include "profile_common.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../analyze/hotspots.h"
#include "../core/array.h"
#include "../core/err.h"
#include "../core/options.h"
#include "../core/util.h"
#include "../core/xalloc.h"
#include "../formats/format.h"
#include "../profile/profile.h"
#include "../record/run.h"

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

void profile_print_ending(const struct record_result *res)
{
	if (res->left_running)
		fprintf(stderr, "; the command runs on");
	else if (res->launched && !res->reaped)
		fprintf(stderr, "; stopped by a second signal, the command still runs");
	else if (res->launched && WIFSIGNALED(res->status))
		fprintf(stderr, "; command killed by signal %d", WTERMSIG(res->status));
	else if (res->launched)
		fprintf(stderr, "; command exit status %d", res->exit_status);
}

/* The end-of-run report's hotspot tables, counted in samples. */
static void print_hotspots(struct profile *p, long long top)
{
	struct hotspots h;

	if (top <= 0 || hotspots_compute(p, profile_find_column(p, "samples"), &h) < 0)
		return;
	if (h.grand_total > 0)
		hotspots_print(stderr, p, &h, (size_t)top);
	hotspots_release(&h);
}

void profile_report_cpu(const struct profile_opts *o, struct profile *p, const struct record_result *res)
{
	const struct rec_stats *st = &res->cpu;
	char a[32], b[32];

	fprintf(stderr, "kiln: %s samples at %u Hz in %s (cpu time %s), %" PRIu64 " process%s, %" PRIu64 " thread%s",
		fmt_count(a, st->samples), res->freq, fmt_ns(b, (double)res->duration_ns),
		fmt_ns((char[32]){ 0 }, (double)st->period), st->processes, st->processes == 1 ? "" : "es",
		st->threads, st->threads == 1 ? "" : "s");
	profile_print_ending(res);
	fputc('\n', stderr);
	print_hotspots(p, o->top);
}
