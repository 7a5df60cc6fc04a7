/*
 * Python stacks read from a running interpreter's memory, as py-spy does, without stopping it: the runtime
 * state (`_PyRuntime`), its interpreters and thread states, each thread's chain of _PyInterpreterFrame, and the
 * code objects they run (qualified name, file name, line from the location table). docs/runtimes.md lists the
 * structure offsets per version; CPython 3.11, 3.12 and 3.13 are read this way, other versions are refused
 * with a reason (later ones can be named through their `-X perf` maps instead).
 *
 * Everything read from the target is untrusted: every loop and length is bounded, every pointer is read with
 * process_vm_readv (or the caller's reader), and a torn read (the target runs meanwhile) yields a shorter
 * stack, never a crash. Library code: nothing is printed.
 */
#ifndef KILN_PYTHON_H
#define KILN_PYTHON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct err;

/* Reads `len` bytes of the target at `addr`; returns 0, or -1 when any byte cannot be read. */
typedef int (*py_read_fn)(void *ctx, uint64_t addr, void *buf, size_t len);

/* Structure offsets of one CPython version (bytes). */
struct py_offsets {
	unsigned major, minor;
	uint32_t runtime_interp_head;   /* _PyRuntimeState.interpreters.head */
	uint32_t interp_next;           /* PyInterpreterState.next */
	uint32_t interp_threads_head;   /* PyInterpreterState.threads.head */
	uint32_t tstate_next;           /* PyThreadState.next */
	bool has_cframe;                /* 3.11-3.12: the current frame is reached through PyThreadState.cframe */
	bool has_is_entry;              /* 3.11: frames carry is_entry; 3.12+: FRAME_OWNED_BY_CSTACK shims */
	uint32_t tstate_cframe;         /* PyThreadState.cframe, or .current_frame (3.13+) */
	uint32_t tstate_native_tid;     /* PyThreadState.native_thread_id */
	uint32_t cframe_current_frame;  /* _PyCFrame.current_frame */
	uint32_t frame_code;            /* _PyInterpreterFrame.f_code (3.13+: f_executable) */
	uint32_t frame_previous;        /* _PyInterpreterFrame.previous */
	uint32_t frame_prev_instr;      /* _PyInterpreterFrame.prev_instr (3.13+: instr_ptr) */
	uint32_t frame_is_entry;        /* _PyInterpreterFrame.is_entry */
	uint32_t frame_owner;           /* _PyInterpreterFrame.owner */
	uint32_t frame_size;            /* bytes read per frame */
	uint32_t code_type;             /* PyObject.ob_type */
	uint32_t code_filename, code_name, code_qualname, code_firstlineno, code_linetable;
	uint32_t code_adaptive;         /* PyCodeObject.co_code_adaptive */
	uint32_t code_size;             /* bytes read per code object header */
	uint32_t bytes_size, bytes_data; /* PyBytesObject.ob_size, ob_sval */
	uint32_t str_length, str_state, str_ascii_data, str_compact_data; /* PyASCIIObject, PyCompactUnicodeObject */
};

/* The offsets for CPython major.minor, or NULL when kiln cannot read that version's frames. */
const struct py_offsets *py_offsets_for(unsigned major, unsigned minor);

/*
 * The source line of the code unit `unit` (an index into co_code_adaptive) from a 3.11 location table
 * (co_linetable, Objects/locations.md). Returns the line, `firstlineno` when `unit` is negative or past the
 * table, or -1 when the instruction has no location. Bounded by `len`; any bytes are safe.
 */
int py311_line(const uint8_t *table, size_t len, int firstlineno, long unit);

/* One Python frame, innermost first. */
struct py_frame {
	uint64_t code;  /* PyCodeObject address, the key for py_code_get() */
	long unit;      /* code unit index of the current instruction, -1 when unknown */
	bool entry;     /* the outermost frame of one _PyEval_EvalFrameDefault call */
};

/* A process's view: where its runtime is and how to read it. */
struct py_target {
	const struct py_offsets *off;
	uint64_t runtime;     /* address of _PyRuntime */
	uint64_t code_type;   /* address of PyCode_Type (0: not checked) */
	py_read_fn read;
	void *ctx;
};

/*
 * Walks the frames of the thread whose native id is `tid` (any thread when tid is 0) into `out`, innermost
 * first; at most `max`. `*tstate_hint` caches the thread state's address between calls (start with 0).
 * Returns the number of frames, 0 when the thread runs no Python code or cannot be read.
 */
size_t py_walk(const struct py_target *t, uint32_t tid, uint64_t *tstate_hint, struct py_frame *out, size_t max);

/* What a code object names. Strings are UTF-8, NUL-terminated, owned by the struct. */
struct py_code {
	char *qualname;
	char *filename;
	int firstlineno;
	uint8_t *linetable;
	size_t linetable_len;
	/* identity, for telling a reused address apart */
	uint64_t qualname_ptr, filename_ptr, linetable_ptr;
};

/* Reads the code object at `addr`. Returns 0, or -1 when it is not readable or not a code object. */
int py_code_read(const struct py_target *t, uint64_t addr, struct py_code *out);
/* Checks that the code object at `addr` still is the one `c` describes (a cheap header read). */
bool py_code_same(const struct py_target *t, uint64_t addr, const struct py_code *c);
void py_code_release(struct py_code *c);

/*
 * A live Python process: finds the interpreter binary or libpython in /proc/PID/maps, reads its version
 * (Py_Version) and the addresses of _PyRuntime, PyCode_Type and _PyEval_EvalFrameDefault from its ELF
 * symbols, and reads memory with process_vm_readv. Returns NULL with `e` set ("not a Python process",
 * "unsupported Python 3.9", ...). `*major` and `*minor` receive the version found, when any (may be NULL).
 */
struct py_process *py_process_open(uint32_t pid, unsigned *major, unsigned *minor, struct err *e);
void py_process_free(struct py_process *p); /* NULL is a no-op */
const struct py_target *py_process_target(const struct py_process *p);
/* Whether `addr` lies in _PyEval_EvalFrameDefault of this process. */
bool py_process_in_eval(const struct py_process *p, uint64_t addr);
/* Whether the interpreter keeps frame pointers (its evaluator's prologue sets up %rbp): without them a frame
 * pointer walk of its native stack is unreliable past the sampled function. */
bool py_process_has_fp(const struct py_process *p);

/* The Python version of an interpreter binary or libpython file from its ELF symbols (Py_Version) or name.
 * Returns 0 with *major and *minor set, or -1. */
int py_binary_version(const char *path, unsigned *major, unsigned *minor);

#endif
