/* `kiln bench` summaries, warnings and exports in hyperfine's JSON, Markdown and CSV formats. */
#include "bench/runner.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/stats.h"
#include "core/json.h"
#include "core/xalloc.h"

/* hyperfine's threshold on modified z-scores: high on purpose, benchmark times have heavy tails. */
#define OUTLIER_Z 14.0
#define HIGH_CV 0.10
#define FAST_CMD 0.005
#define FEW_RUNS 5

static double mean_of(const double *v, size_t n)
{
	double s = 0;
	size_t i;

	for (i = 0; i < n; i++)
		s += v[i];
	return n ? s / n : NAN;
}

void bench_summarize(const struct bench_cmd *c, double confidence, struct bench_summary *s)
{
	struct stats_summary w;
	double hw;
	size_t i;

	stats_summarize(c->wall, c->n, &w);
	s->n = w.n;
	s->mean = w.mean;
	s->stddev = w.stddev;
	s->median = w.median;
	s->min = w.min;
	s->max = w.max;
	s->user_mean = mean_of(c->user, c->n);
	s->sys_mean = mean_of(c->sys, c->n);
	s->rss_max = c->n ? 0 : NAN;
	for (i = 0; i < c->n; i++)
		if (c->rss[i] > s->rss_max)
			s->rss_max = c->rss[i];
	s->confidence = confidence;
	hw = stats_mean_ci_halfwidth(w.stddev, w.n, confidence);
	/*
	 * Times are positive, so is their mean: a t-interval of a few skewed runs (one slow start among fast ones)
	 * can reach below zero, which says only that the interval is wide; it is cut at zero, as no mean can be less.
	 */
	s->ci_lo = fmax(w.mean - hw, 0);
	s->ci_hi = w.mean + hw;
}

size_t bench_fastest(const struct bench_summary *s, size_t n)
{
	size_t i, f = 0;

	for (i = 1; i < n; i++)
		if (s[i].mean < s[f].mean)
			f = i;
	return f;
}

void bench_ratio(const struct bench_summary *fast, const struct bench_summary *slow, double *ratio, double *sd)
{
	double fsd = isnan(fast->stddev) ? 0 : fast->stddev, ssd = isnan(slow->stddev) ? 0 : slow->stddev;

	*ratio = slow->mean / fast->mean;
	/* Error propagation for a quotient of independent means. */
	*sd = *ratio * sqrt(pow(ssd / slow->mean, 2) + pow(fsd / fast->mean, 2));
}

void bench_warnings(const struct bench_cmd *c, const struct bench_summary *s, struct buf *out)
{
	double *z;
	size_t i, outliers = 0, failed = 0;

	for (i = 0; i < c->n; i++)
		failed += c->exit_codes[i] != 0;
	if (failed)
		buf_addf(out, "%zu of %zu runs exited with a non-zero status (ignored)\n", failed, c->n);
	if (s->n < FEW_RUNS)
		buf_addf(out, "only %zu run%s: the statistics are unreliable; use --runs %d or more\n", s->n,
			 s->n == 1 ? "" : "s", FEW_RUNS * 2);
	if (s->n >= 3) {
		z = xmalloc(c->n * sizeof(*z));
		stats_modified_zscores(c->wall, c->n, z);
		if (z[0] > OUTLIER_Z)
			buf_addf(out, "the first run was much slower than the rest (%.4g s); caches may have been "
				      "cold: consider --warmup\n", c->wall[0]);
		for (i = 0; i < c->n; i++)
			outliers += fabs(z[i]) > OUTLIER_Z;
		if (outliers && !(outliers == 1 && z[0] > OUTLIER_Z))
			buf_addf(out, "statistical outliers were detected (%zu of %zu runs); consider a quiet system, "
				      "--warmup or --prepare\n", outliers, c->n);
		free(z);
	}
	if (s->n >= 2 && s->mean > 0 && s->stddev / s->mean > HIGH_CV)
		buf_addf(out, "high variation: the coefficient of variation is %.1f%%; results may be noisy\n",
			 s->stddev / s->mean * 100);
	/* The fastest run, not the mean: on a loaded machine the mean of a 1 ms command can exceed 5 ms. */
	if (s->min < FAST_CMD)
		buf_addf(out, "the command can finish in less than 5 ms: process start-up and timer overhead weigh "
			      "on the result\n");
}

static void jw_doubles(struct jw *j, const char *key, const double *v, size_t n)
{
	size_t i;

	jw_key(j, key);
	jw_array_begin(j);
	for (i = 0; i < n; i++)
		jw_double(j, v[i]);
	jw_array_end(j);
}

