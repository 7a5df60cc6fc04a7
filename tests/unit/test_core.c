/* Unit tests for src/core: buffers, hash tables, interning, JSON writer, option parsing, atomic files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/atomicfile.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/hash.h"
#include "core/json.h"
#include "core/options.h"
#include "core/util.h"

static void test_buf_basics(void **state)
{
	struct buf b = BUF_INIT;
	char *s;
	size_t len;

	(void)state;
	assert_string_equal(b.buf, "");
	buf_adds(&b, "hello");
	buf_addch(&b, ' ');
	buf_addf(&b, "%d-%s", 42, "x");
	assert_string_equal(b.buf, "hello 42-x");
	assert_int_equal(b.len, 10);
	for (int i = 0; i < 10000; i++)
		buf_addf(&b, "%04d", i);
	assert_int_equal(b.len, 10 + 40000);
	assert_int_equal(b.buf[b.len], '\0');
	buf_setlen(&b, 5);
	assert_string_equal(b.buf, "hello");
	s = buf_detach(&b, &len);
	assert_int_equal(len, 5);
	assert_string_equal(s, "hello");
	assert_string_equal(b.buf, "");
	free(s);
	buf_release(&b);
}

static void test_buf_xml(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	buf_add_xml(&b, "<a href=\"x\">&'", 14);
	assert_string_equal(b.buf, "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
	buf_reset(&b);
	/* Invalid UTF-8, a control character, an overlong encoding and a valid multibyte char. */
	buf_add_xml(&b, "a\xff" "b\x01" "c\xc0\xaf" "d\xc3\xa9", 10);
	assert_string_equal(b.buf, "a\xef\xbf\xbd" "b\xef\xbf\xbd" "c\xef\xbf\xbd\xef\xbf\xbd" "d\xc3\xa9");
	buf_release(&b);
}

static void test_u64map(void **state)
{
	struct u64map m = U64MAP_INIT;
	int ins;

	(void)state;
	assert_null(u64map_find(&m, 5));
	for (uint64_t k = 0; k < 100000; k++)
		*u64map_insert(&m, k * 7919, &ins) = k + 1;
	assert_int_equal(m.nr, 100000);
	for (uint64_t k = 0; k < 100000; k++) {
		uint64_t *v = u64map_find(&m, k * 7919);

		assert_non_null(v);
		assert_int_equal(*v, k + 1);
	}
	assert_null(u64map_find(&m, 3));
	/* The reserved key is absent however full the table is (it used to "find" an empty slot). */
	assert_null(u64map_find(&m, U64MAP_EMPTY));
	u64map_insert(&m, 7919, &ins);
	assert_int_equal(ins, 0);
	{
		size_t pos = 0, n = 0;
		uint64_t k, v;

		while (u64map_next(&m, &pos, &k, &v))
			n++;
		assert_int_equal(n, 100000);
	}
	u64map_release(&m);
	/* Reserved room holds that many entries without a resize (the slots stay where they are). */
	u64map_reserve(&m, 1000);
	{
		const struct u64map_slot *slots = m.slots;

		for (uint64_t k = 0; k < 1000; k++)
			*u64map_insert(&m, k, &ins) = k;
		assert_ptr_equal(m.slots, slots);
		u64map_reserve(&m, 10);
		assert_ptr_equal(m.slots, slots);
		u64map_reserve(&m, 5000);
		assert_int_equal(m.nr, 1000);
		assert_int_equal(*u64map_find(&m, 999), 999);
	}
	/* Cleared, a map is empty and keeps its slots; filled again, it finds the new entries only. */
	{
		const struct u64map_slot *slots = m.slots;
		size_t pos = 0;
		uint64_t k, v;

		u64map_clear(&m);
		assert_int_equal(m.nr, 0);
		assert_ptr_equal(m.slots, slots);
		assert_null(u64map_find(&m, 999));
		assert_int_equal(u64map_next(&m, &pos, &k, &v), 0);
		for (uint64_t i = 0; i < 500; i++)
			*u64map_insert(&m, i * 3, &ins) = i;
		assert_int_equal(m.nr, 500);
		assert_int_equal(*u64map_find(&m, 3 * 499), 499);
		assert_null(u64map_find(&m, 1));
	}
	u64map_release(&m);
}

