/* The flame graph SVG writer: geometry and text as flamegraph.pl draws them, plus the embedded script. */
#include "flamegraph.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../core/atomicfile.h"
#include "../core/buf.h"
#include "../core/err.h"
#include "../core/util.h"
#include "../profile/profile.h"
#include "flamegraph_script.h"

#define XPAD 10.0    /* left and right */
#define FRAMEPAD 1.0 /* vertical gap between frames */
#define FLUSH_AT (1u << 20)

void fg_svg_opts_init(struct fg_svg_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->countname = "samples";
	o->nametype = "Function:";
	o->fonttype = "Verdana";
	o->width = 1200;
	o->frameheight = 16;
	o->fontsize = 12;
	o->fontwidth = 0.59;
	o->minwidth = 0.1;
	o->palette = PALETTE_HOT;
	o->mode = PALETTE_BY_NAME;
	o->factor = 1;
}

struct writer {
	struct buf b;
	FILE *out;
	int failed;
};

static void flush(struct writer *w, bool force)
{
	if (!force && w->b.len < FLUSH_AT)
		return;
	if (w->b.len && fwrite(w->b.buf, 1, w->b.len, w->out) != w->b.len)
		w->failed = 1;
	buf_reset(&w->b);
}

static void add_xml(struct buf *b, const char *s)
{
	buf_add_xml(b, s, strlen(s));
}

/*
 * Text content: escaped as buf_add_xml does, but with quotes left literal, as flamegraph.pl writes its titles
 * (tools that scrape the raw <title> text see the same bytes; quotes need no escaping outside attributes).
 * `raw` (a declared --encoding other than UTF-8): bytes above 0x7f are the input's, copied as flamegraph.pl
 * copies them; only markup and control characters are replaced.
 */
static void add_text(struct buf *b, const char *s, size_t len, bool raw)
{
	size_t start = b->len, i, j;

	if (raw) {
		for (i = 0; i < len; i++) {
			unsigned char c = (unsigned char)s[i];

			if (c == '&')
				buf_adds(b, "&amp;");
			else if (c == '<')
				buf_adds(b, "&lt;");
			else if (c == '>')
				buf_adds(b, "&gt;");
			else if (c == '\t')
				buf_addch(b, ' ');
			else if (c < 0x20 || c == 0x7f)
				buf_adds(b, "&#xfffd;");
			else
				buf_addch(b, c);
		}
		return;
	}
	buf_add_xml(b, s, len);
	if (!memchr(s, '"', len) && !memchr(s, '\'', len))
		return;
	for (i = j = start; i < b->len; j++) {
		if (b->len - i >= 6 && !memcmp(b->buf + i, "&quot;", 6)) {
			b->buf[j] = '"';
			i += 6;
		} else if (b->len - i >= 5 && !memcmp(b->buf + i, "&#39;", 5)) {
			b->buf[j] = '\'';
			i += 5;
		} else {
			b->buf[j] = b->buf[i++];
		}
	}
	buf_setlen(b, j);
}

/* An attribute value: escaped for double quotes (raw bytes kept under a declared --encoding). */
static void add_attr(struct buf *b, const char *s, bool raw)
{
	if (!raw) {
		buf_add_xml(b, s, strlen(s));
		return;
	}
	for (; *s; s++) {
		if (*s == '"')
			buf_adds(b, "&quot;");
		else
			add_text(b, s, 1, true);
	}
}

static const char *attr_value(const struct fg_attrs *a, const char *key)
{
	size_t i;

	for (i = 0; i < a->nr; i++)
		if (!strcmp(a->v[i].key, key))
			return a->v[i].value;
	return NULL;
}

/* The extra attributes of a g_extra / a_extra value were split into "=NAME" keys when the file was read. */
static void add_attrs(struct buf *b, const struct fg_attrs *a, const char *const *keys, bool extra_of_a, bool raw)
{
	size_t i, k;

	for (k = 0; keys[k]; k++) {
		const char *v = attr_value(a, keys[k]);

		if (v) {
			buf_addf(b, " %s=\"", keys[k]);
			add_attr(b, v, raw);
			buf_addch(b, '"');
		}
	}
	for (i = 0; i < a->nr; i++) {
		const char *key = a->v[i].key;

		if (key[0] != (extra_of_a ? '@' : '='))
			continue;
		buf_addf(b, " %s=\"", key + 1);
		add_attr(b, a->v[i].value, raw);
		buf_addch(b, '"');
	}
}

