/*
 * Unit tests for src/server/selector.c and flamebearer.c: selectors parse, match and fail with a message naming
 * the problem; flame graphs decoded with the reference algorithm of shared/protocols/pyroscope.md 7.3 give back
 * the input's stacks exactly and satisfy the oracles of 12 (Σ self == numTicks, containment, truncation to
 * "other", diff sides); the timeline of 8.4.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/json.h"
#include "profile/profile.h"
#include "server/flamebearer.h"
#include "server/series.h"
#include "server/store.h"

/* ---- selectors ---- */

static bool matches(const char *sel, const struct label_pair *l, size_t n)
{
	struct selector s;
	struct err e = ERR_INIT;
	bool ok;

	if (selector_parse(sel, &s, &e))
		fail_msg("'%s': %s", sel, e.msg);
	ok = selector_match(&s, l, n);
	selector_free(&s);
	return ok;
}

static void test_selector_match(void **state)
{
	const struct label_pair l[] = {
		{ "env", "prod-eu" }, { "otel.scope.name", "x/y" }, { "pod", "a" }, { "service_name", "api" },
	};
	(void)state;
	assert_true(matches("{}", l, 4));
	assert_true(matches(" { } ", l, 4));
	assert_true(matches("{service_name=\"api\"}", l, 4));
	assert_false(matches("{service_name=\"ap\"}", l, 4));
	assert_true(matches("{service_name=\"api\", env=~\"prod.*\", pod!=\"b\",}", l, 4));
	assert_false(matches("{env=~\"prod\"}", l, 4)); /* anchored: must match the whole value */
	assert_false(matches("{env=~\"eu\"}", l, 4));
	assert_true(matches("{env!~\"dev.*|test\"}", l, 4));
	assert_true(matches("{env=~\"pr+?o[d-]{1,2}(eu|us)\"}", l, 4));
	assert_true(matches("{env=~\"[[:alpha:]]+[]-][a-z]{2,}\"}", l, 4));
	assert_true(matches("{env=~\"(x|prod\\\\-eu)\"}", l, 4));
	assert_false(matches("{env!~\"prod-(eu|us)\"}", l, 4));
	assert_true(matches("{otel.scope.name=\"x/y\"}", l, 4));
	assert_true(matches("{\"otel.scope.name\"='x/y'}", l, 4));
	/* a missing label is the empty string, as in Prometheus */
	assert_true(matches("{region=\"\"}", l, 4));
	assert_true(matches("{region!=\"x\"}", l, 4));
	assert_false(matches("{region=~\".+\"}", l, 4));
	assert_true(matches("{region=~\".*\"}", l, 4));
	/* escapes */
	const struct label_pair q[] = { { "k", "a\"b\\c\n\xc3\xa9" } };
	assert_true(matches("{k=\"a\\\"b\\\\c\\n\\u00e9\"}", q, 1));
	assert_true(matches("{k=\"a\\\"b\\\\c\\n\\xc3\\xa9\"}", q, 1));
	assert_true(matches("{k=`a\"b\\c\n\xc3\xa9`}", q, 1));
}

static void assert_bad_selector(const char *text, const char *what)
{
	struct selector s;
	struct err e = ERR_INIT;

	if (!selector_parse(text, &s, &e))
		fail_msg("'%s' parsed", text);
	if (!strstr(e.msg, what))
		fail_msg("'%s': message '%s' does not say '%s'", text, e.msg, what);
	assert_null(strchr(e.msg, '\n'));
}

