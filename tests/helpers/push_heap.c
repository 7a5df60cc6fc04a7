/* Test program for kiln profile --mode mem --push: holds HOLD_MIB MiB in 64 KiB blocks allocated by
 * hold_blocks() for its whole run (freed at the end), and allocates and frees RATE_MIB MiB per second in
 * churn_block() (64 KiB blocks, paced by the clock) for SECONDS seconds. On stderr: "churn BYTES SECONDS", the
 * bytes churn_block() allocated and over how long. Usage: push_heap SECONDS RATE_MIB HOLD_MIB */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BLOCK (64 * 1024)

static void *volatile sink;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

__attribute__((noinline)) static void *hold_blocks(size_t n)
{
	void **v = calloc(n, sizeof(*v));
	for (size_t i = 0; v && i < n; i++) {
		v[i] = malloc(BLOCK);
		if (v[i])
			memset(v[i], 1, 64);
	}
	return v;
}

__attribute__((noinline)) static void churn_block(void)
{
	char *p = malloc(BLOCK);
	if (p)
		p[0] = 1;
	sink = p;
	free(p);
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 3, rate = (argc > 2 ? atof(argv[2]) : 64) * 1048576;
	size_t nhold = (size_t)((argc > 3 ? atof(argv[3]) : 32) * 1048576 / BLOCK);
	void **held = hold_blocks(nhold);
	double t0 = now_s(), t;
	unsigned long long bytes = 0;
	struct timespec tick = { 0, 5000000 };

	while ((t = now_s() - t0) < secs) {
		while ((double)bytes < rate * t) {
			churn_block();
			bytes += BLOCK;
		}
		nanosleep(&tick, NULL);
	}
	fprintf(stderr, "churn %llu %.3f\n", bytes, now_s() - t0);
	for (size_t i = 0; held && i < nhold; i++)
		free(held[i]);
	free(held);
	return 0;
}
