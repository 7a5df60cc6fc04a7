/* I/O profiling with eBPF: loading, targets, and reading the kernel's sums (see iotrace.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "../core/array.h"
#include "../core/buf.h"
#include "../core/err.h"
#include "../core/xalloc.h"
#include "../profile/profile.h"
#include "../symbols/symbolizer.h"
#include "bpf_util.h"
#include "iotrace.h"
#include "iotrace.skel.h"
#include "session.h"

#define MAX_INLINE 32
#define SLOW_KEEP 20

static const char *const syscall_names[] = {
#include "syscall_names.h"
};

const char *io_syscall_name(uint32_t nr)
{
	if (nr < sizeof(syscall_names) / sizeof(syscall_names[0]))
		return syscall_names[nr];
	return NULL;
}

struct iotrace {
	struct iotrace_bpf *skel;
	bool stopped, block, files;
};

struct iotrace *iotrace_open(const struct iotrace_opts *o, bool *denied, struct err *e)
{
	struct iotrace *it = xcalloc(1, sizeof(*it));
	int ret;

	*denied = false;
	kbpf_init();
	it->skel = iotrace_bpf__open();
	if (!it->skel) {
		kbpf_error(e, -errno, "open the I/O eBPF programs", denied);
		goto fail;
	}
	it->skel->rodata->trace_all = o->all;
	it->skel->rodata->self_tgid = (uint32_t)getpid();
	it->skel->rodata->want_stacks = !o->no_stacks;
	/* Optional parts: what this kernel lacks (or the user turned off) is not loaded. */
	it->block = !o->no_block && kbpf_kernel_has("btf_trace_block_rq_issue", true) &&
		    kbpf_kernel_has("btf_trace_block_rq_complete", true);
	bpf_program__set_autoload(it->skel->progs.kiln_blk_issue, it->block);
	bpf_program__set_autoload(it->skel->progs.kiln_blk_complete, it->block);
	it->files = !o->no_files;
	it->skel->rodata->track_files = it->files;
	ret = iotrace_bpf__load(it->skel);
	if (ret) {
		kbpf_error(e, ret, "load the I/O eBPF programs", denied);
		goto fail;
	}
	ret = iotrace_bpf__attach(it->skel);
	if (ret) {
		kbpf_error(e, ret, "attach the I/O eBPF programs", denied);
		goto fail;
	}
	return it;
fail:
	iotrace_free(it);
	return NULL;
}

void iotrace_free(struct iotrace *it)
{
	if (!it)
		return;
	iotrace_bpf__destroy(it->skel);
	free(it);
}

static int add_target(struct iotrace *it, uint32_t pid, uint8_t how, struct err *e)
{
	if (bpf_map__update_elem(it->skel->maps.targets, &pid, sizeof(pid), &how, sizeof(how), BPF_ANY))
		return err_errno(e, "cannot add process %u to the I/O filter", pid);
	/* Threads re-check their cached "traced?" on their next system call. */
	__atomic_add_fetch(&it->skel->data->filter_gen, 1, __ATOMIC_SEQ_CST);
	return 0;
}

int iotrace_add_pid(struct iotrace *it, uint32_t pid, struct err *e)
{
	return add_target(it, pid, 1, e); /* IO_TARGET of iotrace.bpf.c */
}

int iotrace_add_launched(struct iotrace *it, uint32_t pid, struct err *e)
{
	return add_target(it, pid, 2, e); /* IO_TARGET_AT_EXEC */
}

void iotrace_stop(struct iotrace *it)
{
	if (it->stopped)
		return;
	iotrace_bpf__detach(it->skel);
	it->stopped = true;
}

static size_t read_stack(int fd, int32_t id, uint64_t *out)
{
	if (id < 0 || bpf_map_lookup_elem(fd, &id, out))
		return 0;
	size_t n = 0;
	while (n < KILN_BPF_MAX_STACK && out[n])
		n++;
	return n;
}

static int ncpus(void)
{
	int n = libbpf_num_possible_cpus();
	return n > 0 ? n : 1;
}

static int cmp_sys(const void *a, const void *b)
{
	const struct io_syscall *x = a, *y = b;
	if (x->total_ns != y->total_ns)
		return x->total_ns > y->total_ns ? -1 : 1;
	return x->nr < y->nr ? -1 : x->nr > y->nr;
}

static int cmp_slow(const void *a, const void *b)
{
	const struct io_slowcall *x = a, *y = b;
	return x->lat_ns > y->lat_ns ? -1 : x->lat_ns < y->lat_ns;
}