static void test_selector_errors(void **state)
{
	(void)state;
	assert_bad_selector("", "start with '{'");
	assert_bad_selector("service_name=\"a\"", "start with '{'");
	assert_bad_selector("{", "missing '}'");
	assert_bad_selector("{a=\"x\"", "missing '}'");
	assert_bad_selector("{a=\"x\" b=\"y\"}", "expected ',' or '}'");
	assert_bad_selector("{a=x}", "quoted value for label 'a'");
	assert_bad_selector("{a~\"x\"}", "after label 'a'");
	assert_bad_selector("{=\"x\"}", "expected a label name");
	assert_bad_selector("{1a=\"x\"}", "expected a label name");
	assert_bad_selector("{a=\"x}", "unterminated string");
	assert_bad_selector("{a=\"\\q\"}", "unknown escape");
	assert_bad_selector("{a=\"\\u12\"}", "invalid escape");
	assert_bad_selector("{a=~\"(\"}", "invalid regular expression");
	assert_bad_selector("{a=~\"x\"} junk", "after the selector");
	assert_bad_selector("{\"\"=\"x\"}", "empty label name");
	/* what RE2 refuses, and what would make regcomp() slow or escape the anchors */
	assert_bad_selector("{a=~\"p++++++++++++++++++++x\"}", "bad repetition operator");
	assert_bad_selector("{a=~\"p*{2}\"}", "bad repetition operator");
	assert_bad_selector("{a=~\"*p\"}", "bad repetition operator");
	assert_bad_selector("{a=~\"(a)\\\\1\"}", "back-references");
	assert_bad_selector("{a=~\"a{1001}\"}", "repetition count over 1000");
	assert_bad_selector("{a=~\"((a{100}){100}){100}\"}", "too complex");
	assert_bad_selector("{a=~\"x{,900}{2}\"}", "bad repetition operator");
	assert_bad_selector("{a=~\"x).*|(y\"}", "unmatched ')'");
}

static void test_profile_type(void **state)
{
	struct profile_type t;
	struct err e = ERR_INIT;
	char *mem;

	(void)state;
	assert_int_equal(profile_type_parse("process_cpu:cpu:nanoseconds:cpu:nanoseconds", &t, &mem, &e), 0);
	assert_string_equal(t.name, "process_cpu");
	assert_string_equal(t.sample_type, "cpu");
	assert_string_equal(t.sample_unit, "nanoseconds");
	assert_string_equal(t.period_type, "cpu");
	assert_string_equal(t.period_unit, "nanoseconds");
	free(mem);
	assert_int_equal(profile_type_parse("memory:inuse_space:bytes:::delta", &t, &mem, &e), 0);
	assert_string_equal(t.sample_type, "inuse_space");
	assert_string_equal(t.period_type, "");
	assert_string_equal(t.period_unit, "");
	free(mem);
	assert_int_equal(profile_type_parse("a:b:c:d", &t, &mem, &e), -1);
	assert_non_null(strstr(e.msg, "must be of the form"));
	assert_null(mem);
	assert_int_equal(profile_type_parse("a:b:c:d:e:f:g", &t, &mem, &e), -1);
	assert_int_equal(profile_type_parse("app.cpu", &t, &mem, &e), -1);
}

/* ---- flame graphs ---- */

static uint32_t stack(struct profile *p, const char *names)
{
	uint32_t node = 0;
	char *copy = strdup(names), *save = NULL;

	for (char *t = strtok_r(copy, ";", &save); t; t = strtok_r(NULL, ";", &save))
		node = profile_node(p, node, profile_frame_named(p, t, strlen(t), FRAME_NATIVE));
	free(copy);
	return node;
}

