/*
 * ELF modules for the symbolizer: every file is reported once into one offline Dwfl (at a base address of our
 * choosing; lookups are module-relative), debuginfo is found by build-id and debuglink through libdwfl's
 * standard callbacks, and each (module, address) is symbolized once: symbol, file:line and inline chain.
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwelf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/array.h"
#include "../core/buf.h"
#include "debugcache.h"
#include "demangle.h"
#include "sym_internal.h"

#define FIRST_BASE (1ULL << 44) /* above the fixed addresses of ET_EXEC files */
#define MAX_VDSO (1u << 20)

int elfmod_init_dwfl(struct symbolizer *s)
{
	if (s->dwfl)
		return 0;
	s->cb.find_elf = dwfl_build_id_find_elf;
	s->cb.find_debuginfo = debugcache_find_debuginfo;
	s->cb.section_address = dwfl_offline_section_address;
	s->cb.debuginfo_path = &s->debuginfo_path;
	s->dwfl = dwfl_begin(&s->cb);
	s->next_base = FIRST_BASE;
	return s->dwfl ? 0 : -1;
}

void elfmod_free(struct elfmod *mod)
{
	if (!mod)
		return;
	free(mod->file);
	free(mod->loads);
	free(mod->image);
	free(mod->syms);
	inl_index_release(&mod->inl);
	u64map_release(&mod->cache);
	u64map_release(&mod->leaf_rules);
	free(mod);
}

static const char *basename_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash && slash[1] ? slash + 1 : path;
}

/* Reports `fd` (consumed) as the module's file; fills dm, bias and the PT_LOAD table. */
static bool report(struct symbolizer *s, struct elfmod *mod, size_t idx, int fd, const char *file)
{
	char name[32];
	Dwarf_Addr low = 0, high = 0, bias = 0;
	GElf_Ehdr ehdr;
	size_t phnum;
	Elf *elf;

	snprintf(name, sizeof(name), "kiln-mod-%zu-%zu", idx, s->reports++);
	dwfl_report_begin_add(s->dwfl);
	mod->dm = dwfl_report_elf(s->dwfl, name, file, fd, s->next_base, true);
	dwfl_report_end(s->dwfl, NULL, NULL);
	if (!mod->dm) {
		close(fd);
		return false;
	}
	dwfl_module_info(mod->dm, NULL, &low, &high, NULL, NULL, NULL, NULL);
	elf = dwfl_module_getelf(mod->dm, &bias);
	if (!elf || !gelf_getehdr(elf, &ehdr) || elf_getphdrnum(elf, &phnum)) {
		mod->dm = NULL;
		return false;
	}
	mod->bias = bias;
	mod->is_exec = ehdr.e_type == ET_EXEC;
	if (!mod->is_exec && high > s->next_base)
		s->next_base = (high + 0xfffff) & ~(uint64_t)0xfffff;
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		ALLOC_GROW(mod->loads, mod->loads_nr + 1, mod->loads_alloc);
		mod->loads[mod->loads_nr++] = (struct load_seg){ ph.p_offset, ph.p_offset + ph.p_filesz, ph.p_vaddr };
	}
	mod->file = xstrdup(file);
	return true;
}

size_t build_id_hex(const void *bits, size_t n, char out[BUILD_ID_HEX_MAX])
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *b = bits;

	n = n < 64 ? n : 64;
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
	return 2 * n;
}

size_t module_build_id_hex(Dwfl_Module *dm, char out[BUILD_ID_HEX_MAX])
{
	const unsigned char *bits;
	GElf_Addr vaddr;
	int n = dwfl_module_build_id(dm, &bits, &vaddr);

	return build_id_hex(bits, n > 0 ? (size_t)n : 0, out);
}

/* The debug file of a build-id in the debuginfo directories (it has symbols, DWARF and program headers). */
static int open_by_build_id(const struct symbolizer *s, const char *hex, char **path)
{
	const char *p = s->debuginfo_path;

	if (strlen(hex) < 4)
		return -1;
	while (p && *p) {
		const char *colon = strchr(p, ':');
		size_t n = colon ? (size_t)(colon - p) : strlen(p);
		if (n && p[0] == '/') {
			char *cand = xasprintf("%.*s/.build-id/%.2s/%s.debug", (int)n, p, hex, hex + 2);
			int fd = open(cand, O_RDONLY | O_CLOEXEC);
			if (fd >= 0) {
				*path = cand;
				return fd;
			}
			free(cand);
		}
		p = colon ? colon + 1 : NULL;
	}
	return -1;
}

