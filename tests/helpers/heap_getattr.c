/*
 * A new thread whose first allocation happens inside pthread_getattr_np(), as the JVM's threads do: glibc
 * holds the thread's lock there while it reallocs, so a heap profiler that asked pthread_getattr_np() for the
 * thread's stack from within its hook deadlocked. Prints "ok" and exits 0.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>

static void *run(void *arg)
{
	pthread_attr_t attr;
	void *addr;
	size_t size = 0;
	(void)arg;
	if (pthread_getattr_np(pthread_self(), &attr) == 0) {
		pthread_attr_getstack(&attr, &addr, &size);
		pthread_attr_destroy(&attr);
	}
	return (void *)size;
}

int main(void)
{
	for (int i = 0; i < 4; i++) {
		pthread_t t;
		void *size;
		if (pthread_create(&t, NULL, run, NULL) != 0 || pthread_join(t, &size) != 0 || !size)
			return 1;
	}
	puts("ok");
	return 0;
}
