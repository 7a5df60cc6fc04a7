/* Unit tests for src/analyze/rules_match.c: the filtered matcher gives what matching every pattern gives. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include "analyze/rules.h"
#include "analyze/rules_eval.h"

/* The matcher without its filters: every pattern of every rule, in catalogue order, as rules.c had it. */
static uint32_t reference(const char *name, size_t len, uint8_t *variants, uint32_t *veto, uint32_t *loose)
{
	uint32_t mask = 0, vmask = 0, lmask = 0;

	len = rule_normalized_len(name, len);
	for (size_t r = 0; rule_catalogue[r].id; r++) {
		for (const struct rule_pattern *pt = rule_catalogue[r].patterns; pt->pat; pt++) {
			if (!rule_pattern_match(pt->pat, name, len))
				continue;
			if (pt->variant == RULE_VETO) {
				vmask |= 1u << r;
				continue;
			}
			if (pt->pat[0] == '%' && (mask & (1u << r)))
				continue;
			mask |= 1u << r;
			variants[r] = (uint8_t)pt->variant;
			if (pt->pat[0] == '%') {
				lmask |= 1u << r;
				continue;
			}
			lmask &= ~(1u << r);
			break;
		}
	}
	*veto = vmask;
	*loose = lmask;
	return mask & ~vmask;
}

static size_t checked;

static void same(const char *name)
{
	uint8_t va[32] = { 0 }, vb[32] = { 0 };
	uint32_t veto_a, veto_b, loose_a, loose_b;
	size_t len = strlen(name);
	uint32_t a = rule_match_name(name, len, va, &veto_a, &loose_a);
	uint32_t b = reference(name, len, vb, &veto_b, &loose_b);

	if (a != b || veto_a != veto_b || loose_a != loose_b)
		fail_msg("'%s': rules %#x veto %#x loose %#x, unfiltered %#x %#x %#x", name, a, veto_a, loose_a, b,
			 veto_b, loose_b);
	for (size_t r = 0; r < rule_count(); r++)
		if (a & (1u << r))
			assert_int_equal(va[r], vb[r]);
	checked++;
}

/* Names made from every pattern: itself, within other text, cut short, in other case, with suffixes that
 * normalization drops; and names of every first byte. */
static void test_filtered_equals_unfiltered(void **state)
{
	char name[512];

	(void)state;
	for (size_t r = 0; rule_catalogue[r].id; r++) {
		for (const struct rule_pattern *pt = rule_catalogue[r].patterns; pt->pat; pt++) {
			const char *lit = pt->pat + 1;
			size_t n = strlen(lit);

			same(lit);
			snprintf(name, sizeof(name), "x%s", lit);
			same(name);
			snprintf(name, sizeof(name), "%s_y", lit);
			same(name);
			snprintf(name, sizeof(name), "a::%s::b", lit);
			same(name);
			snprintf(name, sizeof(name), "%s@plt", lit);
			same(name);
			snprintf(name, sizeof(name), "%s_[k]", lit);
			same(name);
			snprintf(name, sizeof(name), "%.*s", (int)(n ? n - 1 : 0), lit);
			same(name);
			for (size_t i = 0; i <= n && i < sizeof(name) - 1; i++)
				name[i] = (char)toupper((unsigned char)lit[i]);
			same(name);
		}
	}
	same("");
	for (int c = 1; c < 256; c++) {
		snprintf(name, sizeof(name), "%cmalloc_lock_read", c);
		same(name);
	}
	/* the set filter on a name with bytes above 127 (case-folded ASCII bits only) */
	same("\xc3\xa9json_decode");
	same("JSON\xff");
	assert_true(checked > 1000);
}

/* The filters must let a match through: each anchored pattern's literal matches its rule. */
static void test_every_pattern_still_matches(void **state)
{
	uint8_t var[32];

	(void)state;
	for (size_t r = 0; rule_catalogue[r].id; r++) {
		for (const struct rule_pattern *pt = rule_catalogue[r].patterns; pt->pat; pt++) {
			uint32_t veto, loose, m;
			const char *lit = pt->pat + 1;

			if (pt->variant == RULE_VETO || !*lit)
				continue;
			m = rule_match_name(lit, strlen(lit), var, &veto, &loose);
			/* matched, or taken out by a veto pattern of the same rule */
			if (!(m & (1u << r)) && !(veto & (1u << r)))
				fail_msg("pattern '%s' of rule %s does not match its own text", pt->pat, rule_catalogue[r].id);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_filtered_equals_unfiltered),
		cmocka_unit_test(test_every_pattern_still_matches),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
