/* Matching function names against the rule catalogue's patterns (rule_catalogue.c, docs/rules.md). */
#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../core/xalloc.h"
#include "rules.h"
#include "rules_eval.h"

static int has_icase(const char *s, size_t len, const char *needle, size_t nl)
{
	int c0 = nl ? tolower((unsigned char)needle[0]) : 0;

	/* the first character filters cheaply: names can be megabytes long */
	for (size_t i = 0; i + nl <= len; i++)
		if ((!nl || tolower((unsigned char)s[i]) == c0) && !strncasecmp(s + i, needle, nl))
			return 1;
	return 0;
}

/* `pl` is strlen(pat + 1). */
static int pattern_match(const char *pat, size_t pl, const char *name, size_t len)
{
	const char *p = pat + 1;

	switch (pat[0]) {
	case '=':
		return len == pl && !memcmp(name, p, pl);
	case '^':
		return len >= pl && !memcmp(name, p, pl);
	case '~':
		return pl <= len && memmem(name, len, p, pl) != NULL;
	case '%':
		return has_icase(name, len, p, pl);
	default:
		return 0;
	}
}

int rule_pattern_match(const char *pat, const char *name, size_t len)
{
	return pattern_match(pat, strlen(pat + 1), name, len);
}

/*
 * Every function name is matched against every pattern of the catalogue (hundreds): what rules out most pairs
 * without comparing strings is measured once. A pattern anchored at the start ('=', '^') needs the name's first
 * byte; a substring ('~', '%') needs each of its bytes somewhere in the name, compared as sets of
 * case-folded ASCII bytes (one bit each; every other byte shares bit 0, which no name byte sets by itself).
 */
struct pat_filter {
	size_t len;       /* strlen(pat + 1) */
	uint64_t need[2]; /* byte set of a substring pattern */
};

struct rule_filter {
	uint64_t first[4]; /* first bytes of the rule's anchored patterns */
	bool floating;     /* a substring pattern (or an empty one) can match any first byte */
	size_t npat;
};

static struct pat_filter *pat_filters;
static struct rule_filter *rule_filters;
static pthread_once_t filters_once = PTHREAD_ONCE_INIT;

static void byte_set(const char *s, size_t len, uint64_t set[2])
{
	set[0] = set[1] = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned c = (unsigned char)s[i];

		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		if (c >= 128)
			c = 0;
		set[c >> 6] |= 1ULL << (c & 63);
	}
}

static void measure_patterns(void)
{
	size_t n = 0, k = 0, nr = rule_count();

	for (size_t r = 0; r < nr; r++)
		for (const struct rule_pattern *pt = rule_catalogue[r].patterns; pt->pat; pt++)
			n++;
	pat_filters = xcalloc(n ? n : 1, sizeof(*pat_filters));
	rule_filters = xcalloc(nr ? nr : 1, sizeof(*rule_filters));
	for (size_t r = 0; r < nr; r++) {
		struct rule_filter *rf = &rule_filters[r];

		for (const struct rule_pattern *pt = rule_catalogue[r].patterns; pt->pat; pt++, k++) {
			struct pat_filter *pf = &pat_filters[k];
			unsigned c = (unsigned char)pt->pat[1];

			pf->len = strlen(pt->pat + 1);
			rf->npat++;
			if ((pt->pat[0] == '=' || pt->pat[0] == '^') && pf->len)
				rf->first[c >> 6] |= 1ULL << (c & 63);
			else
				rf->floating = true;
			if (pt->pat[0] == '~' || pt->pat[0] == '%')
				byte_set(pt->pat + 1, pf->len, pf->need);
		}
	}
}

/* False when pattern `pt` (filter `pf`) cannot match a name starting with byte `c0` whose byte set is `have`. */
static bool may_match(const struct rule_pattern *pt, const struct pat_filter *pf, unsigned c0, const uint64_t have[2])
{
	if (pt->pat[0] == '=' || pt->pat[0] == '^')
		return !pf->len || c0 == (unsigned char)pt->pat[1];
	return !(pf->need[0] & ~have[0]) && !(pf->need[1] & ~have[1]);
}

size_t rule_normalized_len(const char *name, size_t len)
{
	/* Drops flamegraph annotations ("_[k]", "_[j]", "_[i]", "_[w]") and a "@plt"-style suffix. */
	if (len > 4 && name[len - 4] == '_' && name[len - 3] == '[' && name[len - 1] == ']')
		len -= 4;
	/* "cfree@GLIBC_2.2.5", "memcpy@plt": symbol versions and PLT stubs name the same function. */
	for (size_t i = len; i-- > 1;) {
		char c = name[i];

		if (c == '@') {
			len = name[i - 1] == '@' ? i - 1 : i;
			break;
		}
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
		      c == '.'))
			break;
	}
	return len;
}

uint32_t rule_match_name(const char *name, size_t len, uint8_t *variants, uint32_t *veto, uint32_t *loose)
{
	uint32_t mask = 0, vmask = 0, lmask = 0;
	uint64_t have[2];
	size_t k = 0;
	unsigned c0;

	pthread_once(&filters_once, measure_patterns);
	len = rule_normalized_len(name, len);
	c0 = len ? (unsigned char)name[0] : 256;
	byte_set(name, len, have);
	for (size_t r = 0; rule_catalogue[r].id; r++) {
		const struct rule_filter *rf = &rule_filters[r];
		const struct rule_pattern *pt = rule_catalogue[r].patterns;
		size_t end = k + rf->npat;

		if (!rf->floating && (c0 > 255 || !(rf->first[c0 >> 6] >> (c0 & 63) & 1))) {
			k = end;
			continue;
		}
		for (; pt->pat; pt++, k++) {
			if (!may_match(pt, &pat_filters[k], c0, have) ||
			    !pattern_match(pt->pat, pat_filters[k].len, name, len))
				continue;
			if (pt->variant == RULE_VETO) {
				vmask |= 1u << r;
				continue;
			}
			/* a loose match stands only until a strict pattern of the same rule matches too */
			if (pt->pat[0] == '%' && (mask & (1u << r)))
				continue;
			mask |= 1u << r;
			if (variants)
				variants[r] = (uint8_t)pt->variant;
			if (pt->pat[0] == '%') {
				lmask |= 1u << r;
				continue;
			}
			lmask &= ~(1u << r);
			break;
		}
		k = end; /* past the rest of the rule's patterns */
	}
	if (veto)
		*veto = vmask;
	if (loose)
		*loose = lmask;
	return mask & ~vmask;
}

uint32_t rules_match_name(const char *name, size_t len, uint8_t *variants)
{
	return rule_match_name(name, len, variants, NULL, NULL);
}
