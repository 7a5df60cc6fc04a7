/* Per-function shares across several runs, with mean and spread. */
#include "runs.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/array.h"
#include "../core/buf.h"
#include "../core/err.h"
#include "../core/json.h"
#include "../core/xalloc.h"
#include "../profile/profile.h"
#include "hotspots.h"
#include "report.h"

static void stat_of(const double *x, size_t n, struct run_stat *s)
{
	double sum = 0, ss = 0;

	s->min = s->max = n ? x[0] : 0;
	for (size_t i = 0; i < n; i++) {
		sum += x[i];
		if (x[i] < s->min)
			s->min = x[i];
		if (x[i] > s->max)
			s->max = x[i];
	}
	s->mean = n ? sum / (double)n : 0;
	for (size_t i = 0; i < n; i++)
		ss += (x[i] - s->mean) * (x[i] - s->mean);
	s->sd = n > 1 ? sqrt(ss / (double)(n - 1)) : 0;
}

static int by_mean(const void *x, const void *y)
{
	const struct run_fn *a = x, *b = y;

	if (a->self.mean != b->self.mean)
		return a->self.mean > b->self.mean ? -1 : 1;
	if (a->total.mean != b->total.mean)
		return a->total.mean > b->total.mean ? -1 : 1;
	return a->name < b->name ? -1 : a->name > b->name;
}

int runs_compute(struct profile *const *ps, size_t n, const char *value, struct runs *out, struct err *e)
{
	struct u64map idx = U64MAP_INIT;

	memset(out, 0, sizeof(*out));
	out->nruns = n;
	out->run_totals = xcalloc(n ? n : 1, sizeof(*out->run_totals));
	strtab_intern(&out->names, "", 0);
	for (size_t r = 0; r < n; r++) {
		struct hotspots h;
		int col = value ? profile_find_column(ps[r], value) : profile_default_column(ps[r]);

		if (col < 0 || hotspots_compute(ps[r], col, &h)) {
			u64map_release(&idx);
			runs_release(out);
			return err_set(e, "run %zu has no '%s' values", r + 1, value ? value : "default");
		}
		out->run_totals[r] = (double)h.grand_total;
		for (size_t i = 0; i < h.nr; i++) {
			const char *name = profile_str(ps[r], h.v[i].name);
			uint32_t id = strtab_intern(&out->names, name, profile_strlen(ps[r], h.v[i].name));
			int ins;
			uint64_t *slot = u64map_insert(&idx, id, &ins);
			struct run_fn *f;

			if (ins) {
				ALLOC_GROW(out->v, out->nr + 1, out->alloc);
				f = &out->v[out->nr];
				memset(f, 0, sizeof(*f));
				f->name = id;
				f->self_pct = xcalloc(n, sizeof(double));
				f->total_pct = xcalloc(n, sizeof(double));
				*slot = out->nr++;
			}
			f = &out->v[*slot];
			/* Same name in two modules: their shares add up, as one function would. */
			f->self_pct[r] += h.v[i].self_pct;
			f->total_pct[r] += h.v[i].total_pct;
		}
		hotspots_release(&h);
	}
	for (size_t i = 0; i < out->nr; i++) {
		stat_of(out->v[i].self_pct, n, &out->v[i].self);
		stat_of(out->v[i].total_pct, n, &out->v[i].total);
	}
	if (out->nr > 1)
		qsort(out->v, out->nr, sizeof(*out->v), by_mean);
	u64map_release(&idx);
	return 0;
}

void runs_release(struct runs *r)
{
	for (size_t i = 0; i < r->nr; i++) {
		free(r->v[i].self_pct);
		free(r->v[i].total_pct);
	}
	free(r->v);
	free(r->run_totals);
	strtab_release(&r->names);
	memset(r, 0, sizeof(*r));
}

static bool shown(const struct run_fn *f, double threshold)
{
	return f->self.max >= threshold && f->self.max > 0;
}

#define RUNS_TEXT_MAX_COLUMNS 8

