/*
 * libkiln-heap.so's hooks: the C allocator (malloc, free, calloc, realloc, reallocarray, posix_memalign,
 * aligned_alloc, memalign, valloc, pvalloc, malloc_usable_size, C23 free_sized and free_aligned_sized), C++
 * operator new, and the process events the stream must see (the exec family, _exit, dlclose). The only exported symbols.
 */
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "heap.h"

/* Hooks without a declaration in the system headers (C23 and the C++ ABI's operator new). */
EXPORT void free_sized(void *p, size_t n);
EXPORT void free_aligned_sized(void *p, size_t align, size_t n);
EXPORT void *_Znwm(size_t n);
EXPORT void *_Znam(size_t n);
EXPORT void *_ZnwmRKSt9nothrow_t(size_t n, const void *nt);
EXPORT void *_ZnamRKSt9nothrow_t(size_t n, const void *nt);
EXPORT void *_ZnwmSt11align_val_t(size_t n, size_t align);
EXPORT void *_ZnamSt11align_val_t(size_t n, size_t align);
EXPORT void *_ZnwmSt11align_val_tRKSt9nothrow_t(size_t n, size_t align, const void *nt);
EXPORT void *_ZnamSt11align_val_tRKSt9nothrow_t(size_t n, size_t align, const void *nt);


/* The hooks. */

static void *no_memory(void)
{
	errno = ENOMEM;
	return NULL;
}

/*
 * A full trace's block (heap.h): `b` from the real allocator holds the header and then the block at `off`;
 * the allocation is recorded and its site kept in the header. NULL stays NULL.
 */
static inline __attribute__((always_inline)) void *block_done(unsigned kind, char *b, size_t off, size_t n,
							       const uintptr_t *fp, bool counted)
{
	if (UNLIKELY(!b))
		return NULL;
	char *p = b + off;
	struct kh_block *h = kh_hdr(p);
	h->off = (uint32_t)off;
	h->size = n;
	h->site = kh_record_alloc(kind, p, n, fp, counted);
	return p;
}

/* A full trace's block of `n` bytes from the real malloc. */
static inline __attribute__((always_inline)) void *malloc_hdr(unsigned kind, size_t n, const uintptr_t *fp,
							       bool counted)
{
	if (UNLIKELY(n > SIZE_MAX - KH_HDR))
		return no_memory();
	return block_done(kind, kh_real.malloc(n + KH_HDR), KH_HDR, n, fp, counted);
}

/*
 * A full trace's block of `room` bytes aligned to `align` (rounded up to a power of two, as memalign does),
 * recorded as `n` bytes: the header sits in the `align` bytes before the block.
 */
static void *aligned_room(unsigned kind, size_t align, size_t n, size_t room, const uintptr_t *fp)
{
	size_t off = KH_HDR;
	while (off < align) {
		if (off >= (size_t)1 << 31)
			return no_memory();
		off *= 2;
	}
	if (room > SIZE_MAX - off)
		return no_memory();
	char *b = off == KH_HDR ? kh_real.malloc(room + off) : kh_real.memalign(off, room + off);
	return block_done(kind, b, off, n, fp, false);
}

static void *aligned_hdr(unsigned kind, size_t align, size_t n, const uintptr_t *fp)
{
	return aligned_room(kind, align, n, n, fp);
}

/*
 * A full trace's free: the header names the site and the size, and where the real block starts. An offset
 * no allocation here made (a block freed twice, whose header the allocator reused) is passed on as it is, for
 * the allocator to report as it would without us.
 */
static void free_hdr(void *p, bool by_realloc)
{
	struct kh_block *h = kh_hdr(p);
	uint32_t off = h->off;
	if (UNLIKELY(off < KH_HDR || (off & (off - 1)))) {
		kh_real.free(p);
		return;
	}
	if (h->site)
		kh_record_free(p, h->site, h->size, by_realloc);
	kh_real.free((char *)p - off);
}

/*
 * malloc and free are the hot hooks: their fast paths (sampling, an unsampled block) must cost next to
 * nothing, so the rest lives in noinline functions that walk the stack from the hook's frame: the hook keeps
 * its frame pointer and the call is not a tail call (the empty asm after it), so the slow function's saved
 * frame pointer is the hook's. A full trace never takes the fast paths (its countdown stays at zero, its
 * filter has every bit set).
 */
