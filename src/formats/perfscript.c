/*
 * `perf script` text with call chains, read with the exact semantics of FlameGraph's stackcollapse-perf.pl, so
 * that folding the resulting profile prints the same bytes as the Perl script for the same options.
 *
 * The input is a sequence of samples: a header line ("comm pid/tid [cpu] time: period event:"), the frames
 * leaf first ("\taddr symbol+0xoff (module)"), and an empty line that ends the sample. The Perl script matches
 * each line with regular expressions; the matchers of perfscript_line.c reproduce what those expressions (with
 * Perl's backtracking) capture, in linear time, so a hostile line cannot make the reader slow.
 *
 * Samples count their period when the header shows one (the Perl script sums periods too), else 1. Only the
 * samples of one event are kept: the one named by the options, else the first event seen.
 */
#include <stdlib.h>
#include <string.h>

#include "../core/arena.h"
#include "../core/array.h"
#include "../core/buf.h"
#include "../core/err.h"
#include "../core/hash.h"
#include "../profile/profile.h"
#include "format.h"
#include "perfscript_line.h"

struct line_entry {
	const char *key; /* in the cache's arena */
	uint32_t key_len;
	uint32_t first, nr; /* the line's frames in cache_frames */
	bool java;
};

struct ps_reader {
	struct profile *p;
	const struct format_read_opts *o;
	bool annotate_kernel, annotate_jit;

	struct buf event;  /* the kept event */
	bool event_chosen; /* from the options or the first header */
	bool event_defaulted;

	/* The sample being read ($pname defined in the Perl script). */
	bool in_sample;
	bool java;
	struct buf pname;
	int64_t period;
	bool has_period;  /* the header showed a period */
	int period_col;   /* column of summed periods (named after the event), -1 while undecided or absent */
	bool period_decided;
	int64_t pid, tid;
	bool has_pid, has_tid;
	struct buf comm;
	uint32_t *frames; /* leaf first */
	size_t frames_nr, frames_alloc;

	/* The previous sample's stack, root first, and its trie nodes: consecutive samples share prefixes. */
	uint32_t *prev, *prev_nodes;
	size_t prev_nr, prev_alloc;

	struct buf name; /* scratch */
	const struct input *in;

	/* Frame lines already seen (see on_frame). */
	struct u64map cache;
	struct line_entry *cache_entries;
	size_t cache_entries_nr, cache_entries_alloc, cache_bytes;
	uint32_t *cache_frames;
	size_t cache_frames_nr, cache_frames_alloc;
	struct arena cache_keys;

	uint64_t headers, frame_lines, samples, skipped, unrecognized, first_unrecognized;
	struct buf other_event;
	int64_t total;
};

/* Perl truth of a captured number: "" and "0" are false. */
static bool perl_true(const char *s, size_t n)
{
	return n && !(n == 1 && s[0] == '0');
}

/* Decimal digits to a value, saturating at INT64_MAX. */
static int64_t digits_value(const char *s, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++) {
		if (v > ((uint64_t)INT64_MAX - 9) / 10)
			return INT64_MAX;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	return (int64_t)v;
}

static void on_header(struct ps_reader *r, const char *s, size_t n, const struct ps_header *h)
{
	const struct format_read_opts *o = r->o;
	const char *ev, *per, *pid = h->pid, *tid = h->tid;
	size_t ev_len, per_len = 0, pid_len = h->pid_len, tid_len = h->tid_len;
	bool pid_known = true;

	if (!perl_true(tid, tid_len)) {
		tid = pid;
		tid_len = pid_len;
		pid_known = false;
	}
	if (ps_match_event(s, n, &ev, &ev_len, &per, &per_len)) {
		if (!r->event_chosen) {
			buf_add(&r->event, ev, ev_len);
			r->event_chosen = true;
			r->event_defaulted = true;
		} else if (ev_len != r->event.len || memcmp(ev, r->event.buf, ev_len)) {
			if (!r->other_event.len)
				buf_add(&r->other_event, ev, ev_len);
			r->skipped++;
			return;
		}
	}
	r->has_period = perl_true(per, per_len);
	r->period = r->has_period ? digits_value(per, per_len) : 1;

	buf_reset(&r->pname);
	buf_add(&r->pname, h->comm, h->comm_len);
	if (o->tid || o->pid) {
		buf_addch(&r->pname, '-');
		if (pid_known)
			buf_add(&r->pname, pid, pid_len);
		else
			buf_addch(&r->pname, '?');
		if (o->tid) {
			buf_addch(&r->pname, '/');
			buf_add(&r->pname, tid, tid_len);
		}
	}
	for (size_t i = 0; i < r->pname.len; i++)
		if (r->pname.buf[i] == ' ')
			r->pname.buf[i] = '_';
	r->java = r->pname.len >= 4 && !memcmp(r->pname.buf, "java", 4);
	r->in_sample = true;

	if (o->labels) {
		r->has_pid = pid_known && pid_len <= 18;
		r->pid = r->has_pid ? digits_value(pid, pid_len) : 0;
		r->has_tid = tid_len <= 18;
		r->tid = r->has_tid ? digits_value(tid, tid_len) : 0;
		buf_reset(&r->comm);
		buf_add(&r->comm, h->comm, h->comm_len);
	}
}

