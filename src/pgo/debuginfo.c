/* Function start lines, linkage names and discriminators from a binary's DWARF, for kiln pgo sample. */
#include "pgo/debuginfo.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/array.h"
#include "core/err.h"
#include "core/hash.h"
#include "core/xalloc.h"
#include "profile/profile.h"
#include "symbols/demangle.h"

struct entry {
	struct pgo_fn fn;
	uint32_t key;  /* string id of the name kiln uses */
	uint32_t next; /* next entry with the same key, UINT32_MAX ends */
};

struct pgo_dbg {
	int fd;
	Elf *elf;
	Dwarf *dw;
	struct strtab names; /* owns symbol and file strings */
	struct entry *v;
	size_t nr, alloc;
	struct u64map by_key; /* key string id -> first entry */
};

static const char *keep(struct pgo_dbg *d, const char *s)
{
	return s ? strtab_str(&d->names, strtab_intern(&d->names, s, strlen(s))) : NULL;
}

static void add(struct pgo_dbg *d, const char *key, const struct pgo_fn *fn)
{
	uint32_t k = strtab_intern(&d->names, key, strlen(key));
	int inserted;
	uint64_t *first = u64map_insert(&d->by_key, k, &inserted);

	/* The same function seen again (a declaration and its definition, or one per CU for a header's inline). */
	for (uint64_t i = inserted ? UINT32_MAX : *first; i != UINT32_MAX; i = d->v[i].next)
		if (d->v[i].fn.line == fn->line && d->v[i].fn.symbol == fn->symbol &&
		    pgo_same_file(d->v[i].fn.file, fn->file))
			return;
	ALLOC_GROW(d->v, d->nr + 1, d->alloc);
	d->v[d->nr].fn = *fn;
	d->v[d->nr].key = k;
	d->v[d->nr].next = inserted ? UINT32_MAX : (uint32_t)*first;
	*first = d->nr++;
}

static void subprogram(struct pgo_dbg *d, Dwarf_Die *die)
{
	Dwarf_Attribute a;
	const char *name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &a));
	const char *linkage = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_linkage_name, &a));
	struct pgo_fn fn = { 0 };
	int line = 0;

	if (!linkage)
		linkage = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &a));
	if (!name || dwarf_decl_line(die, &line) || line <= 0)
		return;
	fn.symbol = keep(d, linkage ? linkage : name);
	fn.file = keep(d, dwarf_decl_file(die));
	fn.line = (uint32_t)line;
	add(d, name, &fn);
	if (linkage) {
		char *dem = sym_demangle(linkage, strlen(linkage));

		add(d, linkage, &fn);
		if (dem) {
			add(d, dem, &fn);
			/* kiln may name a C++ function without its parameter list */
			char *paren = strchr(dem, '(');
			if (paren && paren != dem) {
				*paren = '\0';
				add(d, dem, &fn);
			}
			free(dem);
		}
	}
}

/* Walks a DIE tree; subprograms may sit in namespaces and classes (C++), never deeper than a few levels. */
static void walk(struct pgo_dbg *d, Dwarf_Die *parent, int depth)
{
	Dwarf_Die child;

	if (depth > 32 || dwarf_child(parent, &child))
		return;
	do {
		int tag = dwarf_tag(&child);

		if (tag == DW_TAG_subprogram)
			subprogram(d, &child);
		if (tag == DW_TAG_namespace || tag == DW_TAG_class_type || tag == DW_TAG_structure_type ||
		    tag == DW_TAG_subprogram)
			walk(d, &child, depth + 1);
	} while (!dwarf_siblingof(&child, &child));
}

struct pgo_dbg *pgo_dbg_open(const char *path, struct err *e)
{
	struct pgo_dbg *d = xcalloc(1, sizeof(*d));
	Dwarf_Off off = 0, next;
	size_t hsize;

	d->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (d->fd < 0) {
		err_errno(e, "cannot open '%s'", path);
		goto fail;
	}
	elf_version(EV_CURRENT);
	d->elf = elf_begin(d->fd, ELF_C_READ_MMAP, NULL);
	if (!d->elf || elf_kind(d->elf) != ELF_K_ELF) {
		err_set(e, "'%s' is not an ELF binary", path);
		goto fail;
	}
	d->dw = dwarf_begin_elf(d->elf, DWARF_C_READ, NULL);
	if (!d->dw) {
		err_set(e, "'%s' has no DWARF debug information: build it with -g (or -gline-tables-only)", path);
		goto fail;
	}
	while (!dwarf_nextcu(d->dw, off, &next, &hsize, NULL, NULL, NULL)) {
		Dwarf_Die cu;

		if (dwarf_offdie(d->dw, off + hsize, &cu))
			walk(d, &cu, 0);
		off = next;
	}
	if (!d->nr) {
		err_set(e, "'%s' has no functions in its debug information: build it with -g", path);
		goto fail;
	}
	return d;
fail:
	pgo_dbg_free(d);
	return NULL;
}