void runs_format_text(const struct runs *r, struct buf *out, const char *const *files, double threshold, size_t top,
		      bool markdown)
{
	size_t rows = 0;
	bool per_run = r->nruns <= RUNS_TEXT_MAX_COLUMNS;

	if (markdown) {
		buf_addf(out, "\n### Across %zu runs (self share per run, functions >= %g%% in some run)\n\n", r->nruns,
			 threshold);
		buf_adds(out, "| Mean % | Std dev | Min % | Max % |");
		for (size_t k = 0; per_run && k < r->nruns; k++)
			buf_addf(out, " Run %zu |", k + 1);
		buf_adds(out, " Function |\n|---:|---:|---:|---:|");
		for (size_t k = 0; per_run && k < r->nruns; k++)
			buf_adds(out, "---:|");
		buf_adds(out, "---|\n");
	} else {
		buf_addf(out, "\nAcross %zu runs (self share per run; functions >= %g%% in some run):\n", r->nruns,
			 threshold);
		buf_addf(out, "  %7s %7s %7s %7s", "MEAN%", "STDDEV", "MIN%", "MAX%");
		for (size_t k = 0; per_run && k < r->nruns; k++) {
			char h[32];

			snprintf(h, sizeof(h), "RUN%zu", k + 1);
			buf_addf(out, " %7s", h);
		}
		buf_adds(out, "  FUNCTION\n");
	}
	for (size_t i = 0; i < r->nr && rows < top; i++) {
		const struct run_fn *f = &r->v[i];

		if (!shown(f, threshold))
			continue;
		rows++;
		if (markdown) {
			buf_addf(out, "| %.2f | %.2f | %.2f | %.2f |", f->self.mean, f->self.sd, f->self.min, f->self.max);
			for (size_t k = 0; per_run && k < r->nruns; k++)
				buf_addf(out, " %.2f |", f->self_pct[k]);
			buf_adds(out, " `");
			for (const char *s = strtab_str(&r->names, f->name); *s; s++)
				buf_adds(out, *s == '|' ? "\\|" : *s == '`' ? "'" : (char[2]){ *s, 0 });
			buf_adds(out, "` |\n");
		} else {
			buf_addf(out, "  %7.2f %7.2f %7.2f %7.2f", f->self.mean, f->self.sd, f->self.min, f->self.max);
			for (size_t k = 0; per_run && k < r->nruns; k++)
				buf_addf(out, " %7.2f", f->self_pct[k]);
			buf_addf(out, "  %s\n", strtab_str(&r->names, f->name));
		}
	}
	if (!rows)
		buf_addf(out, markdown ? "\nNo function reaches %g%% in any run.\n" : "  none reaches %g%% in any run\n",
			 threshold);
	if (files && per_run) {
		buf_adds(out, markdown ? "\n" : "  ");
		for (size_t k = 0; k < r->nruns; k++)
			buf_addf(out, "%s%s%zu = %s", k ? ", " : "", markdown ? "Run " : "RUN", k + 1, files[k]);
		buf_addch(out, '\n');
	}
}

static void json_stat(struct jw *j, const char *key, const struct run_stat *s, const double *per, size_t n)
{
	jw_key(j, key);
	jw_object_begin(j);
	jw_kv_double(j, "mean", report_round_pct(s->mean));
	jw_kv_double(j, "stddev", report_round_pct(s->sd));
	jw_kv_double(j, "min", report_round_pct(s->min));
	jw_kv_double(j, "max", report_round_pct(s->max));
	jw_key(j, "runs");
	jw_array_begin(j);
	for (size_t k = 0; k < n; k++)
		jw_double(j, report_round_pct(per[k]));
	jw_array_end(j);
	jw_object_end(j);
}

void runs_format_json(const struct runs *r, struct jw *j, const char *const *files, double threshold, size_t top)
{
	size_t rows = 0;

	jw_key(j, "runs");
	jw_object_begin(j);
	jw_kv_u64(j, "count", r->nruns);
	jw_key(j, "files");
	jw_array_begin(j);
	for (size_t k = 0; k < r->nruns; k++)
		jw_string(j, files[k]);
	jw_array_end(j);
	jw_key(j, "totals");
	jw_array_begin(j);
	for (size_t k = 0; k < r->nruns; k++)
		jw_double(j, r->run_totals[k]);
	jw_array_end(j);
	jw_key(j, "functions");
	jw_array_begin(j);
	for (size_t i = 0; i < r->nr && rows < top; i++) {
		const struct run_fn *f = &r->v[i];

		if (!shown(f, threshold))
			continue;
		rows++;
		jw_object_begin(j);
		jw_kv_str(j, "function", strtab_str(&r->names, f->name));
		json_stat(j, "self_pct", &f->self, f->self_pct, r->nruns);
		json_stat(j, "total_pct", &f->total, f->total_pct, r->nruns);
		jw_object_end(j);
	}
	jw_array_end(j);
	jw_object_end(j);
}
