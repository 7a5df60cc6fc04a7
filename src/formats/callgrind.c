/*
 * callgrind: the callgrind profile format (valgrind --tool=callgrind, also written by pprof -callgrind and other
 * tools) and cachegrind's output, which is the same syntax without calls. Read only.
 *
 * Every event of the "events:" line becomes a value column (an event "cpu(ms)" is type cpu, unit
 * milliseconds); the first is the default, so `kiln analyze` ranks by it unless --column names another.
 * A cost line is "POSITION... COST...": one position per word of "positions:" (default "line"), each absolute,
 * relative (+N, -N) or repeated (*); missing costs are 0. Names may be compressed ("fn=(3) name" defines id 3,
 * "fn=(3)" reuses it; files are shared by fl/fi/fe/cfi/cfl/jfi, functions by fn/cfn/jfn, objects by ob/cob).
 * A function is its name in the file it was defined in (fl=, as callgrind_annotate keys it); code of other
 * files inlined into it (fi=/fe=) stays its self cost. Cost lines after "calls=" are the inclusive cost of that
 * call, not self cost.
 *
 * The call tree is an approximation, because callgrind records no stacks: only the caller -> callee edges with
 * the inclusive cost of the calls. As callgrind_annotate --tree and gprof2dot do, each function's self cost is
 * spread over its callers in proportion to the inclusive cost each call edge brought, recursively from the
 * functions nobody calls. Recursion (a function calling itself) adds no level; other cycles are cut where
 * they repeat. Self costs are apportioned exactly, so every function's self cost per event, and every event's
 * total, equal what callgrind_annotate / cg_annotate print.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/array.h"
#include "../core/err.h"
#include "../core/hash.h"
#include "../profile/profile.h"
#include "format.h"
#include "legacy_common.h"

#define CG_MAX_TREE_NODES 200000 /* expansion budget; the rest of a function's cost goes to its biggest node */
#define CG_MAX_DEPTH 128

struct cg_fn {
	uint32_t file, name, module; /* string ids */
	uint32_t first_edge, nedges; /* in the sorted edge array */
};

struct cg_edge {
	uint32_t caller, callee;
};

struct cg_share {
	uint32_t node, fn;
	double w[PROFILE_MAX_COLUMNS];
};

struct cg {
	struct profile *p;
	size_t ncol;
	size_t npos;
	struct u64map names;   /* (context << 32 | id) -> string id */
	struct u64map fn_index; /* (file << 32 | name) -> fn */
	struct cg_fn *fns;
	size_t fns_nr, fns_alloc;
	int64_t *self, *incoming; /* fns_nr * ncol */
	size_t cost_alloc;
	struct u64map edge_index; /* (caller << 32 | callee) -> edge */
	struct cg_edge *edges;
	size_t edges_nr, edges_alloc;
	int64_t *ecost; /* edges_nr * ncol */
	size_t ecost_alloc;
	/* Tree expansion. */
	struct cg_share *shares;
	size_t shares_nr, shares_alloc;
	bool *on_stack;
	uint32_t *edge_order;
};

static bool cg_header_key(const char *s, size_t n)
{
	static const char *const keys[] = { "version:", "creator:", "pid:", "cmd:", "part:", "desc:", "positions:",
					    "event:", "thread:", "events:", "summary:", "totals:", NULL };

	for (size_t i = 0; keys[i]; i++)
		if (lstarts(s, n, keys[i]))
			return true;
	return false;
}

static bool cg_body_key(const char *s, size_t n)
{
	static const char *const keys[] = { "fl=", "fn=", "ob=", "fi=", "fe=", NULL };

	for (size_t i = 0; keys[i]; i++)
		if (lstarts(s, n, keys[i]))
			return true;
	return false;
}

