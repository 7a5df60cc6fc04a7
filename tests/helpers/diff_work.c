/*
 * Two versions of one program for kiln diff's tests: `hot` does HOT units of work and `steady` STEADY units, each
 * unit the same loop, so "diff_work 150 10" against "diff_work 10 10" is an 8x faster version in which `steady`
 * did not change at all (its share grows from 6 % to 50 %). At exit it prints "cpu SECONDS" (user + system time
 * of the process from getrusage) on stderr: the ground truth for the reported speed-up.
 *
 *   diff_work HOT STEADY [UNIT_ITERATIONS]   (default unit: 1,000,000 iterations, about 5 ms)
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

static volatile double sink;
static long unit = 1000000;

/* The same loop in both functions, as a macro: an inlined helper would be a frame of its own in the profile. */
#define WORK(units)                                                    \
	do {                                                           \
		double x = 1.0;                                        \
		for (long u = 0; u < (units); u++)                     \
			for (long i = 0; i < unit; i++)                \
				x = x * 1.0000001 + 0.5 / (x + 1.0);  \
		sink += x;                                             \
	} while (0)

__attribute__((noinline)) static void hot(long units) { WORK(units); }
__attribute__((noinline)) static void steady(long units) { WORK(units); }

int main(int argc, char **argv)
{
	struct rusage ru;

	if (argc < 3) {
		fprintf(stderr, "usage: diff_work HOT STEADY [UNIT_ITERATIONS]\n");
		return 2;
	}
	if (argc > 3)
		unit = atol(argv[3]);
	hot(atol(argv[1]));
	steady(atol(argv[2]));
	getrusage(RUSAGE_SELF, &ru);
	fprintf(stderr, "cpu %.6f\n", ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
					     ru.ru_stime.tv_usec / 1e6);
	return 0;
}
