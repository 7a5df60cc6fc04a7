/* Internals shared by symbolizer.c, elfmod.c and unwind.c; not part of the symbolizer's API. */
#ifndef KILN_SYM_INTERNAL_H
#define KILN_SYM_INTERNAL_H

#include <elfutils/libdwfl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../core/hash.h"
#include "../profile/profile.h"
#include "inlines.h"
#include "symbolizer.h"

struct ksyms;
struct perfmap;
struct unwinder;

/* A symbolized frame in the symbolizer's own string table; copied into profiles on demand. */
struct symframe {
	uint32_t function, module, file, line; /* ids in symbolizer.strs */
	uint64_t addr;
	uint32_t kind;
};

/* A range of symframes: the frames of one address, innermost first. */
#define SFR_COUNT_BITS 16
#define SFR_MAX_FRAMES ((1u << SFR_COUNT_BITS) - 1)
static inline uint64_t sfr_make(uint64_t first, uint32_t count) { return first << SFR_COUNT_BITS | count; }
static inline uint64_t sfr_first(uint64_t r) { return r >> SFR_COUNT_BITS; }
static inline uint32_t sfr_count(uint64_t r) { return (uint32_t)(r & SFR_MAX_FRAMES); }

struct modsym {
	uint64_t addr;    /* Dwfl address */
	uint64_t size;
	const char *name; /* owned by libdwfl's module */
	uint32_t len;     /* of the name without a symbol version ("memcpy@GLIBC_2.2.5") */
	uint32_t rank;    /* binding preference, then symbol order: lower wins among equal addresses */
};

struct load_seg {
	uint64_t off, end; /* file offsets [off, end) */
	uint64_t vaddr;    /* p_vaddr of `off` */
};

/* One ELF file, opened once into the offline Dwfl and shared by every process that maps it. */
struct elfmod {
	char *file;          /* path it was opened from, owned; NULL when it could not be opened */
	uint32_t module;     /* strs id of the mapping path (frame.module) */
	uint32_t base;       /* strs id of the basename, for "[base+0x...]" */
	uint32_t build_id;   /* strs id of the hex build-id (recorded, else the file's), 0 when unknown */
	Dwfl_Module *dm;     /* NULL when unusable (unreadable, not ELF, build-id mismatch) */
	uint64_t bias;       /* Dwfl address = bias + ELF virtual address */
	struct load_seg *loads;
	size_t loads_nr, loads_alloc;
	bool is_exec;        /* ET_EXEC: fixed addresses */
	void *image;         /* in-memory image (vdso), owned; NULL for files */
	size_t image_len;
	struct u64map cache; /* vaddr (or file offset when !dm) -> symframe range */
	struct modsym *syms; /* function symbols sorted by address, built on first use */
	size_t syms_nr;
	bool syms_loaded;
	struct inl_index inl; /* per-CU function/inline index */
	struct u64map leaf_rules; /* vaddr -> CFA rule for symbolizer_leaf_caller() (leaf.c) */
};

enum map_type { MT_FILE, MT_VDSO, MT_ANON, MT_SPECIAL };

#define MOD_UNRESOLVED (-1)
#define MOD_NONE (-2)

struct mapping {
	uint64_t start, end, pgoff;
	uint32_t path;     /* strs id */
	uint32_t build_id; /* strs id of the hex build-id, 0 when unknown */
	int32_t mod;       /* elfmod index, MOD_UNRESOLVED or MOD_NONE */
	uint32_t type;     /* enum map_type */
};

struct proc {
	uint32_t pid;         /* as given by the caller (may carry a generation above SYMBOLIZER_PID_BITS) */
	uint32_t os_pid;      /* the kernel's pid, for /proc and perf-PID.map */
	bool exited;
	struct mapping *maps; /* sorted by start, disjoint */
	size_t nr, alloc;
	uint64_t gen;         /* bumped when the mappings change */
	uint64_t replaced;    /* bumped when a mapping is removed or cut (the unwinder then starts over) */
	struct perfmap *pm;
	char *pm_path;
	off_t pm_size;        /* size of the perf map when loaded, -1 never found */
	struct u64map jcache; /* perf map region start -> symframe range; cleared on reload */
	struct unwinder *uw;
};

struct symbolizer {
	Dwfl *dwfl;
	Dwfl_Callbacks cb;
	char *debuginfo_path;
	uint64_t next_base;
	unsigned flags;

	struct strtab strs;    /* id 0 = "" */
	struct strtab modkeys; /* module key -> elfmod index */
	struct elfmod **mods;
	size_t mods_nr, mods_alloc;
	struct symframe *sf;
	size_t sf_nr, sf_alloc;

	struct proc **procs;
	size_t procs_nr, procs_alloc;
	struct u64map pid_index; /* pid -> index in procs */

	char *kallsyms_path;
	struct ksyms *ksyms;
	bool ksyms_loaded;
	bool kthread_running;    /* symbolizer_prefetch_kernel() started kthread */
	pthread_t kthread;
	struct u64map kcache;    /* kernel address -> symframe range */
	uint64_t kernel_hidden;  /* symframe range of "[kernel]", 0 until made */
	struct u64map ucache;    /* module strs id -> "[unknown]" symframe range */
	struct u64map rcache;    /* (mapping path id, offset) -> "[name+0xoff]" symframe range */
	size_t reports;          /* modules reported into the offline Dwfl, for unique names */

	char *perfmap_dir;

	/* Copying into one profile: strs id -> profile string id + 1, symframe -> profile frame id + 1. */
	const struct profile *xprof;
	uint32_t *xstr;
	size_t xstr_alloc;
	uint32_t *xframe;
	size_t xframe_alloc;

	struct symbolizer_stats stats;
};

uint32_t sym_str(struct symbolizer *s, const char *str);
uint32_t sym_strn(struct symbolizer *s, const char *str, size_t len);
const char *sym_strget(const struct symbolizer *s, uint32_t id);
/* Appends a symframe (kind: enum frame_kind); returns its index. */
uint32_t sym_push(struct symbolizer *s, uint32_t function, uint32_t module, uint32_t file, uint32_t line,
		  uint64_t addr, uint32_t kind);
struct proc *sym_proc(struct symbolizer *s, uint32_t pid, bool create);
const struct mapping *sym_find_mapping(const struct proc *pr, uint64_t addr);

/* elfmod.c */
#define BUILD_ID_HEX_MAX (2 * 64 + 1)
/* A build-id's bytes (at most 64 of them) as lowercase hex in `out`; returns the length written. */
size_t build_id_hex(const void *bits, size_t n, char out[BUILD_ID_HEX_MAX]);
/* The build-id of a Dwfl module in hex ("" when it has none); returns the length. */
size_t module_build_id_hex(Dwfl_Module *dm, char out[BUILD_ID_HEX_MAX]);
int elfmod_init_dwfl(struct symbolizer *s);
/* The module of a file-backed or vdso mapping, opened on first use; NULL for none. */
struct elfmod *elfmod_for_mapping(struct symbolizer *s, const struct proc *pr, struct mapping *m);
/* File offset -> ELF virtual address; false when no PT_LOAD covers it. */
bool elfmod_off_to_vaddr(const struct elfmod *mod, uint64_t off, uint64_t *vaddr);
/* Symbolizes (cached) module address `key` (vaddr, or file offset for unusable modules). */
uint64_t elfmod_resolve(struct symbolizer *s, struct elfmod *mod, uint64_t key);
void elfmod_free(struct elfmod *mod);

/* unwind.c */
void unwinder_free(struct unwinder *uw);

#endif
