/*
 * jfr: Java Flight Recorder recordings (`java -XX:StartFlightRecording`, `jcmd JFR.dump`, JMC), read only. A file
 * is one or more chunks (jfr_chunk.c reads each one's metadata and constant pools); this file turns their events
 * into the model:
 *   jdk.ExecutionSample              "samples"/"count", one per event (period from jdk.ActiveSetting "period")
 *   jdk.NativeMethodSample           "native_samples"/"count": threads sampled while in native code, kept apart
 *                                    because they are not CPU samples
 *   jdk.ObjectAllocationSample       "alloc_samples"/"count" and "alloc_space"/"bytes" (the event's weight)
 *   jdk.ObjectAllocationInNewTLAB    the same columns with tlabSize (the memory the sample stands for, as JMC
 *   jdk.ObjectAllocationOutsideTLAB  and async-profiler weigh it) or allocationSize; read only when the
 *                                    recording has no jdk.ObjectAllocationSample events, which cover the same
 *                                    allocations
 * Frames are named as kiln names Java frames from perf maps (package.Class.method(params), see
 * rt_parse_java_name), with the frame's line; "Inlined" frames are FRAME_INLINED (the model's inlining: the next
 * frame rootward is their physical caller), the others FRAME_JAVA. Samples carry tid/comm labels of their thread
 * and are added in time-stamp order, so flame charts draw them in time order.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "../core/array.h"
#include "../core/buf.h"
#include "../core/err.h"
#include "../core/xalloc.h"
#include "../profile/profile.h"
#include "format.h"
#include "jfr.h"

static int jfr_probe(const unsigned char *head, size_t len)
{
	if (len < 8 || memcmp(head, "FLR", 4))
		return 0;
	return head[4] == 0 && head[5] == 2 ? 100 : 0; /* major version 2: JDK 11 and later */
}

enum jkind { JK_EXEC, JK_NATIVE, JK_ALLOC, JK_TLAB_NEW, JK_TLAB_OUT, JK_NR };

static const struct {
	const char *type;
	const char *thread; /* the field naming the thread the sample is about */
	const char *value;  /* the field weighing it, NULL for a count */
} kinds[JK_NR] = {
	[JK_EXEC] = { "jdk.ExecutionSample", "sampledThread", NULL },
	[JK_NATIVE] = { "jdk.NativeMethodSample", "sampledThread", NULL },
	[JK_ALLOC] = { "jdk.ObjectAllocationSample", "eventThread", "weight" },
	[JK_TLAB_NEW] = { "jdk.ObjectAllocationInNewTLAB", "eventThread", "tlabSize" },
	[JK_TLAB_OUT] = { "jdk.ObjectAllocationOutsideTLAB", "eventThread", "allocationSize" },
};

struct jsample {
	int64_t ns;
	size_t seq;
	uint32_t node, labelset;
	int64_t value;
	enum jkind kind;
};

struct jevent {
	int cls, f_time, f_thread, f_stack, f_value;
};

struct jreader {
	struct profile *p;
	struct err *e;
	struct jfr_chunk c;
	struct jevent ev[JK_NR];
	int set_cls, set_id, set_name, set_value; /* jdk.ActiveSetting */
	struct u64map stacks, methods, threads;   /* per chunk: pool key -> node, (function << 32 | file), labelset */
	struct jsample *s;
	size_t s_nr, s_alloc;
	size_t counts[JK_NR], no_stack, chunks;
	int64_t period_ns, start_ns, end_ns;
	uint32_t *fids;
	size_t fids_alloc;
	struct buf t1, t2, t3;
};

/* "(I[Ljava/lang/String;J)V" as "(int, java.lang.String[], long)"; false when it is not a method descriptor. */
static bool add_params(struct buf *b, const char *d)
{
	static const char *const prim[] = { ['B'] = "byte",  ['C'] = "char", ['D'] = "double", ['F'] = "float",
					     ['I'] = "int",   ['J'] = "long", ['S'] = "short",  ['Z'] = "boolean" };
	size_t start = b->len;

	if (*d++ != '(')
		return false;
	buf_addch(b, '(');
	for (bool first = true; *d != ')'; first = false) {
		size_t dims = 0;
		if (!first)
			buf_adds(b, ", ");
		while (*d == '[')
			dims++, d++;
		if (*d == 'L') {
			const char *semi = strchr(d, ';');
			if (!semi)
				goto bad;
			for (d++; d < semi; d++)
				buf_addch(b, *d == '/' ? '.' : *d);
			d++;
		} else if ((unsigned char)*d < ARRAY_SIZE(prim) && prim[(unsigned char)*d]) {
			buf_adds(b, prim[(unsigned char)*d++]);
		} else {
			goto bad;
		}
		while (dims--)
			buf_adds(b, "[]");
	}
	buf_addch(b, ')');
	return true;
bad:
	buf_setlen(b, start);
	return false;
}

