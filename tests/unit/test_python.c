/* Unit tests for the language runtimes: Python 3.11 frame reading (fake and live), name parsers, Go pclntab. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/err.h"
#include "record/lang_detect.h"
#include "record/lang_go.h"
#include "record/python.h"
#include "record/runtime.h"

/* A 3.11 location table and the line of each code unit, from CPython 3.11's own co_positions(). */
static const uint8_t lt[] = { 0x80, 0x00, 0xd8, 0x08, 0x09, 0x88, 0x41, 0x89, 0x05, 0x80, 0x41, 0xd8, 0x07, 0x08,
			      0x88, 0x31, 0x82, 0x75, 0x80, 0x75, 0xf0, 0x02, 0x01, 0x0d, 0x20, 0xf0, 0x00, 0x01,
			      0x0d, 0x20, 0xdd, 0x16, 0x1b, 0x98, 0x41, 0x91, 0x68, 0x94, 0x68, 0xf0, 0x03, 0x01,
			      0x0d, 0x20, 0xf1, 0x00, 0x01, 0x0d, 0x20, 0xf4, 0x00, 0x01, 0x0d, 0x20, 0x88, 0x01,
			      0xe5, 0x0f, 0x12, 0x90, 0x31, 0x89, 0x76, 0x8c, 0x76, 0x88, 0x0d, 0xe0, 0x0c, 0x0d,
			      0xd8, 0x0c, 0x0d, 0xf1, 0x03, 0x01, 0x0d, 0x0e, 0xf0, 0x00, 0x01, 0x05, 0x0f };
static const int want[] = { 1, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 4,
			    4, 4, 4, 4, 4, 4, 4, 4, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 8, 9, 8, 8, 8 };

static void test_linetable(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_int_equal(py311_line(lt, sizeof(lt), 1, (long)i), want[i]);
	assert_int_equal(py311_line(lt, sizeof(lt), 1, -1), 1);
	assert_int_equal(py311_line(lt, sizeof(lt), 1, 100000), 1);
	/* No location (code 15), and truncated or corrupt tables never read past their end. */
	const uint8_t none[] = { 0xf8 };
	assert_int_equal(py311_line(none, 1, 7, 0), -1);
	const uint8_t trunc[] = { 0xf0 };
	assert_int_equal(py311_line(trunc, 1, 7, 0), 7);
	const uint8_t bad[] = { 0x01, 0x02 };
	assert_int_equal(py311_line(bad, 2, 7, 0), 7);
	assert_int_equal(py311_line(NULL, 0, 3, 5), 3);
}

/* A fake target: a flat memory image at a fixed base address. */
#define BASE 0x10000
static unsigned char mem[8192];

static int fake_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	(void)ctx;
	if (addr < BASE || addr - BASE > sizeof(mem) || len > sizeof(mem) - (addr - BASE))
		return -1;
	memcpy(buf, mem + (addr - BASE), len);
	return 0;
}

static void put64(uint64_t addr, uint64_t v)
{
	memcpy(mem + (addr - BASE), &v, 8);
}

static void put32(uint64_t addr, uint32_t v)
{
	memcpy(mem + (addr - BASE), &v, 4);
}

/* An ASCII compact str object at `addr`. */
static void put_str(const struct py_offsets *o, uint64_t addr, const char *s)
{
	put64(addr + o->str_length, strlen(s));
	put32(addr + o->str_state, (1u << 2) | (1u << 5) | (1u << 6)); /* kind 1, compact, ascii */
	memcpy(mem + (addr - BASE) + o->str_ascii_data, s, strlen(s) + 1);
}

/* A code object at `addr` named `name` in "t.py", its strings and line table placed after it. */
static void put_code(const struct py_offsets *o, uint64_t addr, uint64_t type, const char *name)
{
	put64(addr + o->code_type, type);
	put32(addr + o->code_firstlineno, 1);
	put_str(o, addr + 0x200, name);
	put_str(o, addr + 0x280, "t.py");
	put64(addr + o->code_qualname, addr + 0x200);
	put64(addr + o->code_name, addr + 0x200);
	put64(addr + o->code_filename, addr + 0x280);
	put64(addr + 0x300 + o->bytes_size, sizeof(lt));
	memcpy(mem + (addr + 0x300 - BASE) + o->bytes_data, lt, sizeof(lt));
	put64(addr + o->code_linetable, addr + 0x300);
}