static int cg_probe(const unsigned char *head, size_t len)
{
	struct lcursor cur;
	const char *line;
	size_t n;
	bool events = false;

	if (memchr(head, '\0', len))
		return 0;
	lcursor_init(&cur, head, len);
	while (lcursor_next(&cur, &line, &n)) {
		if (cur.lineno == 1 && lstarts(line, n, "# callgrind format"))
			return 95;
		if (lblank_or_comment(line, n))
			continue;
		if (cg_header_key(line, n)) {
			events = events || lstarts(line, n, "events:");
			continue;
		}
		return events && cg_body_key(line, n) ? 95 : 0;
	}
	return 0;
}

/* "(id) name" / "(id)" / "name" in a name context (0 files, 1 functions, 2 objects). */
static int cg_name(struct cg *r, int ctx, const char *s, size_t n, uint32_t *out, struct err *e, uint64_t ln)
{
	const char *q = s + 1;
	int64_t id;

	ltrim(&s, &n);
	q = s + 1;
	/* "(digits)" starts a compressed name; "(below main)" is a plain one, as for callgrind_annotate. */
	if (n && s[0] == '(' && lparse_dec(&q, s + n, false, &id) && q < s + n && *q == ')' && id <= UINT32_MAX) {
		uint64_t *slot;
		int inserted;

		q++;
		size_t rest = (size_t)(s + n - q);
		ltrim(&q, &rest);
		if (!rest) {
			slot = u64map_find(&r->names, (uint64_t)ctx << 32 | (uint64_t)id);
			if (!slot)
				return err_set(e, "line %llu: name id (%lld) used before it is defined",
					       (unsigned long long)ln, (long long)id);
			*out = (uint32_t)*slot;
			return 0;
		}
		*out = profile_intern(r->p, q, rest);
		slot = u64map_insert(&r->names, (uint64_t)ctx << 32 | (uint64_t)id, &inserted);
		*slot = *out;
		return 0;
	}
	*out = profile_intern(r->p, s, n);
	return 0;
}

static uint32_t cg_fn_get(struct cg *r, uint32_t file, uint32_t name, uint32_t module)
{
	int inserted;
	uint64_t *slot = u64map_insert(&r->fn_index, (uint64_t)file << 32 | name, &inserted);

	if (!inserted)
		return (uint32_t)*slot;
	*slot = r->fns_nr;
	ALLOC_GROW(r->fns, r->fns_nr + 1, r->fns_alloc);
	r->fns[r->fns_nr] = (struct cg_fn){ file, name, module, 0, 0 };
	if ((r->fns_nr + 1) * r->ncol > r->cost_alloc) {
		size_t old = r->cost_alloc;

		r->cost_alloc = alloc_nr(r->fns_nr + 1) * r->ncol;
		r->self = realloc(r->self, r->cost_alloc * sizeof(*r->self));
		r->incoming = realloc(r->incoming, r->cost_alloc * sizeof(*r->incoming));
		if (!r->self || !r->incoming)
			abort();
		memset(r->self + old, 0, (r->cost_alloc - old) * sizeof(*r->self));
		memset(r->incoming + old, 0, (r->cost_alloc - old) * sizeof(*r->incoming));
	}
	return (uint32_t)r->fns_nr++;
}

static int64_t *cg_edge_cost(struct cg *r, uint32_t caller, uint32_t callee)
{
	int inserted;
	uint64_t *slot = u64map_insert(&r->edge_index, (uint64_t)caller << 32 | callee, &inserted);

	if (inserted) {
		*slot = r->edges_nr;
		ALLOC_GROW(r->edges, r->edges_nr + 1, r->edges_alloc);
		r->edges[r->edges_nr++] = (struct cg_edge){ caller, callee };
		ALLOC_GROW(r->ecost, r->edges_nr * r->ncol, r->ecost_alloc);
		memset(r->ecost + (r->edges_nr - 1) * r->ncol, 0, r->ncol * sizeof(*r->ecost));
	}
	return r->ecost + *slot * r->ncol;
}

