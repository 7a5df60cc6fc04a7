/*
 * Flame graphs: a layout tree built from a profile (frames merged by display name, so a stack shared by many
 * samples is one tower however the input spelled its frames), and an interactive SVG writer compatible with
 * flamegraph.pl's output (same <title> text, so scrapers keep working) with zoom, search and tooltips.
 *
 *   struct flamegraph *g = fg_new(flamechart);
 *   fg_add_profile(g, profile, &build_opts, &e);     (any number of profiles)
 *   fg_finish(g);
 *   fg_write_svg(g, stdout, &svg_opts, &e);
 *   fg_free(g);
 *
 * Other renderers reuse the pieces: a differential graph sets `delta` per node (or passes a colour callback),
 * and fg_tooltip() builds the text a frame shows.
 */
#ifndef KILN_FLAMEGRAPH_H
#define KILN_FLAMEGRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../core/buf.h"
#include "../core/hash.h"
#include "palette.h"

struct buf;
struct err;
struct profile;

#define FG_NONE UINT32_MAX
/*
 * In a flame chart, samples ending at a frame are kept in time order among its children as a hidden child of
 * this name (no input name can hold a NUL byte); it is never drawn, only takes its place on the time axis.
 */
#define FG_SELF_NAME "\0self"

struct fg_node {
	uint32_t name;         /* id in `g->names` */
	uint32_t parent;       /* node id; the root (0, "all") is its own parent */
	uint32_t first_child;  /* FG_NONE when a leaf; children in insertion order */
	uint32_t next_sibling; /* FG_NONE for the last child */
	uint32_t depth;        /* 0 for the root */
	uint32_t hints;        /* PALETTE_HINT_* */
	double self;           /* value of samples ending here (in a flame chart: in FG_SELF_NAME children) */
	double value;          /* self plus all descendants (set by fg_finish) */
	double delta;          /* differential: change of the samples ending here (flamegraph.pl's semantics) */
};

struct flamegraph {
	struct fg_node *nodes;
	size_t nodes_nr, nodes_alloc;
	struct strtab names;    /* display names; "all" is the root's */
	struct u64map children; /* (parent << 32 | name) -> child, when merging */
	uint32_t *last_child;   /* by node, while building (freed by fg_finish) */
	size_t last_child_alloc;
	bool has_delta;         /* some input had a base column: colour by `delta` */
	bool flamechart;        /* input order, merging only consecutive equal frames */
	uint32_t self_name;     /* name id of FG_SELF_NAME */
	bool finished;
};

struct fg_build_opts {
	int column;      /* value column; -1 = the profile's default */
	int base_column; /* >= 0: a differential graph, delta = column - base_column; -1 = none */
	bool reverse;    /* leaf frames at the bottom (stack-reversed flame graph) */
	/*
	 * --base NAME (inferno's): a stack starts at its first frame named as one of `base` (the frames below it
	 * are dropped); stacks without such a frame are left out. NULL or nbase 0: every stack, whole.
	 */
	const char *const *base;
	size_t nbase;
};

/* A graph with only its root; `flamechart` keeps input order (merging only consecutive equal frames). */
struct flamegraph *fg_new(bool flamechart);
void fg_free(struct flamegraph *g); /* NULL is a no-op */

/* Adds all samples of `p`. Returns 0, or -1 with `e` set (bad column). */
int fg_add_profile(struct flamegraph *g, const struct profile *p, const struct fg_build_opts *o, struct err *e);
/*
 * Adds one stack, root first, as display names: `value` to its leaf's self value and `delta` to its leaf's
 * delta. For renderers with their own data. Merges like fg_add_profile (by name, or with the previous stack
 * for a flame chart: `g->flamechart`).
 */
void fg_add_stack(struct flamegraph *g, const char *const *names, const size_t *lens, size_t n, double value,
		  double delta);
/*
 * Folded stacks read as flamegraph.pl reads them, straight into a graph. The profile model keeps integer
 * counts and drops empty frame names, so `kiln flamegraph` draws folded input through here instead:
 *   - a count may be fractional ("12.5"); counts are summed as flamegraph.pl sums them, never rounded;
 *   - "STACK N" splits at the last blank before the count; a second count before it ("STACK BEFORE AFTER",
 *     difffolded.pl) makes the line differential: the width is AFTER, the colour AFTER - BEFORE;
 *   - frames split at ';' as perl's split does: an empty name ("a;;b") is a frame, trailing ';'s are not;
 *   - --reverse reverses each stack, --base cuts it (struct fg_build_opts);
 *   - --no-sort (inferno's) promises sorted input (bytewise, as `LC_ALL=C sort` sorts): a line sorting
 *     before the previous one is an error.
 */
