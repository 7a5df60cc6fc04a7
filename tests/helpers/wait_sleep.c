/* Test program for kiln profile --mode offcpu: sleeps 3 x 200 ms in sleeper() and blocks 3 x ~100 ms on a pipe
 * read in reader() (a thread writes one byte every 100 ms). With $WAIT_TIMING set it prints the main thread's
 * wall time from main() to its end on stderr. Usage: wait_sleep [SLEEP_MS [READ_MS]] */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static int fds[2];
static long sleep_ms = 200, read_ms = 100;

static void msleep(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0)
		;
}

static void *feeder(void *arg)
{
	(void)arg;
	for (int i = 0; i < 3; i++) {
		msleep(read_ms);
		if (write(fds[1], "x", 1) != 1)
			exit(1);
	}
	return NULL;
}

__attribute__((noinline)) static void sleeper(void)
{
	for (int i = 0; i < 3; i++) {
		struct timespec ts = { sleep_ms / 1000, (sleep_ms % 1000) * 1000000L };
		nanosleep(&ts, NULL);
	}
}

__attribute__((noinline)) static void reader(void)
{
	char c;
	for (int i = 0; i < 3; i++)
		if (read(fds[0], &c, 1) != 1)
			exit(1);
}

int main(int argc, char **argv)
{
	struct timespec t0, t1;
	pthread_t t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (argc > 1)
		sleep_ms = atol(argv[1]);
	if (argc > 2)
		read_ms = atol(argv[2]);
	sleeper();
	if (pipe(fds) < 0 || pthread_create(&t, NULL, feeder, NULL))
		return 1;
	reader();
	pthread_join(t, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (getenv("WAIT_TIMING"))
		fprintf(stderr, "wait_sleep: %.0f ns\n",
			(double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec));
	return 0;
}