/* Go method names such as "net/http.(*Client).Do" keep their parentheses: /\.\(.*\)\./. */
static bool is_go_name(const char *f, size_t n)
{
	const char *open = NULL;
	size_t i, j;

	for (i = 0; i + 1 < n; i++) {
		const char *p = memchr(f + i, '(', n - i);

		if (!p)
			return false;
		i = (size_t)(p - f);
		if (i > 0 && f[i - 1] == '.') {
			open = p;
			break;
		}
	}
	if (!open)
		return false;
	for (j = n - 1; j >= 1; j--)
		if (f[j] == '.' && f[j - 1] == ')')
			return j - 1 >= (size_t)(open - f) + 1;
	return false;
}

/* Where the argument list starts: the first '(' that does not open "(anonymous namespace)". */
static size_t args_start(const char *f, size_t n)
{
	static const char anon[] = "anonymous namespace)";
	size_t i = 0;

	while (i < n) {
		const char *p = memchr(f + i, '(', n - i);

		if (!p)
			return n;
		i = (size_t)(p - f);
		if (n - i - 1 < sizeof(anon) - 1 || memcmp(p + 1, anon, sizeof(anon) - 1))
			return i;
		i++;
	}
	return n;
}

/* The Perl script's kernel test: /(^\[|vmlinux$)/ and not /unknown/. */
static bool is_kernel_module(const char *m, size_t n)
{
	if (!n)
		return false;
	if (m[0] != '[' && !(n >= 7 && !memcmp(m + n - 7, "vmlinux", 7)))
		return false;
	return !ps_find_bytes(m, n, "unknown", 7);
}

/* m:/tmp/perf-\d+\.map: */
static bool is_jit_module(const char *m, size_t n)
{
	const char *p = m, *end = m + n;

	while ((p = ps_find_bytes(p, (size_t)(end - p), "/tmp/perf-", 10))) {
		const char *d = p + 10;

		while (d < end && is_digit((unsigned char)*d))
			d++;
		if (d > p + 10 && end - d >= 4 && !memcmp(d, ".map", 4))
			return true;
		p++;
	}
	return false;
}

