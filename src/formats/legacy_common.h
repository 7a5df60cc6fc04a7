/*
 * What pprof's legacy text profiles share (google/pprof profile/legacy_profile.go): lines, hexadecimal address
 * lists, the memory map section that relates addresses to binaries, names from Go's "# 0xADDR func+0xOFF
 * file:line" comments, and turning an address list into a model stack.
 *
 * An address inside a mapping becomes a frame with that module and the module-relative address, named
 * "[base+0xoffset]" as the gperftools CPU reader (pprof_legacy.c) names them, so it stays symbolizable; an
 * address in no mapping is named by its hex value. Names the file itself carries (Go comments, threadz lines,
 * Java location lines) win.
 */
#ifndef KILN_LEGACY_COMMON_H
#define KILN_LEGACY_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/hash.h"

struct err;
struct profile;

/* A cursor over the lines of a buffer. */
struct lcursor {
	const char *p, *end;
	uint64_t lineno; /* of the line last returned */
};

void lcursor_init(struct lcursor *c, const void *data, size_t len);
/* Next line without "\n" (and "\r"); false at the end. */
bool lcursor_next(struct lcursor *c, const char **s, size_t *n);
/* Strips blanks at both ends. */
void ltrim(const char **s, size_t *n);
bool lstarts(const char *s, size_t n, const char *prefix);
const char *lfind(const char *s, size_t n, const char *needle);
/* pprof's isSpaceOrComment: blank, or '#' after blanks. */
bool lblank_or_comment(const char *s, size_t n);
/* The "--- Memory map: ---" and "MAPPED_LIBRARIES:" sentinels anywhere in the line. */
bool legacy_is_map_sentinel(const char *s, size_t n);
/*
 * A decimal integer (optional '-' when `neg_ok`) at *s; advances *s. Fails on overflow, as Go's ParseInt does.
 */
bool lparse_dec(const char **s, const char *end, bool neg_ok, int64_t *out);

struct legacy_map {
	uint64_t start, limit, offset;
	uint32_t file; /* string id */
};

struct legacy_name {
	uint32_t frame; /* model frame id */
	uint32_t next;  /* the next (outer) frame of the same address, UINT32_MAX ends */
};

struct legacy_ctx {
	struct profile *p;
	struct legacy_map *maps;
	size_t maps_nr, maps_alloc;
	struct u64map named;  /* address -> first index in names */
	struct legacy_name *names;
	size_t names_nr, names_alloc;
	struct u64map frames; /* address -> frame id of unnamed addresses */
	uint32_t *stack;      /* the sample being built, leaf first */
	size_t stack_nr, stack_alloc;
	int64_t *addrs;       /* scratch for address lists */
	size_t addrs_nr, addrs_alloc;
};

void legacy_ctx_init(struct legacy_ctx *c, struct profile *p);
void legacy_ctx_release(struct legacy_ctx *c);

/*
 * The hex numbers "0x[0-9a-f]+" in s[0..n) into c->addrs (as pprof's parseHexAddresses). Fails when one does
 * not fit 64 bits.
 */
int legacy_hex_list(struct legacy_ctx *c, const char *s, size_t n, struct err *e);

/*
 * Parses the memory map lines from `s` to the end of the buffer (pprof's parseProcMapsFromScanner: both the
 * /proc/PID/maps form and the "start-end: path" form; non-executable entries dropped; adjacent pieces of one
 * file merged). Other lines are ignored.
 */
void legacy_maps_parse(struct legacy_ctx *c, const char *s, const char *end);
/* Finds the memory map sentinel from `s` and parses what follows it. */
void legacy_maps_find_and_parse(struct legacy_ctx *c, const char *s, const char *end);

/* Scans a whole Go text profile for "#\t0xADDR\tfunc+0xOFF\tfile:line" comments and names those addresses. */
void legacy_go_comments(struct legacy_ctx *c, const char *s, const char *end);
/* Names `addr` with one frame (appended as the outermost frame of that address). */
void legacy_name_addr(struct legacy_ctx *c, uint64_t addr, uint32_t frame);

/* Pushes the frames of `addr` (its named frames, else a mapped or raw-address frame) on the sample, leaf first. */
void legacy_push_addr(struct legacy_ctx *c, uint64_t addr);
/* Pushes one frame on the sample (leaf first). */
void legacy_push_frame(struct legacy_ctx *c, uint32_t frame);
/* A frame for `addr`: module-relative within a mapping, else the raw address. */
uint32_t legacy_addr_frame(struct legacy_ctx *c, uint64_t addr, const char *name, size_t name_len);
/*
 * Adds the sample built so far (an empty stack gets a "[no stack]" frame) and starts a new one; returns its
 * leaf node.
 */
uint32_t legacy_commit(struct legacy_ctx *c, const int64_t *values, uint32_t labelset);

/* pprof's scaleHeapSample: unsampling of a Poisson-sampled heap record (rate <= 1: unchanged). */
void legacy_scale_heap(int64_t *count, int64_t *size, int64_t rate);

#endif