void pgo_dbg_free(struct pgo_dbg *d)
{
	if (!d)
		return;
	if (d->dw)
		dwarf_end(d->dw);
	if (d->elf)
		elf_end(d->elf);
	if (d->fd > 0)
		close(d->fd);
	strtab_release(&d->names);
	u64map_release(&d->by_key);
	free(d->v);
	free(d);
}

bool pgo_same_file(const char *a, const char *b)
{
	size_t la, lb;
	const char *ba, *bb;

	if (!a || !b || !*a || !*b)
		return true; /* an unknown file contradicts nothing */
	if (!strcmp(a, b))
		return true;
	la = strlen(a), lb = strlen(b);
	if (la > lb && a[la - lb - 1] == '/' && !strcmp(a + la - lb, b))
		return true;
	if (lb > la && b[lb - la - 1] == '/' && !strcmp(b + lb - la, a))
		return true;
	ba = strrchr(a, '/');
	bb = strrchr(b, '/');
	return !strcmp(ba ? ba + 1 : a, bb ? bb + 1 : b);
}

const struct pgo_fn *pgo_dbg_function(const struct pgo_dbg *d, const char *name, const char *file)
{
	int64_t k = strtab_find(&d->names, name, strlen(name));
	const uint64_t *first;
	const struct entry *only = NULL;
	size_t n = 0;

	if (k < 0 || !(first = u64map_find(&d->by_key, (uint64_t)k)))
		return NULL;
	for (uint64_t i = *first; i != UINT32_MAX; i = d->v[i].next) {
		if (file && *file && d->v[i].fn.file && pgo_same_file(d->v[i].fn.file, file))
			return &d->v[i].fn;
		only = &d->v[i];
		n++;
	}
	return n == 1 ? &only->fn : NULL;
}

/* LLVM's DILocation::getUnsignedFromPrefixEncoding: the base discriminator of an encoded one. */
static uint32_t base_discriminator(uint32_t d)
{
	if (d & 1)
		return 0;
	d >>= 1;
	return (d & 0x20) ? (((d >> 1) & 0xfe0) | (d & 0x1f)) : (d & 0x1f);
}

/*
 * The CU holding `va`: through .debug_aranges, or by the CUs' own ranges when there is none (Clang does not
 * write it unless -gdwarf-aranges, and elfutils 0.188 does not fall back by itself).
 */
static bool cu_of(struct pgo_dbg *d, uint64_t va, Dwarf_Die *cu)
{
	Dwarf_Off off = 0, next;
	size_t hsize;

	if (dwarf_addrdie(d->dw, va, cu))
		return true;
	while (!dwarf_nextcu(d->dw, off, &next, &hsize, NULL, NULL, NULL)) {
		if (dwarf_offdie(d->dw, off + hsize, cu) && dwarf_haspc(cu, va) > 0)
			return true;
		off = next;
	}
	return false;
}

bool pgo_dbg_line(struct pgo_dbg *d, uint64_t va, uint32_t *line, uint32_t *disc)
{
	Dwarf_Die cu;
	Dwarf_Line *l;
	unsigned dv = 0;
	int ln = 0;

	if (!va || !cu_of(d, va, &cu) || !(l = dwarf_getsrc_die(&cu, va)) || dwarf_lineno(l, &ln) || ln < 0)
		return false;
	*line = (uint32_t)ln;
	*disc = dwarf_linediscriminator(l, &dv) ? 0 : base_discriminator(dv);
	return true;
}

void pgo_modmatch_init(struct pgo_modmatch *m, const char *binary)
{
	const char *slash = strrchr(binary, '/');

	memset(m, 0, sizeof(*m));
	m->real = realpath(binary, NULL);
	if (!m->real)
		m->real = xstrdup(binary);
	m->base = slash ? slash + 1 : binary;
}

