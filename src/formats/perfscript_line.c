/* The line matchers of the `perf script` reader: stackcollapse-perf.pl's regular expressions in linear time. */
#include "perfscript_line.h"

#include <string.h>

bool ps_match_header(const char *s, size_t n, struct ps_header *h)
{
	size_t i = 1;

	if (n < 2 || is_ws((unsigned char)s[0]))
		return false;
	/*
	 * The lazy comm ends at the first whitespace after which the rest matches. All starts inside one whitespace
	 * run lead to the same digits, so a failed run is skipped whole: linear time.
	 *
	 * One departure from the Perl pattern, whose (\S.+?) wants two bytes: a one-letter comm ends at offset 1.
	 * Perl reads "a 4242 9.5: 1001001 cpu-clock: " as comm "a 4242 9.5:" and pid 1001001 (the period), which
	 * makes every sample its own stack; it is read here as comm "a", pid 4242.
	 */
	while (i < n) {
		size_t j, k, d1, d2;

		if (!is_ws((unsigned char)s[i])) {
			i++;
			continue;
		}
		for (j = i; j < n && is_ws((unsigned char)s[j]); j++)
			;
		for (k = j; k < n && is_digit((unsigned char)s[k]); k++)
			;
		if (k > j) {
			d1 = k;
			while (k < n && s[k] == '/')
				k++;
			d2 = k;
			while (k < n && is_digit((unsigned char)s[k]))
				k++;
			if (k < n && is_ws((unsigned char)s[k])) {
				h->comm = s;
				h->comm_len = i;
				h->pid = s + j;
				h->pid_len = d1 - j;
				h->tid = s + d2;
				h->tid_len = k - d2;
				return true;
			}
		}
		i = j;
	}
	return false;
}

/*
 * The event of a header: /:\s*(\d+)*\s+(\S+):\s*$/ on the whole line. The line must end with "EVENT:" and
 * optional blanks, preceded by ":", blanks, an optional period and blanks; there is at most one such reading.
 */
bool ps_match_event(const char *s, size_t n, const char **ev, size_t *ev_len, const char **per,
			size_t *per_len)
{
	size_t e = n, c, r, t, d, u;

	while (e > 0 && is_ws((unsigned char)s[e - 1]))
		e--;
	if (e < 2 || s[e - 1] != ':')
		return false;
	c = e - 1;
	for (r = c; r > 0 && !is_ws((unsigned char)s[r - 1]); r--)
		;
	if (r == c || r == 0)
		return false;
	for (t = r; t > 0 && is_ws((unsigned char)s[t - 1]); t--)
		;
	for (d = t; d > 0 && is_digit((unsigned char)s[d - 1]); d--)
		;
	u = d;
	if (d < t)
		while (u > 0 && is_ws((unsigned char)s[u - 1]))
			u--;
	if (u == 0 || s[u - 1] != ':')
		return false;
	*ev = s + r;
	*ev_len = c - r;
	*per = s + d;
	*per_len = t - d;
	return true;
}

bool ps_match_frame(const char *s, size_t n, struct ps_frame_line *l)
{
	size_t a = 0, b, c, q, x, f;
	const char *rp;

	while (a < n && is_ws((unsigned char)s[a]))
		a++;
	if (a == n || !is_word((unsigned char)s[a]))
		return false;
	for (b = a; b < n && is_word((unsigned char)s[b]); b++)
		;
	for (c = b; c < n && is_ws((unsigned char)s[c]); c++)
		;
	/* (.*) runs to the last ')'; (.+) to the last " (" before it, leaving a function of one byte or more. */
	rp = memrchr(s, ')', n);
	if (!rp)
		return false;
	q = (size_t)(rp - s);
	/* The '(' of " (" sits at x in [a + 3, q - 1]. */
	x = q;
	for (;;) {
		const char *lp;

		if (x <= a + 3)
			return false;
		lp = memrchr(s + a + 3, '(', x - (a + 3));
		if (!lp)
			return false;
		x = (size_t)(lp - s);
		if (s[x - 1] == ' ')
			break;
	}
	/* Backtracking: the function starts after the blanks, or earlier when it must be one byte longer. */
	f = c < x - 2 ? c : x - 2;
	l->pc = s + a;
	l->pc_len = (f < b ? f : b) - a;
	l->func = s + f;
	l->func_len = x - 1 - f;
	l->mod = s + x + 1;
	l->mod_len = q - x - 1;
	return true;
}

/*
 * `perf script` of a recording without call chains prints the one sampled frame on the header line, after the
 * event: "  comm pid/tid [cpu] time: [period] event: ip sym+off (dso)", with comm right-aligned (leading blanks).
 * Splits such a line into the header part (up to and including the event's ':') and the frame part; the split
 * is the first ": " after which the rest is a frame line and before which the header's event matches.
 */
bool ps_match_nog_header(const char *s, size_t n, struct ps_header *h, size_t *hdr_len, struct ps_frame_line *l)
{
	const char *ev, *per;
	size_t ev_len, per_len, lead = 0;

	if (!memmem(s, n, ": ", 2))
		return false;
	while (lead < n && is_ws((unsigned char)s[lead]))
		lead++;
	if (!ps_match_header(s + lead, n - lead, h))
		return false;
	for (size_t i = lead; i + 1 < n; i++) {
		if (s[i] != ':' || !is_ws((unsigned char)s[i + 1]))
			continue;
		if (ps_match_event(s + lead, i + 1 - lead, &ev, &ev_len, &per, &per_len) &&
		    ps_match_frame(s + i + 1, n - i - 1, l)) {
			*hdr_len = i + 1 - lead;
			return true;
		}
	}
	return false;
}
