#include <stdlib.h>
#include <string.h>
#include <stdio.h>
static void *keep[4096];
__attribute__((noinline)) void *small_alloc(size_t n) { void *p = malloc(n); memset(p, 1, n); return p; }
__attribute__((noinline)) void *big_alloc(size_t n) { void *p = malloc(n); memset(p, 2, n); return p; }
__attribute__((noinline)) void work(int i) {
	keep[i % 4096] = small_alloc(64 + i % 200);
	if (i % 16 == 0) { void *b = big_alloc(100000); if (i % 64) free(b); }
}
int main(int argc, char **argv) {
	int n = argc > 1 ? atoi(argv[1]) : 20000;
	for (int i = 0; i < n; i++) { if (keep[i % 4096]) free(keep[i % 4096]); work(i); }
	printf("done\n");
	return 0;
}
