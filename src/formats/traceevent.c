/*
 * trace-event: Chrome's Trace Event Format JSON (chrome://tracing, DevTools "Save profile", Perfetto's JSON
 * export, node --trace-events, Hermes), read only. A JSON array of events, or {"traceEvents": [...]}; the spec
 * lets a trace end without its closing "]", so an array cut short is closed before parsing.
 *
 * What a trace holds decides how it is read, in this order (speedscope's order too):
 *   - V8 CPU profiles: a "Profile" event (args.data.startTime) and "ProfileChunk" events with the same id and
 *     pid (nodes with callFrame and parent, samples, timeDeltas, endTime), or Chrome 65's single "CpuProfile"
 *     event; read as a .cpuprofile is (cpuprofile.h), one profile after another, each in time order.
 *   - Hermes samples: top-level "samples" [{sf, ts, pid, tid, weight}] and "stackFrames" {id: {name, category,
 *     parent}}; each sample lasts until the thread's next one.
 *   - Duration events (traceevent_dur.c): B/E pairs and X (complete) events per thread, self time per stack,
 *     E events matched against the thread's open B events as speedscope matches them (trace-event.ts).
 * Time stamps are microseconds, maybe fractional; durations are kept in nanoseconds.
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../core/array.h"
#include "../core/buf.h"
#include "../core/err.h"
#include "../core/hash.h"
#include "../core/xalloc.h"
#include "../profile/profile.h"
#include "cpuprofile.h"
#include "format.h"
#include "json_input.h"
#include "traceevent.h"

static int traceevent_probe(const unsigned char *head, size_t len)
{
	size_t i = 0;

	while (i < len && (head[i] == ' ' || head[i] == '\t' || head[i] == '\n' || head[i] == '\r'))
		i++;
	if (i < len && head[i] == '{')
		return memmem(head, len, "\"traceEvents\"", 13) ? 95 : 0;
	if (i == len || head[i] != '[')
		return 0;
	for (i++; i < len && (head[i] == ' ' || head[i] == '\t' || head[i] == '\n' || head[i] == '\r'); i++)
		;
	if (i == len || head[i] != '{')
		return 0;
	return memmem(head, len, "\"ph\"", 4) ? 90 : 0;
}

/* ---- values ------------------------------------------------------------------------------------------------ */

/* A number, or a string holding one (Hermes writes ts, tid and weight as strings). */
bool te_num_of(json_t *v, double *out)
{
	if (json_is_number(v)) {
		*out = json_number_value(v);
		return isfinite(*out);
	}
	if (json_is_string(v) && json_string_length(v)) {
		char *end;
		*out = strtod(json_string_value(v), &end);
		return *end == '\0' && isfinite(*out);
	}
	return false;
}

bool te_int_of(json_t *v, int64_t *out)
{
	double d;

	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return true;
	}
	if (!te_num_of(v, &d) || !(d > -9.2e18 && d < 9.2e18))
		return false;
	*out = llround(d);
	return true;
}

/* A time in microseconds as nanoseconds. */
bool te_ns_of(json_t *v, int64_t *out)
{
	double d;

	if (!te_num_of(v, &d) || !(d > -9.2e15 && d < 9.2e15))
		return false;
	*out = llround(d * 1000);
	return true;
}

const char *te_name_of(json_t *ev)
{
	json_t *n = json_object_get(ev, "name");

	return json_is_string(n) ? json_string_value(n) : "(unnamed)";
}

/* ---- threads: pid/tid labels and names ---------------------------------------------------------------- */

static void collect_names(struct treader *r)
{
	for (size_t i = 0; i < json_array_size(r->events); i++) {
		json_t *ev = json_array_get(r->events, i), *ph = json_object_get(ev, "ph");
		json_t *name = json_object_get(json_object_get(ev, "args"), "name");
		const char *what = te_name_of(ev);
		int64_t pid = 0, tid = 0;
		if (!json_is_string(ph) || strcmp(json_string_value(ph), "M") || !json_is_string(name))
			continue;
		if (strcmp(what, "thread_name") && strcmp(what, "process_name"))
			continue;
		te_int_of(json_object_get(ev, "pid"), &pid);
		te_int_of(json_object_get(ev, "tid"), &tid);
		ALLOC_GROW(r->names, r->names_nr + 1, r->names_alloc);
		r->names[r->names_nr++] = (struct tname){ pid, tid, !strcmp(what, "thread_name"),
							  json_string_value(name) };
	}
}

