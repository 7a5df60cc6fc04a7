/*
 * Go function names from a binary's .gopclntab, the table the Go runtime itself uses for tracebacks: it
 * survives `go build -ldflags=-s` and the stripped binaries `go test` and `go run` execute, which have no ELF
 * symbols. Formats of Go 1.16-1.17 (magic 0xfffffffa) and 1.18+ (0xfffffff0, 0xfffffff1) are read; names only
 * (no file:line). The table is untrusted input: every offset is checked against its length.
 */
#ifndef KILN_LANG_GO_H
#define KILN_LANG_GO_H

#include <stddef.h>
#include <stdint.h>

struct go_pcln;

/* Parses a copy of a .gopclntab section; `text_addr` is the address of .text (Go 1.18+ entries are offsets
 * from it). Returns NULL when the bytes are not a pclntab kiln reads. */
struct go_pcln *go_pcln_parse(const uint8_t *data, size_t len, uint64_t text_addr);
/* Reads the .gopclntab of the ELF file at `path`; NULL when it has none. */
struct go_pcln *go_pcln_open(const char *path);
void go_pcln_free(struct go_pcln *t); /* NULL is a no-op */
/* The function containing `addr` (an ELF virtual address), owned by `t`, or NULL. */
const char *go_pcln_lookup(const struct go_pcln *t, uint64_t addr);

#endif
