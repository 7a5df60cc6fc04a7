/*
 * How much of a program a merged profile covers: functions with counts over the functions it records (an
 * instrumented build records every function it compiled, run or not). Read from the toolchains' own dumps:
 * `gcov-dump -l` of GCC's .gcda files and `llvm-profdata show --all-functions` of Clang's .profdata.
 */
#ifndef KILN_PGO_COVERAGE_H
#define KILN_PGO_COVERAGE_H

#include <stddef.h>
#include <stdint.h>

struct pgo_coverage {
	size_t functions; /* functions in the profile */
	size_t covered;   /* of which ran at least once in training */
	size_t objects;   /* GCC: .gcda files (one per object); Clang: 0 */
	uint64_t max_count; /* the largest entry (Clang) or arc (GCC) count */
};

/* Adds what `gcov-dump -l` printed (any bytes) to `c`. A function ran when any counter is non-zero. */
void pgo_coverage_parse_gcov_dump(struct pgo_coverage *c, const char *text, size_t len);
/* Adds what `llvm-profdata show --all-functions` printed; a function ran when its entry count is non-zero. */
void pgo_coverage_parse_llvm_show(struct pgo_coverage *c, const char *text, size_t len);

#endif