/* A frame's group: <g>, or with --nameattr attributes <g ...>, or <a ...> for a link (as inferno writes it). */
static void group_start(struct buf *b, const struct fg_attrs *a, bool raw)
{
	static const char *const g_keys[] = { "id", "class", "style", "onmouseover", "onmouseout", "onclick", NULL };
	static const char *const a_keys[] = { "xlink:href", NULL };

	if (!a) {
		buf_adds(b, "<g>\n");
		return;
	}
	if (attr_value(a, "href")) {
		const char *target = attr_value(a, "target");

		buf_adds(b, "<a xlink:href=\"");
		add_attr(b, attr_value(a, "href"), raw);
		buf_adds(b, "\" target=\"");
		add_attr(b, target && *target ? target : "_top", raw);
		buf_addch(b, '"');
		add_attrs(b, a, a_keys + 1, true, raw);
		add_attrs(b, a, g_keys, false, raw);
		buf_adds(b, ">\n");
		return;
	}
	buf_adds(b, "<g");
	add_attrs(b, a, g_keys, false, raw);
	buf_adds(b, ">\n");
}

/* `v` as "%.1f" prints it: flamegraph.pl derives a frame's width from its rounded edges. */
static double tenth(double v)
{
	char num[64];

	snprintf(num, sizeof(num), "%.1f", v);
	return strtod(num, NULL);
}

/* A number as SVG and JavaScript read it: C locale, no exponent for ordinary sizes. */
static void add_num(struct buf *b, double v)
{
	buf_addf(b, "%.10g", v);
}

/*
 * Notes go into an XML comment, where "--" may not appear: escape as text, then break up dashes.
 */
static void add_comment_text(struct buf *b, const char *s)
{
	struct buf t = BUF_INIT;
	size_t i;

	add_xml(&t, s);
	for (i = 0; i < t.len; i++) {
		buf_addch(b, t.buf[i]);
		if (t.buf[i] == '-' && (i + 1 == t.len || t.buf[i + 1] == '-'))
			buf_addch(b, ' ');
	}
	buf_release(&t);
}

/*
 * The label drawn in a frame: as many characters as fit at the average glyph width, ".." when cut. Characters
 * are UTF-8 code points, or bytes under a declared --encoding (`raw`).
 */
static void add_label(struct buf *b, const char *name, size_t len, double width, double fontsize, double fontwidth,
		      bool raw)
{
	double fit = width / (fontsize * fontwidth);
	size_t chars, n = 0, i, cut = len, keep = len;

	if (!(fit >= 3))
		return;
	chars = fit > 1e9 ? (size_t)1e9 : (size_t)fit;
	/* count characters; find where chars - 2 and chars characters end */
	for (i = 0; i < len; i++) {
		if (!raw && ((unsigned char)name[i] & 0xc0) == 0x80)
			continue;
		if (n == chars - 2)
			cut = i;
		if (n == chars) {
			keep = i;
			break;
		}
		n++;
	}
	if (keep < len) {
		add_text(b, name, cut, raw);
		buf_adds(b, "..");
	} else {
		add_text(b, name, len, raw);
	}
}

static const char *frame_fill(const struct flamegraph *g, uint32_t node, const struct fg_svg_opts *o,
			      double maxdelta, uint64_t *rng, char out[24])
{
	const struct fg_node *n = &g->nodes[node];
	const char *name, *have;
	size_t len;

	if (o->frame_color && o->frame_color(g, node, out, o->frame_color_ctx))
		return out;
	name = fg_name(g, node, &len);
	if (node == 0) {
		name = ""; /* flamegraph.pl colours its root as the empty name */
		len = 0;
	}
	if (len == 2 && !memcmp(name, "--", 2))
		return "rgb(160,160,160)";
	if (len == 1 && name[0] == '-')
		return "rgb(200,200,200)";
	if (g->has_delta)
		return palette_rgb_str(out, palette_diff_color(n->delta, maxdelta, o->negate));
	if (o->cp) {
		have = palette_map_get(o->cp, name, len);
		if (have) {
			snprintf(out, 24, "%s", have);
			return out;
		}
		palette_rgb_str(out, palette_color(o->palette, o->mode, name, len, n->hints, rng));
		palette_map_set(o->cp, name, len, out);
		return out;
	}
	return palette_rgb_str(out, palette_color(o->palette, o->mode, name, len, n->hints, rng));
}