/* "cpu(ms)" -> type cpu, unit milliseconds; "Ir" -> Ir, count. */
static void cg_add_column(struct profile *p, const char *s, size_t n)
{
	static const char *const units[][2] = { { "ms", "milliseconds" }, { "us", "microseconds" },
						{ "ns", "nanoseconds" }, { "s", "seconds" }, { NULL, NULL } };
	char type[128], unit[64];
	const char *lp = n && s[n - 1] == ')' ? memchr(s, '(', n) : NULL;

	if (lp && lp > s) {
		size_t ul = (size_t)(s + n - 1 - (lp + 1));

		snprintf(type, sizeof(type), "%.*s", (int)(lp - s), s);
		snprintf(unit, sizeof(unit), "%.*s", (int)ul, lp + 1);
		for (size_t i = 0; units[i][0]; i++)
			if (!strcmp(unit, units[i][0]))
				snprintf(unit, sizeof(unit), "%s", units[i][1]);
	} else {
		snprintf(type, sizeof(type), "%.*s", (int)n, s);
		snprintf(unit, sizeof(unit), "count");
	}
	profile_add_column(p, type, unit);
}

/* Skips the positions of a cost line and adds its costs into `out` (ncol values). */
static int cg_costs(struct cg *r, const char *s, size_t n, int64_t *out, struct err *e, uint64_t ln)
{
	const char *p = s, *end = s + n;
	size_t i = 0;

	for (size_t k = 0; k < r->npos; k++) {
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p == end)
			return k ? 0 : err_set(e, "line %llu: empty cost line", (unsigned long long)ln);
		while (p < end && *p != ' ' && *p != '\t')
			p++;
	}
	for (;;) {
		int64_t v;

		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p == end)
			break;
		if (i == r->ncol)
			return err_set(e, "line %llu: more costs than events", (unsigned long long)ln);
		/* A signed cost is added as callgrind_annotate adds it; a lone "*" counts 0 as it does too. */
		if (*p == '*' && (p + 1 == end || p[1] == ' ' || p[1] == '\t')) {
			v = 0;
			p++;
		} else {
			if (*p == '+')
				p++;
			if (!lparse_dec(&p, end, true, &v) || (p < end && *p != ' ' && *p != '\t'))
				return err_set(e, "line %llu: bad cost in '%.*s'", (unsigned long long)ln,
					       (int)(n > 60 ? 60 : n), s);
		}
		if (__builtin_add_overflow(out[i], v, &out[i]))
			return err_set(e, "line %llu: cost overflows", (unsigned long long)ln);
		i++;
	}
	return 0;
}

