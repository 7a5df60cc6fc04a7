/*
 * The floor of any LD_PRELOAD heap profiler: a library whose malloc and free only forward to the C library's
 * (resolved once, before main), so that bench/heap-overhead.sh can show what interposition itself costs next
 * to kiln's sampled mode. Not part of kiln. Built by the bench: cc -O2 -fPIC -shared -o F.so heap-floor.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stddef.h>

static void *(*real_malloc)(size_t);
static void (*real_free)(void *);
/* dlsym's own allocations, before the real functions are known */
static char boot[1 << 16];
static size_t boot_used;

__attribute__((constructor)) static void resolve(void)
{
	real_free = (void (*)(void *))dlsym(RTLD_NEXT, "free");
	real_malloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "malloc");
}

void *malloc(size_t n)
{
	if (__builtin_expect(real_malloc != NULL, 1))
		return real_malloc(n);
	size_t span = (n + 15) & ~(size_t)15;
	if (span > sizeof(boot) - boot_used)
		return NULL;
	void *p = boot + boot_used;
	boot_used += span;
	return p;
}

void free(void *p)
{
	if (__builtin_expect((size_t)((char *)p - boot) >= sizeof(boot), 1) && real_free)
		real_free(p);
}
