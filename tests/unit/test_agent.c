/*
 * The agent's window handling (src/agent/agent.c): a window's profile split per process keeps each process's
 * stacks and values exactly and drops the per-sample labels; service names from comm, exe and cgroup, with
 * the fallback for a process that is gone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent.h"
#include "core/buf.h"
#include "profile/profile.h"

static uint32_t stack_of(struct profile *p, const char *const *names)
{
	uint32_t n = 0;

	for (; *names; names++)
		n = profile_node(p, n, profile_frame_named(p, *names, strlen(*names), FRAME_NATIVE));
	return n;
}

static uint32_t labels(struct profile *p, int64_t pid, int64_t tid, const char *comm)
{
	struct label l[3];

	memset(l, 0, sizeof(l));
	l[0].key = profile_intern_str(p, "pid");
	l[0].num = pid;
	l[1].key = profile_intern_str(p, "tid");
	l[1].num = tid;
	l[2].key = profile_intern_str(p, "comm");
	l[2].str = profile_intern_str(p, comm);
	return profile_labelset(p, l, 3);
}

/* Two processes, three threads; the same stack in two of them. */
static struct profile *window(void)
{
	struct profile *p = profile_new(0);
	static const char *const a[] = { "main", "work", "hash", NULL };
	static const char *const b[] = { "main", "idle", NULL };

	profile_add_column(p, "samples", "count");
	profile_add_column(p, "cpu", "nanoseconds");
	p->time_nanos = 1000;
	p->duration_nanos = 10;
	profile_add_sample(p, stack_of(p, a), labels(p, 10, 10, "api"), (int64_t[]){ 3, 30 });
	profile_add_sample(p, stack_of(p, a), labels(p, 10, 11, "api-worker"), (int64_t[]){ 4, 40 });
	profile_add_sample(p, stack_of(p, b), labels(p, 20, 20, "db"), (int64_t[]){ 5, 50 });
	profile_add_sample(p, stack_of(p, a), labels(p, 20, 21, "db"), (int64_t[]){ 1, 10 });
	return p;
}

static int strcmp_p(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The folded lines of column `c`, sorted, as one string. */
static char *folded(const struct profile *p, int c)
{
	struct buf b = BUF_INIT;
	char **lines = calloc(p->rows_nr + 1, sizeof(*lines));
	uint32_t ids[64];

	for (size_t r = 0; r < p->rows_nr; r++) {
		struct buf l = BUF_INIT;
		size_t n = profile_stack(p, p->rows[r].node, ids, 64);

		for (size_t i = 0; i < n; i++)
			buf_addf(&l, "%s%s", i ? ";" : "", profile_str(p, p->frames[ids[i]].function));
		buf_addf(&l, " %lld", (long long)profile_row_values(p, r)[c]);
		lines[r] = buf_detach(&l, NULL);
	}
	qsort(lines, p->rows_nr, sizeof(*lines), strcmp_p);
	for (size_t r = 0; r < p->rows_nr; r++) {
		buf_addf(&b, "%s\n", lines[r]);
		free(lines[r]);
	}
	free(lines);
	return buf_detach(&b, NULL);
}

static void test_project_per_process(void **state)
{
	struct profile *p = window(), *q10 = agent_project(p, 10), *q20 = agent_project(p, 20), *all;
	char *s;

	(void)state;
	/* pid 10: its two threads' identical stacks become one row without labels. */
	assert_int_equal(q10->rows_nr, 1);
	assert_int_equal(q10->rows[0].labelset, 0);
	s = folded(q10, 1);
	assert_string_equal(s, "main;work;hash 70\n");
	free(s);
	s = folded(q10, 0);
	assert_string_equal(s, "main;work;hash 7\n");
	free(s);
	s = folded(q20, 1);
	assert_string_equal(s, "main;idle 50\nmain;work;hash 10\n");
	free(s);
	assert_int_equal(q20->time_nanos, 1000);
	assert_int_equal(q20->duration_nanos, 10);
	assert_string_equal(profile_str(q20, q20->columns[1].type), "cpu");
	assert_string_equal(profile_str(q20, q20->columns[1].unit), "nanoseconds");

	/* Every row: the totals of the window, no labels. */
	all = agent_project(p, -1);
	assert_int_equal(profile_total(all, 1), profile_total(p, 1));
	assert_int_equal(profile_total(all, 0), 13);
	for (size_t r = 0; r < all->rows_nr; r++)
		assert_int_equal(all->rows[r].labelset, 0);
	s = folded(all, 1);
	assert_string_equal(s, "main;idle 50\nmain;work;hash 80\n");
	free(s);

	/* A pid with no samples: an empty profile. */
	profile_free(q10);
	q10 = agent_project(p, 99);
	assert_int_equal(q10->rows_nr, 0);
	profile_free(q10);
	profile_free(q20);
	profile_free(all);
	profile_free(p);
}

static void read_line(const char *path, char *out, size_t n)
{
	FILE *f = fopen(path, "r");

	assert_non_null(f);
	assert_non_null(fgets(out, (int)n, f));
	out[strcspn(out, "\n")] = 0;
	fclose(f);
}

static void test_service_names(void **state)
{
	struct buf b = BUF_INIT;
	char comm[64], exe[4096], cg[4096];
	ssize_t n;

	(void)state;
	read_line("/proc/self/comm", comm, sizeof(comm));
	agent_service_name(&b, getpid(), AGENT_SERVICE_COMM, "x");
	assert_string_equal(b.buf, comm);

	buf_reset(&b);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	assert_true(n > 0);
	exe[n] = 0;
	agent_service_name(&b, getpid(), AGENT_SERVICE_EXE, "x");
	assert_string_equal(b.buf, strrchr(exe, '/') + 1);
	assert_string_equal(b.buf, "test_agent");

	/* cgroup v2: the last component of "0::/PATH"; the root cgroup names nothing, so comm does. */
	buf_reset(&b);
	agent_service_name(&b, getpid(), AGENT_SERVICE_CGROUP, "x");
	{
		FILE *f = fopen("/proc/self/cgroup", "r");
		const char *want = comm;

		while (f && fgets(cg, sizeof(cg), f))
			if (!strncmp(cg, "0::/", 4)) {
				cg[strcspn(cg, "\n")] = 0;
				if (cg[4])
					want = strrchr(cg, '/') + 1;
				break;
			}
		if (f)
			fclose(f);
		assert_string_equal(b.buf, want);
	}

	/* Gone from /proc: the comm seen in the samples, else "unknown". */
	buf_reset(&b);
	agent_service_name(&b, 0x3ffffff0, AGENT_SERVICE_EXE, "seen-comm");
	assert_string_equal(b.buf, "seen-comm");
	buf_reset(&b);
	agent_service_name(&b, 0x3ffffff0, AGENT_SERVICE_COMM, NULL);
	assert_string_equal(b.buf, "unknown");
	buf_release(&b);

	assert_int_equal(agent_service_from_parse("cgroup"), AGENT_SERVICE_CGROUP);
	assert_int_equal(agent_service_from_parse("exe"), AGENT_SERVICE_EXE);
	assert_int_equal(agent_service_from_parse("comm"), AGENT_SERVICE_COMM);
	assert_int_equal(agent_service_from_parse("pod"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_project_per_process),
		cmocka_unit_test(test_service_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
