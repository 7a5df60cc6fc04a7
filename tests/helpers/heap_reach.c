/*
 * Heap report target: one function that leaks from two call sites (two stacks, one suppression), the C
 * library's one-time allocations (NSS through getpwnam, locale through setlocale: still reachable, not leaks),
 * and a leak made in a callback that libc's qsort calls (its stack stops in libc.so.6, which Debian builds
 * without frame pointers).
 */
#include <locale.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

static void *volatile sink;

__attribute__((noinline)) static void leak_twice(size_t n)
{
	sink = malloc(n);
	memset(sink, 1, n);
}

__attribute__((noinline)) static void caller_a(void) { leak_twice(100); __asm__ volatile(""); }
__attribute__((noinline)) static void caller_b(void) { leak_twice(200); __asm__ volatile(""); }

static int leaky_cmp(const void *a, const void *b)
{
	static int once;

	if (!once++)
		sink = malloc(321);
	return *(const int *)a - *(const int *)b;
}

int main(void)
{
	int v[] = { 3, 1, 2 };

	caller_a();
	caller_b();
	setlocale(LC_ALL, "C.UTF-8");
	getpwnam("root");
	qsort(v, 3, sizeof(v[0]), leaky_cmp);
	return 0;
}
