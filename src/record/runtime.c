/* Language runtimes for kiln profile: detection, launch environment, session hooks (see runtime.h). */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../core/array.h"
#include "../core/clock.h"
#include "../core/err.h"
#include "../core/hash.h"
#include "../core/xalloc.h"
#include "../profile/profile.h"
#include "lang_detect.h"
#include "lang_go.h"
#include "python.h"
#include "runtime.h"
#include "session.h"

#define MAX_PY_FRAMES 256
#define PY_RETRY_NS 10000000ULL /* a process that was not (yet) Python is looked at again after this, doubling */
#define MAX_PIDS_TRACKED 65536

/* What is known of one sampled process. */
struct rt_proc {
	uint32_t pid;
	struct py_process *py;      /* NULL: not a readable Python process (yet) */
	uint64_t retry_ns;          /* when to look again */
	unsigned tries;             /* looks so far: the wait doubles each time */
	bool noted;                 /* a note about it was given */
	struct u64map tstates;      /* tid -> thread state address */
	struct py_code *codes;      /* code objects seen */
	size_t codes_nr, codes_alloc;
	bool jcmd;                  /* kiln asked this JVM for its perf map */
	struct u64map code_index;   /* code address -> index + 1 */
};

struct runtime {
	enum rt_lang asked, lang;
	bool launched;
	char *interp;               /* the interpreter path found by detection, if any */
	char **argv;                /* the command with the runtime's options added, or NULL */
	char *go_tmp;               /* GOTMPDIR kiln made for `go test`/`go run` (their binaries are kept) */
	uint64_t start_epoch;       /* seconds: perf maps older than this were not written for kiln */

	struct rt_proc *procs;
	size_t procs_nr, procs_alloc;
	struct u64map proc_index;   /* pid -> index */

	struct strtab pyframes;     /* "qualname\0file\0line" -> pseudo address id */
	struct u64map fid_map;      /* resolved frame id -> rewritten frame id + 1 */
	struct u64map go_modules;   /* module string id -> index in go_tabs */
	struct go_pcln **go_tabs;   /* NULL: not a Go program */
	size_t go_tabs_nr, go_tabs_alloc;

	char **notes;
	size_t notes_nr, notes_alloc;
	struct runtime_stats st;
	bool py_read;               /* some process's Python frames are read from memory */

	struct py_frame pyf[MAX_PY_FRAMES];
	uint64_t tmp[1024];
};

static const char *const lang_names[] = { "auto", "native", "python", "node", "java", "go" };

int rt_lang_parse(const char *name, enum rt_lang *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(lang_names); i++)
		if (!strcmp(name, lang_names[i])) {
			*out = (enum rt_lang)i;
			return 0;
		}
	if (!strcmp(name, "nodejs") || !strcmp(name, "js") || !strcmp(name, "javascript"))
		return *out = RT_NODE, 0;
	if (!strcmp(name, "golang"))
		return *out = RT_GO, 0;
	if (!strcmp(name, "c") || !strcmp(name, "c++") || !strcmp(name, "rust"))
		return *out = RT_NATIVE, 0;
	return -1;
}

const char *rt_lang_name(enum rt_lang lang)
{
	return (unsigned)lang < ARRAY_SIZE(lang_names) ? lang_names[lang] : "native";
}

enum rt_lang rt_detect_command(const char *argv0)
{
	struct lang_guess g;
	lang_guess_command(argv0, &g);
	free(g.interp);
	return g.lang;
}

enum rt_lang rt_detect_pid(uint32_t pid)
{
	char path[64];
	struct lang_guess g;
	snprintf(path, sizeof(path), "/proc/%" PRIu32 "/exe", pid);
	lang_guess_file(path, &g);
	free(g.interp);
	return g.lang;
}

static bool python_wanted(const struct runtime *rt)
{
	return rt->lang == RT_PYTHON || rt->asked == RT_AUTO;
}

static void add_note(struct runtime *rt, char *msg)
{
	for (size_t i = 0; i < rt->notes_nr; i++)
		if (!strcmp(rt->notes[i], msg)) {
			free(msg);
			return;
		}
	ALLOC_GROW(rt->notes, rt->notes_nr + 2, rt->notes_alloc);
	rt->notes[rt->notes_nr++] = msg;
	rt->notes[rt->notes_nr] = NULL;
}

