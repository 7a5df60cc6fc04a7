/*
 * Shared by the rule evaluators (rules.c: names, calls, hotspots; rules_stacks.c: recursion, tiny functions):
 * the accumulator of a rule's evidence, the helpers that turn it into a recommendation, and the name matching
 * (rules_match.c). Internal to src/analyze/.
 */
#ifndef KILN_RULES_EVAL_H
#define KILN_RULES_EVAL_H

#include <stddef.h>
#include <stdint.h>

#include "../core/hash.h"
#include "analysis.h"

struct buf;
struct rule;

#define MAX_VARIANTS 8

struct rule_acc {
	int64_t value;
	int64_t variant_value[MAX_VARIANTS];
	struct share_list callers;
	struct u64map caller_idx;
	struct share_list functions;
};

/* `v` as a percentage of the analysed total. */
double rule_pct(const struct analysis *a, int64_t v);
/* Adds `v` to the caller entry of function `fn` (saturating). */
void rule_acc_caller(struct analysis *a, struct rule_acc *acc, uint32_t fn, int64_t v);
/* "name (12.3%), name (4.5%)" of the first `max` entries. */
void rule_list_names(struct buf *b, const struct analysis *a, const struct share_list *l, size_t max);
/* A new recommendation of rule `r` with its severity from `share`. */
struct recommendation *rule_add_rec(struct analysis *a, const struct rule *r, double share);
/* Sets the shares of `l`, sorts it heaviest first and keeps `max`. */
void rule_finish_list(struct analysis *a, struct share_list *l, size_t max);

/* rules_match.c */
/*
 * The rules name `name` matches (bit mask), with the variant of each in `variants` (when not NULL), in *veto
 * (when not NULL) the rules whose veto patterns it matches, and in *loose (when not NULL) those it matched
 * only by a case-insensitive substring ('%'): a word such a name may hold by chance.
 */
uint32_t rule_match_name(const char *name, size_t len, uint8_t *variants, uint32_t *veto, uint32_t *loose);
/* The length of `name` without flame graph annotations ("_[k]") and "@plt"/"@GLIBC_..." suffixes. */
size_t rule_normalized_len(const char *name, size_t len);

/* rules_stacks.c */
void rules_eval_recursion(struct analysis *a, const struct rule *rule);
void rules_eval_tiny(struct analysis *a, const struct rule *rule);

#endif
