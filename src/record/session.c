/* The recording session: process/thread/mmap tracking and stack aggregation (see session.h). */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <asm/perf_regs.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/array.h"
#include "../core/err.h"
#include "../core/hash.h"
#include "../core/xalloc.h"
#include "../profile/profile.h"
#include "../symbols/symbolizer.h"
#include "../perf/perf_record.h"
#include "session.h"

#define MAX_FRAMES 512       /* per sample, kernel + user (perf's default maximum is 127) */
#define MAX_INLINE 64        /* frames one address may expand to */
#define ASID_GEN_SHIFT 22    /* pids are below 2^22 (PID_MAX_LIMIT) */
#define KERNEL_ASID UINT32_MAX

struct thread {
	uint32_t tid, pid;
	uint32_t comm; /* id in s->names, 0 = unknown */
};

struct process {
	uint32_t pid;
	uint32_t asid;
	uint32_t gen;
};

/* An aggregated stack: key words in s->words[off .. off + len). */
struct agg {
	uint64_t hash;
	uint32_t next; /* collision chain, UINT32_MAX ends it */
	uint32_t off, len;
	uint64_t count, period;
};

/* Key layout in s->words: asid, pid, tid, comm, nkernel, then addresses leaf first (kernel, then user). */
#define KEY_HDR 5

/* A resolved address: frame ids (innermost first) in s->fids[off .. off + n). */
struct resolved {
	uint64_t addr;
	uint32_t asid;
	uint32_t next;
	uint32_t off, n;
};

struct build_id {
	unsigned char id[20];
	size_t len;
};

struct rec_session {
	struct symbolizer *sym;
	struct rec_session_opts o;
	struct rec_stats st;

	struct strtab names; /* comm strings; id 0 = "" */

	struct thread *threads;
	size_t threads_nr, threads_alloc;
	struct u64map thread_index; /* tid -> index */

	struct process *procs;
	size_t procs_nr, procs_alloc;
	struct u64map proc_index; /* pid -> index */

	uint64_t *words;
	size_t words_nr, words_alloc;
	struct agg *aggs;
	size_t aggs_nr, aggs_alloc;
	struct u64map agg_index; /* hash -> first agg */

	struct strtab build_id_paths; /* path -> index into build_ids */
	struct build_id *build_ids;
	size_t build_ids_nr, build_ids_alloc;

	uint64_t key[KEY_HDR + MAX_FRAMES];
	uint64_t uw[MAX_FRAMES];
	struct rec_runtime_hooks rt; /* language runtimes (runtime.h) */
};

struct rec_session *rec_session_new(struct symbolizer *sym, const struct rec_session_opts *o)
{
	struct rec_session *s = xcalloc(1, sizeof(*s));
	s->sym = sym;
	if (o)
		s->o = *o;
	if (!s->o.value_type)
		s->o.value_type = "cpu";
	if (!s->o.value_unit)
		s->o.value_unit = "nanoseconds";
	strtab_intern(&s->names, "", 0);
	strtab_intern(&s->build_id_paths, "", 0);
	s->build_ids_nr = 1;
	ALLOC_GROW(s->build_ids, 1, s->build_ids_alloc);
	return s;
}

void rec_session_free(struct rec_session *s)
{
	if (!s)
		return;
	strtab_release(&s->names);
	free(s->threads);
	u64map_release(&s->thread_index);
	free(s->procs);
	u64map_release(&s->proc_index);
	free(s->words);
	free(s->aggs);
	u64map_release(&s->agg_index);
	strtab_release(&s->build_id_paths);
	free(s->build_ids);
	free(s);
}

void rec_session_set_runtime_hooks(struct rec_session *s, const struct rec_runtime_hooks *h)
{
	if (h)
		s->rt = *h;
	else
		memset(&s->rt, 0, sizeof(s->rt));
}

const struct rec_stats *rec_session_stats(const struct rec_session *s)
{
	return &s->st;
}

uint64_t rec_session_samples(const struct rec_session *s)
{
	return s->st.samples;
}

static struct process *proc_get(struct rec_session *s, uint32_t pid, bool *created)
{
	int inserted;
	uint64_t *slot = u64map_insert(&s->proc_index, pid, &inserted);
	if (created)
		*created = inserted;
	if (inserted) {
		ALLOC_GROW(s->procs, s->procs_nr + 1, s->procs_alloc);
		struct process *pr = &s->procs[s->procs_nr];
		pr->pid = pid;
		pr->gen = 0;
		pr->asid = pid;
		*slot = s->procs_nr++;
		s->st.processes++;
	}
	return &s->procs[*slot];
}