struct runtime *runtime_new(enum rt_lang lang, bool launched)
{
	struct runtime *rt = xcalloc(1, sizeof(*rt));
	rt->asked = rt->lang = lang;
	rt->launched = launched;
	rt->start_epoch = (uint64_t)time(NULL);
	strtab_intern(&rt->pyframes, "", 0);
	ALLOC_GROW(rt->notes, 1, rt->notes_alloc);
	rt->notes[0] = NULL;
	return rt;
}

static void proc_release(struct rt_proc *pr)
{
	py_process_free(pr->py);
	u64map_release(&pr->tstates);
	for (size_t i = 0; i < pr->codes_nr; i++)
		py_code_release(&pr->codes[i]);
	free(pr->codes);
	u64map_release(&pr->code_index);
}

void runtime_free(struct runtime *rt)
{
	if (!rt)
		return;
	for (size_t i = 0; i < rt->procs_nr; i++)
		proc_release(&rt->procs[i]);
	free(rt->procs);
	u64map_release(&rt->proc_index);
	strtab_release(&rt->pyframes);
	u64map_release(&rt->fid_map);
	u64map_release(&rt->go_modules);
	for (size_t i = 0; i < rt->go_tabs_nr; i++)
		go_pcln_free(rt->go_tabs[i]);
	free(rt->go_tabs);
	for (size_t i = 0; i < rt->notes_nr; i++)
		free(rt->notes[i]);
	free(rt->notes);
	free(rt->interp);
	free(rt->go_tmp);
	free(rt->argv);
	free(rt);
}

enum rt_lang runtime_lang(const struct runtime *rt)
{
	return rt->lang;
}

const char *const *runtime_notes(const struct runtime *rt)
{
	return (const char *const *)rt->notes;
}

unsigned runtime_wakeup_events(const struct runtime *rt)
{
	return python_wanted(rt) && rt->lang == RT_PYTHON ? 1 : 0;
}

void runtime_get_stats(const struct runtime *rt, struct runtime_stats *st)
{
	*st = rt->st;
}

/* Appends `opts` to environment variable `name` (space-separated), unless it holds them already. */
static int env_append(const char *name, const char *opts, struct err *e)
{
	const char *old = getenv(name);
	if (old && strstr(old, opts))
		return 0;
	char *v = old && *old ? xasprintf("%s %s", old, opts) : xstrdup(opts);
	int r = setenv(name, v, 1);
	free(v);
	if (r < 0)
		return err_errno(e, "cannot set %s", name);
	return 0;
}

int runtime_prepare_launch(struct runtime *rt, char *const *argv, struct err *e)
{
	struct lang_guess g = { 0 };
	if (argv && argv[0])
		lang_guess_command(argv[0], &g);
	if (rt->asked == RT_AUTO)
		rt->lang = g.lang;
	free(rt->interp);
	rt->interp = g.interp;

	switch (rt->lang) {
	case RT_NODE:
		/* Interpreted functions get their own trampoline copy, so they are named too, not only JIT code. */
		return env_append("NODE_OPTIONS", "--perf-basic-prof --interpreted-frames-native-stack", e);
	case RT_JAVA: {
		/* Frame pointers through JIT code, and the JIT's symbol map written when the JVM exits. */
		static const char *const jopts[] = { "-XX:+PreserveFramePointer", "-XX:+UnlockDiagnosticVMOptions",
						     "-XX:+DumpPerfMapAtExit" };
		if (lang_by_name(argv[0]) == RT_JAVA && g.interp) {
			/* The java launcher itself: options on its command line, where the JVM does not announce
			 * them on stderr as it does for JAVA_TOOL_OPTIONS. */
			size_t n = 0;
			while (argv[n])
				n++;
			rt->argv = xcalloc(n + ARRAY_SIZE(jopts) + 1, sizeof(*rt->argv));
			rt->argv[0] = argv[0];
			for (size_t i = 0; i < ARRAY_SIZE(jopts); i++)
				rt->argv[1 + i] = (char *)jopts[i];
			for (size_t i = 1; i < n; i++)
				rt->argv[ARRAY_SIZE(jopts) + i] = argv[i];
			return 0;
		}
		return env_append("JAVA_TOOL_OPTIONS",
				  "-XX:+PreserveFramePointer -XX:+UnlockDiagnosticVMOptions -XX:+DumpPerfMapAtExit", e);
	}
	case RT_PYTHON:
		/* 3.12+ then write a perf map of their trampolines (older versions ignore the variable); 3.11 is read
		 * from memory. The interpreter may hide behind a wrapper (pyenv), so its version is not asked. */
		if (setenv("PYTHONPERFSUPPORT", "1", 1) < 0)
			return err_errno(e, "cannot set PYTHONPERFSUPPORT");
		return 0;
	case RT_GO: {
		const char *base = strrchr(argv[0], '/');
		base = base ? base + 1 : argv[0];
		if (strcmp(base, "go"))
			return 0;
		/*
		 * `go test` and `go run` delete the binary they ran before kiln names its addresses: -work keeps
		 * it, in a temporary directory of kiln's own that runtime_cleanup() removes.
		 */
		char tmpl[] = "/tmp/kiln-go-XXXXXX";
		if (!mkdtemp(tmpl))
			return err_errno(e, "cannot create a temporary directory");
		rt->go_tmp = xstrdup(tmpl);
		if (setenv("GOTMPDIR", tmpl, 1) < 0)
			return err_errno(e, "cannot set GOTMPDIR");
		return env_append("GOFLAGS", "-work", e);
	}
	default:
		return 0;
	}
}

