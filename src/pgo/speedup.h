/*
 * The speed-up figure of kiln pgo compare. The builds run interleaved, one run of each per round, so a burst of
 * load from elsewhere hits the runs of one round alike: each round gives a ratio baseline / optimized, and the
 * figure is the median of those ratios (robust to the rounds a burst spoiled), with the distribution-free
 * interval of that median and the rounds' quartiles as the spread.
 */
#ifndef KILN_PGO_SPEEDUP_H
#define KILN_PGO_SPEEDUP_H

#include <stddef.h>

struct pgo_speedup {
	size_t n;            /* rounds with a positive cost on both sides */
	double base, opt;    /* the median cost of each side */
	double gain;         /* median(baseline / optimized) - 1: +0.10 is 10 % faster */
	double lo, hi;       /* the interval of that median at the level asked, as gains (NAN when n < 2) */
	double q1, q3;       /* the quartiles of the rounds' gains: how far single rounds stray */
};

/*
 * The speed-up of `opt` over `base`, whose costs (seconds) in round i are base[i] and opt[i]. Rounds where either
 * cost is not positive carry no ratio and are left out. Returns 0, or -1 when no round is left.
 */
int pgo_speedup(const double *base, const double *opt, size_t n, double level, struct pgo_speedup *s);

/* The verdict on `s`: "faster" or "slower" when its interval excludes no change, else "no difference". */
const char *pgo_speedup_verdict(const struct pgo_speedup *s);

#endif