static void test_strtab(void **state)
{
	struct strtab t = STRTAB_INIT;
	char name[32];

	(void)state;
	assert_int_equal(strtab_intern(&t, "", 0), 0);
	assert_int_equal(strtab_intern(&t, "main", 4), 1);
	assert_int_equal(strtab_intern(&t, "main", 4), 1);
	assert_int_equal(strtab_intern(&t, "mai", 3), 2);
	/* Embedded NUL bytes are part of the string. */
	assert_int_equal(strtab_intern(&t, "a\0b", 3), 3);
	assert_int_equal(strtab_intern(&t, "a\0c", 3), 4);
	for (int i = 0; i < 50000; i++) {
		int n = snprintf(name, sizeof(name), "fn_%d", i);

		assert_int_equal(strtab_intern(&t, name, (size_t)n), 5 + i);
	}
	assert_int_equal(strtab_find(&t, "fn_49999", 8), 5 + 49999);
	assert_int_equal(strtab_find(&t, "nope", 4), -1);
	assert_string_equal(strtab_str(&t, 1), "main");
	assert_int_equal(strtab_len(&t, 3), 3);
	strtab_release(&t);
}

static void test_arena(void **state)
{
	struct arena a = ARENA_INIT;
	char *big;

	(void)state;
	for (int i = 0; i < 10000; i++) {
		char *s = arena_strndup(&a, "abcdefgh", 5);

		assert_string_equal(s, "abcde");
		assert_int_equal((uintptr_t)s % 16, 0);
	}
	big = arena_alloc(&a, 1 << 20);
	memset(big, 1, 1 << 20);
	arena_release(&a);
	assert_null(a.head);
}

static void test_json(void **state)
{
	struct buf b = BUF_INIT;
	struct jw j;

	(void)state;
	jw_init(&j, &b, false);
	jw_object_begin(&j);
	jw_key(&j, "name");
	jw_string(&j, "a\"b\\c\n\x01</script>\xff");
	jw_key(&j, "n");
	jw_int(&j, -3);
	jw_key(&j, "list");
	jw_array_begin(&j);
	jw_double(&j, 0.1);
	jw_double(&j, 1.0 / 0.0);
	jw_bool(&j, true);
	jw_null(&j);
	jw_array_end(&j);
	jw_key(&j, "empty");
	jw_object_begin(&j);
	jw_object_end(&j);
	jw_object_end(&j);
	assert_string_equal(b.buf, "{\"name\":\"a\\\"b\\\\c\\n\\u0001<\\/script>\xef\xbf\xbd\",\"n\":-3,"
				   "\"list\":[0.1,null,true,null],\"empty\":{}}");
	buf_release(&b);
}

/* The key/value helpers write what jw_key() and the value call write, commas and indentation included. */
static void test_json_kv(void **state)
{
	struct buf b = BUF_INIT;
	struct jw j;

	(void)state;
	jw_init(&j, &b, true);
	jw_object_begin(&j);
	jw_kv_str(&j, "s", "x\"y");
	jw_kv_str(&j, "none", NULL);
	jw_kv_i64(&j, "i", INT64_MIN);
	jw_kv_u64(&j, "u", UINT64_MAX);
	jw_kv_double(&j, "d", 2.5);
	jw_kv_bool(&j, "b", false);
	jw_kv_null(&j, "n");
	jw_object_end(&j);
	assert_string_equal(b.buf, "{\n  \"s\": \"x\\\"y\",\n  \"none\": null,\n  \"i\": -9223372036854775808,\n"
				   "  \"u\": 18446744073709551615,\n  \"d\": 2.5,\n  \"b\": false,\n  \"n\": null\n}\n");
	buf_release(&b);
}

static bool o_flag;
static long long o_num = 7;
static double o_dbl;
static const char *o_str;
static const char *o_choice = "b";
static struct opt_list o_list;
static const char *const choices[] = { "a", "b", "c", NULL };

static const struct option test_opts[] = {
	OPT_BOOL('f', "flag", &o_flag, "a flag"),
	OPT_INT('n', "num", &o_num, "N", "a number", 1, 100),
	OPT_DOUBLE(0, "dbl", &o_dbl, "X", "a double", 0, 1),
	OPT_STRING('o', "output", &o_str, "FILE", "output"),
	OPT_CHOICE(0, "mode", &o_choice, NULL, "a choice", choices),
	OPT_LIST('L', "list", &o_list, "V", "repeatable"),
	OPT_END(),
};
static const struct cmd_help test_help = { "test", "kiln test [OPTIONS] ARGS", "Tests.", "  kiln test\n" };