/* Starts a new address space for `pid` (exec, or a reused pid). */
static uint32_t proc_new_image(struct rec_session *s, uint32_t pid)
{
	bool created;
	struct process *pr = proc_get(s, pid, &created);
	if (!created && pr->gen + 1 < (1u << (32 - ASID_GEN_SHIFT)) - 1) {
		pr->gen++;
		pr->asid = pid | (pr->gen << ASID_GEN_SHIFT);
	}
	return pr->asid;
}

static uint32_t asid_of(struct rec_session *s, uint32_t pid)
{
	return proc_get(s, pid, NULL)->asid;
}

static struct thread *thread_get(struct rec_session *s, uint32_t tid, uint32_t pid)
{
	int inserted;
	uint64_t *slot = u64map_insert(&s->thread_index, tid, &inserted);
	if (inserted) {
		ALLOC_GROW(s->threads, s->threads_nr + 1, s->threads_alloc);
		struct thread *t = &s->threads[s->threads_nr];
		t->tid = tid;
		t->pid = pid;
		t->comm = 0;
		*slot = s->threads_nr++;
		s->st.threads++;
	}
	struct thread *t = &s->threads[*slot];
	t->pid = pid;
	return t;
}

void rec_session_set_build_id(struct rec_session *s, const char *path, const unsigned char *id, size_t len)
{
	if (!len || len > 20)
		return;
	uint32_t i = strtab_intern(&s->build_id_paths, path, strlen(path));
	if (i >= s->build_ids_nr) {
		ALLOC_GROW(s->build_ids, i + 1, s->build_ids_alloc);
		memset(s->build_ids + s->build_ids_nr, 0, (i + 1 - s->build_ids_nr) * sizeof(*s->build_ids));
		s->build_ids_nr = i + 1;
	}
	memcpy(s->build_ids[i].id, id, len);
	s->build_ids[i].len = len;
}

static void add_mapping(struct rec_session *s, uint32_t asid, uint64_t start, uint64_t len, uint64_t pgoff,
			const char *path, const unsigned char *bid, size_t bid_len)
{
	if (!bid_len && s->build_ids_nr > 1) {
		int64_t i = strtab_find(&s->build_id_paths, path, strlen(path));
		if (i > 0 && (size_t)i < s->build_ids_nr && s->build_ids[i].len) {
			bid = s->build_ids[i].id;
			bid_len = s->build_ids[i].len;
		}
	}
#ifdef KILN_FUZZING
	/* Fuzzed paths would make the symbolizer open arbitrary local files: not what is being fuzzed. */
	return;
#endif
	/* A mapping the symbolizer cannot use (e.g. a deleted file) only leaves its addresses unnamed. */
	symbolizer_add_mapping(s->sym, asid, start, len, pgoff, path, bid, bid_len, NULL);
}

static void on_mmap(struct rec_session *s, const struct perf_rec *r)
{
	const char *path = r->u.mmap.filename;
	if (!path || !*path || !r->u.mmap.len)
		return;
	if (r->type == PERF_RECORD_MMAP2 && r->u.mmap.prot && !(r->u.mmap.prot & 4 /* PROT_EXEC */))
		return;
	if (r->misc & PERF_RECORD_MISC_MMAP_DATA)
		return;
	/* Kernel and module maps (pid -1) are named from kallsyms by the symbolizer. */
	if (r->u.mmap.pid == UINT32_MAX || (r->misc & PERF_RECORD_MISC_CPUMODE_MASK) == PERF_RECORD_MISC_KERNEL)
		return;
	add_mapping(s, asid_of(s, r->u.mmap.pid), r->u.mmap.start, r->u.mmap.len, r->u.mmap.pgoff, path,
		    r->u.mmap.build_id, r->u.mmap.build_id_size);
}

static void on_comm(struct rec_session *s, const struct perf_rec *r)
{
	if (!r->u.comm.comm)
		return;
	if (r->u.comm.exec) {
		uint32_t asid = proc_new_image(s, r->u.comm.pid);
		symbolizer_exec(s->sym, asid);
		if (s->rt.exec)
			s->rt.exec(s->rt.ctx, r->u.comm.pid);
	}
	struct thread *t = thread_get(s, r->u.comm.tid, r->u.comm.pid);
	t->comm = strtab_intern(&s->names, r->u.comm.comm, strlen(r->u.comm.comm));
}