/* Builds one frame's name as the Perl script prints it into r->name; returns its kind. */
static enum frame_kind frame_name(struct ps_reader *r, const struct ps_frame_line *l, const char *f, size_t n,
				  size_t index)
{
	struct buf *b = &r->name;
	enum frame_kind kind = FRAME_NATIVE;
	size_t cut, start;
	bool kmod, jmod;
	char *w;

	buf_reset(b);
	if (n == 9 && !memcmp(f, "[unknown]", 9)) {
		/* The module's base name stands in for an unknown symbol. */
		buf_addch(b, '[');
		if (l->mod_len == 9 && !memcmp(l->mod, "[unknown]", 9)) {
			buf_adds(b, "unknown");
		} else {
			const char *base = l->mod + l->mod_len;

			while (base > l->mod && base[-1] != '/')
				base--;
			buf_add(b, base, (size_t)(l->mod + l->mod_len - base));
		}
		if (r->o->addrs) {
			buf_adds(b, " <");
			buf_add(b, l->pc, l->pc_len);
			buf_addch(b, '>');
		}
		buf_addch(b, ']');
		f = NULL;
	}
	if (f) {
		buf_add(b, f, n);
	}
	/* Generic tidy: ';' would split the folded stack; argument lists and quotes are noise. */
	cut = is_go_name(b->buf, b->len) ? b->len : args_start(b->buf, b->len);
	w = b->buf;
	for (size_t i = 0; i < cut; i++) {
		char ch = b->buf[i];

		if (ch == '"' || ch == '\'')
			continue;
		*w++ = ch == ';' ? ':' : ch;
	}
	buf_setlen(b, (size_t)(w - b->buf));
	/* Java: "Lorg/foo/Bar:.baz" loses its type-descriptor 'L'. */
	start = 0;
	if (r->java && b->len && b->buf[0] == 'L' && memchr(b->buf, '/', b->len))
		start = 1;
	if (start) {
		memmove(b->buf, b->buf + 1, b->len - 1);
		buf_setlen(b, b->len - 1);
	}

	/* Annotations, in the Perl script's order; the kind is kept whether or not the name shows it. */
	kmod = is_kernel_module(l->mod, l->mod_len);
	jmod = is_jit_module(l->mod, l->mod_len);
	if (index > 0) {
		if (!ps_find_bytes(b->buf, b->len, "_[i]", 4))
			buf_adds(b, "_[i]");
	} else if (r->annotate_kernel && kmod) {
		buf_adds(b, "_[k]");
	} else if (r->annotate_jit && jmod) {
		if (!ps_find_bytes(b->buf, b->len, "_[j]", 4))
			buf_adds(b, "_[j]");
	}
	if (index > 0 || (l->mod_len == 7 && !memcmp(l->mod, "inlined", 7))) /* perf script --inline */
		kind = FRAME_INLINED;
	else if (kmod)
		kind = FRAME_KERNEL;
	else if (jmod)
		kind = FRAME_JIT;
	return kind;
}

static void push_frame(struct ps_reader *r, uint32_t frame)
{
	ALLOC_GROW(r->frames, r->frames_nr + 1, r->frames_alloc);
	r->frames[r->frames_nr++] = frame;
}

/* Turns one frame line into frames, pushed on the sample leaf first. */
static void build_frames(struct ps_reader *r, const struct ps_frame_line *l)
{
	const char *f = l->func, *end, *p;
	size_t n = l->func_len, k, nfields = 0, field, base = r->frames_nr;
	uint32_t module;

	/* Strip a trailing symbol offset: s/\+0x[\da-f]+$//. */
	for (k = n; k > 0 && (is_digit((unsigned char)f[k - 1]) || (f[k - 1] >= 'a' && f[k - 1] <= 'f')); k--)
		;
	if (k < n && k >= 3 && f[k - 3] == '+' && f[k - 2] == '0' && f[k - 1] == 'x')
		n = k - 3;
	if (n && f[0] == '(')
		return; /* a process name, not a frame */

	/* Split at "->" (inline chains); like Perl's split, trailing empty fields are dropped. */
	end = f + n;
	for (p = f, field = 0;; field++) {
		const char *arrow = ps_find_bytes(p, (size_t)(end - p), "->", 2);
		const char *fe = arrow ? arrow : end;

		if (fe > p)
			nfields = field + 1;
		if (!arrow)
			break;
		p = arrow + 2;
	}
	if (!nfields)
		return;
	module = profile_intern(r->p, l->mod, l->mod_len);
	for (p = f, field = 0; field < nfields; field++) {
		const char *arrow = ps_find_bytes(p, (size_t)(end - p), "->", 2);
		const char *fe = arrow ? arrow : end;
		struct frame fr = { 0 };

		fr.kind = frame_name(r, l, p, (size_t)(fe - p), field);
		fr.function = profile_intern(r->p, r->name.buf, r->name.len);
		fr.module = r->name.len ? module : 0; /* an empty name prints as [unknown], not as the module */
		push_frame(r, profile_frame(r->p, &fr));
		p = fe + 2;
	}
	/* The fields of one line go root to leaf; the sample's frames are kept leaf first. */
	for (size_t i = base, j = r->frames_nr - 1; i < j; i++, j--) {
		uint32_t t = r->frames[i];

		r->frames[i] = r->frames[j];
		r->frames[j] = t;
	}
}

