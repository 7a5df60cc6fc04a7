/* Python frames from a running interpreter's memory: offsets, frame walk, code objects (see python.h). */
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "../core/err.h"
#include "../core/xalloc.h"
#include "python.h"
#include "rt_hints.h"

#define MAX_THREADS 4096        /* thread states walked per interpreter */
#define MAX_INTERPS 64
#define MAX_STR 4096            /* bytes of a name or file name */
#define MAX_LINETABLE (1 << 20) /* bytes of a location table */
#define MAX_FRAME_STEPS 4096    /* frames visited per walk */

/*
 * CPython 3.11 (3.11.0 - 3.11.x keep these: the struct layouts are frozen within a minor release). Measured
 * with offsetof() against Debian's python3.11-dev internal headers (Py_BUILD_CORE) on x86_64.
 */
static const struct py_offsets py311 = {
	.major = 3, .minor = 11,
	.has_cframe = true,
	.has_is_entry = true,
	.runtime_interp_head = 40,
	.interp_next = 0,
	.interp_threads_head = 16,
	.tstate_next = 8,
	.tstate_cframe = 56,
	.tstate_native_tid = 160,
	.cframe_current_frame = 8,
	.frame_code = 32,
	.frame_previous = 48,
	.frame_prev_instr = 56,
	.frame_is_entry = 68,
	.frame_owner = 69,
	.frame_size = 72,
	.code_type = 8,
	.code_filename = 112,
	.code_name = 120,
	.code_qualname = 128,
	.code_firstlineno = 72,
	.code_linetable = 136,
	.code_adaptive = 184,
	.code_size = 184,
	.bytes_size = 16,
	.bytes_data = 32,
	.str_length = 16,
	.str_state = 32,
	.str_ascii_data = 48,
	.str_compact_data = 72,
};

/* CPython 3.12 (measured against pyenv's 3.12.1 headers): no is_entry, strings lost their wstr fields. */
static const struct py_offsets py312 = {
	.major = 3, .minor = 12,
	.has_cframe = true,
	.runtime_interp_head = 40,
	.interp_next = 0,
	.interp_threads_head = 72,
	.tstate_next = 8,
	.tstate_cframe = 56,
	.tstate_native_tid = 144,
	.cframe_current_frame = 0,
	.frame_code = 0,
	.frame_previous = 8,
	.frame_prev_instr = 56,
	.frame_owner = 70,
	.frame_size = 72,
	.code_type = 8,
	.code_filename = 112,
	.code_name = 120,
	.code_qualname = 128,
	.code_firstlineno = 68,
	.code_linetable = 136,
	.code_adaptive = 192,
	.code_size = 192,
	.bytes_size = 16,
	.bytes_data = 32,
	.str_length = 16,
	.str_state = 32,
	.str_ascii_data = 40,
	.str_compact_data = 56,
};

/* CPython 3.13 (measured against pyenv's 3.13.0 headers, default build without free threading). */
static const struct py_offsets py313 = {
	.major = 3, .minor = 13,
	.runtime_interp_head = 632,
	.interp_next = 7264,
	.interp_threads_head = 7344,
	.tstate_next = 8,
	.tstate_cframe = 72, /* current_frame */
	.tstate_native_tid = 160,
	.frame_code = 0,
	.frame_previous = 8,
	.frame_prev_instr = 56,
	.frame_owner = 70,
	.frame_size = 72,
	.code_type = 8,
	.code_filename = 112,
	.code_name = 120,
	.code_qualname = 128,
	.code_firstlineno = 68,
	.code_linetable = 136,
	.code_adaptive = 200,
	.code_size = 200,
	.bytes_size = 16,
	.bytes_data = 32,
	.str_length = 16,
	.str_state = 32,
	.str_ascii_data = 40,
	.str_compact_data = 56,
};

const struct py_offsets *py_offsets_for(unsigned major, unsigned minor)
{
	if (major != 3)
		return NULL;
	if (minor == 11)
		return &py311;
	if (minor == 12)
		return &py312;
	if (minor == 13)
		return &py313;
	return NULL;
}

