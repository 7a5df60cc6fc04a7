/*
 * Heap profiler target with threads: each worker allocates and frees in a loop, hands blocks to the next
 * worker to free (cross-thread frees), and leaks exactly one 333-byte block. Usage: heap_threads [THREADS]
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROUNDS 20000
#define SLOTS 64

static void *volatile sink;
static void *_Atomic handoff[SLOTS];

__attribute__((noinline)) static void thread_leak(void)
{
	sink = malloc(333);
}

static void *worker(void *arg)
{
	long id = (long)arg;
	for (int i = 0; i < ROUNDS; i++) {
		void *p = malloc(16 + (size_t)(i % 200));
		memset(p, (int)id, 16);
		/* Swap with a shared slot: whatever was there was allocated by some thread; free it here. */
		void *old = __atomic_exchange_n(&handoff[(i * 7 + id) % SLOTS], p, __ATOMIC_ACQ_REL);
		free(old);
		void *volatile q = calloc(1, 64); /* volatile: the compiler must not drop the pair */
		free(q);
	}
	thread_leak();
	return NULL;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 4;
	pthread_t t[64];
	if (n < 1 || n > 64)
		n = 4;
	for (long i = 0; i < n; i++)
		pthread_create(&t[i], NULL, worker, (void *)i);
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < SLOTS; i++)
		free(handoff[i]);
	printf("threads %d\n", n);
	return 0;
}
