/*
 * The symbolizer's core: process address spaces, the dispatch of an address to its source (ELF module, vdso,
 * kallsyms, perf map), and copying cached frames into a profile. ELF and DWARF work is in elfmod.c, stack
 * unwinding in unwind.c.
 */
#include "symbolizer.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../core/array.h"
#include "../core/buf.h"
#include "../core/err.h"
#include "../profile/profile.h"
#include "ksyms.h"
#include "perfmap.h"
#include "sym_internal.h"

uint32_t sym_strn(struct symbolizer *s, const char *str, size_t len)
{
	return strtab_intern(&s->strs, str, len);
}

uint32_t sym_str(struct symbolizer *s, const char *str)
{
	return str ? strtab_intern(&s->strs, str, strlen(str)) : 0;
}

const char *sym_strget(const struct symbolizer *s, uint32_t id)
{
	return strtab_str(&s->strs, id);
}

uint32_t sym_push(struct symbolizer *s, uint32_t function, uint32_t module, uint32_t file, uint32_t line,
		  uint64_t addr, uint32_t kind)
{
	ALLOC_GROW(s->sf, s->sf_nr + 1, s->sf_alloc);
	s->sf[s->sf_nr] = (struct symframe){ function, module, file, line, addr, kind };
	return (uint32_t)s->sf_nr++;
}

struct symbolizer *symbolizer_new(void)
{
	struct symbolizer *s = xcalloc(1, sizeof(*s));
	const char *dirs = getenv("KILN_DEBUGINFO_DIRS");

	s->strs = (struct strtab)STRTAB_INIT;
	s->modkeys = (struct strtab)STRTAB_INIT;
	sym_strn(s, "", 0);
	s->kallsyms_path = xstrdup("/proc/kallsyms");
	s->perfmap_dir = xstrdup("/tmp");
	symbolizer_set_debuginfo_dirs(s, dirs && *dirs ? dirs : "/usr/lib/debug");
	return s;
}

void symbolizer_free(struct symbolizer *s)
{
	if (!s)
		return;
	if (s->kthread_running) {
		void *ret = NULL;
		pthread_join(s->kthread, &ret);
		ksyms_free(ret);
	}
	for (size_t i = 0; i < s->procs_nr; i++) {
		struct proc *pr = s->procs[i];
		unwinder_free(pr->uw);
		perfmap_free(pr->pm);
		free(pr->pm_path);
		free(pr->maps);
		u64map_release(&pr->jcache);
		free(pr);
	}
	free(s->procs);
	u64map_release(&s->pid_index);
	if (s->dwfl)
		dwfl_end(s->dwfl);
	for (size_t i = 0; i < s->mods_nr; i++)
		elfmod_free(s->mods[i]);
	free(s->mods);
	strtab_release(&s->modkeys);
	strtab_release(&s->strs);
	free(s->sf);
	ksyms_free(s->ksyms);
	u64map_release(&s->kcache);
	u64map_release(&s->ucache);
	u64map_release(&s->rcache);
	free(s->kallsyms_path);
	free(s->perfmap_dir);
	free(s->debuginfo_path);
	free(s->xstr);
	free(s->xframe);
	free(s);
}

void symbolizer_set_debuginfo_dirs(struct symbolizer *s, const char *dirs)
{
	/* libdwfl's search path: "" (beside the file) and ".debug" for debuglink, then the absolute directories,
	 * which are searched for .build-id/xx/yyyy.debug and for debuglink files (dwfl_standard_find_debuginfo). */
	free(s->debuginfo_path);
	s->debuginfo_path = xasprintf(":.debug:%s", dirs ? dirs : "");
}

static void *kallsyms_thread(void *path)
{
	return ksyms_load(path, NULL);
}

void symbolizer_prefetch_kernel(struct symbolizer *s)
{
	if (s->ksyms_loaded || s->kthread_running)
		return;
	s->kthread_running = !pthread_create(&s->kthread, NULL, kallsyms_thread, s->kallsyms_path);
}

/* The kallsyms table: from the prefetch thread, or read now. */
static struct ksyms *kernel_symbols(struct symbolizer *s)
{
	void *ret = NULL;

	if (s->kthread_running) {
		pthread_join(s->kthread, &ret);
		s->kthread_running = false;
		s->ksyms = ret;
		s->ksyms_loaded = true;
	}
	if (!s->ksyms_loaded) {
		s->ksyms_loaded = true;
		s->ksyms = ksyms_load(s->kallsyms_path, NULL);
	}
	return s->ksyms;
}

