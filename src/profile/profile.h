/*
 * The one data model (DESIGN.md): every reader fills a profile, every writer and renderer reads one, and the
 * recorder builds one live. Nothing converts format A to format B directly.
 *
 *   strings  interned once; id 0 is always "".
 *   frames   (function, module, file, line, addr, kind), interned; frame ids are dense.
 *   stacks   a prefix trie of nodes (parent, frame); node 0 is the root and has no frame. A sample names its
 *            leaf node, so a stack is stored once however many samples share it.
 *   values   one or more typed columns per sample (pprof ValueType: "samples"/"count", "cpu"/"nanoseconds").
 *   labels   interned label sets (pid, tid, comm, free key=value tags); set 0 is the empty set.
 *
 * Samples with the same leaf node and label set are aggregated into one row, so memory grows with unique
 * stacks, not with input size. With PROFILE_KEEP_ORDER (flame charts) only consecutive equal samples merge.
 *
 * The struct is visible so that readers, writers and renderers can walk it fast; change it only through the
 * functions below. Everything it points to is owned by the profile and freed by profile_free().
 */
#ifndef KILN_PROFILE_H
#define KILN_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/hash.h"
#include "meta.h"

struct err;

enum frame_kind {
	FRAME_NATIVE = 0, /* compiled user code */
	FRAME_KERNEL,
	FRAME_JIT,        /* JIT-compiled code named through a perf map */
	FRAME_INLINED,    /* an inlined function; the next frame towards the root is its physical caller */
	FRAME_PYTHON,
	FRAME_JS,
	FRAME_JAVA,
	FRAME_GO,
	FRAME_ROOT,       /* a pseudo frame such as the process name in folded stacks */
	FRAME_UNKNOWN,
	FRAME_KIND_NR
};

/* Returns a short name for a kind ("native", "kernel", ...). */
const char *frame_kind_name(enum frame_kind kind);

struct frame {
	uint32_t function; /* string id of the function name, 0 when unknown */
	uint32_t module;   /* string id of the binary/DSO path, 0 when unknown */
	uint32_t file;     /* string id of the source file, 0 when unknown */
	uint32_t line;     /* source line, 0 when unknown */
	uint64_t addr;     /* module-relative address when known, else 0; part of the frame's identity */
	uint32_t kind;     /* enum frame_kind */
	uint32_t pad_;     /* zero; keeps the struct free of padding so it can be hashed as bytes */
};

struct stack_node {
	uint32_t parent; /* node id; the root (0) is its own parent */
	uint32_t frame;  /* frame id; meaningless for the root */
	uint32_t depth;  /* 0 for the root, 1 for a top-level frame */
};

struct value_type {
	uint32_t type; /* string id, e.g. "samples", "cpu", "alloc_space" */
	uint32_t unit; /* string id, e.g. "count", "nanoseconds", "bytes" */
};

struct label {
	uint32_t key; /* string id */
	uint32_t str; /* string id of a string value, 0 for a numeric label */
	int64_t num;  /* numeric value */
	uint32_t num_unit; /* string id of the numeric unit, 0 when none */
	uint32_t pad_;
};

struct sample_row {
	uint32_t node;     /* leaf stack node */
	uint32_t labelset; /* label set id */
};

#define PROFILE_MAX_COLUMNS 16
#define PROFILE_KEEP_ORDER 1 /* profile_new() flag: do not aggregate non-adjacent samples */

struct profile {
	struct strtab strings;

	struct frame *frames;
	size_t frames_nr, frames_alloc;
	struct u64map frame_index; /* frame hash -> chain in frame_next */
	uint32_t *frame_next;      /* collision chain, UINT32_MAX ends it */

	struct stack_node *nodes;
	size_t nodes_nr, nodes_alloc;
	uint32_t *first_child;  /* per node, its first child (UINT32_MAX: none), nodes_alloc of them */
	struct u64map children; /* (parent << 32 | frame) -> node id, for the children after the first */

	struct value_type columns[PROFILE_MAX_COLUMNS];
	size_t ncolumns;
	int default_column; /* the column shown by default, -1 for the last (pprof's convention) */

	struct sample_row *rows;
	int64_t *values; /* rows_nr * ncolumns, row-major */
	size_t rows_nr, rows_alloc;
	struct u64map row_index; /* (node << 32 | labelset) -> row */

	struct strtab labelsets; /* serialised struct label arrays; id 0 = empty set */

	/* Metadata, as in pprof. */
	struct value_type period_type;
	int64_t period;
	int64_t time_nanos;     /* start, ns since the epoch; 0 when unknown */
	int64_t duration_nanos; /* 0 when unknown */
	uint32_t *comments;     /* string ids: free text for people; what kiln reads back is in `meta` */
	size_t comments_nr, comments_alloc;
	struct profile_meta meta; /* typed metadata (meta.h) */
	/*
	 * What a reader skipped or guessed ("ignored 3 lines with invalid format"), for the command to print on
	 * stderr. Never written into any output format, never merged: a warning is about one input file.
	 */
	uint32_t *warnings;     /* string ids */
	size_t warnings_nr, warnings_alloc;

