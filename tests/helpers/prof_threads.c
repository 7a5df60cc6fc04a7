/*
 * Threads, a fork and an exec for checking that a profiler follows them all: two named threads spin in
 * thread_alpha / thread_beta, then the process forks a child that spins in child_gamma and execs prof_exec2
 * (from the same directory), which spins in exec_delta. Prints "pid ROLE PID" / "tid ROLE TID" lines.
 *
 *   prof_threads [SECONDS_PER_PHASE [DELAY]]   (default 0.3 s per phase; DELAY seconds idle before the threads
 *                                              start, so that a profiler can attach first)
 */
#define _GNU_SOURCE
#include <libgen.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile double sink;
static double phase = 0.3;

static double thread_cpu(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void spin(double sec)
{
	double end = thread_cpu() + sec, x = 1.0;
	do {
		for (int i = 0; i < 20000; i++)
			x = x * 1.0000001 + 0.5 / (x + 1.0);
		sink = x;
	} while (thread_cpu() < end);
}

__attribute__((noinline)) static void thread_alpha(void) { spin(phase); }
__attribute__((noinline)) static void thread_beta(void) { spin(phase); }
__attribute__((noinline)) static void child_gamma(void) { spin(phase); }

static void *run(void *arg)
{
	const char *name = arg;
	pthread_setname_np(pthread_self(), name);
	printf("tid %s %ld\n", name, (long)syscall(SYS_gettid));
	fflush(stdout);
	if (!strcmp(name, "alpha"))
		thread_alpha();
	else
		thread_beta();
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc > 1)
		phase = atof(argv[1]);
	printf("pid parent %d\n", (int)getpid());
	fflush(stdout);
	if (argc > 2) {
		double delay = atof(argv[2]);
		struct timespec ts = { (time_t)delay, (long)((delay - (time_t)delay) * 1e9) };
		nanosleep(&ts, NULL);
	}
	pthread_t a, b;
	pthread_create(&a, NULL, run, "alpha");
	pthread_create(&b, NULL, run, "beta");
	pthread_join(a, NULL);
	pthread_join(b, NULL);

	pid_t pid = fork();
	if (pid == 0) {
		printf("pid child %d\n", (int)getpid());
		fflush(stdout);
		child_gamma();
		char *self = strdup(argv[0]), path[4096], arg[32];
		snprintf(path, sizeof(path), "%s/prof_exec2", dirname(self));
		snprintf(arg, sizeof(arg), "%g", phase);
		execl(path, "prof_exec2", arg, (char *)NULL);
		perror(path);
		_exit(127);
	}
	int status;
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