struct fg_folded {
	struct buf prev;     /* the previous stack, for the sort check */
	const char **names; /* scratch: the frames of the current line */
	size_t *lens, names_alloc;
	uint64_t lines;    /* lines with a count (added or cut away by --base) */
	uint64_t ignored;  /* lines without a count, as flamegraph.pl's "Ignored N lines with invalid format" */
	bool fractional;   /* some count had a fractional part */
	uint64_t drawn;    /* lines with a value (or a change) drawn */
	double total;      /* sum of the drawn lines' values */
};

void fg_folded_init(struct fg_folded *f);
void fg_folded_release(struct fg_folded *f);
/*
 * Adds one line (without its newline). Returns 1 when the line was used, 0 when it was ignored (blank, or no
 * count), -1 with `e` set when `check_sorted` and the line sorts before the previous one.
 */
int fg_add_folded_line(struct flamegraph *g, struct fg_folded *f, const char *line, size_t len,
		       const struct fg_build_opts *o, bool check_sorted, struct err *e);

/* Computes subtree values and wakers (frames above a "--"). Call once after adding, before layout. */
void fg_finish(struct flamegraph *g);

static inline const char *fg_name(const struct flamegraph *g, uint32_t node, size_t *len)
{
	uint32_t id = g->nodes[node].name;

	*len = strtab_len(&g->names, id);
	return strtab_str(&g->names, id);
}

/* Finds the child of `parent` named `name`, or FG_NONE (merged graphs only). */
uint32_t fg_find_child(const struct flamegraph *g, uint32_t parent, const char *name, size_t len);

/*
 * A drawn frame, in drawing order (parents before children): `x` is its left edge in value units from the
 * root's. As flamegraph.pl places them: a frame's own samples first, then
 * its children in byte order of their names (input order for a flame chart); pruned frames keep their place.
 */
struct fg_rect {
	uint32_t node;
	double x;
	double w; /* width in value units: end minus start of the running sum (the node's value, up to rounding) */
};

/*
 * Lays out the frames at least `min_value` wide (a pruned frame takes its subtree with it) and the root;
 * returns how many (`*out` is heap, caller frees) and the deepest depth drawn in `*max_depth`.
 */
size_t fg_layout(const struct flamegraph *g, double min_value, struct fg_rect **out, uint32_t *max_depth);

/*
 * The text of a frame's tooltip, as flamegraph.pl writes it: "NAME (1,234 samples, 5.67%)" and, for
 * differentials, "NAME (1,234 samples, 5.67%; +1.20%)". Appended unescaped to `b`. `value` and `total` are
 * unscaled; `factor` scales both.
 */
void fg_tooltip(struct buf *b, const char *name, size_t len, double value, double total, double factor,
		const char *countname, bool has_delta, double delta);

/* `len` without a trailing "_[k]", "_[j]", "_[i]" or "_[w]" annotation: names are coloured by it, not shown. */
size_t fg_strip_annotation(const char *name, size_t len);

/* The root's tooltip: "all (1,234 samples, 100%)". */
void fg_tooltip_root(struct buf *b, double total, double factor, const char *countname);

