/*
 * The pair of programs the docs benchmark as ./old and ./new: the same sort of 12,000 pseudo-random numbers,
 * by insertion sort (built with -DOLD) or by the C library's qsort. The docs' tests build both from this file.
 * Build: cc -O2 -DOLD -o old examples/sort.c && cc -O2 -o new examples/sort.c
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define N 12000

static int cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

int main(void)
{
	static uint32_t v[N];
	uint32_t r = 2463534242u;
	size_t i;

	for (i = 0; i < N; i++) {
		r ^= r << 13;
		r ^= r >> 17;
		r ^= r << 5;
		v[i] = r;
	}
#ifdef OLD
	for (i = 1; i < N; i++) {
		uint32_t x = v[i];
		size_t j = i;

		for (; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
#else
	qsort(v, N, sizeof(v[0]), cmp);
#endif
	printf("min %u, median %u, max %u\n", v[0], v[N / 2], v[N - 1]);
	return 0;
}