void symbolizer_set_kallsyms(struct symbolizer *s, const char *path)
{
	if (s->kthread_running) {
		void *ret = NULL;
		pthread_join(s->kthread, &ret);
		s->kthread_running = false;
		ksyms_free(ret);
	}
	free(s->kallsyms_path);
	s->kallsyms_path = xstrdup(path);
	ksyms_free(s->ksyms);
	s->ksyms = NULL;
	s->ksyms_loaded = false;
	u64map_release(&s->kcache);
	s->kernel_hidden = 0;
}

void symbolizer_set_perfmap_dir(struct symbolizer *s, const char *dir)
{
	free(s->perfmap_dir);
	s->perfmap_dir = xstrdup(dir);
}

void symbolizer_set_flags(struct symbolizer *s, unsigned flags)
{
	s->flags = flags;
}

void symbolizer_get_stats(const struct symbolizer *s, struct symbolizer_stats *st)
{
	*st = s->stats;
}

/* Processes and mappings. */

struct proc *sym_proc(struct symbolizer *s, uint32_t pid, bool create)
{
	int inserted = 0;
	uint64_t *slot;

	if (!create) {
		slot = u64map_find(&s->pid_index, pid);
		return slot ? s->procs[*slot] : NULL;
	}
	slot = u64map_insert(&s->pid_index, pid, &inserted);
	if (!inserted)
		return s->procs[*slot];
	struct proc *pr = xcalloc(1, sizeof(*pr));
	pr->pid = pid;
	pr->os_pid = pid & ((1u << SYMBOLIZER_PID_BITS) - 1);
	pr->pm_size = -1;
	pr->jcache = (struct u64map)U64MAP_INIT;
	ALLOC_GROW(s->procs, s->procs_nr + 1, s->procs_alloc);
	*slot = s->procs_nr;
	s->procs[s->procs_nr++] = pr;
	return pr;
}

