/*
 * Types shared by kiln's eBPF programs (src/bpf/NAME.bpf.c) and their loaders (src/record/offcpu.c, iotrace.c):
 * the keys and values of the maps the kernel side aggregates into and user space reads at the end. Only
 * fixed-size __u32/__u64 fields, laid out without implicit padding, so both compilers agree on every offset.
 */
#ifndef KILN_BPF_SHARED_H
#define KILN_BPF_SHARED_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define KILN_BPF_MAX_STACK 127 /* frames per stack trace (the kernel's default perf_event_max_stack) */

/* --- off-CPU (offcpu.bpf.c) --- */

/* Time blocked, summed per thread and (user, kernel) stack. A stack id < 0 means "no stack" (kernel thread,
 * hash collision in the stack map, or a user stack that could not be read). */
struct oc_key {
	__u32 tgid;
	__u32 pid;
	__s32 ustack;
	__s32 kstack;
};

struct oc_val {
	__u64 ns;    /* nanoseconds off CPU */
	__u64 count; /* times switched out */
};

/* A thread off CPU since `ts` (the map `starts`, keyed by tid). */
struct oc_start {
	__u64 ts;   /* switched out */
	__u64 wake; /* woken up (runnable again), 0 until then */
	__s32 ustack;
	__s32 kstack;
	__u32 tgid;
	__u32 preempted; /* left the CPU runnable: all of its time off CPU is waiting for a CPU */
	__u64 ran;       /* the thread's own clocks at the switch out: time on CPU (se.sum_exec_runtime) ... */
	__u64 queued;    /* ... and time runnable waiting for one (sched_info.run_delay) */
};

/* A block of a thread whose Python stack user space read while it lasted (pyread, offcpu_py.c). */
struct oc_pyblock {
	__u64 ts; /* switched out */
	__u64 ns; /* time counted (as in `counts`) */
	__u32 tgid;
	__u32 pid;
	__s32 ustack;
	__s32 kstack;
};

/* Regs in perf's x86_64 order (AX BX CX DX SI DI BP SP IP R8..R15), as symbolizer_unwind() wants them. */
#define OC_NREGS 17
#define OC_SNAP 2048 /* bytes of user stack copied from SP */

/*
 * The user registers and the top of the user stack the first time a (process, user stack id) is seen: user
 * space unwinds the innermost frames with DWARF CFI from it, because code without frame pointers (a libc
 * system call wrapper) hides its caller from the frame-pointer walk of bpf_get_stackid().
 */
struct oc_ufix {
	__u64 regs[OC_NREGS];
	__u64 sp;
	__u32 len; /* bytes valid in stack */
	__u32 pad;
	__u8 stack[OC_SNAP];
};

struct oc_fixkey {
	__u32 tgid;
	__s32 ustack;
};

/* --- I/O (iotrace.bpf.c) --- */

#define IO_NR_MAX 512  /* syscall numbers tracked */
#define IO_HIST 40     /* log2 latency buckets: bucket b holds [2^b, 2^(b+1)) ns, bucket 0 also 0 */
#define IO_SLOW 16     /* slowest syscalls kept per CPU */
#define IO_SAMPLE_FIRST 16 /* the first calls of each syscall (per CPU) all get a stack ... */
#define IO_SAMPLE_EVERY 64 /* ... then one call in this many, weighted by it */

struct io_sys {
	__u64 count;
	__u64 errors; /* returned -1..-4095 */
	__u64 total_ns;
	__u64 max_ns;
	__u64 hist[IO_HIST];
};

/* Sampled user stacks of syscalls: weight estimates the calls a sample stands for. */
struct io_skey {
	__u32 tgid;
	__u32 pid;
	__s32 nr;
	__s32 ustack;
};

struct io_sval {
	__u64 weight;
	__u64 lat_ns; /* sum of the sampled calls' latency times their weight */
};

struct io_slow {
	__u64 lat_ns;
	__u64 ts; /* bpf_ktime_get_ns() at the end of the call */
	__u32 tgid;
	__u32 pid;
	__s32 nr;
	__s32 ustack;
	__s64 ret;
	__u64 arg0;
};

struct io_fkey {
	__u32 tgid;
	__u32 dev;
	__u64 ino;
};

#define IO_DEPTH 16 /* path components kept per file, innermost first */
#define IO_COMP 48

struct io_fval {
	__u64 reads, writes;
	__u64 rbytes, wbytes;
	__u64 read_ns, write_ns;
	__u32 mode;  /* inode mode (S_IFMT bits tell a pipe or socket) */
	__u32 depth; /* components in comp[], innermost first; the path is complete when `rooted` */
	__u32 rooted;
	__u32 pad;
	char comp[IO_DEPTH][IO_COMP];
};

/* Block device requests: per direction (0 read, 1 write, 2 other). */
struct io_blk {
	__u64 count;
	__u64 bytes;
	__u64 total_ns;
	__u64 max_ns;
	__u64 hist[IO_HIST];
};

#endif