char *const *runtime_launch_argv(const struct runtime *rt, char *const *argv)
{
	return rt->argv ? rt->argv : argv;
}

void runtime_prepare_attach(struct runtime *rt, const uint32_t *pids, size_t npids)
{
	if (rt->asked != RT_AUTO || !npids)
		return;
	rt->lang = rt_detect_pid(pids[0]);
}

/* Python: frames of a sampled thread. */

static struct rt_proc *proc_get(struct runtime *rt, uint32_t pid)
{
	int inserted;
	uint64_t *slot = u64map_insert(&rt->proc_index, pid, &inserted);
	if (inserted) {
		if (rt->procs_nr >= MAX_PIDS_TRACKED) {
			*slot = UINT64_MAX;
			return NULL;
		}
		ALLOC_GROW(rt->procs, rt->procs_nr + 1, rt->procs_alloc);
		struct rt_proc *pr = &rt->procs[rt->procs_nr];
		memset(pr, 0, sizeof(*pr));
		pr->pid = pid;
		*slot = rt->procs_nr++;
	}
	return *slot == UINT64_MAX ? NULL : &rt->procs[*slot];
}

static struct py_process *proc_python(struct runtime *rt, struct rt_proc *pr)
{
	if (pr->py)
		return pr->py;
	uint64_t now = now_ns();
	if (pr->retry_ns && now < pr->retry_ns)
		return NULL;
	/* A shell may exec Python later in the same process: look again, less and less often. */
	pr->retry_ns = now + (PY_RETRY_NS << (pr->tries < 6 ? pr->tries : 6));
	pr->tries++;
	struct err e = ERR_INIT;
	unsigned ma = 0, mi = 0;
	pr->py = py_process_open(pr->pid, &ma, &mi, &e);
	if (pr->py)
		rt->py_read = true;
	if (pr->py && !runtime_wakeup_events(rt))
		add_note(rt, xasprintf("process %" PRIu32 " runs Python but the command was not detected as Python: "
				       "its frames were read late and are approximate (use --language python)",
				       pr->pid));
	if (!pr->py && ma && !pr->noted) {
		/* A Python we cannot read: say so once; 3.12+ launched by kiln are named through their perf maps. */
		bool perf_named = rt->launched && (ma > 3 || (ma == 3 && mi >= 12));
		if (!perf_named) {
			add_note(rt, xasprintf("%s: Python frames not shown, native stacks only", e.msg));
			pr->noted = true;
		}
		pr->retry_ns = UINT64_MAX; /* the version will not change */
	}
	return pr->py;
}

/* The code object at `addr` in `pr`, read once and re-validated on each use (addresses are reused). */
static const struct py_code *proc_code(struct rt_proc *pr, uint64_t addr)
{
	const struct py_target *t = py_process_target(pr->py);
	int inserted;
	uint64_t *slot = u64map_insert(&pr->code_index, addr, &inserted);
	if (!inserted) {
		struct py_code *c = &pr->codes[*slot];
		if (py_code_same(t, addr, c))
			return c;
		struct py_code fresh;
		if (py_code_read(t, addr, &fresh) < 0)
			return NULL;
		py_code_release(c);
		*c = fresh;
		return c;
	}
	struct py_code c;
	if (py_code_read(t, addr, &c) < 0) {
		/* An entry that never matches: a frame being set up may point at a code object not yet readable. */
		memset(&c, 0, sizeof(c));
		c.firstlineno = INT_MIN;
	}
	ALLOC_GROW(pr->codes, pr->codes_nr + 1, pr->codes_alloc);
	pr->codes[pr->codes_nr] = c;
	*slot = pr->codes_nr++;
	return c.qualname ? &pr->codes[*slot] : NULL;
}

