/*
 * What an AutoFDO profile needs from a binary's DWARF (elfutils libdw): each function's start line
 * (DW_AT_decl_line, which LLVM's line offsets count from; pprof's start_line is not trusted), its declaring
 * file (a line from another file must not become an offset), the name the compiler will look the profile up by
 * (DW_AT_linkage_name, else DW_AT_name), and the discriminator of an address's line.
 */
#ifndef KILN_PGO_DEBUGINFO_H
#define KILN_PGO_DEBUGINFO_H

#include <stdbool.h>
#include <stdint.h>

#include "core/hash.h"

struct err;
struct pgo_dbg;
struct profile;

struct pgo_fn {
	const char *symbol; /* the profile name: linkage name or DW_AT_name; owned by the pgo_dbg */
	const char *file;   /* DW_AT_decl_file, NULL when unknown */
	uint32_t line;      /* DW_AT_decl_line */
};

/* Opens the binary's debug information; -1 with `e` set when it has none ("build with -g"). */
struct pgo_dbg *pgo_dbg_open(const char *path, struct err *e);
void pgo_dbg_free(struct pgo_dbg *d); /* NULL is a no-op */

/*
 * The function named `name` (as kiln names it: DW_AT_name for C, the demangled name for C++) declared in
 * `file` (NULL or "" = any). A name declared in several files needs the file to decide. NULL when unknown.
 */
const struct pgo_fn *pgo_dbg_function(const struct pgo_dbg *d, const char *name, const char *file);

/* One function of an address's inline chain. */
struct pgo_inline {
	const char *name;  /* DW_AT_name (through abstract_origin), owned by libdw; never NULL */
	const char *symbol; /* DW_AT_linkage_name, else the name */
	const char *decl_file; /* DW_AT_decl_file, may be NULL */
	const char *file;  /* the innermost: the line's file; outer ones: the call's file; may be NULL */
	uint32_t line;     /* the innermost: the address's line; outer ones: the line of the inlined call */
	uint32_t start;    /* DW_AT_decl_line of the function, 0 when unknown */
};

/*
 * The inline chain at virtual address `va` (a caller's return address minus one for frames above the leaf),
 * innermost first, into `out` (capacity `max`); returns its length, 0 when the DWARF does not cover `va`. For
 * programs whose frames kiln names without lines (Go binaries, named from their function table).
 */
size_t pgo_dbg_inline_chain(struct pgo_dbg *d, uint64_t va, struct pgo_inline *out, size_t max);

/*
 * The line at virtual address `va` of the binary (kiln's frame address) and its base discriminator (LLVM's
 * encoding decoded); false when the line table does not cover `va`.
 */
bool pgo_dbg_line(struct pgo_dbg *d, uint64_t va, uint32_t *line, uint32_t *disc);

/*
 * True when two file names may name the same source: equal, one ends with "/" + the other, the same base name,
 * or either is unknown (NULL or "").
 */
bool pgo_same_file(const char *a, const char *b);

/* Which of a profile's modules are one binary (by real path, else base name), memoised per module string. */
struct pgo_modmatch {
	struct u64map memo; /* module string id -> 1 the binary, 2 not */
	char *real;         /* owned */
	const char *base;   /* points into the caller's binary path */
};

void pgo_modmatch_init(struct pgo_modmatch *m, const char *binary);
bool pgo_modmatch(struct pgo_modmatch *m, const struct profile *p, uint32_t module);
void pgo_modmatch_release(struct pgo_modmatch *m);

#endif