static void build_target(struct py_target *t, const struct py_offsets *o)
{
	memset(mem, 0, sizeof(mem));
	const uint64_t runtime = BASE, interp = BASE + 0x100, ts = BASE + 0x200, cframe = BASE + 0x300;
	const uint64_t f1 = BASE + 0x400, f2 = BASE + 0x480, f3 = BASE + 0x500, type = 0x777;
	const uint64_t c1 = BASE + 0x800, c2 = BASE + 0x1000;

	put64(runtime + o->runtime_interp_head, interp);
	put64(interp + o->interp_threads_head, ts);
	put64(ts + o->tstate_native_tid, 4242);
	put64(ts + o->tstate_cframe, cframe);
	put64(cframe + o->cframe_current_frame, f1);
	/* f1 (leaf, inner) in c1 at unit 14 (line 5); f2 in c2 at unit 6 (line 3), an entry; f3 in c2, root. */
	put64(f1 + o->frame_code, c1);
	put64(f1 + o->frame_prev_instr, c1 + o->code_adaptive + 14 * 2);
	put64(f1 + o->frame_previous, f2);
	put64(f2 + o->frame_code, c2);
	put64(f2 + o->frame_prev_instr, c2 + o->code_adaptive + 6 * 2);
	put64(f2 + o->frame_previous, f3);
	mem[f2 - BASE + o->frame_is_entry] = 1;
	put64(f3 + o->frame_code, c2);
	put64(f3 + o->frame_prev_instr, 0);
	put_code(o, c1, type, "Outer.inner");
	put_code(o, c2, type, "main");

	memset(t, 0, sizeof(*t));
	t->off = o;
	t->runtime = runtime;
	t->code_type = type;
	t->read = fake_read;
}

static void test_walk_fake(void **state)
{
	(void)state;
	const struct py_offsets *o = py_offsets_for(3, 11);
	assert_non_null(o);
	assert_null(py_offsets_for(3, 9));
	struct py_target t;
	build_target(&t, o);

	struct py_frame f[8];
	uint64_t hint = 0;
	size_t n = py_walk(&t, 4242, &hint, f, 8);
	assert_int_equal(n, 3);
	assert_int_equal(hint, BASE + 0x200);
	assert_false(f[0].entry);
	assert_true(f[1].entry);
	assert_int_equal(f[0].unit, 14);
	assert_int_equal(f[2].unit, -1);

	struct py_code c;
	assert_int_equal(py_code_read(&t, f[0].code, &c), 0);
	assert_string_equal(c.qualname, "Outer.inner");
	assert_string_equal(c.filename, "t.py");
	assert_int_equal(py311_line(c.linetable, c.linetable_len, c.firstlineno, f[0].unit), 5);
	assert_true(py_code_same(&t, f[0].code, &c));
	assert_false(py_code_same(&t, f[1].code, &c));
	py_code_release(&c);

	/* Another thread id: nothing; a cycle in the chain: bounded by the output. */
	hint = 0;
	assert_int_equal(py_walk(&t, 1, &hint, f, 8), 0);
	put64(BASE + 0x500 + o->frame_previous, BASE + 0x400);
	hint = 0;
	assert_int_equal(py_walk(&t, 4242, &hint, f, 8), 8);
	/* A cycle of frames without code (skipped, not output) still ends. */
	put64(BASE + 0x400 + o->frame_code, 0);
	put64(BASE + 0x480 + o->frame_code, 0);
	put64(BASE + 0x500 + o->frame_code, 0);
	hint = 0;
	assert_int_equal(py_walk(&t, 4242, &hint, f, 8), 0);
	put64(BASE + 0x400 + o->frame_code, BASE + 0x800);
	/* Not a code object (wrong type): refused. */
	t.code_type = 0x778;
	assert_int_equal(py_code_read(&t, f[0].code, &c), -1);
}

static pid_t live_child = -1;

/* Teardown: the child never outlives its test, even when an assertion failed. */
static int kill_child(void **state)
{
	(void)state;
	if (live_child > 0) {
		kill(live_child, SIGKILL);
		waitpid(live_child, NULL, 0);
		live_child = -1;
	}
	return 0;
}