/*
 * Frame lines repeat (one per sample that passes through a function), so their frames are cached by the line's
 * text from the function to the closing parenthesis (from the address with --addrs, which names unknown frames
 * by address) and by whether the process is Java. The cache stops growing at a bound, after which lines are
 * simply parsed each time: memory stays proportional to distinct code locations, never to the input.
 */
#define LINE_CACHE_MAX_ENTRIES (1u << 19)
#define LINE_CACHE_MAX_BYTES (32u << 20)

static void on_frame(struct ps_reader *r, const struct ps_frame_line *l)
{
	const char *key = r->o->addrs ? l->pc : l->func;
	size_t key_len = (size_t)(l->mod + l->mod_len + 1 - key), base = r->frames_nr;
	uint64_t h = hash_bytes(key, key_len) ^ (r->java ? 0x9e3779b97f4a7c15ULL : 0), *slot;
	struct line_entry *le;
	int inserted = 0;

	slot = u64map_find(&r->cache, h);
	if (slot) {
		le = &r->cache_entries[*slot];
		if (le->java == r->java && le->key_len == key_len && !memcmp(le->key, key, key_len)) {
			for (uint32_t i = 0; i < le->nr; i++)
				push_frame(r, r->cache_frames[le->first + i]);
			return;
		}
	}
	build_frames(r, l);
	if (slot || r->cache_entries_nr >= LINE_CACHE_MAX_ENTRIES || r->cache_bytes + key_len > LINE_CACHE_MAX_BYTES ||
	    key_len > UINT32_MAX)
		return;
	slot = u64map_insert(&r->cache, h, &inserted);
	*slot = r->cache_entries_nr;
	ALLOC_GROW(r->cache_entries, r->cache_entries_nr + 1, r->cache_entries_alloc);
	le = &r->cache_entries[r->cache_entries_nr++];
	le->key = arena_strndup(&r->cache_keys, key, key_len);
	le->key_len = (uint32_t)key_len;
	le->java = r->java;
	le->first = (uint32_t)r->cache_frames_nr;
	le->nr = (uint32_t)(r->frames_nr - base);
	r->cache_bytes += key_len;
	if (le->nr) {
		ALLOC_GROW(r->cache_frames, r->cache_frames_nr + le->nr, r->cache_frames_alloc);
		memcpy(r->cache_frames + r->cache_frames_nr, r->frames + base, le->nr * sizeof(*r->frames));
		r->cache_frames_nr += le->nr;
	}
}

/*
 * Column 0 counts samples. When headers show periods, a second column sums them (stackcollapse-perf.pl prints
 * these sums) and becomes the default; it is named after the event, in nanoseconds for the clock events.
 */
static void decide_period_column(struct ps_reader *r)
{
	const char *ev = r->event.len ? r->event.buf : "events";
	size_t len = strcspn(ev, ":");
	char type[128];
	bool clock;

	r->period_decided = true;
	r->period_col = -1;
	if (!r->has_period)
		return;
	snprintf(type, sizeof(type), "%.*s", (int)(len < sizeof(type) ? len : sizeof(type) - 1), ev);
	clock = !strcmp(type, "cpu-clock") || !strcmp(type, "task-clock");
	r->period_col = profile_add_column(r->p, type[0] ? type : "events", clock ? "nanoseconds" : "count");
	r->p->default_column = r->period_col;
	if (clock) {
		r->p->period_type = r->p->columns[r->period_col];
	}
}

