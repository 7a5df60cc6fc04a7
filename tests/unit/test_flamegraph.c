/* Unit tests for src/render: flame graph layout (merging, widths, pruning, reverse, flame chart), tooltips, SVG
 * geometry and escaping, palettes and the consistent palette file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/err.h"
#include "profile/profile.h"
#include "render/flamegraph.h"
#include "render/palette.h"

/* Adds "a;b;c" with `value` to a one-column profile; `module` distinguishes otherwise equal frames. */
static void add(struct profile *p, const char *stack, int64_t value, const char *module)
{
	uint32_t node = 0;
	const char *s = stack;

	while (*s) {
		const char *end = strchr(s, ';');
		size_t len = end ? (size_t)(end - s) : strlen(s);
		struct frame f = { 0 };

		f.function = profile_intern(p, s, len);
		f.module = module ? profile_intern_str(p, module) : 0;
		node = profile_node(p, node, profile_frame(p, &f));
		s += len + (end ? 1 : 0);
	}
	profile_add_sample1(p, node, 0, value);
}

static struct profile *new_profile(unsigned flags)
{
	struct profile *p = profile_new(flags);

	profile_add_column(p, "samples", "count");
	return p;
}

static struct flamegraph *build(const struct profile *p, bool reverse, bool flamechart)
{
	struct fg_build_opts bo = { .column = -1, .base_column = -1, .reverse = reverse };
	struct flamegraph *g = fg_new(flamechart);
	struct err e = ERR_INIT;

	assert_int_equal(fg_add_profile(g, p, &bo, &e), 0);
	fg_finish(g);
	return g;
}

/* The node at path "a;b" below the root, or FG_NONE. */
static uint32_t find(const struct flamegraph *g, const char *path)
{
	uint32_t n = 0;

	while (*path && n != FG_NONE) {
		const char *end = strchr(path, ';');
		size_t len = end ? (size_t)(end - path) : strlen(path);

		n = fg_find_child(g, n, path, len);
		path += len + (end ? 1 : 0);
	}
	return n;
}

static size_t nchildren(const struct flamegraph *g, uint32_t n)
{
	size_t k = 0;

	for (uint32_t c = g->nodes[n].first_child; c != FG_NONE; c = g->nodes[c].next_sibling)
		k++;
	return k;
}

static void test_merge_by_name(void **state)
{
	struct profile *p = new_profile(0);
	struct flamegraph *g;
	uint32_t foo;

	(void)state;
	/* same function in two modules: distinct profile frames, one drawn frame */
	add(p, "main;foo;x", 3, "libA.so");
	add(p, "main;foo;x", 4, "libB.so");
	/* flamegraph.pl's sorted-lines merge splits "foo" around "foo::bar" and "foo-x"; a tree never does */
	add(p, "main;foo::bar;y", 5, NULL);
	add(p, "main;foo-x", 1, NULL);
	add(p, "main;foo;z", 2, NULL);
	add(p, "main;foo", 6, NULL);
	g = build(p, false, false);

	assert_int_equal(nchildren(g, 0), 1);
	assert_int_equal(nchildren(g, find(g, "main")), 3);
	foo = find(g, "main;foo");
	assert_int_not_equal(foo, FG_NONE);
	assert_true(g->nodes[foo].value == 3 + 4 + 2 + 6);
	assert_true(g->nodes[foo].self == 6);
	assert_int_equal(nchildren(g, foo), 2);
	assert_true(g->nodes[find(g, "main;foo;x")].value == 7);
	assert_true(g->nodes[0].value == 21);
	fg_free(g);
	profile_free(p);
}