static struct elfmod *new_mod(struct symbolizer *s, uint32_t module, const char *path)
{
	struct elfmod *mod = xcalloc(1, sizeof(*mod));

	mod->module = module;
	mod->base = sym_str(s, basename_of(path));
	mod->cache = (struct u64map)U64MAP_INIT;
	mod->leaf_rules = (struct u64map)U64MAP_INIT;
	mod->inl = (struct inl_index)INL_INDEX_INIT;
	ALLOC_GROW(s->mods, s->mods_nr + 1, s->mods_alloc);
	s->mods[s->mods_nr++] = mod;
	s->stats.modules++;
	return mod;
}

static int32_t open_file(struct symbolizer *s, const struct proc *pr, const struct mapping *m)
{
	const char *path = sym_strget(s, m->path);
	size_t len = strlen(path);
	char *clean, *cands[3] = { NULL, NULL, NULL }, *opened = NULL, *key, hex_buf[BUILD_ID_HEX_MAX];
	bool deleted = len > 10 && !strcmp(path + len - 10, " (deleted)");
	int fd = -1, n = 0;
	struct stat st;

	clean = xstrndup(path, deleted ? len - 10 : len);
	if (!pr->exited && deleted)
		cands[n++] = xasprintf("/proc/%" PRIu32 "/map_files/%" PRIx64 "-%" PRIx64, pr->os_pid, m->start, m->end);
	if (!pr->exited)
		cands[n++] = xasprintf("/proc/%" PRIu32 "/root%s", pr->os_pid, clean);
	cands[n++] = xstrdup(clean);
	for (int i = 0; i < n && fd < 0; i++)
		if ((fd = open(cands[i], O_RDONLY | O_CLOEXEC)) >= 0)
			opened = cands[i];
	/* libdwfl looks for debug files beside the name it is given and under DIR/ + its directory: give it the
	 * plain path when that is the same file (not a container's), which stays valid after the process exits. */
	if (fd >= 0 && opened != cands[n - 1] && !fstat(fd, &st)) {
		struct stat plain;
		if (!stat(cands[n - 1], &plain) && plain.st_dev == st.st_dev && plain.st_ino == st.st_ino)
			opened = cands[n - 1];
	}

	if (m->build_id)
		key = xasprintf("b:%s", sym_strget(s, m->build_id));
	else if (fd >= 0 && !fstat(fd, &st))
		key = xasprintf("f:%s:%ju:%ju:%jd.%09ld:%jd", clean, (uintmax_t)st.st_dev, (uintmax_t)st.st_ino,
				(intmax_t)st.st_mtim.tv_sec, st.st_mtim.tv_nsec, (intmax_t)st.st_size);
	else
		key = xasprintf("x:%s", clean);
	uint32_t id = strtab_intern(&s->modkeys, key, strlen(key));
	free(key);
	if (id < s->mods_nr) { /* already open */
		if (fd >= 0)
			close(fd);
		goto out;
	}

	size_t idx = s->mods_nr;
	struct elfmod *mod = new_mod(s, sym_str(s, clean), clean);
	if (fd >= 0 && report(s, mod, idx, fd, opened) && m->build_id) {
		char hex[BUILD_ID_HEX_MAX];
		module_build_id_hex(mod->dm, hex);
		if (strcmp(hex, sym_strget(s, m->build_id)))
			mod->dm = NULL; /* the file changed since it was mapped: its symbols would lie */
	}
	if (m->build_id)
		mod->build_id = m->build_id;
	else if (mod->dm && module_build_id_hex(mod->dm, hex_buf))
		mod->build_id = sym_str(s, hex_buf);
	if (!mod->dm && m->build_id) {
		char *dbg = NULL;
		int dfd = open_by_build_id(s, sym_strget(s, m->build_id), &dbg);
		dfd = debugcache_substitute(sym_strget(s, m->build_id), dfd, &dbg);
		if (dfd >= 0) {
			free(mod->file);
			free(mod->loads);
			mod->file = NULL;
			mod->loads = NULL;
			mod->loads_nr = mod->loads_alloc = 0;
			report(s, mod, idx, dfd, dbg);
		}
		free(dbg);
	}
	if (!mod->dm)
		s->stats.modules_failed++;
out:
	free(clean);
	for (int i = 0; i < n; i++)
		free(cands[i]);
	return (int32_t)id;
}

