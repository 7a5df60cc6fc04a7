/*
 * libkiln-heap.so, the heap profiler's preload library: its state, configuration and process life (start,
 * exec, _exit, dlclose, fork). The hooks are in heap_hooks.c; behind them heap_record.c records (windows,
 * stacks), heap_output.c sends to kiln, heap_thread.c holds per-thread state and sampling, heap_sset.c the
 * sampled-address set (heap_lib.h). Each thread appends records (heap_wire.h) to its own buffer and interns its
 * stacks, taken by a bounds-checked frame pointer walk; a full buffer is sent to kiln over a Unix socket under
 * a lock, so there is no lock per event. A full trace finds a freed block's site in the header before it
 * (heap.h), so threads share nothing per event. Nothing here allocates through the hooked allocator (buffers
 * are mmap()ed; dlsym's start-up allocations come from a static arena), and nothing of libkiln is used.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "heap_lib.h"

struct kh_real kh_real;
_Alignas(16) char kh_boot_arena[KH_BOOT_BYTES];
size_t kh_boot_used;
static int resolving;

TLS struct tstate *t_state;
TLS struct fastpath t_fast;
TLS int t_guard; /* inside the library: allocations pass through unrecorded */

int g_enabled;
pid_t g_pid; /* this process: a vfork()ed child shares our memory but must not use our stream */
int g_sock = -1;
uint64_t g_sample;
int g_headers;
static bool g_configured;
unsigned g_depth = KH_DEFAULT_DEPTH;
static bool g_no_children;
static char g_sock_path[108];
pthread_key_t g_key;
pthread_mutex_t g_write_lock = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t g_reg_lock = PTHREAD_MUTEX_INITIALIZER;
struct tstate *g_threads;
_Atomic uint32_t g_next_stack;
uint32_t g_first_stack = 1;
_Atomic int64_t g_live;
bool g_closed;
_Atomic bool g_off;
static atomic_flag g_off_filter = ATOMIC_FLAG_INIT; /* g_off's emptying of the free() filter was done */

void *kh_boot_alloc(size_t n)
{
	size_t span = kh_boot_span(n);
	if (n > KH_BOOT_BYTES || span > KH_BOOT_BYTES - kh_boot_used)
		return NULL;
	char *p = kh_boot_arena + kh_boot_used + 16;
	memcpy(p - 16, &n, sizeof(n));
	kh_boot_used += span;
	if (g_sampling) {
		/* free() must not hand it to the real allocator: its filter bit sends it to free_slow(). */
		kh_slock();
		kh_filter_add((uintptr_t)p);
		kh_sunlock();
	}
	return p;
}

void *kh_sym(const char *name)
{
	return dlsym(RTLD_NEXT, name);
}

/*
 * What kiln asked for, from the environment, read once before the first allocation is served: whether blocks
 * carry headers cannot change afterwards. No headers when the library runs without kiln (nothing records) or
 * samples (few blocks are recorded: a header on every block would cost memory for nothing).
 */
static void configure(void)
{
	if (g_configured)
		return;
	g_configured = true;
	const char *path = getenv(KH_ENV_SOCK);
	if (!path || !*path || strlen(path) >= sizeof(g_sock_path))
		return;
	memcpy(g_sock_path, path, strlen(path) + 1);
	const char *s = getenv(KH_ENV_SAMPLE);
	if (s && *s)
		g_sample = strtoull(s, NULL, 10);
	s = getenv(KH_ENV_DEPTH);
	if (s && *s) {
		unsigned long d = strtoul(s, NULL, 10);
		g_depth = d < 1 ? 1 : d > KH_MAX_DEPTH ? KH_MAX_DEPTH : (unsigned)d;
	}
	s = getenv(KH_ENV_NO_CHILDREN);
	g_no_children = s && *s == '1';
	g_headers = !g_sample;
}

