/*
 * Unit tests for src/symbols: names, file:line and inline frames of real binaries (this test and helper
 * programs), separate debuginfo by build-id and debuglink, the [module+0xoff] rule, address-space tracking,
 * kallsyms and perf map parsing, the vdso, DWARF unwinding of copied stacks (in-process and of a helper
 * built without frame pointers), and the CFI rule that names a frameless function's caller.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dlfcn.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/err.h"
#include "profile/profile.h"
#include "core/buf.h"
#include "symbols/dbghint.h"
#include "symbols/ksyms.h"
#include "symbols/perfmap.h"
#include "symbols/symbolizer.h"

/* Above pid_max, and with bits above SYMBOLIZER_PID_BITS (a caller's generation tag): never a live process. */
#define FAKE_PID 3999999001u
#define FAKE_OS_PID (FAKE_PID & ((1u << SYMBOLIZER_PID_BITS) - 1))

/* Global, so that they are in the symbol table under these names. */
int sym_test_target(int x);
struct unwind_out;
void sym_test_unwind_inner(struct unwind_out *u);
void sym_test_unwind_outer(struct unwind_out *u);
uint64_t sym_test_leaf(uint64_t x);
uint64_t sym_test_framed(void);

static const struct frame *fr(const struct profile *p, uint32_t id)
{
	return &p->frames[id];
}