static __attribute__((noinline)) void *malloc_slow(size_t n)
{
	const uintptr_t *fp = (const uintptr_t *)*(uintptr_t *)__builtin_frame_address(0);
	if (UNLIKELY(!kh_real.malloc)) {
		kh_resolve();
		if (!kh_real.malloc)
			return kh_boot_alloc(n);
	}
	if (g_headers)
		return malloc_hdr(KH_MALLOC, n, fp, true);
	void *p = kh_real.malloc(n);
	if (LIKELY(p != NULL))
		kh_record_alloc(KH_MALLOC, p, n, fp, true);
	return p;
}

EXPORT void *malloc(size_t n)
{
	if (LIKELY(sample_fast(n)))
		return kh_real.malloc(n);
	void *p = malloc_slow(n);
	__asm__ volatile("" ::: "memory");
	return p;
}

/* free(), and realloc's free (`by_realloc`: never a temporary allocation). */
static void do_free(void *p, bool by_realloc)
{
	if (!p || is_boot(p))
		return;
	int saved = errno;
	if (g_headers) {
		free_hdr(p, by_realloc);
	} else {
		kh_record_free(p, 0, 0, by_realloc);
		kh_real.free(p);
	}
	errno = saved;
}

static __attribute__((noinline)) void free_slow(void *p)
{
	do_free(p, false);
}

EXPORT void free(void *p)
{
	/* Sampling: a block the filter does not know was not sampled (nor is it a start-up block). */
	if (LIKELY(!free_wanted(p))) {
		kh_real.free(p);
		return;
	}
	free_slow(p);
	__asm__ volatile("" ::: "memory");
}

EXPORT void free_sized(void *p, size_t n)
{
	(void)n;
	do_free(p, false);
}

EXPORT void free_aligned_sized(void *p, size_t align, size_t n)
{
	(void)align, (void)n;
	do_free(p, false);
}

EXPORT void *calloc(size_t n, size_t m)
{
	size_t total;
	if (__builtin_mul_overflow(n, m, &total))
		return no_memory();
	if (UNLIKELY(!kh_real.calloc)) {
		kh_resolve();
		if (!kh_real.calloc)
			return kh_boot_alloc(total); /* static memory: already zero */
	}
	if (LIKELY(sample_fast(total)))
		return kh_real.calloc(n, m);
	if (g_headers) {
		if (total > SIZE_MAX - KH_HDR)
			return no_memory();
		return block_done(KH_CALLOC, kh_real.calloc(1, total + KH_HDR), KH_HDR, total, FRAME, true);
	}
	void *p = kh_real.calloc(n, m);
	if (LIKELY(p != NULL))
		kh_record_alloc(KH_CALLOC, p, total, FRAME, true);
	return p;
}

/* The size of a start-up block (kept in the 16 bytes before it). */
static size_t boot_size(const void *p)
{
	size_t n;
	memcpy(&n, (const char *)p - 16, sizeof(n));
	return n;
}

/* realloc of a block from the start-up arena: a new block, the old one's bytes copied. */
static void *realloc_boot(void *old, size_t n, const uintptr_t *fp)
{
	size_t on = boot_size(old);
	void *p;
	if (g_headers) {
		p = malloc_hdr(KH_REALLOC_KIND, n, fp, false);
	} else {
		p = kh_real.malloc(n ? n : 1);
		if (p)
			RECORD_AT(KH_REALLOC_KIND, p, n, fp);
	}
	if (p)
		memcpy(p, old, on < n ? on : n);
	return p;
}

