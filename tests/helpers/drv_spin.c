/* A CPU-bound target for the continuous recording test (test_driver.c): spins on one CPU until killed. */
#include <stdint.h>

int main(void)
{
	volatile uint64_t x = 0;

	for (;;)
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
	return 0;
}