/* The frame of one jdk.types.StackFrame value. */
static uint32_t frame_of(struct jreader *r, uint32_t fcls, struct jfr_cur at)
{
	struct jfr_chunk *c = &r->c;
	struct frame f = { 0 };
	struct jfr_cur m, k;
	uint32_t mc, kc;
	uint64_t key = UINT64_MAX, *cached;
	int64_t line = 0;

	bool have = jfr_field_ref(c, fcls, at, jfr_field_index(c, (int)fcls, "method"), &m, &mc, &key);
	if (have && key != UINT64_MAX && (cached = u64map_find(&r->methods, key))) {
		f.function = (uint32_t)(*cached >> 32);
		f.file = (uint32_t)*cached;
	} else if (have) {
		buf_reset(&r->t1);
		buf_reset(&r->t2);
		buf_reset(&r->t3);
		/* Method.type is a Class; Class.name and Method.name/descriptor are Symbols */
		if (jfr_field_ref(c, mc, m, jfr_field_index(c, (int)mc, "type"), &k, &kc, &(uint64_t){ 0 })) {
			jfr_field_text(c, kc, k, jfr_field_index(c, (int)kc, "name"), &r->t1);
			if (jfr_field_text(c, kc, k, jfr_field_index(c, (int)kc, "sourceFile"), &r->t3))
				f.file = profile_intern(r->p, r->t3.buf, r->t3.len);
		}
		for (size_t i = 0; i < r->t1.len; i++)
			if (r->t1.buf[i] == '/')
				r->t1.buf[i] = '.';
		if (!jfr_field_text(c, mc, m, jfr_field_index(c, (int)mc, "name"), &r->t2))
			buf_adds(&r->t2, "[unknown]");
		if (r->t1.len)
			buf_addch(&r->t1, '.');
		buf_add(&r->t1, r->t2.buf, r->t2.len);
		buf_reset(&r->t2);
		if (jfr_field_text(c, mc, m, jfr_field_index(c, (int)mc, "descriptor"), &r->t2))
			add_params(&r->t1, r->t2.buf);
		f.function = profile_intern(r->p, r->t1.buf, r->t1.len);
		if (key != UINT64_MAX) {
			int inserted;
			*u64map_insert(&r->methods, key, &inserted) = (uint64_t)f.function << 32 | f.file;
		}
	} else {
		f.function = profile_intern_str(r->p, "[unknown]");
	}
	if (jfr_field_long(c, fcls, at, jfr_field_index(c, (int)fcls, "lineNumber"), &line) && line > 0 &&
	    line < UINT32_MAX)
		f.line = (uint32_t)line;
	buf_reset(&r->t2);
	f.kind = FRAME_JAVA;
	if (jfr_field_text(c, fcls, at, jfr_field_index(c, (int)fcls, "type"), &r->t2) && !strcmp(r->t2.buf, "Inlined"))
		f.kind = FRAME_INLINED;
	return profile_frame(r->p, &f);
}

/* The stack node of an event's stack trace: 0 with `*node` set, 1 for no stack trace, -1 on damage. */
static int stack_node(struct jreader *r, const struct jevent *ev, struct jfr_cur at, uint32_t *node)
{
	struct jfr_chunk *c = &r->c;
	struct jfr_cur st;
	uint32_t sc;
	uint64_t key, *cached;
	size_t n = 0;

	if (!jfr_field_ref(c, (uint32_t)ev->cls, at, ev->f_stack, &st, &sc, &key))
		return 1;
	if (key != UINT64_MAX && (cached = u64map_find(&r->stacks, key))) {
		*node = (uint32_t)*cached;
		return *node ? 0 : 1;
	}
	int ff = jfr_field_index(c, (int)sc, "frames");
	if (ff < 0 || !c->classes[sc].fields[ff].array)
		return err_set(r->e, "a stack trace without frames");
	const struct jfr_field *fr = &c->classes[sc].fields[ff];
	jfr_seek_field(c, sc, &st, ff);
	size_t depth = jfr_count(c, &st);
	ALLOC_GROW(r->fids, depth + 1, r->fids_alloc);
	for (size_t i = 0; i < depth && !st.bad; i++) {
		struct jfr_cur one = st;
		uint64_t *off;
		if (fr->cp) {
			uint64_t k = jfr_long(c, &st);
			if (st.bad || !(off = u64map_find(&c->classes[fr->cls].pool, k)))
				continue;
			one.p = c->file + *off;
			one.end = c->end;
		} else {
			jfr_skip(c, &st, fr->cls, false, false, 1);
		}
		r->fids[n++] = frame_of(r, fr->cls, one);
	}
	if (st.bad)
		return err_set(r->e, "a stack trace is damaged");
	*node = 0;
	while (n)
		*node = profile_node(r->p, *node, r->fids[--n]);
	if (key != UINT64_MAX) {
		int inserted;
		*u64map_insert(&r->stacks, key, &inserted) = *node;
	}
	return *node ? 0 : 1;
}

