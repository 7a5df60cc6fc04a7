/* The perf record decoder shared by the live ring buffer and the perf.data reader (see perf_record.h). */
#include <linux/perf_event.h>
#include <string.h>

#include "../core/err.h"
#include "perf_record.h"

/* A bounds-checked cursor over a record body. */
struct cur {
	const unsigned char *p, *end;
	bool bad;
};

static uint64_t take_u64(struct cur *c)
{
	if (c->bad || (size_t)(c->end - c->p) < 8) {
		c->bad = true;
		return 0;
	}
	uint64_t v = perf_u64(c->p);
	c->p += 8;
	return v;
}

static void take_u32x2(struct cur *c, uint32_t *a, uint32_t *b)
{
	uint64_t v = take_u64(c);
	uint32_t w[2];
	memcpy(w, &v, sizeof(w));
	*a = w[0];
	*b = w[1];
}

static const unsigned char *take_bytes(struct cur *c, uint64_t n)
{
	if (c->bad || (uint64_t)(c->end - c->p) < n) {
		c->bad = true;
		return NULL;
	}
	const unsigned char *r = c->p;
	c->p += n;
	return r;
}

/* The number of u64 words a PERF_SAMPLE_READ block takes, or -1 when it cannot be sized. */
static int64_t read_format_words(const struct perf_fmt *fmt, struct cur *c)
{
	uint64_t rf = fmt->read_format;
	uint64_t per = 1 + !!(rf & PERF_FORMAT_ID) + !!(rf & (1u << 4) /* PERF_FORMAT_LOST */);
	if (rf & PERF_FORMAT_GROUP) {
		if (c->bad || c->end - c->p < 8)
			return -1;
		uint64_t nr = perf_u64(c->p);
		if (nr > 4096)
			return -1;
		return 1 + !!(rf & PERF_FORMAT_TOTAL_TIME_ENABLED) + !!(rf & PERF_FORMAT_TOTAL_TIME_RUNNING) +
		       (int64_t)(nr * per);
	}
	return per + !!(rf & PERF_FORMAT_TOTAL_TIME_ENABLED) + !!(rf & PERF_FORMAT_TOTAL_TIME_RUNNING);
}

static int decode_sample(const struct perf_fmt *fmt, struct cur *c, struct perf_rec *r, struct err *e)
{
	uint64_t st = fmt->sample_type;

	if (st & PERF_SAMPLE_IDENTIFIER)
		r->sid.id = take_u64(c);
	if (st & PERF_SAMPLE_IP)
		r->u.sample.ip = take_u64(c);
	if (st & PERF_SAMPLE_TID) {
		take_u32x2(c, &r->sid.pid, &r->sid.tid);
		r->sid.has_tid = true;
	}
	if (st & PERF_SAMPLE_TIME) {
		r->sid.time = take_u64(c);
		r->sid.has_time = true;
	}
	if (st & PERF_SAMPLE_ADDR)
		take_u64(c);
	if (st & PERF_SAMPLE_ID)
		r->sid.id = take_u64(c);
	if (st & PERF_SAMPLE_STREAM_ID)
		take_u64(c);
	if (st & PERF_SAMPLE_CPU) {
		uint32_t res;
		take_u32x2(c, &r->sid.cpu, &res);
	}
	r->u.sample.period = 1;
	if (st & PERF_SAMPLE_PERIOD)
		r->u.sample.period = take_u64(c);
	if (st & PERF_SAMPLE_READ) {
		int64_t words = read_format_words(fmt, c);
		if (words < 0 || !take_bytes(c, (uint64_t)words * 8))
			return err_set(e, "truncated sample record (read values)");
	}
	if (st & PERF_SAMPLE_CALLCHAIN) {
		uint64_t nr = take_u64(c);
		if (c->bad || nr > (uint64_t)(c->end - c->p) / 8)
			return err_set(e, "truncated sample record (callchain of %llu entries)", (unsigned long long)nr);
		r->u.sample.callchain = take_bytes(c, nr * 8);
		r->u.sample.callchain_nr = nr;
	}
	if (st & PERF_SAMPLE_RAW) {
		uint32_t size;
		if (c->bad || c->end - c->p < 4)
			return err_set(e, "truncated sample record (raw data)");
		memcpy(&size, c->p, 4);
		/* The u32 size and the data are padded together to a multiple of 8 bytes. */
		uint64_t total = ((uint64_t)size + 4 + 7) & ~(uint64_t)7;
		if (!take_bytes(c, total))
			return err_set(e, "truncated sample record (raw data)");
	}
	if (st & PERF_SAMPLE_BRANCH_STACK)
		return c->bad ? err_set(e, "truncated sample record") : 0; /* layout depends on attr; stop here */
	if (st & PERF_SAMPLE_REGS_USER) {
		uint64_t abi = take_u64(c);
		r->u.sample.regs_abi = abi;
		if (abi) {
			uint64_t n = (uint64_t)__builtin_popcountll(fmt->sample_regs_user);
			r->u.sample.regs = take_bytes(c, n * 8);
			r->u.sample.regs_nr = n;
			r->u.sample.regs_mask = fmt->sample_regs_user;
		}
	}
	if (st & PERF_SAMPLE_STACK_USER) {
		uint64_t size = take_u64(c);
		if (size) {
			const unsigned char *data = take_bytes(c, size);
			uint64_t dyn = take_u64(c);
			if (dyn > size)
				dyn = size;
			r->u.sample.stack = data;
			r->u.sample.stack_size = dyn;
		}
	}
	if (c->bad)
		return err_set(e, "truncated sample record");
	return 0;
}

