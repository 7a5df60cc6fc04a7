/*
 * What the compilers say about a profile while they use it, parsed from their standard error: GCC's
 * -Wcoverage-mismatch (a function's line or control-flow checksum changed) and -Wmissing-profile, Clang's
 * -Wprofile-instr-out-of-date, -Wprofile-instr-missing and -Wprofile-instr-unprofiled. GCC names the functions;
 * Clang 14 only counts them per translation unit, so its findings carry counts and no name.
 */
#ifndef KILN_PGO_DIAG_H
#define KILN_PGO_DIAG_H

#include <stddef.h>

enum pgo_finding_kind {
	PGO_STALE,      /* the profile no longer matches the function's source */
	PGO_MISSING,    /* functions (or a whole object) the build compiled and the profile does not know */
	PGO_UNPROFILED, /* a source file with no profile data at all */
};

struct pgo_finding {
	enum pgo_finding_kind kind;
	char *function; /* owned; NULL when the compiler names none */
	char *file;     /* owned; NULL when the diagnostic has no location */
	unsigned line;
	unsigned count; /* functions concerned (1 for a named one) */
	unsigned of;    /* of how many functions in the translation unit, 0 when not said */
};

struct pgo_diag {
	struct pgo_finding *v;
	size_t nr, alloc;
};

#define PGO_DIAG_INIT { NULL, 0, 0 }

/*
 * Adds the findings in a compiler's standard error `text` (any bytes) to `d`. A function named twice (GCC
 * repeats a warning per pass, make -j interleaves) is kept once. Never fails: lines it does not know are skipped.
 */
void pgo_diag_parse(struct pgo_diag *d, const char *text, size_t len);
/* Sum of `count` over the findings of one kind. */
size_t pgo_diag_count(const struct pgo_diag *d, enum pgo_finding_kind kind);
void pgo_diag_release(struct pgo_diag *d);

#endif