static const char *fn(const struct profile *p, uint32_t id)
{
	return profile_str(p, p->frames[id].function);
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

/* ---- this process ---- */

enum { TARGET_FIRST = __LINE__ };
__attribute__((noinline)) int sym_test_target(int x)
{
	__asm__ volatile("" ::: "memory");
	return x * 7 + 1;
}
enum { TARGET_LAST = __LINE__ };

/* The load address of this executable (the start of its first mapping, file offset 0). */
static uintptr_t test_self_named_base(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[4096], exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	uintptr_t base = 0;

	exe[n > 0 ? n : 0] = '\0';
	while (f && fgets(line, sizeof(line), f)) {
		unsigned long lo, off;
		line[strcspn(line, "\n")] = '\0';
		if (sscanf(line, "%lx-%*x %*s %lx", &lo, &off) == 2 && off == 0 && strstr(line, exe)) {
			base = lo;
			break;
		}
	}
	if (f)
		fclose(f);
	return base;
}

static void test_self_named(void **state)
{
	struct symbolizer *s = symbolizer_new();
	struct profile *p = profile_new(0);
	struct err e = ERR_INIT;
	uint32_t out[16];
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	assert_true(n > 0);
	exe[n] = '\0';
	assert_int_equal(symbolizer_load_proc_maps(s, (uint32_t)getpid(), &e), 0);
	size_t k = symbolizer_resolve(s, p, (uint32_t)getpid(), (uint64_t)(uintptr_t)sym_test_target + 1, false, out,
				      16);
	assert_int_equal(k, 1);
	assert_string_equal(fn(p, out[0]), "sym_test_target");
	assert_int_equal(fr(p, out[0])->kind, FRAME_NATIVE);
	assert_string_equal(profile_str(p, fr(p, out[0])->module), exe);
	assert_non_null(strstr(profile_str(p, fr(p, out[0])->file), "test_symbols.c"));
	assert_true(fr(p, out[0])->line > TARGET_FIRST && fr(p, out[0])->line < TARGET_LAST);
	assert_true(fr(p, out[0])->addr != 0 && fr(p, out[0])->addr < (uint64_t)(uintptr_t)sym_test_target);

	/* A libc function, and the same address again: one frame id, one symbolization. */
	k = symbolizer_resolve(s, p, (uint32_t)getpid(), (uint64_t)(uintptr_t)getppid, false, out, 16);
	assert_true(k >= 1);
	assert_non_null(strstr(fn(p, out[k - 1]), "getppid"));
	uint32_t first = out[k - 1];
	struct symbolizer_stats st1, st2;
	symbolizer_get_stats(s, &st1);
	k = symbolizer_resolve(s, p, (uint32_t)getpid(), (uint64_t)(uintptr_t)getppid, false, out, 16);
	symbolizer_get_stats(s, &st2);
	assert_int_equal(out[k - 1], first);
	assert_int_equal(st1.cache_misses, st2.cache_misses);

	/* Another profile: ids are that profile's. */
	struct profile *p2 = profile_new(0);
	profile_intern_str(p2, "something else");
	k = symbolizer_resolve(s, p2, (uint32_t)getpid(), (uint64_t)(uintptr_t)sym_test_target + 1, false, out, 16);
	assert_int_equal(k, 1);
	assert_string_equal(fn(p2, out[0]), "sym_test_target");
	profile_free(p2);
	/* ... and back to the first one, after it changed. */
	profile_intern_str(p, "more");
	k = symbolizer_resolve(s, p, (uint32_t)getpid(), (uint64_t)(uintptr_t)sym_test_target + 1, false, out, 16);
	assert_string_equal(fn(p, out[0]), "sym_test_target");

	profile_free(p);
	symbolizer_free(s);
}

/* ---- helper processes ---- */

struct child {
	pid_t pid;
	int in;    /* its stdin: closing it ends the child */
	FILE *out; /* its stdout */
};

static int spawn(struct child *c, char *const argv[])
{
	int pin[2], pout[2];

	if (pipe(pin) || pipe(pout))
		return -1;
	c->pid = fork();
	if (c->pid < 0)
		return -1;
	if (!c->pid) {
		dup2(pin[0], 0);
		dup2(pout[1], 1);
		close(pin[1]);
		close(pout[0]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(pin[0]);
	close(pout[1]);
	c->in = pin[1];
	c->out = fdopen(pout[0], "r");
	return 0;
}

static void reap(struct child *c)
{
	int status;
	close(c->in);
	fclose(c->out);
	waitpid(c->pid, &status, 0);
}

static int run(const char *cmd)
{
	int rc = system(cmd);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static char *helper_path(const char *name)
{
	const char *build = getenv("KILN_BUILD");
	static char path[4096];

	if (!build)
		return NULL;
	snprintf(path, sizeof(path), "%s/tests/helpers/%s", build, name);
	return access(path, X_OK) == 0 ? path : NULL;
}

static char tmpdir[256];

static void make_tmpdir(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/kiln-sym-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
}

static void remove_tmpdir(void)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	run(cmd);
}

struct inline_expect {
	uint64_t ip;
	int leaf, mid, outer;
};

/* Runs the sym_inline program at `bin` and resolves its inlined address with `s`; returns the frame count. */
static size_t resolve_inline_helper(struct symbolizer *s, struct profile *p, const char *bin, struct inline_expect *x,
				    uint32_t *out, size_t max)
{
	struct child c;
	char *argv[] = { (char *)bin, NULL };
	struct err e = ERR_INIT;
	unsigned long long ip = 0, mainaddr = 0;

	assert_int_equal(spawn(&c, argv), 0);
	assert_int_equal(fscanf(c.out, "ip=0x%llx leaf=%d mid=%d outer=%d main=0x%llx", &ip, &x->leaf, &x->mid,
				&x->outer, &mainaddr),
			 5);
	x->ip = ip;
	assert_int_equal(symbolizer_load_proc_maps(s, (uint32_t)c.pid, &e), 0);
	/* ip is the address after the lea: ip - 1 is inside it, on the leaf line. */
	size_t k = symbolizer_resolve(s, p, (uint32_t)c.pid, ip - 1, false, out, max);
	reap(&c);
	return k;
}

static void check_inline_frames(const struct profile *p, const uint32_t *out, size_t k, const struct inline_expect *x,
				const char *bin)
{
	assert_int_equal(k, 3);
	assert_string_equal(fn(p, out[0]), "sym_leaf_inline");
	assert_int_equal(fr(p, out[0])->kind, FRAME_INLINED);
	assert_int_equal(fr(p, out[0])->line, x->leaf);
	assert_string_equal(base_name(profile_str(p, fr(p, out[0])->file)), "sym_inline.c");
	assert_string_equal(fn(p, out[1]), "sym_mid_inline");
	assert_int_equal(fr(p, out[1])->kind, FRAME_INLINED);
	assert_int_equal(fr(p, out[1])->line, x->mid);
	assert_string_equal(base_name(profile_str(p, fr(p, out[1])->file)), "sym_inline.c");
	assert_string_equal(fn(p, out[2]), "sym_outer");
	assert_int_equal(fr(p, out[2])->kind, FRAME_NATIVE);
	assert_int_equal(fr(p, out[2])->line, x->outer);
	assert_string_equal(base_name(profile_str(p, fr(p, out[2])->module)), base_name(bin));
	assert_true(fr(p, out[2])->addr != 0 && fr(p, out[2])->addr == fr(p, out[0])->addr);
}

static void test_inline_frames(void **state)
{
	const char *bin = helper_path("sym_inline");
	struct symbolizer *s;
	struct profile *p;
	struct inline_expect x;
	uint32_t out[16];

	if (!bin)
		skip(); /* needs KILN_BUILD with the helper programs (tests/run.sh sets it) */
	s = symbolizer_new();
	p = profile_new(0);
	size_t k = resolve_inline_helper(s, p, bin, &x, out, 16);
	check_inline_frames(p, out, k, &x, bin);

	/* Without inline frames: one physical frame; without lines: no file:line. */
	symbolizer_free(s);
	s = symbolizer_new();
	symbolizer_set_flags(s, SYMBOLIZER_NO_INLINE | SYMBOLIZER_NO_LINES);
	k = resolve_inline_helper(s, p, bin, &x, out, 16);
	assert_int_equal(k, 1);
	assert_string_equal(fn(p, out[0]), "sym_outer");
	assert_int_equal(fr(p, out[0])->file, 0);
	assert_int_equal(fr(p, out[0])->line, 0);

	/* A small `max` keeps the innermost frames. */
	symbolizer_free(s);
	s = symbolizer_new();
	k = resolve_inline_helper(s, p, bin, &x, out, 2);
	assert_int_equal(k, 2);
	assert_string_equal(fn(p, out[0]), "sym_leaf_inline");
	profile_free(p);
	symbolizer_free(s);
}

/* Builds sym_inline at -O2, splits its debuginfo out and strips it. Returns 0 or skips. */
static void build_stripped(char *bin, size_t binsz, char *dbg, size_t dbgsz)
{
	char cmd[4096];
	const char *root = getenv("KILN_ROOT");

	snprintf(bin, binsz, "%s/sym_inline_stripped", tmpdir);
	/* Not "<binary>.debug" beside the binary: libdwfl finds that name without being told. */
	snprintf(dbg, dbgsz, "%s/split.dbg", tmpdir);
	snprintf(cmd, sizeof(cmd),
		 "cc -O2 -g -Wl,--build-id -o '%s' '%s/tests/helpers/sym_inline.c' && objcopy --only-keep-debug '%s' "
		 "'%s' && strip --strip-all '%s' 2>/dev/null",
		 bin, root ? root : ".", bin, dbg, bin);
	if (run(cmd) != 0)
		skip(); /* needs cc, objcopy and strip */
}

static void read_build_id(const char *bin, char *hex, size_t hexsz)
{
	char cmd[4096];
	FILE *f;

	snprintf(cmd, sizeof(cmd), "readelf -n '%s' | awk '/Build ID/ {print $3}'", bin);
	f = popen(cmd, "r");
	assert_non_null(f);
	assert_non_null(fgets(hex, (int)hexsz, f));
	hex[strcspn(hex, "\n")] = '\0';
	pclose(f);
	assert_true(strlen(hex) > 4);
}

static void test_stripped_build_id(void **state)
{
	char bin[512], dbg[512], hex[256], cmd[4096], dir[512];
	struct symbolizer *s;
	struct profile *p = profile_new(0);
	struct inline_expect x;
	uint32_t out[16];

	make_tmpdir();
	build_stripped(bin, sizeof(bin), dbg, sizeof(dbg));
	read_build_id(bin, hex, sizeof(hex));

	/* Without debuginfo: sym_outer is not in .dynsym, so the frame is [module+0xoffset]. */
	s = symbolizer_new();
	symbolizer_set_debuginfo_dirs(s, "/nonexistent");
	size_t k = resolve_inline_helper(s, p, bin, &x, out, 16);
	assert_int_equal(k, 1);
	char want[256];
	snprintf(want, sizeof(want), "[sym_inline_stripped+0x%" PRIx64 "]", fr(p, out[0])->addr);
	assert_string_equal(fn(p, out[0]), want);
	assert_string_equal(profile_str(p, fr(p, out[0])->module), bin);
	/* The build-id of the file goes into the profile's typed metadata once (profile/meta.h). */
	symbolizer_note_build_ids(s, p);
	symbolizer_note_build_ids(s, p);
	size_t notes = 0;
	uint32_t mod = profile_intern_str(p, bin);
	for (size_t i = 0; i < p->meta.build_ids_nr; i++)
		notes += p->meta.build_ids[i].module == mod;
	assert_int_equal(notes, 1);
	assert_int_not_equal(profile_build_id(p, mod), 0);
	assert_string_equal(profile_str(p, profile_build_id(p, mod)), hex);
	symbolizer_free(s);

	/* With the debug file under DIR/.build-id/xx/yyyy.debug: fully symbolized. */
	snprintf(dir, sizeof(dir), "%s/debug", tmpdir);
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s/.build-id/%.2s' && mv '%s' '%s/.build-id/%.2s/%s.debug'", dir, hex,
		 dbg, dir, hex, hex + 2);
	assert_int_equal(run(cmd), 0);
	s = symbolizer_new();
	symbolizer_set_debuginfo_dirs(s, dir);
	k = resolve_inline_helper(s, p, bin, &x, out, 16);
	check_inline_frames(p, out, k, &x, bin);
	symbolizer_free(s);

	/* The same through $KILN_DEBUGINFO_DIRS. */
	setenv("KILN_DEBUGINFO_DIRS", dir, 1);
	s = symbolizer_new();
	unsetenv("KILN_DEBUGINFO_DIRS");
	k = resolve_inline_helper(s, p, bin, &x, out, 16);
	check_inline_frames(p, out, k, &x, bin);
	symbolizer_free(s);

	profile_free(p);
	remove_tmpdir();
}

static void test_stripped_debuglink(void **state)
{
	char bin[512], dbg[512], cmd[4096];
	struct symbolizer *s;
	struct profile *p = profile_new(0);
	struct inline_expect x;
	uint32_t out[16];

	make_tmpdir();
	build_stripped(bin, sizeof(bin), dbg, sizeof(dbg));
	/* A .gnu_debuglink naming the debug file, which sits in .debug/ beside the binary. */
	snprintf(cmd, sizeof(cmd), "cd '%s' && objcopy --add-gnu-debuglink=split.dbg sym_inline_stripped "
		 "&& mkdir .debug && mv split.dbg .debug/", tmpdir);
	assert_int_equal(run(cmd), 0);
	s = symbolizer_new();
	symbolizer_set_debuginfo_dirs(s, "/nonexistent");
	size_t k = resolve_inline_helper(s, p, bin, &x, out, 16);
	check_inline_frames(p, out, k, &x, bin);
	symbolizer_free(s);
	profile_free(p);
	remove_tmpdir();
}

/* ---- address-space tracking and the [module+0xoff] rule ---- */

static void test_mappings(void **state)
{
	struct symbolizer *s = symbolizer_new();
	struct profile *p = profile_new(0);
	struct err e = ERR_INIT;
	uint32_t out[4];

	/* Files that do not exist: names are [basename+0xfileoffset]. */
	assert_int_equal(symbolizer_add_mapping(s, FAKE_PID, 0x10000, 0x4000, 0x1000, "/nonexistent/liba.so", NULL, 0, &e), 0);
	assert_int_equal(symbolizer_add_mapping(s, FAKE_PID, 0x11000, 0x1000, 0x0, "/nonexistent/libb.so", NULL, 0, &e), 0);
	assert_int_equal(symbolizer_resolve(s, p, FAKE_PID, 0x10010, false, out, 4), 1);
	assert_string_equal(fn(p, out[0]), "[liba.so+0x1010]");
	assert_string_equal(profile_str(p, fr(p, out[0])->module), "/nonexistent/liba.so");
	assert_int_equal(symbolizer_resolve(s, p, FAKE_PID, 0x11008, false, out, 4), 1);
	assert_string_equal(fn(p, out[0]), "[libb.so+0x8]");
	/* The part of liba after the overlap keeps its file offsets. */
	assert_int_equal(symbolizer_resolve(s, p, FAKE_PID, 0x12020, false, out, 4), 1);
	assert_string_equal(fn(p, out[0]), "[liba.so+0x3020]");
	/* Outside every mapping. */
	assert_int_equal(symbolizer_resolve(s, p, FAKE_PID, 0x20000, false, out, 4), 1);
	assert_string_equal(fn(p, out[0]), "[unknown]");
	assert_int_equal(symbolizer_resolve(s, p, 12345678, 0x10010, false, out, 4), 1);
	assert_string_equal(fn(p, out[0]), "[unknown]");
	assert_int_equal(symbolizer_resolve(s, p, FAKE_PID, 0x10010, false, out, 0), 0);

	/* Named regions without a file: [name+0xoffset]; plain anonymous memory: [unknown]. */
	assert_int_equal(symbolizer_add_mapping(s, FAKE_PID, 0x30000, 0x1000, 0, "[heap]", NULL, 0, &e), 0);
	assert_int_equal(symbolizer_add_mapping(s, FAKE_PID, 0x31000, 0x1000, 0, "/memfd:jit (deleted)", NULL, 0, &e), 0);
	assert_int_equal(symbolizer_add_mapping(s, FAKE_PID, 0x32000, 0x1000, 0, "//anon", NULL, 0, &e), 0);
	symbolizer_resolve(s, p, FAKE_PID, 0x30010, false, out, 4);
	assert_string_equal(fn(p, out[0]), "[heap+0x10]");
	symbolizer_resolve(s, p, FAKE_PID, 0x31020, false, out, 4);
	assert_string_equal(fn(p, out[0]), "[memfd:jit (deleted)+0x20]");
	symbolizer_resolve(s, p, FAKE_PID, 0x32020, false, out, 4);
	assert_string_equal(fn(p, out[0]), "[unknown]");
	assert_string_equal(profile_str(p, fr(p, out[0])->module), "//anon");

	/* fork copies, exec forgets, exit keeps. */
	symbolizer_fork(s, FAKE_PID, FAKE_PID + 1);
	symbolizer_exec(s, FAKE_PID);
	symbolizer_resolve(s, p, FAKE_PID, 0x10010, false, out, 4);
	assert_string_equal(fn(p, out[0]), "[unknown]");
	symbolizer_exit(s, FAKE_PID + 1);
	symbolizer_resolve(s, p, FAKE_PID + 1, 0x10010, false, out, 4);
	assert_string_equal(fn(p, out[0]), "[liba.so+0x1010]");

	/* Bad ranges are refused. */
	assert_int_equal(symbolizer_add_mapping(s, FAKE_PID, 0x1000, 0, 0, "/x", NULL, 0, &e), -1);
	assert_int_equal(symbolizer_add_mapping(s, FAKE_PID, UINT64_MAX - 10, 100, 0, "/x", NULL, 0, &e), -1);
	assert_non_null(strstr(e.msg, "bad mapping range"));

	/* A build-id that the file does not have: the file's symbols are not trusted. */
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	assert_true(n > 0);
	exe[n] = '\0';
	unsigned char bogus[20] = { 0xde, 0xad, 0xbe, 0xef };
	assert_int_equal(symbolizer_add_mapping(s, FAKE_PID + 2, 0x400000, 0x100000, 0, exe, bogus, sizeof(bogus), &e), 0);
	symbolizer_resolve(s, p, FAKE_PID + 2, 0x400100, false, out, 4);
	assert_non_null(strstr(fn(p, out[0]), "+0x"));

	/* One file mapped by two processes at different addresses: opened once, same names. */
	struct symbolizer *s2 = symbolizer_new();
	struct symbolizer_stats st;
	uint64_t off = (uint64_t)(uintptr_t)sym_test_target - (uint64_t)(uintptr_t)test_self_named_base();
	assert_int_equal(symbolizer_add_mapping(s2, FAKE_PID, 0x10000000, 0x4000000, 0, exe, NULL, 0, &e), 0);
	assert_int_equal(symbolizer_add_mapping(s2, FAKE_PID + 1, 0x20000000, 0x4000000, 0, exe, NULL, 0, &e), 0);
	symbolizer_exit(s2, FAKE_PID);
	symbolizer_exit(s2, FAKE_PID + 1);
	symbolizer_resolve(s2, p, FAKE_PID, 0x10000000 + off, false, out, 4);
	assert_string_equal(fn(p, out[0]), "sym_test_target");
	symbolizer_resolve(s2, p, FAKE_PID + 1, 0x20000000 + off, false, out, 4);
	assert_string_equal(fn(p, out[0]), "sym_test_target");
	symbolizer_get_stats(s2, &st);
	assert_int_equal(st.modules, 1);
	assert_int_equal(st.cache_misses, 1);
	symbolizer_free(s2);

	profile_free(p);
	symbolizer_free(s);
}

/* ---- kallsyms ---- */

static const char kallsyms_text[] =
	"ffffffff81000000 T _text\n"
	"ffffffff81000000 T _stext\n"
	"ffffffff81001000 t do_one_thing\n"
	"ffffffff81002000 D some_data\n"
	"ffffffff81003000 W weak_fn\n"
	"garbage line\n"
	"ffffffff81004000 T\n"
	"ffffffffc0001000 t mod_fn\t[e1000]\n"
	"ffffffff81000800 T unsorted_fn\n"
	"ffffffffc0002000 T last_fn\t[nvme]";

static void test_kallsyms_parse(void **state)
{
	struct ksyms *k = ksyms_parse(kallsyms_text, strlen(kallsyms_text));
	const struct ksym *ks;

	assert_false(ksyms_hidden(k));
	assert_int_equal(ksyms_count(k), 6); /* _text/_stext alias, data and malformed lines dropped */
	assert_null(ksyms_find(k, 0xffffffff80000000ULL));
	ks = ksyms_find(k, 0xffffffff81000010ULL);
	assert_string_equal(ks->name, "_text");
	assert_string_equal(ks->module, "[kernel.kallsyms]");
	assert_string_equal(ksyms_find(k, 0xffffffff81000900ULL)->name, "unsorted_fn");
	assert_string_equal(ksyms_find(k, 0xffffffff81002100ULL)->name, "do_one_thing");
	assert_string_equal(ksyms_find(k, 0xffffffff81003000ULL)->name, "weak_fn");
	ks = ksyms_find(k, 0xffffffffc0001234ULL);
	assert_string_equal(ks->name, "mod_fn");
	assert_string_equal(ks->module, "[e1000]");
	assert_string_equal(ksyms_find(k, 0xffffffffc0002001ULL)->module, "[nvme]");
	ksyms_free(k);

	/* kptr_restrict: names with zero addresses. */
	const char hidden[] = "0000000000000000 T _text\n0000000000000000 t foo\n";
	k = ksyms_parse(hidden, strlen(hidden));
	assert_true(ksyms_hidden(k));
	assert_null(ksyms_find(k, 0xffffffff81000000ULL));
	ksyms_free(k);
	k = ksyms_parse("", 0);
	assert_true(ksyms_hidden(k));
	ksyms_free(k);
	ksyms_free(NULL);
}

static void test_kernel_resolve(void **state)
{
	struct symbolizer *s = symbolizer_new();
	struct profile *p = profile_new(0);
	uint32_t out[4];
	char path[512];

	make_tmpdir();
	snprintf(path, sizeof(path), "%s/kallsyms", tmpdir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(kallsyms_text, f);
	fclose(f);
	symbolizer_set_kallsyms(s, path);
	symbolizer_prefetch_kernel(s); /* read in a thread, joined by the first kernel lookup */
	symbolizer_prefetch_kernel(s);
	assert_int_equal(symbolizer_resolve(s, p, 1, 0xffffffff81001010ULL, true, out, 4), 1);
	assert_string_equal(fn(p, out[0]), "do_one_thing");
	assert_int_equal(fr(p, out[0])->kind, FRAME_KERNEL);
	assert_string_equal(profile_str(p, fr(p, out[0])->module), "[kernel.kallsyms]");
	symbolizer_resolve(s, p, 1, 0xffffffffc0001010ULL, true, out, 4);
	assert_string_equal(fn(p, out[0]), "mod_fn");
	assert_string_equal(profile_str(p, fr(p, out[0])->module), "[e1000]");

	/* Hidden addresses, and an unreadable file: "[kernel]". */
	f = fopen(path, "w");
	fputs("0000000000000000 T _text\n", f);
	fclose(f);
	symbolizer_set_kallsyms(s, path);
	symbolizer_resolve(s, p, 1, 0xffffffff81001010ULL, true, out, 4);
	assert_string_equal(fn(p, out[0]), "[kernel]");
	assert_int_equal(fr(p, out[0])->kind, FRAME_KERNEL);
	symbolizer_set_kallsyms(s, "/nonexistent/kallsyms");
	symbolizer_resolve(s, p, 1, 0xffffffff81001010ULL, true, out, 4);
	assert_string_equal(fn(p, out[0]), "[kernel]");
	/* A prefetch still running when the symbolizer goes away, or when the file changes. */
	struct symbolizer *s2 = symbolizer_new();
	symbolizer_prefetch_kernel(s2);
	symbolizer_free(s2);
	s2 = symbolizer_new();
	symbolizer_prefetch_kernel(s2);
	symbolizer_set_kallsyms(s2, path);
	symbolizer_resolve(s2, p, 1, 0xffffffff81001010ULL, true, out, 4);
	assert_string_equal(fn(p, out[0]), "[kernel]");
	symbolizer_free(s2);
	remove_tmpdir();
	profile_free(p);
	symbolizer_free(s);
}

/* ---- perf maps ---- */

static void test_perfmap_parse(void **state)
{
	const char text[] =
		"7f0000001000 100 Interpreter\n"
		"0x7f0000002000 0x40 LazyCompile:*foo bar.js:10:3\n"
		"7F0000002100 20 [jit] with  spaces \r\n"
		"bogus\n"
		"7f0000003000 0 zero sized\n"
		"7f0000001000 100 Interpreter v2\n"   /* later line wins */
		"7f0000001080 10 inner\n"             /* splits the region */
		"   7f0000004000   10   indented";
	struct perfmap *m = perfmap_parse(text, strlen(text));
	uint64_t start;

	assert_string_equal(perfmap_find(m, 0x7f0000001000ULL, &start), "Interpreter v2");
	assert_int_equal(start, 0x7f0000001000ULL);
	assert_string_equal(perfmap_find(m, 0x7f0000001085ULL, NULL), "inner");
	assert_string_equal(perfmap_find(m, 0x7f0000001090ULL, NULL), "Interpreter v2");
	assert_null(perfmap_find(m, 0x7f0000001100ULL, NULL));
	assert_string_equal(perfmap_find(m, 0x7f000000203fULL, NULL), "LazyCompile:*foo bar.js:10:3");
	assert_null(perfmap_find(m, 0x7f0000002040ULL, NULL));
	assert_string_equal(perfmap_find(m, 0x7f0000002100ULL, NULL), "[jit] with  spaces");
	assert_null(perfmap_find(m, 0x7f0000003000ULL, NULL));
	assert_string_equal(perfmap_find(m, 0x7f0000004005ULL, NULL), "indented");
	assert_null(perfmap_find(m, 0x10, NULL));
	perfmap_free(m);
	m = perfmap_parse("", 0);
	assert_int_equal(perfmap_count(m), 0);
	assert_null(perfmap_find(m, 1, NULL));
	perfmap_free(m);
}

static void test_perfmap_resolve(void **state)
{
	struct symbolizer *s = symbolizer_new();
	struct profile *p = profile_new(0);
	struct err e = ERR_INIT;
	uint32_t out[4];
	char path[512];
	FILE *f;

	make_tmpdir();
	symbolizer_set_perfmap_dir(s, tmpdir);
	snprintf(path, sizeof(path), "%s/perf-%u.map", tmpdir, FAKE_OS_PID); /* the kernel's pid, not the tag */
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("1000 100 jitted one\n", f);
	fclose(f);
	assert_int_equal(symbolizer_add_mapping(s, FAKE_PID, 0x1000, 0x10000, 0, "//anon", NULL, 0, &e), 0);
	assert_int_equal(symbolizer_resolve(s, p, FAKE_PID, 0x1010, false, out, 4), 1);
	assert_string_equal(fn(p, out[0]), "jitted one");
	assert_int_equal(fr(p, out[0])->kind, FRAME_JIT);
	assert_string_equal(profile_str(p, fr(p, out[0])->module), path);
	/* Unknown address in the map's process: [unknown]; then the map grows and the address is found. */
	symbolizer_resolve(s, p, FAKE_PID, 0x2010, false, out, 4);
	assert_string_equal(fn(p, out[0]), "[unknown]");
	f = fopen(path, "a");
	fputs("0x2000 0x100 jitted two\n0x1000 0x10 replaced one\n", f);
	fclose(f);
	symbolizer_resolve(s, p, FAKE_PID, 0x2010, false, out, 4);
	assert_string_equal(fn(p, out[0]), "jitted two");
	symbolizer_resolve(s, p, FAKE_PID, 0x1008, false, out, 4);
	assert_string_equal(fn(p, out[0]), "replaced one");
	/* No mapping at all for the address: the perf map is still consulted. */
	f = fopen(path, "a");
	fputs("900000 10 outside\n", f);
	fclose(f);
	symbolizer_resolve(s, p, FAKE_PID, 0x900004, false, out, 4);
	assert_string_equal(fn(p, out[0]), "outside");
	remove_tmpdir();
	profile_free(p);
	symbolizer_free(s);
}

/* ---- vdso ---- */

static void test_vdso(void **state)
{
	struct symbolizer *s = symbolizer_new();
	struct profile *p = profile_new(0);
	struct err e = ERR_INIT;
	uint32_t out[8];
	uint64_t base = getauxval(AT_SYSINFO_EHDR);
	int named = 0;

	if (!base) {
		symbolizer_free(s);
		profile_free(p);
		skip(); /* no vdso */
	}
	assert_int_equal(symbolizer_load_proc_maps(s, (uint32_t)getpid(), &e), 0);
	/* The vdso is mapped r-x (one mapping); look for its clock_gettime anywhere in the first pages. */
	symbolizer_add_mapping(s, (uint32_t)getpid(), base, 0x2000, 0, "[vdso]", NULL, 0, &e);
	for (uint64_t off = 0; off < 0x2000; off += 8) {
		size_t k = symbolizer_resolve(s, p, (uint32_t)getpid(), base + off, false, out, 8);
		assert_true(k >= 1);
		if (strstr(fn(p, out[k - 1]), "clock_gettime")) {
			named++;
			assert_string_equal(profile_str(p, fr(p, out[k - 1])->module), "[vdso]");
		}
	}
	assert_true(named > 0);
	/* An exited process: the vdso image is the kiln process's own. */
	symbolizer_add_mapping(s, FAKE_PID, 0x7000000, 0x2000, 0, "[vdso]", NULL, 0, &e);
	symbolizer_exit(s, FAKE_PID);
	named = 0;
	for (uint64_t off = 0; off < 0x2000; off += 8) {
		size_t k = symbolizer_resolve(s, p, FAKE_PID, 0x7000000 + off, false, out, 8);
		named += strstr(fn(p, out[k - 1]), "clock_gettime") != NULL;
	}
	assert_true(named > 0);
	profile_free(p);
	symbolizer_free(s);
}

/* ---- C++ names ---- */

static void test_demangle(void **state)
{
	void *h = dlopen("libstdc++.so.6", RTLD_NOW | RTLD_LOCAL);
	void *fnp = h ? dlsym(h, "_ZSt9terminatev") : NULL;
	struct symbolizer *s;
	struct profile *p;
	struct err e = ERR_INIT;
	uint32_t out[8];

	if (!fnp) {
		if (h)
			dlclose(h);
		skip(); /* libstdc++ is not installed */
	}
	s = symbolizer_new();
	p = profile_new(0);
	assert_int_equal(symbolizer_load_proc_maps(s, (uint32_t)getpid(), &e), 0);
	size_t k = symbolizer_resolve(s, p, (uint32_t)getpid(), (uint64_t)(uintptr_t)fnp, false, out, 8);
	assert_string_equal(fn(p, out[k - 1]), "std::terminate()");
	symbolizer_free(s);
	s = symbolizer_new();
	symbolizer_set_flags(s, SYMBOLIZER_NO_DEMANGLE);
	assert_int_equal(symbolizer_load_proc_maps(s, (uint32_t)getpid(), &e), 0);
	k = symbolizer_resolve(s, p, (uint32_t)getpid(), (uint64_t)(uintptr_t)fnp, false, out, 8);
	assert_string_equal(fn(p, out[k - 1]), "_ZSt9terminatev");
	symbolizer_free(s);
	profile_free(p);
	dlclose(h);
}

/* ---- unwinding ---- */

/* perf_event_x86_regs bits */
#define R_BP 6
#define R_SP 7
#define R_IP 8

__attribute__((no_sanitize_address, noinline)) static void copy_stack(unsigned char *dst, uint64_t sp, size_t len)
{
	for (size_t i = 0; i < len; i++)
		dst[i] = ((const volatile unsigned char *)(uintptr_t)sp)[i];
}

static size_t stack_room(uint64_t sp, size_t want)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	size_t room = want;

	while (f && fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && sp >= lo && sp < hi && hi - sp < room)
			room = hi - sp;
	}
	if (f)
		fclose(f);
	return room;
}

struct unwind_out {
	uint64_t ips[64];
	size_t n;
	struct symbolizer *s;
};

__attribute__((noinline)) void sym_test_unwind_inner(struct unwind_out *u)
{
	uint64_t regs[3], ip, sp, bp;
	size_t len;
	unsigned char *copy;

	__asm__ volatile("lea 0(%%rip), %0\n\tmov %%rsp, %1\n\tmov %%rbp, %2" : "=r"(ip), "=r"(sp), "=r"(bp));
	len = stack_room(sp, 65536);
	copy = malloc(len);
	copy_stack(copy, sp, len);
	regs[0] = bp; /* packed in bit order: BP, SP, IP */
	regs[1] = sp;
	regs[2] = ip;
	u->n = symbolizer_unwind(u->s, (uint32_t)getpid(), (uint32_t)getpid(), regs,
				 1ULL << R_BP | 1ULL << R_SP | 1ULL << R_IP, copy, len, sp, u->ips, 64);
	free(copy);
}

__attribute__((noinline)) void sym_test_unwind_outer(struct unwind_out *u)
{
	sym_test_unwind_inner(u);
	__asm__ volatile("" ::: "memory");
}

/* Names of the unwound frames (call sites: ip - 1 except the leaf). */
static void names_of(struct symbolizer *s, struct profile *p, uint32_t pid, const uint64_t *ips, size_t n, char *buf,
		     size_t bufsz)
{
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		uint32_t out[16];
		size_t k = symbolizer_resolve(s, p, pid, i ? ips[i] - 1 : ips[i], false, out, 16);
		size_t len = strlen(buf);
		snprintf(buf + len, bufsz - len, "%s;", fn(p, out[k - 1]));
	}
}

