/*
 * Profile analysis for `kiln analyze`: hotspots by self and total cost with a severity, the hot path (the
 * heaviest call path, recursion folded), per-hotspot callers, callees and source lines, and the recommendations
 * of the rule catalogue (rules.h, docs/rules.md). Everything is computed from the stack trie in passes linear in
 * its nodes (none walks from a node up to the root), so the cost after reading is O(trie nodes): not O(samples),
 * and not quadratic in the depth of a stack. Idle CPU
 * samples of system-wide profiles (idle.h) are reported apart and left out of the rest.
 *
 *   struct analysis a;
 *   analysis_run(profile, &opts, &a, &err);
 *   analysis_format(&a, ANALYSIS_TEXT, &buf, use_color);
 *   analysis_release(&a);
 *
 * The analysis points into the profile's string table (name and module ids): keep the profile alive and
 * unchanged until analysis_release().
 */
#ifndef KILN_ANALYSIS_H
#define KILN_ANALYSIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "calltree.h"
#include "hotspots.h"

struct buf;
struct err;
struct profile;
struct jw;

/* Severity cut-offs on a share of the total, in percent (docs/analyze.md). */
#define SEVERITY_CRITICAL_PCT 20.0
#define SEVERITY_HIGH_PCT 10.0

enum severity { SEV_NONE = 0, SEV_MEDIUM, SEV_HIGH, SEV_CRITICAL };

/* "critical", "high", "medium" or "none". */
const char *severity_name(enum severity s);
/* The severity of a share: critical >= 20 %, high >= 10 %, medium >= `threshold`, else none. */
enum severity severity_of(double pct, double threshold);

struct analyze_opts {
	double threshold; /* percent; hotspots have at least this self (or total) share; default 5 */
	size_t top;       /* at most this many hotspots per table; default 20 */
	bool detailed;    /* callers, callees and source lines per hotspot */
	const char *value; /* value column type ("cpu", "samples", "alloc_space"); NULL = the default column */
};

#define ANALYZE_OPTS_INIT { 5.0, 20, false, NULL }

/* A share of something, for callers/callees/lines/evidence lists. */
struct share {
	uint32_t name;   /* string id of a function name (or of a file for lines) */
	uint32_t module; /* string id, 0 when unknown */
	uint32_t line;   /* source line for line lists, else 0 */
	int64_t value;
	double pct; /* of the grand total */
};

struct share_list {
	struct share *v;
	size_t nr, alloc;
};

/*
 * Callers and callees count each sample once per (caller, callee) pair on its stack, as pprof's -peek does: a
 * recursive pair is not counted twice, but a function called from two callers on one stack counts under both,
 * so the shares of a recursive function's callers can add up to more than its total.
 */
struct hotspot_detail {
	size_t fn;                /* index in `a->fns.v` */
	struct share_list callers; /* samples where each caller calls this function */
	struct share_list callees; /* samples where this function calls each callee */
	struct share_list lines;   /* self cost by source line, when the profile has lines */
};

/*
 * A step of the hot path, read from the call tree with recursion folded (calltree.h): a recursive function is
 * one step whose `depth` is above 1, and its totals count each sample once.
 */
struct path_step {
	size_t fn; /* index in `a->fns.v` */
	int64_t total, self;
	double total_pct, self_pct;
	uint32_t depth; /* the most frames of the function on one stack through this step (1: not recursive) */
};

struct evidence {
	double pct;                /* share of the total that the rule measured */
	int64_t value;
	struct share_list functions; /* the matched functions, heaviest first */
	struct share_list callers;   /* where the matched code is entered from, heaviest first */
	struct share_list inside;    /* functions with the most self cost inside the matched code */
	char *detail;              /* an extra sentence of evidence (owned), or NULL */
};

struct recommendation {
	const char *rule;  /* rule id, e.g. "alloc" (static) */
	const char *title; /* static */
	enum severity severity;
	char *message;     /* owned */
	struct evidence evidence;
};