static void on_fork(struct rec_session *s, const struct perf_rec *r)
{
	uint32_t pid = r->u.task.pid, ppid = r->u.task.ppid, tid = r->u.task.tid, ptid = r->u.task.ptid;
	uint32_t comm = 0;
	uint64_t *pi = u64map_find(&s->thread_index, ptid);
	if (pi)
		comm = s->threads[*pi].comm;
	if (pid != ppid) {
		uint32_t parent = asid_of(s, ppid);
		uint32_t child = proc_new_image(s, pid);
		symbolizer_fork(s->sym, parent, child);
	}
	struct thread *t = thread_get(s, tid, pid);
	t->comm = comm;
}

int rec_session_synthesize(struct rec_session *s, uint32_t pid, struct err *e)
{
	char path[64], line[4096];
	FILE *f = NULL;
	DIR *d = NULL;
	int ret = -1;

	snprintf(path, sizeof(path), "/proc/%" PRIu32 "/maps", pid);
	f = fopen(path, "r");
	if (!f) {
		err_errno(e, "cannot read '%s'", path);
		goto out;
	}
	uint32_t asid = asid_of(s, pid);
	while (fgets(line, sizeof(line), f)) {
		unsigned long long start, end, off;
		char perms[8];
		int n = 0;
		if (sscanf(line, "%llx-%llx %7s %llx %*s %*s%n", &start, &end, perms, &off, &n) < 4 || !n)
			continue;
		if (!strchr(perms, 'x'))
			continue;
		const char *p = line + n;
		while (*p == ' ' || *p == '\t')
			p++;
		size_t len = strcspn(p, "\n");
		if (!len)
			continue;
		char *file = xstrndup(p, len);
		add_mapping(s, asid, start, end - start, off, file, NULL, 0);
		free(file);
	}
	fclose(f);
	f = NULL;

	snprintf(path, sizeof(path), "/proc/%" PRIu32 "/task", pid);
	d = opendir(path);
	if (!d) {
		err_errno(e, "cannot read '%s'", path);
		goto out;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		char *end;
		unsigned long tid = strtoul(de->d_name, &end, 10);
		if (*end || !tid)
			continue;
		char cpath[96];
		snprintf(cpath, sizeof(cpath), "/proc/%" PRIu32 "/task/%lu/comm", pid, tid);
		struct thread *t = thread_get(s, (uint32_t)tid, pid);
		FILE *cf = fopen(cpath, "r");
		if (cf) {
			if (fgets(line, sizeof(line), cf)) {
				size_t len = strcspn(line, "\n");
				t->comm = strtab_intern(&s->names, line, len);
			}
			fclose(cf);
		}
	}
	ret = 0;
out:
	if (f)
		fclose(f);
	if (d)
		closedir(d);
	return ret;
}

static uint32_t agg_intern(struct rec_session *s, const uint64_t *key, size_t n)
{
	uint64_t h = hash_bytes(key, n * sizeof(*key));
	int inserted;
	uint64_t *head = u64map_insert(&s->agg_index, h == U64MAP_EMPTY ? 0 : h, &inserted);
	uint32_t first = inserted ? UINT32_MAX : (uint32_t)*head;
	for (uint32_t i = first; i != UINT32_MAX; i = s->aggs[i].next) {
		const struct agg *a = &s->aggs[i];
		if (a->hash == h && a->len == n && !memcmp(s->words + a->off, key, n * sizeof(*key)))
			return i;
	}
	ALLOC_GROW(s->words, s->words_nr + n, s->words_alloc);
	memcpy(s->words + s->words_nr, key, n * sizeof(*key));
	ALLOC_GROW(s->aggs, s->aggs_nr + 1, s->aggs_alloc);
	struct agg *a = &s->aggs[s->aggs_nr];
	a->hash = h;
	a->next = first;
	a->off = (uint32_t)s->words_nr;
	a->len = (uint32_t)n;
	a->count = a->period = 0;
	s->words_nr += n;
	*head = s->aggs_nr;
	return (uint32_t)s->aggs_nr++;
}

