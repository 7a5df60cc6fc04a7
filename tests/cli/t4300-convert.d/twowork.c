/* Two functions called from main with different loads: a gperftools CPU profile of it has several stacks. */
#include <stdio.h>
static volatile double sink;
__attribute__((noinline)) static void spin(long n) { double x = 0; for (long i = 0; i < n; i++) x += i * 0.5; sink = x; }
__attribute__((noinline)) void alpha(void) { spin(3000000); }
__attribute__((noinline)) void beta(void) { spin(1000000); }
int main(void)
{
	for (int k = 0; k < 60; k++) {
		alpha();
		beta();
	}
	return 0;
}