struct dnode {
	int64_t x, total, self;
	size_t parent;
	const char *name;
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted "stack value" lines with equal stacks summed. */
static char *aggregate(char **lines, size_t n)
{
	struct buf b = BUF_INIT;

	qsort(lines, n, sizeof(*lines), cmp_str);
	for (size_t i = 0; i < n;) {
		char *sp = strrchr(lines[i], ' ');
		size_t klen = (size_t)(sp - lines[i]);
		int64_t sum = 0;
		size_t j = i;
		for (; j < n && !strncmp(lines[j], lines[i], klen + 1); j++)
			sum += strtoll(strrchr(lines[j], ' ') + 1, NULL, 10);
		buf_addf(&b, "%.*s %" PRId64 "\n", (int)klen, lines[i], sum);
		i = j;
	}
	for (size_t i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
	return buf_detach(&b, NULL);
}

/*
 * The reference decoder of 7.3 for side `side` of tuples of `width` values, checking rule 3 of 12 on the way:
 * x ascends (strictly when `strict`), every node lies inside one parent, self + Σ children == total.
 */
static char *decode(const struct flamebearer *fb, int side, bool strict, int64_t *sum_self)
{
	size_t width = fb->diff ? 7 : 4, nlines = 0;
	struct dnode **lv = calloc(fb->nlevels, sizeof(*lv));
	size_t *nr = calloc(fb->nlevels, sizeof(*nr));
	char **lines = calloc(fb->nodes + 1, sizeof(*lines));
	int64_t **kids = calloc(fb->nlevels, sizeof(*kids));

	*sum_self = 0;
	for (size_t d = 0; d < fb->nlevels; d++) {
		const struct fb_level *l = &fb->levels[d];
		int64_t c = 0;
		assert_int_equal(l->nr % width, 0);
		nr[d] = l->nr / width;
		lv[d] = calloc(nr[d] + 1, sizeof(**lv));
		kids[d] = calloc(nr[d] + 1, sizeof(**kids));
		for (size_t k = 0; k < nr[d]; k++) {
			const int64_t *t = l->v + k * width + (size_t)side * 3;
			struct dnode *n = &lv[d][k];
			n->x = c + t[0];
			n->total = t[1];
			n->self = t[2];
			assert_true(t[0] >= 0 && n->self >= 0 && n->self <= n->total);
			c = n->x + n->total;
			uint32_t name = (uint32_t)l->v[k * width + width - 1];
			assert_true(name < fb->names.nr);
			n->name = strtab_str(&fb->names, name);
			if (k > 0) {
				if (strict)
					assert_true(n->x > lv[d][k - 1].x);
				else
					assert_true(n->x >= lv[d][k - 1].x);
			}
			if (d == 0)
				continue;
			size_t found = SIZE_MAX;
			for (size_t pi = 0; pi < nr[d - 1]; pi++) {
				const struct dnode *p = &lv[d - 1][pi];
				bool inside = n->total ? n->x >= p->x && n->x + n->total <= p->x + p->total
						       : n->x >= p->x && n->x <= p->x + p->total;
				if (inside && (n->total || found == SIZE_MAX))
					found = pi;
			}
			assert_true(found != SIZE_MAX);
			n->parent = found;
			kids[d - 1][found] += n->total;
		}
	}
	for (size_t d = 0; d < fb->nlevels; d++)
		for (size_t k = 0; k < nr[d]; k++) {
			const struct dnode *n = &lv[d][k];
			assert_int_equal(n->self + kids[d][k], n->total);
			*sum_self += n->self;
			if (n->self <= 0 || d == 0)
				continue;
			char *path = NULL;
			size_t pi = k;
			for (size_t dd = d; dd > 0; dd--) {
				char *np;
				const struct dnode *m = &lv[dd][pi];
				if (asprintf(&np, "%s%s%s", m->name, path ? ";" : "", path ? path : "") < 0)
					abort();
				free(path);
				path = np;
				pi = m->parent;
			}
			if (asprintf(&lines[nlines++], "%s %" PRId64, path, n->self) < 0)
				abort();
			free(path);
		}
	for (size_t d = 0; d < fb->nlevels; d++) {
		free(lv[d]);
		free(kids[d]);
	}
	free(lv);
	free(kids);
	free(nr);
	return aggregate(lines, nlines);
}

/* The input's stacks by function name, as the decoder prints them. */
static char *expected(const struct profile *p, int col)
{
	char **lines = calloc(p->rows_nr + 1, sizeof(*lines));
	size_t n = 0;
	uint32_t st[256];

	for (size_t r = 0; r < p->rows_nr; r++) {
		int64_t v = profile_row_values(p, r)[col];
		struct buf b = BUF_INIT;
		size_t depth = profile_stack(p, p->rows[r].node, st, 256);
		if (!v)
			continue;
		for (size_t i = 0; i < depth; i++)
			buf_addf(&b, "%s%s", i ? ";" : "", profile_str(p, p->frames[st[i]].function));
		buf_addf(&b, " %" PRId64, v);
		lines[n++] = buf_detach(&b, NULL);
	}
	return aggregate(lines, n);
}

static void check_oracles(const struct flamebearer *fb)
{
	assert_true(fb->nlevels >= 1);
	assert_string_equal(strtab_str(&fb->names, 0), "total");
	const int64_t *root = fb->levels[0].v;
	assert_int_equal(fb->levels[0].nr, fb->diff ? 7 : 4);
	assert_int_equal(root[0], 0);
	assert_int_equal(root[2], 0);
	assert_int_equal(root[fb->diff ? 6 : 3], 0);
	/* names are unique: strtab interning guarantees it, so check that every one is used */
	int64_t max_self = 0;
	for (size_t d = 0; d < fb->nlevels; d++) {
		size_t w = fb->diff ? 7 : 4;
		for (size_t k = 0; k < fb->levels[d].nr; k += w) {
			const int64_t *t = fb->levels[d].v + k;
			max_self = t[2] > max_self ? t[2] : max_self;
			if (fb->diff && t[5] > max_self)
				max_self = t[5];
		}
	}
	assert_int_equal(max_self, fb->max_self);
}

/* A profile of random stacks over a few names, with the same function under different parents. */
static struct profile *random_profile(unsigned seed, size_t samples)
{
	static const char *const fn[] = { "main", "run", "parse", "eval", "alloc", "free", "hash", "io" };
	struct profile *p = profile_new(0);

	srand(seed);
	profile_add_column(p, "samples", "count");
	profile_add_column(p, "cpu", "nanoseconds");
	for (size_t i = 0; i < samples; i++) {
		char s[256] = "";
		int depth = 1 + rand() % 7;
		for (int d = 0; d < depth; d++) {
			strcat(s, d ? ";" : "");
			strcat(s, fn[rand() % 8]);
		}
		int64_t v[2] = { 1, 1 + rand() % 10000000 };
		profile_add_sample(p, stack(p, s), 0, v);
	}
	return p;
}

static void test_flamebearer_example(void **state)
{
	/* shared/protocols/pyroscope.md 11.1: foo;bar 1e9, foo;baz 2e9 */
	struct profile *p = profile_new(0);
	struct flamebearer fb;
	struct err e = ERR_INIT;
	struct buf b = BUF_INIT;
	struct jw j;

	(void)state;
	profile_add_column(p, "cpu", "nanoseconds");
	profile_add_sample1(p, stack(p, "foo;bar"), 0, 1000000000);
	profile_add_sample1(p, stack(p, "foo;baz"), 0, 2000000000);
	assert_int_equal(flamebearer_build(&fb, p, -1, 0, &e), 0);
	jw_init(&j, &b, false);
	jw_object_begin(&j);
	flamebearer_write_json(&fb, &j);
	jw_object_end(&j);
	assert_string_equal(b.buf, "{\"names\":[\"total\",\"foo\",\"baz\",\"bar\"],\"levels\":[[0,3000000000,0,0],"
				   "[0,3000000000,0,1],[0,1000000000,1000000000,3,0,2000000000,2000000000,2]],"
				   "\"numTicks\":3000000000,\"maxSelf\":2000000000}");
	buf_release(&b);
	flamebearer_release(&fb);
	profile_free(p);
}

static void test_flamebearer_round_trip(void **state)
{
	(void)state;
	for (unsigned seed = 1; seed <= 20; seed++) {
		struct profile *p = random_profile(seed, 50 + seed * 40);
		for (int col = 0; col < 2; col++) {
			struct flamebearer fb;
			struct err e = ERR_INIT;
			int64_t sum;
			assert_int_equal(flamebearer_build(&fb, p, col, 0, &e), 0);
			check_oracles(&fb);
			char *got = decode(&fb, 0, true, &sum), *want = expected(p, col);
			assert_string_equal(got, want);
			assert_int_equal(sum, fb.total);
			assert_int_equal(fb.total, profile_total(p, col));
			free(got);
			free(want);
			flamebearer_release(&fb);
		}
		profile_free(p);
	}
}

static size_t count_other(const struct flamebearer *fb, int64_t *per_parent_max)
{
	size_t n = 0;
	int64_t other = strtab_find(&fb->names, FLAMEBEARER_OTHER, strlen(FLAMEBEARER_OTHER));

	*per_parent_max = 0;
	for (size_t d = 1; d < fb->nlevels; d++) {
		/* every "other" in a level lies under a distinct parent: count them per parent span */
		const struct fb_level *l = &fb->levels[d], *up = &fb->levels[d - 1];
		int64_t c = 0, pc = 0;
		size_t w = fb->diff ? 7 : 4;
		int64_t *px = calloc(up->nr / w + 1, sizeof(*px)), *cnt = calloc(up->nr / w + 1, sizeof(*cnt));
		for (size_t k = 0; k < up->nr; k += w) {
			px[k / w] = pc + up->v[k];
			pc = px[k / w] + up->v[k + 1];
		}
		for (size_t k = 0; k < l->nr; k += w) {
			int64_t x = c + l->v[k];
			c = x + l->v[k + 1];
			if (l->v[k + w - 1] != other)
				continue;
			n++;
			for (size_t q = 0; q < up->nr / w; q++)
				if (x >= px[q] && x < px[q] + up->v[q * w + 1] && ++cnt[q] > *per_parent_max)
					*per_parent_max = cnt[q];
		}
		free(px);
		free(cnt);
	}
	return n;
}

static void test_flamebearer_truncate(void **state)
{
	(void)state;
	for (unsigned seed = 1; seed <= 10; seed++) {
		struct profile *p = random_profile(seed, 400);
		struct flamebearer full, cut, same;
		struct err e = ERR_INIT;
		int64_t sum, most;
		assert_int_equal(flamebearer_build(&full, p, 1, 0, &e), 0);
		/* maxNodes at the tree's size (root excluded) truncates nothing */
		assert_int_equal(flamebearer_build(&same, p, 1, (int64_t)full.nodes - 1, &e), 0);
		assert_int_equal(count_other(&same, &most), 0);
		assert_int_equal(same.nodes, full.nodes);
		for (int64_t max = 1; max < 64; max *= 2) {
			assert_int_equal(flamebearer_build(&cut, p, 1, max, &e), 0);
			check_oracles(&cut);
			char *got = decode(&cut, 0, true, &sum);
			free(got);
			assert_int_equal(sum, full.total);
			assert_int_equal(cut.total, full.total);
			assert_true(count_other(&cut, &most) > 0);
			assert_true(most <= 1);
			assert_true(cut.nodes < full.nodes);
			flamebearer_release(&cut);
		}
		flamebearer_release(&same);
		flamebearer_release(&full);
		profile_free(p);
	}
}

static void test_flamebearer_diff(void **state)
{
	(void)state;
	for (unsigned seed = 1; seed <= 10; seed++) {
		struct profile *l = random_profile(seed, 200), *r = random_profile(seed + 100, 150);
		struct flamebearer fb, self;
		struct err e = ERR_INIT;
		int64_t lsum, rsum;
		assert_int_equal(flamebearer_build_diff(&fb, l, 1, r, 1, 0, &e), 0);
		check_oracles(&fb);
		char *lgot = decode(&fb, 0, false, &lsum), *rgot = decode(&fb, 1, false, &rsum);
		char *lwant = expected(l, 1), *rwant = expected(r, 1);
		assert_string_equal(lgot, lwant);
		assert_string_equal(rgot, rwant);
		assert_int_equal(lsum, fb.left_ticks);
		assert_int_equal(rsum, fb.right_ticks);
		assert_int_equal(fb.total, fb.left_ticks + fb.right_ticks);
		assert_int_equal(fb.left_ticks, profile_total(l, 1));
		free(lgot), free(rgot), free(lwant), free(rwant);
		/* a selection diffed with itself: both sides equal everywhere */
		assert_int_equal(flamebearer_build_diff(&self, l, 1, l, 1, 30, &e), 0);
		for (size_t d = 0; d < self.nlevels; d++)
			for (size_t k = 0; k < self.levels[d].nr; k += 7)
				assert_memory_equal(self.levels[d].v + k, self.levels[d].v + k + 3, 3 * sizeof(int64_t));
		flamebearer_release(&self);
		flamebearer_release(&fb);
		profile_free(l);
		profile_free(r);
	}
}

static void test_flamebearer_empty_and_negative(void **state)
{
	struct profile *p = profile_new(0);
	struct flamebearer fb;
	struct err e = ERR_INIT;

	(void)state;
	assert_int_equal(flamebearer_build(&fb, p, -1, 0, &e), 0);
	assert_int_equal(fb.names.nr, 1);
	assert_int_equal(fb.nlevels, 1);
	assert_int_equal(fb.levels[0].nr, 4);
	assert_int_equal(fb.total, 0);
	flamebearer_release(&fb);
	profile_add_column(p, "cpu", "nanoseconds");
	profile_add_sample1(p, 0, 0, 5); /* an empty stack */
	profile_add_sample1(p, stack(p, "a"), 0, -3);
	assert_int_equal(flamebearer_build(&fb, p, -1, 0, &e), -1);
	assert_non_null(strstr(e.msg, "negative"));
	profile_free(p);
	p = profile_new(0);
	profile_add_column(p, "cpu", "nanoseconds");
	profile_add_sample1(p, 0, 0, 5);
	assert_int_equal(flamebearer_build(&fb, p, -1, 0, &e), 0);
	assert_int_equal(fb.total, 5);
	assert_int_equal(fb.nlevels, 2);
	flamebearer_release(&fb);
	profile_free(p);
}

static void test_timeline(void **state)
{
	struct store_point pts[] = { { 1765000005LL * 1000000000, 3000000000 }, { 1764998000LL * 1000000000, 7 } };
	struct buf b = BUF_INIT;
	struct jw j;

	(void)state;
	assert_int_equal(timeline_step(0, 3600 * 1000), 15);
	assert_int_equal(timeline_step(0, 86400 * 1000), 60);
	assert_int_equal(timeline_step(0, 7 * 86400 * 1000LL), 300);
	assert_int_equal(timeline_step(0, 1200 * 1000), 15);
	jw_init(&j, &b, false);
	timeline_write_json(&j, 1764999000000, 1765000200000, 15, pts, 2);
	/* 11.1: 80 samples, all 0 but samples[67] */
	struct buf want = BUF_INIT;
	buf_adds(&want, "{\"startTime\":1764999000,\"samples\":[");
	for (int i = 0; i < 80; i++)
		buf_addf(&want, "%s%s", i ? "," : "", i == 67 ? "3000000000" : "0");
	buf_adds(&want, "],\"durationDelta\":15,\"watermarks\":null}");
	assert_string_equal(b.buf, want.buf);
	buf_release(&b);
	buf_release(&want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_selector_match),
		cmocka_unit_test(test_selector_errors),
		cmocka_unit_test(test_profile_type),
		cmocka_unit_test(test_flamebearer_example),
		cmocka_unit_test(test_flamebearer_round_trip),
		cmocka_unit_test(test_flamebearer_truncate),
		cmocka_unit_test(test_flamebearer_diff),
		cmocka_unit_test(test_flamebearer_empty_and_negative),
		cmocka_unit_test(test_timeline),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
