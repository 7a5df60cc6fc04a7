/*
 * A recursive program whose leaf is the hotspot, for checking that `kiln analyze` follows the hot path through
 * recursion: each round, walk() recurses 20 to 30 levels deep doing a little work of its own at every level,
 * and at the bottom calls leaf_work(), which takes about LEAF_PCT (default 60) percent of the CPU time. The
 * truth is measured, not assumed: leaf_work's thread CPU time over the process's, printed as
 * "share leaf_work PERCENT" at the end.
 *
 *   recurse_hot [SECONDS [LEAF_PCT]]     (default 1.5 s, 60 %)
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static volatile double sink;
static double leaf_seconds;

static double thread_cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A macro, not a function: an inlined function would be a frame of its own in the profile (DWARF inlines). */
#define SPIN(n, x)                                            \
	do {                                                  \
		for (long i_ = 0; i_ < (n); i_++)             \
			(x) = (x) * 1.0000001 + 0.5 / ((x) + 1.0); \
	} while (0)

__attribute__((noinline)) static void leaf_work(long n)
{
	double x = 1.0;

	SPIN(n, x);
	sink = x;
}

/* Not a tail call: the result is used after the recursive call, so every level keeps its frame. */
__attribute__((noinline)) static double walk(int depth, long own, long leaf)
{
	double x = (double)depth, r;

	SPIN(own, x);
	if (depth == 0) {
		double t0 = thread_cpu();

		leaf_work(leaf);
		leaf_seconds += thread_cpu() - t0;
		return x;
	}
	r = walk(depth - 1, own, leaf);
	__asm__ volatile("" : "+x"(r));
	return r + x;
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 1.5, leaf_pct = argc > 2 ? atof(argv[2]) : 60;
	double start, t, per_iter, x = 1.0;
	long leaf, own;
	int round = 0;

	/* Iterations per second of spin(), so that a round takes about 2 ms. */
	t = thread_cpu();
	SPIN(2000000, x);
	sink = x;
	per_iter = (thread_cpu() - t) / 2000000;
	if (per_iter <= 0)
		per_iter = 1e-9;
	leaf = (long)(0.002 * leaf_pct / 100 / per_iter);
	own = (long)(0.002 * (100 - leaf_pct) / 100 / per_iter / 26); /* 26 levels on average, 0 included */

	start = thread_cpu();
	leaf_seconds = 0;
	while ((t = thread_cpu() - start) < seconds) {
		sink += walk(20 + round++ % 11, own, leaf);
		/* The calibration is rough (call overhead, clock reads): steer the leaf's work towards its share. */
		if (round % 16 == 0 && t > 0)
			leaf = (long)((double)leaf * (100 * leaf_seconds / t < leaf_pct ? 1.03 : 0.97));
	}
	printf("share leaf_work %.2f\n", 100 * leaf_seconds / (thread_cpu() - start));
	printf("rounds %d\n", round);
	return 0;
}
