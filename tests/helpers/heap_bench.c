/*
 * Heap profiler benchmark target. Usage: heap_bench alloc|cpu [THREADS] [SCALE]
 *   alloc  allocation-bound: each thread keeps a window of live blocks and replaces them (malloc/free of
 *          8..1024 bytes), SCALE million operations per thread
 *   cpu    CPU-bound: arithmetic with an allocation now and then, SCALE units of work per thread
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WINDOW 1024

static long scale = 2;
static int cpu_mode;
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
		win[slot] = malloc(8 + (x >> 20) % 1017);
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
		fprintf(stderr, "usage: heap_bench alloc|cpu [THREADS] [SCALE]\n");
		return 2;
	}
	cpu_mode = !strcmp(argv[1], "cpu");
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
	return 0;
}
