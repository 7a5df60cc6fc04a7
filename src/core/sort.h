/*
 * An in-place sort by an integer key, generated per type: a profile's pairs are sorted for every request of
 * kiln serve's ingest, where qsort's call per comparison and its merge buffer (malloc'd above a size) were
 * several percent of the server's CPU.
 *
 *   SORT_BY_KEY(sort_pairs, struct store_pair, stack)  defines  static void sort_pairs(struct store_pair *, size_t)
 *
 * Quicksort on the median of three, insertion sort below 16 elements, the smaller side first (the depth of
 * its stack of pending ranges stays under 64); not stable.
 */
#ifndef KILN_CORE_SORT_H
#define KILN_CORE_SORT_H

#include <stddef.h>

#define SORT_BY_KEY(name, type, key)                                                               \
	static void name(type *v, size_t n)                                                         \
	{                                                                                           \
		size_t lo_stack[64], hi_stack[64], depth = 0, lo = 0, hi = n;                       \
                                                                                                    \
		for (;;) {                                                                          \
			while (hi - lo > 16) {                                                      \
				size_t mid = lo + (hi - lo) / 2, i = lo, j = hi - 1;                \
				type t, pivot;                                                      \
                                                                                                    \
				if (v[mid].key < v[lo].key)                                         \
					t = v[mid], v[mid] = v[lo], v[lo] = t;                      \
				if (v[hi - 1].key < v[lo].key)                                      \
					t = v[hi - 1], v[hi - 1] = v[lo], v[lo] = t;                \
				if (v[hi - 1].key < v[mid].key)                                     \
					t = v[hi - 1], v[hi - 1] = v[mid], v[mid] = t;              \
				pivot = v[mid];                                                     \
				for (;;) {                                                          \
					while (v[i].key < pivot.key)                                \
						i++;                                                \
					while (pivot.key < v[j].key)                                \
						j--;                                                \
					if (i >= j)                                                 \
						break;                                              \
					t = v[i], v[i] = v[j], v[j] = t;                            \
					i++, j--;                                                   \
				}                                                                   \
				/* [lo, j] <= pivot <= [j + 1, hi) */                               \
				if (j + 1 - lo < hi - (j + 1)) {                                    \
					lo_stack[depth] = j + 1, hi_stack[depth++] = hi;            \
					hi = j + 1;                                                 \
				} else {                                                            \
					lo_stack[depth] = lo, hi_stack[depth++] = j + 1;            \
					lo = j + 1;                                                 \
				}                                                                   \
			}                                                                           \
			for (size_t a = lo + 1; a < hi; a++) {                                      \
				type t = v[a];                                                      \
				size_t b = a;                                                       \
                                                                                                    \
				for (; b > lo && t.key < v[b - 1].key; b--)                         \
					v[b] = v[b - 1];                                            \
				v[b] = t;                                                           \
			}                                                                           \
			if (!depth)                                                                 \
				return;                                                             \
			depth--;                                                                    \
			lo = lo_stack[depth], hi = hi_stack[depth];                                 \
		}                                                                                   \
	}

#endif