/*
 * A pseudo address naming a function: its code object's (co_qualname, co_filename, co_firstlineno). That triple
 * is the function's identity, so the line is the first one, not the line being run: a frame with the running
 * line would split one function into many, and two functions of one name could only be told apart by chance.
 */
static uint64_t py_pseudo(struct runtime *rt, const struct py_code *c)
{
	char lbuf[16];
	int ln = snprintf(lbuf, sizeof(lbuf), "%d", c->firstlineno > 0 ? c->firstlineno : 0);
	size_t q = strlen(c->qualname), f = c->filename ? strlen(c->filename) : 0;
	char *key = xmalloc(q + f + (size_t)ln + 3);
	memcpy(key, c->qualname, q + 1);
	if (f)
		memcpy(key + q + 1, c->filename, f);
	key[q + 1 + f] = 0;
	memcpy(key + q + f + 2, lbuf, (size_t)ln + 1);
	uint32_t id = strtab_intern(&rt->pyframes, key, q + f + 2 + (size_t)ln);
	free(key);
	return REC_RUNTIME_TAG | id;
}

/*
 * Splices the Python frames of (pid, tid) into its native stack (leaf first): each _PyEval_EvalFrameDefault
 * becomes the run of Python frames it executes (those up to an entry frame). When the native stack holds
 * fewer evaluator frames than the Python stack has runs (frame pointers lost in an interpreter built without
 * them), the native frames past the last spliced run are unreliable: they are replaced by the remaining runs.
 */
static size_t hook_user_stack(void *ctx, uint32_t pid, uint32_t tid, uint64_t *addrs, size_t n, size_t max)
{
	struct runtime *rt = ctx;
	if (!python_wanted(rt) || !n)
		return n;
	struct rt_proc *pr = proc_get(rt, pid);
	if (!pr)
		return n;
	struct py_process *py = proc_python(rt, pr);
	if (!py)
		return n;
	int inserted;
	uint64_t *hint = u64map_insert(&pr->tstates, tid, &inserted);
	size_t npy = py_walk(py_process_target(py), tid, hint, rt->pyf, MAX_PY_FRAMES);
	if (!npy)
		return n;

	/* Pseudo addresses of the Python frames, innermost first. */
	uint64_t pseudo[MAX_PY_FRAMES];
	bool entry[MAX_PY_FRAMES];
	size_t np = 0;
	for (size_t i = 0; i < npy; i++) {
		const struct py_code *c = proc_code(pr, rt->pyf[i].code);
		if (!c) {
			/* An unreadable frame (torn by the running target) would misplace the rest. */
			break;
		}
		pseudo[np] = py_pseudo(rt, c);
		entry[np++] = rt->pyf[i].entry;
	}
	if (!np) {
		rt->st.py_failed++;
		return n;
	}

	uint64_t *out = rt->tmp;
	size_t cap = max < ARRAY_SIZE(rt->tmp) ? max : ARRAY_SIZE(rt->tmp);
	size_t o = 0, k = 0, last_spliced = 0;
	bool spliced = false;
	for (size_t i = 0; i < n && o < cap; i++) {
		if (k < np && py_process_in_eval(py, addrs[i])) {
			do {
				if (o < cap)
					out[o++] = pseudo[k];
			} while (!entry[k++] && k < np);
			last_spliced = o;
			spliced = true;
			continue;
		}
		out[o++] = addrs[i];
	}
	if (k < np) {
		/* Runs left over: the native stack broke. Keep what was reliable and add the rest. */
		o = spliced ? last_spliced : 1;
		while (k < np && o < cap)
			out[o++] = pseudo[k++];
	} else if (!py_process_has_fp(py)) {
		/* Past the outermost Python frame, frame pointers of an interpreter built without them lead nowhere
		 * meaningful: the Python stack is the complete one. */
		o = last_spliced;
	}
	rt->st.py_samples++;
	rt->st.py_frames += np;
	memcpy(addrs, out, o * sizeof(*out));
	return o;
}

