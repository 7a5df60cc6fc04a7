/*
 * Go's PGO profile (default.pgo) from a kiln CPU profile of a Go program: a pprof profile that
 * `go build -pgo` reads (Go 1.21+, cmd/compile/internal/pgo). The compiler keys its call edges by caller,
 * callee and the call's line offset from the caller's start line, so every Function carries start_line (from
 * the binary's DWARF, as kiln's frames have none), names are the Go symbol names kiln reads from the binary, and
 * inlined frames are Lines of one Location, innermost first, as the Go runtime writes them. Only the program's
 * own frames are kept (no kernel, no shared libraries); the values are samples/count and cpu/nanoseconds.
 */
#ifndef KILN_PGO_GOPGO_H
#define KILN_PGO_GOPGO_H

#include <stddef.h>
#include <stdint.h>

struct buf;
struct err;
struct pgo_dbg;
struct profile;

struct pgo_go_stats {
	uint64_t samples;        /* samples kept */
	size_t functions;        /* functions written */
	size_t with_start_line;  /* of which with a start line from the DWARF */
};

/*
 * Appends the gzipped pprof to `out`. `binary` selects the frames (by real path or base name). Returns 0, or -1
 * with `e` set (no samples of the binary, no function with a start line, no usable value column).
 */
int pgo_go_write(const struct profile *p, struct pgo_dbg *dbg, const char *binary, struct buf *out,
		 struct pgo_go_stats *st, struct err *e);

#endif
