/* kiln flamegraph: reads profiles in any format kiln reads and writes an interactive SVG flame graph. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../core/atomicfile.h"
#include "../core/err.h"
#include "../core/options.h"
#include "../core/util.h"
#include "../core/xalloc.h"
#include "../formats/format.h"
#include "../profile/profile.h"
#include "../render/flamegraph.h"
#include "cmds.h"

struct flamegraph_opts {
	const char *output;
	const char *type;
	const char *value;
	const char *title, *subtitle, *notes, *countname, *nametype, *fonttype;
	const char *colors, *bgcolors, *minwidth, *cp_file, *nameattr, *encoding;
	struct opt_list base;
	long long width, height;
	double fontsize, fontwidth, factor, total;
	bool hash, random, cp, inverted, reverse, flamechart, negate, no_sort;
};

static const struct cmd_help flamegraph_help = {
	.name = "flamegraph",
	.usage = "kiln flamegraph [OPTIONS] [FILE...] [-o OUT.svg]",
	.description = "Draws an interactive SVG flame graph of one or more profiles in any format kiln reads "
		       "(folded stacks, perf script output, pprof, speedscope, ...; detected from the content), "
		       "from stdin when no FILE is given. Frames are merged by name, children sorted "
		       "alphabetically; a frame's width is its share of the samples. In a browser: click a frame "
		       "to zoom, Ctrl-F (or Search) to highlight a regular expression and see the share it "
		       "matches, Ctrl-I to toggle case, mouse-over for details. The options are flamegraph.pl's; "
		       "the tooltips read 'NAME (N samples, P%)' as flamegraph.pl writes them. Folded input with "
		       "two counts per line (difffolded.pl) draws a differential flame graph: red grew, blue "
		       "shrank.",
	.examples = "kiln flamegraph out.folded -o cpu.svg\n"
		    "perf script | kiln flamegraph > cpu.svg\n"
		    "kiln flamegraph --title 'malloc() bytes' --countname bytes --colors mem heap.pb.gz -o heap.svg\n"
		    "kiln flamegraph --inverted --colors java --hash app.folded -o icicle.svg\n"
		    "kiln flamegraph --flamechart trace.folded -o chart.svg\n"
		    "kiln flamegraph --cp before.folded -o before.svg && kiln flamegraph --cp after.folded -o after.svg",
};

/* An XML EncName: [A-Za-z] ([A-Za-z0-9._] | '-')* */
static bool valid_encoding(const char *s)
{
	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
		return false;
	for (s++; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '.' || *s == '_' || *s == '-'))
			return false;
	return true;
}

/* --minwidth takes pixels ("0.1") or a percentage of the total ("0.5%"). */
static int parse_minwidth(const char *s, struct fg_svg_opts *so, struct err *e)
{
	char buf[64];
	size_t len = strlen(s);
	double v;

	so->minwidth_percent = len && s[len - 1] == '%';
	if (so->minwidth_percent) {
		if (len >= sizeof(buf))
			return err_set(e, "invalid value '%s' for --minwidth", s);
		memcpy(buf, s, len - 1);
		buf[len - 1] = '\0';
		s = buf;
	}
	if (parse_double(s, 0, so->minwidth_percent ? 100 : 1e9, "--minwidth", &v, e) < 0)
		return -1;
	so->minwidth = v;
	return 0;
}