/* 6-bit varint of the location table: bit 6 continues. Returns false at the end of the table. */
static bool read_varint(const uint8_t *t, size_t len, size_t *i, unsigned long *out)
{
	unsigned long v = 0;
	unsigned shift = 0;
	for (;;) {
		if (*i >= len || shift > 48)
			return false;
		uint8_t b = t[(*i)++];
		v |= (unsigned long)(b & 63) << shift;
		shift += 6;
		if (!(b & 64))
			break;
	}
	*out = v;
	return true;
}

static bool read_svarint(const uint8_t *t, size_t len, size_t *i, long *out)
{
	unsigned long u;
	if (!read_varint(t, len, i, &u))
		return false;
	*out = (u & 1) ? -(long)(u >> 1) : (long)(u >> 1);
	return true;
}

int py311_line(const uint8_t *table, size_t len, int firstlineno, long unit)
{
	size_t i = 0;
	long line = firstlineno, addr = 0;

	if (unit < 0)
		return firstlineno;
	while (i < len) {
		uint8_t first = table[i++];
		if (!(first & 128))
			return firstlineno; /* not the start of an entry: a corrupt table */
		int code = (first >> 3) & 15;
		long n = (first & 7) + 1, delta = 0;
		bool none = false;
		switch (code) {
		case 15: /* no location */
			none = true;
			break;
		case 14: { /* long form: line delta, end line delta, start column, end column */
			unsigned long skip;
			if (!read_svarint(table, len, &i, &delta) || !read_varint(table, len, &i, &skip) ||
			    !read_varint(table, len, &i, &skip) || !read_varint(table, len, &i, &skip))
				return firstlineno;
			break;
		}
		case 13: /* no column */
			if (!read_svarint(table, len, &i, &delta))
				return firstlineno;
			break;
		case 10:
		case 11:
		case 12: /* one line: delta 0-2, start and end column bytes */
			delta = code - 10;
			i += 2;
			break;
		default: /* short form: same line, one column byte */
			i += 1;
			break;
		}
		line += delta;
		if (line < -(1L << 30) || line > (1L << 30))
			return firstlineno;
		if (unit < addr + n)
			return none ? -1 : (int)line;
		addr += n;
	}
	return firstlineno;
}

static int rd(const struct py_target *t, uint64_t addr, void *buf, size_t len)
{
	if (!addr || addr + len < addr)
		return -1;
	return t->read(t->ctx, addr, buf, len);
}

static uint64_t u64at(const unsigned char *b, uint32_t off)
{
	uint64_t v;
	memcpy(&v, b + off, sizeof(v));
	return v;
}

static uint64_t rd_ptr(const struct py_target *t, uint64_t addr)
{
	uint64_t v = 0;
	if (rd(t, addr, &v, sizeof(v)) < 0)
		return 0;
	return v;
}

/* The thread state of native thread `tid` (or the first one with a frame when tid is 0), or 0. */
static uint64_t find_tstate(const struct py_target *t, uint32_t tid)
{
	const struct py_offsets *o = t->off;
	uint64_t interp = rd_ptr(t, t->runtime + o->runtime_interp_head);
	for (int ni = 0; interp && ni < MAX_INTERPS; ni++) {
		uint64_t ts = rd_ptr(t, interp + o->interp_threads_head);
		for (int nt = 0; ts && nt < MAX_THREADS; nt++) {
			uint64_t ntid = 0;
			if (rd(t, ts + o->tstate_native_tid, &ntid, sizeof(ntid)) < 0)
				break;
			if (tid ? (uint32_t)ntid == tid : rd_ptr(t, ts + o->tstate_cframe) != 0)
				return ts;
			uint64_t next = rd_ptr(t, ts + o->tstate_next);
			if (next == ts)
				break;
			ts = next;
		}
		uint64_t next = rd_ptr(t, interp + o->interp_next);
		if (next == interp)
			break;
		interp = next;
	}
	return 0;
}

