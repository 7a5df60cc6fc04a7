/* kiln profile --mode mem: the help page, the checks before the command runs and the heap report. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "../analyze/heap_report.h"
#include "../core/atomicfile.h"
#include "../core/buf.h"
#include "../core/err.h"
#include "../core/json.h"
#include "../core/util.h"
#include "../profile/profile.h"
#include "../record/run.h"
#include "cmds.h"
#include "profile_common.h"

#define DEFAULT_SAMPLE (512 * 1024) /* jemalloc's default lg_prof_sample = 19 */

const struct cmd_help profile_mem_help = {
	.name = "profile --mode mem",
	.usage = "kiln profile --mode mem [OPTIONS] [--] COMMAND [ARGS...]",
	.description =
		"Profiles the heap of COMMAND: every malloc, calloc, realloc, reallocarray, posix_memalign, "
		"aligned_alloc, memalign, valloc, pvalloc, C++ operator new and free (also C23 free_sized) of the "
		"command and of the processes it forks and execs (unless --no-children) is recorded with its call "
		"stack by libkiln-heap.so, preloaded into them. Stacks follow frame pointers (bounds-checked, "
		"--depth frames at most); code without frame pointers gives shorter stacks.\n\n"
		"Full trace (default): every allocation, exact totals. --sample-bytes SIZE samples allocations "
		"with probability proportional to their size (on average one per SIZE bytes allocated, like "
		"jemalloc's prof_sample; --sample uses 512 KiB) for production use; the values are then "
		"unbiased estimates, and the call and byte totals stay exact.\n\n"
		"Output: a pprof heap profile (default 'heap.pb.gz') with columns alloc_objects, alloc_space, "
		"inuse_objects and inuse_space (live at exit: leaks), peak_inuse_objects and peak_inuse_space (live "
		"when the heap peaked) and temporary_objects (freed right after being allocated, with no allocation "
		"in between), readable by 'kiln flamegraph', 'kiln analyze' and 'go tool pprof'. The report on "
		"stderr gives the peak heap and when it happened, totals, temporary allocations, leaks with their "
		"allocation stacks, the top sites by peak, leaks and calls, a size histogram and LSan-format "
		"suppressions for the leaks; 'kiln analyze HEAP.pb.gz' prints the same report from the file. "
		"Buffers the C runtime keeps until exit (stdio buffers, the dynamic loader's) are suppressed by "
		"default; --suppressions FILE adds LSan 'leak:PATTERN' lines.\n\n"
		"Exit status: that of the command (128+N when signal N killed it), 125 when kiln fails, 126 when "
		"the command cannot run, 127 when it is not found, 2 for usage errors.",
	.examples = "kiln profile --mode mem ./myprog --input data.txt\n"
		    "kiln profile --mode mem -o heap.pb.gz --flamegraph heap.svg ./myprog\n"
		    "kiln profile --mode mem --sample-bytes 512K ./server\n"
		    "kiln profile --mode mem -q --json heap.json ./myprog\n"
		    "kiln analyze heap.pb.gz --json",
};

/* "524288", "512K", "1M", "1G" -> bytes, at most 2^40. */
static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (end == s || errno || *s == '-')
		return -1;
	unsigned shift = 0;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	}
	if ((*end == 'i' || *end == 'I') && shift)
		end++;
	if ((*end == 'b' || *end == 'B') && shift)
		end++;
	if (*end || v > (1ULL << 40) >> shift)
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

int profile_mem_check(const struct profile_opts *o, const struct cmd_help *help, uint64_t *sample_bytes)
{
	struct err e = ERR_INIT;

	*sample_bytes = o->sample ? DEFAULT_SAMPLE : 0;
	if (o->sample_bytes && parse_size(o->sample_bytes, sample_bytes) < 0)
		return usage_error(help, "--sample-bytes expects a size such as 524288 or 512K, got '%s'",
				   o->sample_bytes);
	/* A bad suppressions file is a usage error, found before the command runs. */
	if (o->suppressions) {
		struct profile *probe = profile_new(0);
		struct heap_report_opts ro = { .suppressions = o->suppressions };
		struct heap_report r;
		int rc;

		profile_add_column(probe, "alloc_space", "bytes");
		rc = heap_report_compute(probe, &ro, &r, &e);
		heap_report_release(&r);
		profile_free(probe);
		if (rc < 0) {
			error_msg("%s", e.msg);
			return EXIT_USAGE;
		}
	}
	return 0;
}

/* The report on stderr and as JSON (--json FILE, '-' for stdout). Returns 0, or -1 when it failed. */
int profile_report_mem(const struct profile_opts *o, struct profile *p, const struct record_result *res)
{
	struct heap_report_opts ro = { .top = (size_t)o->top, .suppressions = o->suppressions };
	struct heap_report r;
	struct err e = ERR_INIT;
	int ret = 0;

	if (heap_report_compute(p, &ro, &r, &e) < 0) {
		error_msg("%s", e.msg);
		return -1;
	}
	if (!o->quiet) {
		fputc('\n', stderr);
		struct buf text = BUF_INIT;

		heap_report_format_text(&text, p, &r, (size_t)o->top);
		fputs(text.buf, stderr);
		buf_release(&text);
		if (res->launched && !res->reaped)
			fprintf(stderr, "kiln: stopped by a second signal, the command still runs\n");
		else if (WIFSIGNALED(res->status))
			fprintf(stderr, "kiln: command killed by signal %d\n", WTERMSIG(res->status));
	}
	if (o->json) {
		struct buf b = BUF_INIT;
		struct jw j;

		jw_init(&j, &b, true);
		heap_report_json(&j, p, &r, (size_t)o->top);
		buf_addch(&b, '\n');
		if (!strcmp(o->json, "-"))
			fwrite(b.buf, 1, b.len, stdout);
		else if (afile_write_all(o->json, b.buf, b.len, &e) < 0) {
			error_msg("%s", e.msg);
			ret = -1;
		}
		buf_release(&b);
	}
	heap_report_release(&r);
	return ret;
}
