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

#include <stddef.h>
#include <stdint.h>

struct analysis;

enum rule_measure {
	RULE_UNDER,     /* cost of samples with a matching frame anywhere on the stack (counted once) */
	RULE_SELF,      /* self cost of matching frames */
	RULE_RECURSION, /* samples on stacks where one function recurses deeply */
	RULE_TINY,      /* cost spread over many functions that are each tiny */
	RULE_HOTSPOT,   /* a single function with a large self share that no other rule explains */
};

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

/* Runs the catalogue on an analysis and appends the recommendations that fire to `a->recs`, heaviest first. */
void rules_evaluate(struct analysis *a);

/* Recursion depth (frames of one function on one stack) from which the recursion rule counts a stack. */
#define RULE_RECURSION_DEPTH 16
/* A function with a self share below this (percent) counts as tiny for the tiny-functions rule. */
#define RULE_TINY_PCT 1.0
/* ... and the rule needs at least this many of them. */
#define RULE_TINY_MIN_FUNCTIONS 20

#endif
