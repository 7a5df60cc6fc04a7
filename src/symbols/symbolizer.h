/*
 * Address -> frames for `kiln profile`: user code through elfutils libdwfl (.symtab/.dynsym, separate debuginfo
 * by build-id or debuglink, inline frames, file:line), kernel code through /proc/kallsyms, the vdso, and JIT code
 * through /tmp/perf-PID.map. docs/symbols.md describes the order of sources and the naming rules.
 *
 * The symbolizer tracks the address spaces of the profiled processes (fed from perf mmap2/comm/fork/exit records
 * or from /proc/PID/maps) and caches everything it opens: each ELF file is opened once (keyed by build-id, else
 * by path + device + inode + mtime + size) in one offline Dwfl shared by all processes, and each unique
 * (file, address) is symbolized once. Frames are interned into the profile passed to symbolizer_resolve(); any
 * number of profiles may be used with one symbolizer (ids are validated against the profile, never trusted).
 *
 * Not thread-safe: one symbolizer per thread. Library code: nothing is printed; failures become
 * "[module+0xoffset]" frames or a filled `struct err`.
 */
#ifndef KILN_SYMBOLIZER_H
#define KILN_SYMBOLIZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct err;
struct profile;
struct symbolizer;

/*
 * Process ids: the kernel's pids are below 2^22 (PID_MAX_LIMIT), so callers may use the bits above
 * SYMBOLIZER_PID_BITS to tell successive address spaces of one pid apart (e.g. a generation bumped at exec).
 * Mappings are tracked per full id; /proc/PID/... and perf-PID.map use the low SYMBOLIZER_PID_BITS bits.
 */
#define SYMBOLIZER_PID_BITS 22

struct symbolizer *symbolizer_new(void);
void symbolizer_free(struct symbolizer *s); /* NULL is a no-op */

/*
 * Address-space tracking. `path` is the mapping's path as in /proc/PID/maps ("/usr/lib/x.so", "[vdso]",
 * "//anon", "" ...); `build_id` may be NULL. A new mapping replaces the parts of older ones it overlaps.
 * Files are opened lazily, on the first address resolved in them. Returns 0 (-1 only for a bad range).
 */
int symbolizer_add_mapping(struct symbolizer *s, uint32_t pid, uint64_t start, uint64_t len, uint64_t pgoff,
			   const char *path, const unsigned char *build_id, size_t build_id_len, struct err *e);
/* Adds every mapping of /proc/PID/maps (attach case). Returns 0, or -1 with `e` set. */
int symbolizer_load_proc_maps(struct symbolizer *s, uint32_t pid, struct err *e);
/* The child inherits a copy of the parent's mappings (fork without exec). */
void symbolizer_fork(struct symbolizer *s, uint32_t parent_pid, uint32_t child_pid);
/* exec: forgets the pid's mappings (and its perf map, which the new program rewrites). */
void symbolizer_exec(struct symbolizer *s, uint32_t pid);
/* exit: mappings are kept, samples of the pid may still follow; files are read from the paths. */
void symbolizer_exit(struct symbolizer *s, uint32_t pid);

/*
 * Resolves one address of `pid` into frames interned in `p`, innermost (leaf) first: inlined functions first
 * (kind FRAME_INLINED, file:line of the code inside them), then the physical function (FRAME_NATIVE,
 * FRAME_KERNEL or FRAME_JIT). Kernel addresses (`kernel` true, or any address in the x86_64 kernel half) are named through kallsyms. Writes at most
 * `max` frame ids to `out` (the outermost frames are dropped when they do not fit) and returns their number,
 * always >= 1 when max >= 1: an address in a known module that cannot be named becomes "[module+0xoffset]"
 * (module basename, offset = ELF virtual address, or file offset when the file cannot be read); an address
 * outside every mapping becomes "[unknown]"; a hidden kernel (kptr_restrict) "[kernel]".
 * frame.addr is the module-relative address (ELF virtual address) for native and inlined frames, the
 * kernel address for kernel frames, and 0 for JIT frames (their addresses are reused).
 */
size_t symbolizer_resolve(struct symbolizer *s, struct profile *p, uint32_t pid, uint64_t addr, bool kernel,
			  uint32_t *out, size_t max);

/*
 * DWARF unwinding (CFI from .eh_frame/.debug_frame) of a copied user stack, with libdwfl's unwinder.
 * `regs` are the sampled x86_64 registers packed in perf's order as PERF_SAMPLE_REGS_USER delivers them: one
 * value per bit set in `regs_mask` (bits of enum perf_event_x86_regs), lowest bit first. IP, SP and BP are
 * needed; the others help. `stack` holds `stack_len` bytes copied from address `stack_sp` upwards. Other memory
 * is read from the files mapped by `pid`. Fills `ips` with return addresses, leaf (the sampled IP) first, and
 * returns their number (0 when the IP/SP registers are missing). Callers that resolve the non-leaf addresses
 * should pass `ip - 1` to symbolizer_resolve() to name the call site.
 */
