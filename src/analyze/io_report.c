/* The I/O report (see io_report.h); moved below cmd/ from cmd/profile_io.c so that a file reprints it. */
#include "io_report.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "../core/buf.h"
#include "../core/json.h"
#include "../core/util.h"
#include "../profile/profile.h"

bool io_report_applies(const struct profile *p)
{
	return p->meta.io.known;
}

static void format_hist(struct buf *out, const uint64_t *hist, const char *indent)
{
	int lo = -1, hi = -1;
	uint64_t max = 0;

	for (int b = 0; b < IO_META_HIST; b++) {
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
		buf_addf(out, "%s%9s .. %-9s %10s |%-40s|\n", indent, a, c, fmt_count(n, hist[b]), bar);
	}
}

/* strerror's text of a system call's negative return, or NULL when it is no error. */
static const char *errname(int64_t ret)
{
	if (ret < 0 && ret >= -4095)
		return strerror((int)-ret);
	return NULL;
}

static const char *str_or(const struct profile *p, uint32_t id, const char *none)
{
	return id ? profile_str(p, id) : none;
}

void io_report_format_summary(struct buf *out, const struct profile *p)
{
	const struct io_meta *io = &p->meta.io;
	char a[32], b[32], c[32];

	buf_addf(out, "%s system calls in %s of recording", fmt_count(a, io->calls), fmt_ns(b, (double)io->duration_ns));
	if (!io->counts_only)
		buf_addf(out, ", %s in them", fmt_ns(c, (double)io->total_ns));
}

/* The rows of the system call table: top * 3 of them, 30 with totals only. */
static size_t sys_rows(const struct io_meta *io, long long top)
{
	size_t n = top > 0 ? (size_t)top * 3 : 30;

	return io->sys_nr < n ? io->sys_nr : n;
}

static void format_counts(struct buf *out, const struct profile *p, long long top)
{
	const struct io_meta *io = &p->meta.io;
	char a[32];

	buf_addf(out, "%-18s %12s\n", "syscall", "calls");
	for (size_t i = 0; i < sys_rows(io, top); i++)
		buf_addf(out, "%-18s %12s\n", str_or(p, io->sys[i].name, "?"), fmt_count(a, io->sys[i].count));
	if (io->sys_nr > 1)
		buf_addf(out, "%-18s %12s\n", "total", fmt_count(a, io->calls));
}

static void format_syscalls(struct buf *out, const struct profile *p, long long top)
{
	const struct io_meta *io = &p->meta.io;
	char a[32], b[32], c[32], d[32], e[32];

	buf_addf(out, "%-18s %12s %8s %12s %10s %10s\n", "syscall", "calls", "errors", "total", "mean", "max");
	for (size_t i = 0; i < sys_rows(io, top); i++) {
		const struct io_meta_syscall *s = &io->sys[i];
		char nm[32];

		snprintf(nm, sizeof(nm), "syscall_%u", s->nr);
		buf_addf(out, "%-18s %12s %8s %12s %10s %10s\n", str_or(p, s->name, nm), fmt_count(a, s->count),
			 fmt_count(d, s->errors), fmt_ns(b, (double)s->total_ns),
			 fmt_ns(c, (double)s->total_ns / (double)s->count), fmt_ns(e, (double)s->max_ns));
	}
	if (io->sys_nr > 1)
		buf_addf(out, "%-18s %12s %8s %12s\n", "total", fmt_count(a, io->calls), fmt_count(d, io->errors),
			 fmt_ns(b, (double)io->total_ns));
	for (size_t i = 0; i < io->sys_nr && i < 3 && top > 0; i++) {
		buf_addf(out, "latency of %s:\n", str_or(p, io->sys[i].name, "?"));
		format_hist(out, io->sys[i].hist, "  ");
	}
}

static void format_slowest(struct buf *out, const struct profile *p, long long top)
{
	const struct io_meta *io = &p->meta.io;
	char a[32];

	if (!io->slow_nr || top <= 0)
		return;
	buf_addf(out, "slowest calls:\n");
	for (size_t i = 0; i < io->slow_nr && (long long)i < top; i++) {
		const struct io_meta_slowcall *s = &io->slow[i];
		const char *en = errname(s->ret);

		buf_addf(out, "  %10s  %s(%" PRIu64 ", ...) = %" PRId64 "%s%s  pid %u tid %u%s%s\n",
			 fmt_ns(a, (double)s->lat_ns), str_or(p, s->name, "?"), s->arg0, s->ret, en ? " " : "",
			 en ? en : "", s->tgid, s->tid, s->where ? "  at " : "", str_or(p, s->where, ""));
	}
}

static void format_files(struct buf *out, const struct profile *p, long long top)
{
	const struct io_meta *io = &p->meta.io;
	char a[32], b[32], c[32], d[32], e[32];

	if (!io->files_nr || top <= 0)
		return;
	buf_addf(out, "%8s %8s %10s %10s %10s  %s\n", "reads", "writes", "read", "written", "time", "file");
	for (size_t i = 0; i < io->files_nr && (long long)i < top; i++) {
		const struct io_meta_file *f = &io->files[i];

		buf_addf(out, "%8s %8s %10s %10s %10s  %s\n", fmt_count(a, f->reads), fmt_count(b, f->writes),
			 fmt_bytes(c, (double)f->rbytes), fmt_bytes(d, (double)f->wbytes),
			 fmt_ns(e, (double)(f->read_ns + f->write_ns)), profile_str(p, f->path));
	}
}