static void test_layout_widths(void **state)
{
	struct profile *p = new_profile(0);
	struct flamegraph *g;
	struct fg_rect *r;
	uint32_t maxd;
	size_t n, i, j;
	const char *prev = NULL;

	(void)state;
	add(p, "m;c;x", 10, NULL);
	add(p, "m;a;y;z", 20, NULL);
	add(p, "m;b", 30, NULL);
	add(p, "m", 5, NULL);
	add(p, "n;q", 7, NULL);
	g = build(p, false, false);
	n = fg_layout(g, 0, &r, &maxd);
	assert_int_equal(n, g->nodes_nr);
	assert_int_equal(maxd, 4);
	assert_int_equal(r[0].node, 0);
	for (i = 0; i < n; i++) {
		const struct fg_node *node = &g->nodes[r[i].node];
		double sum = 0, x0 = r[i].x;

		/* children lie inside their parent, side by side, their values summing to at most the parent's */
		for (j = 0; j < n; j++) {
			if (g->nodes[r[j].node].parent != r[i].node || r[j].node == r[i].node)
				continue;
			assert_true(r[j].x >= x0 - 1e-9);
			assert_true(r[j].x + g->nodes[r[j].node].value <= r[i].x + node->value + 1e-9);
			sum += g->nodes[r[j].node].value;
		}
		assert_true(sum <= node->value + 1e-9);
		assert_true(sum + node->self == node->value);
	}
	/* m's children are alphabetical from m's left edge */
	for (i = 0; i < n; i++) {
		size_t len;
		const char *name;

		if (g->nodes[r[i].node].parent != find(g, "m") || !r[i].node)
			continue;
		name = fg_name(g, r[i].node, &len);
		if (prev)
			assert_true(strcmp(prev, name) < 0);
		prev = name;
	}
	assert_true(r[0].x == 0);
	assert_true(g->nodes[find(g, "m;a")].value == 20);
	/* flamegraph.pl's places: m's own 5 samples first, then a, b, c */
	for (i = 0; i < n; i++) {
		if (r[i].node == find(g, "m;a"))
			assert_true(r[i].x == 5);
		if (r[i].node == find(g, "m;b"))
			assert_true(r[i].x == 25);
		if (r[i].node == find(g, "n"))
			assert_true(r[i].x == 65);
	}
	free(r);
	fg_free(g);
	profile_free(p);
}

static void test_layout_minwidth(void **state)
{
	struct profile *p = new_profile(0);
	struct flamegraph *g;
	struct fg_rect *r;
	uint32_t maxd;
	size_t n, i;

	(void)state;
	add(p, "m;big", 1000, NULL);
	add(p, "m;tiny;deeper;deepest", 2, NULL);
	add(p, "m;small", 10, NULL);
	g = build(p, false, false);
	n = fg_layout(g, 5, &r, &maxd);
	/* all, m, big, small: tiny and everything above it are gone */
	assert_int_equal(n, 4);
	assert_int_equal(maxd, 2);
	for (i = 0; i < n; i++)
		assert_true(g->nodes[r[i].node].value >= 5);
	free(r);
	/* a threshold above everything but the root keeps the root only */
	n = fg_layout(g, 1e9, &r, &maxd);
	assert_int_equal(n, 1);
	assert_int_equal(maxd, 0);
	free(r);
	fg_free(g);
	profile_free(p);
}

static void test_reverse(void **state)
{
	struct profile *p = new_profile(0);
	struct flamegraph *g;

	(void)state;
	add(p, "a;b;c", 3, NULL);
	add(p, "x;b;c", 2, NULL);
	g = build(p, true, false);
	assert_int_equal(nchildren(g, 0), 1);
	assert_true(g->nodes[find(g, "c")].value == 5);
	assert_true(g->nodes[find(g, "c;b")].value == 5);
	assert_true(g->nodes[find(g, "c;b;a")].value == 3);
	assert_true(g->nodes[find(g, "c;b;x")].value == 2);
	assert_int_equal(find(g, "a"), FG_NONE);
	fg_free(g);
	profile_free(p);
}

static void test_flamechart(void **state)
{
	struct profile *p = new_profile(PROFILE_KEEP_ORDER);
	struct flamegraph *g;
	struct fg_rect *r;
	uint32_t maxd, a;
	size_t n, i;
	double xs[3];
	int k = 0;

	(void)state;
	add(p, "a;b", 1, NULL);
	add(p, "a;c", 1, NULL);
	add(p, "a;b", 1, NULL);
	add(p, "x", 2, NULL);
	add(p, "a;b", 3, NULL);
	g = build(p, false, true);
	/* consecutive "a" merge; the later one does not */
	assert_int_equal(nchildren(g, 0), 3);
	a = g->nodes[0].first_child;
	assert_int_equal(nchildren(g, a), 3);
	n = fg_layout(g, 0, &r, &maxd);
	for (i = 0; i < n; i++)
		if (g->nodes[r[i].node].parent == a && r[i].node != 0)
			xs[k++] = r[i].x;
	assert_int_equal(k, 3);
	/* time order: b at 0, c at 1, b at 2 */
	assert_true(xs[0] == 0 && xs[1] == 1 && xs[2] == 2);
	free(r);
	fg_free(g);
	profile_free(p);

	/* samples ending at a frame keep their time among its children */
	p = new_profile(PROFILE_KEEP_ORDER);
	add(p, "a", 1, NULL);
	add(p, "a;b", 1, NULL);
	add(p, "a", 2, NULL);
	add(p, "a;c", 1, NULL);
	g = build(p, false, true);
	n = fg_layout(g, 0, &r, &maxd);
	assert_int_equal(n, 4); /* all, a, b, c: the runs of a's own samples are not drawn */
	for (i = 0; i < n; i++) {
		size_t len;
		const char *name = fg_name(g, r[i].node, &len);

		if (len == 1 && name[0] == 'b')
			assert_true(r[i].x == 1);
		if (len == 1 && name[0] == 'c')
			assert_true(r[i].x == 4);
	}
	assert_true(g->nodes[g->nodes[0].first_child].value == 5);
	free(r);
	fg_free(g);
	profile_free(p);
}