static uint32_t thread_labels(struct jreader *r, const struct jevent *ev, struct jfr_cur at)
{
	struct jfr_chunk *c = &r->c;
	struct jfr_cur t;
	struct label l[2];
	uint32_t tc, ls;
	uint64_t key, *cached;
	int64_t tid = 0;
	size_t n = 0;

	if (!jfr_field_ref(c, (uint32_t)ev->cls, at, ev->f_thread, &t, &tc, &key))
		return 0;
	if (key != UINT64_MAX && (cached = u64map_find(&r->threads, key)))
		return (uint32_t)*cached;
	memset(l, 0, sizeof(l));
	if (jfr_field_long(c, tc, t, jfr_field_index(c, (int)tc, "osThreadId"), &tid) && tid > 0) {
		l[n].key = profile_intern_str(r->p, "tid");
		l[n++].num = tid;
	}
	buf_reset(&r->t1);
	if ((jfr_field_text(c, tc, t, jfr_field_index(c, (int)tc, "javaName"), &r->t1) && r->t1.len) ||
	    jfr_field_text(c, tc, t, jfr_field_index(c, (int)tc, "osName"), &r->t1)) {
		l[n].key = profile_intern_str(r->p, "comm");
		l[n++].str = profile_intern(r->p, r->t1.buf, r->t1.len);
	}
	ls = profile_labelset(r->p, l, n);
	if (key != UINT64_MAX) {
		int inserted;
		*u64map_insert(&r->threads, key, &inserted) = ls;
	}
	return ls;
}

/* Nanoseconds since the epoch of a tick count of this chunk. */
static int64_t ticks_to_ns(const struct jfr_chunk *c, int64_t ticks)
{
	__int128 d = (__int128)ticks - c->start_ticks, ns;

	if (c->ticks_per_second > 0)
		d = d * 1000000000 / c->ticks_per_second;
	ns = d + c->start_nanos;
	return ns > INT64_MAX ? INT64_MAX : ns < INT64_MIN ? INT64_MIN : (int64_t)ns;
}

/* "20 ms" and the like (jdk.jfr's timespan settings); 0 when it is not one. */
static int64_t parse_timespan(const char *s)
{
	static const struct { const char *unit; int64_t ns; } units[] = {
		{ "ns", 1 }, { "us", 1000 }, { "ms", 1000000 }, { "s", 1000000000 }, { "m", 60000000000 },
		{ "h", 3600000000000 }, { "d", 86400000000000 },
	};
	char *end;
	long long v = strtoll(s, &end, 10);

	if (end == s || v <= 0)
		return 0;
	while (*end == ' ')
		end++;
	for (size_t i = 0; i < ARRAY_SIZE(units); i++)
		if (!strcmp(end, units[i].unit) && v <= INT64_MAX / units[i].ns)
			return v * units[i].ns;
	return 0;
}

static void active_setting(struct jreader *r, struct jfr_cur at)
{
	struct jfr_chunk *c = &r->c;
	int64_t id;

	if (r->ev[JK_EXEC].cls < 0 || !jfr_field_long(c, (uint32_t)r->set_cls, at, r->set_id, &id) ||
	    (uint64_t)id != c->classes[r->ev[JK_EXEC].cls].id)
		return;
	buf_reset(&r->t1);
	buf_reset(&r->t2);
	if (jfr_field_text(c, (uint32_t)r->set_cls, at, r->set_name, &r->t1) && !strcmp(r->t1.buf, "period") &&
	    jfr_field_text(c, (uint32_t)r->set_cls, at, r->set_value, &r->t2)) {
		int64_t ns = parse_timespan(r->t2.buf);
		/* several recordings at once sample at the shortest period asked for */
		if (ns && (!r->period_ns || ns < r->period_ns))
			r->period_ns = ns;
	}
}

