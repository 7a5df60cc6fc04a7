/*
 * I/O profiling with eBPF (src/bpf/iotrace.bpf.c): what `strace -c` summarises (calls, errors, total / mean /
 * max latency per system call, with a log2 latency histogram), the user stacks behind system calls and behind
 * the slowest ones, bytes read and written per file with its path (like filetop), and block device request
 * latency (like biolatency, system-wide) when the kernel has the block tracepoints. Everything is aggregated in
 * the kernel, for the target's process tree only, and read once at the end.
 *
 * Exact and estimated: counts, errors and latencies per system call are exact; the split of a system call's
 * calls between its stacks is estimated from sampled stacks (every call of the first few of each kind per
 * CPU, then one in IO_SAMPLE_EVERY) and scaled so that the profile's totals are the exact ones.
 */
#ifndef KILN_RECORD_IOTRACE_H
#define KILN_RECORD_IOTRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpf_shared.h"

struct err;
struct profile;
struct rec_session;
struct symbolizer;

struct iotrace_opts {
	bool all;       /* every process instead of the targets added with iotrace_add_pid() */
	bool no_stacks; /* no user stacks (cheapest) */
	bool no_files;  /* no per-file bytes */
	bool no_block;  /* no block device latency */
};

struct io_syscall {
	uint32_t nr;
	const char *name; /* static */
	uint64_t count, errors, total_ns, max_ns;
	uint64_t hist[IO_HIST];
};

#define IO_FRAMES 8 /* frames kept per slow call for the report */

struct io_slowcall {
	uint64_t lat_ns;
	uint32_t tgid, tid, nr;
	int64_t ret;
	uint64_t arg0;
	char *where; /* "f <- g <- h", owned; NULL when no stack */
};

struct io_file {
	uint32_t tgid;
	char *path; /* owned */
	uint64_t reads, writes, rbytes, wbytes, read_ns, write_ns;
};

struct io_blockdir {
	uint64_t count, bytes, total_ns, max_ns;
	uint64_t hist[IO_HIST];
};

struct io_result {
	struct io_syscall *sys; /* by total time, descending */
	size_t nsys;
	uint64_t calls, errors, total_ns;
	struct io_slowcall *slow; /* slowest first */
	size_t nslow;
	struct io_file *files; /* by bytes, descending */
	size_t nfiles;
	bool block;               /* the block tracepoints were traced */
	struct io_blockdir blk[3]; /* read, write, other */
	bool files_traced;
	bool counts_only; /* the perf_event fallback (iotrace_count.h): calls per system call, nothing else */
	uint64_t dropped;
};

/* Loads and attaches the programs; NULL with `e` set on failure, `*denied` when the kernel refused BPF. */
struct iotrace *iotrace_open(const struct iotrace_opts *o, bool *denied, struct err *e);
void iotrace_free(struct iotrace *it); /* NULL is a no-op */
int iotrace_add_pid(struct iotrace *it, uint32_t pid, struct err *e);
/* A command kiln forked and has not exec'd yet: its calls count from its first successful execve on. */
int iotrace_add_launched(struct iotrace *it, uint32_t pid, struct err *e);
void iotrace_stop(struct iotrace *it);

/*
 * Reads the sums: fills `res` and adds to `p` one sample per (thread, system call, user stack) with columns
 * syscalls/count and latency/nanoseconds (default), the stack ending in a frame named after the system call.
 * User addresses are named with `sym` through the address spaces `s` tracked. Returns 0 or -1 with `e` set.
 */
int iotrace_collect(struct iotrace *it, struct rec_session *s, struct symbolizer *sym, struct profile *p,
		    struct io_result *res, struct err *e);
void io_result_release(struct io_result *res);
/* Stores `res` (recorded over `duration_ns`) as `p`'s I/O summary (profile/meta.h), replacing any earlier one. */
void io_result_store(const struct io_result *res, uint64_t duration_ns, struct profile *p);

/* The x86_64 name of system call `nr`, or NULL. */
const char *io_syscall_name(uint32_t nr);

#endif