struct fg_svg_opts {
	const char *title;     /* NULL: "Flame Graph", "Icicle Graph" or "Flame Chart" */
	const char *subtitle;  /* NULL or "": none */
	const char *notes;     /* embedded as an XML comment */
	const char *countname; /* "samples" */
	const char *nametype;  /* "Function:" */
	const char *fonttype;  /* "Verdana" */
	long long width;       /* 1200 */
	long long frameheight; /* 16 */
	double fontsize;       /* 12 */
	double fontwidth;      /* 0.59 */
	double minwidth;       /* 0.1 (pixels, or percent of the total when minwidth_percent) */
	bool minwidth_percent;
	enum palette palette;
	enum palette_mode mode;
	const char *bgcolors;   /* NULL: the palette's default */
	struct palette_map *cp; /* consistent palette: colours are taken from and added to it; NULL: off */
	bool inverted;          /* icicle: root at the top */
	bool negate;            /* swap differential hues */
	double factor;          /* scales displayed counts (1) */
	double total;           /* > the sum: the width the root stands for; 0: the sum */
	double unit_ns;         /* > 0: nanoseconds one count stands for; tooltips then show the time too */
	uint64_t seed;          /* PALETTE_RANDOM */
	/*
	 * --encoding: declared in the XML header; names are then copied as the input's bytes (flamegraph.pl's
	 * way), not checked as UTF-8. NULL: UTF-8, no declaration.
	 */
	const char *encoding;
	const struct fg_nameattr *nameattr; /* --nameattr: per-function attributes and titles; NULL: none */
	/*
	 * Overrides a frame's fill: write a colour ("rgb(...)" or "#rrggbb") into `out` and return true, or
	 * return false for the palette's colour. NULL: palette only.
	 */
	bool (*frame_color)(const struct flamegraph *g, uint32_t node, char out[24], void *ctx);
	void *frame_color_ctx;
	/*
	 * Replaces a frame's tooltip (not the root's): append the text, unescaped, to `tip` and return true, or
	 * return false for fg_tooltip()'s text. NULL: the default text. (Used by kiln diff for subtree deltas.)
	 * Keep fg_tooltip()'s "NAME (N COUNTNAME, " start: the embedded script finds frame names by it.
	 */
	bool (*frame_tooltip)(const struct flamegraph *g, uint32_t node, struct buf *tip, void *ctx);
	void *frame_tooltip_ctx;
};

/*
 * --nameattr FILE (flamegraph.pl's): lines "FUNCTION<TAB>key=value<TAB>key=value...". `title` replaces the
 * frame's tooltip; `id`, `class`, `style`, `onmouseover`, `onmouseout`, `onclick` are set on the frame's group;
 * `href` (with `target`, default "_top") makes the group a link; `g_extra` / `a_extra` hold more attributes
 * ('name="value" ...') for the group or the link. Keys are matched against the frame name as the input spells
 * it (annotations included). Values are escaped on output, so a file cannot break the SVG.
 */
struct fg_attr {
	char *key, *value;
};
struct fg_attrs {
	struct fg_attr *v;
	size_t nr, alloc;
};
struct fg_nameattr {
	struct strtab names;   /* function names */
	struct fg_attrs *attrs; /* by name id */
	size_t attrs_alloc;
	size_t ignored;        /* unknown keys and malformed extra attributes, skipped */
};

void fg_nameattr_init(struct fg_nameattr *m);
void fg_nameattr_release(struct fg_nameattr *m);
/* Parses file text (`name` is for messages). Returns 0, or -1 with `e` set (a line without a tab). */
int fg_nameattr_parse(struct fg_nameattr *m, const char *data, size_t len, const char *name, struct err *e);
/* Reads and parses `path`. Returns 0, or -1 with `e` set. */
int fg_nameattr_load(struct fg_nameattr *m, const char *path, struct err *e);
/* The attributes of `name`, or NULL. */
const struct fg_attrs *fg_nameattr_get(const struct fg_nameattr *m, const char *name, size_t len);

void fg_svg_opts_init(struct fg_svg_opts *o);
/* Writes the SVG. Returns 0, or -1 with `e` set (nothing to draw, bad option, write error). */
int fg_write_svg(const struct flamegraph *g, FILE *out, const struct fg_svg_opts *o, struct err *e);

/* What the counts of `column` are called in tooltips: "samples" for counts, else the unit ("bytes"). */
const char *fg_count_name(const struct profile *p, int column);
/* The nanoseconds one sample of `column` stands for (the sampling period, or a nanoseconds column's total over
 * the samples), 0 when the profile does not say: what fg_svg_opts.unit_ns wants. */
double fg_ns_per_count(const struct profile *p, int column);

/*
 * The whole job for other commands (kiln profile --flamegraph): draws `p` into `path` ("-" = stdout),
 * atomically. `so->countname` NULL picks "samples" or the column's unit. When the profile knows them, the
 * tooltips show the time a count stands for ("1,234 samples, 12.3 ms, 5.60%": `unit_ns` from the sampling
 * period or the profile's nanoseconds column) and a NULL `so->subtitle` becomes the profile's mode, duration and
 * sample count ("cpu profile, 2.01 s, 1,234 samples"). Returns 0, or -1 with `e` set.
 */
int fg_render_profile(const struct profile *p, const struct fg_build_opts *bo, bool flamechart,
		      const struct fg_svg_opts *so, const char *path, struct err *e);

#endif
