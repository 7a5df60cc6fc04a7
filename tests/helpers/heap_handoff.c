/*
 * Heap profiler target: one thread allocates 100,000-byte blocks and hands them over, through 8 slots, to
 * another that frees them (5,000 blocks, 500 MB in all). At most 9 blocks are live at once, so the heap's
 * peak is under 1 MB: a profiler that applies the freeing thread's events late sees a peak in the hundreds of
 * megabytes. Usage: heap_handoff
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SLOTS 8
#define BLOCKS 5000

static void *_Atomic slots[SLOTS];

static void *consumer(void *arg)
{
	(void)arg;
	for (long n = 0; n < BLOCKS;) {
		for (int i = 0; i < SLOTS; i++) {
			void *p = __atomic_exchange_n(&slots[i], NULL, __ATOMIC_ACQ_REL);
			if (p) {
				free(p);
				n++;
			}
		}
	}
	return NULL;
}

int main(void)
{
	pthread_t t;
	if (pthread_create(&t, NULL, consumer, NULL) != 0)
		return 1;
	for (long n = 0; n < BLOCKS; n++) {
		void *p = malloc(100000);
		if (!p)
			return 1;
		memset(p, 1, 64);
		void *expected = NULL;
		while (!__atomic_compare_exchange_n(&slots[n % SLOTS], &expected, p, 0, __ATOMIC_ACQ_REL,
						    __ATOMIC_ACQUIRE)) {
			expected = NULL;
			usleep(10);
		}
	}
	pthread_join(t, NULL);
	return 0;
}