/* Folded stacks go straight into the graph, the way flamegraph.pl reads them (fractions, empty names). */
static int add_folded(struct flamegraph *g, struct input *in, const char *path, const struct flamegraph_opts *o,
		      const struct fg_build_opts *bo, struct err *e)
{
	struct fg_folded f;
	const char *line, *name = strcmp(path, "-") ? path : "<stdin>";
	size_t len;
	uint64_t first_ignored = 0;
	int r, ret = -1;

	fg_folded_init(&f);
	while ((r = input_getline(in, &line, &len, e)) > 0) {
		uint64_t before = f.ignored;

		if (fg_add_folded_line(g, &f, line, len, bo, o->no_sort && !o->flamechart, e) < 0)
			goto out;
		if (f.ignored > before && !first_ignored)
			first_ignored = in->lineno;
	}
	if (r < 0)
		goto out;
	/* The same verdicts as the folded reader of the other commands (src/formats/folded.c). */
	if (!f.lines) {
		err_set(e, "no stacks found (expected lines of 'frame;frame;... COUNT')");
		goto out;
	}
	if (format_skipped_too_many(f.ignored, f.ignored + f.lines)) {
		err_set(e, "not folded stacks: %llu of %llu lines are not 'frame;frame;... COUNT' (the first is line "
			"%llu)", (unsigned long long)f.ignored, (unsigned long long)(f.ignored + f.lines),
			(unsigned long long)first_ignored);
		goto out;
	}
	if (!f.drawn) {
		err_set(e, "no samples in '%s'", name);
		goto out;
	}
	if (f.total >= 0x1p63) /* as for other inputs: exact counts end at 2^63-1 */
		warning_msg("'%s': totals exceed 2^63-1; the graph's counts and shares are approximate", name);
	if (f.ignored)
		warning_msg("'%s': ignored %llu line%s with invalid format (the first is line %llu)", name,
			    (unsigned long long)f.ignored, f.ignored == 1 ? "" : "s", (unsigned long long)first_ignored);
	ret = 0;
out:
	fg_folded_release(&f);
	return ret;
}

/*
 * Adds one input. `*unit_ns` gathers the time one sample stands for over the inputs: < 0 before the first, 0 when
 * an input does not say or two disagree (then tooltips show samples only, as flamegraph.pl's).
 */
static int add_input(struct flamegraph *g, const char *path, const struct flamegraph_opts *o,
		     char **countname, double *unit_ns, struct err *e)
{
	struct format_read_opts ro = { 0 };
	struct fg_build_opts bo = { -1, -1, o->reverse, o->base.v, o->base.nr };
	const struct format *f;
	struct profile *p = NULL;
	struct input in;
	int ret = -1;

	if (input_open(&in, path, e))
		return -1;
	if (!(f = format_pick(&in, o->type, e)))
		goto out;
	if (!strcmp(f->name, "folded") && !o->value) {
		if (add_folded(g, &in, path, o, &bo, e) < 0)
			goto wrap;
		if (!o->countname && !*countname)
			*countname = xstrdup("samples");
		*unit_ns = 0;
		ret = 0;
		goto out;
	}
	ro.keep_order = o->flamechart;
	p = profile_new(o->flamechart ? PROFILE_KEEP_ORDER : 0);
	if (f->read(p, &in, &ro, e) < 0)
		goto wrap;
	if (o->value) {
		bo.column = profile_find_column(p, o->value);
		if (bo.column < 0) {
			err_set(e, "cannot draw '%s': it has no '%s' values", path, o->value);
			goto out;
		}
	} else {
		bo.column = profile_default_column(p);
	}
	if (bo.column < 0) {
		err_set(e, "cannot draw '%s': it has no sample values", path);
		goto out;
	}
	if (profile_is_empty(p, bo.column)) {
		err_set(e, "no samples in '%s'", strcmp(path, "-") ? path : "<stdin>");
		goto out;
	}
	print_read_warnings(p, path);
	/* The graph sums in floating point, so it does not wrap, but it cannot be exact past 2^63-1. */
	if (profile_sums_saturate(p, bo.column))
		warning_msg("'%s': totals exceed 2^63-1; the graph's counts and shares are approximate", path);
	/* folded "stack before after" lines: width by after, colour by the change */
	bo.base_column = profile_find_column(p, "before");
	if (bo.base_column == bo.column)
		bo.base_column = -1;
	/* copied: the profile, and the strings it owns, are freed below */
	if (!o->countname && !*countname)
		*countname = xstrdup(fg_count_name(p, bo.column));
	{
		double u = fg_ns_per_count(p, bo.column);

		*unit_ns = *unit_ns < 0 || *unit_ns == u ? u : 0;
	}
	if (fg_add_profile(g, p, &bo, e) < 0) {
		err_wrap(e, "cannot draw '%s'", path);
		goto out;
	}
	ret = 0;
	goto out;
wrap:
	err_wrap(e, "cannot read '%s' as %s", strcmp(path, "-") ? path : "<stdin>", f->name);
out:
	input_close(&in);
	profile_free(p);
	return ret;
}

