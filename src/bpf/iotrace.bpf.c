/*
 * I/O profiling, aggregated in the kernel: per system call number a count, errors, total and maximum latency
 * and a log2 latency histogram (raw_syscalls sys_enter/sys_exit); sampled user stacks of system calls
 * (every call of the first few of each kind, then one in IO_SAMPLE_EVERY, weighted); the slowest calls with
 * their stacks (a small top-N per CPU); bytes read and written per file (at the exit of read/write system
 * calls, the descriptor's file looked up in the task's file table and its path taken from the dentry chain the
 * first time a file is seen); and block device
 * request latency (block_rq_issue/complete, system-wide). Only the target's process tree is traced.
 * User stacks get the same leaf fix as off-CPU stacks (struct oc_ufix, see offcpu.h).
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "../record/bpf_shared.h"

#define S_IFMT_ 00170000

const volatile bool trace_all = false;
const volatile __u32 self_tgid = 0; /* kiln itself, left out of system-wide traces */
const volatile bool want_stacks = true;
const volatile bool track_files = true;
__u32 filter_gen = 1; /* bumped by user space whenever `targets` changes */

/*
 * Traced processes: IO_TARGET, or IO_TARGET_AT_EXEC for a command kiln launches, whose calls count from its first
 * successful execve (that one included): what kiln's fork does before it (the gate, execvp's search of PATH)
 * is kiln's, as strace -f, which starts at the exec, sees it.
 */
#define IO_TARGET 1
#define IO_TARGET_AT_EXEC 2
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u8);
} targets SEC(".maps");

/* Per thread: the system call in progress and whether the thread is traced (cached per filter generation). */
struct tstate {
	__u64 ts;
	__s64 nr; /* -1: none in progress */
	__u64 arg0;
	__u32 gen;
	__u16 traced;
	__u16 at_exec; /* IO_TARGET_AT_EXEC: nothing counts until an execve succeeds */
	/* The file of the thread's last read/write: its descriptor, file and inode pointers, and its key. */
	__u64 c_fd;
	__u64 c_file;
	__u64 c_inode;
	__u64 c_ino;
	__u32 c_dev;
	__u32 c_valid;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct tstate);
} tstates SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, IO_NR_MAX);
	__type(key, __u32);
	__type(value, struct io_sys);
} sys SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 16384);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, KILN_BPF_MAX_STACK * sizeof(__u64));
} stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 32768);
	__type(key, struct io_skey);
	__type(value, struct io_sval);
} samples SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, IO_SLOW);
	__type(key, __u32);
	__type(value, struct io_slow);
} slow SEC(".maps");

struct slowmin {
	__u64 lat_ns;
	__u32 idx;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct slowmin);
} slowmins SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct io_fkey);
	__type(value, struct io_fval);
} files SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct io_fval);
} fscratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, __u64);
} blkstart SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, struct io_blk);
} blk SEC(".maps");

/* Events lost for lack of room in a map: [0] samples, [1] files, [2] block requests. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, __u64);
} dropped SEC(".maps");

#include "ufix.bpf.h"

static __always_inline void drop(__u32 what)
{
	__u64 *v = bpf_map_lookup_elem(&dropped, &what);
	if (v)
		(*v)++;
}

static __always_inline __u32 log2_bucket(__u64 v)
{
	__u32 r = 0;
	if (v >> 32) { v >>= 32; r += 32; }
	if (v >> 16) { v >>= 16; r += 16; }
	if (v >> 8) { v >>= 8; r += 8; }
	if (v >> 4) { v >>= 4; r += 4; }
	if (v >> 2) { v >>= 2; r += 2; }
	if (v >> 1) { r += 1; }
	return r < IO_HIST ? r : IO_HIST - 1;
}

static __always_inline struct tstate *task_state(bool create)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct tstate *t = bpf_task_storage_get(&tstates, task, 0, create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
	if (!t)
		return NULL;
	__u32 gen = filter_gen;
	if (t->gen != gen) {
		__u32 tgid = bpf_get_current_pid_tgid() >> 32;
		t->gen = gen;
		t->nr = -1;
		__u8 *v = trace_all ? NULL : bpf_map_lookup_elem(&targets, &tgid);
		t->traced = trace_all ? tgid != 0 && tgid != self_tgid : v != NULL;
		t->at_exec = v && *v == IO_TARGET_AT_EXEC;
	}
	return t->traced ? t : NULL;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(kiln_sys_enter, struct pt_regs *regs, long id)
{
	struct tstate *t = task_state(true);
	if (!t || (t->at_exec && id != 59 && id != 322)) /* x86_64 execve, execveat */
		return 0;
	t->nr = id;
	t->arg0 = regs->di; /* a direct load: tp_btf arguments are trusted BTF pointers */
	t->ts = bpf_ktime_get_ns();
	return 0;
}

