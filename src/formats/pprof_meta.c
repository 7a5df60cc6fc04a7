/* The pprof comments that carry a profile's typed metadata (see pprof_meta.h). */
#include "pprof_meta.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/array.h"
#include "../core/buf.h"
#include "../core/xalloc.h"
#include "../profile/profile.h"

#define HEAP_PREFIX "kiln-heap: "
#define IO_PREFIX "kiln-io: "

static bool parse_i64(const char *s, int64_t *v)
{
	char *end;
	long long x;

	if (!*s)
		return false;
	x = strtoll(s, &end, 10);
	*v = x;
	return end != s;
}

/* "B:N,B:N,...": true when at least one bucket was read, as the heap report counts a histogram. */
static bool parse_hist(struct heap_meta *h, const char *v)
{
	bool any = false;

	while (*v) {
		char *end;
		unsigned long b = strtoul(v, &end, 10);
		long long c;

		if (*end != ':')
			break;
		c = strtoll(end + 1, &end, 10);
		if (b < HEAP_HIST_BUCKETS && c > 0)
			h->hist[b] = sat_add64(h->hist[b], c);
		any = true;
		if (*end != ',')
			break;
		v = end + 1;
	}
	return any;
}

static bool read_heap(struct profile *p, const char *c)
{
	const char *eq = strchr(c, '=');
	size_t kl = eq ? (size_t)(eq - c) : 0;
	int64_t v;

	if (!eq)
		return false;
	if (kl == 9 && !strncmp(c, "histogram", 9)) {
		struct heap_meta *h = &p->meta.heap;

		/* A later histogram replaces an earlier one, as a later scalar does. */
		memset(h->hist, 0, sizeof(h->hist));
		h->has_hist = parse_hist(h, eq + 1);
		return true;
	}
	for (unsigned k = 0; k < HEAP_META_NR; k++)
		if (strlen(heap_meta_names[k]) == kl && !strncmp(c, heap_meta_names[k], kl)) {
			if (!parse_i64(eq + 1, &v))
				return false;
			profile_heap_set(p, (enum heap_meta_key)k, v);
			return true;
		}
	return false;
}

/* --- the I/O summary --- */

/* The summary's scalars in the order of io_read_scalar's switch and write_io's values. */
static const char *const io_scalar_names[] = { "duration_ns", "calls", "errors", "total_ns", "dropped",
					      "counts_only", "files_traced", "block" };
#define IO_SCALARS (sizeof(io_scalar_names) / sizeof(io_scalar_names[0]))

/* "B:N,B:N" or "-" into `hist` (IO_META_HIST buckets); false on anything else. */
static bool io_parse_hist(const char *v, uint64_t *hist)
{
	if (!strcmp(v, "-"))
		return true;
	while (*v) {
		char *end;
		unsigned long b = strtoul(v, &end, 10);
		unsigned long long c;

		if (end == v || *end != ':' || b >= IO_META_HIST)
			return false;
		v = end + 1;
		c = strtoull(v, &end, 10);
		if (end == v)
			return false;
		hist[b] = c;
		if (!*end)
			break;
		if (*end != ',')
			return false;
		v = end + 1;
	}
	return true;
}

static uint32_t io_name(struct profile *p, const char *name)
{
	return strcmp(name, "-") ? profile_intern_str(p, name) : 0;
}

static bool io_read_syscall(struct profile *p, const char *v)
{
	struct io_meta_syscall r = { 0 };
	char name[64], hist[2048];

	if (sscanf(v, "%" SCNu32 " %63s %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %2047s", &r.nr, name,
		   &r.count, &r.errors, &r.total_ns, &r.max_ns, hist) != 7 || !io_parse_hist(hist, r.hist))
		return false;
	r.name = io_name(p, name);
	*profile_io_add_syscall(p) = r;
	return true;
}

static bool io_read_slow(struct profile *p, const char *v)
{
	struct io_meta_slowcall r = { 0 };
	char name[64];
	int at = -1;

	if (sscanf(v, "%" SCNu64 " %" SCNu32 " %63s %" SCNu32 " %" SCNu32 " %" SCNu64 " %" SCNd64 "%n", &r.lat_ns,
		   &r.nr, name, &r.tgid, &r.tid, &r.arg0, &r.ret, &at) != 7 || at < 0 || (v[at] && v[at] != ' '))
		return false;
	r.name = io_name(p, name);
	r.where = v[at] && v[at + 1] ? profile_intern_str(p, v + at + 1) : 0;
	*profile_io_add_slowcall(p) = r;
	return true;
}

