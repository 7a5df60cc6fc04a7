/* Test program for kiln profile --mode mem --push: a thread that allocates slowly, two 1 KiB blocks in
 * small_block() then a 1 ms sleep, for SECONDS seconds (about 1.6 MB/s). Usage: push_slow SECONDS */
#include <stdlib.h>
#include <time.h>

static void *volatile sink;

__attribute__((noinline)) static void small_block(void)
{
	char *p = malloc(1024);
	if (p)
		p[0] = 1;
	sink = p;
	free(p);
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 4;
	struct timespec tick = { 0, 1000000 }, t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		small_block();
		small_block();
		nanosleep(&tick, NULL);
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) * 1e-9 < secs);
	return 0;
}
