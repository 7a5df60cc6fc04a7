/* Unit tests for the perf script reader: stackcollapse-perf.pl's line semantics, frame kinds, labels, periods. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "formats/format.h"
#include "profile/profile.h"

static const struct format *ps(void)
{
	const struct format *f = format_by_name("perf-script");

	assert_non_null(f);
	return f;
}

/* Reads `text` with options `o` into a new profile; returns NULL (and fills `e`) on error. */
static struct profile *read_text(const char *text, const struct format_read_opts *o, struct err *e)
{
	static const struct format_read_opts defaults;
	struct profile *p = profile_new(0);
	struct input in;
	int r;

	input_from_memory(&in, text, strlen(text), "test");
	r = ps()->read(p, &in, o ? o : &defaults, e);
	input_close(&in);
	if (r) {
		profile_free(p);
		return NULL;
	}
	return p;
}

/* The folded text of a profile (sorted lines), as collapse prints it. */
static char *folded(const struct profile *p)
{
	const struct format *f = format_by_name("folded");
	struct format_write_opts w = { -1 };
	struct err e = ERR_INIT;
	char *out = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&out, &len);

	assert_non_null(fp);
	assert_int_equal(f->write(p, fp, &w, &e), 0);
	fclose(fp);
	return out;
}

static void check(const char *text, const struct format_read_opts *o, const char *want)
{
	struct err e = ERR_INIT;
	struct profile *p = read_text(text, o, &e);
	char *got;

	if (!p)
		fail_msg("read failed: %s", e.msg);
	got = folded(p);
	assert_string_equal(got, want);
	free(got);
	profile_free(p);
}

static void test_basic_sample(void **state)
{
	(void)state;
	check("swapper     0 [000] 158665.570607: cpu-clock: \n"
	      "\tffffffff8103ce3b native_safe_halt ([kernel.kallsyms])\n"
	      "\tffffffff8101c6a3 default_idle ([kernel.kallsyms])\n"
	      "\tffffffff81aebbfe start_kernel ([kernel.kallsyms].init.text)\n"
	      "\n",
	      NULL, "swapper;start_kernel;default_idle;native_safe_halt 1\n");
}

static void test_period_is_counted(void **state)
{
	(void)state;
	/* A header with a period counts it; "0" counts as 1 (Perl truth); no period counts 1. */
	check("dd 29776 666709.771979:   10101010 cpu-clock: \n\t414b3b fsnotify (/x/vmlinux)\n\n"
	      "dd 29776 666709.781979:   10101010 cpu-clock: \n\t414b3b fsnotify (/x/vmlinux)\n\n"
	      "dd 29776 666709.791979:   0 cpu-clock: \n\t414b3c read (/x/vmlinux)\n\n"
	      "dd 29776 cpu-clock: \n\t414b3d write (/x/vmlinux)\n\n",
	      NULL, "dd;fsnotify 20202020\ndd;read 1\ndd;write 1\n");
}

static void test_comm_pid_tid(void **state)
{
	struct format_read_opts pid = { .pid = true }, tid = { .tid = true };
	const char *text = "V8 WorkerThread 24636/25607 [000] 94564.109216: cycles: \n\t1 f (/bin/x)\n\n"
			   "java 12688 6544038.708352: cycles: \n\t1 g (/bin/x)\n\n"
			   "swapper 0/0 1.0: cycles: \n\t1 h (/bin/x)\n\n";

	(void)state;
	check(text, NULL, "V8_WorkerThread;f 1\njava;g 1\nswapper;h 1\n");
	check(text, &pid, "V8_WorkerThread-24636;f 1\njava-?;g 1\nswapper-?;h 1\n");
	check(text, &tid, "V8_WorkerThread-24636/25607;f 1\njava-?/12688;g 1\nswapper-?/0;h 1\n");
}

