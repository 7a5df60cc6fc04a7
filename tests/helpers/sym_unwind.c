/*
 * Symbolizer test target for stack unwinding: three nested functions capture the registers (IP, SP, BP) and a
 * copy of the stack, write them to the file named by argv[1] as
 *   u64 ip, u64 sp, u64 bp, u64 len, then len bytes of stack from sp upwards,
 * print "ready", and wait for stdin to close. Built by the test with -O2 -fomit-frame-pointer so that only
 * CFI can unwind it.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define STACK_COPY 32768

static const char *out_path;
static volatile int sink;

static void dump(uint64_t ip, uint64_t sp, uint64_t bp)
{
	static unsigned char copy[STACK_COPY];
	uint64_t top = sp + STACK_COPY, len;
	FILE *f, *maps = fopen("/proc/self/maps", "r");
	char line[512];

	/* Copy no further than the end of the stack mapping. */
	while (maps && fgets(line, sizeof(line), maps)) {
		unsigned long lo, hi;
		if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && sp >= lo && sp < hi && hi < top)
			top = hi;
	}
	if (maps)
		fclose(maps);
	len = top - sp;
	for (uint64_t i = 0; i < len; i++)
		copy[i] = ((const volatile unsigned char *)(uintptr_t)sp)[i];
	f = fopen(out_path, "wb");
	if (!f)
		return;
	fwrite(&ip, 8, 1, f);
	fwrite(&sp, 8, 1, f);
	fwrite(&bp, 8, 1, f);
	fwrite(&len, 8, 1, f);
	fwrite(copy, 1, len, f);
	fclose(f);
}

__attribute__((noinline)) void sym_unwind_c(int depth)
{
	uint64_t ip, sp, bp;
	__asm__ volatile("lea 0(%%rip), %0\n\tmov %%rsp, %1\n\tmov %%rbp, %2" : "=r"(ip), "=r"(sp), "=r"(bp));
	dump(ip, sp, bp);
	sink = depth;
}

__attribute__((noinline)) void sym_unwind_b(int depth)
{
	sym_unwind_c(depth + 1);
	sink++;
}

__attribute__((noinline)) void sym_unwind_a(int depth)
{
	sym_unwind_b(depth + 1);
	sink++;
}

int main(int argc, char **argv)
{
	char c;

	if (argc < 2)
		return 2;
	out_path = argv[1];
	sym_unwind_a(0);
	printf("ready\n");
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
	return sink == -1;
}