/*
 * pid, tid and the thread's name (else its process's) as labels: a trace is a handful of threads, and writers
 * such as speedscope's keep them apart. The last name given wins.
 */
uint32_t te_thread_labels(struct treader *r, int64_t pid, int64_t tid)
{
	const char *tname = NULL, *pname = NULL;
	struct label l[3];
	size_t n = 0;
	for (size_t i = 0; i < r->names_nr; i++) {
		if (r->names[i].pid != pid)
			continue;
		if (r->names[i].thread && r->names[i].tid == tid)
			tname = r->names[i].name;
		else if (!r->names[i].thread)
			pname = r->names[i].name;
	}
	memset(l, 0, sizeof(l));
	l[n].key = profile_intern_str(r->p, "pid");
	l[n++].num = pid;
	l[n].key = profile_intern_str(r->p, "tid");
	l[n++].num = tid;
	if (tname || pname) {
		l[n].key = profile_intern_str(r->p, "comm");
		l[n++].str = profile_intern_str(r->p, tname ? tname : pname);
	}
	return profile_labelset(r->p, l, n);
}

/* ---- V8 CPU profiles: Profile + ProfileChunk, CpuProfile ----------------------------------------------- */

struct cpuprof {
	int64_t pid, tid;  /* of the Profile event: the sampled thread (chunks come from the profiler thread) */
	const char *id;    /* the events' "id", NULL: keyed by pid/tid */
	bool declared;     /* a Profile or CpuProfile event was seen */
	json_t *whole;     /* CpuProfile: args.data.cpuProfile (borrowed) */
	json_t *nodes, *samples, *deltas; /* Profile + chunks: owned */
	struct v8_cpu c;
};

struct evref {
	int64_t ts;
	size_t i;
};

