/* kiln profile --mode offcpu|wall|io: the help page, and the report of where programs wait (docs/offcpu.md). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../analyze/hotspots.h"
#include "../analyze/waitsite.h"
#include "../core/array.h"
#include "../core/buf.h"
#include "../core/util.h"
#include "../core/xalloc.h"
#include "../profile/profile.h"
#include "../record/run.h"
#include "cmds.h"
#include "profile_common.h"

#define DEFAULT_OUTPUT "profile.pb.gz"

const struct cmd_help profile_wait_help = {
	.name = "profile --mode offcpu|wall|io",
	.usage = "kiln profile --mode offcpu|wall|io [OPTIONS] [--] COMMAND [ARGS...]\n"
		 "kiln profile --mode offcpu|wall|io [OPTIONS] -p PID[,PID...] [-d SECONDS]\n"
		 "kiln profile --mode offcpu|wall|io [OPTIONS] -a -d SECONDS",
	.description =
		"Where a program waits, and what its I/O costs, measured with eBPF programs that aggregate in the "
		"kernel (the cost does not grow with the event rate). A launched COMMAND is followed through its "
		"threads and the processes it forks; -p traces running processes; -a the whole system.\n\n"
		"--mode offcpu: the time each thread spends blocked (on I/O, locks, sleeps), in nanoseconds, "
		"attributed to the user + kernel stack at which it left the CPU (sched_switch); the time it then "
		"waits for a CPU is reported apart. --min-block drops shorter waits. Columns samples/count "
		"(switches) and off_cpu/nanoseconds.\n\n"
		"--mode wall: on-CPU samples (cpu-clock at -F Hz) and off-CPU time together, so a thread's time "
		"adds up to its lifetime: why a request is slow even when the CPU is idle. Column wall/nanoseconds.\n\n"
		"Python 3.11-3.13 (--language, default auto): the Python stack of a waiting thread is read from "
		"the interpreter while it waits, and its wait is counted under the Python function that blocked; "
		"waits shorter than a few milliseconds keep their native stack unless a read fell within them "
		"(docs/offcpu.md).\n\n"
		"--mode io: a system call summary like strace -c (calls, errors, total / mean / max latency, a "
		"latency histogram), the stacks of the slowest calls, bytes read and written per file with its "
		"path, and block device latency (system-wide) when the kernel has the block tracepoints. The "
		"profile has columns syscalls/count and latency/nanoseconds; each stack ends in a frame named after "
		"the system call (per-stack shares are estimated from sampled stacks and scaled to the exact "
		"totals). --json writes the summary as JSON.\n\n"
		"Output: pprof by default ('" DEFAULT_OUTPUT "'), or by -o's extension (.folded, .svg, .json "
		"speedscope); flame graphs use the io palette. A report goes to stderr at the end. Needs root (or "
		"CAP_BPF with CAP_PERFMON) and a kernel with BTF (/sys/kernel/btf/vmlinux).\n\n"
		"Exit status: that of the command (128+N for a signal), 0 for -p/-a, 125 when kiln fails (e.g. "
		"eBPF is not allowed), 126/127 when the command cannot run / is not found, 2 for usage errors.",
	.examples = "kiln profile --mode offcpu -o offcpu.svg -- sh -c 'sleep 0.2; ls -R /usr/include >/dev/null'\n"
		    "kiln profile --mode offcpu --min-block 1000 -p 1234 -d 10\n"
		    "kiln profile --mode wall --flamegraph wall.svg -- python3 -c 'import time; sum(range(10**7)); time.sleep(0.2)'\n"
		    "kiln profile --mode io --json io.json -- dd if=/dev/zero of=/tmp/x bs=4k count=1000\n"
		    "kiln profile --mode io -p 1234 -d 30 -o io.pb.gz",
};

/* --- the off-CPU / wall report --- */

struct site {
	char *name;
	int64_t value, count;
};