/*
 * Recording stops for good (no kiln to send to, kiln gone, a child kiln was told not to profile). Without block
 * headers the hooks then become plain forwarders (kh_pass_through): the program runs on at the speed it has
 * without the library. A full trace's blocks keep their headers, which free() must still take off.
 */
void kh_stop_recording(void)
{
	g_enabled = 0;
	if (!g_headers)
		g_off = true;
}

/* Called by the recording entry points while recording is off for good (outside the library's own work). */
void kh_pass_through(void)
{
	t_fast.countdown = INT64_MAX; /* this thread's malloc() never leaves the fast path again */
	if (atomic_flag_test_and_set(&g_off_filter))
		return;
	/* free(): only the start-up blocks need the slow path; sampled blocks still live are the real allocator's */
	kh_slock();
	kh_filter_start();
	kh_sunlock();
}

void kh_resolve(void)
{
	if (kh_real.malloc || resolving)
		return;
	resolving = 1;
	configure();
	kh_real.calloc = kh_sym("calloc");
	kh_real.free = kh_sym("free");
	kh_real.realloc = kh_sym("realloc");
	kh_real.posix_memalign = kh_sym("posix_memalign");
	kh_real.aligned_alloc = kh_sym("aligned_alloc");
	kh_real.memalign = kh_sym("memalign");
	kh_real.valloc = kh_sym("valloc");
	kh_real.pvalloc = kh_sym("pvalloc");
	kh_real.malloc_usable_size = kh_sym("malloc_usable_size");
	kh_real.execve = kh_sym("execve");
	kh_real.execvpe = kh_sym("execvpe");
	kh_real.exit_ = kh_sym("_exit");
	kh_real.dlclose = kh_sym("dlclose");
	kh_real.malloc = kh_sym("malloc");
	resolving = 0;
}

/* Process life: exec, _exit, dlclose, fork. */

void kh_before_exec(void)
{
	if (!g_enabled || getpid() != g_pid)
		return;
	int saved = errno;
	t_guard++;
	kh_flush_all(true);
	uint64_t w = KH_HEAD(KH_EXEC, 0, 0, 0);
	pthread_mutex_lock(&g_write_lock);
	if (!g_closed)
		kh_send_all(&w, 8);
	pthread_mutex_unlock(&g_write_lock);
	/* Should the exec fail, the stream has said the image is gone: the rest of it goes unrecorded. */
	kh_close_stream();
	t_guard--;
	errno = saved;
}

void kh_flush_process(bool final)
{
	if (!g_enabled || getpid() != g_pid)
		return;
	int saved = errno;
	t_guard++;
	kh_flush_all(final);
	kh_send_maps();
	if (final)
		kh_close_stream();
	t_guard--;
	errno = saved;
}

static void send_header(uint32_t flags)
{
	struct kh_header h;
	memset(&h, 0, sizeof(h));
	memcpy(h.magic, KH_MAGIC, 8);
	h.version = KH_VERSION;
	h.pid = (uint32_t)getpid();
	h.ppid = (uint32_t)getppid();
	h.flags = flags;
	h.sample_bytes = g_sample;
	h.start_ns = kh_now_ns();
	h.first_stack = g_first_stack = atomic_load_explicit(&g_next_stack, memory_order_relaxed) + 1;
	kh_send_all(&h, sizeof(h));
}

static int connect_sock(void)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_un a;
	memset(&a, 0, sizeof(a));
	a.sun_family = AF_UNIX;
	memcpy(a.sun_path, g_sock_path, sizeof(a.sun_path));
	while (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		if (errno == EINTR)
			continue;
		close(fd);
		return -1;
	}
	return fd;
}

static void fork_prepare(void)
{
	t_guard++;
	pthread_mutex_lock(&g_reg_lock);
	pthread_mutex_lock(&g_write_lock);
	if (g_sample)
		kh_slock();
}