static size_t hook_resolve(void *ctx, struct profile *p, uint64_t addr, uint32_t *out, size_t max)
{
	struct runtime *rt = ctx;
	uint64_t id = addr & ~REC_RUNTIME_TAG;
	if (!max || !id || id >= rt->pyframes.nr)
		return 0;
	const char *key = strtab_str(&rt->pyframes, (uint32_t)id);
	size_t len = strtab_len(&rt->pyframes, (uint32_t)id);
	const char *file = key + strlen(key) + 1;
	if (file >= key + len)
		return 0;
	const char *line = file + strlen(file) + 1;
	struct frame f = { 0 };
	f.function = profile_intern_str(p, key);
	f.file = *file ? profile_intern_str(p, file) : 0;
	f.line = line < key + len ? (uint32_t)strtoul(line, NULL, 10) : 0;
	f.kind = FRAME_PYTHON;
	out[0] = profile_frame(p, &f);
	return 1;
}

/* The Go function table of module `module` (a string id of `p`), or NULL when it is not a Go program. */
static const struct go_pcln *go_module(struct runtime *rt, const struct profile *p, uint32_t module)
{
	int inserted;
	uint64_t *slot = u64map_insert(&rt->go_modules, module, &inserted);
	if (inserted) {
		const char *path = profile_str(p, module);
		struct go_pcln *t = lang_elf_is_go(path) ? go_pcln_open(path) : NULL;
		ALLOC_GROW(rt->go_tabs, rt->go_tabs_nr + 1, rt->go_tabs_alloc);
		rt->go_tabs[rt->go_tabs_nr] = t;
		*slot = rt->go_tabs_nr++;
	}
	return rt->go_tabs[*slot];
}

/* The address in a "[module+0xADDR]" name the symbolizer gives an address it could not name. */
static bool unnamed_addr(const char *name, uint64_t *addr)
{
	size_t len = strlen(name);
	const char *plus = strstr(name, "+0x");
	if (name[0] != '[' || !len || name[len - 1] != ']' || !plus)
		return false;
	char *end;
	*addr = strtoull(plus + 3, &end, 16);
	return *end == ']';
}

static uint32_t rewrite_frame(struct runtime *rt, struct profile *p, uint32_t fid)
{
	struct frame f = p->frames[fid];
	struct rt_name nm;
	enum frame_kind kind;

	if (f.kind == FRAME_JIT && f.function) {
		const char *name = profile_str(p, f.function);
		if (rt_parse_v8_name(name, &nm))
			kind = FRAME_JS;
		else if (rt_parse_pyperf_name(name, &nm) && rt->py_read)
			return UINT32_MAX; /* a perf trampoline of a Python whose frames are read from memory */
		else if (rt_parse_pyperf_name(name, &nm))
			kind = FRAME_PYTHON;
		else if (rt_parse_java_name(name, &nm))
			kind = FRAME_JAVA;
		else
			return fid;
		if (kind == FRAME_JAVA) {
			/* Class.method(parameters): overloads are different functions. */
			char *full = xasprintf("%.*s%.*s", (int)nm.fn_len, nm.fn, (int)nm.sig_len, nm.sig);
			f.function = profile_intern_str(p, full);
			free(full);
		} else {
			f.function = nm.fn_len ? profile_intern(p, nm.fn, nm.fn_len)
					       : profile_intern_str(p, "(anonymous)");
		}
		f.file = nm.file_len ? profile_intern(p, nm.file, nm.file_len) : 0;
		f.line = nm.line;
		f.kind = kind;
		return profile_frame(p, &f);
	}
	if ((f.kind == FRAME_NATIVE || f.kind == FRAME_UNKNOWN) && f.module && f.function) {
		const struct go_pcln *t = go_module(rt, p, f.module);
		if (!t)
			return fid;
		/* Named from ELF symbols already, or from the runtime's own table when the binary is stripped. */
		uint64_t addr;
		const char *name = profile_str(p, f.function);
		if (unnamed_addr(name, &addr)) {
			const char *fn = go_pcln_lookup(t, addr);
			if (!fn)
				return fid;
			f.function = profile_intern_str(p, fn);
		}
		f.kind = FRAME_GO;
		return profile_frame(p, &f);
	}
	return fid;
}

static size_t hook_frames(void *ctx, struct profile *p, uint32_t *ids, size_t n, size_t max)
{
	struct runtime *rt = ctx;
	size_t o = 0;
	(void)max;
	for (size_t i = 0; i < n; i++) {
		int inserted;
		uint64_t *slot = u64map_insert(&rt->fid_map, ids[i], &inserted);
		if (inserted)
			*slot = (uint64_t)rewrite_frame(rt, p, ids[i]) + 1;
		if (*slot - 1 != UINT32_MAX) /* else dropped */
			ids[o++] = (uint32_t)(*slot - 1);
	}
	return o;
}

