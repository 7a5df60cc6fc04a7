/*
 * The perf record decoder: turns one raw perf_event record (struct perf_event_header and its body) into a
 * parsed struct perf_rec. The same decoder serves the live mmap ring buffer and perf.data files, so both paths
 * see exactly the same records. Nothing is copied: pointers in a perf_rec point into the record's bytes. It sits
 * below record/ and formats/ (both use it) and includes only core/.
 */
#ifndef KILN_PERF_RECORD_H
#define KILN_PERF_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct err;

/* What the decoder needs to know about the event that produced a record (from its perf_event_attr). */
struct perf_fmt {
	uint64_t sample_type;
	uint64_t read_format;
	uint64_t sample_regs_user;
	bool sample_id_all;
};

/* The trailing sample_id of non-sample records (sample_id_all), or the same fields of a sample. */
struct perf_sample_id {
	uint32_t pid, tid;
	uint64_t time;
	uint64_t id;
	uint32_t cpu;
	bool has_tid, has_time;
};

struct perf_rec {
	uint32_t type; /* PERF_RECORD_* */
	uint16_t misc;
	struct perf_sample_id sid;
	union {
		struct {
			uint64_t ip;
			uint64_t period;
			const unsigned char *callchain; /* nr u64 values, unaligned-safe access via perf_u64() */
			uint64_t callchain_nr;
			uint64_t regs_abi;              /* PERF_SAMPLE_REGS_ABI_*; 0 = no registers */
			const unsigned char *regs;      /* popcount(sample_regs_user) u64 values */
			uint64_t regs_nr;
			uint64_t regs_mask;             /* the event's sample_regs_user: which registers `regs` holds */
			const unsigned char *stack;     /* user stack copy */
			uint64_t stack_size;            /* bytes valid in `stack` (the dyn_size) */
		} sample;
		struct {
			uint32_t pid, tid;
			uint64_t start, len, pgoff;
			const char *filename;           /* NUL-terminated inside the record */
			const unsigned char *build_id;  /* NULL when the record has none */
			uint8_t build_id_size;
			uint32_t prot, flags;
		} mmap;
		struct {
			uint32_t pid, tid;
			const char *comm;
			bool exec; /* PERF_RECORD_MISC_COMM_EXEC */
		} comm;
		struct {
			uint32_t pid, ppid, tid, ptid;
			uint64_t time;
		} task; /* PERF_RECORD_FORK / PERF_RECORD_EXIT */
		struct {
			uint64_t id, lost;
		} lost;
		struct {
			uint64_t time, id, stream_id;
		} throttle; /* PERF_RECORD_THROTTLE / UNTHROTTLE */
		struct {
			uint64_t lost;
		} lost_samples;
	} u;
};

/* Reads an unaligned native-endian u64 at `p`. */
static inline uint64_t perf_u64(const unsigned char *p)
{
	uint64_t v;
	__builtin_memcpy(&v, p, sizeof(v));
	return v;
}

/*
 * Decodes the record `data` (`len` bytes, including its header; header.size must equal `len`) produced by an
 * event described by `fmt`. Record types the decoder does not know are returned with only type/misc set.
 * Returns 0, or -1 with `e` set when the record is truncated or inconsistent.
 */
int perf_record_decode(const struct perf_fmt *fmt, const unsigned char *data, size_t len, struct perf_rec *out,
		       struct err *e);

/*
 * The position of the event id in records of an event with `sample_type`, for telling events of a multi-event
 * file apart: `*sample_pos` is the u64 index from the start of a sample's body, `*tail_pos` the u64 index from
 * the end of a non-sample record (1 = last). Either is -1 when the id cannot be found there.
 */
void perf_id_pos(uint64_t sample_type, int *sample_pos, int *tail_pos);

/* Callchain markers (PERF_CONTEXT_*): values at or above this are context switches, not addresses. */
#define PERF_CONTEXT_MARKER_MIN ((uint64_t)-4095)

#endif
