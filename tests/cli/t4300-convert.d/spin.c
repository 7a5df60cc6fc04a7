#include <stdio.h>
static volatile double sink;
__attribute__((noinline)) static void spin(long n) { double x = 0; for (long i = 0; i < n; i++) x += i * 0.5; sink = x; }
__attribute__((noinline)) void work(void) { for (int k = 0; k < 40; k++) spin(5000000); }
int main(void) { work(); return 0; }
