/*
 * Off-CPU time, summed in the kernel (as bcc's offcputime does): on sched_switch the thread going off CPU
 * records the time and its user + kernel stack ids; when it comes back the blocked time is added to a map keyed
 * by (tgid, pid, user stack, kernel stack). Blocked time ends at the wakeup (sched_wakeup); what follows is
 * waiting for a CPU, counted apart (and added to the stack's time only for wall-clock profiles). Only the
 * target's process tree is traced: tgids in `targets`, which fork follows. User space reads the maps once, at
 * the end, so the cost does not grow with what it reads.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "../record/bpf_shared.h"

#define TASK_DEAD_STATE 0x80 /* TASK_DEAD: the final switch of an exiting thread */

const volatile __u64 min_block_ns = 0;
const volatile bool trace_all = false; /* every process (system-wide) */
const volatile __u32 self_tgid = 0; /* kiln itself, left out of system-wide traces */
const volatile bool capture_fix = true;   /* copy user regs + stack top for DWARF unwinding of leaf frames */
const volatile bool with_runq = false;    /* count the time waiting for a CPU too (wall), not only blocked time */
const volatile bool kernel_stacks = true; /* false for --user-only: no kernel stack walk at all */
const volatile bool py_waits = false;     /* user space reads the Python stacks of blocked threads (pyread) */
const volatile bool blind_in = false;     /* tests: ignore every switch in and wakeup, as the kernel sometimes does */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u8);
} targets SEC(".maps");


struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, struct oc_start);
} starts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 16384);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, KILN_BPF_MAX_STACK * sizeof(__u64));
} stacks SEC(".maps");

/*
 * Per thread, the kernel stack of its last switch out from a system call: walking a kernel stack costs more
 * than everything else here, and a thread that blocks again at the same user stack in the same system call on
 * the same first argument (a read on the same descriptor, a futex on the same word) blocks on the same path.
 */
struct kcache {
	__s32 ustack;
	__s32 kstack1; /* kernel stack id + 1; 0 = none (a new task's storage is zeroed) */
	__u64 nr;
	__u64 arg0;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct kcache);
} kcaches SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct oc_key);
	__type(value, struct oc_val);
} counts SEC(".maps");

#include "ufix.bpf.h"

/*
 * Python waits (offcpu_py.c): while a thread is blocked, user space reads its Python stack (a blocked thread's
 * frame chain cannot change) and then marks the block here with its switch-out time. A block whose mark is
 * found when it ends was read entirely within it: its time goes to user space as an event, to be keyed by that
 * stack, instead of into `counts`. A mark written too late (the thread already ran) matches nothing, so every
 * block is counted exactly once, with or without its Python stack.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);   /* tid */
	__type(value, __u64); /* switch-out time of the block that was read */
} pyread SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} pyblocks SEC(".maps");

/* [0] starts and [1] counts lost for lack of map room; [2] nanoseconds and [3] times waiting for a CPU; [4]
 * blocks whose end (the switch in) the program never saw, measured by the thread's own clocks (see
 * kiln_switch). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 5);
	__type(key, __u32);
	__type(value, __u64);
} dropped SEC(".maps");

static __always_inline bool traced(__u32 tgid)
{
	if (trace_all)
		return tgid != 0 && tgid != self_tgid;
	return bpf_map_lookup_elem(&targets, &tgid) != NULL;
}

static __always_inline void drop(__u32 what)
{
	__u64 *v = bpf_map_lookup_elem(&dropped, &what);
	if (v)
		(*v)++;
}

static __always_inline void add_runq(__u64 ns)
{
	__u32 k = 2;
	__u64 *v = bpf_map_lookup_elem(&dropped, &k);
	if (v)
		*v += ns;
	k = 3;
	v = bpf_map_lookup_elem(&dropped, &k);
	if (v)
		(*v)++;
}

/* Adds a block of `delta` ns of thread `pid` to its (process, thread, stacks) sum. */
static __always_inline void add_block(const struct oc_start *sp, __u32 pid, __u64 delta)
{
	if (!delta || delta < min_block_ns)
		return;
	struct oc_key k = { .tgid = sp->tgid, .pid = pid, .ustack = sp->ustack, .kstack = sp->kstack };
	struct oc_val *v = bpf_map_lookup_elem(&counts, &k);
	if (!v) {
		struct oc_val zero = { 0 };
		bpf_map_update_elem(&counts, &k, &zero, BPF_NOEXIST); /* EEXIST: another CPU won */
		v = bpf_map_lookup_elem(&counts, &k);
	}
	if (v) {
		__sync_fetch_and_add(&v->ns, delta);
		__sync_fetch_and_add(&v->count, 1);
	} else {
		drop(1);
	}
}