/* Index of perf register `reg` among the sampled registers, or -1. */
static int reg_index(uint64_t mask, int reg)
{
	if (!(mask & (1ULL << reg)))
		return -1;
	return __builtin_popcountll(mask & ((1ULL << reg) - 1));
}

/* The sampled user register `reg` (a perf register number), or 0 when it was not sampled. */
static uint64_t sampled_reg(const struct perf_rec *r, int reg)
{
	int i = reg_index(r->u.sample.regs_mask, reg);
	return i >= 0 && (uint64_t)i < r->u.sample.regs_nr ? perf_u64(r->u.sample.regs + (size_t)i * 8) : 0;
}

/*
 * Frame-pointer mode: the kernel's walk names [ip, [bp+8], ...], which loses the direct caller when the code
 * at ip has no frame of its own (symbolizer_leaf_caller). With the user registers and the top of the user
 * stack sampled, the return address the CFI gives is inserted after the user IP when the walk's next
 * address is not it. Only when the walk's first user address is the sampled user IP: then the registers
 * belong to it (for a sample in the kernel they are those at the system call, as is the user IP).
 * Returns the new key length.
 */
static size_t repair_leaf(struct rec_session *s, const struct perf_rec *r, uint32_t asid, size_t ustart, size_t n)
{
	uint64_t ip = sampled_reg(r, PERF_REG_X86_IP), sp = sampled_reg(r, PERF_REG_X86_SP), ra;

	if (!ip || !sp || s->key[ustart] != ip)
		return n;
	switch (symbolizer_leaf_caller(s->sym, asid, ip, sp, r->u.sample.stack, r->u.sample.stack_size, &ra)) {
	case SYMBOLIZER_LEAF_FOUND:
		break;
	case SYMBOLIZER_LEAF_BEYOND:
		s->st.leaf_beyond_stack++;
		return n;
	default:
		return n;
	}
	/* A return address is never 0 nor in the kernel half; the walk's next entry was stored minus one. */
	if (!ra || ra >= PERF_CONTEXT_MARKER_MIN || (ra >> 47) || (ustart + 1 < n && s->key[ustart + 1] == ra - 1))
		return n;
	if (n >= KEY_HDR + MAX_FRAMES) {
		s->st.max_depth_hit++;
		n--; /* the outermost address makes room: the caller matters more */
	}
	memmove(s->key + ustart + 2, s->key + ustart + 1, (n - ustart - 1) * sizeof(*s->key));
	s->key[ustart + 1] = ra - 1;
	s->st.leaf_repaired++;
	return n + 1;
}

