#include <stdlib.h>
__attribute__((noinline)) double hot(long n) { double s = 0; for (long i = 0; i < n; i++) s += (double)i / (i + 1); return s; }
__attribute__((noinline)) double warm(long n) { double s = 0; for (long i = 0; i < n; i++) s += i * 0.5; return s; }
int main(void) { double t = 0; for (int i = 0; i < 40; i++) t += hot(30000000) + warm(15000000); return t < 0; }