	unsigned flags;
};

struct profile *profile_new(unsigned flags);
void profile_free(struct profile *p); /* NULL is a no-op */

static inline uint32_t profile_intern(struct profile *p, const char *s, size_t len)
{
	return strtab_intern(&p->strings, s, len);
}
uint32_t profile_intern_str(struct profile *p, const char *s);
static inline const char *profile_str(const struct profile *p, uint32_t id) { return strtab_str(&p->strings, id); }
static inline uint32_t profile_strlen(const struct profile *p, uint32_t id) { return strtab_len(&p->strings, id); }

/* Interns a frame (all fields compared); returns its id. */
uint32_t profile_frame(struct profile *p, const struct frame *f);
/* Shorthand: a frame with only a function name and kind. */
uint32_t profile_frame_named(struct profile *p, const char *name, size_t len, enum frame_kind kind);
/* Returns the child of `parent` for `frame`, creating it. */
uint32_t profile_node(struct profile *p, uint32_t parent, uint32_t frame);
/* Sizes the trie and the sample rows for about `nodes` nodes and `rows` rows (a hint: they still grow past it). */
void profile_reserve(struct profile *p, size_t nodes, size_t rows);
/* Returns the child node or UINT32_MAX when absent (no creation). */
uint32_t profile_node_find(const struct profile *p, uint32_t parent, uint32_t frame);

/* Adds a value column and returns its index, or returns the index of an existing one of the same type/unit. */
int profile_add_column(struct profile *p, const char *type, const char *unit);
/* Returns the column index of `type` (any unit), or -1. */
int profile_find_column(const struct profile *p, const char *type);
/* The default column's index (resolves default_column == -1); -1 when there are no columns. */
int profile_default_column(const struct profile *p);

/* Interns a label set (the order of labels does not matter); returns its id (0 for n == 0). */
uint32_t profile_labelset(struct profile *p, const struct label *labels, size_t n);
/* Returns the labels of a set; `*n` receives their number. Pointer valid until the profile changes. */
const struct label *profile_labelset_get(const struct profile *p, uint32_t id, size_t *n);
/* Finds a string label's value in a set, or 0. */
uint32_t profile_label_str(const struct profile *p, uint32_t labelset, const char *key);
/* Finds a numeric label's value in a set; returns false when absent. */
bool profile_label_num(const struct profile *p, uint32_t labelset, const char *key, int64_t *out);

/* Adds `values` (ncolumns of them) to the row of (node, labelset). */
void profile_add_sample(struct profile *p, uint32_t node, uint32_t labelset, const int64_t *values);
/* Convenience for one-column profiles. */
void profile_add_sample1(struct profile *p, uint32_t node, uint32_t labelset, int64_t value);

static inline const int64_t *profile_row_values(const struct profile *p, size_t row)
{
	return p->values + row * p->ncolumns;
}

/*
 * Totals never wrap: values come from untrusted files and can be near 2^63, so every sum kiln prints (profile,
 * analyze, diff, render) is taken with sat_add64(), which stops at INT64_MAX / INT64_MIN instead of overflowing
 * (undefined behaviour). profile_sums_saturate() tells a command that it should say so.
 */
static inline int64_t sat_add64(int64_t a, int64_t b)
{
	int64_t r;

	if (__builtin_add_overflow(a, b, &r))
		return a > 0 ? INT64_MAX : INT64_MIN;
	return r;
}

/* Sum of a column over all rows (saturating). */
int64_t profile_total(const struct profile *p, int column);
/*
 * True when some sum of the column's values saturates: the positive values (or the negative ones) add up past
 * 2^63-1, or a row already saturated while samples were aggregated. Shares computed from such totals are
 * approximate. A column out of range gives false.
 */
bool profile_sums_saturate(const struct profile *p, int column);
void profile_add_comment(struct profile *p, const char *s);
/* Records a reader warning (see `warnings` above); printf-style. */
void profile_add_warning(struct profile *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Adds everything in `src` to `dst`: strings, frames and stacks are re-interned, columns matched by type and
 * unit (columns missing on either side are added, absent values count 0). Returns 0 or -1 with `e` set.
 */
int profile_merge(struct profile *dst, const struct profile *src, struct err *e);

/* Fills `out` (capacity `max`) with the frame ids of `node` from root to leaf; returns the depth. */
size_t profile_stack(const struct profile *p, uint32_t node, uint32_t *out, size_t max);

/* Bytes of memory the profile uses (for tests that memory grows with unique stacks). */
size_t profile_memory(const struct profile *p);

#endif