static __always_inline void note_slow(void *ctx, __u64 lat, __s32 nr, __s32 ustack, long ret, __u64 arg0,
				      __u64 now)
{
	__u32 zero = 0;
	struct slowmin *m = bpf_map_lookup_elem(&slowmins, &zero);
	if (!m || lat <= m->lat_ns)
		return;
	__u32 idx = m->idx;
	struct io_slow *s = bpf_map_lookup_elem(&slow, &idx);
	if (!s)
		return;
	__u64 id = bpf_get_current_pid_tgid();
	if (ustack == -1 && want_stacks) {
		ustack = bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK);
		if (ustack >= 0)
			save_fix(bpf_get_current_task_btf(), id >> 32, ustack);
	}
	s->lat_ns = lat;
	s->ts = now;
	s->tgid = id >> 32;
	s->pid = (__u32)id;
	s->nr = nr;
	s->ustack = ustack;
	s->ret = ret;
	s->arg0 = arg0;
	/* The new minimum of the table (IO_SLOW entries: a short scan, only when a call enters the top). */
	__u64 min = ~0ULL;
	__u32 mi = 0;
	for (__u32 i = 0; i < IO_SLOW; i++) {
		__u32 k = i;
		struct io_slow *e = bpf_map_lookup_elem(&slow, &k);
		if (e && e->lat_ns < min) {
			min = e->lat_ns;
			mi = i;
		}
	}
	m->lat_ns = min;
	m->idx = mi;
}

struct walk {
	struct dentry *d;
	struct mount *mnt;
	struct io_fval *v;
	__u32 n;
};

/* One step of the path walk (a bpf_loop() callback: verified once, however long the path). */
static int walk_step(__u32 i, void *arg)
{
	struct walk *w = arg;
	struct dentry *d = w->d;
	struct mount *mnt = w->mnt;
	struct dentry *parent = BPF_CORE_READ(d, d_parent);
	struct dentry *root = BPF_CORE_READ(mnt, mnt.mnt_root);
	if (d == root || d == parent) {
		struct mount *up = BPF_CORE_READ(mnt, mnt_parent);
		if (up == mnt || !up) {
			w->v->rooted = 1;
			return 1;
		}
		w->d = BPF_CORE_READ(mnt, mnt_mountpoint);
		w->mnt = up;
		return 0;
	}
	if (w->n >= IO_DEPTH)
		return 1;
	const unsigned char *name = BPF_CORE_READ(d, d_name.name);
	bpf_probe_read_kernel_str(w->v->comp[w->n & (IO_DEPTH - 1)], IO_COMP, name);
	w->n++;
	w->d = parent;
	return 0;
}

/* The path of `file`, innermost component first, walking dentries up and across mount points. */
static __always_inline void file_path(struct file *file, struct io_fval *v)
{
	struct vfsmount *vm = BPF_CORE_READ(file, f_path.mnt);
	struct walk w = {
		.d = BPF_CORE_READ(file, f_path.dentry),
		.mnt = container_of(vm, struct mount, mnt),
		.v = v,
	};
	v->rooted = 0;
	bpf_loop(2 * IO_DEPTH, walk_step, &w, 0);
	v->depth = w.n;
}