static int sample_event(struct jreader *r, enum jkind k, struct jfr_cur at)
{
	const struct jevent *ev = &r->ev[k];
	struct jsample *s;
	int64_t ticks = 0, value = 1;
	uint32_t node = 0;
	int rc;

	r->counts[k]++;
	if ((rc = stack_node(r, ev, at, &node)) < 0)
		return -1;
	if (rc) {
		r->no_stack++;
		return 0;
	}
	if (kinds[k].value && (!jfr_field_long(&r->c, (uint32_t)ev->cls, at, ev->f_value, &value) || value < 0))
		value = 0;
	jfr_field_long(&r->c, (uint32_t)ev->cls, at, ev->f_time, &ticks);
	ALLOC_GROW(r->s, r->s_nr + 1, r->s_alloc);
	s = &r->s[r->s_nr];
	s->ns = ticks_to_ns(&r->c, ticks);
	s->seq = r->s_nr++;
	s->node = node;
	s->labelset = thread_labels(r, ev, at);
	s->value = value;
	s->kind = k;
	return 0;
}

static int read_events(struct jreader *r)
{
	struct jfr_chunk *c = &r->c;
	const uint8_t *pos = c->start + JFR_HEADER_SIZE;

	while (pos < c->end) {
		struct jfr_cur at = { pos, c->end, false };
		uint32_t size = jfr_int(c, &at);
		uint64_t type = jfr_long(c, &at), *ci;
		if (at.bad || size < 2 || size > (size_t)(c->end - pos))
			return err_set(r->e, "the event at offset %td is damaged", pos - c->file);
		at.end = pos + size;
		if (at.p > at.end)
			return err_set(r->e, "the event at offset %td is shorter than its header", pos - c->file);
		pos += size;
		if (type < 2 || !(ci = u64map_find(&c->class_index, type)))
			continue; /* metadata, checkpoints, types this reader does not know */
		if ((int)*ci == r->set_cls) {
			active_setting(r, at);
			continue;
		}
		for (int k = 0; k < JK_NR; k++)
			if ((int)*ci == r->ev[k].cls && sample_event(r, (enum jkind)k, at))
				return -1;
	}
	return 0;
}

static int read_chunk(struct jreader *r, const uint8_t *data, size_t len, size_t off, uint64_t *steps)
{
	struct jfr_chunk *c = &r->c;
	int ret = -1;

	if (jfr_chunk_open(c, data, len, off, steps, r->e))
		goto out;
	for (int k = 0; k < JK_NR; k++) {
		struct jevent *ev = &r->ev[k];
		ev->cls = jfr_class_by_name(c, kinds[k].type);
		ev->f_time = jfr_field_index(c, ev->cls, "startTime");
		ev->f_thread = jfr_field_index(c, ev->cls, kinds[k].thread);
		if (ev->f_thread < 0)
			ev->f_thread = jfr_field_index(c, ev->cls, "eventThread");
		ev->f_stack = jfr_field_index(c, ev->cls, "stackTrace");
		ev->f_value = kinds[k].value ? jfr_field_index(c, ev->cls, kinds[k].value) : -1;
	}
	r->set_cls = jfr_class_by_name(c, "jdk.ActiveSetting");
	r->set_id = jfr_field_index(c, r->set_cls, "id");
	r->set_name = jfr_field_index(c, r->set_cls, "name");
	r->set_value = jfr_field_index(c, r->set_cls, "value");
	if (read_events(r))
		goto out;
	if (!r->chunks || c->start_nanos < r->start_ns)
		r->start_ns = c->start_nanos;
	if (c->duration_nanos > 0 && c->start_nanos + (__int128)c->duration_nanos < INT64_MAX &&
	    c->start_nanos + c->duration_nanos > r->end_ns)
		r->end_ns = c->start_nanos + c->duration_nanos;
	ret = 0;
out:
	if (ret && !*steps)
		err_set(r->e, "the recording is too complex to read (its values nest or repeat beyond its size)");
	if (ret)
		err_wrap(r->e, "chunk %zu", r->chunks + 1);
	r->chunks++;
	u64map_release(&r->stacks);
	u64map_release(&r->methods);
	u64map_release(&r->threads);
	jfr_chunk_release(c);
	return ret;
}

