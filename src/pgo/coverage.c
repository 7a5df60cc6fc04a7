/* Reading function coverage out of gcov-dump's and llvm-profdata's text dumps. */
#include "pgo/coverage.h"

#include <stdbool.h>
#include <string.h>

static bool starts(const char *s, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && !memcmp(s, prefix, n);
}

static const char *find(const char *s, size_t len, const char *needle)
{
	size_t n = strlen(needle);

	for (size_t i = 0; n <= len && i <= len - n; i++)
		if (!memcmp(s + i, needle, n))
			return s + i;
	return NULL;
}

/* Parses unsigned decimal numbers separated by spaces; returns the largest, sets *any_nonzero. */
static uint64_t numbers(const char *s, const char *end, bool *any_nonzero)
{
	uint64_t max = 0;

	while (s < end) {
		uint64_t v = 0;
		bool digits = false;

		while (s < end && *s == ' ')
			s++;
		while (s < end && *s >= '0' && *s <= '9') {
			uint64_t d = (uint64_t)(*s - '0');

			v = v > (UINT64_MAX - d) / 10 ? UINT64_MAX : v * 10 + d;
			digits = true;
			s++;
		}
		if (!digits)
			break;
		if (v)
			*any_nonzero = true;
		if (v > max)
			max = v;
	}
	return max;
}

/*
 * gcov-dump -l prints, per file, "FILE:  01000000:  12:FUNCTION ident=..." for each function, then its
 * counter records ("COUNTERS arcs 6 counts") with the values on lines "FILE:      0: 1 1 1 6 4 1".
 */
void pgo_coverage_parse_gcov_dump(struct pgo_coverage *c, const char *text, size_t len)
{
	const char *end = text + len;
	bool in_function = false, ran = false, in_counts = false, arcs = false;

	while (text < end) {
		const char *nl = memchr(text, '\n', (size_t)(end - text));
		size_t n = nl ? (size_t)(nl - text) : (size_t)(end - text);
		const char *p;

		if (find(text, n, ":data:magic `gcda'")) {
			c->objects++;
			c->covered += in_function && ran;
			in_function = in_counts = ran = false;
		} else if (find(text, n, ":FUNCTION ident=")) {
			if (in_function && ran)
				c->covered++;
			c->functions++;
			in_function = true;
			ran = in_counts = false;
		} else if (find(text, n, ":COUNTERS ")) {
			in_counts = in_function;
			arcs = find(text, n, ":COUNTERS arcs ") != NULL;
		} else if (in_counts && (p = find(text, n, ": ")) && (p = find(p + 1, n - (size_t)(p + 1 - text), ": "))) {
			/* the values line: "FILE:     0: 1 2 3" (the second ": " ends the index) */
			uint64_t m = numbers(p + 2, text + n, &ran);

			if (arcs && m > c->max_count)
				c->max_count = m;
		} else if (!find(text, n, ": ")) {
			in_counts = false;
		}
		text += n + (nl != NULL);
	}
	if (in_function && ran)
		c->covered++;
}

/* llvm-profdata show --all-functions: "  NAME:" then "    Hash: ...", "    Function count: N" per function. */
void pgo_coverage_parse_llvm_show(struct pgo_coverage *c, const char *text, size_t len)
{
	const char *end = text + len;

	while (text < end) {
		const char *nl = memchr(text, '\n', (size_t)(end - text));
		size_t n = nl ? (size_t)(nl - text) : (size_t)(end - text);
		const char *s = text;

		while (n && *s == ' ')
			s++, n--;
		if (starts(s, n, "Function count:")) {
			bool ran = false;
			uint64_t v = numbers(s + 15, s + n, &ran);

			c->functions++;
			c->covered += ran;
			if (v > c->max_count)
				c->max_count = v;
		}
		text = nl ? nl + 1 : end;
	}
}