size_t py_walk(const struct py_target *t, uint32_t tid, uint64_t *tstate_hint, struct py_frame *out, size_t max)
{
	const struct py_offsets *o = t->off;
	unsigned char fb[128];
	uint64_t ts = tstate_hint ? *tstate_hint : 0;
	size_t n = 0;

	if (!o || o->frame_size > sizeof(fb))
		return 0;
	if (ts) {
		uint64_t ntid = 0;
		if (rd(t, ts + o->tstate_native_tid, &ntid, sizeof(ntid)) < 0 || (tid && (uint32_t)ntid != tid))
			ts = 0;
	}
	if (!ts)
		ts = find_tstate(t, tid);
	if (tstate_hint)
		*tstate_hint = ts;
	if (!ts)
		return 0;
	uint64_t frame;
	if (o->has_cframe) {
		uint64_t cframe = rd_ptr(t, ts + o->tstate_cframe);
		frame = cframe ? rd_ptr(t, cframe + o->cframe_current_frame) : 0;
	} else {
		frame = rd_ptr(t, ts + o->tstate_cframe);
	}
	/* Frames without code are skipped, so the output alone does not bound a cycle: the steps do. */
	for (size_t steps = 0; frame && n < max && steps < MAX_FRAME_STEPS; steps++) {
		if (rd(t, frame, fb, o->frame_size) < 0)
			break;
		uint64_t code = u64at(fb, o->frame_code);
		uint64_t prev_instr = u64at(fb, o->frame_prev_instr);
		struct py_frame *f = &out[n];
		if (!o->has_is_entry && fb[o->frame_owner] == 3 /* FRAME_OWNED_BY_CSTACK */) {
			/* 3.12+: the shim an evaluator call pushes below its first frame, which is its entry. */
			if (n)
				out[n - 1].entry = true;
			code = 0;
		}
		f->code = code;
		f->entry = o->has_is_entry && fb[o->frame_is_entry] != 0;
		/* prev_instr is the code unit before the next instruction: its index is the current one's. */
		uint64_t base = code + o->code_adaptive;
		f->unit = prev_instr >= base && prev_instr - base < (1ULL << 32) ? (long)((prev_instr - base) / 2) : -1;
		/* 3.11's owner 3 is FRAME_OWNED_BY_CSTACK in 3.12; in 3.11 every frame on the chain runs code. */
		if (code)
			n++;
		else
			f->entry = false;
		uint64_t prev = u64at(fb, o->frame_previous);
		if (prev == frame)
			break;
		frame = prev;
	}
	return n;
}

/* Reads a str object as UTF-8 (compact ASCII, Latin-1, UCS-2 and UCS-4 forms). */
static char *read_str(const struct py_target *t, uint64_t addr)
{
	const struct py_offsets *o = t->off;
	unsigned char hdr[80];
	if (!addr || rd(t, addr, hdr, o->str_compact_data) < 0)
		return NULL;
	uint64_t len = u64at(hdr, o->str_length);
	uint32_t state;
	memcpy(&state, hdr + o->str_state, sizeof(state));
	unsigned kind = (state >> 2) & 7, compact = (state >> 5) & 1, ascii = (state >> 6) & 1;
	if (!compact || len > MAX_STR || (kind != 1 && kind != 2 && kind != 4))
		return NULL;
	uint64_t data = addr + (ascii ? o->str_ascii_data : o->str_compact_data);
	unsigned char *raw = xmalloc(len * kind + 1);
	if (len && rd(t, data, raw, len * kind) < 0) {
		free(raw);
		return NULL;
	}
	if (ascii) {
		for (uint64_t i = 0; i < len; i++)
			if (!raw[i] || raw[i] >= 128)
				raw[i] = '?';
		raw[len] = 0;
		return (char *)raw;
	}
	char *s = xmalloc(len * 4 + 1), *p = s;
	for (uint64_t i = 0; i < len; i++) {
		uint32_t c = kind == 1 ? raw[i] : kind == 2 ? (uint32_t)(raw[2 * i] | raw[2 * i + 1] << 8)
						     : (uint32_t)raw[4 * i] | (uint32_t)raw[4 * i + 1] << 8 |
							       (uint32_t)raw[4 * i + 2] << 16 | (uint32_t)raw[4 * i + 3] << 24;
		if (!c || c > 0x10ffff || (c >= 0xd800 && c < 0xe000))
			c = '?';
		if (c < 0x80) {
			*p++ = (char)c;
		} else if (c < 0x800) {
			*p++ = (char)(0xc0 | c >> 6);
			*p++ = (char)(0x80 | (c & 63));
		} else if (c < 0x10000) {
			*p++ = (char)(0xe0 | c >> 12);
			*p++ = (char)(0x80 | ((c >> 6) & 63));
			*p++ = (char)(0x80 | (c & 63));
		} else {
			*p++ = (char)(0xf0 | c >> 18);
			*p++ = (char)(0x80 | ((c >> 12) & 63));
			*p++ = (char)(0x80 | ((c >> 6) & 63));
			*p++ = (char)(0x80 | (c & 63));
		}
	}
	*p = 0;
	free(raw);
	return s;
}