static void test_options(void **state)
{
	char *argv[] = { "test", "-f", "--num=42", "pos1", "-o", "out.svg", "--dbl", "0.5", "--mode", "c",
			 "-Lx", "--list", "y", "--", "--not-an-option", NULL };
	int n;

	(void)state;
	n = parse_options(15, argv, test_opts, &test_help, 0);
	assert_int_equal(n, 2);
	assert_string_equal(argv[0], "pos1");
	assert_string_equal(argv[1], "--not-an-option");
	assert_true(o_flag);
	assert_int_equal(o_num, 42);
	assert_true(o_dbl == 0.5);
	assert_string_equal(o_str, "out.svg");
	assert_string_equal(o_choice, "c");
	assert_int_equal(o_list.nr, 2);
	assert_string_equal(o_list.v[0], "x");
	assert_string_equal(o_list.v[1], "y");
	free(o_list.v);
	memset(&o_list, 0, sizeof(o_list));

	{
		char *a2[] = { "test", "--no-flag", "-n5", NULL };

		assert_int_equal(parse_options(3, a2, test_opts, &test_help, 0), 0);
		assert_false(o_flag);
		assert_int_equal(o_num, 5);
	}
	{
		/* Stop at the first non-option: the command being profiled keeps its own flags. */
		char *a3[] = { "test", "-f", "./prog", "-n", "3", NULL };

		assert_int_equal(parse_options(5, a3, test_opts, &test_help, PARSE_STOP_AT_NON_OPTION), 3);
		assert_string_equal(a3[0], "./prog");
		assert_string_equal(a3[1], "-n");
	}
}

static void test_options_errors(void **state)
{
	char *bad_num[] = { "test", "--num", "1000", NULL };
	char *bad_word[] = { "test", "--num", "12abc", NULL };
	char *unknown[] = { "test", "--bogus", NULL };
	char *missing[] = { "test", "--output", NULL };
	char *bad_choice[] = { "test", "--mode", "z", NULL };

	(void)state;
	assert_int_equal(parse_options(3, bad_num, test_opts, &test_help, 0), PARSE_ERROR);
	assert_int_equal(parse_options(3, bad_word, test_opts, &test_help, 0), PARSE_ERROR);
	assert_int_equal(parse_options(2, unknown, test_opts, &test_help, 0), PARSE_ERROR);
	assert_int_equal(parse_options(2, missing, test_opts, &test_help, 0), PARSE_ERROR);
	assert_int_equal(parse_options(3, bad_choice, test_opts, &test_help, 0), PARSE_ERROR);
}

/* -P NAME MIN MAX: an option with several values, collected in order with the spelling used. */
static char args_seen[256];

static int collect_args(const struct option *opt, const char *flag, const char *const *args, struct err *e)
{
	size_t len = strlen(args_seen);

	if (!strcmp(args[0], "bad"))
		return err_set(e, "%s: bad name '%s'", flag, args[0]);
	snprintf(args_seen + len, sizeof(args_seen) - len, "%s%s(%s,%s,%s)", len ? " " : "", flag, args[0], args[1],
		 args[2]);
	return 0;
}

static void test_options_args(void **state)
{
	static const struct option opts[] = {
		OPT_ARGS('P', "scan", NULL, "NAME MIN MAX", "a scan", 3, collect_args),
		OPT_BOOL('f', "flag", &o_flag, "a flag"),
		OPT_END(),
	};
	char *argv[] = { "test", "-P", "n", "-1", "4", "cmd", "--scan=m", "1", "2", "-fPk", "5", "6", "--", "-f",
			 "-P", NULL };
	char *few[] = { "test", "-P", "n", "1", NULL };
	char *dash[] = { "test", "--scan", "n", "1", "--", "2", NULL };
	char *bad[] = { "test", "-P", "bad", "1", "2", NULL };
	char *dash_value[] = { "test", "--output", "--", "x", NULL };
	int n;

	(void)state;
	o_flag = false;
	args_seen[0] = 0;
	/* Values may start with '-'; `--` is kept as an argument; what follows it is no option. */
	n = parse_options(15, argv, opts, &test_help, PARSE_KEEP_DASHDASH);
	assert_int_equal(n, 4);
	assert_string_equal(args_seen, "-P(n,-1,4) --scan(m,1,2) -P(k,5,6)");
	assert_true(o_flag);
	assert_string_equal(argv[0], "cmd");
	assert_string_equal(argv[1], "--");
	assert_string_equal(argv[2], "-f");
	assert_string_equal(argv[3], "-P");
	assert_null(argv[4]);
	/* Missing values, `--` in their place and a callback's refusal are usage errors. */
	assert_int_equal(parse_options(4, few, opts, &test_help, 0), PARSE_ERROR);
	assert_int_equal(parse_options(6, dash, opts, &test_help, 0), PARSE_ERROR);
	args_seen[0] = 0;
	assert_int_equal(parse_options(5, bad, opts, &test_help, 0), PARSE_ERROR);
	assert_string_equal(args_seen, "");
	/* Where `--` is kept as the separator it is no option's value either. */
	{
		static const struct option str_opts[] = {
			OPT_STRING('o', "output", &o_str, "FILE", "output"),
			OPT_END(),
		};

		assert_int_equal(parse_options(4, dash_value, str_opts, &test_help, PARSE_KEEP_DASHDASH), PARSE_ERROR);
	}
}