/* Remembers the processes sampled: their perf maps are dumped (Java) and removed at the end. */
static size_t hook_user_stack_all(void *ctx, uint32_t pid, uint32_t tid, uint64_t *addrs, size_t n, size_t max)
{
	struct runtime *rt = ctx;
	proc_get(rt, pid);
	return hook_user_stack(ctx, pid, tid, addrs, n, max);
}

/* A process replaced its image (a shim or shell exec'ing Python): what was known of the old one goes. */
static void hook_exec(void *ctx, uint32_t pid)
{
	struct runtime *rt = ctx;
	uint64_t *slot = u64map_find(&rt->proc_index, pid);
	if (!slot || *slot == UINT64_MAX)
		return;
	struct rt_proc *pr = &rt->procs[*slot];
	proc_release(pr);
	memset(pr, 0, sizeof(*pr));
	pr->pid = pid;
}

void runtime_attach(struct runtime *rt, struct rec_session *s)
{
	struct rec_runtime_hooks h = {
		.ctx = rt,
		.user_stack = hook_user_stack_all,
		.resolve = hook_resolve,
		.frames = hook_frames,
		.exec = hook_exec,
	};
	if (rt->asked == RT_NATIVE)
		h.user_stack = NULL, h.resolve = NULL;
	rec_session_set_runtime_hooks(s, &h);
}

/* Runs `jcmd PID Compiler.perfmap` quietly; returns its exit status or -1. */
static int run_jcmd(uint32_t pid)
{
	char spid[16];
	snprintf(spid, sizeof(spid), "%" PRIu32, pid);
	pid_t c = fork();
	if (c < 0)
		return -1;
	if (c == 0) {
		int fd = open("/dev/null", O_RDWR);
		if (fd >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execlp("jcmd", "jcmd", spid, "Compiler.perfmap", (char *)NULL);
		_exit(127);
	}
	int status;
	while (waitpid(c, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static char *perfmap_path(uint32_t pid)
{
	return xasprintf("/tmp/perf-%" PRIu32 ".map", pid);
}

void runtime_end_recording(struct runtime *rt)
{
	if (rt->lang != RT_JAVA && rt->asked != RT_AUTO)
		return;
	for (size_t i = 0; i < rt->procs_nr; i++) {
		uint32_t pid = rt->procs[i].pid;
		if (kill((pid_t)pid, 0) < 0 || rt_detect_pid(pid) != RT_JAVA)
			continue;
		/* Launched JVMs write theirs at exit; an attached or still running one is asked now. */
		rt->procs[i].jcmd = true;
		if (run_jcmd(pid) != 0)
			add_note(rt, xasprintf("cannot get the JIT symbols of Java process %" PRIu32
					       " ('jcmd %" PRIu32 " Compiler.perfmap' failed): Java frames unnamed",
					       pid, pid));
	}
}

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

void runtime_cleanup(struct runtime *rt)
{
	if (rt->go_tmp) {
		nftw(rt->go_tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
		free(rt->go_tmp);
		rt->go_tmp = NULL;
	}
	bool wrote_maps = rt->lang == RT_NODE || rt->lang == RT_JAVA || rt->lang == RT_PYTHON;
	if (!wrote_maps)
		return;
	for (size_t i = 0; i < rt->procs_nr; i++) {
		uint32_t pid = rt->procs[i].pid;
		char *path = perfmap_path(pid);
		struct stat st;
		/* Only maps written during the recording by processes kiln started, or asked for one (jcmd). */
		bool ours = rt->launched || rt->procs[i].jcmd;
		if (ours && stat(path, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_mtime >= rt->start_epoch)
			unlink(path);
		free(path);
	}
}

/* As runtime_attach() sets them. */
void runtime_get_hooks(struct runtime *rt, struct rec_runtime_hooks *h)
{
	memset(h, 0, sizeof(*h));
	h->ctx = rt;
	h->user_stack = rt->asked == RT_NATIVE ? NULL : hook_user_stack_all;
	h->resolve = rt->asked == RT_NATIVE ? NULL : hook_resolve;
	h->frames = hook_frames;
	h->exec = hook_exec;
}
