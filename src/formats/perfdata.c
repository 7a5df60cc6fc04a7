/*
 * perf.data reader (the file `perf record` writes, file or pipe mode), without perf installed: the records go
 * through the same decoder and session as kiln's live recorder (src/record/), and kiln's symbolizer names the
 * addresses from the mmap records' paths and the build ids of the file's build-id table.
 *
 * Like `perf script | stackcollapse-perf.pl`, each stack starts with a process frame ("comm", or comm-PID[/TID]
 * with the pid/tid options), kernel frames can carry "_[k]", and the default column counts samples; the event's
 * periods are a second column (cpu/nanoseconds for cpu-clock and task-clock, else EVENT/count).
 */
#include <linux/perf_event.h>
#include <stdlib.h>
#include <string.h>

#include "../core/array.h"
#include "../core/err.h"
#include "../core/hash.h"
#include "../core/xalloc.h"
#include "../profile/profile.h"
#include "../perf/perf_record.h"
#include "../record/session.h"
#include "../symbols/symbolizer.h"
#include "format.h"

#define PERF_MAGIC 0x32454c4946524550ULL /* "PERFILE2" */
#define PERF_MAGIC_SWAPPED 0x50455246494c4532ULL
#define HEADER_BUILD_ID 2
#define REC_HEADER_ATTR 64
#define REC_FINISHED_ROUND 68
#define REC_HEADER_BUILD_ID 67
#define REC_AUXTRACE 71
#define MISC_BUILD_ID_SIZE (1 << 15)

struct pd_attr {
	struct perf_fmt fmt;
	uint32_t type;
	uint64_t config;
	bool user_callchain; /* the kernel's callchains include user frames (not --call-graph dwarf) */
};

struct pd_rec {
	uint64_t time;
	uint64_t off; /* of the record in the data */
	uint32_t len;
	uint32_t attr;
};

struct pd {
	const unsigned char *data;
	size_t len;
	struct pd_attr *attrs;
	size_t attrs_nr, attrs_alloc;
	struct u64map ids; /* event id -> attr index */
	struct pd_rec *recs;
	size_t recs_nr, recs_alloc;
	int id_sample_pos, id_tail_pos; /* -1 when ids cannot be told apart */
	struct rec_session *s;
};

static int probe_perfdata(const unsigned char *head, size_t len)
{
	if (len >= 8 && !memcmp(head, "PERFILE2", 8))
		return 100;
	return 0;
}

static uint64_t rd64(const unsigned char *p)
{
	return perf_u64(p);
}

static void add_attr(struct pd *d, const unsigned char *a, size_t asize)
{
	struct perf_event_attr attr;
	memset(&attr, 0, sizeof(attr));
	memcpy(&attr, a, asize < sizeof(attr) ? asize : sizeof(attr));
	ALLOC_GROW(d->attrs, d->attrs_nr + 1, d->attrs_alloc);
	struct pd_attr *pa = &d->attrs[d->attrs_nr++];
	pa->fmt.sample_type = attr.sample_type;
	pa->fmt.read_format = attr.read_format;
	pa->fmt.sample_regs_user = attr.sample_regs_user;
	pa->fmt.sample_id_all = attr.sample_id_all;
	pa->type = attr.type;
	pa->config = attr.config;
	pa->user_callchain = (attr.sample_type & PERF_SAMPLE_CALLCHAIN) && !attr.exclude_callchain_user;
}

static void add_id(struct pd *d, uint64_t id, size_t attr)
{
	int inserted;
	uint64_t *v = u64map_insert(&d->ids, id == U64MAP_EMPTY ? 0 : id, &inserted);
	*v = attr;
}

