/*
 * The "debuginfo" recommendation of `kiln analyze`: a module (binary or library) whose code shows up without
 * function names ("[liblzma.so.5+0x15bc9]", "[unknown]" with a file module, or a frame with no function)
 * on at least the threshold's share of the samples gets one recommendation that says where its debug symbols
 * come from (src/symbols/dbghint.h): `apt install PACKAGE-dbgsym`, or its build-id for debuginfod, read
 * from the profile's "kiln:build-id" notes (pprof Mapping.build_id).
 */
#ifndef KILN_SYMHINT_H
#define KILN_SYMHINT_H

#include <stdbool.h>

struct analysis;
struct frame;
struct profile;

/* Whether `f` is code of a file module that was not named (no symbols were found for it). */
bool symhint_unnamed(const struct profile *p, const struct frame *f);

/*
 * Adds a recommendation per module whose unnamed code is on at least `a->threshold` percent of the samples
 * (each sample counted once per module), placed among `a->recs` by its share.
 */
void symhint_add(struct analysis *a);

#endif