/* Index of the first mapping whose end is above `addr` (mappings are disjoint and sorted). */
static size_t first_ending_above(const struct proc *pr, uint64_t addr)
{
	size_t lo = 0, hi = pr->nr;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (pr->maps[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const struct mapping *sym_find_mapping(const struct proc *pr, uint64_t addr)
{
	size_t i = first_ending_above(pr, addr);
	if (i < pr->nr && pr->maps[i].start <= addr)
		return &pr->maps[i];
	return NULL;
}

static enum map_type classify(const char *path)
{
	if (!strcmp(path, "[vdso]"))
		return MT_VDSO;
	if (path[0] == '/' && strncmp(path, "/memfd:", 7) && strncmp(path, "/dev/", 5) && strcmp(path, "//anon") &&
	    strncmp(path, "/SYSV", 5))
		return MT_FILE;
	if (path[0] == '[' && strncmp(path, "[anon", 5))
		return MT_SPECIAL;
	return MT_ANON;
}

static void insert_mapping(struct proc *pr, const struct mapping *nm)
{
	size_t i = first_ending_above(pr, nm->start), j = i;
	struct mapping pieces[3];
	size_t np = 0;

	while (j < pr->nr && pr->maps[j].start < nm->end)
		j++;
	if (i < j && pr->maps[i].start < nm->start) {
		pieces[np] = pr->maps[i];
		pieces[np++].end = nm->start;
	}
	pieces[np++] = *nm;
	if (i < j && pr->maps[j - 1].end > nm->end) {
		struct mapping r = pr->maps[j - 1];
		r.pgoff += nm->end - r.start;
		r.start = nm->end;
		pieces[np++] = r;
	}
	if (i < j)
		pr->replaced++;
	/* Replace maps[i, j) by the pieces. */
	size_t newnr = pr->nr - (j - i) + np;
	ALLOC_GROW(pr->maps, newnr, pr->alloc);
	memmove(pr->maps + i + np, pr->maps + j, (pr->nr - j) * sizeof(*pr->maps));
	memcpy(pr->maps + i, pieces, np * sizeof(*pieces));
	pr->nr = newnr;
	pr->gen++;
}

int symbolizer_add_mapping(struct symbolizer *s, uint32_t pid, uint64_t start, uint64_t len, uint64_t pgoff,
			   const char *path, const unsigned char *build_id, size_t build_id_len, struct err *e)
{
	struct mapping m = { 0 };

	if (!len || start + len < start)
		return err_set(e, "bad mapping range 0x%" PRIx64 "+0x%" PRIx64 " of pid %" PRIu32, start, len, pid);
	if (!path)
		path = "";
	m.start = start;
	m.end = start + len;
	m.pgoff = pgoff;
	m.path = sym_str(s, path);
	m.type = classify(path);
	m.mod = MOD_UNRESOLVED;
	if (build_id && build_id_len) {
		char hex[BUILD_ID_HEX_MAX];
		m.build_id = sym_strn(s, hex, build_id_hex(build_id, build_id_len, hex));
	}
	insert_mapping(sym_proc(s, pid, true), &m);
	return 0;
}

static int hexdig(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static const char *scan_hex(const char *p, uint64_t *out)
{
	uint64_t v = 0;
	int d, n = 0;
	while ((d = hexdig((unsigned char)*p)) >= 0 && n < 17) {
		v = v << 4 | (uint64_t)d;
		p++;
		n++;
	}
	*out = v;
	return n ? p : NULL;
}

int symbolizer_load_proc_maps(struct symbolizer *s, uint32_t pid, struct err *e)
{
	char path[64];
	struct buf b = BUF_INIT;
	int ret = -1;

	snprintf(path, sizeof(path), "/proc/%" PRIu32 "/maps", pid & ((1u << SYMBOLIZER_PID_BITS) - 1));
	if (buf_read_file(&b, path, e) < 0)
		goto out;
	sym_proc(s, pid, true);
	for (char *line = b.buf, *next; line && *line; line = next) {
		uint64_t start, end, off;
		const char *p;
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		/* start-end perms offset dev inode path */
		if (!(p = scan_hex(line, &start)) || *p != '-' || !(p = scan_hex(p + 1, &end)) || *p != ' ')
			continue;
		const char *perms = p + 1;
		if (strlen(perms) < 5 || perms[2] != 'x')
			continue;
		if (!(p = scan_hex(perms + 5, &off)) || *p != ' ')
			continue;
		p = strchr(p + 1, ' '); /* dev */
		if (!p)
			continue;
		while (*p == ' ')
			p++;
		while (*p && *p != ' ') /* inode */
			p++;
		while (*p == ' ')
			p++;
		if (end > start && symbolizer_add_mapping(s, pid, start, end - start, off, p, NULL, 0, e) < 0)
			goto out;
	}
	ret = 0;
out:
	buf_release(&b);
	return ret;
}

static void forget_perfmap(struct proc *pr)
{
	perfmap_free(pr->pm);
	pr->pm = NULL;
	free(pr->pm_path);
	pr->pm_path = NULL;
	pr->pm_size = -1;
	u64map_release(&pr->jcache);
}

void symbolizer_fork(struct symbolizer *s, uint32_t parent_pid, uint32_t child_pid)
{
	struct proc *parent = sym_proc(s, parent_pid, false), *child;

	if (parent_pid == child_pid)
		return; /* a new thread shares the address space */
	child = sym_proc(s, child_pid, true);
	child->nr = 0;
	child->exited = false;
	child->gen++;
	child->replaced++;
	forget_perfmap(child); /* a reused pid: what was known of the old process does not apply */
	if (!parent)
		return;
	ALLOC_GROW(child->maps, parent->nr, child->alloc);
	if (parent->nr)
		memcpy(child->maps, parent->maps, parent->nr * sizeof(*parent->maps));
	child->nr = parent->nr;
}

void symbolizer_exec(struct symbolizer *s, uint32_t pid)
{
	struct proc *pr = sym_proc(s, pid, false);

	if (!pr)
		return;
	pr->nr = 0;
	pr->gen++;
	pr->replaced++;
	pr->exited = false;
	forget_perfmap(pr);
}

void symbolizer_exit(struct symbolizer *s, uint32_t pid)
{
	struct proc *pr = sym_proc(s, pid, false);

	if (pr)
		pr->exited = true;
}

/* Sources other than ELF modules. */

/* x86_64: user space ends below the canonical hole; anything above it is the kernel's. */
#define KERNEL_START 0xffff800000000000ULL

static uint64_t one_frame(struct symbolizer *s, uint32_t function, uint32_t module, uint64_t addr, uint32_t kind)
{
	return sfr_make(sym_push(s, function, module, 0, 0, addr, kind), 1);
}

static uint64_t resolve_kernel(struct symbolizer *s, uint64_t addr)
{
	const struct ksym *ks;
	uint64_t *slot, r;
	int inserted = 0;

	if (ksyms_hidden(kernel_symbols(s)) || !(ks = ksyms_find(s->ksyms, addr))) {
		if (!s->kernel_hidden)
			s->kernel_hidden = one_frame(s, sym_str(s, "[kernel]"), sym_str(s, "[kernel.kallsyms]"), 0,
						     FRAME_KERNEL);
		return s->kernel_hidden;
	}
	if (addr == U64MAP_EMPTY)
		return one_frame(s, sym_str(s, ks->name), sym_str(s, ks->module), addr, FRAME_KERNEL);
	slot = u64map_insert(&s->kcache, addr, &inserted);
	if (inserted) {
		s->stats.cache_misses++;
		*slot = one_frame(s, sym_str(s, ks->name), sym_str(s, ks->module), addr, FRAME_KERNEL);
	}
	r = *slot;
	return r;
}

/* Opens (or reopens, when it changed size) the perf map of `pr`. Returns true when a new map was loaded. */
static bool reload_perfmap(struct symbolizer *s, struct proc *pr)
{
	char *cands[2];
	struct stat st;
	bool loaded = false;

	cands[0] = xasprintf("/proc/%" PRIu32 "/root%s/perf-%" PRIu32 ".map", pr->os_pid, s->perfmap_dir, pr->os_pid);
	cands[1] = xasprintf("%s/perf-%" PRIu32 ".map", s->perfmap_dir, pr->os_pid);
	for (int i = 0; i < 2; i++) {
		if (stat(cands[i], &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (pr->pm && st.st_size == pr->pm_size)
			break; /* unchanged */
		struct buf b = BUF_INIT;
		if (buf_read_file(&b, cands[i], NULL) == 0) {
			forget_perfmap(pr);
			pr->pm = perfmap_parse(b.buf, b.len);
			pr->pm_size = (off_t)b.len;
			pr->pm_path = xstrdup(cands[1]);
			loaded = true;
		}
		buf_release(&b);
		break;
	}
	free(cands[0]);
	free(cands[1]);
	return loaded;
}

/* JIT code: the perf map of the process, reloaded when an address misses and the file changed. */
static bool resolve_jit(struct symbolizer *s, struct proc *pr, uint64_t addr, uint64_t *range)
{
	uint64_t start, *slot;
	const char *name = pr->pm ? perfmap_find(pr->pm, addr, &start) : NULL;
	int inserted = 0;

	if (!name && reload_perfmap(s, pr))
		name = perfmap_find(pr->pm, addr, &start);
	if (!name)
		return false;
	if (start == U64MAP_EMPTY) {
		*range = one_frame(s, sym_str(s, name), sym_str(s, pr->pm_path), 0, FRAME_JIT);
		return true;
	}
	slot = u64map_insert(&pr->jcache, start, &inserted);
	if (inserted)
		*slot = one_frame(s, sym_str(s, name), sym_str(s, pr->pm_path), 0, FRAME_JIT);
	*range = *slot;
	return true;
}

/* "[unknown]" in module `module` (a strs id; 0 for no mapping at all), cached per module. */
static uint64_t unknown_frame(struct symbolizer *s, uint32_t module)
{
	int inserted = 0;
	uint64_t *slot = u64map_insert(&s->ucache, module, &inserted);

	if (inserted)
		*slot = one_frame(s, sym_str(s, "[unknown]"), module, 0, FRAME_UNKNOWN);
	return *slot;
}

/* A named mapping without symbols ("[heap]", "[anon:jit]", "/memfd:x"): "[name+0xoffset]" from its start. */
static uint64_t region_frame(struct symbolizer *s, const struct mapping *m, uint64_t addr)
{
	const char *path = sym_strget(s, m->path), *base = strrchr(path, '/');
	uint64_t off = addr - m->start, key = (uint64_t)m->path << 40 | off, *slot = NULL;
	int inserted = 1;
	char buf[512];

	if (!*path || !strcmp(path, "//anon"))
		return unknown_frame(s, m->path);
	if (m->path < (1u << 23) && off < (1ULL << 40))
		slot = u64map_insert(&s->rcache, key, &inserted);
	if (!inserted)
		return *slot;
	base = base && base[1] ? base + 1 : path;
	if (*base == '[') /* "[heap]" -> "heap" */
		snprintf(buf, sizeof(buf), "[%.*s+0x%" PRIx64 "]", (int)strcspn(base + 1, "]"), base + 1, off);
	else
		snprintf(buf, sizeof(buf), "[%s+0x%" PRIx64 "]", base, off);
	uint64_t r = one_frame(s, sym_str(s, buf), m->path, off, FRAME_UNKNOWN);
	if (slot)
		*slot = r;
	return r;
}

/* Copying into the profile: ids cached per profile, and checked against it before use. */

static void grow_zeroed(uint32_t **v, size_t *alloc, size_t need)
{
	if (need <= *alloc)
		return;
	size_t n = need < 1024 ? 1024 : need * 2;
	*v = xrealloc(*v, n * sizeof(**v));
	memset(*v + *alloc, 0, (n - *alloc) * sizeof(**v));
	*alloc = n;
}

static uint32_t xlate_str(struct symbolizer *s, struct profile *p, uint32_t id)
{
	uint32_t v, len;
	const char *str;

	if (!id)
		return 0;
	v = s->xstr[id];
	str = strtab_str(&s->strs, id);
	len = strtab_len(&s->strs, id);
	if (v && v - 1 < p->strings.nr && profile_strlen(p, v - 1) == len && !memcmp(profile_str(p, v - 1), str, len))
		return v - 1;
	v = profile_intern(p, str, len);
	s->xstr[id] = v + 1;
	return v;
}

static size_t emit(struct symbolizer *s, struct profile *p, uint64_t range, uint32_t *out, size_t max)
{
	size_t first = sfr_first(range), n = sfr_count(range);

	if (s->xprof != p) {
		s->xprof = p;
		if (s->xstr)
			memset(s->xstr, 0, s->xstr_alloc * sizeof(*s->xstr));
		if (s->xframe)
			memset(s->xframe, 0, s->xframe_alloc * sizeof(*s->xframe));
	}
	grow_zeroed(&s->xstr, &s->xstr_alloc, s->strs.nr);
	grow_zeroed(&s->xframe, &s->xframe_alloc, s->sf_nr);
	if (n > max)
		n = max;
	for (size_t i = 0; i < n; i++) {
		const struct symframe *sf = &s->sf[first + i];
		struct frame f = { 0 };
		uint32_t id;

		f.function = xlate_str(s, p, sf->function);
		f.module = xlate_str(s, p, sf->module);
		f.file = xlate_str(s, p, sf->file);
		f.line = sf->line;
		f.addr = sf->addr;
		f.kind = sf->kind;
		id = s->xframe[first + i];
		if (!(id && id - 1 < p->frames_nr && !memcmp(&p->frames[id - 1], &f, sizeof(f)))) {
			id = profile_frame(p, &f) + 1;
			s->xframe[first + i] = id;
		}
		out[i] = id - 1;
	}
	return n;
}

size_t symbolizer_resolve(struct symbolizer *s, struct profile *p, uint32_t pid, uint64_t addr, bool kernel,
			  uint32_t *out, size_t max)
{
	uint64_t range;

	s->stats.lookups++;
	if (!max)
		return 0;
	if (kernel || addr >= KERNEL_START) {
		range = resolve_kernel(s, addr);
		return emit(s, p, range, out, max);
	}

	struct proc *pr = sym_proc(s, pid, false);
	struct mapping *m = pr ? (struct mapping *)sym_find_mapping(pr, addr) : NULL;

	if (m && (m->type == MT_FILE || m->type == MT_VDSO)) {
		struct elfmod *mod = elfmod_for_mapping(s, pr, m);
		uint64_t off = addr - m->start + m->pgoff, key = off;
		if (mod) {
			if (mod->dm && !elfmod_off_to_vaddr(mod, off, &key))
				key = off;
			range = elfmod_resolve(s, mod, key);
			return emit(s, p, range, out, max);
		}
	}
	if (pr && (!m || m->type == MT_ANON) && resolve_jit(s, pr, addr, &range))
		return emit(s, p, range, out, max);
	range = m ? region_frame(s, m, addr) : unknown_frame(s, 0);
	return emit(s, p, range, out, max);
}