static int end_sample(struct ps_reader *r, struct err *e)
{
	struct profile *p = r->p;
	size_t depth = r->frames_nr + 1, k = 0;
	uint32_t node = 0, labelset = 0, root;

	root = profile_frame_named(p, r->pname.buf, r->pname.len, FRAME_ROOT);
	if (depth > r->prev_alloc) {
		ALLOC_GROW(r->prev, depth, r->prev_alloc);
		r->prev_nodes = xrealloc(r->prev_nodes, r->prev_alloc * sizeof(*r->prev_nodes));
	}
	/* Root first: the process, then the frames from the outermost caller to the leaf. */
	if (r->prev_nr && r->prev[0] == root) {
		node = r->prev_nodes[0];
		k = 1;
		while (k < depth && k < r->prev_nr && r->prev[k] == r->frames[depth - 1 - k]) {
			node = r->prev_nodes[k];
			k++;
		}
	}
	for (; k < depth; k++) {
		uint32_t fr = k ? r->frames[depth - 1 - k] : root;

		node = profile_node(p, node, fr);
		r->prev[k] = fr;
		r->prev_nodes[k] = node;
	}
	r->prev_nr = depth;

	if (r->o->labels) {
		struct label l[3];
		size_t n = 0;

		memset(l, 0, sizeof(l));
		if (r->has_pid) {
			l[n].key = profile_intern_str(p, "pid");
			l[n++].num = r->pid;
		}
		if (r->has_tid) {
			l[n].key = profile_intern_str(p, "tid");
			l[n++].num = r->tid;
		}
		l[n].key = profile_intern_str(p, "comm");
		l[n++].str = profile_intern(p, r->comm.buf, r->comm.len);
		labelset = profile_labelset(p, l, n);
	}
	if (r->period > INT64_MAX - r->total)
		return err_set(e, "line %llu: the sum of sample periods overflows", (unsigned long long)r->in->lineno);
	r->total += r->period;
	if (!r->period_decided)
		decide_period_column(r);
	{
		int64_t v[PROFILE_MAX_COLUMNS] = { 0 };

		v[0] = 1;
		if (r->period_col >= 0)
			v[r->period_col] = r->period;
		profile_add_sample(p, node, labelset, v);
	}
	r->samples++;
	r->frames_nr = 0;
	r->in_sample = false;
	return 0;
}

/* The kept event is metadata (meta.h); what was skipped is a warning for the command to print. */
static void add_notes(struct ps_reader *r)
{
	if (r->event.len)
		r->p->meta.event = profile_intern(r->p, r->event.buf, r->event.len);
	if (r->skipped)
		profile_add_warning(r->p, "kept only '%.*s' samples%s; skipped %llu samples of other events such as '%.*s'",
				    (int)r->event.len, r->event.buf, r->event_defaulted ? " (the first event)" : "",
				    (unsigned long long)r->skipped, (int)r->other_event.len, r->other_event.buf);
	if (r->unrecognized)
		profile_add_warning(r->p, "ignored %llu line%s with invalid format (the first is line %llu)",
				    (unsigned long long)r->unrecognized, r->unrecognized == 1 ? "" : "s",
				    (unsigned long long)r->first_unrecognized);
}

static int ps_read(struct profile *p, struct input *in, const struct format_read_opts *o, struct err *e)
{
	struct ps_reader r;
	struct err pe = ERR_INIT;
	const unsigned char *head;
	const char *line;
	size_t len, hn, hdr_len;
	int ret = 0, got;

	memset(&r, 0, sizeof(r));
	r.p = p;
	r.o = o;
	r.in = in;
	r.annotate_kernel = o->kernel || o->all;
	r.annotate_jit = o->jit || o->all;
	buf_init(&r.event, 0);
	buf_init(&r.pname, 64);
	buf_init(&r.comm, 0);
	buf_init(&r.name, 256);
	buf_init(&r.other_event, 0);
	if (o->event && *o->event) {
		buf_adds(&r.event, o->event);
		r.event_chosen = true;
	}

	/* perf.data or other binary data: text never holds NUL bytes. */
	hn = input_peek(in, 65536, &head, &pe);
	if (!hn && pe.msg[0]) {
		ret = err_set(e, "%s", pe.msg);
		goto out;
	}
	if (hn >= 8 && !memcmp(head, "PERFILE2", 8)) {
		ret = err_set(e, "this is a perf.data file, not perf script text (run 'perf script' on it first)");
		goto out;
	}
	if (memchr(head, '\0', hn)) {
		ret = err_set(e, "binary data, not perf script text");
		goto out;
	}
	profile_add_column(p, "samples", "count");

	while ((got = input_getline(in, &line, &len, e)) > 0) {
		struct ps_header h;
		struct ps_frame_line l;

		if (!len) {
			if (r.in_sample && end_sample(&r, e)) {
				ret = -1;
				goto out;
			}
			continue;
		}
		if (line[0] == '#')
			continue;
		if (ps_match_nog_header(line, len, &h, &hdr_len, &l)) {
			/* One sample per line: its header and its only frame. */
			const char *hs = line;

			while (is_ws((unsigned char)*hs))
				hs++;
			if (r.in_sample && end_sample(&r, e)) {
				ret = -1;
				goto out;
			}
			r.headers++;
			r.frame_lines++;
			on_header(&r, hs, hdr_len, &h);
			if (r.in_sample) {
				on_frame(&r, &l);
				if (end_sample(&r, e)) {
					ret = -1;
					goto out;
				}
			}
		} else if (ps_match_header(line, len, &h)) {
			r.headers++;
			on_header(&r, line, len, &h);
		} else if (ps_match_frame(line, len, &l)) {
			r.frame_lines++;
			if (r.in_sample)
				on_frame(&r, &l);
		} else {
			if (!r.unrecognized++)
				r.first_unrecognized = in->lineno;
		}
	}
	if (got < 0) {
		ret = -1;
		goto out;
	}
	if (!r.headers && (r.unrecognized || r.frame_lines)) {
		if (r.unrecognized)
			ret = err_set(e, "not perf script text: no sample header line, and line %llu is not a frame "
				      "line either", (unsigned long long)r.first_unrecognized);
		else
			ret = err_set(e, "no sample header lines, only frames (perf script -F must include comm "
				      "and tid)");
		goto out;
	}
	if (format_skipped_too_many(r.unrecognized, r.headers + r.frame_lines + r.unrecognized)) {
		ret = err_set(e, "not perf script text: %llu of %llu lines are neither sample headers nor frame lines "
			      "(the first is line %llu)", (unsigned long long)r.unrecognized,
			      (unsigned long long)(r.headers + r.frame_lines + r.unrecognized),
			      (unsigned long long)r.first_unrecognized);
		goto out;
	}
	add_notes(&r);
out:
	buf_release(&r.event);
	buf_release(&r.pname);
	buf_release(&r.comm);
	buf_release(&r.name);
	buf_release(&r.other_event);
	u64map_release(&r.cache);
	free(r.cache_entries);
	free(r.cache_frames);
	arena_release(&r.cache_keys);
	free(r.frames);
	free(r.prev);
	free(r.prev_nodes);
	return ret;
}