#define FLAMEGRAPH_NOPTS 48

static void flamegraph_options(struct flamegraph_opts *o, struct option *out)
{
	const struct option opts[] = {
		OPT_STRING('o', "output", &o->output, "FILE", "write the SVG to FILE (default: stdout)"),
		OPT_STRING(0, "type", &o->type, "TYPE", "input format: perf, pprof, folded, py-spy, speedscope, ... (default: detected from the content)"),
		OPT_STRING(0, "value", &o->value, "TYPE", "value column to draw, e.g. alloc_space (default: the "
			   "profile's default)"),
		OPT_GROUP("Text"),
		OPT_STRING(0, "title", &o->title, "TEXT", "title (default: Flame Graph, Icicle Graph or Flame Chart)"),
		OPT_STRING(0, "subtitle", &o->subtitle, "TEXT", "second title line"),
		OPT_STRING(0, "countname", &o->countname, "TEXT", "what the counts are (default: samples, or the "
			   "value's unit)"),
		OPT_STRING(0, "nametype", &o->nametype, "TEXT", "label of the detail line (default: Function:)"),
		OPT_STRING(0, "notes", &o->notes, "TEXT", "text embedded as a comment in the SVG"),
		OPT_STRING(0, "fonttype", &o->fonttype, "FONT", "font family (default: Verdana)"),
		OPT_DOUBLE(0, "fontsize", &o->fontsize, "SIZE", "font size (default: 12)", 1, 1000),
		OPT_DOUBLE(0, "fontwidth", &o->fontwidth, "RATIO", "average glyph width relative to the font size, "
			   "to fit labels (default: 0.59)", 0.01, 10),
		OPT_GROUP("Geometry"),
		OPT_INT(0, "width", &o->width, "PX", "image width (default: 1200)", 40, 1000000),
		OPT_INT(0, "height", &o->height, "PX", "height of each frame (default: 16)", 2, 10000),
		OPT_STRING(0, "minwidth", &o->minwidth, "PX|N%", "omit frames narrower than PX pixels or N% of the "
			   "total (default: 0.1)"),
		OPT_BOOL(0, "inverted", &o->inverted, "icicle graph: roots at the top"),
		OPT_BOOL(0, "reverse", &o->reverse, "reverse every stack: leaf functions at the bottom"),
		OPT_BOOL(0, "flamechart", &o->flamechart, "flame chart: keep the input's sample order, merge only "
			 "consecutive frames"),
		OPT_DOUBLE(0, "factor", &o->factor, "F", "scale the counts shown by F (default: 1)", 1e-12, 1e12),
		OPT_DOUBLE(0, "total", &o->total, "N", "the total the full width stands for, when larger than the "
			   "sum", 0, 1e18),
		OPT_GROUP("Colours"),
		OPT_CHOICE(0, "colors", &o->colors, "PALETTE", "palette: hot (default), mem, io, wakeup, chain, java, "
			   "js, perl, red, green, blue, aqua, yellow, purple, orange", palette_names),
		OPT_CHOICE(0, "color", &o->colors, "PALETTE", NULL, palette_names, OPT_HIDDEN),
		OPT_STRING(0, "bgcolors", &o->bgcolors, "COLOR", "background: yellow, blue, green, grey or #rrggbb "
			   "(default: by palette)"),
		OPT_BOOL(0, "hash", &o->hash, "shade by a hash of the name: similar names, similar colours"),
		OPT_BOOL(0, "random", &o->random, "random shades (default: a fixed shade per name)"),
		OPT_BOOL(0, "cp", &o->cp, "consistent palette: reuse and extend the colours in palette.map"),
		OPT_STRING(0, "cp-file", &o->cp_file, "FILE", "the consistent palette file (implies --cp)"),
		OPT_BOOL(0, "negate", &o->negate, "differential graphs: swap red and blue"),
		OPT_STRING(0, "nameattr", &o->nameattr, "FILE", "per-function frame attributes: lines of "
			   "'FUNCTION<TAB>key=value...' (title, class, style, href, target, ...)"),
		OPT_GROUP("Input"),
		OPT_LIST(0, "base", &o->base, "NAME", "start each stack at its first frame called NAME and leave "
			 "out stacks without one; repeatable"),
		OPT_BOOL(0, "no-sort", &o->no_sort, "folded input is already sorted: do not sort, and stop at an "
			 "unsorted line"),
		OPT_STRING(0, "encoding", &o->encoding, "NAME", "declare the SVG's encoding (e.g. ISO-8859-1): names "
			   "are then copied as the input's bytes"),
		OPT_END(),
	};
	_Static_assert(sizeof(opts) <= FLAMEGRAPH_NOPTS * sizeof(opts[0]), "FLAMEGRAPH_NOPTS is too small");
	memcpy(out, opts, sizeof(opts));
}