static void format_block(struct buf *out, const struct io_meta *io, long long top)
{
	char a[32], b[32], c[32], d[32];
	bool any = false;

	if (!io->block)
		return;
	for (int k = 0; k < IO_BLOCK_NR; k++) {
		const struct io_meta_blockdir *bd = &io->blk[k];

		if (!bd->count)
			continue;
		if (!any)
			buf_addf(out, "block device I/O (all processes):\n");
		any = true;
		buf_addf(out, "  %-5s %10s requests %10s  mean %s  max %s\n", io_block_names[k], fmt_count(a, bd->count),
			 fmt_bytes(b, (double)bd->bytes), fmt_ns(c, (double)bd->total_ns / (double)bd->count),
			 fmt_ns(d, (double)bd->max_ns));
		if (top > 0)
			format_hist(out, bd->hist, "    ");
	}
	if (!any)
		buf_addf(out, "block device I/O: no requests reached a block device\n");
}

void io_report_format_text(struct buf *out, const struct profile *p, long long top)
{
	if (p->meta.io.counts_only) {
		format_counts(out, p, top);
		return;
	}
	format_syscalls(out, p, top);
	format_slowest(out, p, top);
	format_files(out, p, top);
	format_block(out, &p->meta.io, top);
}

static void json_hist(struct jw *j, const char *key, const uint64_t *hist)
{
	jw_key(j, key);
	jw_array_begin(j);
	for (int b = 0; b < IO_META_HIST; b++) {
		if (!hist[b])
			continue;
		jw_object_begin(j);
		jw_kv_u64(j, "ge_ns", b ? 1ULL << b : 0);
		jw_kv_u64(j, "lt_ns", 1ULL << (b + 1));
		jw_kv_u64(j, "count", hist[b]);
		jw_object_end(j);
	}
	jw_array_end(j);
}

/* A string member, null for string id 0. */
static void json_str(struct jw *j, const struct profile *p, const char *key, uint32_t id)
{
	if (id)
		jw_kv_str(j, key, profile_str(p, id));
	else
		jw_kv_null(j, key);
}

static void json_syscalls(struct jw *j, const struct profile *p)
{
	const struct io_meta *io = &p->meta.io;

	jw_key(j, "syscalls");
	jw_array_begin(j);
	for (size_t i = 0; i < io->sys_nr; i++) {
		const struct io_meta_syscall *s = &io->sys[i];

		jw_object_begin(j);
		json_str(j, p, "name", s->name);
		jw_kv_u64(j, "nr", s->nr);
		jw_kv_u64(j, "calls", s->count);
		jw_kv_u64(j, "errors", s->errors);
		jw_kv_u64(j, "total_ns", s->total_ns);
		jw_kv_double(j, "mean_ns", (double)s->total_ns / (double)s->count);
		jw_kv_u64(j, "max_ns", s->max_ns);
		json_hist(j, "histogram", s->hist);
		jw_object_end(j);
	}
	jw_array_end(j);
}

static void json_slowest(struct jw *j, const struct profile *p)
{
	const struct io_meta *io = &p->meta.io;

	jw_key(j, "slowest");
	jw_array_begin(j);
	for (size_t i = 0; i < io->slow_nr; i++) {
		const struct io_meta_slowcall *s = &io->slow[i];

		jw_object_begin(j);
		json_str(j, p, "syscall", s->name);
		jw_kv_u64(j, "latency_ns", s->lat_ns);
		jw_kv_u64(j, "pid", s->tgid);
		jw_kv_u64(j, "tid", s->tid);
		jw_kv_u64(j, "arg0", s->arg0);
		jw_kv_i64(j, "ret", s->ret);
		json_str(j, p, "stack", s->where);
		jw_object_end(j);
	}
	jw_array_end(j);
}

static void json_files(struct jw *j, const struct profile *p)
{
	const struct io_meta *io = &p->meta.io;

	if (!io->files_traced) {
		jw_kv_null(j, "files");
		return;
	}
	jw_key(j, "files");
	jw_array_begin(j);
	for (size_t i = 0; i < io->files_nr; i++) {
		const struct io_meta_file *f = &io->files[i];

		jw_object_begin(j);
		jw_kv_str(j, "path", profile_str(p, f->path));
		jw_kv_u64(j, "pid", f->tgid);
		jw_kv_u64(j, "reads", f->reads);
		jw_kv_u64(j, "writes", f->writes);
		jw_kv_u64(j, "read_bytes", f->rbytes);
		jw_kv_u64(j, "write_bytes", f->wbytes);
		jw_kv_u64(j, "time_ns", f->read_ns + f->write_ns);
		jw_object_end(j);
	}
	jw_array_end(j);
}

static void json_block(struct jw *j, const struct io_meta *io)
{
	if (!io->block) {
		jw_kv_null(j, "block");
		return;
	}
	jw_key(j, "block");
	jw_object_begin(j);
	for (int k = 0; k < IO_BLOCK_NR; k++) {
		const struct io_meta_blockdir *bd = &io->blk[k];

		jw_key(j, io_block_names[k]);
		jw_object_begin(j);
		jw_kv_u64(j, "requests", bd->count);
		jw_kv_u64(j, "bytes", bd->bytes);
		jw_kv_u64(j, "total_ns", bd->total_ns);
		jw_kv_u64(j, "max_ns", bd->max_ns);
		json_hist(j, "histogram", bd->hist);
		jw_object_end(j);
	}
	jw_object_end(j);
}

void io_report_format_json(struct jw *j, const struct profile *p)
{
	const struct io_meta *io = &p->meta.io;

	jw_object_begin(j);
	jw_kv_u64(j, "duration_ns", io->duration_ns);
	jw_kv_bool(j, "counts_only", io->counts_only);
	jw_kv_u64(j, "calls", io->calls);
	jw_kv_u64(j, "errors", io->errors);
	jw_kv_u64(j, "total_ns", io->total_ns);
	json_syscalls(j, p);
	json_slowest(j, p);
	json_files(j, p);
	json_block(j, io);
	jw_object_end(j);
}
