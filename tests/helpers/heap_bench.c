/*
 * Heap profiler benchmark target. Usage: heap_bench alloc|fill|cpu [THREADS] [SCALE]
 *   alloc  allocation-bound: each thread keeps a window of live blocks and replaces them (malloc/free of
 *          8..1024 bytes), SCALE million operations per thread, writing one byte of each block
 *   fill   the same, writing the whole block, as a program stores what it allocates memory for
 *   cpu    CPU-bound: arithmetic with an allocation now and then, SCALE units of work per thread
 * With HEAP_BENCH_ELAPSED set, prints "elapsed_ns N" on stderr: the program's own time from the start of main
 * to the end of its work, which a profiler's start-up and end-of-run processing do not include, and
 * "cpu_ns N": the CPU time the process used until then (its threads and any hooks in them; a host's other
 * guests, which slow the wall clock, do not count).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WINDOW 1024

static long scale = 2;
static int cpu_mode, fill;
static volatile uint64_t result;

static void *alloc_work(void *arg)
{
	void *win[WINDOW] = { 0 };
	uint64_t x = (uintptr_t)arg * 2654435761u + 1;
	long ops = scale * 1000000;
	for (long i = 0; i < ops; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		size_t slot = x % WINDOW;
		free(win[slot]);
		size_t n = 8 + (x >> 20) % 1017;
		win[slot] = malloc(n);
		if (fill)
			memset(win[slot], (int)i, n);
		else
			*(char *)win[slot] = (char)i;
	}
	for (int i = 0; i < WINDOW; i++)
		free(win[i]);
	return NULL;
}

static void *cpu_work(void *arg)
{
	uint64_t x = (uintptr_t)arg + 1, acc = 0;
	long units = scale * 100;
	for (long u = 0; u < units; u++) {
		for (int i = 0; i < 1000000; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			acc += x % 1000003;
		}
		char *p = malloc(256);
		memset(p, (int)acc, 256);
		acc += (unsigned char)p[17];
		free(p);
	}
	result += acc;
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: heap_bench alloc|fill|cpu [THREADS] [SCALE]\n");
		return 2;
	}
	struct timespec t0, t1, c0, c1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
	cpu_mode = !strcmp(argv[1], "cpu");
	fill = !strcmp(argv[1], "fill");
	int n = argc > 2 ? atoi(argv[2]) : 1;
	if (argc > 3)
		scale = atol(argv[3]);
	if (n < 1 || n > 64)
		n = 1;
	pthread_t t[64];
	for (long i = 0; i < n; i++)
		pthread_create(&t[i], NULL, cpu_mode ? cpu_work : alloc_work, (void *)i);
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
	if (getenv("HEAP_BENCH_ELAPSED"))
		fprintf(stderr, "elapsed_ns %lld\ncpu_ns %lld\n",
			(long long)(t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec),
			(long long)(c1.tv_sec - c0.tv_sec) * 1000000000LL + (c1.tv_nsec - c0.tv_nsec));
	return 0;
}