static int cmp_site(const void *a, const void *b)
{
	const struct site *x = a, *y = b;
	if (x->value != y->value)
		return x->value > y->value ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* A frame's name for the wait sites: Python frames with their file and line, as the runtime report does. */
static void site_name(struct buf *b, const struct profile *p, uint32_t id)
{
	const struct frame *f = &p->frames[id];
	frame_display_name(b, p, id);
	if (f->kind == FRAME_PYTHON && f->file) {
		buf_addf(b, " (%s", profile_str(p, f->file));
		if (f->line)
			buf_addf(b, ":%u", (unsigned)f->line);
		buf_addch(b, ')');
	}
}

/*
 * Wait sites: per sample the innermost function of the program itself (not of the C library) and its caller,
 * with the innermost user frame in brackets ("reader <- main [read]"): where the thread left the CPU in the
 * program's own terms (the kernel frames below are the same few scheduler functions everywhere). In a Python
 * stack the program's own functions are its Python frames: the innermost one and its Python caller
 * ("sleeper (app.py:4) <- main (app.py:9) [clock_nanosleep]"), not the interpreter's C functions.
 */
static void print_sites(const struct profile *p, int column, int c_count, long long top, const char *what,
			const char *count_name)
{
	struct site *v = NULL;
	size_t nr = 0, alloc = 0;
	uint32_t *ids = xmalloc(4096 * sizeof(*ids));
	for (size_t r = 0; r < p->rows_nr; r++) {
		size_t depth = profile_stack(p, p->rows[r].node, ids, 4096);
		struct buf b = BUF_INIT, leaf = BUF_INIT;
		int parts = 0;
		bool python = false;
		for (size_t i = 0; i < depth && !python; i++)
			python = p->frames[ids[i]].kind == FRAME_PYTHON;
		for (size_t i = depth; i-- > 0 && parts < 2;) {
			const struct frame *f = &p->frames[ids[i]];
			if (f->kind == FRAME_KERNEL || f->kind == FRAME_ROOT || f->kind == FRAME_UNKNOWN)
				continue;
			if (!leaf.len)
				frame_display_name(&leaf, p, ids[i]);
			if ((python && f->kind != FRAME_PYTHON) || (!parts && wait_runtime_module(p, f)))
				continue;
			if (parts)
				buf_adds(&b, " <- ");
			site_name(&b, p, ids[i]);
			parts++;
		}
		if (!parts && leaf.len)
			buf_adds(&b, leaf.buf);
		else if (!parts) {
			/* No user frames: a kernel thread (system-wide traces), named by its command. */
			uint32_t comm = profile_label_str(p, p->rows[r].labelset, "comm");
			buf_adds(&b, "[kernel]");
			if (comm)
				buf_addf(&b, " %s", profile_str(p, comm));
		}
		else if (leaf.len)
			buf_addf(&b, " [%s]", leaf.buf);
		buf_release(&leaf);
		const int64_t *vals = profile_row_values(p, r);
		size_t i;
		for (i = 0; i < nr; i++)
			if (!strcmp(v[i].name, b.buf))
				break;
		if (i == nr) {
			ALLOC_GROW(v, nr + 1, alloc);
			v[nr++] = (struct site){ buf_detach(&b, NULL), 0, 0 };
		} else {
			buf_release(&b);
		}
		v[i].value += vals[column];
		v[i].count += c_count >= 0 ? vals[c_count] : 0;
	}
	if (nr)
		qsort(v, nr, sizeof(*v), cmp_site);
	int64_t total = profile_total(p, column);
	if (nr && top > 0) {
		fprintf(stderr, "%-12s %6s %10s  %s\n", what, "%", count_name,
			"where: function <- caller [innermost user frame]");
		for (size_t i = 0; i < nr && (long long)i < top; i++) {
			char a[32], c[32];
			fprintf(stderr, "%-12s %5.1f%% %10s  %s\n", fmt_ns(a, (double)v[i].value),
				total ? 100.0 * (double)v[i].value / (double)total : 0.0, fmt_count(c, (uint64_t)v[i].count),
				v[i].name);
		}
	}
	for (size_t i = 0; i < nr; i++)
		free(v[i].name);
	free(v);
	free(ids);
}

void profile_report_wait(const struct profile_opts *o, struct profile *p, const struct record_result *res)
{
	const struct offcpu_stats *ost = &res->offcpu;
	bool wall = o->mode_bit == RECORD_WALL;
	const char *type = wall ? "wall" : "off_cpu";
	char a[32], b[32];

	fprintf(stderr, "kiln: %s time %s in %s of recording, %s switches off CPU, %" PRIu64 " thread%s",
		wall ? "wall-clock" : "off-CPU", fmt_ns(a, (double)profile_total(p, profile_find_column(p, type))),
		fmt_ns(b, (double)res->duration_ns), fmt_count((char[32]){ 0 }, ost->switches), res->cpu.threads,
		res->cpu.threads == 1 ? "" : "s");
	profile_print_ending(res);
	fputc('\n', stderr);
	if (!wall && ost->runq_ns)
		fprintf(stderr, "kiln: and %s runnable, waiting for a CPU (%s times; not in the profile: see "
				"--mode wall)\n",
			fmt_ns(a, (double)ost->runq_ns), fmt_count(b, ost->runq_waits));
	if (ost->unended)
		fprintf(stderr, "kiln: %s waits ended where the kernel skipped the tracer; counted up to their "
				"wakeup\n", fmt_count(a, ost->unended));
	if (ost->py_reads)
		fprintf(stderr, "kiln: %s of the waits under the Python stacks read while they lasted (%s reads; "
				"waits under 4 ms are read only when a read falls within them)\n",
			fmt_ns(a, (double)ost->py_ns), fmt_count(b, ost->py_reads));
	print_sites(p, profile_find_column(p, type), profile_find_column(p, "samples"), o->top,
		    wall ? "wall" : "off-CPU", wall ? "samples" : "switches");
}
