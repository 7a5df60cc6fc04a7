/*
 * A program whose CPU time goes to one kind of work, for checking kiln analyze's rules on real profiles:
 *
 *   analyze_work MODE [SECONDS]     (default 0.5 s)
 *
 * MODE: alloc (many small malloc/free pairs), sort (qsort), format (snprintf of numbers), recurse (deep
 * recursion), copy (memcpy of large buffers), spin (a plain loop: no rule should fire but the hotspot one),
 * mix (alloc, sort, format and spin in turns).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile unsigned long sink;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

__attribute__((noinline)) static void do_alloc(void)
{
	void *p[64];

	for (int r = 0; r < 200; r++) {
		for (int i = 0; i < 64; i++)
			p[i] = malloc(16 + (size_t)((i * 37 + r) % 4000));
		for (int i = 0; i < 64; i++) {
			sink += (unsigned long)(((char *)p[i])[0] = 1);
			free(p[i]);
		}
	}
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

__attribute__((noinline)) static void do_sort(void)
{
	static int v[20000];
	unsigned s = 12345;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		s = s * 1103515245u + 12345u;
		v[i] = (int)(s >> 8);
	}
	qsort(v, sizeof(v) / sizeof(v[0]), sizeof(v[0]), cmp_int);
	sink += (unsigned long)v[0];
}

__attribute__((noinline)) static void do_format(void)
{
	char buf[64];

	for (int i = 0; i < 5000; i++) {
		snprintf(buf, sizeof(buf), "%d %f %s", i, i * 0.5, "x");
		sink += (unsigned long)buf[1];
	}
}

__attribute__((noinline)) static unsigned long recurse(int depth)
{
	volatile unsigned long x = (unsigned long)depth;

	if (depth == 0) {
		for (int i = 0; i < 2000; i++)
			x += (unsigned long)i;
		return x;
	}
	return recurse(depth - 1) + x;
}

__attribute__((noinline)) static void do_recurse(void)
{
	sink += recurse(40);
}

__attribute__((noinline)) static void do_copy(void)
{
	static char a[1 << 20], b[1 << 20];

	for (int i = 0; i < 20; i++) {
		memcpy(b, a, sizeof(a));
		a[i] = b[i + 1];
	}
	sink += (unsigned long)b[5];
}

__attribute__((noinline)) static void do_spin(void)
{
	for (unsigned long i = 0; i < 2000000; i++)
		sink += i;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "mix";
	double secs = argc > 2 ? atof(argv[2]) : 0.5, end = now() + secs;
	void (*fn[4])(void) = { NULL };
	int n = 0;

	if (!strcmp(mode, "alloc"))
		fn[n++] = do_alloc;
	else if (!strcmp(mode, "sort"))
		fn[n++] = do_sort;
	else if (!strcmp(mode, "format"))
		fn[n++] = do_format;
	else if (!strcmp(mode, "recurse"))
		fn[n++] = do_recurse;
	else if (!strcmp(mode, "copy"))
		fn[n++] = do_copy;
	else if (!strcmp(mode, "spin"))
		fn[n++] = do_spin;
	else if (!strcmp(mode, "mix")) {
		fn[n++] = do_alloc;
		fn[n++] = do_sort;
		fn[n++] = do_format;
		fn[n++] = do_spin;
	} else {
		fprintf(stderr, "usage: analyze_work alloc|sort|format|recurse|copy|spin|mix [SECONDS]\n");
		return 2;
	}
	/* Whole rounds only: two runs of mix then hold the same share of each function, whichever one the time
	 * ran out in (a run cut in the middle of a round would not). */
	for (int i = 0; now() < end || i % n; i++)
		fn[i % n]();
	printf("%lu\n", sink);
	return 0;
}