static int cg_parse(struct cg *r, const char *data, size_t len, struct err *e)
{
	struct lcursor cur;
	const char *line;
	size_t n;
	bool in_header = true;
	uint32_t ob = 0, fl = 0, file = 0, cob = 0, cfile = 0, cur_fn = UINT32_MAX, callee = UINT32_MAX;
	bool cob_set = false, cfile_set = false, pending_call = false;

	r->npos = 1;
	lcursor_init(&cur, data, len);
	while (lcursor_next(&cur, &line, &n)) {
		uint64_t ln = cur.lineno;
		uint32_t id;

		if (lblank_or_comment(line, n))
			continue;
		if (in_header) {
			if (lstarts(line, n, "positions:")) {
				const char *p = line + 10;
				size_t k = n - 10, words = 0;

				ltrim(&p, &k);
				for (size_t i = 0; i < k; i++)
					if (p[i] != ' ' && p[i] != '\t' && (i == 0 || p[i - 1] == ' ' || p[i - 1] == '\t'))
						words++;
				r->npos = words ? words : 1;
			} else if (lstarts(line, n, "events:")) {
				const char *p = line + 7, *end = line + n;

				while (p < end) {
					while (p < end && (*p == ' ' || *p == '\t'))
						p++;
					const char *w = p;
					while (p < end && *p != ' ' && *p != '\t')
						p++;
					if (p == w)
						break;
					if (r->ncol == PROFILE_MAX_COLUMNS)
						return err_set(e, "line %llu: more than %d events", (unsigned long long)ln,
							       PROFILE_MAX_COLUMNS);
					cg_add_column(r->p, w, (size_t)(p - w));
					r->ncol++;
				}
				if (!r->ncol)
					return err_set(e, "line %llu: no event names", (unsigned long long)ln);
				in_header = false;
			} else if (!cg_header_key(line, n)) {
				return err_set(e, "line %llu: unknown header line before 'events:'", (unsigned long long)ln);
			}
			continue;
		}
		if ((line[0] >= '0' && line[0] <= '9') || line[0] == '+' || line[0] == '-' || line[0] == '*') {
			int64_t *out;

			if (pending_call) {
				out = cg_edge_cost(r, cur_fn, callee);
				pending_call = false;
			} else {
				if (cur_fn == UINT32_MAX)
					return err_set(e, "line %llu: a cost line before any 'fn='", (unsigned long long)ln);
				out = r->self + (size_t)cur_fn * r->ncol;
			}
			if (cg_costs(r, line, n, out, e, ln))
				return -1;
			continue;
		}
		if (pending_call)
			return err_set(e, "line %llu: 'calls=' is not followed by a cost line", (unsigned long long)ln);
		const char *eq = memchr(line, '=', n), *v = eq ? eq + 1 : NULL;
		size_t kl = eq ? (size_t)(eq - line) : 0, vl = eq ? (size_t)(line + n - v) : 0;
#define KEY(k) (kl == strlen(k) && !memcmp(line, k, kl))
		if (KEY("ob")) {
			if (cg_name(r, 2, v, vl, &ob, e, ln))
				return -1;
		} else if (KEY("fl")) {
			if (cg_name(r, 0, v, vl, &fl, e, ln))
				return -1;
			file = fl;
		} else if (KEY("fi") || KEY("fe")) {
			if (cg_name(r, 0, v, vl, &file, e, ln))
				return -1;
		} else if (KEY("fn")) {
			if (cg_name(r, 1, v, vl, &id, e, ln))
				return -1;
			cur_fn = cg_fn_get(r, file, id, ob);
			r->fns[cur_fn].module = ob; /* the definition knows its object */
		} else if (KEY("cob")) {
			if (cg_name(r, 2, v, vl, &cob, e, ln))
				return -1;
			cob_set = true;
		} else if (KEY("cfi") || KEY("cfl")) {
			if (cg_name(r, 0, v, vl, &cfile, e, ln))
				return -1;
			cfile_set = true;
		} else if (KEY("cfn")) {
			if (cg_name(r, 1, v, vl, &id, e, ln))
				return -1;
			callee = cg_fn_get(r, cfile_set ? cfile : file, id, cob_set ? cob : ob);
			cfile_set = cob_set = false;
		} else if (KEY("calls")) {
			if (cur_fn == UINT32_MAX || callee == UINT32_MAX)
				return err_set(e, "line %llu: 'calls=' without 'fn=' and 'cfn='", (unsigned long long)ln);
			pending_call = true;
		} else if (KEY("jfi")) {
			if (cg_name(r, 0, v, vl, &id, e, ln))
				return -1;
		} else if (KEY("jfn")) {
			if (cg_name(r, 1, v, vl, &id, e, ln))
				return -1;
		} else if (KEY("jump") || KEY("jcnd")) {
			/* jumps carry no cost */
		} else if (!cg_header_key(line, n)) {
			/* summary:/totals: and repeated header lines are informational; anything else is not callgrind */
			return err_set(e, "line %llu: not a callgrind line: '%.*s'", (unsigned long long)ln,
				       (int)(n > 60 ? 60 : n), line);
		}
#undef KEY
	}
	if (in_header)
		return err_set(e, "no 'events:' line");
	if (pending_call)
		return err_set(e, "the file ends after 'calls='");
	return 0;
}

