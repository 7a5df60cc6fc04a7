/* Test program for kiln profile --mode io: N write(2) calls of one byte to /dev/null (default 500000) from
 * writer(), plus one write to a file named by the second argument (if any); prints the loop's wall and CPU time
 * on stderr when $WAIT_TIMING is set (for bench/io-overhead.sh). Usage: wait_writes [N [FILE]] */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

__attribute__((noinline)) static long writer(int fd, long n)
{
	long ok = 0;
	for (long i = 0; i < n; i++)
		ok += write(fd, "x", 1) == 1;
	return ok;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 500000;
	int fd = open("/dev/null", O_WRONLY);
	if (fd < 0)
		return 1;
	struct timespec t0, t1, c0, c1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
	if (writer(fd, n) != n)
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
	if (getenv("WAIT_TIMING"))
		fprintf(stderr, "wait_writes: %ld writes in %.6f s (cpu %.6f s)\n", n,
			(double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
			(double)(c1.tv_sec - c0.tv_sec) + (double)(c1.tv_nsec - c0.tv_nsec) / 1e9);
	close(fd);
	if (argc > 2) {
		int f = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (f < 0 || write(f, "hello, kiln\n", 12) != 12)
			return 1;
		close(f);
	}
	return 0;
}