static void test_unwind_self(void **state)
{
	struct unwind_out u = { .s = symbolizer_new() };
	struct profile *p = profile_new(0);
	struct err e = ERR_INIT;
	char names[4096];

	assert_int_equal(symbolizer_load_proc_maps(u.s, (uint32_t)getpid(), &e), 0);
	sym_test_unwind_outer(&u);
	assert_true(u.n >= 4);
	names_of(u.s, p, (uint32_t)getpid(), u.ips, u.n, names, sizeof(names));
	assert_non_null(strstr(names, "sym_test_unwind_inner;sym_test_unwind_outer;test_unwind_self;"));
	assert_non_null(strstr(names, ";main;"));

	/* Missing IP/SP: nothing; a pid without mappings: the leaf only. */
	uint64_t regs[1] = { 0x1234 }, ips[4];
	assert_int_equal(symbolizer_unwind(u.s, 1, 1, regs, 1ULL << R_IP, NULL, 0, 0, ips, 4), 0);
	uint64_t regs2[2] = { 0x1000, 0x1234 };
	assert_int_equal(symbolizer_unwind(u.s, FAKE_PID, FAKE_PID, regs2, 1ULL << R_SP | 1ULL << R_IP, NULL, 0, 0x1000,
					   ips, 4), 1);
	assert_int_equal(ips[0], 0x1234);
	profile_free(p);
	symbolizer_free(u.s);
}

