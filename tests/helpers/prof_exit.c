/* Spins in burn() and then ends the way it is told: "exit N", "signal N" (raise), or "crash" (SIGSEGV). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile double sink;

__attribute__((noinline)) static void burn(double sec)
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
	double sec = argc > 3 ? atof(argv[3]) : 0.3;
	burn(sec);
	if (argc > 2 && !strcmp(argv[1], "exit"))
		return atoi(argv[2]);
	if (argc > 2 && !strcmp(argv[1], "signal"))
		raise(atoi(argv[2]));
	if (argc > 1 && !strcmp(argv[1], "crash"))
		*(volatile int *)0 = 1;
	if (argc > 1 && !strcmp(argv[1], "forever"))
		for (;;)
			burn(1.0);
	return 0;
}
