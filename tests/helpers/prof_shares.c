/*
 * A CPU-bound program whose functions take known shares of its CPU time, for checking a profiler's self-time
 * shares: it measures each function's thread CPU time with clock_gettime(CLOCK_THREAD_CPUTIME_ID) and prints
 * the truth as "share FUNCTION PERCENT" lines (percent of the whole process's CPU time).
 *
 *   prof_shares [SECONDS [WEIGHT_A WEIGHT_B WEIGHT_C]]     (default 1.0 s, weights 50 30 20)
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static volatile double sink;

static double thread_cpu(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Each spins on arithmetic for `sec` seconds of its own CPU time, checking the clock rarely. */
#define SPIN(sec)                                                          \
	do {                                                               \
		double end_ = thread_cpu() + (sec), x_ = 1.0;              \
		do {                                                       \
			for (int i_ = 0; i_ < 20000; i_++)                 \
				x_ = x_ * 1.0000001 + 0.5 / (x_ + 1.0);    \
			sink = x_;                                         \
		} while (thread_cpu() < end_);                             \
	} while (0)

__attribute__((noinline)) static void work_a(double sec) { SPIN(sec); }
__attribute__((noinline)) static void work_b(double sec) { SPIN(sec); }
__attribute__((noinline)) static void work_c(double sec) { SPIN(sec); }

int main(int argc, char **argv)
{
	double total = argc > 1 ? atof(argv[1]) : 1.0;
	double w[3] = { 50, 30, 20 };
	for (int i = 0; i < 3 && argc > 2 + i; i++)
		w[i] = atof(argv[2 + i]);
	double wsum = w[0] + w[1] + w[2], spent[3] = { 0 };
	double chunk = 0.004; /* a round of all three takes 4 ms of CPU */

	double start = thread_cpu();
	while (thread_cpu() - start < total) {
		double t0 = thread_cpu();
		work_a(chunk * w[0] / wsum);
		double t1 = thread_cpu();
		work_b(chunk * w[1] / wsum);
		double t2 = thread_cpu();
		work_c(chunk * w[2] / wsum);
		double t3 = thread_cpu();
		spent[0] += t1 - t0;
		spent[1] += t2 - t1;
		spent[2] += t3 - t2;
	}
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	double all = ts.tv_sec + ts.tv_nsec / 1e9;
	printf("share work_a %.2f\nshare work_b %.2f\nshare work_c %.2f\n", 100 * spent[0] / all,
	       100 * spent[1] / all, 100 * spent[2] / all);
	return 0;
}