/* A full trace's realloc (old is not NULL, nor a start-up block, and n is not 0). */
static void *realloc_hdr(void *old, size_t n, const uintptr_t *fp)
{
	struct kh_block *h = kh_hdr(old);
	uint32_t site = h->site;
	uint64_t size = h->size;
	size_t off = h->off;
	if (off == KH_HDR) {
		if (n > SIZE_MAX - KH_HDR)
			return no_memory();
		char *b = kh_real.realloc((char *)old - KH_HDR, n + KH_HDR);
		if (!b)
			return NULL;
		if (site)
			kh_record_free(old, site, size, true);
		return block_done(KH_REALLOC_KIND, b, KH_HDR, n, fp, false);
	}
	/* An aligned block: the real realloc would not keep the header's offset. */
	void *p = malloc_hdr(KH_REALLOC_KIND, n, fp, false);
	if (!p)
		return NULL;
	size_t have = kh_real.malloc_usable_size((char *)old - off) - off;
	memcpy(p, old, have < n ? have : n);
	free_hdr(old, true);
	return p;
}

static void *do_realloc(void *old, size_t n, const uintptr_t *fp)
{
	if (UNLIKELY(!kh_real.realloc)) {
		kh_resolve();
		if (!kh_real.realloc) {
			void *p = kh_boot_alloc(n);
			if (p && old) {
				size_t on = boot_size(old);
				memcpy(p, old, on < n ? on : n);
			}
			return p;
		}
	}
	if (old && is_boot(old))
		return realloc_boot(old, n, fp);
	if (!old) {
		if (g_headers)
			return malloc_hdr(KH_REALLOC_KIND, n, fp, false);
		void *p = kh_real.realloc(NULL, n);
		if (p)
			RECORD_AT(KH_REALLOC_KIND, p, n, fp);
		return p;
	}
	if (n == 0) {
		/* glibc frees and returns NULL */
		do_free(old, true);
		return NULL;
	}
	if (g_headers)
		return realloc_hdr(old, n, fp);
	void *p = kh_real.realloc(old, n);
	if (p) {
		/* Sampling: the old block's free (if it was sampled), then the new block as any allocation; both
		 * through the same fast paths as free() and malloc(). */
		if (UNLIKELY(free_wanted(old)))
			kh_record_free(old, 0, 0, true);
		RECORD_AT(KH_REALLOC_KIND, p, n, fp);
	}
	return p;
}

EXPORT void *realloc(void *old, size_t n)
{
	return do_realloc(old, n, FRAME);
}

EXPORT void *reallocarray(void *old, size_t n, size_t m)
{
	size_t total;
	if (__builtin_mul_overflow(n, m, &total))
		return no_memory();
	return do_realloc(old, total, FRAME);
}

static bool align_ok(size_t align)
{
	return align && !(align & (align - 1)) && !(align % sizeof(void *));
}

EXPORT int posix_memalign(void **out, size_t align, size_t n)
{
	if (UNLIKELY(!kh_real.posix_memalign))
		kh_resolve();
	if (g_headers) {
		if (!align_ok(align))
			return EINVAL;
		int saved = errno;
		void *p = aligned_hdr(KH_MEMALIGN, align, n, FRAME);
		errno = saved;
		if (!p)
			return ENOMEM;
		*out = p;
		return 0;
	}
	int r = kh_real.posix_memalign(out, align, n);
	if (r == 0 && *out)
		RECORD(KH_MEMALIGN, *out, n);
	return r;
}

EXPORT void *aligned_alloc(size_t align, size_t n)
{
	if (UNLIKELY(!kh_real.aligned_alloc))
		kh_resolve();
	if (g_headers)
		return aligned_hdr(KH_MEMALIGN, align, n, FRAME);
	void *p = kh_real.aligned_alloc(align, n);
	if (p)
		RECORD(KH_MEMALIGN, p, n);
	return p;
}

EXPORT void *memalign(size_t align, size_t n)
{
	if (UNLIKELY(!kh_real.memalign))
		kh_resolve();
	if (g_headers)
		return aligned_hdr(KH_MEMALIGN, align, n, FRAME);
	void *p = kh_real.memalign(align, n);
	if (p)
		RECORD(KH_MEMALIGN, p, n);
	return p;
}

EXPORT void *valloc(size_t n)
{
	if (UNLIKELY(!kh_real.valloc))
		kh_resolve();
	if (g_headers)
		return aligned_hdr(KH_MEMALIGN, (size_t)sysconf(_SC_PAGESIZE), n, FRAME);
	void *p = kh_real.valloc(n);
	if (p)
		RECORD(KH_MEMALIGN, p, n);
	return p;
}

