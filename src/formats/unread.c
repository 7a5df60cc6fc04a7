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
#define LIKELY 95 /* JSON keys that name the format */

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

static bool has(const unsigned char *head, size_t len, const char *needle)
{
	return memmem(head, len, needle, strlen(needle)) != NULL;
}

static bool line_has(const char *s, size_t n, const char *needle)
{
	return memmem(s, n, needle, strlen(needle)) != NULL;
}

/* The first non-blank byte, or 0. */
static char first_byte(const unsigned char *head, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (head[i] != ' ' && head[i] != '\t' && head[i] != '\n' && head[i] != '\r')
			return (char)head[i];
	return 0;
}

/* ---- pprof's legacy text profiles (google/pprof profile/legacy_profile.go) ---------------------------------- */

/* "heap profile: 1: 2 [3: 4] @ heapprofile" (gperftools), "... @ heap_v2/524288" (gperftools sampled). */
static int probe_gperf_heap(const unsigned char *head, size_t len)
{
	size_t n;
	const char *l = first_line(head, len, &n);

	if (!starts(l, n, "heap profile:"))
		return 0;
	return line_has(l, n, "@ heapprofile") || line_has(l, n, "@ heap_v2/") ? SURE : 0;
}

static int probe_gperf_growth(const unsigned char *head, size_t len)
{
	size_t n;
	const char *l = first_line(head, len, &n);

	return starts(l, n, "heap profile:") && line_has(l, n, "@ growthz") ? SURE : 0;
}

/* Go's runtime/pprof at debug=1: "heap profile: 1535: 74622400 [1541: 74697920] @ heap/8192". */
static int probe_go_heap(const unsigned char *head, size_t len)
{
	size_t n;
	const char *l = first_line(head, len, &n);

	if (!starts(l, n, "heap profile:"))
		return 0;
	if (line_has(l, n, "@ heapprofile") || line_has(l, n, "@ heap_v2/") || line_has(l, n, "@ growthz"))
		return 0;
	return SURE; /* "@ heap/RATE", and any other "heap profile:" header pprof's parser accepts */
}

/* jemalloc's prof dump: "heap_v2/524288" then "  t*: ..." thread totals. */
static int probe_jemalloc_heap(const unsigned char *head, size_t len)
{
	size_t n;
	const char *l = first_line(head, len, &n);

	return starts(l, n, "heap_v2/") ? SURE : 0;
}

static bool java_header(const unsigned char *head, size_t len)
{
	return has(head, len, "\nformat = java");
}

/* "--- contentionz 1 ---" then "key = value" lines; Java's carries "format = java". */
static int probe_gperf_contention(const unsigned char *head, size_t len)
{
	size_t n;
	const char *l = first_line(head, len, &n);

	return starts(l, n, "--- contentionz") && !java_header(head, len) ? SURE : 0;
}

static int probe_java_contention(const unsigned char *head, size_t len)
{
	size_t n;
	const char *l = first_line(head, len, &n);

	return starts(l, n, "--- contentionz") && java_header(head, len) ? SURE : 0;
}

static int probe_java_heap(const unsigned char *head, size_t len)
{
	size_t n;
	const char *l = first_line(head, len, &n);

	return starts(l, n, "--- heapz") ? SURE : 0;
}

/* Go's block and mutex profiles at debug=1: "--- contention:" then "cycles/second=...". */
static int probe_go_contention(const unsigned char *head, size_t len)
{
	size_t n;
	const char *l = first_line(head, len, &n);

	return starts(l, n, "--- contention:") || starts(l, n, "--- mutex:") ? SURE : 0;
}

static int probe_threadz(const unsigned char *head, size_t len)
{
	size_t n;
	const char *l = first_line(head, len, &n);

	return starts(l, n, "--- threadz") ? SURE : 0;
}

static int probe_go_threadcreate(const unsigned char *head, size_t len)
{
	size_t n;
	const char *l = first_line(head, len, &n);

	return starts(l, n, "threadcreate profile: total ") ? SURE : 0;
}

static int probe_go_goroutine(const unsigned char *head, size_t len)
{
	size_t n;
	const char *l = first_line(head, len, &n);

	return starts(l, n, "goroutine profile: total ") ? SURE : 0;
}

/* ---- valgrind ----------------------------------------------------------------------------------------------- */

/*
 * callgrind and cachegrind files open with "key: value" header lines (version, creator, cmd, desc, positions,
 * events, ...) and comments, then "fl=", "fn=", "ob=" context lines. The header must hold "events:".
 */
static int valgrind_kind(const unsigned char *head, size_t len)
{
	static const char *const keys[] = { "version:", "creator:", "pid:", "cmd:", "part:", "desc:", "positions:",
					    "events:", "event:", "summary:", "totals:", "thread:", "timeframe", NULL };
	const char *s = (const char *)head, *end = s + len;
	bool events = false, callgrind = false;

	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t n = (size_t)((nl ? nl : end) - s);
		bool known = false;

		if (n && s[n - 1] == '\r')
			n--;
		if (!n || s[0] == '#') {
			if (starts(s, n, "# callgrind format"))
				callgrind = true;
		} else if (starts(s, n, "fl=") || starts(s, n, "fn=") || starts(s, n, "ob=") || starts(s, n, "fi=") ||
			   starts(s, n, "fe=")) {
			break;
		} else {
			for (size_t k = 0; keys[k]; k++)
				if (starts(s, n, keys[k]))
					known = true;
			if (!known)
				return 0;
			if (starts(s, n, "events:"))
				events = true;
			if (starts(s, n, "positions:") || line_has(s, n, "creator: callgrind"))
				callgrind = true;
		}
		if (!nl)
			break;
		s = nl + 1;
	}
	if (!events)
		return 0;
	if (!callgrind && has(head, len, "\ncalls="))
		callgrind = true;
	return callgrind ? 1 : 2;
}

