/* The report of kiln profile --mode io: the system call table, latency histograms, slowest calls, files and block
 * devices on stderr, and the same as JSON (split out of profile_wait.c). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "../core/atomicfile.h"
#include "../core/buf.h"
#include "../core/err.h"
#include "../core/json.h"
#include "../core/util.h"
#include "../record/iotrace.h"
#include "../record/run.h"
#include "profile_common.h"
#include "profile_io.h"

static void print_hist(const uint64_t *hist, const char *indent)
{
	int lo = -1, hi = -1;
	uint64_t max = 0;
	for (int b = 0; b < IO_HIST; b++) {
		if (!hist[b])
			continue;
		if (lo < 0)
			lo = b;
		hi = b;
		if (hist[b] > max)
			max = hist[b];
	}
	for (int b = lo; b >= 0 && b <= hi; b++) {
		char a[32], c[32], n[32];
		char bar[41];
		int w = max ? (int)((double)hist[b] * 40.0 / (double)max + 0.5) : 0;
		memset(bar, '#', (size_t)w);
		bar[w] = 0;
		fmt_ns(a, b ? (double)(1ULL << b) : 0.0);
		fmt_ns(c, (double)(1ULL << (b + 1)));
		fprintf(stderr, "%s%9s .. %-9s %10s |%-40s|\n", indent, a, c, fmt_count(n, hist[b]), bar);
	}
}

static const char *errname(int64_t ret)
{
	if (ret < 0 && ret >= -4095)
		return strerror((int)-ret);
	return NULL;
}

void profile_io_print(const struct io_result *res, long long top)
{
	char a[32], b[32], c[32], d[32];
	if (res->counts_only) {
		fprintf(stderr, "%-18s %12s\n", "syscall", "calls");
		for (size_t i = 0; i < res->nsys && (long long)i < (top > 0 ? top * 3 : 30); i++)
			fprintf(stderr, "%-18s %12s\n", res->sys[i].name ? res->sys[i].name : "?",
				fmt_count(a, res->sys[i].count));
		if (res->nsys > 1)
			fprintf(stderr, "%-18s %12s\n", "total", fmt_count(a, res->calls));
		return;
	}
	fprintf(stderr, "%-18s %12s %8s %12s %10s %10s\n", "syscall", "calls", "errors", "total", "mean", "max");
	for (size_t i = 0; i < res->nsys && (long long)i < (top > 0 ? top * 3 : 30); i++) {
		const struct io_syscall *s = &res->sys[i];
		char nm[32];
		if (!s->name)
			snprintf(nm, sizeof(nm), "syscall_%u", s->nr);
		fprintf(stderr, "%-18s %12s %8s %12s %10s %10s\n", s->name ? s->name : nm, fmt_count(a, s->count),
			fmt_count(d, s->errors), fmt_ns(b, (double)s->total_ns),
			fmt_ns(c, (double)s->total_ns / (double)s->count), fmt_ns((char[32]){ 0 }, (double)s->max_ns));
	}
	if (res->nsys > 1)
		fprintf(stderr, "%-18s %12s %8s %12s\n", "total", fmt_count(a, res->calls), fmt_count(d, res->errors),
			fmt_ns(b, (double)res->total_ns));
	for (size_t i = 0; i < res->nsys && i < 3 && top > 0; i++) {
		fprintf(stderr, "latency of %s:\n", res->sys[i].name ? res->sys[i].name : "?");
		print_hist(res->sys[i].hist, "  ");
	}
	if (res->nslow && top > 0) {
		fprintf(stderr, "slowest calls:\n");
		for (size_t i = 0; i < res->nslow && (long long)i < top; i++) {
			const struct io_slowcall *s = &res->slow[i];
			const char *en = errname(s->ret);
			const char *nm = io_syscall_name(s->nr);
			fprintf(stderr, "  %10s  %s(%" PRIu64 ", ...) = %" PRId64 "%s%s  pid %u tid %u%s%s\n",
				fmt_ns(a, (double)s->lat_ns), nm ? nm : "?", s->arg0, s->ret, en ? " " : "", en ? en : "",
				s->tgid, s->tid, s->where ? "  at " : "", s->where ? s->where : "");
		}
	}
	if (res->nfiles && top > 0) {
		fprintf(stderr, "%8s %8s %10s %10s %10s  %s\n", "reads", "writes", "read", "written", "time", "file");
		for (size_t i = 0; i < res->nfiles && (long long)i < top; i++) {
			const struct io_file *f = &res->files[i];
			fprintf(stderr, "%8s %8s %10s %10s %10s  %s\n", fmt_count(a, f->reads), fmt_count(b, f->writes),
				fmt_bytes(c, (double)f->rbytes), fmt_bytes(d, (double)f->wbytes),
				fmt_ns((char[32]){ 0 }, (double)(f->read_ns + f->write_ns)), f->path);
		}
	}
	if (res->block) {
		static const char *const dirs[3] = { "read", "write", "other" };
		bool any = false;
		for (int k = 0; k < 3; k++) {
			const struct io_blockdir *bd = &res->blk[k];
			if (!bd->count)
				continue;
			if (!any)
				fprintf(stderr, "block device I/O (all processes):\n");
			any = true;
			fprintf(stderr, "  %-5s %10s requests %10s  mean %s  max %s\n", dirs[k], fmt_count(a, bd->count),
				fmt_bytes(b, (double)bd->bytes), fmt_ns(c, (double)bd->total_ns / (double)bd->count),
				fmt_ns(d, (double)bd->max_ns));
			if (top > 0)
				print_hist(bd->hist, "    ");
		}
		if (!any)
			fprintf(stderr, "block device I/O: no requests reached a block device\n");
	}
}

static void json_hist(struct jw *j, const uint64_t *hist)
{
	jw_array_begin(j);
	for (int b = 0; b < IO_HIST; b++) {
		if (!hist[b])
			continue;
		jw_object_begin(j);
		jw_key(j, "ge_ns");
		jw_uint(j, b ? 1ULL << b : 0);
		jw_key(j, "lt_ns");
		jw_uint(j, 1ULL << (b + 1));
		jw_key(j, "count");
		jw_uint(j, hist[b]);
		jw_object_end(j);
	}
	jw_array_end(j);
}

int profile_io_write_json(const struct io_result *res, const char *path, uint64_t duration_ns, struct err *e)
{
	struct buf b = BUF_INIT;
	struct jw j;
	jw_init(&j, &b, true);
	jw_object_begin(&j);
	jw_key(&j, "duration_ns");
	jw_uint(&j, duration_ns);
	jw_key(&j, "counts_only");
	jw_bool(&j, res->counts_only);
	jw_key(&j, "calls");
	jw_uint(&j, res->calls);
	jw_key(&j, "errors");
	jw_uint(&j, res->errors);
	jw_key(&j, "total_ns");
	jw_uint(&j, res->total_ns);
	jw_key(&j, "syscalls");
	jw_array_begin(&j);
	for (size_t i = 0; i < res->nsys; i++) {
		const struct io_syscall *s = &res->sys[i];
		jw_object_begin(&j);
		jw_key(&j, "name");
		if (s->name)
			jw_string(&j, s->name);
		else
			jw_null(&j);
		jw_key(&j, "nr");
		jw_uint(&j, s->nr);
		jw_key(&j, "calls");
		jw_uint(&j, s->count);
		jw_key(&j, "errors");
		jw_uint(&j, s->errors);
		jw_key(&j, "total_ns");
		jw_uint(&j, s->total_ns);
		jw_key(&j, "mean_ns");
		jw_double(&j, (double)s->total_ns / (double)s->count);
		jw_key(&j, "max_ns");
		jw_uint(&j, s->max_ns);
		jw_key(&j, "histogram");
		json_hist(&j, s->hist);
		jw_object_end(&j);
	}
	jw_array_end(&j);
	jw_key(&j, "slowest");
	jw_array_begin(&j);
	for (size_t i = 0; i < res->nslow; i++) {
		const struct io_slowcall *s = &res->slow[i];
		jw_object_begin(&j);
		jw_key(&j, "syscall");
		const char *nm = io_syscall_name(s->nr);
		if (nm)
			jw_string(&j, nm);
		else
			jw_null(&j);
		jw_key(&j, "latency_ns");
		jw_uint(&j, s->lat_ns);
		jw_key(&j, "pid");
		jw_uint(&j, s->tgid);
		jw_key(&j, "tid");
		jw_uint(&j, s->tid);
		jw_key(&j, "arg0");
		jw_uint(&j, s->arg0);
		jw_key(&j, "ret");
		jw_int(&j, s->ret);
		jw_key(&j, "stack");
		if (s->where)
			jw_string(&j, s->where);
		else
			jw_null(&j);
		jw_object_end(&j);
	}
	jw_array_end(&j);
	jw_key(&j, "files");
	if (!res->files_traced) {
		jw_null(&j);
	} else {
		jw_array_begin(&j);
		for (size_t i = 0; i < res->nfiles; i++) {
			const struct io_file *f = &res->files[i];
			jw_object_begin(&j);
			jw_key(&j, "path");
			jw_string(&j, f->path);
			jw_key(&j, "pid");
			jw_uint(&j, f->tgid);
			jw_key(&j, "reads");
			jw_uint(&j, f->reads);
			jw_key(&j, "writes");
			jw_uint(&j, f->writes);
			jw_key(&j, "read_bytes");
			jw_uint(&j, f->rbytes);
			jw_key(&j, "write_bytes");
			jw_uint(&j, f->wbytes);
			jw_key(&j, "time_ns");
			jw_uint(&j, f->read_ns + f->write_ns);
			jw_object_end(&j);
		}
		jw_array_end(&j);
	}
	jw_key(&j, "block");
	if (!res->block) {
		jw_null(&j);
	} else {
		static const char *const dirs[3] = { "read", "write", "other" };
		jw_object_begin(&j);
		for (int k = 0; k < 3; k++) {
			const struct io_blockdir *bd = &res->blk[k];
			jw_key(&j, dirs[k]);
			jw_object_begin(&j);
			jw_key(&j, "requests");
			jw_uint(&j, bd->count);
			jw_key(&j, "bytes");
			jw_uint(&j, bd->bytes);
			jw_key(&j, "total_ns");
			jw_uint(&j, bd->total_ns);
			jw_key(&j, "max_ns");
			jw_uint(&j, bd->max_ns);
			jw_key(&j, "histogram");
			json_hist(&j, bd->hist);
			jw_object_end(&j);
		}
		jw_object_end(&j);
	}
	jw_object_end(&j);
	buf_addch(&b, '\n');

	int ret = -1;
	if (!strcmp(path, "-")) {
		ret = fwrite(b.buf, 1, b.len, stdout) == b.len ? 0 : err_errno(e, "cannot write to stdout");
	} else {
		struct afile f = { 0 };
		if (afile_open(&f, path, e) == 0) {
			if (fwrite(b.buf, 1, b.len, f.fp) != b.len) {
				afile_abort(&f);
				err_errno(e, "cannot write '%s'", path);
			} else {
				ret = afile_commit(&f, e);
			}
		}
	}
	buf_release(&b);
	return ret;
}


int profile_report_io(const struct profile_opts *o, struct profile *p, const struct record_result *res)
{
	const struct io_result *io = &res->io;
	struct err e = ERR_INIT;
	int ret = 0;

	(void)p;
	if (o->json && profile_io_write_json(io, o->json, res->duration_ns, &e) < 0) {
		error_msg("%s", e.msg);
		ret = -1;
	}
	if (!o->quiet) {
		char a[32], b[32];

		fprintf(stderr, "kiln: %s system calls in %s of recording", fmt_count(a, io->calls),
			fmt_ns(b, (double)res->duration_ns));
		if (!io->counts_only)
			fprintf(stderr, ", %s in them", fmt_ns((char[32]){ 0 }, (double)io->total_ns));
		profile_print_ending(res);
		fputc('\n', stderr);
		profile_io_print(io, o->top);
	}
	return ret;
}
