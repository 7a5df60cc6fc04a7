/* Test program for kiln profile --mode offcpu --push: for SECONDS seconds, one thread sleeps in nap_short()
 * (SHORT_MS at a time) and another in nap_long() (LONG_MS at a time, longer than a window), so each is off CPU
 * for about all of every window; the main thread waits for them in pthread_join(). On stderr: each thread's
 * blocked time ("nap_short SECONDS", "nap_long SECONDS") and "slept SECONDS" (the run's wall time).
 * Usage: push_sleep SECONDS SHORT_MS LONG_MS */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double secs = 4, short_ms = 100, long_ms = 1500, t0;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/*
 * Sleeps `ms` at a time until the run's end (the last sleep cut to it), then prints "NAME BLOCKED_S": the
 * thread's life less its time on a CPU and waiting for one (/proc/thread-self/schedstat), which is the time it
 * was blocked: what an off-CPU profile must add up to for it.
 */
static void sleep_until_end(const char *name, double ms)
{
	double left, start = now_s();
	unsigned long long on = 0, wait = 0;
	FILE *f;

	while ((left = secs - (now_s() - t0)) > 0) {
		double s = ms * 1e-3 < left ? ms * 1e-3 : left;
		struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };
		nanosleep(&ts, NULL);
	}
	double life = now_s() - start;
	if ((f = fopen("/proc/thread-self/schedstat", "r"))) {
		if (fscanf(f, "%llu %llu", &on, &wait) != 2)
			on = wait = 0;
		fclose(f);
	}
	fprintf(stderr, "%s %.4f\n", name, life - (double)(on + wait) * 1e-9);
}

__attribute__((noinline)) static void *nap_short(void *arg)
{
	(void)arg;
	sleep_until_end("nap_short", short_ms);
	return NULL;
}

__attribute__((noinline)) static void *nap_long(void *arg)
{
	(void)arg;
	sleep_until_end("nap_long", long_ms);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t a, b;

	secs = argc > 1 ? atof(argv[1]) : secs;
	short_ms = argc > 2 ? atof(argv[2]) : short_ms;
	long_ms = argc > 3 ? atof(argv[3]) : long_ms;
	t0 = now_s();
	if (pthread_create(&a, NULL, nap_short, NULL) || pthread_create(&b, NULL, nap_long, NULL))
		return 1;
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	fprintf(stderr, "slept %.3f\n", now_s() - t0);
	return 0;
}
