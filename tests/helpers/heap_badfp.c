/*
 * Allocates with a frame pointer that points just below the top of the address space, as code built without
 * frame pointers can leave in %rbp: the heap profiler's stack walk must stop there, not fault (it used to
 * wrap around when checking the frame's end). Exits 0 after printing "ok".
 */
#include <stdio.h>
#include <stdlib.h>

#if defined(__x86_64__)
/* Naked: the stack is exactly as the call left it (8 mod 16), so one push aligns it for the call to malloc. */
__attribute__((naked, noinline)) static void *alloc_with_bad_fp(void)
{
	__asm__("push %rbp\n\t"
		"movabs $0xfffffffffffffff0, %rbp\n\t"
		"mov $64, %edi\n\t"
		"call malloc@PLT\n\t"
		"pop %rbp\n\t"
		"ret\n\t");
}
#else
static void *alloc_with_bad_fp(void)
{
	return malloc(64);
}
#endif

int main(void)
{
	void *p = alloc_with_bad_fp();
	if (!p)
		return 1;
	free(p);
	puts("ok");
	return 0;
}