static void cg_expand(struct cg *r, uint32_t f, uint32_t parent, const double *w, unsigned depth)
{
	struct frame fr = { 0 };
	struct cg_share *s;
	uint32_t node;

	fr.function = r->fns[f].name;
	fr.file = r->fns[f].file;
	fr.module = r->fns[f].module;
	fr.kind = FRAME_NATIVE;
	node = profile_node(r->p, parent, profile_frame(r->p, &fr));
	ALLOC_GROW(r->shares, r->shares_nr + 1, r->shares_alloc);
	s = &r->shares[r->shares_nr++];
	s->node = node;
	s->fn = f;
	memcpy(s->w, w, r->ncol * sizeof(*w));
	if (depth >= CG_MAX_DEPTH)
		return;
	r->on_stack[f] = true;
	for (uint32_t k = 0; k < r->fns[f].nedges; k++) {
		const struct cg_edge *ed = &r->edges[r->edge_order[r->fns[f].first_edge + k]];
		const int64_t *ec = r->ecost + (size_t)r->edge_order[r->fns[f].first_edge + k] * r->ncol;
		double cw[PROFILE_MAX_COLUMNS];
		bool any = false;

		if (r->on_stack[ed->callee] || r->shares_nr >= CG_MAX_TREE_NODES)
			continue;
		for (size_t c = 0; c < r->ncol; c++) {
			int64_t in = r->incoming[(size_t)ed->callee * r->ncol + c];
			double x = in ? (double)ec[c] / (double)in : 0;

			cw[c] = w[c] * (x < 0 ? 0 : x > 1 ? 1 : x);
			/* A path that carries less than one unit of the callee's cost is not worth a node. */
			any = any || cw[c] * fabs((double)in) >= 0.5;
		}
		if (any)
			cg_expand(r, ed->callee, node, cw, depth + 1);
	}
	r->on_stack[f] = false;
}

static int cmp_edge_caller(const void *a, const void *b, void *arg)
{
	const struct cg_edge *edges = arg;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	if (edges[x].caller != edges[y].caller)
		return edges[x].caller < edges[y].caller ? -1 : 1;
	return x < y ? -1 : x > y;
}

static int cmp_share_fn(const void *a, const void *b)
{
	const struct cg_share *x = a, *y = b;

	return x->fn != y->fn ? (x->fn < y->fn ? -1 : 1) : (x->node < y->node ? -1 : x->node > y->node);
}