size_t symbolizer_unwind(struct symbolizer *s, uint32_t pid, uint32_t tid, const uint64_t *regs, uint64_t regs_mask,
			 const unsigned char *stack, size_t stack_len, uint64_t stack_sp, uint64_t *ips, size_t max);

/*
 * The caller of code that has not set up its frame at `ip`, for frame-pointer callchains. A frame-pointer walk
 * names [ip, [bp+8], ...]: correct once the function at `ip` has pushed %rbp and pointed %rbp at its frame,
 * but in a leaf without a frame, in a shrink-wrapped prologue or epilogue, in hand-written assembly (memcpy,
 * syscall wrappers) %rbp is still the caller's and [bp+8] names the caller's caller: the direct caller is lost.
 * This reads the CFI (.eh_frame, else .debug_frame) rule at `ip` of process `pid`, cached per (module,
 * address), and when the canonical frame address is %rsp-based, reads the return address from `stack`
 * (`stack_len` bytes copied from address `sp` upwards). Per call: a mapping lookup, one hash lookup and one
 * word read.
 */
enum symbolizer_leaf {
	SYMBOLIZER_LEAF_UNKNOWN, /* no usable CFI at `ip` (no module, no FDE, an expression rule) */
	SYMBOLIZER_LEAF_FRAMED,  /* the frame is set up (%rbp-based CFA): the frame-pointer walk is right */
	SYMBOLIZER_LEAF_FOUND,   /* no frame of its own: `*ret` is the return address into the caller */
	SYMBOLIZER_LEAF_BEYOND,  /* no frame of its own, but the return address lies beyond the copied stack */
};
enum symbolizer_leaf symbolizer_leaf_caller(struct symbolizer *s, uint32_t pid, uint64_t ip, uint64_t sp,
					    const unsigned char *stack, size_t stack_len, uint64_t *ret);

/*
 * Adds a "kiln:build-id PATH HEX" comment (formats/pprof_meta.h) to `p` for every ELF file the symbolizer
 * opened whose build-id it knows (recorded with the mapping, else read from the file), once per path: the
 * pprof writer turns them into Mapping.build_id, and `kiln analyze` names the build-id of a module that stayed
 * unsymbolized. Paths already noted in `p` are skipped.
 */
void symbolizer_note_build_ids(const struct symbolizer *s, struct profile *p);

/* Sources and behaviour (optional; the defaults suit `kiln profile`). */

/* Debuginfo directories, colon-separated, searched for ".build-id/xx/yyyy.debug" and debuglink files.
 * Default: $KILN_DEBUGINFO_DIRS when set, else /usr/lib/debug. Call before the first resolve. */
void symbolizer_set_debuginfo_dirs(struct symbolizer *s, const char *dirs);
/* The kallsyms file (default /proc/kallsyms); read lazily on the first kernel address. */
void symbolizer_set_kallsyms(struct symbolizer *s, const char *path);
/* Starts reading kallsyms in a background thread now (reading /proc/kallsyms takes ~50-150 ms of kernel
 * time), so that the first kernel address after a recording does not wait for it. Optional; idempotent. */
void symbolizer_prefetch_kernel(struct symbolizer *s);
/* Directory of perf-PID.map files (default /tmp, read through /proc/PID/root/tmp first when possible). */
void symbolizer_set_perfmap_dir(struct symbolizer *s, const char *dir);

#define SYMBOLIZER_NO_INLINE 1 /* do not produce inlined frames */
#define SYMBOLIZER_NO_LINES 2  /* do not look up file:line */
#define SYMBOLIZER_NO_DEMANGLE 4 /* keep C++ symbol names mangled (they are demangled with the system's
				  * libstdc++ when it is installed) */
void symbolizer_set_flags(struct symbolizer *s, unsigned flags);

struct symbolizer_stats {
	size_t modules;       /* ELF files opened (one per build-id / file) */
	size_t modules_failed;
	size_t lookups;       /* symbolizer_resolve() calls */
	size_t cache_misses;  /* (module, address) pairs symbolized */
	size_t unwinds;
	size_t leaf_rules;    /* CFI rules looked up by symbolizer_leaf_caller() (one per module address) */
};
void symbolizer_get_stats(const struct symbolizer *s, struct symbolizer_stats *st);

#endif