/* ---- the caller of frameless code (frame-pointer mode) ---- */

/* A leaf: at its first instruction nothing is pushed, the CFA is %rsp + 8 and the return address at %rsp. */
__attribute__((noinline)) uint64_t sym_test_leaf(uint64_t x)
{
	__asm__ volatile("" : "+r"(x));
	return x * 3 + 1;
}

/* An address in the body of a function with a frame (it calls): its CFA is %rbp-based there. */
static volatile uint64_t leaf_sink;
__attribute__((noinline)) uint64_t sym_test_framed(void)
{
	uint64_t ip;
	__asm__ volatile("lea 0(%%rip), %0" : "=r"(ip));
	leaf_sink = sym_test_leaf(ip);
	return ip;
}

static void test_leaf_caller(void **state)
{
	struct symbolizer *s = symbolizer_new();
	struct symbolizer_stats st;
	struct err e = ERR_INIT;
	uint32_t pid = (uint32_t)getpid();
	const uint64_t stack[4] = { 0x5555aaaa1234, 0x5555aaaa5678, 0, 0 };
	const unsigned char *copy = (const unsigned char *)stack;
	uint64_t leaf = (uint64_t)(uintptr_t)sym_test_leaf, ret = 0;

	assert_int_equal(symbolizer_load_proc_maps(s, pid, &e), 0);
	/* The return address is read from the copy at the sampled SP; the copy's address is what SP says. */
	assert_int_equal(symbolizer_leaf_caller(s, pid, leaf, 0x7ffd0000, copy, sizeof(stack), &ret),
			 SYMBOLIZER_LEAF_FOUND);
	assert_int_equal(ret, stack[0]);
	/* A copy too short to hold it: counted by the caller, never read beyond. */
	assert_int_equal(symbolizer_leaf_caller(s, pid, leaf, 0x7ffd0000, copy, 4, &ret), SYMBOLIZER_LEAF_BEYOND);
	assert_int_equal(symbolizer_leaf_caller(s, pid, leaf, 0x7ffd0000, NULL, 0, &ret), SYMBOLIZER_LEAF_BEYOND);
	/* A function whose frame is set up: the frame-pointer walk is right, nothing to read. */
	assert_int_equal(symbolizer_leaf_caller(s, pid, sym_test_framed(), 0x7ffd0000, copy, sizeof(stack), &ret),
			 SYMBOLIZER_LEAF_FRAMED);
	/* Outside every mapping, or in a process never seen. */
	assert_int_equal(symbolizer_leaf_caller(s, pid, 0x1000, 0x7ffd0000, copy, sizeof(stack), &ret),
			 SYMBOLIZER_LEAF_UNKNOWN);
	assert_int_equal(symbolizer_leaf_caller(s, FAKE_PID, leaf, 0x7ffd0000, copy, sizeof(stack), &ret),
			 SYMBOLIZER_LEAF_UNKNOWN);
	/* The rule of an address is looked up once: two addresses so far, however many calls. */
	symbolizer_get_stats(s, &st);
	assert_int_equal(st.leaf_rules, 2);
	symbolizer_free(s);
}