static void fork_parent(void)
{
	if (g_sample)
		kh_sunlock();
	pthread_mutex_unlock(&g_write_lock);
	pthread_mutex_unlock(&g_reg_lock);
	t_guard--;
}

static void fork_child(void)
{
	if (g_sample)
		kh_sunlock();
	pthread_mutex_init(&g_write_lock, NULL);
	pthread_mutex_init(&g_reg_lock, NULL);
	/* Only this thread lives on; the others' buffers belong to the parent, which sends them. */
	struct tstate *self = t_state, *next;
	for (struct tstate *t = g_threads; t; t = next) {
		next = t->next;
		if (t != self)
			kh_tstate_unmap(t);
	}
	g_threads = self;
	if (self) {
		self->next = NULL;
		pthread_mutex_init(&self->flock, NULL);
		self->pos = self->start = 0;
		self->calls = self->bytes = 0;
		t_fast.calls = 0;
		self->armed = t_fast.countdown;
		self->tid = (uint32_t)syscall(SYS_gettid);
		/* A new stream: its stacks are sent again; the window's events are the parent's. */
		memset(self->stab, 0, (self->stab_mask + 1) * sizeof(*self->stab));
		self->stab_nr = 0;
		kh_win_reset(&self->win);
		self->last_alloc = NULL;
		self->pend = 0;
	}
	if (g_sock >= 0)
		close(g_sock);
	g_sock = -1;
	g_pid = getpid();
	g_closed = false;
	if (g_enabled && !g_no_children) {
		g_sock = connect_sock();
		if (g_sock >= 0) {
			send_header(KH_FLAG_FORKED);
			kh_send_maps();
		}
	}
	if (g_sock < 0)
		kh_stop_recording();
	t_guard--;
}

/* Removes this library from LD_PRELOAD in place (no allocation), so that exec'd programs run without it. */
static void strip_preload(void)
{
	extern char **environ;
	Dl_info info;
	if (!dladdr((void *)strip_preload, &info) || !info.dli_fname)
		return;
	const char *self = info.dli_fname;
	const char *base = strrchr(self, '/');
	base = base ? base + 1 : self;
	for (char **e = environ; e && *e; e++) {
		if (strncmp(*e, "LD_PRELOAD=", 11))
			continue;
		char *v = *e + 11, *p = v;
		while (*p) {
			char *end = p + strcspn(p, ": ");
			size_t len = (size_t)(end - p);
			const char *slash = memrchr(p, '/', len);
			const char *b = slash ? slash + 1 : p;
			if ((size_t)(end - b) == strlen(base) && !memcmp(b, base, strlen(base))) {
				size_t skip = len + (*end ? 1 : 0);
				memmove(p, p + skip, strlen(p + skip) + 1);
				continue;
			}
			p = *end ? end + 1 : end;
		}
	}
}

/* Connects to kiln and starts recording: false when it cannot. */
static bool start_recording(void)
{
	if (!g_sock_path[0])
		return false;
	if (g_no_children)
		strip_preload();
	if (g_sample && !kh_sset_init())
		return false;
	if (pthread_key_create(&g_key, kh_thread_exit) != 0)
		return false;
	g_sock = connect_sock();
	if (g_sock < 0)
		return false;
	pthread_atfork(fork_prepare, fork_parent, fork_child);
	g_pid = getpid();
	send_header(0);
	kh_send_maps();
	if (g_sample) {
		kh_slock();
		kh_filter_start();
		kh_sunlock();
	}
	g_enabled = 1;
	return true;
}

__attribute__((constructor)) static void kh_init(void)
{
	kh_resolve(); /* the first allocation may have done it, and read the settings (configure) */
	if (!start_recording())
		kh_stop_recording();
}

__attribute__((destructor)) static void kh_fini(void)
{
	if (!g_enabled)
		return;
	t_guard++;
	kh_flush_all(true);
	kh_send_maps();
	kh_close_stream();
	g_enabled = 0;
	t_guard--;
}