static void test_tooltip(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	fg_tooltip(&b, "foo", 3, 1234567, 2469134, 1, "samples", false, 0);
	assert_string_equal(b.buf, "foo (1,234,567 samples, 50.00%)");
	buf_reset(&b);
	fg_tooltip(&b, "bar", 3, 5, 1000, 1, "bytes", false, 0);
	assert_string_equal(b.buf, "bar (5 bytes, 0.50%)");
	buf_reset(&b);
	fg_tooltip(&b, "f", 1, 123, 1000, 2.5, "samples", false, 0);
	assert_string_equal(b.buf, "f (308 samples, 12.32%)");
	buf_reset(&b);
	fg_tooltip(&b, "d", 1, 200, 1000, 1, "samples", true, 12);
	assert_string_equal(b.buf, "d (200 samples, 20.00%; +1.20%)");
	buf_reset(&b);
	fg_tooltip(&b, "d", 1, 200, 1000, 1, "samples", true, -30);
	assert_string_equal(b.buf, "d (200 samples, 20.00%; -3.00%)");
	buf_reset(&b);
	fg_tooltip_root(&b, 1000, 1, "samples");
	assert_string_equal(b.buf, "all (1,000 samples, 100%)");
	/* --negate of no change: still "0.00%", as flamegraph.pl and inferno print it */
	buf_reset(&b);
	fg_tooltip(&b, "z", 1, 200, 1000, 1, "samples", true, -0.0);
	assert_string_equal(b.buf, "z (200 samples, 20.00%; 0.00%)");
	buf_release(&b);
}

static void test_strip_annotation(void **state)
{
	(void)state;
	assert_int_equal(fg_strip_annotation("read_[k]", 8), 4);
	assert_int_equal(fg_strip_annotation("Foo:::bar_[j]", 13), 9);
	assert_int_equal(fg_strip_annotation("x_[i]", 5), 1);
	assert_int_equal(fg_strip_annotation("waker_[w]", 9), 5);
	assert_int_equal(fg_strip_annotation("a_[x]", 5), 5);  /* not an annotation */
	assert_int_equal(fg_strip_annotation("_[k]x", 5), 5);  /* not at the end */
	assert_int_equal(fg_strip_annotation("[k]", 3), 3);
}

/* Adds folded lines; returns the graph, finished. */
static struct flamegraph *folded(const char *text, const struct fg_build_opts *o, struct fg_folded *f)
{
	struct flamegraph *g = fg_new(false);
	struct err e = ERR_INIT;
	const char *line = text;

	fg_folded_init(f);
	while (*line) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);

		assert_true(fg_add_folded_line(g, f, line, len, o, false, &e) >= 0);
		line += len + (nl ? 1 : 0);
	}
	fg_finish(g);
	return g;
}