/* Size of an ELF image from its headers (the vdso has no file to stat). */
static size_t elf_image_size(const unsigned char *img, size_t avail)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)img;
	size_t size;

	if (avail < sizeof(*eh) || memcmp(img, ELFMAG, SELFMAG) || img[EI_CLASS] != ELFCLASS64)
		return 0;
	size = eh->e_shoff + (size_t)eh->e_shnum * eh->e_shentsize;
	if (eh->e_phoff + (size_t)eh->e_phnum * sizeof(Elf64_Phdr) > avail)
		return 0;
	for (unsigned i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *ph = (const Elf64_Phdr *)(img + eh->e_phoff) + i;
		if (ph->p_type == PT_LOAD && ph->p_offset + ph->p_filesz > size)
			size = ph->p_offset + ph->p_filesz;
	}
	return size;
}

static int32_t open_vdso(struct symbolizer *s, const struct proc *pr, const struct mapping *m)
{
	unsigned char *img = NULL;
	size_t img_len = 0;
	char hex[BUILD_ID_HEX_MAX] = "";

	if (!pr->exited && m->end - m->start <= MAX_VDSO) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/%" PRIu32 "/mem", pr->os_pid);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			size_t len = m->end - m->start;
			img = xmalloc(len);
			ssize_t got = pread(fd, img, len, (off_t)m->start);
			img_len = got > 0 ? elf_image_size(img, (size_t)got) : 0;
			if (!img_len || img_len > (size_t)got) {
				free(img);
				img = NULL;
				img_len = 0;
			}
			close(fd);
		}
	}
	if (!img) { /* the target is gone: the kernel gives every process of this ABI the same vdso */
		const unsigned char *own = (const unsigned char *)getauxval(AT_SYSINFO_EHDR);
		size_t len = own ? elf_image_size(own, 4096) : 0;
		if (!len || len > MAX_VDSO)
			return MOD_NONE;
		img = xmalloc(len);
		memcpy(img, own, len);
		img_len = len;
	}

	Elf *elf = elf_memory((char *)img, img_len);
	if (elf) {
		const void *bits;
		ssize_t n = dwelf_elf_gnu_build_id(elf, &bits);
		build_id_hex(bits, n > 0 ? (size_t)n : 0, hex);
		elf_end(elf);
	}
	char *key = xasprintf("v:%s:%016" PRIx64, hex, hash_bytes(img, img_len));
	uint32_t id = strtab_intern(&s->modkeys, key, strlen(key));
	free(key);
	if (id < s->mods_nr) {
		free(img);
		return (int32_t)id;
	}
	size_t idx = s->mods_nr;
	struct elfmod *mod = new_mod(s, m->path, "[vdso]");
	mod->image = img;
	mod->image_len = img_len;
	int fd = memfd_create("kiln-vdso", MFD_CLOEXEC);
	if (fd >= 0 && (write(fd, img, img_len) != (ssize_t)img_len || lseek(fd, 0, SEEK_SET) != 0)) {
		close(fd);
		fd = -1;
	}
	if (fd < 0 || !report(s, mod, idx, fd, "[vdso]"))
		s->stats.modules_failed++;
	return (int32_t)id;
}

struct elfmod *elfmod_for_mapping(struct symbolizer *s, const struct proc *pr, struct mapping *m)
{
	if (m->mod == MOD_UNRESOLVED) {
		if (elfmod_init_dwfl(s) < 0)
			m->mod = MOD_NONE;
		else
			m->mod = m->type == MT_VDSO ? open_vdso(s, pr, m) : open_file(s, pr, m);
	}
	return m->mod >= 0 ? s->mods[m->mod] : NULL;
}