bool pgo_modmatch(struct pgo_modmatch *m, const struct profile *p, uint32_t module)
{
	int inserted;
	uint64_t *v = u64map_insert(&m->memo, module, &inserted);

	if (inserted) {
		const char *name = profile_str(p, module);
		char *real = *name ? realpath(name, NULL) : NULL;
		const char *base = strrchr(name, '/');

		*v = (real && !strcmp(real, m->real)) || !strcmp(base ? base + 1 : name, m->base) ? 1 : 2;
		free(real);
	}
	return *v == 1;
}

void pgo_modmatch_release(struct pgo_modmatch *m)
{
	u64map_release(&m->memo);
	free(m->real);
	m->real = NULL;
}

static const char *die_name(Dwarf_Die *die)
{
	Dwarf_Attribute a;

	return dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &a));
}

/* The tags dwarf_getscopes() descends into when their ranges hold the address: those that may own code. */
static bool may_own_code(int tag)
{
	switch (tag) {
	case DW_TAG_subprogram:
	case DW_TAG_inlined_subroutine:
	case DW_TAG_lexical_block:
	case DW_TAG_entry_point:
	case DW_TAG_try_block:
	case DW_TAG_catch_block:
	case DW_TAG_with_stmt:
	case DW_TAG_module:
		return true;
	default:
		return false;
	}
}

struct fn_path {
	Dwarf_Die *v; /* the functions around an address, outermost first */
	size_t nr, alloc;
};

/*
 * The subprogram and inlined instances around `va`, found as dwarf_getscopes() finds the innermost scope: down
 * from the CU, at each level into the first child whose ranges hold `va`. The caller of an inlined instance is
 * the function above it on this path (its concrete parent, as eu-addr2line -i finds it). Not dwarf_getscopes()
 * itself: elfutils 0.188's returns no scopes, and leaks the array it allocated, when the innermost inlined
 * instance's abstract origin lies in another CU (Go inlines across packages, gcc -flto and clang -flto across
 * files).
 */
static void functions_at(Dwarf_Die *cu, uint64_t va, struct fn_path *path)
{
	Dwarf_Die die = *cu, child;

	path->nr = 0;
	while (!dwarf_child(&die, &child)) {
		while (dwarf_haspc(&child, va) <= 0)
			if (dwarf_siblingof(&child, &child))
				return;
		die = child;
		int tag = dwarf_tag(&die);
		if (tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine) {
			ALLOC_GROW(path->v, path->nr + 1, path->alloc);
			path->v[path->nr++] = die;
		}
		if (!may_own_code(tag))
			return;
	}
}

size_t pgo_dbg_inline_chain(struct pgo_dbg *d, uint64_t va, struct pgo_inline *out, size_t max)
{
	Dwarf_Die cu;
	Dwarf_Line *l;
	Dwarf_Files *files = NULL;
	struct fn_path path = { 0 };
	int ln = 0;
	size_t n = 0;
	uint32_t line;

	if (!va || !max || !cu_of(d, va, &cu) || !(l = dwarf_getsrc_die(&cu, va)) || dwarf_lineno(l, &ln) || ln <= 0)
		return 0;
	line = (uint32_t)ln;
	const char *file = dwarf_linesrc(l, NULL, NULL);
	dwarf_getsrcfiles(&cu, &files, NULL);
	functions_at(&cu, va, &path);
	for (size_t i = path.nr; i-- > 0 && n < max;) {
		Dwarf_Die *cur = &path.v[i];
		Dwarf_Attribute a;
		Dwarf_Word w;
		int decl = 0;

		if (!die_name(cur))
			break;
		out[n].name = die_name(cur);
		out[n].symbol = dwarf_formstring(dwarf_attr_integrate(cur, DW_AT_linkage_name, &a));
		if (!out[n].symbol)
			out[n].symbol = out[n].name;
		out[n].decl_file = dwarf_decl_file(cur);
		out[n].file = file;
		out[n].line = line;
		out[n].start = !dwarf_decl_line(cur, &decl) && decl > 0 ? (uint32_t)decl : 0;
		n++;
		if (dwarf_tag(cur) != DW_TAG_inlined_subroutine)
			break;
		/* The next function out was at the call of this inlined one. */
		line = dwarf_formudata(dwarf_attr(cur, DW_AT_call_line, &a), &w) ? 0 : (uint32_t)w;
		file = NULL;
		if (files && !dwarf_formudata(dwarf_attr(cur, DW_AT_call_file, &a), &w))
			file = dwarf_filesrc(files, w, NULL, NULL);
	}
	free(path.v);
	return n;
}
