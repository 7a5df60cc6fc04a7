/*
 * Heap profiler target with fork and exec: the parent leaks 111 bytes, a forked child leaks 222 bytes and
 * exits, another child execs this program again ("child" argument), which leaks 444 bytes, and system() runs
 * a shell, while two threads allocate and free (forks of a multi-threaded process). Exit status 0.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void *volatile sink;

__attribute__((noinline)) static void parent_leak(void) { sink = malloc(111); }
__attribute__((noinline)) static void child_leak(void) { sink = malloc(222); }
__attribute__((noinline)) static void exec_leak(void) { sink = malloc(444); }

static void churn(int n)
{
	for (int i = 0; i < n; i++) {
		void *volatile p = malloc((size_t)(i % 300) + 1); /* volatile: the pair must stay */
		free(p);
	}
}

static volatile int stop;

static void *background(void *arg)
{
	(void)arg;
	while (!stop)
		churn(100);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t bg[2];
	if (argc > 1 && !strcmp(argv[1], "child")) {
		churn(1000);
		exec_leak();
		return 0;
	}
	churn(1000);
	parent_leak();
	for (int i = 0; i < 2; i++)
		pthread_create(&bg[i], NULL, background, NULL);
	for (int i = 0; i < 20; i++) {
		pid_t c = fork();
		if (c == 0) {
			churn(100);
			_exit(0);
		}
		waitpid(c, NULL, 0);
	}
	pid_t a = fork();
	if (a == 0) {
		churn(1000);
		child_leak();
		exit(0);
	}
	pid_t b = fork();
	if (b == 0) {
		execl("/proc/self/exe", argv[0], "child", (char *)NULL);
		_exit(127);
	}
	int st, ok = 1;
	waitpid(a, &st, 0);
	ok &= WIFEXITED(st) && WEXITSTATUS(st) == 0;
	waitpid(b, &st, 0);
	ok &= WIFEXITED(st) && WEXITSTATUS(st) == 0;
	ok &= system("exit 0") == 0;
	stop = 1;
	for (int i = 0; i < 2; i++)
		pthread_join(bg[i], NULL);
	churn(1000);
	return ok ? 0 : 1;
}
