/*
 * The caller of frameless code for frame-pointer callchains (symbolizer_leaf_caller, see symbolizer.h): the
 * CFI rule at an address is reduced once to "the CFA is %rsp + N" or "%rbp + N" and cached in its module, so
 * that a sample costs a mapping lookup, a hash lookup and one word read from the copied stack.
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <stdlib.h>
#include <string.h>

#include "sym_internal.h"

/* x86_64 DWARF register numbers. */
#define DW_RBP 6
#define DW_RSP 7

/*
 * A cached rule in one u64: the kind in the low byte (never 0: a fresh map slot reads 0), the return
 * address's offset from the CFA in the next 16 bits, the CFA's offset from its register in the high 32.
 */
enum rule_kind { RULE_NONE = 1, RULE_SP, RULE_BP };

static uint64_t rule_make(enum rule_kind kind, int64_t cfa_off, int64_t ra_off)
{
	return (uint64_t)kind | (uint64_t)(uint16_t)(int16_t)ra_off << 8 | (uint64_t)(uint32_t)(int32_t)cfa_off << 32;
}

static enum rule_kind rule_kind(uint64_t r) { return (enum rule_kind)(r & 0xff); }
static int64_t rule_ra_off(uint64_t r) { return (int16_t)(uint16_t)(r >> 8); }
static int64_t rule_cfa_off(uint64_t r) { return (int32_t)(uint32_t)(r >> 32); }

/* The CFA as register + offset; false for expressions and other registers. */
static bool cfa_of(Dwarf_Frame *fr, int *reg, int64_t *off)
{
	Dwarf_Op *ops;
	size_t nops;

	if (dwarf_frame_cfa(fr, &ops, &nops) != 0 || nops != 1)
		return false;
	if (ops[0].atom == DW_OP_bregx) {
		*reg = (int)ops[0].number;
		*off = (int64_t)ops[0].number2;
	} else if (ops[0].atom >= DW_OP_breg0 && ops[0].atom <= DW_OP_breg31) {
		*reg = ops[0].atom - DW_OP_breg0;
		*off = (int64_t)ops[0].number;
	} else {
		return false;
	}
	return true;
}

/* Where the return address is saved, as an offset from the CFA; false unless the rule is "offset(N)". */
static bool ra_of(Dwarf_Frame *fr, int64_t *off)
{
	Dwarf_Op mem[3], *ops;
	size_t nops;
	int64_t v = 0;
	int ra = dwarf_frame_info(fr, NULL, NULL, NULL);

	if (ra < 0 || dwarf_frame_register(fr, ra, mem, &ops, &nops) != 0 || !ops || !nops ||
	    ops[0].atom != DW_OP_call_frame_cfa)
		return false;
	/* libdw spells "saved at CFA + N" as call_frame_cfa followed by an addition of a constant. */
	for (size_t i = 1; i < nops; i++) {
		switch (ops[i].atom) {
		case DW_OP_plus_uconst:
			v += (int64_t)ops[i].number;
			break;
		case DW_OP_consts:
		case DW_OP_constu:
			if (i + 1 >= nops || (ops[i + 1].atom != DW_OP_plus && ops[i + 1].atom != DW_OP_minus))
				return false;
			v += ops[i + 1].atom == DW_OP_plus ? (int64_t)ops[i].number : -(int64_t)ops[i].number;
			i++;
			break;
		default:
			return false; /* DW_OP_stack_value (a value, not a location), a deref, ... */
		}
	}
	*off = v;
	return true;
}

static uint64_t lookup_rule(struct symbolizer *s, struct elfmod *mod, uint64_t vaddr)
{
	Dwarf_Addr addr = mod->bias + vaddr;

	s->stats.leaf_rules++;
	/* .eh_frame first: it is in the loaded file; .debug_frame (Go, -fno-asynchronous-unwind-tables) may mean
	 * the separate debug file. */
	for (int pass = 0; pass < 2; pass++) {
		Dwarf_Addr bias = 0;
		Dwarf_CFI *cfi = pass ? dwfl_module_dwarf_cfi(mod->dm, &bias) : dwfl_module_eh_cfi(mod->dm, &bias);
		Dwarf_Frame *fr = NULL;
		int reg;
		int64_t cfa_off, ra_off;
		uint64_t r = rule_make(RULE_NONE, 0, 0);

		if (!cfi || dwarf_cfi_addrframe(cfi, addr - bias, &fr) != 0)
			continue;
		if (cfa_of(fr, &reg, &cfa_off) && (reg == DW_RSP || reg == DW_RBP) && ra_of(fr, &ra_off) &&
		    cfa_off == (int32_t)cfa_off && ra_off == (int16_t)ra_off)
			r = rule_make(reg == DW_RSP ? RULE_SP : RULE_BP, cfa_off, ra_off);
		free(fr);
		return r;
	}
	return rule_make(RULE_NONE, 0, 0);
}

enum symbolizer_leaf symbolizer_leaf_caller(struct symbolizer *s, uint32_t pid, uint64_t ip, uint64_t sp,
					    const unsigned char *stack, size_t stack_len, uint64_t *ret)
{
	struct proc *pr = sym_proc(s, pid, false);
	struct mapping *m = pr ? (struct mapping *)sym_find_mapping(pr, ip) : NULL;
	struct elfmod *mod;
	uint64_t vaddr, *slot, at;
	int inserted = 0;

	if (!m || (m->type != MT_FILE && m->type != MT_VDSO))
		return SYMBOLIZER_LEAF_UNKNOWN;
	if (!(mod = elfmod_for_mapping(s, pr, m)) || !mod->dm ||
	    !elfmod_off_to_vaddr(mod, ip - m->start + m->pgoff, &vaddr) || vaddr == U64MAP_EMPTY)
		return SYMBOLIZER_LEAF_UNKNOWN;
	slot = u64map_insert(&mod->leaf_rules, vaddr, &inserted);
	if (inserted)
		*slot = lookup_rule(s, mod, vaddr);

	switch (rule_kind(*slot)) {
	case RULE_BP: /* the frame is set up: what a frame-pointer walk reads already */
		return SYMBOLIZER_LEAF_FRAMED;
	case RULE_SP:
		break;
	default:
		return SYMBOLIZER_LEAF_UNKNOWN;
	}
	at = sp + (uint64_t)(rule_cfa_off(*slot) + rule_ra_off(*slot));
	if (!stack || at < sp || at - sp > stack_len || stack_len - (at - sp) < sizeof(*ret))
		return SYMBOLIZER_LEAF_BEYOND;
	memcpy(ret, stack + (at - sp), sizeof(*ret));
	return SYMBOLIZER_LEAF_FOUND;
}