static void test_parse_numbers(void **state)
{
	struct err e = ERR_INIT;
	long long v;
	double d;

	(void)state;
	assert_int_equal(parse_ll("0x10", 0, 100, "--x", &v, &e), 0);
	assert_int_equal(v, 16);
	assert_int_equal(parse_ll("", 0, 100, "--x", &v, &e), -1);
	assert_non_null(strstr(e.msg, "--x"));
	assert_int_equal(parse_double("nan", 0, 1, "--d", &d, &e), -1);
	assert_int_equal(parse_double("1e-3", 0, 1, "--d", &d, &e), 0);
}

static void test_report_format(void **state)
{
	(void)state;
	assert_string_equal(report_format_for_path("out/r.json"), "json");
	assert_string_equal(report_format_for_path("R.MD"), "markdown");
	assert_string_equal(report_format_for_path("r.markdown"), "markdown");
	assert_string_equal(report_format_for_path("r.html"), "html");
	assert_null(report_format_for_path("r.txt"));
	assert_null(report_format_for_path(".json")); /* a name, not an extension */
	assert_null(report_format_for_path("json"));
	assert_null(report_format_for_path(NULL));
}

static void test_atomic_file(void **state)
{
	char dir[] = "/tmp/kiln-afile-XXXXXX", path[256];
	struct err e = ERR_INIT;
	struct afile f;
	struct buf b = BUF_INIT;
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/out.txt", dir);
	/* An aborted write leaves nothing behind, not even the temporary. */
	assert_int_equal(afile_open(&f, path, &e), 0);
	fputs("partial", f.fp);
	afile_abort(&f);
	assert_int_not_equal(stat(path, &st), 0);
	/* A committed write is complete. */
	assert_int_equal(afile_write_all(path, "whole\n", 6, &e), 0);
	assert_int_equal(buf_read_file(&b, path, &e), 0);
	assert_string_equal(b.buf, "whole\n");
	/* A failed open names the file. */
	assert_int_equal(afile_open(&f, "/nonexistent-dir/x.svg", &e), -1);
	assert_non_null(strstr(e.msg, "/nonexistent-dir/x.svg"));
	/* A writer killed mid-way leaves the old file intact and no temporary. */
	{
		pid_t pid = fork();

		if (pid == 0) {
			struct afile g;

			afile_install_signal_cleanup();
			if (afile_open(&g, path, NULL))
				_exit(1);
			fputs("half", g.fp);
			fflush(g.fp);
			raise(SIGTERM);
			_exit(0);
		}
		waitpid(pid, NULL, 0);
	}
	buf_reset(&b);
	assert_int_equal(buf_read_file(&b, path, &e), 0);
	assert_string_equal(b.buf, "whole\n");
	{
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "test $(ls -A %s | wc -l) -eq 1", dir);
		assert_int_equal(system(cmd), 0);
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		assert_int_equal(system(cmd), 0);
	}
	buf_release(&b);
}

static void test_fmt(void **state)
{
	char out[32];

	(void)state;
	assert_string_equal(fmt_count(out, 1234567), "1,234,567");
	assert_string_equal(fmt_count(out, 12), "12");
	assert_string_equal(fmt_bytes(out, 1536), "1.50 KiB");
	assert_string_equal(fmt_ns(out, 2500000), "2.5 ms");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_basics), cmocka_unit_test(test_buf_xml),  cmocka_unit_test(test_u64map),
		cmocka_unit_test(test_strtab),     cmocka_unit_test(test_arena),    cmocka_unit_test(test_json), cmocka_unit_test(test_json_kv),
		cmocka_unit_test(test_options),    cmocka_unit_test(test_options_errors),
		cmocka_unit_test(test_options_args),
		cmocka_unit_test(test_parse_numbers), cmocka_unit_test(test_atomic_file), cmocka_unit_test(test_fmt),
		cmocka_unit_test(test_report_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
