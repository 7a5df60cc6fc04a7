/*
 * The recommendation rule catalogue (data in rule_catalogue.c, user documentation in docs/rules.md: keep the two
 * in step) and its evaluation (rules.c). A rule
 * matches function names, measures the share of the profile they account for, and fires only when that share
 * reaches its threshold, citing the functions and their callers as evidence.
 *
 * Name patterns are strings whose first character says how they match the frame's display name (with a
 * trailing "_[k]"-style annotation removed):
 *   '=' exact   '^' prefix   '~' substring   '%' substring, ignoring ASCII case
 */
#ifndef KILN_RULES_H
#define KILN_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct analysis;

enum rule_measure {
	RULE_UNDER,     /* cost of samples with a matching frame anywhere on the stack (counted once) */
	RULE_SELF,      /* self cost of matching frames */
	RULE_RECURSION, /* samples on stacks where one function recurses deeply */
	RULE_TINY,      /* cost spread over many functions that are each tiny */
	RULE_HOTSPOT,   /* a single function with a large self share that no other rule explains */
	RULE_CALLS,     /* system-call profiles: stacks that make many fast calls (RULE_MANY_CALLS, RULE_FAST_NS);
			 * a rule with patterns takes the calls whose syscall frame matches them, a rule without
			 * patterns the calls no other RULE_CALLS rule takes */
};

/*
 * What the analysed column measures (struct analysis.kind), and which kinds a rule fits (struct rule.kinds):
 * on-CPU time or samples; time off CPU (`off_cpu`: blocked, with the kernel stack that blocked); wall-clock time
 * (`wall`: on-CPU samples plus off-CPU time); system calls (`syscalls`/`latency`: every stack ends in a frame
 * named after the system call).
 */
#define RK_CPU 1u
#define RK_OFFCPU 2u
#define RK_WALL 4u
#define RK_SYSCALL 8u
#define RK_TIME (RK_CPU | RK_WALL) /* rules about where CPU time goes: on CPU and wall-clock profiles */
#define RK_WAIT (RK_OFFCPU | RK_WALL) /* rules about why threads wait */

/* A pattern with this variant vetoes the rule: matching frames and everything they call do not count for it. */
#define RULE_VETO 0xffu

struct rule_pattern {
	const char *pat;
	unsigned variant; /* index into the rule's advice */
};

struct rule {
	const char *id;
	const char *title;
	const char *what;   /* "memory allocation": completes "N% of the profile is in ..." */
	enum rule_measure measure;
	double min_pct;     /* fires at or above this share of the total */
	const struct rule_pattern *patterns; /* terminated by { NULL, 0 } */
	const char *const *advice;           /* by variant; NULL-terminated */
	unsigned kinds;     /* RK_* profile kinds the rule applies to */
};

/* The catalogue, terminated by an entry with a NULL id. */
extern const struct rule rule_catalogue[];
size_t rule_count(void);

/* True when `name` (`len` bytes) matches pattern `pat` ("=malloc", "^_int_", ...). */
int rule_pattern_match(const char *pat, const char *name, size_t len);

/*
 * Which name-based rules match a function name: returns a bit mask (bit i = rule_catalogue[i]) and writes the
 * advice variant of each matching rule into `variants` (rule_count() entries) when non-NULL.
 */
uint32_t rules_match_name(const char *name, size_t len, uint8_t *variants);

/* The profile kind (RK_*) of a column type ("off_cpu", "wall", "latency", ...); `has_syscalls`: the profile
 * also has a "syscalls" column. */
unsigned rules_kind_of(const char *type, bool has_syscalls);

/* Runs the catalogue on an analysis and appends the recommendations that fire to `a->recs`, heaviest first. */
void rules_evaluate(struct analysis *a);

/* Recursion depth (frames of one function on one stack) from which the recursion rule counts a stack. */
#define RULE_RECURSION_DEPTH 16
/* A function with a self share below this (percent) counts as tiny for the tiny-functions rule. */
#define RULE_TINY_PCT 1.0
/* ... and the rule needs at least this many of them. */
#define RULE_TINY_MIN_FUNCTIONS 20
/* RULE_CALLS: a stack counts with at least this many calls ... */
#define RULE_MANY_CALLS 1000
/* ... of at most this mean latency (ns). */
#define RULE_FAST_NS 50000

#endif