/* Builds the call tree and adds every function's self cost, apportioned exactly over its nodes. */
static void cg_build(struct cg *r)
{
	size_t nc = r->ncol;
	double ones[PROFILE_MAX_COLUMNS];

	for (size_t i = 0; i < r->edges_nr; i++) {
		const struct cg_edge *ed = &r->edges[i];

		if (ed->caller == ed->callee)
			continue; /* recursion: the outer call already holds it */
		for (size_t c = 0; c < nc; c++)
			r->incoming[(size_t)ed->callee * nc + c] += r->ecost[i * nc + c];
	}
	r->edge_order = malloc((r->edges_nr ? r->edges_nr : 1) * sizeof(*r->edge_order));
	r->on_stack = calloc(r->fns_nr ? r->fns_nr : 1, sizeof(*r->on_stack));
	if (!r->edge_order || !r->on_stack)
		abort();
	for (size_t i = 0; i < r->edges_nr; i++)
		r->edge_order[i] = (uint32_t)i;
	if (r->edges_nr)
		qsort_r(r->edge_order, r->edges_nr, sizeof(*r->edge_order), cmp_edge_caller, r->edges);
	for (size_t i = 0; i < r->edges_nr; i++) {
		struct cg_fn *f = &r->fns[r->edges[r->edge_order[i]].caller];

		if (!f->nedges)
			f->first_edge = (uint32_t)i;
		f->nedges++;
	}
	for (size_t c = 0; c < nc; c++)
		ones[c] = 1;
	/* Roots: functions that no other function calls. */
	bool *called = calloc(r->fns_nr ? r->fns_nr : 1, sizeof(*called));
	if (!called)
		abort();
	for (size_t k = 0; k < r->edges_nr; k++)
		if (r->edges[k].caller != r->edges[k].callee)
			called[r->edges[k].callee] = true;
	for (uint32_t f = 0; f < r->fns_nr; f++)
		if (!called[f])
			cg_expand(r, f, 0, ones, 0);
	free(called);
	if (r->shares_nr)
		qsort(r->shares, r->shares_nr, sizeof(*r->shares), cmp_share_fn);
	/* Per function and event: floor of each node's share, the remainder to the node with the biggest share. */
	size_t i = 0;
	int64_t *vals = calloc((r->shares_nr + 1) * nc, sizeof(*vals));
	if (!vals)
		abort();
	for (uint32_t f = 0; f < r->fns_nr; f++) {
		size_t j = i;

		while (j < r->shares_nr && r->shares[j].fn == f)
			j++;
		for (size_t c = 0; c < nc; c++) {
			int64_t self = r->self[(size_t)f * nc + c], given = 0;
			size_t best = i;

			if (!self)
				continue;
			if (j == i) {
				/* Reached from no root (a cycle, or cut by the budget): a root of its own. */
				struct frame fr = { 0 };
				int64_t v[PROFILE_MAX_COLUMNS] = { 0 };

				fr.function = r->fns[f].name;
				fr.file = r->fns[f].file;
				fr.module = r->fns[f].module;
				v[c] = self;
				profile_add_sample(r->p, profile_node(r->p, 0, profile_frame(r->p, &fr)), 0, v);
				continue;
			}
			for (size_t k = i; k < j; k++) {
				double share = (double)self * r->shares[k].w[c];
				int64_t v = (int64_t)share;

				vals[k * nc + c] = v;
				given += v;
				if (r->shares[k].w[c] > r->shares[best].w[c])
					best = k;
			}
			vals[best * nc + c] += self - given;
		}
		for (size_t k = i; k < j; k++) {
			bool any = false;

			for (size_t c = 0; c < nc; c++)
				any = any || vals[k * nc + c];
			if (any)
				profile_add_sample(r->p, r->shares[k].node, 0, vals + k * nc);
		}
		i = j;
	}
	free(vals);
}

static int cg_read(struct profile *p, struct input *in, const struct format_read_opts *o, struct err *e)
{
	const unsigned char *data;
	size_t len;
	struct cg r;
	int ret = -1;

	if (input_read_all(in, &data, &len, e))
		return -1;
	if (memchr(data, '\0', len))
		return err_set(e, "binary data, not callgrind text");
	memset(&r, 0, sizeof(r));
	r.p = p;
	if (cg_parse(&r, (const char *)data, len, e))
		goto out;
	/* Signed costs are read as callgrind_annotate reads them, but a negative total is no profile. */
	for (size_t c = 0; c < r.ncol; c++) {
		int64_t t = 0;

		for (size_t f = 0; f < r.fns_nr; f++)
			if (__builtin_add_overflow(t, r.self[f * r.ncol + c], &t)) {
				err_set(e, "the costs of event '%s' overflow", profile_str(p, p->columns[c].type));
				goto out;
			}
		if (t < 0) {
			err_set(e, "event '%s' totals a negative cost", profile_str(p, p->columns[c].type));
			goto out;
		}
	}
	p->default_column = 0;
	cg_build(&r);
	if (!p->rows_nr) {
		err_set(e, "the profile has no costs");
		goto out;
	}
	ret = 0;
out:
	u64map_release(&r.names);
	u64map_release(&r.fn_index);
	u64map_release(&r.edge_index);
	free(r.fns);
	free(r.self);
	free(r.incoming);
	free(r.edges);
	free(r.ecost);
	free(r.shares);
	free(r.on_stack);
	free(r.edge_order);
	return ret;
}

const struct format format_callgrind = {
	.name = "callgrind",
	.description = "callgrind and cachegrind output (valgrind --tool=callgrind / --tool=cachegrind)",
	.extensions = NULL,
	.probe = cg_probe,
	.read = cg_read,
	.write = NULL,
};