bool elfmod_off_to_vaddr(const struct elfmod *mod, uint64_t off, uint64_t *vaddr)
{
	for (size_t i = 0; i < mod->loads_nr; i++)
		if (off >= mod->loads[i].off && off < mod->loads[i].end) {
			*vaddr = off - mod->loads[i].off + mod->loads[i].vaddr;
			return true;
		}
	return false;
}

/*
 * Symbols: dwfl_module_addrinfo() scans the whole symbol table per lookup, so each module's function symbols
 * are sorted once and searched by bisection.
 */
static int cmp_modsym(const void *a, const void *b)
{
	const struct modsym *x = a, *y = b;
	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return (x->rank > y->rank) - (x->rank < y->rank);
}

static void load_syms(struct elfmod *mod)
{
	int n = dwfl_module_getsymtab(mod->dm);
	size_t alloc = 0;

	mod->syms_loaded = true;
	for (int i = 1; i < n; i++) {
		GElf_Sym sym;
		GElf_Addr addr;
		const char *name = dwfl_module_getsym_info(mod->dm, i, &sym, &addr, NULL, NULL, NULL);
		int type = GELF_ST_TYPE(sym.st_info), bind = GELF_ST_BIND(sym.st_info);
		if (!name || !*name || sym.st_shndx == SHN_UNDEF || !addr ||
		    (type != STT_FUNC && type != STT_GNU_IFUNC && type != STT_NOTYPE))
			continue;
		if (type == STT_NOTYPE && (bind == STB_LOCAL || name[0] == '$' || name[0] == '.'))
			continue; /* local labels and mapping symbols */
		uint32_t pref = type == STT_NOTYPE ? 4 : bind == STB_GLOBAL ? 0 : bind == STB_WEAK ? 1 : 2;
		for (const char *c = name; *c == '_' && pref < 7; c++)
			pref++; /* __libc_foo and foo alias: show foo */
		const char *at = strchr(name, '@');
		size_t len = at && at > name ? (size_t)(at - name) : strlen(name);
		ALLOC_GROW(mod->syms, mod->syms_nr + 1, alloc);
		mod->syms[mod->syms_nr++] = (struct modsym){ addr, sym.st_size, name, (uint32_t)len,
							     pref << 24 | (uint32_t)(i & 0xffffff) };
	}
	if (mod->syms_nr > 1)
		qsort(mod->syms, mod->syms_nr, sizeof(*mod->syms), cmp_modsym);
	/* Keep one symbol per address (the preferred one, sorted first). */
	size_t out = 0;
	for (size_t i = 0; i < mod->syms_nr; i++) {
		if (out && mod->syms[out - 1].addr == mod->syms[i].addr) {
			if (!mod->syms[out - 1].size)
				mod->syms[out - 1].size = mod->syms[i].size;
			continue;
		}
		mod->syms[out++] = mod->syms[i];
	}
	mod->syms_nr = out;
}

/* The function symbol containing Dwfl address `a`, or NULL. */
static const struct modsym *find_sym(struct elfmod *mod, uint64_t a)
{
	size_t lo = 0, hi;

	if (!mod->syms_loaded)
		load_syms(mod);
	if (!mod->syms_nr || a < mod->syms[0].addr)
		return NULL;
	hi = mod->syms_nr;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (mod->syms[mid].addr <= a)
			lo = mid;
		else
			hi = mid;
	}
	/* A sized symbol must contain the address; a sizeless one extends to the next symbol. A few symbols
	 * back may be an enclosing larger one (rare nesting). */
	for (size_t i = lo, tries = 0; tries < 8; i--, tries++) {
		const struct modsym *ms = &mod->syms[i];
		if (ms->size ? a - ms->addr < ms->size : i == lo)
			return ms;
		if (!i)
			break;
	}
	return NULL;
}

static uint32_t fallback_name(struct symbolizer *s, const struct elfmod *mod, uint64_t key)
{
	char buf[512];
	int n = snprintf(buf, sizeof(buf), "[%s+0x%" PRIx64 "]", sym_strget(s, mod->base), key);
	return sym_strn(s, buf, n < 0 ? 0 : (size_t)n >= sizeof(buf) ? sizeof(buf) - 1 : (size_t)n);
}

/* Appends the inlined frames of Dwfl address `a`, innermost first; leaves the physical function's DWARF
 * name in `*phys` and its file:line in `*file`/`*line`. Returns the number of frames appended. */