static void test_folded(void **state)
{
	struct fg_build_opts o = { -1, -1, false, NULL, 0 };
	const char *base[] = { "F" };
	struct fg_folded f;
	struct flamegraph *g;
	struct fg_rect *r;
	uint32_t maxd, cc = FG_NONE;
	size_t n, i;

	(void)state;
	/* fractional counts summed, an empty frame kept, a trailing ';' dropped, bad lines counted */
	g = folded("c;_s;m;c 31.23\nc;c 6.1\nc;c;r 1.4\nc;;x 2\nc;e; 1\nno count\nc;c 5 \n", &o, &f);
	assert_int_equal(f.lines, 5);
	assert_int_equal(f.ignored, 2); /* no count, and a blank after the count (flamegraph.pl's regex) */
	assert_true(f.fractional);
	assert_true(fabs(g->nodes[0].value - 41.73) < 1e-9);
	assert_int_not_equal(fg_find_child(g, find(g, "c"), "", 0), FG_NONE);
	assert_int_not_equal(find(g, "c;;x"), FG_NONE);
	assert_int_not_equal(find(g, "c;e"), FG_NONE);
	assert_true(g->nodes[find(g, "c;e")].self == 1);
	/* c;c spans 31.23 .. 38.73 in the running sum: 7.4999..., drawn as 7 samples as flamegraph.pl does */
	n = fg_layout(g, 0, &r, &maxd);
	for (i = 0; i < n; i++)
		if (r[i].node == find(g, "c;c"))
			cc = (uint32_t)i;
	assert_int_not_equal(cc, FG_NONE);
	assert_true(r[cc].w < 7.5 && r[cc].w > 7.49);
	free(r);
	fg_free(g);
	fg_folded_release(&f);

	/* differential: width by the second count, delta on the leaf */
	g = folded("a;b 10 4\na;c 2 6\n", &o, &f);
	assert_true(g->has_delta);
	assert_true(g->nodes[0].value == 10);
	assert_true(g->nodes[find(g, "a;b")].delta == -6);
	assert_true(g->nodes[find(g, "a;c")].delta == 4);
	assert_true(g->nodes[find(g, "a")].delta == 0);
	fg_free(g);
	fg_folded_release(&f);

	/* --base: from the first base frame on; stacks without one are left out */
	o.base = base;
	o.nbase = 1;
	g = folded("a;F;b;F;c 3\nx;y 5\nF 1\n", &o, &f);
	assert_true(g->nodes[0].value == 4);
	assert_int_not_equal(find(g, "F;b;F;c"), FG_NONE);
	assert_int_equal(find(g, "a"), FG_NONE);
	fg_free(g);
	fg_folded_release(&f);

	/* --reverse, then --base on the reversed stack */
	o.reverse = true;
	g = folded("a;F;b 3\n", &o, &f);
	assert_int_not_equal(find(g, "F;a"), FG_NONE);
	fg_free(g);
	fg_folded_release(&f);
}

static void test_folded_sorted(void **state)
{
	struct fg_build_opts o = { -1, -1, false, NULL, 0 };
	struct flamegraph *g = fg_new(false);
	struct fg_folded f;
	struct err e = ERR_INIT;

	(void)state;
	fg_folded_init(&f);
	assert_int_equal(fg_add_folded_line(g, &f, "a;b 1", 5, &o, true, &e), 1);
	assert_int_equal(fg_add_folded_line(g, &f, "a;b;c 1", 7, &o, true, &e), 1);
	assert_int_equal(fg_add_folded_line(g, &f, "a;c 1", 5, &o, true, &e), 1);
	assert_int_equal(fg_add_folded_line(g, &f, "a;b 1", 5, &o, true, &e), -1);
	assert_non_null(strstr(e.msg, "unsorted"));
	fg_folded_release(&f);
	fg_free(g);
}

static void test_nameattr(void **state)
{
	struct fg_nameattr m;
	struct err e = ERR_INIT;
	const struct fg_attrs *a;
	const char *text = "main\tclass=k\ttitle=foo\tg_extra=stroke=\"green\" class=\"dup\"\thref=h\tbogus=1\n"
			   "\n"
			   "cksum\ttitle=bar\n"
			   "cksum\tclass=later\n";

	(void)state;
	fg_nameattr_init(&m);
	assert_int_equal(fg_nameattr_parse(&m, text, strlen(text), "t", &e), 0);
	a = fg_nameattr_get(&m, "main", 4);
	assert_non_null(a);
	assert_int_equal(a->nr, 4); /* class, title, =stroke, href */
	assert_int_equal(m.ignored, 2); /* bogus=, and class="dup" which would repeat class */
	a = fg_nameattr_get(&m, "cksum", 5);
	assert_non_null(a);
	assert_int_equal(a->nr, 1); /* a later line replaces the earlier */
	assert_string_equal(a->v[0].key, "class");
	assert_null(fg_nameattr_get(&m, "other", 5));
	fg_nameattr_release(&m);

	fg_nameattr_init(&m);
	assert_int_equal(fg_nameattr_parse(&m, "notab\n", 6, "t", &e), -1);
	assert_non_null(strstr(e.msg, "line 1"));
	fg_nameattr_release(&m);
}

static char *render(const struct flamegraph *g, const struct fg_svg_opts *o, int *ret)
{
	struct err e = ERR_INIT;
	char *data = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&data, &size);

	assert_non_null(f);
	*ret = fg_write_svg(g, f, o, &e);
	fclose(f);
	return data;
}