static void on_sample(struct rec_session *s, const struct perf_rec *r, uint64_t nsamples)
{
	uint32_t pid = r->sid.pid, tid = r->sid.tid;
	uint64_t *key = s->key;
	size_t n = KEY_HDR, nkernel = 0;
	uint16_t cpumode = r->misc & PERF_RECORD_MISC_CPUMODE_MASK;
	bool in_kernel = cpumode == PERF_RECORD_MISC_KERNEL;
	bool first_in_ctx = true, user_seen = false;
	size_t ustart = 0; /* key index of the first user address, 0 = none */

	struct thread *t = thread_get(s, tid, pid);
	uint32_t asid = asid_of(s, pid);

	if (r->u.sample.callchain_nr) {
		for (uint64_t i = 0; i < r->u.sample.callchain_nr; i++) {
			uint64_t ip = perf_u64(r->u.sample.callchain + i * 8);
			if (ip >= PERF_CONTEXT_MARKER_MIN) {
				if (ip == (uint64_t)PERF_CONTEXT_KERNEL)
					in_kernel = true;
				else if (ip == (uint64_t)PERF_CONTEXT_USER)
					in_kernel = false, user_seen = true;
				else
					in_kernel = false; /* guest/hypervisor frames are dropped below */
				first_in_ctx = true;
				continue;
			}
			if (!in_kernel && !user_seen)
				continue; /* hypervisor or guest context */
			if (in_kernel && user_seen)
				continue;
			if (n >= KEY_HDR + MAX_FRAMES) {
				s->st.max_depth_hit++;
				break;
			}
			/* Return addresses point after the call: name the call instruction. */
			uint64_t a = first_in_ctx ? ip : ip - 1;
			first_in_ctx = false;
			if (in_kernel) {
				if (s->o.user_only)
					continue;
				nkernel++;
			} else if (s->o.dwarf) {
				continue; /* the user part comes from unwinding below */
			} else if (!ustart) {
				ustart = n;
			}
			key[n++] = a;
		}
	} else if (r->u.sample.ip) {
		/* No callchain: the sampled IP alone (in dwarf mode a user IP comes from the unwinder). */
		if (in_kernel ? !s->o.user_only : !s->o.dwarf) {
			key[n++] = r->u.sample.ip;
			nkernel = in_kernel;
		}
	}

	if (s->o.dwarf && r->u.sample.regs_abi && r->u.sample.regs && r->u.sample.stack) {
		uint64_t regs[64] = { 0 };
		uint64_t nregs = r->u.sample.regs_nr < 64 ? r->u.sample.regs_nr : 64;
		for (uint64_t i = 0; i < nregs; i++)
			regs[i] = perf_u64(r->u.sample.regs + i * 8);
		int spi = reg_index(s->o.regs_mask, PERF_REG_X86_SP);
		uint64_t sp = spi >= 0 && (uint64_t)spi < nregs ? regs[spi] : 0;
		size_t room = KEY_HDR + MAX_FRAMES - n;
		size_t got = symbolizer_unwind(s->sym, asid, tid, regs, s->o.regs_mask, r->u.sample.stack,
					       r->u.sample.stack_size, sp, s->uw, room);
		if (!got)
			s->st.unwind_failed++;
		for (size_t i = 0; i < got; i++)
			key[n++] = i ? s->uw[i] - 1 : s->uw[i];
	} else if (s->o.dwarf && cpumode == PERF_RECORD_MISC_USER) {
		s->st.unwind_failed++; /* kernel threads have no user stack; a user-mode sample should */
	}

	if (ustart && r->u.sample.regs_abi && r->u.sample.stack)
		n = repair_leaf(s, r, asid, ustart, n);

	if (s->rt.user_stack && n > KEY_HDR + nkernel)
		n = KEY_HDR + nkernel + s->rt.user_stack(s->rt.ctx, pid, tid, key + KEY_HDR + nkernel,
							n - KEY_HDR - nkernel, MAX_FRAMES - nkernel);
	bool labels = !s->o.no_labels;
	key[0] = asid;
	key[1] = labels || s->o.root_frame >= 2 ? pid : 0;
	key[2] = labels || s->o.root_frame >= 3 ? tid : 0;
	key[3] = labels || s->o.root_frame >= 1 ? t->comm : 0;
	key[4] = nkernel;
	uint32_t ai = agg_intern(s, key, n);
	s->aggs[ai].count += nsamples;
	s->aggs[ai].period += r->u.sample.period;
	s->st.samples += nsamples;
	s->st.period += r->u.sample.period;
	if (r->sid.has_time) {
		if (!s->st.first_time || r->sid.time < s->st.first_time)
			s->st.first_time = r->sid.time;
		if (r->sid.time > s->st.last_time)
			s->st.last_time = r->sid.time;
	}
}

void rec_session_record(struct rec_session *s, const struct perf_rec *r)
{
	switch (r->type) {
	case PERF_RECORD_SAMPLE:
		on_sample(s, r, 1);
		break;
	case PERF_RECORD_MMAP:
	case PERF_RECORD_MMAP2:
		on_mmap(s, r);
		break;
	case PERF_RECORD_COMM:
		on_comm(s, r);
		break;
	case PERF_RECORD_FORK:
		on_fork(s, r);
		break;
	case PERF_RECORD_EXIT:
		/* Mappings stay: addresses are symbolized at the end. */
		break;
	case PERF_RECORD_LOST:
		s->st.lost += r->u.lost.lost;
		break;
	case PERF_RECORD_LOST_SAMPLES:
		s->st.lost += r->u.lost_samples.lost;
		break;
	case PERF_RECORD_THROTTLE:
		s->st.throttled++;
		break;
	default:
		break;
	}
}

void rec_session_record_n(struct rec_session *s, const struct perf_rec *r, uint64_t n)
{
	if (r->type == PERF_RECORD_SAMPLE)
		on_sample(s, r, n);
	else
		rec_session_record(s, r);
}

uint32_t rec_session_asid(struct rec_session *s, uint32_t pid)
{
	return asid_of(s, pid);
}

/* Finish-time state: the address cache. */
struct resolver {
	struct resolved *v;
	size_t nr, alloc;
	struct u64map index; /* hash(asid, addr) -> first */
	uint32_t *fids;
	size_t fids_nr, fids_alloc;
	uint32_t unknown_user, unknown_kernel;
};