static int read_code_header(const struct py_target *t, uint64_t addr, unsigned char *hb, size_t hbsize)
{
	const struct py_offsets *o = t->off;
	if (!o || o->code_size > hbsize || rd(t, addr, hb, o->code_size) < 0)
		return -1;
	if (t->code_type && u64at(hb, o->code_type) != t->code_type)
		return -1;
	return 0;
}

int py_code_read(const struct py_target *t, uint64_t addr, struct py_code *out)
{
	const struct py_offsets *o = t->off;
	unsigned char hb[256];
	memset(out, 0, sizeof(*out));
	if (read_code_header(t, addr, hb, sizeof(hb)) < 0)
		return -1;
	int32_t first;
	memcpy(&first, hb + o->code_firstlineno, sizeof(first));
	out->firstlineno = first;
	out->qualname_ptr = u64at(hb, o->code_qualname);
	out->filename_ptr = u64at(hb, o->code_filename);
	out->linetable_ptr = u64at(hb, o->code_linetable);
	out->qualname = read_str(t, out->qualname_ptr);
	if (!out->qualname)
		out->qualname = read_str(t, u64at(hb, o->code_name));
	out->filename = read_str(t, out->filename_ptr);
	if (!out->qualname) {
		py_code_release(out);
		return -1;
	}
	uint64_t lt = out->linetable_ptr, size = 0;
	if (lt && rd(t, lt + o->bytes_size, &size, sizeof(size)) == 0 && size && size <= MAX_LINETABLE) {
		out->linetable = xmalloc(size);
		if (rd(t, lt + o->bytes_data, out->linetable, size) == 0) {
			out->linetable_len = size;
		} else {
			free(out->linetable);
			out->linetable = NULL;
		}
	}
	return 0;
}

bool py_code_same(const struct py_target *t, uint64_t addr, const struct py_code *c)
{
	const struct py_offsets *o = t->off;
	unsigned char hb[256];
	if (read_code_header(t, addr, hb, sizeof(hb)) < 0)
		return false;
	int32_t first;
	memcpy(&first, hb + o->code_firstlineno, sizeof(first));
	return first == c->firstlineno && u64at(hb, o->code_qualname) == c->qualname_ptr &&
	       u64at(hb, o->code_filename) == c->filename_ptr && u64at(hb, o->code_linetable) == c->linetable_ptr;
}

void py_code_release(struct py_code *c)
{
	free(c->qualname);
	free(c->filename);
	free(c->linetable);
	memset(c, 0, sizeof(*c));
}

/* The live process. */

struct py_process {
	uint32_t pid;
	struct py_target t;
	uint64_t eval_start, eval_end;
	bool fp;
};

