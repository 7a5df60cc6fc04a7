/*
 * Shared by the off-CPU and I/O eBPF programs: the first time a (process, user stack) pair is seen, a copy of the
 * task's user registers and the top of its user stack, so that kiln can unwind with DWARF what the frame-pointer
 * walk missed (the caller of a libc syscall wrapper without a frame pointer). Include after the headers that
 * define struct oc_ufix and struct oc_fixkey (src/record/bpf_shared.h).
 */
#ifndef KILN_UFIX_BPF_H
#define KILN_UFIX_BPF_H

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct oc_fixkey);
	__type(value, struct oc_ufix);
} ufix SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct oc_ufix);
} scratch SEC(".maps");

static __always_inline void save_fix(struct task_struct *task, __u32 tgid, __s32 ustack)
{
	struct oc_fixkey fk = { .tgid = tgid, .ustack = ustack };
	__u32 zero = 0;
	if (bpf_map_lookup_elem(&ufix, &fk))
		return;
	struct oc_ufix *f = bpf_map_lookup_elem(&scratch, &zero);
	if (!f)
		return;
	struct pt_regs *r = (struct pt_regs *)bpf_task_pt_regs(task);
	if (!r)
		return;
	f->regs[0] = BPF_CORE_READ(r, ax);
	f->regs[1] = BPF_CORE_READ(r, bx);
	f->regs[2] = BPF_CORE_READ(r, cx);
	f->regs[3] = BPF_CORE_READ(r, dx);
	f->regs[4] = BPF_CORE_READ(r, si);
	f->regs[5] = BPF_CORE_READ(r, di);
	f->regs[6] = BPF_CORE_READ(r, bp);
	f->regs[7] = BPF_CORE_READ(r, sp);
	f->regs[8] = BPF_CORE_READ(r, ip);
	f->regs[9] = BPF_CORE_READ(r, r8);
	f->regs[10] = BPF_CORE_READ(r, r9);
	f->regs[11] = BPF_CORE_READ(r, r10);
	f->regs[12] = BPF_CORE_READ(r, r11);
	f->regs[13] = BPF_CORE_READ(r, r12);
	f->regs[14] = BPF_CORE_READ(r, r13);
	f->regs[15] = BPF_CORE_READ(r, r14);
	f->regs[16] = BPF_CORE_READ(r, r15);
	f->sp = f->regs[7];
	f->len = 0;
	/* The stack top may end within the snapshot's size: fall back to smaller copies. */
	if (bpf_probe_read_user(f->stack, OC_SNAP, (const void *)f->sp) == 0)
		f->len = OC_SNAP;
	else if (bpf_probe_read_user(f->stack, OC_SNAP / 4, (const void *)f->sp) == 0)
		f->len = OC_SNAP / 4;
	if (!f->len)
		return;
	bpf_map_update_elem(&ufix, &fk, f, BPF_NOEXIST);
}

#endif