static int cmp_evref(const void *a, const void *b)
{
	const struct evref *x = a, *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

static struct cpuprof *find_prof(struct cpuprof **v, size_t *nr, size_t *alloc, json_t *ev)
{
	json_t *jid = json_object_get(ev, "id");
	const char *id = json_is_string(jid) ? json_string_value(jid) : NULL;
	int64_t pid = 0, tid = 0;

	te_int_of(json_object_get(ev, "pid"), &pid);
	te_int_of(json_object_get(ev, "tid"), &tid);
	for (size_t k = 0; k < *nr; k++) {
		struct cpuprof *c = &(*v)[k];
		if (c->pid == pid && (id ? c->id && !strcmp(c->id, id) : !c->id && c->tid == tid))
			return c;
	}
	ALLOC_GROW(*v, *nr + 1, *alloc);
	struct cpuprof *c = &(*v)[(*nr)++];
	memset(c, 0, sizeof(*c));
	c->pid = pid;
	c->tid = tid;
	c->id = id;
	c->nodes = json_array();
	c->samples = json_array();
	c->deltas = json_array();
	return c;
}

static void take_times(struct cpuprof *c, json_t *data)
{
	json_t *start = json_object_get(data, "startTime"), *end = json_object_get(data, "endTime");

	if (json_is_integer(start)) {
		c->c.start = json_integer_value(start);
		c->c.has_start = true;
	}
	if (json_is_integer(end)) {
		c->c.end = json_integer_value(end);
		c->c.has_end = true;
	}
}

/* Collects the profiles in time order (chunks arrive in order of their ts); returns how many events were V8's. */
static size_t gather_profiles(struct treader *r, struct cpuprof **v, size_t *nr, size_t *alloc)
{
	size_t n = json_array_size(r->events), found = 0;
	struct evref *refs = xmalloc((n + 1) * sizeof(*refs));

	for (size_t i = 0; i < n; i++) {
		refs[i].i = i;
		if (!te_ns_of(json_object_get(json_array_get(r->events, i), "ts"), &refs[i].ts))
			refs[i].ts = 0;
	}
	qsort(refs, n, sizeof(*refs), cmp_evref);
	for (size_t k = 0; k < n; k++) {
		json_t *ev = json_array_get(r->events, refs[k].i);
		json_t *data = json_object_get(json_object_get(ev, "args"), "data");
		const char *name = te_name_of(ev);
		struct cpuprof *c;
		if (!strcmp(name, "CpuProfile")) {
			found++;
			c = find_prof(v, nr, alloc, ev);
			c->declared = true;
			c->whole = json_object_get(data, "cpuProfile");
		} else if (!strcmp(name, "Profile")) {
			found++;
			c = find_prof(v, nr, alloc, ev);
			c->declared = true;
			take_times(c, data);
		} else if (!strcmp(name, "ProfileChunk")) {
			found++;
			if (!json_is_object(data)) /* chunks without data carry nothing */
				continue;
			c = find_prof(v, nr, alloc, ev);
			json_t *cp = json_object_get(data, "cpuProfile");
			json_t *nodes = json_object_get(cp, "nodes"), *samples = json_object_get(cp, "samples");
			json_t *deltas = json_object_get(data, "timeDeltas");
			if (!deltas)
				deltas = json_object_get(cp, "timeDeltas");
			if (json_is_array(nodes))
				json_array_extend(c->nodes, nodes);
			if (json_is_array(samples))
				json_array_extend(c->samples, samples);
			if (json_is_array(deltas))
				json_array_extend(c->deltas, deltas);
			take_times(c, data);
		}
	}
	free(refs);
	return found;
}

static int read_profiles(struct treader *r, bool *any)
{
	struct cpuprof *v = NULL;
	size_t nr = 0, alloc = 0, skipped = 0, undeclared = 0, rootless = 0;
	const char *skipped_id = NULL;
	int ret = -1;

	*any = gather_profiles(r, &v, &nr, &alloc) > 0;
	for (size_t k = 0; k < nr; k++) {
		struct cpuprof *c = &v[k];
		json_t *w = c->whole;
		if (json_is_object(w)) {
			c->c.nodes = json_object_get(w, "nodes");
			c->c.samples = json_object_get(w, "samples");
			c->c.deltas = json_object_get(w, "timeDeltas");
			take_times(c, w);
		} else {
			if (!json_array_size(c->samples))
				continue;
			c->c.nodes = c->nodes;
			c->c.samples = c->samples;
			c->c.deltas = json_array_size(c->deltas) ? c->deltas : NULL;
		}
		/* A trace can start after V8 sent a profile's nodes: such ticks are skipped and counted. */
		c->c.lenient = true;
		c->c.labelset = te_thread_labels(r, c->pid, c->tid);
		if (v8_cpu_add(r->p, &c->c, r->e)) {
			err_wrap(r->e, "profile %s", c->id ? c->id : "without id");
			goto out;
		}
		if (c->c.skipped && !skipped_id)
			skipped_id = c->id ? c->id : "without id";
		skipped += c->c.skipped;
		rootless += c->c.rootless;
		undeclared += !c->declared;
	}
	if (skipped)
		profile_add_warning(r->p, "skipped %zu CPU samples whose stack is not in the trace (the first of profile %s)",
				    skipped, skipped_id);
	if (rootless)
		profile_add_warning(r->p, "%zu stacks are cut short: their callers are not in the trace", rootless);
	if (undeclared)
		profile_add_warning(r->p, "%zu profiles have chunks but no Profile event", undeclared);
	if (r->p->rows_nr) {
		r->p->period_type.type = profile_intern_str(r->p, "cpu");
		r->p->period_type.unit = profile_intern_str(r->p, "microseconds");
	}
	ret = 0;
out:
	for (size_t k = 0; k < nr; k++) {
		json_decref(v[k].nodes);
		json_decref(v[k].samples);
		json_decref(v[k].deltas);
	}
	free(v);
	return ret;
}

/* ---- Hermes: samples and stackFrames --------------------------------------------------------------------- */

struct sframe {
	json_t *sf;
	uint64_t parent; /* index + 1 into the frame table, 0 = none */
	uint32_t node;   /* model node, UINT32_MAX = not yet built */
};

/* "name(url:line:col)" as Hermes names JavaScript frames: the function, file and line apart. */
static uint32_t hermes_frame(struct profile *p, json_t *sf)
{
	json_t *jname = json_object_get(sf, "name"), *cat = json_object_get(sf, "category");
	const char *name = json_is_string(jname) ? json_string_value(jname) : "(unnamed)";
	size_t len = strlen(name);
	struct frame f = { 0 };
	const char *open = len > 1 && name[len - 1] == ')' ? strchr(name, '(') : NULL;

	f.kind = json_is_string(cat) && !strcmp(json_string_value(cat), "JavaScript") ? FRAME_JS : FRAME_NATIVE;
	if (open && open > name) {
		/* url:line:col, the url itself may hold colons */
		const char *close = name + len - 1, *c2 = close, *c1;
		while (c2 > open && c2[-1] != ':')
			c2--;
		c1 = c2 > open + 1 ? c2 - 1 : open;
		while (c1 > open && c1[-1] != ':')
			c1--;
		if (c1 > open + 1 && c2 > c1) {
			char *end;
			unsigned long line = strtoul(c1, &end, 10);
			if (end == c2 - 1 && line > 0 && line < UINT32_MAX) {
				f.function = profile_intern(p, name, (size_t)(open - name));
				f.file = profile_intern(p, open + 1, (size_t)(c1 - 1 - (open + 1)));
				f.line = (uint32_t)line;
				return profile_frame(p, &f);
			}
		}
	}
	f.function = profile_intern(p, name, len);
	return profile_frame(p, &f);
}

static int sframe_node(struct treader *r, struct sframe *t, size_t nt, size_t i, uint32_t *out)
{
	size_t depth = 0, cur = i;
	size_t *path = NULL, alloc = 0;

	while (t[cur].node == UINT32_MAX) {
		if (depth > nt) {
			free(path);
			return err_set(r->e, "the stackFrames have a cycle");
		}
		ALLOC_GROW(path, depth + 1, alloc);
		path[depth++] = cur;
		if (!t[cur].parent)
			break;
		cur = t[cur].parent - 1;
	}
	uint32_t node = t[cur].node == UINT32_MAX ? 0 : t[cur].node;
	while (depth-- > 0) {
		struct sframe *s = &t[path[depth]];
		node = profile_node(r->p, node, hermes_frame(r->p, s->sf));
		s->node = node;
	}
	free(path);
	*out = t[i].node;
	return 0;
}

struct sref {
	int64_t pid, tid, ts;
	size_t i;
};

static int cmp_sref(const void *a, const void *b)
{
	const struct sref *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	if (x->tid != y->tid)
		return x->tid < y->tid ? -1 : 1;
	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

static int read_hermes(struct treader *r, json_t *samples, json_t *frames)
{
	size_t nt = json_object_size(frames), ns = json_array_size(samples), k = 0;
	struct sframe *t = xcalloc(nt + 1, sizeof(*t));
	struct sref *s = xmalloc((ns + 1) * sizeof(*s));
	struct u64map ids = U64MAP_INIT;
	const char *key;
	json_t *val;
	int ret = -1;

	json_object_foreach(frames, key, val) {
		char *end;
		unsigned long long id = strtoull(key, &end, 10);
		int inserted;
		if (*end || end == key || id == UINT64_MAX || !json_is_object(val)) {
			err_set(r->e, "stackFrames key '%.40s' is not a frame id", key);
			goto out;
		}
		*u64map_insert(&ids, id, &inserted) = k;
		t[k].sf = val;
		t[k++].node = UINT32_MAX;
	}
	for (k = 0; k < nt; k++) {
		json_t *par = json_object_get(t[k].sf, "parent");
		int64_t pid;
		if (!par || json_is_null(par))
			continue;
		uint64_t *pi = te_int_of(par, &pid) && pid >= 0 ? u64map_find(&ids, (uint64_t)pid) : NULL;
		if (!pi) {
			err_set(r->e, "a stack frame's parent is not a frame");
			goto out;
		}
		t[k].parent = *pi + 1;
	}
	for (size_t i = 0; i < ns; i++) {
		json_t *sm = json_array_get(samples, i);
		s[i].i = i;
		s[i].pid = s[i].tid = 0;
		te_int_of(json_object_get(sm, "pid"), &s[i].pid);
		te_int_of(json_object_get(sm, "tid"), &s[i].tid);
		if (!te_ns_of(json_object_get(sm, "ts"), &s[i].ts)) {
			err_set(r->e, "sample %zu has no \"ts\"", i);
			goto out;
		}
	}
	qsort(s, ns, sizeof(*s), cmp_sref);
	int cs = profile_add_column(r->p, "samples", "count"), ct = profile_add_column(r->p, "time", "nanoseconds");
	uint32_t ls = 0;
	for (size_t i = 0; i < ns; i++) {
		json_t *sm = json_array_get(samples, s[i].i);
		int64_t sf, w, vals[PROFILE_MAX_COLUMNS] = { 0 };
		uint64_t *fi;
		uint32_t node = 0;
		bool last = i + 1 == ns || s[i + 1].pid != s[i].pid || s[i + 1].tid != s[i].tid;
		if (!te_int_of(json_object_get(sm, "sf"), &sf) || sf < 0 || !(fi = u64map_find(&ids, (uint64_t)sf))) {
			err_set(r->e, "sample %zu names no stack frame", s[i].i);
			goto out;
		}
		if (sframe_node(r, t, nt, *fi, &node))
			goto out;
		if (i == 0 || s[i - 1].pid != s[i].pid || s[i - 1].tid != s[i].tid)
			ls = te_thread_labels(r, s[i].pid, s[i].tid);
		/* A sample lasts until the thread's next one; the last one has no end. */
		vals[cs] = te_int_of(json_object_get(sm, "weight"), &w) && w > 0 ? w : 1;
		if (!last && __builtin_sub_overflow(s[i + 1].ts, s[i].ts, &vals[ct]))
			vals[ct] = 0;
		profile_add_sample(r->p, node, ls, vals);
	}
	r->p->default_column = -1;
	ret = 0;
out:
	u64map_release(&ids);
	free(t);
	free(s);
	return ret;
}

/* ---- reading ------------------------------------------------------------------------------------------- */

/* The spec allows a trace without its closing bracket; speedscope reads such cut traces. */
static json_t *load_trace(const unsigned char *data, size_t len, struct err *e)
{
	struct err first = ERR_INIT;
	json_t *root = json_input_parse(data, len, &first);
	size_t i = 0, end = len;

	if (root)
		return root;
	while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r'))
		i++;
	while (end > i && (data[end - 1] == ' ' || data[end - 1] == '\t' || data[end - 1] == '\n' ||
			   data[end - 1] == '\r'))
		end--;
	if (i < end && data[i] == '[' && data[end - 1] != ']') {
		struct buf b = BUF_INIT;
		if (data[end - 1] == ',')
			end--;
		buf_add(&b, data, end);
		buf_addch(&b, ']');
		root = json_loadb(b.buf, b.len, 0, NULL);
		buf_release(&b);
		if (root)
			return root;
	}
	*e = first;
	return NULL;
}

static int traceevent_read(struct profile *p, struct input *in, const struct format_read_opts *o, struct err *e)
{
	const unsigned char *data;
	size_t len;
	json_t *root;
	struct treader r = { .p = p, .o = o, .e = e };
	bool any;
	int ret = -1;

	if (input_read_all(in, &data, &len, e))
		return -1;
	root = load_trace(data, len, e);
	if (!root)
		return -1;
	r.events = json_is_array(root) ? root : json_object_get(root, "traceEvents");
	if (!json_is_array(r.events)) {
		err_set(e, "neither an array of events nor an object with a \"traceEvents\" array");
		goto out;
	}
	for (size_t i = 0; i < json_array_size(r.events); i++) {
		if (!json_is_object(json_array_get(r.events, i))) {
			err_set(e, "event %zu is not an object", i);
			goto out;
		}
	}
	collect_names(&r);
	if (read_profiles(&r, &any))
		goto out;
	if (!p->rows_nr) {
		json_t *samples = json_object_get(root, "samples"), *frames = json_object_get(root, "stackFrames");
		if (json_is_array(samples) && json_array_size(samples) && json_is_object(frames)) {
			if (read_hermes(&r, samples, frames))
				goto out;
		} else if (te_read_durations(&r)) {
			goto out;
		}
	}
	if (!p->rows_nr) {
		err_set(e, any ? "the CPU profiles in it have no samples"
			       : "no CPU profile, samples or B/E/X duration events in it");
		goto out;
	}
	if (r.ignored_ends)
		profile_add_warning(p, "ignored %zu E events that matched no open B event", r.ignored_ends);
	ret = 0;
out:
	free(r.names);
	json_decref(root);
	return ret;
}

static const char *const traceevent_extensions[] = { NULL };

const struct format format_traceevent = {
	.name = "trace-event",
	.description = "Chrome trace events JSON: V8 CPU profiles, Hermes samples, B/E/X durations (read only)",
	.extensions = traceevent_extensions,
	.probe = traceevent_probe,
	.read = traceevent_read,
	.write = NULL,
};
