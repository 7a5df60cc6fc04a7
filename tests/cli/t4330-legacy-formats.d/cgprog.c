#include <stdio.h>
#include <stdlib.h>
__attribute__((noinline)) long leaf(long n) { long s = 0; for (long i = 0; i < n; i++) s += i * i; return s; }
__attribute__((noinline)) long mid(long n) { return leaf(n) + leaf(n / 2); }
__attribute__((noinline)) long rec(long n) { return n <= 0 ? leaf(10) : rec(n - 1) + 1; }
int main(int argc, char **argv) {
	long t = 0;
	for (int i = 0; i < 50; i++) t += mid(2000) + rec(5);
	printf("%ld\n", t);
	return 0;
}
