/*
 * Formats kiln recognises but does not read. Many profile formats have lines that end in a number, and a loose
 * folded-stack or perf-script probe would take them for its own and "read" one meaningless hotspot; naming them
 * here lets kiln refuse such a file with what it is ("a gperftools heap profile, which kiln does not read").
 *
 * Each entry is a format with a probe and no reader. format_detect_input() refuses the input when one of them
 * scores higher than every reader, so a reader added later for one of these formats takes over as soon as its
 * probe scores at least as high as the entry here (the table lists readers first and ties go to the first);
 * remove the entry then. The probes look for what the format is (its first line, its magic, its JSON keys),
 * never for what it merely resembles.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "format.h"

#define SURE 100 /* a magic string or a first line that nothing else writes */

/* The first line, without leading blank lines; its length in *n. */
static const char *first_line(const unsigned char *head, size_t len, size_t *n)
{
	const char *s = (const char *)head, *end = s + len, *nl;

	while (s < end && (*s == '\n' || *s == '\r' || *s == ' ' || *s == '\t'))
		s++;
	nl = memchr(s, '\n', (size_t)(end - s));
	*n = (size_t)((nl ? nl : end) - s);
	return s;
}

static bool starts(const char *s, size_t n, const char *prefix)
{
	size_t pl = strlen(prefix);

	return n >= pl && !memcmp(s, prefix, pl);
}

/* jemalloc's heap profile (prof.dump): "heap_v2/RATE" on its first line, then per-thread t*: lines. */
static int probe_jemalloc_heap(const unsigned char *head, size_t len)
{
	size_t n;
	const char *l = first_line(head, len, &n);

	return starts(l, n, "heap_v2/") ? SURE : 0;
}

#define UNREAD(id, nm, desc)                                                                                   \
	const struct format format_unread_##id = { .name = nm, .description = desc, .probe = probe_##id }

UNREAD(jemalloc_heap, "jemalloc-heap", "a jemalloc heap profile");