static const char *const style =
	"<style type=\"text/css\">\n"
	"\ttext { fill:rgb(0,0,0); }\n"
	"\t#title { text-anchor:middle; }\n"
	"\t#subtitle { text-anchor:middle; fill:rgb(160,160,160); }\n"
	"\t#search, #ignorecase { opacity:0.1; cursor:pointer; }\n"
	"\t#search:hover, #search.show, #ignorecase:hover, #ignorecase.show { opacity:1; }\n"
	"\t#unzoom { cursor:pointer; }\n"
	"\t#frames > *:hover { stroke:black; stroke-width:0.5; cursor:pointer; }\n"
	"\t.hide { display:none; }\n"
	"\t.parent { opacity:0.5; }\n"
	"</style>\n";

static int check_opts(const struct fg_svg_opts *o, struct err *e)
{
	if (o->width < 2 * XPAD + 1 || o->width > 10000000)
		return err_set(e, "invalid width %lld", o->width);
	if (o->frameheight < 2 || o->frameheight > 100000)
		return err_set(e, "invalid frame height %lld", o->frameheight);
	if (!isfinite(o->fontsize) || o->fontsize <= 0 || o->fontsize > 10000)
		return err_set(e, "invalid font size %g", o->fontsize);
	if (!isfinite(o->fontwidth) || o->fontwidth <= 0 || o->fontwidth > 100)
		return err_set(e, "invalid font width %g", o->fontwidth);
	if (!isfinite(o->minwidth) || o->minwidth < 0)
		return err_set(e, "invalid minimum width %g", o->minwidth);
	if (!isfinite(o->factor) || o->factor <= 0)
		return err_set(e, "invalid factor %g", o->factor);
	if (!isfinite(o->total) || o->total < 0)
		return err_set(e, "invalid total %g", o->total);
	return 0;
}

/* fg_tooltip() with the time the counts stand for: "NAME (1,234 samples, 12.3 ms, 5.60%)". */
static void tooltip_time(struct buf *b, const char *name, size_t len, double value, double total,
			 const struct fg_svg_opts *o, bool root)
{
	char cnt[32], t[32];
	double v = value * o->factor;

	buf_add(b, name, len);
	buf_addf(b, " (%s %s, %s, ", fmt_count(cnt, v < 1.8e19 ? (uint64_t)(v + 0.5) : UINT64_MAX), o->countname,
		 fmt_ns(t, value * o->unit_ns));
	if (root)
		buf_adds(b, "100%)");
	else
		buf_addf(b, "%.2f%%)", total > 0 ? 100 * value / total : 0.0);
}