struct analysis {
	struct profile *p;
	int column;
	int count_column;    /* a "count" column that differs from `column` (samples beside cpu time), or -1 */
	int64_t grand_total; /* of the samples analysed: every share is of it (idle samples are left out) */
	int64_t grand_count; /* total of count_column when >= 0 */
	int64_t idle_total;  /* cost of the idle samples (idle.h) of CPU profiles, left out of everything else */
	double idle_pct;     /* idle_total's share of all samples (idle included) */
	bool saturated;      /* a total saturated at 2^63-1 (sat_add64()): shares are approximate */
	double weight;       /* > 1: the weight of one sample of a weighted count column (see sample_weight()) */
	double threshold;
	size_t top;
	bool detailed;

	struct hotspots fns;   /* every function, sorted by self cost */
	int64_t *fn_count;     /* by function: self count in count_column, or NULL */
	size_t *by_total;      /* function indices sorted by total cost */
	size_t nhot;           /* functions in `fns.v[0..nhot)` with self share >= threshold (at most `top`) */
	size_t ninclusive;     /* entries of `by_total` with total share >= threshold (at most `top`) */

	struct path_step *hot_path;
	size_t hot_path_nr;

	struct hotspot_detail *details; /* nhot of them when `detailed` */

	struct recommendation *recs;
	size_t recs_nr, recs_alloc;

	size_t unique_stacks; /* stack nodes that are leaves of samples */
	size_t max_depth;
	bool heap; /* the profile has alloc_space/inuse_space columns */
	bool rules_apply; /* the column measures time or samples, not memory: the rule catalogue runs */
	unsigned kind;    /* what the column measures (RK_* of rules.h): which rules fit */

	/* Working data (per profile node/frame/row), kept for the rule engine. */
	uint32_t *frame_fn;    /* frame id -> function index (fns.frame_fn, owned there) */
	int64_t *node_self;    /* profile node -> self cost (idle samples left out) */
	int64_t *node_total;   /* profile node -> inclusive cost */
	uint32_t *order;       /* profile nodes in depth-first preorder (stackwalk.h) */
	uint32_t *node_up;     /* profile node -> nearest ancestor node of the same function, 0 when none */
	uint32_t *node_rdepth; /* profile node -> frames of its function on the stack from the root to it */
	bool *row_idle;        /* row -> idle, or NULL when no sample is idle */
	uint32_t *row_site;    /* row -> the node its self cost goes to (its wait site: waitsite.h), or NULL when
				* every row's is its own leaf (CPU profiles) */
	struct calltree tree;  /* by function, recursion folded: the hot path's */
};

/* Analyses `p`. Returns 0, or -1 with `e` set (no such value column, no samples). */
int analysis_run(struct profile *p, const struct analyze_opts *o, struct analysis *a, struct err *e);
void analysis_release(struct analysis *a);

/* The display string of a function of the analysis. */
const char *analysis_fn_name(const struct analysis *a, size_t fn);
/* Its module's base name, or "" when unknown. */
const char *analysis_fn_module(const struct analysis *a, size_t fn);

void share_list_add(struct share_list *l, uint32_t name, uint32_t module, uint32_t line, int64_t value,
		    double pct);
/* Sorts heaviest first and keeps at most `max`. */
void share_list_finish(struct share_list *l, size_t max);
void share_list_release(struct share_list *l);

/*
 * The weight of one sample when a "count" column holds weighted samples (perf script's values are the summed
 * sample periods, as stackcollapse-perf.pl counts them): total / N when the profile's metadata knows its N
 * samples, else the greatest common divisor of the values (exact for a fixed period; otherwise a multiple of the true weight, so
 * counts derived from it are a lower bound). With `strict` the divisor counts only when it is unambiguous: at
 * least 8 rows, one of which holds exactly one weight. Returns 0 when the values are plain counts.
 */
double sample_weight(const struct profile *p, int column, bool strict);

/* Formats a value of the analysed column in its unit ("1,234", "12.3 ms", "1.5 MiB") into `out` (>= 32 bytes). */
const char *analysis_fmt_value(const struct analysis *a, int64_t v, char *out);

#endif
