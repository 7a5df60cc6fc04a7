/*
 * The line matchers of the `perf script` reader (perfscript.c): each reproduces what one of
 * stackcollapse-perf.pl's regular expressions captures, with Perl's backtracking, in linear time. Internal to
 * src/formats/ (perfscript.c and perfscript_line.c). Captures point into the line matched.
 */
#ifndef KILN_PERFSCRIPT_LINE_H
#define KILN_PERFSCRIPT_LINE_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/* Perl's \s, \d and \w on byte strings (ASCII only; \s includes the vertical tab since Perl 5.18). */
static inline bool is_ws(unsigned char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

static inline bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static inline bool is_word(unsigned char c)
{
	return is_digit(c) || c == '_' || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

/* A sample header: the captures of Perl's /^(\S.+?)\s+(\d+)[/]*(\d+)*\s+/ (written [/] here). */
struct ps_header {
	const char *comm, *pid, *tid;
	size_t comm_len, pid_len, tid_len; /* tid_len 0: the group did not match */
};

/* A frame line: captures of /^\s*(\w+)\s*(.+) \((.*)\)/ (unanchored at the end). */
struct ps_frame_line {
	const char *pc, *func, *mod;
	size_t pc_len, func_len, mod_len;
};

/* memmem for the short needles used here: glibc's memmem costs more in setup than these searches take. */
static inline const char *ps_find_bytes(const char *hay, size_t n, const char *needle, size_t m)
{
	const char *p = hay, *end = hay + n;

	while (m && (size_t)(end - p) >= m) {
		p = memchr(p, needle[0], (size_t)(end - p) - (m - 1));
		if (!p)
			return NULL;
		if (!memcmp(p + 1, needle + 1, m - 1))
			return p;
		p++;
	}
	return NULL;
}

/* Each returns whether the line `s` of `n` bytes (no newline) matches, and then fills the captures. */
bool ps_match_header(const char *s, size_t n, struct ps_header *h);
/* The event of a header, /:\s*(\d+)*\s+(\S+):\s*$/: its name and the period before it (per_len 0: none). */
bool ps_match_event(const char *s, size_t n, const char **ev, size_t *ev_len, const char **per, size_t *per_len);
bool ps_match_frame(const char *s, size_t n, struct ps_frame_line *l);
/* A header line of a recording without call chains, with its one frame: `hdr_len` bytes of header, then `l`. */
bool ps_match_nog_header(const char *s, size_t n, struct ps_header *h, size_t *hdr_len, struct ps_frame_line *l);

#endif
