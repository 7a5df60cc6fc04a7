/*
 * Heap profiler target: every interposed allocator. Leaks exactly one block from each of posix_memalign (100),
 * aligned_alloc (128), memalign (200), valloc (300), pvalloc (400 requested) and reallocarray (10 x 50), frees
 * everything else (free_sized / free_aligned_sized when the C library has them), checks that free preserves
 * errno and that malloc_usable_size works. Exit status 0 when all checks pass.
 */
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void *volatile sink[8];

__attribute__((noinline)) static void leak_aligned(void)
{
	void *p = NULL;
	if (posix_memalign(&p, 64, 100) == 0)
		sink[0] = p;
	sink[1] = aligned_alloc(64, 128);
	sink[2] = memalign(32, 200);
	sink[3] = valloc(300);
	sink[4] = pvalloc(400);
	sink[5] = reallocarray(NULL, 10, 50);
}

int main(void)
{
	int ok = 1;
	leak_aligned();

	/* errno survives free */
	void *p = malloc(10);
	errno = ENOENT;
	free(p);
	free(NULL);
	ok &= errno == ENOENT;

	/* malloc_usable_size */
	p = malloc(100);
	ok &= malloc_usable_size(p) >= 100;
	free(p);

	/* reallocarray overflow fails with ENOMEM */
	volatile size_t huge = (size_t)-1;
	errno = 0;
	ok &= reallocarray(NULL, huge, 16) == NULL && errno == ENOMEM;

	/* C23 frees, when the C library or a preloaded library provides them */
	void (*fs)(void *, size_t) = (void (*)(void *, size_t))dlsym(RTLD_DEFAULT, "free_sized");
	void (*fas)(void *, size_t, size_t) = (void (*)(void *, size_t, size_t))dlsym(RTLD_DEFAULT, "free_aligned_sized");
	p = malloc(77);
	if (fs)
		fs(p, 77);
	else
		free(p);
	p = aligned_alloc(64, 64);
	if (fas)
		fas(p, 64, 64);
	else
		free(p);

	/* alignment kept, contents carried by realloc (an aligned block moves), usable sizes, calloc zeroes */
	void *q = NULL;
	ok &= posix_memalign(&q, 4096, 100) == 0 && (uintptr_t)q % 4096 == 0;
	ok &= posix_memalign(&q, 3, 100) == EINVAL;
	q = NULL;
	ok &= posix_memalign(&q, 4096, 100) == 0 && malloc_usable_size(q) >= 100;
	memset(q, 0x5a, 100);
	unsigned char *r = realloc(q, 10000);
	ok &= r && r[0] == 0x5a && r[99] == 0x5a && malloc_usable_size(r) >= 10000;
	r = realloc(r, 50);
	ok &= r && r[49] == 0x5a;
	free(r);
	p = aligned_alloc(256, 512);
	ok &= p && (uintptr_t)p % 256 == 0;
	free(p);
	p = memalign(64, 1);
	ok &= p && (uintptr_t)p % 64 == 0;
	free(p);
	unsigned char *z = calloc(1000, 1);
	for (int i = 0; z && i < 1000; i++)
		ok &= z[i] == 0;
	free(z);

	/* realloc to 0 frees */
	p = malloc(5);
	p = realloc(p, 0);
	free(p);
	if (!ok)
		fprintf(stderr, "heap_misc: a check failed\n");
	return ok ? 0 : 1;
}