static int vm_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	const struct py_process *p = ctx;
	struct iovec local = { buf, len }, remote = { (void *)(uintptr_t)addr, len };
	ssize_t n = process_vm_readv((pid_t)p->pid, &local, 1, &remote, 1, 0);
	return n == (ssize_t)len ? 0 : -1;
}

struct elf_syms {
	uint64_t runtime, code_type, eval, eval_size, version;
	bool have_version;
	uint32_t version_value; /* Py_Version read from the file */
	bool pie;
	uint64_t min_vaddr;
};

/* Reads a u32 at virtual address `va` from the file's sections. */
static bool elf_read_u32(Elf *elf, uint64_t va, uint32_t *out)
{
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS || !(sh.sh_flags & SHF_ALLOC))
			continue;
		if (va < sh.sh_addr || va + 4 > sh.sh_addr + sh.sh_size)
			continue;
		Elf_Data *d = elf_getdata(scn, NULL);
		if (!d || !d->d_buf || va - sh.sh_addr + 4 > d->d_size)
			return false;
		memcpy(out, (const char *)d->d_buf + (va - sh.sh_addr), 4);
		return true;
	}
	return false;
}

static int elf_lookup(const char *path, struct elf_syms *out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	Elf *elf = NULL;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	if (fd < 0)
		return -1;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	GElf_Ehdr eh;
	if (!elf || !gelf_getehdr(elf, &eh))
		goto out;
	out->pie = eh.e_type == ET_DYN;
	out->min_vaddr = UINT64_MAX;
	size_t nph = 0;
	elf_getphdrnum(elf, &nph);
	for (size_t i = 0; i < nph; i++) {
		GElf_Phdr ph;
		if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_LOAD && ph.p_vaddr < out->min_vaddr &&
		    ph.p_offset == 0)
			out->min_vaddr = ph.p_vaddr;
	}
	if (out->min_vaddr == UINT64_MAX)
		out->min_vaddr = 0;
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || (sh.sh_type != SHT_DYNSYM && sh.sh_type != SHT_SYMTAB) ||
		    !sh.sh_entsize)
			continue;
		Elf_Data *d = elf_getdata(scn, NULL);
		size_t n = d ? d->d_size / sh.sh_entsize : 0;
		for (size_t i = 0; i < n; i++) {
			GElf_Sym sym;
			if (!gelf_getsym(d, (int)i, &sym) || !sym.st_value || sym.st_shndx == SHN_UNDEF)
				continue;
			const char *name = elf_strptr(elf, sh.sh_link, sym.st_name);
			if (!name || (name[0] != '_' && name[0] != 'P'))
				continue;
			if (!strcmp(name, "_PyRuntime"))
				out->runtime = sym.st_value;
			else if (!strcmp(name, "PyCode_Type"))
				out->code_type = sym.st_value;
			else if (!strcmp(name, "_PyEval_EvalFrameDefault"))
				out->eval = sym.st_value, out->eval_size = sym.st_size;
			else if (!strcmp(name, "Py_Version"))
				out->version = sym.st_value;
		}
	}
	if (out->version)
		out->have_version = elf_read_u32(elf, out->version, &out->version_value);
	ret = 0;
out:
	if (elf)
		elf_end(elf);
	close(fd);
	return ret;
}

/* "python3.11", "libpython3.11.so.1.0", "python3.11d" -> 3, 11. */
static int version_from_name(const char *path, unsigned *major, unsigned *minor)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	const char *p = strstr(base, "python");
	if (!p)
		return -1;
	unsigned a, b;
	if (sscanf(p, "python%u.%u", &a, &b) != 2)
		return -1;
	*major = a;
	*minor = b;
	return 0;
}

int py_binary_version(const char *path, unsigned *major, unsigned *minor)
{
	struct elf_syms es;
	if (elf_lookup(path, &es) == 0 && es.have_version) {
		*major = (es.version_value >> 24) & 255;
		*minor = (es.version_value >> 16) & 255;
		return 0;
	}
	return version_from_name(path, major, minor);
}