/* The attr a record belongs to: its id where ids tell events apart, else the first. */
static uint32_t attr_of(const struct pd *d, const unsigned char *rec, size_t len, uint32_t type)
{
	if (d->attrs_nr <= 1 || d->id_sample_pos < 0)
		return 0;
	size_t body = len - 8;
	uint64_t id;
	if (type == PERF_RECORD_SAMPLE) {
		if ((size_t)(d->id_sample_pos + 1) * 8 > body)
			return 0;
		id = rd64(rec + 8 + (size_t)d->id_sample_pos * 8);
	} else {
		if (!d->attrs[0].fmt.sample_id_all || (size_t)d->id_tail_pos * 8 > body)
			return 0;
		id = rd64(rec + len - (size_t)d->id_tail_pos * 8);
	}
	const uint64_t *v = u64map_find(&d->ids, id == U64MAP_EMPTY ? 0 : id);
	return v ? (uint32_t)*v : 0;
}

static void setup_id_pos(struct pd *d)
{
	d->id_sample_pos = d->id_tail_pos = -1;
	if (d->attrs_nr <= 1)
		return;
	int sp, tp;
	perf_id_pos(d->attrs[0].fmt.sample_type, &sp, &tp);
	for (size_t i = 1; i < d->attrs_nr; i++) {
		int sp2, tp2;
		perf_id_pos(d->attrs[i].fmt.sample_type, &sp2, &tp2);
		if (sp2 != sp || tp2 != tp)
			return; /* inconsistent: everything is read as the first event */
	}
	d->id_sample_pos = sp;
	d->id_tail_pos = tp;
}

/* One build-id table entry (HEADER_BUILD_ID section or PERF_RECORD_HEADER_BUILD_ID). */
static void on_build_id(struct pd *d, const unsigned char *rec, size_t len)
{
	/* header(8) pid(4) build_id[24] filename[] */
	if (len < 8 + 4 + 24 + 1)
		return;
	uint16_t misc;
	memcpy(&misc, rec + 4, 2);
	const unsigned char *bid = rec + 12;
	size_t bid_len = 20;
	if (misc & MISC_BUILD_ID_SIZE)
		bid_len = bid[20] <= 20 ? bid[20] : 20;
	const char *name = (const char *)rec + 36;
	size_t max = len - 36;
	size_t n = strnlen(name, max);
	if (n == max || !n)
		return;
	rec_session_set_build_id(d->s, name, bid, bid_len);
}

static int read_build_ids(struct pd *d, uint64_t off, uint64_t size)
{
	if (off > d->len || size > d->len - off)
		return -1;
	const unsigned char *p = d->data + off, *end = p + size;
	while (end - p >= 8) {
		uint16_t rsize;
		memcpy(&rsize, p + 6, 2);
		if (rsize < 8 || rsize > end - p)
			break;
		on_build_id(d, p, rsize);
		p += rsize;
	}
	return 0;
}

static int rec_cmp(const void *a, const void *b)
{
	const struct pd_rec *x = a, *y = b;
	if (x->time != y->time)
		return x->time < y->time ? -1 : 1;
	return (x->off > y->off) - (x->off < y->off);
}

/* Indexes the records of [start, end): user-space records are handled here, kernel ones queued by time. */
static int scan_records(struct pd *d, uint64_t start, uint64_t end, bool pipe, struct err *e)
{
	uint64_t pos = start, last_time = 0;
	while (pos + 8 <= end) {
		const unsigned char *rec = d->data + pos;
		uint32_t type;
		uint16_t size;
		memcpy(&type, rec, 4);
		memcpy(&size, rec + 6, 2);
		if (size < 8 || pos + size > end)
			return err_set(e, "truncated or corrupt record at offset %llu", (unsigned long long)pos);
		uint64_t next = pos + size;
		if (type == REC_AUXTRACE && size >= 16) {
			uint64_t extra = rd64(rec + 8);
			if (extra > end - next)
				return err_set(e, "truncated auxtrace data at offset %llu", (unsigned long long)pos);
			next += extra;
		}
		if (pipe && type == REC_HEADER_ATTR) {
			/* header, perf_event_attr (its own size), then the event ids */
			if (size < 8 + 8) {
				pos = next;
				continue;
			}
			uint32_t asize;
			memcpy(&asize, rec + 8 + 4, 4);
			if (asize < 64 || asize > (uint32_t)size - 8u)
				return err_set(e, "corrupt attribute record at offset %llu", (unsigned long long)pos);
			add_attr(d, rec + 8, asize);
			for (uint64_t o = 8 + asize; o + 8 <= size; o += 8)
				add_id(d, rd64(rec + o), d->attrs_nr - 1);
			setup_id_pos(d);
		} else if (type == REC_HEADER_BUILD_ID) {
			on_build_id(d, rec, size);
		} else if (type < PERF_RECORD_MAX && d->attrs_nr) {
			uint32_t ai = attr_of(d, rec, size, type);
			struct perf_rec r;
			uint64_t t = last_time;
			if (perf_record_decode(&d->attrs[ai].fmt, rec, size, &r, NULL) == 0 && r.sid.has_time)
				t = r.sid.time;
			last_time = t;
			ALLOC_GROW(d->recs, d->recs_nr + 1, d->recs_alloc);
			d->recs[d->recs_nr++] = (struct pd_rec){ t, pos, size, ai };
		}
		pos = next;
	}
	return 0;
}