static int cmp_sample(const void *a, const void *b)
{
	const struct jsample *x = a, *y = b;

	if (x->ns != y->ns)
		return x->ns < y->ns ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int build(struct jreader *r)
{
	struct profile *p = r->p;
	bool tlab = !r->counts[JK_ALLOC];
	int col[JK_NR] = { -1, -1, -1, -1, -1 }, cbytes = -1;
	size_t used = 0;

	for (size_t i = 0; i < r->s_nr; i++)
		used += r->s[i].kind < JK_TLAB_NEW || tlab;
	if (!used)
		return err_set(r->e, "no execution or allocation samples with a stack trace in its %zu chunks",
			       r->chunks);
	if (r->counts[JK_EXEC])
		col[JK_EXEC] = profile_add_column(p, "samples", "count");
	if (r->counts[JK_NATIVE])
		col[JK_NATIVE] = profile_add_column(p, "native_samples", "count");
	if (r->counts[JK_ALLOC] || r->counts[JK_TLAB_NEW] || r->counts[JK_TLAB_OUT]) {
		col[JK_ALLOC] = col[JK_TLAB_NEW] = col[JK_TLAB_OUT] = profile_add_column(p, "alloc_samples", "count");
		cbytes = profile_add_column(p, "alloc_space", "bytes");
	}
	p->default_column = col[JK_EXEC] >= 0 ? col[JK_EXEC] : cbytes >= 0 ? cbytes : col[JK_NATIVE];
	if (r->counts[JK_EXEC] && r->period_ns) {
		p->period_type.type = profile_intern_str(p, "cpu");
		p->period_type.unit = profile_intern_str(p, "nanoseconds");
		p->period = r->period_ns;
	}
	p->time_nanos = r->start_ns;
	p->duration_nanos = r->end_ns > r->start_ns ? r->end_ns - r->start_ns : 0;
	qsort(r->s, r->s_nr, sizeof(*r->s), cmp_sample);
	for (size_t i = 0; i < r->s_nr; i++) {
		const struct jsample *s = &r->s[i];
		int64_t vals[PROFILE_MAX_COLUMNS] = { 0 };
		if (s->kind >= JK_TLAB_NEW && !tlab)
			continue;
		vals[col[s->kind]] = 1;
		if (kinds[s->kind].value)
			vals[cbytes] = s->value;
		profile_add_sample(p, s->node, s->labelset, vals);
	}
	if (r->no_stack)
		profile_add_warning(p, "skipped %zu samples without a stack trace", r->no_stack);
	if (!tlab && r->counts[JK_TLAB_NEW] + r->counts[JK_TLAB_OUT])
		profile_add_warning(p, "ignored %zu TLAB allocation events: jdk.ObjectAllocationSample covers the same "
				    "allocations", r->counts[JK_TLAB_NEW] + r->counts[JK_TLAB_OUT]);
	return 0;
}

static int jfr_read(struct profile *p, struct input *in, const struct format_read_opts *o, struct err *e)
{
	struct jreader r;
	const unsigned char *data;
	size_t len, off = 0;
	uint64_t steps;
	int ret = -1;

	(void)o; /* samples are always added in time order and with their thread's labels */
	if (input_read_all(in, &data, &len, e))
		return -1;
	memset(&r, 0, sizeof(r));
	r.p = p;
	r.e = e;
	r.stacks = r.methods = r.threads = (struct u64map)U64MAP_INIT;
	buf_init(&r.t1, 0);
	buf_init(&r.t2, 0);
	buf_init(&r.t3, 0);
	/* every value read costs a step: work stays proportional to the file, whatever its counts claim */
	steps = (uint64_t)len * 64 + (1u << 20);
	if (!len) {
		err_set(e, "the file is empty");
		goto out;
	}
	while (off < len) {
		if (read_chunk(&r, data, len, off, &steps))
			goto out;
		/* the chunk's size was checked against the file when it was opened */
		uint64_t size = 0;
		for (int i = 0; i < 8; i++)
			size = size << 8 | data[off + 8 + i];
		off += size;
	}
	ret = build(&r);
out:
	free(r.s);
	free(r.fids);
	buf_release(&r.t1);
	buf_release(&r.t2);
	buf_release(&r.t3);
	return ret;
}

static const char *const jfr_extensions[] = { NULL };

const struct format format_jfr = {
	.name = "jfr",
	.description = "Java Flight Recorder recordings (.jfr): execution and allocation samples (read only)",
	.extensions = jfr_extensions,
	.probe = jfr_probe,
	.read = jfr_read,
	.write = NULL,
};