int fg_write_svg(const struct flamegraph *g, FILE *out, const struct fg_svg_opts *o, struct err *e)
{
	struct writer w = { BUF_INIT, out, 0 };
	struct buf tip = BUF_INIT;
	struct fg_rect *rects = NULL;
	char top[8], bottom[8], fill[24];
	const char *title = o->title;
	bool subtitle = o->subtitle && *o->subtitle;
	double total, width = (double)o->width, fh = (double)o->frameheight, fs = o->fontsize;
	double ypad1 = fs * 3, ypad2 = fs * 2 + 10, ypad3 = subtitle ? fs * 2 : 0;
	double wpt, min_value, height, maxdelta = 1;
	uint64_t rng = o->seed;
	uint32_t maxdepth;
	size_t nr, i;
	int ret = -1;
	bool raw = o->encoding && strcasecmp(o->encoding, "UTF-8") && strcasecmp(o->encoding, "UTF8");

	if (!g->finished)
		BUG("fg_write_svg before fg_finish");
	if (check_opts(o, e) < 0 || palette_background(o->bgcolors, o->palette, top, bottom, e) < 0)
		return -1;
	total = g->nodes[0].value;
	if (!(total > 0))
		return err_set(e, "no stack counts found");
	/* --total only widens: a smaller one is ignored, as flamegraph.pl does */
	if (o->total > total)
		total = o->total;
	wpt = (width - 2 * XPAD) / total;
	min_value = o->minwidth_percent ? total * o->minwidth / 100 : o->minwidth / wpt;
	nr = fg_layout(g, min_value, &rects, &maxdepth);
	if (g->has_delta)
		for (i = 0; i < g->nodes_nr; i++)
			if (fabs(g->nodes[i].delta) > maxdelta)
				maxdelta = fabs(g->nodes[i].delta);

	if (!title || !*title)
		title = g->flamechart ? "Flame Chart" : o->inverted ? "Icicle Graph" : "Flame Graph";
	height = (maxdepth + 1) * fh + ypad1 + ypad2 + ypad3;

	buf_adds(&w.b, "<?xml version=\"1.0\"");
	if (o->encoding) {
		buf_adds(&w.b, " encoding=\"");
		add_xml(&w.b, o->encoding);
		buf_adds(&w.b, "\"");
	}
	buf_adds(&w.b, " standalone=\"no\"?>\n"
		 "<!DOCTYPE svg PUBLIC \"-//W3C//DTD SVG 1.1//EN\" "
		 "\"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd\">\n");
	buf_addf(&w.b, "<svg version=\"1.1\" width=\"%lld\" height=\"", o->width);
	add_num(&w.b, height);
	buf_addf(&w.b, "\" onload=\"init(evt)\" viewBox=\"0 0 %lld ", o->width);
	add_num(&w.b, height);
	buf_adds(&w.b, "\" xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\" "
		 "font-family=\"");
	add_xml(&w.b, o->fonttype);
	buf_adds(&w.b, "\" font-size=\"");
	add_num(&w.b, fs);
	buf_adds(&w.b, "\">\n<!-- Flame graph stack visualization, drawn by kiln flamegraph in the format of "
		 "https://github.com/brendangregg/FlameGraph. -->\n<!-- NOTES: ");
	add_comment_text(&w.b, o->notes ? o->notes : "");
	buf_adds(&w.b, " -->\n<defs>\n\t<linearGradient id=\"background\" y1=\"0\" y2=\"1\" x1=\"0\" x2=\"0\">\n");
	buf_addf(&w.b, "\t\t<stop stop-color=\"%s\" offset=\"5%%\"/>\n\t\t<stop stop-color=\"%s\" offset=\"95%%\"/>\n",
		 top, bottom);
	buf_adds(&w.b, "\t</linearGradient>\n</defs>\n");
	buf_adds(&w.b, style);
	buf_adds(&w.b, "<script type=\"text/ecmascript\"><![CDATA[\nvar conf = { xpad: ");
	add_num(&w.b, XPAD);
	buf_adds(&w.b, ", width: ");
	add_num(&w.b, width);
	buf_adds(&w.b, ", fontsize: ");
	add_num(&w.b, fs);
	buf_adds(&w.b, ", fontwidth: ");
	add_num(&w.b, o->fontwidth);
	buf_addf(&w.b, ", inverted: %d, searchcolor: \"rgb(230,0,230)\" };\n", o->inverted ? 1 : 0);
	buf_adds(&w.b, fg_script);
	buf_adds(&w.b, "]]></script>\n");

	buf_addf(&w.b, "<rect x=\"0\" y=\"0\" width=\"%lld\" height=\"", o->width);
	add_num(&w.b, height);
	buf_adds(&w.b, "\" fill=\"url(#background)\"/>\n");
	buf_addf(&w.b, "<text id=\"title\" x=\"%lld\" y=\"", o->width / 2);
	add_num(&w.b, fs * 2);
	buf_adds(&w.b, "\" font-size=\"");
	add_num(&w.b, fs + 5);
	buf_adds(&w.b, "\">");
	add_text(&w.b, title, strlen(title), raw);
	buf_adds(&w.b, "</text>\n");
	if (subtitle) {
		buf_addf(&w.b, "<text id=\"subtitle\" x=\"%lld\" y=\"", o->width / 2);
		add_num(&w.b, fs * 4);
		buf_adds(&w.b, "\">");
		add_text(&w.b, o->subtitle, strlen(o->subtitle), raw);
		buf_adds(&w.b, "</text>\n");
	}
	buf_adds(&w.b, "<text id=\"details\" x=\"10\" y=\"");
	add_num(&w.b, height - ypad2 / 2);
	buf_adds(&w.b, "\"> </text>\n<text id=\"unzoom\" class=\"hide\" x=\"10\" y=\"");
	add_num(&w.b, fs * 2);
	buf_adds(&w.b, "\">Reset Zoom</text>\n<text id=\"search\" x=\"");
	add_num(&w.b, width - XPAD - 100);
	buf_adds(&w.b, "\" y=\"");
	add_num(&w.b, fs * 2);
	buf_adds(&w.b, "\">Search</text>\n<text id=\"ignorecase\" x=\"");
	add_num(&w.b, width - XPAD - 16);
	buf_adds(&w.b, "\" y=\"");
	add_num(&w.b, fs * 2);
	buf_adds(&w.b, "\">ic</text>\n<text id=\"matched\" class=\"hide\" x=\"");
	add_num(&w.b, width - XPAD - 100);
	buf_adds(&w.b, "\" y=\"");
	add_num(&w.b, height - ypad2 / 2);
	buf_adds(&w.b, "\"> </text>\n<g id=\"frames\" data-nametype=\"");
	add_xml(&w.b, o->nametype);
	buf_adds(&w.b, "\" data-countname=\"");
	add_xml(&w.b, o->countname);
	buf_adds(&w.b, "\">\n");

	for (i = 0; i < nr; i++) {
		const struct fg_node *n = &g->nodes[rects[i].node];
		double x1 = XPAD + rects[i].x * wpt;
		double x2 = XPAD + (rects[i].x + (rects[i].node ? rects[i].w : total)) * wpt;
		double rx1 = tenth(x1), rx2 = tenth(x2);
		double y1, y2;
		const struct fg_attrs *attrs;
		const char *name, *fill_str;
		struct rgb bg;
		size_t len, shown;

		if (!o->inverted) {
			y1 = height - ypad2 - (n->depth + 1) * fh + FRAMEPAD;
			y2 = height - ypad2 - n->depth * fh;
		} else {
			y1 = ypad1 + ypad3 + n->depth * fh;
			y2 = ypad1 + ypad3 + (n->depth + 1) * fh - FRAMEPAD;
		}
		name = fg_name(g, rects[i].node, &len);
		attrs = rects[i].node && o->nameattr ? fg_nameattr_get(o->nameattr, name, len) : NULL;
		/* coloured by the whole name, shown without its _[k]/_[j]/_[i]/_[w] annotation */
		shown = fg_strip_annotation(name, len);
		buf_reset(&tip);
		if (rects[i].node == 0 && o->unit_ns > 0)
			tooltip_time(&tip, "all", 3, total, total, o, true);
		else if (rects[i].node == 0)
			fg_tooltip_root(&tip, total, o->factor, o->countname);
		else if (attrs && attr_value(attrs, "title"))
			buf_adds(&tip, attr_value(attrs, "title"));
		else if (o->frame_tooltip && o->frame_tooltip(g, rects[i].node, &tip, o->frame_tooltip_ctx))
			;
		else if (o->unit_ns > 0 && !g->has_delta)
			tooltip_time(&tip, name, shown, rects[i].w, total, o, false);
		else
			fg_tooltip(&tip, name, shown, rects[i].w, total, o->factor, o->countname, g->has_delta,
				   o->negate ? -n->delta : n->delta);
		group_start(&w.b, attrs, raw);
		buf_adds(&w.b, "<title>");
		add_text(&w.b, tip.buf, tip.len, raw);
		/* as flamegraph.pl prints them: x and sizes to a tenth, y as the plain number */
		buf_addf(&w.b, "</title><rect x=\"%.1f\" y=\"", rx1);
		add_num(&w.b, y1);
		buf_addf(&w.b, "\" width=\"%.1f\" height=\"%.1f\" fill=\"", rx2 - rx1, y2 - y1);
		fill_str = frame_fill(g, rects[i].node, o, maxdelta, &rng, fill);
		add_xml(&w.b, fill_str);
		buf_addf(&w.b, "\" rx=\"2\" ry=\"2\"/>\n<text x=\"%.2f\" y=\"", x1 + 3);
		add_num(&w.b, 3 + (y1 + y2) / 2);
		/*
		 * Differential graphs: black labels (the style's) on light frames, white where black would be hard to
		 * read (< 4.5:1, the deep blue and red of large changes). Other graphs keep flamegraph.pl's bytes.
		 */
		if (g->has_delta && palette_parse_rgb(fill_str, &bg) && palette_text_color(bg).r == 255)
			buf_adds(&w.b, "\" fill=\"rgb(255,255,255)");
		buf_adds(&w.b, "\">");
		add_label(&w.b, name, shown, x2 - x1, fs, o->fontwidth, raw);
		buf_adds(&w.b, attrs && attr_value(attrs, "href") ? "</text>\n</a>\n" : "</text>\n</g>\n");
		flush(&w, false);
	}
	buf_adds(&w.b, "</g>\n</svg>\n");
	flush(&w, true);
	if (w.failed || ferror(out)) {
		err_errno(e, "cannot write the flame graph");
		goto out;
	}
	ret = 0;
out:
	free(rects);
	buf_release(&tip);
	buf_release(&w.b);
	return ret;
}