static uint32_t inline_frames(struct symbolizer *s, struct elfmod *mod, Dwarf_Addr a, uint64_t key,
			      uint32_t *file, uint32_t *line, const char **phys)
{
	Dwarf_Addr dbias = 0;
	Dwarf_Die *cu = dwfl_module_addrdie(mod->dm, a, &dbias);
	const struct inl_node *n;
	struct cu_index *ci;
	uint32_t count = 0, node;

	if (!cu)
		return 0;
	ci = inl_cu(&mod->inl, cu);
	node = inl_lookup(ci, a - dbias);
	while ((n = inl_node(ci, node)) && n->inlined && count < SFR_MAX_FRAMES - 1) {
		sym_push(s, sym_str(s, n->name ? n->name : "[inlined]"), mod->module, *file, *line, key, FRAME_INLINED);
		count++;
		const char *f = inl_call_file(ci, n);
		*file = f ? sym_str(s, f) : 0;
		*line = n->call_line;
		node = n->parent;
	}
	if (n && !n->inlined)
		*phys = n->name;
	return count;
}

static uint64_t symbolize(struct symbolizer *s, struct elfmod *mod, uint64_t key)
{
	uint64_t first = s->sf_nr;
	uint32_t count = 0, file = 0, line = 0, fn;
	const char *phys = NULL;
	const struct modsym *ms;
	Dwarf_Addr a;

	if (!mod->dm) {
		sym_push(s, fallback_name(s, mod, key), mod->module, 0, 0, key, FRAME_NATIVE);
		return sfr_make(first, 1);
	}
	a = mod->bias + key;
	ms = find_sym(mod, a);
	if (!(s->flags & SYMBOLIZER_NO_LINES)) {
		Dwfl_Line *l = dwfl_module_getsrc(mod->dm, a);
		int ln = 0;
		const char *f = l ? dwfl_lineinfo(l, NULL, &ln, NULL, NULL, NULL) : NULL;
		if (f) {
			file = sym_str(s, f);
			line = ln > 0 ? (uint32_t)ln : 0;
		}
	}
	if (!(s->flags & SYMBOLIZER_NO_INLINE))
		count = inline_frames(s, mod, a, key, &file, &line, &phys);
	if (s->flags & SYMBOLIZER_NO_LINES) {
		/* inline frames were asked without lines: drop the call lines collected on the way */
		for (uint64_t i = first; i < s->sf_nr; i++)
			s->sf[i].file = s->sf[i].line = 0;
		file = line = 0;
	}
	if (ms) {
		char *dm = s->flags & SYMBOLIZER_NO_DEMANGLE ? NULL : sym_demangle(ms->name, ms->len);
		fn = dm ? sym_str(s, dm) : sym_strn(s, ms->name, ms->len);
		free(dm);
	} else
		fn = phys && *phys ? sym_str(s, phys) : fallback_name(s, mod, key);
	sym_push(s, fn, mod->module, file, line, key, FRAME_NATIVE);
	return sfr_make(first, count + 1);
}

uint64_t elfmod_resolve(struct symbolizer *s, struct elfmod *mod, uint64_t key)
{
	uint64_t *slot;
	int inserted = 0;

	if (key == U64MAP_EMPTY)
		return symbolize(s, mod, key);
	slot = u64map_insert(&mod->cache, key, &inserted);
	if (inserted) {
		s->stats.cache_misses++;
		uint64_t r = symbolize(s, mod, key);
		slot = u64map_find(&mod->cache, key); /* symbolize() does not touch this map, but be safe */
		*slot = r;
	}
	return *slot;
}

void symbolizer_note_build_ids(const struct symbolizer *s, struct profile *p)
{
	for (size_t i = 0; i < s->mods_nr; i++) {
		const struct elfmod *mod = s->mods[i];
		const char *path = sym_strget(s, mod->module);
		if (!mod->build_id || mod->image || path[0] != '/')
			continue;
		/* Typed metadata (profile/meta.h); the pprof writer turns it into its form. */
		if (!profile_build_id(p, profile_intern_str(p, path)))
			profile_set_build_id(p, path, sym_strget(s, mod->build_id));
	}
}