/* Parses the trailing sample_id of a non-sample record; `body_end` is moved back over it. */
static void decode_sample_id(const struct perf_fmt *fmt, const unsigned char *start, const unsigned char **end,
			     struct perf_rec *r)
{
	uint64_t st = fmt->sample_type;
	size_t words = !!(st & PERF_SAMPLE_TID) + !!(st & PERF_SAMPLE_TIME) + !!(st & PERF_SAMPLE_ID) +
		       !!(st & PERF_SAMPLE_STREAM_ID) + !!(st & PERF_SAMPLE_CPU) + !!(st & PERF_SAMPLE_IDENTIFIER);
	if (!fmt->sample_id_all || !words || (size_t)(*end - start) < words * 8)
		return;
	struct cur c = { *end - words * 8, *end, false };
	*end -= words * 8;
	if (st & PERF_SAMPLE_TID) {
		take_u32x2(&c, &r->sid.pid, &r->sid.tid);
		r->sid.has_tid = true;
	}
	if (st & PERF_SAMPLE_TIME) {
		r->sid.time = take_u64(&c);
		r->sid.has_time = true;
	}
	if (st & PERF_SAMPLE_ID)
		r->sid.id = take_u64(&c);
	if (st & PERF_SAMPLE_STREAM_ID)
		take_u64(&c);
	if (st & PERF_SAMPLE_CPU) {
		uint32_t res;
		take_u32x2(&c, &r->sid.cpu, &res);
	}
	if (st & PERF_SAMPLE_IDENTIFIER)
		r->sid.id = take_u64(&c);
}

/* A NUL-terminated string inside [p, end), or NULL. */
static const char *take_string(struct cur *c)
{
	if (c->bad)
		return NULL;
	const unsigned char *nul = memchr(c->p, 0, (size_t)(c->end - c->p));
	if (!nul) {
		c->bad = true;
		return NULL;
	}
	const char *s = (const char *)c->p;
	c->p = nul + 1;
	return s;
}

int perf_record_decode(const struct perf_fmt *fmt, const unsigned char *data, size_t len, struct perf_rec *r,
		       struct err *e)
{
	struct perf_event_header h;

	memset(r, 0, sizeof(*r));
	if (len < sizeof(h))
		return err_set(e, "truncated record header");
	memcpy(&h, data, sizeof(h));
	if (h.size != len)
		return err_set(e, "record size %u does not match %zu", h.size, len);
	r->type = h.type;
	r->misc = h.misc;

	const unsigned char *body = data + sizeof(h), *end = data + len;
	if (h.type == PERF_RECORD_SAMPLE) {
		struct cur c = { body, end, false };
		return decode_sample(fmt, &c, r, e);
	}
	if (h.type >= PERF_RECORD_MAX)
		return 0; /* user-space (perf tool) records: the perf.data reader handles those it needs */

	decode_sample_id(fmt, body, &end, r);
	struct cur c = { body, end, false };
	switch (h.type) {
	case PERF_RECORD_MMAP:
	case PERF_RECORD_MMAP2:
		take_u32x2(&c, &r->u.mmap.pid, &r->u.mmap.tid);
		r->u.mmap.start = take_u64(&c);
		r->u.mmap.len = take_u64(&c);
		r->u.mmap.pgoff = take_u64(&c);
		if (h.type == PERF_RECORD_MMAP2) {
			const unsigned char *id = take_bytes(&c, 24); /* maj, min, ino, ino_generation or build id */
			if (id && (h.misc & PERF_RECORD_MISC_MMAP_BUILD_ID)) {
				uint8_t size = id[0];
				if (size > 20)
					size = 20;
				r->u.mmap.build_id_size = size;
				r->u.mmap.build_id = size ? id + 4 : NULL;
			}
			take_u32x2(&c, &r->u.mmap.prot, &r->u.mmap.flags);
		}
		r->u.mmap.filename = take_string(&c);
		break;
	case PERF_RECORD_COMM:
		take_u32x2(&c, &r->u.comm.pid, &r->u.comm.tid);
		r->u.comm.comm = take_string(&c);
		r->u.comm.exec = !!(h.misc & PERF_RECORD_MISC_COMM_EXEC);
		break;
	case PERF_RECORD_FORK:
	case PERF_RECORD_EXIT:
		take_u32x2(&c, &r->u.task.pid, &r->u.task.ppid);
		take_u32x2(&c, &r->u.task.tid, &r->u.task.ptid);
		r->u.task.time = take_u64(&c);
		break;
	case PERF_RECORD_LOST:
		r->u.lost.id = take_u64(&c);
		r->u.lost.lost = take_u64(&c);
		break;
	case PERF_RECORD_THROTTLE:
	case PERF_RECORD_UNTHROTTLE:
		r->u.throttle.time = take_u64(&c);
		r->u.throttle.id = take_u64(&c);
		r->u.throttle.stream_id = take_u64(&c);
		break;
	case PERF_RECORD_LOST_SAMPLES:
		r->u.lost_samples.lost = take_u64(&c);
		break;
	default:
		break;
	}
	if (c.bad)
		return err_set(e, "truncated record of type %u", h.type);
	return 0;
}

void perf_id_pos(uint64_t st, int *sample_pos, int *tail_pos)
{
	*sample_pos = -1;
	*tail_pos = -1;
	if (st & PERF_SAMPLE_IDENTIFIER) {
		*sample_pos = 0;
		*tail_pos = 1;
		return;
	}
	if (!(st & PERF_SAMPLE_ID))
		return;
	*sample_pos = !!(st & PERF_SAMPLE_IP) + !!(st & PERF_SAMPLE_TID) + !!(st & PERF_SAMPLE_TIME) +
		      !!(st & PERF_SAMPLE_ADDR);
	*tail_pos = 1 + !!(st & PERF_SAMPLE_STREAM_ID) + !!(st & PERF_SAMPLE_CPU);
}