static void test_svg_geometry(void **state)
{
	struct profile *p = new_profile(0);
	struct fg_svg_opts o;
	struct flamegraph *g;
	char *svg;
	int ret;

	(void)state;
	add(p, "a;b", 30, NULL);
	add(p, "a;c", 10, NULL);
	g = build(p, false, false);
	fg_svg_opts_init(&o);
	svg = render(g, &o, &ret);
	assert_int_equal(ret, 0);
	/* depth 2 + root: height = 3 * 16 + 12 * 3 + (12 * 2 + 10) = 118 */
	assert_non_null(strstr(svg, "width=\"1200\" height=\"118\""));
	assert_non_null(strstr(svg, "<title>all (40 samples, 100%)</title><rect x=\"10.0\" y=\"69\" "
				    "width=\"1180.0\" height=\"15.0\""));
	assert_non_null(strstr(svg, "<title>b (30 samples, 75.00%)</title><rect x=\"10.0\" y=\"37\" "
				    "width=\"885.0\""));
	assert_non_null(strstr(svg, "<title>c (10 samples, 25.00%)</title><rect x=\"895.0\" y=\"37\""));
	assert_non_null(strstr(svg, ">Flame Graph</text>"));
	free(svg);

	/* icicle: root at the top, below the title */
	o.inverted = true;
	svg = render(g, &o, &ret);
	assert_non_null(strstr(svg, "<title>all (40 samples, 100%)</title><rect x=\"10.0\" y=\"36\""));
	assert_non_null(strstr(svg, ">Icicle Graph</text>"));
	free(svg);

	/* --total widens the root; --factor scales the counts */
	o.inverted = false;
	o.total = 80;
	o.factor = 10;
	svg = render(g, &o, &ret);
	assert_non_null(strstr(svg, "<title>all (800 samples, 100%)</title>"));
	assert_non_null(strstr(svg, "<title>b (300 samples, 37.50%)</title><rect x=\"10.0\" y=\"37\" "
				    "width=\"442.5\""));
	free(svg);
	fg_free(g);
	profile_free(p);
}

static bool color_b(const struct flamegraph *g, uint32_t node, char out[24], void *ctx)
{
	size_t len;
	const char *name = fg_name(g, node, &len);

	(void)ctx;
	if (len != 1 || name[0] != 'b')
		return false;
	snprintf(out, 24, "#010203");
	return true;
}

static bool tip_c(const struct flamegraph *g, uint32_t node, struct buf *tip, void *ctx)
{
	size_t len;
	const char *name = fg_name(g, node, &len);

	if (len != 1 || name[0] != 'c')
		return false;
	buf_addf(tip, "c (%.0f samples, custom %s)", g->nodes[node].value, (const char *)ctx);
	return true;
}

static void test_svg_overrides(void **state)
{
	struct profile *p = new_profile(0);
	struct fg_svg_opts o;
	struct flamegraph *g;
	char *svg;
	int ret;

	(void)state;
	add(p, "a;b", 30, NULL);
	add(p, "a;c", 10, NULL);
	g = build(p, false, false);
	fg_svg_opts_init(&o);
	o.frame_color = color_b;
	o.frame_tooltip = tip_c;
	o.frame_tooltip_ctx = (void *)"<x>";
	svg = render(g, &o, &ret);
	assert_int_equal(ret, 0);
	assert_non_null(strstr(svg, "<title>b (30 samples, 75.00%)</title><rect x=\"10.0\" y=\"37\" width=\"885.0\" "
				    "height=\"15.0\" fill=\"#010203\""));
	assert_non_null(strstr(svg, "<title>c (10 samples, custom &lt;x&gt;)</title>"));
	free(svg);
	fg_free(g);
	profile_free(p);
}

static void test_svg_escaping(void **state)
{
	struct profile *p = new_profile(0);
	struct fg_svg_opts o;
	struct flamegraph *g;
	char *svg;
	int ret;

	(void)state;
	add(p, "main;</title><script>alert(1)</script>", 5, NULL);
	add(p, "main;a&b\x01\xff", 5, NULL);
	g = build(p, false, false);
	fg_svg_opts_init(&o);
	o.title = "<script>alert(2)</script>";
	o.countname = "\"><script>";
	o.notes = "--><script>";
	svg = render(g, &o, &ret);
	assert_int_equal(ret, 0);
	/* the only script element is ours */
	assert_non_null(strstr(svg, "<script type="));
	assert_null(strstr(svg, "<script>"));
	assert_non_null(strstr(svg, "&lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt; (5 \"&gt;&lt;script&gt;"));
	assert_non_null(strstr(svg, "a&amp;b\xef\xbf\xbd\xef\xbf\xbd"));
	assert_null(strstr(svg, "<!-- NOTES: --"));
	free(svg);
	fg_free(g);
	profile_free(p);
}

static void test_svg_empty(void **state)
{
	struct profile *p = new_profile(0);
	struct fg_svg_opts o;
	struct flamegraph *g;
	char *svg;
	int ret;

	(void)state;
	g = build(p, false, false);
	fg_svg_opts_init(&o);
	svg = render(g, &o, &ret);
	assert_int_equal(ret, -1);
	free(svg);
	fg_free(g);
	profile_free(p);
}

