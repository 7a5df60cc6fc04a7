/*
 * The heap profiler's stream to kiln: a thread's buffer sent whole under the write lock, another thread's
 * committed records at its exit, /proc/self/maps, and the final flush (heap_lib.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "heap_lib.h"

/* Writes to kiln. Like everything the recording paths call that can fail, it leaves errno as it was. */
void kh_send_all(const void *data, size_t len)
{
	int saved = errno;
	const char *p = data;
	while (len && g_sock >= 0) {
		ssize_t n = send(g_sock, p, len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			/* kiln is gone: stop recording, the program carries on. */
			kh_stop_recording();
			break;
		}
		p += n;
		len -= (size_t)n;
	}
	errno = saved;
}

/* Sampling's exact counts (a full trace sends every allocation: kiln counts them itself). */
static void put_stats(struct tstate *t)
{
	if (!g_sample)
		return;
	kh_fast_fold(t);
	if (!t->calls)
		return;
	if (!t->pos) {
		uint64_t c[3] = { KH_HEAD(KH_CHUNK, 0, 2, 0), t->tid, kh_now_ns() };
		kh_put(t, c, 3);
	}
	uint64_t w[3] = { KH_HEAD(KH_STATS, 0, 2, 0), t->calls, t->bytes };
	kh_put(t, w, 3);
	t->calls = t->bytes = 0;
}

/* Sends the owner's buffer and empties it. */
void kh_send_buf(struct tstate *t)
{
	pthread_mutex_lock(&t->flock);
	pthread_mutex_lock(&g_write_lock);
	if (t->pos > t->start && !g_closed)
		kh_send_all(t->buf + t->start, t->pos - t->start);
	pthread_mutex_unlock(&g_write_lock);
	t->start = 0;
	__atomic_store_n(&t->pos, 0, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&t->flock);
	int64_t live = atomic_load_explicit(&g_live, memory_order_relaxed);
	live = live < 0 ? -live : live;
	t->pend = 0;
	t->drift_limit = live / 64 > DRIFT_MIN ? live / 64 : DRIFT_MIN;
}

/* Sends the owner's window and buffer. */
void kh_flush_own(struct tstate *t)
{
	put_stats(t);
	kh_win_close(t);
	kh_send_buf(t);
}

/*
 * Sends what another thread has committed so far (at exit); it is not reset, only marked sent. `final`: the
 * process image is ending, so its open window is sent too, as it is now (the thread may be changing it: at
 * most its event in flight is lost), and nothing is sent after (g_closed).
 */
static void flush_other(struct tstate *t, bool final)
{
	static uint64_t snap[6 + 8 * WIN_SITES + 1 + 2 * 65];
	pthread_mutex_lock(&t->flock);
	size_t pos = __atomic_load_n(&t->pos, __ATOMIC_ACQUIRE);
	uint64_t chunk[3] = { KH_HEAD(KH_CHUNK, 0, 2, 0), t->tid, kh_now_ns() };
	pthread_mutex_lock(&g_write_lock);
	if (pos > t->start && !g_closed) {
		if (t->start) /* the buffer's own CHUNK record was sent already */
			kh_send_all(chunk, sizeof(chunk));
		kh_send_all(t->buf + t->start, pos - t->start);
		t->start = pos;
	}
	uint32_t n = __atomic_load_n(&t->win.n, __ATOMIC_RELAXED);
	if (final && n && !g_closed) {
		n = n < WIN_SITES ? n : WIN_SITES;
		size_t k = kh_win_encode(&t->win, n, snap);
		kh_send_all(chunk, sizeof(chunk));
		kh_send_all(snap, k * 8);
	}
	pthread_mutex_unlock(&g_write_lock);
	pthread_mutex_unlock(&t->flock);
}

/* Makes room for `words` more words, starting a new chunk when the buffer is empty. */
void kh_reserve(struct tstate *t, size_t words)
{
	if (t->pos + (words + 3 + 3) * 8 > BUF_BYTES)
		kh_flush_own(t);
	if (!t->pos) {
		t->chunk_start = kh_now_ns();
		uint64_t w[3] = { KH_HEAD(KH_CHUNK, 0, 2, 0), t->tid, t->chunk_start };
		kh_put(t, w, 3);
	}
}

/* /proc/self/maps into the stream (under the write lock), so kiln can name addresses after we are gone. */
void kh_send_maps(void)
{
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	size_t cap = 64 * 1024;
	uint64_t *rec = mmap(NULL, cap + 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (rec == MAP_FAILED) {
		close(fd);
		return;
	}
	pthread_mutex_lock(&g_write_lock);
	while (!g_closed) {
		size_t len = 0;
		ssize_t n;
		while (len < cap && ((n = read(fd, (char *)(rec + 2) + len, cap - len)) > 0 || (n < 0 && errno == EINTR)))
			if (n > 0)
				len += (size_t)n;
		size_t words = (len + 7) / 8;
		memset((char *)(rec + 2) + len, 0, words * 8 - len);
		bool last = len < cap;
		rec[0] = KH_HEAD(KH_MAPS, last, 1 + words, 0);
		rec[1] = len;
		kh_send_all(rec, (2 + words) * 8);
		if (last)
			break;
	}
	pthread_mutex_unlock(&g_write_lock);
	munmap(rec, cap + 16);
	close(fd);
}

/* `final`: the process image is ending (exit, exec): the other threads' open windows are sent too. */
void kh_flush_all(bool final)
{
	pthread_mutex_lock(&g_reg_lock);
	for (struct tstate *t = g_threads; t; t = t->next) {
		if (t == t_state)
			kh_flush_own(t);
		else
			flush_other(t, final);
	}
	pthread_mutex_unlock(&g_reg_lock);
}

/* After the final flush: what threads still running would send now would count twice. */
void kh_close_stream(void)
{
	pthread_mutex_lock(&g_write_lock);
	g_closed = true;
	pthread_mutex_unlock(&g_write_lock);
}
