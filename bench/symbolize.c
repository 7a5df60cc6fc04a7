/*
 * Benchmark driver for bench/symbolize.sh: maps an ELF file into a pretend process and symbolizes N unique
 * addresses in its executable segments (every function entry + 4, or one address every STRIDE bytes), printing
 * one JSON line per mode with addresses per second. With --print it writes "addr function file:line" lines
 * instead, for comparing names against addr2line.
 *
 * usage: symbolize FILE [--stride N] [--mode sym|lines|inline] [--print] [--addrs FILE]
 */
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/err.h"
#include "profile/profile.h"
#include "symbols/symbolizer.h"

#define PID 0x7ffffff0u
#define BASE 0x555500000000ULL

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	const char *file = NULL, *mode = "inline";
	uint64_t stride = 0, *addrs = NULL;
	size_t n = 0, alloc = 0;
	int print = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--stride") && i + 1 < argc)
			stride = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--mode") && i + 1 < argc)
			mode = argv[++i];
		else if (!strcmp(argv[i], "--print"))
			print = 1;
		else
			file = argv[i];
	}
	if (!file) {
		fprintf(stderr, "usage: symbolize FILE [--stride N] [--mode sym|lines|inline] [--print]\n");
		return 2;
	}
	elf_version(EV_CURRENT);
	int fd = open(file, O_RDONLY);
	Elf *elf = fd >= 0 ? elf_begin(fd, ELF_C_READ, NULL) : NULL;
	GElf_Ehdr eh;
	size_t phnum;
	if (!elf || !gelf_getehdr(elf, &eh) || elf_getphdrnum(elf, &phnum)) {
		fprintf(stderr, "symbolize: cannot read '%s'\n", file);
		return 2;
	}
	uint64_t base = eh.e_type == ET_DYN ? BASE : 0;
	struct symbolizer *s = symbolizer_new();
	struct err e = ERR_INIT;
	uint64_t xlo = 0, xhi = 0;
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD || !(ph.p_flags & PF_X))
			continue;
		uint64_t start = (base + ph.p_vaddr) & ~0xfffULL, off = ph.p_offset & ~0xfffULL;
		uint64_t end = base + ph.p_vaddr + ph.p_filesz;
		symbolizer_add_mapping(s, PID, start, end - start, off, file, NULL, 0, &e);
		xlo = ph.p_vaddr;
		xhi = ph.p_vaddr + ph.p_filesz;
	}
	symbolizer_exit(s, PID); /* read the file by its path, not through /proc */

	if (stride) {
		for (uint64_t a = xlo; a < xhi; a += stride) {
			if (n == alloc)
				addrs = realloc(addrs, (alloc = alloc ? alloc * 2 : 4096) * sizeof(*addrs));
			addrs[n++] = base + a;
		}
	} else { /* function symbols of .symtab, else .dynsym */
		Elf_Scn *scn = NULL, *best = NULL;
		while ((scn = elf_nextscn(elf, scn))) {
			GElf_Shdr sh;
			if (gelf_getshdr(scn, &sh) && (sh.sh_type == SHT_SYMTAB || (sh.sh_type == SHT_DYNSYM && !best)))
				best = scn;
		}
		Elf_Data *d = best ? elf_getdata(best, NULL) : NULL;
		GElf_Shdr sh;
		for (size_t i = 0; d && gelf_getshdr(best, &sh) && i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym sym;
			if (!gelf_getsym(d, (int)i, &sym) || GELF_ST_TYPE(sym.st_info) != STT_FUNC || !sym.st_value ||
			    sym.st_value < xlo || sym.st_value >= xhi)
				continue;
			if (n == alloc)
				addrs = realloc(addrs, (alloc = alloc ? alloc * 2 : 4096) * sizeof(*addrs));
			addrs[n++] = base + sym.st_value + (sym.st_size > 4 ? 4 : 0);
		}
		qsort(addrs, n, sizeof(*addrs), cmp_u64);
		size_t u = 0;
		for (size_t i = 0; i < n; i++)
			if (!u || addrs[u - 1] != addrs[i])
				addrs[u++] = addrs[i];
		n = u;
	}
	/* Shuffle so that the order is not the file's (samples arrive in any order). */
	srand(1);
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)rand() % i;
		uint64_t t = addrs[i - 1];
		addrs[i - 1] = addrs[j];
		addrs[j] = t;
	}

	if (!strcmp(mode, "sym"))
		symbolizer_set_flags(s, SYMBOLIZER_NO_INLINE | SYMBOLIZER_NO_LINES);
	else if (!strcmp(mode, "lines"))
		symbolizer_set_flags(s, SYMBOLIZER_NO_INLINE);

	struct profile *p = profile_new(0);
	uint32_t out[256];
	size_t frames = 0, named = 0, inlined = 0, withline = 0;
	double t0 = now();
	for (size_t i = 0; i < n; i++) {
		size_t k = symbolizer_resolve(s, p, PID, addrs[i], false, out, 256);
		frames += k;
		for (size_t j = 0; j < k; j++) {
			const struct frame *f = &p->frames[out[j]];
			inlined += f->kind == FRAME_INLINED;
			withline += f->line != 0;
		}
		named += profile_str(p, p->frames[out[k - 1]].function)[0] != '[';
		if (print) {
			printf("0x%" PRIx64, addrs[i] - base);
			for (size_t j = 0; j < k; j++) {
				const struct frame *f = &p->frames[out[j]];
				printf(" %s%s@%s:%u", f->kind == FRAME_INLINED ? "(inl)" : "", profile_str(p, f->function),
				       profile_str(p, f->file), f->line);
			}
			printf("\n");
		}
	}
	double t1 = now();
	for (size_t i = 0; i < n; i++) /* second pass: every address is cached */
		symbolizer_resolve(s, p, PID, addrs[i], false, out, 256);
	double t2 = now();
	if (!print)
		printf("{\"file\":\"%s\",\"mode\":\"%s\",\"addresses\":%zu,\"seconds\":%.4f,\"per_second\":%.0f,"
		       "\"cached_per_second\":%.0f,\"frames\":%zu,\"inlined\":%zu,\"with_line\":%zu,\"named\":%zu}\n",
		       file, mode, n, t1 - t0, n / (t1 - t0), n / (t2 - t1), frames, inlined, withline, named);
	profile_free(p);
	symbolizer_free(s);
	elf_end(elf);
	close(fd);
	free(addrs);
	return 0;
}
