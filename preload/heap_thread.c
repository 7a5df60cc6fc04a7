/*
 * The heap profiler's per-thread state (a buffer, a stack table and a window, mmap()ed at the thread's first
 * event and sent at its exit) and sampling's intervals: exponential with mean g_sample bytes, drawn from a
 * per-thread xorshift generator.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "heap_lib.h"

static TLS int t_dead; /* the thread's state was torn down (thread exit) */

static uint64_t rng_next(struct tstate *t)
{
	uint64_t x = t->rng;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return t->rng = x;
}

/* ln(x) for x in (0, 1], without libm: exponent plus an atanh series on the mantissa. */
static double ln(double x)
{
	union {
		double d;
		uint64_t u;
	} v = { .d = x };
	int e = (int)((v.u >> 52) & 0x7ff) - 1023;
	v.u = (v.u & ~((uint64_t)0x7ff << 52)) | ((uint64_t)1023 << 52); /* mantissa in [1, 2) */
	double m = v.d;
	if (m > 1.41421356) {
		m /= 2;
		e++;
	}
	double z = (m - 1) / (m + 1), z2 = z * z;
	double s = z * (1 + z2 * (1.0 / 3 + z2 * (1.0 / 5 + z2 * (1.0 / 7 + z2 * (1.0 / 9 + z2 / 11)))));
	return 2 * s + e * 0.69314718055994531;
}

/* Bytes until the next sample: exponential with mean g_sample, so each byte is sampled with p = 1/g_sample. */
static int64_t next_interval(struct tstate *t)
{
	double u = (double)((rng_next(t) >> 11) + 1) / 9007199254740993.0; /* (0, 1] */
	double v = -ln(u) * (double)g_sample;
	return v < 1 ? 1 : v > 1e15 ? (int64_t)1e15 : (int64_t)v;
}

/*
 * Sampling's part of kh_arm(): folds the counts in and re-arms the countdown. True when the allocation's bytes
 * ran the countdown out. A thread's first allocation comes here before any interval was drawn: it is sampled
 * as if one had been.
 */
bool kh_arm_sampled(struct tstate *t, size_t size)
{
	kh_fast_fold(t);
	if (!t->drawn) {
		t->drawn = true;
		int64_t left = next_interval(t) - (int64_t)size;
		if (left > 0) {
			t->armed = t_fast.countdown = left;
			return false;
		}
	}
	t->armed = t_fast.countdown = next_interval(t);
	return true;
}

void *kh_map_zero(size_t n)
{
	void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/*
 * The mapping of /proc/self/maps that holds `addr` (the thread's stack, from its stack pointer), read with plain
 * system calls: no allocation and no lock. pthread_getattr_np() cannot be used: it is what called the hook
 * when a program (the JVM) asks for a new thread's stack, and it holds the thread's lock while it reallocs.
 */
static bool mapping_of(uintptr_t addr, uintptr_t *lo, uintptr_t *hi)
{
	char buf[2048];
	size_t len = 0;
	bool found = false, eof = false;
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	while (!found && !eof) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			eof = true;
		else
			len += (size_t)n;
		char *p = buf, *end = buf + len, *nl;
		while (!found && (nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
			uintptr_t start = 0, stop = 0;
			int d;
			while ((d = hexval((unsigned char)*p)) >= 0)
				start = start << 4 | (uintptr_t)d, p++;
			if (*p == '-')
				for (p++; (d = hexval((unsigned char)*p)) >= 0; p++)
					stop = stop << 4 | (uintptr_t)d;
			if (addr >= start && addr < stop) {
				*lo = start;
				*hi = stop;
				found = true;
			}
			p = nl + 1;
		}
		len = (size_t)(end - p);
		memmove(buf, p, len);
		if (len == sizeof(buf)) /* a line longer than the buffer: not a maps line we can read */
			break;
	}
	close(fd);
	return found;
}

struct tstate *kh_tstate_new(void)
{
	struct tstate *t = t_state;
	if (LIKELY(t != NULL))
		return t;
	if (t_dead || !g_enabled)
		return NULL;
	int saved = errno;
	t = kh_map_zero(sizeof(*t) + BUF_BYTES);
	if (!t) {
		errno = saved;
		return NULL;
	}
	t->buf = (unsigned char *)(t + 1);
	t->stab = kh_map_zero(STAB_INIT * sizeof(*t->stab));
	if (!t->stab) {
		munmap(t, sizeof(*t) + BUF_BYTES);
		errno = saved;
		return NULL;
	}
	t->stab_mask = STAB_INIT - 1;
	pthread_mutex_init(&t->flock, NULL);
	t->tid = (uint32_t)syscall(SYS_gettid);
	t->now = kh_now_ns();
	t->drift_limit = DRIFT_MIN;
	t->rng = kh_now_ns() ^ ((uint64_t)t->tid << 32) ^ (uintptr_t)t;
	if (!t->rng)
		t->rng = 88172645463325252ULL;

	/* The thread's stack, for bounds-checked frame pointer walks. */
	if (!mapping_of((uintptr_t)__builtin_frame_address(0), &t->stack_lo, &t->stack_hi))
		t->stack_lo = t->stack_hi = 0; /* walks stop at the hook's caller */
	pthread_mutex_lock(&g_reg_lock);
	t->next = g_threads;
	g_threads = t;
	pthread_mutex_unlock(&g_reg_lock);
	t_state = t;
	pthread_setspecific(g_key, t);
	errno = saved;
	return t;
}

static void tstate_unlink(struct tstate *t)
{
	for (struct tstate **pp = &g_threads; *pp; pp = &(*pp)->next)
		if (*pp == t) {
			*pp = t->next;
			break;
		}
}

void kh_tstate_unmap(struct tstate *t)
{
	munmap(t->stab, (t->stab_mask + 1) * sizeof(*t->stab));
	munmap(t, sizeof(*t) + BUF_BYTES);
}

/* pthread key destructor: the thread is exiting. */
void kh_thread_exit(void *arg)
{
	struct tstate *t = arg;
	int saved = errno;
	t_guard++;
	kh_flush_own(t);
	pthread_mutex_lock(&g_reg_lock);
	tstate_unlink(t);
	pthread_mutex_unlock(&g_reg_lock);
	t_state = NULL;
	t_dead = 1;
	kh_tstate_unmap(t);
	t_guard--;
	errno = saved;
}