static const struct resolved *resolve(struct rec_session *s, struct resolver *rs, struct profile *p, uint32_t asid,
				      uint64_t addr, bool kernel)
{
	if (kernel)
		asid = KERNEL_ASID;
	uint64_t h = hash_u64(addr ^ ((uint64_t)asid << 40) ^ asid);
	int inserted;
	uint64_t *head = u64map_insert(&rs->index, h == U64MAP_EMPTY ? 0 : h, &inserted);
	uint32_t first = inserted ? UINT32_MAX : (uint32_t)*head;
	for (uint32_t i = first; i != UINT32_MAX; i = rs->v[i].next)
		if (rs->v[i].addr == addr && rs->v[i].asid == asid)
			return &rs->v[i];

	uint32_t out[MAX_INLINE];
	size_t got = 0;
	if (!kernel && (addr & REC_RUNTIME_TAG) && s->rt.resolve)
		got = s->rt.resolve(s->rt.ctx, p, addr, out, MAX_INLINE);
	if (!got) {
		got = symbolizer_resolve(s->sym, p, kernel ? 0 : asid, addr, kernel, out, MAX_INLINE);
		if (!kernel && got && s->rt.frames)
			got = s->rt.frames(s->rt.ctx, p, out, got, MAX_INLINE);
	}
	if (!got) {
		out[0] = kernel ? rs->unknown_kernel : rs->unknown_user;
		got = 1;
	}
	if (kernel && s->o.annotate_kernel) {
		for (size_t i = 0; i < got; i++) {
			struct frame f = p->frames[out[i]];
			const char *name = f.function ? profile_str(p, f.function) : "[unknown]";
			char *annotated = xasprintf("%s_[k]", name);
			f.function = profile_intern_str(p, annotated);
			free(annotated);
			out[i] = profile_frame(p, &f);
		}
	}
	ALLOC_GROW(rs->fids, rs->fids_nr + got, rs->fids_alloc);
	memcpy(rs->fids + rs->fids_nr, out, got * sizeof(*out));
	ALLOC_GROW(rs->v, rs->nr + 1, rs->alloc);
	struct resolved *r = &rs->v[rs->nr];
	r->addr = addr;
	r->asid = asid;
	r->next = first;
	r->off = (uint32_t)rs->fids_nr;
	r->n = (uint32_t)got;
	rs->fids_nr += got;
	*head = rs->nr;
	return &rs->v[rs->nr++];
}

/* Names of functions where a complete user stack starts (a thread or process entry point). */
static bool is_entry_point(const char *name)
{
	static const char *const entries[] = {
		"main", "_start", "__libc_start_main", "__libc_start_call_main", "start_thread", "clone", "clone3",
		"__clone", "__clone3", "__GI___clone", "__GI___clone3", "_dl_start", "_dl_start_user", "_start_c",
		"runtime.goexit", "runtime.mstart", "runtime.main", "runtime.rt0_go", "_rt0_amd64_linux", NULL,
	};
	if (!name)
		return false;
	for (size_t i = 0; entries[i]; i++)
		if (!strcmp(name, entries[i]))
			return true;
	return !strncmp(name, "__libc_start_main", 17);
}

