/*
 * Hot code without a frame of its own at the sampled instruction, each entered from exactly one caller, for
 * checking that a frame-pointer profiler names the true caller (tests/cli/t3300-leaf-callers.sh):
 *
 *   leaf_add <- call_add, leaf_mul <- call_mul, leaf_xor <- call_xor   leaf functions (no frame set up)
 *   shrink   <- call_shrink                                          shrink-wrapped: the frame is set up only
 *                                                                    on its rare slow path
 *   memcmp   <- call_memcmp, memchr <- call_memchr                   glibc's hand-written assembly
 *   read     <- call_read                                            glibc's syscall wrapper (kernel samples)
 *
 * Every caller is entered from main. Under frame-pointer unwinding without repair, a sample in a leaf shows
 * main as the leaf's caller, since %rbp still points at the caller's frame.
 *
 *   prof_leaf [SECONDS]     (default 1.0 s; each part runs in turn for a few milliseconds)
 * Build: cc -O2 -g -fno-omit-frame-pointer -o prof_leaf prof_leaf.c
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile uint64_t sink;
static unsigned char buf_a[1 << 16], buf_b[1 << 16];
static int zero_fd = -1;

static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Leaves: a loop of arithmetic and nothing else, so GCC sets up no frame even with -fno-omit-frame-pointer. */
__attribute__((noinline)) static uint64_t leaf_add(uint64_t x, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		x = x + (x >> 3) + i;
	return x;
}

__attribute__((noinline)) static uint64_t leaf_mul(uint64_t x, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
	return x;
}

__attribute__((noinline)) static uint64_t leaf_xor(uint64_t x, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
	}
	return x;
}

__attribute__((noinline)) static void slow_path(uint64_t *x)
{
	*x += (uint64_t)clock();
}

/* Shrink-wrapped: the fast path (almost every call) returns before the prologue that the slow path needs. */
__attribute__((noinline)) static uint64_t shrink(uint64_t x, unsigned n)
{
	if (__builtin_expect((x & 0xfffff) != 0x12345, 1)) {
		for (unsigned i = 0; i < n; i++)
			x = (x << 1 | x >> 63) + 0x9e3779b97f4a7c15ULL;
		return x;
	}
	uint64_t y = x + 1;
	slow_path(&y);
	return y * 3;
}

/* Callers: each has a frame (it calls), and uses the result so the call is not a tail call. */
__attribute__((noinline)) static uint64_t call_add(uint64_t x)
{
	uint64_t r = leaf_add(x, 4000);
	sink = r;
	return r + 1;
}

__attribute__((noinline)) static uint64_t call_mul(uint64_t x)
{
	uint64_t r = leaf_mul(x, 4000);
	sink = r;
	return r + 2;
}

__attribute__((noinline)) static uint64_t call_xor(uint64_t x)
{
	uint64_t r = leaf_xor(x, 4000);
	sink = r;
	return r + 3;
}

__attribute__((noinline)) static uint64_t call_shrink(uint64_t x)
{
	uint64_t r = 0;
	for (int i = 0; i < 200; i++)
		r += shrink(x + (uint64_t)i, 20);
	sink = r;
	return r + 4;
}

__attribute__((noinline)) static uint64_t call_memcmp(uint64_t x)
{
	uint64_t r = 0;
	for (int i = 0; i < 8; i++)
		r += (uint64_t)memcmp(buf_a, buf_b, sizeof(buf_a)) + x;
	sink = r;
	return r + 5;
}

__attribute__((noinline)) static uint64_t call_memchr(uint64_t x)
{
	uint64_t r = 0;
	for (int i = 0; i < 8; i++)
		r += (uint64_t)(uintptr_t)memchr(buf_a, 1, sizeof(buf_a)) + x;
	sink = r;
	return r + 6;
}

__attribute__((noinline)) static uint64_t call_read(uint64_t x)
{
	uint64_t r = 0;
	for (int i = 0; i < 4; i++)
		r += (uint64_t)read(zero_fd, buf_b, sizeof(buf_b));
	sink = r;
	return r + x;
}

int main(int argc, char **argv)
{
	double total = argc > 1 ? atof(argv[1]) : 1.0;
	uint64_t (*const parts[])(uint64_t) = { call_add,    call_mul,    call_xor, call_shrink,
						call_memcmp, call_memchr, call_read };
	const size_t nparts = sizeof(parts) / sizeof(parts[0]);

	zero_fd = open("/dev/zero", O_RDONLY);
	if (zero_fd < 0) {
		perror("/dev/zero");
		return 1;
	}
	uint64_t x = 88172645463325252ULL;
	double start = cpu_now();
	while (cpu_now() - start < total) {
		for (size_t p = 0; p < nparts; p++) {
			double end = cpu_now() + 0.002;
			while (cpu_now() < end)
				x = parts[p](x);
		}
	}
	printf("%llu\n", (unsigned long long)(x & 1));
	return 0;
}
