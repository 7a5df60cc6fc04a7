/* Go function names from .gopclntab (see lang_go.h). */
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/xalloc.h"
#include "lang_go.h"

#define MAX_PCLN (512u << 20)

struct go_pcln {
	uint8_t *data;
	size_t len;
	uint64_t nfunc;
	size_t functab;    /* offset of the function table */
	size_t funcnames;  /* offset of the function name table (1.18+), else of the table itself */
	size_t pcln;       /* offset that function offsets are relative to */
	uint64_t text;     /* base of 1.18+ entry offsets */
	bool v118;         /* 32-bit (entryoff, funcoff) pairs */
};

static bool get(const struct go_pcln *t, size_t off, size_t n, uint64_t *out)
{
	if (off > t->len || n > t->len - off)
		return false;
	uint64_t v = 0;
	memcpy(&v, t->data + off, n); /* little-endian host (x86_64) */
	*out = v;
	return true;
}

struct go_pcln *go_pcln_parse(const uint8_t *data, size_t len, uint64_t text_addr)
{
	if (len < 16 || len > MAX_PCLN)
		return NULL;
	struct go_pcln *t = xcalloc(1, sizeof(*t));
	t->data = xmalloc(len);
	memcpy(t->data, data, len);
	t->len = len;
	uint64_t magic, ptr, v;
	get(t, 0, 4, &magic);
	get(t, 7, 1, &ptr);
	if (ptr != 8 || t->data[4] || t->data[5])
		goto bad;
	if (magic == 0xfffffff0 || magic == 0xfffffff1) {
		uint64_t nfunc, names, pcln;
		if (!get(t, 8, 8, &nfunc) || !get(t, 8 + 3 * 8, 8, &names) || !get(t, 8 + 7 * 8, 8, &pcln))
			goto bad;
		t->v118 = true;
		t->nfunc = nfunc;
		t->funcnames = (size_t)names;
		t->pcln = (size_t)pcln;
		t->functab = (size_t)pcln;
		t->text = text_addr;
		if (!text_addr && get(t, 8 + 2 * 8, 8, &v))
			t->text = v;
	} else if (magic == 0xfffffffa) {
		uint64_t nfunc, names, pcln;
		/* 1.16: nfunc, nfiles, funcnameOffset, cuOffset, filetabOffset, pctabOffset, pclnOffset */
		if (!get(t, 8, 8, &nfunc) || !get(t, 8 + 2 * 8, 8, &names) || !get(t, 8 + 6 * 8, 8, &pcln))
			goto bad;
		t->nfunc = nfunc;
		t->funcnames = (size_t)names;
		t->pcln = (size_t)pcln;
		t->functab = (size_t)pcln;
	} else {
		goto bad;
	}
	size_t entry = t->v118 ? 8 : 16;
	if (!t->nfunc || t->functab > len || t->nfunc > (len - t->functab) / entry - 1 || t->funcnames > len)
		goto bad;
	return t;
bad:
	go_pcln_free(t);
	return NULL;
}

/* Entry address of function index `i` (i == nfunc is the end of the last one). */
static bool entry_of(const struct go_pcln *t, uint64_t i, uint64_t *out)
{
	uint64_t v;
	if (t->v118) {
		if (!get(t, t->functab + (size_t)i * 8, 4, &v))
			return false;
		*out = t->text + v;
		return true;
	}
	if (!get(t, t->functab + (size_t)i * 16, 8, &v))
		return false;
	*out = v;
	return true;
}

const char *go_pcln_lookup(const struct go_pcln *t, uint64_t addr)
{
	uint64_t lo = 0, hi = t->nfunc, e, end;
	if (!t || !entry_of(t, 0, &e) || addr < e || !entry_of(t, t->nfunc, &end) || addr >= end)
		return NULL;
	while (hi - lo > 1) { /* invariant: entry(lo) <= addr < entry(hi) */
		uint64_t mid = lo + (hi - lo) / 2;
		if (!entry_of(t, mid, &e))
			return NULL;
		if (e <= addr)
			lo = mid;
		else
			hi = mid;
	}
	uint64_t funcoff, nameoff;
	if (t->v118) {
		if (!get(t, t->functab + (size_t)lo * 8 + 4, 4, &funcoff))
			return NULL;
		if (!get(t, t->pcln + (size_t)funcoff + 4, 4, &nameoff))
			return NULL;
	} else {
		if (!get(t, t->functab + (size_t)lo * 16 + 8, 8, &funcoff))
			return NULL;
		if (!get(t, t->pcln + (size_t)funcoff + 8, 4, &nameoff))
			return NULL;
	}
	size_t off = t->funcnames + (size_t)(uint32_t)nameoff;
	if (off >= t->len || !memchr(t->data + off, 0, t->len - off) || !t->data[off])
		return NULL;
	return (const char *)t->data + off;
}

struct go_pcln *go_pcln_open(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct go_pcln *t = NULL;
	if (fd < 0)
		return NULL;
	elf_version(EV_CURRENT);
	Elf *elf = elf_begin(fd, ELF_C_READ, NULL);
	size_t shstrndx;
	if (elf && elf_kind(elf) == ELF_K_ELF && elf_getshdrstrndx(elf, &shstrndx) == 0) {
		Elf_Scn *scn = NULL;
		Elf_Data *pcln = NULL;
		uint64_t text = 0;
		while ((scn = elf_nextscn(elf, scn))) {
			GElf_Shdr sh;
			const char *name;
			if (!gelf_getshdr(scn, &sh) || !(name = elf_strptr(elf, shstrndx, sh.sh_name)))
				continue;
			if (!strcmp(name, ".gopclntab") && sh.sh_type != SHT_NOBITS)
				pcln = elf_getdata(scn, NULL);
			else if (!strcmp(name, ".text"))
				text = sh.sh_addr;
		}
		if (pcln && pcln->d_buf)
			t = go_pcln_parse(pcln->d_buf, pcln->d_size, text);
	}
	if (elf)
		elf_end(elf);
	close(fd);
	return t;
}

void go_pcln_free(struct go_pcln *t)
{
	if (!t)
		return;
	free(t->data);
	free(t);
}