static int cmp_file(const void *a, const void *b)
{
	const struct io_file *x = a, *y = b;
	uint64_t bx = x->rbytes + x->wbytes, by = y->rbytes + y->wbytes;
	if (bx != by)
		return bx > by ? -1 : 1;
	return strcmp(x->path, y->path);
}

static void read_syscalls(struct iotrace *it, struct io_result *res)
{
	int fd = bpf_map__fd(it->skel->maps.sys), nc = ncpus();
	struct io_sys *per = xcalloc((size_t)nc, sizeof(*per));
	size_t alloc = 0;
	for (uint32_t nr = 0; nr < IO_NR_MAX; nr++) {
		if (bpf_map_lookup_elem(fd, &nr, per))
			continue;
		struct io_syscall sc = { .nr = nr, .name = io_syscall_name(nr) };
		for (int c = 0; c < nc; c++) {
			sc.count += per[c].count;
			sc.errors += per[c].errors;
			sc.total_ns += per[c].total_ns;
			if (per[c].max_ns > sc.max_ns)
				sc.max_ns = per[c].max_ns;
			for (int b = 0; b < IO_HIST; b++)
				sc.hist[b] += per[c].hist[b];
		}
		if (!sc.count)
			continue;
		ALLOC_GROW(res->sys, res->nsys + 1, alloc);
		res->sys[res->nsys++] = sc;
		res->calls += sc.count;
		res->errors += sc.errors;
		res->total_ns += sc.total_ns;
	}
	free(per);
	if (res->nsys)
		qsort(res->sys, res->nsys, sizeof(*res->sys), cmp_sys);
}

static const struct io_syscall *find_sys(const struct io_result *res, uint32_t nr)
{
	for (size_t i = 0; i < res->nsys; i++)
		if (res->sys[i].nr == nr)
			return &res->sys[i];
	return NULL;
}

/* The frames of a user chain, root first, interned in `p`: returns the leaf node. */
static uint32_t user_node(struct rec_session *s, struct symbolizer *sym, struct profile *p, uint32_t tgid,
			  const uint64_t *u, size_t nu)
{
	uint32_t node = 0, out[MAX_INLINE];
	uint32_t asid = rec_session_asid(s, tgid);
	for (size_t j = nu; j-- > 0;) {
		uint64_t a = j ? u[j] - 1 : u[j];
		size_t got = symbolizer_resolve(sym, p, asid, a, false, out, MAX_INLINE);
		for (size_t k = got; k-- > 0;)
			node = profile_node(p, node, out[k]);
	}
	return node;
}

struct skey_val {
	struct io_skey k;
	struct io_sval v;
};

static int cmp_skey(const void *a, const void *b)
{
	const struct skey_val *x = a, *y = b;
	if (x->k.nr != y->k.nr)
		return x->k.nr < y->k.nr ? -1 : 1;
	return memcmp(&x->k, &y->k, sizeof(x->k));
}

