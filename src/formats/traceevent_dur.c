/*
 * The duration events of a trace-event file (traceevent.c): B/E pairs and X (complete) events per thread, as
 * self time per stack, with E events matched against the thread's open B events as speedscope matches them
 * (trace-event.ts).
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../core/array.h"
#include "../core/buf.h"
#include "../core/err.h"
#include "../core/xalloc.h"
#include "../profile/profile.h"
#include "traceevent.h"

/* ---- duration events: B, E, X ------------------------------------------------------------------------ */

struct dev {
	int64_t pid, tid, ts, dur;
	size_t i;       /* the event's index: ties keep file order */
	size_t seq;     /* order in its queue before the sort by time */
	char ph;
	json_t *ev;
	char *key;      /* name and args, as speedscope tells events apart; made on first use */
};

static int cmp_thread(const void *a, const void *b)
{
	const struct dev *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	if (x->tid != y->tid)
		return x->tid < y->tid ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* X events by time, the longer first among equal starts: a shorter one cannot hold a longer one. */
static int cmp_x(const void *a, const void *b)
{
	const struct dev *x = a, *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	if (x->dur != y->dur)
		return x->dur > y->dur ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

static int cmp_time(const void *a, const void *b)
{
	const struct dev *x = a, *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static const char *key_of(struct dev *d)
{
	if (!d->key) {
		json_t *args = json_object_get(d->ev, "args");
		char *a = args ? json_dumps(args, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
		struct buf b = BUF_INIT;
		buf_adds(&b, te_name_of(d->ev));
		if (a) {
			buf_addch(&b, ' ');
			buf_adds(&b, a);
		}
		free(a);
		d->key = buf_detach(&b, NULL);
	}
	return d->key;
}

static uint32_t event_frame(struct profile *p, json_t *ev)
{
	json_t *args = json_object_get(ev, "args"), *url = json_object_get(args, "url");
	json_t *line = json_object_get(args, "line");
	const char *name = te_name_of(ev);
	struct frame f = { 0 };

	f.function = profile_intern_str(p, name);
	/* Hermes' B/E events say where the function is. */
	if (json_is_string(url) && json_string_length(url)) {
		f.file = profile_intern(p, json_string_value(url), json_string_length(url));
		f.kind = FRAME_JS;
		if (json_is_integer(line) && json_integer_value(line) > 0 && json_integer_value(line) < UINT32_MAX)
			f.line = (uint32_t)json_integer_value(line);
	}
	return profile_frame(p, &f);
}

struct open {
	struct dev *b;
	uint32_t node;
};

/* One thread's `n` events as self time per stack, in time order. */
static void thread_durations(struct treader *r, struct dev *v, size_t n, int col)
{
	struct dev *bq = xmalloc((2 * n + 1) * sizeof(*bq)), *eq = xmalloc((2 * n + 1) * sizeof(*eq));
	struct open *stack = NULL;
	size_t nb = 0, ne = 0, nx = 0, depth = 0, salloc = 0;
	int64_t last = 0, vals[PROFILE_MAX_COLUMNS] = { 0 };
	uint32_t ls = te_thread_labels(r, v[0].pid, v[0].tid);

	/* B events in file order, then the X events as begins; E events, then the X events' ends. */
	for (size_t i = 0; i < n; i++)
		if (v[i].ph == 'B')
			bq[nb++] = v[i];
		else if (v[i].ph == 'E')
			eq[ne++] = v[i];
	for (size_t i = 0; i < n; i++)
		if (v[i].ph == 'X')
			bq[nb + nx++] = v[i];
	qsort(bq + nb, nx, sizeof(*bq), cmp_x);
	for (size_t i = 0; i < nx; i++) {
		eq[ne] = bq[nb + i];
		if (__builtin_add_overflow(eq[ne].ts, eq[ne].dur, &eq[ne].ts))
			eq[ne].ts = INT64_MAX;
		ne++;
	}
	nb += nx;
	for (size_t i = 0; i < nb; i++)
		bq[i].seq = i;
	for (size_t i = 0; i < ne; i++)
		eq[i].seq = i;
	qsort(bq, nb, sizeof(*bq), cmp_time);
	qsort(eq, ne, sizeof(*eq), cmp_time);

	size_t bi = 0, ei = 0;
	while (bi < nb || ei < ne) {
		bool take_b = ei == ne ||
			      (bi < nb && (bq[bi].ts < eq[ei].ts ||
					   (bq[bi].ts == eq[ei].ts && !strcmp(key_of(&bq[bi]), key_of(&eq[ei])))));
		int64_t t = take_b ? bq[bi].ts : eq[ei].ts;
		if (depth && t > last) {
			vals[col] = t - last;
			profile_add_sample(r->p, stack[depth - 1].node, ls, vals);
		}
		last = t; /* the queues merge in time order */
		if (take_b) {
			ALLOC_GROW(stack, depth + 1, salloc);
			stack[depth].b = &bq[bi];
			stack[depth].node = profile_node(r->p, depth ? stack[depth - 1].node : 0,
							 event_frame(r->p, bq[bi].ev));
			depth++;
			bi++;
			continue;
		}
		/* Among E events at the same time, close the innermost open event first: by key, else by name. */
		if (depth) {
			struct dev *top = stack[depth - 1].b;
			size_t j, match = 0;
			for (j = ei + 1; j < ne && eq[j].ts == eq[ei].ts && !match; j++)
				if (!strcmp(key_of(&eq[j]), key_of(top)))
					match = j;
			for (j = ei + 1; j < ne && eq[j].ts == eq[ei].ts && !match; j++)
				if (!strcmp(te_name_of(eq[j].ev), te_name_of(top->ev)))
					match = j;
			if (match) {
				struct dev tmp = eq[ei];
				eq[ei] = eq[match];
				eq[match] = tmp;
			}
		}
		if (depth && !strcmp(te_name_of(eq[ei].ev), te_name_of(stack[depth - 1].b->ev)))
			depth--;
		else
			r->ignored_ends++;
		ei++;
	}
	/* Events still open end with the thread's last event, as speedscope closes them. */
	for (size_t i = 0; i < nb; i++)
		free(bq[i].key);
	for (size_t i = 0; i < ne; i++)
		free(eq[i].key);
	free(bq);
	free(eq);
	free(stack);
}

int te_read_durations(struct treader *r)
{
	size_t n = json_array_size(r->events), nv = 0;
	struct dev *v = xmalloc((n + 1) * sizeof(*v));

	for (size_t i = 0; i < n; i++) {
		json_t *ev = json_array_get(r->events, i), *ph = json_object_get(ev, "ph");
		struct dev *d = &v[nv];
		char c = json_is_string(ph) && json_string_length(ph) == 1 ? json_string_value(ph)[0] : 0;
		if (c != 'B' && c != 'E' && c != 'X')
			continue;
		memset(d, 0, sizeof(*d));
		if (!te_ns_of(json_object_get(ev, "ts"), &d->ts)) {
			free(v);
			return err_set(r->e, "event %zu ('%c') has no \"ts\"", i, c);
		}
		/* An X event without dur or tdur lasts no time (speedscope's reading). */
		if (c == 'X' && !te_ns_of(json_object_get(ev, "dur"), &d->dur) &&
		    !te_ns_of(json_object_get(ev, "tdur"), &d->dur))
			d->dur = 0;
		if (d->dur < 0) {
			free(v);
			return err_set(r->e, "event %zu has a negative duration", i);
		}
		te_int_of(json_object_get(ev, "pid"), &d->pid);
		te_int_of(json_object_get(ev, "tid"), &d->tid);
		d->ph = c;
		d->ev = ev;
		d->i = i;
		nv++;
	}
	qsort(v, nv, sizeof(*v), cmp_thread);
	int col = profile_add_column(r->p, "time", "nanoseconds");
	for (size_t from = 0, to; from < nv; from = to) {
		for (to = from + 1; to < nv && v[to].pid == v[from].pid && v[to].tid == v[from].tid; to++)
			;
		thread_durations(r, v + from, to - from, col);
	}
	free(v);
	return 0;
}
