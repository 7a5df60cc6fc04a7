/*
 * Symbolizer test target: prints an instruction address inside two levels of forced inlining and the source
 * lines a symbolizer must report for it, then waits for stdin to close so the test can read /proc/PID/maps.
 * Output: "ip=0x... leaf=LINE mid=LINE outer=LINE main=ADDR"
 */
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

static int leaf_line, mid_line, outer_line;

static inline __attribute__((always_inline)) uint64_t sym_leaf_inline(void)
{
	uint64_t ip;
	__asm__ volatile("lea 0(%%rip), %0" : "=r"(ip)); leaf_line = __LINE__;
	return ip;
}

static inline __attribute__((always_inline)) uint64_t sym_mid_inline(int x)
{
	uint64_t ip = sym_leaf_inline() + (uint64_t)x; mid_line = __LINE__;
	return ip;
}

__attribute__((noinline)) uint64_t sym_outer(int x)
{
	uint64_t ip = sym_mid_inline(x); outer_line = __LINE__;
	return ip;
}

int main(int argc, char **argv)
{
	uint64_t ip = sym_outer(argc - 1);
	char c;

	printf("ip=0x%llx leaf=%d mid=%d outer=%d main=0x%llx\n", (unsigned long long)ip, leaf_line, mid_line,
	       outer_line, (unsigned long long)(uintptr_t)main);
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
	return 0;
}
