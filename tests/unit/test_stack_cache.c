/*
 * Unit tests for kiln serve's folded-stack cache (src/server/stack_cache.c): a body that the cache reads must
 * give exactly the stored pairs that the full path gives (the folded reader, then store_encode), whatever its
 * lines hold; a line the cache cannot read as the reader does makes the body take the full path; tenants do
 * not share entries; a full cache keeps its entries, learns no more, and stays correct.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "formats/format.h"
#include "formats/input.h"
#include "profile/profile.h"
#include "server/stack_cache.h"
#include "server/store.h"
#include "server/store_impl.h"

static const struct label_pair labels[] = { { "service_name", "app" } };

/* Stacks whose folded text the reader takes apart in every way it can: blanks inside names, empty frames,
 * kind suffixes, numbers as names, and lines that are not plain (a second count, a tab, CR, a fraction, 0). */
static const char *const pool[] = {
	"main;a;b", "main;a;c", "main;a", "main", "main;a b;c", " main;a", "main;;a", ";main;a", "main;a;",
	"main;f_[k]", "main;f_[j];g_[i]", "main;123", "main;x 7y", "main;é;ü", "main;a;b;c;d;e;f;g;h;i;j;k",
	"main;a;b 3", "main;t\tab", "main;cr\r", "main;a;b;c 0.5", "main;z 0", "main;a;;;b", "m;n;o;p",
};

/* "main;x 7y" is read by the reader as one count, but the cache does not tell "7y" from a count: not plain. */
static int plain_in_pool(size_t k)
{
	return (k < 15 && k != 12) || k == 20 || k == 21;
}

/* A body of `n` lines drawn from the pool (plain ones only when `plain`), with counts 1..9 unless the pool
 * line ends in its own count; whether all its lines are plain. */
static int make_body(struct buf *b, unsigned *seed, size_t n, int plain)
{
	int all = 1;

	buf_reset(b);
	for (size_t i = 0; i < n; i++) {
		size_t k;

		/* half the lines from a pool of 900 plain stacks, learned over many bodies */
		if (rand_r(seed) % 2) {
			buf_addf(b, "main;g%d;h%d %d\n", rand_r(seed) % 30, rand_r(seed) % 30, 1 + rand_r(seed) % 9);
			continue;
		}
		do
			k = (size_t)rand_r(seed) % (sizeof(pool) / sizeof(pool[0]));
		while (plain && !plain_in_pool(k));
		all &= plain_in_pool(k);
		if (k == 18 || k == 19)
			buf_addf(b, "%s\n", pool[k]);
		else
			buf_addf(b, "%s %d\n", pool[k], 1 + rand_r(seed) % 9);
	}
	return all;
}

/* The full path: the folded reader, then store_encode's pairs. -1 when the reader refuses the body. */
static int full_pairs(const struct buf *b, struct profile **pp, struct store_enc *enc)
{
	struct profile *p = profile_new(0);
	struct err e = ERR_INIT;
	struct input in;
	int rc;

	input_from_memory(&in, b->buf, b->len, "body");
	rc = format_by_name("folded")->read(p, &in, &(struct format_read_opts){ 0 }, &e);
	input_close(&in);
	if (rc) {
		profile_free(p);
		return -1;
	}
	rc = store_encode(&(struct store_write){ .tenant = "", .profile_type = "t:s:c:s:c", .labels = labels,
						 .nlabels = 1, .prof = p, .column = profile_default_column(p) },
			  enc, &e);
	assert_int_equal(rc, 0);
	*pp = p;
	return 0;
}

static void assert_same_pairs(const struct store_pair *v, size_t n, const struct store_enc *enc)
{
	assert_int_equal(n, enc->npairs);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(v[i].stack, enc->pairs[i].stack);
		assert_int_equal(v[i].value, enc->pairs[i].value);
	}
}

/* A lookup that found every line of the body. */
static int lookup_all(struct stack_cache *c, int64_t tenant, const struct buf *b, struct store_pair **v, size_t *n)
{
	struct buf missed = BUF_INIT;
	int found = stack_cache_lookup(c, tenant, b->buf, b->len, v, n, &missed);
	int all = found > 0 && !missed.len;

	if (!all) {
		free(*v);
		*v = NULL;
	}
	buf_release(&missed);
	return all;
}

/*
 * A body of which the cache found some lines: the pairs it found with the full path's pairs of the lines it did
 * not find are, merged, the full path's pairs of the whole body.
 */
static int assert_split_equals_full(struct stack_cache *c, const struct buf *b, const struct store_enc *want)
{
	struct buf missed = BUF_INIT;
	struct store_pair *v = NULL;
	size_t n;
	int found = stack_cache_lookup(c, 1, b->buf, b->len, &v, &n, &missed), split = found > 0 && missed.len;

	if (split) {
		struct profile *p;
		struct store_enc rest, both;
		struct err e = ERR_INIT;

		assert_int_equal(full_pairs(&missed, &p, &rest), 0);
		/* the missed lines' profile and the found pairs, as the ingest writes them */
		assert_int_equal(store_encode(&(struct store_write){ .tenant = "", .profile_type = "t:s:c:s:c",
								     .labels = labels, .nlabels = 1, .prof = p,
								     .column = profile_default_column(p), .pairs = v,
								     .npairs = n }, &both, &e), 0);
		assert_same_pairs(both.pairs, both.npairs, want);
		store_enc_release(&rest);
		store_enc_release(&both);
		profile_free(p);
	}
	free(v);
	buf_release(&missed);
	return split;
}

/* The stacks of the lines learned so far, to know what a lookup must find. */
static char *known[2048];
static size_t nknown;