/* The open file behind descriptor `fd` of the current task, or NULL. */
static __always_inline struct file *fd_file(__u64 fd)
{
	/* Direct loads through the task's BTF pointers (no helper calls); only the array slot needs one. */
	struct task_struct *task = bpf_get_current_task_btf();
	struct files_struct *files = task->files;
	if (!files)
		return NULL;
	struct fdtable *fdt = files->fdt;
	if (!fdt || fd >= fdt->max_fds)
		return NULL;
	struct file **arr = fdt->fd;
	struct file *f = NULL;
	if (bpf_probe_read_kernel(&f, sizeof(f), &arr[fd]))
		return NULL;
	return f;
}

/* Bytes moved by a read or write system call, per file (not through fentry, which not every kernel has). */
static __always_inline void file_io(struct tstate *t, __u64 fd, long ret, int write, __u64 ns)
{
	struct file *file = fd_file(fd);
	if (!file)
		return;
	struct inode *inode = BPF_CORE_READ(file, f_inode);
	struct io_fkey k = { .tgid = bpf_get_current_pid_tgid() >> 32 };
	if (!inode)
		return;
	/* The same descriptor, file and inode as last time: the same key, without reading the inode again. */
	if (t->c_valid && t->c_fd == fd && t->c_file == (__u64)file && t->c_inode == (__u64)inode) {
		k.dev = t->c_dev;
		k.ino = t->c_ino;
	} else {
		k.dev = BPF_CORE_READ(inode, i_sb, s_dev);
		k.ino = BPF_CORE_READ(inode, i_ino);
		t->c_fd = fd;
		t->c_file = (__u64)file;
		t->c_inode = (__u64)inode;
		t->c_dev = k.dev;
		t->c_ino = k.ino;
		t->c_valid = 1;
	}
	struct io_fval *v = bpf_map_lookup_elem(&files, &k);
	if (!v) {
		__u32 zero = 0;
		struct io_fval *f = bpf_map_lookup_elem(&fscratch, &zero);
		if (!f)
			return;
		f->reads = f->writes = f->rbytes = f->wbytes = f->read_ns = f->write_ns = 0;
		f->mode = BPF_CORE_READ(inode, i_mode);
		f->depth = 0;
		f->rooted = 0;
		if ((f->mode & S_IFMT_) != 0010000 && (f->mode & S_IFMT_) != 0140000) /* pipes and sockets: no path */
			file_path(file, f);
		bpf_map_update_elem(&files, &k, f, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&files, &k);
		if (!v) {
			drop(1);
			return;
		}
	}
	if (write) {
		__sync_fetch_and_add(&v->writes, 1);
		__sync_fetch_and_add(&v->wbytes, ret);
		__sync_fetch_and_add(&v->write_ns, ns);
	} else {
		__sync_fetch_and_add(&v->reads, 1);
		__sync_fetch_and_add(&v->rbytes, ret);
		__sync_fetch_and_add(&v->read_ns, ns);
	}
}

