/*
 * Heap profiler target: leaks exactly 4096 + 1000 + 777 bytes from three functions (the last through realloc),
 * peaks at 64 MiB of live blocks plus those leaks, and does some temporary allocations.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *volatile sink;

__attribute__((noinline)) static void leak_page(void)
{
	char *p = malloc(4096);
	memset(p, 1, 4096);
	sink = p;
}

__attribute__((noinline)) static void leak_calloc(void)
{
	sink = calloc(10, 100);
}

__attribute__((noinline)) static void leak_grow(void)
{
	char *p = malloc(100);
	p = realloc(p, 777);
	sink = p;
}

__attribute__((noinline)) static void peak(void)
{
	enum { N = 64 };
	char *blocks[N];
	for (int i = 0; i < N; i++) {
		blocks[i] = malloc(1 << 20);
		memset(blocks[i], 0, 1 << 20);
	}
	for (int i = 0; i < N; i++)
		free(blocks[i]);
}

__attribute__((noinline)) static void temporaries(void)
{
	for (int i = 0; i < 1000; i++) {
		sink = malloc(32 + i % 64);
		free(sink);
	}
}

int main(void)
{
	leak_page();
	leak_calloc();
	leak_grow();
	temporaries();
	peak();
	printf("done\n");
	return 3;
}