const char *fg_count_name(const struct profile *p, int column)
{
	const char *unit;

	if (column < 0 || (size_t)column >= p->ncolumns)
		return "samples";
	unit = profile_str(p, p->columns[column].unit);
	if (!*unit || !strcmp(unit, "count") || !strcmp(unit, "samples"))
		return "samples";
	return unit;
}

/* The time one count of `col` stands for: the sampling period, or the nanoseconds column's share; else 0. */
double fg_ns_per_count(const struct profile *p, int col)
{
	int64_t n;

	if (col < 0 || strcmp(fg_count_name(p, col), "samples"))
		return 0;
	if (p->period > 0 && !strcmp(profile_str(p, p->period_type.unit), "nanoseconds"))
		return (double)p->period;
	n = profile_total(p, col);
	for (size_t i = 0; i < p->ncolumns && n > 0; i++)
		if (!strcmp(profile_str(p, p->columns[i].unit), "nanoseconds"))
			return (double)profile_total(p, (int)i) / (double)n;
	return 0;
}

/* What the profile says about its recording: "cpu profile, 2.01 s, 1,234 samples" (the parts it knows). */
static void describe(struct buf *b, const struct profile *p, int col)
{
	const char *type = profile_str(p, p->period_type.type ? p->period_type.type : p->columns[col].type);
	int samples = profile_find_column(p, "samples");
	char t[32];

	if (!strcmp(type, "off_cpu"))
		type = "off-CPU";
	else if (!strncmp(type, "alloc_", 6) || !strncmp(type, "inuse_", 6))
		type = "heap";
	else if (!strcmp(type, "latency") || !strcmp(type, "syscalls"))
		type = "I/O";
	if (*type)
		buf_addf(b, "%s profile", type);
	if (p->duration_nanos > 0)
		buf_addf(b, "%s%s", b->len ? ", " : "", fmt_ns(t, (double)p->duration_nanos));
	if (samples >= 0 && !strcmp(profile_str(p, p->columns[samples].unit), "count"))
		buf_addf(b, "%s%s samples", b->len ? ", " : "", fmt_count(t, (uint64_t)profile_total(p, samples)));
}

int fg_render_profile(const struct profile *p, const struct fg_build_opts *bo, bool flamechart,
		      const struct fg_svg_opts *so, const char *path, struct err *e)
{
	struct flamegraph *g = fg_new(flamechart);
	struct fg_svg_opts o = *so;
	struct afile af = { 0 };
	struct buf sub = BUF_INIT;
	int col = bo->column < 0 ? profile_default_column(p) : bo->column;
	int ret = -1;

	if (!o.countname)
		o.countname = fg_count_name(p, col);
	if (o.unit_ns <= 0 && !strcmp(o.countname, "samples") && o.factor == 1)
		o.unit_ns = fg_ns_per_count(p, col);
	if (!o.subtitle && col >= 0) {
		describe(&sub, p, col);
		o.subtitle = sub.buf;
	}
	if (fg_add_profile(g, p, bo, e) < 0)
		goto out;
	fg_finish(g);
	if (afile_open(&af, path, e) < 0)
		goto out;
	if (fg_write_svg(g, af.fp, &o, e) < 0) {
		afile_abort(&af);
		goto out;
	}
	ret = afile_commit(&af, e);
out:
	fg_free(g);
	buf_release(&sub);
	return ret;
}