static void test_unwind_no_frame_pointers(void **state)
{
	const char *root = getenv("KILN_ROOT");
	char bin[512], dump[512], cmd[4096], names[4096], line[64];
	struct child c;
	struct err e = ERR_INIT;

	make_tmpdir();
	snprintf(bin, sizeof(bin), "%s/sym_unwind", tmpdir);
	snprintf(dump, sizeof(dump), "%s/stack.bin", tmpdir);
	snprintf(cmd, sizeof(cmd), "cc -O2 -g -fomit-frame-pointer -o '%s' '%s/tests/helpers/sym_unwind.c'", bin,
		 root ? root : ".");
	if (run(cmd) != 0) {
		remove_tmpdir();
		skip(); /* needs cc and KILN_ROOT */
	}
	char *argv[] = { bin, dump, NULL };
	assert_int_equal(spawn(&c, argv), 0);
	assert_non_null(fgets(line, sizeof(line), c.out));
	assert_string_equal(line, "ready\n");

	struct symbolizer *s = symbolizer_new();
	struct profile *p = profile_new(0);
	assert_int_equal(symbolizer_load_proc_maps(s, (uint32_t)c.pid, &e), 0);
	FILE *f = fopen(dump, "rb");
	uint64_t hdr[4];
	assert_non_null(f);
	assert_int_equal(fread(hdr, 8, 4, f), 4);
	unsigned char *stack = malloc(hdr[3]);
	assert_int_equal(fread(stack, 1, hdr[3], f), hdr[3]);
	fclose(f);
	uint64_t regs[3] = { hdr[2], hdr[1], hdr[0] }, ips[64];
	size_t n = symbolizer_unwind(s, (uint32_t)c.pid, (uint32_t)c.pid, regs, 1ULL << R_BP | 1ULL << R_SP | 1ULL << R_IP,
				     stack, hdr[3], hdr[1], ips, 64);
	names_of(s, p, (uint32_t)c.pid, ips, n, names, sizeof(names));
	reap(&c);
	assert_non_null(strstr(names, "sym_unwind_c;sym_unwind_b;sym_unwind_a;main;"));
	free(stack);
	profile_free(p);
	symbolizer_free(s);
	remove_tmpdir();
}