static bool io_read_file(struct profile *p, const char *v)
{
	struct io_meta_file r = { 0 };
	int at = -1;

	if (sscanf(v, "%" SCNu32 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 "%n",
		   &r.tgid, &r.reads, &r.writes, &r.rbytes, &r.wbytes, &r.read_ns, &r.write_ns, &at) != 7 ||
	    at < 0 || v[at] != ' ')
		return false;
	r.path = profile_intern_str(p, v + at + 1);
	*profile_io_add_file(p) = r;
	return true;
}

static bool io_read_block(struct io_meta_blockdir *d, const char *v)
{
	struct io_meta_blockdir r = { 0 };
	char hist[2048];

	if (sscanf(v, "%" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %2047s", &r.count, &r.bytes, &r.total_ns,
		   &r.max_ns, hist) != 5 || !io_parse_hist(hist, r.hist))
		return false;
	*d = r;
	return true;
}

static bool io_read_scalar(struct io_meta *io, const char *key, size_t kl, const char *v)
{
	int64_t n;

	if (!parse_i64(v, &n) || n < 0)
		return false;
	for (unsigned k = 0; k < IO_SCALARS; k++) {
		if (strlen(io_scalar_names[k]) != kl || strncmp(key, io_scalar_names[k], kl))
			continue;
		switch (k) {
		case 0: io->duration_ns = (uint64_t)n; break;
		case 1: io->calls = (uint64_t)n; break;
		case 2: io->errors = (uint64_t)n; break;
		case 3: io->total_ns = (uint64_t)n; break;
		case 4: io->dropped = (uint64_t)n; break;
		case 5: io->counts_only = n != 0; break;
		case 6: io->files_traced = n != 0; break;
		default: io->block = n != 0; break;
		}
		return true;
	}
	return false;
}

static bool read_io(struct profile *p, const char *c)
{
	struct io_meta *io = &p->meta.io;
	const char *eq = strchr(c, '=');
	size_t kl = eq ? (size_t)(eq - c) : 0;
	bool ok = false;

	if (!eq)
		return false;
	if (kl == 7 && !strncmp(c, "syscall", 7))
		ok = io_read_syscall(p, eq + 1);
	else if (kl == 4 && !strncmp(c, "slow", 4))
		ok = io_read_slow(p, eq + 1);
	else if (kl == 4 && !strncmp(c, "file", 4))
		ok = io_read_file(p, eq + 1);
	else if (kl > 6 && !strncmp(c, "block_", 6)) {
		for (int k = 0; k < IO_BLOCK_NR && !ok; k++)
			if (strlen(io_block_names[k]) == kl - 6 && !strncmp(c + 6, io_block_names[k], kl - 6))
				ok = io_read_block(&io->blk[k], eq + 1);
	} else {
		ok = io_read_scalar(io, c, kl, eq + 1);
	}
	if (ok)
		io->known = true;
	return ok;
}

static void io_add_hist(struct buf *b, const uint64_t *hist)
{
	bool first = true;

	for (unsigned k = 0; k < IO_META_HIST; k++)
		if (hist[k]) {
			buf_addf(b, "%s%u:%" PRIu64, first ? "" : ",", k, hist[k]);
			first = false;
		}
	if (first)
		buf_addch(b, '-');
}

static const char *io_str(const struct profile *p, uint32_t id)
{
	return id ? profile_str(p, id) : "-";
}

