/*
 * DWARF unwinding of copied user stacks with libdwfl's unwinder. Each process gets its own Dwfl whose modules
 * sit at their runtime addresses (the unwinder looks up CFI by absolute address), attached with callbacks that
 * read the sampled registers, the copied stack and, for other addresses, the process's mapped files.
 */
#include <elfutils/libdw.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../core/xalloc.h"
#include "debugcache.h"
#include "sym_internal.h"

#define DWARF_NREGS 17 /* x86_64: rax rdx rcx rbx rsi rdi rbp rsp r8-r15, then the return address (rip) */

struct unwinder {
	Dwfl *dwfl;
	Dwfl_Callbacks cb;
	bool attached;
	uint64_t gen;            /* proc generation the modules were reported for */
	uint64_t replaced;       /* proc->replaced when the Dwfl was made */
	struct u64map reported;  /* hash of (module, bias) -> 1 */
	size_t nmods;

	/* The sample being unwound. */
	struct symbolizer *s;
	struct proc *pr;
	Dwarf_Word regs[DWARF_NREGS];
	uint32_t regs_set;       /* bit per DWARF register */
	const unsigned char *stack;
	size_t stack_len;
	uint64_t sp;
	uint64_t *ips;
	size_t n, max;
};

void unwinder_free(struct unwinder *uw)
{
	if (!uw)
		return;
	if (uw->dwfl)
		dwfl_end(uw->dwfl);
	u64map_release(&uw->reported);
	free(uw);
}

/* perf_event_x86_regs index -> DWARF register number, -1 when the unwinder does not use it. */
static int perf_to_dwarf(unsigned perf)
{
	static const signed char map[24] = {
		0, 3, 2, 1, 4, 5, 6, 7, 16,     /* AX BX CX DX SI DI BP SP IP */
		-1, -1, -1, -1, -1, -1, -1,     /* FLAGS CS SS DS ES FS GS */
		8, 9, 10, 11, 12, 13, 14, 15,   /* R8-R15 */
	};
	return perf < 24 ? map[perf] : -1;
}

static pid_t next_thread(Dwfl *dwfl, void *arg, void **thread_argp)
{
	return 0; /* threads are only reached through get_thread */
}

static bool get_thread(Dwfl *dwfl, pid_t tid, void *arg, void **thread_argp)
{
	*thread_argp = arg;
	return true;
}

static bool read_file_word(struct unwinder *uw, Dwarf_Addr addr, Dwarf_Word *result)
{
	struct mapping *m = (struct mapping *)sym_find_mapping(uw->pr, addr);
	struct elfmod *mod;
	uint64_t off;

	if (!m || (m->type != MT_FILE && m->type != MT_VDSO))
		return false;
	if (!(mod = elfmod_for_mapping(uw->s, uw->pr, m)) || !mod->dm)
		return false;
	off = addr - m->start + m->pgoff;
	if (mod->image) {
		if (off > mod->image_len || mod->image_len - off < sizeof(*result))
			return false;
		memcpy(result, (const char *)mod->image + off, sizeof(*result));
		return true;
	}
	Dwarf_Addr bias;
	Elf *elf = dwfl_module_getelf(mod->dm, &bias);
	Elf_Data *d = elf ? elf_getdata_rawchunk(elf, (int64_t)off, sizeof(*result), ELF_T_BYTE) : NULL;
	if (!d || d->d_size < sizeof(*result))
		return false;
	memcpy(result, d->d_buf, sizeof(*result));
	return true;
}

static bool memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result, void *arg)
{
	struct unwinder *uw = arg;

	if (addr >= uw->sp && addr - uw->sp <= uw->stack_len && uw->stack_len - (addr - uw->sp) >= sizeof(*result)) {
		memcpy(result, uw->stack + (addr - uw->sp), sizeof(*result));
		return true;
	}
	return read_file_word(uw, addr, result);
}

static bool set_initial_registers(Dwfl_Thread *thread, void *arg)
{
	struct unwinder *uw = arg;

	/* Hand over each run of known registers; unknown ones stay undefined for the unwinder. */
	for (int i = 0; i < DWARF_NREGS;) {
		if (!(uw->regs_set & (1u << i))) {
			i++;
			continue;
		}
		int j = i;
		while (j < DWARF_NREGS && (uw->regs_set & (1u << j)))
			j++;
		if (!dwfl_thread_state_registers(thread, i, (unsigned)(j - i), &uw->regs[i]))
			return false;
		i = j;
	}
	dwfl_thread_state_register_pc(thread, uw->regs[16]);
	return true;
}

static const Dwfl_Thread_Callbacks thread_callbacks = {
	.next_thread = next_thread,
	.get_thread = get_thread,
	.memory_read = memory_read,
	.set_initial_registers = set_initial_registers,
};