static void test_render_profile(void **state)
{
	char path[] = "/tmp/kiln-fg-XXXXXX";
	struct profile *p = profile_new(0);
	struct fg_build_opts bo = { .column = -1, .base_column = -1 };
	struct fg_svg_opts o;
	struct err e = ERR_INIT;
	struct buf b = BUF_INIT;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	profile_add_column(p, "alloc_space", "bytes");
	add(p, "main;malloc", 2048, NULL);
	fg_svg_opts_init(&o);
	o.countname = NULL; /* from the column's unit */
	assert_int_equal(fg_render_profile(p, &bo, false, &o, path, &e), 0);
	assert_int_equal(buf_read_file(&b, path, &e), 0);
	assert_non_null(strstr(b.buf, "<title>malloc (2,048 bytes, 100.00%)</title>"));
	assert_non_null(strstr(b.buf, "</svg>\n"));
	/* nothing to draw: an error, and the old file stays */
	profile_free(p);
	p = profile_new(0);
	profile_add_column(p, "samples", "count");
	assert_int_equal(fg_render_profile(p, &bo, false, &o, path, &e), -1);
	buf_reset(&b);
	assert_int_equal(buf_read_file(&b, path, &e), 0);
	assert_non_null(strstr(b.buf, "malloc"));
	unlink(path);
	buf_release(&b);
	profile_free(p);
}

static void test_palette(void **state)
{
	char s[24];
	uint64_t rng = 1;
	struct rgb c, d;

	(void)state;
	/* flamegraph.pl's default: srand(sum of code points); rand() -- same colours as perl's */
	assert_string_equal(palette_rgb_str(s, palette_color(PALETTE_HOT, PALETTE_BY_NAME, "foo", 3, 0, &rng)),
			    "rgb(220,71,17)");
	assert_string_equal(palette_rgb_str(s, palette_color(PALETTE_HOT, PALETTE_BY_NAME, "main", 4, 0, &rng)),
			    "rgb(243,179,42)");
	/* --hash: flamegraph.pl's namehash of the name and of its reverse */
	c = palette_color(PALETTE_HOT, PALETTE_BY_HASH, "foo", 3, 0, &rng);
	d = palette_color(PALETTE_HOT, PALETTE_BY_HASH, "foo", 3, 0, &rng);
	assert_memory_equal(&c, &d, sizeof(c));
	assert_true(c.r >= 205 && c.b <= 55);
	/* a module prefix up to the backtick is ignored by namehash */
	c = palette_color(PALETTE_HOT, PALETTE_BY_HASH, "libc.so`abc", 11, 0, &rng);
	d = palette_color(PALETTE_HOT, PALETTE_BY_HASH, "abc", 3, 0, &rng);
	assert_int_equal(c.g, d.g);
	/* multi palettes by annotation and hint */
	c = palette_color(PALETTE_JAVA, PALETTE_BY_NAME, "do_syscall_[k]", 14, 0, &rng);
	assert_int_equal(c.b, 0); /* orange */
	c = palette_color(PALETTE_JAVA, PALETTE_BY_NAME, "do_syscall", 10, PALETTE_HINT_KERNEL, &rng);
	assert_int_equal(c.b, 0);
	c = palette_color(PALETTE_JAVA, PALETTE_BY_NAME, "Ljava/lang/Thread;::run", 23, 0, &rng);
	assert_true(c.g >= 200 && c.r < 120); /* green */
	c = palette_color(PALETTE_JAVA, PALETTE_BY_NAME, "std::vector", 11, 0, &rng);
	assert_true(c.r == c.g && c.b < 80); /* yellow */
	c = palette_color(PALETTE_CHAIN, PALETTE_BY_NAME, "waker", 5, PALETTE_HINT_WAKER, &rng);
	assert_true(c.g >= 165 && c.g == c.b); /* aqua */
	c = palette_color(PALETTE_CHAIN, PALETTE_BY_NAME, "sleeper", 7, 0, &rng);
	assert_true(c.b >= 205 && c.r == c.g); /* blue */
	/* differential */
	c = palette_diff_color(10, 10, false);
	assert_true(c.r == 255 && c.g == 0 && c.b == 0);
	c = palette_diff_color(10, 10, true);
	assert_true(c.r == 0 && c.g == 0 && c.b == 255);
	c = palette_diff_color(0, 10, false);
	assert_true(c.r == 255 && c.g == 255 && c.b == 255);
	assert_int_equal(palette_by_name("wakeup"), PALETTE_WAKEUP);
	assert_int_equal(palette_by_name("nope"), -1);
}