/* The checks of the options and inputs parse_options() cannot make; a usage error's exit status, or 0. */
static int check_options(const struct flamegraph_opts *o, struct fg_svg_opts *so, int argc, char **argv)
{
	struct err e = ERR_INIT;
	int nstdin = 0;

	if (o->hash && o->random)
		return usage_error(&flamegraph_help, "--hash and --random cannot be combined");
	if (o->type && !format_type_known(o->type)) {
		format_type_unknown(o->type, &e);
		return usage_error(&flamegraph_help, "%s", e.msg);
	}
	if (o->minwidth && parse_minwidth(o->minwidth, so, &e) < 0)
		return usage_error(&flamegraph_help, "%s", e.msg);
	if (o->encoding && !valid_encoding(o->encoding))
		return usage_error(&flamegraph_help, "invalid encoding name '%s' for --encoding", o->encoding);
	if (o->no_sort && o->reverse)
		warning_msg("--no-sort is ignored with --reverse: reversed stacks are always sorted");
	if (o->bgcolors) {
		char top[8], bottom[8];

		if (palette_background(o->bgcolors, PALETTE_HOT, top, bottom, &e) < 0)
			return usage_error(&flamegraph_help, "%s for --bgcolors", e.msg);
	}
	if (argc == 0 && isatty(STDIN_FILENO))
		return usage_error(&flamegraph_help, "no input: give a FILE or pipe a profile into stdin");
	for (int i = 0; i < argc; i++)
		if (!strcmp(argv[i], "-") && ++nstdin > 1)
			return usage_error(&flamegraph_help, "stdin ('-') can be given only once");
	return 0;
}