/* The profile: sampled stacks, scaled per system call to the exact totals. */
static void build_profile(struct iotrace *it, struct rec_session *s, struct symbolizer *sym, struct profile *p,
			  const struct io_result *res)
{
	int c_calls = profile_add_column(p, "syscalls", "count");
	int c_lat = profile_add_column(p, "latency", "nanoseconds");
	p->default_column = c_lat;
	p->period_type.type = profile_intern_str(p, "latency");
	p->period_type.unit = profile_intern_str(p, "nanoseconds");
	uint32_t k_pid = profile_intern_str(p, "pid"), k_tid = profile_intern_str(p, "tid");
	uint32_t k_sys = profile_intern_str(p, "syscall");

	struct skey_val *kv = NULL;
	size_t nkv = 0, alloc = 0;
	int sfd = bpf_map__fd(it->skel->maps.samples), stfd = bpf_map__fd(it->skel->maps.stacks);
	struct io_skey key, next, *prev = NULL;
	while (bpf_map_get_next_key(sfd, prev, &next) == 0) {
		key = next;
		prev = &key;
		struct io_sval v;
		if (bpf_map_lookup_elem(sfd, &key, &v) || !v.weight)
			continue;
		ALLOC_GROW(kv, nkv + 1, alloc);
		kv[nkv++] = (struct skey_val){ key, v };
	}
	if (nkv)
		qsort(kv, nkv, sizeof(*kv), cmp_skey);

	uint64_t *u = xcalloc(KILN_BPF_MAX_STACK, sizeof(*u));
	struct oc_ufix *fix = xmalloc(sizeof(*fix));
	int fixfd = bpf_map__fd(it->skel->maps.ufix);
	int64_t vals[PROFILE_MAX_COLUMNS];
	bool *covered = xcalloc(IO_NR_MAX, sizeof(*covered));
	for (size_t i = 0; i < nkv;) {
		size_t j = i;
		uint64_t wsum = 0, lsum = 0;
		while (j < nkv && kv[j].k.nr == kv[i].k.nr) {
			wsum += kv[j].v.weight;
			lsum += kv[j].v.lat_ns;
			j++;
		}
		const struct io_syscall *sc = find_sys(res, (uint32_t)kv[i].k.nr);
		if (!sc || !wsum) {
			i = j;
			continue;
		}
		covered[sc->nr] = true;
		/* Cumulative rounding: the parts add up to the exact totals. */
		double cw = 0, cl = 0;
		int64_t done_c = 0, done_l = 0;
		for (size_t m = i; m < j; m++) {
			const struct skey_val *x = &kv[m];
			cw += (double)x->v.weight;
			cl += (double)x->v.lat_ns;
			int64_t tc = (int64_t)((double)sc->count * cw / (double)wsum + 0.5);
			int64_t tl = lsum ? (int64_t)((double)sc->total_ns * cl / (double)lsum + 0.5)
					  : (int64_t)((double)sc->total_ns * cw / (double)wsum + 0.5);
			if (m + 1 == j) {
				tc = (int64_t)sc->count;
				tl = (int64_t)sc->total_ns;
			}
			size_t nu = read_stack(stfd, x->k.ustack, u);
			if (x->k.ustack >= 0)
				kbpf_fix_leaf(fixfd, s, sym, x->k.tgid, x->k.pid, x->k.ustack, u, &nu, fix);
			uint32_t node = user_node(s, sym, p, x->k.tgid, u, nu);
			const char *name = sc->name ? sc->name : "syscall";
			node = profile_node(p, node, profile_frame_named(p, name, strlen(name), FRAME_KERNEL));
			struct label l[3];
			memset(l, 0, sizeof(l));
			l[0].key = k_pid;
			l[0].num = x->k.tgid;
			l[1].key = k_tid;
			l[1].num = x->k.pid;
			l[2].key = k_sys;
			l[2].str = profile_intern_str(p, name);
			memset(vals, 0, sizeof(vals));
			vals[c_calls] = tc - done_c;
			vals[c_lat] = tl - done_l;
			done_c = tc;
			done_l = tl;
			profile_add_sample(p, node, profile_labelset(p, l, 3), vals);
		}
		i = j;
	}
	/* System calls without any sampled stack (stacks off, or the stack map full): a stack of their own. */
	for (size_t i = 0; i < res->nsys; i++) {
		const struct io_syscall *sc = &res->sys[i];
		if (sc->nr < IO_NR_MAX && covered[sc->nr])
			continue;
		const char *name = sc->name ? sc->name : "syscall";
		uint32_t node = profile_node(p, 0, profile_frame_named(p, name, strlen(name), FRAME_KERNEL));
		struct label l = { .key = k_sys, .str = profile_intern_str(p, name) };
		memset(vals, 0, sizeof(vals));
		vals[c_calls] = (int64_t)sc->count;
		vals[c_lat] = (int64_t)sc->total_ns;
		profile_add_sample(p, node, profile_labelset(p, &l, 1), vals);
	}
	free(covered);
	free(u);
	free(fix);
	free(kv);
}