SEC("tp_btf/sys_exit")
int BPF_PROG(kiln_sys_exit, struct pt_regs *regs, long ret)
{
	struct tstate *t = task_state(false);
	if (!t || t->nr < 0)
		return 0;
	if (t->at_exec) {
		if (ret != 0) { /* a failed attempt of kiln's fork (execvp's search of PATH) */
			t->nr = -1;
			return 0;
		}
		__u32 tgid = bpf_get_current_pid_tgid() >> 32;
		__u8 one = IO_TARGET;
		t->at_exec = 0;
		bpf_map_update_elem(&targets, &tgid, &one, BPF_ANY);
	}
	__u64 now = bpf_ktime_get_ns();
	__u64 lat = now - t->ts;
	__u32 nr = (__u32)t->nr;
	t->nr = -1;
	if (nr >= IO_NR_MAX)
		return 0;
	struct io_sys *s = bpf_map_lookup_elem(&sys, &nr);
	if (!s)
		return 0;
	__u64 n = ++s->count;
	if (ret < 0 && ret >= -4095)
		s->errors++;
	s->total_ns += lat;
	if (lat > s->max_ns)
		s->max_ns = lat;
	__u32 bucket = log2_bucket(lat);
	if (bucket < IO_HIST)
		s->hist[bucket]++;

	__s32 ustack = -1;
	if (want_stacks && (n <= IO_SAMPLE_FIRST || n % IO_SAMPLE_EVERY == 0)) {
		__u64 w = n <= IO_SAMPLE_FIRST ? 1 : IO_SAMPLE_EVERY;
		__u64 id = bpf_get_current_pid_tgid();
		ustack = bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK);
		if (ustack >= 0)
			save_fix(bpf_get_current_task_btf(), id >> 32, ustack);
		struct io_skey k = { .tgid = id >> 32, .pid = (__u32)id, .nr = (__s32)nr, .ustack = ustack };
		struct io_sval *v = bpf_map_lookup_elem(&samples, &k);
		if (!v) {
			struct io_sval z = { 0 };
			bpf_map_update_elem(&samples, &k, &z, BPF_NOEXIST);
			v = bpf_map_lookup_elem(&samples, &k);
		}
		if (v) {
			__sync_fetch_and_add(&v->weight, w);
			__sync_fetch_and_add(&v->lat_ns, lat * w);
		} else {
			drop(0);
		}
	}
	if (track_files && ret > 0) {
		/* x86_64: read pread64 readv preadv preadv2 / write pwrite64 writev pwritev pwritev2 */
		int dir = -1;
		if (nr == 0 || nr == 17 || nr == 19 || nr == 295 || nr == 327)
			dir = 0;
		else if (nr == 1 || nr == 18 || nr == 20 || nr == 296 || nr == 328)
			dir = 1;
		if (dir >= 0)
			file_io(t, t->arg0, ret, dir, lat);
	}
	note_slow(ctx, lat, (__s32)nr, ustack, ret, t->arg0, now);
	return 0;
}

SEC("tp_btf/block_rq_issue")
int BPF_PROG(kiln_blk_issue, struct request *rq)
{
	__u64 key = (__u64)rq, ts = bpf_ktime_get_ns();
	if (bpf_map_update_elem(&blkstart, &key, &ts, BPF_ANY))
		drop(2);
	return 0;
}

SEC("tp_btf/block_rq_complete")
int BPF_PROG(kiln_blk_complete, struct request *rq, int error, unsigned int nr_bytes)
{
	__u64 key = (__u64)rq;
	__u64 *ts = bpf_map_lookup_elem(&blkstart, &key);
	if (!ts)
		return 0;
	__u64 lat = bpf_ktime_get_ns() - *ts;
	bpf_map_delete_elem(&blkstart, &key);
	__u32 op = BPF_CORE_READ(rq, cmd_flags) & 0xff;
	__u32 dir = op == 0 ? 0 : op == 1 ? 1 : 2;
	struct io_blk *b = bpf_map_lookup_elem(&blk, &dir);
	if (!b)
		return 0;
	b->count++;
	b->bytes += nr_bytes;
	b->total_ns += lat;
	if (lat > b->max_ns)
		b->max_ns = lat;
	__u32 bucket = log2_bucket(lat);
	if (bucket < IO_HIST)
		b->hist[bucket]++;
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(kiln_io_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = parent->tgid, ctgid = child->tgid;
	__u8 one = IO_TARGET;
	if (!trace_all && ptgid != ctgid && bpf_map_lookup_elem(&targets, &ptgid))
		bpf_map_update_elem(&targets, &ctgid, &one, BPF_ANY);
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
