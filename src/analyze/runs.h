/*
 * Several runs of one workload: each function's self and total share per run, with mean, sample standard
 * deviation, minimum and maximum across the runs, so run-to-run variance is visible before anyone acts on one
 * profile. Functions are matched across runs by display name.
 */
#ifndef KILN_RUNS_H
#define KILN_RUNS_H

#include <stdbool.h>
#include <stddef.h>

#include "../core/hash.h"

struct buf;
struct err;
struct jw;
struct profile;

struct run_stat {
	double mean, sd, min, max; /* percent of each run's total; sd is the sample standard deviation */
};

struct run_fn {
	uint32_t name;      /* id in `runs.names` */
	double *self_pct;   /* per run (nruns), owned */
	double *total_pct;
	struct run_stat self, total;
};

struct runs {
	size_t nruns;
	struct strtab names;
	struct run_fn *v; /* sorted by mean self share, descending */
	size_t nr, alloc;
	double *run_totals; /* each run's grand total in its value column, owned */
};

/*
 * Computes per-function shares of `n` profiles in their `value` column (NULL = each profile's default).
 * Returns 0, or -1 with `e` set (a profile lacks the column).
 */
int runs_compute(struct profile *const *ps, size_t n, const char *value, struct runs *out, struct err *e);
void runs_release(struct runs *r);

/* Text (or Markdown) table of the functions whose largest self share reaches `threshold`, at most `top`. */
void runs_format_text(const struct runs *r, struct buf *out, const char *const *files, double threshold, size_t top,
		      bool markdown);
/* JSON: writes the "runs" member into the object `j` is inside. */
void runs_format_json(const struct runs *r, struct jw *j, const char *const *files, double threshold, size_t top);

#endif