void bench_export_json(struct buf *out, const struct bench_cmd *cmds, size_t n, const struct bench_export_info *info)
{
	double confidence = info->confidence;
	struct jw j;
	size_t i, k;

	jw_init(&j, out, true);
	jw_object_begin(&j);
	jw_key(&j, "results");
	jw_array_begin(&j);
	for (i = 0; i < n; i++) {
		const struct bench_cmd *c = &cmds[i];
		struct bench_summary s;

		bench_summarize(c, confidence, &s);
		jw_object_begin(&j);
		jw_kv_str(&j, "command", bench_cmd_name(c));
		jw_kv_double(&j, "mean", s.mean);
		jw_kv_double(&j, "stddev", s.stddev);
		jw_kv_double(&j, "median", s.median);
		jw_kv_double(&j, "user", s.user_mean);
		jw_kv_double(&j, "system", s.sys_mean);
		jw_kv_double(&j, "min", s.min);
		jw_kv_double(&j, "max", s.max);
		jw_doubles(&j, "times", c->wall, c->n);
		jw_key(&j, "exit_codes");
		jw_array_begin(&j);
		for (k = 0; k < c->n; k++)
			jw_int(&j, c->exit_codes[k]);
		jw_array_end(&j);
		jw_key(&j, "parameters");
		jw_object_begin(&j);
		for (k = 0; k < c->nparams; k++)
			jw_kv_str(&j, c->params[k].name, c->params[k].value);
		jw_object_end(&j);
		/* Additive fields (readers of hyperfine's schema ignore them). */
		jw_kv_u64(&j, "n", s.n);
		jw_kv_double(&j, "confidence", confidence);
		jw_kv_double(&j, "ci_lower", s.ci_lo);
		jw_kv_double(&j, "ci_upper", s.ci_hi);
		jw_doubles(&j, "user_times", c->user, c->n);
		jw_doubles(&j, "system_times", c->sys, c->n);
		jw_doubles(&j, "memory_usage_byte", c->rss, c->n);
		jw_object_end(&j);
	}
	jw_array_end(&j);
	jw_key(&j, "kiln");
	jw_object_begin(&j);
	jw_kv_str(&j, "version", KILN_VERSION);
	jw_kv_str(&j, "order", info->shuffled ? "shuffle" : "round-robin");
	if (info->shuffled)
		jw_kv_u64(&j, "seed", info->seed);
	jw_kv_str(&j, "shell", info->shell); /* null: executed directly */
	if (info->shell)
		jw_kv_double(&j, "shell_spawn_time", info->shell_wall);
	if (info->interrupted)
		jw_kv_bool(&j, "interrupted", true);
	jw_object_end(&j);
	jw_object_end(&j);
	buf_addch(out, '\n');
}

/* The unit of a table: chosen from the fastest mean, like hyperfine. */
static void table_unit(const struct bench_cmd *cmds, size_t n, const char **name, double *scale)
{
	double fastest = INFINITY;
	size_t i;

	for (i = 0; i < n; i++) {
		double m = mean_of(cmds[i].wall, cmds[i].n);

		if (m < fastest)
			fastest = m;
	}
	if (fastest >= 1) {
		*name = "s";
		*scale = 1;
	} else if (fastest >= 1e-3 || !isfinite(fastest)) {
		*name = "ms";
		*scale = 1e3;
	} else {
		*name = "µs";
		*scale = 1e6;
	}
}

void bench_export_markdown(struct buf *out, const struct bench_cmd *cmds, size_t n)
{
	struct bench_summary *sums = xcalloc(n ? n : 1, sizeof(*sums));
	const char *unit;
	double scale;
	size_t i, f;

	table_unit(cmds, n, &unit, &scale);
	for (i = 0; i < n; i++)
		bench_summarize(&cmds[i], 0.95, &sums[i]);
	f = bench_fastest(sums, n);
	buf_addf(out, "| Command | Mean [%s] | Min [%s] | Max [%s] | Relative |\n|:---|---:|---:|---:|---:|\n", unit,
		 unit, unit);
	for (i = 0; i < n; i++) {
		const struct bench_summary *s = &sums[i];
		double ratio, rsd;
		const char *p;

		bench_ratio(&sums[f], s, &ratio, &rsd);
		buf_adds(out, "| `");
		for (p = bench_cmd_name(&cmds[i]); *p; p++) {
			if (*p == '|')
				buf_addch(out, '\\');
			buf_addch(out, *p == '`' ? '\'' : *p);
		}
		buf_addf(out, "` | %.1f ± %.1f | %.1f | %.1f | ", s->mean * scale, (isnan(s->stddev) ? 0 : s->stddev) * scale,
			 s->min * scale, s->max * scale);
		if (s->mean == sums[f].mean)
			buf_adds(out, "1.00 |\n");
		else
			buf_addf(out, "%.2f ± %.2f |\n", ratio, rsd);
	}
	free(sums);
}

static void csv_field(struct buf *out, const char *s)
{
	if (!strpbrk(s, ",\"\n\r")) {
		buf_adds(out, s);
		return;
	}
	buf_addch(out, '"');
	for (; *s; s++) {
		if (*s == '"')
			buf_addch(out, '"');
		buf_addch(out, *s);
	}
	buf_addch(out, '"');
}

static void csv_num(struct buf *out, double v)
{
	if (isfinite(v))
		buf_addf(out, ",%.17g", v);
	else
		buf_adds(out, ",");
}

void bench_export_csv(struct buf *out, const struct bench_cmd *cmds, size_t n)
{
	size_t i, k;

	buf_adds(out, "command,mean,stddev,median,user,system,min,max");
	if (n)
		for (k = 0; k < cmds[0].nparams; k++) {
			/* hyperfine names the columns parameter_NAME */
			char *col = xasprintf("parameter_%s", cmds[0].params[k].name);

			buf_addch(out, ',');
			csv_field(out, col);
			free(col);
		}
	buf_addch(out, '\n');
	for (i = 0; i < n; i++) {
		struct bench_summary s;

		bench_summarize(&cmds[i], 0.95, &s);
		csv_field(out, bench_cmd_name(&cmds[i]));
		csv_num(out, s.mean);
		csv_num(out, s.stddev);
		csv_num(out, s.median);
		csv_num(out, s.user_mean);
		csv_num(out, s.sys_mean);
		csv_num(out, s.min);
		csv_num(out, s.max);
		for (k = 0; k < cmds[i].nparams; k++) {
			buf_addch(out, ',');
			csv_field(out, cmds[i].params[k].value);
		}
		buf_addch(out, '\n');
	}
}