/* The drawing's options from the command line's. */
static void set_svg_opts(const struct flamegraph_opts *o, struct fg_svg_opts *so)
{
	so->palette = o->colors ? (enum palette)palette_by_name(o->colors) : PALETTE_HOT;
	so->mode = o->hash ? PALETTE_BY_HASH : o->random ? PALETTE_RANDOM : PALETTE_BY_NAME;
	so->seed = o->random ? (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^ now_ns() : 0;
	so->title = o->title;
	so->subtitle = o->subtitle;
	so->notes = o->notes;
	so->nametype = o->nametype ? o->nametype : so->nametype;
	so->fonttype = o->fonttype ? o->fonttype : so->fonttype;
	so->fontsize = o->fontsize;
	so->fontwidth = o->fontwidth;
	so->width = o->width;
	so->frameheight = o->height;
	so->bgcolors = o->bgcolors;
	so->inverted = o->inverted;
	so->negate = o->negate;
	so->factor = o->factor;
	so->total = o->total;
	so->encoding = o->encoding;
}

/* --nameattr and --cp: files read before drawing. Prints the error and returns -1 when one cannot be read. */
static int load_attrs(const struct flamegraph_opts *o, struct fg_svg_opts *so, struct fg_nameattr *nameattr,
		      struct palette_map *cp, const char **cp_path)
{
	struct err e = ERR_INIT;

	if (o->nameattr) {
		if (fg_nameattr_load(nameattr, o->nameattr, &e) < 0) {
			error_msg("%s", e.msg);
			return -1;
		}
		if (nameattr->ignored)
			warning_msg("ignored %zu unknown or invalid attributes in '%s'", nameattr->ignored, o->nameattr);
		so->nameattr = nameattr;
	}
	if (o->cp || o->cp_file) {
		*cp_path = o->cp_file ? o->cp_file : "palette.map";
		if (palette_map_load(cp, *cp_path, &e) < 0) {
			error_msg("%s", e.msg);
			return -1;
		}
		so->cp = cp;
	}
	return 0;
}

/* Writes the SVG to -o FILE or stdout, atomically. Prints the error and returns -1 on failure. */
static int write_svg(const struct flamegraph *g, const struct fg_svg_opts *so, const char *output, int argc,
		     char **argv)
{
	struct afile af = { 0 };
	struct err e = ERR_INIT;

	if (afile_open(&af, output ? output : "-", &e) < 0) {
		error_msg("%s", e.msg);
		return -1;
	}
	if (fg_write_svg(g, af.fp, so, &e) < 0) {
		afile_abort(&af);
		if (argc == 1)
			error_msg("cannot draw '%s': %s", argv[0], e.msg);
		else
			error_msg("cannot draw the flame graph: %s", e.msg);
		return -1;
	}
	if (afile_commit(&af, &e) < 0) {
		error_msg("%s", e.msg);
		return -1;
	}
	return 0;
}

int cmd_flamegraph(int argc, char **argv)
{
	struct flamegraph_opts o = { 0 };
	struct option opts[FLAMEGRAPH_NOPTS];
	struct fg_svg_opts so;
	struct palette_map cp;
	struct fg_nameattr nameattr;
	struct flamegraph *g = NULL;
	struct err e = ERR_INIT;
	const char *cp_path = NULL;
	char *countname = NULL;
	double unit_ns = -1;
	int ret = EXIT_USAGE;

	fg_svg_opts_init(&so);
	palette_map_init(&cp);
	fg_nameattr_init(&nameattr);
	o.width = so.width;
	o.height = so.frameheight;
	o.fontsize = so.fontsize;
	o.fontwidth = so.fontwidth;
	o.factor = so.factor;
	flamegraph_options(&o, opts);

	argc = parse_options(argc, argv, opts, &flamegraph_help, 0);
	if (argc == PARSE_HELP)
		return EXIT_OK;
	if (argc < 0)
		return EXIT_USAGE;
	if (check_options(&o, &so, argc, argv))
		return EXIT_USAGE;
	set_svg_opts(&o, &so);
	if (load_attrs(&o, &so, &nameattr, &cp, &cp_path) < 0)
		goto out;

	g = fg_new(o.flamechart);
	/* No FILE: stdin. */
	for (int i = 0; i < (argc ? argc : 1); i++) {
		if (add_input(g, argc ? argv[i] : "-", &o, &countname, &unit_ns, &e) < 0) {
			error_msg("%s", e.msg);
			goto out;
		}
	}
	fg_finish(g);
	so.countname = o.countname ? o.countname : countname ? countname : "samples";
	/* Tooltips with the time too ("1,234 samples, 12.3 ms, 5.6%") when every input says what a sample is. */
	if (unit_ns > 0 && !strcmp(so.countname, "samples") && so.factor == 1)
		so.unit_ns = unit_ns;
	if (write_svg(g, &so, o.output, argc, argv) < 0)
		goto out;
	if (so.cp && cp.dirty && palette_map_save(&cp, cp_path, &e) < 0) {
		error_msg("%s", e.msg);
		goto out;
	}
	ret = EXIT_OK;
out:
	fg_free(g);
	free(countname);
	palette_map_release(&cp);
	fg_nameattr_release(&nameattr);
	free(o.base.v);
	return ret;
}
