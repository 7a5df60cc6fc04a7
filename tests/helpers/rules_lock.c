/* Test program for kiln analyze's off-CPU rules: THREADS threads (default 4) fight over one pthread mutex,
 * ROUNDS times each (default 20): each holds it for ~HOLD_US microseconds (default 20000, a busy loop in
 * critical()), then works a quarter of that outside it, so that at any time all but one are blocked in
 * pthread_mutex_lock. Usage: rules_lock [ROUNDS [HOLD_US [THREADS]]] */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static long rounds = 20, hold_us = 20000;
static volatile unsigned long counter;

static long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000L + ts.tv_nsec / 1000;
}

__attribute__((noinline)) static void spin(long us)
{
	long end = now_us() + us;

	while (now_us() < end)
		counter++;
}

__attribute__((noinline)) static void critical(void)
{
	spin(hold_us);
}

__attribute__((noinline)) static void *worker(void *arg)
{
	(void)arg;
	for (long i = 0; i < rounds; i++) {
		pthread_mutex_lock(&mu);
		critical();
		pthread_mutex_unlock(&mu);
		spin(hold_us / 4);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t[16];
	long n = 4;

	if (argc > 1)
		rounds = atol(argv[1]);
	if (argc > 2)
		hold_us = atol(argv[2]);
	if (argc > 3)
		n = atol(argv[3]);
	if (n < 1 || n > 16)
		return 2;
	for (long i = 0; i < n; i++)
		if (pthread_create(&t[i], NULL, worker, NULL))
			return 1;
	for (long i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	return 0;
}
