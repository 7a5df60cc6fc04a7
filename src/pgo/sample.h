/*
 * AutoFDO from a kiln CPU profile: the LLVM sample-profile text format (llvm/ProfileData/SampleProfReader.h)
 * that clang -fprofile-sample-use reads, written from the stacks of one binary.
 *
 *   function:total_samples:head_samples
 *    offset[.discriminator]: samples [callee:count ...]
 *    offset[.discriminator]: inlined_function:total_samples
 *     offset: samples                       (one more space per inline level)
 *
 * Offsets are lines from the function's start line (DW_AT_decl_line, from the binary's DWARF); a frame whose
 * line lies in another file, before the start, or 65535 or more lines after it is left out (Clang rejects such
 * offsets). Body samples come from the leaf of each stack, through its inline chain as kiln's inlined frames
 * give it; each caller frame adds a call target "callee:samples" at its call line. Without a PMU's branch
 * records those counts are samples of time spent below the call, not numbers of calls.
 *
 * A profile of another build of the program is stale: a sample whose address the binary's DWARF puts on
 * another line than kiln's frame says (or in another function) is counted as stale and left out, never placed
 * at a wrong offset.
 */
#ifndef KILN_PGO_SAMPLE_H
#define KILN_PGO_SAMPLE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct err;
struct pgo_dbg;
struct profile;

struct pgo_sample_opts {
	const char *binary;   /* frames of this module (path; matched by real path or base name) */
	int column;           /* value column, -1 = "samples" if present, else the default */
	bool no_call_targets; /* body samples only, as AutoFDO from IP samples */
};

struct pgo_sample_stats {
	uint64_t total;      /* samples in the profile's column */
	uint64_t in_binary;  /* of which with a leaf frame in the binary */
	uint64_t written;    /* of which placed as body samples */
	uint64_t unplaced;   /* in the binary but not placed: function unknown to the DWARF, or line out of range */
	uint64_t stale;      /* in the binary, but on another line (or function) in its DWARF: left out */
	size_t stale_functions; /* functions with such samples */
	const char *stale_names[8]; /* the first of them (kiln's names, owned by the profile) */
	size_t functions;    /* top-level functions written */
};

/*
 * Writes the sample profile of `p`'s frames in `o->binary` to `out`. Returns 0, or -1 with `e` set (nothing
 * of the binary in the profile, or nothing placeable).
 */
int pgo_sample_write(const struct profile *p, struct pgo_dbg *dbg, const struct pgo_sample_opts *o, FILE *out,
		     struct pgo_sample_stats *st, struct err *e);

/*
 * The module that holds the most leaf samples of native code (the profiled program, usually), or NULL. The
 * string belongs to `p`.
 */
const char *pgo_sample_main_module(const struct profile *p);

#endif
