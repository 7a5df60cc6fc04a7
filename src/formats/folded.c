/*
 * Folded stacks ("a;b;c 42"), the format of stackcollapse-*.pl, py-spy --raw and inferno. Reading merges
 * frame by frame into the trie, reusing the previous line's prefix (sorted input shares long prefixes). Writing
 * prints one line per unique stack, sorted bytewise as stackcollapse-perf.pl's `sort keys` does.
 * A line with two counts ("stack 10 12", difffolded.pl output) fills two columns: before and after.
 */
#include <stdlib.h>
#include <string.h>

#include "../core/array.h"
#include "../core/buf.h"
#include "../core/err.h"
#include "../core/hash.h"
#include "../core/xalloc.h"
#include "../profile/frame_name.h"
#include "../profile/profile.h"
#include "format.h"

static const char *const folded_ext[] = { ".folded", ".collapsed", ".txt", NULL };

/* Parses a non-negative decimal count (fractions are rounded: the model keeps integers). */
static int parse_count(const char *s, size_t len, int64_t *out)
{
	int64_t v = 0;
	size_t i = 0;

	if (!len)
		return -1;
	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
		if (v > (INT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (i < len && s[i] == '.') {
		size_t j = i + 1;

		if (j < len && s[j] >= '5' && s[j] <= '9')
			v++;
		for (; j < len && s[j] >= '0' && s[j] <= '9'; j++)
			;
		i = j;
	}
	if (i != len || (i == 0))
		return -1;
	*out = v;
	return 0;
}

/* Splits "stack count" at the last run of blanks; returns the stack length or -1 when there is no count. */
static long split_count(const char *line, size_t len, const char **count, size_t *count_len)
{
	size_t end = len, sp;

	const char *blank, *tab;

	while (end > 0 && (line[end - 1] == ' ' || line[end - 1] == '\t'))
		end--;
	/* memrchr, not a byte loop: the second call (is there a "before" count?) scans the whole stack. */
	blank = memrchr(line, ' ', end);
	tab = memrchr(line, '\t', end);
	if (tab && (!blank || tab > blank))
		blank = tab;
	if (!blank)
		return -1;
	sp = (size_t)(blank - line) + 1;
	*count = line + sp;
	*count_len = end - sp;
	while (sp > 0 && (line[sp - 1] == ' ' || line[sp - 1] == '\t'))
		sp--;
	return (long)sp;
}

static enum frame_kind kind_of(const char *name, size_t len)
{
	if (len >= 4 && name[len - 4] == '_' && name[len - 3] == '[' && name[len - 1] == ']') {
		switch (name[len - 2]) {
		case 'k': return FRAME_KERNEL;
		case 'j': return FRAME_JIT;
		case 'i': return FRAME_INLINED;
		default: break;
		}
	}
	return FRAME_NATIVE;
}

/* A JSON document, which no folded file is: "[unknown];main 5" starts with '[' too, but not with '[{' or '["'. */
static bool looks_like_json(const char *s, const char *end)
{
	while (s < end && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'))
		s++;
	if (s == end)
		return false;
	if (*s == '{')
		return true;
	if (*s != '[')
		return false;
	for (s++; s < end && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'); s++)
		;
	return s == end || *s == '{' || *s == '[' || *s == '"' || *s == ']' || (*s >= '0' && *s <= '9') || *s == '-';
}

/* True when a line is "stack COUNT" (or "stack BEFORE AFTER") with a non-empty stack. */
static bool folded_line(const char *s, size_t l)
{
	const char *count;
	size_t cl;
	int64_t v;
	long sl = split_count(s, l, &count, &cl);

	return sl > 0 && !parse_count(count, cl, &v);
}

/*
 * Detection is positive: the lines seen (up to 50 whole ones) are "stack COUNT" lines, with at most one in ten
 * of anything else, the rule the reader applies to the whole file. Files of other formats whose lines often
 * end in a number (callgrind cost lines, legacy heap profiles' headers) fail it or are claimed first, surely,
 * by the formats that name them (unread.c).
 */
static int folded_probe(const unsigned char *head, size_t len)
{
	const char *s = (const char *)head, *end = s + len;
	uint64_t good = 0, bad = 0;

	if (looks_like_json(s, end))
		return 0;
	while (s < end && good + bad < 50) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t l = nl ? (size_t)(nl - s) : (size_t)(end - s);

		if (!nl && s != (const char *)head && end - s < 4096)
			break; /* a partial last line of the probe window */
		if (!nl && s == (const char *)head && l >= 4096) {
			/* One line longer than the window (a very deep stack or a huge name): its count is out of
			 * sight. Text is a weak guess that the reader confirms or rejects with a precise error. */
			if (*s == '{' || *s == '[' || *s == '<' || memchr(s, '\0', l))
				return 0;
			for (size_t k = 0; k < l; k++)
				if ((unsigned char)s[k] < 0x20 && s[k] != '\t' && s[k] != '\r')
					return 0;
			return 1;
		}
		if (l && s[l - 1] == '\r')
			l--;
		if (l) {
			if (memchr(s, '\0', l))
				return 0;
			if (folded_line(s, l))
				good++;
			else
				bad++;
		}
		if (!nl)
			break;
		s = nl + 1;
	}
	if (!good || format_skipped_too_many(bad, good + bad))
		return 0;
	return bad ? 40 : 60;
}

struct folded_state {
	struct buf prev;     /* the previous line's stack text */
	uint32_t *ends;      /* prev: end offset of frame k */
	uint32_t *nodes;     /* prev: trie node after frame k */
	size_t nr, alloc;
	uint32_t *frame_of;  /* string id -> frame id + 1 (0: not yet) */
	size_t frame_of_alloc;
};

/*
 * A folded frame is its name alone (the kind follows from the name), so the frame of a name interned before
 * is looked up by its string id instead of hashing and comparing a whole struct frame again: most frames of
 * a profile repeat names (kiln serve's ingest spends most of a folded body here).
 */
static uint32_t folded_frame(struct profile *p, struct folded_state *st, const char *name, size_t len)
{
	uint32_t sid = profile_intern(p, name, len);

	if (sid >= st->frame_of_alloc) {
		size_t old = st->frame_of_alloc;

		ALLOC_GROW(st->frame_of, (size_t)sid + 1, st->frame_of_alloc);
		memset(st->frame_of + old, 0, (st->frame_of_alloc - old) * sizeof(*st->frame_of));
	}
	if (!st->frame_of[sid])
		st->frame_of[sid] = profile_frame(p, &(struct frame){ .function = sid, .kind = kind_of(name, len) }) + 1;
	return st->frame_of[sid] - 1;
}

static int folded_read(struct profile *p, struct input *in, const struct format_read_opts *o, struct err *e)
{
	struct folded_state st = { BUF_INIT, NULL, NULL, 0, 0, NULL, 0 };
	int64_t vals[PROFILE_MAX_COLUMNS] = { 0 };
	uint64_t ignored = 0, used = 0, first_ignored = 0;
	int two = -1, col_a = -1, col_b = -1, ret = 0, r;
	const char *line;
	size_t len;

	while ((r = input_getline(in, &line, &len, e)) > 0) {
		const char *count, *count2 = NULL;
		size_t cl, cl2 = 0, shared = 0, k, pos;
		int64_t v, v2 = 0;
		long sl;
		uint32_t node = 0;

		if (!len)
			continue;
		sl = split_count(line, len, &count, &cl);
		if (sl <= 0 || parse_count(count, cl, &v)) {
			if (!ignored++)
				first_ignored = in->lineno;
			continue;
		}
		/* A second count before the last one makes this a differential ("before after") line. */
		{
			const char *c2;
			size_t c2l;
			long sl2 = split_count(line, (size_t)sl, &c2, &c2l);
			int64_t t;

			if (sl2 > 0 && !parse_count(c2, c2l, &t) && (two == 1 || (two == -1))) {
				count2 = c2, cl2 = c2l, v2 = t;
				if (two == -1)
					two = 1;
				sl = sl2;
			} else if (two == -1) {
				two = 0;
			}
		}
		if (col_a < 0) {
			if (two == 1) {
				col_b = profile_add_column(p, "before", "count");
				col_a = profile_add_column(p, "samples", "count");
				p->default_column = col_a;
			} else {
				col_a = profile_add_column(p, "samples", "count");
			}
		}
		(void)count2, (void)cl2;
		if (memchr(line, '\0', (size_t)sl)) {
			ret = err_set(e, "line %llu: NUL byte in the stack (binary input?)",
				      (unsigned long long)in->lineno);
			goto out;
		}

		/* Reuse frames of the previous line's common prefix. */
		{
			size_t lim = (size_t)sl < st.prev.len ? (size_t)sl : st.prev.len, L = 0;

			while (L < lim && line[L] == st.prev.buf[L])
				L++;
			for (k = 0; k < st.nr; k++) {
				size_t end = st.ends[k];

				if (end > L || !(end == (size_t)sl || line[end] == ';'))
					break;
				shared = k + 1;
				node = st.nodes[k];
			}
		}
		st.nr = shared;
		pos = shared ? st.ends[shared - 1] + 1 : 0;
		while (pos <= (size_t)sl) {
			const char *f = line + pos, *semi = memchr(f, ';', (size_t)sl - pos);
			size_t fl = semi ? (size_t)(semi - f) : (size_t)sl - pos;
			uint32_t fr;

			if (fl) {
				fr = folded_frame(p, &st, f, fl);
				node = profile_node(p, node, fr);
			}
			if (st.nr + 1 > st.alloc) {
				ALLOC_GROW(st.ends, st.nr + 1, st.alloc);
				st.nodes = xrealloc(st.nodes, st.alloc * sizeof(*st.nodes));
			}
			st.ends[st.nr] = (uint32_t)(pos + fl);
			st.nodes[st.nr] = node;
			st.nr++;
			pos += fl + 1;
			if (!semi)
				break;
		}
		buf_reset(&st.prev);
		buf_add(&st.prev, line, (size_t)sl);
		if (!node) {
			if (!ignored++)
				first_ignored = in->lineno;
			continue;
		}
		vals[col_a] = v;
		if (col_b >= 0)
			vals[col_b] = v2;
		profile_add_sample(p, node, 0, vals);
		used++;
	}
	if (r < 0)
		ret = -1;
	else if (!used)
		ret = err_set(e, "no stacks found (expected lines of 'frame;frame;... COUNT')");
	else if (format_skipped_too_many(ignored, ignored + used))
		ret = err_set(e, "not folded stacks: %llu of %llu lines are not 'frame;frame;... COUNT' (the first is "
			      "line %llu)", (unsigned long long)ignored, (unsigned long long)(ignored + used),
			      (unsigned long long)first_ignored);
	else if (ignored)
		profile_add_warning(p, "ignored %llu line%s with invalid format (the first is line %llu)",
				    (unsigned long long)ignored, ignored == 1 ? "" : "s",
				    (unsigned long long)first_ignored);
out:
	(void)o;
	buf_release(&st.prev);
	free(st.ends);
	free(st.nodes);
	free(st.frame_of);
	return ret;
}

struct line_ref {
	size_t off, len;
	int64_t value;
};

static const char *sort_base;

static int line_cmp(const void *a, const void *b)
{
	const struct line_ref *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(sort_base + x->off, sort_base + y->off, n);

	if (c)
		return c;
	return x->len < y->len ? -1 : x->len > y->len;
}

/* Appends a frame's name as folded output shows it; newlines would break the line format. */
static void add_frame_name(struct buf *b, const struct profile *p, uint32_t fid, const bool *full)
{
	size_t start = b->len;

	profile_frame_label(b, p, fid, full);
	for (size_t i = start; i < b->len; i++)
		if (b->buf[i] == '\n' || b->buf[i] == '\r')
			b->buf[i] = ' ';
}

static int folded_write(const struct profile *p, FILE *out, const struct format_write_opts *o, struct err *e)
{
	int col = o && o->column >= 0 ? o->column : profile_default_column(p);
	struct buf text = BUF_INIT, line = BUF_INIT;
	struct line_ref *refs = NULL;
	size_t nr = 0, alloc = 0;
	uint32_t *stack = NULL;
	size_t stack_alloc = 0;
	bool *full;

	if (col < 0)
		return 0;
	full = profile_placed_full_paths(p);
	for (size_t r = 0; r < p->rows_nr; r++) {
		int64_t v = profile_row_values(p, r)[col];
		uint32_t node = p->rows[r].node;
		size_t depth = p->nodes[node].depth, n;

		if (!v || !node)
			continue;
		ALLOC_GROW(stack, depth, stack_alloc);
		n = profile_stack(p, node, stack, depth);
		ALLOC_GROW(refs, nr + 1, alloc);
		refs[nr].off = text.len;
		for (size_t i = 0; i < n; i++) {
			if (i)
				buf_addch(&text, ';');
			add_frame_name(&text, p, stack[i], full);
		}
		refs[nr].len = text.len - refs[nr].off;
		refs[nr].value = v;
		nr++;
	}
	sort_base = text.buf;
	if (nr)
		qsort(refs, nr, sizeof(*refs), line_cmp);
	for (size_t i = 0; i < nr;) {
		int64_t sum = refs[i].value;
		size_t j = i + 1;

		/* Rows that differ only in labels print as one line. */
		while (j < nr && !line_cmp(&refs[i], &refs[j]))
			sum += refs[j++].value;
		fwrite(text.buf + refs[i].off, 1, refs[i].len, out);
		fprintf(out, " %lld\n", (long long)sum);
		i = j;
	}
	free(refs);
	free(stack);
	free(full);
	buf_release(&text);
	buf_release(&line);
	if (ferror(out))
		return err_set(e, "write error");
	return 0;
}

const struct format format_folded = {
	.name = "folded",
	.description = "folded stacks, one 'frame;frame;... count' line per stack",
	.extensions = folded_ext,
	.probe = folded_probe,
	.read = folded_read,
	.write = folded_write,
};
