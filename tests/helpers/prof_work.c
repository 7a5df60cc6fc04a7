/*
 * A fixed amount of CPU-bound work for benchmarks: THREADS threads each run ROUNDS rounds through a few
 * functions with inlined helpers (so profiles have inline frames and file:line). At exit it prints, on stderr,
 * "cpu SECONDS" (user + system time of the process, from getrusage) and "exit_ns NS" (CLOCK_REALTIME just
 * before exiting), so a benchmark can measure a profiler's overhead and its time to finish after the target.
 *
 *   prof_work [ROUNDS [THREADS]]   (default 2000 rounds, 1 thread)
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

static volatile double sink;
static long rounds = 2000;

static inline __attribute__((always_inline)) double mix(double x, int n)
{
	for (int i = 0; i < n; i++)
		x = x * 1.0000001 + 0.5 / (x + 1.0);
	return x;
}

static inline __attribute__((always_inline)) double blend(double x, int n)
{
	for (int i = 0; i < n; i++)
		x = x * 0.9999999 + 0.25 / (x + 2.0);
	return x;
}

__attribute__((noinline)) static double stage_parse(double x) { return mix(x, 6000); }
__attribute__((noinline)) static double stage_transform(double x) { return blend(mix(x, 4000), 4000); }
__attribute__((noinline)) static double stage_render(double x) { return blend(x, 3000); }

__attribute__((noinline)) static double pipeline(double x)
{
	x = stage_parse(x);
	x = stage_transform(x);
	return stage_render(x);
}

static void *worker(void *arg)
{
	double x = 1.0;
	(void)arg;
	for (long r = 0; r < rounds; r++)
		x = pipeline(x);
	sink = x;
	return NULL;
}

int main(int argc, char **argv)
{
	int threads = 1;
	if (argc > 1)
		rounds = atol(argv[1]);
	if (argc > 2)
		threads = atoi(argv[2]);
	if (threads < 1 || threads > 64)
		threads = 1;
	pthread_t t[64];
	for (int i = 1; i < threads; i++)
		pthread_create(&t[i], NULL, worker, NULL);
	worker(NULL);
	for (int i = 1; i < threads; i++)
		pthread_join(t[i], NULL);

	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	double cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	fprintf(stderr, "cpu %.6f\nexit_ns %lld\n", cpu, (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
	return 0;
}