static void read_slow(struct iotrace *it, struct rec_session *s, struct symbolizer *sym, struct io_result *res)
{
	int fd = bpf_map__fd(it->skel->maps.slow), stfd = bpf_map__fd(it->skel->maps.stacks), nc = ncpus();
	struct io_slow *per = xcalloc((size_t)nc, sizeof(*per));
	size_t alloc = 0;
	for (uint32_t i = 0; i < IO_SLOW; i++) {
		if (bpf_map_lookup_elem(fd, &i, per))
			continue;
		for (int c = 0; c < nc; c++) {
			if (!per[c].lat_ns)
				continue;
			ALLOC_GROW(res->slow, res->nslow + 1, alloc);
			struct io_slowcall *sc = &res->slow[res->nslow++];
			memset(sc, 0, sizeof(*sc));
			sc->lat_ns = per[c].lat_ns;
			sc->tgid = per[c].tgid;
			sc->tid = per[c].pid;
			sc->nr = (uint32_t)per[c].nr;
			sc->ret = per[c].ret;
			sc->arg0 = per[c].arg0;
			sc->where = (char *)(intptr_t)per[c].ustack; /* resolved below, once sorted */
		}
	}
	free(per);
	if (!res->nslow)
		return;
	qsort(res->slow, res->nslow, sizeof(*res->slow), cmp_slow);
	if (res->nslow > SLOW_KEEP)
		res->nslow = SLOW_KEEP;

	/* Names through a scratch profile: the report's frames need not be in the written one. */
	struct profile *tmp = profile_new(0);
	uint64_t *u = xcalloc(KILN_BPF_MAX_STACK, sizeof(*u));
	struct oc_ufix *fix = xmalloc(sizeof(*fix));
	for (size_t i = 0; i < res->nslow; i++) {
		int32_t id = (int32_t)(intptr_t)res->slow[i].where;
		res->slow[i].where = NULL;
		size_t nu = read_stack(stfd, id, u);
		if (!nu)
			continue;
		kbpf_fix_leaf(bpf_map__fd(it->skel->maps.ufix), s, sym, res->slow[i].tgid, res->slow[i].tid, id, u, &nu,
			      fix);
		struct buf b = BUF_INIT;
		size_t shown = 0;
		uint32_t asid = rec_session_asid(s, res->slow[i].tgid);
		for (size_t j = 0; j < nu && shown < IO_FRAMES; j++) {
			uint32_t out[MAX_INLINE];
			size_t got = symbolizer_resolve(sym, tmp, asid, j ? u[j] - 1 : u[j], false, out, MAX_INLINE);
			for (size_t k = 0; k < got && shown < IO_FRAMES; k++) {
				const struct frame *f = &tmp->frames[out[k]];
				const char *name = f->function ? profile_str(tmp, f->function) : "[unknown]";
				buf_addf(&b, "%s%s", shown ? " <- " : "", name);
				shown++;
			}
		}
		res->slow[i].where = buf_detach(&b, NULL);
	}
	free(u);
	free(fix);
	profile_free(tmp);
}

static char *file_path(const struct io_fkey *k, const struct io_fval *v)
{
	unsigned fmt = v->mode & S_IFMT;
	if (fmt == S_IFIFO)
		return xasprintf("pipe:[%" PRIu64 "]", (uint64_t)k->ino);
	if (fmt == S_IFSOCK)
		return xasprintf("socket:[%" PRIu64 "]", (uint64_t)k->ino);
	if (!v->depth)
		return xasprintf("[inode %u:%u %" PRIu64 "]", k->dev >> 20, k->dev & 0xfffff, (uint64_t)k->ino);
	struct buf b = BUF_INIT;
	if (!v->rooted)
		buf_adds(&b, "...");
	for (size_t i = v->depth; i-- > 0;) {
		char comp[IO_COMP + 1];
		memcpy(comp, v->comp[i], IO_COMP);
		comp[IO_COMP] = 0;
		/* An anonymous inode ("[eventfd]", "anon_inode:...") is a name, not a path. */
		if (v->depth == 1 && v->rooted && comp[0] == '[') {
			buf_adds(&b, comp);
			break;
		}
		buf_addf(&b, "/%s", comp);
	}
	return buf_detach(&b, NULL);
}

static void read_files(struct iotrace *it, struct io_result *res)
{
	int fd = bpf_map__fd(it->skel->maps.files);
	struct io_fkey key, next, *prev = NULL;
	struct io_fval *v = xmalloc(sizeof(*v));
	size_t alloc = 0;
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, v))
			continue;
		ALLOC_GROW(res->files, res->nfiles + 1, alloc);
		struct io_file *f = &res->files[res->nfiles++];
		f->tgid = key.tgid;
		f->path = file_path(&key, v);
		f->reads = v->reads;
		f->writes = v->writes;
		f->rbytes = v->rbytes;
		f->wbytes = v->wbytes;
		f->read_ns = v->read_ns;
		f->write_ns = v->write_ns;
	}
	free(v);
	if (res->nfiles)
		qsort(res->files, res->nfiles, sizeof(*res->files), cmp_file);
}