static void value_type_of(const struct pd_attr *a, const char **type, const char **unit)
{
	static const char *const hw[] = { "cycles", "instructions", "cache-references", "cache-misses",
					  "branches", "branch-misses", "bus-cycles" };
	*unit = "count";
	if (a->type == PERF_TYPE_SOFTWARE &&
	    (a->config == PERF_COUNT_SW_CPU_CLOCK || a->config == PERF_COUNT_SW_TASK_CLOCK)) {
		*type = "cpu";
		*unit = "nanoseconds";
	} else if (a->type == PERF_TYPE_HARDWARE && a->config < sizeof(hw) / sizeof(hw[0])) {
		*type = hw[a->config];
	} else {
		*type = "events";
	}
}

/*
 * Options that depend on the profiled event: its value column, and DWARF unwinding for --call-graph dwarf.
 * Registers and stack beside user callchains are frame-pointer samples whose first step the session repairs.
 */
static void event_opts(const struct pd *d, struct rec_session_opts *so)
{
	const uint64_t dwarf = PERF_SAMPLE_REGS_USER | PERF_SAMPLE_STACK_USER;
	so->value_type = "cpu";
	so->value_unit = "nanoseconds";
	so->dwarf = false;
	so->regs_mask = 0;
	if (!d->attrs_nr)
		return;
	value_type_of(&d->attrs[0], &so->value_type, &so->value_unit);
	if ((d->attrs[0].fmt.sample_type & dwarf) == dwarf && !d->attrs[0].user_callchain) {
		so->dwarf = true;
		so->regs_mask = d->attrs[0].fmt.sample_regs_user;
	}
}

