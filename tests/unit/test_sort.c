/* Unit tests for SORT_BY_KEY (src/core/sort.h): the same order of keys as qsort on random, sorted, reversed,
 * constant and few-valued arrays of every length up to 300, each element kept. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/sort.h"

struct kv {
	int64_t k, v;
};

SORT_BY_KEY(sort_kv, struct kv, k)

static int kv_cmp(const void *a, const void *b)
{
	const struct kv *x = a, *y = b;

	if (x->k != y->k)
		return x->k < y->k ? -1 : 1;
	return x->v < y->v ? -1 : x->v > y->v;
}

static void test_sort_like_qsort(void **state)
{
	struct kv a[300], b[300];
	unsigned seed = 1;

	(void)state;
	for (int shape = 0; shape < 5; shape++) {
		for (size_t n = 0; n <= 300; n++) {
			for (size_t i = 0; i < n; i++) {
				int64_t r = (int64_t)rand_r(&seed) << 20 ^ rand_r(&seed);

				a[i].k = shape == 0 ? r : shape == 1 ? (int64_t)i : shape == 2 ? (int64_t)(n - i) :
					 shape == 3 ? 7 : r % 5 - 2;
				a[i].v = (int64_t)i;
			}
			memcpy(b, a, n * sizeof(*a));
			sort_kv(a, n);
			qsort(b, n, sizeof(*b), kv_cmp);
			for (size_t i = 0; i < n; i++)
				assert_int_equal(a[i].k, b[i].k);
			/* a permutation: every element once (the values are the original positions) */
			qsort(a, n, sizeof(*a), kv_cmp);
			for (size_t i = 0; i < n; i++)
				assert_int_equal(a[i].v, b[i].v);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sort_like_qsort),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
