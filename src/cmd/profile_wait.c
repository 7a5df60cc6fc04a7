/* kiln profile --mode offcpu|wall|io: the help page, and the report of where programs wait (docs/offcpu.md). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../analyze/wait_report.h"
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
		fprintf(stderr, "kiln: %s waits ended where the kernel ran no tracer; measured by the threads' own "
				"clocks\n", fmt_count(a, ost->unended));
	if (ost->py_reads)
		fprintf(stderr, "kiln: %s of the waits under the Python stacks read while they lasted (%s reads; "
				"waits under 4 ms are read only when a read falls within them)\n",
			fmt_ns(a, (double)ost->py_ns), fmt_count(b, ost->py_reads));
	{
		struct wait_report_opts wo = { profile_find_column(p, type), profile_find_column(p, "samples"),
					       o->top > 0 ? (size_t)o->top : 0, wall ? "wall" : "off-CPU",
					       wall ? "samples" : "switches" };
		struct buf sites = BUF_INIT;

		wait_report_format(&sites, p, &wo);
		fputs(sites.buf, stderr);
		buf_release(&sites);
	}
}