/* dpkg-query -S output: the first owner, without its architecture; diversion lines name none. */
static void test_dbghint_owner(void **state)
{
	static const struct {
		const char *out, *want;
	} cases[] = {
		{ "liblzma5:amd64: /lib/x86_64-linux-gnu/liblzma.so.5.4.1\n", "liblzma5" },
		{ "xz-utils: /usr/bin/xz\n", "xz-utils" },
		{ "libc6:amd64, libc6:i386: /usr/share/doc/libc6\n", "libc6" },
		{ "diversion by dash from: /bin/sh\ndiversion by dash to: /bin/sh.distrib\ndash: /bin/sh\n", "dash" },
		{ "diversion by dash from: /bin/sh\n", NULL },
		{ "dpkg-query: no path found matching pattern /x\n", NULL },
		{ "", NULL },
		{ ": /x\n", NULL },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = dbghint_parse_owner(cases[i].out, strlen(cases[i].out));
		if (cases[i].want)
			assert_string_equal(got, cases[i].want);
		else
			assert_null(got);
		free(got);
	}
}

static char *advice(const struct dbghint_facts *f)
{
	struct buf b = BUF_INIT;
	dbghint_advice(&b, f);
	return buf_detach(&b, NULL);
}

/* The wording for each situation names what to install or fetch, and nothing that does not apply. */
static void test_dbghint_advice(void **state)
{
	struct dbghint_facts f = { .module = "liblzma.so.5.4.1", .package = "liblzma5", .build_id = "1a2b3c4d",
				   .debian_codename = "bookworm" };
	char *a = advice(&f);
	assert_non_null(strstr(a, "apt install liblzma5-dbgsym"));
	assert_non_null(strstr(a, "bookworm-debug main"));
	assert_non_null(strstr(a, "build-id 1a2b3c4d (set DEBUGINFOD_URLS=https://debuginfod.debian.net)"));
	free(a);

	f.debuginfod_urls = "https://example.org"; /* debuginfod was asked already: only the package */
	f.debian_codename = NULL;
	a = advice(&f);
	assert_non_null(strstr(a, "apt install liblzma5-dbgsym"));
	assert_null(strstr(a, "DEBUGINFOD_URLS"));
	assert_null(strstr(a, "debian-debug"));
	free(a);

	f.dbgsym_installed = true;
	a = advice(&f);
	assert_non_null(strstr(a, "liblzma5-dbgsym is installed but holds nothing for this liblzma.so.5.4.1 (build-id "
				  "1a2b3c4d)"));
	free(a);

	struct dbghint_facts g = { .module = "prog", .build_id = "b79380" };
	a = advice(&g);
	assert_non_null(strstr(a, "build-id b79380 (set DEBUGINFOD_URLS=https://debuginfod.debian.net"));
	assert_non_null(strstr(a, "/usr/lib/debug/.build-id/b7/9380.debug"));
	assert_null(strstr(a, "apt install"));
	free(a);

	g.debuginfod_urls = "http://127.0.0.1:1";
	a = advice(&g);
	assert_non_null(strstr(a, "build-id b79380 is neither in /usr/lib/debug/.build-id nor at DEBUGINFOD_URLS "
				  "(http://127.0.0.1:1)"));
	free(a);

	g.debug_file_present = true;
	a = advice(&g);
	assert_non_null(strstr(a, "is installed now: record the profile again"));
	free(a);

	struct dbghint_facts h = { .module = "prog" };
	a = advice(&h);
	assert_non_null(strstr(a, "neither symbols nor a build-id"));
	free(a);
}