static void test_event_filter(void **state)
{
	struct format_read_opts o = { .event = "cycles" };
	struct err e = ERR_INIT;
	const char *text = "ab 1 1.0: 5 instructions: \n\t1 f (/bin/x)\n\n"
			   "ab 1 1.1: 7 cycles: \n\t1 g (/bin/x)\n\n"
			   "ab 1 1.2: 9 instructions: \n\t1 f (/bin/x)\n\n";
	struct profile *p;
	bool warned = false;

	(void)state;
	check(text, NULL, "ab;f 14\n");
	check(text, &o, "ab;g 7\n");
	p = read_text(text, NULL, &e);
	assert_non_null(p);
	for (size_t i = 0; i < p->warnings_nr; i++)
		if (strstr(profile_str(p, p->warnings[i]), "skipped 1 samples of other events such as 'cycles'"))
			warned = true;
	assert_true(warned);
	/* A warning is for stderr: it is no comment, so no writer stores it in an output file. */
	for (size_t i = 0; i < p->comments_nr; i++)
		assert_null(strstr(profile_str(p, p->comments[i]), "skipped"));
	profile_free(p);
}

static void test_tidy_and_annotations(void **state)
{
	struct format_read_opts all = { .all = true }, addrs = { .addrs = true };
	const char *text = "java 1 1.0: cycles: \n"
			   "\t1 Lorg/mozilla/javascript/MemberBox;.<init>(Ljava/lang/reflect/Method;)V "
			   "(/tmp/perf-9.map)\n"
			   "\t2 foo(int)+0x1f ([kernel.kallsyms])\n"
			   "\t3 RegExp:[&<>\\\"\\'] (/tmp/perf-9.map)\n"
			   "\t4 [unknown] (/usr/lib/libc.so.6)\n"
			   "\t5 net/http.(*Client).Do (/bin/go)\n"
			   "\t6 a->b (/bin/x)\n"
			   "\t7 (anonymous namespace)::skip (/bin/x)\n"
			   "\n";

	(void)state;
	check(text, NULL, "java;a;b_[i];net/http.(*Client).Do;[libc.so.6];RegExp:[&<>\\\\];foo;"
			  "org/mozilla/javascript/MemberBox:.<init> 1\n");
	check(text, &all, "java;a;b_[i];net/http.(*Client).Do;[libc.so.6];RegExp:[&<>\\\\]_[j];foo_[k];"
			  "org/mozilla/javascript/MemberBox:.<init>_[j] 1\n");
	check(text, &addrs, "java;a;b_[i];net/http.(*Client).Do;[libc.so.6 <4>];RegExp:[&<>\\\\];foo;"
			    "org/mozilla/javascript/MemberBox:.<init> 1\n");
}

static void test_perl_backtracking(void **state)
{
	(void)state;
	/* "abc (x)": the address gives back a byte so that the function is not empty: function "c". */
	check("pp 1 1.0: e: \n  abc (x)\n\n", NULL, "pp;c 1\n");
	/*
	 * The module runs to the last ')' and the function to the last " (" before it: "f (a)", which the argument
	 * cut leaves as "f " (with its blank).
	 */
	check("pp 1 1.0: e: \n\t1 f (a) (b) tail) more\n\n", NULL, "pp;f  1\n");
	/* The comm is the shortest prefix followed by blanks and a number: "a b" here. */
	check("a b 12 x 34 1.0: e: \n\t1 f (m)\n\n", NULL, "a_b;f 1\n");
	/* A one-letter comm is the comm (the Perl pattern would take "a 4242 9.5:" as the comm, the period as pid). */
	check("a 4242 9.5:    1001001 cpu-clock:pppH: \n\t118b leaf+0x2b (/tmp/a)\n\n"
	      "a 4242 9.6:    1001001 cpu-clock:pppH: \n\t118b leaf+0x2b (/tmp/a)\n\n",
	      NULL, "a;leaf 2002002\n");
	/* Frame lines before any header, and headers without frames. */
	check("\t1 orphan (m)\n\nqq 5 1.0: e: \n\n", NULL, "qq 1\n");
}