static int probe_callgrind(const unsigned char *head, size_t len)
{
	return valgrind_kind(head, len) == 1 ? SURE : 0;
}

static int probe_cachegrind(const unsigned char *head, size_t len)
{
	return valgrind_kind(head, len) == 2 ? SURE : 0;
}

/* ---- JSON profiles ------------------------------------------------------------------------------------------ */

/* Ruby stackprof: {"version":1.2,"mode":"wall","interval":1000,"samples":...,"gc_samples":...,"frames":...}. */
static int probe_stackprof(const unsigned char *head, size_t len)
{
	if (first_byte(head, len) != '{' || !has(head, len, "\"mode\""))
		return 0;
	return has(head, len, "\"gc_samples\"") || has(head, len, "\"missed_samples\"") ? LIKELY : 0;
}

/* Trace Event Format: {"traceEvents": [...]} or a bare array of events with a "ph" (phase) key. */
static int probe_chrome_trace(const unsigned char *head, size_t len)
{
	char c = first_byte(head, len);

	if (c == '{' && has(head, len, "\"traceEvents\""))
		return LIKELY;
	if (c == '[' && (has(head, len, "\"ph\":") || has(head, len, "\"ph\" :")))
		return LIKELY;
	return 0;
}

/* The Gecko profile ({"meta": ..., "threads": ...}), bare or inside a DevTools export ({"profile": ...}). */
static int probe_firefox(const unsigned char *head, size_t len)
{
	if (first_byte(head, len) != '{')
		return 0;
	if (has(head, len, "\"meta\"") && has(head, len, "\"threads\""))
		return LIKELY;
	if (has(head, len, "\"profile\"") && has(head, len, "\"libs\"") && has(head, len, "\"allocations\""))
		return LIKELY;
	return 0;
}

/* V8's sampling heap profile: {"head": {"callFrame": ..., "selfSize": ...}}. */
static int probe_v8_heap(const unsigned char *head, size_t len)
{
	if (first_byte(head, len) != '{' || !has(head, len, "\"head\""))
		return 0;
	return has(head, len, "\"selfSize\"") ? LIKELY : 0;
}

/* The V8 CPU profile before the "nodes" array: {"head": {"functionName": ..., "hitCount": ...}}. */
static int probe_v8_cpu_head(const unsigned char *head, size_t len)
{
	if (first_byte(head, len) != '{' || !has(head, len, "\"head\"") || has(head, len, "\"selfSize\""))
		return 0;
	return has(head, len, "\"hitCount\"") || has(head, len, "\"callUID\"") ? LIKELY : 0;
}

/* ---- binary ------------------------------------------------------------------------------------------------- */

static int probe_jfr(const unsigned char *head, size_t len)
{
	return len >= 4 && !memcmp(head, "FLR\0", 4) ? SURE : 0;
}

/* pprof's Java CPU profile: the legacy CPU header with 1 in its third slot (0, 3, 1, period, 0), any word size. */
static int probe_java_cpu(const unsigned char *head, size_t len)
{
	for (unsigned w = 4; w <= 8; w += 4) {
		for (int big = 0; big < 2; big++) {
			uint64_t v[5] = { 0 };

			if (len < 5 * w)
				continue;
			for (unsigned k = 0; k < 5; k++)
				for (unsigned i = 0; i < w; i++)
					v[k] |= (uint64_t)head[k * w + i] << (big ? (w - 1 - i) * 8 : i * 8);
			if (v[0] == 0 && v[1] == 3 && v[2] == 1 && v[3] > 0 && v[4] == 0)
				return SURE;
		}
	}
	return 0;
}

#define UNREAD(id, nm, desc)                                                                                   \
	const struct format format_unread_##id = { .name = nm, .description = desc, .probe = probe_##id }

UNREAD(gperf_heap, "gperftools-heap", "a gperftools heap profile");
UNREAD(gperf_growth, "gperftools-growth", "a gperftools heap growth profile");
UNREAD(go_heap, "go-heap-text", "a Go heap profile in legacy text form (debug=1)");
UNREAD(jemalloc_heap, "jemalloc-heap", "a jemalloc heap profile");
UNREAD(gperf_contention, "gperftools-contention", "a gperftools contention profile");
UNREAD(java_contention, "java-contention", "a Java contention profile");
UNREAD(java_heap, "java-heap", "a Java heap profile (heapz)");
UNREAD(go_contention, "go-contention-text", "a Go block or mutex profile in legacy text form (debug=1)");
UNREAD(threadz, "threadz", "a thread profile (threadz)");
UNREAD(go_threadcreate, "go-threadcreate-text", "a Go threadcreate profile in text form (debug=1)");
UNREAD(go_goroutine, "go-goroutine-text", "a Go goroutine profile in text form (debug=1)");
UNREAD(callgrind, "callgrind", "a callgrind profile");
UNREAD(cachegrind, "cachegrind", "a cachegrind profile");
UNREAD(stackprof, "stackprof", "a Ruby stackprof profile");
UNREAD(chrome_trace, "chrome-trace", "a Chrome trace-event file");
UNREAD(firefox, "firefox", "a Firefox profiler (Gecko) profile");
UNREAD(v8_heap, "v8-heapprofile", "a V8 heap profile (.heapprofile)");
UNREAD(v8_cpu_head, "v8-cpuprofile-head", "a V8 CPU profile in the old \"head\" form");
UNREAD(jfr, "jfr", "a Java Flight Recorder recording");
UNREAD(java_cpu, "java-cpu", "a Java CPU profile (pprof's legacy binary form)");