int rec_session_finish(struct rec_session *s, struct profile *p, struct err *e)
{
	struct resolver rs = { 0 };
	int ret = -1;

	int c_samples = profile_add_column(p, "samples", "count");
	int c_value = profile_add_column(p, s->o.value_type, s->o.value_unit);
	if (c_samples < 0 || c_value < 0) {
		err_set(e, "cannot add value columns to the profile");
		goto out;
	}
	p->default_column = s->o.default_samples ? c_samples : c_value;
	if (!p->period_type.type) {
		p->period_type.type = profile_intern_str(p, s->o.value_type);
		p->period_type.unit = profile_intern_str(p, s->o.value_unit);
	}
	rs.unknown_user = profile_frame_named(p, "[unknown]", 9, FRAME_UNKNOWN);
	rs.unknown_kernel = profile_frame_named(p, "[unknown]", 9, FRAME_KERNEL);

	uint32_t k_pid = profile_intern_str(p, "pid"), k_tid = profile_intern_str(p, "tid");
	uint32_t k_comm = profile_intern_str(p, "comm");
	int64_t *vals = xcalloc(p->ncolumns, sizeof(*vals));

	s->st.unique_stacks = s->aggs_nr;
	/* User addresses first, while the kernel's symbol table may still be being read (symbolizer_prefetch_kernel):
	 * the walk below finds them resolved. */
	for (size_t ai = 0; ai < s->aggs_nr; ai++) {
		const uint64_t *key = s->words + s->aggs[ai].off;
		for (size_t j = key[4]; j < s->aggs[ai].len - KEY_HDR; j++)
			resolve(s, &rs, p, (uint32_t)key[0], key[KEY_HDR + j], false);
	}
	for (size_t ai = 0; ai < s->aggs_nr; ai++) {
		const struct agg *a = &s->aggs[ai];
		const uint64_t *key = s->words + a->off;
		uint32_t asid = (uint32_t)key[0];
		size_t nkernel = key[4], naddr = a->len - KEY_HDR;
		const uint64_t *addrs = key + KEY_HDR;

		/* Walk from the root: user addresses outermost first, then kernel ones; each address expands to
		 * its inlined frames, which the symbolizer returns innermost first. */
		uint32_t node = 0;
		if (s->o.root_frame) {
			char *name;
			const char *comm = key[3] ? strtab_str(&s->names, (uint32_t)key[3]) : "[unknown]";
			if (s->o.root_frame >= 3)
				name = xasprintf("%s-%" PRIu64 "/%" PRIu64, comm, key[1], key[2]);
			else if (s->o.root_frame == 2)
				name = xasprintf("%s-%" PRIu64, comm, key[1]);
			else
				name = xstrdup(comm);
			for (char *c = name; *c; c++)
				if (*c == ' ')
					*c = '_';
			node = profile_node(p, 0, profile_frame_named(p, name, strlen(name), FRAME_ROOT));
			free(name);
		}
		bool has_user = naddr > nkernel, rooted = false;
		for (size_t j = naddr; j-- > 0;) {
			bool kernel = j < nkernel;
			const struct resolved *r = resolve(s, &rs, p, asid, addrs[j], kernel);
			for (uint32_t k = r->n; k-- > 0;) {
				uint32_t fid = rs.fids[r->off + k];
				node = profile_node(p, node, fid);
				if (!kernel && has_user && !rooted) {
					const struct frame *f = &p->frames[fid];
					if (f->kind == FRAME_PYTHON ||
					    (f->function && is_entry_point(profile_str(p, f->function))))
						rooted = true;
				}
			}
		}
		if (!naddr)
			node = profile_node(p, node, rs.unknown_user);
		if (has_user) {
			s->st.user_samples += a->count;
			if (!rooted)
				s->st.broken_user += a->count;
		}

		uint32_t ls = 0;
		if (!s->o.no_labels) {
			struct label l[3];
			memset(l, 0, sizeof(l));
			l[0].key = k_pid;
			l[0].num = (int64_t)key[1];
			l[1].key = k_tid;
			l[1].num = (int64_t)key[2];
			size_t nl = 2;
			if (key[3]) {
				l[2].key = k_comm;
				l[2].str = profile_intern(p, strtab_str(&s->names, (uint32_t)key[3]),
							  strtab_len(&s->names, (uint32_t)key[3]));
				nl = 3;
			}
			ls = profile_labelset(p, l, nl);
		}
		memset(vals, 0, p->ncolumns * sizeof(*vals));
		vals[c_samples] = (int64_t)a->count;
		vals[c_value] = (int64_t)a->period;
		profile_add_sample(p, node, ls, vals);
	}
	free(vals);
	ret = 0;
out:
	free(rs.v);
	free(rs.fids);
	u64map_release(&rs.index);
	return ret;
}

void rec_session_reset_samples(struct rec_session *s)
{
	/* The arrays keep their room: the next window has about as many unique stacks as this one. */
	s->words_nr = 0;
	s->aggs_nr = 0;
	u64map_release(&s->agg_index);
	s->st.samples = s->st.period = 0;
	s->st.lost = s->st.throttled = s->st.bad_records = 0;
	s->st.first_time = s->st.last_time = 0;
	s->st.unique_stacks = s->st.user_samples = s->st.broken_user = 0;
	s->st.unwind_failed = s->st.max_depth_hit = s->st.leaf_repaired = s->st.leaf_beyond_stack = 0;
}