/*
 * Confidence that `head` is perf script text with call chains. Detection is positive: the first line is a
 * sample header, and some header is followed by an indented frame line "\taddr symbol (module)" (90), or, for
 * samples without call chains, every header ends with its event name and a colon (50). Other text whose lines
 * merely start with a word and a number ("heap profile: 1: 2 ...") does not qualify.
 */
static int ps_probe(const unsigned char *head, size_t len)
{
	const char *s = (const char *)head, *end = s + len;
	bool prev_header = false, chained = false, all_events = true;
	int lines = 0, headers = 0, nog = 0, bad = 0;

	if (len >= 8 && !memcmp(head, "PERFILE", 7))
		return 0;
	while (s < end && lines < 200) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t n = nl ? (size_t)(nl - s) : (size_t)(end - s), hl;
		struct ps_header h;
		struct ps_frame_line l;
		const char *ev, *per;
		size_t ev_len, per_len;

		if (!nl && s != (const char *)head)
			break; /* a partial last line of the probe window */
		if (n && s[n - 1] == '\r')
			n--;
		if (memchr(s, '\0', n))
			return 0;
		if (n && s[0] != '#') {
			lines++;
			if (ps_match_nog_header(s, n, &h, &hl, &l)) { /* without -g: the one frame on the header line */
				headers++;
				nog++;
				prev_header = false;
			} else if (ps_match_header(s, n, &h)) {
				headers++;
				if (!ps_match_event(s, n, &ev, &ev_len, &per, &per_len))
					all_events = false;
				prev_header = true;
			} else if (ps_match_frame(s, n, &l)) {
				if (!headers)
					return 0;
				chained |= prev_header;
				prev_header = false;
			} else {
				if (!headers)
					return 0;
				bad++;
				prev_header = false;
			}
		} else if (!n) {
			prev_header = false;
		}
		if (!nl)
			break;
		s = nl + 1;
	}
	if (!headers || format_skipped_too_many((uint64_t)bad, (uint64_t)lines))
		return 0;
	if (chained || nog == headers)
		return 90;
	return all_events ? 50 : 0;
}

const struct format format_perf_script = {
	.name = "perf-script",
	.description = "perf script text with call chains (perf record -g; perf script)",
	.extensions = NULL,
	.probe = ps_probe,
	.read = ps_read,
	.write = NULL,
};