/* The I/O summary's comments, appended to v[nr...]. */
static void write_io(const struct profile *p, char ***v, size_t *nr, size_t *alloc)
{
	const struct io_meta *io = &p->meta.io;
	const uint64_t scalars[IO_SCALARS] = { io->duration_ns, io->calls, io->errors, io->total_ns, io->dropped,
				     io->counts_only, io->files_traced, io->block };
	struct buf b = BUF_INIT;

#define IO_PUSH() do { ALLOC_GROW(*v, *nr + 1, *alloc); (*v)[(*nr)++] = buf_detach(&b, NULL); } while (0)
	for (unsigned k = 0; k < IO_SCALARS; k++) {
		buf_addf(&b, IO_PREFIX "%s=%" PRIu64, io_scalar_names[k], scalars[k]);
		IO_PUSH();
	}
	for (size_t i = 0; i < io->sys_nr; i++) {
		const struct io_meta_syscall *s = &io->sys[i];

		buf_addf(&b, IO_PREFIX "syscall=%" PRIu32 " %s %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " ",
			 s->nr, io_str(p, s->name), s->count, s->errors, s->total_ns, s->max_ns);
		io_add_hist(&b, s->hist);
		IO_PUSH();
	}
	for (size_t i = 0; i < io->slow_nr; i++) {
		const struct io_meta_slowcall *s = &io->slow[i];

		buf_addf(&b, IO_PREFIX "slow=%" PRIu64 " %" PRIu32 " %s %" PRIu32 " %" PRIu32 " %" PRIu64 " %" PRId64 " %s",
			 s->lat_ns, s->nr, io_str(p, s->name), s->tgid, s->tid, s->arg0, s->ret,
			 s->where ? profile_str(p, s->where) : "");
		IO_PUSH();
	}
	for (size_t i = 0; i < io->files_nr; i++) {
		const struct io_meta_file *f = &io->files[i];

		buf_addf(&b, IO_PREFIX "file=%" PRIu32 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64
			 " %" PRIu64 " %s", f->tgid, f->reads, f->writes, f->rbytes, f->wbytes, f->read_ns, f->write_ns,
			 profile_str(p, f->path));
		IO_PUSH();
	}
	for (int k = 0; io->block && k < IO_BLOCK_NR; k++) {
		const struct io_meta_blockdir *d = &io->blk[k];

		buf_addf(&b, IO_PREFIX "block_%s=%" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " ", io_block_names[k],
			 d->count, d->bytes, d->total_ns, d->max_ns);
		io_add_hist(&b, d->hist);
		IO_PUSH();
	}
#undef IO_PUSH
}

void pprof_meta_read_comment(struct profile *p, const char *c)
{
	int64_t n;

	if (!strncmp(c, HEAP_PREFIX, strlen(HEAP_PREFIX)) && read_heap(p, c + strlen(HEAP_PREFIX)))
		return;
	if (!strncmp(c, IO_PREFIX, strlen(IO_PREFIX)) && read_io(p, c + strlen(IO_PREFIX)))
		return;
	if (!strncmp(c, "event: ", 7) && c[7] && !p->meta.event) {
		p->meta.event = profile_intern_str(p, c + 7);
		return;
	}
	/* The first count is the one that holds (a count of 0 or less is no count). */
	if (!strncmp(c, "samples: ", 9) && parse_i64(c + 9, &n) && n > 0 && !p->meta.samples) {
		p->meta.samples = n;
		return;
	}
	profile_add_comment(p, c);
}

size_t pprof_meta_comments(const struct profile *p, char ***out)
{
	const struct profile_meta *m = &p->meta;
	char **v = NULL;
	size_t nr = 0, alloc = 0;

	if (m->event) {
		ALLOC_GROW(v, nr + 1, alloc);
		v[nr++] = xasprintf("event: %s", profile_str(p, m->event));
	}
	if (m->samples) {
		ALLOC_GROW(v, nr + 1, alloc);
		v[nr++] = xasprintf("samples: %" PRId64, m->samples);
	}
	for (unsigned k = 0; k < HEAP_META_NR; k++)
		if (m->heap.known & 1u << k) {
			ALLOC_GROW(v, nr + 1, alloc);
			v[nr++] = xasprintf(HEAP_PREFIX "%s=%" PRId64, heap_meta_names[k], m->heap.v[k]);
		}
	if (m->heap.has_hist) {
		struct buf h = BUF_INIT;

		buf_adds(&h, HEAP_PREFIX "histogram=");
		for (unsigned b = 0, first = 1; b < HEAP_HIST_BUCKETS; b++)
			if (m->heap.hist[b]) {
				buf_addf(&h, "%s%u:%" PRId64, first ? "" : ",", b, m->heap.hist[b]);
				first = 0;
			}
		ALLOC_GROW(v, nr + 1, alloc);
		v[nr++] = buf_detach(&h, NULL);
	}
	if (m->io.known)
		write_io(p, &v, &nr, &alloc);
	*out = v;
	return nr;
}