EXPORT void *pvalloc(size_t n)
{
	if (UNLIKELY(!kh_real.pvalloc))
		kh_resolve();
	if (g_headers) {
		size_t page = (size_t)sysconf(_SC_PAGESIZE), whole;
		if (__builtin_add_overflow(n, page - 1, &whole))
			return no_memory();
		whole &= ~(page - 1);
		return aligned_room(KH_MEMALIGN, page, n, whole ? whole : page, FRAME);
	}
	void *p = kh_real.pvalloc(n);
	if (p)
		RECORD(KH_MEMALIGN, p, n);
	return p;
}

EXPORT size_t malloc_usable_size(void *p)
{
	if (!p)
		return 0;
	if (is_boot(p))
		return boot_size(p);
	if (UNLIKELY(!kh_real.malloc_usable_size))
		kh_resolve();
	if (g_headers) {
		size_t off = kh_hdr(p)->off;
		return kh_real.malloc_usable_size((char *)p - off) - off;
	}
	return kh_real.malloc_usable_size(p);
}

/*
 * C++ operator new: hooked so that the stack starts at the caller of new (libstdc++ has no frame pointers, so
 * a walk from malloc would skip the caller). Memory comes from the real malloc; only failure goes to the real
 * operator new, which runs the new-handler and throws (its own allocations come through the hooks above).
 */
typedef void *(*new_fn)(size_t);
typedef void *(*new_nt_fn)(size_t, const void *);
typedef void *(*new_al_fn)(size_t, size_t);
typedef void *(*new_al_nt_fn)(size_t, size_t, const void *);

static void *new_common(size_t n, unsigned kind, const uintptr_t *fp)
{
	if (LIKELY(sample_fast(n)))
		return kh_real.malloc(n ? n : 1);
	if (UNLIKELY(!kh_real.malloc))
		kh_resolve();
	if (g_headers)
		return malloc_hdr(kind, n, fp, true);
	void *p = kh_real.malloc(n ? n : 1);
	if (LIKELY(p != NULL))
		kh_record_alloc(kind, p, n, fp, true);
	return p;
}

static void *new_aligned(size_t n, size_t align, unsigned kind, const uintptr_t *fp)
{
	void *p = NULL;
	if (UNLIKELY(!kh_real.posix_memalign))
		kh_resolve();
	if (g_headers)
		return aligned_hdr(kind, align, n, fp);
	if (align < sizeof(void *))
		align = sizeof(void *);
	if (kh_real.posix_memalign(&p, align, n ? n : 1) != 0)
		return NULL;
	RECORD_AT(kind, p, n, fp);
	return p;
}

EXPORT void *_Znwm(size_t n)
{
	void *p = new_common(n, KH_NEW, FRAME);
	if (UNLIKELY(!p)) {
		new_fn f = (new_fn)kh_sym("_Znwm");
		return f ? f(n) : NULL;
	}
	return p;
}

EXPORT void *_Znam(size_t n)
{
	void *p = new_common(n, KH_NEW_ARRAY, FRAME);
	if (UNLIKELY(!p)) {
		new_fn f = (new_fn)kh_sym("_Znam");
		return f ? f(n) : NULL;
	}
	return p;
}

EXPORT void *_ZnwmRKSt9nothrow_t(size_t n, const void *nt)
{
	void *p = new_common(n, KH_NEW, FRAME);
	if (UNLIKELY(!p)) {
		new_nt_fn f = (new_nt_fn)kh_sym("_ZnwmRKSt9nothrow_t");
		return f ? f(n, nt) : NULL;
	}
	return p;
}

EXPORT void *_ZnamRKSt9nothrow_t(size_t n, const void *nt)
{
	void *p = new_common(n, KH_NEW_ARRAY, FRAME);
	if (UNLIKELY(!p)) {
		new_nt_fn f = (new_nt_fn)kh_sym("_ZnamRKSt9nothrow_t");
		return f ? f(n, nt) : NULL;
	}
	return p;
}

EXPORT void *_ZnwmSt11align_val_t(size_t n, size_t align)
{
	void *p = new_aligned(n, align, KH_NEW, FRAME);
	if (UNLIKELY(!p)) {
		new_al_fn f = (new_al_fn)kh_sym("_ZnwmSt11align_val_t");
		return f ? f(n, align) : NULL;
	}
	return p;
}

