/* Hot code inside an always-inlined function, for checking inlined frames with file:line. */
#include <stdlib.h>
#include <time.h>

static volatile double sink;

static inline __attribute__((always_inline)) double inl_mix(double x)
{
	for (int i = 0; i < 20000; i++)
		x = x * 1.0000001 + 0.5 / (x + 1.0);
	return x;
}

__attribute__((noinline)) static void outer_loop(double sec)
{
	struct timespec ts;
	double end, now, x = 1.0;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	end = ts.tv_sec + ts.tv_nsec / 1e9 + sec;
	do {
		x = inl_mix(x);
		sink = x;
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
		now = ts.tv_sec + ts.tv_nsec / 1e9;
	} while (now < end);
}

int main(int argc, char **argv)
{
	outer_loop(argc > 1 ? atof(argv[1]) : 0.5);
	return 0;
}