static int read_perfdata(struct profile *p, struct input *in, const struct format_read_opts *o, struct err *e)
{
	struct pd d = { 0 };
	struct symbolizer *sym = NULL;
	const unsigned char *data;
	size_t len;
	int ret = -1;

	if (input_read_all(in, &data, &len, e) < 0)
		return -1;
	d.data = data;
	d.len = len;
	if (len < 16) {
		err_set(e, "not a perf.data file (too short)");
		goto out;
	}
	uint64_t magic = rd64(data), hsize = rd64(data + 8);
	if (magic == PERF_MAGIC_SWAPPED) {
		err_set(e, "big-endian perf.data files are not supported");
		goto out;
	}
	if (magic != PERF_MAGIC) {
		err_set(e, "not a perf.data file (bad magic)");
		goto out;
	}

	sym = symbolizer_new();
	if (o && o->no_inline)
		symbolizer_set_flags(sym, SYMBOLIZER_NO_INLINE);
	/* Read the sample's attrs first so the value column can be named; the session is created after. */
	bool pipe = hsize == 16;
	uint64_t data_off, data_size;
	uint64_t feat_off = 0;
	uint64_t features[4] = { 0 };
	if (pipe) {
		data_off = 16;
		data_size = len - 16;
	} else {
		if (hsize < 104 || len < 104) {
			err_set(e, "truncated perf.data header");
			goto out;
		}
		uint64_t attr_size = rd64(data + 16), attrs_off = rd64(data + 24), attrs_size = rd64(data + 32);
		data_off = rd64(data + 40);
		data_size = rd64(data + 48);
		for (int i = 0; i < 4; i++)
			features[i] = rd64(data + 72 + 8 * i);
		if (attr_size < 64 + 16 || attr_size > 4096 || attrs_off > len || attrs_size > len - attrs_off ||
		    data_off > len || data_size > len - data_off) {
			err_set(e, "corrupt perf.data header (sections outside the file)");
			goto out;
		}
		for (uint64_t a = 0; a + attr_size <= attrs_size; a += attr_size) {
			const unsigned char *fa = data + attrs_off + a;
			add_attr(&d, fa, attr_size - 16);
			uint64_t ids_off = rd64(fa + attr_size - 16), ids_size = rd64(fa + attr_size - 8);
			if (ids_off <= len && ids_size <= len - ids_off)
				for (uint64_t k = 0; k + 8 <= ids_size; k += 8)
					add_id(&d, rd64(data + ids_off + k), d.attrs_nr - 1);
		}
		if (!d.attrs_nr) {
			err_set(e, "perf.data file without events");
			goto out;
		}
		setup_id_pos(&d);
		feat_off = data_off + data_size;
	}

	struct rec_session_opts so = { 0 };
	so.no_labels = !(o && o->labels);
	so.root_frame = o && o->tid ? 3 : o && o->pid ? 2 : 1;
	so.annotate_kernel = o && (o->kernel || o->all);
	so.default_samples = true;
	event_opts(&d, &so);
	d.s = rec_session_new(sym, &so);

	/* Feature sections follow the data: one perf_file_section per set bit, in bit order. */
	if (!pipe && (features[0] >> HEADER_BUILD_ID) & 1) {
		size_t idx = 0;
		for (int bit = 0; bit < HEADER_BUILD_ID; bit++)
			idx += (features[0] >> bit) & 1;
		uint64_t sec = feat_off + idx * 16;
		if (sec <= len && len - sec >= 16)
			read_build_ids(&d, rd64(data + sec), rd64(data + sec + 8));
	}

	if (scan_records(&d, data_off, data_off + data_size, pipe, e) < 0)
		goto out;
	if (pipe && !d.attrs_nr) {
		err_set(e, "perf.data stream without event attributes");
		goto out;
	}
	if (pipe && d.attrs_nr) {
		/* The stream's attrs were only known after scanning: name the value column now. */
		rec_session_free(d.s);
		event_opts(&d, &so);
		d.s = rec_session_new(sym, &so);
		d.recs_nr = 0;
		d.attrs_nr = 0; /* the stream's attrs are read again */
		u64map_release(&d.ids);
		if (scan_records(&d, data_off, data_off + data_size, pipe, e) < 0)
			goto out;
	}

	/* perf writes per-CPU buffers in rounds: order by time so exec/mmap records precede their samples. */
	if (d.recs_nr)
		qsort(d.recs, d.recs_nr, sizeof(*d.recs), rec_cmp);
	for (size_t i = 0; i < d.recs_nr; i++) {
		struct perf_rec r;
		const struct pd_rec *pr = &d.recs[i];
		if (perf_record_decode(&d.attrs[pr->attr].fmt, d.data + pr->off, pr->len, &r, NULL) < 0)
			continue;
		if (r.type == PERF_RECORD_SAMPLE && pr->attr != 0)
			continue; /* only the first event is profiled (like perf script's default) */
		rec_session_record(d.s, &r);
	}
	if (rec_session_finish(d.s, p, e) < 0)
		goto out;
	ret = 0;
out:
	rec_session_free(d.s);
	symbolizer_free(sym);
	free(d.attrs);
	free(d.recs);
	u64map_release(&d.ids);
	return ret;
}

static const char *const perfdata_ext[] = { NULL };

const struct format format_perfdata = {
	.name = "perf.data",
	.description = "perf record's perf.data (read directly; symbols from the mapped binaries)",
	.extensions = perfdata_ext,
	.probe = probe_perfdata,
	.read = read_perfdata,
	.write = NULL,
};