static void test_background(void **state)
{
	char top[8], bottom[8];
	struct err e = ERR_INIT;

	(void)state;
	assert_int_equal(palette_background(NULL, PALETTE_HOT, top, bottom, &e), 0);
	assert_string_equal(bottom, "#eeeeb0");
	assert_int_equal(palette_background(NULL, PALETTE_MEM, top, bottom, &e), 0);
	assert_string_equal(bottom, "#e0ffe0");
	assert_int_equal(palette_background(NULL, PALETTE_IO, top, bottom, &e), 0);
	assert_string_equal(bottom, "#e0e0ff");
	assert_int_equal(palette_background(NULL, PALETTE_RED, top, bottom, &e), 0);
	assert_string_equal(bottom, "#e8e8e8");
	assert_int_equal(palette_background("#123abc", PALETTE_HOT, top, bottom, &e), 0);
	assert_string_equal(top, "#123abc");
	assert_int_equal(palette_background("#12345", PALETTE_HOT, top, bottom, &e), -1);
	assert_int_equal(palette_background("pink", PALETTE_HOT, top, bottom, &e), -1);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void test_palette_map(void **state)
{
	char path[] = "/tmp/kiln-palette-XXXXXX";
	struct palette_map m, m2;
	struct err e = ERR_INIT;
	struct buf b = BUF_INIT;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	unlink(path);
	palette_map_init(&m);
	/* a missing file is an empty map */
	assert_int_equal(palette_map_load(&m, path, &e), 0);
	assert_null(palette_map_get(&m, "x", 1));
	palette_map_set(&m, "zeta", 4, "rgb(1,2,3)");
	palette_map_set(&m, "operator->", 10, "rgb(4,5,6)");
	palette_map_set(&m, "alpha", 5, "#aabbcc");
	assert_true(m.dirty);
	assert_int_equal(palette_map_save(&m, path, &e), 0);
	assert_int_equal(buf_read_file(&b, path, &e), 0);
	assert_string_equal(b.buf, "alpha->#aabbcc\noperator->->rgb(4,5,6)\nzeta->rgb(1,2,3)\n");

	palette_map_init(&m2);
	assert_int_equal(palette_map_load(&m2, path, &e), 0);
	assert_false(m2.dirty);
	assert_string_equal(palette_map_get(&m2, "operator->", 10), "rgb(4,5,6)");
	assert_string_equal(palette_map_get(&m2, "alpha", 5), "#aabbcc");
	palette_map_release(&m2);

	/* a colour that is not one is an error (it would land in an attribute) */
	write_file(path, "f->rgb(1,2,3)\" onload=\"x\n");
	palette_map_init(&m2);
	assert_int_equal(palette_map_load(&m2, path, &e), -1);
	palette_map_release(&m2);

	unlink(path);
	buf_release(&b);
	palette_map_release(&m);
}

/* WCAG 2 contrast: labels on every colour the differential scale can give (both hues, every intensity) and on
 * a grid over the whole RGB cube are readable (>= 4.5:1); dark blue gets white text, pale frames black. */
static void test_label_contrast(void **state)
{
	struct rgb black = { 0, 0, 0 }, white = { 255, 255, 255 }, grey = { 128, 128, 128 }, c;

	(void)state;
	/* the formula's reference points */
	assert_true(fabs(palette_contrast(black, white) - 21.0) < 1e-9);
	assert_true(fabs(palette_luminance(grey) - 0.2158605) < 1e-6);
	c = palette_diff_color(-1, 1, false);
	assert_true(c.r == 0 && c.g == 0 && c.b == 255);
	assert_true(fabs(palette_contrast(c, white) - 8.592) < 1e-3);
	assert_int_equal(palette_text_color(c).r, 255);
	assert_int_equal(palette_text_color(palette_diff_color(0, 1, false)).r, 0);
	for (int neg = 0; neg < 2; neg++)
		for (int i = -100; i <= 100; i++) {
			c = palette_diff_color(i / 100.0, 1, neg);
			assert_true(palette_contrast(c, palette_text_color(c)) >= 4.5);
		}
	for (int r = 0; r < 256; r += 15)
		for (int g = 0; g < 256; g += 15)
			for (int b = 0; b < 256; b += 15) {
				c = (struct rgb){ (uint8_t)r, (uint8_t)g, (uint8_t)b };
				assert_true(palette_contrast(c, palette_text_color(c)) >= 4.5);
			}
	assert_true(palette_parse_rgb("rgb(1,2,3)", &c) && c.r == 1 && c.g == 2 && c.b == 3);
	assert_true(palette_parse_rgb("#0a0b0c", &c) && c.r == 10 && c.b == 12);
	assert_false(palette_parse_rgb("rgb(1,2,300)", &c));
	assert_false(palette_parse_rgb("blue", &c));
}

/* Dark differential frames get white labels in the SVG; light ones keep the style's black. */
static void test_svg_label_color(void **state)
{
	struct flamegraph *g = fg_new(false);
	struct fg_build_opts bo = { .column = -1, .base_column = -1 };
	struct fg_folded f;
	struct fg_svg_opts o;
	struct err e = ERR_INIT;
	char *svg;
	int ret;

	(void)state;
	fg_folded_init(&f);
	assert_int_equal(fg_add_folded_line(g, &f, "main;shrank 200 20", 18, &bo, false, &e), 1);
	assert_int_equal(fg_add_folded_line(g, &f, "main;same 50 50", 15, &bo, false, &e), 1);
	fg_finish(g);
	fg_svg_opts_init(&o);
	svg = render(g, &o, &ret);
	assert_int_equal(ret, 0);
	assert_non_null(strstr(svg, "fill=\"rgb(0,0,255)\""));
	assert_non_null(strstr(svg, "fill=\"rgb(255,255,255)\">shrank</text>"));
	assert_non_null(strstr(svg, "\">same</text>"));
	assert_null(strstr(svg, "fill=\"rgb(255,255,255)\">same</text>"));
	free(svg);
	fg_folded_release(&f);
	fg_free(g);
}

/* kiln profile --flamegraph: a subtitle from what the profile knows, and time beside the samples. */
static void test_render_profile_time(void **state)
{
	char path[] = "/tmp/kiln-fg-XXXXXX";
	struct profile *p = profile_new(0);
	struct fg_build_opts bo = { .column = 0, .base_column = -1 };
	struct fg_svg_opts o;
	struct err e = ERR_INIT;
	struct buf b = BUF_INIT;
	int fd = mkstemp(path);
	int64_t v[2] = { 1234, 1234 * 10000000LL };
	uint32_t n;

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	profile_add_column(p, "samples", "count");
	profile_add_column(p, "cpu", "nanoseconds");
	p->period_type.type = profile_intern_str(p, "cpu");
	p->period_type.unit = profile_intern_str(p, "nanoseconds");
	p->period = 10000000; /* 100 Hz */
	p->duration_nanos = 15000000000LL;
	n = profile_node(p, profile_node(p, 0, profile_frame_named(p, "main", 4, FRAME_NATIVE)),
			 profile_frame_named(p, "work", 4, FRAME_NATIVE));
	profile_add_sample(p, n, 0, v);
	v[0] = 766;
	v[1] = 766 * 10000000LL;
	profile_add_sample(p, profile_node(p, 0, profile_frame_named(p, "main", 4, FRAME_NATIVE)), 0, v);
	fg_svg_opts_init(&o);
	assert_int_equal(fg_render_profile(p, &bo, false, &o, path, &e), 0);
	assert_int_equal(buf_read_file(&b, path, &e), 0);
	assert_non_null(strstr(b.buf, ">cpu profile, 15.00 s, 2,000 samples</text>"));
	assert_non_null(strstr(b.buf, "<title>work (1,234 samples, 12.34 s, 61.70%)</title>"));
	assert_non_null(strstr(b.buf, "<title>all (2,000 samples, 20.00 s, 100%)</title>"));
	/* a caller's subtitle stays */
	o.subtitle = "mine";
	assert_int_equal(fg_render_profile(p, &bo, false, &o, path, &e), 0);
	buf_reset(&b);
	assert_int_equal(buf_read_file(&b, path, &e), 0);
	assert_non_null(strstr(b.buf, ">mine</text>"));
	unlink(path);
	buf_release(&b);
	profile_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_merge_by_name),
		cmocka_unit_test(test_layout_widths),
		cmocka_unit_test(test_layout_minwidth),
		cmocka_unit_test(test_reverse),
		cmocka_unit_test(test_flamechart),
		cmocka_unit_test(test_tooltip),
		cmocka_unit_test(test_strip_annotation),
		cmocka_unit_test(test_folded),
		cmocka_unit_test(test_folded_sorted),
		cmocka_unit_test(test_nameattr),
		cmocka_unit_test(test_svg_geometry),
		cmocka_unit_test(test_svg_overrides),
		cmocka_unit_test(test_svg_escaping),
		cmocka_unit_test(test_svg_empty),
		cmocka_unit_test(test_render_profile),
		cmocka_unit_test(test_palette),
		cmocka_unit_test(test_background),
		cmocka_unit_test(test_palette_map),
		cmocka_unit_test(test_label_contrast),
		cmocka_unit_test(test_svg_label_color),
		cmocka_unit_test(test_render_profile_time),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