static void read_block(struct iotrace *it, struct io_result *res)
{
	int fd = bpf_map__fd(it->skel->maps.blk), nc = ncpus();
	struct io_blk *per = xcalloc((size_t)nc, sizeof(*per));
	for (uint32_t d = 0; d < 3; d++) {
		if (bpf_map_lookup_elem(fd, &d, per))
			continue;
		struct io_blockdir *b = &res->blk[d];
		for (int c = 0; c < nc; c++) {
			b->count += per[c].count;
			b->bytes += per[c].bytes;
			b->total_ns += per[c].total_ns;
			if (per[c].max_ns > b->max_ns)
				b->max_ns = per[c].max_ns;
			for (int h = 0; h < IO_HIST; h++)
				b->hist[h] += per[c].hist[h];
		}
	}
	free(per);
}

int iotrace_collect(struct iotrace *it, struct rec_session *s, struct symbolizer *sym, struct profile *p,
		    struct io_result *res, struct err *e)
{
	memset(res, 0, sizeof(*res));
	iotrace_stop(it);
	read_syscalls(it, res);
	build_profile(it, s, sym, p, res);
	read_slow(it, s, sym, res);
	res->files_traced = it->files;
	if (it->files)
		read_files(it, res);
	res->block = it->block;
	if (it->block)
		read_block(it, res);

	int fd = bpf_map__fd(it->skel->maps.dropped), nc = ncpus();
	uint64_t *per = xcalloc((size_t)nc, sizeof(*per));
	for (uint32_t i = 0; i < 3; i++)
		if (!bpf_map_lookup_elem(fd, &i, per))
			for (int c = 0; c < nc; c++)
				res->dropped += per[c];
	free(per);
	(void)e;
	return 0;
}

void io_result_release(struct io_result *res)
{
	for (size_t i = 0; i < res->nslow; i++)
		free(res->slow[i].where);
	for (size_t i = 0; i < res->nfiles; i++)
		free(res->files[i].path);
	free(res->sys);
	free(res->slow);
	free(res->files);
	memset(res, 0, sizeof(*res));
}

_Static_assert(IO_META_HIST == IO_HIST, "the I/O summary's histograms are the kernel's");

static uint32_t intern_or_0(struct profile *p, const char *s)
{
	return s ? profile_intern_str(p, s) : 0;
}

void io_result_store(const struct io_result *res, uint64_t duration_ns, struct profile *p)
{
	struct io_meta *io = &p->meta.io;

	profile_io_clear(p);
	for (size_t i = 0; i < res->nsys; i++) {
		struct io_meta_syscall *r = profile_io_add_syscall(p);
		const struct io_syscall *s = &res->sys[i];

		r->nr = s->nr;
		r->name = intern_or_0(p, s->name);
		r->count = s->count;
		r->errors = s->errors;
		r->total_ns = s->total_ns;
		r->max_ns = s->max_ns;
		memcpy(r->hist, s->hist, sizeof(r->hist));
	}
	for (size_t i = 0; i < res->nslow; i++) {
		struct io_meta_slowcall *r = profile_io_add_slowcall(p);
		const struct io_slowcall *s = &res->slow[i];

		r->lat_ns = s->lat_ns;
		r->arg0 = s->arg0;
		r->ret = s->ret;
		r->tgid = s->tgid;
		r->tid = s->tid;
		r->nr = s->nr;
		r->name = intern_or_0(p, io_syscall_name(s->nr));
		r->where = intern_or_0(p, s->where);
	}
	for (size_t i = 0; i < res->nfiles; i++) {
		struct io_meta_file *r = profile_io_add_file(p);
		const struct io_file *f = &res->files[i];

		r->tgid = f->tgid;
		r->path = intern_or_0(p, f->path);
		r->reads = f->reads;
		r->writes = f->writes;
		r->rbytes = f->rbytes;
		r->wbytes = f->wbytes;
		r->read_ns = f->read_ns;
		r->write_ns = f->write_ns;
	}
	io->known = true;
	io->counts_only = res->counts_only;
	io->files_traced = res->files_traced;
	io->block = res->block;
	io->duration_ns = duration_ns;
	io->calls = res->calls;
	io->errors = res->errors;
	io->total_ns = res->total_ns;
	io->dropped = res->dropped;
	for (int k = 0; k < IO_BLOCK_NR; k++) {
		io->blk[k].count = res->blk[k].count;
		io->blk[k].bytes = res->blk[k].bytes;
		io->blk[k].total_ns = res->blk[k].total_ns;
		io->blk[k].max_ns = res->blk[k].max_ns;
		memcpy(io->blk[k].hist, res->blk[k].hist, sizeof(io->blk[k].hist));
	}
}
