/* A throttled progress line on stderr, only when stderr is a terminal. */
#include "progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"
#include "xalloc.h"

struct progress {
	char *title;
	char *unit; /* counted steps (progress_new_count), or NULL for bytes */
	int timed;  /* progress_new_time(): done and total are nanoseconds */
	uint64_t total;
	uint64_t last_ns;
	uint64_t start_ns;
	unsigned calls;
	int shown;
};

struct progress *progress_new(const char *title, uint64_t total)
{
	struct progress *p;

	if (!isatty(2) || getenv("KILN_NO_PROGRESS"))
		return NULL;
	p = xcalloc(1, sizeof(*p));
	p->title = xstrdup(title);
	p->total = total;
	p->start_ns = now_ns();
	return p;
}

struct progress *progress_new_count(const char *title, uint64_t total, const char *unit)
{
	struct progress *p = progress_new(title, total);

	if (p)
		p->unit = xstrdup(unit);
	return p;
}

struct progress *progress_new_time(const char *title, uint64_t total_ns)
{
	struct progress *p = progress_new(title, total_ns);

	if (p)
		p->timed = 1;
	return p;
}

void progress_set_total(struct progress *p, uint64_t total)
{
	if (p)
		p->total = total;
}

static void show_count(const struct progress *p, uint64_t done, uint64_t t)
{
	double el = (double)(t - p->start_ns) * 1e-9;

	fprintf(stderr, "\r%s: ", p->title);
	if (p->total)
		fprintf(stderr, "%3.0f%% (%llu / %llu %s, %.1f s", 100.0 * (double)done / (double)p->total,
			(unsigned long long)done, (unsigned long long)p->total, p->unit, el);
	else
		fprintf(stderr, "(%llu %s, %.1f s", (unsigned long long)done, p->unit, el);
	if (p->total && done && done < p->total)
		fprintf(stderr, ", about %.1f s left", el / (double)done * (double)(p->total - done));
	fputs(")\033[K", stderr);
}

void progress_update(struct progress *p, uint64_t done)
{
	uint64_t t;

	if (!p)
		return;
	/* Reading the clock is cheap, but not free: look only every 64th call (each counted step is slow). */
	if (!p->unit && !p->timed && (p->calls++ & 63))
		return;
	t = now_ns();
	if (t - p->last_ns < 200000000ULL || t - p->start_ns < 500000000ULL)
		return;
	p->last_ns = t;
	if (p->unit)
		show_count(p, done, t);
	else if (p->timed && p->total)
		fprintf(stderr, "\r%s: %3.0f%% (%.1f / %.1f s)\033[K", p->title, 100.0 * (double)done / (double)p->total,
			(double)done * 1e-9, (double)p->total * 1e-9);
	else if (p->timed)
		fprintf(stderr, "\r%s: %.1f s\033[K", p->title, (double)done * 1e-9);
	else if (p->total)
		fprintf(stderr, "\r%s: %3.0f%% (%.1f / %.1f MB)\033[K", p->title, 100.0 * (double)done / (double)p->total,
			(double)done / 1e6, (double)p->total / 1e6);
	else
		fprintf(stderr, "\r%s: %.1f MB\033[K", p->title, (double)done / 1e6);
	p->shown = 1;
}

void progress_free(struct progress *p)
{
	if (!p)
		return;
	if (p->shown)
		fputs("\r\033[K", stderr);
	free(p->title);
	free(p->unit);
	free(p);
}