SEC("tp_btf/sched_switch")
int BPF_PROG(kiln_switch, bool preempt, struct task_struct *prev, struct task_struct *next, unsigned int prev_state)
{
	__u64 now = bpf_ktime_get_ns();
	__u32 ptgid = prev->tgid, ppid = prev->pid;

	if (ppid && traced(ptgid)) {
		/*
		 * A thread leaving the CPU with its previous block still open: the switch that brought it back ran no
		 * program. That happens, without a recursion miss, while some other task holds the CPU: neither the
		 * switch from it to this thread nor a wakeup on that CPU (the timer ending a sleep) reaches the
		 * programs (seen under load, about once in a hundred short recordings). Its wakeup is then usually
		 * unseen too, so the block is measured with the thread's own clocks, which the scheduler keeps
		 * whatever is traced: the time since the switch out, less the time it ran since and the time it
		 * waited runnable for a CPU since, was blocked.
		 */
		struct oc_start *old = bpf_map_lookup_elem(&starts, &ppid);
		if (old) {
			__u64 off = now - old->ts, ran = prev->se.sum_exec_runtime - old->ran;
			__u64 queued = prev->sched_info.run_delay - old->queued, blocked = 0;

			off = now > old->ts && off > ran ? off - ran : 0;
			if (!old->preempted)
				blocked = old->wake > old->ts && old->wake <= now ? old->wake - old->ts :
					  off > queued ? off - queued : 0;
			if (blocked > off)
				blocked = off;
			if (off > blocked)
				add_runq(off - blocked);
			add_block(old, ppid, with_runq ? off : blocked);
			drop(4);
		}
		/* An exiting thread's final switch: its last block (if still open) was closed above. */
		if (prev_state & TASK_DEAD_STATE) {
			if (old)
				bpf_map_delete_elem(&starts, &ppid);
			goto next;
		}
		/*
		 * Preempted: left the CPU runnable. `preempt` also covers a thread preempted between setting its sleep
		 * state and calling schedule(): it stays on the run queue, its time off CPU is a wait for a CPU, and
		 * no wakeup will come to end a "block" (prev_state alone would count that wait as blocked).
		 */
		bool preempted = preempt || (prev_state & 0xff) == 0;
		struct oc_start st = { .ts = now, .tgid = ptgid, .preempted = preempted,
				       .ran = prev->se.sum_exec_runtime, .queued = prev->sched_info.run_delay };
		struct pt_regs *r = (struct pt_regs *)bpf_task_pt_regs(prev);
		__u64 nr = r ? r->orig_ax : ~0ULL, a0 = r ? r->di : 0;
		st.ustack = st.kstack = -1;
		/* Without the run queue in the profile a preemption is only counted (see add_runq): no stacks. */
		bool stacks_wanted = with_runq || !preempted;
		/* In execve the user stack is the old image's (for a launched command: kiln's own fork). */
		if (stacks_wanted && nr != 59 && nr != 322)
			st.ustack = bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK);
		if (kernel_stacks && stacks_wanted) {
			/* A preemption's kernel stack is the interrupt's way out: neither reused nor kept for a block. */
			struct kcache *c = preempted ? NULL :
				bpf_task_storage_get(&kcaches, prev, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
			if (c && (__s64)nr >= 0 && st.ustack >= 0 && c->kstack1 > 0 && c->ustack == st.ustack &&
			    c->nr == nr && c->arg0 == a0) {
				st.kstack = c->kstack1 - 1;
			} else {
				st.kstack = bpf_get_stackid(ctx, &stacks, 0);
				if (c) {
					c->ustack = st.ustack;
					c->kstack1 = (__s64)nr >= 0 && st.kstack >= 0 ? st.kstack + 1 : 0;
					c->nr = nr;
					c->arg0 = a0;
				}
			}
		}
		if (capture_fix && st.ustack >= 0)
			save_fix(prev, ptgid, st.ustack);
		if (bpf_map_update_elem(&starts, &ppid, &st, BPF_ANY))
			drop(0);
	}

next:;
	__u32 npid = next->pid;
	if (blind_in)
		return 0;
	struct oc_start *sp = bpf_map_lookup_elem(&starts, &npid);
	if (!sp)
		return 0;
	if (now <= sp->ts)
		goto out;
	/* Blocked until woken up; from then on (or all along when preempted) waiting for a CPU. */
	__u64 total = now - sp->ts, blocked = total;
	if (sp->preempted)
		blocked = 0;
	else if (sp->wake > sp->ts && sp->wake < now)
		blocked = sp->wake - sp->ts;
	if (total > blocked)
		add_runq(total - blocked);
	__u64 delta = with_runq ? total : blocked;
	if (py_waits) {
		__u64 *mark = bpf_map_lookup_elem(&pyread, &npid);
		if (mark) {
			bool mine = *mark == sp->ts;
			bpf_map_delete_elem(&pyread, &npid);
			struct oc_pyblock *ev;
			/* A full ring leaves the block to `counts`: counted, without its Python stack. */
			if (mine && delta && delta >= min_block_ns &&
			    (ev = bpf_ringbuf_reserve(&pyblocks, sizeof(*ev), 0))) {
				ev->ts = sp->ts;
				ev->ns = delta;
				ev->tgid = sp->tgid;
				ev->pid = npid;
				ev->ustack = sp->ustack;
				ev->kstack = sp->kstack;
				bpf_ringbuf_submit(ev, BPF_RB_NO_WAKEUP);
				goto out;
			}
		}
	}
	add_block(sp, npid, delta);
out:
	bpf_map_delete_elem(&starts, &npid);
	return 0;
}

static __always_inline void woken(struct task_struct *p)
{
	__u32 pid = p->pid;
	if (blind_in)
		return;
	struct oc_start *sp = bpf_map_lookup_elem(&starts, &pid);
	if (sp && !sp->wake)
		sp->wake = bpf_ktime_get_ns();
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(kiln_wakeup, struct task_struct *p)
{
	woken(p);
	return 0;
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(kiln_wakeup_new, struct task_struct *p)
{
	woken(p);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(kiln_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = parent->tgid, ctgid = child->tgid;
	__u8 one = 1;
	if (!trace_all && ptgid != ctgid && bpf_map_lookup_elem(&targets, &ptgid))
		bpf_map_update_elem(&targets, &ctgid, &one, BPF_ANY);
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