/* A live Python 3.11: the reader names the function a busy script is in. */
static void test_walk_live(void **state)
{
	(void)state;
	const char *py = "/usr/bin/python3.11";
	if (access(py, X_OK) < 0) {
		skip();
		return;
	}
	int pfd[2];
	assert_int_equal(pipe(pfd), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	live_child = pid;
	if (pid == 0) {
		dup2(pfd[1], 1);
		execl(py, py, "-c",
		      "import sys\n"
		      "def kiln_spin():\n"
		      "    sys.stdout.write('go\\n'); sys.stdout.flush()\n"
		      "    while True:\n"
		      "        pass\n"
		      "kiln_spin()\n",
		      (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	char buf[8];
	assert_true(read(pfd[0], buf, sizeof(buf)) > 0);
	close(pfd[0]);

	struct err e = ERR_INIT;
	unsigned ma = 0, mi = 0;
	struct py_process *p = py_process_open((uint32_t)pid, &ma, &mi, &e);
	assert_int_equal(ma, 3);
	if (mi != 11) {
		assert_null(p);
		assert_non_null(strstr(e.msg, "Python"));
	} else {
		assert_non_null(p);
		const struct py_target *t = py_process_target(p);
		struct py_frame f[16];
		uint64_t hint = 0;
		size_t n = py_walk(t, (uint32_t)pid, &hint, f, 16);
		assert_true(n >= 2);
		struct py_code c;
		assert_int_equal(py_code_read(t, f[0].code, &c), 0);
		assert_string_equal(c.qualname, "kiln_spin");
		assert_string_equal(c.filename, "<string>");
		/* The script may still be finishing line 3 (the flush) when the parent reads "go". */
		int line = py311_line(c.linetable, c.linetable_len, c.firstlineno, f[0].unit);
		assert_true(line >= 3 && line <= 5);
		py_code_release(&c);
		assert_int_equal(py_code_read(t, f[n - 1].code, &c), 0);
		assert_string_equal(c.qualname, "<module>");
		py_code_release(&c);
		assert_true(f[n - 1].entry);
		py_process_free(p);
	}
	kill_child(NULL);

	/* Not a Python process. */
	assert_null(py_process_open((uint32_t)getpid(), NULL, NULL, &e));
	assert_non_null(strstr(e.msg, "not a Python"));
}

static void test_names(void **state)
{
	(void)state;
	struct rt_name n;
	assert_true(rt_parse_v8_name("JS:*hotA /tmp/rt/hot.js:1:14", &n));
	assert_int_equal(n.fn_len, 4);
	assert_memory_equal(n.fn, "hotA", 4);
	assert_int_equal(n.file_len, strlen("/tmp/rt/hot.js"));
	assert_memory_equal(n.file, "/tmp/rt/hot.js", n.file_len);
	assert_int_equal(n.line, 1);
	assert_true(rt_parse_v8_name("LazyCompile:~get x file:///a b/c.js:30:2", &n));
	assert_int_equal(n.fn_len, 5);
	assert_memory_equal(n.fn, "get x", 5);
	assert_memory_equal(n.file, "file:///a b/c.js", n.file_len);
	assert_int_equal(n.line, 30);
	assert_true(rt_parse_v8_name("JS:~ /tmp/x.js:1:1", &n));
	assert_int_equal(n.fn_len, 0);
	assert_true(rt_parse_v8_name("Function:^fn node:internal/main:12", &n));
	assert_int_equal(n.line, 12);
	assert_true(rt_parse_v8_name("JS:*nofile", &n));
	assert_int_equal(n.file_len, 0);
	assert_false(rt_parse_v8_name("Builtin:CallFunction", &n));
	assert_false(rt_parse_v8_name("", &n));

	assert_true(rt_parse_java_name("double Hot.hot(int)", &n));
	assert_int_equal(n.fn_len, 7);
	assert_memory_equal(n.fn, "Hot.hot", 7);
	assert_int_equal(n.sig_len, 5); /* overloads are told apart by their parameters */
	assert_memory_equal(n.sig, "(int)", 5);
	assert_true(rt_parse_java_name("void java.lang.Object.<init>()", &n));
	assert_memory_equal(n.fn, "java.lang.Object.<init>", n.fn_len);
	assert_true(rt_parse_java_name("java.lang.Object[] a.B$C.m(java.lang.Object, long)", &n));
	assert_memory_equal(n.fn, "a.B$C.m", n.fn_len);
	assert_int_equal(n.sig_len, strlen("(java.lang.Object, long)"));
	assert_memory_equal(n.sig, "(java.lang.Object, long)", n.sig_len);
	assert_false(rt_parse_java_name("Interpreter", &n));
	assert_false(rt_parse_java_name("StubRoutines (1)", &n));
	assert_false(rt_parse_java_name("std::vector<int>::push_back(int)", &n));
	assert_false(rt_parse_java_name("(", &n));

	assert_true(rt_parse_pyperf_name("py::Hot.run:/app/hot.py", &n));
	assert_memory_equal(n.fn, "Hot.run", n.fn_len);
	assert_memory_equal(n.file, "/app/hot.py", n.file_len);
	assert_false(rt_parse_pyperf_name("py::", &n));
	assert_false(rt_parse_pyperf_name("pyfoo", &n));
}

static void test_lang(void **state)
{
	(void)state;
	enum rt_lang l;
	assert_int_equal(rt_lang_parse("python", &l), 0);
	assert_int_equal(l, RT_PYTHON);
	assert_int_equal(rt_lang_parse("nodejs", &l), 0);
	assert_int_equal(l, RT_NODE);
	assert_int_equal(rt_lang_parse("cobol", &l), -1);
	assert_string_equal(rt_lang_name(RT_JAVA), "java");
	assert_int_equal(lang_by_name("/usr/bin/python3.11"), RT_PYTHON);
	assert_int_equal(lang_by_name("node"), RT_NODE);
	assert_int_equal(lang_by_name("/usr/lib/jvm/x/bin/java"), RT_JAVA);
	assert_int_equal(lang_by_name("/bin/ls"), RT_NATIVE);

	char path[] = "/tmp/kiln-test-shebang-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	const char *script = "#!/usr/bin/env -S python3 -u\nprint(1)\n";
	assert_int_equal(write(fd, script, strlen(script)), (ssize_t)strlen(script));
	close(fd);
	struct lang_guess g;
	lang_guess_file(path, &g);
	assert_int_equal(g.lang, RT_PYTHON);
	free(g.interp);
	unlink(path);
	lang_guess_command("sh", &g);
	assert_int_equal(g.lang, RT_NATIVE);
	free(g.interp);
	lang_guess_command("/nonexistent/kiln", &g);
	assert_int_equal(g.lang, RT_NATIVE);
}

/* A Go 1.18 pclntab with two functions, built by hand. */
static void test_gopcln(void **state)
{
	(void)state;
	uint8_t t[256];
	memset(t, 0, sizeof(t));
	uint32_t magic = 0xfffffff0;
	memcpy(t, &magic, 4);
	t[6] = 1;
	t[7] = 8;
	uint64_t nfunc = 2, names = 96, pcln = 128, text = 0x400000;
	memcpy(t + 8, &nfunc, 8);
	memcpy(t + 24, &text, 8);
	memcpy(t + 32, &names, 8);
	memcpy(t + 64, &pcln, 8);
	memcpy(t + 96, "main.a\0main.b\0", 14);
	/* functab at 128: (0, 24) (0x100, 32) (0x200 end); _func at pcln+24, pcln+32: entryoff, nameoff */
	uint32_t ft[6] = { 0, 24, 0x100, 32, 0x200, 0 };
	memcpy(t + 128, ft, sizeof(ft));
	uint32_t fa[2] = { 0, 0 }, fb[2] = { 0x100, 7 };
	memcpy(t + 128 + 24, fa, 8);
	memcpy(t + 128 + 32, fb, 8);
	struct go_pcln *g = go_pcln_parse(t, sizeof(t), 0x400000);
	assert_non_null(g);
	assert_string_equal(go_pcln_lookup(g, 0x400000), "main.a");
	assert_string_equal(go_pcln_lookup(g, 0x4000ff), "main.a");
	assert_string_equal(go_pcln_lookup(g, 0x400100), "main.b");
	assert_null(go_pcln_lookup(g, 0x400200));
	assert_null(go_pcln_lookup(g, 0x3fffff));
	go_pcln_free(g);
	/* Counts larger than the table are refused. */
	nfunc = 1000;
	memcpy(t + 8, &nfunc, 8);
	assert_null(go_pcln_parse(t, sizeof(t), 0x400000));
	assert_null(go_pcln_parse(t, 8, 0));
	go_pcln_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_linetable),
		cmocka_unit_test(test_walk_fake),
		cmocka_unit_test_teardown(test_walk_live, kill_child),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_lang),
		cmocka_unit_test(test_gopcln),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