/* How many of a plain body's lines have a stack learned before; with `add`, learns them. */
static size_t count_known(const struct buf *b, int add)
{
	size_t found = 0;

	for (const char *l = b->buf, *nl; l < b->buf + b->len; l = nl + 1) {
		const char *sp;
		size_t k;

		nl = memchr(l, '\n', (size_t)(b->buf + b->len - l));
		sp = memrchr(l, ' ', (size_t)(nl - l));
		for (k = 0; k < nknown && (strlen(known[k]) != (size_t)(sp - l) || memcmp(known[k], l, (size_t)(sp - l)));
		     k++)
			;
		found += k < nknown;
		if (add && k == nknown && nknown < 2048)
			known[nknown++] = strndup(l, (size_t)(sp - l));
	}
	return found;
}

static void test_cache_equals_full_path(void **state)
{
	struct stack_cache *c = stack_cache_new(1 << 16);
	struct buf b = BUF_INIT;
	unsigned seed = 7;
	size_t hits = 0, plain_hits = 0, splits = 0;

	(void)state;
	for (int round = 0; round < 600; round++) {
		int plain;
		struct profile *p;
		struct store_enc enc;
		struct store_pair *v;
		size_t n;

		plain = make_body(&b, &seed, 1 + (size_t)rand_r(&seed) % 12, round % 2);
		if (full_pairs(&b, &p, &enc))
			continue;
		if (plain) {
			/* exactly the lines whose stacks were learned are found */
			struct buf missed = BUF_INIT;
			struct store_pair *w = NULL;
			size_t lines = count_known(&b, 0), m;

			assert_int_equal(stack_cache_lookup(c, 1, b.buf, b.len, &w, &m, &missed), (int)lines);
			assert_int_equal(count_known(&missed, 0), 0);
			free(w);
			buf_release(&missed);
		}
		if (lookup_all(c, 1, &b, &v, &n)) {
			/* exactly the full path's pairs: same stack ids, same summed counts */
			assert_same_pairs(v, n, &enc);
			free(v);
			hits++;
			plain_hits += plain;
		} else {
			splits += (size_t)assert_split_equals_full(c, &b, &enc);
		}
		stack_cache_learn(c, 1, b.buf, b.len, p);
		if (plain)
			count_known(&b, 1);
		store_enc_release(&enc);
		profile_free(p);
	}
	/* once learned, plain bodies are read by the cache; bodies with other lines never are */
	assert_true(hits == plain_hits);
	assert_true(hits > 20);
	assert_true(splits > 10); /* bodies of which some lines were found */
	assert_true(stack_cache_size(c) > 0);
	buf_release(&b);
	stack_cache_free(c);
	while (nknown)
		free(known[--nknown]);
}

static int lookup_after_learning(struct stack_cache *c, int64_t tenant, const char *text)
{
	struct buf b = BUF_INIT;
	struct profile *p;
	struct store_enc enc;
	struct store_pair *v = NULL;
	size_t n;
	int hit;

	buf_adds(&b, text);
	assert_int_equal(full_pairs(&b, &p, &enc), 0);
	stack_cache_learn(c, 1, b.buf, b.len, p);
	hit = lookup_all(c, tenant, &b, &v, &n);
	if (hit)
		assert_same_pairs(v, n, &enc);
	free(v);
	store_enc_release(&enc);
	profile_free(p);
	buf_release(&b);
	return hit;
}

static void test_lines_that_are_not_plain(void **state)
{
	struct stack_cache *c = stack_cache_new(1024);

	(void)state;
	assert_true(lookup_after_learning(c, 1, "main;a 5\nmain;b 7\n\nmain;a 1"));
	/* the reader's other cases: two counts, blanks before the count, a tab, CR, a fraction, a zero */
	assert_false(lookup_after_learning(c, 1, "main;a 5\nmain;b 3 7\n"));
	assert_false(lookup_after_learning(c, 1, "main;a  5\n"));
	assert_false(lookup_after_learning(c, 1, "main;a\t5\n"));
	assert_false(lookup_after_learning(c, 1, "main;a 5\r\n"));
	assert_false(lookup_after_learning(c, 1, "main;a 5.5\n"));
	assert_false(lookup_after_learning(c, 1, "main;a 5\nmain;b 0\n"));
	assert_false(lookup_after_learning(c, 1, "main;a 5 \n"));
	/* another tenant's entries are not this one's */
	assert_false(lookup_after_learning(c, 2, "main;c 5\n"));
	assert_true(lookup_after_learning(c, 1, "main;c 5\n"));
	stack_cache_free(c);
}

static void test_full_cache_stays_right(void **state)
{
	struct stack_cache *c = stack_cache_new(1000); /* of the 2,500 texts below */
	struct buf b = BUF_INIT;
	size_t hits = 0;

	(void)state;
	for (int i = 0; i < 20000; i++) {
		struct profile *p;
		struct store_enc enc;
		struct store_pair *v;
		size_t n;

		buf_reset(&b);
		buf_addf(&b, "main;f%d;g %d\nmain;h%d %d\n", i % 1500, 1 + i % 5, i % 1000, 2);
		assert_int_equal(full_pairs(&b, &p, &enc), 0);
		if (lookup_all(c, 1, &b, &v, &n)) {
			assert_same_pairs(v, n, &enc);
			free(v);
			hits++;
		} else {
			assert_split_equals_full(c, &b, &enc);
		}
		stack_cache_learn(c, 1, b.buf, b.len, p);
		store_enc_release(&enc);
		profile_free(p);
	}
	assert_int_equal(stack_cache_size(c), 1000);
	assert_true(hits > 0);
	buf_release(&b);
	stack_cache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cache_equals_full_path),
		cmocka_unit_test(test_lines_that_are_not_plain),
		cmocka_unit_test(test_full_cache_stays_right),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
