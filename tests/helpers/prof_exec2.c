/* The second binary of prof_threads: exec'd by its forked child, spins in exec_delta. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static volatile double sink;

__attribute__((noinline)) static void exec_delta(double sec)
{
	struct timespec ts;
	double end, now, x = 1.0;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	end = ts.tv_sec + ts.tv_nsec / 1e9 + sec;
	do {
		for (int i = 0; i < 20000; i++)
			x = x * 1.0000001 + 0.5 / (x + 1.0);
		sink = x;
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
		now = ts.tv_sec + ts.tv_nsec / 1e9;
	} while (now < end);
}

int main(int argc, char **argv)
{
	printf("pid exec %d\n", (int)getpid());
	fflush(stdout);
	exec_delta(argc > 1 ? atof(argv[1]) : 0.3);
	return 0;
}