EXPORT void *_ZnamSt11align_val_t(size_t n, size_t align)
{
	void *p = new_aligned(n, align, KH_NEW_ARRAY, FRAME);
	if (UNLIKELY(!p)) {
		new_al_fn f = (new_al_fn)kh_sym("_ZnamSt11align_val_t");
		return f ? f(n, align) : NULL;
	}
	return p;
}

EXPORT void *_ZnwmSt11align_val_tRKSt9nothrow_t(size_t n, size_t align, const void *nt)
{
	void *p = new_aligned(n, align, KH_NEW, FRAME);
	if (UNLIKELY(!p)) {
		new_al_nt_fn f = (new_al_nt_fn)kh_sym("_ZnwmSt11align_val_tRKSt9nothrow_t");
		return f ? f(n, align, nt) : NULL;
	}
	return p;
}

EXPORT void *_ZnamSt11align_val_tRKSt9nothrow_t(size_t n, size_t align, const void *nt)
{
	void *p = new_aligned(n, align, KH_NEW_ARRAY, FRAME);
	if (UNLIKELY(!p)) {
		new_al_nt_fn f = (new_al_nt_fn)kh_sym("_ZnamSt11align_val_tRKSt9nothrow_t");
		return f ? f(n, align, nt) : NULL;
	}
	return p;
}

EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	if (!kh_real.execve)
		kh_resolve();
	kh_before_exec();
	return kh_real.execve(path, argv, envp);
}

EXPORT int execv(const char *path, char *const argv[])
{
	extern char **environ;
	return execve(path, argv, environ);
}

EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	if (!kh_real.execvpe)
		kh_resolve();
	kh_before_exec();
	return kh_real.execvpe(file, argv, envp);
}

EXPORT int execvp(const char *file, char *const argv[])
{
	extern char **environ;
	return execvpe(file, argv, environ);
}

/* The execl family: glibc calls its internal execve, so they are rebuilt here on the hooks above. */
#define EXECL_MAX 4096

EXPORT int execl(const char *path, const char *arg, ...)
{
	extern char **environ;
	char *argv[EXECL_MAX];
	size_t n = 0;
	va_list ap;
	argv[n++] = (char *)arg;
	va_start(ap, arg);
	while (n < EXECL_MAX && (argv[n] = va_arg(ap, char *)) != NULL)
		n++;
	va_end(ap);
	if (n == EXECL_MAX) {
		errno = E2BIG;
		return -1;
	}
	argv[n] = NULL;
	return execve(path, argv, environ);
}

EXPORT int execlp(const char *file, const char *arg, ...)
{
	char *argv[EXECL_MAX];
	size_t n = 0;
	va_list ap;
	argv[n++] = (char *)arg;
	va_start(ap, arg);
	while (n < EXECL_MAX && (argv[n] = va_arg(ap, char *)) != NULL)
		n++;
	va_end(ap);
	if (n == EXECL_MAX) {
		errno = E2BIG;
		return -1;
	}
	argv[n] = NULL;
	return execvp(file, argv);
}

EXPORT int execle(const char *path, const char *arg, ...)
{
	char *argv[EXECL_MAX];
	size_t n = 0;
	va_list ap;
	argv[n++] = (char *)arg;
	va_start(ap, arg);
	while (n < EXECL_MAX && (argv[n] = va_arg(ap, char *)) != NULL)
		n++;
	if (n == EXECL_MAX) {
		va_end(ap);
		errno = E2BIG;
		return -1;
	}
	argv[n] = NULL;
	char *const *envp = va_arg(ap, char *const *);
	va_end(ap);
	return execve(path, argv, envp);
}

EXPORT void _exit(int status)
{
	if (!kh_real.exit_)
		kh_resolve();
	kh_flush_process(true);
	kh_real.exit_(status);
}

EXPORT int dlclose(void *h)
{
	if (!kh_real.dlclose)
		kh_resolve();
	/* Addresses in the library are named after it is gone with the maps sent now. */
	kh_flush_process(false);
	return kh_real.dlclose(h);
}