static void test_kinds_modules_labels(void **state)
{
	struct format_read_opts o = { .labels = true };
	struct err e = ERR_INIT;
	struct profile *p = read_text("my prog 10/11 1.0: 3 cycles: \n"
				      "\t1 k ([kernel.kallsyms])\n"
				      "\t2 j (/tmp/perf-10.map)\n"
				      "\t3 i (inlined)\n"
				      "\t4 a->b (/bin/prog)\n"
				      "\n",
				      &o, &e);
	uint32_t stack[16];
	size_t n;
	int64_t v;
	static const enum frame_kind kinds[] = { FRAME_ROOT, FRAME_NATIVE, FRAME_INLINED, FRAME_INLINED,
						 FRAME_JIT, FRAME_KERNEL };
	static const char *const names[] = { "my_prog", "a", "b_[i]", "i", "j", "k" };

	(void)state;
	assert_non_null(p);
	assert_int_equal(p->rows_nr, 1);
	n = profile_stack(p, p->rows[0].node, stack, 16);
	assert_int_equal(n, 6);
	for (size_t i = 0; i < n; i++) {
		const struct frame *f = &p->frames[stack[i]];

		assert_string_equal(profile_str(p, f->function), names[i]);
		assert_int_equal(f->kind, kinds[i]);
	}
	assert_string_equal(profile_str(p, p->frames[stack[1]].module), "/bin/prog");
	assert_true(profile_label_num(p, p->rows[0].labelset, "pid", &v));
	assert_int_equal(v, 10);
	assert_true(profile_label_num(p, p->rows[0].labelset, "tid", &v));
	assert_int_equal(v, 11);
	assert_string_equal(profile_str(p, profile_label_str(p, p->rows[0].labelset, "comm")), "my prog");
	/* Column 0 counts samples; the event's summed periods are the default column, as collapse prints them. */
	assert_int_equal(profile_row_values(p, 0)[0], 1);
	assert_int_equal(profile_default_column(p), 1);
	assert_int_equal(profile_row_values(p, 0)[1], 3);
	assert_string_equal(profile_str(p, p->columns[0].type), "samples");
	profile_free(p);
}

static void test_errors(void **state)
{
	struct err e = ERR_INIT;
	static const char bin[] = "abc\0def\n";
	struct profile *p = profile_new(0);
	struct input in;

	(void)state;
	assert_null(read_text("main;foo 12\n", NULL, &e));
	assert_non_null(strstr(e.msg, "not perf script text"));
	assert_null(read_text("PERFILE2 and more", NULL, &e));
	assert_non_null(strstr(e.msg, "perf.data"));
	input_from_memory(&in, bin, sizeof(bin) - 1, "bin");
	assert_int_equal(ps()->read(p, &in, &(struct format_read_opts){ 0 }, &e), -1);
	assert_non_null(strstr(e.msg, "binary"));
	input_close(&in);
	profile_free(p);
	/* Empty and comment-only inputs are not errors: there is simply nothing to count. */
	p = read_text("", NULL, &e);
	assert_non_null(p);
	assert_int_equal(p->rows_nr, 0);
	profile_free(p);
	p = read_text("# header only\n#\n", NULL, &e);
	assert_non_null(p);
	profile_free(p);
	/* Periods whose sum overflows are an error, not undefined behaviour. */
	assert_null(read_text("ab 1 1.0: 9223372036854775807 e: \n\t1 f (m)\n\n"
			      "ab 1 1.0: 9223372036854775807 e: \n\t1 f (m)\n\n",
			      NULL, &e));
	assert_non_null(strstr(e.msg, "overflow"));
}

static void test_probe(void **state)
{
	static const char script[] = "perf 1 [000] 1.0: 1 cycles: \n\tffff f (m)\n\n";
	static const char folded_text[] = "main;foo 12\nmain;bar 3\n";
	const struct format *f;

	(void)state;
	assert_true(ps()->probe((const unsigned char *)script, sizeof(script) - 1) >= 90);
	assert_int_equal(ps()->probe((const unsigned char *)folded_text, sizeof(folded_text) - 1), 0);
	f = format_detect((const unsigned char *)script, sizeof(script) - 1);
	assert_non_null(f);
	assert_string_equal(f->name, "perf-script");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic_sample),
		cmocka_unit_test(test_period_is_counted),
		cmocka_unit_test(test_comm_pid_tid),
		cmocka_unit_test(test_event_filter),
		cmocka_unit_test(test_tidy_and_annotations),
		cmocka_unit_test(test_perl_backtracking),
		cmocka_unit_test(test_kinds_modules_labels),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_probe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