/* On this machine: a packaged file is found by dpkg under its merged-/usr name too. */
static void test_dbghint_gather(void **state)
{
	struct dbghint_facts f;
	char *owned[2];

	if (access("/var/lib/dpkg/status", R_OK) || access("/usr/bin/dpkg-query", X_OK) ||
	    access("/usr/lib/x86_64-linux-gnu/libc.so.6", R_OK))
		skip(); /* not a Debian system */
	/* libc6 registers /lib/x86_64-linux-gnu/libc.so.6; processes map it as /usr/lib/... */
	dbghint_gather(&f, "/usr/lib/x86_64-linux-gnu/libc.so.6", "00112233", owned);
	assert_non_null(f.package);
	assert_string_equal(f.package, "libc6");
	assert_string_equal(f.module, "libc.so.6");
	assert_string_equal(f.build_id, "00112233");
	assert_false(f.debug_file_present);
	free(owned[0]);
	free(owned[1]);

	dbghint_gather(&f, "/nonexistent/prog", NULL, owned);
	assert_null(f.package);
	assert_null(f.build_id);
	free(owned[0]);
	free(owned[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_self_named),
		cmocka_unit_test(test_inline_frames),
		cmocka_unit_test(test_stripped_build_id),
		cmocka_unit_test(test_stripped_debuglink),
		cmocka_unit_test(test_mappings),
		cmocka_unit_test(test_kallsyms_parse),
		cmocka_unit_test(test_kernel_resolve),
		cmocka_unit_test(test_perfmap_parse),
		cmocka_unit_test(test_perfmap_resolve),
		cmocka_unit_test(test_vdso),
		cmocka_unit_test(test_demangle),
		cmocka_unit_test(test_unwind_self),
		cmocka_unit_test(test_unwind_no_frame_pointers),
		cmocka_unit_test(test_leaf_caller),
		cmocka_unit_test(test_dbghint_owner),
		cmocka_unit_test(test_dbghint_advice),
		cmocka_unit_test(test_dbghint_gather),
	};
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