/* Reports the process's file-backed mappings not yet known, at their runtime addresses. */
static void report_modules(struct unwinder *uw)
{
	struct symbolizer *s = uw->s;
	struct proc *pr = uw->pr;
	bool begun = false;

	for (size_t i = 0; i < pr->nr; i++) {
		struct mapping *m = &pr->maps[i];
		struct elfmod *mod;
		uint64_t vaddr, bias;
		int inserted = 0, fd = -1;

		if (m->type != MT_FILE && m->type != MT_VDSO)
			continue;
		if (!(mod = elfmod_for_mapping(s, pr, m)) || !mod->dm || !elfmod_off_to_vaddr(mod, m->pgoff, &vaddr))
			continue;
		bias = mod->is_exec ? 0 : m->start - vaddr;
		u64map_insert(&uw->reported, hash_u64((uint64_t)m->mod * 0x9e3779b97f4a7c15ULL ^ bias), &inserted);
		if (!inserted)
			continue;
		if (mod->image) {
			fd = memfd_create("kiln-vdso", MFD_CLOEXEC);
			if (fd >= 0 && write(fd, mod->image, mod->image_len) != (ssize_t)mod->image_len) {
				close(fd);
				fd = -1;
			}
		} else if (mod->file) {
			fd = open(mod->file, O_RDONLY | O_CLOEXEC);
		}
		if (fd < 0)
			continue;
		if (!begun) {
			dwfl_report_begin_add(uw->dwfl);
			begun = true;
		}
		char name[48];
		snprintf(name, sizeof(name), "kiln-unwind-%zu", uw->nmods++);
		if (!dwfl_report_elf(uw->dwfl, name, mod->image ? "[vdso]" : mod->file, fd, bias, true))
			close(fd);
	}
	if (begun)
		dwfl_report_end(uw->dwfl, NULL, NULL);
	uw->gen = pr->gen;
}

static int frame_cb(Dwfl_Frame *state, void *arg)
{
	struct unwinder *uw = arg;
	Dwarf_Addr pc;
	bool activation;

	if (!dwfl_frame_pc(state, &pc, &activation) || (uw->n && !pc))
		return DWARF_CB_ABORT;
	uw->ips[uw->n++] = pc;
	return uw->n >= uw->max ? DWARF_CB_ABORT : DWARF_CB_OK;
}

size_t symbolizer_unwind(struct symbolizer *s, uint32_t pid, uint32_t tid, const uint64_t *regs, uint64_t regs_mask,
			 const unsigned char *stack, size_t stack_len, uint64_t stack_sp, uint64_t *ips, size_t max)
{
	struct proc *pr;
	struct unwinder *uw;
	Dwarf_Word dw[DWARF_NREGS] = { 0 };
	uint32_t set = 0;
	size_t k = 0;

	s->stats.unwinds++;
	if (!max || !regs)
		return 0;
	for (unsigned bit = 0; bit < 64; bit++) {
		if (!(regs_mask & (1ULL << bit)))
			continue;
		int r = perf_to_dwarf(bit);
		if (r >= 0) {
			dw[r] = regs[k];
			set |= 1u << r;
		}
		k++;
	}
	if (!(set & (1u << 16)) || !(set & (1u << 7)))
		return 0;
	ips[0] = dw[16];
	if (max == 1 || !(pr = sym_proc(s, pid, false)) || elfmod_init_dwfl(s) < 0)
		return 1;

	if (pr->uw && pr->uw->replaced != pr->replaced) { /* modules moved: start from a fresh Dwfl */
		unwinder_free(pr->uw);
		pr->uw = NULL;
	}
	if (!(uw = pr->uw)) {
		uw = xcalloc(1, sizeof(*uw));
		uw->cb.find_elf = dwfl_build_id_find_elf;
		uw->cb.find_debuginfo = debugcache_find_debuginfo;
		uw->cb.debuginfo_path = &s->debuginfo_path;
		uw->reported = (struct u64map)U64MAP_INIT;
		uw->gen = UINT64_MAX;
		uw->replaced = pr->replaced;
		uw->dwfl = dwfl_begin(&uw->cb);
		pr->uw = uw;
		if (!uw->dwfl)
			return 1;
	}
	if (!uw->dwfl)
		return 1;
	uw->s = s;
	uw->pr = pr;
	if (uw->gen != pr->gen)
		report_modules(uw);
	if (!uw->attached) {
		if (!dwfl_attach_state(uw->dwfl, NULL, (pid_t)pid, &thread_callbacks, uw))
			return 1;
		uw->attached = true;
	}
	memcpy(uw->regs, dw, sizeof(dw));
	uw->regs_set = set;
	uw->stack = stack;
	uw->stack_len = stack ? stack_len : 0;
	uw->sp = stack_sp;
	uw->ips = ips;
	uw->n = 0;
	uw->max = max;
	dwfl_getthread_frames(uw->dwfl, (pid_t)(tid ? tid : pid), frame_cb, uw);
	return uw->n ? uw->n : 1;
}
