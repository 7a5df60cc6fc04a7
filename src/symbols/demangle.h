/*
 * C++ (Itanium ABI) demangling through the system's libstdc++, loaded at run time when present, so that kiln
 * links no C++ runtime. Internal to src/symbols.
 */
#ifndef KILN_DEMANGLE_H
#define KILN_DEMANGLE_H

#include <stddef.h>

/* Returns the demangled form of the `len` bytes at `name` as a heap string (the caller frees it), or NULL when
 * the name is not a mangled C++ name ("_Z...") or cannot be demangled here. */
char *sym_demangle(const char *name, size_t len);

#endif
