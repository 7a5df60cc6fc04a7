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

/*
 * malloc and free are the hot hooks: their fast paths (sampling, an unsampled block) must cost next to
 * nothing, so the rest lives in noinline functions that walk the stack from the hook's frame: the hook keeps
 * its frame pointer and the call is not a tail call (the empty asm after it), so the slow function's saved
 * frame pointer is the hook's.
 */
static __attribute__((noinline)) void *malloc_slow(size_t n)
{
	if (UNLIKELY(!kh_real.malloc)) {
		kh_resolve();
		if (!kh_real.malloc)
			return kh_boot_alloc(n);
	}
	void *p = kh_real.malloc(n);
	if (LIKELY(p != NULL))
		kh_record_alloc(KH_MALLOC, p, n, (const uintptr_t *)*(uintptr_t *)__builtin_frame_address(0), true);
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

static __attribute__((noinline)) void free_slow(void *p)
{
	if (!p || is_boot(p))
		return;
	int saved = errno;
	kh_record_free(p);
	if (UNLIKELY(!kh_real.free))
		kh_resolve();
	kh_real.free(p);
	errno = saved;
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
	if (!p || is_boot(p))
		return;
	kh_record_free(p);
	int saved = errno;
	kh_real.free(p);
	errno = saved;
}

EXPORT void free_aligned_sized(void *p, size_t align, size_t n)
{
	(void)align, (void)n;
	if (!p || is_boot(p))
		return;
	kh_record_free(p);
	int saved = errno;
	kh_real.free(p);
	errno = saved;
}

EXPORT void *calloc(size_t n, size_t m)
{
	if (UNLIKELY(!kh_real.calloc)) {
		kh_resolve();
		if (!kh_real.calloc) {
			size_t total;
			if (__builtin_mul_overflow(n, m, &total))
				return NULL;
			return kh_boot_alloc(total); /* static memory: already zero */
		}
	}
	if (LIKELY(sample_fast(n * m)))
		return kh_real.calloc(n, m);
	void *p = kh_real.calloc(n, m);
	if (LIKELY(p != NULL))
		kh_record_alloc(KH_CALLOC, p, n * m, FRAME, true);
	return p;
}

static void *do_realloc(void *old, size_t n, const uintptr_t *fp)
{
	if (UNLIKELY(!kh_real.realloc)) {
		kh_resolve();
		if (!kh_real.realloc) {
			void *p = kh_boot_alloc(n);
			if (p && old) {
				size_t on;
				memcpy(&on, (char *)old - 16, sizeof(on));
				memcpy(p, old, on < n ? on : n);
			}
			return p;
		}
	}
	if (old && is_boot(old)) {
		size_t on;
		memcpy(&on, (char *)old - 16, sizeof(on));
		void *p = kh_real.malloc(n ? n : 1);
		if (p) {
			memcpy(p, old, on < n ? on : n);
			kh_record_alloc(KH_REALLOC_KIND, p, n, fp, false);
		}
		return p;
	}
	if (!old) {
		void *p = kh_real.realloc(NULL, n);
		if (p)
			kh_record_alloc(KH_REALLOC_KIND, p, n, fp, false);
		return p;
	}
	if (n == 0) {
		/* glibc frees and returns NULL */
		kh_record_free(old);
		return kh_real.realloc(old, 0);
	}
	void *p = kh_real.realloc(old, n);
	if (p)
		kh_record_realloc(old, p, n, fp);
	return p;
}

EXPORT void *realloc(void *old, size_t n)
{
	return do_realloc(old, n, FRAME);
}

EXPORT void *reallocarray(void *old, size_t n, size_t m)
{
	size_t total;
	if (__builtin_mul_overflow(n, m, &total)) {
		errno = ENOMEM;
		return NULL;
	}
	return do_realloc(old, total, FRAME);
}

EXPORT int posix_memalign(void **out, size_t align, size_t n)
{
	if (UNLIKELY(!kh_real.posix_memalign))
		kh_resolve();
	int r = kh_real.posix_memalign(out, align, n);
	if (r == 0 && *out)
		RECORD(KH_MEMALIGN, *out, n);
	return r;
}

EXPORT void *aligned_alloc(size_t align, size_t n)
{
	if (UNLIKELY(!kh_real.aligned_alloc))
		kh_resolve();
	void *p = kh_real.aligned_alloc(align, n);
	if (p)
		RECORD(KH_MEMALIGN, p, n);
	return p;
}

EXPORT void *memalign(size_t align, size_t n)
{
	if (UNLIKELY(!kh_real.memalign))
		kh_resolve();
	void *p = kh_real.memalign(align, n);
	if (p)
		RECORD(KH_MEMALIGN, p, n);
	return p;
}

EXPORT void *valloc(size_t n)
{
	if (UNLIKELY(!kh_real.valloc))
		kh_resolve();
	void *p = kh_real.valloc(n);
	if (p)
		RECORD(KH_MEMALIGN, p, n);
	return p;
}

EXPORT void *pvalloc(size_t n)
{
	if (UNLIKELY(!kh_real.pvalloc))
		kh_resolve();
	void *p = kh_real.pvalloc(n);
	if (p)
		RECORD(KH_MEMALIGN, p, n);
	return p;
}

EXPORT size_t malloc_usable_size(void *p)
{
	if (!p)
		return 0;
	if (is_boot(p)) {
		size_t n;
		memcpy(&n, (char *)p - 16, sizeof(n));
		return n;
	}
	if (UNLIKELY(!kh_real.malloc_usable_size))
		kh_resolve();
	return kh_real.malloc_usable_size(p);
}

/*
 * C++ operator new: hooked so that the stack starts at the caller of new (libstdc++ has no frame pointers, so
 * a walk from malloc would skip the caller). Memory comes from the real malloc; only failure goes to the real
 * operator new, which runs the new-handler and throws.
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
	if (align < sizeof(void *))
		align = sizeof(void *);
	if (kh_real.posix_memalign(&p, align, n ? n : 1) != 0)
		return NULL;
	kh_record_alloc(kind, p, n, fp, false);
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
	kh_flush_process();
	kh_real.exit_(status);
}

EXPORT int dlclose(void *h)
{
	if (!kh_real.dlclose)
		kh_resolve();
	/* Addresses in the library are named after it is gone with the maps sent now. */
	kh_flush_process();
	return kh_real.dlclose(h);
}