struct py_process *py_process_open(uint32_t pid, unsigned *major, unsigned *minor, struct err *e)
{
	char path[64], line[4096];
	struct py_process *p = NULL;
	FILE *f;
	bool found = false;

	snprintf(path, sizeof(path), "/proc/%" PRIu32 "/maps", pid);
	f = fopen(path, "r");
	if (!f) {
		err_errno(e, "cannot read '%s'", path);
		return NULL;
	}
	char *seen = NULL;
	while (!found && fgets(line, sizeof(line), f)) {
		unsigned long long start, end, off;
		int n = 0;
		if (sscanf(line, "%llx-%llx %*s %llx %*s %*s%n", &start, &end, &off, &n) < 3 || !n || off)
			continue;
		const char *file = line + n;
		while (*file == ' ')
			file++;
		size_t len = strcspn(file, "\n");
		if (!len || file[0] != '/')
			continue;
		char *fpath = xstrndup(file, len);
		const char *base = strrchr(fpath, '/') + 1;
		/* The interpreter itself or libpython: a statically linked python has _PyRuntime in the binary. */
		if (!strstr(base, "python") || (seen && !strcmp(seen, fpath))) {
			free(fpath);
			continue;
		}
		free(seen);
		seen = fpath;
		char *rpath = xasprintf("/proc/%" PRIu32 "/root%s", pid, fpath);
		struct elf_syms es;
		int r = elf_lookup(rpath, &es);
		if (r < 0)
			r = elf_lookup(fpath, &es);
		free(rpath);
		if (r < 0 || !es.runtime)
			continue;
		unsigned ma = 0, mi = 0;
		if (es.have_version) {
			ma = (es.version_value >> 24) & 255;
			mi = (es.version_value >> 16) & 255;
		} else if (version_from_name(fpath, &ma, &mi) < 0) {
			ma = mi = 0;
		}
		if (major)
			*major = ma;
		if (minor)
			*minor = mi;
		found = true;
		const struct py_offsets *o = py_offsets_for(ma, mi);
		if (!o) {
			if (ma)
				err_set(e, "cannot read the frames of Python %u.%u in process %" PRIu32 " (%s)", ma, mi,
					pid, rt_python_version_hint(ma, mi));
			else
				err_set(e, "cannot tell the Python version of '%s'", fpath);
			break;
		}
		uint64_t bias = es.pie ? start - es.min_vaddr : 0;
		p = xcalloc(1, sizeof(*p));
		p->pid = pid;
		p->t.off = o;
		p->t.runtime = es.runtime + bias;
		p->t.code_type = es.code_type ? es.code_type + bias : 0;
		p->t.read = vm_read;
		p->t.ctx = p;
		if (es.eval) {
			p->eval_start = es.eval + bias;
			p->eval_end = p->eval_start + (es.eval_size ? es.eval_size : 1);
			/* push %rbp; mov %rsp,%rbp, possibly after endbr64 */
			unsigned char pro[8];
			if (vm_read(p, p->eval_start, pro, sizeof(pro)) == 0) {
				const unsigned char *q = pro[0] == 0xf3 && pro[1] == 0x0f && pro[2] == 0x1e ? pro + 4 : pro;
				p->fp = q[0] == 0x55 && q[1] == 0x48 && q[2] == 0x89 && q[3] == 0xe5;
			}
		}
	}
	free(seen);
	fclose(f);
	if (!found)
		err_set(e, "process %" PRIu32 " is not a Python interpreter (no _PyRuntime symbol)", pid);
	return p;
}

void py_process_free(struct py_process *p)
{
	free(p);
}

const struct py_target *py_process_target(const struct py_process *p)
{
	return &p->t;
}

bool py_process_in_eval(const struct py_process *p, uint64_t addr)
{
	return addr >= p->eval_start && addr < p->eval_end;
}

bool py_process_has_fp(const struct py_process *p)
{
	return p->fp;
}
